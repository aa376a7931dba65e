//! L2 order book over integer price levels.
//!
//! A side has two forms with the same results:
//! * dense (`Dense`): one quantity per grid point over a window around the levels, so a
//!   change is an index computation and a store (no search, no moving of levels). A side
//!   takes it after a snapshot of at least `DENSE_MIN` levels lying on one grid (the tick)
//!   over a small enough span; it leaves it for a level off the grid, a window that would grow
//!   too wide or sparse, or a clear.
//! * sorted: a vector kept with the BEST level LAST (bids by price ascending, asks by `!price`
//!   ascending, i.e. price descending), so an update at or near the touch moves few bytes;
//!   lookup starts from where the level would be in a dense book (`Side::lower_bound`).
//!
//! `nexus bench peers --book-only` (1000-level snapshot, 20 000 messages of ~20 changes near
//! the touch) measured ~37 ns per change for the sorted vector with a binary search, ~22 ns
//! with the guessed start, ~7-11 ns dense.

use crate::core::decimal::{format_fixed, format_scaled};
use crate::core::record::{kind, side, Record, RECORD_SIZE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    pub price: i64,
    pub qty: i64,
}

/// One stored level: `key` is the price for bids and `!price` for asks (`!` reverses the order
/// of every i64 without overflow), so both sides are kept ascending with the best level last.
#[derive(Clone, Copy, Debug)]
struct Slot {
    key: i64,
    qty: i64,
}

/// Tails up to this many slots move by a fixed-size copy instead of a memmove call.
const SHORT: usize = 8;

/// A snapshot of at least this many levels may make its side dense (`Dense`).
const DENSE_MIN: usize = 64;
/// The widest dense window's level span, in grid points (x8 bytes; plus margins).
const DENSE_SPAN_MAX: u64 = 1 << 15;
/// A dense window spans at most this many grid points per level it holds.
const DENSE_SPARSITY_MAX: u64 = 16;
/// Room left on each side of a new window's levels, at least (grid points).
const DENSE_MARGIN_MIN: u64 = 256;

/// How many records ahead `apply_bytes` prefetches.
const PREFETCH: usize = 24;

#[derive(Default, Clone, Debug)]
struct Side {
    /// Sorted by key ascending, so the best level is last.
    levels: Vec<Slot>,
    /// true for asks (key = !price), false for bids (key = price).
    ask: bool,
    /// The smallest gap seen between adjacent keys (the tick, in practice; u64::MAX until
    /// two levels were seen). Only a hint for where to start looking: never affects results.
    step: u64,
    /// Dense mode (see `Dense`): the levels are in `d`, `levels` is unused.
    dense: bool,
    d: Dense,
}

/// A side held as one quantity per grid point (`key = base + i * grid`, 0 = no level) over
/// a window around the levels: setting a level is an index, no search and no moving of the
/// levels behind it. A side becomes dense after a snapshot whose levels lie on one grid over a
/// span at most `DENSE_SPAN_MAX` points (and at most `DENSE_SPARSITY_MAX` times its level count);
/// a level off the grid, or one that would stretch the window past that span, turns it back
/// into the sorted vector, as does a clear. Results are the same either way.
#[derive(Default, Clone, Debug)]
struct Dense {
    base: i64,
    grid: u64,
    win: Vec<i64>,
    /// Non-zero entries of `win`.
    count: usize,
    /// Index of the highest non-zero entry (the best level) when count > 0.
    top: usize,
}

impl Side {
    fn new(ask: bool) -> Side {
        Side { levels: Vec::with_capacity(1024), ask, step: u64::MAX, dense: false, d: Dense::default() }
    }

    #[inline(always)]
    fn key(&self, price: i64) -> i64 {
        if self.ask { !price } else { price }
    }

    #[inline(always)]
    fn level(&self, s: &Slot) -> Level {
        Level { price: self.key(s.key), qty: s.qty }
    }

    /// First index whose key is >= `key` (where `key` is or would be).
    ///
    /// Starts where the level would be if every tick between it and the touch were occupied
    /// (`(touch - key) / step` levels back from the best), which is exact or a few levels off
    /// for the dense books near the touch that venues send, then gallops from there toward
    /// the answer (1, 2, 4, ... levels) and bisects the last bracket: O(1) for a good guess,
    /// O(log n) whatever the guess.
    #[inline(always)]
    fn lower_bound(&self, key: i64) -> usize {
        let v = &self.levels[..];
        let n = v.len();
        if n == 0 || key > v[n - 1].key {
            return n;
        }
        let d = v[n - 1].key.wrapping_sub(key) as u64; // touch - key, exact in u64 (key <= touch)
        let back = if self.step == 1 { d } else { d / self.step };
        // `back` levels of `step` reach past the deepest level (a side sparser than its finest
        // gap: a step of one tick, levels tens of ticks apart on average): the guess then
        // interpolates between the side's two ends instead (its average gap)
        let back = if back < n as u64 { back } else { self.interpolate(d) };
        let g = if back >= n as u64 { 0 } else { n - 1 - back as usize };
        self.gallop(g, key)
    }

    /// How many levels back from the touch a key `d` below it would be if the levels were
    /// evenly spread between the side's two ends (a guess: only where to start looking).
    #[inline(always)]
    fn interpolate(&self, d: u64) -> u64 {
        let v = &self.levels[..];
        let n = v.len();
        let span = v[n - 1].key.wrapping_sub(v[0].key) as u64;
        if d >= span {
            return n as u64; // at or below the deepest level
        }
        ((d as f64) * ((n - 1) as f64) / (span as f64)) as u64
    }

    /// `lower_bound` from a poor guess `g`: gallop toward the answer (1, 2, 4, ... levels),
    /// then bisect the last bracket.
    #[inline(always)]
    fn gallop(&self, g: usize, key: i64) -> usize {
        let v = &self.levels[..];
        let n = v.len();
        if v[g].key >= key {
            // the answer is at or before g
            let (mut hi, mut jump) = (g, 1usize);
            while hi > 0 {
                let probe = hi.saturating_sub(jump);
                if v[probe].key < key {
                    return probe + 1 + v[probe + 1..hi].partition_point(|s| s.key < key);
                }
                hi = probe;
                jump *= 2;
            }
            0
        } else {
            // the answer is after g
            let (mut lo, mut jump) = (g, 1usize);
            loop {
                let probe = lo + jump;
                if probe >= n || v[probe].key >= key {
                    let end = probe.min(n);
                    return lo + 1 + v[lo + 1..end].partition_point(|s| s.key < key);
                }
                lo = probe;
                jump *= 2;
            }
        }
    }

    #[inline(always)]
    fn set(&mut self, price: i64, qty: i64) {
        let key = self.key(price);
        if self.dense {
            if let Some(i) = self.d.index(key) {
                self.d.put(i, qty);
                return;
            }
            if qty == 0 {
                return; // a dense side has no level outside its window
            }
            self.rewindow(key);
            if self.dense {
                let i = self.d.index(key).expect("the new window holds the key");
                self.d.put(i, qty);
                return;
            }
        }
        self.sorted_set(key, qty);
    }

    #[inline(always)]
    fn sorted_set(&mut self, key: i64, qty: i64) {
        let i = self.lower_bound(key);
        let n = self.levels.len();
        if i < n && self.levels[i].key == key {
            if qty == 0 {
                if n - i <= SHORT + 1 && self.levels.capacity() >= i + 1 + SHORT {
                    // SAFETY: [i+1, i+1+SHORT) is inside the allocation (capacity checked);
                    // a fixed-size copy (inlined, no memmove call) moves the tail down one slot,
                    // with whatever spare-capacity bytes follow it, which stay past the length.
                    unsafe {
                        let p = self.levels.as_mut_ptr();
                        std::ptr::copy(p.add(i + 1), p.add(i), SHORT);
                        self.levels.set_len(n - 1);
                    }
                } else {
                    self.levels.remove(i);
                }
            } else {
                self.levels[i].qty = qty;
            }
        } else if qty != 0 {
            if n - i <= SHORT && self.levels.capacity() >= i + 1 + SHORT {
                // SAFETY: as above: [i, i+1+SHORT) is inside the allocation; the tail (at most
                // SHORT slots) moves up one, then slot i is written and the length grows by one.
                unsafe {
                    let p = self.levels.as_mut_ptr();
                    std::ptr::copy(p.add(i), p.add(i + 1), SHORT);
                    p.add(i).write(Slot { key, qty });
                    self.levels.set_len(n + 1);
                }
            } else {
                self.levels.insert(i, Slot { key, qty });
            }
            self.note_gaps(i);
        }
    }

    /// Lower `step` to the gaps around the level just put at `i`.
    #[inline(always)]
    fn note_gaps(&mut self, i: usize) {
        let v = &self.levels;
        let k = v[i].key;
        if i > 0 {
            self.step = self.step.min(k.wrapping_sub(v[i - 1].key) as u64);
        }
        if i + 1 < v.len() {
            self.step = self.step.min(v[i + 1].key.wrapping_sub(k) as u64);
        }
    }

    fn best(&self) -> Option<Level> {
        if self.dense {
            return (self.d.count > 0).then(|| Level { price: self.key(self.d.key_at(self.d.top)), qty: self.d.win[self.d.top] });
        }
        self.levels.last().map(|s| self.level(s))
    }

    fn len(&self) -> usize {
        if self.dense { self.d.count } else { self.levels.len() }
    }

    /// Empty, sorted mode (the window's memory is kept for the next snapshot).
    fn clear(&mut self) {
        self.levels.clear();
        self.dense = false;
        self.d.count = 0;
    }

    /// Best first.
    fn iter_best(&self) -> BestIter<'_> {
        if self.dense {
            BestIter::Dense { s: self, next: self.d.top + 1, left: self.d.count }
        } else {
            BestIter::Sorted { s: self, it: self.levels.iter().rev() }
        }
    }

    /// After a snapshot (sorted mode, `levels` sorted, distinct, non-zero): go dense when the
    /// levels lie on one grid over a small enough span.
    fn maybe_dense(&mut self) {
        let v = &self.levels;
        if v.len() < DENSE_MIN {
            return;
        }
        let mut g = 0u64;
        for w in v.windows(2) {
            g = gcd(g, w[1].key.wrapping_sub(w[0].key) as u64);
            if g == 1 {
                break;
            }
        }
        let (lo, hi) = (v[0].key, v[v.len() - 1].key);
        let levels = std::mem::take(&mut self.levels);
        if !self.build_window(lo, hi, g, levels.iter().map(|s| (s.key, s.qty))) {
            self.levels = levels;
        } else {
            self.levels = levels;
            self.levels.clear();
        }
    }

    /// Dense: a new level at `key` outside the window. Build a wider window holding it, or
    /// go back to the sorted vector (off the grid, or too wide).
    #[inline(never)]
    fn rewindow(&mut self, key: i64) {
        let now: Vec<(i64, i64)> = self.d.iter_keys().collect(); // best (highest key) first
        let (mut lo, mut hi) = (key, key);
        if let (Some(h), Some(l)) = (now.first(), now.last()) {
            lo = lo.min(l.0);
            hi = hi.max(h.0);
        }
        let off = key.wrapping_sub(self.d.base) as u64; // the grid is kept: is the key on it?
        let on_grid = self.d.grid > 0 && off % self.d.grid == 0;
        if !(on_grid && self.build_window(lo, hi, self.d.grid, now.iter().copied())) {
            self.dense = false;
            self.levels.clear();
            self.levels.extend(now.iter().rev().map(|&(key, qty)| Slot { key, qty }));
        }
    }

    /// Fill a window over [lo, hi] on `grid` (with room around it) with `levels`; false (and
    /// nothing changed) when the span is too wide or sparse, or the window would overflow.
    fn build_window(&mut self, lo: i64, hi: i64, grid: u64, levels: impl Iterator<Item = (i64, i64)> + Clone) -> bool {
        if grid == 0 {
            return false;
        }
        let span = (hi.wrapping_sub(lo) as u64) / grid + 1;
        let n = levels.clone().count() as u64;
        if span > DENSE_SPAN_MAX || span > DENSE_SPARSITY_MAX * n.max(1) {
            return false;
        }
        let margin = span.max(DENSE_MARGIN_MIN).min(DENSE_SPAN_MAX);
        let len = span + 2 * margin;
        let base = match (margin as i128).checked_mul(grid as i128).map(|m| lo as i128 - m) {
            Some(b) if b >= i64::MIN as i128 && b + (len as i128) * (grid as i128) <= i64::MAX as i128 => b as i64,
            _ => return false,
        };
        let d = &mut self.d;
        d.win.clear();
        d.win.resize(len as usize, 0);
        d.base = base;
        d.grid = grid;
        d.count = 0;
        d.top = 0;
        for (k, q) in levels {
            let i = d.index(k).expect("a level inside the window");
            d.put(i, q);
        }
        self.dense = true;
        true
    }
}

impl Dense {
    /// Window index of `key`, if the window holds it.
    #[inline(always)]
    fn index(&self, key: i64) -> Option<usize> {
        if key < self.base {
            return None;
        }
        let off = key.wrapping_sub(self.base) as u64;
        let i = if self.grid == 1 {
            off
        } else {
            if off % self.grid != 0 {
                return None;
            }
            off / self.grid
        };
        (i < self.win.len() as u64).then_some(i as usize)
    }

    #[inline(always)]
    fn key_at(&self, i: usize) -> i64 {
        self.base.wrapping_add((i as u64).wrapping_mul(self.grid) as i64)
    }

    #[inline(always)]
    fn put(&mut self, i: usize, qty: i64) {
        let old = std::mem::replace(&mut self.win[i], qty);
        if qty != 0 {
            if old == 0 {
                self.count += 1;
                if self.count == 1 || i > self.top {
                    self.top = i;
                }
            }
        } else if old != 0 {
            self.count -= 1;
            if i == self.top && self.count > 0 {
                let mut t = i;
                while self.win[t] == 0 {
                    t -= 1;
                }
                self.top = t;
            }
        }
    }

    /// (key, qty) best (highest key) first.
    fn iter_keys(&self) -> impl Iterator<Item = (i64, i64)> + Clone + '_ {
        let end = if self.count > 0 { self.top + 1 } else { 0 };
        self.win[..end].iter().enumerate().rev().filter(|(_, &q)| q != 0).map(|(i, &q)| (self.key_at(i), q))
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A side's levels, best first, in either mode.
enum BestIter<'a> {
    Sorted { s: &'a Side, it: std::iter::Rev<std::slice::Iter<'a, Slot>> },
    Dense { s: &'a Side, next: usize, left: usize },
}

impl Iterator for BestIter<'_> {
    type Item = Level;

    #[inline]
    fn next(&mut self) -> Option<Level> {
        match self {
            BestIter::Sorted { s, it } => it.next().map(|l| s.level(l)),
            BestIter::Dense { s, next, left } => {
                if *left == 0 {
                    return None;
                }
                let w = &s.d.win;
                let mut i = *next - 1;
                while w[i] == 0 {
                    i -= 1;
                }
                *next = i;
                *left -= 1;
                Some(Level { price: s.key(s.d.key_at(i)), qty: w[i] })
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Book {
    bids: Side,
    asks: Side,
    pub price_exponent: u32,
    pub qty_exponent: u32,
}

impl Book {
    pub fn new(price_exponent: u32, qty_exponent: u32) -> Book {
        Book { bids: Side::new(false), asks: Side::new(true), price_exponent, qty_exponent }
    }

    #[inline]
    pub fn set(&mut self, side_: u8, price: i64, qty: i64) {
        match side_ {
            side::BID => self.bids.set(price, qty),
            side::ASK => self.asks.set(price, qty),
            _ => {}
        }
    }

    pub fn clear(&mut self, side_: u8) {
        if side_ != side::ASK {
            self.bids.clear();
        }
        if side_ != side::BID {
            self.asks.clear();
        }
    }

    #[inline]
    pub fn apply_record(&mut self, r: &Record) -> bool {
        match r.kind {
            kind::BOOK_LEVEL => {
                self.set(r.side, r.price, r.qty);
                true
            }
            kind::BOOK_CLEAR => {
                self.clear(r.side);
                true
            }
            _ => false,
        }
    }

    /// Apply records given as raw bytes (any alignment). Returns how many were book records.
    ///
    /// Snapshot levels (F_SNAPSHOT) that follow a BOOK_CLEAR in the same batch are pushed
    /// unsorted and sorted once when the snapshot ends: venues send snapshots best first,
    /// which would otherwise insert every bid at the front of its vector.
    pub fn apply_bytes(&mut self, bytes: &[u8]) -> usize {
        use crate::core::record::flags::F_SNAPSHOT;
        use std::mem::offset_of;
        let mut applied = 0;
        let mut bulk = [false; 3]; // per side: pushing a snapshot after a clear
        let mut bulking = false; // any of `bulk`
        for chunk in bytes.chunks_exact(RECORD_SIZE) {
            // Records are read once, in order: ask for the line PREFETCH records ahead (a large
            // batch otherwise stalls on each record's first byte). A prefetch never faults, so
            // the address past the end needs no test (wrapping_add: no out-of-bounds pointer).
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a prefetch hint reads nothing into the program.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch(chunk.as_ptr().wrapping_add(PREFETCH * RECORD_SIZE) as *const i8, _MM_HINT_T0);
            }
            // Read only the fields used, each unaligned (a chunk is exactly one record's bytes).
            let p = chunk.as_ptr();
            // SAFETY: every offset below is inside the 64-byte chunk.
            let (kind_, flags_, side_) =
                unsafe { (*p.add(offset_of!(Record, kind)), *p.add(offset_of!(Record, flags)), *p.add(offset_of!(Record, side))) };
            if kind_ == kind::BOOK_LEVEL {
                let (price, qty) = unsafe {
                    (
                        std::ptr::read_unaligned(p.add(offset_of!(Record, price)) as *const i64),
                        std::ptr::read_unaligned(p.add(offset_of!(Record, qty)) as *const i64),
                    )
                };
                applied += 1;
                if bulking {
                    if flags_ & F_SNAPSHOT != 0 && (side_ == side::BID || side_ == side::ASK) && bulk[side_ as usize] {
                        let s = if side_ == side::BID { &mut self.bids } else { &mut self.asks };
                        let key = s.key(price);
                        s.levels.push(Slot { key, qty });
                        continue;
                    }
                    self.finish_bulk(&mut bulk);
                    bulking = false;
                }
                self.set(side_, price, qty);
            } else if kind_ == kind::BOOK_CLEAR {
                self.finish_bulk(&mut bulk);
                self.clear(side_);
                if flags_ & F_SNAPSHOT != 0 {
                    if side_ != side::ASK {
                        bulk[side::BID as usize] = true;
                    }
                    if side_ != side::BID {
                        bulk[side::ASK as usize] = true;
                    }
                }
                bulking = bulk[side::BID as usize] || bulk[side::ASK as usize];
                applied += 1;
            }
        }
        self.finish_bulk(&mut bulk);
        applied
    }

    /// Sort the sides filled in bulk; a price given twice keeps its last quantity, and
    /// zero quantities are dropped, exactly as `set` would have done.
    fn finish_bulk(&mut self, bulk: &mut [bool; 3]) {
        for (sd, s) in [(side::BID, &mut self.bids), (side::ASK, &mut self.asks)] {
            if !bulk[sd as usize] {
                continue;
            }
            bulk[sd as usize] = false;
            // stable sort keeps arrival order among equal prices; keep the last of each run
            s.levels.sort_by_key(|l| l.key);
            let mut w = 0;
            for r in 0..s.levels.len() {
                let l = s.levels[r];
                if w > 0 && s.levels[w - 1].key == l.key {
                    s.levels[w - 1] = l;
                } else {
                    s.levels[w] = l;
                    w += 1;
                }
            }
            s.levels.truncate(w);
            s.levels.retain(|l| l.qty != 0);
            for i in 1..s.levels.len() {
                s.step = s.step.min(s.levels[i].key.wrapping_sub(s.levels[i - 1].key) as u64);
            }
            s.maybe_dense();
        }
    }

    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }
    pub fn depth(&self, side_: u8) -> usize {
        match side_ {
            side::BID => self.bids.len(),
            side::ASK => self.asks.len(),
            _ => self.bids.len() + self.asks.len(),
        }
    }
    pub fn crossed(&self) -> bool {
        matches!((self.best_bid(), self.best_ask()), (Some(b), Some(a)) if b.price >= a.price)
    }

    /// Top `out.len()` levels of a side, best first; returns how many were written.
    pub fn top_into(&self, side_: u8, out: &mut [Level]) -> usize {
        let s = if side_ == side::BID { &self.bids } else { &self.asks };
        let mut n = 0;
        for (slot, l) in out.iter_mut().zip(s.iter_best()) {
            *slot = l;
            n += 1;
        }
        n
    }

    pub fn top(&self, side_: u8, n: usize) -> Vec<Level> {
        let s = if side_ == side::BID { &self.bids } else { &self.asks };
        s.iter_best().take(n).collect()
    }

    /// OKX v5: "bid1px:bid1sz:ask1px:ask1sz:bid2px:..." over the top `depth` levels of each
    /// side interleaved (a side that runs out is skipped), values as OKX writes them
    /// (shortest decimal, no trailing zeros).
    pub fn checksum_string_okx(&self, depth: usize) -> String {
        let mut s = String::with_capacity(depth * 40);
        let (mut bids, mut asks) = (self.bids.iter_best().take(depth), self.asks.iter_best().take(depth));
        loop {  // bid i, ask i, bid i+1, ... (no intermediate vectors: OKX checks every message)
            let (b, a) = (bids.next(), asks.next());
            if b.is_none() && a.is_none() {
                return s;
            }
            for l in [b, a].into_iter().flatten() {
                if !s.is_empty() {
                    s.push(':');
                }
                format_scaled(l.price, self.price_exponent, &mut s);
                s.push(':');
                format_scaled(l.qty, self.qty_exponent, &mut s);
            }
        }
    }

    /// OKX checksum: CRC32 of `checksum_string_okx` as a signed 32-bit integer.
    pub fn checksum_okx(&self, depth: usize) -> i32 {
        crc32fast::hash(self.checksum_string_okx(depth).as_bytes()) as i32
    }

    /// Kraken v2: for the top `depth` asks (best first) then the top `depth` bids (best
    /// first), price and quantity written with the instrument's precisions, '.' removed and
    /// leading zeros stripped, all concatenated.
    pub fn checksum_string_kraken(&self, price_precision: u32, qty_precision: u32, depth: usize) -> String {
        let mut s = String::with_capacity(depth * 40);
        let mut tmp = String::with_capacity(32);
        for l in self.asks.iter_best().take(depth).chain(self.bids.iter_best().take(depth)) {
            for (v, from_exp, to_prec) in [
                (l.price, self.price_exponent, price_precision),
                (l.qty, self.qty_exponent, qty_precision),
            ] {
                tmp.clear();
                format_fixed(rescale(v, from_exp, to_prec), to_prec, &mut tmp);
                // '.' removed, then leading zeros stripped ("0" when nothing is left)
                let start = s.len();
                for c in tmp.chars().filter(|&c| c != '.') {
                    if c != '0' || s.len() > start {
                        s.push(c);
                    }
                }
                if s.len() == start {
                    s.push('0');
                }
            }
        }
        s
    }

    /// Kraken checksum: CRC32 of `checksum_string_kraken`, unsigned 32-bit.
    pub fn checksum_kraken(&self, price_precision: u32, qty_precision: u32, depth: usize) -> u32 {
        crc32fast::hash(self.checksum_string_kraken(price_precision, qty_precision, depth).as_bytes())
    }
}

/// Re-express a scaled integer at another exponent (exact when widening; truncates toward
/// zero when narrowing, which only happens if the book's exponent is finer than the venue's
/// own precision, i.e. never for values that came from that venue).
fn rescale(v: i64, from: u32, to: u32) -> i64 {
    use crate::core::decimal::pow10;
    if to >= from {
        v * pow10(to - from)
    } else {
        v / pow10(from - to)
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
