//! The federation service against real databases (SQLite file and
//! PostgreSQL): read model from real envelopes, publication in the outbox,
//! national reception of hostile and replayed snapshots.

/// Runs each scenario of module `$scenarios`, a function of the backend
/// (it builds its harnesses itself: a region's, the national one, or
/// both), once on SQLite in module `$sqlite` and once on PostgreSQL in
/// module `$postgres`.
macro_rules! on_both_backends {
    ($scenarios:ident in $sqlite:ident, $postgres:ident: $($name:ident),+ $(,)?) => {
        mod $sqlite {
            $(
                #[tokio::test]
                async fn $name() -> anyhow::Result<()> {
                    crate::$scenarios::$name(crate::harness::Backend::Sqlite).await
                }
            )+
        }
        mod $postgres {
            $(
                #[tokio::test]
                async fn $name() -> anyhow::Result<()> {
                    crate::$scenarios::$name(crate::harness::Backend::Postgres).await
                }
            )+
        }
    };
}

mod grants;
mod harness;
mod national;
mod regional;

on_both_backends!(regional in regional_sqlite, regional_postgres:
    publishes_aggregates_without_identifiers,
    publishes_on_significant_change_only,
    redelivered_events_count_once,
    two_replicas_never_publish_one_sequence_twice,
);

on_both_backends!(national in national_sqlite, national_postgres:
    keeps_the_latest_snapshot_of_each_region,
);

on_both_backends!(grants in grants_sqlite, grants_postgres:
    grants_are_counted_once_and_published_under_secrecy,
    a_duty_marked_sent_leaves_reporting_at_risk,
);
