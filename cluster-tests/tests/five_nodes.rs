//! Smoke test of a 5-node cluster: routing, then kill -9 of a leader and recovery.

use std::time::Duration;

use cluster_tests::redis::{self, AsyncCommands};
use cluster_tests::{check_full_coverage, cmd, eventually, moved_target, Cluster, ClusterOpts};

/// SET (or GET and compare) `k:0..k:<n>` through a cluster connection, retrying each key
/// (with a fresh connection after an error) for up to 90 s: a node may be down or a group
/// electing.
async fn set_or_check_all(c: &Cluster, n: usize, value: &str, check: bool) {
    let client = c.cluster_client();
    let mut con: Option<redis::cluster_async::ClusterConnection> = None;
    for i in 0..n {
        let key = format!("k:{i}");
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        loop {
            if con.is_none() {
                con = client.get_async_connection().await.ok();
            }
            if let Some(cn) = con.as_mut() {
                let r: redis::RedisResult<()> = if check {
                    match cn.get::<_, Option<String>>(&key).await {
                        Ok(v) => {
                            assert_eq!(v.as_deref(), Some(value), "{key}");
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                } else {
                    cn.set(&key, value).await
                };
                match r {
                    Ok(()) => break,
                    Err(e) if std::time::Instant::now() > deadline => {
                        panic!("{key} keeps failing: {e}")
                    }
                    Err(_) => con = None,
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_node_cluster_routes_and_survives_a_kill() {
    let mut c = Cluster::start(5, ClusterOpts::default()).await;
    let ranges = c.cluster_slots(0).await.expect("CLUSTER SLOTS");
    check_full_coverage(&ranges).expect("full coverage");
    eprintln!("CLUSTER SLOTS: {ranges:?}");
    for r in &ranges {
        // Three replicas per group even with five nodes.
        assert_eq!(r.replicas.len(), 2, "replicas of {r:?}");
    }
    let info = c.cluster_info(0).await.expect("CLUSTER INFO");
    assert!(info.contains("cluster_known_nodes:5"), "{info}");

    // Plain connections: MOVED for keys another node leads, OK otherwise.
    for i in 0..c.len() {
        let mut con = c.client(i).await;
        let (mut ok, mut moved) = (0, 0);
        for n in 0..60 {
            let r: redis::RedisResult<()> = cmd(&["SET", &format!("m:{n}"), "v"])
                .query_async(&mut con)
                .await;
            match r {
                Ok(()) => ok += 1,
                Err(e) => {
                    let (_, addr) = moved_target(&e).unwrap_or_else(|| panic!("SET m:{n}: {e}"));
                    assert!(c.index_of(&addr).is_some(), "MOVED to unknown {addr}");
                    moved += 1;
                }
            }
        }
        eprintln!("node {}: {ok} led, {moved} MOVED", i + 1);
        assert!(moved > 0, "node {} leads every key", i + 1);
    }
    let out = c.redis_cli_c(3, &["SET", "cli-key", "cli-value"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK", "{out:?}");
    let out = c.redis_cli_c(1, &["GET", "cli-key"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "cli-value",
        "{out:?}"
    );

    set_or_check_all(&c, 300, "one", false).await;
    set_or_check_all(&c, 300, "one", true).await;

    let victim = c.index_of(&ranges[0].master).expect("master is a node");
    let t0 = std::time::Instant::now();
    c.kill9(victim);
    set_or_check_all(&c, 300, "one", true).await;
    set_or_check_all(&c, 300, "two", false).await;
    eprintln!(
        "all keys read and rewritten {:?} after killing node {}",
        t0.elapsed(),
        victim + 1
    );
    c.wait_all_ok(Duration::from_secs(120)).await;

    c.restart(victim).await;
    c.wait_all_ok(Duration::from_secs(120)).await;
    // Reads on the restarted node see the writes made while it was down, for the groups it
    // replicates (three replicas per group: not every node has every group).
    let ranges = c.cluster_slots(victim).await.expect("CLUSTER SLOTS");
    let here = c.resp_addr(victim);
    let local: Vec<String> = (0..300)
        .map(|i| format!("k:{i}"))
        .filter(|k| {
            let slot = cluster_tests::key_slot(k.as_bytes());
            ranges
                .iter()
                .any(|r| r.contains(slot) && (r.master == here || r.replicas.contains(&here)))
        })
        .take(20)
        .collect();
    assert!(!local.is_empty(), "node {} replicates no group", victim + 1);
    let mut ro = c.try_readonly_client(victim).await.expect("READONLY");
    for key in &local {
        eventually(
            Duration::from_secs(90),
            &format!("{key} on the restarted node"),
            || {
                let mut ro = ro.clone();
                let key = key.clone();
                async move {
                    let v: Option<String> = ro.get(&key).await?;
                    anyhow::ensure!(v.as_deref() == Some("two"), "got {v:?}");
                    Ok(())
                }
            },
        )
        .await;
    }
    let _: redis::RedisResult<()> = cmd(&["READWRITE"]).query_async(&mut ro).await;
}

/// Beyond five nodes the cluster map has learners: the sixth node hosts no voter of group 0
/// and must still receive the map (every node's address, live leaders) and route with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixth_node_follows_the_map_as_a_learner() {
    let c = Cluster::start(6, ClusterOpts::default()).await;
    let last = c.len() - 1;
    let info = c.cluster_info(last).await.expect("CLUSTER INFO");
    assert!(info.contains("cluster_known_nodes:6"), "{info}");
    let ranges = c.cluster_slots(last).await.expect("CLUSTER SLOTS");
    check_full_coverage(&ranges).expect("full coverage seen by the learner");
    // Writes and reads through a cluster client work with the sixth node in the cluster.
    set_or_check_all(&c, 50, "six", false).await;
    set_or_check_all(&c, 50, "six", true).await;
}
