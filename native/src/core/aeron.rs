//! The record stream between hosts over Aeron (the Aeron C client and media driver through
//! `rusteron-client` / `rusteron-media-driver`, built from the crates' C sources).
//!
//! A `Publisher` reads one or more local rings and offers their records on one Aeron
//! publication; a `Subscriber` takes them off an Aeron subscription and re-publishes them onto
//! local rings of the same names (plus a prefix), so every ring reader works unchanged on the
//! far host. One Aeron message is a 48-byte header and up to `max_payload / 64 - 1` records,
//! never larger than the publication's MTU payload, so no fragment ever needs reassembling:
//!
//! | off | type | field |
//! |---|---|---|
//! | 0 | u32 | magic `NXA1` |
//! | 4 | u16 | record layout version (`LAYOUT_VERSION`); a subscriber refuses another |
//! | 6 | u8 | message kind: DATA, SNAPSHOT, ANNOUNCE |
//! | 7 | u8 | source ring index in the publisher |
//! | 8 | u32 | records in the message |
//! | 12 | u32 | flags (SNAP_BEGIN, SNAP_END) |
//! | 16 | u64 | publisher epoch (new on every publisher start) |
//! | 24 | u64 | source ring position of the first record (DATA), or of the book state (SNAPSHOT) |
//! | 32 | u64 | records the publisher's ring reader has lost so far (lapped by the ring writer) |
//! | 40 | i64 | send time, CLOCK_MONOTONIC ns |
//!
//! ANNOUNCE carries the ring's name, a newline and its side file (nexus.ring_meta JSON).
//! Snapshots: the publisher keeps every book of its rings (from the records it forwards) and
//! re-sends them (BOOK_CLEAR + every level, flagged F_SNAPSHOT | F_RESYNC) when a subscriber
//! connects and every `snapshot_every_ns`, so a late joiner's books are right from its first
//! snapshot; a subscriber forwards a ring's records only from its first snapshot on.
//! The ring writer never waits on Aeron: the publisher is one more ring reader. Back pressure
//! holds the publisher (its ring reader falls behind and, if lapped, counts `lost`, which is
//! carried to the subscriber); while no subscriber is connected, records are counted and
//! dropped (the books are still kept for the next snapshot).
//!
//! Copies per record: one per hop. The publisher claims its message in the publication's term
//! buffer and reads the ring straight into it (`pump_claimed`; the copying path is only for a
//! reader that lapped or a claim cut short); the subscriber's fragment handler gets the term
//! buffer in place (no assembler) and writes it straight into the far ring's slots
//! (`SubState::on_message` -> `RingWriter::publish_bytes`). The two other copies on a ring ->
//! Aeron -> ring path are the ring's own contract: the producer's write into the near ring and
//! each far reader's poll into its own array.

use crate::core::book::Book;
use crate::core::record::{flags, kind, side, Record, RECORD_SIZE};
use crate::core::ring::{monotonic_ns, RingError, RingReader, RingWriter, Start};
use rusteron_client as rc;
use rusteron_media_driver as rd;
use std::collections::{HashMap, VecDeque};
use std::ffi::CString;
use std::time::Duration;

pub const MAGIC: u32 = u32::from_le_bytes(*b"NXA1");
/// Version of the record layout carried (bump with any change to `Record`).
pub const LAYOUT_VERSION: u16 = 1;
pub const HEADER_LEN: usize = 48;

pub const MSG_DATA: u8 = 1;
pub const MSG_SNAPSHOT: u8 = 2;
pub const MSG_ANNOUNCE: u8 = 3;

pub const SNAP_BEGIN: u32 = 1;
pub const SNAP_END: u32 = 2;

/// Rings one publisher can carry (the index is one byte).
pub const RINGS_MAX: usize = 255;

/// A driver whose heartbeat (in cnc.dat) is older than this is taken as gone; Aeron's own client
/// default driver timeout. Shorter checks misjudge a live driver on a loaded host.
pub const DRIVER_TIMEOUT_MS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AeronError {
    /// No media driver at this directory (and none could be started there).
    NoDriver { dir: String, detail: String },
    /// Aeron refused the channel (its own message).
    Channel { channel: String, message: String },
    /// A publisher speaking another record layout version.
    Layout { theirs: u16, ours: u16 },
    Ring(RingError),
    Config(String),
    /// Any other error Aeron reported.
    Other(String),
}

impl AeronError {
    pub fn message(&self) -> String {
        match self {
            AeronError::NoDriver { dir, detail } => format!(
                "no Aeron media driver is running at {dir:?} ({detail}); start one (`nexus aeron driver --dir {dir}`, \
                 or Aeron's aeronmd / the Java driver with aeron.dir={dir}), or drop --external-driver to let Nexus \
                 start an embedded one"
            ),
            AeronError::Channel { channel, message } => format!("Aeron rejected the channel {channel:?}: {message}"),
            AeronError::Layout { theirs, ours } => format!(
                "the publisher sends record layout version {theirs}, this build reads version {ours}: refused \
                 (run the same Nexus version on both hosts)"
            ),
            AeronError::Ring(e) => e.message(),
            AeronError::Config(m) => m.clone(),
            AeronError::Other(m) => format!("Aeron error: {m}"),
        }
    }
}

/// Aeron's own error text (its error stack, one line: "; " between the frames).
fn cerr_text(e: &rc::AeronCError) -> String {
    let lines: Vec<&str> = e.get_last_err_message().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        format!("{e:?}")
    } else {
        lines.join("; ")
    }
}

fn cstring(s: &str) -> Result<CString, AeronError> {
    CString::new(s).map_err(|_| AeronError::Config(format!("{s:?} contains a NUL byte")))
}

/// Aeron's default directory (`AERON_DIR`, else /dev/shm/aeron-$USER as the C client has it).
pub fn default_dir() -> String {
    if let Ok(d) = std::env::var("AERON_DIR") {
        if !d.is_empty() {
            return d;
        }
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "default".into());
    format!("/dev/shm/aeron-{user}")
}

/// Aeron's activity check calls its log function unconditionally: this one says nothing.
unsafe extern "C" fn quiet_log(_msg: *const std::os::raw::c_char) {}

/// Whether a media driver is alive at `dir` (its CnC file heartbeat within `timeout_ms`).
pub fn driver_active(dir: &str, timeout_ms: i64) -> bool {
    match cstring(dir) {
        Ok(c) => rc::Aeron::is_driver_active(&c, timeout_ms, Some(quiet_log)),
        Err(_) => false,
    }
}

/// A media driver run inside this process (Aeron's C driver, shared threading mode: one agent
/// thread for conductor, sender and receiver). Stopped and its directory removed on drop.
pub struct MediaDriver {
    driver: Option<rd::AeronDriver>,
    _ctx: rd::AeronDriverContext,
    dir: String,
}

impl MediaDriver {
    pub fn start(dir: &str, spin: bool) -> Result<MediaDriver, AeronError> {
        if driver_active(dir, DRIVER_TIMEOUT_MS) {
            return Err(AeronError::Config(format!(
                "a media driver is already running at {dir:?}: use it (leave out --embedded) or pick another --aeron-dir"
            )));
        }
        let no_driver = |e: &dyn std::fmt::Debug| AeronError::NoDriver {
            dir: dir.to_string(),
            detail: format!("could not start an embedded driver there: {e:?}"),
        };
        let ctx = rd::AeronDriverContext::new().map_err(|e| no_driver(&e))?;
        let cdir = cstring(dir)?;
        ctx.set_dir(&cdir).map_err(|e| no_driver(&e))?;
        ctx.set_dir_delete_on_start(true).map_err(|e| no_driver(&e))?;
        ctx.set_dir_delete_on_shutdown(true).map_err(|e| no_driver(&e))?;
        ctx.set_threading_mode(rd::bindings::aeron_threading_mode_enum::AERON_THREADING_MODE_SHARED)
            .map_err(|e| no_driver(&e))?;
        if spin {
            ctx.set_shared_idle_strategy_kind(rd::AeronIdleStrategyKind::BusySpin).map_err(|e| no_driver(&e))?;
        }
        let parent = std::path::Path::new(dir).parent().map(|p| p.to_path_buf());
        if let Some(p) = parent {
            if !p.as_os_str().is_empty() && !p.exists() {
                return Err(AeronError::NoDriver {
                    dir: dir.into(),
                    detail: format!("its parent directory {} does not exist", p.display()),
                });
            }
        }
        let driver = rd::AeronDriver::new(&ctx).map_err(|e| no_driver(&e))?;
        driver.start(false).map_err(|e| no_driver(&e))?;
        Ok(MediaDriver { driver: Some(driver), _ctx: ctx, dir: dir.to_string() })
    }

    pub fn dir(&self) -> &str {
        &self.dir
    }

    pub fn stop(&mut self) {
        // Dropping the driver closes it (aeron_driver_close: agents stopped, directory removed).
        drop(self.driver.take());
    }
}

impl Drop for MediaDriver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Connect a client to the driver at `dir` (fails with NoDriver when none is alive there).
pub fn connect(dir: &str, timeout_ms: u64) -> Result<rc::Aeron, AeronError> {
    let no_driver = |detail: String| AeronError::NoDriver { dir: dir.to_string(), detail };
    if !driver_active(dir, DRIVER_TIMEOUT_MS) {
        let detail = if std::path::Path::new(dir).join("cnc.dat").exists() {
            "its cnc.dat has no live heartbeat".to_string()
        } else {
            "no cnc.dat there".to_string()
        };
        return Err(no_driver(detail));
    }
    let cdir = cstring(dir)?;
    let ctx = rc::AeronContext::new().map_err(|e| no_driver(cerr_text(&e)))?;
    ctx.set_dir(&cdir).map_err(|e| no_driver(cerr_text(&e)))?;
    ctx.set_driver_timeout_ms(timeout_ms.max(1000)).map_err(|e| no_driver(cerr_text(&e)))?;
    let aeron = rc::Aeron::new(&ctx).map_err(|e| no_driver(cerr_text(&e)))?;
    aeron.start().map_err(|e| no_driver(cerr_text(&e)))?;
    Ok(aeron)
}

fn channel_err(channel: &str, e: rc::AeronCError) -> AeronError {
    let msg = cerr_text(&e);
    AeronError::Channel { channel: channel.to_string(), message: msg }
}

pub fn add_publication(aeron: &rc::Aeron, channel: &str, stream_id: i32) -> Result<rc::AeronPublication, AeronError> {
    let c = cstring(channel)?;
    let pending = aeron.async_add_publication(&c, stream_id).map_err(|e| channel_err(channel, e))?;
    pending.poll_blocking(Duration::from_secs(10)).map_err(|e| channel_err(channel, e))
}

pub fn add_subscription(aeron: &rc::Aeron, channel: &str, stream_id: i32) -> Result<rc::AeronSubscription, AeronError> {
    let c = cstring(channel)?;
    let pending = aeron
        .async_add_subscription(&c, stream_id, rc::Handlers::NONE, rc::Handlers::NONE)
        .map_err(|e| channel_err(channel, e))?;
    pending.poll_blocking(Duration::from_secs(10)).map_err(|e| channel_err(channel, e))
}

fn new_epoch() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    let t = (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64);
    (t ^ ((std::process::id() as u64) << 40)) | 1
}

/// The fixed header of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub layout: u16,
    pub kind: u8,
    pub ring: u8,
    pub count: u32,
    pub flags: u32,
    pub epoch: u64,
    pub position: u64,
    pub lost: u64,
    pub sent_ns: i64,
}

impl Header {
    pub fn write(&self, out: &mut [u8]) {
        out[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        out[4..6].copy_from_slice(&self.layout.to_le_bytes());
        out[6] = self.kind;
        out[7] = self.ring;
        out[8..12].copy_from_slice(&self.count.to_le_bytes());
        out[12..16].copy_from_slice(&self.flags.to_le_bytes());
        out[16..24].copy_from_slice(&self.epoch.to_le_bytes());
        out[24..32].copy_from_slice(&self.position.to_le_bytes());
        out[32..40].copy_from_slice(&self.lost.to_le_bytes());
        out[40..48].copy_from_slice(&self.sent_ns.to_le_bytes());
    }

    /// None when the buffer is not one of our messages.
    pub fn read(buf: &[u8]) -> Option<Header> {
        if buf.len() < HEADER_LEN || u32::from_le_bytes(buf[0..4].try_into().ok()?) != MAGIC {
            return None;
        }
        let u64_at = |o: usize| u64::from_le_bytes(buf[o..o + 8].try_into().unwrap());
        Some(Header {
            layout: u16::from_le_bytes([buf[4], buf[5]]),
            kind: buf[6],
            ring: buf[7],
            count: u32::from_le_bytes(buf[8..12].try_into().unwrap()),
            flags: u32::from_le_bytes(buf[12..16].try_into().unwrap()),
            epoch: u64_at(16),
            position: u64_at(24),
            lost: u64_at(32),
            sent_ns: u64_at(40) as i64,
        })
    }
}

/// Counters a publisher reports.
#[derive(Debug, Clone, Default)]
pub struct PubStats {
    pub records: u64,
    pub messages: u64,
    pub back_pressured: u64,
    pub not_connected: u64,
    pub admin_action: u64,
    pub snapshots: u64,
    pub lost: u64,
    pub restarts: u64,
}

struct Source {
    reader: RingReader,
    name: String,
    meta: Vec<u8>,
    books: HashMap<(u16, u32), Book>,
}

/// Keep the books (venue, instrument) -> Book from the book records among `recs`.
fn apply_books(books: &mut HashMap<(u16, u32), Book>, recs: &[Record]) {
    let mut last: Option<((u16, u32), *mut Book)> = None;
    for r in recs {
        if r.kind != kind::BOOK_LEVEL && r.kind != kind::BOOK_CLEAR {
            continue;
        }
        let key = (r.venue_id, r.instrument_id);
        let book = match last {
            Some((k, b)) if k == key => b,
            _ => {
                let b: *mut Book = books.entry(key).or_insert_with(|| Book::new(0, 0));
                last = Some((key, b));
                b
            }
        };
        // SAFETY: `book` points into `books`, not resized while `last` is held (entries are
        // only inserted when the key changes, and the pointer is refreshed then).
        unsafe { (*book).apply_record(r) };
    }
}

/// `apply_books` on records given as raw bytes (a multiple of 64, any alignment: an Aeron term
/// buffer); only book records are copied out, one at a time.
fn apply_books_bytes(books: &mut HashMap<(u16, u32), Book>, bytes: &[u8]) {
    const KIND: usize = std::mem::offset_of!(Record, kind);
    let mut last: Option<((u16, u32), *mut Book)> = None;
    for c in bytes.chunks_exact(RECORD_SIZE) {
        if c[KIND] != kind::BOOK_LEVEL && c[KIND] != kind::BOOK_CLEAR {
            continue;
        }
        // SAFETY: 64 bytes; any byte pattern is a valid Record.
        let r: Record = unsafe { std::ptr::read_unaligned(c.as_ptr() as *const Record) };
        let key = (r.venue_id, r.instrument_id);
        let book = match last {
            Some((k, b)) if k == key => b,
            _ => {
                let b: *mut Book = books.entry(key).or_insert_with(|| Book::new(0, 0));
                last = Some((key, b));
                b
            }
        };
        // SAFETY: as in `apply_books`.
        unsafe { (*book).apply_record(&r) };
    }
}

impl Source {
    fn apply(&mut self, recs: &[Record]) {
        apply_books(&mut self.books, recs);
    }

    fn apply_bytes(&mut self, bytes: &[u8]) {
        apply_books_bytes(&mut self.books, bytes);
    }

    /// Every book as BOOK_CLEAR + levels (bids then asks, best first), flagged as a snapshot.
    fn snapshot(&self, ts: i64) -> Vec<Record> {
        let mut out = Vec::new();
        let mut keys: Vec<_> = self.books.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let b = &self.books[&key];
            let base = Record {
                ts_local_ns: ts,
                venue_id: key.0,
                instrument_id: key.1,
                flags: flags::F_SNAPSHOT | flags::F_RESYNC,
                ..Default::default()
            };
            out.push(Record { kind: kind::BOOK_CLEAR, side: side::NONE, ..base });
            for s in [side::BID, side::ASK] {
                for l in b.top(s, usize::MAX) {
                    out.push(Record { kind: kind::BOOK_LEVEL, side: s, price: l.price, qty: l.qty, ..base });
                }
            }
            if let Some(last) = out.last_mut() {
                last.flags |= flags::F_LAST;
            }
        }
        out
    }
}

fn as_bytes(recs: &[Record]) -> &[u8] {
    // SAFETY: a Record is 64 plain bytes.
    unsafe { std::slice::from_raw_parts(recs.as_ptr() as *const u8, recs.len() * RECORD_SIZE) }
}

pub struct Publisher {
    publication: rc::AeronPublication,
    _aeron: rc::Aeron,
    sources: Vec<Source>,
    epoch: u64,
    layout: u16,
    max_records: usize,
    msg: Vec<u8>,
    scratch: Vec<Record>,
    pending: VecDeque<Vec<u8>>,
    snapshot_every_ns: i64,
    next_snapshot_ns: i64,
    connected: bool,
    pub stats: PubStats,
    channel: String,
}

impl Publisher {
    /// `rings`: (ring name, its side file bytes or empty). Readers start at the oldest record
    /// still in each ring ("earliest") so a publisher started after its feed misses nothing
    /// that is still there.
    pub fn new(
        aeron: rc::Aeron,
        channel: &str,
        stream_id: i32,
        rings: &[(String, Vec<u8>)],
        snapshot_every_ns: i64,
        layout: u16,
    ) -> Result<Publisher, AeronError> {
        if rings.is_empty() || rings.len() > RINGS_MAX {
            return Err(AeronError::Config(format!("give 1 to {RINGS_MAX} rings to publish")));
        }
        let mut sources = Vec::new();
        for (name, meta) in rings {
            let reader = RingReader::attach(name, Start::Earliest).map_err(AeronError::Ring)?;
            sources.push(Source { reader, name: name.clone(), meta: meta.clone(), books: HashMap::new() });
        }
        let publication = add_publication(&aeron, channel, stream_id)?;
        let max_payload = publication.max_payload_length().map_err(|e| AeronError::Other(format!("{e:?}")))?;
        let max_records = (max_payload.saturating_sub(HEADER_LEN)) / RECORD_SIZE;
        if max_records == 0 {
            return Err(AeronError::Config(format!("the channel's payload ({max_payload} bytes) holds no record")));
        }
        Ok(Publisher {
            publication,
            _aeron: aeron,
            sources,
            epoch: new_epoch(),
            layout,
            max_records,
            msg: vec![0u8; HEADER_LEN + max_records * RECORD_SIZE],
            scratch: vec![Record::default(); max_records],
            pending: VecDeque::new(),
            snapshot_every_ns: snapshot_every_ns.max(1_000_000),
            next_snapshot_ns: 0,
            connected: false,
            stats: PubStats::default(),
            channel: channel.to_string(),
        })
    }

    pub fn max_records(&self) -> usize {
        self.max_records
    }

    /// The publication's term length in bytes (its log holds three terms).
    pub fn term_length(&self) -> usize {
        self.publication.get_constants().map(|c| c.term_buffer_length()).unwrap_or(0)
    }

    /// Replace ring `index`'s side file (its writer wrote or rewrote it): re-announced with the
    /// next pump.
    pub fn set_meta(&mut self, index: usize, meta: Vec<u8>) -> Result<(), AeronError> {
        let src = self.sources.get_mut(index).ok_or_else(|| AeronError::Config(format!("no ring {index}")))?;
        if src.meta != meta {
            src.meta = meta;
            self.next_snapshot_ns = 0;
        }
        Ok(())
    }
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    pub fn is_connected(&self) -> bool {
        self.publication.is_connected()
    }
    pub fn ring_names(&self) -> Vec<String> {
        self.sources.iter().map(|s| s.name.clone()).collect()
    }
    pub fn channel(&self) -> &str {
        &self.channel
    }

    fn header(&self, kind_: u8, ring: u8, count: usize, flags_: u32, position: u64) -> Header {
        Header {
            layout: self.layout,
            kind: kind_,
            ring,
            count: count as u32,
            flags: flags_,
            epoch: self.epoch,
            position,
            lost: self.stats.lost,
            sent_ns: monotonic_ns(),
        }
    }

    /// Offer one message; on back pressure keep it for the next `pump`.
    fn offer_or_queue(&mut self, buf: Vec<u8>) -> Result<(), AeronError> {
        if !self.pending.is_empty() {
            self.pending.push_back(buf);
            return Ok(());
        }
        match self.publication.offer(&buf) {
            Ok(_) => {
                self.stats.messages += 1;
                Ok(())
            }
            Err(rc::AeronOfferError::BackPressured) => {
                self.stats.back_pressured += 1;
                self.pending.push_back(buf);
                Ok(())
            }
            Err(rc::AeronOfferError::AdminAction) => {
                self.stats.admin_action += 1;
                self.pending.push_back(buf);
                Ok(())
            }
            Err(rc::AeronOfferError::NotConnected) => {
                self.connected = false;
                Ok(())
            }
            Err(e) => Err(AeronError::Other(format!("publication on {:?}: {e:?}", self.channel))),
        }
    }

    fn flush_pending(&mut self) -> Result<bool, AeronError> {
        while let Some(m) = self.pending.front() {
            match self.publication.offer(m) {
                Ok(_) => {
                    self.stats.messages += 1;
                    self.pending.pop_front();
                }
                Err(rc::AeronOfferError::BackPressured) => {
                    self.stats.back_pressured += 1;
                    return Ok(false);
                }
                Err(rc::AeronOfferError::AdminAction) => {
                    self.stats.admin_action += 1;
                    return Ok(false);
                }
                Err(rc::AeronOfferError::NotConnected) => {
                    self.pending.clear();
                    self.connected = false;
                    return Ok(true);
                }
                Err(e) => return Err(AeronError::Other(format!("publication on {:?}: {e:?}", self.channel))),
            }
        }
        Ok(true)
    }

    /// Announce every ring and send every book as a snapshot (queued behind back pressure).
    pub fn send_snapshots(&mut self) -> Result<(), AeronError> {
        let now = monotonic_ns();
        for i in 0..self.sources.len() {
            let mut body = self.sources[i].name.as_bytes().to_vec();
            body.push(b'\n');
            body.extend_from_slice(&self.sources[i].meta);
            let mut buf = vec![0u8; HEADER_LEN];
            let pos = self.sources[i].reader.position();
            self.header(MSG_ANNOUNCE, i as u8, 0, 0, pos).write(&mut buf);
            buf.extend_from_slice(&body);
            self.offer_or_queue(buf)?;
            let recs = self.sources[i].snapshot(now);
            let chunks: Vec<&[Record]> = if recs.is_empty() { vec![&[]] } else { recs.chunks(self.max_records).collect() };
            let last = chunks.len() - 1;
            for (j, c) in chunks.iter().enumerate() {
                let mut f = 0;
                if j == 0 {
                    f |= SNAP_BEGIN;
                }
                if j == last {
                    f |= SNAP_END;
                }
                let mut buf = vec![0u8; HEADER_LEN + c.len() * RECORD_SIZE];
                self.header(MSG_SNAPSHOT, i as u8, c.len(), f, pos).write(&mut buf);
                buf[HEADER_LEN..].copy_from_slice(as_bytes(c));
                self.offer_or_queue(buf)?;
            }
        }
        self.stats.snapshots += 1;
        self.next_snapshot_ns = now + self.snapshot_every_ns;
        Ok(())
    }

    fn note_ring_state(&mut self, i: usize, before_lost: u64, before_restarts: u64) {
        let r = &self.sources[i].reader;
        self.stats.lost += r.lost() - before_lost;
        self.stats.restarts += r.restarts() - before_restarts;
    }

    /// Move what the rings hold onto the publication (at most `budget` records). Returns the
    /// records read from the rings; 0 means idle (or held by back pressure).
    pub fn pump(&mut self, budget: usize) -> Result<usize, AeronError> {
        let now_connected = self.publication.is_connected();
        if now_connected && !self.connected {
            self.connected = true;
            self.pending.clear();
            self.send_snapshots()?;
        } else if !now_connected {
            self.connected = false;
            self.pending.clear();
        } else if monotonic_ns() >= self.next_snapshot_ns {
            self.send_snapshots()?;
        }
        if self.connected && !self.flush_pending()? {
            return Ok(0); // back pressure: the ring holds the records meanwhile
        }
        let mut total = 0;
        for i in 0..self.sources.len() {
            while total < budget {
                if self.connected && self.pending.is_empty() {
                    match self.pump_claimed(i, budget - total)? {
                        Claimed::Sent(n) => {
                            total += n;
                            continue;
                        }
                        Claimed::Held => return Ok(total), // back pressure: the ring holds the records
                        Claimed::Other => {}
                    }
                }
                let (lost0, rs0) = (self.sources[i].reader.lost(), self.sources[i].reader.restarts());
                let want = self.max_records.min(budget - total);
                let n = self.sources[i].reader.poll(&mut self.scratch[..want]);
                self.note_ring_state(i, lost0, rs0);
                if n == 0 {
                    break;
                }
                total += n;
                let src = &mut self.sources[i];
                src.apply(&self.scratch[..n]);
                // The position of the first record read (after any lapped records were skipped).
                let first_pos = src.reader.position() - n as u64;
                if !self.connected {
                    self.stats.not_connected += n as u64;
                    continue;
                }
                let h = self.header(MSG_DATA, i as u8, n, 0, first_pos);
                let len = HEADER_LEN + n * RECORD_SIZE;
                h.write(&mut self.msg[..HEADER_LEN]);
                self.msg[HEADER_LEN..len].copy_from_slice(as_bytes(&self.scratch[..n]));
                self.stats.records += n as u64;
                if self.pending.is_empty() {
                    match self.publication.offer(&self.msg[..len]) {
                        Ok(_) => {
                            self.stats.messages += 1;
                            continue;
                        }
                        Err(rc::AeronOfferError::NotConnected) => {
                            self.connected = false;
                            self.stats.records -= n as u64;
                            self.stats.not_connected += n as u64;
                            continue;
                        }
                        Err(rc::AeronOfferError::BackPressured) => self.stats.back_pressured += 1,
                        Err(rc::AeronOfferError::AdminAction) => self.stats.admin_action += 1,
                        Err(e) => return Err(AeronError::Other(format!("publication on {:?}: {e:?}", self.channel))),
                    }
                }
                self.pending.push_back(self.msg[..len].to_vec());
                return Ok(total);
            }
        }
        Ok(total)
    }
}

enum Claimed {
    /// A message of this many records went out, read from the ring straight into the
    /// publication's term buffer.
    Sent(usize),
    /// Back pressure (or an admin action): nothing read, the ring holds the records.
    Held,
    /// Nothing new in the ring, or a case the copying path handles (not connected, a ring
    /// reader that lapped or restarts): go through it.
    Other,
}

impl Publisher {
    /// The zero-copy path: claim a message in the publication's term buffer and read the ring
    /// straight into it (no staging copy, no offer copy), keep the books from it, commit.
    fn pump_claimed(&mut self, i: usize, budget: usize) -> Result<Claimed, AeronError> {
        let src = &mut self.sources[i];
        let backlog = src.reader.backlog();
        if backlog == 0 || backlog > src.reader.slots() {
            return Ok(Claimed::Other); // idle, or lapped: the copying path counts what was lost
        }
        let want = (backlog as usize).min(self.max_records).min(budget);
        let mut claim = match self.publication.try_claim_owned(HEADER_LEN + want * RECORD_SIZE) {
            Ok(c) => c,
            Err(rc::AeronOfferError::BackPressured) => {
                self.stats.back_pressured += 1;
                return Ok(Claimed::Held);
            }
            Err(rc::AeronOfferError::AdminAction) => {
                self.stats.admin_action += 1;
                return Ok(Claimed::Held);
            }
            Err(rc::AeronOfferError::NotConnected) => return Ok(Claimed::Other),
            Err(e) => return Err(AeronError::Other(format!("publication on {:?}: {e:?}", self.channel))),
        };
        let src = &mut self.sources[i];
        let (lost0, rs0) = (src.reader.lost(), src.reader.restarts());
        let data = claim.data();
        let n = src.reader.poll_bytes(&mut data[HEADER_LEN..HEADER_LEN + want * RECORD_SIZE]);
        let first_pos = src.reader.position() - n as u64;
        src.apply_bytes(&data[HEADER_LEN..HEADER_LEN + n * RECORD_SIZE]);
        let partial = n != want;
        if partial {
            // Fewer than claimed (the writer lapped or restarted meanwhile): the copying path sends them.
            let len = HEADER_LEN + n * RECORD_SIZE;
            let mut buf = data[..len].to_vec();
            let _ = claim.abort();
            self.note_ring_state(i, lost0, rs0);
            if n == 0 {
                return Ok(Claimed::Other);
            }
            self.header(MSG_DATA, i as u8, n, 0, first_pos).write(&mut buf[..HEADER_LEN]);
            self.stats.records += n as u64;
            self.offer_or_queue(buf)?;
            return Ok(Claimed::Sent(n));
        }
        self.note_ring_state(i, lost0, rs0);
        let h = self.header(MSG_DATA, i as u8, n, 0, first_pos);
        h.write(&mut claim.data()[..HEADER_LEN]);
        claim.commit().map_err(|e| AeronError::Other(format!("publication on {:?}: {}", self.channel, cerr_text(&e))))?;
        self.stats.records += n as u64;
        self.stats.messages += 1;
        Ok(Claimed::Sent(n))
    }
}

/// Counters a subscriber reports.
#[derive(Debug, Clone, Default)]
pub struct SubStats {
    pub records: u64,
    pub messages: u64,
    pub snapshots: u64,
    /// Records the publishers' ring readers lost (lapped), as carried in the headers.
    pub lost: u64,
    /// Publisher restarts seen (a ring announced by a new publisher epoch).
    pub restarts: u64,
    /// Records dropped because their ring had not had its first snapshot yet (late join).
    pub before_snapshot: u64,
    /// Messages that are not ours (bad magic or a truncated message).
    pub bad: u64,
    /// Images (publisher connections) that became available / went away.
    pub images_up: u64,
    pub images_down: u64,
}

struct Local {
    name: String,
    writer: Option<RingWriter>,
    epoch: u64,
    synced: bool,
    meta: Vec<u8>,
}

/// The state the fragment handler works on.
pub struct SubState {
    prefix: String,
    slots: u64,
    layout: u16,
    /// (publisher epoch, ring index) -> index into `locals`
    routes: HashMap<(u64, u8), usize>,
    locals: Vec<Local>,
    by_name: HashMap<String, usize>,
    last_lost: HashMap<u64, u64>,
    announcements: Vec<(String, Vec<u8>)>,
    pub stats: SubStats,
    pub error: Option<AeronError>,
    pub last_sent_ns: i64,
}

impl SubState {
    pub fn new(prefix: &str, slots: u64, layout: u16) -> SubState {
        SubState {
            prefix: prefix.to_string(),
            slots,
            layout,
            routes: HashMap::new(),
            locals: Vec::new(),
            by_name: HashMap::new(),
            last_lost: HashMap::new(),
            announcements: Vec::new(),
            stats: SubStats::default(),
            error: None,
            last_sent_ns: 0,
        }
    }

    pub fn take_announcements(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.announcements)
    }

    pub fn ring_names(&self) -> Vec<String> {
        self.locals.iter().map(|l| l.name.clone()).collect()
    }

    pub fn close(&mut self) {
        for l in &mut self.locals {
            if let Some(mut w) = l.writer.take() {
                w.close(true);
            }
        }
    }

    /// One message off the subscription.
    pub fn on_message(&mut self, buf: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let Some(h) = Header::read(buf) else {
            self.stats.bad += 1;
            return;
        };
        if h.layout != self.layout {
            self.error = Some(AeronError::Layout { theirs: h.layout, ours: self.layout });
            return;
        }
        self.stats.messages += 1;
        self.last_sent_ns = h.sent_ns;
        let prev = self.last_lost.insert(h.epoch, h.lost).unwrap_or(0);
        if h.lost > prev {
            self.stats.lost += h.lost - prev;
        }
        let body = &buf[HEADER_LEN..];
        if h.kind == MSG_ANNOUNCE {
            self.on_announce(&h, body);
            return;
        }
        if body.len() != h.count as usize * RECORD_SIZE || (h.kind != MSG_DATA && h.kind != MSG_SNAPSHOT) {
            self.stats.bad += 1;
            return;
        }
        let Some(&li) = self.routes.get(&(h.epoch, h.ring)) else {
            self.stats.before_snapshot += h.count as u64;
            return;
        };
        let local = &mut self.locals[li];
        if h.kind == MSG_SNAPSHOT && h.flags & SNAP_BEGIN != 0 {
            // From a ring's first snapshot on, its books are whole: forward everything.
            local.synced = true;
            self.stats.snapshots += 1;
        }
        if !local.synced {
            self.stats.before_snapshot += h.count as u64;
            return;
        }
        if let Some(w) = local.writer.as_mut() {
            w.publish_bytes(body);
        }
        if h.kind == MSG_DATA {
            self.stats.records += h.count as u64;
        }
    }

    fn on_announce(&mut self, h: &Header, body: &[u8]) {
        let nl = body.iter().position(|&c| c == b'\n').unwrap_or(body.len());
        let Ok(name) = std::str::from_utf8(&body[..nl]) else {
            self.stats.bad += 1;
            return;
        };
        let meta = if nl < body.len() { body[nl + 1..].to_vec() } else { Vec::new() };
        let local_name = format!("{}{}", self.prefix, name);
        let li = match self.by_name.get(&local_name) {
            Some(&i) => i,
            None => {
                match RingWriter::create(&local_name, self.slots) {
                    Ok(w) => {
                        self.locals.push(Local { name: local_name.clone(), writer: Some(w), epoch: h.epoch, synced: false, meta: meta.clone() });
                    }
                    Err(e) => {
                        self.error = Some(AeronError::Ring(e));
                        return;
                    }
                }
                let i = self.locals.len() - 1;
                self.by_name.insert(local_name.clone(), i);
                self.announcements.push((local_name.clone(), meta.clone()));
                i
            }
        };
        let local = &mut self.locals[li];
        if local.epoch != h.epoch {
            // A new publisher for this ring: its readers see a writer restart, as on one host.
            self.stats.restarts += 1;
            local.epoch = h.epoch;
            local.synced = false;
            if let Some(mut w) = local.writer.take() {
                w.close(true);
            }
            match RingWriter::create(&local.name, self.slots) {
                Ok(w) => local.writer = Some(w),
                Err(e) => {
                    self.error = Some(AeronError::Ring(e));
                    return;
                }
            }
            local.meta = meta.clone();
            self.announcements.push((local.name.clone(), meta));
            self.routes.retain(|_, v| *v != li);
        } else if local.meta != meta {
            // The publisher's ring got (or changed) its side file.
            local.meta = meta.clone();
            self.announcements.push((local.name.clone(), meta));
        }
        self.routes.insert((h.epoch, h.ring), li);
    }
}

struct FragmentSink(*mut SubState);

impl rc::AeronFragmentHandlerCallback for FragmentSink {
    fn handle_aeron_fragment_handler(&mut self, buffer: &[u8], _header: rc::AeronHeader) {
        // SAFETY: the state outlives the subscription's polls (both owned by `Subscriber`,
        // polled from its own thread only).
        unsafe { (*self.0).on_message(buffer) }
    }
}

pub struct Subscriber {
    handler: rc::Handler<FragmentSink>,
    subscription: rc::AeronSubscription,
    _aeron: rc::Aeron,
    state: Box<SubState>,
    channel: String,
}

impl Subscriber {
    pub fn new(aeron: rc::Aeron, channel: &str, stream_id: i32, prefix: &str, slots: u64, layout: u16) -> Result<Subscriber, AeronError> {
        crate::core::ring::validate_slots(slots).map_err(AeronError::Ring)?;
        let subscription = add_subscription(&aeron, channel, stream_id)?;
        let mut state = Box::new(SubState::new(prefix, slots, layout));
        let handler = rc::Handler::new(FragmentSink(&mut *state as *mut SubState));
        Ok(Subscriber { handler, subscription, _aeron: aeron, state, channel: channel.to_string() })
    }

    /// Poll up to `fragment_limit` messages onto the local rings; returns how many.
    pub fn pump(&mut self, fragment_limit: usize) -> Result<usize, AeronError> {
        let n = self
            .subscription
            .poll(Some(&self.handler), fragment_limit)
            .map_err(|e| AeronError::Other(format!("subscription on {:?}: {e:?}", self.channel)))?;
        if let Some(e) = self.state.error.take() {
            self.state.error = Some(e.clone());
            return Err(e);
        }
        Ok(n.max(0) as usize)
    }

    pub fn state(&mut self) -> &mut SubState {
        &mut self.state
    }
    pub fn is_connected(&self) -> bool {
        self.subscription.is_connected()
    }
    /// The sum of the driver's counters with this label (e.g. "NAKs sent": the receiving
    /// driver asked for retransmits), read from the driver's counters through this client.
    pub fn driver_counter(&self, label: &str) -> i64 {
        let mut total = 0;
        self._aeron.counters_reader().foreach_counter_fn(|value, _id, _type_id, _key, l| {
            if l == label {
                total += value;
            }
        });
        total
    }

    pub fn image_count(&self) -> i64 {
        self.subscription.image_count().map(|n| n as i64).unwrap_or(0)
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.state.close();
    }
}

/// Throughput of the C client alone (no Python anywhere): a publisher thread offers
/// `total` records in full messages while this thread polls them; returns records/s. As in the
/// ring loops, one untimed lap of the publication's log (three terms) goes first, so the timed
/// records go through term pages already touched.
pub fn bench_throughput(dir: &str, channel: &str, stream_id: i32, total: u64) -> Result<(f64, u64), AeronError> {
    let aeron = connect(dir, 5000)?;
    let sub = add_subscription(&aeron, channel, stream_id)?;
    let dir2 = dir.to_string();
    let ch2 = channel.to_string();
    let (warm_tx, warm_rx) = std::sync::mpsc::channel::<u64>();
    let publisher = std::thread::spawn(move || -> Result<u64, AeronError> {
        let aeron = connect(&dir2, 5000)?;
        let publication = add_publication(&aeron, &ch2, stream_id)?;
        let per = (publication.max_payload_length().map_err(|e| AeronError::Other(format!("{e:?}")))? - HEADER_LEN) / RECORD_SIZE;
        let term = publication.get_constants().map(|c| c.term_buffer_length()).unwrap_or(0) as u64;
        let warm = 3 * term / RECORD_SIZE as u64;
        let _ = warm_tx.send(warm);
        let total = total + warm;
        let mut msg = vec![0u8; HEADER_LEN + per * RECORD_SIZE];
        Header { layout: LAYOUT_VERSION, kind: MSG_DATA, ring: 0, count: per as u32, flags: 0, epoch: 1, position: 0, lost: 0, sent_ns: 0 }
            .write(&mut msg);
        let deadline = monotonic_ns() + 10_000_000_000;
        while !publication.is_connected() {
            if monotonic_ns() > deadline {
                return Err(AeronError::Other("bench publication never connected".into()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut sent = 0u64;
        let mut bp = 0u64;
        while sent < total {
            match publication.offer(&msg) {
                Ok(_) => sent += per as u64,
                Err(e) if e.is_retryable() => {
                    bp += 1;
                    // Yield, not spin: on a small host the driver's sender needs this core.
                    std::thread::yield_now()
                }
                Err(e) => return Err(AeronError::Other(format!("{e:?}"))),
            }
        }
        Ok(bp)
    });
    struct Count(u64);
    impl rc::AeronFragmentHandlerCallback for Count {
        fn handle_aeron_fragment_handler(&mut self, buffer: &[u8], _h: rc::AeronHeader) {
            self.0 += ((buffer.len() - HEADER_LEN) / RECORD_SIZE) as u64;
        }
    }
    let h = rc::Handler::new(Count(0));
    // The untimed lap's length, from the publisher thread once its publication is up.
    let warm = warm_rx.recv_timeout(Duration::from_secs(15)).unwrap_or(0);
    let mut start = 0i64;
    let mut at_start = 0u64;
    let deadline = monotonic_ns() + 60_000_000_000;
    while h.0 < total + warm {
        let n = sub.poll(Some(&h), 256).map_err(|e| AeronError::Other(format!("{e:?}")))?;
        if start == 0 && h.0 >= warm {
            start = monotonic_ns();
            at_start = h.0;
        }
        if n == 0 {
            std::thread::yield_now();
        }
        if monotonic_ns() > deadline {
            break;
        }
    }
    let elapsed = (monotonic_ns() - start).max(1) as f64 / 1e9;
    let got = h.0 - at_start;
    let bp = publisher.join().map_err(|_| AeronError::Other("bench publisher panicked".into()))??;
    Ok((got as f64 / elapsed, bp))
}

/// Records one far-ring poll of those loops can take (the Python bench's `out` array).
pub const BENCH_POLL: usize = 1 << 16;

/// The Nexus path with no Python: the same loop `nexus.bench.aeron.nexus_path_throughput` runs
/// through the Python API, step for step and check for check. Per iteration: when no more than
/// half a ring is in flight, write the `batch_len`-record batch into the near ring (with
/// `renumber`, then add `batch_len` to every record's sequence number in place, so that each
/// record carries its own stream index; without, each carries its index in the batch);
/// `Publisher::pump` (budget 65536 records), `Subscriber::pump` (64 messages), one poll of the
/// far ring into a `BENCH_POLL`-record buffer, whose last record's sequence number must be the
/// count so far minus one (modulo `batch_len` without `renumber`). After an untimed lap of the
/// publication's log (three terms: its pages touched once, as on a running publication), timed
/// until `total` more records came out; then the records still in flight are drained (the same check) and the counts must
/// be exact: every record published came out once (publisher, subscriber and far reader agree),
/// nothing lost. All in Rust on one thread; returns records per second of wall time and records
/// per second of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID: the time the loop was
/// descheduled on a loaded host is not in it). The Python figures over these are the Python
/// layer's cost.
pub fn bench_rings_throughput(
    dir: &str,
    channel: &str,
    stream_id: i32,
    total: u64,
    batch_len: usize,
    renumber: bool,
) -> Result<(f64, f64), AeronError> {
    let slots = 1u64 << 18;
    if batch_len == 0 || batch_len as u64 > slots / 4 {
        return Err(AeronError::Config(format!("bench batch of {batch_len} records: give 1 to {}", slots / 4)));
    }
    let near = format!("bench-aeron-native-{}-{stream_id}", std::process::id());
    let prefix = "far-";
    let mut w = RingWriter::create(&near, slots).map_err(AeronError::Ring)?;
    let result = (|| -> Result<(f64, f64), AeronError> {
        let mut sub = Subscriber::new(connect(dir, 5000)?, channel, stream_id, prefix, slots, LAYOUT_VERSION)?;
        let mut publ = Publisher::new(connect(dir, 5000)?, channel, stream_id, &[(near.clone(), Vec::new())], 3_600_000_000_000, LAYOUT_VERSION)?;
        let deadline = monotonic_ns() + 10_000_000_000;
        let mut far = None;
        while far.is_none() {
            if monotonic_ns() > deadline {
                return Err(AeronError::Other(format!("bench: no subscriber ring on {channel}")));
            }
            publ.pump(1 << 16)?;
            sub.pump(64)?;
            far = RingReader::attach(&format!("{prefix}{near}"), Start::Earliest).ok();
            std::thread::sleep(Duration::from_micros(200));
        }
        let mut far = far.unwrap();
        let mut out = vec![Record::default(); BENCH_POLL];
        while far.poll(&mut out) > 0 {}
        let records0 = sub.state().stats.records;
        let mut batch = vec![Record { kind: kind::TRADE, ..Default::default() }; batch_len];
        for (i, r) in batch.iter_mut().enumerate() {
            r.seq = i as u64;
        }
        let modulo = if renumber { u64::MAX } else { batch_len as u64 };
        let check = |got: u64, last: u64| -> Result<(), AeronError> {
            if last != (got - 1) % modulo {
                return Err(AeronError::Other(format!(
                    "bench on {channel}: record {} carries sequence number {last} (out of order, lost or doubled)",
                    got - 1
                )));
            }
            Ok(())
        };
        let (mut got, mut seq) = (0u64, 0u64);
        // One untimed lap of the publication's log first (three terms): the timed records then
        // go through term pages already touched, as on a publication that has been running.
        let warm = 3 * publ.term_length() as u64 / RECORD_SIZE as u64;
        let mut lockstep = |until: u64, got: &mut u64, seq: &mut u64| -> Result<(), AeronError> {
            let deadline = monotonic_ns() + 120_000_000_000;
            while *got < until && monotonic_ns() < deadline {
                if *seq - *got <= slots / 2 {
                    w.publish(&batch);
                    *seq += batch_len as u64;
                    if renumber {
                        for r in batch.iter_mut() {
                            r.seq += batch_len as u64; // the next batch's sequence numbers, in place
                        }
                    }
                }
                publ.pump(1 << 16)?;
                sub.pump(64)?;
                let n = far.poll(&mut out);
                if n > 0 {
                    *got += n as u64;
                    check(*got, out[n - 1].seq)?;
                }
            }
            Ok(())
        };
        lockstep(warm, &mut got, &mut seq)?;
        let got0 = got;
        let c0 = thread_cpu_ns();
        let t0 = monotonic_ns();
        lockstep(got0 + total, &mut got, &mut seq)?;
        let dt = (monotonic_ns() - t0).max(1) as f64 / 1e9;
        let cpu = (thread_cpu_ns() - c0).max(1) as f64 / 1e9;
        let timed = got - got0;
        // Drain what is still in flight, then every count must be exact.
        let drain_end = monotonic_ns() + 10_000_000_000;
        while got < seq && monotonic_ns() < drain_end {
            publ.pump(1 << 16)?;
            sub.pump(64)?;
            let n = far.poll(&mut out);
            if n > 0 {
                got += n as u64;
                check(got, out[n - 1].seq)?;
            }
        }
        let sub_records = sub.state().stats.records - records0;
        if timed < total || got != seq || publ.stats.records != seq || sub_records != seq || far.lost() > 0 || publ.stats.lost > 0 {
            return Err(AeronError::Other(format!(
                "bench on {channel} lost records: published {seq}, publisher sent {}, subscriber wrote {sub_records}, \
                 far reader got {got} (of {total} timed), publisher lost {}, far reader lost {}",
                publ.stats.records,
                publ.stats.lost,
                far.lost()
            )));
        }
        Ok((timed as f64 / dt, timed as f64 / cpu))
    })();
    w.close(true);
    result
}

/// This thread's CPU time (CLOCK_THREAD_CPUTIME_ID), ns.
pub fn thread_cpu_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// One-way latency: single-record messages `gap_ns` apart, stamped with CLOCK_MONOTONIC just
/// before the offer and on receipt (busy polling on both sides). Returns one sample per message.
pub fn bench_latency(dir: &str, channel: &str, stream_id: i32, count: u64, gap_ns: i64) -> Result<Vec<i64>, AeronError> {
    let aeron = connect(dir, 5000)?;
    let sub = add_subscription(&aeron, channel, stream_id)?;
    let dir2 = dir.to_string();
    let ch2 = channel.to_string();
    let publisher = std::thread::spawn(move || -> Result<(), AeronError> {
        let aeron = connect(&dir2, 5000)?;
        let publication = add_publication(&aeron, &ch2, stream_id)?;
        let mut msg = vec![0u8; HEADER_LEN + RECORD_SIZE];
        let deadline = monotonic_ns() + 10_000_000_000;
        while !publication.is_connected() {
            if monotonic_ns() > deadline {
                return Err(AeronError::Other("bench publication never connected".into()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut next = monotonic_ns();
        for i in 0..count {
            // Sleep out the gap (the publisher must not take a core from the driver and the
            // subscriber, which busy-poll); spin only the last few microseconds.
            let wait = next - monotonic_ns();
            if wait > 60_000 {
                std::thread::sleep(Duration::from_nanos((wait - 50_000) as u64));
            }
            while monotonic_ns() < next {
                std::hint::spin_loop();
            }
            let now = monotonic_ns();
            Header { layout: LAYOUT_VERSION, kind: MSG_DATA, ring: 0, count: 1, flags: 0, epoch: 1, position: i, lost: 0, sent_ns: now }
                .write(&mut msg);
            loop {
                match publication.offer(&msg) {
                    Ok(_) => break,
                    Err(e) if e.is_retryable() => std::hint::spin_loop(),
                    Err(e) => return Err(AeronError::Other(format!("{e:?}"))),
                }
            }
            next = now + gap_ns;
        }
        Ok(())
    });
    struct Lat(Vec<i64>, u64);
    impl rc::AeronFragmentHandlerCallback for Lat {
        fn handle_aeron_fragment_handler(&mut self, buffer: &[u8], _h: rc::AeronHeader) {
            let now = monotonic_ns();
            if let Some(h) = Header::read(buffer) {
                self.0.push(now - h.sent_ns);
                self.1 = h.position + 1;
            }
        }
    }
    let h = rc::Handler::new(Lat(Vec::with_capacity(count as usize), 0));
    let deadline = monotonic_ns() + 60_000_000_000 + count as i64 * gap_ns;
    while h.1 < count && monotonic_ns() < deadline {
        sub.poll(Some(&h), 64).map_err(|e| AeronError::Other(format!("{e:?}")))?;
    }
    publisher.join().map_err(|_| AeronError::Other("bench publisher panicked".into()))??;
    // SAFETY: the subscription is no longer polled.
    Ok(unsafe { std::mem::take(&mut h.get_mut().0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Header { layout: 1, kind: MSG_DATA, ring: 3, count: 20, flags: SNAP_END, epoch: 7, position: 99, lost: 2, sent_ns: -5 };
        let mut b = [0u8; HEADER_LEN];
        h.write(&mut b);
        assert_eq!(Header::read(&b), Some(h));
        b[0] = 0;
        assert_eq!(Header::read(&b), None);
    }

    #[test]
    fn books_kept_from_raw_bytes_equal_books_kept_from_records() {
        // the claim path reads records out of an unaligned term buffer: same books as `apply`
        let mut recs = Vec::new();
        for i in 0..200u64 {
            let clear = i % 50 == 0;
            recs.push(Record {
                kind: if clear { kind::BOOK_CLEAR } else if i % 7 == 0 { kind::TRADE } else { kind::BOOK_LEVEL },
                venue_id: (1 + i % 2) as u16,
                instrument_id: 3,
                side: if clear { side::NONE } else if i % 3 == 0 { side::ASK } else { side::BID },
                price: if i % 3 == 0 { 1000 + (i % 11) as i64 } else { 900 + (i % 13) as i64 },
                qty: if i % 9 == 0 { 0 } else { 10 + i as i64 },
                seq: i,
                ..Default::default()
            });
        }
        let mut a: HashMap<(u16, u32), Book> = HashMap::new();
        let mut b: HashMap<(u16, u32), Book> = HashMap::new();
        let bytes = as_bytes(&recs);
        let mut unaligned = vec![0u8; bytes.len() + 8];
        unaligned[8..].copy_from_slice(bytes);
        apply_books(&mut a, &recs);
        apply_books_bytes(&mut b, &unaligned[8..]);
        let snap = |m: &HashMap<(u16, u32), Book>| {
            let mut keys: Vec<_> = m.keys().copied().collect();
            keys.sort_unstable();
            keys.iter().map(|k| (*k, m[k].top(side::BID, 100), m[k].top(side::ASK, 100))).collect::<Vec<_>>()
        };
        assert_eq!(snap(&a), snap(&b));
        assert!(!a.is_empty());
    }

    #[test]
    fn layout_mismatch_is_refused_on_the_first_message() {
        let mut st = SubState::new("t-", 1 << 10, LAYOUT_VERSION);
        let h = Header { layout: LAYOUT_VERSION + 1, kind: MSG_DATA, ring: 0, count: 0, flags: 0, epoch: 1, position: 0, lost: 0, sent_ns: 0 };
        let mut b = [0u8; HEADER_LEN];
        h.write(&mut b);
        st.on_message(&b);
        let e = st.error.clone().unwrap();
        assert_eq!(e, AeronError::Layout { theirs: 2, ours: 1 });
        assert!(e.message().contains("version 2") && e.message().contains("version 1"));
    }
}
