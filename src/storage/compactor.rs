//! Compaction of key ranges that reads found full of tombstones.
//!
//! A deleted RocksDB key leaves a tombstone that every iterator steps over until compaction
//! drops it. Most deletes here are spread out and compaction keeps up, but some access
//! patterns pile them up exactly where reads look: SPOP and ZPOPMIN empty a collection from
//! the inside or the front, active expiry deletes the front of the expiry index. A seek
//! there steps over every tombstone of the members popped so far (about 100,000 for a set
//! emptied by SPOP), so each pop costs more than the one before.
//!
//! So scans measure the tombstones they stepped over (RocksDB's per-thread perf counters,
//! counting only: no timers) and, past [`TOMBSTONE_TRIGGER`], ask this module to compact the
//! range they scanned. One background thread runs the requests one at a time, flushing the
//! memtable if the range is in it, and rests four times as long as each compaction took
//! before the next; tombstones at the bottom level vanish with the keys they hid. Compaction
//! changes no data, only where it lives, so replicas may do it at different times. Requests
//! are dropped, never waited for, when the queue is full or the thread rests.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Instant;

use rocksdb::perf::{set_perf_stats, PerfContext, PerfMetric, PerfStatsLevel};
use rocksdb::{BottommostLevelCompaction, CompactOptions, DB};

use super::Cf;

/// Tombstones one scan may step over before its range is queued for compaction: a few
/// milliseconds of work, far above what scans of healthy data see.
pub const TOMBSTONE_TRIGGER: u64 = 5_000;
/// After a compaction that took `t`, the thread rests `REST_FACTOR * t` before the next one:
/// at most a fifth of the time compacting, however often scans ask (a KEYS over a large
/// keyspace full of tombstones asks for a large range).
const REST_FACTOR: u32 = 4;
/// Requests waiting at most; more are dropped (the same ranges trigger again if needed).
const QUEUE: usize = 64;

thread_local! {
    static PERF: PerfContext = {
        set_perf_stats(PerfStatsLevel::EnableCount);
        PerfContext::default()
    };
    static SKIPPED_TOTAL: Cell<u64> = const { Cell::new(0) };
}

/// Tombstones stepped over so far by this thread. (Overwritten versions of live keys are
/// left out: hot keys always have some in the memtable, and the next flush drops them.)
fn skipped_now() -> u64 {
    PERF.with(|p| p.metric(PerfMetric::InternalDeleteSkippedCount))
}

/// Tombstones this thread's scans have stepped over (tests).
pub fn skipped_total() -> u64 {
    SKIPPED_TOTAL.with(Cell::get)
}

/// Measures one scan: [`Probe::start`] before it, [`Probe::finish`] after.
pub struct Probe(u64);

impl Probe {
    pub fn start() -> Probe {
        Probe(skipped_now())
    }

    /// What the scan stepped over since `start`.
    pub fn finish(self) -> u64 {
        let skipped = skipped_now().saturating_sub(self.0);
        SKIPPED_TOTAL.with(|t| t.set(t.get().saturating_add(skipped)));
        skipped
    }
}

struct Request {
    cf: Cf,
    from: Vec<u8>,
    to: Vec<u8>,
    /// When the scan that asked for it ran.
    seen: Instant,
}

type RangeKey = (Cf, Vec<u8>, Vec<u8>);

/// The background compaction thread and its queue.
pub struct Compactor {
    tx: Option<SyncSender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl Compactor {
    /// Starts the thread. It holds the database weakly: closing it is not delayed beyond
    /// the compaction running at that moment.
    pub fn start(db: &Arc<DB>) -> Compactor {
        let (tx, rx) = sync_channel(QUEUE);
        let weak = Arc::downgrade(db);
        let thread = std::thread::Builder::new()
            .name("rocksdb-tombstones".into())
            .spawn(move || run(weak, rx))
            .map_err(|e| tracing::warn!(error = %e, "cannot start the tombstone compaction thread; tombstone-heavy ranges will wait for RocksDB's own compactions"))
            .ok();
        Compactor {
            tx: thread.as_ref().map(|_| tx),
            thread,
        }
    }

    /// Records a scan of `[from, to)` in `cf` that stepped over `skipped` dead entries and
    /// queues its range for compaction if that is too many.
    pub fn note_scan(&self, cf: Cf, from: &[u8], to: &[u8], skipped: u64) {
        if skipped < TOMBSTONE_TRIGGER {
            return;
        }
        let Some(tx) = &self.tx else { return };
        let req = Request {
            cf,
            from: from.to_vec(),
            to: to.to_vec(),
            seen: Instant::now(),
        };
        match tx.try_send(req) {
            Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Stops the thread after the compaction in progress, dropping queued requests.
    pub fn stop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Compactor {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(db: Weak<DB>, rx: Receiver<Request>) {
    let mut opts = CompactOptions::default();
    // Tombstones are only dropped at the bottom level, where they hide nothing older.
    opts.set_bottommost_level_compaction(BottommostLevelCompaction::ForceOptimized);
    opts.set_exclusive_manual_compaction(false);
    // Ranges compacted lately and when that finished: the same range is usually reported by
    // many scans before its compaction is done, and those reports are stale afterwards.
    let mut done: VecDeque<(RangeKey, Instant)> = VecDeque::new();
    while let Ok(req) = rx.recv() {
        let key = (req.cf, req.from, req.to);
        if done.iter().any(|(k, at)| *k == key && *at >= req.seen) {
            continue;
        }
        let Some(db) = db.upgrade() else { return };
        let Some(handle) = db.cf_handle(key.0.name()) else {
            continue;
        };
        let started = Instant::now();
        db.compact_range_cf_opt(&handle, Some(&key.1), Some(&key.2), &opts);
        tracing::debug!(
            cf = key.0.name(),
            ms = started.elapsed().as_millis() as u64,
            "compacted a tombstone-heavy range"
        );
        let took = started.elapsed();
        done.retain(|(k, _)| *k != key);
        done.push_back((key, Instant::now()));
        if done.len() > 16 {
            done.pop_front();
        }
        // Rest; what scans ask meanwhile is dropped (they ask again if it still matters).
        // Waiting on the queue rather than sleeping lets `stop` end the thread at once.
        let rest_until = Instant::now() + took * REST_FACTOR;
        loop {
            let left = rest_until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Storage;
    use rocksdb::WriteBatch;

    /// A scan that steps over many tombstones gets its range compacted in the background,
    /// after which the same scan steps over none. (Waits for the compaction; a generous
    /// deadline for a busy machine, no speed asserted.)
    #[test]
    fn a_tombstone_heavy_scan_gets_its_range_compacted() {
        let (_dir, s) = Storage::open_temp();
        let n = 3 * TOMBSTONE_TRIGGER;
        let key = |i: u64| format!("set:{i:08}").into_bytes();
        let mut b = WriteBatch::default();
        for i in 0..=n {
            b.put_cf(s.cf(Cf::Subkey), key(i), b"");
        }
        s.write(b).unwrap();
        let mut b = WriteBatch::default();
        for i in 0..n {
            b.delete_cf(s.cf(Cf::Subkey), key(i));
        }
        s.write(b).unwrap();

        let first_live = |s: &Storage| {
            let probe = Probe::start();
            let mut found = None;
            s.scan_dir(Cf::Subkey, b"set:", b"set;", false, |k, _| {
                found = Some(k.to_vec());
                false
            })
            .unwrap();
            (found, probe.finish())
        };
        let (found, skipped) = first_live(&s);
        assert_eq!(found, Some(key(n)));
        assert!(
            skipped >= n,
            "stepped over {skipped} tombstones, {n} expected"
        );

        let deadline = Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let (found, skipped) = first_live(&s);
            assert_eq!(found, Some(key(n)));
            if skipped < 10 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the range was not compacted: a scan still steps over {skipped} tombstones"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}
