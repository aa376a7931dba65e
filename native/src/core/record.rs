//! The 64-byte market-event record: the one source of truth for every ring, batch,
//! recording and Aeron frame. NumPy (`nexus.record.RECORD_DTYPE`) and Cython
//! (`engine/record.pxd`) mirror it and check themselves against `FIELDS` at import.

use std::mem::{align_of, offset_of, size_of};

/// Size of one record in bytes: one cache line.
pub const RECORD_SIZE: usize = 64;

/// Record kinds (`Record::kind`).
pub mod kind {
    /// One price level of a book: `price`, `qty` (0 deletes), `side`.
    pub const BOOK_LEVEL: u8 = 1;
    /// Clear the side(s) of the book before a snapshot (`side` 0 = both).
    pub const BOOK_CLEAR: u8 = 2;
    /// A trade: `price`, `qty`, `side` = taker side, `trade_id`.
    pub const TRADE: u8 = 3;
    /// Best bid / offer: `price`/`qty` of one side per record.
    pub const BBO: u8 = 4;
    /// A detector signal: `aux` = signal type, `qty` = confidence 0..100.
    pub const SIGNAL: u8 = 5;
    /// Liveness marker with no market content.
    pub const HEARTBEAT: u8 = 6;
}

/// Record flags (`Record::flags`, a bit set).
pub mod flags {
    /// The last record produced by one venue message.
    pub const F_LAST: u8 = 1;
    /// Part of a snapshot (as opposed to an incremental update).
    pub const F_SNAPSHOT: u8 = 2;
    /// The venue marked this event as a resync / recovery point.
    pub const F_RESYNC: u8 = 4;
}

/// Sides (`Record::side`). For trades this is the taker side.
pub mod side {
    pub const NONE: u8 = 0;
    pub const BID: u8 = 1; // buy
    pub const ASK: u8 = 2; // sell
}

/// One market event. Little-endian, `#[repr(C)]`, cache-line aligned.
/// Prices and quantities are integers scaled by the instrument's decimal exponents.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub ts_exchange_ns: i64,
    pub ts_local_ns: i64,
    pub price: i64,
    pub qty: i64,
    pub seq: u64,
    pub trade_id: u64,
    pub instrument_id: u32,
    pub aux: u32,
    pub venue_id: u16,
    pub kind: u8,
    pub flags: u8,
    pub side: u8,
    pub _pad: [u8; 3],
}

const _: () = assert!(size_of::<Record>() == RECORD_SIZE);
const _: () = assert!(align_of::<Record>() == RECORD_SIZE);
const _: () = assert!(offset_of!(Record, ts_exchange_ns) == 0);
const _: () = assert!(offset_of!(Record, ts_local_ns) == 8);
const _: () = assert!(offset_of!(Record, price) == 16);
const _: () = assert!(offset_of!(Record, qty) == 24);
const _: () = assert!(offset_of!(Record, seq) == 32);
const _: () = assert!(offset_of!(Record, trade_id) == 40);
const _: () = assert!(offset_of!(Record, instrument_id) == 48);
const _: () = assert!(offset_of!(Record, aux) == 52);
const _: () = assert!(offset_of!(Record, venue_id) == 56);
const _: () = assert!(offset_of!(Record, kind) == 58);
const _: () = assert!(offset_of!(Record, flags) == 59);
const _: () = assert!(offset_of!(Record, side) == 60);
const _: () = assert!(offset_of!(Record, _pad) == 61);

/// (name, offset, NumPy type code) for every field, in order. Mirrors are checked against this.
pub const FIELDS: [(&str, usize, &str); 13] = [
    ("ts_exchange_ns", offset_of!(Record, ts_exchange_ns), "<i8"),
    ("ts_local_ns", offset_of!(Record, ts_local_ns), "<i8"),
    ("price", offset_of!(Record, price), "<i8"),
    ("qty", offset_of!(Record, qty), "<i8"),
    ("seq", offset_of!(Record, seq), "<u8"),
    ("trade_id", offset_of!(Record, trade_id), "<u8"),
    ("instrument_id", offset_of!(Record, instrument_id), "<u4"),
    ("aux", offset_of!(Record, aux), "<u4"),
    ("venue_id", offset_of!(Record, venue_id), "<u2"),
    ("kind", offset_of!(Record, kind), "u1"),
    ("flags", offset_of!(Record, flags), "u1"),
    ("side", offset_of!(Record, side), "u1"),
    ("_pad", offset_of!(Record, _pad), "3u1"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_contiguous_and_fill_the_record() {
        let sizes = [8, 8, 8, 8, 8, 8, 4, 4, 2, 1, 1, 1, 3];
        let mut end = 0;
        for (i, (_, off, _)) in FIELDS.iter().enumerate() {
            assert_eq!(*off, end, "field {i} not contiguous");
            end += sizes[i];
        }
        assert_eq!(end, RECORD_SIZE);
    }

    #[test]
    fn little_endian_bytes() {
        let r = Record { price: 0x0102, ..Default::default() };
        let bytes: [u8; 64] = unsafe { std::mem::transmute(r) };
        assert_eq!(&bytes[16..18], &[0x02, 0x01]);
    }
}
