use super::error::decimal_err;
use crate::core::decimal;
use pyo3::prelude::*;

/// Exact decimal string -> integer scaled by 10**exponent; raises DecimalError when off grid.
#[pyfunction]
fn parse_scaled(s: &str, exponent: u32) -> PyResult<i64> {
    decimal::parse_scaled(s.as_bytes(), exponent).map_err(|e| decimal_err(e, s))
}

/// Scaled integer -> shortest exact decimal string.
#[pyfunction]
fn format_scaled(v: i64, exponent: u32) -> String {
    let mut s = String::with_capacity(24);
    decimal::format_scaled(v, exponent.min(decimal::EXPONENT_MAX), &mut s);
    s
}

/// Scaled integer -> decimal string with exactly `exponent` fractional digits.
#[pyfunction]
fn format_fixed(v: i64, exponent: u32) -> String {
    let mut s = String::with_capacity(24);
    decimal::format_fixed(v, exponent.min(decimal::EXPONENT_MAX), &mut s);
    s
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("EXPONENT_MAX", decimal::EXPONENT_MAX)?;
    m.add_function(wrap_pyfunction!(parse_scaled, m)?)?;
    m.add_function(wrap_pyfunction!(format_scaled, m)?)?;
    m.add_function(wrap_pyfunction!(format_fixed, m)?)?;
    Ok(())
}
