"""`nexus positions`: what the venue holds for the account (perpetuals: position, entry,
unrealised PnL, leverage; spot: balances), exact decimals as the venue reports them."""

from __future__ import annotations

import json

import click

from nexus.commands._trade import run_session, venue_options


@click.command("positions")
@click.option("--venue", required=True, help="binance-spot, binance-perp, bybit-perp or okx-swap.")
@venue_options
def positions(venue, testnet, use_sim, rest_url, ws_url, keys_stdin, as_json):
    """Positions (perpetuals) or balances (spot) at the venue."""
    async def show(ex) -> None:
        rows = [{"venue": p.venue, "symbol": p.symbol, "qty": str(p.qty),
                 "entry_price": None if p.entry_price is None else str(p.entry_price),
                 "unrealised_pnl": None if p.unrealised is None else str(p.unrealised),
                 "leverage": p.leverage, **p.extra} for p in await ex.adapter.positions()]
        if as_json:
            click.echo(json.dumps(rows))
        for r in [] if as_json else rows:
            tail = (f" entry {r['entry_price']} upnl {r['unrealised_pnl']} x{r['leverage']}"
                    if r["entry_price"] is not None else "")
            click.echo(f"{r['venue']} {r['symbol']} {r['qty']}{tail}")

    run_session(venue, show, testnet=testnet, use_sim=use_sim, rest_url=rest_url, ws_url=ws_url,
                keys_stdin=keys_stdin, as_json=as_json)
