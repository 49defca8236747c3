//! One isolated training service per test — a SQLite file in a temporary
//! directory or a fresh PostgreSQL database — with a fixed clock: the
//! service's own test harness (`vigie_training::testing`), shared with the
//! cross-service scenarios of `tests/`.

pub use vigie_training::testing::{
    catalogue, date, demo_catalogue, seated, set, snapshot, today, TestTraining as Harness,
};
