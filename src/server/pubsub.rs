//! The node's pub/sub registry: which connections listen to which channels, patterns and shard
//! channels, and the bounded per-connection queues messages are delivered into.
//!
//! Pub/sub is not replicated (Redis does not persist it either): [`PubSub::publish`] and
//! [`PubSub::spublish`] deliver to *this node's* subscribers and are the entry points a cluster
//! will call when it forwards a PUBLISH from another node (see docs/pubsub.md).
//!
//! Delivery never blocks a publisher: each subscribing connection owns an [`Outbox`] (a queue
//! of shared, already-built push frames) that its connection task drains into its socket. An
//! outbox that would grow past the pub/sub output limit is emptied and marked overflowed; the
//! connection then closes, as Redis does for `client-output-buffer-limit pubsub 32mb 8mb 60`.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;
use tokio::sync::Notify;

use crate::cmd::glob::glob_match;
use crate::resp::{Frame, Protocol};

/// Redis' default `client-output-buffer-limit pubsub 32mb 8mb 60`: a subscriber whose
/// undelivered output exceeds the hard limit, or the soft limit for `PUBSUB_SOFT_SECONDS`, is
/// disconnected.
pub const PUBSUB_HARD_LIMIT: usize = 32 << 20;
pub const PUBSUB_SOFT_LIMIT: usize = 8 << 20;
pub const PUBSUB_SOFT_SECONDS: u64 = 60;

/// The three independent subscription spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE: glob patterns matched against PUBLISH channels.
    Pattern,
    /// SSUBSCRIBE / SPUBLISH: channels hashed to slots like keys.
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "subscribe",
            Kind::Pattern => "psubscribe",
            Kind::Shard => "ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static str {
        match self {
            Kind::Channel => "unsubscribe",
            Kind::Pattern => "punsubscribe",
            Kind::Shard => "sunsubscribe",
        }
    }
}

/// One subscriber's queue of undelivered frames (messages and subscription confirmations).
pub struct Outbox {
    client: u64,
    queue: Mutex<Queue>,
    /// Woken when the queue becomes non-empty or overflows.
    notify: Notify,
    /// Bytes sitting in the connection's own output buffer (it updates this), counted
    /// against the hard limit together with the queue, as Redis counts one output buffer.
    unsent: AtomicUsize,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<(Arc<Frame>, usize)>,
    bytes: usize,
    overflowed: bool,
}

impl Outbox {
    fn new(client: u64) -> Outbox {
        Outbox {
            client,
            queue: Mutex::new(Queue::default()),
            notify: Notify::new(),
            unsent: AtomicUsize::new(0),
        }
    }

    /// Queues a frame of (approximately) `size` wire bytes; drops it and marks the outbox
    /// overflowed when the subscriber's undelivered output would exceed the hard limit.
    fn push(&self, frame: Arc<Frame>, size: usize) {
        let mut q = self.queue.lock();
        if q.overflowed {
            return;
        }
        let unsent = self.unsent.load(Relaxed);
        if q.bytes.saturating_add(unsent).saturating_add(size) > PUBSUB_HARD_LIMIT {
            // Free the backlog now: the connection closes at its next wake-up.
            q.items = VecDeque::new();
            q.bytes = 0;
            q.overflowed = true;
            drop(q);
            self.notify.notify_one();
            return;
        }
        let was_empty = q.items.is_empty();
        q.items.push_back((frame, size));
        q.bytes += size;
        drop(q);
        // The connection drains until the queue is empty or its buffer is full (then it waits
        // for the socket, not for us): only the empty -> non-empty edge needs a wake-up.
        if was_empty {
            self.notify.notify_one();
        }
    }

    /// Encodes queued frames into `out` until it holds at least `until` bytes (all of them
    /// with `usize::MAX`). Returns true if the outbox overflowed: the client must be closed.
    pub fn drain_into(&self, out: &mut BytesMut, proto: Protocol, until: usize) -> bool {
        let mut batch = Vec::new();
        {
            let mut q = self.queue.lock();
            if q.overflowed {
                return true;
            }
            let mut planned = out.len();
            while planned < until {
                let Some((frame, size)) = q.items.pop_front() else {
                    break;
                };
                q.bytes -= size;
                planned = planned.saturating_add(size);
                batch.push(frame);
            }
        }
        // Encode outside the lock: publishers only ever wait for a queue push.
        for frame in batch {
            frame.encode(proto, out);
        }
        self.unsent.store(out.len(), Relaxed);
        false
    }

    /// Undelivered bytes in the queue.
    pub fn queued_bytes(&self) -> usize {
        self.queue.lock().bytes
    }

    pub fn has_queued(&self) -> bool {
        let q = self.queue.lock();
        !q.items.is_empty() || q.overflowed
    }

    pub fn is_overflowed(&self) -> bool {
        self.queue.lock().overflowed
    }

    /// Records how much the connection has buffered but not yet written.
    pub fn set_unsent(&self, bytes: usize) {
        self.unsent.store(bytes, Relaxed);
    }

    /// Resolves once something was queued (or the outbox overflowed) since the last call.
    pub async fn wait(&self) {
        self.notify.notified().await
    }
}

/// Subscribers of one channel or pattern, by client id.
type Subscribers = FxHashMap<u64, Arc<Outbox>>;

#[derive(Default)]
struct Registry {
    channels: FxHashMap<Bytes, Subscribers>,
    patterns: FxHashMap<Bytes, Subscribers>,
    shard: FxHashMap<Bytes, Subscribers>,
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut FxHashMap<Bytes, Subscribers> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    fn get(&self, kind: Kind) -> &FxHashMap<Bytes, Subscribers> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }
}

/// The node-wide registry. PUBLISH takes the read lock (many publishers run in parallel);
/// (un)subscribing takes the write lock briefly.
#[derive(Default)]
pub struct PubSub {
    registry: RwLock<Registry>,
}

/// Approximate wire size of a push of bulk strings (RESP2 and RESP3 differ by a byte or two).
fn push_size(parts: &[&[u8]]) -> usize {
    parts.iter().map(|p| p.len() + 16).sum::<usize>() + 8
}

fn message_frame(
    kind: &'static str,
    pattern: Option<&Bytes>,
    channel: &Bytes,
    msg: &Bytes,
) -> (Arc<Frame>, usize) {
    let mut items = vec![Frame::bulk(kind)];
    let mut size = push_size(&[kind.as_bytes(), channel, msg]);
    if let Some(p) = pattern {
        items.push(Frame::Bulk(p.clone()));
        size += p.len() + 16;
    }
    items.push(Frame::Bulk(channel.clone()));
    items.push(Frame::Bulk(msg.clone()));
    (Arc::new(Frame::Push(items)), size)
}

impl PubSub {
    /// PUBLISH, delivered to this node's subscribers: channel subscribers get `message`, each
    /// matching pattern's subscribers get `pmessage`. Returns the number of deliveries (a
    /// client subscribed to the channel and to a matching pattern counts twice, as in Redis).
    pub fn publish(&self, channel: &Bytes, msg: &Bytes) -> usize {
        let reg = self.registry.read();
        let mut receivers = 0;
        if let Some(subs) = reg.channels.get(channel) {
            let (frame, size) = message_frame("message", None, channel, msg);
            for outbox in subs.values() {
                outbox.push(frame.clone(), size);
            }
            receivers += subs.len();
        }
        for (pattern, subs) in &reg.patterns {
            if !glob_match(pattern, channel, false) {
                continue;
            }
            let (frame, size) = message_frame("pmessage", Some(pattern), channel, msg);
            for outbox in subs.values() {
                outbox.push(frame.clone(), size);
            }
            receivers += subs.len();
        }
        receivers
    }

    /// SPUBLISH, delivered to this node's subscribers of the shard channel (`smessage`).
    pub fn spublish(&self, channel: &Bytes, msg: &Bytes) -> usize {
        let reg = self.registry.read();
        let Some(subs) = reg.shard.get(channel) else {
            return 0;
        };
        let (frame, size) = message_frame("smessage", None, channel, msg);
        for outbox in subs.values() {
            outbox.push(frame.clone(), size);
        }
        subs.len()
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: names with at least one subscriber, optionally
    /// filtered by a glob pattern.
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let reg = self.registry.read();
        reg.get(kind)
            .keys()
            .filter(|name| pattern.is_none_or(|p| glob_match(p, name, false)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB for one name (pattern subscribers are not counted).
    pub fn subscribers(&self, kind: Kind, name: &[u8]) -> usize {
        self.registry
            .read()
            .get(kind)
            .get(name)
            .map_or(0, |s| s.len())
    }

    /// Distinct channels, patterns and shard channels with subscribers (INFO stats,
    /// PUBSUB NUMPAT).
    pub fn counts(&self) -> (usize, usize, usize) {
        let reg = self.registry.read();
        (reg.channels.len(), reg.patterns.len(), reg.shard.len())
    }

    fn add(&self, kind: Kind, name: &Bytes, outbox: &Arc<Outbox>) {
        self.registry
            .write()
            .map(kind)
            .entry(name.clone())
            .or_default()
            .insert(outbox.client, outbox.clone());
    }

    fn remove(&self, kind: Kind, name: &[u8], client: u64) {
        let mut reg = self.registry.write();
        let map = reg.map(kind);
        if let Some(subs) = map.get_mut(name) {
            subs.remove(&client);
            if subs.is_empty() {
                map.remove(name);
            }
        }
    }
}

/// One connection's subscriptions (lives in its `Session`). Dropping it unsubscribes
/// everything, so a closed (or panicked) connection leaves nothing behind in the registry.
#[derive(Default)]
pub struct ClientPubSub {
    /// Set on the first (un)subscribe: the registry and this client's outbox.
    attached: Option<(Arc<PubSub>, Arc<Outbox>)>,
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
    shard: BTreeSet<Bytes>,
}

impl ClientPubSub {
    fn set(&mut self, kind: Kind) -> &mut BTreeSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// True while the client has any subscription: Redis' "subscriber mode" (RESP2 clients
    /// may then only (un)subscribe, PING, QUIT and RESET; pub/sub output limits apply).
    pub fn is_subscriber(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }

    /// (channels, patterns, shard channels) this client is subscribed to.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.channels.len(), self.patterns.len(), self.shard.len())
    }

    /// The outbox the connection drains, once the client has used pub/sub.
    pub fn outbox(&self) -> Option<&Arc<Outbox>> {
        self.attached.as_ref().map(|(_, o)| o)
    }

    /// The count a confirmation reports: channels + patterns, or shard channels (Redis 7.0
    /// counts shard subscriptions separately).
    fn reported(&self, kind: Kind) -> i64 {
        let n = match kind {
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
            Kind::Shard => self.shard.len(),
        };
        n as i64
    }

    fn attach(&mut self, hub: &Arc<PubSub>, client: u64) -> (Arc<PubSub>, Arc<Outbox>) {
        let (h, o) = self
            .attached
            .get_or_insert_with(|| (hub.clone(), Arc::new(Outbox::new(client))));
        (h.clone(), o.clone())
    }

    /// (P|S)SUBSCRIBE: subscribes to each name and queues one confirmation per name (a
    /// repeated name is confirmed again without counting twice).
    pub fn subscribe(&mut self, hub: &Arc<PubSub>, client: u64, kind: Kind, names: &[Bytes]) {
        let (hub, outbox) = self.attach(hub, client);
        for name in names {
            let new = self.set(kind).insert(name.clone());
            // Queue the confirmation before registering, so no message can overtake it.
            confirm(
                &outbox,
                kind.subscribe_word(),
                Some(name),
                self.reported(kind),
            );
            if new {
                hub.add(kind, name, &outbox);
            }
        }
    }

    /// (P|S)UNSUBSCRIBE: unsubscribes from each name (from all when `names` is empty) and
    /// queues one confirmation per name; with nothing to unsubscribe from, one confirmation
    /// with a nil name.
    pub fn unsubscribe(&mut self, hub: &Arc<PubSub>, client: u64, kind: Kind, names: &[Bytes]) {
        let (hub, outbox) = self.attach(hub, client);
        let names: Vec<Bytes> = if names.is_empty() {
            self.set(kind).iter().cloned().collect()
        } else {
            names.to_vec()
        };
        if names.is_empty() {
            confirm(&outbox, kind.unsubscribe_word(), None, self.reported(kind));
            return;
        }
        for name in &names {
            if self.set(kind).remove(name) {
                // Unregister first: messages already queued stay before the confirmation.
                hub.remove(kind, name, client);
            }
            confirm(
                &outbox,
                kind.unsubscribe_word(),
                Some(name),
                self.reported(kind),
            );
        }
    }

    /// Drops every subscription without confirmations (RESET, connection close). Messages
    /// already queued are still delivered.
    pub fn clear(&mut self) {
        let Some((hub, outbox)) = &self.attached else {
            return;
        };
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            let set = std::mem::take(match kind {
                Kind::Channel => &mut self.channels,
                Kind::Pattern => &mut self.patterns,
                Kind::Shard => &mut self.shard,
            });
            for name in set {
                hub.remove(kind, &name, outbox.client);
            }
        }
    }
}

impl Drop for ClientPubSub {
    fn drop(&mut self) {
        self.clear();
    }
}

fn confirm(outbox: &Outbox, word: &'static str, name: Option<&Bytes>, count: i64) {
    let name_frame = name.map_or(Frame::Null, |n| Frame::Bulk(n.clone()));
    let size = push_size(&[word.as_bytes(), name.map_or(&[][..], |n| n)]) + 24;
    let frame = Frame::Push(vec![Frame::bulk(word), name_frame, Frame::Integer(count)]);
    outbox.push(Arc::new(frame), size);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn drain(o: &Outbox) -> String {
        let mut out = BytesMut::new();
        assert!(!o.drain_into(&mut out, Protocol::Resp2, usize::MAX));
        String::from_utf8_lossy(&out).replace("\r\n", " ")
    }

    #[test]
    fn subscribe_publish_unsubscribe() {
        let hub = Arc::new(PubSub::default());
        let mut c = ClientPubSub::default();
        c.subscribe(&hub, 1, Kind::Channel, &[b("a"), b("b"), b("a")]);
        c.subscribe(&hub, 1, Kind::Pattern, &[b("a*")]);
        let o = c.outbox().unwrap().clone();
        assert_eq!(
            drain(&o),
            "*3 $9 subscribe $1 a :1 *3 $9 subscribe $1 b :2 *3 $9 subscribe $1 a :2 \
             *3 $10 psubscribe $2 a* :3 "
        );
        assert_eq!(hub.publish(&b("a"), &b("hi")), 2);
        assert_eq!(hub.publish(&b("zz"), &b("hi")), 0);
        assert_eq!(
            drain(&o),
            "*3 $7 message $1 a $2 hi *4 $8 pmessage $2 a* $1 a $2 hi "
        );
        assert_eq!(hub.counts(), (2, 1, 0));
        c.unsubscribe(&hub, 1, Kind::Channel, &[]);
        assert_eq!(
            drain(&o),
            "*3 $11 unsubscribe $1 a :2 *3 $11 unsubscribe $1 b :1 "
        );
        c.unsubscribe(&hub, 1, Kind::Channel, &[]);
        assert_eq!(drain(&o), "*3 $11 unsubscribe $-1 :1 ");
        assert!(c.is_subscriber());
        drop(c);
        assert_eq!(hub.counts(), (0, 0, 0));
        assert_eq!(hub.publish(&b("a"), &b("hi")), 0);
    }

    #[test]
    fn shard_channels_are_counted_apart() {
        let hub = Arc::new(PubSub::default());
        let mut c = ClientPubSub::default();
        c.subscribe(&hub, 7, Kind::Channel, &[b("x")]);
        c.subscribe(&hub, 7, Kind::Shard, &[b("x"), b("y")]);
        let o = c.outbox().unwrap().clone();
        drain(&o);
        assert_eq!(hub.spublish(&b("x"), &b("m")), 1);
        assert_eq!(drain(&o), "*3 $8 smessage $1 x $1 m ");
        assert_eq!(hub.subscribers(Kind::Shard, b"y"), 1);
        assert_eq!(hub.subscribers(Kind::Channel, b"y"), 0);
        let mut shard = hub.active(Kind::Shard, None);
        shard.sort();
        assert_eq!(shard, vec![b("x"), b("y")]);
        c.clear();
        assert!(!c.is_subscriber());
        assert_eq!(hub.counts(), (0, 0, 0));
    }

    #[test]
    fn overflow_drops_the_backlog_and_is_reported() {
        let hub = Arc::new(PubSub::default());
        let mut c = ClientPubSub::default();
        c.subscribe(&hub, 3, Kind::Channel, &[b("big")]);
        let o = c.outbox().unwrap().clone();
        let payload = Bytes::from(vec![b'x'; 1 << 20]);
        for _ in 0..40 {
            // Publishing never blocks and keeps counting the subscriber.
            assert_eq!(hub.publish(&b("big"), &payload), 1);
        }
        assert!(o.is_overflowed());
        assert_eq!(o.queued_bytes(), 0);
        let mut out = BytesMut::new();
        assert!(o.drain_into(&mut out, Protocol::Resp2, usize::MAX));
    }

    #[test]
    fn partial_drain_stops_at_the_threshold() {
        let hub = Arc::new(PubSub::default());
        let mut c = ClientPubSub::default();
        c.subscribe(&hub, 3, Kind::Channel, &[b("c")]);
        let o = c.outbox().unwrap().clone();
        drain(&o);
        let payload = Bytes::from(vec![b'x'; 1000]);
        for _ in 0..10 {
            hub.publish(&b("c"), &payload);
        }
        let mut out = BytesMut::new();
        o.drain_into(&mut out, Protocol::Resp3, 2500);
        assert!(out.starts_with(b">3\r\n$7\r\nmessage"));
        assert!(o.has_queued());
        assert!(o.queued_bytes() > 0 && o.queued_bytes() < 10 * 1000);
    }
}
