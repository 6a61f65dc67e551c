//! Key routing in a 3-node cluster: MOVED from nodes that do not lead a key's slot group,
//! redis-cli -c and the redis crate's cluster client following redirects, CROSSSLOT and hash
//! tags.

use std::time::Duration;

use cluster_tests::redis::{self, AsyncCommands};
use cluster_tests::{cmd, key_slot, moved_target, server_error, Cluster, ClusterOpts};

/// Each node answers MOVED for keys whose group it does not lead, naming the key's slot and
/// the node that then accepts the write; every node leads some keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_connections_get_moved_for_keys_they_do_not_lead() {
    let c = Cluster::start(3, ClusterOpts::default()).await;
    let keys: Vec<String> = (0..120).map(|i| format!("route:{i}")).collect();
    for i in 0..c.len() {
        let mut con = c.client(i).await;
        let (mut led, mut moved) = (0, 0);
        for k in &keys {
            match cmd(&["SET", k, "v"]).query_async::<()>(&mut con).await {
                Ok(()) => led += 1,
                Err(e) => {
                    let (slot, addr) = moved_target(&e)
                        .unwrap_or_else(|| panic!("SET {k} on node {}: {e}", i + 1));
                    assert_eq!(slot, key_slot(k.as_bytes()), "MOVED slot of {k}");
                    let target = c
                        .index_of(&addr)
                        .unwrap_or_else(|| panic!("MOVED names {addr}, not a node"));
                    assert_ne!(target, i, "node {} redirects {k} to itself", i + 1);
                    // The named node takes the write (leadership is stable: no failures here).
                    let mut t = c.client(target).await;
                    let r: redis::RedisResult<()> = cmd(&["SET", k, "v"]).query_async(&mut t).await;
                    assert!(r.is_ok(), "SET {k} on MOVED target {addr}: {r:?}");
                    moved += 1;
                }
            }
        }
        eprintln!(
            "node {}: leads {led} of {} keys, MOVED {moved}",
            i + 1,
            keys.len()
        );
        // Three groups, one leader per node: every node leads some keys and not others.
        assert!(led > 0, "node {} leads none of {} keys", i + 1, keys.len());
        assert!(moved > 0, "node {} leads every key", i + 1);
    }
}

/// `redis-cli -c` follows MOVED: values written through one node are read through another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cli_cluster_mode_follows_redirects() {
    let c = Cluster::start(3, ClusterOpts::default()).await;
    let keys: Vec<String> = (0..12).map(|i| format!("cli:{i}")).collect();
    let slots: std::collections::HashSet<u16> =
        keys.iter().map(|k| key_slot(k.as_bytes())).collect();
    assert!(slots.len() > 3, "keys should spread over slots");
    for (n, k) in keys.iter().enumerate() {
        let out = c.redis_cli_c(n % 3, &["SET", k, &format!("value-{n}")]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.trim() == "OK",
            "redis-cli -c SET {k}: {out:?}"
        );
    }
    for (n, k) in keys.iter().enumerate() {
        let out = c.redis_cli_c((n + 1) % 3, &["GET", k]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout.trim(),
            format!("value-{n}"),
            "redis-cli -c GET {k}: {out:?}"
        );
    }
}

/// The redis crate's cluster client writes and reads 1000 keys across all groups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_client_sets_and_gets_1000_keys() {
    let c = Cluster::start(3, ClusterOpts::default()).await;
    let mut con = c.cluster_conn().await;
    for i in 0..1000 {
        let _: () = con
            .set(format!("k:{i}"), format!("v{i}"))
            .await
            .unwrap_or_else(|e| panic!("SET k:{i}: {e}"));
    }
    for i in 0..1000 {
        let v: Option<String> = con
            .get(format!("k:{i}"))
            .await
            .unwrap_or_else(|e| panic!("GET k:{i}: {e}"));
        assert_eq!(v.as_deref(), Some(format!("v{i}").as_str()), "k:{i}");
    }
    // Each node holds a replica of every group: the data is on the followers too.
    for i in 0..c.len() {
        let mut ro = c.try_readonly_client(i).await.expect("READONLY connection");
        cluster_tests::eventually(Duration::from_secs(60), "follower has k:999", || {
            let mut ro = ro.clone();
            async move {
                let v: Option<String> = ro.get("k:999").await?;
                anyhow::ensure!(v.as_deref() == Some("v999"), "got {v:?}");
                Ok(())
            }
        })
        .await;
        let _: redis::RedisResult<()> = redis::cmd("READWRITE").query_async(&mut ro).await;
    }
}

/// Multi-key commands across slots get CROSSSLOT; hash tags keep keys in one slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossslot_and_hash_tags() {
    let c = Cluster::start(3, ClusterOpts::default()).await;
    // Two keys in different slots, both led by the node we send to, so only CROSSSLOT (not
    // MOVED) is a correct answer.
    let ranges = c.cluster_slots(0).await.expect("CLUSTER SLOTS");
    let master = |slot: u16| {
        let r = ranges
            .iter()
            .find(|r| r.contains(slot))
            .expect("slot covered");
        c.index_of(&r.master).expect("master is a node")
    };
    let leader = master(key_slot(b"a0"));
    let second = (1..).map(|n| format!("a{n}")).find(|k| {
        let s = key_slot(k.as_bytes());
        s != key_slot(b"a0") && master(s) == leader
    });
    let second = second.expect("another key on the same leader");
    let mut con = c.client(leader).await;
    for args in [
        vec!["MSET", "a0", "1", second.as_str(), "2"],
        vec!["MGET", "a0", second.as_str()],
        vec!["RENAME", "a0", second.as_str()],
        vec!["DEL", "a0", second.as_str()],
    ] {
        let e = cmd(&args)
            .query_async::<redis::Value>(&mut con)
            .await
            .expect_err("multi-slot command must fail");
        let text = server_error(&e).unwrap_or_else(|| panic!("{args:?}: {e}"));
        assert!(text.starts_with("CROSSSLOT"), "{args:?}: got {text}");
    }
    // Nothing was written by the failed MSET.
    let v: Option<String> = con.get("a0").await.expect("GET a0");
    assert_eq!(v, None);

    // Hash tags: one slot, so multi-key commands work, through the cluster client and
    // through a plain connection to the tag's leader.
    let tag_leader = c
        .master_of(0, key_slot(b"user1"))
        .await
        .expect("CLUSTER SLOTS");
    let mut cc = c.cluster_conn().await;
    let _: () = cc
        .mset(&[("{user1}:name", "ann"), ("{user1}:age", "42")])
        .await
        .expect("MSET with hash tag");
    let got: Vec<String> = cc
        .mget(&["{user1}:name", "{user1}:age"])
        .await
        .expect("MGET");
    assert_eq!(got, vec!["ann", "42"]);
    let mut plain = c.client(tag_leader).await;
    let _: () = cmd(&["RENAME", "{user1}:name", "{user1}:first"])
        .query_async(&mut plain)
        .await
        .expect("RENAME within a hash tag on its leader");
    let got: Vec<Option<String>> = cmd(&["MGET", "{user1}:name", "{user1}:first"])
        .query_async(&mut plain)
        .await
        .expect("MGET");
    assert_eq!(got, vec![None, Some("ann".to_string())]);
}
