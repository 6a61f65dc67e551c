//! From a parsed command to its reply: lookup, arity, auth, routing to slot groups, read
//! barriers and Raft proposals.
//!
//! Writes are proposed as soon as they are dispatched and their replies awaited later, in
//! order ([`Pending`]), so a pipeline of writes becomes one Raft batch and one fsync. Anything
//! else first waits for the writes before it, so a client always reads its own writes.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

use crate::cluster::{key_slot, GroupId, SlotId};
use crate::cmd::{transaction, CmdError, CommandSpec, Handler, ReadCtx, Split, WriteSpec};
use crate::node::Node;
use crate::raft::{GroupError, WriteOp, WriteRequest};
use crate::resp::Frame;
use crate::storage::keyspace::unix_ms;

use super::clients::Unblock;
use super::session::Session;

type ReplyFuture = Pin<Box<dyn Future<Output = Result<Frame, GroupError>> + Send>>;

/// How long a client waits for a write in a cluster before it is told the outcome is unknown.
/// (A standalone node has no peers to wait for: its writes end when the disk answers.)
const CLUSTER_WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// A reply that is not known yet (proposed writes) or known already but must wait its turn.
pub enum Pending {
    Ready(Frame),
    Proposed {
        slot: SlotId,
        parts: Vec<ReplyFuture>,
        split: Split,
    },
}

impl Pending {
    /// Waits for the reply.
    pub async fn resolve(self, node: &Node) -> Frame {
        match self {
            Pending::Ready(f) => f,
            Pending::Proposed { slot, parts, split } => {
                let mut replies = Vec::with_capacity(parts.len());
                for p in parts {
                    let outcome = if node.cluster.is_some() {
                        // A leader cut off from its majority never commits and may not
                        // notice for a long time; the client gets an answer instead of
                        // waiting forever. The entry may still commit later: the error says
                        // so, and nothing retries it.
                        match tokio::time::timeout(CLUSTER_WRITE_TIMEOUT, p).await {
                            Ok(r) => r,
                            Err(_) => return Frame::error(
                                "ERR write outcome unknown: not committed within 15 s (is this node cut off from the rest of the cluster?); check before retrying",
                            ),
                        }
                    } else {
                        p.await
                    };
                    match outcome {
                        Ok(f) => replies.push(f),
                        Err(e) => return group_error(node, slot, e).to_frame(),
                    }
                }
                combine(split, replies)
            }
        }
    }
}

fn combine(split: Split, mut replies: Vec<Frame>) -> Frame {
    if replies.len() == 1 {
        return replies.pop().unwrap_or(Frame::Null);
    }
    if let Some(err) = replies.iter().find(|f| f.is_error()) {
        return err.clone();
    }
    match split {
        Split::SumIntegers => Frame::Integer(
            replies
                .iter()
                .map(|f| if let Frame::Integer(i) = f { *i } else { 0 })
                .sum(),
        ),
        Split::AllOk => Frame::ok(),
        Split::Broadcast | Split::Never => replies.into_iter().next().unwrap_or(Frame::Null),
    }
}

/// This node's replica of `gid` (the group of `slot`), or the redirect a client gets when this
/// node hosts none: MOVED to the leader the cluster map knows, else CLUSTERDOWN.
pub fn local_group(
    node: &Node,
    gid: GroupId,
    slot: SlotId,
) -> Result<&std::sync::Arc<crate::raft::Group>, CmdError> {
    if let Some(g) = node.group(gid) {
        return Ok(g);
    }
    let Some(c) = &node.cluster else {
        return Err(CmdError::ClusterDown);
    };
    let map = c.map();
    match c.leader_node(gid, None).and_then(|n| map.resp_addr(n)) {
        Some(addr) => Err(CmdError::Moved {
            slot: slot.0,
            addr: addr.to_string(),
        }),
        None => Err(CmdError::ClusterDown),
    }
}

/// In a cluster, a command's keys must share one slot, as in Redis Cluster (a client routes
/// a command by its first key; the others must be served by the same node in every layout).
fn check_same_slot(node: &Node, keys: &[(usize, SlotId, GroupId)]) -> Result<(), CmdError> {
    if node.cluster.is_some() && keys.iter().any(|k| k.1 != keys[0].1) {
        return Err(CmdError::CrossSlot);
    }
    Ok(())
}

/// Maps a group's refusal to the Redis Cluster redirect or error a client understands.
pub fn group_error(node: &Node, slot: SlotId, e: GroupError) -> CmdError {
    let me = node.config.announce_addr();
    match e {
        GroupError::NotLeader { replica, node: n } => {
            let addr = match &node.cluster {
                Some(c) => c.resp_addr_of_replica(replica),
                None => Some(n.resp_addr),
            };
            match addr {
                Some(addr) if !addr.is_empty() && addr != me => {
                    CmdError::Moved { slot: slot.0, addr }
                }
                _ => CmdError::ClusterDown,
            }
        }
        GroupError::NoLeader => CmdError::ClusterDown,
        GroupError::Unknown(m) => {
            tracing::warn!(%m, "write outcome unknown after a leader change");
            CmdError::raw(
                "ERR write outcome unknown: the slot group changed leader; check before retrying",
            )
        }
        GroupError::Fatal(m) => {
            tracing::error!(%m, "raft group failed");
            CmdError::raw("ERR slot group unavailable (storage failure on this node; see its log)")
        }
    }
}

/// What the connection must do with a dispatched command.
pub enum Dispatch {
    /// Wait for earlier pending replies, then run this (reads and connection commands).
    Now(&'static CommandSpec),
    /// Queue this reply behind earlier ones without waiting.
    Queue(Pending),
}

/// Validates a command (`spec` is its table row, looked up once by the caller) and, for writes,
/// proposes it. Errors that need no ordering with earlier commands are queued as ready replies.
pub async fn dispatch(
    node: &Node,
    session: &mut Session,
    spec: Option<&'static CommandSpec>,
    argv: &[Bytes],
) -> Dispatch {
    let refused = |session: &mut Session, reply: Frame| {
        // Inside MULTI a refused command dooms the transaction (EXECABORT).
        if let Some(m) = session.multi.as_mut() {
            m.aborted = true;
        }
        Dispatch::Queue(Pending::Ready(reply))
    };
    let Some(spec) = spec else {
        return refused(session, unknown_command(argv));
    };
    if !spec.arity_ok(argv.len()) {
        return refused(session, CmdError::Arity(spec.name.to_string()).to_frame());
    }
    if !session.authenticated && !spec.flags.contains(&"no_auth") {
        return refused(session, Frame::error("NOAUTH Authentication required."));
    }
    if session.multi.is_some() && transaction::refused_in_multi(spec) {
        return refused(
            session,
            Frame::error("ERR Command not allowed inside a transaction"),
        );
    }
    if let Some(m) = session.multi.as_mut() {
        if !transaction::runs_immediately_in_multi(spec) {
            m.queued.push((spec, argv.to_vec()));
            return Dispatch::Queue(Pending::Ready(Frame::simple("QUEUED")));
        }
    }
    match spec.handler {
        Handler::Write(w) => Dispatch::Queue(propose(node, session, spec, w, argv).await),
        Handler::Read(_) | Handler::Conn(_) | Handler::Blocking(_) => Dispatch::Now(spec),
    }
}

/// Redis 7's reply to an unknown command, quoting (at most 128 bytes of) each argument.
fn unknown_command(argv: &[Bytes]) -> Frame {
    let shown = |b: &Bytes| {
        let s = String::from_utf8_lossy(&b[..b.len().min(128)]).into_owned();
        s.replace(['\r', '\n'], " ")
    };
    let mut msg = format!(
        "ERR unknown command '{}', with args beginning with: ",
        shown(&argv[0])
    );
    // Like Redis: quote arguments while the list is under 128 bytes, each cut to what is left.
    let mut args = String::new();
    for a in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let budget = 128 - args.len();
        let s = String::from_utf8_lossy(&a[..a.len().min(budget)]).replace(['\r', '\n'], " ");
        args.push_str(&format!("'{s}' "));
    }
    msg.push_str(&args);
    Frame::Error(msg.into())
}

/// The slot group of each key argument, with the first key's slot.
fn key_groups(
    node: &Node,
    spec: &CommandSpec,
    argv: &[Bytes],
) -> Result<Vec<(usize, SlotId, GroupId)>, CmdError> {
    Ok(spec
        .keys_of(argv)?
        .into_iter()
        .filter(|&i| i < argv.len())
        .map(|i| {
            let slot = key_slot(&argv[i]);
            (i, slot, node.topology.group_of(slot))
        })
        .collect())
}

async fn propose(
    node: &Node,
    session: &Session,
    spec: &CommandSpec,
    w: WriteSpec,
    argv: &[Bytes],
) -> Pending {
    if let Err(e) = (w.validate)(argv) {
        return Pending::Ready(e.to_frame());
    }
    let now_ms = unix_ms();
    let max_value_len = node.runtime.read().proto_max_bulk_len as u64;
    let db = session.db;
    let keys = match key_groups(node, spec, argv) {
        Ok(k) => k,
        Err(e) => return Pending::Ready(e.to_frame()),
    };
    if let Err(e) = check_same_slot(node, &keys) {
        return Pending::Ready(e.to_frame());
    }
    let first_slot = keys.first().map(|k| k.1).unwrap_or(SlotId(0));

    // Which groups get which argv.
    let mut jobs: Vec<(GroupId, Vec<Bytes>)> = Vec::new();
    if keys.is_empty() {
        let served = node.served_groups(false);
        if served.is_empty() {
            // A cluster node that leads no group is a replica for every slot it hosts.
            return Pending::Ready(Frame::error(
                "READONLY You can't write against a read only replica.",
            ));
        }
        if w.split == Split::Broadcast {
            jobs = served.iter().map(|g| (g.id, argv.to_vec())).collect();
        } else {
            // A keyless write that is not broadcast runs on the first group.
            jobs.push((served[0].id, argv.to_vec()));
        }
    } else if keys.iter().all(|k| k.2 == keys[0].2) {
        jobs.push((keys[0].2, argv.to_vec()));
    } else {
        match w.split {
            Split::SumIntegers | Split::AllOk => {
                let step = spec.step.max(1) as usize;
                for (i, _, g) in &keys {
                    let job = match jobs.iter_mut().find(|(jg, _)| jg == g) {
                        Some(j) => j,
                        None => {
                            jobs.push((*g, argv[..spec.first_key as usize].to_vec()));
                            jobs.last_mut().expect("just pushed")
                        }
                    };
                    job.1.extend_from_slice(&argv[*i..*i + step]);
                }
            }
            Split::Never | Split::Broadcast => {
                return Pending::Ready(CmdError::CrossSlot.to_frame())
            }
        }
    }

    let mut parts: Vec<ReplyFuture> = Vec::with_capacity(jobs.len());
    for (gid, argv) in jobs {
        let req = WriteRequest {
            now_ms,
            max_value_len,
            op: WriteOp::Command { db, argv },
        };
        let group = match local_group(node, gid, first_slot) {
            Ok(g) => g,
            Err(e) => return Pending::Ready(e.to_frame()),
        };
        match group.propose(req).await {
            Ok(fut) => parts.push(Box::pin(fut)),
            // Earlier parts may already be proposed; their effects stand (as with a
            // partially failed multi-group DEL), and the client sees the error.
            Err(e) => return Pending::Ready(group_error(node, first_slot, e).to_frame()),
        }
    }
    Pending::Proposed {
        slot: first_slot,
        parts,
        split: w.split,
    }
}

/// Runs a read or connection command (after earlier pending replies are resolved).
pub async fn run_now(
    node: &Node,
    session: &mut Session,
    spec: &'static CommandSpec,
    argv: &[Bytes],
) -> Frame {
    match spec.handler {
        Handler::Conn(f) => match spec.name {
            "exec" => transaction::exec(node, session).await,
            "watch" => transaction::watch(node, session, argv).await,
            "reset" => {
                session.multi = None;
                session.watched.clear();
                f(session, node, argv)
            }
            _ => f(session, node, argv),
        },
        Handler::Read(f) => run_read(node, session, spec, f, argv).await,
        Handler::Write(_) => Frame::error("ERR internal: write dispatched as read"),
        Handler::Blocking(b) => run_blocking(node, session, spec, b, argv).await,
    }
}

/// Runs a read after a read barrier on every group it touches.
async fn run_read(
    node: &Node,
    session: &mut Session,
    spec: &'static CommandSpec,
    f: fn(&ReadCtx<'_>, &[Bytes]) -> crate::cmd::CmdResult,
    argv: &[Bytes],
) -> Frame {
    // Reads may span groups: every group is local, and each is barriered below.
    let keys = match key_groups(node, spec, argv) {
        Ok(k) => k,
        Err(e) => return e.to_frame(),
    };
    if let Err(e) = check_same_slot(node, &keys) {
        return e.to_frame();
    }
    let mut groups: Vec<GroupId> = keys.iter().map(|k| k.2).collect();
    if spec.first_key == 0 && spec.key_finder.is_none() {
        groups = node
            .served_groups(session.readonly)
            .iter()
            .map(|g| g.id)
            .collect();
    }
    groups.sort();
    groups.dedup();
    let slot = keys.first().map(|k| k.1).unwrap_or(SlotId(0));
    for g in groups {
        let group = match local_group(node, g, slot) {
            Ok(g) => g,
            Err(e) => return e.to_frame(),
        };
        // READONLY: a follower serves what it has applied (possibly stale, as a Redis
        // replica would); a leader still confirms it leads.
        if session.readonly && !group.is_leader() {
            continue;
        }
        if let Err(e) = group.read_barrier().await {
            return group_error(node, slot, e).to_frame();
        }
    }
    // One point read is atomic by itself; anything that reads several entries (several keys,
    // a collection's metadata and members) reads one snapshot, as Redis' single thread would.
    let single_string_key = keys.len() == 1 && matches!(spec.group, "string" | "generic");
    let ctx = if single_string_key {
        ReadCtx::on_node(node, session.db, unix_ms())
    } else {
        ReadCtx::on_node_consistent(node, session.db, unix_ms())
    };
    f(&ctx, argv).unwrap_or_else(|e| e.to_frame())
}

/// Runs a blocking command: its attempt, then (while the attempt would block) waits for one
/// of its keys to change and tries again, until it gets a reply, the timeout passes, or this
/// node stops leading the keys' group.
async fn run_blocking(
    node: &Node,
    session: &mut Session,
    spec: &'static CommandSpec,
    b: &'static crate::cmd::BlockingSpec,
    argv: &[Bytes],
) -> Frame {
    let on = match (b.parse)(argv) {
        Ok(on) => on,
        Err(e) => return e.to_frame(),
    };
    let argv = match b.prepare {
        Some(prepare) => {
            let slot = on
                .keys
                .first()
                .and_then(|&i| argv.get(i))
                .map(|k| key_slot(k))
                .unwrap_or(SlotId(0));
            let group = match local_group(node, node.topology.group_of(slot), slot) {
                Ok(g) => g,
                Err(e) => return e.to_frame(),
            };
            if let Err(e) = group.read_barrier().await {
                return group_error(node, slot, e).to_frame();
            }
            let ctx = ReadCtx::on_node(node, session.db, unix_ms());
            match prepare(&ctx, argv) {
                Ok(a) => a,
                Err(e) => return e.to_frame(),
            }
        }
        None => argv.to_vec(),
    };
    let keys: Vec<Bytes> = on
        .keys
        .iter()
        .filter_map(|&i| argv.get(i).cloned())
        .collect();
    let once = on.timeout == Some(std::time::Duration::ZERO) || keys.is_empty();
    let deadline = on.timeout.map(|t| tokio::time::Instant::now() + t);
    let consumes = matches!(b.attempt, Handler::Write(_));
    let first_slot = key_slot(keys.first().map(|k| &k[..]).unwrap_or(b""));
    let group = match local_group(node, node.topology.group_of(first_slot), first_slot) {
        Ok(g) => g.clone(),
        Err(e) => return e.to_frame(),
    };
    let mut registration: Option<super::blocking::Registration> = None;
    let mut blocked: Option<BlockedGuard> = None;
    loop {
        if !once {
            // Registered before the attempt: a change landing after it wakes us. The
            // physical db is looked up each round (SWAPDB moves it).
            let wanted: Vec<super::blocking::WaitKey> = keys
                .iter()
                .filter_map(|k| {
                    let group = node.group_of_slot(key_slot(k))?;
                    Some((
                        group.id.0,
                        group.shared.keyspace.physical_db(session.db),
                        k.clone(),
                    ))
                })
                .collect();
            if registration.as_ref().map(|r| r.keys()) != Some(&wanted[..]) {
                // Leave the old queues before joining the new ones.
                drop(registration.take());
                registration = Some(node.key_events.register(wanted, consumes));
            }
        }
        let reply = match b.attempt {
            Handler::Write(w) => {
                propose(node, session, spec, w, &argv)
                    .await
                    .resolve(node)
                    .await
            }
            Handler::Read(f) => run_read(node, session, spec, f, &argv).await,
            _ => {
                return Frame::error(
                    "ERR internal: blocking command without a read or write attempt",
                )
            }
        };
        let would_block = matches!(reply, Frame::Null | Frame::NullArray);
        let Some(reg) = registration.as_ref().filter(|_| would_block && !once) else {
            return reply;
        };
        // Blocked from the first empty attempt until the command returns (CLIENT LIST `b`,
        // CLIENT UNBLOCK); the guard clears it on every way out.
        let info = &blocked
            .get_or_insert_with(|| BlockedGuard::enter(session.info.clone()))
            .0;
        tokio::select! {
            _ = reg.changed() => {}
            _ = sleep_until_opt(deadline) => return reply,
            e = leadership_lost(&group) => return group_error(node, first_slot, e).to_frame(),
            how = info.unblocked() => return match how {
                Unblock::Timeout => reply,
                Unblock::Error => Frame::error("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
            },
        }
    }
}

/// Marks a client blocked while alive.
struct BlockedGuard(std::sync::Arc<super::clients::ClientInfo>);

impl BlockedGuard {
    fn enter(info: std::sync::Arc<super::clients::ClientInfo>) -> BlockedGuard {
        info.set_blocked(true);
        BlockedGuard(info)
    }
}

impl Drop for BlockedGuard {
    fn drop(&mut self) {
        self.0.set_blocked(false);
    }
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Resolves once this node no longer leads `group` (checked every second: a blocked client
/// then gets a redirect instead of waiting on a replica that will never serve it).
async fn leadership_lost(group: &crate::raft::Group) -> GroupError {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        if let Err(e) = group.leader() {
            return e;
        }
    }
}
