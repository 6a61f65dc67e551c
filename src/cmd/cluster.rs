//! Cluster commands: this node's view of slots and groups, in Redis Cluster's formats, so that
//! cluster-mode clients and `redis-cli --cluster check` work against it.

use bytes::Bytes;

use super::args::parse_i64_opt;
use super::cluster_view::{merge_ranges, shard_node, slot_list, split_addr};
use super::server::help_frame;
use super::{CmdError, CmdResult, CommandSpec, Handler, ReadCtx};
use crate::cluster::{key_slot, SlotId, SLOT_COUNT};
use crate::node::Node;
use crate::resp::Frame;
use crate::server::session::Session;
use crate::storage::keys::{prefix_end, slot_db_prefix};
use crate::storage::{Cf, Metadata};

/// (ip, port) clients should use for this node.
fn endpoint(node: &Node) -> (String, u16) {
    let (ip, port) = split_addr(&node.config.announce_addr());
    (ip, port.unwrap_or(6379))
}

/// Slot ranges served here, merged where groups are adjacent.
fn served_ranges(node: &Node) -> Vec<(u16, u16)> {
    merge_ranges(
        node.topology
            .groups()
            .iter()
            .flat_map(|g| g.ranges.iter().copied())
            .collect(),
    )
}

type ClusterView = fn(&Node, &crate::node::cluster::ClusterRuntime) -> Frame;

fn cluster(ctx: &ReadCtx<'_>, args: &[Bytes]) -> CmdResult {
    let node = ctx.node()?;
    let sub = String::from_utf8_lossy(&args[1]).to_lowercase();
    let (ip, port) = endpoint(node);
    let arity = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(CmdError::Raw(
                format!("ERR wrong number of arguments for 'cluster|{sub}' command").into(),
            ))
        }
    };
    if let Some(c) = &node.cluster {
        let view = match sub.as_str() {
            "info" => Some(super::cluster_view::info as ClusterView),
            "slots" => Some(super::cluster_view::slots as ClusterView),
            "shards" => Some(super::cluster_view::shards_reply as ClusterView),
            "nodes" => Some(super::cluster_view::nodes as ClusterView),
            _ => None,
        };
        if let Some(render) = view {
            arity(args.len() == 2)?;
            return Ok(render(node, c));
        }
    }
    match sub.as_str() {
        "info" => {
            arity(args.len() == 2)?;
            let text = format!(
                "cluster_state:ok\r\ncluster_slots_assigned:{SLOT_COUNT}\r\ncluster_slots_ok:{SLOT_COUNT}\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:1\r\ncluster_size:1\r\ncluster_current_epoch:1\r\ncluster_my_epoch:1\r\ncluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n"
            );
            Ok(Frame::Verbatim {
                format: *b"txt",
                text: Bytes::from(text),
            })
        }
        "myid" => {
            arity(args.len() == 2)?;
            Ok(Frame::bulk(node.node_id.clone()))
        }
        "slots" => {
            arity(args.len() == 2)?;
            Ok(Frame::Array(
                served_ranges(node)
                    .into_iter()
                    .map(|(lo, hi)| {
                        Frame::Array(vec![
                            Frame::Integer(lo as i64),
                            Frame::Integer(hi as i64),
                            Frame::Array(vec![
                                Frame::bulk(ip.clone()),
                                Frame::Integer(port as i64),
                                Frame::bulk(node.node_id.clone()),
                                Frame::Map(vec![]),
                            ]),
                        ])
                    })
                    .collect(),
            ))
        }
        "shards" => {
            arity(args.len() == 2)?;
            let slots = served_ranges(node)
                .into_iter()
                .flat_map(|(lo, hi)| [Frame::Integer(lo as i64), Frame::Integer(hi as i64)])
                .collect();
            let me = shard_node(node.node_id.clone(), ip.clone(), port, "master");
            Ok(Frame::Array(vec![Frame::Map(vec![
                (Frame::bulk("slots"), Frame::Array(slots)),
                (Frame::bulk("nodes"), Frame::Array(vec![me])),
            ])]))
        }
        "nodes" => {
            arity(args.len() == 2)?;
            let line = format!(
                "{} {ip}:{port}@{} myself,master - 0 0 1 connected{}\n",
                node.node_id,
                port as u32 + 10000,
                slot_list(served_ranges(node))
            );
            Ok(Frame::Verbatim {
                format: *b"txt",
                text: Bytes::from(line),
            })
        }
        "keyslot" => {
            arity(args.len() == 3)?;
            Ok(Frame::Integer(key_slot(&args[2]).0 as i64))
        }
        "countkeysinslot" => {
            arity(args.len() == 3)?;
            let slot = parse_i64_opt(&args[2]).ok_or(CmdError::NotInteger)?;
            let slot = slot_in_range(slot).ok_or(CmdError::raw("ERR Invalid slot"))?;
            let mut n = 0i64;
            scan_slot(ctx, slot, |_| {
                n += 1;
                true
            })?;
            Ok(Frame::Integer(n))
        }
        "getkeysinslot" => {
            arity(args.len() == 4)?;
            let slot = parse_i64_opt(&args[2]).ok_or(CmdError::NotInteger)?;
            let count = parse_i64_opt(&args[3]).ok_or(CmdError::NotInteger)?;
            let (Some(slot), true) = (slot_in_range(slot), count >= 0) else {
                return Err(CmdError::raw("ERR Invalid slot or number of keys"));
            };
            let mut keys = Vec::new();
            scan_slot(ctx, slot, |k| {
                if keys.len() as i64 >= count {
                    return false;
                }
                keys.push(Frame::Bulk(Bytes::copy_from_slice(k)));
                true
            })?;
            Ok(Frame::Array(keys))
        }
        "help" => Ok(help_frame(&[
            "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "COUNTKEYSINSLOT <slot>",
            "    Return the number of keys in <slot>.",
            "GETKEYSINSLOT <slot> <count>",
            "    Return key names stored by current node in a slot.",
            "INFO",
            "    Return information about the cluster.",
            "KEYSLOT <key>",
            "    Return the hash slot for <key>.",
            "MYID",
            "    Return the node id.",
            "NODES",
            "    Return cluster configuration seen by node.",
            "SHARDS",
            "    Return information about slot range mappings and the nodes associated with them.",
            "SLOTS",
            "    Return information about slots range mappings.",
            "HELP",
            "    Print this help.",
        ])),
        _ => Err(CmdError::Raw(
            format!(
                "ERR unknown subcommand '{}'. Try CLUSTER HELP.",
                String::from_utf8_lossy(&args[1][..args[1].len().min(128)])
            )
            .into(),
        )),
    }
}

fn slot_in_range(slot: i64) -> Option<SlotId> {
    (0..SLOT_COUNT as i64)
        .contains(&slot)
        .then_some(SlotId(slot as u16))
}

/// Calls `f(user_key)` for each live key of the client's database in `slot`.
fn scan_slot(
    ctx: &ReadCtx<'_>,
    slot: SlotId,
    mut f: impl FnMut(&[u8]) -> bool,
) -> Result<(), CmdError> {
    let prefix = slot_db_prefix(slot, ctx.pdb(slot));
    let end = prefix_end(&prefix).unwrap_or_else(|| vec![0xff; 4]);
    let mut err = None;
    ctx.storage()
        .scan(Cf::Meta, &prefix, &end, |k, v| match Metadata::peek(v) {
            Ok((_, exp)) if exp != 0 && exp <= ctx.now_ms => true,
            Ok(_) => f(&k[prefix.len()..]),
            Err(e) => {
                err = Some(e);
                false
            }
        })?;
    match err {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn readonly(session: &mut Session, _: &Node, _: &[Bytes]) -> Frame {
    session.readonly = true;
    Frame::ok()
}

fn readwrite(session: &mut Session, _: &Node, _: &[Bytes]) -> Frame {
    session.readonly = false;
    Frame::ok()
}

fn asking(session: &mut Session, _: &Node, _: &[Bytes]) -> Frame {
    session.asking = true;
    Frame::ok()
}

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "cluster",
        arity: -2,
        flags: &["readonly"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["slow"],
        group: "cluster",
        summary: "A container for Redis Cluster commands.",
        since: "3.0.0",
        handler: Handler::Read(cluster),
    },
    CommandSpec {
        name: "readonly",
        arity: 1,
        flags: &["loading", "stale", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "cluster",
        summary: "Enables read-only queries for a connection to a Redis Cluster replica node.",
        since: "3.0.0",
        handler: Handler::Conn(readonly),
    },
    CommandSpec {
        name: "readwrite",
        arity: 1,
        flags: &["loading", "stale", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "cluster",
        summary: "Enables read-write queries for a connection to a Redis Cluster replica node.",
        since: "3.0.0",
        handler: Handler::Conn(readwrite),
    },
    CommandSpec {
        name: "asking",
        arity: 1,
        flags: &["fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "cluster",
        summary: "Signals that a cluster client is following an -ASK redirect.",
        since: "3.0.0",
        handler: Handler::Conn(asking),
    },
];
