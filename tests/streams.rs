//! Stream commands: Redis 7.0 replies, reply shapes (RESP2 and RESP3) and error strings.
//! Explicit IDs everywhere a reply is compared, since `*` IDs depend on the clock.

#[macro_use]
mod common;

use common::*;

/// `[id, [f1, v1, ...]]`, as an entry appears in XRANGE and friends.
fn entry(id: &str, fields: &[&str]) -> Value {
    arr(vec![bulk(id), bulks(fields)])
}

async fn fill(c: &mut Conn, key: &str, ids: &[&str]) {
    for (i, id) in ids.iter().enumerate() {
        let v = format!("v{i}");
        let r: String = q(c, &["XADD", key, id, "f", &v]).await;
        assert_eq!(&r, id);
    }
}

#[tokio::test]
async fn xadd_ids_and_errors() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(
        qe(&mut c, &["XADD", "s", "0-0", "a", "b"]).await,
        "ERR The ID specified in XADD must be greater than 0-0"
    );
    assert_eq!(qv(&mut c, &["EXISTS", "s"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["XADD", "s", "1-1", "a", "b"]).await,
        bulk("1-1")
    );
    assert_eq!(
        qe(&mut c, &["XADD", "s", "1-1", "a", "b"]).await,
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(
        qe(&mut c, &["XADD", "s", "1", "a"]).await,
        "ERR wrong number of arguments for 'xadd' command"
    );
    assert_eq!(
        qe(&mut c, &["XADD", "s", "1-x", "a", "b"]).await,
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        qe(&mut c, &["XADD", "s", "-", "a", "b"]).await,
        "ERR Invalid stream ID specified as stream command argument"
    );
    // `<ms>` alone means seq 0; `<ms>-*` picks the next sequence.
    assert_eq!(qv(&mut c, &["XADD", "s", "5", "a", "b"]).await, bulk("5-0"));
    assert_eq!(
        qv(&mut c, &["XADD", "s", "5-*", "a", "b"]).await,
        bulk("5-1")
    );
    assert_eq!(
        qv(&mut c, &["XADD", "s", "6-*", "a", "b"]).await,
        bulk("6-0")
    );
    assert_eq!(
        qe(&mut c, &["XADD", "s", "4-*", "a", "b"]).await,
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    // `*` is after the top item.
    let id: String = q(&mut c, &["XADD", "s", "*", "a", "b"]).await;
    let (ms, seq) = id.split_once('-').unwrap();
    assert!(ms.parse::<u64>().unwrap() > 6 && seq.parse::<u64>().is_ok());

    // NOMKSTREAM on a missing key: nil, and nothing created.
    assert_eq!(
        qv(&mut c, &["XADD", "nokey", "NOMKSTREAM", "*", "a", "b"]).await,
        nil()
    );
    assert_eq!(qv(&mut c, &["EXISTS", "nokey"]).await, int(0));

    // The last possible ID exhausts the stream.
    let max = "18446744073709551615-18446744073709551615";
    assert_eq!(qv(&mut c, &["XADD", "m", max, "a", "b"]).await, bulk(max));
    assert_eq!(
        qe(&mut c, &["XADD", "m", "*", "a", "b"]).await,
        "ERR The stream has exhausted the last possible ID, unable to add more items"
    );

    // Option errors.
    for (args, err) in [
        (
            vec!["XADD", "s", "MAXLEN", "-1", "*", "a", "b"],
            "ERR The MAXLEN argument must be >= 0.",
        ),
        (
            vec!["XADD", "s", "MAXLEN", "1", "LIMIT", "5", "*", "a", "b"],
            "ERR syntax error, LIMIT cannot be used without the special ~ option",
        ),
        (
            vec!["XADD", "s", "LIMIT", "5", "*", "a", "b"],
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ),
        (
            vec!["XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a", "b"],
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
        ),
        (
            vec!["XADD", "s", "MINID", "x", "*", "a", "b"],
            "ERR Invalid stream ID specified as stream command argument",
        ),
        (
            vec!["XADD", "s", "MAXLEN", "x", "*", "a", "b"],
            "ERR value is not an integer or out of range",
        ),
        (
            vec!["XADD", "s", "*", "a", "b", "c"],
            "ERR wrong number of arguments for 'xadd' command",
        ),
    ] {
        assert_eq!(qe(&mut c, &args).await, err, "{args:?}");
    }

    // WRONGTYPE.
    assert_eq!(qv(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(
        qe(&mut c, &["XADD", "str", "*", "a", "b"]).await,
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(
        qv(&mut c, &["TYPE", "s"]).await,
        Value::SimpleString("stream".into())
    );
}

#[tokio::test]
async fn xrange_xrevrange_xlen_binary() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    fill(&mut c, "s", &["1-0", "1-1", "2-0", "3-5"]).await;
    assert_eq!(qv(&mut c, &["XLEN", "s"]).await, int(4));
    assert_eq!(qv(&mut c, &["XLEN", "nokey"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["XRANGE", "s", "-", "+"]).await,
        arr(vec![
            entry("1-0", &["f", "v0"]),
            entry("1-1", &["f", "v1"]),
            entry("2-0", &["f", "v2"]),
            entry("3-5", &["f", "v3"]),
        ])
    );
    // `1` as a start means 1-0, as an end 1-<max>.
    assert_eq!(
        qv(&mut c, &["XRANGE", "s", "1", "1"]).await,
        arr(vec![entry("1-0", &["f", "v0"]), entry("1-1", &["f", "v1"])])
    );
    assert_eq!(
        qv(&mut c, &["XRANGE", "s", "(1-0", "(3-5"]).await,
        arr(vec![entry("1-1", &["f", "v1"]), entry("2-0", &["f", "v2"])])
    );
    assert_eq!(
        qv(&mut c, &["XREVRANGE", "s", "+", "-", "COUNT", "2"]).await,
        arr(vec![entry("3-5", &["f", "v3"]), entry("2-0", &["f", "v2"])])
    );
    assert_eq!(
        qv(&mut c, &["XREVRANGE", "s", "(2-0", "-"]).await,
        arr(vec![entry("1-1", &["f", "v1"]), entry("1-0", &["f", "v0"])])
    );
    assert_eq!(qv(&mut c, &["XRANGE", "s", "+", "-"]).await, arr(vec![]));
    assert_eq!(
        qv(&mut c, &["XRANGE", "nokey", "-", "+"]).await,
        arr(vec![])
    );
    // COUNT 0 (and negative) reply a null array.
    assert_eq!(
        qv(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "0"]).await,
        nil()
    );
    assert_eq!(
        qv(&mut c, &["XRANGE", "s", "-", "+", "COUNT", "-3"]).await,
        nil()
    );
    assert_eq!(
        qe(&mut c, &["XRANGE", "s", "x", "+"]).await,
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        qe(&mut c, &["XRANGE", "s", "(-", "+"]).await,
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        qe(
            &mut c,
            &[
                "XRANGE",
                "s",
                "(18446744073709551615-18446744073709551615",
                "+"
            ]
        )
        .await,
        "ERR invalid start ID for the interval"
    );
    assert_eq!(
        qe(&mut c, &["XRANGE", "s", "-", "(0-0"]).await,
        "ERR invalid end ID for the interval"
    );
    assert_eq!(
        qe(&mut c, &["XRANGE", "s", "-", "+", "FOO"]).await,
        "ERR syntax error"
    );

    // Binary fields and values round-trip.
    let f: &[u8] = b"f\x00\r\n\xff";
    let v: &[u8] = b"\x00\x01v\r\n";
    let r: Value = cmd_bytes(&[b"XADD", b"bin", b"1-0", f, v, b"", b""])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(r, bulk("1-0"));
    assert_eq!(
        qv(&mut c, &["XRANGE", "bin", "-", "+"]).await,
        arr(vec![arr(vec![
            bulk("1-0"),
            arr(vec![bulk_bytes(f), bulk_bytes(v), bulk(""), bulk("")])
        ])])
    );

    assert_eq!(qv(&mut c, &["SET", "str", "v"]).await, ok());
    for args in [
        vec!["XRANGE", "str", "-", "+"],
        vec!["XLEN", "str"],
        vec!["XREVRANGE", "str", "+", "-"],
    ] {
        assert_eq!(
            qe(&mut c, &args).await,
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
    }
}

#[tokio::test]
async fn xdel_xtrim_and_empty_streams_persist() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    fill(&mut c, "s", &["1-0", "2-0", "3-0", "4-0", "5-0"]).await;
    assert_eq!(
        qe(&mut c, &["XDEL", "s", "1-0", "x"]).await,
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(qv(&mut c, &["XLEN", "s"]).await, int(5));
    assert_eq!(
        qv(&mut c, &["XDEL", "s", "2-0", "2-0", "9-0"]).await,
        int(1)
    );
    assert_eq!(qv(&mut c, &["XDEL", "nokey", "1-0"]).await, int(0));
    assert_eq!(qv(&mut c, &["XTRIM", "s", "MINID", "4"]).await, int(2));
    assert_eq!(
        qv(&mut c, &["XRANGE", "s", "-", "+"]).await,
        arr(vec![entry("4-0", &["f", "v3"]), entry("5-0", &["f", "v4"])])
    );
    assert_eq!(
        qv(&mut c, &["XTRIM", "s", "MAXLEN", "=", "1"]).await,
        int(1)
    );
    assert_eq!(qv(&mut c, &["XTRIM", "s", "MAXLEN", "5"]).await, int(0));
    assert_eq!(qv(&mut c, &["XTRIM", "nokey", "MAXLEN", "0"]).await, int(0));
    assert_eq!(
        qe(&mut c, &["XTRIM", "s", "FOO", "1"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"]).await,
        "ERR syntax error, LIMIT cannot be used without the special ~ option"
    );
    assert_eq!(
        qe(&mut c, &["XTRIM", "s", "MAXLEN"]).await,
        "ERR wrong number of arguments for 'xtrim' command"
    );
    // Deleting the last entry leaves an empty stream that still exists.
    assert_eq!(qv(&mut c, &["XDEL", "s", "5-0"]).await, int(1));
    assert_eq!(qv(&mut c, &["XLEN", "s"]).await, int(0));
    assert_eq!(qv(&mut c, &["EXISTS", "s"]).await, int(1));
    assert_eq!(
        qv(&mut c, &["TYPE", "s"]).await,
        Value::SimpleString("stream".into())
    );
    // And it keeps its top ID.
    assert_eq!(
        qe(&mut c, &["XADD", "s", "5-0", "a", "b"]).await,
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    let info = qv(&mut c, &["XINFO", "STREAM", "s"]).await;
    let expect = arr(vec![
        bulk("length"),
        int(0),
        bulk("radix-tree-keys"),
        int(0),
        bulk("radix-tree-nodes"),
        int(1),
        bulk("last-generated-id"),
        bulk("5-0"),
        bulk("max-deleted-entry-id"),
        bulk("5-0"),
        bulk("entries-added"),
        int(5),
        bulk("recorded-first-entry-id"),
        bulk("0-0"),
        bulk("groups"),
        int(0),
        bulk("first-entry"),
        nil(),
        bulk("last-entry"),
        nil(),
    ]);
    assert_eq!(info, expect);
    // XADD with MAXLEN trims in the same command; DEL removes the stream.
    assert_eq!(
        qv(&mut c, &["XADD", "t", "MAXLEN", "2", "1-0", "a", "1"]).await,
        bulk("1-0")
    );
    assert_eq!(
        qv(&mut c, &["XADD", "t", "MAXLEN", "2", "2-0", "a", "2"]).await,
        bulk("2-0")
    );
    assert_eq!(
        qv(&mut c, &["XADD", "t", "MAXLEN", "2", "3-0", "a", "3"]).await,
        bulk("3-0")
    );
    assert_eq!(qv(&mut c, &["XLEN", "t"]).await, int(2));
    assert_eq!(qv(&mut c, &["DEL", "t"]).await, int(1));
    assert_eq!(qv(&mut c, &["XLEN", "t"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["XADD", "t", "1-0", "a", "1"]).await,
        bulk("1-0")
    );
}

#[tokio::test]
async fn xread_without_block() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    fill(&mut c, "a", &["1-0", "2-0"]).await;
    fill(&mut c, "b", &["3-0"]).await;
    assert_eq!(
        qv(&mut c, &["XREAD", "STREAMS", "a", "b", "0", "3-0"]).await,
        arr(vec![arr(vec![
            bulk("a"),
            arr(vec![entry("1-0", &["f", "v0"]), entry("2-0", &["f", "v1"])])
        ])])
    );
    assert_eq!(
        qv(
            &mut c,
            &["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"]
        )
        .await,
        arr(vec![
            arr(vec![bulk("a"), arr(vec![entry("1-0", &["f", "v0"])])]),
            arr(vec![bulk("b"), arr(vec![entry("3-0", &["f", "v0"])])]),
        ])
    );
    assert_eq!(qv(&mut c, &["XREAD", "STREAMS", "a", "$"]).await, nil());
    assert_eq!(qv(&mut c, &["XREAD", "STREAMS", "nokey", "0"]).await, nil());
    for (args, err) in [
        (
            vec!["XREAD", "COUNT", "1", "STREAMS", "a", "0", "1"],
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        ),
        (
            vec!["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"],
            "ERR timeout is negative",
        ),
        (
            vec!["XREAD", "BLOCK", "x", "STREAMS", "a", "0"],
            "ERR timeout is not an integer or out of range",
        ),
        (vec!["XREAD", "FOO", "STREAMS", "a", "0"], "ERR syntax error"),
        (
            vec!["XREAD", "STREAMS", "a", ">"],
            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        ),
        (
            vec!["XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"],
            "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
        ),
        (
            vec!["XREAD", "STREAMS", "a", "x"],
            "ERR Invalid stream ID specified as stream command argument",
        ),
        (
            vec!["XREAD", "STREAMS", "a"],
            "ERR wrong number of arguments for 'xread' command",
        ),
    ] {
        assert_eq!(qe(&mut c, &args).await, err, "{args:?}");
    }
    assert_eq!(qv(&mut c, &["SET", "str", "v"]).await, ok());
    assert_eq!(
        qe(&mut c, &["XREAD", "STREAMS", "str", "0"]).await,
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
}

#[tokio::test]
async fn resp3_shapes() {
    let srv = TestServer::start();
    let mut r = srv.raw_authed();
    assert!(matches!(r.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(r.cmd(&["XADD", "s", "1-0", "a", "1"]), Reply::bulk("1-0"));
    let entry3 = Reply::Array(vec![
        Reply::bulk("1-0"),
        Reply::Array(vec![Reply::bulk("a"), Reply::bulk("1")]),
    ]);
    // XREAD is a map of stream -> entries in RESP3.
    assert_eq!(
        r.cmd(&["XREAD", "STREAMS", "s", "0"]),
        Reply::Map(vec![(Reply::bulk("s"), Reply::Array(vec![entry3.clone()]))])
    );
    assert_eq!(r.cmd(&["XREAD", "STREAMS", "s", "$"]), Reply::Null);
    let info = r.cmd(&["XINFO", "STREAM", "s"]);
    assert!(matches!(info, Reply::Map(_)), "{info:?}");
    assert_eq!(info.get("length"), Some(&Reply::Int(1)));
    assert_eq!(info.get("first-entry"), Some(&entry3));
    assert_eq!(r.cmd(&["XGROUP", "CREATE", "s", "g", "0"]), Reply::ok());
    let groups = r.cmd(&["XINFO", "GROUPS", "s"]);
    let g = &groups.as_array().unwrap()[0];
    assert!(matches!(g, Reply::Map(_)));
    assert_eq!(g.get("entries-read"), Some(&Reply::Null));
    assert_eq!(g.get("lag"), Some(&Reply::Int(1)));
    assert_eq!(
        r.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]),
        Reply::Map(vec![(Reply::bulk("s"), Reply::Array(vec![entry3]))])
    );
    let consumers = r.cmd(&["XINFO", "CONSUMERS", "s", "g"]);
    let c0 = &consumers.as_array().unwrap()[0];
    assert_eq!(c0.get("name"), Some(&Reply::bulk("c")));
    assert_eq!(c0.get("pending"), Some(&Reply::Int(1)));
}

#[tokio::test]
async fn groups_readgroup_ack_pending() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    fill(&mut c, "s", &["10-0", "11-0", "12-0"]).await;

    assert_eq!(
        qe(&mut c, &["XGROUP", "CREATE", "nos", "g", "0"]).await,
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
    );
    assert_eq!(
        qe(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "x"]).await,
        "ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."
    );
    assert_eq!(
        qe(&mut c, &["XGROUP", "FOO", "s", "g"]).await,
        "ERR unknown subcommand 'FOO'. Try XGROUP HELP."
    );
    assert_eq!(
        qe(&mut c, &["XGROUP", "CREATE", "s"]).await,
        "ERR wrong number of arguments for 'xgroup|create' command"
    );
    assert_eq!(
        qe(
            &mut c,
            &["XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "-5"]
        )
        .await,
        "ERR value for ENTRIESREAD must be positive or -1"
    );
    assert_eq!(qv(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        qe(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await,
        "BUSYGROUP Consumer Group name already exists"
    );
    assert_eq!(
        qv(&mut c, &["XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"]).await,
        ok()
    );
    assert_eq!(qv(&mut c, &["XLEN", "e"]).await, int(0));
    assert_eq!(qv(&mut c, &["EXISTS", "e"]).await, int(1));
    assert_eq!(
        qe(&mut c, &["XGROUP", "SETID", "s", "nog", "0"]).await,
        "NOGROUP No such consumer group 'nog' for key name 's'"
    );
    assert_eq!(qv(&mut c, &["XGROUP", "DESTROY", "s", "nog"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "c1"]).await,
        int(1)
    );
    assert_eq!(
        qv(&mut c, &["XGROUP", "CREATECONSUMER", "s", "g", "c1"]).await,
        int(0)
    );

    assert_eq!(
        qe(
            &mut c,
            &["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"]
        )
        .await,
        "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"
    );
    assert_eq!(
        qe(&mut c, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"]).await,
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
    );
    assert_eq!(
        qv(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "COUNT",
                "1",
                "STREAMS",
                "s",
                ">"
            ]
        )
        .await,
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("10-0", &["f", "v0"])])
        ])])
    );
    // History: the consumer's own pending entries.
    assert_eq!(
        qv(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"]
        )
        .await,
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("10-0", &["f", "v0"])])
        ])])
    );
    assert_eq!(
        qv(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c2",
                "NOACK",
                "STREAMS",
                "s",
                ">"
            ]
        )
        .await,
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![
                entry("11-0", &["f", "v1"]),
                entry("12-0", &["f", "v2"])
            ])
        ])])
    );
    // Nothing new: a null array.
    assert_eq!(
        qv(
            &mut c,
            &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]
        )
        .await,
        nil()
    );

    // XPENDING: 10-0 delivered twice to c; NOACK reads are not pending.
    let summary = qv(&mut c, &["XPENDING", "s", "g"]).await;
    assert_eq!(
        summary,
        arr(vec![
            int(1),
            bulk("10-0"),
            bulk("10-0"),
            arr(vec![bulks(&["c", "1"])])
        ])
    );
    let Value::Array(ext) = qv(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await else {
        panic!()
    };
    assert_eq!(ext.len(), 1);
    let Value::Array(row) = &ext[0] else { panic!() };
    assert_eq!(row[0], bulk("10-0"));
    assert_eq!(row[1], bulk("c"));
    assert_eq!(row[3], int(2));
    assert_eq!(
        qv(&mut c, &["XPENDING", "s", "g", "-", "+", "10", "c2"]).await,
        arr(vec![])
    );
    assert_eq!(
        qv(
            &mut c,
            &["XPENDING", "s", "g", "IDLE", "3600000", "-", "+", "10"]
        )
        .await,
        arr(vec![])
    );
    assert_eq!(
        qe(&mut c, &["XPENDING", "s", "nog"]).await,
        "NOGROUP No such key 's' or consumer group 'nog'"
    );
    assert_eq!(
        qe(&mut c, &["XPENDING", "s", "g", "-", "+"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["XPENDING", "s", "g", "-", "+", "x"]).await,
        "ERR value is not an integer or out of range"
    );

    // XINFO GROUPS: entries-read and lag.
    let groups = qv(&mut c, &["XINFO", "GROUPS", "s"]).await;
    assert_eq!(
        groups,
        arr(vec![arr(vec![
            bulk("name"),
            bulk("g"),
            bulk("consumers"),
            int(3),
            bulk("pending"),
            int(1),
            bulk("last-delivered-id"),
            bulk("12-0"),
            bulk("entries-read"),
            int(3),
            bulk("lag"),
            int(0),
        ])])
    );

    // XACK.
    assert_eq!(qv(&mut c, &["XACK", "s", "g", "10-0", "9-9"]).await, int(1));
    assert_eq!(qv(&mut c, &["XACK", "s", "g", "10-0"]).await, int(0));
    assert_eq!(qv(&mut c, &["XACK", "nokey", "g", "1-0"]).await, int(0));
    assert_eq!(
        qe(&mut c, &["XACK", "s", "g", "x"]).await,
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        qv(&mut c, &["XPENDING", "s", "g"]).await,
        arr(vec![int(0), nil(), nil(), nil()])
    );

    // SETID back: entries are delivered again; DELCONSUMER drops the consumer's PEL.
    assert_eq!(qv(&mut c, &["XGROUP", "SETID", "s", "g", "0"]).await, ok());
    let r = qv(
        &mut c,
        &["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", ">"],
    )
    .await;
    let Value::Array(r) = r else { panic!() };
    assert_eq!(r.len(), 1);
    assert_eq!(
        qv(&mut c, &["XGROUP", "DELCONSUMER", "s", "g", "c3"]).await,
        int(3)
    );
    assert_eq!(
        qv(&mut c, &["XPENDING", "s", "g"]).await,
        arr(vec![int(0), nil(), nil(), nil()])
    );
    assert_eq!(qv(&mut c, &["XGROUP", "DESTROY", "s", "g"]).await, int(1));
    assert_eq!(qv(&mut c, &["XINFO", "GROUPS", "s"]).await, arr(vec![]));
    // A recreated group starts empty.
    assert_eq!(qv(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    assert_eq!(
        qv(&mut c, &["XINFO", "CONSUMERS", "s", "g"]).await,
        arr(vec![])
    );
    assert_eq!(
        qe(&mut c, &["XINFO", "CONSUMERS", "s", "nog"]).await,
        "NOGROUP No such consumer group 'nog' for key name 's'"
    );
    assert_eq!(
        qe(&mut c, &["XINFO", "STREAM", "nokey"]).await,
        "ERR no such key"
    );
}

#[tokio::test]
async fn xclaim_and_xautoclaim() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    fill(&mut c, "s", &["1-0", "2-0", "3-0"]).await;
    assert_eq!(qv(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    let _ = qv(
        &mut c,
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"],
    )
    .await;
    assert_eq!(qv(&mut c, &["XDEL", "s", "2-0"]).await, int(1));

    // A deleted entry is dropped from the PEL, an unknown one ignored.
    assert_eq!(
        qv(
            &mut c,
            &["XCLAIM", "s", "g", "bob", "0", "1-0", "2-0", "9-0"]
        )
        .await,
        arr(vec![entry("1-0", &["f", "v0"])])
    );
    assert_eq!(
        qv(&mut c, &["XCLAIM", "s", "g", "bob", "0", "1-0", "JUSTID"]).await,
        bulks(&["1-0"])
    );
    // A large min-idle-time claims nothing.
    assert_eq!(
        qv(&mut c, &["XCLAIM", "s", "g", "bob", "3600000", "3-0"]).await,
        arr(vec![])
    );
    for (args, err) in [
        (
            vec!["XCLAIM", "s", "g", "bob", "x", "1-0"],
            "ERR Invalid min-idle-time argument for XCLAIM",
        ),
        (
            vec!["XCLAIM", "s", "g", "bob", "0", "1-0", "IDLE", "x"],
            "ERR Invalid IDLE option argument for XCLAIM",
        ),
        (
            vec!["XCLAIM", "s", "g", "bob", "0", "1-0", "foo"],
            "ERR Unrecognized XCLAIM option 'foo'",
        ),
        (
            vec!["XCLAIM", "s", "nog", "bob", "0", "1-0"],
            "NOGROUP No such key 's' or consumer group 'nog'",
        ),
        (
            vec!["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "0"],
            "ERR COUNT must be > 0",
        ),
        (
            vec!["XAUTOCLAIM", "s", "g", "carol", "0", "x"],
            "ERR Invalid stream ID specified as stream command argument",
        ),
        (
            vec!["XAUTOCLAIM", "s", "nog", "carol", "0", "0"],
            "NOGROUP No such key 's' or consumer group 'nog'",
        ),
    ] {
        assert_eq!(qe(&mut c, &args).await, err, "{args:?}");
    }
    // RETRYCOUNT / TIME / LASTID; FORCE only creates PEL entries for existing entries.
    assert_eq!(
        qv(
            &mut c,
            &[
                "XCLAIM",
                "s",
                "g",
                "bob",
                "0",
                "3-0",
                "7-0",
                "FORCE",
                "RETRYCOUNT",
                "5",
                "LASTID",
                "80-0",
                "JUSTID"
            ]
        )
        .await,
        bulks(&["3-0"])
    );
    let Value::Array(p) = qv(&mut c, &["XPENDING", "s", "g", "-", "+", "10"]).await else {
        panic!()
    };
    assert_eq!(p.len(), 2);
    let Value::Array(row) = &p[1] else { panic!() };
    assert_eq!(
        (&row[0], &row[1], &row[3]),
        (&bulk("3-0"), &bulk("bob"), &int(5))
    );

    // XAUTOCLAIM: cursor, claimed entries, deleted IDs.
    assert_eq!(qv(&mut c, &["XDEL", "s", "3-0"]).await, int(1));
    assert_eq!(
        qv(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "1"]
        )
        .await,
        arr(vec![
            bulk("3-0"),
            arr(vec![entry("1-0", &["f", "v0"])]),
            arr(vec![])
        ])
    );
    assert_eq!(
        qv(
            &mut c,
            &["XAUTOCLAIM", "s", "g", "carol", "0", "(1-0", "JUSTID"]
        )
        .await,
        arr(vec![bulk("0-0"), arr(vec![]), bulks(&["3-0"])])
    );
    assert_eq!(
        qv(&mut c, &["XPENDING", "s", "g"]).await,
        arr(vec![
            int(1),
            bulk("1-0"),
            bulk("1-0"),
            arr(vec![bulks(&["carol", "1"])])
        ])
    );
    let info = qv(&mut c, &["XINFO", "GROUPS", "s"]).await;
    let Value::Array(groups) = info else { panic!() };
    let Value::Array(g) = &groups[0] else {
        panic!()
    };
    assert_eq!(g[7], bulk("80-0"), "LASTID moved last-delivered-id: {g:?}");
}

#[tokio::test]
async fn xinfo_stream_full_shape() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    fill(&mut c, "s", &["1-0", "2-0"]).await;
    assert_eq!(qv(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]).await, ok());
    let _ = qv(
        &mut c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            "1",
            "STREAMS",
            "s",
            ">",
        ],
    )
    .await;
    let Value::Array(full) = qv(&mut c, &["XINFO", "STREAM", "s", "FULL"]).await else {
        panic!()
    };
    let keys = arr(full.iter().step_by(2).cloned().collect());
    assert_eq!(
        keys,
        bulks(&[
            "length",
            "radix-tree-keys",
            "radix-tree-nodes",
            "last-generated-id",
            "max-deleted-entry-id",
            "entries-added",
            "recorded-first-entry-id",
            "entries",
            "groups"
        ])
    );
    assert_eq!(
        full[15],
        arr(vec![entry("1-0", &["f", "v0"]), entry("2-0", &["f", "v1"])])
    );
    let Value::Array(groups) = &full[17] else {
        panic!()
    };
    let Value::Array(g) = &groups[0] else {
        panic!()
    };
    let gkeys = arr(g.iter().step_by(2).cloned().collect());
    assert_eq!(
        gkeys,
        bulks(&[
            "name",
            "last-delivered-id",
            "entries-read",
            "lag",
            "pel-count",
            "pending",
            "consumers"
        ])
    );
    assert_eq!(
        (&g[3], &g[5], &g[7], &g[9]),
        (&bulk("1-0"), &int(1), &int(1), &int(1))
    );
    let Value::Array(cons) = &g[13] else { panic!() };
    let Value::Array(c0) = &cons[0] else { panic!() };
    assert_eq!(c0[0], bulk("name"));
    assert_eq!(c0[1], bulk("c"));
    assert_eq!(c0[2], bulk("seen-time"));
    assert_eq!(c0[4], bulk("pel-count"));
    assert_eq!(c0[5], int(1));
    assert_eq!(
        qe(&mut c, &["XINFO", "STREAM", "s", "FULL", "COUNT", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["XINFO", "STREAM", "s", "foo"]).await,
        "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."
    );
    assert_eq!(
        qe(&mut c, &["XINFO", "GROUPS", "s", "x"]).await,
        "ERR wrong number of arguments for 'xinfo|groups' command"
    );
    assert_eq!(
        qe(&mut c, &["XINFO", "FOO", "s"]).await,
        "ERR unknown subcommand 'FOO'. Try XINFO HELP."
    );
}

#[tokio::test]
async fn approximate_trimming_removes_whole_nodes() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let mut p = redis::pipe();
    for i in 1..=250 {
        p.cmd("XADD")
            .arg("a")
            .arg(format!("{i}-0"))
            .arg("f")
            .arg("v");
    }
    let _: Vec<String> = p.query_async(&mut c).await.unwrap();
    // Redis keeps 100 entries per node: `~` removes whole nodes only.
    assert_eq!(
        qv(&mut c, &["XTRIM", "a", "MAXLEN", "~", "200"]).await,
        int(0)
    );
    assert_eq!(
        qv(&mut c, &["XTRIM", "a", "MAXLEN", "~", "150"]).await,
        int(100)
    );
    assert_eq!(
        qv(&mut c, &["XTRIM", "a", "MAXLEN", "~", "0", "LIMIT", "99"]).await,
        int(0)
    );
    assert_eq!(
        qv(&mut c, &["XTRIM", "a", "MINID", "~", "240"]).await,
        int(100)
    );
    assert_eq!(qv(&mut c, &["XLEN", "a"]).await, int(50));
    assert_eq!(qv(&mut c, &["XTRIM", "a", "MINID", "251"]).await, int(50));
    assert_eq!(qv(&mut c, &["EXISTS", "a"]).await, int(1));
}

#[tokio::test]
async fn xread_block_wakes_on_xadd() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let mut w = srv.client().await;
    assert_eq!(
        qv(&mut c, &["XADD", "s", "1-0", "a", "1"]).await,
        bulk("1-0")
    );
    let reader =
        tokio::spawn(
            async move { qv(&mut c, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]).await },
        );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        qv(&mut w, &["XADD", "s", "2-0", "b", "2"]).await,
        bulk("2-0")
    );
    let got = tokio::time::timeout(std::time::Duration::from_secs(30), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("2-0", &["b", "2"])])
        ])])
    );
}

#[tokio::test]
async fn xreadgroup_block_times_out_with_null() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(
        qv(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).await,
        ok()
    );
    assert_eq!(
        qv(
            &mut c,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "100",
                "STREAMS",
                "s",
                ">"
            ]
        )
        .await,
        nil()
    );
}

/// XGROUP HELP and XINFO HELP print Redis 7.0's text; extra arguments are an arity error.
#[test]
fn xgroup_and_xinfo_help() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    for (cmd, first, last) in [
        (
            "XGROUP",
            "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "    Prints this help.",
        ),
        (
            "XINFO",
            "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "    Prints this help.",
        ),
    ] {
        let Reply::Array(lines) = c.cmd(&[cmd, "HELP"]) else {
            panic!("{cmd} HELP is not an array");
        };
        assert_eq!(lines.first(), Some(&Reply::Simple(first.into())), "{cmd}");
        assert_eq!(lines.last(), Some(&Reply::Simple(last.into())), "{cmd}");
        assert!(lines.len() >= 9, "{cmd} HELP has {} lines", lines.len());
        assert_eq!(
            c.cmd(&[cmd, "help", "extra"]),
            Reply::Error(format!(
                "ERR wrong number of arguments for '{}|help' command",
                cmd.to_lowercase()
            ))
        );
    }
}
