//! INFO, CLIENT *, CONFIG *, LASTSAVE, DBSIZE, and (raftrocks only) the CLUSTER commands.

#[macro_use]
mod common;

use common::*;
use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn section_headers(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("# "))
        .map(|l| l[2..].trim_end().to_string())
        .collect()
}

fn info_text(c: &mut RawConn, args: &[&str]) -> String {
    let mut full = vec!["INFO"];
    full.extend_from_slice(args);
    match c.cmd(&full) {
        Reply::Bulk(b) => String::from_utf8(b).expect("INFO is UTF-8"),
        other => panic!("INFO {args:?} returned {other:?}"),
    }
}

fn field_i64(info: &[(String, String)], name: &str) -> i64 {
    info_field(info, name)
        .unwrap_or_else(|| panic!("INFO lacks {name}"))
        .parse()
        .unwrap_or_else(|_| panic!("INFO {name} is not an integer"))
}

#[test]
fn info_sections_and_fields() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "t", "1", "EX", "1000"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "a"]), Reply::bulk("1"));

    let text = info_text(&mut c, &[]);
    assert!(text.contains("\r\n"), "INFO lines are CRLF-terminated");
    let headers = section_headers(&text);
    for s in [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Keyspace",
    ] {
        assert!(
            headers.iter().any(|h| h == s),
            "default INFO lacks # {s}: {headers:?}"
        );
    }
    assert!(
        !headers.iter().any(|h| h == "Commandstats"),
        "commandstats is not in default INFO"
    );
    let info = parse_info(&text);
    for f in [
        "redis_version",
        "redis_mode",
        "process_id",
        "tcp_port",
        "uptime_in_seconds",
        "connected_clients",
        "maxclients",
        "used_memory",
        "used_memory_human",
        "loading",
        "rdb_changes_since_last_save",
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
        "rejected_connections",
        "expired_keys",
        "keyspace_hits",
        "keyspace_misses",
        "role",
        "connected_slaves",
        "used_cpu_sys",
        "used_cpu_user",
    ] {
        assert!(info_field(&info, f).is_some(), "INFO lacks {f}");
    }
    assert_eq!(field_i64(&info, "tcp_port"), srv.port() as i64);
    assert!(field_i64(&info, "connected_clients") >= 1);
    assert!(field_i64(&info, "used_memory") > 0);
    assert_eq!(field_i64(&info, "loading"), 0);
    assert!(field_i64(&info, "total_commands_processed") >= 3);
    assert_eq!(info_field(&info, "role"), Some("master"));
    let v = info_field(&info, "redis_version").unwrap();
    assert!(
        v.split('.').all(|p| p.parse::<u32>().is_ok()),
        "redis_version {v}"
    );
    let cpu: f64 = info_field(&info, "used_cpu_sys")
        .unwrap()
        .parse()
        .expect("used_cpu_sys is a number");
    assert!(cpu >= 0.0);
    let db0 = info_field(&info, "db0").expect("db0 in keyspace");
    assert!(db0.starts_with("keys=3,expires=1,avg_ttl="), "db0:{db0}");
    assert!(
        info_field(&info, "db1").is_none(),
        "empty dbs are not listed"
    );

    // Single sections.
    let server = info_text(&mut c, &["server"]);
    assert_eq!(section_headers(&server), ["Server"]);
    let clients = info_text(&mut c, &["CLIENTS"]);
    assert_eq!(section_headers(&clients), ["Clients"]);
    for s in [
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "keyspace",
    ] {
        let t = info_text(&mut c, &[s]);
        let h = section_headers(&t);
        assert_eq!(h.len(), 1, "INFO {s}: {h:?}");
        assert_eq!(h[0].to_lowercase(), s);
    }
    // Several sections at once (Redis 7).
    assert_eq!(
        section_headers(&info_text(&mut c, &["server", "clients"])),
        ["Server", "Clients"]
    );
    // Unknown section: empty.
    assert_eq!(info_text(&mut c, &["nosuchsection"]), "");

    // commandstats.
    let cs = parse_info(&info_text(&mut c, &["commandstats"]));
    let get = info_field(&cs, "cmdstat_get").expect("cmdstat_get");
    assert!(get.starts_with("calls=1,usec="), "cmdstat_get:{get}");
    assert!(get.contains(",usec_per_call="), "cmdstat_get:{get}");
    let mset = info_field(&cs, "cmdstat_mset").expect("cmdstat_mset");
    assert!(mset.starts_with("calls=1,"), "cmdstat_mset:{mset}");
    // "all" / "everything" include commandstats.
    for s in ["all", "everything"] {
        let h = section_headers(&info_text(&mut c, &[s]));
        assert!(h.iter().any(|x| x == "Commandstats"), "INFO {s}: {h:?}");
        assert!(h.iter().any(|x| x == "Keyspace"), "INFO {s}: {h:?}");
    }
    // Keyspace hits / misses count.
    let before = parse_info(&info_text(&mut c, &["stats"]));
    assert_eq!(c.cmd(&["GET", "a"]), Reply::bulk("1"));
    assert_eq!(c.cmd(&["GET", "nope"]), Reply::Nil);
    let after = parse_info(&info_text(&mut c, &["stats"]));
    assert_eq!(
        field_i64(&after, "keyspace_hits"),
        field_i64(&before, "keyspace_hits") + 1
    );
    assert_eq!(
        field_i64(&after, "keyspace_misses"),
        field_i64(&before, "keyspace_misses") + 1
    );
}

#[test]
fn info_cluster_enabled() {
    if skip_on_redis("info_cluster_enabled") {
        return;
    }
    let srv = TestServer::start();
    let info = srv.info("cluster");
    assert_eq!(info_field(&info, "cluster_enabled"), Some("1"));
}

#[test]
fn client_id_name_info_list() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut other = srv.raw();

    let id = c.cmd(&["CLIENT", "ID"]).as_int().expect("CLIENT ID");
    let other_id = other.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    assert!(id > 0 && other_id > 0 && id != other_id);
    assert_eq!(
        c.cmd(&["CLIENT", "ID"]),
        Reply::Int(id),
        "stable per connection"
    );

    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::Nil);
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "worker-1"]), Reply::ok());
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::bulk("worker-1"));
    let bad = Reply::err("ERR Client names cannot contain spaces, newlines or special characters.");
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "a b"]), bad);
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "a\nb"]), bad);
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::bulk("worker-1"));
    assert_eq!(
        c.cmd(&["CLIENT", "SETNAME"]),
        Reply::err("ERR wrong number of arguments for 'client|setname' command")
    );

    // CLIENT INFO describes this connection.
    let me = c.cmd(&["CLIENT", "INFO"]).as_str().unwrap();
    assert!(
        me.ends_with('\n'),
        "CLIENT INFO ends with a newline: {me:?}"
    );
    assert_eq!(me.lines().count(), 1);
    let addr = c.local_addr();
    for needle in [
        format!("id={id} "),
        format!(" addr={addr} "),
        format!(" laddr=127.0.0.1:{} ", srv.port()),
        " name=worker-1 ".to_string(),
        " db=0 ".to_string(),
        " cmd=client|info".to_string(),
    ] {
        assert!(me.contains(&needle), "CLIENT INFO lacks {needle:?}: {me}");
    }
    for field in ["age=", "idle=", "flags="] {
        assert!(
            me.contains(&format!(" {field}")),
            "CLIENT INFO lacks {field}: {me}"
        );
    }
    assert!(me.starts_with(&format!("id={id} addr=")), "{me}");

    // CLIENT LIST has one line per connection, including both of ours.
    assert_eq!(c.cmd(&["SELECT", "4"]), Reply::ok());
    let list = c.cmd(&["CLIENT", "LIST"]).as_str().unwrap();
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .unwrap_or_else(|| panic!("CLIENT LIST lacks id={id}: {list}"));
    assert!(
        line.contains(" name=worker-1 ") && line.contains(" db=4 "),
        "{line}"
    );
    let oline = list
        .lines()
        .find(|l| l.starts_with(&format!("id={other_id} ")))
        .unwrap_or_else(|| panic!("CLIENT LIST lacks id={other_id}: {list}"));
    assert!(
        oline.contains(&format!(" addr={} ", other.local_addr())),
        "{oline}"
    );
    assert!(oline.contains(" name= "), "{oline}");
    // Filters.
    let only = c
        .cmd(&["CLIENT", "LIST", "ID", &other_id.to_string()])
        .as_str()
        .unwrap();
    assert_eq!(only.lines().count(), 1);
    assert!(only.starts_with(&format!("id={other_id} ")));
    let both = c
        .cmd(&[
            "CLIENT",
            "LIST",
            "ID",
            &id.to_string(),
            &other_id.to_string(),
            "999999",
        ])
        .as_str()
        .unwrap();
    assert_eq!(both.lines().count(), 2);
    assert_eq!(c.cmd(&["CLIENT", "LIST", "ID", "999999"]), Reply::bulk(""));
    let normal = c
        .cmd(&["CLIENT", "LIST", "TYPE", "normal"])
        .as_str()
        .unwrap();
    assert!(normal.lines().count() >= 2);
    assert_eq!(
        c.cmd(&["CLIENT", "LIST", "TYPE", "foo"]),
        Reply::err("ERR Unknown client type 'foo'")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "LIST", "ID", "abc"]),
        Reply::err("ERR Invalid client ID")
    );

    // Clearing the name.
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", ""]), Reply::ok());
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::Nil);

    assert_eq!(
        c.cmd(&["CLIENT", "FOO"]),
        Reply::err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
    );
}

#[test]
fn client_kill() {
    let mut srv = TestServer::start();
    let mut admin = srv.raw();
    let admin_id = admin.cmd(&["CLIENT", "ID"]).as_int().unwrap();

    // By ID.
    let mut v1 = srv.raw();
    let v1_id = v1.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", &v1_id.to_string()]),
        Reply::Int(1)
    );
    assert_eq!(v1.read_until_closed(), b"");
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", &v1_id.to_string()]),
        Reply::Int(0)
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", "999999"]),
        Reply::Int(0)
    );
    // New-style filters skip the caller by default.
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", &admin_id.to_string()]),
        Reply::Int(0)
    );
    assert_eq!(admin.cmd(&["PING"]), Reply::Simple("PONG".into()));

    // By ADDR (new style): integer reply.
    let mut v2 = srv.raw();
    assert_eq!(v2.cmd(&["PING"]), Reply::Simple("PONG".into()));
    let v2_addr = v2.local_addr().to_string();
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ADDR", &v2_addr]),
        Reply::Int(1)
    );
    assert_eq!(v2.read_until_closed(), b"");
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ADDR", "1.2.3.4:5"]),
        Reply::Int(0)
    );

    // Old style (just the address): +OK or an error.
    let mut v3 = srv.raw();
    assert_eq!(v3.cmd(&["PING"]), Reply::Simple("PONG".into()));
    let v3_addr = v3.local_addr().to_string();
    assert_eq!(admin.cmd(&["CLIENT", "KILL", &v3_addr]), Reply::ok());
    assert_eq!(v3.read_until_closed(), b"");
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "1.2.3.4:5"]),
        Reply::err("ERR No such client")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID"]),
        Reply::err("ERR No such client")
    );

    // Errors.
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", "abc"]),
        Reply::err("ERR client-id should be greater than 0")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", "1", "FOO"]),
        Reply::err("ERR syntax error")
    );

    // SKIPME no allows killing yourself.
    let mut me = srv.raw();
    let me_id = me.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    me.send_cmd(&["CLIENT", "KILL", "ID", &me_id.to_string(), "SKIPME", "no"]);
    let rest = me.read_until_closed();
    assert!(rest.is_empty() || rest == b":1\r\n", "{rest:?}");

    srv.assert_alive();
    let list = admin.cmd(&["CLIENT", "LIST"]).as_str().unwrap();
    for killed in [v1_id, me_id] {
        assert!(!list.contains(&format!("id={killed} ")), "{list}");
    }
}

#[test]
fn client_no_evict_no_touch_setinfo() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "ON"]), Reply::ok());
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "off"]), Reply::ok());
    assert_eq!(
        c.cmd(&["CLIENT", "NO-EVICT", "maybe"]),
        Reply::err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "NO-EVICT"]),
        Reply::err("ERR wrong number of arguments for 'client|no-evict' command")
    );

    if srv.redis_older_than(7, 2) {
        eprintln!("CLIENT NO-TOUCH / SETINFO: skipped on redis < 7.2");
        return;
    }
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "ON"]), Reply::ok());
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "OFF"]), Reply::ok());
    assert_eq!(
        c.cmd(&["CLIENT", "NO-TOUCH", "maybe"]),
        Reply::err("ERR syntax error")
    );

    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "mylib"]),
        Reply::ok()
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-ver", "1.2.3"]),
        Reply::ok()
    );
    let info = c.cmd(&["CLIENT", "INFO"]).as_str().unwrap();
    assert!(
        info.contains(" lib-name=mylib ") && info.contains(" lib-ver=1.2.3"),
        "{info}"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "foo", "x"]),
        Reply::err("ERR Unrecognized option 'foo'")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-name"]),
        Reply::err("ERR wrong number of arguments for 'client|setinfo' command")
    );
}

#[test]
fn config_get_set_resetstat() {
    let srv = TestServer::start();
    let mut c = srv.raw();

    let r = c.cmd(&["CONFIG", "GET", "maxclients"]);
    let items = r.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], Reply::bulk("maxclients"));
    let maxclients: i64 = items[1].as_str().unwrap().parse().unwrap();
    assert!(maxclients > 0);
    // Globs.
    let r = c.cmd(&["CONFIG", "GET", "maxclient*"]);
    assert_eq!(
        r,
        Reply::Array(vec![
            Reply::bulk("maxclients"),
            Reply::bulk(&maxclients.to_string())
        ])
    );
    let r = c.cmd(&["CONFIG", "GET", "time*"]);
    assert_eq!(r.get("timeout"), Some(&Reply::bulk("0")), "{r:?}");
    let r = c.cmd(&["CONFIG", "GET", "*"]);
    for name in [
        "timeout",
        "maxclients",
        "proto-max-bulk-len",
        "client-output-buffer-limit",
        "requirepass",
    ] {
        assert!(r.get(name).is_some(), "CONFIG GET * lacks {name}");
    }
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "no-such-param"]),
        Reply::Array(vec![])
    );
    // Several patterns at once (Redis 7); each parameter once.
    let r = c.cmd(&["CONFIG", "GET", "timeout", "maxclients", "timeout"]);
    assert_eq!(r.as_array().unwrap().len(), 4, "{r:?}");
    assert_eq!(r.get("timeout"), Some(&Reply::bulk("0")));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "proto-max-bulk-len"]),
        Reply::Array(vec![
            Reply::bulk("proto-max-bulk-len"),
            Reply::bulk("536870912")
        ])
    );

    // SET.
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout", "30"]), Reply::ok());
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout"]).get("timeout"),
        Some(&Reply::bulk("30"))
    );
    assert_eq!(c.cmd(&["config", "set", "TIMEOUT", "0"]), Reply::ok());
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout"]).get("timeout"),
        Some(&Reply::bulk("0"))
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "5", "maxclients", "100"]),
        Reply::ok()
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxclients"]).get("maxclients"),
        Some(&Reply::bulk("100"))
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "0", "maxclients", "10000"]),
        Reply::ok()
    );
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1mb 512kb 10"
        ]),
        Reply::ok()
    );
    let v = c.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]);
    let v = v
        .get("client-output-buffer-limit")
        .unwrap()
        .as_str()
        .unwrap();
    assert!(v.starts_with("normal 1048576 524288 10"), "{v}");
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 0 0"
        ]),
        Reply::ok()
    );

    // SET errors.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "abc"]),
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "-1"]),
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxclients", "0"]),
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "no-such-param", "1"]),
        Reply::err("ERR Unknown option or number of arguments for CONFIG SET - 'no-such-param'")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb"]),
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "foo 1mb 1mb 0"]),
        Reply::err("ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration.")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout"]),
        Reply::err("ERR wrong number of arguments for 'config|set' command")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout"]).get("timeout"),
        Some(&Reply::bulk("0"))
    );

    // RESETSTAT.
    for _ in 0..10 {
        assert_eq!(c.cmd(&["GET", "x"]), Reply::Nil);
    }
    let before = srv.info("stats");
    assert!(field_i64(&before, "total_commands_processed") >= 10);
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), Reply::ok());
    let after = parse_info(&info_text(&mut c, &["stats"]));
    assert!(
        field_i64(&after, "total_commands_processed") <= 2,
        "total_commands_processed after RESETSTAT: {}",
        field_i64(&after, "total_commands_processed")
    );
    assert_eq!(field_i64(&after, "keyspace_misses"), 0);
    let cs = parse_info(&info_text(&mut c, &["commandstats"]));
    assert!(
        info_field(&cs, "cmdstat_get").is_none(),
        "commandstats reset: {cs:?}"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "RESETSTAT", "x"]),
        Reply::err("ERR wrong number of arguments for 'config|resetstat' command")
    );
}

#[test]
fn lastsave_and_dbsize() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let t = c
        .cmd(&["LASTSAVE"])
        .as_int()
        .expect("LASTSAVE is an integer");
    assert!(t > 1_600_000_000 && t <= now_secs() + 5, "LASTSAVE {t}");
    assert_eq!(
        c.cmd(&["LASTSAVE", "x"]),
        Reply::err("ERR wrong number of arguments for 'lastsave' command")
    );
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]), Reply::ok());
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(3));
    assert_eq!(c.cmd(&["DEL", "a"]), Reply::Int(1));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(2));
}

// ---------------------------------------------------------------------------------------
// CLUSTER (raftrocks runs as a single-node cluster owning all 16384 slots)
// ---------------------------------------------------------------------------------------

/// Starts the server for the CLUSTER tests; None when they must be skipped.
fn cluster_server(test: &str) -> Option<TestServer> {
    if !target_is_redis() {
        return Some(TestServer::start());
    }
    if !matches!(
        std::env::var("RAFTROCKS_TEST_REDIS_CLUSTER").as_deref(),
        Ok("1")
    ) {
        eprintln!("{test}: skipped on redis");
        return None;
    }
    // Dev aid: a one-node redis cluster owning every slot.
    let srv = TestServer::builder().redis_cluster().start();
    let mut c = srv.raw();
    assert_eq!(
        c.cmd(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]),
        Reply::ok()
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !c
        .cmd(&["CLUSTER", "INFO"])
        .as_str()
        .unwrap()
        .contains("cluster_state:ok")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "redis cluster did not become ok"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Some(srv)
}

#[test]
fn cluster_info_myid_nodes() {
    let Some(srv) = cluster_server("cluster_info_myid_nodes") else {
        return;
    };
    let mut c = srv.raw();

    let info = c
        .cmd(&["CLUSTER", "INFO"])
        .as_str()
        .expect("CLUSTER INFO is a string");
    let fields = parse_info(&info);
    assert_eq!(info_field(&fields, "cluster_state"), Some("ok"), "{info}");
    assert_eq!(info_field(&fields, "cluster_slots_assigned"), Some("16384"));
    assert_eq!(info_field(&fields, "cluster_slots_ok"), Some("16384"));
    assert_eq!(info_field(&fields, "cluster_slots_fail"), Some("0"));
    assert_eq!(info_field(&fields, "cluster_known_nodes"), Some("1"));
    assert_eq!(info_field(&fields, "cluster_size"), Some("1"));

    let myid = c
        .cmd(&["CLUSTER", "MYID"])
        .as_str()
        .expect("CLUSTER MYID is a string");
    assert_eq!(myid.len(), 40, "{myid:?}");
    assert!(
        myid.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{myid:?}"
    );
    assert_eq!(
        c.cmd(&["CLUSTER", "MYID"]).as_str().unwrap(),
        myid,
        "stable"
    );

    let nodes = c
        .cmd(&["CLUSTER", "NODES"])
        .as_str()
        .expect("CLUSTER NODES is a string");
    let lines: Vec<&str> = nodes.lines().collect();
    assert_eq!(lines.len(), 1, "{nodes}");
    let parts: Vec<&str> = lines[0].split(' ').collect();
    // <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <epoch> <link> <slots...>
    assert!(parts.len() >= 9, "{nodes}");
    assert_eq!(parts[0], myid);
    assert!(
        parts[1].contains(&format!(":{}@", srv.port())),
        "{}",
        parts[1]
    );
    if !target_is_redis() {
        assert!(parts[1].starts_with("127.0.0.1:"), "{}", parts[1]);
    }
    assert_eq!(parts[2], "myself,master");
    assert_eq!(parts[3], "-");
    assert_eq!(parts[7], "connected");
    assert_eq!(&parts[8..], &["0-16383"]);
}

fn slots_cover_everything(ranges: &mut Vec<(i64, i64)>) {
    ranges.sort();
    let mut next = 0;
    for (s, e) in ranges.iter() {
        assert_eq!(*s, next, "gap or overlap in slot ranges {ranges:?}");
        assert!(e >= s);
        next = e + 1;
    }
    assert_eq!(next, 16384, "slot ranges {ranges:?}");
}

#[test]
fn cluster_slots_and_shards() {
    let Some(srv) = cluster_server("cluster_slots_and_shards") else {
        return;
    };
    let mut c = srv.raw();
    let myid = c.cmd(&["CLUSTER", "MYID"]).as_str().unwrap();

    let slots = c.cmd(&["CLUSTER", "SLOTS"]);
    let mut ranges = Vec::new();
    for entry in slots.as_array().expect("CLUSTER SLOTS array") {
        let e = entry.as_array().unwrap();
        let (start, end) = (e[0].as_int().unwrap(), e[1].as_int().unwrap());
        ranges.push((start, end));
        assert_eq!(e.len(), 3, "one master, no replicas: {e:?}");
        let node = e[2].as_array().unwrap();
        if !target_is_redis() {
            assert_eq!(node[0], Reply::bulk("127.0.0.1"));
        }
        assert_eq!(node[1], Reply::Int(srv.port() as i64));
        assert_eq!(node[2].as_str().unwrap(), myid);
    }
    slots_cover_everything(&mut ranges);

    let shards = c.cmd(&["CLUSTER", "SHARDS"]);
    let shards = shards.as_array().expect("CLUSTER SHARDS array");
    assert_eq!(shards.len(), 1, "{shards:?}");
    let shard = &shards[0];
    let flat: Vec<i64> = shard
        .get("slots")
        .and_then(|s| s.as_array())
        .expect("shard slots")
        .iter()
        .map(|x| x.as_int().unwrap())
        .collect();
    let mut ranges: Vec<(i64, i64)> = flat.chunks(2).map(|p| (p[0], p[1])).collect();
    slots_cover_everything(&mut ranges);
    let nodes = shard
        .get("nodes")
        .and_then(|n| n.as_array())
        .expect("shard nodes");
    assert_eq!(nodes.len(), 1);
    let node = &nodes[0];
    assert_eq!(node.get("id").and_then(|v| v.as_str()), Some(myid));
    assert_eq!(node.get("port"), Some(&Reply::Int(srv.port() as i64)));
    assert_eq!(
        node.get("role").and_then(|v| v.as_str()).as_deref(),
        Some("master")
    );
    assert_eq!(
        node.get("health").and_then(|v| v.as_str()).as_deref(),
        Some("online")
    );
    if !target_is_redis() {
        assert_eq!(
            node.get("ip").and_then(|v| v.as_str()).as_deref(),
            Some("127.0.0.1")
        );
    }
}

#[test]
fn cluster_keyslot_and_slot_queries() {
    let Some(srv) = cluster_server("cluster_keyslot_and_slot_queries") else {
        return;
    };
    let mut c = srv.raw();
    for (key, slot) in [
        ("foo", 12182),
        ("bar", 5061),
        ("hello", 866),
        ("{user1000}.following", 3443),
        ("{user1000}.followers", 3443),
        ("{}foo", 9500),
        ("{a", 10276),
        ("", 0),
    ] {
        assert_eq!(
            c.cmd(&["CLUSTER", "KEYSLOT", key]),
            Reply::Int(slot),
            "KEYSLOT {key:?}"
        );
    }
    assert_eq!(
        c.cmd(&["CLUSTER", "KEYSLOT"]),
        Reply::err("ERR wrong number of arguments for 'cluster|keyslot' command")
    );

    assert_eq!(
        c.cmd(&["CLUSTER", "COUNTKEYSINSLOT", "3443"]),
        Reply::Int(0)
    );
    assert_eq!(c.cmd(&["SET", "{user1000}.following", "1"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "{user1000}.followers", "2"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "foo", "3"]), Reply::ok());
    assert_eq!(
        c.cmd(&["CLUSTER", "COUNTKEYSINSLOT", "3443"]),
        Reply::Int(2)
    );
    assert_eq!(
        c.cmd(&["CLUSTER", "COUNTKEYSINSLOT", "12182"]),
        Reply::Int(1)
    );
    let keys = c.cmd(&["CLUSTER", "GETKEYSINSLOT", "3443", "10"]);
    let got: BTreeSet<String> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let want: BTreeSet<String> = ["{user1000}.following", "{user1000}.followers"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        c.cmd(&["CLUSTER", "GETKEYSINSLOT", "3443", "1"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        c.cmd(&["CLUSTER", "GETKEYSINSLOT", "0", "10"]),
        Reply::Array(vec![])
    );
    assert_eq!(
        c.cmd(&["CLUSTER", "COUNTKEYSINSLOT", "16384"]),
        Reply::err("ERR Invalid slot")
    );
    assert_eq!(
        c.cmd(&["CLUSTER", "COUNTKEYSINSLOT", "abc"]),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["CLUSTER", "GETKEYSINSLOT", "3443", "-1"]),
        Reply::err("ERR Invalid slot or number of keys")
    );
    assert_eq!(
        c.cmd(&["CLUSTER", "FOO"]),
        Reply::err("ERR unknown subcommand 'FOO'. Try CLUSTER HELP.")
    );

    for cmd in ["READONLY", "READWRITE", "ASKING"] {
        assert_eq!(c.cmd(&[cmd]), Reply::ok(), "{cmd}");
    }
    assert_eq!(
        c.cmd(&["GET", "foo"]),
        Reply::bulk("3"),
        "connection usable after READONLY etc."
    );
}
