//! Sorted-set commands: Redis 7.0 semantics, exact replies and error strings, in RESP2 and
//! RESP3. The scripted tests compare raw reply bytes with what redis-server 7.0.15 sent for
//! the same commands (scores are chosen where Redis 7.0's `%.17g` and our shortest form agree).

#[macro_use]
mod common;

use common::*;
use std::time::{Duration, Instant};

/// Runs `(argv, expected raw reply)` steps on one fresh server, in RESP `proto`.
fn script(proto: u8, steps: &[(&[&str], &[u8])]) {
    let srv = TestServer::start();
    let mut c = srv.raw_authed();
    if proto == 3 {
        let r = c.cmd(&["HELLO", "3"]);
        assert!(r.as_array().is_some() || r.get("proto").is_some(), "{r:?}");
    }
    for (argv, want) in steps {
        c.send_cmd(argv);
        let (_, got) = c.read_reply_raw();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "RESP{proto} reply to {argv:?}"
        );
    }
}

fn raw(c: &mut RawConn, argv: &[&[u8]]) -> Vec<u8> {
    c.send_cmd(argv);
    c.read_reply_raw().1
}

#[test]
fn binary_members_and_order() {
    let srv = TestServer::start();
    let mut c = srv.raw_authed();
    let nul: &[u8] = b"a\x00b";
    let high: &[u8] = b"\xff\r\n";
    assert_eq!(
        raw(
            &mut c,
            &[b"ZADD", b"z", b"1", nul, b"1", high, b"1", b"a", b"1", b""]
        ),
        b":4\r\n"
    );
    // Equal scores order by member bytes: "" < "a" < "a\0b" < "\xff\r\n".
    assert_eq!(
        raw(&mut c, &[b"ZRANGE", b"z", b"0", b"-1"]),
        b"*4\r\n$0\r\n\r\n$1\r\na\r\n$3\r\na\x00b\r\n$3\r\n\xff\r\n\r\n"
    );
    assert_eq!(raw(&mut c, &[b"ZRANK", b"z", high]), b":3\r\n");
    assert_eq!(raw(&mut c, &[b"ZSCORE", b"z", nul]), b"$1\r\n1\r\n");
    assert_eq!(
        raw(&mut c, &[b"ZRANGEBYLEX", b"z", b"(a", b"+"]),
        b"*2\r\n$3\r\na\x00b\r\n$3\r\n\xff\r\n\r\n"
    );
    assert_eq!(raw(&mut c, &[b"ZREM", b"z", nul, high]), b":2\r\n");
    assert_eq!(raw(&mut c, &[b"ZCARD", b"z"]), b":2\r\n");
}

#[test]
fn ranks_and_ranges_on_a_larger_set() {
    let srv = TestServer::start();
    let mut c = srv.raw_authed();
    // 300 members with interleaved scores, added in several calls.
    let n = 300i64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let mut argv: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"big".to_vec()];
        for &i in chunk {
            argv.push(((i * 7) % n - 150).to_string().into_bytes());
            argv.push(format!("m{i:03}").into_bytes());
        }
        c.send_cmd(&argv);
        assert_eq!(c.read_reply().as_int(), Some(chunk.len() as i64));
    }
    assert_eq!(c.cmd(&["ZCARD", "big"]).as_int(), Some(n));
    // Score of m{i} is (7i mod 300) - 150: a permutation of -150..149, so rank = score + 150.
    for i in [0i64, 1, 77, 150, 299] {
        let score = (i * 7) % n - 150;
        let m = format!("m{i:03}");
        assert_eq!(c.cmd(&["ZRANK", "big", &m]).as_int(), Some(score + 150));
        assert_eq!(
            c.cmd(&["ZREVRANK", "big", &m]).as_int(),
            Some(n - 1 - (score + 150))
        );
    }
    assert_eq!(c.cmd(&["ZCOUNT", "big", "(-10", "10"]).as_int(), Some(20));
    let r = c.cmd(&[
        "ZRANGE", "big", "100", "+inf", "BYSCORE", "LIMIT", "10", "5",
    ]);
    assert_eq!(r.as_array().map(|a| a.len()), Some(5));
    assert_eq!(
        c.cmd(&["ZREMRANGEBYRANK", "big", "0", "99"]).as_int(),
        Some(100)
    );
    assert_eq!(
        c.cmd(&["ZREMRANGEBYSCORE", "big", "(100", "+inf"]).as_int(),
        Some(49)
    );
    assert_eq!(c.cmd(&["ZCARD", "big"]).as_int(), Some(151));
    // ZSCAN pages through a large set and returns every member exactly once.
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    loop {
        let r = c.cmd(&["ZSCAN", "big", &cursor, "COUNT", "20"]);
        let parts = r.as_array().expect("zscan reply").to_vec();
        cursor = parts[0].as_str().unwrap();
        let items = parts[1].as_array().unwrap();
        for pair in items.chunks(2) {
            assert!(seen.insert(pair[0].as_str().unwrap()), "duplicate");
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 151);
}

#[test]
fn zrandmember_shapes_and_semantics() {
    let srv = TestServer::start();
    let mut c = srv.raw_authed();
    c.cmd(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
    ]);
    let distinct = |r: &Reply| {
        let v: Vec<String> = r
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        let s: std::collections::HashSet<_> = v.iter().cloned().collect();
        (v.len(), s.len())
    };
    assert_eq!(distinct(&c.cmd(&["ZRANDMEMBER", "z", "3"])), (3, 3));
    assert_eq!(distinct(&c.cmd(&["ZRANDMEMBER", "z", "10"])), (5, 5));
    let (n, _) = distinct(&c.cmd(&["ZRANDMEMBER", "z", "-20"]));
    assert_eq!(n, 20);
    let r = c.cmd(&["ZRANDMEMBER", "z", "2", "WITHSCORES"]);
    assert_eq!(r.as_array().map(|a| a.len()), Some(4));
    let one = c.cmd(&["ZRANDMEMBER", "z"]).as_str().unwrap();
    assert!(["a", "b", "c", "d", "e"].contains(&one.as_str()));
    // RESP3: WITHSCORES gives [member, double] pairs.
    c.cmd(&["HELLO", "3"]);
    let (_, bytes) = {
        c.send_cmd(&["ZRANDMEMBER", "z", "-2", "WITHSCORES"]);
        c.read_reply_raw()
    };
    assert!(
        bytes.starts_with(b"*2\r\n*2\r\n$1\r\n"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
}

#[test]
fn expired_and_overwritten_keys() {
    let srv = TestServer::start();
    let mut c = srv.raw_authed();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(c.cmd(&["PEXPIRE", "z", "50"]).as_int(), Some(1));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(c.cmd(&["ZCARD", "z"]).as_int(), Some(0));
    // A new set under the same name does not see the old members.
    assert_eq!(c.cmd(&["ZADD", "z", "5", "c"]).as_int(), Some(1));
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "-1"])
            .as_array()
            .map(|a| a.len()),
        Some(1)
    );
    assert_eq!(c.cmd(&["TTL", "z"]).as_int(), Some(-1));
    // Overwrite with a string, then again with a sorted set.
    c.cmd(&["SET", "z", "v"]);
    assert!(c.cmd(&["ZADD", "z", "1", "x"]).as_str().is_none());
    c.cmd(&["DEL", "z"]);
    assert_eq!(c.cmd(&["ZADD", "z", "1", "x"]).as_int(), Some(1));
    assert_eq!(c.cmd(&["ZCARD", "z"]).as_int(), Some(1));
    assert_eq!(c.cmd(&["TYPE", "z"]).as_str().as_deref(), Some("zset"));
}

#[test]
fn zsets_in_multi_exec() {
    let srv = TestServer::start();
    let mut c = srv.raw_authed();
    c.cmd(&["MULTI"]);
    c.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
    c.cmd(&["ZINCRBY", "z", "5", "a"]);
    c.cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]);
    c.cmd(&["ZPOPMIN", "z"]);
    c.cmd(&["ZCARD", "z"]);
    c.send_cmd(&["EXEC"]);
    let (_, bytes) = c.read_reply_raw();
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        "*5\r\n:2\r\n$1\r\n6\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n6\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n:1\r\n"
    );
    // Inside MULTI an empty blocking pop answers nil at once.
    c.cmd(&["MULTI"]);
    c.cmd(&["BZPOPMIN", "nokey", "0"]);
    c.cmd(&["BZMPOP", "0", "1", "nokey", "MIN"]);
    assert_eq!(raw(&mut c, &[b"EXEC"]), b"*2\r\n*-1\r\n*-1\r\n");
}

#[test]
fn blocking_pops_that_do_not_wait() {
    let srv = TestServer::start();
    let mut c = srv.raw_authed();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(
        raw(&mut c, &[b"BZPOPMIN", b"none", b"z", b"0"]),
        b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        raw(&mut c, &[b"BZPOPMAX", b"z", b"1"]),
        b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(raw(&mut c, &[b"EXISTS", b"z"]), b":0\r\n");
}

#[test]
fn blocking_pop_times_out_with_nil() {
    let srv = TestServer::start();
    let mut c = srv.raw_authed();
    let t = Instant::now();
    assert_eq!(raw(&mut c, &[b"BZPOPMIN", b"empty", b"0.2"]), b"*-1\r\n");
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        raw(&mut c, &[b"BZMPOP", b"0.2", b"1", b"empty", b"MAX"]),
        b"*-1\r\n"
    );
}

#[test]
fn blocking_pop_wakes_on_zadd() {
    let srv = TestServer::start();
    let mut waiter = srv.raw_authed();
    let mut other = srv.raw_authed();
    waiter.send_cmd(&["BZPOPMAX", "q", "0"]);
    std::thread::sleep(Duration::from_millis(200));
    other.cmd(&["ZADD", "q", "3", "x", "1", "y"]);
    let (_, bytes) = waiter.read_reply_raw();
    assert_eq!(bytes, b"*3\r\n$1\r\nq\r\n$1\r\nx\r\n$1\r\n3\r\n");
    assert_eq!(other.cmd(&["ZCARD", "q"]).as_int(), Some(1));
    waiter.send_cmd(&["BZMPOP", "0", "2", "q2", "q", "MIN", "COUNT", "5"]);
    let (_, bytes) = waiter.read_reply_raw();
    assert_eq!(
        bytes,
        b"*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$1\r\ny\r\n$1\r\n1\r\n"
    );
}

#[test]
fn command_info_rows() {
    let srv = TestServer::start();
    let mut c = srv.raw_authed();
    let r = c.cmd(&[
        "COMMAND",
        "INFO",
        "zadd",
        "zunionstore",
        "bzpopmin",
        "zmpop",
    ]);
    let rows = r.as_array().expect("rows");
    assert_eq!(rows.len(), 4);
    let row = |i: usize| rows[i].as_array().unwrap().to_vec();
    assert_eq!(row(0)[1].as_int(), Some(-4));
    assert_eq!(row(1)[1].as_int(), Some(-4));
    assert_eq!(row(2)[1].as_int(), Some(-3));
    assert_eq!(row(2)[4].as_int(), Some(-2));
    assert_eq!(row(3)[1].as_int(), Some(-4));
    let keys = c.cmd(&[
        "COMMAND",
        "GETKEYS",
        "ZUNIONSTORE",
        "dst",
        "2",
        "a",
        "b",
        "WEIGHTS",
        "1",
        "2",
    ]);
    let keys: Vec<String> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, ["dst", "a", "b"]);
}

#[test]
fn script_basic_resp2() {
    script(2, &[
        (&["flushall"], b"+OK\r\n"),
        (&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"], b":5\r\n"),
        (&["zadd", "z", "nx", "10", "a", "6", "f"], b":1\r\n"),
        (&["zadd", "z", "xx", "ch", "11", "a", "7", "g"], b":1\r\n"),
        (&["zadd", "z", "gt", "ch", "1", "a", "12", "b"], b":1\r\n"),
        (&["zadd", "z", "lt", "ch", "0", "a"], b":1\r\n"),
        (&["zadd", "z", "incr", "1", "a"], b"$1\r\n1\r\n"),
        (&["zadd", "z", "nx", "incr", "1", "a"], b"$-1\r\n"),
        (&["zadd", "z", "xx", "incr", "1", "nope"], b"$-1\r\n"),
        (&["zadd", "z", "nx", "xx", "1", "a"], b"-ERR XX and NX options at the same time are not compatible\r\n"),
        (&["zadd", "z", "gt", "lt", "1", "a"], b"-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
        (&["zadd", "z", "incr", "1", "a", "2", "b"], b"-ERR INCR option supports a single increment-element pair\r\n"),
        (&["zadd", "z", "x", "a"], b"-ERR value is not a valid float\r\n"),
        (&["zadd", "z", "1", "a", "2"], b"-ERR syntax error\r\n"),
        (&["zadd", "z"], b"-ERR wrong number of arguments for 'zadd' command\r\n"),
        (&["zcard", "z"], b":6\r\n"),
        (&["zcard", "nokey"], b":0\r\n"),
        (&["zscore", "z", "a"], b"$1\r\n1\r\n"),
        (&["zscore", "z", "nope"], b"$-1\r\n"),
        (&["zscore", "nokey", "a"], b"$-1\r\n"),
        (&["zmscore", "z", "a", "nope", "b"], b"*3\r\n$1\r\n1\r\n$-1\r\n$2\r\n12\r\n"),
        (&["zmscore", "nokey", "a"], b"*1\r\n$-1\r\n"),
        (&["zincrby", "z", "2.5", "c"], b"$3\r\n5.5\r\n"),
        (&["zincrby", "z", "x", "c"], b"-ERR value is not a valid float\r\n"),
        (&["zadd", "z", "+inf", "posinf", "-inf", "neginf"], b":2\r\n"),
        (&["zincrby", "z", "-inf", "posinf"], b"-ERR resulting score is not a number (NaN)\r\n"),
        (&["zrank", "z", "c"], b":4\r\n"),
        (&["zrevrank", "z", "c"], b":3\r\n"),
        (&["zrank", "z", "nope"], b"$-1\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*16\r\n$6\r\nneginf\r\n$4\r\n-inf\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nc\r\n$3\r\n5.5\r\n$1\r\nf\r\n$1\r\n6\r\n$1\r\nb\r\n$2\r\n12\r\n$6\r\nposinf\r\n$3\r\ninf\r\n"),
        (&["zrange", "z", "-3", "-1"], b"*3\r\n$1\r\nf\r\n$1\r\nb\r\n$6\r\nposinf\r\n"),
        (&["zrange", "z", "5", "2"], b"*0\r\n"),
        (&["zrange", "z", "-100", "100"], b"*8\r\n$6\r\nneginf\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nc\r\n$1\r\nf\r\n$1\r\nb\r\n$6\r\nposinf\r\n"),
        (&["zrange", "z", "0", "-1", "rev", "withscores"], b"*16\r\n$6\r\nposinf\r\n$3\r\ninf\r\n$1\r\nb\r\n$2\r\n12\r\n$1\r\nf\r\n$1\r\n6\r\n$1\r\nc\r\n$3\r\n5.5\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\na\r\n$1\r\n1\r\n$6\r\nneginf\r\n$4\r\n-inf\r\n"),
        (&["zrange", "z", "(1", "5", "byscore", "withscores"], b"*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"),
        (&["zrange", "z", "5", "(1", "byscore", "rev", "withscores"], b"*4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n"),
        (&["zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "2"], b"*2\r\n$1\r\na\r\n$1\r\nd\r\n"),
        (&["zrange", "z", "-inf", "+inf", "byscore", "limit", "-1", "2"], b"*0\r\n"),
        (&["zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "-1"], b"*7\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nc\r\n$1\r\nf\r\n$1\r\nb\r\n$6\r\nposinf\r\n"),
        (&["zrange", "z", "0", "-1", "limit", "0", "1"], b"-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"),
        (&["zrange", "z", "-", "+", "bylex", "withscores"], b"-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"),
        (&["zrange", "z", "x", "1", "byscore"], b"-ERR min or max is not a float\r\n"),
        (&["zrange", "z", "0", "1", "foo"], b"-ERR syntax error\r\n"),
        (&["zrangebyscore", "z", "1", "5"], b"*3\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n"),
        (&["zrangebyscore", "z", "(1", "(5", "withscores", "limit", "0", "2"], b"*2\r\n$1\r\nd\r\n$1\r\n4\r\n"),
        (&["zrevrangebyscore", "z", "5", "1", "withscores"], b"*6\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\na\r\n$1\r\n1\r\n"),
        (&["zrevrangebyscore", "z", "+inf", "-inf", "limit", "2", "3"], b"*3\r\n$1\r\nf\r\n$1\r\nc\r\n$1\r\ne\r\n"),
        (&["zrangebyscore", "z", "0", "10", "byscore"], b"-ERR syntax error\r\n"),
        (&["zrevrange", "z", "0", "2", "withscores"], b"*6\r\n$6\r\nposinf\r\n$3\r\ninf\r\n$1\r\nb\r\n$2\r\n12\r\n$1\r\nf\r\n$1\r\n6\r\n"),
        (&["zrevrange", "z", "0", "2", "byscore"], b"-ERR syntax error\r\n"),
        (&["zcount", "z", "-inf", "+inf"], b":8\r\n"),
        (&["zcount", "z", "(1", "5"], b":2\r\n"),
        (&["zcount", "z", "5", "1"], b":0\r\n"),
        (&["zcount", "z", "x", "1"], b"-ERR min or max is not a float\r\n"),
        (&["set", "str", "v"], b"+OK\r\n"),
        (&["zadd", "str", "1", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zrange", "str", "0", "-1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zcard", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zscore", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zadd", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "ff"], b":6\r\n"),
        (&["zrangebylex", "lex", "-", "+"], b"*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nff\r\n"),
        (&["zrangebylex", "lex", "[b", "(e"], b"*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zrangebylex", "lex", "(b", "[e", "limit", "1", "2"], b"*2\r\n$1\r\nd\r\n$1\r\ne\r\n"),
        (&["zrevrangebylex", "lex", "+", "-"], b"*6\r\n$2\r\nff\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
        (&["zrevrangebylex", "lex", "[e", "(b"], b"*3\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n"),
        (&["zrangebylex", "lex", "a", "b"], b"-ERR min or max not valid string range item\r\n"),
        (&["zlexcount", "lex", "-", "+"], b":6\r\n"),
        (&["zlexcount", "lex", "[c", "+"], b":4\r\n"),
        (&["zlexcount", "lex", "+", "-"], b":0\r\n"),
        (&["zrange", "lex", "[b", "[d", "bylex"], b"*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zrange", "lex", "[d", "[b", "bylex", "rev"], b"*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"),
        (&["zrangestore", "dst", "z", "0", "2"], b":3\r\n"),
        (&["zrange", "dst", "0", "-1", "withscores"], b"*6\r\n$6\r\nneginf\r\n$4\r\n-inf\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nd\r\n$1\r\n4\r\n"),
        (&["zrangestore", "dst", "z", "0", "-1", "withscores"], b"-ERR syntax error\r\n"),
        (&["zrangestore", "dst", "nokey", "0", "-1"], b":0\r\n"),
        (&["exists", "dst"], b":0\r\n"),
        (&["zremrangebyrank", "z", "0", "1"], b":2\r\n"),
        (&["zremrangebyscore", "z", "(3", "5"], b":2\r\n"),
        (&["zremrangebylex", "lex", "[b", "[c"], b":2\r\n"),
        (&["zrange", "lex", "0", "-1"], b"*4\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nff\r\n"),
        (&["zremrangebyrank", "z", "x", "1"], b"-ERR value is not an integer or out of range\r\n"),
        (&["zremrangebyscore", "z", "x", "1"], b"-ERR min or max is not a float\r\n"),
        (&["zremrangebylex", "lex", "a", "b"], b"-ERR min or max not valid string range item\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*8\r\n$1\r\nc\r\n$3\r\n5.5\r\n$1\r\nf\r\n$1\r\n6\r\n$1\r\nb\r\n$2\r\n12\r\n$6\r\nposinf\r\n$3\r\ninf\r\n"),
        (&["zrem", "z", "a", "b", "c", "nope"], b":2\r\n"),
        (&["zrem", "nokey", "a"], b":0\r\n"),
        (&["zpopmin", "z"], b"*2\r\n$1\r\nf\r\n$1\r\n6\r\n"),
        (&["zpopmax", "z"], b"*2\r\n$6\r\nposinf\r\n$3\r\ninf\r\n"),
        (&["zpopmin", "z", "2"], b"*0\r\n"),
        (&["zpopmax", "z", "0"], b"*0\r\n"),
        (&["zpopmin", "nokey"], b"*0\r\n"),
        (&["zpopmin", "nokey", "3"], b"*0\r\n"),
        (&["zpopmin", "z", "-1"], b"-ERR value is out of range, must be positive\r\n"),
        (&["zpopmin", "z", "1", "2"], b"-ERR syntax error\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*0\r\n"),
    ]);
}

#[test]
fn script_basic_resp3() {
    script(3, &[
        (&["flushall"], b"+OK\r\n"),
        (&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"], b":5\r\n"),
        (&["zadd", "z", "nx", "10", "a", "6", "f"], b":1\r\n"),
        (&["zadd", "z", "xx", "ch", "11", "a", "7", "g"], b":1\r\n"),
        (&["zadd", "z", "gt", "ch", "1", "a", "12", "b"], b":1\r\n"),
        (&["zadd", "z", "lt", "ch", "0", "a"], b":1\r\n"),
        (&["zadd", "z", "incr", "1", "a"], b",1\r\n"),
        (&["zadd", "z", "nx", "incr", "1", "a"], b"_\r\n"),
        (&["zadd", "z", "xx", "incr", "1", "nope"], b"_\r\n"),
        (&["zadd", "z", "nx", "xx", "1", "a"], b"-ERR XX and NX options at the same time are not compatible\r\n"),
        (&["zadd", "z", "gt", "lt", "1", "a"], b"-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
        (&["zadd", "z", "incr", "1", "a", "2", "b"], b"-ERR INCR option supports a single increment-element pair\r\n"),
        (&["zadd", "z", "x", "a"], b"-ERR value is not a valid float\r\n"),
        (&["zadd", "z", "1", "a", "2"], b"-ERR syntax error\r\n"),
        (&["zadd", "z"], b"-ERR wrong number of arguments for 'zadd' command\r\n"),
        (&["zcard", "z"], b":6\r\n"),
        (&["zcard", "nokey"], b":0\r\n"),
        (&["zscore", "z", "a"], b",1\r\n"),
        (&["zscore", "z", "nope"], b"_\r\n"),
        (&["zscore", "nokey", "a"], b"_\r\n"),
        (&["zmscore", "z", "a", "nope", "b"], b"*3\r\n,1\r\n_\r\n,12\r\n"),
        (&["zmscore", "nokey", "a"], b"*1\r\n_\r\n"),
        (&["zincrby", "z", "2.5", "c"], b",5.5\r\n"),
        (&["zincrby", "z", "x", "c"], b"-ERR value is not a valid float\r\n"),
        (&["zadd", "z", "+inf", "posinf", "-inf", "neginf"], b":2\r\n"),
        (&["zincrby", "z", "-inf", "posinf"], b"-ERR resulting score is not a number (NaN)\r\n"),
        (&["zrank", "z", "c"], b":4\r\n"),
        (&["zrevrank", "z", "c"], b":3\r\n"),
        (&["zrank", "z", "nope"], b"_\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*8\r\n*2\r\n$6\r\nneginf\r\n,-inf\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nc\r\n,5.5\r\n*2\r\n$1\r\nf\r\n,6\r\n*2\r\n$1\r\nb\r\n,12\r\n*2\r\n$6\r\nposinf\r\n,inf\r\n"),
        (&["zrange", "z", "-3", "-1"], b"*3\r\n$1\r\nf\r\n$1\r\nb\r\n$6\r\nposinf\r\n"),
        (&["zrange", "z", "5", "2"], b"*0\r\n"),
        (&["zrange", "z", "-100", "100"], b"*8\r\n$6\r\nneginf\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nc\r\n$1\r\nf\r\n$1\r\nb\r\n$6\r\nposinf\r\n"),
        (&["zrange", "z", "0", "-1", "rev", "withscores"], b"*8\r\n*2\r\n$6\r\nposinf\r\n,inf\r\n*2\r\n$1\r\nb\r\n,12\r\n*2\r\n$1\r\nf\r\n,6\r\n*2\r\n$1\r\nc\r\n,5.5\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$6\r\nneginf\r\n,-inf\r\n"),
        (&["zrange", "z", "(1", "5", "byscore", "withscores"], b"*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n"),
        (&["zrange", "z", "5", "(1", "byscore", "rev", "withscores"], b"*2\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nd\r\n,4\r\n"),
        (&["zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "2"], b"*2\r\n$1\r\na\r\n$1\r\nd\r\n"),
        (&["zrange", "z", "-inf", "+inf", "byscore", "limit", "-1", "2"], b"*0\r\n"),
        (&["zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "-1"], b"*7\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nc\r\n$1\r\nf\r\n$1\r\nb\r\n$6\r\nposinf\r\n"),
        (&["zrange", "z", "0", "-1", "limit", "0", "1"], b"-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"),
        (&["zrange", "z", "-", "+", "bylex", "withscores"], b"-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"),
        (&["zrange", "z", "x", "1", "byscore"], b"-ERR min or max is not a float\r\n"),
        (&["zrange", "z", "0", "1", "foo"], b"-ERR syntax error\r\n"),
        (&["zrangebyscore", "z", "1", "5"], b"*3\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n"),
        (&["zrangebyscore", "z", "(1", "(5", "withscores", "limit", "0", "2"], b"*1\r\n*2\r\n$1\r\nd\r\n,4\r\n"),
        (&["zrevrangebyscore", "z", "5", "1", "withscores"], b"*3\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\na\r\n,1\r\n"),
        (&["zrevrangebyscore", "z", "+inf", "-inf", "limit", "2", "3"], b"*3\r\n$1\r\nf\r\n$1\r\nc\r\n$1\r\ne\r\n"),
        (&["zrangebyscore", "z", "0", "10", "byscore"], b"-ERR syntax error\r\n"),
        (&["zrevrange", "z", "0", "2", "withscores"], b"*3\r\n*2\r\n$6\r\nposinf\r\n,inf\r\n*2\r\n$1\r\nb\r\n,12\r\n*2\r\n$1\r\nf\r\n,6\r\n"),
        (&["zrevrange", "z", "0", "2", "byscore"], b"-ERR syntax error\r\n"),
        (&["zcount", "z", "-inf", "+inf"], b":8\r\n"),
        (&["zcount", "z", "(1", "5"], b":2\r\n"),
        (&["zcount", "z", "5", "1"], b":0\r\n"),
        (&["zcount", "z", "x", "1"], b"-ERR min or max is not a float\r\n"),
        (&["set", "str", "v"], b"+OK\r\n"),
        (&["zadd", "str", "1", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zrange", "str", "0", "-1"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zcard", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zscore", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zadd", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "ff"], b":6\r\n"),
        (&["zrangebylex", "lex", "-", "+"], b"*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nff\r\n"),
        (&["zrangebylex", "lex", "[b", "(e"], b"*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zrangebylex", "lex", "(b", "[e", "limit", "1", "2"], b"*2\r\n$1\r\nd\r\n$1\r\ne\r\n"),
        (&["zrevrangebylex", "lex", "+", "-"], b"*6\r\n$2\r\nff\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
        (&["zrevrangebylex", "lex", "[e", "(b"], b"*3\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n"),
        (&["zrangebylex", "lex", "a", "b"], b"-ERR min or max not valid string range item\r\n"),
        (&["zlexcount", "lex", "-", "+"], b":6\r\n"),
        (&["zlexcount", "lex", "[c", "+"], b":4\r\n"),
        (&["zlexcount", "lex", "+", "-"], b":0\r\n"),
        (&["zrange", "lex", "[b", "[d", "bylex"], b"*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zrange", "lex", "[d", "[b", "bylex", "rev"], b"*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"),
        (&["zrangestore", "dst", "z", "0", "2"], b":3\r\n"),
        (&["zrange", "dst", "0", "-1", "withscores"], b"*3\r\n*2\r\n$6\r\nneginf\r\n,-inf\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nd\r\n,4\r\n"),
        (&["zrangestore", "dst", "z", "0", "-1", "withscores"], b"-ERR syntax error\r\n"),
        (&["zrangestore", "dst", "nokey", "0", "-1"], b":0\r\n"),
        (&["exists", "dst"], b":0\r\n"),
        (&["zremrangebyrank", "z", "0", "1"], b":2\r\n"),
        (&["zremrangebyscore", "z", "(3", "5"], b":2\r\n"),
        (&["zremrangebylex", "lex", "[b", "[c"], b":2\r\n"),
        (&["zrange", "lex", "0", "-1"], b"*4\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nff\r\n"),
        (&["zremrangebyrank", "z", "x", "1"], b"-ERR value is not an integer or out of range\r\n"),
        (&["zremrangebyscore", "z", "x", "1"], b"-ERR min or max is not a float\r\n"),
        (&["zremrangebylex", "lex", "a", "b"], b"-ERR min or max not valid string range item\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*4\r\n*2\r\n$1\r\nc\r\n,5.5\r\n*2\r\n$1\r\nf\r\n,6\r\n*2\r\n$1\r\nb\r\n,12\r\n*2\r\n$6\r\nposinf\r\n,inf\r\n"),
        (&["zrem", "z", "a", "b", "c", "nope"], b":2\r\n"),
        (&["zrem", "nokey", "a"], b":0\r\n"),
        (&["zpopmin", "z"], b"*2\r\n$1\r\nf\r\n,6\r\n"),
        (&["zpopmax", "z"], b"*2\r\n$6\r\nposinf\r\n,inf\r\n"),
        (&["zpopmin", "z", "2"], b"*0\r\n"),
        (&["zpopmax", "z", "0"], b"*0\r\n"),
        (&["zpopmin", "nokey"], b"*0\r\n"),
        (&["zpopmin", "nokey", "3"], b"*0\r\n"),
        (&["zpopmin", "z", "-1"], b"-ERR value is out of range, must be positive\r\n"),
        (&["zpopmin", "z", "1", "2"], b"-ERR syntax error\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*0\r\n"),
    ]);
}

#[test]
fn script_multi_resp2() {
    script(2, &[
        (&["flushall"], b"+OK\r\n"),
        (&["zadd", "a", "1", "x", "2", "y", "3", "z"], b":3\r\n"),
        (&["zadd", "b", "10", "y", "20", "z", "30", "w"], b":3\r\n"),
        (&["zunion", "2", "a", "b", "withscores"], b"*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"),
        (&["zunion", "2", "a", "b", "weights", "2", "3", "withscores"], b"*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$2\r\n34\r\n$1\r\nz\r\n$2\r\n66\r\n$1\r\nw\r\n$2\r\n90\r\n"),
        (&["zunion", "2", "a", "b", "aggregate", "max", "withscores"], b"*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$2\r\n20\r\n$1\r\nw\r\n$2\r\n30\r\n"),
        (&["zunion", "2", "a", "b", "aggregate", "min", "weights", "1", "-1", "withscores"], b"*8\r\n$1\r\nw\r\n$3\r\n-30\r\n$1\r\nz\r\n$3\r\n-20\r\n$1\r\ny\r\n$3\r\n-10\r\n$1\r\nx\r\n$1\r\n1\r\n"),
        (&["zinter", "2", "a", "b", "withscores"], b"*4\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n"),
        (&["zinter", "2", "a", "b", "aggregate", "max"], b"*2\r\n$1\r\ny\r\n$1\r\nz\r\n"),
        (&["zinter", "2", "a", "nokey"], b"*0\r\n"),
        (&["zdiff", "2", "a", "b", "withscores"], b"*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
        (&["zdiff", "2", "nokey", "a"], b"*0\r\n"),
        (&["zdiff", "1", "a"], b"*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"),
        (&["zunion", "0", "a"], b"-ERR at least 1 input key is needed for 'zunion' command\r\n"),
        (&["zunion", "x", "a"], b"-ERR value is not an integer or out of range\r\n"),
        (&["zunion", "3", "a", "b"], b"-ERR syntax error\r\n"),
        (&["zunion", "1", "a", "weights", "x"], b"-ERR weight value is not a float\r\n"),
        (&["zunion", "1", "a", "aggregate", "foo"], b"-ERR syntax error\r\n"),
        (&["zdiff", "1", "a", "weights", "1"], b"-ERR syntax error\r\n"),
        (&["zinter", "1", "a", "withscores", "withscores"], b"*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"),
        (&["zintercard", "2", "a", "b"], b":2\r\n"),
        (&["zintercard", "2", "a", "b", "limit", "1"], b":1\r\n"),
        (&["zintercard", "2", "a", "b", "limit", "0"], b":2\r\n"),
        (&["zintercard", "1", "a", "limit", "-1"], b"-ERR LIMIT can't be negative\r\n"),
        (&["zintercard", "0", "a"], b"-ERR at least 1 input key is needed for 'zintercard' command\r\n"),
        (&["zunionstore", "dst", "2", "a", "b", "weights", "1", "2"], b":4\r\n"),
        (&["zrange", "dst", "0", "-1", "withscores"], b"*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n22\r\n$1\r\nz\r\n$2\r\n43\r\n$1\r\nw\r\n$2\r\n60\r\n"),
        (&["zinterstore", "dst", "2", "a", "b", "aggregate", "max"], b":2\r\n"),
        (&["zrange", "dst", "0", "-1", "withscores"], b"*4\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$2\r\n20\r\n"),
        (&["zdiffstore", "dst", "2", "a", "b"], b":1\r\n"),
        (&["zrange", "dst", "0", "-1", "withscores"], b"*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
        (&["zdiffstore", "dst", "2", "b", "b"], b":0\r\n"),
        (&["exists", "dst"], b":0\r\n"),
        (&["zunionstore", "dst", "1", "a", "withscores"], b"-ERR syntax error\r\n"),
        (&["zunionstore", "dst", "0", "a"], b"-ERR at least 1 input key is needed for 'zunionstore' command\r\n"),
        (&["zunionstore", "a", "2", "a", "b"], b":4\r\n"),
        (&["zrange", "a", "0", "-1", "withscores"], b"*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"),
        (&["set", "str", "v"], b"+OK\r\n"),
        (&["zunion", "2", "a", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zinterstore", "dst", "2", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zmpop", "1", "a", "min"], b"*2\r\n$1\r\na\r\n*1\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
        (&["zmpop", "2", "nokey", "a", "max", "count", "2"], b"*2\r\n$1\r\na\r\n*2\r\n*2\r\n$1\r\nw\r\n$2\r\n30\r\n*2\r\n$1\r\nz\r\n$2\r\n23\r\n"),
        (&["zmpop", "1", "nokey", "min"], b"*-1\r\n"),
        (&["zmpop", "0", "a", "min"], b"-ERR numkeys should be greater than 0\r\n"),
        (&["zmpop", "x", "a", "min"], b"-ERR numkeys should be greater than 0\r\n"),
        (&["zmpop", "2", "a", "min"], b"-ERR syntax error\r\n"),
        (&["zmpop", "1", "a", "foo"], b"-ERR syntax error\r\n"),
        (&["zmpop", "1", "a", "min", "count", "0"], b"-ERR count should be greater than 0\r\n"),
        (&["zmpop", "1", "a", "min", "count", "x"], b"-ERR count should be greater than 0\r\n"),
        (&["zmpop", "1", "a", "min", "count", "1", "count", "2"], b"-ERR syntax error\r\n"),
        (&["zmpop", "1", "str", "min"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["bzmpop", "0.01", "1", "nokey", "min"], b"*-1\r\n"),
        (&["bzmpop", "0", "2", "nokey", "a", "max", "count", "10"], b"*2\r\n$1\r\na\r\n*1\r\n*2\r\n$1\r\ny\r\n$2\r\n12\r\n"),
        (&["bzmpop", "x", "1", "a", "min"], b"-ERR timeout is not a float or out of range\r\n"),
        (&["bzmpop", "-1", "1", "a", "min"], b"-ERR timeout is negative\r\n"),
        (&["bzpopmin", "nokey", "0.01"], b"*-1\r\n"),
        (&["zadd", "c", "1", "p", "2", "q"], b":2\r\n"),
        (&["bzpopmin", "nokey", "c", "0"], b"*3\r\n$1\r\nc\r\n$1\r\np\r\n$1\r\n1\r\n"),
        (&["bzpopmax", "c", "0"], b"*3\r\n$1\r\nc\r\n$1\r\nq\r\n$1\r\n2\r\n"),
        (&["bzpopmin", "c", "x"], b"-ERR timeout is not a float or out of range\r\n"),
        (&["bzpopmin", "c", "-1"], b"-ERR timeout is negative\r\n"),
        (&["bzpopmin", "str", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["exists", "c"], b":0\r\n"),
        (&["zadd", "r", "1", "m"], b":1\r\n"),
        (&["zrandmember", "r"], b"$1\r\nm\r\n"),
        (&["zrandmember", "r", "1"], b"*1\r\n$1\r\nm\r\n"),
        (&["zrandmember", "r", "1", "withscores"], b"*2\r\n$1\r\nm\r\n$1\r\n1\r\n"),
        (&["zrandmember", "r", "-3", "withscores"], b"*6\r\n$1\r\nm\r\n$1\r\n1\r\n$1\r\nm\r\n$1\r\n1\r\n$1\r\nm\r\n$1\r\n1\r\n"),
        (&["zrandmember", "r", "-3"], b"*3\r\n$1\r\nm\r\n$1\r\nm\r\n$1\r\nm\r\n"),
        (&["zrandmember", "r", "5"], b"*1\r\n$1\r\nm\r\n"),
        (&["zrandmember", "r", "0"], b"*0\r\n"),
        (&["zrandmember", "nokey"], b"$-1\r\n"),
        (&["zrandmember", "nokey", "5"], b"*0\r\n"),
        (&["zrandmember", "r", "x"], b"-ERR value is not an integer or out of range\r\n"),
        (&["zrandmember", "r", "1", "foo"], b"-ERR syntax error\r\n"),
        (&["zrandmember", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zscan", "r", "0"], b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nm\r\n$1\r\n1\r\n"),
        (&["zscan", "nokey", "0"], b"*2\r\n$1\r\n0\r\n*0\r\n"),
        (&["zscan", "r", "x"], b"-ERR invalid cursor\r\n"),
        (&["zscan", "r", "0", "count", "0"], b"-ERR syntax error\r\n"),
        (&["zscan", "r", "0", "type", "zset"], b"-ERR syntax error\r\n"),
        (&["zscan", "r", "0", "match", "m*", "count", "5"], b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nm\r\n$1\r\n1\r\n"),
        (&["zscan", "r", "0", "match", "n*"], b"*2\r\n$1\r\n0\r\n*0\r\n"),
        (&["zscan", "str", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zadd", "bin", "1", "a\\x00b", "2", "\\xff"], b":2\r\n"),
        (&["zrange", "bin", "0", "-1", "withscores"], b"*4\r\n$6\r\na\\x00b\r\n$1\r\n1\r\n$4\r\n\\xff\r\n$1\r\n2\r\n"),
        (&["zadd", "e", "0", "x"], b":1\r\n"),
        (&["zrem", "e", "x"], b":1\r\n"),
        (&["exists", "e"], b":0\r\n"),
        (&["zadd", "xxk", "xx", "1", "a"], b":0\r\n"),
        (&["exists", "xxk"], b":0\r\n"),
        (&["zadd", "z", "1", "a", "1", "a", "2", "a"], b":1\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*2\r\n$1\r\na\r\n$1\r\n2\r\n"),
        (&["zadd", "z", "ch", "1", "a", "1", "b", "1", "b"], b":2\r\n"),
        (&["zrank", "z", "b"], b":1\r\n"),
        (&["zrevrank", "z", "b"], b":0\r\n"),
        (&["zadd", "neg", "-0", "m", "0.5", "h", "-2.5", "n", "1e20", "big", "-0.25", "sm"], b":5\r\n"),
        (&["zrange", "neg", "0", "-1", "withscores"], b"*10\r\n$1\r\nn\r\n$4\r\n-2.5\r\n$2\r\nsm\r\n$5\r\n-0.25\r\n$1\r\nm\r\n$1\r\n0\r\n$1\r\nh\r\n$3\r\n0.5\r\n$3\r\nbig\r\n$5\r\n1e+20\r\n"),
        (&["zscore", "neg", "m"], b"$1\r\n0\r\n"),
        (&["zrange", "neg", "(-inf", "(+inf", "byscore"], b"*5\r\n$1\r\nn\r\n$2\r\nsm\r\n$1\r\nm\r\n$1\r\nh\r\n$3\r\nbig\r\n"),
        (&["zrange", "neg", "-0.25", "0", "byscore", "withscores"], b"*4\r\n$2\r\nsm\r\n$5\r\n-0.25\r\n$1\r\nm\r\n$1\r\n0\r\n"),
        (&["zadd", "pop", "1", "a", "2", "b", "3", "c", "4", "d"], b":4\r\n"),
        (&["zpopmin", "pop", "2"], b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"),
        (&["zpopmax", "pop", "1"], b"*2\r\n$1\r\nd\r\n$1\r\n4\r\n"),
        (&["zpopmax", "pop"], b"*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
        (&["zrangebyscore", "pop", "-inf", "+inf", "withscores"], b"*0\r\n"),
        (&["zincrby", "newk", "1.5", "m"], b"$3\r\n1.5\r\n"),
        (&["zscore", "newk", "m"], b"$3\r\n1.5\r\n"),
        (&["zmscore", "newk", "m", "x"], b"*2\r\n$3\r\n1.5\r\n$-1\r\n"),
        (&["zadd", "big", "1e300", "m"], b":1\r\n"),
        (&["type", "big"], b"+zset\r\n"),
    ]);
}

#[test]
fn script_multi_resp3() {
    script(3, &[
        (&["flushall"], b"+OK\r\n"),
        (&["zadd", "a", "1", "x", "2", "y", "3", "z"], b":3\r\n"),
        (&["zadd", "b", "10", "y", "20", "z", "30", "w"], b":3\r\n"),
        (&["zunion", "2", "a", "b", "withscores"], b"*4\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,12\r\n*2\r\n$1\r\nz\r\n,23\r\n*2\r\n$1\r\nw\r\n,30\r\n"),
        (&["zunion", "2", "a", "b", "weights", "2", "3", "withscores"], b"*4\r\n*2\r\n$1\r\nx\r\n,2\r\n*2\r\n$1\r\ny\r\n,34\r\n*2\r\n$1\r\nz\r\n,66\r\n*2\r\n$1\r\nw\r\n,90\r\n"),
        (&["zunion", "2", "a", "b", "aggregate", "max", "withscores"], b"*4\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,10\r\n*2\r\n$1\r\nz\r\n,20\r\n*2\r\n$1\r\nw\r\n,30\r\n"),
        (&["zunion", "2", "a", "b", "aggregate", "min", "weights", "1", "-1", "withscores"], b"*4\r\n*2\r\n$1\r\nw\r\n,-30\r\n*2\r\n$1\r\nz\r\n,-20\r\n*2\r\n$1\r\ny\r\n,-10\r\n*2\r\n$1\r\nx\r\n,1\r\n"),
        (&["zinter", "2", "a", "b", "withscores"], b"*2\r\n*2\r\n$1\r\ny\r\n,12\r\n*2\r\n$1\r\nz\r\n,23\r\n"),
        (&["zinter", "2", "a", "b", "aggregate", "max"], b"*2\r\n$1\r\ny\r\n$1\r\nz\r\n"),
        (&["zinter", "2", "a", "nokey"], b"*0\r\n"),
        (&["zdiff", "2", "a", "b", "withscores"], b"*1\r\n*2\r\n$1\r\nx\r\n,1\r\n"),
        (&["zdiff", "2", "nokey", "a"], b"*0\r\n"),
        (&["zdiff", "1", "a"], b"*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"),
        (&["zunion", "0", "a"], b"-ERR at least 1 input key is needed for 'zunion' command\r\n"),
        (&["zunion", "x", "a"], b"-ERR value is not an integer or out of range\r\n"),
        (&["zunion", "3", "a", "b"], b"-ERR syntax error\r\n"),
        (&["zunion", "1", "a", "weights", "x"], b"-ERR weight value is not a float\r\n"),
        (&["zunion", "1", "a", "aggregate", "foo"], b"-ERR syntax error\r\n"),
        (&["zdiff", "1", "a", "weights", "1"], b"-ERR syntax error\r\n"),
        (&["zinter", "1", "a", "withscores", "withscores"], b"*3\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,2\r\n*2\r\n$1\r\nz\r\n,3\r\n"),
        (&["zintercard", "2", "a", "b"], b":2\r\n"),
        (&["zintercard", "2", "a", "b", "limit", "1"], b":1\r\n"),
        (&["zintercard", "2", "a", "b", "limit", "0"], b":2\r\n"),
        (&["zintercard", "1", "a", "limit", "-1"], b"-ERR LIMIT can't be negative\r\n"),
        (&["zintercard", "0", "a"], b"-ERR at least 1 input key is needed for 'zintercard' command\r\n"),
        (&["zunionstore", "dst", "2", "a", "b", "weights", "1", "2"], b":4\r\n"),
        (&["zrange", "dst", "0", "-1", "withscores"], b"*4\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,22\r\n*2\r\n$1\r\nz\r\n,43\r\n*2\r\n$1\r\nw\r\n,60\r\n"),
        (&["zinterstore", "dst", "2", "a", "b", "aggregate", "max"], b":2\r\n"),
        (&["zrange", "dst", "0", "-1", "withscores"], b"*2\r\n*2\r\n$1\r\ny\r\n,10\r\n*2\r\n$1\r\nz\r\n,20\r\n"),
        (&["zdiffstore", "dst", "2", "a", "b"], b":1\r\n"),
        (&["zrange", "dst", "0", "-1", "withscores"], b"*1\r\n*2\r\n$1\r\nx\r\n,1\r\n"),
        (&["zdiffstore", "dst", "2", "b", "b"], b":0\r\n"),
        (&["exists", "dst"], b":0\r\n"),
        (&["zunionstore", "dst", "1", "a", "withscores"], b"-ERR syntax error\r\n"),
        (&["zunionstore", "dst", "0", "a"], b"-ERR at least 1 input key is needed for 'zunionstore' command\r\n"),
        (&["zunionstore", "a", "2", "a", "b"], b":4\r\n"),
        (&["zrange", "a", "0", "-1", "withscores"], b"*4\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,12\r\n*2\r\n$1\r\nz\r\n,23\r\n*2\r\n$1\r\nw\r\n,30\r\n"),
        (&["set", "str", "v"], b"+OK\r\n"),
        (&["zunion", "2", "a", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zinterstore", "dst", "2", "str", "a"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zmpop", "1", "a", "min"], b"*2\r\n$1\r\na\r\n*1\r\n*2\r\n$1\r\nx\r\n,1\r\n"),
        (&["zmpop", "2", "nokey", "a", "max", "count", "2"], b"*2\r\n$1\r\na\r\n*2\r\n*2\r\n$1\r\nw\r\n,30\r\n*2\r\n$1\r\nz\r\n,23\r\n"),
        (&["zmpop", "1", "nokey", "min"], b"_\r\n"),
        (&["zmpop", "0", "a", "min"], b"-ERR numkeys should be greater than 0\r\n"),
        (&["zmpop", "x", "a", "min"], b"-ERR numkeys should be greater than 0\r\n"),
        (&["zmpop", "2", "a", "min"], b"-ERR syntax error\r\n"),
        (&["zmpop", "1", "a", "foo"], b"-ERR syntax error\r\n"),
        (&["zmpop", "1", "a", "min", "count", "0"], b"-ERR count should be greater than 0\r\n"),
        (&["zmpop", "1", "a", "min", "count", "x"], b"-ERR count should be greater than 0\r\n"),
        (&["zmpop", "1", "a", "min", "count", "1", "count", "2"], b"-ERR syntax error\r\n"),
        (&["zmpop", "1", "str", "min"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["bzmpop", "0.01", "1", "nokey", "min"], b"_\r\n"),
        (&["bzmpop", "0", "2", "nokey", "a", "max", "count", "10"], b"*2\r\n$1\r\na\r\n*1\r\n*2\r\n$1\r\ny\r\n,12\r\n"),
        (&["bzmpop", "x", "1", "a", "min"], b"-ERR timeout is not a float or out of range\r\n"),
        (&["bzmpop", "-1", "1", "a", "min"], b"-ERR timeout is negative\r\n"),
        (&["bzpopmin", "nokey", "0.01"], b"_\r\n"),
        (&["zadd", "c", "1", "p", "2", "q"], b":2\r\n"),
        (&["bzpopmin", "nokey", "c", "0"], b"*3\r\n$1\r\nc\r\n$1\r\np\r\n,1\r\n"),
        (&["bzpopmax", "c", "0"], b"*3\r\n$1\r\nc\r\n$1\r\nq\r\n,2\r\n"),
        (&["bzpopmin", "c", "x"], b"-ERR timeout is not a float or out of range\r\n"),
        (&["bzpopmin", "c", "-1"], b"-ERR timeout is negative\r\n"),
        (&["bzpopmin", "str", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["exists", "c"], b":0\r\n"),
        (&["zadd", "r", "1", "m"], b":1\r\n"),
        (&["zrandmember", "r"], b"$1\r\nm\r\n"),
        (&["zrandmember", "r", "1"], b"*1\r\n$1\r\nm\r\n"),
        (&["zrandmember", "r", "1", "withscores"], b"*1\r\n*2\r\n$1\r\nm\r\n,1\r\n"),
        (&["zrandmember", "r", "-3", "withscores"], b"*3\r\n*2\r\n$1\r\nm\r\n,1\r\n*2\r\n$1\r\nm\r\n,1\r\n*2\r\n$1\r\nm\r\n,1\r\n"),
        (&["zrandmember", "r", "-3"], b"*3\r\n$1\r\nm\r\n$1\r\nm\r\n$1\r\nm\r\n"),
        (&["zrandmember", "r", "5"], b"*1\r\n$1\r\nm\r\n"),
        (&["zrandmember", "r", "0"], b"*0\r\n"),
        (&["zrandmember", "nokey"], b"_\r\n"),
        (&["zrandmember", "nokey", "5"], b"*0\r\n"),
        (&["zrandmember", "r", "x"], b"-ERR value is not an integer or out of range\r\n"),
        (&["zrandmember", "r", "1", "foo"], b"-ERR syntax error\r\n"),
        (&["zrandmember", "str"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zscan", "r", "0"], b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nm\r\n$1\r\n1\r\n"),
        (&["zscan", "nokey", "0"], b"*2\r\n$1\r\n0\r\n*0\r\n"),
        (&["zscan", "r", "x"], b"-ERR invalid cursor\r\n"),
        (&["zscan", "r", "0", "count", "0"], b"-ERR syntax error\r\n"),
        (&["zscan", "r", "0", "type", "zset"], b"-ERR syntax error\r\n"),
        (&["zscan", "r", "0", "match", "m*", "count", "5"], b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nm\r\n$1\r\n1\r\n"),
        (&["zscan", "r", "0", "match", "n*"], b"*2\r\n$1\r\n0\r\n*0\r\n"),
        (&["zscan", "str", "0"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zadd", "bin", "1", "a\\x00b", "2", "\\xff"], b":2\r\n"),
        (&["zrange", "bin", "0", "-1", "withscores"], b"*2\r\n*2\r\n$6\r\na\\x00b\r\n,1\r\n*2\r\n$4\r\n\\xff\r\n,2\r\n"),
        (&["zadd", "e", "0", "x"], b":1\r\n"),
        (&["zrem", "e", "x"], b":1\r\n"),
        (&["exists", "e"], b":0\r\n"),
        (&["zadd", "xxk", "xx", "1", "a"], b":0\r\n"),
        (&["exists", "xxk"], b":0\r\n"),
        (&["zadd", "z", "1", "a", "1", "a", "2", "a"], b":1\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*1\r\n*2\r\n$1\r\na\r\n,2\r\n"),
        (&["zadd", "z", "ch", "1", "a", "1", "b", "1", "b"], b":2\r\n"),
        (&["zrank", "z", "b"], b":1\r\n"),
        (&["zrevrank", "z", "b"], b":0\r\n"),
        (&["zadd", "neg", "-0", "m", "0.5", "h", "-2.5", "n", "1e20", "big", "-0.25", "sm"], b":5\r\n"),
        (&["zrange", "neg", "0", "-1", "withscores"], b"*5\r\n*2\r\n$1\r\nn\r\n,-2.5\r\n*2\r\n$2\r\nsm\r\n,-0.25\r\n*2\r\n$1\r\nm\r\n,0\r\n*2\r\n$1\r\nh\r\n,0.5\r\n*2\r\n$3\r\nbig\r\n,1e+20\r\n"),
        (&["zscore", "neg", "m"], b",0\r\n"),
        (&["zrange", "neg", "(-inf", "(+inf", "byscore"], b"*5\r\n$1\r\nn\r\n$2\r\nsm\r\n$1\r\nm\r\n$1\r\nh\r\n$3\r\nbig\r\n"),
        (&["zrange", "neg", "-0.25", "0", "byscore", "withscores"], b"*2\r\n*2\r\n$2\r\nsm\r\n,-0.25\r\n*2\r\n$1\r\nm\r\n,0\r\n"),
        (&["zadd", "pop", "1", "a", "2", "b", "3", "c", "4", "d"], b":4\r\n"),
        (&["zpopmin", "pop", "2"], b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"),
        (&["zpopmax", "pop", "1"], b"*1\r\n*2\r\n$1\r\nd\r\n,4\r\n"),
        (&["zpopmax", "pop"], b"*2\r\n$1\r\nc\r\n,3\r\n"),
        (&["zrangebyscore", "pop", "-inf", "+inf", "withscores"], b"*0\r\n"),
        (&["zincrby", "newk", "1.5", "m"], b",1.5\r\n"),
        (&["zscore", "newk", "m"], b",1.5\r\n"),
        (&["zmscore", "newk", "m", "x"], b"*2\r\n,1.5\r\n_\r\n"),
        (&["zadd", "big", "1e300", "m"], b":1\r\n"),
        (&["type", "big"], b"+zset\r\n"),
    ]);
}
#[test]
fn script_edge_resp2() {
    script(2, &[
        (&["flushall"], b"+OK\r\n"),
        (&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"], b":6\r\n"),
        (&["zrangestore", "d", "z", "2", "5", "byscore", "limit", "1", "2"], b":2\r\n"),
        (&["zrange", "d", "0", "-1", "withscores"], b"*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"),
        (&["zrangestore", "d", "z", "(5", "-inf", "byscore", "rev"], b":4\r\n"),
        (&["zrange", "d", "0", "-1", "withscores"], b"*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"),
        (&["zrangestore", "d", "z", "0", "-1", "rev"], b":6\r\n"),
        (&["zrange", "d", "0", "-1", "withscores"], b"*12\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n"),
        (&["zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"], b":5\r\n"),
        (&["zrangestore", "d", "l", "[b", "(e", "bylex"], b":3\r\n"),
        (&["zrange", "d", "0", "-1"], b"*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zrangestore", "d", "l", "+", "-", "bylex", "rev", "limit", "1", "2"], b":2\r\n"),
        (&["zrange", "d", "0", "-1"], b"*2\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zrevrangebylex", "l", "+", "-", "limit", "1", "2"], b"*2\r\n$1\r\nd\r\n$1\r\nc\r\n"),
        (&["zrevrangebylex", "l", "(d", "-", "limit", "0", "10"], b"*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
        (&["zrangebylex", "l", "-", "+", "limit", "1"], b"-ERR syntax error\r\n"),
        (&["zrange", "l", "-", "+", "bylex", "limit", "0", "-1"], b"*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"),
        (&["zremrangebyrank", "z", "-2", "-1"], b":2\r\n"),
        (&["zremrangebyrank", "z", "10", "20"], b":0\r\n"),
        (&["zrange", "z", "0", "-1"], b"*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zadd", "z", "xx", "gt", "ch", "10", "a", "0", "b", "100", "zz"], b":1\r\n"),
        (&["zadd", "z", "xx", "lt", "ch", "10", "a", "0", "b"], b":1\r\n"),
        (&["zadd", "z", "gt", "1", "new"], b":1\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*10\r\n$1\r\nb\r\n$1\r\n0\r\n$3\r\nnew\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\na\r\n$2\r\n10\r\n"),
        (&["zinter", "2", "z", "l", "weights", "2", "3", "withscores"], b"*8\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nc\r\n$1\r\n6\r\n$1\r\nd\r\n$1\r\n8\r\n$1\r\na\r\n$2\r\n20\r\n"),
        (&["zadd", "l", "7", "a"], b":0\r\n"),
        (&["zinter", "2", "z", "l", "weights", "2", "3", "aggregate", "min", "withscores"], b"*8\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nc\r\n$1\r\n0\r\n$1\r\nd\r\n$1\r\n0\r\n$1\r\na\r\n$2\r\n20\r\n"),
        (&["zinter", "2", "z", "l", "weights", "2", "3", "aggregate", "max", "withscores"], b"*8\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nc\r\n$1\r\n6\r\n$1\r\nd\r\n$1\r\n8\r\n$1\r\na\r\n$2\r\n21\r\n"),
        (&["zintercard", "1", "z", "limit", "x"], b"-ERR LIMIT can't be negative\r\n"),
        (&["zintercard", "2", "z", "l", "limit", "1"], b":1\r\n"),
        (&["set", "s", "v"], b"+OK\r\n"),
        (&["zmpop", "1", "s", "min"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zdiff", "2", "z", "s"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zdiff", "2", "nokey", "s"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zinter", "2", "nokey", "s"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zunion", "2", "z", "l", "weights", "1"], b"-ERR syntax error\r\n"),
        (&["zunion", "2", "z", "l", "weights", "1", "1", "1"], b"-ERR syntax error\r\n"),
        (&["zunion", "2", "z", "l", "aggregate"], b"-ERR syntax error\r\n"),
        (&["zrange", "z", "0", "-1", "limit"], b"-ERR syntax error\r\n"),
        (&["zrange", "z", "0"], b"-ERR wrong number of arguments for 'zrange' command\r\n"),
        (&["zrange", "z", "0", "1", "withscores", "withscores"], b"*4\r\n$1\r\nb\r\n$1\r\n0\r\n$3\r\nnew\r\n$1\r\n1\r\n"),
        (&["zrandmember", "z", "9223372036854775807", "withscores"], b"-ERR value is out of range\r\n"),
        (&["zadd", "z", "1.5e3", "h", "-.5", "i", "0x10", "j"], b":3\r\n"),
        (&["zadd", "z", "1.5e3", "h", "-.5", "i"], b":0\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*16\r\n$1\r\ni\r\n$4\r\n-0.5\r\n$1\r\nb\r\n$1\r\n0\r\n$3\r\nnew\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nj\r\n$2\r\n16\r\n$1\r\nh\r\n$4\r\n1500\r\n"),
        (&["zadd", "z", "inf", "a", "-inf", "b"], b":0\r\n"),
        (&["zcount", "z", "-inf", "-inf"], b":1\r\n"),
        (&["zcount", "z", "(-inf", "+inf"], b":7\r\n"),
        (&["zrangebyscore", "z", "-inf", "+inf", "limit", "0", "2", "withscores"], b"*4\r\n$1\r\nb\r\n$4\r\n-inf\r\n$1\r\ni\r\n$4\r\n-0.5\r\n"),
        (&["zrevrangebyscore", "z", "+inf", "-inf", "limit", "0", "2", "withscores"], b"*4\r\n$1\r\na\r\n$3\r\ninf\r\n$1\r\nh\r\n$4\r\n1500\r\n"),
        (&["zadd", "z", "NX", "CH", "5", "x"], b":1\r\n"),
        (&["zadd", "z", "Incr", "2", "x"], b"$1\r\n7\r\n"),
        (&["zincrby", "z", "1", "nonexist"], b"$1\r\n1\r\n"),
        (&["zrank", "nokey", "a"], b"$-1\r\n"),
        (&["zscore", "z"], b"-ERR wrong number of arguments for 'zscore' command\r\n"),
        (&["zpopmax", "z", "100"], b"*20\r\n$1\r\na\r\n$3\r\ninf\r\n$1\r\nh\r\n$4\r\n1500\r\n$1\r\nj\r\n$2\r\n16\r\n$1\r\nx\r\n$1\r\n7\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n$8\r\nnonexist\r\n$1\r\n1\r\n$3\r\nnew\r\n$1\r\n1\r\n$1\r\ni\r\n$4\r\n-0.5\r\n$1\r\nb\r\n$4\r\n-inf\r\n"),
        (&["exists", "z"], b":0\r\n"),
    ]);
}

#[test]
fn script_edge_resp3() {
    script(3, &[
        (&["flushall"], b"+OK\r\n"),
        (&["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"], b":6\r\n"),
        (&["zrangestore", "d", "z", "2", "5", "byscore", "limit", "1", "2"], b":2\r\n"),
        (&["zrange", "d", "0", "-1", "withscores"], b"*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n"),
        (&["zrangestore", "d", "z", "(5", "-inf", "byscore", "rev"], b":4\r\n"),
        (&["zrange", "d", "0", "-1", "withscores"], b"*4\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n"),
        (&["zrangestore", "d", "z", "0", "-1", "rev"], b":6\r\n"),
        (&["zrange", "d", "0", "-1", "withscores"], b"*6\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\ne\r\n,5\r\n*2\r\n$1\r\nf\r\n,6\r\n"),
        (&["zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"], b":5\r\n"),
        (&["zrangestore", "d", "l", "[b", "(e", "bylex"], b":3\r\n"),
        (&["zrange", "d", "0", "-1"], b"*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zrangestore", "d", "l", "+", "-", "bylex", "rev", "limit", "1", "2"], b":2\r\n"),
        (&["zrange", "d", "0", "-1"], b"*2\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zrevrangebylex", "l", "+", "-", "limit", "1", "2"], b"*2\r\n$1\r\nd\r\n$1\r\nc\r\n"),
        (&["zrevrangebylex", "l", "(d", "-", "limit", "0", "10"], b"*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
        (&["zrangebylex", "l", "-", "+", "limit", "1"], b"-ERR syntax error\r\n"),
        (&["zrange", "l", "-", "+", "bylex", "limit", "0", "-1"], b"*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"),
        (&["zremrangebyrank", "z", "-2", "-1"], b":2\r\n"),
        (&["zremrangebyrank", "z", "10", "20"], b":0\r\n"),
        (&["zrange", "z", "0", "-1"], b"*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
        (&["zadd", "z", "xx", "gt", "ch", "10", "a", "0", "b", "100", "zz"], b":1\r\n"),
        (&["zadd", "z", "xx", "lt", "ch", "10", "a", "0", "b"], b":1\r\n"),
        (&["zadd", "z", "gt", "1", "new"], b":1\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*5\r\n*2\r\n$1\r\nb\r\n,0\r\n*2\r\n$3\r\nnew\r\n,1\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\na\r\n,10\r\n"),
        (&["zinter", "2", "z", "l", "weights", "2", "3", "withscores"], b"*4\r\n*2\r\n$1\r\nb\r\n,0\r\n*2\r\n$1\r\nc\r\n,6\r\n*2\r\n$1\r\nd\r\n,8\r\n*2\r\n$1\r\na\r\n,20\r\n"),
        (&["zadd", "l", "7", "a"], b":0\r\n"),
        (&["zinter", "2", "z", "l", "weights", "2", "3", "aggregate", "min", "withscores"], b"*4\r\n*2\r\n$1\r\nb\r\n,0\r\n*2\r\n$1\r\nc\r\n,0\r\n*2\r\n$1\r\nd\r\n,0\r\n*2\r\n$1\r\na\r\n,20\r\n"),
        (&["zinter", "2", "z", "l", "weights", "2", "3", "aggregate", "max", "withscores"], b"*4\r\n*2\r\n$1\r\nb\r\n,0\r\n*2\r\n$1\r\nc\r\n,6\r\n*2\r\n$1\r\nd\r\n,8\r\n*2\r\n$1\r\na\r\n,21\r\n"),
        (&["zintercard", "1", "z", "limit", "x"], b"-ERR LIMIT can't be negative\r\n"),
        (&["zintercard", "2", "z", "l", "limit", "1"], b":1\r\n"),
        (&["set", "s", "v"], b"+OK\r\n"),
        (&["zmpop", "1", "s", "min"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zdiff", "2", "z", "s"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zdiff", "2", "nokey", "s"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zinter", "2", "nokey", "s"], b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (&["zunion", "2", "z", "l", "weights", "1"], b"-ERR syntax error\r\n"),
        (&["zunion", "2", "z", "l", "weights", "1", "1", "1"], b"-ERR syntax error\r\n"),
        (&["zunion", "2", "z", "l", "aggregate"], b"-ERR syntax error\r\n"),
        (&["zrange", "z", "0", "-1", "limit"], b"-ERR syntax error\r\n"),
        (&["zrange", "z", "0"], b"-ERR wrong number of arguments for 'zrange' command\r\n"),
        (&["zrange", "z", "0", "1", "withscores", "withscores"], b"*2\r\n*2\r\n$1\r\nb\r\n,0\r\n*2\r\n$3\r\nnew\r\n,1\r\n"),
        (&["zrandmember", "z", "9223372036854775807", "withscores"], b"-ERR value is out of range\r\n"),
        (&["zadd", "z", "1.5e3", "h", "-.5", "i", "0x10", "j"], b":3\r\n"),
        (&["zadd", "z", "1.5e3", "h", "-.5", "i"], b":0\r\n"),
        (&["zrange", "z", "0", "-1", "withscores"], b"*8\r\n*2\r\n$1\r\ni\r\n,-0.5\r\n*2\r\n$1\r\nb\r\n,0\r\n*2\r\n$3\r\nnew\r\n,1\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\na\r\n,10\r\n*2\r\n$1\r\nj\r\n,16\r\n*2\r\n$1\r\nh\r\n,1500\r\n"),
        (&["zadd", "z", "inf", "a", "-inf", "b"], b":0\r\n"),
        (&["zcount", "z", "-inf", "-inf"], b":1\r\n"),
        (&["zcount", "z", "(-inf", "+inf"], b":7\r\n"),
        (&["zrangebyscore", "z", "-inf", "+inf", "limit", "0", "2", "withscores"], b"*2\r\n*2\r\n$1\r\nb\r\n,-inf\r\n*2\r\n$1\r\ni\r\n,-0.5\r\n"),
        (&["zrevrangebyscore", "z", "+inf", "-inf", "limit", "0", "2", "withscores"], b"*2\r\n*2\r\n$1\r\na\r\n,inf\r\n*2\r\n$1\r\nh\r\n,1500\r\n"),
        (&["zadd", "z", "NX", "CH", "5", "x"], b":1\r\n"),
        (&["zadd", "z", "Incr", "2", "x"], b",7\r\n"),
        (&["zincrby", "z", "1", "nonexist"], b",1\r\n"),
        (&["zrank", "nokey", "a"], b"_\r\n"),
        (&["zscore", "z"], b"-ERR wrong number of arguments for 'zscore' command\r\n"),
        (&["zpopmax", "z", "100"], b"*10\r\n*2\r\n$1\r\na\r\n,inf\r\n*2\r\n$1\r\nh\r\n,1500\r\n*2\r\n$1\r\nj\r\n,16\r\n*2\r\n$1\r\nx\r\n,7\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$8\r\nnonexist\r\n,1\r\n*2\r\n$3\r\nnew\r\n,1\r\n*2\r\n$1\r\ni\r\n,-0.5\r\n*2\r\n$1\r\nb\r\n,-inf\r\n"),
        (&["exists", "z"], b":0\r\n"),
    ]);
}
