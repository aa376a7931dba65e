"""MEXC spot v3 order entry end to end against the simulator (real HTTP and WebSocket on
127.0.0.1): market and limit orders, the limit resting in the public protobuf depth then
filling, cancel and status, fills and order updates on the private protobuf channels, every
bad input of issue 14 refused before sending, the venue's own codes for what reaches it,
idempotent retry after a timeout, and a CLI session that leaves no secret byte anywhere."""
import asyncio
import hashlib
import hmac
import json
import secrets
from decimal import Decimal
from pathlib import Path

import aiohttp
import httpx
import pytest

from nexus.exec.client import VenueRejected
from nexus.exec.orders import OrderError, OrderRequest, State
from nexus.venues.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from tests.exec.tradesim import (
    assert_clock_drift_refused, assert_key_refused, executor, place_through_a_timeout, run, sell_down_to, send_raw,
    simulator,
)

VENUE, SYM, QTY = "mexc", "BTCUSDT", "0.010000"
VENUES = (VENUE,)
DOCS = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "venues" / "mexc" / "trade_docs.json").read_text())


def sim_orders(sim):
    return sim.exchange(VENUE).orders


def _gap_below_best_bid(sim, tick: str) -> str:
    """A price with no level yet, ten levels below the touch (out of the flow's reach)."""
    bids = sorted((Decimal(p) for p, _ in sim.book(VENUE)["bids"]), reverse=True)
    p = bids[min(10, len(bids) - 1)] - Decimal(tick)
    while p in set(bids):
        p -= Decimal(tick)
    return str(p)


def _signed(secret: str, params: str) -> str:
    return f"{params}&signature={hmac.new(secret.encode(), params.encode(), hashlib.sha256).hexdigest()}"


async def _server_ms(c: httpx.AsyncClient, base: str) -> int:
    return int((await c.get(base + "/api/v3/time")).json()["serverTime"])


async def _private_frames(ws, want: set[str], until) -> dict[str, PushDataV3ApiWrapper]:
    """The latest push of each private channel until `until(got)` holds."""
    got: dict[str, PushDataV3ApiWrapper] = {}
    while not (want <= set(got) and until(got)):
        m = await asyncio.wait_for(ws.receive(), 5)
        if m.type == aiohttp.WSMsgType.BINARY:
            w = PushDataV3ApiWrapper()
            w.ParseFromString(m.data)
            got[w.channel] = w
    return got


# -- orders ------------------------------------------------------------------------------------

def test_market_fills_with_fees_from_the_private_stream_and_balances():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            o = await ex.place(await ex.request(SYM, "buy", "market", QTY))
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY) and ex.sends == 1
            sx = sim.exchange(VENUE)
            so = sx.by_client[("key-A", o.client_id)]
            assert so.status == "FILLED" and o.avg_price == so.notional / sx.base_qty(so.filled)
            await asyncio.sleep(0.3)
            pos = ex.positions.get(VENUE, SYM)
            # the deals' fees (each as MEXC writes it, at most 8 decimals), counted once
            assert pos.qty == Decimal(QTY) and abs(pos.fees - so.fees) <= pos.fills * Decimal("0.00000001")
            held = {p.symbol: p for p in await ex.adapter.positions()}
            assert held["BTC"].qty == Decimal(10) + Decimal(QTY)
            assert held["USDT"].qty == (Decimal(1_000_000) - so.notional - so.fees).quantize(Decimal("0.00000001"))
            st = await ex.status(SYM, o.client_id)
            assert st.state is State.FILLED and st.venue_status == "FILLED" and st.venue_order_id.startswith("C02__")
    run(body())


def test_limit_rests_in_public_protobuf_depth_then_fills():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYM)
            price = _gap_below_best_bid(sim, inst.tick_size)
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.url(VENUE)) as ws:
                await ws.send_str(json.dumps({"method": "SUBSCRIPTION",
                                              "params": [f"spot@public.aggre.depth.v3.api.pb@100ms@{SYM}"]}))
                o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
                assert o.state is State.ACCEPTED
                seen = None
                while seen is None:
                    m = await asyncio.wait_for(ws.receive(), 5)
                    if m.type != aiohttp.WSMsgType.BINARY:
                        continue
                    w = PushDataV3ApiWrapper()
                    w.ParseFromString(m.data)
                    seen = next((b.quantity for b in w.publicAggreDepths.bids if Decimal(b.price) == Decimal(price)), None)
                assert Decimal(seen) == Decimal(QTY)
            assert [u.client_id for u in await ex.adapter.open_orders(SYM)] == [o.client_id]
            async with executor(sim, VENUE, "key-B", "secret-B", stream=False) as other:
                # everything bid down to our level, again until ours filled (the flow adds bids meanwhile)
                await sell_down_to(sim, VENUE, other, SYM, price, ex, o.client_id)
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 10)
            assert o.avg_price == Decimal(price) and o.events[-1].dst is State.FILLED
            st = await ex.status(SYM, o.client_id)
            assert st.state is State.FILLED and st.venue_status == "FILLED"
    run(body())


def test_cancel_status_and_unknown_orders():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYM)
            price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 10 * Decimal(inst.tick_size))
            o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
            assert (await ex.status(SYM, o.client_id)).state is State.ACCEPTED
            acct = sim.exchange(VENUE).accounts["key-A"]
            assert acct.locked["USDT"] > 0                     # the limit's value is held
            u = await ex.cancel(SYM, o.client_id)
            assert u.state is State.CANCELLED and o.state is State.CANCELLED and u.venue_status == "CANCELED"
            assert acct.locked["USDT"] == 0 and await ex.adapter.open_orders(SYM) == []
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.cancel(SYM, "nosuchorder")
            assert (e.value.code, e.value.message) == (-2011, "Unknown order sent.")
            assert await ex.adapter.query(SYM, "nosuchorder") is None
            with pytest.raises(OrderError, match="per symbol"):
                await ex.adapter.open_orders()
    run(body())


def test_private_channels_push_protobuf_orders_deals_account():
    """The private channels arrive as PushDataV3ApiWrapper frames with the documented fields
    (docs 'Spot Account Orders' / 'Spot Account Deals' / 'Spot Account Update')."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            key = (await ad._call("POST", "/api/v3/userDataStream"))["listenKey"]
            assert len(key) == len(DOCS["listen_key"]["listenKey"])
            chans = ["spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb", "spot@private.account.v3.api.pb"]
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(sim.url(VENUE)) as anon:     # no listen key: private channels are refused
                    await anon.send_str(json.dumps({"method": "SUBSCRIPTION", "params": chans[:1]}))
                    assert "Not Subscribed successfully" in json.loads((await anon.receive()).data)["msg"]
                async with s.ws_connect(f"{sim.url(VENUE)}?listenKey=nosuchkey") as bad:
                    assert (await asyncio.wait_for(bad.receive(), 5)).type in (aiohttp.WSMsgType.CLOSE,
                                                                                aiohttp.WSMsgType.CLOSED)
                async with s.ws_connect(f"{sim.url(VENUE)}?listenKey={key}") as ws:
                    await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": chans}))
                    assert json.loads((await ws.receive()).data) == {"id": 0, "code": 0, "msg": ",".join(chans)}
                    o = await ex.place(await ex.request(SYM, "buy", "market", QTY))
                    got = await _private_frames(ws, set(chans), lambda g: g["spot@private.orders.v3.api.pb"]
                                                .privateOrders.status == 2)
            po = got[chans[0]].privateOrders
            doc_fields = set(DOCS["private_orders"]["privateOrders"])
            assert doc_fields <= {f.name for f, _ in po.ListFields()} | {"amount", "remainAmount", "remainQuantity"}
            assert po.clientId == o.client_id and po.id == o.venue_order_id and po.orderType == 5 and po.tradeType == 1
            assert Decimal(po.cumulativeQuantity) == Decimal(QTY) and Decimal(po.avgPrice) == o.avg_price
            d = got[chans[1]].privateDeals
            assert set(DOCS["private_deals"]["privateDeals"]) <= {f.name for f, _ in d.ListFields()}
            assert d.clientOrderId == o.client_id and d.orderId == o.venue_order_id and d.feeCurrency == "USDT"
            a = got[chans[2]].privateAccount
            assert a.vcoinName in ("BTC", "USDT") and Decimal(a.balanceAmount) > 0
            assert got[chans[0]].symbol == SYM and got[chans[0]].sendTime > 0
    run(body())


def test_rest_bodies_have_the_documented_fields():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            inst = await ex.instrument(SYM)
            price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 10 * Decimal(inst.tick_size))
            req = await ex.request(SYM, "buy", "limit", QTY, price=price)
            new = await ad._call("POST", "/api/v3/order", ad.order_query(req))
            assert set(new) == set(DOCS["new_order"]) and new["orderId"].startswith("C02__")
            q = await ad._call("GET", "/api/v3/order", f"symbol={SYM}&orderId={new['orderId']}")
            assert set(q) == set(DOCS["query_order"]) and q["clientOrderId"] == req.client_id and q["status"] == "NEW"
            assert set((await ad._call("GET", "/api/v3/openOrders", f"symbol={SYM}"))[0]) == set(DOCS["query_order"])
            c = await ad._call("DELETE", "/api/v3/order", f"symbol={SYM}&origClientOrderId={req.client_id}")
            assert set(c) == set(DOCS["cancel_order"]) and c["status"] == "CANCELED"
            acct = await ad._call("GET", "/api/v3/account")
            assert set(acct) == set(DOCS["account"]) and set(acct["balances"][0]) == set(DOCS["account"]["balances"][0])
            assert acct["canWithdraw"] is False
    run(body())


def test_adapter_reads_the_documented_private_pushes():
    """The docs' 'Spot Account Deals' and 'Spot Account Orders' examples, as protobuf frames,
    become a fill (with its fee) and the order's final state."""
    from nexus.exec.keys import Credentials
    from nexus.venues.mexc.orders import MexcAdapter

    ad = MexcAdapter(Credentials("mexc", "k", "s"), rest_url="http://127.0.0.1:9")
    deal = PushDataV3ApiWrapper(channel=DOCS["private_deals"]["channel"], symbol=DOCS["private_deals"]["symbol"],
                                sendTime=DOCS["private_deals"]["sendTime"])
    d = DOCS["private_deals"]["privateDeals"]
    for k, v in d.items():
        setattr(deal.privateDeals, k, v)
    deal.privateDeals.clientOrderId = "myOrder1"
    [fill] = ad.push_updates(PushDataV3ApiWrapper.FromString(deal.SerializeToString()))
    assert fill.client_id == "myOrder1" and fill.state is State.PARTIALLY_FILLED and fill.filled == Decimal("1")
    f = fill.fills[0]
    assert (f.qty, f.price, f.fee, f.fee_asset, f.trade_id) == (Decimal("1"), Decimal("3.6962"),
                                                               Decimal(d["feeAmount"]), "USDT", d["tradeId"])
    order = PushDataV3ApiWrapper(channel=DOCS["private_orders"]["channel"], symbol=DOCS["private_orders"]["symbol"])
    for k, v in DOCS["private_orders"]["privateOrders"].items():
        setattr(order.privateOrders, k, v)
    order.privateOrders.clientId, order.privateOrders.id = "myOrder1", d["orderId"]
    [upd] = ad.push_updates(PushDataV3ApiWrapper.FromString(order.SerializeToString()))
    assert (upd.state, upd.filled, upd.cum_quote, upd.avg_price, upd.venue_status, upd.venue_order_id) == (
        State.FILLED, Decimal("1"), Decimal("3.6962"), Decimal("3.6962"), "FILLED", d["orderId"])
    assert ad._dealt == {}          # forgotten once the order is final


def test_json_body_is_signed_as_sent():
    """MEXC takes POST parameters in a JSON body too: totalParams is the query string then the
    body exactly as sent."""
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account(VENUE, "key-A", "secret-A")
            base = sim.rest_url(VENUE)
            async with httpx.AsyncClient() as c:
                now = await _server_ms(c, base)
                q = f"timestamp={now}"
                b = json.dumps({"symbol": SYM, "side": "BUY", "type": "MARKET", "quantity": "0.01"})
                sig = hmac.new(b"secret-A", (q + b).encode(), hashlib.sha256).hexdigest()
                h = {"X-MEXC-APIKEY": "key-A", "Content-Type": "application/json"}
                r = await c.post(f"{base}/api/v3/order?{q}&signature={sig}", content=b, headers=h)
                assert r.status_code == 200 and r.json()["type"] == "MARKET", r.text
                r = await c.post(f"{base}/api/v3/order?{q}&signature={sig}", content=b.replace("0.01", "0.02"), headers=h)
                assert r.json() == DOCS["errors"]["bad_signature"]
    run(body())


# -- bad input ---------------------------------------------------------------------------------

def test_bad_input_is_refused_before_sending():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYM)
            assert (inst.tick_size, inst.lot_size) == ("0.01", "0.000001")      # quotePrecision 2, baseAssetPrecision 6
            bad = [
                (dict(side="buy", type="limit", qty=QTY, price="65000.005"), "multiple of 0.01"),
                (dict(side="buy", type="market", qty="0.0100005"), "multiple of 0.000001"),
                (dict(side="buy", type="market", qty="0"), "quantity must be positive"),
                (dict(side="buy", type="market", qty="-0.01"), "quantity must be positive"),
                (dict(side="buy", type="stop", qty=QTY, stop_price="70000"), "no stop orders"),
                (dict(side="sell", type="market", qty=QTY, reduce_only=True), "would increase or open"),
                (dict(side="buy", type="market", qty=QTY, leverage=3), "leverage applies to perpetuals only"),
            ]
            for kw, match in bad:
                with pytest.raises(OrderError, match=match):
                    await ex.place(await ex.request(SYM, **kw))
            with pytest.raises(OrderError, match=r"unknown symbol 'DOGEXYZ' on mexc \(-1121"):
                await ex.request("DOGEXYZ", "buy", "market", "1")
            with pytest.raises(OrderError, match="no spot testnet"):
                type(ex.adapter)(__import__("nexus.exec.keys", fromlist=["Credentials"]).Credentials("mexc", "k", "s"),
                                 testnet=True)
            assert ex.sends == 0 and len(sim_orders(sim)) == 0
            assert all(not p.qty for p in ex.positions.book.values())
            # the venue's own refusals, when they reach it: nothing placed
            with pytest.raises(VenueRejected) as e:
                await ex.place(await ex.request(SYM, "buy", "market", "900"))
            assert (e.value.code, e.value.message) == (30004, "Insufficient position") and ex.sends == 1
            with pytest.raises(VenueRejected) as e:
                await ex.place(await ex.request(SYM, "buy", "limit", "0.000010", price="65000.00"))
            assert e.value.code == 30002 and "minimum transaction volume" in e.value.message
            assert len(sim_orders(sim)) == 0
    run(body())


def test_wire_errors_answer_with_mexc_codes():
    """A client that skipped the checks: the simulator answers the raw wire's mistakes as MEXC does."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            cases = [
                (f"symbol={SYM}&side=BUY&type=MARKET&quantity=0.0100005", 400, "quantity scale is invalid"),
                (f"symbol={SYM}&side=BUY&type=LIMIT&quantity=0.01&price=65000.005", 400, "price scale is invalid"),
                ("symbol=XBTUSDT&side=BUY&type=MARKET&quantity=0.01", 10007, "bad symbol"),
                (f"symbol={SYM}&side=BUY&type=STOP_LOSS&quantity=0.01&stopPrice=70000", 700008,
                 "Illegal characters found in parameter 'type'"),
                (f"symbol={SYM}&side=BUY&type=LIMIT_MAKER&quantity=0.01&price=60000", 30041,
                 "current order type can not place order"),
                (f"symbol={SYM}&side=SELL&type=MARKET&quantity=50", 30004, "Insufficient position"),
                (f"symbol={SYM}&side=BUY&type=LIMIT&quantity=0.01", 700008, "Illegal characters found in parameter 'price'"),
            ]
            for params, code, msg in cases:
                with pytest.raises(VenueRejected) as e:
                    await ad._call("POST", "/api/v3/order", params)
                assert (e.value.code, e.value.message, e.value.status) == (code, msg, 400), e.value
            with pytest.raises(VenueRejected) as e:
                await ad._call("DELETE", "/api/v3/order", f"symbol={SYM}")
            assert e.value.code == 700004
            with pytest.raises(VenueRejected) as e:
                await ad._call("GET", "/api/v3/order", f"symbol={SYM}&origClientOrderId=nope")
            assert (e.value.code, e.value.message) == (DOCS["errors"]["unknown_order_query"]["code"],
                                                       DOCS["errors"]["unknown_order_query"]["msg"])
            # a market buy by quote amount (what ccxt sends): converted at the book
            r = await ad._call("POST", "/api/v3/order", f"symbol={SYM}&side=BUY&type=MARKET&quoteOrderQty=650")
            so = next(iter(sim_orders(sim).values()))
            assert so.status == "FILLED" and so.notional <= 650 and r["type"] == "MARKET"
    run(body())


def test_clock_drift_is_a_clear_error_naming_the_drift():
    async def body():
        async with simulator(VENUES) as sim:
            await assert_clock_drift_refused(sim, VENUE, SYM, "buy", QTY, -7000, ("700003", "recvWindow 5000 ms"))
    run(body())


def test_key_with_withdrawals_is_refused():
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account(VENUE, "key-W", "secret-W", can_withdraw=True)
            await assert_key_refused(sim, VENUE, "key-W", "secret-W")
            async with executor(sim, VENUE) as ok:
                info = await ok.adapter.key_info()
                assert info["api_key"] == "key-…" and info["permissions"]["canWithdraw"] is False
                assert info["permissions"]["SPOT"] is True and abs(info["time_offset_ms"]) < 5000
    run(body())


def test_timeout_queries_by_client_id_and_never_doubles():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, timeout_s=0.5) as ex:
            req = await place_through_a_timeout(ex, sim.exchange(VENUE), SYM, "buy", QTY)
            assert ex.positions.get(VENUE, SYM).qty == Decimal(QTY)
    run(body())


# -- MEXC's own auth failures --------------------------------------------------------------------

def test_auth_failures_answer_with_mexc_codes():
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account(VENUE, "key-A", "secret-A")
            base = sim.rest_url(VENUE)
            async with httpx.AsyncClient() as c:
                now = await _server_ms(c, base)
                order = f"symbol={SYM}&side=BUY&type=MARKET&quantity=0.01"
                cases = [
                    ({}, _signed("secret-A", f"{order}&timestamp={now}"), 400, "api key required"),
                    ({"X-MEXC-APIKEY": "nobody"}, _signed("secret-A", f"{order}&timestamp={now}"), 10072, None),
                    ({"X-MEXC-APIKEY": "key-A"}, _signed("wrong", f"{order}&timestamp={now}"), 700002,
                     DOCS["errors"]["bad_signature"]["msg"]),
                    ({"X-MEXC-APIKEY": "key-A"}, f"{order}&timestamp={now}", 700002, None),
                    ({"X-MEXC-APIKEY": "key-A"}, _signed("secret-A", f"{order}&timestamp={now - 6000}"), 700003,
                     DOCS["errors"]["recv_window"]["msg"]),
                    ({"X-MEXC-APIKEY": "key-A"}, _signed("secret-A", f"{order}&timestamp={now + 1500}"), 700003, None),
                    ({"X-MEXC-APIKEY": "key-A"}, _signed("secret-A", f"{order}&recvWindow=60000&timestamp={now}"),
                     700005, None),
                ]
                for headers, query, code, msg in cases:
                    r = await c.post(f"{base}/api/v3/order?{query}", headers=headers)
                    assert r.status_code == 400 and r.json()["code"] == code, r.text
                    if msg:
                        assert r.json()["msg"] == msg
                # an older timestamp inside a wider recvWindow, and the totalParams rule: query + body
                r = await c.post(f"{base}/api/v3/order?{_signed('secret-A', f'{order}&recvWindow=10000&timestamp={now - 6000}')}",
                                 headers={"X-MEXC-APIKEY": "key-A"})
                assert r.status_code == 200 and r.json()["orderId"].startswith("C02__"), r.text
                q, b = f"symbol={SYM}&side=BUY", f"type=MARKET&quantity=0.01&timestamp={now}"
                sig = hmac.new(b"secret-A", (q + b).encode(), hashlib.sha256).hexdigest()
                r = await c.post(f"{base}/api/v3/order?{q}", content=f"{b}&signature={sig}",
                                 headers={"X-MEXC-APIKEY": "key-A", "Content-Type": "application/x-www-form-urlencoded"})
                assert r.status_code == 200, r.text
                assert len(sim_orders(sim)) == 2
    run(body())


def test_order_bytes_are_accepted_as_sent():
    """The bytes `nexus bench exec` times are a request the venue accepts (the simulator's path
    prefix added to the request line, which no signature covers)."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            req = await ex.request(SYM, "buy", "market", QTY)
            raw = ex.adapter.order_bytes(req)
            assert b"X-MEXC-APIKEY: key-A\r\n" in raw and b"&recvWindow=5000&timestamp=" in raw
            doc = await send_raw(sim, VENUE, raw.replace(b" /", f" /{VENUE}/".encode(), 1))
            assert doc["orderId"].startswith("C02__") and set(doc) == set(DOCS["new_order"]), doc
            assert sim.exchange(VENUE).by_client[("key-A", req.client_id)].status == "FILLED"
            assert isinstance(req, OrderRequest)
    run(body())


# -- the CLI, no secret anywhere -----------------------------------------------------------------

def test_cli_session_mexc(tmp_path):
    from tests.exec.test_order_cli import _session

    key, secret = "mx0v" + secrets.token_hex(8), "nxsecret" + secrets.token_hex(24)
    keys = {"NEXUS_MEXC_API_KEY": key, "NEXUS_MEXC_API_SECRET": secret}
    for nexus, outputs in _session(tmp_path, "mexc", key, secret, "nxpass" + secrets.token_hex(12), keys, "mexc"):
        r = nexus("keys", "check", "--json")
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["api_key"] == key[:4] + "…" and info["permissions"]["canWithdraw"] is False
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["state"] == "filled"
        r = nexus("positions", "--json")
        assert r.returncode == 0 and "BTC" in {p["symbol"] for p in json.loads(r.stdout)}, r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "sell", "--type", "limit", "--qty", QTY,
                  "--price", "999999.00", "--client-id", "mxA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "ls", "--symbol", SYM, "--json")
        assert r.returncode == 0 and [o["client_id"] for o in json.loads(r.stdout)] == ["mxA1"], r.stderr
        r = nexus("order", "status", "--symbol", SYM, "--client-id", "mxA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "cancel", "--symbol", SYM, "--client-id", "mxA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled", r.stderr
        r = nexus("order", "cancel", "--symbol", SYM, "--client-id", "mxA1", "--json")
        assert r.returncode == 3 and "-2011 Unknown order sent." in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", "900")
        assert r.returncode == 3 and "30004 Insufficient position" in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "limit", "--qty", QTY,
                  "--price", "65000.005")
        assert r.returncode == 2 and "multiple of 0.01" in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY, keys=False)
        assert r.returncode == 2 and "NEXUS_MEXC_API_KEY" in r.stderr
        r = nexus("order", "place", "--sim", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY,
                  "--json", keys=False)
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
