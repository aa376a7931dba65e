//! Native fast path for OKX public `books` and `trades` pushes: parse the message and write
//! its records straight into a record batch.
//!
//! Only the usual shapes are taken: `{"arg":{"channel":"books","instId":I},"action":A,
//! "data":[one book]}` and `{"arg":{"channel":"trades","instId":I},"data":[trades of I]}`,
//! with no other top-level key. Anything unusual — another channel, an extra top-level key
//! (an `event`), a missing or mistyped field, an escaped string, two book entries, a decimal
//! off the instrument's grid, a non-positive price, a negative (book) or non-positive (trade)
//! size, a non-numeric trade id, a batch too small — returns `Fallback`, and the Python
//! decoder handles the message (and produces its precise error). The fast path never changes
//! what is accepted or rejected, only how fast.

use crate::core::book::Book;
use crate::core::fastpath::{self, fits, mark_last, ms_text, Lv};
use crate::core::scan::{Scan, Seen};
use serde::Deserialize;

#[derive(Deserialize)]
struct Arg<'a> {
    channel: &'a str,
    #[serde(rename = "instId")]
    inst_id: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Msg<'a> {
    #[serde(borrow)]
    arg: Arg<'a>,
    // absent: None; null: an error (Python refuses a null action; absent means snapshot)
    #[serde(borrow, default, deserialize_with = "present")]
    action: Option<&'a str>,
    #[serde(borrow)]
    data: Vec<Entry<'a>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de str>, D::Error> {
    <&'de str>::deserialize(d).map(Some)
}

/// A book entry or a trade: the fields of both, each optional (checked per channel).
#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow, default)]
    asks: Option<Vec<Lv<'a>>>,
    #[serde(borrow, default)]
    bids: Option<Vec<Lv<'a>>>,
    #[serde(default)]
    ts: Option<&'a str>,
    #[serde(default)]
    checksum: Option<i64>,
    #[serde(rename = "seqId", default)]
    seq_id: Option<i64>,
    #[serde(rename = "prevSeqId", default)]
    prev_seq_id: Option<i64>,
    #[serde(rename = "instId", default)]
    inst_id: Option<&'a str>,
    #[serde(rename = "tradeId", default)]
    trade_id: Option<&'a str>,
    #[serde(default)]
    px: Option<&'a str>,
    #[serde(default)]
    sz: Option<&'a str>,
    #[serde(default)]
    side: Option<&'a str>,
}

/// What the caller needs besides the records.
#[derive(Debug, PartialEq, Eq)]
pub enum Info<'a> {
    Book { records: usize, snapshot: bool, ts_exchange_ns: i64, seq: Option<i64>, prev: Option<i64>, checksum: Option<i64> },
    /// One segment of trades: the first trade's time, every trade id's text.
    Trades { records: usize, ts_exchange_ns: i64, trade_ids: Vec<&'a str> },
}

pub enum OkxResult<'a> {
    Done(Info<'a>),
    /// The message is for another instrument than the caller's parameters describe.
    OtherSymbol(&'a str),
    Fallback,
}

pub use crate::core::fastpath::Target;

const INT32: std::ops::RangeInclusive<i64> = (i32::MIN as i64)..=(i32::MAX as i64);

pub fn decode<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> OkxResult<'a> {
    // simdjson (the general path) validates every string's UTF-8; serde_json skips an ignored
    // one (the one-pass reader takes printable ASCII only)
    let Some(m) = scan_msg(raw).or_else(|| serde_json::from_str(std::str::from_utf8(raw).ok()?).ok()) else {
        return OkxResult::Fallback;
    };
    let r = match m.arg.channel {
        "books" => book(&m, out, t),
        "trades" => trades(&m, out, t),
        _ => None,
    };
    r.unwrap_or(OkxResult::Fallback)
}

/// A push in the compact form OKX sends, read in one pass (core/scan.rs); None: serde_json
/// reads it (the same `Msg`, or a refusal).
fn scan_msg(raw: &[u8]) -> Option<Msg<'_>> {
    let (mut arg, mut action, mut data) = (None, None, None);
    let mut seen = Seen::default();
    Scan::new(raw).object(|k, c| {
        match k {
            "arg" => { seen.first(0)?; arg = Some(scan_arg(c)?) }
            "action" => { seen.first(1)?; action = Some(c.str()?) }
            "data" => {
                seen.first(2)?;
                let mut v = Vec::with_capacity(2);
                c.array(|c| { v.push(scan_entry(c)?); Some(()) })?;
                data = Some(v);
            }
            _ => return None,  // Msg denies unknown fields
        }
        Some(())
    })?;
    Some(Msg { arg: arg?, action, data: data? })
}

fn scan_arg<'a>(c: &mut Scan<'a>) -> Option<Arg<'a>> {
    let (mut channel, mut inst_id) = (None, None);
    let mut seen = Seen::default();
    c.fields(|k, c| {
        match k {
            "channel" => { seen.first(0)?; channel = Some(c.str()?) }
            "instId" => { seen.first(1)?; inst_id = Some(c.str()?) }
            _ => c.skip()?,
        }
        Some(())
    })?;
    Some(Arg { channel: channel?, inst_id: inst_id? })
}

fn scan_entry<'a>(c: &mut Scan<'a>) -> Option<Entry<'a>> {
    let mut e = Entry { asks: None, bids: None, ts: None, checksum: None, seq_id: None, prev_seq_id: None, inst_id: None,
                        trade_id: None, px: None, sz: None, side: None };
    let mut seen = Seen::default();
    c.fields(|k, c| {
        match k {
            "asks" => { seen.first(0)?; let mut v = Vec::with_capacity(16); c.levels(&mut v)?; e.asks = Some(v) }
            "bids" => { seen.first(1)?; let mut v = Vec::with_capacity(16); c.levels(&mut v)?; e.bids = Some(v) }
            "ts" => { seen.first(2)?; e.ts = Some(c.str()?) }
            "checksum" => { seen.first(3)?; e.checksum = Some(c.i64()?) }
            "seqId" => { seen.first(4)?; e.seq_id = Some(c.i64()?) }
            "prevSeqId" => { seen.first(5)?; e.prev_seq_id = Some(c.i64()?) }
            "instId" => { seen.first(6)?; e.inst_id = Some(c.str()?) }
            "tradeId" => { seen.first(7)?; e.trade_id = Some(c.str()?) }
            "px" => { seen.first(8)?; e.px = Some(c.str()?) }
            "sz" => { seen.first(9)?; e.sz = Some(c.str()?) }
            "side" => { seen.first(10)?; e.side = Some(c.str()?) }
            _ => c.skip()?,
        }
        Some(())
    })?;
    Some(e)
}

fn book<'a>(m: &Msg<'a>, out: &mut [u8], t: &Target) -> Option<OkxResult<'a>> {
    let snapshot = match m.action.unwrap_or("snapshot") {
        "snapshot" => true,
        "update" => false,
        _ => return None,
    };
    if m.data.len() != 1 {
        return None;
    }
    if m.arg.inst_id != t.symbol {
        return Some(OkxResult::OtherSymbol(m.arg.inst_id));
    }
    let d = &m.data[0];
    for v in [d.seq_id, d.prev_seq_id].into_iter().flatten() {
        if v < -1 {
            return None;
        }
    }
    if let Some(c) = d.checksum {
        if !INT32.contains(&c) {
            return None;
        }
    }
    let ts = ms_text(d.ts?)?;
    let (bids, asks) = (d.bids.as_ref()?, d.asks.as_ref()?);
    let seq_word = d.seq_id.unwrap_or(0).max(0);
    let n = fastpath::book(out, t, snapshot, ts, seq_word, bids.iter().map(|lv| lv.0), bids.len(),
                           asks.iter().map(|lv| lv.0), asks.len())?;
    Some(OkxResult::Done(Info::Book { records: n, snapshot, ts_exchange_ns: ts, seq: d.seq_id, prev: d.prev_seq_id,
                                      checksum: d.checksum }))
}

fn trades<'a>(m: &Msg<'a>, out: &mut [u8], t: &Target) -> Option<OkxResult<'a>> {
    if m.action.is_some() || m.data.is_empty() {
        return None;
    }
    let first = m.data[0].inst_id?;
    if first != t.symbol {
        return Some(OkxResult::OtherSymbol(first));
    }
    if !fits(out, m.data.len()) {
        return None;
    }
    let mut ids = Vec::with_capacity(m.data.len());
    let mut ts_first = 0;
    for (i, d) in m.data.iter().enumerate() {
        if d.inst_id? != t.symbol {
            return None;
        }
        let ts = ms_text(d.ts?)?;
        let buy = match d.side? {
            "buy" => true,
            "sell" => false,
            _ => return None,
        };
        let id = d.trade_id?;
        if id.is_empty() || id.len() > 18 || !id.bytes().all(|c| c.is_ascii_digit()) {
            return None; // a hashed id: Python's
        }
        let tid: i64 = id.parse().ok()?;
        fastpath::trade(out, i, t, d.px?, d.sz?, buy, tid, ts)?;
        if i == 0 {
            ts_first = ts;
        }
        ids.push(id);
    }
    mark_last(out, m.data.len());
    Some(OkxResult::Done(Info::Trades { records: m.data.len(), ts_exchange_ns: ts_first, trade_ids: ids }))
}

/// What `book_sync` applied, with the update's prevSeqId, the checksum it sent (0: none) and
/// the book's own checksum after the apply (0 when none was sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Synced {
    pub applied: fastpath::Applied,
    pub prev: i64,
    pub sent: i64,
    pub mine: i64,
}

/// The fused steady state of a synced book (booksync.py `Sync.fuse`): a `books*` update of
/// `t`'s symbol decoded into `out` as `decode` writes it and, when its prevSeqId is
/// `last_seq`, applied to `book`, then the checksum of its top `depth` levels computed when the
/// update sent a nonzero one (the caller compares and discards the book on a mismatch). None
/// (the book untouched): the Python path decides (a snapshot, a gap, a duplicate, no
/// seqId/prevSeqId, trades, another symbol, anything `decode` declines).
pub fn book_sync(raw: &[u8], out: &mut [u8], t: &Target, book: &mut Book, last_seq: i64, depth: usize) -> Option<Synced> {
    let OkxResult::Done(Info::Book { records, snapshot: false, ts_exchange_ns, seq: Some(seq), prev: Some(prev), checksum }) =
        decode(raw, out, t) else { return None };
    if prev != last_seq {
        return None;
    }
    let applied = fastpath::apply(book, out, records, ts_exchange_ns, seq);
    let sent = checksum.unwrap_or(0);
    let mine = if sent != 0 { book.checksum_okx(depth) as i64 } else { 0 };
    Some(Synced { applied, prev, sent, mine })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target<'static> {
        Target { symbol: "BTC-USDT-SWAP", price_exponent: 1, qty_exponent: 2, instrument_id: 7, hdr_bid: 11, hdr_ask: 22,
                 hdr_snap_bid: 33, hdr_snap_ask: 44, hdr_clear: 55, hdr_buy: 66, hdr_sell: 77, ts_local_ns: 5 }
    }

    fn word(out: &[u8], rec: usize, w: usize) -> i64 {
        i64::from_le_bytes(out[rec * 64 + w * 8..rec * 64 + w * 8 + 8].try_into().unwrap())
    }

    #[test]
    fn decodes_a_book_update_and_trades() {
        let mut out = vec![0u8; 64 * 8];
        let m = br#"{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"update","data":[{"asks":[["64997","0","0","0"]],"bids":[["64999.3","4.82","0","2"]],"ts":"1767225601100","checksum":-5,"prevSeqId":10,"seqId":12}]}"#;
        let OkxResult::Done(info) = decode(m, &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, Info::Book { records: 2, snapshot: false, ts_exchange_ns: 1767225601100_000_000, seq: Some(12),
                                      prev: Some(10), checksum: Some(-5) });
        assert_eq!((word(&out, 0, 2), word(&out, 0, 3), word(&out, 0, 4), word(&out, 0, 7)), (649993, 482, 12, 11));
        assert_eq!((word(&out, 1, 2), word(&out, 1, 3), word(&out, 1, 7)), (649970, 0, 22 | crate::core::fastpath::HDR_F_LAST));
        let m = br#"{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","tradeId":"900000052","px":"64998.9","sz":"2.59","side":"sell","ts":"1767225601130","count":"1"}]}"#;
        let OkxResult::Done(info) = decode(m, &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, Info::Trades { records: 1, ts_exchange_ns: 1767225601130_000_000, trade_ids: vec!["900000052"] });
        assert_eq!((word(&out, 0, 2), word(&out, 0, 3), word(&out, 0, 5), word(&out, 0, 7)), (649989, 259, 900000052, 77 | crate::core::fastpath::HDR_F_LAST));
    }

    #[test]
    fn anything_unusual_falls_back() {
        let mut out = vec![0u8; 64 * 3];
        let t = target();
        let ok = r#"{"arg":{"channel":"trades","instId":"BTC-USDT-SWAP"},"data":[{"instId":"BTC-USDT-SWAP","tradeId":"9","px":"1.5","sz":"2","side":"buy","ts":"1"}]}"#;
        let OkxResult::Done(_) = decode(ok.as_bytes(), &mut out, &t) else { panic!("fallback") };
        for bad in [
            ok.replace(r#""data""#, r#""event":"x","data""#),
            ok.replace("1.5", "1.55"),
            ok.replace("1.5", "0"),
            ok.replace(r#""sz":"2""#, r#""sz":"0""#),
            ok.replace("buy", "Buy"),
            ok.replace(r#""tradeId":"9""#, r#""tradeId":9"#),
            ok.replace(r#""tradeId":"9""#, r#""tradeId":"a9""#),
            ok.replace(r#""ts":"1""#, r#""ts":"""#),
            ok.replace("trades", "trades-all"),
            ok.replace(r#""side":"buy","ts":"1"}"#, r#""side":"buy","ts":"1"},{"instId":"ETH-USDT-SWAP","tradeId":"9","px":"1.5","sz":"2","side":"buy","ts":"1"}"#),
            "not json".to_string(),
        ] {
            assert!(matches!(decode(bad.as_bytes(), &mut out, &t), OkxResult::Fallback), "{bad}");
        }
        let other = ok.replace("BTC-USDT-SWAP", "ETH-USDT-SWAP");
        assert!(matches!(decode(other.as_bytes(), &mut out, &t), OkxResult::OtherSymbol("ETH-USDT-SWAP")));
    }

    #[test]
    fn book_sync_applies_the_chained_update_and_gives_both_checksums() {
        use crate::core::record::kind::BOOK_LEVEL;
        let lvl = (BOOK_LEVEL as i64) << 16;
        let t = Target { hdr_bid: lvl | 1 << 32, hdr_ask: lvl | 2 << 32, ..target() };
        let mut out = vec![0u8; 64 * 8];
        let mut book = Book::new(1, 2);
        let m = br#"{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"update","data":[{"asks":[["65000.1","1","0","1"]],"bids":[["64999.9","2","0","1"]],"ts":"3","checksum":-5,"prevSeqId":10,"seqId":12}]}"#;
        assert_eq!(book_sync(m, &mut out, &t, &mut book, 9, 25), None);  // a gap
        assert_eq!(book.depth(0), 0);
        let s = book_sync(m, &mut out, &t, &mut book, 10, 25).unwrap();
        assert_eq!(s.applied, fastpath::Applied { records: 2, ts_exchange_ns: 3_000_000, seq: 12, crossed: false });
        assert_eq!((s.prev, s.sent, s.mine), (10, -5, book.checksum_okx(25) as i64));
        let no_seq = br#"{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"action":"update","data":[{"asks":[],"bids":[],"ts":"3","checksum":0,"seqId":13}]}"#;
        assert_eq!(book_sync(no_seq, &mut out, &t, &mut book, 12, 25), None);
    }
}
