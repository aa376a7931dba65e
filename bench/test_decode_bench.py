"""End to end per message (pytest-benchmark): the raw bytes of a Binance `depthUpdate` with
10 levels a side, and of an `aggTrade`, decoded (pysimdjson, exact decimal conversion, records
written into a preallocated batch) and applied to the native book; once bare
(decode + Book.apply) and once through the venue's sync rules (decode + BinanceSpotSync.feed:
sequence checks, crossed-book check). Each benchmark checks its result against a dict model
before it is timed.

Figures per message are in extra_info (us_per_msg, msgs_per_s, from the fastest round).
Standalone: `python bench/test_decode_bench.py` prints them (median and best of 15 rounds,
wall clock, and the median in process CPU time, which a machine shared with other work
inflates less).
Target (issue 3): >= 100k depth messages/s on one core.
"""

from __future__ import annotations

import json
import time

import pytest

from nexus import record
from nexus._native import Book, parse_scaled
from nexus.venues.binance.spot import BinanceSpotDecoder, BinanceSpotSync

MESSAGES = 2000  # per round; each round replays the same raw bytes
LEVELS = 10  # per side


def depth_messages(n: int = MESSAGES):
    """n contiguous depthUpdates (U = previous u + 1) near the touch, plus the dict model of
    the book they build on an empty snapshot (the expected result)."""
    msgs, model = [], {1: {}, 2: {}}
    for k in range(1, n + 1):
        mid = 4_200_000 + (k * 7919) % 200 - 100  # cents
        bids = [(mid - 1 - i - (k + i) % 3, (k * 31 + i * 17) % 5000) for i in range(LEVELS)]
        asks = [(mid + 1 + i + (k + i) % 2, (k * 13 + i * 29) % 5000) for i in range(LEVELS)]
        fmt = lambda rows: [[f"{p // 100}.{p % 100:02d}000000", f"{q // 1000}.{q % 1000:03d}00000"] for p, q in rows]  # noqa: E731
        msgs.append(json.dumps({"e": "depthUpdate", "E": 1_700_000_000_000 + k, "s": "BTCUSDT", "U": 2 * k - 1,
                                "u": 2 * k, "b": fmt(bids), "a": fmt(asks)}, separators=(",", ":")).encode())
        for side, rows in ((1, bids), (2, asks)):
            for p, q in rows:
                if q:
                    model[side][p] = q
                else:
                    model[side].pop(p, None)
    return msgs, model


def model_as_book_ints(model):
    conv = lambda p, q: (parse_scaled(f"{p // 100}.{p % 100:02d}", 8), parse_scaled(f"{q // 1000}.{q % 1000:03d}", 8))  # noqa: E731
    return ([conv(p, q) for p, q in sorted(model[1].items(), reverse=True)],
            [conv(p, q) for p, q in sorted(model[2].items())])


AGG_TRADE = (b'{"e":"aggTrade","E":1700000000500,"s":"BTCUSDT","a":26129,"p":"42001.01000000",'
             b'"q":"0.12500000","f":100,"l":105,"T":1700000000499,"m":true,"M":true}')


def per_message(benchmark, n: int) -> None:
    best = benchmark.stats.stats.min / n
    benchmark.extra_info["messages_per_round"] = n
    benchmark.extra_info["us_per_msg"] = round(best * 1e6, 3)
    benchmark.extra_info["msgs_per_s"] = round(1 / best)


@pytest.fixture(scope="module")
def depth():
    return depth_messages()


def run_bare(msgs):
    dec = BinanceSpotDecoder()
    book = Book(8, 8)
    batch = record.empty(4096)
    decode, apply = dec.decode, book.apply
    for raw in msgs:
        segs = decode(raw, batch)
        apply(batch, segs[0].stop)
    return book


def run_sync(msgs):
    dec = BinanceSpotDecoder()
    dec.rest_symbol = "BTCUSDT"
    sync = BinanceSpotSync(dec)
    batch = record.empty(4096)
    sync.feed(dec.decode(b'{"lastUpdateId":0,"bids":[],"asks":[]}', batch), batch)
    decode, feed = dec.decode, sync.feed
    for raw in msgs:
        feed(decode(raw, batch), batch)
    return sync.books["BTCUSDT"]


def book_ints(book):
    return (book.top(1, book.depth(1)), book.top(2, book.depth(2)))


@pytest.mark.benchmark(group="decode-e2e")
def test_depth_update_decode_apply(benchmark, depth):
    msgs, model = depth
    assert book_ints(run_bare(msgs)) == model_as_book_ints(model)
    benchmark(run_bare, msgs)
    per_message(benchmark, len(msgs))


@pytest.mark.benchmark(group="decode-e2e")
def test_depth_update_decode_sync_rules(benchmark, depth):
    msgs, model = depth
    st = run_sync(msgs)
    assert st.synced and st.gaps == 0 and book_ints(st.book) == model_as_book_ints(model)
    benchmark(run_sync, msgs)
    per_message(benchmark, len(msgs))


@pytest.mark.benchmark(group="decode-e2e")
def test_agg_trade_decode_apply(benchmark):
    msgs = [AGG_TRADE] * MESSAGES
    dec = BinanceSpotDecoder()
    batch = record.empty(16)
    seg = dec.decode(AGG_TRADE, batch)[0]
    t = batch[0]
    assert (seg.stop, t["price"], t["qty"], t["side"], t["trade_id"]) == (1, 4200101000000, 12500000, 2, 26129)
    assert t["kind"] == record.Kind.TRADE and t["ts_exchange_ns"] == 1700000000499000000
    book = Book(8, 8)

    def run():
        decode, apply = dec.decode, book.apply
        for raw in msgs:
            segs = decode(raw, batch)
            apply(batch, segs[0].stop)  # a trade record leaves the book as it is

    benchmark(run)
    assert len(book) == 0
    per_message(benchmark, len(msgs))


def main() -> None:
    msgs, model = depth_messages()
    assert book_ints(run_bare(msgs)) == model_as_book_ints(model)
    trades = [AGG_TRADE] * MESSAGES

    def trade_run(ms):
        dec, book, batch = BinanceSpotDecoder(), Book(8, 8), record.empty(16)
        for raw in ms:
            book.apply(batch, dec.decode(raw, batch)[0].stop)

    for name, fn, data in (("depthUpdate 10x10 -> Book.apply", run_bare, msgs),
                           ("depthUpdate 10x10 -> BinanceSpotSync.feed", run_sync, msgs),
                           ("aggTrade -> Book.apply", trade_run, trades)):
        wall, cpu = [], []
        for _ in range(15):
            t0, c0 = time.perf_counter(), time.process_time()
            fn(data)
            wall.append((time.perf_counter() - t0) / len(data))
            cpu.append((time.process_time() - c0) / len(data))
        wall.sort()
        cpu.sort()
        med, best, cpu_med = wall[len(wall) // 2], wall[0], cpu[len(cpu) // 2]
        print(json.dumps({"case": name, "us_per_msg_median": round(med * 1e6, 2), "us_per_msg_best": round(best * 1e6, 2),
                          "msgs_per_s_median": round(1 / med), "msgs_per_s_best": round(1 / best),
                          "cpu_us_per_msg_median": round(cpu_med * 1e6, 2)}))


if __name__ == "__main__":
    main()
