"""dYdX v4 indexer as the simulator serves it (https://docs.dydx.exchange/api_integration-
indexer/indexer_websocket):

- /v4/ws: on open {"type":"connected","connection_id","message_id":0}; every later message
  of the connection carries the next message_id (all channels).
- {"type":"subscribe","channel":"v4_orderbook","id":"BTC-USD"} answered {"type":"subscribed",
  "connection_id","message_id","channel","id","contents":{"bids":[{"price","size"}],"asks"}};
  changes every 100 ms as {"type":"channel_data",...,"version":"1.0.0","contents":{"bids":
  [[price,size]],"asks":[..]}} (size "0" deletes).
- v4_trades: subscribed with {"trades":[]}, then channel_data {"trades":[{"id","side"
  (taker, BUY/SELL),"size","price","type":"LIMIT","createdAt","createdAtHeight"}]}.
- REST GET /v4/perpetualMarkets[?ticker] -> {"markets":{ticker:{..,"tickSize","stepSize",..}}}.
The `gap` fault skips one orderbook message on every connection: its message_id is used up,
so the client sees the jump.
"""

from __future__ import annotations

from nexus.sim import fmt
from nexus.sim.market import BUY, Fill
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.specs import Flow, SimInstrument, SimVenue

BOOK_EVERY = 10
HEIGHT_BASE = 12_000_000
_SKIP = object()   # a book message lost to the gap fault (its message_id still counts)


class DydxFeed(Feed):
    venue = "dydx"
    ws_path = "/v4/ws"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.market = self.symbol
        self.add_view("v4_orderbook", None, primary=True)
        self.n_pub = 0
        self.n_trade = 0

    def view_seq(self, channel):
        return self.n_pub

    def book_channels(self):
        return ["v4_orderbook"]

    def _lvs(self, levels, objects: bool):
        px, qty = self.spec.px, self.spec.qty
        return [{"price": px(p), "size": qty(q)} if objects else [px(p), qty(q)] for p, q in levels]

    def _msg(self, conn: Conn, typ: str, channel: str, contents) -> str:
        conn.state["mid"] += 1
        m = {"type": typ, "connection_id": conn.state["cid"], "message_id": conn.state["mid"], "id": self.market,
             "channel": channel}
        if typ == "channel_data":
            m["version"] = "1.0.0"
        m["contents"] = contents
        return fmt.compact(m)

    def render(self, conn: Conn, channel: str, payload):
        if payload is _SKIP:
            conn.state["mid"] += 1
            return None
        ch, contents = payload
        return self._msg(conn, "channel_data", ch, contents)

    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            out.append(("v4_trades", ("v4_trades", {"trades": [self._trade(f) for f in fills]})))
        if self.step_no % BOOK_EVERY:
            return out
        view = self.views["v4_orderbook"]
        if view.changed():
            bids, asks = view.diff()
            if bids or asks:
                self.n_pub += 1
                view.record(self.n_pub, t_ns)
                if self.drop_book_message("v4_orderbook"):
                    out.append(("v4_orderbook", _SKIP))
                else:
                    contents = {}
                    if bids:
                        contents["bids"] = self._lvs(bids, False)
                    if asks:
                        contents["asks"] = self._lvs(asks, False)
                    out.append(("v4_orderbook", ("v4_orderbook", contents)))
        return out

    def _trade(self, f: Fill) -> dict:
        self.n_trade += 1
        return {"id": self.uuid("trade", self.n_trade), "side": "BUY" if f.side == BUY else "SELL",
                "size": self.spec.qty(f.qty), "price": self.spec.px(f.price), "type": "LIMIT",
                "createdAt": fmt.rfc3339(f.ts_ns, 3), "createdAtHeight": str(HEIGHT_BASE + self.step_no // 100)}

    # -- connections ----------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        self.conns += 1
        conn.state["cid"] = self.uuid("conn", self.conns)
        conn.state["mid"] = 0
        conn.send(fmt.compact({"type": "connected", "connection_id": conn.state["cid"], "message_id": 0}))

    def _error(self, conn: Conn, message: str) -> None:
        conn.state["mid"] += 1
        conn.send(fmt.compact({"type": "error", "message": message, "connection_id": conn.state["cid"],
                               "message_id": conn.state["mid"]}))

    def on_text(self, conn: Conn, text: str) -> None:
        if self.faults.silent(self.clock()):
            return
        try:
            import json
            req = json.loads(text)
        except ValueError:
            req = None
        if not isinstance(req, dict):
            self._error(conn, f"Invalid message: could not parse: {text}")
            return
        typ, ch, market = req.get("type"), req.get("channel"), req.get("id")
        if typ not in ("subscribe", "unsubscribe") or ch not in ("v4_orderbook", "v4_trades") or market != self.market:
            self._error(conn, f"Invalid subscribe message: channel {ch} id {market}")
            return
        if typ == "unsubscribe":
            conn.unsubscribe(ch)
            conn.state["mid"] += 1
            conn.send(fmt.compact({"type": "unsubscribed", "connection_id": conn.state["cid"],
                                   "message_id": conn.state["mid"], "channel": ch, "id": market}))
            return
        if ch == "v4_orderbook":
            b, a = self.views["v4_orderbook"].top()
            contents = {"bids": self._lvs(b, True), "asks": self._lvs(a, True)}
        else:
            contents = {"trades": []}
        conn.send(self._msg(conn, "subscribed", ch, contents))
        conn.subscribe(ch)

    # -- REST -----------------------------------------------------------------------------
    def perpetual_market(self) -> dict:
        s = self.spec
        mid = self.spec.px((self.vs.best_bid() + self.vs.best_ask()) // 2)
        return {"clobPairId": "0" if s.base == "BTC" else "1", "ticker": s.symbol, "status": "ACTIVE",
                "oraclePrice": mid, "priceChange24H": "0", "volume24H": "0", "trades24H": 0,
                "nextFundingRate": "0", "initialMarginFraction": "0.05", "maintenanceMarginFraction": "0.03",
                "openInterest": "0", "atomicResolution": -10, "quantumConversionExponent": -9,
                "tickSize": s.tick_str(), "stepSize": s.lot_str(), "stepBaseQuantums": 1000000,
                "subticksPerTick": 100000, "marketType": "CROSS"}

    def _markets(self, query: dict, _body):
        t = query.get("ticker")
        if t not in (None, self.market):
            return 200, {"markets": {}}
        return 200, {"markets": {self.market: self.perpetual_market()}}

    def rest_routes(self):
        return {("GET", "/v4/perpetualMarkets"): self._markets}


SIM = SimVenue(DydxFeed, Flow(10.0, 0.10, 80, 0.35, 0.3), leverage_max=20, instruments={
    "BTC": SimInstrument("dydx", "BTC-USD", "BTC", "USD", 0, 1, 4, 1, "1"),
    "ETH": SimInstrument("dydx", "ETH-USD", "ETH", "USD", 1, 1, 3, 1, "1"),
})
