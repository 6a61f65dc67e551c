//! Pub/sub: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH PUBSUB SSUBSCRIBE SUNSUBSCRIBE
//! SPUBLISH.
//!
//! All of them are connection commands: nothing goes through Raft (see
//! `server::pubsub` for the registry and delivery). The (un)subscribe commands answer through
//! the client's outbox — one confirmation per channel, in order with the messages — so their
//! own reply is suppressed.

use bytes::Bytes;

use super::args::is;
use super::server::{help_frame, unknown_subcommand};
use super::{CmdError, CommandSpec, Handler};
use crate::cluster::key_slot;
use crate::node::Node;
use crate::resp::Frame;
use crate::server::pubsub::Kind;
use crate::server::session::Session;

/// `CROSSSLOT` unless every shard channel hashes to the same slot (as Redis Cluster checks
/// SSUBSCRIBE's key specs).
fn same_slot(channels: &[Bytes]) -> Result<(), Frame> {
    let mut slots = channels.iter().map(|c| key_slot(c));
    match slots.next() {
        Some(first) if slots.any(|s| s != first) => Err(CmdError::CrossSlot.to_frame()),
        _ => Ok(()),
    }
}

/// Mirrors the client's subscription counts into CLIENT LIST.
pub fn show_counts(session: &Session) {
    let (c, p, s) = session.pubsub.counts();
    for (slot, n) in session.info.subscriptions.iter().zip([c, p, s]) {
        slot.store(n as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

fn subscribe_kind(session: &mut Session, node: &Node, kind: Kind, args: &[Bytes]) -> Frame {
    if kind == Kind::Shard {
        if let Err(e) = same_slot(&args[1..]) {
            return e;
        }
    }
    let id = session.id;
    session.pubsub.subscribe(&node.pubsub, id, kind, &args[1..]);
    show_counts(session);
    session.suppress_reply = true;
    Frame::ok()
}

fn unsubscribe_kind(session: &mut Session, node: &Node, kind: Kind, args: &[Bytes]) -> Frame {
    if kind == Kind::Shard {
        if let Err(e) = same_slot(&args[1..]) {
            return e;
        }
    }
    let id = session.id;
    session
        .pubsub
        .unsubscribe(&node.pubsub, id, kind, &args[1..]);
    show_counts(session);
    session.suppress_reply = true;
    Frame::ok()
}

fn subscribe(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    subscribe_kind(session, node, Kind::Channel, args)
}

fn psubscribe(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    subscribe_kind(session, node, Kind::Pattern, args)
}

fn ssubscribe(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    subscribe_kind(session, node, Kind::Shard, args)
}

fn unsubscribe(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    unsubscribe_kind(session, node, Kind::Channel, args)
}

fn punsubscribe(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    unsubscribe_kind(session, node, Kind::Pattern, args)
}

fn sunsubscribe(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    unsubscribe_kind(session, node, Kind::Shard, args)
}

fn publish(_: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    Frame::from(node.pubsub.publish(&args[1], &args[2]))
}

fn spublish(_: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    Frame::from(node.pubsub.spublish(&args[1], &args[2]))
}

/// PUBSUB CHANNELS | NUMSUB | NUMPAT | SHARDCHANNELS | SHARDNUMSUB | HELP.
fn pubsub(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    let sub = &args[1];
    let rest = &args[2..];
    let numsub = |kind: Kind| {
        let mut out = Vec::with_capacity(rest.len().min(1024) * 2);
        for ch in rest {
            out.push(Frame::Bulk(ch.clone()));
            out.push(Frame::from(node.pubsub.subscribers(kind, ch)));
        }
        Frame::Array(out)
    };
    let channels =
        |kind: Kind| Frame::array_of_bulks(node.pubsub.active(kind, rest.first().map(|p| &p[..])));
    if is(sub, "channels") && rest.len() <= 1 {
        channels(Kind::Channel)
    } else if is(sub, "shardchannels") && rest.len() <= 1 {
        channels(Kind::Shard)
    } else if is(sub, "numsub") {
        numsub(Kind::Channel)
    } else if is(sub, "shardnumsub") {
        numsub(Kind::Shard)
    } else if is(sub, "numpat") && rest.is_empty() {
        Frame::from(node.pubsub.counts().1)
    } else if is(sub, "help") && rest.is_empty() {
        help_frame(&[
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
            "HELP",
            "    Prints this help.",
        ])
    } else if is(sub, "numpat") || is(sub, "help") {
        // Their arity is exactly 2 in Redis' subcommand table.
        CmdError::Arity(format!("pubsub|{}", String::from_utf8_lossy(sub))).to_frame()
    } else if is(sub, "channels") || is(sub, "shardchannels") {
        Frame::Error(
            format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
                String::from_utf8_lossy(&sub[..sub.len().min(128)])
            )
            .into(),
        )
    } else {
        unknown_subcommand(session, sub, "PUBSUB")
    }
}

const SUBSCRIBE_FLAGS: &[&str] = &["pubsub", "noscript", "loading", "stale"];
const PUBLISH_FLAGS: &[&str] = &["pubsub", "loading", "stale", "fast"];

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "subscribe",
        arity: -2,
        flags: SUBSCRIBE_FLAGS,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["pubsub", "slow"],
        group: "pubsub",
        summary: "Listen for messages published to the given channels",
        since: "2.0.0",
        handler: Handler::Conn(subscribe),
    },
    CommandSpec {
        name: "unsubscribe",
        arity: -1,
        flags: SUBSCRIBE_FLAGS,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["pubsub", "slow"],
        group: "pubsub",
        summary: "Stop listening for messages posted to the given channels",
        since: "2.0.0",
        handler: Handler::Conn(unsubscribe),
    },
    CommandSpec {
        name: "psubscribe",
        arity: -2,
        flags: SUBSCRIBE_FLAGS,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["pubsub", "slow"],
        group: "pubsub",
        summary: "Listen for messages published to channels matching the given patterns",
        since: "2.0.0",
        handler: Handler::Conn(psubscribe),
    },
    CommandSpec {
        name: "punsubscribe",
        arity: -1,
        flags: SUBSCRIBE_FLAGS,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["pubsub", "slow"],
        group: "pubsub",
        summary: "Stop listening for messages posted to channels matching the given patterns",
        since: "2.0.0",
        handler: Handler::Conn(punsubscribe),
    },
    CommandSpec {
        name: "publish",
        arity: 3,
        flags: PUBLISH_FLAGS,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["pubsub", "fast"],
        group: "pubsub",
        summary: "Post a message to a channel",
        since: "2.0.0",
        handler: Handler::Conn(publish),
    },
    CommandSpec {
        name: "pubsub",
        arity: -2,
        flags: &[],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["slow"],
        group: "pubsub",
        summary: "A container for Pub/Sub commands",
        since: "2.8.0",
        handler: Handler::Conn(pubsub),
    },
    // The shard commands carry key specs like Redis (cluster clients route them by slot), but
    // they are connection commands: dispatch never reads or writes the keyspace for them.
    CommandSpec {
        name: "ssubscribe",
        arity: -2,
        flags: SUBSCRIBE_FLAGS,
        first_key: 1,
        last_key: -1,
        step: 1,
        key_finder: None,
        acl: &["pubsub", "slow"],
        group: "pubsub",
        summary: "Listen for messages published to the given shard channels",
        since: "7.0.0",
        handler: Handler::Conn(ssubscribe),
    },
    CommandSpec {
        name: "sunsubscribe",
        arity: -1,
        flags: SUBSCRIBE_FLAGS,
        first_key: 1,
        last_key: -1,
        step: 1,
        key_finder: None,
        acl: &["pubsub", "slow"],
        group: "pubsub",
        summary: "Stop listening for messages posted to the given shard channels",
        since: "7.0.0",
        handler: Handler::Conn(sunsubscribe),
    },
    CommandSpec {
        name: "spublish",
        arity: 3,
        flags: PUBLISH_FLAGS,
        first_key: 1,
        last_key: 1,
        step: 1,
        key_finder: None,
        acl: &["pubsub", "fast"],
        group: "pubsub",
        summary: "Post a message to a shard channel",
        since: "7.0.0",
        handler: Handler::Conn(spublish),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_channels_must_share_a_slot() {
        let b = |s: &str| Bytes::copy_from_slice(s.as_bytes());
        assert!(same_slot(&[]).is_ok());
        assert!(same_slot(&[b("{u1}a"), b("{u1}b")]).is_ok());
        assert_eq!(
            same_slot(&[b("foo"), b("bar")]),
            Err(Frame::error(
                "CROSSSLOT Keys in request don't hash to the same slot"
            ))
        );
    }
}
