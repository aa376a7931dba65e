//! Consensus book: one book fused from up to `MAX_VENUES` venue books.
//!
//! Every level keeps each venue's quantity (so depth can be coloured by venue) and the sum
//! over the venues currently included. A venue update changes one venue's quantity at one
//! level: O(log n) search plus a short move near the touch, never a rebuild. Prices and
//! quantities are in the consensus units (one price grid, base-coin quantities): each venue's
//! records are converted on the way in by its `VenueScale`.
//!
//! A venue can be excluded (stale) and re-included: its quantities stay stored, only the
//! totals change, so recovery is exact.

use crate::core::record::{kind, side, Record, RECORD_SIZE};

pub const MAX_VENUES: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CLevel {
    pub price: i64,
    pub total: i64,
    pub qty: [i64; MAX_VENUES],
}

impl CLevel {
    fn empty(price: i64) -> CLevel {
        CLevel { price, total: 0, qty: [0; MAX_VENUES] }
    }
    fn any(&self) -> bool {
        self.qty.iter().any(|&q| q != 0)
    }
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

#[derive(Default, Clone, Debug)]
struct CSide {
    levels: Vec<CLevel>, // best last
    ascending: bool,
}

impl CSide {
    fn find(&self, price: i64) -> Result<usize, usize> {
        if self.ascending {
            self.levels.binary_search_by(|l| l.price.cmp(&price))
        } else {
            self.levels.binary_search_by(|l| price.cmp(&l.price))
        }
    }

    fn set(&mut self, v: usize, price: i64, qty: i64, included: bool) {
        let i = match self.find(price) {
            Ok(i) => i,
            Err(i) => {
                if qty == 0 {
                    return;
                }
                self.levels.insert(i, CLevel::empty(price));
                i
            }
        };
        let l = &mut self.levels[i];
        if included {
            l.total += qty - l.qty[v];
        }
        l.qty[v] = qty;
        if qty == 0 && !l.any() {
            self.levels.remove(i);
        }
    }

    fn clear_venue(&mut self, v: usize, included: bool) {
        for l in self.levels.iter_mut() {
            if included {
                l.total -= l.qty[v];
            }
            l.qty[v] = 0;
        }
        self.levels.retain(|l| l.any());
    }

    fn best(&self) -> Option<&CLevel> {
        self.levels.iter().rev().find(|l| l.total > 0)
    }
}

#[derive(Clone, Debug)]
pub struct Consensus {
    bids: CSide,
    asks: CSide,
    scales: [VenueScale; MAX_VENUES],
    included: [bool; MAX_VENUES],
}

impl Default for Consensus {
    fn default() -> Self {
        Self::new()
    }
}

impl Consensus {
    pub fn new() -> Consensus {
        Consensus {
            bids: CSide { levels: Vec::with_capacity(4096), ascending: true },
            asks: CSide { levels: Vec::with_capacity(4096), ascending: false },
            scales: [VenueScale::default(); MAX_VENUES],
            included: [true; MAX_VENUES],
        }
    }

    pub fn set_scale(&mut self, v: usize, scale: VenueScale) {
        self.scales[v] = scale;
    }

    /// Set venue `v`'s quantity at a consensus price (consensus units).
    #[inline]
    pub fn set(&mut self, v: usize, side_: u8, price: i64, qty: i64) {
        let inc = self.included[v];
        match side_ {
            side::BID => self.bids.set(v, price, qty, inc),
            side::ASK => self.asks.set(v, price, qty, inc),
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
        for l in self.bids.levels.iter_mut().chain(self.asks.levels.iter_mut()) {
            l.total += sign * l.qty[v];
        }
    }

    pub fn included(&self, v: usize) -> bool {
        self.included[v]
    }

    /// Apply a venue's book records (venue units), converting each with the venue's scale.
    pub fn apply_bytes(&mut self, v: usize, bytes: &[u8]) -> usize {
        let sc = self.scales[v];
        let mut n = 0;
        for chunk in bytes.chunks_exact(RECORD_SIZE) {
            // SAFETY: one record's bytes; unaligned read.
            let r: Record = unsafe { std::ptr::read_unaligned(chunk.as_ptr() as *const Record) };
            match r.kind {
                kind::BOOK_LEVEL => {
                    let p = sc.price(r.price);
                    self.set(v, r.side, p, sc.qty(r.qty, p));
                    n += 1;
                }
                kind::BOOK_CLEAR => {
                    self.clear_venue(v, r.side);
                    n += 1;
                }
                _ => {}
            }
        }
        n
    }

    pub fn best_bid(&self) -> Option<&CLevel> {
        self.bids.best()
    }
    pub fn best_ask(&self) -> Option<&CLevel> {
        self.asks.best()
    }

    /// Top `n` levels with a positive total, best first.
    pub fn top(&self, side_: u8, n: usize) -> Vec<CLevel> {
        let s = if side_ == side::BID { &self.bids } else { &self.asks };
        s.levels.iter().rev().filter(|l| l.total > 0).take(n).copied().collect()
    }

    /// Quantity of venue `v` and the total at a consensus price.
    pub fn at(&self, side_: u8, price: i64) -> Option<CLevel> {
        let s = if side_ == side::BID { &self.bids } else { &self.asks };
        s.find(price).ok().map(|i| s.levels[i])
    }

    /// Sum over levels within `[lo, hi]` (prices inclusive) of each venue's quantity and the total.
    pub fn depth_between(&self, side_: u8, lo: i64, hi: i64) -> ([i64; MAX_VENUES], i64) {
        let s = if side_ == side::BID { &self.bids } else { &self.asks };
        let mut per = [0i64; MAX_VENUES];
        let mut total = 0;
        for l in s.levels.iter().rev() {
            if l.price < lo || l.price > hi {
                if (s.ascending && l.price < lo) || (!s.ascending && l.price > hi) {
                    break; // walked past the window from the touch
                }
                continue;
            }
            for v in 0..MAX_VENUES {
                if self.included[v] {
                    per[v] += l.qty[v];
                }
            }
            total += l.total;
        }
        (per, total)
    }

    pub fn levels(&self, side_: u8) -> usize {
        if side_ == side::BID { self.bids.levels.len() } else { self.asks.levels.len() }
    }
}

#[cfg(test)]
#[path = "consensus_tests.rs"]
mod tests;
