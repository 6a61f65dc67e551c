//! The Redis keyspace on top of [`Storage`]: logical databases, expiry, key counters.
//!
//! Writes go through [`WriteCtx`], which the Raft state machine creates for each log entry: it
//! keeps the expiry index and the per-database key counters consistent with every metadata
//! change, using the entry's clock (never this node's). Reads go through [`ReadView`], which
//! hides expired keys using the leader's clock.

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::keys::{expire_key, meta_key};
use super::{Cf, Metadata, Storage, StorageError, WriteOverlay};
use crate::cluster::{key_slot, SlotId};

/// Number of logical databases (`SELECT 0..15`).
pub const DATABASES: usize = 16;

/// Keys and keys-with-expiry per physical database, for DBSIZE and INFO keyspace. Counts
/// include keys that have expired but whose delete has not been applied yet, as Redis does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub keys: [u64; DATABASES],
    pub expires: [u64; DATABASES],
}

/// State a group's state machine keeps beside its data, persisted atomically with every entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyspaceState {
    /// Logical database -> physical database byte in keys; SWAPDB swaps two entries.
    pub dbmap: [u8; DATABASES],
    pub counters: Counters,
    /// The group's clock: the largest `now_ms` applied so far. Entries are applied at
    /// `max(entry.now_ms, clock)`, so time never runs backwards after a leader change.
    pub clock_ms: u64,
}

impl Default for KeyspaceState {
    fn default() -> Self {
        let mut dbmap = [0u8; DATABASES];
        for (i, d) in dbmap.iter_mut().enumerate() {
            *d = i as u8;
        }
        KeyspaceState {
            dbmap,
            counters: Counters::default(),
            clock_ms: 0,
        }
    }
}

/// A group's live keyspace state, shared between its state machine (writer) and readers.
#[derive(Default)]
pub struct SharedKeyspaceState {
    dbmap: RwLock<[u8; DATABASES]>,
    counters: Mutex<Counters>,
}

impl SharedKeyspaceState {
    pub fn publish(&self, s: &KeyspaceState) {
        *self.dbmap.write() = s.dbmap;
        *self.counters.lock() = s.counters.clone();
    }

    pub fn physical_db(&self, logical: u8) -> u8 {
        self.dbmap.read()[logical as usize % DATABASES]
    }

    pub fn dbmap(&self) -> [u8; DATABASES] {
        *self.dbmap.read()
    }

    pub fn counters(&self) -> Counters {
        self.counters.lock().clone()
    }
}

/// The write context of one state-machine entry.
pub struct WriteCtx<'a> {
    pub overlay: WriteOverlay<'a>,
    pub state: KeyspaceState,
    initial: KeyspaceState,
    /// The entry's time: `max(entry.now_ms, group clock)`.
    pub now_ms: u64,
    /// The entry's log index: collection versions are derived from it, so they are the same
    /// on every replica and grow monotonically.
    pub log_index: u64,
    /// Largest string value a command may build (the leader's proto-max-bulk-len).
    pub max_value_len: u64,
    version_seq: u64,
    /// Slot ranges of the group applying this entry (for whole-database operations).
    pub ranges: Vec<(u16, u16)>,
    /// Keys this entry modified, as `(physical db, key)`, in order (duplicates possible):
    /// what wakes blocked clients and dirties WATCHed keys once the entry is applied.
    pub touched: Vec<(u8, Vec<u8>)>,
    /// Set by FLUSHDB / FLUSHALL / SWAPDB: every key of the group may have changed.
    pub touched_all: bool,
    /// Whether [`Self::touch`] records keys. The state machine turns it off when no client
    /// waits for a key change, saving a key copy per write (it then reports the entry as
    /// unrecorded: see `raft::state_machine`).
    pub record_touches: bool,
    rng_state: u64,
}

impl<'a> WriteCtx<'a> {
    pub fn new(
        storage: &'a Storage,
        state: KeyspaceState,
        now_ms: u64,
        log_index: u64,
        ranges: Vec<(u16, u16)>,
    ) -> Self {
        Self::with_overlay(WriteOverlay::new(storage), state, now_ms, log_index, ranges)
    }

    /// A context whose writes join `overlay` (which may hold earlier entries' writes).
    pub fn with_overlay(
        overlay: WriteOverlay<'a>,
        state: KeyspaceState,
        now_ms: u64,
        log_index: u64,
        ranges: Vec<(u16, u16)>,
    ) -> Self {
        WriteCtx {
            overlay,
            initial: state.clone(),
            state,
            now_ms,
            log_index,
            max_value_len: 512 * 1024 * 1024,
            version_seq: 0,
            ranges,
            touched: Vec::new(),
            touched_all: false,
            record_touches: true,
            rng_state: log_index ^ now_ms.rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    pub fn storage(&self) -> &'a Storage {
        self.overlay.storage()
    }

    /// Drops everything staged so far (a command that fails must change nothing).
    pub fn discard(&mut self) {
        self.overlay.rollback_entry();
        self.state = self.initial.clone();
        self.version_seq = 0;
        self.touched.clear();
        self.touched_all = false;
    }

    /// Records that `key` was modified by this entry (metadata writes do it themselves).
    pub fn touch(&mut self, pdb: u8, key: &[u8]) {
        if self.record_touches {
            self.touched.push((pdb, key.to_vec()));
        }
    }

    /// A pseudo-random number for choices a command makes (SPOP, ...). The sequence is fixed by
    /// the entry (its log index and the leader's clock), so every replica makes the same
    /// choices and stays identical. SplitMix64: a fixed algorithm, so replicas running
    /// different builds still agree.
    pub fn random_u64(&mut self) -> u64 {
        self.rng_state = self.rng_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A pseudo-random number in `0..n` (`n > 0`), see [`Self::random_u64`].
    pub fn random_below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Rejection sampling keeps the choice uniform.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let r = self.random_u64();
            if r < zone {
                return r % n;
            }
        }
    }

    /// The physical database of logical `db` in this group.
    pub fn pdb(&self, db: u8) -> u8 {
        self.state.dbmap[db as usize % DATABASES]
    }

    /// A fresh collection version, unique within the group.
    pub fn new_version(&mut self) -> u64 {
        self.version_seq += 1;
        (self.log_index << 16) | (self.version_seq & 0xffff)
    }

    /// The stored metadata of `key` in physical db `pdb`, expired or not.
    pub fn load(&self, pdb: u8, key: &[u8]) -> Result<Option<Metadata>, StorageError> {
        match self
            .overlay
            .get(Cf::Meta, &meta_key(key_slot(key), pdb, key))?
        {
            Some(raw) => Ok(Some(Metadata::decode(&raw)?)),
            None => Ok(None),
        }
    }

    /// The metadata of `key` if it exists and has not expired at this entry's time.
    pub fn load_live(&self, pdb: u8, key: &[u8]) -> Result<Option<Metadata>, StorageError> {
        Ok(self.load(pdb, key)?.filter(|m| !m.is_expired(self.now_ms)))
    }

    /// Writes `new` for `key`, where `old` is what [`Self::load`] returned (expired or not):
    /// keeps the counters and the expiry index right.
    pub fn store(&mut self, pdb: u8, key: &[u8], new: &Metadata, old: Option<&Metadata>) {
        let slot = key_slot(key);
        let d = pdb as usize % DATABASES;
        match old {
            None => self.state.counters.keys[d] += 1,
            Some(o) => self.unindex_expiry(slot, pdb, key, o.expire_ms, new.expire_ms),
        }
        let had_expiry = old.map(|o| o.expire_ms != 0).unwrap_or(false);
        if new.expire_ms != 0 {
            if old.map(|o| o.expire_ms) != Some(new.expire_ms) {
                self.overlay.put(
                    Cf::Expire,
                    expire_key(slot, new.expire_ms, pdb, key),
                    Vec::new(),
                );
            }
            if !had_expiry {
                self.state.counters.expires[d] += 1;
            }
        } else if had_expiry {
            self.state.counters.expires[d] = self.state.counters.expires[d].saturating_sub(1);
        }
        self.overlay
            .put(Cf::Meta, meta_key(slot, pdb, key), new.encode());
        self.touch(pdb, key);
    }

    /// Deletes `key` whose stored metadata is `old`. Collection members are left to garbage
    /// collection (their version no longer matches any metadata).
    pub fn remove(&mut self, pdb: u8, key: &[u8], old: &Metadata) {
        let slot = key_slot(key);
        let d = pdb as usize % DATABASES;
        self.state.counters.keys[d] = self.state.counters.keys[d].saturating_sub(1);
        if old.expire_ms != 0 {
            self.state.counters.expires[d] = self.state.counters.expires[d].saturating_sub(1);
            self.overlay
                .delete(Cf::Expire, expire_key(slot, old.expire_ms, pdb, key));
        }
        self.overlay.delete(Cf::Meta, meta_key(slot, pdb, key));
        self.touch(pdb, key);
    }

    fn unindex_expiry(&mut self, slot: SlotId, pdb: u8, key: &[u8], old_ms: u64, new_ms: u64) {
        if old_ms != 0 && old_ms != new_ms {
            self.overlay
                .delete(Cf::Expire, expire_key(slot, old_ms, pdb, key));
        }
    }

    /// Removes every key of physical database `pdb` in this group's slots.
    pub fn flush_db(&mut self, pdb: u8) -> Result<(), StorageError> {
        let storage = self.storage();
        // Keys written by entries applied in the same batch are not in RocksDB yet.
        let pending_slots: std::collections::HashSet<u16> = self
            .overlay
            .pending_puts(Cf::Meta)
            .filter_map(super::keys::decode_meta_key)
            .filter(|(_, db, _)| *db == pdb)
            .map(|(slot, _, _)| slot.0)
            .collect();
        for &(lo, hi) in &self.ranges.clone() {
            for slot in lo..=hi {
                let prefix = super::keys::slot_db_prefix(SlotId(slot), pdb);
                let Some(end) = super::keys::prefix_end(&prefix) else {
                    continue;
                };
                // Only slots that hold keys of this db get range tombstones.
                let mut any = pending_slots.contains(&slot);
                if !any {
                    storage.scan(Cf::Meta, &prefix, &end, |_, _| {
                        any = true;
                        false
                    })?;
                }
                if any {
                    self.overlay.delete_range(Cf::Meta, &prefix, &end);
                }
            }
            // Expiry index entries of the flushed db become stale; active expiry drops them
            // when it finds no matching key.
        }
        let d = pdb as usize % DATABASES;
        self.state.counters.keys[d] = 0;
        self.state.counters.expires[d] = 0;
        self.touched_all = true;
        Ok(())
    }

    /// Removes every key of every database in this group's slots.
    pub fn flush_all(&mut self) {
        for &(lo, hi) in &self.ranges.clone() {
            let (from, to) = super::keys::slot_range_bounds(lo, hi);
            for cf in Cf::DATA {
                self.overlay.delete_range(cf, &from, &to);
            }
        }
        self.state.counters = Counters::default();
        self.touched_all = true;
    }
}

/// A read of the keyspace at the leader's current time.
pub struct ReadView<'a> {
    pub storage: &'a Storage,
    pub now_ms: u64,
}

impl<'a> ReadView<'a> {
    /// The live metadata of `key` in physical db `pdb` (None if absent or expired).
    pub fn get(&self, pdb: u8, key: &[u8]) -> Result<Option<Metadata>, StorageError> {
        match self
            .storage
            .get(Cf::Meta, &meta_key(key_slot(key), pdb, key))?
        {
            Some(raw) => {
                let m = Metadata::decode(&raw)?;
                Ok((!m.is_expired(self.now_ms)).then_some(m))
            }
            None => Ok(None),
        }
    }
}

/// Up to `limit` expiry-index entries with a deadline at or before `now_ms` in the given slot
/// ranges, as `(physical db, deadline, key)`. Entries are ordered by deadline within a slot,
/// so each slot costs one seek past its expired prefix.
pub fn collect_expired(
    storage: &Storage,
    ranges: &[(u16, u16)],
    now_ms: u64,
    limit: usize,
) -> Vec<(u8, u64, bytes::Bytes)> {
    let mut out = Vec::new();
    let mut it = storage.db().raw_iterator_cf(storage.cf(Cf::Expire));
    for &(lo, hi) in ranges {
        it.seek(lo.to_be_bytes());
        while it.valid() && out.len() < limit {
            let Some(raw) = it.key() else { break };
            let Some((slot, deadline, pdb, key)) = super::keys::decode_expire_key(raw) else {
                it.next();
                continue;
            };
            if slot.0 > hi {
                break;
            }
            if deadline <= now_ms {
                out.push((pdb, deadline, bytes::Bytes::copy_from_slice(key)));
                it.next();
            } else if slot.0 == u16::MAX {
                break;
            } else {
                it.seek((slot.0 + 1).to_be_bytes());
            }
        }
    }
    out
}

/// The current Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_and_remove_keep_counters_and_expiry_index() {
        let (_dir, s) = Storage::open_temp();
        let mut ctx = WriteCtx::new(&s, KeyspaceState::default(), 1000, 1, vec![(0, 16383)]);
        let m = Metadata::string(b"v".to_vec(), 5000);
        ctx.store(0, b"k", &m, None);
        assert_eq!(ctx.state.counters.keys[0], 1);
        assert_eq!(ctx.state.counters.expires[0], 1);
        let old = ctx.load(0, b"k").unwrap().unwrap();
        assert_eq!(old, m);
        // Overwrite without expiry: expiry count and index entry go away.
        ctx.store(0, b"k", &Metadata::string(b"w".to_vec(), 0), Some(&old));
        assert_eq!(ctx.state.counters.keys[0], 1);
        assert_eq!(ctx.state.counters.expires[0], 0);
        let state = ctx.state.clone();
        s.write(ctx.overlay.into_batch()).unwrap();
        let mut idx = 0;
        s.scan(Cf::Expire, &[0], &[0xff, 0xff, 0xff], |_, _| {
            idx += 1;
            true
        })
        .unwrap();
        assert_eq!(idx, 0);

        let mut ctx = WriteCtx::new(&s, state, 6000, 2, vec![(0, 16383)]);
        let old = ctx.load(0, b"k").unwrap().unwrap();
        ctx.remove(0, b"k", &old);
        assert_eq!(ctx.state.counters.keys[0], 0);
        assert!(ctx.load(0, b"k").unwrap().is_none());
    }

    /// Regression: with entries applied as one batch, FLUSHDB must also remove keys written by
    /// earlier entries of the same batch (they are not in RocksDB yet when it scans).
    #[test]
    fn flush_db_sees_keys_of_earlier_entries_in_the_batch() {
        let (_dir, s) = Storage::open_temp();
        let mut ctx = WriteCtx::new(&s, KeyspaceState::default(), 1000, 1, vec![(0, 16383)]);
        ctx.store(0, b"k", &Metadata::string(b"v".to_vec(), 0), None);
        ctx.overlay.commit_entry();
        let state = ctx.state.clone();
        let mut ctx = WriteCtx::with_overlay(ctx.overlay, state, 1000, 2, vec![(0, 16383)]);
        ctx.flush_db(0).unwrap();
        assert!(ctx.load(0, b"k").unwrap().is_none());
        s.write(ctx.overlay.into_batch()).unwrap();
        assert!(ReadView {
            storage: &s,
            now_ms: 1000
        }
        .get(0, b"k")
        .unwrap()
        .is_none());
    }

    #[test]
    fn expired_keys_are_invisible() {
        let (_dir, s) = Storage::open_temp();
        let mut ctx = WriteCtx::new(&s, KeyspaceState::default(), 1000, 1, vec![(0, 16383)]);
        ctx.store(3, b"k", &Metadata::string(b"v".to_vec(), 2000), None);
        assert!(ctx.load_live(3, b"k").unwrap().is_some());
        s.write(ctx.overlay.into_batch()).unwrap();
        assert!(ReadView {
            storage: &s,
            now_ms: 1999
        }
        .get(3, b"k")
        .unwrap()
        .is_some());
        assert!(ReadView {
            storage: &s,
            now_ms: 2000
        }
        .get(3, b"k")
        .unwrap()
        .is_none());
    }
}
