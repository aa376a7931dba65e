"""`nexus record`: raw venue frames (and Binance REST snapshots) to a recording file."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import click

from nexus.cli import EXIT_UPSTREAM
from nexus.config import config_option


def venues_option(f):
    return click.option(
        "--venues", default="binance-perp,binance-spot,bybit-perp,okx-swap,hyperliquid", show_default=True,
        help="Comma-separated venue ids, or 'all' (every venue Nexus reads).",
    )(f)


def parse_venues(value: str, symbol: str | None = None) -> list[str]:
    """`symbol` given: with 'all', a venue that does not list it (Binance RWA's whitelist)
    is left out with a note on stderr, and the rest run."""
    from nexus.feeds.specs import spec

    venues = [v.strip() for v in value.split(",") if v.strip()]
    if venues == ["all"]:
        from nexus.exceptions import ConfigError
        from nexus.venues import registry

        out = []
        for v in registry.names():
            try:
                if symbol is not None:
                    spec(v).symbol_of(symbol)
                out.append(v)
            except ConfigError as e:
                click.echo(f"nexus: note: {v} left out: {e}", err=True)
        return out
    if not venues:
        raise click.BadParameter("name at least one venue", param_hint="--venues")
    for v in venues:
        try:
            spec(v)
        except Exception as e:
            raise click.BadParameter(str(e), param_hint="--venues") from None
    if len(set(venues)) != len(venues):
        raise click.BadParameter("a venue is named twice", param_hint="--venues")
    return venues


@click.command()
@venues_option
@click.option("--symbol", default="BTCUSDT", show_default=True, help="Canonical symbol (mapped per venue).")
@click.option("--duration", type=click.FloatRange(0.1, 7 * 86400), required=True, help="Seconds to record.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, writable=True), required=True, help="Recording file to write.")
@click.option("--sim", is_flag=True, help="Record from the built-in venue simulator (started in-process).")
@click.option("--seed", type=int, default=1, show_default=True, help="Simulator seed (with --sim).")
@click.option("--fault", "faults", multiple=True, help="Simulator fault KIND:VENUE:AT_S (with --sim; repeatable).")
@click.option("--endpoint", "endpoints", multiple=True, help="VENUE=ws://... to override a venue's WebSocket URL.")
@click.option("--rest-endpoint", "rest_endpoints", multiple=True, help="VENUE=http://... to override a venue's REST base URL.")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Progress and summary as JSON lines.")
@config_option
def record(venues, symbol, duration, output, sim, seed, faults, endpoints, rest_endpoints, force, as_json):
    """Record raw frames with their local receive times (compressed, chunked, bounded memory).
    The file is readable by its owner only (0600; a directory it creates: 0700) and an
    existing one is refused unless --force.

    Replay with `nexus replay FILE --events`. Exit 4 if no venue could be reached.
    """
    from nexus.feeds.recorder import FeedRecorder
    from nexus.feeds.recording import RecordingWriter
    from nexus.feeds.specs import parse_endpoints, spec

    vlist = parse_venues(venues, symbol)
    ws_urls, rest_urls = parse_endpoints(endpoints), parse_endpoints(rest_endpoints)
    if faults and not sim:
        raise click.UsageError("--fault needs --sim")
    for v in vlist:
        spec(v).symbol_of(symbol)  # an unknown symbol fails here, before the output file exists

    header = {"venues": vlist, "symbol": symbol, "sim": sim, "seed": seed if sim else None, "faults": list(faults)}

    async def main() -> dict:
        simulator = None
        if sim:
            from nexus.sim.simulator import Simulator

            simulator = await Simulator(seed=seed, venues=vlist, symbol=symbol, faults=list(faults)).start()
            for v in vlist:
                ws_urls.setdefault(v, simulator.url(v))
                rest_urls.setdefault(v, simulator.rest_url(v))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: the terminal was closed
            loop.add_signal_handler(s, stop.set)
        try:
            with RecordingWriter(output, header, force=force) as w:  # an unwritable -o: OutputError, exit 2
                rec = FeedRecorder(w, {v: spec(v) for v in vlist}, symbol, ws_urls, rest_urls)

                def tick(r):
                    s = r.summary()
                    line = {"frames": s["frames"], "bytes_in": s["bytes_in"], "bytes_out": s["bytes_out"]}
                    if as_json:
                        click.echo(json.dumps(line))
                    else:
                        click.echo(f"\r{s['frames']:,} frames  {s['bytes_in'] / 2**20:.1f} MiB in  "
                                   f"{s['bytes_out'] / 2**20:.1f} MiB written", nl=False, err=True)

                await rec.run(duration, stop, tick)
            return rec.summary()  # after the writer closed: its byte counts are final
        finally:
            if simulator is not None:
                await simulator.stop()

    summary = asyncio.run(main())
    if not as_json:
        click.echo("", err=True)
    click.echo(json.dumps({"summary": summary}) if as_json else
               f"recorded {summary['frames']:,} frames to {output} ({summary['bytes_out'] / 2**20:.2f} MiB)")
    if not any(v["msgs"] for v in summary["venues"].values()):
        from nexus.feeds.failures import reasons

        why = reasons({v: (s["last_error"], s["attempts"]) for v, s in summary["venues"].items()})
        click.echo(f"nexus record: no venue sent anything: {why}; check the network or --endpoint", err=True)
        sys.exit(EXIT_UPSTREAM)
