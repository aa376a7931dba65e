"""`nexus bench peers`, decoding by NautilusTrader's own venue schemas and parsers (the msgspec
decoders and parse_to_* methods of nautilus_trader.adapters.<venue>.schemas), dispatched as its
data client's WebSocket handler does, the deltas applied to its OrderBook(L2_MBP) as its data
engine does. The data client itself needs a live message bus, cache, clock and HTTP client:
its handler's few lines of dispatch are repeated here, nothing else."""

from __future__ import annotations

import time
from decimal import Decimal

from nexus.bench.peers.common import Prepared, check_decode, clock_ns, missing, version_of
from nexus.bench.peers.frames import SimFrames


NAUTILUS_DECODE_NOTE = (
    "not measured: NautilusTrader 1.221's adapter for this venue parses in Rust inside its pyo3 WebSocket "
    "client (nautilus_pyo3.OKXWebSocketClient / HyperliquidWebSocketClient hand Python parsed objects); "
    "nautilus_pyo3 exposes no parser that takes a raw frame offline")
NAUTILUS_VENUES = ("binance-spot", "binance-perp", "bybit-perp")   # its Python schemas parse these offline
NAUTILUS_NOTES = {
    "coinbase": "not measured: NautilusTrader 1.221 has no Coinbase (Advanced Trade) adapter, only Coinbase INTX",
    "kraken": "not measured: NautilusTrader 1.221 has no Kraken adapter",
}


def _decimals(step: str) -> int:
    return len(step.split(".", 1)[1].rstrip("0")) if "." in step and step.split(".", 1)[1].rstrip("0") else 0


def _binance(venue: str, sim: SimFrames, now):
    """Its Binance data client's handler: the stream name picks the schema; deltas are buffered
    until the REST snapshot, then those after the snapshot's sequence are applied."""
    import msgspec
    from nautilus_trader.adapters.binance.common.schemas.market import (
        BinanceAggregatedTradeMsg,
        BinanceDataMsgWrapper,
        BinanceDepth,
        BinanceOrderBookMsg,
    )
    from nautilus_trader.model.identifiers import InstrumentId

    iid = InstrumentId.from_str("BTCUSDT.BINANCE" if venue == "binance-spot" else "BTCUSDT-PERP.BINANCE")
    wrap, dbook = msgspec.json.Decoder(BinanceDataMsgWrapper), msgspec.json.Decoder(BinanceOrderBookMsg)
    dtrade, ddepth = msgspec.json.Decoder(BinanceAggregatedTradeMsg), msgspec.json.Decoder(BinanceDepth)
    frames, snap_at = sim.frames, sim.snapshot_at
    api = ("nautilus_trader.adapters.binance schemas: BinanceDataMsgWrapper -> BinanceOrderBookMsg."
           "data.parse_to_order_book_deltas / BinanceAggregatedTradeMsg.data.parse_to_trade_tick; REST "
           "BinanceDepth.parse_to_order_book_snapshot, buffered deltas replayed after it as its data client "
           "does; OrderBook.apply_deltas")

    def one(book, trades):
        buffer: list | None = []
        for i, raw in enumerate(frames):
            if i == snap_at:
                snap = ddepth.decode(sim.snapshot).parse_to_order_book_snapshot(iid, now())
                book.apply_deltas(snap)
                for d in buffer:
                    if d.sequence > snap.sequence:
                        book.apply_deltas(d)
                buffer = None
            stream = wrap.decode(raw).stream
            if not stream:
                continue
            if "@depth" in stream:
                d = dbook.decode(raw).data.parse_to_order_book_deltas(iid, now())
                if buffer is not None:
                    buffer.append(d)
                else:
                    book.apply_deltas(d)
            elif "@aggTrade" in stream:
                trades.append(dtrade.decode(raw).data.parse_to_trade_tick(iid, now()))
    return iid, api, one


def _bybit(sim: SimFrames, now):
    """Its Bybit data client's handler: the general message's topic picks the schema; prices and
    sizes at the instrument's precisions (from the simulator's instrument listing)."""
    import json

    import msgspec
    from nautilus_trader.adapters.bybit.schemas.ws import (
        BybitWsMessageGeneral,
        decoder_ws_orderbook,
        decoder_ws_trade,
    )
    from nautilus_trader.core.datetime import millis_to_nanos
    from nautilus_trader.model.identifiers import InstrumentId

    info = json.loads(sim.rest("GET", "/v5/market/instruments-info", {"category": "linear", "symbol": "BTCUSDT"}))
    item = info["result"]["list"][0]
    pp, sp = _decimals(item["priceFilter"]["tickSize"]), _decimals(item["lotSizeFilter"]["qtyStep"])
    iid = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")
    gen, dbook, dtrade = msgspec.json.Decoder(BybitWsMessageGeneral), decoder_ws_orderbook(), decoder_ws_trade()
    frames = sim.frames
    api = ("nautilus_trader.adapters.bybit.schemas.ws: BybitWsMessageGeneral -> BybitWsOrderbookDepthMsg."
           "data.parse_to_deltas / BybitWsTradeMsg data.parse_to_trade_tick (the instrument's precisions), "
           "dispatched as BybitDataClient._handle_ws_message does; OrderBook.apply_deltas")

    def one(book, trades):
        for raw in frames:
            m = gen.decode(raw)
            if m.success is False or not m.topic:
                continue
            if "orderbook" in m.topic:
                msg = dbook.decode(raw)
                book.apply_deltas(msg.data.parse_to_deltas(iid, pp, sp, millis_to_nanos(msg.ts), now(),
                                                           snapshot=msg.type == "snapshot"))
            elif "publicTrade" in m.topic:
                for t in dtrade.decode(raw).data:
                    trades.append(t.parse_to_trade_tick(iid, pp, sp, now()))
    return iid, api, one


def decode(venue: str, sim: SimFrames, nexus: dict):
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.enums import BookType

    now = time.time_ns    # the client stamps ts_init from its clock per message
    if venue.startswith("binance"):
        iid, api, one = _binance(venue, sim, now)
    elif venue == "bybit-perp":
        iid, api, one = _bybit(sim, now)
    else:
        return missing("nautilus_trader", NAUTILUS_NOTES.get(venue, NAUTILUS_DECODE_NOTE))

    def run():
        book, trades = OrderBook(iid, BookType.L2_MBP), []
        t0 = clock_ns()
        one(book, trades)
        return clock_ns() - t0, (book, trades)

    _, (book, trades) = run()
    got = ([(Decimal(str(lv.price)), Decimal(str(lv.size()))) for lv in book.bids()],
           [(Decimal(str(lv.price)), Decimal(str(lv.size()))) for lv in book.asks()])
    tr = [(Decimal(str(t.price)), Decimal(str(t.size))) for t in trades]
    bad, nexus_only = check_decode("nautilus_trader", got, tr, nexus)
    if bad:
        return bad
    return Prepared("nautilus_trader", version_of("nautilus_trader"), api, lambda: run()[0], len(sim.frames),
                    len(tr), nexus_only)
