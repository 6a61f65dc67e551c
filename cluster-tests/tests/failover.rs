//! kill -9 of a group leader under concurrent INCR load: the survivors elect new leaders,
//! the killed node rejoins after a restart, and no acknowledged increment is lost.
//!
//! Accounting: the load uses the cluster client with retries off, so every INCR is sent at
//! most once by the client. A reply is an acknowledged increment; a MOVED reply is a
//! definite "not applied" (the node refused before proposing); any other outcome (I/O error,
//! timeout, other error reply) may or may not have been applied, so it is counted as
//! unknown. At the end every counter must satisfy acked <= value <= acked + unknown.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cluster_tests::redis::{self, AsyncCommands};
use cluster_tests::{eventually, key_slot, moved_target, Cluster, ClusterOpts};

const TASKS: usize = 6;
/// Acknowledged increments each phase of the load runs for.
const PHASE_INCRS: u64 = 300;

#[derive(Debug, Default, Clone)]
struct CounterStats {
    key: String,
    acked: u64,
    unknown: u64,
    /// The largest value an acknowledged INCR returned (a lower bound of the final value).
    max_reply: i64,
    /// Time of the first acknowledged INCR after the kill, relative to the kill.
    first_ack_after_kill: Option<Duration>,
}

struct Shared {
    stop: AtomicBool,
    /// Acknowledged increments of all tasks so far (the phases below wait on it).
    acked: AtomicU64,
    killed_at: std::sync::Mutex<Option<Instant>>,
}

async fn connect(
    client: &redis::cluster::ClusterClient,
) -> redis::cluster_async::ClusterConnection {
    // The client's seed list includes the killed node; connecting may take a few tries.
    eventually(Duration::from_secs(120), "a cluster connection", || {
        let client = client.clone();
        async move { Ok(client.get_async_connection().await?) }
    })
    .await
}

/// Waits (bounded) until the load has acknowledged `n` more increments: the load runs in
/// each phase (before the kill, after the failover, after the rejoin) before the next step.
async fn wait_for_progress(shared: &Shared, n: u64, phase: &str) {
    let from = shared.acked.load(Ordering::SeqCst);
    eventually(Duration::from_secs(90), phase, || async move {
        let now = shared.acked.load(Ordering::SeqCst);
        if now >= from + n {
            Ok(())
        } else {
            anyhow::bail!("{} of {n} increments acknowledged", now - from)
        }
    })
    .await;
}

async fn load_task(
    client: redis::cluster::ClusterClient,
    keys: Vec<String>,
    shared: Arc<Shared>,
) -> Vec<CounterStats> {
    let mut stats: Vec<CounterStats> = keys
        .into_iter()
        .map(|key| CounterStats {
            key,
            ..Default::default()
        })
        .collect();
    let mut con = connect(&client).await;
    while !shared.stop.load(Ordering::SeqCst) {
        for s in stats.iter_mut() {
            let r: redis::RedisResult<i64> = con.incr(&s.key, 1).await;
            match r {
                Ok(v) => {
                    s.acked += 1;
                    shared.acked.fetch_add(1, Ordering::SeqCst);
                    s.max_reply = s.max_reply.max(v);
                    if s.first_ack_after_kill.is_none() {
                        if let Some(t) = *shared.killed_at.lock().expect("lock") {
                            s.first_ack_after_kill = Some(t.elapsed());
                        }
                    }
                }
                Err(e) if moved_target(&e).is_some() => {
                    // Refused before proposing; the client refreshes its slot map.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(_) => {
                    s.unknown += 1;
                    // The connection may point at the dead node: start over from the seeds,
                    // which makes the client read CLUSTER SLOTS again.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    con = connect(&client).await;
                }
            }
        }
    }
    stats
}

/// Picks, for every node that leads some slots, a key led by it (per task).
async fn counter_keys(c: &Cluster, task: usize) -> Vec<String> {
    let ranges = c.cluster_slots(0).await.expect("CLUSTER SLOTS");
    let mut keys = Vec::new();
    for node in 0..c.len() {
        let led: Vec<_> = ranges
            .iter()
            .filter(|r| c.resp_addr(node) == r.master)
            .collect();
        if led.is_empty() {
            continue;
        }
        let key = (0u64..)
            .map(|n| format!("ctr:{task}:{node}:{n}"))
            .find(|k| led.iter().any(|r| r.contains(key_slot(k.as_bytes()))))
            .expect("a key in the node's slots");
        keys.push(key);
    }
    keys
}

async fn run_kill_leader_under_load(nodes: usize) {
    let mut c = Cluster::start(nodes, ClusterOpts::default()).await;
    let ranges = c.cluster_slots(0).await.expect("CLUSTER SLOTS");
    let victim = c.index_of(&ranges[0].master).expect("master is a node");
    let victim_slots: Vec<_> = ranges
        .iter()
        .filter(|r| r.master == c.resp_addr(victim))
        .cloned()
        .collect();
    eprintln!("victim: node {} leading {victim_slots:?}", victim + 1);

    // Retries off: the client sends each INCR at most once (see the module docs).
    let client = c
        .cluster_client_builder()
        .retries(0)
        .response_timeout(Duration::from_secs(5))
        .build()
        .expect("cluster client");
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        killed_at: std::sync::Mutex::new(None),
        acked: AtomicU64::new(0),
    });
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let keys = counter_keys(&c, t).await;
        handles.push(tokio::spawn(load_task(
            client.clone(),
            keys,
            shared.clone(),
        )));
    }
    wait_for_progress(&shared, PHASE_INCRS, "load before the kill").await;

    *shared.killed_at.lock().expect("lock") = Some(Instant::now());
    c.kill9(victim);
    let killed_at = Instant::now();
    // Writes to the victim's slots resume once the survivors elect leaders for its groups.
    // The load tasks measure it; here we only bound the wait, via a probe on one key.
    let probe_key =
        cluster_tests::key_in_slots("probe:", victim_slots[0].start, victim_slots[0].end);
    let probe_client = c.cluster_client();
    eventually(
        Duration::from_secs(90),
        "a write to the killed leader's slots",
        || {
            let probe_client = probe_client.clone();
            let probe_key = probe_key.clone();
            async move {
                let mut con = probe_client.get_async_connection().await?;
                let _: () = con.set(&probe_key, "x").await?;
                Ok(())
            }
        },
    )
    .await;
    eprintln!(
        "probe write to the victim's slots succeeded {:?} after the kill",
        killed_at.elapsed()
    );
    wait_for_progress(&shared, PHASE_INCRS, "load after the failover").await;

    c.restart(victim).await;
    c.wait_all_ok(Duration::from_secs(120)).await;
    eprintln!(
        "node {} rejoined {:?} after the kill",
        victim + 1,
        killed_at.elapsed()
    );
    wait_for_progress(&shared, PHASE_INCRS, "load after the rejoin").await;

    shared.stop.store(true, Ordering::SeqCst);
    let mut all = Vec::new();
    for h in handles {
        // Bounded: each INCR has a 5 s response timeout and reconnects are bounded.
        let stats = tokio::time::timeout(Duration::from_secs(180), h)
            .await
            .expect("load task finishes")
            .expect("load task panicked");
        all.extend(stats);
    }

    // How long were writes unavailable? The longest wait for a counter's first
    // acknowledged INCR after the kill (counters on other nodes resume at once).
    let mut worst = Duration::ZERO;
    for s in &all {
        let Some(t) = s.first_ack_after_kill else {
            panic!(
                "counter {} was never incremented after the kill: {s:?}",
                s.key
            );
        };
        worst = worst.max(t);
    }
    let acked: u64 = all.iter().map(|s| s.acked).sum();
    let unknown: u64 = all.iter().map(|s| s.unknown).sum();
    eprintln!(
        "writes to the killed leader's slots were unavailable for up to {worst:?}; \
         {acked} acknowledged INCRs, {unknown} with unknown outcome, {} counters",
        all.len()
    );

    let con = c.cluster_conn().await;
    let mut finals = Vec::new();
    for s in &all {
        let v: i64 = eventually(Duration::from_secs(60), &format!("GET {}", s.key), || {
            let mut con = con.clone();
            let key = s.key.clone();
            async move {
                let v: Option<i64> = con.get(&key).await?;
                Ok(v.unwrap_or(0))
            }
        })
        .await;
        let v_u = u64::try_from(v).expect("counter is not negative");
        assert!(
            v_u >= s.acked && v >= s.max_reply,
            "LOST acknowledged increments on {}: value {v}, acknowledged {} (largest reply {})",
            s.key,
            s.acked,
            s.max_reply
        );
        assert!(
            v_u <= s.acked + s.unknown,
            "{}: value {v} exceeds acknowledged {} + unknown {}",
            s.key,
            s.acked,
            s.unknown
        );
        finals.push((s.key.clone(), v));
    }

    // Every replica converges to the same values, the restarted node included.
    for i in 0..c.len() {
        let ro = c.try_readonly_client(i).await.expect("READONLY connection");
        for (key, want) in &finals {
            eventually(
                Duration::from_secs(60),
                &format!("node {} has {key} = {want}", i + 1),
                || {
                    let mut ro = ro.clone();
                    let key = key.clone();
                    let want = *want;
                    async move {
                        let v: Option<i64> = ro.get(&key).await?;
                        anyhow::ensure!(v.unwrap_or(0) == want, "got {v:?}");
                        Ok(())
                    }
                },
            )
            .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_leader_under_incr_load_loses_no_acknowledged_write() {
    run_kill_leader_under_load(3).await;
}
