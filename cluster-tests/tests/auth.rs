//! A cluster with a client password and a cluster secret: nodes find each other (every Raft
//! RPC carries the secret), clients must authenticate, authenticated clients route normally.

use cluster_tests::redis::{self, AsyncCommands};
use cluster_tests::{cmd, server_error, Cluster, ClusterOpts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_and_cluster_secret() {
    // Cluster::start waits for cluster_state:ok, which needs working (authenticated) Raft
    // traffic between the nodes.
    let c = Cluster::start(
        3,
        ClusterOpts {
            password: Some("client-pw-3f9a".into()),
            cluster_secret: Some("node-secret-81c2".into()),
            ..Default::default()
        },
    )
    .await;

    for i in 0..c.len() {
        let client = redis::Client::open(format!("redis://{}/", c.resp_addr(i))).expect("url");
        let mut con = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        let e = cmd(&["SET", "k", "v"])
            .query_async::<()>(&mut con)
            .await
            .expect_err("SET without AUTH");
        let text = server_error(&e).unwrap_or_else(|| e.to_string());
        assert!(text.starts_with("NOAUTH"), "node {}: {text}", i + 1);
    }

    let mut cc = c.cluster_conn().await;
    for i in 0..100 {
        let _: () = cc.set(format!("a:{i}"), i).await.expect("SET");
    }
    for i in 0..100 {
        let v: i64 = cc.get(format!("a:{i}")).await.expect("GET");
        assert_eq!(v, i);
    }
    let out = c.redis_cli_c(0, &["SET", "cli", "yes"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK", "{out:?}");
    let out = c.redis_cli_c(2, &["GET", "cli"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "yes",
        "{out:?}"
    );
}
