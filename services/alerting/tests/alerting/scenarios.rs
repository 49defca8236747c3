//! The alerting service's contract, run on both backends (see main.rs).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::{ensure, Result};
use vigie_alerting::app::{PolicyInput, Transport};
use vigie_alerting::channels::address::AddressPolicy;
use vigie_alerting::channels::email::{SmtpConfig, SmtpMailer};
use vigie_alerting::channels::links::{AckAction, FeedKind};
use vigie_alerting::channels::webhook::WebhookSender;
use vigie_alerting::delivery::{Channels, Mailbox};
use vigie_alerting::error::AlertingError;
use vigie_alerting::events::DEADLINE_ESCALATED;
use vigie_alerting::service::dispatch_once;
use vigie_platform::events::Outcome;
use vigie_testkit::SmtpServer;

use crate::harness::{
    aid, bretagne_with_referent, date, director_and_two_holders, feed_token, page, structure_event, utc, Harness,
    PersonSpec, BRETAGNE, REFERENT,
};

/// The deadline of the issue: J-7 is 2027-03-07 at 09:00 Paris = 08:00 UTC.
const DEADLINE: &str = "2027-03-14";

/// D1 directs; H1 and H2 hold funding applications (no escalation).
fn holders() -> Vec<PersonSpec<'static>> {
    director_and_two_holders("D1", "H1", "H2")
}

/// S1 of Rennes with [`holders`], and the Région's call n° 1 closing on
/// [`DEADLINE`]: where most scenarios start.
async fn s1_and_its_call(h: &Harness) -> Result<()> {
    h.rennes("S1", &holders()).await?;
    h.import(&[aid(1, "Bretagne", "Région", DEADLINE)]).await?;
    Ok(())
}

pub(crate) fn channels(smtp: &SmtpServer) -> Result<Channels> {
    let mailer = SmtpMailer::new(SmtpConfig {
        host: smtp.host().to_owned(),
        port: smtp.port(),
        from: "Vigie <alertes@vigie.example.org>".to_owned(),
        starttls: false,
        username: None,
        password: None,
        timeout: Duration::from_secs(10),
        ..SmtpConfig::default()
    })?;
    Ok(Channels::new(
        Mailbox::Smtp(Box::new(mailer)),
        // The receivers of the tests listen on loopback.
        WebhookSender::with_addresses(Duration::from_secs(5), AddressPolicy::allow_all())?.allow_plain_http(true),
    ))
}

pub async fn reimporting_is_idempotent_and_a_moved_deadline_is_a_new_revision(h: Harness) -> Result<()> {
    let first = h.import(&[aid(1, "Bretagne", "Région", DEADLINE)]).await?;
    ensure!(first.created == 1, "{first:?}");
    let again = h.import(&[aid(1, "Bretagne", "Région", DEADLINE)]).await?;
    ensure!(
        again.unchanged == 1 && again.created == 0 && again.revised == 0,
        "{again:?}"
    );
    let moved = h.import(&[aid(1, "Bretagne", "Région", "2027-03-21")]).await?;
    ensure!(moved.revised == 1, "{moved:?}");
    let calls = h.app.list_calls(None, None, true).await?;
    ensure!(calls.len() == 1);
    let stage = &calls[0].call.stages[0];
    ensure!(
        stage.revision == 2 && stage.stage.date == date("2027-03-21"),
        "{stage:?}"
    );
    ensure!(
        stage.stage.wording.contains("2027-03-21"),
        "wording kept verbatim: {}",
        stage.stage.wording
    );
    ensure!(h.count("al_stage_revisions").await? == 2);
    ensure!(
        h.count("al_imports").await? == 3,
        "the raw payload of each import is kept"
    );
    ensure!(calls[0].call.raw.contains("\"aide-1\""), "the item verbatim");
    Ok(())
}

pub async fn a_file_with_a_bad_item_is_refused_and_changes_nothing(h: Harness) -> Result<()> {
    let mut bad = aid(2, "Bretagne", "Région", "2027-02-30");
    bad["name"] = serde_json::json!("Date impossible");
    let result = h
        .app
        .import_file(
            "aides-territoires",
            "aides.json",
            &page(&[aid(1, "Bretagne", "Région", DEADLINE), bad]),
        )
        .await;
    let Err(AlertingError::Rejected(problems)) = result else {
        anyhow::bail!("expected a refusal, got {result:?}")
    };
    ensure!(
        problems
            .iter()
            .any(|p| p.position.starts_with("aides.json:") && p.position.contains("id 2")),
        "{problems:?}"
    );
    ensure!(h.count("al_calls").await? == 0 && h.count("al_imports").await? == 0);
    Ok(())
}

pub async fn calls_match_structures_by_perimeter_audience_and_preferences(h: Harness) -> Result<()> {
    h.rennes("S1", &holders()).await?;
    let mut communes_only = aid(3, "France", "Pays", DEADLINE);
    communes_only["targeted_audiences"] = serde_json::json!(["Communes"]);
    let mut esus_only = aid(6, "Bretagne", "Région", DEADLINE);
    esus_only["targeted_audiences"] = serde_json::json!(["Entreprises de l'économie sociale et solidaire"]);
    let report = h
        .import(&[
            aid(1, "Bretagne", "Région", DEADLINE),
            aid(2, "Île-de-France", "Région", DEADLINE),
            communes_only,
            aid(4, "Ille-et-Vilaine", "Département", DEADLINE),
            aid(5, "Perimètre inconnu", "Adhoc", DEADLINE),
            esus_only,
        ])
        .await?;
    ensure!(
        report.problems.iter().any(|p| p.message.contains("inconnu")),
        "{:?}",
        report.problems
    );
    let titles = |calls: Vec<vigie_alerting::app::CallView>| -> Vec<String> {
        let mut t: Vec<String> = calls.into_iter().map(|c| c.call.source_ref).collect();
        t.sort();
        t
    };
    ensure!(titles(h.app.list_calls(Some("S1"), None, false).await?) == ["1", "4"]);
    h.app
        .set_preferences("structure", "S1", vec!["Numérique".into()], vec![], false)
        .await?;
    ensure!(
        titles(h.app.list_calls(Some("S1"), None, false).await?).is_empty(),
        "theme filter"
    );
    h.app
        .set_preferences("structure", "S1", vec!["Solidarités".into()], vec![], false)
        .await?;
    ensure!(titles(h.app.list_calls(Some("S1"), None, false).await?) == ["1", "4"]);
    ensure!(
        matches!(
            h.app.list_calls(Some("S404"), None, false).await,
            Err(AlertingError::NotFound(_))
        ),
        "unknown structure"
    );
    Ok(())
}

pub async fn j7_of_a_paris_deadline_fires_at_nine_local_time(h: Harness) -> Result<()> {
    s1_and_its_call(&h).await?;
    let alerts = h.app.preview(date("2027-03-07"), date("2027-03-07"), None).await?;
    let recipients: HashSet<&str> = alerts.iter().map(|a| a.alert.recipient.id.as_str()).collect();
    ensure!(
        recipients == HashSet::from(["person:D1", "person:H1", "person:H2"]),
        "{recipients:?}"
    );
    ensure!(alerts
        .iter()
        .all(|a| a.alert.offset_days == 7 && a.alert.due_at == utc("2027-03-07 08:00")));
    ensure!(
        alerts.iter().all(|a| a.alert.escalation.is_none()),
        "two holders: no escalation"
    );
    // Across the spring change (2027-03-28): J-2 of 2027-04-20 is 09:00 CEST = 07:00 UTC.
    h.import(&[aid(2, "Bretagne", "Région", "2027-04-20")]).await?;
    let april = h
        .app
        .preview(date("2027-04-18"), date("2027-04-18"), Some("S1"))
        .await?;
    ensure!(!april.is_empty() && april.iter().all(|a| a.alert.due_at == utc("2027-04-18 07:00")));
    Ok(())
}

pub async fn reminders_go_once_through_a_real_smtp_server_that_refuses_first(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    s1_and_its_call(&h).await?;
    h.at(utc("2027-03-07 08:05"));
    smtp.refuse_next(1)?;
    dispatch_once(&h.app, &transport).await?;
    ensure!(
        smtp.messages()?.len() == 2,
        "one refused, two accepted: {}",
        smtp.messages()?.len()
    );
    // Still refused: retried after the backoff, not before.
    dispatch_once(&h.app, &transport).await?;
    ensure!(smtp.messages()?.len() == 2);
    h.pass_at("2027-03-07 09:00", &transport).await?;
    dispatch_once(&h.app, &transport).await?;
    let mails = smtp.messages()?;
    ensure!(mails.len() == 3, "{} mails", mails.len());
    let ids: HashSet<_> = mails.iter().filter_map(|m| m.message_id.clone()).collect();
    ensure!(ids.len() == 3, "distinct Message-IDs");
    let to: HashSet<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    ensure!(
        to == HashSet::from([
            "d1@asso.example.org".into(),
            "h1@asso.example.org".into(),
            "h2@asso.example.org".into()
        ])
    );
    for mail in &mails {
        ensure!(mail
            .header("List-Unsubscribe")
            .is_some_and(|u| u.contains("/unsubscribe/")));
        ensure!(
            mail.text().is_some_and(|t| t.contains("Appel à projets n° 1")),
            "{:?}",
            mail.text()
        );
        ensure!(
            mail.html().is_some_and(|t| t.contains("/ack/")),
            "signed links in the HTML part"
        );
    }
    // J-30 and J-14 fell due before (the call was imported in January): sent late, in the same digest.
    let log = h.app.send_log(Some("S1"), 100).await?;
    ensure!(log.len() == 9 && log.iter().all(|e| e.status == "sent"), "{log:?}");
    ensure!(log.iter().all(|e| e.row.late == (e.row.offset_days != 7)));
    Ok(())
}

pub async fn after_an_outage_due_reminders_go_late_in_one_digest(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    h.rennes("S1", &holders()).await?;
    h.import(&[
        aid(1, "Bretagne", "Région", DEADLINE),
        aid(2, "France", "Pays", "2027-03-20"),
    ])
    .await?;
    // Down since February: J-30, J-14 and J-7 of the first call, J-30 and J-14 of the second fell due.
    h.pass_at("2027-03-08 14:00", &channels(&smtp)?).await?;
    let mails = smtp.messages_to("h1@asso.example.org")?;
    ensure!(
        mails.len() == 1,
        "one digest per recipient and day: {:?}",
        mails.iter().map(|m| m.text()).collect::<Vec<_>>()
    );
    let text = mails[0].text().unwrap_or_default().to_owned();
    ensure!(text.matches("Appel à projets n° 1").count() == 1, "{text}");
    ensure!(text.contains("Appel à projets n° 2"), "{text}");
    let log = h.app.send_log(Some("S1"), 1000).await?;
    let h1: Vec<_> = log.iter().filter(|e| e.row.recipient == "person:H1").collect();
    ensure!(h1.len() == 5 && h1.iter().all(|e| e.row.late), "{h1:?}");
    // After the first deadline: nothing more about it, even late; the second call's J-7 goes.
    h.pass_at("2027-03-15 08:00", &channels(&smtp)?).await?;
    let mails = smtp.messages_to("h1@asso.example.org")?;
    ensure!(mails.len() == 2);
    let text = mails[1].text().unwrap_or_default();
    ensure!(
        !text.contains("Appel à projets n° 1") && text.contains("Appel à projets n° 2"),
        "{text}"
    );
    Ok(())
}

pub async fn a_moved_deadline_sends_a_notice_then_new_reminders(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    s1_and_its_call(&h).await?;
    h.pass_at("2027-03-07 08:05", &transport).await?;
    ensure!(smtp.messages_to("h1@asso.example.org")?.len() == 1);
    h.import(&[aid(1, "Bretagne", "Région", "2027-03-28")]).await?;
    h.pass_at("2027-03-08 08:05", &transport).await?;
    let mails = smtp.messages_to("h1@asso.example.org")?;
    ensure!(mails.len() == 2, "a notice: {}", mails.len());
    let notice = mails[1].text().unwrap_or_default().to_owned();
    ensure!(notice.contains("28 mars 2027"), "{notice}");
    // The new J-14 (2027-03-14) goes out; nothing of the old revision does again.
    h.pass_at("2027-03-14 08:05", &transport).await?;
    ensure!(smtp.messages_to("h1@asso.example.org")?.len() == 3);
    let log = h.app.send_log(Some("S1"), 100).await?;
    ensure!(log.iter().any(|e| e.row.offset_days == -1 && e.row.revision == 2));
    ensure!(log.iter().any(|e| e.row.offset_days == 14 && e.row.revision == 2));
    Ok(())
}

pub async fn an_acknowledged_call_gets_no_more_reminders(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    s1_and_its_call(&h).await?;
    let call = h.app.list_calls(Some("S1"), None, false).await?.remove(0).call.call_id;
    // The link in the mail, as the HTTP endpoint checks it.
    let token = h.app.links().ack_token("S1", &call, AckAction::Submitted);
    let claim = h.app.links().verify_ack(&token)?;
    h.app
        .acknowledge(&claim.structure_id, &claim.call_id, claim.action, "link")
        .await?;
    ensure!(
        h.app.links().verify_ack(&format!("{token}x")).is_err(),
        "tampered link refused"
    );
    h.pass_at("2027-03-07 08:05", &channels(&smtp)?).await?;
    ensure!(smtp.messages()?.is_empty());
    let listed = h.app.list_calls(Some("S1"), None, false).await?;
    ensure!(listed[0].acknowledgement.as_deref() == Some("submitted"));
    Ok(())
}

pub async fn a_single_holder_escalates_to_the_referent_from_j14_once(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    h.app.set_network_policy(&bretagne_with_referent()).await?;
    h.rennes("S1", &[PersonSpec::sole_holder("D1")]).await?;
    h.import(&[aid(1, "Bretagne", "Région", DEADLINE)]).await?;
    h.pass_at("2027-02-12 08:05", &transport).await?; // J-30: the director only
    ensure!(smtp.messages_to(REFERENT)?.is_empty());
    ensure!(h.outbox_count(DEADLINE_ESCALATED).await? == 0);
    h.pass_at("2027-02-28 08:05", &transport).await?; // J-14: the referent too, and one event
    let referent = smtp.messages_to(REFERENT)?;
    ensure!(referent.len() == 1, "{}", referent.len());
    ensure!(
        referent[0].text().is_some_and(|t| t.contains("une seule personne")),
        "{:?}",
        referent[0].text()
    );
    ensure!(h.outbox_count(DEADLINE_ESCALATED).await? == 1);
    h.pass_at("2027-03-07 08:05", &transport).await?; // J-7: reminded again, no second event
    ensure!(smtp.messages_to(REFERENT)?.len() == 2);
    ensure!(h.outbox_count(DEADLINE_ESCALATED).await? == 1);
    let preview = h
        .app
        .preview(date("2027-03-12"), date("2027-03-12"), Some("S1"))
        .await?;
    ensure!(preview
        .iter()
        .any(|a| a.alert.recipient.id.starts_with("referent:") && a.alert.escalation.is_some()));
    Ok(())
}

/// A transport that delivers for real, then never returns after `crash_after`
/// deliveries: dropping the pass there is a crash after the server accepted
/// and before the message was marked sent.
pub(crate) struct CrashingTransport<'a> {
    pub(crate) inner: &'a Channels,
    pub(crate) delivered: std::sync::atomic::AtomicUsize,
    pub(crate) crash_after: usize,
}

#[async_trait::async_trait]
impl Transport for CrashingTransport<'_> {
    async fn deliver(
        &self,
        message: &vigie_alerting::storage::MessageRow,
        secret: &str,
        unsubscribe: &str,
    ) -> Result<(), vigie_alerting::channels::SendError> {
        self.inner.deliver(message, secret, unsubscribe).await?;
        if self.delivered.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 >= self.crash_after {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

pub async fn a_crash_in_a_send_batch_loses_nothing_and_resends_only_with_the_same_id(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    for i in 0..6 {
        h.rennes(&format!("S{i}"), &[PersonSpec::sole_holder(&format!("P{i}"))])
            .await?;
    }
    h.import(&[aid(1, "Bretagne", "Région", DEADLINE)]).await?;
    h.at(utc("2027-03-07 08:05"));
    // Crash 1: after claiming, before any delivery.
    h.app.claim_due(utc("2027-03-07 08:05")).await?;
    // Crash 2: in the middle of the batch, after the 3rd accepted message.
    let crashing = CrashingTransport {
        inner: &transport,
        delivered: 0.into(),
        crash_after: 3,
    };
    let pass = dispatch_once(&h.app, &crashing);
    ensure!(
        tokio::time::timeout(Duration::from_secs(20), pass).await.is_err(),
        "the pass hangs at the crash point"
    );
    ensure!(smtp.messages()?.len() == 3);
    // Restart: a new process over the same database. The dead process's
    // lease holds its messages until it expires.
    let restarted = h.restarted();
    dispatch_once(&restarted, &transport).await?;
    ensure!(smtp.messages()?.len() == 3, "nothing sent while the lease holds");
    h.at(utc("2027-03-07 08:11"));
    dispatch_once(&restarted, &transport).await?;
    dispatch_once(&restarted, &transport).await?;
    let mails = smtp.messages()?;
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for m in &mails {
        *per_id.entry(m.message_id.clone().unwrap_or_default()).or_default() += 1;
    }
    ensure!(per_id.len() == 6, "every reminder delivered: {per_id:?}");
    let copies: Vec<_> = per_id.values().filter(|&&n| n > 1).collect();
    ensure!(
        copies.len() <= 1 && copies.iter().all(|&&n| n == 2),
        "only the message in flight, same Message-ID: {per_id:?}"
    );
    ensure!(h.count("al_send_log").await? == 18, "J-30, J-14 and J-7 for each");
    Ok(())
}

pub async fn the_calendar_feed_parses_with_a_real_parser(h: Harness) -> Result<()> {
    s1_and_its_call(&h).await?;
    h.import(&[aid(1, "Bretagne", "Région", "2027-03-21")]).await?;
    let url = h.app.feed_url(FeedKind::Structure, "S1").await?;
    let ics = h.app.calendar(&feed_token(&url)).await?;
    let calendar = ical::IcalParser::new(ics.as_bytes())
        .next()
        .ok_or_else(|| anyhow::anyhow!("no calendar"))??;
    ensure!(calendar.events.len() == 1);
    let prop = |name: &str| {
        calendar.events[0]
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    ensure!(prop("DTSTART") == "20270321" && prop("DTEND") == "20270322", "{ics}");
    ensure!(prop("SEQUENCE") == "1", "{ics}");
    ensure!(prop("UID").ends_with("-submission@vigie"));
    ensure!(h.app.calendar("forged").await.is_err());
    let network = h.app.feed_url(FeedKind::Network, BRETAGNE).await?;
    ensure!(network != url);
    Ok(())
}

pub async fn a_revoked_feed_url_stops_working_and_the_new_one_opens(h: Harness) -> Result<()> {
    s1_and_its_call(&h).await?;
    let first = h.app.feed_url(FeedKind::Structure, "S1").await?;
    let network = h.app.feed_url(FeedKind::Network, BRETAGNE).await?;
    ensure!(
        h.app.feed_url(FeedKind::Structure, "S1").await? == first,
        "stable until revoked"
    );
    ensure!(h.app.calendar(&feed_token(&first)).await.is_ok());
    // Revoked twice: the first and the second URL die, the third opens.
    let second = h.app.revoke_feed_url(FeedKind::Structure, "S1").await?;
    let third = h.app.revoke_feed_url(FeedKind::Structure, "S1").await?;
    ensure!(first != second && second != third && first != third);
    for dead in [&first, &second] {
        ensure!(
            matches!(
                h.app.calendar(&feed_token(dead)).await,
                Err(vigie_alerting::error::AlertingError::NotFound(_))
            ),
            "a revoked URL still opens: {dead}"
        );
    }
    let ics = h.app.calendar(&feed_token(&third)).await?;
    ensure!(ics.contains("BEGIN:VEVENT"), "{ics}");
    ensure!(h.app.feed_url(FeedKind::Structure, "S1").await? == third);
    // Another scope (the network's feed) is untouched.
    ensure!(h.app.calendar(&feed_token(&network)).await.is_ok());
    ensure!(h.app.feed_url(FeedKind::Network, BRETAGNE).await? == network);
    // A restarted process agrees (the generation is in the database).
    let restarted = h.restarted();
    ensure!(restarted.calendar(&feed_token(&first)).await.is_err());
    ensure!(restarted.calendar(&feed_token(&third)).await.is_ok());
    Ok(())
}

/// The streamed answers carry exactly the rows of the unary ones, in
/// messages far under gRPC's 4 MiB limit, for a catalogue of 5,000 calls.
pub async fn a_whole_instance_is_streamed_in_bounded_messages_identical_to_the_unpaged_answer(
    h: Harness,
) -> Result<()> {
    use futures::StreamExt as _;
    use prost::Message as _;
    use vigie_alerting::grpc::{paging::MESSAGE_BYTES, AlertingApi};
    use vigie_platform::auth::testing::{caller, request};
    use vigie_platform::auth::{Role, Scope};
    use vigie_proto::alerting::v1 as pb;
    use vigie_proto::alerting::v1::alerting_service_server::AlertingService as _;

    h.rennes("S1", &holders()).await?;
    let aids: Vec<_> = (1..=5000).map(|n| aid(n, "Bretagne", "Région", DEADLINE)).collect();
    h.import(&aids).await?;
    let api = AlertingApi::new(h.app.clone());
    let admin = caller(Role::FederationAdmin, Scope::Network(BRETAGNE.into()));
    let bound = |len: usize| len <= MESSAGE_BYTES + 64 * 1024;

    let unpaged = h.app.export_calls().await?;
    let mut stream = api
        .export_calls_stream(request(&admin, pb::ExportCallsRequest {}))
        .await?
        .into_inner();
    let mut streamed = Vec::new();
    let mut messages = 0;
    while let Some(message) = stream.next().await {
        let message = message?;
        ensure!(bound(message.encoded_len()), "{}", message.encoded_len());
        streamed.extend_from_slice(&message.csv);
        messages += 1;
    }
    ensure!(messages >= 2, "{} bytes in {messages} message(s)", unpaged.len());
    ensure!(streamed == unpaged.as_bytes(), "the streamed export differs");
    ensure!(unpaged.lines().count() > 5000);

    let ask = pb::ListCallsRequest {
        include_closed: true,
        ..Default::default()
    };
    let unary = api.list_calls(request(&admin, ask.clone())).await?.into_inner().calls;
    let mut stream = api.list_calls_stream(request(&admin, ask)).await?.into_inner();
    let mut calls = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message?;
        ensure!(bound(message.encoded_len()), "{}", message.encoded_len());
        calls.extend(message.calls);
    }
    ensure!(calls.len() == 5000 && calls == unary, "{} streamed calls", calls.len());

    let ask = pb::PreviewAlertsRequest {
        from: Some(vigie_proto::common::v1::Date {
            year: 2027,
            month: 1,
            day: 1,
        }),
        to: Some(vigie_proto::common::v1::Date {
            year: 2027,
            month: 3,
            day: 31,
        }),
        structure_id: String::new(),
    };
    let unary = api
        .preview_alerts(request(&admin, ask.clone()))
        .await?
        .into_inner()
        .alerts;
    let mut stream = api.preview_alerts_stream(request(&admin, ask)).await?.into_inner();
    let mut alerts = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message?;
        ensure!(bound(message.encoded_len()), "{}", message.encoded_len());
        alerts.extend(message.alerts);
    }
    ensure!(
        alerts.len() > 4200 && alerts == unary,
        "{} streamed reminders",
        alerts.len()
    );
    Ok(())
}

/// The inventory's word that H1 (a holder of S1) is erased.
fn h1_erased() -> vigie_platform::events::Envelope {
    let erased = vigie_proto::events::v1::PersonErased {
        person_id: "H1".into(),
        structure_id: "S1".into(),
    };
    vigie_platform::events::Envelope::of("/vigie/inventory", "S1", &erased)
}

pub async fn an_erased_person_is_held_nowhere(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    s1_and_its_call(&h).await?;
    h.pass_at("2027-03-07 08:05", &channels(&smtp)?).await?;
    let erased = h1_erased();
    ensure!(h.erase(&erased).await? == Outcome::Applied);
    for value in vigie_testkit::scan::stored_values(h.db.pool(), "al_%").await? {
        ensure!(!value.contains("h1@asso.example.org"), "email left in {value:?}");
        ensure!(!value.contains("Personne H1"), "name left in {value:?}");
        ensure!(!value.contains("person:H1"), "id left in {value:?}");
    }
    Ok(())
}

/// `vigie dev` without SMTP writes `.eml` files: the erasure removes the
/// person's (and only theirs), and a delivery error that quoted their
/// address is scrubbed.
pub async fn an_erasure_removes_mail_files_and_delivery_errors(h: Harness) -> Result<()> {
    let mails = tempfile::tempdir()?;
    s1_and_its_call(&h).await?;
    h.at(utc("2027-03-07 08:05"));
    let transport = Channels::new(
        Mailbox::Directory(mails.path().to_path_buf()),
        WebhookSender::new(Duration::from_secs(5))?.allow_plain_http(true),
    );
    dispatch_once(&h.app, &transport).await?;
    let files_holding = |needle: &str| -> Result<usize> {
        let mut n = 0;
        for entry in std::fs::read_dir(mails.path())? {
            let text = std::fs::read_to_string(entry?.path())?;
            n += usize::from(text.contains(needle));
        }
        Ok(n)
    };
    ensure!(files_holding("h1@asso.example.org")? == 1, "H1's email is written");
    let others = std::fs::read_dir(mails.path())?.count() - 1;
    ensure!(others > 0, "other recipients' files too");
    // A relay refused H1's address: its error quotes it (as SMTP servers do).
    sqlx::query("UPDATE al_messages SET last_error = $1 WHERE person_id = $2")
        .bind("550 5.1.1 <h1@asso.example.org>: Personne H1 inconnue")
        .bind("H1")
        .execute(h.db.pool())
        .await?;
    let erased = h1_erased();
    ensure!(h.erase_with_mails(&erased, Some(mails.path().to_path_buf())).await? == Outcome::Applied);
    ensure!(files_holding("h1@asso.example.org")? == 0, "H1's mail file is removed");
    ensure!(
        std::fs::read_dir(mails.path())?.count() == others,
        "the other recipients' files stay"
    );
    for value in vigie_testkit::scan::stored_values(h.db.pool(), "al_%").await? {
        ensure!(!value.contains("h1@asso.example.org"), "email left in {value:?}");
        ensure!(!value.contains("Personne H1"), "name left in {value:?}");
    }
    // A replay (or a second erasure) finds nothing more to remove.
    ensure!(h.erase_with_mails(&erased, Some(mails.path().to_path_buf())).await? == Outcome::Duplicate);
    Ok(())
}

pub async fn passes_are_incremental_and_catch_up_what_changed(h: Harness) -> Result<()> {
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    s1_and_its_call(&h).await?;
    h.pass_at("2027-03-07 08:05", &transport).await?;
    let first = smtp.messages()?.len();
    ensure!(first == 3, "{first}");
    // Nothing fell due since: nothing is sent.
    h.pass_at("2027-03-07 09:05", &transport).await?;
    ensure!(smtp.messages()?.len() == first);
    // A structure that joins later gets what is due for it, in one digest; S1 nothing more.
    h.rennes("S2", &[PersonSpec::sole_holder("Q1")]).await?;
    h.pass_at("2027-03-07 10:05", &transport).await?;
    ensure!(smtp.messages_to("q1@asso.example.org")?.len() == 1);
    ensure!(smtp.messages()?.len() == first + 1);
    // A referent set later is caught up too (S2 rests on one person).
    h.app
        .set_network_policy(&PolicyInput {
            network: BRETAGNE.into(),
            referent_email: REFERENT.into(),
            ..PolicyInput::default()
        })
        .await?;
    h.pass_at("2027-03-07 11:05", &transport).await?;
    ensure!(smtp.messages_to(REFERENT)?.len() == 1);
    ensure!(h.outbox_count(DEADLINE_ESCALATED).await? == 1);
    // The next reminder falls due at J-2, 2027-03-12 08:00 UTC: the pass after it sends it, once.
    h.pass_at("2027-03-12 08:01", &transport).await?;
    dispatch_once(&h.app, &transport).await?;
    ensure!(smtp.messages_to("h1@asso.example.org")?.len() == 2);
    ensure!(smtp.messages_to("q1@asso.example.org")?.len() == 2);
    Ok(())
}

pub use crate::batches::*;
pub use crate::federation_events::*;
pub use crate::leases::*;
pub use crate::webhooks::*;

/// The `vigie.reminders.late` counter's input: a message sent on time is not
/// late, one that carries reminders claimed after an outage is, whatever the
/// backend.
pub async fn sent_messages_tell_whether_they_were_late(h: Harness) -> Result<()> {
    use anyhow::Context as _;
    use chrono::TimeDelta;
    use vigie_alerting::app::metrics::sent_late;
    let smtp = SmtpServer::start().await?;
    let transport = channels(&smtp)?;
    s1_and_its_call(&h).await?;
    let lateness = |message_id: String| {
        let db = h.db.clone();
        async move {
            let mut conn = db.pool().acquire().await?;
            anyhow::Ok(vigie_alerting::storage::message_lateness(&mut conn, &message_id).await?)
        }
    };
    let sent_ids = |h: &Harness| {
        let db = h.db.clone();
        async move {
            let rows = sqlx::query("SELECT message_id FROM al_messages WHERE status = 'sent' ORDER BY message_id")
                .fetch_all(db.pool())
                .await?;
            anyhow::Ok(
                rows.iter()
                    .map(|row| sqlx::Row::try_get::<String, _>(row, 0))
                    .collect::<Result<Vec<_>, _>>()?,
            )
        }
    };

    // J-30 at 09:00 Paris (08:00 UTC), sent five minutes later: on time.
    let now = utc("2027-02-12 08:05");
    h.at(now);
    h.app.claim_due(now).await?;
    let report = h.app.deliver_due(now, &transport, 100).await?;
    ensure!(report.sent >= 1, "{report:?}");
    let on_time = sent_ids(&h).await?;
    for id in &on_time {
        let (created, claimed_late) = lateness(id.clone()).await?.context("message not found")?;
        ensure!(!claimed_late && !sent_late(created, claimed_late, now), "{id}");
        // The same message, had its channel kept it waiting two hours.
        ensure!(sent_late(created, claimed_late, now + TimeDelta::hours(2)), "{id}");
    }

    // Down from before J-14 (2027-02-28) to J-7: the digest of J-7 carries
    // the missed J-14, claimed late.
    let now = utc("2027-03-07 08:05");
    h.at(now);
    h.app.claim_due(now).await?;
    h.app.deliver_due(now, &transport, 100).await?;
    let late: Vec<String> = sent_ids(&h)
        .await?
        .into_iter()
        .filter(|id| !on_time.contains(id))
        .collect();
    ensure!(!late.is_empty(), "nothing sent after the outage");
    for id in late {
        let (_, claimed_late) = lateness(id.clone()).await?.context("message not found")?;
        ensure!(claimed_late, "{id} carries reminders claimed late");
    }
    ensure!(lateness("unknown@vigie".to_owned()).await?.is_none());
    Ok(())
}

/// The preview planned in compact entries and materialised chunk by chunk
/// (`AlertingApp::preview`, both RPCs) gives exactly the alerts, in exactly
/// the order, of the preview planned the simple way with every full alert in
/// memory: ties (the same person id in several structures, the same due
/// time), referents (escalations), webhooks, an acknowledgement and an
/// unsubscription included; the whole instance and one structure.
pub async fn the_chunked_preview_equals_the_preview_planned_in_memory(h: Harness) -> Result<()> {
    h.app
        .set_network_policy(&PolicyInput {
            offsets_days: vec![30, 14, 7, 2, 1],
            webhook_url: "https://hooks.example.org/vigie".into(),
            webhook_secret: "un secret de test assez long".into(),
            ..bretagne_with_referent()
        })
        .await?;
    // S1..S6 share the people ids D1, H1, H2 (recipient ids tie across
    // structures); S7 has a single holder leaving soon (escalation).
    for n in 1..=6 {
        h.rennes(&format!("S{n}"), &holders()).await?;
    }
    h.rennes("S7", &[PersonSpec::staying("L1", "employee", 3).leaving("2027-03-20")])
        .await?;
    // Networks in other time zones, their reminders on another local day
    // than in Paris (the preview plans a Paris day at a time): 06:00 in
    // Nouméa is the evening before in Paris, 23:00 in Cayenne the next
    // morning; offsets of their own.
    for (network, timezone, hour, structure) in [
        ("reseau-noumea", "Pacific/Noumea", "06:00", "N1"),
        ("reseau-cayenne", "America/Cayenne", "23:00", "K1"),
    ] {
        h.app
            .set_network_policy(&PolicyInput {
                network: network.into(),
                offsets_days: vec![9, 3],
                local_hour: hour.into(),
                timezone: timezone.into(),
                ..PolicyInput::default()
            })
            .await?;
        h.feed_applied(&structure_event(structure, network, "35238", "53", &holders(), 1))
            .await?;
    }
    // Several calls on the same deadline (same due times), others later.
    let aids: Vec<_> = (1..=40)
        .map(|n| {
            let deadline = if n % 3 == 0 { "2027-03-21" } else { DEADLINE };
            aid(n, "Bretagne", "Région", deadline)
        })
        .collect();
    h.import(&aids).await?;
    let call = h.app.list_calls(Some("S2"), None, false).await?.remove(0).call.call_id;
    h.app.acknowledge("S2", &call, AckAction::Submitted, "link").await?;
    h.app.unsubscribe("person:H2").await?;

    let (from, to) = (date("2027-02-01"), date("2027-03-31"));
    let key = |a: &vigie_alerting::app::PreviewAlert| (a.alert.clone(), a.call_title.clone());
    for structure in [None, Some("S3"), Some("S7")] {
        let simple: Vec<_> = h
            .app
            .preview_in_memory(from, to, structure)
            .await?
            .iter()
            .map(key)
            .collect();
        let chunked: Vec<_> = h.app.preview(from, to, structure).await?.iter().map(key).collect();
        ensure!(!simple.is_empty(), "{structure:?}: no reminder");
        ensure!(
            simple == chunked,
            "{structure:?}: {} alerts planned in memory, {} chunked; first difference at {:?}",
            simple.len(),
            chunked.len(),
            simple.iter().zip(&chunked).position(|(a, b)| a != b)
        );
        if structure.is_none() {
            use vigie_alerting_domain::plan::RecipientKind;
            let kinds: HashSet<_> = simple.iter().map(|(a, _)| format!("{:?}", a.recipient.kind)).collect();
            ensure!(
                kinds.contains(&format!("{:?}", RecipientKind::Referent))
                    && kinds.contains(&format!("{:?}", RecipientKind::Webhook)),
                "{kinds:?}"
            );
            let paris = |a: &vigie_alerting_domain::plan::PlannedAlert| {
                a.due_at.with_timezone(&chrono_tz::Europe::Paris).date_naive()
            };
            for structure in ["N1", "K1"] {
                ensure!(
                    simple
                        .iter()
                        .any(|(a, _)| a.structure_id == structure && paris(a) != a.local_date),
                    "{structure}: no reminder on another day in Paris"
                );
            }
            ensure!(simple.iter().all(|(a, _)| a.recipient.id != "person:H2"));
            ensure!(!simple.iter().any(|(a, _)| a.structure_id == "S2" && a.call_id == call));
        }
    }
    Ok(())
}

/// A permanent call (no deadline) is open: listed after the dated ones,
/// with or without a window, and never closed by the passing days.
pub async fn a_permanent_call_is_listed_after_the_dated_ones(h: Harness) -> Result<()> {
    h.rennes("S1", &holders()).await?;
    let mut permanent = aid(7, "Bretagne", "Région", DEADLINE);
    permanent["submission_deadline"] = serde_json::Value::Null;
    permanent["recurrence"] = serde_json::json!("Permanente");
    let report = h.import(&[aid(1, "Bretagne", "Région", DEADLINE), permanent]).await?;
    ensure!(report.problems.is_empty(), "{:?}", report.problems);
    let refs = |calls: Vec<vigie_alerting::app::CallView>| -> Vec<(String, Option<i64>)> {
        calls.into_iter().map(|c| (c.call.source_ref, c.days_left)).collect()
    };
    let all = refs(h.app.list_calls(Some("S1"), None, false).await?);
    ensure!(
        all.len() == 2 && all[0].0 == "1" && all[1] == ("7".to_owned(), None),
        "{all:?}"
    );
    let window = refs(h.app.list_calls(Some("S1"), Some(3650), false).await?);
    ensure!(window == all, "{window:?}");
    let everyone = refs(h.app.list_calls(None, Some(3650), false).await?);
    ensure!(everyone.iter().any(|(r, d)| r == "7" && d.is_none()), "{everyone:?}");
    Ok(())
}
