//! Commands: the table (name, arity, flags, key positions, handler) and the apply-side
//! executor of replicated writes.
//!
//! A command is one of three kinds (see [`Handler`]):
//! - `Conn`: answered by the connection itself (PING, AUTH, CLIENT, INFO, CONFIG, ...);
//! - `Read`: served by the leader of each involved slot group after a read barrier;
//! - `Write`: validated on the leader, proposed to the key's slot group through Raft and
//!   executed by the state machine on every replica; the client gets the apply's reply.
//!
//! Adding a command touches one family file: its handler and its `SPECS` row.

pub mod args;
pub mod bitmap;
pub mod cluster;
pub mod cluster_view;
pub mod coll;
pub mod connection;
pub mod ctx;
pub mod dump;
pub mod error;
pub mod expire;
pub mod glob;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
pub mod object;
pub mod pubsub;
#[cfg(test)]
mod scale_tests;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod transaction;
pub mod zset;

use rustc_hash::FxHashMap;
use std::sync::OnceLock;

use bytes::Bytes;

pub use ctx::ReadCtx;
pub use error::{CmdError, CmdResult};

use crate::node::Node;
use crate::raft::{WriteOp, WriteRequest};
use crate::resp::Frame;
use crate::server::session::Session;
use crate::storage::keyspace::WriteCtx;

/// Finds the key arguments of a command with movable keys (see `CommandSpec::key_finder`).
pub type KeyFinder = fn(&[Bytes]) -> Result<Vec<usize>, CmdError>;

/// Rewrites a blocking command's argv before its first attempt (see `BlockingSpec::prepare`).
pub type PrepareFn = fn(&ReadCtx<'_>, &[Bytes]) -> Result<Vec<Bytes>, CmdError>;

/// How a command executes.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Answered by the connection (may read node state; never proposes).
    Conn(fn(&mut Session, &Node, &[Bytes]) -> Frame),
    /// A read of the keyspace, after a read barrier on the groups of its keys (all groups for
    /// keyless reads such as KEYS or DBSIZE).
    Read(fn(&ReadCtx<'_>, &[Bytes]) -> CmdResult),
    /// A replicated write.
    Write(WriteSpec),
    /// A command that may wait for keys to change (BLPOP, BZPOPMIN, XREAD BLOCK, ...).
    Blocking(&'static BlockingSpec),
}

/// A blocking command: an attempt (a read or a write) that is retried each time one of its
/// keys changes, until it has something to return or the timeout passes.
///
/// The attempt returns `Frame::Null` or `Frame::NullArray` when it would block (and then has
/// changed nothing); that same frame is the reply on timeout. Inside MULTI, or with a timeout
/// that has passed, the attempt runs once and its reply is final.
pub struct BlockingSpec {
    /// Parses the arguments: the keys to wait on and the timeout. Errors exactly as Redis
    /// (`timeout is not a float or out of range`, `timeout is negative`, syntax errors).
    pub parse: fn(&[Bytes]) -> Result<BlockOn, CmdError>,
    /// Rewrites the argv once, on the leader, before the first attempt: XREAD's `$` becomes
    /// the stream's current last ID so that later attempts wait for entries added after the
    /// call. None: the argv is used as given.
    pub prepare: Option<PrepareFn>,
    /// The attempt: `Handler::Read` or `Handler::Write` (run like the plain command would).
    pub attempt: Handler,
}

/// What a blocking command waits on.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockOn {
    /// Argument indices of the keys whose changes wake the client.
    pub keys: Vec<usize>,
    /// None: wait forever (a Redis timeout of 0). `Some(Duration::ZERO)`: never wait, run the
    /// attempt once (XREAD without BLOCK).
    pub timeout: Option<std::time::Duration>,
}

/// A replicated write command.
#[derive(Clone, Copy)]
pub struct WriteSpec {
    /// Rejects malformed arguments on the leader before anything is proposed, with the same
    /// error the apply would give. Must not read the keyspace.
    pub validate: fn(&[Bytes]) -> Result<(), CmdError>,
    /// Runs inside the state machine on every replica: deterministic, uses `ctx.now_ms`.
    /// `db` is the logical database.
    pub apply: fn(&mut WriteCtx<'_>, u8, &[Bytes]) -> CmdResult,
    /// What to do when its keys fall into several slot groups.
    pub split: Split,
}

/// Multi-key writes whose keys span slot groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Refuse with CROSSSLOT (the command must be atomic across its keys).
    Never,
    /// Run one sub-command per group (keys at the spec's step) and add up integer replies
    /// (DEL, UNLINK).
    SumIntegers,
    /// Run one sub-command per group and reply OK (MSET). Each group's part is atomic.
    AllOk,
    /// A keyless command applied by every group (FLUSHALL, FLUSHDB, SWAPDB); replies with
    /// the first group's reply.
    Broadcast,
}

/// One row of the command table.
pub struct CommandSpec {
    /// Lowercase name.
    pub name: &'static str,
    /// Redis arity: N means exactly N arguments including the name, -N means at least N.
    pub arity: i32,
    /// Redis command flags, as COMMAND INFO reports them.
    pub flags: &'static [&'static str],
    /// Key positions (first, last, step); last < 0 counts from the end; 0,0,0 = no keys.
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// For commands whose keys cannot be described by first/last/step (a `numkeys` argument:
    /// ZUNIONSTORE, LMPOP, SINTERCARD; keywords: XREAD ... STREAMS): returns the key indices
    /// of a given argv, or an error reply for a malformed one. Such commands carry the
    /// `movablekeys` flag, as in Redis.
    pub key_finder: Option<KeyFinder>,
    /// ACL categories without '@', as COMMAND INFO reports them.
    pub acl: &'static [&'static str],
    /// COMMAND DOCS: group, summary, since.
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    pub handler: Handler,
}

impl CommandSpec {
    /// A table row of family `group` with keys at fixed positions (first, last, step) and no
    /// key finder: what most families' rows are.
    #[allow(clippy::too_many_arguments)]
    pub const fn row(
        group: &'static str,
        name: &'static str,
        arity: i32,
        flags: &'static [&'static str],
        keys: (i32, i32, i32),
        acl: &'static [&'static str],
        summary: &'static str,
        since: &'static str,
        handler: Handler,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            first_key: keys.0,
            last_key: keys.1,
            step: keys.2,
            key_finder: None,
            acl,
            group,
            summary,
            since,
            handler,
        }
    }

    /// True if `argc` (name included) satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }

    /// Indices of the key arguments in `argv`.
    pub fn key_indices(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 || argc <= self.first_key as usize {
            return Vec::new();
        }
        let last = if self.last_key < 0 {
            argc as i64 + self.last_key as i64
        } else {
            (self.last_key as i64).min(argc as i64 - 1)
        };
        let step = self.step.max(1) as usize;
        let mut out = Vec::new();
        let mut i = self.first_key as usize;
        while (i as i64) <= last {
            out.push(i);
            i += step;
        }
        out
    }

    /// Indices of the key arguments of `argv`: [`Self::key_indices`], or the command's own
    /// `key_finder`.
    pub fn keys_of(&self, argv: &[Bytes]) -> Result<Vec<usize>, CmdError> {
        match self.key_finder {
            Some(find) => find(argv),
            None => Ok(self.key_indices(argv.len())),
        }
    }

    pub fn is_write(&self) -> bool {
        match self.handler {
            Handler::Write(_) => true,
            Handler::Blocking(b) => matches!(b.attempt, Handler::Write(_)),
            _ => false,
        }
    }
}

fn table() -> &'static FxHashMap<&'static str, &'static CommandSpec> {
    static TABLE: OnceLock<FxHashMap<&'static str, &'static CommandSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m = FxHashMap::default();
        for family in [
            string::SPECS,
            keys::SPECS,
            object::SPECS,
            connection::SPECS,
            server::SPECS,
            cluster::SPECS,
            hash::SPECS,
            list::SPECS,
            set::SPECS,
            zset::SPECS,
            bitmap::SPECS,
            hll::SPECS,
            stream::SPECS,
            transaction::SPECS,
            pubsub::SPECS,
            sort::SPECS,
            dump::SPECS,
        ] {
            for spec in family {
                let previous = m.insert(spec.name, spec);
                assert!(
                    previous.is_none(),
                    "invariant: command {} registered twice",
                    spec.name
                );
            }
        }
        m
    })
}

/// Looks a command up by name, case-insensitively, without allocating for normal names.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
    table().get(lower).copied()
}

/// Commands whose first argument is a subcommand.
const CONTAINERS: &[&str] = &["client", "cluster", "command", "config", "pubsub"];

/// How CLIENT LIST names a call: `get`, or `client|info` for container commands.
pub fn display_name(spec: &'static CommandSpec, argv: &[Bytes]) -> std::borrow::Cow<'static, str> {
    match argv.get(1) {
        Some(sub) if CONTAINERS.contains(&spec.name) => std::borrow::Cow::Owned(format!(
            "{}|{}",
            spec.name,
            String::from_utf8_lossy(&sub[..sub.len().min(32)]).to_lowercase()
        )),
        _ => std::borrow::Cow::Borrowed(spec.name),
    }
}

/// Every command, sorted by name.
pub fn all_commands() -> Vec<&'static CommandSpec> {
    let mut v: Vec<_> = table().values().copied().collect();
    v.sort_by_key(|s| s.name);
    v
}

/// The state machine's executor: applies one replicated write (see `raft::state_machine`).
pub fn execute(ctx: &mut WriteCtx<'_>, req: &WriteRequest) -> Frame {
    let result = match &req.op {
        WriteOp::Command { db, argv } => match argv.first().and_then(|n| lookup(n)) {
            Some(CommandSpec {
                handler: Handler::Write(w),
                ..
            })
            // A blocking command's write attempt is proposed under the command's own name.
            | Some(CommandSpec {
                handler:
                    Handler::Blocking(BlockingSpec {
                        attempt: Handler::Write(w),
                        ..
                    }),
                ..
            }) => (w.apply)(ctx, *db, argv),
            _ => Err(CmdError::raw("ERR unknown write command in log entry")),
        },
        WriteOp::ExpireKeys { keys } => expire::apply_expire(ctx, keys),
        // Per-command errors are part of EXEC's reply; they never discard the whole entry.
        WriteOp::Multi { cmds, .. } => return transaction::apply_multi(ctx, cmds),
        // Cluster-map changes belong to group 0, whose executor is `node::cluster::execute`.
        WriteOp::Cluster(_) => Err(CmdError::raw(
            "ERR cluster map change proposed to a slot group",
        )),
    };
    match result {
        Ok(frame) => frame,
        Err(e) => {
            // A failed command changes nothing: drop whatever it staged.
            ctx.discard();
            e.to_frame()
        }
    }
}

/// A replicated write whose keys must all be in one slot group (CROSSSLOT otherwise): the
/// handler of most table rows.
pub const fn atomic_write(
    validate: fn(&[Bytes]) -> Result<(), CmdError>,
    apply: fn(&mut WriteCtx<'_>, u8, &[Bytes]) -> CmdResult,
) -> Handler {
    Handler::Write(WriteSpec {
        validate,
        apply,
        split: Split::Never,
    })
}

/// `validate` for writes that accept anything the arity allows.
pub fn no_validation(_: &[Bytes]) -> Result<(), CmdError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for spec in all_commands() {
            assert_eq!(spec.name, spec.name.to_lowercase());
            assert!(spec.arity != 0, "{}", spec.name);
            if spec.first_key > 0 {
                assert!(spec.step > 0, "{}", spec.name);
            }
            let write_flag = spec.flags.contains(&"write");
            assert_eq!(
                write_flag,
                spec.is_write(),
                "{}: write flag vs handler",
                spec.name
            );
            assert!(lookup(spec.name.to_uppercase().as_bytes()).is_some());
        }
    }

    #[test]
    fn key_positions() {
        let mset = lookup(b"mset").unwrap();
        assert_eq!(mset.key_indices(5), vec![1, 3]);
        let del = lookup(b"DEL").unwrap();
        assert_eq!(del.key_indices(4), vec![1, 2, 3]);
        let get = lookup(b"get").unwrap();
        assert_eq!(get.key_indices(2), vec![1]);
        let ping = lookup(b"ping").unwrap();
        assert!(ping.key_indices(1).is_empty());
    }
}
