//! Native fast path for Bybit v5 public `orderbook.*` and `publicTrade.*` pushes: parse the
//! message and write its records straight into a record batch.
//!
//! Taken: `{"topic":"orderbook.…","type":"snapshot"|"delta","ts":N,"data":{"s":S,"b":[[p,q],..],
//! "a":[..],"u":N,..},"cts":N}` and `{"topic":"publicTrade.…","ts":N,"data":[{"T":N,"s":S,"S":
//! "Buy"|"Sell","v":q,"p":p,"i":id,..},..]}` (`topic` first, as Bybit writes it; the other keys
//! in any order, others ignored as the Python decoder ignores them). Anything unusual — a missing, null or mistyped field, a timestamp
//! as text, an escaped string, a decimal off the instrument's grid, a non-positive price, a
//! negative (book) or non-positive (trade) size, trades of two instruments, a batch too small —
//! returns `Fallback`, and the Python decoder handles the message (and produces its precise
//! error). The fast path never changes what is accepted or rejected, only how fast.
//! Trade ids are returned as text; Bybit's are UUIDs, stored as their 63-bit BLAKE2b hash
//! (core/blake2b.rs, the general path's trade_id_int).

use crate::core::blake2b::trade_id_hash;
use crate::core::book::Book as NativeBook;
use crate::core::fastpath::{self, fits, mark_last, ms, Lv};
use crate::core::scan::{Scan, Seen};
use serde::Deserialize;

#[derive(Deserialize)]
struct Msg<'a, D> {
    #[allow(dead_code)] // read for its type: a string (its channel is matched on the raw prefix)
    topic: &'a str,
    #[serde(rename = "type", default)]
    typ: Option<&'a str>,
    #[serde(default)]
    ts: Option<u64>,
    // absent: None; null: an error (Python reads `cts` whenever the key is there)
    #[serde(default, deserialize_with = "present")]
    cts: Option<u64>,
    data: D,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    u64::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Book<'a> {
    s: &'a str,
    #[serde(borrow)]
    b: Vec<Lv<'a>>,
    #[serde(borrow)]
    a: Vec<Lv<'a>>,
    u: u64,
}

#[derive(Deserialize)]
struct Trade<'a> {
    #[serde(rename = "T")]
    time: u64,
    s: &'a str,
    #[serde(rename = "S")]
    side: &'a str,
    v: &'a str,
    p: &'a str,
    i: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Info<'a> {
    Book { records: usize, snapshot: bool, ts_exchange_ns: i64, seq: u64 },
    /// One segment of trades: the first trade's time and every trade id's text; `hashed`:
    /// some id is not ASCII (its word was left 0 for the caller's trade_id_int).
    Trades { records: usize, ts_exchange_ns: i64, trade_ids: Vec<&'a str>, hashed: bool },
}

pub enum BybitResult<'a> {
    Done(Info<'a>),
    OtherSymbol(&'a str),
    Fallback,
}

pub use crate::core::fastpath::Target;

const SEQ_MAX: u64 = i64::MAX as u64;

pub fn decode<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> BybitResult<'a> {
    // simdjson (the general path) validates every string's UTF-8; serde_json skips an ignored one
    let Ok(text) = std::str::from_utf8(raw) else {
        return BybitResult::Fallback;
    };
    // the topic first, as Bybit writes it (and the caller checks): its channel names the shape
    // of `data`, parsed straight into it (no untagged enum buffering the whole message)
    // (each read in one pass when in the compact form Bybit sends, core/scan.rs; else serde_json)
    let r = if raw.starts_with(br#"{"topic":"orderbook."#) {
        scan_msg(raw, scan_book).or_else(|| serde_json::from_str::<Msg<'a, Book<'a>>>(text).ok()).and_then(|m| book(&m, out, t))
    } else if raw.starts_with(br#"{"topic":"publicTrade."#) {
        scan_msg(raw, scan_trades).or_else(|| serde_json::from_str::<Msg<'a, Vec<Trade<'a>>>>(text).ok())
            .and_then(|m| trades(&m.data, out, t))
    } else {
        None
    };
    r.unwrap_or(BybitResult::Fallback)
}

/// A push in the compact form, `data` read by `data`; None: serde_json reads it (the same
/// `Msg`, or a refusal).
fn scan_msg<'a, D>(raw: &'a [u8], mut data: impl FnMut(&mut Scan<'a>) -> Option<D>) -> Option<Msg<'a, D>> {
    let (mut topic, mut typ, mut ts, mut cts, mut d) = (None, None, None, None, None);
    let mut seen = Seen::default();
    Scan::new(raw).object(|k, c| {
        match k {
            "topic" => c.once(&mut seen, 0, &mut topic, Scan::str)?,
            "type" => c.once(&mut seen, 1, &mut typ, Scan::str)?,
            "ts" => c.once(&mut seen, 2, &mut ts, Scan::u64)?,
            "cts" => c.once(&mut seen, 3, &mut cts, Scan::u64)?,
            "data" => c.once(&mut seen, 4, &mut d, &mut data)?,
            _ => c.skip()?,
        }
        Some(())
    })?;
    Some(Msg { topic: topic?, typ, ts, cts, data: d? })
}

fn scan_book<'a>(c: &mut Scan<'a>) -> Option<Book<'a>> {
    let (mut s, mut u) = (None, None);
    let (mut b, mut a) = (Vec::with_capacity(16), Vec::with_capacity(16));
    let mut seen = Seen::default();
    c.fields(|k, c| {
        match k {
            "s" => c.once(&mut seen, 0, &mut s, Scan::str)?,
            "b" => { seen.first(1)?; c.levels(&mut b)? }
            "a" => { seen.first(2)?; c.levels(&mut a)? }
            "u" => c.once(&mut seen, 3, &mut u, Scan::u64)?,
            _ => c.skip()?,
        }
        Some(())
    })?;
    (seen.has(1) && seen.has(2)).then_some(())?;
    Some(Book { s: s?, b, a, u: u? })
}

fn scan_trades<'a>(c: &mut Scan<'a>) -> Option<Vec<Trade<'a>>> {
    let mut v = Vec::with_capacity(2);
    c.array(|c| {
        let (mut time, mut s, mut side, mut q, mut p, mut i) = (None, None, None, None, None, None);
        let mut seen = Seen::default();
        c.fields(|k, c| {
            match k {
                "T" => c.once(&mut seen, 0, &mut time, Scan::u64)?,
                "s" => c.once(&mut seen, 1, &mut s, Scan::str)?,
                "S" => c.once(&mut seen, 2, &mut side, Scan::str)?,
                "v" => c.once(&mut seen, 3, &mut q, Scan::str)?,
                "p" => c.once(&mut seen, 4, &mut p, Scan::str)?,
                "i" => c.once(&mut seen, 5, &mut i, Scan::str)?,
                _ => c.skip()?,
            }
            Some(())
        })?;
        v.push(Trade { time: time?, s: s?, side: side?, v: q?, p: p?, i: i? });
        Some(())
    })?;
    Some(v)
}

fn book<'a>(m: &Msg<'a, Book<'a>>, out: &mut [u8], t: &Target) -> Option<BybitResult<'a>> {
    let d = &m.data;
    let typ = m.typ?;
    if typ != "snapshot" && typ != "delta" {
        return None;
    }
    if d.s != t.symbol {
        return Some(BybitResult::OtherSymbol(d.s));
    }
    if d.u > SEQ_MAX {
        return None;
    }
    let snapshot = typ == "snapshot" || d.u == 1;
    let ts = ms(match m.cts {
        Some(c) => c,
        None => m.ts?,
    })?;
    let n = fastpath::book(out, t, snapshot, ts, d.u as i64, d.b.iter().map(|lv| lv.0), d.b.len(),
                           d.a.iter().map(|lv| lv.0), d.a.len())?;
    Some(BybitResult::Done(Info::Book { records: n, snapshot, ts_exchange_ns: ts, seq: d.u }))
}

fn trades<'a>(tr: &[Trade<'a>], out: &mut [u8], t: &Target) -> Option<BybitResult<'a>> {
    let first = tr.first()?;
    if first.s != t.symbol {
        return Some(BybitResult::OtherSymbol(first.s));
    }
    if !fits(out, tr.len()) {
        return None;
    }
    let mut ids = Vec::with_capacity(tr.len());
    let mut hashed = false;
    let mut ts_first = 0;
    for (i, d) in tr.iter().enumerate() {
        if d.s != t.symbol {
            return None;
        }
        let ts = ms(d.time)?;
        let buy = match d.side {
            "Buy" => true,
            "Sell" => false,
            _ => return None,
        };
        let tid = if !d.i.is_ascii() {
            hashed = true; // Python's isdigit() takes other digits too: its trade_id_int decides
            0
        } else if !d.i.is_empty() && d.i.len() <= 18 && d.i.bytes().all(|c| c.is_ascii_digit()) {
            d.i.parse::<i64>().ok()?
        } else {
            trade_id_hash(d.i.as_bytes()) as i64 // a UUID: its 63-bit hash (Python's trade_id_int)
        };
        fastpath::trade(out, i, t, d.p, d.v, buy, tid, ts)?;
        if i == 0 {
            ts_first = ts;
        }
        ids.push(d.i);
    }
    mark_last(out, tr.len());
    Some(BybitResult::Done(Info::Trades { records: tr.len(), ts_exchange_ns: ts_first, trade_ids: ids, hashed }))
}

/// The fused steady state of a synced book (booksync.py `Sync.fuse`): an `orderbook.*` delta
/// of `t`'s symbol decoded into `out` as `decode` writes it and, when its u is `last_seq` + 1,
/// applied to `book`. None (the book untouched): the Python path decides (a snapshot, a gap, a
/// stale or duplicate delta, trades, another symbol, anything `decode` declines).
pub fn book_sync(raw: &[u8], out: &mut [u8], t: &Target, book: &mut NativeBook, last_seq: i64) -> Option<fastpath::Applied> {
    let BybitResult::Done(Info::Book { records, snapshot: false, ts_exchange_ns, seq }) = decode(raw, out, t) else {
        return None;
    };
    (last_seq >= 0 && seq == last_seq as u64 + 1).then(|| fastpath::apply(book, out, records, ts_exchange_ns, seq as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target<'static> {
        Target { symbol: "BTCUSDT", price_exponent: 2, qty_exponent: 3, instrument_id: 7, hdr_bid: 11, hdr_ask: 22,
                 hdr_snap_bid: 33, hdr_snap_ask: 44, hdr_clear: 55, hdr_buy: 66, hdr_sell: 77, ts_local_ns: 5 }
    }

    fn word(out: &[u8], rec: usize, w: usize) -> i64 {
        i64::from_le_bytes(out[rec * 64 + w * 8..rec * 64 + w * 8 + 8].try_into().unwrap())
    }

    #[test]
    fn decodes_a_delta_and_a_trade() {
        let mut out = vec![0u8; 64 * 8];
        let m = br#"{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1767225601100,"data":{"s":"BTCUSDT","b":[["65002.80","0.006"]],"a":[["65001.00","0.000"]],"u":1000011,"seq":6000000},"cts":1767225601099}"#;
        let BybitResult::Done(info) = decode(m, &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, Info::Book { records: 2, snapshot: false, ts_exchange_ns: 1767225601099_000_000, seq: 1000011 });
        assert_eq!((word(&out, 0, 2), word(&out, 0, 3), word(&out, 0, 4), word(&out, 0, 7)), (6500280, 6, 1000011, 11));
        let m = br#"{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1767225601120,"s":"BTCUSDT","S":"Sell","v":"0.015","p":"65002.40","L":"MinusTick","i":"450dd3e8-2ad1-42ec-2b96-993c86181c55","BT":false,"seq":60000000296}]}"#;
        let BybitResult::Done(info) = decode(m, &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, Info::Trades { records: 1, ts_exchange_ns: 1767225601120_000_000,
                                        trade_ids: vec!["450dd3e8-2ad1-42ec-2b96-993c86181c55"], hashed: false });
        assert_eq!(word(&out, 0, 5), 3899478501180714772); // its BLAKE2b-64, as trade_id_int gives
        assert_eq!((word(&out, 0, 2), word(&out, 0, 3), word(&out, 0, 7)), (6500240, 15, 77 | crate::core::fastpath::HDR_F_LAST));
    }

    #[test]
    fn anything_unusual_falls_back() {
        let mut out = vec![0u8; 64 * 3];
        let t = target();
        let ok = r#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["1.5","1"]],"a":[],"u":5}}"#;
        let BybitResult::Done(_) = decode(ok.as_bytes(), &mut out, &t) else { panic!("fallback") };
        for bad in [
            ok.replace("delta", "other"),
            ok.replace("}}", r#"},"cts":null}"#),
            ok.replace(r#""ts":1"#, r#""ts":"1""#),
            ok.replace("1.5", "1.555"),
            ok.replace("1.5", "-1.5"),
            ok.replace(r#""u":5"#, r#""u":-5"#),
            ok.replace(r#"["1.5","1"]"#, r#"["1.5"]"#),
            ok.replace("orderbook", "tickers"),
            ok.replace(r#""a":[]"#, r#""a":[["2","1"],["3","1"],["4","1"]]"#),
            "not json".to_string(),
        ] {
            assert!(matches!(decode(bad.as_bytes(), &mut out, &t), BybitResult::Fallback), "{bad}");
        }
        let other = ok.replace(r#""s":"BTCUSDT""#, r#""s":"ETHUSDT""#);
        assert!(matches!(decode(other.as_bytes(), &mut out, &t), BybitResult::OtherSymbol("ETHUSDT")));
    }

    #[test]
    fn book_sync_applies_only_the_next_delta() {
        use crate::core::record::kind::BOOK_LEVEL;
        let lvl = (BOOK_LEVEL as i64) << 16;
        let t = Target { hdr_bid: lvl | 1 << 32, hdr_ask: lvl | 2 << 32, ..target() };
        let mut out = vec![0u8; 64 * 8];
        let mut book = NativeBook::new(2, 3);
        let m = br#"{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[["65002.80","0.006"]],"a":[["65001.00","1.000"]],"u":11,"seq":6},"cts":2}"#;
        assert_eq!(book_sync(m, &mut out, &t, &mut book, 9), None);  // a gap
        assert_eq!(book_sync(m, &mut out, &t, &mut book, 11), None);  // a duplicate
        assert_eq!(book.depth(0), 0);
        assert_eq!(book_sync(m, &mut out, &t, &mut book, 10),
                   Some(fastpath::Applied { records: 2, ts_exchange_ns: 2_000_000, seq: 11, crossed: true }));
        let snap = br#"{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"u":12,"seq":7}}"#;
        assert_eq!(book_sync(snap, &mut out, &t, &mut book, 11), None);
    }
}
