use super::buffers::records_mut;
use super::target::{core, Target};
use crate::core::hyperliquid::{decode, HlResult, Info};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// Fast path for a Hyperliquid `l2Book` or `trades` push (see native/src/core/hyperliquid.rs),
/// records written into `out` from index 0. Returns ("book", records, ts_exchange_ns) or
/// ("trades", records, ts_exchange_ns, [trade ids]), ("symbol", coin) when the message is for
/// another coin, or None to fall back.
#[pyfunction]
fn hyperliquid_message<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    target: Option<Bound<'py, Target>>,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let buf = records_mut(out)?;
    let t = core(target.as_ref(), ts_local_ns);
    Ok(match decode(raw, buf, &t) {
        HlResult::Done(Info::Book { records, ts_exchange_ns }) => Some(PyTuple::new(py, [
            "book".into_pyobject(py)?.into_any(),
            records.into_pyobject(py)?.into_any(),
            ts_exchange_ns.into_pyobject(py)?.into_any(),
        ])?),
        HlResult::Done(Info::Trades { records, ts_exchange_ns, trade_ids }) => Some(PyTuple::new(py, [
            "trades".into_pyobject(py)?.into_any(),
            records.into_pyobject(py)?.into_any(),
            ts_exchange_ns.into_pyobject(py)?.into_any(),
            PyList::new(py, trade_ids)?.into_any(),
        ])?),
        HlResult::OtherSymbol(s) => Some(PyTuple::new(py, ["symbol", s])?),
        HlResult::Fallback => None,
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hyperliquid_message, m)?)
}
