//! A stopped node catches up after a restart: from the log (a short outage) and from a
//! snapshot (the log it missed was purged).

use std::time::Duration;

use cluster_tests::redis::{self, AsyncCommands};
use cluster_tests::{eventually, Cluster, ClusterOpts};

/// Writes `prefix0..prefix<n>` (value = key) through cluster connections, `tasks` at a time.
/// Each SET is retried until it succeeds (SET is idempotent), with a fresh connection after
/// an error: a node of the seed list may be down.
async fn write_keys(c: &Cluster, prefix: &str, n: usize, tasks: usize) {
    let client = c.cluster_client();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let client = client.clone();
        let prefix = prefix.to_string();
        handles.push(tokio::spawn(async move {
            let mut con = None;
            for i in (t..n).step_by(tasks) {
                let key = format!("{prefix}{i}");
                let deadline = std::time::Instant::now() + Duration::from_secs(120);
                loop {
                    if con.is_none() {
                        con = client.get_async_connection().await.ok();
                    }
                    if let Some(cn) = con.as_mut() {
                        let r: redis::RedisResult<()> = cn.set(&key, &key).await;
                        match r {
                            Ok(()) => break,
                            Err(e) if std::time::Instant::now() > deadline => {
                                panic!("SET {key} keeps failing: {e}")
                            }
                            Err(_) => con = None,
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    for h in handles {
        h.await.expect("writer task");
    }
}

/// Waits until node `i`, read with READONLY, has every key `prefix0..prefix<n>` (value = key).
async fn wait_replica_has_keys(c: &Cluster, i: usize, prefix: &str, n: usize, timeout: Duration) {
    eventually(
        timeout,
        &format!("node {} to have all {n} keys", i + 1),
        || async move {
            let mut ro = c.try_readonly_client(i).await?;
            for chunk_start in (0..n).step_by(500) {
                let keys: Vec<String> = (chunk_start..n.min(chunk_start + 500))
                    .map(|k| format!("{prefix}{k}"))
                    .collect();
                let mut pipe = redis::pipe();
                for k in &keys {
                    pipe.get(k);
                }
                let got: Vec<Option<String>> = pipe.query_async(&mut ro).await?;
                let missing = keys
                    .iter()
                    .zip(&got)
                    .filter(|(k, v)| v.as_deref() != Some(k.as_str()))
                    .count();
                anyhow::ensure!(
                    missing == 0,
                    "{missing} of keys {chunk_start}.. missing or wrong"
                );
            }
            Ok(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_node_catches_up_from_the_log() {
    let mut c = Cluster::start(3, ClusterOpts::default()).await;
    write_keys(&c, "before:", 100, 4).await;
    let node = 2;
    c.stop(node);
    write_keys(&c, "during:", 300, 4).await;
    c.restart(node).await;
    c.wait_node_ok(node, Duration::from_secs(120)).await;
    wait_replica_has_keys(&c, node, "before:", 100, Duration::from_secs(120)).await;
    wait_replica_has_keys(&c, node, "during:", 300, Duration::from_secs(120)).await;
    // The cluster is whole again: writes after the restart reach every node.
    write_keys(&c, "after:", 50, 2).await;
    for i in 0..c.len() {
        wait_replica_has_keys(&c, i, "after:", 50, Duration::from_secs(120)).await;
    }
}

/// With snapshot-logs=200 and keep-logs=50 the log a stopped node missed is purged while
/// it is down, so it can only catch up by receiving a snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_node_catches_up_from_a_snapshot() {
    let opts = ClusterOpts {
        config_toml: Some("[raft]\nsnapshot-logs = 200\nkeep-logs = 50\n".to_string()),
        ..Default::default()
    };
    let mut c = Cluster::start(3, opts).await;
    write_keys(&c, "before:", 100, 4).await;
    let node = 1;
    c.stop(node);
    // ~1000 entries per group: several snapshots, each purging all but 50 entries.
    write_keys(&c, "during:", 3000, 8).await;
    c.restart(node).await;
    c.wait_node_ok(node, Duration::from_secs(180)).await;
    wait_replica_has_keys(&c, node, "during:", 3000, Duration::from_secs(180)).await;
    wait_replica_has_keys(&c, node, "before:", 100, Duration::from_secs(60)).await;
    // Data written after the snapshot install replicates as usual.
    write_keys(&c, "after:", 50, 2).await;
    wait_replica_has_keys(&c, node, "after:", 50, Duration::from_secs(120)).await;
}
