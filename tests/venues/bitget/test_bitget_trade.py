"""Bitget v2 spot and USDT-futures order entry end to end against the simulator (real HTTP and WebSocket on
127.0.0.1): market (a buy as an IOC limit), limit resting in the public `books` channel then
filling, stop as a plan order triggering on the last price, cancel and status, balances, the
private `orders` channel, every bad input of issue 14, idempotent retry, Bitget's own auth
failures (REST and WebSocket login) and a CLI session scanned for the secret's bytes."""
import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from decimal import Decimal

import aiohttp
import httpx
import pytest

from nexus.exec.client import VenueRejected
from nexus.exec.keys import Credentials, KeysMissing
from nexus.exec.orders import OrderError, State
from nexus.venues.bitget.orders import MARKET_BUY_BAND, BitgetAdapter
from tests.exec.test_order_cli import _session
from tests.exec.tradesim import (
    assert_clock_drift_refused, assert_key_refused, executor, place_through_a_timeout, run, send_raw, simulator,
)

VENUE, SYM, QTY = "bitget", "BTCUSDT", "0.010000"
VENUES = (VENUE,)
TRADE = "/api/v2/spot/trade/"


def sim_orders(sim):
    return sim.exchange(VENUE).orders


def _gap_below_best_bid(sim, tick) -> str:
    """A price with no level yet, ten levels below the touch: inside the books view, out of
    reach of the simulated flow for the test's few seconds."""
    bids = sorted((Decimal(p) for p, _ in sim.book(VENUE)["bids"]), reverse=True)
    p = bids[min(10, len(bids) - 1)] - Decimal(tick)
    while p in set(bids):
        p -= Decimal(tick)
    return str(p)


def test_market_buy_and_sell_move_balances():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            sx = sim.exchange(VENUE)
            acct = sx.accounts["key-A"]
            usdt0, btc0 = acct.balances["USDT"], acct.balances["BTC"]
            o = await ex.place(await ex.request(SYM, "buy", "market", QTY))
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY) and ex.sends == 1
            so = sx.by_client[("key-A", o.client_id)]
            # Bitget sizes a market buy in USDT: sent as an IOC limit for the exact BTC quantity
            px = sx.price_dec(so.price)            # the best ask + 1 % when sent, up to the tick
            assert so.type == "LIMIT" and o.avg_price < px <= o.avg_price * (1 + 2 * MARKET_BUY_BAND)
            assert px == px.quantize(Decimal("0.01"))
            assert o.avg_price == so.notional / Decimal(QTY)
            assert acct.balances["BTC"] == btc0 + Decimal(QTY)
            assert acct.balances["USDT"] == usdt0 - so.notional - so.fees
            bal = {p.symbol: p for p in await ex.adapter.positions()}
            assert bal["BTC"].qty == acct.balances["BTC"] and bal["USDT"].qty == acct.balances["USDT"]
            back = await ex.place(await ex.request(SYM, "sell", "market", QTY))
            assert back.state is State.FILLED and acct.balances["BTC"] == btc0
            assert sx.by_client[("key-A", back.client_id)].type == "MARKET"
            await asyncio.sleep(0.3)                     # the stream's fee items arrive
            pos = ex.positions.get(VENUE, SYM)
            assert pos.qty == 0 and pos.fees == so.fees + sx.by_client[("key-A", back.client_id)].fees
    run(body())


def test_limit_rests_in_public_book_then_fills():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYM)
            assert (inst.tick_size, inst.lot_size) == ("0.01", "0.000001")
            price = _gap_below_best_bid(sim, inst.tick_size)
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.url(VENUE)) as ws:
                await ws.send_str(json.dumps({"op": "subscribe", "args": [
                    {"instType": "SPOT", "channel": "books", "instId": SYM}]}))
                o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
                assert o.state is State.ACCEPTED
                seen = None
                while seen is None:
                    m = await asyncio.wait_for(ws.receive(), 5)
                    doc = json.loads(m.data) if m.data != "pong" else {}
                    levels = (doc.get("data") or [{}])[0].get("bids", ()) if "action" in doc else ()
                    seen = next((lv[1] for lv in levels if Decimal(lv[0]) == Decimal(price)), None)
                assert Decimal(seen) == Decimal(QTY)
            assert [u.client_id for u in await ex.adapter.open_orders(SYM)] == [o.client_id]
            async with executor(sim, VENUE, "key-B", "secret-B", stream=False) as other:
                # sell what bids at or above our price: the simulated market may add bids above
                # it meanwhile (a loaded machine), which take the sell first: sell again until filled
                for _ in range(5):
                    big = str(sum(Decimal(q) for p, q in sim.book(VENUE)["bids"] if Decimal(p) >= Decimal(price)))
                    await other.place(await other.request(SYM, "sell", "limit", big, price=price))
                    try:
                        await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 1)
                        break
                    except (asyncio.TimeoutError, TimeoutError):
                        continue
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)     # from the orders channel
            assert o.avg_price == Decimal(price) and o.events[-1].dst is State.FILLED
            st = await ex.status(SYM, o.client_id)
            assert st.state is State.FILLED and st.venue_status == "filled"
    run(body())


def test_stop_is_a_plan_order_triggering_on_last_price_and_cancel():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            ask = sim.book(VENUE)["asks"][:4][-1][0]            # four levels up: out of the flow's reach
            o = await ex.place(await ex.request(SYM, "buy", "stop", QTY, stop_price=ask))
            assert o.state is State.ACCEPTED
            plans = await ex.adapter._call("GET", TRADE + "current-plan-order", f"symbol={SYM}")
            assert [(p["clientOid"], p["status"], p["triggerPrice"], p["planType"]) for p in plans["orderList"]] == \
                [(o.client_id, "live", ask, "amount")]
            far = str(Decimal(ask) * 2)
            c = await ex.place(await ex.request(SYM, "buy", "stop", QTY, stop_price=far))
            u = await ex.cancel(SYM, c.client_id)
            assert u.state is State.CANCELLED and c.state is State.CANCELLED and u.venue_status == "plan cancelled"
            async with executor(sim, VENUE, "key-B", "secret-B", stream=False) as other:
                sweep = Decimal(QTY) + sum(Decimal(q) for p, q in sim.book(VENUE)["asks"] if Decimal(p) <= Decimal(ask))
                await other.place(await other.request(SYM, "buy", "market", str(sweep)))
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY)
            st = await ex.adapter.query(SYM, o.client_id)        # plan executed -> its sub order
            assert st.state is State.FILLED and st.client_id == o.client_id and st.venue_status == "filled"
    run(body())


def test_cancel_status_unknown_orders_and_orders_channel_fields():
    """The documented `orders` channel fields (Spot > WebSocket > Private > Order Channel)."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            async with aiohttp.ClientSession() as s, s.ws_connect(ad.ws_url) as ws:
                await ws.send_str(json.dumps({"op": "subscribe", "args": [
                    {"instType": "SPOT", "channel": "orders", "instId": "default"}]}))
                assert json.loads((await ws.receive()).data) == {"event": "error", "code": 30004,
                                                                 "msg": "User needs to log in"}
                await ws.send_str(ad.login_message())
                assert json.loads((await ws.receive()).data) == {"event": "login", "code": 0, "msg": ""}
                arg = {"instType": "SPOT", "channel": "orders", "instId": SYM}
                await ws.send_str(json.dumps({"op": "subscribe", "args": [arg]}))
                assert json.loads((await ws.receive()).data) == {"event": "subscribe", "arg": arg}
                inst = await ex.instrument(SYM)
                price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 10 * Decimal(inst.tick_size))
                o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
                assert (await ex.status(SYM, o.client_id)).state is State.ACCEPTED
                u = await ex.cancel(SYM, o.client_id)
                assert u.state is State.CANCELLED and o.state is State.CANCELLED
                await ex.place(await ex.request(SYM, "sell", "market", QTY))
                statuses, fill = [], None
                while fill is None:
                    d = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    assert d["action"] == "snapshot" and d["arg"] == arg
                    for row in d["data"]:
                        assert {"instId", "orderId", "clientOid", "size", "newSize", "notional", "orderType", "force",
                                "side", "accBaseVolume", "priceAvg", "status", "cTime", "uTime", "feeDetail",
                                "enterPointSource"} <= set(row)
                        statuses.append(row["status"])
                        if row.get("tradeId"):
                            fill = row
                assert statuses[:2] == ["live", "cancelled"]
                assert {"fillPrice", "tradeId", "baseVolume", "fillTime", "fillFee", "fillFeeCoin", "tradeScope"} <= \
                    set(fill) and fill["tradeScope"] == "T" and Decimal(fill["fillFee"]) < 0
            assert await ad.open_orders(SYM) == []
            with pytest.raises(VenueRejected) as e:
                await ad.cancel(SYM, "nosuchorder")
            assert (e.value.code, e.value.message) == ("43001", "The order does not exist")
            assert await ad.query(SYM, "nosuchorder") is None
    run(body())


# -- bad input --------------------------------------------------------------------------------

def test_bad_input_is_refused_before_sending():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(SYM)
            lot, tick = Decimal(inst.lot_size), Decimal(inst.tick_size)
            for kw, match in [
                (dict(side="buy", type="limit", qty=QTY, price=str(Decimal(65000) + tick / 2)), "multiple of 0.01"),
                (dict(side="buy", type="market", qty=str(Decimal(QTY) + lot / 2)), "multiple of 0.000001"),
                (dict(side="buy", type="market", qty="0"), "quantity must be positive"),
                (dict(side="buy", type="market", qty="-" + QTY), "quantity must be positive"),
            ]:
                with pytest.raises(OrderError, match=match):
                    await ex.place(await ex.request(SYM, **kw))
            with pytest.raises(OrderError, match="unknown symbol 'DOGEXYZ' on bitget"):
                await ex.request("DOGEXYZ", "buy", "market", "1")
            with pytest.raises(OrderError, match="spot .* and USDT futures .* only: not sent"):
                await ex.request("BTCUSD:COIN-FUTURES", "buy", "market", "0.01")
            with pytest.raises(OrderError, match="unknown symbol 'DOGEXYZ:USDT-FUTURES' on bitget"):
                await ex.request("DOGEXYZ:USDT-FUTURES", "buy", "market", "1")
            with pytest.raises(OrderError, match="reduce-only applies to perpetuals only"):
                await ex.adapter.place(await ex.request(SYM, "sell", "market", QTY, reduce_only=True))
            with pytest.raises(OrderError, match="BTCUSDT is spot: leverage applies to perpetuals only"):
                await ex.place(await ex.request(SYM, "buy", "market", QTY, leverage=5))
            assert len(sim_orders(sim)) == 0
            assert all(not p.qty for p in ex.positions.book.values())
            with pytest.raises(VenueRejected) as e:        # 50 BTC with 1M USDT: Bitget's 43012
                await ex.place(await ex.request(SYM, "buy", "market", "50"))
            assert (e.value.code, e.value.message) == ("43012", "Insufficient balance")
            with pytest.raises(VenueRejected) as e:
                await ex.place(await ex.request(SYM, "sell", "limit", "11", price="70000"))
            assert e.value.code == "43012" and len(sim_orders(sim)) == 0
    run(body())


def test_wire_errors_off_grid_unknown_symbol_missing_fields():
    """The simulator answers the raw wire's mistakes with Bitget's own codes."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            cases = [
                ('{"symbol":"BTCUSDT","side":"sell","orderType":"market","force":"gtc","size":"0.0100005"}', "40808",
                 "Parameter verification exception size checkBDScale error value=0.0100005 checkScale=6"),
                ('{"symbol":"BTCUSDT","side":"buy","orderType":"limit","force":"gtc","price":"65000.005",'
                 '"size":"0.01"}', "40808", "Parameter verification exception price checkBDScale error "
                                            "value=65000.005 checkScale=2"),
                ('{"symbol":"XBTUSDT","side":"sell","orderType":"market","force":"gtc","size":"0.01"}', "40034",
                 "Parameter XBTUSDT does not exist"),
                ('{"symbol":"BTCUSDT","side":"sell","orderType":"market","force":"gtc"}', "40019",
                 "Parameter size cannot be empty"),
                ('{"symbol":"BTCUSDT","side":"buy","orderType":"limit","force":"gtc","size":"0.01"}', "40019",
                 "Parameter price cannot be empty"),
            ]
            for body_, code, msg in cases:
                with pytest.raises(VenueRejected) as e:
                    await ad._call("POST", TRADE + "place-order", body_)
                assert (e.value.code, e.value.message, e.value.status) == (code, msg, 400), e.value
            assert len(sim_orders(sim)) == 0
    run(body())


def test_clock_drift_is_a_clear_error_naming_the_drift():
    async def body():
        async with simulator(VENUES) as sim:
            await assert_clock_drift_refused(sim, VENUE, SYM, "sell", QTY, -40_000, ("40008", "30 s"), then_fills=True)
    run(body())


def test_key_with_withdrawals_is_refused():
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account(VENUE, "key-W", "secret-W", passphrase="pass-A", can_withdraw=True)
            await assert_key_refused(sim, VENUE, "key-W", "secret-W")
            async with executor(sim, VENUE, stream=False) as ok:
                info = await ok.adapter.key_info()
                assert info["api_key"] == "key-…" and "wwow" not in info["permissions"] and info["permissions"]["stow"]
    run(body())


def test_missing_passphrase_is_refused_before_sending():
    with pytest.raises(KeysMissing, match="silently fail if it's missing"):
        BitgetAdapter(Credentials(VENUE, "k", "s", None), rest_url="http://127.0.0.1:9")
    creds = Credentials(VENUE, "abcdefgh", "s3cr3t", "p4ss")
    ad = BitgetAdapter(creds, rest_url="http://127.0.0.1:9")
    assert "s3cr3t" not in repr(ad) and "p4ss" not in repr(ad) and "abcdefgh" not in repr(ad)
    with pytest.raises(KeysMissing, match="already handed"):
        creds.secret
    asyncio.run(ad.close())


def test_timeout_queries_by_client_id_and_never_doubles():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, timeout_s=0.5) as ex:
            req = await place_through_a_timeout(ex, sim.exchange(VENUE), SYM, "sell", QTY)
            assert ex.positions.get(VENUE, SYM).qty == -Decimal(QTY)
    run(body())


def test_order_bytes_are_accepted_as_sent():
    """The bytes `nexus bench exec` times are a request Bitget accepts: written raw to the
    simulator's socket (its path prefix added to the request line, which no signature covers
    on the venue either), the order is placed."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE, stream=False) as ex:
            inst = await ex.instrument(SYM)
            price = _gap_below_best_bid(sim, inst.tick_size)
            req = await ex.request(SYM, "buy", "limit", QTY, price=price)
            raw = ex.adapter.order_bytes(req).replace(b" /", b" /bitget/", 1)
            doc = await send_raw(sim, VENUE, raw)
            assert doc["code"] == "00000" and doc["data"]["clientOid"] == req.client_id, doc
            assert sim.exchange(VENUE).by_client[("key-A", req.client_id)].status == "NEW"
    run(body())


# -- Bitget's own auth failures -----------------------------------------------------------------

def _sign(secret, text):
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def _headers(key, secret, passphrase, ts, method, path, body=""):
    h = {"ACCESS-KEY": key, "ACCESS-SIGN": _sign(secret, f"{ts}{method}{path}{body}"), "ACCESS-TIMESTAMP": str(ts),
         "locale": "en-US", "Content-Type": "application/json"}
    if passphrase is not None:
        h["ACCESS-PASSPHRASE"] = passphrase
    return h


def test_auth_failures_answer_with_bitget_codes():
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account(VENUE, "key-A", "secret-A", passphrase="pass-A")
            base = sim.rest_url(VENUE)
            path = TRADE + "place-order"
            order = '{"symbol":"BTCUSDT","side":"sell","orderType":"market","force":"gtc","size":"0.01"}'
            async with httpx.AsyncClient() as c:
                now = int((await c.get(base + "/api/v2/public/time")).json()["data"]["serverTime"])
                flipped = _headers("key-A", "secret-A", "pass-A", now, "POST", path, order)
                sig = flipped["ACCESS-SIGN"]
                flipped["ACCESS-SIGN"] = sig[:5] + ("A" if sig[5] != "A" else "B") + sig[6:]
                cases = [(_headers("nobody", "secret-A", "pass-A", now, "POST", path, order), "40006"),
                         (_headers("key-A", "wrong", "pass-A", now, "POST", path, order), "40009"),
                         (flipped, "40009"),
                         (_headers("key-A", "secret-A", "nope", now, "POST", path, order), "40012"),
                         (_headers("key-A", "secret-A", None, now, "POST", path, order), "40011"),
                         (_headers("key-A", "secret-A", "pass-A", now - 31_000, "POST", path, order), "40008"),
                         (_headers("key-A", "secret-A", "pass-A", now + 31_000, "POST", path, order), "40008")]
                for h, code in cases:
                    r = await c.post(base + path, content=order, headers=h)
                    assert (r.status_code, r.json()["code"], r.json()["data"]) == (400, code, None), r.text
                q = "clientOid=x1"          # a GET's query is signed after "?"
                r = await c.get(f"{base}{TRADE}orderInfo?{q}",
                                headers=_headers("key-A", "secret-A", "pass-A", now, "GET", TRADE + "orderInfo"))
                assert r.json()["code"] == "40009"
                r = await c.get(f"{base}{TRADE}orderInfo?{q}",
                                headers=_headers("key-A", "secret-A", "pass-A", now, "GET", f"{TRADE}orderInfo?{q}"))
                assert (r.json()["code"], r.json()["data"]) == ("00000", [])
                assert len(sim_orders(sim)) == 0
                r = await c.post(base + path, content=order,
                                 headers=_headers("key-A", "secret-A", "pass-A", now, "POST", path, order))
                assert r.json()["code"] == "00000" and r.json()["data"]["orderId"]
                assert len(sim_orders(sim)) == 1
            ws_url = sim.url(VENUE).replace("/v2/ws/public", "/v2/ws/private")
            s = str(now // 1000)
            logins = [({"apiKey": "key-A", "passphrase": "pass-A", "timestamp": s,
                        "sign": _sign("wrong", f"{s}GET/user/verify")}, 30015),
                      ({"apiKey": "key-A", "passphrase": "pass-A", "timestamp": str(now // 1000 - 40),
                        "sign": _sign("secret-A", f"{now // 1000 - 40}GET/user/verify")}, 30014),
                      ({"apiKey": "key-A", "passphrase": "nope", "timestamp": s,
                        "sign": _sign("secret-A", f"{s}GET/user/verify")}, 30012),
                      ({"apiKey": "nobody", "passphrase": "pass-A", "timestamp": s,
                        "sign": _sign("secret-A", f"{s}GET/user/verify")}, 30011)]
            async with aiohttp.ClientSession() as sess, sess.ws_connect(ws_url) as ws:
                for arg, code in logins:
                    await ws.send_str(json.dumps({"op": "login", "args": [arg]}))
                    doc = json.loads((await ws.receive()).data)
                    assert (doc["event"], doc["code"]) == ("error", code), doc
    run(body())


# -- the CLI ------------------------------------------------------------------------------------

def test_cli_session_bitget(tmp_path):
    """Bitget through the CLI: key, secret and passphrase in the environment; exit statuses as
    contracted; the secret's and passphrase's bytes appear nowhere."""
    key, secret = "nxkey" + secrets.token_hex(16), "nxsecret" + secrets.token_hex(24)
    passphrase = "nxpass" + secrets.token_hex(12)
    keys = {"NEXUS_BITGET_API_KEY": key, "NEXUS_BITGET_API_SECRET": secret, "NEXUS_BITGET_API_PASSPHRASE": passphrase}
    for nexus, outputs in _session(tmp_path, VENUE, key, secret, passphrase, keys, VENUE):
        r = nexus("keys", "check", "--json")
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["api_key"] == key[:4] + "…" and "wwow" not in info["permissions"]
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY, "--json")
        assert r.returncode == 0, r.stderr
        placed = json.loads(r.stdout)
        assert placed["state"] == "filled" and Decimal(placed["filled"]) == Decimal(QTY)
        r = nexus("positions", "--json")
        assert r.returncode == 0 and "BTC" in {p["symbol"] for p in json.loads(r.stdout)}, r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "sell", "--type", "limit", "--qty", QTY,
                  "--price", "99999.00", "--client-id", "bgA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "ls", "--json")
        assert [o["client_id"] for o in json.loads(r.stdout)] == ["bgA1"]
        r = nexus("order", "status", "--symbol", SYM, "--client-id", "bgA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "cancel", "--symbol", SYM, "--client-id", "bgA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled", r.stderr
        r = nexus("order", "cancel", "--symbol", SYM, "--client-id", "bgA1", "--json")
        assert r.returncode == 3 and json.loads(r.stdout)["code"] == "43001", r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", "50")
        assert r.returncode == 3 and "43012 Insufficient balance" in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "limit", "--qty", QTY,
                  "--price", "65000.005")
        assert r.returncode == 2 and "multiple of 0.01" in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY,
                  drop=("NEXUS_BITGET_API_PASSPHRASE",))
        assert r.returncode == 2 and "silently" in r.stderr and "NEXUS_BITGET_API_PASSPHRASE" in r.stderr
        r = nexus("order", "place", "--sim", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY,
                  "--json", keys=False)
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
        # USDT futures under the same venue id and keys
        r = nexus("order", "place", "--symbol", FUT, "--side", "sell", "--type", "market", "--qty", FQTY,
                  "--leverage", "15", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
        r = nexus("positions", "--json")
        fut = [p for p in json.loads(r.stdout) if p["symbol"] == FUT]
        assert r.returncode == 0 and Decimal(fut[0]["qty"]) == -Decimal(FQTY) and fut[0]["leverage"] == 15, r.stdout
        r = nexus("order", "place", "--symbol", FUT, "--side", "sell", "--type", "market", "--qty", FQTY,
                  "--reduce-only")
        assert r.returncode == 2 and "would increase or open" in r.stderr
        assert len(outputs) >= 15


# -- USDT futures (BTCUSDT:USDT-FUTURES) ---------------------------------------------------------

FUT, FQTY = "BTCUSDT:USDT-FUTURES", "0.0100"
MIX = "/api/v2/mix/"


def test_futures_market_leverage_positions_and_pnl():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            inst = await ex.instrument(FUT)
            assert (inst.tick_size, inst.lot_size, inst.contract_kind) == ("0.1", "0.0001", "linear")
            assert ex.adapter.max_leverage[FUT] == 125
            o = await ex.place(await ex.request(FUT, "buy", "market", FQTY, leverage=20))
            assert o.state is State.FILLED and o.filled_qty == Decimal(FQTY) and ex.sends == 1
            fx = sim.exchange(VENUE).accounts["key-A"]         # spot and futures share the account
            assert fx.leverage == 20 and fx.position == 10_000          # 0.01 BTC in the book's units
            vp = {p.symbol: p for p in await ex.adapter.positions()}[FUT]
            assert vp.qty == Decimal(FQTY) and vp.entry_price == o.avg_price and vp.leverage == 20
            with pytest.raises(OrderError, match="would increase or open"):
                await ex.place(await ex.request(FUT, "buy", "market", FQTY, reduce_only=True))
            back = await ex.place(await ex.request(FUT, "sell", "market", FQTY, reduce_only=True))
            assert back.state is State.FILLED
            await asyncio.sleep(0.3)                     # the stream's fee items arrive
            pos = ex.positions.get(VENUE, FUT)
            assert pos.qty == 0 and pos.realised == (back.avg_price - o.avg_price) * Decimal(FQTY) - pos.fees
            assert fx.position == 0 and fx.realised == (back.avg_price - o.avg_price) * Decimal(FQTY)
            assert FUT not in {p.symbol for p in await ex.adapter.positions()}
    run(body())


def test_futures_limit_stop_plan_cancel_and_orders_channel():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            ad = ex.adapter
            async with aiohttp.ClientSession() as s, s.ws_connect(ad.ws_url) as ws:
                await ws.send_str(ad.login_message())
                assert json.loads((await ws.receive()).data)["event"] == "login"
                arg = {"instType": "USDT-FUTURES", "channel": "orders", "instId": "default"}
                await ws.send_str(json.dumps({"op": "subscribe", "args": [arg]}))
                assert json.loads((await ws.receive()).data) == {"event": "subscribe", "arg": arg}
                lim = await ex.place(await ex.request(FUT, "buy", "limit", FQTY, price="1000.0"))
                assert lim.state is State.ACCEPTED
                assert [u.client_id for u in await ad.open_orders(FUT)] == [lim.client_id]
                assert lim.client_id in {u.client_id for u in await ad.open_orders()}
                u = await ex.cancel(FUT, lim.client_id)
                assert u.state is State.CANCELLED and u.venue_status == "canceled" and u.symbol == FUT
                seen = []
                while "canceled" not in seen:
                    d = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    assert d["arg"] == arg
                    for row in d["data"]:
                        assert {"instId", "orderId", "clientOid", "size", "side", "orderType", "accBaseVolume",
                                "priceAvg", "status", "leverage", "marginMode", "marginCoin", "reduceOnly", "posSide",
                                "tradeSide", "cTime", "uTime"} <= set(row)
                        seen.append(row["status"])
                assert seen == ["live", "canceled"]
            ask = sim.book(VENUE)["asks"][:4][-1][0]
            stop = str(Decimal(ask).quantize(Decimal("0.1"), rounding="ROUND_CEILING"))
            o = await ex.place(await ex.request(FUT, "buy", "stop", FQTY, stop_price=stop))
            assert o.state is State.ACCEPTED and (await ad.query(FUT, o.client_id)).venue_status == "plan live"
            c = await ex.place(await ex.request(FUT, "buy", "stop", FQTY, stop_price="999999.0"))
            u = await ex.cancel(FUT, c.client_id)
            assert u.state is State.CANCELLED and u.venue_status == "plan cancelled"
            async with executor(sim, VENUE, "key-B", "secret-B", stream=False) as other:   # spot prints trigger it
                sweep = Decimal("0.01") + sum(Decimal(q) for p, q in sim.book(VENUE)["asks"] if Decimal(p) <= Decimal(stop))
                await other.place(await other.request(SYM, "buy", "market", str(sweep.quantize(Decimal("0.000001")))))
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED and o.filled_qty == Decimal(FQTY)
            st = await ad.query(FUT, o.client_id)                # plan executed -> its order (executeOrderId)
            assert st.state is State.FILLED and st.client_id == o.client_id and st.venue_status == "filled"
            with pytest.raises(VenueRejected) as e:
                await ad.cancel(FUT, "nosuchorder")
            assert (e.value.code, e.value.message) == ("40768", "Order does not exist")
            assert await ad.query(FUT, "nosuchorder") is None
    run(body())


def test_futures_bad_input_and_bitget_codes():
    async def body():
        async with simulator(VENUES) as sim, executor(sim, VENUE) as ex:
            ad = ex.adapter
            for kw, match in [
                (dict(side="buy", type="limit", qty=FQTY, price="65000.05"), "multiple of 0.1"),
                (dict(side="buy", type="market", qty="0.01005"), "multiple of 0.0001"),
            ]:
                with pytest.raises(OrderError, match=match):
                    await ex.place(await ex.request(FUT, **kw))
            with pytest.raises(OrderError, match="leverage must be 1 to 125"):
                await ex.place(await ex.request(FUT, "buy", "market", FQTY, leverage=126))
            with pytest.raises(OrderError, match="leverage 126 is above bitget's maximum 125 for BTCUSDT:USDT-FUT"):
                await ad.set_leverage(FUT, 126)          # the contract's maxLever, before sending
            with pytest.raises(OrderError, match="BTCUSDT is spot: leverage applies to USDT futures"):
                await ad.set_leverage(SYM, 5)
            with pytest.raises(OrderError, match="would increase or open"):
                await ex.place(await ex.request(FUT, "sell", "market", FQTY, reduce_only=True))
            assert ex.sends == 0 and sim.exchange(VENUE).accounts["key-A"].leverage == 10
            # the venue's own refusals, if a client skipped the checks: nothing changes
            with pytest.raises(VenueRejected) as e:
                await ad.place(await ex.request(FUT, "sell", "market", FQTY, reduce_only=True))
            assert (e.value.code, e.value.message) == ("22002", "No position to close")
            with pytest.raises(VenueRejected) as e:
                await ex.place(await ex.request(FUT, "buy", "market", "200"))     # 13M USDT at 10x of 1M
            assert (e.value.code, e.value.message) == ("40762", "The order amount exceeds the balance")
            common = '"symbol":"BTCUSDT","productType":"USDT-FUTURES","marginCoin":"USDT","marginMode":"crossed"'
            for path, body_, code in [
                ("order/place-order", f'{{{common},"size":"0.01005","side":"buy","orderType":"market"}}', "40808"),
                ("order/place-order", f'{{{common},"size":"0.01","price":"65000.05","side":"buy","orderType":"limit"}}',
                 "40808"),
                ("order/place-order", '{"symbol":"XBTUSDT","productType":"USDT-FUTURES","marginCoin":"USDT",'
                                      '"marginMode":"crossed","size":"0.01","side":"buy","orderType":"market"}', "40034"),
                ("account/set-leverage", '{"symbol":"BTCUSDT","productType":"USDT-FUTURES","marginCoin":"USDT",'
                                         '"leverage":"150"}', "40104"),
            ]:
                with pytest.raises(VenueRejected) as e:
                    await ad._call("POST", MIX + path, body_)
                assert e.value.code == code, e.value
            assert sim.exchange(VENUE).accounts["key-A"].leverage == 10
            assert sim.exchange(VENUE).accounts["key-A"].position == 0
    run(body())
