//! Server commands: INFO CONFIG COMMAND CLIENT TIME LASTSAVE DBSIZE FLUSHDB FLUSHALL SWAPDB.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::args::{is, parse_i64_opt};
use super::connection::{valid_client_name, REDIS_VERSION};
use super::glob::glob_match;
use super::{
    all_commands, lookup, CmdError, CmdResult, CommandSpec, Handler, ReadCtx, Split, WriteSpec,
};
use crate::config::{parse_memory, OutputLimit};
use crate::node::Node;
use crate::resp::{Frame, Protocol};
use crate::server::clients::Unblock;
use crate::server::session::Session;
use crate::storage::keyspace::{unix_ms, WriteCtx, DATABASES};

// ---------------------------------------------------------------- INFO

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "cluster",
    "keyspace",
];

fn info(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    let mut wanted: Vec<String> = args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_lowercase())
        .collect();
    if wanted.is_empty() || wanted.iter().any(|w| w == "default") {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    if wanted.iter().any(|w| w == "all" || w == "everything") {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
        wanted.push("commandstats".into());
    }
    let mut out = String::new();
    let order = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "commandstats",
        "cluster",
        "keyspace",
    ];
    for section in order {
        if wanted.iter().any(|w| w == section) {
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            render_section(node, section, &mut out);
        }
    }
    if session.protocol == Protocol::Resp3 {
        Frame::Verbatim {
            format: *b"txt",
            text: Bytes::from(out),
        }
    } else {
        Frame::Bulk(Bytes::from(out))
    }
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes}B")
    } else {
        format!("{v:.2}{}", UNITS[u])
    }
}

/// Resident set size of this process, from /proc (0 where unavailable).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

/// (user, system) CPU seconds of this process.
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    // utime and stime are fields 14 and 15 of /proc/pid/stat, i.e. 11 and 12 after ')'.
    (ticks(11), ticks(12))
}

fn render_section(node: &Node, section: &str, out: &mut String) {
    let uptime = node.started_at.elapsed().as_secs();
    let port = node
        .config
        .resp_addr
        .rsplit_once(':')
        .map(|(_, p)| p)
        .unwrap_or("6379");
    match section {
        "server" => {
            let _ = write!(
                out,
                "# Server\r\nredis_version:{REDIS_VERSION}\r\nraftrocks_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_mode:cluster\r\nos:{} {}\r\narch_bits:64\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\nrun_id:{}\r\ntcp_port:{port}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:10\r\nexecutable:{}\r\nconfig_file:\r\n",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::process::id(),
                node.run_id,
                unix_ms() * 1000,
                uptime / 86400,
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            );
        }
        "clients" => {
            let _ = write!(
                out,
                "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nblocked_clients:{}\r\ntracking_clients:0\r\n",
                node.clients.count(),
                node.runtime.read().maxclients,
                node.clients.all().iter().filter(|c| c.is_blocked()).count(),
            );
        }
        "memory" => {
            let rss = rss_bytes();
            let rocks = node.storage.memory_usage();
            let _ = write!(
                out,
                "# Memory\r\nused_memory:{rss}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{rss}\r\nused_memory_dataset:{rocks}\r\nrocksdb_memory:{rocks}\r\nrocksdb_memory_human:{}\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\nmem_allocator:libc\r\n",
                human(rss),
                human(rss),
                human(rocks)
            );
        }
        "persistence" => {
            let s = node.syncer.stats();
            let _ = write!(
                out,
                "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:ok\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\nraft_durability:fsync-before-ack\r\nraft_wal_fsyncs:{}\r\nraft_wal_synced_requests:{}\r\nraft_wal_fsync_usec:{}\r\ndisk_usage_bytes:{}\r\n",
                node.last_save.load(Relaxed),
                s.fsyncs.load(Relaxed),
                s.synced_requests.load(Relaxed),
                s.fsync_usec.load(Relaxed),
                node.storage.disk_usage()
            );
        }
        "stats" => {
            let st = &node.stats;
            let ps = node.pubsub.counts();
            let _ = write!(
                out,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nclient_output_buffer_limit_disconnections:{}\r\ntotal_error_replies:{}\r\n",
                st.connections_received.load(Relaxed),
                st.commands_processed.load(Relaxed),
                st.net_input_bytes.load(Relaxed),
                st.net_output_bytes.load(Relaxed),
                st.rejected_connections.load(Relaxed),
                st.expired_keys.load(Relaxed),
                st.keyspace_hits.load(Relaxed),
                st.keyspace_misses.load(Relaxed),
                ps.0,
                ps.1,
                ps.2,
                st.output_limit_disconnections.load(Relaxed),
                st.total_error_replies.load(Relaxed),
            );
        }
        "replication" => {
            let _ = write!(
                out,
                "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_repl_offset:0\r\nraft_slot_groups:{}\r\nraft_groups_led_here:{}\r\n",
                node.run_id,
                node.groups.len(),
                node.groups.iter().filter(|g| g.is_leader()).count()
            );
        }
        "cpu" => {
            let (user, sys) = cpu_seconds();
            let _ = write!(
                out,
                "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n"
            );
        }
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            for (name, s) in node.stats.used_commands() {
                let calls = s.calls.load(Relaxed);
                let usec = s.usec.load(Relaxed);
                let per = if calls > 0 {
                    usec as f64 / calls as f64
                } else {
                    0.0
                };
                let _ = write!(
                    out,
                    "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={},failed_calls={}\r\n",
                    s.rejected.load(Relaxed),
                    s.failed.load(Relaxed)
                );
            }
        }
        "cluster" => out.push_str("# Cluster\r\ncluster_enabled:1\r\n"),
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            for db in 0..DATABASES as u8 {
                let (keys, expires) = node.key_counts(db);
                if keys > 0 {
                    let _ = write!(out, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- CONFIG

/// Settings CONFIG GET reports that cannot be changed at run time.
fn immutable_settings(node: &Node) -> Vec<(&'static str, String)> {
    let (bind, port) = node
        .config
        .resp_addr
        .rsplit_once(':')
        .map(|(b, p)| (b.to_string(), p.to_string()))
        .unwrap_or_default();
    vec![
        ("bind", bind),
        ("port", port),
        ("dir", node.data_dir.display().to_string()),
        ("databases", DATABASES.to_string()),
        ("cluster-enabled", "yes".into()),
        // Every write is fsynced before it is acknowledged, which is what these mean in Redis.
        ("appendonly", "yes".into()),
        ("appendfsync", "always".into()),
        ("save", String::new()),
        ("maxmemory", "0".into()),
        ("maxmemory-policy", "noeviction".into()),
    ]
}

fn mutable_settings(node: &Node) -> Vec<(&'static str, String)> {
    let r = node.runtime.read();
    vec![
        ("requirepass", r.requirepass.clone()),
        ("maxclients", r.maxclients.to_string()),
        ("timeout", r.timeout.to_string()),
        ("proto-max-bulk-len", r.proto_max_bulk_len.to_string()),
        (
            "client-output-buffer-limit",
            r.client_output_buffer_limit.render(),
        ),
    ]
}

fn config(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    let sub = String::from_utf8_lossy(&args[1]).to_lowercase();
    match sub.as_str() {
        "get" if args.len() >= 3 => {
            let mut all = mutable_settings(node);
            all.extend(immutable_settings(node));
            let mut pairs = Vec::new();
            for (name, value) in all {
                if args[2..].iter().any(|p| glob_match(p, name.as_bytes(), true))
                    && !pairs.iter().any(|(n, _): &(Frame, Frame)| n == &Frame::bulk(name))
                {
                    pairs.push((Frame::bulk(name), Frame::bulk(value)));
                }
            }
            Frame::Map(pairs)
        }
        "set" if args.len() >= 4 && args.len().is_multiple_of(2) => config_set(node, &args[2..]),
        "resetstat" if args.len() == 2 => {
            node.stats.reset();
            Frame::ok()
        }
        "rewrite" if args.len() == 2 => Frame::error(
            "ERR CONFIG REWRITE is not supported: put settings in the TOML file given with --config",
        ),
        "help" => help_frame(&[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "HELP",
            "    Print this help.",
        ]),
        "get" | "set" | "resetstat" | "rewrite" => Frame::Error(
            format!("ERR wrong number of arguments for 'config|{sub}' command").into(),
        ),
        _ => unknown_subcommand(session, &args[1], "CONFIG"),
    }
}

fn config_set(node: &Node, pairs: &[Bytes]) -> Frame {
    // Validate everything first: CONFIG SET with several pairs is all or nothing.
    let mut new = node.runtime.read().clone();
    for pair in pairs.chunks(2) {
        let name = String::from_utf8_lossy(&pair[0]).to_lowercase();
        let value = String::from_utf8_lossy(&pair[1]).to_string();
        let failed = |why: &str| {
            Frame::Error(
                format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
                    .into(),
            )
        };
        match name.as_str() {
            "requirepass" => new.requirepass = value,
            "maxclients" => match value.parse::<i64>() {
                Ok(v) if (1..=u32::MAX as i64).contains(&v) => new.maxclients = v as usize,
                Ok(_) => return failed("argument must be between 1 and 4294967295 inclusive"),
                Err(_) => return failed("argument couldn't be parsed into an integer"),
            },
            "timeout" => match value.parse::<i64>() {
                Ok(v) if (0..=i32::MAX as i64).contains(&v) => new.timeout = v as u64,
                Ok(_) => return failed("argument must be between 0 and 2147483647 inclusive"),
                Err(_) => return failed("argument couldn't be parsed into an integer"),
            },
            "proto-max-bulk-len" => match parse_memory(&value) {
                Some(v) if v >= 1024 * 1024 => new.proto_max_bulk_len = v as usize,
                Some(_) => {
                    return failed(
                        "argument must be between 1048576 and 9223372036854775807 inclusive",
                    )
                }
                None => return failed("argument must be a memory value"),
            },
            "client-output-buffer-limit" => match OutputLimit::parse(&value) {
                Ok(Some(l)) => new.client_output_buffer_limit = l,
                Ok(None) => {}
                Err(e) => return failed(&e),
            },
            _ if immutable_settings(node).iter().any(|(n, _)| *n == name) => {
                return failed("can't set immutable config")
            }
            _ => {
                return Frame::Error(
                    format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
                        .into(),
                )
            }
        }
    }
    *node.runtime.write() = new;
    Frame::ok()
}

// ---------------------------------------------------------------- COMMAND

fn command_info(spec: &CommandSpec) -> Frame {
    let flags = spec.flags.iter().map(|f| Frame::simple(*f)).collect();
    let acl = spec
        .acl
        .iter()
        .map(|a| Frame::simple(format!("@{a}")))
        .collect();
    let mut key_specs = Vec::new();
    if spec.first_key > 0 {
        let access = if spec.is_write() { "RW" } else { "RO" };
        let limit = 0;
        key_specs.push(Frame::Map(vec![
            (
                Frame::bulk("flags"),
                Frame::Set(vec![Frame::simple(access)]),
            ),
            (
                Frame::bulk("begin_search"),
                Frame::Map(vec![
                    (Frame::bulk("type"), Frame::bulk("index")),
                    (
                        Frame::bulk("spec"),
                        Frame::Map(vec![(
                            Frame::bulk("index"),
                            Frame::Integer(spec.first_key as i64),
                        )]),
                    ),
                ]),
            ),
            (
                Frame::bulk("find_keys"),
                Frame::Map(vec![
                    (Frame::bulk("type"), Frame::bulk("range")),
                    (
                        Frame::bulk("spec"),
                        Frame::Map(vec![
                            (
                                Frame::bulk("lastkey"),
                                Frame::Integer(if spec.last_key < 0 {
                                    spec.last_key as i64
                                } else {
                                    (spec.last_key - spec.first_key) as i64
                                }),
                            ),
                            (Frame::bulk("keystep"), Frame::Integer(spec.step as i64)),
                            (Frame::bulk("limit"), Frame::Integer(limit)),
                        ]),
                    ),
                ]),
            ),
        ]));
    }
    Frame::Array(vec![
        Frame::bulk(spec.name),
        Frame::Integer(spec.arity as i64),
        Frame::Set(flags),
        Frame::Integer(spec.first_key as i64),
        Frame::Integer(spec.last_key as i64),
        Frame::Integer(spec.step as i64),
        Frame::Set(acl),
        Frame::Array(vec![]),
        Frame::Array(key_specs),
        Frame::Array(vec![]),
    ])
}

fn command_docs(spec: &CommandSpec) -> Frame {
    Frame::Map(vec![
        (Frame::bulk("summary"), Frame::bulk(spec.summary)),
        (Frame::bulk("since"), Frame::bulk(spec.since)),
        (Frame::bulk("group"), Frame::bulk(spec.group)),
    ])
}

fn command(session: &mut Session, _node: &Node, args: &[Bytes]) -> Frame {
    if args.len() == 1 {
        return Frame::Array(all_commands().into_iter().map(command_info).collect());
    }
    let sub = String::from_utf8_lossy(&args[1]).to_lowercase();
    match sub.as_str() {
        "count" if args.len() == 2 => Frame::Integer(all_commands().len() as i64),
        "info" => {
            if args.len() == 2 {
                return Frame::Array(all_commands().into_iter().map(command_info).collect());
            }
            Frame::Array(
                args[2..]
                    .iter()
                    .map(|n| lookup(n).map(command_info).unwrap_or(Frame::Null))
                    .collect(),
            )
        }
        "docs" => {
            let specs: Vec<&CommandSpec> = if args.len() == 2 {
                all_commands()
            } else {
                args[2..].iter().filter_map(|n| lookup(n)).collect()
            };
            Frame::Map(
                specs
                    .into_iter()
                    .map(|s| (Frame::bulk(s.name), command_docs(s)))
                    .collect(),
            )
        }
        "list" => command_list(&args[2..]),
        "getkeys" if args.len() >= 4 => command_getkeys(&args[2..]),
        "help" => help_frame(&[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "HELP",
            "    Print this help.",
        ]),
        "count" | "getkeys" => Frame::Error(
            format!("ERR wrong number of arguments for 'command|{sub}' command").into(),
        ),
        _ => unknown_subcommand(session, &args[1], "COMMAND"),
    }
}

fn command_list(args: &[Bytes]) -> Frame {
    let names = all_commands().into_iter();
    let filtered: Vec<Frame> = match args {
        [] => names.map(|s| Frame::bulk(s.name)).collect(),
        [f, kind, value] if is(f, "filterby") => {
            if is(kind, "pattern") {
                names
                    .filter(|s| glob_match(value, s.name.as_bytes(), true))
                    .map(|s| Frame::bulk(s.name))
                    .collect()
            } else if is(kind, "aclcat") {
                let cat = String::from_utf8_lossy(value).to_lowercase();
                names
                    .filter(|s| s.acl.contains(&cat.as_str()))
                    .map(|s| Frame::bulk(s.name))
                    .collect()
            } else if is(kind, "module") {
                vec![]
            } else {
                return Frame::error("ERR syntax error");
            }
        }
        _ => return Frame::error("ERR syntax error"),
    };
    Frame::Array(filtered)
}

fn command_getkeys(cmd: &[Bytes]) -> Frame {
    let Some(spec) = lookup(&cmd[0]) else {
        return Frame::error("ERR Invalid command specified");
    };
    if !spec.arity_ok(cmd.len()) {
        return Frame::error("ERR Invalid number of arguments specified for command");
    }
    let idx = match spec.keys_of(cmd) {
        Ok(idx) => idx,
        Err(e) => return e.to_frame(),
    };
    if idx.is_empty() {
        return Frame::error("ERR The command has no key arguments");
    }
    Frame::Array(
        idx.into_iter()
            .map(|i| Frame::Bulk(cmd[i].clone()))
            .collect(),
    )
}

// ---------------------------------------------------------------- CLIENT

fn client(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    let sub = String::from_utf8_lossy(&args[1]).to_lowercase();
    let n = args.len();
    let arity_err =
        || Frame::Error(format!("ERR wrong number of arguments for 'client|{sub}' command").into());
    match sub.as_str() {
        "id" => {
            if n != 2 {
                return arity_err();
            }
            Frame::Integer(session.id as i64)
        }
        "setname" => {
            if n != 3 {
                return arity_err();
            }
            if !valid_client_name(&args[2]) {
                return Frame::error(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                );
            }
            *session.info.name.lock() = String::from_utf8_lossy(&args[2]).into_owned();
            Frame::ok()
        }
        "getname" => {
            if n != 2 {
                return arity_err();
            }
            let name = session.info.name.lock().clone();
            if name.is_empty() {
                Frame::Null
            } else {
                Frame::bulk(name)
            }
        }
        "info" => {
            if n != 2 {
                return arity_err();
            }
            Frame::Verbatim {
                format: *b"txt",
                text: Bytes::from(format!("{}\n", session.info.render())),
            }
        }
        "list" => client_list(node, &args[2..]),
        "kill" => {
            if n < 3 {
                return arity_err();
            }
            client_kill(session, node, &args[2..])
        }
        "unblock" => {
            if n < 3 {
                return arity_err();
            }
            if n > 4 {
                return unknown_subcommand(session, &args[1], "CLIENT");
            }
            let how = match args.get(3) {
                None => Unblock::Timeout,
                Some(a) if is(a, "timeout") => Unblock::Timeout,
                Some(a) if is(a, "error") => Unblock::Error,
                Some(_) => {
                    return Frame::error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
                }
            };
            let Some(id) = parse_i64_opt(&args[2]) else {
                return Frame::error("ERR value is not an integer or out of range");
            };
            let unblocked = u64::try_from(id)
                .ok()
                .and_then(|id| node.clients.get(id))
                .is_some_and(|c| c.unblock(how));
            Frame::Integer(i64::from(unblocked))
        }
        "setinfo" => {
            if n != 4 {
                return arity_err();
            }
            let value = String::from_utf8_lossy(&args[3]).into_owned();
            if value.contains(' ') || value.contains('\n') {
                return Frame::Error(
                    format!(
                        "ERR {} cannot contain spaces, newlines or special characters.",
                        String::from_utf8_lossy(&args[2]).to_lowercase()
                    )
                    .into(),
                );
            }
            if is(&args[2], "lib-name") {
                *session.info.lib_name.lock() = value;
            } else if is(&args[2], "lib-ver") {
                *session.info.lib_ver.lock() = value;
            } else {
                return Frame::Error(
                    format!(
                        "ERR Unrecognized option '{}'",
                        String::from_utf8_lossy(&args[2])
                    )
                    .into(),
                );
            }
            Frame::ok()
        }
        "no-evict" | "no-touch" => {
            if n != 3 {
                return arity_err();
            }
            let on = if is(&args[2], "on") {
                true
            } else if is(&args[2], "off") {
                false
            } else {
                return Frame::error("ERR syntax error");
            };
            let flag = if sub == "no-evict" {
                &session.info.no_evict
            } else {
                &session.info.no_touch
            };
            flag.store(on, Relaxed);
            Frame::ok()
        }
        "help" => help_frame(&[
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are: ID, ADDR, LADDR, SKIPME.",
            "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
            "    Return information about client connections.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
            "HELP",
            "    Print this help.",
        ]),
        _ => unknown_subcommand(session, &args[1], "CLIENT"),
    }
}

fn client_list(node: &Node, args: &[Bytes]) -> Frame {
    let mut clients = node.clients.all();
    let mut i = 0;
    while i < args.len() {
        if is(&args[i], "type") && i + 1 < args.len() {
            let t = String::from_utf8_lossy(&args[i + 1]).to_lowercase();
            match t.as_str() {
                "normal" => clients.retain(|c| !c.is_subscriber()),
                "pubsub" => clients.retain(|c| c.is_subscriber()),
                "master" | "replica" | "slave" => clients.clear(),
                _ => return Frame::Error(format!("ERR Unknown client type '{t}'").into()),
            }
            i += 2;
        } else if is(&args[i], "id") && i + 1 < args.len() {
            let mut ids = Vec::new();
            for a in &args[i + 1..] {
                match parse_i64_opt(a) {
                    Some(id) if id > 0 => ids.push(id as u64),
                    _ => return Frame::error("ERR Invalid client ID"),
                }
            }
            clients.retain(|c| ids.contains(&c.id));
            i = args.len();
        } else {
            return Frame::error("ERR syntax error");
        }
    }
    let mut text = String::new();
    for c in clients {
        text.push_str(&c.render());
        text.push('\n');
    }
    Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

fn client_kill(session: &Session, node: &Node, args: &[Bytes]) -> Frame {
    if args.len() == 1 {
        // Old form: CLIENT KILL addr:port -> OK or error.
        let addr = String::from_utf8_lossy(&args[0]);
        return match node.clients.all().into_iter().find(|c| c.addr == addr) {
            Some(c) => {
                c.kill();
                Frame::ok()
            }
            None => Frame::error("ERR No such client"),
        };
    }
    if args.is_empty() || !args.len().is_multiple_of(2) {
        return Frame::error("ERR syntax error");
    }
    let mut id = None;
    let mut addr = None;
    let mut laddr = None;
    let mut skipme = true;
    for pair in args.chunks(2) {
        let v = String::from_utf8_lossy(&pair[1]).into_owned();
        if is(&pair[0], "id") {
            match parse_i64_opt(&pair[1]) {
                Some(i) if i > 0 => id = Some(i as u64),
                _ => return Frame::error("ERR client-id should be greater than 0"),
            }
        } else if is(&pair[0], "addr") {
            addr = Some(v);
        } else if is(&pair[0], "laddr") {
            laddr = Some(v);
        } else if is(&pair[0], "skipme") {
            skipme = match v.to_lowercase().as_str() {
                "yes" => true,
                "no" => false,
                _ => return Frame::error("ERR syntax error"),
            };
        } else if is(&pair[0], "user") || is(&pair[0], "type") || is(&pair[0], "maxage") {
            // Everyone is the default user and a normal client; accept the filter as such.
            if is(&pair[0], "user") && v != "default" {
                return Frame::Integer(0);
            }
        } else {
            return Frame::error("ERR syntax error");
        }
    }
    let mut killed = 0;
    for c in node.clients.all() {
        if id.is_some_and(|i| i != c.id)
            || addr.as_ref().is_some_and(|a| *a != c.addr)
            || laddr.as_ref().is_some_and(|a| *a != c.laddr)
            || (skipme && c.id == session.id)
        {
            continue;
        }
        c.kill();
        killed += 1;
    }
    Frame::Integer(killed)
}

// ---------------------------------------------------------------- small ones

fn time(_: &mut Session, _: &Node, _: &[Bytes]) -> Frame {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Frame::Array(vec![
        Frame::bulk(now.as_secs().to_string()),
        Frame::bulk(now.subsec_micros().to_string()),
    ])
}

fn lastsave(_: &mut Session, node: &Node, _: &[Bytes]) -> Frame {
    Frame::Integer(node.last_save.load(Relaxed) as i64)
}

fn dbsize(ctx: &ReadCtx<'_>, _: &[Bytes]) -> CmdResult {
    Ok(Frame::Integer(ctx.key_count() as i64))
}

fn flush_validate(args: &[Bytes]) -> Result<(), CmdError> {
    match args.len() {
        1 => Ok(()),
        2 if is(&args[1], "async") || is(&args[1], "sync") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

fn flushdb_apply(ctx: &mut WriteCtx<'_>, db: u8, args: &[Bytes]) -> CmdResult {
    flush_validate(args)?;
    ctx.flush_db(ctx.pdb(db))?;
    Ok(Frame::ok())
}

fn flushall_apply(ctx: &mut WriteCtx<'_>, _db: u8, args: &[Bytes]) -> CmdResult {
    flush_validate(args)?;
    ctx.flush_all();
    Ok(Frame::ok())
}

fn swapdb_indexes(args: &[Bytes]) -> Result<(usize, usize), CmdError> {
    let a = parse_i64_opt(&args[1]).ok_or(CmdError::raw("ERR invalid first DB index"))?;
    let b = parse_i64_opt(&args[2]).ok_or(CmdError::raw("ERR invalid second DB index"))?;
    let range = 0..DATABASES as i64;
    if !range.contains(&a) || !range.contains(&b) {
        return Err(CmdError::raw("ERR DB index is out of range"));
    }
    Ok((a as usize, b as usize))
}

fn swapdb_validate(args: &[Bytes]) -> Result<(), CmdError> {
    swapdb_indexes(args).map(|_| ())
}

fn swapdb_apply(ctx: &mut WriteCtx<'_>, _db: u8, args: &[Bytes]) -> CmdResult {
    let (a, b) = swapdb_indexes(args)?;
    ctx.state.dbmap.swap(a, b);
    ctx.touched_all = true;
    Ok(Frame::ok())
}

fn shutdown(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    for a in &args[1..] {
        if is(a, "abort") {
            return Frame::error("ERR No shutdown in progress.");
        }
        if !(is(a, "nosave") || is(a, "save") || is(a, "now") || is(a, "force")) {
            return Frame::error("ERR syntax error");
        }
    }
    // Every acknowledged write is already durable: SAVE and NOSAVE mean the same here.
    tracing::warn!(client = %session.info.addr, "SHUTDOWN received");
    node.shutdown_requested.notify_one();
    // Like Redis, the client gets no reply: the connection just closes.
    session.close_after_reply = true;
    session.suppress_reply = true;
    Frame::ok()
}

pub fn help_frame(lines: &[&str]) -> Frame {
    Frame::Array(lines.iter().map(|l| Frame::simple(l.to_string())).collect())
}

pub fn unknown_subcommand(_: &Session, sub: &[u8], cmd: &str) -> Frame {
    Frame::Error(
        format!(
            "ERR unknown subcommand '{}'. Try {cmd} HELP.",
            String::from_utf8_lossy(&sub[..sub.len().min(128)])
        )
        .into(),
    )
}

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "info",
        arity: -1,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["slow", "dangerous"],
        group: "server",
        summary: "Returns information and statistics about the server.",
        since: "1.0.0",
        handler: Handler::Conn(info),
    },
    CommandSpec {
        name: "config",
        arity: -2,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["admin", "slow", "dangerous"],
        group: "server",
        summary: "A container for server configuration commands.",
        since: "2.0.0",
        handler: Handler::Conn(config),
    },
    CommandSpec {
        name: "command",
        arity: -1,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["slow", "connection"],
        group: "server",
        summary: "Returns detailed information about all commands.",
        since: "2.8.13",
        handler: Handler::Conn(command),
    },
    CommandSpec {
        name: "client",
        arity: -2,
        flags: &["noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["slow", "connection"],
        group: "connection",
        summary: "A container for client connection commands.",
        since: "2.4.0",
        handler: Handler::Conn(client),
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: &[
            "admin",
            "noscript",
            "loading",
            "stale",
            "no_multi",
            "allow_busy",
        ],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["admin", "slow", "dangerous"],
        group: "server",
        summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        since: "1.0.0",
        handler: Handler::Conn(shutdown),
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: &["loading", "stale", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast"],
        group: "server",
        summary: "Returns the server time.",
        since: "2.6.0",
        handler: Handler::Conn(time),
    },
    CommandSpec {
        name: "lastsave",
        arity: 1,
        flags: &["loading", "stale", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "admin", "dangerous"],
        group: "server",
        summary: "Returns the Unix timestamp of the last successful save to disk.",
        since: "1.0.0",
        handler: Handler::Conn(lastsave),
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: &["readonly", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["keyspace", "read", "fast"],
        group: "server",
        summary: "Returns the number of keys in the database.",
        since: "1.0.0",
        handler: Handler::Read(dbsize),
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: &["write"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["keyspace", "write", "slow", "dangerous"],
        group: "server",
        summary: "Removes all keys from the current database.",
        since: "1.0.0",
        handler: Handler::Write(WriteSpec {
            validate: flush_validate,
            apply: flushdb_apply,
            split: Split::Broadcast,
        }),
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: &["write"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["keyspace", "write", "slow", "dangerous"],
        group: "server",
        summary: "Removes all keys from all databases.",
        since: "1.0.0",
        handler: Handler::Write(WriteSpec {
            validate: flush_validate,
            apply: flushall_apply,
            split: Split::Broadcast,
        }),
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: &["write", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["keyspace", "write", "fast", "dangerous"],
        group: "server",
        summary: "Swaps two Redis databases.",
        since: "4.0.0",
        handler: Handler::Write(WriteSpec {
            validate: swapdb_validate,
            apply: swapdb_apply,
            split: Split::Broadcast,
        }),
    },
];
