"""`nexus replay FILE` and `nexus export FILE --parquet DIR`."""

from __future__ import annotations

import json
import sys

import click

from nexus.cli import EXIT_REJECTED
from nexus.commands._stream import VENUE_CHOICE


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--events", "mode", flag_value="events", default=True, help="Print normalized events (the default).")
@click.option("--realtime", is_flag=True, help="Pace the output by the recorded receive times.")
@click.option("--speed", type=click.FloatRange(0.01, 1000), default=1.0, show_default=True, help="With --realtime: time factor.")
@click.option("--venue", "venues", multiple=True, type=VENUE_CHOICE,
              help="Only these venues (repeatable); each must be in the recording.")
@click.option("--json", "as_json", is_flag=True, help="Accepted for symmetry: the output is always JSON Lines.")
def replay(path, mode, realtime, speed, venues, as_json):
    """Replay a recording as normalized events (the `nexus normalize` format), one JSON
    object per line, at full speed or paced with --realtime. The same file always gives
    byte-identical output. Malformed frames are reported on stderr; a recording cut short (its
    recorder killed) replays every whole chunk and says how much was lost. Exit status 3 if
    either."""
    from nexus.commands.normalize import book_event, trade_events
    from nexus.feeds.replay import Replayer
    from nexus.venues.base import SegKind

    rp = Replayer(path, set(venues) or None, realtime, speed)
    recorded = rp.header.get("venues") or []
    absent = [v for v in venues if v not in recorded]
    if absent:
        rp.close()
        raise click.BadParameter(f"{', '.join(absent)} not in this recording (it holds {', '.join(recorded)})",
                                 param_hint="--venue")
    enc = json.JSONEncoder(separators=(",", ":")).encode
    out = sys.stdout
    try:
        for fr, venue, segs in rp:
            if not segs:
                continue
            for seg in segs:
                if seg.kind is SegKind.BOOK:
                    out.write(enc(book_event(venue, seg, rp.batch)) + "\n")
                elif seg.kind is SegKind.TRADES:
                    for ev in trade_events(venue, seg, rp.batch):
                        out.write(enc(ev) + "\n")
            if realtime:
                out.flush()
    finally:
        out.flush()
        rp.close()
    exit_if_lost(path, rp.stats)


def exit_if_lost(path: str, stats) -> None:
    """Report malformed frames and a recording cut short (a `ReplayStats`) on stderr; either
    makes the exit status 3: some input was rejected, the rest processed."""
    for reason in stats.rejected:
        click.echo(f"nexus: {reason}", err=True)
    if stats.malformed:
        click.echo(f"nexus: {stats.malformed} malformed frame(s) skipped", err=True)
    if stats.damage is not None:
        click.echo(f"nexus: {path}: {stats.damage}", err=True)
    if stats.malformed or stats.damage is not None:
        raise click.exceptions.Exit(EXIT_REJECTED)


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--parquet", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Directory to write books.parquet and trades.parquet into.")
@click.option("--force", is_flag=True, help="Overwrite books.parquet and trades.parquet if they exist.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def export(path, out_dir, force, as_json):
    """Export a recording's book updates and trades as Parquet (pyarrow) for research:
    books.parquet (one row per level change) and trades.parquet (one row per trade).
    Prices and sizes are exact decimals (decimal128, scale 18), never floats. The files are
    readable by their owner only (0600; a directory it creates: 0700); existing ones are
    refused unless --force."""
    from nexus.feeds.export import export_parquet

    summary, stats = export_parquet(path, out_dir, force)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"wrote {summary['book_rows']:,} book rows and {summary['trade_rows']:,} trades to {out_dir}")
    exit_if_lost(path, stats)
