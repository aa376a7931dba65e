"""A ring's side file: what its records mean, for readers that did not configure the writer.

A record carries an integer price; its decimal exponent is a property of the instrument, not
of the record. A reader of a ring written by another process (the broker reading the
consensus ring of `nexus run --agg`) must not be asked to type that exponent: a wrong one
scales every price by a power of ten. So a writer that knows it publishes the exponents of
its instruments in a small JSON file beside the segment, created after the ring and removed
with it (`RingMeta.close`, `nexus ring rm`):

    /dev/shm/nexus-ringmeta-NAME.json
    {"version": 1, "ring": NAME, "writer_pid": PID,
     "instruments": [{"instrument_id", "venue", "symbol", "price_exponent", "qty_exponent"}]}

Not `nexus-ring-NAME.meta`: that is a legal ring name and `nexus ring ls` would list it as
an invalid ring. `writer_pid` ties the file to the ring's writer: a file left by a killed
writer is not believed by a reader of the ring's next writer (`read_meta(..., writer_pid)`).
The file is written to a temporary name and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

SHM_DIR = "/dev/shm"  # where the native ring segments live (native/src/core/ring.rs SHM_DIR)
META_PREFIX = "nexus-ringmeta-"
META_VERSION = 1
META_BYTES_MAX = 1 << 20


@dataclass(frozen=True)
class MetaInstrument:
    instrument_id: int
    venue: str
    symbol: str
    price_exponent: int
    qty_exponent: int


def meta_path(ring: str) -> str:
    return os.path.join(SHM_DIR, f"{META_PREFIX}{ring}.json")


def write_meta(ring: str, instruments: list[MetaInstrument], writer_pid: int | None = None) -> str:
    path = meta_path(ring)
    body = {"version": META_VERSION, "ring": ring, "writer_pid": os.getpid() if writer_pid is None else writer_pid,
            "instruments": [asdict(i) for i in instruments]}
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(body, fh)
    os.replace(tmp, path)
    return path


def remove_meta(ring: str) -> bool:
    try:
        os.remove(meta_path(ring))
        return True
    except FileNotFoundError:
        return False


class RingMetaError(ValueError):
    """The side file exists but cannot be believed (unreadable, another layout)."""


def read_meta(ring: str, writer_pid: int | None = None) -> dict[int, MetaInstrument] | None:
    """The ring's instruments by id, or None when it has no side file (or one left by another
    writer than `writer_pid`). Raises RingMetaError for a file that is there but unusable."""
    path = meta_path(ring)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(META_BYTES_MAX + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise RingMetaError(f"cannot read {path}: {e.strerror}") from None
    try:
        body = json.loads(raw)
        if len(raw) > META_BYTES_MAX or body.get("version") != META_VERSION:
            raise ValueError(f"not version {META_VERSION}")
        if writer_pid is not None and body.get("writer_pid") != writer_pid:
            return None
        out = {}
        for item in body["instruments"]:
            inst = MetaInstrument(**item)
            if not (isinstance(inst.price_exponent, int) and isinstance(inst.instrument_id, int)):
                raise ValueError("an exponent or id is not an integer")
            out[inst.instrument_id] = inst
        return out
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise RingMetaError(f"{path} is not a usable ring side file ({e}); remove it with `nexus ring rm {ring}`") from None


class RingMeta:
    """The side file of one writer's ring, for the writer's lifetime."""

    def __init__(self, ring: str, instruments: list[MetaInstrument]) -> None:
        self.ring = ring
        self.path = write_meta(ring, instruments)

    def close(self) -> None:
        remove_meta(self.ring)
