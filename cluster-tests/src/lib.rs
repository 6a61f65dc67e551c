//! Multi-node test harness: runs real `raftrocks server` processes on loopback ports.
//!
//! [`Cluster::start`] picks free ports, starts `n` nodes (one data dir each, inside one
//! temporary directory, stdout/stderr of each node appended to its own log file) and waits
//! until every node reports `cluster_state:ok`. Tests then talk to the nodes through plain
//! per-node connections ([`Cluster::client`]), a cluster-aware client
//! ([`Cluster::cluster_client`]) or `redis-cli` ([`Cluster::redis_cli`]).
//!
//! Failures: [`Cluster::kill9`] (SIGKILL), [`Cluster::stop`] (SIGTERM), [`Cluster::restart`]
//! (same command line, same data dir), and — with [`ClusterOpts::proxy_grpc`] — network
//! partitions without root: every node's gRPC address in `--initial-cluster` is a TCP proxy
//! run by the harness. [`Cluster::partition`] cuts a node off in both directions (its
//! established Raft connections are dropped and new ones are closed at once) until
//! [`Cluster::heal`]. Traffic *from* the cut node to a peer's proxy is recognised by the
//! process that owns the connecting socket (`/proc/net/tcp` + `/proc/<pid>/fd`), because all
//! nodes dial from 127.0.0.1 and the source port alone says nothing.
//!
//! Every process is killed when the [`Cluster`] is dropped, also when a test panics; then the
//! tail of every node's log is printed and the temporary directory is kept for inspection.
//!
//! The binary: `RAFTROCKS_BIN`, else `raftrocks` in the cargo profile directory this test
//! executable was built in (`target/release/deps/<test>` -> `target/release/raftrocks`).
//! Build it first: `cargo build --release --bin raftrocks` (scripts/test builds everything).

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use redis::aio::MultiplexedConnection;
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::Value;

pub use redis;

/// Bound for a whole cluster to become `cluster_state:ok` (slow, busy 2-core machine).
pub const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a node may take to answer PING after being spawned.
pub const SPAWN_TIMEOUT: Duration = Duration::from_secs(60);
/// Reply timeout of the harness's clients; a node that does not answer within it is treated
/// as unavailable (never as "succeeded").
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

/// How to start a cluster. `Default` is a plain cluster: default slot groups, no password,
/// no secret, direct gRPC (no partition proxy).
#[derive(Clone, Debug)]
pub struct ClusterOpts {
    /// `--slot-groups N`; `None` lets the node choose (one group per node).
    pub slot_groups: Option<usize>,
    /// `--password`: clients of the harness authenticate with it.
    pub password: Option<String>,
    /// `--cluster-secret`.
    pub cluster_secret: Option<String>,
    /// Text of a TOML file passed with `--config` (e.g. a `[raft]` section).
    pub config_toml: Option<String>,
    /// Route every node's gRPC through a harness proxy so tests can partition nodes.
    pub proxy_grpc: bool,
    /// Further arguments appended to every node's command line.
    pub extra_args: Vec<String>,
    /// Bound for `cluster_state:ok` on every node after start.
    pub ready_timeout: Duration,
}

impl Default for ClusterOpts {
    fn default() -> Self {
        ClusterOpts {
            slot_groups: None,
            password: None,
            cluster_secret: None,
            config_toml: None,
            proxy_grpc: false,
            extra_args: Vec::new(),
            ready_timeout: READY_TIMEOUT,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Binary and ports
// ---------------------------------------------------------------------------------------

/// The raftrocks binary under test (see the module docs).
pub fn raftrocks_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("RAFTROCKS_BIN") {
        return PathBuf::from(p);
    }
    // target/<profile>/deps/<test-exe> -> target/<profile>/raftrocks
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let bin = dir.join("raftrocks");
    assert!(
        bin.is_file(),
        "raftrocks binary not found at {} (build it with `cargo build --release --bin raftrocks`, \
         or set RAFTROCKS_BIN)",
        bin.display()
    );
    bin
}

/// `count` distinct ports that are free on 127.0.0.1 right now. Drawn at random below the
/// Linux ephemeral range, so the tests' own outgoing sockets cannot be holding them.
pub fn free_ports(count: usize) -> Vec<u16> {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let mut ports: Vec<u16> = Vec::with_capacity(count);
    let mut attempts = 0;
    while ports.len() < count {
        attempts += 1;
        assert!(attempts < 10_000, "could not find {count} free ports");
        let p: u16 = rng.gen_range(20_000..32_000);
        if ports.contains(&p) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", p)).is_ok() {
            ports.push(p);
        }
    }
    ports
}

// ---------------------------------------------------------------------------------------
// Slots
// ---------------------------------------------------------------------------------------

/// CRC16/XMODEM, the checksum Redis Cluster hashes keys with.
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Redis Cluster's slot of a key: CRC16 of the hash tag (`{...}`, if non-empty) or the key.
pub fn key_slot(key: &[u8]) -> u16 {
    let mut hashed = key;
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                hashed = &key[open + 1..open + 1 + len];
            }
        }
    }
    crc16(hashed) % 16384
}

/// The first key `<prefix><n>` (n = 0, 1, ...) whose slot lies in `lo..=hi`.
pub fn key_in_slots(prefix: &str, lo: u16, hi: u16) -> String {
    (0u64..)
        .map(|n| format!("{prefix}{n}"))
        .find(|k| (lo..=hi).contains(&key_slot(k.as_bytes())))
        .expect("some key hashes into every slot range")
}

/// One entry of CLUSTER SLOTS: an inclusive slot range, its master and replicas as
/// `host:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotRange {
    pub start: u16,
    pub end: u16,
    pub master: String,
    pub replicas: Vec<String>,
}

impl SlotRange {
    pub fn contains(&self, slot: u16) -> bool {
        (self.start..=self.end).contains(&slot)
    }
}

fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Okay => Some("OK".into()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn value_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        other => value_str(other)?.parse().ok(),
    }
}

fn node_addr(v: &Value) -> Result<String> {
    let Value::Array(parts) = v else {
        bail!("CLUSTER SLOTS node is not an array: {v:?}");
    };
    let host = parts.first().and_then(value_str).context("node host")?;
    let port = parts.get(1).and_then(value_int).context("node port")?;
    Ok(format!("{host}:{port}"))
}

/// Parses a CLUSTER SLOTS reply.
pub fn parse_cluster_slots(v: &Value) -> Result<Vec<SlotRange>> {
    let Value::Array(entries) = v else {
        bail!("CLUSTER SLOTS is not an array: {v:?}");
    };
    let mut out = Vec::new();
    for e in entries {
        let Value::Array(items) = e else {
            bail!("CLUSTER SLOTS entry is not an array: {e:?}");
        };
        if items.len() < 3 {
            bail!("CLUSTER SLOTS entry too short: {e:?}");
        }
        let start = value_int(&items[0]).context("start slot")?;
        let end = value_int(&items[1]).context("end slot")?;
        let master = node_addr(&items[2])?;
        let replicas = items[3..].iter().map(node_addr).collect::<Result<_>>()?;
        out.push(SlotRange {
            start: u16::try_from(start)?,
            end: u16::try_from(end)?,
            master,
            replicas,
        });
    }
    out.sort_by_key(|r| r.start);
    Ok(out)
}

/// Checks that ranges (sorted) cover 0..=16383 exactly once.
pub fn check_full_coverage(ranges: &[SlotRange]) -> Result<()> {
    let mut next: u32 = 0;
    for r in ranges {
        if r.start as u32 != next || r.end < r.start {
            bail!("slot ranges have a gap or overlap at slot {next}: {ranges:?}");
        }
        next = r.end as u32 + 1;
    }
    if next != 16384 {
        bail!("slot ranges end at {next}, not 16384: {ranges:?}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Redis error helpers
// ---------------------------------------------------------------------------------------

/// A server error as it appears on the wire without the `-` (`MOVED 3999 127.0.0.1:7002`);
/// `None` for client-side errors (I/O, timeouts, parse errors).
pub fn server_error(e: &redis::RedisError) -> Option<String> {
    let code = e.code()?;
    Some(match e.detail() {
        Some(d) => format!("{code} {d}"),
        None => code.to_string(),
    })
}

/// `(slot, host:port)` of a `MOVED` error.
pub fn moved_target(e: &redis::RedisError) -> Option<(u16, String)> {
    let text = server_error(e)?;
    let mut it = text.split_whitespace();
    if it.next()? != "MOVED" {
        return None;
    }
    let slot = it.next()?.parse().ok()?;
    Some((slot, it.next()?.to_string()))
}

/// Builds a command from string arguments.
pub fn cmd(args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c
}

/// Polls `f` every 100 ms until it returns `Ok`; panics after `timeout` with `what` and the
/// last error.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match f().await {
            Ok(v) => return v,
            Err(e) => e,
        };
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}; last error: {last:#}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Partition proxy
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct ProxyState {
    /// Nodes cut off from everyone.
    cut: HashSet<usize>,
    /// Pid of each node's current process (to tell which node opened a connection).
    pids: Vec<Option<u32>>,
    /// Live proxied connections: (origin node if known, destination node, task).
    conns: Vec<(Option<usize>, usize, tokio::task::AbortHandle)>,
}

impl ProxyState {
    fn blocked(&self, origin: Option<usize>, dest: usize) -> bool {
        self.cut.contains(&dest) || origin.is_some_and(|o| self.cut.contains(&o))
    }
}

/// The inode of the TCP socket whose local end is 127.0.0.1:`local_port` and remote end
/// 127.0.0.1:`remote_port` (the connecting side of a connection the proxy accepted).
fn socket_inode(local_port: u16, remote_port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let want_local = format!("0100007F:{local_port:04X}");
    let want_remote = format!("0100007F:{remote_port:04X}");
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 9 && f[1] == want_local && f[2] == want_remote {
            f[9].parse().ok()
        } else {
            None
        }
    })
}

/// Which node's process holds the socket with this inode.
fn owner_of_inode(inode: u64, pids: &[Option<u32>]) -> Option<usize> {
    let needle = format!("socket:[{inode}]");
    pids.iter().enumerate().find_map(|(i, pid)| {
        let pid = (*pid)?;
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        fds.flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t.as_os_str() == needle.as_str()))
            .then_some(i)
    })
}

async fn run_proxy(
    listener: tokio::net::TcpListener,
    listen_port: u16,
    dest: usize,
    target: String,
    state: Arc<Mutex<ProxyState>>,
) {
    loop {
        let Ok((inbound, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let pids = state.lock().expect("proxy state").pids.clone();
        // The connecting socket is in its owner's fd table as soon as connect() returned;
        // look twice in case /proc/net/tcp is read in the middle of an update.
        let mut origin = None;
        for _ in 0..2 {
            origin = socket_inode(peer.port(), listen_port).and_then(|i| owner_of_inode(i, &pids));
            if origin.is_some() {
                break;
            }
        }
        let mut st = state.lock().expect("proxy state");
        if st.blocked(origin, dest) {
            // Closing at once is what a cut link looks like to gRPC: the connect "works"
            // but the stream dies, so the RPC fails as unreachable.
            drop(inbound);
            continue;
        }
        let target = target.clone();
        let task = tokio::spawn(async move {
            let mut inbound = inbound;
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                let _ = outbound.set_nodelay(true);
                let _ = inbound.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
        st.conns.retain(|(_, _, h)| !h.is_finished());
        st.conns.push((origin, dest, task.abort_handle()));
    }
}

// ---------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------

struct Node {
    id: u64,
    resp_port: u16,
    /// Where the node listens for gRPC.
    grpc_port: u16,
    /// Where peers dial it (the proxy's port, or `grpc_port` without a proxy).
    peer_port: u16,
    data_dir: PathBuf,
    log_path: PathBuf,
    child: Option<Child>,
}

/// A running cluster of raftrocks processes. Indexes are 0-based (`node id = index + 1`).
pub struct Cluster {
    nodes: Vec<Node>,
    opts: ClusterOpts,
    root: Option<tempfile::TempDir>,
    config_path: Option<PathBuf>,
    proxy: Option<Arc<Mutex<ProxyState>>>,
    proxy_tasks: Vec<tokio::task::JoinHandle<()>>,
    bin: PathBuf,
}

impl Cluster {
    /// Starts `n` nodes and waits (up to `opts.ready_timeout`) until every node says
    /// `cluster_state:ok`. Must be called inside a tokio runtime (the proxy runs on it).
    pub async fn start(n: usize, opts: ClusterOpts) -> Cluster {
        assert!(n >= 1);
        let root = tempfile::Builder::new()
            .prefix("raftrocks-cluster-")
            .tempdir()
            .expect("create tempdir");
        let config_path = opts.config_toml.as_ref().map(|text| {
            let p = root.path().join("raftrocks.toml");
            std::fs::write(&p, text).expect("write config file");
            p
        });
        let ports = free_ports(3 * n);
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let dir = root.path().join(format!("node{}", i + 1));
            std::fs::create_dir_all(&dir).expect("create node dir");
            let grpc_port = ports[n + i];
            nodes.push(Node {
                id: i as u64 + 1,
                resp_port: ports[i],
                grpc_port,
                peer_port: if opts.proxy_grpc {
                    ports[2 * n + i]
                } else {
                    grpc_port
                },
                data_dir: dir.join("data"),
                log_path: dir.join("server.log"),
                child: None,
            });
        }
        let mut cluster = Cluster {
            nodes,
            opts,
            root: Some(root),
            config_path,
            proxy: None,
            proxy_tasks: Vec::new(),
            bin: raftrocks_bin(),
        };
        if cluster.opts.proxy_grpc {
            cluster.start_proxies().await;
        }
        eprintln!(
            "cluster: starting {n} nodes from {} in {}",
            cluster.bin.display(),
            cluster.root_path().display()
        );
        for i in 0..n {
            cluster.spawn(i);
        }
        for i in 0..n {
            cluster.wait_ping(i, SPAWN_TIMEOUT).await;
        }
        let t0 = Instant::now();
        cluster.wait_all_ok(cluster.opts.ready_timeout).await;
        eprintln!(
            "cluster: all {n} nodes report cluster_state:ok after {:?}",
            t0.elapsed()
        );
        cluster
    }

    async fn start_proxies(&mut self) {
        let state = Arc::new(Mutex::new(ProxyState {
            pids: vec![None; self.nodes.len()],
            ..Default::default()
        }));
        for (i, node) in self.nodes.iter().enumerate() {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", node.peer_port))
                .await
                .unwrap_or_else(|e| panic!("bind proxy port {}: {e}", node.peer_port));
            let target = format!("127.0.0.1:{}", node.grpc_port);
            self.proxy_tasks.push(tokio::spawn(run_proxy(
                listener,
                node.peer_port,
                i,
                target,
                state.clone(),
            )));
        }
        self.proxy = Some(state);
    }

    fn root_path(&self) -> &Path {
        self.root.as_ref().expect("tempdir").path()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn opts(&self) -> &ClusterOpts {
        &self.opts
    }

    /// `127.0.0.1:<resp port>` of node `i`: what MOVED and CLUSTER SLOTS name.
    pub fn resp_addr(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.nodes[i].resp_port)
    }

    pub fn resp_port(&self, i: usize) -> u16 {
        self.nodes[i].resp_port
    }

    /// The node index whose RESP address is `addr` (`host:port`).
    pub fn index_of(&self, addr: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.resp_addr(i) == addr)
    }

    pub fn node_id(&self, i: usize) -> u64 {
        self.nodes[i].id
    }

    pub fn data_dir(&self, i: usize) -> &Path {
        &self.nodes[i].data_dir
    }

    pub fn log_path(&self, i: usize) -> &Path {
        &self.nodes[i].log_path
    }

    fn initial_cluster(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("{}=127.0.0.1:{}", n.id, n.peer_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The command line of node `i` (the same on every start: restarts rejoin with it).
    pub fn command(&self, i: usize) -> Command {
        let node = &self.nodes[i];
        let mut cmd = Command::new(&self.bin);
        cmd.arg("server")
            .arg("--node-id")
            .arg(node.id.to_string())
            .arg("--initial-cluster")
            .arg(self.initial_cluster())
            .arg("--grpc-addr")
            .arg(format!("127.0.0.1:{}", node.grpc_port))
            .arg("--resp-addr")
            .arg(format!("127.0.0.1:{}", node.resp_port))
            .arg("--data-dir")
            .arg(&node.data_dir);
        if let Some(p) = &self.config_path {
            cmd.arg("--config").arg(p);
        }
        if let Some(s) = &self.opts.cluster_secret {
            cmd.arg("--cluster-secret").arg(s);
        }
        if let Some(g) = self.opts.slot_groups {
            cmd.arg("--slot-groups").arg(g.to_string());
        }
        if let Some(pw) = &self.opts.password {
            cmd.arg("--password").arg(pw);
        }
        cmd.args(&self.opts.extra_args);
        // Hermetic: settings come from the arguments above, never from RAFTROCKS_* variables
        // of the developer's shell (the log level may pass through).
        for (k, _) in std::env::vars_os() {
            if let Some(k) = k.to_str() {
                if k.starts_with("RAFTROCKS_") && k != "RAFTROCKS_LOG_LEVEL" {
                    cmd.env_remove(k);
                }
            }
        }
        cmd
    }

    fn spawn(&mut self, i: usize) {
        assert!(self.nodes[i].child.is_none(), "node {i} is already running");
        let mut cmd = self.command(i);
        let node = &mut self.nodes[i];
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log_path)
            .expect("open node log");
        {
            let mut l = &log;
            let _ = writeln!(l, "===== harness: starting {cmd:?} =====");
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log fd"))
            .stderr(log);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin.display()));
        let pid = child.id();
        node.child = Some(child);
        if let Some(p) = &self.proxy {
            p.lock().expect("proxy state").pids[i] = Some(pid);
        }
    }

    /// Whether node `i`'s process is running.
    pub fn is_running(&mut self, i: usize) -> bool {
        match self.nodes[i].child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Panics with the log tail if node `i` has exited on its own.
    fn check_alive(&mut self, i: usize) {
        if let Some(c) = self.nodes[i].child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                self.nodes[i].child = None;
                panic!(
                    "node {} exited unexpectedly ({status}); log tail:\n{}",
                    i + 1,
                    self.log_tail(i, 60)
                );
            }
        }
    }

    fn forget_pid(&mut self, i: usize) {
        if let Some(p) = &self.proxy {
            p.lock().expect("proxy state").pids[i] = None;
        }
    }

    /// SIGKILL node `i` and reap it.
    pub fn kill9(&mut self, i: usize) {
        let mut child = self.nodes[i]
            .child
            .take()
            .unwrap_or_else(|| panic!("kill9: node {} is not running", i + 1));
        let _ = child.kill();
        let _ = child.wait();
        self.forget_pid(i);
        eprintln!("cluster: node {} killed (SIGKILL)", i + 1);
    }

    /// SIGTERM node `i` and wait up to 30 s for it to exit (then SIGKILL and panic: a node
    /// must shut down on SIGTERM).
    pub fn stop(&mut self, i: usize) {
        let child = self.nodes[i]
            .child
            .as_mut()
            .unwrap_or_else(|| panic!("stop: node {} is not running", i + 1));
        let pid = child.id();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let child = self.nodes[i].child.as_mut().expect("child");
            if let Ok(Some(_)) = child.try_wait() {
                self.nodes[i].child = None;
                self.forget_pid(i);
                eprintln!("cluster: node {} stopped (SIGTERM)", i + 1);
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                self.nodes[i].child = None;
                self.forget_pid(i);
                panic!(
                    "node {} did not exit within 30s of SIGTERM; log tail:\n{}",
                    i + 1,
                    self.log_tail(i, 40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts node `i` again with the same command line and data dir and waits until it
    /// answers PING (not for `cluster_state:ok`: see [`wait_node_ok`](Self::wait_node_ok)).
    pub async fn restart(&mut self, i: usize) {
        if self.nodes[i].child.is_some() {
            self.kill9(i);
        }
        self.spawn(i);
        eprintln!("cluster: node {} restarted", i + 1);
        self.wait_ping(i, SPAWN_TIMEOUT).await;
    }

    /// Cuts node `i` off from every other node (both directions) until [`heal`](Self::heal).
    /// Its clients still reach it; only Raft traffic is cut.
    pub fn partition(&mut self, i: usize) {
        let state = self
            .proxy
            .as_ref()
            .expect("partition needs ClusterOpts::proxy_grpc");
        let mut st = state.lock().expect("proxy state");
        st.cut.insert(i);
        let mut kept = Vec::new();
        for (origin, dest, task) in st.conns.drain(..) {
            if dest == i || origin == Some(i) {
                task.abort();
            } else {
                kept.push((origin, dest, task));
            }
        }
        st.conns = kept;
        eprintln!("cluster: node {} partitioned", i + 1);
    }

    /// Ends the partition of node `i`.
    pub fn heal(&mut self, i: usize) {
        let state = self
            .proxy
            .as_ref()
            .expect("heal needs ClusterOpts::proxy_grpc");
        state.lock().expect("proxy state").cut.remove(&i);
        eprintln!("cluster: node {} healed", i + 1);
    }

    fn url(&self, i: usize) -> String {
        match &self.opts.password {
            Some(pw) => format!("redis://:{pw}@{}/", self.resp_addr(i)),
            None => format!("redis://{}/", self.resp_addr(i)),
        }
    }

    fn connection_config() -> redis::AsyncConnectionConfig {
        redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(REPLY_TIMEOUT))
    }

    /// A plain (non-cluster) connection to node `i`, authenticated if the cluster has a
    /// password. It sees MOVED errors as errors.
    pub async fn try_client(&self, i: usize) -> Result<MultiplexedConnection> {
        let client = redis::Client::open(self.url(i))?;
        Ok(client
            .get_multiplexed_async_connection_with_config(&Self::connection_config())
            .await?)
    }

    /// [`try_client`](Self::try_client), panicking on failure.
    pub async fn client(&self, i: usize) -> MultiplexedConnection {
        self.try_client(i)
            .await
            .unwrap_or_else(|e| panic!("connect to node {} ({}): {e}", i + 1, self.resp_addr(i)))
    }

    /// A plain connection to node `i` that has sent `READONLY` (reads served by followers).
    pub async fn try_readonly_client(&self, i: usize) -> Result<MultiplexedConnection> {
        let mut c = self.try_client(i).await?;
        let _: () = redis::cmd("READONLY").query_async(&mut c).await?;
        Ok(c)
    }

    /// A cluster client builder seeded with every node, with the harness's timeouts and the
    /// password. Tests adjust retries etc. before `build()`.
    pub fn cluster_client_builder(&self) -> ClusterClientBuilder {
        self.cluster_client_builder_for(&(0..self.len()).collect::<Vec<_>>())
    }

    /// Like [`cluster_client_builder`](Self::cluster_client_builder), seeded only with the
    /// given nodes (e.g. the majority side of a partition).
    pub fn cluster_client_builder_for(&self, nodes: &[usize]) -> ClusterClientBuilder {
        let seeds: Vec<String> = nodes
            .iter()
            .map(|&i| format!("redis://{}", self.resp_addr(i)))
            .collect();
        let mut b = ClusterClientBuilder::new(seeds)
            .connection_timeout(Duration::from_secs(5))
            .response_timeout(REPLY_TIMEOUT);
        if let Some(pw) = &self.opts.password {
            b = b.password(pw.clone());
        }
        b
    }

    /// A cluster client with the redis crate's default retry policy (follows MOVED, waits
    /// out CLUSTERDOWN/TRYAGAIN, reconnects).
    pub fn cluster_client(&self) -> ClusterClient {
        self.cluster_client_builder()
            .build()
            .expect("build cluster client")
    }

    /// An async cluster connection (retried for up to 60 s: a node may be restarting).
    pub async fn cluster_conn(&self) -> redis::cluster_async::ClusterConnection {
        let client = self.cluster_client();
        eventually(Duration::from_secs(60), "a cluster connection", || {
            let client = client.clone();
            async move { Ok(client.get_async_connection().await?) }
        })
        .await
    }

    /// One command on node `i` through a fresh plain connection.
    pub async fn query(&self, i: usize, args: &[&str]) -> Result<Value> {
        let mut c = self.try_client(i).await?;
        Ok(cmd(args).query_async(&mut c).await?)
    }

    /// `CLUSTER INFO` of node `i` as text.
    pub async fn cluster_info(&self, i: usize) -> Result<String> {
        let v = self.query(i, &["CLUSTER", "INFO"]).await?;
        value_str(&v).ok_or_else(|| anyhow!("CLUSTER INFO is not a string: {v:?}"))
    }

    /// `CLUSTER NODES` of node `i` as text.
    pub async fn cluster_nodes(&self, i: usize) -> Result<String> {
        let v = self.query(i, &["CLUSTER", "NODES"]).await?;
        value_str(&v).ok_or_else(|| anyhow!("CLUSTER NODES is not a string: {v:?}"))
    }

    /// `CLUSTER SLOTS` of node `i`, parsed and sorted by start slot.
    pub async fn cluster_slots(&self, i: usize) -> Result<Vec<SlotRange>> {
        parse_cluster_slots(&self.query(i, &["CLUSTER", "SLOTS"]).await?)
    }

    /// Index of the node that node `i` names as master of `slot`.
    pub async fn master_of(&self, i: usize, slot: u16) -> Result<usize> {
        let ranges = self.cluster_slots(i).await?;
        let r = ranges
            .iter()
            .find(|r| r.contains(slot))
            .ok_or_else(|| anyhow!("slot {slot} not in CLUSTER SLOTS of node {}", i + 1))?;
        self.index_of(&r.master)
            .ok_or_else(|| anyhow!("master {} of slot {slot} is not a node", r.master))
    }

    async fn wait_ping(&mut self, i: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive(i);
            if let Ok(v) = self.query(i, &["PING"]).await {
                if value_str(&v).as_deref() == Some("PONG") {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "node {} does not answer PING after {timeout:?}; log tail:\n{}",
                    i + 1,
                    self.log_tail(i, 60)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until node `i` reports `cluster_state:ok`.
    pub async fn wait_node_ok(&mut self, i: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive(i);
            let last = match self.cluster_info(i).await {
                Ok(info) if info.contains("cluster_state:ok") => return,
                Ok(info) => info,
                Err(e) => e.to_string(),
            };
            if Instant::now() > deadline {
                panic!(
                    "node {} not cluster_state:ok after {timeout:?}; last CLUSTER INFO: {last}\n\
                     log tail:\n{}",
                    i + 1,
                    self.log_tail(i, 60)
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until every running node reports `cluster_state:ok`.
    pub async fn wait_all_ok(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        for i in 0..self.len() {
            if self.nodes[i].child.is_some() {
                let left = deadline.saturating_duration_since(Instant::now());
                self.wait_node_ok(i, left.max(Duration::from_secs(1))).await;
            }
        }
    }

    /// Runs `redis-cli -h 127.0.0.1 -p <port of node i> [-a pw] args...` (30 s bound).
    pub fn redis_cli(&self, i: usize, args: &[&str]) -> Output {
        let port = self.resp_port(i).to_string();
        let mut all = vec!["-h", "127.0.0.1", "-p", port.as_str()];
        all.extend_from_slice(args);
        self.redis_cli_raw(&all)
    }

    /// `redis-cli -c` (follows MOVED) against node `i`.
    pub fn redis_cli_c(&self, i: usize, args: &[&str]) -> Output {
        let mut all = vec!["-c"];
        all.extend_from_slice(args);
        self.redis_cli(i, &all)
    }

    /// `redis-cli args...` with the password added (if any); killed after 30 s.
    pub fn redis_cli_raw(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("timeout");
        cmd.arg("30").arg("redis-cli");
        if let Some(pw) = &self.opts.password {
            cmd.arg("--no-auth-warning").arg("-a").arg(pw);
        }
        cmd.args(args).stdin(Stdio::null());
        cmd.output()
            .unwrap_or_else(|e| panic!("run redis-cli (apt-get install redis-tools): {e}"))
    }

    /// The last `lines` lines of node `i`'s log.
    pub fn log_tail(&self, i: usize, lines: usize) -> String {
        let text = std::fs::read(&self.nodes[i].log_path).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut c) = node.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        for t in &self.proxy_tasks {
            t.abort();
        }
        if let Some(p) = &self.proxy {
            if let Ok(st) = p.lock() {
                for (_, _, t) in &st.conns {
                    t.abort();
                }
            }
        }
        if std::thread::panicking() {
            for i in 0..self.nodes.len() {
                eprintln!(
                    "---- node {} log tail ({}) ----\n{}",
                    i + 1,
                    self.nodes[i].log_path.display(),
                    self.log_tail(i, 40)
                );
            }
            if let Some(root) = self.root.take() {
                eprintln!("---- cluster files kept in {} ----", root.keep().display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    #[test]
    fn proxy_finds_the_process_that_opened_a_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let (_server_side, peer) = listener.accept().expect("accept");
        assert_eq!(peer.port(), client.local_addr().expect("addr").port());
        let inode = socket_inode(peer.port(), port).expect("socket in /proc/net/tcp");
        let me = Some(std::process::id());
        assert_eq!(owner_of_inode(inode, &[None, me]), Some(1));
        // A process that does not hold the socket is not its owner.
        assert_eq!(owner_of_inode(inode, &[Some(1)]), None);
    }

    #[test]
    fn coverage_check() {
        let r = |s, e| SlotRange {
            start: s,
            end: e,
            master: String::new(),
            replicas: vec![],
        };
        assert!(check_full_coverage(&[r(0, 8191), r(8192, 16383)]).is_ok());
        assert!(check_full_coverage(&[r(0, 8191), r(8193, 16383)]).is_err());
        assert!(check_full_coverage(&[r(0, 8192), r(8192, 16383)]).is_err());
        assert!(check_full_coverage(&[r(0, 8191)]).is_err());
    }
}
