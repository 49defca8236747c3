//! A reporting duty in the iCalendar feeds (issue 16): two all-day events,
//! the external due date and the internal draft date, whose UIDs derive from
//! the obligation key (stable across renderings, distinct from calls'
//! `<call>-<stage>@vigie`), the summary in French.

use chrono::{DateTime, NaiveDate, Utc};

use crate::ical::CalendarEntry;
use crate::message::{duty_heading, french_date};
use crate::model::{Stage, StageKind};

/// What the feed shows of one duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyEvent {
    /// The obligation key.
    pub key: String,
    /// What is due, in French (the rule's duty or the agreement's label).
    pub duty: String,
    /// Who it is owed to ("" for the audit and publication duties).
    pub funder: String,
    /// The grant's title.
    pub title: String,
    /// Where the rule comes from, in French.
    pub source: String,
    /// The external due date.
    pub due: NaiveDate,
    /// The internal draft date.
    pub draft: NaiveDate,
    /// The due date comes from the agreement (a new version of the event).
    pub edited: bool,
    /// When this version became known.
    pub dtstamp: DateTime<Utc>,
}

/// The UID of a duty's due-date event.
pub fn due_uid(key: &str) -> String {
    format!("obligation-{key}-due@vigie")
}

/// The UID of a duty's draft-date event.
pub fn draft_uid(key: &str) -> String {
    format!("obligation-{key}-draft@vigie")
}

/// The due-date event, then the draft-date event (none when the draft date
/// is the due date: zero draft days).
pub fn duty_entries(d: &DutyEvent) -> Vec<CalendarEntry> {
    let heading = duty_heading(&d.duty, &d.funder, "");
    let mut description = Vec::new();
    if !d.title.trim().is_empty() {
        description.push(format!("Subvention : {}", d.title.trim()));
    }
    description.push(format!(
        "À envoyer au financeur au plus tard le {}.",
        french_date(d.due)
    ));
    description.push(format!("Date de rédaction interne : {}.", french_date(d.draft)));
    if !d.source.trim().is_empty() {
        description.push(format!("Règle : {}", d.source.trim()));
    }
    let description = description.join("\n");
    let entry = |uid: String, summary: String, date: NaiveDate| CalendarEntry {
        uid,
        summary,
        description: description.clone(),
        url: String::new(),
        stage: Stage::on_date(StageKind::Submission, date),
        sequence: u32::from(d.edited),
        cancelled: false,
        dtstamp: d.dtstamp,
    };
    let mut out = vec![entry(due_uid(&d.key), heading.clone(), d.due)];
    if d.draft < d.due {
        out.push(entry(
            draft_uid(&d.key),
            format!("Rédaction interne — {heading}"),
            d.draft,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ical::calendar;
    use crate::test_fixtures::date;

    fn event() -> DutyEvent {
        DutyEvent {
            key: "G1:financial_report_6_months:2026-12-31".into(),
            duty: "compte rendu financier (Cerfa n° 15059)".into(),
            funder: "Région Bretagne".into(),
            title: "Insertion".into(),
            source: "loi n° 2000-321".into(),
            due: date(2027, 6, 30),
            draft: date(2027, 6, 16),
            edited: false,
            dtstamp: Utc.with_ymd_and_hms(2027, 1, 4, 10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_duty_is_its_due_date_and_its_draft_date_all_day() {
        let entries = duty_entries(&event());
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].uid,
            "obligation-G1:financial_report_6_months:2026-12-31-due@vigie"
        );
        assert_eq!(
            entries[1].uid,
            "obligation-G1:financial_report_6_months:2026-12-31-draft@vigie"
        );
        assert_eq!(
            entries[0].summary,
            "Compte rendu financier (Cerfa n° 15059) — Région Bretagne"
        );
        assert_eq!(
            entries[1].summary,
            "Rédaction interne — Compte rendu financier (Cerfa n° 15059) — Région Bretagne"
        );
        assert_eq!(entries[0].stage.date, date(2027, 6, 30));
        assert_eq!(entries[1].stage.date, date(2027, 6, 16));
        assert!(entries[0].description.contains("mercredi 16 juin 2027"));
        let ics = calendar("Vigie", &entries);
        assert!(ics.contains("DTSTART;VALUE=DATE:20270630"), "{ics}");
        assert!(ics.contains("DTEND;VALUE=DATE:20270701"), "{ics}");
        assert!(ics.contains("DTSTART;VALUE=DATE:20270616"), "{ics}");
        assert!(ics.contains("SEQUENCE:0"));
        // The same duty renders the same UIDs; a moved date is a new sequence.
        assert_eq!(duty_entries(&event())[0].uid, entries[0].uid);
        let moved = DutyEvent {
            due: date(2027, 4, 30),
            draft: date(2027, 4, 16),
            edited: true,
            ..event()
        };
        let moved = duty_entries(&moved);
        assert_eq!(moved[0].uid, entries[0].uid);
        assert_eq!(moved[0].sequence, 1);
    }

    #[test]
    fn no_draft_event_without_draft_days_and_no_funder_for_the_audit() {
        let d = DutyEvent {
            draft: date(2027, 6, 30),
            funder: String::new(),
            title: String::new(),
            duty: "certification des comptes par un commissaire aux comptes".into(),
            ..event()
        };
        let entries = duty_entries(&d);
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0].summary,
            "Certification des comptes par un commissaire aux comptes"
        );
        assert!(!entries[0].description.contains("Subvention"));
    }
}
