"""Hyperliquid perpetuals: the `l2Book` and `trades` WebSocket subscriptions, metadata from
`POST /info {"type": "meta"}` (szDecimals per coin).

Sources: Hyperliquid docs, For developers > API > Websocket > Subscriptions (WsBook,
WsLevel, WsTrade, the subscriptionResponse and pong messages) and Info endpoint >
Perpetuals > "Retrieve perpetuals metadata"; tick and lot sizes from the docs' "Tick and lot
size" rules: sizes have szDecimals decimals, prices at most 6 - szDecimals decimals (and 5
significant figures, which this finest grid contains).

Sync rules: "every l2Book push is a full snapshot" (WsBook, "Snapshot feed, pushed on each
block"): each one replaces the book; `levels` is [bids, asks], each best first. There is no
sequence number; a push whose `time` is older than the last applied one is stale and
ignored. There is no checksum.
HIP-3 (builder-deployed perp dexs, Info endpoint > Perpetuals "Retrieve all perpetual dexs"
and the `dex` field of "Retrieve perpetuals metadata"): a dex's assets are named
"<dex>:<coin>" ("xyz:XYZ100") in its meta universe, in l2Book and in trades; they follow the
same tick and lot rules (perps: 6 - szDecimals price decimals) and the same sync rules.
A meta body for an unknown dex is `null`: refused as metadata.
Trades: `side` is the aggressor's side, "B" (bid: the taker bought) or "A" (ask: the taker
sold); `tid` is the trade id.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nexus import _native

from nexus.exceptions import DecodeError
from nexus.instruments import Instrument
from nexus.venues.base import CONTROL, Decoder, fast_segment, Segment, SegKind, TradeFields, ms_to_ns, object_columns
from nexus.venues.booksync import BookState, Sync

_BOOK, _TRADES = SegKind.BOOK, SegKind.TRADES

VENUE = "hyperliquid"
PRICE_DECIMALS_PERP_MAX = 6


def instrument(coin: str, sz_decimals: int) -> Instrument:
    if type(sz_decimals) is not int or not 0 <= sz_decimals <= PRICE_DECIMALS_PERP_MAX:
        raise DecodeError(f"{coin}: szDecimals {sz_decimals!r} is not between 0 and 6")
    pd = PRICE_DECIMALS_PERP_MAX - sz_decimals
    tick = "1" if pd == 0 else "0." + "0" * (pd - 1) + "1"
    lot = "1" if sz_decimals == 0 else "0." + "0" * (sz_decimals - 1) + "1"
    return Instrument(VENUE, coin, tick, lot, "1", "linear", coin, "USDC")


TRADE_FIELDS = TradeFields("coin", "time", ms_to_ns, "px", "sz", "side", "B", "A", "tid")  # side: the taker's


# The native fast path for l2Book and trades pushes (native/src/core/hyperliquid.rs); None in a
# build that predates it (then every message takes the general path).
hyperliquid_message = getattr(_native, "hyperliquid_message", None)
_PUSH_PREFIX = b'{"channel":"'


class HyperliquidDecoder(Decoder):
    venue = VENUE

    def decode(self, raw, out, ts_local_ns: int = 0) -> list[Segment]:
        """A well-formed l2Book or trades push goes through the native fast path
        (native/src/core/hyperliquid.rs): parsed and written into `out` in Rust. Anything else,
        or anything unusual in it, takes the general path, which accepts and rejects exactly the
        same messages (the fast path only declines, never decides)."""
        if hyperliquid_message is not None and type(raw) is bytes and raw.startswith(_PUSH_PREFIX):
            got = self._native_fast(hyperliquid_message, raw, out, ts_local_ns)
            if got is not None:
                r, e = got
                if r[0] == "book":
                    return [fast_segment(_BOOK, e.inst, r[1], True, None, None, None, None, r[2], None)]
                return [fast_segment(_TRADES, e.inst, r[1], False, None, None, None, None, r[2], list(map(str, r[3])))]
        return super().decode(raw, out, ts_local_ns)

    def _decode(self, doc: Any) -> list[Segment]:
        if type(doc) is not dict:
            raise DecodeError("expected a JSON object")
        channel = doc.get("channel")
        if channel == "l2Book":
            return self._book(doc["data"])
        if channel == "trades":
            return self._trades(doc["data"])
        if channel in ("subscriptionResponse", "pong", "error", "allMids", "bbo", "candle", "notification"):
            return [CONTROL]
        if channel is None and type(doc.get("universe")) is list:  # meta body
            self._metadata(doc)
            return [CONTROL]
        raise DecodeError("not a Hyperliquid message this decoder knows (channel l2Book, trades, ...)")

    def _book(self, d: Any) -> list[Segment]:
        if type(d) is not dict:
            raise DecodeError("l2Book 'data' is not an object")
        e = self._ent(d["coin"])
        levels = d["levels"]
        if type(levels) is not list or len(levels) != 2:
            raise DecodeError("'levels' is not [bids, asks]")
        ts = ms_to_ns(d["time"])
        bp, bq = object_columns(levels[0], "bids", "px", "sz")
        ap, aq = object_columns(levels[1], "asks", "px", "sz")
        stop = self._put_book(0, e, bp, bq, ap, aq, ts, 0, True)
        return [Segment(SegKind.BOOK, e.inst, 0, stop, snapshot=True, ts_exchange_ns=ts)]

    def _trades(self, data: Any) -> list[Segment]:
        return self._trade_message(data, "trades 'data'", TRADE_FIELDS)

    def _metadata(self, doc: Any) -> int:
        if type(doc) is list and len(doc) == 2 and type(doc[0]) is dict:  # metaAndAssetCtxs: [meta, ctxs]
            doc = doc[0]
        if doc is None:
            raise DecodeError("meta is null: the venue knows no such dex")
        n = 0
        for a in doc["universe"]:
            self.set_instrument(instrument(a["name"], a["szDecimals"]))
            n += 1
        return n


class HyperliquidSync(Sync):
    venue = VENUE

    def on_book(self, st: BookState, seg: Segment, batch: np.ndarray) -> None:
        if st.last_ts is not None and seg.ts_exchange_ns < st.last_ts:
            st.dropped += 1
            return
        self.apply(st, seg, batch)
        st.synced = True
        st.last_ts = seg.ts_exchange_ns


Decoder = HyperliquidDecoder
Sync = HyperliquidSync
