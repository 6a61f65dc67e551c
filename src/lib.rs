//! raftrocks: a Redis-compatible, disk-native key-value service in which every write is
//! replicated through Raft before it is acknowledged.
//!
//! Request flow (docs/architecture.md): `server` (sockets, sessions) -> `resp` (frames) ->
//! `cmd` (command table, handlers) -> `cluster` (slot -> slot group) -> `raft` (propose /
//! read barrier) -> `storage` (Redis types encoded in RocksDB).

pub mod cluster;
pub mod cmd;
pub mod config;
pub mod node;
pub mod proto;
pub mod raft;
pub mod rdb;
pub mod resp;
pub mod server;
pub mod storage;

pub use node::Node;
