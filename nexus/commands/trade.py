"""`nexus trade`: the auto-trader on one venue and symbol (nexus/trade/), live, on paper or
over a recording. Opt-in only: without `--auto` it watches (signals counted, nothing sent);
with `--auto` it needs both daily caps and their confirmation (an interactive "type YES",
or `--confirm-caps` headless), and refuses to start while LIMIT HIT is latched.

Exit: 0 ok, 1 the risk state refuses trading (LIMIT HIT latched, HALTED, unreadable), 2 bad
settings (the allowed range is named), 4 the venue could not be reached.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace

import click

from nexus.cli import EXIT_UPSTREAM
from nexus.commands.risk import DB_HELP
from nexus.commands.signals import oracle_label, oracle_model_or_fail, oracle_option
from nexus.config import CommandLineOnly, config_option

CONFIRM_WORD = "YES"


def _usage(msg: str):
    raise click.UsageError(msg)


def _auto_settings(threshold, signals, reverse, smart, tp_ticks, sl_ticks, qty):
    from nexus.exceptions import NexusError
    from nexus.risk.settings import parse_decimal
    from nexus.trade.config import AutoSettings, parse_signals, validated

    try:
        return validated(AutoSettings(threshold, parse_signals(signals), reverse, smart, tp_ticks, sl_ticks,
                                      None if qty is None else parse_decimal(qty, "qty")))
    except NexusError as e:
        _usage(str(e))


def _risk_settings(base, max_positions, cooldown_ms, daily_loss, daily_profit):
    from nexus.exceptions import NexusError
    from nexus.risk.settings import settings_from_obj

    given = {k: v for k, v in (("max_positions", max_positions), ("cooldown_ms", cooldown_ms),
                               ("daily_loss", daily_loss), ("daily_profit", daily_profit)) if v is not None}
    try:
        return settings_from_obj(given, base)
    except NexusError as e:
        _usage(str(e))


def _confirm(caps: dict, confirm_caps: bool, as_json: bool) -> None:
    text = ", ".join(f"{k} {v}" for k, v in caps.items())
    if as_json:
        click.echo(json.dumps({"confirm_caps": caps, "confirmed_by": "flag" if confirm_caps else "prompt"}))
    if confirm_caps:
        click.echo(f"AUTO on with caps: {text} (confirmed by --confirm-caps)", err=True)
        return
    if not sys.stdin.isatty():
        _usage(f"--auto needs the caps confirmed: {text}. Headless: add --confirm-caps")
    click.echo(f"AUTO will trade with: {text}", err=True)
    if click.prompt(f"Type {CONFIRM_WORD} to confirm", default="", show_default=False, err=True) != CONFIRM_WORD:
        _usage("caps not confirmed: AUTO stays off")


@click.command()
@click.option("--venue", default=None, help="binance-spot or binance-perp (venues with order entry); "
                                            "with --replay: the recording's venue when it holds several.")
@click.option("--symbol", default="BTCUSDT", show_default=True, help="Canonical symbol.")
@click.option("--auto", is_flag=True, cls=CommandLineOnly,
              help="Let the auto-trader send orders (needs both daily caps, confirmed; command line only).")
@click.option("--confirm-caps", is_flag=True, cls=CommandLineOnly,
              help="Headless confirmation of the caps printed at start (command line only).")
@click.option("--reverse", is_flag=True, help="REVERSE: invert every signal.")
@click.option("--smart", is_flag=True, help="SMART martingale: raise the next size after a loss to recover it.")
@click.option("--threshold", type=int, default=65, show_default=True, help="Min signal confidence, % (50..95).")
@click.option("--signals", default=None, help="Signal types to act on (default: all but oracle): absorption, "
                                              "iceberg, exhaustion, delta_spike, spoof, smart_money, oracle.")
@oracle_option
@click.option("--qty", default=None, help="Base order size (default: one lot of the symbol).")
@click.option("--max-positions", default=None, help="Max open trades (1..512; a risk setting, persisted).")
@click.option("--cooldown-ms", default=None, help="Min ms between two auto entries (0..86400000; persisted).")
@click.option("--daily-loss", default=None, help="Daily loss cap, quote currency (> 0; persisted).")
@click.option("--daily-profit", default=None, help="Daily profit cap, quote currency (> 0; persisted).")
@click.option("--tp-ticks", type=int, default=40, show_default=True, help="Take-profit distance in ticks (1..1000000).")
@click.option("--sl-ticks", type=int, default=40, show_default=True, help="Stop-loss distance in ticks (1..1000000).")
@click.option("--sim", "use_sim", is_flag=True, help="Trade the in-process simulator (feed and orders).")
@click.option("--seed", type=int, default=1, show_default=True, help="Simulator seed (with --sim).")
@click.option("--paper", is_flag=True, help="Fill against the live book; send nothing.")
@click.option("--replay", "replay_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Backtest over a recording (needs --paper); deterministic.")
@click.option("--duration", type=click.FloatRange(1, None), default=None, help="Stop after this many seconds.")
@click.option("--testnet", is_flag=True, help="Binance: the venue's documented testnet.")
@click.option("--rest-url", default=None, metavar="URL", help="The venue's REST base for orders.")
@click.option("--ws-url", default=None, metavar="URL", help="The venue's stream base for user data.")
@click.option("--db", envvar="NEXUS_RISK_DB", default=None, help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="One JSON line per second, then a summary line.")
@config_option
def trade(venue, symbol, auto, confirm_caps, reverse, smart, threshold, signals, oracle_choice, qty, max_positions,
          cooldown_ms,
          daily_loss, daily_profit, tp_ticks, sl_ticks, use_sim, seed, paper, replay_path, duration, testnet,
          rest_url, ws_url, db, as_json):
    """The auto-trader: signals with confidence >= --threshold of the chosen types become
    MARKET entries with TP/SL legs, each order checked by the risk gate first. Every second:
    AUTO state, LIMIT HIT, loss streak, open positions with their signal, day PnL, orders
    sent / refused by reason. Paper first, replay to tune, then --sim, then live."""
    from nexus.risk.codes import Latch, State
    from nexus.risk.gate import Gate

    settings = _auto_settings(threshold, signals, reverse, smart, tp_ticks, sl_ticks, qty)
    oracle_model = oracle_model_or_fail(oracle_choice)
    oracle = (oracle_model, oracle_label(oracle_choice, oracle_model))
    gate = Gate.open(db)
    if gate.store is None:
        raise click.ClickException(f"refusing to trade: {gate.halt_reason}")
    risk = _risk_settings(gate.settings, max_positions, cooldown_ms, daily_loss, daily_profit)
    emit = _emitter(as_json, panel=not replay_path and sys.stdout.isatty())
    if replay_path:
        if not paper:
            _usage("--replay runs on paper only: add --paper")
        return _replay(replay_path, venue, gate, risk, settings, emit, as_json, oracle)
    if venue is None:
        _usage("--venue is required (binance-spot or binance-perp)")
    spec_ = _live_spec(venue, symbol, use_sim, paper, seed, duration, rest_url, ws_url, testnet, oracle)
    from nexus.exceptions import NexusError

    try:
        limits = gate.limits(gate.instrument(spec_.venue, spec_.symbol))
    except NexusError as e:
        _usage(str(e))
    if auto:
        if risk.daily_loss is None or risk.daily_profit is None:
            _usage("--auto needs both caps: --daily-loss X and --daily-profit X (> 0), or `nexus risk set`")
        if gate.latch != Latch.NONE or gate.state != State.ACTIVE:
            raise click.ClickException(f"refusing to start AUTO: state {gate.state.name}"
                                       f"{', LIMIT HIT latched' if gate.latch != Latch.NONE else ''}; "
                                       f"`nexus risk reset --confirm --reason ...` re-enables")
        _confirm({"daily_loss": str(risk.daily_loss), "daily_profit": str(risk.daily_profit),
                  "max_positions": risk.max_positions, "cooldown_ms": risk.cooldown_ms,
                  "max_qty": str(limits.max_qty), "max_notional": str(limits.max_notional)}, confirm_caps, as_json)
    try:
        gate.with_settings(risk)
    except NexusError as e:
        _usage(str(e))
    try:
        summary = _run_live(spec_, gate, settings, auto, emit, as_json)
    finally:
        if hasattr(emit, "close"):
            emit.close()              # the terminal is left as it was, whatever happened
    emit(summary)
    if summary["summary"].get("feed_ever_live") is False:
        click.echo("nexus trade: the venue feed never became LIVE", err=True)
        sys.exit(EXIT_UPSTREAM)


def _live_spec(venue, symbol, use_sim, paper, seed, duration, rest_url, ws_url, testnet, oracle=(None, None)):
    from nexus.exceptions import NexusError
    from nexus.feeds.specs import spec
    from nexus.trade.session import LiveSpec
    from nexus.venues.registry import canonical_symbol

    try:
        if not paper:
            from nexus.exec.matrix import adapter_factory
            adapter_factory(venue)
        vsym = canonical_symbol(venue, spec(venue).symbol_of(symbol))
    except NexusError as e:
        _usage(str(e))
    return LiveSpec(venue, vsym, symbol, use_sim, paper, seed, duration, rest_url, ws_url, testnet, *oracle)


def _run_live(spec_, gate, settings, auto, emit, as_json) -> dict:
    from nexus.commands._trade import fail, run
    from nexus.exec import keys
    from nexus.trade.session import run_live

    result: dict = {}
    ever_live = [False]

    def on_line(line):
        ever_live[0] |= line.get("feed") == "LIVE"
        emit(line)

    async def body() -> int:
        def creds():
            return keys.load(spec_.venue, prompt=sys.stdin.isatty())
        result.update(await run_live(spec_, gate, settings, auto, creds, on_line))
        return 0

    run(body, as_json)
    if not result:
        fail(EXIT_UPSTREAM, "the session ended without a summary", as_json)
    result["summary"]["feed_ever_live"] = ever_live[0]
    return result


def _replay(path, venue, gate, risk, settings, emit, as_json, oracle=(None, None)) -> None:
    from nexus.exceptions import NexusError
    from nexus.trade.replay import recording_venue, replay_trade

    try:
        venue, vsym, _ = recording_venue(path, venue)
        inst = gate.instrument(venue, vsym)
        instruments = [(inst, gate.limits(inst))]
        summary = replay_trade(path, venue, vsym, replace(risk), instruments, settings, emit, *oracle)
    except NexusError as e:
        _usage(str(e))
    emit(summary)


def _emitter(as_json: bool, panel: bool = False):
    """JSON lines; on a terminal the EXECUTE panel (nexus/view/execute.py); else text lines."""
    if as_json:
        return lambda line: click.echo(json.dumps(line))
    if panel:
        from nexus.view.execute import PanelEmitter

        return PanelEmitter(_text_line)
    return _text_line


def _text_line(line: dict) -> None:
    if "summary" in line:
        s = line["summary"]
        click.echo(f"summary  AUTO {'on' if s['auto'] else 'off'}  state {s['state']}"
                   f"{'  [LIMIT HIT]' if s['limit_hit'] else ''}  day PnL {s['day_pnl']}  fees {s.get('fees', '0')}  fills {s['fills']}  "
                   f"trades closed {s['trades_closed']}  orders sent {s['orders']['sent']}  refused {s['orders']['refused']}")
        if "oracle" in s:
            o = s["oracle"]
            click.echo(f"  oracle {o['kind']}{' (' + o['model'] + ')' if o.get('model') else ''}  "
                       f"oracle signals seen: rule {o['signals']['rule']}  learned {o['signals']['learned']}")
        for name, g in s["stats"]["by_signal"].items():
            click.echo(f"  {name:12} trades {g['trades']}  win rate {g['win_rate']}  PnL {g['pnl']}  "
                       f"avg hold {g['avg_hold_ms']} ms  max DD {g['max_drawdown']}")
        return
    if "confirm_caps" in line:
        return
    badge = "  [LIMIT HIT]" if line["limit_hit"] else ""
    click.echo(f"t={line['t_s']}  AUTO {'ON' if line['auto'] else 'off'}{badge}  {line['state']}  "
               f"streak {line['loss_streak']}  next {line['next_qty']}  day PnL {line['day_pnl']}  "
               f"sent {line['orders']['sent']}  refused {line['orders']['refused']}  signals {line['signals']['seen']}")
    for p in line["open"]:
        click.echo(f"    open #{p['trade']} {p['signal']} {p['side']} {p['qty']} @ {p['entry']}  TP {p['tp']}  SL {p['sl']}")
    for ev in line.get("events", []):
        if ev["event"] in ("refused", "limit_hit", "unknown_fill", "exit_rejected"):
            click.echo(f"    {ev['event']}: " + ", ".join(f"{k} {v}" for k, v in ev.items() if k not in ("event", "ts_ns")))
