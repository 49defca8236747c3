//! Integration tests of OIDC token validation and of the authentication
//! layer: a real issuer on loopback (`vigie_testkit::OidcIssuer`, serving
//! discovery and JWKS over HTTP and signing with real RSA and P-256 keys), a
//! real tonic server behind `AuthLayer` and a real tonic client sending
//! `authorization` metadata. Silent unless `TEST_LOG=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod accepted;
mod claims;
mod discovery;
mod id_token;
mod keys;
mod layer;
mod rejected;
