//! Reminders of reporting duties (issue 16, docs/alerting.md « Reporting
//! duties »), on both backends, through a real SMTP server, the real HTTP
//! endpoints and a settable clock: J-30/14/7/2 and the internal draft date
//! on the right local dates to the holders of `funder_reporting` and the
//! director; escalation to the referent from J-14 with one event; « envoyé »
//! by the signed link stops them; a moved date gives one notice and a new
//! series; two claimers send nothing twice.
//!
//! The grant: « Insertion » from the Région Bretagne for the financial year
//! ending 2026-12-31, so its compte rendu financier is due 2027-06-30 and
//! its internal draft date is 2027-06-16 (14 days). In summer 09:00 Paris is
//! 07:00 UTC: J-30 on 2027-05-31, J-14 and the draft date on 2027-06-16,
//! J-7 on 2027-06-23, J-2 on 2027-06-28.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use sqlx::Row;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::sync::CancellationToken;
use vigie_alerting::app::{AgreementDateInput, GrantInput, PolicyInput};
use vigie_alerting::channels::links::FeedKind;
use vigie_alerting::events::{DEADLINE_ESCALATED, OBLIGATION_ACKNOWLEDGED, OBLIGATION_REMINDED};
use vigie_alerting::grpc::AlertingApi;
use vigie_alerting::http::{serve_with, HttpLimits};
use vigie_alerting::service::dispatch_once;
use vigie_platform::auth::testing::{caller, request};
use vigie_platform::auth::{Role, Scope};
use vigie_proto::alerting::v1 as pb;
use vigie_proto::alerting::v1::alerting_service_server::AlertingService;
use vigie_proto::events::v1::{DeadlineEscalated, ObligationReminded};
use vigie_testkit::SmtpServer;

use crate::grant_calls::{list_obligations, obligations_of};
use crate::harness::{
    bretagne_with_referent, date, director_and_two_holders, feed_token, structure_event_holding, utc, Harness,
    PersonSpec, BRETAGNE, REFERENT,
};
use crate::scenarios::channels;

const NETWORK: &str = BRETAGNE;

/// A director, two holders of `funder_reporting` and a holder of
/// `funding_applications` only (reminded of calls, not of duties).
fn reporting_team() -> Vec<PersonSpec<'static>> {
    director_and_two_holders("D1", "R1", "R2")
}

/// Feeds S1, its `people` holding `funder_reporting`.
async fn structure(h: &Harness, people: &[PersonSpec<'_>]) -> Result<()> {
    h.feed_applied(&structure_event_holding(
        "S1",
        NETWORK,
        "35238",
        "53",
        people,
        "funder_reporting",
        1,
    ))
    .await
}

/// S1's grant of `euros` from `funder` for `title`, won on 2026-11-15 for
/// the financial year ending 2026-12-31 (its report due 2027-06-30).
fn won_for_2026(funder: &str, title: &str, euros: i64) -> GrantInput {
    GrantInput {
        structure_id: "S1".into(),
        funder: funder.into(),
        title: title.into(),
        outcome: "won".into(),
        amount_granted: euros * 100,
        decided_on: Some(date("2026-11-15")),
        financial_year_end: Some(date("2026-12-31")),
        ..GrantInput::default()
    }
}

/// Records the grant; returns the key of its compte rendu financier.
async fn grant(h: &Harness) -> Result<String> {
    let row = h
        .app
        .record_grant(&won_for_2026("Région Bretagne", "Insertion", 20_000))
        .await?;
    Ok(format!("{}:financial_report_6_months:2026-12-31", row.grant_id))
}

fn addresses(mails: &[vigie_testkit::ReceivedMail]) -> Vec<String> {
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort_unstable();
    to
}

fn team_addresses() -> Vec<String> {
    vec![
        "d1@asso.example.org".to_owned(),
        "r1@asso.example.org".to_owned(),
        "r2@asso.example.org".to_owned(),
    ]
}

/// Mails received since the first `seen`.
fn new_mails(smtp: &SmtpServer, seen: &mut usize) -> Result<Vec<vigie_testkit::ReceivedMail>> {
    let all = smtp.messages()?;
    let fresh = all[*seen..].to_vec();
    *seen = all.len();
    Ok(fresh)
}

async fn duty_log_rows(h: &Harness) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM al_send_log WHERE stage_kind IN ('report', 'report_draft')")
            .fetch_one(h.db.pool())
            .await?
            .try_get("n")?,
    )
}

pub async fn duties_are_reminded_at_j30_14_7_2_and_on_the_draft_date(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    let mut people = reporting_team();
    people.push(PersonSpec::staying("H1", "employee", 0));
    structure(&h, &people).await?;
    let key = grant(&h).await?;
    let mut seen = 0;
    // Just before J-30's 09:00 Paris: nothing.
    h.pass_at("2027-05-31 06:55", &transport).await?;
    ensure!(smtp.messages()?.is_empty());
    // J-30: the director and both holders of funder_reporting, nobody else.
    h.pass_at("2027-05-31 07:05", &transport).await?;
    let j30 = new_mails(&smtp, &mut seen)?;
    ensure!(addresses(&j30) == team_addresses(), "{:?}", addresses(&j30));
    let text = j30[0].text().context("a text part")?;
    ensure!(
        text.contains("Compte rendu financier (Cerfa n° 15059) — Région Bretagne (Insertion) — Structure S1")
            && text.contains("Échéance externe (financeur) : mercredi 30 juin 2027 — J-30")
            && text.contains("Date de rédaction interne : mercredi 16 juin 2027")
            && text.contains("/ack/"),
        "{text}"
    );
    ensure!(
        j30[0].subject.as_deref() == Some("Vigie — 1 obligation envers un financeur"),
        "{:?}",
        j30[0].subject
    );
    // Again at the same time: nothing twice.
    dispatch_once(&h.app, &transport).await?;
    ensure!(new_mails(&smtp, &mut seen)?.is_empty());
    // J-14 is the draft date: one message each, saying so.
    h.pass_at("2027-06-16 07:05", &transport).await?;
    let j14 = new_mails(&smtp, &mut seen)?;
    ensure!(addresses(&j14) == team_addresses(), "{:?}", addresses(&j14));
    let text = j14[0].text().context("a text part")?;
    ensure!(
        text.contains("J-14")
            && text.contains(
                "Date de rédaction interne : mercredi 16 juin 2027 — une première version doit être prête \
                 pour l'échéance du mercredi 30 juin 2027."
            ),
        "{text}"
    );
    for (at, label) in [("2027-06-23 07:05", "J-7"), ("2027-06-28 07:05", "J-2")] {
        h.at(utc(at));
        dispatch_once(&h.app, &transport).await?;
        let mails = new_mails(&smtp, &mut seen)?;
        ensure!(addresses(&mails) == team_addresses(), "{at}: {:?}", addresses(&mails));
        ensure!(mails.iter().all(|m| m.text().is_some_and(|t| t.contains(label))));
    }
    // The due day still counts until midnight Paris; then nothing more.
    h.pass_at("2027-06-30 21:30", &transport).await?;
    h.pass_at("2027-07-01 07:05", &transport).await?;
    ensure!(new_mails(&smtp, &mut seen)?.is_empty());
    // 5 reminders (J-30, 14, 7, 2 and the draft date) × 3 people.
    ensure!(duty_log_rows(&h).await? == 15);
    let events: Vec<(String, ObligationReminded)> = h.outbox(OBLIGATION_REMINDED).await?;
    ensure!(events.len() == 15, "{}", events.len());
    ensure!(events
        .iter()
        .all(|(subject, e)| subject == "S1" && e.obligation_key == key));
    let drafts: Vec<&ObligationReminded> = events.iter().map(|(_, e)| e).filter(|e| e.draft_reminder).collect();
    ensure!(
        drafts.len() == 3
            && drafts
                .iter()
                .all(|e| e.days_before == 14 && e.rule == "financial_report_6_months"),
        "{drafts:?}"
    );
    let mut kinds: Vec<&str> = events
        .iter()
        .filter(|(_, e)| e.days_before == 30)
        .map(|(_, e)| e.recipient_kind.as_str())
        .collect();
    kinds.sort_unstable();
    ensure!(kinds == vec!["director", "holder", "holder"], "{kinds:?}");
    Ok(())
}

pub async fn reporting_on_one_person_escalates_to_the_referent_from_j14_once(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    h.app.set_network_policy(&bretagne_with_referent()).await?;
    // The director alone knows how to report.
    structure(&h, &[PersonSpec::sole_holder("D1")]).await?;
    let key = grant(&h).await?;
    h.pass_at("2027-05-31 07:05", &transport).await?; // J-30: the director only
    ensure!(smtp.messages_to("d1@asso.example.org")?.len() == 1);
    ensure!(smtp.messages_to(REFERENT)?.is_empty());
    ensure!(h.outbox_count(DEADLINE_ESCALATED).await? == 0);
    h.pass_at("2027-06-16 07:05", &transport).await?; // J-14 and the draft date: the referent too, one event
    let referent = smtp.messages_to(REFERENT)?;
    ensure!(referent.len() == 1, "{}", referent.len());
    let text = referent[0].text().context("a text part")?;
    ensure!(
        text.contains("une seule personne sait rendre compte aux financeurs")
            && text.contains("Bonjour Camille Référente"),
        "{text}"
    );
    let escalations: Vec<(String, DeadlineEscalated)> = h.outbox(DEADLINE_ESCALATED).await?;
    ensure!(escalations.len() == 1, "{escalations:?}");
    let event = &escalations[0].1;
    ensure!(
        event.structure_id == "S1"
            && event.call_id == key
            && event.stage_kind == "report"
            && event.function == "funder_reporting"
            && event.reason == "spof"
            && event.call_title == "Compte rendu financier (Cerfa n° 15059) — Région Bretagne (Insertion)"
            && event.deadline == Some(vigie_proto::dates::date_to_pb(date("2027-06-30"))),
        "{event:?}"
    );
    h.pass_at("2027-06-23 07:05", &transport).await?; // J-7: reminded again, no second event
    ensure!(smtp.messages_to(REFERENT)?.len() == 2);
    ensure!(h.outbox_count(DEADLINE_ESCALATED).await? == 1);
    Ok(())
}

/// In a network whose reminders follow another zone, the escalation event
/// carries that zone (the due date is a local date there), and the send log
/// names each duty's reminders by the duty, as a call's by its title.
pub async fn a_duty_escalated_in_another_zone_says_so_and_the_log_names_the_duty(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    h.app
        .set_network_policy(&PolicyInput {
            timezone: "Indian/Reunion".into(),
            ..bretagne_with_referent()
        })
        .await?;
    structure(&h, &[PersonSpec::sole_holder("D1")]).await?;
    let key = grant(&h).await?;
    h.pass_at("2027-06-16 05:05", &transport).await?; // J-14 at 09:00 in La Réunion (UTC+4)
    let escalations: Vec<(String, DeadlineEscalated)> = h.outbox(DEADLINE_ESCALATED).await?;
    ensure!(escalations.len() == 1, "{escalations:?}");
    ensure!(escalations[0].1.timezone == "Indian/Reunion", "{:?}", escalations[0].1);
    let log = h.app.send_log(Some("S1"), 100).await?;
    ensure!(!log.is_empty());
    for entry in &log {
        ensure!(
            entry.row.call_id == key
                && entry.call_title == "Compte rendu financier (Cerfa n° 15059) — Région Bretagne (Insertion)",
            "{} {}",
            entry.row.call_id,
            entry.call_title
        );
    }
    Ok(())
}

/// One request on a new connection to the endpoints: status line and body.
async fn http(addr: SocketAddr, method: &str, path: &str) -> Result<(String, String)> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(
                format!(
                    "{method} {path} HTTP/1.1\r\nHost: vigie.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        anyhow::Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    let answer = tokio::time::timeout(Duration::from_secs(20), exchange).await??;
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

pub async fn sent_by_the_signed_link_stops_the_reminders(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    structure(&h, &reporting_team()).await?;
    let key = grant(&h).await?;
    h.pass_at("2027-05-31 07:05", &transport).await?;
    let mail = smtp.messages_to("r1@asso.example.org")?;
    let text = mail.first().and_then(|m| m.text()).context("J-30 reached R1")?;
    let link = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("- envoyé : "))
        .context("an « envoyé » link")?;
    let token = link.rsplit_once("/ack/").map(|(_, t)| t).context("an /ack/ link")?;
    // The real endpoints, over the same service.
    let listener = vigie_alerting::http::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let _stop = shutdown.clone().drop_guard();
    tokio::spawn(serve_with(listener, h.app.clone(), HttpLimits::default(), shutdown));
    let path = format!("/ack/{token}");
    // A GET (a mail scanner) shows the button and changes nothing.
    let (status, page) = http(addr, "GET", &path).await?;
    ensure!(
        status.contains("200") && page.contains("Confirmer « envoyé »"),
        "{status} {page}"
    );
    ensure!(h.outbox_count(OBLIGATION_ACKNOWLEDGED).await? == 0);
    let (status, page) = http(addr, "POST", &path).await?;
    ensure!(
        status.contains("200") && page.contains("Plus aucun rappel pour cette obligation"),
        "{status} {page}"
    );
    ensure!(h.outbox_count(OBLIGATION_ACKNOWLEDGED).await? == 1);
    // The same answer again publishes nothing.
    http(addr, "POST", &path).await?;
    ensure!(h.outbox_count(OBLIGATION_ACKNOWLEDGED).await? == 1);
    // A tampered token is an unknown link.
    let (status, _) = http(addr, "POST", &format!("{path}x")).await?;
    ensure!(status.contains("404"), "{status}");
    // ListObligations tells it, with the holders of funder_reporting.
    let api = AlertingApi::new(h.app.clone());
    let admin = caller(Role::NetworkAdmin, Scope::Network(NETWORK.to_owned()));
    let listed = list_obligations(&api, &admin, obligations_of("S1")).await?;
    let duty = listed.iter().find(|o| o.key == key).context("the duty listed")?;
    ensure!(
        duty.status == "sent"
            && duty.sent_on == Some(vigie_proto::dates::date_to_pb(date("2027-05-31")))
            && duty.reporting_holders == 2,
        "{duty:?}"
    );
    // No more reminders of it.
    let before = smtp.messages()?.len();
    h.pass_at("2027-06-16 07:05", &transport).await?;
    ensure!(smtp.messages()?.len() == before, "reminded after « envoyé »");
    // Taken back by RPC: the reminders resume (J-14 and the draft date caught up with J-7).
    let back = api
        .acknowledge_obligation(request(
            &admin,
            pb::AcknowledgeObligationRequest {
                structure_id: "S1".into(),
                obligation_key: key.clone(),
                status: String::new(),
            },
        ))
        .await?
        .into_inner();
    ensure!(back.status.is_empty() && back.sent_on.is_none(), "{back:?}");
    ensure!(h.outbox_count(OBLIGATION_ACKNOWLEDGED).await? == 2);
    // Another network's admin does not see the structure: not found, as an unknown one.
    let other = caller(Role::NetworkAdmin, Scope::Network("reseau-autre".to_owned()));
    let refused = api
        .acknowledge_obligation(request(
            &other,
            pb::AcknowledgeObligationRequest {
                structure_id: "S1".into(),
                obligation_key: key.clone(),
                status: "sent".into(),
            },
        ))
        .await;
    ensure!(
        refused.as_ref().is_err_and(|s| s.code() == tonic::Code::NotFound),
        "{refused:?}"
    );
    let unknown = api
        .acknowledge_obligation(request(
            &admin,
            pb::AcknowledgeObligationRequest {
                structure_id: "S1".into(),
                obligation_key: "G0:financial_report_6_months:2026-12-31".into(),
                status: "sent".into(),
            },
        ))
        .await;
    ensure!(unknown.is_err_and(|s| s.code() == tonic::Code::NotFound));
    let invalid = api
        .acknowledge_obligation(request(
            &admin,
            pb::AcknowledgeObligationRequest {
                structure_id: "S1".into(),
                obligation_key: key.clone(),
                status: "déposé".into(),
            },
        ))
        .await;
    ensure!(invalid.is_err_and(|s| s.code() == tonic::Code::InvalidArgument && s.message().contains("statut")));
    h.pass_at("2027-06-23 07:05", &transport).await?;
    ensure!(smtp.messages()?.len() == before + 3);
    Ok(())
}

pub async fn a_moved_date_gives_one_notice_and_a_new_series(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    structure(&h, &reporting_team()).await?;
    let key = grant(&h).await?;
    let mut seen = 0;
    h.pass_at("2027-05-31 07:05", &transport).await?;
    ensure!(new_mails(&smtp, &mut seen)?.len() == 3);
    // The agreement says 2027-06-20: a new series, drafted 2027-06-06.
    h.at(utc("2027-06-01 08:00"));
    h.app
        .set_agreement_date(&AgreementDateInput {
            structure_id: "S1".into(),
            obligation_key: key.clone(),
            due: Some(date("2027-06-20")),
            ..AgreementDateInput::default()
        })
        .await?;
    h.pass_at("2027-06-01 08:05", &transport).await?;
    let moved = new_mails(&smtp, &mut seen)?;
    ensure!(addresses(&moved) == team_addresses(), "{:?}", addresses(&moved));
    let text = moved[0].text().context("a text part")?;
    ensure!(
        text.contains("Date déplacée : du mercredi 30 juin 2027 au dimanche 20 juin 2027."),
        "{text}"
    );
    // The new date's J-30 (2027-05-21) was due before the date was known: caught up, not late.
    ensure!(
        text.contains("Échéance externe (financeur) : dimanche 20 juin 2027 — J-19") && !text.contains("en retard"),
        "{text}"
    );
    // Once.
    h.pass_at("2027-06-02 08:05", &transport).await?;
    ensure!(new_mails(&smtp, &mut seen)?.is_empty());
    // The new series: J-14 and the draft date on 2027-06-06.
    h.pass_at("2027-06-06 07:05", &transport).await?;
    let j14 = new_mails(&smtp, &mut seen)?;
    ensure!(addresses(&j14) == team_addresses());
    ensure!(j14
        .iter()
        .all(|m| m.text().is_some_and(|t| t.contains("dimanche 20 juin 2027 — J-14")
            && t.contains("Date de rédaction interne : dimanche 6 juin 2027 — une première version"))));
    ensure!(
        j14.iter()
            .all(|m| !m.text().is_some_and(|t| t.contains("Date déplacée"))),
        "the notice went once"
    );
    let notices: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM al_send_log WHERE stage_kind = 'report' AND offset_days = -1")
            .fetch_one(h.db.pool())
            .await?
            .try_get("n")?;
    ensure!(notices == 3, "{notices}");
    // The old date's J-14 (2027-06-16) never goes.
    h.pass_at("2027-06-16 07:05", &transport).await?;
    let later = new_mails(&smtp, &mut seen)?;
    ensure!(later.iter().all(|m| !m.text().is_some_and(|t| t.contains("30 juin"))));
    Ok(())
}

pub async fn two_claimers_send_nothing_twice_and_the_webhook_gets_obligation_items(h: Harness) -> Result<()> {
    h.app
        .set_network_policy(&PolicyInput {
            network: NETWORK.into(),
            webhook_url: "http://127.0.0.1:9/hook".into(),
            webhook_secret: "a webhook secret of at least 32 chars!".into(),
            ..PolicyInput::default()
        })
        .await?;
    structure(&h, &reporting_team()).await?;
    let key = grant(&h).await?;
    let now = utc("2027-05-31 07:05");
    h.at(now);
    let other = h.restarted();
    let (a, b) = tokio::join!(h.app.claim_due(now), other.claim_due(now));
    // A concurrent claim of the same reminders fails on the send log's key
    // and rolls back: whatever the interleaving, each is claimed once.
    let claimed: usize = [a, b].into_iter().filter_map(Result::ok).map(|r| r.claimed).sum();
    ensure!(claimed == 4, "{claimed}");
    ensure!(duty_log_rows(&h).await? == 4, "3 people and the webhook");
    ensure!(h.count("al_messages").await? == 4);
    let again = h.restarted().claim_due(now).await?;
    ensure!(again.claimed == 0 && again.messages == 0, "{again:?}");
    ensure!(h.outbox_count(OBLIGATION_REMINDED).await? == 3, "none for the webhook");
    let body: String = sqlx::query("SELECT body_text FROM al_messages WHERE channel = 'webhook'")
        .fetch_one(h.db.pool())
        .await?
        .try_get("body_text")?;
    let json: serde_json::Value = serde_json::from_str(&body)?;
    let item = &json["items"][0];
    ensure!(
        item["kind"] == "obligation"
            && item["obligation_key"] == key.as_str()
            && item["due"] == "2027-06-30"
            && item["draft"] == "2027-06-16"
            && item["offset_days"] == 30
            && item["funder"] == "Région Bretagne",
        "{json}"
    );
    Ok(())
}

pub async fn the_feeds_hold_each_duty_not_sent(h: Harness) -> Result<()> {
    structure(&h, &reporting_team()).await?;
    let key = grant(&h).await?;
    let structure_url = h.app.feed_url(FeedKind::Structure, "S1").await?;
    let network_url = h.app.feed_url(FeedKind::Network, NETWORK).await?;
    for url in [&structure_url, &network_url] {
        let ics = h.app.calendar(&feed_token(url)).await?;
        let calendar = ical::IcalParser::new(ics.as_bytes()).next().context("a calendar")??;
        let events: Vec<(String, String, String)> = calendar
            .events
            .iter()
            .map(|e| {
                let prop = |name: &str| {
                    e.properties
                        .iter()
                        .find(|p| p.name == name)
                        .and_then(|p| p.value.clone())
                        .unwrap_or_default()
                };
                (prop("UID"), prop("DTSTART"), prop("SUMMARY"))
            })
            .collect();
        ensure!(
            events
                == vec![
                    (
                        format!("obligation-{key}-due@vigie"),
                        "20270630".to_owned(),
                        "Compte rendu financier (Cerfa n° 15059) — Région Bretagne".to_owned()
                    ),
                    (
                        format!("obligation-{key}-draft@vigie"),
                        "20270616".to_owned(),
                        "Rédaction interne — Compte rendu financier (Cerfa n° 15059) — Région Bretagne".to_owned()
                    ),
                ],
            "{events:?}\n{ics}"
        );
    }
    // « Envoyé »: out of the feeds.
    h.app.acknowledge_obligation("S1", &key, "sent", "rpc").await?;
    let ics = h.app.calendar(&feed_token(&structure_url)).await?;
    ensure!(!ics.contains("obligation-"), "{ics}");
    Ok(())
}

pub async fn a_duty_deferred_to_tomorrows_digest_goes_the_next_day(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    structure(&h, &reporting_team()).await?;
    grant(&h).await?;
    let mut seen = 0;
    h.pass_at("2027-05-31 07:05", &transport).await?;
    ensure!(new_mails(&smtp, &mut seen)?.len() == 3);
    // A second grant recorded at noon, due 2027-06-20: its J-30 is caught
    // up, but today's digest already went — it waits for tomorrow's.
    h.at(utc("2027-05-31 12:00"));
    h.app
        .record_grant(&won_for_2026("CAF d'Ille-et-Vilaine", "Parentalité", 5_000))
        .await?;
    let caf = h
        .app
        .obligations(Some(&["S1".to_owned()]))
        .await?
        .into_iter()
        .find(|o| o.funder.starts_with("CAF"))
        .context("the CAF's duty")?;
    h.app
        .set_agreement_date(&AgreementDateInput {
            structure_id: "S1".into(),
            obligation_key: caf.obligation.key.clone(),
            due: Some(date("2027-06-20")),
            ..AgreementDateInput::default()
        })
        .await?;
    h.at(utc("2027-05-31 12:05"));
    let report = h.app.claim_due(utc("2027-05-31 12:05")).await?;
    ensure!(report.deferred == 3 && report.messages == 0, "{report:?}");
    h.pass_at("2027-05-31 18:00", &transport).await?;
    ensure!(
        new_mails(&smtp, &mut seen)?.is_empty(),
        "one digest per address and day"
    );
    // The first pass of the next day sends it.
    h.pass_at("2027-06-01 07:05", &transport).await?;
    let next = new_mails(&smtp, &mut seen)?;
    ensure!(addresses(&next) == team_addresses(), "{:?}", addresses(&next));
    ensure!(next.iter().all(|m| m
        .text()
        .is_some_and(|t| t.contains("CAF d'Ille-et-Vilaine") && t.contains("dimanche 20 juin 2027"))));
    Ok(())
}

/// A claim pass reads the send-log rows of every open duty's key
/// (`call_id IN (…)`, 400 keys a statement); without an index leading with
/// `call_id` each statement scanned the whole log, and a J-7 pass of 2,000
/// structures took 18–34 s on PostgreSQL (`vigie-bench grants`). The plan of
/// that statement must go through `al_send_log_call` (migration 11).
pub async fn the_send_log_is_read_by_call_id_through_its_index(h: Harness) -> Result<()> {
    let sql = "SELECT recipient, call_id, stage_kind, revision, offset_days, channel FROM al_send_log \
               WHERE call_id IN ('G1:financial_report_6_months:2026-12-31', 'call-1')";
    let mut conn = h.db.pool().acquire().await?;
    let plan: Vec<String> = match h.db.backend() {
        vigie_platform::db::Backend::Sqlite => sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("detail"))
            .collect::<Result<_, _>>()?,
        vigie_platform::db::Backend::Postgres => {
            // An empty table is cheapest to scan: forbid that, as a large log would.
            sqlx::query("SET enable_seqscan = off").execute(&mut *conn).await?;
            let plan = sqlx::query(&format!("EXPLAIN {sql}"))
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?;
            sqlx::query("RESET enable_seqscan").execute(&mut *conn).await?;
            plan
        }
    };
    ensure!(
        plan.iter().any(|line| line.contains("al_send_log_call")),
        "the send log is not read through al_send_log_call: {plan:?}"
    );
    Ok(())
}
