//! Hash commands: Redis 7.0 semantics, replies (RESP2 and RESP3) and error strings.

#[macro_use]
mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};

async fn getall(c: &mut Conn, key: &str) -> BTreeMap<String, String> {
    q(c, &["HGETALL", key]).await
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn hset_hget_and_friends() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(
        qv(&mut c, &["HSET", "h", "a", "1", "b", "2", "a", "3"]).await,
        int(2)
    );
    assert_eq!(
        qv(&mut c, &["HSET", "h", "b", "20", "c", "30"]).await,
        int(1)
    );
    assert_eq!(qv(&mut c, &["HMSET", "h", "d", "4"]).await, ok());
    assert_eq!(
        getall(&mut c, "h").await,
        map(&[("a", "3"), ("b", "20"), ("c", "30"), ("d", "4")])
    );
    assert_eq!(qv(&mut c, &["HGET", "h", "a"]).await, bulk("3"));
    assert_eq!(qv(&mut c, &["HGET", "h", "zz"]).await, nil());
    assert_eq!(qv(&mut c, &["HGET", "nokey", "a"]).await, nil());
    assert_eq!(
        qv(&mut c, &["HMGET", "h", "a", "zz", "b"]).await,
        arr(vec![bulk("3"), nil(), bulk("20")])
    );
    assert_eq!(
        qv(&mut c, &["HMGET", "nokey", "a", "b"]).await,
        arr(vec![nil(), nil()])
    );
    assert_eq!(qv(&mut c, &["HLEN", "h"]).await, int(4));
    assert_eq!(qv(&mut c, &["HLEN", "nokey"]).await, int(0));
    assert_eq!(qv(&mut c, &["HEXISTS", "h", "a"]).await, int(1));
    assert_eq!(qv(&mut c, &["HEXISTS", "h", "zz"]).await, int(0));
    assert_eq!(qv(&mut c, &["HEXISTS", "nokey", "a"]).await, int(0));
    assert_eq!(qv(&mut c, &["HSTRLEN", "h", "b"]).await, int(2));
    assert_eq!(qv(&mut c, &["HSTRLEN", "h", "zz"]).await, int(0));
    assert_eq!(qv(&mut c, &["HSTRLEN", "nokey", "a"]).await, int(0));
    let mut keys: Vec<String> = q(&mut c, &["HKEYS", "h"]).await;
    keys.sort();
    assert_eq!(keys, vec!["a", "b", "c", "d"]);
    let mut vals: Vec<String> = q(&mut c, &["HVALS", "h"]).await;
    vals.sort();
    assert_eq!(vals, vec!["20", "3", "30", "4"]);
    assert_eq!(qv(&mut c, &["HKEYS", "nokey"]).await, arr(vec![]));
    assert_eq!(qv(&mut c, &["HVALS", "nokey"]).await, arr(vec![]));
    assert_eq!(qv(&mut c, &["HGETALL", "nokey"]).await, arr(vec![]));

    assert_eq!(qv(&mut c, &["HSETNX", "h", "a", "new"]).await, int(0));
    assert_eq!(qv(&mut c, &["HSETNX", "h", "e", "5"]).await, int(1));
    assert_eq!(qv(&mut c, &["HSETNX", "h2", "x", "1"]).await, int(1));
    assert_eq!(qv(&mut c, &["HGET", "h", "a"]).await, bulk("3"));

    assert_eq!(
        qv(&mut c, &["HDEL", "h", "a", "zz", "a", "b"]).await,
        int(2)
    );
    assert_eq!(qv(&mut c, &["HDEL", "nokey", "a"]).await, int(0));
    assert_eq!(qv(&mut c, &["HLEN", "h"]).await, int(3));
    // Deleting the last field deletes the key.
    assert_eq!(qv(&mut c, &["HDEL", "h", "c", "d", "e"]).await, int(3));
    assert_eq!(qv(&mut c, &["EXISTS", "h"]).await, int(0));

    // Binary fields and values, and empty ones.
    let f: &[u8] = b"\x00f\r\n\xff";
    let v: &[u8] = b"\xfe\x00v";
    let r: Value = cmd_bytes(&[b"HSET", b"b", f, v, b"", b""])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(r, int(2));
    let r: Value = cmd_bytes(&[b"HGET", b"b", f])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(r, bulk_bytes(v));
    assert_eq!(qv(&mut c, &["HGET", "b", ""]).await, bulk(""));
    assert_eq!(qv(&mut c, &["HLEN", "b"]).await, int(2));

    for (args, name) in [
        (&["HSET", "h", "f"][..], "hset"),
        (&["HSET", "h", "f", "v", "g"], "hset"),
        (&["HMSET", "h", "f"], "hmset"),
        (&["HMSET", "h", "f", "v", "g"], "hmset"),
        (&["HGET", "h"], "hget"),
    ] {
        assert_eq!(
            qe(&mut c, args).await,
            format!("ERR wrong number of arguments for '{name}' command")
        );
    }
}

#[tokio::test]
async fn wrong_type() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_eq!(qv(&mut c, &["SET", "str", "x"]).await, ok());
    for args in [
        &["HSET", "str", "a", "1"][..],
        &["HSETNX", "str", "a", "1"],
        &["HMSET", "str", "a", "1"],
        &["HGET", "str", "a"],
        &["HMGET", "str", "a"],
        &["HGETALL", "str"],
        &["HDEL", "str", "a"],
        &["HEXISTS", "str", "a"],
        &["HLEN", "str"],
        &["HSTRLEN", "str", "a"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HINCRBY", "str", "a", "1"],
        &["HINCRBYFLOAT", "str", "a", "1"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "1"],
        &["HSCAN", "str", "0"],
    ] {
        assert_eq!(qe(&mut c, args).await, wrong, "{args:?}");
    }
    // Argument errors come before the type check, as in Redis.
    assert_eq!(
        qe(&mut c, &["HINCRBYFLOAT", "str", "a", "inf"]).await,
        "ERR value is NaN or Infinity"
    );
    assert_eq!(
        qe(&mut c, &["HINCRBY", "str", "a", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(qv(&mut c, &["GET", "str"]).await, bulk("x"));
}

#[tokio::test]
async fn hincrby_and_hincrbyfloat() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["HINCRBY", "h", "n", "5"]).await, int(5));
    assert_eq!(qv(&mut c, &["HINCRBY", "h", "n", "-7"]).await, int(-2));
    assert_eq!(qv(&mut c, &["HGET", "h", "n"]).await, bulk("-2"));
    assert_eq!(
        qe(&mut c, &["HINCRBY", "h", "n", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qv(&mut c, &["HSET", "h", "s", "abc", "sp", " 1", "f", "1.5"]).await,
        int(3)
    );
    for field in ["s", "sp", "f"] {
        assert_eq!(
            qe(&mut c, &["HINCRBY", "h", field, "1"]).await,
            "ERR hash value is not an integer"
        );
    }
    assert_eq!(
        qv(&mut c, &["HSET", "h", "big", "9223372036854775807"]).await,
        int(1)
    );
    assert_eq!(
        qe(&mut c, &["HINCRBY", "h", "big", "1"]).await,
        "ERR increment or decrement would overflow"
    );

    assert_eq!(
        qv(&mut c, &["HINCRBYFLOAT", "h", "x", "0.1"]).await,
        bulk("0.1")
    );
    // Long double arithmetic and formatting, as Redis.
    assert_eq!(
        qv(&mut c, &["HINCRBYFLOAT", "h", "x", "0.2"]).await,
        bulk("0.3")
    );
    assert_eq!(
        qv(&mut c, &["HINCRBYFLOAT", "h", "f", "1"]).await,
        bulk("2.5")
    );
    assert_eq!(qv(&mut c, &["HGET", "h", "f"]).await, bulk("2.5"));
    assert_eq!(
        qv(&mut c, &["HINCRBYFLOAT", "h", "big", "1"]).await,
        bulk("9223372036854775808")
    );
    assert_eq!(
        qv(&mut c, &["HINCRBYFLOAT", "h", "e", "5e3"]).await,
        bulk("5000")
    );
    assert_eq!(
        qe(&mut c, &["HINCRBYFLOAT", "h", "s", "1"]).await,
        "ERR hash value is not a float"
    );
    assert_eq!(
        qe(&mut c, &["HINCRBYFLOAT", "h", "x", "abc"]).await,
        "ERR value is not a valid float"
    );
    assert_eq!(
        qe(&mut c, &["HINCRBYFLOAT", "h", "x", "inf"]).await,
        "ERR value is NaN or Infinity"
    );
    assert_eq!(qv(&mut c, &["HSET", "h", "huge", "1e4932"]).await, int(1));
    assert_eq!(
        qe(&mut c, &["HINCRBYFLOAT", "h", "huge", "1e4932"]).await,
        "ERR increment would produce NaN or Infinity"
    );
    // A failed increment on a new key creates nothing.
    assert_eq!(
        qe(&mut c, &["HINCRBYFLOAT", "nokey", "f", "nan"]).await,
        "ERR value is not a valid float"
    );
    assert_eq!(qv(&mut c, &["EXISTS", "nokey"]).await, int(0));
}

#[tokio::test]
async fn hrandfield() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["HRANDFIELD", "nokey"]).await, nil());
    assert_eq!(qv(&mut c, &["HRANDFIELD", "nokey", "3"]).await, arr(vec![]));
    assert_eq!(
        qv(&mut c, &["HRANDFIELD", "nokey", "-3", "WITHVALUES"]).await,
        arr(vec![])
    );
    for (args, e) in [
        (&["HRANDFIELD", "h", "x"][..], "ERR value is not an integer or out of range"),
        (&["HRANDFIELD", "h", "1", "withvalue"], "ERR syntax error"),
        (&["HRANDFIELD", "h", "1", "withvalues", "x"], "ERR syntax error"),
        (
            &["HRANDFIELD", "h", "-9223372036854775808"],
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ),
        (
            &["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"],
            "ERR value is out of range",
        ),
    ] {
        assert_eq!(qe(&mut c, args).await, e, "{args:?}");
    }

    for n in [3usize, 500] {
        let key = format!("h{n}");
        let all: BTreeMap<String, String> = (0..n)
            .map(|i| (format!("field:{i}"), format!("v{i}")))
            .collect();
        for chunk in all.iter().collect::<Vec<_>>().chunks(100) {
            let mut cmd = redis::cmd("HSET");
            cmd.arg(&key);
            for (f, v) in chunk {
                cmd.arg(f.as_str()).arg(v.as_str());
            }
            let _: i64 = cmd.query_async(&mut c).await.unwrap();
        }
        let one: String = q(&mut c, &["HRANDFIELD", &key]).await;
        assert!(all.contains_key(&one));
        assert_eq!(qv(&mut c, &["HRANDFIELD", &key, "0"]).await, arr(vec![]));
        let two: Vec<String> = q(&mut c, &["HRANDFIELD", &key, "2"]).await;
        assert_eq!(two.iter().collect::<BTreeSet<_>>().len(), 2);
        assert!(two.iter().all(|f| all.contains_key(f)));
        let pairs: Vec<String> = q(&mut c, &["HRANDFIELD", &key, "-7", "WITHVALUES"]).await;
        assert_eq!(pairs.len(), 14);
        for p in pairs.chunks(2) {
            assert_eq!(all.get(&p[0]), Some(&p[1]));
        }
        let everything: Vec<String> =
            q(&mut c, &["HRANDFIELD", &key, "100000", "WITHVALUES"]).await;
        let got: BTreeMap<String, String> = everything
            .chunks(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect();
        assert_eq!(got, all);
    }
}

#[tokio::test]
async fn hscan_walks_everything_once() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(
        qv(&mut c, &["HSCAN", "nokey", "0"]).await,
        arr(vec![bulk("0"), arr(vec![])])
    );
    let all: BTreeMap<String, String> = (0..400)
        .map(|i| (format!("f{i}"), format!("v{i}")))
        .collect();
    for chunk in all.iter().collect::<Vec<_>>().chunks(100) {
        let mut cmd = redis::cmd("HSET");
        cmd.arg("h");
        for (f, v) in chunk {
            cmd.arg(f.as_str()).arg(v.as_str());
        }
        let _: i64 = cmd.query_async(&mut c).await.unwrap();
    }
    assert_eq!(
        qe(&mut c, &["HSCAN", "h", "0", "COUNT", "0"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["HSCAN", "h", "abc"]).await,
        "ERR invalid cursor"
    );
    let mut cursor = "0".to_string();
    let mut got = BTreeMap::new();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) =
            q(&mut c, &["HSCAN", "h", &cursor, "COUNT", "30"]).await;
        for p in items.chunks(2) {
            got.insert(p[0].clone(), p[1].clone());
        }
        calls += 1;
        assert!(calls < 10_000);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(got, all);

    assert_eq!(
        qv(&mut c, &["HSET", "small", "a1", "1", "b1", "2"]).await,
        int(2)
    );
    assert_eq!(
        qv(&mut c, &["HSCAN", "small", "0", "MATCH", "a*"]).await,
        arr(vec![bulk("0"), arr(vec![bulk("a1"), bulk("1")])])
    );
}

#[tokio::test]
async fn resp3_shapes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.cmd(&["HSET", "h", "a", "1"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["HGETALL", "h"]),
        Reply::Map(vec![(Reply::bulk("a"), Reply::bulk("1"))])
    );
    assert_eq!(c.cmd(&["HGETALL", "none"]), Reply::Map(vec![]));
    assert_eq!(c.cmd(&["HGET", "h", "zz"]), Reply::Null);
    assert_eq!(
        c.cmd(&["HMGET", "h", "a", "zz"]),
        Reply::Array(vec![Reply::bulk("1"), Reply::Null])
    );
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "1", "WITHVALUES"]),
        Reply::Array(vec![Reply::Array(vec![Reply::bulk("a"), Reply::bulk("1")])])
    );
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "-2", "WITHVALUES"]),
        Reply::Array(vec![
            Reply::Array(vec![Reply::bulk("a"), Reply::bulk("1")]),
            Reply::Array(vec![Reply::bulk("a"), Reply::bulk("1")])
        ])
    );
    assert_eq!(c.cmd(&["HRANDFIELD", "none"]), Reply::Null);
    assert_eq!(c.cmd(&["HRANDFIELD", "none", "1"]), Reply::Array(vec![]));
    assert_eq!(
        c.cmd(&["HINCRBYFLOAT", "h", "a", "1.5"]),
        Reply::bulk("2.5")
    );

    // RESP2: flat.
    assert!(matches!(c.cmd(&["HELLO", "2"]), Reply::Array(_)));
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "1", "WITHVALUES"]),
        Reply::Array(vec![Reply::bulk("a"), Reply::bulk("2.5")])
    );
    assert_eq!(
        c.cmd(&["HGETALL", "h"]),
        Reply::Array(vec![Reply::bulk("a"), Reply::bulk("2.5")])
    );
}
