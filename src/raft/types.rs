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
    /// EXEC of a MULTI transaction: ONE entry, so nothing interleaves with it and it is applied
    /// (and lost in a crash) as a whole. The state machine first recomputes the fingerprint of
    /// every watched key: if any differs from the one taken at WATCH time, nothing is executed
    /// and the reply is a null array. Otherwise each `(logical db, argv)` runs in order and
    /// the reply is the array of their replies; a command that fails drops only its own
    /// changes (Redis never rolls back the others).
    Multi {
        cmds: Vec<(u8, Vec<Bytes>)>,
        watched: Vec<WatchedKey>,
    },
    /// A change to the cluster map (group 0 only; see `cluster::map`).
    Cluster(crate::cluster::map::ClusterOp),
}

/// A key a transaction WATCHes, as seen on the leader when WATCH ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedKey {
    /// Logical database of the WATCH.
    pub db: u8,
    pub key: Bytes,
    /// [`watch_fingerprint`] of the key at WATCH time.
    pub fingerprint: u64,
}

/// What WATCH compares: the group's flush epoch (the log index of its last FLUSHDB, FLUSHALL
/// or SWAPDB), the physical database the key lives in (SWAPDB changes it), and the key's
/// live metadata bytes (`None`: absent or expired). Collection metadata carries the log index
/// of its last change (`modified`), so any member change shows; a string's metadata is its
/// type, expiry and value, so rewriting the same value and expiry is not seen as a change.
///
/// A fixed algorithm (not std's hasher): every replica must compute the same number.
pub fn watch_fingerprint(epoch: u64, pdb: u8, live_meta: Option<&[u8]>) -> u64 {
    fn mix(h: u64, w: u64) -> u64 {
        let h = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 29)
    }
    let mut h = mix(0x243f_6a88_85a3_08d3, epoch);
    h = mix(h, pdb as u64);
    match live_meta {
        None => mix(h, u64::MAX),
        Some(raw) => {
            h = mix(h, raw.len() as u64);
            let mut chunks = raw.chunks_exact(8);
            for c in &mut chunks {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                h = mix(h, u64::from_le_bytes(w));
            }
            let mut w = [0u8; 8];
            w[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
            mix(h, u64::from_le_bytes(w))
        }
    }
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
            WriteOp::Multi { cmds, watched } => write!(
                f,
                "exec({} commands, {} watched) @{}",
                cmds.len(),
                watched.len(),
                self.now_ms
            ),
            WriteOp::Cluster(op) => write!(f, "cluster({op:?}) @{}", self.now_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_sees_every_input() {
        let base = watch_fingerprint(1, 0, Some(b"\x01abc"));
        assert_eq!(base, watch_fingerprint(1, 0, Some(b"\x01abc")));
        assert_ne!(base, watch_fingerprint(2, 0, Some(b"\x01abc")));
        assert_ne!(base, watch_fingerprint(1, 1, Some(b"\x01abc")));
        assert_ne!(base, watch_fingerprint(1, 0, Some(b"\x01abd")));
        assert_ne!(base, watch_fingerprint(1, 0, Some(b"\x01abc\0")));
        assert_ne!(base, watch_fingerprint(1, 0, None));
        assert_ne!(
            watch_fingerprint(0, 0, Some(b"")),
            watch_fingerprint(0, 0, None)
        );
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
