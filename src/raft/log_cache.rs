//! An in-memory tail of one group's Raft log.
//!
//! Every entry is read back at least once after it is appended: the state machine worker asks
//! the log for the committed range it applies, and a leader reads entries again to replicate
//! them. Serving those reads from the entries just appended saves a RocksDB scan and a decode
//! per entry on the write path. The cache holds a contiguous run of the newest entries,
//! bounded in count and in (approximate) bytes; anything older is read from RocksDB.

use std::collections::VecDeque;

use openraft::EntryPayload;

use super::types::{Entry, WriteOp};

/// Most entries kept.
const MAX_ENTRIES: usize = 4096;
/// Most payload bytes kept (approximate: the argument bytes of client commands).
const MAX_BYTES: usize = 8 << 20;

#[derive(Default)]
pub struct LogCache {
    entries: VecDeque<Entry>,
    bytes: usize,
}

fn entry_bytes(e: &Entry) -> usize {
    const OVERHEAD: usize = 64;
    OVERHEAD
        + match &e.payload {
            EntryPayload::Normal(req) => match &req.op {
                WriteOp::Command { argv, .. } => argv.iter().map(|a| a.len() + 16).sum(),
                WriteOp::ExpireKeys { keys } => keys.iter().map(|k| k.2.len() + 16).sum(),
                WriteOp::Multi { cmds, watched } => {
                    cmds.iter()
                        .flat_map(|c| &c.1)
                        .map(|a| a.len() + 16)
                        .sum::<usize>()
                        + watched.iter().map(|w| w.key.len() + 24).sum::<usize>()
                }
                WriteOp::Cluster(_) => 128,
            },
            _ => 0,
        }
}

impl LogCache {
    fn first_index(&self) -> Option<u64> {
        self.entries.front().map(|e| e.log_id.index)
    }

    fn last_index(&self) -> Option<u64> {
        self.entries.back().map(|e| e.log_id.index)
    }

    /// Records entries just written to the log. They must follow the cached run; anything
    /// else (a gap, an overwrite not preceded by [`Self::truncate_after`]) resets the cache.
    pub fn append(&mut self, e: Entry) {
        if let Some(last) = self.last_index() {
            if e.log_id.index != last + 1 {
                if e.log_id.index <= last && Some(e.log_id.index) > self.first_index() {
                    self.truncate_after(e.log_id.index - 1);
                } else {
                    self.clear();
                }
            }
        }
        self.bytes += entry_bytes(&e);
        self.entries.push_back(e);
        while self.entries.len() > MAX_ENTRIES || (self.bytes > MAX_BYTES && self.entries.len() > 1)
        {
            self.pop_front();
        }
    }

    fn pop_front(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            self.bytes = self.bytes.saturating_sub(entry_bytes(&e));
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// Forgets entries after `last` (the log was truncated there).
    pub fn truncate_after(&mut self, last: u64) {
        while self.last_index().is_some_and(|i| i > last) {
            if let Some(e) = self.entries.pop_back() {
                self.bytes = self.bytes.saturating_sub(entry_bytes(&e));
            }
        }
    }

    /// Forgets entries up to and including `upto` (the log was purged there).
    pub fn purge(&mut self, upto: u64) {
        while self.first_index().is_some_and(|i| i <= upto) {
            self.pop_front();
        }
    }

    /// The entries `[start, end)` if the cache holds all of them.
    pub fn get(&self, start: u64, end: u64) -> Option<Vec<Entry>> {
        if start >= end {
            return Some(Vec::new());
        }
        let first = self.first_index()?;
        let last = self.last_index()?;
        if start < first || end - 1 > last {
            return None;
        }
        let from = (start - first) as usize;
        let to = (end - first) as usize;
        Some(self.entries.range(from..to).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::types::{LogId, WriteRequest};
    use bytes::Bytes;

    fn entry(term: u64, index: u64) -> Entry {
        let leader = openraft::impls::leader_id_adv::LeaderId { term, node_id: 1 };
        Entry {
            log_id: LogId::new(leader, index),
            payload: EntryPayload::Normal(WriteRequest {
                now_ms: index,
                max_value_len: 0,
                op: WriteOp::Command {
                    db: 0,
                    argv: vec![Bytes::from_static(b"SET"), Bytes::from(index.to_string())],
                },
            }),
        }
    }

    fn indexes(v: &[Entry]) -> Vec<(u64, u64)> {
        v.iter()
            .map(|e| (e.log_id.leader_id.term, e.log_id.index))
            .collect()
    }

    #[test]
    fn serves_only_ranges_it_holds_completely() {
        let mut c = LogCache::default();
        for i in 5..10 {
            c.append(entry(1, i));
        }
        assert_eq!(
            indexes(&c.get(5, 10).unwrap()),
            (5..10).map(|i| (1, i)).collect::<Vec<_>>()
        );
        assert_eq!(indexes(&c.get(7, 9).unwrap()), vec![(1, 7), (1, 8)]);
        assert!(c.get(4, 6).is_none(), "4 is not cached");
        assert!(c.get(9, 11).is_none(), "10 is not cached");
        assert!(c.get(3, 3).unwrap().is_empty());
    }

    #[test]
    fn follows_truncation_purge_and_overwrites() {
        let mut c = LogCache::default();
        for i in 1..=6 {
            c.append(entry(1, i));
        }
        c.truncate_after(4);
        assert!(c.get(5, 6).is_none());
        c.append(entry(2, 5));
        assert_eq!(indexes(&c.get(4, 6).unwrap()), vec![(1, 4), (2, 5)]);
        // An overwrite without an explicit truncation drops the stale tail as well.
        c.append(entry(3, 3));
        assert_eq!(indexes(&c.get(1, 4).unwrap()), vec![(1, 1), (1, 2), (3, 3)]);
        assert!(c.get(4, 5).is_none());
        c.purge(2);
        assert!(c.get(2, 3).is_none());
        assert_eq!(indexes(&c.get(3, 4).unwrap()), vec![(3, 3)]);
        // A gap resets the cache rather than serving a hole.
        c.append(entry(3, 10));
        assert!(c.get(3, 4).is_none());
        assert_eq!(indexes(&c.get(10, 11).unwrap()), vec![(3, 10)]);
    }

    #[test]
    fn stays_bounded() {
        let mut c = LogCache::default();
        for i in 0..(MAX_ENTRIES as u64 + 100) {
            c.append(entry(1, i));
        }
        assert_eq!(c.entries.len(), MAX_ENTRIES);
        assert!(c.get(0, 1).is_none());
        assert!(c.get(100, 101).is_some());
    }
}
