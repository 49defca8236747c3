//! Contract suite of the training service: the same scenarios run on SQLite
//! and on PostgreSQL (real servers), through the application service with its
//! real storage, outbox and inventory read model. Its scenarios with a real
//! inventory beside it (completions that raise holdings, plans that come
//! true, a person erased everywhere) are cross-service: `tests/e2e/contracts/training_inventory.rs`.

mod harness;
mod isolation;
mod scenarios;

use harness::Harness;
use vigie_testkit::{isolation_on_sqlite, on_both_backends};

on_both_backends!(scenarios in sqlite, postgres:
    a_catalogue_is_stored_and_listed,
    a_bad_catalogue_is_rejected_with_every_error_and_changes_nothing,
    reimporting_a_catalogue_updates_in_place_and_keeps_enrolments,
    a_new_capacity_seats_the_waiting_list_first_and_unseats_nobody,
    inventory_snapshots_make_people_enrollable,
    an_older_snapshot_never_overwrites_a_newer_one,
    a_replayed_snapshot_is_a_duplicate,
    enrolment_fills_seats_then_the_waiting_list,
    cancelling_moves_the_waiting_list_up,
    unknown_people_sessions_and_enrolments_are_not_found,
    concurrent_enrolments_never_overbook,
    concurrent_double_enrolment_takes_one_seat,
    concurrent_cancels_and_completions_apply_once,
    completion_appends_one_event_with_the_goal_levels,
    completion_is_idempotent_and_needs_a_seat,
);

// The isolation matrix (SQLite: the rules do not depend on the backend).
isolation_on_sqlite!();
