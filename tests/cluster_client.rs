//! A cluster-mode client (redis-rs ClusterClient, which discovers slots with CLUSTER SLOTS and
//! routes by key slot) works against a single node.

mod common;

use common::{skip_on_redis, TestServer};
use redis::AsyncCommands;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_mode_client_reads_and_writes() {
    if skip_on_redis("cluster_mode_client_reads_and_writes") {
        return;
    }
    let srv = TestServer::start();
    let client = redis::cluster::ClusterClient::new(vec![format!("redis://{}", srv.addr())])
        .expect("cluster client");
    let mut con = client
        .get_async_connection()
        .await
        .expect("cluster connection");
    // Keys spread over every slot group.
    for i in 0..200 {
        let _: () = con.set(format!("user:{i}"), i).await.expect("SET");
    }
    for i in 0..200 {
        let v: i64 = con.get(format!("user:{i}")).await.expect("GET");
        assert_eq!(v, i);
    }
    // Multi-key commands within one hash tag go to one slot.
    let _: () = con
        .mset(&[("{u1}:a", "1"), ("{u1}:b", "2")])
        .await
        .expect("MSET with hash tag");
    let got: Vec<String> = con.mget(&["{u1}:a", "{u1}:b"]).await.expect("MGET");
    assert_eq!(got, vec!["1", "2"]);
    let n: i64 = con.del(&["{u1}:a", "{u1}:b"]).await.expect("DEL");
    assert_eq!(n, 2);
}
