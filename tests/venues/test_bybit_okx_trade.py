"""Bybit v5 (bybit-perp) and OKX v5 (okx-swap) order entry end to end against the simulator
(real HTTP and WebSocket on 127.0.0.1): market / limit / stop, the limit resting in the
public book then filling, cancel and status, positions and PnL, private-stream events,
every bad input of issue 14, idempotent retry, and each venue's own auth failures."""
import asyncio
import base64
import hashlib
import hmac
import json
from decimal import Decimal

import aiohttp
import httpx
import pytest

from nexus.exec.client import VenueRejected
from nexus.exec.keys import Credentials, KeysMissing
from nexus.exec.orders import OrderError, State
from nexus.venues.okx.orders import OkxAdapter, base_qty, contracts, iso_ms
from tests.exec.tradesim import (
    assert_clock_drift_refused, assert_key_refused, executor, place_through_a_timeout, run, sell_down_to, send_raw,
    simulator,
)

VENUES = ("bybit-perp", "okx-swap")
SYMBOL = {"bybit-perp": "BTCUSDT", "okx-swap": "BTC-USDT-SWAP"}
QTY = {"bybit-perp": "0.010", "okx-swap": "1"}           # OKX: contracts of 0.01 BTC
BOOK_WS = {"bybit-perp": ("orderbook.50.BTCUSDT", lambda m: m.get("data", {}).get("b", ())),
           "okx-swap": ("books", lambda m: (m.get("data") or [{}])[0].get("bids", ()))}


def sim_orders(sim, venue):
    return sim.exchange(venue).orders


async def _subscribe_book(ws, venue):
    if venue == "bybit-perp":
        await ws.send_str(json.dumps({"op": "subscribe", "args": [BOOK_WS[venue][0]]}))
    else:
        await ws.send_str(json.dumps({"op": "subscribe", "args": [{"channel": "books", "instId": SYMBOL[venue]}]}))


@pytest.mark.parametrize("venue", VENUES)
def test_market_fills_positions_and_pnl(venue):
    async def body():
        async with simulator(VENUES) as sim, executor(sim, venue) as ex:
            sym, q = SYMBOL[venue], Decimal(QTY[venue])
            o = await ex.place(await ex.request(sym, "buy", "market", QTY[venue], leverage=20))
            assert o.state is State.FILLED and o.filled_qty == q and ex.sends == 1
            sx = sim.exchange(venue)
            so = sx.by_client[("key-A", o.client_id)]
            acct = sx.accounts["key-A"]
            assert so.status == "FILLED" and acct.leverage == 20 and acct.position == int(q.scaleb(sx.spec.qty_dec))
            assert o.avg_price == so.notional / sx.base_qty(so.filled)
            vp = {p.symbol: p for p in await ex.adapter.positions()}[sym]
            assert vp.qty == q and vp.entry_price == o.avg_price and vp.leverage == 20
            back = await ex.place(await ex.request(sym, "sell", "market", QTY[venue]))
            assert back.state is State.FILLED
            await asyncio.sleep(0.3)                     # the stream's fee items arrive
            pos = ex.positions.get(venue, sym)
            cv = Decimal(pos.contract_value)
            assert pos.qty == 0
            assert pos.realised == (back.avg_price - o.avg_price) * q * cv - pos.fees
            assert pos.fees == so.fees + sx.by_client[("key-A", back.client_id)].fees    # both fees, counted once
            assert acct.realised == (back.avg_price - o.avg_price) * q * cv
    run(body())


def _gap_below_best_bid(sim, venue, inst) -> str:
    """A price with no level yet, ten levels below the touch: inside every depth view, out of
    reach of the simulated flow for the test's few seconds."""
    bids = sorted((Decimal(p) for p, _ in sim.book(venue)["bids"]), reverse=True)
    p = bids[min(10, len(bids) - 1)] - Decimal(inst.tick_size)
    while p in set(bids):
        p -= Decimal(inst.tick_size)
    return str(p)


@pytest.mark.parametrize("venue", VENUES)
def test_limit_rests_in_public_book_then_fills(venue):
    async def body():
        async with simulator(VENUES) as sim, executor(sim, venue) as ex:
            sym = SYMBOL[venue]
            inst = await ex.instrument(sym)
            price = _gap_below_best_bid(sim, venue, inst)
            url = sim.url(venue)
            async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
                await _subscribe_book(ws, venue)
                o = await ex.place(await ex.request(sym, "buy", "limit", QTY[venue], price=price))
                assert o.state is State.ACCEPTED
                seen = None
                while seen is None:
                    m = await asyncio.wait_for(ws.receive(), 5)
                    doc = json.loads(m.data) if m.data != "pong" else {}
                    seen = next((lv[1] for lv in BOOK_WS[venue][1](doc) if Decimal(lv[0]) == Decimal(price)), None)
                assert Decimal(seen) == Decimal(QTY[venue])
            assert [u.client_id for u in await ex.adapter.open_orders(sym)] == [o.client_id]
            async with executor(sim, venue, "key-B", "secret-B", stream=False) as other:
                await sell_down_to(sim, venue, other, sym, price, ex, o.client_id)
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)
            assert o.avg_price == Decimal(price) and o.events[-1].dst is State.FILLED
            st = await ex.status(sym, o.client_id)
            assert st.state is State.FILLED and st.venue_status in ("Filled", "filled")
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_stop_triggers_on_last_price_and_cancel(venue):
    async def body():
        async with simulator(VENUES) as sim, executor(sim, venue) as ex:
            sym = SYMBOL[venue]
            asks = sim.book(venue)["asks"][:4]
            ask = asks[-1][0]                      # four levels up: out of the flow's reach for now
            o = await ex.place(await ex.request(sym, "buy", "stop", QTY[venue], stop_price=ask))
            assert o.state is State.ACCEPTED
            far = str(Decimal(ask) * 2)
            c = await ex.place(await ex.request(sym, "buy", "stop", QTY[venue], stop_price=far))
            u = await ex.cancel(sym, c.client_id)
            assert u.state is State.CANCELLED and c.state is State.CANCELLED
            async with executor(sim, venue, "key-B", "secret-B", stream=False) as other:
                sweep = Decimal(QTY[venue]) + sum(Decimal(q) for p, q in sim.book(venue)["asks"] if Decimal(p) <= Decimal(ask))
                await other.place(await other.request(sym, "buy", "market", str(sweep)))
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY[venue])
            st = await ex.adapter.query(sym, o.client_id)
            assert st.state is State.FILLED
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_cancel_status_and_unknown_orders(venue):
    async def body():
        async with simulator(VENUES) as sim, executor(sim, venue) as ex:
            sym = SYMBOL[venue]
            inst = await ex.instrument(sym)
            price = str(Decimal(sim.book(venue)["bids"][-1][0]) - 10 * Decimal(inst.tick_size))
            o = await ex.place(await ex.request(sym, "buy", "limit", QTY[venue], price=price))
            assert (await ex.status(sym, o.client_id)).state is State.ACCEPTED
            u = await ex.cancel(sym, o.client_id)
            assert u.state is State.CANCELLED and o.state is State.CANCELLED
            assert await ex.adapter.open_orders(sym) == []
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.cancel(sym, "nosuchorder")
            assert str(e.value.code) in ("110001", "51400")
            assert await ex.adapter.query(sym, "nosuchorder") is None
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_private_stream_pushes_every_topic(venue):
    """The documented topics/channels arrive with the documented fields (Bybit docs/v5
    websocket/private/*.mdx examples; OKX docs-v5 private channels)."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, venue, stream=False) as ex:
            ad = ex.adapter
            async with aiohttp.ClientSession() as s, s.ws_connect(ad.ws_url) as ws:
                if venue == "bybit-perp":
                    await ws.send_str(ad.auth_message())
                    await ws.send_str(json.dumps({"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}))
                    want = {"order", "execution", "position", "wallet"}
                    topic = lambda d: d.get("topic")      # noqa: E731
                else:
                    await ws.send_str(ad.login_message())
                    await asyncio.sleep(0.1)
                    await ws.send_str(json.dumps({"op": "subscribe", "args": [
                        {"channel": c, "instType": "SWAP"} for c in ("orders", "positions")] + [{"channel": "account"}]}))
                    want = {"orders", "positions", "account"}
                    topic = lambda d: (d.get("arg") or {}).get("channel") if "data" in d else None   # noqa: E731
                await asyncio.sleep(0.2)
                await ex.place(await ex.request(SYMBOL[venue], "buy", "market", QTY[venue]))
                got = {}                 # the latest message of each topic
                size = (lambda g: g["position"]["data"][0]["size"]) if venue == "bybit-perp" else \
                    (lambda g: g["positions"]["data"][0]["pos"])
                while set(got) != want or size(got) != QTY[venue]:     # a market order may fill in parts
                    d = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    if topic(d) in want:
                        got[topic(d)] = d
            if venue == "bybit-perp":
                ex_ = got["execution"]["data"][0]
                assert {"execId", "execPrice", "execQty", "execFee", "orderLinkId", "leavesQty", "isMaker"} <= set(ex_)
                assert {"orderStatus", "cumExecQty", "cumExecValue", "avgPrice"} <= set(got["order"]["data"][0])
                assert got["position"]["data"][0]["size"] == QTY[venue]
                assert got["wallet"]["data"][0]["accountType"] == "UNIFIED"
            else:
                fill = got["orders"]["data"][0]
                assert {"fillSz", "fillPx", "fillFee", "accFillSz", "state", "clOrdId", "execType"} <= set(fill)
                assert got["positions"]["data"][0]["pos"] == QTY[venue]
                assert "details" in got["account"]["data"][0]
    run(body())


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("venue", VENUES)
def test_bad_input_is_refused_before_sending(venue):
    async def body():
        async with simulator(VENUES) as sim, executor(sim, venue) as ex:
            sym = SYMBOL[venue]
            inst = await ex.instrument(sym)
            lot, tick = Decimal(inst.lot_size), Decimal(inst.tick_size)
            bad = [
                (dict(side="buy", type="limit", qty=QTY[venue], price=str(Decimal(65000) + tick / 2)),
                 f"multiple of {inst.tick_size}"),
                (dict(side="buy", type="market", qty=str(Decimal(QTY[venue]) + lot / 2)), f"multiple of {inst.lot_size}"),
                (dict(side="buy", type="market", qty="0"), "quantity must be positive"),
                (dict(side="buy", type="market", qty="-" + QTY[venue]), "quantity must be positive"),
            ]
            for kw, match in bad:
                with pytest.raises(OrderError, match=match):
                    await ex.place(await ex.request(sym, **kw))
            with pytest.raises(OrderError, match=f"unknown symbol 'DOGE-XYZ' on {venue}"):
                await ex.request("DOGE-XYZ", "buy", "market", "1")
            with pytest.raises(OrderError, match="would increase or open"):
                await ex.place(await ex.request(sym, "buy", "market", QTY[venue], reduce_only=True))
            with pytest.raises(OrderError, match="above .*maximum 100"):
                await ex.place(await ex.request(sym, "buy", "market", QTY[venue], leverage=120))
            assert ex.sends == 0 and len(sim_orders(sim, venue)) == 0
            assert all(not p.qty for p in ex.positions.book.values())
            # the venue's own refusals, if a client skipped the checks: nothing changes
            with pytest.raises(VenueRejected) as e:
                await ex.adapter.place(await ex.request(sym, "sell", "market", QTY[venue], reduce_only=True))
            assert (str(e.value.code), e.value.message) in {
                ("110017", "current position is zero, cannot fix reduce-only order qty"),
                ("51169", "Order failed because you don't have any positions in this direction for this contract "
                          "to reduce or close.")}
            big = {"bybit-perp": "900.000", "okx-swap": "90000"}[venue]
            with pytest.raises(VenueRejected) as e:
                await ex.place(await ex.request(sym, "buy", "market", big))
            assert str(e.value.code) in ("110007", "51008") and ex.sends == 1
            assert len(sim_orders(sim, venue)) == 0
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_wire_errors_off_grid_unknown_symbol_leverage(venue):
    """The simulator answers the raw wire's mistakes with the venue's own codes."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, venue, stream=False) as ex:
            ad = ex.adapter
            if venue == "bybit-perp":
                cases = [('{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.0105"}', 10001),
                         ('{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.010",'
                          '"price":"65000.05"}', 10001),
                         ('{"category":"linear","symbol":"XYZUSDT","side":"Buy","orderType":"Market","qty":"0.010"}', 10001)]
                path = "/v5/order/create"
                lev = ('{"category":"linear","symbol":"BTCUSDT","buyLeverage":"150","sellLeverage":"150"}',
                       "/v5/position/set-leverage", 10001)
            else:
                cases = [('{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"market","sz":"1.005"}', "51121"),
                         ('{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"limit","sz":"1",'
                          '"px":"65000.05"}', "51000"),
                         ('{"instId":"XBT-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"market","sz":"1"}', "51001")]
                path = "/api/v5/trade/order"
                lev = ('{"instId":"BTC-USDT-SWAP","lever":"150","mgnMode":"cross"}', "/api/v5/account/set-leverage", "59102")
            for body_, code in cases:
                with pytest.raises(VenueRejected) as e:
                    await ad._call("POST", path, body_)
                assert e.value.code == code, e.value
            with pytest.raises(VenueRejected) as e:
                await ad._call("POST", lev[1], lev[0])
            assert e.value.code == lev[2]
            assert len(sim_orders(sim, venue)) == 0 and sim.exchange(venue).accounts["key-A"].leverage == 10
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_clock_drift_is_a_clear_error_naming_the_drift(venue):
    off, code = {"bybit-perp": (-7000, "10002"), "okx-swap": (-40000, "50102")}[venue]

    async def body():
        async with simulator(VENUES) as sim:
            await assert_clock_drift_refused(sim, venue, SYMBOL[venue], "buy", QTY[venue], off, (code,))
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_key_with_withdrawals_is_refused(venue):
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account(venue, "key-W", "secret-W", passphrase="pass-A", can_withdraw=True)
            await assert_key_refused(sim, venue, "key-W", "secret-W")
            async with executor(sim, venue) as ok:
                info = await ok.adapter.key_info()
                assert info["api_key"] == "key-…" and not any("ithdraw" in k for k in info["permissions"])
    run(body())


def test_okx_missing_passphrase_is_refused_before_sending():
    with pytest.raises(KeysMissing, match="silently fail if it's missing"):
        OkxAdapter(Credentials("okx-swap", "k", "s", None), rest_url="http://127.0.0.1:9")


def test_okx_contracts_and_base_quantities_are_explicit():
    from nexus.venues.okx.data import instrument
    inst = instrument("BTC-USDT-SWAP", "0.1", "0.01", "0.01", "linear", "BTC", "USDT")
    assert contracts(inst, "0.05") == Decimal(5) and base_qty(inst, "5") == Decimal("0.05")
    with pytest.raises(OrderError, match="not a multiple"):
        contracts(inst, "0.00001")


@pytest.mark.parametrize("venue", VENUES)
def test_timeout_queries_by_client_id_and_never_doubles(venue):
    async def body():
        async with simulator(VENUES) as sim, executor(sim, venue, timeout_s=0.5) as ex:
            req = await place_through_a_timeout(ex, sim.exchange(venue), SYMBOL[venue], "buy", QTY[venue])
            assert ex.positions.get(venue, SYMBOL[venue]).qty == Decimal(QTY[venue])
    run(body())


# -- each venue's auth failures ---------------------------------------------------------------

def _bybit_headers(key, secret, ts, payload, window="5000"):
    sig = hmac.new(secret.encode(), (str(ts) + key + window + payload).encode(), hashlib.sha256).hexdigest()
    return {"X-BAPI-API-KEY": key, "X-BAPI-TIMESTAMP": str(ts), "X-BAPI-SIGN": sig, "X-BAPI-RECV-WINDOW": window,
            "Content-Type": "application/json"}


def test_bybit_auth_failures_answer_with_bybit_codes():
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account("bybit-perp", "key-A", "secret-A")
            base = sim.rest_url("bybit-perp")
            order = '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.010"}'
            async with httpx.AsyncClient() as c:
                now = int((await c.get(base + "/v5/market/time")).json()["result"]["timeNano"]) // 1_000_000
                cases = [(_bybit_headers("nobody", "secret-A", now, order), 10003),
                         (_bybit_headers("key-A", "wrong", now, order), 10004),
                         (_bybit_headers("key-A", "secret-A", now - 6000, order), 10002),
                         (_bybit_headers("key-A", "secret-A", now + 1500, order), 10002)]
                for h, code in cases:
                    r = await c.post(base + "/v5/order/create", content=order, headers=h)
                    assert r.json()["retCode"] == code, r.text
                r = await c.post(base + "/v5/order/create", content=order, headers=_bybit_headers("key-A", "secret-A", now, order))
                assert r.json()["retCode"] == 0 and r.json()["result"]["orderLinkId"]
                assert len(sim_orders(sim, "bybit-perp")) == 1
    run(body())


def _okx_headers(key, secret, passphrase, ts, method, path, body=""):
    sig = base64.b64encode(hmac.new(secret.encode(), (ts + method + path + body).encode(), hashlib.sha256).digest())
    h = {"OK-ACCESS-KEY": key, "OK-ACCESS-SIGN": sig.decode(), "OK-ACCESS-TIMESTAMP": ts,
         "Content-Type": "application/json"}
    if passphrase is not None:
        h["OK-ACCESS-PASSPHRASE"] = passphrase
    return h


def test_okx_auth_failures_answer_with_okx_codes():
    async def body():
        async with simulator(VENUES) as sim:
            sim.open_account("okx-swap", "key-A", "secret-A", passphrase="pass-A")
            base = sim.rest_url("okx-swap")
            path = "/api/v5/trade/order"
            order = '{"instId":"BTC-USDT-SWAP","tdMode":"cross","side":"buy","ordType":"market","sz":"1"}'
            async with httpx.AsyncClient() as c:
                now = int((await c.get(base + "/api/v5/public/time")).json()["data"][0]["ts"])
                ts = iso_ms(now)
                cases = [(_okx_headers("nobody", "secret-A", "pass-A", ts, "POST", path, order), "50111"),
                         (_okx_headers("key-A", "wrong", "pass-A", ts, "POST", path, order), "50113"),
                         (_okx_headers("key-A", "secret-A", "nope", ts, "POST", path, order), "50105"),
                         (_okx_headers("key-A", "secret-A", None, ts, "POST", path, order), "50104"),
                         (_okx_headers("key-A", "secret-A", "pass-A", iso_ms(now - 31_000), "POST", path, order), "50102")]
                for h, code in cases:
                    r = await c.post(base + path, content=order, headers=h)
                    assert (r.status_code, r.json()["code"]) == (401, code), r.text
                r = await c.post(base + path, content=order,
                                 headers=_okx_headers("key-A", "secret-A", "pass-A", ts, "POST", path, order))
                assert r.json()["code"] == "0" and r.json()["data"][0]["sCode"] == "0"
                assert len(sim_orders(sim, "okx-swap")) == 1
    run(body())


@pytest.mark.parametrize("venue", VENUES)
def test_order_bytes_are_accepted_as_sent(venue):
    """The bytes `nexus bench exec` times are a request the venue accepts: written raw to the
    simulator's socket (its path prefix added to the request line, which no signature covers
    on the venue either), the order is placed."""
    async def body():
        async with simulator(VENUES) as sim, executor(sim, venue, stream=False) as ex:
            req = await ex.request(SYMBOL[venue], "buy", "market", QTY[venue])
            raw = ex.adapter.order_bytes(req).replace(b" /", f" /{venue}/".encode(), 1).replace(b"//", b"/", 1)
            doc = await send_raw(sim, venue, raw)
            assert doc.get("retCode", doc.get("code")) in (0, "0"), doc
            assert sim.exchange(venue).by_client[("key-A", req.client_id)].status == "FILLED"
    run(body())
