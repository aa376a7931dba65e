//! One side of the consensus book: a price ladder around the touch plus a sorted overflow.
//!
//! Prices are handled as keys where a larger key is always better (bids: the price; asks:
//! `!price`, which reverses the order and cannot overflow), so both sides share one code path.
//!
//! The ladder is `slots` levels on the grid `key = base + i * tick`, stored as structure of
//! arrays (`total`, the per-venue quantities; a slot holds a level while any venue's quantity
//! there is not 0, no separate occupancy is kept): an update on the grid inside
//! the window is O(1), and the best slot with a positive total is kept incrementally (a
//! removal at the touch walks down to the next positive total, usually the next slot).
//! Everything else — levels outside the window, prices off the grid — lives in `overflow`, a
//! vector sorted by key (best last), so any price is accepted and every read merges the two.
//! When many updates miss the ladder the window is re-centred on the side's best level
//! (`RECENTRE_MISSES`), moving levels between the ladder and the overflow. It stays put when
//! that best is already near the top of the window, so deep levels or off-grid prices alone
//! never make it move; a venue whose book is far from the rest (a wildly diverged or crossed
//! feed holding the best price) can pull the window away from the others' touch, which then
//! costs them the overflow's O(log n) path until it leaves, never correctness. A side that
//! becomes empty re-anchors on its next level for free.

use crate::core::consensus::{CLevel, REC_KIND, REC_PRICE, REC_QTY, REC_SIDE, VENUES_MAX};
use crate::core::record::{kind, side, RECORD_SIZE};

/// Ladder slots per side by default (about 300 KB per side); with the instruments' tick this
/// is 4096 ticks, more than any venue's published depth around the touch.
pub const LADDER_SLOTS: usize = 4096;
/// Whether the window should move is checked every `RECENTRE_MISSES / MISS_WEIGHT` (32)
/// updates that miss the ladder. Hits cost nothing here (no decay on the hot path); the
/// check itself is cheap and the window only moves when its best is far from where it
/// should be (a move is O(slots + levels)).
pub const RECENTRE_MISSES: u32 = 256;
pub const MISS_WEIGHT: u32 = 8;
const NONE: usize = usize::MAX;
const _: () = assert!(VENUES_MAX <= 8, "the overflow's venue mask is a u8");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Level {
    key: i64,
    total: i64,
    mask: u8,
    qty: [i64; VENUES_MAX],
}

/// Exact division by the ladder's tick without a divide instruction: tick = 2^shift * odd,
/// `inv` the inverse of `odd` modulo 2^64. For x in [0, 2^64), x is a multiple of the tick
/// iff rotr(x * inv, shift) <= (2^64 - 1) / tick, and then that is x / tick; any other x
/// maps above that bound (Hacker's Delight 10-17), so above every slot index (`base_for`
/// keeps slots * tick below 2^64).
#[derive(Clone, Copy, Debug)]
struct Div {
    inv: u64,
    shift: u32,
}

impl Div {
    fn new(tick: i64) -> Div {
        let t = tick as u64;
        let shift = t.trailing_zeros();
        let odd = t >> shift;
        let mut inv = odd; // Newton's iteration: each step doubles the correct low bits (3, 6, ..., 96)
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)));
        }
        debug_assert_eq!(odd.wrapping_mul(inv), 1);
        Div { inv, shift }
    }
}

/// Whether a key is hidden by a venue's hide key (`CSide::set_hide`): at or above it, and
/// `i64::MAX` hides nothing (so the key `i64::MAX` itself is never hidden).
#[inline(always)]
fn hidden(hide: i64, key: i64) -> bool {
    (key >= hide) & (hide != i64::MAX)
}

/// The slot of `key` on a ladder of `live` slots from `base` (see `Div`): None when it is
/// off the grid or outside the window. The offset is taken modulo 2^64: `base_for` keeps
/// `base + slots * tick` inside i64, so an offset that wrapped never lands on a slot.
#[inline(always)]
fn slot_of(key: i64, base: i64, live: u64, div: Div) -> Option<usize> {
    let d = key.wrapping_sub(base) as u64;
    let i = d.wrapping_mul(div.inv).rotate_right(div.shift);
    if i < live { Some(i as usize) } else { None }
}

#[derive(Clone, Debug)]
pub struct CSide {
    ask: bool,
    tick: i64,
    div: Div,
    base: i64, // key of slot 0
    live_slots: u64, // the ladder length when anchored, else 0 (nothing lands on it)
    total: Vec<i64>,
    qty: Vec<[i64; VENUES_MAX]>,
    best: usize,  // highest slot with total > 0, or NONE
    overflow: Vec<Level>, // sorted by key, best last
    misses: u32,
    scratch: Vec<Level>,
    /// Per venue: keys at or above `hide[v]` do not count in the totals (`set_hide`);
    /// `i64::MAX` hides nothing (`hidden`).
    hide: [i64; VENUES_MAX],
}

impl CSide {
    pub fn new(ask: bool, slots: usize) -> CSide {
        CSide {
            ask,
            tick: 1,
            div: Div::new(1),
            base: 0,
            live_slots: 0,
            total: vec![0; slots],
            qty: vec![[0; VENUES_MAX]; slots],
            best: NONE,
            overflow: Vec::new(),
            misses: 0,
            scratch: Vec::new(),
            hide: [i64::MAX; VENUES_MAX],
        }
    }

    #[inline]
    pub fn key(&self, price: i64) -> i64 {
        if self.ask { !price } else { price }
    }
    #[inline]
    fn price(&self, key: i64) -> i64 {
        if self.ask { !key } else { key }
    }

    #[inline(always)]
    fn slot(&self, key: i64) -> Option<usize> {
        slot_of(key, self.base, self.live_slots, self.div)
    }

    /// Whether ladder slot `i` holds a level (some venue's quantity is not 0).
    #[inline]
    fn held(&self, i: usize) -> bool {
        self.qty[i] != [0; VENUES_MAX]
    }

    /// (base, live slots) of the window, and `slot`: for tests.
    #[cfg(test)]
    pub fn window(&self) -> (i64, u64) {
        (self.base, self.live_slots)
    }
    #[cfg(test)]
    pub fn slot_for_tests(&self, key: i64) -> Option<usize> {
        self.slot(key)
    }

    /// Ladder slots holding any venue's quantity (a scan: only off the hot path).
    fn ladder_count(&self) -> usize {
        self.qty[..self.live_slots as usize].iter().filter(|r| **r != [0; VENUES_MAX]).count()
    }

    fn slot_key(&self, i: usize) -> i64 {
        self.base + i as i64 * self.tick
    }

    fn level_at(&self, i: usize) -> CLevel {
        let key = self.slot_key(i);
        CLevel { price: self.price(key), total: self.total[i], qty: self.shown(key, &self.qty[i]) }
    }

    fn olevel(&self, l: &Level) -> CLevel {
        CLevel { price: self.price(l.key), total: l.total, qty: self.shown(l.key, &l.qty) }
    }

    /// A level's per-venue quantities as the reads give them: a venue's quantity hidden at
    /// this key (`set_hide`) reads as 0, as it is absent from the total.
    #[inline]
    fn shown(&self, key: i64, qty: &[i64; VENUES_MAX]) -> [i64; VENUES_MAX] {
        let mut q = *qty;
        for v in 0..VENUES_MAX {
            if hidden(self.hide[v], key) {
                q[v] = 0;
            }
        }
        q
    }

    /// Whether venue `v`'s quantity at `key` counts in the totals, given that the venue is
    /// `included`: not when the key is hidden for it (`set_hide`).
    #[inline(always)]
    fn counts(&self, v: usize, key: i64, included: bool) -> bool {
        included & !hidden(self.hide[v], key)
    }

    /// Set venue `v`'s quantity at `key`; `included` says whether the venue counts in the
    /// totals (and at this key it counts only below its hide key).
    #[inline(always)]
    pub fn set(&mut self, v: usize, key: i64, qty: i64, included: bool) {
        let included = self.counts(v, key, included);
        match self.slot(key) {
            Some(i) => self.set_slot(i, v, qty, included),
            None => self.set_missed(v, key, qty, included),
        }
    }

    #[cold]
    #[inline(never)]
    fn set_missed(&mut self, v: usize, key: i64, qty: i64, included: bool) {
        // (a side with a positive total on the ladder is not empty: no scan then)
        if qty != 0 && self.overflow.is_empty() && self.best == NONE && self.ladder_count() == 0 {
            self.anchor_on(key); // an empty side follows its first level
            if let Some(i) = self.slot(key) {
                return self.set_slot(i, v, qty, included);
            }
        }
        self.set_overflow(v, key, qty, included);
        self.misses += MISS_WEIGHT;
        if self.misses >= RECENTRE_MISSES {
            self.misses = 0;
            self.maybe_recentre();
        }
    }

    /// Written without data-dependent branches on the common path (inserts, updates and
    /// deletes arrive in random order, and mispredictions were most of the cost).
    #[inline(always)]
    fn set_slot(&mut self, i: usize, v: usize, qty: i64, included: bool) {
        let q = &mut self.qty[i][v];
        let d = qty - *q;
        *q = qty;
        if included {
            self.total[i] += d;
        }
        let t = self.total[i];
        // NONE + 1 wraps to 0, below every slot + 1
        let up = (t > 0) & (i.wrapping_add(1) > self.best.wrapping_add(1));
        self.best = if up { i } else { self.best };
        if (t <= 0) & (i == self.best) {
            self.best = self.scan_down(i);
        }
    }

    /// Apply this side's records of a batch in order: its levels, and clears of this side
    /// or of both (`Consensus::clear_venue`'s rule). Runs of records that land on the ladder
    /// go through `Run::pass`; any other record (off the window or the grid, an empty side,
    /// a clear) through `set`/`clear_venue`. Returns how many records were levels (of any
    /// side) or clears, as `Consensus::apply_bytes` counts them.
    #[inline(always)]
    pub(crate) fn apply_records<const ASK: bool>(&mut self, v: usize, included: bool, bytes: &[u8], conv: &impl Fn(i64, i64) -> (i64, i64)) -> usize {
        assert!(v < VENUES_MAX, "venue index out of range"); // `Run::set` relies on it
        debug_assert_eq!(ASK, self.ask);
        let mut rest = bytes;
        let mut n = 0;
        // a record at or above the venue's hide key leaves the run for `set` (which does
        // not count it); nothing is counted for a venue not included, so no limit then
        let lim = if included { self.hide[v] } else { i64::MAX };
        loop {
            let mut run = self.open();
            let (k, stop) = if included { run.pass::<ASK, true>(v, lim, rest, conv) } else { run.pass::<ASK, false>(v, lim, rest, conv) };
            run.close();
            n += k;
            let Some(at) = stop else { return n };
            let rec = &rest[at..at + RECORD_SIZE];
            if rec[REC_KIND] == kind::BOOK_LEVEL {
                let (p, q) = conv(field(rec, REC_PRICE), field(rec, REC_QTY));
                self.set(v, self.key(p), q, included);
            } else {
                self.clear_venue(v, included);
            }
            n += 1;
            rest = &rest[at + RECORD_SIZE..];
        }
    }

    /// The ladder opened for a run of updates (see `Run`).
    #[inline(always)]
    fn open(&mut self) -> Run<'_> {
        let live = self.live_slots;
        Run {
            base: self.base,
            live,
            div: self.div,
            cand: self.best.wrapping_add(1),
            total: &mut self.total[..live as usize],
            qty: &mut self.qty[..live as usize],
            best: &mut self.best,
        }
    }

    /// Highest slot below `i` with a positive total.
    fn scan_down(&self, i: usize) -> usize {
        self.total[..i].iter().rposition(|&t| t > 0).unwrap_or(NONE)
    }

    fn find(&self, key: i64) -> Result<usize, usize> {
        self.overflow.binary_search_by(|l| l.key.cmp(&key))
    }

    fn set_overflow(&mut self, v: usize, key: i64, qty: i64, included: bool) {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                if qty == 0 {
                    return;
                }
                self.overflow.insert(i, Level { key, total: 0, mask: 0, qty: [0; VENUES_MAX] });
                i
            }
        };
        let l = &mut self.overflow[i];
        if included {
            l.total += qty - l.qty[v];
        }
        l.qty[v] = qty;
        if qty != 0 {
            l.mask |= 1 << v;
        } else {
            l.mask &= !(1u8 << v);
            if l.mask == 0 {
                self.overflow.remove(i);
            }
        }
    }

    /// Remove everything venue `v` contributes.
    pub fn clear_venue(&mut self, v: usize, included: bool) {
        let hide = self.hide[v];
        self.for_venue_slots(v, |key, t, q| {
            if included & !hidden(hide, key) {
                *t -= *q;
            }
            *q = 0;
        });
        let bit = 1u8 << v;
        for l in self.overflow.iter_mut().filter(|l| l.mask & bit != 0) {
            if included & !hidden(hide, l.key) {
                l.total -= l.qty[v];
            }
            l.qty[v] = 0;
            l.mask &= !bit;
        }
        self.overflow.retain(|l| l.mask != 0);
    }

    /// Add (`sign` 1) or remove (`sign` -1) venue `v`'s quantities to or from the totals.
    /// (Keys hidden for the venue, `set_hide`, stay out either way.)
    pub fn include(&mut self, v: usize, sign: i64) {
        let hide = self.hide[v];
        self.for_venue_slots(v, |key, t, q| {
            if !hidden(hide, key) {
                *t += sign * *q
            }
        });
        let bit = 1u8 << v;
        for l in self.overflow.iter_mut().filter(|l| l.mask & bit != 0 && !hidden(hide, l.key)) {
            l.total += sign * l.qty[v];
        }
    }

    /// Hide venue `v`'s quantities at keys `>= key` from the totals (`i64::MAX`: hide
    /// nothing); `included` says whether the venue counts at all (then only the totals of
    /// the levels between the old and the new hide key change). Its quantities stay
    /// stored, so raising the key back restores the totals exactly. O(levels between the
    /// two keys) on the ladder, plus a scan of the overflow.
    pub fn set_hide(&mut self, v: usize, key: i64, included: bool) {
        let old = self.hide[v];
        if old == key {
            return;
        }
        self.hide[v] = key;
        if !included {
            return;
        }
        let (lo, hi, sign) = if key < old { (key, old, -1) } else { (old, key, 1) };
        // keys in [lo, hi) change: hidden now (sign -1) or counted again (sign 1)
        let mut top = NONE;
        if self.live_slots != 0 {
            let t = self.tick as i128;
            let first = ((lo as i128 - self.base as i128) + t - 1).div_euclid(t).max(0);
            let last = ((hi as i128 - 1 - self.base as i128).div_euclid(t)).min(self.live_slots as i128 - 1);
            if first <= last {
                for i in first as usize..=last as usize {
                    let q = self.qty[i][v];
                    if q != 0 {
                        self.total[i] += sign * q;
                        if self.total[i] > 0 {
                            top = i;
                        }
                    }
                }
            }
        }
        for l in self.overflow.iter_mut().filter(|l| l.key >= lo && l.key < hi) {
            l.total += sign * l.qty[v];
        }
        self.repair_best(top);
    }

    /// The hide key of venue `v` (`set_hide`).
    pub fn hide_key(&self, v: usize) -> i64 {
        self.hide[v]
    }

    /// Repair `best` after totals changed: it may have lost its positive total, and `top`
    /// (a slot changed to a positive total, the highest such; NONE if none) may be above it.
    fn repair_best(&mut self, top: usize) {
        if self.best != NONE && self.total[self.best] <= 0 {
            self.best = self.scan_down(self.best);
        }
        if top != NONE && (self.best == NONE || top > self.best) {
            self.best = top;
        }
    }

    /// Apply `f(key, total, qty[v])` to every ladder slot holding venue `v`, then repair
    /// `best`.
    fn for_venue_slots(&mut self, v: usize, mut f: impl FnMut(i64, &mut i64, &mut i64)) {
        let mut top = NONE;
        for i in 0..self.live_slots as usize {
            if self.qty[i][v] != 0 {
                let key = self.base + i as i64 * self.tick;
                f(key, &mut self.total[i], &mut self.qty[i][v]);
                if self.total[i] > 0 {
                    top = i; // ascending: the last one is the highest
                }
            }
        }
        self.repair_best(top);
    }

    // -- window placement --------------------------------------------------------------------

    fn base_for(&self, key: i64, tick: i64) -> Option<i64> {
        // Phase 0 on the tick grid (venue prices are multiples of their tick), with the given
        // key a quarter of the window below the top.
        let t = tick as i128;
        let below = (self.total.len() - self.total.len() / 4) as i128;
        let base = (key as i128).div_euclid(t) * t - below * t;
        let top = base + self.total.len() as i128 * t;
        if base < i64::MIN as i128 || top > i64::MAX as i128 { None } else { Some(base as i64) }
    }

    fn anchor_on(&mut self, key: i64) {
        if let Some(b) = self.base_for(key, self.tick) {
            self.base = b;
            self.live_slots = self.total.len() as u64;
            self.best = NONE;
        }
    }

    /// Key the window should follow: the best positive total, else the best level.
    fn target(&self) -> Option<i64> {
        self.best_level().map(|l| self.key(l.price)).or_else(|| {
            let lad = self.qty.iter().rposition(|r| *r != [0; VENUES_MAX]).map(|i| self.slot_key(i));
            let ovf = self.overflow.last().map(|l| l.key);
            lad.max(ovf)
        })
    }

    fn maybe_recentre(&mut self) {
        let Some(t) = self.target() else { return };
        let Some(b) = self.base_for(t, self.tick) else { return };
        let shift = (b as i128 - self.base as i128).unsigned_abs();
        if self.live_slots != 0 && shift <= (self.total.len() / 16) as u128 * self.tick as u128 {
            return; // already about right (the misses are deep levels or off-grid prices)
        }
        self.rebuild(Some(b), self.tick);
    }

    /// Move every level onto a window of step `tick` starting at key `base`, or all to the
    /// overflow.
    fn rebuild(&mut self, base: Option<i64>, tick: i64) {
        let mut all = std::mem::take(&mut self.scratch);
        all.clear();
        let mut ladder = Vec::with_capacity(self.ladder_count());
        for i in 0..self.qty.len() {
            if self.held(i) {
                let mask = self.qty[i].iter().enumerate().fold(0u8, |m, (v, &q)| if q != 0 { m | 1 << v } else { m });
                ladder.push(Level { key: self.slot_key(i), total: self.total[i], mask, qty: self.qty[i] });
                self.total[i] = 0;
                self.qty[i] = [0; VENUES_MAX];
            }
        }
        // merge two ascending lists
        let (mut a, mut b) = (ladder.into_iter().peekable(), self.overflow.drain(..).peekable());
        loop {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.key < y.key,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            all.push(if take_a { a.next().unwrap() } else { b.next().unwrap() });
        }
        drop(b);
        self.tick = tick;
        self.div = Div::new(tick);
        self.base = base.unwrap_or(0);
        self.live_slots = if base.is_some() { self.total.len() as u64 } else { 0 };
        self.best = NONE;
        for l in all.drain(..) {
            match self.slot(l.key) {
                Some(i) => {
                    self.total[i] = l.total;
                    self.qty[i] = l.qty;
                    if l.total > 0 {
                        self.best = i;
                    }
                }
                None => self.overflow.push(l),
            }
        }
        self.scratch = all;
    }

    /// Change the grid step of the ladder (prices off it stay correct, in the overflow).
    pub fn set_tick(&mut self, tick: i64) {
        assert!(tick > 0, "tick must be positive");
        match self.target() {
            Some(t) => self.rebuild(self.base_for(t, tick), tick),
            None => {
                self.tick = tick;
                self.div = Div::new(tick);
                self.live_slots = 0;
            }
        }
    }

    // -- reads -------------------------------------------------------------------------------

    /// Best level with a positive total.
    pub fn best_level(&self) -> Option<CLevel> {
        let o = self.overflow.iter().rev().find(|l| l.total > 0);
        match (self.best, o) {
            (NONE, None) => None,
            (NONE, Some(l)) => Some(self.olevel(l)),
            (i, Some(l)) if l.key > self.slot_key(i) => Some(self.olevel(l)),
            (i, _) => Some(self.level_at(i)),
        }
    }

    /// (price, total) of the best level with a positive total: best_level() without the
    /// per-venue breakdown.
    #[inline]
    pub fn best_price_total(&self) -> Option<(i64, i64)> {
        let o = self.overflow.iter().rev().find(|l| l.total > 0);
        match (self.best, o) {
            (NONE, None) => None,
            (NONE, Some(l)) => Some((self.price(l.key), l.total)),
            (i, Some(l)) if l.key > self.slot_key(i) => Some((self.price(l.key), l.total)),
            (i, _) => Some((self.price(self.slot_key(i)), self.total[i])),
        }
    }

    /// Top `n` levels with a positive total, best first.
    pub fn top(&self, n: usize) -> Vec<CLevel> {
        let mut out = Vec::with_capacity(n.min(64));
        let mut i = self.best; // slots above `best` have no positive total
        let mut o = self.overflow.iter().rev().filter(|l| l.total > 0).peekable();
        while out.len() < n {
            while i != NONE && self.total[i] <= 0 {
                i = i.checked_sub(1).unwrap_or(NONE);
            }
            let take_ladder = match (i, o.peek()) {
                (NONE, None) => break,
                (NONE, Some(_)) => false,
                (_, None) => true,
                (i, Some(l)) => self.slot_key(i) > l.key,
            };
            if take_ladder {
                out.push(self.level_at(i));
                i = i.checked_sub(1).unwrap_or(NONE);
            } else {
                let l = o.next().unwrap();
                out.push(self.olevel(l));
            }
        }
        out
    }

    pub fn at(&self, key: i64) -> Option<CLevel> {
        match self.slot(key) {
            Some(i) => self.held(i).then(|| self.level_at(i)),
            None => self.find(key).ok().map(|i| self.olevel(&self.overflow[i])),
        }
    }

    /// Sums over levels with keys in `[klo, khi]`: each included venue's quantity and the total.
    pub fn depth_between(&self, klo: i64, khi: i64, included: &[bool; VENUES_MAX]) -> ([i64; VENUES_MAX], i64) {
        let mut per = [0i64; VENUES_MAX];
        let mut total = 0;
        let hide = self.hide;
        let mut add = |key: i64, t: i64, q: &[i64; VENUES_MAX]| {
            for v in 0..VENUES_MAX {
                if included[v] & !hidden(hide[v], key) {
                    per[v] += q[v];
                }
            }
            total += t;
        };
        if self.live_slots != 0 && klo <= khi {
            let t = self.tick as i128;
            let lo = ((klo as i128 - self.base as i128) + t - 1).div_euclid(t).max(0);
            let hi = (khi as i128 - self.base as i128).div_euclid(t).min(self.total.len() as i128 - 1);
            if lo <= hi {
                for i in lo as usize..=hi as usize {
                    if self.held(i) {
                        add(self.base + i as i64 * self.tick, self.total[i], &self.qty[i]);
                    }
                }
            }
        }
        let start = self.overflow.partition_point(|l| l.key < klo);
        for l in self.overflow[start..].iter().take_while(|l| l.key <= khi) {
            add(l.key, l.total, &l.qty);
        }
        (per, total)
    }

    pub fn levels(&self) -> usize {
        self.ladder_count() + self.overflow.len()
    }

    /// Levels held on the ladder (the rest are in the overflow).
    pub fn ladder_levels(&self) -> usize {
        self.ladder_count()
    }
}

/// One side's ladder during a run of updates that all land on it. `best` (the highest slot
/// with a positive total) is not maintained per update: the run keeps `cand`, one more than
/// the highest slot that was `best` when it opened or got a positive total during the run,
/// and `close` settles `best` from it. Every slot above `cand - 1` had no positive total
/// when the run opened (they were above `best`) and none was given one (it would have
/// raised `cand`), so `best` is `cand - 1` if that slot is still positive, else the next
/// positive slot below it: one compare per update instead of a read-modify-write of `best`
/// (a dependency from each update to the next) and a branch.
struct Run<'a> {
    base: i64,
    live: u64,
    div: Div,
    cand: usize, // 0: none
    total: &'a mut [i64],
    qty: &'a mut [[i64; VENUES_MAX]],
    best: &'a mut usize,
}

impl Run<'_> {
    /// Apply records while they land on the ladder; one side per pass keeps the loop's state
    /// in registers. Returns (levels and clears counted, offset of the first record of this
    /// side that needs the general path).
    #[inline(always)]
    /// `lim`: the venue's hide key; a record at or above it leaves the run too.
    fn pass<const ASK: bool, const INC: bool>(&mut self, v: usize, lim: i64, bytes: &[u8], conv: &impl Fn(i64, i64) -> (i64, i64)) -> (usize, Option<usize>) {
        let (this, other) = if ASK { (side::ASK, side::BID) } else { (side::BID, side::ASK) };
        let mut n = 0;
        for (j, rec) in bytes.chunks_exact(RECORD_SIZE).enumerate() {
            let (k, sd) = (rec[REC_KIND], rec[REC_SIDE]);
            if k == kind::BOOK_LEVEL {
                if sd == this {
                    let (p, q) = conv(field(rec, REC_PRICE), field(rec, REC_QTY));
                    let key = if ASK { !p } else { p };
                    match slot_of(key, self.base, self.live, self.div) {
                        Some(i) if key < lim => self.set::<INC>(i, v, q),
                        _ => return (n, Some(j * RECORD_SIZE)),
                    }
                }
                n += 1;
            } else if k == kind::BOOK_CLEAR {
                if sd != other {
                    return (n, Some(j * RECORD_SIZE));
                }
                n += 1;
            }
        }
        (n, None)
    }

    /// Venue `v`'s quantity at slot `i` (from `slot_of`, so below `live`, the slices' length).
    #[inline(always)]
    fn set<const INC: bool>(&mut self, i: usize, v: usize, qty: i64) {
        debug_assert!(i < self.total.len() && v < VENUES_MAX);
        // SAFETY: `slot_of` returns only i < live, every slice is `live` long, v < VENUES_MAX.
        let (q, t) = unsafe { (self.qty.get_unchecked_mut(i).get_unchecked_mut(v), self.total.get_unchecked_mut(i)) };
        let d = qty - *q;
        *q = qty;
        if INC {
            *t += d;
        }
        let c = if *t > 0 { i + 1 } else { 0 };
        self.cand = self.cand.max(c);
    }

    /// Settle `best` (see `Run`).
    #[inline(always)]
    fn close(self) {
        *self.best = match self.cand.checked_sub(1) {
            None => NONE,
            Some(i) if self.total[i] > 0 => i,
            Some(i) => self.total[..i].iter().rposition(|&t| t > 0).unwrap_or(NONE),
        };
    }
}

/// An i64 field of a record (unaligned: NumPy buffers need not be 64-aligned).
#[inline(always)]
fn field(rec: &[u8], off: usize) -> i64 {
    i64::from_le_bytes(rec[off..off + 8].try_into().unwrap())
}
