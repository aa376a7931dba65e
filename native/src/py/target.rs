//! The per-instrument constants the native decode fast paths write with, built once per
//! instrument by the decoder (nexus/venues/base.py `_Ent`) and passed to every fast-path call.
use super::error::ArgError;
use crate::core::decimal::EXPONENT_MAX;
use crate::core::fastpath;
use pyo3::prelude::*;

/// One instrument's record constants: symbol, exponents, instrument id and the header word of
/// each record shape (book level bid/ask, snapshot level bid/ask, book clear, trade buy/sell).
#[pyclass(module = "nexus._native", frozen)]
pub struct Target {
    symbol: String,
    price_exponent: u32,
    qty_exponent: u32,
    instrument_id: u32,
    hdr: [i64; 7],
}

#[pymethods]
impl Target {
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(symbol: String, price_exponent: u32, qty_exponent: u32, instrument_id: u32, hdr_bid: i64, hdr_ask: i64,
           hdr_snap_bid: i64, hdr_snap_ask: i64, hdr_clear: i64, hdr_buy: i64, hdr_sell: i64) -> PyResult<Self> {
        if price_exponent > EXPONENT_MAX || qty_exponent > EXPONENT_MAX {
            return Err(ArgError::Exponents.into());
        }
        Ok(Target { symbol, price_exponent, qty_exponent, instrument_id,
                    hdr: [hdr_bid, hdr_ask, hdr_snap_bid, hdr_snap_ask, hdr_clear, hdr_buy, hdr_sell] })
    }
    #[getter]
    fn symbol(&self) -> &str {
        &self.symbol
    }
    fn __repr__(&self) -> String {
        format!("Target({:?}, price_exponent={}, qty_exponent={}, instrument_id={})", self.symbol,
                self.price_exponent, self.qty_exponent, self.instrument_id)
    }
}

/// The core's view of `target` for one message received at `ts_local_ns` (no target: the
/// instrument is not known yet, every message answers with its symbol or falls back).
pub fn core<'a>(target: Option<&'a Bound<'_, Target>>, ts_local_ns: i64) -> fastpath::Target<'a> {
    match target {
        None => fastpath::Target::NONE,
        Some(t) => {
            let t = t.get();
            let [hdr_bid, hdr_ask, hdr_snap_bid, hdr_snap_ask, hdr_clear, hdr_buy, hdr_sell] = t.hdr;
            fastpath::Target { symbol: &t.symbol, price_exponent: t.price_exponent, qty_exponent: t.qty_exponent,
                               instrument_id: t.instrument_id, hdr_bid, hdr_ask, hdr_snap_bid, hdr_snap_ask,
                               hdr_clear, hdr_buy, hdr_sell, ts_local_ns }
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Target>()
}
