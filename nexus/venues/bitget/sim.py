"""Bitget v2 public WebSocket and market REST for a spot pair (authenticated REST and the
private stream /v2/ws/private: sim_trade.py; the USDT-FUTURES contract trading on the same
book, which the contracts listing returns for productType USDT-FUTURES: sim_futures.py), as
documented
(https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel, Trade Channel,
Common > Websocket API; Spot > Market > Get Symbol Info; Futures > Market > Get Contract
Config):

- subscribe {"op":"subscribe","args":[{"instType":"SPOT","channel":"books","instId":..}]}
  answered per arg {"event":"subscribe","arg":{..}}; errors {"event":"error","code":..,
  "msg":..} (the codes and texts used here are modelled on the documented error envelope:
  30001 for a channel or instId that does not exist, 30016 for a malformed request); the
  text "ping" is answered "pong".
- `books`: all levels; a snapshot on subscribing, then every 200 ms the changed levels:
  {"action":"snapshot"|"update","arg":{..},"data":[{"asks":[[px,sz]],"bids":[[px,sz]],
  "checksum":int,"seq":int,"ts":"ms"}],"ts":ms}; checksum: CRC32 (signed) of the top 25
  levels interleaved, over the strings as sent (nexus.sim.checksum.okx builds the same
  string). Prices and sizes are written with the pair's pricePrecision/quantityPrecision
  decimals, trailing zeros kept ("0.050000"), so the "original string" rule matters.
- `books5` / `books15`: whole 5- and 15-level books on every push, checksum 0.
- `trade`: the last trades as "snapshot" on subscribing, then "update" pushes
  {"ts","price","size","side" (taker),"tradeId"}.
- REST: GET /api/v2/spot/public/symbols, GET /api/v2/mix/market/contracts (the simulator
  trades SPOT only: a valid productType answers an empty list), GET /api/v2/public/time;
  envelope {"code":"00000","msg":"success","requestTime":ms,"data":..}.
- GET /api/v2/spot/public/coins (Spot > Market > Get Coin Info: [{"coinId","coin","transfer",
  "chains":[{"chain","needTag","withdrawable","rechargeable","withdrawFee","extraWithdrawFee",
  "depositConfirm","withdrawConfirm","minDepositAmount","minWithdrawAmount","browserUrl",
  "contractAddress","withdrawStep","withdrawMinScale","congestion"}],"areaCoin"}], every value a
  string): the simulated pair's two coins, each on one chain named after it (ccxt loads it at start).
  GET /api/v2/margin/currencies (Margin > Common > Get Support Currencies: [{"symbol","baseCoin",
  "quoteCoin","maxCrossedLeverage","maxIsolatedLeverage","warningRiskRatio","liquidationRiskRatio",
  "minTradeAmount","maxTradeAmount","takerFeeRate","makerFeeRate","pricePrecision",
  "quantityPrecision","minTradeUSDT","isBorrowable","userMinBorrow","status",
  "isIsolatedBaseBorrowable","isIsolatedQuoteBorrowable","isCrossBorrowable"}]): the pair.
  The contracts listing also accepts the documented demo product types (SUSDT-/SCOIN-/SUSDC-FUTURES),
  answered as empty like the others.
The simulator serves spot only (`BTCUSDT`); USDT futures (`BTCUSDT:USDT-FUTURES`) share the
decoder and the sync rules and are covered by the fixtures.
"""

from __future__ import annotations

import collections
from typing import Any

from nexus.sim import checksum, fmt
from nexus.sim.feed import Conn, DepthView, Event, Feed
from nexus.sim.market import BUY, Fill
from nexus.sim.specs import Flow, SimInstrument, SimVenue
from nexus.venues.bitget.sim_futures import PRODUCT as FUTURES_PRODUCT
from nexus.venues.bitget.sim_trade import PRIVATE_PATH, BitgetTrade

BOOKS_EVERY = 20            # 200 ms
SEQ_BASE = 4_000_000_000
TRADE_ID_BASE = 1_100_000_000_000
TRADES_KEPT = 50            # trades sent as the snapshot on subscribing
CHANNELS = ("books", "books5", "books15", "trade")
PRODUCT_TYPES = ("USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES",
                 "SUSDT-FUTURES", "SCOIN-FUTURES", "SUSDC-FUTURES")   # S*: demo trading
OK = "00000"


class BitgetFeed(Feed):
    venue = "bitget"
    ws_path = "/v2/ws/public"

    def __init__(self, vs, clock, seed=0) -> None:
        super().__init__(vs, clock, seed)
        self.add_view("books", None, primary=True)
        self.add_view("books5", 5)
        self.add_view("books15", 15)
        self.seq = SEQ_BASE
        self.trade_id = TRADE_ID_BASE
        self.recent: collections.deque = collections.deque(maxlen=TRADES_KEPT)
        self.trade = BitgetTrade(self)      # authenticated REST and the private stream (sim_trade.py)

    def view_seq(self, channel):
        return self.seq if channel == "books" else None

    def ws_routes(self):
        return (self.ws_path, PRIVATE_PATH)

    def private_routes(self):
        return self.trade.routes()

    def book_channels(self):
        return ["books"]

    # -- rendering ------------------------------------------------------------------------
    def _lv(self, levels) -> list[list[str]]:
        return [[self.spec.px(p), self.spec.qty(q)] for p, q in levels]

    def _checksum(self, view: DepthView) -> int:
        b, a = view.top()
        return checksum.okx(self._lv(b[:25]), self._lv(a[:25]))

    def _arg(self, channel: str) -> dict:
        return {"instType": "SPOT", "channel": channel, "instId": self.symbol}

    def _push(self, channel: str, action: str, data: list, t_ns: int) -> str:
        return fmt.compact({"action": action, "arg": self._arg(channel), "data": data, "ts": fmt.ms(t_ns)})

    def _books(self, action: str, bids, asks, t_ns: int, cs: int) -> str:
        return self._push("books", action, [{"asks": self._lv(asks), "bids": self._lv(bids), "checksum": cs,
                                             "seq": self.seq, "ts": str(fmt.ms(t_ns))}], t_ns)

    def snapshot(self, t_ns: int) -> str:
        view = self.views["books"]
        b, a = view.top()
        return self._books("snapshot", b, a, t_ns, self._checksum(view))

    def _whole(self, channel: str, t_ns: int) -> str:
        b, a = self.views[channel].top()
        return self._push(channel, "snapshot", [{"asks": self._lv(a), "bids": self._lv(b), "checksum": 0,
                                                 "ts": str(fmt.ms(t_ns))}], t_ns)

    # -- publishing -----------------------------------------------------------------------
    def publish(self, t_ns: int) -> list[Event]:
        out: list[Event] = []
        fills = self.take_fills()
        if fills:
            out.append(("trade", self._trades(fills)))
        if self.step_no % BOOKS_EVERY:
            return out
        view = self.views["books"]
        if view.changed():
            bids, asks = view.diff()
            if bids or asks:
                self.seq += len(bids) + len(asks)     # seq increases, not necessarily by 1
                view.record(self.seq, t_ns)
                if not self.drop_book_message("books"):
                    cs = self.corrupt("books", self._checksum(view), signed=True)
                    out.append(("books", self._books("update", bids, asks, t_ns, cs)))
        for ch in ("books5", "books15"):
            v = self.views[ch]
            if v.changed() and any(v.diff()):
                v.record(None, t_ns)
                out.append((ch, self._whole(ch, t_ns)))
        return out

    def _trades(self, fills: list[Fill]) -> str:
        data = []
        for f in fills:
            self.trade_id += 1
            t = {"ts": str(fmt.ms(f.ts_ns)), "price": self.spec.px(f.price), "size": self.spec.qty(f.qty),
                 "side": "buy" if f.side == BUY else "sell", "tradeId": str(self.trade_id)}
            data.append(t)
            self.recent.appendleft(t)
        return self._push("trade", "update", data, self.clock())

    # -- connections ----------------------------------------------------------------------
    def _error(self, conn: Conn, code: int, msg: str, arg: Any = None) -> None:
        obj: dict = {"event": "error"}
        if arg is not None:
            obj["arg"] = arg
        obj.update({"code": code, "msg": msg})
        conn.send(fmt.compact(obj))

    def on_text(self, conn: Conn, text: str) -> None:
        if self.faults.silent(self.clock()):
            return
        if text == "ping":
            conn.send("pong")
            return
        req = self.request(conn, text, fmt.compact({"event": "error", "code": 30016, "msg": "Param error"}))
        if req is None:
            return
        if conn.path == PRIVATE_PATH:
            self.trade.on_text(conn, req)
            return
        op, args = req.get("op"), req.get("args")
        if op not in ("subscribe", "unsubscribe") or not isinstance(args, list) or not args:
            self._error(conn, 30016, "Param error")
            return
        for arg in args:
            arg = arg if isinstance(arg, dict) else {}
            ch, it, inst = arg.get("channel"), arg.get("instType"), arg.get("instId")
            if ch not in CHANNELS or it != "SPOT" or inst != self.symbol:
                self._error(conn, 30001, f"instType:{it},channel:{ch},instId:{inst} doesn't exist", arg)
                continue
            conn.send(fmt.compact({"event": op, "arg": self._arg(ch)}))
            if op == "unsubscribe":
                conn.unsubscribe(ch)
                continue
            conn.subscribe(ch)
            now = self.clock()
            if ch == "books":
                conn.send(self.snapshot(now))
            elif ch in ("books5", "books15"):
                conn.send(self._whole(ch, now))
            else:
                conn.send(self._push("trade", "snapshot", list(self.recent), now))

    # -- REST -----------------------------------------------------------------------------
    def _env(self, data: Any, code: str = OK, msg: str = "success") -> tuple[int, Any]:
        return (200 if code == OK else 400), {"code": code, "msg": msg, "requestTime": fmt.ms(self.clock()),
                                               "data": data}

    def symbol_info(self) -> dict:
        s = self.spec
        return {"symbol": s.symbol, "baseCoin": s.base, "quoteCoin": s.quote, "minTradeAmount": "0",
                "maxTradeAmount": "900000000000000000000", "takerFeeRate": "0.001", "makerFeeRate": "0.001",
                "pricePrecision": str(s.price_dec), "quantityPrecision": str(s.qty_dec), "quotePrecision": "8",
                "status": "online", "minTradeUSDT": "1", "buyLimitPriceRatio": "0.05",
                "sellLimitPriceRatio": "0.05", "areaSymbol": "no", "orderQuantity": "200", "openTime": ""}

    def _symbols(self, query: dict, _body):
        sym = query.get("symbol")
        if sym and sym != self.symbol:
            return self._env(None, "40034", "Parameter does not exist")
        return self._env([self.symbol_info()])

    def _contracts(self, query: dict, _body):
        if query.get("productType", "").upper() not in PRODUCT_TYPES:
            return self._env(None, "40019", "Parameter productType cannot be empty")
        if query.get("productType", "").upper() == FUTURES_PRODUCT and query.get("symbol") in (None, "", self.symbol):
            return self._env([self.trade.futures.contract()])     # the simulated contract (sim_futures.py)
        return self._env([])

    def _coins(self, query: dict, _body):
        coins = [c for c in (self.spec.base, self.spec.quote) if query.get("coin") in (None, c)]
        return self._env([{"coinId": str(i + 1), "coin": c, "transfer": "true", "chains": [{
            "chain": c, "needTag": "false", "withdrawable": "true", "rechargeable": "true", "withdrawFee": "0.0001",
            "extraWithdrawFee": "0", "depositConfirm": "1", "withdrawConfirm": "1", "minDepositAmount": "0.0001",
            "minWithdrawAmount": "0.001", "browserUrl": "", "contractAddress": "", "withdrawStep": "0",
            "withdrawMinScale": "8", "congestion": "normal"}], "areaCoin": "no"} for i, c in enumerate(coins)])

    def _margin_currencies(self, _query: dict, _body):
        s = self.spec
        return self._env([{
            "symbol": s.symbol, "baseCoin": s.base, "quoteCoin": s.quote, "maxCrossedLeverage": "3",
            "maxIsolatedLeverage": "10", "warningRiskRatio": "0.8", "liquidationRiskRatio": "1",
            "minTradeAmount": "0", "maxTradeAmount": "900000000000000000000", "takerFeeRate": "0.001",
            "makerFeeRate": "0.001", "pricePrecision": str(s.price_dec), "quantityPrecision": str(s.qty_dec),
            "minTradeUSDT": "5", "isBorrowable": True, "userMinBorrow": "0.00000001", "status": "1",
            "isIsolatedBaseBorrowable": True, "isIsolatedQuoteBorrowable": True, "isCrossBorrowable": True}])

    def rest_routes(self):
        return {
            ("GET", "/api/v2/margin/currencies"): self._margin_currencies,
            ("GET", "/api/v2/spot/public/coins"): self._coins,
            ("GET", "/api/v2/spot/public/symbols"): self._symbols,
            ("GET", "/api/v2/mix/market/contracts"): self._contracts,
            ("GET", "/api/v2/public/time"): lambda q, b: self._env(
                {"serverTime": str(fmt.ms(self.clock()))}),
        }


SIM = SimVenue(BitgetFeed, Flow(18.0, 0.07, 20, 0.30, 0.5), instruments={
    # Get Symbol Info: BTCUSDT pricePrecision 2, quantityPrecision 6; ETHUSDT 2 and 4.
    "BTC": SimInstrument("bitget", "BTCUSDT", "BTC", "USDT", 2, 1, 6, 1, "1", 2, 6),
    "ETH": SimInstrument("bitget", "ETHUSDT", "ETH", "USDT", 2, 1, 4, 1, "1", 2, 4),
})
