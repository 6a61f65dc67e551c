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

use std::collections::{BTreeMap, HashMap};

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

    /// Calls `f(key, value)` for the live keys of `cf` in `[from, to)`, in key order (descending
    /// if `reverse`), until it returns false: RocksDB merged with the pending writes of the
    /// finished entries and of the current one. Collection commands in the state machine use
    /// it to walk members that earlier entries of the same batch may have changed.
    pub fn scan(
        &self,
        cf: Cf,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        let tag = cf_tag(cf);
        let in_range = |k: &[u8]| k >= from && k < to;
        // The pending state of every point written in the range, newest first: the current
        // entry's points decide; a finished entry's point is hidden by a later range delete
        // of the current entry.
        let mut pending: BTreeMap<&[u8], Option<&[u8]>> = BTreeMap::new();
        for ((c, k), v) in &self.committed.points {
            if *c == tag && in_range(k) {
                let hidden = in_ranges(&self.entry_ranges, tag, k);
                pending.insert(k.as_slice(), if hidden { None } else { v.as_deref() });
            }
        }
        for (&(c, ref k), &i) in &self.entry_points {
            if c == tag && in_range(k) {
                let v = match &self.entry_ops[i] {
                    Op::Put(_, _, v) => Some(v.as_slice()),
                    _ => None,
                };
                pending.insert(k.as_slice(), v);
            }
        }
        // RocksDB keys under any pending range delete or pending point are not visible as such.
        let shadowed = |k: &[u8]| {
            pending.contains_key(k)
                || in_ranges(&self.committed.ranges, tag, k)
                || in_ranges(&self.entry_ranges, tag, k)
        };

        let mut ro = rocksdb::ReadOptions::default();
        ro.set_iterate_lower_bound(from.to_vec());
        ro.set_iterate_upper_bound(to.to_vec());
        let db = self.storage.db();
        let mut it = db.raw_iterator_cf_opt(self.storage.cf(cf), ro);
        if reverse {
            it.seek_to_last();
        } else {
            it.seek_to_first();
        }
        type Pending<'p> = Box<dyn Iterator<Item = (&'p &'p [u8], &'p Option<&'p [u8]>)> + 'p>;
        let mut pend: Pending<'_> = if reverse {
            Box::new(pending.iter().rev())
        } else {
            Box::new(pending.iter())
        };
        let mut next_pending = pend.next();
        loop {
            // Skip RocksDB keys the pending writes decide.
            while it.valid() && it.key().is_some_and(shadowed) {
                if reverse {
                    it.prev();
                } else {
                    it.next();
                }
            }
            if it.valid() {
                super::engine::count_keys_read(1);
            }
            let disk = if it.valid() {
                it.key().zip(it.value())
            } else {
                None
            };
            let take_disk = match (disk, next_pending) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((dk, _)), Some((pk, _))) => (dk < *pk) != reverse,
            };
            if take_disk {
                let (k, v) = disk.expect("checked above");
                if !f(k, v) {
                    return Ok(());
                }
                if reverse {
                    it.prev();
                } else {
                    it.next();
                }
            } else {
                let (k, v) = next_pending.expect("checked above");
                if let Some(v) = v {
                    if !f(k, v) {
                        return Ok(());
                    }
                }
                next_pending = pend.next();
            }
        }
        it.status()?;
        Ok(())
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

    /// A point in the current entry's writes to come back to with [`Self::rollback_to`]: a
    /// command that fails inside EXEC drops its own writes and keeps the earlier commands'.
    pub fn savepoint(&self) -> usize {
        self.entry_ops.len()
    }

    /// Drops the current entry's writes made after `savepoint`. The index of the writes that
    /// remain is rebuilt from them (a rolled-back range delete may have hidden older points).
    pub fn rollback_to(&mut self, savepoint: usize) {
        if savepoint >= self.entry_ops.len() {
            return;
        }
        self.entry_ops.truncate(savepoint);
        self.entry_points.clear();
        self.entry_ranges.clear();
        for (i, op) in self.entry_ops.iter().enumerate() {
            match op {
                Op::Put(cf, k, _) | Op::Delete(cf, k) => {
                    self.entry_points.insert((cf_tag(*cf), k.clone()), i);
                }
                Op::DeleteRange(cf, from, to) => {
                    let tag = cf_tag(*cf);
                    self.entry_points.retain(|(c, k), _| {
                        !(*c == tag
                            && k.as_slice() >= from.as_slice()
                            && k.as_slice() < to.as_slice())
                    });
                    self.entry_ranges.push((tag, from.clone(), to.clone()));
                }
            }
        }
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
    fn rollback_to_a_savepoint_keeps_earlier_writes_of_the_entry() {
        let (_dir, s) = Storage::open_temp();
        let mut b = WriteBatch::default();
        b.put_cf(s.cf(Cf::Meta), b"d", b"disk");
        s.write(b).unwrap();
        let mut o = WriteOverlay::new(&s);
        o.put(Cf::Meta, b"a".to_vec(), b"1".to_vec());
        o.put(Cf::Meta, b"b".to_vec(), b"1".to_vec());
        let sp = o.savepoint();
        o.put(Cf::Meta, b"a".to_vec(), b"2".to_vec());
        o.delete_range(Cf::Meta, b"b", b"e");
        o.put(Cf::Meta, b"c".to_vec(), b"3".to_vec());
        assert_eq!(o.get(Cf::Meta, b"b").unwrap(), None);
        assert_eq!(o.get(Cf::Meta, b"d").unwrap(), None);
        o.rollback_to(sp);
        assert_eq!(o.get(Cf::Meta, b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(o.get(Cf::Meta, b"b").unwrap(), Some(b"1".to_vec()));
        assert_eq!(o.get(Cf::Meta, b"c").unwrap(), None);
        assert_eq!(o.get(Cf::Meta, b"d").unwrap(), Some(b"disk".to_vec()));
        // A range delete before the savepoint still hides what it covered.
        let mut o2 = WriteOverlay::new(&s);
        o2.delete_range(Cf::Meta, b"c", b"e");
        let sp = o2.savepoint();
        o2.put(Cf::Meta, b"d".to_vec(), b"new".to_vec());
        o2.rollback_to(sp);
        assert_eq!(o2.get(Cf::Meta, b"d").unwrap(), None);
        s.write(o.into_batch()).unwrap();
        assert_eq!(s.get(Cf::Meta, b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(s.get(Cf::Meta, b"c").unwrap(), None);
        assert_eq!(s.get(Cf::Meta, b"d").unwrap(), Some(b"disk".to_vec()));
    }

    fn scan_all(o: &WriteOverlay<'_>, reverse: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        o.scan(Cf::Subkey, b"a", b"z", reverse, |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn scan_merges_pending_writes_with_rocksdb_in_both_directions() {
        let (_dir, s) = Storage::open_temp();
        let mut b = WriteBatch::default();
        for k in [&b"b"[..], b"d", b"f", b"h", b"zz"] {
            b.put_cf(s.cf(Cf::Subkey), k, b"disk");
        }
        s.write(b).unwrap();
        let mut o = WriteOverlay::new(&s);
        o.put(Cf::Subkey, b"c".to_vec(), b"c1".to_vec());
        o.delete(Cf::Subkey, b"d".to_vec());
        o.put(Cf::Subkey, b"f".to_vec(), b"f1".to_vec());
        o.commit_entry();
        // The current entry: a range delete over [e, g) hides f (finished entry) but a later
        // put of e is visible; h is overwritten; a is new.
        o.delete_range(Cf::Subkey, b"e", b"g");
        o.put(Cf::Subkey, b"e".to_vec(), b"e2".to_vec());
        o.put(Cf::Subkey, b"h".to_vec(), b"h2".to_vec());
        o.put(Cf::Subkey, b"a".to_vec(), b"a2".to_vec());
        let fwd = scan_all(&o, false);
        let keys: Vec<&[u8]> = fwd.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, vec![&b"a"[..], b"b", b"c", b"e", b"h"]);
        assert_eq!(fwd[4].1, b"h2");
        let mut rev = scan_all(&o, true);
        rev.reverse();
        assert_eq!(rev, fwd);
        // Early stop.
        let mut n = 0;
        o.scan(Cf::Subkey, b"a", b"z", false, |_, _| {
            n += 1;
            n < 2
        })
        .unwrap();
        assert_eq!(n, 2);
        // Other column families are not mixed in.
        let mut other = 0;
        o.scan(Cf::Meta, b"a", b"z", false, |_, _| {
            other += 1;
            true
        })
        .unwrap();
        assert_eq!(other, 0);
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
