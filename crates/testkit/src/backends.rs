//! The contract suites' one way of running every storage scenario on both
//! engines (ADR 0002: one SQL for SQLite and PostgreSQL).

use std::future::Future;

use crate::Backend;

/// A contract suite's harness: the service under test on a fresh database,
/// built the same way on either backend. A suite states how once
/// ([`on`](Self::on)); the scenarios and the macros below ask for
/// [`sqlite`](Self::sqlite) or [`postgres`](Self::postgres).
pub trait ContractHarness: Sized {
    /// The harness on a fresh, migrated database of `backend`.
    fn on(backend: Backend) -> impl Future<Output = anyhow::Result<Self>>;

    /// On a SQLite file.
    fn sqlite() -> impl Future<Output = anyhow::Result<Self>> {
        Self::on(Backend::Sqlite)
    }

    /// On a fresh PostgreSQL database.
    fn postgres() -> impl Future<Output = anyhow::Result<Self>> {
        Self::on(Backend::Postgres)
    }
}

/// Runs each scenario of a module once per backend: `scenarios in sqlite,
/// postgres: a, b` makes the tests `sqlite::a`, `postgres::a`, `sqlite::b`…,
/// each calling `crate::scenarios::a(crate::Harness::sqlite().await?)` (or
/// `postgres()`) on a multi-threaded runtime. The suite provides `Harness`
/// at its root, a [`ContractHarness`]; each scenario takes the harness and
/// returns `anyhow::Result<()>`. A suite of several harnesses (the
/// cross-service scenarios of `tests/`) names each module's own:
/// `scenarios in sqlite, postgres for some::Harness: a, b`.
// `crate::` is meant: the suite that calls the macro holds the scenarios.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! on_both_backends {
    ($scenarios:ident in $sqlite:ident, $postgres:ident: $($name:ident),+ $(,)?) => {
        $crate::on_both_backends!($scenarios in $sqlite, $postgres for crate::Harness: $($name),+);
    };
    ($scenarios:ident in $sqlite:ident, $postgres:ident for $harness:ty: $($name:ident),+ $(,)?) => {
        mod $sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    crate::$scenarios::$name(<$harness as $crate::ContractHarness>::sqlite().await?).await
                }
            )+
        }
        mod $postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    crate::$scenarios::$name(<$harness as $crate::ContractHarness>::postgres().await?).await
                }
            )+
        }
    };
}

/// The generated isolation matrix of a suite's `isolation` module, on SQLite
/// only (the rules do not depend on the backend): the tests
/// `isolation_sqlite::every_rpc_has_a_rule` and
/// `isolation_sqlite::other_networks_see_nothing`, each given
/// `crate::Harness::sqlite()`.
// `crate::` is meant: the suite that calls the macro holds the matrix.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! isolation_on_sqlite {
    () => {
        mod isolation_sqlite {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn every_rpc_has_a_rule() -> anyhow::Result<()> {
                crate::isolation::every_rpc_has_a_rule(<crate::Harness as $crate::ContractHarness>::sqlite().await?)
                    .await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn other_networks_see_nothing() -> anyhow::Result<()> {
                crate::isolation::other_networks_see_nothing(
                    <crate::Harness as $crate::ContractHarness>::sqlite().await?,
                )
                .await
            }
        }
    };
}
