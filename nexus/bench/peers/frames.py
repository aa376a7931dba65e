"""`nexus bench peers`, venue decoding: the frames every library reads (one venue's simulated
market rendered for one client connection, its subscriptions answered by the simulator), and
Nexus's side: decode only, and decode + the venue's sync rules + the native book, with the
final book and trades kept for the peers' equality check."""

from __future__ import annotations

from decimal import Decimal

from nexus import record
from nexus.bench.peers.common import clock_ns

# -- venue message decoding ----------------------------------------------------------------------
DECODE_SECONDS = 30.0     # simulated seconds of traffic per venue (--quick: 5)
SUBSCRIBE_STEP = 100      # a subscribing client connects 1 s into the simulated market


class SimFrames:
    """One venue's simulated market as one subscribing client receives it: `frames`, the
    WebSocket frames of the peers' connection in order; `nexus_lines`, the same market events
    as Nexus's own connection receives them (Binance: Nexus's FeedSpec connects to /ws and gets
    raw events, the peers connect to the combined /stream endpoint and get them wrapped in
    {"stream","data"}; elsewhere the same bytes), with the REST depth snapshot where a client
    fetches it (`snapshot`, after `snapshot_at` frames); and the REST routes of the same market
    (instrument listings)."""

    def __init__(self, venue: str, seconds: float, keep, conn_state: dict | None = None,
                 snapshot_query: tuple[str, dict] | None = None, subscribe: tuple[str, ...] = (),
                 path: str = "", seed: int = 1) -> None:
        from nexus.bench.feeds import _BenchConn, _Capture, bench_symbol
        from nexus.sim.core import SimCore

        self.venue, self.symbol = venue, bench_symbol(venue)
        self.eng = SimCore(seed=seed, venues=[venue], patterns=False, symbol=self.symbol)
        self.feed = self.eng.feeds[venue]
        cap = _Capture()
        self.eng.sink = cap
        conn, own = _BenchConn(venue), _BenchConn(venue)     # the peers' connection, Nexus's
        conn.state.update(conn_state or {})
        conn.path = path
        self.frames: list[bytes] = []
        self.nexus_lines: list[bytes] = []
        self.snapshot: bytes | None = None
        self.snapshot_at = -1
        for step in range(int(seconds * 100)):     # SimCore steps are 10 ms of simulated time
            self.eng.step()
            if subscribe and step < SUBSCRIBE_STEP:   # not connected yet: nothing received
                cap.events.pop(venue, None)
                continue
            if subscribe and step == SUBSCRIBE_STEP:  # the client's subscriptions: acks and snapshots
                self.feed.on_open(conn)
                for text in subscribe:
                    self.feed.on_text(conn, text)
                self.frames += conn.sent
                self.nexus_lines += conn.sent
                conn.sent.clear()
            for channel, payload in cap.events.pop(venue, []):
                if keep(channel):
                    got = self._render(conn, channel, payload)
                    self.frames += got
                    # rendered once per connection (a render may number the connection's messages)
                    self.nexus_lines += self._render(own, channel, payload) if conn_state else got
            if step == 20 and snapshot_query is not None:   # fetched 200 ms in, as a client does
                self.snapshot = self.rest("GET", *snapshot_query)
                self.snapshot_at = len(self.frames)
                self.nexus_lines.append(self.snapshot)

    def _render(self, conn, channel: str, payload) -> list[bytes]:
        if isinstance(payload, tuple):
            try:
                payload = self.feed.render(conn, channel, payload)
            except Exception:  # a template this connection would not be sent
                conn.sent.clear()
                return []
        else:
            payload = self.feed.render(conn, channel, payload)
        out = [p.encode() if isinstance(p, str) else bytes(p) for p in [*conn.sent, payload] if p is not None]
        conn.sent.clear()
        return out

    def rest(self, method: str, path: str, query: dict | None = None, body=None) -> bytes:
        import json

        routes = self.feed.rest_routes()
        status, payload = routes[(method, path)](query or {}, body)
        if status != 200:
            raise RuntimeError(f"{self.venue} sim {path}: HTTP {status}: {payload}")
        if isinstance(payload, (bytes, bytearray)):
            return bytes(payload)
        return (payload if isinstance(payload, str) else json.dumps(payload)).encode()


def nexus_decode(venue: str, sim: SimFrames) -> dict:
    """Nexus on the frames: its final book and trades for the peers' check, and two passes to
    time: decode only (records into a reused batch), and decode + the venue's sync rules + the
    native book (the job a peer's feed handler does)."""
    from nexus.exceptions import BatchFull, DecodeError
    from nexus.feeds.lines import infer_instruments
    from nexus.venues.base import DEFAULT_BATCH_RECORDS, SegKind
    from nexus.venues.booksync import Sync
    from nexus.venues.registry import canonical_symbol, load

    from nexus.bench.feeds import spec

    mod = load(venue)
    rest_symbol = canonical_symbol(venue, spec(venue).symbol_of(sim.symbol))
    lines = sim.nexus_lines
    _TRADES = SegKind.TRADES

    def fresh():
        dec = mod.Decoder()
        dec.rest_symbol = rest_symbol
        infer_instruments(mod, dec, rest_symbol, lines)
        return dec

    def one_pass(with_book: bool):
        dec = fresh()
        sync = mod.Sync(dec) if with_book else None
        if sync is not None:
            sync.fuse()  # the steady state in one native call where the venue has it
        feed = sync.feed if with_book else None
        # a lone trade segment skips the sync rules when they are the base ones (they ignore
        # trades), as the feed handler does (nexus/feeds/handler.py `_trades_skip_sync`)
        skip_trades = with_book and type(sync).feed is Sync.feed
        batch = record.empty(DEFAULT_BATCH_RECORDS)
        decode = dec.decode
        rejected = 0
        t0 = clock_ns()
        for raw in lines:
            while True:
                try:
                    segs = decode(raw, batch)
                except BatchFull as e:
                    batch = record.empty(max(e.needed, 2 * len(batch)))
                    continue
                except DecodeError:
                    rejected += 1
                    segs = ()
                break
            if feed is not None and segs:
                if skip_trades and len(segs) == 1 and segs[0].kind is _TRADES:
                    continue
                feed(segs, batch)
        dt = clock_ns() - t0
        return dt, (dec, sync, rejected)

    _, (_, _, rejected) = one_pass(False)
    _, (dec, sync, _) = one_pass(True)
    # the check pass (not timed): final book and every trade, as decimals
    trades = []
    batch = record.empty(DEFAULT_BATCH_RECORDS)
    d2 = fresh()
    for raw in lines:
        try:
            segs = d2.decode(raw, batch)
        except (BatchFull, DecodeError):
            continue
        for seg in segs or ():
            if seg.inst is None:
                continue
            recs = batch[seg.start:seg.stop]
            for r in recs[recs["kind"] == record.Kind.TRADE]:
                trades.append((Decimal(int(r["price"])).scaleb(-seg.inst.price_exponent),
                               Decimal(int(r["qty"])).scaleb(-seg.inst.qty_exponent)))
    res = sync.result(rest_symbol, 0) if rest_symbol in sync.books else {"bids": [], "asks": []}
    book = ([(Decimal(p), Decimal(q)) for p, q in res["bids"]], [(Decimal(p), Decimal(q)) for p, q in res["asks"]])
    return {"frames": len(lines), "rejected": rejected, "_book": book, "_trades": trades,
            "_once_decode": lambda: one_pass(False)[0], "_once_book": lambda: one_pass(True)[0]}


class FrameCase:
    """The frames of one venue and how cryptofeed reads them: its feed class and symbol (empty
    where it has no feed), the channels subscribed (the simulator's channel names kept in the
    frames), the connection opened (Binance: the combined-stream endpoint; Bybit: the linear
    endpoint; Kraken: its WebSocket v2 path) and the subscriptions sent (written here in the
    venue's documented form, the same requests the clients send); `depth`: the book levels the
    subscription keeps (compared up to it; 0: the whole book)."""

    def __init__(self, cls: str, symbol: str, channels: tuple[str, ...], kw: dict | None = None,
                 conn_state: dict | None = None, snapshot: tuple[str, dict] | None = None,
                 subscribe: tuple[str, ...] = (), address: str = "", known: str = "", path: str = "",
                 depth: int = 0) -> None:
        self.known = known    # a known reason the peer's output differs, said when it does
        self.path, self.depth = path, depth
        self.cls_name, self.symbol, self.channels = cls, symbol, channels
        self.kw, self.conn_state, self.snapshot = kw or {}, conn_state or {}, snapshot
        self.subscribe, self.address = subscribe, address

    @property
    def cls(self):
        import cryptofeed.exchanges as x

        return getattr(x, self.cls_name)

    def keep(self, channel: str) -> bool:
        return channel in self.channels


CRYPTOFEED_CASES = {
    "binance-spot": FrameCase("Binance", "BTC-USDT", ("btcusdt@depth@100ms", "btcusdt@aggTrade"),
                            conn_state={"combined": True},
                            snapshot=("/api/v3/depth", {"symbol": "BTCUSDT", "limit": "1000"})),
    "binance-perp": FrameCase("BinanceFutures", "BTC-USDT-PERP", ("btcusdt@depth@100ms", "btcusdt@aggTrade"),
                            conn_state={"combined": True},
                            snapshot=("/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "1000"})),
    "bybit-perp": FrameCase("Bybit", "BTC-USDT-PERP", ("orderbook.200.BTCUSDT", "publicTrade.BTCUSDT"),
                          subscribe=('{"op":"subscribe","args":["orderbook.200.BTCUSDT","publicTrade.BTCUSDT"]}',),
                          address="wss://stream.bybit.com/v5/public/linear"),
    "okx-swap": FrameCase("OKX", "BTC-USDT-PERP", ("books:BTC-USDT-SWAP", "trades:BTC-USDT-SWAP"),
                        subscribe=('{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT-SWAP"},'
                                   '{"channel":"trades","instId":"BTC-USDT-SWAP"}]}',)),
    "coinbase": FrameCase("Coinbase", "BTC-USD", ("level2:BTC-USD", "market_trades:BTC-USD"),
                        # cryptofeed 2.4.1 signs Coinbase subscriptions with a legacy key from its
                        # config (public channels ignore it): a made-up one is given
                        kw={"config": {"coinbase": {"key_id": "public", "key_secret": "public"}}},
                        subscribe=('{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}',
                                   '{"type":"subscribe","product_ids":["BTC-USD"],"channel":"market_trades"}'),
                        known="cryptofeed 2.4.1's level2 snapshot parser keeps the levels whose side is 'ask', "
                              "but Coinbase Advanced Trade sends 'bid' and 'offer' (https://docs.cdp.coinbase.com/"
                              "api-reference/advanced-trade-api/websocket/level2): the snapshot's asks are dropped and "
                              "its ask side holds only the levels updated since"),
}


# The frames every library reads, per venue: cryptofeed's subscription where it has a feed for
# the venue, else the subscription the venue documents for its book and trades.
FRAME_CASES = {
    **CRYPTOFEED_CASES,
    # Kraken's WebSocket v2 (Nexus's and ccxt pro's), book depth 10 as Nexus's FeedSpec subscribes
    "kraken": FrameCase("", "", ("book:10:BTC/USD", "trade:BTC/USD"), path="/v2", depth=10,
                        # the instrument channel first, as Nexus's FeedSpec: the precisions its checksum needs
                        subscribe=('{"method":"subscribe","params":{"channel":"instrument"}}',
                                   '{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10}}',
                                   '{"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"]}}')),
    "hyperliquid": FrameCase("", "", ("l2Book:BTC", "trades:BTC"),
                           subscribe=('{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}',
                                      '{"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}}')),
}
