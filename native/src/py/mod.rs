//! Thin pyo3 wrappers: newtypes and one-line delegations to `crate::core`.
use pyo3::prelude::*;

mod aeron;
mod binance;
mod book;
mod buffers;
mod bybit;
mod coinbase;
mod consensus;
mod decimal;
mod error;
mod hyperliquid;
mod kraken;
mod okx;
mod record;
mod ring;
mod target;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BUILD", if cfg!(debug_assertions) { "debug" } else { "release" })?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    record::register(m)?;
    decimal::register(m)?;
    ring::register(m)?;
    book::register(m)?;
    target::register(m)?;
    binance::register(m)?;
    kraken::register(m)?;
    okx::register(m)?;
    bybit::register(m)?;
    hyperliquid::register(m)?;
    coinbase::register(m)?;
    consensus::register(m)?;
    aeron::register(m)?;
    Ok(())
}
