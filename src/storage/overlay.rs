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

use std::collections::BTreeMap;
use std::ops::Bound;

use rocksdb::WriteBatch;

use super::{Cf, Storage, StorageError};

fn cf_tag(cf: Cf) -> u8 {
    cf as u8
}

/// One ordered map per column family, indexed by [`cf_tag`]: ordered so that scans take just
/// the pending writes in their range (an SPOP batch seeks hundreds of times among hundreds of
/// pending deletes), per family so that lookups borrow the key instead of building a tuple.
type PerCf<V> = [BTreeMap<Vec<u8>, V>; Cf::ALL.len()];

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
    points: PerCf<Option<Vec<u8>>>,
    ranges: Vec<(u8, Vec<u8>, Vec<u8>)>,
}

impl Layer {
    /// `Some(answer)` if this layer decides the key, `None` to look further down.
    fn lookup(&self, cf: Cf, key: &[u8]) -> Option<Option<Vec<u8>>> {
        if let Some(v) = self.points[usize::from(cf_tag(cf))].get(key) {
            return Some(v.clone());
        }
        in_ranges(&self.ranges, cf_tag(cf), key).then_some(None)
    }

    fn put(&mut self, cf: Cf, key: Vec<u8>, value: Vec<u8>) {
        self.points[usize::from(cf_tag(cf))].insert(key, Some(value));
    }

    fn delete(&mut self, cf: Cf, key: Vec<u8>) {
        self.points[usize::from(cf_tag(cf))].insert(key, None);
    }

    fn delete_range(&mut self, cf: Cf, from: &[u8], to: &[u8]) {
        let tag = cf_tag(cf);
        remove_range(&mut self.points[usize::from(tag)], from, to);
        self.ranges.push((tag, from.to_vec(), to.to_vec()));
    }
}

/// Removes the keys in `[from, to)` from `map`.
fn remove_range<V>(map: &mut BTreeMap<Vec<u8>, V>, from: &[u8], to: &[u8]) {
    if from >= to {
        return;
    }
    let doomed: Vec<Vec<u8>> = map
        .range::<[u8], _>((Bound::Included(from), Bound::Excluded(to)))
        .map(|(k, _)| k.clone())
        .collect();
    for k in doomed {
        map.remove(&k);
    }
}

/// The keys of `map` in `[from, to)`, ascending or descending.
fn range_dir<'m, V>(
    map: &'m BTreeMap<Vec<u8>, V>,
    from: &[u8],
    to: &[u8],
    reverse: bool,
) -> Box<dyn Iterator<Item = (&'m Vec<u8>, &'m V)> + 'm> {
    if from >= to {
        return Box::new(std::iter::empty());
    }
    let range = map.range::<[u8], _>((Bound::Included(from), Bound::Excluded(to)));
    if reverse {
        Box::new(range.rev())
    } else {
        Box::new(range)
    }
}

/// Pending writes of a run of state-machine entries.
pub struct WriteOverlay<'a> {
    storage: &'a Storage,
    /// The current entry's writes in order (replayed into `batch` on commit).
    entry_ops: Vec<Op>,
    /// The current entry's newest op per key, as an index into `entry_ops` (values are not
    /// copied: a value can be hundreds of megabytes).
    entry_points: PerCf<usize>,
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
            entry_points: PerCf::default(),
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
        if let Some(&i) = self.entry_points[usize::from(tag)].get(key) {
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
        self.entry_points[usize::from(cf_tag(cf))].insert(key.clone(), self.entry_ops.len());
        self.entry_ops.push(Op::Put(cf, key, value));
    }

    pub fn delete(&mut self, cf: Cf, key: Vec<u8>) {
        self.entry_points[usize::from(cf_tag(cf))].insert(key.clone(), self.entry_ops.len());
        self.entry_ops.push(Op::Delete(cf, key));
    }

    /// Deletes `[from, to)`: point reads of keys in the range see them deleted until a later
    /// put in the same run.
    pub fn delete_range(&mut self, cf: Cf, from: &[u8], to: &[u8]) {
        let tag = cf_tag(cf);
        remove_range(&mut self.entry_points[usize::from(tag)], from, to);
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
        f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        self.storage
            .probed(cf, from, to, || self.merge_scan(cf, from, to, reverse, f))
    }

    /// [`Self::scan`] without the tombstone probe.
    fn merge_scan(
        &self,
        cf: Cf,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        let tag = cf_tag(cf);
        let (entry, committed) = (
            &self.entry_points[usize::from(tag)],
            &self.committed.points[usize::from(tag)],
        );
        // The pending state of each point written in the range, merged lazily in scan order
        // (a scan that stops after one member costs one step, whatever the batch holds): the
        // current entry's points decide; a finished entry's point is hidden by a later range
        // delete of the current entry.
        let mut ours = range_dir(entry, from, to, reverse).peekable();
        let mut theirs = range_dir(committed, from, to, reverse).peekable();
        let entry_value = |i: usize| match &self.entry_ops[i] {
            Op::Put(_, _, v) => Some(v.as_slice()),
            _ => None,
        };
        let mut pend = std::iter::from_fn(move || {
            let take_ours = match (ours.peek(), theirs.peek()) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((a, _)), Some((b, _))) => {
                    if a == b {
                        theirs.next();
                        true
                    } else {
                        (a < b) != reverse
                    }
                }
            };
            if take_ours {
                ours.next().map(|(k, &i)| (k.as_slice(), entry_value(i)))
            } else {
                theirs.next().map(|(k, v)| {
                    let hidden = in_ranges(&self.entry_ranges, tag, k);
                    (k.as_slice(), if hidden { None } else { v.as_deref() })
                })
            }
        });
        // RocksDB keys under any pending range delete or pending point are not visible as such.
        let shadowed = |k: &[u8]| {
            entry.contains_key(k)
                || committed.contains_key(k)
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
                (Some((dk, _)), Some((pk, _))) => (dk < pk) != reverse,
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
                // Pending writes count as entries read too: a scan must not walk a batch's
                // pending deletes any more than RocksDB's tombstones.
                super::engine::count_keys_read(1);
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
        let committed = self.committed.points[usize::from(tag)]
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k.as_slice());
        let current =
            self.entry_points[usize::from(tag)]
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
        self.entry_points = PerCf::default();
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
        self.entry_points = PerCf::default();
        self.entry_ranges.clear();
        for (i, op) in self.entry_ops.iter().enumerate() {
            match op {
                Op::Put(cf, k, _) | Op::Delete(cf, k) => {
                    self.entry_points[usize::from(cf_tag(*cf))].insert(k.clone(), i);
                }
                Op::DeleteRange(cf, from, to) => {
                    let tag = cf_tag(*cf);
                    remove_range(&mut self.entry_points[usize::from(tag)], from, to);
                    self.entry_ranges.push((tag, from.clone(), to.clone()));
                }
            }
        }
    }

    /// Drops the current entry's writes (a failed or panicked command changes nothing).
    pub fn rollback_entry(&mut self) {
        self.entry_ops.clear();
        self.entry_points = PerCf::default();
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
