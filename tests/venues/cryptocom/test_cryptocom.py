"""Crypto.com: instruments from public/get-instruments, the heartbeat answer, and `nexus run`
against the simulator over real WebSockets on 127.0.0.1 (gap, malformed frames, disconnect)."""
import asyncio
from decimal import Decimal

from nexus.feeds.runtime import RunConfig, Runtime
from nexus.venues.cryptocom.data import CryptocomDecoder
from nexus.venues.cryptocom.feed import respond_heartbeat

# public/get-instruments in the documented shape (https://exchange-docs.crypto.com/exchange/v1/
# rest-ws/index.html#public-get-instruments).
INSTRUMENTS = (b'{"id":1,"method":"public/get-instruments","code":0,"result":{"data":[{"symbol":"BTCUSD-PERP",'
               b'"inst_type":"PERPETUAL_SWAP","display_name":"BTCUSD Perpetual","base_ccy":"BTC","quote_ccy":"USD",'
               b'"quote_decimals":1,"quantity_decimals":4,"price_tick_size":"0.1","qty_tick_size":"0.0001",'
               b'"max_leverage":"100","tradable":true,"expiry_timestamp_ms":0,"underlying_symbol":"BTCUSD-INDEX"}]}}')


def test_instruments_and_heartbeat_answer():
    d = CryptocomDecoder()
    assert d.load_metadata(INSTRUMENTS) == 1
    i = d.instrument("BTCUSD-PERP")
    assert (i.tick_size, i.lot_size, i.contract_kind) == ("0.1", "0.0001", "linear") and not d.generic
    # the documented heartbeat request and its answer (same id)
    assert respond_heartbeat(b'{"id":1587523073344,"method":"public/heartbeat","code":0}') == \
        b'{"id":1587523073344,"method":"public/respond-heartbeat"}'


def test_stream_matches_the_simulator_through_faults():
    async def main():
        rt = Runtime(RunConfig(venues=["cryptocom"], sim=True, seed=3, signals=False, duration_s=14,
                               faults=["gap:cryptocom:3", "malformed:cryptocom:6", "disconnect:cryptocom:8"]))
        await rt.start()
        loop = asyncio.get_running_loop()
        t_end = loop.time() + 14
        while loop.time() < t_end:
            rt.poll()
            await asyncio.sleep(0.001)
        rt.poll()
        f = rt.feeds["cryptocom"]
        st = f.sync.books[f.symbol]
        inst = st.inst
        mine = [[inst.price_str(p), inst.qty_str(q)] for s in (1, 2) for p, q in st.book.top(s, 10)]
        sim = rt.sim.book("cryptocom", channel="book.BTCUSD-PERP.50", seq=f.last_book_seq)
        want = sim["bids"][:10] + sim["asks"][:10]
        ring = [[inst.price_str(p), inst.qty_str(q)] for s in (1, 2) for p, q in rt.readers["cryptocom"].book.top(s, 10)]
        stats = rt.venue_stats()["cryptocom"]
        await rt.stop()
        return st.synced, mine, want, ring, stats

    synced, mine, want, ring, s = asyncio.run(main())
    assert synced and len(mine) == 20 and ring == mine
    assert [(Decimal(p), Decimal(q)) for p, q in mine] == [(Decimal(p), Decimal(q)) for p, q in want]
    assert s["state"] == "LIVE" and s["gaps"] >= 1 and s["reconnects"] >= 1 and s["malformed"] >= 1, s


def test_spot_v2_wire_beside_v1():
    """The Spot API v2 (https://exchange-docs.crypto.com/spot/index.html) served at /v2/market and
    /v2/public/get-instruments: the spot pair of the simulator's coins, whole books at up to 150
    levels equal to the simulator's own book (numbers as strings, v2.1), trades with the ids v1
    gives them, unknown channels
    refused with 40003, and the v1 wire unchanged beside it."""
    import json

    import aiohttp

    from nexus.sim import Simulator

    async def main():
        async with Simulator(seed=3, venues=["cryptocom"]) as sim:
            rest = sim.rest_url("cryptocom")
            async with aiohttp.ClientSession() as http:
                async with http.get(rest + "/v2/public/get-instruments") as r:
                    listing = await r.json()
                got = {"books": [], "trades": [], "refused": None, "v1": None}
                async with http.ws_connect(rest.replace("http", "ws", 1) + "/v2/market") as ws:
                    await ws.send_str(json.dumps({"id": 7, "method": "subscribe", "nonce": 1,
                                                  "params": {"channels": ["book.BTC_USD.150", "trade.BTC_USD"]}}))
                    ack = json.loads((await ws.receive(timeout=5)).data)
                    await ws.send_str(json.dumps({"id": 8, "method": "subscribe",
                                                  "params": {"channels": ["book.BTCUSD-PERP.50"]}}))
                    while len(got["books"]) < 4 or not got["trades"] or got["refused"] is None:
                        m = json.loads((await ws.receive(timeout=5)).data)
                        res = m.get("result", {})
                        if m.get("id") == 8:
                            got["refused"] = m
                        elif res.get("channel") == "book":
                            got["books"].append(res)
                        elif res.get("channel") == "trade":
                            got["trades"].extend(res["data"])
                async with http.ws_connect(sim.ws_url("cryptocom")) as ws:
                    await ws.send_str(json.dumps({"id": 1, "method": "subscribe", "params": {
                        "channels": ["book.BTCUSD-PERP.10"], "book_subscription_type": "SNAPSHOT_AND_UPDATE"}}))
                    await ws.receive(timeout=5)
                    got["v1"] = json.loads((await ws.receive(timeout=5)).data)
                view = sim.core.feeds["cryptocom"].v2.view
                return listing, ack, got, list(view.history)

    listing, ack, got, history = asyncio.run(main())
    (inst,) = listing["result"]["instruments"]
    assert listing["code"] == 0 and (inst["instrument_name"], inst["base_currency"], inst["quote_currency"]) == \
        ("BTC_USD", "BTC", "USD") and (inst["price_decimals"], inst["quantity_decimals"]) == (1, 4)
    assert ack == {"id": 7, "method": "subscribe", "code": 0}
    assert got["refused"] == {"id": 8, "method": "subscribe", "code": 40003, "message": "INVALID_CHANNEL"}
    by_ms = {h.ts_ns // 1_000_000: h for h in history}
    compared = 0
    for res in got["books"]:
        assert res["subscription"] == "book.BTC_USD.150" and res["depth"] == 150
        (data,) = res["data"]
        bids, asks = data["bids"], data["asks"]
        assert 0 < len(bids) <= 150 and 0 < len(asks) <= 150 and Decimal(bids[0][0]) < Decimal(asks[0][0])
        assert all(isinstance(x, str) for lv in bids + asks for x in lv)   # v2.1: numbers as strings
        h = by_ms.get(data["t"])
        if h is not None:      # a publication after the subscribe snapshot: equal to the simulator's
            spec = (Decimal("0.1"), Decimal("0.0001"))
            assert [(Decimal(str(p)), Decimal(str(q))) for p, q, _ in bids[:10]] == \
                [(p * spec[0], q * spec[1]) for p, q in h.bids[:10]]
            compared += 1
    assert compared >= 1
    t = got["trades"][0]
    assert set(t) == {"dataTime", "d", "s", "p", "q", "t", "i"} and t["i"] == "BTC_USD" and t["s"] in ("BUY", "SELL")
    assert all(isinstance(t[k], str) for k in "dpq") and isinstance(t["t"], int)
    assert got["v1"]["result"]["instrument_name"] == "BTCUSD-PERP" and "u" in got["v1"]["result"]["data"][0]
