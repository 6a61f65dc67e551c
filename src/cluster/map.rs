//! The cluster map: what group 0 replicates to every node of a cluster.
//!
//! Nodes (numeric id, the gRPC address peers use, the RESP address clients are sent to), slot
//! groups (their slot ranges and replicas, each replica with an id that is never reused), the
//! epoch of slot ownership, and each group's last reported leader. Every node holds a replica
//! of group 0 (a voter on the first five nodes, a learner beyond), so every node can answer
//! CLUSTER SLOTS/NODES and redirect a client to a leader it does not host itself.
//!
//! The map is plain data: changes are [`ClusterOp`]s applied in log order by group 0's state
//! machine ([`ClusterMap::apply`]), so every node computes the same map.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::topology::{GroupId, Topology};

/// Replicas per slot group (fewer when the cluster has fewer nodes).
pub const REPLICAS_PER_GROUP: usize = 3;
/// Voters of group 0; further nodes follow the map as learners.
pub const MAP_VOTERS: usize = 5;
/// The cluster map's group.
pub const MAP_GROUP: u64 = 0;
/// Group 0 keeps the map in the `meta` column family under a slot id no key can have (slots
/// end at 16383), so keyspace walks, FLUSHALL and slot-range scans never see it, while a
/// snapshot of group 0 is the same slot-range copy as any group's.
pub const MAP_SLOT: u16 = 0xFFFF;

/// The RocksDB key (in `Cf::Meta`) holding the encoded map.
pub fn map_key() -> Vec<u8> {
    let mut k = MAP_SLOT.to_be_bytes().to_vec();
    k.extend_from_slice(b"cluster-map");
    k
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterMap {
    /// Bumped by every change of slot ownership or group membership (Redis' config epoch).
    pub epoch: u64,
    pub nodes: BTreeMap<u64, NodeEntry>,
    /// Every group, group 0 included.
    pub groups: BTreeMap<u64, GroupEntry>,
    /// The next replica id to hand out: ids are never reused (a wiped node that came back
    /// with an old id could vote twice in one term).
    pub next_replica_id: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// Raft traffic from other nodes.
    pub grpc_addr: String,
    /// Where clients reach the node (its announce address); empty until the node has
    /// started once and announced it.
    pub resp_addr: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEntry {
    /// Inclusive slot ranges (empty for group 0).
    pub ranges: Vec<(u16, u16)>,
    /// The first replica is the preferred leader (leaders are spread across nodes).
    pub replicas: Vec<Replica>,
    /// The leader as last reported by it (a newer term replaces an older one).
    pub leader: Option<LeaderRecord>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replica {
    pub id: u64,
    pub node: u64,
    pub voter: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderRecord {
    pub replica: u64,
    pub term: u64,
}

/// A change to the map, proposed to group 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterOp {
    /// A node reports the addresses it runs with (at every start: they may change).
    Announce {
        node: u64,
        resp_addr: String,
        grpc_addr: String,
    },
    /// A replica reports that it leads its group in `term`.
    Leader { group: u64, replica: u64, term: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("invalid --initial-cluster: {0}")]
    InitialCluster(String),
}

/// Parses `--initial-cluster`: `1=host:port,2=host:port,...` (node id = gRPC address).
pub fn parse_initial_cluster(s: &str) -> Result<Vec<(u64, String)>, MapError> {
    let mut nodes: Vec<(u64, String)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part
            .split_once('=')
            .ok_or_else(|| MapError::InitialCluster(format!("{part:?} is not ID=HOST:PORT")))?;
        let id: u64 = id.trim().parse().ok().filter(|&i| i > 0).ok_or_else(|| {
            MapError::InitialCluster(format!("node id {id:?} is not a positive integer"))
        })?;
        let addr = addr.trim();
        if addr
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .is_none()
        {
            return Err(MapError::InitialCluster(format!(
                "address {addr:?} of node {id} is not HOST:PORT"
            )));
        }
        if nodes.iter().any(|(n, _)| *n == id) {
            return Err(MapError::InitialCluster(format!(
                "node {id} is listed twice"
            )));
        }
        if nodes.iter().any(|(_, a)| a == addr) {
            return Err(MapError::InitialCluster(format!(
                "address {addr} is listed twice"
            )));
        }
        nodes.push((id, addr.to_string()));
    }
    if nodes.is_empty() {
        return Err(MapError::InitialCluster("no nodes listed".into()));
    }
    nodes.sort();
    Ok(nodes)
}

impl ClusterMap {
    /// The map a new cluster starts with. Every node computes it from the same
    /// `--initial-cluster` and `--slot-groups`, so they all start from the same state: group 0
    /// on every node, slot groups split evenly, replicas and preferred leaders spread
    /// round-robin (group g's first replica is on the g-th node).
    pub fn bootstrap(nodes: &[(u64, String)], slot_groups: u16) -> ClusterMap {
        let mut map = ClusterMap {
            epoch: 1,
            next_replica_id: 1,
            ..ClusterMap::default()
        };
        let mut sorted = nodes.to_vec();
        sorted.sort();
        for (id, addr) in &sorted {
            map.nodes.insert(
                *id,
                NodeEntry {
                    grpc_addr: addr.clone(),
                    resp_addr: String::new(),
                },
            );
        }
        let node_ids: Vec<u64> = sorted.iter().map(|n| n.0).collect();
        let mut map_replicas = Vec::new();
        for (i, &node) in node_ids.iter().enumerate() {
            map_replicas.push(Replica {
                id: map.allocate_replica_id(),
                node,
                voter: i < MAP_VOTERS,
            });
        }
        map.groups.insert(
            MAP_GROUP,
            GroupEntry {
                ranges: Vec::new(),
                replicas: map_replicas,
                leader: None,
            },
        );
        let topology = Topology::even(slot_groups.max(1));
        let per_group = REPLICAS_PER_GROUP.min(node_ids.len());
        for (gi, g) in topology.groups().iter().enumerate() {
            let mut replicas = Vec::new();
            for k in 0..per_group {
                replicas.push(Replica {
                    id: map.allocate_replica_id(),
                    node: node_ids[(gi + k) % node_ids.len()],
                    voter: true,
                });
            }
            map.groups.insert(
                g.id.0,
                GroupEntry {
                    ranges: g.ranges.clone(),
                    replicas,
                    leader: None,
                },
            );
        }
        map
    }

    fn allocate_replica_id(&mut self) -> u64 {
        let id = self.next_replica_id;
        self.next_replica_id += 1;
        id
    }

    /// Applies one change. Stale reports (an older term than the recorded leader's) and
    /// reports about unknown nodes, groups or replicas change nothing.
    pub fn apply(&mut self, op: &ClusterOp) {
        match op {
            ClusterOp::Announce {
                node,
                resp_addr,
                grpc_addr,
            } => {
                if let Some(n) = self.nodes.get_mut(node) {
                    n.resp_addr = resp_addr.clone();
                    n.grpc_addr = grpc_addr.clone();
                }
            }
            ClusterOp::Leader {
                group,
                replica,
                term,
            } => {
                let Some(g) = self.groups.get_mut(group) else {
                    return;
                };
                if !g.replicas.iter().any(|r| r.id == *replica) {
                    return;
                }
                if g.leader.is_some_and(|l| l.term > *term) {
                    return;
                }
                g.leader = Some(LeaderRecord {
                    replica: *replica,
                    term: *term,
                });
            }
        }
    }

    /// The slot → group map of the data groups.
    pub fn topology(&self) -> Topology {
        Topology::from_groups(
            self.groups
                .iter()
                .filter(|(id, _)| **id != MAP_GROUP)
                .map(|(id, g)| (GroupId(*id), g.ranges.clone()))
                .collect(),
        )
    }

    /// The node hosting replica `replica` of `group`.
    pub fn node_of(&self, group: u64, replica: u64) -> Option<u64> {
        self.groups
            .get(&group)?
            .replicas
            .iter()
            .find(|r| r.id == replica)
            .map(|r| r.node)
    }

    /// This node's replica of `group`, if it hosts one.
    pub fn replica_on(&self, group: u64, node: u64) -> Option<Replica> {
        self.groups
            .get(&group)?
            .replicas
            .iter()
            .find(|r| r.node == node)
            .copied()
    }

    /// The node that last reported leading `group`.
    pub fn leader_node(&self, group: u64) -> Option<u64> {
        let g = self.groups.get(&group)?;
        self.node_of(group, g.leader?.replica)
    }

    /// The RESP address of a node, if it has announced one.
    pub fn resp_addr(&self, node: u64) -> Option<&str> {
        self.nodes
            .get(&node)
            .map(|n| n.resp_addr.as_str())
            .filter(|a| !a.is_empty())
    }
}

/// The 40-hex-digit id Redis Cluster clients see for numeric node `node` (CLUSTER NODES,
/// MYID). Derived, not random: every node must render every other node's id the same way.
pub fn redis_node_id(node: u64) -> String {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    format!(
        "{:016x}{:016x}{:08x}",
        mix(node),
        mix(node ^ 0x5241_4654_524f_434b),
        node as u32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Vec<(u64, String)> {
        parse_initial_cluster("3=127.0.0.1:7003, 1=127.0.0.1:7001,2=127.0.0.1:7002").unwrap()
    }

    #[test]
    fn initial_cluster_parses_and_rejects_bad_input() {
        assert_eq!(three()[0], (1, "127.0.0.1:7001".to_string()));
        for bad in [
            "",
            "1",
            "x=127.0.0.1:1",
            "0=127.0.0.1:1",
            "1=nohostport",
            "1=a:1,1=b:2",
            "1=a:1,2=a:1",
        ] {
            assert!(parse_initial_cluster(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn bootstrap_spreads_replicas_and_preferred_leaders() {
        let map = ClusterMap::bootstrap(&three(), 3);
        assert_eq!(map.groups.len(), 4);
        let mut ids = std::collections::BTreeSet::new();
        for (gid, g) in &map.groups {
            assert_eq!(g.replicas.len(), 3, "group {gid}");
            for r in &g.replicas {
                assert!(ids.insert(r.id), "replica id {} reused", r.id);
            }
        }
        let preferred: Vec<u64> = (1..=3).map(|g| map.groups[&g].replicas[0].node).collect();
        assert_eq!(preferred, vec![1, 2, 3]);
        assert_eq!(map.next_replica_id, ids.len() as u64 + 1);
        // Every slot is in exactly one data group.
        let t = map.topology();
        assert_eq!(t.groups().len(), 3);
        // Deterministic: every node computes the same map.
        assert_eq!(map, ClusterMap::bootstrap(&three(), 3));
    }

    #[test]
    fn five_nodes_get_three_replicas_per_group_and_five_map_voters() {
        let nodes: Vec<(u64, String)> = (1..=7).map(|i| (i, format!("h:{i}"))).collect();
        let map = ClusterMap::bootstrap(&nodes, 7);
        assert_eq!(map.groups[&MAP_GROUP].replicas.len(), 7);
        assert_eq!(
            map.groups[&MAP_GROUP]
                .replicas
                .iter()
                .filter(|r| r.voter)
                .count(),
            5
        );
        for g in 1..=7 {
            let nodes: std::collections::BTreeSet<u64> =
                map.groups[&g].replicas.iter().map(|r| r.node).collect();
            assert_eq!(nodes.len(), 3);
        }
    }

    #[test]
    fn leader_reports_only_move_forward() {
        let mut map = ClusterMap::bootstrap(&three(), 3);
        let r = map.groups[&1].replicas[1];
        map.apply(&ClusterOp::Leader {
            group: 1,
            replica: r.id,
            term: 5,
        });
        assert_eq!(map.leader_node(1), Some(r.node));
        let old = map.groups[&1].replicas[0];
        map.apply(&ClusterOp::Leader {
            group: 1,
            replica: old.id,
            term: 4,
        });
        assert_eq!(map.leader_node(1), Some(r.node), "stale report applied");
        // Unknown replica: ignored.
        map.apply(&ClusterOp::Leader {
            group: 1,
            replica: 999,
            term: 9,
        });
        assert_eq!(map.leader_node(1), Some(r.node));
    }

    #[test]
    fn node_ids_are_forty_hex_and_distinct() {
        let a = redis_node_id(1);
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, redis_node_id(2));
        assert_eq!(a, redis_node_id(1));
    }
}
