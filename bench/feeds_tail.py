"""What the slowest samples of the one-venue wire-to-book latency are made of (issue 19 point 3).

Diagnostic, not a benchmark figure: the probe of `nexus bench feeds` (nexus.feeds.stages) is
kept as is (the same sample: the read's arrival in the connection -> the reader's book has the
message), and around it this script logs, with CLOCK_MONOTONIC stamps:

- every frame the listener sees: its position in its socket read, its size, its kind;
- every closed sample's absolute stamps (read, handler, decoded, done, polled, applied);
- getrusage(RUSAGE_THREAD) at the handler's start and at the sample's close (context switches,
  page faults inside the sample);
- gc.callbacks (collections' start and stop);
- the bench loop's own work (Runtime.poll / Runtime.idle and the keep-warm passes).

Then it classifies the slowest 2 % of samples against the rest. These hooks cost ~1-3 µs per
frame, so the absolute figures here are above `nexus bench feeds`; the classification is what
this is for.

    PYTHONPATH=. python bench/feeds_tail.py [--seconds 10] [--rounds 1] [--tuned] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
from time import monotonic_ns

import numpy as np

from nexus.bench.feeds import LATENCY_VENUE, LATENCY_WARMUP_S, SimProcess
from nexus.feeds import connection as connmod
from nexus.feeds import stages as stagesmod

RU = resource.RUSAGE_THREAD


def _ru():
    r = resource.getrusage(RU)
    return r.ru_nvcsw, r.ru_nivcsw, r.ru_minflt, r.ru_majflt


class Log:
    def __init__(self):
        self.frames = []      # (t, index in read, size, last_in_buffer)
        self.samples = []     # (t_read, t_handler, t_decoded, t_done, publish, t_polled, t_applied, ru0..., ru1...)
        self.gc = []          # (t, phase 0 start/1 stop, generation)
        self.loop = []        # (t0, t1, kind)  kind 0 poll, 1 idle
        self.ru_start = {}    # records_end -> rusage at handler start
        self.frame_idx = 0
        self.rusage = False  # getrusage at each read's start and each sample's close (~2-15 us each)
        self.read_ru = (0, 0, 0, 0)
        self.frame_exit = []  # on_ws_frame's return, per frame
        self.handler_exit = []  # the handler's return, per message handled
        self.wake = []          # _wake_later's start and end


L = Log()


def install(tuned_warm_log=True):
    orig_frame = connmod._Listener.on_ws_frame

    def on_ws_frame(self, transport, frame):
        t = monotonic_ns()
        if getattr(self, "_diag_new", True):
            L.frame_idx = 0
        else:
            L.frame_idx += 1
        last = frame.last_in_buffer
        self._diag_new = last
        L.frames.append((t, L.frame_idx, frame.payload_size, int(last)))
        if L.frame_idx == 0 and L.rusage:
            L.read_ru = _ru()
        try:
            return orig_frame(self, transport, frame)
        finally:
            L.frame_exit.append(monotonic_ns())

    connmod._Listener.on_ws_frame = on_ws_frame

    orig_closed = stagesmod.StageProbe.closed

    def closed(self, records_read, t_polled, t_applied):
        ru1 = _ru() if L.rusage else (0, 0, 0, 0)
        pending = self.pending
        while pending and pending[0][0] <= records_read:
            end, t_read, t_handler, t_decoded, t_done, pub = pending[0]
            ru0 = L.read_ru
            L.samples.append((t_read, t_handler, t_decoded, t_done, pub, t_polled, t_applied, *ru0, *ru1))
            break
        return orig_closed(self, records_read, t_polled, t_applied)

    stagesmod.StageProbe.closed = closed

    def gccb(phase, info):
        L.gc.append((monotonic_ns(), 0 if phase == "start" else 1, info["generation"]))

    gc.callbacks.append(gccb)


async def live(ws, rest, seconds, pin_cpu=(), busy_poll=False, keep_warm=False):
    from nexus.feeds.runtime import RunConfig, Runtime

    rt = Runtime(RunConfig(venues=list(ws), ws_urls=dict(ws), rest_urls=dict(rest), stages=True,
                           pin_cpu=tuple(pin_cpu), busy_poll=busy_poll, keep_warm=keep_warm))
    await rt.start()
    for feed in rt.feeds.values():
        probed = getattr(feed, "_on_message_probed", feed.on_message)  # before the fold: the stamping twin

        def wrapped(payload, ts, probed=probed):
            try:
                probed(payload, ts)
            finally:
                L.handler_exit.append(monotonic_ns())

        feed.on_message = wrapped
        feed.conn.on_message_cb = wrapped
        wl = getattr(feed, "_wake_later", None)
        if wl is not None:
            def wake_later(wl=wl):
                L.wake.append(monotonic_ns())
                wl()
                L.wake.append(monotonic_ns())

            feed._wake_later = wake_later
    t0 = time.monotonic()
    warm = True
    loop_log = L.loop
    while time.monotonic() - t0 < seconds + LATENCY_WARMUP_S:
        if warm and time.monotonic() - t0 >= LATENCY_WARMUP_S:
            warm = False
            for r in rt.readers.values():
                r.probe.reset()
            L.samples.clear()
            L.frames.clear()
            L.gc.clear()
            L.frame_exit.clear()
            L.handler_exit.clear()
            L.wake.clear()
            loop_log.clear()
        a = monotonic_ns()
        rt.poll()
        b = monotonic_ns()
        rt.idle()
        c = monotonic_ns()
        loop_log.append((a, b, c))
        await asyncio.sleep(rt.poll_interval_s)
    rows = np.concatenate([r.probe.array() for r in rt.readers.values()])
    await rt.stop()
    return rows


def analyse(rows, tail_share=0.02):
    S = np.asarray(L.samples, dtype=np.int64)
    F = np.asarray(L.frames, dtype=np.int64).reshape(-1, 4)
    G = np.asarray(L.gc, dtype=np.int64).reshape(-1, 3)
    LP = np.asarray(L.loop, dtype=np.int64).reshape(-1, 3)
    n = min(len(S), len(rows))
    S, rows = S[:n], rows[:n]
    total = S[:, 6] - S[:, 0]
    stage = np.stack([S[:, 1] - S[:, 0], S[:, 2] - S[:, 1], S[:, 3] - S[:, 2] - S[:, 4], S[:, 4],
                      S[:, 5] - S[:, 3], S[:, 6] - S[:, 5]], axis=1)
    thr = np.percentile(total, 100 * (1 - tail_share))
    slow = total >= thr
    # frame context: the frame whose stamp is the read stamp, its index in the read and how many in the read
    fr_t = F[:, 0]
    # per sample: frames of the same read (stamps >= t_read, up to the next read start)
    read_start = F[:, 1] == 0
    rs_t = fr_t[read_start]
    rs_idx = np.nonzero(read_start)[0]
    rs_n = np.diff(np.append(rs_idx, len(F)))
    k = np.searchsorted(rs_t, S[:, 0], side="right") - 1   # read the sample belongs to (by stamp)
    k = np.clip(k, 0, len(rs_t) - 1)
    frames_in_read = rs_n[k]
    # position of the sample's frame in the read: the frame seen just before its handler start
    fi = np.searchsorted(fr_t, S[:, 1], side="right") - 1
    pos = F[np.clip(fi, 0, len(F) - 1), 1]
    gap_prev = np.empty(n, dtype=np.int64)
    prev_read = np.clip(k - 1, 0, len(rs_t) - 1)
    gap_prev[:] = S[:, 0] - rs_t[prev_read]
    gap_prev[k == 0] = -1
    # gc collection overlapping [read, applied]
    gstart = G[G[:, 1] == 0, 0] if len(G) else np.zeros(0, np.int64)
    gc_in = np.array([((gstart >= a - 2000) & (gstart <= b)).any() for a, b in zip(S[:, 0], S[:, 6])]) \
        if len(gstart) else np.zeros(n, bool)
    # loop work (poll/idle) overlapping the sample's window
    lp_a, lp_c = LP[:, 0], LP[:, 2]
    j = np.searchsorted(lp_a, S[:, 6], side="right") - 1
    j = np.clip(j, 0, len(LP) - 1)
    loop_overlap = (lp_c[j] > S[:, 0]) & (lp_a[j] < S[:, 6]) & (lp_a[j] <= S[:, 0] + 0)
    # the time from the read stamp back to the end of the last loop iteration (was the loop just idle?)
    j2 = np.clip(np.searchsorted(lp_c, S[:, 0], side="right") - 1, 0, len(LP) - 1)
    since_loop = S[:, 0] - lp_c[j2]
    ru = S[:, 7:11], S[:, 11:15]
    dcs = (ru[1][:, 0] - ru[0][:, 0]) + (ru[1][:, 1] - ru[0][:, 1])
    dinv = ru[1][:, 1] - ru[0][:, 1]
    dflt = ru[1][:, 2] - ru[0][:, 2]

    def share(mask, m):
        return round(float(mask[m].mean()), 3) if m.any() else None

    fast = ~slow
    out = {"samples": int(n), "tail_share": tail_share, "threshold_us": round(thr / 1e3, 1),
           "p50_us": round(float(np.percentile(total, 50)) / 1e3, 1),
           "p99_us": round(float(np.percentile(total, 99)) / 1e3, 1),
           "frames": int(len(F)), "reads": int(len(rs_t)),
           "gc_collections": int(len(gstart)),
           "slow": {}, "rest": {}}
    for name, m in (("slow", slow), ("rest", fast)):
        d = out[name]
        d["n"] = int(m.sum())
        d["stage_median_us"] = {s: round(float(np.median(stage[m, i])) / 1e3, 1)
                                for i, s in enumerate(stagesmod.STAGES)}
        d["share_multi_frame_read"] = share(frames_in_read > 1, m)
        d["share_not_first_in_read"] = share(pos > 0, m)
        d["share_gc_inside"] = share(gc_in, m)
        if L.rusage:
            d["share_ctx_switch_inside"] = share(dcs > 0, m)
            d["share_involuntary_switch"] = share(dinv > 0, m)
            d["share_page_fault_inside"] = share(dflt > 0, m)
        d["median_gap_prev_read_ms"] = round(float(np.median(gap_prev[m])) / 1e6, 2)
        d["share_gap_over_20ms"] = share(gap_prev > 20e6, m)
        d["share_loop_work_overlap"] = share(loop_overlap, m)
        d["median_since_loop_us"] = round(float(np.median(since_loop[m])) / 1e3, 1)
    # the slowest samples one by one
    idx = np.argsort(-total)[:15]
    # the frames of the slowest samples' reads: (size, handler start offset from the read, handled in)
    by_handler = {int(S[i, 1]): i for i in range(n)}
    reads = []
    for i in idx[:8]:
        kk = k[i]
        a = rs_idx[kk]
        fr = F[a:a + rs_n[kk]]
        row = []
        for f in fr:
            # the sample whose handler started right after this frame's stamp
            m = np.searchsorted(S[:, 1], f[0], side="left")
            if m < n and S[m, 1] - f[0] < 50_000:
                row.append((int(f[2]), round((S[m, 1] - S[i, 0]) / 1e3, 1), round((S[m, 6] - S[m, 1]) / 1e3, 1)))
            else:
                row.append((int(f[2]), None, None))
        reads.append(row)
    out["slowest_reads"] = reads
    # stalls with no message: loop iterations' gaps that hold no frame (a busy loop: the platform's
    # own hiccups, to compare with the stalls inside samples)
    if len(LP) > 1:
        gap_a, gap_b = LP[:-1, 2], LP[1:, 0]
        has_frame = np.searchsorted(fr_t, gap_b) - np.searchsorted(fr_t, gap_a) > 0
        empty = (gap_b - gap_a)[~has_frame]
        span_s = (LP[-1, 2] - LP[0, 0]) / 1e9
        busy_s = float((S[:, 6] - S[:, 0]).sum()) / 1e9
        stalls_in = int(((stage > 100_000).any(axis=1) & (np.arange(n) >= 0)).sum())
        out["loop"] = {"iterations": int(len(LP)), "empty_gaps_over_50us_per_s": round(float((empty > 50_000).sum()) / span_s, 1),
                       "empty_gaps_over_100us_per_s": round(float((empty > 100_000).sum()) / span_s, 1),
                       "samples_with_a_stage_over_100us": stalls_in,
                       "sample_time_s": round(busy_s, 4),
                       "median_iteration_us": round(float(np.median(LP[:, 2] - LP[:, 0])) / 1e3, 2),
                       "median_gap_us": round(float(np.median(gap_b - gap_a)) / 1e3, 2)}
        # per-sample stage stalls (> 100 us in one stage) split by first frame in read or not
    np.savez("/tmp/w2b5-last.npz", S=S, F=F, G=G, LP=LP, rows=rows, FX=np.asarray(L.frame_exit), HX=np.asarray(L.handler_exit), WK=np.asarray(L.wake).reshape(-1, 2))
    out["slowest"] = [{"total_us": round(total[i] / 1e3, 1),
                       "stages_us": [round(x / 1e3, 1) for x in stage[i]],
                       "frames_in_read": int(frames_in_read[i]), "pos": int(pos[i]),
                       "gap_prev_ms": round(gap_prev[i] / 1e6, 2), "gc": bool(gc_in[i]),
                       "csw": int(dcs[i]), "inv": int(dinv[i]), "flt": int(dflt[i]),
                       "since_loop_us": round(since_loop[i] / 1e3, 1)} for i in idx]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--tuned", action="store_true", help="busy-poll + keep-warm + pin CPU 1")
    ap.add_argument("--json")
    ap.add_argument("--rusage", action="store_true", help="context switches and page faults per sample (costs ~2-15 us per read)")
    a = ap.parse_args()
    L.rusage = a.rusage
    install()
    pin = (1,) if a.tuned else ()
    sim = SimProcess([LATENCY_VENUE], avoid_cpus=set(pin))
    try:
        rows = asyncio.run(live(sim.ws(), sim.rest(), a.seconds, pin, a.tuned, a.tuned))
    finally:
        sim.stop()
    out = analyse(rows)
    out["load"] = open("/proc/loadavg").read().split()[:3]
    out["tuned"] = a.tuned
    s = json.dumps(out, indent=1)
    print(s)
    if a.json:
        with open(a.json, "w") as f:
            f.write(s)


if __name__ == "__main__":
    sys.exit(main())
