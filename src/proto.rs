//! Generated gRPC types and services (see proto/ and build.rs).

#[allow(clippy::all, missing_docs)]
pub mod raft {
    tonic::include_proto!("raftrocks.raft");
}

#[allow(clippy::all, missing_docs)]
pub mod admin {
    tonic::include_proto!("raftrocks.admin");
}
