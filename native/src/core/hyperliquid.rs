//! Native fast path for Hyperliquid `l2Book` and `trades` pushes: parse the message and write
//! its records straight into a record batch.
//!
//! Taken: `{"channel":"l2Book","data":{"coin":C,"time":N,"levels":[[{"px":p,"sz":q,..},..],
//! [..]]}}` (a whole book each time) and `{"channel":"trades","data":[{"coin":C,"side":"B"|"A",
//! "px":p,"sz":q,"time":N,"tid":N,..},..]}` (`channel` first, as Hyperliquid writes it; the
//! other keys in any order, others ignored as the Python decoder ignores them). Anything unusual — a missing, null or mistyped field, a time as
//! text, an escaped string, a decimal off the instrument's grid, a non-positive price, a
//! negative (book) or non-positive (trade) size, a trade id beyond 63 bits, trades of two coins,
//! a batch too small — returns `Fallback`, and the Python decoder handles the message (and
//! produces its precise error). The fast path never changes what is accepted or rejected.

use crate::core::fastpath::{self, fits, mark_last, ms};
use serde::Deserialize;

#[derive(Deserialize)]
struct Msg<'a, D> {
    #[allow(dead_code)] // read for its type: a string
    channel: &'a str,
    data: D,
}

#[derive(Deserialize)]
struct Level<'a> {
    px: &'a str,
    sz: &'a str,
}

#[derive(Deserialize)]
struct Book<'a> {
    coin: &'a str,
    time: u64,
    #[serde(borrow)]
    levels: Vec<Vec<Level<'a>>>,
}

#[derive(Deserialize)]
struct Trade<'a> {
    coin: &'a str,
    side: &'a str,
    px: &'a str,
    sz: &'a str,
    time: u64,
    tid: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Info {
    Book { records: usize, ts_exchange_ns: i64 },
    /// One segment of trades: the first trade's time, every trade id.
    Trades { records: usize, ts_exchange_ns: i64, trade_ids: Vec<u64> },
}

pub enum HlResult<'a> {
    Done(Info),
    OtherSymbol(&'a str),
    Fallback,
}

pub use crate::core::fastpath::Target;

const TID_MAX: u64 = i64::MAX as u64;

pub fn decode<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> HlResult<'a> {
    // simdjson (the general path) validates every string's UTF-8; serde_json skips an ignored one
    let Ok(text) = std::str::from_utf8(raw) else {
        return HlResult::Fallback;
    };
    // the channel first, as Hyperliquid writes it (and the caller checks): it names the shape of
    // `data`, parsed straight into it (no untagged enum buffering the whole message)
    let r = if raw.starts_with(br#"{"channel":"l2Book","#) {
        serde_json::from_str::<Msg<'a, Book<'a>>>(text).ok().and_then(|m| book(&m.data, out, t))
    } else if raw.starts_with(br#"{"channel":"trades","#) {
        serde_json::from_str::<Msg<'a, Vec<Trade<'a>>>>(text).ok().and_then(|m| trades(&m.data, out, t))
    } else {
        None
    };
    r.unwrap_or(HlResult::Fallback)
}

fn book<'a>(d: &Book<'a>, out: &mut [u8], t: &Target) -> Option<HlResult<'a>> {
    if d.coin != t.symbol {
        return Some(HlResult::OtherSymbol(d.coin));
    }
    if d.levels.len() != 2 {
        return None;
    }
    let ts = ms(d.time)?;
    let side = |k: usize| d.levels[k].iter().map(|lv| Some((lv.px, lv.sz)));
    let n = fastpath::book(out, t, true, ts, 0, side(0), d.levels[0].len(), side(1), d.levels[1].len())?;
    Some(HlResult::Done(Info::Book { records: n, ts_exchange_ns: ts }))
}

fn trades<'a>(tr: &[Trade<'a>], out: &mut [u8], t: &Target) -> Option<HlResult<'a>> {
    let first = tr.first()?;
    if first.coin != t.symbol {
        return Some(HlResult::OtherSymbol(first.coin));
    }
    if !fits(out, tr.len()) {
        return None;
    }
    let mut ids = Vec::with_capacity(tr.len());
    let mut ts_first = 0;
    for (i, d) in tr.iter().enumerate() {
        if d.coin != t.symbol || d.tid > TID_MAX {
            return None;
        }
        let ts = ms(d.time)?;
        let buy = match d.side {
            "B" => true,
            "A" => false,
            _ => return None,
        };
        fastpath::trade(out, i, t, d.px, d.sz, buy, d.tid as i64, ts)?;
        if i == 0 {
            ts_first = ts;
        }
        ids.push(d.tid);
    }
    mark_last(out, tr.len());
    Some(HlResult::Done(Info::Trades { records: tr.len(), ts_exchange_ns: ts_first, trade_ids: ids }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target<'static> {
        Target { symbol: "BTC", price_exponent: 1, qty_exponent: 5, instrument_id: 7, hdr_bid: 11, hdr_ask: 22,
                 hdr_snap_bid: 33, hdr_snap_ask: 44, hdr_clear: 55, hdr_buy: 66, hdr_sell: 77, ts_local_ns: 5 }
    }

    fn word(out: &[u8], rec: usize, w: usize) -> i64 {
        i64::from_le_bytes(out[rec * 64 + w * 8..rec * 64 + w * 8 + 8].try_into().unwrap())
    }

    #[test]
    fn decodes_a_book_and_a_trade() {
        let mut out = vec![0u8; 64 * 8];
        let m = br#"{"channel":"l2Book","data":{"coin":"BTC","time":1767225601500,"levels":[[{"px":"64998","sz":"0.01971","n":2}],[{"px":"65001.5","sz":"1","n":1}]]}}"#;
        let HlResult::Done(info) = decode(m, &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, Info::Book { records: 3, ts_exchange_ns: 1767225601500_000_000 });
        assert_eq!((word(&out, 0, 7), word(&out, 1, 2), word(&out, 1, 3), word(&out, 1, 7)), (55, 649980, 1971, 33));
        assert_eq!((word(&out, 2, 2), word(&out, 2, 7)), (650015, 44 | crate::core::fastpath::HDR_F_LAST));
        let m = br#"{"channel":"trades","data":[{"coin":"BTC","side":"A","px":"64994","sz":"0.01601","time":1767225601880,"hash":"0xb6","tid":500000000000006,"users":["0xda","0x93"]}]}"#;
        let HlResult::Done(info) = decode(m, &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, Info::Trades { records: 1, ts_exchange_ns: 1767225601880_000_000, trade_ids: vec![500000000000006] });
        assert_eq!((word(&out, 0, 2), word(&out, 0, 5), word(&out, 0, 7)), (649940, 500000000000006, 77 | crate::core::fastpath::HDR_F_LAST));
    }

    #[test]
    fn anything_unusual_falls_back() {
        let mut out = vec![0u8; 64 * 3];
        let t = target();
        let ok = r#"{"channel":"trades","data":[{"coin":"BTC","side":"B","px":"1.5","sz":"2","time":1,"tid":9}]}"#;
        let HlResult::Done(_) = decode(ok.as_bytes(), &mut out, &t) else { panic!("fallback") };
        for bad in [
            ok.replace("trades", "l2Book"),
            ok.replace(r#""side":"B""#, r#""side":"b""#),
            ok.replace("1.5", "1.55"),
            ok.replace(r#""sz":"2""#, r#""sz":"0""#),
            ok.replace(r#""tid":9"#, r#""tid":9223372036854775808"#),
            ok.replace(r#""time":1"#, r#""time":"1""#),
            ok.replace("}]}", r#"},{"coin":"ETH","side":"B","px":"1.5","sz":"2","time":1,"tid":9}]}"#),
            "not json".to_string(),
        ] {
            assert!(matches!(decode(bad.as_bytes(), &mut out, &t), HlResult::Fallback), "{bad}");
        }
        let other = ok.replace("BTC", "ETH");
        assert!(matches!(decode(other.as_bytes(), &mut out, &t), HlResult::OtherSymbol("ETH")));
    }
}
