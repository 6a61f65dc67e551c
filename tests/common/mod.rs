//! Shared harness for the single-node integration tests.
//!
//! Every test file does `#[macro_use] mod common;` and starts its own server with
//! [`TestServer::start`] / [`TestServer::builder`].
//!
//! Environment knobs:
//! * `RAFTROCKS_TEST_TARGET=redis` runs the suite against a real `redis-server` instead of
//!   raftrocks (used to validate the expectations; raftrocks-only tests return early).
//! * `RAFTROCKS_BIN=/path/to/raftrocks` overrides the binary cargo built for this package.
//! * `REDIS_SERVER_BIN` overrides the `redis-server` executable (default: from `PATH`).
//! * Development-only, when the target is redis: `RAFTROCKS_TEST_REDIS_AOF=1` runs the
//!   durability tests against redis with `appendfsync always`, and
//!   `RAFTROCKS_TEST_REDIS_CLUSTER=1` runs the CLUSTER tests against redis in cluster mode.
//!   Both exist only to check the tests themselves; they are off by default.
//!
//! On a failing test the tail of the server log is printed (see `Drop for TestServer`).
#![allow(dead_code, unused_macros, unused_imports)]

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub use redis::Value;

/// How long a server may take to start answering PING (slow, busy 2-core machine).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Default timeout for a single reply on a raw connection or through the redis client.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------
// Target selection
// ---------------------------------------------------------------------------------------

/// True when the suite runs against a real redis-server (`RAFTROCKS_TEST_TARGET=redis`).
pub fn target_is_redis() -> bool {
    matches!(
        std::env::var("RAFTROCKS_TEST_TARGET").as_deref(),
        Ok("redis")
    )
}

fn env_flag(name: &str) -> bool {
    matches!(
        std::env::var(name).as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

/// For raftrocks-only tests: returns true (and prints a note) when running against redis.
pub fn skip_on_redis(test: &str) -> bool {
    if target_is_redis() {
        eprintln!("{test}: skipped on redis");
        true
    } else {
        false
    }
}

fn raftrocks_bin() -> PathBuf {
    match std::env::var_os("RAFTROCKS_BIN") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_BIN_EXE_raftrocks")),
    }
}

fn redis_server_bin() -> PathBuf {
    std::env::var_os("REDIS_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("redis-server"))
}

/// Picks a port that is currently free on 127.0.0.1. Ports are drawn at random from a
/// range below the Linux ephemeral range, so that outgoing client sockets of the tests
/// themselves cannot be holding them.
fn pick_free_port() -> u16 {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for _ in 0..200 {
        let port: u16 = rng.gen_range(20_000..32_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    // Fall back to whatever the kernel gives us.
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------
// TestServer
// ---------------------------------------------------------------------------------------

#[derive(Default, Clone)]
pub struct TestServerBuilder {
    password: Option<String>,
    extra_args: Vec<String>,
    data_dir: Option<PathBuf>,
    redis_durable: bool,
    redis_cluster: bool,
    reference_redis: bool,
}

impl TestServerBuilder {
    /// Start the server with a password (`--password` / `--requirepass`).
    pub fn password(mut self, pw: &str) -> Self {
        self.password = Some(pw.to_string());
        self
    }

    /// Extra command-line arguments passed to the target binary (raftrocks or redis-server).
    pub fn extra_args(mut self, args: &[&str]) -> Self {
        self.extra_args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// Reuse an existing data directory instead of a fresh one.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Redis target only: run with `appendonly yes`, `appendfsync always` (dev aid for
    /// validating the durability tests themselves).
    pub fn redis_durable(mut self) -> Self {
        self.redis_durable = true;
        self
    }

    /// Start a real redis-server whatever the target: the reference that differential and
    /// DUMP/RESTORE tests compare raftrocks with.
    pub fn reference_redis(mut self) -> Self {
        self.reference_redis = true;
        self
    }

    /// Redis target only: run in cluster mode (dev aid for validating the CLUSTER tests).
    pub fn redis_cluster(mut self) -> Self {
        self.redis_cluster = true;
        self
    }

    pub fn start(self) -> TestServer {
        let root = tempfile::Builder::new()
            .prefix("raftrocks-it-")
            .tempdir()
            .expect("create tempdir");
        let data_dir = match &self.data_dir {
            Some(d) => d.clone(),
            None => root.path().join("data"),
        };
        std::fs::create_dir_all(&data_dir).expect("create data dir");
        let log_path = root.path().join("server.log");
        let mut server = TestServer {
            child: None,
            port: 0,
            root: Some(root),
            data_dir,
            log_path,
            opts: self,
        };
        // A freshly picked port can be grabbed by someone else between our check and the
        // server's bind; retry a few times with another port if the process dies at once.
        let mut last_err = String::new();
        for _attempt in 0..3 {
            server.port = pick_free_port();
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(e) => last_err = e,
            }
        }
        panic!("{last_err}");
    }
}

pub struct TestServer {
    child: Option<Child>,
    port: u16,
    /// Holds the temporary directory (log file and, by default, the data dir).
    root: Option<tempfile::TempDir>,
    data_dir: PathBuf,
    log_path: PathBuf,
    opts: TestServerBuilder,
}

impl TestServer {
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// Start a server with default options on a fresh data dir.
    pub fn start() -> TestServer {
        Self::builder().start()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn password(&self) -> Option<&str> {
        self.opts.password.as_deref()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// True if this server is a redis-server (the target, or a reference).
    pub fn is_redis(&self) -> bool {
        self.opts.reference_redis || target_is_redis()
    }

    fn command(&self) -> Command {
        let mut cmd;
        if self.is_redis() {
            cmd = Command::new(redis_server_bin());
            cmd.arg("--port")
                .arg(self.port.to_string())
                .arg("--bind")
                .arg("127.0.0.1")
                .arg("--daemonize")
                .arg("no")
                .arg("--save")
                .arg("")
                .arg("--dir")
                .arg(&self.data_dir);
            if self.opts.redis_durable {
                cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
            } else {
                cmd.args(["--appendonly", "no"]);
            }
            if self.opts.redis_cluster {
                cmd.args(["--cluster-enabled", "yes"]);
            }
            if let Some(pw) = &self.opts.password {
                cmd.arg("--requirepass").arg(pw);
            }
        } else {
            cmd = Command::new(raftrocks_bin());
            cmd.arg("server")
                .arg("--resp-addr")
                .arg(format!("127.0.0.1:{}", self.port))
                .arg("--data-dir")
                .arg(&self.data_dir);
            if let Some(pw) = &self.opts.password {
                cmd.arg("--password").arg(pw);
            }
        }
        cmd.args(&self.opts.extra_args);
        // Keep the child hermetic: settings must come from the arguments above, not from
        // RAFTROCKS_* variables in the developer's environment (the log level may pass).
        for (k, _) in std::env::vars_os() {
            if let Some(k) = k.to_str() {
                if k.starts_with("RAFTROCKS_") && k != "RAFTROCKS_LOG_LEVEL" {
                    cmd.env_remove(k);
                }
            }
        }
        cmd
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open server log");
        {
            let mut l = &log;
            let _ = writeln!(
                l,
                "===== test harness: starting {:?} on port {} =====",
                self.command().get_program(),
                self.port
            );
        }
        let mut cmd = self.command();
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log fd"))
            .stderr(log);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("failed to spawn {:?}: {e}", cmd.get_program()));
        self.child = Some(child);
        self.wait_ready()
    }

    /// Polls (every 50 ms, for up to [`STARTUP_TIMEOUT`]) until a raw PING is answered
    /// with `+PONG` or `-NOAUTH`.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(format!(
                        "server exited during startup ({status}); log tail:\n{}",
                        self.log_tail(60)
                    ));
                }
            }
            if self.ping_once() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill_child();
                panic!(
                    "server on port {} not ready after {:?}; log tail:\n{}",
                    self.port,
                    STARTUP_TIMEOUT,
                    self.log_tail(60)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ping_once(&self) -> bool {
        let Ok(mut s) = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(1)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        while !got.windows(2).any(|w| w == b"\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return false,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        got.starts_with(b"+PONG") || got.starts_with(b"-NOAUTH")
    }

    /// Last `lines` lines of the server log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read(&self.log_path).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn kill_child(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// SIGKILL the server and wait for it to be gone.
    pub fn kill9(&mut self) {
        let child = self.child.as_mut().expect("kill9: server is not running");
        child.kill().expect("SIGKILL server");
        child.wait().expect("wait for killed server");
        self.child = None;
    }

    /// SIGTERM the server and wait (up to `timeout`) for it to exit. Returns its exit
    /// status. Panics (after SIGKILLing it) if it does not exit in time.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let pid = self
            .child
            .as_ref()
            .expect("terminate: server is not running")
            .id();
        let st = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .expect("run kill -TERM");
        assert!(st.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut().unwrap();
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                self.kill_child();
                panic!(
                    "server did not exit within {timeout:?} after SIGTERM; log tail:\n{}",
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Start the server again on the same data dir and port (kills it first if running).
    /// Replaces the extra server arguments used by the next [`restart`](Self::restart).
    pub fn set_extra_args(&mut self, args: &[&str]) {
        self.opts.extra_args = args.iter().map(|s| s.to_string()).collect();
    }

    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.kill9();
        }
        // The old listening socket may linger briefly; retry the spawn a few times.
        let mut last_err = String::new();
        for _ in 0..5 {
            match self.spawn_and_wait() {
                Ok(()) => return,
                Err(e) => last_err = e,
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("restart failed: {last_err}");
    }

    fn redis_url(&self, db: i64) -> String {
        match &self.opts.password {
            Some(pw) => format!("redis://:{}@127.0.0.1:{}/{}", pw, self.port, db),
            None => format!("redis://127.0.0.1:{}/{}", self.port, db),
        }
    }

    fn connection_config() -> redis::AsyncConnectionConfig {
        redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(10)))
            .set_response_timeout(Some(REPLY_TIMEOUT))
    }

    /// An authenticated (if a password is set) async client on db 0. Supports pipelining
    /// (`redis::pipe()`) and can be cloned to issue concurrent requests.
    pub async fn client(&self) -> Conn {
        self.client_db(0).await
    }

    /// Like [`client`](Self::client) but SELECTs `db` on connect.
    pub async fn client_db(&self, db: i64) -> Conn {
        let client = redis::Client::open(self.redis_url(db)).expect("redis url");
        client
            .get_multiplexed_async_connection_with_config(&Self::connection_config())
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr()))
    }

    /// A client that does not authenticate even if the server has a password.
    pub async fn client_noauth(&self) -> Conn {
        let url = format!("redis://127.0.0.1:{}/", self.port);
        let client = redis::Client::open(url).expect("redis url");
        client
            .get_multiplexed_async_connection_with_config(&Self::connection_config())
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr()))
    }

    /// A raw TCP connection (no handshake at all).
    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.addr())
    }

    /// A raw TCP connection that has already sent `AUTH` if the server has a password.
    pub fn raw_authed(&self) -> RawConn {
        let mut c = self.raw();
        if let Some(pw) = &self.opts.password {
            assert_eq!(c.cmd(&["AUTH", pw]), Reply::ok());
        }
        c
    }

    /// Asserts that a brand-new connection is accepted and answers PING with PONG.
    pub fn assert_alive(&mut self) {
        assert!(
            self.is_running(),
            "server process died; log tail:\n{}",
            self.log_tail(40)
        );
        let mut c = self.raw_authed();
        assert_eq!(c.cmd(&["PING"]), Reply::Simple("PONG".into()));
    }

    /// `INFO <section>` parsed into (field, value) pairs via a raw connection.
    pub fn info(&self, section: &str) -> Vec<(String, String)> {
        let mut c = self.raw_authed();
        let r = c.cmd(&["INFO", section]);
        parse_info(&String::from_utf8_lossy(
            r.as_bytes().expect("INFO returns a bulk string"),
        ))
    }

    /// `redis_version` as (major, minor, patch).
    pub fn version(&self) -> (u32, u32, u32) {
        let info = self.info("server");
        let v = info_field(&info, "redis_version").expect("redis_version in INFO server");
        let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (
            it.next().unwrap_or(0),
            it.next().unwrap_or(0),
            it.next().unwrap_or(0),
        )
    }

    /// True if this is a redis-server older than `major.minor` (features missing there
    /// must be skipped when validating against it; raftrocks always returns false).
    pub fn redis_older_than(&self, major: u32, minor: u32) -> bool {
        if !target_is_redis() {
            return false;
        }
        let (ma, mi, _) = self.version();
        (ma, mi) < (major, minor)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- server log tail ({}) ----\n{}\n---- end of server log ----",
                self.log_path.display(),
                self.log_tail(40)
            );
        }
        self.kill_child();
    }
}

/// Parses `INFO` output into (field, value) pairs (section headers and blanks skipped).
pub fn parse_info(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
        .collect()
}

pub fn info_field<'a>(info: &'a [(String, String)], name: &str) -> Option<&'a str> {
    info.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------------
// redis-crate helpers
// ---------------------------------------------------------------------------------------

pub type Conn = redis::aio::MultiplexedConnection;

/// Builds a command from string arguments.
pub fn cmd(args: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c
}

/// Builds a command from binary arguments.
pub fn cmd_bytes(args: &[&[u8]]) -> redis::Cmd {
    let mut c = redis::Cmd::new();
    for a in args {
        c.arg(*a);
    }
    c
}

/// Formats a server error the way it appears on the wire (without the leading `-`).
pub fn error_text(e: &redis::RedisError) -> Option<String> {
    let code = e.code()?;
    Some(match e.detail() {
        Some(d) => format!("{code} {d}"),
        None => code.to_string(),
    })
}

/// Runs a command; panics (with the command) on any error. The reply is converted to T.
pub async fn q<T: redis::FromRedisValue>(con: &mut Conn, args: &[&str]) -> T {
    match cmd(args).query_async::<T>(con).await {
        Ok(v) => v,
        Err(e) => panic!("{args:?} failed: {e}"),
    }
}

/// Runs a command and returns the raw reply value; panics on error replies.
pub async fn qv(con: &mut Conn, args: &[&str]) -> Value {
    q::<Value>(con, args).await
}

/// Runs a command that must fail with a server error; returns the error line
/// (e.g. `"ERR syntax error"`).
pub async fn qe(con: &mut Conn, args: &[&str]) -> String {
    match cmd(args).query_async::<Value>(con).await {
        Ok(v) => panic!("{args:?}: expected an error reply, got {v:?}"),
        Err(e) => error_text(&e).unwrap_or_else(|| panic!("{args:?}: not a server error: {e}")),
    }
}

/// Runs a command and returns Ok(reply) or Err(error line); panics on I/O errors.
pub async fn qr(con: &mut Conn, args: &[&str]) -> Result<Value, String> {
    match cmd(args).query_async::<Value>(con).await {
        Ok(v) => Ok(v),
        Err(e) => match error_text(&e) {
            Some(t) => Err(t),
            None => panic!("{args:?}: not a server error: {e}"),
        },
    }
}

pub fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

pub fn bulk_bytes(b: &[u8]) -> Value {
    Value::BulkString(b.to_vec())
}

pub fn int(i: i64) -> Value {
    Value::Int(i)
}

pub fn ok() -> Value {
    Value::Okay
}

pub fn nil() -> Value {
    Value::Nil
}

pub fn arr(v: Vec<Value>) -> Value {
    Value::Array(v)
}

pub fn bulks(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| bulk(s)).collect())
}

/// Converts a reply that is a (possibly RESP3) string into a Rust String.
pub fn value_to_string(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::VerbatimString { text, .. } => text.clone(),
        Value::Int(i) => i.to_string(),
        other => panic!("expected a string reply, got {other:?}"),
    }
}

/// Polls `$cond` (an expression, may contain `.await`) every 20 ms until it is true;
/// panics with `$what` if it is still false after `$timeout`.
#[macro_export]
macro_rules! eventually {
    ($timeout:expr, $what:expr, $cond:expr) => {{
        let __timeout: std::time::Duration = $timeout;
        let __deadline = std::time::Instant::now() + __timeout;
        loop {
            if $cond {
                break;
            }
            if std::time::Instant::now() > __deadline {
                panic!("timed out after {:?} waiting for: {}", __timeout, $what);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }};
}

// ---------------------------------------------------------------------------------------
// Raw RESP connection
// ---------------------------------------------------------------------------------------

/// A decoded RESP2/RESP3 reply, keeping the distinctions that matter on the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+...`
    Simple(String),
    /// `-...` (the text without the leading `-`)
    Error(String),
    /// `:...`
    Int(i64),
    /// `$n ...`
    Bulk(Vec<u8>),
    /// `$-1` (RESP2 null bulk)
    Nil,
    /// `*-1` (RESP2 null array)
    NilArray,
    /// `_` (RESP3 null)
    Null,
    /// `*n`
    Array(Vec<Reply>),
    /// `%n` (RESP3)
    Map(Vec<(Reply, Reply)>),
    /// `~n` (RESP3)
    Set(Vec<Reply>),
    /// `>n` (RESP3)
    Push(Vec<Reply>),
    /// `,...` (RESP3 double; the raw text)
    Double(String),
    /// `#t` / `#f`
    Boolean(bool),
    /// `(...` (RESP3 big number; the raw text)
    BigNumber(String),
    /// `=n fmt:...` (RESP3 verbatim string)
    Verbatim(String, Vec<u8>),
    /// `!n ...` (RESP3 blob error)
    BlobError(Vec<u8>),
    /// `|n` attributes followed by the actual reply
    Attribute(Vec<(Reply, Reply)>, Box<Reply>),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }

    pub fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    pub fn err(s: &str) -> Reply {
        Reply::Error(s.to_string())
    }

    /// Payload of a bulk / verbatim / simple string reply.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(b) | Reply::Verbatim(_, b) => Some(b),
            Reply::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<String> {
        self.as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reply::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Reply]> {
        match self {
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => Some(v),
            _ => None,
        }
    }

    /// Looks up a string key in a RESP3 map or a RESP2 flat key/value array.
    pub fn get(&self, key: &str) -> Option<&Reply> {
        match self {
            Reply::Map(kv) => kv
                .iter()
                .find(|(k, _)| k.as_str().as_deref() == Some(key))
                .map(|(_, v)| v),
            Reply::Array(items) => items
                .chunks(2)
                .find(|c| c.len() == 2 && c[0].as_str().as_deref() == Some(key))
                .map(|c| &c[1]),
            _ => None,
        }
    }
}

/// Encodes a command as a RESP multibulk.
pub fn encode_cmd<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the connection (EOF or reset) before a complete reply arrived.
    Closed(Vec<u8>),
    /// Nothing complete arrived within the timeout.
    Timeout(Vec<u8>),
    /// The bytes received are not valid RESP.
    Protocol(String),
}

pub struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
    timeout: Duration,
}

impl RawConn {
    pub fn connect(addr: SocketAddr) -> RawConn {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("raw connect to {addr}: {e}"));
        stream.set_nodelay(true).ok();
        RawConn {
            stream,
            buf: Vec::new(),
            timeout: REPLY_TIMEOUT,
        }
    }

    pub fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().unwrap()
    }

    /// Writes all bytes (panics on error).
    pub fn send(&mut self, data: &[u8]) {
        self.stream
            .write_all(data)
            .unwrap_or_else(|e| panic!("raw send failed: {e}"));
    }

    /// Writes all bytes, returning the I/O error instead of panicking.
    pub fn try_send(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(data)
    }

    /// Sends one command (as a RESP multibulk).
    pub fn send_cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let data = encode_cmd(args);
        self.send(&data);
    }

    /// Sends one command and reads its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        self.send_cmd(args);
        self.read_reply()
    }

    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Reads one complete reply; panics on timeout, close or malformed data.
    pub fn read_reply(&mut self) -> Reply {
        self.read_reply_raw().0
    }

    /// Reads one complete reply and also returns its exact bytes on the wire.
    pub fn read_reply_raw(&mut self) -> (Reply, Vec<u8>) {
        match self.try_read_reply_raw(self.timeout) {
            Ok(r) => r,
            Err(e) => panic!("read_reply: {e:?}"),
        }
    }

    pub fn try_read_reply(&mut self, timeout: Duration) -> Result<Reply, ReadError> {
        self.try_read_reply_raw(timeout).map(|r| r.0)
    }

    pub fn try_read_reply_raw(&mut self, timeout: Duration) -> Result<(Reply, Vec<u8>), ReadError> {
        let deadline = Instant::now() + timeout;
        loop {
            match parse_reply(&self.buf, 0) {
                Ok(Some((reply, used))) => {
                    let raw: Vec<u8> = self.buf.drain(..used).collect();
                    return Ok((reply, raw));
                }
                Ok(None) => {}
                Err(e) => return Err(ReadError::Protocol(e)),
            }
            match self.fill(deadline) {
                Fill::Data => {}
                Fill::Closed => return Err(ReadError::Closed(std::mem::take(&mut self.buf))),
                Fill::Timeout => return Err(ReadError::Timeout(self.buf.clone())),
            }
        }
    }

    /// Reads `n` replies (e.g. after a pipelined write).
    pub fn read_replies(&mut self, n: usize) -> Vec<Reply> {
        (0..n).map(|_| self.read_reply()).collect()
    }

    /// Reads everything until the server closes the connection; returns the bytes
    /// received (including any buffered, unparsed bytes). Panics if the connection is not
    /// closed within the timeout.
    pub fn read_until_closed(&mut self) -> Vec<u8> {
        let t = self.timeout;
        match self.try_read_until_closed(t) {
            Ok(b) => b,
            Err(b) => panic!(
                "connection not closed by the server within {t:?}; received {} bytes: {:?}",
                b.len(),
                String::from_utf8_lossy(&b[..b.len().min(300)])
            ),
        }
    }

    /// Ok(bytes) if the server closed the connection within `timeout`, Err(bytes) if not.
    pub fn try_read_until_closed(&mut self, timeout: Duration) -> Result<Vec<u8>, Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.fill(deadline) {
                Fill::Data => {}
                Fill::Closed => return Ok(std::mem::take(&mut self.buf)),
                Fill::Timeout => return Err(std::mem::take(&mut self.buf)),
            }
        }
    }

    /// Like `try_read_until_closed` but discards the data (for huge outputs); returns the
    /// number of bytes read, or None on timeout.
    pub fn drain_until_closed(&mut self, timeout: Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        let mut total = self.buf.len();
        self.buf.clear();
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            self.stream
                .set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))))
                .unwrap();
            match self.stream.read(&mut chunk) {
                Ok(0) => return Some(total),
                Ok(n) => total += n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return None
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Some(total),
            }
        }
    }

    fn fill(&mut self, deadline: Instant) -> Fill {
        let now = Instant::now();
        if now >= deadline {
            return Fill::Timeout;
        }
        self.stream
            .set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))))
            .unwrap();
        let mut chunk = [0u8; 16384];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Fill::Closed,
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Fill::Data;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Fill::Timeout
                }
                // ECONNRESET and friends: the server is gone / closed on us.
                Err(_) => return Fill::Closed,
            }
        }
    }
}

enum Fill {
    Data,
    Closed,
    Timeout,
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| p + from)
}

/// Parses one reply starting at `pos`. Ok(None) = incomplete.
fn parse_reply(buf: &[u8], pos: usize) -> Result<Option<(Reply, usize)>, String> {
    let Some(end) = find_crlf(buf, pos) else {
        return Ok(None);
    };
    if end == pos {
        return Err("empty reply line".into());
    }
    let kind = buf[pos];
    let line = String::from_utf8_lossy(&buf[pos + 1..end]).into_owned();
    let next = end + 2;
    let parse_len = |s: &str| -> Result<i64, String> {
        s.parse::<i64>().map_err(|_| format!("bad length {s:?}"))
    };
    let r = match kind {
        b'+' => (Reply::Simple(line), next),
        b'-' => (Reply::Error(line), next),
        b':' => (
            Reply::Int(line.parse().map_err(|_| format!("bad integer {line:?}"))?),
            next,
        ),
        b',' => (Reply::Double(line), next),
        b'(' => (Reply::BigNumber(line), next),
        b'#' => match line.as_str() {
            "t" => (Reply::Boolean(true), next),
            "f" => (Reply::Boolean(false), next),
            _ => return Err(format!("bad boolean {line:?}")),
        },
        b'_' => (Reply::Null, next),
        b'$' | b'=' | b'!' => {
            let n = parse_len(&line)?;
            if n < 0 {
                if kind != b'$' || n != -1 {
                    return Err(format!("bad bulk length {n}"));
                }
                (Reply::Nil, next)
            } else {
                let n = n as usize;
                if buf.len() < next + n + 2 {
                    return Ok(None);
                }
                if &buf[next + n..next + n + 2] != b"\r\n" {
                    return Err("bulk string not terminated by CRLF".into());
                }
                let data = buf[next..next + n].to_vec();
                let reply = match kind {
                    b'$' => Reply::Bulk(data),
                    b'!' => Reply::BlobError(data),
                    _ => {
                        if data.len() < 4 || data[3] != b':' {
                            return Err("bad verbatim string".into());
                        }
                        Reply::Verbatim(
                            String::from_utf8_lossy(&data[..3]).into_owned(),
                            data[4..].to_vec(),
                        )
                    }
                };
                (reply, next + n + 2)
            }
        }
        b'*' | b'~' | b'>' => {
            let n = parse_len(&line)?;
            if n < 0 {
                if kind != b'*' || n != -1 {
                    return Err(format!("bad aggregate length {n}"));
                }
                (Reply::NilArray, next)
            } else {
                let mut items = Vec::with_capacity((n as usize).min(1 << 16));
                let mut p = next;
                for _ in 0..n {
                    match parse_reply(buf, p)? {
                        Some((r, np)) => {
                            items.push(r);
                            p = np;
                        }
                        None => return Ok(None),
                    }
                }
                let reply = match kind {
                    b'*' => Reply::Array(items),
                    b'~' => Reply::Set(items),
                    _ => Reply::Push(items),
                };
                (reply, p)
            }
        }
        b'%' | b'|' => {
            let n = parse_len(&line)?;
            if n < 0 {
                return Err(format!("bad map length {n}"));
            }
            let mut kv = Vec::new();
            let mut p = next;
            for _ in 0..n {
                let Some((k, np)) = parse_reply(buf, p)? else {
                    return Ok(None);
                };
                let Some((v, np2)) = parse_reply(buf, np)? else {
                    return Ok(None);
                };
                kv.push((k, v));
                p = np2;
            }
            if kind == b'%' {
                (Reply::Map(kv), p)
            } else {
                let Some((inner, np)) = parse_reply(buf, p)? else {
                    return Ok(None);
                };
                (Reply::Attribute(kv, Box::new(inner)), np)
            }
        }
        other => {
            return Err(format!(
                "unexpected reply type byte {:?} in {:?}",
                other as char,
                String::from_utf8_lossy(&buf[pos..end.min(pos + 80)])
            ))
        }
    };
    Ok(Some(r))
}
