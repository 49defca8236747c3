//! Contract suite of the alerting service: the same scenarios run on SQLite
//! and on PostgreSQL (real servers), through the application service with its
//! real storage and outbox, delivering to a real SMTP server on loopback.

mod batches;
mod federation_events;
mod grant_calls;
mod grant_import;
mod grant_stats;
mod grants;
mod harness;
mod holding_rule;
mod isolation;
mod leases;
mod obligation_reminders;
mod read_model;
mod scenarios;
mod webhooks;

use harness::Harness;
use vigie_testkit::{isolation_on_sqlite, on_both_backends};

on_both_backends!(scenarios in sqlite, postgres:
    reimporting_is_idempotent_and_a_moved_deadline_is_a_new_revision,
    a_file_with_a_bad_item_is_refused_and_changes_nothing,
    calls_match_structures_by_perimeter_audience_and_preferences,
    j7_of_a_paris_deadline_fires_at_nine_local_time,
    reminders_go_once_through_a_real_smtp_server_that_refuses_first,
    after_an_outage_due_reminders_go_late_in_one_digest,
    a_moved_deadline_sends_a_notice_then_new_reminders,
    an_acknowledged_call_gets_no_more_reminders,
    a_single_holder_escalates_to_the_referent_from_j14_once,
    a_crash_in_a_send_batch_loses_nothing_and_resends_only_with_the_same_id,
    the_calendar_feed_parses_with_a_real_parser,
    a_revoked_feed_url_stops_working_and_the_new_one_opens,
    a_whole_instance_is_streamed_in_bounded_messages_identical_to_the_unpaged_answer,
    the_chunked_preview_equals_the_preview_planned_in_memory,
    an_erased_person_is_held_nowhere,
    an_erasure_removes_mail_files_and_delivery_errors,
    passes_are_incremental_and_catch_up_what_changed,
    three_replicas_deliver_each_message_once_through_a_slow_server,
    a_dead_replicas_messages_go_out_once_after_its_lease,
    an_outcome_needs_the_lease,
    two_networks_on_one_webhook_url_get_their_own_deliveries_and_secrets,
    a_webhook_to_a_private_address_is_refused_when_set,
    sent_messages_tell_whether_they_were_late,
    a_claim_batch_spans_statements_and_a_refused_row_keeps_nothing_of_it,
    a_pass_reuses_one_connection_skips_leased_messages_and_fails_only_the_refused_one,
    each_reminder_message_publishes_one_event_per_structure_call_and_stage,
    a_moved_deadline_notice_is_not_a_reminder,
    an_acknowledgement_publishes_once_per_change_of_status,
    a_permanent_call_is_listed_after_the_dated_ones,
);

// Grants and their reporting duties (issue 16).
on_both_backends!(grants in grants_sqlite, grants_postgres:
    grants_bring_their_reporting_duties,
    a_submitted_call_becomes_one_application,
    another_network_sees_no_grant,
    invalid_grant_inputs_are_refused_naming_the_field,
);

// Reminders of reporting duties.
on_both_backends!(obligation_reminders in duties_sqlite, duties_postgres:
    duties_are_reminded_at_j30_14_7_2_and_on_the_draft_date,
    reporting_on_one_person_escalates_to_the_referent_from_j14_once,
    sent_by_the_signed_link_stops_the_reminders,
    a_moved_date_gives_one_notice_and_a_new_series,
    two_claimers_send_nothing_twice_and_the_webhook_gets_obligation_items,
    the_feeds_hold_each_duty_not_sent,
    a_duty_deferred_to_tomorrows_digest_goes_the_next_day,
    a_duty_escalated_in_another_zone_says_so_and_the_log_names_the_duty,
    the_send_log_is_read_by_call_id_through_its_index,
);

// Views of grants.
on_both_backends!(grant_stats in grant_stats_sqlite, grant_stats_postgres:
    network_stats_count_funders_and_duties_at_risk,
    holders_leaving_before_the_due_date_put_a_duty_at_risk,
    grant_stats_stay_within_reach,
);

// The import of grants and the idempotency key.
on_both_backends!(grant_import in grant_import_sqlite, grant_import_postgres:
    a_file_with_three_bad_rows_reports_their_lines_and_writes_nothing,
    an_import_creates_grants_and_duties_and_a_reimport_changes_nothing,
    a_row_of_another_network_is_refused_by_line,
    a_workbook_that_is_not_one_is_reported,
    the_idempotency_key_returns_the_first_grant,
);

// The isolation matrix (SQLite: the rules do not depend on the backend).
isolation_on_sqlite!();

// One holding rule for the index and the recipients (issue 15, item 2).
on_both_backends!(holding_rule in holding_rule_sqlite, holding_rule_postgres:
    the_recency_setting_moves_the_index_and_the_recipients_together,
);
