//! Wire protocol: RESP2/RESP3 (HELLO), pipelining, inline commands, connection commands,
//! COMMAND introspection, unknown-command and arity errors (byte-exact).

#[macro_use]
mod common;

use common::*;
use std::time::{SystemTime, UNIX_EPOCH};

fn hello_keys(r: &Reply) -> Vec<String> {
    match r {
        Reply::Map(kv) => kv.iter().map(|(k, _)| k.as_str().unwrap()).collect(),
        Reply::Array(items) => items.chunks(2).map(|c| c[0].as_str().unwrap()).collect(),
        other => panic!("HELLO reply is neither map nor array: {other:?}"),
    }
}

fn check_hello(r: &Reply, proto: i64, client_id: i64) {
    assert_eq!(
        hello_keys(r),
        ["server", "version", "proto", "id", "mode", "role", "modules"],
        "HELLO fields and their order: {r:?}"
    );
    assert!(!r.get("server").unwrap().as_str().unwrap().is_empty());
    let version = r.get("version").unwrap().as_str().unwrap();
    assert!(
        version.split('.').count() == 3 && version.split('.').all(|p| p.parse::<u32>().is_ok()),
        "version {version:?}"
    );
    assert_eq!(r.get("proto"), Some(&Reply::Int(proto)));
    assert_eq!(r.get("id"), Some(&Reply::Int(client_id)));
    let mode = r.get("mode").unwrap().as_str().unwrap();
    assert!(mode == "standalone" || mode == "cluster", "mode {mode:?}");
    assert_eq!(r.get("role").unwrap().as_str().as_deref(), Some("master"));
    assert_eq!(r.get("modules"), Some(&Reply::Array(vec![])));
}

#[test]
fn hello_switches_protocol() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let id = c
        .cmd(&["CLIENT", "ID"])
        .as_int()
        .expect("CLIENT ID is an integer");

    // HELLO without arguments: reply in the current protocol (RESP2 => flat array).
    let r = c.cmd(&["HELLO"]);
    assert!(matches!(r, Reply::Array(ref v) if v.len() == 14), "{r:?}");
    check_hello(&r, 2, id);

    // HELLO 3: map reply, and RESP3 types from now on.
    let (r, raw) = {
        c.send_cmd(&["HELLO", "3"]);
        c.read_reply_raw()
    };
    assert!(
        raw.starts_with(b"%7\r\n"),
        "HELLO 3 must answer with a 7-entry map: {raw:?}"
    );
    check_hello(&r, 3, id);
    let (r, raw) = {
        c.send_cmd(&["GET", "missing"]);
        c.read_reply_raw()
    };
    assert_eq!((r, raw), (Reply::Null, b"_\r\n".to_vec()));
    assert_eq!(
        c.cmd(&["MGET", "missing", "missing2"]),
        Reply::Array(vec![Reply::Null, Reply::Null])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout"]),
        Reply::Map(vec![(Reply::bulk("timeout"), Reply::bulk("0"))])
    );
    assert_eq!(c.cmd(&["SET", "f", "1.5"]), Reply::ok());
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "1"]), Reply::bulk("2.5"));
    assert_eq!(c.cmd(&["TTL", "f"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    // Errors are still simple errors.
    assert_eq!(
        c.cmd(&["INCR", "f"]),
        Reply::err("ERR value is not an integer or out of range")
    );
    // Free-text replies (CLIENT INFO, INFO) are verbatim strings in RESP3.
    match c.cmd(&["CLIENT", "INFO"]) {
        Reply::Verbatim(fmt, text) => {
            assert_eq!(fmt, "txt");
            let text = String::from_utf8(text).unwrap();
            assert!(text.contains(&format!("id={id} ")), "{text}");
            assert!(text.contains(" resp=3"), "{text}");
        }
        other => panic!("CLIENT INFO in RESP3 should be a verbatim string: {other:?}"),
    }
    assert!(matches!(c.cmd(&["INFO", "server"]), Reply::Verbatim(ref f, _) if f == "txt"));

    // Unsupported versions are rejected and do not change the protocol.
    assert_eq!(
        c.cmd(&["HELLO", "4"]),
        Reply::err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        c.cmd(&["HELLO", "1"]),
        Reply::err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        c.cmd(&["HELLO", "0"]),
        Reply::err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        c.cmd(&["HELLO", "abc"]),
        Reply::err("ERR Protocol version is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["GET", "missing"]),
        Reply::Null,
        "still RESP3 after failed HELLO"
    );

    // Back to RESP2.
    let r = c.cmd(&["HELLO", "2"]);
    assert!(matches!(r, Reply::Array(ref v) if v.len() == 14), "{r:?}");
    check_hello(&r, 2, id);
    let (r, raw) = {
        c.send_cmd(&["GET", "missing"]);
        c.read_reply_raw()
    };
    assert_eq!((r, raw), (Reply::Nil, b"$-1\r\n".to_vec()));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout"]),
        Reply::Array(vec![Reply::bulk("timeout"), Reply::bulk("0")])
    );
    assert!(matches!(c.cmd(&["CLIENT", "INFO"]), Reply::Bulk(_)));
}

#[test]
fn hello_options() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let id = c.cmd(&["CLIENT", "ID"]).as_int().unwrap();

    let r = c.cmd(&["HELLO", "3", "SETNAME", "myname"]);
    check_hello(&r, 3, id);
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::bulk("myname"));
    let r = c.cmd(&["hello", "2", "setname", "other"]);
    check_hello(&r, 2, id);
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::bulk("other"));

    assert_eq!(
        c.cmd(&["HELLO", "3", "FOO"]),
        Reply::err("ERR Syntax error in HELLO option 'FOO'")
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME", "a b"]),
        Reply::err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default"]),
        Reply::err("ERR Syntax error in HELLO option 'AUTH'")
    );
    // The failed HELLOs changed nothing.
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::bulk("other"));
    assert_eq!(c.cmd(&["GET", "missing"]), Reply::Nil);
}

#[test]
fn inline_commands() {
    let srv = TestServer::start();
    let mut c = srv.raw();

    c.send(b"PING\r\n");
    assert_eq!(c.read_reply_raw().1, b"+PONG\r\n");
    c.send(b"SET a \"b c\"\r\n");
    assert_eq!(c.read_reply_raw().1, b"+OK\r\n");
    c.send(b"GET a\r\n");
    assert_eq!(c.read_reply_raw().1, b"$3\r\nb c\r\n");
    // Several inline commands in one write, LF-only terminator, extra spaces, lowercase.
    c.send(b"set x 'single quoted'\r\nget x\n  ping  \r\nECHO \"esc\\x41\\n\"\r\n");
    assert_eq!(c.read_reply(), Reply::ok());
    assert_eq!(c.read_reply(), Reply::bulk("single quoted"));
    assert_eq!(c.read_reply(), Reply::Simple("PONG".into()));
    assert_eq!(c.read_reply(), Reply::bulk("escA\n"));
    // Empty lines are ignored.
    c.send(b"\r\n\r\n\nPING\r\n");
    assert_eq!(c.read_reply(), Reply::Simple("PONG".into()));
    // Inline and multibulk can be mixed on one connection.
    c.send(b"*2\r\n$3\r\nGET\r\n$1\r\na\r\nGET a\r\n");
    assert_eq!(c.read_reply(), Reply::bulk("b c"));
    assert_eq!(c.read_reply(), Reply::bulk("b c"));
    // An inline command split over several writes.
    c.send(b"EC");
    c.send(b"HO split");
    c.send(b"\r\n");
    assert_eq!(c.read_reply(), Reply::bulk("split"));
}

#[test]
fn pipelining_10k_commands_in_one_write() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let n = 10_000;

    let mut buf = Vec::new();
    for i in 0..n {
        if i % 2 == 0 {
            buf.extend_from_slice(&encode_cmd(&[
                "SET",
                &format!("key:{i}"),
                &format!("val:{i}"),
            ]));
        } else {
            buf.extend_from_slice(&encode_cmd(&["INCR", "counter"]));
        }
    }
    c.send(&buf);
    for i in 0..n {
        let r = c.read_reply();
        if i % 2 == 0 {
            assert_eq!(r, Reply::ok(), "reply #{i}");
        } else {
            assert_eq!(r, Reply::Int((i / 2 + 1) as i64), "reply #{i} out of order");
        }
    }

    // Read them back, again all in one write, mixing inline and multibulk.
    let mut buf = Vec::new();
    for i in (0..n).step_by(2) {
        if i % 4 == 0 {
            buf.extend_from_slice(format!("GET key:{i}\r\n").as_bytes());
        } else {
            buf.extend_from_slice(&encode_cmd(&["GET", &format!("key:{i}")]));
        }
    }
    buf.extend_from_slice(b"GET counter\r\n");
    c.send(&buf);
    for i in (0..n).step_by(2) {
        assert_eq!(
            c.read_reply(),
            Reply::bulk(&format!("val:{i}")),
            "GET key:{i}"
        );
    }
    assert_eq!(c.read_reply(), Reply::bulk(&(n / 2).to_string()));
}

#[tokio::test]
async fn pipelining_with_client_library() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let n = 10_000;
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET").arg(format!("p:{i}")).arg(i);
        pipe.cmd("INCRBY").arg("sum").arg(i);
    }
    let replies: Vec<Value> = pipe.query_async(&mut c).await.unwrap();
    assert_eq!(replies.len(), 2 * n);
    let mut sum = 0i64;
    for i in 0..n {
        assert_eq!(replies[2 * i], ok());
        sum += i as i64;
        assert_eq!(replies[2 * i + 1], int(sum));
    }
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("GET").arg(format!("p:{i}"));
    }
    let values: Vec<i64> = pipe.query_async(&mut c).await.unwrap();
    assert_eq!(values, (0..n as i64).collect::<Vec<_>>());

    // Concurrent requests on a multiplexed connection each get their own reply.
    let mut handles = Vec::new();
    for t in 0..8 {
        let mut cc = c.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..200 {
                let v: String = q(&mut cc, &["ECHO", &format!("{t}-{i}")]).await;
                assert_eq!(v, format!("{t}-{i}"));
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
}

#[test]
fn echo_ping_time() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.send_cmd(&["PING"]);
    assert_eq!(c.read_reply_raw().1, b"+PONG\r\n");
    c.send_cmd(&["PING", "hello world"]);
    assert_eq!(c.read_reply_raw().1, b"$11\r\nhello world\r\n");
    c.send_cmd(&["ECHO", "hi"]);
    assert_eq!(c.read_reply_raw().1, b"$2\r\nhi\r\n");
    c.send_cmd(&["ECHO", ""]);
    assert_eq!(c.read_reply_raw().1, b"$0\r\n\r\n");
    let bin: &[u8] = b"\x00\r\n\xff";
    c.send_cmd(&[&b"ECHO"[..], bin]);
    assert_eq!(c.read_reply(), Reply::Bulk(bin.to_vec()));
    assert_eq!(
        c.cmd(&["PING", "a", "b"]),
        Reply::err("ERR wrong number of arguments for 'ping' command")
    );
    assert_eq!(
        c.cmd(&["ECHO"]),
        Reply::err("ERR wrong number of arguments for 'echo' command")
    );
    assert_eq!(
        c.cmd(&["ECHO", "a", "b"]),
        Reply::err("ERR wrong number of arguments for 'echo' command")
    );

    let r = c.cmd(&["TIME"]);
    let parts = r.as_array().expect("TIME returns an array").to_vec();
    assert_eq!(parts.len(), 2);
    let secs: i64 = parts[0].as_str().expect("bulk seconds").parse().unwrap();
    let micros: i64 = parts[1].as_str().expect("bulk micros").parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((secs - now).abs() <= 5, "TIME {secs} vs local {now}");
    assert!((0..1_000_000).contains(&micros), "micros {micros}");
    assert_eq!(
        c.cmd(&["TIME", "x"]),
        Reply::err("ERR wrong number of arguments for 'time' command")
    );
}

#[test]
fn quit_replies_ok_and_closes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["SET", "before", "1"]), Reply::ok());
    // Commands pipelined after QUIT are not executed.
    let mut buf = encode_cmd(&["QUIT"]);
    buf.extend_from_slice(&encode_cmd(&["SET", "after", "1"]));
    c.send(&buf);
    let rest = c.read_until_closed();
    assert_eq!(rest, b"+OK\r\n");

    let mut c2 = srv.raw();
    assert_eq!(c2.cmd(&["EXISTS", "before", "after"]), Reply::Int(1));
    c2.send(b"QUIT\r\n");
    assert_eq!(c2.read_until_closed(), b"+OK\r\n");
}

#[test]
fn reset_restores_connection_state() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["SET", "in0", "zero"]), Reply::ok());
    let id = c.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    assert_eq!(c.cmd(&["SELECT", "3"]), Reply::ok());
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "named"]), Reply::ok());
    check_hello(&c.cmd(&["HELLO", "3"]), 3, id);
    assert_eq!(c.cmd(&["GET", "in0"]), Reply::Null);

    c.send_cmd(&["RESET"]);
    assert_eq!(c.read_reply_raw().1, b"+RESET\r\n");
    // Back to RESP2, db 0, no name; same connection id.
    assert_eq!(c.cmd(&["GET", "missing"]), Reply::Nil);
    assert_eq!(c.cmd(&["GET", "in0"]), Reply::bulk("zero"));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::Nil);
    assert_eq!(c.cmd(&["CLIENT", "ID"]), Reply::Int(id));
    let info = c.cmd(&["CLIENT", "INFO"]).as_str().unwrap();
    assert!(
        info.contains(" db=0 ") && info.contains(" resp=2"),
        "{info}"
    );
    assert_eq!(
        c.cmd(&["RESET", "x"]),
        Reply::err("ERR wrong number of arguments for 'reset' command")
    );
}

#[test]
fn command_introspection() {
    let srv = TestServer::start();
    let mut c = srv.raw();

    let count = c
        .cmd(&["COMMAND", "COUNT"])
        .as_int()
        .expect("COMMAND COUNT is an integer");
    assert!(count >= 20, "COMMAND COUNT {count}");
    let all = c.cmd(&["COMMAND"]);
    assert_eq!(
        all.as_array().unwrap().len() as i64,
        count,
        "COMMAND and COMMAND COUNT disagree"
    );
    let list = c.cmd(&["COMMAND", "LIST"]);
    let names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        names.len() as i64 >= count,
        "COMMAND LIST also lists subcommands"
    );
    for must in [
        "get", "set", "del", "ping", "hello", "command", "scan", "info", "client", "config",
    ] {
        assert!(names.iter().any(|n| n == must), "COMMAND LIST lacks {must}");
    }

    // COMMAND INFO: [name, arity, flags, first key, last key, step, acl categories, ...]
    let r = c.cmd(&["COMMAND", "INFO", "get", "SET", "nonexistent"]);
    let entries = r.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let get = entries[0].as_array().expect("COMMAND INFO get");
    assert!(get.len() >= 7, "{get:?}");
    assert_eq!(get[0], Reply::bulk("get"));
    assert_eq!(get[1], Reply::Int(2));
    let flags: Vec<String> = get[2]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        flags.contains(&"readonly".to_string()) && flags.contains(&"fast".to_string()),
        "{flags:?}"
    );
    assert_eq!(&get[3..6], &[Reply::Int(1), Reply::Int(1), Reply::Int(1)]);
    let set = entries[1].as_array().expect("COMMAND INFO SET");
    assert_eq!(set[0], Reply::bulk("set"));
    assert_eq!(set[1], Reply::Int(-3));
    let flags: Vec<String> = set[2]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(flags.contains(&"write".to_string()), "{flags:?}");
    // Unknown commands get a null bulk (`$-1`) entry.
    assert_eq!(entries[2], Reply::Nil);
    let mset = c.cmd(&["COMMAND", "INFO", "mset"]);
    let mset = mset.as_array().unwrap()[0].as_array().unwrap().to_vec();
    assert_eq!(mset[1], Reply::Int(-3));
    assert_eq!(&mset[3..6], &[Reply::Int(1), Reply::Int(-1), Reply::Int(2)]);

    // COMMAND GETKEYS.
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "SET", "a", "b"]),
        Reply::Array(vec![Reply::bulk("a")])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]),
        Reply::Array(vec![Reply::bulk("a"), Reply::bulk("b")])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "GET"]),
        Reply::err("ERR wrong number of arguments for 'command|getkeys' command")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "PING", "x"]),
        Reply::err("ERR The command has no key arguments")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "foo", "a"]),
        Reply::err("ERR Invalid command specified")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "SET", "a"]),
        Reply::err("ERR Invalid number of arguments specified for command")
    );

    // COMMAND DOCS.
    let docs = c.cmd(&["COMMAND", "DOCS", "GET"]);
    let get_doc = docs
        .get("get")
        .unwrap_or_else(|| panic!("COMMAND DOCS GET lacks 'get': {docs:?}"));
    assert!(
        get_doc
            .get("summary")
            .and_then(|s| s.as_str())
            .is_some_and(|s| !s.is_empty()),
        "{get_doc:?}"
    );
    assert_eq!(
        get_doc.get("group").and_then(|s| s.as_str()).as_deref(),
        Some("string")
    );
    assert!(get_doc.get("since").is_some());
    assert_eq!(
        c.cmd(&["COMMAND", "DOCS", "nonexistent"]),
        Reply::Array(vec![])
    );

    assert_eq!(
        c.cmd(&["COMMAND", "FOO"]),
        Reply::err("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")
    );
}

#[test]
fn unknown_command_and_arity_errors_are_byte_exact() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let cases: Vec<(Vec<&str>, &[u8])> = vec![
        (
            vec!["foo", "a", "b"],
            b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
        ),
        (
            vec!["foo"],
            b"-ERR unknown command 'foo', with args beginning with: \r\n",
        ),
        (
            vec!["FooBar", "x"],
            b"-ERR unknown command 'FooBar', with args beginning with: 'x' \r\n",
        ),
        (
            vec!["GET"],
            b"-ERR wrong number of arguments for 'get' command\r\n",
        ),
        (
            vec!["get", "a", "b"],
            b"-ERR wrong number of arguments for 'get' command\r\n",
        ),
        (
            vec!["Set", "k"],
            b"-ERR wrong number of arguments for 'set' command\r\n",
        ),
        (
            vec!["CLIENT", "FOO"],
            b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n",
        ),
        (
            vec!["CONFIG", "FOO"],
            b"-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n",
        ),
        (
            vec!["CONFIG", "GET"],
            b"-ERR wrong number of arguments for 'config|get' command\r\n",
        ),
        (
            vec!["CLIENT", "KILL"],
            b"-ERR wrong number of arguments for 'client|kill' command\r\n",
        ),
    ];
    for (args, want) in cases {
        c.send_cmd(&args);
        let (_, raw) = c.read_reply_raw();
        assert_eq!(
            String::from_utf8_lossy(&raw),
            String::from_utf8_lossy(want),
            "for {args:?}"
        );
    }
    // Inline form too.
    c.send(b"foo a b\r\n");
    assert_eq!(
        c.read_reply_raw().1,
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    );
    // Arguments are quoted until the list reaches 128 bytes; each is cut to what is left.
    let long = "x".repeat(200);
    c.send_cmd(&["foo", &long, "b"]);
    let want = format!(
        "-ERR unknown command 'foo', with args beginning with: '{}' \r\n",
        "x".repeat(128)
    );
    assert_eq!(String::from_utf8_lossy(&c.read_reply_raw().1), want);
    let a100 = "a".repeat(100);
    c.send_cmd(&["foo", &a100, &"b".repeat(100), "c"]);
    let want = format!(
        "-ERR unknown command 'foo', with args beginning with: '{a100}' '{}' \r\n",
        "b".repeat(128 - 103)
    );
    assert_eq!(String::from_utf8_lossy(&c.read_reply_raw().1), want);
    // The connection is still usable.
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
}

#[tokio::test]
async fn client_library_sees_exact_errors() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(
        qe(&mut c, &["foo", "a", "b"]).await,
        "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        qe(&mut c, &["get"]).await,
        "ERR wrong number of arguments for 'get' command"
    );
    // A failing command in a pipeline does not break the others.
    let mut pipe = redis::pipe();
    pipe.cmd("SET")
        .arg("a")
        .arg("x")
        .cmd("INCR")
        .arg("a")
        .cmd("GET")
        .arg("a");
    let r: Vec<Value> = pipe.ignore_errors().query_async(&mut c).await.unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0], ok());
    assert!(matches!(r[1], Value::ServerError(_)), "{:?}", r[1]);
    assert_eq!(r[2], bulk("x"));
}
