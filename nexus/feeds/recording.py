"""Recordings of raw venue frames with their local receive times.

File layout (little-endian):
    b"NXREC001" | u32 header_len | header JSON (venues, symbol, started_at, ...)
    then chunks:  b"CK" | u32 compressed_len | u32 raw_len | u32 n_frames | zlib(frames)
    frame:        i64 ts_local_ns | u16 venue_id | u8 kind | u32 len | payload

Kinds: FRAME (a WebSocket message as received), REST (a REST response body, e.g. a
Binance depth snapshot), EVENT (a JSON connection event: connected / disconnected, so a
replay resets the venue's decoder exactly where the live run did).

The writer puts the header on disk at once and holds at most one chunk in memory: it flushes
it compressed when it reaches `chunk_bytes` (default 1 MiB) or when its oldest frame is
CHUNK_AGE_S_MAX old (on the next write, or on `flush_due()` which a recorder calls on a timer),
so a killed writer loses at most the last second. A reader stops at a truncated or damaged
chunk (a crash mid-write, a damaged disk) after every whole chunk before it and says what
could not be read (`damage`).
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from nexus.exceptions import NexusError
from nexus.feeds.outputs import open_output

MAGIC = b"NXREC001"
CHUNK_MAGIC = b"CK"
CHUNK_HEAD = struct.Struct("<2sIII")
FRAME_HEAD = struct.Struct("<qHBI")
DEFAULT_CHUNK_BYTES = 1 << 20
CHUNK_AGE_S_MAX = 0.5  # a chunk is flushed this long after its first frame at the latest
FRAME_BYTES_MAX = 64 << 20

FRAME, REST, EVENT = 0, 1, 2
KIND_NAMES = {FRAME: "frame", REST: "rest", EVENT: "event"}


class RecordingError(NexusError):
    """A recording file is missing, not a Nexus recording, or damaged."""


@dataclass(frozen=True, slots=True)
class Frame:
    ts_local_ns: int
    venue_id: int
    kind: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Damage:
    """Where a recording stops being readable and how much of it could not be read."""

    offset: int                # the first byte that could not be used
    bytes_lost: int            # from there to the end of the file
    frames_lost: int | None    # frames the cut chunk held, when its header survived
    reason: str

    def __str__(self) -> str:
        frames = f" ({self.frames_lost:,} frames)" if self.frames_lost is not None else ""
        return (f"{self.reason} at byte {self.offset:,}: the last {self.bytes_lost:,} bytes{frames} "
                f"could not be read; every whole chunk before them was")


class RecordingWriter:
    """Writes a recording, private to its owner (nexus.feeds.outputs); an existing file is
    refused unless `force`."""

    def __init__(self, path: str | Path, header: dict, chunk_bytes: int = DEFAULT_CHUNK_BYTES, level: int = 1,
                 chunk_age_s_max: float = CHUNK_AGE_S_MAX, force: bool = False):
        self.path = Path(path)
        self._f: BinaryIO = open_output(self.path, force)
        head = json.dumps({"format": "nexus-recording", "version": 1, "created_unix_s": time.time(), **header}).encode()
        self._f.write(MAGIC + struct.pack("<I", len(head)) + head)
        self._f.flush()  # a writer killed before its first chunk still leaves a valid recording
        self._buf = bytearray()
        self._n = 0
        self._first_ns = 0  # monotonic time of the oldest buffered frame
        self._age_ns_max = int(chunk_age_s_max * 1e9)
        self._chunk_bytes = chunk_bytes
        self._level = level
        self.frames = 0
        self.bytes_in = 0
        self.bytes_out = self._f.tell()

    def write(self, ts_local_ns: int, venue_id: int, kind: int, payload: bytes | memoryview) -> None:
        now = time.monotonic_ns()
        if not self._n:
            self._first_ns = now
        self._buf += FRAME_HEAD.pack(ts_local_ns, venue_id, kind, len(payload))
        self._buf += payload
        self._n += 1
        self.frames += 1
        self.bytes_in += len(payload)
        if len(self._buf) >= self._chunk_bytes or now - self._first_ns >= self._age_ns_max:
            self.flush()

    def flush_due(self) -> None:
        """Flush the chunk if its oldest frame is CHUNK_AGE_S_MAX old (call on a timer: frames
        may stop arriving)."""
        if self._n and time.monotonic_ns() - self._first_ns >= self._age_ns_max:
            self.flush()

    def event(self, ts_local_ns: int, venue_id: int, **fields) -> None:
        self.write(ts_local_ns, venue_id, EVENT, json.dumps(fields, separators=(",", ":")).encode())

    def flush(self) -> None:
        if not self._n:
            return
        comp = zlib.compress(bytes(self._buf), self._level)
        self._f.write(CHUNK_HEAD.pack(CHUNK_MAGIC, len(comp), len(self._buf), self._n))
        self._f.write(comp)
        self._f.flush()
        self.bytes_out += CHUNK_HEAD.size + len(comp)
        self._buf.clear()
        self._n = 0

    def close(self) -> None:
        if self._f.closed:
            return
        self.flush()
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RecordingReader:
    """Iterate the frames of a recording, one chunk in memory at a time. A truncated or
    damaged chunk ends the iteration; `damage` then says where and how much was lost."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._f: BinaryIO = open(self.path, "rb")
        except FileNotFoundError:
            raise RecordingError(f"no such recording: {self.path}") from None
        except OSError as e:
            raise RecordingError(f"cannot read {self.path}: {e.strerror or e}") from None
        self.size = os.fstat(self._f.fileno()).st_size
        magic = self._f.read(len(MAGIC))
        if magic != MAGIC:
            self._f.close()
            if not magic:
                raise RecordingError(f"{self.path} is empty: its recorder was stopped before it wrote anything")
            raise RecordingError(f"{self.path} is not a Nexus recording (bad magic); record one with `nexus record`")
        raw_len = self._f.read(4)
        hlen = struct.unpack("<I", raw_len)[0] if len(raw_len) == 4 else -1
        try:
            head = self._f.read(hlen) if hlen >= 0 else b""
            if len(head) != hlen:
                raise ValueError("cut short")
            self.header = json.loads(head)
        except ValueError as e:
            self._f.close()
            raise RecordingError(f"{self.path}: damaged header: {e}") from None
        self.damage: Damage | None = None

    @property
    def truncated(self) -> bool:
        return self.damage is not None

    def _lost(self, offset: int, frames: int | None, reason: str) -> None:
        self.damage = Damage(offset, self.size - offset, frames, reason)

    def __iter__(self) -> Iterator[Frame]:
        unpack = FRAME_HEAD.unpack_from
        hsize = FRAME_HEAD.size
        while True:
            at = self._f.tell()
            head = self._f.read(CHUNK_HEAD.size)
            if not head:
                return
            if len(head) < CHUNK_HEAD.size:
                return self._lost(at, None, "truncated chunk header")
            magic, clen, rlen, n = CHUNK_HEAD.unpack(head)
            if magic != CHUNK_MAGIC:
                return self._lost(at, None, "damaged chunk header")
            comp = self._f.read(clen)
            if len(comp) < clen:
                return self._lost(at, n, "truncated chunk")
            try:
                raw = zlib.decompress(comp)
            except zlib.error:
                return self._lost(at, n, "damaged chunk data")
            if len(raw) != rlen:
                return self._lost(at, n, "damaged chunk data (size mismatch)")
            off = 0
            for i in range(n):
                if off + hsize > rlen:
                    return self._lost(at, n - i, "damaged chunk data (frame past its end)")
                ts, vid, kind, ln = unpack(raw, off)
                off += hsize
                if ln > FRAME_BYTES_MAX or off + ln > rlen:
                    return self._lost(at, n - i, f"damaged chunk data (a frame of {ln:,} bytes)")
                yield Frame(ts, vid, kind, raw[off : off + ln])
                off += ln

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
