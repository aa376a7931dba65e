//! Native fast path for Binance `depthUpdate` (spot and USD-M futures): parse the message
//! and write its level records straight into a record batch.
//!
//! Anything unusual — another event type, a missing or mistyped field, an escaped string, a
//! decimal off the instrument's grid, a non-positive price, U > u, a batch too small —
//! returns `None`, and the Python decoder handles the message (and produces its precise
//! error). So the fast path never changes what is accepted or rejected, only how fast.

use crate::core::book::Book;
use crate::core::decimal::parse_scaled;
use crate::core::fastpath::{self, put};
use crate::core::record::RECORD_SIZE;
use crate::core::scan::{Scan, Seen};
use serde::Deserialize;

#[derive(Deserialize)]
struct Depth<'a> {
    #[serde(rename = "e")]
    event: &'a str,
    #[serde(rename = "E")]
    event_ms: u64,
    #[serde(rename = "T", default)]
    trans_ms: Option<u64>,
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "U")]
    first: u64,
    #[serde(rename = "u")]
    last: u64,
    #[serde(default)]
    pu: Option<i64>,
    #[serde(borrow)]
    b: Vec<[&'a str; 2]>,
    #[serde(borrow)]
    a: Vec<[&'a str; 2]>,
}

/// What the caller needs besides the records.
#[derive(Debug, PartialEq, Eq)]
pub struct DepthInfo {
    pub records: usize,
    pub ts_exchange_ns: i64,
    pub first: u64,
    pub last: u64,
    pub pu: Option<i64>,
}

pub enum DepthResult<'a> {
    Done(DepthInfo),
    /// The message is for another symbol than the caller's parameters describe.
    OtherSymbol(&'a str),
    /// Not for the fast path: let the general decoder handle it.
    Fallback,
}

pub use crate::core::fastpath::Target;

const SEQ_MAX: u64 = i64::MAX as u64;

pub fn decode_depth<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> DepthResult<'a> {
    if let Some(i) = depth_into(raw, out, t) {
        return DepthResult::Done(i);
    }
    decode_depth_two_pass(raw, out, t)
}

/// `decode_depth` for what `depth_into` does not take: the message read whole (core/scan.rs,
/// else serde_json), then checked and written.
fn decode_depth_two_pass<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> DepthResult<'a> {
    let Some(d) = scan_depth(raw).or_else(|| serde_json::from_slice(raw).ok()) else {
        return DepthResult::Fallback;
    };
    if d.event != "depthUpdate" || d.first > d.last || d.last > SEQ_MAX {
        return DepthResult::Fallback;
    }
    if d.symbol != t.symbol {
        return DepthResult::OtherSymbol(d.symbol);
    }
    let ts_ms = d.trans_ms.unwrap_or(d.event_ms);
    let Some(ts) = fastpath::ms(ts_ms) else { return DepthResult::Fallback };
    let (bids, asks) = (d.b.iter().map(|[p, q]| Some((*p, *q))), d.a.iter().map(|[p, q]| Some((*p, *q))));
    let Some(n) = fastpath::book(out, t, false, ts, d.last as i64, bids, d.b.len(), asks, d.a.len()) else {
        return DepthResult::Fallback;
    };
    DepthResult::Done(DepthInfo { records: n, ts_exchange_ns: ts, first: d.first, last: d.last, pu: d.pu })
}

/// `decode_depth` in one pass for the common case: a depthUpdate of `t`'s symbol in the compact
/// form Binance sends (core/scan.rs), its bids before its asks, each level parsed and written
/// as its record while it is read (no vector of level texts), the time and sequence words of
/// every record filled in once the whole object is read. The records are the ones
/// `fastpath::book` writes from `scan_depth`'s answer (`depth_into_equals_the_two_pass_path`
/// compares them); None (anything else: another symbol, the asks first, a level or value not
/// taken, a check failed): the two-pass path decides, from scratch.
fn depth_into(raw: &[u8], out: &mut [u8], t: &Target) -> Option<DepthInfo> {
    let (mut event, mut event_ms, mut trans_ms, mut symbol, mut first, mut last, mut pu) = (None, None, None, None, None, None, None);
    let (mut nb, mut n) = (None, None); // the record index after the bids, after the asks
    let mut seen = Seen::default();
    let level = |hdr: i64| {
        move |out: &mut [u8], i: usize, p: &str, q: &str| {
            let price = parse_scaled(p.as_bytes(), t.price_exponent).ok()?;
            let qty = parse_scaled(q.as_bytes(), t.qty_exponent).ok()?;
            if price <= 0 || qty < 0 {
                return None;
            }
            put(out, i, [0, t.ts_local_ns, price, qty, 0, 0, t.instrument_id as i64, hdr]);
            Some(())
        }
    };
    Scan::new(raw).object(|k, c| {
        match k {
            "e" => c.once(&mut seen, 0, &mut event, Scan::str)?,
            "E" => c.once(&mut seen, 1, &mut event_ms, Scan::u64)?,
            "T" => c.once(&mut seen, 2, &mut trans_ms, Scan::u64)?,
            "s" => c.once(&mut seen, 3, &mut symbol, Scan::str)?,
            "U" => c.once(&mut seen, 4, &mut first, Scan::u64)?,
            "u" => c.once(&mut seen, 5, &mut last, Scan::u64)?,
            "pu" => c.once(&mut seen, 6, &mut pu, Scan::i64)?,
            "b" => {
                if symbol.is_some_and(|s| s != t.symbol) {
                    return None; // another instrument's levels: not parsed at this one's exponents
                }
                let i = c.pairs_into(out, 0, level(t.hdr_bid));
                c.once(&mut seen, 7, &mut nb, |_| i)?
            }
            "a" => {
                let i = c.pairs_into(out, nb?, level(t.hdr_ask));
                c.once(&mut seen, 8, &mut n, |_| i)?
            }
            _ => c.skip()?,
        }
        Some(())
    })?;
    let (n, first, last) = (n?, first?, last?);
    if event? != "depthUpdate" || first > last || last > SEQ_MAX || symbol? != t.symbol {
        return None;
    }
    let ts = fastpath::ms(trans_ms.unwrap_or(event_ms?))?;
    for r in out[..n * RECORD_SIZE].chunks_exact_mut(RECORD_SIZE) {
        r[..8].copy_from_slice(&ts.to_le_bytes());
        r[32..40].copy_from_slice(&(last as i64).to_le_bytes());
    }
    fastpath::mark_last(out, n);
    Some(DepthInfo { records: n, ts_exchange_ns: ts, first, last, pu })
}

/// A depthUpdate in the compact form Binance sends, read in one pass (core/scan.rs); None:
/// serde_json reads it (the same `Depth`, or a refusal).
fn scan_depth(raw: &[u8]) -> Option<Depth<'_>> {
    let (mut event, mut event_ms, mut trans_ms, mut symbol, mut first, mut last, mut pu) = (None, None, None, None, None, None, None);
    let (mut b, mut a) = (Vec::with_capacity(16), Vec::with_capacity(16));
    let mut seen = Seen::default();
    Scan::new(raw).object(|k, c| {
        match k {
            "e" => c.once(&mut seen, 0, &mut event, Scan::str)?,
            "E" => c.once(&mut seen, 1, &mut event_ms, Scan::u64)?,
            "T" => c.once(&mut seen, 2, &mut trans_ms, Scan::u64)?,
            "s" => c.once(&mut seen, 3, &mut symbol, Scan::str)?,
            "U" => c.once(&mut seen, 4, &mut first, Scan::u64)?,
            "u" => c.once(&mut seen, 5, &mut last, Scan::u64)?,
            "pu" => c.once(&mut seen, 6, &mut pu, Scan::i64)?,
            "b" => { seen.first(7)?; c.pairs(&mut b)? }
            "a" => { seen.first(8)?; c.pairs(&mut a)? }
            _ => c.skip()?,
        }
        Some(())
    })?;
    (seen.has(7) && seen.has(8)).then_some(())?;
    Some(Depth { event: event?, event_ms: event_ms?, trans_ms, symbol: symbol?, first: first?, last: last?, pu, b, a })
}

/// An aggTrade / trade event in the compact form Binance sends, read in one pass; None:
/// serde_json reads it (a combined-stream wrapper always goes there).
fn scan_trade(raw: &[u8]) -> Option<Trade<'_>> {
    let (mut event, mut symbol, mut agg_id, mut trade_id, mut price, mut qty, mut trade_ms, mut maker) =
        (None, None, None, None, None, None, None, None);
    let mut seen = Seen::default();
    Scan::new(raw).object(|k, c| {
        match k {
            "e" => c.once(&mut seen, 0, &mut event, Scan::str)?,
            "s" => c.once(&mut seen, 1, &mut symbol, Scan::str)?,
            "a" => c.once(&mut seen, 2, &mut agg_id, Scan::u64)?,
            "t" => c.once(&mut seen, 3, &mut trade_id, Scan::u64)?,
            "p" => c.once(&mut seen, 4, &mut price, Scan::str)?,
            "q" => c.once(&mut seen, 5, &mut qty, Scan::str)?,
            "T" => c.once(&mut seen, 6, &mut trade_ms, Scan::u64)?,
            "m" => c.once(&mut seen, 7, &mut maker, Scan::bool)?,
            "stream" | "data" => return None,
            _ => c.skip()?,
        }
        Some(())
    })?;
    Some(Trade { event: event?, symbol: symbol?, agg_id, trade_id, price: price?, qty: qty?, trade_ms: trade_ms?,
                 buyer_is_maker: maker?, stream: None, data: None })
}

/// The fused steady state of a synced book (booksync.py `Sync.fuse`): a depthUpdate of `t`'s
/// symbol decoded into `out` as `decode_depth` writes it and, when it is the ordinary next diff
/// after the book's update id `last_seq`, applied to `book`. `rule` 0 (spot): no `pu`,
/// U <= last_seq + 1 and u > last_seq; 1 (USD-M futures): pu == last_seq. None (the book
/// untouched): the Python path decides (another symbol, a gap, a stale or duplicate diff,
/// anything `decode_depth` declines).
pub fn depth_sync(raw: &[u8], out: &mut [u8], t: &Target, book: &mut Book, last_seq: i64, rule: u8) -> Option<fastpath::Applied> {
    let DepthResult::Done(i) = decode_depth(raw, out, t) else { return None };
    let next = match rule {
        0 => i.pu.is_none() && last_seq >= 0 && i.first <= last_seq as u64 + 1 && i.last > last_seq as u64,
        1 => i.pu.is_some_and(|pu| pu >= -1 && pu == last_seq),
        _ => false,
    };
    next.then(|| fastpath::apply(book, out, i.records, i.ts_exchange_ns, i.last as i64))
}

/// A REST depth snapshot body (GET /api/v3/depth, /fapi/v1/depth): no other key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot<'a> {
    #[serde(rename = "lastUpdateId")]
    last: u64,
    // absent: None; null: an error (Python reads T, else E, whenever the key is there)
    #[serde(rename = "E", default, deserialize_with = "present")]
    event_ms: Option<u64>,
    #[serde(rename = "T", default, deserialize_with = "present")]
    trans_ms: Option<u64>,
    #[serde(borrow)]
    bids: Vec<[&'a str; 2]>,
    #[serde(borrow)]
    asks: Vec<[&'a str; 2]>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    u64::deserialize(d).map(Some)
}

/// What the caller needs besides a snapshot's records.
#[derive(Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub records: usize,
    /// T, else E, else 0 (spot bodies carry no time)
    pub ts_exchange_ns: i64,
    pub last: u64,
}

/// Native fast path for a REST depth snapshot body of the caller's symbol (the body names
/// none): BOOK_CLEAR + bids + asks, all flagged F_SNAPSHOT, seq = lastUpdateId, F_LAST on the
/// last. None (fall back) on anything unusual: another key, a null or mistyped field, a level
/// that is not two strings, a value off the grid, a price not positive or a size negative,
/// a batch too small.
pub fn decode_snapshot(raw: &[u8], out: &mut [u8], t: &Target) -> Option<SnapshotInfo> {
    let d: Snapshot = serde_json::from_slice(raw).ok()?;
    if d.last > SEQ_MAX {
        return None;
    }
    let ts = fastpath::ms(d.trans_ms.or(d.event_ms).unwrap_or(0))?;
    let (bids, asks) = (d.bids.iter().map(|[p, q]| Some((*p, *q))), d.asks.iter().map(|[p, q]| Some((*p, *q))));
    let n = fastpath::book(out, t, true, ts, d.last as i64, bids, d.bids.len(), asks, d.asks.len())?;
    Some(SnapshotInfo { records: n, ts_exchange_ns: ts, last: d.last })
}

#[derive(Deserialize)]
struct Trade<'a> {
    #[serde(rename = "e")]
    event: &'a str,
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "a", default)]
    agg_id: Option<u64>,
    #[serde(rename = "t", default)]
    trade_id: Option<u64>,
    #[serde(rename = "p")]
    price: &'a str,
    #[serde(rename = "q")]
    qty: &'a str,
    #[serde(rename = "T")]
    trade_ms: u64,
    #[serde(rename = "m")]
    buyer_is_maker: bool,
    // the combined-stream wrapper's keys: such a message is the general path's
    #[serde(default)]
    stream: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    data: Option<serde::de::IgnoredAny>,
}

/// What the caller needs besides the one trade record.
#[derive(Debug, PartialEq, Eq)]
pub struct TradeInfo {
    pub ts_exchange_ns: i64,
    pub trade_id: u64,
}

pub enum TradeResult<'a> {
    Done(TradeInfo),
    OtherSymbol(&'a str),
    Fallback,
}

/// Native fast path for an `aggTrade` (id `a`) or `trade` (id `t`) event: one TRADE record
/// (side = the taker's: a buyer who is the maker means the taker sold) written at index 0.
/// Anything unusual — a wrapped (combined-stream) message, a null, missing or mistyped field,
/// an id beyond 63 bits, a price or size off the grid or not positive — returns `Fallback`.
pub fn decode_trade<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> TradeResult<'a> {
    let Some(d) = scan_trade(raw).or_else(|| serde_json::from_str(std::str::from_utf8(raw).ok()?).ok()) else {
        return TradeResult::Fallback;
    };
    let id = match d.event {
        "aggTrade" => d.agg_id,
        "trade" => d.trade_id,
        _ => None,
    };
    let Some(id) = id else { return TradeResult::Fallback };
    if d.stream.is_some() || d.data.is_some() || id > SEQ_MAX || d.trade_ms > (i64::MAX / 1_000_000) as u64 {
        return TradeResult::Fallback;
    }
    if d.symbol != t.symbol {
        return TradeResult::OtherSymbol(d.symbol);
    }
    if out.len() < RECORD_SIZE {
        return TradeResult::Fallback;
    }
    let (Ok(price), Ok(qty)) = (parse_scaled(d.price.as_bytes(), t.price_exponent), parse_scaled(d.qty.as_bytes(), t.qty_exponent)) else {
        return TradeResult::Fallback;
    };
    if price <= 0 || qty <= 0 {
        return TradeResult::Fallback;
    }
    let ts = d.trade_ms as i64 * 1_000_000;
    let hdr = if d.buyer_is_maker { t.hdr_sell } else { t.hdr_buy };
    put(out, 0, [ts, t.ts_local_ns, price, qty, 0, id as i64, t.instrument_id as i64, hdr | fastpath::HDR_F_LAST]);
    TradeResult::Done(TradeInfo { ts_exchange_ns: ts, trade_id: id })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target<'static> {
        Target { symbol: "BNBBTC", price_exponent: 8, qty_exponent: 8, instrument_id: 7, hdr_bid: 11, hdr_ask: 22,
                 hdr_snap_bid: 0, hdr_snap_ask: 0, hdr_clear: 0, hdr_buy: 11, hdr_sell: 22, ts_local_ns: 5 }
    }

    // The diff-depth payload shown in Binance's spot "WebSocket Streams" documentation.
    const DOC: &[u8] = br#"{"e":"depthUpdate","E":1672515782136,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"]]}"#;

    #[test]
    fn decodes_the_documented_example() {
        let mut out = vec![0u8; 64 * 4];
        let DepthResult::Done(info) = decode_depth(DOC, &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, DepthInfo { records: 2, ts_exchange_ns: 1672515782136_000_000, first: 157, last: 160, pu: None });
        let word = |rec: usize, w: usize| i64::from_le_bytes(out[rec * 64 + w * 8..rec * 64 + w * 8 + 8].try_into().unwrap());
        assert_eq!((word(0, 2), word(0, 3), word(0, 4), word(0, 7)), (240_000, 1_000_000_000, 160, 11));
        assert_eq!((word(1, 2), word(1, 3), word(1, 7)), (260_000, 10_000_000_000, 22 | fastpath::HDR_F_LAST));
    }

    #[test]
    fn decodes_a_rest_snapshot() {
        let mut out = vec![0u8; 64 * 4];
        let t = Target { hdr_snap_bid: 33, hdr_snap_ask: 44, hdr_clear: 55, ..target() };
        let body = br#"{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#;
        let info = decode_snapshot(body, &mut out, &t).expect("taken");
        assert_eq!(info, SnapshotInfo { records: 3, ts_exchange_ns: 0, last: 1027024 });
        let word = |rec: usize, w: usize| i64::from_le_bytes(out[rec * 64 + w * 8..rec * 64 + w * 8 + 8].try_into().unwrap());
        assert_eq!((word(0, 7), word(1, 2), word(1, 4), word(1, 7), word(2, 7)), (55, 400_000_000, 1027024, 33, 44 | fastpath::HDR_F_LAST));
        let futures = br#"{"lastUpdateId":1,"E":1589436922972,"T":1589436922959,"bids":[],"asks":[]}"#;
        assert_eq!(decode_snapshot(futures, &mut out, &t).map(|i| i.ts_exchange_ns), Some(1589436922959_000_000));
        for bad in [&br#"{"lastUpdateId":1,"T":null,"bids":[],"asks":[]}"#[..], br#"{"lastUpdateId":1,"e":"x","bids":[],"asks":[]}"#,
                    br#"{"lastUpdateId":-1,"bids":[],"asks":[]}"#, br#"{"lastUpdateId":1,"bids":[["1","1","1"]],"asks":[]}"#,
                    br#"{"lastUpdateId":1,"bids":[["0","1"]],"asks":[]}"#] {
            assert!(decode_snapshot(bad, &mut out, &t).is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn anything_unusual_falls_back() {
        let mut out = vec![0u8; 64 * 4];
        let t = target();
        for bad in [
            &br#"{"e":"aggTrade","E":1,"s":"BNBBTC"}"#[..],
            br#"{"e":"depthUpdate","E":1,"s":"BNBBTC","U":9,"u":8,"b":[],"a":[]}"#,
            br#"{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["0.000000001","1"]],"a":[]}"#,
            br#"{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["-1","1"]],"a":[]}"#,
            br#"{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1","1","x"]],"a":[]}"#,
            br#"{"e":"depthUpdate","E":"1","s":"BNBBTC","U":1,"u":2,"b":[],"a":[]}"#,
            br#"{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1","1"],["1","1"],["1","1"],["1","1"],["1","1"]],"a":[]}"#,
            b"not json",
        ] {
            assert!(matches!(decode_depth(bad, &mut out, &t), DepthResult::Fallback), "{}", String::from_utf8_lossy(bad));
        }
        let other = br#"{"e":"depthUpdate","E":1,"s":"ETHBTC","U":1,"u":2,"b":[],"a":[]}"#;
        let mut one = vec![0u8; 64];
        let agg = r#"{"e":"aggTrade","E":1,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":1,"l":2,"T":1672515782136,"m":true,"M":true}"#;
        let TradeResult::Done(info) = decode_trade(agg.as_bytes(), &mut one, &t) else { panic!("fallback") };
        assert_eq!(info, TradeInfo { ts_exchange_ns: 1672515782136_000_000, trade_id: 12345 });
        assert_eq!(i64::from_le_bytes(one[56..64].try_into().unwrap()), 22 | fastpath::HDR_F_LAST); // buyer maker: the taker sold
        for bad in [agg.replace(r#""m":true"#, r#""m":1"#), agg.replace(r#""a":12345"#, r#""t":12345"#),
                    agg.replace("0.001", "0.0000000001"), agg.replace(r#""q":"100""#, r#""q":"0""#),
                    agg.replace(r#""e":"aggTrade","#, r#""stream":"x","e":"aggTrade","#)] {
            assert!(matches!(decode_trade(bad.as_bytes(), &mut one, &t), TradeResult::Fallback), "{bad}");
        }
        assert!(matches!(decode_depth(other, &mut out, &t), DepthResult::OtherSymbol("ETHBTC")));
    }

    #[test]
    fn depth_sync_applies_only_the_next_diff() {
        use crate::core::record::kind::BOOK_LEVEL;
        let lvl = (BOOK_LEVEL as i64) << 16;
        let t = Target { hdr_bid: lvl | 1 << 32, hdr_ask: lvl | 2 << 32, ..target() };
        let mut out = vec![0u8; 64 * 4];
        let mut book = Book::new(8, 8);
        // spot: U=157 follows 156; not 150 (a gap: U > 150 + 1) nor 160 (stale: u <= 160)
        assert_eq!(depth_sync(DOC, &mut out, &t, &mut book, 150, 0), None);
        assert_eq!(book.depth(0), 0);
        assert_eq!(depth_sync(DOC, &mut out, &t, &mut book, 160, 0), None);
        let a = depth_sync(DOC, &mut out, &t, &mut book, 156, 0).unwrap();
        assert_eq!(a, fastpath::Applied { records: 2, ts_exchange_ns: 1672515782136_000_000, seq: 160, crossed: false });
        assert_eq!((book.depth(1), book.depth(2)), (1, 1));
        // futures: pu must equal the book's update id; spot's rule refuses a message with pu
        let perp = br#"{"e":"depthUpdate","E":1,"T":2,"s":"BNBBTC","U":161,"u":170,"pu":160,"b":[["0.0027","1"]],"a":[]}"#;
        assert_eq!(depth_sync(perp, &mut out, &t, &mut book, 160, 0), None);
        assert_eq!(depth_sync(perp, &mut out, &t, &mut book, 159, 1), None);
        let a = depth_sync(perp, &mut out, &t, &mut book, 160, 1).unwrap();
        assert!(a.crossed && a.seq == 170 && a.records == 1);
    }
}

#[cfg(test)]
mod one_pass {
    use super::*;

    /// xorshift: the same generated messages on every run
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

    fn value(r: &mut Rng) -> String {
        match r.below(60) {
            0 => "0.000000001".into(),                        // off the grid at exponent 8
            1 => "-1.5".into(),
            2 => "0".into(),
            3 => "1e-3".into(),
            4 => format!("{}", r.below(100_000)),
            _ => format!("{}.{:08}", r.below(100_000), r.below(100_000_000)),
        }
    }

    fn side(r: &mut Rng) -> String {
        let n = r.below(8);
        let lv: Vec<String> = (0..n).map(|_| format!(r#"["{}","{}"]"#, value(r), value(r))).collect();
        format!("[{}]", lv.join(","))
    }

    /// A depthUpdate with its fields in Binance's order or shuffled, some left out, doubled,
    /// of another symbol or event, with `pu` and `T` or not.
    fn message(r: &mut Rng) -> String {
        let sym = if r.below(8) == 0 { "ETHBTC" } else { "BNBBTC" };
        let ev = if r.below(16) == 0 { "aggTrade" } else { "depthUpdate" };
        let (u0, u1) = (r.below(1000), r.below(1000));
        let mut f = vec![format!(r#""e":"{ev}""#), format!(r#""E":{}"#, 1_700_000_000_000 + r.below(1000)),
                         format!(r#""s":"{sym}""#), format!(r#""U":{u0}"#), format!(r#""u":{u1}"#),
                         format!(r#""b":{}"#, side(r)), format!(r#""a":{}"#, side(r))];
        if r.below(2) == 0 {
            f.insert(2, format!(r#""T":{}"#, 1_700_000_000_000 + r.below(1000)));
        }
        if r.below(2) == 0 {
            f.insert(f.len() - 2, format!(r#""pu":{}"#, r.below(1000) as i64 - 1));
        }
        match r.below(10) {
            0 => { let k = r.below(f.len() as u64) as usize; f.remove(k); }
            1 => { let k = r.below(f.len() as u64) as usize; let x = f[k].clone(); f.push(x); }
            2 => { let (i, j) = (r.below(f.len() as u64) as usize, r.below(f.len() as u64) as usize); f.swap(i, j); }
            3 => f.push(r#""x":[1]"#.into()),
            _ => {}
        }
        format!("{{{}}}", f.join(","))
    }

    #[test]
    fn depth_into_equals_the_two_pass_path() {
        let t = Target { symbol: "BNBBTC", price_exponent: 8, qty_exponent: 8, instrument_id: 7, hdr_bid: 11, hdr_ask: 22,
                         hdr_snap_bid: 0, hdr_snap_ask: 0, hdr_clear: 0, hdr_buy: 0, hdr_sell: 0, ts_local_ns: 5 };
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut taken, mut done) = (0, 0);
        for k in 0..20_000 {
            let m = message(&mut r);
            let cap = if k % 7 == 0 { 64 * 5 } else { 64 * 32 }; // a batch too small now and then
            let (mut a, mut b) = (vec![0xAAu8; cap], vec![0x55u8; cap]);
            let one = depth_into(m.as_bytes(), &mut a, &t);
            let two = decode_depth_two_pass(m.as_bytes(), &mut b, &t);
            done += matches!(two, DepthResult::Done(_)) as usize;
            match (one, two) {
                (Some(i), DepthResult::Done(j)) => {
                    taken += 1;
                    assert_eq!(i, j, "{m}");
                    assert_eq!(a[..i.records * 64], b[..j.records * 64], "{m}");
                }
                (Some(_), _) => panic!("one pass took what the two-pass path declines: {m}"),
                (None, _) => {}
            }
            // and decode_depth (the one pass, else the two) answers as the two-pass path does
            match (decode_depth(m.as_bytes(), &mut a, &t), decode_depth_two_pass(m.as_bytes(), &mut b, &t)) {
                (DepthResult::Done(i), DepthResult::Done(j)) => {
                    assert_eq!(i, j, "{m}");
                    assert_eq!(a[..i.records * 64], b[..j.records * 64], "{m}");
                }
                (DepthResult::OtherSymbol(x), DepthResult::OtherSymbol(y)) => assert_eq!(x, y),
                (DepthResult::Fallback, DepthResult::Fallback) => {}
                _ => panic!("decode_depth and the two-pass path differ: {m}"),
            }
        }
        println!("one pass took {taken} of the {done} messages the two-pass path wrote");
        // the one-pass reader takes every message the two-pass path writes, in Binance's order
        assert!(taken > 0 && taken * 10 >= done * 8, "taken {taken} of {done}");
    }

    #[test]
    fn the_asks_first_or_another_symbol_go_to_the_two_pass_path() {
        let t = Target { symbol: "BNBBTC", price_exponent: 8, qty_exponent: 8, instrument_id: 7, hdr_bid: 11, hdr_ask: 22,
                         hdr_snap_bid: 0, hdr_snap_ask: 0, hdr_clear: 0, hdr_buy: 0, hdr_sell: 0, ts_local_ns: 5 };
        let mut out = vec![0u8; 64 * 8];
        let asks_first = br#"{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"a":[["2","1"]],"b":[["1","1"]]}"#;
        assert_eq!(depth_into(asks_first, &mut out, &t), None);
        let DepthResult::Done(i) = decode_depth(asks_first, &mut out, &t) else { panic!("two-pass path") };
        assert_eq!(i.records, 2);
        assert_eq!(i64::from_le_bytes(out[56..64].try_into().unwrap()), 11); // the bid first
        let other = br#"{"e":"depthUpdate","E":1,"s":"ETHBTC","U":1,"u":2,"b":[["1","1"]],"a":[]}"#;
        assert_eq!(depth_into(other, &mut out, &t), None);
        assert!(matches!(decode_depth(other, &mut out, &t), DepthResult::OtherSymbol("ETHBTC")));
        let mut small = vec![0u8; 64];
        let two = br#"{"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1","1"]],"a":[["2","1"]]}"#;
        assert_eq!(depth_into(two, &mut small, &t), None);
        assert!(matches!(decode_depth(two, &mut small, &t), DepthResult::Fallback));
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// `cargo test --release -p nexus-native binance::timing -- --ignored --nocapture`: ns per
    /// depthUpdate of a Binance spot frame (not an assertion: a figure to read).
    #[test]
    #[ignore]
    fn depth_ns() {
        let raw = br#"{"e":"depthUpdate","E":1767225600600,"s":"BTCUSDT","U":50000000198,"u":50000000236,"b":[["64996.80000000","0.03508000"],["64996.13000000","0.01040000"],["64995.65000000","0.01555000"]],"a":[["64994.86000000","0.00000000"],["64995.24000000","0.00000000"],["64995.93000000","0.00000000"],["64996.49000000","0.00000000"],["64996.82000000","0.05004000"],["64997.42000000","0.00658000"],["64997.45000000","0.01000000"],["64998.45000000","0.01000000"],["64999.45000000","0.01000000"],["65000.45000000","0.01000000"]]}"#;
        let t = Target { symbol: "BTCUSDT", price_exponent: 8, qty_exponent: 8, instrument_id: 7, hdr_bid: 11, hdr_ask: 22,
                         hdr_snap_bid: 0, hdr_snap_ask: 0, hdr_clear: 0, hdr_buy: 11, hdr_sell: 22, ts_local_ns: 5 };
        let mut out = vec![0u8; 64 * 64];
        let n = 200_000;
        for (name, f) in [("scan", 0), ("serde", 1), ("decode", 2), ("parse_scaled x26", 3)] {
            let t0 = std::time::Instant::now();
            let mut k = 0usize;
            for _ in 0..n {
                k += match f {
                    0 => scan_depth(std::hint::black_box(raw)).map(|d| d.b.len()).unwrap_or(0),
                    1 => serde_json::from_slice::<Depth>(std::hint::black_box(raw)).map(|d| d.b.len()).unwrap_or(0),
                    2 => match decode_depth(std::hint::black_box(raw), &mut out, &t) { DepthResult::Done(i) => i.records, _ => 0 },
                    _ => (0..26).map(|j| parse_scaled(std::hint::black_box(b"64996.80000000"), 8).unwrap_or(j) as usize).sum::<usize>() & 1,
                };
            }
            println!("{name}: {:.0} ns ({k})", t0.elapsed().as_nanos() as f64 / n as f64);
        }
    }
}

#[cfg(test)]
mod frames_timing {
    use super::*;

    /// NEXUS_FRAMES=<file of frames, one a line> cargo test --release -p nexus-native
    /// binance::frames_timing -- --ignored --nocapture
    #[test]
    #[ignore]
    fn frames_ns() {
        let Ok(path) = std::env::var("NEXUS_FRAMES") else { return };
        let text = std::fs::read(path).unwrap();
        let lines: Vec<&[u8]> = text.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect();
        let t = Target { symbol: "BTCUSDT", price_exponent: 8, qty_exponent: 8, instrument_id: 7,
                         hdr_bid: (1 << 16) | (1 << 32), hdr_ask: (1 << 16) | (2 << 32),
                         hdr_snap_bid: (1 << 16) | (2 << 24) | (1 << 32), hdr_snap_ask: (1 << 16) | (2 << 24) | (2 << 32),
                         hdr_clear: (2 << 16) | (2 << 24), hdr_buy: 11, hdr_sell: 22, ts_local_ns: 5 };
        let mut out = vec![0u8; 64 * 4096];
        let si = lines.iter().position(|l| l.starts_with(b"{\"lastUpdateId\"")).unwrap();
        let s = decode_snapshot(lines[si], &mut out, &t).unwrap();
        let mut book0 = Book::new(8, 8);
        book0.apply_bytes(&out[..s.records * 64]);
        let diffs: Vec<&[u8]> = lines[si + 1..].iter().copied().filter(|l| l.starts_with(b"{\"e\":\"depthU")).collect();
        let rounds = 300;
        let mut best = [f64::MAX; 4];
        for _ in 0..rounds {
            // fused
            let mut book = book0.clone();
            let mut last = s.last as i64;
            let t0 = std::time::Instant::now();
            for d in &diffs {
                let a = depth_sync(d, &mut out, &t, &mut book, last, 0).expect("applied");
                last = a.seq;
            }
            best[0] = best[0].min(t0.elapsed().as_nanos() as f64 / diffs.len() as f64);
            let t0 = std::time::Instant::now();
            let mut k = 0;
            for d in &diffs {
                k += scan_depth(std::hint::black_box(d)).map(|d| d.b.len()).unwrap_or(0);
            }
            best[1] = best[1].min(t0.elapsed().as_nanos() as f64 / diffs.len() as f64);
            std::hint::black_box(k);
            let t0 = std::time::Instant::now();
            for d in &diffs {
                if let DepthResult::Done(i) = decode_depth(std::hint::black_box(d), &mut out, &t) { k += i.records }
            }
            best[2] = best[2].min(t0.elapsed().as_nanos() as f64 / diffs.len() as f64);
            std::hint::black_box(k);
        }
        // apply only: records pre-decoded
        let recs: Vec<Vec<u8>> = diffs.iter().map(|d| {
            let DepthResult::Done(i) = decode_depth(d, &mut out, &t) else { panic!() };
            out[..i.records * 64].to_vec()
        }).collect();
        for _ in 0..rounds {
            let mut book = book0.clone();
            let t0 = std::time::Instant::now();
            for r in &recs {
                book.apply_bytes(r);
                std::hint::black_box(book.crossed());
            }
            best[3] = best[3].min(t0.elapsed().as_nanos() as f64 / diffs.len() as f64);
        }
        println!("{} diffs: depth_sync {:.0} ns, scan {:.0} ns, decode {:.0} ns, apply {:.0} ns (best of {rounds})",
                 diffs.len(), best[0], best[1], best[2], best[3]);
    }
}
