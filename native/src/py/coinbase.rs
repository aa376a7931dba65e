use super::target::{fast_path, other_symbol, Target};
use crate::core::coinbase::{decode_l2, L2Result};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Fast path for a Coinbase `l2_data` message (see native/src/core/coinbase.rs). Returns
/// (records, snapshot, sequence_num, ts_exchange_ns) when the records were written into `out`
/// from index 0 (F_LAST on the last), ("symbol", product_id) when it is for another product than
/// `target`'s, or None to fall back.
#[pyfunction]
fn coinbase_l2<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    target: Option<Bound<'py, Target>>,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    fast_path(out, target.as_ref(), ts_local_ns, |buf, t| decode_l2(raw, buf, t), |r| match r {
        L2Result::Done(i) => Ok(Some((i.records, i.snapshot, i.seq, i.ts_exchange_ns).into_pyobject(py)?)),
        L2Result::OtherSymbol(s) => other_symbol(py, s),
        L2Result::Fallback => Ok(None),
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(coinbase_l2, m)?)
}
