//! Snapshot transfer between replicas of a slot group: what is sent, how it is staged on the
//! receiver, and how it is installed atomically with respect to crashes.
//!
//! The state machine is the node's RocksDB, so a snapshot has no file of its own. The sender
//! ([`produce`], run by `grpc::GrpcPeer::full_snapshot`) takes a RocksDB snapshot and streams,
//! from that one instant, the group's applied record and watch epoch (the header: that is the
//! meta the receiver installs) and every key of the group's slot ranges in the data column
//! families, as records `cf | klen | key | vlen | value` in chunks of about 1 MiB. Nothing is
//! held in memory beyond one chunk.
//!
//! The receiver ([`stage`], run by `rpc_server`) writes the records into one SST file per
//! column family under `<data dir>/snapshot-staging/g<group>-<unique>/`, checks the record
//! count and CRC-64 the sender announces at the end, and hands openraft a
//! [`StagedSnapshot`]. The state machine then installs it:
//! 1. [`begin_install`]: fsync the staged files and their directory, then write and sync the
//!    `installing` marker (meta, keyspace state, watch epoch, staged files) in `sm_meta`;
//! 2. [`finish_install`]: delete the group's slot ranges in every data column family, ingest
//!    the staged files (copied, so a retry after a crash still has them), write the applied
//!    record, watch epoch and snapshot meta and delete the marker in one synced batch, then
//!    remove the staging directory.
//!
//! A crash before the marker is synced leaves the old data (the staging directory is removed
//! by [`recover`] at the next open); a crash after it is completed by [`recover`], which redoes
//! step 2 (deleting the ranges again removes whatever an interrupted ingest left). A stream
//! that fails or ends early never touches the group's data.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rocksdb::{DBCompressionType, IngestExternalFileOptions, Options, SstFileWriter, WriteBatch};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::log_store::{decode, encode};
use super::state_machine::{
    load_applied, AppliedRecord, SM_APPLIED, SM_INSTALLING, SM_SNAPSHOT, SM_WATCH_EPOCH,
};
use super::types::{SnapshotMeta, Vote};
use crate::proto::raft::SnapshotChunk;
use crate::storage::keys::{group_meta_key, slot_range_bounds};
use crate::storage::keyspace::KeyspaceState;
use crate::storage::{Cf, Storage};

/// Record bytes per chunk: large enough to amortize per-message costs, small enough that the
/// sender and receiver each hold little.
pub(crate) const CHUNK_BYTES: usize = 1 << 20;

/// The CRC over every record byte of a stream, as the sender computed it.
const CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// The first message of a stream (postcard, in `SnapshotChunk::header`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SnapshotHeader {
    /// The leader's vote, for `Raft::install_full_snapshot`.
    pub vote: Vote,
    /// Built from the applied record read with the data: it describes exactly this data.
    pub meta: SnapshotMeta,
    pub keyspace: KeyspaceState,
    pub watch_epoch: u64,
}

/// A snapshot built on this node: cheap to create, the data is read when it is sent.
pub struct LocalSnapshot {
    pub group: u64,
    pub storage: Arc<Storage>,
    pub ranges: Vec<(u16, u16)>,
}

impl fmt::Debug for LocalSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSnapshot")
            .field("group", &self.group)
            .field("ranges", &self.ranges)
            .finish()
    }
}

/// Where a group's received snapshot is staged, and which slot ranges it may hold.
#[derive(Clone, Debug)]
pub struct StageTarget {
    pub root: PathBuf,
    pub group: u64,
    pub ranges: Vec<(u16, u16)>,
}

/// A received snapshot staged on disk. Dropped without being installed (openraft refused it,
/// the install failed before its marker), it removes its directory.
#[derive(Debug)]
pub struct StagedSnapshot {
    dir: PathBuf,
    /// (index in `Cf::DATA`, file path), in column family order.
    files: Vec<(u8, PathBuf)>,
    keyspace: KeyspaceState,
    watch_epoch: u64,
    /// False once the install marker names the directory: from then on it belongs to the
    /// install (and to `recover` after a crash).
    owned: bool,
}

impl Drop for StagedSnapshot {
    fn drop(&mut self) {
        if self.owned {
            remove_dir(&self.dir);
        }
    }
}

/// The `installing` marker: everything needed to (re)do step 2 of an install.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct InstallMarker {
    dir: PathBuf,
    files: Vec<(u8, PathBuf)>,
    meta: SnapshotMeta,
    keyspace: KeyspaceState,
    watch_epoch: u64,
}

/// `<data dir>/snapshot-staging`: beside the database directory, so staged files are on the
/// same file system as the database (ingesting copies them; a hard link would be the same).
pub(crate) fn staging_root(storage: &Storage) -> PathBuf {
    let db = storage.path();
    db.parent().unwrap_or(db).join("snapshot-staging")
}

fn remove_dir(dir: &Path) {
    if let Err(e) = fs::remove_dir_all(dir) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), "cannot remove snapshot staging directory: {e}");
        }
    }
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Appends one record to `buf`.
fn push_record(buf: &mut Vec<u8>, cf: u8, key: &[u8], value: &[u8]) -> io::Result<()> {
    let klen = u32::try_from(key.len()).map_err(|_| invalid("key longer than 4 GiB"))?;
    let vlen = u32::try_from(value.len()).map_err(|_| invalid("value longer than 4 GiB"))?;
    buf.push(cf);
    buf.extend_from_slice(&klen.to_be_bytes());
    buf.extend_from_slice(key);
    buf.extend_from_slice(&vlen.to_be_bytes());
    buf.extend_from_slice(value);
    Ok(())
}

/// One record: column family index (in `Cf::DATA`), key, value.
type Record<'a> = (u8, &'a [u8], &'a [u8]);

/// Splits `data` into records.
struct Records<'a> {
    data: &'a [u8],
}

impl<'a> Records<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.data.len() < n {
            return Err(invalid("truncated snapshot record"));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn take_len(&mut self) -> io::Result<usize> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_be_bytes(b) as usize)
    }

    fn next_record(&mut self) -> io::Result<Option<Record<'a>>> {
        if self.data.is_empty() {
            return Ok(None);
        }
        let cf = self.take(1)?[0];
        let klen = self.take_len()?;
        let key = self.take(klen)?;
        let vlen = self.take_len()?;
        let value = self.take(vlen)?;
        Ok(Some((cf, key, value)))
    }
}

/// Why [`produce`] stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProduceError {
    #[error("reading the snapshot: {0}")]
    Storage(#[from] io::Error),
    /// The stream's receiving end is gone (the RPC failed or was cancelled).
    #[error("snapshot stream closed")]
    Closed,
}

/// Streams `local` into `tx` (blocking: run it on a blocking thread): the header, chunks of
/// records, the done marker. Returns the meta that was sent.
pub(crate) fn produce(
    local: &LocalSnapshot,
    vote: Vote,
    target_replica: u64,
    tx: &mpsc::Sender<SnapshotChunk>,
) -> Result<SnapshotMeta, ProduceError> {
    let storage = &local.storage;
    // Data and bookkeeping from one instant: the applied record is written in the same batch
    // as the data of the entries it counts.
    let snap = storage.snapshot();
    let (record, watch_epoch) = load_applied(storage, Some(&snap), local.group)?;
    let meta = SnapshotMeta {
        last_log_id: record.last_applied,
        last_membership: record.membership,
    };
    let header = SnapshotHeader {
        vote,
        meta: meta.clone(),
        keyspace: record.keyspace,
        watch_epoch,
    };
    let send = |chunk: SnapshotChunk| tx.blocking_send(chunk).map_err(|_| ProduceError::Closed);
    send(SnapshotChunk {
        group_id: local.group,
        target_replica,
        header: encode(&header)?,
        ..Default::default()
    })?;

    let mut digest = CRC.digest();
    let mut offset = 0u64;
    let mut records = 0u64;
    let mut buf = Vec::with_capacity(CHUNK_BYTES + 4096);
    let mut flush = |buf: &mut Vec<u8>, offset: &mut u64| -> Result<(), ProduceError> {
        if buf.is_empty() {
            return Ok(());
        }
        let data = std::mem::replace(buf, Vec::with_capacity(CHUNK_BYTES + 4096));
        digest.update(&data);
        let len = data.len() as u64;
        send(SnapshotChunk {
            offset: *offset,
            data,
            ..Default::default()
        })?;
        *offset += len;
        Ok(())
    };
    for (idx, cf) in Cf::DATA.iter().enumerate() {
        let mut ranges = local.ranges.clone();
        // Keys ascending within a column family (the receiver's SST writer requires it).
        ranges.sort_unstable();
        for (lo, hi) in ranges {
            let (from, to) = slot_range_bounds(lo, hi);
            let mut failed: Option<ProduceError> = None;
            storage
                .scan_dir_at(Some(&snap), *cf, &from, &to, false, |k, v| {
                    let step = push_record(&mut buf, idx as u8, k, v)
                        .map_err(ProduceError::from)
                        .and_then(|()| {
                            records += 1;
                            if buf.len() >= CHUNK_BYTES {
                                flush(&mut buf, &mut offset)
                            } else {
                                Ok(())
                            }
                        });
                    match step {
                        Ok(()) => true,
                        Err(e) => {
                            failed = Some(e);
                            false
                        }
                    }
                })
                .map_err(io::Error::from)?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }
    flush(&mut buf, &mut offset)?;
    send(SnapshotChunk {
        offset,
        done: true,
        records,
        checksum: digest.finalize(),
        ..Default::default()
    })?;
    Ok(meta)
}

/// What the receiving side feeds [`stage`] (one message per chunk after the header).
pub(crate) enum StageMsg {
    Data {
        offset: u64,
        data: Vec<u8>,
    },
    Done {
        offset: u64,
        records: u64,
        checksum: u64,
    },
}

impl From<SnapshotChunk> for StageMsg {
    /// A data chunk, or the done marker with the stream's record count and checksum.
    fn from(chunk: SnapshotChunk) -> StageMsg {
        if chunk.done {
            StageMsg::Done {
                offset: chunk.offset,
                records: chunk.records,
                checksum: chunk.checksum,
            }
        } else {
            StageMsg::Data {
                offset: chunk.offset,
                data: chunk.data,
            }
        }
    }
}

static STAGING_SEQ: AtomicU64 = AtomicU64::new(0);

/// Writes the records arriving on `rx` into SST files under a new staging directory of
/// `target` (blocking: run it on a blocking thread). Succeeds only if the stream ended with a
/// done marker whose count and checksum match; otherwise the directory is removed.
pub(crate) fn stage(
    target: &StageTarget,
    header: &SnapshotHeader,
    mut rx: mpsc::Receiver<StageMsg>,
) -> io::Result<StagedSnapshot> {
    let unique = format!(
        "g{}-{}-{}",
        target.group,
        std::process::id(),
        STAGING_SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let dir = target.root.join(unique);
    // A leftover of an earlier run of this process id would be stale: start clean.
    remove_dir(&dir);
    fs::create_dir_all(&dir)?;
    // From here on the directory is removed on every failure (the guard's drop).
    let mut staged = StagedSnapshot {
        dir,
        files: Vec::new(),
        keyspace: header.keyspace.clone(),
        watch_epoch: header.watch_epoch,
        owned: true,
    };
    let bounds: Vec<(Vec<u8>, Vec<u8>)> = target
        .ranges
        .iter()
        .map(|&(lo, hi)| slot_range_bounds(lo, hi))
        .collect();
    let mut opts = Options::default();
    // The default (snappy) is not compiled in; lz4 is what the data column families use for
    // most levels.
    opts.set_compression_type(DBCompressionType::Lz4);
    let mut writer: Option<(u8, SstFileWriter<'_>)> = None;
    let mut digest = CRC.digest();
    let mut offset = 0u64;
    let mut records = 0u64;
    loop {
        let Some(msg) = rx.blocking_recv() else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "snapshot stream ended before its done marker",
            ));
        };
        match msg {
            StageMsg::Data { offset: at, data } => {
                if at != offset {
                    return Err(invalid(format!(
                        "snapshot chunk at offset {at}, expected {offset}"
                    )));
                }
                digest.update(&data);
                offset += data.len() as u64;
                let mut it = Records { data: &data };
                while let Some((cf, key, value)) = it.next_record()? {
                    if cf as usize >= Cf::DATA.len() {
                        return Err(invalid(format!("unknown column family {cf} in snapshot")));
                    }
                    if !bounds
                        .iter()
                        .any(|(from, to)| key >= from.as_slice() && key < to.as_slice())
                    {
                        return Err(invalid("snapshot key outside the group's slot ranges"));
                    }
                    if writer.as_ref().map(|(c, _)| *c) != Some(cf) {
                        if let Some((done_cf, mut w)) = writer.take() {
                            w.finish().map_err(io::Error::other)?;
                            if cf < done_cf {
                                return Err(invalid("snapshot column families out of order"));
                            }
                        }
                        if staged.files.iter().any(|(c, _)| *c == cf) {
                            return Err(invalid("snapshot column families out of order"));
                        }
                        let path = staged
                            .dir
                            .join(format!("{}.sst", Cf::DATA[cf as usize].name()));
                        let w = SstFileWriter::create(&opts);
                        w.open(&path).map_err(io::Error::other)?;
                        staged.files.push((cf, path));
                        writer = Some((cf, w));
                    }
                    if let Some((_, w)) = writer.as_mut() {
                        // Also rejects keys that are not ascending.
                        w.put(key, value).map_err(io::Error::other)?;
                    }
                    records += 1;
                }
            }
            StageMsg::Done {
                offset: at,
                records: want_records,
                checksum,
            } => {
                if at != offset || want_records != records || checksum != digest.finalize() {
                    return Err(invalid(format!(
                        "snapshot stream corrupted: {records} records / {offset} bytes received, \
                         sender announced {want_records} / {at} (or the checksum differs)"
                    )));
                }
                if let Some((_, mut w)) = writer.take() {
                    w.finish().map_err(io::Error::other)?;
                }
                return Ok(staged);
            }
        }
    }
}

/// Stages the data of `local`, a snapshot built by another store of this process (openraft's
/// storage test suite installs one store's snapshot into another), through the same stream
/// format and checks as a transfer. Returns the header read with the data and the staged
/// files.
pub(crate) fn copy_local(
    local: &LocalSnapshot,
    target: &StageTarget,
) -> io::Result<(SnapshotHeader, StagedSnapshot)> {
    let (tx, mut rx) = mpsc::channel(2);
    let (stage_tx, stage_rx) = mpsc::channel(2);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || produce(local, Vote::new(0, 0), 0, &tx));
        let header: SnapshotHeader = match rx.blocking_recv() {
            Some(first) => decode(&first.header)?,
            None => {
                return match producer.join() {
                    Ok(Err(e)) => Err(io::Error::other(e.to_string())),
                    _ => Err(io::Error::other("snapshot reader stopped without a header")),
                }
            }
        };
        let stage_header = header.clone();
        let stager = scope.spawn(move || stage(target, &stage_header, stage_rx));
        while let Some(chunk) = rx.blocking_recv() {
            if stage_tx.blocking_send(StageMsg::from(chunk)).is_err() {
                break;
            }
        }
        drop(stage_tx);
        drop(rx);
        let staged = stager
            .join()
            .map_err(|_| io::Error::other("snapshot staging thread panicked"))?;
        match producer.join() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(io::Error::other(e.to_string())),
            Err(_) => return Err(io::Error::other("snapshot reader thread panicked")),
        }
        Ok((header, staged?))
    })
}

fn sync_path(path: &Path) -> io::Result<()> {
    fs::File::open(path)?.sync_all()
}

/// Step 1 of an install: makes the staged files durable and writes the synced marker. From
/// the marker on, the install completes even across a crash.
pub(crate) fn begin_install(
    storage: &Storage,
    group: u64,
    mut staged: StagedSnapshot,
    meta: &SnapshotMeta,
) -> io::Result<InstallMarker> {
    for (_, path) in &staged.files {
        sync_path(path)?;
    }
    sync_path(&staged.dir)?;
    if let Some(parent) = staged.dir.parent() {
        sync_path(parent)?;
    }
    let marker = InstallMarker {
        dir: staged.dir.clone(),
        files: staged.files.clone(),
        meta: meta.clone(),
        keyspace: staged.keyspace.clone(),
        watch_epoch: staged.watch_epoch,
    };
    let mut batch = WriteBatch::default();
    batch.put_cf(
        storage.cf(Cf::SmMeta),
        group_meta_key(group, SM_INSTALLING),
        encode(&marker)?,
    );
    storage.write(batch)?;
    storage.sync_wal()?;
    // The directory now belongs to the install.
    staged.owned = false;
    Ok(marker)
}

/// Step 2 of an install (also the redo after a crash): replaces the group's data with the
/// staged files and records the snapshot's applied state, then removes the staging directory.
pub(crate) fn finish_install(
    storage: &Storage,
    group: u64,
    ranges: &[(u16, u16)],
    marker: &InstallMarker,
) -> io::Result<()> {
    let mut batch = WriteBatch::default();
    for cf in Cf::DATA {
        for &(lo, hi) in ranges {
            let (from, to) = slot_range_bounds(lo, hi);
            batch.delete_range_cf(storage.cf(cf), from, to);
        }
    }
    storage.write(batch)?;
    // The deletes must be durable before the ingested data: replayed after it, they would
    // delete it.
    storage.sync_wal()?;
    let mut opts = IngestExternalFileOptions::default();
    // Copy, never move: a redo after a crash needs the files again.
    opts.set_move_files(false);
    for (cf, path) in &marker.files {
        let cf = Cf::DATA
            .get(*cf as usize)
            .ok_or_else(|| invalid("unknown column family in the install marker"))?;
        storage
            .db()
            .ingest_external_file_cf_opts(storage.cf(*cf), &opts, vec![path])
            .map_err(io::Error::other)?;
    }
    let record = AppliedRecord {
        last_applied: marker.meta.last_log_id,
        membership: marker.meta.last_membership.clone(),
        keyspace: marker.keyspace.clone(),
    };
    let sm = storage.cf(Cf::SmMeta);
    let mut batch = WriteBatch::default();
    batch.put_cf(sm, group_meta_key(group, SM_APPLIED), encode(&record)?);
    batch.put_cf(
        sm,
        group_meta_key(group, SM_WATCH_EPOCH),
        marker.watch_epoch.to_be_bytes(),
    );
    batch.put_cf(
        sm,
        group_meta_key(group, SM_SNAPSHOT),
        encode(&marker.meta)?,
    );
    batch.delete_cf(sm, group_meta_key(group, SM_INSTALLING));
    storage.write(batch)?;
    storage.sync_wal()?;
    remove_dir(&marker.dir);
    Ok(())
}

/// At open: completes an install whose marker is present, and removes staging directories of
/// `group` that no install needs (left by a crash during a transfer).
pub(crate) fn recover(storage: &Storage, group: u64, ranges: &[(u16, u16)]) -> io::Result<()> {
    if let Some(raw) = storage.get(Cf::SmMeta, &group_meta_key(group, SM_INSTALLING))? {
        let marker: InstallMarker = decode(&raw)?;
        tracing::info!(group, last = ?marker.meta.last_log_id, "completing an interrupted snapshot install");
        finish_install(storage, group, ranges, &marker)?;
    }
    let root = staging_root(storage);
    let prefix = format!("g{group}-");
    let entries = match fs::read_dir(&root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            remove_dir(&entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::raft::state_machine::StateMachine;
    use crate::raft::types::LogId;

    /// Group 0's range: slot values above 16383 must work too.
    const RANGES: [(u16, u16); 1] = [(0xFFFF, 0xFFFF)];
    const GROUP: u64 = 7;

    fn key(slot: u16, rest: &str) -> Vec<u8> {
        let mut k = slot.to_be_bytes().to_vec();
        k.extend_from_slice(rest.as_bytes());
        k
    }

    fn put(storage: &Storage, cf: Cf, k: &[u8], v: &[u8]) {
        let mut b = WriteBatch::default();
        b.put_cf(storage.cf(cf), k, v);
        storage.write(b).expect("write");
    }

    /// Every record of the data column families, in order (also used by `grpc::tests`).
    pub(crate) fn dump(storage: &Storage) -> Vec<(usize, Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        for (i, cf) in Cf::DATA.iter().enumerate() {
            storage
                .scan(*cf, &[], &[0xff, 0xff, 0xff], |k, v| {
                    out.push((i, k.to_vec(), v.to_vec()));
                    true
                })
                .expect("scan");
        }
        out
    }

    /// A source database: the group's records (including one of ~3 MiB, so the stream has
    /// several chunks) and its applied record at index 42.
    fn source() -> (tempfile::TempDir, Arc<Storage>, AppliedRecord) {
        let (dir, storage) = Storage::open_temp();
        let big = vec![7u8; 3 << 20];
        put(&storage, Cf::Meta, &key(0xFFFF, "a"), b"meta-a");
        put(&storage, Cf::Meta, &key(0xFFFF, "big"), &big);
        for i in 0..100 {
            put(
                &storage,
                Cf::Subkey,
                &key(0xFFFF, &format!("m{i:03}")),
                b"member",
            );
        }
        put(&storage, Cf::Expire, &key(0xFFFF, "x"), b"");
        // Outside the group: must not travel.
        put(&storage, Cf::Meta, &key(5, "other"), b"no");
        let mut record = AppliedRecord {
            last_applied: Some(LogId::new(
                openraft::impls::leader_id_adv::LeaderId {
                    term: 3,
                    node_id: 1,
                },
                42,
            )),
            ..AppliedRecord::default()
        };
        record.keyspace.counters.keys[0] = 2;
        record.keyspace.counters.expires[0] = 1;
        let mut b = WriteBatch::default();
        b.put_cf(
            storage.cf(Cf::SmMeta),
            group_meta_key(GROUP, SM_APPLIED),
            encode(&record).expect("encode"),
        );
        b.put_cf(
            storage.cf(Cf::SmMeta),
            group_meta_key(GROUP, SM_WATCH_EPOCH),
            9u64.to_be_bytes(),
        );
        storage.write(b).expect("write");
        (dir, Arc::new(storage), record)
    }

    /// Everything `produce` sends for the group of `storage`.
    fn produced(storage: &Arc<Storage>) -> Vec<SnapshotChunk> {
        let local = LocalSnapshot {
            group: GROUP,
            storage: storage.clone(),
            ranges: RANGES.to_vec(),
        };
        let (tx, mut rx) = mpsc::channel(1024);
        produce(&local, Vote::new(3, 1), 2, &tx).expect("produce");
        drop(tx);
        let mut out = Vec::new();
        while let Some(c) = rx.blocking_recv() {
            out.push(c);
        }
        out
    }

    /// Feeds `chunks` (after the header) to `stage` for `storage`'s group.
    fn staged(
        storage: &Storage,
        header: &SnapshotHeader,
        chunks: Vec<SnapshotChunk>,
    ) -> io::Result<StagedSnapshot> {
        let target = StageTarget {
            root: staging_root(storage),
            group: GROUP,
            ranges: RANGES.to_vec(),
        };
        let (tx, rx) = mpsc::channel(chunks.len() + 1);
        for c in chunks {
            tx.try_send(StageMsg::from(c)).expect("channel has room");
        }
        drop(tx);
        stage(&target, header, rx)
    }

    fn staging_is_empty(storage: &Storage) -> bool {
        match fs::read_dir(staging_root(storage)) {
            Ok(mut d) => d.next().is_none(),
            Err(e) => e.kind() == io::ErrorKind::NotFound,
        }
    }

    /// The target: old data of the group (to be replaced) and data of another group.
    fn target() -> (tempfile::TempDir, Arc<Storage>) {
        let (dir, storage) = Storage::open_temp();
        put(&storage, Cf::Meta, &key(0xFFFF, "old"), b"old");
        put(&storage, Cf::Subkey, &key(0xFFFF, "m000"), b"old member");
        put(&storage, Cf::Meta, &key(3, "keep"), b"keep");
        (dir, Arc::new(storage))
    }

    struct Builder;

    impl
        openraft::testing::log::StoreBuilder<
            crate::raft::TypeConfig,
            crate::raft::log_store::LogStore,
            StateMachine,
            tempfile::TempDir,
        > for Builder
    {
        async fn build(
            &self,
        ) -> Result<
            (
                tempfile::TempDir,
                crate::raft::log_store::LogStore,
                StateMachine,
            ),
            openraft::StorageError<crate::raft::TypeConfig>,
        > {
            let io = |e: io::Error| {
                openraft::StorageError::from_io_error(
                    openraft::ErrorSubject::Store,
                    openraft::ErrorVerb::Read,
                    e,
                )
            };
            let (dir, storage) = Storage::open_temp();
            let storage = Arc::new(storage);
            let syncer = crate::raft::Syncer::start(storage.clone()).map_err(io)?;
            let log = crate::raft::log_store::LogStore::new(1, storage.clone(), syncer);
            let sm = StateMachine::open(1, storage, vec![(0, 16383)], crate::cmd::execute)
                .map_err(io)?;
            Ok((dir, log, sm))
        }
    }

    /// openraft's own conformance case: one store's snapshot installed into another.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn openraft_transfer_snapshot_case() {
        openraft::testing::log::Suite::<
            crate::raft::TypeConfig,
            crate::raft::log_store::LogStore,
            StateMachine,
            Builder,
            tempfile::TempDir,
        >::transfer_snapshot(&Builder)
        .await
        .expect("transfer_snapshot");
    }

    #[test]
    fn stream_has_header_chunks_and_done_marker() {
        let (_d, src, record) = source();
        let chunks = produced(&src);
        let header: SnapshotHeader = decode(&chunks[0].header).expect("header");
        assert_eq!(header.meta.last_log_id, record.last_applied);
        assert_eq!(header.keyspace, record.keyspace);
        assert_eq!(header.watch_epoch, 9);
        assert_eq!(chunks[0].group_id, GROUP);
        assert_eq!(chunks[0].target_replica, 2);
        assert!(chunks.len() >= 4, "{} messages", chunks.len());
        let last = chunks.last().expect("done marker");
        assert!(last.done);
        assert_eq!(last.records, 103);
    }

    /// A crash after the install marker: the next open finishes the install.
    #[test]
    fn open_completes_an_interrupted_install() {
        let (_sd, src, record) = source();
        let mut chunks = produced(&src);
        let header: SnapshotHeader = decode(&chunks.remove(0).header).expect("header");
        let (_td, dst) = target();
        let staged = staged(&dst, &header, chunks).expect("staged");
        let marker = begin_install(&dst, GROUP, staged, &header.meta).expect("marker");
        // "Crash": the install stops here. The old data is still in place.
        assert!(dump(&dst).iter().any(|(_, k, _)| *k == key(0xFFFF, "old")));
        assert!(marker.dir.exists());

        let sm = StateMachine::open(GROUP, dst.clone(), RANGES.to_vec(), crate::cmd::execute)
            .expect("open");
        let want: Vec<_> = dump(&src)
            .into_iter()
            .filter(|(_, k, _)| k[..2] == [0xff, 0xff])
            .chain([(0, key(3, "keep"), b"keep".to_vec())])
            .collect();
        let mut got = dump(&dst);
        got.sort();
        let mut want = want;
        want.sort();
        assert_eq!(got, want);
        assert_eq!(*sm.shared().last_applied.lock(), record.last_applied);
        assert_eq!(sm.shared().keyspace.counters(), record.keyspace.counters);
        assert_eq!(
            sm.shared()
                .watch_epoch
                .load(std::sync::atomic::Ordering::SeqCst),
            9
        );
        assert!(dst
            .get(Cf::SmMeta, &group_meta_key(GROUP, SM_INSTALLING))
            .expect("read")
            .is_none());
        let snap: SnapshotMeta = decode(
            &dst.get(Cf::SmMeta, &group_meta_key(GROUP, SM_SNAPSHOT))
                .expect("read")
                .expect("snapshot meta recorded"),
        )
        .expect("decode");
        assert_eq!(snap.last_log_id, record.last_applied);
        assert!(staging_is_empty(&dst));
    }

    /// A stream that ends early, or whose totals do not match, changes nothing and leaves no
    /// staged files.
    #[test]
    fn failed_streams_leave_data_untouched() {
        let (_sd, src, _) = source();
        let mut chunks = produced(&src);
        let header: SnapshotHeader = decode(&chunks.remove(0).header).expect("header");
        let (_td, dst) = target();
        let before = dump(&dst);

        // Aborted: no done marker.
        let mut cut = chunks.clone();
        cut.pop();
        let err = staged(&dst, &header, cut).expect_err("no done marker");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(staging_is_empty(&dst));

        // Corrupted: a byte flipped in flight.
        let mut bad = chunks.clone();
        bad[0].data[7] ^= 1;
        staged(&dst, &header, bad).expect_err("checksum mismatch");
        assert!(staging_is_empty(&dst));

        // A chunk lost.
        let mut gap = chunks.clone();
        gap.remove(1);
        staged(&dst, &header, gap).expect_err("gap");
        assert!(staging_is_empty(&dst));

        // Staged but refused (dropped without install, as when openraft declines it).
        drop(staged(&dst, &header, chunks).expect("staged"));
        assert!(staging_is_empty(&dst));

        assert_eq!(dump(&dst), before);
        StateMachine::open(GROUP, dst.clone(), RANGES.to_vec(), crate::cmd::execute).expect("open");
        assert_eq!(dump(&dst), before);
    }

    #[test]
    fn records_round_trip() {
        let mut buf = Vec::new();
        push_record(&mut buf, 0, b"k1", b"v1").expect("push");
        push_record(&mut buf, 3, b"", b"").expect("push");
        let mut it = Records { data: &buf };
        assert_eq!(
            it.next_record().expect("record"),
            Some((0, &b"k1"[..], &b"v1"[..]))
        );
        assert_eq!(
            it.next_record().expect("record"),
            Some((3, &b""[..], &b""[..]))
        );
        assert_eq!(it.next_record().expect("end"), None);
        let mut cut = Records {
            data: &buf[..buf.len() - 1],
        };
        cut.next_record().expect("first record is whole");
        assert!(cut.next_record().is_err());
    }
}
