//! Zipmaps (RDB_TYPE_HASH_ZIPMAP, Redis 2.x small hashes): read only.
//!
//! `zmlen (1 byte) | (len key len free value free-bytes)* | 0xFF`, where `len` is one byte
//! below 254, or 254 followed by a u32 (little endian, as the x86 servers that wrote them
//! stored it).

fn read_len(z: &[u8], p: &mut usize) -> Option<usize> {
    let b = *z.get(*p)?;
    match b {
        0..=253 => {
            *p += 1;
            Some(b as usize)
        }
        254 => {
            let n = u32::from_le_bytes(z.get(*p + 1..*p + 5)?.try_into().ok()?) as usize;
            *p += 5;
            Some(n)
        }
        _ => None,
    }
}

/// (field, value) pairs; None if malformed.
pub fn parse(z: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut p = 1;
    loop {
        if *z.get(p)? == 0xff {
            return (p + 1 == z.len()).then_some(out);
        }
        let klen = read_len(z, &mut p)?;
        let key = z.get(p..p.checked_add(klen)?)?.to_vec();
        p += klen;
        let vlen = read_len(z, &mut p)?;
        let free = *z.get(p)? as usize;
        p += 1;
        let value = z.get(p..p.checked_add(vlen)?)?.to_vec();
        p += vlen + free;
        out.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_errors() {
        let z = [
            2, 1, b'a', 2, 0, b'x', b'y', 3, b'b', b'c', b'd', 1, 2, b'z', b'_', b'_', 0xff,
        ];
        assert_eq!(
            parse(&z).unwrap(),
            vec![
                (b"a".to_vec(), b"xy".to_vec()),
                (b"bcd".to_vec(), b"z".to_vec())
            ]
        );
        for cut in 0..z.len() {
            assert!(parse(&z[..cut]).is_none());
        }
    }
}
