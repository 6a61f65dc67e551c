//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH.
//!
//! Between MULTI and EXEC the connection queues commands (`server::dispatch` checks that each
//! exists and has the right arity; a refused one makes EXEC reply EXECABORT). EXEC sends the
//! queued data commands (writes, reads, blocking commands) as ONE Raft entry
//! (`WriteOp::Multi`) to the slot group of their keys, with the WATCHed keys' fingerprints;
//! the state machine checks the fingerprints and runs the commands against one write batch
//! ([`apply_multi`]), so the transaction is atomic and isolated on every replica. Connection
//! commands (PING, ECHO, SELECT, CLIENT ...) do not go into the entry: they run on the
//! connection once the entry's reply is known, and their replies take their place in EXEC's
//! array. SELECT's effect on the database of later queued commands is worked out when the
//! entry is built. See docs/transactions.md.

use bytes::Bytes;

use super::args::parse_i64_opt;
use super::{lookup, CmdError, CmdResult, CommandSpec, Handler, ReadCtx, Split};
use crate::cluster::{key_slot, GroupId, SlotId};
use crate::node::Node;
use crate::raft::types::{watch_fingerprint, WatchedKey};
use crate::raft::{WriteOp, WriteRequest};
use crate::resp::Frame;
use crate::server::dispatch::{group_error, local_group};
use crate::server::session::{MultiState, Session};
use crate::storage::keys::meta_key;
use crate::storage::keyspace::{unix_ms, KeyspaceState, WriteCtx, DATABASES};
use crate::storage::{Cf, Metadata};

/// Commands a connection runs at once even between MULTI and EXEC.
pub fn runs_immediately_in_multi(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "multi" | "exec" | "discard" | "watch" | "quit" | "reset"
    )
}

/// Commands refused while queueing: subscriptions answer through the pub/sub outbox, not as
/// a reply EXEC could collect. (Redis 7.0 accepts them inside MULTI; refusing is the honest
/// alternative here.)
pub fn refused_in_multi(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe" | "ssubscribe" | "sunsubscribe"
    )
}

fn multi(session: &mut Session, _: &Node, _: &[Bytes]) -> Frame {
    if session.multi.is_some() {
        return Frame::error("ERR MULTI calls can not be nested");
    }
    session.multi = Some(MultiState::default());
    Frame::ok()
}

fn discard(session: &mut Session, _: &Node, _: &[Bytes]) -> Frame {
    if session.multi.take().is_none() {
        return Frame::error("ERR DISCARD without MULTI");
    }
    session.watched.clear();
    Frame::ok()
}

fn unwatch(session: &mut Session, _: &Node, _: &[Bytes]) -> Frame {
    session.watched.clear();
    Frame::ok()
}

/// EXEC and WATCH need to wait (a proposal, a read barrier): `server::dispatch` runs them
/// through [`exec`] and [`watch`]; this handler is never reached.
fn async_only(_: &mut Session, _: &Node, _: &[Bytes]) -> Frame {
    Frame::error("ERR internal: transaction command dispatched synchronously")
}

/// The fingerprint of `key` (logical db `db`) on this node now, for WATCH. Must match what
/// the state machine computes at EXEC for an unchanged key (raft::state_machine).
fn fingerprint_on_node(node: &Node, db: u8, key: &[u8], now_ms: u64) -> Result<u64, CmdError> {
    let slot = key_slot(key);
    let group = local_group(node, node.topology.group_of(slot), slot)?;
    // Read the epoch before the data: a FLUSHDB applied in between then shows as a changed
    // epoch at EXEC (a spurious abort) rather than going unnoticed.
    let epoch = group
        .shared
        .watch_epoch
        .load(std::sync::atomic::Ordering::SeqCst);
    let pdb = group.shared.keyspace.physical_db(db);
    let raw = node.storage.get(Cf::Meta, &meta_key(slot, pdb, key))?;
    let live = raw.filter(|r| {
        Metadata::peek(r)
            .map(|(_, exp)| exp == 0 || exp > now_ms)
            .unwrap_or(false)
    });
    Ok(watch_fingerprint(epoch, pdb, live.as_deref()))
}

/// WATCH key [key ...]: remembers each key's fingerprint, after a read barrier on its group.
pub async fn watch(node: &Node, session: &mut Session, argv: &[Bytes]) -> Frame {
    if session.multi.is_some() {
        return Frame::error("ERR WATCH inside MULTI is not allowed");
    }
    for key in &argv[1..] {
        let slot = key_slot(key);
        let group = match local_group(node, node.topology.group_of(slot), slot) {
            Ok(g) => g,
            Err(e) => return e.to_frame(),
        };
        if let Err(e) = group.read_barrier().await {
            return group_error(node, slot, e).to_frame();
        }
        let db = session.db;
        if session.watched.iter().any(|w| w.db == db && w.key == *key) {
            continue;
        }
        match fingerprint_on_node(node, db, key, unix_ms()) {
            Ok(fingerprint) => session.watched.push(WatchedKey {
                db,
                key: key.clone(),
                fingerprint,
            }),
            Err(e) => return e.to_frame(),
        }
    }
    Frame::ok()
}

/// The database SELECT would switch to, or None if it fails (it then changes nothing).
fn selected_db(argv: &[Bytes]) -> Option<u8> {
    let db = parse_i64_opt(argv.get(1)?)?;
    (0..DATABASES as i64).contains(&db).then_some(db as u8)
}

/// EXEC: runs the queued transaction. Always ends it and forgets the watches.
pub async fn exec(node: &Node, session: &mut Session) -> Frame {
    let Some(state) = session.multi.take() else {
        return Frame::error("ERR EXEC without MULTI");
    };
    let watched = std::mem::take(&mut session.watched);
    if state.aborted {
        return Frame::error("EXECABORT Transaction discarded because of previous errors.");
    }

    // The entry's commands with the database each runs in (SELECT moves later ones), and
    // the group all keys must share.
    let mut db = session.db;
    let mut cmds: Vec<(u8, Vec<Bytes>)> = Vec::new();
    let mut group: Option<(GroupId, SlotId)> = None;
    let mut crossslot = false;
    let mut note_key = |key: &[u8], group: &mut Option<(GroupId, SlotId)>| {
        let slot = key_slot(key);
        let g = node.topology.group_of(slot);
        match group {
            None => *group = Some((g, slot)),
            Some((first, _)) if *first != g => crossslot = true,
            Some(_) => {}
        }
    };
    for w in &watched {
        note_key(&w.key, &mut group);
    }
    for (spec, argv) in &state.queued {
        match spec.handler {
            Handler::Conn(_) => {
                if spec.name == "select" {
                    db = selected_db(argv).unwrap_or(db);
                }
            }
            Handler::Write(w) if w.split == Split::Broadcast && node.groups.len() > 1 => {
                // The entry reaches one group; FLUSHALL and friends must reach them all.
                return Frame::Error(
                    format!(
                        "ERR {} inside MULTI is not supported with several slot groups",
                        spec.name.to_uppercase()
                    )
                    .into(),
                );
            }
            _ => {
                // A malformed movable-keys command fails inside the entry with this error.
                for i in spec.keys_of(argv).unwrap_or_default() {
                    if let Some(k) = argv.get(i) {
                        note_key(k, &mut group);
                    }
                }
                cmds.push((db, argv.clone()));
            }
        }
    }
    if crossslot {
        return CmdError::CrossSlot.to_frame();
    }

    let mut data_replies = if cmds.is_empty() && watched.is_empty() {
        Vec::new().into_iter()
    } else {
        let Some((gid, slot)) =
            group.or_else(|| node.served_groups(false).first().map(|g| (g.id, SlotId(0))))
        else {
            return Frame::error("READONLY You can't write against a read only replica.");
        };
        let group = match local_group(node, gid, slot) {
            Ok(g) => g,
            Err(e) => return e.to_frame(),
        };
        let req = WriteRequest {
            now_ms: unix_ms(),
            max_value_len: node.runtime.read().proto_max_bulk_len as u64,
            op: WriteOp::Multi { cmds, watched },
        };
        let reply = match group.propose(req).await {
            Ok(fut) => fut.await,
            Err(e) => Err(e),
        };
        match reply {
            Ok(Frame::Array(items)) => items.into_iter(),
            // NullArray: a watched key changed; nothing ran.
            Ok(other) => return other,
            Err(e) => return group_error(node, slot, e).to_frame(),
        }
    };

    // Splice the connection commands' replies in, running them in order now.
    let mut out = Vec::with_capacity(state.queued.len());
    for (spec, argv) in &state.queued {
        match spec.handler {
            Handler::Conn(f) => out.push(f(session, node, argv)),
            _ => out.push(data_replies.next().unwrap_or_else(|| {
                Frame::error("ERR internal: missing reply of a transaction command")
            })),
        }
    }
    Frame::Array(out)
}

/// What a command's partial changes are rolled back to when it fails inside EXEC.
struct Savepoint {
    overlay: usize,
    state: KeyspaceState,
    touched: usize,
    touched_all: bool,
}

impl Savepoint {
    fn take(ctx: &WriteCtx<'_>) -> Savepoint {
        Savepoint {
            overlay: ctx.overlay.savepoint(),
            state: ctx.state.clone(),
            touched: ctx.touched.len(),
            touched_all: ctx.touched_all,
        }
    }

    fn restore(self, ctx: &mut WriteCtx<'_>) {
        ctx.overlay.rollback_to(self.overlay);
        ctx.state = self.state;
        ctx.touched.truncate(self.touched);
        ctx.touched_all = self.touched_all;
    }
}

/// Runs one queued command inside the EXEC entry.
fn run_one(ctx: &mut WriteCtx<'_>, db: u8, argv: &[Bytes]) -> CmdResult {
    let spec = argv
        .first()
        .and_then(|n| lookup(n))
        .ok_or_else(|| CmdError::raw("ERR unknown command in transaction"))?;
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::Arity(spec.name.to_string()));
    }
    let handler = match spec.handler {
        // Inside a transaction a blocking command never waits: its attempt runs once.
        Handler::Blocking(b) => {
            (b.parse)(argv)?;
            b.attempt
        }
        h => h,
    };
    match handler {
        Handler::Write(w) => (w.apply)(ctx, db, argv),
        Handler::Read(f) => f(&ReadCtx::in_apply(ctx, db), argv),
        _ => Err(CmdError::raw(
            "ERR this command is not supported inside MULTI",
        )),
    }
}

/// The state machine's side of EXEC (the watches already held): runs each command in order
/// through the entry's pending writes. A command that fails drops its own changes only and
/// its error takes its place in the reply, as in Redis.
pub fn apply_multi(ctx: &mut WriteCtx<'_>, cmds: &[(u8, Vec<Bytes>)]) -> Frame {
    let mut out = Vec::with_capacity(cmds.len());
    for (db, argv) in cmds {
        let sp = Savepoint::take(ctx);
        match run_one(ctx, *db, argv) {
            Ok(f) => out.push(f),
            Err(e) => {
                sp.restore(ctx);
                out.push(e.to_frame());
            }
        }
    }
    Frame::Array(out)
}

const TXN_FLAGS: &[&str] = &["noscript", "loading", "stale", "fast", "allow_busy"];

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: TXN_FLAGS,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "transaction"],
        group: "transactions",
        summary: "Mark the start of a transaction block",
        since: "1.2.0",
        handler: Handler::Conn(multi),
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: &["noscript", "loading", "stale", "skip_slowlog"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["slow", "transaction"],
        group: "transactions",
        summary: "Execute all commands issued after MULTI",
        since: "1.2.0",
        handler: Handler::Conn(async_only),
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: TXN_FLAGS,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "transaction"],
        group: "transactions",
        summary: "Discard all commands issued after MULTI",
        since: "2.0.0",
        handler: Handler::Conn(discard),
    },
    CommandSpec {
        name: "watch",
        arity: -2,
        flags: TXN_FLAGS,
        first_key: 1,
        last_key: -1,
        step: 1,
        key_finder: None,
        acl: &["fast", "transaction"],
        group: "transactions",
        summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
        since: "2.2.0",
        handler: Handler::Conn(async_only),
    },
    CommandSpec {
        name: "unwatch",
        arity: 1,
        flags: TXN_FLAGS,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "transaction"],
        group: "transactions",
        summary: "Forget about all watched keys",
        since: "2.2.0",
        handler: Handler::Conn(unwatch),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Storage;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn argv(parts: &[&str]) -> Vec<Bytes> {
        parts.iter().map(|p| b(p)).collect()
    }

    #[test]
    fn a_failing_command_drops_only_its_own_changes() {
        let (_dir, s) = Storage::open_temp();
        let mut ctx = WriteCtx::new(&s, KeyspaceState::default(), 1000, 1, vec![(0, 16383)]);
        let cmds = vec![
            (0, argv(&["SET", "a", "1"])),
            (0, argv(&["INCR", "nope", "x"])),
            (0, argv(&["SET", "s", "str"])),
            (0, argv(&["INCR", "s"])),
            (0, argv(&["GET", "a"])),
            (1, argv(&["GET", "a"])),
            (0, argv(&["INCR", "a"])),
        ];
        let reply = apply_multi(&mut ctx, &cmds);
        let Frame::Array(items) = reply else {
            panic!("not an array: {reply:?}")
        };
        assert_eq!(items[0], Frame::ok());
        assert!(items[1].is_error());
        assert_eq!(items[2], Frame::ok());
        assert!(items[3].is_error());
        assert_eq!(items[4], Frame::Bulk(b("1")));
        assert_eq!(items[5], Frame::Null);
        assert_eq!(items[6], Frame::Integer(2));
        assert_eq!(ctx.state.counters.keys[0], 2);
        assert_eq!(ctx.load(0, b"s").unwrap().unwrap().payload, b"str".to_vec());
    }

    #[test]
    fn select_is_simulated_for_later_commands() {
        assert_eq!(selected_db(&argv(&["SELECT", "3"])), Some(3));
        assert_eq!(selected_db(&argv(&["SELECT", "16"])), None);
        assert_eq!(selected_db(&argv(&["SELECT", "x"])), None);
    }
}
