"""Shared parts of the Aeron tests: a deterministic record stream with books, book comparison,
CLI processes (optionally inside a network namespace) and their JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np

from nexus import record
from nexus._native import Book

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOOK_KINDS = (int(record.Kind.BOOK_LEVEL), int(record.Kind.BOOK_CLEAR))
F_RESYNC = 4
KEYS = [(1, 11), (2, 11), (3, 12)]  # (venue_id, instrument_id)


def stream(n_batches: int, per_batch: int = 50, seed: int = 7) -> list[np.ndarray]:
    """Batches of book records for three books (a snapshot each first, then level updates,
    some deletions, some trades), seq = overall index. Never flagged F_RESYNC (the Aeron
    snapshots the publisher inserts are, so the tests can tell them apart)."""
    rng = np.random.default_rng(seed)
    out = []
    seq = 0
    first = record.empty(len(KEYS) * 21)
    i = 0
    for v, inst in KEYS:
        first[i]["kind"] = record.Kind.BOOK_CLEAR
        first[i]["venue_id"], first[i]["instrument_id"] = v, inst
        first[i]["flags"] = 2
        i += 1
        for k in range(20):
            r = first[i]
            r["kind"] = record.Kind.BOOK_LEVEL
            r["venue_id"], r["instrument_id"] = v, inst
            r["side"] = 1 if k < 10 else 2
            r["price"] = 100_000 - (k + 1) * 10 if k < 10 else 100_000 + (k - 9) * 10
            r["qty"] = 1000 + k
            r["flags"] = 2 | (1 if k == 19 else 0)
            i += 1
    first["seq"] = np.arange(len(first))
    seq = len(first)
    out.append(first)
    for _ in range(n_batches):
        b = record.empty(per_batch)
        which = rng.integers(0, len(KEYS), per_batch)
        b["venue_id"] = [KEYS[w][0] for w in which]
        b["instrument_id"] = [KEYS[w][1] for w in which]
        sides = rng.integers(1, 3, per_batch)
        b["side"] = sides
        off = rng.integers(1, 40, per_batch) * 10
        b["price"] = np.where(sides == 1, 100_000 - off, 100_000 + off)
        b["qty"] = np.where(rng.random(per_batch) < 0.2, 0, rng.integers(1, 5000, per_batch))
        b["kind"] = np.where(rng.random(per_batch) < 0.1, record.Kind.TRADE, record.Kind.BOOK_LEVEL)
        b["seq"] = np.arange(seq, seq + per_batch)
        b["ts_local_ns"] = time.monotonic_ns()
        b["flags"][-1] = 1
        seq += per_batch
        out.append(b)
    return out


def books_of(batches) -> dict:
    """(venue, instrument) -> Book after applying every book record of the batches."""
    books = {k: Book(0, 0) for k in KEYS}
    for b in batches:
        for k in KEYS:
            sel = b[(b["venue_id"] == k[0]) & (b["instrument_id"] == k[1])]
            if len(sel):
                books[k].apply(np.ascontiguousarray(sel), -1)
    return books


def book_state(books: dict) -> dict:
    return {k: (b.top(1, 10_000), b.top(2, 10_000)) for k, b in books.items()}


def read_all(reader, timeout_s: float, until=None) -> np.ndarray:
    """Everything the ring reader can read until `until(records)` holds or nothing new comes
    for `timeout_s`."""
    out = record.empty(4096)
    got = []
    last = time.monotonic()
    total = 0
    while time.monotonic() - last < timeout_s:
        n = reader.poll(out)
        if n:
            got.append(out[:n].copy())
            total += n
            last = time.monotonic()
            if until is not None and until(np.concatenate(got)):
                break
        else:
            time.sleep(0.002)
    return np.concatenate(got) if got else record.empty(0)


def without_inserted_snapshots(recs: np.ndarray) -> np.ndarray:
    return recs[(recs["flags"] & F_RESYNC) == 0]


class Proc:
    """A `nexus` CLI process (optionally in a network namespace) whose JSON lines are collected."""

    def __init__(self, args: list[str], netns: str | None = None, env: dict | None = None):
        cmd = [sys.executable, "-m", "nexus.cli", *args]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        e = dict(os.environ)
        e["PYTHONPATH"] = ROOT + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
        if env:
            e.update(env)
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e, cwd=ROOT)
        self.lines: list[dict] = []
        self.stderr = ""
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for line in self.p.stdout:
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                pass

    def wait_for(self, pred, timeout_s: float) -> dict | None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            for ln in list(self.lines):
                if pred(ln):
                    return ln
            if self.p.poll() is not None:
                time.sleep(0.1)
                break
            time.sleep(0.05)
        for ln in list(self.lines):
            if pred(ln):
                return ln
        return None

    def stop(self, timeout_s: float = 15.0) -> int:
        if self.p.poll() is None:
            self.p.terminate()
        try:
            self.p.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)
        self._t.join(5)
        self.stderr = self.p.stderr.read()
        return self.p.returncode

    @property
    def last(self) -> dict:
        return self.lines[-1] if self.lines else {}
