//! The iCalendar feed of a structure's deadlines (RFC 5545).
//!
//! Every value written comes from outside (call titles, descriptions, URLs
//! of imported calls) and is written so that it cannot change the structure
//! of the feed: TEXT values are escaped ([`escape_text`]), the URL is written
//! only when it passes [`crate::url::check_url`], every other value is built
//! here from typed data (dates, numbers), and every line is folded at 75
//! octets.

use chrono::{DateTime, Days, Utc};

use crate::model::{Stage, DEFAULT_TZ};
use crate::reminders::resolve_local;
use crate::url::is_safe_url;

/// One deadline in a calendar feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEntry {
    /// Stable per call and stage, e.g. `<call_id>-<stage_kind>@vigie`.
    pub uid: String,
    /// The title.
    pub summary: String,
    /// The details (may span several lines).
    pub description: String,
    /// The call's page.
    pub url: String,
    /// The dated stage.
    pub stage: Stage,
    /// Incremented at every revision of the stage.
    pub sequence: u32,
    /// The call or stage was cancelled.
    pub cancelled: bool,
    /// When this version of the entry was produced.
    pub dtstamp: DateTime<Utc>,
}

/// The minimal `VTIMEZONE` of `Europe/Paris` (EU rules since 1996).
const PARIS_VTIMEZONE: &[&str] = &[
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Paris",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

/// Escapes a TEXT value: backslash, semicolon, comma and newlines (as `\n`);
/// other control characters than tab are dropped. Every TEXT property of the
/// feed goes through here, so no value can end its line and start another
/// property or component.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // TEXT allows no other control character than tab (RFC 5545 3.3.11).
            c if c.is_control() && c != '\t' => {}
            other => out.push(other),
        }
    }
    out
}

/// Appends a content line folded at 75 octets (never inside a UTF-8 character), ended by CRLF.
fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// Builds the calendar `name` holding `events`, per RFC 5545.
///
/// An all-day deadline gives `DTSTART;VALUE=DATE` and `DTEND;VALUE=DATE` the
/// next day; a timed one gives `DTSTART;TZID=Europe/Paris:…` (or a UTC time for
/// another zone) and no `DTEND` (an instant).
pub fn calendar(name: &str, events: &[CalendarEntry]) -> String {
    let mut out = String::new();
    let name = escape_text(name);
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Vigie//Alerting//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        &format!("NAME:{name}"),
        &format!("X-WR-CALNAME:{name}"),
        "REFRESH-INTERVAL;VALUE=DURATION:PT12H",
        "X-PUBLISHED-TTL:PT12H",
    ] {
        push_line(&mut out, line);
    }
    if events
        .iter()
        .any(|e| e.stage.time.is_some() && e.stage.timezone == DEFAULT_TZ)
    {
        for line in PARIS_VTIMEZONE {
            push_line(&mut out, line);
        }
    }
    for e in events {
        push_event(&mut out, e);
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

fn push_event(out: &mut String, e: &CalendarEntry) {
    push_line(out, "BEGIN:VEVENT");
    push_line(out, &format!("UID:{}", escape_text(&e.uid)));
    push_line(out, &format!("DTSTAMP:{}", e.dtstamp.format("%Y%m%dT%H%M%SZ")));
    let stage = &e.stage;
    match stage.time {
        None => {
            let next = stage.date.checked_add_days(Days::new(1)).unwrap_or(stage.date);
            push_line(out, &format!("DTSTART;VALUE=DATE:{}", stage.date.format("%Y%m%d")));
            push_line(out, &format!("DTEND;VALUE=DATE:{}", next.format("%Y%m%d")));
        }
        Some(t) if stage.timezone == DEFAULT_TZ => {
            let local = stage.date.and_time(t);
            push_line(
                out,
                &format!("DTSTART;TZID=Europe/Paris:{}", local.format("%Y%m%dT%H%M%S")),
            );
        }
        Some(t) => {
            let at = resolve_local(stage.timezone, stage.date.and_time(t));
            push_line(out, &format!("DTSTART:{}", at.format("%Y%m%dT%H%M%SZ")));
        }
    }
    push_line(out, &format!("SUMMARY:{}", escape_text(&e.summary)));
    if !e.description.is_empty() {
        push_line(out, &format!("DESCRIPTION:{}", escape_text(&e.description)));
    }
    // A URI value cannot be escaped like TEXT: it is written only when it
    // passes the one URL check (absolute http/https, no control character or
    // space), so a CRLF in an imported URL can never start a property.
    if !e.url.is_empty() && is_safe_url(&e.url) {
        push_line(out, &format!("URL:{}", e.url));
    }
    push_line(out, &format!("SEQUENCE:{}", e.sequence));
    push_line(
        out,
        if e.cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        },
    );
    push_line(out, "TRANSP:TRANSPARENT");
    push_line(out, "END:VEVENT");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StageKind;
    use chrono::{NaiveDate, NaiveTime, TimeZone};
    use ical::parser::ical::component::IcalCalendar;
    use ical::property::Property;

    fn entry(time: Option<NaiveTime>) -> CalendarEntry {
        let mut stage = Stage::on_date(StageKind::Submission, NaiveDate::from_ymd_opt(2027, 3, 14).unwrap());
        stage.time = time;
        CalendarEntry {
            uid: "c42-submission@vigie".into(),
            summary: "Appel à projets".into(),
            description: "Dépôt en ligne".into(),
            url: "https://aides-territoires.beta.gouv.fr/aides/x/".into(),
            stage,
            sequence: 3,
            cancelled: false,
            dtstamp: Utc.with_ymd_and_hms(2027, 1, 2, 3, 4, 5).unwrap(),
        }
    }

    fn parse(text: &str) -> IcalCalendar {
        let mut parser = ical::IcalParser::new(text.as_bytes());
        let cal = parser.next().unwrap().unwrap();
        assert!(parser.next().is_none());
        cal
    }

    fn prop<'a>(props: &'a [Property], name: &str) -> &'a Property {
        props.iter().find(|p| p.name == name).unwrap()
    }

    fn value(props: &[Property], name: &str) -> String {
        prop(props, name).value.clone().unwrap()
    }

    fn param(p: &Property, name: &str) -> Vec<String> {
        p.params
            .as_ref()
            .unwrap()
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone()
    }

    #[test]
    fn all_day_deadline() {
        let text = calendar("Échéances", &[entry(None)]);
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        let cal = parse(&text);
        assert_eq!(value(&cal.properties, "REFRESH-INTERVAL"), "PT12H");
        assert_eq!(value(&cal.properties, "X-PUBLISHED-TTL"), "PT12H");
        assert!(cal.timezones.is_empty());
        let ev = &cal.events[0].properties;
        assert_eq!(value(ev, "UID"), "c42-submission@vigie");
        assert_eq!(value(ev, "DTSTART"), "20270314");
        assert_eq!(param(prop(ev, "DTSTART"), "VALUE"), vec!["DATE"]);
        assert_eq!(value(ev, "DTEND"), "20270315");
        assert_eq!(param(prop(ev, "DTEND"), "VALUE"), vec!["DATE"]);
        assert_eq!(value(ev, "SEQUENCE"), "3");
        assert_eq!(value(ev, "STATUS"), "CONFIRMED");
        assert_eq!(value(ev, "DTSTAMP"), "20270102T030405Z");
    }

    #[test]
    fn timed_cancelled_deadline() {
        let mut e = entry(NaiveTime::from_hms_opt(12, 0, 0));
        e.cancelled = true;
        let cal = parse(&calendar("x", &[e]));
        assert_eq!(cal.timezones.len(), 1);
        assert_eq!(value(&cal.timezones[0].properties, "TZID"), "Europe/Paris");
        let ev = &cal.events[0].properties;
        assert_eq!(value(ev, "DTSTART"), "20270314T120000");
        assert_eq!(param(prop(ev, "DTSTART"), "TZID"), vec!["Europe/Paris"]);
        assert!(ev.iter().all(|p| p.name != "DTEND"));
        assert_eq!(value(ev, "STATUS"), "CANCELLED");
    }

    #[test]
    fn long_accented_title_is_folded_on_char_boundaries() {
        let mut e = entry(None);
        e.summary = "Échéance éééé à déposer — ".repeat(8);
        let text = calendar("x", &[e.clone()]);
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        // `split` on &str already proves no line ends inside a UTF-8 character; unfolding gives the title back.
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}\r\n", e.summary)));
        // The `ical` crate trims whitespace around folds, so compare it without spaces.
        let cal = parse(&text);
        let strip = |s: &str| s.replace(' ', "");
        assert_eq!(strip(&value(&cal.events[0].properties, "SUMMARY")), strip(&e.summary));
    }

    /// The calendar of the security review: an imported `application_url`
    /// with CRLF lines added a whole `VEVENT` with an `ATTACH:` to an .exe.
    #[test]
    fn injected_lines_never_become_properties_or_events() {
        let injection = "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nSUMMARY:Mise à jour\r\n\
                         ATTACH;FMTTYPE=application/octet-stream:https://evil.example/setup.exe\r\n\
                         DTSTART;VALUE=DATE:20270101";
        let mut e = entry(None);
        e.url = format!("https://aides.example/x{injection}");
        e.summary = format!("Appel{injection}");
        e.description = format!("Détails\n{injection}\u{0}\u{1b}[31m");
        e.uid = format!("c1{injection}");
        let text = calendar(&format!("Cal{injection}"), &[e]);
        let cal = parse(&text);
        assert_eq!(cal.events.len(), 1, "{text}");
        let ev = &cal.events[0].properties;
        assert!(ev.iter().all(|p| p.name != "ATTACH" && p.name != "URL"), "{text}");
        for name in ["UID", "SUMMARY", "DESCRIPTION", "DTSTART", "DTSTAMP"] {
            assert_eq!(ev.iter().filter(|p| p.name == name).count(), 1, "{name}: {text}");
        }
        assert!(value(ev, "SUMMARY").starts_with("Appel\\nEND:VEVENT"));
        assert!(!text.contains('\u{0}') && !text.contains('\u{1b}'));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
            assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        }
        // A safe URL is still written.
        let cal = parse(&calendar("x", &[entry(None)]));
        assert_eq!(
            value(&cal.events[0].properties, "URL"),
            "https://aides-territoires.beta.gouv.fr/aides/x/"
        );
    }

    #[test]
    fn text_is_escaped() {
        let mut e = entry(None);
        e.description = "a,b;c\\d\nnext".into();
        let text = calendar("x", &[e]);
        assert!(text.contains("DESCRIPTION:a\\,b\\;c\\\\d\\nnext\r\n"));
        let cal = parse(&text);
        assert_eq!(value(&cal.events[0].properties, "DESCRIPTION"), "a\\,b\\;c\\\\d\\nnext");
    }
}
