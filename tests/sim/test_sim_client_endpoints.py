"""The start-up and public endpoints real clients ask for (issue 21), checked without ccxt
against the venues' documented shapes (sources in each venue package's sim.py / sim_rest.py /
sim_v2.py): untraded categories answer an empty success, Kraken's REST names, Hyperliquid's
asset contexts, Coinbase's v2 currencies, Binance USD-M's split /public and /market streams."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import aiohttp

from nexus.sim import Simulator
from nexus.sim.market import BID

VENUES = ["binance-perp", "bybit-perp", "okx-swap", "coinbase", "kraken", "hyperliquid"]


async def _check() -> None:
    async with Simulator(seed=5, venues=VENUES) as sim, aiohttp.ClientSession() as http:
        async def get(venue, path, **params):
            async with http.get(sim.rest_url(venue) + path, params=params) as r:
                return r.status, await r.json()

        async def info(body):
            async with http.post(sim.rest_url("hyperliquid") + "/info", json=body) as r:
                return r.status, await r.json()

        await asyncio.sleep(1.5)
        for inst_type in ("SPOT", "MARGIN", "FUTURES", "OPTION"):
            assert await get("okx-swap", "/api/v5/public/instruments", instType=inst_type) == (
                200, {"code": "0", "msg": "", "data": []})
        assert (await get("okx-swap", "/api/v5/public/instruments", instType="BOND"))[1]["code"] == "51000"
        for cat in ("spot", "inverse", "option"):
            st, body = await get("bybit-perp", "/v5/market/instruments-info", category=cat)
            assert st == 200 and body["retCode"] == 0 and body["result"]["list"] == [], body
        assert (await get("bybit-perp", "/v5/market/instruments-info", category="x"))[1]["retCode"] == 10001

        st, pairs = await get("kraken", "/0/public/AssetPairs")
        pair = pairs["result"]["XXBTZUSD"]
        assert (pair["altname"], pair["wsname"], pair["base"], pair["quote"]) == ("XBTUSD", "XBT/USD", "XXBT", "ZUSD")
        assert set((await get("kraken", "/0/public/Assets"))[1]["result"]) == {"XXBT", "ZUSD"}
        assert (await get("kraken", "/0/public/AssetPairs", pair="NOPE"))[1] == {"error": ["EQuery:Unknown asset pair"]}
        _, depth = await get("kraken", "/0/public/Depth", pair="XBTUSD", count=5)
        book = depth["result"]["XXBTZUSD"]
        assert len(book["bids"]) == 5 and Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])
        own = sim.core.feeds["kraken"]
        assert book["bids"][0][:2] == [own.spec.px(own.vs.best_bid()), own.spec.qty(own.vs.levels(BID, 1)[0][1])]
        _, t = await get("kraken", "/0/public/Time")
        assert t["result"]["unixtime"] == sim.core.t_ns // 1_000_000_000 and t["result"]["rfc1123"].endswith(" +0000")

        st, (meta, ctxs) = await info({"type": "metaAndAssetCtxs"})
        assert st == 200 and meta["universe"][0]["name"] == "BTC" and len(ctxs) == 1
        assert Decimal(ctxs[0]["impactPxs"][0]) < Decimal(ctxs[0]["midPx"]) < Decimal(ctxs[0]["impactPxs"][1])
        assert await info({"type": "spotMetaAndAssetCtxs"}) == (200, [{"universe": [], "tokens": []}, []])
        st, dexs = await info({"type": "perpDexs"})
        assert st == 200 and dexs[0] is None and [d["name"] for d in dexs[1:]] == ["nxs"]  # HIP-3: one builder dex

        assert (await get("coinbase", "/v2/currencies"))[1]["data"][0]["id"] == "USD"
        assert (await get("coinbase", "/v2/currencies/crypto"))[1]["data"][0]["code"] == "BTC"
        _, rates = await get("coinbase", "/v2/exchange-rates", currency="BTC")
        assert Decimal(rates["data"]["rates"]["BTC"]) == 1 and Decimal(rates["data"]["rates"]["USD"]) > 1000

        ws_base = "ws" + sim.rest_url("binance-perp")[len("http"):]
        got: dict[str, set] = {}
        for path in ("/public/ws/btcusdt@depth@100ms", "/market/ws/btcusdt@trade", "/market/stream?streams=btcusdt@aggTrade"):
            async with http.ws_connect(ws_base + path) as ws:
                kinds = got.setdefault(path, set())
                while len(kinds) < 1:
                    msg = json.loads((await ws.receive(timeout=10)).data)
                    kinds.add(msg.get("data", msg)["e"])
        assert got == {"/public/ws/btcusdt@depth@100ms": {"depthUpdate"}, "/market/ws/btcusdt@trade": {"trade"},
                       "/market/stream?streams=btcusdt@aggTrade": {"aggTrade"}}


def test_client_startup_endpoints() -> None:
    asyncio.run(asyncio.wait_for(_check(), 60))
