//! Raft log storage for one group, in the node's shared RocksDB.
//!
//! Entries live in [`Cf::RaftLog`] under `group|index`; the vote, the committed id and the last
//! purged id live in [`Cf::RaftMeta`] under `group|kind`. Appends are written unsynced and made
//! durable by the node-wide [`Syncer`] (group commit); the vote is synced before `save_vote`
//! returns, because a vote must never be forgotten.

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use openraft::storage::{IOFlushed, RaftLogStorage};
use openraft::{LogState, OptionalSend, RaftLogReader};
use parking_lot::Mutex;
use rocksdb::WriteBatch;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::log_cache::LogCache;
use super::syncer::Syncer;
use super::types::{Entry, LogId, TypeConfig, Vote};
use crate::storage::keys::{group_meta_key, log_key};
use crate::storage::{Cf, Storage};

const META_VOTE: u8 = 1;
const META_COMMITTED: u8 = 2;
const META_LAST_PURGED: u8 = 3;

/// The log of one Raft group. Clones share the same storage.
#[derive(Clone)]
pub struct LogStore {
    group: u64,
    storage: Arc<Storage>,
    syncer: Syncer,
    /// The newest entries, shared by every clone (the reader the state machine uses too).
    cache: Arc<Mutex<LogCache>>,
}

impl LogStore {
    pub fn new(group: u64, storage: Arc<Storage>, syncer: Syncer) -> LogStore {
        LogStore {
            group,
            storage,
            syncer,
            cache: Arc::default(),
        }
    }

    fn read_meta<T: DeserializeOwned>(&self, kind: u8) -> io::Result<Option<T>> {
        match self
            .storage
            .get(Cf::RaftMeta, &group_meta_key(self.group, kind))?
        {
            Some(raw) => Ok(Some(decode(&raw)?)),
            None => Ok(None),
        }
    }

    fn write_meta<T: Serialize>(&self, kind: u8, value: &T) -> io::Result<()> {
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.storage.cf(Cf::RaftMeta),
            group_meta_key(self.group, kind),
            encode(value)?,
        );
        self.storage.write(batch)?;
        Ok(())
    }

    /// RocksDB keys `[from, to)` of the entries in `range`.
    fn bounds(&self, range: impl RangeBounds<u64>) -> (Vec<u8>, Vec<u8>) {
        let (start, end) = index_range(range);
        let end = match end {
            Some(end) => log_key(self.group, end),
            None => log_key(self.group + 1, 0),
        };
        (log_key(self.group, start).to_vec(), end.to_vec())
    }
}

/// `range` as `[start, end)` log indexes; `end` is `None` when unbounded.
fn index_range(range: impl RangeBounds<u64>) -> (u64, Option<u64>) {
    let start = match range.start_bound() {
        Bound::Included(&i) => i,
        Bound::Excluded(&i) => i.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&i) => Some(i.saturating_add(1)),
        Bound::Excluded(&i) => Some(i),
        Bound::Unbounded => None,
    };
    (start, end)
}

pub(crate) fn encode<T: Serialize>(v: &T) -> io::Result<Vec<u8>> {
    postcard::to_allocvec(v).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

pub(crate) fn decode<T: DeserializeOwned>(raw: &[u8]) -> io::Result<T> {
    postcard::from_bytes(raw).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        if let (start, Some(end)) = index_range(range.clone()) {
            if let Some(hit) = self.cache.lock().get(start, end) {
                return Ok(hit);
            }
        }
        let (from, to) = self.bounds(range);
        let mut entries = Vec::new();
        let mut err = None;
        self.storage
            .scan(Cf::RaftLog, &from, &to, |_, v| match decode(v) {
                Ok(e) => {
                    entries.push(e);
                    true
                }
                Err(e) => {
                    err = Some(e);
                    false
                }
            })?;
        match err {
            Some(e) => Err(e),
            None => Ok(entries),
        }
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        self.read_meta(META_VOTE)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let last_purged: Option<LogId> = self.read_meta(META_LAST_PURGED)?;
        let (from, to) = self.bounds(..);
        let last = match self.storage.last_in_range(Cf::RaftLog, &from, &to)? {
            Some((_, v)) => {
                let e: Entry = decode(&v)?;
                Some(e.log_id)
            }
            None => last_purged,
        };
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        self.write_meta(META_VOTE, vote)?;
        self.syncer.sync().await
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        // Unsynced on purpose: losing it only means re-discovering the commit point.
        self.write_meta(META_COMMITTED, &committed)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        Ok(self.read_meta::<Option<LogId>>(META_COMMITTED)?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let cf = self.storage.cf(Cf::RaftLog);
        let mut batch = WriteBatch::default();
        let entries: Vec<Entry> = entries.into_iter().collect();
        for e in &entries {
            batch.put_cf(cf, log_key(self.group, e.log_id.index), encode(e)?);
        }
        self.storage.write(batch)?;
        {
            let mut cache = self.cache.lock();
            for e in entries {
                cache.append(e);
            }
        }
        self.syncer.submit(callback);
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let from = last_log_id.map(|l| l.index + 1).unwrap_or(0);
        match from.checked_sub(1) {
            Some(last) => self.cache.lock().truncate_after(last),
            None => *self.cache.lock() = LogCache::default(),
        }
        let (start, end) = self.bounds(from..);
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(self.storage.cf(Cf::RaftLog), start, end);
        self.storage.write(batch)?;
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        // Record the purge point first (same batch), so a crash never leaves a hole that the
        // recorded state does not explain.
        let (start, end) = self.bounds(..=log_id.index);
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.storage.cf(Cf::RaftMeta),
            group_meta_key(self.group, META_LAST_PURGED),
            // Stored as a bare LogId: get_log_state decodes it as one (postcard is not
            // self-describing, so the two must match exactly).
            encode(&log_id)?,
        );
        batch.delete_range_cf(self.storage.cf(Cf::RaftLog), start, end);
        self.storage.write(batch)?;
        self.cache.lock().purge(log_id.index);
        Ok(())
    }
}
