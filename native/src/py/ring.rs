use super::buffers::{records, records_mut};
use super::error::{ring_err, ArgError};
use crate::core::record::RECORD_SIZE;
use crate::core::{bench, ring};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn closed() -> PyErr {
    ArgError::RingClosed.into()
}

/// Single writer of a named shared-memory ring.
#[pyclass(module = "nexus._native")]
pub struct RingWriter(Option<ring::RingWriter>);

impl RingWriter {
    fn inner(&mut self) -> PyResult<&mut ring::RingWriter> {
        self.0.as_mut().ok_or_else(closed)
    }
}

#[pymethods]
impl RingWriter {
    #[new]
    #[pyo3(signature = (name, slots=65536))]
    fn new(name: &str, slots: u64) -> PyResult<Self> {
        ring::RingWriter::create(name, slots).map(|w| RingWriter(Some(w))).map_err(ring_err)
    }
    /// Publish the first `n` records of a record array (all if n < 0; any length, larger than
    /// the ring is split). Returns how many were published.
    #[pyo3(signature = (batch, n=-1), text_signature = "($self, batch, n=-1)")]
    fn publish(&mut self, batch: &Bound<'_, PyUntypedArray>, n: isize) -> PyResult<usize> {
        let bytes = records(batch)?;
        let len = if n < 0 { bytes.len() } else { (n as usize * RECORD_SIZE).min(bytes.len()) };
        self.inner()?.publish_bytes(&bytes[..len]);
        Ok(len / RECORD_SIZE)
    }
    #[getter]
    fn name(&mut self) -> PyResult<String> {
        Ok(self.inner()?.name().to_string())
    }
    #[getter]
    fn slots(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.slots())
    }
    #[getter]
    fn position(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.position())
    }
    #[getter]
    fn epoch(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.epoch())
    }
    #[getter]
    fn closed(&self) -> bool {
        self.0.is_none()
    }
    /// Mark closed and remove the segment (unless unlink=False).
    #[pyo3(signature = (unlink=true))]
    fn close(&mut self, unlink: bool) {
        if let Some(mut w) = self.0.take() {
            w.close(unlink);
        }
    }
    /// Drop the writer as if its process had been killed (for restart tests).
    fn abandon(&mut self) {
        if let Some(w) = self.0.take() {
            w.abandon();
        }
    }
    /// Benchmark helper: publish `count` single records `gap_ns` apart, stamped, without the GIL.
    fn bench_latency(&mut self, py: Python<'_>, count: u64, gap_ns: i64) -> PyResult<()> {
        let w = self.inner()?;
        py.allow_threads(|| bench::latency_writer(w, count, gap_ns));
        Ok(())
    }
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    #[allow(unused_variables)]
    fn __exit__(&mut self, exc_type: PyObject, exc_value: PyObject, traceback: PyObject) {
        self.close(true);
    }
}

/// One reader of a named ring; many may attach, from any process.
#[pyclass(module = "nexus._native")]
pub struct RingReader(Option<ring::RingReader>);

impl RingReader {
    fn inner(&mut self) -> PyResult<&mut ring::RingReader> {
        self.0.as_mut().ok_or_else(closed)
    }
}

#[pymethods]
impl RingReader {
    /// start: "latest" (only new records) or "earliest" (oldest still in the ring).
    #[new]
    #[pyo3(signature = (name, start="latest"))]
    fn new(name: &str, start: &str) -> PyResult<Self> {
        let s = match start {
            "latest" => ring::Start::Latest,
            "earliest" => ring::Start::Earliest,
            _ => return Err(ArgError::RingStart.into()),
        };
        ring::RingReader::attach(name, s).map(|r| RingReader(Some(r))).map_err(ring_err)
    }
    /// Copy new records into `out` (a caller-owned record array); returns how many.
    fn poll(&mut self, out: &Bound<'_, PyUntypedArray>) -> PyResult<usize> {
        let bytes = records_mut(out)?;
        Ok(self.inner()?.poll_bytes(bytes))
    }
    #[getter]
    fn lost(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.lost())
    }
    #[getter]
    fn restarts(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.restarts())
    }
    #[getter]
    fn position(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.position())
    }
    #[getter]
    fn backlog(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.backlog())
    }
    #[getter]
    fn slots(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.slots())
    }
    #[getter]
    fn name(&mut self) -> PyResult<String> {
        Ok(self.inner()?.name().to_string())
    }
    #[getter]
    fn writer_pid(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.writer_pid())
    }
    #[getter]
    fn writer_alive(&mut self) -> PyResult<bool> {
        Ok(self.inner()?.writer_alive())
    }
    fn close(&mut self) {
        self.0 = None;
    }
    /// Benchmark helper: busy-poll without the GIL; returns one latency (ns) per record.
    fn bench_latency(&mut self, py: Python<'_>, count: u64, timeout_ns: i64) -> PyResult<Vec<i64>> {
        let r = self.inner()?;
        Ok(py.allow_threads(|| bench::latency_reader(r, count, timeout_ns)))
    }
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    #[allow(unused_variables)]
    fn __exit__(&mut self, exc_type: PyObject, exc_value: PyObject, traceback: PyObject) {
        self.close();
    }
}

/// Every Nexus ring segment on this host, with its writer's state.
#[pyfunction]
fn ring_list(py: Python<'_>) -> PyResult<Vec<Py<PyDict>>> {
    ring::list()
        .into_iter()
        .map(|i| {
            let d = PyDict::new(py);
            d.set_item("name", i.name)?;
            d.set_item("slots", i.slots)?;
            d.set_item("bytes", i.bytes)?;
            d.set_item("writer_pid", i.writer_pid)?;
            d.set_item("writer_alive", i.writer_alive)?;
            d.set_item("closed", i.closed)?;
            d.set_item("position", i.position)?;
            d.set_item("valid", i.valid)?;
            Ok(d.unbind())
        })
        .collect()
}

/// Remove a ring segment; refuses one with a live writer unless force=True.
#[pyfunction]
#[pyo3(signature = (name, force=false))]
fn ring_remove(name: &str, force: bool) -> PyResult<()> {
    ring::remove(name, force).map_err(ring_err)
}

/// CLOCK_MONOTONIC in ns (the clock the rings' latency stamps use; same as time.monotonic_ns).
#[pyfunction]
fn monotonic_ns() -> i64 {
    ring::monotonic_ns()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RingWriter>()?;
    m.add_class::<RingReader>()?;
    m.add_function(wrap_pyfunction!(ring_list, m)?)?;
    m.add_function(wrap_pyfunction!(ring_remove, m)?)?;
    m.add_function(wrap_pyfunction!(monotonic_ns, m)?)?;
    m.add("SLOTS_MIN", ring::SLOTS_MIN)?;
    m.add("SLOTS_MAX", ring::SLOTS_MAX)?;
    Ok(())
}
