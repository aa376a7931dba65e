"""FXCM as the simulator serves it (the formats of data.py and feed.py):

- WebSocket /socket.io/?EIO=3&transport=websocket&access_token=TOKEN: a token other than
  `SIM_TOKEN` gets the socket.io error packet 44{"message":"Unauthorized"} and a close;
  else "0{"sid","upgrades":[],"pingInterval":25000,"pingTimeout":60000}" then "40". "2" is
  answered "3". Price updates: 42["BTC/USD","{\\"Updated\\":ms,\\"Rates\\":[bid,ask,high,
  low],\\"Symbol\\":\\"BTC/USD\\"}"] whenever the touch changed (checked every 100 ms).
- Trading (sim_trade.py): a socket opened with the token of an account made by
  `Simulator.open_account("fxcm", key, token)` (the account's secret is its FXCM token)
  trades that account; its REST requests and trading-table updates are served there.
- REST, with "Authorization: Bearer <sid><token>" of an open socket (401 otherwise):
  POST /subscribe (form pairs=BTC/USD) subscribes that socket and answers
  {"response":{"executed":true},"pairs":[<the current price update>]};
  GET /trading/get_model?models=Offer answers {"response":{"executed":true},"offers":[..]}.
FXCM publishes no sizes: the simulator's book for FXCM is its touch with the nominal size 1
(what a client rebuilds). `SIM_TOKEN` opens nothing but this simulator (tests put it in
NEXUS_FXCM_TOKEN). Faults: silence, malformed and disconnect apply (gap and bad-checksum do
not: no sequence numbers, no checksum).
"""

from __future__ import annotations

import os
import secrets

from urllib.parse import parse_qs

from nexus.sim import fmt
from nexus.sim.feed import Conn, DepthView, Event, Feed
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.fxcm.sim_trade import FxcmTrade

# no constant in the code: the client's NEXUS_FXCM_TOKEN when set, else made fresh per process
SIM_TOKEN = os.environ.get("NEXUS_FXCM_TOKEN") or secrets.token_hex(16)
SIM_ENV = {"NEXUS_FXCM_TOKEN": SIM_TOKEN}   # what a client needs in its environment for this simulator
PUSH_EVERY = 10             # 100 ms
NOMINAL = 1                 # the size of each level: FXCM sends none
SID_LEN = 20                # socket ids are 20 characters (the guide's samples)
LEVERAGE_MAX = 20           # the simulated account's leverage cap (FXCM sets leverage per account)


class TouchView(DepthView):
    """The touch with the nominal size (FXCM publishes prices only)."""

    def refresh(self) -> None:
        super().refresh()
        self.bids = {p: NOMINAL for p in self.bids}
        self.asks = {p: NOMINAL for p in self.asks}


class FxcmFeed(Feed):
    venue = "fxcm"
    ws_path = "/socket.io/"
    data_token = SIM_TOKEN      # market data only (sim_trade: no account behind it)

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        view = self.views["bbo"] = TouchView(vs, 1)
        view.refresh()
        self.primary = "bbo"
        self.n_pub = 0
        self.socks: dict[str, Conn] = {}
        self.high: int | None = None
        self.low: int | None = None
        self.trade = FxcmTrade(self)     # trading REST and trading-table updates

    def view_seq(self, channel):
        return self.n_pub

    def book_channels(self):
        return []

    def _update(self, t_ns: int) -> dict:
        b, a = self.views["bbo"].top()
        bid, ask = (b[0][0] if b else None), (a[0][0] if a else None)
        if bid is not None:
            self.low = bid if self.low is None else min(self.low, bid)
        if ask is not None:
            self.high = ask if self.high is None else max(self.high, ask)
        px = self.spec.px
        rates = [fmt.Raw(px(v)) if v is not None else None for v in (bid, ask, self.high, self.low)]
        return {"Updated": fmt.ms(t_ns), "Rates": rates, "Symbol": self.symbol}

    def _event(self, t_ns: int) -> str:
        return "42" + fmt.dumps([self.symbol, fmt.dumps(self._update(t_ns))])

    def publish(self, t_ns: int) -> list[Event]:
        self.take_fills()       # FXCM's price stream has no trades
        if self.step_no % PUSH_EVERY:
            return []
        view = self.views["bbo"]
        before = view.top()
        view.refresh()
        if view.top() == before:
            return []
        self.n_pub += 1
        view.record(self.n_pub, t_ns)
        return [(self.symbol, self._event(t_ns))]

    # -- socket.io ----------------------------------------------------------------------------
    def on_open(self, conn: Conn) -> None:
        token = conn.query.get("access_token", "")
        account = None if token == SIM_TOKEN else self.trade.account_by_token(token)
        if token != SIM_TOKEN and account is None:
            conn.send('44{"message":"Unauthorized"}')
            conn.close(1008, "Unauthorized")
            return
        self.conns += 1
        sid = self.token("sid", self.conns, SID_LEN)
        conn.state["sid"] = sid
        conn.state["token"] = token
        self.socks[sid] = conn
        conn.send("0" + fmt.compact({"sid": sid, "upgrades": [], "pingInterval": 25000, "pingTimeout": 60000}))
        conn.send("40")
        if account is not None:
            self.trade.open_socket(conn, token)

    def on_text(self, conn: Conn, text: str) -> None:
        if self.faults.silent(self.clock()):
            return
        if text == "2":
            conn.send("3")

    # -- REST -----------------------------------------------------------------------------------
    def conn_of(self, req) -> Conn | None:
        """The open socket a request's "Bearer <sid><token>" names (None: no such socket, or
        not opened with that token)."""
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or len(auth) <= 7 + SID_LEN:
            return None
        conn = self.socks.get(auth[7:7 + SID_LEN])
        if conn is None or getattr(conn, "closed", False) or conn.state.get("token") != auth[7 + SID_LEN:]:
            return None
        return conn

    def _subscribe(self, req):
        conn = self.conn_of(req)
        if conn is None:
            return 401, {"response": {"executed": False, "error": "Unauthorized"}}
        pairs = parse_qs(req.body).get("pairs", [""])[0].split(",")
        if pairs != [self.symbol]:
            return 200, {"response": {"executed": False, "error": f"Unknown symbol {','.join(pairs)}"}}
        conn.subscribe(self.symbol)
        now = self.clock()
        self.views["bbo"].record(self.n_pub, now)
        return 200, fmt.dumps({"response": {"executed": True, "error": ""}, "pairs": [self._update(now)]})

    def offer_row(self) -> dict:
        """The Offers table row of the simulated symbol (guide 5.4.1)."""
        s = self.spec
        b, a = self.views["bbo"].top()
        return {
            "t": 0, "ratePrecision": s.price_dec, "offerId": 1001, "rollB": 0, "rollS": 0, "fractionalPip": True,
            "pip": fmt.Raw(fmt.trim(100, s.price_dec) if s.price_dec >= 2 else "1"), "currency": s.symbol,
            "sell": fmt.Raw(s.px(b[0][0])) if b else None, "buy": fmt.Raw(s.px(a[0][0])) if a else None,
            "high": None, "low": None, "volume": 0, "pipCost": 1, "ticker": s.symbol, "time": fmt.ms(self.clock())}

    def private_routes(self):
        # GET /trading/get_model (Offer and the trading tables) and the trading requests: sim_trade.py
        return {("POST", "/subscribe"): self._subscribe, **self.trade.routes()}


# leverage_max > 0: the simulated account holds margin positions (FXCM's CFDs), not balances
SIM = SimVenue(FxcmFeed, Flow(5.0, 0.5, 200, 0.5, 0.2, 2), leverage_max=LEVERAGE_MAX, instruments={
    "BTC": SimInstrument("fxcm", "BTC/USD", "BTC", "USD", 2, 1, 0, 1),
    "ETH": SimInstrument("fxcm", "ETH/USD", "ETH", "USD", 2, 1, 0, 1),
})
