use super::target::{fast_path, other_symbol, Target};
use crate::core::kraken::{decode_book, decode_trades, BookResult, TradesResult};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// Fast path for a Kraken v2 book message (see native/src/core/kraken.rs). Returns
/// (records, snapshot, checksum, ts_exchange_ns or 0) when the records were written into `out`
/// from index 0 (F_LAST on the last), ("symbol", s) when the message is for another symbol than
/// `target`'s, or None to fall back.
#[pyfunction]
fn kraken_book<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    target: Option<Bound<'py, Target>>,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    fast_path(out, target.as_ref(), ts_local_ns, |buf, t| decode_book(raw, buf, t), |r| match r {
        BookResult::Done(i) => Ok(Some((i.records, i.snapshot, i.checksum, i.ts_exchange_ns).into_pyobject(py)?)),
        BookResult::OtherSymbol(s) => other_symbol(py, s),
        BookResult::Fallback => Ok(None),
    })
}

/// Fast path for a Kraken v2 trade message (see native/src/core/kraken.rs decode_trades): one
/// TRADE record per trade written into `out` from index 0 (F_LAST on the last). Returns
/// (records, ts_exchange_ns of the first, [trade ids]), ("symbol", s) when the trades are of
/// another symbol than `target`'s, or None to fall back.
#[pyfunction]
fn kraken_trades<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    target: Option<Bound<'py, Target>>,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    fast_path(out, target.as_ref(), ts_local_ns, |buf, t| decode_trades(raw, buf, t), |r| match r {
        TradesResult::Done(i) => Ok(Some((i.records, i.ts_exchange_ns, PyList::new(py, i.trade_ids)?).into_pyobject(py)?)),
        TradesResult::OtherSymbol(s) => other_symbol(py, s),
        TradesResult::Fallback => Ok(None),
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kraken_book, m)?)?;
    m.add_function(wrap_pyfunction!(kraken_trades, m)?)
}
