//! In-memory storage of one simulated replica: its Raft log, vote and state machine, with
//! explicit durability.
//!
//! RocksDB and the node's WAL syncer thread run outside the simulator's control (real threads,
//! real time), so the simulation models the same contract in memory instead:
//!
//! - every change (append, truncate, purge, committed id, vote, state-machine batch) is written
//!   to the *live* image at once and queued in an unsynced tail, in order — like a write into
//!   RocksDB's WAL buffer;
//! - a *sync* (after a simulated fsync delay) moves the whole tail into the *durable* image, and
//!   only then fires the `IOFlushed` callbacks of the appends it covers. `save_vote` syncs
//!   before it returns;
//! - a crash keeps only the durable image: [`Disk::recover`], called when a host (re)starts,
//!   throws the live image and the tail away.
//!
//! Because the durable image is always a prefix of the change sequence, the invariants the
//! real store gets from RocksDB's WAL order hold here too (an applied batch is never durable
//! without the entries it applied). The [`Disk`] lives outside the simulated host so it
//! survives crashes and restarts.
//!
//! The state machine is a map of registers that applies `SET key value` (reply `+OK`) and
//! `INCR key` (reply the new integer) from `WriteOp::Command`, replying with the same RESP
//! frames the real commands produce.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use openraft::storage::{EntryResponder, IOFlushed, RaftLogStorage, RaftStateMachine};
use openraft::{EntryPayload, LogState, OptionalSend, RaftLogReader, RaftSnapshotBuilder};
use parking_lot::Mutex;
use raftrocks::raft::rpc_server::ServedStateMachine;
use raftrocks::raft::snapshot::StageTarget;
use raftrocks::raft::state_machine::GroupSnapshot;
use raftrocks::raft::types::{Entry, LogId, SnapshotMeta, StoredMembership, Vote};
use raftrocks::raft::{TypeConfig, WriteOp};
use raftrocks::resp::Frame;

/// The state machine's contents: applied position, membership and the registers.
#[derive(Clone, Debug, Default)]
pub struct SmImage {
    pub last_applied: Option<LogId>,
    pub membership: StoredMembership,
    pub registers: BTreeMap<Bytes, Bytes>,
}

/// Everything a replica keeps on "disk".
#[derive(Clone, Debug, Default)]
struct Image {
    vote: Option<Vote>,
    committed: Option<LogId>,
    last_purged: Option<LogId>,
    log: BTreeMap<u64, Entry>,
    sm: SmImage,
}

/// One write to the disk, as queued in the unsynced tail.
#[derive(Debug)]
enum Change {
    Append(Vec<Entry>),
    /// Delete every entry from this index on.
    TruncateFrom(u64),
    Purge(LogId),
    Vote(Vote),
    Committed(Option<LogId>),
    /// A state-machine batch: the whole (small) image after it.
    Sm(SmImage),
}

impl Image {
    fn apply(&mut self, change: &Change) {
        match change {
            Change::Append(entries) => {
                for e in entries {
                    self.log.insert(e.log_id.index, e.clone());
                }
            }
            Change::TruncateFrom(from) => {
                self.log.split_off(from);
            }
            Change::Purge(id) => {
                self.log = self.log.split_off(&(id.index + 1));
                self.last_purged = Some(*id);
            }
            Change::Vote(v) => self.vote = Some(*v),
            Change::Committed(c) => self.committed = *c,
            Change::Sm(sm) => self.sm = sm.clone(),
        }
    }
}

#[derive(Default)]
struct DiskInner {
    durable: Image,
    live: Image,
    /// Changes in `live` but not yet in `durable`, oldest first.
    tail: Vec<Change>,
    /// Callbacks of appends in `tail`: fired by the sync that makes them durable.
    waiting: Vec<IOFlushed<TypeConfig>>,
    /// A sync task is scheduled and will pick up everything in `tail`.
    sync_scheduled: bool,
    /// Incremented by every recovery, so a sync scheduled before a crash does nothing after.
    boot: u64,
    /// State of the fsync latency generator (SplitMix64).
    rng: u64,
    /// Statistics for the report of a run.
    syncs: u64,
    lost_on_crash: u64,
}

/// One replica's disk; clones share it.
#[derive(Clone)]
pub struct Disk {
    inner: Arc<Mutex<DiskInner>>,
}

impl Disk {
    /// An empty disk whose simulated fsync latencies derive from `seed`.
    pub fn new(seed: u64) -> Disk {
        Disk {
            inner: Arc::new(Mutex::new(DiskInner {
                rng: seed,
                ..DiskInner::default()
            })),
        }
    }

    /// What is left after a crash: the durable image. Called when the host (re)starts, before
    /// the replica opens its stores. Returns how many unsynced changes were lost.
    pub fn recover(&self) -> usize {
        let mut d = self.inner.lock();
        let lost = d.tail.len();
        d.lost_on_crash += lost as u64;
        d.live = d.durable.clone();
        d.tail.clear();
        // The callbacks belong to the Raft instance that died with the host.
        d.waiting.clear();
        d.sync_scheduled = false;
        d.boot += 1;
        lost
    }

    /// The registers of the live state machine (what a read on this replica sees).
    pub fn register(&self, key: &[u8]) -> Option<Bytes> {
        self.inner.lock().live.sm.registers.get(key).cloned()
    }

    /// The live state machine's last applied log id.
    pub fn applied(&self) -> Option<LogId> {
        self.inner.lock().live.sm.last_applied
    }

    /// (syncs done, unsynced changes lost in crashes), for the run's summary.
    pub fn stats(&self) -> (u64, u64) {
        let d = self.inner.lock();
        (d.syncs, d.lost_on_crash)
    }

    /// The durable log's entry ids, for the post-run consistency check.
    pub fn durable_log_ids(&self) -> Vec<LogId> {
        self.inner
            .lock()
            .durable
            .log
            .values()
            .map(|e| e.log_id)
            .collect()
    }

    fn write(&self, change: Change) {
        let mut d = self.inner.lock();
        d.live.apply(&change);
        d.tail.push(change);
    }

    /// A simulated fsync latency: 1 to 20 ms.
    fn fsync_latency(d: &mut DiskInner) -> Duration {
        d.rng = d.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = d.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Duration::from_millis(1 + z % 20)
    }

    /// Makes everything written so far durable and fires the callbacks it covers.
    fn sync_now(&self) {
        let waiting = {
            let mut d = self.inner.lock();
            let tail = std::mem::take(&mut d.tail);
            for c in &tail {
                d.durable.apply(c);
            }
            d.syncs += 1;
            std::mem::take(&mut d.waiting)
        };
        // Outside the lock: a callback wakes the Raft core, which may write again.
        for cb in waiting {
            cb.io_completed(Ok(()));
        }
    }

    /// Schedules a sync (group commit: one sync covers every write queued before it runs).
    fn schedule_sync(&self) {
        let (delay, boot) = {
            let mut d = self.inner.lock();
            if d.sync_scheduled {
                return;
            }
            d.sync_scheduled = true;
            (Self::fsync_latency(&mut d), d.boot)
        };
        let disk = self.clone();
        // Runs on the host's runtime: a crash drops it together with the host.
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            {
                let mut d = disk.inner.lock();
                if d.boot != boot {
                    return;
                }
                d.sync_scheduled = false;
            }
            disk.sync_now();
        });
    }

    /// Syncs now (after one fsync latency) and returns once the write is durable.
    async fn sync_wait(&self) {
        let delay = Self::fsync_latency(&mut self.inner.lock());
        tokio::time::sleep(delay).await;
        self.sync_now();
    }
}

/// The replica's log store (and log reader).
#[derive(Clone)]
pub struct SimLog {
    disk: Disk,
}

impl SimLog {
    pub fn new(disk: Disk) -> SimLog {
        SimLog { disk }
    }
}

impl RaftLogReader<TypeConfig> for SimLog {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let d = self.disk.inner.lock();
        Ok(d.live.log.range(range).map(|(_, e)| e.clone()).collect())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        Ok(self.disk.inner.lock().live.vote)
    }
}

impl RaftLogStorage<TypeConfig> for SimLog {
    type LogReader = SimLog;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let d = self.disk.inner.lock();
        let last_purged = d.live.last_purged;
        let last = d
            .live
            .log
            .values()
            .next_back()
            .map(|e| e.log_id)
            .or(last_purged);
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> SimLog {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        self.disk.write(Change::Vote(*vote));
        // A vote must never be forgotten: durable before this returns.
        self.disk.sync_wait().await;
        Ok(())
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        // Unsynced, as in the real store: losing it only means re-learning the commit point.
        self.disk.write(Change::Committed(committed));
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        Ok(self.disk.inner.lock().live.committed)
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
        let entries: Vec<Entry> = entries.into_iter().collect();
        {
            let mut d = self.disk.inner.lock();
            let change = Change::Append(entries);
            d.live.apply(&change);
            d.tail.push(change);
            d.waiting.push(callback);
        }
        self.disk.schedule_sync();
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let from = last_log_id.map_or(0, |l| l.index + 1);
        self.disk.write(Change::TruncateFrom(from));
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        self.disk.write(Change::Purge(log_id));
        Ok(())
    }
}

/// The replica's state machine over the registers of its [`Disk`].
pub struct SimStateMachine {
    disk: Disk,
}

impl SimStateMachine {
    pub fn new(disk: Disk) -> SimStateMachine {
        SimStateMachine { disk }
    }
}

/// Applies one client command to the registers and returns the reply a Redis server gives.
fn execute(registers: &mut BTreeMap<Bytes, Bytes>, argv: &[Bytes]) -> Frame {
    let name = argv
        .first()
        .map(|a| a.to_ascii_uppercase())
        .unwrap_or_default();
    match (name.as_slice(), argv.len()) {
        (b"SET", 3) => {
            registers.insert(argv[1].clone(), argv[2].clone());
            Frame::ok()
        }
        (b"INCR", 2) => {
            let current = match registers.get(&argv[1]) {
                None => Some(0),
                Some(v) => std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok()),
            };
            match current.and_then(|n| n.checked_add(1)) {
                Some(n) => {
                    registers.insert(argv[1].clone(), Bytes::from(n.to_string()));
                    Frame::Integer(n)
                }
                None => Frame::error("ERR value is not an integer or out of range"),
            }
        }
        _ => Frame::error("ERR the simulation's state machine knows only SET and INCR"),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the simulation does not use snapshots (SnapshotPolicy::Never)")]
struct NoSnapshots;

impl RaftStateMachine<TypeConfig> for SimStateMachine {
    type SnapshotData = GroupSnapshot;
    type SnapshotBuilder = NoSnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        let d = self.disk.inner.lock();
        Ok((d.live.sm.last_applied, d.live.sm.membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + OptionalSend,
    {
        let mut sm = self.disk.inner.lock().live.sm.clone();
        let mut replies = Vec::new();
        while let Some((entry, responder)) = entries.try_next().await? {
            sm.last_applied = Some(entry.log_id);
            let reply = match &entry.payload {
                EntryPayload::Blank => Frame::ok(),
                EntryPayload::Membership(m) => {
                    sm.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                    Frame::ok()
                }
                EntryPayload::Normal(req) => match &req.op {
                    WriteOp::Command { argv, .. } => execute(&mut sm.registers, argv),
                    _ => Frame::error("ERR the simulation proposes only plain commands"),
                },
            };
            if let Some(r) = responder {
                replies.push((r, reply));
            }
        }
        // One unsynced batch per run of entries, as the real state machine writes it.
        self.disk.write(Change::Sm(sm));
        for (r, reply) in replies {
            r.send(reply);
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> NoSnapshotBuilder {
        NoSnapshotBuilder
    }

    async fn install_snapshot(
        &mut self,
        _meta: &SnapshotMeta,
        _snapshot: GroupSnapshot,
    ) -> Result<(), io::Error> {
        Err(io::Error::other(NoSnapshots))
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<openraft::alias::SnapshotOf<TypeConfig, GroupSnapshot>>, io::Error> {
        Ok(None)
    }
}

impl ServedStateMachine for SimStateMachine {
    /// Snapshots are never sent (the log is never purged), so none is ever received.
    fn snapshot_stage(&self) -> Option<StageTarget> {
        None
    }
}

/// Never asked to build: the simulation runs with `SnapshotPolicy::Never` and never purges.
pub struct NoSnapshotBuilder;

impl RaftSnapshotBuilder<TypeConfig> for NoSnapshotBuilder {
    type SnapshotData = GroupSnapshot;

    async fn build_snapshot(
        &mut self,
    ) -> Result<openraft::alias::SnapshotOf<TypeConfig, GroupSnapshot>, io::Error> {
        Err(io::Error::other(NoSnapshots))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(parts: &[&str]) -> Vec<Bytes> {
        parts
            .iter()
            .map(|p| Bytes::copy_from_slice(p.as_bytes()))
            .collect()
    }

    #[test]
    fn commands() {
        let mut r = BTreeMap::new();
        assert_eq!(execute(&mut r, &argv(&["SET", "k", "v"])), Frame::ok());
        assert_eq!(r.get(&b"k"[..]).map(|v| &v[..]), Some(&b"v"[..]));
        assert_eq!(execute(&mut r, &argv(&["INCR", "n"])), Frame::Integer(1));
        assert_eq!(execute(&mut r, &argv(&["incr", "n"])), Frame::Integer(2));
        assert!(matches!(
            execute(&mut r, &argv(&["INCR", "k"])),
            Frame::Error(_)
        ));
        assert!(matches!(
            execute(&mut r, &argv(&["GET", "k"])),
            Frame::Error(_)
        ));
    }

    #[test]
    fn a_crash_keeps_only_synced_changes_in_order() {
        let disk = Disk::new(1);
        let mut sm = SmImage::default();
        sm.registers.insert(Bytes::from("a"), Bytes::from("1"));
        disk.write(Change::Sm(sm.clone()));
        disk.sync_now();
        sm.registers.insert(Bytes::from("a"), Bytes::from("2"));
        disk.write(Change::Sm(sm));
        assert_eq!(disk.register(b"a"), Some(Bytes::from("2")));
        assert_eq!(disk.recover(), 1);
        assert_eq!(disk.register(b"a"), Some(Bytes::from("1")));
    }
}
