//! Raft transport of a single node. It has no peers, so every RPC to another replica is
//! reported as unreachable (openraft then backs off). Groups with replicas on other nodes use
//! the gRPC transport instead (`super::grpc`, opened with `Group::open_networked`).

use std::future::Future;

use openraft::error::{RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::{OptionalSend, RaftNetworkFactory, RaftNetworkV2};

use super::state_machine::GroupSnapshot;
use super::types::{NodeInfo, TypeConfig, Vote};

#[derive(Debug, thiserror::Error)]
#[error("replica {0} is on another node, and this node runs without a cluster transport")]
struct NoTransport(u64);

/// Network factory for a node without peers.
#[derive(Clone, Default)]
pub struct LocalOnlyNetwork;

/// A "connection" to a replica that cannot be reached.
pub struct NoPeer {
    target: u64,
}

impl NoPeer {
    fn unreachable(&self) -> Unreachable<TypeConfig> {
        Unreachable::new(&NoTransport(self.target))
    }
}

impl RaftNetworkFactory<TypeConfig> for LocalOnlyNetwork {
    type Network = NoPeer;

    async fn new_client(&mut self, target: u64, _node: &NodeInfo) -> NoPeer {
        NoPeer { target }
    }
}

impl RaftNetworkV2<TypeConfig> for NoPeer {
    type SnapshotData = GroupSnapshot;

    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(self.unreachable()))
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(self.unreachable()))
    }

    async fn full_snapshot(
        &mut self,
        _vote: Vote,
        _snapshot: openraft::alias::SnapshotOf<TypeConfig, GroupSnapshot>,
        _cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        Err(StreamingError::Unreachable(self.unreachable()))
    }
}
