//! Durability across crashes (kill -9) and graceful restarts (SIGTERM). raftrocks only:
//! against redis-server these tests are skipped (set `RAFTROCKS_TEST_REDIS_AOF=1` to run
//! them against redis with `appendfsync always`, which checks the tests themselves).

#[macro_use]
mod common;

use common::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn durable_server(test: &str) -> Option<TestServer> {
    if !target_is_redis() {
        return Some(TestServer::start());
    }
    if matches!(
        std::env::var("RAFTROCKS_TEST_REDIS_AOF").as_deref(),
        Ok("1")
    ) {
        return Some(TestServer::builder().redis_durable().start());
    }
    eprintln!("{test}: skipped on redis");
    None
}

/// Per-op timeout for writers: generous, but bounded so a hung server fails the test.
const OP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default, Debug)]
struct WriterLog {
    /// Indexes i for which `SET w{t}:k{i} v{t}:{i}` was acknowledged.
    sets: Vec<u64>,
    /// Indexes i for which `MSET w{t}:m{i}:a i w{t}:m{i}:b i w{t}:last i` was acknowledged.
    msets: Vec<u64>,
    /// Last acknowledged INCR result on `w{t}:ctr` (0 = none).
    incr_acked: i64,
    /// Whether an INCR was in flight when the connection broke.
    incr_inflight: bool,
    /// The MSET index in flight when the connection broke, if any.
    mset_inflight: Option<u64>,
}

/// Error replies are bugs, not crash effects (a killed server sends nothing): fail.
fn fail_on_server_error(e: &redis::RedisError, what: &str) {
    if let Some(text) = error_text(e) {
        panic!("{what} failed with an error reply: {text}");
    }
}

async fn writer(mut c: Conn, t: usize, stop: Arc<AtomicBool>, acked: Arc<AtomicU64>) -> WriterLog {
    let mut log = WriterLog::default();
    let mut i: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        match i % 3 {
            0 => {
                let r = tokio::time::timeout(
                    OP_TIMEOUT,
                    cmd(&["SET", &format!("w{t}:k{i}"), &format!("v{t}:{i}")])
                        .query_async::<Value>(&mut c),
                )
                .await;
                match r {
                    Ok(Ok(v)) => {
                        assert_eq!(v, Value::Okay, "SET reply");
                        log.sets.push(i);
                    }
                    Ok(Err(e)) => {
                        fail_on_server_error(&e, "SET");
                        break;
                    }
                    Err(_) => break,
                }
            }
            1 => {
                let r = tokio::time::timeout(
                    OP_TIMEOUT,
                    cmd(&["INCR", &format!("w{t}:ctr")]).query_async::<Value>(&mut c),
                )
                .await;
                match r {
                    Ok(Ok(Value::Int(n))) => {
                        assert_eq!(n, log.incr_acked + 1, "INCR results must be consecutive");
                        log.incr_acked = n;
                    }
                    Ok(Ok(other)) => panic!("INCR returned {other:?}"),
                    Ok(Err(e)) => {
                        fail_on_server_error(&e, "INCR");
                        log.incr_inflight = true;
                        break;
                    }
                    Err(_) => {
                        log.incr_inflight = true;
                        break;
                    }
                }
            }
            _ => {
                let s = i.to_string();
                let r = tokio::time::timeout(
                    OP_TIMEOUT,
                    cmd(&[
                        "MSET",
                        &format!("w{t}:m{i}:a"),
                        &s,
                        &format!("w{t}:m{i}:b"),
                        &s,
                        &format!("w{t}:last"),
                        &s,
                    ])
                    .query_async::<Value>(&mut c),
                )
                .await;
                match r {
                    Ok(Ok(v)) => {
                        assert_eq!(v, Value::Okay, "MSET reply");
                        log.msets.push(i);
                    }
                    Ok(Err(e)) => {
                        fail_on_server_error(&e, "MSET");
                        log.mset_inflight = Some(i);
                        break;
                    }
                    Err(_) => {
                        log.mset_inflight = Some(i);
                        break;
                    }
                }
            }
        }
        acked.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
    log
}

/// A raw-protocol writer that keeps up to `BATCH` INCRs in flight on `p:ctr`.
/// Returns (acknowledged value, number of INCRs sent).
fn pipelined_incr_writer(
    addr: std::net::SocketAddr,
    password: Option<String>,
    stop: Arc<AtomicBool>,
) -> (i64, i64) {
    const BATCH: usize = 50;
    let mut c = RawConn::connect(addr);
    if let Some(pw) = password {
        assert_eq!(c.cmd(&["AUTH", &pw]), Reply::ok());
    }
    let batch = encode_cmd(&["INCR", "p:ctr"]).repeat(BATCH);
    let (mut acked, mut sent) = (0i64, 0i64);
    'outer: while !stop.load(Ordering::Relaxed) {
        sent += BATCH as i64; // counted before writing: a partial write may still land
        if c.try_send(&batch).is_err() {
            break;
        }
        for _ in 0..BATCH {
            match c.try_read_reply(OP_TIMEOUT) {
                Ok(Reply::Int(n)) => {
                    assert_eq!(n, acked + 1, "pipelined INCR replies must be consecutive");
                    acked = n;
                }
                Ok(other) => panic!("pipelined INCR returned {other:?}"),
                Err(_) => break 'outer,
            }
        }
    }
    (acked, sent)
}

async fn mget_chunked(c: &mut Conn, keys: &[String]) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(500) {
        let mut m = redis::cmd("MGET");
        for k in chunk {
            m.arg(k);
        }
        let vals: Vec<Option<String>> = m.query_async(c).await.expect("MGET after restart");
        out.extend(vals);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill9() {
    let Some(mut srv) = durable_server("acknowledged_writes_survive_kill9") else {
        return;
    };
    const WRITERS: usize = 4;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));

    let mut tasks = Vec::new();
    for t in 0..WRITERS {
        let c = srv.client().await;
        tasks.push(tokio::spawn(writer(c, t, stop.clone(), acked.clone())));
    }
    let pipelined = {
        let (addr, pw, stop) = (srv.addr(), srv.password().map(str::to_string), stop.clone());
        std::thread::spawn(move || pipelined_incr_writer(addr, pw, stop))
    };

    // Let them run for a while: until 4000 acknowledged ops or 4 s, whichever comes first
    // (but at least until a few ops went through, bounded by 60 s).
    let start = Instant::now();
    loop {
        let n = acked.load(Ordering::Relaxed);
        let t = start.elapsed();
        if n >= 4000 || (t >= Duration::from_secs(4) && n >= 40) {
            break;
        }
        if tasks.iter().any(|h| h.is_finished()) || pipelined.is_finished() {
            // A writer stopped before the crash: surface its panic, if any.
            stop.store(true, Ordering::Relaxed);
            for task in tasks {
                if let Err(e) = task.await {
                    if e.is_panic() {
                        std::panic::resume_unwind(e.into_panic());
                    }
                }
            }
            if let Err(p) = pipelined.join() {
                std::panic::resume_unwind(p);
            }
            panic!("a writer lost its connection before the server was killed");
        }
        assert!(
            t < Duration::from_secs(60),
            "writers made no progress: {n} ops in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Crash the server in the middle of the write stream.
    srv.kill9();
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for task in tasks {
        let log = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("writer did not stop after the crash")
            .expect("writer panicked");
        logs.push(log);
    }
    let (p_acked, p_sent) = pipelined.join().expect("pipelined writer panicked");
    eprintln!(
        "acknowledged before kill -9: {} ops from {WRITERS} writers, {p_acked} pipelined INCRs",
        acked.load(Ordering::Relaxed)
    );

    srv.restart();
    let mut c = srv.client().await;

    for (t, log) in logs.iter().enumerate() {
        // Every acknowledged SET is there with its value.
        let keys: Vec<String> = log.sets.iter().map(|i| format!("w{t}:k{i}")).collect();
        let vals = mget_chunked(&mut c, &keys).await;
        for (i, v) in log.sets.iter().zip(vals) {
            assert_eq!(
                v.as_deref(),
                Some(format!("v{t}:{i}").as_str()),
                "acknowledged SET w{t}:k{i} lost"
            );
        }
        // Every acknowledged MSET is there, completely.
        let keys: Vec<String> = log
            .msets
            .iter()
            .flat_map(|i| [format!("w{t}:m{i}:a"), format!("w{t}:m{i}:b")])
            .collect();
        let vals = mget_chunked(&mut c, &keys).await;
        for (k, v) in keys.iter().zip(vals) {
            let i = k.split(':').nth(1).unwrap().trim_start_matches('m');
            assert_eq!(v.as_deref(), Some(i), "acknowledged MSET key {k} lost");
        }
        // The in-flight MSET is all-or-nothing.
        if let Some(i) = log.mset_inflight {
            let v = mget_chunked(&mut c, &[format!("w{t}:m{i}:a"), format!("w{t}:m{i}:b")]).await;
            assert!(v[0] == v[1], "in-flight MSET applied partially: {v:?}");
        }
        // `last` is at least the last acknowledged MSET, at most the in-flight one.
        let last: Option<u64> = q(&mut c, &["GET", &format!("w{t}:last")]).await;
        let lo = log.msets.last().copied();
        let hi = log.mset_inflight.or(lo);
        assert!(
            last >= lo && last <= hi,
            "w{t}:last = {last:?}, acknowledged {lo:?}, max {hi:?}"
        );
        // Counter: acknowledged <= value <= acknowledged + in flight.
        let v: Option<i64> = q(&mut c, &["GET", &format!("w{t}:ctr")]).await;
        let v = v.unwrap_or(0);
        let hi = log.incr_acked + log.incr_inflight as i64;
        assert!(
            v >= log.incr_acked && v <= hi,
            "w{t}:ctr = {v}, acknowledged {}, max {hi}",
            log.incr_acked
        );
    }
    let v: Option<i64> = q(&mut c, &["GET", "p:ctr"]).await;
    let v = v.unwrap_or(0);
    assert!(
        v >= p_acked && v <= p_sent,
        "p:ctr = {v}, acknowledged {p_acked}, sent {p_sent}"
    );

    // And the server takes writes again.
    let before: Option<i64> = q(&mut c, &["GET", "w0:ctr"]).await;
    assert_eq!(
        qv(&mut c, &["INCR", "w0:ctr"]).await,
        int(before.unwrap_or(0) + 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_keys_survive_kill9() {
    let Some(mut srv) = durable_server("twenty_thousand_keys_survive_kill9") else {
        return;
    };
    let mut c = srv.client().await;
    let n = 20_000;
    let mut pipe = redis::pipe();
    for batch in 0..n / 100 {
        let mut m = redis::cmd("MSET");
        for i in batch * 100..(batch + 1) * 100 {
            m.arg(format!("key:{i:05}")).arg(format!("value-{i}"));
        }
        pipe.add_command(m);
    }
    let replies: Vec<Value> = pipe.query_async(&mut c).await.expect("MSET batches");
    assert!(
        replies.iter().all(|r| *r == Value::Okay),
        "all MSETs acknowledged"
    );
    // Some keys in another db, with a TTL.
    let mut c5 = srv.client_db(5).await;
    for i in 0..100 {
        assert_eq!(
            qv(
                &mut c5,
                &["SET", &format!("db5:{i}"), &i.to_string(), "EX", "100000"]
            )
            .await,
            ok()
        );
    }
    assert_eq!(qv(&mut c, &["DBSIZE"]).await, int(n as i64));
    drop(c);
    drop(c5);

    srv.kill9();
    srv.restart();

    let mut c = srv.client().await;
    assert_eq!(qv(&mut c, &["DBSIZE"]).await, int(n as i64));
    let keys: Vec<String> = (0..n).map(|i| format!("key:{i:05}")).collect();
    let vals = mget_chunked(&mut c, &keys).await;
    for (i, v) in vals.into_iter().enumerate() {
        assert_eq!(v, Some(format!("value-{i}")), "key:{i:05} after kill -9");
    }
    let mut c5 = srv.client_db(5).await;
    assert_eq!(qv(&mut c5, &["DBSIZE"]).await, int(100));
    assert_eq!(qv(&mut c5, &["GET", "db5:42"]).await, bulk("42"));
    let t: i64 = q(&mut c5, &["TTL", "db5:42"]).await;
    assert!(t > 99_000 && t <= 100_000, "TTL after restart: {t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_crash_restart_cycles() {
    let Some(mut srv) = durable_server("repeated_crash_restart_cycles") else {
        return;
    };
    let per_cycle = 1000;
    for cycle in 0..3 {
        let mut c = srv.client().await;
        // Everything from previous cycles is still there.
        assert_eq!(
            qv(&mut c, &["DBSIZE"]).await,
            int((cycle * per_cycle + cycle) as i64)
        );
        for prev in 0..cycle {
            assert_eq!(
                qv(&mut c, &["GET", &format!("c{prev}:999")]).await,
                bulk("999")
            );
            assert_eq!(
                qv(&mut c, &["GET", &format!("counter{prev}")]).await,
                bulk(&per_cycle.to_string())
            );
        }
        let mut pipe = redis::pipe();
        for i in 0..per_cycle {
            pipe.cmd("SET").arg(format!("c{cycle}:{i}")).arg(i).ignore();
            pipe.cmd("INCR").arg(format!("counter{cycle}")).ignore();
        }
        let _: () = pipe.query_async(&mut c).await.expect("writes");
        drop(c);
        srv.kill9();
        srv.restart();
    }
    let mut c = srv.client().await;
    assert_eq!(
        qv(&mut c, &["DBSIZE"]).await,
        int((3 * per_cycle + 3) as i64)
    );
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_restart_keeps_data_and_expiry() {
    let Some(mut srv) = durable_server("graceful_restart_keeps_data_and_expiry") else {
        return;
    };
    let mut c = srv.client().await;

    assert_eq!(qv(&mut c, &["SET", "plain", "v"]).await, ok());
    assert_eq!(
        qv(&mut c, &["SET", "long_ttl", "v", "EX", "100000"]).await,
        ok()
    );
    let long_at: i64 = q(&mut c, &["PEXPIRETIME", "long_ttl"]).await;
    assert_eq!(
        qv(&mut c, &["SET", "short_ttl", "v", "PX", "200"]).await,
        ok()
    );
    assert_eq!(
        qv(&mut c, &["SET", "expires_while_down", "v", "PX", "2000"]).await,
        ok()
    );
    let down_at: i64 = q(&mut c, &["PEXPIRETIME", "expires_while_down"]).await;
    assert_eq!(qv(&mut c, &["SET", "deleted", "v"]).await, ok());
    assert_eq!(qv(&mut c, &["DEL", "deleted"]).await, int(1));
    assert_eq!(
        qv(&mut c, &["SET", "persisted", "v", "EX", "1"]).await,
        ok()
    );
    assert_eq!(qv(&mut c, &["PERSIST", "persisted"]).await, int(1));
    for _ in 0..100 {
        let _: i64 = q(&mut c, &["INCR", "counter"]).await;
    }
    assert_eq!(qv(&mut c, &["SELECT", "9"]).await, ok());
    assert_eq!(qv(&mut c, &["SET", "in9", "nine"]).await, ok());
    assert_eq!(qv(&mut c, &["SELECT", "0"]).await, ok());
    eventually!(
        Duration::from_secs(10),
        "short_ttl to expire",
        qv(&mut c, &["EXISTS", "short_ttl"]).await == int(0)
    );
    drop(c);

    // Graceful shutdown.
    let status = srv.terminate(Duration::from_secs(60));
    assert!(status.success(), "server exited with {status} on SIGTERM");

    // Make sure the key that expires while the server is down has really expired.
    while now_ms() <= down_at + 50 {
        std::thread::sleep(Duration::from_millis(20));
    }

    for round in ["after SIGTERM restart", "after kill -9 restart"] {
        srv.restart();
        let mut c = srv.client().await;
        assert_eq!(qv(&mut c, &["GET", "plain"]).await, bulk("v"), "{round}");
        assert_eq!(qv(&mut c, &["GET", "long_ttl"]).await, bulk("v"), "{round}");
        assert_eq!(
            qv(&mut c, &["PEXPIRETIME", "long_ttl"]).await,
            int(long_at),
            "{round}: expiry time changed"
        );
        assert_eq!(
            qv(&mut c, &["GET", "short_ttl"]).await,
            nil(),
            "{round}: expired key came back"
        );
        assert_eq!(
            qv(&mut c, &["EXISTS", "short_ttl"]).await,
            int(0),
            "{round}"
        );
        assert_eq!(
            qv(&mut c, &["GET", "expires_while_down"]).await,
            nil(),
            "{round}"
        );
        assert_eq!(
            qv(&mut c, &["TTL", "expires_while_down"]).await,
            int(-2),
            "{round}"
        );
        assert_eq!(
            qv(&mut c, &["GET", "deleted"]).await,
            nil(),
            "{round}: deleted key came back"
        );
        assert_eq!(
            qv(&mut c, &["TTL", "persisted"]).await,
            int(-1),
            "{round}: PERSIST lost"
        );
        assert_eq!(
            qv(&mut c, &["GET", "counter"]).await,
            bulk("100"),
            "{round}"
        );
        let keys: Vec<String> = {
            let mut k: Vec<String> = q(&mut c, &["KEYS", "*"]).await;
            k.sort();
            k
        };
        assert_eq!(
            keys,
            ["counter", "long_ttl", "persisted", "plain"],
            "{round}"
        );
        let mut c9 = srv.client_db(9).await;
        assert_eq!(qv(&mut c9, &["GET", "in9"]).await, bulk("nine"), "{round}");
        drop(c);
        drop(c9);
        srv.kill9();
    }
}
