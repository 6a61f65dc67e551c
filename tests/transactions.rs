//! MULTI / EXEC / DISCARD / WATCH / UNWATCH: Redis 7 replies, queueing errors, runtime errors,
//! atomicity, optimistic locking, RESP2 and RESP3 shapes.

#[macro_use]
mod common;

use common::*;
use std::time::Duration;

fn queued() -> Reply {
    Reply::Simple("QUEUED".into())
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(s)
}

#[test]
fn queue_and_exec_runs_in_order_and_reads_see_earlier_writes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "a", "1"]), queued());
    assert_eq!(c.cmd(&["INCR", "a"]), queued());
    assert_eq!(c.cmd(&["GET", "a"]), queued());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["ECHO", "hi"]), queued());
    assert_eq!(c.cmd(&["EXISTS", "a", "nope"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![
            Reply::ok(),
            Reply::Int(2),
            bulk("2"),
            Reply::Simple("PONG".into()),
            bulk("hi"),
            Reply::Int(1),
        ])
    );
    assert_eq!(c.cmd(&["GET", "a"]), bulk("2"));
    // An empty transaction is an empty array.
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![]));
}

#[test]
fn state_errors() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["EXEC"]), Reply::err("ERR EXEC without MULTI"));
    assert_eq!(c.cmd(&["DISCARD"]), Reply::err("ERR DISCARD without MULTI"));
    assert_eq!(c.cmd(&["UNWATCH"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    // Neither of these dooms the transaction.
    assert_eq!(
        c.cmd(&["MULTI"]),
        Reply::err("ERR MULTI calls can not be nested")
    );
    assert_eq!(
        c.cmd(&["WATCH", "k"]),
        Reply::err("ERR WATCH inside MULTI is not allowed")
    );
    assert_eq!(c.cmd(&["SET", "k", "v"]), queued());
    assert_eq!(c.cmd(&["UNWATCH"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::ok(), Reply::ok()])
    );
    assert_eq!(
        c.cmd(&["WATCH"]),
        Reply::err("ERR wrong number of arguments for 'watch' command")
    );
}

#[test]
fn queueing_errors_abort_exec() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "a", "1"]), queued());
    match c.cmd(&["NOSUCHCMD", "x"]) {
        Reply::Error(e) => assert!(e.starts_with("ERR unknown command"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.cmd(&["GET"]),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(c.cmd(&["SET", "b", "1"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::err("EXECABORT Transaction discarded because of previous errors.")
    );
    // Nothing ran, and the transaction is over.
    assert_eq!(c.cmd(&["EXISTS", "a", "b"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXEC"]), Reply::err("ERR EXEC without MULTI"));
}

#[test]
fn runtime_errors_are_per_command_replies() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["SET", "s", "text"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "a", "1"]), queued());
    assert_eq!(c.cmd(&["INCR", "s"]), queued());
    assert_eq!(c.cmd(&["SET", "k", "v", "NX", "XX"]), queued());
    assert_eq!(c.cmd(&["INCRBY", "a", "10"]), queued());
    assert_eq!(c.cmd(&["SETRANGE", "a", "-1", "x"]), queued());
    assert_eq!(c.cmd(&["GET", "a"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![
            Reply::ok(),
            Reply::err("ERR value is not an integer or out of range"),
            Reply::err("ERR syntax error"),
            Reply::Int(11),
            Reply::err("ERR offset is out of range"),
            bulk("11"),
        ])
    );
    assert_eq!(c.cmd(&["GET", "s"]), bulk("text"));
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Nil);
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(2));
}

#[test]
fn discard_drops_the_queue_and_the_watches() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut other = srv.raw();
    assert_eq!(c.cmd(&["WATCH", "w"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "x", "1"]), queued());
    assert_eq!(c.cmd(&["DISCARD"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "x"]), Reply::Nil);
    // The watch went with DISCARD: a change of w no longer aborts.
    assert_eq!(other.cmd(&["SET", "w", "changed"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "x", "2"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::ok()]));
}

#[test]
fn watch_aborts_when_another_client_writes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut other = srv.raw();
    assert_eq!(c.cmd(&["SET", "k", "1"]), Reply::ok());
    assert_eq!(c.cmd(&["WATCH", "k", "missing"]), Reply::ok());
    assert_eq!(other.cmd(&["SET", "k", "2"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "k", "3"]), queued());
    assert_eq!(c.cmd(&["SET", "side", "effect"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
    assert_eq!(c.cmd(&["GET", "k"]), bulk("2"));
    assert_eq!(c.cmd(&["GET", "side"]), Reply::Nil);

    // A key that did not exist and was created meanwhile.
    assert_eq!(c.cmd(&["WATCH", "fresh"]), Reply::ok());
    assert_eq!(other.cmd(&["SET", "fresh", "x"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "fresh"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);

    // Deleted meanwhile; and the client's own write between WATCH and MULTI.
    assert_eq!(c.cmd(&["WATCH", "fresh"]), Reply::ok());
    assert_eq!(other.cmd(&["DEL", "fresh"]), Reply::Int(1));
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
    assert_eq!(c.cmd(&["WATCH", "k"]), Reply::ok());
    assert_eq!(c.cmd(&["APPEND", "k", "x"]), Reply::Int(2));
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);

    // EXPIRE changes the key too.
    assert_eq!(c.cmd(&["WATCH", "k"]), Reply::ok());
    assert_eq!(other.cmd(&["EXPIRE", "k", "100"]), Reply::Int(1));
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
}

#[test]
fn watch_without_changes_executes_and_exec_clears_watches() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut other = srv.raw();
    assert_eq!(c.cmd(&["SET", "k", "1"]), Reply::ok());
    assert_eq!(c.cmd(&["WATCH", "k", "k", "nokey"]), Reply::ok());
    // Writes to other keys, and reads of the watched one, do not matter.
    assert_eq!(other.cmd(&["SET", "unrelated", "1"]), Reply::ok());
    assert_eq!(other.cmd(&["GET", "k"]), bulk("1"));
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["INCR", "k"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::Int(2)]));
    // EXEC forgot the watches.
    assert_eq!(other.cmd(&["SET", "k", "9"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["INCR", "k"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::Int(10)]));
    // So did UNWATCH.
    assert_eq!(c.cmd(&["WATCH", "k"]), Reply::ok());
    assert_eq!(c.cmd(&["UNWATCH"]), Reply::ok());
    assert_eq!(other.cmd(&["SET", "k", "1"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "k"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![bulk("1")]));
}

#[test]
fn watch_aborts_on_expiry_and_flush() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut other = srv.raw();
    // A key that expires between WATCH and EXEC (Redis 7.0 aborts).
    assert_eq!(c.cmd(&["SET", "t", "v", "PX", "200"]), Reply::ok());
    assert_eq!(c.cmd(&["WATCH", "t"]), Reply::ok());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "t"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);

    // A key already expired when watched and still gone: no abort.
    assert_eq!(c.cmd(&["WATCH", "t"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "t"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::Nil]));

    for flush in [&["FLUSHDB"][..], &["FLUSHALL"], &["SWAPDB", "0", "1"]] {
        assert_eq!(c.cmd(&["SET", "e", "1"]), Reply::ok());
        assert_eq!(c.cmd(&["WATCH", "e"]), Reply::ok());
        assert_eq!(other.cmd(flush), Reply::ok());
        assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
        assert_eq!(c.cmd(&["SET", "after", "1"]), queued());
        assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray, "{flush:?}");
        assert_eq!(c.cmd(&["FLUSHALL"]), Reply::ok());
    }
}

#[test]
fn watch_in_another_db_and_select_inside_multi() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut other = srv.raw();
    assert_eq!(c.cmd(&["SELECT", "2"]), Reply::ok());
    assert_eq!(c.cmd(&["WATCH", "k"]), Reply::ok());
    // The same name in db 0 is another key.
    assert_eq!(other.cmd(&["SET", "k", "db0"]), Reply::ok());
    assert_eq!(c.cmd(&["SELECT", "0"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "a", "in0"]), queued());
    assert_eq!(c.cmd(&["SELECT", "1"]), queued());
    assert_eq!(c.cmd(&["SET", "a", "in1"]), queued());
    assert_eq!(c.cmd(&["GET", "a"]), queued());
    assert_eq!(c.cmd(&["SELECT", "99"]), queued());
    assert_eq!(c.cmd(&["GET", "a"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![
            Reply::ok(),
            Reply::ok(),
            Reply::ok(),
            bulk("in1"),
            Reply::err("ERR DB index is out of range"),
            bulk("in1"),
        ])
    );
    // The connection stays in the database the transaction selected.
    assert_eq!(c.cmd(&["GET", "a"]), bulk("in1"));
    assert_eq!(c.cmd(&["SELECT", "0"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "a"]), bulk("in0"));

    // WATCH in db 2, changed by another client in db 2.
    assert_eq!(c.cmd(&["SELECT", "2"]), Reply::ok());
    assert_eq!(c.cmd(&["WATCH", "k"]), Reply::ok());
    assert_eq!(c.cmd(&["SELECT", "0"]), Reply::ok());
    assert_eq!(other.cmd(&["SELECT", "2"]), Reply::ok());
    assert_eq!(other.cmd(&["SET", "k", "db2"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "k"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
}

#[test]
fn resp3_shapes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut other = srv.raw();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "missing"]), queued());
    assert_eq!(c.cmd(&["SET", "k", "v"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::Null, Reply::ok()])
    );
    assert_eq!(c.cmd(&["WATCH", "k"]), Reply::ok());
    assert_eq!(other.cmd(&["SET", "k", "w"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Null);
}

#[test]
fn pipelined_transaction() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut wire = Vec::new();
    for cmd in [
        &["SET", "p", "1"][..],
        &["WATCH", "p"],
        &["MULTI"],
        &["INCR", "p"],
        &["INCR", "p"],
        &["EXEC"],
        &["GET", "p"],
    ] {
        wire.extend(encode_cmd(cmd));
    }
    c.send(&wire);
    assert_eq!(
        c.read_replies(7),
        vec![
            Reply::ok(),
            Reply::ok(),
            Reply::ok(),
            queued(),
            queued(),
            Reply::Array(vec![Reply::Int(2), Reply::Int(3)]),
            bulk("3"),
        ]
    );
}

/// Another client never sees a transaction half done.
#[tokio::test]
async fn transactions_are_atomic_for_other_clients() {
    let srv = TestServer::start();
    let mut reader = srv.client().await;
    let addr = srv.addr();
    let writer = std::thread::spawn(move || {
        let mut c = RawConn::connect(addr);
        for _ in 0..30 {
            let mut wire = encode_cmd(&["MULTI"]);
            for _ in 0..20 {
                wire.extend(encode_cmd(&["INCR", "t"]));
            }
            wire.extend(encode_cmd(&["EXEC"]));
            c.send(&wire);
            let replies = c.read_replies(22);
            assert!(matches!(replies[21], Reply::Array(ref v) if v.len() == 20));
        }
    });
    let mut observed = 0;
    while !writer.is_finished() || observed == 0 {
        let v: Option<i64> = q(&mut reader, &["GET", "t"]).await;
        let v = v.unwrap_or(0);
        assert_eq!(v % 20, 0, "saw a transaction half applied: {v}");
        observed += 1;
    }
    writer.join().unwrap();
    let v: i64 = q(&mut reader, &["GET", "t"]).await;
    assert_eq!(v, 600);
}

/// Transactions over keys in different slot groups are refused (raftrocks with several
/// groups; Redis Cluster refuses keys in different slots).
#[test]
fn crossslot_with_several_groups() {
    if skip_on_redis("crossslot_with_several_groups") {
        return;
    }
    let srv = TestServer::builder()
        .extra_args(&["--slot-groups", "4"])
        .start();
    let mut c = srv.raw();
    // With 4 even groups, slot 15495 is in group 4 and slot 3300 in group 1.
    let k1 = "{a}x"; // slot 15495
    let k2 = "{b}x"; // slot 3300
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", k1, "1"]), queued());
    assert_eq!(c.cmd(&["SET", k2, "1"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::err("CROSSSLOT Keys in request don't hash to the same slot")
    );
    assert_eq!(c.cmd(&["EXISTS", k1, k2]), Reply::Int(0));
    // Same group: fine.
    assert_eq!(c.cmd(&["WATCH", "{a}w"]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", k1, "1"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::ok()]));
    // A watch in another group than the commands.
    assert_eq!(c.cmd(&["WATCH", k2]), Reply::ok());
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", k1, "2"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::err("CROSSSLOT Keys in request don't hash to the same slot")
    );
}

/// WATCH sees member changes of collections (a new member, a changed field value, a pop) even
/// when the size stays the same. Needs the collection families (list, hash, set, zset).
#[test]
fn watch_sees_collection_member_changes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut other = srv.raw();
    assert_eq!(c.cmd(&["HSET", "h", "f", "1"]), Reply::Int(1));
    assert_eq!(c.cmd(&["SADD", "s", "a"]), Reply::Int(1));
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b"]), Reply::Int(2));
    assert_eq!(c.cmd(&["ZADD", "z", "1", "m"]), Reply::Int(1));
    let changes: [&[&str]; 5] = [
        &["HSET", "h", "f", "2"],
        &["SADD", "s", "b"],
        &["LSET", "l", "0", "x"],
        &["ZADD", "z", "2", "m"],
        &["RPUSH", "newlist", "v"],
    ];
    let watched = ["h", "s", "l", "z", "newlist"];
    for (key, change) in watched.iter().zip(changes) {
        assert_eq!(c.cmd(&["WATCH", key]), Reply::ok());
        assert!(!matches!(other.cmd(change), Reply::Error(_)), "{change:?}");
        assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
        assert_eq!(c.cmd(&["TYPE", key]), queued());
        assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray, "{change:?}");
    }
    // Reading a collection does not change it.
    assert_eq!(c.cmd(&["WATCH", "h", "s", "l", "z"]), Reply::ok());
    assert_eq!(other.cmd(&["HGET", "h", "f"]), bulk("2"));
    assert_eq!(other.cmd(&["SCARD", "s"]), Reply::Int(2));
    assert_eq!(
        other.cmd(&["LRANGE", "l", "0", "-1"]),
        Reply::Array(vec![bulk("x"), bulk("b")])
    );
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(c.cmd(&["HGET", "h", "f"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![bulk("2")]));
}

/// Subscriptions cannot be part of EXEC's reply here, so they are refused while queueing
/// (and, as any queue-time error, doom the transaction). Redis 7.0 accepts them.
#[test]
fn subscribe_inside_multi_is_refused() {
    if skip_on_redis("subscribe_inside_multi_is_refused") {
        return;
    }
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["MULTI"]), Reply::ok());
    assert_eq!(
        c.cmd(&["SUBSCRIBE", "ch"]),
        Reply::err("ERR Command not allowed inside a transaction")
    );
    assert!(matches!(c.cmd(&["EXEC"]), Reply::Error(e) if e.starts_with("EXECABORT")));
}
