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
    let mut model: BTreeMap<(u8, i64), [i64; MAX_VENUES]> = BTreeMap::new();
    let mut x: u64 = 12345;
    let mut excluded = [false; MAX_VENUES];
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
        model.entry((s, p)).or_insert([0; MAX_VENUES])[v] = q;
    }
    for ((s, p), qs) in &model {
        let total: i64 = (0..MAX_VENUES).filter(|&v| !excluded[v]).map(|v| qs[v]).sum();
        match c.at(*s, *p) {
            Some(l) => {
                assert_eq!(l.qty, *qs);
                assert_eq!(l.total, total);
            }
            None => assert!(qs.iter().all(|&q| q == 0)),
        }
    }
}
