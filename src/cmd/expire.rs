//! Active expiry, apply side: deletes keys the leader found expired.
//!
//! The leader scans the expiry index and proposes `ExpireKeys`; every replica re-checks each
//! key against the entry's clock before deleting it, so a key that was overwritten or given a
//! new TTL in between is left alone, and a stale index entry is just dropped.

use bytes::Bytes;

use super::CmdResult;
use crate::cluster::key_slot;
use crate::resp::Frame;
use crate::storage::keys::expire_key;
use crate::storage::keyspace::WriteCtx;
use crate::storage::Cf;

pub fn apply_expire(ctx: &mut WriteCtx<'_>, keys: &[(u8, u64, Bytes)]) -> CmdResult {
    let mut removed = 0;
    for (pdb, deadline, key) in keys {
        match ctx.load(*pdb, key)? {
            Some(m) if m.expire_ms == *deadline && m.is_expired(ctx.now_ms) => {
                ctx.remove(*pdb, key, &m);
                removed += 1;
            }
            Some(m) if m.expire_ms == *deadline => {}
            // Key gone or its deadline changed: the index entry is stale.
            _ => ctx
                .overlay
                .delete(Cf::Expire, expire_key(key_slot(key), *deadline, *pdb, key)),
        }
    }
    Ok(Frame::Integer(removed))
}

/// Active expiry, leader side: every group this node leads periodically looks for expired keys
/// in its expiry index and proposes their deletion. Runs until `shutdown` fires.
pub async fn run_active_expiry(
    node: std::sync::Arc<crate::node::Node>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::Duration;

    use crate::raft::{WriteOp, WriteRequest};
    use crate::storage::keyspace::{collect_expired, unix_ms};

    const BATCH: usize = 512;
    let mut interval = Duration::from_millis(100);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
        let mut busy = false;
        for group in &node.groups {
            if !group.is_leader() {
                continue;
            }
            let now = unix_ms();
            let keys = collect_expired(&node.storage, &group.ranges, now, BATCH);
            if keys.is_empty() {
                continue;
            }
            busy |= keys.len() == BATCH;
            let req = WriteRequest {
                now_ms: now,
                max_value_len: 0,
                op: WriteOp::ExpireKeys { keys },
            };
            match group.propose(req).await {
                Ok(reply) => match reply.await {
                    Ok(Frame::Integer(n)) => {
                        node.stats.expired_keys.fetch_add(n as u64, Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(group = %group.id, error = %e, "active expiry round not applied")
                    }
                },
                Err(e) => {
                    tracing::debug!(group = %group.id, error = %e, "active expiry proposal refused")
                }
            }
        }
        // Keep going quickly while there is a backlog, relax when idle.
        interval = if busy {
            Duration::from_millis(10)
        } else {
            Duration::from_millis(100)
        };
    }
}
