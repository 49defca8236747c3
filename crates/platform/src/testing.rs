//! Helpers of the services' contract suites (feature `testing`; the
//! isolation matrix's are in [`crate::auth::testing`]).
//!
//! A suite checks what a use case appended by reading the outbox back as
//! the relay would publish it, then hands those envelopes to another
//! service's consumer: one reader, so every suite decodes the rows as the
//! relay does. Each test has its own database ([`fresh_db`]).

use anyhow::Result;
use chrono::{DateTime, Utc};
use sqlx::Row;

use vigie_testkit::{Backend, TestDatabase};

use crate::db::Db;
use crate::events::Envelope;

/// A fresh database of `backend` named after `name`, not migrated, its pool,
/// and what keeps it alive (drop it after the pool); test logging is on.
///
/// # Errors
/// The database could not be created or reached.
pub async fn fresh_db(backend: Backend, name: &str) -> Result<(Db, TestDatabase)> {
    vigie_testkit::init_test_logging();
    let database = TestDatabase::create(backend, name).await?;
    Ok((Db::connect(database.url()).await?, database))
}

/// The outbox rows of `event_type` (every row with `None`), in commit order,
/// as envelopes the relay would publish, published or not.
///
/// # Errors
/// A database error, or a row whose id or time does not parse.
pub async fn outbox_envelopes(db: &Db, event_type: Option<&str>) -> Result<Vec<Envelope>> {
    let select = "SELECT id, source, event_type, subject, event_time, traceparent, payload FROM vigie_outbox";
    let rows = match event_type {
        Some(event_type) => {
            sqlx::query(&format!("{select} WHERE event_type = $1 ORDER BY seq"))
                .bind(event_type.to_owned())
                .fetch_all(db.pool())
                .await?
        }
        None => {
            sqlx::query(&format!("{select} ORDER BY seq"))
                .fetch_all(db.pool())
                .await?
        }
    };
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let time: String = row.try_get("event_time")?;
            let payload: Vec<u8> = row.try_get("payload")?;
            Ok(Envelope {
                id: uuid::Uuid::parse_str(&id)?,
                source: row.try_get("source")?,
                event_type: row.try_get("event_type")?,
                subject: row.try_get("subject")?,
                time: DateTime::parse_from_rfc3339(&time)?.with_timezone(&Utc),
                traceparent: row.try_get("traceparent")?,
                payload: payload.into(),
            })
        })
        .collect()
}
