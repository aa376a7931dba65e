//! L2 order book over integer price levels.
//!
//! Each side is a sorted `Vec<Level>` kept with the BEST level LAST (bids ascending, asks
//! descending), so the common case — an update at or near the touch — inserts or removes at
//! the end of the vector and moves few bytes. Lookup is a binary search. Measured against a
//! B-tree map for 10-level deltas on 1000-level books (bench/test_book_bench.py), the vector
//! wins because updates cluster at the touch.

use crate::core::decimal::{format_fixed, format_scaled};
use crate::core::record::{kind, side, Record, RECORD_SIZE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    pub price: i64,
    pub qty: i64,
}

#[derive(Default, Clone, Debug)]
struct Side {
    /// Sorted so that the best level is last.
    levels: Vec<Level>,
    /// true for bids (ascending storage), false for asks (descending storage).
    ascending: bool,
}

impl Side {
    fn new(ascending: bool) -> Side {
        Side { levels: Vec::with_capacity(1024), ascending }
    }

    #[inline]
    fn find(&self, price: i64) -> Result<usize, usize> {
        if self.ascending {
            self.levels.binary_search_by(|l| l.price.cmp(&price))
        } else {
            self.levels.binary_search_by(|l| price.cmp(&l.price))
        }
    }

    #[inline]
    fn set(&mut self, price: i64, qty: i64) {
        // Fast path: the touch itself.
        if let Some(last) = self.levels.last_mut() {
            if last.price == price {
                if qty == 0 {
                    self.levels.pop();
                } else {
                    last.qty = qty;
                }
                return;
            }
        }
        match self.find(price) {
            Ok(i) => {
                if qty == 0 {
                    self.levels.remove(i);
                } else {
                    self.levels[i].qty = qty;
                }
            }
            Err(i) => {
                if qty != 0 {
                    self.levels.insert(i, Level { price, qty });
                }
            }
        }
    }

    fn best(&self) -> Option<Level> {
        self.levels.last().copied()
    }

    /// Best first.
    fn iter_best(&self) -> impl Iterator<Item = &Level> {
        self.levels.iter().rev()
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
        Book { bids: Side::new(true), asks: Side::new(false), price_exponent, qty_exponent }
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
            self.bids.levels.clear();
        }
        if side_ != side::BID {
            self.asks.levels.clear();
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
        let mut applied = 0;
        let mut bulk = [false; 3]; // per side: pushing a snapshot after a clear
        for chunk in bytes.chunks_exact(RECORD_SIZE) {
            // SAFETY: a chunk is exactly one record's bytes; read_unaligned has no alignment need.
            let r: Record = unsafe { std::ptr::read_unaligned(chunk.as_ptr() as *const Record) };
            let snap = r.flags & crate::core::record::flags::F_SNAPSHOT != 0;
            match r.kind {
                kind::BOOK_CLEAR => {
                    self.finish_bulk(&mut bulk);
                    self.clear(r.side);
                    if snap {
                        if r.side != side::ASK {
                            bulk[side::BID as usize] = true;
                        }
                        if r.side != side::BID {
                            bulk[side::ASK as usize] = true;
                        }
                    }
                    applied += 1;
                }
                kind::BOOK_LEVEL if snap && (r.side == side::BID || r.side == side::ASK) && bulk[r.side as usize] => {
                    let s = if r.side == side::BID { &mut self.bids } else { &mut self.asks };
                    s.levels.push(Level { price: r.price, qty: r.qty });
                    applied += 1;
                }
                kind::BOOK_LEVEL => {
                    self.finish_bulk(&mut bulk);
                    self.set(r.side, r.price, r.qty);
                    applied += 1;
                }
                _ => {}
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
            let asc = s.ascending;
            // stable sort keeps arrival order among equal prices; keep the last of each run
            s.levels.sort_by(|a, b| if asc { a.price.cmp(&b.price) } else { b.price.cmp(&a.price) });
            let mut out: Vec<Level> = Vec::with_capacity(s.levels.len());
            for l in s.levels.drain(..) {
                match out.last_mut() {
                    Some(prev) if prev.price == l.price => *prev = l,
                    _ => out.push(l),
                }
            }
            out.retain(|l| l.qty != 0);
            s.levels = out;
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
            side::BID => self.bids.levels.len(),
            side::ASK => self.asks.levels.len(),
            _ => self.bids.levels.len() + self.asks.levels.len(),
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
            *slot = *l;
            n += 1;
        }
        n
    }

    pub fn top(&self, side_: u8, n: usize) -> Vec<Level> {
        let s = if side_ == side::BID { &self.bids } else { &self.asks };
        s.iter_best().take(n).copied().collect()
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
