"""Recordings of raw venue frames with their local receive times.

File layout (little-endian):
    b"NXREC001" | u32 header_len | header JSON (venues, symbol, started_at, ...)
    then chunks:  b"CK" | u32 compressed_len | u32 raw_len | u32 n_frames | zlib(frames)
    frame:        i64 ts_local_ns | u16 venue_id | u8 kind | u32 len | payload

Kinds: FRAME (a WebSocket message as received), REST (a REST response body, e.g. a
Binance depth snapshot), EVENT (a JSON connection event: connected / disconnected, so a
replay resets the venue's decoder exactly where the live run did).

The writer holds at most one chunk (default 1 MiB) in memory and flushes it compressed;
a reader stops cleanly at a truncated last chunk (a crash mid-write) and reports it.
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from nexus.exceptions import NexusError

MAGIC = b"NXREC001"
CHUNK_MAGIC = b"CK"
CHUNK_HEAD = struct.Struct("<2sIII")
FRAME_HEAD = struct.Struct("<qHBI")
DEFAULT_CHUNK_BYTES = 1 << 20
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


class RecordingWriter:
    def __init__(self, path: str | Path, header: dict, chunk_bytes: int = DEFAULT_CHUNK_BYTES, level: int = 1):
        self.path = Path(path)
        self._f: BinaryIO = open(self.path, "wb")
        head = json.dumps({"format": "nexus-recording", "version": 1, "created_unix_s": time.time(), **header}).encode()
        self._f.write(MAGIC + struct.pack("<I", len(head)) + head)
        self._buf = bytearray()
        self._n = 0
        self._chunk_bytes = chunk_bytes
        self._level = level
        self.frames = 0
        self.bytes_in = 0
        self.bytes_out = self._f.tell()

    def write(self, ts_local_ns: int, venue_id: int, kind: int, payload: bytes | memoryview) -> None:
        self._buf += FRAME_HEAD.pack(ts_local_ns, venue_id, kind, len(payload))
        self._buf += payload
        self._n += 1
        self.frames += 1
        self.bytes_in += len(payload)
        if len(self._buf) >= self._chunk_bytes:
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
    """Iterate the frames of a recording, one chunk in memory at a time."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._f: BinaryIO = open(self.path, "rb")
        except FileNotFoundError:
            raise RecordingError(f"no such recording: {self.path}") from None
        magic = self._f.read(len(MAGIC))
        if magic != MAGIC:
            raise RecordingError(f"{self.path} is not a Nexus recording (bad magic); record one with `nexus record`")
        (hlen,) = struct.unpack("<I", self._f.read(4))
        try:
            self.header = json.loads(self._f.read(hlen))
        except ValueError as e:
            raise RecordingError(f"{self.path}: damaged header: {e}") from None
        self.truncated = False

    def __iter__(self) -> Iterator[Frame]:
        unpack = FRAME_HEAD.unpack_from
        hsize = FRAME_HEAD.size
        while True:
            head = self._f.read(CHUNK_HEAD.size)
            if not head:
                return
            if len(head) < CHUNK_HEAD.size:
                self.truncated = True
                return
            magic, clen, rlen, n = CHUNK_HEAD.unpack(head)
            if magic != CHUNK_MAGIC:
                raise RecordingError(f"{self.path}: damaged chunk header at byte {self._f.tell() - CHUNK_HEAD.size}")
            comp = self._f.read(clen)
            if len(comp) < clen:
                self.truncated = True
                return
            raw = zlib.decompress(comp)
            if len(raw) != rlen:
                raise RecordingError(f"{self.path}: chunk size mismatch")
            off = 0
            for _ in range(n):
                ts, vid, kind, ln = unpack(raw, off)
                off += hsize
                if ln > FRAME_BYTES_MAX:
                    raise RecordingError(f"{self.path}: frame of {ln} bytes exceeds the limit")
                yield Frame(ts, vid, kind, raw[off : off + ln])
                off += ln

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
