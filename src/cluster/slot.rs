//! Redis Cluster key hashing: `slot = CRC16-XMODEM(key or its {hash tag}) mod 16384`.
//!
//! Must match Redis exactly (cluster clients compute slots themselves and route by them).

/// Number of hash slots in a Redis cluster.
pub const SLOT_COUNT: u16 = 16384;

/// A Redis-cluster hash slot, `0..16384`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId(pub u16);

impl std::fmt::Display for SlotId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The part of `key` that is hashed: the content of the first `{...}` if it is non-empty,
/// else the whole key (Redis `keyHashSlot`).
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// The slot a key belongs to.
pub fn key_slot(key: &[u8]) -> SlotId {
    let crc = crc16::State::<crc16::XMODEM>::calculate(hash_tag(key));
    SlotId(crc & (SLOT_COUNT - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_slots_match_redis() {
        // Values from `CLUSTER KEYSLOT` on redis-server 7.
        assert_eq!(key_slot(b"foo").0, 12182);
        assert_eq!(key_slot(b"bar").0, 5061);
        assert_eq!(key_slot(b"").0, 0);
        assert_eq!(key_slot(b"123456789").0, 0x31C3 & 16383);
    }

    #[test]
    fn hash_tags() {
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"{"), b"{");
        assert_eq!(hash_tag(b"a}b{"), b"a}b{");
    }
}
