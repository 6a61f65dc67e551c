//! Raft: one openraft group per slot group, logs and state machines in the node's RocksDB.
//!
//! - `types`: the type configuration and the log entry payload ([`WriteRequest`]);
//! - `log_store`: the per-group log in the shared `raft_log` column family;
//! - `log_cache`: the newest entries of a log in memory, so applying and replicating them
//!   does not read them back from RocksDB;
//! - `syncer`: node-wide group commit (one WAL fsync for many appends of many groups);
//! - `state_machine`: applies entries through the command layer's executor;
//! - `snapshot`: snapshot transfer (the stream's format, staging, crash-safe install);
//! - `network`: the transport of a single node (no peers);
//! - `grpc` / `rpc_server`: the transport between nodes (client side / server side);
//! - `group`: propose / read-barrier for the command layer.

pub mod group;
pub mod grpc;
mod log_cache;
pub mod log_store;
pub mod network;
pub mod rpc_server;
pub mod snapshot;
pub mod state_machine;
pub mod syncer;
pub mod types;

#[cfg(test)]
mod tests;

pub use group::{Group, GroupError, RaftTuning};
pub use syncer::Syncer;
pub use types::{NodeInfo, TypeConfig, WriteOp, WriteRequest};
