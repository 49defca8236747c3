//! Transport security against real servers started by each test, with a CA
//! the test generates: PostgreSQL with `ssl=on` (or off), nats-server with
//! TLS, mutual TLS and nkey users. Each test proves both sides: the right
//! settings get in, anything else is refused (no silent cleartext).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod nats_tls;
mod postgres_tls;
