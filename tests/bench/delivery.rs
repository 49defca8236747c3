//! `vigie-bench delivery`: the two write-heavy ends of reminder delivery
//! (issue 14), each beside a bare part measured in the same run
//! (docs/benchmarks.md, section "Claims and SMTP delivery").
//!
//! 1. **claim writes**: the messages and send-log rows of a claim, written
//!    through the storage functions `claim_due` calls, in transactions of 200
//!    messages: one `INSERT` per message and one per message's rows (the
//!    code before issue 14) beside the multi-row statements of
//!    `storage::insert_messages` / `storage::claim`. On a SQLite file
//!    (embedded) and a fresh PostgreSQL database (distributed).
//! 2. **SMTP**: `deliver_due` (lease, send through the pooled `SmtpMailer`,
//!    `mark_sent` under the lease) draining pending messages to the real
//!    test SMTP server (`vigie_testkit::SmtpServer`, aiosmtpd), beside a plain
//!    client (Python's `smtplib`, one connection) sending the same message
//!    bytes to the same server, before and after Vigie; and `SmtpMailer::send`
//!    alone (no database) in between.
//!
//! Options (defaults): `--mode both|embedded|distributed`, `--messages
//! 20000` (claimed messages; 4 send-log rows for every 3), `--smtp-messages
//! 1000`, `--database-url URL` (instead of a fresh `PgDatabase`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::Notify;
use vigie_alerting::app::views::SendLogRecord;
use vigie_alerting::app::{AlertingApp, AlertingSettings};
use vigie_alerting::channels::email::{OutgoingEmail, SmtpConfig, SmtpMailer};
use vigie_alerting::channels::webhook::WebhookSender;
use vigie_alerting::delivery::{Channels, Mailbox};
use vigie_alerting::service::DELIVERY_BATCH;
use vigie_alerting::storage::{self, MessageRow};
use vigie_platform::db::Db;
use vigie_testkit::SmtpServer;

use crate::args::Args;
use crate::database::database_url;

/// Messages per claim transaction, as `claim_due`.
const CLAIM_BATCH: usize = 200;

/// The plain client: one connection, the same bytes `count` times; prints
/// the seconds spent (connection included, interpreter start excluded).
const PLAIN_CLIENT: &str = r#"
import smtplib, sys, time
host, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
raw = open(path, "rb").read()
start = time.perf_counter()
with smtplib.SMTP(host, port) as client:
    for i in range(count):
        client.sendmail("alertes@vigie.example.org", ["plain@asso.example.org"], raw)
print(time.perf_counter() - start)
"#;

struct Options {
    modes: Vec<&'static str>,
    messages: usize,
    smtp_messages: usize,
    database_url: Option<String>,
}

fn options(args: &[String]) -> Result<Options> {
    let args = Args(args);
    Ok(Options {
        modes: args.modes("both", ["embedded", "distributed"])?,
        messages: args.number("--messages", 20_000)?,
        smtp_messages: args.number("--smtp-messages", 1_000)?,
        database_url: args.value("--database-url").map(str::to_owned),
    })
}

struct Measured {
    mode: &'static str,
    rows: usize,
    messages: usize,
    one_by_one: Duration,
    batched: Duration,
    smtp_messages: usize,
    plain_before: Duration,
    mailer_alone: Duration,
    vigie: Duration,
    plain_after: Duration,
    vigie_connections: u64,
    message_bytes: usize,
}

/// Runs the scenario.
///
/// # Errors
/// A database, the SMTP server or the plain client fails.
pub async fn run(args: &[String]) -> Result<()> {
    let o = options(args)?;
    let mut results = Vec::new();
    for mode in &o.modes {
        results.push(run_mode(mode, &o).await?);
    }
    println!("\n## Claim writes: messages and send-log rows, transactions of {CLAIM_BATCH} messages\n");
    println!("| mode | messages | send-log rows | one INSERT per message (s) | rows/s | multi-row INSERTs (s) | rows/s | speed-up |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &results {
        println!(
            "| {} | {} | {} | {:.2} | {:.0} | {:.2} | {:.0} | {:.1}× |",
            r.mode,
            r.messages,
            r.rows,
            r.one_by_one.as_secs_f64(),
            rate(r.rows, r.one_by_one),
            r.batched.as_secs_f64(),
            rate(r.rows, r.batched),
            r.one_by_one.as_secs_f64() / r.batched.as_secs_f64().max(1e-9),
        );
    }
    println!("\n## SMTP: deliver_due through the pooled mailer beside a plain client on one connection, same server\n");
    println!("| mode | messages | message (kB) | plain client before (msg/s) | `SmtpMailer::send` alone (msg/s) | Vigie `deliver_due` (msg/s) | plain client after (msg/s) | ratio to the plain mean | connections opened by `deliver_due` |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &results {
        let plain = (rate(r.smtp_messages, r.plain_before) + rate(r.smtp_messages, r.plain_after)) / 2.0;
        let vigie = rate(r.smtp_messages, r.vigie);
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {} |",
            r.mode,
            r.smtp_messages,
            r.message_bytes as f64 / 1e3,
            rate(r.smtp_messages, r.plain_before),
            rate(r.smtp_messages, r.mailer_alone),
            vigie,
            rate(r.smtp_messages, r.plain_after),
            vigie / plain.max(1e-9),
            r.vigie_connections,
        );
    }
    Ok(())
}

fn rate(n: usize, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

async fn run_mode(mode: &'static str, o: &Options) -> Result<Measured> {
    let dir = tempfile::tempdir()?;
    let embedded = mode == "embedded";
    let (url, _pg) = database_url(embedded, dir.path(), "alerting", o.database_url.as_deref()).await?;
    let db = Db::connect(&url).await?;
    vigie_alerting::service::migrate(&db).await?;
    let now = Utc::now();

    // 1. Claim writes: the same shape of data through both paths, the
    // one-by-one path first (the batched one then writes into fuller tables).
    let (messages, rows) = claim_data("a", o.messages, now);
    let started = Instant::now();
    write_one_by_one(&db, &messages, &rows, now).await?;
    let one_by_one = started.elapsed();
    let (messages, rows) = claim_data("b", o.messages, now);
    let started = Instant::now();
    write_batched(&db, &messages, &rows, now).await?;
    let batched = started.elapsed();
    eprintln!(
        "{mode}: {} rows one by one in {:.2}s, batched in {:.2}s",
        rows.len(),
        one_by_one.as_secs_f64(),
        batched.as_secs_f64()
    );
    // Those messages are not to be delivered.
    sqlx::query("UPDATE al_messages SET status = 'sent'")
        .execute(db.pool())
        .await?;

    // 2. SMTP.
    let server = SmtpServer::start().await?;
    let mailer = SmtpMailer::new(SmtpConfig {
        host: server.host().to_owned(),
        port: server.port(),
        from: "Vigie <alertes@vigie.example.org>".to_owned(),
        timeout: Duration::from_secs(30),
        ..SmtpConfig::default()
    })?;
    let sample = smtp_messages("s", 1, now).remove(0);
    let raw = mailer
        .build(&OutgoingEmail {
            message_id: sample.message_id.clone(),
            to: sample.address.clone(),
            to_name: String::new(),
            subject: sample.subject.clone(),
            text: sample.body_text.clone(),
            html: sample.body_html.clone(),
            list_unsubscribe: "https://vigie.example.org/alertes/unsubscribe/x".to_owned(),
        })
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .formatted();
    let raw_path = dir.path().join("message.eml");
    std::fs::write(&raw_path, &raw)?;
    let plain_before = plain_client(&server, o.smtp_messages, &raw_path).await?;
    // The mailer alone (no database): what the SMTP client costs by itself.
    let outgoing = OutgoingEmail {
        message_id: sample.message_id.clone(),
        to: sample.address.clone(),
        to_name: String::new(),
        subject: sample.subject.clone(),
        text: sample.body_text.clone(),
        html: sample.body_html.clone(),
        list_unsubscribe: "https://vigie.example.org/alertes/unsubscribe/x".to_owned(),
    };
    let started = Instant::now();
    for _ in 0..o.smtp_messages {
        mailer.send(&outgoing).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mailer_alone = started.elapsed();
    let pending = smtp_messages("d", o.smtp_messages, now);
    let mut conn = db.pool().acquire().await?;
    for chunk in pending.chunks(CLAIM_BATCH) {
        storage::insert_messages(&mut conn, chunk, now).await?;
    }
    drop(conn);
    let app = AlertingApp::new(
        db.clone(),
        AlertingSettings::local(
            "https://vigie.example.org/alertes",
            b"a link secret of thirty-two bytes".to_vec(),
        ),
        Arc::new(Notify::new()),
    );
    let channels = Channels::new(
        Mailbox::Smtp(Box::new(mailer)),
        WebhookSender::new(Duration::from_secs(5))?,
    );
    let connections_before = server.connections()?;
    let started = Instant::now();
    let mut sent = 0;
    while sent < o.smtp_messages {
        let report = app.deliver_due(Utc::now(), &channels, DELIVERY_BATCH).await?;
        if report.retried + report.failed + report.lease_lost > 0 {
            bail!("{report:?}");
        }
        if report.sent == 0 {
            bail!("{} of {} delivered, none left due", sent, o.smtp_messages);
        }
        sent += report.sent;
    }
    let vigie = started.elapsed();
    let vigie_connections = server.connections()? - connections_before;
    let plain_after = plain_client(&server, o.smtp_messages, &raw_path).await?;
    eprintln!(
        "{mode}: {} messages: plain {:.2}s, mailer alone {:.2}s, Vigie {:.2}s ({vigie_connections} connections), plain {:.2}s",
        o.smtp_messages,
        plain_before.as_secs_f64(),
        mailer_alone.as_secs_f64(),
        vigie.as_secs_f64(),
        plain_after.as_secs_f64()
    );
    let received = server.messages()?.len();
    if received != 4 * o.smtp_messages {
        bail!("the server holds {received} messages, not {}", 4 * o.smtp_messages);
    }
    db.close().await;
    Ok(Measured {
        mode,
        rows: rows.len(),
        messages: messages.len(),
        one_by_one,
        batched,
        smtp_messages: o.smtp_messages,
        plain_before,
        mailer_alone,
        vigie,
        plain_after,
        vigie_connections,
        message_bytes: raw.len(),
    })
}

/// A digest-sized message (text and HTML bodies of a few kB, like the
/// backlog's digests), pending and due at `now`.
fn message(prefix: &str, i: usize, now: DateTime<Utc>) -> MessageRow {
    let line = format!("- Structure {i} : Fonds régional pour la vie associative, dépôt avant le 14 mars 2027\n");
    MessageRow {
        message_id: format!("{prefix}{i:07}@vigie"),
        recipient: format!("person:{prefix}P{i}"),
        person_id: Some(format!("{prefix}P{i}")),
        channel: "email".to_owned(),
        address: format!("p{i}@asso.example.org"),
        network: "reseau-00".to_owned(),
        local_date: NaiveDate::from_ymd_opt(2027, 1, 3).unwrap_or_default(),
        subject: "Vigie — 2 échéances de financement à venir".to_owned(),
        body_text: line.repeat(20),
        body_html: format!("<p>{line}</p>").repeat(28),
        status: storage::PENDING.to_owned(),
        attempts: 0,
        next_attempt_at: now,
        last_error: String::new(),
        sent_at: None,
    }
}

fn smtp_messages(prefix: &str, n: usize, now: DateTime<Utc>) -> Vec<MessageRow> {
    (0..n).map(|i| message(prefix, i, now)).collect()
}

/// `n` messages and their send-log rows: one row for two messages in three,
/// two for the third (4 rows per 3 messages, about the backlog's 1.29).
fn claim_data(prefix: &str, n: usize, now: DateTime<Utc>) -> (Vec<MessageRow>, Vec<SendLogRecord>) {
    let messages = smtp_messages(prefix, n, now);
    let mut rows = Vec::with_capacity(n * 4 / 3 + 1);
    for (i, m) in messages.iter().enumerate() {
        let calls = if i % 3 == 2 { 2 } else { 1 };
        for c in 0..calls {
            rows.push(SendLogRecord {
                recipient: m.recipient.clone(),
                call_id: format!("aides-territoires:{}", (i + c) % 10_000),
                stage_kind: "submission".to_owned(),
                revision: 1,
                offset_days: 30,
                channel: "email".to_owned(),
                person_id: m.person_id.clone(),
                structure_id: format!("{prefix}S{i}"),
                due_at: now,
                late: true,
                escalation: String::new(),
                message_id: m.message_id.clone(),
                claimed_at: now,
            });
        }
    }
    (messages, rows)
}

/// The rows of each message, in message order (`rows` is grouped so).
fn per_message<'a>(
    messages: &'a [MessageRow],
    rows: &'a [SendLogRecord],
) -> Vec<(&'a MessageRow, &'a [SendLogRecord])> {
    let mut out = Vec::with_capacity(messages.len());
    let mut start = 0;
    for m in messages {
        let end = start
            + rows[start..]
                .iter()
                .take_while(|r| r.message_id == m.message_id)
                .count();
        out.push((m, &rows[start..end]));
        start = end;
    }
    out
}

/// As `claim_due` wrote before issue 14: per message, its `INSERT` and one for its rows.
async fn write_one_by_one(db: &Db, messages: &[MessageRow], rows: &[SendLogRecord], now: DateTime<Utc>) -> Result<()> {
    for batch in per_message(messages, rows).chunks(CLAIM_BATCH) {
        let mut tx = db.begin().await?;
        for (message, rows) in batch {
            storage::insert_message(&mut tx, message, now).await?;
            storage::claim(&mut tx, rows).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// As `claim_due` writes now: per batch, the messages then the rows, in multi-row statements.
async fn write_batched(db: &Db, messages: &[MessageRow], rows: &[SendLogRecord], now: DateTime<Utc>) -> Result<()> {
    for batch in per_message(messages, rows).chunks(CLAIM_BATCH) {
        let batch_messages: Vec<MessageRow> = batch.iter().map(|(m, _)| (*m).clone()).collect();
        let batch_rows: Vec<SendLogRecord> = batch.iter().flat_map(|(_, r)| r.iter().cloned()).collect();
        let mut tx = db.begin().await?;
        storage::insert_messages(&mut tx, &batch_messages, now).await?;
        storage::claim(&mut tx, &batch_rows).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Sends `count` copies of the message at `raw` over one connection with
/// Python's `smtplib`; the time the script measured.
async fn plain_client(server: &SmtpServer, count: usize, raw: &std::path::Path) -> Result<Duration> {
    let python = std::env::var("VIGIE_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = tokio::process::Command::new(python)
        .arg("-c")
        .arg(PLAIN_CLIENT)
        .arg(server.host())
        .arg(server.port().to_string())
        .arg(count.to_string())
        .arg(raw)
        .output()
        .await
        .context("starting the plain SMTP client")?;
    if !output.status.success() {
        bail!("plain client: {}", String::from_utf8_lossy(&output.stderr));
    }
    let seconds: f64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .context("the plain client's time")?;
    Ok(Duration::from_secs_f64(seconds))
}
