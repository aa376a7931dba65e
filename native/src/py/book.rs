use super::buffers::{fill_pairs, records};
use super::error::ArgError;
use crate::core::book::{self, Level};
use crate::core::decimal::EXPONENT_MAX;
use numpy::PyArray2;
use numpy::PyUntypedArray;
use pyo3::prelude::*;

fn side_arg(side: u8) -> PyResult<u8> {
    match side {
        1 | 2 => Ok(side),
        _ => Err(ArgError::Side.into()),
    }
}

fn pair(l: Option<Level>) -> Option<(i64, i64)> {
    l.map(|l| (l.price, l.qty))
}

/// L2 order book over integer price levels (see native/src/core/book.rs).
#[pyclass(module = "nexus._native")]
pub struct Book(pub(crate) book::Book);

#[pymethods]
impl Book {
    #[new]
    fn new(price_exponent: u32, qty_exponent: u32) -> PyResult<Self> {
        if price_exponent > EXPONENT_MAX || qty_exponent > EXPONENT_MAX {
            return Err(ArgError::Exponents.into());
        }
        Ok(Book(book::Book::new(price_exponent, qty_exponent)))
    }
    #[getter]
    fn price_exponent(&self) -> u32 {
        self.0.price_exponent
    }
    #[getter]
    fn qty_exponent(&self) -> u32 {
        self.0.qty_exponent
    }
    /// Apply the first `n` records (all if n < 0): BOOK_CLEAR and BOOK_LEVEL; others ignored.
    #[pyo3(signature = (batch, n=-1), text_signature = "($self, batch, n=-1)")]
    fn apply(&mut self, batch: &Bound<'_, PyUntypedArray>, n: isize) -> PyResult<usize> {
        let bytes = records(batch)?;
        let len = if n < 0 { bytes.len() } else { (n as usize * 64).min(bytes.len()) };
        Ok(self.0.apply_bytes(&bytes[..len]))
    }
    /// Set one level (qty 0 deletes).
    fn set(&mut self, side: u8, price: i64, qty: i64) -> PyResult<()> {
        self.0.set(side_arg(side)?, price, qty);
        Ok(())
    }
    /// Clear a side (1 bids, 2 asks) or both (0).
    #[pyo3(signature = (side=0))]
    fn clear(&mut self, side: u8) {
        self.0.clear(side);
    }
    fn best_bid(&self) -> Option<(i64, i64)> {
        pair(self.0.best_bid())
    }
    fn best_ask(&self) -> Option<(i64, i64)> {
        pair(self.0.best_ask())
    }
    #[pyo3(signature = (side=0))]
    fn depth(&self, side: u8) -> usize {
        self.0.depth(side)
    }
    fn crossed(&self) -> bool {
        self.0.crossed()
    }
    /// Top `n` levels of a side, best first, as [(price, qty)].
    fn top(&self, side: u8, n: usize) -> PyResult<Vec<(i64, i64)>> {
        Ok(self.0.top(side_arg(side)?, n).into_iter().map(|l| (l.price, l.qty)).collect())
    }
    /// Fill caller-owned int64 arrays of shape (n, 2) with the top levels; returns (nb, na).
    fn top_into(&self, bids_out: &Bound<'_, PyArray2<i64>>, asks_out: &Bound<'_, PyArray2<i64>>) -> PyResult<(usize, usize)> {
        let fill = |arr: &Bound<'_, PyArray2<i64>>, side: u8| {
            fill_pairs(arr, |n| self.0.top(side, n).into_iter().map(|l| (l.price, l.qty)).collect())
        };
        Ok((fill(bids_out, 1)?, fill(asks_out, 2)?))
    }
    #[pyo3(signature = (depth=25))]
    fn checksum_okx(&self, depth: usize) -> i32 {
        self.0.checksum_okx(depth)
    }
    #[pyo3(signature = (depth=25))]
    fn checksum_string_okx(&self, depth: usize) -> String {
        self.0.checksum_string_okx(depth)
    }
    #[pyo3(signature = (price_precision, qty_precision, depth=10))]
    fn checksum_kraken(&self, price_precision: u32, qty_precision: u32, depth: usize) -> PyResult<u32> {
        check_prec(price_precision, qty_precision)?;
        Ok(self.0.checksum_kraken(price_precision, qty_precision, depth))
    }
    #[pyo3(signature = (price_precision, qty_precision, depth=10))]
    fn checksum_string_kraken(&self, price_precision: u32, qty_precision: u32, depth: usize) -> PyResult<String> {
        check_prec(price_precision, qty_precision)?;
        Ok(self.0.checksum_string_kraken(price_precision, qty_precision, depth))
    }
    fn __len__(&self) -> usize {
        self.0.depth(0)
    }
    fn __repr__(&self) -> String {
        format!(
            "Book(bids={}, asks={}, best_bid={:?}, best_ask={:?})",
            self.0.depth(1),
            self.0.depth(2),
            pair(self.0.best_bid()),
            pair(self.0.best_ask())
        )
    }
}

fn check_prec(p: u32, q: u32) -> PyResult<()> {
    if p > EXPONENT_MAX || q > EXPONENT_MAX {
        return Err(ArgError::Precisions.into());
    }
    Ok(())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Book>()
}
