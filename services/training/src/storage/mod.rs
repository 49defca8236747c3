//! Persistence of the training service (PostgreSQL or SQLite through
//! `sqlx::Any`, see docs/adr/0002-one-sql-dialect.md). Functions take a
//! connection so the application decides the transaction.

mod migrations;

use chrono::{NaiveDate, NaiveDateTime};
use sqlx::{AnyConnection, Row};
use vigie_inventory_readmodel::{write_batch, BatchChanges, SnapshotTables};
use vigie_platform::db::columns::Columns;
use vigie_platform::db::multi_row::Value;
use vigie_training_domain::model::{Modality, Session, Training, TrainingTarget};

pub use migrations::MIGRATIONS;

/// Local date-times are stored as `YYYY-MM-DDTHH:MM`, as in the CSV files.
const DATE_TIME: &str = "%Y-%m-%dT%H:%M";

pub use vigie_platform::db::StorageError;

/// Writes a validated catalogue: trainings and their targets replaced,
/// sessions inserted or updated (their enrolments are kept; seats added to a
/// session go to its waiting list first).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_catalogue(
    conn: &mut AnyConnection,
    trainings: &[Training],
    sessions: &[Session],
) -> Result<(), StorageError> {
    for t in trainings {
        sqlx::query(
            "INSERT INTO tr_trainings (training_id, title, provider, modality, duration_minutes, cost_cents, funding) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (training_id) DO UPDATE SET title = excluded.title, \
             provider = excluded.provider, modality = excluded.modality, duration_minutes = excluded.duration_minutes, \
             cost_cents = excluded.cost_cents, funding = excluded.funding",
        )
        .bind(t.id.clone())
        .bind(t.title.clone())
        .bind(t.provider.clone())
        .bind(t.modality.as_str().to_owned())
        .bind((t.duration_hours * 60.0).round() as i64)
        .bind(t.cost_eur.map(|c| (c * 100.0).round() as i64))
        .bind(t.funding.clone())
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM tr_targets WHERE training_id = $1")
            .bind(t.id.clone())
            .execute(&mut *conn)
            .await?;
        for target in &t.targets {
            sqlx::query(
                "INSERT INTO tr_targets (training_id, function_code, prerequisite_level, goal_level) VALUES ($1, $2, $3, $4)",
            )
            .bind(t.id.clone())
            .bind(target.function.clone())
            .bind(i64::from(target.prerequisite_level))
            .bind(i64::from(target.goal_level))
            .execute(&mut *conn)
            .await?;
        }
    }
    for s in sessions {
        sqlx::query(
            "INSERT INTO tr_sessions (session_id, training_id, starts_at, ends_at, timezone, commune_insee, remote_url, capacity) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (session_id) DO UPDATE SET training_id = excluded.training_id, \
             starts_at = excluded.starts_at, ends_at = excluded.ends_at, timezone = excluded.timezone, \
             commune_insee = excluded.commune_insee, remote_url = excluded.remote_url, capacity = excluded.capacity",
        )
        .bind(s.id.clone())
        .bind(s.training_id.clone())
        .bind(s.starts_at.format(DATE_TIME).to_string())
        .bind(s.ends_at.format(DATE_TIME).to_string())
        .bind(s.timezone.name().to_owned())
        .bind(s.commune_insee.clone())
        .bind(s.remote_url.clone())
        .bind(i64::from(s.capacity))
        .execute(&mut *conn)
        .await?;
        // Seats added by a larger capacity go to the waiting list first, in
        // its order (a newcomer must not overtake it); a smaller capacity
        // unseats nobody.
        while let Some(mut next) = first_waiting(conn, &s.id).await? {
            if !take_seat(conn, &s.id).await? {
                break;
            }
            next.status = "enrolled".to_owned();
            save_enrolment(conn, &next).await?;
        }
    }
    Ok(())
}

/// Every training with its targets, by id.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn trainings(conn: &mut AnyConnection) -> Result<Vec<Training>, StorageError> {
    let mut trainings: Vec<Training> = Vec::new();
    for row in sqlx::query(
        "SELECT training_id, title, provider, modality, duration_minutes, cost_cents, funding FROM tr_trainings ORDER BY training_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let c = Columns::of(&row, "tr_trainings");
        let minutes: i64 = c.get("duration_minutes")?;
        let cents: Option<i64> = c.get("cost_cents")?;
        trainings.push(Training {
            id: c.get("training_id")?,
            title: c.get("title")?,
            provider: c.get("provider")?,
            modality: c.parsed::<Modality>("modality")?,
            duration_hours: minutes as f64 / 60.0,
            cost_eur: cents.map(|c| c as f64 / 100.0),
            funding: c.get("funding")?,
            targets: Vec::new(),
        });
    }
    for row in sqlx::query(
        "SELECT training_id, function_code, prerequisite_level, goal_level FROM tr_targets ORDER BY training_id, function_code",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let c = Columns::of(&row, "tr_targets");
        let id: String = c.get("training_id")?;
        let target = TrainingTarget {
            function: c.get("function_code")?,
            prerequisite_level: c.integer("prerequisite_level")?,
            goal_level: c.integer("goal_level")?,
        };
        if let Some(training) = trainings.iter_mut().find(|t| t.id == id) {
            training.targets.push(target);
        }
    }
    Ok(trainings)
}

/// A session with its occupation.
#[derive(Debug, Clone)]
pub struct StoredSession {
    /// The session.
    pub session: Session,
    /// Seats taken.
    pub enrolled: u32,
    /// People on the waiting list.
    pub waiting: u32,
}

/// Sessions (of one training, or all), by start then id.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn sessions(conn: &mut AnyConnection, training: Option<&str>) -> Result<Vec<StoredSession>, StorageError> {
    let sql = "SELECT s.session_id, s.training_id, s.starts_at, s.ends_at, s.timezone, s.commune_insee, s.remote_url, \
               s.capacity, s.enrolled, \
               (SELECT COUNT(*) FROM tr_enrolments e WHERE e.session_id = s.session_id AND e.status = 'waitlisted') AS waiting \
               FROM tr_sessions s";
    let rows = match training {
        Some(id) => {
            sqlx::query(&format!(
                "{sql} WHERE s.training_id = $1 ORDER BY s.starts_at, s.session_id"
            ))
            .bind(id.to_owned())
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(&format!("{sql} ORDER BY s.starts_at, s.session_id"))
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(decode_session).collect()
}

/// One session.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn session(conn: &mut AnyConnection, id: &str) -> Result<Option<StoredSession>, StorageError> {
    let row = sqlx::query(
        "SELECT s.session_id, s.training_id, s.starts_at, s.ends_at, s.timezone, s.commune_insee, s.remote_url, \
         s.capacity, s.enrolled, \
         (SELECT COUNT(*) FROM tr_enrolments e WHERE e.session_id = s.session_id AND e.status = 'waitlisted') AS waiting \
         FROM tr_sessions s WHERE s.session_id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(decode_session).transpose()
}

fn decode_session(row: &sqlx::any::AnyRow) -> Result<StoredSession, StorageError> {
    let c = Columns::of(row, "tr_sessions");
    let date_time = |column: &'static str| -> Result<NaiveDateTime, StorageError> {
        let value: String = c.get(column)?;
        NaiveDateTime::parse_from_str(&value, DATE_TIME)
            .map_err(|_| StorageError::corrupt("tr_sessions", column, &value))
    };
    let enrolled: i64 = c.get("enrolled")?;
    let waiting: i64 = c.get("waiting")?;
    Ok(StoredSession {
        session: Session {
            id: c.get("session_id")?,
            training_id: c.get("training_id")?,
            starts_at: date_time("starts_at")?,
            ends_at: date_time("ends_at")?,
            timezone: c.parsed("timezone")?,
            commune_insee: c.get("commune_insee")?,
            remote_url: c.get("remote_url")?,
            capacity: c.integer("capacity")?,
        },
        enrolled: u32::try_from(enrolled).unwrap_or(0),
        waiting: u32::try_from(waiting).unwrap_or(0),
    })
}

/// Locks a session's row (if it exists) until the end of the transaction.
/// Every change to a session's enrolments starts with it, so they are
/// serialised per session: on PostgreSQL a transaction that only reads (the
/// existing enrolment, the waiting list) would otherwise decide on a state
/// another one is changing — two enrolments of one person both taking a
/// seat, two waiting people given the same place, a completion published
/// twice. (SQLite has a single writer; the UPDATE takes it.)
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn lock_session(conn: &mut AnyConnection, session: &str) -> Result<(), StorageError> {
    sqlx::query("UPDATE tr_sessions SET enrolled = enrolled WHERE session_id = $1")
        .bind(session.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes a seat if one is left — one atomic statement, so concurrent
/// enrolments can never overbook (the row lock serialises them on
/// PostgreSQL; SQLite has a single writer).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn take_seat(conn: &mut AnyConnection, session: &str) -> Result<bool, StorageError> {
    let result =
        sqlx::query("UPDATE tr_sessions SET enrolled = enrolled + 1 WHERE session_id = $1 AND enrolled < capacity")
            .bind(session.to_owned())
            .execute(&mut *conn)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives a seat back.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn release_seat(conn: &mut AnyConnection, session: &str) -> Result<(), StorageError> {
    sqlx::query("UPDATE tr_sessions SET enrolled = enrolled - 1 WHERE session_id = $1 AND enrolled > 0")
        .bind(session.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An enrolment row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentRow {
    /// The session.
    pub session_id: String,
    /// The person.
    pub person_id: String,
    /// The person's structure when enrolled.
    pub structure_id: String,
    /// Its network.
    pub network_id: String,
    /// enrolled, waitlisted, cancelled, completed.
    pub status: String,
    /// Order on the waiting list.
    pub waitlist_seq: i64,
    /// Completion date.
    pub completed_on: Option<NaiveDate>,
}

/// One enrolment.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn enrolment(
    conn: &mut AnyConnection,
    session: &str,
    person: &str,
) -> Result<Option<EnrolmentRow>, StorageError> {
    let row = sqlx::query(
        "SELECT session_id, person_id, structure_id, network_id, status, waitlist_seq, completed_on FROM tr_enrolments \
         WHERE session_id = $1 AND person_id = $2",
    )
    .bind(session.to_owned())
    .bind(person.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(decode_enrolment).transpose()
}

/// The first person waiting for a seat in `session`.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn first_waiting(conn: &mut AnyConnection, session: &str) -> Result<Option<EnrolmentRow>, StorageError> {
    let row = sqlx::query(
        "SELECT session_id, person_id, structure_id, network_id, status, waitlist_seq, completed_on FROM tr_enrolments \
         WHERE session_id = $1 AND status = 'waitlisted' ORDER BY waitlist_seq, person_id LIMIT 1",
    )
    .bind(session.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(decode_enrolment).transpose()
}

/// 1-based position of a waitlisted enrolment.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn waiting_position(conn: &mut AnyConnection, row: &EnrolmentRow) -> Result<u32, StorageError> {
    let ahead = sqlx::query(
        "SELECT COUNT(*) AS n FROM tr_enrolments WHERE session_id = $1 AND status = 'waitlisted' \
         AND (waitlist_seq < $2 OR (waitlist_seq = $2 AND person_id < $3))",
    )
    .bind(row.session_id.clone())
    .bind(row.waitlist_seq)
    .bind(row.person_id.clone())
    .fetch_one(&mut *conn)
    .await?;
    let n: i64 = ahead.try_get("n")?;
    Ok(u32::try_from(n).unwrap_or(0) + 1)
}

/// The next waiting-list number of a session.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn next_waitlist_seq(conn: &mut AnyConnection, session: &str) -> Result<i64, StorageError> {
    let row = sqlx::query("SELECT COALESCE(MAX(waitlist_seq), 0) + 1 AS n FROM tr_enrolments WHERE session_id = $1")
        .bind(session.to_owned())
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("n")?)
}

/// Inserts or updates an enrolment.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_enrolment(conn: &mut AnyConnection, row: &EnrolmentRow) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO tr_enrolments (session_id, person_id, structure_id, network_id, status, waitlist_seq, updated_at, completed_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (session_id, person_id) DO UPDATE SET \
         structure_id = excluded.structure_id, network_id = excluded.network_id, status = excluded.status, \
         waitlist_seq = excluded.waitlist_seq, updated_at = excluded.updated_at, completed_on = excluded.completed_on",
    )
    .bind(row.session_id.clone())
    .bind(row.person_id.clone())
    .bind(row.structure_id.clone())
    .bind(row.network_id.clone())
    .bind(row.status.clone())
    .bind(row.waitlist_seq)
    .bind(chrono::Utc::now().to_rfc3339())
    .bind(row.completed_on.map(|d| d.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn decode_enrolment(row: &sqlx::any::AnyRow) -> Result<EnrolmentRow, StorageError> {
    let c = Columns::of(row, "tr_enrolments");
    Ok(EnrolmentRow {
        session_id: c.get("session_id")?,
        person_id: c.get("person_id")?,
        structure_id: c.get("structure_id")?,
        network_id: c.get("network_id")?,
        status: c.get("status")?,
        waitlist_seq: c.get("waitlist_seq")?,
        completed_on: c.opt_parsed("completed_on")?,
    })
}

// ----- read model of the inventory -----

/// The structure and network of a person, from the read model.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn person(conn: &mut AnyConnection, person: &str) -> Result<Option<(String, String)>, StorageError> {
    let row = sqlx::query("SELECT structure_id, network_id FROM tr_people WHERE person_id = $1")
        .bind(person.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| Ok((r.try_get("structure_id")?, r.try_get("network_id")?)))
        .transpose()
}

/// The network of a structure held by the read model.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn structure_network(conn: &mut AnyConnection, structure: &str) -> Result<Option<String>, StorageError> {
    let row = sqlx::query("SELECT network_id FROM tr_structures WHERE structure_id = $1")
        .bind(structure.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| r.try_get("network_id").map_err(StorageError::from))
        .transpose()
}

/// A structure snapshot to keep.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The structure.
    pub structure_id: String,
    /// Its network.
    pub network_id: String,
    /// Its department.
    pub department_code: String,
    /// The inventory's version.
    pub version: i64,
    /// The encoded `vigie.inventory.v1.Structure`.
    pub bytes: Vec<u8>,
}

/// Stores `snapshots` (one per structure), deletes the people of `removed`
/// and places each of `placed` (each person once) — with multi-row
/// statements.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_snapshots(
    conn: &mut AnyConnection,
    snapshots: &[Snapshot],
    changes: &BatchChanges,
) -> Result<(), StorageError> {
    let structures: Vec<Vec<Value>> = snapshots
        .iter()
        .map(|s| {
            vec![
                Value::from(s.structure_id.as_str()),
                Value::from(s.network_id.as_str()),
                Value::from(s.department_code.as_str()),
                Value::from(s.version),
                Value::Bytes(s.bytes.clone()),
            ]
        })
        .collect();
    write_batch(conn, &SNAPSHOTS, structures, changes).await?;
    Ok(())
}

/// The read model of inventory snapshots, for [`write_batch`].
const SNAPSHOTS: SnapshotTables = SnapshotTables {
    structures: "tr_structures",
    structure_columns: &["structure_id", "network_id", "department_code", "version", "snapshot"],
    people: "tr_people",
    people_network: true,
};

/// Encoded snapshots of one structure, or of every structure of a network.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn snapshots(
    conn: &mut AnyConnection,
    structure: Option<&str>,
    network: Option<&str>,
) -> Result<Vec<Vec<u8>>, StorageError> {
    let (sql, key) = match (structure, network) {
        (Some(id), _) => (
            "SELECT snapshot FROM tr_structures WHERE structure_id = $1 ORDER BY structure_id",
            Some(id),
        ),
        (None, Some(n)) => (
            "SELECT snapshot FROM tr_structures WHERE network_id = $1 ORDER BY structure_id",
            Some(n),
        ),
        (None, None) => ("SELECT snapshot FROM tr_structures ORDER BY structure_id", None),
    };
    let mut query = sqlx::query(sql);
    if let Some(key) = key {
        query = query.bind(key.to_owned());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| r.try_get::<Vec<u8>, _>("snapshot").map_err(StorageError::from))
        .collect()
}
