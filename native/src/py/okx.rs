use super::buffers::records_mut;
use super::target::{core, Target};
use crate::core::okx::{decode, Info, OkxResult};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// Fast path for an OKX `books` or `trades` push (see native/src/core/okx.rs), records written
/// into `out` from index 0. Returns ("book", records, snapshot, ts_exchange_ns, seqId,
/// prevSeqId, checksum) or ("trades", records, ts_exchange_ns, [trade ids]), ("symbol", s)
/// when the message is for another instrument, or None to fall back.
#[pyfunction]
fn okx_message<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    target: Option<Bound<'py, Target>>,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let buf = records_mut(out)?;
    let t = core(target.as_ref(), ts_local_ns);
    Ok(match decode(raw, buf, &t) {
        OkxResult::Done(Info::Book { records, snapshot, ts_exchange_ns, seq, prev, checksum }) => Some(PyTuple::new(py, [
            "book".into_pyobject(py)?.into_any(),
            records.into_pyobject(py)?.into_any(),
            pyo3::types::PyBool::new(py, snapshot).to_owned().into_any(),
            ts_exchange_ns.into_pyobject(py)?.into_any(),
            seq.into_pyobject(py)?.into_any(),
            prev.into_pyobject(py)?.into_any(),
            checksum.into_pyobject(py)?.into_any(),
        ])?),
        OkxResult::Done(Info::Trades { records, ts_exchange_ns, trade_ids }) => Some(PyTuple::new(py, [
            "trades".into_pyobject(py)?.into_any(),
            records.into_pyobject(py)?.into_any(),
            ts_exchange_ns.into_pyobject(py)?.into_any(),
            PyList::new(py, trade_ids)?.into_any(),
        ])?),
        OkxResult::OtherSymbol(s) => Some(PyTuple::new(py, ["symbol", s])?),
        OkxResult::Fallback => None,
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(okx_message, m)?)
}
