//! String commands: Redis 7 semantics and exact replies / error strings.

#[macro_use]
mod common;

use common::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn ttl(c: &mut Conn, key: &str) -> i64 {
    q(c, &["TTL", key]).await
}

async fn pttl(c: &mut Conn, key: &str) -> i64 {
    q(c, &["PTTL", key]).await
}

#[tokio::test]
async fn set_get_basic_and_binary_values() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["GET", "missing"]).await, nil());
    assert_eq!(qv(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("v"));
    assert_eq!(qv(&mut c, &["SET", "k", "v2"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("v2"));

    // Empty value is a value, not a deletion.
    assert_eq!(qv(&mut c, &["SET", "empty", ""]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "empty"]).await, bulk(""));
    assert_eq!(qv(&mut c, &["EXISTS", "empty"]).await, int(1));

    // Binary-safe keys and values (NUL, CR, LF, high bytes).
    let key: &[u8] = b"bin\x00key\r\n\xff";
    let val: &[u8] = b"\x00\x01\r\n\xfe\xff value \x00";
    let r: Value = cmd_bytes(&[b"SET", key, val])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(r, ok());
    let r: Value = cmd_bytes(&[b"GET", key]).query_async(&mut c).await.unwrap();
    assert_eq!(r, bulk_bytes(val));

    // A 1 MiB value round-trips intact.
    let big: Vec<u8> = (0..(1 << 20)).map(|i| (i * 31 % 251) as u8).collect();
    let r: Value = cmd_bytes(&[b"SET", b"big", &big])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(r, ok());
    let r: Value = cmd_bytes(&[b"GET", b"big"])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(r, bulk_bytes(&big));
    assert_eq!(qv(&mut c, &["STRLEN", "big"]).await, int(1 << 20));

    // Command names are case-insensitive.
    assert_eq!(qv(&mut c, &["get", "k"]).await, bulk("v2"));
    assert_eq!(qv(&mut c, &["gEt", "k"]).await, bulk("v2"));
}

#[tokio::test]
async fn set_expiry_options() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["SET", "ex", "v", "EX", "100"]).await, ok());
    let t = ttl(&mut c, "ex").await;
    assert!((90..=100).contains(&t), "TTL after EX 100 was {t}");

    assert_eq!(qv(&mut c, &["SET", "px", "v", "PX", "100000"]).await, ok());
    let t = pttl(&mut c, "px").await;
    assert!(
        (90_000..=100_000).contains(&t),
        "PTTL after PX 100000 was {t}"
    );

    let at = now_secs() + 1000;
    assert_eq!(
        qv(&mut c, &["SET", "exat", "v", "EXAT", &at.to_string()]).await,
        ok()
    );
    assert_eq!(qv(&mut c, &["EXPIRETIME", "exat"]).await, int(at));

    let pat = now_ms() + 1_000_000;
    assert_eq!(
        qv(&mut c, &["SET", "pxat", "v", "PXAT", &pat.to_string()]).await,
        ok()
    );
    assert_eq!(qv(&mut c, &["PEXPIRETIME", "pxat"]).await, int(pat));

    // Options are case-insensitive.
    assert_eq!(qv(&mut c, &["SET", "lc", "v", "ex", "100"]).await, ok());
    assert!(ttl(&mut c, "lc").await > 0);

    // KEEPTTL retains the TTL; a plain SET clears it.
    assert_eq!(qv(&mut c, &["SET", "ex", "v2", "KEEPTTL"]).await, ok());
    let t = ttl(&mut c, "ex").await;
    assert!((90..=100).contains(&t), "TTL after KEEPTTL was {t}");
    assert_eq!(qv(&mut c, &["GET", "ex"]).await, bulk("v2"));
    assert_eq!(qv(&mut c, &["SET", "ex", "v3"]).await, ok());
    assert_eq!(ttl(&mut c, "ex").await, -1);

    // KEEPTTL on a key without TTL / on a new key: no TTL.
    assert_eq!(qv(&mut c, &["SET", "nottl", "v", "KEEPTTL"]).await, ok());
    assert_eq!(ttl(&mut c, "nottl").await, -1);

    // EXAT / PXAT in the past: the key is set and immediately expired.
    assert_eq!(qv(&mut c, &["SET", "past", "v", "PXAT", "1"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "past"]).await, nil());
    assert_eq!(qv(&mut c, &["EXISTS", "past"]).await, int(0));
    assert_eq!(qv(&mut c, &["SET", "past2", "v", "EXAT", "1"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "past2"]).await, nil());
}

#[tokio::test]
async fn set_nx_xx_get() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    // NX: only if absent.
    assert_eq!(qv(&mut c, &["SET", "k", "1", "NX"]).await, ok());
    assert_eq!(qv(&mut c, &["SET", "k", "2", "NX"]).await, nil());
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("1"));

    // XX: only if present.
    assert_eq!(qv(&mut c, &["SET", "k", "3", "XX"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("3"));
    assert_eq!(qv(&mut c, &["SET", "absent", "x", "XX"]).await, nil());
    assert_eq!(qv(&mut c, &["EXISTS", "absent"]).await, int(0));

    // GET returns the old value (nil if none) and sets.
    assert_eq!(qv(&mut c, &["SET", "k", "4", "GET"]).await, bulk("3"));
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("4"));
    assert_eq!(qv(&mut c, &["SET", "fresh", "a", "GET"]).await, nil());
    assert_eq!(qv(&mut c, &["GET", "fresh"]).await, bulk("a"));

    // GET combined with NX / XX (allowed since Redis 7.0).
    assert_eq!(qv(&mut c, &["SET", "k", "5", "NX", "GET"]).await, bulk("4"));
    assert_eq!(
        qv(&mut c, &["GET", "k"]).await,
        bulk("4"),
        "NX must not overwrite"
    );
    assert_eq!(qv(&mut c, &["SET", "k", "6", "XX", "GET"]).await, bulk("4"));
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("6"));
    assert_eq!(qv(&mut c, &["SET", "nx2", "z", "NX", "GET"]).await, nil());
    assert_eq!(qv(&mut c, &["GET", "nx2"]).await, bulk("z"));
    assert_eq!(qv(&mut c, &["SET", "xx2", "z", "XX", "GET"]).await, nil());
    assert_eq!(qv(&mut c, &["EXISTS", "xx2"]).await, int(0));

    // GET with an expiry.
    assert_eq!(
        qv(&mut c, &["SET", "k", "7", "GET", "EX", "100"]).await,
        bulk("6")
    );
    assert!(ttl(&mut c, "k").await > 0);

    // NX with an expiry.
    assert_eq!(
        qv(&mut c, &["SET", "nxex", "v", "NX", "PX", "100000"]).await,
        ok()
    );
    assert!(pttl(&mut c, "nxex").await > 0);
}

#[tokio::test]
async fn set_invalid_option_combinations() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SET", "k", "orig"]).await, ok());

    let syntax = "ERR syntax error";
    let inv = "ERR invalid expire time in 'set' command";
    let notint = "ERR value is not an integer or out of range";
    let cases: &[(&[&str], &str)] = &[
        (&["SET", "k", "v", "NX", "XX"], syntax),
        (&["SET", "k", "v", "XX", "NX"], syntax),
        (&["SET", "k", "v", "EX", "10", "PX", "100"], syntax),
        (&["SET", "k", "v", "EX", "10", "KEEPTTL"], syntax),
        (&["SET", "k", "v", "KEEPTTL", "PX", "10"], syntax),
        (&["SET", "k", "v", "EXAT", "10", "PXAT", "10"], syntax),
        (&["SET", "k", "v", "EX"], syntax),
        (&["SET", "k", "v", "FOO"], syntax),
        (&["SET", "k", "v", "NX", "NX", "FOO"], syntax),
        (&["SET", "k", "v", "EX", "0"], inv),
        (&["SET", "k", "v", "EX", "-1"], inv),
        (&["SET", "k", "v", "PX", "0"], inv),
        (&["SET", "k", "v", "PX", "-100"], inv),
        (&["SET", "k", "v", "EXAT", "0"], inv),
        (&["SET", "k", "v", "PXAT", "-5"], inv),
        (&["SET", "k", "v", "EX", "9999999999999999"], inv),
        (&["SET", "k", "v", "PX", "9223372036854775807"], inv),
        (&["SET", "k", "v", "EX", "abc"], notint),
        (&["SET", "k", "v", "PX", "1.5"], notint),
        (&["SET", "k", "v", "EX", "99999999999999999999"], notint),
        (
            &["SET", "k"],
            "ERR wrong number of arguments for 'set' command",
        ),
        (&["SET"], "ERR wrong number of arguments for 'set' command"),
    ];
    for (args, want) in cases {
        assert_eq!(&qe(&mut c, args).await, want, "for {args:?}");
    }
    // None of the failed commands changed anything.
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("orig"));
    assert_eq!(ttl(&mut c, "k").await, -1);
}

#[tokio::test]
async fn setnx_setex_psetex() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["SETNX", "k", "1"]).await, int(1));
    assert_eq!(qv(&mut c, &["SETNX", "k", "2"]).await, int(0));
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("1"));

    assert_eq!(qv(&mut c, &["SETEX", "se", "100", "v"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "se"]).await, bulk("v"));
    let t = ttl(&mut c, "se").await;
    assert!((90..=100).contains(&t), "TTL {t}");
    assert_eq!(
        qe(&mut c, &["SETEX", "se", "0", "v"]).await,
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        qe(&mut c, &["SETEX", "se", "-1", "v"]).await,
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        qe(&mut c, &["SETEX", "se", "x", "v"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["SETEX", "se", "10"]).await,
        "ERR wrong number of arguments for 'setex' command"
    );

    assert_eq!(qv(&mut c, &["PSETEX", "pse", "100000", "v"]).await, ok());
    let t = pttl(&mut c, "pse").await;
    assert!((90_000..=100_000).contains(&t), "PTTL {t}");
    assert_eq!(
        qe(&mut c, &["PSETEX", "pse", "0", "v"]).await,
        "ERR invalid expire time in 'psetex' command"
    );
    assert_eq!(
        qe(&mut c, &["PSETEX", "pse", "-5", "v"]).await,
        "ERR invalid expire time in 'psetex' command"
    );

    // SETEX overwrites an existing value and replaces its TTL.
    assert_eq!(qv(&mut c, &["SETEX", "k", "50", "new"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("new"));
    let t = ttl(&mut c, "k").await;
    assert!((40..=50).contains(&t), "TTL {t}");
}

#[tokio::test]
async fn getset_getdel() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["GETSET", "k", "a"]).await, nil());
    assert_eq!(qv(&mut c, &["GETSET", "k", "b"]).await, bulk("a"));
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("b"));

    // GETSET clears the TTL.
    assert_eq!(qv(&mut c, &["SET", "t", "1", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["GETSET", "t", "2"]).await, bulk("1"));
    assert_eq!(ttl(&mut c, "t").await, -1);

    assert_eq!(qv(&mut c, &["GETDEL", "k"]).await, bulk("b"));
    assert_eq!(qv(&mut c, &["GETDEL", "k"]).await, nil());
    assert_eq!(qv(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(
        qe(&mut c, &["GETDEL", "k", "x"]).await,
        "ERR wrong number of arguments for 'getdel' command"
    );
}

#[tokio::test]
async fn getex() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SET", "k", "v"]).await, ok());

    // No options: just GET.
    assert_eq!(qv(&mut c, &["GETEX", "k"]).await, bulk("v"));
    assert_eq!(ttl(&mut c, "k").await, -1);

    assert_eq!(qv(&mut c, &["GETEX", "k", "EX", "100"]).await, bulk("v"));
    let t = ttl(&mut c, "k").await;
    assert!((90..=100).contains(&t), "TTL {t}");

    assert_eq!(qv(&mut c, &["GETEX", "k", "PX", "200000"]).await, bulk("v"));
    let t = pttl(&mut c, "k").await;
    assert!((190_000..=200_000).contains(&t), "PTTL {t}");

    let at = now_secs() + 5000;
    assert_eq!(
        qv(&mut c, &["GETEX", "k", "EXAT", &at.to_string()]).await,
        bulk("v")
    );
    assert_eq!(qv(&mut c, &["EXPIRETIME", "k"]).await, int(at));

    let pat = now_ms() + 6_000_000;
    assert_eq!(
        qv(&mut c, &["GETEX", "k", "PXAT", &pat.to_string()]).await,
        bulk("v")
    );
    assert_eq!(qv(&mut c, &["PEXPIRETIME", "k"]).await, int(pat));

    assert_eq!(qv(&mut c, &["GETEX", "k", "PERSIST"]).await, bulk("v"));
    assert_eq!(ttl(&mut c, "k").await, -1);

    // Missing key: nil, nothing created.
    assert_eq!(qv(&mut c, &["GETEX", "missing", "EX", "10"]).await, nil());
    assert_eq!(qv(&mut c, &["EXISTS", "missing"]).await, int(0));

    // Errors.
    let inv = "ERR invalid expire time in 'getex' command";
    assert_eq!(qe(&mut c, &["GETEX", "k", "EX", "0"]).await, inv);
    assert_eq!(qe(&mut c, &["GETEX", "k", "PX", "-1"]).await, inv);
    assert_eq!(
        qe(&mut c, &["GETEX", "k", "EX", "abc"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["GETEX", "k", "PX", "100", "PERSIST"]).await,
        "ERR syntax error"
    );
    assert_eq!(
        qe(&mut c, &["GETEX", "k", "EX", "1", "PX", "1000"]).await,
        "ERR syntax error"
    );
    assert_eq!(qe(&mut c, &["GETEX", "k", "FOO"]).await, "ERR syntax error");
    assert_eq!(qe(&mut c, &["GETEX", "k", "EX"]).await, "ERR syntax error");
    assert_eq!(
        ttl(&mut c, "k").await,
        -1,
        "failed GETEX must not change the TTL"
    );

    // EXAT in the past deletes the key (after returning it).
    assert_eq!(qv(&mut c, &["GETEX", "k", "EXAT", "1"]).await, bulk("v"));
    assert_eq!(qv(&mut c, &["EXISTS", "k"]).await, int(0));
}

#[tokio::test]
async fn mget_mset_msetnx() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(
        qv(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]).await,
        ok()
    );
    assert_eq!(
        qv(&mut c, &["MGET", "a", "b", "missing", "c", "a"]).await,
        arr(vec![bulk("1"), bulk("2"), nil(), bulk("3"), bulk("1")])
    );
    // Later duplicates win.
    assert_eq!(qv(&mut c, &["MSET", "d", "x", "d", "y"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "d"]).await, bulk("y"));
    // MSET clears TTLs of overwritten keys.
    assert_eq!(qv(&mut c, &["SET", "t", "1", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["MSET", "t", "2"]).await, ok());
    assert_eq!(ttl(&mut c, "t").await, -1);

    assert_eq!(
        qe(&mut c, &["MSET", "a"]).await,
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        qe(&mut c, &["MSET", "a", "1", "b"]).await,
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        qe(&mut c, &["MGET"]).await,
        "ERR wrong number of arguments for 'mget' command"
    );

    // MSETNX is all-or-nothing.
    assert_eq!(qv(&mut c, &["MSETNX", "a", "9", "z", "9"]).await, int(0));
    assert_eq!(
        qv(&mut c, &["MGET", "a", "z"]).await,
        arr(vec![bulk("1"), nil()])
    );
    assert_eq!(qv(&mut c, &["MSETNX", "y", "1", "z", "2"]).await, int(1));
    assert_eq!(qv(&mut c, &["MGET", "y", "z"]).await, bulks(&["1", "2"]));
    assert_eq!(
        qe(&mut c, &["MSETNX", "q"]).await,
        "ERR wrong number of arguments for 'msetnx' command"
    );
    assert_eq!(
        qe(&mut c, &["MSETNX", "q", "1", "r"]).await,
        "ERR wrong number of arguments for 'msetnx' command"
    );
}

#[tokio::test]
async fn incr_decr_family() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["INCR", "n"]).await, int(1));
    assert_eq!(qv(&mut c, &["INCR", "n"]).await, int(2));
    assert_eq!(qv(&mut c, &["DECR", "n"]).await, int(1));
    assert_eq!(qv(&mut c, &["DECR", "m"]).await, int(-1));
    assert_eq!(qv(&mut c, &["INCRBY", "n", "10"]).await, int(11));
    assert_eq!(qv(&mut c, &["INCRBY", "n", "-20"]).await, int(-9));
    assert_eq!(qv(&mut c, &["DECRBY", "n", "5"]).await, int(-14));
    assert_eq!(qv(&mut c, &["DECRBY", "n", "-14"]).await, int(0));
    assert_eq!(qv(&mut c, &["INCRBY", "fresh", "42"]).await, int(42));
    // The value is stored as a string.
    assert_eq!(qv(&mut c, &["GET", "fresh"]).await, bulk("42"));
    assert_eq!(qv(&mut c, &["SET", "s", "-100"]).await, ok());
    assert_eq!(qv(&mut c, &["INCR", "s"]).await, int(-99));

    // INCR keeps the TTL.
    assert_eq!(qv(&mut c, &["SET", "t", "5", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["INCR", "t"]).await, int(6));
    assert!(ttl(&mut c, "t").await > 0);

    // Bounds.
    assert_eq!(
        qv(&mut c, &["SET", "max", "9223372036854775806"]).await,
        ok()
    );
    assert_eq!(qv(&mut c, &["INCR", "max"]).await, int(i64::MAX));
    assert_eq!(
        qe(&mut c, &["INCR", "max"]).await,
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        qe(&mut c, &["INCRBY", "max", "1"]).await,
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        qv(&mut c, &["GET", "max"]).await,
        bulk("9223372036854775807")
    );
    assert_eq!(
        qv(&mut c, &["SET", "min", "-9223372036854775808"]).await,
        ok()
    );
    assert_eq!(
        qe(&mut c, &["DECR", "min"]).await,
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        qe(&mut c, &["INCRBY", "min", "-1"]).await,
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        qe(&mut c, &["DECRBY", "min", "1"]).await,
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        qv(&mut c, &["INCRBY", "min", "9223372036854775807"]).await,
        int(-1)
    );
    // DECRBY by i64::MIN cannot be negated: Redis has a dedicated message for it.
    assert_eq!(
        qe(&mut c, &["DECRBY", "n", "-9223372036854775808"]).await,
        "ERR decrement would overflow"
    );

    // Non-integer values / increments.
    let notint = "ERR value is not an integer or out of range";
    for v in [
        "hello",
        " 1",
        "1 ",
        "1.5",
        "01",
        "+1",
        "",
        "12345678901234567890",
        "0x10",
    ] {
        assert_eq!(qv(&mut c, &["SET", "bad", v]).await, ok());
        assert_eq!(qe(&mut c, &["INCR", "bad"]).await, notint, "INCR on {v:?}");
        assert_eq!(
            qe(&mut c, &["DECRBY", "bad", "1"]).await,
            notint,
            "DECRBY on {v:?}"
        );
        assert_eq!(
            qv(&mut c, &["GET", "bad"]).await,
            bulk(v),
            "value must be unchanged"
        );
    }
    assert_eq!(qe(&mut c, &["INCRBY", "n", "abc"]).await, notint);
    assert_eq!(qe(&mut c, &["INCRBY", "n", "1.0"]).await, notint);
    assert_eq!(
        qe(&mut c, &["INCRBY", "n", "9223372036854775808"]).await,
        notint
    );
    assert_eq!(qe(&mut c, &["DECRBY", "n", ""]).await, notint);
    assert_eq!(
        qe(&mut c, &["INCR"]).await,
        "ERR wrong number of arguments for 'incr' command"
    );
    assert_eq!(
        qe(&mut c, &["INCR", "a", "b"]).await,
        "ERR wrong number of arguments for 'incr' command"
    );
    assert_eq!(
        qe(&mut c, &["INCRBY", "a"]).await,
        "ERR wrong number of arguments for 'incrby' command"
    );
    assert_eq!(
        qe(&mut c, &["DECRBY", "a"]).await,
        "ERR wrong number of arguments for 'decrby' command"
    );
}

#[tokio::test]
async fn incrbyfloat() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    // Reply is a bulk string, formatted without trailing zeros / exponent.
    assert_eq!(qv(&mut c, &["INCRBYFLOAT", "f", "1.5"]).await, bulk("1.5"));
    assert_eq!(qv(&mut c, &["INCRBYFLOAT", "f", "1.5"]).await, bulk("3"));
    assert_eq!(qv(&mut c, &["GET", "f"]).await, bulk("3"));
    assert_eq!(qv(&mut c, &["INCRBYFLOAT", "f", "-3"]).await, bulk("0"));
    assert_eq!(qv(&mut c, &["INCRBYFLOAT", "f", "2.5"]).await, bulk("2.5"));
    assert_eq!(
        qv(&mut c, &["INCRBYFLOAT", "f", "-1.25"]).await,
        bulk("1.25")
    );

    assert_eq!(qv(&mut c, &["SET", "g", "10.50"]).await, ok());
    assert_eq!(qv(&mut c, &["INCRBYFLOAT", "g", "0.1"]).await, bulk("10.6"));
    assert_eq!(qv(&mut c, &["SET", "g", "10.5"]).await, ok());
    assert_eq!(
        qv(&mut c, &["INCRBYFLOAT", "g", "5.0e3"]).await,
        bulk("5010.5")
    );
    assert_eq!(
        qv(&mut c, &["INCRBYFLOAT", "g", "-5010.5"]).await,
        bulk("0")
    );

    assert_eq!(qv(&mut c, &["SET", "i", "3"]).await, ok());
    assert_eq!(qv(&mut c, &["INCRBYFLOAT", "i", "1.0"]).await, bulk("4"));
    assert_eq!(
        qv(&mut c, &["INCRBY", "i", "1"]).await,
        int(5),
        "integral result is still an integer string"
    );

    assert_eq!(
        qv(&mut c, &["INCRBYFLOAT", "big", "1e20"]).await,
        bulk("100000000000000000000")
    );
    assert_eq!(
        qv(&mut c, &["INCRBYFLOAT", "tiny", "0.0000001"]).await,
        bulk("0.0000001")
    );
    assert_eq!(
        qv(&mut c, &["INCRBYFLOAT", "neg", "-2.5"]).await,
        bulk("-2.5")
    );

    // INCRBYFLOAT keeps the TTL.
    assert_eq!(qv(&mut c, &["SET", "t", "1", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["INCRBYFLOAT", "t", "0.5"]).await, bulk("1.5"));
    assert!(ttl(&mut c, "t").await > 0);

    // Errors.
    let notfloat = "ERR value is not a valid float";
    assert_eq!(qe(&mut c, &["INCRBYFLOAT", "g", "abc"]).await, notfloat);
    assert_eq!(qe(&mut c, &["INCRBYFLOAT", "g", "nan"]).await, notfloat);
    assert_eq!(qe(&mut c, &["INCRBYFLOAT", "g", ""]).await, notfloat);
    assert_eq!(qe(&mut c, &["INCRBYFLOAT", "g", "1 "]).await, notfloat);
    for v in ["abc", " 1", "1.5x", ""] {
        assert_eq!(qv(&mut c, &["SET", "h", v]).await, ok());
        assert_eq!(
            qe(&mut c, &["INCRBYFLOAT", "h", "1"]).await,
            notfloat,
            "value {v:?}"
        );
        assert_eq!(qv(&mut c, &["GET", "h"]).await, bulk(v));
    }
    let naninf = "ERR increment would produce NaN or Infinity";
    assert_eq!(qe(&mut c, &["INCRBYFLOAT", "g", "inf"]).await, naninf);
    assert_eq!(qe(&mut c, &["INCRBYFLOAT", "g", "-inf"]).await, naninf);
    assert_eq!(qe(&mut c, &["INCRBYFLOAT", "g", "+inf"]).await, naninf);
    assert_eq!(qe(&mut c, &["INCRBYFLOAT", "nokey", "inf"]).await, naninf);
    assert_eq!(qv(&mut c, &["EXISTS", "nokey"]).await, int(0));
    assert_eq!(qv(&mut c, &["GET", "g"]).await, bulk("0"));
    assert_eq!(
        qe(&mut c, &["INCRBYFLOAT", "g"]).await,
        "ERR wrong number of arguments for 'incrbyfloat' command"
    );
}

#[tokio::test]
async fn append_strlen() {
    let srv = TestServer::start();
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["APPEND", "a", "hello"]).await, int(5));
    assert_eq!(qv(&mut c, &["APPEND", "a", " world"]).await, int(11));
    assert_eq!(qv(&mut c, &["GET", "a"]).await, bulk("hello world"));
    assert_eq!(qv(&mut c, &["APPEND", "a", ""]).await, int(11));
    assert_eq!(qv(&mut c, &["STRLEN", "a"]).await, int(11));
    assert_eq!(qv(&mut c, &["STRLEN", "missing"]).await, int(0));
    // APPEND of an empty string to a missing key creates an empty key.
    assert_eq!(qv(&mut c, &["APPEND", "e", ""]).await, int(0));
    assert_eq!(qv(&mut c, &["EXISTS", "e"]).await, int(1));
    // Appending to an integer-looking value works on its string form.
    assert_eq!(qv(&mut c, &["SET", "n", "12"]).await, ok());
    assert_eq!(qv(&mut c, &["APPEND", "n", "34"]).await, int(4));
    assert_eq!(qv(&mut c, &["INCR", "n"]).await, int(1235));
    // Binary data.
    let r: Value = cmd_bytes(&[b"APPEND", b"b", b"\x00\r\n"])
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(r, int(3));
    assert_eq!(qv(&mut c, &["STRLEN", "b"]).await, int(3));
    // APPEND keeps the TTL.
    assert_eq!(qv(&mut c, &["SET", "t", "x", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["APPEND", "t", "y"]).await, int(2));
    assert!(ttl(&mut c, "t").await > 0);
    assert_eq!(
        qe(&mut c, &["APPEND", "a"]).await,
        "ERR wrong number of arguments for 'append' command"
    );
    assert_eq!(
        qe(&mut c, &["STRLEN"]).await,
        "ERR wrong number of arguments for 'strlen' command"
    );
}

#[tokio::test]
async fn getrange_substr() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SET", "a", "hello world"]).await, ok());

    let cases: &[(&str, &str, &str)] = &[
        ("0", "4", "hello"),
        ("-5", "-1", "world"),
        ("6", "100", "world"),
        ("0", "-1", "hello world"),
        ("5", "2", ""),
        ("-100", "2", "hel"),
        ("100", "200", ""),
        ("-1", "-5", ""),
        ("0", "0", "h"),
        ("-1", "-1", "d"),
        ("10", "10", "d"),
        // Redis 7 quirk: a negative end that falls before the start of the string is
        // clamped to 0, so the first byte is returned.
        ("0", "-100", "h"),
    ];
    for (s, e, want) in cases {
        assert_eq!(
            qv(&mut c, &["GETRANGE", "a", s, e]).await,
            bulk(want),
            "GETRANGE a {s} {e}"
        );
    }
    assert_eq!(
        qv(&mut c, &["GETRANGE", "missing", "0", "10"]).await,
        bulk("")
    );
    assert_eq!(qv(&mut c, &["SET", "empty", ""]).await, ok());
    assert_eq!(
        qv(&mut c, &["GETRANGE", "empty", "0", "-1"]).await,
        bulk("")
    );
    assert_eq!(
        qe(&mut c, &["GETRANGE", "a", "x", "1"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["GETRANGE", "a", "0"]).await,
        "ERR wrong number of arguments for 'getrange' command"
    );

    // SUBSTR is the old name of GETRANGE.
    assert_eq!(qv(&mut c, &["SUBSTR", "a", "0", "2"]).await, bulk("hel"));
    assert_eq!(qv(&mut c, &["SUBSTR", "a", "-3", "-1"]).await, bulk("rld"));
    assert_eq!(
        qe(&mut c, &["SUBSTR", "a", "0"]).await,
        "ERR wrong number of arguments for 'substr' command"
    );
}

#[tokio::test]
async fn setrange() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SET", "a", "hello world"]).await, ok());

    assert_eq!(qv(&mut c, &["SETRANGE", "a", "6", "WORLD"]).await, int(11));
    assert_eq!(qv(&mut c, &["GET", "a"]).await, bulk("hello WORLD"));
    // Extends the string.
    assert_eq!(qv(&mut c, &["SETRANGE", "a", "11", "!!"]).await, int(13));
    assert_eq!(qv(&mut c, &["GET", "a"]).await, bulk("hello WORLD!!"));
    // Offset beyond the end pads with zero bytes.
    assert_eq!(qv(&mut c, &["SETRANGE", "b", "3", "xy"]).await, int(5));
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GET", "b"]).await,
        b"\x00\x00\x00xy".to_vec()
    );
    assert_eq!(qv(&mut c, &["SET", "c", "ab"]).await, ok());
    assert_eq!(qv(&mut c, &["SETRANGE", "c", "4", "z"]).await, int(5));
    assert_eq!(
        q::<Vec<u8>>(&mut c, &["GET", "c"]).await,
        b"ab\x00\x00z".to_vec()
    );
    // Empty value: no-op, returns the current length; does not create a key.
    assert_eq!(qv(&mut c, &["SETRANGE", "a", "5", ""]).await, int(13));
    assert_eq!(qv(&mut c, &["SETRANGE", "a", "100", ""]).await, int(13));
    assert_eq!(qv(&mut c, &["STRLEN", "a"]).await, int(13));
    assert_eq!(qv(&mut c, &["SETRANGE", "nokey", "5", ""]).await, int(0));
    assert_eq!(qv(&mut c, &["EXISTS", "nokey"]).await, int(0));
    // SETRANGE keeps the TTL.
    assert_eq!(qv(&mut c, &["SET", "t", "abc", "EX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["SETRANGE", "t", "1", "X"]).await, int(3));
    assert_eq!(qv(&mut c, &["GET", "t"]).await, bulk("aXc"));
    assert!(ttl(&mut c, "t").await > 0);
    // Errors.
    assert_eq!(
        qe(&mut c, &["SETRANGE", "a", "-1", "x"]).await,
        "ERR offset is out of range"
    );
    assert_eq!(
        qe(&mut c, &["SETRANGE", "a", "abc", "x"]).await,
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        qe(&mut c, &["SETRANGE", "a", "536870912", "x"]).await,
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(
        qe(&mut c, &["SETRANGE", "a", "1"]).await,
        "ERR wrong number of arguments for 'setrange' command"
    );
    assert_eq!(qv(&mut c, &["GET", "a"]).await, bulk("hello WORLD!!"));
}

#[tokio::test]
async fn key_with_px_expires() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SET", "k", "v", "PX", "100"]).await, ok());
    assert_eq!(qv(&mut c, &["SET", "stay", "v"]).await, ok());
    eventually!(
        Duration::from_secs(10),
        "key set with PX 100 to expire",
        qv(&mut c, &["GET", "k"]).await == nil()
    );
    assert_eq!(qv(&mut c, &["EXISTS", "k"]).await, int(0));
    assert_eq!(qv(&mut c, &["TTL", "k"]).await, int(-2));
    assert_eq!(qv(&mut c, &["GET", "stay"]).await, bulk("v"));
    // An expired key can be recreated fresh, without the old TTL.
    assert_eq!(qv(&mut c, &["SET", "k", "new", "NX"]).await, ok());
    assert_eq!(qv(&mut c, &["TTL", "k"]).await, int(-1));
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("new"));
}

#[tokio::test]
async fn wrong_arity_errors() {
    let srv = TestServer::start();
    let mut c = srv.client().await;
    let cases: &[(&[&str], &str)] = &[
        (&["GET"], "get"),
        (&["GET", "a", "b"], "get"),
        (&["SETNX", "a"], "setnx"),
        (&["PSETEX", "a", "1"], "psetex"),
        (&["GETSET", "a"], "getset"),
        (&["GETEX"], "getex"),
        (&["DECR"], "decr"),
        (&["SETRANGE", "a"], "setrange"),
    ];
    for (args, name) in cases {
        assert_eq!(
            qe(&mut c, args).await,
            format!("ERR wrong number of arguments for '{name}' command"),
            "{args:?}"
        );
    }
}
