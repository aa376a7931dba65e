use super::buffers::records_mut;
use super::book::Book;
use super::target::{core, Target};
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
    let buf = records_mut(out)?;
    let t = core(target.as_ref(), ts_local_ns);
    Ok(match decode(raw, buf, &t) {
        BybitResult::Done(Info::Book { records, snapshot, ts_exchange_ns, seq }) => Some(PyTuple::new(py, [
            "book".into_pyobject(py)?.into_any(),
            records.into_pyobject(py)?.into_any(),
            pyo3::types::PyBool::new(py, snapshot).to_owned().into_any(),
            ts_exchange_ns.into_pyobject(py)?.into_any(),
            seq.into_pyobject(py)?.into_any(),
        ])?),
        BybitResult::Done(Info::Trades { records, ts_exchange_ns, trade_ids, hashed }) => Some(PyTuple::new(py, [
            "trades".into_pyobject(py)?.into_any(),
            records.into_pyobject(py)?.into_any(),
            ts_exchange_ns.into_pyobject(py)?.into_any(),
            PyList::new(py, trade_ids)?.into_any(),
            pyo3::types::PyBool::new(py, hashed).to_owned().into_any(),
        ])?),
        BybitResult::OtherSymbol(s) => Some(PyTuple::new(py, ["symbol", s])?),
        BybitResult::Fallback => None,
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
