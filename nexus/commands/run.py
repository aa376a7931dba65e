"""`nexus run`: live books and trades from several venues, in a terminal or headless."""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal, InvalidOperation

import click

from nexus.commands.record import parse_venues
from nexus.cli import EXIT_UPSTREAM


@click.command()
@click.option("--venues", default="binance-perp,binance-spot,bybit-perp,okx-swap,hyperliquid", show_default=True,
              help="Comma-separated venue ids (with --agg: at most five).")
@click.option("--symbol", default="BTCUSDT", show_default=True, help="Canonical symbol, mapped per venue.")
@click.option("--sim", is_flag=True, help="Start the venue simulator in-process and connect to it.")
@click.option("--seed", type=int, default=1, show_default=True, help="Simulator seed (with --sim).")
@click.option("--fault", "faults", multiple=True, metavar="KIND:VENUE:AT_S",
              help="Simulator fault (with --sim; repeatable): disconnect, gap, bad-checksum, silence, malformed, diverge.")
@click.option("--endpoint", "endpoints", multiple=True, metavar="VENUE=URL", help="Override a venue's WebSocket URL.")
@click.option("--rest-endpoint", "rest_endpoints", multiple=True, metavar="VENUE=URL", help="Override a venue's REST base URL.")
@click.option("--duration", type=click.FloatRange(0.5, None), default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Headless: one JSON line per second, then a summary line.")
@click.option("--procs", is_flag=True, help="Run each venue's feed handler in its own process.")
@click.option("--stale-after", type=click.FloatRange(0.5, 600), default=5.0, show_default=True,
              help="Seconds without a message before a venue is STALE.")
@click.option("--agg", is_flag=True, help="Aggregator: one consensus book and trade tape across the venues (data only).")
@click.option("--stale-mode", type=click.Choice(["exclude", "flag"]), default="exclude", show_default=True,
              help="AGG: drop a stale venue's levels from the consensus, or keep them flagged.")
@click.option("--divergence-pct", default="0.3", show_default=True, help="AGG: divergence alert threshold, percent.")
@click.option("--dedup-window-ms", type=click.FloatRange(0, 10_000), default=0.0, show_default=True,
              help="AGG: cross-venue trade dedup time window.")
@click.option("--consensus-ring", default=None, metavar="NAME",
              help="AGG: publish the consensus best bid/ask as BBO records on this shared-memory ring "
                   "(the broker's price source: --price-ring NAME --ring-instrument CRYPTO=agg:SYMBOL:EXPONENT).")
@click.option("--signals/--no-signals", default=True, show_default=True,
              help="Run the flow engine's detectors (absorption, iceberg, exhaustion, delta spike, spoof, "
                   "smart money, oracle) on every venue, and on the consensus with --agg.")
@click.option("--signals-ring", default=None, metavar="NAME",
              help="Publish the SIGNAL records on this shared-memory ring (for the auto-trader or any reader).")
@click.option("--depth", type=click.IntRange(1, 100), default=12, show_default=True, help="Ladder depth shown.")
def run(venues, symbol, sim, seed, faults, endpoints, rest_endpoints, duration, as_json, procs, stale_after,
        agg, stale_mode, divergence_pct, dedup_window_ms, consensus_ring, signals, signals_ring, depth):
    """Live L2 books and trades from several venues: a terminal view (DOM ladder, trade tape,
    per-venue state, message rate, wire-to-book latency), or headless with --json.

    Real venue URLs are the defaults; --sim points every venue at the built-in simulator.
    SIGINT / SIGTERM / SIGHUP stop cleanly and print the summary. Exit 4 if no venue ever went LIVE.
    """
    from nexus.feeds.runtime import RunConfig, Runtime
    from nexus.feeds.specs import parse_endpoints

    vlist = parse_venues(venues)
    if agg and len(vlist) > 5:
        raise click.BadParameter("the aggregator takes at most five venues", param_hint="--venues")
    if faults and not sim:
        raise click.UsageError("--fault needs --sim")
    if consensus_ring and not agg:
        raise click.UsageError("--consensus-ring needs --agg")
    if signals_ring and not signals:
        raise click.UsageError("--signals-ring needs the detectors on (drop --no-signals)")
    div = parse_divergence_pct(divergence_pct)
    if sim:
        from nexus.sim.faults import parse_all

        try:
            parse_all(list(faults), vlist)
        except Exception as e:
            raise click.BadParameter(str(e), param_hint="--fault") from None
    cfg = RunConfig(
        venues=vlist, symbol=symbol, sim=sim, seed=seed, faults=list(faults),
        ws_urls=parse_endpoints(endpoints), rest_urls=parse_endpoints(rest_endpoints),
        duration_s=duration, stale_after_s=stale_after, procs=procs, agg=agg,
        agg_options={"stale_mode": stale_mode, "divergence_pct": div, "dedup_window_ms": dedup_window_ms},
        consensus_ring=consensus_ring, signals=signals, signals_ring=signals_ring,
    )
    ever_live: set[str] = set()

    if as_json:
        def on_second(line, rt):
            ever_live.update(v for v, s in line["venues"].items() if s.get("state") == "LIVE")
            click.echo(json.dumps(line))
        summary = asyncio.run(Runtime(cfg, on_second).run())
    else:
        summary = asyncio.run(_run_with_view(cfg, depth, ever_live))
    summary_line = {"summary": summary["summary"]}
    if "summary_agg" in summary:
        summary_line["agg"] = summary["summary_agg"]
    if "signals" in summary:
        summary_line["signals"] = summary["signals"]
    click.echo(json.dumps(summary_line))
    ever_live.update(v for v, s in summary["summary"].items() if s.get("state") == "LIVE")
    if not ever_live:
        from nexus.feeds.failures import reasons

        why = reasons({v: (s.get("error"), s.get("attempts", 0)) for v, s in summary["summary"].items()})
        click.echo(f"nexus run: no venue became LIVE: {why}; check the network, --endpoint, or try --sim", err=True)
        sys.exit(EXIT_UPSTREAM)


def parse_divergence_pct(value: str) -> Decimal:
    try:
        div = Decimal(value)
    except InvalidOperation:
        div = None
    if div is None or not div.is_finite() or div <= 0:
        raise click.BadParameter("a positive percentage such as 0.3", param_hint="--divergence-pct")
    return div


async def _run_with_view(cfg, depth: int, ever_live: set) -> dict:
    from rich.console import Console
    from rich.live import Live

    from nexus.feeds.runtime import Runtime
    from nexus.view import LadderRow, ViewModel, render

    console = Console(stderr=False)
    alerts: list[str] = []
    live = Live(console=console, refresh_per_second=4, transient=False)

    def model(line, rt) -> ViewModel:
        venues = line["venues"]
        for v, s in venues.items():
            s["latency_us_p50"] = rt.latency_us_p50(v)
            prev = getattr(rt, "_prev_msgs", {}).get(v, 0)
            s["msgs_per_s"] = s.get("msgs", 0) - prev
        rt._prev_msgs = {v: s.get("msgs", 0) for v, s in venues.items()}
        ever_live.update(v for v, s in venues.items() if s.get("state") == "LIVE")
        for a in line.get("alerts", []):
            alerts.append(" ".join(f"{k}={v}" for k, v in a.items()))
        if rt.agg is not None:
            ag = rt.agg
            names = list(ag.venues)

            def rows(side):
                out = []
                for p, total, per in ag.consensus.top(side, depth):
                    shares = {names[i]: q / total for i, q in enumerate(per[: len(names)]) if q > 0 and total > 0}
                    out.append(LadderRow(ag.price_str(p), ag.qty_str(total), shares))
                return out

            crossed = "  CROSSED (venues quote apart)" if line.get("agg", {}).get("crossed") else ""
            bids, asks, title = rows(1), rows(2), f"nexus run --agg {cfg.symbol}  (consensus; data only){crossed}"
        else:
            v0 = cfg.venues[0]
            rs = rt.readers[v0]
            bids, asks = [], []
            if rs.book is not None:
                bids = [LadderRow(rs.inst.price_str(p), rs.inst.qty_str(q)) for p, q in rs.book.top(1, depth)]
                asks = [LadderRow(rs.inst.price_str(p), rs.inst.qty_str(q)) for p, q in rs.book.top(2, depth)]
            title = f"nexus run {cfg.symbol}  (ladder: {v0})"
        sigs = list(rt.flow.recent) if rt.flow is not None else []
        return ViewModel(title, line["t_s"], venues, bids, asks, list(rt.tape), alerts, list(cfg.venues), sigs)

    def on_second(line, rt):
        live.update(render(model(line, rt), depth))

    with live:
        return await Runtime(cfg, on_second).run()
