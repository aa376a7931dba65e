//! BLAKE2b (RFC 7693) with an 8-byte digest, no key: the 63-bit hash Nexus stores for a trade id
//! that is not a number (Python's `trade_id_int`: `hashlib.blake2b(text, digest_size=8)`, read
//! little-endian, top bit cleared). The native fast paths (Bybit's UUID trade ids) compute it
//! here so no per-trade Python call is needed; the property tests compare both.

const IV: [u64; 8] = [
    0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1,
    0x510e_527f_ade6_82d1, 0x9b05_688c_2b3e_6c1f, 0x1f83_d9ab_fb41_bd6b, 0x5be0_cd19_137e_2179,
];

const SIGMA: [[usize; 16]; 12] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
];

const BLOCK: usize = 128;
const DIGEST_BYTES: u64 = 8;
/// The record's trade_id is an int64: the hash keeps 63 bits.
pub const TRADE_ID_MAX: u64 = i64::MAX as u64;

#[inline(always)]
#[allow(clippy::many_single_char_names)]
fn g(v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64) {
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
    v[d] = (v[d] ^ v[a]).rotate_right(32);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(24);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(63);
}

fn compress(h: &mut [u64; 8], block: &[u8; BLOCK], bytes: u128, last: bool) {
    let mut m = [0u64; 16];
    for (i, w) in m.iter_mut().enumerate() {
        *w = u64::from_le_bytes(block[i * 8..i * 8 + 8].try_into().unwrap());
    }
    let mut v = [0u64; 16];
    v[..8].copy_from_slice(h);
    v[8..].copy_from_slice(&IV);
    v[12] ^= bytes as u64;
    v[13] ^= (bytes >> 64) as u64;
    if last {
        v[14] = !v[14];
    }
    for s in &SIGMA {
        g(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
        g(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
        g(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
        g(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
        g(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
        g(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
        g(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
        g(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for i in 0..8 {
        h[i] ^= v[i] ^ v[i + 8];
    }
}

/// BLAKE2b-64 of `data`, little-endian, top bit cleared (a non-negative int64).
pub fn trade_id_hash(data: &[u8]) -> u64 {
    let mut h = IV;
    h[0] ^= 0x0101_0000 ^ DIGEST_BYTES; // depth 1, fanout 1, no key, 8-byte digest
    let mut off = 0;
    while data.len() - off > BLOCK {
        compress(&mut h, data[off..off + BLOCK].try_into().unwrap(), (off + BLOCK) as u128, false);
        off += BLOCK;
    }
    let mut last = [0u8; BLOCK];
    last[..data.len() - off].copy_from_slice(&data[off..]);
    compress(&mut h, &last, data.len() as u128, true);
    h[0] & TRADE_ID_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_pythons_hashlib() {
        // int.from_bytes(hashlib.blake2b(s, digest_size=8).digest(), "little") & (2**63 - 1)
        for (s, want) in [
            (&b""[..], 3797230976420062948u64),
            (b"abc", 6455300059550759896),
            (b"450dd3e8-2ad1-42ec-2b96-993c86181c55", 3899478501180714772),
            (&[b'x'; 128][..], 154496675747142800),
            (&[b'y'; 129][..], 7350248009553830268),
            (&[b'z'; 300][..], 8126568478317908626),
        ] {
            assert_eq!(trade_id_hash(s), want, "{}", String::from_utf8_lossy(s));
        }
    }
}
