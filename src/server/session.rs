//! Per-connection state that commands read and change.

use std::sync::Arc;

use bytes::Bytes;

use super::clients::ClientInfo;
use crate::cmd::CommandSpec;
use crate::raft::types::WatchedKey;
use crate::resp::Protocol;

/// A transaction being queued (between MULTI and EXEC/DISCARD).
#[derive(Default)]
pub struct MultiState {
    /// The queued commands, checked for existence and arity.
    pub queued: Vec<(&'static CommandSpec, Vec<Bytes>)>,
    /// A command was refused while queueing: EXEC replies EXECABORT.
    pub aborted: bool,
}

pub struct Session {
    pub id: u64,
    /// Logical database (SELECT).
    pub db: u8,
    pub protocol: Protocol,
    pub authenticated: bool,
    /// READONLY: the client accepts reads from replicas.
    pub readonly: bool,
    /// ASKING: the next command may touch an importing slot.
    pub asking: bool,
    /// Close the connection once the current reply is written (QUIT).
    pub close_after_reply: bool,
    /// Send nothing for the current command (SHUTDOWN closes without a reply, as Redis).
    pub suppress_reply: bool,
    /// Pub/sub subscriptions and the outbox the connection delivers messages from.
    pub pubsub: super::pubsub::ClientPubSub,
    /// Shared with the client registry (CLIENT LIST / KILL).
    pub info: Arc<ClientInfo>,
    /// Some between MULTI and EXEC/DISCARD.
    pub multi: Option<MultiState>,
    /// Keys WATCHed since the last EXEC/DISCARD/UNWATCH, with their fingerprints.
    pub watched: Vec<WatchedKey>,
}

impl Session {
    pub fn new(info: Arc<ClientInfo>, authenticated: bool) -> Session {
        Session {
            id: info.id,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            readonly: false,
            asking: false,
            close_after_reply: false,
            suppress_reply: false,
            pubsub: Default::default(),
            info,
            multi: None,
            watched: Vec::new(),
        }
    }
}
