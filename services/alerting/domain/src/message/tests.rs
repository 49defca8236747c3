#![allow(clippy::unwrap_used)]

use super::*;
use crate::test_fixtures::date;

fn links(n: u32) -> AckLinks {
    AckLinks {
        submitted: format!("https://vigie.example/a/submitted-{n}"),
        in_progress: format!("https://vigie.example/a/in_progress-{n}"),
        not_concerned: format!("https://vigie.example/a/not_concerned-{n}"),
    }
}

fn item(title: &str, days_left: i64, deadline: NaiveDate) -> DigestItem {
    DigestItem {
        structure_name: "Les Amis du Quai".into(),
        call_title: title.into(),
        stage_kind: StageKind::Submission,
        deadline_date: deadline,
        deadline_time: None,
        timezone: chrono_tz::Europe::Paris,
        days_left,
        late: false,
        url: "https://aides.example/aides/fdva".into(),
        escalation: None,
        ack_links: links(days_left as u32),
    }
}

fn digest(items: Vec<DigestItem>, notices: Vec<Notice>) -> Digest {
    Digest {
        recipient_name: "Marie Dupont".into(),
        local_date: date(2027, 3, 7),
        items,
        duties: Vec::new(),
        notices,
        unsubscribe_url: "https://vigie.example/u/TOKEN".into(),
    }
}

#[test]
fn french_dates() {
    assert_eq!(french_date(date(2027, 3, 14)), "dimanche 14 mars 2027");
    assert_eq!(french_date(date(2027, 3, 12)), "vendredi 12 mars 2027");
    assert_eq!(french_date(date(2027, 5, 1)), "samedi 1er mai 2027");
    assert_eq!(french_date(date(2026, 8, 31)), "lundi 31 août 2026");
    assert_eq!(french_date(date(2026, 12, 2)), "mercredi 2 décembre 2026");
    assert_eq!(french_date(date(2026, 2, 5)), "jeudi 5 février 2026");
    assert_eq!(french_date(date(2026, 2, 3)), "mardi 3 février 2026");
}

#[test]
fn deadlines_with_time_name_their_zone() {
    let noon = NaiveTime::from_hms_opt(12, 0, 0);
    assert_eq!(
        deadline_label(date(2027, 3, 12), noon, chrono_tz::Europe::Paris),
        "vendredi 12 mars 2027 à 12:00 (Europe/Paris)"
    );
    assert_eq!(
        deadline_label(
            date(2027, 3, 12),
            NaiveTime::from_hms_opt(9, 5, 0),
            chrono_tz::Indian::Reunion
        ),
        "vendredi 12 mars 2027 à 09:05 (Indian/Reunion)"
    );
    assert_eq!(
        deadline_label(date(2027, 3, 12), None, chrono_tz::Europe::Paris),
        "vendredi 12 mars 2027"
    );
}

#[test]
fn countdowns() {
    assert_eq!(countdown_label(7), "J-7");
    assert_eq!(countdown_label(30), "J-30");
    assert_eq!(countdown_label(1), "J-1, demain");
    assert_eq!(countdown_label(0), "J-0, aujourd'hui");
    assert_eq!(countdown_label(-2), "échéance dépassée");
}

#[test]
fn stage_kinds_in_french() {
    assert_eq!(stage_label(StageKind::LetterOfIntent), "lettre d'intention");
    assert_eq!(stage_label(StageKind::PreDeposit), "pré-dépôt");
    assert_eq!(stage_label(StageKind::Submission), "dépôt du dossier");
    assert_eq!(stage_label(StageKind::Internal), "jalon interne");
}

fn risky_alone() -> DigestItem {
    let mut risky = item("R", 14, date(2027, 3, 21));
    risky.escalation = Some("holders_leaving".into());
    risky
}

fn cancelled_notice() -> Notice {
    Notice::Cancelled {
        structure_name: "S".into(),
        call_title: "T".into(),
        url: "https://x.example".into(),
    }
}

#[test]
fn subject_counts_deadlines_and_changes() {
    let three = vec![
        item("A", 7, date(2027, 3, 14)),
        item("B", 14, date(2027, 3, 21)),
        item("C", 30, date(2027, 4, 6)),
    ];
    assert_eq!(
        render_digest(&digest(three.clone(), vec![])).subject,
        "Vigie — 3 échéances de financement à venir"
    );
    assert_eq!(
        render_digest(&digest(three[..1].to_vec(), vec![])).subject,
        "Vigie — 1 échéance de financement à venir"
    );
    let cancelled = Notice::Cancelled {
        structure_name: "S".into(),
        call_title: "T".into(),
        url: "https://x.example".into(),
    };
    assert_eq!(
        render_digest(&digest(three[..2].to_vec(), vec![cancelled.clone()])).subject,
        "Vigie — 2 échéances de financement à venir et 1 changement"
    );
    assert_eq!(
        render_digest(&digest(vec![], vec![cancelled.clone(), cancelled])).subject,
        "Vigie — 2 changements sur vos appels à projets"
    );
    let mut risky = three[0].clone();
    risky.escalation = Some("orphan".into());
    assert_eq!(
        render_digest(&digest(vec![risky, three[1].clone()], vec![])).subject,
        "Vigie — 2 échéances de financement à venir (dont 1 à risque)"
    );
    assert_eq!(
        render_digest(&digest(vec![risky_alone()], vec![cancelled_notice()])).subject,
        "Vigie — 1 échéance de financement à venir (dont 1 à risque) et 1 changement"
    );
}

#[test]
fn text_lists_items_nearest_first_with_their_links() {
    let mut timed = item("Fonds pour l'innovation", 7, date(2027, 3, 14));
    timed.deadline_time = NaiveTime::from_hms_opt(12, 0, 0);
    timed.stage_kind = StageKind::LetterOfIntent;
    let later = item("FDVA fonctionnement", 30, date(2027, 4, 6));
    let rendered = render_digest(&digest(vec![later, timed], vec![]));
    let text = &rendered.text;
    assert!(text.starts_with("Bonjour Marie Dupont,\n"), "{text}");
    assert!(text.contains("au dimanche 7 mars 2027"), "{text}");
    assert!(
        text.contains("1. Fonds pour l'innovation — Les Amis du Quai\n   Lettre d'intention : dimanche 14 mars 2027 à 12:00 (Europe/Paris) — J-7"),
        "{text}"
    );
    assert!(
        text.contains("2. FDVA fonctionnement — Les Amis du Quai\n   Dépôt du dossier : mardi 6 avril 2027 — J-30"),
        "{text}"
    );
    assert!(
        text.contains("- déposé : https://vigie.example/a/submitted-7"),
        "{text}"
    );
    assert!(
        text.contains("- en cours : https://vigie.example/a/in_progress-7"),
        "{text}"
    );
    assert!(
        text.contains("- pas concerné : https://vigie.example/a/not_concerned-30"),
        "{text}"
    );
    assert!(text.contains("Se désabonner : https://vigie.example/u/TOKEN"), "{text}");
    assert!(!text.contains("en retard"), "{text}");
    assert!(!text.contains("Alerte"), "{text}");
}

#[test]
fn late_items_say_so() {
    let mut late = item("FDVA", 5, date(2027, 3, 12));
    late.late = true;
    let rendered = render_digest(&digest(vec![late], vec![]));
    assert!(rendered.text.contains("Rappel envoyé en retard"), "{}", rendered.text);
    assert!(rendered.html.contains("Rappel envoyé en retard"), "{}", rendered.html);
}

#[test]
fn escalations_explain_why() {
    let cases = [
        ("orphan", "personne ne sait déposer ce dossier"),
        ("spof", "une seule personne sait déposer ce dossier"),
        (
            "holders_leaving",
            "les personnes qui savent déposer ce dossier partent avant l'échéance",
        ),
        ("something_new", "la structure est fragile"),
    ];
    for (code, expected) in cases {
        let mut escalated = item("FDVA", 14, date(2027, 3, 21));
        escalated.escalation = Some(code.into());
        let rendered = render_digest(&digest(vec![escalated], vec![]));
        assert!(
            rendered.text.contains(&format!("Alerte pour le réseau : {expected}")),
            "{code}: {}",
            rendered.text
        );
        // The apostrophe is escaped in HTML.
        assert!(
            rendered.html.contains(&escape_html(expected)),
            "{code}: {}",
            rendered.html
        );
    }
}

#[test]
fn notices_of_moves_and_cancellations() {
    let moved = Notice::Moved {
        structure_name: "Les Amis du Quai".into(),
        call_title: "FDVA".into(),
        kind: StageKind::PreDeposit,
        from: date(2027, 3, 14),
        to: date(2027, 3, 31),
        url: "https://aides.example/fdva".into(),
    };
    let cancelled = Notice::Cancelled {
        structure_name: "Coop Bois".into(),
        call_title: "Appel retiré".into(),
        url: "https://aides.example/retire".into(),
    };
    let rendered = render_digest(&digest(vec![], vec![moved, cancelled]));
    let text = &rendered.text;
    assert!(
        text.contains("Des appels à projets que vous suivez ont changé"),
        "{text}"
    );
    assert!(
        text.contains("- FDVA — Les Amis du Quai\n  Échéance déplacée (pré-dépôt) : du dimanche 14 mars 2027 au mercredi 31 mars 2027."),
        "{text}"
    );
    assert!(
        text.contains("- Appel retiré — Coop Bois\n  Appel annulé ou retiré par le financeur"),
        "{text}"
    );
    assert!(
        rendered.html.contains("Échéance déplacée (pré-dépôt)"),
        "{}",
        rendered.html
    );
    assert!(rendered
        .html
        .contains("<a href=\"https://aides.example/retire\">Appel retiré</a>"));
}

#[test]
fn html_escapes_every_inserted_value() {
    let mut hostile = item("<script>alert(1)</script> & co", 7, date(2027, 3, 14));
    hostile.structure_name = "Tom & Jerry <b>".into();
    hostile.url = "https://x.example/?a=1&b='2'".into();
    hostile.ack_links.submitted = "https://vigie.example/a?t=1&u='x'".into();
    let mut d = digest(vec![hostile], vec![]);
    d.recipient_name = "<img src=x onerror=alert(1)>".into();
    let html = render_digest(&d).html;
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
        "{html}"
    );
    assert!(html.contains("Tom &amp; Jerry &lt;b&gt;"), "{html}");
    assert!(
        html.contains("href=\"https://x.example/?a=1&amp;b=&#39;2&#39;\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"https://vigie.example/a?t=1&amp;u=&#39;x&#39;\""),
        "{html}"
    );
    assert!(html.contains("Bonjour &lt;img src=x onerror=alert(1)&gt;,"), "{html}");
    // Every tag left is one of ours.
    let allowed = [
        "!DOCTYPE", "html", "/html", "head", "/head", "meta", "title", "/title", "body", "/body", "p", "/p", "ol",
        "/ol", "ul", "/ul", "li", "/li", "strong", "/strong", "em", "/em", "br", "a", "/a", "hr", "h2", "/h2",
    ];
    for tag in html.split('<').skip(1) {
        let name: String = tag.chars().take_while(|c| !c.is_whitespace() && *c != '>').collect();
        assert!(allowed.contains(&name.as_str()), "unexpected tag <{name}> in {html}");
    }
    // The text body is not HTML: values appear verbatim.
    let text = render_digest(&d).text;
    assert!(text.contains("<script>alert(1)</script> & co"), "{text}");
}

#[test]
fn html_is_a_french_document_with_the_unsubscribe_link() {
    let rendered = render_digest(&digest(vec![item("FDVA", 7, date(2027, 3, 14))], vec![]));
    let html = &rendered.html;
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"), "{html}");
    assert!(html.contains("<meta charset=\"utf-8\">"), "{html}");
    assert!(
        html.contains("<a href=\"https://vigie.example/u/TOKEN\">Se désabonner</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://vigie.example/a/submitted-7\">déposé</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://vigie.example/a/in_progress-7\">en cours</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://vigie.example/a/not_concerned-7\">pas concerné</a>"),
        "{html}"
    );
    assert!(
        html.contains("Dépôt du dossier : dimanche 14 mars 2027 — J-7"),
        "{html}"
    );
    assert!(html.trim_end().ends_with("</html>"));
}

/// Links of the security review: `javascript:` and `data:` URLs of imported
/// calls became clickable links in the email HTML.
#[test]
fn only_http_https_and_mailto_urls_become_links() {
    let mut scripted = item("Appel piégé", 7, date(2027, 3, 14));
    scripted.url = "javascript:alert(document.cookie)".into();
    let mut data = item("Appel data", 8, date(2027, 3, 15));
    data.url = "data:text/html;base64,PHNjcmlwdD4=".into();
    let mut crlf = item("Appel CRLF", 9, date(2027, 3, 16));
    crlf.url = "https://x.example/\r\nBcc: victime@example.org".into();
    let mut quoted = item("Appel guillemet", 10, date(2027, 3, 17));
    quoted.url = "https://x.example/\" onmouseover=\"alert(1)".into();
    let moved = Notice::Cancelled {
        structure_name: "S".into(),
        call_title: "Annulé".into(),
        url: "JaVaScRiPt:alert(2)".into(),
    };
    let rendered = render_digest(&digest(vec![scripted, data, crlf, quoted], vec![moved]));
    let html = rendered.html.to_lowercase();
    for bad in ["javascript:", "data:text", "bcc:", "onmouseover"] {
        assert!(!html.contains(&format!("href=\"{bad}")), "{bad}: {html}");
    }
    assert!(!html.contains("javascript:") && !html.contains("data:text"), "{html}");
    assert!(
        rendered.html.contains("<strong>Appel piégé</strong>"),
        "{}",
        rendered.html
    );
    assert!(rendered.html.contains("<strong>Annulé</strong>"), "{}", rendered.html);
    // The plain text leaves the refused URLs out rather than adding their lines.
    assert!(
        !rendered.text.contains("javascript:") && !rendered.text.contains("Bcc:"),
        "{}",
        rendered.text
    );
    assert!(!rendered.text.contains("data:text"), "{}", rendered.text);

    assert!(is_linkable("mailto:referent@reseau.example"));
    assert!(is_linkable("MAILTO:referent@reseau.example?subject=Vigie"));
    assert!(!is_linkable("mailto:"));
    assert!(!is_linkable("mailto:a@b.fr\r\nBcc:c@d.fr"));
    assert!(!is_linkable("mailto:a@b.fr\"><script>"));
    assert!(is_linkable("https://vigie.example/u/TOKEN"));
    assert!(!is_linkable("vbscript:x"));
}

fn duty_item(days_left: i64, draft_reminder: bool) -> DutyItem {
    DutyItem {
        structure_name: "Les Amis du Quai".into(),
        duty: "compte rendu financier (Cerfa n° 15059)".into(),
        funder: "Région <Bretagne>".into(),
        title: "Insertion".into(),
        due: date(2027, 3, 21),
        draft: date(2027, 3, 7),
        draft_reminder,
        days_left,
        late: false,
        escalation: Some("spof".into()),
        sent_link: "https://vigie.example/ack/SENT".into(),
    }
}

#[test]
fn a_duty_says_its_due_date_its_draft_date_and_how_to_say_sent() {
    let mut d = digest(Vec::new(), Vec::new());
    d.duties = vec![duty_item(14, true)];
    let r = render_digest(&d);
    assert_eq!(r.subject, "Vigie — 1 obligation envers un financeur (dont 1 à risque)");
    assert!(
        r.text.contains("obligations envers vos financeurs à préparer"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("1. Compte rendu financier (Cerfa n° 15059) — Région <Bretagne> (Insertion) — Les Amis du Quai"),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains("Échéance externe (financeur) : dimanche 21 mars 2027 — J-14"));
    assert!(r.text.contains(
        "Date de rédaction interne : dimanche 7 mars 2027 — une première version doit être prête pour l'échéance du dimanche 21 mars 2027."
    ));
    assert!(r.text.contains("une seule personne sait rendre compte aux financeurs"));
    assert!(r.text.contains("- envoyé : https://vigie.example/ack/SENT"));
    assert!(r.html.contains("Région &lt;Bretagne&gt;"), "escaped");
    assert!(!r.html.contains("<Bretagne>"));
    assert!(r.html.contains("<a href=\"https://vigie.example/ack/SENT\">envoyé</a>"));
    // Not the draft reminder: the draft date is only shown.
    d.duties = vec![duty_item(7, false)];
    let r = render_digest(&d);
    assert!(
        r.text.contains("Date de rédaction interne : dimanche 7 mars 2027\n"),
        "{}",
        r.text
    );
}

#[test]
fn calls_and_duties_share_one_digest() {
    let mut d = digest(vec![item("FDVA", 7, date(2027, 3, 14))], Vec::new());
    d.duties = vec![duty_item(14, false)];
    d.notices = vec![Notice::DutyMoved {
        structure_name: "Les Amis du Quai".into(),
        heading: duty_heading("compte rendu financier", "CAF", ""),
        from: date(2027, 6, 30),
        to: date(2027, 4, 30),
    }];
    let r = render_digest(&d);
    assert_eq!(
        r.subject,
        "Vigie — 1 échéance de financement à venir, 1 obligation envers un financeur (dont 1 à risque) et 1 changement"
    );
    assert!(r.text.contains("1. FDVA"));
    assert!(r.text.contains("Obligations envers les financeurs :"));
    assert!(r.text.contains("2. Compte rendu financier"));
    assert!(
        r.text.contains("- Compte rendu financier — CAF — Les Amis du Quai"),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains("Date déplacée : du mercredi 30 juin 2027 au vendredi 30 avril 2027."));
    assert!(r
        .html
        .contains("Date déplacée : du mercredi 30 juin 2027 au vendredi 30 avril 2027."));
    // A moved duty alone.
    let only = Digest {
        items: Vec::new(),
        duties: Vec::new(),
        ..d
    };
    let r = render_digest(&only);
    assert_eq!(
        r.subject,
        "Vigie — 1 changement sur vos obligations envers les financeurs"
    );
    assert!(r.text.contains("Des obligations envers vos financeurs ont changé"));
}

#[test]
fn duty_headings() {
    assert_eq!(duty_heading("certification", "", ""), "Certification");
    assert_eq!(duty_heading("bilan", "CAF", ""), "Bilan — CAF");
    assert_eq!(duty_heading("bilan", "", "Projet"), "Bilan — Projet");
    assert_eq!(
        reporting_escalation_label("x"),
        "la structure est fragile pour rendre compte à ce financeur."
    );
    assert!(reporting_escalation_label("orphan").contains("aucun titulaire"));
    assert!(reporting_escalation_label("holders_leaving").contains("partent"));
}
