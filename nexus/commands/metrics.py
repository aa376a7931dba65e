"""`nexus metrics replay`: order-flow metrics (OFI per level, OBI, CVD, VPIN) per input line.
Definitions: engine/ofi.pxd, engine/obi.pxd, engine/vpin.pxd; the replay glue:
nexus/flow/replay.py."""

from __future__ import annotations

import json
import sys

import click

from nexus.flow.params import LEVELS_MAX, MS


@click.group()
def metrics() -> None:
    """Order-flow metrics: OFI, OBI, CVD, VPIN."""


def source_options(f):
    f = click.option("--venue", default=None, help="The venue whose raw messages are on stdin (as for `book replay`).")(f)
    f = click.option("--symbol", default=None, help="Only this symbol (and the symbol of Binance REST snapshot bodies).")(f)
    f = click.option("--instruments", type=click.Path(exists=True, dir_okay=False), default=None,
                     help="A file with the venue's instrument metadata body, loaded first.")(f)
    f = click.option("--records", "records", is_flag=True,
                     help="stdin is binary 64-byte records instead of venue messages; `i` is then the message ordinal.")(f)
    f = click.option("--price-exponent", type=click.IntRange(0, 18), default=0, show_default=True,
                     help="With --records: the price decimal exponent.")(f)
    f = click.option("--qty-exponent", type=click.IntRange(0, 18), default=0, show_default=True,
                     help="With --records: the quantity decimal exponent.")(f)
    f = click.option("--tick", type=click.IntRange(1), default=1, show_default=True,
                     help="With --records: price units per tick.")(f)
    return f


def open_source(venue, symbol, instruments, records, price_exponent, qty_exponent, tick):
    from nexus.commands._stream import usage_errors
    from nexus.flow.replay import RecordSource, VenueSource

    if records:
        if venue:
            raise click.UsageError("--records and --venue exclude each other")
        return RecordSource(sys.stdin.buffer, price_exponent, qty_exponent, tick)
    if not venue:
        raise click.UsageError("give --venue V (raw venue messages on stdin) or --records")
    return usage_errors(lambda: VenueSource(venue, symbol, instruments))


def tag_symbol(line: dict, unit, source, explicit_symbol) -> dict:
    """Lines carry exactly the contract keys; only when no --symbol was given and the input
    holds more than one symbol does each line also say which symbol it is about."""
    if explicit_symbol is None and len(source.symbols_seen) > 1:
        line["symbol"] = unit.key
    return line


def finish(source) -> None:
    for n in getattr(source, "notes", []):
        click.echo(f"nexus: note: {n}", err=True)
    if source.rejected:
        raise click.exceptions.Exit(3)


@metrics.command("replay")
@source_options
@click.option("--levels", type=click.IntRange(1, LEVELS_MAX), default=5, show_default=True,
              help="N: OFI on levels 1..N and OBI over the top N levels.")
@click.option("--vpin-bucket-volume", "vpin_q", default=None,
              help="VPIN bucket volume Q in the venue's quantity units (a decimal); VPIN is off without it.")
@click.option("--vpin-window", type=click.IntRange(1, 1 << 16), default=50, show_default=True,
              help="VPIN over the last n buckets.")
@click.option("--vpin-sigma-bars", type=click.IntRange(1, 1 << 16), default=50, show_default=True,
              help="Bars in the rolling sd of price changes (bulk volume classification).")
@click.option("--vpin-bar-ms", type=click.IntRange(0), default=0, show_default=True,
              help="Time bars for VPIN in ms; 0: each trade is a bar.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines (the contract); otherwise a readable line each.")
def replay(venue, symbol, instruments, records, price_exponent, qty_exponent, tick, levels, vpin_q,
           vpin_window, vpin_sigma_bars, vpin_bar_ms, as_json) -> None:
    """Raw messages on stdin (as for `book replay`) through the venue's sync rules and the flow
    engine. For every input line that changed the book or carried trades, one line

    \b
    {"i": <0-based input line>, "best_bid": "…", "best_ask": "…", "ofi": "…",
     "ofi_levels": ["…", …], "obi": "…", "cvd": "…"}

    and {"i": …, "vpin": "…"} each time a VPIN bucket completes (once `--vpin-window`
    buckets exist). Prices and quantities are exact decimal strings in the venue's units;
    OBI and VPIN are exact ratios rounded half-to-even to 6 decimal places; a missing side
    or an empty book gives null. OFI is per message (Cont, Kukanov & Stoikov 2014), 0 on the
    first book and across a resync.
    """
    from nexus import _native
    from nexus.exceptions import DecimalError
    from nexus.flow.params import FlowParams
    from nexus.flow.replay import Replay
    from nexus.flow.runner import metric_json, vpin_json

    source = open_source(venue, symbol, instruments, records, price_exponent, qty_exponent, tick)

    def make_params(unit):
        q = 0
        if vpin_q is not None:
            try:
                q = _native.parse_scaled(vpin_q, unit.qty_exponent)
            except (DecimalError, ValueError) as e:
                raise click.UsageError(f"--vpin-bucket-volume {vpin_q!r}: {e}") from None
            if q <= 0:
                raise click.UsageError("--vpin-bucket-volume must be positive")
        try:
            return FlowParams(ofi_levels=levels, obi_levels=levels, signals=False, vpin_bucket_volume=q,
                              vpin_window=vpin_window, vpin_sigma_bars=vpin_sigma_bars, vpin_bar_ns=vpin_bar_ms * MS,
                              tick=unit.tick)
        except Exception as e:
            raise click.UsageError(str(e)) from None

    if records:  # the exponents are known: refuse a bad bucket volume before reading anything
        from nexus.flow.replay import Unit
        make_params(Unit(0, "", price_exponent, qty_exponent, tick, None))
    rp = Replay(make_params)
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    write = sys.stdout.write
    for unit in source:
        pe, qe = unit.price_exponent, unit.qty_exponent
        for out in rp.feed(unit):
            for row in out.metrics:
                line = tag_symbol(metric_json(row, unit.i, pe, qe), unit, source, symbol)
                write(dumps(line) + "\n" if as_json else _human(line) + "\n")
            for row in out.vpin:
                line = tag_symbol(vpin_json(row, unit.i), unit, source, symbol)
                write(dumps(line) + "\n" if as_json else _human(line) + "\n")
    sys.stdout.flush()
    finish(source)


def _human(line: dict) -> str:
    if "vpin" in line:
        return f"{line['i']:>8}  VPIN {line['vpin']}"
    sym = f" {line['symbol']}" if "symbol" in line else ""
    return (f"{line['i']:>8}{sym}  bid {line['best_bid']}  ask {line['best_ask']}  ofi {line['ofi']} "
            f"[{' '.join(line['ofi_levels'])}]  obi {line['obi']}  cvd {line['cvd']}")
