"""Bitfinex WebSocket v2 (public) and its configs REST for one trading pair, as documented
(https://docs.bitfinex.com/docs/ws-general, Public Channels > Books / Trades, WebSocket
Checksum, REST Public > Configs):

- on connecting: {"event":"info","version":2,"serverId":..,"platform":{"status":1}}.
- {"event":"conf","flags":F} answered {"event":"conf","status":"OK","flags":F}; flags
  SEQ_ALL (65536) append the connection's sequence number to every channel message, and
  OB_CHECKSUM (131072) adds a [chanId,"cs",CHECKSUM] message after every book change.
- {"event":"ping","cid":N} answered {"event":"pong","ts":ms,"cid":N}.
- subscribe {"event":"subscribe","channel":"book","symbol":"tBTCUSD","prec":"P0","len":"25"}
  answered {"event":"subscribed","channel":"book","chanId":N,"symbol":..,"prec":"P0",
  "freq":"F0","len":"25","pair":"BTCUSD"}, then the snapshot [N,[[PRICE,COUNT,AMOUNT],..]]
  (bids, then asks with negative amounts), then one [N,[PRICE,COUNT,AMOUNT]] per changed
  level (COUNT 0 deletes: AMOUNT 1 for a bid, -1 for an ask; a level leaving the top 25 is
  deleted). The simulator serves P0 with len 25 (the default) and 100 (cryptofeed asks for it;
  the checksum still covers the top 25); other values get the documented errors 10011 (unknown
  book precision) / 10012 (unknown book length).
- trades: the last 30 trades as [N,[[ID,MTS,AMOUNT,PRICE],..]] on subscribing, then
  [N,"te",[ID,MTS,AMOUNT,PRICE]] at once and the same trade as "tu" one second later.
- heartbeat [N,"hb"] on every channel after 15 s without a message on the connection.
- errors {"event":"error","msg":..,"code":10001 (unknown pair) | 10300 (subscription
  failed)}.
Numbers are JSON numbers written as JavaScript writes them (shortest form, "1.2e-7" below
1e-6). The `cs` checksum is computed here independently of the decoder: CRC32 (signed) of
the top 25 bids and asks interleaved, "price:amount" with the asks' amounts negative.
- REST: GET /v2/conf/pub:info:pair ([[[PAIR,[..,MIN,MAX,..]],..]]) and
  /v2/conf/pub:list:pair:exchange ([[PAIR,..]]), GET /v2/platform/status ([1]).
- Authenticated REST (/v2/auth/...) and the account channel (the `auth` event on /ws/2,
  channel 0): sim_trade.py.
"""

from __future__ import annotations

import collections
import math
import zlib
from decimal import Decimal
from typing import Any

from nexus.sim import fmt
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.market import ASK, BID, BUY, Fill
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.bitfinex.sim_trade import BitfinexTrade

BOOK_EVERY = 5              # 50 ms
BOOK_LEN = 25               # the checksum's depth, and the default book length
BOOK_LENS = {25: "book", 100: "book100"}    # served `len` values -> the simulator's channel
HEARTBEAT_S = 15
TU_DELAY_NS = 1_000_000_000
TRADES_KEPT = 30
TRADE_ID_BASE = 1_600_000_000
CHAN_ID_BASE = 17_000
SEQ_ALL = 65536
OB_CHECKSUM = 131072


def js(text: str) -> str:
    """A decimal text as JavaScript's Number#toString writes the value."""
    d = Decimal(text)
    if d == 0:
        return "0"
    sign, a = ("-" if d < 0 else ""), abs(d)
    if a >= Decimal("1e-6"):
        s = format(a.normalize(), "f")
        return sign + (s.rstrip("0").rstrip(".") if "." in s else s)
    t = a.normalize().as_tuple()
    digits = "".join(str(x) for x in t.digits)
    return f"{sign}{digits[0]}{'.' + digits[1:] if len(digits) > 1 else ''}e-{-a.adjusted()}"


def checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """bids/asks best first as (price, size) JavaScript texts, sizes positive."""
    out: list[str] = []
    for i in range(BOOK_LEN):
        if i < len(bids):
            out += [bids[i][0], bids[i][1]]
        if i < len(asks):
            out += [asks[i][0], js("-" + asks[i][1])]
    c = zlib.crc32(":".join(out).encode())
    return c - (1 << 32) if c >= 1 << 31 else c


class BitfinexFeed(Feed):
    venue = "bitfinex"
    ws_path = "/ws/2"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.pair = self.symbol[1:]
        for n, ch in BOOK_LENS.items():
            self.add_view(ch, n, primary=n == BOOK_LEN)
        self.publications = 0
        self.trade_id = TRADE_ID_BASE
        self.recent: collections.deque = collections.deque(maxlen=TRADES_KEPT)
        self.tu_due: collections.deque = collections.deque()   # (due_ns, trade)
        self.trade = BitfinexTrade(self)    # authenticated REST and the account channel

    def view_seq(self, channel):
        return self.publications

    def book_channels(self):
        return list(BOOK_LENS.values())

    # -- rendering --------------------------------------------------------------------------
    def _entry(self, side: int, p: int, q: int) -> list:
        px = fmt.Raw(js(self.spec.px(p)))
        if q == 0:
            return [px, 0, 1 if side == BID else -1]
        count = max(1, min(99, math.ceil(q / self.order_qty)))
        sz = js(self.spec.qty(q))
        return [px, count, fmt.Raw(sz if side == BID else "-" + sz)]

    def _checksum(self, channel: str = "book") -> int:
        b, a = self.views[channel].top()
        return checksum([(js(self.spec.px(p)), js(self.spec.qty(q))) for p, q in b],
                        [(js(self.spec.px(p)), js(self.spec.qty(q))) for p, q in a])

    def _trade(self, t: tuple) -> list:
        tid, mts, side, p, q = t
        sz = js(self.spec.qty(q))
        return [tid, mts, fmt.Raw(sz if side == BUY else "-" + sz), fmt.Raw(js(self.spec.px(p)))]

    def _frame(self, conn: Conn, cid: int, *body: Any) -> str:
        st = conn.state
        msg = [cid, *body]
        if st["flags"] & SEQ_ALL:
            st["seq"] += 1
            msg.append(st["seq"])
        return fmt.dumps(msg)

    def render(self, conn: Conn, channel: str, payload: Any) -> str | None:
        cid = conn.state["keys"].get(channel)
        if cid is None:
            return None
        kind = payload[0]
        frames: list[str] = []
        if kind == "levels":
            _, levels, cs = payload
            frames = [self._frame(conn, cid, self._entry(s, p, q)) for s, p, q in levels]
            if conn.state["flags"] & OB_CHECKSUM:
                frames.append(self._frame(conn, cid, "cs", cs))
        elif kind == "skip":          # the gap fault: messages never sent, numbers used up
            if conn.state["flags"] & SEQ_ALL:
                conn.state["seq"] += payload[1]
            return None
        elif kind in ("te", "tu"):
            frames = [self._frame(conn, cid, kind, self._trade(t)) for t in payload[1]]
        if not frames:
            return None
        for f in frames[:-1]:
            conn.send(f)
        return frames[-1]

    # -- publishing -------------------------------------------------------------------------
    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            ts = []
            for f in fills:
                self.trade_id += 1
                t = (self.trade_id, fmt.ms(f.ts_ns), f.side, f.price, f.qty)
                ts.append(t)
                self.recent.appendleft(t)
                self.tu_due.append((t_ns + TU_DELAY_NS, t))
            out.append(("trades", ("te", ts)))
        due = []
        while self.tu_due and self.tu_due[0][0] <= t_ns:
            due.append(self.tu_due.popleft()[1])
        if due:
            out.append(("trades", ("tu", due)))
        if self.step_no % BOOK_EVERY:
            return out
        for ch in BOOK_LENS.values():
            view = self.views[ch]
            if not view.changed():
                continue
            bids, asks = view.diff()
            levels = [(BID, p, q) for p, q in bids] + [(ASK, p, q) for p, q in asks]
            levels.sort(key=lambda lv: lv[2] != 0)   # deletes first: no transient crossing
            if levels:
                self.publications += 1
                view.record(self.publications, t_ns)
                if self.drop_book_message(ch):
                    out.append((ch, ("skip", len(levels) + 1)))
                else:
                    out.append((ch, ("levels", levels, self.corrupt(ch, self._checksum(ch), signed=True))))
        return out

    # -- connections ------------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        self.conns += 1
        conn.state.update(flags=0, seq=0, chans={}, keys={}, next_cid=CHAN_ID_BASE + 7 * self.conns)
        conn.send(fmt.compact({"event": "info", "version": 2, "serverId": self.uuid("server", self.conns),
                               "platform": {"status": 1}}))

    def _error(self, conn: Conn, code: int, msg: str, extra: dict | None = None) -> None:
        conn.send(fmt.compact({"event": "error", **(extra or {}), "msg": msg, "code": code}))

    def on_text(self, conn: Conn, text: str) -> None:
        req = self.request(conn, text, fmt.compact({"event": "error", "msg": "Unknown event", "code": 10000}))
        if req is None:
            return
        ev = req.get("event")
        if ev == "ping":
            conn.send(fmt.compact({"event": "pong", "ts": fmt.ms(self.clock()), "cid": req.get("cid")}))
        elif ev == "conf":
            flags = req.get("flags")
            if not isinstance(flags, int) or flags < 0:
                self._error(conn, 10000, "Unknown event")
                return
            conn.state["flags"] = flags
            conn.send(fmt.compact({"event": "conf", "status": "OK", "flags": flags}))
        elif ev == "subscribe":
            self._subscribe(conn, req)
        elif ev == "auth":
            self.trade.on_auth(conn, req)
        elif ev == "unsubscribe":
            cid = req.get("chanId")
            key = conn.state["chans"].pop(cid, None)
            if key is None:
                self._error(conn, 10400, "Unsubscription failed: channel not found", {"chanId": cid})
                return
            conn.state["keys"].pop(key, None)
            conn.unsubscribe(key)
            conn.send(fmt.compact({"event": "unsubscribed", "status": "OK", "chanId": cid}))
        else:
            self._error(conn, 10000, "Unknown event")

    def _subscribe(self, conn: Conn, req: dict) -> None:
        ch = req.get("channel")
        sym = req.get("symbol") or ("t" + req.get("pair", "") if req.get("pair") else None)
        echo = {k: v for k, v in req.items() if k != "event"}
        if ch not in ("book", "trades"):
            self._error(conn, 10300, "Subscription failed (generic)", echo)
            return
        if sym != self.symbol:
            self._error(conn, 10001, "Unknown pair", echo)
            return
        if ch in conn.state["keys"] or (ch == "book" and set(BOOK_LENS.values()) & set(conn.state["keys"])):
            self._error(conn, 10301, "Already subscribed", echo)
            return
        key = ch
        if ch == "book":
            if req.get("prec", "P0") != "P0":
                self._error(conn, 10011, "Unknown Book precision", echo)
                return
            n = str(req.get("len", BOOK_LEN))
            key = next((c for d, c in BOOK_LENS.items() if str(d) == n), None)
            if key is None:
                self._error(conn, 10012, "Unknown Book length", echo)
                return
        cid = conn.state["next_cid"]
        conn.state["next_cid"] += 1
        conn.state["chans"][cid] = key
        conn.state["keys"][key] = cid
        ack = {"event": "subscribed", "channel": ch, "chanId": cid, "symbol": self.symbol}
        if ch == "book":
            ack.update(prec="P0", freq=req.get("freq", "F0"), len=n)
        ack["pair"] = self.pair
        conn.send(fmt.compact(ack))
        conn.subscribe(key)
        if ch == "book":
            b, a = self.views[key].top()
            entries = [self._entry(BID, p, q) for p, q in b] + [self._entry(ASK, p, q) for p, q in a]
            conn.send(self._frame(conn, cid, entries))
            if conn.state["flags"] & OB_CHECKSUM:
                conn.send(self._frame(conn, cid, "cs", self._checksum(key)))
        else:
            conn.send(self._frame(conn, cid, [self._trade(t) for t in self.recent]))

    def on_second(self, conn: Conn, t_ns: int) -> None:
        if t_ns - conn.last_sent_ns < HEARTBEAT_S * 1_000_000_000:
            return
        for cid in list(conn.state.get("chans", {})):
            conn.send(self._frame(conn, cid, "hb"))
        if self.trade.private.account(conn) is not None:      # the account channel beats too
            conn.send(fmt.compact([0, "hb"]))

    # -- REST ---------------------------------------------------------------------------------
    def _conf(self, which: str):
        s = self.spec
        if which == "pub:info:pair":
            return 200, [[[self.pair, [None, None, None, s.lot_str(), "2000.0", None, None, None, 0.2, 0.1]]]]
        if which == "pub:list:pair:exchange":
            return 200, [[self.pair]]
        return 500, ["error", 10020, "conf: invalid"]

    def private_routes(self):
        return self.trade.routes()

    def _conf_value(self, key: str):
        """One config of GET /v2/conf/{KEY1},{KEY2},..: the simulator's pair where the config
        lists pairs or currencies, an empty list for the documented configs of products it
        does not trade (futures, securities, margin, currency maps), null for an unknown key."""
        s = self.spec
        if key in ("pub:info:pair", "pub:list:pair:exchange"):
            return self._conf(key)[1][0]
        if key == "pub:list:currency":
            return [s.base, s.quote]
        if key == "pub:map:currency:label":
            return [[s.base, s.base], [s.quote, s.quote]]
        if key in ("pub:info:pair:futures", "pub:list:pair:futures", "pub:list:pair:securities",
                   "pub:list:pair:margin", "pub:list:currency:margin") or key.startswith(("pub:map:", "pub:info:tx")):
            return []
        return None

    def _conf_many(self, q, _body):
        return 200, [self._conf_value(k) for k in q.get("config", "").split(",")]

    def _book(self, q, _body):
        """GET /v2/book/{symbol}/P0?len=N (https://docs.bitfinex.com/reference/rest-public-book):
        [[PRICE, COUNT, AMOUNT], ..], bids then asks (negative amounts). P0 only here."""
        if q.get("symbol") != self.symbol:
            return 500, ["error", 10020, "symbol: invalid"]
        if q.get("precision") != "P0":
            return 500, ["error", 10020, "precision: invalid"]
        n = 25 if str(q.get("len", "25")) not in ("1", "100") else int(q["len"])
        b, a = self.vs.levels(BID, n), self.vs.levels(ASK, n)
        rows = [self._entry(BID, p, qq) for p, qq in b] + [self._entry(ASK, p, qq) for p, qq in a]
        return 200, fmt.Raw(fmt.dumps(rows))

    def rest_routes(self):
        return {
            ("GET", "/v2/conf/{config}"): self._conf_many,
            ("GET", "/v2/book/{symbol}/{precision}"): self._book,
            ("GET", "/v2/conf/pub:info:pair"): lambda q, b: self._conf("pub:info:pair"),
            ("GET", "/v2/conf/pub:list:pair:exchange"): lambda q, b: self._conf("pub:list:pair:exchange"),
            ("GET", "/v2/platform/status"): lambda q, b: (200, [1]),
        }


SIM = SimVenue(BitfinexFeed, Flow(10.0, 0.08, 30, 0.30, 0.35), instruments={
    # Prices at five significant digits: whole dollars near 65000, dimes near 3200.
    "BTC": SimInstrument("bitfinex", "tBTCUSD", "BTC", "USD", 0, 1, 8, 1, "1"),
    "ETH": SimInstrument("bitfinex", "tETHUSD", "ETH", "USD", 1, 1, 8, 1, "1"),
})
