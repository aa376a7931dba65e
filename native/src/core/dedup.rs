//! Trade dedup across feeds.
//!
//! What counts as the same trade (and nothing else does):
//! 1. The same venue delivering the same non-zero trade id again (a replay after a
//!    reconnect), within `retention_ns` of the first delivery.
//! 2. Trades from two DIFFERENT venues with the same taker side, the same price on the
//!    consensus grid, the same base quantity on the consensus grid, and exchange timestamps
//!    at most `window_ns` apart. A recorded trade absorbs at most one trade per other venue,
//!    so two genuinely different trades of one venue are never folded into one.
//! Two trades of the same venue with different trade ids are never the same trade.

use std::collections::{HashSet, VecDeque};

/// How far back (in arrival order) a cross-venue match is searched.
pub const SCAN_MAX: usize = 512;

#[derive(Clone, Copy, Debug)]
struct Seen {
    ts_ns: i64,
    price: i64,
    qty: i64,
    side: u8,
    venue: u8,
    trade_id: u64,
    merged_mask: u32, // venues whose copy was folded into this trade
}

pub struct TradeDedup {
    window_ns: i64,
    retention_ns: i64,
    recent: VecDeque<Seen>,
    ids: HashSet<(u8, u64)>,
    ts_ns_max: i64,
    pub unique: u64,
    pub duplicates_same_venue: u64,
    pub duplicates_cross_venue: u64,
}

impl TradeDedup {
    pub fn new(window_ns: i64, retention_ns: i64) -> TradeDedup {
        TradeDedup {
            window_ns: window_ns.max(0),
            retention_ns: retention_ns.max(window_ns),
            recent: VecDeque::with_capacity(4096),
            ids: HashSet::with_capacity(4096),
            ts_ns_max: i64::MIN,
            unique: 0,
            duplicates_same_venue: 0,
            duplicates_cross_venue: 0,
        }
    }

    /// Returns true if the trade is new (count it), false if it is a duplicate.
    pub fn check(&mut self, venue: u8, ts_ns: i64, price: i64, qty: i64, side: u8, trade_id: u64) -> bool {
        self.ts_ns_max = self.ts_ns_max.max(ts_ns);
        self.prune();
        if trade_id != 0 && self.ids.contains(&(venue, trade_id)) {
            self.duplicates_same_venue += 1;
            return false;
        }
        let bit = 1u32 << (venue as u32 % 32);
        for s in self.recent.iter_mut().rev().take(SCAN_MAX) {
            if s.venue != venue
                && s.merged_mask & bit == 0
                && s.side == side
                && s.price == price
                && s.qty == qty
                && (s.ts_ns - ts_ns).abs() <= self.window_ns
            {
                s.merged_mask |= bit;
                if trade_id != 0 {
                    self.ids.insert((venue, trade_id));
                }
                self.duplicates_cross_venue += 1;
                return false;
            }
        }
        self.recent.push_back(Seen { ts_ns, price, qty, side, venue, trade_id, merged_mask: 0 });
        if trade_id != 0 {
            self.ids.insert((venue, trade_id));
        }
        self.unique += 1;
        true
    }

    fn prune(&mut self) {
        let horizon = self.ts_ns_max.saturating_sub(self.retention_ns);
        while let Some(f) = self.recent.front() {
            if f.ts_ns >= horizon {
                break;
            }
            if f.trade_id != 0 {
                self.ids.remove(&(f.venue, f.trade_id));
            }
            self.recent.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.recent.len()
    }
    pub fn is_empty(&self) -> bool {
        self.recent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_venue_same_id_is_a_duplicate_other_ids_never() {
        let mut d = TradeDedup::new(1_000_000, 60_000_000_000);
        assert!(d.check(0, 10, 100, 5, 1, 77));
        assert!(!d.check(0, 10, 100, 5, 1, 77));
        assert!(d.check(0, 10, 100, 5, 1, 78)); // same everything, different id: different trade
    }

    #[test]
    fn cross_venue_match_needs_side_price_size_and_window() {
        let mut d = TradeDedup::new(1_000, 60_000_000_000);
        assert!(d.check(0, 1_000_000, 100, 5, 1, 1));
        assert!(!d.check(1, 1_000_500, 100, 5, 1, 9)); // same trade seen through venue 1
        assert!(d.check(2, 1_000_500, 100, 5, 2, 9)); // other side
        assert!(d.check(3, 1_000_500, 101, 5, 1, 9)); // other price
        assert!(d.check(4, 1_000_500, 100, 6, 1, 9)); // other size
        assert!(d.check(5, 1_002_000, 100, 5, 1, 9)); // outside the window
    }

    #[test]
    fn one_trade_absorbs_at_most_one_copy_per_venue() {
        let mut d = TradeDedup::new(1_000, 60_000_000_000);
        assert!(d.check(0, 0, 100, 5, 1, 1));
        assert!(!d.check(1, 10, 100, 5, 1, 2));
        assert!(d.check(1, 20, 100, 5, 1, 3)); // venue 1's second trade is a different trade
    }

    #[test]
    fn retention_forgets_old_ids() {
        let mut d = TradeDedup::new(0, 1_000);
        assert!(d.check(0, 0, 1, 1, 1, 5));
        assert!(d.check(0, 5_000, 1, 1, 1, 6));
        assert!(d.check(0, 5_001, 1, 1, 1, 5)); // id 5 was pruned: counted again (documented)
        assert_eq!(d.len(), 2);
    }
}
