"""Hyperliquid WebSocket and info endpoint, as documented
(https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket,
.../websocket/subscriptions, .../websocket/timeouts-and-heartbeats, .../api/info-endpoint):

- {"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}} answered
  {"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{..}}};
  then {"channel":"l2Book","data":WsBook} where WsBook = {"coin","time","levels":[bids,
  asks]} and each level {"px","sz","n"}: a full snapshot (20 levels a side), pushed on each
  block at least 0.5 s after the previous push. No sequence numbers, no checksum.
- trades: {"channel":"trades","data":[WsTrade]} with WsTrade {"coin","side":"B"|"A" (the
  aggressor),"px","sz","hash","time","tid","users":[buyer, seller]}.
- {"method":"ping"} is answered {"channel":"pong"}.
- POST /info {"type":"meta"} → {"universe":[{"name","szDecimals","maxLeverage",..}],..};
  {"type":"l2Book","coin"} → WsBook; {"type":"allMids"} → {coin: mid};
  {"type":"metaAndAssetCtxs"} → [meta, [ctx per universe entry]] with ctx {"dayNtlVlm",
  "funding","impactPxs","markPx","midPx","openInterest","oraclePx","premium","prevDayPx"}
  (.../info-endpoint/perpetuals "Retrieve perpetuals asset contexts"); {"type":"spotMeta"} →
  {"universe":[],"tokens":[]} and {"type":"spotMetaAndAssetCtxs"} → [spotMeta, []]
  (.../info-endpoint/spot): the simulator trades no spot pair. In the contexts, mark, mid and
  oracle prices are the simulator's mid, impact prices its touch; funding, premium, open
  interest and day volume are not modelled and read "0.0"; prevDayPx is the mid at the first
  request. {"type":"perpDexs"} → [null] (.../perpetuals "Retrieve all perpetual dexs": the
  null first entry is the main dex; the simulator has no builder-deployed dexs).
Prices are written in their shortest form ("19900"), sizes likewise ("1.5").
"""

from __future__ import annotations

import math
from typing import Any

from nexus.sim import fmt
from nexus.sim.market import ASK, BID, BUY, Fill
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.hyperliquid.feed import dex_of

BOOK_LEVELS = 20
PUSH_EVERY = 50              # 500 ms
TID_BASE = 500_000_000_000_000
SPOT_META_EMPTY = {"universe": [], "tokens": []}
# The builder-deployed (HIP-3) dexs, as perpDexs lists them after the main dex's null.
DEXS = {"nxs": {"name": "nxs", "fullName": "Nexus simulated dex",
                "deployer": "0x" + "4e" * 20, "oracleUpdater": None, "feeRecipient": None,
                "assetToStreamingOiCap": [["nxs:BTC", "1000000.0"]]}}


class HyperliquidFeed(Feed):
    venue = "hyperliquid"
    ws_path = "/ws"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.coin = self.symbol
        self.dex = dex_of(self.coin)
        self.add_view("l2Book", BOOK_LEVELS, primary=True)
        self.n_pub = 0
        self.tid = TID_BASE
        self.prev_day_px: str | None = None

    def view_seq(self, channel):
        return self.n_pub

    def book_channels(self):
        return []

    def _lv(self, p: int, q: int) -> dict:
        return {"px": self.spec.px(p), "sz": self.spec.qty(q), "n": max(1, min(99, math.ceil(q / self.order_qty)))}

    def wsbook(self, t_ns: int, live: bool = False) -> dict:
        if live:
            b, a = self.vs.levels(BID, BOOK_LEVELS), self.vs.levels(ASK, BOOK_LEVELS)
        else:
            b, a = self.views["l2Book"].top()
        return {"coin": self.coin, "time": fmt.ms(t_ns),
                "levels": [[self._lv(p, q) for p, q in b], [self._lv(p, q) for p, q in a]]}

    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            out.append((f"trades:{self.coin}", fmt.compact({"channel": "trades",
                                                            "data": [self._trade(f) for f in fills]})))
        if self.step_no % PUSH_EVERY == 0:
            view = self.views["l2Book"]
            view.refresh()
            self.n_pub += 1
            view.record(self.n_pub, t_ns)
            out.append((f"l2Book:{self.coin}", fmt.compact({"channel": "l2Book", "data": self.wsbook(t_ns)})))
        return out

    def _trade(self, f: Fill) -> dict:
        self.tid += 1
        taker, maker = self.token("user", self.tid * 2, 40), self.token("user", self.tid * 2 + 1, 40)
        buyer, seller = (taker, maker) if f.side == BUY else (maker, taker)
        return {"coin": self.coin, "side": "B" if f.side == BUY else "A", "px": self.spec.px(f.price),
                "sz": self.spec.qty(f.qty), "time": fmt.ms(f.ts_ns), "hash": "0x" + self.token("hash", self.tid, 64),
                "tid": self.tid, "users": ["0x" + buyer, "0x" + seller]}

    # -- connections ----------------------------------------------------------------------
    def on_text(self, conn: Conn, text: str) -> None:
        req = self.request(conn, text, fmt.compact({
            "channel": "error", "data": f"Error parsing JSON into valid websocket request: {text}"}))
        if req is None:
            return
        method = req.get("method")
        if method == "ping":
            conn.send('{"channel":"pong"}')
            return
        sub = req.get("subscription")
        if method not in ("subscribe", "unsubscribe") or not isinstance(sub, dict):
            conn.send(fmt.compact({"channel": "error", "data": f"Error parsing JSON into valid websocket request: {text}"}))
            return
        kind, coin = sub.get("type"), sub.get("coin")
        if kind not in ("l2Book", "trades") or coin != self.coin:
            conn.send(fmt.compact({"channel": "error", "data": f"Invalid subscription: {fmt.compact(sub)}"}))
            return
        if kind == "l2Book" and sub.get("nSigFigs") not in (None, 5):
            conn.send(fmt.compact({"channel": "error", "data": "the simulator serves nSigFigs 5 (full precision) only"}))
            return
        key = f"{kind}:{coin}"
        conn.send(fmt.compact({"channel": "subscriptionResponse", "data": {"method": method, "subscription": sub}}))
        if method == "subscribe":
            conn.subscribe(key)
            if kind == "l2Book":
                conn.send(fmt.compact({"channel": "l2Book", "data": self.wsbook(self.clock())}))
        else:
            conn.unsubscribe(key)

    # -- REST -----------------------------------------------------------------------------
    def meta(self, dex: str = "") -> dict | None:
        """The meta of one perp dex ("": the main one): the instrument of this market's base
        coin listed on that dex; None for a dex the simulator does not have."""
        if dex and dex not in DEXS:
            return None
        s = self.spec if dex == self.dex else next(
            (i for k, i in SIM.instruments.items() if dex_of(k) == dex and i.base == self.spec.base), None)
        if s is None:
            return {"universe": [], "marginTables": []}
        return {"universe": [{"name": s.symbol, "szDecimals": s.extra["szDecimals"],
                              "maxLeverage": s.extra["maxLeverage"], "marginTableId": s.extra["maxLeverage"]}],
                "marginTables": [[s.extra["maxLeverage"], {"description": "", "marginTiers": [
                    {"lowerBound": "0.0", "maxLeverage": s.extra["maxLeverage"]}]}]]}

    def _mid(self) -> str:
        bb, ba = self.vs.best_bid(), self.vs.best_ask()
        return fmt.trim((bb + ba) * 5, self.spec.price_dec + 1)  # exact (bb+ba)/2

    def _asset_ctx(self) -> dict:
        mid = self._mid()
        if self.prev_day_px is None:
            self.prev_day_px = mid
        return {"dayNtlVlm": "0.0", "funding": "0.0", "impactPxs": [self.spec.px(self.vs.best_bid()),
                                                                    self.spec.px(self.vs.best_ask())],
                "markPx": mid, "midPx": mid, "openInterest": "0.0", "oraclePx": mid, "premium": "0.0",
                "prevDayPx": self.prev_day_px}

    def _info(self, query: dict, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or "type" not in body:
            return 422, "Failed to deserialize the JSON body into the target type"
        kind = body["type"]
        dex = body.get("dex", "")
        if not isinstance(dex, str):
            return 422, "Failed to deserialize the JSON body into the target type"
        if kind == "meta":
            return 200, self.meta(dex)
        if kind == "l2Book":
            if body.get("coin") != self.coin:
                return 200, None
            return 200, self.wsbook(self.clock(), live=True)
        if kind == "allMids":
            return 200, {self.coin: self._mid()}
        if kind == "metaAndAssetCtxs":
            meta = self.meta(dex)
            if meta is None:
                return 200, None
            return 200, [meta, [self._asset_ctx()] if dex == self.dex else []]
        if kind == "perpDexs":
            return 200, [None] + [dict(d) for d in DEXS.values()]   # null first: the main dex
        if kind == "spotMeta":
            return 200, dict(SPOT_META_EMPTY)
        if kind == "spotMetaAndAssetCtxs":
            return 200, [dict(SPOT_META_EMPTY), []]
        return 422, "Failed to deserialize the JSON body into the target type"

    def rest_routes(self):
        return {("POST", "/info"): self._info}


SIM = SimVenue(HyperliquidFeed, Flow(12.0, 0.25, 150, 0.40, 0.35), leverage_max=40, instruments={
    "BTC": SimInstrument("hyperliquid", "BTC", "BTC", "USD", 0, 1, 5, 1, "1",
                         extra={"szDecimals": 5, "maxLeverage": 40}),
    "ETH": SimInstrument("hyperliquid", "ETH", "ETH", "USD", 1, 1, 4, 1, "1",
                         extra={"szDecimals": 4, "maxLeverage": 25}),
    # HIP-3: the one asset of the builder-deployed dex "nxs" (--symbol nxs:BTCUSDT).
    "nxs:BTC": SimInstrument("hyperliquid", "nxs:BTC", "BTC", "USD", 0, 1, 4, 1, "1",
                             extra={"szDecimals": 4, "maxLeverage": 20}),
})
