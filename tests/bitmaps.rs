//! Bitmap commands on string values: Redis 7.0 replies and error strings (the suite also
//! passes against a real Redis: `RAFTROCKS_TEST_TARGET=redis`).

#[macro_use]
mod common;

use common::*;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

async fn get_bytes(c: &mut Conn, key: &str) -> Vec<u8> {
    match qv(c, &["GET", key]).await {
        Value::BulkString(b) => b,
        other => panic!("GET {key}: {other:?}"),
    }
}

async fn set_bytes(c: &mut Conn, key: &str, v: &[u8]) {
    let r: Value = cmd_bytes(&[b"SET", key.as_bytes(), v])
        .query_async(c)
        .await
        .unwrap();
    assert_eq!(r, ok());
}

/// A hash key for WRONGTYPE checks, or None where hashes do not exist yet.
async fn make_hash(c: &mut Conn, key: &str) -> Option<()> {
    match qr(c, &["HSET", key, "f", "v"]).await {
        Ok(_) => Some(()),
        Err(e) if e.starts_with("ERR unknown command") => None,
        Err(e) => panic!("HSET: {e}"),
    }
}

#[tokio::test]
async fn setbit_getbit() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SETBIT", "k", "7", "1"]).await, int(0));
    assert_eq!(get_bytes(&mut c, "k").await, b"\x01");
    assert_eq!(qv(&mut c, &["SETBIT", "k", "7", "1"]).await, int(1));
    assert_eq!(qv(&mut c, &["SETBIT", "k", "0", "1"]).await, int(0));
    assert_eq!(qv(&mut c, &["SETBIT", "k", "17", "0"]).await, int(0));
    assert_eq!(get_bytes(&mut c, "k").await, b"\x81\x00\x00");
    assert_eq!(qv(&mut c, &["GETBIT", "k", "0"]).await, int(1));
    assert_eq!(qv(&mut c, &["GETBIT", "k", "1"]).await, int(0));
    assert_eq!(qv(&mut c, &["GETBIT", "k", "100000"]).await, int(0));
    assert_eq!(qv(&mut c, &["GETBIT", "missing", "3"]).await, int(0));
    assert_eq!(qv(&mut c, &["SETBIT", "k", "7", "0"]).await, int(1));
    assert_eq!(get_bytes(&mut c, "k").await, b"\x80\x00\x00");

    // SETBIT works on any string and keeps its TTL.
    assert_eq!(qv(&mut c, &["SET", "s", "a", "EX", "1000"]).await, ok());
    assert_eq!(qv(&mut c, &["SETBIT", "s", "6", "1"]).await, int(0));
    assert_eq!(qv(&mut c, &["GET", "s"]).await, bulk("c"));
    let ttl: i64 = q(&mut c, &["TTL", "s"]).await;
    assert!(ttl > 900, "{ttl}");

    for (off, bit, err) in [
        ("-1", "1", BAD_OFFSET),
        ("x", "1", BAD_OFFSET),
        ("01", "1", BAD_OFFSET),
        ("4294967296", "1", BAD_OFFSET),
        ("4294967296", "x", BAD_OFFSET),
        ("1", "2", BAD_BIT),
        ("1", "-1", BAD_BIT),
        ("1", "x", BAD_BIT),
    ] {
        assert_eq!(
            qe(&mut c, &["SETBIT", "k", off, bit]).await,
            err,
            "{off} {bit}"
        );
    }
    assert_eq!(qe(&mut c, &["GETBIT", "k", "-1"]).await, BAD_OFFSET);
    assert_eq!(qe(&mut c, &["GETBIT", "k", "4294967296"]).await, BAD_OFFSET);
    assert_eq!(qv(&mut c, &["GETBIT", "k", "4294967295"]).await, int(0));
    if make_hash(&mut c, "h").await.is_some() {
        assert_eq!(qe(&mut c, &["SETBIT", "h", "1", "1"]).await, WRONGTYPE);
        assert_eq!(qe(&mut c, &["GETBIT", "h", "1"]).await, WRONGTYPE);
    }
}

#[tokio::test]
async fn bitcount_ranges() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SET", "s", "foobar"]).await, ok());
    for (args, n) in [
        (&["BITCOUNT", "s"][..], 26),
        (&["BITCOUNT", "s", "0", "0"], 4),
        (&["BITCOUNT", "s", "1", "1"], 6),
        (&["BITCOUNT", "s", "1", "1", "BYTE"], 6),
        (&["BITCOUNT", "s", "5", "30", "BIT"], 17),
        (&["BITCOUNT", "s", "-2", "-1"], 7),
        (&["BITCOUNT", "s", "-1", "-2"], 0),
        (&["BITCOUNT", "s", "-5", "-1", "bit"], 2),
        (&["BITCOUNT", "s", "-100", "100"], 26),
        (&["BITCOUNT", "s", "4", "2"], 0),
        (&["BITCOUNT", "missing"], 0),
        // A missing key is 0 before the arguments are even parsed.
        (&["BITCOUNT", "missing", "x"], 0),
    ] {
        assert_eq!(qv(&mut c, args).await, int(n), "{args:?}");
    }
    assert_eq!(
        qe(&mut c, &["BITCOUNT", "s", "1"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["BITCOUNT", "s", "1", "2", "bits"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["BITCOUNT", "s", "1", "2", "bit", "x"]).await,
        "ERR syntax error"
    );
    assert_eq!(qe(&mut c, &["BITCOUNT", "s", "a", "1"]).await, NOT_INT);
    set_bytes(&mut c, "e", b"").await;
    assert_eq!(qv(&mut c, &["BITCOUNT", "e", "0", "-1"]).await, int(0));
    if make_hash(&mut c, "h").await.is_some() {
        assert_eq!(qe(&mut c, &["BITCOUNT", "h"]).await, WRONGTYPE);
    }
}

#[tokio::test]
async fn bitpos_ranges() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    set_bytes(&mut c, "s", b"\xff\xf0\x00").await;
    for (args, n) in [
        (&["BITPOS", "s", "0"][..], 12),
        (&["BITPOS", "s", "1"], 0),
        (&["BITPOS", "s", "1", "2"], -1),
        (&["BITPOS", "s", "0", "2", "-1"], 16),
        (&["BITPOS", "s", "1", "7", "15", "BIT"], 7),
        (&["BITPOS", "s", "0", "7", "15", "bit"], 12),
        (&["BITPOS", "s", "0", "0", "11", "bit"], -1),
        (&["BITPOS", "s", "1", "-1", "-1", "byte"], -1),
        (&["BITPOS", "s", "0", "5", "1"], -1),
        (&["BITPOS", "missing", "0"], 0),
        (&["BITPOS", "missing", "1"], -1),
        (&["BITPOS", "missing", "1", "x"], -1),
    ] {
        assert_eq!(qv(&mut c, args).await, int(n), "{args:?}");
    }
    // No explicit end: the string continues with zeros.
    set_bytes(&mut c, "ones", b"\xff\xff").await;
    assert_eq!(qv(&mut c, &["BITPOS", "ones", "0"]).await, int(16));
    assert_eq!(qv(&mut c, &["BITPOS", "ones", "0", "1"]).await, int(16));
    assert_eq!(
        qv(&mut c, &["BITPOS", "ones", "0", "0", "-1"]).await,
        int(-1)
    );
    assert_eq!(
        qe(&mut c, &["BITPOS", "s", "2"]).await,
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(qe(&mut c, &["BITPOS", "s", "x"]).await, NOT_INT);
    assert_eq!(qe(&mut c, &["BITPOS", "s", "1", "x"]).await, NOT_INT);
    assert_eq!(
        qe(&mut c, &["BITPOS", "s", "1", "0", "1", "bits"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["BITPOS", "s", "1", "0", "1", "bit", "x"]).await,
        "ERR syntax error"
    );
    if make_hash(&mut c, "h").await.is_some() {
        assert_eq!(qe(&mut c, &["BITPOS", "h", "1"]).await, WRONGTYPE);
    }
}

#[tokio::test]
async fn bitop() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    set_bytes(&mut c, "a", b"\x0f\xf0abc").await;
    set_bytes(&mut c, "b", b"\xff").await;
    set_bytes(&mut c, "e", b"").await;
    assert_eq!(qv(&mut c, &["BITOP", "AND", "d", "a", "b"]).await, int(5));
    assert_eq!(get_bytes(&mut c, "d").await, b"\x0f\x00\x00\x00\x00");
    assert_eq!(
        qv(&mut c, &["BITOP", "or", "d", "a", "b", "missing"]).await,
        int(5)
    );
    assert_eq!(get_bytes(&mut c, "d").await, b"\xff\xf0abc");
    assert_eq!(
        qv(&mut c, &["BITOP", "Xor", "d", "a", "b", "e"]).await,
        int(5)
    );
    assert_eq!(get_bytes(&mut c, "d").await, b"\xf0\xf0abc");
    assert_eq!(qv(&mut c, &["BITOP", "NOT", "d", "b"]).await, int(1));
    assert_eq!(get_bytes(&mut c, "d").await, b"\x00");
    // The destination may be a source; an empty result deletes it; any TTL goes.
    assert_eq!(qv(&mut c, &["BITOP", "NOT", "a", "a"]).await, int(5));
    assert_eq!(get_bytes(&mut c, "a").await, b"\xf0\x0f\x9e\x9d\x9c");
    assert_eq!(
        qv(&mut c, &["BITOP", "AND", "d", "e", "missing"]).await,
        int(0)
    );
    assert_eq!(qv(&mut c, &["EXISTS", "d"]).await, int(0));
    assert_eq!(qv(&mut c, &["SET", "t", "x", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["BITOP", "OR", "t", "b"]).await, int(1));
    assert_eq!(qv(&mut c, &["TTL", "t"]).await, int(-1));

    assert_eq!(
        qe(&mut c, &["BITOP", "NOT", "d", "a", "b"]).await,
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(
        qe(&mut c, &["BITOP", "NAND", "d", "a"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["BITOP", "AND", "d"]).await,
        "ERR wrong number of arguments for 'bitop' command"
    );
    if make_hash(&mut c, "h").await.is_some() {
        assert_eq!(
            qe(&mut c, &["BITOP", "AND", "d", "a", "h"]).await,
            WRONGTYPE
        );
        // The destination's type does not matter: it is overwritten.
        assert_eq!(qv(&mut c, &["BITOP", "AND", "h", "b"]).await, int(1));
        assert_eq!(
            qv(&mut c, &["TYPE", "h"]).await,
            Value::SimpleString("string".into())
        );
    }
}

#[tokio::test]
async fn bitfield() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(
        qv(
            &mut c,
            &["BITFIELD", "f", "SET", "u5", "7", "23", "GET", "u5", "7", "GET", "i5", "7"]
        )
        .await,
        arr(vec![int(0), int(23), int(-9)])
    );
    assert_eq!(get_bytes(&mut c, "f").await, b"\x01\x70");
    // `#N` offsets are multiples of the type's width.
    assert_eq!(
        qv(
            &mut c,
            &["BITFIELD", "f", "SET", "i8", "#2", "-1", "GET", "u8", "#2", "GET", "u4", "20"]
        )
        .await,
        arr(vec![int(0), int(255), int(15)])
    );
    assert_eq!(get_bytes(&mut c, "f").await, b"\x01\x70\xff");

    // Overflow policies apply to the operations after them.
    assert_eq!(
        qv(
            &mut c,
            &[
                "BITFIELD", "o", "SET", "u8", "0", "250", "INCRBY", "u8", "0", "10", "OVERFLOW",
                "SAT", "INCRBY", "u8", "0", "300", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1",
                "INCRBY", "i8", "8", "-129", "OVERFLOW", "wrap", "INCRBY", "i8", "8", "-129",
                "SET", "u63", "16", "-1", "GET", "i64", "16"
            ]
        )
        .await,
        arr(vec![
            int(0),
            int(4),
            int(255),
            nil(),
            nil(),
            int(127),
            int(0),
            int(-2)
        ])
    );
    assert_eq!(
        qv(
            &mut c,
            &[
                "BITFIELD",
                "o",
                "OVERFLOW",
                "SAT",
                "INCRBY",
                "i64",
                "16",
                "-9223372036854775808"
            ]
        )
        .await,
        arr(vec![int(i64::MIN)])
    );

    // Only GETs: a missing key stays missing; no subcommand at all is an empty reply.
    assert_eq!(
        qv(&mut c, &["BITFIELD", "missing", "GET", "u8", "0"]).await,
        arr(vec![int(0)])
    );
    assert_eq!(qv(&mut c, &["EXISTS", "missing"]).await, int(0));
    assert_eq!(qv(&mut c, &["BITFIELD", "missing"]).await, arr(vec![]));
    // A failed write still creates the zero-padded string, as Redis does.
    assert_eq!(
        qv(
            &mut c,
            &["BITFIELD", "new", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "5"]
        )
        .await,
        arr(vec![nil()])
    );
    assert_eq!(get_bytes(&mut c, "new").await, vec![0u8; 13]);

    assert_eq!(
        qv(
            &mut c,
            &["BITFIELD_RO", "f", "GET", "u8", "16", "GET", "i4", "#5"]
        )
        .await,
        arr(vec![int(255), int(-1)])
    );
    assert_eq!(qv(&mut c, &["BITFIELD_RO", "f"]).await, arr(vec![]));
    assert_eq!(
        qe(&mut c, &["BITFIELD_RO", "f", "SET", "u8", "0", "1"]).await,
        "ERR BITFIELD_RO only supports the GET subcommand"
    );

    for (args, err) in [
        (&["BITFIELD", "f", "GET", "u64", "0"][..], BAD_TYPE),
        (&["BITFIELD", "f", "GET", "i65", "0"], BAD_TYPE),
        (&["BITFIELD", "f", "GET", "I8", "0"], BAD_TYPE),
        (&["BITFIELD", "f", "GET", "u0", "0"], BAD_TYPE),
        (&["BITFIELD", "f", "GET", "u8", "-1"], BAD_OFFSET),
        (&["BITFIELD", "f", "GET", "u8", "#-1"], BAD_OFFSET),
        (&["BITFIELD", "f", "GET", "u8", "4294967296"], BAD_OFFSET),
        (
            &["BITFIELD", "f", "GET", "u8", "4294967296", "GET", "x8", "0"],
            BAD_OFFSET,
        ),
        (
            &["BITFIELD", "f", "GET", "x8", "0", "GET", "u8", "4294967296"],
            BAD_TYPE,
        ),
        (&["BITFIELD", "f", "SET", "u8", "0", "x"], NOT_INT),
        (&["BITFIELD", "f", "INCRBY", "u8", "0", "1.5"], NOT_INT),
        (&["BITFIELD", "f", "GET", "u8"], "ERR syntax error"),
        (&["BITFIELD", "f", "FOO"], "ERR syntax error"),
        (&["BITFIELD", "f", "OVERFLOW"], "ERR syntax error"),
        (
            &["BITFIELD", "f", "OVERFLOW", "foo"],
            "ERR Invalid OVERFLOW type specified",
        ),
        (&["BITFIELD_RO", "f", "GET", "x8", "0"], BAD_TYPE),
        (&["BITFIELD_RO", "f", "INCRBY", "u8", "0", "x"], NOT_INT),
    ] {
        assert_eq!(qe(&mut c, args).await, err, "{args:?}");
    }
    // Nothing above changed the value.
    assert_eq!(get_bytes(&mut c, "f").await, b"\x01\x70\xff");
    if make_hash(&mut c, "h").await.is_some() {
        assert_eq!(
            qe(&mut c, &["BITFIELD", "h", "GET", "u8", "0"]).await,
            WRONGTYPE
        );
        assert_eq!(
            qe(&mut c, &["BITFIELD", "h", "SET", "u8", "0", "1"]).await,
            WRONGTYPE
        );
        assert_eq!(
            qe(&mut c, &["BITFIELD_RO", "h", "GET", "u8", "0"]).await,
            WRONGTYPE
        );
    }
}

#[tokio::test]
async fn resp3_null_for_failed_bitfield() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let _ = c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u1", "0", "2", "GET", "u1", "0"]),
        Reply::Array(vec![Reply::Null, Reply::Int(0)])
    );
    assert_eq!(c.cmd(&["SETBIT", "k", "0", "1"]), Reply::Int(0));
    assert_eq!(c.cmd(&["BITCOUNT", "k"]), Reply::Int(1));
}

#[tokio::test]
async fn bitops_inside_multi() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    match c.cmd(&["MULTI"]) {
        Reply::Error(e) if e.starts_with("ERR unknown command") => return, // not merged yet
        r => assert_eq!(r, Reply::ok()),
    }
    for cmd in [
        &["SETBIT", "m", "3", "1"][..],
        &["GETBIT", "m", "3"],
        &["BITCOUNT", "m"],
        &["BITFIELD_RO", "m", "GET", "u4", "0"],
        &["PFADD", "p", "x"],
        &["PFCOUNT", "p"],
    ] {
        assert_eq!(c.cmd(cmd), Reply::Simple("QUEUED".into()));
    }
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![
            Reply::Int(0),
            Reply::Int(1),
            Reply::Int(1),
            Reply::Array(vec![Reply::Int(1)]),
            Reply::Int(1),
            Reply::Int(1),
        ])
    );
}

/// With several slot groups, BITOP and PFMERGE (atomic over their keys) refuse keys of
/// different groups, while PFCOUNT of several keys reads across them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_slot_groups() {
    if skip_on_redis("across_slot_groups") {
        return;
    }
    let srv = TestServer::builder()
        .extra_args(&["--slot-groups", "4"])
        .start();
    let mut c = srv.client().await;
    // One key in group 0 and one in another group (group = slot / 4096).
    let (mut a, mut b) = (None, None);
    let mut i = 0;
    while a.is_none() || b.is_none() {
        let key = format!("key{i}");
        let slot: i64 = q(&mut c, &["CLUSTER", "KEYSLOT", &key]).await;
        if slot / 4096 == 0 {
            a.get_or_insert(key);
        } else {
            b.get_or_insert(key);
        }
        i += 1;
    }
    let (a, b) = (a.unwrap(), b.unwrap());
    const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";
    assert_eq!(qv(&mut c, &["SETBIT", &a, "0", "1"]).await, int(0));
    assert_eq!(qe(&mut c, &["BITOP", "OR", &a, &a, &b]).await, CROSSSLOT);
    let _: i64 = q(&mut c, &["DEL", &a]).await;
    assert_eq!(qv(&mut c, &["PFADD", &a, "x", "y"]).await, int(1));
    assert_eq!(qv(&mut c, &["PFADD", &b, "y", "z"]).await, int(1));
    assert_eq!(qv(&mut c, &["PFCOUNT", &a, &b]).await, int(3));
    assert_eq!(qe(&mut c, &["PFMERGE", &a, &b]).await, CROSSSLOT);
    assert_eq!(qv(&mut c, &["PFCOUNT", &a]).await, int(2));
}
