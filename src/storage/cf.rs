//! Column families. The names are on disk: never rename one.

/// The node's fixed column families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cf {
    /// Key metadata: `slot|db|key` -> type, expiry, (version, size), and a string's value.
    Meta,
    /// Collection members: `slot|db|keylen|key|version|member` -> member value.
    Subkey,
    /// Sorted-set score index: `slot|db|keylen|key|version|score|member` -> empty.
    ZScore,
    /// Expiry index: `slot|deadline_ms|db|key` -> empty; drives active expiry.
    Expire,
    /// Raft log entries of all groups: `group|index` -> entry.
    RaftLog,
    /// Raft vote, committed and purged ids: `group|kind` -> value.
    RaftMeta,
    /// State-machine bookkeeping (last applied, membership, counters): `group|kind` -> value.
    SmMeta,
}

impl Cf {
    pub const ALL: [Cf; 7] = [
        Cf::Meta,
        Cf::Subkey,
        Cf::ZScore,
        Cf::Expire,
        Cf::RaftLog,
        Cf::RaftMeta,
        Cf::SmMeta,
    ];

    /// Column families that hold keyspace data (all slot-prefixed).
    pub const DATA: [Cf; 4] = [Cf::Meta, Cf::Subkey, Cf::ZScore, Cf::Expire];

    pub fn name(self) -> &'static str {
        match self {
            Cf::Meta => "meta",
            Cf::Subkey => "subkey",
            Cf::ZScore => "zscore",
            Cf::Expire => "expire",
            Cf::RaftLog => "raft_log",
            Cf::RaftMeta => "raft_meta",
            Cf::SmMeta => "sm_meta",
        }
    }
}
