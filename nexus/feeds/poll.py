"""Poll mode (`nexus run --poll VENUE=SECONDS`): a venue's whole book fetched over REST every
SECONDS (`FeedSpec.poll_path`, Deribit's public/get_order_book) instead of a WebSocket. It
stands in for FeedConnection (same `connected`, `stats`, `start`, `stop`, `drop`, `send`), so
the feed handler, its sync rules and the ring are unchanged: each body is a snapshot.

A rate-limit answer (HTTP 429, or a body `FeedSpec.poll_throttled` recognises: Deribit's
10028 too_many_requests) is counted and doubles the interval (up to POLL_BACKOFF_MAX_S); each
good answer halves it back towards the asked interval. Other failures count as errors and are
retried after the interval; the connection reads as down until a poll succeeds again."""

from __future__ import annotations

import asyncio
import logging
import urllib.error
from typing import Callable

from nexus._native import monotonic_ns
from nexus.feeds.connection import ConnStats
from nexus.feeds.failures import describe
from nexus.feeds.session import rest_call

log = logging.getLogger("nexus.feeds")

POLL_INTERVAL_S_MIN = 0.01
POLL_BACKOFF_MAX_S = 30.0


class PollConnection:
    more_in_read = False  # each body is a read of its own (FeedConnection.more_in_read)

    def __init__(self, venue: str, url: str, interval_s: float, on_message: Callable[[bytes, int], None],
                 on_connect: Callable[[], None] | None = None, throttled: Callable[[bytes], bool] | None = None,
                 prepare=None) -> None:
        self.venue = venue
        self.url = url
        self.interval_s = max(POLL_INTERVAL_S_MIN, interval_s)
        self.delay_s = self.interval_s
        self.on_message_cb = on_message
        self.on_connect_cb = on_connect
        self.throttled = throttled
        self.prepare = prepare
        self.stats = ConnStats()
        self.rate_limited = 0
        self.connected = False
        self._stopping = False
        self._task: asyncio.Task | None = None

    def start(self) -> asyncio.Task:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"poll:{self.venue}")
        return self._task

    def send(self, payload: bytes) -> None:
        pass  # nothing to send on a poll

    def drop(self) -> None:
        pass  # the next poll is a fresh snapshot anyway

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self.connected = False

    def _backoff(self, why: str) -> None:
        self.rate_limited += 1
        self.delay_s = min(POLL_BACKOFF_MAX_S, self.delay_s * 2)
        log.warning("%s: %s; polling every %.2f s", self.venue, why, self.delay_s)

    async def _run(self) -> None:
        while not self._stopping:
            self.stats.attempts += 1
            try:
                if self.prepare is not None:
                    await self.prepare()
                    self.prepare = None
                body = await rest_call(self.url)
            except asyncio.CancelledError:
                raise
            except urllib.error.HTTPError as e:
                body = e.read() if e.fp is not None else b""
                if e.code == 429 or (self.throttled is not None and self.throttled(body)):
                    self._backoff(f"rate limited (HTTP {e.code})")
                else:
                    self._failed(describe(e, self.url))
                await asyncio.sleep(self.delay_s)
                continue
            except Exception as e:
                self._failed(describe(e, self.url))
                await asyncio.sleep(self.delay_s)
                continue
            if self.throttled is not None and self.throttled(body):
                self._backoff("rate limited")
                await asyncio.sleep(self.delay_s)
                continue
            now = monotonic_ns()
            if not self.connected:
                self.connected = True
                self.stats.connects += 1
                if self.stats.connects > 1:
                    self.stats.reconnects += 1
                self.stats.connected_since_ns = now
                self.stats.last_error = ""
                if self.on_connect_cb:
                    self.on_connect_cb()
            self.delay_s = max(self.interval_s, self.delay_s / 2)
            self.stats.msgs += 1
            self.stats.bytes += len(body)
            self.stats.last_msg_ns = now
            try:
                self.on_message_cb(body, now)
            except Exception as e:
                log.exception("%s: message handler failed", self.venue)
                self.stats.last_error = f"handler: {e}"
            await asyncio.sleep(self.delay_s)

    def _failed(self, why: str) -> None:
        if self.connected:
            self.connected = False
            self.stats.disconnects += 1
        self.stats.last_error = why
        log.warning("%s: poll of %s failed: %s", self.venue, self.url, why)
