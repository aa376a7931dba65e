"""Record raw venue frames (and Binance REST snapshots) to a recording file.

Each venue's instrument listing (`FeedSpec.instruments_path`, fetched before its first
connection as the live feed does) is saved too: an EVENT {"event":"instruments","path":..}
then the body as a REST entry, so a replay decodes with the precision the venue gave."""

from __future__ import annotations

import asyncio
import logging
import urllib.request

from nexus._native import monotonic_ns
from nexus.feeds.connection import FeedConnection
from nexus.feeds.failures import PrepareError
from nexus.feeds.recording import CHUNK_AGE_S_MAX, FRAME, REST, RecordingWriter
from nexus.feeds.session import Session, rest_call
from nexus.venues.registry import FeedSpec
from nexus.venues import venue_id

log = logging.getLogger("nexus.feeds")

SNAPSHOT_DELAY_S = 0.5  # let a few diffs buffer first, as Binance's procedure requires
REST_TIMEOUT_S = 10
TICK_S = 1.0                         # progress callback period
FLUSH_CHECK_S = CHUNK_AGE_S_MAX / 2  # so no frame waits in memory longer than a second


def fetch_rest(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=REST_TIMEOUT_S) as r:  # noqa: S310 (venue URL)
        return r.read()


class FeedRecorder:
    """Connects to each venue and writes every message it receives, as received."""

    def __init__(self, writer: RecordingWriter, specs: dict[str, FeedSpec], symbol: str,
                 ws_urls: dict[str, str], rest_urls: dict[str, str]):
        self.writer = writer
        self.conns: dict[str, FeedConnection] = {}
        self._listings: dict[int, tuple[bytes, ...]] = {}  # venue id -> Session.metadata to write
        self.rest_errors = 0
        self._tasks: set[asyncio.Task] = set()
        for venue, spec in specs.items():
            vsym = spec.symbol_of(symbol)
            vid = venue_id(venue)
            rest = rest_urls.get(venue, spec.rest_url)

            def on_msg(payload: bytes, ts: int, vid=vid) -> None:
                self.writer.write(ts, vid, FRAME, payload)

            def on_connect(venue=venue, vid=vid, spec=spec, vsym=vsym, rest=rest) -> None:
                self.writer.event(monotonic_ns(), vid, event="connected", venue=venue, symbol=vsym)
                for body in self._listings.pop(vid, ()):
                    self.writer.write(monotonic_ns(), vid, FRAME, body)
                if spec.snapshot_path and rest:
                    t = asyncio.get_running_loop().create_task(self._snapshot(vid, rest + spec.snapshot_path(vsym)))
                    self._tasks.add(t)
                    t.add_done_callback(self._tasks.discard)

            def on_disconnect(venue=venue, vid=vid) -> None:
                self.writer.event(monotonic_ns(), vid, event="disconnected", venue=venue)

            ws = ws_urls.get(venue, spec.ws_url)
            prepare = None
            if spec.prepare is not None or (spec.instruments_path is not None and rest):
                listed = [spec.instruments_path is None or not rest]

                async def prepare(spec=spec, ws=ws, rest=rest, vsym=vsym, vid=vid, listed=listed):
                    if not listed[0]:
                        await self._instruments(vid, spec, rest, vsym)
                        listed[0] = True
                    if spec.prepare is None:
                        return Session(ws)
                    session = await spec.prepare(ws, rest, vsym)
                    # the listings the token flow fetched: written after "connected" (a replay
                    # starts a fresh decoder there), for the replay's decoder
                    self._listings[vid] = session.metadata
                    return session
            self.conns[venue] = FeedConnection(
                venue, ws, spec.subscribe(vsym), spec.heartbeat, on_msg, on_connect, on_disconnect,
                prepare=prepare,
            )

    async def _instruments(self, vid: int, spec: FeedSpec, rest: str, vsym: str) -> None:
        """The venue's instrument listing, saved as an `instruments` event then a REST entry."""
        path = spec.instruments_path(vsym)
        post = spec.instruments_body(vsym) if spec.instruments_body else None
        try:
            body = await rest_call(rest + path, "POST" if post is not None else "GET", post,
                                   {"Content-Type": "application/json"} if post is not None else None)
        except Exception as e:
            self.rest_errors += 1
            log.warning("instrument listing %s failed: %s", rest + path, e)
            self.writer.event(monotonic_ns(), vid, event="rest_error", url=rest + path, error=str(e))
            raise PrepareError.of("instrument listing", rest + path, e) from e  # retried, as live
        self.writer.event(monotonic_ns(), vid, event="instruments", path=path)
        self.writer.write(monotonic_ns(), vid, REST, body)

    async def _snapshot(self, vid: int, url: str) -> None:
        await asyncio.sleep(SNAPSHOT_DELAY_S)
        try:
            body = await asyncio.to_thread(fetch_rest, url)
        except Exception as e:
            self.rest_errors += 1
            log.warning("REST snapshot %s failed: %s", url, e)
            self.writer.event(monotonic_ns(), vid, event="rest_error", url=url, error=str(e))
            return
        self.writer.write(monotonic_ns(), vid, REST, body)

    async def run(self, duration_s: float, stop: asyncio.Event, tick=None) -> None:
        for c in self.conns.values():
            c.start()
        clock = asyncio.get_running_loop().time
        t_end = clock() + duration_s
        next_tick = clock() + TICK_S
        try:
            while not stop.is_set():
                left = t_end - clock()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(stop.wait(), timeout=min(FLUSH_CHECK_S, left))
                except asyncio.TimeoutError:
                    pass
                self.writer.flush_due()  # a quiet feed must not keep its last frames in memory
                if tick and clock() >= next_tick:
                    next_tick += TICK_S
                    tick(self)
        finally:
            for c in self.conns.values():
                await c.stop()
            for t in list(self._tasks):
                t.cancel()

    def summary(self) -> dict:
        return {
            "frames": self.writer.frames,
            "bytes_in": self.writer.bytes_in,
            "bytes_out": self.writer.bytes_out,
            "rest_errors": self.rest_errors,
            "venues": {v: {"msgs": c.stats.msgs, "reconnects": c.stats.reconnects, "attempts": c.stats.attempts,
                           "connected": c.connected, "last_error": c.stats.last_error} for v, c in self.conns.items()},
        }

