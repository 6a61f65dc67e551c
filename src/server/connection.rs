//! One client connection: read, parse, dispatch, write — with pipelining and bounded memory.
//!
//! The loop reads whatever the client sent, dispatches every complete command (writes are
//! proposed at once, see `dispatch`), then writes the replies in order. Memory is bounded on
//! both sides: the parser caps request sizes, and unsent replies are capped by the output
//! buffer limit — a client that does not read its replies is disconnected once they exceed the
//! hard limit (or the soft limit for too long); with no limit configured the connection stops
//! reading new commands until the client catches up.
//!
//! A pub/sub subscriber also gets messages from its outbox (`server::pubsub`): the loop wakes
//! when one is queued and moves it into the output buffer, bounded like Redis' `pubsub` output
//! class. In RESP2, a subscriber may only run the subscribe family, PING, QUIT and RESET.

use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;

use super::clients::ClientInfo;
use super::dispatch::{dispatch, run_now, Dispatch, Pending};
use super::pubsub::{PUBSUB_HARD_LIMIT, PUBSUB_SOFT_LIMIT, PUBSUB_SOFT_SECONDS};
use super::session::Session;
use crate::cmd::CommandSpec;
use crate::node::Node;
use crate::resp::{Frame, ParserLimits, Protocol, RequestParser};

/// Write replies to the socket once this much is buffered, even mid-pipeline.
const FLUSH_AT: usize = 64 * 1024;
/// With no hard limit configured, stop reading commands while this much is unsent.
const BACKPRESSURE_AT: usize = 4 * 1024 * 1024;
const READ_CHUNK: usize = 16 * 1024;
/// Move queued pub/sub messages into the output buffer while it holds less than this; the
/// rest waits in the outbox (whose payloads are shared between subscribers).
const DELIVER_AT: usize = 256 * 1024;
/// Commands a RESP2 client in subscriber mode may run (Redis `processCommand`).
const SUBSCRIBER_COMMANDS: &[&str] = &[
    "ping",
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "quit",
    "reset",
];

enum Close {
    /// The client went away or asked to (QUIT).
    Done,
    Io(io::Error),
    Protocol,
    OutputLimit,
    /// A subscriber's undelivered messages exceeded the pub/sub output limit.
    PubSubLimit,
    IdleTimeout,
    Killed,
}

/// Serves one registered client until it closes; the caller unregisters it.
pub async fn serve(node: Arc<Node>, stream: TcpStream, info: Arc<ClientInfo>) {
    let addr = info.addr.clone();
    let _ = stream.set_nodelay(true);
    let authenticated = node.runtime.read().requirepass.is_empty();
    let mut conn = Connection {
        node: node.clone(),
        stream,
        session: Session::new(info.clone(), authenticated),
        parser: RequestParser::new(limits(&node)),
        inbuf: BytesMut::with_capacity(READ_CHUNK),
        out: BytesMut::with_capacity(READ_CHUNK),
        pending: Vec::new(),
        over_soft_since: None,
        last_input: Instant::now(),
    };
    let why = conn.run().await;
    match why {
        Close::Done => tracing::debug!(%addr, "client closed the connection"),
        Close::Io(e) => tracing::debug!(%addr, error = %e, "connection error"),
        Close::Protocol => tracing::debug!(%addr, "closed after a protocol error"),
        Close::OutputLimit => {
            node.stats.output_limit_disconnections.fetch_add(1, Relaxed);
            tracing::warn!(%addr, "client disconnected: its unread replies exceeded client-output-buffer-limit (it sends faster than it reads)");
        }
        Close::PubSubLimit => {
            node.stats.output_limit_disconnections.fetch_add(1, Relaxed);
            tracing::warn!(%addr, "subscriber disconnected: its undelivered messages exceeded client-output-buffer-limit pubsub (32mb, or 8mb for 60s); it reads slower than messages are published");
        }
        Close::IdleTimeout => tracing::debug!(%addr, "closed idle connection (timeout)"),
        Close::Killed => tracing::info!(%addr, "connection closed by CLIENT KILL"),
    }
    let _ = conn.stream.shutdown().await;
}

fn limits(node: &Node) -> ParserLimits {
    ParserLimits {
        max_bulk_len: node.runtime.read().proto_max_bulk_len,
        ..ParserLimits::default()
    }
}

struct Connection {
    node: Arc<Node>,
    stream: TcpStream,
    session: Session,
    parser: RequestParser,
    inbuf: BytesMut,
    out: BytesMut,
    pending: Vec<Pending>,
    over_soft_since: Option<Instant>,
    last_input: Instant,
}

impl Connection {
    async fn run(&mut self) -> Close {
        loop {
            if let Err(close) = self.process_input().await {
                // Flush what we have (e.g. the protocol error reply) on a best-effort basis.
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), self.stream.write_all(&self.out))
                        .await;
                return close;
            }
            if self.session.close_after_reply {
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), self.stream.write_all(&self.out))
                        .await;
                return Close::Done;
            }
            if let Err(close) = self.deliver(DELIVER_AT) {
                return close;
            }
            if let Err(close) = self.check_output_limits() {
                return close;
            }
            if let Err(close) = self.wait_and_transfer().await {
                return close;
            }
        }
    }

    /// Dispatches every complete command in the input buffer.
    async fn process_input(&mut self) -> Result<(), Close> {
        // One clock read per command: each command's end is the next one's start.
        let mut started = Instant::now();
        loop {
            if self.out.len() >= FLUSH_AT {
                self.try_flush()?;
                self.check_output_limits()?;
                if self.out.len() >= self.backpressure_at() {
                    break;
                }
            }
            // Before AUTH, Redis caps requests at 10 arguments of 16 KiB: an unauthenticated
            // client cannot make us buffer much.
            self.parser.set_auth_required(!self.session.authenticated);
            let argv = match self.parser.next_command(&mut self.inbuf) {
                Ok(Some(argv)) => argv,
                Ok(None) => break,
                Err(e) => {
                    self.resolve_pending().await;
                    crate::resp::Frame::from(e).encode(self.session.protocol, &mut self.out);
                    self.node.stats.total_error_replies.fetch_add(1, Relaxed);
                    return Err(Close::Protocol);
                }
            };
            self.node.stats.commands_processed.fetch_add(1, Relaxed);
            // The parser never yields an empty argv; look the command up once.
            let spec = crate::cmd::lookup(&argv[0]);
            if let Some(spec) = spec {
                self.session
                    .info
                    .touch(crate::cmd::display_name(spec, &argv), started);
                if let Some(refused) = self.subscriber_refusal(spec, &argv) {
                    if let Some(s) = self.node.stats.command(spec.name) {
                        s.rejected.fetch_add(1, Relaxed);
                    }
                    self.pending.push(Pending::Ready(refused));
                    continue;
                }
            }
            match dispatch(&self.node, &mut self.session, spec, &argv).await {
                Dispatch::Queue(p) => {
                    self.pending.push(p);
                    if let Some(spec) = spec {
                        started = self.record(spec.name, started);
                    }
                }
                Dispatch::Now(spec) => {
                    self.resolve_pending().await;
                    // Messages queued so far go out before the reply, in the protocol they
                    // were published under (HELLO and RESET change it); those the command
                    // itself queues (subscribe confirmations, a PUBLISH to oneself) go out
                    // before its reply too, as in Redis.
                    self.deliver(usize::MAX)?;
                    let reply = if matches!(spec.handler, crate::cmd::Handler::Blocking(_)) {
                        self.run_blocking(spec, &argv).await?
                    } else {
                        run_now(&self.node, &mut self.session, spec, &argv).await
                    };
                    self.deliver(usize::MAX)?;
                    if reply.is_error() {
                        self.node.stats.total_error_replies.fetch_add(1, Relaxed);
                    }
                    started = self.record(spec.name, started);
                    if !std::mem::take(&mut self.session.suppress_reply) {
                        reply.encode(self.session.protocol, &mut self.out);
                    }
                    if self.session.close_after_reply {
                        return Ok(());
                    }
                }
            }
        }
        self.resolve_pending().await;
        Ok(())
    }

    /// Runs a command that may block: the replies before it are sent first (the client may
    /// be waiting for them), and the wait ends if the client disconnects or is killed.
    async fn run_blocking(
        &mut self,
        spec: &'static crate::cmd::CommandSpec,
        argv: &[bytes::Bytes],
    ) -> Result<crate::resp::Frame, Close> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await.map_err(Close::Io)?;
            let n = self.out.len() as u64;
            self.node.stats.net_output_bytes.fetch_add(n, Relaxed);
            self.out.clear();
        }
        let info = self.session.info.clone();
        tokio::select! {
            reply = run_now(&self.node, &mut self.session, spec, argv) => Ok(reply),
            closed = super::blocking::client_gone(&self.stream, &info) => {
                Err(if closed { Close::Done } else { Close::Killed })
            }
        }
    }

    /// Redis' error for a command a RESP2 subscriber may not run (checked after the command
    /// is known to exist and its arity is right).
    fn subscriber_refusal(
        &self,
        spec: &'static CommandSpec,
        argv: &[bytes::Bytes],
    ) -> Option<Frame> {
        if self.session.protocol != Protocol::Resp2
            || !self.session.pubsub.is_subscriber()
            || SUBSCRIBER_COMMANDS.contains(&spec.name)
            || !spec.arity_ok(argv.len())
        {
            return None;
        }
        Some(Frame::Error(
            format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                crate::cmd::display_name(spec, argv)
            )
            .into(),
        ))
    }

    /// Moves queued pub/sub messages into the output buffer until it holds `until` bytes.
    fn deliver(&mut self, until: usize) -> Result<(), Close> {
        let Some(outbox) = self.session.pubsub.outbox() else {
            return Ok(());
        };
        if outbox.drain_into(&mut self.out, self.session.protocol, until) {
            return Err(Close::PubSubLimit);
        }
        Ok(())
    }

    /// Counts a call of `name` that started at `started`; returns the time it ended.
    fn record(&self, name: &'static str, started: Instant) -> Instant {
        let now = Instant::now();
        if let Some(s) = self.node.stats.command(name) {
            s.calls.fetch_add(1, Relaxed);
            s.usec
                .fetch_add(now.duration_since(started).as_micros() as u64, Relaxed);
        }
        now
    }

    /// Waits for queued replies, in order, and encodes them.
    async fn resolve_pending(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            let reply = p.resolve(&self.node).await;
            if reply.is_error() {
                self.node.stats.total_error_replies.fetch_add(1, Relaxed);
            }
            reply.encode(self.session.protocol, &mut self.out);
        }
    }

    fn backpressure_at(&self) -> usize {
        let hard = self.node.runtime.read().client_output_buffer_limit.hard as usize;
        if hard > 0 {
            hard.saturating_add(1)
        } else {
            BACKPRESSURE_AT
        }
    }

    fn check_output_limits(&mut self) -> Result<(), Close> {
        let mut limit = self.node.runtime.read().client_output_buffer_limit;
        let mut unsent = self.out.len() as u64;
        if let Some(outbox) = self.session.pubsub.outbox() {
            outbox.set_unsent(self.out.len());
            if self.session.pubsub.is_subscriber() {
                // Redis' `pubsub` client class; its hard limit is also enforced by publishers.
                unsent += outbox.queued_bytes() as u64;
                limit.hard = PUBSUB_HARD_LIMIT as u64;
                limit.soft = PUBSUB_SOFT_LIMIT as u64;
                limit.soft_seconds = PUBSUB_SOFT_SECONDS;
            }
        }
        self.session.info.output_buf.store(unsent, Relaxed);
        let over = if self.session.pubsub.is_subscriber() {
            Close::PubSubLimit
        } else {
            Close::OutputLimit
        };
        if limit.hard > 0 && unsent > limit.hard {
            return Err(over);
        }
        if limit.soft > 0 && unsent > limit.soft {
            let since = *self.over_soft_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= Duration::from_secs(limit.soft_seconds) {
                return Err(over);
            }
        } else {
            self.over_soft_since = None;
        }
        Ok(())
    }

    /// Writes as much as the socket takes without blocking.
    fn try_flush(&mut self) -> Result<(), Close> {
        while !self.out.is_empty() {
            match self.stream.try_write(&self.out) {
                Ok(0) => return Err(Close::Done),
                Ok(n) => {
                    self.node
                        .stats
                        .net_output_bytes
                        .fetch_add(n as u64, Relaxed);
                    self.out.advance(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(Close::Io(e)),
            }
        }
        Ok(())
    }

    /// Waits until the socket can be read (more commands) or written (unsent replies), the
    /// client is killed, or it has been idle too long; then moves bytes.
    async fn wait_and_transfer(&mut self) -> Result<(), Close> {
        self.try_flush()?;
        let outbox = self.session.pubsub.outbox().cloned();
        if let Some(o) = &outbox {
            if self.out.len() < DELIVER_AT && o.has_queued() {
                // More messages to move: go round again, letting other tasks run first.
                tokio::task::yield_now().await;
                return Ok(());
            }
        }
        let want_read = self.out.len() < self.backpressure_at();
        let want_write = !self.out.is_empty();
        let mut interest = if want_read {
            Interest::READABLE
        } else {
            Interest::WRITABLE
        };
        if want_read && want_write {
            interest |= Interest::WRITABLE;
        }
        let idle = self.node.runtime.read().timeout;
        // Like Redis, the idle timeout does not apply to subscribers (they may only listen).
        let idle_deadline = if idle > 0 && !self.session.pubsub.is_subscriber() {
            Some(self.last_input + Duration::from_secs(idle))
        } else {
            None
        };
        // While replies are stuck, wake up now and then to re-check the soft limit.
        let tick = if want_write {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(3600)
        };
        let info = self.session.info.clone();
        let ready = tokio::select! {
            r = self.stream.ready(interest) => r.map_err(Close::Io)?,
            _ = info.killed() => return Err(Close::Killed),
            _ = sleep_until_opt(idle_deadline) => return Err(Close::IdleTimeout),
            _ = tokio::time::sleep(tick) => return Ok(()),
            _ = outbox_wait(outbox.as_deref()) => return Ok(()),
        };
        if info.is_killed() {
            return Err(Close::Killed);
        }
        if ready.is_writable() {
            self.try_flush()?;
        }
        if ready.is_readable() && want_read {
            self.inbuf.reserve(READ_CHUNK);
            match self.stream.try_read_buf(&mut self.inbuf) {
                Ok(0) => return Err(Close::Done),
                Ok(n) => {
                    self.node.stats.net_input_bytes.fetch_add(n as u64, Relaxed);
                    self.last_input = Instant::now();
                    self.session
                        .info
                        .query_buf
                        .store(self.inbuf.len() as u64, Relaxed);
                    // CONFIG SET proto-max-bulk-len applies to new requests.
                    self.parser.set_limits(limits(&self.node));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(Close::Io(e)),
            }
        }
        Ok(())
    }
}

async fn outbox_wait(outbox: Option<&super::pubsub::Outbox>) {
    match outbox {
        Some(o) => o.wait().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}
