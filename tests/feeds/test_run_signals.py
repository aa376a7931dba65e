"""The flow engine inside `nexus run`: detectors on every venue's ring records and, with
--agg, on the consensus book; signals reach the per-second lines, the summary and a
shared-memory ring another reader attaches to. Real WebSockets against the simulator (run
at 10x so its scripted patterns come within a short test)."""

import asyncio
import os

import numpy as np

from nexus import record
from nexus.flow.signals import SIGNAL_IDS
from nexus.instruments import instrument_id_of
from nexus.ring import RingReader
from nexus.feeds.runtime import RunConfig, Runtime

VENUES = ["binance-perp", "binance-spot", "bybit-perp", "okx-swap", "hyperliquid"]


def test_signals_reach_lines_summary_and_ring():
    name = f"test-signals-{os.getpid()}"
    lines, ring_recs = [], []
    buf = record.empty(4096)
    state = {}

    def drain():
        if "reader" not in state:
            state["reader"] = RingReader(name, start="earliest")
        while n := state["reader"].poll(buf):
            ring_recs.append(buf[:n].copy())

    def on_second(line, rt):
        lines.append(line)
        drain()

    cfg = RunConfig(venues=list(VENUES), sim=True, seed=1, sim_speed=10, duration_s=15, agg=True,
                    signals_ring=name)
    rt = Runtime(cfg, on_second)
    summary = asyncio.run(rt.run())
    drain()                                  # the last poll's signals (the segment stays mapped)
    state["reader"].close()

    per_line = [s for line in lines for s in line["signals"]]
    assert per_line, "no signal in 150 simulated seconds of five venues"
    for s in per_line:
        assert s["venue"] in VENUES or s["venue"] == "agg"
        assert s["signal"] in SIGNAL_IDS and s["side"] in ("buy", "sell") and 0 <= s["confidence"] <= 100
        assert float(s["price"]) > 0
    # the summary counts every signal, the lines carry those raised before the last second
    total = sum(n for per in summary["signals"].values() for n in per.values())
    assert total >= len(per_line)
    recs = np.concatenate(ring_recs) if ring_recs else record.empty(0)
    assert len(recs) == total
    assert (recs["kind"] == int(record.Kind.SIGNAL)).all()
    # ring records and line dicts agree, in order, on type, side, price of the ones in lines
    names = {v: k for k, v in SIGNAL_IDS.items()}
    assert [names[int(a)] for a in recs["aux"][: len(per_line)]] == [s["signal"] for s in per_line]
    # consensus signals carry the consensus instrument id, venue ones the venue's
    agg_iid = instrument_id_of("agg", "BTCUSDT")
    for rec, s in zip(recs, per_line):
        assert (int(rec["instrument_id"]) == agg_iid) == (s["venue"] == "agg")
