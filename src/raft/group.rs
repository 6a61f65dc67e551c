//! One slot group as this node hosts it: its Raft instance, and the two operations the command
//! layer needs — propose a write, and wait until a read is linearizable.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, LinearizableReadError, RaftError};
use openraft::impls::ProgressResponder;
use openraft::network::NetSnapshot;
use openraft::{Raft, RaftNetworkFactory, ReadPolicy};

use super::log_store::LogStore;
use super::network::LocalOnlyNetwork;
use super::state_machine::{Executor, GroupShared, GroupSnapshot, StateMachine};
use super::syncer::Syncer;
use super::types::{NodeInfo, TypeConfig, WriteRequest};
use crate::cluster::GroupId;
use crate::resp::Frame;
use crate::storage::Storage;

pub type GroupRaft = Raft<TypeConfig, StateMachine>;

/// Why a request could not be served by this group here.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupError {
    /// Another replica leads the group: the client is redirected to it. `replica` is the
    /// leader's replica id (the node layer finds its RESP address), `node` what the group's
    /// membership records about it.
    #[error("not leader; leader is replica {replica}")]
    NotLeader { replica: u64, node: NodeInfo },
    /// The group has no leader right now (election in progress, quorum lost).
    #[error("no leader")]
    NoLeader,
    /// The entry was proposed but its outcome is unknown (leader changed before commit).
    #[error("outcome unknown: {0}")]
    Unknown(String),
    /// The group stopped (storage failure).
    #[error("raft group stopped: {0}")]
    Fatal(String),
}

/// Tuning of every group's Raft instance.
#[derive(Clone, Debug)]
pub struct RaftTuning {
    pub heartbeat_ms: u64,
    pub election_min_ms: u64,
    pub election_max_ms: u64,
    pub snapshot_logs: u64,
    pub keep_logs: u64,
}

impl Default for RaftTuning {
    fn default() -> Self {
        RaftTuning {
            heartbeat_ms: 100,
            election_min_ms: 500,
            election_max_ms: 1000,
            snapshot_logs: 10_000,
            keep_logs: 1_000,
        }
    }
}

pub struct Group {
    pub id: GroupId,
    pub raft: GroupRaft,
    pub shared: Arc<GroupShared>,
    pub ranges: Vec<(u16, u16)>,
    /// The group runs without a transport to other nodes, so it can never have another
    /// replica, let alone another leader: see [`Group::read_barrier`].
    standalone: bool,
    reads: ReadBatcher,
}

impl Group {
    /// Opens (or creates) the group's replica `replica_id` on this node. A brand-new group is
    /// initialized with this replica as its only voter.
    #[allow(clippy::too_many_arguments)]
    pub async fn open(
        id: GroupId,
        replica_id: u64,
        me: NodeInfo,
        storage: Arc<Storage>,
        syncer: Syncer,
        ranges: Vec<(u16, u16)>,
        executor: Executor,
        tuning: &RaftTuning,
    ) -> anyhow::Result<Group> {
        let (raft, shared) = Self::start(
            id,
            replica_id,
            storage,
            syncer,
            &ranges,
            executor,
            tuning,
            LocalOnlyNetwork,
        )
        .await?;
        if !raft.is_initialized().await? {
            let mut members = BTreeMap::new();
            members.insert(replica_id, me);
            raft.initialize(members).await?;
            tracing::info!(group = %id, replica = replica_id, "initialized new slot group");
        }
        Ok(Group {
            id,
            raft,
            shared,
            ranges,
            standalone: true,
            reads: ReadBatcher::new(tuning),
        })
    }

    /// Opens the group's replica `replica_id` with a transport to other nodes (for example
    /// [`super::grpc::GrpcNetwork`]). Nothing is initialized: a brand-new group waits until
    /// one replica calls `raft.initialize` with the whole membership, or a leader adds it.
    #[allow(clippy::too_many_arguments)]
    pub async fn open_networked<N>(
        id: GroupId,
        replica_id: u64,
        storage: Arc<Storage>,
        syncer: Syncer,
        ranges: Vec<(u16, u16)>,
        executor: Executor,
        tuning: &RaftTuning,
        network: N,
    ) -> anyhow::Result<Group>
    where
        N: RaftNetworkFactory<TypeConfig>,
        N::Network: NetSnapshot<TypeConfig, SnapshotData = GroupSnapshot>,
    {
        let (raft, shared) = Self::start(
            id, replica_id, storage, syncer, &ranges, executor, tuning, network,
        )
        .await?;
        Ok(Group {
            id,
            raft,
            shared,
            ranges,
            standalone: false,
            reads: ReadBatcher::new(tuning),
        })
    }

    /// Starts the Raft instance over the group's log and state machine. The transport is a
    /// type parameter (not a trait object) so the single-node path compiles exactly as before.
    #[allow(clippy::too_many_arguments)]
    async fn start<N>(
        id: GroupId,
        replica_id: u64,
        storage: Arc<Storage>,
        syncer: Syncer,
        ranges: &[(u16, u16)],
        executor: Executor,
        tuning: &RaftTuning,
        network: N,
    ) -> anyhow::Result<(GroupRaft, Arc<GroupShared>)>
    where
        N: RaftNetworkFactory<TypeConfig>,
        N::Network: NetSnapshot<TypeConfig, SnapshotData = GroupSnapshot>,
    {
        let config = raft_config(id.0, tuning);
        let config = Arc::new(config.validate()?);
        let log_store = LogStore::new(id.0, storage.clone(), syncer);
        let sm = StateMachine::open(id.0, storage, ranges.to_vec(), executor)?;
        let shared = sm.shared();
        let raft = Raft::new(replica_id, config, network, log_store, sm).await?;
        Ok((raft, shared))
    }

    /// Waits (bounded) until this group has a leader.
    pub async fn wait_for_leader(&self, timeout: Duration) -> bool {
        self.raft
            .wait(Some(timeout))
            .metrics(|m| m.current_leader.is_some(), "leader elected")
            .await
            .is_ok()
    }

    /// Proposes `req`; resolves to the reply produced when the entry is applied.
    ///
    /// Submission happens before this returns, so calls made one after another are ordered in
    /// the log in that order even when their replies are awaited later (pipelining).
    pub async fn propose(
        &self,
        req: WriteRequest,
    ) -> Result<impl std::future::Future<Output = Result<Frame, GroupError>>, GroupError> {
        let (responder, rx) = ProgressResponder::complete_only();
        self.raft
            .client_write_ff(req, Some(responder))
            .await
            .map_err(|e| GroupError::Fatal(e.to_string()))?;
        Ok(async move {
            match rx.await {
                Ok(Ok(resp)) => Ok(resp.data),
                Ok(Err(ClientWriteError::ForwardToLeader(f))) => {
                    Err(not_leader(f.leader_id, f.leader_node))
                }
                Ok(Err(e)) => Err(GroupError::Unknown(e.to_string())),
                Err(_) => Err(GroupError::Fatal(
                    "raft group stopped before replying".into(),
                )),
            }
        })
    }

    /// Waits until the leader has committed an entry of its own term and applied everything
    /// before it. After a crash, committed entries whose apply was lost (applies are not
    /// fsynced themselves) are re-applied only then, so a node must not serve reads earlier.
    pub async fn catch_up(&self) -> Result<(), GroupError> {
        match self.raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
            Ok(_) => Ok(()),
            Err(e) => Err(GroupError::Fatal(e.to_string())),
        }
    }

    /// Returns once this node's state machine reflects every write acknowledged before the
    /// call (ReadIndex: the leader confirms its leadership and waits for apply).
    pub async fn read_barrier(&self) -> Result<(), GroupError> {
        // A standalone group is its own only voter and nothing can replace it as leader. A
        // write is acknowledged only after it is applied to RocksDB, so every write that
        // completed before this read began is already visible: no ReadIndex round is needed.
        if self.standalone {
            return Ok(());
        }
        self.reads.wait(&self.raft).await
    }

    /// The leader as this replica knows it: `Ok(())` if it is this replica.
    pub fn leader(&self) -> Result<(), GroupError> {
        use openraft::async_runtime::WatchReceiver;
        let m = self.raft.metrics().borrow_watched().clone();
        match m.current_leader {
            Some(id) if id == m.id => Ok(()),
            Some(id) => Err(not_leader(
                Some(id),
                m.membership_config.get_node(&id).cloned(),
            )),
            None => Err(GroupError::NoLeader),
        }
    }

    pub fn is_leader(&self) -> bool {
        self.raft.is_leader()
    }
}

/// The openraft configuration of every group (the simulation in cluster-tests runs it too).
pub fn raft_config(group: u64, tuning: &RaftTuning) -> openraft::Config {
    openraft::Config {
        cluster_name: format!("raftrocks-g{group}"),
        heartbeat_interval: tuning.heartbeat_ms,
        election_timeout_min: tuning.election_min_ms,
        election_timeout_max: tuning.election_max_ms,
        snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(tuning.snapshot_logs),
        max_in_snapshot_log_to_keep: tuning.keep_logs,
        // Let the core handle a finished fsync (commit, apply, reply) before it drains more
        // client writes. Measured: SET -c 50 -P 16 about +15%, other loads unchanged.
        broadcast_submitted_on_append: Some(true),
        // A leader that restarts must win an election before it leads again. openraft's
        // default lets it resume leadership in its old term at once, but our committed id and
        // state-machine batches are not synced when a write is acknowledged, so a restored
        // leader could answer ReadIndex reads from an older commit point than writes it had
        // acknowledged. The turmoil simulation found this (docs/simulation.md).
        enable_leader_restore: Some(false),
        // A replica that was cut off or restarted asks whether it could win before it raises
        // the term; without this it deposes a working leader every time it comes back.
        enable_pre_vote: Some(true),
        ..Default::default()
    }
}

fn not_leader(id: Option<u64>, node: Option<NodeInfo>) -> GroupError {
    match (id, node) {
        (Some(replica), Some(node)) => GroupError::NotLeader { replica, node },
        _ => GroupError::NoLeader,
    }
}

/// Read barriers of one group, batched: ReadIndex costs a heartbeat round to a quorum, so
/// concurrent readers share one. A reader may only use a round that *starts* after it
/// arrived (an earlier round's read index could miss a write acknowledged in between), so
/// readers that arrive while a round runs wait for the next one, which then serves all of
/// them: at most one round in flight, and each reader waits at most two rounds.
struct ReadBatcher {
    state: Arc<parking_lot::Mutex<BatchState>>,
    /// How old a quorum's acknowledgement of this leader may be for a read to rely on it.
    max_ack_age: Duration,
}

#[derive(Default)]
struct BatchState {
    running: bool,
    waiting: Vec<tokio::sync::oneshot::Sender<Result<(), GroupError>>>,
}

impl ReadBatcher {
    /// Leadership confirmed by a quorum within half the shortest election timeout is still
    /// leadership: no follower times out (and votes for anyone else; pre-vote and openraft's
    /// leader lease refuse that too) sooner than the election timeout after acknowledging,
    /// and the half leaves a wide margin for clock-rate differences. Heartbeats every
    /// `heartbeat_ms` keep such an acknowledgement fresh, so a busy leader's reads need no
    /// round trip of their own; when none is fresh, the round broadcasts heartbeats at once.
    fn new(tuning: &RaftTuning) -> ReadBatcher {
        ReadBatcher {
            state: Arc::default(),
            max_ack_age: Duration::from_millis(tuning.election_min_ms / 2),
        }
    }

    async fn wait(&self, raft: &GroupRaft) -> Result<(), GroupError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let start = {
            let mut st = self.state.lock();
            st.waiting.push(tx);
            !std::mem::replace(&mut st.running, true)
        };
        if start {
            // Rounds run in their own task until nobody is left waiting, so no reader's
            // connection is kept busy serving the readers that came after it.
            tokio::spawn(run_rounds(
                self.state.clone(),
                raft.clone(),
                self.max_ack_age,
            ));
        }
        rx.await
            .unwrap_or_else(|_| Err(GroupError::Fatal("read barrier abandoned".into())))
    }
}

async fn run_rounds(
    state: Arc<parking_lot::Mutex<BatchState>>,
    raft: GroupRaft,
    max_ack_age: Duration,
) {
    loop {
        let batch = {
            let mut st = state.lock();
            if st.waiting.is_empty() {
                st.running = false;
                return;
            }
            std::mem::take(&mut st.waiting)
        };
        let outcome = read_index(&raft, max_ack_age).await;
        for w in batch {
            let _ = w.send(outcome.clone());
        }
    }
}

/// One ReadIndex round: leadership confirmed by a quorum (an acknowledgement at most
/// `max_ack_age` old, else fresh heartbeats), then local apply caught up to the commit index.
async fn read_index(raft: &GroupRaft, max_ack_age: Duration) -> Result<(), GroupError> {
    let option = openraft::LinearizerOption::new(Some(max_ack_age), true);
    match raft.ensure_linearizable(option).await {
        Ok(_) => Ok(()),
        Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(f))) => {
            Err(not_leader(f.leader_id, f.leader_node))
        }
        Err(RaftError::APIError(LinearizableReadError::QuorumNotEnough(_))) => {
            Err(GroupError::NoLeader)
        }
        Err(e) => Err(GroupError::Fatal(e.to_string())),
    }
}
