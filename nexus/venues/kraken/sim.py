"""Kraken Spot WebSocket v2, as documented (https://docs.kraken.com/api/docs/websocket-v2/
book, trade, instrument, heartbeat, ping, status; guides/spot-ws-book-v2):

- on connect a `status` update {"channel":"status","type":"update","data":[{"api_version":
  "v2","connection_id","system":"online","version"}]}.
- {"method":"subscribe","params":{"channel":"book","symbol":[..],"depth":10|25|100|500|1000,
  "snapshot":true},"req_id"?} is acknowledged once per symbol {"method":"subscribe","result":
  {"channel","depth","snapshot","symbol"},"success":true,"time_in","time_out","req_id"?}.
- book: {"channel":"book","type":"snapshot"|"update","data":[{"symbol","bids":[{"price",
  "qty"}],"asks":..,"checksum","timestamp"}]}; prices and quantities are JSON numbers written
  at the pair's price/qty precision; qty 0 deletes; a level pushed out of the subscribed depth
  by better ones is NOT deleted by a message — the client truncates to its depth; a level
  that comes into scope is sent. checksum (snapshot and updates): nexus.sim.checksum.kraken
  over the top 10 levels.
- trade: snapshot of the last 50 trades, then {"channel":"trade","type":"update","data":
  [{"symbol","side" (taker),"price","qty","ord_type","trade_id","timestamp"}]}.
- instrument: {"channel":"instrument","type":"snapshot","data":{"assets":[..],"pairs":[{..,
  "price_precision","qty_precision","price_increment","qty_increment",..}]}}.
- {"channel":"heartbeat"} about once a second when nothing else was sent; {"method":"ping"}
  is answered {"method":"pong","req_id","time_in","time_out"}.
- REST market data (Time, Assets, AssetPairs, Depth): sim_rest.py.

WebSocket v1 (https://docs.kraken.com/api/docs/websocket-v1/book, .../trade, .../ping,
.../heartbeat, .../systemstatus), which the real venue still serves at wss://ws.kraken.com
(here at the venue's root path, and at /v1):

- on connect {"connectionID","event":"systemStatus","status":"online","version"}.
- {"event":"subscribe","pair":["XBT/USD"],"subscription":{"name":"book"|"trade","depth"?},
  "reqid"?} is acknowledged per pair {"channelID","channelName":"book-10"|"trade","event":
  "subscriptionStatus","pair","status":"subscribed","subscription":{..},"reqid"?}; an unknown
  pair: {"errorMessage":"Currency pair not supported XXX/YYY","event":"subscriptionStatus",
  "pair","status":"error",...}.
- book snapshot [channelID,{"as":[[price,volume,timestamp],..],"bs":[..]},"book-N",pair];
  updates [channelID,{"a":[..]},{"b":[..],"c":"checksum"},"book-N",pair] (one or both sides;
  "c", the same CRC32 as v2 over the top 10 levels, in the last object); volume "0.00000000"
  deletes; levels pushed out of depth are not deleted by a message (as v2).
- trade [channelID,[[price,volume,time,"b"|"s","m"|"l",""]],"trade",pair].
- {"event":"ping","reqid"?} -> {"event":"pong","reqid"?}; {"event":"heartbeat"} about once
  a second when nothing else was sent.
v1 pairs are the REST `wsname` (XBT/USD); v1 messages are rendered only once a v1 client
subscribed, so a run without one publishes exactly what it did before.
"""

from __future__ import annotations

import collections
import json

from nexus.sim import checksum, fmt
from nexus.sim.fmt import Raw
from nexus.sim.market import BUY, Fill
from nexus.sim.feed import Conn, DepthView, Event, Feed
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.kraken.sim_rest import KrakenRest

DEPTHS = (10, 25, 100, 500, 1000)
BOOK_EVERY = 5               # 50 ms
TRADE_SNAPSHOT = 50
TRADE_ID_BASE = 80_000_000
CONNECTION_ID_BASE = 12_393_906_104_898_154_338


V1_PATHS = ("", "/v1")
V1_VERSION = "1.9.5"
V1_CHANNEL_ID_BASE = 336


def _v1_time(t_ns: int) -> str:
    return "%d.%06d" % (t_ns // 1_000_000_000, t_ns // 1000 % 1_000_000)


class KrakenFeed(Feed):
    venue = "kraken"
    ws_path = "/v2"

    def ws_routes(self):
        return (self.ws_path, *V1_PATHS)

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.sym = self.symbol
        self.n_pub: dict[str, int] = {}
        self._view(10, primary=True)
        self.trade_id = TRADE_ID_BASE
        self.recent: collections.deque[dict] = collections.deque(maxlen=TRADE_SNAPSHOT)
        self.rest = KrakenRest(self)
        self.v1_books: set[int] = set()     # depths a v1 client subscribed to
        self.v1_trades = False
        self.v1_ids: dict[str, int] = {}

    def view_seq(self, channel):
        return self.n_pub.get(channel)

    def _view(self, depth: int, primary: bool = False) -> DepthView:
        """Depth 10 is always published; other depths from their first subscriber on (Kraken
        has no sequence numbers, so a view starting late changes nothing a client can see)."""
        ch = f"book:{depth}:{self.sym}"
        if ch not in self.views:
            self.add_view(ch, depth, primary=primary, scope_deletes=False)
            self.n_pub[ch] = 0
        return self.views[ch]

    # -- rendering ------------------------------------------------------------------------
    def _lv(self, p: int, q: int) -> str:
        # numbers at the pair's precisions; a deleted level is sent as "qty": 0 (the book guide's form)
        return '{"price":%s,"qty":%s}' % (self.spec.px(p), self.spec.qty(q) if q else "0")

    def checksum_of(self, view: DepthView) -> int:
        b, a = view.top()
        return checksum.kraken([(self.spec.px(p), self.spec.qty(q)) for p, q in b[:10]],
                               [(self.spec.px(p), self.spec.qty(q)) for p, q in a[:10]])

    def _book_msg(self, kind: str, bids, asks, cs: int, t_ns: int) -> str:
        return '{"channel":"book","type":"%s","data":[{"symbol":%s,"bids":[%s],"asks":[%s],"checksum":%d,' \
               '"timestamp":"%s"}]}' % (kind, json.dumps(self.sym), ",".join(self._lv(p, q) for p, q in bids),
                                       ",".join(self._lv(p, q) for p, q in asks), cs, fmt.rfc3339(t_ns, 6))

    def _trade(self, f: Fill) -> dict:
        self.trade_id += 1
        return {"symbol": self.sym, "side": "buy" if f.side == BUY else "sell", "price": Raw(self.spec.px(f.price)),
                "qty": Raw(self.spec.qty(f.qty)), "ord_type": "market", "trade_id": self.trade_id,
                "timestamp": fmt.rfc3339(f.ts_ns, 6)}

    # -- publishing -----------------------------------------------------------------------
    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            data = [self._trade(f) for f in fills]
            self.recent.extend(data)
            out.append((f"trade:{self.sym}", fmt.dumps({"channel": "trade", "type": "update", "data": data})))
            if self.v1_trades:
                out.append((self._v1_key("trade"), self._v1_trades(fills)))
        if self.step_no % BOOK_EVERY:
            return out
        for ch, view in self.views.items():
            if not view.changed():
                continue
            bids, asks = view.diff()
            if not bids and not asks:
                continue
            self.n_pub[ch] += 1
            view.record(self.n_pub[ch], t_ns)
            if self.drop_book_message(ch):
                continue
            cs = self.corrupt(ch, self.checksum_of(view), signed=False)
            out.append((ch, self._book_msg("update", bids, asks, cs, t_ns)))
            if view.depth in self.v1_books:
                out.append((self._v1_key("book", view.depth), self._v1_update(view.depth, bids, asks, cs, t_ns)))
        return out

    # -- WebSocket v1 -----------------------------------------------------------------------
    @property
    def wsname(self) -> str:
        return self.rest.wsname

    def _v1_key(self, name: str, depth: int | None = None) -> str:
        return f"v1book:{depth}:{self.sym}" if name == "book" else f"v1trade:{self.sym}"

    def _v1_channel(self, key: str) -> int:
        return self.v1_ids.setdefault(key, V1_CHANNEL_ID_BASE + len(self.v1_ids))

    def _v1_levels(self, levels, t_ns: int) -> str:
        ts = _v1_time(t_ns)
        return ",".join('["%s","%s","%s"]' % (self.spec.px(p), self.spec.qty(q), ts) for p, q in levels)

    def _v1_snapshot(self, depth: int, bids, asks, t_ns: int) -> str:
        key = self._v1_key("book", depth)
        return '[%d,{"as":[%s],"bs":[%s]},"book-%d",%s]' % (
            self._v1_channel(key), self._v1_levels(asks, t_ns), self._v1_levels(bids, t_ns), depth,
            json.dumps(self.wsname))

    def _v1_update(self, depth: int, bids, asks, cs: int, t_ns: int) -> str:
        key = self._v1_key("book", depth)
        parts = []
        if asks:
            parts.append('{"a":[%s]' % self._v1_levels(asks, t_ns))
        if bids:
            parts.append('{"b":[%s]' % self._v1_levels(bids, t_ns))
        parts = [p + "}" for p in parts[:-1]] + [parts[-1] + ',"c":"%d"}' % cs]
        return '[%d,%s,"book-%d",%s]' % (self._v1_channel(key), ",".join(parts), depth, json.dumps(self.wsname))

    def _v1_trades(self, fills: list[Fill]) -> str:
        rows = ",".join('["%s","%s","%s","%s","m",""]' % (self.spec.px(f.price), self.spec.qty(f.qty),
                                                          _v1_time(f.ts_ns), "b" if f.side == BUY else "s")
                        for f in fills)
        return '[%d,[%s],"trade",%s]' % (self._v1_channel(self._v1_key("trade")), rows, json.dumps(self.wsname))

    def _v1_on_text(self, conn: Conn, req: dict) -> None:
        event, rid = req.get("event"), req.get("reqid")
        extra = {"reqid": rid} if rid is not None else {}
        if event == "ping":
            conn.send(fmt.dumps({"event": "pong", **extra}))
            return
        if event not in ("subscribe", "unsubscribe"):
            conn.send(fmt.dumps({"errorMessage": "Unsupported event", "event": "error", **extra}))
            return
        sub = req.get("subscription") or {}
        name, pairs = sub.get("name"), req.get("pair")
        if name not in ("book", "trade"):
            conn.send(fmt.dumps({"errorMessage": "Subscription name invalid", "event": "subscriptionStatus",
                                 "status": "error", "subscription": sub, **extra}))
            return
        depth = sub.get("depth", 10)
        if name == "book" and depth not in DEPTHS:
            conn.send(fmt.dumps({"errorMessage": "Subscription depth not supported", "event": "subscriptionStatus",
                                 "status": "error", "subscription": sub, **extra}))
            return
        if not isinstance(pairs, list) or not pairs:
            conn.send(fmt.dumps({"errorMessage": "Pair field must be an array", "event": "subscriptionStatus",
                                 "status": "error", "subscription": sub, **extra}))
            return
        for pair in pairs:
            if pair != self.wsname:
                conn.send(fmt.dumps({"errorMessage": f"Currency pair not supported {pair}",
                                     "event": "subscriptionStatus", "pair": pair, "status": "error",
                                     "subscription": sub, **extra}))
                continue
            key = self._v1_key(name, depth)
            chan_name = f"book-{depth}" if name == "book" else "trade"
            subscribed = event == "subscribe"
            ack = {"channelID": self._v1_channel(key), "channelName": chan_name, "event": "subscriptionStatus",
                   "pair": pair, "status": "subscribed" if subscribed else "unsubscribed",
                   "subscription": {"depth": depth, "name": "book"} if name == "book" else {"name": "trade"},
                   **extra}
            if not subscribed:
                conn.unsubscribe(key)
                conn.send(fmt.dumps(ack))
                continue
            if name == "book":
                view = self._view(depth)
                self.v1_books.add(depth)
            else:
                self.v1_trades = True
            conn.subscribe(key)
            conn.send(fmt.dumps(ack))
            if name == "book":
                b, a = view.top()
                conn.send(self._v1_snapshot(depth, b, a, self.clock()))

    # -- connections ----------------------------------------------------------------------
    def _times(self) -> dict:
        ts = fmt.rfc3339(self.clock(), 6)
        return {"time_in": ts, "time_out": ts}

    def _ack(self, conn: Conn, method: str, req_id, result: dict | None = None, error: str | None = None,
             symbol: str | None = None) -> None:
        msg: dict = {"method": method}
        if error is None:
            msg["result"] = result
            msg["success"] = True
        else:
            msg["error"] = error
            msg["success"] = False
            if symbol is not None:
                msg["symbol"] = symbol
        msg.update(self._times())
        if req_id is not None:
            msg["req_id"] = req_id
        conn.send(fmt.dumps(msg))

    def on_open(self, conn: Conn) -> None:
        self.conns += 1
        if conn.path in V1_PATHS:
            conn.send(fmt.dumps({"connectionID": CONNECTION_ID_BASE + self.conns, "event": "systemStatus",
                                 "status": "online", "version": V1_VERSION}))
            return
        conn.send(fmt.dumps({"channel": "status", "data": [{
            "api_version": "v2", "connection_id": CONNECTION_ID_BASE + self.conns, "system": "online",
            "version": "2.0.0"}], "type": "update"}))

    def on_text(self, conn: Conn, text: str) -> None:
        if conn.path in V1_PATHS:
            req = self.request(conn, text, fmt.dumps({"errorMessage": "Malformed request", "event": "error"}))
            if req is not None:
                self._v1_on_text(conn, req)
            return
        req = self.request(conn, text, fmt.dumps({"error": "Malformed request", "success": False, **self._times()}))
        if req is None:
            return
        method, rid, params = req.get("method"), req.get("req_id"), req.get("params") or {}
        if method == "ping":
            msg = {"method": "pong"}
            if rid is not None:
                msg["req_id"] = rid
            msg.update(self._times())
            conn.send(fmt.dumps(msg))
            return
        if method not in ("subscribe", "unsubscribe"):
            self._ack(conn, str(method), rid, error=f"Method not supported: {method}")
            return
        channel = params.get("channel")
        if channel == "instrument":
            self._ack(conn, method, rid, {"channel": "instrument", "snapshot": True})
            if method == "subscribe":
                conn.subscribe("instrument")
                conn.send(fmt.dumps({"channel": "instrument", "type": "snapshot", "data": self.instrument()}))
            else:
                conn.unsubscribe("instrument")
            return
        if channel not in ("book", "trade"):
            self._ack(conn, method, rid, error=f"Channel not supported: {channel}")
            return
        symbols = params.get("symbol")
        if not isinstance(symbols, list) or not symbols:
            self._ack(conn, method, rid, error="Missing or invalid field: symbol")
            return
        depth = params.get("depth", 10)
        if channel == "book" and depth not in DEPTHS:
            self._ack(conn, method, rid, error="Invalid depth: must be one of 10, 25, 100, 500, 1000")
            return
        for sym in symbols:
            if sym != self.sym:
                self._ack(conn, method, rid, error=f"Currency pair not supported {sym}", symbol=sym)
            else:
                self._symbol(conn, method, rid, channel, sym, depth, params.get("snapshot", True))

    def _symbol(self, conn: Conn, method: str, rid, channel: str, sym: str, depth: int, snapshot: bool) -> None:
        """(Un)subscribe one symbol to book or trade: one acknowledgement per symbol."""
        if channel == "book":
            key = f"book:{depth}:{sym}"
            result = {"channel": "book", "depth": depth, "snapshot": snapshot, "symbol": sym}
        else:
            key = f"trade:{sym}"
            result = {"channel": "trade", "snapshot": snapshot, "symbol": sym}
        if method == "unsubscribe":
            result.pop("snapshot")
            conn.unsubscribe(key)
            self._ack(conn, method, rid, result)
            return
        if channel == "book":
            self._view(depth)
            for other in [c for c in conn.subs if c.startswith("book:") and c.endswith(sym) and c != key]:
                conn.unsubscribe(other)      # one depth per symbol and connection
        conn.subscribe(key)
        self._ack(conn, method, rid, result)
        if not snapshot:
            return
        if channel == "book":
            view = self.views[key]
            b, a = view.top()
            conn.send(self._book_msg("snapshot", b, a, self.checksum_of(view), self.clock()))
        else:
            conn.send(fmt.dumps({"channel": "trade", "type": "snapshot", "data": list(self.recent)}))

    def on_second(self, conn: Conn, t_ns: int) -> None:
        if conn.subs and t_ns - conn.last_sent_ns >= 1_000_000_000:
            conn.send('{"event":"heartbeat"}' if conn.path in V1_PATHS else '{"channel":"heartbeat"}')

    def rest_routes(self):
        return self.rest.routes()

    def instrument(self) -> dict:
        s = self.spec
        return {
            "assets": [
                {"id": s.base, "status": "enabled", "precision": 10, "precision_display": 5, "borrowable": True,
                 "collateral_value": Raw("1.0"), "margin_rate": Raw("0.01")},
                {"id": s.quote, "status": "enabled", "precision": 4, "precision_display": 2, "borrowable": True,
                 "collateral_value": Raw("1.0"), "margin_rate": Raw("0.015")},
            ],
            "pairs": [{
                "symbol": s.symbol, "base": s.base, "quote": s.quote, "status": "online",
                "qty_precision": s.qty_dec, "qty_increment": Raw(s.lot_str()),
                "price_precision": s.price_dec, "cost_precision": 5, "marginable": True, "has_index": True,
                "cost_min": Raw("0.5"), "margin_initial": Raw("0.2"), "position_limit_long": 250,
                "position_limit_short": 200, "tick_size": Raw(s.tick_str()), "price_increment": Raw(s.tick_str()),
                "qty_min": Raw("0.0001"),
            }],
        }


SIM = SimVenue(KrakenFeed, Flow(8.0, 0.10, 60, 0.40, 0.25), {
    "BTC": SimInstrument("kraken", "BTC/USD", "BTC", "USD", 1, 1, 8, 1, "1", 1, 8),
    "ETH": SimInstrument("kraken", "ETH/USD", "ETH", "USD", 2, 1, 8, 1, "1", 2, 8),
})
