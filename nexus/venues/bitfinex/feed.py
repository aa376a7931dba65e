"""Bitfinex WebSocket v2, public: where to connect and what to send. Sources: Bitfinex API
docs, WebSocket > General (public URL wss://api-pub.bitfinex.com/ws/2; `conf` flags; the
`ping` event answered by `pong`; heartbeats every 15 s per channel), Public Channels > Books
and Trades, REST Public > Configs (instruments).

On opening: `conf` with SEQ_ALL + OB_CHECKSUM (sequence numbers and book checksums), then the
P0 book (25 levels a side, real time) and the trades of the pair. The canonical symbol
`BTCUSDT` is Bitfinex's `tBTCUSD` (USD, as for Coinbase and Kraken); a Bitfinex symbol given
as such (`tBTCUST`, `tDOGE:USD`) is used unchanged."""

from __future__ import annotations

from nexus.venues.bitfinex.data import FLAG_OB_CHECKSUM, FLAG_SEQ_ALL
from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol

BOOK_LEN = "25"
PING_IDLE_S = 20


def symbol_of(canonical: str) -> str:
    if canonical[:1] == "t" and canonical[1:2].isupper():
        return canonical  # already Bitfinex's spelling
    base, quote = split_symbol(canonical.upper())
    quote = "USD" if quote == "USDT" else quote
    return f"t{base}{quote}" if len(base) == 3 and len(quote) == 3 else f"t{base}:{quote}"


FEED = FeedSpec(
    "bitfinex",
    "wss://api-pub.bitfinex.com/ws/2",
    "https://api-pub.bitfinex.com",
    symbol_of,
    lambda sym: [
        compact_json({"event": "conf", "flags": FLAG_SEQ_ALL + FLAG_OB_CHECKSUM}),
        compact_json({"event": "subscribe", "channel": "book", "symbol": sym, "prec": "P0", "freq": "F0",
                      "len": BOOK_LEN}),
        compact_json({"event": "subscribe", "channel": "trades", "symbol": sym}),
    ],
    Heartbeat(PING_IDLE_S, compact_json({"event": "ping", "cid": 1}), b'"pong"'),
    instruments_path=lambda sym: "/v2/conf/pub:info:pair",
)
