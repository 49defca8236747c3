//! Connectors that fetch calls over the network (the parsing itself is pure, in the domain crate).
//!
//! - [`aides_territoires`]: the Aides-territoires API (token, pages, retries);
//! - [`fetch_bytes`]: one document (an RSS or Atom feed) over HTTP(S).

pub mod aides_territoires;
mod fetch;
pub use fetch::fetch_bytes;
