"""`nexus run --from-aeron CHANNEL[,STREAM]`: the venue rings come from an Aeron subscription
(a `nexus run --aeron` or `nexus aeron pub` on another host) instead of feed handlers. The
subscriber runs in this process, pumped from the run's poll loop; each announced ring
(`nx-PID-VENUE` on the publishing host) becomes a local ring that the venue's reader attaches to,
so books, consensus and signals are computed exactly as on the publishing host."""

from __future__ import annotations

import os


def parse_spec(spec: str) -> tuple[str, int]:
    """CHANNEL[,STREAM] (stream default 1001)."""
    head, _, tail = spec.rpartition(",")
    if head and tail.isdigit():
        return head, int(tail)
    return spec, 1001


class AeronSource:
    def __init__(self, spec: str, readers: dict) -> None:
        from nexus.aeron import AeronSubscriber, aeron_default_dir, ensure_driver

        channel, stream = parse_spec(spec)
        self.dir = aeron_default_dir()
        self.driver = ensure_driver(self.dir)
        self.sub = AeronSubscriber(self.dir, channel, stream, f"fa{os.getpid()}-")
        self.readers = readers
        self.made: list[str] = []
        self.insts: dict = {}  # venue -> Instrument from the publisher's side file

    def instrument(self, venue: str):
        return self.insts.get(venue)

    def pump(self) -> int:
        from nexus.aeron import instrument_from_meta, write_announced_meta

        n = self.sub.pump(4096)
        for local in write_announced_meta(self.sub):
            self.made.append(local)
            venues = [v for v in self.readers if local.endswith("-" + v)]
            if not venues:
                continue
            v = max(venues, key=len)
            rs = self.readers[v]
            if rs.ring != local:
                if rs.reader is not None:
                    rs.reader.close()
                    rs.reader = None
                rs.ring = local
            inst = instrument_from_meta(local)
            if inst is not None:
                # the publishing host's instrument (its venue listing). Until a ring's side file
                # carries it the venue has no book here (Runtime._instrument_of asks only this
                # source), so a book never starts on a generic scale; a changed exponent starts
                # the book afresh, filled again by the snapshot that follows the announcement
                self.insts[v] = inst
                rs.set_instrument(inst)
        return n

    def stats(self) -> dict:
        return self.sub.stats()

    def close(self) -> None:
        from nexus.aeron import remove_meta_of

        self.sub.close()
        remove_meta_of(self.made)
        if self.driver is not None:
            self.driver.close()
