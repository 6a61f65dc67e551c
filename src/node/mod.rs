//! A running node: storage, the slot groups it hosts, and node-wide services (client registry,
//! statistics, SCAN cursors, runtime configuration). In cluster mode (`cluster`) it hosts
//! replicas of some slot groups and of the cluster map.

pub mod cluster;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

use crate::cluster::{GroupId, SlotId, Topology};
use crate::config::{Config, RuntimeConfig};
use crate::raft::{Group, NodeInfo, Syncer};
use crate::server::blocking::KeyEvents;
use crate::server::clients::ClientRegistry;
use crate::server::stats::Stats;
use crate::storage::{Storage, StorageOptions};

pub struct Node {
    pub config: Config,
    pub runtime: RwLock<RuntimeConfig>,
    pub storage: Arc<Storage>,
    pub syncer: Syncer,
    /// Every slot group of the cluster (or of this node, when standalone).
    pub topology: Topology,
    /// The slot groups with a replica on this node, in id order (all of them when standalone).
    pub groups: Vec<Arc<Group>>,
    /// Cluster mode: the cluster map and the transport to the other nodes.
    pub cluster: Option<Arc<cluster::ClusterRuntime>>,
    pub clients: ClientRegistry,
    pub stats: Stats,
    pub cursors: CursorStore,
    /// Blocked clients and the key changes that wake them (fed by every group's state machine).
    pub key_events: Arc<KeyEvents>,
    /// Pub/sub channels of this node's clients (not replicated).
    pub pubsub: Arc<crate::server::pubsub::PubSub>,
    pub started_at: Instant,
    /// 40 hex characters, stable across restarts (CLUSTER MYID, CLUSTER NODES).
    pub node_id: String,
    /// Random per process (INFO run_id).
    pub run_id: String,
    pub data_dir: PathBuf,
    /// Unix seconds of the last durable point reported by LASTSAVE (start time: every write
    /// is durable when acknowledged, so there is no separate save).
    pub last_save: AtomicU64,
    /// Set by SHUTDOWN: the server stops as on SIGTERM.
    pub shutdown_requested: tokio::sync::Notify,
}

impl Node {
    /// Opens storage and every slot group, and waits (bounded) until each group has a leader.
    pub async fn open(config: Config) -> anyhow::Result<Arc<Node>> {
        let data_dir = config.data_dir.clone();
        std::fs::create_dir_all(&data_dir).map_err(|e| {
            anyhow::anyhow!("cannot create data directory {}: {e}", data_dir.display())
        })?;
        let clustered = cluster::enabled(&config);
        // Before opening storage: a brand-new directory must be recognised as such.
        let groups_count = if clustered {
            0
        } else {
            load_or_store_slot_groups(&data_dir, config.raft.slot_groups_for(1))?
        };
        let storage_opts = StorageOptions {
            block_cache_mb: config.storage.block_cache_mb,
            write_buffer_mb: config.storage.write_buffer_mb,
            ..StorageOptions::default()
        };
        let storage = Arc::new(Storage::open(&data_dir, &storage_opts).map_err(|e| {
            anyhow::anyhow!(
                "cannot open the database in {}: {e} (is another raftrocks using this directory?)",
                data_dir.display()
            )
        })?);
        let syncer = Syncer::start(storage.clone())?;
        let key_events = Arc::new(KeyEvents::default());
        let (topology, groups, cluster) = if clustered {
            let opened =
                cluster::open(&config, storage.clone(), syncer.clone(), key_events.clone()).await?;
            (opened.topology, opened.groups, Some(opened.runtime))
        } else {
            let (topology, groups) =
                open_standalone(&config, &storage, &syncer, &key_events, groups_count).await?;
            (topology, groups, None)
        };
        let node_id = match &cluster {
            Some(c) => crate::cluster::map::redis_node_id(c.me),
            None => load_or_create_node_id(&data_dir)?,
        };
        let runtime = RwLock::new(config.runtime.clone());
        Ok(Arc::new(Node {
            runtime,
            storage,
            syncer,
            topology,
            groups,
            cluster,
            clients: ClientRegistry::default(),
            stats: Stats::default(),
            cursors: CursorStore::new(100_000),
            key_events,
            pubsub: Arc::default(),
            started_at: Instant::now(),
            node_id,
            run_id: random_hex(40),
            data_dir,
            last_save: AtomicU64::new(crate::storage::keyspace::unix_ms() / 1000),
            shutdown_requested: tokio::sync::Notify::new(),
            config,
        }))
    }

    /// This node's replica of group `id`, if it hosts one.
    pub fn group(&self, id: GroupId) -> Option<&Arc<Group>> {
        // Few groups per node: a scan is cheaper than any map.
        self.groups.iter().find(|g| g.id == id)
    }

    /// This node's replica of `slot`'s group, if it hosts one.
    pub fn group_of_slot(&self, slot: SlotId) -> Option<&Arc<Group>> {
        self.group(self.topology.group_of(slot))
    }

    /// The groups whose keys commands without keys (DBSIZE, KEYS, SCAN, FLUSHALL) cover: all
    /// of them on a standalone node; in a cluster, those this node leads — a Redis Cluster
    /// master answers for its own slots — or, for a READONLY client, all it hosts.
    pub fn served_groups(&self, readonly: bool) -> Vec<&Arc<Group>> {
        if self.cluster.is_none() || readonly {
            return self.groups.iter().collect();
        }
        self.groups.iter().filter(|g| g.is_leader()).collect()
    }

    /// The physical database byte of logical database `db` within `slot`'s group (the
    /// identity for a group this node does not host).
    pub fn physical_db(&self, slot: SlotId, db: u8) -> u8 {
        self.group_of_slot(slot)
            .map(|g| g.shared.keyspace.physical_db(db))
            .unwrap_or(db)
    }

    /// Keys per logical database across the groups this node answers for (DBSIZE, INFO
    /// keyspace; see [`Node::served_groups`]): (keys, expires).
    pub fn key_counts(&self, db: u8) -> (u64, u64) {
        let (mut keys, mut expires) = (0, 0);
        for g in self.served_groups(false) {
            let pdb = g.shared.keyspace.physical_db(db) as usize;
            let c = g.shared.keyspace.counters();
            keys += c.keys[pdb];
            expires += c.expires[pdb];
        }
        (keys, expires)
    }

    /// Stops every Raft group (flushing nothing extra: acknowledged writes are already durable).
    pub async fn shutdown(&self) {
        if let Some(c) = &self.cluster {
            c.shutdown().await;
        }
        for g in &self.groups {
            if let Err(e) = g.raft.shutdown().await {
                tracing::warn!(group = %g.id, error = %e, "raft group did not stop cleanly");
            }
        }
        if let Err(e) = self.storage.sync_wal() {
            tracing::warn!(error = %e, "final WAL sync failed");
        }
    }
}

/// Opens every slot group of a standalone node (each its own only voter) and waits (bounded)
/// until each has a leader and has re-applied what a crash may have lost.
async fn open_standalone(
    config: &Config,
    storage: &Arc<Storage>,
    syncer: &Syncer,
    key_events: &Arc<KeyEvents>,
    groups_count: u16,
) -> anyhow::Result<(Topology, Vec<Arc<Group>>)> {
    let topology = Topology::even(groups_count);
    let me = NodeInfo {
        raft_addr: String::new(),
        resp_addr: config.announce_addr(),
    };
    let mut groups = Vec::new();
    for g in topology.groups() {
        let group = Group::open(
            g.id,
            1,
            me.clone(),
            storage.clone(),
            syncer.clone(),
            g.ranges.clone(),
            crate::cmd::execute,
            &config.raft.tuning(),
        )
        .await?;
        group.shared.set_listener(key_events.clone());
        groups.push(Arc::new(group));
    }
    for g in &groups {
        if !g.wait_for_leader(Duration::from_secs(30)).await {
            anyhow::bail!("slot group {} elected no leader within 30 s", g.id);
        }
        g.catch_up()
            .await
            .map_err(|e| anyhow::anyhow!("slot group {} could not catch up: {e}", g.id))?;
    }
    Ok((topology, groups))
}

/// The number of slot groups is fixed when the data directory is created: every group's log
/// and counters refer to its slot ranges. A different `--slot-groups` later is ignored with a
/// warning (changing it is a group split, an online operation of the cluster milestone).
fn load_or_store_slot_groups(dir: &std::path::Path, wanted: u16) -> anyhow::Result<u16> {
    let path = dir.join("slot-groups");
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let stored: u16 = s.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "{} is corrupted (expected a number of slot groups)",
                    path.display()
                )
            })?;
            if stored != wanted {
                tracing::warn!(
                    stored,
                    requested = wanted,
                    "this data directory was created with {stored} slot group(s); keeping them (the slot-groups setting only applies to new data directories)"
                );
            }
            Ok(stored)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A directory that already holds a database but no slot-groups file was not made
            // by this version: refuse rather than guess.
            if dir.join("db").join("CURRENT").exists() {
                anyhow::bail!(
                    "{} holds a database but no slot-groups file; cannot tell how its slots were grouped",
                    dir.display()
                );
            }
            std::fs::write(&path, format!("{wanted}\n"))
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            Ok(wanted)
        }
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

fn load_or_create_node_id(dir: &std::path::Path) -> anyhow::Result<String> {
    let path = dir.join("node-id");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_string();
        if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(s);
        }
    }
    let id = random_hex(40);
    std::fs::write(&path, format!("{id}\n"))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(id)
}

pub fn random_hex(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// SCAN cursors. Redis clients expect numeric cursors, but our position in the keyspace is a
/// RocksDB key; the node remembers the position behind each cursor it handed out (bounded,
/// oldest forgotten first), as Kvrocks does. Cursor 0 starts a new iteration.
pub struct CursorStore {
    next: AtomicU64,
    cap: usize,
    inner: Mutex<Cursors>,
}

/// Cursor -> position, plus the cursors in the order they were handed out (for eviction).
type Cursors = (HashMap<u64, Vec<u8>>, VecDeque<u64>);

impl CursorStore {
    pub fn new(cap: usize) -> CursorStore {
        CursorStore {
            next: AtomicU64::new(1),
            cap,
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// Remembers `position` (the raw key to continue after) and returns its cursor.
    pub fn save(&self, position: Vec<u8>) -> u64 {
        // Spread cursors out so they do not look like small offsets.
        let id = self
            .next
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9)
            | 1;
        let mut g = self.inner.lock();
        g.0.insert(id, position);
        g.1.push_back(id);
        while g.1.len() > self.cap {
            if let Some(old) = g.1.pop_front() {
                g.0.remove(&old);
            }
        }
        id
    }

    /// The position behind a cursor, if it is still remembered.
    pub fn load(&self, cursor: u64) -> Option<Vec<u8>> {
        self.inner.lock().0.get(&cursor).cloned()
    }
}
