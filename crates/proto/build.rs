//! Compiles `proto/` with protox (pure Rust, no system `protoc`) and generates
//! tonic services plus a file descriptor set for gRPC server reflection.

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = [
        "vigie/common/v1/common.proto",
        "vigie/inventory/v1/inventory.proto",
        "vigie/training/v1/training.proto",
        "vigie/facilitation/v1/facilitation.proto",
        "vigie/alerting/v1/alerting.proto",
        "vigie/events/v1/events.proto",
        "vigie/federation/v1/federation.proto",
    ];
    for file in &files {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }
    let fds = protox::compile(files, [&root])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("vigie_descriptor.bin"), prost::Message::encode_to_vec(&fds))?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
