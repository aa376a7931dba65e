use super::target::{fast_path, other_symbol, Target};
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
    fast_path(out, target.as_ref(), ts_local_ns, |buf, t| decode(raw, buf, t), |r| match r {
        HlResult::Done(Info::Book { records, ts_exchange_ns }) => Ok(Some(("book", records, ts_exchange_ns).into_pyobject(py)?)),
        HlResult::Done(Info::Trades { records, ts_exchange_ns, trade_ids }) =>
            Ok(Some(("trades", records, ts_exchange_ns, PyList::new(py, trade_ids)?).into_pyobject(py)?)),
        HlResult::OtherSymbol(s) => other_symbol(py, s),
        HlResult::Fallback => Ok(None),
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hyperliquid_message, m)?)
}
