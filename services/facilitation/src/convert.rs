//! Conversions between protobuf dates and domain dates (shared, in `vigie-proto`).

pub use vigie_proto::dates::{date_from_pb, date_to_pb};
