"""The simulator's MEXC (protobuf binary frames, JSON control), Aster and Binance RWA formats
over real WebSockets on 127.0.0.1, against the venues' documentation (see each venue's
sim.py for the sources)."""

from simclient import Client, http_get, run

from nexus.sim import Simulator
from nexus.venues.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
DEALS = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"


def test_mexc_subscription_ping_binary_pushes_and_rest():
    async def main():
        async with Simulator(seed=5, venues=["mexc"]) as sim:
            c = await Client.connect(sim.url("mexc"))
            c.send({"method": "SUBSCRIPTION", "params": [DEPTH, DEALS]})
            ack = await c.recv()
            assert ack == '{"id":0,"code":0,"msg":"%s,%s"}' % (DEPTH, DEALS)
            c.send({"method": "PING"})
            depths, deals, pong = [], [], False
            while len(depths) < 5 or not deals or not pong:
                m = await c.recv(10)
                assert m is not None, "disconnected"
                if isinstance(m, str):
                    pong = pong or m == '{"id":0,"code":0,"msg":"PONG"}'
                    continue
                w = PushDataV3ApiWrapper.FromString(m)  # a binary frame is the documented wrapper
                assert w.symbol == "BTCUSDT" and w.sendTime > 0
                if w.WhichOneof("body") == "publicAggreDepths":
                    assert w.channel == DEPTH and w.publicAggreDepths.eventType == DEPTH.rsplit("@", 1)[0]
                    depths.append(w.publicAggreDepths)
                else:
                    assert w.WhichOneof("body") == "publicAggreDeals" and w.channel == DEALS
                    deals.extend(w.publicAggreDeals.deals)
            for a, b in zip(depths, depths[1:]):  # contiguous versions
                assert int(b.fromVersion) == int(a.toVersion) + 1
            assert all(d.tradeType in (1, 2) and d.time > 0 for d in deals)
            c.close()
            st, body = await http_get(sim.rest_url("mexc") + "/api/v3/depth?symbol=BTCUSDT&limit=5")
            assert st == 200 and set(body) == {"lastUpdateId", "bids", "asks", "timestamp"} and len(body["bids"]) == 5
            st, info = await http_get(sim.rest_url("mexc") + "/api/v3/exchangeInfo?symbol=BTCUSDT")
            s = info["symbols"][0]
            assert st == 200 and (s["symbol"], s["quotePrecision"], s["baseAssetPrecision"]) == ("BTCUSDT", 2, 6)
            st, err = await http_get(sim.rest_url("mexc") + "/api/v3/depth?symbol=NOPE")
            assert st == 400 and err["code"] == -1121
    run(main())


def test_aster_and_binance_rwa_speak_binance():
    async def main():
        async with Simulator(seed=5, venues=["aster", "binance-rwa"]) as sim:
            a = await Client.connect(sim.url("aster"))
            a.send({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1})
            assert await a.json() == {"result": None, "id": 1}
            d = await a.until(lambda m: m.get("e") == "depthUpdate")
            assert {"U", "u", "pu", "T"} <= set(d) and d["s"] == "BTCUSDT"
            a.close()
            r = await Client.connect(sim.url("binance-rwa"))
            r.send({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 7})
            assert await r.json() == {"result": None, "id": 7}
            d = await r.until(lambda m: m.get("e") == "depthUpdate")
            assert "pu" not in d and d["U"] <= d["u"]
            r.close()
            st, body = await http_get(sim.rest_url("aster") + "/fapi/v1/depth?symbol=BTCUSDT")
            assert st == 200 and "lastUpdateId" in body
            st, body = await http_get(sim.rest_url("binance-rwa") + "/api/v3/exchangeInfo")
            assert st == 200 and body["symbols"][0]["symbol"] == "BTCUSDT"
    run(main())


def test_cli_serves_the_three_with_faults_and_rwa_on_paxg():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "nexus.cli", "sim", "--port", "0", "--venues", "mexc,aster,binance-rwa",
                        "--fault", "malformed:mexc:0.5", "--fault", "gap:aster:0.5", "--duration", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout + r.stderr
    assert all(f"/{v}/ws" in out for v in ("mexc", "aster", "binance-rwa")) and "malformed:mexc" in out
    r = subprocess.run([sys.executable, "-m", "nexus.cli", "sim", "--port", "0", "--venues", "binance-rwa",
                        "--symbol", "PAXGUSDT", "--duration", "0.5"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "PAXGUSDT" in r.stdout + r.stderr, r.stderr[-2000:]
    r = subprocess.run([sys.executable, "-m", "nexus.cli", "sim", "--port", "0", "--venues", "mexc",
                        "--symbol", "PAXGUSDT", "--duration", "0.5"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "no PAXGUSDT market on mexc" in r.stderr
