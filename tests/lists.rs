//! List commands: Redis 7.0 semantics, exact replies and error strings, RESP2 and RESP3
//! shapes. Every test also passes against a real redis-server (RAFTROCKS_TEST_TARGET=redis).

#[macro_use]
mod common;

use common::*;
use std::time::{Duration, Instant};

fn b(s: &str) -> Reply {
    Reply::bulk(s)
}

fn bs(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| b(s)).collect())
}

fn ints(items: &[i64]) -> Reply {
    Reply::Array(items.iter().map(|&i| Reply::Int(i)).collect())
}

fn err(s: &str) -> Reply {
    Reply::err(s)
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn push_pop_range_index_len() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c"]), Reply::Int(3));
    assert_eq!(c.cmd(&["LPUSH", "l", "y", "z"]), Reply::Int(5));
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]),
        bs(&["z", "y", "a", "b", "c"])
    );
    assert_eq!(
        c.cmd(&["LRANGE", "l", "-100", "100"]),
        bs(&["z", "y", "a", "b", "c"])
    );
    assert_eq!(c.cmd(&["LRANGE", "l", "-2", "-1"]), bs(&["b", "c"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "3", "1"]), bs(&[]));
    assert_eq!(c.cmd(&["LRANGE", "l", "10", "20"]), bs(&[]));
    assert_eq!(c.cmd(&["LRANGE", "nokey", "0", "-1"]), bs(&[]));
    assert_eq!(
        c.cmd(&["LRANGE", "l", "x", "1"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["LINDEX", "l", "0"]), b("z"));
    assert_eq!(c.cmd(&["LINDEX", "l", "-1"]), b("c"));
    assert_eq!(c.cmd(&["LINDEX", "l", "5"]), Reply::Nil);
    assert_eq!(c.cmd(&["LINDEX", "l", "-6"]), Reply::Nil);
    assert_eq!(c.cmd(&["LINDEX", "nokey", "x"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["LINDEX", "l", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["LLEN", "l"]), Reply::Int(5));
    assert_eq!(c.cmd(&["LLEN", "nokey"]), Reply::Int(0));
    assert_eq!(c.cmd(&["LPUSHX", "nokey", "a"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), Reply::Int(0));
    assert_eq!(c.cmd(&["RPUSHX", "l", "d", "e"]), Reply::Int(7));
    assert_eq!(c.cmd(&["LPUSHX", "l", "0"]), Reply::Int(8));
    assert_eq!(c.cmd(&["TYPE", "l"]), Reply::Simple("list".into()));

    assert_eq!(c.cmd(&["LPOP", "l"]), b("0"));
    assert_eq!(c.cmd(&["RPOP", "l"]), b("e"));
    assert_eq!(c.cmd(&["LPOP", "l", "2"]), bs(&["z", "y"]));
    assert_eq!(c.cmd(&["RPOP", "l", "2"]), bs(&["d", "c"]));
    assert_eq!(c.cmd(&["LPOP", "l", "0"]), bs(&[]));
    assert_eq!(c.cmd(&["LPOP", "nokey"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOP", "nokey", "2"]), Reply::NilArray);
    assert_eq!(c.cmd(&["LPOP", "nokey", "0"]), Reply::NilArray);
    let positive = err("ERR value is out of range, must be positive");
    assert_eq!(c.cmd(&["LPOP", "l", "-1"]), positive);
    assert_eq!(c.cmd(&["RPOP", "l", "x"]), positive);
    assert_eq!(
        c.cmd(&["LPOP", "l", "1", "2"]),
        err("ERR wrong number of arguments for 'lpop' command")
    );
    assert_eq!(c.cmd(&["RPOP", "l", "100"]), bs(&["b", "a"]));
    // An emptied list is deleted.
    assert_eq!(c.cmd(&["EXISTS", "l"]), Reply::Int(0));
    assert_eq!(c.cmd(&["RPUSH", "l", "again"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bs(&["again"]));

    // Binary elements and keys.
    let key: &[u8] = b"bin\x00key\r\n";
    let val: &[u8] = b"\x00\xff\r\nv";
    c.send_cmd(&[&b"RPUSH"[..], key, val, b""]);
    assert_eq!(c.read_reply(), Reply::Int(2));
    c.send_cmd(&[&b"LRANGE"[..], key, b"0", b"-1"]);
    assert_eq!(
        c.read_reply(),
        Reply::Array(vec![Reply::Bulk(val.to_vec()), Reply::Bulk(Vec::new())])
    );
    c.send_cmd(&[&b"LPOS"[..], key, val]);
    assert_eq!(c.read_reply(), Reply::Int(0));
}

#[test]
fn wrongtype_and_argument_errors() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["SET", "s", "x"]), Reply::ok());
    for cmd in [
        &["LPUSH", "s", "a"][..],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "0"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "x"],
        &["LSET", "s", "x", "v"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "d", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "d"],
        &["LMPOP", "2", "nokey", "s", "LEFT"],
        &["BLPOP", "nokey", "s", "0"],
        &["BRPOP", "s", "0"],
        &["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
        &["BLMPOP", "0", "1", "s", "LEFT"],
    ] {
        assert_eq!(c.cmd(cmd), err(WRONGTYPE), "{cmd:?}");
    }
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), Reply::Int(1));
    // The destination's type is checked before the source is popped.
    assert_eq!(c.cmd(&["LMOVE", "l", "s", "LEFT", "LEFT"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["RPOPLPUSH", "l", "s"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bs(&["a"]));
    // A missing source never looks at the destination.
    assert_eq!(c.cmd(&["LMOVE", "nokey", "s", "LEFT", "LEFT"]), Reply::Nil);
    // Argument errors come before type errors where Redis checks them first.
    assert_eq!(
        c.cmd(&["LPOP", "s", "-1"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        c.cmd(&["LINSERT", "s", "MIDDLE", "a", "b"]),
        err("ERR syntax error")
    );
    assert_eq!(c.cmd(&["LSET", "nokey", "x", "v"]), err("ERR no such key"));
    assert_eq!(
        c.cmd(&["LREM", "nokey", "x", "a"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["LTRIM", "nokey", "0", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["LMOVE", "l", "d", "UP", "LEFT"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["LMOVE", "l", "d", "LEFT", "DOWN"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["LPUSH", "l"]),
        err("ERR wrong number of arguments for 'lpush' command")
    );
    assert_eq!(
        c.cmd(&["BLPOP", "l"]),
        err("ERR wrong number of arguments for 'blpop' command")
    );
}

#[test]
fn lset_linsert_lrem_ltrim() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(c.cmd(&["LSET", "l", "0", "A"]), Reply::ok());
    assert_eq!(c.cmd(&["LSET", "l", "-1", "E"]), Reply::ok());
    assert_eq!(
        c.cmd(&["LSET", "l", "5", "x"]),
        err("ERR index out of range")
    );
    assert_eq!(
        c.cmd(&["LSET", "l", "-6", "x"]),
        err("ERR index out of range")
    );
    assert_eq!(
        c.cmd(&["LSET", "l", "x", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["LINSERT", "l", "BEFORE", "b", "X"]), Reply::Int(6));
    assert_eq!(c.cmd(&["LINSERT", "l", "after", "d", "Y"]), Reply::Int(7));
    assert_eq!(c.cmd(&["LINSERT", "l", "BEFORE", "A", "F"]), Reply::Int(8));
    assert_eq!(c.cmd(&["LINSERT", "l", "AFTER", "E", "L"]), Reply::Int(9));
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]),
        bs(&["F", "A", "X", "b", "c", "d", "Y", "E", "L"])
    );
    assert_eq!(c.cmd(&["LINSERT", "l", "AFTER", "zz", "q"]), Reply::Int(-1));
    assert_eq!(
        c.cmd(&["LINSERT", "nokey", "AFTER", "a", "q"]),
        Reply::Int(0)
    );
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), Reply::Int(0));

    c.cmd(&["DEL", "r"]);
    c.cmd(&["RPUSH", "r", "x", "a", "x", "b", "x", "c", "x"]);
    assert_eq!(c.cmd(&["LREM", "r", "1", "x"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LREM", "r", "-2", "x"]), Reply::Int(2));
    assert_eq!(
        c.cmd(&["LRANGE", "r", "0", "-1"]),
        bs(&["a", "x", "b", "c"])
    );
    assert_eq!(c.cmd(&["LREM", "r", "0", "zz"]), Reply::Int(0));
    assert_eq!(c.cmd(&["LREM", "nokey", "0", "zz"]), Reply::Int(0));
    assert_eq!(c.cmd(&["LREM", "r", "0", "x"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LRANGE", "r", "0", "-1"]), bs(&["a", "b", "c"]));
    assert_eq!(c.cmd(&["LREM", "r", "0", "a"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LREM", "r", "0", "b"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LREM", "r", "0", "c"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXISTS", "r"]), Reply::Int(0));

    c.cmd(&["RPUSH", "t", "a", "b", "c", "d", "e"]);
    assert_eq!(c.cmd(&["LTRIM", "t", "1", "-2"]), Reply::ok());
    assert_eq!(c.cmd(&["LRANGE", "t", "0", "-1"]), bs(&["b", "c", "d"]));
    assert_eq!(c.cmd(&["LTRIM", "t", "-100", "100"]), Reply::ok());
    assert_eq!(c.cmd(&["LRANGE", "t", "0", "-1"]), bs(&["b", "c", "d"]));
    assert_eq!(c.cmd(&["LTRIM", "nokey", "0", "1"]), Reply::ok());
    assert_eq!(c.cmd(&["LTRIM", "t", "5", "1"]), Reply::ok());
    assert_eq!(c.cmd(&["EXISTS", "t"]), Reply::Int(0));

    // A capped list: push then trim, many times.
    for i in 0..50 {
        c.cmd(&["LPUSH", "cap", &i.to_string()]);
        assert_eq!(c.cmd(&["LTRIM", "cap", "0", "9"]), Reply::ok());
    }
    assert_eq!(c.cmd(&["LLEN", "cap"]), Reply::Int(10));
    assert_eq!(c.cmd(&["LRANGE", "cap", "0", "2"]), bs(&["49", "48", "47"]));
    assert_eq!(c.cmd(&["LINDEX", "cap", "-1"]), b("40"));
}

#[test]
fn lpos_options_and_errors() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["RPUSH", "l", "a", "b", "c", "a", "b", "c"]);
    assert_eq!(c.cmd(&["LPOS", "l", "b"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LPOS", "l", "b", "RANK", "2"]), Reply::Int(4));
    assert_eq!(c.cmd(&["LPOS", "l", "b", "RANK", "-1"]), Reply::Int(4));
    assert_eq!(c.cmd(&["LPOS", "l", "b", "RANK", "-2"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LPOS", "l", "b", "RANK", "3"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOS", "l", "z"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOS", "nokey", "z"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOS", "l", "b", "COUNT", "0"]), ints(&[1, 4]));
    assert_eq!(c.cmd(&["LPOS", "l", "b", "COUNT", "1"]), ints(&[1]));
    assert_eq!(
        c.cmd(&["LPOS", "l", "b", "RANK", "-1", "COUNT", "0"]),
        ints(&[4, 1])
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "b", "MAXLEN", "3", "COUNT", "0"]),
        ints(&[1])
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"]),
        Reply::Int(5)
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "MAXLEN", "0", "COUNT", "0"]),
        ints(&[0, 3])
    );
    assert_eq!(c.cmd(&["LPOS", "l", "z", "COUNT", "0"]), ints(&[]));
    assert_eq!(c.cmd(&["LPOS", "nokey", "z", "COUNT", "2"]), ints(&[]));
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "RANK", "0"]),
        err(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... \
             or use negative to start from the end of the list"
        )
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "RANK", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", "-1"]),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", "x"]),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "MAXLEN", "-1"]),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK"]), err("ERR syntax error"));
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "FOO", "1"]),
        err("ERR syntax error")
    );
}

#[test]
fn lmove_rpoplpush_lmpop() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["RPUSH", "l", "a", "b", "c"]);
    // Same source and destination: rotation.
    assert_eq!(c.cmd(&["LMOVE", "l", "l", "RIGHT", "LEFT"]), b("c"));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bs(&["c", "a", "b"]));
    assert_eq!(c.cmd(&["RPOPLPUSH", "l", "l"]), b("b"));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bs(&["b", "c", "a"]));
    assert_eq!(c.cmd(&["LMOVE", "l", "l", "left", "left"]), b("b"));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bs(&["b", "c", "a"]));
    assert_eq!(c.cmd(&["RPOPLPUSH", "l", "d"]), b("a"));
    assert_eq!(c.cmd(&["LMOVE", "l", "d", "LEFT", "RIGHT"]), b("b"));
    assert_eq!(c.cmd(&["LMOVE", "l", "d", "RIGHT", "LEFT"]), b("c"));
    assert_eq!(c.cmd(&["EXISTS", "l"]), Reply::Int(0));
    assert_eq!(c.cmd(&["LRANGE", "d", "0", "-1"]), bs(&["c", "a", "b"]));
    assert_eq!(c.cmd(&["LMOVE", "l", "d", "LEFT", "LEFT"]), Reply::Nil);
    assert_eq!(c.cmd(&["RPOPLPUSH", "l", "d"]), Reply::Nil);

    let mpop = |k: &str, items: &[&str]| Reply::Array(vec![b(k), bs(items)]);
    assert_eq!(
        c.cmd(&["LMPOP", "2", "nokey", "d", "LEFT"]),
        mpop("d", &["c"])
    );
    assert_eq!(
        c.cmd(&["LMPOP", "2", "nokey", "d", "RIGHT", "COUNT", "10"]),
        mpop("d", &["b", "a"])
    );
    assert_eq!(
        c.cmd(&["LMPOP", "2", "nokey", "d", "RIGHT"]),
        Reply::NilArray
    );
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(c.cmd(&["LMPOP", "0", "a", "LEFT"]), numkeys);
    assert_eq!(c.cmd(&["LMPOP", "-1", "a", "LEFT"]), numkeys);
    assert_eq!(c.cmd(&["LMPOP", "x", "a", "LEFT"]), numkeys);
    let syntax = err("ERR syntax error");
    assert_eq!(c.cmd(&["LMPOP", "2", "a", "LEFT"]), syntax);
    assert_eq!(c.cmd(&["LMPOP", "1", "a", "MIDDLE"]), syntax);
    assert_eq!(c.cmd(&["LMPOP", "1", "a", "LEFT", "COUNT"]), syntax);
    assert_eq!(
        c.cmd(&["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"]),
        syntax
    );
    assert_eq!(c.cmd(&["LMPOP", "1", "a", "LEFT", "FOO"]), syntax);
    let count = err("ERR count should be greater than 0");
    assert_eq!(c.cmd(&["LMPOP", "1", "a", "LEFT", "COUNT", "0"]), count);
    assert_eq!(c.cmd(&["LMPOP", "1", "a", "LEFT", "COUNT", "x"]), count);
}

#[test]
fn resp3_shapes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    c.cmd(&["RPUSH", "l", "a", "b"]);
    assert_eq!(c.cmd(&["LPOP", "nokey"]), Reply::Null);
    assert_eq!(c.cmd(&["LPOP", "nokey", "2"]), Reply::Null);
    assert_eq!(c.cmd(&["LINDEX", "l", "9"]), Reply::Null);
    assert_eq!(c.cmd(&["LPOS", "l", "z"]), Reply::Null);
    assert_eq!(c.cmd(&["LMOVE", "nokey", "l", "LEFT", "LEFT"]), Reply::Null);
    assert_eq!(c.cmd(&["LMPOP", "1", "nokey", "LEFT"]), Reply::Null);
    assert_eq!(
        c.cmd(&["LMPOP", "1", "l", "LEFT"]),
        Reply::Array(vec![b("l"), bs(&["a"])])
    );
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bs(&["b"]));
    assert_eq!(c.cmd(&["BLPOP", "l", "0"]), bs(&["l", "b"]));
}

#[test]
fn blocking_pops_serve_available_elements_and_check_arguments() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(c.cmd(&["BLPOP", "nokey", "l", "0"]), bs(&["l", "a"]));
    assert_eq!(c.cmd(&["BRPOP", "nokey", "l", "1.5"]), bs(&["l", "e"]));
    assert_eq!(c.cmd(&["BRPOPLPUSH", "l", "m", "0"]), b("d"));
    assert_eq!(c.cmd(&["BLMOVE", "l", "m", "LEFT", "RIGHT", "0"]), b("b"));
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "2", "nokey", "m", "LEFT", "COUNT", "5"]),
        Reply::Array(vec![b("m"), bs(&["d", "b"])])
    );
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bs(&["c"]));

    let not_float = err("ERR timeout is not a float or out of range");
    let negative = err("ERR timeout is negative");
    assert_eq!(c.cmd(&["BLPOP", "l", "x"]), not_float);
    assert_eq!(c.cmd(&["BLPOP", "l", "1.5x"]), not_float);
    assert_eq!(c.cmd(&["BLPOP", "l", "nan"]), not_float);
    assert_eq!(c.cmd(&["BLPOP", "l", "-1"]), negative);
    assert_eq!(c.cmd(&["BRPOP", "l", "-0.5"]), negative);
    assert_eq!(c.cmd(&["BLPOP", "l", "inf"]), negative);
    assert_eq!(c.cmd(&["BRPOPLPUSH", "l", "m", "-1"]), negative);
    assert_eq!(
        c.cmd(&["BLMOVE", "l", "m", "UP", "LEFT", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(c.cmd(&["BLMOVE", "l", "m", "LEFT", "LEFT", "-1"]), negative);
    assert_eq!(
        c.cmd(&["BLMPOP", "x", "0", "l", "LEFT"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(c.cmd(&["BLMPOP", "x", "1", "l", "LEFT"]), not_float);
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "2", "l", "LEFT"]),
        err("ERR syntax error")
    );
    // An element was there: hex timeouts parse like strtold.
    assert_eq!(c.cmd(&["BLPOP", "l", "0x10"]), bs(&["l", "c"]));
}

#[test]
fn lists_expire_and_are_deleted_by_del() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.cmd(&["RPUSH", "l", "a", "b"]);
    assert_eq!(c.cmd(&["PEXPIRE", "l", "100"]), Reply::Int(1));
    c.cmd(&["RPUSH", "l", "c"]);
    assert!(matches!(c.cmd(&["PTTL", "l"]), Reply::Int(t) if t > 0));
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.cmd(&["EXISTS", "l"]) != Reply::Int(0) {
        assert!(Instant::now() < deadline, "list did not expire");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bs(&[]));
    assert_eq!(c.cmd(&["RPUSH", "l", "z"]), Reply::Int(1));
    assert_eq!(c.cmd(&["PTTL", "l"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["DEL", "l"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LLEN", "l"]), Reply::Int(0));
    assert_eq!(c.cmd(&["RPUSH", "l", "new"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bs(&["new"]));
}

// ---------------------------------------------------------------------------------------
// Waiting. These need server::blocking (the dispatcher on this branch runs a blocking
// command's attempt once and replies at once); the lead enables them after the merge.
// ---------------------------------------------------------------------------------------

#[test]
fn blpop_is_woken_by_a_push_from_another_client() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    let mut pusher = srv.raw();
    waiter.send_cmd(&["BLPOP", "q1", "q2", "0"]);
    // Give the waiter time to block (a reply before the push would be a bug anyway).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(pusher.cmd(&["RPUSH", "q2", "x", "y"]), Reply::Int(2));
    assert_eq!(waiter.read_reply(), bs(&["q2", "x"]));
    assert_eq!(pusher.cmd(&["LRANGE", "q2", "0", "-1"]), bs(&["y"]));

    waiter.send_cmd(&["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
    std::thread::sleep(Duration::from_millis(300));
    pusher.cmd(&["LPUSH", "src", "m"]);
    assert_eq!(waiter.read_reply(), b("m"));
    assert_eq!(pusher.cmd(&["LRANGE", "dst", "0", "-1"]), bs(&["m"]));
    assert_eq!(pusher.cmd(&["EXISTS", "src"]), Reply::Int(0));

    waiter.send_cmd(&["BLMPOP", "0", "1", "mp", "RIGHT", "COUNT", "2"]);
    std::thread::sleep(Duration::from_millis(300));
    pusher.cmd(&["RPUSH", "mp", "1", "2", "3"]);
    assert_eq!(
        waiter.read_reply(),
        Reply::Array(vec![b("mp"), bs(&["3", "2"])])
    );
}

#[test]
fn blocking_timeout_replies_nil() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let t = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "nokey", "0.2"]), Reply::NilArray);
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(c.cmd(&["BRPOP", "nokey", "0.1"]), Reply::NilArray);
    // Redis 7.0 times BLMOVE/BRPOPLPUSH out with a null *array* in RESP2.
    assert_eq!(
        c.cmd(&["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.1"]),
        Reply::NilArray
    );
    assert_eq!(c.cmd(&["BRPOPLPUSH", "nokey", "d", "0.1"]), Reply::NilArray);
    assert_eq!(
        c.cmd(&["BLMPOP", "0.1", "1", "nokey", "LEFT"]),
        Reply::NilArray
    );
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.cmd(&["BLPOP", "nokey", "0.1"]), Reply::Null);
    assert_eq!(
        c.cmd(&["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.1"]),
        Reply::Null
    );
}

#[test]
fn timeout_zero_waits_until_a_push() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    let mut pusher = srv.raw();
    waiter.send_cmd(&["BRPOP", "z", "0"]);
    // Still waiting well after any short timeout would have fired.
    assert!(waiter.try_read_reply(Duration::from_millis(1500)).is_err());
    pusher.cmd(&["RPUSH", "z", "v"]);
    assert_eq!(waiter.read_reply(), bs(&["z", "v"]));
}
