"""The simulator's Bitfinex and Bitget wire formats over real WebSockets (picows client):
greetings, conf flags, subscriptions and their errors, pings, the checksums the simulator
stamps (recomputed here with zlib from the frames received, by each venue's documented
rule), and the instrument endpoints the decoders read."""

import json
import zlib

from simclient import Client, http_get, run

from nexus.sim import Simulator
from nexus.venues.bitfinex import data as bfx
from nexus.venues.bitget import data as bg


def signed(c: int) -> int:
    return c - (1 << 32) if c >= 1 << 31 else c


def test_bitfinex_protocol_checksums_and_configs():
    async def main():
        async with Simulator(seed=4, venues=["bitfinex"]) as sim:
            c = await Client.connect(sim.url("bitfinex"))
            info = await c.json()
            assert info["event"] == "info" and info["version"] == 2 and info["platform"]["status"] == 1
            c.send({"event": "conf", "flags": 65536 + 131072})
            assert await c.json() == {"event": "conf", "status": "OK", "flags": 196608}
            c.send({"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "prec": "P1"})
            err = await c.json()
            assert err["event"] == "error" and err["code"] == 10011
            c.send({"event": "subscribe", "channel": "book", "symbol": "tETHUSD"})
            assert (await c.json())["code"] == 10001
            c.send({"event": "subscribe", "channel": "book", "symbol": "tBTCUSD", "prec": "P0", "len": "25"})
            ack = await c.json()
            assert ack["event"] == "subscribed" and ack["pair"] == "BTCUSD" and ack["len"] == "25"
            cid = ack["chanId"]
            bids: dict = {}
            asks: dict = {}
            seq = None
            checked = 0
            while checked < 5:
                m = json.loads(await c.recv(), parse_float=str)
                assert m[0] == cid
                seq = m[-1] if seq is None else (assert_next(seq, m[-1]))
                if m[1] == "cs":  # the documented rule, written here from the frames themselves
                    b = sorted(bids.items(), key=lambda kv: -float(kv[0]))[:25]
                    a = sorted(asks.items(), key=lambda kv: float(kv[0]))[:25]
                    parts = []
                    for i in range(25):
                        if i < len(b):
                            parts += [str(b[i][0]), str(b[i][1])]
                        if i < len(a):
                            parts += [str(a[i][0]), str(a[i][1])]
                    assert m[2] == signed(zlib.crc32(":".join(parts).encode()))
                    checked += 1
                    continue
                if m[1] == "hb":
                    continue
                entries = m[1] if m[1] and isinstance(m[1][0], list) else [m[1]]
                for price, count, amount in entries:
                    side = bids if not str(amount).startswith("-") else asks
                    if count == 0:
                        side.pop(price, None)
                    else:
                        side[price] = amount
            c.send({"event": "ping", "cid": 7})
            while (m := json.loads(await c.recv())) and not (isinstance(m, dict) and m.get("event") == "pong"):
                pass
            assert m["cid"] == 7
            c.close()
            _, pairs = await http_get(sim.rest_url("bitfinex") + "/v2/conf/pub:info:pair")
            dec = bfx.Decoder()
            assert dec.load_metadata(json.dumps(pairs)) == 1
            inst = dec.instrument("tBTCUSD")
            assert (inst.price_exponent, inst.qty_exponent, inst.base, inst.quote) == (8, 8, "BTC", "USD")
            _, names = await http_get(sim.rest_url("bitfinex") + "/v2/conf/pub:list:pair:exchange")
            assert names == [["BTCUSD"]]
    run(main())


def assert_next(prev: int, cur: int) -> int:
    assert cur == prev + 1, (prev, cur)   # SEQ_ALL: one number per message of the connection
    return cur


def test_bitget_protocol_checksums_and_instruments():
    async def main():
        async with Simulator(seed=4, venues=["bitget"]) as sim:
            c = await Client.connect(sim.url("bitget"))
            c.send({"op": "subscribe", "args": [{"instType": "SPOT", "channel": "books", "instId": "ETHUSDT"}]})
            err = await c.json()
            assert err["event"] == "error" and err["code"] == 30001
            c.send({"op": "subscribe", "args": [{"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}]})
            ack = await c.json()
            assert ack == {"event": "subscribe", "arg": {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}}
            book = {"bids": {}, "asks": {}}
            last_seq = None
            for _ in range(4):
                m = await c.json()
                d = m["data"][0]
                if last_seq is None:
                    assert m["action"] == "snapshot"
                else:
                    assert m["action"] == "update" and d["seq"] > last_seq
                last_seq = d["seq"]
                for side in ("bids", "asks"):
                    for p, q in d[side]:
                        assert isinstance(p, str) and isinstance(q, str)
                        assert len(p.split(".")[1]) == 2 and len(q.split(".")[1]) == 6   # fixed decimals
                        if float(q) == 0:
                            book[side].pop(p, None)
                        else:
                            book[side][p] = q
                b = sorted(book["bids"].items(), key=lambda kv: -float(kv[0]))[:25]
                a = sorted(book["asks"].items(), key=lambda kv: float(kv[0]))[:25]
                parts = []
                for i in range(25):
                    if i < len(b):
                        parts.append(f"{b[i][0]}:{b[i][1]}")
                    if i < len(a):
                        parts.append(f"{a[i][0]}:{a[i][1]}")
                assert d["checksum"] == signed(zlib.crc32(":".join(parts).encode()))   # original strings
            c.send("ping")
            while await c.recv() != "pong":
                pass
            c.close()
            _, body = await http_get(sim.rest_url("bitget") + "/api/v2/spot/public/symbols?symbol=BTCUSDT")
            dec = bg.Decoder()
            assert body["code"] == "00000" and dec.load_metadata(json.dumps(body)) == 1
            inst = dec.instrument("BTCUSDT")
            assert (inst.tick_size, inst.lot_size, inst.contract_kind) == ("0.01", "0.000001", "spot")
            _, fut = await http_get(sim.rest_url("bitget") + "/api/v2/mix/market/contracts?productType=USDT-FUTURES")
            assert fut["code"] == "00000" and [c["symbol"] for c in fut["data"]] == ["BTCUSDT"]   # the sim's contract
            assert dec.load_metadata(json.dumps(fut)) == 1
            c = dec.instrument("BTCUSDT:USDT-FUTURES")
            assert (c.tick_size, c.lot_size, c.contract_kind) == ("0.1", "0.0001", "linear")
    run(main())


def test_bitget_contract_config_gives_futures_instruments():
    # Shape of GET /api/v2/mix/market/contracts (Bitget docs, Futures > Market > Get Contract Config).
    body = {"code": "00000", "msg": "success", "requestTime": 1695793701269, "data": [{
        "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "buyLimitPriceRatio": "0.9",
        "sellLimitPriceRatio": "0.9", "feeRateUpRatio": "0.1", "makerFeeRate": "0.0004", "takerFeeRate": "0.0006",
        "openCostUpRatio": "0.1", "supportMarginCoins": ["USDT"], "minTradeNum": "0.01", "priceEndStep": "1",
        "volumePlace": "2", "pricePlace": "1", "sizeMultiplier": "0.01", "symbolType": "perpetual",
        "minTradeUSDT": "5", "maxSymbolOrderNum": "999999", "symbolStatus": "normal"}]}
    dec = bg.Decoder()
    assert dec.load_metadata(json.dumps(body)) == 1
    inst = dec.instrument("BTCUSDT:USDT-FUTURES")
    assert (inst.tick_size, inst.lot_size, inst.contract_kind, inst.base) == ("0.1", "0.01", "linear", "BTC")


def test_sim_cli_serves_both_when_named():
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-m", "nexus.cli", "sim", "--venues", "bitfinex,bitget", "--port", "0",
                          "--fault", "gap:bitget:2", "--fault", "bad-checksum:bitfinex:3", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        layout = json.loads(p.stdout.readline())
    finally:
        p.terminate()
        p.wait(timeout=30)
    assert layout["venues"]["bitfinex"]["ws"].endswith("/bitfinex/ws/2")
    assert layout["venues"]["bitfinex"]["real_ws"] == "wss://api-pub.bitfinex.com/ws/2"
    assert layout["venues"]["bitget"]["symbol"] == "BTCUSDT"
    assert layout["faults"] == ["gap:bitget:2", "bad-checksum:bitfinex:3"]
