use super::buffers::records_mut;
use crate::core::coinbase::{decode_l2, L2Result, Target};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Fast path for a Coinbase `l2_data` message (see native/src/core/coinbase.rs). Returns
/// (records, snapshot, sequence_num, timestamp) when the records were written into `out` from
/// index 0 (their ts_exchange_ns word 0: the caller converts `timestamp` and writes it),
/// ("symbol", product_id) when it is for another product, or None to fall back.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn coinbase_l2<'py>(
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
    let t = Target { symbol, price_exponent, qty_exponent, instrument_id, hdr_bid, hdr_ask, hdr_snap_bid, hdr_snap_ask,
                     hdr_clear, hdr_buy: 0, hdr_sell: 0, ts_local_ns };
    Ok(match decode_l2(raw, buf, &t) {
        L2Result::Done(i) => Some(PyTuple::new(py, [
            i.records.into_pyobject(py)?.into_any(),
            pyo3::types::PyBool::new(py, i.snapshot).to_owned().into_any(),
            i.seq.into_pyobject(py)?.into_any(),
            i.timestamp.into_pyobject(py)?.into_any(),
        ])?),
        L2Result::OtherSymbol(s) => Some(PyTuple::new(py, ["symbol", s])?),
        L2Result::Fallback => None,
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(coinbase_l2, m)?)
}
