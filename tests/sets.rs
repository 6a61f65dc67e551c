//! Set commands: Redis 7.0 semantics, replies (RESP2 and RESP3) and error strings.

#[macro_use]
mod common;

use common::*;
use std::collections::BTreeSet;

async fn sorted(c: &mut Conn, args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = q(c, args).await;
    v.sort();
    v
}

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn sadd_many(c: &mut Conn, key: &str, members: &[String]) {
    for chunk in members.chunks(200) {
        let mut cmd = redis::cmd("SADD");
        cmd.arg(key);
        for m in chunk {
            cmd.arg(m);
        }
        let _: i64 = cmd.query_async(c).await.unwrap();
    }
}

#[tokio::test]
async fn sadd_srem_members_and_card() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["SADD", "s", "a", "b", "a"]).await, int(2));
    assert_eq!(qv(&mut c, &["SADD", "s", "b", "c"]).await, int(1));
    assert_eq!(
        sorted(&mut c, &["SMEMBERS", "s"]).await,
        strs(&["a", "b", "c"])
    );
    assert_eq!(qv(&mut c, &["SCARD", "s"]).await, int(3));
    assert_eq!(qv(&mut c, &["SISMEMBER", "s", "a"]).await, int(1));
    assert_eq!(qv(&mut c, &["SISMEMBER", "s", "z"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["SMISMEMBER", "s", "a", "z", "c"]).await,
        arr(vec![int(1), int(0), int(1)])
    );
    assert_eq!(qv(&mut c, &["SREM", "s", "a", "z", "a"]).await, int(1));
    assert_eq!(qv(&mut c, &["SCARD", "s"]).await, int(2));
    assert_eq!(
        qv(&mut c, &["TYPE", "s"]).await,
        Value::SimpleString("set".into())
    );

    // Missing keys behave as empty sets.
    assert_eq!(qv(&mut c, &["SMEMBERS", "nokey"]).await, arr(vec![]));
    assert_eq!(qv(&mut c, &["SCARD", "nokey"]).await, int(0));
    assert_eq!(qv(&mut c, &["SISMEMBER", "nokey", "a"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["SMISMEMBER", "nokey", "a", "b"]).await,
        arr(vec![int(0), int(0)])
    );
    assert_eq!(qv(&mut c, &["SREM", "nokey", "a"]).await, int(0));

    // Removing the last member deletes the key.
    assert_eq!(qv(&mut c, &["SREM", "s", "b", "c"]).await, int(2));
    assert_eq!(qv(&mut c, &["EXISTS", "s"]).await, int(0));

    // Binary members, and the empty member.
    let m: &[u8] = b"\x00bin\r\n\xff";
    let r: Value = cmd_bytes(&[b"SADD", b"b", m, b""])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(r, int(2));
    let r: Value = cmd_bytes(&[b"SISMEMBER", b"b", m])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(r, int(1));
    let mut got: Vec<Vec<u8>> = q(&mut c, &["SMEMBERS", "b"]).await;
    got.sort();
    assert_eq!(got, vec![b"".to_vec(), m.to_vec()]);
}

#[tokio::test]
async fn wrong_type_and_arity() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_eq!(qv(&mut c, &["SET", "str", "x"]).await, ok());
    for args in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SMEMBERS", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "2"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SINTER", "str"],
        &["SINTER", "nokey", "str"],
        &["SUNION", "str"],
        &["SDIFF", "nokey", "str"],
        &["SINTERCARD", "1", "str"],
        &["SINTERSTORE", "d", "str"],
        &["SSCAN", "str", "0"],
    ] {
        assert_eq!(qe(&mut c, args).await, wrong, "{args:?}");
    }
    assert_eq!(
        qe(&mut c, &["SADD", "s"]).await,
        "ERR wrong number of arguments for 'sadd' command"
    );
    assert_eq!(
        qe(&mut c, &["SINTERSTORE", "d"]).await,
        "ERR wrong number of arguments for 'sinterstore' command"
    );
    assert_eq!(qv(&mut c, &["GET", "str"]).await, bulk("x"));
}

#[tokio::test]
async fn spop_and_srandmember() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["SPOP", "nokey"]).await, nil());
    assert_eq!(qv(&mut c, &["SPOP", "nokey", "3"]).await, arr(vec![]));
    assert_eq!(qv(&mut c, &["SRANDMEMBER", "nokey"]).await, nil());
    assert_eq!(
        qv(&mut c, &["SRANDMEMBER", "nokey", "3"]).await,
        arr(vec![])
    );
    assert_eq!(
        qv(&mut c, &["SRANDMEMBER", "nokey", "-3"]).await,
        arr(vec![])
    );

    let out_of_range = "ERR value is out of range, must be positive";
    assert_eq!(qe(&mut c, &["SPOP", "s", "-1"]).await, out_of_range);
    assert_eq!(qe(&mut c, &["SPOP", "s", "x"]).await, out_of_range);
    assert_eq!(
        qe(&mut c, &["SPOP", "s", "1", "2"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["SRANDMEMBER", "s", "-9223372036854775808"]).await,
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        qe(&mut c, &["SRANDMEMBER", "s", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["SRANDMEMBER", "s", "1", "2"]).await,
        "ERR syntax error"
    );

    // Small and large sets (the large one is sampled by seeking, not loaded).
    for n in [5usize, 1000] {
        let key = format!("s{n}");
        let all: Vec<String> = (0..n).map(|i| format!("member:{i}")).collect();
        sadd_many(&mut c, &key, &all).await;
        let all: BTreeSet<String> = all.into_iter().collect();

        let one: String = q(&mut c, &["SRANDMEMBER", &key]).await;
        assert!(all.contains(&one));
        assert_eq!(qv(&mut c, &["SRANDMEMBER", &key, "0"]).await, arr(vec![]));
        let three: Vec<String> = q(&mut c, &["SRANDMEMBER", &key, "3"]).await;
        assert_eq!(three.len(), 3);
        assert_eq!(three.iter().collect::<BTreeSet<_>>().len(), 3, "distinct");
        assert!(three.iter().all(|m| all.contains(m)));
        let rep: Vec<String> = q(&mut c, &["SRANDMEMBER", &key, "-20"]).await;
        assert_eq!(rep.len(), 20);
        assert!(rep.iter().all(|m| all.contains(m)));
        let everything: Vec<String> = q(&mut c, &["SRANDMEMBER", &key, "5000"]).await;
        assert_eq!(everything.into_iter().collect::<BTreeSet<_>>(), all);
        // Not always the same member.
        let mut seen = BTreeSet::new();
        for _ in 0..40 {
            let m: String = q(&mut c, &["SRANDMEMBER", &key]).await;
            seen.insert(m);
        }
        assert!(seen.len() > 1, "SRANDMEMBER always returned {seen:?}");

        // SPOP removes what it returns.
        let mut left = all.clone();
        let m: String = q(&mut c, &["SPOP", &key]).await;
        assert!(left.remove(&m));
        let popped: Vec<String> = q(&mut c, &["SPOP", &key, "3"]).await;
        assert_eq!(popped.len(), 3);
        for m in &popped {
            assert!(left.remove(m), "{m} popped twice or unknown");
        }
        assert_eq!(qv(&mut c, &["SPOP", &key, "0"]).await, arr(vec![]));
        assert_eq!(qv(&mut c, &["SCARD", &key]).await, int(left.len() as i64));
        assert_eq!(
            sorted(&mut c, &["SMEMBERS", &key]).await,
            left.iter().cloned().collect::<Vec<_>>()
        );
        // A count reaching the size pops everything and deletes the key.
        let rest: Vec<String> = q(&mut c, &["SPOP", &key, "100000"]).await;
        assert_eq!(rest.into_iter().collect::<BTreeSet<_>>(), left);
        assert_eq!(qv(&mut c, &["EXISTS", &key]).await, int(0));
    }
}

#[tokio::test]
async fn smove() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SADD", "{t}a", "x", "y"]).await, int(2));
    assert_eq!(qv(&mut c, &["SMOVE", "{t}a", "{t}b", "x"]).await, int(1));
    assert_eq!(qv(&mut c, &["SMOVE", "{t}a", "{t}b", "zz"]).await, int(0));
    assert_eq!(sorted(&mut c, &["SMEMBERS", "{t}b"]).await, strs(&["x"]));
    assert_eq!(qv(&mut c, &["SMOVE", "{t}a", "{t}a", "y"]).await, int(1));
    assert_eq!(qv(&mut c, &["SMOVE", "{t}a", "{t}a", "zz"]).await, int(0));
    assert_eq!(qv(&mut c, &["SMOVE", "{t}a", "{t}b", "y"]).await, int(1));
    assert_eq!(qv(&mut c, &["EXISTS", "{t}a"]).await, int(0));
    assert_eq!(
        sorted(&mut c, &["SMEMBERS", "{t}b"]).await,
        strs(&["x", "y"])
    );
    // Missing source: 0 even if the destination has another type.
    assert_eq!(qv(&mut c, &["SET", "{t}s", "v"]).await, ok());
    assert_eq!(qv(&mut c, &["SMOVE", "{t}none", "{t}s", "x"]).await, int(0));
    let wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_eq!(qe(&mut c, &["SMOVE", "{t}b", "{t}s", "x"]).await, wrong);
    assert_eq!(qe(&mut c, &["SMOVE", "{t}b", "{t}s", "nope"]).await, wrong);
    assert_eq!(qe(&mut c, &["SMOVE", "{t}s", "{t}b", "x"]).await, wrong);
    assert_eq!(qv(&mut c, &["SCARD", "{t}b"]).await, int(2));
}

#[tokio::test]
async fn inter_union_diff_and_store() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(
        qv(&mut c, &["SADD", "{k}1", "a", "b", "c", "d"]).await,
        int(4)
    );
    assert_eq!(qv(&mut c, &["SADD", "{k}2", "b", "c", "e"]).await, int(3));
    assert_eq!(qv(&mut c, &["SADD", "{k}3", "c", "d", "f"]).await, int(3));

    assert_eq!(
        sorted(&mut c, &["SINTER", "{k}1", "{k}2"]).await,
        strs(&["b", "c"])
    );
    assert_eq!(
        sorted(&mut c, &["SINTER", "{k}1", "{k}2", "{k}3"]).await,
        strs(&["c"])
    );
    assert_eq!(
        qv(&mut c, &["SINTER", "{k}1", "{k}none"]).await,
        arr(vec![])
    );
    assert_eq!(
        sorted(&mut c, &["SUNION", "{k}1", "{k}2", "{k}none"]).await,
        strs(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(
        sorted(&mut c, &["SDIFF", "{k}1", "{k}2"]).await,
        strs(&["a", "d"])
    );
    assert_eq!(
        sorted(&mut c, &["SDIFF", "{k}1", "{k}2", "{k}3"]).await,
        strs(&["a"])
    );
    assert_eq!(qv(&mut c, &["SDIFF", "{k}none", "{k}1"]).await, arr(vec![]));

    assert_eq!(
        qv(&mut c, &["SINTERCARD", "2", "{k}1", "{k}2"]).await,
        int(2)
    );
    assert_eq!(
        qv(&mut c, &["SINTERCARD", "2", "{k}1", "{k}2", "LIMIT", "1"]).await,
        int(1)
    );
    assert_eq!(
        qv(&mut c, &["SINTERCARD", "2", "{k}1", "{k}2", "limit", "0"]).await,
        int(2)
    );
    assert_eq!(qv(&mut c, &["SINTERCARD", "1", "{k}none"]).await, int(0));
    for (args, e) in [
        (
            &["SINTERCARD", "0", "a"][..],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "x", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "-1", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "2", "a"],
            "ERR Number of keys can't be greater than number of args",
        ),
        (&["SINTERCARD", "1", "a", "LIMIT"], "ERR syntax error"),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "-1"],
            "ERR LIMIT can't be negative",
        ),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "x"],
            "ERR LIMIT can't be negative",
        ),
        (&["SINTERCARD", "1", "a", "foo", "1"], "ERR syntax error"),
    ] {
        assert_eq!(qe(&mut c, args).await, e, "{args:?}");
    }

    // STORE variants overwrite any type, drop the TTL, and delete on an empty result.
    assert_eq!(qv(&mut c, &["SET", "{k}d", "str", "EX", "100"]).await, ok());
    assert_eq!(
        qv(&mut c, &["SINTERSTORE", "{k}d", "{k}1", "{k}2"]).await,
        int(2)
    );
    assert_eq!(
        sorted(&mut c, &["SMEMBERS", "{k}d"]).await,
        strs(&["b", "c"])
    );
    assert_eq!(qv(&mut c, &["TTL", "{k}d"]).await, int(-1));
    assert_eq!(
        qv(&mut c, &["SUNIONSTORE", "{k}d", "{k}1", "{k}2"]).await,
        int(5)
    );
    assert_eq!(qv(&mut c, &["SCARD", "{k}d"]).await, int(5));
    assert_eq!(
        qv(&mut c, &["SDIFFSTORE", "{k}d", "{k}1", "{k}2"]).await,
        int(2)
    );
    assert_eq!(
        sorted(&mut c, &["SMEMBERS", "{k}d"]).await,
        strs(&["a", "d"])
    );
    // The destination may be one of the sources.
    assert_eq!(
        qv(&mut c, &["SUNIONSTORE", "{k}d", "{k}d", "{k}3"]).await,
        int(4)
    );
    assert_eq!(
        sorted(&mut c, &["SMEMBERS", "{k}d"]).await,
        strs(&["a", "c", "d", "f"])
    );
    assert_eq!(
        qv(&mut c, &["SINTERSTORE", "{k}d", "{k}1", "{k}none"]).await,
        int(0)
    );
    assert_eq!(qv(&mut c, &["EXISTS", "{k}d"]).await, int(0));
    assert_eq!(qv(&mut c, &["SDIFFSTORE", "{k}d", "{k}none"]).await, int(0));
    assert_eq!(qv(&mut c, &["EXISTS", "{k}d"]).await, int(0));
}

#[tokio::test]
async fn sscan_walks_everything_once() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(
        qv(&mut c, &["SSCAN", "nokey", "0"]).await,
        arr(vec![bulk("0"), arr(vec![])])
    );
    // A missing key answers before the options are looked at.
    assert_eq!(
        qv(&mut c, &["SSCAN", "nokey", "0", "COUNT", "0"]).await,
        arr(vec![bulk("0"), arr(vec![])])
    );
    assert_eq!(
        qe(&mut c, &["SSCAN", "nokey", "x"]).await,
        "ERR invalid cursor"
    );

    let all: Vec<String> = (0..600).map(|i| format!("m{i}")).collect();
    sadd_many(&mut c, "big", &all).await;
    assert_eq!(
        qe(&mut c, &["SSCAN", "big", "0", "COUNT", "0"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["SSCAN", "big", "0", "COUNT", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["SSCAN", "big", "0", "MATCH"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["SSCAN", "big", "0", "TYPE", "set"]).await,
        "ERR syntax error"
    );

    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) =
            q(&mut c, &["SSCAN", "big", &cursor, "COUNT", "50"]).await;
        seen.extend(items);
        calls += 1;
        assert!(calls < 10_000);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique, all.iter().cloned().collect::<BTreeSet<_>>());

    // MATCH filters; a small set comes back in one call.
    assert_eq!(
        qv(&mut c, &["SADD", "small", "a1", "a2", "b1"]).await,
        int(3)
    );
    let (next, mut items): (String, Vec<String>) =
        q(&mut c, &["SSCAN", "small", "0", "MATCH", "a*"]).await;
    items.sort();
    assert_eq!(next, "0");
    assert_eq!(items, strs(&["a1", "a2"]));
}

#[tokio::test]
async fn resp3_shapes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.cmd(&["SADD", "s", "a"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["SMEMBERS", "s"]),
        Reply::Set(vec![Reply::bulk("a")])
    );
    assert_eq!(c.cmd(&["SMEMBERS", "none"]), Reply::Set(vec![]));
    assert_eq!(c.cmd(&["SINTER", "s"]), Reply::Set(vec![Reply::bulk("a")]));
    assert_eq!(
        c.cmd(&["SUNION", "s", "none"]),
        Reply::Set(vec![Reply::bulk("a")])
    );
    assert_eq!(
        c.cmd(&["SDIFF", "s", "none"]),
        Reply::Set(vec![Reply::bulk("a")])
    );
    assert_eq!(
        c.cmd(&["SRANDMEMBER", "s", "2"]),
        Reply::Array(vec![Reply::bulk("a")])
    );
    assert_eq!(c.cmd(&["SRANDMEMBER", "none"]), Reply::Null);
    assert_eq!(c.cmd(&["SPOP", "none"]), Reply::Null);
    assert_eq!(c.cmd(&["SPOP", "none", "2"]), Reply::Set(vec![]));
    assert_eq!(
        c.cmd(&["SPOP", "s", "2"]),
        Reply::Set(vec![Reply::bulk("a")])
    );
    assert_eq!(c.cmd(&["SPOP", "s"]), Reply::Null);
}
