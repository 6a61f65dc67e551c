//! Generates the gRPC code for proto/*.proto with a vendored protoc, so building needs no
//! system protoc.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    tonic_prost_build::configure()
        .compile_protos(&["proto/raft.proto", "proto/admin.proto"], &["proto"])?;
    Ok(())
}
