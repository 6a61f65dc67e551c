//! Generic keyspace commands: DEL/EXISTS/TYPE, expiry family, KEYS/SCAN, RENAME, COPY,
//! MOVE/SWAPDB, DBSIZE/FLUSH*.

#[macro_use]
mod common;

use common::*;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn sorted_keys(c: &mut Conn, pattern: &str) -> Vec<String> {
    let mut v: Vec<String> = q(c, &["KEYS", pattern]).await;
    v.sort();
    v
}

#[tokio::test]
async fn del_unlink_exists_type() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(
        qv(&mut c, &["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]).await,
        ok()
    );
    // Duplicates are counted by EXISTS but deleted once by DEL.
    assert_eq!(qv(&mut c, &["EXISTS", "a", "a", "a", "zz"]).await, int(3));
    assert_eq!(qv(&mut c, &["EXISTS", "zz"]).await, int(0));
    assert_eq!(qv(&mut c, &["DEL", "a", "a", "b", "zz"]).await, int(2));
    assert_eq!(qv(&mut c, &["EXISTS", "a", "b"]).await, int(0));
    assert_eq!(qv(&mut c, &["DEL", "a"]).await, int(0));
    assert_eq!(qv(&mut c, &["UNLINK", "c", "c", "nothing"]).await, int(1));
    assert_eq!(qv(&mut c, &["GET", "c"]).await, nil());
    assert_eq!(qv(&mut c, &["EXISTS", "d"]).await, int(1));

    assert_eq!(
        qv(&mut c, &["TYPE", "d"]).await,
        Value::SimpleString("string".into())
    );
    assert_eq!(
        qv(&mut c, &["TYPE", "missing"]).await,
        Value::SimpleString("none".into())
    );

    assert_eq!(
        qe(&mut c, &["DEL"]).await,
        "ERR wrong number of arguments for 'del' command"
    );
    assert_eq!(
        qe(&mut c, &["UNLINK"]).await,
        "ERR wrong number of arguments for 'unlink' command"
    );
    assert_eq!(
        qe(&mut c, &["EXISTS"]).await,
        "ERR wrong number of arguments for 'exists' command"
    );
    assert_eq!(
        qe(&mut c, &["TYPE"]).await,
        "ERR wrong number of arguments for 'type' command"
    );
    assert_eq!(
        qe(&mut c, &["TYPE", "a", "b"]).await,
        "ERR wrong number of arguments for 'type' command"
    );
}

#[tokio::test]
async fn expire_family_and_ttl() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    // TTL / PTTL special values.
    assert_eq!(qv(&mut c, &["TTL", "missing"]).await, int(-2));
    assert_eq!(qv(&mut c, &["PTTL", "missing"]).await, int(-2));
    assert_eq!(qv(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(qv(&mut c, &["TTL", "k"]).await, int(-1));
    assert_eq!(qv(&mut c, &["PTTL", "k"]).await, int(-1));
    assert_eq!(qv(&mut c, &["EXPIRETIME", "k"]).await, int(-1));
    assert_eq!(qv(&mut c, &["PEXPIRETIME", "k"]).await, int(-1));
    assert_eq!(qv(&mut c, &["EXPIRETIME", "missing"]).await, int(-2));
    assert_eq!(qv(&mut c, &["PEXPIRETIME", "missing"]).await, int(-2));

    // EXPIRE / PEXPIRE.
    assert_eq!(qv(&mut c, &["EXPIRE", "k", "100"]).await, int(1));
    let t: i64 = q(&mut c, &["TTL", "k"]).await;
    assert!((90..=100).contains(&t), "TTL {t}");
    assert_eq!(qv(&mut c, &["PEXPIRE", "k", "50000"]).await, int(1));
    let t: i64 = q(&mut c, &["PTTL", "k"]).await;
    assert!((40_000..=50_000).contains(&t), "PTTL {t}");
    assert_eq!(qv(&mut c, &["EXPIRE", "missing", "100"]).await, int(0));
    assert_eq!(qv(&mut c, &["PEXPIRE", "missing", "100"]).await, int(0));

    // EXPIREAT / PEXPIREAT and the *TIME getters.
    assert_eq!(qv(&mut c, &["EXPIREAT", "k", "4000000000"]).await, int(1));
    assert_eq!(qv(&mut c, &["EXPIRETIME", "k"]).await, int(4_000_000_000));
    assert_eq!(
        qv(&mut c, &["PEXPIRETIME", "k"]).await,
        int(4_000_000_000_000)
    );
    assert_eq!(
        qv(&mut c, &["PEXPIREAT", "k", "4000000000123"]).await,
        int(1)
    );
    assert_eq!(
        qv(&mut c, &["PEXPIRETIME", "k"]).await,
        int(4_000_000_000_123)
    );
    assert_eq!(qv(&mut c, &["EXPIRETIME", "k"]).await, int(4_000_000_000));
    let at = now_secs() + 300;
    assert_eq!(
        qv(&mut c, &["EXPIREAT", "k", &at.to_string()]).await,
        int(1)
    );
    let t: i64 = q(&mut c, &["TTL", "k"]).await;
    assert!((290..=300).contains(&t), "TTL {t}");
    assert_eq!(
        qv(&mut c, &["EXPIREAT", "missing", "4000000000"]).await,
        int(0)
    );

    // PERSIST.
    assert_eq!(qv(&mut c, &["PERSIST", "k"]).await, int(1));
    assert_eq!(qv(&mut c, &["TTL", "k"]).await, int(-1));
    assert_eq!(qv(&mut c, &["PERSIST", "k"]).await, int(0));
    assert_eq!(qv(&mut c, &["PERSIST", "missing"]).await, int(0));

    // Zero / negative / past expiry deletes immediately (and reports 1).
    for args in [
        &["EXPIRE", "k", "0"][..],
        &["EXPIRE", "k", "-5"][..],
        &["PEXPIRE", "k", "-1"][..],
        &["EXPIREAT", "k", "1"][..],
        &["PEXPIREAT", "k", "1"][..],
        &["PEXPIRE", "k", "-9223372036854775808"][..],
    ] {
        assert_eq!(qv(&mut c, &["SET", "k", "v"]).await, ok());
        assert_eq!(qv(&mut c, args).await, int(1), "{args:?}");
        assert_eq!(
            qv(&mut c, &["EXISTS", "k"]).await,
            int(0),
            "{args:?} must delete the key"
        );
        assert_eq!(qv(&mut c, &["GET", "k"]).await, nil());
    }

    // Errors.
    assert_eq!(qv(&mut c, &["SET", "k", "v"]).await, ok());
    let notint = "ERR value is not an integer or out of range";
    assert_eq!(qe(&mut c, &["EXPIRE", "k", "abc"]).await, notint);
    assert_eq!(qe(&mut c, &["PEXPIRE", "k", "1.5"]).await, notint);
    assert_eq!(qe(&mut c, &["EXPIREAT", "k", ""]).await, notint);
    assert_eq!(
        qe(&mut c, &["EXPIRE", "k", "9223372036854775807"]).await,
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        qe(&mut c, &["PEXPIRE", "k", "9223372036854775807"]).await,
        "ERR invalid expire time in 'pexpire' command"
    );
    assert_eq!(
        qe(&mut c, &["EXPIREAT", "k", "9223372036854775807"]).await,
        "ERR invalid expire time in 'expireat' command"
    );
    assert_eq!(
        qe(&mut c, &["EXPIRE", "k", "10", "FOO"]).await,
        "ERR Unsupported option FOO"
    );
    assert_eq!(
        qe(&mut c, &["EXPIRE", "k"]).await,
        "ERR wrong number of arguments for 'expire' command"
    );
    assert_eq!(
        qe(&mut c, &["TTL"]).await,
        "ERR wrong number of arguments for 'ttl' command"
    );
    assert_eq!(
        qe(&mut c, &["PERSIST"]).await,
        "ERR wrong number of arguments for 'persist' command"
    );
    assert_eq!(qv(&mut c, &["TTL", "k"]).await, int(-1));
}

#[tokio::test]
async fn expire_nx_xx_gt_lt() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SET", "a", "1"]).await, ok());

    // NX: only when there is no TTL.
    assert_eq!(qv(&mut c, &["EXPIRE", "a", "100", "NX"]).await, int(1));
    assert_eq!(qv(&mut c, &["EXPIRE", "a", "200", "NX"]).await, int(0));
    // GT / LT compare against the current TTL.
    assert_eq!(qv(&mut c, &["EXPIRE", "a", "50", "GT"]).await, int(0));
    assert_eq!(qv(&mut c, &["EXPIRE", "a", "200", "GT"]).await, int(1));
    assert_eq!(qv(&mut c, &["EXPIRE", "a", "300", "LT"]).await, int(0));
    assert_eq!(qv(&mut c, &["EXPIRE", "a", "10", "LT"]).await, int(1));
    let t: i64 = q(&mut c, &["TTL", "a"]).await;
    assert!((5..=10).contains(&t), "TTL {t}");
    // XX: only when there is a TTL.
    assert_eq!(qv(&mut c, &["EXPIRE", "a", "1000", "XX"]).await, int(1));
    // XX + GT combined.
    assert_eq!(
        qv(&mut c, &["EXPIRE", "a", "500", "XX", "GT"]).await,
        int(0)
    );
    assert_eq!(
        qv(&mut c, &["EXPIRE", "a", "2000", "XX", "GT"]).await,
        int(1)
    );
    // Options are case-insensitive.
    assert_eq!(qv(&mut c, &["EXPIRE", "a", "1500", "lt"]).await, int(1));

    // A key without TTL counts as an infinite TTL: GT never applies, LT always does.
    assert_eq!(qv(&mut c, &["SET", "p", "1"]).await, ok());
    assert_eq!(qv(&mut c, &["EXPIRE", "p", "100", "XX"]).await, int(0));
    assert_eq!(qv(&mut c, &["EXPIRE", "p", "100", "GT"]).await, int(0));
    assert_eq!(qv(&mut c, &["TTL", "p"]).await, int(-1));
    assert_eq!(qv(&mut c, &["EXPIRE", "p", "100", "LT"]).await, int(1));
    let t: i64 = q(&mut c, &["TTL", "p"]).await;
    assert!((90..=100).contains(&t), "TTL {t}");

    // Same options on the other three commands.
    assert_eq!(qv(&mut c, &["SET", "b", "1"]).await, ok());
    assert_eq!(qv(&mut c, &["PEXPIRE", "b", "100000", "NX"]).await, int(1));
    assert_eq!(qv(&mut c, &["PEXPIRE", "b", "100000", "NX"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["EXPIREAT", "b", "4000000000", "GT"]).await,
        int(1)
    );
    assert_eq!(
        qv(&mut c, &["EXPIREAT", "b", "3900000000", "GT"]).await,
        int(0)
    );
    assert_eq!(
        qv(&mut c, &["PEXPIREAT", "b", "3900000000000", "LT"]).await,
        int(1)
    );
    assert_eq!(
        qv(&mut c, &["PEXPIRETIME", "b"]).await,
        int(3_900_000_000_000)
    );
    assert_eq!(
        qv(&mut c, &["PEXPIREAT", "b", "3950000000000", "XX"]).await,
        int(1)
    );
    assert_eq!(
        qv(&mut c, &["PEXPIRETIME", "b"]).await,
        int(3_950_000_000_000)
    );

    // Missing key: 0 whatever the option.
    assert_eq!(qv(&mut c, &["EXPIRE", "missing", "10", "NX"]).await, int(0));
    assert_eq!(qv(&mut c, &["EXPIRE", "missing", "10", "LT"]).await, int(0));

    // Incompatible combinations.
    let nxxx = "ERR NX and XX, GT or LT options at the same time are not compatible";
    assert_eq!(qe(&mut c, &["EXPIRE", "a", "10", "NX", "XX"]).await, nxxx);
    assert_eq!(qe(&mut c, &["EXPIRE", "a", "10", "NX", "GT"]).await, nxxx);
    assert_eq!(qe(&mut c, &["PEXPIRE", "a", "10", "LT", "NX"]).await, nxxx);
    assert_eq!(qe(&mut c, &["EXPIREAT", "a", "10", "XX", "NX"]).await, nxxx);
    assert_eq!(
        qe(&mut c, &["EXPIRE", "a", "10", "GT", "LT"]).await,
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        qe(&mut c, &["PEXPIREAT", "a", "10", "LT", "GT"]).await,
        "ERR GT and LT options at the same time are not compatible"
    );
    // The failed commands did not touch the TTL.
    let t: i64 = q(&mut c, &["TTL", "a"]).await;
    assert!(t > 1000, "TTL {t}");
}

#[tokio::test]
async fn keys_glob_patterns() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(
        qv(
            &mut c,
            &[
                "MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeello", "5",
                "h*llo", "6", "ab", "7", "abc", "8"
            ]
        )
        .await,
        ok()
    );
    let cases: &[(&str, &[&str])] = &[
        (
            "*",
            &[
                "ab", "abc", "h*llo", "hallo", "heeello", "hello", "hllo", "hxllo",
            ],
        ),
        ("h?llo", &["h*llo", "hallo", "hello", "hxllo"]),
        (
            "h*llo",
            &["h*llo", "hallo", "heeello", "hello", "hllo", "hxllo"],
        ),
        ("h[ae]llo", &["hallo", "hello"]),
        ("h[^e]llo", &["h*llo", "hallo", "hxllo"]),
        ("h[a-b]llo", &["hallo"]),
        ("h[a-z]llo", &["hallo", "hello", "hxllo"]),
        ("h\\*llo", &["h*llo"]),
        ("h\\?llo", &[]),
        ("ab", &["ab"]),
        ("ab?", &["abc"]),
        ("a*", &["ab", "abc"]),
        ("*c", &["abc"]),
        ("x*", &[]),
        ("HELLO", &[]),
    ];
    for (pat, want) in cases {
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(sorted_keys(&mut c, pat).await, want, "KEYS {pat}");
    }
    // Expired keys are not listed.
    assert_eq!(qv(&mut c, &["SET", "gone", "v", "PXAT", "1"]).await, ok());
    assert!(!sorted_keys(&mut c, "*").await.contains(&"gone".to_string()));
    assert_eq!(
        qe(&mut c, &["KEYS"]).await,
        "ERR wrong number of arguments for 'keys' command"
    );
}

/// Iterates SCAN to cursor 0, returning how often each key was seen.
async fn full_scan(c: &mut Conn, extra: &[&str]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    let mut cursor = "0".to_string();
    let mut rounds = 0;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let (next, keys): (String, Vec<String>) = q(c, &args).await;
        for k in keys {
            *seen.entry(k).or_insert(0) += 1;
        }
        rounds += 1;
        assert!(rounds < 100_000, "SCAN does not terminate");
        if next == "0" {
            break;
        }
        cursor = next;
    }
    seen
}

#[tokio::test]
async fn scan_iterates_everything() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    // Empty database; the cursor is a bulk string.
    assert_eq!(
        qv(&mut c, &["SCAN", "0"]).await,
        arr(vec![bulk("0"), arr(vec![])])
    );

    let n = 1000;
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
        if i % 10 == 0 {
            pipe.cmd("SET").arg(format!("other:{i}")).arg(i).ignore();
        }
    }
    let _: () = pipe.query_async(&mut c).await.unwrap();
    let total = n + n / 10;

    // Default COUNT.
    let seen = full_scan(&mut c, &[]).await;
    assert_eq!(seen.len(), total, "every key must be returned");
    assert!(seen
        .keys()
        .all(|k| k.starts_with("key:") || k.starts_with("other:")));

    // Small COUNT: more rounds, same result.
    let seen = full_scan(&mut c, &["COUNT", "7"]).await;
    assert_eq!(seen.len(), total);

    // Big COUNT.
    let seen = full_scan(&mut c, &["COUNT", "100000"]).await;
    assert_eq!(seen.len(), total);

    // MATCH filters.
    let seen = full_scan(&mut c, &["MATCH", "other:*", "COUNT", "50"]).await;
    let want: HashSet<String> = (0..n).step_by(10).map(|i| format!("other:{i}")).collect();
    assert_eq!(seen.keys().cloned().collect::<HashSet<_>>(), want);
    let seen = full_scan(&mut c, &["MATCH", "key:99?"]).await;
    let want: HashSet<String> = (990..1000).map(|i| format!("key:{i}")).collect();
    assert_eq!(seen.keys().cloned().collect::<HashSet<_>>(), want);

    // TYPE filters.
    let seen = full_scan(&mut c, &["TYPE", "string"]).await;
    assert_eq!(seen.len(), total);
    let seen = full_scan(&mut c, &["TYPE", "list", "COUNT", "500"]).await;
    assert!(seen.is_empty());
    let seen = full_scan(
        &mut c,
        &["MATCH", "other:1*", "TYPE", "string", "COUNT", "20"],
    )
    .await;
    let want: HashSet<String> = (0..n)
        .step_by(10)
        .map(|i| format!("other:{i}"))
        .filter(|k| k.starts_with("other:1"))
        .collect();
    assert_eq!(seen.keys().cloned().collect::<HashSet<_>>(), want);

    // Errors.
    assert_eq!(qe(&mut c, &["SCAN", "abc"]).await, "ERR invalid cursor");
    assert_eq!(
        qe(&mut c, &["SCAN", "0", "COUNT", "0"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["SCAN", "0", "COUNT", "-1"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["SCAN", "0", "COUNT", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(qe(&mut c, &["SCAN", "0", "FOO"]).await, "ERR syntax error");
    assert_eq!(
        qe(&mut c, &["SCAN", "0", "MATCH"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["SCAN"]).await,
        "ERR wrong number of arguments for 'scan' command"
    );
}

#[tokio::test]
async fn scan_with_concurrent_modification_returns_stable_keys() {
    // Keys that exist for the whole iteration must be returned at least once, even while
    // other keys are added and removed.
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let mut w = srv.client().await;
    let mut pipe = redis::pipe();
    for i in 0..500 {
        pipe.cmd("SET").arg(format!("stable:{i}")).arg(i).ignore();
    }
    let _: () = pipe.query_async(&mut c).await.unwrap();

    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut round = 0;
    loop {
        let (next, keys): (String, Vec<String>) =
            q(&mut c, &["SCAN", &cursor, "COUNT", "20"]).await;
        seen.extend(keys);
        // Churn between SCAN calls (one pipelined round trip).
        let mut churn = redis::pipe();
        for j in 0..20 {
            let k = format!("churn:{round}:{j}");
            churn.cmd("SET").arg(&k).arg("x").ignore();
            if j % 2 == 0 {
                churn.cmd("DEL").arg(&k).ignore();
            }
        }
        let _: () = churn.query_async(&mut w).await.unwrap();
        round += 1;
        assert!(round < 10_000);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    for i in 0..500 {
        assert!(
            seen.contains(&format!("stable:{i}")),
            "stable:{i} not returned by SCAN"
        );
    }
}

#[tokio::test]
async fn rename_renamenx() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["SET", "a", "1"]).await, ok());
    assert_eq!(qv(&mut c, &["RENAME", "a", "b"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "a"]).await, nil());
    assert_eq!(qv(&mut c, &["GET", "b"]).await, bulk("1"));
    assert_eq!(qe(&mut c, &["RENAME", "a", "c"]).await, "ERR no such key");
    assert_eq!(
        qe(&mut c, &["RENAME", "nope", "nope"]).await,
        "ERR no such key"
    );
    // Rename to itself is OK.
    assert_eq!(qv(&mut c, &["RENAME", "b", "b"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "b"]).await, bulk("1"));

    // RENAME overwrites the destination and moves the TTL along.
    assert_eq!(qv(&mut c, &["SET", "src", "s", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["SET", "dst", "d"]).await, ok());
    assert_eq!(qv(&mut c, &["RENAME", "src", "dst"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "dst"]).await, bulk("s"));
    let t: i64 = q(&mut c, &["TTL", "dst"]).await;
    assert!((90..=100).contains(&t), "TTL {t}");
    // ... and a destination TTL does not survive when the source has none.
    assert_eq!(qv(&mut c, &["SET", "plain", "p"]).await, ok());
    assert_eq!(qv(&mut c, &["RENAME", "plain", "dst"]).await, ok());
    assert_eq!(qv(&mut c, &["TTL", "dst"]).await, int(-1));

    // RENAMENX.
    assert_eq!(qv(&mut c, &["SET", "x", "1"]).await, ok());
    assert_eq!(qv(&mut c, &["SET", "y", "2"]).await, ok());
    assert_eq!(qv(&mut c, &["RENAMENX", "x", "y"]).await, int(0));
    assert_eq!(qv(&mut c, &["MGET", "x", "y"]).await, bulks(&["1", "2"]));
    assert_eq!(qv(&mut c, &["RENAMENX", "x", "z"]).await, int(1));
    assert_eq!(
        qv(&mut c, &["MGET", "x", "z"]).await,
        arr(vec![nil(), bulk("1")])
    );
    assert_eq!(
        qe(&mut c, &["RENAMENX", "nope", "w"]).await,
        "ERR no such key"
    );
    assert_eq!(
        qe(&mut c, &["RENAME", "a"]).await,
        "ERR wrong number of arguments for 'rename' command"
    );
    assert_eq!(
        qe(&mut c, &["RENAMENX", "a"]).await,
        "ERR wrong number of arguments for 'renamenx' command"
    );
}

#[tokio::test]
async fn randomkey_touch_dbsize() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["RANDOMKEY"]).await, nil());
    assert_eq!(qv(&mut c, &["DBSIZE"]).await, int(0));
    assert_eq!(qv(&mut c, &["SET", "only", "1"]).await, ok());
    assert_eq!(qv(&mut c, &["RANDOMKEY"]).await, bulk("only"));
    assert_eq!(qv(&mut c, &["MSET", "a", "1", "b", "2"]).await, ok());
    assert_eq!(qv(&mut c, &["DBSIZE"]).await, int(3));
    let all: HashSet<String> = ["only", "a", "b"].iter().map(|s| s.to_string()).collect();
    let mut got = HashSet::new();
    for _ in 0..200 {
        let k: String = q(&mut c, &["RANDOMKEY"]).await;
        assert!(all.contains(&k), "RANDOMKEY returned {k:?}");
        got.insert(k);
        if got.len() == all.len() {
            break;
        }
    }
    assert!(
        got.len() >= 2,
        "RANDOMKEY should not always return the same key: {got:?}"
    );

    assert_eq!(qv(&mut c, &["TOUCH", "a", "b", "nope"]).await, int(2));
    assert_eq!(qv(&mut c, &["TOUCH", "a", "a"]).await, int(2));
    assert_eq!(qv(&mut c, &["TOUCH", "nope"]).await, int(0));
    assert_eq!(
        qe(&mut c, &["TOUCH"]).await,
        "ERR wrong number of arguments for 'touch' command"
    );
    assert_eq!(
        qe(&mut c, &["RANDOMKEY", "x"]).await,
        "ERR wrong number of arguments for 'randomkey' command"
    );
    assert_eq!(
        qe(&mut c, &["DBSIZE", "x"]).await,
        "ERR wrong number of arguments for 'dbsize' command"
    );
}

#[tokio::test]
async fn copy_command() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["SET", "src", "v", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["COPY", "src", "dst"]).await, int(1));
    assert_eq!(qv(&mut c, &["GET", "dst"]).await, bulk("v"));
    let t: i64 = q(&mut c, &["TTL", "dst"]).await;
    assert!((90..=100).contains(&t), "COPY keeps the TTL, got {t}");
    assert_eq!(qv(&mut c, &["GET", "src"]).await, bulk("v"));
    // Copies are independent.
    assert_eq!(qv(&mut c, &["APPEND", "dst", "2"]).await, int(2));
    assert_eq!(qv(&mut c, &["GET", "src"]).await, bulk("v"));

    // Existing destination: 0 without REPLACE, 1 with it.
    assert_eq!(qv(&mut c, &["COPY", "src", "dst"]).await, int(0));
    assert_eq!(qv(&mut c, &["GET", "dst"]).await, bulk("v2"));
    assert_eq!(qv(&mut c, &["COPY", "src", "dst", "REPLACE"]).await, int(1));
    assert_eq!(qv(&mut c, &["GET", "dst"]).await, bulk("v"));
    // Missing source.
    assert_eq!(qv(&mut c, &["COPY", "nope", "x"]).await, int(0));
    assert_eq!(qv(&mut c, &["EXISTS", "x"]).await, int(0));

    // DB option.
    assert_eq!(
        qv(&mut c, &["COPY", "src", "other", "DB", "3"]).await,
        int(1)
    );
    assert_eq!(qv(&mut c, &["EXISTS", "other"]).await, int(0));
    let mut c3 = srv.client_db(3).await;
    assert_eq!(qv(&mut c3, &["GET", "other"]).await, bulk("v"));
    assert!(q::<i64>(&mut c3, &["TTL", "other"]).await > 0);
    // Same key name, other db: allowed.
    assert_eq!(qv(&mut c, &["COPY", "src", "src", "DB", "3"]).await, int(1));
    assert_eq!(qv(&mut c3, &["GET", "src"]).await, bulk("v"));
    assert_eq!(qv(&mut c, &["COPY", "src", "src", "DB", "3"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["COPY", "src", "src", "DB", "3", "REPLACE"]).await,
        int(1)
    );

    // Errors.
    assert_eq!(
        qe(&mut c, &["COPY", "src", "src"]).await,
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        qe(&mut c, &["COPY", "src", "src", "DB", "0"]).await,
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        qe(&mut c, &["COPY", "src", "d", "DB", "16"]).await,
        "ERR DB index is out of range"
    );
    assert_eq!(
        qe(&mut c, &["COPY", "src", "d", "DB", "-1"]).await,
        "ERR DB index is out of range"
    );
    assert_eq!(
        qe(&mut c, &["COPY", "src", "d", "DB", "abc"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["COPY", "src", "d", "FOO"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["COPY", "src"]).await,
        "ERR wrong number of arguments for 'copy' command"
    );
}

#[tokio::test]
async fn move_swapdb_flush() {
    let srv = TestServer::start();
    let mut c0 = srv.client_db(0).await;
    let mut c1 = srv.client_db(1).await;

    assert_eq!(qv(&mut c0, &["SET", "k", "v", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c0, &["MOVE", "k", "1"]).await, int(1));
    assert_eq!(qv(&mut c0, &["EXISTS", "k"]).await, int(0));
    assert_eq!(qv(&mut c1, &["GET", "k"]).await, bulk("v"));
    assert!(
        q::<i64>(&mut c1, &["TTL", "k"]).await > 0,
        "MOVE keeps the TTL"
    );
    assert_eq!(
        qv(&mut c0, &["MOVE", "k", "1"]).await,
        int(0),
        "source missing"
    );
    assert_eq!(qv(&mut c0, &["MOVE", "nope", "1"]).await, int(0));
    // Destination exists: nothing moves.
    assert_eq!(qv(&mut c0, &["SET", "k", "v0"]).await, ok());
    assert_eq!(qv(&mut c0, &["MOVE", "k", "1"]).await, int(0));
    assert_eq!(qv(&mut c0, &["GET", "k"]).await, bulk("v0"));
    assert_eq!(qv(&mut c1, &["GET", "k"]).await, bulk("v"));
    assert_eq!(
        qe(&mut c0, &["MOVE", "k", "0"]).await,
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        qe(&mut c0, &["MOVE", "k", "16"]).await,
        "ERR DB index is out of range"
    );
    assert_eq!(
        qe(&mut c0, &["MOVE", "k", "abc"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c0, &["MOVE", "k"]).await,
        "ERR wrong number of arguments for 'move' command"
    );

    // SWAPDB swaps the whole contents, visible to already-connected clients.
    assert_eq!(qv(&mut c0, &["SET", "only0", "x"]).await, ok());
    assert_eq!(qv(&mut c0, &["DBSIZE"]).await, int(2));
    assert_eq!(qv(&mut c1, &["DBSIZE"]).await, int(1));
    assert_eq!(qv(&mut c0, &["SWAPDB", "0", "1"]).await, ok());
    assert_eq!(qv(&mut c0, &["DBSIZE"]).await, int(1));
    assert_eq!(qv(&mut c1, &["DBSIZE"]).await, int(2));
    assert_eq!(qv(&mut c0, &["GET", "k"]).await, bulk("v"));
    assert_eq!(qv(&mut c1, &["GET", "k"]).await, bulk("v0"));
    assert_eq!(qv(&mut c1, &["GET", "only0"]).await, bulk("x"));
    assert!(
        q::<i64>(&mut c0, &["TTL", "k"]).await > 0,
        "TTL travels with SWAPDB"
    );
    assert_eq!(qv(&mut c0, &["SWAPDB", "1", "1"]).await, ok());
    assert_eq!(
        qe(&mut c0, &["SWAPDB", "0", "16"]).await,
        "ERR DB index is out of range"
    );
    assert_eq!(
        qe(&mut c0, &["SWAPDB", "a", "1"]).await,
        "ERR invalid first DB index"
    );
    assert_eq!(
        qe(&mut c0, &["SWAPDB", "1", "b"]).await,
        "ERR invalid second DB index"
    );
    assert_eq!(
        qe(&mut c0, &["SWAPDB", "0"]).await,
        "ERR wrong number of arguments for 'swapdb' command"
    );

    // FLUSHDB only clears the selected db; FLUSHALL clears all.
    assert_eq!(qv(&mut c0, &["FLUSHDB"]).await, ok());
    assert_eq!(qv(&mut c0, &["DBSIZE"]).await, int(0));
    assert_eq!(qv(&mut c1, &["DBSIZE"]).await, int(2));
    assert_eq!(qv(&mut c0, &["SET", "a", "1"]).await, ok());
    assert_eq!(qv(&mut c0, &["FLUSHALL"]).await, ok());
    assert_eq!(qv(&mut c0, &["DBSIZE"]).await, int(0));
    assert_eq!(qv(&mut c1, &["DBSIZE"]).await, int(0));
    assert_eq!(qv(&mut c1, &["GET", "k"]).await, nil());

    // ASYNC / SYNC modifiers.
    assert_eq!(qv(&mut c0, &["SET", "a", "1"]).await, ok());
    assert_eq!(qv(&mut c0, &["FLUSHDB", "ASYNC"]).await, ok());
    assert_eq!(qv(&mut c0, &["EXISTS", "a"]).await, int(0));
    assert_eq!(qv(&mut c0, &["SET", "a", "1"]).await, ok());
    assert_eq!(qv(&mut c0, &["FLUSHDB", "SYNC"]).await, ok());
    assert_eq!(qv(&mut c0, &["EXISTS", "a"]).await, int(0));
    assert_eq!(qv(&mut c0, &["SET", "a", "1"]).await, ok());
    assert_eq!(qv(&mut c0, &["FLUSHALL", "ASYNC"]).await, ok());
    assert_eq!(qv(&mut c0, &["EXISTS", "a"]).await, int(0));
    assert_eq!(qv(&mut c0, &["FLUSHALL", "SYNC"]).await, ok());
    assert_eq!(qe(&mut c0, &["FLUSHDB", "FOO"]).await, "ERR syntax error");
    assert_eq!(qe(&mut c0, &["FLUSHALL", "FOO"]).await, "ERR syntax error");
}

#[tokio::test]
async fn expired_keys_disappear() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SET", "px", "v", "PX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["SET", "ex", "v"]).await, ok());
    assert_eq!(qv(&mut c, &["PEXPIRE", "ex", "150"]).await, int(1));
    assert_eq!(qv(&mut c, &["SET", "keep", "v"]).await, ok());
    eventually!(
        Duration::from_secs(10),
        "keys with 100-150 ms TTL to expire",
        qv(&mut c, &["EXISTS", "px", "ex"]).await == int(0)
    );
    assert_eq!(qv(&mut c, &["GET", "px"]).await, nil());
    assert_eq!(qv(&mut c, &["TTL", "ex"]).await, int(-2));
    assert_eq!(qv(&mut c, &["GET", "keep"]).await, bulk("v"));
    // Expired keys are reaped from DBSIZE eventually (active expiry), without any access.
    assert_eq!(qv(&mut c, &["SET", "reap1", "v", "PX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["SET", "reap2", "v", "PX", "100"]).await, ok());
    eventually!(
        Duration::from_secs(20),
        "DBSIZE to drop back to 1 after the TTLs elapse",
        qv(&mut c, &["DBSIZE"]).await == int(1)
    );
    assert_eq!(qv(&mut c, &["KEYS", "*"]).await, bulks(&["keep"]));
    assert_eq!(
        qe(&mut c, &["RENAME", "reap1", "x"]).await,
        "ERR no such key"
    );
}
