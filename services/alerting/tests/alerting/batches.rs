//! Batched writes of a claim (multi-row `INSERT`s spanning several
//! statements) and a delivery pass over one pooled SMTP connection: what a
//! batch keeps when one of its rows is refused, and what it leaves to others.

use std::collections::HashSet;

use anyhow::{ensure, Result};
use chrono::TimeDelta;
use sqlx::Row;
use vigie_alerting::app::views::SendLogRecord;
use vigie_alerting::storage::{self, Lease, MessageRow};
use vigie_testkit::SmtpServer;

use crate::harness::{date, utc, Harness};
use crate::leases::rennes_directors;
use crate::scenarios::channels;

/// More rows than one statement carries (the parameter limit): the batch
/// spans several statements (on PostgreSQL too: 266 messages, 307 rows each).
const MANY: usize = 320;

fn message(i: usize) -> MessageRow {
    MessageRow {
        message_id: format!("m{i:03}@vigie"),
        recipient: format!("person:P{i}"),
        person_id: i.is_multiple_of(2).then(|| format!("P{i}")),
        channel: "email".to_owned(),
        address: format!("p{i}@asso.example.org"),
        network: "reseau-bretagne".to_owned(),
        local_date: date("2027-03-07"),
        subject: format!("Rappel n° {i} — « échéance »"),
        body_text: format!("texte {i}\n'quotes' and $1 placeholders"),
        body_html: format!("<p>{i}</p>"),
        status: storage::PENDING.to_owned(),
        attempts: 0,
        next_attempt_at: utc("2027-03-07 08:00"),
        last_error: String::new(),
        sent_at: None,
    }
}

fn log_row(i: usize, message_id: &str) -> SendLogRecord {
    SendLogRecord {
        recipient: format!("person:P{i}"),
        call_id: "aides-territoires:1".to_owned(),
        stage_kind: "submission".to_owned(),
        revision: 1,
        offset_days: 7,
        channel: "email".to_owned(),
        person_id: Some(format!("P{i}")),
        structure_id: format!("S{i}"),
        due_at: utc("2027-03-07 08:00"),
        late: i.is_multiple_of(3),
        escalation: String::new(),
        message_id: message_id.to_owned(),
        claimed_at: utc("2027-03-07 08:05"),
    }
}

pub async fn a_claim_batch_spans_statements_and_a_refused_row_keeps_nothing_of_it(h: Harness) -> Result<()> {
    let now = utc("2027-03-07 08:05");
    let messages: Vec<MessageRow> = (0..MANY).map(message).collect();
    let rows: Vec<SendLogRecord> = (0..MANY).map(|i| log_row(i, &messages[i].message_id)).collect();
    let mut tx = h.db.begin().await?;
    storage::insert_messages(&mut tx, &messages, now).await?;
    storage::claim(&mut tx, &rows).await?;
    tx.commit().await?;

    // Every value came back as written, whatever statement carried it.
    let mut conn = h.db.pool().acquire().await?;
    let stored = storage::due_messages(&mut conn, now, 1_000).await?;
    ensure!(stored == messages, "stored messages differ");
    let mut logged = storage::reminders_sent_for(&mut conn, &["aides-territoires:1".to_owned()]).await?;
    logged.sort_by(|a, b| a.message_id.cmp(&b.message_id));
    ensure!(logged == rows, "stored send-log rows differ");
    drop(conn);

    // A second batch whose last rows repeat keys already claimed: the whole
    // batch is refused, its new messages and rows included.
    let again: Vec<MessageRow> = (MANY..2 * MANY).map(message).collect();
    let mut again_rows: Vec<SendLogRecord> = (MANY..2 * MANY)
        .map(|i| log_row(i, &again[i - MANY].message_id))
        .collect();
    again_rows.push(log_row(3, &again[0].message_id));
    let mut tx = h.db.begin().await?;
    storage::insert_messages(&mut tx, &again, now).await?;
    ensure!(
        storage::claim(&mut tx, &again_rows).await.is_err(),
        "a key already in the send log is refused"
    );
    tx.rollback().await?;
    ensure!(h.count("al_messages").await? == MANY as i64);
    ensure!(h.count("al_send_log").await? == MANY as i64);

    // A message id already stored refuses its batch too.
    let mut tx = h.db.begin().await?;
    let duplicate = vec![message(2 * MANY), message(5)];
    ensure!(storage::insert_messages(&mut tx, &duplicate, now).await.is_err());
    tx.rollback().await?;
    ensure!(h.count("al_messages").await? == MANY as i64);
    Ok(())
}

pub async fn a_pass_reuses_one_connection_skips_leased_messages_and_fails_only_the_refused_one(
    h: Harness,
) -> Result<()> {
    const STRUCTURES: usize = 8;
    let smtp = SmtpServer::start().await?;
    rennes_directors(&h, STRUCTURES).await?;
    h.at(utc("2027-03-07 08:05"));
    let claimed = h.app.claim_due(h.app.now()).await?;
    ensure!(claimed.messages == STRUCTURES, "{claimed:?}");

    // Another replica holds two messages; one recipient is refused for good.
    let now = h.app.now();
    let mut conn = h.db.pool().acquire().await?;
    let held = storage::lease_due_messages(
        &mut conn,
        h.db.backend(),
        &Lease {
            owner: "other-replica",
            until: now + TimeDelta::minutes(5),
        },
        now,
        2,
    )
    .await?;
    drop(conn);
    ensure!(held.len() == 2);
    let held_ids: HashSet<String> = held.iter().map(|m| m.message_id.clone()).collect();
    let free: Vec<String> =
        sqlx::query("SELECT address FROM al_messages WHERE lease_owner IS NULL ORDER BY message_id")
            .fetch_all(h.db.pool())
            .await?
            .iter()
            .map(|r| r.try_get("address"))
            .collect::<Result<_, _>>()?;
    let refused = free[2].clone();
    smtp.reject_recipient(&refused)?;

    let transport = channels(&smtp)?;
    let before = smtp.connections()?;
    let report = h.app.deliver_due(now, &transport, 500).await?;
    ensure!(
        report.sent == STRUCTURES - 3 && report.failed == 1 && report.leased() == STRUCTURES - 2,
        "{report:?}"
    );
    // One connection for the messages before the refusal, one after it (a
    // refused transaction closes its connection): not one per message.
    let opened = smtp.connections()? - before;
    ensure!(opened == 2, "{opened} connections for {} messages", report.leased());
    let received = smtp.messages()?;
    ensure!(received.len() == STRUCTURES - 3);
    ensure!(received.iter().all(|m| {
        let id = m.message_id.as_deref().unwrap_or_default();
        !m.to.contains(&refused) && !held_ids.iter().any(|held| id == format!("<{held}>"))
    }));

    // The held messages are still the other replica's; the refused one failed alone.
    let rows = sqlx::query("SELECT message_id, status, lease_owner FROM al_messages ORDER BY message_id")
        .fetch_all(h.db.pool())
        .await?;
    for row in rows {
        let id: String = row.try_get("message_id")?;
        let status: String = row.try_get("status")?;
        let owner: Option<String> = row.try_get("lease_owner")?;
        if held_ids.contains(&id) {
            ensure!(status == "pending" && owner.as_deref() == Some("other-replica"), "{id}");
        } else {
            ensure!(status == "sent" || status == "failed", "{id}: {status}");
            ensure!(owner.is_none(), "{id} lease cleared");
        }
    }

    // The next pass reuses the parked connection.
    h.at(now + TimeDelta::minutes(6));
    let before = smtp.connections()?;
    let report = h.app.deliver_due(h.app.now(), &transport, 500).await?;
    ensure!(report.sent == 2, "{report:?}");
    ensure!(smtp.connections()? == before, "the parked connection was reused");
    Ok(())
}
