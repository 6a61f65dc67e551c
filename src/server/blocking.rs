//! Blocked clients: who waits for which keys, and waking them when an applied batch changes
//! one of those keys.
//!
//! The state machines report changed keys through [`KeyEvents`] (a [`KeyListener`]) after each
//! batch is written. A blocked command registers its keys *before* each attempt, so a change
//! that lands between the attempt and the wait is never lost (the wake-up is stored as a
//! permit in the waiter's `Notify`).
//!
//! Order: Redis serves blocked clients first come, first served. Waiters whose attempt
//! consumes (BLPOP, BZPOPMIN, BLMOVE, XREADGROUP: write attempts) are woken one at a time per
//! key, oldest first; when the woken one leaves (served, timed out, disconnected) the next is
//! woken to try in turn. Waiters whose attempt only reads (XREAD) are all woken on every
//! change: a read takes nothing from the others.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::clients::ClientInfo;
use crate::raft::state_machine::KeyListener;

/// A key as the state machine sees it: (group, physical db, key).
pub type WaitKey = (u64, u8, Bytes);

/// Node-wide registry of blocked clients.
#[derive(Default)]
pub struct KeyEvents {
    /// Registered waiters; read without the lock by every applied batch.
    active: AtomicUsize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Waiters per key, in arrival order.
    queues: HashMap<WaitKey, VecDeque<Arc<Waiter>>>,
    next_id: u64,
}

struct Waiter {
    id: u64,
    group: u64,
    /// Its attempt takes something (a write): served one at a time, oldest first.
    consumes: bool,
    notify: Notify,
}

/// Wakes the waiters of one key: every reader, and the oldest consumer.
fn wake_queue(q: &VecDeque<Arc<Waiter>>) {
    let mut consumer_woken = false;
    for w in q {
        if !w.consumes {
            w.notify.notify_one();
        } else if !consumer_woken {
            w.notify.notify_one();
            consumer_woken = true;
        }
    }
}

impl KeyEvents {
    /// Registers interest in `keys` until the returned registration is dropped.
    pub fn register(self: &Arc<Self>, keys: Vec<WaitKey>, consumes: bool) -> Registration {
        let group = keys.first().map(|k| k.0).unwrap_or(0);
        let mut inner = self.inner.lock();
        inner.next_id += 1;
        let waiter = Arc::new(Waiter {
            id: inner.next_id,
            group,
            consumes,
            notify: Notify::new(),
        });
        for k in &keys {
            inner
                .queues
                .entry(k.clone())
                .or_default()
                .push_back(waiter.clone());
        }
        // Before the attempt reads anything: pairs with the fence in `waiting` (a batch
        // written after this either sees the waiter or was visible to the attempt).
        self.active.fetch_add(1, Ordering::SeqCst);
        drop(inner);
        Registration {
            events: self.clone(),
            waiter,
            keys,
        }
    }

    /// Blocked clients right now (INFO clients could show it).
    pub fn blocked(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    fn unregister(&self, waiter: &Arc<Waiter>, keys: &[WaitKey]) {
        let mut inner = self.inner.lock();
        for k in keys {
            let Some(q) = inner.queues.get_mut(k) else {
                continue;
            };
            let first_consumer = q.iter().find(|w| w.consumes).map(|w| w.id);
            q.retain(|w| w.id != waiter.id);
            if q.is_empty() {
                inner.queues.remove(k);
            } else if first_consumer == Some(waiter.id) {
                // It may have been woken for a change it did not take (timeout, disconnect)
                // or taken one of several new elements: the next in line tries.
                if let Some(next) = q.iter().find(|w| w.consumes) {
                    next.notify.notify_one();
                }
            }
        }
        self.active.fetch_sub(1, Ordering::SeqCst);
    }
}

impl KeyListener for KeyEvents {
    fn waiting(&self) -> bool {
        fence(Ordering::SeqCst);
        self.active.load(Ordering::SeqCst) > 0
    }

    fn changed(&self, group: u64, keys: &[(u8, Vec<u8>)], all: bool) {
        let inner = self.inner.lock();
        if all {
            for (k, q) in &inner.queues {
                if k.0 == group {
                    wake_queue(q);
                }
            }
            return;
        }
        for (pdb, key) in keys {
            // The map is keyed by Bytes; a borrowed lookup would need a custom key type, and
            // this runs only while clients are blocked.
            let k = (group, *pdb, Bytes::copy_from_slice(key));
            if let Some(q) = inner.queues.get(&k) {
                wake_queue(q);
            }
        }
    }
}

/// A blocked client's interest in its keys; dropping it (served, timed out, disconnected,
/// the connection task cancelled) removes it.
pub struct Registration {
    events: Arc<KeyEvents>,
    waiter: Arc<Waiter>,
    keys: Vec<WaitKey>,
}

impl Registration {
    pub fn keys(&self) -> &[WaitKey] {
        &self.keys
    }

    /// Resolves once one of the keys changed since the registration (or the last call).
    pub async fn changed(&self) {
        self.waiter.notify.notified().await
    }

    /// The group of the first key.
    pub fn group(&self) -> u64 {
        self.waiter.group
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.events.unregister(&self.waiter, &self.keys);
    }
}

/// Resolves when a blocked client goes away: it closed its connection (true) or was killed
/// (false). Bytes it sends meanwhile stay unread for after the reply (pipelined commands);
/// once some are pending a close can no longer be told from them, and only a kill ends
/// the wait early.
pub async fn client_gone(stream: &TcpStream, info: &ClientInfo) -> bool {
    let mut b = [0u8; 1];
    tokio::select! {
        r = stream.peek(&mut b) => match r {
            Ok(0) | Err(_) => true,
            Ok(_) => {
                info.killed().await;
                false
            }
        },
        _ = info.killed() => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn key(k: &str) -> WaitKey {
        (1, 0, Bytes::copy_from_slice(k.as_bytes()))
    }

    async fn woken(r: &Registration) -> bool {
        tokio::time::timeout(Duration::from_millis(50), r.changed())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn consumers_are_woken_in_arrival_order_and_readers_always() {
        let ev = Arc::new(KeyEvents::default());
        assert!(!ev.waiting());
        let a = ev.register(vec![key("k")], true);
        let b = ev.register(vec![key("k")], true);
        let r = ev.register(vec![key("k")], false);
        assert!(ev.waiting());
        ev.changed(1, &[(0, b"other".to_vec())], false);
        assert!(!woken(&a).await);
        ev.changed(1, &[(0, b"k".to_vec())], false);
        assert!(woken(&a).await);
        assert!(!woken(&b).await);
        assert!(woken(&r).await);
        // The first consumer leaves: the next one gets its turn.
        drop(a);
        assert!(woken(&b).await);
        // Another group's changes do not wake anyone.
        ev.changed(2, &[], true);
        assert!(!woken(&b).await);
        ev.changed(1, &[], true);
        assert!(woken(&b).await);
        drop(b);
        drop(r);
        assert!(!ev.waiting());
        assert!(ev.inner.lock().queues.is_empty());
    }

    #[tokio::test]
    async fn a_change_before_the_wait_is_not_lost() {
        let ev = Arc::new(KeyEvents::default());
        let a = ev.register(vec![key("k"), key("j")], true);
        ev.changed(1, &[(0, b"j".to_vec())], false);
        assert!(woken(&a).await);
        assert_eq!(a.keys().len(), 2);
    }
}
