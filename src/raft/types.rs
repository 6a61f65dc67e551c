//! The Raft type configuration and what a log entry carries.

use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::resp::Frame;

/// Where a replica's node can be reached.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// gRPC address for Raft traffic between nodes.
    pub raft_addr: String,
    /// RESP address clients are redirected to (MOVED).
    pub resp_addr: String,
}

/// A replicated write: one Raft log entry's application data.
///
/// Everything that could differ between replicas is fixed by the leader before proposing:
/// `now_ms` is the leader's clock, from which the state machine derives absolute deadlines for
/// relative TTLs (`SET k v EX 10`), decides whether a key has expired, and seeds any random
/// choice. Replicas never consult their own clock when applying.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WriteRequest {
    pub now_ms: u64,
    /// The leader's `proto-max-bulk-len` when it proposed: the largest string a command may
    /// build (APPEND, SETRANGE). Carried in the entry so every replica enforces the same limit.
    pub max_value_len: u64,
    pub op: WriteOp,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum WriteOp {
    /// A client write command (argv as received), executed against logical database `db`.
    Command { db: u8, argv: Vec<Bytes> },
    /// Active expiry: delete each `(physical db, deadline, key)` still expired at `now_ms`.
    ExpireKeys { keys: Vec<(u8, u64, Bytes)> },
}

impl fmt::Display for WriteRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.op {
            WriteOp::Command { db, argv } => {
                let name = argv
                    .first()
                    .map(|a| String::from_utf8_lossy(a))
                    .unwrap_or_default();
                write!(f, "{name}(db={db}, args={}) @{}", argv.len(), self.now_ms)
            }
            WriteOp::ExpireKeys { keys } => {
                write!(f, "expire({} keys) @{}", keys.len(), self.now_ms)
            }
        }
    }
}

openraft::declare_raft_types!(
    /// raftrocks' Raft types: node ids are replica ids (never reused), the reply of an applied
    /// write is the RESP frame the client gets.
    pub TypeConfig:
        D = WriteRequest,
        R = Frame,
        NodeId = u64,
        Node = NodeInfo,
);

pub type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub type Entry = openraft::alias::EntryOf<TypeConfig>;
pub type Vote = openraft::alias::VoteOf<TypeConfig>;
pub type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;
pub type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
