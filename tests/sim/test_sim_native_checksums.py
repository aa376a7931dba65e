"""Cross-check: the checksums the simulator puts on the wire (its own Python implementation)
equal the ones the native book (nexus._native.Book, implemented separately in Rust) computes
over the same published book."""

import json

from nexus import _native
from nexus.sim import SimCore, fmt


class LastBook:
    def __init__(self):
        self.last = {}

    def deliver(self, venue, events):
        for ch, payload in events:
            if isinstance(payload, str) and '"checksum"' in payload:
                self.last[(venue, ch)] = payload

    def disconnect(self, venue, until):
        pass

    def second(self, t):
        pass


def _native_book(book: dict, price_dec: int, qty_dec: int) -> "_native.Book":
    nb = _native.Book(price_exponent=price_dec, qty_exponent=qty_dec)
    for side, key in ((1, "bids"), (2, "asks")):
        for p, q in book[key]:
            nb.set(side, _native.parse_scaled(p, price_dec), _native.parse_scaled(q, qty_dec))
    return nb


def test_okx_and_kraken_checksums_agree_with_the_native_book():
    e = SimCore(seed=41, venues=["okx-swap", "kraken"], patterns=False)
    rec = LastBook()
    e.sink = rec
    checked = 0
    for _ in range(30):
        e.advance(0.1)
        okx = e.book("okx-swap")
        msg = json.loads(rec.last[("okx-swap", "books:BTC-USDT-SWAP")])
        if msg["data"][0]["seqId"] == okx["seq"]:
            nb = _native_book(okx, 1, 2)
            assert nb.checksum_okx(25) == msg["data"][0]["checksum"]
            checked += 1
        kr = e.book("kraken")
        msg = json.loads(rec.last[("kraken", "book:10:BTC/USD")])
        if fmt.rfc3339(kr["ts_ns"], 6) == msg["data"][0]["timestamp"]:   # the message that made this book
            nb = _native_book(kr, 1, 8)
            assert nb.checksum_kraken(1, 8, 10) == msg["data"][0]["checksum"]
            checked += 1
    assert checked >= 40
