//! Contract suite of the facilitation service: the same scenarios run on
//! SQLite and on PostgreSQL (real servers), through the application service
//! with its real storage, outbox and inventory read model. Its scenario with
//! a real inventory beside it (an intervention that raises a holding and
//! moves fragility) is cross-service:
//! `tests/e2e/contracts/facilitation_inventory.rs`.

mod harness;
mod isolation;
mod scenarios;

use harness::Harness;
use vigie_testkit::{isolation_on_sqlite, on_both_backends};

on_both_backends!(scenarios in sqlite, postgres:
    an_import_is_all_or_nothing,
    a_request_is_offered_to_the_best_ranked_facilitator,
    a_request_nobody_covers_is_unassigned_with_a_reason,
    concurrent_requests_never_exceed_capacity,
    declining_moves_the_request_to_the_next_facilitator,
    a_structures_own_request_takes_back_an_unanswered_automatic_proposal,
    a_fragility_event_opens_one_proposal_even_replayed,
    a_moderate_fragility_opens_no_proposal,
    an_intervention_is_counted_once,
    an_autonomy_intervention_publishes_one_event,
    every_intervention_publishes_its_time_once,
    an_erased_person_is_held_nowhere,
    the_report_sums_internal_and_external_minutes,
    an_unanswered_offer_escalates_to_the_network_coordinator,
    without_a_coordinator_an_overdue_offer_stays_offered_and_is_flagged_once,
    an_intervention_records_the_activity_report_vocabulary,
    the_report_measures_times_and_fragile_structures_never_helped,
    an_on_site_request_prefers_a_facilitator_covering_the_structure,
    a_deadline_escalation_opens_one_co_submission_proposal_per_call,
    a_deadline_within_a_week_makes_the_co_submission_due_today,
    a_reporting_duty_escalation_opens_a_proposal_on_funder_reporting,
    an_escalation_for_a_structure_not_yet_known_is_retried,
);

// The isolation matrix (SQLite: the rules do not depend on the backend).
isolation_on_sqlite!();
