//! Raft transport between nodes, client side: openraft's network traits over gRPC
//! (proto/raft.proto).
//!
//! One [`GrpcTransport`] per node holds the connections: per peer address one channel for log
//! replication, a second one for heartbeats and votes, so an election or a heartbeat is
//! never queued behind a large append on the same HTTP/2 connection (whose flow-control window
//! the append would hold), and a third one for snapshot streams, which may run for minutes.
//! Channels connect lazily and are shared by every group; each group gets its own
//! [`GrpcNetwork`] factory, which stamps every request with the group id and the target
//! replica.
//!
//! Payloads are the openraft requests and responses encoded with postcard. A snapshot is
//! streamed from a RocksDB snapshot of the group's data (format: `super::snapshot`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{
    NetworkError, RPCError, ReplicationClosed, StreamingError, Timeout, Unreachable,
};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use openraft::{OptionalSend, RPCTypes, RaftNetworkFactory, RaftNetworkV2};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::Code;

use super::snapshot::{self, ProduceError};
use super::state_machine::GroupSnapshot;
use super::types::{NodeInfo, TypeConfig, Vote};
use crate::proto::raft::raft_service_client::RaftServiceClient;
use crate::proto::raft::{RaftReply, RaftRequest, SnapshotChunk};

/// gRPC metadata key carrying the cluster secret on every Raft request.
pub const SECRET_HEADER: &str = "x-raftrocks-secret";

/// Largest gRPC message either side accepts. An append carries whole log entries, and one entry
/// may hold a value of up to `proto-max-bulk-len` (512 MB by default): tonic's 4 MB default
/// would make such an entry impossible to replicate.
pub const MAX_MESSAGE: usize = 1 << 30;

/// How long establishing a TCP connection to a peer may take before the RPC is reported
/// unreachable (the RPC's own timeout bounds it too).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A snapshot stream may take long as a whole; what must not take long is each step: the
/// receiver accepting the next chunk, and installing after the last one. These bound them
/// (openraft's own snapshot timeout, if longer, wins).
const SNAPSHOT_CHUNK_TIMEOUT: Duration = Duration::from_secs(60);
const SNAPSHOT_INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the cluster secret must be printable ASCII")]
    InvalidSecret,
}

/// The connections of this node to its peers, shared by all groups.
#[derive(Clone)]
pub struct GrpcTransport {
    inner: Arc<TransportInner>,
}

struct TransportInner {
    secret: AsciiMetadataValue,
    peers: Mutex<HashMap<String, PeerChannels>>,
    next_generation: AtomicU64,
    /// Builds a lazily connecting channel from an endpoint; `None`: tonic's own TCP connector
    /// ([`Endpoint::connect_lazy`]). See [`GrpcTransport::with_connector`].
    connect: Option<Box<ChannelMaker>>,
}

/// How a [`GrpcTransport`] made by [`GrpcTransport::with_connector`] turns a peer's endpoint
/// into a channel.
pub type ChannelMaker = dyn Fn(&Endpoint) -> Channel + Send + Sync;

/// The channels to one peer address. `generation` identifies this pair, so a failed RPC
/// drops the pair it used and not one a concurrent RPC has already replaced.
#[derive(Clone)]
struct PeerChannels {
    generation: u64,
    data: Channel,
    control: Channel,
    snapshot: Channel,
}

/// The unary RPCs of the Raft service a replica sends.
#[derive(Clone, Copy)]
enum Method {
    AppendEntries,
    Vote,
    PreVote,
    TransferLeader,
}

impl Method {
    /// openraft's name for it in errors (a pre-vote is reported as a vote).
    fn action(self) -> RPCTypes {
        match self {
            Method::AppendEntries => RPCTypes::AppendEntries,
            Method::Vote | Method::PreVote => RPCTypes::Vote,
            Method::TransferLeader => RPCTypes::TransferLeader,
        }
    }
}

/// Which of a peer's channels an RPC travels on.
#[derive(Clone, Copy)]
enum Lane {
    /// Appends that carry entries.
    Data,
    /// Heartbeats (appends without entries) and votes: small and time-critical.
    Control,
    /// Snapshot streams: long and bulky.
    Snapshot,
}

impl GrpcTransport {
    /// A transport authenticating with `secret` (sent as [`SECRET_HEADER`]).
    pub fn new(secret: &str) -> Result<GrpcTransport, TransportError> {
        Self::build(secret, None)
    }

    /// A transport whose channels connect through `connect` instead of tonic's TCP connector:
    /// it gets each channel's configured [`Endpoint`] (address, timeouts, keep-alive) and
    /// returns a lazily connecting channel, typically
    /// `endpoint.connect_with_connector_lazy(custom_connector)`. The deterministic simulation
    /// (cluster-tests/tests/sim.rs) uses it to carry Raft traffic over a simulated network.
    pub fn with_connector(
        secret: &str,
        connect: impl Fn(&Endpoint) -> Channel + Send + Sync + 'static,
    ) -> Result<GrpcTransport, TransportError> {
        Self::build(secret, Some(Box::new(connect)))
    }

    fn build(
        secret: &str,
        connect: Option<Box<ChannelMaker>>,
    ) -> Result<GrpcTransport, TransportError> {
        let secret: AsciiMetadataValue =
            MetadataValue::try_from(secret).map_err(|_| TransportError::InvalidSecret)?;
        Ok(GrpcTransport {
            inner: Arc::new(TransportInner {
                secret,
                peers: Mutex::new(HashMap::new()),
                next_generation: AtomicU64::new(1),
                connect,
            }),
        })
    }

    /// The network factory for replica `replica_id` of group `group_id` on this node.
    pub fn network(&self, group_id: u64, replica_id: u64) -> GrpcNetwork {
        GrpcNetwork {
            transport: self.clone(),
            group_id,
            replica_id,
        }
    }

    /// The channels to `addr`, created (unconnected) on first use.
    fn channels(&self, addr: &str) -> Result<PeerChannels, tonic::transport::Error> {
        let mut peers = self.inner.peers.lock();
        if let Some(p) = peers.get(addr) {
            return Ok(p.clone());
        }
        let uri = if addr.contains("://") {
            addr.to_string()
        } else {
            format!("http://{addr}")
        };
        let endpoint = Endpoint::from_shared(uri)?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            // Notice a peer that vanished without closing the connection.
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        let lazy = |endpoint: &Endpoint| match &self.inner.connect {
            Some(connect) => connect(endpoint),
            None => endpoint.connect_lazy(),
        };
        let p = PeerChannels {
            generation: self.inner.next_generation.fetch_add(1, Ordering::Relaxed),
            data: lazy(&endpoint),
            control: lazy(&endpoint),
            snapshot: lazy(&endpoint),
        };
        peers.insert(addr.to_string(), p.clone());
        Ok(p)
    }

    /// Forwards a cluster-map change to group 0's replica `target` at `addr` (the node that
    /// leads group 0), which proposes it. Returns once it is applied there, or the reason not.
    pub async fn propose_cluster_change(
        &self,
        addr: &str,
        target: u64,
        op: &crate::cluster::map::ClusterOp,
        timeout: Duration,
    ) -> Result<(), String> {
        let payload = postcard::to_allocvec(op).map_err(|e| e.to_string())?;
        let channels = self
            .channels(addr)
            .map_err(|e| format!("bad address {addr}: {e}"))?;
        let mut client = RaftServiceClient::new(channels.control.clone());
        let mut req = tonic::Request::new(RaftRequest {
            group_id: crate::cluster::map::MAP_GROUP,
            target_replica: target,
            payload,
        });
        req.set_timeout(timeout);
        req.metadata_mut()
            .insert(SECRET_HEADER, self.inner.secret.clone());
        match tokio::time::timeout(timeout, client.propose_cluster_change(req)).await {
            Err(_) => Err(format!("{addr}: no answer within {timeout:?}")),
            Ok(Err(status)) => {
                if matches!(
                    status.code(),
                    Code::Unavailable | Code::Unknown | Code::Cancelled
                ) {
                    self.forget(addr, channels.generation);
                }
                Err(format!("{addr}: {}", status.message()))
            }
            Ok(Ok(reply)) if reply.get_ref().error.is_empty() => Ok(()),
            Ok(Ok(reply)) => Err(format!("{addr}: {}", reply.into_inner().error)),
        }
    }

    /// Drops the channels of `addr` after a connection failure, so the next RPC starts from a
    /// fresh connection instead of a channel that may still be in a failed state.
    fn forget(&self, addr: &str, generation: u64) {
        let mut peers = self.inner.peers.lock();
        if peers.get(addr).is_some_and(|p| p.generation == generation) {
            peers.remove(addr);
        }
    }
}

/// Network factory of one group's replica.
#[derive(Clone)]
pub struct GrpcNetwork {
    transport: GrpcTransport,
    group_id: u64,
    replica_id: u64,
}

impl RaftNetworkFactory<TypeConfig> for GrpcNetwork {
    type Network = GrpcPeer;

    async fn new_client(&mut self, target: u64, node: &NodeInfo) -> GrpcPeer {
        GrpcPeer {
            transport: self.transport.clone(),
            group_id: self.group_id,
            from: self.replica_id,
            target,
            addr: node.raft_addr.clone(),
        }
    }
}

/// One group's connection to one remote replica.
pub struct GrpcPeer {
    transport: GrpcTransport,
    group_id: u64,
    from: u64,
    target: u64,
    addr: String,
}

#[derive(Debug, thiserror::Error)]
#[error("replica {target} at {addr}: {msg}")]
struct PeerError {
    target: u64,
    addr: String,
    msg: String,
}

impl GrpcPeer {
    fn error(&self, msg: impl ToString) -> PeerError {
        PeerError {
            target: self.target,
            addr: self.addr.clone(),
            msg: msg.to_string(),
        }
    }

    fn unreachable(&self, msg: impl ToString) -> RPCError<TypeConfig> {
        RPCError::Unreachable(Unreachable::new(&self.error(msg)))
    }

    /// Sends one request and decodes the reply. Connection problems, a refused secret and the
    /// server's "unknown group" / "not on this node" answers are `Unreachable` (openraft backs
    /// off: retrying at once cannot help); the RPC deadline is `Timeout`; anything else
    /// (undecodable payloads) is a `Network` error.
    async fn call<Req, Resp>(
        &self,
        method: Method,
        lane: Lane,
        rpc: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<TypeConfig>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
    {
        let payload = postcard::to_allocvec(rpc)
            .map_err(|e| RPCError::Network(NetworkError::new(&self.error(e))))?;
        let channels = self
            .transport
            .channels(&self.addr)
            .map_err(|e| self.unreachable(format!("bad address: {e}")))?;
        let mut client = client(&channels, lane);
        let ttl = option.hard_ttl();
        let mut req = tonic::Request::new(RaftRequest {
            group_id: self.group_id,
            target_replica: self.target,
            payload,
        });
        // Also sent as grpc-timeout, so the server can give up on a request nobody awaits.
        req.set_timeout(ttl);
        req.metadata_mut()
            .insert(SECRET_HEADER, self.transport.inner.secret.clone());
        let action = method.action();
        let sent = async {
            match method {
                Method::AppendEntries => client.append_entries(req).await,
                Method::Vote => client.vote(req).await,
                Method::PreVote => client.pre_vote(req).await,
                Method::TransferLeader => client.transfer_leader(req).await,
            }
        };
        let reply: RaftReply = match tokio::time::timeout(ttl, sent).await {
            Err(_) => {
                return Err(RPCError::Timeout(Timeout {
                    action,
                    id: self.from,
                    target: self.target,
                    timeout: ttl,
                }))
            }
            Ok(Ok(reply)) => reply.into_inner(),
            Ok(Err(status)) => return Err(self.status_error(action, ttl, status, &channels)),
        };
        if !reply.error.is_empty() {
            return Err(self.unreachable(reply.error));
        }
        postcard::from_bytes(&reply.payload).map_err(|e| {
            RPCError::Network(NetworkError::new(
                &self.error(format!("undecodable reply: {e}")),
            ))
        })
    }

    fn status_error(
        &self,
        action: RPCTypes,
        ttl: Duration,
        status: tonic::Status,
        channels: &PeerChannels,
    ) -> RPCError<TypeConfig> {
        match status.code() {
            Code::DeadlineExceeded => RPCError::Timeout(Timeout {
                action,
                id: self.from,
                target: self.target,
                timeout: ttl,
            }),
            // How tonic reports refused/broken connections and HTTP/2 failures.
            Code::Unavailable | Code::Unknown | Code::Internal | Code::Cancelled => {
                self.transport.forget(&self.addr, channels.generation);
                self.unreachable(status.message())
            }
            Code::Unauthenticated => self.unreachable(format!("refused: {}", status.message())),
            _ => RPCError::Network(NetworkError::new(&self.error(status.message()))),
        }
    }
}

fn client(channels: &PeerChannels, lane: Lane) -> RaftServiceClient<Channel> {
    let channel = match lane {
        Lane::Data => channels.data.clone(),
        Lane::Control => channels.control.clone(),
        Lane::Snapshot => channels.snapshot.clone(),
    };
    RaftServiceClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE)
}

impl RaftNetworkV2<TypeConfig> for GrpcPeer {
    type SnapshotData = GroupSnapshot;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        let lane = if rpc.entries.is_empty() {
            Lane::Control
        } else {
            Lane::Data
        };
        self.call(Method::AppendEntries, lane, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(Method::Vote, Lane::Control, &rpc, &option).await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(Method::PreVote, Lane::Control, &rpc, &option)
            .await
    }

    async fn transfer_leader(
        &mut self,
        rpc: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.call(Method::TransferLeader, Lane::Control, &rpc, &option)
            .await
    }

    /// Streams the group's data as of now (not as of `snapshot.meta`: the receiver gets the
    /// meta read together with the data, which is newer or equal, and all of it committed).
    /// A RocksDB reader thread feeds the stream through a small channel, so at most a few
    /// chunks are in memory and a slow receiver slows the reader down.
    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: openraft::alias::SnapshotOf<TypeConfig, GroupSnapshot>,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let local = match snapshot.snapshot {
            GroupSnapshot::Local(local) => local,
            GroupSnapshot::Received(_) => {
                return Err(StreamingError::Network(NetworkError::new(
                    &self.error("a received snapshot cannot be sent on"),
                )))
            }
        };
        let channels = self
            .transport
            .channels(&self.addr)
            .map_err(|e| StreamingError::Unreachable(Unreachable::new(&self.error(e))))?;
        let mut client = client(&channels, Lane::Snapshot);
        let chunk_timeout = option.hard_ttl().max(SNAPSHOT_CHUNK_TIMEOUT);
        let install_timeout = option.hard_ttl().max(SNAPSHOT_INSTALL_TIMEOUT);

        let (tx, rx) = tokio::sync::mpsc::channel::<SnapshotChunk>(2);
        let target = self.target;
        // Counts chunks the RPC has taken from the stream: the watchdog below fails the
        // transfer when it stops moving, however long the whole transfer takes.
        let taken = Arc::new(AtomicU64::new(0));
        let taken_by_stream = taken.clone();
        let stream = futures::stream::unfold(rx, move |mut rx| {
            let taken = taken_by_stream.clone();
            async move {
                let chunk = rx.recv().await?;
                taken.fetch_add(1, Ordering::Relaxed);
                Some((chunk, rx))
            }
        });
        let producer =
            tokio::task::spawn_blocking(move || snapshot::produce(&local, vote, target, &tx));
        let mut req = tonic::Request::new(stream);
        req.metadata_mut()
            .insert(SECRET_HEADER, self.transport.inner.secret.clone());
        let rpc = client.install_snapshot(req);
        tokio::pin!(rpc);
        tokio::pin!(cancel);
        tokio::pin!(producer);
        let timeout = |timeout| {
            StreamingError::Timeout(Timeout {
                action: RPCTypes::InstallSnapshot,
                id: self.from,
                target: self.target,
                timeout,
            })
        };
        let mut produced = false;
        let mut seen = 0u64;
        let mut step_deadline = tokio::time::Instant::now() + chunk_timeout;
        let reply = loop {
            tokio::select! {
                closed = &mut cancel => return Err(StreamingError::Closed(closed)),
                reply = &mut rpc => break reply,
                done = &mut producer, if !produced => {
                    produced = true;
                    match done {
                        Ok(Ok(meta)) => {
                            tracing::debug!(group = self.group_id, target = self.target, last = ?meta.last_log_id, "snapshot streamed");
                        }
                        // The RPC ended first; its outcome comes from `rpc`.
                        Ok(Err(ProduceError::Closed)) => {}
                        Ok(Err(ProduceError::Storage(e))) => {
                            return Err(StreamingError::StorageError(
                                openraft::StorageError::from_io_error(
                                    openraft::ErrorSubject::Snapshot(None),
                                    openraft::ErrorVerb::Read,
                                    e,
                                ),
                            ))
                        }
                        Err(e) => {
                            return Err(StreamingError::Network(NetworkError::new(
                                &self.error(format!("snapshot reader failed: {e}")),
                            )))
                        }
                    }
                    // Everything is sent: what remains is the receiver's install.
                    step_deadline = tokio::time::Instant::now() + install_timeout;
                }
                _ = tokio::time::sleep_until(step_deadline) => {
                    let now = taken.load(Ordering::Relaxed);
                    if produced || now == seen {
                        return Err(timeout(if produced { install_timeout } else { chunk_timeout }));
                    }
                    seen = now;
                    step_deadline = tokio::time::Instant::now() + chunk_timeout;
                }
            }
        };
        let reply = match reply {
            Ok(reply) => reply.into_inner(),
            Err(status) => {
                return Err(
                    match self.status_error(
                        RPCTypes::InstallSnapshot,
                        install_timeout,
                        status,
                        &channels,
                    ) {
                        RPCError::Timeout(t) => StreamingError::Timeout(t),
                        RPCError::Unreachable(u) => StreamingError::Unreachable(u),
                        RPCError::Network(n) => StreamingError::Network(n),
                        RPCError::RemoteError(r) => {
                            StreamingError::Network(NetworkError::new(&self.error(r.to_string())))
                        }
                    },
                )
            }
        };
        if !reply.error.is_empty() {
            return Err(StreamingError::Unreachable(Unreachable::new(
                &self.error(reply.error),
            )));
        }
        postcard::from_bytes(&reply.payload).map_err(|e| {
            StreamingError::Network(NetworkError::new(
                &self.error(format!("undecodable reply: {e}")),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use bytes::Bytes;
    use openraft::async_runtime::WatchReceiver;
    use openraft::error::RPCError;
    use openraft::network::RPCOption;
    use openraft::raft::VoteRequest;
    use openraft::{RaftNetworkFactory, RaftNetworkV2};
    use tokio::net::TcpListener;
    use tokio::sync::oneshot;

    use super::super::group::{Group, RaftTuning};
    use super::super::rpc_server::{self, Registry};
    use super::super::snapshot::tests::dump;
    use super::super::snapshot::{staging_root, SnapshotHeader};
    use super::super::syncer::Syncer;
    use super::super::types::{NodeInfo, Vote, WriteOp, WriteRequest};
    use super::{GrpcTransport, SECRET_HEADER};
    use crate::cluster::{key_slot, GroupId};
    use crate::proto::raft::raft_service_client::RaftServiceClient;
    use crate::proto::raft::{RaftRequest, SnapshotChunk};
    use crate::resp::Frame;
    use crate::storage::keys::meta_key;
    use crate::storage::{Cf, Metadata, Storage};

    const SECRET: &str = "test-secret";
    const GROUP: u64 = 1;
    /// Generous: the machine running the tests may be busy. Nothing asserts speed.
    const PATIENCE: Duration = Duration::from_secs(40);

    /// Longer election timeouts than the default, so a slow (busy) test machine does not
    /// provoke spurious elections.
    fn tuning() -> RaftTuning {
        RaftTuning {
            heartbeat_ms: 100,
            election_min_ms: 1000,
            election_max_ms: 2000,
            ..RaftTuning::default()
        }
    }

    /// One "node" of the in-process cluster: its own RocksDB, Raft group replica and server.
    struct TestNode {
        replica: u64,
        storage: Arc<Storage>,
        group: Group,
        stop_server: Option<oneshot::Sender<()>>,
        server: tokio::task::JoinHandle<()>,
        _dir: tempfile::TempDir,
    }

    async fn listener() -> (TcpListener, String) {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = l.local_addr().expect("local addr").to_string();
        (l, addr)
    }

    fn spawn_server(
        listener: TcpListener,
        registry: Arc<Registry>,
        secret: &'static str,
    ) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let stop = async {
                let _ = rx.await;
            };
            if let Err(e) = rpc_server::serve(listener, registry, secret, stop).await {
                panic!("raft rpc server failed: {e}");
            }
        });
        (tx, server)
    }

    async fn start_node(
        replica: u64,
        listener: TcpListener,
        transport: &GrpcTransport,
    ) -> TestNode {
        let (dir, storage) = Storage::open_temp();
        start_node_on(
            replica,
            listener,
            transport,
            dir,
            Arc::new(storage),
            &tuning(),
        )
        .await
    }

    /// Starts a replica on an existing database (a node restarting keeps its data).
    async fn start_node_on(
        replica: u64,
        listener: TcpListener,
        transport: &GrpcTransport,
        dir: tempfile::TempDir,
        storage: Arc<Storage>,
        tuning: &RaftTuning,
    ) -> TestNode {
        let syncer = Syncer::start(storage.clone()).expect("syncer");
        let group = Group::open_networked(
            GroupId(GROUP),
            replica,
            storage.clone(),
            syncer,
            vec![(0, 16383)],
            crate::cmd::execute,
            tuning,
            transport.network(GROUP, replica),
        )
        .await
        .expect("open group");
        let registry = Arc::new(Registry::default());
        registry.register(GROUP, replica, group.raft.clone());
        let (stop, server) = spawn_server(listener, registry, SECRET);
        TestNode {
            replica,
            storage,
            group,
            stop_server: Some(stop),
            server,
            _dir: dir,
        }
    }

    fn set(key: &str, value: &str) -> WriteRequest {
        WriteRequest {
            now_ms: 1,
            max_value_len: 512 << 20,
            op: WriteOp::Command {
                db: 0,
                argv: vec![
                    Bytes::from_static(b"SET"),
                    Bytes::copy_from_slice(key.as_bytes()),
                    Bytes::copy_from_slice(value.as_bytes()),
                ],
            },
        }
    }

    /// Proposes `req` through whichever node leads, retrying (SET is idempotent) until it is
    /// applied or `PATIENCE` runs out.
    async fn write(nodes: &[&TestNode], req: WriteRequest) -> Frame {
        let start = Instant::now();
        let mut last = String::from("no leader");
        while start.elapsed() < PATIENCE {
            for n in nodes.iter().filter(|n| n.group.is_leader()) {
                match n.group.propose(req.clone()).await {
                    Ok(reply) => match reply.await {
                        Ok(frame) => return frame,
                        Err(e) => last = e.to_string(),
                    },
                    Err(e) => last = e.to_string(),
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("write not committed in time: {last}");
    }

    /// The string value of `key` in db 0, read straight from the node's RocksDB.
    fn read(node: &TestNode, key: &str) -> Option<Vec<u8>> {
        let mk = meta_key(key_slot(key.as_bytes()), 0, key.as_bytes());
        let raw = node.storage.get(Cf::Meta, &mk).expect("read meta")?;
        Some(Metadata::decode(&raw).expect("decode meta").payload)
    }

    /// Waits until `node` has applied `key = value`.
    async fn wait_applied(node: &TestNode, key: &str, value: &str) {
        let start = Instant::now();
        while read(node, key).as_deref() != Some(value.as_bytes()) {
            assert!(
                start.elapsed() < PATIENCE,
                "replica {} did not apply {key}",
                node.replica
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_replicas_replicate_and_survive_a_lost_follower() {
        let transport = GrpcTransport::new(SECRET).expect("transport");
        let mut listeners = Vec::new();
        let mut members = BTreeMap::new();
        for replica in 1..=3u64 {
            let (l, addr) = listener().await;
            listeners.push((replica, l));
            members.insert(
                replica,
                NodeInfo {
                    raft_addr: addr,
                    resp_addr: String::new(),
                },
            );
        }
        let mut nodes = Vec::new();
        for (replica, l) in listeners {
            nodes.push(start_node(replica, l, &transport).await);
        }
        nodes[0]
            .group
            .raft
            .initialize(members)
            .await
            .expect("initialize");
        for n in &nodes {
            assert!(
                n.group.wait_for_leader(PATIENCE).await,
                "replica {} saw no leader",
                n.replica
            );
        }

        let all: Vec<&TestNode> = nodes.iter().collect();
        for i in 0..10 {
            let reply = write(&all, set(&format!("k{i}"), &format!("v{i}"))).await;
            assert_eq!(reply, Frame::ok());
        }
        for n in &nodes {
            for i in 0..10 {
                wait_applied(n, &format!("k{i}"), &format!("v{i}")).await;
            }
        }

        // Lose a follower: its server stops and its replica too (a node going down).
        let gone = nodes
            .iter()
            .position(|n| !n.group.is_leader())
            .expect("a follower");
        let mut lost = nodes.remove(gone);
        if let Some(stop) = lost.stop_server.take() {
            let _ = stop.send(());
        }
        lost.group.raft.shutdown().await.expect("shutdown replica");
        // Graceful shutdown waits for open connections; if a peer keeps one open, stop
        // waiting: the stopped replica refuses everything anyway.
        if tokio::time::timeout(Duration::from_secs(5), &mut lost.server)
            .await
            .is_err()
        {
            lost.server.abort();
        }

        let live: Vec<&TestNode> = nodes.iter().collect();
        for i in 10..15 {
            let reply = write(&live, set(&format!("k{i}"), &format!("v{i}"))).await;
            assert_eq!(reply, Frame::ok());
        }
        for n in &nodes {
            for i in 10..15 {
                wait_applied(n, &format!("k{i}"), &format!("v{i}")).await;
            }
        }
        assert_eq!(
            read(&lost, "k10"),
            None,
            "the lost replica got later writes"
        );

        for n in &mut nodes {
            n.group.raft.shutdown().await.expect("shutdown replica");
            if let Some(stop) = n.stop_server.take() {
                let _ = stop.send(());
            }
        }
    }

    fn command(parts: &[&str]) -> WriteRequest {
        WriteRequest {
            now_ms: 1,
            max_value_len: 512 << 20,
            op: WriteOp::Command {
                db: 0,
                argv: parts
                    .iter()
                    .map(|p| Bytes::copy_from_slice(p.as_bytes()))
                    .collect(),
            },
        }
    }

    fn last_applied(node: &TestNode) -> Option<u64> {
        node.group.shared.last_applied.lock().map(|l| l.index)
    }

    async fn shutdown(node: &mut TestNode) {
        if let Some(stop) = node.stop_server.take() {
            let _ = stop.send(());
        }
        node.group.raft.shutdown().await.expect("shutdown replica");
        // Graceful shutdown waits for open connections; if a peer keeps one open, stop
        // waiting: the stopped replica refuses everything anyway.
        if tokio::time::timeout(Duration::from_secs(5), &mut node.server)
            .await
            .is_err()
        {
            node.server.abort();
        }
    }

    /// A follower that was down while the leader purged its log catches up by snapshot:
    /// same data and counters as the leader, and it keeps replicating afterwards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lagging_follower_catches_up_by_snapshot() {
        let tuning = RaftTuning {
            snapshot_logs: 20,
            keep_logs: 2,
            ..tuning()
        };
        let transport = GrpcTransport::new(SECRET).expect("transport");
        let mut members = BTreeMap::new();
        let mut nodes = Vec::new();
        for replica in 1..=3u64 {
            let (l, addr) = listener().await;
            members.insert(
                replica,
                NodeInfo {
                    raft_addr: addr,
                    resp_addr: String::new(),
                },
            );
            let (dir, storage) = Storage::open_temp();
            nodes
                .push(start_node_on(replica, l, &transport, dir, Arc::new(storage), &tuning).await);
        }
        let addrs = members.clone();
        nodes[0]
            .group
            .raft
            .initialize(members)
            .await
            .expect("initialize");
        for n in &nodes {
            assert!(n.group.wait_for_leader(PATIENCE).await, "no leader");
        }
        let all: Vec<&TestNode> = nodes.iter().collect();
        write(&all, set("before", "1")).await;

        let gone = nodes
            .iter()
            .position(|n| !n.group.is_leader())
            .expect("a follower");
        let mut lost = nodes.remove(gone);
        wait_applied(&lost, "before", "1").await;
        shutdown(&mut lost).await;
        let lost_last_log = lost.group.raft.metrics().borrow_watched().last_log_index;

        // Enough writes for several snapshots, so the leader purges what the lost replica
        // lacks. A collection and a key with a TTL travel too.
        let live: Vec<&TestNode> = nodes.iter().collect();
        for i in 0..120 {
            write(&live, set(&format!("k{i}"), &format!("v{i}"))).await;
        }
        let reply = write(
            &live,
            command(&["HSET", "h", "f1", "a", "f2", "b", "f3", "c"]),
        )
        .await;
        assert_eq!(reply, Frame::Integer(3));
        write(&live, command(&["RPUSH", "l", "x", "y", "z", "w"])).await;
        write(&live, command(&["SET", "ttl", "v", "EX", "100000"])).await;
        write(&live, command(&["ZADD", "z", "1", "m1", "2", "m2"])).await;
        write(&live, command(&["DEL", "k0"])).await;
        for i in 0..30 {
            write(&live, set(&format!("late{i}"), "x")).await;
        }
        let leader = nodes
            .iter()
            .find(|n| n.group.is_leader())
            .expect("a leader");
        // Past the lost replica's last entry: only a snapshot can bring it back.
        let purged = leader
            .group
            .raft
            .wait(Some(PATIENCE))
            .metrics(
                |m| m.purged.map(|p| p.index) > lost_last_log,
                "log purged past the lost replica",
            )
            .await
            .expect("the leader purges its log")
            .purged
            .map(|p| p.index);

        // The replica comes back on the same address and database.
        let replica = lost.replica;
        let addr = addrs[&replica].raft_addr.clone();
        let l = TcpListener::bind(&addr).await.expect("bind again");
        let TestNode {
            storage, _dir: dir, ..
        } = lost;
        let back = start_node_on(replica, l, &transport, dir, storage, &tuning).await;
        nodes.push(back);
        let live: Vec<&TestNode> = nodes.iter().collect();
        write(&live, set("after", "1")).await;
        for n in &nodes {
            wait_applied(n, "after", "1").await;
        }
        let back = nodes.last().expect("restarted node");
        let leader = nodes
            .iter()
            .find(|n| n.group.is_leader())
            .expect("a leader");
        let start = Instant::now();
        while last_applied(back) != last_applied(leader) {
            assert!(start.elapsed() < PATIENCE, "replica did not catch up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(read(back, "k5").as_deref(), Some(&b"v5"[..]));
        assert_eq!(read(back, "k0"), None);
        assert_eq!(dump(&back.storage), dump(&leader.storage));
        assert_eq!(
            back.group.shared.keyspace.counters(),
            leader.group.shared.keyspace.counters()
        );
        let counters = back.group.shared.keyspace.counters();
        assert_eq!(counters.expires[0], 1, "{counters:?}");
        let snapshot = back.group.raft.metrics().borrow_watched().snapshot;
        assert!(
            snapshot.map(|s| s.index) >= purged,
            "the replica's snapshot {snapshot:?} is older than the leader's purge point {purged:?}"
        );

        // And it keeps replicating.
        for i in 0..5 {
            write(&live, set(&format!("new{i}"), "y")).await;
        }
        wait_applied(back, "new4", "y").await;

        // Restarted after the install, it opens from its installed state and stays in.
        let mut back = nodes.pop().expect("restarted node");
        shutdown(&mut back).await;
        let l = TcpListener::bind(&addr).await.expect("bind again");
        let TestNode {
            storage, _dir: dir, ..
        } = back;
        nodes.push(start_node_on(replica, l, &transport, dir, storage, &tuning).await);
        let live: Vec<&TestNode> = nodes.iter().collect();
        write(&live, set("again", "z")).await;
        for n in &nodes {
            wait_applied(n, "again", "z").await;
        }

        for n in &mut nodes {
            shutdown(n).await;
        }
    }

    fn raw_request(
        group_id: u64,
        target_replica: u64,
        secret: Option<&str>,
    ) -> tonic::Request<RaftRequest> {
        let mut req = tonic::Request::new(RaftRequest {
            group_id,
            target_replica,
            payload: Vec::new(),
        });
        if let Some(s) = secret {
            req.metadata_mut()
                .insert(SECRET_HEADER, s.parse().expect("ascii secret"));
        }
        req
    }

    /// Secret check, routing errors and the snapshot refusal, on the wire and as openraft
    /// sees them through the client.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refusals() {
        let (l, addr) = listener().await;
        let transport = GrpcTransport::new(SECRET).expect("transport");
        let node = start_node(1, l, &transport).await;
        let mut client = RaftServiceClient::connect(format!("http://{addr}"))
            .await
            .expect("connect");

        for secret in [None, Some("wrong"), Some("test-secreT"), Some("")] {
            let status = client
                .vote(raw_request(GROUP, 1, secret))
                .await
                .expect_err("a request without the right secret must fail");
            assert_eq!(status.code(), tonic::Code::Unauthenticated, "{secret:?}");
        }

        let reply = client
            .vote(raw_request(99, 1, Some(SECRET)))
            .await
            .expect("reply")
            .into_inner();
        assert_eq!(reply.error, "unknown group 99");
        let reply = client
            .append_entries(raw_request(GROUP, 7, Some(SECRET)))
            .await
            .expect("reply")
            .into_inner();
        assert_eq!(reply.error, "replica 7 is not on this node");

        // A snapshot stream is routed like the other requests, and its header must decode.
        let snapshot_req = |group_id, target_replica| {
            let chunk = SnapshotChunk {
                group_id,
                target_replica,
                header: b"not a header".to_vec(),
                ..Default::default()
            };
            let mut req = tonic::Request::new(futures::stream::iter(vec![chunk]));
            req.metadata_mut()
                .insert(SECRET_HEADER, SECRET.parse().expect("ascii secret"));
            req
        };
        let reply = client
            .install_snapshot(snapshot_req(99, 1))
            .await
            .expect("reply")
            .into_inner();
        assert_eq!(reply.error, "unknown group 99");
        let status = client
            .install_snapshot(snapshot_req(GROUP, 1))
            .await
            .expect_err("an undecodable header must be refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status}");

        // A stream that ends without its done marker installs nothing and keeps no files.
        let header = SnapshotHeader {
            vote: Vote::new(9, 2),
            meta: Default::default(),
            keyspace: Default::default(),
            watch_epoch: 0,
        };
        let key = meta_key(key_slot(b"ghost"), 0, b"ghost");
        let mut record = vec![0u8];
        record.extend_from_slice(&(key.len() as u32).to_be_bytes());
        record.extend_from_slice(&key);
        record.extend_from_slice(&1u32.to_be_bytes());
        record.push(b'x');
        let chunks = vec![
            SnapshotChunk {
                group_id: GROUP,
                target_replica: 1,
                header: postcard::to_allocvec(&header).expect("encode header"),
                ..Default::default()
            },
            SnapshotChunk {
                data: record,
                ..Default::default()
            },
        ];
        let mut req = tonic::Request::new(futures::stream::iter(chunks));
        req.metadata_mut()
            .insert(SECRET_HEADER, SECRET.parse().expect("ascii secret"));
        let reply = client
            .install_snapshot(req)
            .await
            .expect("reply")
            .into_inner();
        assert!(
            reply.error.starts_with("snapshot not staged"),
            "{}",
            reply.error
        );
        assert_eq!(node.storage.get(Cf::Meta, &key).expect("read"), None);
        let staging = staging_root(&node.storage);
        assert!(
            std::fs::read_dir(&staging).map_or(true, |mut d| d.next().is_none()),
            "staged files left in {}",
            staging.display()
        );

        // Through the openraft client: every refusal is Unreachable, so openraft backs off.
        let node_info = NodeInfo {
            raft_addr: addr.clone(),
            resp_addr: String::new(),
        };
        let vote = || VoteRequest::new(Vote::new(1, 2), None);
        let option = || RPCOption::new(Duration::from_secs(10));
        let expect_unreachable = |r: Result<_, RPCError<_>>, want: &str| match r {
            Err(RPCError::Unreachable(u)) => {
                assert!(u.to_string().contains(want), "{u} does not say {want}")
            }
            Err(e) => panic!("expected Unreachable ({want}), got {e}"),
            Ok(_) => panic!("expected Unreachable ({want}), got a reply"),
        };
        let mut peer = transport.network(99, 2).new_client(1, &node_info).await;
        expect_unreachable(peer.vote(vote(), option()).await, "unknown group 99");
        let mut peer = transport.network(GROUP, 2).new_client(7, &node_info).await;
        expect_unreachable(
            peer.vote(vote(), option()).await,
            "replica 7 is not on this node",
        );
        let wrong = GrpcTransport::new("wrong").expect("transport");
        let mut peer = wrong.network(GROUP, 2).new_client(1, &node_info).await;
        expect_unreachable(peer.vote(vote(), option()).await, "secret");

        // The right replica answers with an openraft vote response.
        let mut peer = transport.network(GROUP, 2).new_client(1, &node_info).await;
        peer.vote(vote(), option()).await.expect("vote reply");

        // Nothing listening: Unreachable. Once a server listens there, the same peer
        // reconnects and gets its answer.
        let (dead, dead_addr) = listener().await;
        drop(dead);
        let mut peer = transport
            .network(GROUP, 2)
            .new_client(
                1,
                &NodeInfo {
                    raft_addr: dead_addr.clone(),
                    resp_addr: String::new(),
                },
            )
            .await;
        match peer.vote(vote(), option()).await {
            Err(RPCError::Unreachable(_)) => {}
            Err(e) => panic!("expected Unreachable, got {e}"),
            Ok(_) => panic!("a closed port answered"),
        }
        let revived = TcpListener::bind(&dead_addr).await.expect("bind again");
        let registry = Arc::new(Registry::default());
        registry.register(GROUP, 1, node.group.raft.clone());
        let (stop, server) = spawn_server(revived, registry, SECRET);
        peer.vote(vote(), option())
            .await
            .expect("vote reply after the peer came up");
        let _ = stop.send(());
        server.abort();

        node.group.raft.shutdown().await.expect("shutdown");
    }
}
