"""`nexus risk show|set|reset`: the risk gate's settings, per-symbol limits, trading state, the
day's PnL and the LIMIT HIT latch, as persisted (nexus/risk/store.py).

Bad input (a value outside its allowed range, an unknown symbol, a reset without --confirm)
exits 2 and names the allowed range; a state that is missing or unreadable is shown as HALTED
with its reason, and `set` / `reset` refuse to touch it (exit 1) except `reset --recreate`,
which moves the unreadable file aside (kept) and starts a new state, audited.
"""

from __future__ import annotations

import getpass
import json
import time

import click

from nexus.exceptions import ConfigError, NexusError

DB_HELP = "Risk state database: a SQLite path or postgresql://... (default: NEXUS_RISK_DB, else risk.sqlite3 in the user's data dir)."


def _db_option(f):
    return click.option("--db", "db", envvar="NEXUS_RISK_DB", default=None, help=DB_HELP)(f)


def _open(db: str | None):
    from nexus.risk.gate import Gate

    return Gate.open(db)


@click.group()
def risk() -> None:
    """The risk gate's settings, state, day PnL and LIMIT HIT latch."""


@risk.command("show")
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(db: str | None, as_json: bool) -> None:
    """Settings, per-symbol limits, trading state, the day's PnL and the latch."""
    snap = _open(db).snapshot()
    if as_json:
        click.echo(json.dumps(snap))
        return
    badge = "  [LIMIT HIT]" if snap["limit_hit"] else ""
    click.echo(f"state {snap['state']}{badge}   AUTO {'on' if snap['auto_enabled'] else 'off'}   day {snap['day']}")
    if snap["halt_reason"]:
        click.echo(f"halted: {snap['halt_reason']}")
    click.echo(f"day PnL {snap['day_pnl']} (realised {snap['realised']}, unrealised {snap['unrealised']}); "
               f"{snap['open_positions']} open position(s), {snap['fills']} fill(s)")
    for p in snap["positions"]:
        click.echo(f"  {p['venue']}:{p['symbol']} {p['side']} {p['qty']} @ {p['avg_entry']} (unrealised {p['unrealised']})")
    for k, v in (snap["settings"] or {}).items():
        click.echo(f"{k:18} {v if v is not None else 'none'}")
    for i in snap["instruments"]:
        click.echo(f"limits {i['venue']}:{i['symbol']}: max qty {i['max_qty']}, max notional {i['max_notional']}")


def _lookup(spec: str, instruments: str | None = None, rest_endpoint: str | None = None):
    """VENUE:SYMBOL -> the venue's Instrument (its tick, lot, contract value and exponents), from
    the venue's own instrument listing: `instruments` (a file holding the listing's body) or
    else fetched from the venue's instrument endpoint (FeedSpec.instruments_path) at its REST
    base (`rest_endpoint` to override it). Never a built-in guess."""
    from nexus.feeds.session import _call
    from nexus.venues.registry import canonical_symbol, feed_spec, load

    venue, sep, symbol = spec.partition(":")
    if not sep or not symbol:
        raise click.UsageError(f"--instrument {spec!r}: expected VENUE:SYMBOL, e.g. binance-perp:BTCUSDT")
    try:
        dec = load(venue).Decoder()
        sym = canonical_symbol(venue, symbol)
        if instruments:
            with open(instruments, "rb") as f:
                body = f.read()
        else:
            fs = feed_spec(venue)
            base = rest_endpoint or fs.rest_url
            if fs.instruments_path is None or not base:
                raise click.UsageError(f"--instrument {spec!r}: {venue} has no instrument endpoint; "
                                       "give its listing with --instruments FILE")
            post = fs.instruments_body(sym) if fs.instruments_body else None
            url = base + fs.instruments_path(sym)
            try:
                body = _call(url, "POST" if post is not None else "GET", post,
                             {"Content-Type": "application/json"} if post is not None else None)
            except Exception as e:
                raise click.UsageError(f"--instrument {spec!r}: the instrument listing {url} failed ({e}); "
                                       "give it with --instruments FILE") from None
        dec.load_metadata(body)
        if sym in dec.generic or (venue, sym) not in dec.registry:
            raise click.UsageError(f"--instrument {spec!r}: {sym} is not in the venue's instrument listing")
        return dec.instrument(sym)
    except NexusError as e:
        raise click.UsageError(f"--instrument {spec!r}: {e}") from None


@risk.command("set")
@_db_option
@click.option("--max-positions", help="Max simultaneous open positions (1..512).")
@click.option("--cooldown-ms", help="Min ms between two auto-trades (0..86400000; default 15000).")
@click.option("--max-orders", help="Max orders per rate window (1..4096).")
@click.option("--rate-window-ms", help="The rate window in ms (1..3600000).")
@click.option("--price-band-pct", help="Refuse limit/stop prices further than this % from the touch (0.01..100).")
@click.option("--daily-loss", help="Daily loss cap in the quote currency (> 0, or 'none').")
@click.option("--daily-profit", help="Daily profit cap in the quote currency (> 0, or 'none').")
@click.option("--day-boundary", "day_boundary_utc", help="Trading day start, HH:MM UTC (default 00:00).")
@click.option("--state", type=click.Choice(["active", "reducing", "halted"]),
              help="Trading state (active is refused while LIMIT HIT is latched).")
@click.option("--instrument", help="VENUE:SYMBOL whose per-order limits --max-qty / --max-notional set.")
@click.option("--max-qty", help="Max order quantity of --instrument (base units, > 0).")
@click.option("--max-notional", help="Max order notional of --instrument (quote currency, > 0).")
@click.option("--instruments", "instruments", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The venue's instrument listing body (its instrument endpoint's answer) for --instrument; "
                   "default: fetched from the venue.")
@click.option("--rest-endpoint", "rest_endpoint", default=None, metavar="URL",
              help="The venue's REST base for fetching its instrument listing (e.g. `nexus sim`'s).")
@click.option("--json", "as_json", is_flag=True, help="Print the resulting state as JSON.")
def set_(db, state, instrument, max_qty, max_notional, instruments, rest_endpoint, as_json, **values) -> None:
    """Change validated settings (refused with the allowed range when out of it)."""
    from nexus.risk.codes import State
    from nexus.risk.settings import InstrumentLimits, limits_problems, parse_decimal, settings_from_obj

    given = {k: v for k, v in values.items() if v is not None}
    if not given and state is None and instrument is None:
        raise click.UsageError("nothing to set: give at least one option (see --help)")
    if (max_qty or max_notional) and not instrument:
        raise click.UsageError("--max-qty / --max-notional need --instrument VENUE:SYMBOL")
    gate = _open(db)
    if gate.store is None:
        raise click.ClickException(f"refusing to change an unusable risk state: {gate.halt_reason}")
    try:
        settings = settings_from_obj(given, gate.settings) if given else gate.settings
        if instrument:
            inst = _lookup(instrument, instruments, rest_endpoint)
            if not (max_qty and max_notional):
                raise click.UsageError("--instrument needs both --max-qty and --max-notional")
            lim = InstrumentLimits(inst.venue, inst.symbol, parse_decimal(max_qty, "max_qty"),
                                   parse_decimal(max_notional, "max_notional"))
            found = limits_problems(lim)
            if found:
                raise ConfigError("; ".join(found))
            inst.qty_to_int(str(lim.max_qty))  # on the quantity grid, or DecimalError
            gate.store.put_limits({"venue": inst.venue, "symbol": inst.symbol, "tick_size": inst.tick_size,
                                   "lot_size": inst.lot_size, "contract_value": inst.contract_value,
                                   "contract_kind": inst.contract_kind, "quote": inst.quote,
                                   "price_exponent": inst.price_exponent, "qty_exponent": inst.qty_exponent,
                                   "max_qty": lim.max_qty, "max_notional": lim.max_notional})
            gate = _open(db)  # rebuilt with the new instrument (its exponents may change the money grid)
            if gate.store is None:
                raise click.ClickException(f"the new limits make the state unusable: {gate.halt_reason}")
        if given:
            gate.with_settings(settings)
        if state is not None:
            gate.set_state(State[state.upper()], "set by an operator" if state == "halted" else None)
    except NexusError as e:
        raise click.UsageError(str(e)) from None
    snap = gate.snapshot()
    click.echo(json.dumps(snap) if as_json else f"ok: state {snap['state']}, settings {snap['settings']}")


@risk.command("reset")
@_db_option
@click.option("--confirm", is_flag=True, help="Required: clear the LIMIT HIT latch and HALTED.")
@click.option("--reason", default="", help="Why (stored in the audit table; required).")
@click.option("--who", default=None, help="Who resets (default: the login name).")
@click.option("--recreate", is_flag=True,
              help="The state is unreadable or missing: move it aside (kept) and start a new one.")
@click.option("--json", "as_json", is_flag=True, help="Print the audit entry as JSON.")
def reset(db, confirm: bool, reason: str, who: str | None, recreate: bool, as_json: bool) -> None:
    """Clear the LIMIT HIT latch (audited: who, when, why). The day's PnL is kept, so a cap
    still crossed today latches again on the next check."""
    from nexus.risk.gate import Gate
    from nexus.risk.store import default_url, move_aside

    if not confirm:
        raise click.UsageError("reset clears the LIMIT HIT latch: add --confirm (and --reason)")
    if not reason.strip():
        raise click.UsageError("reset needs --reason TEXT (it is audited)")
    who = who or getpass.getuser()
    gate = _open(db)
    if gate.store is None:
        if not recreate:
            raise click.ClickException(f"the risk state is unusable: {gate.halt_reason}; "
                                       f"`--recreate` moves it aside and starts a new one")
        old_reason = gate.halt_reason
        moved = move_aside(db or default_url(), time.time_ns())
        gate = Gate.open(db)
        if gate.store is None:
            raise click.ClickException(f"could not start a new risk state: {gate.halt_reason}")
        gate.halt_reason = f"recreated after: {old_reason}" + (f" (old file kept as {moved})" if moved else "")
    entry = gate.reset(who, reason)
    click.echo(json.dumps(entry) if as_json else
               f"reset by {who}: latch was {entry['latch_before']}, state {entry['state_before']} -> "
               f"{entry['state_after']}; day PnL {entry['day_pnl']}"
               + ("  (still past a cap today: LIMIT HIT again; raise the cap or wait for the next day)"
                  if entry["relatched"] else ""))

