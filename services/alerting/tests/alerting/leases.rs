//! Leases: one delivery per message whatever the number of replicas sharing
//! the database, and the messages of a replica that died go out once its
//! lease has expired, with their Message-ID.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{ensure, Result};
use chrono::TimeDelta;
use sqlx::Row;
use vigie_alerting::app::Transport;
use vigie_alerting::channels::SendError;
use vigie_alerting::delivery::Channels;
use vigie_alerting::storage::{self, Lease, MessageRow};
use vigie_testkit::{eventually, SmtpServer};

use crate::harness::{aid, date, utc, Harness, PersonSpec};
use crate::scenarios::channels;

/// `n` structures of Rennes, each with one director (one digest each), and
/// the call of the Région closing on 2027-03-14.
pub async fn rennes_directors(h: &Harness, n: usize) -> Result<()> {
    for i in 0..n {
        h.rennes(&format!("S{i}"), &[PersonSpec::sole_holder(&format!("P{i}"))])
            .await?;
    }
    h.import(&[aid(1, "Bretagne", "Région", "2027-03-14")]).await?;
    Ok(())
}

/// How many times each Message-ID reached the server.
fn copies(smtp: &SmtpServer) -> Result<HashMap<String, usize>> {
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for mail in smtp.messages()? {
        *per_id.entry(mail.message_id.unwrap_or_default()).or_default() += 1;
    }
    Ok(per_id)
}

pub async fn three_replicas_deliver_each_message_once_through_a_slow_server(h: Harness) -> Result<()> {
    const MESSAGES: usize = 12;
    let smtp = SmtpServer::start().await?;
    smtp.delay_data(Duration::from_millis(150))?;
    rennes_directors(&h, MESSAGES).await?;
    h.at(utc("2027-03-07 08:05"));
    let mut replicas = Vec::new();
    for _ in 0..3 {
        let app = h.restarted();
        let transport = channels(&smtp)?;
        replicas.push(tokio::spawn(async move {
            // Each replica claims (concurrently: the send log refuses a second
            // claim), then leases two messages at a time until none is left.
            let _ = app.claim_due(app.now()).await;
            let mut sent = 0;
            loop {
                let report = app.deliver_due(app.now(), &transport, 2).await?;
                if report.leased() == 0 {
                    return anyhow::Ok(sent);
                }
                ensure!(report.lease_lost == 0 && report.failed == 0, "{report:?}");
                sent += report.sent;
            }
        }));
    }
    let mut per_replica = Vec::new();
    for replica in replicas {
        per_replica.push(replica.await??);
    }
    let per_id = copies(&smtp)?;
    ensure!(per_id.len() == MESSAGES, "every message delivered: {per_id:?}");
    ensure!(per_id.values().all(|&n| n == 1), "each Message-ID once: {per_id:?}");
    ensure!(per_replica.iter().sum::<usize>() == MESSAGES, "{per_replica:?}");
    ensure!(
        per_replica.iter().filter(|&&n| n > 0).count() >= 2,
        "the replicas shared the work: {per_replica:?}"
    );
    let log = h.app.send_log(None, 1000).await?;
    ensure!(log.iter().all(|e| e.status == "sent"), "{log:?}");
    let ids: HashSet<&str> = log.iter().map(|e| e.row.message_id.as_str()).collect();
    let sent: HashSet<&str> = per_id.keys().map(|id| id.trim_matches(['<', '>'])).collect();
    ensure!(ids == sent, "the send log's messages are the ones delivered");
    // The claims raced; a losing batch rolled back with its events: one
    // `reminder.sent` per reminder claimed, none twice.
    let events = h.outbox_count(vigie_alerting::events::REMINDER_SENT).await?;
    ensure!(
        events == MESSAGES as i64,
        "{events} reminder events for {MESSAGES} messages"
    );
    Ok(())
}

/// Delivers `before` messages, then hangs before the next one (a process
/// killed while sending).
struct DiesWhileSending<'a> {
    inner: &'a Channels,
    delivered: AtomicUsize,
    before: usize,
}

#[async_trait::async_trait]
impl Transport for DiesWhileSending<'_> {
    async fn deliver(&self, message: &MessageRow, secret: &str, unsubscribe: &str) -> Result<(), SendError> {
        if self.delivered.fetch_add(1, Ordering::SeqCst) >= self.before {
            std::future::pending::<()>().await;
        }
        self.inner.deliver(message, secret, unsubscribe).await
    }
}

pub async fn a_dead_replicas_messages_go_out_once_after_its_lease(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    rennes_directors(&h, 6).await?;
    h.at(utc("2027-03-07 08:05"));
    let claimed = h.app.claim_due(h.app.now()).await?;
    ensure!(claimed.messages == 6, "{claimed:?}");
    // Replica A leases everything for one minute, sends two messages and dies
    // while sending the third.
    let dead = h.restarted().with_lease(Duration::from_secs(60));
    let owner = dead.lease_owner().to_owned();
    let pass = {
        let dead = dead.clone();
        let transport = channels(&smtp)?;
        tokio::spawn(async move {
            let dying = DiesWhileSending {
                inner: &transport,
                delivered: AtomicUsize::new(0),
                before: 2,
            };
            dead.deliver_due(dead.now(), &dying, 500).await.map(|_| ())
        })
    };
    eventually(
        "two messages sent and recorded by the dying replica",
        Duration::from_secs(20),
        || async {
            let sent: i64 = sqlx::query("SELECT COUNT(*) AS n FROM al_messages WHERE status = 'sent'")
                .fetch_one(h.db.pool())
                .await?
                .try_get("n")?;
            Ok(sent == 2 && smtp.messages()?.len() == 2)
        },
    )
    .await?;
    let held: HashSet<String> = sqlx::query("SELECT message_id FROM al_messages WHERE lease_owner = $1")
        .bind(owner.clone())
        .fetch_all(h.db.pool())
        .await?
        .iter()
        .map(|r| r.try_get("message_id"))
        .collect::<Result<_, _>>()?;
    ensure!(held.len() == 4, "still leased by the dead replica: {held:?}");
    pass.abort();
    let _ = pass.await;

    // Replica B: nothing while the lease holds, everything once after.
    let alive = h.restarted();
    ensure!(alive.lease_owner() != owner);
    let early = alive.deliver_due(alive.now(), &transport, 500).await?;
    ensure!(early.leased() == 0 && smtp.messages()?.len() == 2, "{early:?}");
    h.at(utc("2027-03-07 08:06") + TimeDelta::seconds(1));
    let late = alive.deliver_due(alive.now(), &transport, 500).await?;
    ensure!(late.sent == 4 && late.leased() == 4, "{late:?}");
    let per_id = copies(&smtp)?;
    ensure!(per_id.len() == 6 && per_id.values().all(|&n| n == 1), "{per_id:?}");
    for id in &held {
        ensure!(
            per_id.contains_key(&format!("<{id}>")),
            "{id} sent with its Message-ID: {per_id:?}"
        );
    }
    ensure!(h.app.send_log(None, 1000).await?.iter().all(|e| e.status == "sent"));
    Ok(())
}

fn message(id: &str) -> MessageRow {
    MessageRow {
        message_id: id.to_owned(),
        recipient: "person:P1".to_owned(),
        person_id: Some("P1".to_owned()),
        channel: "email".to_owned(),
        address: "p1@asso.example.org".to_owned(),
        network: "reseau-bretagne".to_owned(),
        local_date: date("2027-03-07"),
        subject: "Rappel".to_owned(),
        body_text: "texte".to_owned(),
        body_html: String::new(),
        status: storage::PENDING.to_owned(),
        attempts: 0,
        next_attempt_at: utc("2027-03-07 08:00"),
        last_error: String::new(),
        sent_at: None,
    }
}

pub async fn an_outcome_needs_the_lease(h: Harness) -> Result<()> {
    let backend = h.db.backend();
    let now = utc("2027-03-07 08:05");
    let mut conn = h.db.pool().acquire().await?;
    storage::insert_message(&mut conn, &message("m1@vigie"), now).await?;
    storage::insert_message(&mut conn, &message("m2@vigie"), now).await?;
    let lease = |owner, minutes| Lease {
        owner,
        until: now + TimeDelta::minutes(minutes),
    };
    let ids = |messages: Vec<MessageRow>| messages.into_iter().map(|m| m.message_id).collect::<Vec<_>>();

    // A takes m1 (oldest first, by id); B cannot take it while A holds it.
    let a = storage::lease_due_messages(&mut conn, backend, &lease("A", 1), now, 1).await?;
    let a = ids(a);
    ensure!(a == ["m1@vigie"], "{a:?}");
    let b = storage::lease_due_messages(&mut conn, backend, &lease("B", 1), now, 10).await?;
    ensure!(ids(b) == ["m2@vigie"], "only the free message");
    ensure!(storage::lease_due_messages(&mut conn, backend, &lease("C", 1), now, 10)
        .await?
        .is_empty());

    // A's lease expires; B takes m1 over. A can no longer record anything.
    let later = now + TimeDelta::minutes(2);
    let b = storage::lease_due_messages(&mut conn, backend, &lease("B", 5), later, 10).await?;
    ensure!(ids(b) == ["m1@vigie", "m2@vigie"], "expired leases return to the queue");
    ensure!(!storage::mark_sent(&mut conn, "m1@vigie", "A", later).await?);
    ensure!(!storage::mark_failed_attempt(&mut conn, "m1@vigie", "A", "x", None).await?);
    let row = sqlx::query("SELECT status, attempts, lease_owner FROM al_messages WHERE message_id = 'm1@vigie'")
        .fetch_one(&mut *conn)
        .await?;
    ensure!(row.try_get::<String, _>("status")? == "pending");
    ensure!(row.try_get::<i64, _>("attempts")? == 0);
    ensure!(row.try_get::<Option<String>, _>("lease_owner")?.as_deref() == Some("B"));

    // B records; the message leaves the queue and its lease is cleared.
    ensure!(storage::mark_sent(&mut conn, "m1@vigie", "B", later).await?);
    ensure!(!storage::mark_sent(&mut conn, "m1@vigie", "B", later).await?, "once");
    // A transient failure gives the lease back with the retry time.
    let retry = later + TimeDelta::minutes(1);
    ensure!(storage::mark_failed_attempt(&mut conn, "m2@vigie", "B", "451", Some(retry)).await?);
    ensure!(
        storage::lease_due_messages(&mut conn, backend, &lease("C", 10), later, 10)
            .await?
            .is_empty()
    );
    let c = storage::lease_due_messages(&mut conn, backend, &lease("C", 10), retry, 10).await?;
    ensure!(ids(c) == ["m2@vigie"], "due again at its retry time, leased at once");
    // A lease given back is free at once.
    storage::release_leases(&mut conn, "C", &["m2@vigie".to_owned()]).await?;
    let d = storage::lease_due_messages(&mut conn, backend, &lease("D", 10), retry, 10).await?;
    ensure!(ids(d) == ["m2@vigie"]);
    let row = sqlx::query("SELECT status, lease_owner, lease_until FROM al_messages WHERE message_id = 'm1@vigie'")
        .fetch_one(&mut *conn)
        .await?;
    ensure!(row.try_get::<String, _>("status")? == "sent");
    ensure!(row.try_get::<Option<String>, _>("lease_owner")?.is_none());
    ensure!(row.try_get::<Option<String>, _>("lease_until")?.is_none());
    Ok(())
}
