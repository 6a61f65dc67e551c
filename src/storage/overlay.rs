//! A write batch that can be read back before it is committed, built entry by entry.
//!
//! The Raft state machine applies a run of committed entries as ONE RocksDB write: one WAL
//! record and one memtable insertion group instead of one per entry. Each entry must still see
//! the writes of the entries before it (and its own: `DEL k k`, `MSET k 1 k 2`), and a command
//! that fails or panics must leave no trace. So the overlay has two layers:
//!
//! - the *entry* layer: what the entry being applied has staged so far, in order;
//! - the *batch* layer: the accumulated writes of the entries already finished, plus the
//!   RocksDB `WriteBatch` they make up.
//!
//! Reads look at the entry layer, then the batch layer, then RocksDB. [`WriteOverlay::commit_entry`]
//! moves the entry layer into the batch; [`WriteOverlay::rollback_entry`] drops it.

use std::collections::HashMap;

use rocksdb::WriteBatch;

use super::{Cf, Storage, StorageError};

type PointKey = (u8, Vec<u8>);

fn cf_tag(cf: Cf) -> u8 {
    cf as u8
}

enum Op {
    Put(Cf, Vec<u8>, Vec<u8>),
    Delete(Cf, Vec<u8>),
    DeleteRange(Cf, Vec<u8>, Vec<u8>),
}

fn in_ranges(ranges: &[(u8, Vec<u8>, Vec<u8>)], tag: u8, key: &[u8]) -> bool {
    ranges
        .iter()
        .any(|(c, from, to)| *c == tag && key >= from.as_slice() && key < to.as_slice())
}

/// Point writes (`None` = deleted) and range deletes, newest state per key. Every point write
/// is newer than every range delete it overlaps (a range delete removes the point writes it
/// covers), so a lookup checks the points first, then the ranges.
#[derive(Default)]
struct Layer {
    points: HashMap<PointKey, Option<Vec<u8>>>,
    ranges: Vec<(u8, Vec<u8>, Vec<u8>)>,
}

impl Layer {
    /// `Some(answer)` if this layer decides the key, `None` to look further down.
    fn lookup(&self, cf: Cf, key: &[u8]) -> Option<Option<Vec<u8>>> {
        // A borrowed lookup would need a custom Borrow impl for the tuple; keys are short.
        if let Some(v) = self.points.get(&(cf_tag(cf), key.to_vec())) {
            return Some(v.clone());
        }
        in_ranges(&self.ranges, cf_tag(cf), key).then_some(None)
    }

    fn put(&mut self, cf: Cf, key: Vec<u8>, value: Vec<u8>) {
        self.points.insert((cf_tag(cf), key), Some(value));
    }

    fn delete(&mut self, cf: Cf, key: Vec<u8>) {
        self.points.insert((cf_tag(cf), key), None);
    }

    fn delete_range(&mut self, cf: Cf, from: &[u8], to: &[u8]) {
        let tag = cf_tag(cf);
        self.points
            .retain(|(c, k), _| !(*c == tag && k.as_slice() >= from && k.as_slice() < to));
        self.ranges.push((tag, from.to_vec(), to.to_vec()));
    }
}

/// Pending writes of a run of state-machine entries.
pub struct WriteOverlay<'a> {
    storage: &'a Storage,
    /// The current entry's writes in order (replayed into `batch` on commit).
    entry_ops: Vec<Op>,
    /// The current entry's newest op per key, as an index into `entry_ops` (values are not
    /// copied: a value can be hundreds of megabytes).
    entry_points: HashMap<PointKey, usize>,
    entry_ranges: Vec<(u8, Vec<u8>, Vec<u8>)>,
    committed: Layer,
    batch: WriteBatch,
    committed_entries: usize,
}

impl<'a> WriteOverlay<'a> {
    pub fn new(storage: &'a Storage) -> Self {
        WriteOverlay {
            storage,
            entry_ops: Vec::new(),
            entry_points: HashMap::new(),
            entry_ranges: Vec::new(),
            committed: Layer::default(),
            batch: WriteBatch::default(),
            committed_entries: 0,
        }
    }

    pub fn storage(&self) -> &'a Storage {
        self.storage
    }

    /// Reads through the current entry's writes, the finished entries' writes, then RocksDB.
    pub fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let tag = cf_tag(cf);
        if let Some(&i) = self.entry_points.get(&(tag, key.to_vec())) {
            return Ok(match &self.entry_ops[i] {
                Op::Put(_, _, v) => Some(v.clone()),
                _ => None,
            });
        }
        if in_ranges(&self.entry_ranges, tag, key) {
            return Ok(None);
        }
        if let Some(v) = self.committed.lookup(cf, key) {
            return Ok(v);
        }
        self.storage.get(cf, key)
    }

    pub fn put(&mut self, cf: Cf, key: Vec<u8>, value: Vec<u8>) {
        self.entry_points
            .insert((cf_tag(cf), key.clone()), self.entry_ops.len());
        self.entry_ops.push(Op::Put(cf, key, value));
    }

    pub fn delete(&mut self, cf: Cf, key: Vec<u8>) {
        self.entry_points
            .insert((cf_tag(cf), key.clone()), self.entry_ops.len());
        self.entry_ops.push(Op::Delete(cf, key));
    }

    /// Deletes `[from, to)`: point reads of keys in the range see them deleted until a later
    /// put in the same run.
    pub fn delete_range(&mut self, cf: Cf, from: &[u8], to: &[u8]) {
        let tag = cf_tag(cf);
        self.entry_points
            .retain(|(c, k), _| !(*c == tag && k.as_slice() >= from && k.as_slice() < to));
        self.entry_ranges.push((tag, from.to_vec(), to.to_vec()));
        self.entry_ops
            .push(Op::DeleteRange(cf, from.to_vec(), to.to_vec()));
    }

    /// Keys in `cf` written (not deleted) by the pending writes, finished entries and the
    /// current one. Callers that scan RocksDB directly use this to see the pending keys too.
    pub fn pending_puts(&self, cf: Cf) -> impl Iterator<Item = &[u8]> {
        let tag = cf_tag(cf);
        let committed = self
            .committed
            .points
            .iter()
            .filter(move |((c, _), v)| *c == tag && v.is_some())
            .map(|((_, k), _)| k.as_slice());
        let current = self
            .entry_points
            .values()
            .filter_map(move |&i| match &self.entry_ops[i] {
                Op::Put(c, k, _) if cf_tag(*c) == tag => Some(k.as_slice()),
                _ => None,
            });
        committed.chain(current)
    }

    /// Keeps the current entry's writes: they join the batch.
    pub fn commit_entry(&mut self) {
        for op in self.entry_ops.drain(..) {
            match op {
                Op::Put(cf, k, v) => {
                    self.batch.put_cf(self.storage.cf(cf), &k, &v);
                    self.committed.put(cf, k, v);
                }
                Op::Delete(cf, k) => {
                    self.batch.delete_cf(self.storage.cf(cf), &k);
                    self.committed.delete(cf, k);
                }
                Op::DeleteRange(cf, from, to) => {
                    self.batch.delete_range_cf(self.storage.cf(cf), &from, &to);
                    self.committed.delete_range(cf, &from, &to);
                }
            }
        }
        self.entry_points.clear();
        self.entry_ranges.clear();
        self.committed_entries += 1;
    }

    /// Drops the current entry's writes (a failed or panicked command changes nothing).
    pub fn rollback_entry(&mut self) {
        self.entry_ops.clear();
        self.entry_points.clear();
        self.entry_ranges.clear();
    }

    /// Entries committed into the batch since the last [`Self::take_batch`].
    pub fn committed_entries(&self) -> usize {
        self.committed_entries
    }

    /// Approximate size of the batch so far.
    pub fn batch_bytes(&self) -> usize {
        self.batch.size_in_bytes()
    }

    /// Commits the current entry and returns the batch of everything; the overlay starts over
    /// empty, reading RocksDB directly again (the caller writes the batch before reading).
    pub fn take_batch(&mut self) -> WriteBatch {
        self.commit_entry();
        self.committed = Layer::default();
        self.committed_entries = 0;
        std::mem::take(&mut self.batch)
    }

    /// The batch to commit: the current entry's writes and all finished entries' writes.
    pub fn into_batch(mut self) -> WriteBatch {
        self.take_batch()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_see_pending_writes_and_deletes() {
        let (_dir, s) = Storage::open_temp();
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

    #[test]
    fn later_entries_see_earlier_ones_and_rollback_drops_only_the_current_one() {
        let (_dir, s) = Storage::open_temp();
        let mut o = WriteOverlay::new(&s);
        o.put(Cf::Meta, b"k".to_vec(), b"1".to_vec());
        o.commit_entry();
        assert_eq!(o.get(Cf::Meta, b"k").unwrap(), Some(b"1".to_vec()));

        o.put(Cf::Meta, b"k".to_vec(), b"2".to_vec());
        o.put(Cf::Meta, b"x".to_vec(), b"3".to_vec());
        assert_eq!(o.get(Cf::Meta, b"k").unwrap(), Some(b"2".to_vec()));
        o.rollback_entry();
        assert_eq!(o.get(Cf::Meta, b"k").unwrap(), Some(b"1".to_vec()));
        assert_eq!(o.get(Cf::Meta, b"x").unwrap(), None);

        o.delete(Cf::Meta, b"k".to_vec());
        o.commit_entry();
        o.put(Cf::Meta, b"y".to_vec(), b"4".to_vec());
        assert_eq!(o.committed_entries(), 2);
        s.write(o.into_batch()).unwrap();
        assert_eq!(s.get(Cf::Meta, b"k").unwrap(), None);
        assert_eq!(s.get(Cf::Meta, b"x").unwrap(), None);
        assert_eq!(s.get(Cf::Meta, b"y").unwrap(), Some(b"4".to_vec()));
    }

    #[test]
    fn range_deletes_hide_older_writes_but_not_newer_ones() {
        let (_dir, s) = Storage::open_temp();
        let mut b = WriteBatch::default();
        b.put_cf(s.cf(Cf::Meta), b"b0", b"disk");
        s.write(b).unwrap();

        let mut o = WriteOverlay::new(&s);
        o.put(Cf::Meta, b"b1".to_vec(), b"old".to_vec());
        o.commit_entry();
        o.delete_range(Cf::Meta, b"b", b"c");
        assert_eq!(o.get(Cf::Meta, b"b0").unwrap(), None);
        assert_eq!(o.get(Cf::Meta, b"b1").unwrap(), None);
        o.commit_entry();
        assert_eq!(o.get(Cf::Meta, b"b1").unwrap(), None);
        assert_eq!(o.pending_puts(Cf::Meta).count(), 0);
        o.put(Cf::Meta, b"b2".to_vec(), b"new".to_vec());
        o.commit_entry();
        assert_eq!(o.get(Cf::Meta, b"b2").unwrap(), Some(b"new".to_vec()));
        assert_eq!(o.pending_puts(Cf::Meta).collect::<Vec<_>>(), vec![b"b2"]);
        s.write(o.into_batch()).unwrap();
        assert_eq!(s.get(Cf::Meta, b"b0").unwrap(), None);
        assert_eq!(s.get(Cf::Meta, b"b1").unwrap(), None);
        assert_eq!(s.get(Cf::Meta, b"b2").unwrap(), Some(b"new".to_vec()));
    }
}
