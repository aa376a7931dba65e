//! NumPy record arrays as byte slices. Rust and Cython meet only at these buffers.
use crate::core::record::RECORD_SIZE;
use numpy::{PyArray2, PyArrayDescrMethods, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use super::error::ArgError;
use pyo3::prelude::*;

fn check(arr: &Bound<'_, PyUntypedArray>, writable: bool) -> PyResult<(*mut u8, usize)> {
    if arr.ndim() != 1 {
        return Err(ArgError::RecordsNot1d.into());
    }
    if arr.dtype().itemsize() != RECORD_SIZE || !arr.dtype().has_fields() {
        return Err(ArgError::RecordsDtype.into());
    }
    if !arr.is_c_contiguous() {
        return Err(ArgError::RecordsNotContiguous.into());
    }
    // SAFETY: reading the PyArrayObject fields of a live array.
    let raw = unsafe { &*arr.as_array_ptr() };
    if writable && (raw.flags & numpy::npyffi::NPY_ARRAY_WRITEABLE) == 0 {
        return Err(ArgError::RecordsReadOnly.into());
    }
    Ok((raw.data as *mut u8, arr.len() * RECORD_SIZE))
}

/// Borrow a record array's bytes for reading. The caller holds a reference to `arr`.
pub fn records<'a>(arr: &'a Bound<'_, PyUntypedArray>) -> PyResult<&'a [u8]> {
    let (p, n) = check(arr, false)?;
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// Borrow a record array's bytes for writing.
pub fn records_mut<'a>(arr: &'a Bound<'_, PyUntypedArray>) -> PyResult<&'a mut [u8]> {
    let (p, n) = check(arr, true)?;
    Ok(unsafe { std::slice::from_raw_parts_mut(p, n) })
}

/// Fill a caller-owned int64 array of shape (n, 2) with (price, quantity) rows, at most n of
/// them; returns how many were written. The book views' `top_into` share it.
pub fn fill_pairs(arr: &Bound<'_, PyArray2<i64>>, get: impl FnOnce(usize) -> Vec<(i64, i64)>) -> PyResult<usize> {
    let mut rw = arr.try_readwrite()?;
    let mut view = rw.as_array_mut();
    if view.ncols() != 2 {
        return Err(ArgError::PairsShape.into());
    }
    let rows = get(view.nrows());
    for (i, (p, q)) in rows.iter().enumerate() {
        view[[i, 0]] = *p;
        view[[i, 1]] = *q;
    }
    Ok(rows.len())
}
