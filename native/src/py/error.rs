//! The one place where Python exceptions are made. Core errors map to classes of
//! `nexus.exceptions` (rooted at `NexusError`), looked up once and cached; arguments the
//! wrappers reject are the `ArgError` cases below, each with its message and its built-in
//! exception type. No other file creates a `PyErr` (native/tests/error_boundary.rs checks it).
use crate::core::consensus::VENUES_MAX;
use crate::core::decimal::{DecimalError, EXPONENT_MAX};
use crate::core::ring::RingError;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::PyType;

fn class<'py>(py: Python<'py>, cell: &'static GILOnceCell<Py<PyType>>, name: &str) -> Bound<'py, PyType> {
    cell.get_or_init(py, || {
        py.import("nexus.exceptions")
            .and_then(|m| m.getattr(name))
            .and_then(|c| Ok(c.downcast_into::<PyType>()?.unbind()))
            .unwrap_or_else(|_| py.get_type::<PyRuntimeError>().unbind())
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
exc!(aeron_error, "AeronError");
exc!(aeron_driver_error, "AeronDriverError");
exc!(aeron_channel_error, "AeronChannelError");
exc!(aeron_layout_error, "AeronLayoutError");
exc!(config_error, "ConfigError");

#[cfg(feature = "aeron")]
pub fn aeron_err(e: crate::core::aeron::AeronError) -> PyErr {
    use crate::core::aeron::AeronError as E;
    let msg = e.message();
    match e {
        E::NoDriver { .. } => aeron_driver_error(msg),
        E::Channel { .. } => aeron_channel_error(msg),
        E::Layout { .. } => aeron_layout_error(msg),
        E::Ring(r) => ring_err(r),
        E::Config(_) => config_error(msg),
        E::Other(_) => aeron_error(msg),
    }
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

/// An argument a wrapper rejects before calling the core.
#[derive(Debug, Clone, Copy)]
pub enum ArgError {
    /// A record array that is not one-dimensional.
    RecordsNot1d,
    /// An array whose items are not 64-byte structured records.
    RecordsDtype,
    RecordsNotContiguous,
    RecordsReadOnly,
    /// A `top_into` output array that is not (n, 2).
    PairsShape,
    Side,
    Exponents,
    Precisions,
    VenueIndex,
    ScaleFactors,
    Tick,
    RingStart,
    RingClosed,
    AeronClosed,
    /// A call into an object that is in the middle of another call (re-entered).
    InUse,
}

impl ArgError {
    pub fn message(self) -> String {
        match self {
            ArgError::RecordsNot1d => "expected a 1-D array of records (nexus.record.RECORD_DTYPE)".into(),
            ArgError::RecordsDtype => "expected an array of dtype nexus.record.RECORD_DTYPE (64-byte records)".into(),
            ArgError::RecordsNotContiguous => "record array must be C-contiguous".into(),
            ArgError::RecordsReadOnly => "output record array is read-only".into(),
            ArgError::PairsShape => "output arrays must have shape (n, 2)".into(),
            ArgError::Side => "side must be 1 (bid) or 2 (ask)".into(),
            ArgError::Exponents => format!("exponents must be at most {EXPONENT_MAX}"),
            ArgError::Precisions => format!("precisions must be at most {EXPONENT_MAX}"),
            ArgError::VenueIndex => format!("venue index must be below {VENUES_MAX}"),
            ArgError::ScaleFactors => "scale factors must be positive".into(),
            ArgError::Tick => "tick must be positive".into(),
            ArgError::RingStart => "start must be 'latest' or 'earliest'".into(),
            ArgError::RingClosed => "ring is closed".into(),
            ArgError::AeronClosed => "Aeron handle is closed".into(),
            ArgError::InUse => "already in use by another call (a re-entrant call)".into(),
        }
    }
}

impl From<ArgError> for PyErr {
    fn from(e: ArgError) -> PyErr {
        match e {
            ArgError::RecordsDtype => PyTypeError::new_err(e.message()),
            ArgError::InUse => PyRuntimeError::new_err(e.message()),
            _ => PyValueError::new_err(e.message()),
        }
    }
}
