"""Parquet export of a recording (pyarrow), in bounded memory: rows are flushed as row
groups every ROW_GROUP rows. Files appear under their names only when complete."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from nexus.feeds.outputs import open_output, refuse_existing
from nexus.feeds.replay import Replayer, ReplayStats
from nexus.venues.base import SegKind

ROW_GROUP = 100_000
SCALE = 18


def _schemas():
    import pyarrow as pa

    dec = pa.decimal128(38, SCALE)
    books = pa.schema([
        ("ts_local_ns", pa.int64()), ("ts_exchange_ns", pa.int64()), ("venue", pa.string()), ("symbol", pa.string()),
        ("snapshot", pa.bool_()), ("seq", pa.int64()), ("side", pa.string()), ("price", dec), ("size", dec),
    ])
    trades = pa.schema([
        ("ts_local_ns", pa.int64()), ("ts_exchange_ns", pa.int64()), ("venue", pa.string()), ("symbol", pa.string()),
        ("side", pa.string()), ("price", dec), ("size", dec), ("trade_id", pa.string()),
    ])
    return books, trades


def export_parquet(path: str, out_dir: str, force: bool = False) -> tuple[dict, ReplayStats]:
    """Write books.parquet and trades.parquet into `out_dir` (private to their owner; existing
    ones refused unless `force`); returns the summary and the replay's counts. The files are
    written under temporary names and renamed when the recording has been read to its end (a
    recording cut short gives every whole chunk); on an error nothing is left behind."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rp = Replayer(path)  # a file that is not a recording fails here, before any output exists
    out = Path(out_dir)
    bs, ts = _schemas()
    finals = [out / "books.parquet", out / "trades.parquet"]
    temps = [f.with_name(f".{f.name}.{os.getpid()}.tmp") for f in finals]
    refuse_existing(finals, force)
    files = []
    bw = tw = None
    brows = {n: [] for n in bs.names}
    trows = {n: [] for n in ts.names}
    counts = {"book_rows": 0, "trade_rows": 0}

    def flush(rows, writer, schema, key):
        if rows["venue"]:
            writer.write_table(pa.table(rows, schema=schema))
            counts[key] += len(rows["venue"])
            for v in rows.values():
                v.clear()

    q = Decimal(1).scaleb(-SCALE)
    done = False
    try:
        files = [open_output(t, force=True) for t in temps]  # our own temporaries: the pid is in their names
        bw = pq.ParquetWriter(files[0], bs)
        tw = pq.ParquetWriter(files[1], ts)
        for fr, venue, segs in rp:
            for seg in segs or ():
                if seg.kind not in (SegKind.BOOK, SegKind.TRADES) or seg.inst is None:
                    continue
                recs = rp.batch[seg.start:seg.stop]
                inst = seg.inst
                pe, qe = inst.price_exponent, inst.qty_exponent
                if seg.kind is SegKind.BOOK:
                    for kind, side, p, s in zip(recs["kind"].tolist(), recs["side"].tolist(),
                                                recs["price"].tolist(), recs["qty"].tolist()):
                        if kind != 1:
                            continue
                        for k, v in (("ts_local_ns", fr.ts_local_ns), ("ts_exchange_ns", seg.ts_exchange_ns),
                                     ("venue", venue), ("symbol", inst.symbol), ("snapshot", seg.snapshot),
                                     ("seq", seg.seq), ("side", "bid" if side == 1 else "ask"),
                                     ("price", Decimal(p).scaleb(-pe).quantize(q)),
                                     ("size", Decimal(s).scaleb(-qe).quantize(q))):
                            brows[k].append(v)
                    if len(brows["venue"]) >= ROW_GROUP:
                        flush(brows, bw, bs, "book_rows")
                elif seg.kind is SegKind.TRADES:
                    for i, (side, p, s, te) in enumerate(zip(recs["side"].tolist(), recs["price"].tolist(),
                                                            recs["qty"].tolist(), recs["ts_exchange_ns"].tolist())):
                        for k, v in (("ts_local_ns", fr.ts_local_ns), ("ts_exchange_ns", te), ("venue", venue),
                                     ("symbol", inst.symbol), ("side", "buy" if side == 1 else "sell"),
                                     ("price", Decimal(p).scaleb(-pe).quantize(q)),
                                     ("size", Decimal(s).scaleb(-qe).quantize(q)),
                                     ("trade_id", seg.trade_ids[i] if seg.trade_ids else None)):
                            trows[k].append(v)
                    if len(trows["venue"]) >= ROW_GROUP:
                        flush(trows, tw, ts, "trade_rows")
        flush(brows, bw, bs, "book_rows")
        flush(trows, tw, ts, "trade_rows")
        done = True
    finally:
        for w in (bw, tw, *files):
            if w is not None:
                w.close()
        rp.close()
        for tmp, final in zip(temps, finals):
            if done:
                os.replace(tmp, final)
            else:
                tmp.unlink(missing_ok=True)
    st = rp.stats
    damage = str(st.damage) if st.damage is not None else None
    return {**counts, "malformed": st.malformed, "frames": st.frames, "damage": damage, "dir": str(out)}, st
