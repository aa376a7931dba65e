"""`nexus instruments`: a venue's instrument listing as Nexus reads it (tick, lot, contract
value, kind), from the venue (or the simulator), or from a saved listing body. Deribit's
options chain: `nexus instruments --venue deribit --kind option`."""

from __future__ import annotations

import json
import urllib.request

import click

from nexus.cli import EXIT_UPSTREAM


def _deribit_path(currency: str, kind: str) -> str:
    return f"/api/v2/public/get_instruments?currency={currency}&kind={kind}"


@click.command()
@click.option("--venue", required=True, help="Venue id (see `nexus venues`).")
@click.option("--symbol", default="BTCUSDT", show_default=True,
              help="Canonical symbol: the listing asked for is the one this symbol's feed reads.")
@click.option("--kind", type=click.Choice(["future", "option", "spot", "future_combo", "option_combo"]),
              default=None, help="Deribit: the kind of instruments listed (option: the options chain).")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A saved listing body (the venue's own instrument response) instead of a request.")
@click.option("--rest-url", default=None, metavar="URL",
              help="The venue's REST base (default: the real venue; a simulator's, e.g. "
                   "http://127.0.0.1:8790/deribit).")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of instruments.")
def instruments(venue, symbol, kind, path, rest_url, as_json):
    """List a venue's instruments as Nexus reads them from the venue's own listing: symbol,
    tick size, lot size, contract value and kind (linear / inverse / quanto). Exit 4 when the
    listing cannot be fetched."""
    from nexus.venues import registry

    spec = registry.feed_spec(venue)
    if kind is not None and venue != "deribit":
        raise click.BadParameter("only Deribit lists instruments by kind", param_hint="--kind")
    if path is not None:
        body = open(path, "rb").read()
        where = path
    else:
        if spec.instruments_path is None:
            raise click.UsageError(f"{venue} has no REST instrument listing (its feed gets instruments from "
                                   "its token flow); use --file with a saved listing")
        vsym = spec.symbol_of(symbol)
        rel = _deribit_path(vsym.split("-")[0], kind) if kind else spec.instruments_path(vsym)
        where = (rest_url or spec.rest_url or "").rstrip("/") + rel
        post = spec.instruments_body(vsym) if spec.instruments_body else None
        req = urllib.request.Request(where, data=post, method="POST" if post is not None else "GET",
                                     headers={"Content-Type": "application/json"} if post is not None else {})
        try:
            with urllib.request.urlopen(req, timeout=15) as r:  # noqa: S310 (the venue's URL)
                body = r.read()
        except Exception as e:
            click.echo(f"nexus: the instrument listing {where} could not be fetched: {e}", err=True)
            raise SystemExit(EXIT_UPSTREAM) from None
    dec = registry.load(venue).Decoder()
    n = dec.load_metadata(body)
    rows = [{"symbol": i.symbol, "tick_size": i.tick_size, "lot_size": i.lot_size,
             "contract_value": i.contract_value, "kind": i.contract_kind, "base": i.base, "quote": i.quote}
            for i in sorted(dec.registry, key=lambda i: i.symbol)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    click.echo(f"{venue}: {n} instruments from {where}")
    w = max([len(r["symbol"]) for r in rows] + [6])
    for r in rows:
        click.echo(f"{r['symbol']:<{w}}  tick {r['tick_size']:<12} lot {r['lot_size']:<12} "
                   f"cv {r['contract_value']:<10} {r['kind']}")
