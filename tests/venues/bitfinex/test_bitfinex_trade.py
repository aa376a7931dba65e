"""Bitfinex v2 order entry end to end against the simulator (real HTTP and WebSocket on
127.0.0.1): EXCHANGE MARKET / LIMIT / STOP, the limit resting in the public book channel then
filling, the account channel (auth, on/ou/oc, te/tu), cancel and status by cid + cid_date,
wallets, bad inputs refused before sending, the venue's own refusals (["error", CODE, TEXT]
with HTTP 500), the signature / nonce checks Bitfinex makes, a key with withdrawal rights,
and an idempotent retry after a timeout. Formats: docs.bitfinex.com (see the modules'
docstrings)."""
import asyncio
import json
import time
from decimal import Decimal

import aiohttp
import httpx
import pytest

from nexus.exec.client import ClockDrift, Executor, VenueRejected
from nexus.exec.keys import Credentials
from nexus.exec.orders import OrderError, State
from nexus.venues.bitfinex.orders import BitfinexAdapter, cid_of
from nexus.venues.bitfinex.sign import BitfinexSigner
from tests.exec.tradesim import (
    adapter, assert_key_refused, executor, place_through_a_timeout, run, sell_down_to, send_raw, simulator,
)

VENUE, SYM, QTY = "bitfinex", "tBTCUSD", "0.01"


def sim_orders(sim):
    return sim.exchange(VENUE).orders


class Raw:
    """Signed calls written by hand (the venue's refusals, which Nexus's own checks never let
    through), with a nonce of our own."""

    def __init__(self, sim, key="key-A", secret="secret-A"):
        self.base, self.signer = sim.rest_url(VENUE), BitfinexSigner(key, secret)
        self.nonce = time.time_ns() // 1000 + 10**9     # above anything the adapter used

    async def post(self, path, body, *, nonce=None, sig=None):
        self.nonce += 1
        n = str(nonce if nonce is not None else self.nonce)
        text = json.dumps(body, separators=(",", ":"))
        h = self.signer.sign("POST", path, "", text, "", nonce=n).headers
        if sig is not None:
            h["bfx-signature"] = sig
        async with httpx.AsyncClient() as c:
            r = await c.post(self.base + path, content=text, headers={**h, "Content-Type": "application/json"})
        return r.status_code, r.json()


def _gap_below_best_bid(sim) -> str:
    bids = sorted((Decimal(p) for p, _ in sim.book(VENUE)["bids"]), reverse=True)
    p = bids[min(10, len(bids) - 1)] - 1
    while p in set(bids):
        p -= 1
    return str(p)


def test_market_buy_and_sell_move_wallets():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            acct = sim.exchange(VENUE).accounts["key-A"]
            usd0, btc0 = acct.balances["USD"], acct.balances["BTC"]
            o = await ex.place(await ex.request(SYM, "buy", "market", QTY))
            assert o.state is State.FILLED and o.filled_qty == Decimal(QTY) and ex.sends == 1
            so = next(iter(sim_orders(sim).values()))
            assert so.client_id.startswith(f"{cid_of(o.client_id)}@")       # cid@cid_date, as Bitfinex keys it
            assert o.avg_price == so.notional / Decimal(QTY)
            assert acct.balances["BTC"] == btc0 + Decimal(QTY) and acct.balances["USD"] == usd0 - so.notional - so.fees
            bal = {p.symbol: p for p in await ex.adapter.positions()}
            e8 = Decimal("0.00000001")      # wallets carry 8 decimals
            assert bal["BTC"].qty == acct.balances["BTC"] and bal["USD"].qty == acct.balances["USD"].quantize(e8)
            assert bal["BTC"].extra["wallet"] == "exchange"
            back = await ex.place(await ex.request("BTCUSDT", "sell", "market", QTY))   # canonical name maps
            assert back.state is State.FILLED and acct.balances["BTC"] == btc0
            assert back.request.symbol == SYM and ex.positions.get(VENUE, SYM).qty == 0
            st = await ex.status(SYM, back.client_id)
            assert st.state is State.FILLED and st.venue_status.startswith("EXECUTED @ ")
    run(body())


def test_limit_rests_in_public_book_then_fills_reported_on_account_channel():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            price = _gap_below_best_bid(sim)
            async with aiohttp.ClientSession() as s, s.ws_connect(sim.url(VENUE)) as ws:
                await ws.send_str(json.dumps({"event": "subscribe", "channel": "book", "symbol": SYM,
                                              "prec": "P0", "len": "25"}))
                before = None
                while before is None:       # the snapshot: what the level holds before our order
                    doc = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    if isinstance(doc, list) and isinstance(doc[1], list) and doc[1] and isinstance(doc[1][0], list):
                        before = sum((Decimal(str(r[2])) for r in doc[1] if Decimal(str(r[0])) == Decimal(price)),
                                     Decimal(0))
                o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
                assert o.state is State.ACCEPTED
                seen = None
                while seen is None:
                    doc = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    if isinstance(doc, list) and isinstance(doc[1], list) and not isinstance(doc[1][0], list):
                        r = doc[1]
                        seen = r if Decimal(str(r[0])) == Decimal(price) and r[1] > 0 else None
                assert Decimal(str(seen[2])) >= before + Decimal(QTY)      # our order joined the level
            assert [u.client_id for u in await ex.adapter.open_orders(SYM)] == [o.client_id]
            async with executor(sim, VENUE, "key-B", "secret-B", stream=False) as other:
                # all the bids down to our price, again until ours filled (the flow adds bids meanwhile)
                await sell_down_to(sim, VENUE, other, SYM, price, ex, o.client_id)
            await ex.wait_for(o.client_id, lambda x: x.state is State.FILLED, 5)      # from channel 0
            assert o.avg_price == Decimal(price) and o.events[-1].dst is State.FILLED
            st = await ex.status(SYM, o.client_id)
            assert st.state is State.FILLED and st.venue_status == f"EXECUTED @ {price}({QTY})"
    run(body())


def test_stop_triggers_on_last_price_and_far_stop_cancels():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            ask = sim.book(VENUE)["asks"][:4][-1][0]
            o = await ex.place(await ex.request(SYM, "buy", "stop", QTY, stop_price=ask))
            assert o.state is State.ACCEPTED
            far = "130000"
            c = await ex.place(await ex.request(SYM, "buy", "stop", QTY, stop_price=far))
            u = await ex.cancel(SYM, c.client_id)
            assert u.state is State.CANCELLED and c.state is State.CANCELLED and u.venue_status == "CANCELED"
            async with executor(sim, VENUE, "key-B", "secret-B", stream=False) as other:
                sweep = sum(Decimal(q) for p, q in sim.book(VENUE)["asks"] if Decimal(p) <= Decimal(ask))
                await other.place(await other.request(SYM, "buy", "market", str(sweep)))
            await ex.wait_for(o.client_id, lambda x: x.state.terminal, 5)
            assert o.state is State.FILLED
            raw = Raw(sim)
            _, hist = await raw.post(f"/v2/auth/r/orders/{SYM}/hist", {})
            row = next(r for r in hist if r[2] == cid_of(o.client_id))
            assert row[8] == "EXCHANGE MARKET" and row[9] == "EXCHANGE STOP" and row[13].startswith("EXECUTED @")
    run(body())


def test_account_channel_messages_and_auth_failures():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(ad.ws_url) as ws:           # a wrong signature
                    await ws.receive()                              # info
                    bad = json.loads(ad.auth_message())
                    bad["authSig"] = ("0" if bad["authSig"][0] != "0" else "1") + bad["authSig"][1:]
                    await ws.send_str(json.dumps(bad))
                    doc = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    assert doc == {"event": "auth", "status": "FAILED", "chanId": 0, "msg": "apikey: digest invalid",
                                   "code": 10100}
                async with s.ws_connect(ad.ws_url) as ws:
                    info = json.loads((await ws.receive()).data)
                    assert info["event"] == "info" and info["version"] == 2
                    await ws.send_str(ad.auth_message())
                    ok = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    assert ok["event"] == "auth" and ok["status"] == "OK" and ok["chanId"] == 0
                    assert ok["caps"]["orders"] == {"read": 1, "write": 1} and ok["caps"]["withdraw"]["write"] == 0
                    snaps = [json.loads((await asyncio.wait_for(ws.receive(), 5)).data) for _ in range(3)]
                    assert [m[:2] for m in snaps] == [[0, "ps"], [0, "ws"], [0, "os"]]
                    assert any(w[:2] == ["exchange", "BTC"] and w[2] == 10 for w in snaps[1][2])
                    o = await ex.place(await ex.request(SYM, "buy", "market", QTY))
                    kinds = []
                    while "oc" not in kinds or "tu" not in kinds:
                        m = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                        kinds.append(m[1])
                        if m[1] in ("on", "ou", "oc"):
                            assert len(m[2]) == 32 and m[2][2] == cid_of(o.client_id) and m[2][3] == SYM
                            assert m[2][8] == "EXCHANGE MARKET" and m[2][7] == 0.01
                        if m[1] == "te":
                            assert m[2][1] == SYM and m[2][4] > 0 and m[2][9] is None and m[2][11] == cid_of(o.client_id)
                        if m[1] == "tu":
                            assert m[2][9] < 0 and m[2][10] == "USD"
                    assert kinds[0] == "on" and "te" in kinds and kinds.index("te") < kinds.index("oc")
                    await ws.send_str(ad.auth_message().replace(ad.signer.api_key, "nobody"))
                    doc = None
                    while not isinstance(doc, dict):        # past the wallet updates ("wu")
                        doc = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                    assert doc["status"] == "FAILED" and doc["code"] == 10100 and doc["msg"] == "apikey: invalid"
    run(body())


def test_cancel_status_of_unknown_orders():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, stream=False) as ex:
            ad = ex.adapter
            price = str(Decimal(sim.book(VENUE)["bids"][-1][0]) - 10)
            o = await ex.place(await ex.request(SYM, "buy", "limit", QTY, price=price))
            assert (await ex.status(SYM, o.client_id)).state is State.ACCEPTED
            u = await ex.cancel(SYM, o.client_id)
            assert u.state is State.CANCELLED and o.state is State.CANCELLED
            assert await ad.open_orders(SYM) == []
            with pytest.raises(VenueRejected) as e:
                await ad.cancel(SYM, "nosuchorder")
            assert (e.value.code, e.value.message, e.value.status) == (10001, "Order not found.", 500)
            assert await ad.query(SYM, "nosuchorder") is None
            # another process (a fresh adapter) finds the order by the same client id
            again = adapter(sim, VENUE)
            try:
                st = await again.query(SYM, o.client_id)
                assert st.client_id == o.client_id and st.state is State.CANCELLED
            finally:
                await again.close()
    run(body())


def test_bad_input_refused_before_sending_and_venue_refusals():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            for kw, match in [
                (dict(side="buy", type="limit", qty=QTY, price="65000.5"), "more than 5 significant digits.*tick is 1$"),
                (dict(side="buy", type="stop", qty=QTY, stop_price="3200.15"), "tick is 0.1$"),
                (dict(side="buy", type="market", qty="0.000000001"), "multiple of 0.00000001"),
                (dict(side="buy", type="market", qty="0"), "quantity must be positive"),
                (dict(side="sell", type="market", qty=QTY, reduce_only=True), "reduce-only"),
            ]:
                with pytest.raises(OrderError, match=match):
                    await ex.place(await ex.request(SYM, **kw))
            with pytest.raises(OrderError, match="unknown symbol 'tDOGEXYZ' on bitfinex"):
                await ex.request("tDOGEXYZ", "buy", "market", "1")
            with pytest.raises(OrderError, match="leverage applies to perpetuals only"):
                await ex.request(SYM, "buy", "market", QTY, leverage=5)
            assert ex.sends == 0 and len(sim_orders(sim)) == 0
            with pytest.raises(VenueRejected) as e:
                await ex.place(await ex.request(SYM, "buy", "market", "50"))       # 50 BTC of 1M USD: no
            assert e.value.code == 10001 and e.value.status == 500
            assert e.value.message == "Invalid order: not enough exchange balance for 50 tBTCUSD at market"
            with pytest.raises(VenueRejected, match="not enough exchange balance for -11 tBTCUSD at 70000"):
                await ex.place(await ex.request(SYM, "sell", "limit", "11", price="70000"))
            assert len(sim_orders(sim)) == 0
            raw = Raw(sim)
            order = {"type": "EXCHANGE LIMIT", "symbol": SYM, "amount": QTY, "price": "1000", "cid": 77}
            for over, want in [
                ({"symbol": "tDOGEXYZ"}, [10020, "symbol: invalid"]),
                ({"type": "LIMIT"}, [10001, "Invalid order: margin trading is not simulated"]),
                ({"type": "EXCHANGE ICEBERG"}, [10020, "type: invalid"]),
                ({"amount": "abc"}, [10020, "amount: invalid"]),
                ({"amount": "0.000000001"}, [10001, "Invalid order: amount precision is at most 8 decimals"]),
                ({"price": "-5"}, [10020, "price: invalid"]),
                ({"cid": "x"}, [10020, "cid: invalid"]),
            ]:
                status, doc = await raw.post("/v2/auth/w/order/submit", {**order, **over})
                assert (status, doc) == (500, ["error", *want]), over
            assert len(sim_orders(sim)) == 0
            # beyond 5 significant digits Bitfinex truncates (documented), and so does the simulator
            status, doc = await raw.post("/v2/auth/w/order/submit", {**order, "price": "60000.7"})
            assert status == 200 and doc[1] == "on-req" and doc[6] == "SUCCESS" and doc[7] == "Submitting 1 orders."
            row = doc[4][0]
            assert len(row) == 32 and row[16] == 60000 and row[13] == "ACTIVE" and row[2] == 77 and row[6] == 0.01
    run(body())


def test_signature_and_nonce_checks():
    async def body():
        async with simulator([VENUE]) as sim:
            sim.open_account(VENUE, "key-A", "secret-A")
            raw = Raw(sim)
            assert (await raw.post("/v2/auth/r/wallets", {}))[0] == 200
            status, doc = await raw.post("/v2/auth/r/wallets", {}, sig="0" * 96)
            assert (status, doc) == (500, ["error", 10100, "apikey: digest invalid"])
            status, doc = await Raw(sim, "nobody", "secret-A").post("/v2/auth/r/wallets", {})
            assert (status, doc) == (500, ["error", 10100, "apikey: invalid"])
            status, doc = await raw.post("/v2/auth/r/wallets", {}, nonce=raw.nonce - 5)
            assert (status, doc) == (500, ["error", 10114, "nonce: small"])
            # a flipped byte in the body after signing
            text = json.dumps({"type": "EXCHANGE MARKET", "symbol": SYM, "amount": QTY, "cid": 5}, separators=(",", ":"))
            raw.nonce += 1
            h = raw.signer.sign("POST", "/v2/auth/w/order/submit", "", text, "", nonce=str(raw.nonce)).headers
            async with httpx.AsyncClient() as c:
                r = await c.post(raw.base + "/v2/auth/w/order/submit", content=text.replace("0.01", "0.02"), headers=h)
            assert (r.status_code, r.json()) == (500, ["error", 10100, "apikey: digest invalid"])
            assert len(sim_orders(sim)) == 0
    run(body())


def test_nonce_below_the_keys_last_is_a_clear_error():
    """Bitfinex has no timestamp window; what a clock (or another client of the key) can break
    is the nonce: 10114 "nonce: small" becomes ClockDrift naming the cause and the fix."""
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, stream=False) as ex:
            await ex.place(await ex.request(SYM, "buy", "market", QTY))
            behind = lambda: time.time_ns() // 1_000_000 - 60_000       # noqa: E731  a clock a minute back
            late = Executor(adapter(sim, VENUE, clock_ms=behind))
            await late.start(stream=False)
            try:
                req = await late.request(SYM, "buy", "market", QTY)
                with pytest.raises(ClockDrift) as e:
                    await late.place(req)
                assert e.value.code == 10114 and "nonce: small" in str(e.value)
                assert "one client only" in str(e.value) and "Nothing was placed" in str(e.value)
                assert late.tracker.get(req.client_id).state is State.REJECTED and len(sim_orders(sim)) == 1
            finally:
                await late.stop()
            info = await ex.adapter.key_info()          # the Date header's offset, reported
            assert abs(info["time_offset_ms"]) < 2000 and "Date header" in info["time_source"]
    run(body())


def test_key_with_withdraw_permission_is_refused():
    async def body():
        async with simulator([VENUE]) as sim:
            sim.open_account(VENUE, "key-W", "secret-W", can_withdraw=True)
            await assert_key_refused(sim, VENUE, "key-W", "secret-W")
            async with executor(sim, VENUE, stream=False) as ok:
                info = await ok.adapter.key_info()
                assert info["api_key"] == "key-…" and info["permissions"]["orders.write"] is True
                assert info["permissions"]["withdraw.write"] is False
    run(body())


def test_timeout_queries_by_client_id_and_never_doubles():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, timeout_s=0.5) as ex:
            req = await place_through_a_timeout(ex, sim.exchange(VENUE), SYM, "buy", QTY,
                                                venue_keeps_client_id=False)
            with pytest.raises(VenueRejected, match="duplicate cid"):     # the same cid again the same day
                await ex.adapter.place(req)
            assert len(sim_orders(sim)) == 1
    run(body())


def test_order_bytes_are_accepted_as_sent():
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE, stream=False) as ex:
            req = await ex.request(SYM, "buy", "market", QTY)
            raw = ex.adapter.order_bytes(req)
            assert raw.startswith(b"POST /bitfinex/v2/auth/w/order/submit HTTP/1.1\r\n")
            doc = await send_raw(sim, VENUE, raw)
            assert doc[1] == "on-req" and doc[6] == "SUCCESS", doc
            assert doc[4][0][2] == cid_of(req.client_id) and doc[4][0][13].startswith("EXECUTED @")
    run(body())


def test_order_bytes_render_each_type_and_side_exactly():
    """order_bytes' body (each type, both sides, values str() would write with an exponent),
    its nonce (fresh, growing) and signature (an independent HMAC-SHA384) as documented."""
    import hashlib
    import hmac

    from nexus.exec.orders import OrderRequest
    from nexus.instruments import Instrument

    inst = Instrument(VENUE, SYM, "0.00000001", "0.00000001", base="BTC", quote="USD")
    ad = BitfinexAdapter(Credentials(VENUE, "k" * 43, "s" * 43), rest_url="http://127.0.0.1:1")
    cases = [
        (("sell", "limit", "0.5"), {"price": "64000"}, '"type":"EXCHANGE LIMIT","symbol":"tBTCUSD","amount":"-0.5",'
                                                        '"price":"64000"'),
        (("buy", "market", "10"), {}, '"type":"EXCHANGE MARKET","symbol":"tBTCUSD","amount":"10"'),
        (("sell", "stop", "0.00000010"), {"stop_price": "6.5E+4"},
         '"type":"EXCHANGE STOP","symbol":"tBTCUSD","amount":"-0.00000010","price":"65000"'),
        (("buy", "limit", "0.0000001"), {"price": "0.0000001"},
         '"type":"EXCHANGE LIMIT","symbol":"tBTCUSD","amount":"0.0000001","price":"0.0000001"'),
    ]
    nonces = []
    for (side, kind, qty), kw, want in cases:
        req = OrderRequest.make(inst, side, kind, qty, client_id="77", **kw)
        head, body = ad.order_bytes(req).decode().split("\r\n\r\n")
        assert body == "{" + want + ',"cid":77}' == ad.order_body(req)
        lines = head.split("\r\n")
        h = dict(x.split(": ", 1) for x in lines[1:])
        assert lines[0] == "POST /v2/auth/w/order/submit HTTP/1.1" and h["Content-Length"] == str(len(body))
        assert h["bfx-signature"] == hmac.new(b"s" * 43, f"/api/v2/auth/w/order/submit{h['bfx-nonce']}{body}".encode(),
                                              hashlib.sha384).hexdigest()
        nonces.append(int(h["bfx-nonce"]))
    assert nonces == sorted(set(nonces))
    asyncio.run(ad.close())


def test_credentials_are_forgotten_and_masked():
    creds = Credentials(VENUE, "abcdefkey123", "topsecret456")
    ad = BitfinexAdapter(creds, rest_url="http://127.0.0.1:1/bitfinex")
    assert "topsecret456" not in repr(ad) and "abcdefkey123" not in repr(ad)
    with pytest.raises(Exception, match="already handed"):
        creds.secret
    asyncio.run(ad.close())


def test_cli_session_bitfinex(tmp_path):
    """Bitfinex through the CLI (`nexus sim --account-env` in a subprocess, the key in the
    environment): exit statuses as contracted, and the key's and secret's bytes appear in no
    output and no file written (tests.exec.test_order_cli._session scans them)."""
    import secrets

    from tests.exec.test_order_cli import _session

    key, secret = "nxkey" + secrets.token_hex(16), "nxsecret" + secrets.token_hex(24)
    keys = {"NEXUS_BITFINEX_API_KEY": key, "NEXUS_BITFINEX_API_SECRET": secret}
    for nexus, outputs in _session(tmp_path, VENUE, key, secret, "nxpass" + secrets.token_hex(12), keys, VENUE):
        r = nexus("keys", "check", "--json")
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["api_key"] == key[:4] + "…" and info["permissions"]["withdraw.write"] is False
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["state"] == "filled"
        r = nexus("positions", "--json")
        assert r.returncode == 0 and "BTC" in {p["symbol"] for p in json.loads(r.stdout)}, r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "sell", "--type", "limit", "--qty", QTY,
                  "--price", "99999", "--client-id", "bfxA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "ls", "--json")       # another process: Bitfinex holds the integer cid only
        assert r.returncode == 0 and [o["client_id"] for o in json.loads(r.stdout)] == [str(cid_of("bfxA1"))]
        r = nexus("order", "status", "--symbol", SYM, "--client-id", "bfxA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "accepted", r.stderr
        r = nexus("order", "cancel", "--symbol", SYM, "--client-id", "bfxA1", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "cancelled", r.stderr
        r = nexus("order", "cancel", "--symbol", SYM, "--client-id", "bfxA1", "--json")
        assert r.returncode == 3 and "Order not found." in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", "50")
        assert r.returncode == 3 and "not enough exchange balance" in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "limit", "--qty", QTY,
                  "--price", "65000.5")
        assert r.returncode == 2 and "5 significant digits" in r.stderr and "tick is 1" in r.stderr
        r = nexus("order", "place", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY, keys=False)
        assert r.returncode == 2 and "NEXUS_BITFINEX_API_KEY" in r.stderr
        r = nexus("order", "place", "--sim", "--symbol", SYM, "--side", "buy", "--type", "market", "--qty", QTY,
                  "--json", keys=False)
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == "filled", r.stderr
        assert len(outputs) >= 11


def test_tp_sl_ticks_scale_by_the_tick_at_the_entry_price():
    """Bitfinex's tick depends on the price (five significant digits): 20 ticks at 65000 are 20."""
    async def body():
        async with simulator([VENUE]) as sim, executor(sim, VENUE) as ex:
            o = await ex.place(await ex.request(SYM, "buy", "market", QTY, tp_ticks=20, sl_ticks=30))
            assert o.state is State.FILLED and ex.bracket_errors == []
            ref = o.avg_price.to_integral_value()
            rows = {u.client_id: u for u in await ex.adapter.open_orders(SYM)}
            held = {so.type: so for so in sim.exchange(VENUE).open_orders(sim.exchange(VENUE).accounts["key-A"])}
            assert len(rows) == 2 and held["LIMIT"].price == ref + 20 and held["STOP"].stop == ref - 30
    run(body())
