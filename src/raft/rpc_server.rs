//! Raft transport between nodes, server side: the `RaftService` of proto/raft.proto.
//!
//! One service serves every group of the node: a [`Registry`] maps a group id to the local
//! replica's Raft handle. Each request is checked against the cluster secret (metadata
//! [`SECRET_HEADER`], constant-time compare) before anything else, then routed by its
//! `group_id` and `target_replica`. tonic runs every HTTP/2 stream as its own task, so
//! requests of different groups (and of the same group) are handled concurrently.
//!
//! The service is generic over the replicas' state machine type (openraft's `Raft` handle
//! carries it) so the deterministic simulation (cluster-tests/tests/sim.rs) can serve replicas
//! over an in-memory state machine with exactly this code; nodes use the default,
//! [`StateMachine`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures::Stream;
use openraft::raft::{AppendEntriesRequest, TransferLeaderRequest, VoteRequest};
use openraft::storage::RaftStateMachine;
use openraft::Raft;
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::{Connected, TcpIncoming};
use tonic::{Request, Response, Status, Streaming};

use super::grpc::{MAX_MESSAGE, SECRET_HEADER};
use super::snapshot::{self, SnapshotHeader, StageMsg, StageTarget};
use super::state_machine::{GroupSnapshot, StateMachine};
use super::types::{TypeConfig, WriteOp, WriteRequest};
use crate::cluster::map::ClusterOp;
use crate::proto::raft::raft_service_server::{RaftService, RaftServiceServer};
use crate::proto::raft::{RaftReply, RaftRequest, SnapshotChunk};

/// What a replica's state machine must be for the service to serve it.
pub trait ServedStateMachine:
    RaftStateMachine<TypeConfig, SnapshotData = GroupSnapshot> + Send + Sync + 'static
{
    /// Where a snapshot received for this replica is staged; `None`: the state machine takes
    /// no snapshots from other nodes (the simulation's in-memory one), and the sender is told.
    fn snapshot_stage(&self) -> Option<StageTarget>;
}

impl ServedStateMachine for StateMachine {
    fn snapshot_stage(&self) -> Option<StageTarget> {
        Some(self.stage_target())
    }
}

/// Group id -> (replica id, Raft handle) of the replicas a node hosts.
type Replicas<SM> = HashMap<u64, (u64, Raft<TypeConfig, SM>)>;

/// The replicas this node hosts, by group id.
pub struct Registry<SM: ServedStateMachine = StateMachine> {
    groups: RwLock<Replicas<SM>>,
}

impl<SM: ServedStateMachine> Default for Registry<SM> {
    fn default() -> Self {
        Registry {
            groups: RwLock::default(),
        }
    }
}

impl<SM: ServedStateMachine> Registry<SM> {
    /// Makes replica `replica_id` of group `group_id` reachable (replacing any earlier one).
    pub fn register(&self, group_id: u64, replica_id: u64, raft: Raft<TypeConfig, SM>) {
        self.groups.write().insert(group_id, (replica_id, raft));
    }

    pub fn unregister(&self, group_id: u64) {
        self.groups.write().remove(&group_id);
    }

    /// The Raft handle a request for `group_id` / `replica` goes to, or the reply's error.
    fn route(&self, group_id: u64, replica: u64) -> Result<Raft<TypeConfig, SM>, String> {
        match self.groups.read().get(&group_id) {
            None => Err(format!("unknown group {group_id}")),
            Some((r, _)) if *r != replica => Err(format!("replica {replica} is not on this node")),
            Some((_, raft)) => Ok(raft.clone()),
        }
    }
}

/// Refuses every request whose [`SECRET_HEADER`] is missing or differs from the secret.
#[derive(Clone)]
pub struct SecretCheck {
    secret: Arc<[u8]>,
}

impl tonic::service::Interceptor for SecretCheck {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let given = req
            .metadata()
            .get(SECRET_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if constant_time_eq(given, &self.secret) {
            Ok(req)
        } else {
            Err(Status::unauthenticated("missing or wrong cluster secret"))
        }
    }
}

/// Compares without an early exit, so the time taken does not tell an attacker how many
/// leading bytes of a guess were right. (Only the length can leak, which is acceptable.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimizer from turning the fold back into an early-exit compare.
    std::hint::black_box(diff) == 0
}

/// The service implementation; see the module docs.
pub struct RaftRpc<SM: ServedStateMachine = StateMachine> {
    registry: Arc<Registry<SM>>,
}

/// A successful reply carrying `resp` (postcard).
fn reply_ok(resp: &impl Serialize) -> Result<Response<RaftReply>, Status> {
    let payload = postcard::to_allocvec(resp)
        .map_err(|e| Status::internal(format!("cannot encode reply: {e}")))?;
    Ok(Response::new(RaftReply {
        payload,
        error: String::new(),
    }))
}

fn reply_error(msg: String) -> Response<RaftReply> {
    Response::new(RaftReply {
        payload: Default::default(),
        error: msg,
    })
}

impl<SM: ServedStateMachine> RaftRpc<SM> {
    /// Decodes the request, hands it to the routed replica with `handle`, encodes the answer.
    async fn serve<Req, Resp, E, F, Fut>(
        &self,
        req: Request<RaftRequest>,
        handle: F,
    ) -> Result<Response<RaftReply>, Status>
    where
        Req: DeserializeOwned,
        Resp: Serialize,
        E: std::fmt::Display,
        F: FnOnce(Raft<TypeConfig, SM>, Req) -> Fut,
        Fut: Future<Output = Result<Resp, E>>,
    {
        let req = req.into_inner();
        let raft = match self.registry.route(req.group_id, req.target_replica) {
            Ok(raft) => raft,
            Err(msg) => return Ok(reply_error(msg)),
        };
        let rpc: Req = postcard::from_bytes(&req.payload)
            .map_err(|e| Status::invalid_argument(format!("undecodable request: {e}")))?;
        match handle(raft, rpc).await {
            Ok(resp) => reply_ok(&resp),
            // Raft RPCs: only a fatal error of the replica (stopped, storage failure) gets
            // here; forwarded proposals: also "not the leader".
            Err(e) => Ok(reply_error(format!(
                "group {} on this node: {e}",
                req.group_id
            ))),
        }
    }
}

#[tonic::async_trait]
impl<SM: ServedStateMachine> RaftService for RaftRpc<SM> {
    async fn append_entries(
        &self,
        req: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        self.serve(req, |raft, rpc: AppendEntriesRequest<TypeConfig>| async move {
            raft.append_entries(rpc).await
        })
        .await
    }

    async fn vote(&self, req: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        self.serve(req, |raft, rpc: VoteRequest<TypeConfig>| async move {
            raft.vote(rpc).await
        })
        .await
    }

    async fn pre_vote(&self, req: Request<RaftRequest>) -> Result<Response<RaftReply>, Status> {
        self.serve(req, |raft, rpc: VoteRequest<TypeConfig>| async move {
            raft.pre_vote(rpc).await
        })
        .await
    }

    /// Receives a snapshot stream (see `super::snapshot`): stages it on disk, then hands it
    /// to openraft, which installs it through the state machine and answers with its vote.
    /// Any failure before that leaves the group's data as it was.
    async fn install_snapshot(
        &self,
        req: Request<Streaming<SnapshotChunk>>,
    ) -> Result<Response<RaftReply>, Status> {
        let mut stream = req.into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty snapshot stream"))?;
        let raft = match self.registry.route(first.group_id, first.target_replica) {
            Ok(raft) => raft,
            Err(msg) => return Ok(reply_error(msg)),
        };
        let header: SnapshotHeader = postcard::from_bytes(&first.header)
            .map_err(|e| Status::invalid_argument(format!("undecodable snapshot header: {e}")))?;
        let target = match raft
            .with_state_machine(|sm| {
                let target = sm.snapshot_stage();
                Box::pin(async move { target })
            })
            .await
        {
            Ok(Some(target)) => target,
            Ok(None) => {
                return Ok(reply_error(format!(
                    "group {} on this node takes no snapshots from other nodes",
                    first.group_id
                )))
            }
            Err(e) => {
                return Ok(reply_error(format!(
                    "group {} is stopped on this node: {e}",
                    first.group_id
                )))
            }
        };

        // Staging writes files: a blocking thread does it, fed through a small channel so
        // the network is read only as fast as the disk takes it.
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let stage_header = header.clone();
        let stager =
            tokio::task::spawn_blocking(move || snapshot::stage(&target, &stage_header, rx));
        let fed = async {
            while let Some(chunk) = stream.message().await? {
                let done = chunk.done;
                if tx.send(StageMsg::from(chunk)).await.is_err() {
                    // The stager gave up (bad data, disk error): its error is the answer.
                    break;
                }
                if done {
                    break;
                }
            }
            Ok::<(), Status>(())
        }
        .await;
        // Without the done marker the stager sees the channel close and discards the files.
        drop(tx);
        let staged = stager
            .await
            .map_err(|e| Status::internal(format!("snapshot staging failed: {e}")))?;
        fed?;
        let staged = match staged {
            Ok(staged) => staged,
            Err(e) => return Ok(reply_error(format!("snapshot not staged: {e}"))),
        };
        let snapshot = openraft::Snapshot {
            meta: header.meta,
            snapshot: GroupSnapshot::Received(Box::new(staged)),
        };
        match raft.install_full_snapshot(header.vote, snapshot).await {
            Ok(resp) => reply_ok(&resp),
            Err(e) => Ok(reply_error(format!(
                "group {} is stopped on this node: {e}",
                first.group_id
            ))),
        }
    }

    async fn transfer_leader(
        &self,
        req: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        self.serve(
            req,
            |raft, rpc: TransferLeaderRequest<TypeConfig>| async move {
                raft.handle_transfer_leader(rpc).await
            },
        )
        .await
    }

    /// Proposes a cluster-map change on this node's group-0 replica, if it leads; only
    /// `ClusterOp`s are accepted (a peer cannot inject client writes this way).
    async fn propose_cluster_change(
        &self,
        req: Request<RaftRequest>,
    ) -> Result<Response<RaftReply>, Status> {
        self.serve(req, |raft, op: ClusterOp| async move {
            let req = WriteRequest {
                now_ms: crate::storage::keyspace::unix_ms(),
                max_value_len: 0,
                op: WriteOp::Cluster(op),
            };
            match raft.client_write(req).await {
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }
}

/// The service with its secret check, ready to add to a tonic server.
pub fn service<SM: ServedStateMachine>(
    registry: Arc<Registry<SM>>,
    secret: &str,
) -> InterceptedService<RaftServiceServer<RaftRpc<SM>>, SecretCheck> {
    let svc = RaftServiceServer::new(RaftRpc { registry })
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE);
    InterceptedService::new(
        svc,
        SecretCheck {
            secret: secret.as_bytes().into(),
        },
    )
}

/// Serves Raft RPCs on `listener` until `shutdown` resolves.
pub async fn serve<SM: ServedStateMachine>(
    listener: TcpListener,
    registry: Arc<Registry<SM>>,
    secret: &str,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(service(registry, secret))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
}

/// Serves Raft RPCs on the connections `incoming` yields (any byte stream, e.g. a simulated
/// network's) until `shutdown` resolves. [`serve`] is this over a TCP listener.
pub async fn serve_with_incoming<SM, I, IO, IE>(
    incoming: I,
    registry: Arc<Registry<SM>>,
    secret: &str,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error>
where
    SM: ServedStateMachine,
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    IE: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    tonic::transport::Server::builder()
        .add_service(service(registry, secret))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}
