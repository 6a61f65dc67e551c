//! A leader cut off from the other nodes (minority partition) acknowledges no writes; the
//! majority elects a new leader and goes on; after the partition heals the old leader
//! converges to the majority's data and its unacknowledged write never shows up.

use std::time::Duration;

use cluster_tests::redis::{self, AsyncCommands};
use cluster_tests::{cmd, eventually, key_in_slots, Cluster, ClusterOpts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minority_leader_acknowledges_nothing_and_converges_after_heal() {
    let mut c = Cluster::start(
        3,
        ClusterOpts {
            proxy_grpc: true,
            ..Default::default()
        },
    )
    .await;
    let ranges = c.cluster_slots(0).await.expect("CLUSTER SLOTS");
    let victim = c.index_of(&ranges[0].master).expect("master is a node");
    let key = key_in_slots("part:", ranges[0].start, ranges[0].end);
    // Written only by the attempts on the cut-off side: it must never exist.
    let lost = key_in_slots("lost:", ranges[0].start, ranges[0].end);
    let majority: Vec<usize> = (0..c.len()).filter(|&i| i != victim).collect();
    eprintln!(
        "victim: node {} leads {:?}; key {key}",
        victim + 1,
        ranges[0]
    );

    let mut on_victim = c.client(victim).await;
    let _: () = cmd(&["SET", &key, "before"])
        .query_async(&mut on_victim)
        .await
        .expect("SET before the partition");

    c.partition(victim);

    // The cut-off leader cannot reach a quorum: the write must not be acknowledged. Either
    // it fails (error reply, e.g. after stepping down) or it hangs until the client's reply
    // timeout. Run it in the background and look at its outcome after the heal.
    let victim_addr = c.resp_addr(victim);
    let during = tokio::spawn({
        let key = lost.clone();
        async move {
            let client = redis::Client::open(format!("redis://{victim_addr}/"))?;
            let cfg = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(5)))
                .set_response_timeout(Some(Duration::from_secs(60)));
            let mut con = client
                .get_multiplexed_async_connection_with_config(&cfg)
                .await?;
            let r: redis::RedisResult<redis::Value> =
                cmd(&["SET", &key, "during"]).query_async(&mut con).await;
            anyhow::Ok(r)
        }
    });

    // The majority side elects a leader for the group and accepts writes.
    let client = c
        .cluster_client_builder_for(&majority)
        // Short: until the map names the new leader, a try may go to the cut-off node,
        // which holds the write instead of answering.
        .response_timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let t0 = std::time::Instant::now();
    eventually(
        Duration::from_secs(90),
        "a write on the majority side",
        || {
            let client = client.clone();
            let key = key.clone();
            async move {
                let mut con = client.get_async_connection().await?;
                let _: () = con.set(&key, "after").await?;
                Ok(())
            }
        },
    )
    .await;
    eprintln!(
        "majority accepted a write {:?} after the partition",
        t0.elapsed()
    );
    // The majority's map names a new leader for the group (it may lag the election a bit).
    let slot = cluster_tests::key_slot(key.as_bytes());
    let new_master = eventually(Duration::from_secs(60), "a new master in the map", || {
        let c = &c;
        let majority = &majority;
        async move {
            let m = c.master_of(majority[0], slot).await?;
            anyhow::ensure!(m != victim, "CLUSTER SLOTS still names the cut-off node");
            Ok(m)
        }
    })
    .await;
    eprintln!("majority's master for the key: node {}", new_master + 1);

    // Still partitioned: a second write to the old leader is not acknowledged either
    // (an error, MOVED once it learns it lost leadership, or no reply in time).
    let mut probe = c.client(victim).await;
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        cmd(&["SET", &lost, "during2"]).query_async::<redis::Value>(&mut probe),
    )
    .await;
    if let Ok(Ok(v)) = &r {
        panic!("the partitioned node acknowledged SET {lost} during2: {v:?}");
    }
    eprintln!("partitioned node answered a write with {r:?}");

    c.heal(victim);

    let outcome = tokio::time::timeout(Duration::from_secs(120), during)
        .await
        .expect("the write sent during the partition resolves")
        .expect("task");
    eprintln!("write sent to the cut-off leader ended with {outcome:?}");
    if let Ok(Ok(v)) = &outcome {
        panic!("the cut-off leader acknowledged SET {lost} during: {v:?}");
    }

    // Everyone, the old leader included, converges on the majority's value.
    c.wait_all_ok(Duration::from_secs(120)).await;
    for i in 0..c.len() {
        eventually(
            Duration::from_secs(90),
            &format!("node {} to have {key} = after and no {lost}", i + 1),
            || {
                let (key, lost) = (key.clone(), lost.clone());
                let c = &c;
                async move {
                    let mut ro = c.try_readonly_client(i).await?;
                    let v: Option<String> = ro.get(&key).await?;
                    anyhow::ensure!(v.as_deref() == Some("after"), "{key} = {v:?}");
                    let l: Option<String> = ro.get(&lost).await?;
                    assert_eq!(l, None, "node {}: unacknowledged write visible", i + 1);
                    Ok(())
                }
            },
        )
        .await;
    }
    // And the cluster takes writes for the group again from a fresh client.
    let mut con = c.cluster_conn().await;
    let _: () = con.set(&key, "final").await.expect("SET after heal");
    let v: Option<String> = con.get(&key).await.expect("GET after heal");
    assert_eq!(v.as_deref(), Some("final"));
    let l: Option<String> = con.get(&lost).await.expect("GET after heal");
    assert_eq!(l, None, "the unacknowledged write appeared");
}
