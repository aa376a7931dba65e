use super::buffers::records_mut;
use super::target::{core, Target};
use crate::core::bybit::{decode, BybitResult, Info};
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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bybit_message, m)?)
}
