use super::buffers::{fill_pairs, records};
use super::error::ArgError;
use crate::core::consensus::{self, CLevel, VenueScale, VENUES_MAX};
use crate::core::dedup;
use crate::core::record::RECORD_SIZE;
use numpy::{PyArray2, PyUntypedArray, PyUntypedArrayMethods};
use std::sync::atomic::{AtomicPtr, Ordering};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::cell::{Ref, RefCell, RefMut};

fn venue_arg(v: usize) -> PyResult<usize> {
    if v < VENUES_MAX {
        Ok(v)
    } else {
        Err(ArgError::VenueIndex.into())
    }
}

/// The dtype object of the first batch that passed `records`' dtype checks (itemsize 64 and
/// named fields): the record dtype. One reference to it is kept for good, so its address is
/// never reused by another object; a batch with this very dtype object needs only its own
/// shape checked (others go through `records` every time).
static CHECKED_DTYPE: AtomicPtr<pyo3::ffi::PyObject> = AtomicPtr::new(std::ptr::null_mut());

/// NumPy's ndarray type, once a batch of exactly that type was seen: an argument of this
/// very type is an array without asking NumPy's API table (a static type object, never
/// freed). Subclasses go through the full downcast every time.
static NDARRAY_TYPE: AtomicPtr<pyo3::ffi::PyTypeObject> = AtomicPtr::new(std::ptr::null_mut());

/// A batch's record bytes, checked as `records` checks them. The first lines of the
/// records are asked for before anything else is read: NumPy keeps an array's shape in an
/// allocation of its own, and when neither is in cache the two misses then overlap instead
/// of following each other. A plain ndarray (`NDARRAY_TYPE`) made with the record dtype
/// object checked before (`CHECKED_DTYPE`) skips the type and dtype calls: the per-message
/// path of `apply_touch` is otherwise mostly call overhead and cache misses.
fn batch_records<'a>(batch: &'a Bound<'_, PyAny>) -> PyResult<&'a [u8]> {
    let obj = batch.as_ptr();
    // SAFETY: the type of a live object, which `batch` holds.
    let tp = unsafe { pyo3::ffi::Py_TYPE(obj) };
    if tp != NDARRAY_TYPE.load(Ordering::Relaxed) {
        return batch_records_checked(batch.downcast::<PyUntypedArray>()?);
    }
    // SAFETY: an object of exactly NumPy's ndarray type is a PyArrayObject.
    let raw = unsafe { &*(obj as *const numpy::npyffi::PyArrayObject) };
    prefetch_head(raw);
    let dtype = raw.descr as *mut pyo3::ffi::PyObject;
    if raw.nd == 1 && raw.flags & numpy::npyffi::NPY_ARRAY_C_CONTIGUOUS != 0 && dtype == CHECKED_DTYPE.load(Ordering::Relaxed) {
        // SAFETY: a C-contiguous one-dimensional array of 64-byte items, `dimensions[0]` of them.
        let n = unsafe { *raw.dimensions } as usize;
        return Ok(unsafe { std::slice::from_raw_parts(raw.data as *const u8, n * RECORD_SIZE) });
    }
    batch_records_checked(batch.downcast::<PyUntypedArray>()?)
}

/// The first lines of an array's data, asked for (see `batch_records`).
#[inline(always)]
fn prefetch_head(raw: &numpy::npyffi::PyArrayObject) {
    #[cfg(target_arch = "x86_64")]
    for k in 0..8 {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint that never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((raw.data as *const i8).wrapping_add(k * 64)) };
    }
}

/// `batch_records` for any array: the full checks, and the type and dtype remembered.
#[inline(never)]
fn batch_records_checked<'a>(batch: &'a Bound<'_, PyUntypedArray>) -> PyResult<&'a [u8]> {
    // SAFETY: the fields of a live array, which `batch` holds.
    let raw = unsafe { &*batch.as_array_ptr() };
    prefetch_head(raw);
    let dtype = raw.descr as *mut pyo3::ffi::PyObject;
    let bytes = records(batch)?;
    if CHECKED_DTYPE.compare_exchange(std::ptr::null_mut(), dtype, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        // SAFETY: a new reference to a live dtype object, never released (see CHECKED_DTYPE).
        unsafe { pyo3::ffi::Py_IncRef(dtype) };
    }
    // SAFETY: NumPy's API table is loaded (the downcast used it); its ndarray type is static.
    let nd = unsafe { numpy::npyffi::PY_ARRAY_API.get_type_object(batch.py(), numpy::npyffi::NpyTypes::PyArray_Type) };
    // SAFETY: the type of a live object.
    if unsafe { pyo3::ffi::Py_TYPE(batch.as_ptr()) } == nd {
        NDARRAY_TYPE.store(nd, Ordering::Relaxed);
    }
    Ok(bytes)
}

fn level_tuple(l: &CLevel) -> (i64, i64, Vec<i64>) {
    (l.price, l.total, l.qty.to_vec())
}

type Touch = (i64, i64, i64, i64);

/// A Consensus's state: the book, and the last tuple `touch()` returned (handed out again
/// while the touch is unchanged).
struct State {
    book: consensus::Consensus,
    last_touch: Option<(Touch, Py<PyTuple>)>,
}

/// Consensus book over up to 8 venues (see native/src/core/consensus.rs).
///
/// `frozen`, its state in a `RefCell`: a `&mut self` method would make PyO3 take its
/// atomic borrow flag (a locked compare-exchange, which also waits for every earlier store
/// to drain) on each call, and `apply_touch` is called once per venue message. The
/// RefCell's flag is a plain load and store and still refuses a re-entrant call.
#[pyclass(module = "nexus._native", frozen)]
pub struct Consensus(RefCell<State>);

// SAFETY: the module is built for the stable ABI (abi3), which only GIL-enabled CPython
// loads, and every access to the state is from a method of this class, so with the GIL
// held: no two threads touch the RefCell at once. (Nothing in the crate reaches a
// Consensus without the GIL, e.g. through `Py::get`.)
unsafe impl Sync for Consensus {}

impl Consensus {
    #[inline(always)]
    fn state(&self) -> PyResult<RefMut<'_, State>> {
        self.0.try_borrow_mut().map_err(|_| ArgError::InUse.into())
    }
    #[inline(always)]
    fn book(&self) -> PyResult<Ref<'_, consensus::Consensus>> {
        self.0
            .try_borrow()
            .map(|s| Ref::map(s, |s| &s.book))
            .map_err(|_| ArgError::InUse.into())
    }
}

#[pymethods]
impl Consensus {
    #[new]
    fn new() -> Self {
        Consensus(RefCell::new(State { book: consensus::Consensus::new(), last_touch: None }))
    }
    /// Venue v's conversion into consensus units: price*price_mul; qty*qty_mul/qty_div
    /// (or notional/price for inverse contracts).
    #[pyo3(signature = (v, price_mul, qty_mul, qty_div=1, inverse=false))]
    fn set_scale(&self, v: usize, price_mul: i64, qty_mul: i64, qty_div: i64, inverse: bool) -> PyResult<()> {
        if price_mul <= 0 || qty_mul <= 0 || qty_div <= 0 {
            return Err(ArgError::ScaleFactors.into());
        }
        self.state()?.book.set_scale(venue_arg(v)?, VenueScale { price_mul, qty_mul, qty_div, inverse });
        Ok(())
    }
    /// The consensus grid's price step (consensus units); a performance hint, prices off it
    /// are still kept exactly.
    fn set_tick(&self, tick: i64) -> PyResult<()> {
        if tick <= 0 {
            return Err(ArgError::Tick.into());
        }
        self.state()?.book.set_tick(tick);
        Ok(())
    }
    /// Apply venue v's book records (in the venue's own units).
    fn apply(&self, v: usize, batch: &Bound<'_, PyAny>) -> PyResult<usize> {
        let bytes = batch_records(batch)?;
        let v = venue_arg(v)?;
        Ok(self.state()?.book.apply_bytes(v, bytes))
    }
    /// Apply venue v's book records and return whether the touch changed (best bid/ask
    /// price or total, or a side appearing/emptying): read touch() only when it did.
    fn apply_touch(&self, v: usize, batch: &Bound<'_, PyAny>) -> PyResult<bool> {
        let bytes = batch_records(batch)?;
        let v = venue_arg(v)?;
        Ok(self.state()?.book.apply_bytes_touch(v, bytes))
    }
    /// Read venue v's batch as apply_touch() would — the same call path and the same
    /// records (the sum of their prices and quantities) — without merging anything; returns
    /// whether that sum is odd. The floor under apply_touch(), for `nexus bench agg`.
    fn read_records(&self, v: usize, batch: &Bound<'_, PyAny>) -> PyResult<bool> {
        let bytes = batch_records(batch)?;
        venue_arg(v)?;
        let _s = self.state()?; // the same borrow apply_touch() takes
        Ok(consensus::read_records(bytes) & 1 == 1)
    }
    /// Set venue v's quantity at a consensus price (consensus units).
    fn set(&self, v: usize, side: u8, price: i64, qty: i64) -> PyResult<()> {
        self.state()?.book.set(venue_arg(v)?, side, price, qty);
        Ok(())
    }
    #[pyo3(signature = (v, side=0))]
    fn clear_venue(&self, v: usize, side: u8) -> PyResult<()> {
        self.state()?.book.clear_venue(venue_arg(v)?, side);
        Ok(())
    }
    fn set_included(&self, v: usize, included: bool) -> PyResult<()> {
        self.state()?.book.set_included(venue_arg(v)?, included);
        Ok(())
    }
    fn included(&self, v: usize) -> PyResult<bool> {
        Ok(self.book()?.included(venue_arg(v)?))
    }
    /// Hide venue `v`'s levels on `side` (1 bid, 2 ask) at `price` and better from the
    /// totals and reads (bids >= price, asks <= price), or show them all again (None).
    #[pyo3(signature = (v, side, price=None))]
    fn set_hide(&self, v: usize, side: u8, price: Option<i64>) -> PyResult<()> {
        self.state()?.book.set_hide(venue_arg(v)?, side, price);
        Ok(())
    }
    /// The price from which venue `v`'s levels on `side` are hidden, or None.
    fn hidden_from(&self, v: usize, side: u8) -> PyResult<Option<i64>> {
        Ok(self.book()?.hidden_from(venue_arg(v)?, side))
    }
    /// (price, total, [qty per venue]) of the best bid, or None.
    fn best_bid(&self) -> PyResult<Option<(i64, i64, Vec<i64>)>> {
        Ok(self.book()?.best_bid().as_ref().map(level_tuple))
    }
    fn best_ask(&self) -> PyResult<Option<(i64, i64, Vec<i64>)>> {
        Ok(self.book()?.best_ask().as_ref().map(level_tuple))
    }
    /// (bid price, bid total, ask price, ask total), or None while a side is empty: the
    /// touch in one call, without the per-venue lists of best_bid()/best_ask(). While it is
    /// unchanged the same tuple object is returned (most venue messages leave the touch
    /// alone, so a per-message poll builds no new objects).
    fn touch(&self, py: Python<'_>) -> PyResult<Option<Py<PyTuple>>> {
        let t = {
            let s = self.state()?;
            let Some(t) = s.book.touch() else { return Ok(None) };
            if let Some((last, obj)) = &s.last_touch {
                if *last == t {
                    return Ok(Some(obj.clone_ref(py)));
                }
            }
            t
        };
        // no borrow held while Python objects are made (an allocation can run a collection)
        let obj = PyTuple::new(py, [t.0, t.1, t.2, t.3])?.unbind();
        let old = self.state()?.last_touch.replace((t, obj.clone_ref(py)));
        drop(old);
        Ok(Some(obj))
    }
    fn top(&self, side: u8, n: usize) -> PyResult<Vec<(i64, i64, Vec<i64>)>> {
        Ok(self.book()?.top(side, n).iter().map(level_tuple).collect())
    }
    /// Fill caller-owned int64 arrays of shape (n, 2) with the top (price, total) levels of
    /// each side, best first, without building Python objects; returns (nb, na).
    fn top_into(&self, bids_out: &Bound<'_, PyArray2<i64>>, asks_out: &Bound<'_, PyArray2<i64>>) -> PyResult<(usize, usize)> {
        let book = self.book()?;
        let fill = |arr: &Bound<'_, PyArray2<i64>>, side: u8| {
            fill_pairs(arr, |n| book.top(side, n).into_iter().map(|l| (l.price, l.total)).collect())
        };
        Ok((fill(bids_out, 1)?, fill(asks_out, 2)?))
    }
    fn at(&self, side: u8, price: i64) -> PyResult<Option<(i64, i64, Vec<i64>)>> {
        Ok(self.book()?.at(side, price).as_ref().map(level_tuple))
    }
    /// ([qty per included venue], total) summed over prices in [lo, hi].
    fn depth_between(&self, side: u8, lo: i64, hi: i64) -> PyResult<(Vec<i64>, i64)> {
        let (per, total) = self.book()?.depth_between(side, lo, hi);
        Ok((per.to_vec(), total))
    }
    fn levels(&self, side: u8) -> PyResult<usize> {
        Ok(self.book()?.levels(side))
    }
}

/// Cross-feed trade dedup (the rule is in native/src/core/dedup.rs).
#[pyclass(module = "nexus._native")]
pub struct TradeDedup(dedup::TradeDedup);

#[pymethods]
impl TradeDedup {
    #[new]
    #[pyo3(signature = (window_ns=0, retention_ns=60_000_000_000))]
    fn new(window_ns: i64, retention_ns: i64) -> Self {
        TradeDedup(dedup::TradeDedup::new(window_ns, retention_ns))
    }
    /// True if the trade is new, False if it duplicates one already counted.
    fn check(&mut self, venue: u8, ts_ns: i64, price: i64, qty: i64, side: u8, trade_id: u64) -> bool {
        self.0.check(venue, ts_ns, price, qty, side, trade_id)
    }
    #[getter]
    fn unique(&self) -> u64 {
        self.0.unique
    }
    #[getter]
    fn duplicates_same_venue(&self) -> u64 {
        self.0.duplicates_same_venue
    }
    #[getter]
    fn duplicates_cross_venue(&self) -> u64 {
        self.0.duplicates_cross_venue
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Consensus>()?;
    m.add_class::<TradeDedup>()?;
    m.add("VENUES_MAX", VENUES_MAX)?;
    Ok(())
}
