//! Registry of connected clients, for CLIENT LIST / INFO / KILL and INFO clients.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::Notify;

/// What CLIENT LIST shows about one connection.
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub created: Instant,
    pub name: Mutex<String>,
    pub lib_name: Mutex<String>,
    pub lib_ver: Mutex<String>,
    pub last_cmd: Mutex<std::borrow::Cow<'static, str>>,
    pub db: AtomicU8,
    pub resp: AtomicU8,
    /// Milliseconds since `created` of the last command.
    pub last_active_ms: AtomicU64,
    pub query_buf: AtomicU64,
    pub output_buf: AtomicU64,
    pub no_evict: AtomicBool,
    pub no_touch: AtomicBool,
    /// Subscribed channels, patterns and shard channels (CLIENT LIST sub/psub/ssub).
    pub subscriptions: [AtomicU64; 3],
    killed: AtomicBool,
    kill: Notify,
    /// A blocking command's wait, for CLIENT UNBLOCK and the `b` flag.
    block: Mutex<BlockState>,
    unblock: Notify,
}

/// How CLIENT UNBLOCK ends a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblock {
    /// As if the timeout had passed (the command's null reply).
    Timeout,
    /// With `-UNBLOCKED client unblocked via CLIENT UNBLOCK`.
    Error,
}

#[derive(Default)]
struct BlockState {
    /// A blocking command has found nothing and waits (between its attempts too).
    blocked: bool,
    /// CLIENT UNBLOCK asked to end the wait.
    request: Option<Unblock>,
}

impl ClientInfo {
    /// Asks the connection to close (CLIENT KILL); it closes at its next wake-up.
    pub fn kill(&self) {
        self.killed.store(true, Relaxed);
        self.kill.notify_one();
    }

    /// Marks the client blocked (its command waits for keys) or not; leaving drops any
    /// CLIENT UNBLOCK request that came too late to matter.
    pub fn set_blocked(&self, blocked: bool) {
        let mut b = self.block.lock();
        b.blocked = blocked;
        if !blocked {
            b.request = None;
        }
    }

    pub fn is_blocked(&self) -> bool {
        self.block.lock().blocked
    }

    /// CLIENT UNBLOCK: ends the wait of a blocked client. False if it is not blocked (or is
    /// already being unblocked), as Redis replies 0.
    pub fn unblock(&self, how: Unblock) -> bool {
        let mut b = self.block.lock();
        if !b.blocked || b.request.is_some() {
            return false;
        }
        b.request = Some(how);
        self.unblock.notify_one();
        true
    }

    /// Resolves when CLIENT UNBLOCK asks this client's wait to end.
    pub async fn unblocked(&self) -> Unblock {
        loop {
            if let Some(how) = self.block.lock().request.take() {
                return how;
            }
            self.unblock.notified().await;
        }
    }

    /// True while the client has a pub/sub subscription (CLIENT LIST TYPE pubsub).
    pub fn is_subscriber(&self) -> bool {
        self.subscriptions.iter().any(|n| n.load(Relaxed) > 0)
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Relaxed)
    }

    pub async fn killed(&self) {
        if self.is_killed() {
            return;
        }
        self.kill.notified().await
    }

    /// Records activity; `cmd` is the command name, or `container|subcommand` (CLIENT LIST
    /// shows `cmd=client|info` like Redis).
    pub fn touch(&self, cmd: std::borrow::Cow<'static, str>, now: std::time::Instant) {
        self.last_active_ms.store(
            now.saturating_duration_since(self.created).as_millis() as u64,
            Relaxed,
        );
        *self.last_cmd.lock() = cmd;
    }

    /// One CLIENT LIST line (without the trailing newline), in Redis 7's field order.
    pub fn render(&self) -> String {
        let age = self.created.elapsed().as_secs();
        let idle = self
            .created
            .elapsed()
            .as_millis()
            .saturating_sub(self.last_active_ms.load(Relaxed) as u128)
            / 1000;
        let mut flags = String::new();
        if self.is_blocked() {
            flags.push('b');
        }
        if self.is_subscriber() {
            flags.push('P');
        }
        if self.no_evict.load(Relaxed) {
            flags.push('e');
        }
        if self.no_touch.load(Relaxed) {
            flags.push('T');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi=-1 qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.name.lock(),
            age,
            idle,
            flags,
            self.db.load(Relaxed),
            self.subscriptions[0].load(Relaxed),
            self.subscriptions[1].load(Relaxed),
            self.subscriptions[2].load(Relaxed),
            self.query_buf.load(Relaxed),
            self.output_buf.load(Relaxed),
            self.last_cmd.lock(),
            self.resp.load(Relaxed),
            self.lib_name.lock(),
            self.lib_ver.lock(),
        )
    }
}

#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
}

impl ClientRegistry {
    pub fn register(&self, addr: String, laddr: String) -> Arc<ClientInfo> {
        let id = self.next_id.fetch_add(1, Relaxed) + 1;
        let info = Arc::new(ClientInfo {
            id,
            addr,
            laddr,
            created: Instant::now(),
            name: Mutex::new(String::new()),
            lib_name: Mutex::new(String::new()),
            lib_ver: Mutex::new(String::new()),
            last_cmd: Mutex::new(std::borrow::Cow::Borrowed("NULL")),
            db: AtomicU8::new(0),
            resp: AtomicU8::new(2),
            last_active_ms: AtomicU64::new(0),
            query_buf: AtomicU64::new(0),
            output_buf: AtomicU64::new(0),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            subscriptions: Default::default(),
            killed: AtomicBool::new(false),
            kill: Notify::new(),
            block: Mutex::new(BlockState::default()),
            unblock: Notify::new(),
        });
        self.clients.lock().insert(id, info.clone());
        info
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    pub fn count(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().get(&id).cloned()
    }
}
