"""Binance order entry end to end against the simulator (real HTTP and WebSocket on
127.0.0.1): market / limit / stop on spot and USD-M, cancel, status, positions, user-data
events reaching the tracker, the limit resting in the public depth stream."""
import asyncio
import json
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from nexus.exec.client import VenueRejected
from nexus.exec.orders import State
from tests.exec.tradesim import VENUES, executor, run, simulator

DOCS = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "venues" / "binance" / "trade_docs.json").read_text())
QTY = {"binance-spot": "0.01000", "binance-perp": "0.010"}


def grid(book_side_price: str, ticks: int, tick: str) -> str:
    return str(Decimal(book_side_price) + ticks * Decimal(tick))


@pytest.mark.parametrize("venue", VENUES)
def test_market_fills_and_stream_reaches_tracker(venue):
    async def body():
        async with simulator() as sim, executor(sim, venue) as ex:
            req = await ex.request("BTCUSDT", "buy", "market", QTY[venue])
            o = await ex.place(req)
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY[venue])
            assert ex.sends == 1
            # the venue's own record agrees with ours
            acct = sim.exchange(venue).accounts["key-A"]
            so = sim.exchange(venue).by_client[("key-A", req.client_id)]
            assert so.status == "FILLED" and so.filled == int(Decimal(QTY[venue]).scaleb(sim.exchange(venue).spec.qty_dec))
            pos = ex.positions.get(venue, "BTCUSDT")
            assert pos.qty == Decimal(QTY[venue])
            assert o.avg_price == so.notional / sim.exchange(venue).base_qty(so.filled)
            venue_pos = {p.symbol: p for p in await ex.adapter.positions()}
            if venue == "binance-perp":
                assert venue_pos["BTCUSDT"].qty == Decimal(QTY[venue])
                assert venue_pos["BTCUSDT"].entry_price == o.avg_price
                assert acct.position > 0
            else:
                assert venue_pos["BTC"].qty == Decimal("10") + Decimal(QTY[venue])
            # sell it back: realised PnL on both sides is the difference of the fills
            back = await ex.place(await ex.request("BTCUSDT", "sell", "market", QTY[venue]))
            assert back.state is State.FILLED and pos.qty == 0
            expect = (back.avg_price - o.avg_price) * Decimal(QTY[venue]) - pos.fees
            assert pos.realised == expect
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_limit_rests_in_public_depth_then_fills_when_crossed(venue):
    async def body():
        async with simulator() as sim, executor(sim, venue) as ex:
            inst = await ex.instrument("BTCUSDT")
            book = sim.book(venue)
            price = grid(book["bids"][-1][0], -20, inst.tick_size)     # below every published bid
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.url(venue) + "/btcusdt@depth@100ms") as ws:
                o = await ex.place(await ex.request("BTCUSDT", "buy", "limit", QTY[venue], price=price))
                assert o.state is State.ACCEPTED
                seen = None
                while seen is None:
                    msg = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    seen = next((q for p, q in msg.get("b", ()) if Decimal(p) == Decimal(price)), None)
                assert Decimal(seen) == Decimal(QTY[venue])     # our order, alone at its level
            opens = await ex.adapter.open_orders("BTCUSDT")
            assert [u.client_id for u in opens] == [o.client_id]
            # another account sells through our price: the limit fills, the stream tells the tracker
            sim.open_account(venue, "key-B", "secret-B", balances={"BTC": "10000", "USDT": "100000000"})
            async with executor(sim, venue, "key-B", "secret-B", open_account=False, stream=False) as other:
                # twice what the book holds down to our price: the simulated flow keeps adding bids
                # between this look and the order's arrival, and the sell must reach ours whole
                ahead = sum(Decimal(q) for p, q in sim.book(venue)["bids"] if Decimal(p) >= Decimal(price))
                big = str(2 * ahead + Decimal(QTY[venue]))
                await other.place(await other.request("BTCUSDT", "sell", "limit", big, price=price))
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)
            assert o.avg_price == Decimal(price)
            dsts = [e.dst for e in o.events]     # the simulated flow may take part of it first
            assert dsts[0] is State.ACCEPTED and dsts[-1] is State.FILLED
            assert set(dsts[1:-1]) <= {State.PARTIALLY_FILLED}
            st = await ex.status("BTCUSDT", o.client_id)
            assert st.state is State.FILLED and st.venue_status == "FILLED"
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_stop_triggers_on_last_price(venue):
    async def body():
        async with simulator() as sim, executor(sim, venue) as ex:
            ask = sim.book(venue)["asks"][0][0]
            o = await ex.place(await ex.request("BTCUSDT", "buy", "stop", QTY[venue], stop_price=ask))
            assert o.state is State.ACCEPTED
            sim.open_account(venue, "key-B", "secret-B", balances={"BTC": "10000", "USDT": "100000000"})
            async with executor(sim, venue, "key-B", "secret-B", open_account=False, stream=False) as other:
                # a buy that walks well through the stop (the touch may have moved since we looked)
                walk = 2 * sum(Decimal(q) for _, q in sim.book(venue)["asks"][:5])
                await other.place(await other.request("BTCUSDT", "buy", "market", str(walk)))
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY[venue])
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_cancel_and_unknown_orders(venue):
    async def body():
        async with simulator() as sim, executor(sim, venue) as ex:
            inst = await ex.instrument("BTCUSDT")
            price = grid(sim.book(venue)["bids"][-1][0], -10, inst.tick_size)
            o = await ex.place(await ex.request("BTCUSDT", "buy", "limit", QTY[venue], price=price))
            u = await ex.cancel("BTCUSDT", o.client_id)
            assert u.state is State.CANCELLED and o.state is State.CANCELLED
            assert await ex.adapter.open_orders("BTCUSDT") == []
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.cancel("BTCUSDT", "nosuchorder")
            assert (e.value.code, e.value.message) == (-2011, "Unknown order sent.")
            assert await ex.adapter.query("BTCUSDT", "nosuchorder") is None     # -2013
    run(body())


def test_perp_leverage_and_reduce_only():
    async def body():
        async with simulator() as sim, executor(sim, "binance-perp") as ex:
            acct = sim.exchange("binance-perp").accounts["key-A"]
            assert await ex.adapter.set_leverage("BTCUSDT", 20) == 20 and acct.leverage == 20
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.set_leverage("BTCUSDT", 126)
            assert e.value.code == -4028 and acct.leverage == 20
            await ex.place(await ex.request("BTCUSDT", "sell", "market", "0.020"))
            o = await ex.place(await ex.request("BTCUSDT", "buy", "market", "0.010", reduce_only=True))
            assert o.state is State.FILLED and ex.positions.get("binance-perp", "BTCUSDT").qty == Decimal("-0.010")
            assert acct.position == -10
    run(body())


def test_documented_bodies_parse_and_sim_bodies_have_the_documented_fields():
    from nexus.exec.keys import Credentials
    from nexus.venues.binance.orders import BinanceAdapter

    spot = BinanceAdapter("binance-spot", Credentials("binance-spot", "k", "s"))
    perp = BinanceAdapter("binance-perp", Credentials("binance-perp", "k", "s"))
    full = spot.update(DOCS["spot_full"])
    assert full.state is State.FILLED and full.filled == Decimal(10) and len(full.fills) == 5
    assert spot.update(DOCS["spot_query"]).state is State.ACCEPTED
    assert spot.update(DOCS["spot_cancel"]).state is State.CANCELLED
    assert spot.stream_update(DOCS["execution_report"]).client_id == "mUvoqJxFIILMdfAW5iGSOW"
    assert spot.stream_update(DOCS["outbound_account_position"]) is None
    assert perp.update(DOCS["perp_new_order"]).state is State.ACCEPTED
    assert perp.stream_update(DOCS["order_trade_update"]).venue_order_id == "8886774"

    async def body():
        async with simulator() as sim, executor(sim, "binance-spot") as ex:
            r = await ex.adapter._call("POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01"
                                       "&newClientOrderId=docA&newOrderRespType=FULL")
            assert set(r) == set(DOCS["spot_full"]), set(r) ^ set(DOCS["spot_full"])
            r = await ex.adapter._call("POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01"
                                       "&newClientOrderId=docB&newOrderRespType=ACK")
            assert set(r) == set(DOCS["spot_ack"])
            r = await ex.adapter._call("GET", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=docA")
            assert set(r) == set(DOCS["spot_query"])
            r = await ex.adapter._call("GET", "/sapi/v1/account/apiRestrictions")
            assert set(r) == set(DOCS["spot_api_restrictions"])
        async with simulator() as sim, executor(sim, "binance-perp") as ex:
            r = await ex.adapter._call("POST", "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010"
                                       "&newClientOrderId=docC")
            assert set(DOCS["perp_new_order"]) - set(r) <= {"activatePrice", "priceRate"}   # trailing stops only
            r = await ex.adapter._call("POST", "/fapi/v1/leverage", "symbol=BTCUSDT&leverage=21")
            assert r == DOCS["perp_leverage"]
    run(body())


def test_user_data_events_have_the_documented_fields():
    async def body():
        async with simulator() as sim:
            for venue, kinds in (("binance-spot", ("execution_report", "outbound_account_position")),
                                 ("binance-perp", ("order_trade_update", "account_update"))):
                async with executor(sim, venue, stream=False) as ex:
                    key = (await ex.adapter._call("POST", ex.adapter.paths.listen_key, signed=False))["listenKey"]
                    async with aiohttp.ClientSession() as s, s.ws_connect(f"{sim.url(venue)}/{key}") as ws:
                        await ex.place(await ex.request("BTCUSDT", "buy", "market", QTY[venue]))
                        got = {}
                        while len(got) < 2:
                            m = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                            got.setdefault(m["e"], m)
                    for k in kinds:
                        doc = DOCS[k]
                        ours = got[doc["e"]]
                        assert set(ours) == set(doc)
                        if "o" in doc and isinstance(doc["o"], dict):
                            assert set(doc["o"]) - set(ours["o"]) <= {"AP", "cr"}     # trailing stops only
    run(body())


def test_resting_limit_entry_gets_its_tp_sl_when_it_fills():
    """A limit entry with TP/SL that rests: nothing closes it yet; when another account trades
    through it, the session places the take-profit (limit) and stop-loss (stop), reduce-only,
    at the tick distances from the fill price."""
    venue = "binance-perp"

    async def body():
        async with simulator() as sim, executor(sim, venue) as ex:
            inst = await ex.instrument("BTCUSDT")
            price = grid(sim.book(venue)["bids"][-1][0], -20, inst.tick_size)   # below every bid
            o = await ex.place(await ex.request("BTCUSDT", "buy", "limit", QTY[venue], price=price,
                                                tp_ticks=30, sl_ticks=10))
            assert o.state is State.ACCEPTED and ex.brackets_pending(o.client_id)
            assert list(ex.tracker.orders) == [o.client_id]          # no TP/SL before the fill
            sim.open_account(venue, "key-B", "secret-B", balances={"BTC": "10000", "USDT": "100000000"})
            async with executor(sim, venue, "key-B", "secret-B", open_account=False, stream=False) as other:
                ahead = sum(Decimal(q) for p, q in sim.book(venue)["bids"] if Decimal(p) >= Decimal(price))
                await other.place(await other.request("BTCUSDT", "sell", "limit", str(2 * ahead + Decimal(QTY[venue])),
                                                      price=price))
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)
            for _ in range(50):
                if len(ex.tracker.orders) == 3:
                    break
                await asyncio.sleep(0.1)
            await ex.wait_brackets()
            assert not ex.brackets_pending(o.client_id) and ex.bracket_errors == []
            tp, sl = [x for x in ex.tracker.orders.values() if x is not o]
            tick = Decimal(inst.tick_size)
            assert (tp.request.type.value, tp.request.side.value, tp.request.price) == ("limit", "sell", Decimal(price) + 30 * tick)
            assert (sl.request.type.value, sl.request.side.value, sl.request.stop_price) == ("stop", "sell", Decimal(price) - 10 * tick)
            assert tp.request.reduce_only and sl.request.reduce_only
            assert tp.request.qty == sl.request.qty == Decimal(QTY[venue])
            opens = {u.client_id for u in await ex.adapter.open_orders("BTCUSDT")}
            assert opens == {tp.client_id, sl.client_id}
    run(body())


def test_resting_entry_cancelled_unfilled_needs_no_tp_sl():
    venue = "binance-perp"

    async def body():
        async with simulator() as sim, executor(sim, venue) as ex:
            inst = await ex.instrument("BTCUSDT")
            price = grid(sim.book(venue)["bids"][-1][0], -20, inst.tick_size)
            o = await ex.place(await ex.request("BTCUSDT", "buy", "limit", QTY[venue], price=price, tp_ticks=5))
            assert ex.brackets_pending(o.client_id)
            await ex.cancel("BTCUSDT", o.client_id)
            assert o.state is State.CANCELLED and not ex.brackets_pending(o.client_id)
            assert list(ex.tracker.orders) == [o.client_id]
    run(body())
