"""Coinbase Advanced Trade market-data WebSocket and public REST, as documented
(https://docs.cdp.coinbase.com/advanced-trade/docs/ws-overview, ws-channels;
api-reference/advanced-trade-api/websocket/{level2,market-trades,heartbeats}):

- one subscribe per channel: {"type":"subscribe","product_ids":[..],"channel":"level2"|
  "market_trades"|"heartbeats","jwt"?} (public channels need no JWT); a client that has not
  subscribed within 5 s is disconnected; each (un)subscribe is answered by a `subscriptions`
  message listing what the connection is subscribed to.
- every message: {"channel","client_id":"","timestamp" (RFC 3339, ns),"sequence_num",
  "events":[..]}; sequence_num counts the messages of this connection (all channels), so a
  skipped number is a lost message.
- level2 → channel "l2_data": events [{"type":"snapshot"|"update","product_id","updates":
  [{"side":"bid"|"offer","event_time","price_level","new_quantity"}]}]; new_quantity is the
  level's new size, "0" removes it.
- market_trades: events [{"type":"snapshot"|"update","trades":[{"trade_id","product_id",
  "price","size","side":"BUY"|"SELL","time"}]}], updates collected over 250 ms. `side` is
  the MAKER's side, as Coinbase reports it on public market trades (the channel
  documentation: "side refers to the makers side"): a taker buy is written "SELL".
- heartbeats: every second, events [{"current_time","heartbeat_counter"}].
- REST: GET /api/v3/brokerage/market/products[/{product_id}], GET /api/v3/brokerage/market/
  product_book (also served under /api/v3/brokerage/products… without "market"), GET
  /api/v3/brokerage/time ({"iso","epochSeconds","epochMillis"}, "Get Server Time"); the v2
  currencies, exchange rates and time that clients load at start-up: sim_v2.py.
- Authenticated REST and the `user` channel (subscribed here with a `jwt`): sim_trade.py.
"""

from __future__ import annotations

import collections
import json
from typing import Any

from nexus.sim import fmt
from nexus.sim.market import ASK, BID, BUY
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.specs import TRIM, Flow, SimInstrument, SimVenue
from nexus.venues.coinbase.sim_trade import CoinbaseTrade
from nexus.venues.coinbase.sim_v2 import CoinbaseV2

L2_EVERY = 5                 # 50 ms
TRADES_EVERY = 25            # 250 ms
SUBSCRIBE_DEADLINE_S = 5
TRADE_SNAPSHOT = 50
TRADE_ID_BASE = 700_000_000
CHANNELS = ("level2", "market_trades", "heartbeats")


class CoinbaseFeed(Feed):
    venue = "coinbase"
    ws_path = ""

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.pid = self.symbol
        self.add_view("level2", None, primary=True)
        self.n_pub = 0
        self.trade_id = TRADE_ID_BASE
        self.recent: collections.deque[dict] = collections.deque(maxlen=TRADE_SNAPSHOT)
        self.trade_buf: list[dict] = []
        self.start_ns = clock()
        self.trade = CoinbaseTrade(self)       # authenticated REST and the user channel
        self.v2 = CoinbaseV2(self)

    def view_seq(self, channel):
        return self.n_pub

    # -- rendering ------------------------------------------------------------------------
    def _update(self, side: int, p: int, q: int, ts: str) -> dict:
        return {"side": "bid" if side == BID else "offer", "event_time": ts,
                "price_level": self.spec.px(p), "new_quantity": self.spec.qty(q)}

    def render(self, conn: Conn, channel: str, payload: Any) -> str | None:
        name, events, ts = payload
        seq = conn.state.get("seq", 0)
        conn.state["seq"] = seq + 1
        if events is None:          # dropped by a gap fault: the number is skipped
            return None
        return '{"channel":"%s","client_id":"","timestamp":"%s","sequence_num":%d,"events":%s}' % (
            name, ts, seq, events)

    def _direct(self, conn: Conn, name: str, events: list, t_ns: int) -> None:
        text = self.render(conn, "", (name, fmt.compact(events), fmt.rfc3339(t_ns, 9)))
        if text is not None:
            conn.send(text)

    # -- publishing -----------------------------------------------------------------------
    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        for f in self.take_fills():
            self.trade_id += 1
            tr = {"trade_id": str(self.trade_id), "product_id": self.pid, "price": self.spec.px(f.price),
                  "size": self.spec.qty(f.qty), "side": "SELL" if f.side == BUY else "BUY",  # maker side
                  "time": fmt.rfc3339(f.ts_ns, 6)}
            self.recent.append(tr)
            self.trade_buf.append(tr)
        ts = fmt.rfc3339(t_ns, 9)
        if self.step_no % TRADES_EVERY == 0 and self.trade_buf:
            ev = [{"type": "update", "trades": self.trade_buf}]
            self.trade_buf = []
            out.append((f"market_trades:{self.pid}", ("market_trades", fmt.compact(ev), ts)))
        if self.step_no % L2_EVERY == 0:
            view = self.views["level2"]
            if view.changed():
                bids, asks = view.diff()
                if bids or asks:
                    self.n_pub += 1
                    view.record(self.n_pub, t_ns)
                    if self.drop_book_message("level2"):
                        out.append((f"level2:{self.pid}", ("l2_data", None, ts)))
                    else:
                        ups = [self._update(BID, p, q, ts) for p, q in bids] + \
                              [self._update(ASK, p, q, ts) for p, q in asks]
                        ev = [{"type": "update", "product_id": self.pid, "updates": ups}]
                        out.append((f"level2:{self.pid}", ("l2_data", fmt.compact(ev), ts)))
        return out

    # -- connections ----------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        conn.state["seq"] = 0
        conn.state["hb"] = 0
        conn.state["channels"] = {}

    def _subscriptions(self, conn: Conn, t_ns: int) -> None:
        self._direct(conn, "subscriptions", [{"subscriptions": {k: v for k, v in conn.state["channels"].items() if v}}],
                     t_ns)

    def on_text(self, conn: Conn, text: str) -> None:
        t = self.clock()
        if self.faults.silent(t):
            return
        try:
            req = json.loads(text)
        except ValueError:
            conn.send(fmt.compact({"type": "error", "message": "malformed JSON"}))
            return
        if not isinstance(req, dict) or req.get("type") not in ("subscribe", "unsubscribe"):
            conn.send(fmt.compact({"type": "error", "message": "unknown message type"}))
            return
        if self.trade.subscribe(conn, req):
            return
        channel = req.get("channel")
        pids = req.get("product_ids") or []
        if channel not in CHANNELS:
            conn.send(fmt.compact({"type": "error", "message": f"Failed to subscribe: unknown channel {channel!r}"}))
            return
        bad = [p for p in pids if p != self.pid]
        if bad:
            conn.send(fmt.compact({"type": "error", "message": f"Failed to subscribe: unknown product id {bad[0]}"}))
            return
        chans = conn.state["channels"]
        if req["type"] == "subscribe":
            conn.state["subscribed"] = True
            if channel == "heartbeats":
                conn.subscribe("heartbeats")
                chans["heartbeats"] = ["heartbeats"]
                self._subscriptions(conn, t)
                return
            current = chans.setdefault(channel, [])
            for p in pids:
                if p not in current:
                    current.append(p)
            self._subscriptions(conn, t)
            for p in pids:
                conn.subscribe(f"{channel}:{p}")
                if channel == "level2":
                    b, a = self.views["level2"].top()
                    ts = fmt.rfc3339(t, 9)
                    ups = [self._update(BID, pp, q, ts) for pp, q in b] + [self._update(ASK, pp, q, ts) for pp, q in a]
                    self._direct(conn, "l2_data", [{"type": "snapshot", "product_id": p, "updates": ups}], t)
                else:
                    self._direct(conn, "market_trades", [{"type": "snapshot", "trades": list(self.recent)}], t)
        else:
            if channel == "heartbeats":
                conn.unsubscribe("heartbeats")
                chans.pop("heartbeats", None)
            else:
                current = chans.get(channel, [])
                for p in (pids or list(current)):
                    conn.unsubscribe(f"{channel}:{p}")
                    if p in current:
                        current.remove(p)
            self._subscriptions(conn, t)

    def on_second(self, conn: Conn, t_ns: int) -> None:
        if not conn.state.get("subscribed") and t_ns - conn.opened_ns >= SUBSCRIBE_DEADLINE_S * 1_000_000_000:
            conn.close(1000, "no subscription within 5 s")
            return
        if "heartbeats" in conn.subs:
            conn.state["hb"] += 1
            secs, frac = divmod(t_ns, 1_000_000_000)
            since = t_ns - self.start_ns
            current = fmt.rfc3339(secs * 1_000_000_000, 0)[:-1].replace("T", " ") + \
                f".{frac:09d} +0000 UTC m=+{since // 1_000_000_000}.{since % 1_000_000_000:09d}"
            self._direct(conn, "heartbeats", [{"current_time": current, "heartbeat_counter": str(conn.state["hb"])}],
                         t_ns)

    # -- REST -----------------------------------------------------------------------------
    def product(self) -> dict:
        s = self.spec
        mid = (self.vs.best_bid() + self.vs.best_ask()) // 2
        return {
            "product_id": s.symbol, "price": s.px(mid), "price_percentage_change_24h": "0",
            "volume_24h": "0", "volume_percentage_change_24h": "0",
            "base_increment": s.lot_str(), "quote_increment": s.tick_str(), "quote_min_size": "1",
            "quote_max_size": "150000000", "base_min_size": s.lot_str(), "base_max_size": "3400",
            "base_name": s.base, "quote_name": s.quote, "watched": False, "is_disabled": False, "new": False,
            "status": "online", "cancel_only": False, "limit_only": False, "post_only": False,
            "trading_disabled": False, "auction_mode": False, "product_type": "SPOT",
            "quote_currency_id": s.quote, "base_currency_id": s.base, "fcm_trading_session_details": None,
            "mid_market_price": "", "alias": "", "alias_to": [], "base_display_symbol": s.base,
            "quote_display_symbol": s.quote, "view_only": False, "price_increment": s.tick_str(),
            "display_name": s.symbol.replace("-", "/"), "product_venue": "CBE",
        }

    def _products(self, query: dict, _body):
        return 200, {"products": [self.product()], "num_products": 1}

    def _product(self, query: dict, _body):
        if query.get("product_id") != self.pid:
            return 404, {"error": "NOT_FOUND", "error_details": "ProductID is invalid", "message": "ProductID is invalid"}
        return 200, self.product()

    def _book(self, query: dict, _body):
        if query.get("product_id") != self.pid:
            return 404, {"error": "NOT_FOUND", "error_details": "ProductID is invalid", "message": "ProductID is invalid"}
        try:
            limit = max(1, min(1000, int(query.get("limit", 50))))
        except ValueError:
            return 400, {"error": "INVALID_ARGUMENT", "message": "limit is invalid"}
        bb, ba = self.vs.best_bid(), self.vs.best_ask()
        s = self.spec
        return 200, {
            "pricebook": {
                "product_id": self.pid,
                "bids": [{"price": s.px(p), "size": s.qty(q)} for p, q in self.vs.levels(BID, limit)],
                "asks": [{"price": s.px(p), "size": s.qty(q)} for p, q in self.vs.levels(ASK, limit)],
                "time": fmt.rfc3339(self.clock(), 6),
            },
            "last": self.recent[-1]["price"] if self.recent else s.px(bb),
            "mid_market": fmt.trim((bb + ba) * 5, s.price_dec + 1),
            "spread_absolute": s.px(ba - bb),
        }

    def _time(self, _query, _body):
        t = self.clock()
        return 200, {"iso": fmt.rfc3339(t, 3), "epochSeconds": str(t // 1_000_000_000),
                     "epochMillis": str(t // 1_000_000)}

    def private_routes(self):
        return self.trade.routes()

    def rest_routes(self):
        routes = {("GET", "/api/v3/brokerage/time"): self._time}
        for prefix in ("/api/v3/brokerage/market", "/api/v3/brokerage"):
            routes[("GET", f"{prefix}/products")] = self._products
            routes[("GET", f"{prefix}/products/{{product_id}}")] = self._product
            routes[("GET", f"{prefix}/product_book")] = self._book
        routes.update(self.v2.routes())
        return routes


SIM = SimVenue(CoinbaseFeed, Flow(15.0, 0.08, 40, 0.35, 0.4), {
    "BTC": SimInstrument("coinbase", "BTC-USD", "BTC", "USD", 2, 1, 8, 1, "1", 2, TRIM),
    "ETH": SimInstrument("coinbase", "ETH-USD", "ETH", "USD", 2, 1, 8, 1, "1", 2, TRIM),
})
