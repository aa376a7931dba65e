"""`nexus stats`: per-signal statistics (trades, win rate, PnL, average hold, max drawdown) per
signal type and per venue, from the fills the risk gate persisted (nexus/trade/stats.py)."""

from __future__ import annotations

import json
import time

import click

from nexus.commands.risk import DB_HELP


@click.command()
@click.option("--since", default=None, help="From a UTC date (2026-01-31), a duration back (90m, 12h, 7d) or ns.")
@click.option("--db", envvar="NEXUS_RISK_DB", default=None, help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def stats(since, db, as_json):
    """Which signals make money: every closed trade read back from the persisted fills."""
    from nexus.exceptions import NexusError
    from nexus.risk.store import RiskStateError, RiskStore
    from nexus.trade.stats import compute, parse_since

    try:
        since_ns = parse_since(since, time.time_ns())
    except NexusError as e:
        raise click.UsageError(str(e)) from None
    try:
        store = RiskStore(db, create=False)
    except RiskStateError as e:
        raise click.ClickException(str(e)) from None
    try:
        out = {"since_ns": since_ns, **compute(store.fills(since_ns))}
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(out))
        return
    for title, groups in (("signal", out["by_signal"]), ("venue", out["by_venue"])):
        click.echo(f"{'by ' + title:16} {'trades':>6} {'win rate':>9} {'gross PnL':>14} {'fees':>12} {'net PnL':>14} "
                   f"{'avg hold ms':>12} {'max DD':>12}")
        for name, g in groups.items():
            click.echo(f"{name:16} {g['trades']:>6} {g['win_rate'] or '-':>9} {g['gross_pnl']:>14} {g['fees']:>12} {g['pnl']:>14} "
                       f"{g['avg_hold_ms'] if g['avg_hold_ms'] is not None else '-':>12} {g['max_drawdown']:>12}")
    t = out["total"]
    click.echo(f"total: {t['trades']} trades, win rate {t['win_rate']}, gross PnL {t['gross_pnl']}, "
               f"fees {t['fees']}, net PnL {t['pnl']}, "
               f"max drawdown {t['max_drawdown']}; {out['open_trades']} open")
