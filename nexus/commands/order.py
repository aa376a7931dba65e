"""`nexus order place|cancel|ls|status`: order entry on one venue (see nexus/commands/_trade.py
for the connection options, keys and exit statuses)."""

from __future__ import annotations

import asyncio
import json

import click

from nexus.commands._trade import order_obj, run, session, update_obj, venue_options


@click.group()
def order() -> None:
    """Place, cancel, list and query orders. Keys come from the environment
    (NEXUS_<VENUE>_API_KEY / _API_SECRET / _API_PASSPHRASE, e.g. NEXUS_BINANCE_API_KEY,
    NEXUS_BYBIT_API_KEY, NEXUS_OKX_API_PASSPHRASE) or --keys-stdin, never arguments.
    Exit: 0 ok, 2 bad input (nothing sent), 3 rejected by the venue, 4 network failure."""


@order.command("place")
@click.option("--venue", required=True, help="binance-spot, binance-perp, bybit-perp or okx-swap (others: see the execution matrix).")
@click.option("--symbol", required=True, help="The venue's symbol, e.g. BTCUSDT.")
@click.option("--side", required=True, type=click.Choice(["buy", "sell"]))
@click.option("--type", "type_", required=True, type=click.Choice(["market", "limit", "stop"]))
@click.option("--qty", required=True, help="Quantity, a decimal on the symbol's lot grid (okx-swap: contracts).")
@click.option("--price", default=None, help="Limit price (limit orders), on the tick grid.")
@click.option("--stop-price", default=None, help="Trigger price (stop orders), on the tick grid.")
@click.option("--reduce-only", is_flag=True, help="Only reduce the position (perpetuals).")
@click.option("--leverage", type=int, default=None, help="Set the symbol's leverage first (perpetuals).")
@click.option("--tp-ticks", type=int, default=None, help="Take-profit distance in ticks, placed once the entry fills.")
@click.option("--sl-ticks", type=int, default=None, help="Stop-loss distance in ticks, placed once the entry fills.")
@click.option("--wait-fill", type=click.FloatRange(0, 86400), default=0, show_default=True, metavar="SECONDS",
              help="With --tp-ticks/--sl-ticks on an entry that rests: keep the session open up to this long "
                   "and place the TP/SL when it fills (they are placed only while this command runs).")
@click.option("--client-id", default=None, help="Client order id (default: a fresh unique one).")
@click.option("--agg", is_flag=True, help="The caller is in AGG mode (orders are refused there, as the seed says).")
@venue_options
def place(venue, symbol, side, type_, qty, price, stop_price, reduce_only, leverage, tp_ticks, sl_ticks, wait_fill,
          client_id, agg, testnet, use_sim, rest_url, ws_url, keys_stdin, as_json):
    """Place one order; prints its state as the venue answered it."""
    if agg:
        from nexus.agg.aggregator import refuse_order_in_agg
        from nexus.commands._trade import fail
        from nexus.exceptions import NexusError
        try:
            refuse_order_in_agg()
        except NexusError as e:
            fail(2, str(e), as_json)

    async def body() -> int:
        async with session(venue, testnet=testnet, use_sim=use_sim, rest_url=rest_url, ws_url=ws_url,
                           keys_stdin=keys_stdin, sim_symbol=symbol) as ex:
            req = await ex.request(symbol, side, type_, qty, price=price, stop_price=stop_price,
                                   reduce_only=reduce_only, leverage=leverage, tp_ticks=tp_ticks, sl_ticks=sl_ticks,
                                   client_id=client_id)
            o = await ex.place(req)
            if ex.brackets_pending(o.client_id) and wait_fill > 0:
                try:
                    await ex.wait_for(o.client_id, lambda x: x.state.terminal, wait_fill)
                except asyncio.TimeoutError:
                    pass
                await ex.wait_brackets()
            pending = ex.brackets_pending(o.client_id)
            others = [order_obj(x) for x in ex.tracker.orders.values() if x is not o]
            if as_json:
                click.echo(json.dumps({**order_obj(o), "brackets": others, "brackets_pending": pending,
                                       "bracket_errors": ex.bracket_errors}))
            else:
                for x in [order_obj(o), *others]:
                    click.echo(_line(x))
            if pending:
                click.echo(f"nexus: the entry rests ({o.state.value}); its TP/SL were not placed: they are placed "
                           "when it fills while a session runs (--wait-fill SECONDS keeps this one open)", err=True)
            for e in ex.bracket_errors:
                click.echo(f"nexus: {e}", err=True)
        return 3 if ex.bracket_errors else 0

    run(body, as_json)


def _line(x: dict) -> str:
    px = f" @ {x['price']}" if x.get("price") else (f" stop {x['stop_price']}" if x.get("stop_price") else "")
    avg = f" avg {x['avg_price']}" if x.get("avg_price") else ""
    return (f"{x['venue']} {x['symbol']} {x['side']} {x['type']} {x['qty']}{px}: {x['state']}, filled "
            f"{x['filled']}{avg} (client id {x['client_id']}, order id {x['venue_order_id']})")


def _one(action: str):
    @click.option("--venue", required=True)
    @click.option("--symbol", required=True)
    @click.option("--client-id", required=True, help="The order's client order id.")
    @venue_options
    def cmd(venue, symbol, client_id, testnet, use_sim, rest_url, ws_url, keys_stdin, as_json):
        async def body() -> int:
            async with session(venue, testnet=testnet, use_sim=use_sim, rest_url=rest_url, ws_url=ws_url,
                               keys_stdin=keys_stdin) as ex:
                if action == "cancel":
                    u = await ex.adapter.cancel(symbol, client_id)
                else:
                    u = await ex.adapter.query(symbol, client_id)
                    if u is None:
                        from nexus.exec.client import VenueRejected
                        raise VenueRejected(venue, *ex.adapter.UNKNOWN_ORDER)
                obj = update_obj(u)
                click.echo(json.dumps(obj) if as_json else
                           f"{obj['client_id']}: {obj['state']} ({obj['venue_status']}), filled {obj['filled']}")
            return 0
        run(body, as_json)
    return cmd


order.command("cancel", help="Cancel an order by its client order id.")(_one("cancel"))
order.command("status", help="An order's state at the venue, by its client order id.")(_one("status"))


@order.command("ls")
@click.option("--venue", required=True)
@click.option("--symbol", default=None)
@venue_options
def ls(venue, symbol, testnet, use_sim, rest_url, ws_url, keys_stdin, as_json):
    """Open orders at the venue."""
    async def body() -> int:
        async with session(venue, testnet=testnet, use_sim=use_sim, rest_url=rest_url, ws_url=ws_url,
                           keys_stdin=keys_stdin) as ex:
            rows = [update_obj(u) for u in await ex.adapter.open_orders(symbol)]
            if as_json:
                click.echo(json.dumps(rows))
            else:
                for r in rows:
                    click.echo(f"{r['symbol']} {r['client_id']}: {r['state']}, filled {r['filled']}")
        return 0
    run(body, as_json)
