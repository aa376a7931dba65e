//! Thin wrappers over `crate::core::aeron`: the media driver, a ring -> Aeron publisher, an
//! Aeron -> ring subscriber and the C-client benchmarks. Handles of the Aeron C client stay on
//! the thread that made them, so these classes are `unsendable`.
use super::error::{aeron_err, ArgError};
use crate::core::aeron as ca;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// A handle carried into `allow_threads` on the thread that owns it (the classes are
/// `unsendable`, so no other thread ever reaches it): the GIL is released while the native
/// pump copies, so a publisher and a subscriber pumped from two Python threads run in parallel.
struct OnThisThread<T>(*mut T);
// SAFETY: the closure runs on the calling thread, before `allow_threads` returns.
unsafe impl<T> Send for OnThisThread<T> {}
impl<T> OnThisThread<T> {
    fn get(&self) -> *mut T {
        self.0
    }
}

fn closed() -> PyErr {
    ArgError::AeronClosed.into()
}

/// Aeron's default directory (AERON_DIR, else /dev/shm/aeron-$USER).
#[pyfunction]
fn aeron_default_dir() -> String {
    ca::default_dir()
}

/// Whether a media driver is alive at `dir`.
#[pyfunction]
#[pyo3(signature = (dir, timeout_ms=10000))]
fn aeron_driver_active(py: Python<'_>, dir: String, timeout_ms: i64) -> bool {
    py.allow_threads(|| ca::driver_active(&dir, timeout_ms))
}

/// An embedded Aeron C media driver (shared threading mode), stopped on close().
#[pyclass(module = "nexus._native", unsendable)]
pub struct AeronDriver(Option<ca::MediaDriver>);

#[pymethods]
impl AeronDriver {
    #[new]
    #[pyo3(signature = (dir, spin=false))]
    fn new(dir: &str, spin: bool) -> PyResult<Self> {
        ca::MediaDriver::start(dir, spin).map(|d| AeronDriver(Some(d))).map_err(aeron_err)
    }
    #[getter]
    fn dir(&self) -> PyResult<String> {
        Ok(self.0.as_ref().ok_or_else(closed)?.dir().to_string())
    }
    fn close(&mut self) {
        if let Some(mut d) = self.0.take() {
            d.stop();
        }
    }
}

/// Publishes rings on an Aeron channel: `pump()` moves what the rings hold (one call per
/// batch of messages, no per-record Python).
#[pyclass(module = "nexus._native", unsendable)]
pub struct AeronPublisher(Option<ca::Publisher>);

impl AeronPublisher {
    fn inner(&mut self) -> PyResult<&mut ca::Publisher> {
        self.0.as_mut().ok_or_else(closed)
    }
}

#[pymethods]
impl AeronPublisher {
    /// rings: [(name, side-file bytes)]; snapshot_every_s: period of the book snapshots.
    #[new]
    #[pyo3(signature = (dir, channel, stream_id, rings, snapshot_every_s=1.0, layout_version=1, timeout_ms=2000))]
    fn new(
        dir: &str,
        channel: &str,
        stream_id: i32,
        rings: Vec<(String, Vec<u8>)>,
        snapshot_every_s: f64,
        layout_version: u16,
        timeout_ms: u64,
    ) -> PyResult<Self> {
        let aeron = ca::connect(dir, timeout_ms).map_err(aeron_err)?;
        ca::Publisher::new(aeron, channel, stream_id, &rings, (snapshot_every_s * 1e9) as i64, layout_version)
            .map(|p| AeronPublisher(Some(p)))
            .map_err(aeron_err)
    }
    /// Move up to `budget` records from the rings to the channel; returns how many were read.
    #[pyo3(signature = (budget=65536))]
    fn pump(&mut self, py: Python<'_>, budget: usize) -> PyResult<usize> {
        let p = OnThisThread(self.inner()? as *mut ca::Publisher);
        // SAFETY: see OnThisThread; `self` is borrowed mutably for the whole call.
        py.allow_threads(move || unsafe { (*p.get()).pump(budget) }).map_err(aeron_err)
    }
    /// Replace ring `index`'s side file bytes (re-announced with the next pump).
    fn set_meta(&mut self, index: usize, meta: Vec<u8>) -> PyResult<()> {
        self.inner()?.set_meta(index, meta).map_err(aeron_err)
    }
    /// Announce the rings and send every book as a snapshot now.
    fn send_snapshots(&mut self) -> PyResult<()> {
        self.inner()?.send_snapshots().map_err(aeron_err)
    }
    #[getter]
    fn connected(&mut self) -> PyResult<bool> {
        Ok(self.inner()?.is_connected())
    }
    #[getter]
    fn max_records(&mut self) -> PyResult<usize> {
        Ok(self.inner()?.max_records())
    }
    /// The publication's term length in bytes (its log holds three terms).
    #[getter]
    fn term_length(&mut self) -> PyResult<usize> {
        Ok(self.inner()?.term_length())
    }
    #[getter]
    fn epoch(&mut self) -> PyResult<u64> {
        Ok(self.inner()?.epoch())
    }
    fn stats<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.inner()?;
        let s = &p.stats;
        let d = PyDict::new(py);
        d.set_item("records", s.records)?;
        d.set_item("messages", s.messages)?;
        d.set_item("back_pressured", s.back_pressured)?;
        d.set_item("not_connected", s.not_connected)?;
        d.set_item("admin_action", s.admin_action)?;
        d.set_item("snapshots", s.snapshots)?;
        d.set_item("lost", s.lost)?;
        d.set_item("restarts", s.restarts)?;
        d.set_item("connected", p.is_connected())?;
        d.set_item("rings", p.ring_names())?;
        d.set_item("channel", p.channel())?;
        Ok(d)
    }
    fn close(&mut self) {
        self.0 = None;
    }
}

/// Subscribes to an Aeron channel and re-publishes each announced ring onto a local ring
/// named prefix + the publisher's ring name.
#[pyclass(module = "nexus._native", unsendable)]
pub struct AeronSubscriber(Option<ca::Subscriber>);

impl AeronSubscriber {
    fn inner(&mut self) -> PyResult<&mut ca::Subscriber> {
        self.0.as_mut().ok_or_else(closed)
    }
}

#[pymethods]
impl AeronSubscriber {
    #[new]
    #[pyo3(signature = (dir, channel, stream_id, prefix="", slots=65536, layout_version=1, timeout_ms=2000))]
    fn new(dir: &str, channel: &str, stream_id: i32, prefix: &str, slots: u64, layout_version: u16, timeout_ms: u64) -> PyResult<Self> {
        let aeron = ca::connect(dir, timeout_ms).map_err(aeron_err)?;
        ca::Subscriber::new(aeron, channel, stream_id, prefix, slots, layout_version)
            .map(|s| AeronSubscriber(Some(s)))
            .map_err(aeron_err)
    }
    /// Poll up to `fragment_limit` messages onto the local rings; returns how many.
    #[pyo3(signature = (fragment_limit=1024))]
    fn pump(&mut self, py: Python<'_>, fragment_limit: usize) -> PyResult<usize> {
        let s = OnThisThread(self.inner()? as *mut ca::Subscriber);
        // SAFETY: see OnThisThread; `self` is borrowed mutably for the whole call.
        py.allow_threads(move || unsafe { (*s.get()).pump(fragment_limit) }).map_err(aeron_err)
    }
    /// Rings created since the last call: [(local ring name, side-file bytes)].
    fn take_announcements<'py>(&mut self, py: Python<'py>) -> PyResult<Vec<(String, Bound<'py, PyBytes>)>> {
        Ok(self
            .inner()?
            .state()
            .take_announcements()
            .into_iter()
            .map(|(n, m)| (n, PyBytes::new(py, &m)))
            .collect())
    }
    #[getter]
    fn connected(&mut self) -> PyResult<bool> {
        Ok(self.inner()?.is_connected())
    }
    fn stats<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let sub = self.inner()?;
        let images = sub.image_count();
        let naks = sub.driver_counter("NAKs sent");
        let connected = sub.is_connected();
        let st = sub.state();
        let s = &st.stats;
        let d = PyDict::new(py);
        d.set_item("records", s.records)?;
        d.set_item("messages", s.messages)?;
        d.set_item("snapshots", s.snapshots)?;
        d.set_item("lost", s.lost)?;
        d.set_item("restarts", s.restarts)?;
        d.set_item("before_snapshot", s.before_snapshot)?;
        d.set_item("bad", s.bad)?;
        d.set_item("images", images)?;
        d.set_item("naks_sent", naks)?;
        d.set_item("connected", connected)?;
        d.set_item("rings", st.ring_names())?;
        Ok(d)
    }
    fn close(&mut self) {
        self.0 = None;
    }
}

/// C-client throughput (records/s, back-pressure count) on `channel`, no Python in the loop.
#[pyfunction]
fn aeron_bench_throughput(py: Python<'_>, dir: String, channel: String, stream_id: i32, total: u64) -> PyResult<(f64, u64)> {
    py.allow_threads(|| ca::bench_throughput(&dir, &channel, stream_id, total)).map_err(aeron_err)
}

/// The Nexus ring -> Aeron -> ring loop with no Python, as the Python bench runs it: (records per
/// second of wall time, records per second of the loop thread's CPU time).
#[pyfunction]
#[pyo3(signature = (dir, channel, stream_id, total, batch=4096, renumber=false))]
fn aeron_bench_rings_throughput(
    py: Python<'_>,
    dir: String,
    channel: String,
    stream_id: i32,
    total: u64,
    batch: usize,
    renumber: bool,
) -> PyResult<(f64, f64)> {
    py.allow_threads(|| ca::bench_rings_throughput(&dir, &channel, stream_id, total, batch, renumber)).map_err(aeron_err)
}

/// One-way latency samples (ns) of single-record messages `gap_ns` apart on `channel`.
#[pyfunction]
fn aeron_bench_latency(py: Python<'_>, dir: String, channel: String, stream_id: i32, count: u64, gap_ns: i64) -> PyResult<Vec<i64>> {
    py.allow_threads(|| ca::bench_latency(&dir, &channel, stream_id, count, gap_ns)).map_err(aeron_err)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AeronDriver>()?;
    m.add_class::<AeronPublisher>()?;
    m.add_class::<AeronSubscriber>()?;
    m.add_function(wrap_pyfunction!(aeron_default_dir, m)?)?;
    m.add_function(wrap_pyfunction!(aeron_driver_active, m)?)?;
    m.add_function(wrap_pyfunction!(aeron_bench_throughput, m)?)?;
    m.add_function(wrap_pyfunction!(aeron_bench_latency, m)?)?;
    m.add_function(wrap_pyfunction!(aeron_bench_rings_throughput, m)?)?;
    m.add("AERON_LAYOUT_VERSION", ca::LAYOUT_VERSION)?;
    Ok(())
}

// The signatures above spell these defaults as literals (so the stubs can name them).
const _: () = assert!(ca::LAYOUT_VERSION == 1);
const _: () = assert!(ca::DRIVER_TIMEOUT_MS == 10000);
