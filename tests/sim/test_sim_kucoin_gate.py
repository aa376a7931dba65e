"""The simulator's KuCoin and Gate wire formats, seen by a plain picows client: KuCoin's token
gate, welcome, ping/pong, acks and errors, consecutive increment sequences; Gate's spot and
futures paths, acks and errors, pong, U = previous u + 1."""

from nexus.sim.simulator import Simulator
from tests.sim.simclient import Client, http_get, http_post, run


def test_kucoin_token_welcome_ping_and_consecutive_sequences():
    async def main():
        async with Simulator(seed=4, venues=["kucoin"]) as sim:
            base = sim.url("kucoin")
            bad = await Client.connect(base + "?token=nope")
            err = await bad.json()
            assert err["type"] == "error" and err["code"] == 401
            assert await bad.recv() is None                        # closed after the error
            status, body = await http_post(sim.rest_url("kucoin") + "/api/v1/bullet-public", None)
            assert status == 200 and body["code"] == "200000"
            server = body["data"]["instanceServers"][0]
            assert server["endpoint"] == base and server["pingInterval"] == 18000
            c = await Client.connect(f"{server['endpoint']}?token={body['data']['token']}&connectId=t1")
            assert (await c.json()) == {"id": "t1", "type": "welcome"}
            c.send({"id": "p1", "type": "ping"})
            assert (await c.json()) == {"id": "p1", "type": "pong"}
            c.send({"id": "s1", "type": "subscribe", "topic": "/market/nope:BTC-USDT", "response": True})
            assert (await c.json())["code"] == 404
            c.send({"id": "s2", "type": "subscribe", "topic": "/market/level2:BTC-USDT", "response": True})
            assert (await c.json()) == {"id": "s2", "type": "ack"}
            prev = None
            for _ in range(5):
                m = await c.until(lambda m: m.get("subject") == "trade.l2update", 5)
                d = m["data"]
                seqs = [int(x[2]) for x in d["changes"]["bids"] + d["changes"]["asks"]]
                assert seqs and all(d["sequenceStart"] <= s <= d["sequenceEnd"] for s in seqs)
                if prev is not None:
                    assert d["sequenceStart"] == prev + 1
                prev = d["sequenceEnd"]
            status, snap = await http_get(sim.rest_url("kucoin") + "/api/v1/market/orderbook/level2_100?symbol=BTC-USDT")
            assert status == 200 and int(snap["data"]["sequence"]) >= prev and snap["data"]["bids"]
            c.close()

    run(main())


def test_gate_spot_and_futures_paths():
    async def main():
        async with Simulator(seed=4, venues=["gate"]) as sim:
            spot = await Client.connect(sim.url("gate"))
            spot.send({"time": 1, "channel": "spot.order_book_update", "event": "subscribe",
                       "payload": ["BTC_USDT", "100ms"]})
            ack = await spot.json()
            assert ack["result"] == {"status": "success"} and ack["channel"] == "spot.order_book_update"
            spot.send({"time": 1, "channel": "spot.trades", "event": "subscribe", "payload": ["XRP_USDT"]})
            assert (await spot.json())["error"]["code"] == 2
            fut = await Client.connect(sim.url("gate").replace("/ws/v4/", "/v4/ws/usdt"))
            fut.send({"time": 1, "channel": "spot.order_book_update", "event": "subscribe", "payload": ["BTC_USDT"]})
            assert (await fut.json())["result"]["status"] == "failed"  # a spot channel on the futures path
            fut.send({"time": 1, "channel": "futures.ping"})
            assert (await fut.json())["channel"] == "futures.pong"
            fut.send({"time": 1, "channel": "futures.order_book_update", "event": "subscribe",
                      "payload": ["BTC_USDT", "100ms", "100"]})
            assert (await fut.json())["result"]["status"] == "success"
            prev = None
            for _ in range(4):
                m = await fut.until(lambda m: m.get("channel") == "futures.order_book_update", 5)
                r = m["result"]
                assert all(type(lv["s"]) is int and lv["s"] >= 0 for lv in r["b"] + r["a"])
                if prev is not None:
                    assert r["U"] == prev + 1
                prev = r["u"]
            status, book = await http_get(sim.rest_url("gate") +
                                          "/api/v4/futures/usdt/order_book?contract=BTC_USDT&limit=5&with_id=true")
            assert status == 200 and book["id"] >= prev and len(book["bids"]) == 5
            status, c = await http_get(sim.rest_url("gate") + "/api/v4/futures/usdt/contracts/BTC_USDT")
            assert c["quanto_multiplier"] == "0.0001" and c["order_price_round"] == "0.1"
            spot.close()
            fut.close()

    run(main())
