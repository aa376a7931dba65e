"""OKX v5 public WebSocket and market REST for a USDT swap, as documented
(https://www.okx.com/docs-v5/en/ — WebSocket "Order book channel", "Trades channel",
REST "Get instruments", "Get order book"):

- subscribe {"id"?,"op":"subscribe","args":[{"channel":"books","instId":..}]} answered per
  arg {"id"?,"event":"subscribe","arg":{..},"connId":..}; errors {"event":"error","code",
  "msg","connId"}; the text "ping" is answered "pong".
- `books`: 400 levels, a snapshot then incremental data every 100 ms:
  {"arg":{..},"action":"snapshot"|"update","data":[{"asks":[[px,sz,"0",orders]],"bids":..,
  "ts":"ms","checksum":int,"prevSeqId":int,"seqId":int}]}; prevSeqId is -1 on a snapshot and
  the previous message's seqId after; checksum: see nexus.sim.checksum.okx, over the top 25
  levels of the book after applying the message. Sizes are in contracts (ctVal BTC each).
- `books5`: 5-level snapshots every 100 ms when changed, with seqId.
- `trades`: {"arg":{..},"data":[{"instId","tradeId","px","sz","side" (taker),"ts","count"}]}.
- REST: GET /api/v5/public/instruments?instType=SWAP, GET /api/v5/market/books,
  GET /api/v5/public/time; envelope {"code":"0","msg":"","data":[..]}.
- Authenticated REST and the private stream (/ws/v5/private): sim_trade.py.
"""

from __future__ import annotations

import json
import math
from typing import Any

from nexus.sim import checksum, fmt
from nexus.sim.market import ASK, BID, BUY, Fill
from nexus.sim.feed import Conn, DepthView, Event, Feed
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.okx.sim_trade import PRIVATE_PATH, OkxTrade

BOOKS_DEPTH = 400
BOOKS_EVERY = 10            # 100 ms
SEQ_BASE = 12_000_000_000
TRADE_ID_BASE = 900_000_000
# "Get instruments" instType values (https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments);
# the simulator trades SWAP only, the others answer code "0" with an empty list.
INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")


class OkxFeed(Feed):
    venue = "okx-swap"
    ws_path = "/ws/v5/public"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.inst = self.symbol
        self.add_view("books", BOOKS_DEPTH, primary=True)
        self.add_view("books5", 5)
        self.seq = {"books": SEQ_BASE, "books5": SEQ_BASE}
        self.trade_id = TRADE_ID_BASE
        self.trade = OkxTrade(self)         # authenticated REST and the private stream

    def view_seq(self, channel):
        return self.seq.get(channel)

    def book_channels(self):
        return ["books"]

    # -- rendering ------------------------------------------------------------------------
    def _lv(self, p: int, q: int) -> list[str]:
        orders = 0 if q == 0 else min(99, math.ceil(q / self.order_qty))
        return [self.spec.px(p), self.spec.qty(q), "0", str(orders)]

    def _checksum(self, view: DepthView) -> int:
        b, a = view.top()
        return checksum.okx([(self.spec.px(p), self.spec.qty(q)) for p, q in b[:25]],
                            [(self.spec.px(p), self.spec.qty(q)) for p, q in a[:25]])

    def _books_msg(self, action: str, bids, asks, t_ns: int, prev: int, seq: int, cs: int) -> str:
        return fmt.compact({
            "arg": {"channel": "books", "instId": self.inst}, "action": action,
            "data": [{"asks": [self._lv(p, q) for p, q in asks], "bids": [self._lv(p, q) for p, q in bids],
                      "ts": str(fmt.ms(t_ns)), "checksum": cs, "prevSeqId": prev, "seqId": seq}],
        })

    def snapshot(self, t_ns: int) -> str:
        view = self.views["books"]
        b, a = view.top()
        return self._books_msg("snapshot", b, a, t_ns, -1, self.seq["books"], self._checksum(view))

    # -- publishing -----------------------------------------------------------------------
    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            out.append((f"trades:{self.inst}", self._trades(fills)))
        if self.step_no % BOOKS_EVERY:
            return out
        view = self.views["books"]
        if view.changed():
            bids, asks = view.diff()
            if bids or asks:
                prev = self.seq["books"]
                seq = prev + len(bids) + len(asks)        # seqIds advance, not necessarily by 1
                self.seq["books"] = seq
                view.record(seq, t_ns)
                if not self.drop_book_message("books"):
                    cs = self.corrupt("books", self._checksum(view), signed=True)
                    out.append((f"books:{self.inst}", self._books_msg("update", bids, asks, t_ns, prev, seq, cs)))
        v5 = self.views["books5"]
        if v5.changed() and any(v5.diff()):
            self.seq["books5"] += 1
            v5.record(self.seq["books5"], t_ns)
            b, a = v5.top()
            out.append((f"books5:{self.inst}", fmt.compact({
                "arg": {"channel": "books5", "instId": self.inst},
                "data": [{"asks": [self._lv(p, q) for p, q in a], "bids": [self._lv(p, q) for p, q in b],
                          "instId": self.inst, "ts": str(fmt.ms(t_ns)), "seqId": self.seq["books5"]}],
            })))
        return out

    def _trades(self, fills: list[Fill]) -> str:
        data = []
        for f in fills:
            self.trade_id += 1
            data.append({"instId": self.inst, "tradeId": str(self.trade_id), "px": self.spec.px(f.price),
                         "sz": self.spec.qty(f.qty), "side": "buy" if f.side == BUY else "sell",
                         "ts": str(fmt.ms(f.ts_ns)), "count": str(f.makers)})
        return fmt.compact({"arg": {"channel": "trades", "instId": self.inst}, "data": data})

    # -- connections ----------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        self.conns += 1
        conn.state["connId"] = self.token("conn", self.conns, 8)

    def _send(self, conn: Conn, obj: dict, rid) -> None:
        if rid is not None:
            obj = {"id": rid, **obj}
        obj["connId"] = conn.state["connId"]
        conn.send(fmt.compact(obj))

    def on_text(self, conn: Conn, text: str) -> None:
        if self.faults.silent(self.clock()):
            return
        if text == "ping":
            conn.send("pong")
            return
        try:
            req = json.loads(text)
        except ValueError:
            self._send(conn, {"event": "error", "code": "60012", "msg": f"Invalid request: {text}"}, None)
            return
        if conn.path == PRIVATE_PATH and isinstance(req, dict):
            self.trade.on_text(conn, req)
            return
        if not isinstance(req, dict) or req.get("op") not in ("subscribe", "unsubscribe"):
            self._send(conn, {"event": "error", "code": "60012", "msg": f"Invalid request: {text}"}, None)
            return
        op, rid, args = req["op"], req.get("id"), req.get("args")
        if not isinstance(args, list) or not args:
            self._send(conn, {"event": "error", "code": "60012", "msg": f"Invalid request: {text}"}, rid)
            return
        for arg in args:
            ch, inst = (arg or {}).get("channel"), (arg or {}).get("instId")
            if ch not in ("books", "books5", "trades") or inst != self.inst:
                self._send(conn, {"event": "error", "code": "60018",
                                  "msg": f"Wrong URL or channel:{ch},instId:{inst} doesn't exist. Please use the "
                                         "correct URL, channel and parameters referring to API document."}, rid)
                continue
            key = f"{ch}:{inst}"
            self._send(conn, {"event": op, "arg": {"channel": ch, "instId": inst}}, rid)
            if op == "subscribe":
                conn.subscribe(key)
                if ch == "books":
                    conn.send(self.snapshot(self.clock()))
            else:
                conn.unsubscribe(key)

    def ws_routes(self):
        return (self.ws_path, PRIVATE_PATH)

    def private_routes(self):
        return self.trade.routes()

    # -- REST -----------------------------------------------------------------------------
    def _env(self, data: list, code: str = "0", msg: str = "") -> tuple[int, Any]:
        return (200 if code == "0" else 400), {"code": code, "msg": msg, "data": data}

    def instrument(self) -> dict:
        s = self.spec
        return {
            "alias": "", "baseCcy": "", "category": "1", "ctMult": "1", "ctType": "linear",
            "ctVal": s.contract_value, "ctValCcy": s.base, "expTime": "", "instFamily": f"{s.base}-{s.quote}",
            "instId": s.symbol, "instType": "SWAP", "lever": "100", "listTime": "1611916828000",
            "lotSz": s.lot_str(), "maxIcebergSz": "100000000.0000000000000000", "maxLmtAmt": "20000000",
            "maxLmtSz": "100000000", "maxMktAmt": "", "maxMktSz": "12000", "maxStopSz": "12000",
            "maxTriggerSz": "100000000.0000000000000000", "maxTwapSz": "100000000.0000000000000000",
            "minSz": s.lot_str(), "optType": "", "quoteCcy": "", "ruleType": "normal", "settleCcy": s.quote,
            "state": "live", "stk": "", "tickSz": s.tick_str(), "uly": f"{s.base}-{s.quote}",
        }

    def _instruments(self, query: dict, _body):
        inst_type = query.get("instType")
        if inst_type not in INST_TYPES:
            return self._env([], "51000", "Parameter instType error")
        if inst_type != "SWAP":
            return self._env([])    # a type the simulator does not trade: the venue's empty list
        inst = query.get("instId")
        if inst and inst != self.inst:
            return self._env([], "51001", "Instrument ID does not exist")
        return self._env([self.instrument()])

    def _books(self, query: dict, _body):
        if query.get("instId") != self.inst:
            return self._env([], "51001", "Instrument ID does not exist")
        try:
            sz = max(1, min(400, int(query.get("sz", 1))))
        except ValueError:
            return self._env([], "51000", "Parameter sz error")
        return self._env([{
            "asks": [self._lv(p, q) for p, q in self.vs.levels(ASK, sz)],
            "bids": [self._lv(p, q) for p, q in self.vs.levels(BID, sz)],
            "ts": str(fmt.ms(self.clock())),
        }])

    def rest_routes(self):
        return {
            ("GET", "/api/v5/public/instruments"): self._instruments,
            ("GET", "/api/v5/market/books"): self._books,
            ("GET", "/api/v5/public/time"): lambda q, b: self._env([{"ts": str(fmt.ms(self.clock()))}]),
        }


SIM = SimVenue(OkxFeed, Flow(25.0, 0.06, 15, 0.25, 0.7), leverage_max=100, instruments={
    "BTC": SimInstrument("okx-swap", "BTC-USDT-SWAP", "BTC", "USDT", 1, 1, 2, 1, "0.01"),
    "ETH": SimInstrument("okx-swap", "ETH-USDT-SWAP", "ETH", "USDT", 2, 1, 2, 1, "0.1"),
})
