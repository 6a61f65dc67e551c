//! Redis' DUMP/RESTORE serialization (the RDB object format of Redis 7.0, RDB version 10).
//!
//! A payload is `type byte | object | rdb version (u16 LE) | CRC-64 (u64 LE)`, the CRC being
//! Redis' Jones CRC-64 of everything before it. [`encode`] writes the simplest encodings
//! Redis 7.0 loads; [`decode`] reads every encoding Redis 7.0 writes and the older ones it
//! still loads (ziplists, zipmaps, intsets, LZF-compressed strings, version-1 streams).
//!
//! This module knows nothing about storage: it turns bytes into a [`Value`] and back.
//! Decoding never panics and never allocates more than a small multiple of the payload it
//! was given (every count is checked against the bytes left before anything is reserved).

pub mod decode;
pub mod encode;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod ziplist;
pub mod zipmap;

pub use decode::decode;
pub use encode::encode;

/// The RDB version Redis 7.0 writes; payloads of a newer version are refused.
pub const RDB_VERSION: u16 = 10;

// Object type bytes (Redis `rdb.h`).
pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;

/// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
pub const QUICKLIST_PLAIN: u64 = 1;
pub const QUICKLIST_PACKED: u64 = 2;

/// A stream ID `ms-seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// A stream entry's fields and values, in order.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// A stream entry.
pub type Entry = (StreamId, Fields);

/// A decoded key value, as the RDB format describes it (no expiry: that is RESTORE's
/// argument).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(Vec<u8>),
    /// Elements in list order.
    List(Vec<Vec<u8>>),
    /// Distinct members.
    Set(Vec<Vec<u8>>),
    /// Distinct fields.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// Distinct members; scores are never NaN.
    ZSet(Vec<(Vec<u8>, f64)>),
    Stream(Stream),
}

/// A stream with its consumer groups (the fields Redis 7.0's `stream` struct keeps).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {
    /// Entries in ascending ID order: (ID, [(field, value)]).
    pub entries: Vec<Entry>,
    pub last_id: StreamId,
    /// The first entry's ID (0-0 when empty), as XINFO reports it.
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: Vec<Group>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    pub name: Vec<u8>,
    pub last_id: StreamId,
    /// -1: unknown.
    pub entries_read: i64,
    /// The group's pending entries in ascending ID order, each owned by one of `consumers`.
    pub pel: Vec<Pending>,
    pub consumers: Vec<Consumer>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pending {
    pub id: StreamId,
    pub delivery_time: u64,
    pub delivery_count: u64,
    /// Name of the consumer owning the entry.
    pub consumer: Vec<u8>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Consumer {
    pub name: Vec<u8>,
    pub seen_time: u64,
}

/// Why a payload was refused; each maps to one Redis error reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Too short, an RDB version above ours, or a CRC mismatch.
    VersionOrChecksum,
    /// Anything wrong inside the object.
    BadFormat,
}

const CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Redis' CRC-64 of `data`.
pub fn crc64(data: &[u8]) -> u64 {
    CRC.checksum(data)
}

/// Redis `verifyDumpPayload`: the 10-byte footer carries a version we can read and the CRC of
/// everything before it. Returns the object bytes (type byte first).
pub fn verify(payload: &[u8]) -> Result<&[u8], PayloadError> {
    if payload.len() < 10 {
        return Err(PayloadError::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(PayloadError::VersionOrChecksum);
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if crc64(&payload[..payload.len() - 8]) != u64::from_le_bytes(crc) {
        return Err(PayloadError::VersionOrChecksum);
    }
    Ok(body)
}

/// Appends the footer (version and CRC) to an object, making it a DUMP payload.
pub fn seal(mut object: Vec<u8>) -> Vec<u8> {
    object.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&object);
    object.extend_from_slice(&crc.to_le_bytes());
    object
}

/// The decimal text of an integer element (listpack, ziplist, intset, int-encoded strings).
pub(crate) fn int_text(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// `Some(v)` if `s` is the canonical decimal form of an i64 (what Redis' `string2ll` accepts
/// and `ll2string` writes back unchanged): the strings Redis stores as integers.
pub(crate) fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let v: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (v.to_string().as_bytes() == s).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_redis() {
        // Redis' crc64.c self-test vector.
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn verify_checks_version_and_crc() {
        let p = seal(vec![0, 3, b'a', b'b', b'c']);
        assert_eq!(verify(&p), Ok(&[0, 3, b'a', b'b', b'c'][..]));
        let mut bad = p.clone();
        bad[2] ^= 1;
        assert_eq!(verify(&bad), Err(PayloadError::VersionOrChecksum));
        let mut newer = vec![0, 1, b'x'];
        newer.extend_from_slice(&11u16.to_le_bytes());
        let crc = crc64(&newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(verify(&newer), Err(PayloadError::VersionOrChecksum));
        assert_eq!(verify(&[1, 2, 3]), Err(PayloadError::VersionOrChecksum));
    }

    #[test]
    fn canonical_ints() {
        assert_eq!(canonical_int(b"0"), Some(0));
        assert_eq!(canonical_int(b"-12"), Some(-12));
        assert_eq!(canonical_int(b"9223372036854775807"), Some(i64::MAX));
        for s in [
            &b"01"[..],
            b"+1",
            b"-0",
            b" 1",
            b"",
            b"9223372036854775808",
            b"1.0",
        ] {
            assert_eq!(canonical_int(s), None, "{s:?}");
        }
    }
}
