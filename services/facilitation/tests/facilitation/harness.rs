//! One isolated facilitation service per test — a SQLite file in a
//! temporary directory or a fresh PostgreSQL database — with a clock the
//! scenarios move: the service's own test harness
//! (`vigie_facilitation::testing`), shared with the cross-service scenarios
//! of `tests/`.

pub use vigie_facilitation::testing::TestFacilitation as Harness;
pub use vigie_facilitation::testing::*;
