//! Password authentication (`--password` / requirepass): AUTH, HELLO AUTH, NOAUTH errors.

#[macro_use]
mod common;

use common::*;

const PW: &str = "s3cret-pw";
const NOAUTH: &str = "NOAUTH Authentication required.";
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

#[test]
fn unauthenticated_commands_are_rejected() {
    let srv = TestServer::builder().password(PW).start();
    let mut c = srv.raw();
    for args in [
        &["PING"][..],
        &["GET", "k"][..],
        &["SET", "k", "v"][..],
        &["SELECT", "1"][..],
        &["ECHO", "x"][..],
        &["CLIENT", "SETNAME", "x"][..],
        &["CLIENT", "ID"][..],
        &["COMMAND", "COUNT"][..],
        &["INFO"][..],
        &["CONFIG", "GET", "timeout"][..],
        &["DBSIZE"][..],
        &["FLUSHALL"][..],
        &["KEYS", "*"][..],
    ] {
        c.send_cmd(args);
        let (_, raw) = c.read_reply_raw();
        assert_eq!(
            String::from_utf8_lossy(&raw),
            format!("-{NOAUTH}\r\n"),
            "{args:?}"
        );
    }
    // Inline commands too.
    c.send(b"PING\r\n");
    assert_eq!(c.read_reply(), Reply::err(NOAUTH));
    // HELLO without AUTH is refused with a dedicated message.
    assert_eq!(
        c.cmd(&["HELLO", "3"]),
        Reply::err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
        )
    );
    // Like Redis, command lookup and arity checks happen before the auth check.
    assert_eq!(
        c.cmd(&["foo", "a"]),
        Reply::err("ERR unknown command 'foo', with args beginning with: 'a' ")
    );
    assert_eq!(
        c.cmd(&["GET"]),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    // Nothing was written.
    assert_eq!(c.cmd(&["AUTH", PW]), Reply::ok());
    assert_eq!(c.cmd(&["EXISTS", "k"]), Reply::Int(0));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));

    // QUIT works without authentication.
    let mut q = srv.raw();
    q.send_cmd(&["QUIT"]);
    assert_eq!(q.read_until_closed(), b"+OK\r\n");
}

#[test]
fn auth_password_forms() {
    let srv = TestServer::builder().password(PW).start();

    // Wrong password, both forms.
    let mut c = srv.raw();
    c.send_cmd(&["AUTH", "wrong"]);
    assert_eq!(
        c.read_reply_raw().1,
        format!("-{WRONGPASS}\r\n").into_bytes()
    );
    assert_eq!(c.cmd(&["AUTH", "default", "wrong"]), Reply::err(WRONGPASS));
    assert_eq!(c.cmd(&["AUTH", "nosuchuser", PW]), Reply::err(WRONGPASS));
    assert_eq!(
        c.cmd(&["GET", "k"]),
        Reply::err(NOAUTH),
        "still unauthenticated"
    );
    assert_eq!(
        c.cmd(&["AUTH"]),
        Reply::err("ERR wrong number of arguments for 'auth' command")
    );
    assert_eq!(
        c.cmd(&["AUTH", "a", "b", "c"]),
        Reply::err("ERR syntax error")
    );

    // AUTH <password>.
    assert_eq!(c.cmd(&["AUTH", PW]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "k"]), Reply::bulk("v"));
    // A later wrong AUTH fails but does not log the client out.
    assert_eq!(c.cmd(&["AUTH", "wrong"]), Reply::err(WRONGPASS));
    assert_eq!(c.cmd(&["GET", "k"]), Reply::bulk("v"));

    // AUTH default <password>.
    let mut c2 = srv.raw();
    assert_eq!(c2.cmd(&["AUTH", "default", PW]), Reply::ok());
    assert_eq!(c2.cmd(&["GET", "k"]), Reply::bulk("v"));

    // Authentication is per connection.
    let mut c3 = srv.raw();
    assert_eq!(c3.cmd(&["GET", "k"]), Reply::err(NOAUTH));
}

#[test]
fn hello_auth() {
    let srv = TestServer::builder().password(PW).start();
    let mut c = srv.raw();
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default", "wrong"]),
        Reply::err(WRONGPASS)
    );
    assert_eq!(c.cmd(&["GET", "k"]), Reply::err(NOAUTH));
    let r = c.cmd(&["HELLO", "3", "AUTH", "default", PW, "SETNAME", "authed"]);
    assert!(matches!(r, Reply::Map(_)), "{r:?}");
    assert_eq!(r.get("proto"), Some(&Reply::Int(3)));
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Null);
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::bulk("authed"));

    let mut c2 = srv.raw();
    let r = c2.cmd(&["HELLO", "2", "AUTH", "default", PW]);
    assert!(matches!(r, Reply::Array(ref v) if v.len() == 14), "{r:?}");
    assert_eq!(c2.cmd(&["GET", "k"]), Reply::Nil);
    // After authenticating, a plain HELLO is fine.
    assert!(matches!(c2.cmd(&["HELLO", "3"]), Reply::Map(_)));
}

#[test]
fn auth_without_password_configured() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.send_cmd(&["AUTH", "x"]);
    assert_eq!(
        String::from_utf8_lossy(&c.read_reply_raw().1),
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
    // Commands work without AUTH.
    assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    // The default user has no password: the two-argument form fails with WRONGPASS for
    // other users, but HELLO AUTH default <anything> is accepted.
    assert_eq!(c.cmd(&["AUTH", "nosuchuser", "x"]), Reply::err(WRONGPASS));
    let r = c.cmd(&["HELLO", "3", "AUTH", "default", "whatever"]);
    assert!(matches!(r, Reply::Map(_)), "{r:?}");
}

#[tokio::test]
async fn client_library_with_password() {
    let srv = TestServer::builder().password(PW).start();
    // The harness client authenticates from the URL.
    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["SET", "k", "v"]).await, ok());
    assert_eq!(qv(&mut c, &["GET", "k"]).await, bulk("v"));
    // An unauthenticated library connection gets NOAUTH.
    let mut n = srv.client_noauth().await;
    assert_eq!(qe(&mut n, &["GET", "k"]).await, NOAUTH);
    assert_eq!(qv(&mut n, &["AUTH", PW]).await, ok());
    assert_eq!(qv(&mut n, &["GET", "k"]).await, bulk("v"));
}

#[test]
fn requirepass_via_config_set() {
    let srv = TestServer::start();
    let mut admin = srv.raw();
    assert_eq!(admin.cmd(&["SET", "k", "v"]), Reply::ok());
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "requirepass", "newpw"]),
        Reply::ok()
    );
    // Already-connected clients stay authenticated; new ones must AUTH.
    assert_eq!(admin.cmd(&["GET", "k"]), Reply::bulk("v"));
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["GET", "k"]), Reply::err(NOAUTH));
    assert_eq!(c.cmd(&["AUTH", "wrong"]), Reply::err(WRONGPASS));
    assert_eq!(c.cmd(&["AUTH", "newpw"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "k"]), Reply::bulk("v"));
    // Clearing it again.
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "requirepass", ""]),
        Reply::ok()
    );
    let mut c2 = srv.raw();
    assert_eq!(c2.cmd(&["GET", "k"]), Reply::bulk("v"));
}
