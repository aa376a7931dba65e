//! Cross-process latency harness: the writer stamps `ts_local_ns` (CLOCK_MONOTONIC, shared
//! by all processes on the host) just before publishing one record; a busy-polling reader
//! stamps on receipt. Both loops run without the GIL so the figures are the ring's own.

use crate::core::record::{kind, Record};
use crate::core::ring::{monotonic_ns, RingReader, RingWriter};

/// Publish `count` single-record messages, `gap_ns` apart (busy wait), seq = 0..count.
pub fn latency_writer(w: &mut RingWriter, count: u64, gap_ns: i64) {
    let mut rec = Record { kind: kind::HEARTBEAT, ..Default::default() };
    let mut next = monotonic_ns();
    for i in 0..count {
        while monotonic_ns() < next {
            std::hint::spin_loop();
        }
        rec.seq = i;
        rec.ts_local_ns = monotonic_ns();
        w.publish(std::slice::from_ref(&rec));
        next = rec.ts_local_ns + gap_ns;
    }
}

/// Busy-poll until a record with seq `count - 1` arrives or `timeout_ns` passes.
/// Returns one latency (ns) per received record.
pub fn latency_reader(r: &mut RingReader, count: u64, timeout_ns: i64) -> Vec<i64> {
    let mut buf = vec![Record::default(); 256];
    let mut lat = Vec::with_capacity(count as usize);
    let deadline = monotonic_ns() + timeout_ns;
    loop {
        let n = r.poll(&mut buf);
        if n > 0 {
            let now = monotonic_ns();
            for rec in &buf[..n] {
                lat.push(now - rec.ts_local_ns);
                if rec.seq + 1 == count {
                    return lat;
                }
            }
        } else if monotonic_ns() > deadline {
            return lat;
        } else {
            std::hint::spin_loop();
        }
    }
}
