"""Parquet export of a recording (pyarrow), in bounded memory: rows are flushed as row
groups every ROW_GROUP rows. Files appear under their names only when complete.

Sizes are the venue's own (`size`) with their unit (`size_unit`: "base" when the venue counts
in the base coin, "contracts" when it counts contracts of `contract_value` each: base coin per
contract for linear contracts, quote currency per contract for inverse ones) and in base coin
(`size_base`: contracts x contract value; inverse contracts by notional / price, rounded to
SCALE decimals, the one value that is not exact)."""

from __future__ import annotations

import decimal
import os
from decimal import Decimal
from pathlib import Path

from nexus.feeds.outputs import open_output, refuse_existing
from nexus.feeds.replay import Replayer, ReplayStats
from nexus.venues.base import SegKind

ROW_GROUP = 100_000
SCALE = 18
PRECISION = 38  # decimal128(38, SCALE): every value fits the context exactly
_QUANTUM = Decimal(1).scaleb(-SCALE)
_LEVEL = 1  # record.Kind.BOOK_LEVEL
_BID = 1    # record.Side.BID


def _schemas():
    import pyarrow as pa

    dec = pa.decimal128(PRECISION, SCALE)
    sizes = [("size", dec), ("size_unit", pa.string()), ("contract_value", dec), ("size_base", dec)]
    books = pa.schema([
        ("ts_local_ns", pa.int64()), ("ts_exchange_ns", pa.int64()), ("venue", pa.string()), ("symbol", pa.string()),
        ("snapshot", pa.bool_()), ("seq", pa.int64()), ("side", pa.string()), ("price", dec), *sizes,
    ])
    trades = pa.schema([
        ("ts_local_ns", pa.int64()), ("ts_exchange_ns", pa.int64()), ("venue", pa.string()), ("symbol", pa.string()),
        ("side", pa.string()), ("price", dec), *sizes, ("trade_id", pa.string()),
    ])
    return books, trades


def size_unit(inst) -> str:
    """What an instrument's sizes count: the base coin, or contracts."""
    return "base" if inst.contract_kind != "inverse" and Decimal(inst.contract_value) == 1 else "contracts"


def _price_and_sizes(inst, price: int, qty: int) -> tuple:
    """(price, size, size_unit, contract_value, size_base) of one row."""
    return (Decimal(price).scaleb(-inst.price_exponent).quantize(_QUANTUM),
            Decimal(qty).scaleb(-inst.qty_exponent).quantize(_QUANTUM), size_unit(inst),
            Decimal(inst.contract_value).quantize(_QUANTUM), inst.base_qty(qty, price).quantize(_QUANTUM))


def _book_rows(ts_local_ns: int, venue: str, seg, recs):
    inst = seg.inst
    head = (ts_local_ns, seg.ts_exchange_ns, venue, inst.symbol, seg.snapshot, seg.seq)
    for kind, side, p, q in zip(recs["kind"].tolist(), recs["side"].tolist(), recs["price"].tolist(),
                                recs["qty"].tolist()):
        if kind == _LEVEL:
            yield (*head, "bid" if side == _BID else "ask", *_price_and_sizes(inst, p, q))


def _trade_rows(ts_local_ns: int, venue: str, seg, recs):
    inst = seg.inst
    for i, (side, p, q, te) in enumerate(zip(recs["side"].tolist(), recs["price"].tolist(), recs["qty"].tolist(),
                                             recs["ts_exchange_ns"].tolist())):
        yield (ts_local_ns, te, venue, inst.symbol, "buy" if side == _BID else "sell", *_price_and_sizes(inst, p, q),
               seg.trade_ids[i] if seg.trade_ids else None)


class _Table:
    """Rows of one Parquet file, written as a row group every ROW_GROUP rows."""

    def __init__(self, file, schema) -> None:
        import pyarrow.parquet as pq

        self.schema = schema
        self.writer = pq.ParquetWriter(file, schema)
        self.columns: list[list] = [[] for _ in schema.names]
        self.rows = 0

    def add(self, rows) -> None:
        for row in rows:
            for col, v in zip(self.columns, row):
                col.append(v)
        if len(self.columns[0]) >= ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        n = len(self.columns[0])
        if n:
            self.writer.write_table(pa.table(dict(zip(self.schema.names, self.columns)), schema=self.schema))
            self.rows += n
            for col in self.columns:
                col.clear()

    def close(self) -> None:
        self.writer.close()


def export_parquet(path: str, out_dir: str, force: bool = False) -> tuple[dict, ReplayStats]:
    """Write books.parquet and trades.parquet into `out_dir` (private to their owner; existing
    ones refused unless `force`); returns the summary and the replay's counts. The files are
    written under temporary names and renamed when the recording has been read to its end (a
    recording cut short gives every whole chunk); on an error nothing is left behind."""
    rp = Replayer(path)  # a file that is not a recording fails here, before any output exists
    out = Path(out_dir)
    finals = [out / "books.parquet", out / "trades.parquet"]
    temps = [f.with_name(f".{f.name}.{os.getpid()}.tmp") for f in finals]
    files, tables = [], []
    done = False
    try:
        refuse_existing(finals, force)
        files = [open_output(t, force=True) for t in temps]  # our own temporaries: the pid is in their names
        books, trades = _schemas()
        tables = [_Table(files[0], books), _Table(files[1], trades)]
        with decimal.localcontext(decimal.Context(prec=PRECISION)):
            for fr, venue, segs in rp:
                for seg in segs or ():
                    if seg.inst is None:
                        continue
                    recs = rp.batch[seg.start:seg.stop]
                    if seg.kind is SegKind.BOOK:
                        tables[0].add(_book_rows(fr.ts_local_ns, venue, seg, recs))
                    elif seg.kind is SegKind.TRADES:
                        tables[1].add(_trade_rows(fr.ts_local_ns, venue, seg, recs))
        for t in tables:
            t.flush()
        done = True
    finally:
        for f in (*tables, *files):
            f.close()
        rp.close()
        for tmp, final in zip(temps, finals):
            if done:
                os.replace(tmp, final)
            else:
                tmp.unlink(missing_ok=True)
    st = rp.stats
    damage = str(st.damage) if st.damage is not None else None
    summary = {"book_rows": tables[0].rows, "trade_rows": tables[1].rows, "malformed": st.malformed,
               "frames": st.frames, "damage": damage, "dir": str(out)}
    return summary, st
