//! Cross-service contracts, in process: two services on their own databases
//! of the same backend (SQLite, then PostgreSQL), each built by its own test
//! harness, exchanging the real envelopes of their outboxes through the
//! consumers they describe — as `vigie` wires them, without a broker.
//!
//! Here, not in a service's own suite, because a service crate depends on no
//! other service crate, not even for its tests (docs/architecture.md).

mod facilitation_inventory;
mod layout;
mod training_inventory;

use std::sync::Arc;

use anyhow::Result;
use chrono::NaiveDate;
use vigie_inventory::testing::TestInventory;
use vigie_testkit::{on_both_backends, Backend};

/// A real inventory on its own database of `backend`, its days told by
/// `today` (the harness's beside it).
async fn inventory(backend: Backend, today: fn() -> NaiveDate) -> Result<TestInventory> {
    TestInventory::start(backend, Arc::new(today)).await
}

on_both_backends!(training_inventory in training_sqlite, training_postgres
    for vigie_training::testing::TestTraining:
    a_completion_raises_the_inventory_exactly_once,
    a_lower_goal_never_lowers_a_holding,
    the_plan_prediction_comes_true_in_the_inventory,
    an_erased_person_is_held_nowhere,
);

on_both_backends!(facilitation_inventory in facilitation_sqlite, facilitation_postgres
    for vigie_facilitation::testing::TestFacilitation:
    a_proposal_intervention_raises_the_inventory_and_moves_fragility,
);
