"""Helper processes for the multi-process ring tests: `python ring_proc.py ROLE ...`.
Each prints one JSON line with what it did."""
import json
import os
import signal
import sys
import time

import numpy as np

from nexus import record
from nexus.ring import RingReader, RingWriter


def writer(name, total, batch, slots, first_seq=0, pace_us=0, then="close"):
    w = RingWriter(name, slots=int(slots))
    print(json.dumps({"ready": True, "pid": os.getpid(), "epoch": w.epoch}), flush=True)
    sys.stdin.readline()  # go
    b = record.empty(int(batch))
    seq = int(first_seq)
    end = seq + int(total)
    while seq < end:
        n = min(int(batch), end - seq)
        b["seq"][:n] = np.arange(seq, seq + n)
        b["price"][:n] = b["seq"][:n].astype(np.int64) * 3 + 1
        w.publish(b[:n])
        seq += n
        if int(pace_us):
            time.sleep(int(pace_us) / 1e6)
    print(json.dumps({"published": int(total), "last_seq": seq - 1}), flush=True)
    if then == "hang":  # wait to be killed: leaves the segment as a crash would
        signal.pause()
    w.close()


def reader(name, expect_last, sleep_first_s="0", timeout_s="60"):
    r = RingReader(name)
    print(json.dumps({"ready": True}), flush=True)
    time.sleep(float(sleep_first_s))
    out = record.empty(1024)
    seqs = []
    ok_payload = True
    deadline = time.monotonic() + float(timeout_s)
    while time.monotonic() < deadline:
        n = r.poll(out)
        if n:
            s = out["seq"][:n]
            ok_payload &= bool((out["price"][:n] == s.astype(np.int64) * 3 + 1).all())
            seqs.append(s.copy())
            if s[-1] == int(expect_last):
                break
        else:
            time.sleep(0.0001)
    allseq = np.concatenate(seqs) if seqs else np.empty(0, dtype=np.uint64)
    print(json.dumps({
        "count": int(allseq.size),
        "first": int(allseq[0]) if allseq.size else None,
        "last": int(allseq[-1]) if allseq.size else None,
        "ordered": bool((np.diff(allseq.astype(np.int64)) > 0).all()),
        "contiguous_runs": int((np.diff(allseq.astype(np.int64)) != 1).sum()) + 1 if allseq.size else 0,
        "payload_ok": ok_payload,
        "lost": r.lost,
        "restarts": r.restarts,
        "seqs": allseq.tolist() if allseq.size <= 5000 else None,
    }), flush=True)


if __name__ == "__main__":
    {"writer": writer, "reader": reader}[sys.argv[1]](*sys.argv[2:])
