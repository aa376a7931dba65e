"""Deribit API v2: where to connect and what to subscribe. Sources (https://docs.deribit.com/):
public/subscribe, public/set_heartbeat ("the server will send a heartbeat ... with
type test_request ... the client should respond with public/test"; interval at least 10 s),
book.(instrument_name).(interval), trades.(instrument_name).(interval), public/get_order_book
(the poll path, `nexus run --poll deribit=SECONDS`), public/get_instruments.

`--symbol BTCUSDT` maps to the inverse perpetual BTC-PERPETUAL (Deribit quotes it in USD), and
BTCUSDC to the linear BTC_USDC-PERPETUAL; a Deribit instrument name (an option such as
BTC-27DEC26-100000-C, a future) is used as given. The `100ms` book interval is the public one
(`raw` needs an authorised connection)."""

from __future__ import annotations

from nexus.venues.deribit.data import throttled
from nexus.venues.registry import FeedSpec, Heartbeat, compact_json, split_symbol

HEARTBEAT_INTERVAL_S = 30  # public/set_heartbeat interval (the venue's minimum is 10)
POLL_DEPTH = 50
BOOK_INTERVAL = "100ms"


def instrument_name(canonical: str) -> str:
    if "-" in canonical or "_" in canonical:
        return canonical  # already a Deribit instrument name
    base, quote = split_symbol(canonical)
    if quote in ("USDC",):
        return f"{base}_USDC-PERPETUAL"
    return f"{base}-PERPETUAL"


def _currency(sym: str) -> str:
    return sym.split("-")[0].split("_")[0]


def _kind(sym: str) -> str:
    parts = sym.split("-")
    if len(parts) == 4:
        return "option"
    return "future"


TEST = compact_json({"jsonrpc": "2.0", "id": 2, "method": "public/test", "params": {}})

FEED = FeedSpec(
    "deribit",
    "wss://www.deribit.com/ws/api/v2",
    "https://www.deribit.com",
    instrument_name,
    lambda sym: [
        compact_json({"jsonrpc": "2.0", "id": 1, "method": "public/set_heartbeat",
                      "params": {"interval": HEARTBEAT_INTERVAL_S}}),
        compact_json({"jsonrpc": "2.0", "id": 3, "method": "public/subscribe",
                      "params": {"channels": [f"book.{sym}.{BOOK_INTERVAL}", f"trades.{sym}.{BOOK_INTERVAL}"]}}),
    ],
    # Idle: public/test as a ping (its answer holds "version"); the server's test_request is
    # answered with public/test.
    Heartbeat(20, TEST, b'"version"', answer_marker=b'"test_request"', answer=TEST),
    instruments_path=lambda sym: f"/api/v2/public/get_instruments?currency={_currency(sym)}&kind={_kind(sym)}",
    poll_path=lambda sym: f"/api/v2/public/get_order_book?instrument_name={sym}&depth={POLL_DEPTH}",
    poll_throttled=throttled,
)
