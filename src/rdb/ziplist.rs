//! Ziplists (Redis before 7.0): read only, for payloads of older servers that Redis 7.0
//! still loads (RDB_TYPE_LIST_QUICKLIST nodes, RDB_TYPE_LIST_ZIPLIST, RDB_TYPE_HASH_ZIPLIST,
//! RDB_TYPE_ZSET_ZIPLIST).
//!
//! `zlbytes (u32 LE) | zltail (u32 LE) | zllen (u16 LE, 65535 = unknown) | entries | 0xFF`.
//! An entry is `prevlen (1 byte, or 0xFE + u32 LE) | encoding | data`. Encodings:
//! `00pppppp` string up to 63 bytes; `01pppppp qqqqqqqq` string up to 16383 bytes (big
//! endian); `10000000` + u32 BE length string; `11000000` int16, `11010000` int32,
//! `11100000` int64, `11110000` int24, `11111110` int8 (all LE); `1111xxxx` (xxxx in
//! 0001..1101) the integer xxxx - 1.

/// Parses a whole ziplist into its elements (integers as decimal text). None if malformed.
pub fn parse(zl: &[u8]) -> Option<Vec<Vec<u8>>> {
    const HEADER: usize = 10;
    if zl.len() < HEADER + 1 {
        return None;
    }
    let bytes = u32::from_le_bytes(zl[0..4].try_into().ok()?) as usize;
    let tail = u32::from_le_bytes(zl[4..8].try_into().ok()?) as usize;
    let count = u16::from_le_bytes([zl[8], zl[9]]) as usize;
    if bytes != zl.len() || tail >= zl.len() || zl[zl.len() - 1] != 0xff {
        return None;
    }
    let end = zl.len() - 1;
    let mut out = Vec::with_capacity(count.min(end / 2));
    let mut p = HEADER;
    let mut prev_size = 0usize;
    let mut last_start = HEADER;
    while p < end {
        let start = p;
        let prevlen = if zl[p] < 254 {
            p += 1;
            zl[start] as usize
        } else if zl[p] == 254 {
            p += 5;
            u32::from_le_bytes(zl.get(start + 1..start + 5)?.try_into().ok()?) as usize
        } else {
            return None;
        };
        if prevlen != prev_size {
            return None;
        }
        let enc = *zl.get(p)?;
        let int = |n: usize, p: usize| -> Option<i64> {
            let b = zl.get(p + 1..p + 1 + n)?;
            let mut v: u64 = 0;
            for (i, &x) in b.iter().enumerate() {
                v |= (x as u64) << (8 * i);
            }
            let shift = 64 - 8 * n as u32;
            Some(((v << shift) as i64) >> shift)
        };
        let (value, size) = match enc >> 6 {
            0 => {
                let n = (enc & 0x3f) as usize;
                (zl.get(p + 1..p + 1 + n)?.to_vec(), 1 + n)
            }
            1 => {
                let n = (((enc & 0x3f) as usize) << 8) | *zl.get(p + 1)? as usize;
                (zl.get(p + 2..p + 2 + n)?.to_vec(), 2 + n)
            }
            2 => {
                let n = u32::from_be_bytes(zl.get(p + 1..p + 5)?.try_into().ok()?) as usize;
                let s = p + 5;
                (zl.get(s..s.checked_add(n)?)?.to_vec(), 5 + n)
            }
            _ => match enc {
                0xc0 => (super::int_text(int(2, p)?), 3),
                0xd0 => (super::int_text(int(4, p)?), 5),
                0xe0 => (super::int_text(int(8, p)?), 9),
                0xf0 => (super::int_text(int(3, p)?), 4),
                0xfe => (super::int_text(int(1, p)?), 2),
                0xf1..=0xfd => (super::int_text((enc & 0x0f) as i64 - 1), 1),
                _ => return None,
            },
        };
        p += size;
        if p > end {
            return None;
        }
        out.push(value);
        prev_size = p - start;
        last_start = start;
    }
    if (!out.is_empty() && tail != last_start) || (count != u16::MAX as usize && count != out.len())
    {
        return None;
    }
    Some(out)
}

/// Builds a ziplist from encoded entries (encoding + data, without prevlen): test payloads
/// of the pre-7.0 encodings, which nothing here writes.
#[cfg(test)]
pub(crate) fn build(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut tail = 10;
    for e in entries {
        tail = 10 + body.len();
        let start = body.len();
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(254);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        body.extend_from_slice(e);
        prev = body.len() - start;
    }
    let total = 10 + body.len() + 1;
    let mut zl = Vec::new();
    zl.extend_from_slice(&(total as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(0xff);
    zl
}

/// A short string entry (for [`build`]).
#[cfg(test)]
pub(crate) fn str_entry(s: &[u8]) -> Vec<u8> {
    assert!(s.len() < 64);
    let mut e = vec![s.len() as u8];
    e.extend_from_slice(s);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding() {
        let mut long = vec![0x41, 0x2c];
        long.extend(vec![b'L'; 300]);
        let mut huge = vec![0x80, 0, 0, 0x40, 0];
        huge.extend(vec![b'H'; 0x4000]);
        let entries = vec![
            vec![0x03, b'a', b'b', b'c'],
            long,
            huge,
            vec![0xc0, 0x00, 0x80],             // int16 -32768
            vec![0xd0, 0xff, 0xff, 0xff, 0x7f], // int32 max
            vec![0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // int64 -1
            vec![0xf0, 0x00, 0x00, 0x80],       // int24 min
            vec![0xfe, 0x85],                   // int8 -123
            vec![0xf1],                         // 0
            vec![0xfd],                         // 12
        ];
        let zl = build(&entries);
        let v = parse(&zl).unwrap();
        assert_eq!(v[0], b"abc");
        assert_eq!(v[1], vec![b'L'; 300]);
        assert_eq!(v[2], vec![b'H'; 0x4000]);
        let ints: Vec<String> = v[3..]
            .iter()
            .map(|b| String::from_utf8(b.clone()).unwrap())
            .collect();
        assert_eq!(
            ints,
            ["-32768", "2147483647", "-1", "-8388608", "-123", "0", "12"]
        );
        for cut in 0..zl.len() {
            assert!(parse(&zl[..cut]).is_none());
        }
        let mut seed = 77u64;
        for _ in 0..10_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut m = zl.clone();
            let at = (seed >> 20) as usize % m.len();
            m[at] = (seed >> 50) as u8;
            let _ = parse(&m);
        }
    }
}
