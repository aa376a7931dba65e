"""Deribit API v2 as the simulator serves it (https://docs.deribit.com/):

- JSON-RPC 2.0 over WebSocket (/ws/api/v2): public/subscribe {"channels":[...]} answered
  {"jsonrpc":"2.0","id":..,"result":[channels],"usIn","usOut","usDiff","testnet":false};
  public/set_heartbeat {"interval": s} (at least 10) answered "ok", then every interval the
  notification {"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}; a
  connection that has not called public/test by the next one is closed. public/test answers
  {"version": ..}.
- `book.{instrument}.100ms`: a snapshot (`type: snapshot`, levels ["new", price, amount])
  on subscribe, then every 100 ms the changes (`type: change`, ["new"|"change"|"delete",
  price, amount]) with change_id and prev_change_id (the previous message's change_id).
- `trades.{instrument}.100ms`: [{"trade_seq","trade_id","timestamp","tick_direction","price",
  "mark_price","index_price","instrument_name","direction" (taker),"amount"}].
- `public/auth` (https://docs.deribit.com/api-reference/authentication/public-auth,
  https://docs.deribit.com/articles/authentication): grant_type `client_credentials`
  (client_id, client_secret), `client_signature` (client_id, timestamp, nonce, data, signature
  = hex HMAC-SHA256(client secret, timestamp + "\n" + nonce + "\n" + data)) or
  `refresh_token`, checked against the accounts opened on the simulator
  (`Simulator.open_account("deribit", client_id, client_secret)`); answered {"access_token",
  "expires_in","refresh_token","scope","enabled_features":[],"token_type":"bearer"} and the
  connection is authorized from then on. Wrong credentials or signature: error 13004
  invalid_credentials; a missing parameter: -32602 Invalid params.
- `private/subscribe` / `private/unsubscribe` (an authorized connection, or a valid
  `access_token` parameter; else error 13009 unauthorized): the same channels as public/subscribe.
- The per-change channels `book.{instrument}.raw` and `trades.{instrument}.raw`, for an
  authorized connection only: an unauthorized one is refused with error 13778
  raw_subscriptions_not_available_for_unauthorized (as the real venue answers, whole request
  refused). Each book change (one simulated step) is its own notification, with its own
  change_id / prev_change_id sequence, contiguous on that channel (the 100 ms channel keeps
  its own); each trade is its own notification (data: a list of one trade, trade_seq shared
  with the 100 ms trades channel). The raw book is followed from the first raw subscription on.
- REST: GET /api/v2/public/get_order_book?instrument_name&depth (the book as last
  published on the book channel, with its change_id: what a poller sees is consistent with the
  stream); a client polling faster than the credit limit gets JSON-RPC error 10028
  too_many_requests (HTTP 429); GET /api/v2/public/get_instruments?currency&kind (currency
  optional, "any" when absent, as the current docs give it). GET /api/v2/public/get_currencies
  (https://docs.deribit.com/api-reference/market-data/public-get_currencies: [{"coin_type",
  "currency","currency_long","min_confirmations","min_withdrawal_fee","withdrawal_fee",
  "withdrawal_priorities","network_currency","network_fee","decimals"}]): the simulated
  instrument's base currency (ccxt loads it at start).
Prices and amounts are bare JSON numbers in their shortest form (5042.34, 30); amounts of the
inverse perpetual are USD.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from nexus.sim import fmt
from nexus.sim.fmt import Raw
from nexus.sim.market import BUY, Fill
from nexus.sim.feed import Conn, Event, Feed
from nexus.sim.specs import Flow, SimInstrument, SimVenue

BOOK_EVERY = 10               # 100 ms
CHANGE_ID_BASE = 70_000_000
RAW_CHANGE_ID_BASE = 90_000_000   # the raw book channel's own sequence
TOKEN_EXPIRES_S = 31_536_000      # as the documented public/auth example
TRADE_SEQ_BASE = 120_000_000
HEARTBEAT_MIN_S = 10
# Non-matching-engine credits (the venue's documented scheme, simplified): each request costs
# one credit, REFILL_PER_S come back each second, at most BURST are held.
CREDIT_BURST = 50
CREDIT_REFILL_PER_S = 20
POLL_DEPTH_MAX = 10_000
VERSION = "1.2.26"


class DeribitFeed(Feed):
    venue = "deribit"
    ws_path = "/ws/api/v2"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.inst = self.symbol
        self.book_channel = f"book.{self.inst}.100ms"
        self.trades_channel = f"trades.{self.inst}.100ms"
        self.add_view(self.book_channel, None, primary=True)
        self.change_id = CHANGE_ID_BASE
        self.raw_book_channel = f"book.{self.inst}.raw"
        self.raw_trades_channel = f"trades.{self.inst}.raw"
        self.add_view(self.raw_book_channel, None)
        self.raw_change_id = RAW_CHANGE_ID_BASE
        self.raw_live = False         # the raw book is followed from its first subscription on
        self.tokens: dict[str, str] = {}    # access token -> client_id
        self.refresh_tokens: dict[str, str] = {}
        self.n_tokens = 0
        self.trade_seq = TRADE_SEQ_BASE
        self.credits = float(CREDIT_BURST)
        self.credits_t_ns = 0

    def view_seq(self, channel):
        return self.raw_change_id if channel == self.raw_book_channel else self.change_id

    def book_channels(self):
        return [self.book_channel, self.raw_book_channel] if self.raw_live else [self.book_channel]

    def public_channels(self) -> tuple[str, ...]:
        return (self.book_channel, self.trades_channel)

    def raw_channels(self) -> tuple[str, ...]:
        return (self.raw_book_channel, self.raw_trades_channel)

    # -- rendering ------------------------------------------------------------------------
    def _n(self, v: str) -> Raw:
        return Raw(v)

    def _book(self, typ: str, bids, asks, t_ns: int, prev: int | None, channel: str | None = None,
              change_id: int | None = None, old: tuple[dict, dict] | None = None) -> str:
        old_b, old_a = old if old is not None else (self._old_b, self._old_a)

        def lv(p, q, old):
            if q == 0:
                return [typ == "snapshot" and "new" or "delete", Raw(self.spec.px(p)), Raw("0")]
            return ["new" if p not in old else "change", Raw(self.spec.px(p)), Raw(self.spec.qty(q))]
        data: dict[str, Any] = {"type": typ, "timestamp": fmt.ms(t_ns), "instrument_name": self.inst,
                                "change_id": self.change_id if change_id is None else change_id}
        if prev is not None:
            data["prev_change_id"] = prev
        data["bids"] = [lv(p, q, old_b) for p, q in bids]
        data["asks"] = [lv(p, q, old_a) for p, q in asks]
        return fmt.dumps({"jsonrpc": "2.0", "method": "subscription",
                          "params": {"channel": channel or self.book_channel, "data": data}})

    def snapshot(self, t_ns: int) -> str:
        b, a = self.views[self.book_channel].top()
        self._old_b, self._old_a = {}, {}
        return self._book("snapshot", b, a, t_ns, None)

    def raw_snapshot(self, t_ns: int) -> str:
        """The raw book channel's first notification: the book as last published on it (its
        change_id the channel's current one); the raw book is followed from now on."""
        view = self.views[self.raw_book_channel]
        if not self.raw_live:
            view.refresh()
            view.record(self.raw_change_id, t_ns)
            self.raw_live = True
        b, a = view.top()
        return self._book("snapshot", b, a, t_ns, None, self.raw_book_channel, self.raw_change_id, ({}, {}))

    # -- publishing -----------------------------------------------------------------------
    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            rows = self._trade_rows(fills)
            out.append((self.trades_channel, self._trades_msg(self.trades_channel, rows)))
            if self.raw_live:
                out.extend((self.raw_trades_channel, self._trades_msg(self.raw_trades_channel, [r])) for r in rows)
        if self.raw_live:
            self._publish_raw(t_ns, out)
        if self.step_no % BOOK_EVERY:
            return out
        view = self.views[self.book_channel]
        if view.changed():
            old_b, old_a = dict(view.bids), dict(view.asks)
            bids, asks = view.diff()
            if bids or asks:
                prev = self.change_id
                self.change_id += 1
                view.record(self.change_id, t_ns)
                if not self.drop_book_message(self.book_channel):
                    self._old_b, self._old_a = old_b, old_a
                    out.append((self.book_channel, self._book("change", bids, asks, t_ns, prev)))
        return out

    def _publish_raw(self, t_ns: int, out: list[Event]) -> None:
        """One raw book notification per step that changed the book (every change, unthrottled)."""
        view = self.views[self.raw_book_channel]
        if not view.changed():
            return
        old = dict(view.bids), dict(view.asks)
        bids, asks = view.diff()
        if not (bids or asks):
            return
        prev = self.raw_change_id
        self.raw_change_id += 1
        view.record(self.raw_change_id, t_ns)
        if not self.drop_book_message(self.raw_book_channel):
            out.append((self.raw_book_channel, self._book("change", bids, asks, t_ns, prev, self.raw_book_channel,
                                                          self.raw_change_id, old)))

    def _trade_rows(self, fills: list[Fill]) -> list[dict]:
        data = []
        mark = Raw(self.spec.px(self.vs.best_bid()))
        for f in fills:
            self.trade_seq += 1
            data.append({"trade_seq": self.trade_seq, "trade_id": str(self.trade_seq + 250_000_000),
                         "timestamp": fmt.ms(f.ts_ns), "tick_direction": 0 if f.side == BUY else 2,
                         "price": Raw(self.spec.px(f.price)), "mark_price": mark, "index_price": mark,
                         "instrument_name": self.inst, "direction": "buy" if f.side == BUY else "sell",
                         "amount": Raw(self.spec.qty(f.qty))})
        return data

    def _trades_msg(self, channel: str, rows: list[dict]) -> str:
        return fmt.dumps({"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": rows}})

    # -- connections ----------------------------------------------------------------------
    def _reply(self, conn: Conn, rid, result: Any = None, error: tuple[int, str] | None = None) -> None:
        us = fmt.ms(self.clock()) * 1000
        msg: dict[str, Any] = {"jsonrpc": "2.0"}
        if rid is not None:
            msg["id"] = rid
        if error is not None:
            msg["error"] = {"message": error[1], "code": error[0]}
        else:
            msg["result"] = result
        msg.update({"usIn": us, "usOut": us + 40, "usDiff": 40, "testnet": False})
        conn.send(fmt.dumps(msg))

    def on_text(self, conn: Conn, text: str) -> None:
        req = self.request(conn, text, fmt.compact({"jsonrpc": "2.0", "error": {
            "message": "Invalid request", "code": -32600}, "testnet": False}))
        if req is None:
            return
        rid, method, params = req.get("id"), req.get("method"), req.get("params") or {}
        if method == "public/test":
            conn.state["tested_ns"] = self.clock()
            self._reply(conn, rid, {"version": VERSION})
        elif method == "public/set_heartbeat":
            iv = params.get("interval")
            if not isinstance(iv, (int, float)) or iv < HEARTBEAT_MIN_S:
                self._reply(conn, rid, error=(11029, "invalid_arguments"))
                return
            conn.state["hb_s"] = int(iv)
            conn.state["hb_next_ns"] = self.clock() + int(iv) * 1_000_000_000
            conn.state["tested_ns"] = self.clock()
            self._reply(conn, rid, "ok")
        elif method == "public/auth":
            self._auth(conn, rid, params)
        elif method in ("public/subscribe", "public/unsubscribe", "private/subscribe", "private/unsubscribe"):
            authorized = bool(conn.state.get("deribit_client")) or (
                isinstance(params.get("access_token"), str) and params["access_token"] in self.tokens)
            if method.startswith("private/") and not authorized:
                self._reply(conn, rid, error=(13009, "unauthorized"))
                return
            chans = params.get("channels")
            if not isinstance(chans, list) or not all(c in self.public_channels() + self.raw_channels() for c in chans):
                self._reply(conn, rid, error=(11050, "bad_request"))
                return
            subscribe = method.endswith("/subscribe")
            if subscribe and not authorized and any(c in self.raw_channels() for c in chans):
                self._reply(conn, rid, error=(13778, "raw_subscriptions_not_available_for_unauthorized"))
                return
            self._reply(conn, rid, chans)
            for c in chans:
                if subscribe:
                    conn.subscribe(c)
                    if c == self.book_channel:
                        conn.send(self.snapshot(self.clock()))
                    elif c == self.raw_book_channel:
                        conn.send(self.raw_snapshot(self.clock()))
                else:
                    conn.unsubscribe(c)
        else:
            self._reply(conn, rid, error=(-32601, "Method not found"))

    def _auth(self, conn: Conn, rid, params: dict) -> None:
        grant = params.get("grant_type")
        need = {"client_credentials": ("client_id", "client_secret"),
                "client_signature": ("client_id", "timestamp", "signature", "nonce"),
                "refresh_token": ("refresh_token",)}.get(grant)
        if need is None:
            self._reply(conn, rid, error=(-32602, "Invalid params"))
            return
        if any(params.get(k) in (None, "") for k in need):
            self._reply(conn, rid, error=(-32602, "Invalid params"))
            return
        if grant == "refresh_token":
            client = self.refresh_tokens.get(str(params["refresh_token"]))
        else:
            client = str(params["client_id"])
            acct = self.exchange().accounts.get(client)
            if acct is None:
                client = None
            elif grant == "client_credentials":
                if not hmac.compare_digest(str(params["client_secret"]).encode(), acct.secret.encode()):
                    client = None
            else:
                text = f'{params["timestamp"]}\n{params["nonce"]}\n{params.get("data") or ""}'
                want = hmac.new(acct.secret.encode(), text.encode(), hashlib.sha256).hexdigest()
                if not hmac.compare_digest(want.encode(), str(params["signature"]).lower().encode()):
                    client = None
        if client is None:
            self._reply(conn, rid, error=(13004, "invalid_credentials"))
            return
        conn.state["deribit_client"] = client
        self.n_tokens += 1
        access, refresh = (f"{fmt.ms(self.clock())}.{self.token(k, self.n_tokens, 40)}" for k in ("access", "refresh"))
        self.tokens[access], self.refresh_tokens[refresh] = client, client
        scope = str(params.get("scope") or "")
        session = [w for w in scope.split() if w.startswith("session:")]
        self._reply(conn, rid, {"access_token": access, "expires_in": TOKEN_EXPIRES_S, "refresh_token": refresh,
                                "scope": " ".join(session + ["mainaccount"]) if session else "connection mainaccount",
                                "enabled_features": [], "token_type": "bearer"})

    def on_second(self, conn: Conn, t_ns: int) -> None:
        hb = conn.state.get("hb_s")
        if not hb or t_ns < conn.state["hb_next_ns"]:
            return
        if conn.state.get("asked_ns") and conn.state["tested_ns"] < conn.state["asked_ns"]:
            conn.close(1000, "heartbeat test_request not answered")
            return
        conn.state["asked_ns"] = t_ns
        conn.state["hb_next_ns"] = t_ns + hb * 1_000_000_000
        conn.send('{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}')

    # -- REST -----------------------------------------------------------------------------
    def _env(self, result: Any = None, error: tuple[int, str] | None = None, status: int = 200):
        us = fmt.ms(self.clock()) * 1000
        body: dict[str, Any] = {"jsonrpc": "2.0"}
        if error is not None:
            body["error"] = {"message": error[1], "code": error[0]}
        else:
            body["result"] = result
        body.update({"usIn": us, "usOut": us + 60, "usDiff": 60, "testnet": False})
        return status, Raw(fmt.dumps(body))

    def _spend(self) -> bool:
        now = self.clock()
        self.credits = min(CREDIT_BURST, self.credits + (now - self.credits_t_ns) / 1e9 * CREDIT_REFILL_PER_S)
        self.credits_t_ns = now
        if self.credits < 1:
            return False
        self.credits -= 1
        return True

    def _order_book(self, query: dict, _body):
        if not self._spend():
            return self._env(error=(10028, "too_many_requests"), status=429)
        if query.get("instrument_name") != self.inst:
            return self._env(error=(13020, "not_found"), status=400)
        try:
            depth = max(1, min(POLL_DEPTH_MAX, int(query.get("depth", 20))))
        except ValueError:
            return self._env(error=(11029, "invalid_arguments"), status=400)
        b, a = self.views[self.book_channel].top()
        px, qty = self.spec.px, self.spec.qty
        return self._env({
            "timestamp": fmt.ms(self.clock()), "state": "open", "instrument_name": self.inst,
            "change_id": self.change_id,
            "bids": [[Raw(px(p)), Raw(qty(q))] for p, q in b[:depth]],
            "asks": [[Raw(px(p)), Raw(qty(q))] for p, q in a[:depth]],
            "best_bid_price": Raw(px(b[0][0])) if b else 0, "best_bid_amount": Raw(qty(b[0][1])) if b else 0,
            "best_ask_price": Raw(px(a[0][0])) if a else 0, "best_ask_amount": Raw(qty(a[0][1])) if a else 0,
        })

    def instrument(self) -> dict:
        s = self.spec
        return {"tick_size": Raw(s.tick_str()), "tick_size_steps": [], "taker_commission": Raw("0.0005"),
                "settlement_period": "perpetual", "settlement_currency": s.base, "quote_currency": "USD",
                "price_index": f"{s.base.lower()}_usd", "min_trade_amount": Raw(s.lot_str()),
                "maker_commission": Raw("0"), "kind": "future", "is_active": True, "instrument_name": s.symbol,
                "instrument_id": 124972 if s.base == "BTC" else 124973, "expiration_timestamp": 32503708800000,
                "creation_timestamp": 1534242287000, "counter_currency": "USD",
                "contract_size": Raw(s.extra["contract_size"]), "base_currency": s.base,
                "instrument_type": "reversed", "future_type": "reversed", "max_leverage": 50}

    def _instruments(self, query: dict, _body):
        if query.get("currency", "any") not in (self.spec.base, "any"):
            return self._env([])
        if query.get("kind") not in (None, "future"):
            return self._env([])  # options, spot: the simulator lists none
        return self._env([self.instrument()])

    def _currencies(self, _query: dict, _body):
        c = self.spec.base
        long, coin_type = {"BTC": ("Bitcoin", "BITCOIN"), "ETH": ("Ethereum", "ETHER")}.get(c, (c, c))
        return self._env([{"coin_type": coin_type, "currency": c, "currency_long": long, "min_confirmations": 1,
                           "min_withdrawal_fee": Raw("0.0001"), "withdrawal_fee": Raw("0.0001"),
                           "withdrawal_priorities": [], "network_currency": c, "network_fee": Raw("0.0001"),
                           "decimals": 8}])

    def rest_routes(self):
        return {
            ("GET", "/api/v2/public/get_currencies"): self._currencies,
            ("GET", "/api/v2/public/get_order_book"): self._order_book,
            ("GET", "/api/v2/public/get_instruments"): self._instruments,
        }


SIM = SimVenue(DeribitFeed, Flow(14.0, 0.08, 30, 0.30, 0.45), leverage_max=50, instruments={
    # amounts in USD (inverse); contract_value: BTC per USD near the start price, model sizing only
    "BTC": SimInstrument("deribit", "BTC-PERPETUAL", "BTC", "USD", 1, 5, 0, 10, "0.0000154",
                         extra={"contract_size": "10"}),
    "ETH": SimInstrument("deribit", "ETH-PERPETUAL", "ETH", "USD", 2, 5, 0, 1, "0.0003125",
                         extra={"contract_size": "1"}),
})
