//! Blocking commands (BLPOP BRPOP BLMOVE BZPOPMIN): waking on a change made by another
//! client, timeouts, first-come first-served order, disconnects, MULTI.
//!
//! "Is it blocked yet?" cannot be asked portably, so the tests give a blocked client a
//! generous moment to register before acting; they never assert that something happens
//! *fast*, only that it happens, or that it has not happened after a while.

#[macro_use]
mod common;

use common::*;
use std::time::{Duration, Instant};

/// Enough for a command sent on another connection to be blocked on a busy machine.
const SETTLE: Duration = Duration::from_millis(400);

fn bs(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| Reply::bulk(s)).collect())
}

fn still_blocked(c: &mut RawConn) -> bool {
    matches!(
        c.try_read_reply(Duration::from_millis(500)),
        Err(ReadError::Timeout(_))
    )
}

#[test]
fn blpop_is_woken_by_a_push_from_another_client() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    let mut pusher = srv.raw();
    waiter.send_cmd(&["BLPOP", "list", "0"]);
    std::thread::sleep(SETTLE);
    assert!(still_blocked(&mut waiter));
    assert_eq!(pusher.cmd(&["LPUSH", "list", "v"]), Reply::Int(1));
    assert_eq!(waiter.read_reply(), bs(&["list", "v"]));
    assert_eq!(pusher.cmd(&["EXISTS", "list"]), Reply::Int(0));
    // The connection carries on normally.
    assert_eq!(waiter.cmd(&["PING"]), Reply::Simple("PONG".into()));

    // Any of the keys; the first non-empty one in argument order is served.
    waiter.send_cmd(&["BRPOP", "k1", "k2", "0"]);
    std::thread::sleep(SETTLE);
    assert_eq!(pusher.cmd(&["RPUSH", "k2", "a", "b"]), Reply::Int(2));
    assert_eq!(waiter.read_reply(), bs(&["k2", "b"]));
    assert_eq!(pusher.cmd(&["LRANGE", "k2", "0", "-1"]), bs(&["a"]));
}

#[test]
fn blmove_and_bzpopmin_wake_up() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    let mut other = srv.raw();
    waiter.send_cmd(&["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]);
    std::thread::sleep(SETTLE);
    assert_eq!(other.cmd(&["RPUSH", "src", "x", "y"]), Reply::Int(2));
    assert_eq!(waiter.read_reply(), Reply::bulk("x"));
    assert_eq!(other.cmd(&["LRANGE", "dst", "0", "-1"]), bs(&["x"]));

    waiter.send_cmd(&["BZPOPMIN", "z", "0"]);
    std::thread::sleep(SETTLE);
    assert_eq!(other.cmd(&["ZADD", "z", "2", "b", "1", "a"]), Reply::Int(2));
    assert_eq!(waiter.read_reply(), bs(&["z", "a", "1"]));
}

#[test]
fn timeout_replies_nil() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let t = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "nothing", "0.3"]), Reply::NilArray);
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    // Redis 7.0 times BLMOVE out with a null array too, though it returns a bulk string.
    assert_eq!(
        c.cmd(&["BLMOVE", "a", "b", "LEFT", "LEFT", "0.2"]),
        Reply::NilArray
    );
    assert_eq!(c.cmd(&["BZPOPMIN", "z", "0.2"]), Reply::NilArray);
    // RESP3: a null.
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.cmd(&["BLPOP", "nothing", "0.1"]), Reply::Null);
    // Argument errors come at once.
    assert_eq!(
        c.cmd(&["BLPOP", "l", "-1"]),
        Reply::err("ERR timeout is negative")
    );
    assert_eq!(
        c.cmd(&["BLPOP", "l", "abc"]),
        Reply::err("ERR timeout is not a float or out of range")
    );
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let srv = TestServer::start();
    let mut first = srv.raw();
    let mut second = srv.raw();
    let mut pusher = srv.raw();
    first.send_cmd(&["BLPOP", "q", "0"]);
    std::thread::sleep(SETTLE);
    second.send_cmd(&["BLPOP", "q", "0"]);
    std::thread::sleep(SETTLE);
    assert_eq!(pusher.cmd(&["RPUSH", "q", "1"]), Reply::Int(1));
    assert_eq!(first.read_reply(), bs(&["q", "1"]));
    assert!(still_blocked(&mut second));
    assert_eq!(pusher.cmd(&["RPUSH", "q", "2"]), Reply::Int(1));
    assert_eq!(second.read_reply(), bs(&["q", "2"]));

    // One push of two elements serves both waiters, in order.
    first.send_cmd(&["BLPOP", "q", "0"]);
    std::thread::sleep(SETTLE);
    second.send_cmd(&["BLPOP", "q", "0"]);
    std::thread::sleep(SETTLE);
    assert_eq!(pusher.cmd(&["RPUSH", "q", "a", "b"]), Reply::Int(2));
    assert_eq!(first.read_reply(), bs(&["q", "a"]));
    assert_eq!(second.read_reply(), bs(&["q", "b"]));
}

#[test]
fn wrongtype_and_existing_data_reply_at_once() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["SET", "s", "x"]), Reply::ok());
    assert_eq!(
        c.cmd(&["BLPOP", "s", "0"]),
        Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        c.cmd(&["BZPOPMIN", "s", "0"]),
        Reply::err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(c.cmd(&["RPUSH", "l", "v"]), Reply::Int(1));
    assert_eq!(c.cmd(&["BLPOP", "l", "0"]), bs(&["l", "v"]));
    // Pipelined behind a push on the same connection.
    let mut wire = encode_cmd(&["RPUSH", "p", "1"]);
    wire.extend(encode_cmd(&["BLPOP", "p", "0"]));
    wire.extend(encode_cmd(&["PING"]));
    c.send(&wire);
    assert_eq!(
        c.read_replies(3),
        vec![Reply::Int(1), bs(&["p", "1"]), Reply::Simple("PONG".into())]
    );
}

#[test]
fn a_client_that_disconnects_while_blocked_takes_nothing() {
    let mut srv = TestServer::start();
    let mut pusher = srv.raw();
    {
        let mut gone = srv.raw();
        gone.send_cmd(&["BLPOP", "d", "0"]);
        std::thread::sleep(SETTLE);
    }
    // Its replacement in the queue is served; the element is not lost to the closed one.
    let mut waiter = srv.raw();
    waiter.send_cmd(&["BLPOP", "d", "0"]);
    std::thread::sleep(SETTLE);
    assert_eq!(pusher.cmd(&["RPUSH", "d", "v"]), Reply::Int(1));
    assert_eq!(waiter.read_reply(), bs(&["d", "v"]));
    // Many clients that block and vanish leave nothing behind.
    for _ in 0..20 {
        let mut c = srv.raw();
        c.send_cmd(&["BLPOP", "d", "0"]);
    }
    std::thread::sleep(SETTLE);
    assert_eq!(pusher.cmd(&["RPUSH", "d", "w"]), Reply::Int(1));
    std::thread::sleep(SETTLE);
    assert_eq!(pusher.cmd(&["LRANGE", "d", "0", "-1"]), bs(&["w"]));
    srv.assert_alive();
}

#[test]
fn inside_multi_a_blocking_command_does_not_wait() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(
        c.cmd(&["BLPOP", "empty", "0"]),
        Reply::Simple("QUEUED".into())
    );
    assert_eq!(
        c.cmd(&["RPUSH", "full", "v"]),
        Reply::Simple("QUEUED".into())
    );
    assert_eq!(
        c.cmd(&["BLPOP", "full", "0"]),
        Reply::Simple("QUEUED".into())
    );
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::NilArray, Reply::Int(1), bs(&["full", "v"])])
    );
}

#[test]
fn a_transaction_wakes_a_blocked_client() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    let mut c = srv.raw();
    waiter.send_cmd(&["BLPOP", "t", "0"]);
    std::thread::sleep(SETTLE);
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["RPUSH", "t", "a"]), Reply::Simple("QUEUED".into()));
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::Int(1)]));
    assert_eq!(waiter.read_reply(), bs(&["t", "a"]));
}

/// Waits (up to a generous deadline) until INFO reports `n` blocked clients.
fn wait_blocked(c: &mut RawConn, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = match c.cmd(&["INFO", "clients"]) {
            Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("INFO: {other:?}"),
        };
        if info.contains(&format!("blocked_clients:{n}\r\n")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never {n} blocked clients: {info}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// CLIENT UNBLOCK ends a wait as a timeout (the null reply) or with -UNBLOCKED; a client
/// that is not blocked gives 0. The `b` flag and INFO blocked_clients show the wait.
#[test]
fn client_unblock_ends_a_wait_as_timeout_or_error() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    let mut admin = srv.raw();
    let id = match waiter.cmd(&["CLIENT", "ID"]) {
        Reply::Int(id) => id.to_string(),
        other => panic!("CLIENT ID: {other:?}"),
    };
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id]), Reply::Int(0));

    waiter.send_cmd(&["BLPOP", "nothing", "0"]);
    // Being blocked can be asked here: INFO blocked_clients (and the `b` flag).
    wait_blocked(&mut admin, 1);
    let list = match admin.cmd(&["CLIENT", "LIST", "ID", &id]) {
        Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("CLIENT LIST: {other:?}"),
    };
    if !target_is_redis() {
        assert!(list.contains(" flags=b "), "{list}");
    }
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]),
        Reply::Int(1)
    );
    assert_eq!(waiter.read_reply(), Reply::NilArray);

    waiter.send_cmd(&["BZPOPMIN", "nothing", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]),
        Reply::Int(1)
    );
    match waiter.read_reply() {
        Reply::Error(e) => assert_eq!(e, "UNBLOCKED client unblocked via CLIENT UNBLOCK"),
        other => panic!("expected -UNBLOCKED, got {other:?}"),
    }
    // The key still works for the next waiter, and the unblocked client is not blocked.
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id]), Reply::Int(0));
    assert_eq!(waiter.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert!(matches!(
        admin.cmd(&["CLIENT", "UNBLOCK", &id, "LATER"]),
        Reply::Error(e) if e == "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    ));
    assert!(matches!(
        admin.cmd(&["CLIENT", "UNBLOCK", "x"]),
        Reply::Error(e) if e == "ERR value is not an integer or out of range"
    ));
}
