//! The per-instrument constants the native decode fast paths write with, built once per
//! instrument by the decoder (nexus/venues/base.py `_Ent`) and passed to every fast-path call.
use super::buffers::records_mut;
use super::error::ArgError;
use crate::core::decimal::EXPONENT_MAX;
use crate::core::fastpath;
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

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

/// The one shape of every decode fast-path wrapper (binance, bybit, okx, kraken, coinbase,
/// hyperliquid): `out` borrowed as record bytes, `target` as the core's view for a message
/// received at `ts_local_ns`, the core's `decode` run, its answer turned into Python by
/// `answer` (a tuple, or None to fall back).
pub fn fast_path<'py, R>(
    out: &Bound<'py, PyUntypedArray>,
    target: Option<&Bound<'py, Target>>,
    ts_local_ns: i64,
    decode: impl FnOnce(&mut [u8], &fastpath::Target) -> R,
    answer: impl FnOnce(R) -> PyResult<Option<Bound<'py, PyTuple>>>,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let buf = records_mut(out)?;
    let t = core(target, ts_local_ns);
    answer(decode(buf, &t))
}

/// ("symbol", s): the message is for another instrument than the target's.
pub fn other_symbol<'py>(py: Python<'py>, s: &str) -> PyResult<Option<Bound<'py, PyTuple>>> {
    Ok(Some(("symbol", s).into_pyobject(py)?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Target>()
}
