//! Storage: Redis data encoded as RocksDB keys, plus the Raft log, on one RocksDB per node.
//!
//! Invariants:
//! - every data key starts with the 2-byte slot id, so a slot is one contiguous key range
//!   (snapshots, migration, COUNTKEYSINSLOT and range deletes work per slot);
//! - column family names and key layouts are defined only here (`cf.rs`, `keys.rs`,
//!   `metadata.rs`) and documented byte by byte in docs/encoding.md;
//! - this module knows nothing about Raft or RESP: it stores bytes.

pub mod cf;
pub mod compactor;
pub mod engine;
pub mod gc;
pub mod keys;
pub mod keyspace;
pub mod metadata;
pub mod overlay;

pub use cf::Cf;
pub use engine::{Storage, StorageOptions};
pub use metadata::{Metadata, RedisType};
pub use overlay::WriteOverlay;

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    #[error("corrupted data: {0}")]
    Corrupted(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl From<StorageError> for std::io::Error {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Io(io) => io,
            other => std::io::Error::other(other.to_string()),
        }
    }
}
