use crate::core::record::{flags, kind, side, FIELDS, RECORD_SIZE};
use pyo3::prelude::*;

/// [(name, offset, numpy type code)] of the native record, for the mirrors' import checks.
#[pyfunction]
fn record_layout() -> Vec<(&'static str, usize, &'static str)> {
    FIELDS.to_vec()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("RECORD_SIZE", RECORD_SIZE)?;
    m.add_function(wrap_pyfunction!(record_layout, m)?)?;
    for (n, v) in [
        ("KIND_BOOK_LEVEL", kind::BOOK_LEVEL),
        ("KIND_BOOK_CLEAR", kind::BOOK_CLEAR),
        ("KIND_TRADE", kind::TRADE),
        ("KIND_BBO", kind::BBO),
        ("KIND_SIGNAL", kind::SIGNAL),
        ("KIND_HEARTBEAT", kind::HEARTBEAT),
        ("F_LAST", flags::F_LAST),
        ("F_SNAPSHOT", flags::F_SNAPSHOT),
        ("F_RESYNC", flags::F_RESYNC),
        ("SIDE_NONE", side::NONE),
        ("SIDE_BID", side::BID),
        ("SIDE_ASK", side::ASK),
    ] {
        m.add(n, v)?;
    }
    Ok(())
}
