"""Coinbase Advanced Trade order entry end to end against the simulator (real HTTP and
WebSocket on 127.0.0.1): market / limit / stop-limit, the limit resting in the public level2
channel then filling, cancel and status, balances, user-channel events, bad inputs, the JWT
checks Coinbase makes (expired, wrong uri, tampered signature, unknown key), a key with
transfer permission, clock drift and idempotent retry. Keys are generated in memory per test;
the simulated account holds the public key only."""
import asyncio
import base64
import json
import re
import time
from decimal import Decimal

import aiohttp
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from nexus.exec.client import ClockDrift, Executor, VenueRejected
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, State
from nexus.venues.coinbase.sign import CoinbaseSigner, new_es256_key, public_pem
from tests.exec.tradesim import (
    adapter, assert_clock_drift_refused, assert_key_refused, executor, place_through_a_timeout, run, sell_down_to,
    send_raw, simulator,
)

VENUE, SYM, QTY = "coinbase", "BTC-USD", "0.01"
API = "/api/v3/brokerage"
KEYS = {name: new_es256_key() for name in ("key-A", "key-B", "key-W")}


def _open(sim, name, **kw):
    private, public = KEYS[name]
    sim.open_account(VENUE, name, public, **kw)
    return private


def cb_executor(sim, name="key-A", **kw):
    return executor(sim, VENUE, name, _open(sim, name), open_account=False, **kw)


def sim_orders(sim):
    return sim.exchange(VENUE).orders


def test_market_buy_and_sell_move_balances():
    async def body():
        async with simulator([VENUE]) as sim, cb_executor(sim) as ex:
            acct = sim.exchange(VENUE).accounts["key-A"]
            usd0, btc0 = acct.balances["USD"], acct.balances["BTC"]
            o = await ex.place(await ex.request(SYM, "buy", "market", QTY))
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY) and ex.sends == 1
            so = sim.exchange(VENUE).by_client[("key-A", o.client_id)]
            assert o.avg_price == so.notional / Decimal(QTY)
            assert acct.balances["BTC"] == btc0 + Decimal(QTY)
            assert acct.balances["USD"] == usd0 - so.notional - so.fees
            bal = {p.symbol: p for p in await ex.adapter.positions()}
            assert bal["BTC"].qty == acct.balances["BTC"] and bal["USD"].qty == acct.balances["USD"]
            back = await ex.place(await ex.request(SYM, "sell", "market", QTY))
            assert back.state is State.FILLED and acct.balances["BTC"] == btc0
            assert ex.positions.get(VENUE, SYM).qty == 0
    run(body())


def _gap_below_best_bid(sim, tick) -> str:
    bids = sorted((Decimal(p) for p, _ in sim.book(VENUE)["bids"]), reverse=True)
    p = bids[min(10, len(bids) - 1)] - Decimal(tick)
    while p in set(bids):
        p -= Decimal(tick)
    return str(p)


def test_limit_rests_in_level2_then_fills_and_user_channel_reports_it():
    async def body():
        async with simulator([VENUE]) as sim, cb_executor(sim) as ex:
            inst = await ex.instrument(SYM)
            price = _gap_below_best_bid(sim, inst.tick_size)
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.url(VENUE)) as ws:
                await ws.send_str(json.dumps({"type": "subscribe", "channel": "level2", "product_ids": [SYM]}))
                o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
                assert o.state is State.ACCEPTED
                seen = None
                while seen is None:
                    doc = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    ups = [u for ev in doc.get("events", ()) for u in ev.get("updates", ())]
                    seen = next((u["new_quantity"] for u in ups if u["side"] == "bid"
                                 and Decimal(u["price_level"]) == Decimal(price)), None)
                assert Decimal(seen) == Decimal(QTY)
            assert [u.client_id for u in await ex.adapter.open_orders(SYM)] == [o.client_id]
            async with cb_executor(sim, "key-B", stream=False) as other:
                await sell_down_to(sim, VENUE, other, SYM, price, ex, o.client_id)
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)      # from the user channel
            assert o.avg_price == Decimal(price) and o.events[-1].dst is State.FILLED
            st = await ex.status(SYM, o.client_id)
            assert st.state is State.FILLED and st.venue_status == "FILLED"
    run(body())


async def _triggered(ex, client_id, timeout_s=1.0):
    """The stop has filled (within timeout_s)."""
    try:
        await ex.wait_for(client_id, lambda x: x.state.terminal, timeout_s)
    except (asyncio.TimeoutError, TimeoutError):
        return False
    return True


def test_stop_limit_triggers_on_last_price_and_cancel():
    async def body():
        async with simulator([VENUE]) as sim, cb_executor(sim) as ex:
            ask = sim.book(VENUE)["asks"][:4][-1][0]
            o = await ex.place(await ex.request(SYM, "buy", "stop", QTY, stop_price=ask))
            assert o.state is State.ACCEPTED
            so = sim.exchange(VENUE).by_client[("key-A", o.client_id)]
            assert so.type == "STOP_LIMIT" and so.price == so.stop
            far = str(Decimal(ask) * 2)
            c = await ex.place(await ex.request(SYM, "buy", "stop", QTY, stop_price=far))
            u = await ex.cancel(SYM, c.client_id)
            assert u.state is State.CANCELLED and c.state is State.CANCELLED and u.venue_status == "CANCELLED"
            async with cb_executor(sim, "key-B", stream=False) as other:
                # take the asks below the stop and a hair of the level at it: the last price
                # reaches the stop. The simulated market moves meanwhile (new asks below the stop
                # absorb a sweep on a loaded machine), so sweep again until the stop triggered.
                for _ in range(5):
                    sweep = sum(Decimal(q) for p, q in sim.book(VENUE)["asks"] if Decimal(p) < Decimal(ask))
                    await other.place(await other.request(SYM, "buy", "market", str(sweep + Decimal("0.00000001"))))
                    if await _triggered(ex, o.client_id):
                        break
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED and o.avg_price <= Decimal(ask)
    run(body())


def test_cancel_status_unknown_orders_and_user_channel_fields():
    async def body():
        async with simulator([VENUE]) as sim, cb_executor(sim, stream=False) as ex:
            ad = ex.adapter
            async with aiohttp.ClientSession() as s, s.ws_connect(ad.ws_url) as ws:
                await ws.send_str(json.dumps({"type": "subscribe", "channel": "user", "jwt": ad.jwt(None)}))
                first = [json.loads((await asyncio.wait_for(ws.receive(), 5)).data) for _ in range(2)]
                assert first[0]["channel"] == "subscriptions" and "user" in first[0]["events"][0]["subscriptions"]
                assert first[1]["channel"] == "user" and first[1]["events"][0]["type"] == "snapshot"
                inst = await ex.instrument(SYM)
                price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 10 * Decimal(inst.tick_size))
                o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
                assert (await ex.status(SYM, o.client_id)).state is State.ACCEPTED
                u = await ex.cancel(SYM, o.client_id)
                assert u.state is State.CANCELLED and o.state is State.CANCELLED
                statuses = []
                while "CANCELLED" not in statuses:
                    d = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    for ev in d.get("events", ()) if d["channel"] == "user" else ():
                        assert ev["type"] == "update"
                        for row in ev["orders"]:
                            assert {"order_id", "client_order_id", "cumulative_quantity", "leaves_quantity",
                                    "avg_price", "total_fees", "status", "order_side", "order_type"} <= set(row)
                            statuses.append(row["status"])
                assert statuses == ["OPEN", "CANCELLED"]
            assert await ad.open_orders(SYM) == []
            with pytest.raises(VenueRejected) as e:
                await ad.cancel(SYM, "nosuchorder")
            assert e.value.code == "NOT_FOUND"
            assert await ad.query(SYM, "nosuchorder") is None
    run(body())


def test_bad_input_refused_before_sending_and_venue_failure_shapes():
    async def body():
        async with simulator([VENUE]) as sim, cb_executor(sim) as ex:
            inst = await ex.instrument(SYM)
            tick, lot = Decimal(inst.tick_size), Decimal(inst.lot_size)
            for kw, match in [
                (dict(side="buy", type="limit", qty=QTY, price=str(Decimal(65000) + tick / 2)), "multiple of 0.01"),
                (dict(side="buy", type="market", qty=str(Decimal(QTY) + lot / 2)), "multiple of 0.00000001"),
                (dict(side="buy", type="market", qty="0"), "quantity must be positive"),
            ]:
                with pytest.raises(OrderError, match=match):
                    await ex.place(await ex.request(SYM, **kw))
            with pytest.raises(OrderError, match="unknown symbol 'DOGE-XYZ' on coinbase"):
                await ex.request("DOGE-XYZ", "buy", "market", "1")
            with pytest.raises(OrderError, match="leverage applies to perpetuals only"):
                await ex.request(SYM, "buy", "market", QTY, leverage=5)
            assert ex.sends == 0 and len(sim_orders(sim)) == 0
            with pytest.raises(VenueRejected) as e:
                await ex.place(await ex.request(SYM, "buy", "market", "50"))        # 10 BTC of 1M USD: no
            assert e.value.code == "INSUFFICIENT_FUND" and "PREVIEW_INSUFFICIENT_FUND" in e.value.message
            assert len(sim_orders(sim)) == 0
            # the venue's own refusals, if a client skipped the checks
            ad, path = ex.adapter, f"{API}/orders"
            cases = [
                ({"product_id": "DOGE-XYZ", "conf": {"market_market_ioc": {"base_size": QTY}}}, "INVALID_PRODUCT_ID"),
                ({"conf": {"limit_limit_gtc": {"base_size": QTY, "limit_price": "65000.005"}}}, "INVALID_PRICE_PRECISION"),
                ({"conf": {"market_market_ioc": {"base_size": "0.000000001"}}}, "INVALID_SIZE_PRECISION"),
                ({"conf": {"market_market_ioc": {"base_size": "0"}}}, "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL"),
                ({"conf": {"twap": {"base_size": QTY}}}, "UNSUPPORTED_ORDER_CONFIGURATION"),
                ({"side": "HOLD", "conf": {"market_market_ioc": {"base_size": QTY}}}, "INVALID_SIDE"),
            ]
            for i, (c, want) in enumerate(cases):
                body_ = json.dumps({"client_order_id": f"bad{i}", "product_id": c.get("product_id", SYM),
                                    "side": c.get("side", "BUY"), "order_configuration": c["conf"]})
                doc = await ad._send_json("POST", path, body_)
                err = doc["error_response"]
                assert doc["success"] is False and want in (err["error"], err["preview_failure_reason"]), doc
            assert len(sim_orders(sim)) == 0
    run(body())


def _claims(now_s, uri, **over):
    return {"iss": "cdp", "nbf": now_s, "exp": now_s + 120, "sub": "key-A", "uri": uri, **over}


def test_jwt_checks_answer_401():
    """Coinbase verifies the JWT with the key's public key, its lifetime and its uri."""
    async def body():
        async with simulator([VENUE]) as sim:
            private = _open(sim, "key-A")
            signer = CoinbaseSigner("key-A", private)
            base = sim.rest_url(VENUE)
            host = httpx.URL(base).netloc.decode()
            uri = f"GET {host}/coinbase{API}/accounts"
            async with httpx.AsyncClient() as c:
                now = int((await c.get(base + f"{API}/time")).json()["epochSeconds"])
                good = signer.jwt(_claims(now, uri), "ab12")
                h, p, s = good.split(".")
                tampered = f"{h}.{p}.{s[:-4]}{'AAAA' if s[-4:] != 'AAAA' else 'BBBB'}"
                other = CoinbaseSigner("key-A", new_es256_key()[0]).jwt(_claims(now, uri), "ab12")
                ed = ed25519.Ed25519PrivateKey.generate()
                from cryptography.hazmat.primitives import serialization as ser
                raw = ed.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption()) + \
                    ed.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
                cdp_secret = base64.b64encode(raw).decode()
                sim.open_account(VENUE, "key-E", public_pem(cdp_secret))
                eddsa = CoinbaseSigner("key-E", cdp_secret)
                bad = [
                    signer.jwt(_claims(now - 200, uri), "ab12"),                          # expired
                    signer.jwt(_claims(now + 30, uri), "ab12"),                           # not yet valid
                    signer.jwt(_claims(now, uri, exp=now + 600), "ab12"),                 # lives > 120 s
                    signer.jwt(_claims(now, f"GET {host}/coinbase{API}/key_permissions"), "ab12"),   # wrong uri
                    signer.jwt(_claims(now, uri, iss="coinbase-cloud"), "ab12"),
                    tampered, other,                                                      # signature
                    CoinbaseSigner("nobody", private).jwt(_claims(now, uri, sub="nobody"), "ab12"),
                ]
                for jwt in bad:
                    r = await c.get(base + f"{API}/accounts", headers={"Authorization": f"Bearer {jwt}"})
                    assert (r.status_code, r.text) == (401, "Unauthorized"), jwt
                r = await c.get(base + f"{API}/accounts", headers={"Authorization": f"Bearer {good}"})
                assert r.status_code == 200 and {a["currency"] for a in r.json()["accounts"]} >= {"BTC", "USD"}
                ed_jwt = eddsa.jwt(_claims(now, uri, sub="key-E"), "ab12")
                r = await c.get(base + f"{API}/accounts", headers={"Authorization": f"Bearer {ed_jwt}"})
                assert r.status_code == 200 and eddsa.alg == "EdDSA"
    run(body())


def test_key_with_transfer_permission_is_refused():
    async def body():
        async with simulator([VENUE]) as sim:
            await assert_key_refused(sim, VENUE, "key-W", _open(sim, "key-W", can_withdraw=True))
            async with cb_executor(sim, stream=False) as ok:
                info = await ok.adapter.key_info()
                assert info["api_key"] == "key-…" and info["permissions"] == {
                    "can_view": True, "can_trade": True, "can_transfer": False} and info["alg"] == "ES256"
    run(body())


def test_clock_drift_is_a_clear_error_naming_the_drift():
    async def body():
        async with simulator([VENUE]) as sim:  # the JWT's nbf lands 30 s in the venue's future
            await assert_clock_drift_refused(sim, VENUE, SYM, "buy", QTY, 30_000, ("401",), 300, then_fills=True,
                                             open_executor=lambda **kw: cb_executor(sim, **kw))
    run(body())


def test_wrong_key_is_401_not_drift():
    async def body():
        async with simulator([VENUE]) as sim:
            _open(sim, "key-A")
            ex = Executor(adapter(sim, VENUE, "key-A", new_es256_key()[0]))
            await ex.start(stream=False)
            try:
                with pytest.raises(VenueRejected) as e:
                    await ex.place(await ex.request(SYM, "buy", "market", QTY))
                assert e.value.code == 401 and not isinstance(e.value, ClockDrift)
            finally:
                await ex.stop()
    run(body())


def test_timeout_queries_by_client_id_and_never_doubles():
    async def body():
        async with simulator([VENUE]) as sim, cb_executor(sim, timeout_s=0.5) as ex:
            req = await place_through_a_timeout(ex, sim.exchange(VENUE), SYM, "buy", QTY)
            # a resend with the same client_order_id is answered with that order, not a new one
            again = await ex.adapter.place(req)
            assert again.state is State.FILLED and len(sim_orders(sim)) == 1
    run(body())


def test_order_bytes_are_accepted_as_sent():
    async def body():
        async with simulator([VENUE]) as sim, cb_executor(sim, stream=False) as ex:
            req = await ex.request(SYM, "buy", "market", QTY)
            raw = ex.adapter.order_bytes(req)
            assert raw.startswith(b"POST /coinbase/api/v3/brokerage/orders HTTP/1.1\r\n")
            doc = await send_raw(sim, VENUE, raw)
            assert doc["success"] is True, doc
            assert sim.exchange(VENUE).by_client[("key-A", req.client_id)].status == "FILLED"
    run(body())


def test_order_jwts_signed_ahead_are_each_used_once_and_dropped_on_a_clock_step():
    from nexus.venues.coinbase.orders import ORDER_JWT_POOL
    from nexus.venues.coinbase.sign import jwt_parts

    skew = {"ms": 0}

    async def body():
        async with simulator([VENUE]) as sim:
            clock = lambda: time.time_ns() // 1_000_000 + skew["ms"]   # noqa: E731
            async with cb_executor(sim, clock_ms=clock, stream=False) as ex:
                ad = ex.adapter
                assert len(ad._order_jwts) == ORDER_JWT_POOL          # signed at connect
                ready = [t[3] for t in ad._order_jwts]
                raws, nonces = [], set()
                for i in range(ORDER_JWT_POOL + 2):                # the pool, then inline signing
                    req = await ex.request(SYM, "buy", "market", QTY)
                    raw = ad.order_bytes(req)
                    token = re.search(rb"Authorization: Bearer (\S+)\r\n", raw).group(1).decode()
                    assert (token in ready) == (i < ORDER_JWT_POOL)
                    header, claims = jwt_parts(token)
                    assert claims["uri"] == f"POST {ad.host}{ad.base_path}{API}/orders"
                    nonces.add(header["nonce"])
                    raws.append((req, raw))
                assert len(nonces) == ORDER_JWT_POOL + 2             # each JWT used once
                for req, raw in raws:                                 # every one accepted by the venue
                    doc = await send_raw(sim, VENUE, raw)
                    assert doc["success"] is True, doc
                assert ad.presign_orders() == ORDER_JWT_POOL
                skew["ms"] = 5_000                                    # the clock steps: the pool is dropped
                req = await ex.request(SYM, "buy", "market", QTY)
                raw = ad.order_bytes(req)
                assert len(ad._order_jwts) == 0
                token = re.search(rb"Authorization: Bearer (\S+)\r\n", raw).group(1).decode()
                assert jwt_parts(token)[1]["nbf"] >= (time.time_ns() // 1_000_000 + 5_000 - 1_500) // 1000
    run(body())


def test_credentials_are_forgotten_and_masked():
    private, _ = KEYS["key-A"]
    creds = Credentials(VENUE, "organizations/x/apiKeys/abcdef", private)
    from nexus.venues.coinbase.orders import CoinbaseAdapter
    ad = CoinbaseAdapter(creds, rest_url="http://127.0.0.1:1/coinbase")
    assert "PRIVATE" not in repr(ad) and "abcdef" not in repr(ad)
    with pytest.raises(Exception, match="already handed"):
        creds.secret
    asyncio.run(ad.close())
