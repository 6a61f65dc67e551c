//! SORT and SORT_RO: Redis 7.0 semantics and error strings (checked against redis-server with
//! `RAFTROCKS_TEST_TARGET=redis`), plus raftrocks' cluster rule for BY/GET patterns (patterns
//! must stay in the sorted key's slot group: raftrocks only).
//!
//! Keys and patterns share a `{tag}` so that the same tests run on both servers.

#[macro_use]
mod common;

use common::*;

const CONV: &str = "ERR One or more scores can't be converted into double";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const BY_DENIED: &str = "ERR BY option of SORT denied in Cluster mode when keys formed by the \
                         pattern may be in different slots.";
const GET_DENIED: &str = "ERR GET option of SORT denied in Cluster mode when keys formed by the \
                          pattern may be in different slots.";

#[tokio::test]
async fn numeric_alpha_desc_and_limit() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let _: i64 = q(
        &mut c,
        &["RPUSH", "{u}l", "3", "1", "2", "10", "1.0", "-inf"],
    )
    .await;
    let all = |v: &[&str]| bulks(v);
    assert_eq!(
        qv(&mut c, &["SORT", "{u}l"]).await,
        all(&["-inf", "1", "1.0", "2", "3", "10"])
    );
    assert_eq!(
        qv(&mut c, &["SORT_RO", "{u}l", "DESC"]).await,
        all(&["10", "3", "2", "1.0", "1", "-inf"])
    );
    assert_eq!(
        qv(&mut c, &["SORT", "{u}l", "ALPHA"]).await,
        all(&["-inf", "1", "1.0", "10", "2", "3"])
    );
    assert_eq!(
        qv(&mut c, &["SORT", "{u}l", "alpha", "desc", "asc"]).await,
        all(&["-inf", "1", "1.0", "10", "2", "3"])
    );
    // LIMIT is clamped as Redis does.
    for (off, cnt, want) in [
        ("1", "2", &["1", "1.0"][..]),
        ("-5", "2", &["-inf", "1"]),
        ("4", "-1", &["3", "10"]),
        ("4", "100", &["3", "10"]),
        ("6", "1", &[]),
        ("1", "0", &[]),
        ("9223372036854775807", "9223372036854775807", &[]),
        ("-9223372036854775808", "1", &["-inf"]),
    ] {
        assert_eq!(
            qv(&mut c, &["SORT", "{u}l", "LIMIT", off, cnt]).await,
            all(want),
            "LIMIT {off} {cnt}"
        );
    }
    // Not numbers.
    let _: i64 = q(&mut c, &["RPUSH", "{u}bad", "1", "x"]).await;
    assert_eq!(qe(&mut c, &["SORT", "{u}bad"]).await, CONV);
    assert_eq!(
        qv(&mut c, &["SORT", "{u}bad", "ALPHA"]).await,
        all(&["1", "x"])
    );
    // Weights are parsed like strtod: hex, leading spaces, inf, an empty string (0).
    let _: i64 = q(&mut c, &["RPUSH", "{u}odd", "0x10", " 5", "", "inf"]).await;
    assert_eq!(
        qv(&mut c, &["SORT", "{u}odd"]).await,
        all(&["", " 5", "0x10", "inf"])
    );
    // Missing key: empty.
    assert_eq!(qv(&mut c, &["SORT", "{u}none"]).await, all(&[]));
    assert_eq!(
        qv(&mut c, &["SORT_RO", "{u}none", "LIMIT", "0", "1"]).await,
        all(&[])
    );
    // Out of range (overflow, underflow to a subnormal) is not a score. Last: Redis does not
    // clear errno before its strtod, so after an ERANGE the next numeric SORT on the same
    // connection may fail too.
    let _: i64 = q(&mut c, &["RPUSH", "{u}odd", "1e-400"]).await;
    assert_eq!(qe(&mut c, &["SORT", "{u}odd"]).await, CONV);
}

#[tokio::test]
async fn sets_and_sorted_sets() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let _: i64 = q(&mut c, &["SADD", "{u}s", "10", "9", "2", "1", "-3"]).await;
    assert_eq!(
        qv(&mut c, &["SORT", "{u}s"]).await,
        bulks(&["-3", "1", "2", "9", "10"])
    );
    assert_eq!(
        qv(
            &mut c,
            &["SORT", "{u}s", "ALPHA", "DESC", "LIMIT", "0", "2"]
        )
        .await,
        bulks(&["9", "2"])
    );
    let _: i64 = q(
        &mut c,
        &["ZADD", "{u}z", "3", "a", "1", "b", "2", "c", "2", "d"],
    )
    .await;
    // BY nosort keeps the sorted set's order (reversed by DESC); LIMIT is a range of it.
    assert_eq!(
        qv(&mut c, &["SORT", "{u}z", "BY", "nosort"]).await,
        bulks(&["b", "c", "d", "a"])
    );
    assert_eq!(
        qv(&mut c, &["SORT_RO", "{u}z", "BY", "nosort", "DESC"]).await,
        bulks(&["a", "d", "c", "b"])
    );
    assert_eq!(
        qv(
            &mut c,
            &["SORT", "{u}z", "BY", "nosort", "DESC", "LIMIT", "1", "2"]
        )
        .await,
        bulks(&["d", "c"])
    );
    assert_eq!(
        qv(&mut c, &["SORT", "{u}z", "BY", "const", "LIMIT", "1", "10"]).await,
        bulks(&["c", "d", "a"])
    );
    assert_eq!(
        qv(&mut c, &["SORT", "{u}z", "ALPHA"]).await,
        bulks(&["a", "b", "c", "d"])
    );
    assert_eq!(qe(&mut c, &["SORT", "{u}z"]).await, CONV);
    // A list with BY nosort: its own order.
    let _: i64 = q(&mut c, &["RPUSH", "{u}l", "b", "a", "c"]).await;
    assert_eq!(
        qv(
            &mut c,
            &["SORT", "{u}l", "BY", "nosort", "DESC", "LIMIT", "0", "2"]
        )
        .await,
        bulks(&["c", "a"])
    );
    // A set stored without sorting is sorted by bytes (deterministic for replicas).
    assert_eq!(
        qv(&mut c, &["SORT", "{u}s", "BY", "nosort", "STORE", "{u}d"]).await,
        int(5)
    );
    assert_eq!(
        qv(&mut c, &["LRANGE", "{u}d", "0", "-1"]).await,
        bulks(&["-3", "1", "10", "2", "9"])
    );
}

#[tokio::test]
async fn by_and_get_patterns() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let _: i64 = q(&mut c, &["RPUSH", "{u}l", "3", "1", "2", "10", "1.0"]).await;
    let _: () = q(&mut c, &["MSET", "{u}w_3", "30", "{u}w_1", "10"]).await;
    let _: i64 = q(&mut c, &["HSET", "{u}h_2", "f", "5", "name", "two"]).await;
    // Missing weights are 0; equal weights order by element (DESC reverses that too).
    assert_eq!(
        qv(&mut c, &["SORT", "{u}l", "BY", "{u}w_*"]).await,
        bulks(&["1.0", "10", "2", "1", "3"])
    );
    assert_eq!(
        qv(&mut c, &["SORT", "{u}l", "BY", "{u}w_*", "DESC"]).await,
        bulks(&["3", "1", "2", "10", "1.0"])
    );
    // ALPHA by weights: missing ones first, equal ones in list order.
    assert_eq!(
        qv(&mut c, &["SORT", "{u}l", "BY", "{u}w_*", "ALPHA"]).await,
        bulks(&["2", "10", "1.0", "1", "3"])
    );
    // GET: # is the element, a hash field with ->, nil for missing keys, fields, wrong
    // types and patterns without *.
    assert_eq!(
        qv(
            &mut c,
            &[
                "SORT",
                "{u}l",
                "BY",
                "{u}h_*->f",
                "LIMIT",
                "3",
                "2",
                "GET",
                "#",
                "GET",
                "{u}w_*",
                "GET",
                "{u}h_*->name",
                "GET",
                "{u}h_*",
                "GET",
                "{u}nostar",
                "GET",
                "{u}w_*->f",
            ]
        )
        .await,
        arr(vec![
            bulk("3"),
            bulk("30"),
            nil(),
            nil(),
            nil(),
            nil(),
            bulk("2"),
            nil(),
            bulk("two"),
            nil(),
            nil(),
            nil(),
        ])
    );
    // A weight that is not a number.
    let _: () = q(&mut c, &["SET", "{u}w_10", "abc"]).await;
    assert_eq!(qe(&mut c, &["SORT", "{u}l", "BY", "{u}w_*"]).await, CONV);
    assert_eq!(
        qv(&mut c, &["SORT", "{u}l", "BY", "{u}w_*", "ALPHA"]).await,
        bulks(&["2", "1.0", "1", "3", "10"])
    );
    // BY without * does not sort: the list's order.
    assert_eq!(
        qv(&mut c, &["SORT_RO", "{u}l", "BY", "{u}w_", "GET", "{u}w_*"]).await,
        arr(vec![bulk("30"), bulk("10"), nil(), bulk("abc"), nil()])
    );
}

#[tokio::test]
async fn store_replaces_or_deletes_the_destination() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let _: i64 = q(&mut c, &["RPUSH", "{u}l", "3", "1", "2"]).await;
    let _: () = q(&mut c, &["SET", "{u}w_1", "one"]).await;
    let _: () = q(&mut c, &["SET", "{u}dst", "x", "EX", "1000"]).await;
    assert_eq!(
        qv(
            &mut c,
            &["SORT", "{u}l", "GET", "{u}w_*", "GET", "#", "STORE", "{u}dst"]
        )
        .await,
        int(6)
    );
    assert_eq!(
        qv(&mut c, &["TYPE", "{u}dst"]).await,
        Value::SimpleString("list".into())
    );
    assert_eq!(qv(&mut c, &["TTL", "{u}dst"]).await, int(-1));
    // A nil from GET is stored as an empty string.
    assert_eq!(
        qv(&mut c, &["LRANGE", "{u}dst", "0", "-1"]).await,
        bulks(&["one", "1", "", "2", "", "3"])
    );
    // The last STORE wins; the sorted key itself may be the destination.
    assert_eq!(
        qv(
            &mut c,
            &["SORT", "{u}l", "STORE", "{u}x", "DESC", "STORE", "{u}l"]
        )
        .await,
        int(3)
    );
    assert_eq!(qv(&mut c, &["EXISTS", "{u}x"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["LRANGE", "{u}l", "0", "-1"]).await,
        bulks(&["3", "2", "1"])
    );
    // An empty result deletes the destination.
    assert_eq!(
        qv(
            &mut c,
            &["SORT", "{u}l", "LIMIT", "0", "0", "STORE", "{u}dst"]
        )
        .await,
        int(0)
    );
    assert_eq!(qv(&mut c, &["EXISTS", "{u}dst"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["SORT", "{u}none", "STORE", "{u}l"]).await,
        int(0)
    );
    assert_eq!(qv(&mut c, &["EXISTS", "{u}l"]).await, int(0));
    // A conversion error stores nothing.
    let _: i64 = q(&mut c, &["RPUSH", "{u}bad", "x"]).await;
    let _: i64 = q(&mut c, &["RPUSH", "{u}keep", "k"]).await;
    assert_eq!(
        qe(&mut c, &["SORT", "{u}bad", "STORE", "{u}keep"]).await,
        CONV
    );
    assert_eq!(qv(&mut c, &["LLEN", "{u}keep"]).await, int(1));
}

#[tokio::test]
async fn errors() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let _: () = q(&mut c, &["SET", "{u}str", "1"]).await;
    let _: i64 = q(&mut c, &["HSET", "{u}h", "f", "1"]).await;
    let _: String = q(&mut c, &["XADD", "{u}x", "*", "f", "1"]).await;
    let _: i64 = q(&mut c, &["RPUSH", "{u}l", "1"]).await;
    for k in ["{u}str", "{u}h", "{u}x"] {
        assert_eq!(qe(&mut c, &["SORT", k]).await, WRONGTYPE);
        assert_eq!(qe(&mut c, &["SORT_RO", k, "ALPHA"]).await, WRONGTYPE);
    }
    // Options are parsed before the key is looked at.
    assert_eq!(
        qe(&mut c, &["SORT", "{u}str", "FOO"]).await,
        "ERR syntax error"
    );
    for bad in [
        &["SORT", "{u}l", "LIMIT", "1"][..],
        &["SORT", "{u}l", "STORE"],
        &["SORT", "{u}l", "BY"],
        &["SORT", "{u}l", "GET"],
        &["SORT_RO", "{u}l", "STORE", "{u}d"],
        &["SORT", "{u}l", "ALPHA", "x"],
    ] {
        assert_eq!(qe(&mut c, bad).await, "ERR syntax error", "{bad:?}");
    }
    assert_eq!(
        qe(&mut c, &["SORT", "{u}l", "LIMIT", "a", "1"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["SORT", "{u}str", "LIMIT", "0", "1.5"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["SORT"]).await,
        "ERR wrong number of arguments for 'sort' command"
    );
    assert_eq!(
        qe(&mut c, &["SORT_RO"]).await,
        "ERR wrong number of arguments for 'sort_ro' command"
    );
}

#[tokio::test]
async fn command_info_and_getkeys() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let Value::Array(rows) = qv(&mut c, &["COMMAND", "INFO", "sort", "sort_ro"]).await else {
        panic!("COMMAND INFO")
    };
    let strs = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(items) | Value::Set(items) => items.iter().map(value_to_string).collect(),
            other => panic!("{other:?}"),
        }
    };
    let expect = [
        (
            "sort",
            &["write", "denyoom", "movablekeys"][..],
            &[
                "@write",
                "@set",
                "@sortedset",
                "@list",
                "@slow",
                "@dangerous",
            ][..],
        ),
        (
            "sort_ro",
            &["readonly", "movablekeys"],
            &[
                "@read",
                "@set",
                "@sortedset",
                "@list",
                "@slow",
                "@dangerous",
            ],
        ),
    ];
    for (row, (name, flags, acl)) in rows.iter().zip(expect) {
        let Value::Array(f) = row else {
            panic!("{row:?}")
        };
        assert_eq!(value_to_string(&f[0]), name);
        assert_eq!(f[1], int(-2));
        assert_eq!(strs(&f[2]), flags);
        assert_eq!(&f[3..6], &[int(1), int(1), int(1)]);
        assert_eq!(strs(&f[6]), acl);
    }
    assert_eq!(
        qv(
            &mut c,
            &[
                "COMMAND", "GETKEYS", "SORT", "{u}a", "STORE", "{u}b", "LIMIT", "0", "1", "STORE",
                "{u}c"
            ]
        )
        .await,
        bulks(&["{u}a", "{u}c"])
    );
    assert_eq!(
        qv(
            &mut c,
            &["COMMAND", "GETKEYS", "SORT", "{u}a", "GET", "store", "STORE", "{u}b"]
        )
        .await,
        bulks(&["{u}a", "{u}b"])
    );
}

#[test]
fn inside_multi_sees_the_transaction() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let queued = Reply::Simple("QUEUED".into());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["RPUSH", "{u}l", "2", "1"]), queued);
    assert_eq!(c.cmd(&["SET", "{u}w_2", "-1"]), queued);
    assert_eq!(
        c.cmd(&["SORT", "{u}l", "BY", "{u}w_*", "STORE", "{u}d"]),
        queued
    );
    assert_eq!(
        c.cmd(&["SORT_RO", "{u}d", "BY", "nosort", "GET", "#", "GET", "{u}w_*"]),
        queued
    );
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![
            Reply::Int(2),
            Reply::ok(),
            Reply::Int(2),
            Reply::Array(vec![
                Reply::bulk("2"),
                Reply::bulk("-1"),
                Reply::bulk("1"),
                Reply::Nil
            ])
        ])
    );
}

#[tokio::test]
async fn a_large_list() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let n = 20_000i64;
    // A fixed permutation of 0..n.
    let vals: Vec<String> = (0..n).map(|i| ((i * 7919) % n).to_string()).collect();
    for chunk in vals.chunks(1000) {
        let mut cmd = redis::cmd("RPUSH");
        cmd.arg("{u}big");
        for v in chunk {
            cmd.arg(v);
        }
        let _: i64 = cmd.query_async(&mut c).await.unwrap();
    }
    let sorted: Vec<i64> = q(&mut c, &["SORT", "{u}big"]).await;
    assert_eq!(sorted, (0..n).collect::<Vec<_>>());
    let top: Vec<i64> = q(&mut c, &["SORT_RO", "{u}big", "DESC", "LIMIT", "0", "3"]).await;
    assert_eq!(top, vec![n - 1, n - 2, n - 3]);
    let stored: i64 = q(&mut c, &["SORT", "{u}big", "ALPHA", "STORE", "{u}big2"]).await;
    assert_eq!(stored, n);
    let first: Vec<String> = q(&mut c, &["LRANGE", "{u}big2", "0", "2"]).await;
    assert_eq!(first, vec!["0", "1", "10"]);
}

// ------------------------------------------------------------------- raftrocks only

/// Patterns whose keys may fall outside the sorted key's slot group are refused with Redis
/// Cluster's errors; `GET #` and BY without `*` name no keys and are always fine.
#[tokio::test]
async fn patterns_outside_the_key_slot_are_refused() {
    if skip_on_redis("patterns_outside_the_key_slot_are_refused") {
        return;
    }
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let _: i64 = q(&mut c, &["RPUSH", "l", "2", "1"]).await;
    assert_eq!(qe(&mut c, &["SORT", "l", "BY", "w_*"]).await, BY_DENIED);
    assert_eq!(
        qe(&mut c, &["SORT_RO", "l", "GET", "w_*"]).await,
        GET_DENIED
    );
    assert_eq!(qe(&mut c, &["SORT", "l", "BY", "w_*{l}"]).await, BY_DENIED);
    assert_eq!(
        qe(&mut c, &["SORT", "l", "GET", "#", "GET", "*"]).await,
        GET_DENIED
    );
    // The first error met wins.
    assert_eq!(
        qe(&mut c, &["SORT", "l", "GET", "x*", "FOO"]).await,
        GET_DENIED
    );
    assert_eq!(
        qe(&mut c, &["SORT", "l", "FOO", "GET", "x*"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qv(&mut c, &["SORT", "l", "BY", "nosort", "GET", "#"]).await,
        bulks(&["2", "1"])
    );
    // A tag naming the key itself keeps every key in its slot.
    let _: () = q(&mut c, &["SET", "{l}w_1", "5"]).await;
    assert_eq!(
        qv(&mut c, &["SORT", "l", "BY", "{l}w_*", "GET", "{l}w_*"]).await,
        arr(vec![nil(), bulk("5")])
    );
}

/// With several slot groups: a pattern in another slot of the same group is fine, one in
/// another group is refused (also inside MULTI), and STORE into another group is CROSSSLOT.
#[tokio::test]
async fn patterns_across_slot_groups() {
    if skip_on_redis("patterns_across_slot_groups") {
        return;
    }
    let srv = TestServer::builder()
        .extra_args(&["--slot-groups", "4"])
        .start();
    let mut c = srv.client().await;
    let slot = |s: i64| s / 4096; // the group of a slot with 4 even groups
    let key = "{a}l"; // slot 15495: group 4
    let key_slot: i64 = q(&mut c, &["CLUSTER", "KEYSLOT", key]).await;
    let mut near = None;
    for i in 0..1000 {
        let tag = format!("t{i}");
        let s: i64 = q(&mut c, &["CLUSTER", "KEYSLOT", &tag]).await;
        if s != key_slot && slot(s) == slot(key_slot) {
            near = Some(tag);
            break;
        }
    }
    let near = near.expect("a tag in the same group");
    let _: i64 = q(&mut c, &["RPUSH", key, "2", "1"]).await;
    let w = format!("{{{near}}}w_*");
    let _: () = q(&mut c, &["SET", &format!("{{{near}}}w_1"), "9"]).await;
    assert_eq!(
        qv(&mut c, &["SORT", key, "BY", &w, "GET", "#", "GET", &w]).await,
        arr(vec![bulk("2"), nil(), bulk("1"), bulk("9")])
    );
    assert_eq!(
        qv(&mut c, &["SORT_RO", key, "BY", &w, "DESC"]).await,
        bulks(&["1", "2"])
    );
    // {b} is slot 3300: group 1.
    assert_eq!(qe(&mut c, &["SORT", key, "BY", "{b}w_*"]).await, BY_DENIED);
    assert_eq!(
        qe(&mut c, &["SORT_RO", key, "GET", "{b}w_*"]).await,
        GET_DENIED
    );
    assert_eq!(
        qe(&mut c, &["SORT", key, "STORE", "{b}d"]).await,
        "CROSSSLOT Keys in request don't hash to the same slot"
    );
    let mut raw = srv.raw();
    let queued = Reply::Simple("QUEUED".into());
    assert_eq!(raw.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(raw.cmd(&["SORT_RO", key, "GET", "{b}w_*"]), queued);
    assert_eq!(raw.cmd(&["SORT", key, "BY", &w, "STORE", "{a}d"]), queued);
    assert_eq!(
        raw.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::err(GET_DENIED), Reply::Int(2)])
    );
}
