//! Byte layout of every RocksDB key (see docs/encoding.md). All integers are big-endian so that
//! byte order equals numeric order.

use crate::cluster::SlotId;

/// `slot(2) | db(1) | user_key` in [`Cf::Meta`](super::Cf::Meta).
pub fn meta_key(slot: SlotId, db: u8, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + key.len());
    k.extend_from_slice(&slot.0.to_be_bytes());
    k.push(db);
    k.extend_from_slice(key);
    k
}

/// Splits a meta key into `(slot, db, user_key)`.
pub fn decode_meta_key(raw: &[u8]) -> Option<(SlotId, u8, &[u8])> {
    if raw.len() < 3 {
        return None;
    }
    let slot = u16::from_be_bytes([raw[0], raw[1]]);
    Some((SlotId(slot), raw[2], &raw[3..]))
}

/// `slot(2) | db(1)`: the prefix of all meta keys of one database in one slot.
pub fn slot_db_prefix(slot: SlotId, db: u8) -> [u8; 3] {
    let s = slot.0.to_be_bytes();
    [s[0], s[1], db]
}

/// `slot(2)`: the prefix of every data key of a slot, in every data column family.
pub fn slot_prefix(slot: SlotId) -> [u8; 2] {
    slot.0.to_be_bytes()
}

/// The half-open key range `[lo, hi+1)` covering slots `lo..=hi` in every data column family.
pub fn slot_range_bounds(lo: u16, hi: u16) -> (Vec<u8>, Vec<u8>) {
    let start = lo.to_be_bytes().to_vec();
    let end = if hi == u16::MAX {
        vec![0xff, 0xff, 0xff]
    } else {
        (hi + 1).to_be_bytes().to_vec()
    };
    (start, end)
}

/// `slot(2) | db(1) | keylen(4) | key | version(8)`: prefix of a collection's members.
pub fn subkey_prefix(slot: SlotId, db: u8, key: &[u8], version: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(15 + key.len());
    k.extend_from_slice(&slot.0.to_be_bytes());
    k.push(db);
    k.extend_from_slice(&(key.len() as u32).to_be_bytes());
    k.extend_from_slice(key);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

/// `slot(2) | deadline_ms(8) | db(1) | key` in [`Cf::Expire`](super::Cf::Expire).
pub fn expire_key(slot: SlotId, deadline_ms: u64, db: u8, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(11 + key.len());
    k.extend_from_slice(&slot.0.to_be_bytes());
    k.extend_from_slice(&deadline_ms.to_be_bytes());
    k.push(db);
    k.extend_from_slice(key);
    k
}

/// Splits an expiry-index key into `(slot, deadline_ms, db, user_key)`.
pub fn decode_expire_key(raw: &[u8]) -> Option<(SlotId, u64, u8, &[u8])> {
    if raw.len() < 11 {
        return None;
    }
    let slot = u16::from_be_bytes([raw[0], raw[1]]);
    let mut d = [0u8; 8];
    d.copy_from_slice(&raw[2..10]);
    Some((SlotId(slot), u64::from_be_bytes(d), raw[10], &raw[11..]))
}

/// `group(8) | index(8)` in [`Cf::RaftLog`](super::Cf::RaftLog).
pub fn log_key(group: u64, index: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&group.to_be_bytes());
    k[8..].copy_from_slice(&index.to_be_bytes());
    k
}

/// The log index stored in a [`log_key`].
pub fn log_index_of(raw: &[u8]) -> Option<u64> {
    let b: [u8; 8] = raw.get(8..16)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// `group(8) | kind(1)` in [`Cf::RaftMeta`](super::Cf::RaftMeta) and [`Cf::SmMeta`](super::Cf::SmMeta).
pub fn group_meta_key(group: u64, kind: u8) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[..8].copy_from_slice(&group.to_be_bytes());
    k[8] = kind;
    k
}

/// The smallest key greater than every key starting with `prefix` (None if there is none).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_keys_order_by_slot_then_db_then_key() {
        let a = meta_key(SlotId(1), 0, b"zzz");
        let b = meta_key(SlotId(2), 0, b"aaa");
        let c = meta_key(SlotId(2), 1, b"aaa");
        let d = meta_key(SlotId(2), 1, b"aab");
        assert!(a < b && b < c && c < d);
        assert_eq!(decode_meta_key(&d), Some((SlotId(2), 1, &b"aab"[..])));
    }

    #[test]
    fn slot_ranges_contain_exactly_their_slots() {
        let (lo, hi) = slot_range_bounds(5, 9);
        assert!(meta_key(SlotId(4), 15, b"\xff\xff") < lo);
        assert!(meta_key(SlotId(5), 0, b"") >= lo);
        assert!(meta_key(SlotId(9), 15, b"\xff\xff\xff") < hi);
        assert!(meta_key(SlotId(10), 0, b"") >= hi);
        let (_, top) = slot_range_bounds(0, 16383);
        assert!(meta_key(SlotId(16383), 255, b"\xff") < top);
    }

    #[test]
    fn subkey_prefixes_do_not_collide_across_keys() {
        // keylen makes "ab"+member "c" differ from "abc"+member "".
        let p1 = subkey_prefix(SlotId(1), 0, b"ab", 7);
        let p2 = subkey_prefix(SlotId(1), 0, b"abc", 7);
        assert!(!p2.starts_with(&p1) && !p1.starts_with(&p2));
    }

    #[test]
    fn expire_keys_order_by_deadline_within_slot() {
        let a = expire_key(SlotId(3), 100, 9, b"z");
        let b = expire_key(SlotId(3), 101, 0, b"a");
        assert!(a < b);
        assert_eq!(decode_expire_key(&b), Some((SlotId(3), 101, 0, &b"a"[..])));
    }

    #[test]
    fn log_keys_order_by_group_then_index() {
        assert!(log_key(1, u64::MAX) < log_key(2, 0));
        assert!(log_key(1, 9) < log_key(1, 10));
        assert_eq!(log_index_of(&log_key(3, 42)), Some(42));
    }

    #[test]
    fn prefix_end_is_tight() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
    }
}
