//! A node split into several slot groups (`--slot-groups 4`): each group is its own Raft
//! group, so these check what crosses groups — split multi-key writes, cross-group reads,
//! CROSSSLOT for commands that must be atomic, whole-keyspace commands, one fsync covering
//! several groups, and crash recovery of every group.

mod common;

use std::collections::BTreeMap;

use common::{q, qe, qv, skip_on_redis, TestServer};

const GROUPS: u16 = 4;

fn start() -> TestServer {
    TestServer::builder()
        .extra_args(&["--slot-groups", "4"])
        .start()
}

/// Key names whose slots fall into each of the four groups (group = slot / 4096).
async fn keys_per_group(con: &mut common::Conn, per_group: usize) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); GROUPS as usize];
    let mut i = 0;
    while out.iter().any(|v| v.len() < per_group) {
        let key = format!("key{i}");
        let slot: i64 = q(con, &["CLUSTER", "KEYSLOT", &key]).await;
        let g = (slot / (16384 / GROUPS as i64)) as usize;
        if out[g].len() < per_group {
            out[g].push(key);
        }
        i += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_key_commands_across_groups() {
    if skip_on_redis("multi_key_commands_across_groups") {
        return;
    }
    let srv = start();
    let mut c = srv.client().await;
    let info: String = q(&mut c, &["INFO", "replication"]).await;
    assert!(info.contains("raft_slot_groups:4"), "{info}");
    let k = keys_per_group(&mut c, 2).await;
    let (a, b, c2, d) = (&k[0][0], &k[1][0], &k[2][0], &k[3][0]);

    // MSET is split per group; every value is readable afterwards (MGET reads across groups).
    let _: () = q(&mut c, &["MSET", a, "1", b, "2", c2, "3", d, "4"]).await;
    let got: Vec<String> = q(&mut c, &["MGET", a, b, c2, d]).await;
    assert_eq!(got, vec!["1", "2", "3", "4"]);
    let n: i64 = q(&mut c, &["EXISTS", a, b, c2, d, "missing"]).await;
    assert_eq!(n, 4);
    let n: i64 = q(&mut c, &["DBSIZE"]).await;
    assert_eq!(n, 4);
    let mut keys: Vec<String> = q(&mut c, &["KEYS", "*"]).await;
    keys.sort();
    let mut want = vec![a.clone(), b.clone(), c2.clone(), d.clone()];
    want.sort();
    assert_eq!(keys, want);

    // Commands that must be atomic refuse keys of different groups ...
    assert_eq!(
        qe(&mut c, &["RENAME", a, b]).await,
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    assert_eq!(
        qe(&mut c, &["MSETNX", a, "x", b, "y"]).await,
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    // ... and work within one group (same group, different slots) or one hash tag.
    let _: () = q(&mut c, &["RENAME", &k[0][0], &k[0][1]]).await;
    let v: String = q(&mut c, &["GET", &k[0][1]]).await;
    assert_eq!(v, "1");
    let _: () = q(&mut c, &["SET", "{t}a", "1"]).await;
    let _: () = q(&mut c, &["RENAME", "{t}a", "{t}b"]).await;

    // DEL is split per group and the counts add up.
    let n: i64 = q(&mut c, &["DEL", &k[0][1], b, c2, d, "missing"]).await;
    assert_eq!(n, 4);
    let n: i64 = q(&mut c, &["DBSIZE"]).await;
    assert_eq!(n, 1);

    // Whole-keyspace writes reach every group.
    let _: () = q(&mut c, &["MSET", a, "1", b, "2", c2, "3", d, "4"]).await;
    let _: () = q(&mut c, &["SWAPDB", "0", "1"]).await;
    let n: i64 = q(&mut c, &["DBSIZE"]).await;
    assert_eq!(n, 0);
    let _: () = q(&mut c, &["SELECT", "1"]).await;
    let n: i64 = q(&mut c, &["DBSIZE"]).await;
    assert_eq!(n, 5);
    let _: () = q(&mut c, &["FLUSHALL"]).await;
    let n: i64 = q(&mut c, &["DBSIZE"]).await;
    assert_eq!(n, 0);
    assert_eq!(qv(&mut c, &["GET", a]).await, redis::Value::Nil);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_group_recovers_after_kill9_and_keeps_its_group_count() {
    if skip_on_redis("every_group_recovers_after_kill9_and_keeps_its_group_count") {
        return;
    }
    let mut srv = start();
    let mut c = srv.client().await;
    // Concurrent writers touch every group, so fsyncs are shared across groups.
    let mut tasks = Vec::new();
    for w in 0..8 {
        let mut con = srv.client().await;
        tasks.push(tokio::spawn(async move {
            let mut acked = BTreeMap::new();
            for i in 0..300 {
                let key = format!("w{w}:k{i}");
                let _: () = q(&mut con, &["SET", &key, &i.to_string()]).await;
                acked.insert(key, i.to_string());
            }
            acked
        }));
    }
    let mut acked = BTreeMap::new();
    for t in tasks {
        acked.extend(t.await.expect("writer"));
    }
    let info: String = q(&mut c, &["INFO", "persistence"]).await;
    let field = |name: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0)
    };
    let (fsyncs, synced) = (
        field("raft_wal_fsyncs:"),
        field("raft_wal_synced_requests:"),
    );
    assert!(
        fsyncs > 0 && synced >= fsyncs,
        "fsyncs={fsyncs} synced={synced}"
    );

    srv.kill9();
    // Restarting with a different --slot-groups must not regroup existing data.
    srv.set_extra_args(&["--slot-groups", "1"]);
    srv.restart();
    let mut c = srv.client().await;
    let info: String = q(&mut c, &["INFO", "replication"]).await;
    assert!(info.contains("raft_slot_groups:4"), "{info}");
    let n: i64 = q(&mut c, &["DBSIZE"]).await;
    assert_eq!(n as usize, acked.len());
    for (k, v) in &acked {
        let got: String = q(&mut c, &["GET", k]).await;
        assert_eq!(&got, v, "{k}");
    }
}
