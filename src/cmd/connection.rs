//! Connection commands: PING ECHO HELLO AUTH SELECT QUIT RESET.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use super::args::{is, parse_i64_opt};
use super::{CommandSpec, Handler};
use crate::node::Node;
use crate::resp::{Frame, Protocol};
use crate::server::session::Session;
use crate::storage::keyspace::DATABASES;

/// The Redis version we are compatible with, as HELLO and INFO report it.
pub const REDIS_VERSION: &str = "7.2.4";

fn ping(session: &mut Session, _: &Node, args: &[Bytes]) -> Frame {
    // A RESP2 subscriber cannot tell a reply from a message: Redis answers with a
    // message-shaped array there.
    if session.protocol == Protocol::Resp2 && session.pubsub.is_subscriber() && args.len() <= 2 {
        let payload = args.get(1).cloned().unwrap_or_default();
        return Frame::Array(vec![Frame::bulk("pong"), Frame::Bulk(payload)]);
    }
    match args.len() {
        1 => Frame::simple("PONG"),
        2 => Frame::Bulk(args[1].clone()),
        _ => Frame::error("ERR wrong number of arguments for 'ping' command"),
    }
}

fn echo(_: &mut Session, _: &Node, args: &[Bytes]) -> Frame {
    Frame::Bulk(args[1].clone())
}

/// Checks credentials against the default user. Err is the reply to send.
fn check_credentials(node: &Node, user: Option<&[u8]>, pass: &[u8]) -> Result<(), Frame> {
    let wrongpass =
        || Frame::error("WRONGPASS invalid username-password pair or user is disabled.");
    if let Some(u) = user {
        if u != b"default" {
            return Err(wrongpass());
        }
    }
    let required = node.runtime.read().requirepass.clone();
    if required.is_empty() {
        return match user {
            // The default user has no password: any password is accepted with a username.
            Some(_) => Ok(()),
            None => Err(Frame::error(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            )),
        };
    }
    if constant_time_eq(pass, required.as_bytes()) {
        Ok(())
    } else {
        Err(wrongpass())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn auth(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    let result = match args.len() {
        2 => check_credentials(node, None, &args[1]),
        3 => check_credentials(node, Some(&args[1]), &args[2]),
        _ => return Frame::error("ERR syntax error"),
    };
    match result {
        Ok(()) => {
            session.authenticated = true;
            Frame::ok()
        }
        Err(reply) => {
            tracing::warn!(client = %session.info.addr, "authentication failed");
            reply
        }
    }
}

/// Client names may not contain spaces or control characters (Redis `validateClientName`).
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn hello(session: &mut Session, node: &Node, args: &[Bytes]) -> Frame {
    let mut proto = None;
    let mut i = 1;
    if args.len() > 1 {
        match parse_i64_opt(&args[1]) {
            Some(v) if v == 2 || v == 3 => proto = Some(v),
            Some(_) => return Frame::error("NOPROTO unsupported protocol version"),
            None => return Frame::error("ERR Protocol version is not an integer or out of range"),
        }
        i = 2;
    }
    let mut auth_args = None;
    let mut setname = None;
    while i < args.len() {
        let more = args.len() - i - 1;
        if is(&args[i], "auth") && more >= 2 {
            auth_args = Some((args[i + 1].clone(), args[i + 2].clone()));
            i += 3;
        } else if is(&args[i], "setname") && more >= 1 {
            setname = Some(args[i + 1].clone());
            i += 2;
        } else {
            return Frame::Error(
                format!(
                    "ERR Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(&args[i])
                )
                .into(),
            );
        }
    }
    if let Some((user, pass)) = auth_args {
        if let Err(reply) = check_credentials(node, Some(&user), &pass) {
            return reply;
        }
        session.authenticated = true;
    }
    if !session.authenticated {
        return Frame::error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(name) = setname {
        if !valid_client_name(&name) {
            return Frame::error(
                "ERR Client names cannot contain spaces, newlines or special characters.",
            );
        }
        *session.info.name.lock() = String::from_utf8_lossy(&name).into_owned();
    }
    if let Some(p) = proto {
        session.protocol = if p == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        session.info.resp.store(p as u8, Relaxed);
    }
    let proto_num = if session.protocol == Protocol::Resp3 {
        3
    } else {
        2
    };
    Frame::Map(vec![
        (Frame::bulk("server"), Frame::bulk("redis")),
        (Frame::bulk("version"), Frame::bulk(REDIS_VERSION)),
        (Frame::bulk("proto"), Frame::Integer(proto_num)),
        (Frame::bulk("id"), Frame::Integer(session.id as i64)),
        (Frame::bulk("mode"), Frame::bulk("cluster")),
        (Frame::bulk("role"), Frame::bulk("master")),
        (Frame::bulk("modules"), Frame::Array(vec![])),
    ])
}

fn select(session: &mut Session, _: &Node, args: &[Bytes]) -> Frame {
    match parse_i64_opt(&args[1]) {
        None => Frame::error("ERR value is not an integer or out of range"),
        Some(db) if db < 0 || db >= DATABASES as i64 => {
            Frame::error("ERR DB index is out of range")
        }
        Some(db) => {
            session.db = db as u8;
            session.info.db.store(db as u8, Relaxed);
            Frame::ok()
        }
    }
}

fn quit(session: &mut Session, _: &Node, _: &[Bytes]) -> Frame {
    session.close_after_reply = true;
    Frame::ok()
}

fn reset(session: &mut Session, node: &Node, _: &[Bytes]) -> Frame {
    session.pubsub.clear();
    super::pubsub::show_counts(session);
    session.db = 0;
    session.protocol = Protocol::Resp2;
    session.readonly = false;
    session.asking = false;
    session.authenticated = node.runtime.read().requirepass.is_empty();
    session.info.name.lock().clear();
    session.info.db.store(0, Relaxed);
    session.info.resp.store(2, Relaxed);
    session.info.no_evict.store(false, Relaxed);
    session.info.no_touch.store(false, Relaxed);
    Frame::simple("RESET")
}

const NO_AUTH: &[&str] = &[
    "noscript",
    "loading",
    "stale",
    "fast",
    "no_auth",
    "allow_busy",
];

pub static SPECS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: &["fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "connection",
        summary: "Returns the server's liveliness response.",
        since: "1.0.0",
        handler: Handler::Conn(ping),
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: &["fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "connection",
        summary: "Returns the given string.",
        since: "1.0.0",
        handler: Handler::Conn(echo),
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: NO_AUTH,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "connection",
        summary: "Authenticates the connection.",
        since: "1.0.0",
        handler: Handler::Conn(auth),
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: NO_AUTH,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "connection",
        summary: "Handshakes with the Redis server.",
        since: "6.0.0",
        handler: Handler::Conn(hello),
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: &["loading", "stale", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "connection",
        summary: "Changes the selected database.",
        since: "1.0.0",
        handler: Handler::Conn(select),
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: &[
            "allow_busy",
            "noscript",
            "loading",
            "stale",
            "fast",
            "no_auth",
        ],
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "connection",
        summary: "Closes the connection.",
        since: "1.0.0",
        handler: Handler::Conn(quit),
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: NO_AUTH,
        first_key: 0,
        last_key: 0,
        step: 0,
        key_finder: None,
        acl: &["fast", "connection"],
        group: "connection",
        summary: "Resets the connection.",
        since: "6.2.0",
        handler: Handler::Conn(reset),
    },
];
