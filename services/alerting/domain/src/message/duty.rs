//! The reporting duties of a digest (issue 16): what is owed to which funder,
//! the external due date and the internal draft date, and the signed
//! « envoyé » link that stops the reminders of that duty.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{capitalised, countdown_label, escape_html, french_date, link, LATE_LABEL};

/// One reporting duty of a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyItem {
    /// The structure that owes it.
    pub structure_name: String,
    /// What is due, in French (« compte rendu financier (Cerfa n° 15059) »),
    /// or what the agreement calls it.
    pub duty: String,
    /// Who it is owed to ("" for the audit and publication duties).
    pub funder: String,
    /// The grant's title ("" for the audit and publication duties).
    pub title: String,
    /// The external due date.
    pub due: NaiveDate,
    /// The internal draft date.
    pub draft: NaiveDate,
    /// This reminder is the one of the internal draft date.
    pub draft_reminder: bool,
    /// Days from the digest's date to the due date.
    pub days_left: i64,
    /// Sent late (the service was down).
    pub late: bool,
    /// Why the network's referent is alerted: `orphan`, `spof`, `holders_leaving`.
    pub escalation: Option<String>,
    /// The signed link that records the duty as « envoyé ».
    pub sent_link: String,
}

/// The heading of a duty: « Compte rendu financier (Cerfa n° 15059) — Région
/// Bretagne (Insertion) ».
pub fn duty_heading(duty: &str, funder: &str, title: &str) -> String {
    let mut out = capitalised(duty);
    match (funder.trim(), title.trim()) {
        ("", "") => {}
        (funder, "") => {
            let _ = write!(out, " — {funder}");
        }
        ("", title) => {
            let _ = write!(out, " — {title}");
        }
        (funder, title) => {
            let _ = write!(out, " — {funder} ({title})");
        }
    }
    out
}

/// Why the referent receives a duty's reminder, in plain French.
pub fn reporting_escalation_label(reason: &str) -> &'static str {
    match reason {
        "orphan" => {
            "personne ne sait rendre compte aux financeurs dans la structure \
             (la fonction « bilans et comptes rendus aux financeurs » n'a aucun titulaire)."
        }
        "spof" => {
            "une seule personne sait rendre compte aux financeurs dans la structure ; \
             si elle est absente, l'échéance risque d'être manquée."
        }
        "holders_leaving" => {
            "les personnes qui savent rendre compte aux financeurs partent avant l'échéance ; \
             sans relais, personne ne pourra le faire à temps."
        }
        _ => "la structure est fragile pour rendre compte à ce financeur.",
    }
}

fn due_line(item: &DutyItem) -> String {
    format!(
        "Échéance externe (financeur) : {} — {}",
        french_date(item.due),
        countdown_label(item.days_left)
    )
}

fn draft_line(item: &DutyItem) -> String {
    if item.draft_reminder {
        format!(
            "Date de rédaction interne : {} — une première version doit être prête pour l'échéance du {}.",
            french_date(item.draft),
            french_date(item.due)
        )
    } else {
        format!("Date de rédaction interne : {}", french_date(item.draft))
    }
}

/// A moved duty: « Date déplacée : du … au … ».
pub(super) fn moved_line(from: NaiveDate, to: NaiveDate) -> String {
    format!("Date déplacée : du {} au {}.", french_date(from), french_date(to))
}

pub(super) fn render_text(out: &mut String, duties: &[&DutyItem], first: usize) {
    for (index, item) in duties.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {} — {}",
            first + index,
            duty_heading(&item.duty, &item.funder, &item.title),
            item.structure_name
        );
        let _ = writeln!(out, "   {}", due_line(item));
        let _ = writeln!(out, "   {}", draft_line(item));
        if item.late {
            let _ = writeln!(out, "   Rappel {LATE_LABEL}");
        }
        if let Some(reason) = &item.escalation {
            let _ = writeln!(out, "   Alerte pour le réseau : {}", reporting_escalation_label(reason));
        }
        let _ = writeln!(
            out,
            "   Déjà envoyé au financeur ? Dites-le en un clic, sans compte (plus de rappel ensuite) :"
        );
        let _ = writeln!(out, "   - envoyé : {}", item.sent_link);
        out.push('\n');
    }
}

pub(super) fn render_html(out: &mut String, duties: &[&DutyItem]) {
    let e = escape_html;
    out.push_str("<h2 style=\"font-size: 1.1em;\">Obligations envers les financeurs</h2>\n<ol>\n");
    for item in duties {
        out.push_str("<li style=\"margin-bottom: 1em;\">\n");
        let _ = writeln!(
            out,
            "<strong>{}</strong> — {}<br>",
            e(&duty_heading(&item.duty, &item.funder, &item.title)),
            e(&item.structure_name)
        );
        let _ = writeln!(out, "{}<br>", e(&due_line(item)));
        let _ = writeln!(out, "{}<br>", e(&draft_line(item)));
        if item.late {
            let _ = writeln!(out, "<em>Rappel {}</em><br>", e(LATE_LABEL));
        }
        if let Some(reason) = &item.escalation {
            let _ = writeln!(
                out,
                "<strong style=\"color: #b00020;\">Alerte pour le réseau :</strong> {}<br>",
                e(reporting_escalation_label(reason))
            );
        }
        let _ = writeln!(
            out,
            "Déjà envoyé au financeur ? Dites-le en un clic, sans compte : {}",
            link(&item.sent_link, "envoyé")
        );
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n");
}
