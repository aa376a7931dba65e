use super::buffers::records_mut;
use crate::core::kraken::{decode_book, BookResult, Target};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Fast path for a Kraken v2 book message (see native/src/core/kraken.rs). Returns
/// (records, snapshot, checksum, timestamp) when the records were written into `out` from
/// index 0 (their ts_exchange_ns word 0: the caller converts `timestamp` and writes it),
/// ("symbol", s) when the message is for another symbol, or None to fall back.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn kraken_book<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    symbol: &str,
    price_exponent: u32,
    qty_exponent: u32,
    instrument_id: u32,
    hdr_bid: i64,
    hdr_ask: i64,
    hdr_snap_bid: i64,
    hdr_snap_ask: i64,
    hdr_clear: i64,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let buf = records_mut(out)?;
    let t = Target { symbol, price_exponent, qty_exponent, instrument_id, hdr_bid, hdr_ask, hdr_snap_bid,
                     hdr_snap_ask, hdr_clear, ts_local_ns };
    Ok(match decode_book(raw, buf, &t) {
        BookResult::Done(i) => Some(PyTuple::new(py, [
            i.records.into_pyobject(py)?.into_any(),
            pyo3::types::PyBool::new(py, i.snapshot).to_owned().into_any(),
            i.checksum.into_pyobject(py)?.into_any(),
            i.timestamp.into_pyobject(py)?.into_any(),
        ])?),
        BookResult::OtherSymbol(s) => Some(PyTuple::new(py, ["symbol", s])?),
        BookResult::Fallback => None,
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kraken_book, m)?)
}
