//! Storage conformance: openraft's own log/state-machine test suite against our RocksDB
//! stores, plus crash-recovery cases specific to our encoding.

use std::sync::Arc;

use openraft::testing::log::{StoreBuilder, Suite};
use openraft::StorageError;
use tempfile::TempDir;

use super::log_store::LogStore;
use super::state_machine::StateMachine;
use super::syncer::Syncer;
use super::types::TypeConfig;
use crate::storage::{Storage, StorageOptions};

struct RocksBuilder;

fn open(dir: &TempDir) -> Result<(LogStore, StateMachine), std::io::Error> {
    let storage = Arc::new(Storage::open(dir.path(), &StorageOptions::default())?);
    let syncer = Syncer::start(storage.clone())?;
    let log = LogStore::new(1, storage.clone(), syncer);
    let sm = StateMachine::open(1, storage, vec![(0, 16383)], crate::cmd::execute)?;
    Ok((log, sm))
}

impl StoreBuilder<TypeConfig, LogStore, StateMachine, TempDir> for RocksBuilder {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachine), StorageError<TypeConfig>> {
        let io = |e: std::io::Error| {
            StorageError::from_io_error(openraft::ErrorSubject::Store, openraft::ErrorVerb::Read, e)
        };
        let dir = tempfile::tempdir().map_err(io)?;
        let (log, sm) = open(&dir).map_err(io)?;
        Ok((dir, log, sm))
    }
}

type S = Suite<TypeConfig, LogStore, StateMachine, RocksBuilder, TempDir>;

/// Runs every case of openraft's suite except `transfer_snapshot`: our snapshots carry no
/// data yet (the state machine is durable; shipping snapshots between nodes comes with the
/// multi-node milestone), so installing another store's snapshot is refused by design.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openraft_storage_suite() {
    macro_rules! run {
        ($($case:ident),* $(,)?) => {$(
            let (_dir, log, sm) = RocksBuilder.build().await.expect("build store");
            if let Err(e) = S::$case(log, sm).await {
                panic!("openraft suite case {} failed: {e}", stringify!($case));
            }
        )*};
    }
    run!(
        last_membership_in_log_initial,
        last_membership_in_log,
        last_membership_in_log_multi_step,
        get_membership_initial,
        get_membership_from_log_and_empty_sm,
        get_membership_from_empty_log_and_sm,
        get_membership_from_log_le_sm_last_applied,
        get_membership_from_log_gt_sm_last_applied_1,
        get_membership_from_log_gt_sm_last_applied_2,
        get_initial_state_without_init,
        get_initial_state_membership_from_empty_log_and_sm,
        get_initial_state_membership_from_sm_inlog_is_smaller,
        get_initial_state_membership_from_log_insm_is_smaller,
        get_initial_state_with_state,
        get_initial_state_last_log_gt_sm,
        get_initial_state_last_log_lt_sm,
        get_initial_state_inverted_log_order,
        get_initial_state_conflict_at_same_index,
        get_initial_state_log_ids,
        get_initial_state_re_apply_committed,
        save_vote,
        get_log_entries,
        limited_get_log_entries,
        leader_bounded_stream,
        entries_stream,
        try_get_log_entry,
        log_reader_reads_new_entries,
        initial_logs,
        get_log_state,
        get_log_id,
        last_id_in_log,
        last_applied_state,
        purge_logs_upto_0,
        purge_logs_upto_5,
        purge_logs_upto_20,
        delete_logs_after_11,
        delete_logs_after_5,
        delete_logs_after_0,
        delete_logs_after_none,
        append_to_log,
        snapshot_meta,
        snapshot_meta_optional,
        apply_single,
        apply_multiple,
    );
}

/// Regression: the purge point was written as `Option<LogId>` and read back as `LogId`, so a
/// node restarted after a purge saw a garbage purge point and refused to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_point_survives_reopen() {
    use openraft::storage::{IOFlushed, RaftLogStorage};
    use openraft::{Entry, EntryPayload, LogId};

    let dir = tempfile::tempdir().unwrap();
    let leader = openraft::impls::leader_id_adv::LeaderId {
        term: 3,
        node_id: 1,
    };
    let log_id = |i: u64| LogId::new(leader, i);
    {
        let (mut log, _sm) = open(&dir).unwrap();
        let entries: Vec<_> = (1..=20)
            .map(|i| Entry {
                log_id: log_id(i),
                payload: EntryPayload::Blank,
            })
            .collect();
        use openraft::async_runtime::Oneshot;
        let (tx, rx) = <openraft::TokioRuntime as openraft::AsyncRuntime>::Oneshot::channel();
        log.append(entries, IOFlushed::signal(tx)).await.unwrap();
        rx.await.unwrap().unwrap();
        log.purge(log_id(10)).await.unwrap();
    }
    let (mut log, _sm) = open(&dir).unwrap();
    let state = log.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id(10)));
    assert_eq!(state.last_log_id, Some(log_id(20)));
    let got = openraft::RaftLogReader::try_get_log_entries(&mut log, 11..21)
        .await
        .unwrap();
    assert_eq!(got.len(), 10);
}
