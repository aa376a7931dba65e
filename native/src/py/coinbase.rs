use super::buffers::records_mut;
use super::target::{core, Target};
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
    let buf = records_mut(out)?;
    let t = core(target.as_ref(), ts_local_ns);
    Ok(match decode_l2(raw, buf, &t) {
        L2Result::Done(i) => Some(PyTuple::new(py, [
            i.records.into_pyobject(py)?.into_any(),
            pyo3::types::PyBool::new(py, i.snapshot).to_owned().into_any(),
            i.seq.into_pyobject(py)?.into_any(),
            i.ts_exchange_ns.into_pyobject(py)?.into_any(),
        ])?),
        L2Result::OtherSymbol(s) => Some(PyTuple::new(py, ["symbol", s])?),
        L2Result::Fallback => None,
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(coinbase_l2, m)?)
}
