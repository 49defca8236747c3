//! Network policies, subscription preferences, unsubscriptions,
//! acknowledgements, and the generations of the calendar feed URLs.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};
use vigie_proto::dates::rfc3339;

use super::{to_json, StorageError};
use vigie_platform::db::columns::Columns;

/// A network's policy as stored (validated by the application).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyRow {
    /// The network.
    pub network_id: String,
    /// Offsets in days.
    pub offsets: Vec<u32>,
    /// `HH:MM`.
    pub local_hour: String,
    /// IANA zone.
    pub timezone: String,
    /// Referent.
    pub referent_name: String,
    /// Referent's email.
    pub referent_email: String,
    /// Webhook URL.
    pub webhook_url: String,
    /// Webhook secret.
    pub webhook_secret: String,
}

/// Saves a network policy.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_policy(conn: &mut AnyConnection, p: &PolicyRow, at: DateTime<Utc>) -> Result<(), StorageError> {
    let offsets: Vec<String> = p.offsets.iter().map(u32::to_string).collect();
    sqlx::query(
        "INSERT INTO al_policies (network_id, offsets, local_hour, timezone, referent_name, referent_email, \
         webhook_url, webhook_secret, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (network_id) DO UPDATE SET \
         offsets = excluded.offsets, local_hour = excluded.local_hour, timezone = excluded.timezone, \
         referent_name = excluded.referent_name, referent_email = excluded.referent_email, \
         webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret, changed_at = excluded.changed_at",
    )
    .bind(p.network_id.clone())
    .bind(to_json(&offsets))
    .bind(p.local_hour.clone())
    .bind(p.timezone.clone())
    .bind(p.referent_name.clone())
    .bind(p.referent_email.clone())
    .bind(p.webhook_url.clone())
    .bind(p.webhook_secret.clone())
    .bind(rfc3339(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every network policy.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn policies(conn: &mut AnyConnection) -> Result<Vec<PolicyRow>, StorageError> {
    let rows = sqlx::query(
        "SELECT network_id, offsets, local_hour, timezone, referent_name, referent_email, webhook_url, \
         webhook_secret FROM al_policies ORDER BY network_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let offsets = Columns::of(row, "al_policies")
                .list("offsets")?
                .iter()
                .map(|o| {
                    o.parse::<u32>()
                        .map_err(|_| StorageError::corrupt("al_policies", "offsets", o))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(PolicyRow {
                network_id: row.try_get("network_id")?,
                offsets,
                local_hour: row.try_get("local_hour")?,
                timezone: row.try_get("timezone")?,
                referent_name: row.try_get("referent_name")?,
                referent_email: row.try_get("referent_email")?,
                webhook_url: row.try_get("webhook_url")?,
                webhook_secret: row.try_get("webhook_secret")?,
            })
        })
        .collect()
}

/// Subscription preferences of a structure (`structure`) or a network (`network`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferencesRow {
    /// `structure` or `network`.
    pub scope_kind: String,
    /// The structure or network id.
    pub scope_id: String,
    /// Themes kept (empty = all).
    pub themes: Vec<String>,
    /// Audiences also qualified for, besides the legal form.
    pub audiences: Vec<String>,
    /// No reminders at all.
    pub opted_out: bool,
}

/// Saves preferences.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_preferences(
    conn: &mut AnyConnection,
    p: &PreferencesRow,
    at: DateTime<Utc>,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO al_preferences (scope_kind, scope_id, themes, opted_out, audiences, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (scope_kind, scope_id) DO UPDATE SET themes = excluded.themes, opted_out = excluded.opted_out, \
         audiences = excluded.audiences, changed_at = excluded.changed_at",
    )
    .bind(p.scope_kind.clone())
    .bind(p.scope_id.clone())
    .bind(to_json(&p.themes))
    .bind(i64::from(p.opted_out))
    .bind(to_json(&p.audiences))
    .bind(rfc3339(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every preference row.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn preferences(conn: &mut AnyConnection) -> Result<Vec<PreferencesRow>, StorageError> {
    let rows = sqlx::query("SELECT scope_kind, scope_id, themes, opted_out, audiences FROM al_preferences")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let c = Columns::of(row, "al_preferences");
            Ok(PreferencesRow {
                audiences: c.list("audiences")?,
                scope_kind: row.try_get("scope_kind")?,
                scope_id: row.try_get("scope_id")?,
                themes: c.list("themes")?,
                opted_out: c.flag("opted_out")?,
            })
        })
        .collect()
}

/// Records an acknowledgement (the latest status wins); returns whether the
/// status changed (a first acknowledgement, or another status than the
/// stored one).
///
/// The same status again changes nothing, not even `at` and `via`: `at` stays
/// the instant of the change, and the caller publishes an event only for a
/// change. The condition sits in the upsert itself, so two concurrent
/// acknowledgements with one status cannot both report a change (PostgreSQL
/// locks the conflicting row and re-checks it; SQLite has one writer).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_ack(
    conn: &mut AnyConnection,
    structure_id: &str,
    call_id: &str,
    status: &str,
    at: DateTime<Utc>,
    via: &str,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO al_acks (structure_id, call_id, status, at, via) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (structure_id, call_id) DO UPDATE SET status = excluded.status, at = excluded.at, via = excluded.via \
         WHERE al_acks.status <> excluded.status",
    )
    .bind(structure_id.to_owned())
    .bind(call_id.to_owned())
    .bind(status.to_owned())
    .bind(rfc3339(at))
    .bind(via.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Every acknowledgement as `(structure_id, call_id, status)`.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn acks(conn: &mut AnyConnection) -> Result<Vec<(String, String, String)>, StorageError> {
    let rows = sqlx::query("SELECT structure_id, call_id, status FROM al_acks")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("structure_id")?, r.try_get("call_id")?, r.try_get("status")?)))
        .collect()
}

/// Records that a recipient unsubscribed from emails.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn save_unsubscribed(
    conn: &mut AnyConnection,
    recipient: &str,
    person_id: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), StorageError> {
    sqlx::query("INSERT INTO al_unsubscribed (recipient, person_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(recipient.to_owned())
        .bind(person_id.map(str::to_owned))
        .bind(rfc3339(at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every unsubscribed recipient id.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn unsubscribed(conn: &mut AnyConnection) -> Result<Vec<String>, StorageError> {
    let rows = sqlx::query("SELECT recipient FROM al_unsubscribed")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("recipient")?)).collect()
}

/// What changed in policies and preferences at or after `after`: the networks
/// (policy or network preferences) and the structures (their preferences).
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn settings_changed_since(
    conn: &mut AnyConnection,
    after: DateTime<Utc>,
) -> Result<(Vec<String>, Vec<String>), StorageError> {
    let after = rfc3339(after);
    let mut networks: Vec<String> = sqlx::query("SELECT network_id FROM al_policies WHERE changed_at >= $1")
        .bind(after.clone())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("network_id"))
        .collect::<Result<_, _>>()?;
    let mut structures = Vec::new();
    for row in sqlx::query("SELECT scope_kind, scope_id FROM al_preferences WHERE changed_at >= $1")
        .bind(after)
        .fetch_all(&mut *conn)
        .await?
    {
        let kind: String = row.try_get("scope_kind")?;
        let id: String = row.try_get("scope_id")?;
        if kind == "network" {
            networks.push(id);
        } else {
            structures.push(id);
        }
    }
    Ok((networks, structures))
}

/// Until when reminders were planned (`None` before the first pass).
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn planned_until(conn: &mut AnyConnection) -> Result<Option<DateTime<Utc>>, StorageError> {
    let row = sqlx::query("SELECT planned_until FROM al_dispatch_state WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| Columns::of(&r, "al_dispatch_state").instant("planned_until"))
        .transpose()
}

/// Records until when reminders were planned.
///
/// # Errors
/// [`StorageError`] on a database error.
pub async fn set_planned_until(conn: &mut AnyConnection, at: DateTime<Utc>) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO al_dispatch_state (id, planned_until) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET planned_until = excluded.planned_until",
    )
    .bind(rfc3339(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The current generation of a scope's feed URLs (`structure` or `network`), 0 when never revoked.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn feed_generation(conn: &mut AnyConnection, scope_kind: &str, scope_id: &str) -> Result<u64, StorageError> {
    let row = sqlx::query("SELECT generation FROM al_feed_generations WHERE scope_kind = $1 AND scope_id = $2")
        .bind(scope_kind.to_owned())
        .bind(scope_id.to_owned())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok(0),
        Some(row) => {
            let generation: i64 = row.try_get("generation")?;
            u64::try_from(generation)
                .map_err(|_| StorageError::corrupt("al_feed_generations", "generation", generation))
        }
    }
}

/// Bumps a scope's feed generation (revoking its URLs); returns the new one.
///
/// # Errors
/// [`StorageError`] on a database error or an invalid stored value.
pub async fn bump_feed_generation(
    conn: &mut AnyConnection,
    scope_kind: &str,
    scope_id: &str,
    at: DateTime<Utc>,
) -> Result<u64, StorageError> {
    sqlx::query(
        "INSERT INTO al_feed_generations (scope_kind, scope_id, generation, changed_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (scope_kind, scope_id) DO UPDATE SET generation = al_feed_generations.generation + 1, \
         changed_at = excluded.changed_at",
    )
    .bind(scope_kind.to_owned())
    .bind(scope_id.to_owned())
    .bind(rfc3339(at))
    .execute(&mut *conn)
    .await?;
    feed_generation(conn, scope_kind, scope_id).await
}
