"""`nexus tradebot`: decide on snapshots, manage settings, read the audit log, run the scheduler."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, TextIO, TypeVar

import click

from nexus.cli import EXIT_REJECTED, EXIT_UPSTREAM
from nexus.config import config_option

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from nexus.tradebot.settings import CryptoSettings
    from nexus.tradebot.store import AuditEntry

F = TypeVar("F", bound=Callable[..., Any])

DB_HELP = "The broker's database: a SQLite path, sqlite:///path or postgresql://... (or $NEXUS_DB)."


@click.group()
def tradebot() -> None:
    """The Tradebot: keeps each crypto's hot-wallet and exchange reserves on target."""


# ---- decide -------------------------------------------------------------------------------


def decide_stream(lines: BinaryIO, out: TextIO, err: TextIO) -> int:
    """JSON Lines snapshots -> one decision per line, same order. Returns the count of bad lines.

    A blank line is skipped (no decision); any other line that is not a valid snapshot gets
    one message on `err` naming its line number, and the lines after it are still decided.
    """
    from nexus.tradebot.decision import decide
    from nexus.tradebot.errors import SnapshotError
    from nexus.tradebot.snapshot import decision_to_obj, parse_snapshot

    bad = 0
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            err.write(f"nexus tradebot decide: line {number}: not UTF-8 ({e.reason} at byte {e.start})\n")
            bad += 1
            continue
        if not text.strip():
            continue
        try:
            decision = decide(parse_snapshot(text))
        except SnapshotError as e:
            err.write(f"nexus tradebot decide: line {number}: {e}\n")
            bad += 1
            continue
        except ArithmeticError as e:  # not expected within the snapshot limits; never silent
            err.write(f"nexus tradebot decide: line {number}: cannot decide: {type(e).__name__}\n")
            bad += 1
            continue
        out.write(json.dumps(decision_to_obj(decision)) + "\n")
        out.flush()
    err.flush()
    return bad


@tradebot.command("decide")
def decide_cmd() -> None:
    """Snapshots on stdin (JSON Lines) -> one decision per line on stdout, in the same order.

    \b
    Snapshot: {"decimals", "exchange_price", "internal_price", "settings": {...},
               "state": {...}, "flags": {...}}   (schema in README.md, "Tradebot")
    Decision: {"status": "ok"|"skipped", "reasons": [...], "unbalanced": bool,
               "actions": [{"action", "amount"}]}

    A malformed line gets a message on stderr naming its line number; the other lines are
    still decided and the exit status is 3.
    """
    stdin = click.get_binary_stream("stdin")
    stdout = click.get_text_stream("stdout")
    stderr = click.get_text_stream("stderr")
    if decide_stream(stdin, stdout, stderr):
        raise click.exceptions.Exit(EXIT_REJECTED)


def _print_json_lines(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        click.echo(json.dumps(row))


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    raise click.exceptions.Exit(code)



# ---- shared options -----------------------------------------------------------------------


def db_option(f: F) -> F:
    # Required (no silent default file): settings written to the wrong database would never be
    # seen by the broker's scheduler.
    return click.option("--db", "db_url", envvar="NEXUS_DB", required=True, help=DB_HELP)(f)


def _open(db_url: str) -> Engine:
    from nexus.tradebot.store import open_db

    try:
        return open_db(db_url)
    except Exception as e:  # a bad URL, a missing driver, an unreachable server
        _fail(f"nexus tradebot: cannot open the database {db_url!r}: {type(e).__name__}: {e}", EXIT_UPSTREAM)


def _now_ns() -> int:
    import time

    return time.time_ns()


# ---- settings -----------------------------------------------------------------------------

_SETTING_OPTIONS = (
    ("--exchange", "exchange", "primary exchange (venue id) of the trade pair"),
    ("--currency", "currency", "fiat currency of the trade pair"),
    ("--target", "balance_target", "balance target value (fiat)"),
    ("--wobble", "balance_wobble", "balance wobble value (fiat)"),
    ("--min-trade", "min_trade", "minimum order value (fiat)"),
    ("--max-trade", "max_trade", "maximum order value (fiat)"),
    ("--min-transfer", "min_transfer", "minimum hot wallet <-> exchange transfer (fiat)"),
    ("--max-transfer", "max_transfer", "maximum hot wallet <-> exchange transfer (fiat)"),
    ("--min-confirmed", "min_confirmed_hotwallet_balance", "minimum confirmed hot wallet balance (crypto)"),
)


@tradebot.group("settings")
def settings_group() -> None:
    """Per-crypto Tradebot settings (show, set). Amounts in fiat except --min-confirmed."""


def _settings_line(s: CryptoSettings) -> str:
    return (
        f"{s.crypto:8} {s.exchange:>12} {s.currency:>5} {'yes' if s.active else 'no':>6} "
        f"{s.balance_target:>14f} {s.balance_wobble:>12f} {s.min_trade:>10f} {s.max_trade:>12f} "
        f"{s.min_transfer:>10f} {s.max_transfer:>12f} {s.min_confirmed_hotwallet_balance:>14f}"
    )


_SETTINGS_HEADER = (
    f"{'CRYPTO':8} {'EXCHANGE':>12} {'FIAT':>5} {'ACTIVE':>6} {'TARGET':>14} {'WOBBLE':>12} "
    f"{'MIN_TRADE':>10} {'MAX_TRADE':>12} {'MIN_XFER':>10} {'MAX_XFER':>12} {'MIN_CONFIRMED':>14}"
)


@settings_group.command("show")
@click.argument("crypto", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per crypto (JSON Lines).")
@db_option
def settings_show(crypto: str | None, as_json: bool, db_url: str) -> None:
    """Show the settings of every crypto, or of CRYPTO."""
    from nexus.tradebot.store import SettingsStore

    store = SettingsStore(_open(db_url))
    rows = store.all() if crypto is None else [s for s in [store.get(crypto)] if s is not None]
    if crypto is not None and not rows:
        _fail(f"nexus tradebot settings: no settings for {crypto}", 2)
    if as_json:
        _print_json_lines([s.to_obj() for s in rows])
        return
    if not rows:
        click.echo("no Tradebot settings yet (nexus tradebot settings set CRYPTO ...)")
        return
    click.echo(_SETTINGS_HEADER)
    for s in rows:
        click.echo(_settings_line(s))


def _with_setting_options(f: F) -> F:
    for flag, dest, text in reversed(_SETTING_OPTIONS):
        f = click.option(flag, dest, default=None, help=text)(f)
    return f


@settings_group.command("set")
@click.argument("crypto")
@_with_setting_options
@click.option("--active/--inactive", "active", default=None, help="Let the Tradebot act on this crypto, or not.")
@click.option("--json", "as_json", is_flag=True, help="Print the stored settings as JSON.")
@db_option
def settings_set(crypto: str, as_json: bool, db_url: str, active: bool | None, **given: str | None) -> None:
    """Create or change CRYPTO's settings. A new crypto needs every value.

    The seed's bad parameters are refused (exit status 2) and nothing is stored: max trade or
    max transfer 0 or below its minimum, a minimum of 0 or less, min confirmed balance, target
    or wobble below 0, or wobble above target.
    """
    from nexus.tradebot.errors import SettingsRefused
    from nexus.tradebot.settings import settings_from_obj
    from nexus.tradebot.store import SettingsStore

    store = SettingsStore(_open(db_url))
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if active is not None:
        changes["active"] = active
    base = store.get(crypto)
    if base is None:
        changes["crypto"] = crypto
    try:
        s = store.put(settings_from_obj(changes, base), _now_ns())
    except SettingsRefused as e:
        _fail(f"nexus tradebot settings: {e}", 2)
    if as_json:
        click.echo(json.dumps(s.to_obj()))
    else:
        click.echo(_SETTINGS_HEADER)
        click.echo(_settings_line(s))


# ---- log ----------------------------------------------------------------------------------


def _iso(ns: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _entry_line(e: AuditEntry) -> str:
    if e.outcome == "error":
        detail = e.error or ""
    elif e.outcome == "skipped":
        detail = ", ".join(e.reasons)
    else:
        parts = []
        for i, a in enumerate(e.actions):
            r = e.results[i] if i < len(e.results) else None
            mark = "" if r is None else (" ok" if r.get("ok") else f" FAILED ({r.get('error')})")
            parts.append(f"{a['action']} {a['amount']}{mark}")
        detail = "; ".join(parts) or "; ".join(e.notes) or "balanced"
    flag = " unbalanced" if e.unbalanced else ""
    return f"{e.id or '-':>6} {_iso(e.started_at_ns)} {e.crypto:8} {e.outcome:9}{flag} {detail}"


@tradebot.command("log")
@click.option("--crypto", default=None, help="Only this crypto.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="The last N runs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run (JSON Lines), with the snapshot.")
@db_option
def log_cmd(crypto: str | None, limit: int, as_json: bool, db_url: str) -> None:
    """The audit log: every scheduled decision with its inputs, reasons and outcome."""
    from nexus.tradebot.store import AuditLog

    entries = AuditLog(_open(db_url)).entries(crypto, limit)
    if as_json:
        _print_json_lines([e.to_obj() for e in entries])
        return
    if not entries:
        click.echo("no Tradebot runs recorded")
    for e in entries:
        click.echo(_entry_line(e))


# ---- run ----------------------------------------------------------------------------------


@tradebot.command("run")
@click.option("--paper", "paper_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Run against a paper world (JSON file: hot wallet, exchanges, prices).")
@click.option("--interval", "interval_s", type=click.FloatRange(min=0.001), default=60.0, show_default=True,
              help="Seconds between two runs of one crypto.")
@click.option("--rounds", type=click.IntRange(min=1), default=None, help="Stop after N rounds (default: run until Ctrl-C).")
@click.option("--fast", is_flag=True, help="Simulated time: no waiting between rounds (needs --rounds).")
@click.option("--dry-run", is_flag=True, help="Decide and record, but execute nothing.")
@click.option("--customer-flow", "flow_seed", type=int, default=None,
              help="Paper only: random customer buys and sells each round, from this seed.")
@click.option("--json", "as_json", is_flag=True, help="Each run's audit entry as a JSON line.")
@click.option("--chain", "chain_spec", type=click.Choice(["sim"]), default=None,
              help="Broker mode: the broker's ledger in --db and its in-process chain; exchanges are "
                   "SimExchange accounts over the venue simulator's books.")
@click.option("--sim-seed", type=int, default=0, show_default=True, help="Broker mode: the venue simulator's seed.")
@click.option("--exchange-fund", "exchange_funds", multiple=True, metavar="ASSET=AMOUNT",
              help="Broker mode: opening balance of each exchange account (repeatable), e.g. EUR=100000.")
@db_option
@config_option
def run_cmd(paper_path: str | None, interval_s: float, rounds: int | None, fast: bool, dry_run: bool,
            flow_seed: int | None, as_json: bool, chain_spec: str | None, sim_seed: int,
            exchange_funds: tuple[str, ...], db_url: str) -> None:
    """Run the Tradebot for every active crypto, every --interval seconds, never overlapping.

    Each run reads the balances, decides, executes the actions and records an audit entry
    (`nexus tradebot log`). Exit status 4 if any run hit an upstream error or a failed action.
    """
    import random
    import time

    from nexus.tradebot.errors import TradebotError
    from nexus.tradebot.paper import customer_flow, paper_world
    from nexus.tradebot.ports import ManualClock, SystemClock
    from nexus.tradebot.store import AuditLog, SettingsStore

    if paper_path is None and chain_spec is None:
        _fail("nexus tradebot run: give --paper WORLD.json or --chain sim (the broker); see README.md, Tradebot", 2)
    if paper_path is not None and chain_spec is not None:
        _fail("nexus tradebot run: --paper and --chain exclude each other", 2)
    if chain_spec is not None:
        if fast and rounds is None:
            _fail("nexus tradebot run: --fast needs --rounds", 2)
        _run_broker(db_url, sim_seed, exchange_funds, interval_s, rounds, fast, dry_run, as_json)
        return
    if fast and rounds is None:
        _fail("nexus tradebot run: --fast needs --rounds", 2)
    pool = _open(db_url)
    store = SettingsStore(pool)
    active = store.active()
    if not active:
        _fail("nexus tradebot run: no active crypto (nexus tradebot settings set CRYPTO --active ...)", 2)
    try:
        with open(paper_path, encoding="utf-8") as fh:
            world = json.load(fh)
        clock = ManualClock(time.time()) if fast else SystemClock()
        wallet, exchanges = paper_world(world, active, clock)
    except (OSError, ValueError, TradebotError) as e:
        _fail(f"nexus tradebot run: bad paper world {paper_path}: {e}", 2)

    rng = random.Random(flow_seed)
    _schedule(as_json, rounds, settings=store, audit=AuditLog(pool), wallet=wallet, exchanges=exchanges, prices=wallet,
              clock=clock, interval_s=interval_s, execute=not dry_run, wait_each_round=fast,
              before_round=None if flow_seed is None else lambda: customer_flow(wallet, active, rng))


def _schedule(as_json: bool, rounds: int | None, **scheduler_args: Any) -> None:
    """Run the Scheduler until --rounds or Ctrl-C, printing each audit entry; exit status 4
    if any run hit an upstream error or a failed action."""
    import threading

    from nexus.tradebot.scheduler import Scheduler

    bad = []

    def show(entry: AuditEntry) -> None:
        if entry.outcome in ("error", "failed"):
            bad.append(entry)
        click.echo(json.dumps(entry.to_obj()) if as_json else _entry_line(entry))

    stop = threading.Event()
    with Scheduler(on_entry=show, **scheduler_args) as scheduler:
        try:
            scheduler.run(stop, max_rounds=rounds)
        except KeyboardInterrupt:
            stop.set()
            scheduler.wait()
    if bad:
        raise click.exceptions.Exit(EXIT_UPSTREAM)


def _run_broker(db_url: str, sim_seed: int, exchange_funds: tuple[str, ...], interval_s: float,
                rounds: int | None, fast: bool, dry_run: bool, as_json: bool) -> None:
    """The Tradebot against a broker in this process (nexus/tradebot/broker_world.py)."""
    import time
    from decimal import Decimal, InvalidOperation

    from nexus.tradebot.broker_world import BrokerWorld
    from nexus.tradebot.errors import WorldError
    from nexus.tradebot.ports import ManualClock, SystemClock

    funds: list[tuple[str, Decimal]] = []
    for item in exchange_funds:
        asset, _, amount = item.partition("=")
        try:
            funds.append((asset, Decimal(amount)))
        except InvalidOperation:
            _fail(f"nexus tradebot run: --exchange-fund {item!r}: expected ASSET=AMOUNT", 2)
    clock = ManualClock(time.time()) if fast else SystemClock()
    try:
        world = BrokerWorld.build(db_url, sim_seed, funds, clock)
    except WorldError as e:
        _fail(f"nexus tradebot run: {e}", 2)
    try:
        _schedule(as_json, rounds, settings=world.store, audit=world.audit, wallet=world.wallet,
                  exchanges=world.exchanges, prices=world.prices, clock=clock, interval_s=interval_s,
                  execute=not dry_run, wait_each_round=True, before_round=lambda: world.advance(interval_s))
    finally:
        world.close()
