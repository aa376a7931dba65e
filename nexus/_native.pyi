"""Type stubs for the native extension (native/src/py), checked against the compiled module by
`make test-stubs` (scripts/check_stubs.py). pyo3 classes take their arguments in `__new__`,
cannot be subclassed (`@final`) and expose read-only getters (properties)."""
from typing import Literal, Self, final

import numpy as np

__all__ = [
    "BUILD",
    "VERSION",
    "RECORD_SIZE",
    "record_layout",
    "KIND_BOOK_LEVEL",
    "KIND_BOOK_CLEAR",
    "KIND_TRADE",
    "KIND_BBO",
    "KIND_SIGNAL",
    "KIND_HEARTBEAT",
    "F_LAST",
    "F_SNAPSHOT",
    "F_RESYNC",
    "SIDE_NONE",
    "SIDE_BID",
    "SIDE_ASK",
    "EXPONENT_MAX",
    "parse_scaled",
    "format_scaled",
    "format_fixed",
    "RingWriter",
    "RingReader",
    "ring_list",
    "ring_remove",
    "monotonic_ns",
    "SLOTS_MIN",
    "SLOTS_MAX",
    "Book",
    "binance_depth",
    "binance_trade",
    "coinbase_l2",
    "kraken_book",
    "okx_message",
    "bybit_message",
    "hyperliquid_message",
    "Consensus",
    "TradeDedup",
    "VENUES_MAX",
    "AeronDriver",
    "AeronPublisher",
    "AeronSubscriber",
    "aeron_default_dir",
    "aeron_driver_active",
    "aeron_bench_throughput",
    "aeron_bench_latency",
    "aeron_bench_rings_throughput",
    "AERON_LAYOUT_VERSION",
]

BUILD: Literal["release", "debug"]
VERSION: str
RECORD_SIZE: int
EXPONENT_MAX: int
SLOTS_MIN: int
SLOTS_MAX: int
KIND_BOOK_LEVEL: int
KIND_BOOK_CLEAR: int
KIND_TRADE: int
KIND_BBO: int
KIND_SIGNAL: int
KIND_HEARTBEAT: int
F_LAST: int
F_SNAPSHOT: int
F_RESYNC: int
SIDE_NONE: int
SIDE_BID: int
SIDE_ASK: int

def record_layout() -> list[tuple[str, int, str]]: ...
def parse_scaled(s: str, exponent: int) -> int: ...
def format_scaled(v: int, exponent: int) -> str: ...
def format_fixed(v: int, exponent: int) -> str: ...
def monotonic_ns() -> int: ...
def ring_list() -> list[dict[str, object]]: ...
def ring_remove(name: str, force: bool = False) -> None: ...

@final
class RingWriter:
    @property
    def name(self) -> str: ...
    @property
    def slots(self) -> int: ...
    @property
    def position(self) -> int: ...
    @property
    def epoch(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def __new__(cls, name: str, slots: int = 65536) -> Self: ...
    def publish(self, batch: np.ndarray) -> int: ...
    def close(self, unlink: bool = True) -> None: ...
    def abandon(self) -> None: ...
    def bench_latency(self, count: int, gap_ns: int) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, exc_type: object, exc_value: object, traceback: object) -> None: ...

@final
class RingReader:
    @property
    def name(self) -> str: ...
    @property
    def slots(self) -> int: ...
    @property
    def position(self) -> int: ...
    @property
    def lost(self) -> int: ...
    @property
    def restarts(self) -> int: ...
    @property
    def backlog(self) -> int: ...
    @property
    def writer_pid(self) -> int: ...
    @property
    def writer_alive(self) -> bool: ...
    def __new__(cls, name: str, start: Literal["latest", "earliest"] = "latest") -> Self: ...
    def poll(self, out: np.ndarray) -> int: ...
    def close(self) -> None: ...
    def bench_latency(self, count: int, timeout_ns: int) -> list[int]: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, exc_type: object, exc_value: object, traceback: object) -> None: ...

@final
class Book:
    @property
    def price_exponent(self) -> int: ...
    @property
    def qty_exponent(self) -> int: ...
    def __new__(cls, price_exponent: int, qty_exponent: int) -> Self: ...
    def apply(self, batch: np.ndarray, n: int = -1) -> int: ...
    def set(self, side: int, price: int, qty: int) -> None: ...
    def clear(self, side: int = 0) -> None: ...
    def best_bid(self) -> tuple[int, int] | None: ...
    def best_ask(self) -> tuple[int, int] | None: ...
    def depth(self, side: int = 0) -> int: ...
    def crossed(self) -> bool: ...
    def top(self, side: int, n: int) -> list[tuple[int, int]]: ...
    def top_into(self, bids_out: np.ndarray, asks_out: np.ndarray) -> tuple[int, int]: ...
    def checksum_okx(self, depth: int = 25) -> int: ...
    def checksum_string_okx(self, depth: int = 25) -> str: ...
    def checksum_kraken(self, price_precision: int, qty_precision: int, depth: int = 10) -> int: ...
    def checksum_string_kraken(self, price_precision: int, qty_precision: int, depth: int = 10) -> str: ...
    def __len__(self) -> int: ...

VENUES_MAX: int

@final
class Consensus:
    def __new__(cls) -> Self: ...
    def set_scale(self, v: int, price_mul: int, qty_mul: int, qty_div: int = 1, inverse: bool = False) -> None: ...
    def set_tick(self, tick: int) -> None: ...
    def apply(self, v: int, batch: np.ndarray) -> int: ...
    def set(self, v: int, side: int, price: int, qty: int) -> None: ...
    def clear_venue(self, v: int, side: int = 0) -> None: ...
    def set_included(self, v: int, included: bool) -> None: ...
    def included(self, v: int) -> bool: ...
    def best_bid(self) -> tuple[int, int, list[int]] | None: ...
    def best_ask(self) -> tuple[int, int, list[int]] | None: ...
    def touch(self) -> tuple[int, int, int, int] | None: ...
    def apply_touch(self, v: int, batch: np.ndarray) -> bool: ...
    def top(self, side: int, n: int) -> list[tuple[int, int, list[int]]]: ...
    def top_into(self, bids_out: np.ndarray, asks_out: np.ndarray) -> tuple[int, int]: ...
    def at(self, side: int, price: int) -> tuple[int, int, list[int]] | None: ...
    def depth_between(self, side: int, lo: int, hi: int) -> tuple[list[int], int]: ...
    def levels(self, side: int) -> int: ...

@final
class TradeDedup:
    @property
    def unique(self) -> int: ...
    @property
    def duplicates_same_venue(self) -> int: ...
    @property
    def duplicates_cross_venue(self) -> int: ...
    def __new__(cls, window_ns: int = 0, retention_ns: int = 60_000_000_000) -> Self: ...
    def check(self, venue: int, ts_ns: int, price: int, qty: int, side: int, trade_id: int) -> bool: ...

def binance_depth(
    raw: bytes,
    out: np.ndarray,
    symbol: str,
    price_exponent: int,
    qty_exponent: int,
    instrument_id: int,
    hdr_bid: int,
    hdr_ask: int,
    ts_local_ns: int,
) -> tuple[int, int, int, int, int] | tuple[Literal["symbol"], str] | None: ...

AERON_LAYOUT_VERSION: int

def aeron_default_dir() -> str: ...
def aeron_driver_active(dir: str, timeout_ms: int = 10000) -> bool: ...
def aeron_bench_throughput(dir: str, channel: str, stream_id: int, total: int) -> tuple[float, int]: ...
def aeron_bench_latency(dir: str, channel: str, stream_id: int, count: int, gap_ns: int) -> list[int]: ...
def aeron_bench_rings_throughput(dir: str, channel: str, stream_id: int, total: int) -> float: ...

@final
class AeronDriver:
    @property
    def dir(self) -> str: ...
    def __new__(cls, dir: str, spin: bool = False) -> Self: ...
    def close(self) -> None: ...

@final
class AeronPublisher:
    @property
    def connected(self) -> bool: ...
    @property
    def max_records(self) -> int: ...
    @property
    def epoch(self) -> int: ...
    def __new__(
        cls,
        dir: str,
        channel: str,
        stream_id: int,
        rings: list[tuple[str, bytes]],
        snapshot_every_s: float = 1.0,
        layout_version: int = 1,
        timeout_ms: int = 2000,
    ) -> Self: ...
    def pump(self, budget: int = 65536) -> int: ...
    def set_meta(self, index: int, meta: bytes) -> None: ...
    def send_snapshots(self) -> None: ...
    def stats(self) -> dict[str, object]: ...
    def close(self) -> None: ...

@final
class AeronSubscriber:
    @property
    def connected(self) -> bool: ...
    def __new__(
        cls,
        dir: str,
        channel: str,
        stream_id: int,
        prefix: str = "",
        slots: int = 65536,
        layout_version: int = 1,
        timeout_ms: int = 2000,
    ) -> Self: ...
    def pump(self, fragment_limit: int = 1024) -> int: ...
    def take_announcements(self) -> list[tuple[str, bytes]]: ...
    def stats(self) -> dict[str, object]: ...
    def close(self) -> None: ...
def binance_trade(
    raw: bytes,
    out: np.ndarray,
    symbol: str,
    price_exponent: int,
    qty_exponent: int,
    instrument_id: int,
    hdr_buy: int,
    hdr_sell: int,
    ts_local_ns: int,
) -> tuple[int, int] | tuple[Literal["symbol"], str] | None: ...
def coinbase_l2(
    raw: bytes,
    out: np.ndarray,
    symbol: str,
    price_exponent: int,
    qty_exponent: int,
    instrument_id: int,
    hdr_bid: int,
    hdr_ask: int,
    hdr_snap_bid: int,
    hdr_snap_ask: int,
    hdr_clear: int,
    ts_local_ns: int,
) -> tuple[int, bool, int, str] | tuple[Literal["symbol"], str] | None: ...
def kraken_book(
    raw: bytes,
    out: np.ndarray,
    symbol: str,
    price_exponent: int,
    qty_exponent: int,
    instrument_id: int,
    hdr_bid: int,
    hdr_ask: int,
    hdr_snap_bid: int,
    hdr_snap_ask: int,
    hdr_clear: int,
    ts_local_ns: int,
) -> tuple[int, bool, int | None, str | None] | tuple[Literal["symbol"], str] | None: ...
def okx_message(
    raw: bytes,
    out: np.ndarray,
    symbol: str,
    price_exponent: int,
    qty_exponent: int,
    instrument_id: int,
    hdr_bid: int,
    hdr_ask: int,
    hdr_snap_bid: int,
    hdr_snap_ask: int,
    hdr_clear: int,
    hdr_buy: int,
    hdr_sell: int,
    ts_local_ns: int,
) -> (tuple[Literal["book"], int, bool, int, int | None, int | None, int | None]
      | tuple[Literal["trades"], int, int, list[str]] | tuple[Literal["symbol"], str] | None): ...
def hyperliquid_message(
    raw: bytes,
    out: np.ndarray,
    symbol: str,
    price_exponent: int,
    qty_exponent: int,
    instrument_id: int,
    hdr_bid: int,
    hdr_ask: int,
    hdr_snap_bid: int,
    hdr_snap_ask: int,
    hdr_clear: int,
    hdr_buy: int,
    hdr_sell: int,
    ts_local_ns: int,
) -> (tuple[Literal["book"], int, int] | tuple[Literal["trades"], int, int, list[int]]
      | tuple[Literal["symbol"], str] | None): ...
def bybit_message(
    raw: bytes,
    out: np.ndarray,
    symbol: str,
    price_exponent: int,
    qty_exponent: int,
    instrument_id: int,
    hdr_bid: int,
    hdr_ask: int,
    hdr_snap_bid: int,
    hdr_snap_ask: int,
    hdr_clear: int,
    hdr_buy: int,
    hdr_sell: int,
    ts_local_ns: int,
) -> (tuple[Literal["book"], int, bool, int, int] | tuple[Literal["trades"], int, int, list[str], bool]
      | tuple[Literal["symbol"], str] | None): ...
