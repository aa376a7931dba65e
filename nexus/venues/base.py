"""What every venue decoder shares: the decoded-message `Segment` and the `Decoder` base (one
reusable pysimdjson parser, instrument resolution, records written into a caller-owned
batch). The book-keeping side, `Sync`, is in nexus/venues/booksync.py.

Data flow, one raw message at a time::

    segments = decoder.decode(raw, batch)     # records in batch[0:n], described by segments
    sync.feed(segments, batch)                # the venue's sequence / checksum rules
    sync.books["BTCUSDT"].book                # nexus._native.Book, correct or marked unsynced

`decode` overwrites the batch from index 0 on every call: consume (apply, publish, copy)
the records before decoding the next message. It never changes any state on a malformed
message: it raises `DecodeError` and the caller counts and skips it.

Records of one message: a book snapshot is a BOOK_CLEAR record followed by its levels, all
flagged F_SNAPSHOT; a delta is its levels in the venue's order (bids block, then asks
block, unless the venue interleaves); trades are one TRADE record each with the taker side.
The last record of a message carries F_LAST. `seq` is the venue's sequence number for the
message (Binance `u`, Bybit `u`, OKX `seqId`, Coinbase `sequence_num`; 0 where the venue
has none), `trade_id` the venue's numeric trade id (or a 63-bit BLAKE2 hash of a
non-numeric one, e.g. Bybit's UUIDs).

An unknown symbol gets the generic exponents below with a warning: prices and sizes with
more decimals than that are rejected, never rounded, so a value is exact or refused.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from array import array
from datetime import datetime, timezone
from enum import IntEnum
from itertools import repeat
from operator import add
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np
import simdjson

from nexus import _native, record
from nexus._native import parse_scaled
from nexus.exceptions import BatchFull, DecodeError, NexusError
from nexus.instruments import Instrument, Registry, decimals_of
from nexus.venues import venue_id

log = logging.getLogger("nexus.venues")

# The documented fallback for a symbol with no metadata: 8 decimals for prices and sizes.
GENERIC_STEP = "0.00000001"
GENERIC_EXPONENT = 8
assert decimals_of(GENERIC_STEP) == GENERIC_EXPONENT

# Bounds (every limit is a named constant).
BUFFERED_MESSAGES_MAX = 10_000  # deltas kept per symbol while waiting for a REST snapshot
TRADE_ID_MAX = (1 << 63) - 1  # trade ids are stored in an int64 view of the u64 field
SEQ_MAX = (1 << 63) - 1
TS_MS_MAX = ((1 << 63) - 1) // 1_000_000  # ns timestamps are int64
DEFAULT_BATCH_RECORDS = 1 << 16

_WHITESPACE = b" \t\r\n"
_KIND_LEVEL = int(record.Kind.BOOK_LEVEL)
_KIND_CLEAR = int(record.Kind.BOOK_CLEAR)
_KIND_TRADE = int(record.Kind.TRADE)
_F_LAST = int(record.Flag.LAST)
_F_SNAPSHOT = int(record.Flag.SNAPSHOT)
BID = int(record.Side.BID)
ASK = int(record.Side.ASK)

# The record seen as eight little-endian int64 words (see native/src/core/record.rs):
# 0 ts_exchange_ns, 1 ts_local_ns, 2 price, 3 qty, 4 seq, 5 trade_id,
# 6 instrument_id | aux << 32, 7 venue_id | kind << 16 | flags << 24 | side << 32.
_W_PRICE, _W_QTY, _W_HDR = 2, 3, 7
_RECORD_WORDS = struct.Struct("<qqqqqqqq")
assert _RECORD_WORDS.size == record.RECORD_SIZE
assert record.RECORD_DTYPE.fields["price"][1] == 8 * _W_PRICE
assert record.RECORD_DTYPE.fields["venue_id"][1] == 8 * _W_HDR
assert record.RECORD_DTYPE.fields["side"][1] == 8 * _W_HDR + 4


def header_word(venue: int, kind: int, flags: int, side: int) -> int:
    """Word 7 of a record: venue_id, kind, flags and side packed little-endian."""
    return venue | kind << 16 | flags << 24 | side << 32


class SegKind(IntEnum):
    CONTROL = 0  # ack, heartbeat, pong, status, metadata: no records
    BOOK = 1
    TRADES = 2


class Segment:
    """One decoded part of a message: its records are batch[start:stop]."""

    __slots__ = (
        "kind", "inst", "start", "stop", "snapshot", "seq", "first_seq", "prev_seq",
        "checksum", "ts_exchange_ns", "trade_ids", "rest", "depth",
    )

    def __init__(self, kind: SegKind, inst: Instrument | None = None, start: int = 0, stop: int = 0,
                 *, snapshot: bool = False, seq: int | None = None, first_seq: int | None = None,
                 prev_seq: int | None = None, checksum: int | None = None,
                 ts_exchange_ns: int | None = None, trade_ids: list[str] | None = None,
                 rest: bool = False, depth: int | None = None) -> None:
        self.kind = kind
        self.inst = inst
        self.start = start
        self.stop = stop
        self.snapshot = snapshot  # a full book (replaces the local one)
        self.seq = seq  # the venue's sequence for this message (last update id)
        self.first_seq = first_seq  # Binance U
        self.prev_seq = prev_seq  # Binance futures pu, OKX prevSeqId
        self.checksum = checksum  # the checksum the venue sent, if any
        self.ts_exchange_ns = ts_exchange_ns
        self.trade_ids = trade_ids  # the venue's trade ids as strings, one per record
        self.rest = rest  # a REST response body (Binance depth snapshot)
        self.depth = depth  # subscribed depth, when the venue states it (Kraken ack)

    @property
    def symbol(self) -> str | None:
        return self.inst.symbol if self.inst is not None else None

    def __repr__(self) -> str:
        return (f"Segment({self.kind.name}, {self.symbol}, [{self.start}:{self.stop}], "
                f"snapshot={self.snapshot}, seq={self.seq})")


CONTROL = Segment(SegKind.CONTROL)  # shared, immutable by convention
# What `decode` returns for a frame the decoder's Sync applied itself (booksync.Sync.fuse): no
# segments, so `feed(APPLIED, batch)` does nothing; tell it apart with `segs is APPLIED`.
APPLIED: tuple = ()

_new_object = object.__new__


def fast_segment(kind: SegKind, inst: Instrument, stop: int, snapshot: bool = False, seq: int | None = None,
                 first_seq: int | None = None, prev_seq: int | None = None, checksum: int | None = None,
                 ts_exchange_ns: int | None = None, trade_ids: list[str] | None = None) -> Segment:
    """`Segment(kind, inst, 0, stop, snapshot=..., ...)` for the native fast paths, once per
    message: the same object, built without a class call with keywords (Python 3.11 runs
    `Segment(...)` through type.__call__ and matches keywords by name: ~2.5x the cost)."""
    s = _new_object(Segment)
    s.kind = kind
    s.inst = inst
    s.start = 0
    s.stop = stop
    s.snapshot = snapshot
    s.seq = seq
    s.first_seq = first_seq
    s.prev_seq = prev_seq
    s.checksum = checksum
    s.ts_exchange_ns = ts_exchange_ns
    s.trade_ids = trade_ids
    s.rest = False
    s.depth = None
    return s


class TradeSegment(Segment):
    """A trade message's segment as the native trade fast paths make it, once per trade frame
    (the most frequent message of every venue): a Segment whose fields a trade never sets are
    class constants, so a new one sets four slots instead of thirteen. Read like any Segment;
    like every Segment (CONTROL is shared), never changed after it is made (those constant
    fields cannot be)."""

    __slots__ = ()
    kind = SegKind.TRADES
    start = 0
    snapshot = False
    seq = None
    first_seq = None
    prev_seq = None
    checksum = None
    rest = False
    depth = None


def trade_segment(inst: Instrument, stop: int, ts_exchange_ns: int | None, trade_ids: list[str]) -> Segment:
    """`Segment(SegKind.TRADES, inst, 0, stop, ts_exchange_ns=..., trade_ids=...)` for the
    native trade fast paths: a TradeSegment with its four fields set."""
    s = _new_trade(TradeSegment)
    s.inst = inst
    s.stop = stop
    s.ts_exchange_ns = ts_exchange_ns
    s.trade_ids = trade_ids
    return s


_new_trade = object.__new__


# The per-instrument constants of the native decode fast paths (native/src/py/target.rs); None in
# a build that predates them (then no fast path is called).
NativeTarget = getattr(_native, "Target", None)


class _Ent:
    """Per-instrument constants for the record path (looked up once per message); `native`:
    the same for the native fast paths, built once (Decoder._native_fast)."""

    __slots__ = ("inst", "iid", "pe", "qe", "lvl", "snap", "clear", "buy", "sell", "native")

    def __init__(self, inst: Instrument, vid: int) -> None:
        self.inst = inst
        self.iid = inst.instrument_id
        self.pe = inst.price_exponent
        self.qe = inst.qty_exponent
        self.lvl = (0, header_word(vid, _KIND_LEVEL, 0, BID), header_word(vid, _KIND_LEVEL, 0, ASK))
        self.snap = (0, header_word(vid, _KIND_LEVEL, _F_SNAPSHOT, BID),
                     header_word(vid, _KIND_LEVEL, _F_SNAPSHOT, ASK))
        self.clear = header_word(vid, _KIND_CLEAR, _F_SNAPSHOT, 0)
        self.buy = header_word(vid, _KIND_TRADE, 0, BID)
        self.sell = header_word(vid, _KIND_TRADE, 0, ASK)
        self.native = None if NativeTarget is None else NativeTarget(
            inst.symbol, self.pe, self.qe, self.iid, self.lvl[1], self.lvl[2], self.snap[1], self.snap[2],
            self.clear, self.buy, self.sell)


def columns(levels: Any, what: str) -> tuple[Sequence[str], Sequence[str]]:
    """[[price, qty, ...], ...] -> (prices, qtys) with every level checked to be a list of
    at least two items (a string or object in its place is refused, never iterated)."""
    if type(levels) is not list:
        raise DecodeError(f"{what}: expected an array of levels")
    if not levels:
        return (), ()
    for lv in levels:  # a string or an object would be iterated by zip: refuse it first
        if type(lv) is not list:
            raise DecodeError(f"{what}: every level must be an array [price, size, ...]")
    cols = tuple(zip(*levels))  # as many columns as the shortest level has items
    if len(cols) < 2:
        raise DecodeError(f"{what}: a level lacks its price or size")
    return cols[0], cols[1]


def object_columns(levels: Any, what: str, price_key: str, qty_key: str,
                   text: Callable[[Any], str] | None = None) -> tuple[list[str], list[str]]:
    """[{price_key: p, qty_key: q, ...}, ...] -> (prices, qtys), every level checked to be
    an object; `text` turns a venue's JSON number into its decimal text (Kraken), and must
    return a string value unchanged."""
    if type(levels) is not list:
        raise DecodeError(f"{what}: expected an array of levels")
    # Fast path (two comprehensions, no call per level): every level an object with both keys
    # and, with `text`, every value already a string (join refuses anything else), which `text`
    # leaves as it is. Anything else goes the checked way below, which raises what it raised.
    try:
        if set(map(type, levels)) <= _DICT_ONLY:
            px = [lv[price_key] for lv in levels]
            qty = [lv[qty_key] for lv in levels]
            if text is None:
                return px, qty
            "".join(px)
            "".join(qty)
            return px, qty
    except (KeyError, TypeError):
        pass
    return _object_columns_checked(levels, what, price_key, qty_key, text)


_DICT_ONLY = frozenset((dict,))


def _object_columns_checked(levels: list, what: str, price_key: str, qty_key: str,
                            text: Callable[[Any], str] | None) -> tuple[list[str], list[str]]:
    px, qty = [], []
    for lv in levels:
        if type(lv) is not dict:
            raise DecodeError(f"{what}: every level must be an object {{{price_key}, {qty_key}, ...}}")
        px.append(lv[price_key] if text is None else text(lv[price_key]))
        qty.append(lv[qty_key] if text is None else text(lv[qty_key]))
    return px, qty


def ms_to_ns(v: Any) -> int:
    """Milliseconds (JSON integer or decimal-digit string) -> nanoseconds."""
    if type(v) is str:
        if not v.isdigit():
            raise DecodeError(f"timestamp {v!r} is not a whole number of milliseconds")
        v = int(v)
    elif type(v) is not int or v < 0:
        raise DecodeError(f"timestamp {v!r} is not a whole number of milliseconds")
    if v > TS_MS_MAX:
        raise DecodeError(f"timestamp {v!r} ms is beyond the year 2262 (int64 nanoseconds)")
    return v * 1_000_000


_iso_cache: dict[str, int] = {}


_POW10 = tuple(10 ** (9 - i) for i in range(10))


def iso_to_ns(s: Any) -> int:
    """'2023-02-09T20:32:50.714964855Z' -> ns since the epoch, exactly (no float)."""
    if type(s) is str:  # fast path: the seconds already seen (a cached base was validated)
        secs = _iso_cache.get(s[:19])
        if secs is not None:
            n = len(s)
            if 22 <= n <= 30 and s[19] == "." and s[-1] == "Z":
                frac = s[20:-1]
                if frac.isdigit():
                    return secs * 1_000_000_000 + int(frac) * _POW10[n - 21]
            elif n == 20 and s[19] == "Z":
                return secs * 1_000_000_000
    return _iso_to_ns_checked(s)


def _iso_to_ns_checked(s: Any) -> int:
    if type(s) is not str or len(s) < 20 or s[-1] != "Z" or s[10] != "T":
        raise DecodeError(f"timestamp {s!r} is not RFC 3339 UTC")
    base = s[:19]
    if len(s) == 20:
        frac = ""
    elif s[19] == "." and 21 <= len(s) <= 30 and s[20:-1].isdigit():
        frac = s[20:-1]
    else:
        raise DecodeError(f"timestamp {s!r} is not RFC 3339 UTC with at most 9 fractional digits")
    secs = _iso_cache.get(base)
    if secs is None:
        try:
            dt = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        except ValueError:
            raise DecodeError(f"timestamp {s!r} is not a valid date and time") from None
        secs = int(dt.timestamp())
        if len(_iso_cache) > 4096:
            _iso_cache.clear()
        _iso_cache[base] = secs
    return secs * 1_000_000_000 + (int(frac.ljust(9, "0")) if frac else 0)


def trade_id_int(v: Any) -> int:
    """The record's trade_id: the venue's id when it is a whole number below 2**63, else a
    63-bit BLAKE2b hash of its text (documented: not reversible; normalize prints the text)."""
    if type(v) is int:
        if 0 <= v <= TRADE_ID_MAX:
            return v
    elif type(v) is str:
        if v.isdigit() and len(v) <= 18:
            return int(v)
    else:
        raise DecodeError(f"trade id {v!r} is neither a string nor an integer")
    h = hashlib.blake2b(str(v).encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") & TRADE_ID_MAX


def seq_int(v: Any, what: str = "sequence") -> int:
    if type(v) is not int or v < 0 or v > SEQ_MAX:
        raise DecodeError(f"{what} {v!r} is not a non-negative integer")
    return v


class Decoder:
    """Base of the venue decoders. Subclasses set `venue` and implement `_decode(doc,
    ts_local_ns)` and `_metadata(doc)` (the venue's instrument listing); `decode` does the
    parsing, error mapping and F_LAST. There is no built-in instrument table: instruments come
    from the venue's listing (`load_metadata`, live from `FeedSpec.instruments_path`, offline
    from `--instruments FILE`) or, offline, are inferred from the input (nexus.feeds.lines)."""

    venue: str = ""
    PRICE_FIELDS: Any = None  # a compiled regex quoting numeric fields before parsing (Kraken)
    _fast_ent: _Ent | None = None  # the instrument the native fast path last decoded
    # booksync.Sync.fuse sets it to the Sync's `feed_frame`: a venue decoder with a fused path
    # offers it each book diff first and returns APPLIED when it was applied
    fused: Callable[[bytes, np.ndarray, int], Any] | None = None

    def __init__(self, registry: Registry | None = None) -> None:
        self.venue_id = venue_id(self.venue)
        self.registry = registry if registry is not None else Registry()
        self._parser = simdjson.Parser()  # one per decoder, reused for every message
        self._ents: dict[str, _Ent] = {}
        self.generic: set[str] = set()  # symbols running on the generic fallback
        self.inferred: set[str] = set()  # symbols whose precision was inferred from the input (offline)
        self.rest_symbol: str | None = None  # the symbol a REST book body belongs to
        self._out: np.ndarray | None = None    # the batch `_bind` made views of
        self._fast_out: np.ndarray | None = None  # the batch last checked (`_check_batch`)
        self._mv: memoryview = memoryview(b"")
        self._q: memoryview = memoryview(b"").cast("q")
        self._cap = 0
        self._pack = _RECORD_WORDS.pack_into

    # -- instruments -------------------------------------------------------------------
    def instrument(self, symbol: str) -> Instrument:
        return self._ent(symbol).inst

    def set_instrument(self, inst: Instrument) -> None:
        """Register or replace an instrument (from the venue's metadata)."""
        if inst.venue != self.venue:
            raise NexusError(f"instrument of {inst.venue} given to the {self.venue} decoder")
        self.registry.add(inst)
        self._ents.pop(inst.symbol, None)
        self._fast_ent = None  # the fast path looks the instrument up again: its metadata changed
        self.generic.discard(inst.symbol)
        if inst.symbol == self.rest_symbol:
            # the caller's own instrument (a feed handler names it before it loads the venue's
            # listing, so before its first frame): its record constants are built now and the
            # native fast paths try it first, rather than both on the first frame
            self._fast_ent = self._ent(inst.symbol)

    def _ent(self, symbol: Any) -> _Ent:
        e = self._ents.get(symbol)
        if e is not None:
            return e
        if type(symbol) is not str or not symbol or len(symbol) > 64:
            raise DecodeError(f"symbol {symbol!r} is not a non-empty string")
        if (self.venue, symbol) in self.registry:
            inst = self.registry.get(self.venue, symbol)
        else:
            inst = self.generic_instrument(symbol)
            log.warning("%s: no instrument metadata for %r; using the generic exponent %d for "
                        "prices and sizes (more decimals are rejected, never rounded)",
                        self.venue, symbol, GENERIC_EXPONENT)
            self.registry.add(inst)
            self.generic.add(symbol)
        e = self._ents[symbol] = _Ent(inst, self.venue_id)
        return e

    def generic_instrument(self, symbol: str) -> Instrument:
        return Instrument(self.venue, symbol, GENERIC_STEP, GENERIC_STEP)

    # -- decoding ------------------------------------------------------------------------
    def decode(self, raw: bytes | str, out: np.ndarray, ts_local_ns: int = 0) -> list[Segment]:
        """Decode one raw message into `out` (from index 0). Raises DecodeError on a
        message that cannot be understood and BatchFull when `out` is too small."""
        if out is not self._out:
            self._bind(out)
        self._tl = ts_local_ns
        try:
            if type(raw) is str:
                raw = raw.encode()
            if not raw or raw[0] in _WHITESPACE and not raw.strip():
                raise DecodeError("empty frame")
            doc = self._parse(raw)
            segs = self._decode(doc)
        except (DecodeError, BatchFull):
            raise
        except NexusError as e:  # DecimalError from parse_scaled, UnknownInstrument, ...
            raise DecodeError(str(e)) from None
        except (KeyError, IndexError) as e:
            raise DecodeError(f"missing field {e}") from None
        except (TypeError, ValueError, AttributeError, OverflowError, UnicodeError, struct.error) as e:
            raise DecodeError(f"malformed message: {e}") from None
        if segs:
            last = segs[-1].stop
            if last:
                i = (last - 1) * 8 + _W_HDR  # F_LAST on the message's last record
                q = self._q
                q[i] = q[i] | _F_LAST << 24
        return segs

    def _native_fast(self, fn: Callable[..., Any], raw: bytes, out: np.ndarray,
                     ts_local_ns: int) -> tuple[Any, _Ent] | None:
        """One message through a native fast path. `fn` (a nexus._native fast-path function:
        raw, out, Target or None, ts_local_ns) parses it, writes its records into `out` from
        index 0 (F_LAST on the last) and returns what the venue's decoder needs besides them,
        ("symbol", s) when it is for another instrument than the one given, or None. Returns
        (that answer, the instrument's entry), or None: the message then takes the general path
        (`decode`), which accepts and rejects exactly the same messages (a fast path only
        declines, never decides). The last instrument decoded is tried first."""
        if out is not self._fast_out:
            self._check_batch(out)
        e = self._fast_ent
        r = fn(raw, out, e.native if e is not None else None, ts_local_ns)
        if r is None:
            return None
        if r[0] == "symbol":
            try:
                e = self._ent(r[1])
            except Exception:  # the general path says why
                return None
            self._fast_ent = e
            r = fn(raw, out, e.native, ts_local_ns)
            if r is None or r[0] == "symbol":
                return None
        return r, e

    def _parse(self, raw: bytes) -> Any:
        if self.PRICE_FIELDS is not None:
            raw = quote_numbers(self.PRICE_FIELDS, raw)
        try:
            return self._parser.parse(raw, True)
        except (ValueError, RuntimeError, MemoryError):
            pass
        # A reused simdjson parser names the fault of a broken document by what its buffers held
        # from the message before (a cut-short trade reads as NUMBER_ERROR after one message and
        # TAPE_ERROR after another): the reason is taken from a fresh parser, so the same bytes
        # always give the same error, whichever path decoded the messages before. Errors only.
        fresh = simdjson.Parser()
        try:
            doc = fresh.parse(raw, True)
        except (ValueError, RuntimeError, MemoryError) as e:
            why = str(e).split(". ", 1)[0].rstrip(".")
            raise DecodeError(f"not valid JSON ({why})") from None
        # A valid document the reused parser refused (pysimdjson refuses to reuse a parser whose
        # lazy proxies are still alive: RuntimeError "Tried to re-use a parser ..."): kept, and the
        # fresh parser replaces the stuck one (tests/venues/test_base.py).
        self._parser = fresh
        return doc

    def _decode(self, doc: Any) -> list[Segment]:
        raise NotImplementedError

    def load_metadata(self, raw: bytes | str) -> int:
        """Load instruments from the venue's own REST/channel metadata body; returns how many."""
        if type(raw) is str:
            raw = raw.encode()
        doc = self._parse(raw)
        try:
            return self._metadata(doc)
        except (DecodeError, NexusError):
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
            raise DecodeError(f"malformed metadata: {e!r}") from None

    def _metadata(self, doc: Any) -> int:
        raise DecodeError(f"{self.venue}: not a metadata body this decoder knows")

    # -- writing records -------------------------------------------------------------------
    def _check_batch(self, out: np.ndarray) -> None:
        """Refuse a batch that is not a writable, contiguous record array; the native fast paths
        write into a batch checked here (`_fast_out`) and need none of `_bind`'s views."""
        if not isinstance(out, np.ndarray) or out.dtype != record.RECORD_DTYPE or out.ndim != 1 \
                or not out.flags.c_contiguous or not out.flags.writeable:
            raise NexusError("the batch must be a writable, contiguous nexus.record array")
        self._fast_out = out

    def _bind(self, out: np.ndarray) -> None:
        """The batch checked, and its views for the Python record writers (`_q`, `_mv`)."""
        self._check_batch(out)
        self._out = out
        self._mv = memoryview(out.view(np.uint8))
        self._q = self._mv.cast("q")
        self._cap = len(out)

    def _put_book(self, pos: int, e: _Ent, bp: Sequence[str], bq: Sequence[str], ap: Sequence[str],
                  aq: Sequence[str], ts: int, seq: int, snapshot: bool) -> int:
        """Write a book message: [CLEAR] + bid levels + ask levels. Returns the end index.
        The records are assembled as int64 words in an array.array (a few C calls per
        message, none per level) and copied into the batch in one slice assignment."""
        nb, na = len(bp), len(ap)
        stop = pos + nb + na + (1 if snapshot else 0)
        if stop > self._cap:
            raise BatchFull(stop, self._cap)
        pe, qe = e.pe, e.qe
        prices = list(map(parse_scaled, bp + ap, repeat(pe)))  # list(map) is the fastest way in
        qtys = list(map(parse_scaled, bq + aq, repeat(qe)))
        if prices and (min(prices) <= 0 or min(qtys) < 0):
            raise DecodeError("a price is not positive or a size is negative")
        tl, iid = self._tl, e.iid
        hdr = e.snap if snapshot else e.lvl
        words = (array("q", (ts, tl, 0, 0, seq, 0, iid, hdr[1])) * nb
                 + array("q", (ts, tl, 0, 0, seq, 0, iid, hdr[2])) * na)
        words[_W_PRICE::8] = array("q", prices)
        words[_W_QTY::8] = array("q", qtys)
        if snapshot:
            words = array("q", (ts, tl, 0, 0, seq, 0, iid, e.clear)) + words
        self._q[pos * 8:stop * 8] = words
        return stop

    def _put_mixed(self, pos: int, e: _Ent, sides: Sequence[int], px: Sequence[str],
                   qty: Sequence[str], ts: int, seq: int, snapshot: bool) -> int:
        """Write levels whose sides are interleaved (Coinbase): [CLEAR] + one record each."""
        n = len(px)
        stop = pos + n + (1 if snapshot else 0)
        if stop > self._cap:
            raise BatchFull(stop, self._cap)
        prices = list(map(parse_scaled, px, repeat(e.pe)))
        qtys = list(map(parse_scaled, qty, repeat(e.qe)))
        if prices and (min(prices) <= 0 or min(qtys) < 0):
            raise DecodeError("a price is not positive or a size is negative")
        tl, iid = self._tl, e.iid
        hdr = e.snap if snapshot else e.lvl
        # assembled as int64 words in an array.array, as _put_book does (no call per level)
        words = array("q", (ts, tl, 0, 0, seq, 0, iid, 0)) * n
        if n:
            words[_W_PRICE::8] = array("q", prices)
            words[_W_QTY::8] = array("q", qtys)
            words[_W_HDR::8] = array("q", map(hdr.__getitem__, sides))
        if snapshot:
            words = array("q", (ts, tl, 0, 0, seq, 0, iid, e.clear)) + words
        self._q[pos * 8:stop * 8] = words
        return stop

    def _trade_message(self, trades: Any, what: str, f: "TradeFields") -> list[Segment]:
        """A message that is one array of trades: its segments (CONTROL when it is empty)."""
        segs: list[Segment] = []
        self._add_trades(segs, 0, trades, what, f)
        return segs or [CONTROL]

    def _add_trades(self, segs: list[Segment], pos: int, trades: Any, what: str, f: "TradeFields",
                    seq: int = 0, seg_seq: int | None = None) -> int:
        """Write a venue's array of trades from `pos` on, one TRADE record each, and describe
        them in `segs` (consecutive trades of one instrument share a segment). `f` names the
        venue's fields (TradeFields). Returns the end index."""
        if type(trades) is not list:
            raise DecodeError(f"{what} is not an array")
        k_sym, k_ts, to_ns, k_px, k_qty, k_side, buy_v, sell_v, k_tid, text, maker = f
        for t in trades:
            e = self._ent(t[k_sym])
            ts = to_ns(t[k_ts])
            buy = side_buy(t[k_side], buy_v, sell_v, k_side) is not maker
            tid = t[k_tid]
            if text is None:
                px, qty = t[k_px], t[k_qty]
            else:
                px, qty = text(t[k_px]), text(t[k_qty])
            start = pos
            pos = self._put_trade(pos, e, px, qty, buy, trade_id_int(tid), ts, seq)
            if segs and segs[-1].inst is e.inst:  # `segs` holds this message's trade segments only
                segs[-1].stop = pos
                segs[-1].trade_ids.append(str(tid))
            else:
                segs.append(Segment(SegKind.TRADES, e.inst, start, pos, seq=seg_seq, ts_exchange_ns=ts,
                                    trade_ids=[str(tid)]))
        return pos

    def _put_trade(self, pos: int, e: _Ent, price: str, qty: str, buy: bool, tid: int, ts: int,
                   seq: int = 0) -> int:
        """Write one trade record (side = the taker's side). Returns pos + 1."""
        if pos >= self._cap:
            raise BatchFull(pos + 1, self._cap)
        p = parse_scaled(price, e.pe)
        q = parse_scaled(qty, e.qe)
        if p <= 0 or q <= 0:
            raise DecodeError(f"trade price {price!r} or size {qty!r} is not positive")
        self._pack(self._mv, pos * 64, ts, self._tl, p, q, seq, tid, e.iid, e.buy if buy else e.sell)
        return pos + 1


_W_TID = 5  # the record's trade_id word


def push_decode(fn: Callable[..., Any] | None, push_prefix: bytes, book_prefix: bytes, *,
                chained: bool = False, hashed_ids: bool = False) -> Callable[..., list[Segment]]:
    """The `decode` of a venue whose pushes all start with `push_prefix` (the topic or channel
    key) and whose book pushes with `book_prefix`, with a native fast path `fn` (a
    nexus._native fast-path function, see `Decoder._native_fast`; None in a build that
    predates it: the general `Decoder.decode` is returned). Made once per decoder class and
    set as its `decode` (`decode = push_decode(...)` in the class body), so a frame costs no
    Python call more than a hand-written `decode`. What the returned method does:

    - a book push is offered to the fused steady state first (`Decoder.fused`, set by
      `booksync.Sync.fuse`): `APPLIED` when it applied it;
    - any other push is tried on the decoder's current instrument in one call: a trade
      answer becomes its segment; a decline takes the general path;
    - otherwise `Decoder._native_fast` (which looks the symbol up) and the answer becomes a
      segment; anything declined, or any frame that is not such a push, takes the general
      path, which accepts and rejects exactly the same messages (a fast path only declines,
      never decides).

    The fast path's answers: ("book", n, snapshot, ts, seq) or, with `chained` (OKX), ("book",
    n, snapshot, ts, seq, prev_seq, checksum) with checksum 0 meaning none; ("trades", n, ts,
    ids) or, with `hashed_ids` (Bybit), ("trades", n, ts, ids, hashed) where `hashed` says an
    id is not ASCII digits: `trade_id_int` then writes each record's trade id."""
    general = Decoder.decode
    if fn is None:
        return general
    book = SegKind.BOOK

    def decode(self: Decoder, raw: bytes | str, out: np.ndarray, ts_local_ns: int = 0) -> list[Segment]:
        if type(raw) is bytes and raw.startswith(push_prefix):
            if raw.startswith(book_prefix):
                fused = self.fused  # Sync.fuse: an ordinary diff on a synced book, applied in one call
                if fused is not None and fused(raw, out, ts_local_ns) is not None:
                    return APPLIED
            else:  # trades: the decoder's current instrument first, in one call
                e = self._fast_ent
                if e is not None:
                    r = fn(raw, out, e.native, ts_local_ns)
                    if r is None:  # declined: the general path decides
                        return general(self, raw, out, ts_local_ns)
                    if r[0] == "trades" and not (hashed_ids and r[4]):
                        return [trade_segment(e.inst, r[1], r[2], r[3])]
            got = self._native_fast(fn, raw, out, ts_local_ns)
            if got is not None:
                r, e = got
                if r[0] == "book":
                    if chained:
                        _, n, snapshot, ts, seq, prev, checksum = r
                        return [fast_segment(book, e.inst, n, snapshot, seq, None, prev, checksum or None, ts, None)]
                    _, n, snapshot, ts, seq = r
                    return [fast_segment(book, e.inst, n, snapshot, seq, None, None, None, ts, None)]
                if hashed_ids and r[4]:  # an id that is not ASCII: trade_id_int decides its record's trade id
                    if out is not self._out:  # the fast path checked the batch; its views now
                        self._bind(out)
                    q = self._q
                    for k, tid in enumerate(r[3]):
                        q[k * 8 + _W_TID] = trade_id_int(tid)
                return [trade_segment(e.inst, r[1], r[2], r[3])]
        return general(self, raw, out, ts_local_ns)

    decode.__doc__ = push_decode.__doc__
    return decode


_KEY_QUOTED = b'"%b":"'.__mod__
_QUOTE = b'"'


def quote_numbers(pattern: Any, raw: bytes) -> bytes:
    """`pattern.sub(rb'"\\1":"\\2"', raw)` (a key's JSON number written as a string: group 1 the
    key, group 2 the number), the same bytes without a Python call per match: Python 3.11
    expands a template replacement in Python for every match (Kraken: ~20 per book message),
    while split, map over C callables and join stay in C."""
    parts = pattern.split(raw)
    if len(parts) == 1:
        return raw
    parts[1::3] = map(_KEY_QUOTED, parts[1::3])
    parts[2::3] = map(add, parts[2::3], repeat(_QUOTE))
    return b"".join(parts)


class TradeFields(NamedTuple):
    """Where a venue's trade object keeps each field (Decoder._add_trades)."""

    symbol: str
    ts: str
    ts_ns: Callable[[Any], int]       # the venue's timestamp -> ns (ms_to_ns, iso_to_ns)
    price: str
    qty: str
    side: str
    buy: str                          # the side field's value when the taker bought ...
    sell: str                         # ... and sold (or the maker's, when `maker_side`)
    trade_id: str
    text: Callable[[Any], str] | None = None   # a JSON number -> its decimal text (Kraken)
    maker_side: bool = False          # the side field names the maker (Coinbase)


def side_buy(v: Any, buy: str, sell: str, what: str = "side") -> bool:
    if v == buy:
        return True
    if v == sell:
        return False
    raise DecodeError(f"{what} {v!r} is neither {buy!r} nor {sell!r}")
