//! Exact conversion between decimal strings and scaled integers.
//!
//! `parse_scaled("123.45", 4) == Ok(1_234_500)`. A value with more significant fractional
//! digits than the exponent allows is an error (`OffGrid`), never a rounding. Trailing
//! zeros beyond the exponent are accepted ("1.2300" at exponent 2 is 123).

/// The largest decimal exponent (digits after the point) an instrument may use.
pub const EXPONENT_MAX: u32 = 18;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    Empty,
    Syntax,
    OffGrid,
    Overflow,
}

impl DecimalError {
    pub fn message(self) -> &'static str {
        match self {
            DecimalError::Empty => "empty decimal string",
            DecimalError::Syntax => "not a plain decimal number",
            DecimalError::OffGrid => "more decimal places than the instrument's precision",
            DecimalError::Overflow => "value does not fit in a signed 64-bit integer",
        }
    }
}

const POW10: [i64; 19] = {
    let mut t = [1i64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Parse an optionally signed plain decimal (`-12.340`, `7`, `.5`, `5.`) scaled by 10^exponent.
/// Exponent notation ("1e-5") is accepted as venues occasionally send it.
pub fn parse_scaled(s: &[u8], exponent: u32) -> Result<i64, DecimalError> {
    if exponent > EXPONENT_MAX {
        return Err(DecimalError::Overflow);
    }
    if let Some(v) = parse_plain(s, exponent) {
        return Ok(v);
    }
    parse_general(s, exponent)
}

/// The common form every venue writes, `digits[.digits]` with at most 19 digits, in one pass
/// in u64 arithmetic (no pass to find an exponent part, no i128). None: not that form (a sign,
/// an exponent, more digits, off the grid, an overflow, no digit): `parse_general` then
/// decides, so a value taken here is the one it gives.
#[inline]
fn parse_plain(s: &[u8], exponent: u32) -> Option<i64> {
    let (mut acc, mut digits, mut frac, mut point) = (0u64, 0usize, 0usize, false);
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            acc = acc.wrapping_mul(10).wrapping_add(d as u64); // exact for 19 digits (checked below)
            digits += 1;
            frac += point as usize;
        } else if c == b'.' && !point {
            point = true;
            // the fraction eight digits at a step while the next eight bytes are all digits
            // (a price's "80000000"); the rest digit by digit
            while let Some(v) = s.get(i + 1..i + 9).and_then(|w| eight_digits(u64::from_le_bytes(w.try_into().unwrap()))) {
                acc = acc.wrapping_mul(100_000_000).wrapping_add(v);
                digits += 8;
                frac += 8;
                i += 8;
            }
        } else {
            return None;
        }
        i += 1;
    }
    if digits == 0 || digits > 19 {
        return None;
    }
    let e = exponent as usize;
    let v = if frac <= e {
        acc.checked_mul(POW10[e - frac] as u64)?
    } else {
        let p = *POW10.get(frac - e)? as u64;
        if acc % p != 0 {
            return None; // off the grid (unless zeros): the general parser says which
        }
        acc / p
    };
    (v <= i64::MAX as u64).then_some(v as i64)
}

/// The value of eight ASCII digits read as a little-endian word (the first digit in the lowest
/// byte), or None when a byte is not a digit. The digits are combined in pairs, then fours,
/// then the eight (SWAR: three multiplications instead of eight steps).
#[inline(always)]
fn eight_digits(v: u64) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    // every byte 0x30..=0x39: its high nibble 3, and adding 6 leaves the high nibble 3
    if (v & 0xF0F0_F0F0_F0F0_F0F0) | ((v.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4) != 0x3333_3333_3333_3333 {
        return None;
    }
    let v = v - ZEROS;
    let v = (v * 10 + (v >> 8)) & 0x00FF_00FF_00FF_00FF; // pairs: 10 * first + second
    let v = (v * 100 + (v >> 16)) & 0x0000_FFFF_0000_FFFF; // fours
    Some((v * 10_000 + (v >> 32)) & 0xFFFF_FFFF) // eight
}

fn parse_general(s: &[u8], exponent: u32) -> Result<i64, DecimalError> {
    if s.is_empty() {
        return Err(DecimalError::Empty);
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    // Split an exponent part, if any.
    let (mantissa, exp10): (&[u8], i32) = match body.iter().position(|&c| c == b'e' || c == b'E') {
        None => (body, 0),
        Some(p) => (&body[..p], parse_small_int(&body[p + 1..])?),
    };
    // Trailing fractional zeros do not change the value; dropping them keeps `acc` small.
    let had_digit = mantissa.iter().any(|c| c.is_ascii_digit());
    let mut mantissa = mantissa;
    if mantissa.contains(&b'.') {
        while let [rest @ .., b'0'] = mantissa {
            mantissa = rest;
        }
    }
    let mut acc: i128 = 0;
    let mut digits = 0usize;
    let mut frac_digits: i32 = 0;
    let mut seen_point = false;
    for &c in mantissa {
        match c {
            b'0'..=b'9' => {
                digits += 1;
                acc = acc * 10 + (c - b'0') as i128;
                if acc > 1_000_000_000_000_000_000_000_000_000_000_000_000 {
                    return Err(DecimalError::Overflow);
                }
                if seen_point {
                    frac_digits += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return Err(DecimalError::Syntax),
        }
    }
    if digits == 0 && !had_digit {
        return Err(DecimalError::Syntax);
    }
    // value = acc * 10^(exp10 - frac_digits); scaled = value * 10^exponent
    let mut shift = exp10 - frac_digits + exponent as i32;
    while shift < 0 {
        if acc % 10 != 0 {
            return Err(DecimalError::OffGrid);
        }
        acc /= 10;
        shift += 1;
    }
    while shift > 0 {
        acc *= 10;
        if acc > i64::MAX as i128 + 1 {
            return Err(DecimalError::Overflow);
        }
        shift -= 1;
    }
    let v = if neg { -acc } else { acc };
    if v > i64::MAX as i128 || v < i64::MIN as i128 {
        return Err(DecimalError::Overflow);
    }
    Ok(v as i64)
}

fn parse_small_int(s: &[u8]) -> Result<i32, DecimalError> {
    let (neg, d) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if d.is_empty() || d.len() > 3 || !d.iter().all(|c| c.is_ascii_digit()) {
        return Err(DecimalError::Syntax);
    }
    let v: i32 = d.iter().fold(0, |a, &c| a * 10 + (c - b'0') as i32);
    Ok(if neg { -v } else { v })
}

/// Digits of `v` into the end of `buf`; returns where they start (no allocation).
#[inline]
fn digits(mut v: u64, buf: &mut [u8; 20]) -> usize {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return i;
        }
    }
}

#[inline]
fn push_digits(out: &mut String, v: u64) {
    let mut buf = [0u8; 20];
    let i = digits(v, &mut buf);
    // SAFETY: ASCII digits only
    out.push_str(unsafe { std::str::from_utf8_unchecked(&buf[i..]) });
}

#[inline]
fn push_zero_padded(out: &mut String, v: u64, width: usize) {
    let mut buf = [0u8; 20];
    let i = digits(v, &mut buf);
    for _ in buf.len() - i..width {
        out.push('0');
    }
    out.push_str(unsafe { std::str::from_utf8_unchecked(&buf[i..]) });
}

/// "00" "01" ... "99": two digits per division when formatting.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// Format a scaled integer as a plain decimal string with trailing fractional zeros removed
/// ("1.5", "100", "-0.001"). Exact inverse of `parse_scaled` up to trailing zeros. Writes
/// straight into `out` (the book checksums call it for every level of every message): the
/// digits are made once, two per division, into a buffer of zeros that pads the fraction.
pub fn format_scaled(v: i64, exponent: u32, out: &mut String) {
    let e = exponent.min(EXPONENT_MAX) as usize;
    let mut buf = [b'0'; 40]; // 20 digits at most, padded to at least e + 1 <= 19
    let len = buf.len();
    let mut i = len;
    let mut m = v.unsigned_abs();
    while m >= 100 {
        let r = (m % 100) as usize * 2;
        m /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[r..r + 2]);
    }
    if m >= 10 {
        let r = m as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[r..r + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + m as u8;
    }
    let start = i.min(len - e - 1);
    let int_end = len - e;
    let mut end = len;
    while end > int_end && buf[end - 1] == b'0' {
        end -= 1;
    }
    if v < 0 {
        out.push('-');
    }
    // SAFETY: ASCII digits only
    out.push_str(unsafe { std::str::from_utf8_unchecked(&buf[start..int_end]) });
    if end > int_end {
        out.push('.');
        out.push_str(unsafe { std::str::from_utf8_unchecked(&buf[int_end..end]) });
    }
}

/// Format with exactly `exponent` fractional digits (Kraken's checksum representation).
pub fn format_fixed(v: i64, exponent: u32, out: &mut String) {
    let mag = v.unsigned_abs();
    let p = POW10[exponent.min(EXPONENT_MAX) as usize] as u64;
    if v < 0 {
        out.push('-');
    }
    push_digits(out, mag / p);
    if exponent > 0 {
        out.push('.');
        push_zero_padded(out, mag % p, exponent as usize);
    }
}

pub fn pow10(e: u32) -> i64 {
    POW10[e as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, e: u32) -> Result<i64, DecimalError> {
        parse_scaled(s.as_bytes(), e)
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(p("123.45", 2), Ok(12345));
        assert_eq!(p("123.45", 4), Ok(1234500));
        assert_eq!(p("-0.001", 3), Ok(-1));
        assert_eq!(p("7", 0), Ok(7));
        assert_eq!(p(".5", 1), Ok(5));
        assert_eq!(p("5.", 1), Ok(50));
        assert_eq!(p("1.2300", 2), Ok(123));
        assert_eq!(p("1e-5", 8), Ok(1000));
        assert_eq!(p("2.5E2", 0), Ok(250));
        assert_eq!(p(".0", 2), Ok(0));
        assert_eq!(p("1.0000000000000000000000000000000000000000000", 2), Ok(100));
    }

    #[test]
    fn rejects_off_grid_and_garbage() {
        assert_eq!(p("1.234", 2), Err(DecimalError::OffGrid));
        assert_eq!(p("", 2), Err(DecimalError::Empty));
        assert_eq!(p("1.2.3", 2), Err(DecimalError::Syntax));
        assert_eq!(p("abc", 2), Err(DecimalError::Syntax));
        assert_eq!(p("-", 2), Err(DecimalError::Syntax));
        assert_eq!(p("NaN", 2), Err(DecimalError::Syntax));
        assert_eq!(p("99999999999999999999", 0), Err(DecimalError::Overflow));
        assert_eq!(p("9223372036854775807", 0), Ok(i64::MAX));
        assert_eq!(p("9223372036854775808", 0), Err(DecimalError::Overflow));
    }

    #[test]
    fn the_plain_form_gives_what_the_general_parser_gives() {
        // every string over a small alphabet up to 5 characters, plus long and edge forms, at
        // several exponents: the shortcut takes a value only when the general parser gives it
        let alphabet = [b'0', b'1', b'9', b'.', b'-', b'e', b'+', b'x'];
        let mut cases: Vec<Vec<u8>> = vec![vec![]];
        let mut frontier: Vec<Vec<u8>> = vec![vec![]];
        for _ in 0..5 {
            let next: Vec<Vec<u8>> = frontier.iter()
                .flat_map(|s| alphabet.iter().map(move |&c| { let mut t = s.clone(); t.push(c); t }))
                .collect();
            cases.extend(next.iter().cloned());
            frontier = next;
        }
        for s in ["64996.80000000", "0.00000000", "922337203685477580.7", "92233720368547758.07", "999999999999999999",
                  "9999999999999999999", "123456789012345678.9", "0000000000000000001", "1.000000000000000000000001",
                  "000000000000000000000.5", "9223372036854775807", "922337203685477.5807", "18446744073709551615"] {
            cases.push(s.as_bytes().to_vec());
        }
        // long strings of digits with a point anywhere (the eight-digit steps), random digits
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 8..=24usize {
            for point in 0..=len {
                for _ in 0..4 {
                    let mut t: Vec<u8> = (0..len).map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        b'0' + (x % 10) as u8
                    }).collect();
                    if point < len {
                        t[point] = b'.';
                    }
                    if x % 3 == 0 {
                        let k = (x >> 8) as usize % len;
                        t[k] = [b'/', b':', b'x', b'-'][(x >> 16) as usize % 4]; // a non-digit inside
                    }
                    cases.push(t);
                }
            }
        }
        let mut taken = 0;
        for s in &cases {
            for e in [0, 1, 2, 4, 8, 18] {
                if let Some(v) = parse_plain(s, e) {
                    taken += 1;
                    assert_eq!(Ok(v), parse_general(s, e), "{:?} at {}", String::from_utf8_lossy(s), e);
                }
                assert_eq!(parse_scaled(s, e), parse_general(s, e));
            }
        }
        assert!(taken > 1000, "the shortcut took {taken} values");
    }

    /// Format a scaled integer as a plain decimal string with trailing fractional zeros removed
    /// ("1.5", "100", "-0.001"). Exact inverse of `parse_scaled` up to trailing zeros. Writes
    /// straight into `out` (the book checksums call it for every level of every message).
    fn format_scaled_reference(v: i64, exponent: u32, out: &mut String) {
        let mag = v.unsigned_abs();
        let p = POW10[exponent.min(EXPONENT_MAX) as usize] as u64;
        let int = mag / p;
        let mut frac = mag % p;
        if v < 0 {
            out.push('-');
        }
        push_digits(out, int);
        if frac != 0 {
            let mut width = exponent as usize;
            while frac % 10 == 0 {
                frac /= 10;
                width -= 1;
            }
            out.push('.');
            push_zero_padded(out, frac, width);
        }
    }

    #[test]
    fn formats_as_the_digit_by_digit_reference() {
        let mut vals = vec![0i64, 1, -1, 9, 10, 99, 100, 101, 1050, 12345, 649989, i64::MAX, i64::MIN, i64::MIN + 1];
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for _ in 0..20000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vals.push((x >> (x % 64)) as i64);
            vals.push(-((x % 1_000_000_007) as i64));
        }
        for &v in &vals {
            for e in [0u32, 1, 2, 3, 8, 17, 18] {
                let (mut a, mut b) = (String::new(), String::new());
                format_scaled(v, e, &mut a);
                format_scaled_reference(v, e, &mut b);
                assert_eq!(a, b, "{v} at {e}");
            }
        }
    }

    #[test]
    fn formats_round_trip() {
        for (v, e, s) in [(12345, 2, "123.45"), (100, 2, "1"), (-1, 3, "-0.001"), (0, 4, "0"), (1050, 2, "10.5")] {
            let mut out = String::new();
            format_scaled(v, e, &mut out);
            assert_eq!(out, s);
            assert_eq!(p(&out, e), Ok(v));
        }
        let mut out = String::new();
        format_fixed(12340, 3, &mut out);
        assert_eq!(out, "12.340");
    }
}
