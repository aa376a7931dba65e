use super::buffers::records_mut;
use super::book::Book;
use super::target::{core, fast_path, other_symbol, Target};
use crate::core::bybit::{book_sync, decode, BybitResult, Info};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// Fast path for a Bybit `orderbook.*` or `publicTrade.*` push (see native/src/core/bybit.rs),
/// records written into `out` from index 0. Returns ("book", records, snapshot, ts_exchange_ns,
/// u) or ("trades", records, ts_exchange_ns, [trade ids], hashed), ("symbol", s) when the
/// message is for another instrument, or None to fall back. `hashed`: some trade id is not ASCII,
/// its record's trade_id word was left 0 for the caller to fill (others are hashed natively).
#[pyfunction]
fn bybit_message<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    target: Option<Bound<'py, Target>>,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    fast_path(out, target.as_ref(), ts_local_ns, |buf, t| decode(raw, buf, t), |r| match r {
        BybitResult::Done(Info::Book { records, snapshot, ts_exchange_ns, seq }) =>
            Ok(Some(("book", records, snapshot, ts_exchange_ns, seq).into_pyobject(py)?)),
        BybitResult::Done(Info::Trades { records, ts_exchange_ns, trade_ids, hashed }) =>
            Ok(Some(("trades", records, ts_exchange_ns, PyList::new(py, trade_ids)?, hashed).into_pyobject(py)?)),
        BybitResult::OtherSymbol(s) => other_symbol(py, s),
        BybitResult::Fallback => Ok(None),
    })
}


/// The fused steady state of a synced Bybit book (booksync.py `Sync.feed_frame`): one
/// `orderbook.*` delta of `target`'s symbol decoded into `out` exactly as `bybit_message`
/// writes it and, when its u is `last_seq` + 1, applied to `book`. Returns (records,
/// ts_exchange_ns, u, crossed after the apply), or None (the book untouched) when the frame
/// needs the Python path: a snapshot, a gap, a stale or duplicate delta, trades, another
/// symbol, anything the fast decoder declines.
#[pyfunction]
fn bybit_book_sync(raw: &[u8], out: &Bound<'_, PyUntypedArray>, target: &Bound<'_, Target>, ts_local_ns: i64,
                   book: &Bound<'_, Book>, last_seq: i64) -> PyResult<Option<(usize, i64, i64, bool)>> {
    let buf = records_mut(out)?;
    let t = core(Some(target), ts_local_ns);
    Ok(book_sync(raw, buf, &t, &mut book.borrow_mut().0, last_seq).map(|a| (a.records, a.ts_exchange_ns, a.seq, a.crossed)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bybit_message, m)?)?;
    m.add_function(wrap_pyfunction!(bybit_book_sync, m)?)
}
