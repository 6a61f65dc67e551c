//! Mismatches the differential test (tests/differential.rs) found between raftrocks and
//! redis-server 7.0, each pinned as a plain test. They pass against both servers
//! (`RAFTROCKS_TEST_TARGET=redis`).

#[macro_use]
mod common;

use common::*;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// Redis checks only LIMIT's count for a rank range: `LIMIT <offset> -1` is accepted.
#[test]
fn zrange_by_rank_accepts_limit_with_count_minus_one() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "-1", "LIMIT", "-6", "-1"]),
        Reply::Array(vec![Reply::bulk("a"), Reply::bulk("b")])
    );
    assert!(matches!(
        c.cmd(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
        Reply::Error(e) if e.contains("LIMIT is only supported")
    ));
}

/// `zslParseRange` uses strtod, which reads "" (and a bare "(") as 0.
#[test]
fn empty_score_bounds_are_zero() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["ZADD", "z", "-1", "neg", "0", "zero", "1", "one"]);
    assert_eq!(c.cmd(&["ZCOUNT", "z", "", "1"]), Reply::Int(2));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "(", "1"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "-inf", ""]),
        Reply::Array(vec![Reply::bulk("neg"), Reply::bulk("zero")])
    );
    // On a key of another type that makes the reply WRONGTYPE, not a parse error.
    c.cmd(&["SET", "s", "x"]);
    assert_eq!(c.cmd(&["ZCOUNT", "s", "", "inf"]), Reply::err(WRONGTYPE));
}

/// XDEL and XACK check the key before the IDs.
#[test]
fn stream_ids_are_checked_after_the_key() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["XDEL", "missing", "abc"]), Reply::Int(0));
    c.cmd(&["SET", "s", "x"]);
    assert_eq!(c.cmd(&["XDEL", "s", "abc"]), Reply::err(WRONGTYPE));
    assert_eq!(c.cmd(&["XACK", "s", "g", "abc"]), Reply::err(WRONGTYPE));
    c.cmd(&["XADD", "x", "1-1", "f", "v"]);
    assert!(
        matches!(c.cmd(&["XDEL", "x", "abc"]), Reply::Error(e) if e.contains("Invalid stream ID"))
    );
}

/// INCRBYFLOAT looks the key up before it parses the increment.
#[test]
fn incrbyfloat_reports_wrongtype_before_a_bad_increment() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["RPUSH", "l", "a"]);
    assert_eq!(c.cmd(&["INCRBYFLOAT", "l", "nan"]), Reply::err(WRONGTYPE));
    assert!(matches!(
        c.cmd(&["INCRBYFLOAT", "f", "nan"]),
        Reply::Error(e) if e.contains("not a valid float")
    ));
}

/// ZUNION & co check every input key's type before parsing WEIGHTS / AGGREGATE.
#[test]
fn zset_combinations_check_types_before_options() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["SET", "s", "x"]);
    c.cmd(&["ZADD", "z", "1", "a"]);
    assert_eq!(
        c.cmd(&["ZINTER", "2", "z", "s", "WEIGHTS", "1", "nope"]),
        Reply::err(WRONGTYPE)
    );
    assert_eq!(
        c.cmd(&["ZINTERSTORE", "d", "2", "z", "s", "AGGREGATE", "AVG"]),
        Reply::err(WRONGTYPE)
    );
    assert_eq!(
        c.cmd(&["ZINTERSTORE", "d", "1", "z", "AGGREGATE", "AVG"]),
        Reply::err("ERR syntax error")
    );
}

/// ZRANDMEMBER refuses i64::MIN with Redis' range message, even for a missing key.
#[test]
fn zrandmember_count_range() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "missing", "-9223372036854775808"]),
        Reply::err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        )
    );
}

/// DBSIZE inside MULTI counts the transaction's own writes.
#[test]
fn dbsize_inside_multi() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["SET", "a", "1"]);
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "b", "2"]), Reply::Simple("QUEUED".into()));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Simple("QUEUED".into()));
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::ok(), Reply::Int(2)])
    );
}

/// Redis 7.0 prints double replies with `%.17g` (7.2 switched to the shortest form).
#[test]
fn double_replies_use_percent_17g() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["ZADD", "z", "0.1", "a", "1e20", "b", "1.5", "c"]);
    assert_eq!(
        c.cmd(&["ZSCORE", "z", "a"]),
        Reply::bulk("0.10000000000000001")
    );
    assert_eq!(c.cmd(&["ZSCORE", "z", "b"]), Reply::bulk("1e+20"));
    assert_eq!(c.cmd(&["ZSCORE", "z", "c"]), Reply::bulk("1.5"));
    assert_eq!(
        c.cmd(&["ZINCRBY", "z", "0.2", "a"]),
        Reply::bulk("0.30000000000000004")
    );
}
