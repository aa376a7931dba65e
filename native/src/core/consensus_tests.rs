use super::*;
use std::collections::BTreeMap;

#[test]
fn depth_is_the_sum_of_venue_depths_and_keeps_contributions() {
    let mut c = Consensus::new();
    c.set(0, side::BID, 100, 5);
    c.set(1, side::BID, 100, 7);
    c.set(2, side::BID, 99, 1);
    c.set(1, side::ASK, 101, 3);
    let l = c.at(side::BID, 100).unwrap();
    assert_eq!((l.total, l.qty[0], l.qty[1]), (12, 5, 7));
    c.set(0, side::BID, 100, 2);
    assert_eq!(c.at(side::BID, 100).unwrap().total, 9);
    c.set(1, side::BID, 100, 0);
    c.set(0, side::BID, 100, 0);
    assert!(c.at(side::BID, 100).is_none());
    assert_eq!(c.best_bid().unwrap().price, 99);
    assert_eq!(c.best_ask().unwrap().price, 101);
}

#[test]
fn excluded_venue_leaves_totals_and_comes_back_exactly() {
    let mut c = Consensus::new();
    c.set(0, side::BID, 100, 5);
    c.set(1, side::BID, 101, 7);
    c.set_included(1, false);
    assert_eq!(c.best_bid().unwrap().price, 100); // 101 only has the excluded venue
    c.set(1, side::BID, 101, 8); // updates while excluded are kept, not counted
    assert_eq!(c.top(side::BID, 10).len(), 1);
    c.set_included(1, true);
    let b = c.best_bid().unwrap();
    assert_eq!((b.price, b.total), (101, 8));
}

#[test]
fn clear_venue_removes_only_that_venue() {
    let mut c = Consensus::new();
    c.set(0, side::ASK, 10, 1);
    c.set(1, side::ASK, 10, 2);
    c.set(1, side::ASK, 11, 2);
    c.clear_venue(1, 0);
    assert_eq!(c.levels(side::ASK), 1);
    assert_eq!(c.at(side::ASK, 10).unwrap().total, 1);
}

#[test]
fn scales_convert_contracts_and_grids() {
    // OKX BTC-USDT-SWAP: 1 contract = 0.01 BTC; venue qty exponent 2 (0.01 contracts),
    // consensus qty exponent 8: qty_c = q * 0.01 * 10^(8-2) = q * 10^4.
    let okx = VenueScale { price_mul: 10, qty_mul: 10_000, qty_div: 1, inverse: false };
    assert_eq!(okx.qty(300, 0), 3_000_000); // 3 contracts = 0.03 BTC = 3,000,000e-8
    assert_eq!(okx.price(650001), 6500010); // 65000.1 at exp 1 -> exp 2
    // Inverse: 100 contracts x 10 USD at 50,000.00 (exp 2) -> 0.02 BTC at exp 8.
    // qty_c = q * cv * 10^8 * 10^2 / price_c
    let inv = VenueScale { price_mul: 1, qty_mul: 10 * 100_000_000 * 100, qty_div: 1, inverse: true };
    assert_eq!(inv.qty(100, 5_000_000), 2_000_000);
}

#[test]
fn random_updates_match_a_model() {
    let mut c = Consensus::new();
    let mut model: BTreeMap<(u8, i64), [i64; VENUES_MAX]> = BTreeMap::new();
    let mut x: u64 = 12345;
    let mut excluded = [false; VENUES_MAX];
    for step in 0..30_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = (x % 5) as usize;
        let s = if (x >> 3) & 1 == 0 { side::BID } else { side::ASK };
        let p = 1000 + ((x >> 5) % 50) as i64;
        let q = if (x >> 12) % 3 == 0 { 0 } else { ((x >> 16) % 100) as i64 };
        if step % 997 == 0 {
            excluded[v] = !excluded[v];
            c.set_included(v, !excluded[v]);
        }
        c.set(v, s, p, q);
        model.entry((s, p)).or_insert([0; VENUES_MAX])[v] = q;
    }
    for ((s, p), qs) in &model {
        let total: i64 = (0..VENUES_MAX).filter(|&v| !excluded[v]).map(|v| qs[v]).sum();
        match c.at(*s, *p) {
            Some(l) => {
                assert_eq!(l.qty, *qs);
                assert_eq!(l.total, total);
            }
            None => assert!(qs.iter().all(|&q| q == 0)),
        }
    }
}

// -- the ladder + overflow structure -------------------------------------------------------

/// Reference: per side, price -> quantity per venue; totals and reads computed from scratch.
struct Model {
    sides: [BTreeMap<i64, [i64; VENUES_MAX]>; 2],
    included: [bool; VENUES_MAX],
    /// per side (bid, ask), per venue: the price from which its levels are hidden
    hide: [[Option<i64>; VENUES_MAX]; 2],
}

impl Model {
    fn new() -> Model {
        Model { sides: [BTreeMap::new(), BTreeMap::new()], included: [true; VENUES_MAX], hide: [[None; VENUES_MAX]; 2] }
    }
    /// Whether venue `v`'s level at `p` on side `s` is hidden (bids at or above, asks at or
    /// below the hide price).
    fn hidden(&self, s: u8, v: usize, p: i64) -> bool {
        match self.hide[(s == side::ASK) as usize][v] {
            None => false,
            Some(h) => if s == side::BID { p >= h } else { p <= h },
        }
    }
    fn side(&mut self, s: u8) -> &mut BTreeMap<i64, [i64; VENUES_MAX]> {
        &mut self.sides[(s == side::ASK) as usize]
    }
    fn set(&mut self, v: usize, s: u8, p: i64, q: i64) {
        let m = self.side(s);
        m.entry(p).or_insert([0; VENUES_MAX])[v] = q;
        if m[&p].iter().all(|&x| x == 0) {
            m.remove(&p);
        }
    }
    fn clear(&mut self, v: usize, s: u8) {
        for si in [side::BID, side::ASK] {
            if s == 0 || s == si {
                let m = self.side(si);
                for qs in m.values_mut() {
                    qs[v] = 0;
                }
                m.retain(|_, qs| qs.iter().any(|&x| x != 0));
            }
        }
    }
    fn level(&self, s: u8, p: i64, qs: &[i64; VENUES_MAX]) -> CLevel {
        let mut shown = *qs;
        for v in 0..VENUES_MAX {
            if self.hidden(s, v, p) {
                shown[v] = 0;
            }
        }
        let total = (0..VENUES_MAX).filter(|&v| self.included[v]).map(|v| shown[v]).sum();
        CLevel { price: p, total, qty: shown }
    }
    fn top(&self, s: u8, n: usize) -> Vec<CLevel> {
        let m = &self.sides[(s == side::ASK) as usize];
        let all: Box<dyn Iterator<Item = (&i64, &[i64; VENUES_MAX])>> =
            if s == side::BID { Box::new(m.iter().rev()) } else { Box::new(m.iter()) };
        all.map(|(p, qs)| self.level(s, *p, qs)).filter(|l| l.total > 0).take(n).collect()
    }
    fn depth(&self, s: u8, lo: i64, hi: i64) -> ([i64; VENUES_MAX], i64) {
        let mut per = [0; VENUES_MAX];
        let mut total = 0;
        for (p, qs) in self.sides[(s == side::ASK) as usize].range(lo..=hi) {
            let l = self.level(s, *p, qs);
            for v in 0..VENUES_MAX {
                if self.included[v] {
                    per[v] += l.qty[v];
                }
            }
            total += l.total;
        }
        (per, total)
    }
}

fn check(c: &Consensus, m: &Model, probes: &[i64]) {
    let touch = match (m.top(side::BID, 1).first(), m.top(side::ASK, 1).first()) {
        (Some(b), Some(a)) => Some((b.price, b.total, a.price, a.total)),
        _ => None,
    };
    assert_eq!(c.touch(), touch);
    for s in [side::BID, side::ASK] {
        let want = m.top(s, usize::MAX);
        assert_eq!(c.top(s, usize::MAX), want, "top side {s}");
        assert_eq!(c.top(s, 3), want.iter().take(3).copied().collect::<Vec<_>>());
        let best = if s == side::BID { c.best_bid() } else { c.best_ask() };
        assert_eq!(best, want.first().copied());
        let mside = &m.sides[(s == side::ASK) as usize];
        assert_eq!(c.levels(s), mside.len());
        for (p, qs) in mside {
            assert_eq!(c.at(s, *p), Some(m.level(s, *p, qs)));
        }
        for &p in probes {
            assert_eq!(c.at(s, p), mside.get(&p).map(|qs| m.level(s, p, qs)));
            for w in [0, 3, 40, 1000] {
                let hi = p.saturating_add(w);
                assert_eq!(c.depth_between(s, p, hi), m.depth(s, p, hi), "depth {s} [{p}, {hi}]");
            }
        }
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random walk of five venues' touches (crossing each other), deep levels, off-grid prices,
/// far outliers, clears, exclusions and tick changes, on ladders small enough that the
/// window moves often; every read checked against the model as it goes.
fn run_against_model(slots: usize, seed: u64, steps: usize) -> Consensus {
    let mut c = Consensus::with_ladder(slots);
    let mut m = Model::new();
    let mut r = Rng(seed);
    let mut mid = 1_000_000i64;
    let mut tick = 1i64;
    let mut probes = vec![];
    for step in 0..steps {
        if step % 50 == 0 {
            mid += r.below(2001) as i64 - 1000; // the touch jumps far (forces re-centring)
        } else {
            mid += r.below(3) as i64 - 1;
        }
        let v = r.below(5) as usize;
        let s = if r.below(2) == 0 { side::BID } else { side::ASK };
        let venue_skew = (v as i64 - 2) * 3; // venues quote a few ticks apart: the book crosses
        let off = match r.below(20) {
            0 => r.below(slots as u64 * 4) as i64, // deep, often outside the window
            1 => return_outlier(&mut r),
            _ => r.below(12) as i64,
        };
        let mut p = if s == side::BID { mid + venue_skew - 1 - off } else { mid + venue_skew + 1 + off };
        if off.unsigned_abs() < 1 << 40 && r.below(10) != 0 {
            p = p.div_euclid(tick) * tick; // mostly on the grid, sometimes off it
        }
        let q = if r.below(4) == 0 { 0 } else { 1 + r.below(1000) as i64 };
        c.set(v, s, p, q);
        m.set(v, s, p, q);
        match r.below(400) {
            0 => {
                let cs = [0, side::BID, side::ASK][r.below(3) as usize];
                c.clear_venue(v, cs);
                m.clear(v, cs);
            }
            1 | 2 => {
                let inc = !m.included[v];
                c.set_included(v, inc);
                m.included[v] = inc;
            }
            3 => {
                tick = [1, 2, 5, 10][r.below(4) as usize];
                c.set_tick(tick);
            }
            4..=9 => hide_at_random(&mut c, &mut m, &mut r, v, mid),
            _ => {}
        }
        if step % 97 == 0 {
            probes = vec![p, mid, mid - 7, mid + 7, p.saturating_sub(20)];
            check(&c, &m, &probes);
        }
    }
    check(&c, &m, &probes);
    c
}

/// Hide (or show again) venue `v`'s levels on a random side from a price near `mid`, in the
/// consensus and the model alike.
fn hide_at_random(c: &mut Consensus, m: &mut Model, r: &mut Rng, v: usize, mid: i64) {
    let s = [side::BID, side::ASK][r.below(2) as usize];
    let price = match r.below(5) {
        0 => None,
        1 => Some(mid + r.below(200_000) as i64 - 100_000), // far: often outside the window
        _ => Some(mid + r.below(41) as i64 - 20),
    };
    c.set_hide(v, s, price);
    m.hide[(s == side::ASK) as usize][v] = price;
    assert_eq!(c.hidden_from(v, s), price);
}

#[test]
fn hidden_levels_leave_the_totals_and_come_back_exactly() {
    let mut c = Consensus::new();
    c.set(0, side::BID, 100, 5);
    c.set(0, side::BID, 99, 7);
    c.set(1, side::BID, 100, 3);
    c.set(1, side::ASK, 101, 4);
    c.set(0, side::ASK, 100, 2); // venue 0's ask crosses venue 1's bid
    c.set_hide(0, side::ASK, Some(100)); // venue 0's asks at 100 and below leave
    assert_eq!(c.touch(), Some((100, 8, 101, 4)));
    assert_eq!(c.at(side::ASK, 100).unwrap().qty[0], 0, "a hidden quantity reads as 0");
    c.set(0, side::ASK, 100, 9); // an update to a hidden level: kept, not counted
    assert_eq!(c.touch(), Some((100, 8, 101, 4)));
    c.set_hide(0, side::BID, Some(100)); // venue 0's bids at 100 and above leave
    assert_eq!(c.touch(), Some((100, 3, 101, 4)));
    assert_eq!(c.depth_between(side::BID, 99, 100), ([7, 3, 0, 0, 0, 0, 0, 0], 10));
    c.set_included(0, false);
    c.set_included(0, true); // re-inclusion keeps the hide
    assert_eq!(c.touch(), Some((100, 3, 101, 4)));
    c.set_hide(0, side::ASK, None);
    c.set_hide(0, side::BID, None);
    assert_eq!(c.touch(), Some((100, 8, 100, 9)), "shown again with the update made while hidden");
    c.clear_venue(0, 0);
    assert_eq!(c.touch(), Some((100, 3, 101, 4)));
}

fn return_outlier(r: &mut Rng) -> i64 {
    match r.below(3) {
        0 => r.below(1 << 40) as i64,
        1 => i64::MAX / 2 - 1_000_000, // keeps mid ± off inside i64
        _ => -(r.below(1 << 30) as i64) - 2_000_000, // below zero: a crossing outlier
    }
}

#[test]
fn ladder_and_overflow_match_the_model() {
    for (slots, seed) in [(4, 1), (8, 2), (16, 3), (64, 4), (LADDER_SLOTS, 5)] {
        run_against_model(slots, seed, 20_000);
    }
}

/// Levels found on the ladder (summed over steps) while the touch walks `steps` ticks up.
fn walk_up(slots: usize, steps: i64) -> (Consensus, usize) {
    let mut c = Consensus::with_ladder(slots);
    let mut on_ladder = 0;
    for step in 0..steps {
        let mid = 1_000_000 + step;
        for k in 0..5 {
            c.set(0, side::BID, mid - 1 - k, 5);
            c.set(0, side::ASK, mid + 1 + k, 5);
        }
        c.set(0, side::BID, mid - 6, 0);
        c.set(0, side::ASK, mid, 0);
        on_ladder += c.ladder_levels(side::BID) + c.ladder_levels(side::ASK);
    }
    (c, on_ladder)
}

#[test]
fn window_follows_the_touch_far_away() {
    // 20,000 ticks up, far past the window: it keeps moving with the touch.
    for (slots, pct_min) in [(64, 75), (1024, 98)] {
        let (c, on_ladder) = walk_up(slots, 20_000);
        let (b, a) = (c.best_bid().unwrap(), c.best_ask().unwrap());
        assert_eq!((b.price, a.price), (1_019_998, 1_020_000));
        assert_eq!((c.levels(side::BID), c.levels(side::ASK)), (5, 5));
        assert!(on_ladder * 100 >= 200_000 * pct_min, "{slots} slots: {on_ladder} / 200,000 levels on the ladder");
    }
}

#[test]
fn far_away_and_extreme_prices_are_exact() {
    let mut c = Consensus::new();
    c.set(0, side::BID, 100, 1);
    for p in [i64::MIN, -5, 0, i64::MAX, 1 << 50] {
        c.set(1, side::BID, p, 2);
        c.set(1, side::ASK, p, 3);
    }
    assert_eq!(c.best_bid().unwrap().price, i64::MAX);
    assert_eq!(c.best_ask().unwrap().price, i64::MIN);
    let bids: Vec<i64> = c.top(side::BID, 10).iter().map(|l| l.price).collect();
    assert_eq!(bids, vec![i64::MAX, 1 << 50, 100, 0, -5, i64::MIN]);
    assert_eq!(c.at(side::ASK, i64::MAX).unwrap().qty[1], 3);
    assert_eq!(c.depth_between(side::BID, i64::MIN, i64::MAX).1, 11);
    assert_eq!(c.depth_between(side::ASK, -5, 0).1, 6);
    c.clear_venue(1, 0);
    assert_eq!((c.levels(side::BID), c.levels(side::ASK)), (1, 0));
    assert_eq!(c.best_bid().unwrap().price, 100);
    assert_eq!(c.ladder_levels(side::BID), 1);
}

#[test]
fn crossing_venues_keep_both_sides_independent() {
    let mut c = Consensus::with_ladder(16);
    c.set(0, side::BID, 105, 1); // venue 0 bids above venue 1's ask
    c.set(1, side::ASK, 100, 2);
    c.set(1, side::BID, 99, 4);
    c.set(0, side::ASK, 106, 3);
    assert_eq!((c.best_bid().unwrap().price, c.best_ask().unwrap().price), (105, 100));
    assert_eq!(c.depth_between(side::BID, 99, 106), ([1, 4, 0, 0, 0, 0, 0, 0], 5));
    assert_eq!(c.depth_between(side::ASK, 99, 106), ([3, 2, 0, 0, 0, 0, 0, 0], 5));
    c.set_included(0, false);
    assert_eq!((c.best_bid().unwrap().price, c.best_ask().unwrap().price), (99, 100));
    c.set_included(0, true);
    assert_eq!(c.best_bid().unwrap().price, 105);
}

#[test]
fn empty_sides_read_as_empty() {
    let mut c = Consensus::with_ladder(8);
    for s in [side::BID, side::ASK] {
        assert_eq!(c.top(s, 5), vec![]);
        assert_eq!(c.levels(s), 0);
        assert_eq!(c.at(s, 100), None);
        assert_eq!(c.depth_between(s, i64::MIN, i64::MAX), ([0; VENUES_MAX], 0));
    }
    assert!(c.best_bid().is_none() && c.best_ask().is_none());
    c.clear_venue(3, 0);
    c.set_included(3, false);
    c.set(3, side::BID, 100, 0); // deleting nothing creates nothing
    assert_eq!(c.levels(side::BID), 0);
    c.set(3, side::BID, 100, 7); // only an excluded venue: a level, but no best
    assert_eq!((c.levels(side::BID), c.best_bid()), (1, None));
    c.set(3, side::BID, 100, 0);
    c.set(2, side::BID, 5_000_000, 1); // an emptied side re-anchors on its next level
    assert_eq!(c.ladder_levels(side::BID), 1);
    assert_eq!(c.best_bid().unwrap().price, 5_000_000);
}

#[test]
fn snapshots_replace_one_venue_and_leave_the_others() {
    use crate::core::record::flags;
    let rec = |k: u8, s: u8, p: i64, q: i64| Record { kind: k, side: s, flags: flags::F_SNAPSHOT, price: p, qty: q, ..Default::default() };
    let bytes = |rs: &[Record]| -> Vec<u8> {
        rs.iter().flat_map(|r| unsafe { std::slice::from_raw_parts(r as *const Record as *const u8, RECORD_SIZE) }.to_vec()).collect()
    };
    let mut c = Consensus::with_ladder(16);
    c.set_tick(10);
    c.set(1, side::BID, 990, 9);
    let first = [rec(kind::BOOK_CLEAR, 0, 0, 0), rec(kind::BOOK_LEVEL, side::BID, 1000, 1), rec(kind::BOOK_LEVEL, side::ASK, 1010, 2)];
    assert_eq!(c.apply_bytes(0, &bytes(&first)), 3);
    let second = [rec(kind::BOOK_CLEAR, 0, 0, 0), rec(kind::BOOK_LEVEL, side::BID, 2000, 3), rec(kind::BOOK_LEVEL, side::ASK, 2015, 4)];
    c.apply_bytes(0, &bytes(&second));
    let bids: Vec<(i64, i64)> = c.top(side::BID, 5).iter().map(|l| (l.price, l.total)).collect();
    assert_eq!(bids, vec![(2000, 3), (990, 9)]);
    assert_eq!(c.best_ask().unwrap().price, 2015); // off the tick-10 grid: kept in the overflow
    assert_eq!(c.levels(side::ASK), 1);
}

/// apply_bytes_touch says exactly when the touch changed: checked against the full
/// best_bid()/best_ask() levels before and after every batch of a random stream (venues
/// crossing, deletes, clears, far levels, exclusions).
#[test]
fn apply_touch_reports_exactly_the_touch_changes() {
    let rec = |k: u8, s: u8, p: i64, q: i64| Record { kind: k, side: s, price: p, qty: q, ..Default::default() };
    let bytes = |rs: &[Record]| -> Vec<u8> {
        rs.iter().flat_map(|r| unsafe { std::slice::from_raw_parts(r as *const Record as *const u8, RECORD_SIZE) }.to_vec()).collect()
    };
    let full = |c: &Consensus| {
        (c.best_bid().map(|l| (l.price, l.total)), c.best_ask().map(|l| (l.price, l.total)))
    };
    for slots in [8usize, 4096] {
        let mut c = Consensus::with_ladder(slots);
        let mut r = Rng(0x5eed + slots as u64);
        let (mut changed, mut unchanged) = (0, 0);
        let mut mid = 10_000i64;
        for step in 0..20_000 {
            mid += r.below(3) as i64 - 1;
            let v = r.below(4) as usize;
            let mut batch = vec![];
            if r.below(300) == 0 {
                batch.push(rec(kind::BOOK_CLEAR, [0, side::BID, side::ASK][r.below(3) as usize], 0, 0));
            }
            for _ in 0..1 + r.below(4) {
                let s = if r.below(2) == 0 { side::BID } else { side::ASK };
                let off = if r.below(30) == 0 { 500 + r.below(5000) as i64 } else { r.below(8) as i64 };
                let skew = v as i64 * 2 - 3;
                let p = if s == side::BID { mid + skew - 1 - off } else { mid + skew + 1 + off };
                let q = if r.below(4) == 0 { 0 } else { 1 + r.below(50) as i64 };
                batch.push(rec(kind::BOOK_LEVEL, s, p, q));
            }
            if step % 997 == 0 {
                c.set_included(v, !c.included(v));
            }
            let before = full(&c);
            let got = c.apply_bytes_touch(v, &bytes(&batch));
            let after = full(&c);
            assert_eq!(got, before != after, "step {step} slots {slots}");
            assert_eq!(c.touch(), match after { (Some(b), Some(a)) => Some((b.0, b.1, a.0, a.1)), _ => None });
            if got { changed += 1 } else { unchanged += 1 }
        }
        assert!(changed > 200 && unchanged > 1000, "the stream exercises both: {changed} / {unchanged}");
    }
}

/// `cargo test --release --lib consensus_update_cost -- --ignored --nocapture`: ns per venue
/// level update on the `nexus bench agg` shape of stream (five venues, 500-level books,
/// updates within 40 ticks of a random-walking touch, 20 % deletes), ladder vs overflow only.
#[test]
#[ignore]
fn consensus_update_cost() {
    let mut r = Rng(7);
    let mut ups = vec![];
    let mut mids = [6_500_000i64; 5];
    for _ in 0..2000 {
        for (v, mid) in mids.iter_mut().enumerate() {
            *mid += r.below(3) as i64 - 1;
            for k in 0..20 {
                let s = if k < 10 { side::BID } else { side::ASK };
                let off = 1 + r.below(39) as i64;
                let p = if s == side::BID { *mid - off } else { *mid + off };
                let q = if r.below(5) == 0 { 0 } else { 1 + r.below(9999) as i64 };
                ups.push((v, s, p, q));
            }
        }
    }
    for (name, slots) in [("ladder", LADDER_SLOTS), ("overflow only", 4)] {
        if std::env::var("CONSENSUS_COST").map_or(false, |only| only != name) {
            continue;
        }
        let mut best = f64::MAX;
        for _ in 0..7 {
            let mut c = Consensus::with_ladder(slots);
            for v in 0..5 {
                for k in 1..=500 {
                    c.set(v, side::BID, 6_500_000 - k, 100);
                    c.set(v, side::ASK, 6_500_000 + k, 100);
                }
            }
            let t0 = std::time::Instant::now();
            for &(v, s, p, q) in &ups {
                c.set(v, s, p, q);
            }
            best = best.min(t0.elapsed().as_nanos() as f64 / ups.len() as f64);
            std::hint::black_box(c.best_bid());
        }
        println!("{name}: {best:.1} ns per venue level update (best of 7)");
    }
}

/// `apply_bytes` (both sides' passes over blocks, runs on the ladder, records that leave
/// the run mid-batch) against the model: random batches mixing both sides, clears of one
/// or both sides at any place in the batch, records that are not book levels, levels of no
/// side, deep, off-grid and far levels, tick changes and exclusions, on small ladders whose
/// window moves often; converted by scales, the division-free one and the general one.
#[test]
fn batches_match_the_model() {
    let rec = |k: u8, s: u8, p: i64, q: i64| Record { kind: k, side: s, price: p, qty: q, ..Default::default() };
    let bytes = |rs: &[Record]| -> Vec<u8> {
        rs.iter().flat_map(|r| unsafe { std::slice::from_raw_parts(r as *const Record as *const u8, RECORD_SIZE) }.to_vec()).collect()
    };
    for (slots, seed, scale) in [
        (4, 11, VenueScale::default()),
        (16, 12, VenueScale { price_mul: 3, qty_mul: 7, qty_div: 1, inverse: false }),
        (64, 13, VenueScale { price_mul: 2, qty_mul: 10, qty_div: 3, inverse: false }),
        (LADDER_SLOTS, 14, VenueScale { price_mul: 1, qty_mul: 5, qty_div: 1, inverse: false }),
        (LADDER_SLOTS, 15, VenueScale::default()),
    ] {
        let mut c = Consensus::with_ladder(slots);
        let mut m = Model::new();
        let mut r = Rng(seed);
        let mut mid = 100_000i64;
        let mut probes = vec![];
        for v in 0..5 {
            c.set_scale(v, scale);
        }
        for step in 0..6_000 {
            mid += if step % 300 == 0 { r.below(4001) as i64 - 2000 } else { r.below(3) as i64 - 1 };
            let v = r.below(5) as usize;
            let (mut batch, mut want_n) = (vec![], 0);
            // up to a few blocks long (PASS_BLOCK records), mostly message-sized
            let len = if r.below(50) == 0 { 1 + r.below(3 * PASS_BLOCK as u64) } else { 1 + r.below(40) };
            for _ in 0..len {
                let s = [side::BID, side::ASK][r.below(2) as usize];
                let off = match r.below(40) {
                    0 => r.below(slots as u64 * 8) as i64,
                    1 => r.below(1 << 30) as i64,
                    _ => r.below(30) as i64,
                };
                let p = if s == side::BID { mid - 1 - off } else { mid + 1 + off };
                let q = if r.below(4) == 0 { 0 } else { 1 + r.below(1000) as i64 };
                let x = match r.below(200) {
                    0 => rec(kind::BOOK_CLEAR, [0, side::BID, side::ASK][r.below(3) as usize], 0, 0),
                    1 => rec(kind::TRADE, s, p, q),
                    2 => rec(kind::BOOK_LEVEL, 0, p, q), // no side: counted, applied nowhere
                    _ => rec(kind::BOOK_LEVEL, s, p, q),
                };
                if x.kind == kind::BOOK_CLEAR {
                    m.clear(v, x.side);
                } else if x.kind == kind::BOOK_LEVEL && x.side != 0 {
                    let pc = scale.price(p);
                    m.set(v, s, pc, scale.qty(q, pc));
                }
                want_n += (x.kind == kind::BOOK_LEVEL || x.kind == kind::BOOK_CLEAR) as usize;
                batch.push(x);
            }
            assert_eq!(c.apply_bytes(v, &bytes(&batch)), want_n);
            match r.below(150) {
                0 => {
                    let inc = !m.included[v];
                    c.set_included(v, inc);
                    m.included[v] = inc;
                }
                1 => c.set_tick([1, 2, 3, 4, 6, 12][r.below(6) as usize] * scale.price_mul),
                2..=4 => hide_at_random(&mut c, &mut m, &mut r, v, scale.price(mid)),
                _ => {}
            }
            if step % 31 == 0 {
                probes = vec![scale.price(mid), scale.price(mid - 7), scale.price(mid + 7)];
                check(&c, &m, &probes);
            }
        }
        check(&c, &m, &probes);
        assert!(c.ladder_levels(side::BID) > 0 && c.levels(side::BID) > c.ladder_levels(side::BID), "both the ladder and the overflow were used");
    }
}

/// The division-free slot (`Div`) agrees with plain division for ticks of every shape,
/// keys on and off the grid, inside, at the edges of and far outside the window.
#[test]
fn slots_by_multiplicative_inverse_are_exact() {
    let mut r = Rng(99);
    for tick in [1i64, 2, 3, 5, 6, 7, 8, 10, 12, 100, 1000, 1024, 3 << 20, 999_999_937] {
        for slots in [4usize, 64, LADDER_SLOTS] {
            let mut s = crate::core::consensus_side::CSide::new(false, slots);
            s.set_tick(tick);
            s.set(0, 1_000_003 * tick, 1, true); // anchors the window
            let base = s.window().0;
            let span = slots as i128 * tick as i128;
            let mut keys = vec![base, base - 1, base + 1, i64::MIN, i64::MAX, 0, -1];
            for k in 0..slots as i64 + 2 {
                keys.push(base + k * tick);
                keys.push(base + k * tick + 1);
                keys.push(base + k * tick - 1);
            }
            for _ in 0..2000 {
                keys.push(base.wrapping_add((r.next() % (span as u64 * 2 + 1)) as i64 - span as i64 / 2));
                keys.push(r.next() as i64);
            }
            for key in keys {
                let d = key as i128 - base as i128;
                let want = (d >= 0 && d < span && d % tick as i128 == 0).then(|| (d / tick as i128) as usize);
                assert_eq!(s.slot_for_tests(key), want, "tick {tick} slots {slots} key {key}");
            }
        }
    }
}

/// read_records (the bench's floor under apply_bytes) reads every record's price and
/// quantity, wrapping, and nothing else.
#[test]
fn read_records_sums_prices_and_quantities() {
    let rs: Vec<Record> = (0..37i64)
        .map(|i| Record { kind: kind::BOOK_LEVEL, side: side::BID, price: i64::MAX - i, qty: 3 * i + 1, seq: 99, ..Default::default() })
        .collect();
    let bytes: Vec<u8> = rs.iter().flat_map(|r| unsafe { std::slice::from_raw_parts(r as *const Record as *const u8, RECORD_SIZE) }.to_vec()).collect();
    let want = rs.iter().fold(0i64, |s, r| s.wrapping_add(r.price).wrapping_add(r.qty));
    assert_eq!(read_records(&bytes), want);
    assert_eq!(read_records(&bytes[..RECORD_SIZE]), i64::MAX.wrapping_add(1));
    assert_eq!(read_records(&[]), 0);
}
