"""Tradovate as the simulator serves it: the auth endpoint, contract/find and product/find,
and the md WebSocket (the formats of data.py and feed.py, from the same documentation).

- POST /v1/auth/accesstokenrequest {name, password, appId, appVersion, cid, sec}: the
  simulator accepts only its own credentials, `SIM_CREDENTIALS` (not secrets: they open
  nothing but this simulator; tests put them in the client's environment). Answer:
  {"accessToken", "mdAccessToken", "expirationTime", "userStatus": "Active", "userId",
  "name", "hasLive": false}; wrong credentials get {"errorText": "Incorrect username or
  password. ..."} (HTTP 200, as Tradovate answers).
- GET /v1/contract/find?name=MBTZ6 and /v1/product/find?name=MBT, with "Authorization:
  Bearer <accessToken>" (401 without): the contract {"id","name","contractMaturityId",
  "productId"...} and product {"id","name","tickSize","valuePerPoint","currencyId",...}.
- WebSocket /v1/websocket: "o" on open; "authorize\\n<id>\\n\\n<token>" answered
  a[{"s":200,"i":id}] for a token this simulator issued (401 otherwise); md/subscribeDOM and
  md/subscribeQuote with {"symbol": name or contract id} answered a[{"s":200,"i":id}], then
  the current DOM / quote, then updates: a DOM (top 10 levels a side, the whole DOM) every
  100 ms when the book changed, a quote (Bid, Offer, Trade, TotalTradeVolume) per trade and
  whenever the touch changed. "h" every 2 s; "[]" from the client is its heartbeat.
  Prices and sizes are JSON numbers, written exactly (fmt.Raw).
Faults (gap does not apply: no sequence numbers): silence stops everything,
malformed sends broken frames, disconnect drops the socket (a new token is asked for).
"""

from __future__ import annotations

import os
import secrets

import json
from datetime import datetime, timezone

from nexus.sim import fmt
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.market import ASK, BID, Fill
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.tradovate.data import PRODUCTS, front_month

DOM_LEVELS = 10
PUSH_EVERY = 10              # 100 ms
HEARTBEAT_EVERY_S = 2
CONTRACT_ID_BASE = 3_570_000
PRODUCT_IDS = {"MBT": 2_560, "MET": 2_598}
# Simulator-only credentials (see the module docstring). No constant in the code: the password
# and app secret are the client's NEXUS_TRADOVATE_* values when they are set (a simulator in
# another process with the same environment accepts them), else made fresh for this process;
# `SIM_ENV` is what a client's environment needs for this simulator.
SIM_ENV = {"NEXUS_TRADOVATE_USERNAME": os.environ.get("NEXUS_TRADOVATE_USERNAME") or "nexus-sim",
           "NEXUS_TRADOVATE_PASSWORD": os.environ.get("NEXUS_TRADOVATE_PASSWORD") or secrets.token_hex(12),
           "NEXUS_TRADOVATE_APP_ID": os.environ.get("NEXUS_TRADOVATE_APP_ID") or "nexus-sim",
           "NEXUS_TRADOVATE_CID": os.environ.get("NEXUS_TRADOVATE_CID") or "1",
           "NEXUS_TRADOVATE_SEC": os.environ.get("NEXUS_TRADOVATE_SEC") or secrets.token_hex(12)}
SIM_CREDENTIALS = {"name": SIM_ENV["NEXUS_TRADOVATE_USERNAME"], "password": SIM_ENV["NEXUS_TRADOVATE_PASSWORD"],
                   "appId": SIM_ENV["NEXUS_TRADOVATE_APP_ID"], "cid": int(SIM_ENV["NEXUS_TRADOVATE_CID"])
                   if SIM_ENV["NEXUS_TRADOVATE_CID"].isdigit() else SIM_ENV["NEXUS_TRADOVATE_CID"],
                   "sec": SIM_ENV["NEXUS_TRADOVATE_SEC"]}

def frame(*msgs) -> str:
    return "a" + fmt.dumps(list(msgs))


class TradovateFeed(Feed):
    venue = "tradovate"
    ws_path = "/v1/websocket"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.product = self.spec.extra["product"]
        self.contract_id = CONTRACT_ID_BASE + PRODUCT_IDS[self.product]
        self.add_view("dom", DOM_LEVELS, primary=True)
        self.n_pub = 0
        self.volume = 0
        self.last_trade: Fill | None = None
        self.tokens: set[str] = set()
        self.n_tokens = 0
        self._touch: tuple | None = None

    def view_seq(self, channel):
        return self.n_pub

    # -- wire -----------------------------------------------------------------------------
    def _n(self, text: str) -> fmt.Raw:
        return fmt.Raw(text)

    def _iso(self, t_ns: int) -> str:
        return fmt.rfc3339(t_ns, 3)

    def _dom(self, t_ns: int) -> dict:
        b, a = self.views["dom"].top()
        return {"contractId": self.contract_id, "timestamp": self._iso(t_ns),
                "bids": [{"price": self._n(self.spec.px(p)), "size": self._n(self.spec.qty(q))} for p, q in b],
                "offers": [{"price": self._n(self.spec.px(p)), "size": self._n(self.spec.qty(q))} for p, q in a]}

    def _quote(self, t_ns: int, touch: bool = True) -> dict:
        """A quote; `touch` False: a trade's quote, with the Trade and volume entries only
        (the entries a quote carries are the ones that changed; the touch follows)."""
        s = self.spec
        ent: dict = {}
        bb, ba = (self.vs.levels(BID, 1), self.vs.levels(ASK, 1)) if touch else ((), ())
        if bb:
            ent["Bid"] = {"price": self._n(s.px(bb[0][0])), "size": self._n(s.qty(bb[0][1]))}
        if ba:
            ent["Offer"] = {"price": self._n(s.px(ba[0][0])), "size": self._n(s.qty(ba[0][1]))}
        if self.last_trade is not None:
            ent["Trade"] = {"price": self._n(s.px(self.last_trade.price)), "size": self._n(s.qty(self.last_trade.qty))}
        ent["TotalTradeVolume"] = {"size": self._n(s.qty(self.volume))}
        return {"timestamp": self._iso(t_ns), "contractId": self.contract_id, "entries": ent}

    def _md(self, key: str, obj: dict) -> str:
        return frame({"e": "md", "d": {key: [obj]}})

    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        for f in self.take_fills():
            # one quote per trade (Trade and volume only): the client judges the side against
            # the touch it last saw
            self.volume += f.qty
            self.last_trade = f
            out.append(("quote", self._md("quotes", self._quote(f.ts_ns, touch=False))))
        touch = (self.vs.levels(BID, 1), self.vs.levels(ASK, 1))
        if touch != self._touch:
            self._touch = touch
            out.append(("quote", self._md("quotes", self._quote(t_ns))))
        if self.step_no % PUSH_EVERY == 0:
            view = self.views["dom"]
            if view.changed():
                view.refresh()
                self.n_pub += 1
                view.record(self.n_pub, t_ns)
                if not self.drop_book_message("dom"):
                    out.append(("dom", self._md("doms", self._dom(t_ns))))
        return out

    # -- connections ----------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        conn.state["auth"] = False
        conn.state["hb"] = 0
        conn.send("o")

    def on_second(self, conn: Conn, t_ns: int) -> None:
        conn.state["hb"] = conn.state.get("hb", 0) + 1
        if conn.state["hb"] % HEARTBEAT_EVERY_S == 0:
            conn.send("h")

    def on_text(self, conn: Conn, text: str) -> None:
        if self.faults.silent(self.clock()):
            return
        if text == "[]":
            return                      # the client's heartbeat
        parts = text.split("\n", 3)
        if len(parts) < 2 or not parts[1].isdigit():
            conn.send(frame({"s": 400, "i": None, "d": "Invalid request"}))
            return
        endpoint, rid = parts[0], int(parts[1])
        body = parts[3] if len(parts) > 3 else ""
        if endpoint == "authorize":
            ok = body in self.tokens
            conn.state["auth"] = ok
            conn.send(frame({"s": 200, "i": rid} if ok else {"s": 401, "i": rid, "d": "Access is denied"}))
            return
        if not conn.state.get("auth"):
            conn.send(frame({"s": 401, "i": rid, "d": "Access is denied"}))
            return
        if endpoint not in ("md/subscribeDOM", "md/subscribeQuote", "md/unsubscribeDOM", "md/unsubscribeQuote"):
            conn.send(frame({"s": 404, "i": rid, "d": f"Unknown endpoint {endpoint}"}))
            return
        try:
            sym = json.loads(body).get("symbol")
        except (ValueError, AttributeError):
            conn.send(frame({"s": 400, "i": rid, "d": "Invalid JSON"}))
            return
        if sym not in (self.symbol, self.contract_id):
            conn.send(frame({"s": 400, "i": rid, "d": f"Unknown symbol {sym}"}))
            return
        key = "dom" if endpoint.endswith("DOM") else "quote"
        conn.send(frame({"s": 200, "i": rid}))
        if endpoint.startswith("md/unsubscribe"):
            conn.unsubscribe(key)
            return
        conn.subscribe(key)
        now = self.clock()
        if key == "dom":    # the DOM as last published, stamped now: kept in the history too
            self.views["dom"].record(self.n_pub, now)
            conn.send(self._md("doms", self._dom(now)))
        else:
            conn.send(self._md("quotes", self._quote(now)))

    # -- REST -----------------------------------------------------------------------------
    def _token(self, query, body) -> tuple[int, object]:
        if not isinstance(body, dict) or any(body.get(k) != v for k, v in SIM_CREDENTIALS.items()):
            return 200, {"errorText": "Incorrect username or password. Please try again noting that passwords "
                                      "are case-sensitive."}
        self.n_tokens += 1
        tok, md = self.token("access", self.n_tokens, 64), self.token("md", self.n_tokens, 64)
        self.tokens.update((tok, md))
        exp = datetime.fromtimestamp(self.clock() // 1_000_000_000 + 4800, timezone.utc)
        return 200, {"accessToken": tok, "mdAccessToken": md, "expirationTime": exp.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                     "userStatus": "Active", "userId": 100001, "name": body["name"], "hasLive": False}

    def _authorized(self, handler):
        def wrapped(req):
            auth = req.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                return 401, {"errorText": "Access is denied"}
            return handler(req.query)
        return wrapped

    def _contract(self, query) -> tuple[int, object]:
        if query.get("name") != self.symbol:
            return 404, {"errorText": f"Contract {query.get('name')} not found"}
        return 200, {"id": self.contract_id, "name": self.symbol, "contractMaturityId": 52_000 + self.contract_id % 1000,
                     "status": "DefinitionChecked", "providerTickSize": json.loads(self.spec.tick_str()),
                     "productId": PRODUCT_IDS[self.product]}

    def _product(self, query) -> tuple[int, object]:
        if query.get("name") != self.product:
            return 404, {"errorText": f"Product {query.get('name')} not found"}
        return 200, fmt.Raw(fmt.dumps({
            "id": PRODUCT_IDS[self.product], "name": self.product, "currencyId": 1, "productType": "Futures",
            "description": self.spec.extra["description"], "exchangeId": 1, "contractGroupId": 11,
            "riskDiscountContractGroupId": 11, "status": "Verified", "months": "FGHJKMNQUVXZ",
            "valuePerPoint": fmt.Raw(self.spec.contract_value), "priceFormatType": "Decimal",
            "priceFormat": -self.spec.price_dec, "tickSize": fmt.Raw(self.spec.tick_str())}))

    def rest_routes(self):
        return {("POST", "/v1/auth/accesstokenrequest"): self._token}

    def private_routes(self):
        return {("GET", "/v1/contract/find"): self._authorized(self._contract),
                ("GET", "/v1/product/find"): self._authorized(self._product)}


def _instrument(base: str, price_dec: int, tick: int, ct_val: str, description: str) -> SimInstrument:
    product = PRODUCTS[base]
    return SimInstrument("tradovate", front_month(product, datetime.now(timezone.utc).date()), base, "USD",
                         price_dec, tick, 0, 1, ct_val, extra={"product": product, "description": description})


SIM = SimVenue(TradovateFeed, Flow(6.0, 0.5, 120, 0.45, 0.3, 1), instruments={
    # CME Micro Bitcoin: tick 5 USD, 0.1 BTC per contract; Micro Ether: tick 0.50, 0.1 ETH.
    "BTC": _instrument("BTC", 0, 5, "0.1", "Micro Bitcoin"),
    "ETH": _instrument("ETH", 2, 50, "0.1", "Micro Ether"),
})
