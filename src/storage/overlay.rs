//! A write batch that can be read back before it is committed.
//!
//! A write command (applied by the Raft state machine) may read keys it has already written in
//! the same entry (`DEL k k`, `MSET k 1 k 2`, `RENAME a b` then reading b). The overlay keeps the
//! pending point writes in a map consulted before RocksDB, and turns into one atomic
//! `WriteBatch` at the end.

use std::collections::HashMap;

use rocksdb::WriteBatch;

use super::{Cf, Storage, StorageError};

/// Pending writes of one state-machine entry.
pub struct WriteOverlay<'a> {
    storage: &'a Storage,
    pending: HashMap<(u8, Vec<u8>), Option<Vec<u8>>>,
    batch: WriteBatch,
}

fn cf_tag(cf: Cf) -> u8 {
    cf as u8
}

impl<'a> WriteOverlay<'a> {
    pub fn new(storage: &'a Storage) -> Self {
        WriteOverlay {
            storage,
            pending: HashMap::new(),
            batch: WriteBatch::default(),
        }
    }

    pub fn storage(&self) -> &'a Storage {
        self.storage
    }

    /// Reads through the pending writes, then RocksDB.
    pub fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(v) = self.pending.get(&(cf_tag(cf), key.to_vec())) {
            return Ok(v.clone());
        }
        self.storage.get(cf, key)
    }

    pub fn put(&mut self, cf: Cf, key: Vec<u8>, value: Vec<u8>) {
        self.batch.put_cf(self.storage.cf(cf), &key, &value);
        self.pending.insert((cf_tag(cf), key), Some(value));
    }

    pub fn delete(&mut self, cf: Cf, key: Vec<u8>) {
        self.batch.delete_cf(self.storage.cf(cf), &key);
        self.pending.insert((cf_tag(cf), key), None);
    }

    /// Deletes `[from, to)`. Point reads of the overlay do not see range deletes, so callers
    /// use this only for keys they do not read back in the same entry (FLUSHDB, FLUSHALL).
    pub fn delete_range(&mut self, cf: Cf, from: &[u8], to: &[u8]) {
        self.pending
            .retain(|(c, k), _| !(*c == cf_tag(cf) && k.as_slice() >= from && k.as_slice() < to));
        self.batch.delete_range_cf(self.storage.cf(cf), from, to);
    }

    pub fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }

    /// The batch to commit (atomically, with the state machine's bookkeeping).
    pub fn into_batch(self) -> WriteBatch {
        self.batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StorageOptions;

    #[test]
    fn reads_see_pending_writes_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path(), &StorageOptions::default()).unwrap();
        let mut b = WriteBatch::default();
        b.put_cf(s.cf(Cf::Meta), b"a", b"1");
        s.write(b).unwrap();

        let mut o = WriteOverlay::new(&s);
        assert_eq!(o.get(Cf::Meta, b"a").unwrap(), Some(b"1".to_vec()));
        o.delete(Cf::Meta, b"a".to_vec());
        assert_eq!(o.get(Cf::Meta, b"a").unwrap(), None);
        o.put(Cf::Meta, b"b".to_vec(), b"2".to_vec());
        assert_eq!(o.get(Cf::Meta, b"b").unwrap(), Some(b"2".to_vec()));
        // Nothing reached RocksDB yet.
        assert_eq!(s.get(Cf::Meta, b"a").unwrap(), Some(b"1".to_vec()));
        s.write(o.into_batch()).unwrap();
        assert_eq!(s.get(Cf::Meta, b"a").unwrap(), None);
        assert_eq!(s.get(Cf::Meta, b"b").unwrap(), Some(b"2".to_vec()));
    }
}
