"""KuCoin spot order entry end to end against the simulator (real HTTP and WebSocket on
127.0.0.1): market / limit / stop, the limit resting in the public book then filling, cancel and
status by clientOid, balances, the private topics on a bullet-private token, bad inputs refused
before sending (off-grid naming the grid, unknown symbol, reduce-only and leverage on spot, a
missing passphrase), KuCoin's own refusals (balance, increments, unknown pair and order), its
authentication codes (signature, timestamp, passphrase, key), clock drift, a key with the
withdrawal right, idempotent retry, the raw request bytes, and a CLI session whose secrets
appear nowhere. Keys are made per test, in memory."""
import asyncio
import base64
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
from nexus.exec.keys import Credentials, KeysMissing, load
from nexus.exec.orders import OrderError, State
from nexus.sim.market import SELL
from tests.exec.tradesim import (
    assert_clock_drift_refused, assert_key_refused, executor, place_through_a_timeout, run, sell_down_to, send_raw,
    simulator,
)

VENUE, SYM, QTY = "kucoin", "BTC-USDT", "0.01"
HF = "/api/v1/hf/orders"


def sim_orders(sim):
    return sim.exchange(VENUE).orders


def _b64(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def _headers(key, secret, passphrase, ts, method, endpoint, body="", version="2"):
    return {"KC-API-KEY": key, "KC-API-SIGN": _b64(secret, f"{ts}{method}{endpoint}{body}"),
            "KC-API-TIMESTAMP": str(ts), "KC-API-PASSPHRASE": _b64(secret, passphrase) if version != "1" else passphrase,
            "KC-API-KEY-VERSION": version, "Content-Type": "application/json"}


async def _server_ms(c: httpx.AsyncClient, base: str) -> int:
    return int((await c.get(base + "/api/v1/timestamp")).json()["data"])


def test_market_buy_and_sell_move_balances():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            acct = sim.exchange(VENUE).accounts["key-A"]
            usdt0, btc0 = acct.balances["USDT"], acct.balances["BTC"]
            o = await ex.place(await ex.request(SYM, "buy", "market", QTY))
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY) and ex.sends == 1
            so = sim.exchange(VENUE).by_client[("key-A", o.client_id)]
            assert o.avg_price == so.notional / Decimal(QTY)
            assert acct.balances["BTC"] == btc0 + Decimal(QTY)
            assert acct.balances["USDT"] == usdt0 - so.notional - so.fees
            bal = {p.symbol: p for p in await ex.adapter.positions()}
            assert bal["BTC"].qty == acct.balances["BTC"] and bal["USDT"].qty == acct.balances["USDT"]
            st = await ex.status(SYM, o.client_id)
            assert st.state is State.FILLED and st.venue_status == "done" and st.cum_quote == so.notional
            back = await ex.place(await ex.request(SYM, "sell", "market", QTY))
            assert back.state is State.FILLED and acct.balances["BTC"] == btc0
            assert ex.positions.get(VENUE, SYM).qty == 0
    run(body())


def test_take_profit_and_stop_loss_in_ticks_close_a_filled_entry():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            o = await ex.place(await ex.request(SYM, "buy", "market", QTY, tp_ticks=500, sl_ticks=300))
            assert o.state is State.FILLED and not ex.bracket_errors
            tick = Decimal("0.1")
            ref = (o.avg_price / tick).to_integral_value() * tick
            held = {so.type: so for so in sim_orders(sim).values() if so.client_id != o.client_id}
            spec = sim.core.feeds[VENUE].spec
            assert held["LIMIT"].side == held["STOP"].side == SELL
            assert Decimal(spec.px(held["LIMIT"].price)) == ref + 500 * tick
            assert Decimal(spec.px(held["STOP"].stop)) == ref - 300 * tick
            assert {u.client_id for u in await ex.adapter.open_orders(SYM)} == {held["LIMIT"].client_id}
            st = await ex.status(SYM, held["STOP"].client_id)
            assert st.state is State.ACCEPTED and st.venue_status == "stop NEW"
    run(body())


def _gap_below_best_bid(sim, tick) -> str:
    bids = sorted((Decimal(p) for p, _ in sim.book(VENUE)["bids"]), reverse=True)
    p = bids[min(10, len(bids) - 1)] - Decimal(tick)
    while p in set(bids):
        p -= Decimal(tick)
    return str(p)


def test_limit_rests_in_the_public_book_then_fills_on_the_private_stream():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYM)
            assert (inst.tick_size, inst.lot_size, inst.base, inst.quote) == ("0.1", "0.00000001", "BTC", "USDT")
            price = _gap_below_best_bid(sim, inst.tick_size)
            o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
            assert o.state is State.ACCEPTED
            async with httpx.AsyncClient() as c:         # the public REST book, as published
                seen = None
                for _ in range(50):
                    doc = (await c.get(sim.rest_url(VENUE) + f"/api/v1/market/orderbook/level2_100?symbol={SYM}")).json()
                    seen = next((q for p, q in doc["data"]["bids"] if Decimal(p) == Decimal(price)), None)
                    if seen is not None:
                        break
                    await asyncio.sleep(0.05)
            assert Decimal(seen) == Decimal(QTY)
            assert [u.client_id for u in await ex.adapter.open_orders(SYM)] == [o.client_id]
            assert [u.client_id for u in await ex.adapter.open_orders()] == [o.client_id]     # all symbols
            async with executor(sim, VENUE, "key-B", "secret-B", stream=False) as other:
                await sell_down_to(sim, VENUE, other, SYM, price, ex, o.client_id)
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)      # from tradeOrdersV2
            assert o.avg_price == Decimal(price) and o.events[-1].dst is State.FILLED
            st = await ex.status(SYM, o.client_id)
            assert st.state is State.FILLED and st.filled == Decimal(QTY)
    run(body())


def test_stop_triggers_on_last_price_and_cancel():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            ask = sim.book(VENUE)["asks"][:4][-1][0]
            o = await ex.place(await ex.request(SYM, "buy", "stop", QTY, stop_price=ask))
            assert o.state is State.ACCEPTED and o.venue_order_id.startswith("vs")
            so = sim.exchange(VENUE).by_client[("key-A", o.client_id)]
            assert so.type == "STOP" and so.status == "NEW"
            st = await ex.status(SYM, o.client_id)
            assert st.state is State.ACCEPTED and st.venue_status == "stop NEW"
            far = str(Decimal(ask) * 2)
            c = await ex.place(await ex.request(SYM, "buy", "stop", QTY, stop_price=far))
            u = await ex.cancel(SYM, c.client_id)
            assert u.state is State.CANCELLED and c.state is State.CANCELLED
            async with executor(sim, VENUE, "key-B", "secret-B", stream=False) as other:
                for _ in range(5):      # buy up to the stop price (the published book may lag a step)
                    if so.status != "NEW":
                        break
                    sweep = sum(Decimal(q) for p, q in sim.book(VENUE)["asks"] if Decimal(p) < Decimal(ask))
                    await other.place(await other.request(SYM, "buy", "market", str(sweep + Decimal("0.00000001"))))
                    await asyncio.sleep(0.2)
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY) and not ex._stream.done()
            st = await ex.status(SYM, o.client_id)      # triggered: an HF order with the same clientOid
            assert st.state is State.FILLED and st.venue_status == "done"
    run(body())


def test_private_topics_carry_kucoin_fields_and_need_a_private_token():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            await ad._token()
            assert "token=" in ad.ws_url and ad.ping_s == 18.0
            async with aiohttp.ClientSession() as s, s.ws_connect(ad.ws_url) as ws:
                assert json.loads((await ws.receive()).data)["type"] == "welcome"
                for i, topic in enumerate(("/spotMarket/tradeOrdersV2", "/spotMarket/advancedOrders", "/account/balance")):
                    await ws.send_str(json.dumps({"id": str(i), "type": "subscribe", "topic": topic,
                                                  "privateChannel": True, "response": True}))
                    assert json.loads((await ws.receive()).data) == {"id": str(i), "type": "ack"}
                inst = await ex.instrument(SYM)
                price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 10 * Decimal(inst.tick_size))
                o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
                await ex.cancel(SYM, o.client_id)
                kinds, balances = [], 0
                while "canceled/done" not in kinds or balances < 2:     # balances follow the order
                    d = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    assert d["type"] == "message" and d["channelType"] == "private"
                    if d["topic"] == "/account/balance":
                        balances += 1
                        assert {"currency", "total", "available", "hold", "relationEvent"} <= set(d["data"])
                        continue
                    assert d["topic"] == "/spotMarket/tradeOrdersV2" and d["subject"] == "orderChange"
                    row = d["data"]
                    assert row["clientOid"] == o.client_id and row["symbol"] == SYM and row["price"] == price
                    assert {"orderId", "filledSize", "remainSize", "canceledSize", "status", "ts", "orderTime",
                            "orderType", "originSize", "side"} <= set(row)
                    kinds.append(f"{row['type']}/{row['status']}")
                assert kinds == ["received/new", "open/open", "canceled/done"]
                stop = await ex.place(await ex.request(SYM, "sell", "stop", QTY, stop_price=price))
                d = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                assert d["topic"] == "/spotMarket/advancedOrders" and d["subject"] == "stopOrder"
                assert d["data"]["type"] == "open" and d["data"]["stop"] == "loss" and d["data"]["stopPrice"] == price
                assert d["data"]["orderId"] == stop.venue_order_id
            # a public token cannot subscribe a private topic
            async with httpx.AsyncClient() as c:
                pub = (await c.post(sim.rest_url(VENUE) + "/api/v1/bullet-public")).json()["data"]
            async with aiohttp.ClientSession() as s, s.ws_connect(
                    f"{pub['instanceServers'][0]['endpoint']}?token={pub['token']}&connectId=p1") as ws:
                assert json.loads((await ws.receive()).data)["type"] == "welcome"
                await ws.send_str(json.dumps({"id": "9", "type": "subscribe", "topic": "/spotMarket/tradeOrdersV2",
                                              "privateChannel": True, "response": True}))
                assert json.loads((await ws.receive()).data) == {"id": "9", "type": "error", "code": 403,
                                                                "data": "login is required"}
    run(body())


def test_cancel_status_and_unknown_orders():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYM)
            price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 10 * Decimal(inst.tick_size))
            o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
            assert (await ex.status(SYM, o.client_id)).state is State.ACCEPTED
            u = await ex.cancel(SYM, o.client_id)
            assert u.state is State.CANCELLED and o.state is State.CANCELLED and u.venue_status == "done"
            assert await ex.adapter.open_orders(SYM) == [] and await ex.adapter.open_orders() == []
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.cancel(SYM, "nosuchorder")
            assert (e.value.code, e.value.message) == ("126043", "Order does not exist")
            assert await ex.adapter.query(SYM, "nosuchorder") is None
            with pytest.raises(VenueRejected) as e:                  # cancelling a finished order
                await ex.adapter._call("DELETE", f"{HF}/client-order/{o.client_id}", f"symbol={SYM}")
            assert e.value.code == "126043"
    run(body())


def test_bad_input_is_refused_before_sending():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            for kw, match in [
                (dict(side="buy", type="limit", qty=QTY, price="65000.05"), "multiple of 0.1"),
                (dict(side="buy", type="market", qty="0.000000001"), "multiple of 0.00000001"),
                (dict(side="buy", type="market", qty="0"), "quantity must be positive"),
                (dict(side="buy", type="market", qty="-1"), "quantity must be positive"),
                (dict(side="buy", type="market", qty=QTY, leverage=5), "leverage applies to perpetuals only"),
            ]:
                with pytest.raises(OrderError, match=match):
                    await ex.place(await ex.request(SYM, **kw))
            with pytest.raises(OrderError, match="reduce-only applies to perpetuals only"):
                await ex.adapter.place(await ex.request(SYM, "sell", "market", QTY, reduce_only=True))
            with pytest.raises(OrderError, match="unknown symbol 'DOGE-XYZ' on kucoin"):
                await ex.request("DOGE-XYZ", "buy", "market", "1")
            with pytest.raises(OrderError, match="leverage applies to perpetuals only"):
                await ex.adapter.set_leverage(SYM, 5)
            assert ex.sends == 0 and len(sim_orders(sim)) == 0
            with pytest.raises(VenueRejected) as e:
                await ex.place(await ex.request(SYM, "buy", "market", "50"))       # 3.25M USDT of 1M: no
            assert (e.value.code, e.value.message) == ("200004", "Balance insufficient!")
            assert len(sim_orders(sim)) == 0 and ex.positions.get(VENUE, SYM).qty == 0
    run(body())


def test_venue_refusals_in_kucoin_codes():
    """What KuCoin itself answers to a client that skipped the checks (signed raw requests)."""
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            cases = [
                ({"symbol": "DOGE-XYZ", "type": "market", "size": QTY}, ("126004", "Trading pair does not exist")),
                ({"type": "limit", "price": "65000.05", "size": QTY}, ("400100", "Price increment invalid.")),
                ({"type": "market", "size": "0.000000001"}, ("400100", "Order size increment invalid.")),
                ({"type": "market", "size": "0"}, ("400100", "Order size below the minimum requirement.")),
                ({"type": "twap", "size": QTY}, ("400100", "Parameter Error: type")),
                ({"type": "market", "size": QTY, "side": "hold"}, ("400100", "Parameter Error: side")),
            ]
            for i, (c, (code, msg)) in enumerate(cases):
                order = {"clientOid": f"bad{i}", "symbol": SYM, "side": "buy", **c}
                with pytest.raises(VenueRejected) as e:
                    await ad._call("POST", HF, json.dumps(order))
                assert e.value.code == code and e.value.message.startswith(msg), (c, e.value)
            o = await ex.place(await ex.request(SYM, "buy", "market", QTY, client_id="dupA1"))
            assert o.state is State.FILLED
            with pytest.raises(VenueRejected) as e:
                await ad._call("POST", HF, json.dumps({"clientOid": "dupA1", "symbol": SYM, "side": "buy",
                                                       "type": "market", "size": QTY}))
            assert (e.value.code, e.value.message) == ("126044", "clientOid duplicate")
            assert len(sim_orders(sim)) == 1
    run(body())


def test_missing_passphrase_is_refused_before_sending():
    with pytest.raises(KeysMissing, match="silently fail") as e:
        from nexus.venues.kucoin.orders import spot
        spot(Credentials(VENUE, "key-A", "secret-A", None), rest_url="http://127.0.0.1:9/kucoin")
    assert "NEXUS_KUCOIN_API_PASSPHRASE" in str(e.value) and "Nothing was sent" in str(e.value)
    env = {"NEXUS_KUCOIN_API_KEY": "k", "NEXUS_KUCOIN_API_SECRET": "s"}
    with pytest.raises(KeysMissing, match="NEXUS_KUCOIN_API_PASSPHRASE"):
        load(VENUE, env=env)


def test_auth_failures_answer_with_kucoin_codes():
    async def body():
        async with simulator([VENUE]) as sim:
            sim.open_account(VENUE, "key-A", "secret-A", passphrase="pass-A")
            base, path = sim.rest_url(VENUE), "/api/v1/accounts"
            async with httpx.AsyncClient() as c:
                now = await _server_ms(c, base)
                good = _headers("key-A", "secret-A", "pass-A", now, "GET", path)
                r = await c.get(base + path, headers=good)
                assert r.status_code == 200 and r.json()["code"] == "200000"
                clear = _headers("key-A", "secret-A", "pass-A", now, "GET", path, version="1")   # v1: clear
                assert (await c.get(base + path, headers=clear)).json()["code"] == "200000"
                flipped = dict(good, **{"KC-API-SIGN": good["KC-API-SIGN"][:-3] + ("b==" if good["KC-API-SIGN"][-3]
                                                                                   != "b" else "c==")})
                cases = [
                    (flipped, "400005", "Invalid KC-API-SIGN"),
                    (_headers("key-A", "secret-A", "pass-A", now - 6_000, "GET", path), "400002",
                     "Invalid KC-API-TIMESTAMP."),
                    (_headers("key-A", "secret-A", "pass-B", now, "GET", path), "400004", "Invalid KC-API-PASSPHRASE"),
                    (_headers("key-Z", "secret-A", "pass-A", now, "GET", path), "400003", "KC-API-KEY not exists"),
                    ({k: v for k, v in good.items() if k != "KC-API-PASSPHRASE"}, "400001", None),
                    (_headers("key-A", "secret-A", "pass-A", now, "GET", path, version="7"), "400009", None),
                    (_headers("key-A", "secret-A", "pass-A", now, "GET", path + "?type=trade"), "400005", None),
                ]
                for h, code, msg in cases:
                    r = await c.get(base + path, headers=h)
                    assert r.status_code == 401 and r.json()["code"] == code, (code, r.text)
                    if msg:
                        assert r.json()["msg"] == msg
            assert len(sim_orders(sim)) == 0
    run(body())


def test_clock_drift_is_a_clear_error_naming_the_drift():
    async def body():
        async with simulator([VENUE]) as sim:  # 9 s ahead of the venue: outside its 5 s window
            await assert_clock_drift_refused(sim, VENUE, SYM, "buy", QTY, 9_000, ("400002", "5 s either way"), 300,
                                             then_fills=True)
    run(body())


def test_key_with_withdrawal_right_is_refused():
    async def body():
        async with simulator([VENUE]) as sim:
            sim.open_account(VENUE, "key-W", "secret-W", passphrase="pass-A", can_withdraw=True)
            await assert_key_refused(sim, VENUE, "key-W", "secret-W")
            async with executor(sim, VENUE, stream=False) as ok:
                info = await ok.adapter.key_info()
                assert info["api_key"] == "key-…" and info["permissions"] == {"General": True, "Spot": True}
    run(body())


def test_timeout_queries_by_client_id_and_never_doubles():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, timeout_s=0.5) as ex:
            req = await place_through_a_timeout(ex, sim.exchange(VENUE), SYM, "buy", QTY)
            with pytest.raises(VenueRejected) as e:      # a resend with the same clientOid is refused
                await ex.adapter.place(req)
            assert e.value.code == "126044" and len(sim_orders(sim)) == 1
    run(body())


def test_order_bytes_are_accepted_as_sent():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, stream=False) as ex:
            req = await ex.request(SYM, "buy", "market", QTY)
            raw = ex.adapter.order_bytes(req)
            assert raw.startswith(b"POST /api/v1/hf/orders HTTP/1.1\r\n") and b"KC-API-KEY-VERSION: 2" in raw
            assert b"pass-A" not in raw             # the passphrase goes signed, never in clear
            raw = raw.replace(b"POST /api", b"POST /kucoin/api", 1)     # the simulator's venue prefix
            doc = await send_raw(sim, VENUE, raw)
            assert doc["code"] == "200000" and doc["data"]["clientOid"] == req.client_id, doc
            assert sim.exchange(VENUE).by_client[("key-A", req.client_id)].status == "FILLED"
    run(body())


def test_credentials_are_forgotten_and_masked():
    creds = Credentials(VENUE, "abcdef123456", "secret-xyz", "pass-xyz")
    from nexus.venues.kucoin.orders import spot
    ad = spot(creds, rest_url="http://127.0.0.1:9/kucoin")
    assert "abcdef" not in repr(ad) and "secret-xyz" not in repr(ad) and "pass-xyz" not in repr(ad)
    with pytest.raises(Exception, match="already handed"):
        creds.secret
    assert creds.passphrase is None
    asyncio.run(ad.close())


def test_cli_session_kucoin(tmp_path):
    """KuCoin through the CLI: key, secret and passphrase in the environment; their bytes appear in
    no output and no file; a missing passphrase is refused before sending; --sim works keyless."""
    from tests.exec.test_order_cli import _session

    key, secret = "nxkey" + secrets.token_hex(16), "nxsecret" + secrets.token_hex(24)
    passphrase = "nxpass" + secrets.token_hex(12)
    keys = {"NEXUS_KUCOIN_API_KEY": key, "NEXUS_KUCOIN_API_SECRET": secret, "NEXUS_KUCOIN_API_PASSPHRASE": passphrase}
    for nexus, outputs in _session(tmp_path, "kucoin", key, secret, passphrase, keys, "kucoin"):
        r = nexus("keys", "check", "--json")
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["api_key"] == key[:4] + "…" and info["permissions"] == {"General": True, "Spot": True}
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["state"] == "filled"
        r = nexus("positions", "--json")
        assert r.returncode == 0 and "BTC" in {p["symbol"] for p in json.loads(r.stdout)}, r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "sell", "--type", "limit", "--qty", QTY,
                  "--price", "999999.0", "--client-id", "kcA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "ls", "--json")
        assert [o["client_id"] for o in json.loads(r.stdout)] == ["kcA1"], r.stderr
        r = nexus("order", "cancel", "--symbol", SYM, "--client-id", "kcA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled", r.stderr
        r = nexus("order", "status", "--symbol", SYM, "--client-id", "nosuch", "--json")
        assert r.returncode == 3 and "126043" in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", "50")
        assert r.returncode == 3 and "200004" in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "limit", "--qty", QTY,
                  "--price", "65000.05")
        assert r.returncode == 2 and "multiple of 0.1" in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY,
                  drop=("NEXUS_KUCOIN_API_PASSPHRASE",))
        assert r.returncode == 2 and "silently" in r.stderr and "NEXUS_KUCOIN_API_PASSPHRASE" in r.stderr
        r = nexus("order", "place", "--sim", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY,
                  "--json", keys=False)
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
        assert len(outputs) >= 11


EXAMPLES = json.loads((Path(__file__).parents[2] / "fixtures/venues/kucoin/private_examples.json").read_text())


def test_kucoin_published_examples_read_as_documented():
    """KuCoin's own published examples (fixture: its OpenAPI x-response-example values) through the
    adapter, without the simulator."""
    from nexus.venues.kucoin.orders import WITHDRAW_PERMISSIONS, KucoinAdapter

    ad = KucoinAdapter(Credentials(VENUE, "k", "s", "p"), rest_url="http://127.0.0.1:9")
    done = ad.update(EXAMPLES["order_by_client_oid"]["data"])       # filled 0.00001 of 0.00001
    assert (done.state, done.filled, done.cum_quote, done.venue_order_id) == (
        State.FILLED, Decimal("0.00001"), Decimal("0.677176"), "6717422bd51c29000775ea03")
    live = ad.update(EXAMPLES["open_orders"]["data"][0])
    assert live.state is State.ACCEPTED and live.client_id == "5c52e11203aa677f33e493fb"
    (new,) = ad.stream_updates(EXAMPLES["push_order_v2"])
    assert (new.state, new.venue_status, new.filled) == (State.ACCEPTED, "received/new", 0)
    (opened,) = ad.stream_updates(EXAMPLES["push_order_v1"])
    assert (opened.state, opened.venue_status) == (State.ACCEPTED, "open/open")
    stop = EXAMPLES["push_stop"]
    assert ad.stream_updates(stop) == []                             # not one of ours
    ad.stop_ids[stop["data"]["orderId"]] = "cidS1"
    assert [u.client_id for u in ad.stream_updates(stop)] == ["cidS1"]
    assert ad.stream_updates(EXAMPLES["push_balance"]) == []
    perms = EXAMPLES["api_key"]["data"]["permission"].split(",")
    assert set(perms) & set(WITHDRAW_PERMISSIONS) == {"Transfer"}    # that key would be refused
    asyncio.run(ad.close())


def test_simulator_bodies_have_the_documented_fields():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            await ad._token()
            async with aiohttp.ClientSession() as s, s.ws_connect(ad.ws_url) as ws:
                await ws.receive()
                for topic in ("/spotMarket/tradeOrders", "/spotMarket/advancedOrders", "/account/balance"):
                    await ws.send_str(json.dumps({"id": topic, "type": "subscribe", "topic": topic,
                                                  "privateChannel": True, "response": True}))
                    await ws.receive()
                inst = await ex.instrument(SYM)
                price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 10 * Decimal(inst.tick_size))
                o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
                st = await ex.place(await ex.request(SYM, "sell", "stop", QTY, stop_price=price))
                hf = await ad._call("GET", f"{HF}/client-order/{o.client_id}", f"symbol={SYM}")
                assert set(hf) == set(EXAMPLES["order_by_client_oid"]["data"])
                (sb,) = await ad._call("GET", "/api/v1/stop-order/queryOrderByClientOid", f"clientOid={st.client_id}")
                assert set(sb) == set(EXAMPLES["stop_order_by_client_oid"]["data"][0])
                rows = await ad._call("GET", "/api/v1/accounts", "")
                assert all(set(r) == set(EXAMPLES["accounts"]["data"][0]) for r in rows)
                k = await ad._call("GET", "/api/v1/user/api-key", "")
                assert set(k) == set(EXAMPLES["api_key"]["data"])
                pushes = {}
                while len(pushes) < 2:
                    d = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    pushes.setdefault(d["topic"], d)
                assert set(pushes["/spotMarket/tradeOrders"]["data"]) == set(EXAMPLES["push_order_v1"]["data"])
                assert set(pushes["/spotMarket/advancedOrders"]["data"]) == set(EXAMPLES["push_stop"]["data"])
                assert set(pushes["/spotMarket/advancedOrders"]) == set(EXAMPLES["push_stop"])
                await ex.cancel(SYM, o.client_id)
                while "/account/balance" not in pushes:
                    d = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    pushes.setdefault(d["topic"], d)
                assert set(pushes["/account/balance"]["data"]) == set(EXAMPLES["push_balance"]["data"])
    run(body())
