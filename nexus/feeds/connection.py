"""One venue WebSocket connection (picows): subscribe on open, application heartbeats where
the venue wants them, message reassembly, and reconnect with exponential backoff + jitter.

The connection knows nothing about books: it hands each complete message to `on_message`
with its local receive time (CLOCK_MONOTONIC ns) and reports connects / disconnects. The
receive time is the arrival of the socket read that brought the frame in (stamped at the
read's first frame), so a frame queued behind others of the same read counts that wait.
`more_in_read` / `on_read_end` let the handler do per-read work (waking the readers) once, at
the end of the read.

`busy_poll_us` asks the kernel to busy-poll the socket (SO_BUSY_POLL) for that many µs on
a read before sleeping; raising it above net.core.busy_read needs CAP_NET_ADMIN, and a
refusal is logged and kept in `busy_poll_error` (the connection goes on without it).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from time import monotonic_ns

from nexus.feeds.backoff import Backoff
from nexus.feeds.failures import describe
from nexus.feeds.session import Session
from nexus.venues.registry import Heartbeat

log = logging.getLogger("nexus.feeds")

MESSAGE_BYTES_MAX = 16 << 20
SO_BUSY_POLL = getattr(socket, "SO_BUSY_POLL", 46)  # Linux <asm-generic/socket.h>
_TEXT, _BINARY, _CONTINUATION, _CLOSE = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION, WSMsgType.CLOSE
READ_SPAN_NS = 1_000_000  # frames of one read are handled within this, or are stamped anew
_TEXT_VALUE = _TEXT.value


@dataclass
class ConnStats:
    attempts: int = 0  # connection attempts, failed or not
    connects: int = 0
    reconnects: int = 0
    disconnects: int = 0
    msgs: int = 0
    bytes: int = 0
    last_msg_ns: int = 0
    connected_since_ns: int = 0
    last_error: str = ""  # why the last attempt failed (nexus.feeds.failures); "" once connected


class _Listener(WSListener):
    def __init__(self, conn: "FeedConnection"):
        self.conn = conn
        self._parts: list[bytes] = []
        self._size = 0
        self._read_ns = 0       # arrival of the current socket read (its first frame)
        self._new_read = True   # the next frame starts a new read

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.conn._on_connected(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        now = monotonic_ns()
        # a new read; or a read whose last frame picows answered itself (a ping) and never
        # showed here: then the stamp is at most READ_SPAN_NS old
        if self._new_read or now - self._read_ns > READ_SPAN_NS:
            self._read_ns = now
        last = frame.last_in_buffer
        self._new_read = last
        conn = self.conn
        conn.more_in_read = not last
        t = frame.msg_type  # members are singletons: `is` spares the enum comparisons
        if t is not _TEXT and t is not _BINARY and t is not _CONTINUATION:
            if t is _CLOSE:
                transport.disconnect()
            return
        if frame.fin and not self._parts:
            payload = frame.get_payload_as_bytes()
            if conn._screened:
                conn._on_message(payload, self._read_ns)
            else:  # FeedConnection._on_message's plain case, inline (one Python call fewer per message)
                try:
                    conn.on_message_cb(payload, self._read_ns)
                except Exception as e:  # a handler bug must not kill the connection silently
                    conn._handler_failed(e)
                # counted once the handler is done: nothing on the way to the book reads them
                stats = conn.stats
                stats.msgs += 1
                stats.bytes += len(payload)
                stats.last_msg_ns = self._read_ns
            if last and conn.on_read_end is not None:
                conn.on_read_end()
            return
        self._parts.append(frame.get_payload_as_bytes())
        self._size += frame.payload_size
        if self._size > MESSAGE_BYTES_MAX:
            self.conn.stats.last_error = "message larger than the limit"
            transport.disconnect()
        elif frame.fin:
            msg = b"".join(self._parts)
            self._parts.clear()
            self._size = 0
            conn._on_message(msg, self._read_ns)
            if last and conn.on_read_end is not None:
                conn.on_read_end()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.conn._on_disconnected()

    # picows auto-ping with the venue's own application-level ping.
    def send_user_specific_ping(self, transport: WSTransport) -> None:
        hb = self.conn.heartbeat
        if hb.ping is not None:
            transport.send(WSMsgType.TEXT, hb.ping)
        else:
            transport.send_ping()

    def is_user_specific_pong(self, frame: WSFrame) -> bool:
        hb = self.conn.heartbeat
        if hb.pong_marker is None:
            return frame.msg_type == WSMsgType.PONG
        return frame.msg_type == WSMsgType.TEXT and hb.pong_marker in frame.get_payload_as_bytes()


class FeedConnection:
    """Keeps one venue connection alive until `stop()`."""

    def __init__(
        self,
        venue: str,
        url: str,
        subscribe: list[bytes],
        heartbeat: Heartbeat,
        on_message: Callable[[bytes, int], None],
        on_connect: Callable[[], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
        prepare: Callable[[], Awaitable[Session]] | None = None,
        busy_poll_us: int = 0,
    ):
        self.venue = venue
        self.url = url
        self.subscribe = subscribe
        self.heartbeat = heartbeat
        self.on_message_cb = on_message
        self.on_connect_cb = on_connect
        self.on_disconnect_cb = on_disconnect
        self.backoff = backoff or Backoff()
        self.prepare = prepare  # run before every attempt: token flows (nexus.feeds.session)
        self.open_frame: bytes | None = None  # Session.open_frame: subscribe after this message
        self.on_open = None                   # Session.on_open: run with the first message
        self._open_hook_due = False
        self._awaiting_open = False
        self._screened = True   # see _screen (set on each connection)
        # while a message is handled: more frames of the same socket read follow it (their
        # handling can wait for them: on_read_end is called after the read's last frame)
        self.more_in_read = False
        self.on_read_end: Callable[[], None] | None = None
        self.busy_poll_us = busy_poll_us
        self.busy_poll_error: str | None = None  # why SO_BUSY_POLL was refused (None: applied or not asked)
        self.stats = ConnStats()
        self.connected = False
        self._transport: WSTransport | None = None
        self._stopping = False
        self._task: asyncio.Task | None = None

    # -- callbacks from the listener ---------------------------------------------------------
    def _on_connected(self, transport: WSTransport) -> None:
        self._transport = transport
        self.connected = True
        self.stats.connects += 1
        self.stats.last_error = ""
        if self.stats.connects > 1:
            self.stats.reconnects += 1
        self.stats.connected_since_ns = monotonic_ns()
        self.stats.last_msg_ns = self.stats.connected_since_ns
        if self.busy_poll_us:
            self._set_busy_poll(transport)
        if self.on_connect_cb:
            self.on_connect_cb()
        self._open_hook_due = self.on_open is not None
        self._awaiting_open = self.open_frame is not None  # Session.open_frame: subscribe when the server says so
        self._screen()
        if self._awaiting_open:
            return
        for msg in self.subscribe:
            transport.send(WSMsgType.TEXT, msg)

    def _screen(self) -> None:
        """Does a message need looking at before the handler gets it (an open hook due, the open
        frame awaited, the venue's pong or heartbeat request to recognise)? Worked out when one
        of those changes, not per message."""
        hb = self.heartbeat
        self._screened = (self._open_hook_due or self._awaiting_open or hb.pong_marker is not None
                          or hb.answer_marker is not None)

    def warm(self) -> None:
        """Keep-warm (nexus.feeds.handler.VenueFeed.warm): picows hands each frame's type to
        Python as a WSMsgType made by the enum's Python-level constructor, ~4.5 µs on cold
        caches, ~0.2 µs warm (the larger part of the listener's cost on a cold message); making
        one here keeps that code warm. Nothing is sent or received."""
        WSMsgType(_TEXT_VALUE)

    def _set_busy_poll(self, transport: WSTransport) -> None:
        try:
            sock = transport.underlying_transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, SO_BUSY_POLL, self.busy_poll_us)
            self.busy_poll_error = None
        except OSError as e:
            self.busy_poll_error = f"SO_BUSY_POLL refused: {e.strerror or e}"
            log.warning("%s: %s (needs CAP_NET_ADMIN above net.core.busy_read)", self.venue, self.busy_poll_error)

    def _on_message(self, payload: bytes, now: int) -> None:
        stats = self.stats
        stats.msgs += 1
        stats.bytes += len(payload)
        stats.last_msg_ns = now
        if not self._screened:  # no open hook due, no open frame awaited, no heartbeat marker
            try:
                self.on_message_cb(payload, now)
            except Exception as e:  # a handler bug must not kill the connection silently
                self._handler_failed(e)
            return
        if self.on_open is not None and self._open_hook_due:
            self._open_hook_due = False
            self._screen()
            asyncio.get_running_loop().create_task(self._run_open_hook(payload))
        if self._awaiting_open and payload == self.open_frame:
            self._awaiting_open = False
            self._screen()
            for msg in self.subscribe:
                self.send(msg)
        hb = self.heartbeat
        if hb.pong_marker is not None and len(payload) < 64 and hb.pong_marker in payload:
            return  # the venue's pong: liveness only
        if hb.answer_marker is not None and len(payload) < 256 and hb.answer_marker in payload:
            # the venue's heartbeat request: answered, not a market message
            self.send(hb.answer(payload) if callable(hb.answer) else hb.answer)
            return
        try:
            self.on_message_cb(payload, now)
        except Exception as e:  # a handler bug must not kill the connection silently
            self._handler_failed(e)

    def _handler_failed(self, e: Exception) -> None:
        log.exception("%s: message handler failed", self.venue)
        self.stats.last_error = f"handler: {e}"

    def _on_disconnected(self) -> None:
        was = self.connected
        self.connected = False
        self._transport = None
        if was:
            self.stats.disconnects += 1
            if self.on_disconnect_cb:
                self.on_disconnect_cb()

    # -- control -----------------------------------------------------------------------------
    def start(self) -> asyncio.Task:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"feed:{self.venue}")
        return self._task

    def send(self, payload: bytes) -> None:
        if self._transport is not None:
            self._transport.send(WSMsgType.TEXT, payload)

    def drop(self) -> None:
        """Close the current connection (it reconnects): used to resubscribe for a resync."""
        if self._transport is not None:
            self._transport.disconnect()

    async def stop(self) -> None:
        self._stopping = True
        if self._transport is not None:
            self._transport.disconnect()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def _run_open_hook(self, first: bytes) -> None:
        """Session.on_open: its bodies are handled as this connection's messages."""
        transport = self._transport
        try:
            bodies = await self.on_open(first)
        except Exception as e:
            self.stats.last_error = f"on open: {e}"
            log.warning("%s: the request after the connection opened failed: %s", self.venue, e)
            if self._transport is transport:
                self.drop()
            return
        if self._transport is not transport:
            return      # that connection is gone
        for body in bodies:
            try:
                self.on_message_cb(body, monotonic_ns())
            except Exception as e:
                log.exception("%s: message handler failed", self.venue)
                self.stats.last_error = f"handler: {e}"

    async def _ping_every(self, hb: Heartbeat) -> None:
        """The venue's ping on a fixed period (Heartbeat.every_s), whatever the traffic."""
        while True:  # cancelled when the connection ends
            await asyncio.sleep(hb.every_s)
            if hb.ping is not None:
                self.send(hb.ping)
            elif self._transport is not None:
                self._transport.send_ping()

    async def _run(self) -> None:
        while not self._stopping:
            self.stats.attempts += 1
            try:
                if self.prepare is not None:
                    session = await self.prepare()
                    self.url = session.url
                    if session.subscribe is not None:
                        self.subscribe = session.subscribe
                    if session.heartbeat is not None:
                        self.heartbeat = session.heartbeat
                    self.open_frame = session.open_frame
                    self.on_open = session.on_open
                hb = self.heartbeat
                ctx = ssl.create_default_context() if self.url.startswith("wss://") else None
                transport, _ = await ws_connect(
                    lambda: _Listener(self),
                    self.url,
                    ssl_context=ctx,
                    enable_auto_ping=hb.idle_s > 0,
                    auto_ping_idle_timeout=hb.idle_s or 10,
                    auto_ping_reply_timeout=min(hb.idle_s, max(5.0, hb.idle_s / 2)) if hb.idle_s > 0 else 5.0,
                    websocket_handshake_timeout=10,
                )
                t_up = time.monotonic()
                pinger = asyncio.get_running_loop().create_task(self._ping_every(hb)) if hb.every_s > 0 else None
                try:
                    await transport.wait_disconnected()
                finally:
                    if pinger is not None:
                        pinger.cancel()
                self.backoff.connected_for(time.monotonic() - t_up)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.stats.last_error = describe(e, self.url)
                log.warning("%s: connect to %s failed: %s", self.venue, self.url, self.stats.last_error)
            if self._stopping:
                break
            await asyncio.sleep(self.backoff.next_delay())
