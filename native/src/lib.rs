//! nexus._native: the pure core (`core`) and, with the `python` feature, its thin pyo3
//! wrappers (`py`).
pub mod core;

#[cfg(feature = "python")]
mod py;
