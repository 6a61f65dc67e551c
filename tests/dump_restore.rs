//! DUMP and RESTORE: round trips within the server under test, from a real redis-server
//! into it and from it into a real redis-server, for every type; TTL options and errors;
//! corrupted payloads.
//!
//! The cross-server tests start their own `redis-server` (REDIS_SERVER_BIN or from PATH)
//! beside the server under test. With `RAFTROCKS_TEST_TARGET=redis` the server under test is
//! redis too, which checks the expectations themselves.

#[macro_use]
mod common;

use std::time::Duration;

use common::*;

// ------------------------------------------------------------------------ a real redis

/// A redis-server of our own, whatever the target (DEBUG QUICKLIST-PACKED-THRESHOLD makes
/// plain quicklist nodes).
fn real_redis() -> TestServer {
    TestServer::builder()
        .reference_redis()
        .extra_args(&["--enable-debug-command", "yes"])
        .start()
}

// ---------------------------------------------------------------------------- helpers

async fn dump(c: &mut Conn, key: &str) -> Option<Vec<u8>> {
    redis::cmd("DUMP")
        .arg(key)
        .query_async(c)
        .await
        .unwrap_or_else(|e| panic!("DUMP {key}: {e}"))
}

async fn restore(
    c: &mut Conn,
    key: &str,
    ttl: i64,
    payload: &[u8],
    opts: &[&str],
) -> Result<Value, String> {
    let mut cmd = redis::cmd("RESTORE");
    cmd.arg(key).arg(ttl).arg(payload);
    for o in opts {
        cmd.arg(*o);
    }
    match cmd.query_async::<Value>(c).await {
        Ok(v) => Ok(v),
        Err(e) => Err(error_text(&e).unwrap_or_else(|| panic!("RESTORE {key}: {e}"))),
    }
}

/// A reply as text, with RESP2 field/value lists kept in order.
fn text(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(i) => i.to_string(),
        Value::BulkString(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(items) | Value::Set(items) => {
            format!(
                "[{}]",
                items.iter().map(text).collect::<Vec<_>>().join(", ")
            )
        }
        Value::Map(kv) => format!(
            "{{{}}}",
            kv.iter()
                .map(|(k, v)| format!("{}: {}", text(k), text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Double(d) => d.to_string(),
        other => format!("{other:?}"),
    }
}

/// A RESP2 flat `[k, v, k, v...]` reply without the keys in `skip`.
fn without(v: &Value, skip: &[&str]) -> String {
    let Value::Array(items) = v else {
        return text(v);
    };
    let mut out = Vec::new();
    for kv in items.chunks(2) {
        let k = text(&kv[0]);
        if skip.iter().any(|s| k == format!("{s:?}")) {
            continue;
        }
        out.push(format!("{k}: {}", kv.get(1).map(text).unwrap_or_default()));
    }
    out.join(", ")
}

/// Everything observable about `key`, in a form comparable across servers: the type, the
/// contents (sets and hashes sorted), and for streams their groups, PELs and consumers
/// (without idle times, which depend on the clock).
async fn contents(c: &mut Conn, key: &str) -> String {
    let typ: String = value_to_string(&qv(c, &["TYPE", key]).await);
    let body = match typ.as_str() {
        "none" => String::new(),
        "string" => text(&qv(c, &["GET", key]).await),
        "list" => text(&qv(c, &["LRANGE", key, "0", "-1"]).await),
        "set" => {
            let mut m: Vec<Vec<u8>> = q(c, &["SMEMBERS", key]).await;
            m.sort();
            format!("{m:?}")
        }
        "hash" => {
            let mut m: Vec<(Vec<u8>, Vec<u8>)> = q(c, &["HGETALL", key]).await;
            m.sort();
            format!("{m:?}")
        }
        "zset" => text(&qv(c, &["ZRANGE", key, "0", "-1", "WITHSCORES"]).await),
        "stream" => {
            let mut s = text(&qv(c, &["XRANGE", key, "-", "+"]).await);
            let info = qv(c, &["XINFO", "STREAM", key]).await;
            // Node counts depend on how entries are cut into nodes, not on the contents.
            s += &without(&info, &["radix-tree-keys", "radix-tree-nodes"]);
            let groups = qv(c, &["XINFO", "GROUPS", key]).await;
            s += &text(&groups);
            if let Value::Array(gs) = &groups {
                for g in gs {
                    let Value::Array(kv) = g else { continue };
                    let name = value_to_string(&kv[1]);
                    let pending = qv(c, &["XPENDING", key, &name, "-", "+", "100000"]).await;
                    if let Value::Array(ps) = &pending {
                        for p in ps {
                            // [id, consumer, idle, deliveries]: idle is dropped.
                            if let Value::Array(f) = p {
                                s += &format!("{} {} {};", text(&f[0]), text(&f[1]), text(&f[3]));
                            }
                        }
                    }
                    let cons = qv(c, &["XINFO", "CONSUMERS", key, &name]).await;
                    if let Value::Array(cs) = &cons {
                        for c in cs {
                            s += &without(c, &["idle"]);
                            s += ";";
                        }
                    }
                }
            }
            s
        }
        other => panic!("unexpected type {other}"),
    };
    format!("{typ}: {body}")
}

async fn run(c: &mut Conn, args: &[String]) {
    let mut cmd = redis::cmd(&args[0]);
    for a in &args[1..] {
        cmd.arg(a);
    }
    let _: Value = cmd
        .query_async(c)
        .await
        .unwrap_or_else(|e| panic!("{:?}: {e}", &args[..args.len().min(3)]));
}

fn s(items: &[&str]) -> Vec<String> {
    items.iter().map(|x| x.to_string()).collect()
}

/// Keys of every type, small (listpack/intset encodings in Redis) and large (hashtable,
/// skiplist, several quicklist nodes, LZF-compressed strings). Returns their names.
async fn populate(c: &mut Conn, p: &str) -> Vec<String> {
    let k = |n: &str| format!("{p}{n}");
    let mut keys = Vec::new();
    let mut add = |n: &str| {
        keys.push(k(n));
        k(n)
    };
    // Strings: raw, int-encoded, long and repetitive (LZF), long and not compressible, HLL.
    run(c, &s(&["SET", &add("str:raw"), "hello world"])).await;
    run(c, &s(&["SET", &add("str:int"), "-1234567"])).await;
    run(c, &s(&["SET", &add("str:bigint"), "123456789012345"])).await;
    run(c, &s(&["SET", &add("str:empty"), ""])).await;
    let rep = "abcdefgh".repeat(5000);
    run(c, &s(&["SET", &add("str:lzf"), &rep])).await;
    let noise: String = (0..30_000u32)
        .map(|i| char::from(b'!' + (i.wrapping_mul(2_654_435_761) >> 27) as u8 % 90))
        .collect();
    run(c, &s(&["SET", &add("str:noise"), &noise])).await;
    let mut pf = s(&["PFADD", &add("str:hll")]);
    pf.extend((0..3000).map(|i| format!("e{i}")));
    run(c, &pf).await;

    // Lists.
    run(
        c,
        &s(&[
            "RPUSH",
            &add("list:small"),
            "a",
            "1",
            "-1",
            "",
            "12345678901",
        ]),
    )
    .await;
    let mut big = s(&["RPUSH", &add("list:big")]);
    big.extend((0..3000).map(|i| {
        if i % 500 == 0 {
            format!("{i}:{}", "x".repeat(9000))
        } else if i % 3 == 0 {
            i.to_string()
        } else {
            format!("item-{i}-{}", "y".repeat(i % 50))
        }
    }));
    run(c, &big).await;

    // Sets.
    let mut ints = s(&["SADD", &add("set:ints")]);
    ints.extend((0..200).map(|i| (i * 7 - 300).to_string()));
    run(c, &ints).await;
    run(c, &s(&["SADD", &add("set:small"), "a", "b", "", "1"])).await;
    let mut bigset = s(&["SADD", &add("set:big")]);
    bigset.extend((0..2000).map(|i| format!("member:{i}")));
    run(c, &bigset).await;

    // Hashes.
    run(
        c,
        &s(&["HSET", &add("hash:small"), "f", "v", "n", "42", "", "empty"]),
    )
    .await;
    let mut bighash = s(&["HSET", &add("hash:big")]);
    for i in 0..1500 {
        bighash.push(format!("field:{i}"));
        bighash.push(if i % 100 == 0 {
            "v".repeat(200)
        } else {
            i.to_string()
        });
    }
    run(c, &bighash).await;

    // Sorted sets.
    run(
        c,
        &s(&[
            "ZADD",
            &add("zset:small"),
            "1.5",
            "a",
            "-inf",
            "b",
            "+inf",
            "c",
            "0",
            "d",
            "3",
            "7",
        ]),
    )
    .await;
    let mut bigz = s(&["ZADD", &add("zset:big")]);
    for i in 0..1500 {
        bigz.push(format!("{}", (i as f64) * 0.25 - 100.0));
        bigz.push(format!("m{i}"));
    }
    run(c, &bigz).await;

    // Streams: entries with varying fields, deletions, groups with PELs and consumers.
    let st = add("stream:full");
    for i in 1..=300 {
        let mut x = s(&["XADD", &st, &format!("{}-{}", 1000 + i / 3, i % 3)]);
        if i % 10 == 0 {
            x.extend(s(&["other", &i.to_string(), "extra", "field"]));
        } else {
            x.extend(s(&["name", "value", "n", &i.to_string()]));
        }
        run(c, &x).await;
    }
    run(c, &s(&["XDEL", &st, "1001-0", "1050-1", "1100-0"])).await;
    run(c, &s(&["XGROUP", "CREATE", &st, "g1", "0"])).await;
    run(c, &s(&["XGROUP", "CREATE", &st, "g2", "$"])).await;
    run(
        c,
        &s(&["XGROUP", "CREATE", &st, "g3", "1050-0", "ENTRIESREAD", "20"]),
    )
    .await;
    run(
        c,
        &s(&[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "10",
            "STREAMS",
            &st,
            ">",
        ]),
    )
    .await;
    run(
        c,
        &s(&[
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "5",
            "STREAMS",
            &st,
            ">",
        ]),
    )
    .await;
    run(
        c,
        &s(&[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "0",
            "STREAMS",
            &st,
            "0",
        ]),
    )
    .await;
    run(c, &s(&["XACK", &st, "g1", "1001-1", "1002-0"])).await;
    run(c, &s(&["XGROUP", "CREATECONSUMER", &st, "g1", "idle"])).await;
    run(
        c,
        &s(&[
            "XREADGROUP",
            "GROUP",
            "g3",
            "carol",
            "COUNT",
            "3",
            "STREAMS",
            &st,
            ">",
        ]),
    )
    .await;
    let empty = add("stream:empty");
    run(c, &s(&["XGROUP", "CREATE", &empty, "g", "$", "MKSTREAM"])).await;
    let drained = add("stream:drained");
    run(c, &s(&["XADD", &drained, "5-1", "a", "b"])).await;
    run(c, &s(&["XDEL", &drained, "5-1"])).await;
    keys
}

// ------------------------------------------------------------------------------ tests

#[tokio::test]
async fn dump_restore_round_trips_every_type() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let keys = populate(&mut c, "").await;
    for k in &keys {
        let before = contents(&mut c, k).await;
        let payload = dump(&mut c, k)
            .await
            .unwrap_or_else(|| panic!("DUMP {k} is nil"));
        let copy = format!("copy:{k}");
        assert_eq!(
            restore(&mut c, &copy, 0, &payload, &[]).await,
            Ok(ok()),
            "{k}"
        );
        let after = contents(&mut c, &copy).await;
        assert_eq!(before, after, "{k}");
        assert_eq!(q::<i64>(&mut c, &["PTTL", &copy]).await, -1);
        // And over the original with REPLACE: unchanged.
        assert_eq!(
            restore(&mut c, k, 0, &payload, &["REPLACE"]).await,
            Ok(ok())
        );
        assert_eq!(contents(&mut c, k).await, before, "{k} replaced");
    }
    assert_eq!(dump(&mut c, "missing").await, None);
    // The HLL still works as one after the round trip.
    let n: i64 = q(&mut c, &["PFCOUNT", "copy:str:hll"]).await;
    assert!((2900..3100).contains(&n), "{n}");
}

#[tokio::test]
async fn redis_payloads_restore_here() {
    let srv = TestServer::start();
    let redis = real_redis();
    let mut r = redis.client().await;
    // Compressed quicklist nodes (LZF inside the list payload) for the lists written after.
    run(&mut r, &s(&["CONFIG", "SET", "list-compress-depth", "1"])).await;
    let mut keys = populate(&mut r, "").await;
    // Plain quicklist nodes: elements above the packed threshold.
    run(
        &mut r,
        &s(&["CONFIG", "SET", "list-max-listpack-size", "4"]),
    )
    .await;
    run(&mut r, &s(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000"])).await;
    let mut plain = s(&["RPUSH", "list:plain"]);
    plain.extend((0..20).map(|i| {
        if i % 4 == 0 {
            "p".repeat(5000 + i)
        } else {
            format!("s{i}")
        }
    }));
    run(&mut r, &plain).await;
    keys.push("list:plain".into());

    let mut c = srv.client().await;
    for k in &keys {
        let payload = dump(&mut r, k).await.unwrap();
        assert_eq!(restore(&mut c, k, 0, &payload, &[]).await, Ok(ok()), "{k}");
        assert_eq!(contents(&mut c, k).await, contents(&mut r, k).await, "{k}");
    }
}

#[tokio::test]
async fn payloads_from_here_restore_in_redis() {
    let srv = TestServer::start();
    let redis = real_redis();
    let mut c = srv.client().await;
    let keys = populate(&mut c, "").await;
    // Long repetitive strings are LZF-compressed in the payload, as Redis does.
    let lzf = dump(&mut c, "str:lzf").await.unwrap();
    assert!(lzf.len() < 4000, "{} bytes", lzf.len());
    let mut r = redis.client().await;
    for k in &keys {
        let payload = dump(&mut c, k).await.unwrap();
        assert_eq!(restore(&mut r, k, 0, &payload, &[]).await, Ok(ok()), "{k}");
        assert_eq!(contents(&mut r, k).await, contents(&mut c, k).await, "{k}");
        // And back again, through redis' own DUMP.
        let again = dump(&mut r, k).await.unwrap();
        let back = format!("back:{k}");
        assert_eq!(
            restore(&mut c, &back, 0, &again, &[]).await,
            Ok(ok()),
            "{k}"
        );
        assert_eq!(
            contents(&mut c, &back).await,
            contents(&mut c, k).await,
            "{k}"
        );
    }
    // Restored streams keep working in redis: XADD after the last ID, reads by group.
    let id: String = q(&mut r, &["XADD", "stream:full", "*", "a", "b"]).await;
    assert!(!id.is_empty());
    let claimed = qv(
        &mut r,
        &["XCLAIM", "stream:full", "g1", "zed", "0", "1000-1"],
    )
    .await;
    assert!(
        matches!(claimed, Value::Array(ref v) if v.len() == 1),
        "{claimed:?}"
    );
}

#[tokio::test]
async fn ttl_absttl_replace_and_busykey() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    run(&mut c, &s(&["SET", "src", "v"])).await;
    let p = dump(&mut c, "src").await.unwrap();

    assert_eq!(
        restore(&mut c, "src", 0, &p, &[]).await,
        Err("BUSYKEY Target key name already exists.".into())
    );
    // TTL in milliseconds, relative.
    assert_eq!(restore(&mut c, "t1", 100_000, &p, &[]).await, Ok(ok()));
    let pttl: i64 = q(&mut c, &["PTTL", "t1"]).await;
    assert!((1..=100_000).contains(&pttl), "{pttl}");
    // ABSTTL: an absolute unix time in ms.
    let at = 4_000_000_000_000i64;
    assert_eq!(restore(&mut c, "t2", at, &p, &["ABSTTL"]).await, Ok(ok()));
    assert_eq!(q::<i64>(&mut c, &["PEXPIRETIME", "t2"]).await, at);
    // A deadline in the past: OK, and the key is not created...
    assert_eq!(restore(&mut c, "t3", 1, &p, &["ABSTTL"]).await, Ok(ok()));
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "t3"]).await, 0);
    // ... and with REPLACE the old value goes.
    assert_eq!(
        restore(&mut c, "t2", 1, &p, &["ABSTTL", "REPLACE"]).await,
        Ok(ok())
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "t2"]).await, 0);
    // REPLACE over another type; the TTL of the old key does not survive.
    run(&mut c, &s(&["RPUSH", "l", "a"])).await;
    run(&mut c, &s(&["PEXPIRE", "l", "100000"])).await;
    assert_eq!(restore(&mut c, "l", 0, &p, &["REPLACE"]).await, Ok(ok()));
    assert_eq!(qv(&mut c, &["GET", "l"]).await, bulk("v"));
    assert_eq!(q::<i64>(&mut c, &["PTTL", "l"]).await, -1);
    // A collection over a string, with a TTL.
    run(&mut c, &s(&["SADD", "set", "x", "y"])).await;
    let ps = dump(&mut c, "set").await.unwrap();
    assert_eq!(
        restore(&mut c, "src", 50_000, &ps, &["REPLACE"]).await,
        Ok(ok())
    );
    assert_eq!(q::<i64>(&mut c, &["SCARD", "src"]).await, 2);
    assert!(q::<i64>(&mut c, &["PTTL", "src"]).await > 0);
    // An expired key does not count as existing.
    run(&mut c, &s(&["SET", "gone", "x", "PX", "1"])).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(restore(&mut c, "gone", 0, &p, &[]).await, Ok(ok()));
    assert_eq!(qv(&mut c, &["GET", "gone"]).await, bulk("v"));

    // IDLETIME and FREQ are accepted (and have no effect here).
    assert_eq!(
        restore(&mut c, "i1", 0, &p, &["IDLETIME", "100"]).await,
        Ok(ok())
    );
    assert_eq!(restore(&mut c, "i2", 0, &p, &["FREQ", "5"]).await, Ok(ok()));
    assert_eq!(
        restore(
            &mut c,
            "i3",
            0,
            &p,
            &["replace", "absttl", "idletime", "0", "IDLETIME", "7"]
        )
        .await,
        Ok(ok())
    );
}

#[tokio::test]
async fn option_and_argument_errors() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    run(&mut c, &s(&["SET", "src", "v"])).await;
    let p = dump(&mut c, "src").await.unwrap();
    let syntax = Err("ERR syntax error".to_string());
    let not_int = Err("ERR value is not an integer or out of range".to_string());
    let cases: Vec<(i64, Vec<&str>, Result<Value, String>)> = vec![
        (0, vec!["bogus"], syntax.clone()),
        (0, vec!["IDLETIME"], syntax.clone()),
        (0, vec!["FREQ"], syntax.clone()),
        (0, vec!["IDLETIME", "1", "FREQ", "1"], syntax.clone()),
        (0, vec!["FREQ", "1", "IDLETIME", "1"], syntax.clone()),
        (0, vec!["IDLETIME", "x"], not_int.clone()),
        (0, vec!["FREQ", "1.5"], not_int.clone()),
        (
            0,
            vec!["IDLETIME", "-1"],
            Err("ERR Invalid IDLETIME value, must be >= 0".into()),
        ),
        (
            0,
            vec!["FREQ", "256"],
            Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into()),
        ),
        (
            0,
            vec!["FREQ", "-1"],
            Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into()),
        ),
        (
            -1,
            vec![],
            Err("ERR Invalid TTL value, must be >= 0".into()),
        ),
    ];
    for (ttl, opts, want) in cases {
        assert_eq!(restore(&mut c, "k", ttl, &p, &opts).await, want, "{opts:?}");
    }
    assert_eq!(
        qe(&mut c, &["RESTORE", "k", "abc", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["RESTORE", "k", "0"]).await,
        "ERR wrong number of arguments for 'restore' command"
    );
    assert_eq!(
        qe(&mut c, &["DUMP"]).await,
        "ERR wrong number of arguments for 'dump' command"
    );
    // Option errors come before BUSYKEY. (Redis also checks BUSYKEY before the TTL and the
    // payload; raftrocks checks those on the leader first: see docs/encoding.md.)
    assert_eq!(restore(&mut c, "src", 0, &p, &["bogus"]).await, syntax);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
}

/// Seals an object (type byte + body) with a version and a correct CRC.
fn seal(object: &[u8], version: u16) -> Vec<u8> {
    let mut p = object.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = crc::Crc::<u64>::new(&crc::CRC_64_REDIS).checksum(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[tokio::test]
async fn corrupted_payloads_are_refused() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let mut big = s(&["RPUSH", "l"]);
    big.extend((0..500).map(|i| format!("element-{i}")));
    run(&mut c, &big).await;
    let p = dump(&mut c, "l").await.unwrap();
    let checksum = Err("ERR DUMP payload version or checksum are wrong".to_string());
    let bad = Err("ERR Bad data format".to_string());

    // Truncated anywhere, or one byte changed: the CRC no longer matches.
    for cut in [0, 1, 5, 9, 10, p.len() / 2, p.len() - 1] {
        assert_eq!(
            restore(&mut c, "k", 0, &p[..cut], &[]).await,
            checksum,
            "cut {cut}"
        );
    }
    for at in [0, 1, p.len() / 3, p.len() - 11, p.len() - 10, p.len() - 1] {
        let mut m = p.clone();
        m[at] ^= 0x20;
        assert_eq!(
            restore(&mut c, "k", 0, &m, &[]).await,
            checksum,
            "flip {at}"
        );
    }
    // A newer RDB version.
    let object = &p[..p.len() - 10];
    assert_eq!(
        restore(&mut c, "k", 0, &seal(object, 11), &[]).await,
        checksum
    );
    assert_eq!(
        restore(&mut c, "k", 0, &seal(object, 9), &[]).await,
        Ok(ok())
    );
    run(&mut c, &s(&["DEL", "k"])).await;

    // Correct CRC around malformed objects.
    let huge_len = |t: u8| {
        let mut o = vec![t, 0x81];
        o.extend_from_slice(&u64::MAX.to_be_bytes());
        o.extend_from_slice(b"abc");
        o
    };
    let mut objects: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![42, 1, b'a'],                                       // unknown type
        vec![2, 0],                                              // empty set
        vec![2, 2, 1, b'a', 1, b'a'],                            // duplicate set member
        vec![4, 1, 1, b'f'],                                     // hash without a value
        vec![18, 1, 7, 1, b'x'],                                 // unknown quicklist container
        vec![18, 1, 2, 3, 1, 2, 3],                              // not a listpack
        vec![0, 0xc3, 2, 0x80, 0xff, 0xff, 0xff, 0xff, 0, b'a'], // LZF claiming 4 GiB
        vec![0, 0xc3, 3, 5, 1, b'a', b'b'], // LZF expanding to the wrong length
        vec![5, 1, 1, b'm', 0, 0, 0, 0, 0, 0, 0xf8, 0x7f], // NaN score
    ];
    for t in [0u8, 1, 2, 3, 4, 5, 11, 13, 16, 17, 18, 19] {
        objects.push(huge_len(t));
        let mut o = vec![t, 0x80, 0xff, 0xff, 0xff, 0xf0];
        o.extend_from_slice(&[1; 20]);
        objects.push(o);
    }
    // Bytes after the object are ignored (as Redis does).
    assert_eq!(
        restore(&mut c, "t", 0, &seal(&[0, 1, b'a', b'b'], 10), &[]).await,
        Ok(ok())
    );
    assert_eq!(qv(&mut c, &["GET", "t"]).await, bulk("a"));
    // Every truncation of a valid object.
    for cut in 0..object.len().min(200) {
        objects.push(object[..cut].to_vec());
    }
    for o in &objects {
        assert_eq!(
            restore(&mut c, "k", 0, &seal(o, 10), &[]).await,
            bad,
            "{o:?}"
        );
    }
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]).await, 0);
    // The server is fine.
    assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]).await, 500);
}

#[tokio::test]
async fn dump_inside_multi_and_restore_then_read() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    run(&mut c, &s(&["HSET", "h", "a", "1"])).await;
    let p = dump(&mut c, "h").await.unwrap();
    // Inside a transaction DUMP sees the transaction's own earlier writes.
    let (_, got): (Value, Vec<u8>) = redis::pipe()
        .atomic()
        .cmd("HSET")
        .arg("h")
        .arg("b")
        .arg("2")
        .cmd("DUMP")
        .arg("h")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_ne!(got, p);
    assert_eq!(restore(&mut c, "h2", 0, &got, &[]).await, Ok(ok()));
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h2"]).await, 2);
    // A restored collection behaves like one written by commands.
    assert_eq!(q::<i64>(&mut c, &["HSET", "h2", "c", "3"]).await, 1);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "h2", "a", "b", "c"]).await, 3);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "h2"]).await, 0);
    run(&mut c, &s(&["RPUSH", "l", "a", "b", "c"])).await;
    let pl = dump(&mut c, "l").await.unwrap();
    assert_eq!(restore(&mut c, "l2", 0, &pl, &[]).await, Ok(ok()));
    assert_eq!(q::<i64>(&mut c, &["LPUSH", "l2", "z"]).await, 4);
    assert_eq!(qv(&mut c, &["LINDEX", "l2", "-1"]).await, bulk("c"));
    assert_eq!(qv(&mut c, &["RPOP", "l2"]).await, bulk("c"));
    run(&mut c, &s(&["ZADD", "z", "2", "b", "1", "a"])).await;
    let pz = dump(&mut c, "z").await.unwrap();
    assert_eq!(restore(&mut c, "z2", 0, &pz, &[]).await, Ok(ok()));
    assert_eq!(qv(&mut c, &["ZRANK", "z2", "b"]).await, int(1));
    assert_eq!(qv(&mut c, &["ZSCORE", "z2", "a"]).await, bulk("1"));
    // Sets: SREM, SRANDMEMBER and SPOP work on a restored set until it is empty (they use
    // the set's position index, which RESTORE must build).
    run(&mut c, &s(&["SADD", "s", "a", "b", "c", "d"])).await;
    let ps = dump(&mut c, "s").await.unwrap();
    assert_eq!(restore(&mut c, "s2", 0, &ps, &[]).await, Ok(ok()));
    assert_eq!(q::<i64>(&mut c, &["SREM", "s2", "a"]).await, 1);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["SRANDMEMBER", "s2", "-20"])
            .await
            .len(),
        20
    );
    let mut popped: Vec<String> = Vec::new();
    for _ in 0..3 {
        popped.push(q(&mut c, &["SPOP", "s2"]).await);
    }
    popped.sort();
    assert_eq!(popped, vec!["b", "c", "d"]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s2"]).await, 0);
}

/// DUMP reads a collection at one instant: with a writer changing two fields together in one
/// command, every dumped copy has them equal.
#[tokio::test]
async fn dump_sees_one_instant() {
    let srv = TestServer::start();
    let mut w = srv.client().await;
    let mut r = srv.client().await;
    let mut fill = s(&["HSET", "h"]);
    for i in 0..300 {
        fill.push(format!("f{i}"));
        fill.push("0".into());
    }
    run(&mut w, &fill).await;
    let writer = tokio::spawn(async move {
        for i in 1..=200 {
            let n = i.to_string();
            run(&mut w, &s(&["HSET", "h", "f0", &n, "f299", &n])).await;
        }
    });
    for i in 0..50 {
        let p = dump(&mut r, "h").await.unwrap();
        let copy = format!("copy{i}");
        assert_eq!(restore(&mut r, &copy, 0, &p, &[]).await, Ok(ok()));
        let v: Vec<String> = q(&mut r, &["HMGET", &copy, "f0", "f299"]).await;
        assert_eq!(v[0], v[1], "dump {i}");
    }
    writer.await.unwrap();
}
