//! Single-writer, many-reader ring of 64-byte records over a named shared-memory segment.
//!
//! Layout: a 256-byte header, then `slots` records (a power of two). The writer keeps two
//! monotonically increasing cursors: `claim` (positions it may be overwriting) and
//! `commit` (positions that are fully written). Publishing `n` records at position `c`
//! stores `claim = c + n`, writes the slots, then stores `commit = c + n` (release), so a
//! slot is rewritten only after `claim` has moved past it. A reader copies positions below
//! `commit`, then re-reads `claim`: a copied position `q` is intact iff `q + slots >= claim`
//! (seqlock-style validation). Positions it could not read intact, or that were overwritten
//! before it got to them, are counted in `lost`: a reader always knows exactly how many
//! records it missed and never returns a torn one.
//!
//! Restarts: a writer that finds a stale segment of the same name (its writer is gone)
//! takes it over with a new `epoch`, continuing the cursors; readers see the epoch change,
//! count the records the old writer published that they never read as lost, and carry on.
//! A writer that closes marks the segment closed and unlinks it; readers drain what is left
//! and then re-attach to a new segment of the same name when one appears.

use crate::core::record::{Record, RECORD_SIZE};
use memmap2::{MmapMut, MmapOptions};
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{fence, AtomicU64, Ordering};

pub const MAGIC: u64 = u64::from_le_bytes(*b"NXRING01");
pub const LAYOUT_VERSION: u64 = 1;
pub const HEADER_SIZE: usize = 256;
pub const SLOTS_MIN: u64 = 2;
pub const SLOTS_MAX: u64 = 1 << 26; // 4 GiB of records at most
pub const NAME_LEN_MAX: usize = 64;
pub const SHM_DIR: &str = "/dev/shm";
pub const SEGMENT_PREFIX: &str = "nexus-ring-";

const STATE_LIVE: u64 = 1;
const STATE_CLOSED: u64 = 2;

const _: () = assert!(HEADER_SIZE % RECORD_SIZE == 0);
const _: () = assert!(SLOTS_MIN.is_power_of_two() && SLOTS_MAX.is_power_of_two());

// Header word offsets (bytes). Cursors sit on their own cache lines.
const H_MAGIC: usize = 0;
const H_VERSION: usize = 8;
const H_RECORD_SIZE: usize = 16;
const H_SLOTS: usize = 24;
const H_EPOCH: usize = 32;
const H_WRITER_PID: usize = 40;
const H_STATE: usize = 48;
const H_EPOCH_START: usize = 56; // first position written in this epoch
const H_PREV_COMMIT: usize = 64; // commit of the previous epoch when it was taken over
const H_CLAIM: usize = 128;
const H_COMMIT: usize = 192;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingError {
    BadName(String),
    BadSlots(u64),
    NotFound(String),
    WriterAlive(String, u64),
    Layout(String),
    BatchTooLarge(usize, u64),
    Io(String),
}

impl RingError {
    pub fn message(&self) -> String {
        match self {
            RingError::BadName(n) => format!(
                "invalid ring name {n:?}: use 1-{NAME_LEN_MAX} characters from A-Z a-z 0-9 . _ - (not starting with '.')"
            ),
            RingError::BadSlots(s) => format!(
                "invalid slot count {s}: must be a power of two between {SLOTS_MIN} and {SLOTS_MAX}"
            ),
            RingError::NotFound(n) => format!(
                "no ring named {n:?} (looked for {SHM_DIR}/{SEGMENT_PREFIX}{n}); is its writer running? `nexus ring ls` lists rings"
            ),
            RingError::WriterAlive(n, pid) => format!(
                "ring {n:?} already has a live writer (pid {pid}); stop it or pick another name"
            ),
            RingError::Layout(m) => format!("ring segment is not usable: {m}; remove it with `nexus ring rm NAME`"),
            RingError::BatchTooLarge(n, s) => format!("batch of {n} records is larger than the ring ({s} slots)"),
            RingError::Io(m) => format!("shared-memory error: {m}"),
        }
    }
}

pub fn validate_name(name: &str) -> Result<(), RingError> {
    let ok = !name.is_empty()
        && name.len() <= NAME_LEN_MAX
        && !name.starts_with('.')
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-');
    if ok { Ok(()) } else { Err(RingError::BadName(name.to_string())) }
}

pub fn validate_slots(slots: u64) -> Result<(), RingError> {
    if slots.is_power_of_two() && (SLOTS_MIN..=SLOTS_MAX).contains(&slots) {
        Ok(())
    } else {
        Err(RingError::BadSlots(slots))
    }
}

pub fn segment_path(name: &str) -> PathBuf {
    PathBuf::from(SHM_DIR).join(format!("{SEGMENT_PREFIX}{name}"))
}

fn io_err(e: std::io::Error, what: &str) -> RingError {
    RingError::Io(format!("{what}: {e}"))
}

pub fn monotonic_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

pub fn pid_alive(pid: u64) -> bool {
    if pid == 0 || pid > i32::MAX as u64 {
        return false;
    }
    let r = unsafe { libc::kill(pid as i32, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A mapped segment and typed access to its header words.
struct Segment {
    map: MmapMut,
    slots: u64,
    ino: u64,
}

impl Segment {
    fn word(&self, off: usize) -> &AtomicU64 {
        // SAFETY: the header is 256 bytes, `off` is 8-aligned and within it; the map is page aligned.
        unsafe { &*(self.map.as_ptr().add(off) as *const AtomicU64) }
    }
    fn data(&self) -> *mut u8 {
        unsafe { self.map.as_ptr().add(HEADER_SIZE) as *mut u8 }
    }

    fn open(path: &PathBuf, name: &str) -> Result<Segment, RingError> {
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(RingError::NotFound(name.into())),
            Err(e) => return Err(io_err(e, "open")),
        };
        Self::map_file(file)
    }

    fn map_file(file: File) -> Result<Segment, RingError> {
        let meta = file.metadata().map_err(|e| io_err(e, "stat"))?;
        if (meta.len() as usize) < HEADER_SIZE {
            return Err(RingError::Layout("segment smaller than the header".into()));
        }
        let map = map_populated(&file).map_err(|e| io_err(e, "mmap"))?;
        let mut seg = Segment { map, slots: 0, ino: meta.ino() };
        if seg.word(H_MAGIC).load(Ordering::Acquire) != MAGIC {
            return Err(RingError::Layout("bad magic (not a Nexus ring, or still being created)".into()));
        }
        if seg.word(H_VERSION).load(Ordering::Relaxed) != LAYOUT_VERSION {
            return Err(RingError::Layout("layout version differs from this build".into()));
        }
        if seg.word(H_RECORD_SIZE).load(Ordering::Relaxed) != RECORD_SIZE as u64 {
            return Err(RingError::Layout("record size differs from this build".into()));
        }
        let slots = seg.word(H_SLOTS).load(Ordering::Relaxed);
        validate_slots(slots).map_err(|_| RingError::Layout(format!("bad slot count {slots}")))?;
        if meta.len() != HEADER_SIZE as u64 + slots * RECORD_SIZE as u64 {
            return Err(RingError::Layout("segment size does not match its slot count".into()));
        }
        seg.slots = slots;
        Ok(seg)
    }
}

/// Map a whole segment with MAP_POPULATE: every page of the ring is resident (and in this
/// process's page tables) from the start, so the hot path never takes a first-touch page
/// fault and the process's resident size does not creep up while the ring fills its first
/// lap (the ring's memory is fixed: header + slots x 64 bytes).
fn map_populated(file: &File) -> std::io::Result<MmapMut> {
    unsafe { MmapOptions::new().populate().map_mut(file) }
}

fn new_epoch() -> u64 {
    // Distinct per writer start: wall-clock nanoseconds mixed with the pid.
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    let t = (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64);
    (t ^ ((std::process::id() as u64) << 40)) | 1
}

pub struct RingWriter {
    seg: Segment,
    name: String,
    path: PathBuf,
    pos: u64,
    closed: bool,
}

impl RingWriter {
    /// Create the ring, or take over a stale one of the same name and layout.
    pub fn create(name: &str, slots: u64) -> Result<RingWriter, RingError> {
        validate_name(name)?;
        validate_slots(slots)?;
        let path = segment_path(name);
        if path.exists() {
            match Segment::open(&path, name) {
                Ok(seg) => {
                    let pid = seg.word(H_WRITER_PID).load(Ordering::Acquire);
                    let live = seg.word(H_STATE).load(Ordering::Acquire) == STATE_LIVE;
                    if live && pid_alive(pid) {
                        return Err(RingError::WriterAlive(name.into(), pid));
                    }
                    if seg.slots == slots && live {
                        return Ok(Self::take_over(seg, name, path));
                    }
                    seg.word(H_STATE).store(STATE_CLOSED, Ordering::Release);
                    let _ = fs::remove_file(&path);
                }
                Err(RingError::NotFound(_)) => {}
                Err(_) => {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        Self::create_new(name, slots, path)
    }

    fn create_new(name: &str, slots: u64, path: PathBuf) -> Result<RingWriter, RingError> {
        let size = HEADER_SIZE as u64 + slots * RECORD_SIZE as u64;
        // Build under a temporary name, then rename: readers never see a half-made header.
        let tmp = PathBuf::from(SHM_DIR).join(format!(".{SEGMENT_PREFIX}{name}.{}", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| io_err(e, "create"))?;
        file.set_len(size).map_err(|e| io_err(e, "resize"))?;
        let ino = file.metadata().map_err(|e| io_err(e, "stat"))?.ino();
        let map = map_populated(&file).map_err(|e| io_err(e, "mmap"))?;
        let seg = Segment { map, slots, ino };
        seg.word(H_VERSION).store(LAYOUT_VERSION, Ordering::Relaxed);
        seg.word(H_RECORD_SIZE).store(RECORD_SIZE as u64, Ordering::Relaxed);
        seg.word(H_SLOTS).store(slots, Ordering::Relaxed);
        seg.word(H_EPOCH).store(new_epoch(), Ordering::Relaxed);
        seg.word(H_WRITER_PID).store(std::process::id() as u64, Ordering::Relaxed);
        seg.word(H_STATE).store(STATE_LIVE, Ordering::Relaxed);
        seg.word(H_MAGIC).store(MAGIC, Ordering::Release);
        fs::rename(&tmp, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_err(e, "rename")
        })?;
        Ok(RingWriter { seg, name: name.into(), path, pos: 0, closed: false })
    }

    fn take_over(seg: Segment, name: &str, path: PathBuf) -> RingWriter {
        let commit = seg.word(H_COMMIT).load(Ordering::Acquire);
        let claim = seg.word(H_CLAIM).load(Ordering::Acquire).max(commit);
        // Positions in [commit, claim) may be torn by the dead writer: never publish them.
        seg.word(H_PREV_COMMIT).store(commit, Ordering::Relaxed);
        seg.word(H_EPOCH_START).store(claim, Ordering::Relaxed);
        seg.word(H_CLAIM).store(claim, Ordering::Relaxed);
        seg.word(H_COMMIT).store(claim, Ordering::Relaxed);
        seg.word(H_WRITER_PID).store(std::process::id() as u64, Ordering::Relaxed);
        seg.word(H_EPOCH).store(new_epoch(), Ordering::Release);
        RingWriter { seg, name: name.into(), path, pos: claim, closed: false }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn slots(&self) -> u64 {
        self.seg.slots
    }
    pub fn position(&self) -> u64 {
        self.pos
    }
    pub fn epoch(&self) -> u64 {
        self.seg.word(H_EPOCH).load(Ordering::Relaxed)
    }

    /// Publish records in order. Batches larger than the ring are split.
    pub fn publish(&mut self, recs: &[Record]) {
        // SAFETY: a Record is 64 plain bytes.
        let bytes = unsafe { std::slice::from_raw_parts(recs.as_ptr() as *const u8, recs.len() * RECORD_SIZE) };
        self.publish_bytes(bytes);
    }

    /// Publish records given as raw little-endian bytes (a multiple of 64; any alignment).
    pub fn publish_bytes(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.len() % RECORD_SIZE == 0);
        let chunk = self.seg.slots as usize * RECORD_SIZE;
        for c in bytes.chunks(chunk) {
            self.publish_chunk(c);
        }
    }

    fn publish_chunk(&mut self, src: &[u8]) {
        let n = (src.len() / RECORD_SIZE) as u64;
        if n == 0 {
            return;
        }
        let start = self.pos;
        let end = start + n;
        self.seg.word(H_CLAIM).store(end, Ordering::Relaxed);
        fence(Ordering::Release);
        let mask = self.seg.slots - 1;
        let first = ((self.seg.slots - (start & mask)) as usize).min(n as usize) * RECORD_SIZE;
        let base = self.seg.data();
        // SAFETY: offsets are masked into the mapped data area; at most `slots` records.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), base.add((start & mask) as usize * RECORD_SIZE), first);
            if first < src.len() {
                std::ptr::copy_nonoverlapping(src.as_ptr().add(first), base, src.len() - first);
            }
        }
        self.seg.word(H_COMMIT).store(end, Ordering::Release);
        self.pos = end;
    }

    /// Mark the ring closed and remove the segment (readers drain what is left).
    pub fn close(&mut self, unlink: bool) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.seg.word(H_STATE).store(STATE_CLOSED, Ordering::Release);
        if unlink {
            if let Ok(meta) = fs::metadata(&self.path) {
                if meta.ino() == self.seg.ino {
                    let _ = fs::remove_file(&self.path);
                }
            }
        }
    }

    /// Leave the segment as a crashed writer would (tests of restart handling).
    /// The segment stays, marked live, with no live writer pid: exactly what a killed
    /// writer leaves behind.
    pub fn abandon(mut self) {
        self.seg.word(H_WRITER_PID).store(0, Ordering::Release);
        self.closed = true;
    }
}

impl Drop for RingWriter {
    fn drop(&mut self) {
        self.close(true);
    }
}

/// Where a new reader starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Only records published after attaching.
    Latest,
    /// The oldest record still in the ring.
    Earliest,
}

pub struct RingReader {
    seg: Segment,
    name: String,
    path: PathBuf,
    pos: u64,
    epoch: u64,
    lost: u64,
    restarts: u64,
}

impl RingReader {
    pub fn attach(name: &str, start: Start) -> Result<RingReader, RingError> {
        validate_name(name)?;
        let path = segment_path(name);
        let seg = Segment::open(&path, name)?;
        let commit = seg.word(H_COMMIT).load(Ordering::Acquire);
        let epoch = seg.word(H_EPOCH).load(Ordering::Acquire);
        let pos = match start {
            Start::Latest => commit,
            Start::Earliest => commit
                .saturating_sub(seg.slots)
                .max(seg.word(H_EPOCH_START).load(Ordering::Relaxed)),
        };
        Ok(RingReader { seg, name: name.into(), path, pos, epoch, lost: 0, restarts: 0 })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn slots(&self) -> u64 {
        self.seg.slots
    }
    pub fn position(&self) -> u64 {
        self.pos
    }
    /// Records this reader missed: lapped by the writer, or published by a writer that
    /// was replaced before they were read.
    pub fn lost(&self) -> u64 {
        self.lost
    }
    /// Writer restarts (take-overs and re-created segments) this reader has gone through.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }
    pub fn writer_pid(&self) -> u64 {
        self.seg.word(H_WRITER_PID).load(Ordering::Relaxed)
    }
    pub fn writer_alive(&self) -> bool {
        self.seg.word(H_STATE).load(Ordering::Acquire) == STATE_LIVE && pid_alive(self.writer_pid())
    }
    /// Records published and not yet read (may exceed the ring size when lapped).
    pub fn backlog(&self) -> u64 {
        self.seg.word(H_COMMIT).load(Ordering::Acquire).saturating_sub(self.pos)
    }

    /// Copy up to `out.len()` new records into `out`; returns how many were copied.
    pub fn poll(&mut self, out: &mut [Record]) -> usize {
        // SAFETY: a Record is 64 plain bytes; any byte pattern is a valid Record.
        let bytes = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr() as *mut u8, out.len() * RECORD_SIZE) };
        self.poll_bytes(bytes)
    }

    /// `poll` into raw bytes (a multiple of 64; any alignment).
    pub fn poll_bytes(&mut self, out: &mut [u8]) -> usize {
        let epoch = self.seg.word(H_EPOCH).load(Ordering::Acquire);
        if epoch != self.epoch {
            self.on_take_over(epoch);
        }
        let commit = self.seg.word(H_COMMIT).load(Ordering::Acquire);
        if self.pos >= commit {
            if self.seg.word(H_STATE).load(Ordering::Acquire) == STATE_CLOSED {
                self.try_reattach();
            }
            return 0;
        }
        let slots = self.seg.slots;
        let mut lo = self.pos;
        if commit - lo > slots {
            self.lost += commit - slots - lo;
            lo = commit - slots;
        }
        let n = ((commit - lo) as usize).min(out.len() / RECORD_SIZE);
        if n == 0 {
            return 0;
        }
        let mask = slots - 1;
        let base = self.seg.data();
        let first = ((slots - (lo & mask)) as usize).min(n) * RECORD_SIZE;
        let total = n * RECORD_SIZE;
        // SAFETY: masked offsets into the mapped data; `out` holds at least n records.
        unsafe {
            std::ptr::copy_nonoverlapping(base.add((lo & mask) as usize * RECORD_SIZE), out.as_mut_ptr(), first);
            if first < total {
                std::ptr::copy_nonoverlapping(base, out.as_mut_ptr().add(first), total - first);
            }
        }
        fence(Ordering::Acquire);
        let claim = self.seg.word(H_CLAIM).load(Ordering::Relaxed);
        // Position q was intact during the copy iff q + slots >= claim.
        let oldest_intact = claim.saturating_sub(slots);
        let bad = if lo < oldest_intact { ((oldest_intact - lo) as usize).min(n) } else { 0 };
        if bad > 0 {
            out.copy_within(bad * RECORD_SIZE..total, 0);
            self.lost += bad as u64;
        }
        self.pos = lo + n as u64;
        n - bad
    }

    fn on_take_over(&mut self, epoch: u64) {
        let prev_commit = self.seg.word(H_PREV_COMMIT).load(Ordering::Relaxed);
        let start = self.seg.word(H_EPOCH_START).load(Ordering::Relaxed);
        self.lost += prev_commit.saturating_sub(self.pos);
        self.pos = self.pos.max(start);
        self.epoch = epoch;
        self.restarts += 1;
    }

    fn try_reattach(&mut self) {
        let Ok(meta) = fs::metadata(&self.path) else { return };
        if meta.ino() == self.seg.ino {
            return;
        }
        if let Ok(seg) = Segment::open(&self.path, &self.name) {
            if seg.word(H_STATE).load(Ordering::Acquire) != STATE_LIVE {
                return;
            }
            self.epoch = seg.word(H_EPOCH).load(Ordering::Acquire);
            self.pos = seg.word(H_EPOCH_START).load(Ordering::Relaxed);
            self.seg = seg;
            self.restarts += 1;
        }
    }
}

/// What `nexus ring ls` shows about one segment.
#[derive(Debug, Clone)]
pub struct RingInfo {
    pub name: String,
    pub slots: u64,
    pub bytes: u64,
    pub writer_pid: u64,
    pub writer_alive: bool,
    pub closed: bool,
    pub position: u64,
    pub valid: bool,
}

pub fn list() -> Vec<RingInfo> {
    let mut out = Vec::new();
    let Ok(dir) = fs::read_dir(SHM_DIR) else { return out };
    for entry in dir.flatten() {
        let fname = entry.file_name().to_string_lossy().to_string();
        let Some(name) = fname.strip_prefix(SEGMENT_PREFIX) else { continue };
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        let path = entry.path();
        match Segment::open(&path, name) {
            Ok(seg) => {
                let pid = seg.word(H_WRITER_PID).load(Ordering::Relaxed);
                let closed = seg.word(H_STATE).load(Ordering::Relaxed) == STATE_CLOSED;
                out.push(RingInfo {
                    name: name.into(),
                    slots: seg.slots,
                    bytes,
                    writer_pid: pid,
                    writer_alive: !closed && pid_alive(pid),
                    closed,
                    position: seg.word(H_COMMIT).load(Ordering::Relaxed),
                    valid: true,
                });
            }
            Err(_) => out.push(RingInfo {
                name: name.into(),
                slots: 0,
                bytes,
                writer_pid: 0,
                writer_alive: false,
                closed: true,
                position: 0,
                valid: false,
            }),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Remove a segment. Refuses one whose writer is alive unless `force`.
pub fn remove(name: &str, force: bool) -> Result<(), RingError> {
    validate_name(name)?;
    let path = segment_path(name);
    if !path.exists() {
        return Err(RingError::NotFound(name.into()));
    }
    if let Ok(seg) = Segment::open(&path, name) {
        let pid = seg.word(H_WRITER_PID).load(Ordering::Relaxed);
        let live = seg.word(H_STATE).load(Ordering::Relaxed) == STATE_LIVE;
        if live && pid_alive(pid) && !force {
            return Err(RingError::WriterAlive(name.into(), pid));
        }
        seg.word(H_STATE).store(STATE_CLOSED, Ordering::Release);
    }
    fs::remove_file(&path).map_err(|e| io_err(e, "remove"))
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
