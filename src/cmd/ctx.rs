//! The context of a read command: the keyspace at one instant.
//!
//! A read runs in one of two places:
//! - on the leader, after a read barrier, against RocksDB (`ReadCtx::on_node`): the normal case;
//! - inside the state machine, against the pending writes of the entry being applied
//!   (`ReadCtx::in_apply`): reads queued in a MULTI run in EXEC's log entry, so they see the
//!   transaction's own earlier writes and nothing else can interleave.
//!
//! Read handlers therefore reach the data only through [`ReadCtx::get`], [`ReadCtx::get_raw`]
//! and [`ReadCtx::scan`]; [`ReadCtx::node`] is for the few that need node state (cursors,
//! cluster topology) and are refused inside a transaction.

use crate::cluster::{key_slot, SlotId};
use crate::node::Node;
use crate::storage::engine::Snapshot;
use crate::storage::keys::meta_key;
use crate::storage::keyspace::{WriteCtx, DATABASES};
use crate::storage::{Cf, Metadata, Storage, StorageError};

use super::CmdError;

#[derive(Clone, Copy)]
enum Source<'a> {
    Node(&'a Node),
    Apply(&'a WriteCtx<'a>),
}

pub struct ReadCtx<'a> {
    /// Logical database selected by the client.
    pub db: u8,
    /// The leader's clock (or the entry's, inside the state machine): keys with a deadline at
    /// or before it are invisible.
    pub now_ms: u64,
    source: Source<'a>,
    /// On the node: the snapshot every read of this command goes through, if it took one
    /// (multi-key and collection reads: see [`ReadCtx::on_node_consistent`]).
    snapshot: Option<Snapshot<'a>>,
}

impl<'a> ReadCtx<'a> {
    /// A read on this node's data as of one instant: every `get`/`scan` of the command sees
    /// the same snapshot. Needed when a command reads several entries (MGET of keys written
    /// together by MSET, a collection's metadata and then its members); a single point read
    /// is atomic without it, and GET skips the cost.
    pub fn on_node_consistent(node: &'a Node, db: u8, now_ms: u64) -> ReadCtx<'a> {
        ReadCtx {
            db,
            now_ms,
            source: Source::Node(node),
            snapshot: Some(node.storage.snapshot()),
        }
    }

    /// The same read, through one snapshot taken now (on the node; inside the state machine
    /// the pending writes are already one instant). For a single-key command that the
    /// dispatcher serves without a snapshot but that walks a whole collection (DUMP).
    pub fn consistent(&self) -> ReadCtx<'a> {
        match self.source {
            Source::Node(n) => ReadCtx::on_node_consistent(n, self.db, self.now_ms),
            Source::Apply(_) => ReadCtx {
                db: self.db,
                now_ms: self.now_ms,
                source: self.source,
                snapshot: None,
            },
        }
    }

    /// A read on this node's committed data.
    pub fn on_node(node: &'a Node, db: u8, now_ms: u64) -> ReadCtx<'a> {
        ReadCtx {
            db,
            now_ms,
            source: Source::Node(node),
            snapshot: None,
        }
    }

    /// A read inside the state machine, through the entry's pending writes, at its clock.
    pub fn in_apply(wctx: &'a WriteCtx<'a>, db: u8) -> ReadCtx<'a> {
        ReadCtx {
            db,
            now_ms: wctx.now_ms,
            source: Source::Apply(wctx),
            snapshot: None,
        }
    }

    /// The node, for reads that need node state beyond the keyspace (SCAN cursors, CLUSTER,
    /// DBSIZE across groups). Inside a transaction there is none: such commands are refused.
    pub fn node(&self) -> Result<&'a Node, CmdError> {
        match self.source {
            Source::Node(n) => Ok(n),
            Source::Apply(_) => Err(CmdError::raw(
                "ERR this command is not supported inside MULTI",
            )),
        }
    }

    /// DBSIZE of the client's database: the node's counters, or inside a transaction the
    /// counters of the group applying it (which a transaction's keys all belong to).
    pub fn key_count(&self) -> u64 {
        match self.source {
            Source::Node(n) => n.key_counts(self.db).0,
            Source::Apply(w) => w.state.counters.keys[w.pdb(self.db) as usize % DATABASES],
        }
    }

    /// RocksDB itself, bypassing pending writes: for whole-keyspace walks (KEYS, SCAN,
    /// RANDOMKEY, CLUSTER GETKEYSINSLOT), which run on the node only.
    pub fn storage(&self) -> &'a Storage {
        match self.source {
            Source::Node(n) => &n.storage,
            Source::Apply(w) => w.storage(),
        }
    }

    /// The physical database byte of the client's database within `slot`'s group.
    pub fn pdb(&self, slot: SlotId) -> u8 {
        match self.source {
            Source::Node(n) => n.physical_db(slot, self.db),
            Source::Apply(w) => w.pdb(self.db),
        }
    }

    /// True if slots `a` and `b` are served by the same slot group. A command may read keys
    /// it did not declare (SORT's BY/GET patterns) only inside its own group: an apply sees
    /// only its group's data.
    pub fn same_group(&self, a: SlotId, b: SlotId) -> bool {
        match self.source {
            Source::Node(n) => n.topology.group_of(a) == n.topology.group_of(b),
            Source::Apply(w) => [a, b]
                .iter()
                .all(|s| w.ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&s.0))),
        }
    }

    /// A raw point read (of any column family) at this context's view.
    pub fn get_raw(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.source {
            Source::Node(n) => match &self.snapshot {
                Some(snap) => n.storage.get_at(snap, cf, key),
                None => n.storage.get(cf, key),
            },
            Source::Apply(w) => w.overlay.get(cf, key),
        }
    }

    /// Calls `f(key, value)` for the keys of `cf` in `[from, to)`, ascending (descending if
    /// `reverse`), until it returns false.
    pub fn scan(
        &self,
        cf: Cf,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        match self.source {
            Source::Node(n) => {
                n.storage
                    .scan_dir_at(self.snapshot.as_ref(), cf, from, to, reverse, f)
            }
            Source::Apply(w) => w.overlay.scan(cf, from, to, reverse, f),
        }
    }

    /// The live metadata of `key` (None if absent or expired).
    pub fn get(&self, key: &[u8]) -> Result<Option<Metadata>, StorageError> {
        let slot = key_slot(key);
        let found = match self.get_raw(Cf::Meta, &meta_key(slot, self.pdb(slot), key))? {
            Some(raw) => {
                let m = Metadata::decode(&raw)?;
                (!m.is_expired(self.now_ms)).then_some(m)
            }
            None => None,
        };
        if let Source::Node(node) = self.source {
            let counter = if found.is_some() {
                &node.stats.keyspace_hits
            } else {
                &node.stats.keyspace_misses
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(found)
    }
}
