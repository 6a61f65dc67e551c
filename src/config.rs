//! Node configuration: embedded defaults, then an optional TOML file, then `RAFTROCKS_*`
//! environment variables, then command-line flags (each later source wins).
//!
//! Every key is documented in deploy/raftrocks.example.toml. Settings under `[server]` can also
//! be changed at run time with CONFIG SET (see [`RuntimeConfig`]).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::raft::RaftTuning;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid setting {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

/// The whole configuration of a node.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Address for Redis clients.
    pub resp_addr: String,
    /// Address announced to clients in MOVED and CLUSTER replies (default: resp-addr, with
    /// an unspecified IP replaced by 127.0.0.1).
    pub announce_addr: Option<String>,
    /// Where RocksDB and the node id live.
    pub data_dir: PathBuf,
    /// tracing filter, e.g. "info" or "raftrocks=debug,openraft=info".
    pub log_level: String,
    /// The `[server]` section: settings CONFIG SET can change at run time.
    #[serde(rename = "server")]
    pub runtime: RuntimeConfig,
    pub storage: StorageConfig,
    pub raft: RaftConfig,
    pub cluster: ClusterConfig,
}

/// The `[cluster]` section: set `initial-cluster` (and `node-id`, `grpc-addr`) to run this
/// node as part of a multi-node cluster (docs/cluster.md). Without them a node is standalone.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClusterConfig {
    /// This node's id in `initial-cluster` (a positive integer, unique in the cluster).
    pub node_id: Option<u64>,
    /// `1=HOST:GRPCPORT,2=HOST:GRPCPORT,...`: the nodes of a new cluster. Ignored once the
    /// data directory holds a cluster.
    pub initial_cluster: Option<String>,
    /// Address for Raft traffic from other nodes (default: this node's `initial-cluster`
    /// address).
    pub grpc_addr: Option<String>,
    /// Shared secret nodes present to each other (empty: none).
    pub secret: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            resp_addr: "127.0.0.1:6379".into(),
            announce_addr: None,
            data_dir: PathBuf::from("./data"),
            log_level: "info,openraft=warn".into(),
            runtime: RuntimeConfig::default(),
            storage: StorageConfig::default(),
            raft: RaftConfig::default(),
            cluster: ClusterConfig::default(),
        }
    }
}

/// Settings CONFIG GET/SET can read and change while the node runs.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuntimeConfig {
    /// Password of the default user; empty = no authentication (`requirepass`).
    pub requirepass: String,
    /// Maximum simultaneous client connections.
    pub maxclients: usize,
    /// Close connections idle for this many seconds (0 = never).
    pub timeout: u64,
    /// Largest bulk string a client may send, in bytes.
    pub proto_max_bulk_len: usize,
    /// Output buffer limit of normal clients: hard bytes, soft bytes, soft seconds. A client
    /// whose unread replies exceed the hard limit (or the soft limit for longer than the soft
    /// seconds) is disconnected. 0 disables a limit; even then the server stops reading from a
    /// client that does not read its replies, so memory stays bounded.
    pub client_output_buffer_limit: OutputLimit,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            requirepass: String::new(),
            maxclients: 10_000,
            timeout: 0,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_output_buffer_limit: OutputLimit::default(),
        }
    }
}

/// `client-output-buffer-limit normal <hard> <soft> <soft-seconds>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

impl OutputLimit {
    /// Parses Redis's syntax: `normal 1mb 512kb 10` (several classes may be given; only
    /// `normal` applies here, `replica` and `pubsub` are accepted and ignored).
    pub fn parse(s: &str) -> Result<Option<OutputLimit>, String> {
        let parts: Vec<&str> = s.split_whitespace().collect();
        if parts.is_empty() || !parts.len().is_multiple_of(4) {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let mut normal = None;
        for chunk in parts.chunks(4) {
            let class = chunk[0].to_ascii_lowercase();
            if !matches!(class.as_str(), "normal" | "replica" | "slave" | "pubsub") {
                return Err("Invalid client class specified in buffer limit configuration.".into());
            }
            let hard = parse_memory(chunk[1]).ok_or("invalid hard limit")?;
            let soft = parse_memory(chunk[2]).ok_or("invalid soft limit")?;
            let secs = chunk[3]
                .parse::<u64>()
                .map_err(|_| "invalid soft seconds")?;
            if class == "normal" {
                normal = Some(OutputLimit {
                    hard,
                    soft,
                    soft_seconds: secs,
                });
            }
        }
        Ok(normal)
    }

    pub fn render(&self) -> String {
        format!(
            "normal {} {} {} slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            self.hard, self.soft, self.soft_seconds
        )
    }
}

impl<'de> Deserialize<'de> for OutputLimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match OutputLimit::parse(&s) {
            Ok(Some(l)) => Ok(l),
            Ok(None) => Ok(OutputLimit::default()),
            Err(e) => Err(serde::de::Error::custom(e)),
        }
    }
}

/// Parses a Redis memory amount: `1024`, `1kb`, `1k`, `5mb`, `1gb` (k = 1000, kb = 1024).
pub fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (num, mult) = if let Some(n) = lower.strip_suffix("gb") {
        (n, 1u64 << 30)
    } else if let Some(n) = lower.strip_suffix("mb") {
        (n, 1 << 20)
    } else if let Some(n) = lower.strip_suffix("kb") {
        (n, 1 << 10)
    } else if let Some(n) = lower.strip_suffix('g') {
        (n, 1_000_000_000)
    } else if let Some(n) = lower.strip_suffix('m') {
        (n, 1_000_000)
    } else if let Some(n) = lower.strip_suffix('k') {
        (n, 1_000)
    } else if let Some(n) = lower.strip_suffix('b') {
        (n, 1)
    } else {
        (lower.as_str(), 1)
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct StorageConfig {
    /// RocksDB block cache shared by all column families (MiB).
    pub block_cache_mb: usize,
    /// Memtable size per data column family (MiB).
    pub write_buffer_mb: usize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            block_cache_mb: 128,
            write_buffer_mb: 32,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RaftConfig {
    /// How many slot groups (Raft groups) the 16384 slots are split into on a new node or
    /// cluster (default: 1 on a standalone node, one per node in a cluster). Fixed once the
    /// data directory exists.
    pub slot_groups: Option<u16>,
    pub heartbeat_ms: u64,
    pub election_min_ms: u64,
    pub election_max_ms: u64,
    /// Record a snapshot (and purge the log behind it) every this many entries.
    pub snapshot_logs: u64,
    /// Log entries kept behind the last snapshot (for followers catching up).
    pub keep_logs: u64,
}

impl Default for RaftConfig {
    fn default() -> Self {
        let t = RaftTuning::default();
        RaftConfig {
            slot_groups: None,
            heartbeat_ms: t.heartbeat_ms,
            election_min_ms: t.election_min_ms,
            election_max_ms: t.election_max_ms,
            snapshot_logs: t.snapshot_logs,
            keep_logs: t.keep_logs,
        }
    }
}

impl RaftConfig {
    /// The slot groups of a new node or cluster of `nodes` nodes.
    pub fn slot_groups_for(&self, nodes: usize) -> u16 {
        self.slot_groups
            .unwrap_or(if nodes > 1 { nodes.min(1024) as u16 } else { 1 })
    }

    pub fn tuning(&self) -> RaftTuning {
        RaftTuning {
            heartbeat_ms: self.heartbeat_ms,
            election_min_ms: self.election_min_ms,
            election_max_ms: self.election_max_ms,
            snapshot_logs: self.snapshot_logs,
            keep_logs: self.keep_logs,
        }
    }
}

/// Values given on the command line or in the environment (None = not given).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub resp_addr: Option<String>,
    pub announce_addr: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub password: Option<String>,
    pub log_level: Option<String>,
    pub slot_groups: Option<u16>,
    pub maxclients: Option<usize>,
    pub node_id: Option<u64>,
    pub initial_cluster: Option<String>,
    pub grpc_addr: Option<String>,
    pub cluster_secret: Option<String>,
}

impl Config {
    /// Loads the file (if any) and applies the overrides.
    pub fn load(file: Option<&Path>, o: Overrides) -> Result<Config, ConfigError> {
        let mut c = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Config::from_toml(&text).map_err(|message| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message,
                })?
            }
            None => Config::default(),
        };
        if let Some(v) = o.resp_addr {
            c.resp_addr = v;
        }
        if let Some(v) = o.announce_addr {
            c.announce_addr = Some(v);
        }
        if let Some(v) = o.data_dir {
            c.data_dir = v;
        }
        if let Some(v) = o.password {
            c.runtime.requirepass = v;
        }
        if let Some(v) = o.log_level {
            c.log_level = v;
        }
        if let Some(v) = o.slot_groups {
            c.raft.slot_groups = Some(v);
        }
        if let Some(v) = o.node_id {
            c.cluster.node_id = Some(v);
        }
        if let Some(v) = o.initial_cluster {
            c.cluster.initial_cluster = Some(v);
        }
        if let Some(v) = o.grpc_addr {
            c.cluster.grpc_addr = Some(v);
        }
        if let Some(v) = o.cluster_secret {
            c.cluster.secret = v;
        }
        if let Some(v) = o.maxclients {
            c.runtime.maxclients = v;
        }
        c.validate()?;
        Ok(c)
    }

    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| ConfigError::Invalid {
            key,
            message: message.to_string(),
        };
        if self.resp_addr.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "resp-addr",
                "expected IP:PORT, e.g. 127.0.0.1:6379",
            ));
        }
        if self
            .raft
            .slot_groups
            .is_some_and(|n| !(1..=1024).contains(&n))
        {
            return Err(invalid("raft.slot-groups", "must be between 1 and 1024"));
        }
        if self.raft.election_min_ms >= self.raft.election_max_ms
            || self.raft.heartbeat_ms * 2 > self.raft.election_min_ms
        {
            return Err(invalid(
                "raft",
                "need heartbeat-ms * 2 <= election-min-ms < election-max-ms",
            ));
        }
        if let Some(ic) = &self.cluster.initial_cluster {
            let nodes = crate::cluster::map::parse_initial_cluster(ic)
                .map_err(|e| invalid("cluster.initial-cluster", &e.to_string()))?;
            let Some(me) = self.cluster.node_id else {
                return Err(invalid(
                    "cluster.node-id",
                    "a node of a cluster needs --node-id (its number in --initial-cluster)",
                ));
            };
            if !nodes.iter().any(|(id, _)| *id == me) {
                return Err(invalid(
                    "cluster.node-id",
                    &format!("node {me} is not listed in --initial-cluster"),
                ));
            }
        }
        if self
            .cluster
            .grpc_addr
            .as_ref()
            .is_some_and(|a| a.parse::<std::net::SocketAddr>().is_err())
        {
            return Err(invalid(
                "cluster.grpc-addr",
                "expected IP:PORT, e.g. 0.0.0.0:16379",
            ));
        }
        if self.runtime.maxclients == 0 {
            return Err(invalid("server.maxclients", "must be at least 1"));
        }
        if self.runtime.proto_max_bulk_len < 1024 * 1024 {
            return Err(invalid("server.proto-max-bulk-len", "must be at least 1mb"));
        }
        Ok(())
    }

    /// The address clients are sent to for this node.
    pub fn announce_addr(&self) -> String {
        if let Some(a) = &self.announce_addr {
            return a.clone();
        }
        match self.resp_addr.parse::<std::net::SocketAddr>() {
            Ok(a) if a.ip().is_unspecified() => format!("127.0.0.1:{}", a.port()),
            _ => self.resp_addr.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn file_then_overrides() {
        let c = Config::from_toml(
            "resp-addr = \"0.0.0.0:7000\"\n[server]\nmaxclients = 5\nclient-output-buffer-limit = \"normal 1mb 512kb 10\"\n[raft]\nslot-groups = 2\n",
        )
        .unwrap();
        assert_eq!(c.resp_addr, "0.0.0.0:7000");
        assert_eq!(c.runtime.maxclients, 5);
        assert_eq!(c.runtime.client_output_buffer_limit.hard, 1 << 20);
        assert_eq!(c.runtime.client_output_buffer_limit.soft, 512 << 10);
        assert_eq!(c.raft.slot_groups, Some(2));
        assert_eq!(c.announce_addr(), "127.0.0.1:7000");
        assert!(Config::from_toml("no-such-key = 1").is_err());
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1mb"), Some(1 << 20));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("12"), Some(12));
        assert_eq!(parse_memory("x"), None);
        assert!(OutputLimit::parse("normal 1 2").is_err());
    }
}
