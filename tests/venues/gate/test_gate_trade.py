"""Gate spot order entry end to end against the simulator (real HTTP and WebSocket on
127.0.0.1): market / limit orders, the private spot.orders / spot.usertrades channels reaching
the tracker, a limit resting in the public depth stream, cancel and status by client id,
retries that never double an order, each bad input refused, and Gate's own error labels for
bad signatures, expired timestamps, unknown pairs, balances and precision."""
import asyncio
import hashlib
import hmac
import json
import time
from decimal import Decimal
from pathlib import Path

import aiohttp
import httpx
import pytest

from nexus.exec.client import VenueRejected
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, OrderRequest, OrderType, Side, State
from nexus.instruments import Instrument
from nexus.venues.gate.orders import GateAdapter
from tests.exec.tradesim import assert_clock_drift_refused, executor, place_through_a_timeout, run, send_raw, simulator

VENUE, SYMBOL, PAIR, QTY = "gate", "BTCUSDT", "BTC_USDT", "0.0100"
FUT, FUT_SYMBOL = "BTCUSDT:USDT", "BTC_USDT:USDT"      # the USDT-settled contract, sizes in contracts
VENUES = (VENUE,)
DOCS = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "venues" / "gate" / "trade_docs.json").read_text())


def _orders(sim):
    return sim.exchange(VENUE).orders


def _headers(key, secret, method, path, query, body, ts):
    digest = hashlib.sha512(body.encode()).hexdigest()
    sig = hmac.new(secret.encode(), f"{method}\n{path}\n{query}\n{digest}\n{ts}".encode(), hashlib.sha512).hexdigest()
    return {"KEY": key, "Timestamp": str(ts), "SIGN": sig, "Content-Type": "application/json"}


def test_market_buy_and_sell_fill_and_the_stream_reaches_the_tracker():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            req = await ex.request(SYMBOL, "buy", "market", QTY)
            o = await ex.place(req)
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY) and ex.sends == 1
            so = sim.exchange(VENUE).by_client[("key-A", req.client_id)]
            assert so.status == "FILLED" and so.type == "LIMIT"        # the IOC limit at its price cap
            assert o.avg_price == so.notional / sim.exchange(VENUE).base_qty(so.filled)
            pos = ex.positions.get(VENUE, PAIR)
            assert pos.qty == Decimal(QTY) and abs(pos.fees - so.fees) < Decimal("1e-8")   # Gate's fee: 8 places
            held = {p.symbol: p.qty for p in await ex.adapter.positions()}
            assert held["BTC"] == Decimal("10") + Decimal(QTY)
            back = await ex.place(await ex.request(SYMBOL, "sell", "market", QTY))
            assert back.state is State.FILLED and pos.qty == 0
            assert pos.realised == (back.avg_price - o.avg_price) * Decimal(QTY) - pos.fees
            st = await ex.status(SYMBOL, back.client_id)
            assert st.state is State.FILLED and st.venue_status == "filled"
    run(body())


def test_limit_rests_in_public_depth_then_fills_when_crossed():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYMBOL)
            price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 20 * Decimal(inst.tick_size))
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.url(VENUE)) as ws:
                await ws.send_str(json.dumps({"time": int(time.time()), "channel": "spot.order_book_update",
                                              "event": "subscribe", "payload": [PAIR, "100ms"]}))
                o = await ex.place(await ex.request(SYMBOL, "buy", "limit", QTY, price=price))
                assert o.state is State.ACCEPTED
                seen = None
                while seen is None:
                    msg = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    if msg.get("channel") == "spot.order_book_update" and msg.get("event") == "update":
                        seen = next((q for p, q in msg["result"]["b"] if Decimal(p) == Decimal(price)), None)
                assert Decimal(seen) == Decimal(QTY)
            assert [u.client_id for u in await ex.adapter.open_orders(SYMBOL)] == [o.client_id]
            assert [u.client_id for u in await ex.adapter.open_orders()] == [o.client_id]
            sim.open_account(VENUE, "key-B", "secret-B", balances={"BTC": "10000", "USDT": "100000000"})
            async with executor(sim, VENUE, "key-B", "secret-B", open_account=False, stream=False) as other:
                ahead = sum(Decimal(q) for p, q in sim.book(VENUE)["bids"] if Decimal(p) >= Decimal(price))
                big = str(2 * ahead + Decimal(QTY))
                await other.place(await other.request(SYMBOL, "sell", "limit", big, price=price))
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)
            assert o.avg_price == Decimal(price)
            assert ex.positions.get(VENUE, PAIR).fees > 0          # from the spot.usertrades pushes
            st = await ex.status(SYMBOL, o.client_id)
            assert st.state is State.FILLED and st.venue_status == "filled"
    run(body())


def test_cancel_status_by_text_and_unknown_orders():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYMBOL)
            price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 10 * Decimal(inst.tick_size))
            o = await ex.place(await ex.request(SYMBOL, "buy", "limit", QTY, price=price))
            ex.adapter.order_ids.clear()          # a later session: only the client id is known
            st = await ex.adapter.query(SYMBOL, o.client_id)            # by text, while open
            assert st.state is State.ACCEPTED and st.venue_order_id
            ex.adapter.order_ids.clear()
            u = await ex.cancel(SYMBOL, o.client_id)
            assert u.state is State.CANCELLED and o.state is State.CANCELLED
            ex.adapter.order_ids.clear()          # finished: Gate no longer finds it by text...
            with pytest.raises(VenueRejected) as e:
                await ex.adapter._call("GET", f"/spot/orders/t-{o.client_id}", f"currency_pair={PAIR}")
            assert (e.value.code, e.value.status) == ("ORDER_NOT_FOUND", 404)
            st = await ex.adapter.query(SYMBOL, o.client_id)            # ...its finished orders do
            assert st.state is State.CANCELLED and st.venue_status == "cancelled"
            assert await ex.adapter.open_orders(SYMBOL) == []
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.cancel(SYMBOL, "nosuchorder")
            assert e.value.code == "ORDER_NOT_FOUND"
            assert await ex.adapter.query(SYMBOL, "nosuchorder") is None
            with pytest.raises(VenueRejected) as e:       # cancelling it again: Gate's label
                await ex.adapter._call("DELETE", f"/spot/orders/{u.venue_order_id}", f"currency_pair={PAIR}")
            assert e.value.code == "ORDER_CANCELLED"
    run(body())


@pytest.mark.parametrize("symbol, qty", [(SYMBOL, QTY), (FUT, "30")])
def test_timeout_queries_by_client_id_and_never_doubles(symbol, qty):
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, timeout_s=0.5) as ex:
            exchange = _futures(sim) if symbol == FUT else sim.exchange(VENUE)
            req = await place_through_a_timeout(ex, exchange, symbol, "sell", qty)
            assert ex.positions.get(VENUE, req.symbol).qty == -Decimal(qty)
    run(body())


def test_bad_input_is_refused_before_sending():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            with pytest.raises(OrderError, match="multiple of 0.1"):
                await ex.request(SYMBOL, "buy", "limit", QTY, price="65000.05")
            with pytest.raises(OrderError, match="multiple of 0.0001"):
                await ex.request(SYMBOL, "buy", "limit", "0.00001", price="65000.1")
            with pytest.raises(OrderError, match="unknown symbol"):
                await ex.request("DOGEUSDT", "buy", "market", "1")
            with pytest.raises(OrderError, match="perpetuals only"):
                await ex.request(SYMBOL, "buy", "market", QTY, leverage=5)
            with pytest.raises(OrderError, match="reduce-only"):
                await ex.place(await ex.request(SYMBOL, "sell", "market", QTY, reduce_only=True))
            with pytest.raises(OrderError, match="28 characters"):
                await ex.place(await ex.request(SYMBOL, "buy", "market", QTY, client_id="a" * 29))
            assert ex.tracker.orders == {}           # refused before being tracked
            with pytest.raises(OrderError, match="multiple of 1"):     # futures sizes are whole contracts
                await ex.request(FUT, "buy", "market", "1.5")
            with pytest.raises(OrderError, match="above gate's maximum 125"):
                await ex.adapter.set_leverage(FUT, 126)
            with pytest.raises(OrderError, match="reduce-only .* would increase"):
                await ex.place(await ex.request(FUT, "sell", "market", "10", reduce_only=True))
            with pytest.raises(OrderError, match="reduce-only"):       # a spot stop cannot be reduce-only
                await ex.place(await ex.request(SYMBOL, "sell", "stop", QTY, stop_price="60000.0", reduce_only=True))
            with pytest.raises(OrderError, match="no spot testnet|serves futures only"):
                GateAdapter(Credentials(VENUE, "k", "s"), testnet=True)
            assert len(_orders(sim)) == 0
    run(body())


def test_venue_refusals_answer_with_gate_labels():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            bid = sim.book(VENUE)["bids"][0][0]
            cases = [
                ('{"currency_pair":"DOGE_USDT","side":"buy","amount":"1","price":"0.1"}', "INVALID_CURRENCY_PAIR"),
                (f'{{"currency_pair":"{PAIR}","side":"buy","amount":"0.0100","price":"65000.05"}}', "INVALID_PRECISION"),
                (f'{{"currency_pair":"{PAIR}","side":"buy","amount":"0.00001","price":"{bid}"}}', "INVALID_PRECISION"),
                (f'{{"currency_pair":"{PAIR}","side":"buy","amount":"900.0000","price":"{bid}"}}', "BALANCE_NOT_ENOUGH"),
                (f'{{"currency_pair":"{PAIR}","side":"sell","type":"market","amount":"11.0000"}}', "BALANCE_NOT_ENOUGH"),
                (f'{{"currency_pair":"{PAIR}","side":"buy","type":"market","amount":"99999999"}}', "BALANCE_NOT_ENOUGH"),
                (f'{{"currency_pair":"{PAIR}","side":"up","amount":"0.0100","price":"{bid}"}}', "INVALID_PARAM_VALUE"),
                (f'{{"currency_pair":"{PAIR}","side":"buy","type":"market","amount":"1","time_in_force":"gtc"}}',
                 "INVALID_PARAM_VALUE"),
                (f'{{"text":"nx1","currency_pair":"{PAIR}","side":"buy","amount":"0.0100","price":"{bid}"}}',
                 "INVALID_PARAM_VALUE"),
            ]
            for body_, label in cases:
                with pytest.raises(VenueRejected) as e:
                    await ad._call("POST", "/spot/orders", body=body_)
                assert (e.value.code, e.value.status) == (label, 400), (body_, e.value)
            assert len(_orders(sim)) == 0
            # a market buy as ccxt sends it: the amount in quote, spent walking the asks
            o = await ad._call("POST", "/spot/orders", body=f'{{"currency_pair":"{PAIR}","side":"buy","type":"market",'
                                                             '"amount":"1000","time_in_force":"ioc"}')
            assert o["status"] == "closed" and o["finish_as"] == "filled" and o["amount"] == "1000"
            assert Decimal(o["filled_total"]) <= 1000 and Decimal(o["filled_amount"]) > 0
    run(body())


def test_clock_drift_is_a_clear_error_naming_the_drift():
    async def body():
        async with simulator(VENUES) as sim:
            await assert_clock_drift_refused(sim, VENUE, SYMBOL, "sell", QTY, -90_000, ("REQUEST_EXPIRED", "60 s"), 1500)
    run(body())


def test_auth_failures_answer_with_gate_labels():
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account(VENUE, "key-A", "secret-A")
            base = sim.rest_url(VENUE)
            path = "/api/v4/spot/orders"
            order = f'{{"text":"t-raw1","currency_pair":"{PAIR}","type":"market","side":"sell","amount":"0.0100"}}'
            async with httpx.AsyncClient() as c:
                now = int((await c.get(base + "/api/v4/spot/time")).json()["server_time"]) // 1000

                async def post(headers):
                    r = await c.post(base + path, content=order, headers=headers)
                    return r.status_code, r.json()

                good = _headers("key-A", "secret-A", "POST", path, "", order, now)
                bad = dict(good, SIGN=good["SIGN"][:-1] + ("0" if good["SIGN"][-1] != "0" else "1"))
                assert await post(bad) == (401, {"label": "INVALID_SIGNATURE", "message": "Signature mismatch"})
                assert (await post(_headers("key-A", "secret-B", "POST", path, "", order, now)))[1]["label"] == \
                    "INVALID_SIGNATURE"
                old = _headers("key-A", "secret-A", "POST", path, "", order, now - 61)
                assert await post(old) == (401, {"label": "REQUEST_EXPIRED",
                                                 "message": "gap between request Timestamp and server time exceeds 60"})
                assert (await post(_headers("key-Z", "secret-A", "POST", path, "", order, now)))[1]["label"] == \
                    "INVALID_KEY"
                assert await post({"KEY": "key-A", "SIGN": good["SIGN"]}) == \
                    (401, {"label": "MISSING_REQUIRED_HEADER", "message": "Missing required header: Timestamp"})
                # the query string is signed as sent
                q = f"currency_pair={PAIR}&status=open"
                h = _headers("key-A", "secret-A", "GET", path, q, "", now)
                assert (await c.get(f"{base}{path}?{q}", headers=h)).json() == []
                r = await c.get(f"{base}{path}?{q}&limit=5", headers=h)
                assert r.status_code == 401 and r.json()["label"] == "INVALID_SIGNATURE"
            assert len(_orders(sim)) == 0
            # the order_bytes Nexus would write are accepted as they are
            ad = GateAdapter(Credentials(VENUE, "key-A", "secret-A"), rest_url=base)
            try:
                await ad.resync()
                inst = await ad.instrument(SYMBOL)
                req = OrderRequest.make(inst, "sell", "market", QTY, client_id="rawbytes1")
                doc = await send_raw(sim, VENUE, ad.order_bytes(req))
                assert doc["text"] == "t-rawbytes1" and doc["status"] == "closed"
            finally:
                await ad.close()
    run(body())


def test_private_channel_refuses_a_bad_signature_with_code_4():
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account(VENUE, "key-A", "secret-A")
            t = int(time.time())
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.url(VENUE)) as ws:
                for secret, ok in (("secret-B", False), ("secret-A", True)):
                    sign = hmac.new(secret.encode(), f"channel=spot.orders&event=subscribe&time={t}".encode(),
                                    hashlib.sha512).hexdigest()
                    await ws.send_str(json.dumps({"time": t, "id": 7, "channel": "spot.orders", "event": "subscribe",
                                                  "payload": ["!all"], "auth": {"method": "api_key", "KEY": "key-A",
                                                                                "SIGN": sign}}))
                    while True:
                        msg = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                        if msg.get("channel") == "spot.orders":
                            break
                    if ok:
                        assert msg["result"] == {"status": "success"} and "error" not in msg
                    else:
                        assert msg["error"]["code"] == 4 and msg["result"] == {"status": "failed"}
    run(body())


def test_documented_bodies_parse_and_sim_bodies_have_the_documented_fields():
    ad = GateAdapter(Credentials(VENUE, "k", "s"))
    o = ad.update(DOCS["spot_order_open"])
    assert o.state is State.ACCEPTED and o.client_id == DOCS["spot_order_open"]["text"][2:]
    f = ad.update(DOCS["spot_order_filled"])
    assert f.state is State.FILLED and f.filled == Decimal(DOCS["spot_order_filled"]["amount"])
    assert ad.update(DOCS["spot_order_cancelled"]).state is State.CANCELLED
    ad.stream_updates(DOCS["ws_usertrades"])
    ups = ad.stream_updates(DOCS["ws_orders"])
    assert len(ups) == 1 and ups[0].fills and ups[0].fills[0].trade_id == str(DOCS["ws_usertrades"]["result"][0]["id"])

    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            bid = sim.book(VENUE)["bids"][-1][0]
            o = await ex.place(await ex.request(SYMBOL, "buy", "limit", QTY, price=bid))
            got = await ex.adapter._call("GET", f"/spot/orders/{o.venue_order_id}", f"currency_pair={PAIR}")
            assert set(DOCS["spot_order_open"]) <= set(got), set(DOCS["spot_order_open"]) - set(got)
            acc = await ex.adapter._call("GET", "/spot/accounts")
            assert all(set(DOCS["spot_accounts"][0]) <= set(a) for a in acc)
    run(body())


def _futures(sim):
    return sim.core.feeds[VENUE].futures_trade.ex


def test_futures_leverage_market_positions_and_reduce_only():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(FUT)
            assert (inst.symbol, inst.contract_kind, inst.contract_value, inst.tick_size) == \
                (FUT_SYMBOL, "linear", "0.0001", "0.1")
            o = await ex.place(await ex.request(FUT, "buy", "market", "100", leverage=20))
            assert o.state is State.FILLED and o.filled_qty == 100 and ex.sends == 1
            acct = _futures(sim).accounts["key-A"]
            assert acct.leverage == 20 and acct.position == 100
            venue_pos = {p.symbol: p for p in await ex.adapter.positions()}
            assert venue_pos[FUT_SYMBOL].qty == 100 and venue_pos[FUT_SYMBOL].leverage == 20
            assert venue_pos[FUT_SYMBOL].entry_price == o.avg_price
            pos = ex.positions.get(VENUE, FUT_SYMBOL)
            assert pos.qty == 100
            with pytest.raises(OrderError, match="would increase"):        # more than held: not sent
                await ex.place(await ex.request(FUT, "sell", "market", "150", reduce_only=True))
            with pytest.raises(VenueRejected) as e:                        # sent anyway: Gate's label
                await ex.adapter.place(await ex.request(FUT, "sell", "market", "150", reduce_only=True))
            assert e.value.code == "REDUCE_EXCEEDED" and acct.position == 100
            r = await ex.place(await ex.request(FUT, "sell", "market", "60", reduce_only=True))
            assert r.state is State.FILLED and acct.position == 40 and pos.qty == 40
            # a resting limit, found by its text, cancelled; the stream reports a crossed one
            bid = Decimal(sim.book(VENUE)["bids"][-1][0]) - 20 * Decimal(inst.tick_size)
            rest = await ex.place(await ex.request(FUT, "buy", "limit", "10", price=str(bid)))
            assert rest.state is State.ACCEPTED
            assert [u.client_id for u in await ex.adapter.open_orders(FUT)] == [rest.client_id]
            ex.adapter.order_ids.clear()
            assert (await ex.adapter.query(FUT, rest.client_id)).state is State.ACCEPTED
            ex.adapter.order_ids.clear()
            assert (await ex.cancel(FUT, rest.client_id)).state is State.CANCELLED
            ex.adapter.order_ids.clear()
            assert (await ex.adapter.query(FUT, rest.client_id)).state is State.CANCELLED
            assert await ex.adapter.query(FUT, "nosuchorder") is None
            lim = await ex.place(await ex.request(FUT, "buy", "limit", "10", price=str(bid)))
            sim.open_account(VENUE, "key-B", "secret-B", balances={"USDT": "100000000"})
            async with executor(sim, VENUE, "key-B", "secret-B", open_account=False, stream=False) as other:
                ahead = sum(Decimal(q) for p, q in sim.book(VENUE)["bids"] if Decimal(p) >= bid)
                contracts = int(2 * ahead / Decimal(inst.contract_value)) + 10
                await other.place(await other.request(FUT, "sell", "limit", str(contracts), price=str(bid)))
            await ex.wait_for(lim.client_id, lambda x: x.state is State.FILLED, 5)
            assert lim.avg_price == bid and pos.qty == 50 and acct.position == 50
    run(body())


def test_futures_refusals_answer_with_gate_labels():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            cases = [
                ('{"contract":"DOGE_USDT","size":1,"price":"0","tif":"ioc"}', "CONTRACT_NOT_FOUND"),
                ('{"contract":"BTC_USDT","size":90000000,"price":"0","tif":"ioc"}', "INSUFFICIENT_AVAILABLE"),
                ('{"contract":"BTC_USDT","size":-1,"price":"0","tif":"ioc","reduce_only":true}', "POSITION_EMPTY"),
                ('{"contract":"BTC_USDT","size":1,"price":"65000.05","tif":"gtc"}', "INVALID_PRECISION"),
                ('{"contract":"BTC_USDT","size":1,"price":"0","tif":"gtc"}', "INVALID_PARAM_VALUE"),
                ('{"contract":"BTC_USDT","size":0,"price":"0","tif":"ioc"}', "INVALID_PARAM_VALUE"),
            ]
            for body_, label in cases:
                with pytest.raises(VenueRejected) as e:
                    await ad._call("POST", "/futures/usdt/orders", body=body_)
                assert (e.value.code, e.value.status) == (label, 400), (body_, e.value)
            with pytest.raises(VenueRejected) as e:
                await ad._call("POST", "/futures/usdt/positions/BTC_USDT/leverage", "leverage=200")
            assert e.value.code == "LEVERAGE_TOO_HIGH"
            assert len(_futures(sim).orders) == 0 and _futures(sim).accounts["key-A"].leverage == 10
    run(body())


def test_cli_session_gate(tmp_path):
    """Gate through the CLI (`nexus sim --account-env`, then `nexus order|positions|keys` with the
    key in the environment): exit statuses as contracted, no secret byte in any output or file."""
    import secrets

    from tests.exec.test_order_cli import _session

    key, secret = "nxkey" + secrets.token_hex(16), "nxsecret" + secrets.token_hex(24)
    keys = {"NEXUS_GATE_API_KEY": key, "NEXUS_GATE_API_SECRET": secret}
    for nexus, outputs in _session(tmp_path, VENUE, key, secret, "nxpass" + secrets.token_hex(12), keys, VENUE):
        r = nexus("keys", "check", "--json")
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["api_key"] == key[:4] + "…" and info["permissions"] == {} and "Never enable Withdrawals" in info["note"]
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "buy", "--type", "market", "--qty", QTY, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["state"] == "filled" and Decimal(json.loads(r.stdout)["filled"]) == Decimal(QTY)
        r = nexus("positions", "--json")
        assert r.returncode == 0 and "BTC" in {p["symbol"] for p in json.loads(r.stdout)}, r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "sell", "--type", "limit", "--qty", QTY,
                  "--price", "999999.0", "--client-id", "gtA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "ls", "--json")
        assert [o["client_id"] for o in json.loads(r.stdout)] == ["gtA1"]
        r = nexus("order", "status", "--symbol", SYMBOL, "--client-id", "gtA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "cancel", "--symbol", SYMBOL, "--client-id", "gtA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled", r.stderr
        r = nexus("order", "cancel", "--symbol", SYMBOL, "--client-id", "gtA1", "--json")
        assert r.returncode == 3 and "ORDER_CANCELLED" in r.stderr
        # a stop: a price order; another session sees it in `order ls` under Gate's id (no client id on it)
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "sell", "--type", "stop", "--qty", QTY,
                  "--stop-price", "1000.0", "--client-id", "gtS1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        stop_id = json.loads(r.stdout)["venue_order_id"]
        r = nexus("order", "ls", "--json")
        assert [(o["client_id"], o["venue_order_id"], o["venue_status"]) for o in json.loads(r.stdout)] == \
            [("", stop_id, "price order open")], r.stdout
        r = nexus("order", "status", "--symbol", SYMBOL, "--client-id", "nosuch", "--json")
        assert r.returncode == 3 and "ORDER_NOT_FOUND" in r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "sell", "--type", "market", "--qty", "900.0000")
        assert r.returncode == 3 and "BALANCE_NOT_ENOUGH" in r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "buy", "--type", "limit", "--qty", QTY,
                  "--price", "65000.05")
        assert r.returncode == 2 and "multiple of 0.1" in r.stderr
        r = nexus("order", "place", "--symbol", SYMBOL, "--side", "buy", "--type", "market", "--qty", QTY, keys=False)
        assert r.returncode == 2 and "NEXUS_GATE_API_KEY" in r.stderr
        r = nexus("order", "place", "--sim", "--symbol", SYMBOL, "--side", "buy", "--type", "market", "--qty", QTY,
                  "--json", keys=False)
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
        # USDT futures: leverage through Gate's position endpoint, a position in contracts
        r = nexus("order", "place", "--symbol", FUT, "--side", "sell", "--type", "market", "--qty", "30",
                  "--leverage", "5", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
        r = nexus("positions", "--json")
        fut = next(p for p in json.loads(r.stdout) if p["symbol"] == FUT_SYMBOL)
        assert r.returncode == 0 and Decimal(fut["qty"]) == -30 and fut["leverage"] == 5, r.stdout
        r = nexus("order", "place", "--symbol", FUT, "--side", "sell", "--type", "market", "--qty", "1",
                  "--reduce-only")
        assert r.returncode == 2 and "would increase" in r.stderr
        assert len(outputs) >= 15


# -- stops: Gate's price-triggered orders ---------------------------------------------------------
def _trade(sim, futures=False):
    feed = sim.core.feeds[VENUE]
    return feed.futures_trade if futures else feed.trade


def _above(sim):
    """A stop price 30 USDT (about 5 bp) above the best ask: out of the flow's reach for the
    test's length, inside the simulated book (so a sweep reaches it)."""
    return str(Decimal(sim.book(VENUE)["asks"][0][0]) + 30)


async def _sweep_through(sim, price, side, fired, tries=12):
    """Another account takes the (shared) spot book through `price` ("buy": the asks up to it,
    "sell": the bids down to it) until `fired()` (the published book it sizes from may be a
    step behind the flow, and the makers refill meanwhile, so one sweep can stop short; on a
    loaded machine the trigger can take several of the simulator's steps to be seen)."""
    async with executor(sim, VENUE, "key-B", "secret-B", stream=False) as other:
        for _ in range(tries):
            levels = sim.book(VENUE)["asks" if side == "buy" else "bids"]
            through = [q for p, q in levels
                       if (Decimal(p) <= Decimal(price) if side == "buy" else Decimal(p) >= Decimal(price))]
            sweep = Decimal("0.0100") + sum(Decimal(q) for q in through)
            await other.place(await other.request(SYMBOL, side, "market", str(sweep.quantize(Decimal("0.0001")))))
            for _ in range(5):
                await asyncio.sleep(0.1)
                if fired():
                    return
    raise AssertionError(f"the book was not taken through {price}")


def _fired(sim, client_id, ex, futures=False):
    """The stop's price order is no longer waiting (the simulator's own view)."""
    trade = _trade(sim, futures)
    return lambda: trade.po_state(trade.price_orders[int(ex.adapter.stops[client_id][0])]) != "open"


def test_spot_stop_is_a_price_order_that_triggers_on_last_price_fills_and_cancels():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            ad = ex.adapter
            ask = _above(sim)
            o = await ex.place(await ex.request(SYMBOL, "buy", "stop", QTY, stop_price=ask))
            assert o.state is State.ACCEPTED and ex.sends == 1
            po = await ad._call("GET", f"/spot/price_orders/{o.venue_order_id}")
            cap = Decimal(ask) * Decimal("1.01")
            assert (po["status"], po["market"], po["trigger"]["rule"], Decimal(po["trigger"]["price"])) == \
                ("open", PAIR, ">=", Decimal(ask))
            assert po["put"]["type"] == "limit" and po["put"]["time_in_force"] == "ioc" and \
                Decimal(po["put"]["amount"]) == Decimal(QTY) and \
                cap <= Decimal(po["put"]["price"]) < cap + Decimal("0.1")
            assert po["fired_order_id"] == 0
            assert await ad._call("GET", "/spot/orders", f"currency_pair={PAIR}&status=open") == []   # not an order yet
            st = await ex.status(SYMBOL, o.client_id)
            assert st.state is State.ACCEPTED and st.venue_status == "price order open"
            far = str(Decimal(ask) * 2)
            c = await ex.place(await ex.request(SYMBOL, "buy", "stop", QTY, stop_price=far))
            assert {u.client_id for u in await ad.open_orders(SYMBOL)} == {o.client_id, c.client_id}
            assert {u.client_id for u in await ad.open_orders()} == {o.client_id, c.client_id}
            u = await ex.cancel(SYMBOL, c.client_id)
            assert u.state is State.CANCELLED and c.state is State.CANCELLED
            assert u.venue_status == "price order cancelled"
            with pytest.raises(VenueRejected) as e:                         # a second cancel: Gate's label
                await ad.cancel(SYMBOL, c.client_id)
            assert e.value.code == "ORDER_NOT_FOUND"
            await _sweep_through(sim, ask, "buy", _fired(sim, o.client_id, ex))
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)  # the put order's pushes, under our id
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY) and ex.unknown_updates == 0
            assert o.avg_price <= Decimal(po["put"]["price"])
            po = await ad._call("GET", f"/spot/price_orders/{ad.stops[o.client_id][0]}")
            assert po["status"] == "finish" and po["fired_order_id"]
            st = await ex.status(SYMBOL, o.client_id)                       # the fired order, under the stop's id
            assert st.state is State.FILLED and st.client_id == o.client_id and st.venue_status == "filled"
            assert st.venue_order_id == str(po["fired_order_id"])
            assert ex.positions.get(VENUE, PAIR).qty == Decimal(QTY)
            assert [u.client_id for u in await ad.open_orders(SYMBOL)] == []
    run(body())


def test_futures_stop_triggers_on_last_price_and_gate_refuses_a_wrong_side_trigger():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            ad = ex.adapter
            await ex.instrument(FUT)
            ask = _above(sim)
            o = await ex.place(await ex.request(FUT, "buy", "stop", "20", stop_price=ask))
            assert o.state is State.ACCEPTED
            po = await ad._call("GET", f"/futures/usdt/price_orders/{o.venue_order_id}")
            assert (po["status"], po["initial"]["size"], po["initial"]["price"], po["initial"]["tif"],
                    po["trigger"]["rule"], po["trigger"]["price_type"], Decimal(po["trigger"]["price"])) == \
                ("open", 20, "0", "ioc", 1, 0, Decimal(ask))
            assert [u.client_id for u in await ad.open_orders(FUT)] == [o.client_id]
            await asyncio.sleep(0.2)          # the flow prints: the futures book has a last price
            low = str(Decimal(sim.book(VENUE)["bids"][-1][0]))
            with pytest.raises(VenueRejected) as e:          # a sell stop above the last price: Gate's label
                await ad._call("POST", "/futures/usdt/price_orders", body=json.dumps(
                    {"initial": {"contract": PAIR, "size": -1, "price": "0", "tif": "ioc"},
                     "trigger": {"price": ask, "rule": 2}}))
            assert e.value.code == "AUTO_TRIGGER_PRICE_LESS_LAST"
            with pytest.raises(VenueRejected) as e:
                await ad._call("POST", "/futures/usdt/price_orders", body=json.dumps(
                    {"initial": {"contract": PAIR, "size": 1, "price": "0", "tif": "ioc"},
                     "trigger": {"price": low, "rule": 1}}))
            assert e.value.code == "AUTO_TRIGGER_PRICE_GREATE_LAST"
            await _sweep_through(sim, ask, "buy", _fired(sim, o.client_id, ex, futures=True))
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED and o.filled_qty == 20 and ex.unknown_updates == 0
            assert _futures(sim).accounts["key-A"].position == 20 and ex.positions.get(VENUE, FUT_SYMBOL).qty == 20
            st = await ex.status(FUT, o.client_id)
            po = await ad._call("GET", f"/futures/usdt/price_orders/{ad.stops[o.client_id][0]}")
            assert (po["status"], po["finish_as"]) == ("finished", "succeeded")
            assert st.state is State.FILLED and st.client_id == o.client_id and st.venue_order_id == str(po["trade_id"])
            c = await ex.place(await ex.request(FUT, "sell", "stop", "20", stop_price=low, reduce_only=True))
            u = await ex.cancel(FUT, c.client_id)
            assert u.state is State.CANCELLED and u.venue_status == "price order cancelled"
            assert len(_futures(sim).orders) == 2 and _futures(sim).accounts["key-A"].position == 20
    run(body())


@pytest.mark.parametrize("futures", [False, True])
def test_stop_whose_answer_was_lost_is_found_in_the_price_orders_and_never_doubled(futures):
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, timeout_s=0.5) as ex:
            symbol, qty = (FUT, "10") if futures else (SYMBOL, QTY)
            far = str((Decimal(sim.book(VENUE)["asks"][0][0]) * Decimal("1.5")).quantize(Decimal("0.1")))
            first = await ex.place(await ex.request(symbol, "buy", "stop", qty, stop_price=far))   # the same stop
            assert first.state is State.ACCEPTED and ex.sends == 1
            trade = _trade(sim, futures)
            trade.ex.delay_next_response(2.0)
            req = await ex.request(symbol, "buy", "stop", qty, stop_price=far)
            o = await ex.place(req)
            assert o.state is State.ACCEPTED and ex.sends == 2                  # found, not sent again
            assert len(trade.price_orders) == 2
            mine = ex.adapter.stops[req.client_id][0]
            assert mine != ex.adapter.stops[first.client_id][0]                # not the one already claimed
            assert mine == str(max(trade.price_orders))                        # the one this send made
            assert {u.client_id for u in await ex.adapter.open_orders(symbol)} == {first.client_id, req.client_id}
            assert (await ex.cancel(symbol, req.client_id)).state is State.CANCELLED
            assert (await ex.status(symbol, first.client_id)).state is State.ACCEPTED
    run(body())


def test_futures_entry_with_stop_loss_ticks_gets_a_reduce_only_stop_that_closes_it():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(FUT)
            e = await ex.place(await ex.request(FUT, "buy", "market", "50", tp_ticks=400, sl_ticks=30))
            assert e.state is State.FILLED
            legs = {o.request.type.value: o for o in ex.tracker.orders.values() if o.client_id != e.client_id}
            tp, sl = legs["limit"], legs["stop"]
            assert tp.state is State.ACCEPTED and sl.state is State.ACCEPTED and ex.bracket_errors == []
            tick = Decimal(inst.tick_size)
            ref = (e.avg_price / tick).to_integral_value() * tick
            assert sl.request.stop_price == ref - 30 * tick and sl.request.reduce_only and sl.request.qty == 50
            po = await ex.adapter._call("GET", f"/futures/usdt/price_orders/{sl.venue_order_id}")
            assert po["initial"]["reduce_only"] is True and po["initial"]["size"] == -50 and po["trigger"]["rule"] == 2
            await _sweep_through(sim, sl.request.stop_price, "sell", _fired(sim, sl.client_id, ex, futures=True))
            await ex.wait_for(sl.client_id, lambda x: x.state.terminal, 5)
            assert sl.state is State.FILLED and sl.filled_qty == 50
            assert _futures(sim).accounts["key-A"].position == 0 and ex.positions.get(VENUE, FUT_SYMBOL).qty == 0
    run(body())


def test_spot_entry_with_stop_loss_ticks_gets_a_stop_sell():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYMBOL)
            e = await ex.place(await ex.request(SYMBOL, "buy", "market", QTY, sl_ticks=25))
            assert e.state is State.FILLED
            sl = next(o for o in ex.tracker.orders.values() if o.client_id != e.client_id)
            tick = Decimal(inst.tick_size)
            assert sl.request.type.value == "stop" and sl.state is State.ACCEPTED and not sl.request.reduce_only
            assert sl.request.stop_price == (e.avg_price / tick).to_integral_value() * tick - 25 * tick
            po = await ex.adapter._call("GET", f"/spot/price_orders/{sl.venue_order_id}")
            assert (po["trigger"]["rule"], po["put"]["side"], Decimal(po["put"]["amount"])) == \
                ("<=", "sell", Decimal(QTY))
            await _sweep_through(sim, sl.request.stop_price, "sell", _fired(sim, sl.client_id, ex))
            await ex.wait_for(sl.client_id, lambda x: x.state.terminal, 5)
            assert sl.state is State.FILLED and ex.positions.get(VENUE, PAIR).qty == 0
    run(body())


def test_stop_that_fired_before_its_lost_answer_is_found_among_finished_and_its_ioc_rest_is_cancelled():
    """A buy stop under the last price fires at once; its answer comes late: the query finds it
    among the finished price orders (never resent) and follows the order it put, an IOC limit
    1 % above the trigger that takes the whole book and has its remainder cancelled."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, timeout_s=0.5) as ex:
            trade = _trade(sim)
            book = sim.book(VENUE)
            low = str(Decimal(book["bids"][0][0]) - 5)
            held = sum(Decimal(q) for _, q in book["asks"])
            big = str((held + 1).quantize(Decimal("0.0001")))
            trade.ex.delay_next_response(2.0)
            o = await ex.place(await ex.request(SYMBOL, "buy", "stop", big, stop_price=low))
            assert ex.sends == 1 and len(trade.price_orders) == 1
            if not o.state.terminal:                    # the stream may still be on its way
                await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.EXPIRED and 0 < o.filled_qty < Decimal(big)
            st = await ex.status(SYMBOL, o.client_id)
            assert st.state is State.EXPIRED and st.venue_status == "ioc" and st.filled == o.filled_qty
            fired = trade.ex.orders[next(iter(trade.price_orders.values()))["oid"]]
            assert fired.status == "CANCELED" and not fired.resting
            assert trade.ex.price_dec(fired.price) >= Decimal(low) * Decimal("1.01")
    run(body())


def test_documented_price_orders_parse_and_sim_price_orders_have_the_documented_fields():
    ad = GateAdapter(Credentials(VENUE, "k", "s"))
    u = ad.price_update("nx1", DOCS["spot_price_order_open"], False)
    assert (u.state, u.venue_order_id, u.venue_status, u.symbol) == (State.ACCEPTED, "1283293", "price order open", PAIR)
    assert ad._fired_id(DOCS["spot_price_order_open"], False) == ""
    assert ad._fired_id(DOCS["spot_price_order_fired"], False) == "12332399"
    assert ad._fired_id(DOCS["futures_price_order_fired"], True) == "44433322"
    assert ad.price_update("nx2", DOCS["futures_price_order_cancelled"], True).state is State.CANCELLED
    assert ad.price_update("nx3", DOCS["futures_price_order_open"], True).symbol == FUT_SYMBOL
    inst = Instrument(VENUE, PAIR, "0.1", "0.0001", base="BTC", quote="USDT")
    req = OrderRequest.make(inst, "sell", "stop", "0.0100", stop_price="60000.0")
    assert ad._po_key(DOCS["spot_price_order_open"], False) == ad._stop_key(req)     # what a lost answer matches
    fut = Instrument(VENUE, FUT_SYMBOL, "0.1", "1", "0.0001", "linear", "BTC", "USDT")
    freq = OrderRequest.make(fut, "sell", "stop", "10", stop_price="60000.0", reduce_only=True)
    assert ad._po_key(DOCS["futures_price_order_open"], True) == ad._stop_key(freq)

    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            far = _above(sim)
            s = await ex.place(await ex.request(SYMBOL, "buy", "stop", QTY, stop_price=far))
            f = await ex.place(await ex.request(FUT, "buy", "stop", "5", stop_price=far))
            got = await ex.adapter._call("GET", f"/spot/price_orders/{s.venue_order_id}")
            for doc, have in ((DOCS["spot_price_order_open"], got),
                              (DOCS["futures_price_order_open"],
                               await ex.adapter._call("GET", f"/futures/usdt/price_orders/{f.venue_order_id}"))):
                assert set(doc) <= set(have), set(doc) - set(have)
                for part in ("trigger", "put", "initial"):
                    if part in doc:
                        assert set(doc[part]) <= set(have[part]), (part, set(doc[part]) - set(have[part]))
    run(body())


def test_order_bytes_render_each_order_exactly():
    """order_bytes for spot and futures, each side and type, values str() would write with an
    exponent, whole contracts written as 10.0 / 1E+1: the body, the head and the signature (an
    independent HMAC-SHA512 of the documented text) as Gate documents them."""
    spot = Instrument(VENUE, PAIR, "0.1", "0.0000001", base="BTC", quote="USDT")
    fut = Instrument(VENUE, FUT_SYMBOL, "0.1", "1", "0.0001", "linear", "BTC", "USDT")
    ad = GateAdapter(Credentials(VENUE, "k" * 32, "s" * 64), rest_url="http://127.0.0.1:1")
    spot_head = '{"text":"t-c1","currency_pair":"BTC_USDT","type":"'
    cases = [
        (spot, ("sell", "limit", "0.5"), {"price": "6.5E+4"}, None,
         spot_head + 'limit","account":"spot","side":"sell","amount":"0.5","price":"65000","time_in_force":"gtc"}'),
        (spot, ("buy", "limit", "0.0000001"), {"price": "65000.1"}, None,
         spot_head + 'limit","account":"spot","side":"buy","amount":"0.0000001","price":"65000.1",'
                     '"time_in_force":"gtc"}'),
        (spot, ("sell", "market", "1E+1"), {}, None,
         spot_head + 'market","account":"spot","side":"sell","amount":"10","time_in_force":"ioc"}'),
        (spot, ("buy", "market", "0.01"), {}, Decimal("66000.2"),
         spot_head + 'limit","account":"spot","side":"buy","amount":"0.01","price":"66000.2","time_in_force":"ioc"}'),
        (fut, ("buy", "limit", "10"), {"price": "65000.1"}, None,
         '{"contract":"BTC_USDT","size":10,"price":"65000.1","tif":"gtc","text":"t-c1"}'),
        (fut, ("sell", "market", "1E+1"), {"reduce_only": True}, None,
         '{"contract":"BTC_USDT","size":-10,"price":"0","tif":"ioc","text":"t-c1","reduce_only":true}'),
        (fut, ("sell", "limit", "10.0"), {"price": "65000.1"}, None,
         '{"contract":"BTC_USDT","size":-10,"price":"65000.1","tif":"gtc","text":"t-c1"}'),
    ]
    for inst, (side, kind, qty), kw, cap, want in cases:
        req = OrderRequest.make(inst, side, kind, qty, client_id="c1", **kw)
        head, body = ad.order_bytes(req, cap).decode().split("\r\n\r\n")
        assert body == want == ad.order_body(req, cap)
        lines = head.split("\r\n")
        h = dict(x.split(": ", 1) for x in lines[1:])
        path = "/api/v4/futures/usdt/orders" if inst is fut else "/api/v4/spot/orders"
        assert lines[0] == f"POST {path} HTTP/1.1" and h["Content-Length"] == str(len(body))
        assert abs(int(h["Timestamp"]) - time.time()) < 5
        assert h == {**_headers("k" * 32, "s" * 64, "POST", path, "", body, h["Timestamp"]),
                     "Host": "127.0.0.1:1", "Content-Length": str(len(body))}
    with pytest.raises(OrderError, match="28 characters"):
        ad.order_bytes(OrderRequest.make(fut, "buy", "market", "1", client_id="a" * 29))
    with pytest.raises(OrderError, match="whole number of contracts"):
        ad.order_bytes(OrderRequest(VENUE, FUT_SYMBOL, Side.BUY, OrderType.LIMIT, Decimal("1.5"), "c1",
                                    Decimal("65000.1")))
    asyncio.run(ad.close())
