//! The events the federation counts: `reminder.sent` (one per message,
//! structure, call and stage, committed with the claim) and
//! `call.acknowledged` (one per change of status).

use anyhow::{ensure, Result};
use sqlx::Row;
use vigie_alerting::app::PolicyInput;
use vigie_alerting::channels::links::AckAction;
use vigie_alerting::error::AlertingError;
use vigie_alerting::events::{CALL_ACKNOWLEDGED, REMINDER_SENT};
use vigie_proto::dates::date_to_pb;
use vigie_proto::events::v1::{CallAcknowledged, ReminderSent};

use crate::harness::{aid, bretagne_with_referent, date, director_and_two_holders, utc, Harness, PersonSpec, REFERENT};

/// S1 has a director and two holders (no escalation); S2 and S3 rest on
/// their director alone (escalated to the referent from J-14). The network
/// has a referent and a webhook; two calls close on 2027-03-14.
async fn network_of_three(h: &Harness) -> Result<Vec<String>> {
    h.app
        .set_network_policy(&PolicyInput {
            webhook_url: "http://127.0.0.1:9/vigie".into(),
            webhook_secret: "a-secret-of-sixteen-bytes".into(),
            ..bretagne_with_referent()
        })
        .await?;
    h.rennes("S1", &director_and_two_holders("D1", "H1", "H2")).await?;
    h.rennes("S2", &[PersonSpec::sole_holder("Q1")]).await?;
    h.rennes("S3", &[PersonSpec::sole_holder("R1")]).await?;
    h.import(&[
        aid(1, "Bretagne", "Région", "2027-03-14"),
        aid(2, "Bretagne", "Région", "2027-03-14"),
    ])
    .await?;
    let mut calls: Vec<String> = h
        .app
        .list_calls(Some("S1"), None, false)
        .await?
        .into_iter()
        .map(|c| c.call.call_id)
        .collect();
    calls.sort();
    ensure!(calls.len() == 2, "{calls:?}");
    Ok(calls)
}

async fn messages_to(h: &Harness, address: &str) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM al_messages WHERE address = $1")
        .bind(address.to_owned())
        .fetch_one(h.db.pool())
        .await?
        .try_get("n")?)
}

pub async fn each_reminder_message_publishes_one_event_per_structure_call_and_stage(h: Harness) -> Result<()> {
    let calls = network_of_three(&h).await?;
    // The first pass at J-7 catches up J-30, J-14 and J-7 in one digest per
    // address: one event per line (the nearest offset), none for the webhook.
    let now = utc("2027-03-07 08:05");
    let report = h.app.claim_due(now).await?;
    let events: Vec<(String, ReminderSent)> = h.outbox(REMINDER_SENT).await?;
    // D1, H1, H2 (S1), Q1 (S2), R1 (S3): 5 people × 2 calls; the referent's
    // one digest: S2 and S3 × 2 calls.
    ensure!(events.len() == 14, "{} events: {events:#?}", events.len());
    ensure!(report.reminders_published == 14, "{report:?}");
    ensure!(messages_to(&h, REFERENT).await? == 1, "the referent gets one digest");
    let referent: Vec<&ReminderSent> = events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e.recipient_kind == "referent")
        .collect();
    let mut pairs: Vec<(&str, &str)> = referent
        .iter()
        .map(|e| (e.structure_id.as_str(), e.call_id.as_str()))
        .collect();
    pairs.sort_unstable();
    ensure!(
        pairs
            == vec![
                ("S2", calls[0].as_str()),
                ("S2", calls[1].as_str()),
                ("S3", calls[0].as_str()),
                ("S3", calls[1].as_str())
            ],
        "{pairs:?}"
    );
    let count = |structure: &str, kind: &str| {
        events
            .iter()
            .filter(|(_, e)| e.structure_id == structure && e.recipient_kind == kind)
            .count()
    };
    ensure!(count("S1", "director") == 2 && count("S1", "holder") == 4);
    // A director who holds the function is reminded as a holder.
    ensure!(count("S2", "holder") == 2 && count("S2", "director") == 0);
    for (subject, event) in &events {
        ensure!(subject == &event.structure_id, "ce-subject is the structure");
        ensure!(event.stage_kind == "submission", "{event:?}");
        ensure!(event.deadline == Some(date_to_pb(date("2027-03-14"))), "{event:?}");
        ensure!(event.days_before == 7, "the line shown is J-7: {event:?}");
        ensure!(event.sent_on == Some(date_to_pb(date("2027-03-07"))), "{event:?}");
    }

    // Claimed already: another pass, now or later the same day, publishes nothing.
    h.app.claim_due(now).await?;
    h.app.claim_due(utc("2027-03-07 15:00")).await?;
    ensure!(h.outbox_count(REMINDER_SENT).await? == 14);

    // J-2, claimed at 23:30 UTC on the 11th: already the 12th in Paris.
    h.app.claim_due(utc("2027-03-11 23:30")).await?;
    ensure!(h.outbox_count(REMINDER_SENT).await? == 14, "J-2 is due at 09:00 Paris");
    h.app.claim_due(utc("2027-03-12 08:05")).await?;
    let later: Vec<(String, ReminderSent)> = h.outbox(REMINDER_SENT).await?;
    ensure!(later.len() == 28, "{}", later.len());
    ensure!(later[14..]
        .iter()
        .all(|(_, e)| e.days_before == 2 && e.sent_on == Some(date_to_pb(date("2027-03-12")))));
    Ok(())
}

pub async fn a_moved_deadline_notice_is_not_a_reminder(h: Harness) -> Result<()> {
    h.rennes("S1", &director_and_two_holders("D1", "H1", "H2")).await?;
    h.import(&[aid(1, "Bretagne", "Région", "2027-03-14")]).await?;
    h.app.claim_due(utc("2027-03-07 08:05")).await?;
    ensure!(h.outbox_count(REMINDER_SENT).await? == 3);
    // Moved to the end of June: the three recipients get a notice of the new
    // date — no reminder of it is due yet, and a notice is none.
    h.at(utc("2027-03-08 08:00"));
    h.import(&[aid(1, "Bretagne", "Région", "2027-06-30")]).await?;
    let report = h.app.claim_due(utc("2027-03-08 08:05")).await?;
    ensure!(report.notices == 3 && report.claimed == 3, "{report:?}");
    ensure!(report.reminders_published == 0, "{report:?}");
    ensure!(h.outbox_count(REMINDER_SENT).await? == 3);
    // The new date's J-30 is a reminder again.
    h.app.claim_due(utc("2027-05-31 08:05")).await?;
    let events: Vec<(String, ReminderSent)> = h.outbox(REMINDER_SENT).await?;
    ensure!(events.len() == 6, "{}", events.len());
    ensure!(
        events[3..]
            .iter()
            .all(|(_, e)| e.days_before == 30 && e.deadline == Some(date_to_pb(date("2027-06-30")))),
        "{events:#?}"
    );
    Ok(())
}

pub async fn an_acknowledgement_publishes_once_per_change_of_status(h: Harness) -> Result<()> {
    h.rennes("S1", &[PersonSpec::staying("H1", "employee", 3)]).await?;
    h.import(&[aid(1, "Bretagne", "Région", "2027-03-14")]).await?;
    let call = h.app.list_calls(Some("S1"), None, false).await?.remove(0).call.call_id;
    // 23:30 UTC on the 4th is already the 5th in Paris.
    h.at(utc("2027-01-04 23:30"));
    // The signed link, as the HTTP endpoint checks it.
    let token = h.app.links().ack_token("S1", &call, AckAction::Submitted);
    let claim = h.app.links().verify_ack(&token)?;
    h.app
        .acknowledge(&claim.structure_id, &claim.call_id, claim.action, "link")
        .await?;
    let events: Vec<(String, CallAcknowledged)> = h.outbox(CALL_ACKNOWLEDGED).await?;
    ensure!(events.len() == 1, "{events:?}");
    let (subject, event) = &events[0];
    ensure!(subject == "S1");
    ensure!(
        event
            == &CallAcknowledged {
                structure_id: "S1".into(),
                call_id: call.clone(),
                status: "submitted".into(),
                on: Some(date_to_pb(date("2027-01-05"))),
            },
        "{event:?}"
    );
    // The same status again (the API this time): nothing more.
    h.app.acknowledge("S1", &call, AckAction::Submitted, "api").await?;
    ensure!(h.outbox_count(CALL_ACKNOWLEDGED).await? == 1);
    // Another status: one more; repeated: nothing more.
    h.at(utc("2027-01-06 10:00"));
    h.app.acknowledge("S1", &call, AckAction::NotConcerned, "api").await?;
    h.app.acknowledge("S1", &call, AckAction::NotConcerned, "link").await?;
    let events: Vec<(String, CallAcknowledged)> = h.outbox(CALL_ACKNOWLEDGED).await?;
    ensure!(events.len() == 2, "{events:?}");
    ensure!(events[1].1.status == "not_concerned" && events[1].1.on == Some(date_to_pb(date("2027-01-06"))));
    let listed = h.app.list_calls(Some("S1"), None, false).await?;
    ensure!(listed[0].acknowledgement.as_deref() == Some("not_concerned"));
    // An unknown call or structure is refused and publishes nothing.
    ensure!(matches!(
        h.app.acknowledge("S1", "absent", AckAction::Submitted, "api").await,
        Err(AlertingError::NotFound(_))
    ));
    ensure!(matches!(
        h.app.acknowledge("S9", &call, AckAction::Submitted, "api").await,
        Err(AlertingError::NotFound(_))
    ));
    ensure!(h.outbox_count(CALL_ACKNOWLEDGED).await? == 2);
    Ok(())
}
