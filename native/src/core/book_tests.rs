use super::*;
use crate::core::record::{flags, kind, side, Record};

fn lvl(s: u8, price: i64, qty: i64) -> Record {
    Record { kind: kind::BOOK_LEVEL, side: s, price, qty, ..Default::default() }
}

#[test]
fn set_update_delete_keep_order() {
    let mut b = Book::new(1, 0);
    for (p, q) in [(100, 1), (102, 2), (101, 3), (99, 4)] {
        b.set(side::BID, p, q);
    }
    for (p, q) in [(105, 1), (103, 2), (104, 3)] {
        b.set(side::ASK, p, q);
    }
    assert_eq!(b.best_bid(), Some(Level { price: 102, qty: 2 }));
    assert_eq!(b.best_ask(), Some(Level { price: 103, qty: 2 }));
    assert_eq!(b.top(side::BID, 10).iter().map(|l| l.price).collect::<Vec<_>>(), vec![102, 101, 100, 99]);
    assert_eq!(b.top(side::ASK, 2).iter().map(|l| l.price).collect::<Vec<_>>(), vec![103, 104]);
    b.set(side::BID, 102, 0); // delete the touch
    b.set(side::BID, 100, 9); // update inside
    b.set(side::ASK, 200, 0); // delete of an absent level is a no-op
    assert_eq!(b.best_bid(), Some(Level { price: 101, qty: 3 }));
    assert_eq!(b.top(side::BID, 3)[1], Level { price: 100, qty: 9 });
    assert_eq!(b.depth(side::ASK), 3);
    assert!(!b.crossed());
    b.set(side::BID, 103, 1);
    assert!(b.crossed());
}

#[test]
fn apply_records_with_clear() {
    let mut b = Book::new(0, 0);
    let mut recs = vec![lvl(side::BID, 10, 1), lvl(side::ASK, 11, 1)];
    recs.push(Record { kind: kind::BOOK_CLEAR, side: side::NONE, flags: flags::F_SNAPSHOT, ..Default::default() });
    recs.push(lvl(side::BID, 20, 5));
    recs.push(Record { kind: kind::TRADE, price: 1, qty: 1, ..Default::default() });
    let bytes: Vec<u8> = recs.iter().flat_map(|r| unsafe { std::mem::transmute::<Record, [u8; 64]>(*r) }).collect();
    // Unaligned input works too.
    let mut shifted = vec![0u8; 1];
    shifted.extend_from_slice(&bytes);
    assert_eq!(b.apply_bytes(&shifted[1..]), 4);
    assert_eq!(b.best_bid(), Some(Level { price: 20, qty: 5 }));
    assert_eq!(b.best_ask(), None);
}

#[test]
fn agrees_with_a_btreemap_model_on_random_updates() {
    use std::collections::BTreeMap;
    let mut b = Book::new(0, 0);
    let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let s = if x & 1 == 0 { side::BID } else { side::ASK };
        let price = 1000 + ((x >> 8) % 200) as i64;
        let qty = if (x >> 20) % 4 == 0 { 0 } else { ((x >> 24) % 50) as i64 };
        b.set(s, price, qty);
        let m = if s == side::BID { &mut bids } else { &mut asks };
        if qty == 0 {
            m.remove(&price);
        } else {
            m.insert(price, qty);
        }
    }
    let want_bids: Vec<Level> = bids.iter().rev().map(|(&price, &qty)| Level { price, qty }).collect();
    let want_asks: Vec<Level> = asks.iter().map(|(&price, &qty)| Level { price, qty }).collect();
    assert_eq!(b.top(side::BID, usize::MAX), want_bids);
    assert_eq!(b.top(side::ASK, usize::MAX), want_asks);
}

#[test]
fn okx_checksum_string_is_interleaved_shortest_decimals() {
    // The interleaving and formatting described in the OKX v5 docs ("Checksum" under the
    // order book channel): bids 3366.1/7, 3366/6; asks 3366.8/9, 3368/8
    // -> "3366.1:7:3366.8:9:3366:6:3368:8".
    let mut b = Book::new(1, 0);
    b.set(side::BID, 33661, 7);
    b.set(side::BID, 33660, 6);
    b.set(side::ASK, 33668, 9);
    b.set(side::ASK, 33680, 8);
    assert_eq!(b.checksum_string_okx(25), "3366.1:7:3366.8:9:3366:6:3368:8");
    // One side longer: the extra levels follow on their own.
    b.set(side::BID, 33650, 1);
    assert_eq!(b.checksum_string_okx(25), "3366.1:7:3366.8:9:3366:6:3368:8:3365:1");
    assert_eq!(b.checksum_okx(25), crc32fast::hash(b"3366.1:7:3366.8:9:3366:6:3368:8:3365:1") as i32);
}

#[test]
fn kraken_checksum_string_formats_with_precision() {
    // Kraken v2 guide: price "45285.2" -> "452852", qty "0.00100000" -> "100000";
    // asks (low to high) first, then bids (high to low).
    let mut b = Book::new(1, 8);
    b.set(side::ASK, 452852, 100_000);
    b.set(side::ASK, 452860, 250_000_000);
    b.set(side::BID, 452835, 5);
    assert_eq!(b.checksum_string_kraken(1, 8, 10), "4528521000004528602500000004528355");
    // Book stored at a finer exponent than the venue's precision still formats at the venue's.
    let mut c = Book::new(3, 8);
    c.set(side::ASK, 45_285_200, 100_000);
    assert_eq!(c.checksum_string_kraken(1, 8, 10), "452852100000");
}

#[test]
fn crc32_is_the_standard_one() {
    assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
}

#[test]
fn bulk_snapshot_equals_level_by_level() {
    let mut recs = vec![Record { kind: kind::BOOK_CLEAR, side: side::NONE, flags: flags::F_SNAPSHOT, ..Default::default() }];
    let snap = |s: u8, p: i64, q: i64| Record { kind: kind::BOOK_LEVEL, side: s, price: p, qty: q, flags: flags::F_SNAPSHOT, ..Default::default() };
    for i in 0..200 {
        recs.push(snap(side::BID, 1000 - i, 1 + i % 7));
        recs.push(snap(side::ASK, 1001 + i, 2 + i % 5));
    }
    recs.push(snap(side::BID, 990, 0)); // a zero inside a snapshot deletes
    recs.push(snap(side::ASK, 1001, 99)); // a repeated price: the last wins
    recs.push(lvl(side::BID, 1000, 5)); // a delta after the snapshot in the same batch
    let bytes: Vec<u8> = recs.iter().flat_map(|r| unsafe { std::mem::transmute::<Record, [u8; 64]>(*r) }).collect();
    let mut bulk = Book::new(0, 0);
    bulk.set(side::BID, 5000, 1); // stale level the clear must remove
    assert_eq!(bulk.apply_bytes(&bytes), recs.len());
    let mut one = Book::new(0, 0);
    for r in &recs {
        one.apply_record(r);
    }
    assert_eq!(bulk.top(side::BID, 1000), one.top(side::BID, 1000));
    assert_eq!(bulk.top(side::ASK, 1000), one.top(side::ASK, 1000));
    assert_eq!(bulk.best_ask(), Some(Level { price: 1001, qty: 99 }));
    assert_eq!(bulk.best_bid(), Some(Level { price: 1000, qty: 5 }));
}

#[test]
fn agrees_with_a_btreemap_model_on_sparse_and_extreme_prices() {
    // The search starts from a guess made with the smallest gap seen; prices far apart, one
    // odd close pair and the i64 extremes must still land every level where it belongs.
    use std::collections::BTreeMap;
    let mut b = Book::new(0, 0);
    let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let picks = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
    for step in 0..30_000u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let s = if x & 1 == 0 { side::BID } else { side::ASK };
        let price = match (x >> 4) % 4 {
            0 => picks[((x >> 8) % picks.len() as u64) as usize],
            1 => 1_000_000 + ((x >> 8) % 50) as i64 * 1_000_000,  // wide ticks
            2 => 25_000_000 + ((x >> 8) % 3) as i64,              // a tight cluster
            _ => ((x >> 8) as i64).wrapping_mul(7919),            // anywhere
        };
        let qty = if (x >> 20) % 4 == 0 { 0 } else { 1 + ((x >> 24) % 50) as i64 };
        if step % 5000 == 4999 {
            // a snapshot in bulk now and then (sets the gap hint from a whole side)
            let mut recs = vec![Record { kind: kind::BOOK_CLEAR, side: side::NONE, flags: flags::F_SNAPSHOT, ..Default::default() }];
            for (m, sd) in [(&bids, side::BID), (&asks, side::ASK)] {
                for (&p, &q) in m.iter() {
                    recs.push(Record { kind: kind::BOOK_LEVEL, side: sd, flags: flags::F_SNAPSHOT, price: p, qty: q, ..Default::default() });
                }
            }
            let bytes: Vec<u8> = recs.iter().flat_map(|r| unsafe {
                std::slice::from_raw_parts(r as *const Record as *const u8, RECORD_SIZE).to_vec()
            }).collect();
            b.apply_bytes(&bytes);
        }
        b.set(s, price, qty);
        let m = if s == side::BID { &mut bids } else { &mut asks };
        if qty == 0 {
            m.remove(&price);
        } else {
            m.insert(price, qty);
        }
    }
    let want_bids: Vec<Level> = bids.iter().rev().map(|(&price, &qty)| Level { price, qty }).collect();
    let want_asks: Vec<Level> = asks.iter().map(|(&price, &qty)| Level { price, qty }).collect();
    assert_eq!(b.top(side::BID, usize::MAX), want_bids);
    assert_eq!(b.top(side::ASK, usize::MAX), want_asks);
}

fn snapshot_bytes(bids: &std::collections::BTreeMap<i64, i64>, asks: &std::collections::BTreeMap<i64, i64>) -> Vec<u8> {
    let mut recs = vec![Record { kind: kind::BOOK_CLEAR, side: side::NONE, flags: flags::F_SNAPSHOT, ..Default::default() }];
    // best first, as venues send them
    for (p, q) in bids.iter().rev() {
        recs.push(Record { kind: kind::BOOK_LEVEL, side: side::BID, flags: flags::F_SNAPSHOT, price: *p, qty: *q, ..Default::default() });
    }
    for (p, q) in asks.iter() {
        recs.push(Record { kind: kind::BOOK_LEVEL, side: side::ASK, flags: flags::F_SNAPSHOT, price: *p, qty: *q, ..Default::default() });
    }
    recs.iter()
        .flat_map(|r| unsafe { std::slice::from_raw_parts(r as *const Record as *const u8, RECORD_SIZE).to_vec() })
        .collect()
}

#[test]
fn dense_sides_agree_with_a_btreemap_model() {
    // Snapshots on a grid (ticks of 5) make the sides dense; then updates near the touch,
    // deletes of the best, levels far outside the window (it widens, or the side goes back to
    // the sorted vector when too wide), off-grid levels (back to sorted), clears and new
    // snapshots. Every few steps the whole book is compared with the model.
    use std::collections::BTreeMap;
    let mut b = Book::new(0, 0);
    let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
    let mut x: u64 = 0x853C49E6748FEA9B;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut mid: i64 = 100_000;
    let mut dense_checks = 0;
    for step in 0..60_000u32 {
        if step % 2_000 == 0 {
            bids.clear();
            asks.clear();
            for i in 1..=300 {
                if rnd() % 5 != 0 {
                    bids.insert(mid - 5 * i, 1 + (rnd() % 99) as i64);
                    asks.insert(mid + 5 * i, 1 + (rnd() % 99) as i64);
                }
            }
            b.apply_bytes(&snapshot_bytes(&bids, &asks));
        }
        let r = rnd();
        let s = if r & 1 == 0 { side::BID } else { side::ASK };
        let price = match (r >> 3) % 4096 {
            0..=63 => mid + ((r >> 12) % 800) as i64 * 5 - 2_000,    // far: the window widens
            64 => mid + ((r >> 12) % 20_000) as i64 * 5 - 50_000,    // farther: may give up
            65 => mid + ((r >> 12) % 40) as i64 - 20,                // often off the grid
            66 => (r >> 12) as i64,                                  // anywhere
            _ => {
                let off = 5 * (1 + ((r >> 10) % 40) as i64);
                if s == side::BID { mid - off } else { mid + off }
            }
        };
        // deletes of the best level too
        let (price, qty) = match (r >> 40) % 8 {
            0 | 1 => (price, 0),
            2 => {
                let best = if s == side::BID { bids.keys().next_back().copied() } else { asks.keys().next().copied() };
                (best.unwrap_or(price), 0)
            }
            _ => (price, 1 + ((r >> 48) % 99) as i64),
        };
        if (r >> 51) % 8192 == 0 {
            b.clear(s);
            if s == side::BID { bids.clear() } else { asks.clear() }
        } else {
            b.set(s, price, qty);
            let m = if s == side::BID { &mut bids } else { &mut asks };
            if qty == 0 {
                m.remove(&price);
            } else {
                m.insert(price, qty);
            }
        }
        if (r >> 30) % 3 == 0 {
            mid += ((r >> 33) % 3) as i64 * 5 - 5;
        }
        if step % 997 == 0 || step == 59_999 {
            let want_bids: Vec<Level> = bids.iter().rev().map(|(&price, &qty)| Level { price, qty }).collect();
            let want_asks: Vec<Level> = asks.iter().map(|(&price, &qty)| Level { price, qty }).collect();
            assert_eq!(b.top(side::BID, usize::MAX), want_bids, "bids at step {step}");
            assert_eq!(b.top(side::ASK, usize::MAX), want_asks, "asks at step {step}");
            assert_eq!(b.depth(side::BID), bids.len());
            assert_eq!(b.depth(side::ASK), asks.len());
            assert_eq!(b.best_bid(), want_bids.first().copied());
            assert_eq!(b.best_ask(), want_asks.first().copied());
            dense_checks += b.bids.dense as u32 + b.asks.dense as u32;
        }
    }
    assert!(dense_checks > 20, "the dense mode was exercised ({dense_checks} side checks)");
}

#[test]
fn a_grid_snapshot_makes_a_dense_side() {
    let mut bids = std::collections::BTreeMap::new();
    let asks = std::collections::BTreeMap::new();
    for i in 0..100 {
        bids.insert(1000 - 2 * i, 7);
    }
    let mut b = Book::new(0, 0);
    b.apply_bytes(&snapshot_bytes(&bids, &asks));
    assert!(b.bids.dense);
    b.set(side::BID, 1001, 3); // off the grid: back to sorted, same levels
    assert!(!b.bids.dense);
    assert_eq!(b.depth(side::BID), 101);
    assert_eq!(b.best_bid(), Some(Level { price: 1001, qty: 3 }));
}
