//! CLUSTER INFO / SLOTS / SHARDS / NODES of a multi-node cluster, from the cluster map.
//!
//! Redis Cluster's model is one master per slot range with its replicas; ours is one Raft
//! group per slot range with a leader and followers, and a node may lead one group and follow
//! others. So a range's master is its group's leader and its replicas are the followers
//! (CLUSTER SLOTS / SHARDS say exactly that); in CLUSTER NODES, where a node has one role, a
//! node that leads any group is a master owning the slots of the groups it leads, and a node
//! that leads none is a replica of the leader of its first group.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::cluster::map::{redis_node_id, ClusterMap, MAP_GROUP};
use crate::cluster::{GroupId, SLOT_COUNT};
use crate::node::cluster::ClusterRuntime;
use crate::node::Node;
use crate::resp::Frame;

/// One slot group as clients see it.
struct Shard {
    ranges: Vec<(u16, u16)>,
    /// The node leading the group, if one is known.
    master: Option<u64>,
    /// The other nodes with a replica.
    replicas: Vec<u64>,
}

fn shards(node: &Node, c: &ClusterRuntime, map: &ClusterMap) -> Vec<Shard> {
    map.groups
        .iter()
        .filter(|(id, _)| **id != MAP_GROUP)
        .map(|(&id, g)| {
            let gid = GroupId(id);
            let master = c
                .leader_node(gid, node.group(gid).map(|g| &**g))
                .filter(|n| map.resp_addr(*n).is_some());
            Shard {
                ranges: g.ranges.clone(),
                master,
                replicas: g
                    .replicas
                    .iter()
                    .map(|r| r.node)
                    .filter(|n| Some(*n) != master)
                    .collect(),
            }
        })
        .collect()
}

/// `host:port` split for CLUSTER replies (IPv6 brackets dropped); `None` for the port if it
/// is missing or not a number.
pub fn split_addr(addr: &str) -> (String, Option<u16>) {
    match addr.rsplit_once(':') {
        Some((h, p)) => (h.trim_matches(['[', ']']).to_string(), p.parse().ok()),
        None => (addr.to_string(), None),
    }
}

/// Sorts slot ranges and merges adjacent ones.
pub fn merge_ranges(mut ranges: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    ranges.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::new();
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if last.1 as u32 + 1 == lo as u32 => last.1 = hi,
            _ => merged.push((lo, hi)),
        }
    }
    merged
}

/// Slot ranges as CLUSTER NODES lists them: ` 0-5460 5461`, each with a leading space.
pub fn slot_list(ranges: Vec<(u16, u16)>) -> String {
    merge_ranges(ranges)
        .into_iter()
        .map(|(lo, hi)| {
            if lo == hi {
                format!(" {lo}")
            } else {
                format!(" {lo}-{hi}")
            }
        })
        .collect()
}

/// One node of a CLUSTER SHARDS entry.
pub fn shard_node(id: String, ip: String, port: u16, role: &str) -> Frame {
    Frame::Map(vec![
        (Frame::bulk("id"), Frame::bulk(id)),
        (Frame::bulk("port"), Frame::Integer(port as i64)),
        (Frame::bulk("ip"), Frame::bulk(ip.clone())),
        (Frame::bulk("endpoint"), Frame::bulk(ip)),
        (Frame::bulk("role"), Frame::bulk(role.to_string())),
        (Frame::bulk("replication-offset"), Frame::Integer(0)),
        (Frame::bulk("health"), Frame::bulk("online")),
    ])
}

/// (ip, port, cluster-bus port) of a node; the bus port is its gRPC port.
fn endpoint(map: &ClusterMap, id: u64) -> (String, u16, u16) {
    let (ip, port) = map
        .resp_addr(id)
        .map(split_addr)
        .map(|(ip, port)| (ip, port.unwrap_or(0)))
        .unwrap_or_default();
    let bus = map
        .nodes
        .get(&id)
        .and_then(|n| split_addr(&n.grpc_addr).1)
        .unwrap_or(0);
    (ip, port, bus)
}

fn node_entry(map: &ClusterMap, id: u64) -> Frame {
    let (ip, port, _) = endpoint(map, id);
    Frame::Array(vec![
        Frame::bulk(ip),
        Frame::Integer(port as i64),
        Frame::bulk(redis_node_id(id)),
        Frame::Map(vec![]),
    ])
}

fn verbatim(text: String) -> Frame {
    Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

pub fn info(node: &Node, c: &ClusterRuntime) -> Frame {
    let map = c.map();
    let shards = shards(node, c, &map);
    let ok_slots: u32 = shards
        .iter()
        .filter(|s| s.master.is_some())
        .flat_map(|s| &s.ranges)
        .map(|&(lo, hi)| u32::from(hi - lo) + 1)
        .sum();
    let state = if ok_slots == SLOT_COUNT as u32 {
        "ok"
    } else {
        "fail"
    };
    let mut masters: Vec<u64> = shards.iter().filter_map(|s| s.master).collect();
    masters.sort_unstable();
    masters.dedup();
    verbatim(format!(
        "cluster_state:{state}\r\ncluster_slots_assigned:{SLOT_COUNT}\r\ncluster_slots_ok:{ok_slots}\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:{}\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\ncluster_current_epoch:{}\r\ncluster_my_epoch:{}\r\ncluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n",
        SLOT_COUNT as u32 - ok_slots,
        map.nodes.len(),
        masters.len(),
        map.epoch,
        map.epoch,
    ))
}

pub fn slots(node: &Node, c: &ClusterRuntime) -> Frame {
    let map = c.map();
    let mut out = Vec::new();
    for s in shards(node, c, &map) {
        // A range whose leader is unknown (election running) is left out, as Redis leaves out
        // slots without a reachable master: clients retry and refresh.
        let Some(master) = s.master else { continue };
        for &(lo, hi) in &s.ranges {
            let mut entry = vec![
                Frame::Integer(lo as i64),
                Frame::Integer(hi as i64),
                node_entry(&map, master),
            ];
            entry.extend(
                s.replicas
                    .iter()
                    .filter(|n| map.resp_addr(**n).is_some())
                    .map(|&n| node_entry(&map, n)),
            );
            out.push(Frame::Array(entry));
        }
    }
    Frame::Array(out)
}

pub fn shards_reply(node: &Node, c: &ClusterRuntime) -> Frame {
    let map = c.map();
    let describe = |id: u64, role: &str| {
        let (ip, port, _) = endpoint(&map, id);
        shard_node(redis_node_id(id), ip, port, role)
    };
    let out = shards(node, c, &map)
        .into_iter()
        .map(|s| {
            let slots = s
                .ranges
                .iter()
                .flat_map(|&(lo, hi)| [Frame::Integer(lo as i64), Frame::Integer(hi as i64)])
                .collect();
            let mut nodes: Vec<Frame> = s
                .master
                .map(|m| describe(m, "master"))
                .into_iter()
                .collect();
            nodes.extend(s.replicas.iter().map(|&n| describe(n, "replica")));
            Frame::Map(vec![
                (Frame::bulk("slots"), Frame::Array(slots)),
                (Frame::bulk("nodes"), Frame::Array(nodes)),
            ])
        })
        .collect();
    Frame::Array(out)
}

pub fn nodes(node: &Node, c: &ClusterRuntime) -> Frame {
    let map = c.map();
    let shards = shards(node, c, &map);
    let mut owned: BTreeMap<u64, Vec<(u16, u16)>> = BTreeMap::new();
    for s in &shards {
        if let Some(m) = s.master {
            owned.entry(m).or_default().extend(s.ranges.iter().copied());
        }
    }
    let mut text = String::new();
    for &id in map.nodes.keys() {
        let (ip, port, bus) = endpoint(&map, id);
        let myself = if id == c.me { "myself," } else { "" };
        let (role, master_of) = match owned.get(&id) {
            Some(_) => ("master", "-".to_string()),
            None => {
                let leader = shards
                    .iter()
                    .find(|s| s.replicas.contains(&id))
                    .and_then(|s| s.master);
                (
                    "slave",
                    leader.map(redis_node_id).unwrap_or_else(|| "-".into()),
                )
            }
        };
        let noaddr = if ip.is_empty() { ",noaddr" } else { "" };
        let slots = slot_list(owned.get(&id).cloned().unwrap_or_default());
        let line = format!(
            "{} {ip}:{port}@{bus} {myself}{role}{noaddr} {master_of} 0 0 {} connected{slots}",
            redis_node_id(id),
            map.epoch
        );
        text.push_str(&line);
        text.push('\n');
    }
    verbatim(text)
}
