//! The one place where core errors become Python exceptions: each maps to a class of
//! `nexus.exceptions` (rooted at `NexusError`), looked up once and cached.
use crate::core::decimal::DecimalError;
use crate::core::ring::RingError;
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::PyType;

fn class<'py>(py: Python<'py>, cell: &'static GILOnceCell<Py<PyType>>, name: &str) -> Bound<'py, PyType> {
    cell.get_or_init(py, || {
        py.import("nexus.exceptions")
            .and_then(|m| m.getattr(name))
            .and_then(|c| Ok(c.downcast_into::<PyType>()?.unbind()))
            .unwrap_or_else(|_| py.get_type::<pyo3::exceptions::PyRuntimeError>().unbind())
    })
    .bind(py)
    .clone()
}

macro_rules! exc {
    ($fn:ident, $name:literal) => {
        fn $fn(msg: String) -> PyErr {
            static CELL: GILOnceCell<Py<PyType>> = GILOnceCell::new();
            Python::with_gil(|py| PyErr::from_type(class(py, &CELL, $name), msg))
        }
    };
}

exc!(ring_error, "RingError");
exc!(ring_config_error, "RingConfigError");
exc!(ring_not_found, "RingNotFound");
exc!(ring_busy, "RingBusy");
exc!(decimal_error, "DecimalError");

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}

pub fn ring_err(e: RingError) -> PyErr {
    let msg = e.message();
    match e {
        RingError::NotFound(_) => ring_not_found(msg),
        RingError::WriterAlive(..) => ring_busy(msg),
        RingError::BadName(_) | RingError::BadSlots(_) | RingError::BatchTooLarge(..) => ring_config_error(msg),
        RingError::Layout(_) | RingError::Io(_) => ring_error(msg),
    }
}

pub fn decimal_err(e: DecimalError, input: &str) -> PyErr {
    decimal_error(format!("{input:?}: {}", e.message()))
}
