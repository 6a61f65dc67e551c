//! The context of a read command: the keyspace at the leader's current time.

use crate::cluster::{key_slot, SlotId};
use crate::node::Node;
use crate::storage::keys::meta_key;
use crate::storage::{Cf, Metadata, Storage, StorageError};

pub struct ReadCtx<'a> {
    pub node: &'a Node,
    /// Logical database selected by the client.
    pub db: u8,
    /// The leader's clock: keys with a deadline at or before it are invisible.
    pub now_ms: u64,
}

impl<'a> ReadCtx<'a> {
    pub fn storage(&self) -> &'a Storage {
        &self.node.storage
    }

    /// The physical database byte of the client's database within `slot`'s group.
    pub fn pdb(&self, slot: SlotId) -> u8 {
        self.node.physical_db(slot, self.db)
    }

    /// The live metadata of `key` (None if absent or expired).
    pub fn get(&self, key: &[u8]) -> Result<Option<Metadata>, StorageError> {
        let slot = key_slot(key);
        let found = match self
            .storage()
            .get(Cf::Meta, &meta_key(slot, self.pdb(slot), key))?
        {
            Some(raw) => {
                let m = Metadata::decode(&raw)?;
                (!m.is_expired(self.now_ms)).then_some(m)
            }
            None => None,
        };
        let counter = if found.is_some() {
            &self.node.stats.keyspace_hits
        } else {
            &self.node.stats.keyspace_misses
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(found)
    }
}
