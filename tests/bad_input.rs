//! Abuse over raw TCP: malformed frames, garbage, half frames, slow readers, connection
//! limits, idle timeouts. After every abuse the server must still serve new clients.

#[macro_use]
mod common;

use common::*;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// Sends `data` on a fresh connection and expects exactly `want` back, followed by the
/// server closing the connection.
fn expect_error_and_close(srv: &TestServer, data: &[u8], want: &str) {
    let mut c = srv.raw();
    // The server may close before reading everything; a failed write is fine here.
    let _ = c.try_send(data);
    let got = c.read_until_closed();
    assert_eq!(
        String::from_utf8_lossy(&got),
        want,
        "for input {:?}",
        String::from_utf8_lossy(&data[..data.len().min(80)])
    );
}

#[test]
fn protocol_errors_reply_and_close() {
    let mut srv = TestServer::start();
    let multibulk = "-ERR Protocol error: invalid multibulk length\r\n";
    let bulklen = "-ERR Protocol error: invalid bulk length\r\n";
    let cases: Vec<(Vec<u8>, String)> = vec![
        (b"*abc\r\n".to_vec(), multibulk.into()),
        (b"*2147483648\r\n".to_vec(), multibulk.into()),
        (
            b"*1\r\nfoo\r\n".to_vec(),
            "-ERR Protocol error: expected '$', got 'f'\r\n".into(),
        ),
        (
            b"*2\r\n$3\r\nGET\r\n:1\r\n".to_vec(),
            "-ERR Protocol error: expected '$', got ':'\r\n".into(),
        ),
        (b"*1\r\n$abc\r\n".to_vec(), bulklen.into()),
        (b"*1\r\n$-1\r\n".to_vec(), bulklen.into()),
        (
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$-5\r\n".to_vec(),
            bulklen.into(),
        ),
        // Above the default proto-max-bulk-len (512 MiB).
        (
            b"*2\r\n$3\r\nGET\r\n$536870913\r\n".to_vec(),
            bulklen.into(),
        ),
        (
            b"SET a \"unbalanced\r\n".to_vec(),
            "-ERR Protocol error: unbalanced quotes in request\r\n".into(),
        ),
        (
            b"ECHO \"a\"b\r\n".to_vec(),
            "-ERR Protocol error: unbalanced quotes in request\r\n".into(),
        ),
        (
            vec![b'x'; 70_000],
            "-ERR Protocol error: too big inline request\r\n".into(),
        ),
        // Valid commands before the bad frame are answered first.
        (
            b"PING\r\n*1\r\n$4\r\nPING\r\n*abc\r\n".to_vec(),
            format!("+PONG\r\n+PONG\r\n{multibulk}"),
        ),
    ];
    for (data, want) in &cases {
        expect_error_and_close(&srv, data, want);
        srv.assert_alive();
    }
}

#[test]
fn ignorable_input_is_ignored() {
    let mut srv = TestServer::start();
    let mut c = srv.raw();
    // Null / empty multibulks and blank lines produce no reply.
    c.send(b"*-1\r\n*0\r\n\r\n\n*1\r\n$4\r\nPING\r\n");
    assert_eq!(c.read_reply_raw().1, b"+PONG\r\n");
    // Things that look like other RESP types are inline commands.
    c.send(b"+PING\r\n");
    assert_eq!(
        c.read_reply(),
        Reply::err("ERR unknown command '+PING', with args beginning with: ")
    );
    c.send(b":1\r\n");
    assert_eq!(
        c.read_reply(),
        Reply::err("ERR unknown command ':1', with args beginning with: ")
    );
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    srv.assert_alive();
}

#[test]
fn proto_max_bulk_len_is_enforced() {
    let mut srv = TestServer::start();
    let mut admin = srv.raw();
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]),
        Reply::ok()
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "proto-max-bulk-len"]),
        Reply::Array(vec![
            Reply::bulk("proto-max-bulk-len"),
            Reply::bulk("1048576")
        ])
    );
    // One byte over the limit: rejected as soon as the length is seen.
    expect_error_and_close(
        &srv,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n",
        "-ERR Protocol error: invalid bulk length\r\n",
    );
    srv.assert_alive();
    // Exactly at the limit: accepted.
    let v = vec![b'v'; 1 << 20];
    assert_eq!(admin.cmd(&[&b"SET"[..], b"k", &v]), Reply::ok());
    assert_eq!(admin.cmd(&["STRLEN", "k"]), Reply::Int(1 << 20));
    // Values built by APPEND may not exceed it either.
    assert_eq!(
        admin.cmd(&["APPEND", "k", "x"]),
        Reply::err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    assert_eq!(
        admin.cmd(&["SETRANGE", "k", "1048576", "x"]),
        Reply::err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "100"]),
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive")
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "512mb"]),
        Reply::ok()
    );
    assert_eq!(admin.cmd(&["APPEND", "k", "x"]), Reply::Int((1 << 20) + 1));
}

#[test]
fn garbage_bytes_do_not_hurt_the_server() {
    let mut srv = TestServer::start();
    let mut admin = srv.raw();
    assert_eq!(admin.cmd(&["SET", "survivor", "yes"]), Reply::ok());

    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    for round in 0..20 {
        let len = rng.gen_range(1..65_536);
        let mut junk: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        // Some rounds start like a real multibulk to reach deeper parser states.
        if round % 4 == 1 {
            let mut v = b"*3\r\n$3\r\nSET\r\n$".to_vec();
            v.extend_from_slice(&junk);
            junk = v;
        } else if round % 4 == 2 {
            let mut v = b"*1000\r\n".to_vec();
            v.extend_from_slice(&junk);
            junk = v;
        }
        let mut c = srv.raw();
        // The server may close on us mid-write; that is fine.
        let _ = c.try_send(&junk);
        drop(c);
    }
    srv.assert_alive();
    assert_eq!(admin.cmd(&["GET", "survivor"]), Reply::bulk("yes"));
}

#[test]
fn half_frames_then_disconnect() {
    let mut srv = TestServer::start();
    let partials: &[&[u8]] = &[
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk",
        b"*2\r\n$3\r\nGE",
        b"*2\r\n",
        b"*",
        b"$100\r\n",
        b"*1000000\r\n",
        b"SET k v",
        b"SET k \"v",
    ];
    for p in partials {
        let mut c = srv.raw();
        c.send(p);
        drop(c);
        // Also with a half-close (FIN) instead of a plain close.
        let mut c = srv.raw();
        c.send(p);
        c.shutdown_write();
        let _ = c.try_read_until_closed(Duration::from_secs(10));
    }
    srv.assert_alive();
    let mut c = srv.raw();
    assert_eq!(
        c.cmd(&["EXISTS", "k"]),
        Reply::Int(0),
        "no partial command may execute"
    );

    // A client stalled mid-frame does not block other clients, and can finish later.
    let mut slow = srv.raw();
    slow.send(b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$5\r\nhel");
    let mut fast = srv.raw();
    assert_eq!(fast.cmd(&["SET", "fast", "1"]), Reply::ok());
    assert_eq!(fast.cmd(&["GET", "slow"]), Reply::Nil);
    slow.send(b"lo\r\n");
    assert_eq!(slow.read_reply(), Reply::ok());
    assert_eq!(fast.cmd(&["GET", "slow"]), Reply::bulk("hello"));
    // Byte-by-byte delivery of a whole pipeline works.
    let mut dribble = srv.raw();
    let mut data = encode_cmd(&["SET", "d", "byte by byte"]);
    data.extend_from_slice(b"GET d\r\n");
    for b in &data {
        dribble.send(&[*b]);
    }
    assert_eq!(dribble.read_reply(), Reply::ok());
    assert_eq!(dribble.read_reply(), Reply::bulk("byte by byte"));
    srv.assert_alive();
}

#[test]
fn slow_reader_is_disconnected_by_output_buffer_limit() {
    let mut srv = TestServer::start();
    let mut admin = srv.raw();
    assert_eq!(
        admin.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1mb 1mb 0"
        ]),
        Reply::ok()
    );
    let value = vec![b'x'; 100_000];
    assert_eq!(admin.cmd(&[&b"SET"[..], b"big", &value]), Reply::ok());

    let mut hog = srv.raw();
    let hog_id = hog.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    // 5000 GETs of a 100 kB value = 500 MB of replies that are never read.
    let n = 5000;
    let pipeline = b"GET big\r\n".repeat(n);
    let _ = hog.try_send(&pipeline);

    let needle = format!("id={hog_id} ");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = admin.cmd(&["CLIENT", "LIST"]).as_str().unwrap();
        if !list.lines().any(|l| l.starts_with(&needle)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slow reader not disconnected within 60 s: {list}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The hog sees the connection end well before all replies were delivered.
    let got = hog
        .drain_until_closed(Duration::from_secs(30))
        .expect("hog connection was not closed");
    assert!(
        got < n * value.len() / 2,
        "received {got} bytes, limit not enforced"
    );

    srv.assert_alive();
    assert_eq!(admin.cmd(&["STRLEN", "big"]), Reply::Int(100_000));
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["GET", "big"]), Reply::Bulk(value));
}

#[test]
fn maxclients_is_enforced() {
    let mut srv = TestServer::start();
    let mut admin = srv.raw();
    let max = 5;
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "maxclients", &max.to_string()]),
        Reply::ok()
    );
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "maxclients"]),
        Reply::Array(vec![
            Reply::bulk("maxclients"),
            Reply::bulk(&max.to_string())
        ])
    );
    let rejected = "ERR max number of clients reached";

    // Open connections until one is refused. Depending on the implementation the error
    // may be sent right at accept time or in reply to the first command.
    let mut accepted = Vec::new();
    let mut refused = false;
    for _ in 0..max + 2 {
        let mut c = srv.raw();
        let first = match c.try_read_reply(Duration::from_millis(300)) {
            Ok(r) => Some(r),
            Err(ReadError::Timeout(_)) => None,
            Err(ReadError::Closed(bytes)) => {
                panic!(
                    "connection closed without the error: {:?}",
                    String::from_utf8_lossy(&bytes)
                )
            }
            Err(e) => panic!("{e:?}"),
        };
        let reply = match first {
            Some(r) => r,
            None => {
                c.send(b"PING\r\n");
                match c.try_read_reply(REPLY_TIMEOUT) {
                    Ok(r) => r,
                    Err(ReadError::Closed(bytes)) => {
                        panic!("connection closed: {:?}", String::from_utf8_lossy(&bytes))
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
        };
        if reply == Reply::Simple("PONG".into()) {
            accepted.push(c);
            continue;
        }
        assert_eq!(reply, Reply::err(rejected));
        // ... and the refused connection is closed.
        c.try_read_until_closed(Duration::from_secs(10))
            .expect("refused connection must be closed");
        refused = true;
        break;
    }
    assert!(refused, "no connection was refused with maxclients {max}");
    assert!(
        accepted.len() < max,
        "{} extra connections accepted next to the admin one with maxclients {max}",
        accepted.len()
    );
    // The admin connection keeps working.
    assert_eq!(admin.cmd(&["PING"]), Reply::Simple("PONG".into()));

    // Freeing slots lets new clients in again.
    drop(accepted);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut c = srv.raw();
        c.send(b"PING\r\n");
        match c.try_read_reply(REPLY_TIMEOUT) {
            Ok(Reply::Simple(s)) if s == "PONG" => break,
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "slots were not freed after closing clients"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "maxclients", "10000"]),
        Reply::ok()
    );
    let mut many: Vec<RawConn> = (0..50).map(|_| srv.raw()).collect();
    for c in many.iter_mut() {
        assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    }
    let stats = srv.info("stats");
    let rejected_count: i64 = info_field(&stats, "rejected_connections")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        rejected_count >= 1,
        "rejected_connections = {rejected_count}"
    );
    srv.assert_alive();
}

#[test]
fn idle_timeout_closes_idle_connections() {
    let mut srv = TestServer::start();
    let mut admin = srv.raw();
    assert_eq!(admin.cmd(&["CONFIG", "SET", "timeout", "1"]), Reply::ok());
    assert_eq!(
        admin.cmd(&["CONFIG", "GET", "timeout"]),
        Reply::Array(vec![Reply::bulk("timeout"), Reply::bulk("1")])
    );
    let mut idle = srv.raw();
    assert_eq!(idle.cmd(&["PING"]), Reply::Simple("PONG".into()));
    let idle_since = Instant::now();
    let mut active = srv.raw();
    let deadline = Instant::now() + Duration::from_secs(30);
    let closed_after = loop {
        // Keep the other connection busy while waiting for the idle one to be closed.
        assert_eq!(active.cmd(&["PING"]), Reply::Simple("PONG".into()));
        match idle.try_read_until_closed(Duration::from_millis(100)) {
            Ok(rest) => {
                assert!(rest.is_empty(), "unexpected bytes before close: {rest:?}");
                break idle_since.elapsed();
            }
            Err(rest) => assert!(rest.is_empty(), "unexpected bytes: {rest:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "idle connection not closed within 30 s with timeout 1"
        );
    };
    assert!(
        closed_after >= Duration::from_millis(900),
        "idle connection closed too early: {closed_after:?}"
    );
    // The connection that kept sending commands is still open.
    assert_eq!(active.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(active.cmd(&["CONFIG", "SET", "timeout", "0"]), Reply::ok());
    srv.assert_alive();
}

#[test]
fn huge_but_valid_commands() {
    let mut srv = TestServer::start();
    let mut c = srv.raw();
    // 100k arguments in one command.
    let n = 50_000;
    let mut args: Vec<String> = vec!["MSET".into()];
    for i in 0..n {
        args.push(format!("k{i}"));
        args.push(format!("{i}"));
    }
    assert_eq!(c.cmd(&args), Reply::ok());
    let mut args: Vec<String> = vec!["MGET".into()];
    args.extend((0..n).map(|i| format!("k{i}")));
    args.push("missing".into());
    let r = c.cmd(&args);
    let items = r.as_array().unwrap();
    assert_eq!(items.len(), n + 1);
    for (i, item) in items[..n].iter().enumerate() {
        assert_eq!(item, &Reply::bulk(&i.to_string()));
    }
    assert_eq!(items[n], Reply::Nil);
    // A 10 MB value sent in small pieces.
    let big = vec![b'z'; 10 << 20];
    let frame = encode_cmd(&[&b"SET"[..], b"big", &big]);
    for chunk in frame.chunks(7919) {
        c.send(chunk);
    }
    assert_eq!(c.read_reply(), Reply::ok());
    assert_eq!(c.cmd(&["STRLEN", "big"]), Reply::Int(10 << 20));
    srv.assert_alive();
}
