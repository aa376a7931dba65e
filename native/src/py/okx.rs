use super::buffers::records_mut;
use super::book::Book;
use super::target::{core, fast_path, other_symbol, Target};
use crate::core::okx::{book_sync, decode, Info, OkxResult};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// Fast path for an OKX `books` or `trades` push (see native/src/core/okx.rs), records written
/// into `out` from index 0. Returns ("book", records, snapshot, ts_exchange_ns, seqId,
/// prevSeqId, checksum) or ("trades", records, ts_exchange_ns, [trade ids]), ("symbol", s)
/// when the message is for another instrument, or None to fall back.
#[pyfunction]
fn okx_message<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    target: Option<Bound<'py, Target>>,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    fast_path(out, target.as_ref(), ts_local_ns, |buf, t| decode(raw, buf, t), |r| match r {
        OkxResult::Done(Info::Book { records, snapshot, ts_exchange_ns, seq, prev, checksum }) =>
            Ok(Some(("book", records, snapshot, ts_exchange_ns, seq, prev, checksum).into_pyobject(py)?)),
        OkxResult::Done(Info::Trades { records, ts_exchange_ns, trade_ids }) =>
            Ok(Some(("trades", records, ts_exchange_ns, PyList::new(py, trade_ids)?).into_pyobject(py)?)),
        OkxResult::OtherSymbol(s) => other_symbol(py, s),
        OkxResult::Fallback => Ok(None),
    })
}


/// The fused steady state of a synced OKX book (booksync.py `Sync.feed_frame`): one `books*`
/// update of `target`'s symbol decoded into `out` exactly as `okx_message` writes it and, when
/// its prevSeqId is `last_seq`, applied to `book`, then the book's checksum (top `depth`
/// levels) computed when the update carries a nonzero one. Returns (records, ts_exchange_ns,
/// seqId, crossed after the apply, prevSeqId, the venue's checksum or 0, the book's checksum
/// or 0), or None (the book untouched) when the frame needs the Python path: a snapshot, a gap,
/// a duplicate, no seqId/prevSeqId, trades, another symbol, anything the fast decoder declines.
#[pyfunction]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn okx_book_sync(raw: &[u8], out: &Bound<'_, PyUntypedArray>, target: &Bound<'_, Target>, ts_local_ns: i64,
                 book: &Bound<'_, Book>, last_seq: i64, depth: usize)
                 -> PyResult<Option<(usize, i64, i64, bool, i64, i64, i64)>> {
    let buf = records_mut(out)?;
    let t = core(Some(target), ts_local_ns);
    Ok(book_sync(raw, buf, &t, &mut book.borrow_mut().0, last_seq, depth)
        .map(|s| (s.applied.records, s.applied.ts_exchange_ns, s.applied.seq, s.applied.crossed, s.prev, s.sent, s.mine)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(okx_message, m)?)?;
    m.add_function(wrap_pyfunction!(okx_book_sync, m)?)
}
