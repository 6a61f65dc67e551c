//! Listpacks (Redis 7.0 `listpack.c`): the compact encoding of small hashes and sorted sets,
//! of quicklist nodes and of stream nodes.
//!
//! `total bytes (u32 LE) | element count (u16 LE, 65535 = unknown) | entries | 0xFF`. An entry
//! is `encoding+data | backlen`, where backlen is the size of `encoding+data` in 1-5 bytes
//! (7 bits each, readable right to left). Encodings:
//! `0xxxxxxx` 7-bit uint; `10xxxxxx` string of up to 63 bytes; `110xxxxx yyyyyyyy` 13-bit
//! int; `1110xxxx yyyyyyyy` string of up to 4095 bytes; `11110000` + u32 LE length string;
//! `11110001`/`0010`/`0011`/`0100` int16/24/32/64 LE.

use super::canonical_int;

/// One listpack element as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// The element as Redis returns it: integers in decimal.
    pub fn to_bytes(self) -> Vec<u8> {
        match self {
            Elem::Int(v) => super::int_text(v),
            Elem::Str(s) => s.to_vec(),
        }
    }

    /// The element as an integer (stream nodes keep their counters and IDs as integers; a
    /// string holding a canonical integer is accepted too).
    pub fn as_int(self) -> Option<i64> {
        match self {
            Elem::Int(v) => Some(v),
            Elem::Str(s) => canonical_int(s),
        }
    }
}

const HEADER: usize = 6;
const EOF: u8 = 0xff;

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Reads a signed integer of `bits` bits stored little-endian in `b`.
fn le_int(b: &[u8], bits: u32) -> i64 {
    let mut v: u64 = 0;
    for (i, &x) in b.iter().enumerate() {
        v |= (x as u64) << (8 * i);
    }
    // Sign-extend from `bits`.
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Parses a whole listpack, checking its header, every entry and its terminator. None if
/// anything is out of place.
pub fn parse(lp: &[u8]) -> Option<Vec<Elem<'_>>> {
    if lp.len() < HEADER + 1 {
        return None;
    }
    let total = u32::from_le_bytes(lp[0..4].try_into().ok()?) as usize;
    let count = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    if total != lp.len() || lp[lp.len() - 1] != EOF {
        return None;
    }
    let end = lp.len() - 1;
    // Every entry takes at least 2 bytes: the bound keeps the reservation proportional.
    let mut out = Vec::with_capacity(count.min(end / 2));
    let mut p = HEADER;
    while p < end {
        let b = lp[p];
        let (elem, size) = if b & 0x80 == 0 {
            (Elem::Int((b & 0x7f) as i64), 1)
        } else if b & 0xc0 == 0x80 {
            let n = (b & 0x3f) as usize;
            (Elem::Str(lp.get(p + 1..p + 1 + n)?), 1 + n)
        } else if b & 0xe0 == 0xc0 {
            let v = (((b & 0x1f) as u64) << 8) | *lp.get(p + 1)? as u64;
            (Elem::Int(((v << 51) as i64) >> 51), 2)
        } else if b & 0xf0 == 0xe0 {
            let n = (((b & 0x0f) as usize) << 8) | *lp.get(p + 1)? as usize;
            (Elem::Str(lp.get(p + 2..p + 2 + n)?), 2 + n)
        } else {
            match b {
                0xf0 => {
                    let n = u32::from_le_bytes(lp.get(p + 1..p + 5)?.try_into().ok()?) as usize;
                    let start = p + 5;
                    (Elem::Str(lp.get(start..start.checked_add(n)?)?), 5 + n)
                }
                0xf1 => (Elem::Int(le_int(lp.get(p + 1..p + 3)?, 16)), 3),
                0xf2 => (Elem::Int(le_int(lp.get(p + 1..p + 4)?, 24)), 4),
                0xf3 => (Elem::Int(le_int(lp.get(p + 1..p + 5)?, 32)), 5),
                0xf4 => (Elem::Int(le_int(lp.get(p + 1..p + 9)?, 64)), 9),
                _ => return None, // 0xff inside the body, or an unused encoding
            }
        };
        let next = p + size + backlen_size(size);
        if next > end {
            return None;
        }
        let mut back = Vec::with_capacity(5);
        encode_backlen(size, &mut back);
        if lp[p + size..next] != back[..] {
            return None;
        }
        out.push(elem);
        p = next;
    }
    if count != u16::MAX as usize && count != out.len() {
        return None;
    }
    Some(out)
}

fn encode_backlen(l: usize, out: &mut Vec<u8>) {
    // The first (leftmost) byte holds the most significant 7 bits; every byte after it has
    // the high bit set, so a reader walking backwards knows when to stop.
    let n = backlen_size(l);
    for i in (0..n).rev() {
        let chunk = ((l >> (7 * i)) & 0x7f) as u8;
        out.push(if i == n - 1 { chunk } else { chunk | 0x80 });
    }
}

/// Builds a listpack, choosing encodings as Redis does (integers for strings that are
/// canonical integers).
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; HEADER]);
        Builder { buf, count: 0 }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes so far (without the terminator).
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    pub fn push(&mut self, s: &[u8]) {
        match canonical_int(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.push(0xe0 | (n >> 8) as u8);
            self.buf.push(n as u8);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.finish_entry(start);
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            self.buf.push(0xc0 | (u >> 8) as u8);
            self.buf.push(u as u8);
        } else {
            let (tag, width) = if i16::try_from(v).is_ok() {
                (0xf1, 2)
            } else if (-(1 << 23)..(1 << 23)).contains(&v) {
                (0xf2, 3)
            } else if i32::try_from(v).is_ok() {
                (0xf3, 4)
            } else {
                (0xf4, 8)
            };
            self.buf.push(tag);
            self.buf.extend_from_slice(&v.to_le_bytes()[..width]);
        }
        self.finish_entry(start);
    }

    fn finish_entry(&mut self, start: usize) {
        let size = self.buf.len() - start;
        encode_backlen(size, &mut self.buf);
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(u16::MAX as usize) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_encoding() {
        let ints = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -32768,
            32767,
            40000,
            -(1 << 23),
            (1 << 23) - 1,
            1 << 23,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MIN,
            i64::MAX,
        ];
        let strs: Vec<Vec<u8>> = vec![
            vec![],
            b"a".to_vec(),
            vec![b'x'; 63],
            vec![b'y'; 64],
            vec![b'z'; 4095],
            vec![b'w'; 4096],
            vec![b'v'; 300_000],
            b"01".to_vec(),
        ];
        let mut b = Builder::new();
        for v in ints {
            b.push_int(v);
        }
        for s in &strs {
            b.push(s);
        }
        let lp = b.finish();
        let parsed = parse(&lp).unwrap();
        assert_eq!(parsed.len(), ints.len() + strs.len());
        for (i, v) in ints.iter().enumerate() {
            assert_eq!(parsed[i], Elem::Int(*v));
        }
        for (i, s) in strs.iter().enumerate() {
            assert_eq!(parsed[ints.len() + i], Elem::Str(s));
        }
    }

    #[test]
    fn known_bytes_from_redis() {
        // `RPUSH l a 1 -1` in Redis 7.0: listpack of "a", 1, -1.
        let lp = [
            0x11, 0, 0, 0, 3, 0, 0x81, b'a', 2, 0x01, 1, 0xdf, 0xff, 2, 0xff,
        ];
        let mut fixed = lp.to_vec();
        fixed[0] = lp.len() as u8;
        assert_eq!(
            parse(&fixed).unwrap(),
            vec![Elem::Str(b"a"), Elem::Int(1), Elem::Int(-1)]
        );
        let mut b = Builder::new();
        b.push(b"a");
        b.push(b"1");
        b.push(b"-1");
        assert_eq!(b.finish(), fixed);
    }

    #[test]
    fn malformed_never_panics() {
        let mut b = Builder::new();
        b.push(b"hello");
        b.push_int(300);
        b.push(&[b'q'; 5000]);
        let lp = b.finish();
        for cut in 0..lp.len() {
            assert!(parse(&lp[..cut]).is_none());
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut m = lp.clone();
            let at = (seed as usize) % m.len();
            m[at] = (seed >> 32) as u8;
            let _ = parse(&m);
            let len = (seed >> 8) as usize % 40;
            let mut r: Vec<u8> = (0..len).map(|k| (seed >> (k % 8 * 8)) as u8).collect();
            if r.len() >= 6 {
                let n = r.len() as u32;
                r[0..4].copy_from_slice(&n.to_le_bytes());
            }
            let _ = parse(&r);
        }
    }
}
