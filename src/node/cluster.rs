//! Cluster mode: this node as one of several, each slot group replicated by Raft over gRPC.
//!
//! - Group 0 replicates the cluster map (`cluster::map`) to every node; its state machine is
//!   the ordinary one with [`execute`] as executor, keeping the map in one RocksDB entry.
//! - A new cluster starts from the map every node computes from the same `--initial-cluster`;
//!   each group is initialized by its preferred leader at once and, if that node does not
//!   start, by the others a few seconds later (identical memberships, which openraft allows).
//! - A maintenance task keeps the map current: it announces this node's RESP address and
//!   reports every group this node leads (term and replica), forwarding to group 0's leader.
//!   Nodes that host no replica of a group redirect its clients using those reports.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use openraft::async_runtime::WatchReceiver;
use parking_lot::RwLock;

use crate::cluster::map::{
    map_key, parse_initial_cluster, ClusterMap, ClusterOp, LeaderRecord, MAP_GROUP, MAP_SLOT,
};
use crate::cluster::{GroupId, Topology};
use crate::config::Config;
use crate::raft::grpc::GrpcTransport;
use crate::raft::rpc_server::{self, Registry};
use crate::raft::state_machine::KeyListener;
use crate::raft::{Group, NodeInfo, Syncer, WriteOp, WriteRequest};
use crate::resp::Frame;
use crate::storage::keyspace::WriteCtx;
use crate::storage::{Cf, Storage};

/// The file in the data directory naming the node id a cluster node was created with.
const NODE_ID_FILE: &str = "cluster-node-id";
/// Version byte in front of the encoded map (postcard is not self-describing).
const MAP_FORMAT: u8 = 1;
/// How long a node that is not a group's preferred leader waits before initializing the
/// group itself (the preferred leader may be down at bootstrap).
const INIT_FALLBACK: Duration = Duration::from_secs(4);
/// How often the maintenance task looks for something to report.
const MAINTENANCE_TICK: Duration = Duration::from_millis(200);
/// How long a node leads a group that prefers another leader before handing it back.
const GIVE_BACK_AFTER: Duration = Duration::from_secs(10);
/// The least time between two leader transfers of one group.
const GIVE_BACK_COOLDOWN: Duration = Duration::from_secs(60);
/// How long a forwarded cluster-map change may take.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(3);

/// True if this node runs in cluster mode: configured for it, or its data directory already
/// holds a cluster (then `--initial-cluster` is not needed to restart).
pub fn enabled(config: &Config) -> bool {
    config.cluster.initial_cluster.is_some() || config.data_dir.join(NODE_ID_FILE).exists()
}

/// The map as last applied by group 0, shared with every reader. Group 0's state machine tells
/// it (as its key listener) whenever a batch was applied; it then re-reads the map.
pub struct MapCell {
    storage: Arc<Storage>,
    map: RwLock<Arc<ClusterMap>>,
}

impl MapCell {
    fn reload(&self) {
        match load_map(&self.storage) {
            Ok(Some(m)) => *self.map.write() = Arc::new(m),
            Ok(None) => tracing::error!("the cluster map disappeared from storage"),
            Err(e) => tracing::error!(error = %e, "cannot read the cluster map"),
        }
    }
}

impl KeyListener for MapCell {
    fn waiting(&self) -> bool {
        true
    }

    fn changed(&self, group: u64, _keys: &[(u8, Vec<u8>)], _all: bool) {
        if group == MAP_GROUP {
            self.reload();
        }
    }
}

/// The cluster side of a running node.
pub struct ClusterRuntime {
    /// This node's id (`--node-id`).
    pub me: u64,
    map: Arc<MapCell>,
    pub map_group: Arc<Group>,
    pub transport: GrpcTransport,
    pub registry: Arc<Registry>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// What [`open`] hands the node.
pub struct Opened {
    pub runtime: Arc<ClusterRuntime>,
    /// The data groups with a replica on this node.
    pub groups: Vec<Arc<Group>>,
    pub topology: Topology,
}

fn load_map(storage: &Storage) -> anyhow::Result<Option<ClusterMap>> {
    let Some(raw) = storage.get(Cf::Meta, &map_key())? else {
        return Ok(None);
    };
    decode_map(&raw).map(Some)
}

fn decode_map(raw: &[u8]) -> anyhow::Result<ClusterMap> {
    match raw.split_first() {
        Some((&MAP_FORMAT, rest)) => {
            postcard::from_bytes(rest).context("the stored cluster map is corrupted")
        }
        _ => anyhow::bail!("the stored cluster map has an unknown format"),
    }
}

fn encode_map(map: &ClusterMap) -> Vec<u8> {
    let mut out = vec![MAP_FORMAT];
    // Encoding plain data into a Vec cannot fail.
    out.extend(postcard::to_allocvec(map).unwrap_or_default());
    out
}

/// Group 0's executor: applies cluster-map changes (see `raft::state_machine::Executor`).
pub fn execute(ctx: &mut WriteCtx<'_>, req: &WriteRequest) -> Frame {
    let WriteOp::Cluster(op) = &req.op else {
        return Frame::error("ERR only cluster map changes apply to group 0");
    };
    let key = map_key();
    let mut map = match ctx.overlay.get(Cf::Meta, &key) {
        Ok(Some(raw)) => match decode_map(&raw) {
            Ok(m) => m,
            Err(e) => return Frame::Error(format!("ERR {e}").into()),
        },
        Ok(None) => return Frame::error("ERR this node holds no cluster map"),
        Err(e) => return Frame::Error(format!("ERR cannot read the cluster map: {e}").into()),
    };
    map.apply(op);
    ctx.overlay.put(Cf::Meta, key, encode_map(&map));
    Frame::ok()
}

/// The node id this data directory belongs to (written on first start).
fn node_id(dir: &Path, configured: Option<u64>) -> anyhow::Result<u64> {
    let path = dir.join(NODE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let stored: u64 = s.trim().parse().map_err(|_| {
                anyhow::anyhow!("{} is corrupted (expected a node id)", path.display())
            })?;
            if let Some(c) = configured.filter(|&c| c != stored) {
                anyhow::bail!(
                    "this data directory belongs to node {stored}, not node {c}: start it with --node-id {stored}, or give node {c} its own --data-dir"
                );
            }
            Ok(stored)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let Some(id) = configured else {
                anyhow::bail!("cluster mode needs --node-id");
            };
            if dir.join("slot-groups").exists() {
                anyhow::bail!(
                    "{} holds a standalone database; a cluster node needs an empty data directory",
                    dir.display()
                );
            }
            std::fs::write(&path, format!("{id}\n"))
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(id)
        }
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Opens the cluster side of a node: the map (created from `--initial-cluster` on first
/// start), the gRPC server, group 0 and this node's data-group replicas.
pub async fn open(
    config: &Config,
    storage: Arc<Storage>,
    syncer: Syncer,
    key_events: Arc<dyn KeyListener>,
) -> anyhow::Result<Opened> {
    let me = node_id(&config.data_dir, config.cluster.node_id)?;
    let map = match load_map(&storage)? {
        Some(m) => {
            if config.cluster.initial_cluster.is_some() {
                tracing::info!(
                    "this data directory already holds a cluster: --initial-cluster is ignored"
                );
            }
            m
        }
        None => {
            let Some(ic) = &config.cluster.initial_cluster else {
                anyhow::bail!("no cluster in this data directory: start with --initial-cluster");
            };
            let nodes = parse_initial_cluster(ic)?;
            let groups = config.raft.slot_groups_for(nodes.len());
            let map = ClusterMap::bootstrap(&nodes, groups);
            let mut batch = rocksdb::WriteBatch::default();
            batch.put_cf(storage.cf(Cf::Meta), map_key(), encode_map(&map));
            storage.write(batch)?;
            storage.sync_wal()?;
            tracing::info!(
                nodes = nodes.len(),
                slot_groups = groups,
                "created a new cluster map from --initial-cluster"
            );
            map
        }
    };
    let Some(my_entry) = map.nodes.get(&me) else {
        anyhow::bail!("node {me} is not a member of the cluster stored in this data directory");
    };
    let grpc_addr = config
        .cluster
        .grpc_addr
        .clone()
        .unwrap_or_else(|| my_entry.grpc_addr.clone());
    let listener = tokio::net::TcpListener::bind(&grpc_addr)
        .await
        .with_context(|| {
            format!("cannot listen for cluster traffic on {grpc_addr} (set --grpc-addr)")
        })?;
    let transport = GrpcTransport::new(&config.cluster.secret)?;
    let registry = Arc::new(Registry::default());
    let tuning = config.raft.tuning();
    let cell = Arc::new(MapCell {
        storage: storage.clone(),
        map: RwLock::new(Arc::new(map.clone())),
    });

    let Some(r0) = map.replica_on(MAP_GROUP, me) else {
        anyhow::bail!("node {me} has no replica of the cluster map");
    };
    let map_group = Arc::new(
        Group::open_networked(
            GroupId(MAP_GROUP),
            r0.id,
            storage.clone(),
            syncer.clone(),
            vec![(MAP_SLOT, MAP_SLOT)],
            execute,
            &tuning,
            transport.network(MAP_GROUP, r0.id),
        )
        .await?,
    );
    map_group.shared.set_listener(cell.clone());
    // The map may have moved on since the applied state we just read (a snapshot install).
    cell.reload();
    registry.register(MAP_GROUP, r0.id, map_group.raft.clone());

    let mut groups = Vec::new();
    for (&gid, entry) in map.groups.iter().filter(|(g, _)| **g != MAP_GROUP) {
        let Some(r) = entry.replicas.iter().find(|r| r.node == me) else {
            continue;
        };
        let group = Group::open_networked(
            GroupId(gid),
            r.id,
            storage.clone(),
            syncer.clone(),
            entry.ranges.clone(),
            crate::cmd::execute,
            &tuning,
            transport.network(gid, r.id),
        )
        .await?;
        group.shared.set_listener(key_events.clone());
        registry.register(gid, r.id, group.raft.clone());
        groups.push(Arc::new(group));
    }

    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    {
        let registry = registry.clone();
        let secret = config.cluster.secret.clone();
        let mut stop_rx = stop_rx.clone();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            };
            if let Err(e) = rpc_server::serve(listener, registry, &secret, stopped).await {
                tracing::error!(error = %e, "the cluster (gRPC) server failed; this node is cut off from its peers");
            }
        });
    }
    tracing::info!(node = me, grpc = %grpc_addr, replicas = groups.len() + 1, "cluster transport listening");

    let runtime = Arc::new(ClusterRuntime {
        me,
        map: cell,
        map_group: map_group.clone(),
        transport,
        registry,
        stop,
    });
    let topology = map.topology();
    let mut all = vec![map_group];
    all.extend(groups.iter().cloned());
    for g in &all {
        tokio::spawn(initialize(runtime.clone(), g.clone()));
    }
    tokio::spawn(maintain(
        runtime.clone(),
        all,
        config.announce_addr(),
        stop_rx,
    ));
    Ok(Opened {
        runtime,
        groups,
        topology,
    })
}

/// Initializes a brand-new group: its preferred leader at once, any other replica after
/// [`INIT_FALLBACK`] if nothing has reached it by then. Every replica uses the membership of
/// the bootstrap map, so concurrent initializations agree.
async fn initialize(rt: Arc<ClusterRuntime>, group: Arc<Group>) {
    match group.raft.is_initialized().await {
        Ok(true) | Err(_) => return,
        Ok(false) => {}
    }
    let map = rt.map();
    let Some(entry) = map.groups.get(&group.id.0) else {
        return;
    };
    let preferred = entry.replicas.first().map(|r| r.node) == Some(rt.me);
    if !preferred {
        tokio::time::sleep(INIT_FALLBACK).await;
        if group.raft.is_initialized().await.unwrap_or(true) {
            return;
        }
    }
    let members: BTreeMap<u64, NodeInfo> = entry
        .replicas
        .iter()
        .filter(|r| r.voter)
        .map(|r| (r.id, member_info(&map, r.node)))
        .collect();
    match group.raft.initialize(members).await {
        Ok(()) => tracing::info!(group = %group.id, preferred, "initialized the group"),
        Err(e) => tracing::debug!(group = %group.id, error = %e, "group already initialized"),
    }
}

/// What a group's membership records about a replica on `node`: only the gRPC address from
/// the map. The RESP address is left empty: it may change and is looked up in the map, and
/// memberships initialized on several nodes must be identical.
fn member_info(map: &ClusterMap, node: u64) -> NodeInfo {
    NodeInfo {
        raft_addr: map
            .nodes
            .get(&node)
            .map(|n| n.grpc_addr.clone())
            .unwrap_or_default(),
        resp_addr: String::new(),
    }
}

/// Keeps the map current: announces this node's RESP address, reports the groups it leads,
/// and (on group 0's leader) adds the map's learners.
async fn maintain(
    rt: Arc<ClusterRuntime>,
    groups: Vec<Arc<Group>>,
    announce: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // Per group led here: the term and when this node saw itself lead in it, and when it last
    // handed leadership back (see `give_back`).
    let mut led: HashMap<u64, (u64, Instant)> = HashMap::new();
    let mut handed: HashMap<u64, Instant> = HashMap::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(MAINTENANCE_TICK) => {}
            _ = stop.changed() => return,
        }
        let map = rt.map();
        if let Some(n) = map.nodes.get(&rt.me) {
            if n.resp_addr != announce {
                let op = ClusterOp::Announce {
                    node: rt.me,
                    resp_addr: announce.clone(),
                    grpc_addr: n.grpc_addr.clone(),
                };
                if let Err(e) = rt.propose(op).await {
                    tracing::debug!(error = %e, "cannot announce this node's address yet");
                }
            }
        }
        for g in &groups {
            let m = g.raft.metrics().borrow_watched().clone();
            if m.current_leader != Some(m.id) || !m.state.is_leader() {
                led.remove(&g.id.0);
                continue;
            }
            let since = led
                .entry(g.id.0)
                .and_modify(|e| {
                    if e.0 != m.current_term {
                        *e = (m.current_term, Instant::now());
                    }
                })
                .or_insert((m.current_term, Instant::now()))
                .1;
            give_back(g, &m, &map, since, &mut handed).await;
            let mine = LeaderRecord {
                replica: m.id,
                term: m.current_term,
            };
            if map.groups.get(&g.id.0).and_then(|e| e.leader) == Some(mine) {
                continue;
            }
            let op = ClusterOp::Leader {
                group: g.id.0,
                replica: m.id,
                term: m.current_term,
            };
            match rt.propose(op).await {
                Ok(()) => {
                    tracing::info!(group = %g.id, term = m.current_term, "reported leadership to the cluster map")
                }
                Err(e) => {
                    tracing::debug!(group = %g.id, error = %e, "cannot report leadership yet")
                }
            }
        }
        if rt.map_group.is_leader() {
            add_map_learners(&rt, &map).await;
        }
    }
}

/// Leaders start spread one per node (each group's preferred replica), and a failover piles
/// the dead node's groups onto the survivors. When the preferred replica is back and has every
/// entry this leader has, and this node has led for a while, leadership goes back to it
/// (openraft's leader transfer: no write is lost, clients see one MOVED). At most once per
/// [`GIVE_BACK_COOLDOWN`] per group, so a flapping node cannot make the group flap.
async fn give_back(
    g: &Group,
    m: &openraft::RaftMetrics<crate::raft::TypeConfig>,
    map: &ClusterMap,
    since: Instant,
    handed: &mut HashMap<u64, Instant>,
) {
    if g.id.0 == MAP_GROUP || since.elapsed() < GIVE_BACK_AFTER {
        return;
    }
    if handed
        .get(&g.id.0)
        .is_some_and(|t| t.elapsed() < GIVE_BACK_COOLDOWN)
    {
        return;
    }
    let Some(preferred) = map.groups.get(&g.id.0).and_then(|e| e.replicas.first()) else {
        return;
    };
    if preferred.id == m.id {
        return;
    }
    let caught_up = m
        .replication
        .as_ref()
        .and_then(|r| r.get(&preferred.id).cloned().flatten())
        .is_some_and(|matched| Some(matched.index) == m.last_log_index);
    if !caught_up {
        return;
    }
    handed.insert(g.id.0, Instant::now());
    tracing::info!(group = %g.id, to_replica = preferred.id, to_node = preferred.node, "handing leadership back to the group's preferred replica");
    if let Err(e) = g.raft.trigger().transfer_leader(preferred.id).await {
        tracing::warn!(group = %g.id, error = %e, "leader transfer failed");
    }
}

/// Nodes beyond the map's voters follow it as learners; group 0's leader adds them.
async fn add_map_learners(rt: &ClusterRuntime, map: &ClusterMap) {
    let Some(entry) = map.groups.get(&MAP_GROUP) else {
        return;
    };
    let members = rt
        .map_group
        .raft
        .metrics()
        .borrow_watched()
        .membership_config
        .clone();
    for r in entry.replicas.iter().filter(|r| !r.voter) {
        if members.membership().get_node(&r.id).is_some() {
            continue;
        }
        let node = member_info(map, r.node);
        if let Err(e) = rt.map_group.raft.add_learner(r.id, node, false).await {
            tracing::debug!(replica = r.id, error = %e, "cannot add a cluster-map learner yet");
        }
    }
}

impl ClusterRuntime {
    /// The current cluster map.
    pub fn map(&self) -> Arc<ClusterMap> {
        self.map.map.read().clone()
    }

    /// Proposes a change to the map: on group 0 here if this node leads it, else forwarded to
    /// the node that does.
    pub async fn propose(&self, op: ClusterOp) -> Result<(), String> {
        let m = self.map_group.raft.metrics().borrow_watched().clone();
        let Some(leader) = m.current_leader else {
            return Err("the cluster map has no leader".into());
        };
        if leader == m.id {
            let req = WriteRequest {
                now_ms: crate::storage::keyspace::unix_ms(),
                max_value_len: 0,
                op: WriteOp::Cluster(op),
            };
            let reply = self
                .map_group
                .propose(req)
                .await
                .map_err(|e| e.to_string())?;
            return match reply.await {
                Ok(Frame::Error(e)) => Err(e.to_string()),
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            };
        }
        let Some(node) = m.membership_config.membership().get_node(&leader) else {
            return Err(format!("cluster map leader {leader} has no address"));
        };
        self.transport
            .propose_cluster_change(&node.raft_addr, leader, &op, FORWARD_TIMEOUT)
            .await
    }

    /// The node leading `group`: this node's own view if it hosts a replica (it is the
    /// freshest), else the map's last report.
    pub fn leader_node(&self, group: GroupId, local: Option<&Group>) -> Option<u64> {
        let map = self.map();
        if let Some(g) = local {
            let m = g.raft.metrics().borrow_watched().clone();
            return m.current_leader.and_then(|r| map.node_of(group.0, r));
        }
        map.leader_node(group.0)
    }

    /// The RESP address of the node hosting replica `replica` of any group.
    pub fn resp_addr_of_replica(&self, replica: u64) -> Option<String> {
        let map = self.map();
        let node = map
            .groups
            .values()
            .flat_map(|g| &g.replicas)
            .find(|r| r.id == replica)?
            .node;
        map.resp_addr(node).map(str::to_string)
    }

    /// Stops the gRPC server and group 0 (the data groups are stopped by the node).
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.map_group.raft.shutdown().await {
            tracing::warn!(error = %e, "cluster map group did not stop cleanly");
        }
    }
}
