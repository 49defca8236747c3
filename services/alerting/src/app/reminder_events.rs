//! The `reminder.sent` events of one claimed message: what the federation
//! counts of the reminders, without an address or a name.
//!
//! A message is a digest for one address: it may hold several structures
//! (a referent's), several calls, and, after an outage, several offsets of
//! one stage. The digest shows such offsets as one line — so one event per
//! structure, call and stage, carrying the nearest offset (the line shown).
//! Notices of moved or cancelled dates are not reminders: they have no
//! planned alert and yield nothing. Webhook deliveries are not reminders to
//! a structure's recipient (the network's machine gets every reminder of
//! the network): counting them would count each reminder twice.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use vigie_alerting_domain::plan::{PlannedAlert, RecipientKind};
use vigie_proto::events::v1::ReminderSent;

use crate::convert::date_to_pb;

/// The code of a recipient kind in `ReminderSent.recipient_kind`; `None` for
/// a webhook (no event).
fn recipient_code(kind: RecipientKind) -> Option<&'static str> {
    match kind {
        RecipientKind::Holder => Some("holder"),
        RecipientKind::Director => Some("director"),
        RecipientKind::Referent => Some("referent"),
        RecipientKind::Webhook => None,
    }
}

/// One event per structure, call and stage among the reminders of one
/// message claimed on the local date `sent_on`, in a stable order.
pub(super) fn reminder_events<'a>(
    alerts: impl IntoIterator<Item = &'a PlannedAlert>,
    sent_on: NaiveDate,
) -> Vec<ReminderSent> {
    // Keyed by what the digest shows as one line; the smallest offset is the
    // line shown, and of two kinds at one address (a person both referent and
    // holder) the structure's own (holder, then director) is kept.
    let mut lines: BTreeMap<(&str, &str, &str), (u32, RecipientKind, &PlannedAlert)> = BTreeMap::new();
    for alert in alerts {
        if recipient_code(alert.recipient.kind).is_none() {
            continue;
        }
        let key = (
            alert.structure_id.as_str(),
            alert.call_id.as_str(),
            alert.stage.kind.code(),
        );
        let entry = lines
            .entry(key)
            .or_insert((alert.offset_days, alert.recipient.kind, alert));
        entry.0 = entry.0.min(alert.offset_days);
        entry.1 = entry.1.min(alert.recipient.kind);
    }
    lines
        .into_values()
        .filter_map(|(days_before, kind, alert)| {
            Some(ReminderSent {
                structure_id: alert.structure_id.clone(),
                call_id: alert.call_id.clone(),
                stage_kind: alert.stage.kind.code().to_owned(),
                deadline: Some(date_to_pb(alert.stage.date)),
                days_before,
                recipient_kind: recipient_code(kind)?.to_owned(),
                sent_on: Some(date_to_pb(sent_on)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use vigie_alerting_domain::model::{Stage, StageKind};
    use vigie_alerting_domain::plan::Recipient;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn alert(structure: &str, call: &str, kind: RecipientKind, offset: u32) -> PlannedAlert {
        PlannedAlert {
            recipient: Recipient {
                id: format!("person:{structure}-{kind:?}"),
                kind,
                person_id: None,
                name: "Nom Prénom".into(),
                channel: if kind == RecipientKind::Webhook {
                    "webhook"
                } else {
                    "email"
                },
                address: "someone@example.org".into(),
            },
            structure_id: structure.into(),
            call_id: call.into(),
            stage: Stage::on_date(StageKind::Submission, date(2027, 3, 14)),
            revision: 1,
            offset_days: offset,
            due_at: Utc.with_ymd_and_hms(2027, 3, 7, 8, 0, 0).unwrap(),
            local_date: date(2027, 3, 7),
            late: false,
            escalation: None,
        }
    }

    #[test]
    fn one_event_per_structure_call_and_stage_with_the_nearest_offset() {
        let alerts = [
            alert("S1", "c1", RecipientKind::Referent, 14),
            alert("S1", "c1", RecipientKind::Referent, 7),
            alert("S2", "c1", RecipientKind::Referent, 7),
            alert("S2", "c2", RecipientKind::Referent, 7),
        ];
        let events = reminder_events(&alerts, date(2027, 3, 7));
        let seen: Vec<(&str, &str, u32, &str)> = events
            .iter()
            .map(|e| {
                (
                    e.structure_id.as_str(),
                    e.call_id.as_str(),
                    e.days_before,
                    e.recipient_kind.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("S1", "c1", 7, "referent"),
                ("S2", "c1", 7, "referent"),
                ("S2", "c2", 7, "referent")
            ]
        );
        let first = &events[0];
        assert_eq!(first.stage_kind, "submission");
        assert_eq!(first.deadline, Some(date_to_pb(date(2027, 3, 14))));
        assert_eq!(first.sent_on, Some(date_to_pb(date(2027, 3, 7))));
    }

    #[test]
    fn webhooks_yield_nothing_and_the_structures_own_recipient_wins() {
        let alerts = [
            alert("S1", "c1", RecipientKind::Webhook, 7),
            alert("S2", "c1", RecipientKind::Referent, 7),
            alert("S2", "c1", RecipientKind::Director, 7),
        ];
        let events = reminder_events(&alerts, date(2027, 3, 7));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].structure_id, "S2");
        assert_eq!(events[0].recipient_kind, "director");
        assert!(reminder_events(&alerts[..1], date(2027, 3, 7)).is_empty());
    }
}
