//! Integration tests of the gRPC transport: real tonic servers started with
//! `vigie_platform::grpc::serve` on loopback, real clients from
//! `vigie_platform::grpc::client`, TLS with a certificate authority generated
//! in the test (`vigie_testkit::TestCa`). Silent unless `TEST_LOG=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod limits;
mod nodelay;
mod statuses;
mod tls;
