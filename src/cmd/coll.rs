//! Plumbing shared by the collection types (hash, list, set, zset, stream): opening a key with
//! its type checked, and reading, writing and walking its members.
//!
//! A collection is its metadata (`Cf::Meta`: type, expiry, version, size, type-specific fields)
//! plus one RocksDB entry per member under `subkey_prefix(slot, db, key, version)` in
//! `Cf::Subkey` (and, for sorted sets, a score index in `Cf::ZScore` under the same prefix).
//! Members are addressed by their *suffix*: the bytes after that prefix. A single-member
//! operation touches one member entry and the metadata; DEL or overwrite only rewrites the
//! metadata with a new version, and the old members become garbage for compaction to drop.
//!
//! Writes use [`CollWrite`] (through the state machine's overlay, so earlier entries of the
//! same batch are visible); reads use [`CollRead`] (through a [`ReadCtx`]). Each family keeps
//! `meta.size` right itself and calls [`CollWrite::save`] once at the end: a collection whose
//! size drops to 0 is deleted, as Redis deletes empty collections.

use crate::cluster::{key_slot, SlotId};
use crate::storage::keys::{prefix_end, subkey_prefix};
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Cf, Metadata, RedisType, StorageError};

use super::{CmdError, ReadCtx};

/// `[prefix+from, prefix+to)`, where a missing `to` means "to the end of the prefix".
fn bounds(prefix: &[u8], from: &[u8], to: Option<&[u8]>) -> (Vec<u8>, Vec<u8>) {
    let mut lo = prefix.to_vec();
    lo.extend_from_slice(from);
    let hi = match to {
        Some(t) => {
            let mut hi = prefix.to_vec();
            hi.extend_from_slice(t);
            hi
        }
        // The prefix ends with the 8-byte version, so it is never all 0xff in practice; if it
        // were, no key could sort after it and the range is empty.
        None => prefix_end(prefix).unwrap_or_else(|| prefix.to_vec()),
    };
    (lo, hi)
}

/// A collection opened by a write command.
pub struct CollWrite {
    pub pdb: u8,
    pub slot: SlotId,
    pub key: Vec<u8>,
    /// The live metadata; for a collection that did not exist, a fresh one (size 0, a new
    /// version, empty payload) that [`Self::save`] creates if members were added.
    pub meta: Metadata,
    /// True if the key existed (and was live) when opened.
    pub existed: bool,
    /// What was stored before, expired or not (`WriteCtx::store`/`remove` need it to keep the
    /// counters and the expiry index right).
    old: Option<Metadata>,
    prefix: Vec<u8>,
    /// Members changed (the key counts as modified even if the metadata bytes do not change).
    touched: bool,
}

impl CollWrite {
    /// Opens `key` (physical db `pdb`) as a collection of type `typ`. A live key of another
    /// type is WRONGTYPE. A missing or expired key gives `None`, or a fresh empty collection if
    /// `create`.
    pub fn open(
        ctx: &mut WriteCtx<'_>,
        pdb: u8,
        key: &[u8],
        typ: RedisType,
        create: bool,
    ) -> Result<Option<CollWrite>, CmdError> {
        let old = ctx.load(pdb, key)?;
        let live = old.as_ref().filter(|m| !m.is_expired(ctx.now_ms));
        match live {
            Some(m) if m.typ != typ => Err(CmdError::WrongType),
            Some(m) => {
                let meta = m.clone();
                Ok(Some(Self::build(pdb, key, meta, true, old)))
            }
            None if create => Ok(Some(Self::fresh(ctx, pdb, key, typ, old))),
            None => Ok(None),
        }
    }

    /// A new empty collection of type `typ` that replaces whatever `key` holds, of any type,
    /// when saved (SUNIONSTORE, ZRANGESTORE, ... destinations). The old members are garbage.
    pub fn replace(
        ctx: &mut WriteCtx<'_>,
        pdb: u8,
        key: &[u8],
        typ: RedisType,
    ) -> Result<CollWrite, CmdError> {
        let old = ctx.load(pdb, key)?;
        let existed = old.as_ref().is_some_and(|m| !m.is_expired(ctx.now_ms));
        let mut c = Self::fresh(ctx, pdb, key, typ, old);
        c.existed = existed;
        // Even if nothing is added, saving must delete what was there.
        c.touched = existed;
        Ok(c)
    }

    fn fresh(
        ctx: &mut WriteCtx<'_>,
        pdb: u8,
        key: &[u8],
        typ: RedisType,
        old: Option<Metadata>,
    ) -> CollWrite {
        let meta = Metadata {
            typ,
            expire_ms: 0,
            version: ctx.new_version(),
            size: 0,
            modified: 0,
            payload: Vec::new(),
        };
        Self::build(pdb, key, meta, false, old)
    }

    fn build(
        pdb: u8,
        key: &[u8],
        meta: Metadata,
        existed: bool,
        old: Option<Metadata>,
    ) -> CollWrite {
        let slot = key_slot(key);
        let prefix = subkey_prefix(slot, pdb, key, meta.version);
        CollWrite {
            pdb,
            slot,
            key: key.to_vec(),
            meta,
            existed,
            old,
            prefix,
            touched: false,
        }
    }

    /// `subkey_prefix(slot, db, key, version)`: every member entry's key starts with it.
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The same collection as a [`CollRead`], to share read-side code (through
    /// `ReadCtx::in_apply`, which sees this entry's pending writes).
    pub fn reader(&self) -> CollRead {
        CollRead {
            meta: self.meta.clone(),
            prefix: self.prefix.clone(),
        }
    }

    /// The full RocksDB key of the member entry with this suffix.
    pub fn entry_key(&self, suffix: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + suffix.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(suffix);
        k
    }

    /// The member entry with this suffix in `cf`, through the pending writes.
    pub fn get(
        &self,
        ctx: &WriteCtx<'_>,
        cf: Cf,
        suffix: &[u8],
    ) -> Result<Option<Vec<u8>>, StorageError> {
        ctx.overlay.get(cf, &self.entry_key(suffix))
    }

    pub fn put(&mut self, ctx: &mut WriteCtx<'_>, cf: Cf, suffix: &[u8], value: Vec<u8>) {
        self.touched = true;
        ctx.overlay.put(cf, self.entry_key(suffix), value);
    }

    pub fn delete(&mut self, ctx: &mut WriteCtx<'_>, cf: Cf, suffix: &[u8]) {
        self.touched = true;
        ctx.overlay.delete(cf, self.entry_key(suffix));
    }

    /// Deletes the `Cf::Subkey` members (suffixes) that exist and keeps `meta.size` right;
    /// returns how many there were (HDEL, SREM).
    pub fn remove_members(
        &mut self,
        ctx: &mut WriteCtx<'_>,
        members: &[bytes::Bytes],
    ) -> Result<i64, StorageError> {
        let mut removed = 0;
        for m in members {
            if self.get(ctx, Cf::Subkey, m)?.is_some() {
                self.delete(ctx, Cf::Subkey, m);
                self.meta.size = self.meta.size.saturating_sub(1);
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Marks the collection modified without a member write (e.g. only the metadata payload
    /// changed).
    pub fn touch(&mut self) {
        self.touched = true;
    }

    /// Calls `f(suffix, value)` for the member entries of `cf` with suffix in `[from, to)`
    /// (`to` None: to the end), ascending or descending, until it returns false.
    pub fn scan(
        &self,
        ctx: &WriteCtx<'_>,
        cf: Cf,
        from: &[u8],
        to: Option<&[u8]>,
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        let (lo, hi) = bounds(&self.prefix, from, to);
        let n = self.prefix.len();
        ctx.overlay
            .scan(cf, &lo, &hi, reverse, |k, v| f(&k[n..], v))
    }

    /// Writes the metadata back: deletes the key if its size is 0, else stores it (creating
    /// it if it is new) with `modified` set to this entry. Does nothing if nothing changed.
    pub fn save(mut self, ctx: &mut WriteCtx<'_>) {
        let changed_meta = !self.existed || self.old.as_ref() != Some(&self.meta);
        if !self.touched && !changed_meta {
            return;
        }
        self.meta.modified = ctx.log_index;
        if self.meta.size == 0 {
            if let Some(old) = &self.old {
                // A fresh collection that stayed empty over an expired key still removes the
                // expired key's metadata (it was due anyway).
                if self.existed || self.touched || old.is_expired(ctx.now_ms) {
                    ctx.remove(self.pdb, &self.key, old);
                }
            }
            return;
        }
        ctx.store(self.pdb, &self.key, &self.meta, self.old.as_ref());
    }
}

/// A collection opened by a read command.
pub struct CollRead {
    pub meta: Metadata,
    prefix: Vec<u8>,
}

impl CollRead {
    /// Opens `key` as a collection of type `typ`: `None` if missing or expired, WRONGTYPE if
    /// it holds another type.
    pub fn open(
        ctx: &ReadCtx<'_>,
        key: &[u8],
        typ: RedisType,
    ) -> Result<Option<CollRead>, CmdError> {
        let Some(meta) = ctx.get(key)? else {
            return Ok(None);
        };
        if meta.typ != typ {
            return Err(CmdError::WrongType);
        }
        let slot = key_slot(key);
        let prefix = subkey_prefix(slot, ctx.pdb(slot), key, meta.version);
        Ok(Some(CollRead { meta, prefix }))
    }

    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    pub fn entry_key(&self, suffix: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + suffix.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(suffix);
        k
    }

    pub fn get(
        &self,
        ctx: &ReadCtx<'_>,
        cf: Cf,
        suffix: &[u8],
    ) -> Result<Option<Vec<u8>>, StorageError> {
        ctx.get_raw(cf, &self.entry_key(suffix))
    }

    /// As [`CollWrite::scan`].
    pub fn scan(
        &self,
        ctx: &ReadCtx<'_>,
        cf: Cf,
        from: &[u8],
        to: Option<&[u8]>,
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        let (lo, hi) = bounds(&self.prefix, from, to);
        let n = self.prefix.len();
        ctx.scan(cf, &lo, &hi, reverse, |k, v| f(&k[n..], v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::keyspace::KeyspaceState;
    use crate::storage::Storage;

    fn ctx(s: &Storage, index: u64) -> WriteCtx<'_> {
        WriteCtx::new(s, KeyspaceState::default(), 1000, index, vec![(0, 16383)])
    }

    #[test]
    fn create_add_members_scan_and_delete_when_empty() {
        let (_dir, s) = Storage::open_temp();
        let mut c = ctx(&s, 1);
        assert!(CollWrite::open(&mut c, 0, b"h", RedisType::Hash, false)
            .unwrap()
            .is_none());
        let mut h = CollWrite::open(&mut c, 0, b"h", RedisType::Hash, true)
            .unwrap()
            .unwrap();
        assert!(!h.existed);
        for (f, v) in [("b", "2"), ("a", "1"), ("c", "3")] {
            h.put(&mut c, Cf::Subkey, f.as_bytes(), v.as_bytes().to_vec());
            h.meta.size += 1;
        }
        h.save(&mut c);
        assert_eq!(c.state.counters.keys[0], 1);

        let h = CollWrite::open(&mut c, 0, b"h", RedisType::Hash, false)
            .unwrap()
            .unwrap();
        assert!(h.existed);
        assert_eq!(h.meta.size, 3);
        let mut seen = Vec::new();
        h.scan(&c, Cf::Subkey, b"", None, true, |k, v| {
            seen.push((k.to_vec(), v.to_vec()));
            true
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                (b"c".to_vec(), b"3".to_vec()),
                (b"b".to_vec(), b"2".to_vec()),
                (b"a".to_vec(), b"1".to_vec())
            ]
        );
        assert!(matches!(
            CollWrite::open(&mut c, 0, b"h", RedisType::Set, true),
            Err(CmdError::WrongType)
        ));

        let mut h = h;
        for f in ["a", "b", "c"] {
            h.delete(&mut c, Cf::Subkey, f.as_bytes());
            h.meta.size -= 1;
        }
        h.save(&mut c);
        assert!(c.load(0, b"h").unwrap().is_none());
        assert_eq!(c.state.counters.keys[0], 0);
    }

    #[test]
    fn replace_gives_a_new_version_and_hides_old_members() {
        let (_dir, s) = Storage::open_temp();
        let mut c = ctx(&s, 1);
        let mut h = CollWrite::open(&mut c, 0, b"k", RedisType::Set, true)
            .unwrap()
            .unwrap();
        h.put(&mut c, Cf::Subkey, b"m", Vec::new());
        h.meta.size = 1;
        let v1 = h.meta.version;
        h.save(&mut c);
        let mut z = CollWrite::replace(&mut c, 0, b"k", RedisType::ZSet).unwrap();
        assert_ne!(z.meta.version, v1);
        assert!(z.get(&c, Cf::Subkey, b"m").unwrap().is_none());
        z.put(&mut c, Cf::Subkey, b"x", b"1".to_vec());
        z.meta.size = 1;
        z.save(&mut c);
        let m = c.load(0, b"k").unwrap().unwrap();
        assert_eq!(m.typ, RedisType::ZSet);
        assert_eq!(c.state.counters.keys[0], 1);
        // Replacing with nothing deletes the key.
        let e = CollWrite::replace(&mut c, 0, b"k", RedisType::Set).unwrap();
        e.save(&mut c);
        assert!(c.load(0, b"k").unwrap().is_none());
        assert_eq!(c.state.counters.keys[0], 0);
    }
}
