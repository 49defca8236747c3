//! Contract suite of the inventory: the same scenarios run on SQLite and on
//! PostgreSQL (real servers), through the application service with its real
//! storage and outbox.

mod harness;
mod isolation;
mod scenarios;
mod wire;

use harness::Harness;

/// Runs each scenario once per backend, as `sqlite::<name>` and `postgres::<name>`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() -> anyhow::Result<()> {
                    crate::scenarios::$name(<crate::Harness as vigie_testkit::ContractHarness>::sqlite().await?).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() -> anyhow::Result<()> {
                    crate::scenarios::$name(<crate::Harness as vigie_testkit::ContractHarness>::postgres().await?).await
                }
            )+
        }
    };
}

on_both_backends!(
    import_stores_the_set_and_appends_events,
    reimporting_the_same_set_changes_nothing,
    a_changed_set_updates_in_place,
    a_bad_set_changes_nothing,
    an_error_on_the_last_line_of_the_last_file_writes_nothing,
    a_person_moving_leaves_their_old_structure,
    moves_across_the_batches_of_one_set,
    a_coordinator_imports_only_within_her_network,
    set_holding_recomputes_fragility_with_its_event,
    raise_only_never_lowers,
    reassessment_publishes_only_when_the_date_changes_a_result,
    fragility_on_another_date_and_rollups,
    erasure_forgets_the_person,
    resync_restates_the_current_state_as_new_events,
    one_structure_reads_as_the_list_does,
    cached_reads_answer_as_cold_ones,
    a_read_staleness_delays_only_other_replicas_changes,
    concurrent_reads_each_see_what_was_committed_before,
    reads_answer_again_after_their_connections_are_cut,
    a_lone_reader_keeps_its_connection_a_moment,
    a_listing_streams_chunk_after_chunk,
    hostile_values_read_back_as_imported,
);

/// The routed service over the wire (SQLite: routing does not depend on the backend).
mod wire_sqlite {
    #[tokio::test]
    async fn the_routed_service_answers_as_the_generated_one() -> anyhow::Result<()> {
        crate::wire::the_routed_service_answers_as_the_generated_one(
            <crate::Harness as vigie_testkit::ContractHarness>::sqlite().await?,
        )
        .await
    }
}

/// The isolation matrix (SQLite: the rules do not depend on the backend).
mod isolation_sqlite {
    #[tokio::test]
    async fn every_rpc_has_a_rule() -> anyhow::Result<()> {
        crate::isolation::every_rpc_has_a_rule(<crate::Harness as vigie_testkit::ContractHarness>::sqlite().await?)
            .await
    }

    #[tokio::test]
    async fn other_networks_see_nothing() -> anyhow::Result<()> {
        crate::isolation::other_networks_see_nothing(
            <crate::Harness as vigie_testkit::ContractHarness>::sqlite().await?,
        )
        .await
    }
}
