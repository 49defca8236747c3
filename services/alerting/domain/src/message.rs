//! Rendering of reminders: the daily digest and notices, in French.
//!
//! One [`Digest`] per recipient and day gathers every deadline they are
//! reminded of ([`DigestItem`]) and the changes to calls they follow
//! ([`Notice`]: a moved deadline, a cancelled call). [`render_digest`] turns
//! it into a subject, a plain-text body and an HTML body, both carrying the
//! same information: the call and structure, what is due and when (a French
//! date, "J-7", the time and its zone for a timed deadline), whether the
//! reminder is sent late, why the network's referent is alerted, the
//! acknowledgement links and the unsubscribe link. Everything inserted in the
//! HTML is escaped, and only `http`, `https` and `mailto` URLs become links
//! ([`is_linkable`]): a `javascript:` or `data:` URL of an imported call is
//! rendered as text, never as a link.

use std::fmt::Write as _;

use chrono::{NaiveDate, NaiveTime, Timelike};
use chrono_tz::Tz;
use vigie_words::dates;

use crate::model::StageKind;

mod duty;

pub use duty::{duty_heading, reporting_escalation_label, DutyItem};

/// One deadline of a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    /// The structure the reminder is about.
    pub structure_name: String,
    /// The title of the call.
    pub call_title: String,
    /// What is due.
    pub stage_kind: StageKind,
    /// The local date of the deadline.
    pub deadline_date: NaiveDate,
    /// The local time of the deadline, when the call gives one.
    pub deadline_time: Option<NaiveTime>,
    /// The zone of the deadline's date and time.
    pub timezone: Tz,
    /// Days from the digest's date to the deadline (7 for "J-7").
    pub days_left: i64,
    /// The reminder fell due while the service was down and is sent late.
    pub late: bool,
    /// The call's page.
    pub url: String,
    /// Why the network's referent is alerted, when it is an escalation:
    /// `orphan`, `spof` or `holders_leaving`.
    pub escalation: Option<String>,
    /// The signed acknowledgement links of this structure and call.
    pub ack_links: AckLinks,
}

/// The signed links a recipient follows, without an account, to stop the reminders of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckLinks {
    /// "Déposé": the application was submitted.
    pub submitted: String,
    /// "En cours": someone is on it.
    pub in_progress: String,
    /// "Pas concerné": the structure will not apply.
    pub not_concerned: String,
}

/// A change to a call the recipient follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A deadline moved.
    Moved {
        /// The structure concerned.
        structure_name: String,
        /// The title of the call.
        call_title: String,
        /// The stage that moved.
        kind: StageKind,
        /// The former local date.
        from: NaiveDate,
        /// The new local date.
        to: NaiveDate,
        /// The call's page.
        url: String,
    },
    /// A reporting duty's due date moved (an agreement's date set since
    /// the recipient was reminded of it).
    DutyMoved {
        /// The structure concerned.
        structure_name: String,
        /// The duty and its funder, as [`duty_heading`] writes them.
        heading: String,
        /// The former due date.
        from: NaiveDate,
        /// The new due date.
        to: NaiveDate,
    },
    /// The call was cancelled or withdrawn.
    Cancelled {
        /// The structure concerned.
        structure_name: String,
        /// The title of the call.
        call_title: String,
        /// The call's page.
        url: String,
    },
}

/// What a notice tells, in text and in HTML alike.
struct Told<'a> {
    /// The call's title or the duty's heading.
    subject: &'a str,
    /// The structure concerned.
    structure_name: &'a str,
    /// The sentence saying what changed.
    change: String,
    /// The call's page (a duty has none).
    call_url: Option<&'a str>,
}

impl Notice {
    fn told(&self) -> Told<'_> {
        match self {
            Notice::Moved {
                structure_name,
                call_title,
                kind,
                from,
                to,
                url,
            } => Told {
                subject: call_title,
                structure_name,
                change: moved_line(*kind, *from, *to),
                call_url: Some(url),
            },
            Notice::DutyMoved {
                structure_name,
                heading,
                from,
                to,
            } => Told {
                subject: heading,
                structure_name,
                change: duty::moved_line(*from, *to),
                call_url: None,
            },
            Notice::Cancelled {
                structure_name,
                call_title,
                url,
            } => Told {
                subject: call_title,
                structure_name,
                change: capitalised(CANCELLED_LABEL),
                call_url: Some(url),
            },
        }
    }
}

/// Everything one recipient receives on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// How to greet the recipient.
    pub recipient_name: String,
    /// The recipient's local date of the digest.
    pub local_date: NaiveDate,
    /// The deadlines, rendered nearest first.
    pub items: Vec<DigestItem>,
    /// The reporting duties, rendered nearest due date first.
    pub duties: Vec<DutyItem>,
    /// The changes, rendered in the order given.
    pub notices: Vec<Notice>,
    /// The recipient's one-click unsubscribe link.
    pub unsubscribe_url: String,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body (a complete document, every inserted value escaped).
    pub html: String,
}

/// The French name of a stage kind, lower case ("dépôt du dossier").
pub fn stage_label(kind: StageKind) -> &'static str {
    match kind {
        StageKind::LetterOfIntent => "lettre d'intention",
        StageKind::PreDeposit => "pré-dépôt",
        StageKind::Submission => "dépôt du dossier",
        StageKind::Internal => "jalon interne",
    }
}

/// A date in French: "vendredi 14 mars 2027", "samedi 1er mai 2027".
pub fn french_date(date: NaiveDate) -> String {
    format!("{} {}", dates::weekday_fr(date), dates::french(date))
}

/// The deadline of an item: "vendredi 14 mars 2027", or with its time and
/// zone "vendredi 14 mars 2027 à 12:00 (Europe/Paris)". The zone is always
/// named for a timed deadline: recipients may live in another zone
/// (overseas territories) than the funder's.
pub fn deadline_label(date: NaiveDate, time: Option<NaiveTime>, timezone: Tz) -> String {
    match time {
        None => french_date(date),
        Some(time) => format!(
            "{} à {:02}:{:02} ({})",
            french_date(date),
            time.hour(),
            time.minute(),
            timezone.name()
        ),
    }
}

/// How near the deadline is: "J-7", "J-1, demain", "J-0, aujourd'hui",
/// "échéance dépassée" when negative.
pub fn countdown_label(days_left: i64) -> String {
    match days_left {
        ..=-1 => "échéance dépassée".to_owned(),
        0 => "J-0, aujourd'hui".to_owned(),
        1 => "J-1, demain".to_owned(),
        days => format!("J-{days}"),
    }
}

/// Why the network's referent receives this reminder, in plain French, from
/// an escalation reason code (`orphan`, `spof`, `holders_leaving`; any other
/// code gets a general explanation).
pub fn escalation_label(reason: &str) -> &'static str {
    match reason {
        "orphan" => {
            "personne ne sait déposer ce dossier dans la structure \
             (la fonction « dossiers de financement » n'a aucun titulaire)."
        }
        "spof" => {
            "une seule personne sait déposer ce dossier dans la structure ; \
             si elle est absente, l'échéance risque d'être manquée."
        }
        "holders_leaving" => {
            "les personnes qui savent déposer ce dossier partent avant l'échéance ; \
             sans relais, personne ne pourra le faire à temps."
        }
        _ => "la structure est fragile pour déposer ce dossier.",
    }
}

/// Explanation of the "late" mark.
const LATE_LABEL: &str = "envoyé en retard : il aurait dû partir plus tôt, \
     le service d'alerte était indisponible.";
/// Introduction of an escalation.
const ESCALATION_INTRO: &str = "Alerte pour le réseau";
/// Why a cancelled call is mentioned.
const CANCELLED_LABEL: &str =
    "appel annulé ou retiré par le financeur : vous ne recevrez plus de rappel pour cet appel.";

/// Renders a digest: subject, plain text and HTML, in French.
///
/// Items are shown nearest deadline first (ties keep the given order),
/// notices in the given order.
pub fn render_digest(d: &Digest) -> Rendered {
    let mut items: Vec<&DigestItem> = d.items.iter().collect();
    items.sort_by_key(|item| (item.days_left, item.deadline_date, item.deadline_time));
    let mut duties: Vec<&DutyItem> = d.duties.iter().collect();
    duties.sort_by_key(|item| (item.days_left, item.due));
    Rendered {
        subject: subject(d),
        text: render_text(d, &items, &duties),
        html: render_html(d, &items, &duties),
    }
}

fn plural(count: usize, singular: &str, plural: &str) -> String {
    if count == 1 {
        format!("1 {singular}")
    } else {
        format!("{count} {plural}")
    }
}

fn subject(d: &Digest) -> String {
    let deadlines = plural(
        d.items.len(),
        "échéance de financement à venir",
        "échéances de financement à venir",
    );
    let changes = plural(d.notices.len(), "changement", "changements");
    let urgent = d.items.iter().filter(|item| item.escalation.is_some()).count();
    let deadlines = if urgent > 0 {
        format!("{deadlines} (dont {urgent} à risque)")
    } else {
        deadlines
    };
    if !d.duties.is_empty() {
        let duties = plural(
            d.duties.len(),
            "obligation envers un financeur",
            "obligations envers les financeurs",
        );
        let urgent = d.duties.iter().filter(|item| item.escalation.is_some()).count();
        let duties = if urgent > 0 {
            format!("{duties} (dont {urgent} à risque)")
        } else {
            duties
        };
        let mut parts = Vec::new();
        if !d.items.is_empty() {
            parts.push(deadlines);
        }
        parts.push(duties);
        if !d.notices.is_empty() {
            parts.push(changes);
        }
        let last = parts.pop().unwrap_or_default();
        return if parts.is_empty() {
            format!("Vigie — {last}")
        } else {
            format!("Vigie — {} et {last}", parts.join(", "))
        };
    }
    match (d.items.is_empty(), d.notices.is_empty()) {
        (false, true) => format!("Vigie — {deadlines}"),
        (false, false) => format!("Vigie — {deadlines} et {changes}"),
        (true, false) if only_duty_notices(d) => format!("Vigie — {changes} sur vos obligations envers les financeurs"),
        (true, false) => format!("Vigie — {changes} sur vos appels à projets"),
        (true, true) => "Vigie — aucune échéance à venir".to_owned(),
    }
}

/// Every notice is about a reporting duty (none about a call).
fn only_duty_notices(d: &Digest) -> bool {
    d.notices.iter().all(|n| matches!(n, Notice::DutyMoved { .. }))
}

fn intro(d: &Digest) -> String {
    if d.items.is_empty() && !d.duties.is_empty() {
        return format!(
            "Voici les obligations envers vos financeurs à préparer, au {} :",
            french_date(d.local_date)
        );
    }
    match (d.items.is_empty(), d.notices.is_empty()) {
        (false, _) => format!(
            "Voici les échéances de financement à surveiller, au {} :",
            french_date(d.local_date)
        ),
        (true, false) if only_duty_notices(d) => format!(
            "Des obligations envers vos financeurs ont changé, au {} :",
            french_date(d.local_date)
        ),
        (true, false) => format!(
            "Des appels à projets que vous suivez ont changé, au {} :",
            french_date(d.local_date)
        ),
        (true, true) => format!("Aucune échéance à signaler au {}.", french_date(d.local_date)),
    }
}

/// "Dépôt du dossier : vendredi 14 mars 2027 — J-7".
fn due_line(item: &DigestItem) -> String {
    format!(
        "{} : {} — {}",
        capitalised(stage_label(item.stage_kind)),
        deadline_label(item.deadline_date, item.deadline_time, item.timezone),
        countdown_label(item.days_left)
    )
}

fn moved_line(kind: StageKind, from: NaiveDate, to: NaiveDate) -> String {
    format!(
        "Échéance déplacée ({}) : du {} au {}.",
        stage_label(kind),
        french_date(from),
        french_date(to)
    )
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const FOOTER: &str = "Vous recevez ce message de Vigie parce que vous suivez les dossiers de financement \
     de votre structure ou de votre réseau.";

/// "Bonjour Camille", or "Bonjour" without a name.
fn greeting(name: &str) -> String {
    match name.trim() {
        "" => "Bonjour".to_owned(),
        name => format!("Bonjour {name}"),
    }
}

fn render_text(d: &Digest, items: &[&DigestItem], duties: &[&DutyItem]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{},\n", greeting(&d.recipient_name));
    let _ = writeln!(out, "{}\n", intro(d));
    for (index, item) in items.iter().enumerate() {
        let _ = writeln!(out, "{}. {} — {}", index + 1, item.call_title, item.structure_name);
        let _ = writeln!(out, "   {}", due_line(item));
        if item.late {
            let _ = writeln!(out, "   Rappel {LATE_LABEL}");
        }
        if let Some(reason) = &item.escalation {
            let _ = writeln!(out, "   {ESCALATION_INTRO} : {}", escalation_label(reason));
        }
        text_link(&mut out, "   ", "Appel", &item.url);
        let _ = writeln!(out, "   Dites-nous où vous en êtes (un clic, sans compte) :");
        let _ = writeln!(out, "   - déposé : {}", item.ack_links.submitted);
        let _ = writeln!(out, "   - en cours : {}", item.ack_links.in_progress);
        let _ = writeln!(out, "   - pas concerné : {}", item.ack_links.not_concerned);
        out.push('\n');
    }
    if !duties.is_empty() {
        if !items.is_empty() {
            let _ = writeln!(out, "Obligations envers les financeurs :\n");
        }
        duty::render_text(&mut out, duties, items.len() + 1);
    }
    if !d.notices.is_empty() {
        let _ = writeln!(out, "Changements :\n");
        for notice in &d.notices {
            let told = notice.told();
            let _ = writeln!(out, "- {} — {}", told.subject, told.structure_name);
            let _ = writeln!(out, "  {}", told.change);
            if let Some(url) = told.call_url {
                text_link(&mut out, "  ", "Appel", url);
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "-- ");
    let _ = writeln!(out, "{FOOTER}");
    let _ = writeln!(out, "Se désabonner : {}", d.unsubscribe_url);
    out
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether `url` may be a link in a message: `http`/`https` passing the one
/// URL check ([`crate::url::check_url`]), or a `mailto:` without control
/// characters, spaces or markup characters. Anything else (`javascript:`,
/// `data:`, a CRLF…) is never a link.
pub fn is_linkable(url: &str) -> bool {
    match url.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => {
            url.len() > 7
                && url.len() <= crate::url::MAX_URL_LEN
                && !url
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '<' | '>' | '`'))
        }
        _ => crate::url::is_safe_url(url),
    }
}

/// A link to `url` labelled `label`, both escaped; only the label, escaped,
/// when the URL may not be a link ([`is_linkable`]).
fn link(url: &str, label: &str) -> String {
    if is_linkable(url) {
        format!("<a href=\"{}\">{}</a>", escape_html(url), escape_html(label))
    } else {
        escape_html(label)
    }
}

/// "Appel : URL" for the plain-text body, or nothing when the URL may not be
/// a link (it could otherwise add lines to the message).
fn text_link(out: &mut String, indent: &str, label: &str, url: &str) {
    if is_linkable(url) {
        let _ = writeln!(out, "{indent}{label} : {url}");
    }
}

fn render_html(d: &Digest, items: &[&DigestItem], duties: &[&DutyItem]) -> String {
    let e = escape_html;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<title>{}</title>", e(&subject(d)));
    out.push_str("</head>\n<body style=\"font-family: sans-serif; line-height: 1.4;\">\n");
    let _ = writeln!(out, "<p>{},</p>", e(&greeting(&d.recipient_name)));
    let _ = writeln!(out, "<p>{}</p>", e(&intro(d)));
    if !items.is_empty() {
        out.push_str("<ol>\n");
        for item in items {
            out.push_str("<li style=\"margin-bottom: 1em;\">\n");
            let _ = writeln!(
                out,
                "<strong>{}</strong> — {}<br>",
                link(&item.url, &item.call_title),
                e(&item.structure_name)
            );
            let _ = writeln!(out, "{}<br>", e(&due_line(item)));
            if item.late {
                let _ = writeln!(out, "<em>Rappel {}</em><br>", e(LATE_LABEL));
            }
            if let Some(reason) = &item.escalation {
                let _ = writeln!(
                    out,
                    "<strong style=\"color: #b00020;\">{} :</strong> {}<br>",
                    e(ESCALATION_INTRO),
                    e(escalation_label(reason))
                );
            }
            let _ = writeln!(
                out,
                "Dites-nous où vous en êtes (un clic, sans compte) : {} · {} · {}",
                link(&item.ack_links.submitted, "déposé"),
                link(&item.ack_links.in_progress, "en cours"),
                link(&item.ack_links.not_concerned, "pas concerné")
            );
            out.push_str("</li>\n");
        }
        out.push_str("</ol>\n");
    }
    if !duties.is_empty() {
        duty::render_html(&mut out, duties);
    }
    if !d.notices.is_empty() {
        out.push_str("<h2 style=\"font-size: 1.1em;\">Changements</h2>\n<ul>\n");
        for notice in &d.notices {
            let told = notice.told();
            let subject = match told.call_url {
                Some(url) => link(url, told.subject),
                None => e(told.subject),
            };
            let _ = writeln!(
                out,
                "<li><strong>{}</strong> — {}<br>{}</li>",
                subject,
                e(told.structure_name),
                e(&told.change)
            );
        }
        out.push_str("</ul>\n");
    }
    let _ = writeln!(
        out,
        "<hr>\n<p style=\"font-size: 0.9em; color: #555;\">{} {}</p>",
        e(FOOTER),
        link(&d.unsubscribe_url, "Se désabonner")
    );
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests;
