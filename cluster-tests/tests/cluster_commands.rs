//! CLUSTER SLOTS / SHARDS / NODES / INFO describe a 3-node cluster consistently from every
//! node, and `redis-cli --cluster check` accepts it.

use std::collections::HashSet;

use cluster_tests::redis::{self, Value};
use cluster_tests::{check_full_coverage, cmd, key_in_slots, Cluster, ClusterOpts, SlotRange};

async fn assert_accepts_write(c: &Cluster, node: usize, key: &str, what: &str) {
    let mut con = c.client(node).await;
    let r: redis::RedisResult<()> = cmd(&["SET", key, "x"]).query_async(&mut con).await;
    assert!(
        r.is_ok(),
        "{what}: master node {} does not accept SET {key}: {r:?}",
        node + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_slots_cover_every_slot_once_with_writable_masters() {
    let c = Cluster::start(3, ClusterOpts::default()).await;
    let mut views: Vec<Vec<SlotRange>> = Vec::new();
    for i in 0..c.len() {
        let ranges = c.cluster_slots(i).await.expect("CLUSTER SLOTS");
        eprintln!("node {} CLUSTER SLOTS: {ranges:?}", i + 1);
        check_full_coverage(&ranges).unwrap_or_else(|e| panic!("node {}: {e}", i + 1));
        for r in &ranges {
            let master = c
                .index_of(&r.master)
                .unwrap_or_else(|| panic!("master {} is not a node", r.master));
            // Three replicas per group on a 3-node cluster: the master and two others.
            let mut all: HashSet<&str> = r.replicas.iter().map(String::as_str).collect();
            assert_eq!(all.len(), 2, "replicas of {r:?}");
            assert!(
                all.insert(r.master.as_str()),
                "master listed as replica: {r:?}"
            );
            for a in &all {
                assert!(c.index_of(a).is_some(), "{a} in {r:?} is not a node");
            }
            let key = key_in_slots("slots:", r.start, r.end);
            assert_accepts_write(&c, master, &key, &format!("CLUSTER SLOTS {r:?}")).await;
        }
        views.push(ranges);
    }
    // No failures happened: every node describes the same cluster.
    assert!(
        views.windows(2).all(|w| w[0] == w[1]),
        "views differ: {views:?}"
    );
}

/// A RESP2 flat key/value array or a RESP3 map, as (key, value) pairs.
fn pairs(v: &Value) -> Vec<(String, &Value)> {
    let kv: Vec<(&Value, &Value)> = match v {
        Value::Map(m) => m.iter().map(|(k, v)| (k, v)).collect(),
        Value::Array(a) => a
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (&c[0], &c[1]))
            .collect(),
        other => panic!("expected a map, got {other:?}"),
    };
    kv.into_iter()
        .map(|(k, v)| {
            (
                redis::from_redis_value_ref::<String>(k).expect("string key"),
                v,
            )
        })
        .collect()
}

fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    let found = pairs(v)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v);
    found.unwrap_or_else(|| panic!("no field {name} in {v:?}"))
}

fn as_string(v: &Value) -> String {
    redis::from_redis_value_ref::<String>(v).unwrap_or_else(|e| panic!("{v:?}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_shards_have_one_writable_master_each() {
    let c = Cluster::start(3, ClusterOpts::default()).await;
    for i in 0..c.len() {
        let shards = c
            .query(i, &["CLUSTER", "SHARDS"])
            .await
            .expect("CLUSTER SHARDS");
        let Value::Array(shards) = shards else {
            panic!("CLUSTER SHARDS is not an array: {shards:?}");
        };
        let mut ranges = Vec::new();
        for shard in &shards {
            let slots: Vec<i64> =
                redis::from_redis_value_ref(field(shard, "slots")).expect("slots");
            assert!(
                slots.len().is_multiple_of(2),
                "slots come in pairs: {slots:?}"
            );
            let Value::Array(nodes) = field(shard, "nodes") else {
                panic!("nodes is not an array: {shard:?}");
            };
            let masters: Vec<&Value> = nodes
                .iter()
                .filter(|n| as_string(field(n, "role")) == "master")
                .collect();
            assert_eq!(masters.len(), 1, "one master per shard: {shard:?}");
            let port = redis::from_redis_value_ref::<i64>(field(masters[0], "port")).expect("port");
            let master = (0..c.len())
                .find(|&n| i64::from(c.resp_port(n)) == port)
                .unwrap_or_else(|| panic!("master port {port} is not a node"));
            assert_eq!(nodes.len(), 3, "three replicas per shard: {shard:?}");
            for pair in slots.chunks(2) {
                let (lo, hi) = (pair[0] as u16, pair[1] as u16);
                ranges.push(SlotRange {
                    start: lo,
                    end: hi,
                    master: c.resp_addr(master),
                    replicas: vec![],
                });
                let key = key_in_slots("shards:", lo, hi);
                assert_accepts_write(&c, master, &key, &format!("shard {lo}-{hi}")).await;
            }
        }
        ranges.sort_by_key(|r| r.start);
        check_full_coverage(&ranges).unwrap_or_else(|e| panic!("node {} SHARDS: {e}", i + 1));
    }
}

/// Slot fields of a CLUSTER NODES line (`5461-10922` or `42`) as inclusive ranges; importing/
/// migrating markers (`[...]`) are not expected here.
fn node_line_ranges(fields: &[&str]) -> Vec<SlotRange> {
    fields
        .iter()
        .map(|f| {
            let (lo, hi) = f.split_once('-').unwrap_or((f, f));
            SlotRange {
                start: lo.parse().unwrap_or_else(|_| panic!("slot field {f}")),
                end: hi.parse().unwrap_or_else(|_| panic!("slot field {f}")),
                master: String::new(),
                replicas: vec![],
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_nodes_and_info_are_consistent() {
    let c = Cluster::start(3, ClusterOpts::default()).await;
    for i in 0..c.len() {
        let text = c.cluster_nodes(i).await.expect("CLUSTER NODES");
        eprintln!("node {} CLUSTER NODES:\n{text}", i + 1);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 3, "one line per node");
        let mut ids = HashSet::new();
        let mut addrs = HashSet::new();
        let mut myself = Vec::new();
        let mut ranges = Vec::new();
        for l in &lines {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert!(f.len() >= 8, "short CLUSTER NODES line: {l}");
            assert_eq!(f[0].len(), 40, "node ids are 40 characters: {l}");
            assert!(ids.insert(f[0]), "duplicate node id: {l}");
            let addr = f[1].split('@').next().expect("address");
            let idx = c
                .index_of(addr)
                .unwrap_or_else(|| panic!("{addr} is not a node: {l}"));
            assert!(addrs.insert(idx), "node listed twice: {l}");
            let flags: Vec<&str> = f[2].split(',').collect();
            if flags.contains(&"myself") {
                myself.push(idx);
            }
            assert_eq!(f[7], "connected", "link state: {l}");
            ranges.extend(node_line_ranges(&f[8..]));
        }
        assert_eq!(
            myself,
            vec![i],
            "exactly one myself line, for the node asked"
        );
        ranges.sort_by_key(|r| r.start);
        check_full_coverage(&ranges).unwrap_or_else(|e| panic!("node {} NODES: {e}", i + 1));

        let info = c.cluster_info(i).await.expect("CLUSTER INFO");
        for want in [
            "cluster_state:ok",
            "cluster_slots_assigned:16384",
            "cluster_slots_ok:16384",
            "cluster_known_nodes:3",
        ] {
            assert!(
                info.lines().any(|l| l.trim_end() == want),
                "node {}: CLUSTER INFO lacks {want}:\n{info}",
                i + 1
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cli_cluster_check_passes() {
    let c = Cluster::start(3, ClusterOpts::default()).await;
    for i in 0..c.len() {
        let addr = c.resp_addr(i);
        let out = c.redis_cli_raw(&["--cluster", "check", &addr]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("redis-cli --cluster check {addr}:\n{stdout}");
        assert!(
            out.status.success(),
            "redis-cli --cluster check {addr} failed: {out:?}"
        );
        assert!(stdout.contains("[OK] All 16384 slots covered."), "{stdout}");
    }
}
