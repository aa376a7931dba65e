"""The record stream between hosts over Aeron (native; see native/src/core/aeron.rs).

    drv = ensure_driver(dir)                        # an alive driver there, or an embedded one
    p = AeronPublisher(dir, "aeron:udp?endpoint=10.0.0.2:40123", 1001, rings_with_meta(["feed.x"]))
    while running: p.pump() or idle()               # one native call per batch of messages
    s = AeronSubscriber(dir, channel, 1001, prefix="far.")
    while running: s.pump(); write_announced_meta(s)

The publisher is one more reader of its rings: the feed handlers never wait on Aeron. The
subscriber re-publishes onto local rings named prefix + the publisher's ring names, with the
rings' side files (nexus.ring_meta), so every ring reader works unchanged on the far host.

Scale-out layout (one media driver per host: embedded by default, or aeronmd / the Java driver
at --aeron-dir):

    feed host A (near the venues)                  strategy / broker / recorder host B
    nexus run ... --aeron CH,1001                  nexus aeron sub --channel CH --stream 1001
      (or: nexus aeron pub --ring R ...)             -> local rings R (or PREFIX+R) + side files
      rings -> one Aeron publication on CH         readers: engine, view, recorder, broker
    CH = aeron:udp?endpoint=B:40123                (unicast to B)
       | aeron:udp?endpoint=239.1.2.3:40123|interface=A's address   (multicast to many B's)
       | pub: --channel aeron:udp --control A:40124; sub: --channel aeron:udp?endpoint=B:40125
         --control A:40124                         (multi-destination through A's control port)
    same host: aeron:ipc

Books: the publisher keeps every book of its rings and re-sends them as snapshots when a
subscriber connects and every --snapshot-every seconds; a subscriber forwards a ring's records
from its first snapshot on, so a late joiner's books are right from its first snapshot.

Instruments: a `nexus run --aeron` writes each venue ring's side file (its listed instrument:
tick, lot, exponents) once its reader has the venue's listing, never a generic one; `nexus aeron
pub` announces it (and any rewrite, looked for every 0.1 s). A far `nexus run --from-aeron`
builds a venue's book and the consensus only from that announced listing, so no far book ever
reads records on a generic scale.
"""

from __future__ import annotations

import json
import os
import time

from nexus import record as _record  # noqa: F401  (checks the record layout first)
from nexus._native import (  # noqa: F401
    AERON_LAYOUT_VERSION,
    AeronDriver,
    AeronPublisher,
    AeronSubscriber,
    aeron_bench_latency,
    aeron_bench_rings_throughput,
    aeron_bench_throughput,
    aeron_default_dir,
    aeron_driver_active,
)
from nexus.exceptions import AeronDriverError
from nexus.ring_meta import META_BYTES_MAX, meta_path

DEFAULT_STREAM = 1001
IDLE_SPINS = 200
IDLE_SLEEP_S = 0.0001


def ensure_driver(aeron_dir: str, external: bool = False, spin: bool = False) -> AeronDriver | None:
    """The media driver to use at `aeron_dir`: None when one is alive there already (an
    external aeronmd / Java driver, or another Nexus process's), else an embedded one started
    in this process. With `external`, never start one: AeronDriverError (exit 4) names the
    directory and the fix."""
    if aeron_driver_active(aeron_dir):
        return None
    if external:
        raise AeronDriverError(
            f"no Aeron media driver is running at {aeron_dir!r} (no live cnc.dat heartbeat); start one there "
            f"(`nexus aeron driver --aeron-dir {aeron_dir}`, Aeron's aeronmd, or the Java driver with "
            f"-Daeron.dir={aeron_dir}), or drop --external-driver to let Nexus start an embedded one")
    return AeronDriver(aeron_dir, spin)


def rings_with_meta(names: list[str]) -> list[tuple[str, bytes]]:
    """Each ring with its side file's bytes (empty when it has none)."""
    out = []
    for n in names:
        try:
            with open(meta_path(n), "rb") as fh:
                meta = fh.read(META_BYTES_MAX)
        except OSError:
            meta = b""
        out.append((n, meta))
    return out


def write_announced_meta(sub: AeronSubscriber) -> list[str]:
    """Write the side files of the rings the subscriber created since the last call (their
    `ring` and `writer_pid` rewritten for the local ring); returns the new local ring names."""
    names = []
    for local, meta in sub.take_announcements():
        names.append(local)
        if not meta:
            continue
        try:
            body = json.loads(meta)
        except ValueError:
            continue
        body["ring"] = local
        body["writer_pid"] = os.getpid()
        path = meta_path(local)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(body, fh)
        os.replace(tmp, path)
    return names


def remove_meta_of(names) -> None:
    for n in names:
        try:
            os.remove(meta_path(n))
        except OSError:
            pass


class Idle:
    """Spin a little, then sleep briefly: a pump loop that finds nothing to do."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, work: int) -> None:
        if work:
            self.n = 0
            return
        self.n += 1
        if self.n > IDLE_SPINS:
            time.sleep(IDLE_SLEEP_S)


def write_venue_ring_meta(ring: str, inst) -> str:
    """The side file of a `nexus run` venue ring carried over Aeron: the nexus.ring_meta format
    (instrument id, venue, symbol, exponents) plus `instrument_specs`, the whole instrument
    (tick, lot, contract), so a far `nexus run --from-aeron` shows the venue's own figures."""
    from dataclasses import asdict

    from nexus.ring_meta import META_VERSION, MetaInstrument

    mi = MetaInstrument(inst.instrument_id, inst.venue, inst.symbol, inst.price_exponent, inst.qty_exponent)
    spec = {k: getattr(inst, k) for k in ("venue", "symbol", "tick_size", "lot_size", "contract_value",
                                          "contract_kind", "base", "quote", "price_exponent", "qty_exponent")}
    body = {"version": META_VERSION, "ring": ring, "writer_pid": os.getpid(), "instruments": [asdict(mi)],
            "instrument_specs": [spec]}
    path = meta_path(ring)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(body, fh)
    os.replace(tmp, path)
    return path


def instrument_from_meta(ring: str):
    """The instrument a venue ring's side file describes (`instrument_specs`), or None."""
    from nexus.instruments import Instrument

    try:
        with open(meta_path(ring), "rb") as fh:
            body = json.loads(fh.read(META_BYTES_MAX))
        specs = body.get("instrument_specs") or []
        return Instrument(**specs[0]) if specs else None
    except (OSError, ValueError, TypeError, KeyError):
        return None
