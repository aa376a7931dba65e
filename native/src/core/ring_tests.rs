use super::*;
use crate::core::record::Record;

fn recs(from: u64, n: u64) -> Vec<Record> {
    (from..from + n).map(|i| Record { seq: i, price: i as i64 * 3, ..Default::default() }).collect()
}

fn unique(tag: &str) -> String {
    format!("t-{tag}-{}-{}", std::process::id(), monotonic_ns() % 1_000_000_007)
}

#[test]
fn publish_then_poll_in_order() {
    let name = unique("order");
    let mut w = RingWriter::create(&name, 64).unwrap();
    let mut r = RingReader::attach(&name, Start::Latest).unwrap();
    w.publish(&recs(0, 50));
    let mut out = vec![Record::default(); 32];
    let mut got = Vec::new();
    loop {
        let n = r.poll(&mut out);
        if n == 0 {
            break;
        }
        got.extend(out[..n].iter().map(|x| x.seq));
    }
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    assert_eq!(r.lost(), 0);
}

#[test]
fn wraps_around_many_times() {
    let name = unique("wrap");
    let mut w = RingWriter::create(&name, 16).unwrap();
    let mut r = RingReader::attach(&name, Start::Latest).unwrap();
    let mut out = vec![Record::default(); 16];
    let mut next = 0u64;
    for round in 0..100u64 {
        let n = 1 + round % 15;
        w.publish(&recs(next, n));
        let got = r.poll(&mut out);
        assert_eq!(got as u64, n);
        for (k, rec) in out[..got].iter().enumerate() {
            assert_eq!(rec.seq, next + k as u64);
            assert_eq!(rec.price, (next + k as u64) as i64 * 3);
        }
        next += n;
    }
    assert_eq!(r.lost(), 0);
}

#[test]
fn lapped_reader_counts_exactly_what_it_lost() {
    let name = unique("lap");
    let mut w = RingWriter::create(&name, 8).unwrap();
    let mut r = RingReader::attach(&name, Start::Latest).unwrap();
    w.publish(&recs(0, 30)); // ring holds 22..30
    let mut out = vec![Record::default(); 64];
    let n = r.poll(&mut out);
    assert_eq!(n, 8);
    assert_eq!(out[0].seq, 22);
    assert_eq!(r.lost(), 22);
    assert_eq!(r.lost() + n as u64, 30);
}

#[test]
fn batch_larger_than_ring_is_split() {
    let name = unique("big");
    let mut w = RingWriter::create(&name, 4).unwrap();
    let mut r = RingReader::attach(&name, Start::Latest).unwrap();
    w.publish(&recs(0, 10));
    let mut out = vec![Record::default(); 4];
    assert_eq!(r.poll(&mut out), 4);
    assert_eq!(out[0].seq, 6);
    assert_eq!(r.lost(), 6);
}

#[test]
fn names_and_sizes_are_validated() {
    assert!(matches!(RingWriter::create("bad/name", 8), Err(RingError::BadName(_))));
    assert!(matches!(RingWriter::create("", 8), Err(RingError::BadName(_))));
    assert!(matches!(RingWriter::create(".hidden", 8), Err(RingError::BadName(_))));
    assert!(matches!(RingWriter::create("ok", 12), Err(RingError::BadSlots(12))));
    assert!(matches!(RingWriter::create("ok", 1), Err(RingError::BadSlots(1))));
    assert!(matches!(RingReader::attach("does-not-exist-xyz", Start::Latest), Err(RingError::NotFound(_))));
}

#[test]
fn second_live_writer_is_refused() {
    let name = unique("dup");
    let _w = RingWriter::create(&name, 8).unwrap();
    assert!(matches!(RingWriter::create(&name, 8), Err(RingError::WriterAlive(_, _))));
}

#[test]
fn take_over_after_crash_is_seen_by_readers() {
    let name = unique("crash");
    let mut w = RingWriter::create(&name, 16).unwrap();
    let mut r = RingReader::attach(&name, Start::Latest).unwrap();
    w.publish(&recs(0, 5));
    let mut out = vec![Record::default(); 16];
    assert_eq!(r.poll(&mut out), 5);
    w.publish(&recs(5, 4)); // published, never read by r
    w.abandon();
    let mut w2 = RingWriter::create(&name, 16).unwrap();
    w2.publish(&recs(100, 2));
    let n = r.poll(&mut out);
    assert_eq!(n, 2);
    assert_eq!(out[0].seq, 100);
    assert_eq!(r.restarts(), 1);
    assert_eq!(r.lost(), 4);
}

#[test]
fn close_removes_segment_and_reader_reattaches_to_new_one() {
    let name = unique("reopen");
    let mut w = RingWriter::create(&name, 8).unwrap();
    let mut r = RingReader::attach(&name, Start::Latest).unwrap();
    w.publish(&recs(0, 3));
    w.close(true);
    assert!(!segment_path(&name).exists());
    let mut out = vec![Record::default(); 8];
    assert_eq!(r.poll(&mut out), 3); // drains what was left
    assert_eq!(r.poll(&mut out), 0);
    let mut w2 = RingWriter::create(&name, 32).unwrap();
    w2.publish(&recs(7, 2));
    assert_eq!(r.poll(&mut out), 0); // notices the new segment
    assert_eq!(r.restarts(), 1);
    assert_eq!(r.slots(), 32);
    assert_eq!(r.poll(&mut out), 2);
    assert_eq!(out[0].seq, 7);
    assert_eq!(r.lost(), 0);
}

#[test]
fn list_and_remove() {
    let name = unique("ls");
    let w = RingWriter::create(&name, 8).unwrap();
    let info = list().into_iter().find(|i| i.name == name).unwrap();
    assert!(info.writer_alive && info.valid && info.slots == 8);
    assert!(matches!(remove(&name, false), Err(RingError::WriterAlive(_, _))));
    w.abandon();
    remove(&name, false).unwrap();
    assert!(!segment_path(&name).exists());
}
