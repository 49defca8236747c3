//! Generated protobuf and gRPC types of Vigie.
//!
//! The sources live in `proto/` at the repository root; they are compiled by
//! `build.rs` with protox, so no system `protoc` is needed.
#![allow(missing_docs, clippy::all)]

/// Types shared by every API.
pub mod common {
    pub mod v1 {
        tonic::include_proto!("vigie.common.v1");
    }
}

/// The inventory service API.
pub mod inventory {
    pub mod v1 {
        tonic::include_proto!("vigie.inventory.v1");
    }
}

/// The training service API.
pub mod training {
    pub mod v1 {
        tonic::include_proto!("vigie.training.v1");
    }
}

/// The facilitation service API.
pub mod facilitation {
    pub mod v1 {
        tonic::include_proto!("vigie.facilitation.v1");
    }
}

/// The alerting service API.
pub mod alerting {
    pub mod v1 {
        tonic::include_proto!("vigie.alerting.v1");
    }
}

/// Event payloads carried over the event backbone.
pub mod events {
    pub mod v1 {
        tonic::include_proto!("vigie.events.v1");
    }
}

/// Encoded `FileDescriptorSet` of every Vigie proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vigie_descriptor.bin"));
