"""Each venue's handshake, acks and message shapes over real WebSockets on 127.0.0.1, compared
with the examples in the venues' documentation (tests/sim/sim_doc_examples.py)."""

import json
import re

import sim_doc_examples as doc
from simclient import Client, http_get, http_post, run

from nexus.sim import Simulator

DEC8 = re.compile(r"^\d+\.\d{8}$")


def _shape(msg, example, what):
    assert doc.same_shape(msg, example), f"{what}: {json.dumps(msg)[:400]}\n  documented: {json.dumps(example)}"


async def _collect(c: Client, want: dict, timeout: float = 5.0) -> dict:
    """Read messages until every key of `want` (name -> predicate) has matched one."""
    got: dict = {}
    while len(got) < len(want):
        m = await c.json(timeout)
        assert m is not None, "disconnected"
        for name, pred in want.items():
            if name not in got and pred(m):
                got[name] = m
    return got


def test_binance_spot_streams_and_rest():
    async def main():
        async with Simulator(seed=3, venues=["binance-spot"]) as sim:
            c = await Client.connect(sim.url("binance-spot"))
            c.send({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms", "btcusdt@trade", "btcusdt@aggTrade",
                                                      "btcusdt@depth5@100ms"], "id": 1})
            ack = await c.json()
            assert ack == {"result": None, "id": 1}
            got = await _collect(c, {
                "depth": lambda m: m.get("e") == "depthUpdate", "trade": lambda m: m.get("e") == "trade",
                "agg": lambda m: m.get("e") == "aggTrade", "partial": lambda m: "lastUpdateId" in m})
            _shape(got["depth"], doc.BINANCE_SPOT_DEPTH_UPDATE, "depthUpdate")
            _shape(got["trade"], doc.BINANCE_SPOT_TRADE, "trade")
            _shape(got["agg"], doc.BINANCE_SPOT_AGG_TRADE, "aggTrade")
            _shape(got["partial"], doc.BINANCE_SPOT_PARTIAL_DEPTH, "partial depth")
            assert got["depth"]["s"] == "BTCUSDT" and got["depth"]["U"] <= got["depth"]["u"]
            assert all(DEC8.match(p) and DEC8.match(q) for p, q in got["depth"]["b"] + got["depth"]["a"])
            assert DEC8.match(got["trade"]["p"]) and DEC8.match(got["trade"]["q"])
            assert got["agg"]["f"] <= got["agg"]["l"]
            c.send({"method": "LIST_SUBSCRIPTIONS", "id": 2})
            lst = await c.until(lambda m: m.get("id") == 2)
            assert set(lst["result"]) == {"btcusdt@depth@100ms", "btcusdt@trade", "btcusdt@aggTrade", "btcusdt@depth5@100ms"}
            c.send("not json")
            err = await c.until(lambda m: "code" in m)
            assert err["code"] == 3
            c.close()

            comb = await Client.connect(sim.url("binance-spot").replace("/ws", "/stream") + "?streams=btcusdt@depth@100ms")
            m = await comb.json()
            assert m["stream"] == "btcusdt@depth@100ms"
            _shape(m["data"], doc.BINANCE_SPOT_DEPTH_UPDATE, "combined depthUpdate")
            comb.close()

            status, body = await http_get(sim.rest_url("binance-spot") + "/api/v3/depth?symbol=BTCUSDT&limit=10")
            assert status == 200
            _shape(body, doc.BINANCE_SPOT_REST_DEPTH, "REST depth")
            assert len(body["bids"]) == 10 and len(body["asks"]) == 10
            status, info = await http_get(sim.rest_url("binance-spot") + "/api/v3/exchangeInfo?symbol=BTCUSDT")
            sym = info["symbols"][0]
            filters = {f["filterType"]: f for f in sym["filters"]}
            assert sym["symbol"] == "BTCUSDT" and filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
            assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
            status, err = await http_get(sim.rest_url("binance-spot") + "/api/v3/depth?symbol=NOPE")
            assert status == 400 and err["code"] == -1121
    run(main())


def test_binance_perp_streams_and_rest():
    async def main():
        async with Simulator(seed=3, venues=["binance-perp"]) as sim:
            c = await Client.connect(sim.url("binance-perp") + "/btcusdt@depth@100ms/btcusdt@aggTrade")
            got = await _collect(c, {"depth": lambda m: m.get("e") == "depthUpdate",
                                     "agg": lambda m: m.get("e") == "aggTrade"})
            _shape(got["depth"], doc.BINANCE_PERP_DEPTH_UPDATE, "futures depthUpdate")
            _shape(got["agg"], doc.BINANCE_PERP_AGG_TRADE, "futures aggTrade")
            assert re.match(r"^\d+\.\d{2}$", got["depth"]["b"][0][0] if got["depth"]["b"] else got["depth"]["a"][0][0])
            assert re.match(r"^\d+\.\d{3}$", got["agg"]["q"])
            c.close()
            status, body = await http_get(sim.rest_url("binance-perp") + "/fapi/v1/depth?symbol=BTCUSDT&limit=5")
            _shape(body, doc.BINANCE_PERP_REST_DEPTH, "futures REST depth")
            status, info = await http_get(sim.rest_url("binance-perp") + "/fapi/v1/exchangeInfo")
            sym = info["symbols"][0]
            filters = {f["filterType"]: f for f in sym["filters"]}
            assert sym["contractType"] == "PERPETUAL" and filters["PRICE_FILTER"]["tickSize"] == "0.10"
            assert filters["LOT_SIZE"]["stepSize"] == "0.001" and sym["pricePrecision"] == 2
    run(main())


def test_bybit_linear_protocol_and_rest():
    async def main():
        async with Simulator(seed=3, venues=["bybit-perp"]) as sim:
            assert sim.url("bybit-perp").endswith("/bybit-perp/v5/public/linear")
            c = await Client.connect(sim.url("bybit-perp"))
            c.send({"op": "subscribe", "args": ["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"]})
            ack = await c.json()
            _shape(ack, doc.BYBIT_SUBSCRIBE_RESPONSE, "subscribe response")
            assert ack["success"] is True and ack["op"] == "subscribe" and ack["req_id"] == ""
            got = await _collect(c, {
                "snap": lambda m: m.get("type") == "snapshot" and m.get("topic", "").startswith("orderbook"),
                "delta": lambda m: m.get("type") == "delta",
                "trade": lambda m: m.get("topic") == "publicTrade.BTCUSDT"})
            _shape(got["snap"], doc.BYBIT_ORDERBOOK, "orderbook snapshot")
            _shape(got["delta"], doc.BYBIT_ORDERBOOK, "orderbook delta")
            _shape(got["trade"], doc.BYBIT_TRADE, "publicTrade")
            assert len(got["snap"]["data"]["b"]) == 50 and got["trade"]["data"][0]["S"] in ("Buy", "Sell")
            assert re.match(r"^\d+\.\d{2}$", got["snap"]["data"]["b"][0][0])
            c.send({"req_id": "100001", "op": "ping"})
            pong = await c.until(lambda m: m.get("op") == "ping")
            _shape(pong, doc.BYBIT_PONG, "pong")
            assert pong["ret_msg"] == "pong" and pong["req_id"] == "100001"
            c.send({"op": "subscribe", "args": ["orderbook.7.BTCUSDT"], "req_id": "bad"})
            err = await c.until(lambda m: m.get("req_id") == "bad")
            assert err["success"] is False
            c.close()
            _, body = await http_get(sim.rest_url("bybit-perp") + "/v5/market/instruments-info?category=linear&symbol=BTCUSDT")
            inst = body["result"]["list"][0]
            assert body["retCode"] == 0 and inst["priceFilter"]["tickSize"] == "0.10"
            assert inst["lotSizeFilter"]["qtyStep"] == "0.001" and inst["priceScale"] == "2"
            _, ob = await http_get(sim.rest_url("bybit-perp") + "/v5/market/orderbook?category=linear&symbol=BTCUSDT&limit=5")
            assert len(ob["result"]["b"]) == 5 and ob["result"]["s"] == "BTCUSDT"
    run(main())


def test_okx_protocol_and_rest():
    async def main():
        async with Simulator(seed=3, venues=["okx-swap"]) as sim:
            c = await Client.connect(sim.url("okx-swap"))
            c.send({"id": "1512", "op": "subscribe", "args": [{"channel": "books", "instId": "BTC-USDT-SWAP"}]})
            ack = await c.json()
            _shape(ack, doc.OKX_SUBSCRIBE_RESPONSE, "subscribe response")
            snap = await c.json()
            _shape(snap, doc.OKX_BOOKS, "books snapshot")
            assert snap["action"] == "snapshot" and snap["data"][0]["prevSeqId"] == -1
            upd = await c.until(lambda m: m.get("action") == "update")
            _shape(upd, doc.OKX_BOOKS, "books update")
            assert upd["data"][0]["prevSeqId"] == snap["data"][0]["seqId"]
            c.send({"op": "subscribe", "args": [{"channel": "books5", "instId": "BTC-USDT-SWAP"},
                                                {"channel": "trades", "instId": "BTC-USDT-SWAP"}]})
            got = await _collect(c, {"b5": lambda m: m.get("arg", {}).get("channel") == "books5" and "data" in m,
                                     "tr": lambda m: m.get("arg", {}).get("channel") == "trades" and "data" in m})
            _shape(got["b5"], doc.OKX_BOOKS5, "books5")
            _shape(got["tr"], doc.OKX_TRADES, "trades")
            assert len(got["b5"]["data"][0]["asks"]) == 5 and got["tr"]["data"][0]["side"] in ("buy", "sell")
            c.send("ping")
            while await c.recv() != "pong":      # the reply to the text "ping" is the text "pong"
                pass
            c.send({"op": "subscribe", "args": [{"channel": "books", "instId": "ETH-USDT-SWAP"}]})
            err = await c.until(lambda m: m.get("event") == "error")
            assert err["code"] == "60018" and "connId" in err
            c.close()
            _, body = await http_get(sim.rest_url("okx-swap") + "/api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP")
            inst = body["data"][0]
            assert body["code"] == "0" and inst["ctVal"] == "0.01" and inst["ctValCcy"] == "BTC"
            assert inst["tickSz"] == "0.1" and inst["lotSz"] == "0.01" and inst["ctType"] == "linear"
            _, books = await http_get(sim.rest_url("okx-swap") + "/api/v5/market/books?instId=BTC-USDT-SWAP&sz=5")
            assert len(books["data"][0]["bids"]) == 5
    run(main())


def test_coinbase_protocol_and_rest():
    async def main():
        async with Simulator(seed=3, venues=["coinbase"], speed=5) as sim:
            c = await Client.connect(sim.url("coinbase"))
            c.send({"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "level2"})
            subs = await c.json()
            _shape(subs, doc.COINBASE_SUBSCRIPTIONS, "subscriptions")
            snap = await c.json()
            _shape(snap, doc.COINBASE_L2, "l2_data snapshot")
            assert snap["events"][0]["type"] == "snapshot" and snap["sequence_num"] == subs["sequence_num"] + 1
            sides = {u["side"] for u in snap["events"][0]["updates"]}
            assert sides == {"bid", "offer"}
            upd = await c.until(lambda m: m["channel"] == "l2_data" and m["events"][0]["type"] == "update")
            _shape(upd, doc.COINBASE_L2, "l2_data update")
            c.send({"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "market_trades"})
            c.send({"type": "subscribe", "channel": "heartbeats"})
            got = await _collect(c, {
                "tsnap": lambda m: m["channel"] == "market_trades" and m["events"][0]["type"] == "snapshot",
                "tupd": lambda m: m["channel"] == "market_trades" and m["events"][0]["type"] == "update",
                "hb": lambda m: m["channel"] == "heartbeats"})
            _shape(got["tupd"], doc.COINBASE_TRADES, "market_trades")
            _shape(got["hb"], doc.COINBASE_HEARTBEATS, "heartbeats")
            assert got["tupd"]["events"][0]["trades"][0]["side"] in ("BUY", "SELL")
            c.close()

            idle = await Client.connect(sim.url("coinbase"))   # never subscribes: dropped after 5 s (1 s here)
            await idle.listener.disconnected.wait()
            _, prods = await http_get(sim.rest_url("coinbase") + "/api/v3/brokerage/market/products")
            p = prods["products"][0]
            assert p["product_id"] == "BTC-USD" and p["quote_increment"] == "0.01" and p["base_increment"] == "0.00000001"
            status, one = await http_get(sim.rest_url("coinbase") + "/api/v3/brokerage/market/products/BTC-USD")
            assert status == 200 and one["product_id"] == "BTC-USD"
            _, book = await http_get(sim.rest_url("coinbase") + "/api/v3/brokerage/market/product_book?product_id=BTC-USD&limit=3")
            assert len(book["pricebook"]["bids"]) == 3
    run(main())


def test_kraken_v2_protocol():
    async def main():
        async with Simulator(seed=3, venues=["kraken"]) as sim:
            c = await Client.connect(sim.url("kraken"))
            _shape(await c.json(), doc.KRAKEN_STATUS, "status")
            c.send({"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}})
            ack = await c.json()
            _shape(ack, doc.KRAKEN_BOOK_ACK, "book ack")
            snap = await c.json()
            _shape(snap, doc.KRAKEN_BOOK_SNAPSHOT, "book snapshot")
            assert len(snap["data"][0]["bids"]) == 10
            raw = await c.until(lambda m: m.get("channel") == "book" and m["type"] == "update")
            _shape(raw, doc.KRAKEN_BOOK_SNAPSHOT, "book update")
            c.send({"method": "subscribe", "params": {"channel": "trade", "symbol": ["BTC/USD"]}})
            tr = await c.until(lambda m: m.get("channel") == "trade" and m["type"] == "update")
            _shape(tr, doc.KRAKEN_TRADE, "trade")
            c.send({"method": "ping", "req_id": 101})
            pong = await c.until(lambda m: m.get("method") == "pong")
            _shape(pong, doc.KRAKEN_PONG, "pong")
            c.send({"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/XYZ"]}})
            err = await c.until(lambda m: m.get("success") is False)
            assert "BTC/XYZ" in err["error"]
            c.close()

            # numbers on the wire are written at the pair's precisions (price 1, qty 8 decimals)
            c2 = await Client.connect(sim.url("kraken"))
            await c2.json()
            c2.send({"method": "subscribe", "params": {"channel": "book", "symbol": ["BTC/USD"]}})
            await c2.json()
            text = await c2.recv()
            assert re.search(r'"price":\d+\.\d,"qty":\d+\.\d{8}', text)
            c2.send({"method": "subscribe", "params": {"channel": "instrument"}})
            inst = await c2.until(lambda m: m.get("channel") == "instrument")
            pair = inst["data"]["pairs"][0]
            assert pair["symbol"] == "BTC/USD" and pair["price_precision"] == 1 and pair["qty_precision"] == 8
            c2.close()

            c3 = await Client.connect(sim.url("kraken"))   # subscribed to instrument only: heartbeats
            await c3.json()
            c3.send({"method": "subscribe", "params": {"channel": "instrument"}})
            hb = await c3.until(lambda m: m.get("channel") == "heartbeat", timeout=3)
            assert hb == doc.KRAKEN_HEARTBEAT
            c3.close()
    run(main())


def test_hyperliquid_protocol_and_info():
    async def main():
        async with Simulator(seed=3, venues=["hyperliquid"]) as sim:
            c = await Client.connect(sim.url("hyperliquid"))
            c.send({"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}})
            resp = await c.json()
            _shape(resp, doc.HL_SUBSCRIPTION_RESPONSE, "subscriptionResponse")
            assert resp["data"]["subscription"] == {"type": "l2Book", "coin": "BTC"}
            book = await c.json()
            _shape(book, doc.HL_L2BOOK, "l2Book")
            assert len(book["data"]["levels"][0]) == 20 and len(book["data"]["levels"][1]) == 20
            c.send({"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}})
            tr = await c.until(lambda m: m["channel"] == "trades")
            _shape(tr, doc.HL_TRADES, "trades")
            assert tr["data"][0]["side"] in ("A", "B") and len(tr["data"][0]["users"]) == 2
            c.send({"method": "ping"})
            assert await c.until(lambda m: m["channel"] == "pong") == doc.HL_PONG
            c.close()
            status, meta = await http_post(sim.rest_url("hyperliquid") + "/info", {"type": "meta"})
            assert status == 200 and meta["universe"][0]["name"] == "BTC" and meta["universe"][0]["szDecimals"] == 5
            status, l2 = await http_post(sim.rest_url("hyperliquid") + "/info", {"type": "l2Book", "coin": "BTC"})
            _shape({"channel": "l2Book", "data": l2}, doc.HL_L2BOOK, "info l2Book")
            status, _ = await http_post(sim.rest_url("hyperliquid") + "/info", {"type": "nope"})
            assert status == 422
    run(main())


def test_index_and_labels_endpoints():
    async def main():
        async with Simulator(seed=3, venues=["okx-swap", "kraken"]) as sim:
            status, idx = await http_get(sim.endpoints()["labels"].replace("/labels", "/"))
            assert status == 200 and set(idx["venues"]) == {"okx-swap", "kraken"}
            assert idx["venues"]["okx-swap"]["ws"] == sim.url("okx-swap")
            status, labels = await http_get(sim.endpoints()["labels"])
            assert status == 200 and labels["labels"] == [] and "faults" in labels
            status, _ = await http_get(sim.rest_url("okx-swap").replace("okx-swap", "binance-spot") + "/api/v3/depth")
            assert status == 404   # not served
    run(main())
