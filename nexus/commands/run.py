"""`nexus run`: live books and trades from several venues, in a terminal or headless."""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal, InvalidOperation

import click

from nexus.commands.record import parse_venues
from nexus.cli import EXIT_UPSTREAM, EXIT_USAGE
from nexus.commands._ops import ops_options, start_metrics
from nexus.commands.signals import oracle_label, oracle_model_or_fail, oracle_option
from nexus.config import config_option


def agg_scope_option(prefix: str = ""):
    """`--agg-scope auto|all|perps` (nexus.feeds.run.aggregation.scope_members), for `nexus run
    --agg` and `nexus agg replay` alike."""
    text = ("the venues whose books and trades make the consensus: all, or the perpetuals only "
            "(spot venues still read and shown per venue); auto: the perpetuals when the venues mix spot "
            "and perpetuals, else all. Spot and perpetual books differ by the spot-perp basis, so a "
            "consensus of both is crossed whenever the basis exceeds their half-spreads.")
    return click.option("--agg-scope", type=click.Choice(["auto", "all", "perps"]), default="auto", show_default=True,
                        help=prefix + text if prefix else text[0].upper() + text[1:])


def agg_uncross_option():
    """`--agg-uncross fresh|off` (nexus.agg.aggregator, "Uncrossing by freshness"), for `nexus
    run --agg` and `nexus agg replay` alike."""
    return click.option(
        "--agg-uncross", type=click.Choice(["fresh", "off"]), default="fresh", show_default=True,
        help="How the consensus treats a venue's quote that crosses another venue's newer touch (venues publish "
             "at different cadences, so older quotes lag): fresh hides the older venue's crossing levels until "
             "it publishes again or the cross is gone (crosses between venues at one instant, or deeper than "
             "2 bp, stay shown); off merges the raw books. The summary's `raw` counts the raw crosses either way.")


@click.command()
@click.option("--venues", default="binance-perp,binance-spot,bybit-perp,okx-swap,hyperliquid", show_default=True,
              help="Comma-separated venue ids, or 'all' (every venue Nexus reads; with --agg: at most five).")
@click.option("--symbol", default="BTCUSDT", show_default=True, help="Canonical symbol, mapped per venue.")
@click.option("--sim", is_flag=True, help="Start the venue simulator in-process and connect to it.")
@click.option("--seed", type=int, default=1, show_default=True, help="Simulator seed (with --sim).")
@click.option("--fault", "faults", multiple=True, metavar="KIND:VENUE:AT_S",
              help="Simulator fault (with --sim; repeatable): disconnect, gap, bad-checksum, silence, malformed, diverge.")
@click.option("--endpoint", "endpoints", multiple=True, metavar="VENUE=URL", help="Override a venue's WebSocket URL.")
@click.option("--rest-endpoint", "rest_endpoints", multiple=True, metavar="VENUE=URL", help="Override a venue's REST base URL.")
@click.option("--poll", "polls", multiple=True, metavar="VENUE=SECONDS",
              help="Poll the venue's REST book every SECONDS instead of its WebSocket (deribit).")
@click.option("--duration", type=click.FloatRange(0.5, None), default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Headless: one JSON line per second, then a summary line.")
@click.option("--procs", is_flag=True, help="Run each venue's feed handler in its own process.")
@click.option("--stale-after", type=click.FloatRange(0.5, 600), default=5.0, show_default=True,
              help="Seconds without a message before a venue is STALE.")
@click.option("--agg", is_flag=True, help="Aggregator: one consensus book and trade tape across the venues (data only).")
@click.option("--stale-mode", type=click.Choice(["exclude", "flag"]), default="exclude", show_default=True,
              help="AGG: drop a stale venue's levels from the consensus, or keep them flagged.")
@click.option("--divergence-pct", default="0.3", show_default=True, help="AGG: divergence alert threshold, percent.")
@agg_scope_option("AGG: ")
@agg_uncross_option()
@click.option("--dedup-window-ms", type=click.FloatRange(0, 10_000), default=0.0, show_default=True,
              help="AGG: cross-venue trade dedup time window.")
@click.option("--consensus-ring", default=None, metavar="NAME",
              help="AGG: publish the consensus best bid/ask as BBO records on this shared-memory ring "
                   "(the broker's price source: --price-ring NAME --ring-instrument CRYPTO=agg:SYMBOL[:FX]; the ring's side file gives the price exponent).")
@click.option("--signals/--no-signals", default=True, show_default=True,
              help="Run the flow engine's detectors (absorption, iceberg, exhaustion, delta spike, spoof, "
                   "smart money, oracle) on every venue, and on the consensus with --agg.")
@oracle_option
@click.option("--signals-ring", default=None, metavar="NAME",
              help="Publish the SIGNAL records on this shared-memory ring (for the auto-trader or any reader).")
@click.option("--depth", type=click.IntRange(1, 100), default=12, show_default=True, help="Ladder depth shown.")
@click.option("--from-aeron", "from_aeron", default=None, metavar="CHANNEL[,STREAM]",
              help="Run no feed here: the venues' rings come from this Aeron channel (a `nexus run --aeron` or "
                   "`nexus aeron pub` on another host; stream default 1001); books, consensus and signals as there. "
                   "Media driver at AERON_DIR (embedded when none runs there).")
@click.option("--aeron", "aeron_channel", default=None, metavar="CHANNEL[,STREAM]",
              help="Also publish the venues' rings on this Aeron channel (stream default 1001) through a "
                   "`nexus aeron pub` process, for `nexus aeron sub` on other hosts (media driver at AERON_DIR, "
                   "started embedded when none runs there).")
@click.option("--pin-cpu", "pin_cpu", default=None, metavar="N[,M...]",
              help="Co-located servers: pin this process (its readers, and the feed handlers unless --procs) to CPU N "
                   "(os.sched_setaffinity); with --procs the feed processes take the next CPUs listed, in venue "
                   "order (all on N when only N is given). Cost: that core should be kept free of other work.")
@click.option("--busy-poll", is_flag=True,
              help="Co-located servers: the loop reading the rings (and, in-process, the venue sockets) spins "
                   "instead of sleeping between polls. Cost: it burns one core at 100 % all the time, traffic or "
                   "not (with --procs, one per feed process too). It pays only on a core no other process runs on "
                   "(--pin-cpu to an isolated core): on a shared core the spinning process is preempted and its "
                   "latency gets worse, not better.")
@click.option("--busy-poll-socket", "busy_poll_socket_us", type=click.IntRange(0, 1_000_000), default=0,
              metavar="US", help="Also ask the kernel to busy-poll each venue socket for US µs (SO_BUSY_POLL; "
                                 "needs CAP_NET_ADMIN above net.core.busy_read, a refusal is logged; "
                                 "no effect on loopback). Cost: CPU spent spinning in the kernel on each read.")
@click.option("--keep-warm", is_flag=True,
              help="Co-located servers: between messages, each in-process feed re-decodes its last trade frame and "
                   "last book diff (at most every 100 µs of idle loop; nothing published, no book or sequence "
                   "touched) so the decode path stays in the CPU caches and the next message is not handled cold. "
                   "Cost: ~4 µs of CPU per venue per 100 µs: ~4 % of a core with --busy-poll, ~0.4 % without "
                   "(the loop then wakes every 1 ms); a message arriving during a warm pass waits for it (a few µs).")
@ops_options
@config_option
@click.option("--view-venue", default=None, metavar="VENUE",
              help="The book the view shows first (a venue of --venues; 'agg', the consensus, is the default with "
                   "--agg). While it runs, v / V pick the next / previous book, q stops.")
def run(venues, symbol, sim, seed, faults, endpoints, rest_endpoints, polls, duration, as_json, procs, stale_after,
        agg, stale_mode, divergence_pct, agg_scope, agg_uncross, dedup_window_ms, consensus_ring, signals, oracle_choice, signals_ring, depth,
        log_level, log_format, metrics_port, metrics_host, view_venue, from_aeron, aeron_channel, pin_cpu,
        busy_poll, busy_poll_socket_us, keep_warm):
    """Live L2 books and trades from several venues: a terminal view (DOM ladder, trade tape,
    per-venue state, message rate, wire-to-book latency), or headless with --json.

    Real venue URLs are the defaults; --sim points every venue at the built-in simulator.
    SIGINT / SIGTERM / SIGHUP stop cleanly and print the summary. Exit 4 if no venue ever went LIVE.
    """
    from nexus.feeds.runtime import RunConfig, Runtime
    from nexus.feeds.specs import parse_endpoints

    vlist = parse_venues(venues, symbol)
    if agg and len(vlist) > 5:
        raise click.BadParameter("the aggregator takes at most five venues", param_hint="--venues")
    if faults and not sim:
        raise click.UsageError("--fault needs --sim")
    if agg_scope != "auto" and not agg:
        raise click.UsageError("--agg-scope needs --agg")
    if agg_uncross != "fresh" and not agg:
        raise click.UsageError("--agg-uncross needs --agg")
    if consensus_ring and not agg:
        raise click.UsageError("--consensus-ring needs --agg")
    if signals_ring and not signals:
        raise click.UsageError("--signals-ring needs the detectors on (drop --no-signals)")
    if view_venue is not None and view_venue not in vlist + (["agg"] if agg else []):
        raise click.BadParameter(f"{view_venue!r} is not among the venues run", param_hint="--view-venue")
    if from_aeron and (sim or procs or faults or aeron_channel or polls):
        raise click.UsageError("--from-aeron runs no feed here: it excludes --sim, --procs, --fault, --poll and --aeron")
    if oracle_choice != "rule" and not signals:
        raise click.UsageError("--oracle needs the detectors on (drop --no-signals)")
    oracle_model = oracle_model_or_fail(oracle_choice)
    cpus = parse_pin_cpu(pin_cpu)
    div = parse_divergence_pct(divergence_pct)
    poll_s = _parse_polls(polls, vlist)
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
        agg_options={"stale_mode": stale_mode, "divergence_pct": div, "dedup_window_ms": dedup_window_ms,
                     "uncross": agg_uncross},
        agg_scope=agg_scope,
        consensus_ring=consensus_ring, signals=signals, signals_ring=signals_ring, poll_s=poll_s,
        oracle_model=oracle_model, oracle=oracle_label(oracle_choice, oracle_model),
        from_aeron=from_aeron, ring_meta=bool(aeron_channel),
        pin_cpu=cpus, busy_poll=busy_poll, busy_poll_socket_us=busy_poll_socket_us, keep_warm=keep_warm,
    )
    metrics_server = _start_ops(cfg, log_level, log_format, metrics_port, metrics_host)
    aeron_pub = _start_aeron_pub(aeron_channel, vlist) if aeron_channel else None
    ever_live: set[str] = set()

    from nexus.exceptions import AeronChannelError, AeronError

    try:
        if as_json:
            def on_second(line, rt):
                ever_live.update(v for v, s in line["venues"].items() if s.get("state") == "LIVE")
                click.echo(json.dumps(line))
            summary = asyncio.run(Runtime(cfg, on_second).run())
        else:
            from nexus.view.live import run_view

            summary = asyncio.run(run_view(cfg, depth, ever_live, view_venue))
    except AeronChannelError as e:
        click.echo(f"nexus run: {e}", err=True)
        sys.exit(EXIT_USAGE)
    except AeronError as e:
        click.echo(f"nexus run: {e}", err=True)
        sys.exit(EXIT_UPSTREAM)
    summary_line = {"summary": summary["summary"]}
    if "summary_agg" in summary:
        summary_line["agg"] = summary["summary_agg"]
    if "signals" in summary:
        summary_line["signals"] = summary["signals"]
        summary_line["oracle"] = summary["oracle"]
    if as_json:
        click.echo(json.dumps(summary_line))
    else:
        from rich.console import Console

        from nexus.view.summary import summary_tables

        Console().print(summary_tables(summary_line))
    if metrics_server is not None:
        metrics_server.shutdown()
    if aeron_pub is not None:
        _stop_aeron_pub(aeron_pub)
    ever_live.update(v for v, s in summary["summary"].items() if s.get("state") == "LIVE")
    if not ever_live:
        from nexus.feeds.failures import reasons

        why = reasons({v: (s.get("error"), s.get("attempts", 0)) for v, s in summary["summary"].items()})
        click.echo(f"nexus run: no venue became LIVE: {why}; check the network, --endpoint, or try --sim", err=True)
        sys.exit(EXIT_UPSTREAM)


def _start_aeron_pub(spec: str, venues: list[str]):
    """`--aeron CHANNEL[,STREAM]`: a `nexus aeron pub` process reading this run's venue rings
    (one more ring reader: the feed handlers never wait on it). Its summary goes to stderr."""
    import atexit
    import subprocess

    from nexus.feeds.run.config import venue_ring

    channel, _, stream = spec.rpartition(",") if spec.rpartition(",")[2].isdigit() else (spec, "", "")
    cmd = [sys.executable, "-m", "nexus.cli", "aeron", "pub", "--channel", channel, "--stream", stream or "1001",
           "--wait-rings", "30"]
    for v in venues:
        cmd += ["--ring", venue_ring(v)]
    p = subprocess.Popen(cmd, stdout=sys.stderr)
    atexit.register(_stop_aeron_pub, p)  # also when the run ends by an exception or an exit status
    return p


def _stop_aeron_pub(p) -> None:
    import subprocess

    if p.poll() is None:
        p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def parse_pin_cpu(value: str | None) -> tuple[int, ...]:
    """--pin-cpu N[,M...] -> the CPUs (each one this process may run on), () when not given."""
    if value is None:
        return ()
    from nexus.feeds.run.cpu import parse_cpus

    try:
        return parse_cpus(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--pin-cpu") from None


def parse_divergence_pct(value: str) -> Decimal:
    try:
        div = Decimal(value)
    except InvalidOperation:
        div = None
    if div is None or not div.is_finite() or div <= 0:
        raise click.BadParameter("a positive percentage such as 0.3", param_hint="--divergence-pct")
    return div


def _start_ops(cfg, log_level: str, log_format: str, metrics_port: int | None, metrics_host: str):
    """Logging as asked; with --metrics-port, `cfg.metrics` (updated by the Runtime once a
    second) served there. Returns the metrics server or None."""
    from nexus.ops.logs import setup_logging

    setup_logging(log_level, log_format)
    if metrics_port is None:
        return None
    from nexus.ops.metrics import RunMetrics, new_registry

    registry = new_registry()
    cfg.metrics = RunMetrics(registry)
    return start_metrics(registry, metrics_port, metrics_host)


def _parse_polls(polls, vlist) -> dict[str, float]:
    """`--poll VENUE=SECONDS` (repeatable) -> {venue: seconds}, for venues with a REST book."""
    from nexus.feeds.poll import POLL_INTERVAL_S_MIN
    from nexus.feeds.specs import spec

    out = {}
    for p in polls:
        venue, sep, secs = p.partition("=")
        try:
            s = float(secs)
        except ValueError:
            s = -1.0
        if not sep or not s >= POLL_INTERVAL_S_MIN:
            raise click.BadParameter(f"expected VENUE=SECONDS (at least {POLL_INTERVAL_S_MIN}), got {p!r}",
                                     param_hint="--poll")
        if venue not in vlist:
            raise click.BadParameter(f"{venue!r} is not among the venues run", param_hint="--poll")
        if spec(venue).poll_path is None:
            raise click.BadParameter(f"{venue} has no REST book to poll", param_hint="--poll")
        out[venue] = s
    return out
