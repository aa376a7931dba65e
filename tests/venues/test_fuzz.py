"""Hypothesis fuzzing of every decoder and sync.

1. No crash: random bytes, random JSON and randomly damaged real frames either decode or
   raise DecodeError (a clear rejection); whatever decodes can be fed to the sync.
2. No wrong book: a random true book history is rendered as each venue's wire messages
   (by the small renderers below, written from the venues' documented formats), then
   delivered with random faults (lost, repeated, swapped messages; snapshots at random
   points). Whenever the sync says a book is in sync it must equal the true book at the
   message it last applied; the checksums the renderers put in OKX and Kraken messages are
   computed here with zlib from check strings built by the documented rules.
"""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nexus import record
from nexus._native import parse_scaled
from nexus.exceptions import DecodeError
from nexus.venues.base import ASK, BID
from nexus.venues.registry import load, names

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "venues"
VENUES = sorted(names())
SETTINGS = dict(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode_or_reject(venue: str, raw: bytes) -> None:
    m = load(venue)
    dec = m.Decoder()
    dec.rest_symbol = {"binance-spot": "BTCUSDT", "binance-perp": "BTCUSDT"}.get(venue)
    sync = m.Sync(dec)
    batch = record.empty(1 << 12)
    try:
        segs = dec.decode(raw, batch)
    except DecodeError as e:
        assert str(e)  # a reason is given
        return
    sync.feed(segs, batch)


@pytest.mark.parametrize("venue", VENUES)
@settings(**SETTINGS)
@given(raw=st.binary(max_size=300))
def test_random_bytes_are_decoded_or_rejected(venue, raw):
    decode_or_reject(venue, raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5),
    max_leaves=30,
)
KEYS = ["e", "s", "U", "u", "pu", "b", "a", "E", "T", "p", "q", "m", "lastUpdateId", "bids", "asks",
        "topic", "type", "data", "ts", "arg", "action", "channel", "instId", "seqId", "prevSeqId",
        "checksum", "events", "sequence_num", "timestamp", "symbol", "price", "qty", "levels", "coin",
        "time", "px", "sz", "side", "product_id", "updates", "trades"]
venue_like = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8)


@pytest.mark.parametrize("venue", VENUES)
@settings(**SETTINGS)
@given(doc=json_values | venue_like)
def test_random_json_is_decoded_or_rejected(venue, doc):
    decode_or_reject(venue, json.dumps(doc).encode())


def fixture_lines(venue: str) -> list[bytes]:
    lines = []
    for f in sorted((FIXTURES / venue).glob("*.jsonl")):
        lines.extend(x for x in f.read_bytes().splitlines() if x.strip())
    return lines


@pytest.mark.parametrize("venue", VENUES)
@settings(**SETTINGS)
@given(data=st.data())
def test_damaged_real_frames_are_decoded_or_rejected(venue, data):
    lines = fixture_lines(venue)
    raw = bytearray(data.draw(st.sampled_from(lines)))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        i = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[i] = data.draw(st.sampled_from(b'0123456789.-"[]{},:eE ax'))
        elif op == "cut":
            del raw[i:]
        elif op == "insert":
            raw[i:i] = data.draw(st.sampled_from([b"0", b"-", b".", b'"', b",", b"[]", b"{}", b"1e5"]))
        elif raw:
            del raw[i]
    decode_or_reject(venue, bytes(raw))


# -- model-based: no wrong book ----------------------------------------------------------------

def canon(d: Decimal) -> str:
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def px(p: int) -> str:  # price tick p -> "1000.3" (tick 0.1: every venue's BTC instrument holds it)
    return canon(Decimal(10000 + p) / 10)


def qx(q: int) -> str:  # size units of 0.1
    return canon(Decimal(q) / 10)


class Model:
    """The true book after each message of the history."""

    def __init__(self, depth_limit: int | None = None) -> None:
        self.books: list[dict] = [{BID: {}, ASK: {}}]
        self.depth_limit = depth_limit
        self.seq_base: dict[int, int] = {}  # Bitfinex: the first SEQ_ALL number of each step
        self.seq_next = 1

    def apply(self, changes) -> None:
        b = {BID: dict(self.books[-1][BID]), ASK: dict(self.books[-1][ASK])}
        for side, p, q in changes:
            if q:
                b[side][p] = q
            else:
                b[side].pop(p, None)
        if self.depth_limit:
            for side, rev in ((BID, True), (ASK, False)):
                keep = sorted(b[side], reverse=rev)[:self.depth_limit]
                b[side] = {p: b[side][p] for p in keep}
        self.books.append(b)

    def sorted(self, k: int):
        b = self.books[k]
        return (sorted(b[BID].items(), reverse=True), sorted(b[ASK].items()))


changes_st = st.lists(st.tuples(st.sampled_from([BID, ASK]), st.integers(0, 30), st.integers(0, 40)),
                      min_size=1, max_size=4)
faults_st = st.sampled_from(["ok"] * 6 + ["drop", "dup", "swap", "snap"])


def as_book_ints(model_sorted, inst):
    pe, qe = inst.price_exponent, inst.qty_exponent
    return tuple([(parse_scaled(px(p), pe), parse_scaled(qx(q), qe)) for p, q in side] for side in model_sorted)


def book_ints(st_):
    b = st_.book
    return (b.top(BID, b.depth(BID)), b.top(ASK, b.depth(ASK)))


def okx_checksum(model_sorted) -> int:
    bids, asks = model_sorted
    parts = []
    for i in range(25):
        for side in (bids, asks):
            if i < len(side):
                parts += [px(side[i][0]), qx(side[i][1])]
    c = zlib.crc32(":".join(parts).encode())
    return c - (1 << 32) if c >= 1 << 31 else c


def kraken_checksum(model_sorted) -> int:
    bids, asks = model_sorted

    def f(v: Decimal, prec: int) -> str:
        return format(v, f".{prec}f").replace(".", "").lstrip("0") or "0"

    s = "".join(f(Decimal(px(p)), 1) + f(Decimal(qx(q)), 8) for p, q in asks[:10] + bids[:10])
    return zlib.crc32(s.encode())


def render(venue: str, k: int, model: Model, changes, snapshot: bool) -> bytes:
    """Message k of the history (the state after it is model.books[k])."""
    ms = model.sorted(k)
    lv = lambda side: [[px(p), qx(q)] for p, q in side]  # noqa: E731
    ch = lambda s: [[px(p), qx(q)] for sd, p, q in changes if sd == s]  # noqa: E731
    if venue == "mexc" and not snapshot:  # a protobuf push (MEXC's schema), fromVersion/toVersion
        from nexus.venues.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
        m = PushDataV3ApiWrapper(channel="spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT", symbol="BTCUSDT",
                                 sendTime=1700000000000 + k)
        for side, rows in ((m.publicAggreDepths.bids, ch(BID)), (m.publicAggreDepths.asks, ch(ASK))):
            for p, q in rows:
                side.add(price=p, quantity=q)
        m.publicAggreDepths.fromVersion = str(10 * (k - 1) + 1)
        m.publicAggreDepths.toVersion = str(10 * k)
        return m.SerializeToString()
    if venue in ("binance-spot", "binance-perp", "aster", "binance-rwa", "mexc"):
        if snapshot:
            return json.dumps({"lastUpdateId": 10 * k, "bids": lv(ms[0]), "asks": lv(ms[1])}).encode()
        d = {"e": "depthUpdate", "E": 1700000000000 + k, "s": "BTCUSDT", "U": 10 * (k - 1) + 1, "u": 10 * k,
             "b": ch(BID), "a": ch(ASK)}
        if venue in ("binance-perp", "aster"):
            d["pu"] = 10 * (k - 1)
        return json.dumps(d).encode()
    if venue == "bybit-perp":
        return json.dumps({"topic": "orderbook.50.BTCUSDT", "type": "snapshot" if snapshot else "delta",
                           "ts": 1700000000000 + k, "data": {"s": "BTCUSDT", "b": lv(ms[0]) if snapshot else ch(BID),
                           "a": lv(ms[1]) if snapshot else ch(ASK), "u": k + 1, "seq": 1000 + k}}).encode()
    if venue == "okx-swap":
        four = lambda rows: [r + ["0", "1"] for r in rows]  # noqa: E731
        return json.dumps({"arg": {"channel": "books", "instId": "BTC-USDT-SWAP"},
                           "action": "snapshot" if snapshot else "update",
                           "data": [{"asks": four(lv(ms[1]) if snapshot else ch(ASK)),
                                     "bids": four(lv(ms[0]) if snapshot else ch(BID)), "ts": str(1700000000000 + k),
                                     "checksum": okx_checksum(ms), "prevSeqId": -1 if snapshot else 10 * (k - 1),
                                     "seqId": 10 * k}]}).encode()
    if venue == "coinbase":
        rows = ([("bid", p, q) for p, q in ms[0]] + [("offer", p, q) for p, q in ms[1]] if snapshot else
                [("bid" if sd == BID else "offer", p, q) for sd, p, q in changes])
        return json.dumps({"channel": "l2_data", "client_id": "", "timestamp": "2023-02-09T20:32:50.714964855Z",
                           "sequence_num": k, "events": [{"type": "snapshot" if snapshot else "update",
                           "product_id": "BTC-USD", "updates": [{"side": s, "event_time": "1970-01-01T00:00:00Z",
                           "price_level": px(p), "new_quantity": qx(q)} for s, p, q in rows]}]}).encode()
    if venue == "kraken":
        num = lambda rows: ", ".join(f'{{"price": {Decimal(px(p)):.1f}, "qty": {Decimal(qx(q)):.8f}}}' for p, q in rows)  # noqa: E731
        bids = ms[0] if snapshot else [(p, q) for sd, p, q in changes if sd == BID]
        asks = ms[1] if snapshot else [(p, q) for sd, p, q in changes if sd == ASK]
        return ('{"channel":"book","type":"%s","data":[{"symbol":"BTC/USD","bids":[%s],"asks":[%s],"checksum":%d,'
                '"timestamp":"2023-10-06T17:35:55.440295Z"}]}' % ("snapshot" if snapshot else "update", num(bids),
                                                                 num(asks), kraken_checksum(ms))).encode()
    if venue == "hyperliquid":
        return json.dumps({"channel": "l2Book", "data": {"coin": "BTC", "time": 1700000000000 + k, "levels": [
            [{"px": px(p), "sz": qx(q), "n": 1} for p, q in ms[0]],
            [{"px": px(p), "sz": qx(q), "n": 1} for p, q in ms[1]]]}}).encode()
    if venue == "kucoin":  # REST snapshot (sequence 10k) and level2 increments, per-change sequences
        if snapshot:
            return json.dumps({"code": "200000", "data": {"time": 1700000000000 + k, "sequence": str(10 * k),
                                                          "bids": lv(ms[0]), "asks": lv(ms[1])}}).encode()
        first = 10 * (k - 1) + 1
        chs = lambda s: [[px(p), qx(q), str(first + min(i, 9))] for i, (sd, p, q) in enumerate(changes) if sd == s]  # noqa: E731
        return json.dumps({"type": "message", "topic": "/market/level2:BTC-USDT", "subject": "trade.l2update",
                           "data": {"changes": {"asks": chs(ASK), "bids": chs(BID)}, "sequenceEnd": 10 * k,
                                    "sequenceStart": first, "symbol": "BTC-USDT", "time": 1700000000000 + k}}).encode()
    if venue == "gate":  # REST book (id 10k) and spot.order_book_update U/u
        if snapshot:
            return json.dumps({"id": 10 * k, "current": 1700000000000 + k, "update": 1700000000000 + k,
                               "asks": lv(ms[1]), "bids": lv(ms[0])}).encode()
        return json.dumps({"time": 1700000000, "time_ms": 1700000000000 + k, "channel": "spot.order_book_update",
                           "event": "update", "result": {"t": 1700000000000 + k, "e": "depthUpdate", "E": 1700000000,
                                                         "s": "BTC_USDT", "U": 10 * (k - 1) + 1, "u": 10 * k,
                                                         "b": ch(BID), "a": ch(ASK)}}).encode()
    if venue == "bitget":
        return json.dumps({"action": "snapshot" if snapshot else "update",
                           "arg": {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"},
                           "data": [{"asks": lv(ms[1]) if snapshot else ch(ASK), "bids": lv(ms[0]) if snapshot else ch(BID),
                                     "checksum": okx_checksum(ms), "seq": 10 * k, "ts": str(1700000000000 + k)}],
                           "ts": 1700000000000 + k}).encode()
    if venue == "bitfinex":
        # One frame per level, then the `cs` frame; SEQ_ALL numbers run on across the steps.
        entry = lambda sd, p, q: [px(p), 1 if q else 0, (qx(q) if q else "1") if sd == BID  # noqa: E731
                                  else ("-" + qx(q) if q else "-1")]
        if snapshot:
            bodies = [[entry(BID, p, q) for p, q in ms[0]] + [entry(ASK, p, q) for p, q in ms[1]]]
        else:
            bodies = [entry(sd, p, q) for sd, p, q in changes]
        base = model.seq_base.setdefault(k, model.seq_next)
        model.seq_next = max(model.seq_next, base + len(bodies) + 1)
        cs = bitfinex_checksum(ms)
        frames = [("[17082,%s,%d]" % (json.dumps(b).replace('"', ""), base + j)).encode() for j, b in enumerate(bodies)]
        return frames + [b'[17082,"cs",%d,%d]' % (cs, base + len(bodies))]
    if venue == "deribit":
        def dlv(rows, deltas):
            if not deltas:
                return "[" + ",".join(f'["new",{px(p)},{qx(q)}]' for p, q in rows) + "]"
            return "[" + ",".join(f'["{"change" if q else "delete"}",{px(p)},{qx(q)}]' for p, q in rows) + "]"
        bids = ms[0] if snapshot else [(p, q) for sd, p, q in changes if sd == BID]
        asks = ms[1] if snapshot else [(p, q) for sd, p, q in changes if sd == ASK]
        prev = "" if snapshot else f',"prev_change_id":{k - 1}'
        return ('{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":'
                '{"type":"%s","timestamp":%d,"instrument_name":"BTC-PERPETUAL","change_id":%d%s,"bids":%s,"asks":%s}}}'
                % ("snapshot" if snapshot else "change", 1700000000000 + k, k, prev, dlv(bids, not snapshot),
                   dlv(asks, not snapshot))).encode()
    if venue == "cryptocom":
        three = lambda rows: [r + ["1"] for r in rows]  # noqa: E731
        if snapshot:
            data = {"bids": three(lv(ms[0])), "asks": three(lv(ms[1])), "t": 1700000000000 + k, "u": 10 * k}
        else:
            data = {"update": {"bids": three(ch(BID)), "asks": three(ch(ASK))}, "t": 1700000000000 + k,
                    "u": 10 * k, "pu": 10 * (k - 1)}
        return json.dumps({"id": -1, "method": "subscribe", "code": 0, "result": {
            "instrument_name": "BTCUSD-PERP", "channel": "book" if snapshot else "book.update", "data": [data]}}).encode()
    if venue == "dydx":
        if snapshot:
            return json.dumps({"type": "subscribed", "connection_id": "c", "message_id": k + 1, "channel": "v4_orderbook",
                               "id": "BTC-USD", "contents": {"bids": [{"price": p, "size": q} for p, q in lv(ms[0])],
                                                             "asks": [{"price": p, "size": q} for p, q in lv(ms[1])]}}).encode()
        return json.dumps({"type": "channel_data", "connection_id": "c", "message_id": k + 1, "id": "BTC-USD",
                           "channel": "v4_orderbook", "version": "1.0.0",
                           "contents": {"bids": ch(BID), "asks": ch(ASK)}}).encode()
    if venue == "tradovate":   # each DOM is the whole book; prices and sizes are JSON numbers
        lvs = lambda side: ",".join(f'{{"price":{px(p)},"size":{qx(q)}}}' for p, q in side)  # noqa: E731
        return ('a[{"e":"md","d":{"doms":[{"contractId":1,"timestamp":"2023-11-14T22:13:20.%03dZ",'
                '"bids":[%s],"offers":[%s]}]}}]' % (k, lvs(ms[0]), lvs(ms[1]))).encode()
    raise AssertionError(venue)


def bitfinex_checksum(model_sorted) -> int:
    bids, asks = model_sorted
    parts = []
    for i in range(25):
        if i < len(bids):
            parts += [px(bids[i][0]), qx(bids[i][1])]
        if i < len(asks):
            parts += [px(asks[i][0]), "-" + qx(asks[i][1])]
    c = zlib.crc32(":".join(parts).encode())
    return c - (1 << 32) if c >= 1 << 31 else c


SYMBOL = {"binance-spot": "BTCUSDT", "binance-perp": "BTCUSDT", "bybit-perp": "BTCUSDT", "okx-swap": "BTC-USDT-SWAP",
          "coinbase": "BTC-USD", "kraken": "BTC/USD", "hyperliquid": "BTC", "kucoin": "BTC-USDT", "gate": "BTC_USDT",
          "bitget": "BTCUSDT", "bitfinex": "tBTCUSD",
          "mexc": "BTCUSDT", "aster": "BTCUSDT", "binance-rwa": "BTCUSDT",
          "deribit": "BTC-PERPETUAL", "cryptocom": "BTCUSD-PERP", "dydx": "BTC-USD",
          "tradovate": "1"}
# FXCM publishes the touch only (one level a side, no sizes): no multi-level model applies.
MODEL_VENUES = [v for v in VENUES if v != "fxcm"]


def applied_index(venue: str, st_, delivered: int, model: Model | None = None) -> int:
    """The history index whose state the synced book must hold."""
    if venue == "bitfinex":  # the step whose SEQ_ALL numbers hold the last book frame applied
        return max(k for k, base in model.seq_base.items() if base <= st_.last_seq)
    if venue in ("binance-spot", "binance-perp", "okx-swap", "kucoin", "gate", "bitget", "mexc", "aster", "binance-rwa"):
        return st_.last_seq // 10
    if venue in ("bybit-perp", "dydx"):
        return st_.last_seq - 1
    if venue == "deribit":
        return st_.last_seq
    if venue == "cryptocom":
        return st_.last_seq // 10
    if venue == "coinbase":
        return st_.last_seq
    if venue in ("hyperliquid", "tradovate"):
        return (st_.last_ts - 1700000000000 * 10**6) // 10**6
    return delivered  # kraken: the message just delivered, verified by its checksum


@pytest.mark.parametrize("venue", MODEL_VENUES)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(st.tuples(changes_st, faults_st), min_size=3, max_size=30))
def test_a_synced_book_is_never_wrong(venue, history):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEXUS_BINANCE_RWA_ASSETS", "BTC")  # binance-rwa: the model's symbol is BTCUSDT
        _never_wrong(venue, history)


def _never_wrong(venue, history):
    m = load(venue)
    dec = m.Decoder()
    dec.rest_symbol = SYMBOL[venue]
    if venue == "kraken":  # its checksum writes values at the listed precision (1 and 8 for BTC/USD)
        dec.load_metadata((FIXTURES / "kraken" / "instruments.json").read_bytes())
    sync = m.Sync(dec)
    batch = record.empty(1 << 12)
    model = Model(depth_limit=10 if venue == "kraken" else None)
    inst = dec.instrument(SYMBOL[venue])
    rest = venue.startswith("binance") or venue in ("kucoin", "gate", "mexc", "aster")  # snapshots from REST

    # The wire: message 0 is a snapshot of the empty book (a REST body for Binance), then one
    # message per history step, with faults.
    wire: list[tuple[int, bytes]] = []
    if venue == "bitfinex":
        wire.append((-1, b'{"event":"subscribed","channel":"book","chanId":17082,"symbol":"tBTCUSD","prec":"P0",'
                         b'"freq":"F0","len":"25","pair":"BTCUSD"}'))
    if venue == "kraken":
        wire.append((-1, b'{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,'
                         b'"symbol":"BTC/USD"},"success":true}'))
    first_snapshot = render(venue, 0, model, [], True)
    if not rest:
        wire.append((0, first_snapshot))
    pending_swap = None
    for k, (changes, fault) in enumerate(history, 1):
        if venue == "dydx":  # an uncrossed market: dYdX's own uncrossing is tested on its fixtures
            changes = [(sd, p // 2 if sd == BID else 16 + p // 2, q) for sd, p, q in changes]
        model.apply(changes)
        msg = (k, render(venue, k, model, changes, venue in ("hyperliquid", "tradovate")))
        if fault == "drop":
            continue
        if fault == "snap":
            wire.append((k, render(venue, k, model, changes, True)))
            continue
        if pending_swap is not None:
            wire.extend([msg, pending_swap])
            pending_swap = None
            continue
        if fault == "swap":
            pending_swap = msg
            continue
        wire.append(msg)
        if fault == "dup":
            wire.append(msg)
        if rest and k == 2:
            wire.append((0, first_snapshot))  # a REST snapshot received late, the stream buffered
    if pending_swap is not None:
        wire.append(pending_swap)

    checked = 0
    for k, raw in wire:
        for frame in (raw if isinstance(raw, list) else [raw]):  # Bitfinex: a step is several frames
            segs = dec.decode(frame, batch)
            sync.feed(segs, batch)
        state = sync.books.get(SYMBOL[venue])
        if state is not None and state.synced:
            idx = applied_index(venue, state, k, model)
            assert book_ints(state) == as_book_ints(model.sorted(idx), inst), (venue, k, idx)
            checked += 1
    if all(f == "ok" for _, f in history):  # a clean stream ends in sync, on the last state
        state = sync.books[SYMBOL[venue]]
        assert state.synced and checked >= len(history) - 2
        assert book_ints(state) == as_book_ints(model.sorted(len(history)), inst)
