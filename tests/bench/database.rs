//! Where a scenario's service keeps its tables.

use std::path::Path;

use anyhow::Result;
use vigie_testkit::PgDatabase;

/// The URL of a scenario's database: a SQLite file named `name` in `dir`
/// when `embedded`, else the PostgreSQL database given (`--database-url`)
/// or a fresh one. A fresh one is dropped with the returned guard, so the
/// guard must live as long as the database is used.
pub async fn database_url(
    embedded: bool,
    dir: &Path,
    name: &str,
    given: Option<&str>,
) -> Result<(String, Option<PgDatabase>)> {
    if embedded {
        return Ok((vigie_testkit::sqlite_url(dir, name), None));
    }
    if let Some(url) = given {
        return Ok((url.to_owned(), None));
    }
    let pg = PgDatabase::try_create().await?;
    Ok((pg.url().to_owned(), Some(pg)))
}
