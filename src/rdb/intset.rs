//! Intsets (RDB_TYPE_SET_INTSET): `encoding (u32 LE: 2, 4 or 8 bytes per member) | length
//! (u32 LE) | members`, sorted ascending, little endian.

/// The members as decimal text. None if malformed (bad width, size mismatch, not strictly
/// ascending: Redis' intset is a sorted set of distinct integers).
pub fn parse(s: &[u8]) -> Option<Vec<Vec<u8>>> {
    let width = u32::from_le_bytes(s.get(0..4)?.try_into().ok()?) as usize;
    let len = u32::from_le_bytes(s.get(4..8)?.try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || (len as u64) * (width as u64) != (s.len() - 8) as u64 {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    let mut prev: Option<i64> = None;
    for chunk in s[8..].chunks_exact(width) {
        let v = match width {
            2 => i16::from_le_bytes(chunk.try_into().ok()?) as i64,
            4 => i32::from_le_bytes(chunk.try_into().ok()?) as i64,
            _ => i64::from_le_bytes(chunk.try_into().ok()?),
        };
        if prev.is_some_and(|p| p >= v) {
            return None;
        }
        prev = Some(v);
        out.push(super::int_text(v));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_errors() {
        let mut s = vec![2, 0, 0, 0, 3, 0, 0, 0];
        for v in [-5i16, 0, 300] {
            s.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(
            parse(&s).unwrap(),
            vec![b"-5".to_vec(), b"0".to_vec(), b"300".to_vec()]
        );
        let mut s8 = vec![8, 0, 0, 0, 1, 0, 0, 0];
        s8.extend_from_slice(&i64::MIN.to_le_bytes());
        assert_eq!(parse(&s8).unwrap(), vec![i64::MIN.to_string().into_bytes()]);
        assert!(parse(&s[..s.len() - 1]).is_none());
        let mut unsorted = vec![2, 0, 0, 0, 2, 0, 0, 0];
        unsorted.extend_from_slice(&[5, 0, 5, 0]);
        assert!(parse(&unsorted).is_none());
        assert!(parse(&[3, 0, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(parse(&[2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(parse(&[2, 0]).is_none());
    }
}
