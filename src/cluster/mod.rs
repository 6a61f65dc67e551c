//! Cluster view of the keyspace: hashing keys to slots and slots to slot groups.
//!
//! Every data key belongs to exactly one slot and every slot to exactly one slot group (one Raft
//! group). A single node owns all slot groups; the multi-node cluster builds on the same map.

pub mod map;
pub mod slot;
pub mod topology;

pub use slot::{key_slot, SlotId, SLOT_COUNT};
pub use topology::{GroupId, Topology};
