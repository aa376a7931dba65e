//! A strict single-pass reader of flat JSON objects in the compact form venues send, for the
//! decode fast paths: no whitespace, strings of printable ASCII without escapes, integers in
//! JSON's grammar. It reads each message once, allocation-free apart from the caller's level
//! vector, where serde_json's derive builds a map walk with generic visitors.
//!
//! It only declines: any byte outside that form (whitespace, an escape, non-ASCII, null, a
//! nested object, a duplicate field, trailing bytes) returns None and the caller parses the
//! message with serde_json as before, so a value read here is the value serde_json reads (each
//! user's property test compares the two on generated messages).

/// A cursor over one message.
pub struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Scan { b, i: 0 }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    pub fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// At the end of the message?
    #[inline]
    pub fn done(&self) -> bool {
        self.i == self.b.len()
    }

    /// A string of printable ASCII without escapes (its text: valid UTF-8 by construction).
    #[inline]
    pub fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = &self.b[self.i..];
        let n = plain_len(rest)?;
        if rest[n] != b'"' {
            return None;
        }
        let s = &rest[..n];
        self.i += n + 1;
        // SAFETY: printable ASCII only (checked above)
        Some(unsafe { std::str::from_utf8_unchecked(s) })
    }

    /// An unsigned integer in JSON's grammar (no leading zero, no fraction or exponent: those
    /// leave the cursor on a byte the caller's delimiter check refuses) that fits u64.
    #[inline]
    pub fn u64(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
            self.i += 1;
        }
        let n = self.i - start;
        (n == 1 || (n > 1 && self.b[start] != b'0')).then_some(v)
    }

    /// A signed integer that fits i64 ("-0" declined).
    #[inline]
    pub fn i64(&mut self) -> Option<i64> {
        if self.eat(b'-').is_some() {
            let v = self.u64()?;
            return (v != 0 && v <= i64::MAX as u64 + 1).then(|| (v as i128).wrapping_neg() as i64);
        }
        let v = self.u64()?;
        (v <= i64::MAX as u64).then_some(v as i64)
    }

    #[inline]
    pub fn bool(&mut self) -> Option<bool> {
        let rest = &self.b[self.i..];
        if rest.starts_with(b"true") {
            self.i += 4;
            Some(true)
        } else if rest.starts_with(b"false") {
            self.i += 5;
            Some(false)
        } else {
            None
        }
    }

    /// A field this reader's caller does not use: a string, a number in JSON's grammar or a
    /// boolean (null, an object or an array: declined).
    pub fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.str().map(drop),
            b't' | b'f' => self.bool().map(drop),
            b'-' | b'0'..=b'9' => {
                self.eat(b'-');
                self.u64()?;
                if self.eat(b'.').is_some() {
                    self.digits()?;
                }
                if let Some(b'e' | b'E') = self.peek() {
                    self.i += 1;
                    if let Some(b'+' | b'-') = self.peek() {
                        self.i += 1;
                    }
                    self.digits()?;
                }
                Some(())
            }
            _ => None,
        }
    }

    fn digits(&mut self) -> Option<()> {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        (self.i > start).then_some(())
    }

    /// `["p","q"`: a level's opening and its first two strings (what `pair` and `levels` share).
    #[inline(always)]
    fn level_head(&mut self) -> Option<[&'a str; 2]> {
        self.eat(b'[')?;
        let p = self.str()?;
        self.eat(b',')?;
        let q = self.str()?;
        Some([p, q])
    }

    /// `["p","q"]` (exactly two strings): the level the Binance readers take.
    #[inline(always)]
    fn pair(&mut self) -> Option<[&'a str; 2]> {
        let pq = self.level_head()?;
        self.eat(b']')?;
        Some(pq)
    }

    /// `[["p","q"],...]`: every level exactly two strings, appended to `out`.
    pub fn pairs(&mut self, out: &mut Vec<[&'a str; 2]>) -> Option<()> {
        self.array(|c| {
            out.push(c.pair()?);
            Some(())
        })
    }

    /// `[[p,q,...],...]`: every level a list of at least two strings (further items strings
    /// too, skipped), its first two appended to `out` as `Lv` (what serde_json reads).
    pub fn levels(&mut self, out: &mut Vec<crate::core::fastpath::Lv<'a>>) -> Option<()> {
        self.array(|c| {
            let [p, q] = c.level_head()?;
            while c.eat(b',').is_some() {
                c.str()?;
            }
            c.eat(b']')?;
            out.push(crate::core::fastpath::Lv(Some((p, q))));
            Some(())
        })
    }

    /// `[["p","q"],...]` as `pairs` reads it, each level written straight into `out` as book
    /// record `i`, `i + 1`, ... by `write(out, i, p, q)` (no vector of the texts); the index
    /// after the last. None (decline) when a level is not read, `write` declines, or the
    /// records do not fit `out`.
    #[inline]
    pub fn pairs_into(&mut self, out: &mut [u8], mut i: usize,
                      mut write: impl FnMut(&mut [u8], usize, &'a str, &'a str) -> Option<()>) -> Option<usize> {
        self.array(|c| {
            let [p, q] = c.pair()?;
            if !crate::core::fastpath::fits(out, i + 1) {
                return None;
            }
            write(out, i, p, q)?;
            i += 1;
            Some(())
        })?;
        Some(i)
    }

    /// A known field's value read by `read` into `slot`, unless the field was read before
    /// (`seen` bit `bit`: a duplicate declines, as serde_json's derive refuses it).
    #[inline]
    pub fn once<T>(&mut self, seen: &mut Seen, bit: u32, slot: &mut Option<T>,
                   read: impl FnOnce(&mut Self) -> Option<T>) -> Option<()> {
        seen.first(bit)?;
        *slot = Some(read(self)?);
        Some(())
    }

    /// `[item,...]`, each item read by `item(self)`.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An object `{...}`: `field(key, self)` reads each value (None declines).
    pub fn fields(&mut self, mut field: impl FnMut(&'a str, &mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.str()?;
            self.eat(b':')?;
            field(key, self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A whole message that is one object: `fields`, then the end of the message.
    pub fn object(&mut self, field: impl FnMut(&'a str, &mut Self) -> Option<()>) -> Option<()> {
        self.fields(field)?;
        self.done().then_some(())
    }
}

/// Index of the first byte of `b` that is not printable ASCII other than `"` and `\\` (None: every
/// byte is). Sixteen bytes a step with SSE2 on x86-64 (one compare mask per step), then eight
/// bytes a step while none of them is such a byte (a word test per step: a byte below 0x20,
/// equal to `"`, `\\` or 0x7f, or with its high bit set, makes the step's test non-zero, and
/// never only a false positive on a clean word), then byte by byte.
#[inline]
fn plain_len(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // non-zero iff some byte of `v` is below n (n <= 0x80; Bit Twiddling Hacks' "has less")
    #[inline(always)]
    fn has_less(v: u64, n: u64) -> u64 {
        v.wrapping_sub(LO * n) & !v & HI
    }
    let mut i = 0;
    // sixteen bytes a step with SSE2 (every x86-64 CPU has it): a byte is refused when it equals
    // `"`, `\\` or 0x7f, or is below 0x20 as a signed byte (0x00..=0x1f, and 0x80..=0xff, which
    // are negative); the first refused byte's index from the compare mask
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of x86-64; each load reads b[i..i + 16], inside the slice
    unsafe {
        use std::arch::x86_64::*;
        let (q, bs, del, sp) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8), _mm_set1_epi8(0x7f), _mm_set1_epi8(0x20));
        while i + 16 <= b.len() {
            let v = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
            let bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmplt_epi8(v, sp)));
            let m = _mm_movemask_epi8(bad) as u32;
            if m != 0 {
                return Some(i + m.trailing_zeros() as usize);
            }
            i += 16;
        }
    }
    while let Some(w) = b.get(i..i + 8) {
        let v = u64::from_le_bytes(w.try_into().unwrap());
        let bad = has_less(v, 0x20) | has_less(v ^ (LO * b'"' as u64), 1) | has_less(v ^ (LO * b'\\' as u64), 1)
            | has_less(v ^ (LO * 0x7f), 1) | (v & HI);
        if bad != 0 {
            break;
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c == b'"' || c == b'\\' || !(0x20..=0x7e).contains(&c)).map(|k| i + k)
}

/// Which of up to 64 known fields were read: a second one declines (serde_json's derive refuses
/// a duplicate field).
#[derive(Default)]
pub struct Seen(u64);

impl Seen {
    #[inline]
    pub fn first(&mut self, bit: u32) -> Option<()> {
        let m = 1u64 << bit;
        (self.0 & m == 0).then(|| self.0 |= m)
    }
    #[inline]
    pub fn has(&self, bit: u32) -> bool {
        self.0 & (1u64 << bit) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_len_equals_the_byte_loop() {
        let slow = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || !(0x20..=0x7e).contains(&c));
        // every byte value at every position of strings of 0..=40 printable bytes, and the
        // typical price string followed by the rest of a message
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..=40usize { // the SSE2 steps (16 bytes), the word steps (8), the bytes
            for pos in 0..=len {
                for c in 0..=255u8 {
                    let mut b: Vec<u8> = (0..len).map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        0x20 + (x % 95) as u8
                    }).map(|c| if c == b'"' || c == b'\\' { b'a' } else { c }).collect();
                    if pos < len {
                        b[pos] = c;
                    }
                    assert_eq!(plain_len(&b), slow(&b), "{b:?}");
                }
            }
        }
        let m = br#"64996.80000000","0.03508000"],["64996.13000000""#;
        for k in 0..m.len() {
            assert_eq!(plain_len(&m[k..]), slow(&m[k..]));
        }
    }

    #[test]
    fn reads_the_compact_form_and_declines_the_rest() {
        let mut got = (None, None, None, vec![]);
        let ok = Scan::new(br#"{"e":"x","E":12,"pu":-3,"m":true,"f":1.5e-3,"b":[["1.5","2"],["3","4"]]}"#).object(|k, s| {
            match k {
                "e" => got.0 = Some(s.str()?),
                "E" => got.1 = Some(s.u64()?),
                "pu" => got.2 = Some(s.i64()?),
                "b" => s.pairs(&mut got.3)?,
                _ => s.skip()?,
            }
            Some(())
        });
        assert!(ok.is_some());
        assert_eq!(got, (Some("x"), Some(12), Some(-3), vec![["1.5", "2"], ["3", "4"]]));
        for bad in [&br#"{"e": "x"}"#[..], br#"{"e":"x"} "#, br#"{"e":"\u0078"}"#, br#"{"E":012}"#, br#"{"E":1.0}"#,
                    br#"{"E":18446744073709551616}"#, br#"{"e":null}"#, br#"{"e":{"a":1}}"#, br#"{"b":[["1","2","3"]]}"#,
                    br#"{"b":[["1"]]}"#, br#"{"pu":-0}"#, "{\"e\":\"\u{e9}\"}".as_bytes(), br#"{"e":"x",}"#, br#"{"f":1.}"#] {
            let r = Scan::new(bad).object(|k, s| match k {
                "E" => s.u64().map(drop),
                "pu" => s.i64().map(drop),
                "b" => s.pairs(&mut vec![]),
                _ => s.skip(),
            });
            assert!(r.is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
