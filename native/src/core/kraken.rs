//! Native fast path for Kraken WebSocket v2 `book` messages (snapshot and update): scan the
//! message and write its level records straight into a record batch.
//!
//! Kraken writes prices and quantities as JSON numbers; the Python decoder quotes them
//! textually (nexus/venues/kraken/data.py, NUMERIC_KEYS) so the decimal text reaches
//! `parse_scaled` exactly as written. This scanner takes the same text: the token after
//! `"price":` / `"qty":` made of the characters that regex takes (`-?[0-9][0-9.eE+-]*`).
//!
//! Only the exact shape Kraken sends is taken, byte by byte, with no whitespace:
//! `{"channel":"book","type":"snapshot"|"update","data":[{"symbol":S,"bids":[L,..],
//! "asks":[L,..](,"checksum":N)?(,"timestamp":T)?}]}` with L = `{"price":P,"qty":Q}`.
//! Anything else — another key order, whitespace, an escaped string, two data entries, a
//! decimal off the grid, a non-positive price or negative size, a checksum beyond 32 bits, a
//! batch too small — returns `Fallback`, and the Python decoder handles the message (and
//! produces its precise error). The fast path never changes what is accepted or rejected.

use crate::core::decimal::parse_scaled;
use crate::core::fastpath::{self, iso_ns, mark_last, put};
use crate::core::record::RECORD_SIZE;

/// What the caller needs besides the records.
#[derive(Debug, PartialEq, Eq)]
pub struct BookInfo {
    pub records: usize,
    pub snapshot: bool,
    pub checksum: Option<u32>,
    /// The `timestamp` (RFC 3339) in ns, every record's ts_exchange_ns; 0 when there is none.
    pub ts_exchange_ns: i64,
}

pub enum BookResult<'a> {
    Done(BookInfo),
    /// The message is for another symbol than the caller's parameters describe.
    OtherSymbol(&'a str),
    /// Not for the fast path: let the general decoder handle it.
    Fallback,
}

pub use crate::core::fastpath::Target;

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.b.len() >= self.i + s.len() && &self.b[self.i..self.i + s.len()] == s {
            self.i += s.len();
            Some(())
        } else {
            None
        }
    }

    fn peek(&self, s: &[u8]) -> bool {
        self.b.len() >= self.i + s.len() && &self.b[self.i..self.i + s.len()] == s
    }

    /// A string's content up to its closing quote; None on an escape or a control character.
    fn string(&mut self) -> Option<&'a str> {
        let start = self.i;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'"' => {
                    let s = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                    self.i += 1;
                    return Some(s);
                }
                b'\\' | 0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
        None
    }

    /// The number token the Python quoting takes: `-?[0-9][0-9.eE+-]*`.
    fn number(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        if self.i < self.b.len() && self.b[self.i] == b'-' {
            self.i += 1;
        }
        if self.i >= self.b.len() || !self.b[self.i].is_ascii_digit() {
            return None;
        }
        while self.i < self.b.len() && matches!(self.b[self.i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
            self.i += 1;
        }
        Some(&self.b[start..self.i])
    }

    /// A JSON unsigned integer (no leading zero) below 2^63 (a trade id the record keeps as is).
    fn u63(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            v = v.checked_mul(10)?.checked_add((self.b[self.i] - b'0') as u64)?;
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || (n > 1 && self.b[start] == b'0') || v > i64::MAX as u64 {
            return None;
        }
        if self.i < self.b.len() && matches!(self.b[self.i], b'.' | b'e' | b'E') {
            return None;
        }
        Some(v)
    }

    /// A JSON unsigned integer (no leading zero) that fits 32 bits.
    fn u32(&mut self) -> Option<u32> {
        let start = self.i;
        let mut v: u64 = 0;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            v = v * 10 + (self.b[self.i] - b'0') as u64;
            if v > u32::MAX as u64 {
                return None;
            }
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || (n > 1 && self.b[start] == b'0') {
            return None;
        }
        // a JSON number may go on with a fraction or exponent: not an integer then
        if self.i < self.b.len() && matches!(self.b[self.i], b'.' | b'e' | b'E') {
            return None;
        }
        Some(v as u32)
    }
}

pub fn decode_book<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> BookResult<'a> {
    match scan(raw, out, t) {
        Some(r) => r,
        None => BookResult::Fallback,
    }
}

fn scan<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> Option<BookResult<'a>> {
    let mut s = Scan { b: raw, i: 0 };
    s.lit(br#"{"channel":"book","type":""#)?;
    let snapshot = if s.peek(b"snapshot\"") {
        s.i += 9;
        true
    } else {
        s.lit(b"update\"")?;
        false
    };
    s.lit(br#","data":[{"symbol":""#)?;
    let symbol = s.string()?;
    if symbol != t.symbol {
        return Some(BookResult::OtherSymbol(symbol));
    }
    let cap = out.len() / RECORD_SIZE;
    let mut n = usize::from(snapshot);
    if n > cap {
        return None;
    }
    let ts_local = t.ts_local_ns;
    let iid = t.instrument_id as i64;
    for (key, hdr) in [
        (&br#","bids":["#[..], if snapshot { t.hdr_snap_bid } else { t.hdr_bid }),
        (&br#","asks":["#[..], if snapshot { t.hdr_snap_ask } else { t.hdr_ask }),
    ] {
        s.lit(key)?;
        if !s.peek(b"]") {
            loop {
                s.lit(br#"{"price":"#)?;
                let p = s.number()?;
                s.lit(br#","qty":"#)?;
                let q = s.number()?;
                s.lit(b"}")?;
                let price = parse_scaled(p, t.price_exponent).ok()?;
                let qty = parse_scaled(q, t.qty_exponent).ok()?;
                if price <= 0 || qty < 0 || n >= cap {
                    return None;
                }
                put(out, n, [0, ts_local, price, qty, 0, 0, iid, hdr]);
                n += 1;
                if s.peek(b",") {
                    s.i += 1;
                } else {
                    break;
                }
            }
        }
        s.lit(b"]")?;
    }
    let mut checksum = None;
    if s.peek(br#","checksum":"#) {
        s.i += 12;
        checksum = Some(s.u32()?);
    }
    let mut ts = 0;
    if s.peek(br#","timestamp":""#) {
        s.i += 14;
        ts = iso_ns(s.string()?)?;
    }
    s.lit(b"}]}")?;
    if s.i != raw.len() {
        return None;
    }
    if snapshot {
        put(out, 0, [0, ts_local, 0, 0, 0, 0, iid, t.hdr_clear]);
    }
    if ts != 0 {  // known only after the levels: word 0 of each record
        for r in out[..n * RECORD_SIZE].chunks_exact_mut(RECORD_SIZE) {
            r[..8].copy_from_slice(&ts.to_le_bytes());
        }
    }
    mark_last(out, n);
    Some(BookResult::Done(BookInfo { records: n, snapshot, checksum, ts_exchange_ns: ts }))
}

/// What the caller needs besides a trade message's records.
#[derive(Debug, PartialEq, Eq)]
pub struct TradesInfo {
    pub records: usize,
    /// The first trade's time (the segment's ts_exchange_ns).
    pub ts_exchange_ns: i64,
    pub trade_ids: Vec<u64>,
}

pub enum TradesResult<'a> {
    Done(TradesInfo),
    /// The trades are of another symbol than the caller's parameters describe.
    OtherSymbol(&'a str),
    /// Not for the fast path (an empty array too): let the general decoder handle it.
    Fallback,
}

/// Native fast path for a Kraken v2 `trade` message, the exact shape Kraken sends, byte by byte:
/// `{"channel":"trade","type":"snapshot"|"update","data":[T,..]}` with T =
/// `{"symbol":S,"side":"buy"|"sell","price":P,"qty":Q,"ord_type":O,"trade_id":N,"timestamp":TS}`,
/// every trade of one symbol: one TRADE record each (side = the taker's), F_LAST on the last.
/// Anything else — another key order, whitespace, an escaped string, two symbols, a trade id
/// that is not an integer below 2^63, a value off the grid or not positive, a timestamp the
/// native reader does not take, a batch too small — returns `Fallback`.
pub fn decode_trades<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> TradesResult<'a> {
    scan_trades(raw, out, t).unwrap_or(TradesResult::Fallback)
}

fn scan_trades<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> Option<TradesResult<'a>> {
    let mut s = Scan { b: raw, i: 0 };
    s.lit(br#"{"channel":"trade","type":""#)?;
    if s.peek(b"snapshot\"") {
        s.i += 9;
    } else {
        s.lit(b"update\"")?;
    }
    s.lit(br#","data":["#)?;
    let cap = out.len() / RECORD_SIZE;
    let mut ids = Vec::new();
    let mut ts_first = 0;
    loop {
        s.lit(br#"{"symbol":""#)?;
        let symbol = s.string()?;
        if symbol != t.symbol {
            return if ids.is_empty() { Some(TradesResult::OtherSymbol(symbol)) } else { None };
        }
        s.lit(br#","side":""#)?;
        let buy = match s.string()? {
            "buy" => true,
            "sell" => false,
            _ => return None,
        };
        s.lit(br#","price":"#)?;
        let p = s.number()?;
        s.lit(br#","qty":"#)?;
        let q = s.number()?;
        s.lit(br#","ord_type":""#)?;
        s.string()?;
        s.lit(br#","trade_id":"#)?;
        let id = s.u63()?;
        s.lit(br#","timestamp":""#)?;
        let ts = iso_ns(s.string()?)?;
        s.lit(b"}")?;
        let i = ids.len();
        if i >= cap {
            return None;
        }
        // the general path reads the number's text: the same bytes here
        let (p, q) = (std::str::from_utf8(p).ok()?, std::str::from_utf8(q).ok()?);
        fastpath::trade(out, i, t, p, q, buy, id as i64, ts)?;
        if i == 0 {
            ts_first = ts;
        }
        ids.push(id);
        if s.peek(b",") {
            s.i += 1;
        } else {
            break;
        }
    }
    s.lit(b"]}")?;
    if s.i != raw.len() {
        return None;
    }
    mark_last(out, ids.len());
    Some(TradesResult::Done(TradesInfo { records: ids.len(), ts_exchange_ns: ts_first, trade_ids: ids }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target<'static> {
        Target { symbol: "BTC/USD", price_exponent: 1, qty_exponent: 8, instrument_id: 7, hdr_bid: 11, hdr_ask: 22,
                 hdr_snap_bid: 33, hdr_snap_ask: 44, hdr_clear: 55, hdr_buy: 0, hdr_sell: 0, ts_local_ns: 5 }
    }

    fn word(out: &[u8], rec: usize, w: usize) -> i64 {
        i64::from_le_bytes(out[rec * 64 + w * 8..rec * 64 + w * 8 + 8].try_into().unwrap())
    }

    #[test]
    fn decodes_an_update_and_a_snapshot() {
        let mut out = vec![0u8; 64 * 8];
        let m = br#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,"qty":0.10000000}],"asks":[{"price":45285.2,"qty":0}],"checksum":3310070434,"timestamp":"2023-10-06T17:35:55.440295Z"}]}"#;
        let BookResult::Done(info) = decode_book(m, &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, BookInfo { records: 2, snapshot: false, checksum: Some(3310070434),
                                    ts_exchange_ns: 1_696_613_755_440_295_000 });
        assert_eq!((word(&out, 0, 2), word(&out, 0, 3), word(&out, 0, 7)), (452835, 10_000_000, 11));
        assert_eq!((word(&out, 1, 0), word(&out, 1, 2), word(&out, 1, 3), word(&out, 1, 7)),
                   (1_696_613_755_440_295_000, 452852, 0, 22 | crate::core::fastpath::HDR_F_LAST));
        let m = br#"{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":1,"qty":2}],"checksum":0}]}"#;
        let BookResult::Done(info) = decode_book(m, &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, BookInfo { records: 2, snapshot: true, checksum: Some(0), ts_exchange_ns: 0 });
        assert_eq!((word(&out, 0, 7), word(&out, 1, 2), word(&out, 1, 7)), (55, 10, 44 | crate::core::fastpath::HDR_F_LAST));
    }

    #[test]
    fn decodes_trades() {
        let mut out = vec![0u8; 64 * 3];
        let t = Target { hdr_buy: 66, hdr_sell: 77, ..target() };
        let ok = r#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":64999.6,"qty":0.00172737,"ord_type":"market","trade_id":80000001,"timestamp":"2023-10-06T17:35:55.440295Z"},{"symbol":"BTC/USD","side":"buy","price":65000,"qty":1,"ord_type":"limit","trade_id":80000002,"timestamp":"2023-10-06T17:35:56Z"}]}"#;
        let TradesResult::Done(info) = decode_trades(ok.as_bytes(), &mut out, &t) else { panic!("fallback") };
        assert_eq!(info, TradesInfo { records: 2, ts_exchange_ns: 1_696_613_755_440_295_000, trade_ids: vec![80000001, 80000002] });
        assert_eq!((word(&out, 0, 2), word(&out, 0, 3), word(&out, 0, 5), word(&out, 0, 7)), (649996, 172737, 80000001, 77));
        assert_eq!((word(&out, 1, 0), word(&out, 1, 2), word(&out, 1, 7)),
                   (1_696_613_756_000_000_000, 650000, 66 | crate::core::fastpath::HDR_F_LAST));
        for bad in [
            ok.replace(r#""side":"sell""#, r#""side":"Sell""#),
            ok.replace("64999.6", "64999.65"),
            ok.replace(r#""trade_id":80000001"#, r#""trade_id":-1"#),
            ok.replace(r#""trade_id":80000001"#, r#""trade_id":9223372036854775808"#),
            ok.replace(r#""trade_id":80000001"#, r#""trade_id":"80000001""#),
            ok.replace(r#""qty":1,"#, r#""qty":0,"#),
            ok.replace(r#","symbol":"BTC/USD","side":"buy""#, r#","symbol":"ETH/USD","side":"buy""#).replace(r#"},{"symbol":"BTC/USD","side":"buy""#, r#"},{"symbol":"ETH/USD","side":"buy""#),
            ok.replace(r#""data":[{"#, r#""data":[ {"#),
            r#"{"channel":"trade","type":"update","data":[]}"#.to_string(),
        ] {
            assert!(matches!(decode_trades(bad.as_bytes(), &mut out, &t), TradesResult::Fallback), "{bad}");
        }
        let other = ok.replace("BTC/USD", "ETH/USD");
        assert!(matches!(decode_trades(other.as_bytes(), &mut out, &t), TradesResult::OtherSymbol("ETH/USD")));
    }

    #[test]
    fn anything_unusual_falls_back() {
        let mut out = vec![0u8; 64 * 3];
        let t = target();
        let ok = r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1.5,"qty":1}],"asks":[],"checksum":1}]}"#;
        let BookResult::Done(_) = decode_book(ok.as_bytes(), &mut out, &t) else { panic!("fallback") };
        for bad in [
            ok.replace("update", "other"),
            ok.replace(r#""channel":"book","#, r#""channel": "book","#),
            ok.replace("1.5", "1.55"),
            ok.replace("1.5", "-1.5"),
            ok.replace("1.5", "0"),
            ok.replace(r#""qty":1"#, r#""qty":-1"#),
            ok.replace(r#""qty":1"#, r#""qty":"1""#),
            ok.replace("\"checksum\":1", "\"checksum\":4294967296"),
            ok.replace("\"checksum\":1", "\"checksum\":01"),
            ok.replace("\"checksum\":1", "\"checksum\":1.0"),
            ok.replace("}]}", "},{}]}"),
            ok.replace("}]}", "}]} "),
            ok.replace(r#""asks":[]"#, r#""asks":[{"price":1,"qty":1},{"price":2,"qty":1},{"price":3,"qty":1}]"#),
            ok.replace(r#"{"price":1.5,"qty":1}"#, r#"{"qty":1,"price":1.5}"#),
            "not json".to_string(),
        ] {
            assert!(matches!(decode_book(bad.as_bytes(), &mut out, &t), BookResult::Fallback), "{bad}");
        }
        let other = ok.replace("BTC/USD", "ETH/USD");
        assert!(matches!(decode_book(other.as_bytes(), &mut out, &t), BookResult::OtherSymbol("ETH/USD")));
    }
}
