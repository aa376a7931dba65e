//! Consensus book: one book fused from up to `VENUES_MAX` venue books.
//!
//! Every level keeps each venue's quantity (so depth can be coloured by venue) and the sum
//! over the venues currently included. A venue update changes one venue's quantity at one
//! level: O(1) on the price ladder around the touch (see `consensus_side.rs`; the ladder's
//! step is the grid tick given by `set_tick`), a sorted-vector update elsewhere. Prices and
//! quantities are in the consensus units (one price grid, base-coin quantities): each venue's
//! records are converted on the way in by its `VenueScale`.
//!
//! A venue can be excluded (stale) and re-included: its quantities stay stored, only the
//! totals change, so recovery is exact.

use crate::core::consensus_side::{CSide, LADDER_SLOTS};
use crate::core::record::{side, Record, RECORD_SIZE};
#[cfg(test)]
use crate::core::record::kind;

pub(crate) const REC_PRICE: usize = std::mem::offset_of!(Record, price);
pub(crate) const REC_QTY: usize = std::mem::offset_of!(Record, qty);
pub(crate) const REC_KIND: usize = std::mem::offset_of!(Record, kind);
pub(crate) const REC_SIDE: usize = std::mem::offset_of!(Record, side);

pub const VENUES_MAX: usize = 8;
/// Records per block of `apply_bytes` (16 KB): both sides' passes read a block while it is
/// in L1.
const PASS_BLOCK: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CLevel {
    pub price: i64,
    pub total: i64,
    pub qty: [i64; VENUES_MAX],
}

/// Converts one venue's integer price and quantity into consensus units:
/// price_c = price * price_mul; qty_c = qty * qty_mul / qty_div (exact when qty_div == 1).
/// Inverse contracts (quantity = notional in quote units) convert by notional / price with
/// `inverse`, truncating toward zero at the consensus quantity exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VenueScale {
    pub price_mul: i64,
    pub qty_mul: i64,
    pub qty_div: i64,
    pub inverse: bool,
}

impl Default for VenueScale {
    fn default() -> Self {
        VenueScale { price_mul: 1, qty_mul: 1, qty_div: 1, inverse: false }
    }
}

impl VenueScale {
    #[inline]
    pub fn price(&self, p: i64) -> i64 {
        p * self.price_mul
    }
    #[inline]
    pub fn qty(&self, q: i64, price_c: i64) -> i64 {
        if self.inverse {
            if price_c == 0 {
                return 0;
            }
            // qty_mul folds the contract value and exponents; divide by the consensus price.
            ((q as i128 * self.qty_mul as i128) / (price_c as i128 * self.qty_div as i128)) as i64
        } else if self.qty_div == 1 {
            q * self.qty_mul
        } else {
            ((q as i128 * self.qty_mul as i128) / self.qty_div as i128) as i64
        }
    }
}

/// Ask for every cache line of a block at once: a venue message's records are usually
/// just written by its decoder, but when they are not in cache the misses then overlap
/// instead of arriving one pass step at a time.
#[inline(always)]
fn prefetch(block: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for off in (0..block.len()).step_by(RECORD_SIZE) {
        // SAFETY: a hint about an address inside the slice; it neither faults nor writes.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(block.as_ptr().add(off) as *const i8) };
    }
}

/// Reads every record of a batch — the wrapping sum of each record's price and quantity,
/// the same 64-byte lines `Consensus::apply_bytes` reads — and merges nothing: the floor
/// that memory and the call path put under the merge (`nexus bench agg` times it over the
/// same input records, per message and in bulk).
/// It reads them as `apply_with` does: in the same blocks, each block's lines prefetched
/// first.
pub fn read_records(bytes: &[u8]) -> i64 {
    let mut s = 0i64;
    for block in bytes.chunks(PASS_BLOCK * RECORD_SIZE) {
        prefetch(block);
        s = block.chunks_exact(RECORD_SIZE).fold(s, |s, rec| {
            let p = i64::from_le_bytes(rec[REC_PRICE..REC_PRICE + 8].try_into().unwrap());
            let q = i64::from_le_bytes(rec[REC_QTY..REC_QTY + 8].try_into().unwrap());
            s.wrapping_add(p).wrapping_add(q)
        });
    }
    s
}

#[derive(Clone, Debug)]
pub struct Consensus {
    bids: CSide,
    asks: CSide,
    scales: [VenueScale; VENUES_MAX],
    included: [bool; VENUES_MAX],
}

impl Default for Consensus {
    fn default() -> Self {
        Self::new()
    }
}

impl Consensus {
    pub fn new() -> Consensus {
        Self::with_ladder(LADDER_SLOTS)
    }

    /// A consensus whose price ladders have `slots` levels per side (tests use small ones).
    pub fn with_ladder(slots: usize) -> Consensus {
        assert!(slots >= 4, "a ladder needs a few slots");
        Consensus {
            bids: CSide::new(false, slots),
            asks: CSide::new(true, slots),
            scales: [VenueScale::default(); VENUES_MAX],
            included: [true; VENUES_MAX],
        }
    }

    /// The price step of the consensus grid (consensus units): every venue's tick is a
    /// multiple of it. Only a performance hint: prices off it are kept exactly as well.
    pub fn set_tick(&mut self, tick: i64) {
        self.bids.set_tick(tick);
        self.asks.set_tick(tick);
    }

    fn side(&self, side_: u8) -> &CSide {
        if side_ == side::BID { &self.bids } else { &self.asks }
    }

    pub fn set_scale(&mut self, v: usize, scale: VenueScale) {
        self.scales[v] = scale;
    }

    /// Set venue `v`'s quantity at a consensus price (consensus units).
    #[inline(always)]
    pub fn set(&mut self, v: usize, side_: u8, price: i64, qty: i64) {
        let inc = self.included[v];
        match side_ {
            side::BID => self.bids.set(v, self.bids.key(price), qty, inc),
            side::ASK => self.asks.set(v, self.asks.key(price), qty, inc),
            _ => {}
        }
    }

    /// Remove everything venue `v` contributes on a side (0 = both).
    pub fn clear_venue(&mut self, v: usize, side_: u8) {
        let inc = self.included[v];
        if side_ != side::ASK {
            self.bids.clear_venue(v, inc);
        }
        if side_ != side::BID {
            self.asks.clear_venue(v, inc);
        }
    }

    /// Include or exclude venue `v` from the totals (its levels are kept).
    pub fn set_included(&mut self, v: usize, included: bool) {
        if self.included[v] == included {
            return;
        }
        self.included[v] = included;
        let sign = if included { 1 } else { -1 };
        self.bids.include(v, sign);
        self.asks.include(v, sign);
    }

    pub fn included(&self, v: usize) -> bool {
        self.included[v]
    }

    /// Hide venue `v`'s levels on one side at `price` and better (bids at or above it, asks
    /// at or below it; consensus units) from the totals and the reads, or (None) show them
    /// all again. Its quantities stay stored, so un-hiding is exact; updates to hidden
    /// levels are kept, not counted. For the Aggregator's uncrossing of stale quotes (a
    /// venue's quote that crosses a touch published after it; nexus/agg/aggregator.py).
    pub fn set_hide(&mut self, v: usize, side_: u8, price: Option<i64>) {
        let inc = self.included[v];
        match side_ {
            side::BID => self.bids.set_hide(v, price.map_or(i64::MAX, |p| self.bids.key(p)), inc),
            side::ASK => self.asks.set_hide(v, price.map_or(i64::MAX, |p| self.asks.key(p)), inc),
            _ => {}
        }
    }

    /// The price from which venue `v`'s levels on a side are hidden (`set_hide`), if any.
    pub fn hidden_from(&self, v: usize, side_: u8) -> Option<i64> {
        let s = self.side(side_);
        let k = s.hide_key(v);
        (k != i64::MAX).then(|| if side_ == side::BID { k } else { !k })
    }

    /// Apply a venue's book records (venue units), converting each with the venue's scale.
    pub fn apply_bytes(&mut self, v: usize, bytes: &[u8]) -> usize {
        let sc = self.scales[v];
        // The common conversions get their own loop (no per-record branch on the scale kind).
        if !sc.inverse && sc.qty_div == 1 {
            let (pm, qm) = (sc.price_mul, sc.qty_mul);
            self.apply_with(v, bytes, |p, q| (p * pm, q * qm))
        } else {
            self.apply_with(v, bytes, |p, q| {
                let pc = sc.price(p);
                (pc, sc.qty(q, pc))
            })
        }
    }

    /// Each side takes its records in a pass of its own (`CSide::apply_records`), which
    /// keeps one side's state in registers: the sides are independent, and a clear applies
    /// to its side(s) at its place in the batch, so the order that matters is kept.
    #[inline(always)]
    fn apply_with(&mut self, v: usize, bytes: &[u8], conv: impl Fn(i64, i64) -> (i64, i64)) -> usize {
        let inc = self.included[v];
        let mut n = 0;
        // in blocks that stay in L1 between the two passes (a snapshot can be megabytes)
        for block in bytes.chunks(PASS_BLOCK * RECORD_SIZE) {
            prefetch(block);
            n += self.bids.apply_records::<false>(v, inc, block, &conv);
            self.asks.apply_records::<true>(v, inc, block, &conv);
        }
        n
    }

    pub fn best_bid(&self) -> Option<CLevel> {
        self.bids.best_level()
    }
    pub fn best_ask(&self) -> Option<CLevel> {
        self.asks.best_level()
    }

    /// The touch without the per-venue breakdown: (bid price, bid total, ask price, ask
    /// total), or None while a side has no level with a positive total.
    pub fn touch(&self) -> Option<(i64, i64, i64, i64)> {
        let (bp, bt) = self.bids.best_price_total()?;
        let (ap, at) = self.asks.best_price_total()?;
        Some((bp, bt, ap, at))
    }

    /// Apply venue v's records and say whether the touch (best prices and totals, either
    /// side, including a side becoming empty) differs from before: a consumer that needs
    /// the touch after every message reads it only when this is true.
    pub fn apply_bytes_touch(&mut self, v: usize, bytes: &[u8]) -> bool {
        let before = (self.bids.best_price_total(), self.asks.best_price_total());
        self.apply_bytes(v, bytes);
        before != (self.bids.best_price_total(), self.asks.best_price_total())
    }

    /// Top `n` levels with a positive total, best first.
    pub fn top(&self, side_: u8, n: usize) -> Vec<CLevel> {
        self.side(side_).top(n)
    }

    /// Quantity of each venue and the total at a consensus price (None: no venue there).
    pub fn at(&self, side_: u8, price: i64) -> Option<CLevel> {
        let s = self.side(side_);
        s.at(s.key(price))
    }

    /// Sum over levels within `[lo, hi]` (prices inclusive) of each included venue's quantity
    /// and the total.
    pub fn depth_between(&self, side_: u8, lo: i64, hi: i64) -> ([i64; VENUES_MAX], i64) {
        let s = self.side(side_);
        let (klo, khi) = if side_ == side::BID { (lo, hi) } else { (!hi, !lo) };
        s.depth_between(klo, khi, &self.included)
    }

    /// Levels holding any venue's quantity (including venues excluded from the totals).
    pub fn levels(&self, side_: u8) -> usize {
        self.side(side_).levels()
    }

    /// How many of those are on the price ladder (the rest are outside its window or off its
    /// grid); for tests and benchmarks.
    pub fn ladder_levels(&self, side_: u8) -> usize {
        self.side(side_).ladder_levels()
    }
}

#[cfg(test)]
#[path = "consensus_tests.rs"]
mod tests;
