//! Snapshots: the last one this region published, and the latest received
//! from each region.

use chrono::NaiveDate;
use sqlx::{AnyConnection, Row};

use super::{parse_date, StorageError};

/// The last snapshot the region published.
#[derive(Debug, Clone)]
pub struct Published {
    /// Its sequence number.
    pub sequence: u64,
    /// RFC 3339 time it was computed.
    pub computed_at: String,
    /// The date it describes.
    pub evaluated_on: NaiveDate,
    /// The `RegionSnapshot`, protobuf-encoded.
    pub bytes: Vec<u8>,
}

/// The last published snapshot, if any.
///
/// # Errors
/// [`StorageError`] on a database error or a corrupt row.
pub async fn published(conn: &mut AnyConnection) -> Result<Option<Published>, StorageError> {
    let Some(row) = sqlx::query("SELECT sequence, computed_at, evaluated_on, snapshot FROM fe_published WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let evaluated_on: String = row.try_get(2)?;
    Ok(Some(Published {
        sequence: u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0),
        computed_at: row.try_get(1)?,
        evaluated_on: parse_date("fe_published", "evaluated_on", &evaluated_on)?,
        bytes: row.try_get(3)?,
    }))
}

/// Records `p` as the last published snapshot if the one held is still
/// `previous` (none for the first): returns false when another replica
/// published meanwhile, so the caller rolls back instead of sending a
/// second snapshot under the same sequence.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_published(
    conn: &mut AnyConnection,
    p: &Published,
    previous: Option<u64>,
) -> Result<bool, StorageError> {
    let sequence = i64::try_from(p.sequence).unwrap_or(i64::MAX);
    let evaluated_on = p.evaluated_on.format("%Y-%m-%d").to_string();
    let done = match previous {
        None => sqlx::query(
            "INSERT INTO fe_published (id, sequence, computed_at, evaluated_on, snapshot) VALUES (1, $1, $2, $3, $4) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(sequence)
        .bind(p.computed_at.clone())
        .bind(evaluated_on)
        .bind(p.bytes.clone())
        .execute(&mut *conn)
        .await?,
        Some(previous) => {
            sqlx::query(
                "UPDATE fe_published SET sequence = $1, computed_at = $2, evaluated_on = $3, snapshot = $4 \
             WHERE id = 1 AND sequence = $5",
            )
            .bind(sequence)
            .bind(p.computed_at.clone())
            .bind(evaluated_on)
            .bind(p.bytes.clone())
            .bind(i64::try_from(previous).unwrap_or(i64::MAX))
            .execute(&mut *conn)
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// The latest snapshot received from a region.
#[derive(Debug, Clone)]
pub struct RegionRow {
    /// The region id.
    pub region: String,
    /// Sequence of the snapshot.
    pub sequence: u64,
    /// The date its figures describe.
    pub evaluated_on: NaiveDate,
    /// RFC 3339 time the region computed it.
    pub computed_at: String,
    /// RFC 3339 time it was received here.
    pub received_at: String,
    /// The `RegionSnapshot`, protobuf-encoded.
    pub bytes: Vec<u8>,
}

/// Keeps `row` unless a snapshot of the same region with a sequence at
/// least as high is held (a replay or an older snapshot changes nothing, so
/// nothing is ever counted twice). Returns whether it was kept.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_region(conn: &mut AnyConnection, row: &RegionRow) -> Result<bool, StorageError> {
    let held: Option<i64> = sqlx::query("SELECT sequence FROM fe_regions WHERE region = $1")
        .bind(row.region.clone())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let sequence = i64::try_from(row.sequence).unwrap_or(i64::MAX);
    if held.is_some_and(|held| held >= sequence) {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO fe_regions (region, sequence, evaluated_on, computed_at, received_at, snapshot) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (region) DO UPDATE SET sequence = excluded.sequence, \
         evaluated_on = excluded.evaluated_on, computed_at = excluded.computed_at, \
         received_at = excluded.received_at, snapshot = excluded.snapshot",
    )
    .bind(row.region.clone())
    .bind(sequence)
    .bind(row.evaluated_on.format("%Y-%m-%d").to_string())
    .bind(row.computed_at.clone())
    .bind(row.received_at.clone())
    .bind(row.bytes.clone())
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Every region's latest snapshot, by region id.
///
/// # Errors
/// [`StorageError`] on a database error or a corrupt row.
pub async fn regions(conn: &mut AnyConnection) -> Result<Vec<RegionRow>, StorageError> {
    let rows = sqlx::query(
        "SELECT region, sequence, evaluated_on, computed_at, received_at, snapshot FROM fe_regions ORDER BY region",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|row| {
            let evaluated_on: String = row.try_get(2)?;
            Ok(RegionRow {
                region: row.try_get(0)?,
                sequence: u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
                evaluated_on: parse_date("fe_regions", "evaluated_on", &evaluated_on)?,
                computed_at: row.try_get(3)?,
                received_at: row.try_get(4)?,
                bytes: row.try_get(5)?,
            })
        })
        .collect()
}
