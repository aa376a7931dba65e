//! Native fast path for Coinbase Advanced Trade `l2_data` messages: parse the message and write
//! its level records straight into a record batch.
//!
//! Taken: `{"channel":"l2_data","timestamp":T,"sequence_num":N,"events":[{"type":"snapshot"|
//! "update","product_id":P,"updates":[{"side":"bid"|"offer","price_level":p,"new_quantity":q,..},
//! ..]}]}` with one event (keys in any order, others ignored as the Python decoder ignores
//! them). Anything unusual — two events, a missing, null or mistyped field, an escaped string, a
//! decimal off the instrument's grid, a non-positive price or negative size, a batch too small —
//! returns `Fallback`, and the Python decoder handles the message (and produces its precise
//! error). The `timestamp` (RFC 3339) is every record's ts_exchange_ns; one the native reader
//! does not take (fastpath::iso_ns) also falls back.

use crate::core::fastpath::{self, fits, iso_ns, mark_last, put};
use serde::Deserialize;

#[derive(Deserialize)]
struct Msg<'a> {
    channel: &'a str,
    timestamp: &'a str,
    sequence_num: u64,
    #[serde(borrow)]
    events: Vec<Event<'a>>,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    typ: &'a str,
    product_id: &'a str,
    #[serde(borrow)]
    updates: Vec<Update<'a>>,
}

#[derive(Deserialize)]
struct Update<'a> {
    side: &'a str,
    price_level: &'a str,
    new_quantity: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub struct L2Info {
    pub records: usize,
    pub snapshot: bool,
    pub seq: u64,
    pub ts_exchange_ns: i64,
}

pub enum L2Result<'a> {
    Done(L2Info),
    OtherSymbol(&'a str),
    Fallback,
}

pub use crate::core::fastpath::Target;

const SEQ_MAX: u64 = i64::MAX as u64;

pub fn decode_l2<'a>(raw: &'a [u8], out: &mut [u8], t: &Target) -> L2Result<'a> {
    // simdjson (the general path) validates every string's UTF-8; serde_json skips an ignored one
    let Ok(text) = std::str::from_utf8(raw) else {
        return L2Result::Fallback;
    };
    let m: Msg<'a> = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(_) => return L2Result::Fallback,
    };
    l2(&m, out, t).unwrap_or(L2Result::Fallback)
}

fn l2<'a>(m: &Msg<'a>, out: &mut [u8], t: &Target) -> Option<L2Result<'a>> {
    if m.channel != "l2_data" || m.events.len() != 1 || m.sequence_num > SEQ_MAX {
        return None;
    }
    let ev = &m.events[0];
    let snapshot = match ev.typ {
        "snapshot" => true,
        "update" => false,
        _ => return None,
    };
    if ev.product_id != t.symbol {
        return Some(L2Result::OtherSymbol(ev.product_id));
    }
    let n = ev.updates.len() + usize::from(snapshot);
    if !fits(out, n) {
        return None;
    }
    let ts = iso_ns(m.timestamp)?;
    let (hb, ha) = t.level_headers(snapshot);
    let seq = m.sequence_num as i64;
    let iid = t.instrument_id as i64;
    let mut i = usize::from(snapshot);
    for u in &ev.updates {  // the sides interleave: one level at a time
        let hdr = match u.side {
            "bid" => hb,
            "offer" => ha,
            _ => return None,
        };
        i = fastpath::levels(out, i, t, std::iter::once(Some((u.price_level, u.new_quantity))), ts, seq, hdr)?;
    }
    if snapshot {
        put(out, 0, [ts, t.ts_local_ns, 0, 0, seq, 0, iid, t.hdr_clear]);
    }
    mark_last(out, n);
    Some(L2Result::Done(L2Info { records: n, snapshot, seq: m.sequence_num, ts_exchange_ns: ts }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target<'static> {
        Target { symbol: "BTC-USD", price_exponent: 2, qty_exponent: 8, instrument_id: 7, hdr_bid: 11, hdr_ask: 22,
                 hdr_snap_bid: 33, hdr_snap_ask: 44, hdr_clear: 55, hdr_buy: 66, hdr_sell: 77, ts_local_ns: 5 }
    }

    fn word(out: &[u8], rec: usize, w: usize) -> i64 {
        i64::from_le_bytes(out[rec * 64 + w * 8..rec * 64 + w * 8 + 8].try_into().unwrap())
    }

    #[test]
    fn decodes_an_update() {
        let mut out = vec![0u8; 64 * 4];
        let ok = r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":5,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"offer","event_time":"x","price_level":"21921.74","new_quantity":"0"}]}]}"#;
        let L2Result::Done(info) = decode_l2(ok.as_bytes(), &mut out, &target()) else { panic!("fallback") };
        assert_eq!(info, L2Info { records: 2, snapshot: false, seq: 5, ts_exchange_ns: 1_675_974_770_714_964_855 });
        assert_eq!((word(&out, 0, 2), word(&out, 0, 3), word(&out, 0, 4), word(&out, 0, 7)), (2192173, 6317902, 5, 11));
        assert_eq!((word(&out, 1, 0), word(&out, 1, 2), word(&out, 1, 3), word(&out, 1, 7)),
                   (1_675_974_770_714_964_855, 2192174, 0, 22 | fastpath::HDR_F_LAST));
        for bad in [
            ok.replace(r#""side":"bid""#, r#""side":"buy""#),
            ok.replace("21921.73", "21921.735"),
            ok.replace(r#""sequence_num":5"#, r#""sequence_num":-5"#),
            ok.replace(r#""type":"update""#, r#""type":"x""#),
            ok.replace("l2_data", "market_trades"),
            ok.replace("2023-02-09T20:32:50.714964855Z\",\"sequence_num", "2023-02-30T20:32:50Z\",\"sequence_num"),
            ok.replace("}]}]}", r#"}]},{"type":"update","product_id":"BTC-USD","updates":[]}]}"#),
        ] {
            assert!(matches!(decode_l2(bad.as_bytes(), &mut out, &target()), L2Result::Fallback), "{bad}");
        }
        let other = ok.replace("BTC-USD", "ETH-USD");
        assert!(matches!(decode_l2(other.as_bytes(), &mut out, &target()), L2Result::OtherSymbol("ETH-USD")));
    }
}
