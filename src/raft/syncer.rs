//! The node-wide WAL syncer: group commit for every Raft group's log appends.
//!
//! Each group's `append` writes its entries to RocksDB without syncing (so they are readable at
//! once) and hands its completion callback here. One thread repeatedly takes everything queued,
//! issues a single WAL fsync, and then completes those callbacks in submission order. Under load
//! one fsync therefore covers the appends of many writes and many groups, and a write is
//! acknowledged only after the fsync that covers it.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Weak};
use std::thread;

use openraft::storage::IOFlushed;

use super::types::TypeConfig;
use crate::storage::Storage;

enum Job {
    Log(IOFlushed<TypeConfig>),
    Notify(tokio::sync::oneshot::Sender<std::io::Result<()>>),
}

/// Handle to the syncer thread; cheap to clone. The thread stops when every handle is dropped.
#[derive(Clone)]
pub struct Syncer {
    tx: Sender<Job>,
    stats: Arc<SyncStats>,
}

/// Counters for INFO: how well group commit is batching.
#[derive(Default)]
pub struct SyncStats {
    pub fsyncs: std::sync::atomic::AtomicU64,
    pub synced_requests: std::sync::atomic::AtomicU64,
    /// Time spent writing and fsyncing the WAL, in microseconds.
    pub fsync_usec: std::sync::atomic::AtomicU64,
}

impl Syncer {
    pub fn start(storage: Arc<Storage>) -> std::io::Result<Syncer> {
        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(SyncStats::default());
        let thread_stats = stats.clone();
        // The thread holds the database only while syncing, so dropping the node's stores
        // closes RocksDB at once instead of whenever this thread notices.
        let storage = Arc::downgrade(&storage);
        thread::Builder::new()
            .name("wal-syncer".into())
            .spawn(move || run(storage, rx, thread_stats))?;
        Ok(Syncer { tx, stats })
    }

    /// Completes `callback` once everything written before this call is on disk.
    pub fn submit(&self, callback: IOFlushed<TypeConfig>) {
        if let Err(mpsc::SendError(Job::Log(cb))) = self.tx.send(Job::Log(callback)) {
            cb.io_completed(Err(std::io::Error::other("WAL syncer stopped")));
        }
    }

    /// Waits until everything written before this call is on disk.
    pub async fn sync(&self) -> std::io::Result<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Job::Notify(tx))
            .map_err(|_| std::io::Error::other("WAL syncer stopped"))?;
        rx.await
            .map_err(|_| std::io::Error::other("WAL syncer stopped"))?
    }

    pub fn stats(&self) -> &SyncStats {
        &self.stats
    }
}

fn run(storage: Weak<Storage>, rx: Receiver<Job>, stats: Arc<SyncStats>) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut jobs = Vec::new();
    while let Ok(first) = rx.recv() {
        jobs.push(first);
        while let Ok(more) = rx.try_recv() {
            jobs.push(more);
        }
        let started = std::time::Instant::now();
        let result = match storage.upgrade() {
            Some(s) => s.sync_wal(),
            None => Err(crate::storage::StorageError::Io(std::io::Error::other(
                "database closed",
            ))),
        };
        if let Err(e) = &result {
            // A failed fsync leaves the WAL state unknown: fail every waiter so nothing is
            // acknowledged; openraft treats a log IO error as fatal for the group.
            tracing::error!(error = %e, "WAL fsync failed; the affected Raft groups will stop. Check the disk, then restart the node");
        }
        stats.fsyncs.fetch_add(1, Relaxed);
        stats
            .fsync_usec
            .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
        stats.synced_requests.fetch_add(jobs.len() as u64, Relaxed);
        for job in jobs.drain(..) {
            let r = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
            match job {
                Job::Log(cb) => cb.io_completed(r),
                Job::Notify(tx) => {
                    let _ = tx.send(r);
                }
            }
        }
    }
}
