//! What the native decode fast paths (binance, bybit, okx, hyperliquid, coinbase, kraken) share:
//! the per-instrument constants they write with (`Target`), writing one record, a book message's
//! levels, F_LAST on a message's last record, and the two timestamp forms venues send
//! (milliseconds, RFC 3339 UTC). Every helper declines (`None`) on what it does not take: the
//! caller then falls back to the general Python path, which decides.

use crate::core::decimal::parse_scaled;
use crate::core::record::{flags, RECORD_SIZE};

/// Per-instrument constants the caller supplies: exponents, instrument id and the record header
/// words (word 7: venue_id | kind << 16 | flags << 24 | side << 32) of each record shape, plus
/// the local receive time written into word 1 of every record of this message.
#[derive(Clone, Copy, Debug)]
pub struct Target<'s> {
    pub symbol: &'s str,
    pub price_exponent: u32,
    pub qty_exponent: u32,
    pub instrument_id: u32,
    pub hdr_bid: i64,
    pub hdr_ask: i64,
    pub hdr_snap_bid: i64,
    pub hdr_snap_ask: i64,
    pub hdr_clear: i64,
    pub hdr_buy: i64,
    pub hdr_sell: i64,
    pub ts_local_ns: i64,
}

impl Target<'_> {
    /// No instrument: its symbol (a lone quote) matches no symbol a JSON string gives without
    /// an escape, so every message answers "other symbol" or falls back.
    pub const NONE: Target<'static> = Target {
        symbol: "\"", price_exponent: 0, qty_exponent: 0, instrument_id: 0, hdr_bid: 0, hdr_ask: 0,
        hdr_snap_bid: 0, hdr_snap_ask: 0, hdr_clear: 0, hdr_buy: 0, hdr_sell: 0, ts_local_ns: 0,
    };

    /// The (bid, ask) level headers of a snapshot or a delta.
    pub fn level_headers(&self, snapshot: bool) -> (i64, i64) {
        if snapshot { (self.hdr_snap_bid, self.hdr_snap_ask) } else { (self.hdr_bid, self.hdr_ask) }
    }
}

/// F_LAST in a record's header word.
pub const HDR_F_LAST: i64 = (flags::F_LAST as i64) << 24;
const TS_MS_MAX: u64 = (i64::MAX / 1_000_000) as u64;

/// Write record `i` as eight little-endian words.
#[inline]
pub fn put(out: &mut [u8], i: usize, words: [i64; 8]) {
    let dst = &mut out[i * RECORD_SIZE..(i + 1) * RECORD_SIZE];
    for (k, w) in words.iter().enumerate() {
        dst[k * 8..k * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
}

/// F_LAST on the last of the message's `n` records (none when n is 0).
#[inline]
pub fn mark_last(out: &mut [u8], n: usize) {
    if n > 0 {
        let at = (n - 1) * RECORD_SIZE + 7 * 8;
        let w = i64::from_le_bytes(out[at..at + 8].try_into().unwrap()) | HDR_F_LAST;
        out[at..at + 8].copy_from_slice(&w.to_le_bytes());
    }
}

/// Do `n` records fit the batch?
#[inline]
pub fn fits(out: &[u8], n: usize) -> bool {
    n.checked_mul(RECORD_SIZE).is_some_and(|b| b <= out.len())
}

/// Milliseconds -> ns (None beyond int64 nanoseconds).
#[inline]
pub fn ms(v: u64) -> Option<i64> {
    (v <= TS_MS_MAX).then(|| v as i64 * 1_000_000)
}

/// Milliseconds as ASCII digits -> ns (None: let Python say why not).
pub fn ms_text(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    ms(s.parse().ok()?)
}

/// One side's levels, each `Some((price text, size text))` or `None` for a malformed level,
/// written from record `i` on with header `hdr`; the index after the last. None (decline) on a
/// malformed level, a value off the instrument's grid, a price not positive or a size negative.
/// The caller checked that the records fit.
#[inline]
pub fn levels<'a>(out: &mut [u8], mut i: usize, t: &Target, levels: impl Iterator<Item = Option<(&'a str, &'a str)>>,
                  ts: i64, seq: i64, hdr: i64) -> Option<usize> {
    let iid = t.instrument_id as i64;
    for lv in levels {
        let (p, q) = lv?;
        let price = parse_scaled(p.as_bytes(), t.price_exponent).ok()?;
        let qty = parse_scaled(q.as_bytes(), t.qty_exponent).ok()?;
        if price <= 0 || qty < 0 {
            return None;
        }
        put(out, i, [ts, t.ts_local_ns, price, qty, seq, 0, iid, hdr]);
        i += 1;
    }
    Some(i)
}

/// A book message's records: [BOOK_CLEAR when a snapshot] + the bids + the asks (`nb` and `na`
/// of them), F_LAST on the last. Returns the record count, or None (decline) when they do not
/// fit or a level is not taken (see `levels`).
#[allow(clippy::too_many_arguments)]
pub fn book<'a>(out: &mut [u8], t: &Target, snapshot: bool, ts: i64, seq: i64,
                bids: impl Iterator<Item = Option<(&'a str, &'a str)>>, nb: usize,
                asks: impl Iterator<Item = Option<(&'a str, &'a str)>>, na: usize) -> Option<usize> {
    let n = nb + na + usize::from(snapshot);
    if !fits(out, n) {
        return None;
    }
    let (hb, ha) = t.level_headers(snapshot);
    let i = levels(out, usize::from(snapshot), t, bids, ts, seq, hb)?;
    let i = levels(out, i, t, asks, ts, seq, ha)?;
    debug_assert_eq!(i, n);
    if snapshot {
        put(out, 0, [ts, t.ts_local_ns, 0, 0, seq, 0, t.instrument_id as i64, t.hdr_clear]);
    }
    mark_last(out, n);
    Some(n)
}

/// Write trade record `i` (side = the taker's: `buy`), price and size parsed at the instrument's
/// exponents; None (decline) off the grid or when either is not positive.
#[inline]
#[allow(clippy::too_many_arguments)]
pub fn trade(out: &mut [u8], i: usize, t: &Target, px: &str, sz: &str, buy: bool, trade_id: i64, ts: i64) -> Option<()> {
    let price = parse_scaled(px.as_bytes(), t.price_exponent).ok()?;
    let qty = parse_scaled(sz.as_bytes(), t.qty_exponent).ok()?;
    if price <= 0 || qty <= 0 {
        return None;
    }
    let hdr = if buy { t.hdr_buy } else { t.hdr_sell };
    put(out, i, [ts, t.ts_local_ns, price, qty, 0, trade_id, t.instrument_id as i64, hdr]);
    Some(())
}

/// A JSON `[price, size, ...]` level as text: None when it has fewer than two items.
#[inline]
pub fn pair<'a>(lv: &[&'a str]) -> Option<(&'a str, &'a str)> {
    (lv.len() >= 2).then(|| (lv[0], lv[1]))
}

/// A JSON level `[price, size, ...]` of strings read as `Vec<&str>` would read it (every item a
/// string without escapes, or an error) without the vector: its first two items, None when it
/// has fewer (what `pair` gives). Written by serde_json and by core/scan.rs alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lv<'a>(pub Option<(&'a str, &'a str)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Lv<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Lv<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<Lv<'a>, S::Error> {
                let p: Option<&'de str> = seq.next_element()?;
                let q: Option<&'de str> = if p.is_some() { seq.next_element()? } else { None };
                while seq.next_element::<&'de str>()?.is_some() {}
                Ok(Lv(p.zip(q)))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

/// RFC 3339 UTC as venues write it, `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, -> ns since the epoch,
/// exactly (the general path's `iso_to_ns`). None (decline) on anything else: another shape,
/// an invalid date or time, a year outside 1970..=2261.
pub fn iso_ns(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let n = b.len();
    if !(20..=30).contains(&n) || n == 21 || b[n - 1] != b'Z' || b[4] != b'-' || b[7] != b'-' || b[10] != b'T'
        || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as i64;
        }
        Some(v)
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac = if n == 20 {
        0
    } else {
        if b[19] != b'.' {
            return None;
        }
        num(20..n - 1)? * 10i64.pow(9 - (n - 21) as u32)
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1970..=2261).contains(&y) || !(1..=12).contains(&mo) || d < 1 || d > dim[(mo - 1) as usize]
        || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    // days from 1970-01-01 (the civil-from-days inverse, proleptic Gregorian)
    let (yy, mm) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = yy / 400;
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000_000_000 + sec * 1_000_000_000 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_as_the_general_path_reads_it() {
        assert_eq!(iso_ns("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_ns("2023-02-09T20:32:50.714964855Z"), Some(1_675_974_770_714_964_855));
        assert_eq!(iso_ns("2023-10-06T17:35:55.440295Z"), Some(1_696_613_755_440_295_000));
        assert_eq!(iso_ns("2024-02-29T00:00:00.5Z"), Some(1_709_164_800_500_000_000));
        for bad in ["2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-01-01T24:00:00Z", "2023-01-01T00:00:60Z",
                    "2023-01-01T00:00:00.Z", "2023-01-01T00:00:00.1234567890Z", "2023-01-01 00:00:00Z",
                    "2023-01-01T00:00:00+00:00", "1969-12-31T23:59:59Z", "2023-01-01T00:00:0aZ"] {
            assert_eq!(iso_ns(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_book_marks_its_last_record_and_declines_what_it_does_not_take() {
        let t = Target { symbol: "X", price_exponent: 1, qty_exponent: 0, instrument_id: 3, hdr_bid: 11, hdr_ask: 22,
                         hdr_snap_bid: 33, hdr_snap_ask: 44, hdr_clear: 55, hdr_buy: 0, hdr_sell: 0, ts_local_ns: 9 };
        let mut out = vec![0u8; 64 * 3];
        let bids = [Some(("1.5", "2"))];
        let asks = [Some(("1.6", "0"))];
        assert_eq!(book(&mut out, &t, true, 7, 1, bids.into_iter(), 1, asks.into_iter(), 1), Some(3));
        let w = |r: usize, k: usize| i64::from_le_bytes(out[r * 64 + k * 8..r * 64 + k * 8 + 8].try_into().unwrap());
        assert_eq!((w(0, 7), w(1, 2), w(1, 7), w(2, 3), w(2, 7)), (55, 15, 33, 0, 44 | HDR_F_LAST));
        assert_eq!(book(&mut out, &t, false, 7, 1, [None].into_iter(), 1, asks.into_iter(), 1), None);
        assert_eq!(book(&mut out, &t, false, 7, 1, [Some(("1.55", "1"))].into_iter(), 1, asks.into_iter(), 1), None);
        assert_eq!(book(&mut out, &t, true, 7, 1, bids.into_iter(), 1, [Some(("1", "1")); 2].into_iter(), 2), None);
    }
}

/// What a fused steady-state call applied to a synced book (the `*_sync` functions of the venue
/// modules): the message's record count, exchange time and sequence, and whether the book is
/// crossed after the apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    pub records: usize,
    pub ts_exchange_ns: i64,
    pub seq: i64,
    pub crossed: bool,
}

/// Apply a message's `n` records (written from index 0 of `out`) to `book`.
pub fn apply(book: &mut crate::core::book::Book, out: &[u8], n: usize, ts_exchange_ns: i64, seq: i64) -> Applied {
    book.apply_bytes(&out[..n * crate::core::record::RECORD_SIZE]);
    Applied { records: n, ts_exchange_ns, seq, crossed: book.crossed() }
}
