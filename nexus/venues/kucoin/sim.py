"""KuCoin spot public WebSocket and market REST, as documented (https://www.kucoin.com/docs-new/,
"Apply Connect Token", "Create connection", "Ping", "Orderbook - Increment", "Match Execution
Data", "Get Part OrderBook", "Get Full OrderBook", "Get All Symbols", "Get Symbol"):

- POST /api/v1/bullet-public -> {"code":"200000","data":{"token",
  "instanceServers":[{"endpoint","encrypt","protocol":"websocket","pingInterval":18000,
  "pingTimeout":10000}]}}; the endpoint is this simulator's own address (wss:// when the
  request came through a TLS-terminating front that says so with X-Forwarded-Proto: https).
- the WebSocket wants `?token=`: an unknown or expired token gets
  {"id","type":"error","code":401,"data":"token is invalid|expired"} and the connection closes.
  A valid one is greeted {"id":connectId,"type":"welcome"}. Tokens live `token_ttl_ns`
  (KuCoin: 24 h); a connection whose token expires is told so and closed, as is one that
  sent no ping for pingInterval + pingTimeout.
- {"id","type":"subscribe","topic":"/market/level2:BTC-USDT","response":true} -> {"id","type":"ack"};
  {"id","type":"ping"} -> {"id","type":"pong"}; an unknown topic -> error 404. Spaces around
  the symbols of a topic ("/market/level2: BTC-USDT") are ignored.
- level2: {"type":"message","topic":"/market/level2:SYM","subject":"trade.l2update","data":{
  "changes":{"asks":[[px,sz,seq]],"bids":[..]},"sequenceEnd","sequenceStart","symbol","time"}}:
  every change has its own sequence, consecutive over the stream (sequenceStart of a
  message is the previous sequenceEnd + 1), pushed every 100 ms when the book changed.
- match: {"type":"message","topic":"/market/match:SYM","subject":"trade.l3match","data":{
  "makerOrderId","price","sequence","side" (taker),"size","symbol","takerOrderId",
  "time" (ns),"tradeId","type":"match"}}.
- REST GET /api/v1/market/orderbook/level2_20|level2_100 and /api/v3/market/orderbook/level2
  (the real one needs an API key; served here without) -> {"code":"200000","data":{"time",
  "sequence" (string),"bids":[[px,sz]],"asks":[..]}}: the book as last published, at the
  last published sequenceEnd. GET /api/v2/symbols, /api/v2/symbols/{symbol}, /api/v1/timestamp;
  GET /api/v1/symbols (the older, deprecated "Get Symbols List", same entries).
- GET /api/v3/currencies ("Get All Currencies": {"code":"200000","data":[{"currency","name",
  "fullName","precision","confirms","contractAddress","isMarginEnabled","isDebitEnabled",
  "chains":[{"chainName","chainId","withdrawalMinSize","depositMinSize","withdrawFeeRate",
  "withdrawalMinFee","isWithdrawEnabled","isDepositEnabled","confirms","preConfirms",
  "contractAddress","withdrawPrecision","maxWithdraw","maxDeposit","needTag"}]}]}): the
  simulated pair's two currencies, each on one chain named after it (what ccxt loads at start).
Prices and sizes are written in their shortest form ("67993.3", "1.21427407").

Authenticated REST (orders, accounts, POST /api/v1/bullet-private) and the private topics
(/spotMarket/tradeOrdersV2, /spotMarket/advancedOrders, /account/balance) on a private token:
sim_trade.py.
"""

from __future__ import annotations

from typing import Any

from nexus.sim import fmt
from nexus.sim.feed import Conn, Event, Feed, SimRequest
from nexus.sim.market import ASK, BID, BUY, Fill
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.kucoin.sim_trade import KucoinTrade

OK = "200000"
PUSH_EVERY = 10                  # steps: 100 ms
PING_INTERVAL_MS = 18_000
PING_TIMEOUT_MS = 10_000
TOKEN_TTL_NS = 24 * 3600 * 10**9
SEQ_BASE = 14_701_000_000
TRADE_SEQ_BASE = 11_067_996_000_000_000
L2 = "/market/level2:"
MATCH = "/market/match:"


class KucoinFeed(Feed):
    venue = "kucoin"
    ws_path = "/"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.add_view("level2", None, primary=True)
        self.seq = SEQ_BASE
        self.trade_seq = TRADE_SEQ_BASE
        self.tokens: dict[str, int] = {}    # token -> expiry (simulated ns)
        self.tokens_issued = 0
        self.token_ttl_ns = TOKEN_TTL_NS
        self.trade = KucoinTrade(self)      # authenticated REST and the private topics

    def view_seq(self, channel):
        return self.seq

    def book_channels(self):
        return ["level2"]

    # -- publishing -----------------------------------------------------------------------
    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        for f in self.take_fills():
            out.append((MATCH + self.symbol, self._match(f)))
        if self.step_no % PUSH_EVERY:
            return out
        view = self.views["level2"]
        if not view.changed():
            return out
        bids, asks = view.diff()
        if not bids and not asks:
            return out
        first = self.seq + 1
        seq = self.seq
        cb, ca = [], []
        for p, q in bids:
            seq += 1
            cb.append([self.spec.px(p), self.spec.qty(q), str(seq)])
        for p, q in asks:
            seq += 1
            ca.append([self.spec.px(p), self.spec.qty(q), str(seq)])
        self.seq = seq
        view.record(seq, t_ns)
        if self.drop_book_message("level2"):
            return out
        out.append((L2 + self.symbol, fmt.compact({
            "topic": L2 + self.symbol, "type": "message", "subject": "trade.l2update",
            "data": {"changes": {"asks": ca, "bids": cb}, "sequenceEnd": seq, "sequenceStart": first,
                     "symbol": self.symbol, "time": fmt.ms(t_ns)}})))
        return out

    def _match(self, f: Fill) -> str:
        self.trade_seq += 1
        n = self.trade_seq
        return fmt.compact({
            "topic": MATCH + self.symbol, "type": "message", "subject": "trade.l3match",
            "data": {"makerOrderId": self.token("maker", n, 24), "price": self.spec.px(f.price),
                     "sequence": str(n), "side": "buy" if f.side == BUY else "sell",
                     "size": self.spec.qty(f.qty), "symbol": self.symbol,
                     "takerOrderId": self.token("taker", n, 24), "time": str(f.ts_ns),
                     "tradeId": str(n), "type": "match"}})

    # -- connections ----------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        self.conns += 1
        now = self.clock()
        token = conn.query.get("token", "")
        cid = conn.query.get("connectId") or self.token("conn", self.conns, 10)
        expiry = self.tokens.get(token)
        if expiry is None or now >= expiry:
            conn.send(fmt.compact({"id": cid, "type": "error", "code": 401,
                                   "data": "token is invalid" if expiry is None else "token is expired"}))
            conn.close(1000, "token")
            return
        conn.state.update(token=token, cid=cid, last_ping_ns=now)
        self.trade.on_open(conn, token)     # a bullet-private token: the account's connection
        conn.send(fmt.compact({"id": cid, "type": "welcome"}))

    def on_text(self, conn: Conn, text: str) -> None:
        req = self.request(conn, text, fmt.compact({"id": "", "type": "error", "code": 400,
                                                    "data": "request is not valid JSON"}))
        if req is None or "token" not in conn.state:
            return
        rid, kind = req.get("id"), req.get("type")
        if kind == "ping":
            conn.state["last_ping_ns"] = self.clock()
            conn.send(fmt.compact({"id": rid, "type": "pong"}))
            return
        if kind not in ("subscribe", "unsubscribe"):
            conn.send(fmt.compact({"id": rid, "type": "error", "code": 400, "data": f"unknown type {kind!r}"}))
            return
        topic = req.get("topic")
        if isinstance(topic, str) and self.trade.subscribe(conn, rid, topic, kind):
            return
        if not isinstance(topic, str) or not topic.startswith((L2, MATCH)):
            conn.send(fmt.compact({"id": rid, "type": "error", "code": 404, "data": f"topic {topic} is not found"}))
            return
        prefix, _, syms = topic.partition(":")
        for sym in syms.split(","):
            sym = sym.strip()   # a space after the colon or a comma is accepted (cryptofeed sends one)
            if sym != self.symbol:
                conn.send(fmt.compact({"id": rid, "type": "error", "code": 404,
                                       "data": f"topic {prefix}:{sym} is not found"}))
                return
        key = prefix + ":" + self.symbol
        if kind == "subscribe":
            conn.subscribe(key)
        else:
            conn.unsubscribe(key)
        if req.get("response"):
            conn.send(fmt.compact({"id": rid, "type": "ack"}))

    def on_second(self, conn: Conn, t_ns: int) -> None:
        token = conn.state.get("token")
        if token is None:
            return
        expiry = self.tokens.get(token, 0)
        if t_ns >= expiry:
            conn.send(fmt.compact({"id": conn.state["cid"], "type": "error", "code": 401,
                                   "data": "token is expired"}))
            conn.close(1000, "token expired")
        elif t_ns - conn.state["last_ping_ns"] > (PING_INTERVAL_MS + PING_TIMEOUT_MS) * 1_000_000:
            conn.close(1000, "ping timeout")

    # -- REST -----------------------------------------------------------------------------
    def issue_token(self, host: str, tls: bool = False) -> tuple[str, dict]:
        """A new connect token and the bullet answer's `data` naming this server (`host`; wss://
        when `tls`: the request came through a TLS-terminating front)."""
        self.tokens_issued += 1
        token = self.token("bullet", self.tokens_issued, 64)
        now = self.clock()
        self.tokens = {t: e for t, e in self.tokens.items() if e > now}
        self.tokens[token] = now + self.token_ttl_ns
        scheme = "wss" if tls else "ws"
        return token, {"token": token, "instanceServers": [{
            "endpoint": f"{scheme}://{host}/{self.venue}{self.ws_path}", "encrypt": tls, "protocol": "websocket",
            "pingInterval": PING_INTERVAL_MS, "pingTimeout": PING_TIMEOUT_MS}]}

    def _bullet(self, req: SimRequest) -> tuple[int, Any]:
        tls = req.headers.get("x-forwarded-proto") == "https"
        return 200, {"code": OK, "data": self.issue_token(req.headers.get("host", "127.0.0.1"), tls)[1]}

    def _book(self, limit: int | None):
        def handle(query: dict, _body) -> tuple[int, Any]:
            if query.get("symbol") != self.symbol:
                return 400, {"code": "400100", "msg": "symbol not exists"}
            b, a = self.views["level2"].top()
            if limit is not None:
                b, a = b[:limit], a[:limit]
            return 200, {"code": OK, "data": {
                "time": fmt.ms(self.clock()), "sequence": str(self.seq),
                "bids": [[self.spec.px(p), self.spec.qty(q)] for p, q in b],
                "asks": [[self.spec.px(p), self.spec.qty(q)] for p, q in a]}}
        return handle

    def symbol_info(self) -> dict:
        s = self.spec
        return {"symbol": s.symbol, "name": s.symbol, "baseCurrency": s.base, "quoteCurrency": s.quote,
                "feeCurrency": s.quote, "market": "USDS", "baseMinSize": s.lot_str(), "quoteMinSize": "0.1",
                "baseMaxSize": "10000000000", "quoteMaxSize": "99999999", "baseIncrement": s.lot_str(),
                "quoteIncrement": "0.000001", "priceIncrement": s.tick_str(), "priceLimitRate": "0.1",
                "minFunds": "0.1", "isMarginEnabled": True, "enableTrading": True, "feeCategory": 1,
                "makerFeeCoefficient": "1.00", "takerFeeCoefficient": "1.00", "st": False}

    def _symbols(self, query: dict, _body) -> tuple[int, Any]:
        sym = query.get("symbol")
        if sym is not None:  # /api/v2/symbols/{symbol}
            if sym != self.symbol:
                return 400, {"code": "400100", "msg": "symbol not exists"}
            return 200, {"code": OK, "data": self.symbol_info()}
        return 200, {"code": OK, "data": [self.symbol_info()]}

    def _currencies(self, _query: dict, _body) -> tuple[int, Any]:
        def chain(code: str) -> dict:
            return {"chainName": code, "chainId": code.lower(), "withdrawalMinSize": "0.001",
                    "depositMinSize": None, "withdrawFeeRate": "0", "withdrawalMinFee": "0.0005",
                    "isWithdrawEnabled": True, "isDepositEnabled": True, "confirms": 3, "preConfirms": 1,
                    "contractAddress": "", "withdrawPrecision": 8, "maxWithdraw": None,
                    "maxDeposit": None, "needTag": False}
        return 200, {"code": OK, "data": [
            {"currency": c, "name": c, "fullName": c, "precision": 8, "confirms": None,
             "contractAddress": None, "isMarginEnabled": True, "isDebitEnabled": True, "chains": [chain(c)]}
            for c in (self.spec.base, self.spec.quote)]}

    def rest_routes(self):
        return {
            ("GET", "/api/v3/currencies"): self._currencies,
            ("GET", "/api/v1/market/orderbook/level2_20"): self._book(20),
            ("GET", "/api/v1/market/orderbook/level2_100"): self._book(100),
            ("GET", "/api/v3/market/orderbook/level2"): self._book(None),
            ("GET", "/api/v2/symbols"): self._symbols,
            ("GET", "/api/v1/symbols"): self._symbols,     # the legacy listing (cryptofeed reads it)
            ("GET", "/api/v2/symbols/{symbol}"): self._symbols,
            ("GET", "/api/v1/timestamp"): lambda q, b: (200, {"code": OK, "data": fmt.ms(self.clock())}),
        }

    def private_routes(self):
        # Not private: the bullet answer names this server's own address, read from the Host
        # header, which only the raw-request handlers see.
        return {("POST", "/api/v1/bullet-public"): self._bullet, **self.trade.routes()}


SIM = SimVenue(KucoinFeed, Flow(20.0, 0.07, 20, 0.25, 0.4), {
    # GET /api/v2/symbols: BTC-USDT priceIncrement 0.1, baseIncrement 0.00000001;
    # ETH-USDT priceIncrement 0.01, baseIncrement 0.0000001.
    "BTC": SimInstrument("kucoin", "BTC-USDT", "BTC", "USDT", 1, 1, 8, 1),
    "ETH": SimInstrument("kucoin", "ETH-USDT", "ETH", "USDT", 2, 1, 7, 1),
})
