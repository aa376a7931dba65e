"""The harness the fused-path property tests share (tests/venues/*/test_*_fused.py): one
decoder + sync whose books publish every change through the feed handler's PublishingBook, as
the handler wires them, fed as every caller feeds them (decode, then `Sync.feed` of what it
gives). A venue's test builds its decoder and sync, and names the sync state it compares."""
from nexus import record
from nexus.exceptions import BatchFull, DecodeError
from nexus.feeds.handler import PublishingBook
from nexus.venues.base import APPLIED

_CLEAR = int(record.Kind.BOOK_CLEAR)


class FusedPipeline:
    def __init__(self, dec, sync, fused: bool, venue_id: int) -> None:
        self.dec, self.sync = dec, sync
        if fused:
            sync.fuse()
        self.taken = 0                 # frames the fused path applied
        self.ring: list[bytes] = []
        orig = sync.state

        def state(inst):
            s = orig(inst)
            if not isinstance(s.book, PublishingBook):
                s.book = PublishingBook(s.book, self._publish, venue_id, inst.instrument_id)
            return s

        sync.state = state
        self.batch = record.empty(4)  # small: BatchFull and its retry are exercised too

    def _publish(self, recs) -> None:
        r = recs.copy()
        r["ts_local_ns"][r["kind"] == _CLEAR] = 0  # PublishingBook stamps its clears with the clock
        self.ring.append(r.tobytes())

    def frame(self, raw: bytes, ts: int) -> None:
        while True:
            try:
                segs = self.dec.decode(raw, self.batch, ts)
            except BatchFull as e:
                self.batch = record.empty(max(e.needed, 2 * len(self.batch)))
                continue
            except DecodeError:
                return
            break
        if segs is APPLIED:
            self.taken += 1
            # the crossed state a fused answer carries (index 3 for every venue) is a bool, as
            # BookState.is_crossed is after every frame (booksync CROSSED_CHANGED)
            assert type(self.sync.last_fused[3]) is bool, self.sync.last_fused
            self.on_applied()
        self.sync.feed(segs, self.batch)
        assert all(type(s.is_crossed) is bool for s in self.sync.books.values())

    def on_applied(self) -> None:
        """A venue's extra check on a frame the fused path applied."""

    def fields(self, s) -> tuple:
        """The sync state of one book the fused and the general path must leave equal."""
        raise NotImplementedError

    def state_of(self):
        return [(sym, *self.fields(s)) for sym, s in sorted(self.sync.books.items())], list(self.sync.notes)
