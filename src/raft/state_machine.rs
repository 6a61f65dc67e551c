//! The state machine of one slot group: applies committed [`WriteRequest`]s to RocksDB.
//!
//! A run of committed entries is applied as ONE RocksDB write batch holding their data changes
//! and the group's `last_applied`/membership and keyspace state (db map, counters, clock), so
//! after a crash the recorded applied id always matches the data and openraft re-applies
//! exactly the entries after it. Within the run each entry sees the writes of the entries
//! before it (storage::overlay); replies are sent once the batch is written.
//! The batch is not synced itself: it shares the WAL with the Raft log, whose syncs (which come
//! later in WAL order) make it durable, and anything lost is re-applied from the synced log.
//!
//! Snapshots: the state machine is itself durable, so building a snapshot only records the
//! applied id and membership (cheap, O(1)) and lets openraft purge the log behind it. Sending
//! one to another replica streams the group's data from a RocksDB snapshot at that moment;
//! a received one is staged on disk and installed atomically (see `super::snapshot`).

use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use futures::{Stream, TryStreamExt};
use openraft::storage::{EntryResponder, RaftStateMachine};
use openraft::{EntryPayload, RaftSnapshotBuilder};
use parking_lot::Mutex;
use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};

use super::log_store::{decode, encode};
use super::snapshot::{self, LocalSnapshot, StageTarget, StagedSnapshot};
use super::types::{
    watch_fingerprint, LogId, SnapshotMeta, StoredMembership, TypeConfig, WatchedKey, WriteOp,
    WriteRequest,
};
use crate::cluster::key_slot;
use crate::resp::Frame;
use crate::storage::engine::Snapshot;
use crate::storage::keys::{group_meta_key, meta_key};
use crate::storage::keyspace::{KeyspaceState, SharedKeyspaceState, WriteCtx};
use crate::storage::{Cf, Storage, WriteOverlay};

pub(crate) const SM_APPLIED: u8 = 1;
pub(crate) const SM_SNAPSHOT: u8 = 2;
/// The group's WATCH flush epoch (big-endian u64), see [`watch_fingerprint`]. A key of its
/// own rather than a field of the applied record, so existing records still decode.
pub(crate) const SM_WATCH_EPOCH: u8 = 3;
/// Present while a received snapshot is being installed (see `super::snapshot`).
pub(crate) const SM_INSTALLING: u8 = 4;

/// Told which keys the applied entries changed, once their batch is written (blocked
/// clients wait on it). Implemented by the server layer.
pub trait KeyListener: Send + Sync {
    /// True if anyone waits for a key change: checked before any per-key work, so a node
    /// without blocked clients pays one atomic load per entry.
    fn waiting(&self) -> bool;
    /// `keys` (physical db, key) of group `group` changed; `all`: any key may have changed
    /// (FLUSHDB, FLUSHALL, SWAPDB, or changes that were not recorded).
    fn changed(&self, group: u64, keys: &[(u8, Vec<u8>)], all: bool);
}

/// Executes one replicated write inside a state-machine entry and returns the client's reply.
/// Provided by the command layer; must be deterministic (depend only on `ctx` and `req`).
pub type Executor = fn(&mut WriteCtx<'_>, &WriteRequest) -> Frame;

/// What is persisted with every applied entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct AppliedRecord {
    pub(crate) last_applied: Option<LogId>,
    pub(crate) membership: StoredMembership,
    pub(crate) keyspace: KeyspaceState,
}

/// The group's applied record and watch epoch, read at `at` (None: the latest data).
pub(crate) fn load_applied(
    storage: &Storage,
    at: Option<&Snapshot<'_>>,
    group: u64,
) -> io::Result<(AppliedRecord, u64)> {
    let get = |kind| match at {
        Some(snap) => storage.get_at(snap, Cf::SmMeta, &group_meta_key(group, kind)),
        None => storage.get(Cf::SmMeta, &group_meta_key(group, kind)),
    };
    let applied: AppliedRecord = match get(SM_APPLIED)? {
        Some(raw) => decode(&raw)?,
        None => AppliedRecord::default(),
    };
    let watch_epoch = match get(SM_WATCH_EPOCH)? {
        Some(raw) if raw.len() == 8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&raw);
            u64::from_be_bytes(b)
        }
        Some(_) => return Err(io::Error::other("corrupted watch epoch record")),
        None => 0,
    };
    Ok((applied, watch_epoch))
}

/// Shared view of a group's applied state for readers (INFO, DBSIZE, db mapping).
pub struct GroupShared {
    pub keyspace: SharedKeyspaceState,
    pub last_applied: Mutex<Option<LogId>>,
    /// The WATCH flush epoch of the applied state (see [`watch_fingerprint`]).
    pub watch_epoch: AtomicU64,
    listener: OnceLock<Arc<dyn KeyListener>>,
}

impl GroupShared {
    /// Installs the listener told about key changes (once, when the node starts).
    pub fn set_listener(&self, l: Arc<dyn KeyListener>) {
        let _ = self.listener.set(l);
    }
}

pub struct StateMachine {
    group: u64,
    storage: Arc<Storage>,
    ranges: Vec<(u16, u16)>,
    executor: Executor,
    applied: AppliedRecord,
    shared: Arc<GroupShared>,
    /// Log index of the last FLUSHDB/FLUSHALL/SWAPDB (persisted under `SM_WATCH_EPOCH`).
    watch_epoch: u64,
    watch_epoch_dirty: bool,
    /// Keys changed by the entries of the unwritten batch, recorded only while someone waits.
    touched: Vec<(u8, Vec<u8>)>,
    touched_all: bool,
    /// An entry of the batch changed keys that were not recorded (nobody waited then).
    touch_missed: bool,
}

/// The snapshot handle (openraft's `SnapshotData`).
#[derive(Debug)]
pub enum GroupSnapshot {
    /// Built here: the data is this node's RocksDB, read when the snapshot is sent.
    Local(LocalSnapshot),
    /// Received from the leader and staged on disk, waiting to be installed. Boxed: it is
    /// much larger than the local handle openraft passes around far more often.
    Received(Box<StagedSnapshot>),
}

impl StateMachine {
    pub fn open(
        group: u64,
        storage: Arc<Storage>,
        ranges: Vec<(u16, u16)>,
        executor: Executor,
    ) -> io::Result<StateMachine> {
        // A crash may have interrupted the install of a received snapshot: finish it first,
        // so the applied record read below matches the data.
        snapshot::recover(&storage, group, &ranges)?;
        let (applied, watch_epoch) = load_applied(&storage, None, group)?;
        let shared = Arc::new(GroupShared {
            keyspace: SharedKeyspaceState::default(),
            last_applied: Mutex::new(applied.last_applied),
            watch_epoch: AtomicU64::new(watch_epoch),
            listener: OnceLock::new(),
        });
        shared.keyspace.publish(&applied.keyspace);
        Ok(StateMachine {
            group,
            storage,
            ranges,
            executor,
            applied,
            shared,
            watch_epoch,
            watch_epoch_dirty: false,
            touched: Vec::new(),
            touched_all: false,
            touch_missed: false,
        })
    }

    pub fn shared(&self) -> Arc<GroupShared> {
        self.shared.clone()
    }

    /// Where and for which slot ranges a snapshot for this group is staged.
    pub(crate) fn stage_target(&self) -> StageTarget {
        StageTarget {
            root: snapshot::staging_root(&self.storage),
            group: self.group,
            ranges: self.ranges.clone(),
        }
    }

    fn local_snapshot(&self) -> GroupSnapshot {
        GroupSnapshot::Local(LocalSnapshot {
            group: self.group,
            storage: self.storage.clone(),
            ranges: self.ranges.clone(),
        })
    }

    /// Applies one entry on top of `overlay` (the writes of the entries before it in this
    /// batch) and returns the overlay with this entry's writes committed into it, and the
    /// reply. `self.applied` advances to the entry.
    fn apply_one<'s>(
        &mut self,
        mut overlay: WriteOverlay<'s>,
        entry: &openraft::alias::EntryOf<TypeConfig>,
    ) -> (WriteOverlay<'s>, Frame) {
        let record = &mut self.applied;
        record.last_applied = Some(entry.log_id);
        match &entry.payload {
            EntryPayload::Blank => {
                // No data, but the applied record moves: the entry counts towards the batch.
                overlay.commit_entry();
                (overlay, Frame::ok())
            }
            EntryPayload::Membership(m) => {
                record.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                overlay.commit_entry();
                (overlay, Frame::ok())
            }
            EntryPayload::Normal(req) => {
                let now = req.now_ms.max(record.keyspace.clock_ms);
                record.keyspace.clock_ms = now;
                let mut ctx = WriteCtx::with_overlay(
                    overlay,
                    record.keyspace.clone(),
                    now,
                    entry.log_id.index,
                    self.ranges.clone(),
                );
                ctx.max_value_len = req.max_value_len;
                // Changed keys are only worth recording while someone waits; an entry applied
                // without recording counts as "changes missed" below, so a client that starts
                // waiting meanwhile is still woken.
                let recording = self.shared.listener.get().is_some_and(|l| l.waiting());
                ctx.record_touches = recording;
                if let WriteOp::Multi { watched, .. } = &req.op {
                    if !watches_hold(&ctx, watched, self.watch_epoch) {
                        // A watched key changed since WATCH: EXEC does nothing.
                        ctx.overlay.commit_entry();
                        return (ctx.overlay, Frame::NullArray);
                    }
                }
                let executor = self.executor;
                // A bug in one command must not stop the group: the entry then changes nothing
                // (its staged writes are dropped) and the client gets an error.
                let outcome =
                    std::panic::catch_unwind(AssertUnwindSafe(|| executor(&mut ctx, req)));
                let reply = match outcome {
                    Ok(reply) => {
                        ctx.overlay.commit_entry();
                        record.keyspace = ctx.state;
                        if ctx.touched_all {
                            self.watch_epoch = entry.log_id.index;
                            self.watch_epoch_dirty = true;
                        }
                        if recording {
                            self.touched.append(&mut ctx.touched);
                            self.touched_all |= ctx.touched_all;
                        } else {
                            self.touch_missed = true;
                        }
                        reply
                    }
                    Err(_) => {
                        ctx.overlay.rollback_entry();
                        tracing::error!(group = self.group, entry = %req, "command panicked while applying; entry applied as a no-op");
                        Frame::error(
                            "ERR internal error while executing the command (see server log)",
                        )
                    }
                };
                (ctx.overlay, reply)
            }
        }
    }

    /// Writes the batch of the entries applied since the last flush together with the applied
    /// record, then publishes the new state and sends the replies: a client that reads after
    /// its reply must see its write.
    fn flush(
        &mut self,
        overlay: &mut WriteOverlay<'_>,
        replies: &mut Vec<(Responder, Frame)>,
    ) -> io::Result<()> {
        let mut batch = overlay.take_batch();
        batch.put_cf(
            self.storage.cf(Cf::SmMeta),
            group_meta_key(self.group, SM_APPLIED),
            encode(&self.applied)?,
        );
        if self.watch_epoch_dirty {
            batch.put_cf(
                self.storage.cf(Cf::SmMeta),
                group_meta_key(self.group, SM_WATCH_EPOCH),
                self.watch_epoch.to_be_bytes(),
            );
        }
        self.storage.write(batch)?;
        self.shared.keyspace.publish(&self.applied.keyspace);
        *self.shared.last_applied.lock() = self.applied.last_applied;
        if std::mem::take(&mut self.watch_epoch_dirty) {
            self.shared
                .watch_epoch
                .store(self.watch_epoch, Ordering::SeqCst);
        }
        // Blocked clients learn of the changes only now that they are readable.
        if let Some(l) = self.shared.listener.get() {
            if l.waiting() {
                // Someone started waiting while unrecorded entries were applied: wake every
                // waiter of the group rather than miss one (they retry and wait again).
                let all = self.touched_all || self.touch_missed;
                l.changed(self.group, &self.touched, all);
            }
        }
        self.touched.clear();
        self.touched_all = false;
        self.touch_missed = false;
        for (responder, reply) in replies.drain(..) {
            responder.send(reply);
        }
        Ok(())
    }
}

/// True if every watched key still has the fingerprint it had at WATCH time, judged at the
/// entry's clock through the batch's pending writes (so every replica decides the same).
fn watches_hold(ctx: &WriteCtx<'_>, watched: &[WatchedKey], epoch: u64) -> bool {
    watched.iter().all(|w| {
        let pdb = ctx.pdb(w.db);
        let raw = match ctx
            .overlay
            .get(Cf::Meta, &meta_key(key_slot(&w.key), pdb, &w.key))
        {
            Ok(raw) => raw,
            // Cannot tell: abort rather than run on a guess (deterministic only if storage
            // fails everywhere, but a failing disk stops the group anyway).
            Err(_) => return false,
        };
        let live = raw.filter(|r| {
            crate::storage::Metadata::peek(r)
                .map(|(_, exp)| exp == 0 || exp > ctx.now_ms)
                .unwrap_or(false)
        });
        watch_fingerprint(epoch, pdb, live.as_deref()) == w.fingerprint
    })
}

/// Entries applied as one RocksDB write at most; bounds the batch's memory and the delay of the
/// first reply in it.
const MAX_BATCH_ENTRIES: usize = 1024;
const MAX_BATCH_BYTES: usize = 16 << 20;

type Responder = openraft::storage::ApplyResponder<TypeConfig>;

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotData = GroupSnapshot;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        Ok((self.applied.last_applied, self.applied.membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>>
            + Unpin
            + openraft::OptionalSend,
    {
        // Every entry of the run joins one RocksDB write (see storage::overlay).
        let storage = self.storage.clone();
        let mut overlay = WriteOverlay::new(&storage);
        let mut replies = Vec::new();
        while let Some((entry, responder)) = entries.try_next().await? {
            let (next, reply) = self.apply_one(overlay, &entry);
            overlay = next;
            if let Some(r) = responder {
                replies.push((r, reply));
            }
            if overlay.committed_entries() >= MAX_BATCH_ENTRIES
                || overlay.batch_bytes() >= MAX_BATCH_BYTES
            {
                self.flush(&mut overlay, &mut replies)?;
            }
        }
        if overlay.committed_entries() > 0 {
            self.flush(&mut overlay, &mut replies)?;
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            group: self.group,
            storage: self.storage.clone(),
            ranges: self.ranges.clone(),
            meta: SnapshotMeta {
                last_log_id: self.applied.last_applied,
                last_membership: self.applied.membership.clone(),
            },
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: GroupSnapshot,
    ) -> Result<(), io::Error> {
        let mut meta = meta.clone();
        let staged = match snapshot {
            GroupSnapshot::Received(staged) => *staged,
            GroupSnapshot::Local(local) if !Arc::ptr_eq(&local.storage, &self.storage) => {
                // Built by another store of this process (openraft's storage test suite does
                // that): copied now, so the meta is the one read with the data.
                let target = self.stage_target();
                let (header, staged) =
                    tokio::task::spawn_blocking(move || snapshot::copy_local(&local, &target))
                        .await
                        .map_err(|e| {
                            io::Error::other(format!("snapshot copy task failed: {e}"))
                        })??;
                meta = header.meta;
                staged
            }
            // A snapshot built here describes data already applied here (openraft hands one
            // back only when restoring, and our state machine is never behind its snapshot).
            GroupSnapshot::Local(_) if meta.last_log_id <= self.applied.last_applied => {
                return Ok(())
            }
            GroupSnapshot::Local(_) => {
                return Err(io::Error::other(format!(
                    "group {}: local snapshot at {:?} is ahead of the applied state {:?}",
                    self.group, meta.last_log_id, self.applied.last_applied
                )))
            }
        };
        let storage = self.storage.clone();
        let (group, ranges) = (self.group, self.ranges.clone());
        let meta_owned = meta.clone();
        // Several blocking steps (fsyncs, ingesting files): off the async workers.
        let (record, watch_epoch) = tokio::task::spawn_blocking(move || {
            let marker = snapshot::begin_install(&storage, group, staged, &meta_owned)?;
            snapshot::finish_install(&storage, group, &ranges, &marker)?;
            load_applied(&storage, None, group)
        })
        .await
        .map_err(|e| io::Error::other(format!("snapshot install task failed: {e}")))??;
        tracing::info!(group = self.group, last = ?meta.last_log_id, "installed a snapshot from the leader");
        self.applied = record;
        self.watch_epoch = watch_epoch;
        self.watch_epoch_dirty = false;
        self.shared.keyspace.publish(&self.applied.keyspace);
        *self.shared.last_applied.lock() = self.applied.last_applied;
        self.shared.watch_epoch.store(watch_epoch, Ordering::SeqCst);
        // Any key may have changed: blocked clients re-check, the cluster map reloads.
        if let Some(l) = self.shared.listener.get() {
            l.changed(self.group, &[], true);
        }
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<openraft::alias::SnapshotOf<TypeConfig, GroupSnapshot>>, io::Error> {
        match self
            .storage
            .get(Cf::SmMeta, &group_meta_key(self.group, SM_SNAPSHOT))?
        {
            Some(raw) => {
                let meta: SnapshotMeta = decode(&raw)?;
                Ok(Some(openraft::Snapshot {
                    meta,
                    snapshot: self.local_snapshot(),
                }))
            }
            None => Ok(None),
        }
    }
}

pub struct SnapshotBuilder {
    group: u64,
    storage: Arc<Storage>,
    ranges: Vec<(u16, u16)>,
    meta: SnapshotMeta,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = GroupSnapshot;

    async fn build_snapshot(
        &mut self,
    ) -> Result<openraft::alias::SnapshotOf<TypeConfig, GroupSnapshot>, io::Error> {
        let mut batch = WriteBatch::default();
        batch.put_cf(
            self.storage.cf(Cf::SmMeta),
            group_meta_key(self.group, SM_SNAPSHOT),
            encode(&self.meta)?,
        );
        self.storage.write(batch)?;
        tracing::debug!(group = self.group, last = ?self.meta.last_log_id, "snapshot recorded");
        Ok(openraft::Snapshot {
            meta: self.meta.clone(),
            snapshot: GroupSnapshot::Local(LocalSnapshot {
                group: self.group,
                storage: self.storage.clone(),
                ranges: self.ranges.clone(),
            }),
        })
    }
}
