//! Key metadata: the value stored under a key's meta key.
//!
//! Layout (docs/encoding.md):
//! - every type: `type(1) | expire_ms(8)` (0 = no expiry, else an absolute Unix time in ms);
//! - string: then the raw value bytes;
//! - collections: then `version(8) | size(8) | modified(8)` and type-specific fields; members live in
//!   [`Cf::Subkey`](super::Cf::Subkey) under that version, so deleting or overwriting a collection
//!   only rewrites this value and the old members become garbage.

use super::StorageError;

/// The Redis type of a key. The numbers are on disk: never change one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RedisType {
    String = 1,
    Hash = 2,
    List = 3,
    Set = 4,
    ZSet = 5,
    Stream = 6,
}

impl RedisType {
    pub fn from_u8(b: u8) -> Option<RedisType> {
        Some(match b {
            1 => RedisType::String,
            2 => RedisType::Hash,
            3 => RedisType::List,
            4 => RedisType::Set,
            5 => RedisType::ZSet,
            6 => RedisType::Stream,
            _ => return None,
        })
    }

    /// The name `TYPE` replies with.
    pub fn name(self) -> &'static str {
        match self {
            RedisType::String => "string",
            RedisType::Hash => "hash",
            RedisType::List => "list",
            RedisType::Set => "set",
            RedisType::ZSet => "zset",
            RedisType::Stream => "stream",
        }
    }
}

/// Decoded key metadata. For strings, `payload` is the value; for collections it holds the
/// type-specific fields after version and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub typ: RedisType,
    /// Absolute expiry in Unix ms; 0 means none.
    pub expire_ms: u64,
    pub version: u64,
    pub size: u64,
    /// Collections: the log index of the entry that last changed the collection (members or
    /// metadata). Every change rewrites it, so WATCH can tell a collection was modified even
    /// when its size did not change (HSET of an existing field). Unused (0) for strings.
    pub modified: u64,
    pub payload: Vec<u8>,
}

const HEADER: usize = 9;
const COLLECTION_HEADER: usize = HEADER + 24;

impl Metadata {
    pub fn string(value: Vec<u8>, expire_ms: u64) -> Metadata {
        Metadata {
            typ: RedisType::String,
            expire_ms,
            version: 0,
            size: 0,
            modified: 0,
            payload: value,
        }
    }

    /// True if the key is expired at `now_ms` (and so must be treated as absent).
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_ms != 0 && self.expire_ms <= now_ms
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(COLLECTION_HEADER + self.payload.len());
        out.push(self.typ as u8);
        out.extend_from_slice(&self.expire_ms.to_be_bytes());
        if self.typ != RedisType::String {
            out.extend_from_slice(&self.version.to_be_bytes());
            out.extend_from_slice(&self.size.to_be_bytes());
            out.extend_from_slice(&self.modified.to_be_bytes());
        }
        out.extend_from_slice(&self.payload);
        out
    }

    pub fn decode(raw: &[u8]) -> Result<Metadata, StorageError> {
        let corrupted = || StorageError::Corrupted(format!("bad metadata ({} bytes)", raw.len()));
        if raw.len() < HEADER {
            return Err(corrupted());
        }
        let typ = RedisType::from_u8(raw[0]).ok_or_else(corrupted)?;
        let expire_ms = be_u64(&raw[1..9]);
        if typ == RedisType::String {
            return Ok(Metadata::string(raw[HEADER..].to_vec(), expire_ms));
        }
        if raw.len() < COLLECTION_HEADER {
            return Err(corrupted());
        }
        Ok(Metadata {
            typ,
            expire_ms,
            version: be_u64(&raw[9..17]),
            size: be_u64(&raw[17..25]),
            modified: be_u64(&raw[25..33]),
            payload: raw[COLLECTION_HEADER..].to_vec(),
        })
    }

    /// Reads only the type and expiry, without copying the value.
    pub fn peek(raw: &[u8]) -> Result<(RedisType, u64), StorageError> {
        if raw.len() < HEADER {
            return Err(StorageError::Corrupted("short metadata".into()));
        }
        let typ = RedisType::from_u8(raw[0])
            .ok_or_else(|| StorageError::Corrupted(format!("unknown type {}", raw[0])))?;
        Ok((typ, be_u64(&raw[1..9])))
    }
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_round_trip() {
        let m = Metadata::string(b"hello".to_vec(), 1234);
        let raw = m.encode();
        assert_eq!(raw.len(), 9 + 5);
        assert_eq!(Metadata::decode(&raw).unwrap(), m);
        assert_eq!(Metadata::peek(&raw).unwrap(), (RedisType::String, 1234));
    }

    #[test]
    fn collection_round_trip() {
        let m = Metadata {
            typ: RedisType::Hash,
            expire_ms: 0,
            version: 77,
            size: 3,
            modified: 9,
            payload: vec![1, 2],
        };
        assert_eq!(Metadata::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn corrupted_is_an_error_not_a_panic() {
        assert!(Metadata::decode(&[]).is_err());
        assert!(Metadata::decode(&[9, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(Metadata::decode(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
    }

    #[test]
    fn expiry() {
        let m = Metadata::string(vec![], 100);
        assert!(!m.is_expired(99));
        assert!(m.is_expired(100));
        assert!(!Metadata::string(vec![], 0).is_expired(u64::MAX));
    }
}
