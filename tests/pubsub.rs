//! Pub/sub: SUBSCRIBE family, PUBLISH/SPUBLISH delivery, PUBSUB introspection, subscriber
//! mode (RESP2 restrictions, RESP3 pushes), cleanup, and slow subscribers.
//!
//! Raw connections throughout: subscriber connections receive replies they did not ask for.

#[macro_use]
mod common;

use common::*;
use std::time::{Duration, Instant};

fn b(s: &str) -> Reply {
    Reply::bulk(s)
}

/// A RESP2 pub/sub array of bulk strings followed by an optional count.
fn arr(words: &[&str], count: Option<i64>) -> Reply {
    let mut v: Vec<Reply> = words.iter().map(|w| b(w)).collect();
    if let Some(n) = count {
        v.push(Reply::Int(n));
    }
    Reply::Array(v)
}

/// The same shape as a RESP3 push.
fn push(words: &[&str], count: Option<i64>) -> Reply {
    match arr(words, count) {
        Reply::Array(v) => Reply::Push(v),
        _ => unreachable!(),
    }
}

/// Reads `n` replies and returns (name, count) pairs of (un)subscribe confirmations of `kind`,
/// sorted by name (Redis unsubscribes "all" in hash order).
fn confirmations(c: &mut RawConn, kind: &str, n: usize) -> Vec<(Option<String>, i64)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = c.read_reply();
        let items = r
            .as_array()
            .unwrap_or_else(|| panic!("not an array: {r:?}"));
        assert_eq!(items.len(), 3, "{r:?}");
        assert_eq!(items[0], b(kind), "{r:?}");
        let name = match &items[1] {
            Reply::Nil | Reply::Null => None,
            other => Some(other.as_str().expect("channel name")),
        };
        out.push((name, items[2].as_int().expect("count")));
    }
    out
}

fn publish(c: &mut RawConn, ch: &str, msg: &str) -> i64 {
    c.cmd(&["PUBLISH", ch, msg])
        .as_int()
        .expect("PUBLISH returns an integer")
}

fn sorted_strings(r: &Reply) -> Vec<String> {
    let mut v: Vec<String> = r
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {r:?}"))
        .iter()
        .map(|x| x.as_str().expect("string"))
        .collect();
    v.sort();
    v
}

/// Polls NUMSUB until it reports `want` subscribers (disconnects are processed asynchronously).
fn wait_numsub(c: &mut RawConn, ch: &str, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = c.cmd(&["PUBSUB", "NUMSUB", ch]);
        if r == Reply::Array(vec![b(ch), Reply::Int(want)]) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "NUMSUB {ch} stays {r:?}, want {want}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn subscribe_and_receive_messages() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    let mut pubc = srv.raw();

    sub.send_cmd(&["SUBSCRIBE", "news", "sport", "news"]);
    assert_eq!(
        sub.read_replies(3),
        vec![
            arr(&["subscribe", "news"], Some(1)),
            arr(&["subscribe", "sport"], Some(2)),
            arr(&["subscribe", "news"], Some(2)),
        ]
    );

    assert_eq!(publish(&mut pubc, "news", "hello"), 1);
    assert_eq!(sub.read_reply(), arr(&["message", "news", "hello"], None));
    assert_eq!(publish(&mut pubc, "nobody", "x"), 0);
    assert_eq!(publish(&mut pubc, "sport", ""), 1);
    assert_eq!(sub.read_reply(), arr(&["message", "sport", ""], None));

    // Binary-safe channel names and payloads.
    let ch: &[u8] = b"bin\x00\r\n\xffch";
    let payload: &[u8] = b"\x00\x01\r\n\xfe\xff";
    sub.send_cmd(&[&b"SUBSCRIBE"[..], ch]);
    assert_eq!(
        sub.read_reply(),
        Reply::Array(vec![
            b("subscribe"),
            Reply::Bulk(ch.to_vec()),
            Reply::Int(3)
        ])
    );
    assert_eq!(pubc.cmd(&[&b"PUBLISH"[..], ch, payload]), Reply::Int(1));
    assert_eq!(
        sub.read_reply(),
        Reply::Array(vec![
            b("message"),
            Reply::Bulk(ch.to_vec()),
            Reply::Bulk(payload.to_vec())
        ])
    );

    // Messages arrive in publish order.
    for i in 0..100 {
        assert_eq!(publish(&mut pubc, "news", &format!("m{i}")), 1);
    }
    for i in 0..100 {
        assert_eq!(
            sub.read_reply(),
            arr(&["message", "news", &format!("m{i}")], None)
        );
    }

    // Wrong arity.
    assert_eq!(
        pubc.cmd(&["PUBLISH", "a"]),
        Reply::err("ERR wrong number of arguments for 'publish' command")
    );
    assert_eq!(
        pubc.cmd(&["SUBSCRIBE"]),
        Reply::err("ERR wrong number of arguments for 'subscribe' command")
    );
}

#[test]
fn pattern_subscriptions() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    let mut pubc = srv.raw();

    sub.send_cmd(&["PSUBSCRIBE", "news.*", "h?llo", "[ab]x"]);
    assert_eq!(
        sub.read_replies(3),
        vec![
            arr(&["psubscribe", "news.*"], Some(1)),
            arr(&["psubscribe", "h?llo"], Some(2)),
            arr(&["psubscribe", "[ab]x"], Some(3)),
        ]
    );
    assert_eq!(publish(&mut pubc, "news.tech", "t"), 1);
    assert_eq!(
        sub.read_reply(),
        arr(&["pmessage", "news.*", "news.tech", "t"], None)
    );
    assert_eq!(publish(&mut pubc, "hallo", "h"), 1);
    assert_eq!(
        sub.read_reply(),
        arr(&["pmessage", "h?llo", "hallo", "h"], None)
    );
    assert_eq!(publish(&mut pubc, "bx", "1"), 1);
    assert_eq!(
        sub.read_reply(),
        arr(&["pmessage", "[ab]x", "bx", "1"], None)
    );
    assert_eq!(publish(&mut pubc, "cx", "1"), 0);
    assert_eq!(publish(&mut pubc, "news", "1"), 0);

    // A channel subscription and a matching pattern: two deliveries, both counted.
    sub.send_cmd(&["SUBSCRIBE", "news.sport"]);
    assert_eq!(sub.read_reply(), arr(&["subscribe", "news.sport"], Some(4)));
    assert_eq!(publish(&mut pubc, "news.sport", "goal"), 2);
    let mut got = sub.read_replies(2);
    got.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(
        got,
        vec![
            arr(&["message", "news.sport", "goal"], None),
            arr(&["pmessage", "news.*", "news.sport", "goal"], None),
        ]
    );

    // Two subscribers to the same pattern.
    let mut sub2 = srv.raw();
    sub2.send_cmd(&["PSUBSCRIBE", "h?llo"]);
    assert_eq!(sub2.read_reply(), arr(&["psubscribe", "h?llo"], Some(1)));
    assert_eq!(publish(&mut pubc, "hello", "x"), 2);
    assert_eq!(
        sub.read_reply(),
        arr(&["pmessage", "h?llo", "hello", "x"], None)
    );
    assert_eq!(
        sub2.read_reply(),
        arr(&["pmessage", "h?llo", "hello", "x"], None)
    );

    sub.send_cmd(&["PUNSUBSCRIBE", "news.*", "nothere"]);
    assert_eq!(
        sub.read_replies(2),
        vec![
            arr(&["punsubscribe", "news.*"], Some(3)),
            arr(&["punsubscribe", "nothere"], Some(3)),
        ]
    );
    assert_eq!(publish(&mut pubc, "news.tech", "t"), 0);
}

#[test]
fn unsubscribe_all_and_counts() {
    let srv = TestServer::start();
    let mut c = srv.raw();

    // Not subscribed to anything: one reply with a nil channel, and no subscriber mode.
    for kind in ["unsubscribe", "punsubscribe", "sunsubscribe"] {
        assert_eq!(
            c.cmd(&[kind.to_uppercase().as_str()]),
            Reply::Array(vec![b(kind), Reply::Nil, Reply::Int(0)])
        );
    }
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE", "a", "b"]),
        arr(&["unsubscribe", "a"], Some(0))
    );
    assert_eq!(c.read_reply(), arr(&["unsubscribe", "b"], Some(0)));
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Nil);

    c.send_cmd(&["SUBSCRIBE", "a", "b", "c"]);
    c.read_replies(3);
    c.send_cmd(&["PSUBSCRIBE", "p1", "p2"]);
    assert_eq!(
        confirmations(&mut c, "psubscribe", 2),
        vec![(Some("p1".into()), 4), (Some("p2".into()), 5)]
    );
    // Shard channels are counted apart.
    c.send_cmd(&["SSUBSCRIBE", "{s}1", "{s}2"]);
    assert_eq!(
        confirmations(&mut c, "ssubscribe", 2),
        vec![(Some("{s}1".into()), 1), (Some("{s}2".into()), 2)]
    );

    c.send_cmd(&["UNSUBSCRIBE"]);
    let mut got = confirmations(&mut c, "unsubscribe", 3);
    let mut counts: Vec<i64> = got.iter().map(|g| g.1).collect();
    counts.sort();
    assert_eq!(counts, vec![2, 3, 4]);
    got.sort();
    let names: Vec<_> = got.into_iter().map(|g| g.0.unwrap()).collect();
    assert_eq!(names, vec!["a", "b", "c"]);

    assert_eq!(
        c.cmd(&["UNSUBSCRIBE"]),
        Reply::Array(vec![b("unsubscribe"), Reply::Nil, Reply::Int(2)])
    );
    c.send_cmd(&["PUNSUBSCRIBE"]);
    let mut got = confirmations(&mut c, "punsubscribe", 2);
    got.sort_by_key(|g| -g.1);
    assert_eq!(got[0].1, 1);
    assert_eq!(got[1].1, 0);

    // Still in subscriber mode: shard subscriptions remain.
    assert!(matches!(c.cmd(&["GET", "k"]), Reply::Error(_)));
    c.send_cmd(&["SUNSUBSCRIBE"]);
    let got = confirmations(&mut c, "sunsubscribe", 2);
    let mut counts: Vec<i64> = got.iter().map(|g| g.1).collect();
    counts.sort();
    assert_eq!(counts, vec![0, 1]);
    // Out of subscriber mode.
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Nil);
}

#[test]
fn pubsub_introspection() {
    let srv = TestServer::start();
    let mut q = srv.raw();
    assert_eq!(q.cmd(&["PUBSUB", "CHANNELS"]), Reply::Array(vec![]));
    assert_eq!(q.cmd(&["PUBSUB", "NUMPAT"]), Reply::Int(0));
    assert_eq!(q.cmd(&["PUBSUB", "NUMSUB"]), Reply::Array(vec![]));

    let mut s1 = srv.raw();
    let mut s2 = srv.raw();
    s1.send_cmd(&["SUBSCRIBE", "news.a", "news.b", "other"]);
    s1.read_replies(3);
    s2.send_cmd(&["SUBSCRIBE", "news.a"]);
    s2.read_reply();
    s2.send_cmd(&["PSUBSCRIBE", "news.*", "x*"]);
    s2.read_replies(2);
    s1.send_cmd(&["PSUBSCRIBE", "news.*"]);
    s1.read_reply();
    s1.send_cmd(&["SSUBSCRIBE", "shard1"]);
    s1.read_reply();

    assert_eq!(
        sorted_strings(&q.cmd(&["PUBSUB", "CHANNELS"])),
        vec!["news.a", "news.b", "other"]
    );
    assert_eq!(
        sorted_strings(&q.cmd(&["pubsub", "channels", "news.*"])),
        vec!["news.a", "news.b"]
    );
    assert_eq!(q.cmd(&["PUBSUB", "CHANNELS", "zzz*"]), Reply::Array(vec![]));
    assert_eq!(
        q.cmd(&["PUBSUB", "NUMSUB", "news.a", "news.b", "none", "news.*"]),
        Reply::Array(vec![
            b("news.a"),
            Reply::Int(2),
            b("news.b"),
            Reply::Int(1),
            b("none"),
            Reply::Int(0),
            b("news.*"),
            Reply::Int(0),
        ])
    );
    // Distinct patterns.
    assert_eq!(q.cmd(&["PUBSUB", "NUMPAT"]), Reply::Int(2));
    assert_eq!(
        q.cmd(&["PUBSUB", "SHARDCHANNELS"]),
        Reply::Array(vec![b("shard1")])
    );
    assert_eq!(
        q.cmd(&["PUBSUB", "SHARDCHANNELS", "x*"]),
        Reply::Array(vec![])
    );
    assert_eq!(
        q.cmd(&["PUBSUB", "SHARDNUMSUB", "shard1", "news.a"]),
        Reply::Array(vec![b("shard1"), Reply::Int(1), b("news.a"), Reply::Int(0)])
    );

    let info = srv.info("stats");
    assert_eq!(info_field(&info, "pubsub_channels"), Some("3"));
    assert_eq!(info_field(&info, "pubsub_patterns"), Some("2"));
    assert_eq!(info_field(&info, "pubsubshard_channels"), Some("1"));

    // Errors, as Redis words them.
    assert_eq!(
        q.cmd(&["PUBSUB", "FOO"]),
        Reply::err("ERR unknown subcommand 'FOO'. Try PUBSUB HELP.")
    );
    assert_eq!(
        q.cmd(&["PUBSUB", "NUMPAT", "x"]),
        Reply::err("ERR wrong number of arguments for 'pubsub|numpat' command")
    );
    assert_eq!(
        q.cmd(&["PUBSUB", "channels", "a", "b"]),
        Reply::err(
            "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP."
        )
    );
    assert_eq!(
        q.cmd(&["PUBSUB"]),
        Reply::err("ERR wrong number of arguments for 'pubsub' command")
    );
    let help = q.cmd(&["PUBSUB", "HELP"]);
    let lines = help.as_array().expect("help array");
    assert_eq!(lines.len(), 14);
    assert_eq!(
        lines[0],
        Reply::Simple("PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );

    // Disconnecting cleans up every subscription of the client.
    drop(s1);
    wait_numsub(&mut q, "news.b", 0);
    wait_numsub(&mut q, "news.a", 1);
    assert_eq!(q.cmd(&["PUBSUB", "SHARDCHANNELS"]), Reply::Array(vec![]));
    assert_eq!(q.cmd(&["PUBSUB", "NUMPAT"]), Reply::Int(2));
    drop(s2);
    wait_numsub(&mut q, "news.a", 0);
    assert_eq!(q.cmd(&["PUBSUB", "NUMPAT"]), Reply::Int(0));
    assert_eq!(q.cmd(&["PUBSUB", "CHANNELS"]), Reply::Array(vec![]));
}

#[test]
fn resp2_subscriber_mode_restrictions() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.send_cmd(&["SUBSCRIBE", "a"]);
    c.read_reply();

    let refused = |name: &str| {
        Reply::err(&format!(
            "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        ))
    };
    assert_eq!(c.cmd(&["GET", "x"]), refused("get"));
    assert_eq!(c.cmd(&["set", "x", "1"]), refused("set"));
    assert_eq!(c.cmd(&["PUBLISH", "a", "m"]), refused("publish"));
    assert_eq!(c.cmd(&["CLIENT", "INFO"]), refused("client|info"));
    assert_eq!(c.cmd(&["PUBSUB", "CHANNELS"]), refused("pubsub|channels"));
    assert_eq!(c.cmd(&["HELLO", "3"]), refused("hello"));
    // Unknown commands and wrong arity are reported first.
    assert_eq!(
        c.cmd(&["NOSUCHCMD", "x"]),
        Reply::err("ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' ")
    );
    assert_eq!(
        c.cmd(&["GET"]),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    // The write was refused, not executed.
    let mut other = srv.raw();
    assert_eq!(other.cmd(&["GET", "x"]), Reply::Nil);

    // PING answers in message shape.
    assert_eq!(c.cmd(&["PING"]), arr(&["pong", ""], None));
    assert_eq!(c.cmd(&["PING", "hi"]), arr(&["pong", "hi"], None));

    // Allowed commands keep working, and messages still arrive between replies.
    assert_eq!(publish(&mut other, "a", "m1"), 1);
    assert_eq!(c.read_reply(), arr(&["message", "a", "m1"], None));
    assert_eq!(
        c.cmd(&["PSUBSCRIBE", "z*"]),
        arr(&["psubscribe", "z*"], Some(2))
    );

    // RESET leaves subscriber mode silently and drops every subscription.
    assert_eq!(c.cmd(&["RESET"]), Reply::Simple("RESET".into()));
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(c.cmd(&["GET", "x"]), Reply::Nil);
    assert_eq!(publish(&mut other, "a", "m2"), 0);
    assert_eq!(publish(&mut other, "zz", "m2"), 0);

    // A shard subscription alone is subscriber mode too.
    assert_eq!(
        c.cmd(&["SSUBSCRIBE", "s"]),
        arr(&["ssubscribe", "s"], Some(1))
    );
    assert_eq!(c.cmd(&["GET", "x"]), refused("get"));
    assert_eq!(
        c.cmd(&["SUNSUBSCRIBE", "s"]),
        arr(&["sunsubscribe", "s"], Some(0))
    );
    assert_eq!(c.cmd(&["GET", "x"]), Reply::Nil);

    // QUIT is allowed and closes.
    c.send_cmd(&["SUBSCRIBE", "a"]);
    c.read_reply();
    assert_eq!(c.cmd(&["QUIT"]), Reply::ok());
    c.read_until_closed();
    wait_numsub(&mut other, "a", 0);
}

#[test]
fn resp3_pushes_and_any_command() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let hello = c.cmd(&["HELLO", "3"]);
    assert!(matches!(hello, Reply::Map(_)), "{hello:?}");

    assert_eq!(
        c.cmd(&["UNSUBSCRIBE"]),
        Reply::Push(vec![b("unsubscribe"), Reply::Null, Reply::Int(0)])
    );
    c.send_cmd(&["SUBSCRIBE", "a", "b"]);
    assert_eq!(
        c.read_replies(2),
        vec![
            push(&["subscribe", "a"], Some(1)),
            push(&["subscribe", "b"], Some(2))
        ]
    );
    assert_eq!(
        c.cmd(&["PSUBSCRIBE", "a*"]),
        push(&["psubscribe", "a*"], Some(3))
    );

    // Any command works while subscribed in RESP3.
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "k"]), b("v"));

    // Publishing to oneself: the pushes come before the PUBLISH reply.
    c.send_cmd(&["PUBLISH", "a", "hello"]);
    assert_eq!(c.read_reply(), push(&["message", "a", "hello"], None));
    assert_eq!(
        c.read_reply(),
        push(&["pmessage", "a*", "a", "hello"], None)
    );
    assert_eq!(c.read_reply(), Reply::Int(2));

    let mut other = srv.raw();
    assert_eq!(publish(&mut other, "b", "x"), 1);
    assert_eq!(c.read_reply(), push(&["message", "b", "x"], None));
    assert_eq!(
        c.cmd(&["PUBSUB", "NUMSUB", "a"]),
        Reply::Array(vec![b("a"), Reply::Int(1)])
    );

    c.send_cmd(&["SSUBSCRIBE", "s"]);
    assert_eq!(c.read_reply(), push(&["ssubscribe", "s"], Some(1)));
    c.send_cmd(&["SPUBLISH", "s", "m"]);
    assert_eq!(c.read_reply(), push(&["smessage", "s", "m"], None));
    assert_eq!(c.read_reply(), Reply::Int(1));

    c.send_cmd(&["UNSUBSCRIBE", "a"]);
    assert_eq!(c.read_reply(), push(&["unsubscribe", "a"], Some(2)));
}

#[test]
fn shard_channels() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    let mut pubc = srv.raw();
    sub.send_cmd(&["SSUBSCRIBE", "{t}a", "{t}b"]);
    assert_eq!(
        sub.read_replies(2),
        vec![
            arr(&["ssubscribe", "{t}a"], Some(1)),
            arr(&["ssubscribe", "{t}b"], Some(2)),
        ]
    );
    assert_eq!(pubc.cmd(&["SPUBLISH", "{t}a", "m"]), Reply::Int(1));
    assert_eq!(sub.read_reply(), arr(&["smessage", "{t}a", "m"], None));
    // Shard and plain channels are separate namespaces.
    assert_eq!(publish(&mut pubc, "{t}a", "m"), 0);
    assert_eq!(pubc.cmd(&["SPUBLISH", "{t}c", "m"]), Reply::Int(0));

    // A shard channel is not a key: a key of the same name of any type changes nothing.
    assert_eq!(pubc.cmd(&["SET", "{t}a", "1"]), Reply::ok());
    assert_eq!(pubc.cmd(&["SPUBLISH", "{t}a", "n"]), Reply::Int(1));
    assert_eq!(sub.read_reply(), arr(&["smessage", "{t}a", "n"], None));
    assert_eq!(pubc.cmd(&["GET", "{t}a"]), b("1"));

    // Key specs like Redis: cluster clients route these by their channel's slot.
    let info = pubc.cmd(&["COMMAND", "INFO", "ssubscribe", "spublish", "subscribe"]);
    let rows = info.as_array().expect("rows");
    let positions = |r: &Reply| {
        let f = r.as_array().expect("row");
        (f[1].as_int(), f[3].as_int(), f[4].as_int(), f[5].as_int())
    };
    assert_eq!(positions(&rows[0]), (Some(-2), Some(1), Some(-1), Some(1)));
    assert_eq!(positions(&rows[1]), (Some(3), Some(1), Some(1), Some(1)));
    assert_eq!(positions(&rows[2]), (Some(-2), Some(0), Some(0), Some(0)));

    sub.send_cmd(&["SUNSUBSCRIBE", "{t}b"]);
    assert_eq!(sub.read_reply(), arr(&["sunsubscribe", "{t}b"], Some(1)));
}

/// raftrocks reports cluster mode and checks shard channels' slots like Redis Cluster
/// (a standalone Redis does not).
#[test]
fn shard_channels_must_share_a_slot() {
    if skip_on_redis("shard_channels_must_share_a_slot") {
        return;
    }
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(
        c.cmd(&["SSUBSCRIBE", "foo", "bar"]),
        Reply::err("CROSSSLOT Keys in request don't hash to the same slot")
    );
    // Nothing was subscribed.
    assert_eq!(c.cmd(&["GET", "x"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["SUNSUBSCRIBE", "foo", "bar"]),
        Reply::err("CROSSSLOT Keys in request don't hash to the same slot")
    );
}

#[test]
fn many_subscribers() {
    let srv = TestServer::start();
    let mut subs: Vec<RawConn> = (0..40).map(|_| srv.raw()).collect();
    for (i, s) in subs.iter_mut().enumerate() {
        if i % 2 == 0 {
            s.send_cmd(&["SUBSCRIBE", "fan"]);
            assert_eq!(s.read_reply(), arr(&["subscribe", "fan"], Some(1)));
        } else {
            s.send_cmd(&["PSUBSCRIBE", "f*"]);
            assert_eq!(s.read_reply(), arr(&["psubscribe", "f*"], Some(1)));
        }
    }
    let mut pubc = srv.raw();
    assert_eq!(
        pubc.cmd(&["PUBSUB", "NUMSUB", "fan"]),
        Reply::Array(vec![b("fan"), Reply::Int(20)])
    );
    for round in 0..5 {
        assert_eq!(publish(&mut pubc, "fan", &format!("r{round}")), 40);
    }
    for (i, s) in subs.iter_mut().enumerate() {
        for round in 0..5 {
            let m = format!("r{round}");
            let want = if i % 2 == 0 {
                arr(&["message", "fan", &m], None)
            } else {
                arr(&["pmessage", "f*", "fan", &m], None)
            };
            assert_eq!(s.read_reply(), want);
        }
    }
    // Several publishers at once, each message delivered once to each subscriber.
    let addr = srv.addr();
    let handles: Vec<_> = (0..4)
        .map(|p| {
            std::thread::spawn(move || {
                let mut c = RawConn::connect(addr);
                for i in 0..25 {
                    assert_eq!(
                        c.cmd(&["PUBLISH", "fan", &format!("p{p}-{i}")]),
                        Reply::Int(40)
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for s in subs.iter_mut() {
        let mut last = [-1i64; 4];
        for _ in 0..100 {
            let r = s.read_reply();
            let items = r.as_array().unwrap();
            let m = items.last().unwrap().as_str().unwrap();
            let (p, i) = m[1..].split_once('-').unwrap();
            let (p, i): (usize, i64) = (p.parse().unwrap(), i.parse().unwrap());
            // Each publisher's messages arrive in its order.
            assert_eq!(i, last[p] + 1);
            last[p] = i;
        }
    }
}

/// A subscriber that never reads must not block publishers nor make the server buffer without
/// bound: it is disconnected once its backlog passes the pub/sub output limit (32 MiB).
#[test]
fn slow_subscriber_is_disconnected_not_waited_for() {
    if skip_on_redis("slow_subscriber_is_disconnected_not_waited_for") {
        return;
    }
    let srv = TestServer::start();
    let mut lazy = srv.raw();
    lazy.send_cmd(&["SUBSCRIBE", "big"]);
    assert_eq!(lazy.read_reply(), arr(&["subscribe", "big"], Some(1)));
    // A well-behaved subscriber on another channel keeps working throughout.
    let mut good = srv.raw();
    good.send_cmd(&["SUBSCRIBE", "small"]);
    good.read_reply();

    let mut pubc = srv.raw();
    let payload = "x".repeat(1 << 20);
    let mut disconnected = false;
    // Up to 256 MiB published: far beyond the limit plus any socket buffers.
    for i in 0..256 {
        let started = Instant::now();
        let n = publish(&mut pubc, "big", &payload);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "PUBLISH #{i} took {:?}",
            started.elapsed()
        );
        if n == 0 {
            disconnected = true;
            break;
        }
        if i % 16 == 0 {
            assert_eq!(publish(&mut pubc, "small", "ping"), 1);
            assert_eq!(good.read_reply(), arr(&["message", "small", "ping"], None));
        }
    }
    assert!(disconnected, "the lazy subscriber was never disconnected");
    let info = srv.info("stats");
    let n: u64 = info_field(&info, "client_output_buffer_limit_disconnections")
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 1);
    // Its connection is closed (after whatever the socket buffers still held).
    assert!(lazy.drain_until_closed(Duration::from_secs(30)).is_some());
    assert_eq!(publish(&mut pubc, "small", "still"), 1);
    assert_eq!(good.read_reply(), arr(&["message", "small", "still"], None));
}

/// Subscribers are exempt from the idle timeout, as in Redis.
#[test]
fn subscribers_ignore_the_idle_timeout() {
    let srv = TestServer::start();
    let mut cfg = srv.raw();
    assert_eq!(cfg.cmd(&["CONFIG", "SET", "timeout", "1"]), Reply::ok());
    let mut sub = srv.raw();
    sub.send_cmd(&["SUBSCRIBE", "t"]);
    sub.read_reply();
    let mut idle = srv.raw();
    assert_eq!(idle.cmd(&["PING"]), Reply::Simple("PONG".into()));
    std::thread::sleep(Duration::from_millis(3500));
    assert!(idle.try_read_until_closed(Duration::from_secs(20)).is_ok());
    let mut pubc = srv.raw();
    assert_eq!(publish(&mut pubc, "t", "alive"), 1);
    assert_eq!(sub.read_reply(), arr(&["message", "t", "alive"], None));
}

#[test]
fn client_list_shows_subscriptions() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    let id = sub.cmd(&["CLIENT", "ID"]).as_int().expect("CLIENT ID");
    sub.send_cmd(&["SUBSCRIBE", "a", "b"]);
    sub.read_replies(2);
    sub.send_cmd(&["PSUBSCRIBE", "p*"]);
    sub.read_reply();
    sub.send_cmd(&["SSUBSCRIBE", "s"]);
    sub.read_reply();

    let mut other = srv.raw();
    let line_of = |c: &mut RawConn, args: &[&str]| -> Option<String> {
        let list = c.cmd(args).as_str().expect("CLIENT LIST text");
        list.lines()
            .find(|l| l.starts_with(&format!("id={id} ")))
            .map(str::to_string)
    };
    let line = line_of(&mut other, &["CLIENT", "LIST", "TYPE", "pubsub"])
        .expect("the subscriber is listed as TYPE pubsub");
    assert!(line.contains(" flags=P "), "{line}");
    assert!(line.contains(" sub=2 psub=1 ssub=1 "), "{line}");
    assert!(line_of(&mut other, &["CLIENT", "LIST", "TYPE", "normal"]).is_none());

    assert_eq!(sub.cmd(&["RESET"]), Reply::Simple("RESET".into()));
    let line = line_of(&mut other, &["CLIENT", "LIST"]).expect("listed");
    assert!(line.contains(" flags=N "), "{line}");
    assert!(line.contains(" sub=0 psub=0 ssub=0 "), "{line}");
    assert!(line_of(&mut other, &["CLIENT", "LIST", "TYPE", "pubsub"]).is_none());
}
