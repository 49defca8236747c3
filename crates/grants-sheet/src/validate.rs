//! The rules a recorded application or decision must follow, one home for
//! them: `RecordApplication`, `RecordGrant`, `SetAgreementDate` and the
//! import of a sheet ([`crate::import`]) all check their inputs here, so a
//! row of a file is refused exactly when the same values sent one by one
//! would be. Every message is in French and in English and names the field
//! ([`field`]).

use chrono::{Months, NaiveDate};
use vigie_words::{words, Term, Words};

/// The fields named in messages, in both languages.
pub mod field {
    use vigie_words::Term;

    /// The structure.
    pub const STRUCTURE: Term = Term::new("structure", "structure");
    /// The call applied to.
    pub const CALL: Term = Term::new("appel", "call");
    /// The funder.
    pub const FUNDER: Term = Term::new("financeur", "funder");
    /// The title.
    pub const TITLE: Term = Term::new("intitulé", "title");
    /// The date of submission.
    pub const APPLIED_ON: Term = Term::new("date de dépôt", "submission date");
    /// The amount asked.
    pub const AMOUNT_ASKED: Term = Term::new("montant demandé", "amount asked");
    /// The date of the decision.
    pub const DECIDED_ON: Term = Term::new("date de décision", "decision date");
    /// The amount granted.
    pub const AMOUNT_GRANTED: Term = Term::new("montant accordé", "amount granted");
    /// The last day of the financial year.
    pub const YEAR_END: Term = Term::new("fin d'exercice", "financial year end");
    /// The first day of an agreement.
    pub const AGREEMENT_START: Term = Term::new("début de convention", "agreement start");
    /// The last day of an agreement.
    pub const AGREEMENT_END: Term = Term::new("fin de convention", "agreement end");
    /// The agreement's reference.
    pub const REFERENCE: Term = Term::new("référence de convention", "agreement reference");
    /// The agreement's purpose.
    pub const PURPOSE: Term = Term::new("objet", "purpose");
    /// Whether a grant is a public subsidy.
    pub const PUBLIC: Term = Term::new("subvention publique", "public subsidy");
    /// A date written in an agreement.
    pub const DUE: Term = Term::new("échéance", "due date");
    /// The label of such a date.
    pub const LABEL: Term = Term::new("libellé", "label");
    /// An amount typed by a person.
    pub const AMOUNT: Term = Term::new("montant", "amount");
}

/// Largest amount accepted: 100 M€, in cents.
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000 * 100;
/// Longest funder or title.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest agreement reference.
pub const MAX_REFERENCE_CHARS: usize = 100;
/// Longest purpose.
pub const MAX_PURPOSE_CHARS: usize = 2000;
/// Longest label of an agreement date.
pub const MAX_LABEL_CHARS: usize = 200;
/// Longest idempotency key chosen by a client.
pub const MAX_KEY_CHARS: usize = 100;
/// Dates are accepted within this many years of today.
pub const MAX_YEARS_AWAY: u32 = 10;
/// Largest number of draft days a network may set.
pub const MAX_DRAFT_DAYS: u32 = 90;

/// Stage of an application without a decision.
pub const APPLIED: &str = "applied";
/// Stage of a grant won.
pub const WON: &str = "won";
/// Stage of an application refused.
pub const REFUSED: &str = "refused";

/// An application to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationInput {
    /// The structure.
    pub structure_id: String,
    /// An imported call, or empty.
    pub call_id: String,
    /// Funder (required without a call).
    pub funder: String,
    /// Title (required without a call).
    pub title: String,
    /// Date of submission (default today).
    pub applied_on: Option<NaiveDate>,
    /// Cents asked.
    pub amount_asked: i64,
    /// Idempotency key (without a call): the same key again for the
    /// structure is the same application. Empty for none.
    pub idempotency_key: String,
}

/// A decision (or a grant won without an application recorded) to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantInput {
    /// The structure.
    pub structure_id: String,
    /// The application decided, or empty.
    pub grant_id: String,
    /// The call, or empty.
    pub call_id: String,
    /// Funder.
    pub funder: String,
    /// Title.
    pub title: String,
    /// `won` or `refused`.
    pub outcome: String,
    /// Cents granted.
    pub amount_granted: i64,
    /// Date of the decision (default today).
    pub decided_on: Option<NaiveDate>,
    /// Last day of the financial year granted for (won).
    pub financial_year_end: Option<NaiveDate>,
    /// First day of a multi-year agreement.
    pub agreement_start: Option<NaiveDate>,
    /// Last day of a multi-year agreement.
    pub agreement_end: Option<NaiveDate>,
    /// The agreement's reference.
    pub reference: String,
    /// Its purpose.
    pub purpose: String,
    /// A public subsidy (default true).
    pub public_subsidy: Option<bool>,
    /// Cents asked, when no application was recorded.
    pub amount_asked: i64,
    /// Date of submission, when known (a new grant has none otherwise; an
    /// existing application keeps its own when `None`).
    pub applied_on: Option<NaiveDate>,
    /// Chosen by the client for a grant without call nor application id:
    /// the same key again for the structure is the same grant. Empty for none.
    pub idempotency_key: String,
}

fn amount(cents: i64, field: Term) -> Result<i64, Words> {
    if !(0..=MAX_AMOUNT_CENTS).contains(&cents) {
        let en = field.en;
        return Err(words!(
            "{field} : {cents} centimes hors bornes (de 0 à 100 000 000 €)",
            "{en}: {cents} cents out of bounds (from 0 to €100,000,000)"
        ));
    }
    Ok(cents)
}

/// `value` trimmed, at most `max` characters, no control character but a
/// line break; `required` refuses it empty.
///
/// # Errors
/// A message naming `field`.
pub fn bounded_text(value: &str, max: usize, field: Term, required: bool) -> Result<String, Words> {
    let value = value.trim();
    let en = field.en;
    if required && value.is_empty() {
        return Err(words!("{field} manquant", "{en} missing"));
    }
    if value.chars().count() > max {
        return Err(words!(
            "{field} : au plus {max} caractères",
            "{en}: at most {max} characters"
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(words!(
            "{field} : caractère de contrôle refusé",
            "{en}: control character refused"
        ));
    }
    Ok(value.to_owned())
}

/// An idempotency key: trimmed, at most [`MAX_KEY_CHARS`] characters, no
/// control character at all (a key is compared byte for byte; a line break
/// in it is a mistake, never a choice).
///
/// # Errors
/// A message naming the key.
pub fn idempotency_key(value: &str) -> Result<String, Words> {
    let value = value.trim();
    if value.chars().count() > MAX_KEY_CHARS {
        return Err(words!(
            "clé d'idempotence : au plus {MAX_KEY_CHARS} caractères",
            "idempotency key: at most {MAX_KEY_CHARS} characters"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(words!(
            "clé d'idempotence : caractère de contrôle refusé",
            "idempotency key: control character refused"
        ));
    }
    Ok(value.to_owned())
}

/// `date` is within [`MAX_YEARS_AWAY`] years of `today`.
///
/// # Errors
/// A message naming `field`.
pub fn near(date: NaiveDate, today: NaiveDate, field: Term) -> Result<NaiveDate, Words> {
    let years = Months::new(12 * MAX_YEARS_AWAY);
    let low = today.checked_sub_months(years).unwrap_or(NaiveDate::MIN);
    let high = today.checked_add_months(years).unwrap_or(NaiveDate::MAX);
    if date < low || date > high {
        let en = field.en;
        return Err(words!(
            "{field} {date} : attendu à moins de {MAX_YEARS_AWAY} ans d'aujourd'hui",
            "{en} {date}: expected within {MAX_YEARS_AWAY} years of today"
        ));
    }
    Ok(date)
}

/// Validates an application (messages naming the field).
///
/// # Errors
/// The message of the first invalid field.
pub fn validate_application(input: &ApplicationInput, today: NaiveDate) -> Result<ApplicationInput, Words> {
    let with_call = !input.call_id.trim().is_empty();
    Ok(ApplicationInput {
        structure_id: input.structure_id.trim().to_owned(),
        call_id: input.call_id.trim().to_owned(),
        funder: bounded_text(&input.funder, MAX_TITLE_CHARS, field::FUNDER, !with_call)?,
        title: bounded_text(&input.title, MAX_TITLE_CHARS, field::TITLE, !with_call)?,
        applied_on: Some(near(input.applied_on.unwrap_or(today), today, field::APPLIED_ON)?),
        amount_asked: amount(input.amount_asked, field::AMOUNT_ASKED)?,
        idempotency_key: idempotency_key(&input.idempotency_key)?,
    })
}

/// Validates a decision (messages naming the field).
///
/// # Errors
/// The message of the first invalid field.
pub fn validate_grant(input: &GrantInput, today: NaiveDate) -> Result<GrantInput, Words> {
    let outcome = input.outcome.trim();
    if outcome != WON && outcome != REFUSED {
        return Err(words!(
            "issue « {outcome} » inconnue : won (obtenu) ou refused (refusé)",
            "unknown outcome “{outcome}”: won or refused"
        ));
    }
    let won = outcome == WON;
    let known = !input.call_id.trim().is_empty() || !input.grant_id.trim().is_empty();
    let financial_year_end = match (input.financial_year_end, won) {
        (Some(end), _) => Some(near(end, today, field::YEAR_END)?),
        (None, true) => {
            return Err(words!(
                "fin d'exercice manquante (la subvention obtenue la demande)",
                "financial year end missing (a grant won needs it)"
            ))
        }
        (None, false) => None,
    };
    match (input.agreement_start, input.agreement_end) {
        (None, None) => {}
        (Some(start), Some(end)) => {
            near(start, today, field::AGREEMENT_START)?;
            if end <= start {
                return Err(words!(
                    "fin de convention {end} : attendue après le début {start}",
                    "agreement end {end}: expected after its start {start}"
                ));
            }
            let limit = start
                .checked_add_months(Months::new(12 * MAX_YEARS_AWAY))
                .unwrap_or(NaiveDate::MAX);
            if end > limit {
                return Err(words!(
                    "fin de convention {end} : une convention dure au plus {MAX_YEARS_AWAY} ans",
                    "agreement end {end}: an agreement lasts at most {MAX_YEARS_AWAY} years"
                ));
            }
        }
        _ => {
            return Err(words!(
                "convention : préciser son début et sa fin (les deux)",
                "agreement: give its start and its end (both)"
            ))
        }
    }
    Ok(GrantInput {
        structure_id: input.structure_id.trim().to_owned(),
        grant_id: input.grant_id.trim().to_owned(),
        call_id: input.call_id.trim().to_owned(),
        funder: bounded_text(&input.funder, MAX_TITLE_CHARS, field::FUNDER, !known)?,
        title: bounded_text(&input.title, MAX_TITLE_CHARS, field::TITLE, !known)?,
        outcome: outcome.to_owned(),
        amount_granted: if won {
            amount(input.amount_granted, field::AMOUNT_GRANTED)?
        } else {
            0
        },
        decided_on: Some(near(input.decided_on.unwrap_or(today), today, field::DECIDED_ON)?),
        financial_year_end,
        agreement_start: input.agreement_start,
        agreement_end: input.agreement_end,
        reference: bounded_text(&input.reference, MAX_REFERENCE_CHARS, field::REFERENCE, false)?,
        purpose: bounded_text(&input.purpose, MAX_PURPOSE_CHARS, field::PURPOSE, false)?,
        public_subsidy: Some(input.public_subsidy.unwrap_or(true)),
        amount_asked: amount(input.amount_asked, field::AMOUNT_ASKED)?,
        applied_on: input
            .applied_on
            .map(|d| near(d, today, field::APPLIED_ON))
            .transpose()?,
        idempotency_key: idempotency_key(&input.idempotency_key)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn won() -> GrantInput {
        GrantInput {
            structure_id: "S1".into(),
            funder: "Région".into(),
            title: "Projet".into(),
            outcome: "won".into(),
            amount_granted: 1_000_000,
            financial_year_end: Some(d(2026, 12, 31)),
            ..GrantInput::default()
        }
    }

    #[test]
    fn invalid_grants_are_refused_naming_the_field() {
        let today = d(2026, 12, 3);
        let err = |i: GrantInput| validate_grant(&i, today).unwrap_err();
        assert!(err(GrantInput {
            amount_granted: -1,
            ..won()
        })
        .contains("montant accordé"));
        assert!(err(GrantInput {
            amount_granted: MAX_AMOUNT_CENTS + 1,
            ..won()
        })
        .contains("montant accordé"));
        assert!(err(GrantInput {
            financial_year_end: Some(d(2040, 12, 31)),
            ..won()
        })
        .contains("fin d'exercice"));
        assert!(err(GrantInput {
            financial_year_end: None,
            ..won()
        })
        .contains("fin d'exercice"));
        assert!(err(GrantInput {
            agreement_start: Some(d(2027, 1, 1)),
            agreement_end: Some(d(2026, 12, 31)),
            ..won()
        })
        .contains("fin de convention"));
        assert!(err(GrantInput {
            agreement_start: Some(d(2026, 1, 1)),
            agreement_end: Some(d(2036, 1, 2)),
            ..won()
        })
        .contains("10 ans"));
        assert!(err(GrantInput {
            agreement_start: Some(d(2026, 1, 1)),
            ..won()
        })
        .contains("convention"));
        assert!(err(GrantInput {
            funder: "x".repeat(301),
            ..won()
        })
        .contains("financeur"));
        assert!(err(GrantInput {
            title: " ".into(),
            ..won()
        })
        .contains("intitulé"));
        assert!(err(GrantInput {
            outcome: "maybe".into(),
            ..won()
        })
        .contains("issue"));
        assert!(err(GrantInput {
            applied_on: Some(d(2000, 1, 1)),
            ..won()
        })
        .contains("date de dépôt"));
        let ok = validate_grant(&won(), today).unwrap();
        assert_eq!(ok.public_subsidy, Some(true));
        assert_eq!(ok.decided_on, Some(today));
        assert_eq!(ok.applied_on, None);
        // A refusal needs neither amount nor year.
        let refused = validate_grant(
            &GrantInput {
                outcome: "refused".into(),
                amount_granted: 5,
                financial_year_end: None,
                ..won()
            },
            today,
        )
        .unwrap();
        assert_eq!(refused.amount_granted, 0);
    }

    #[test]
    fn idempotency_keys_are_bounded_and_without_control_characters() {
        let today = d(2026, 12, 3);
        let with = |key: &str| {
            validate_grant(
                &GrantInput {
                    idempotency_key: key.into(),
                    ..won()
                },
                today,
            )
        };
        assert_eq!(with("  retry-1 ").unwrap().idempotency_key, "retry-1");
        assert_eq!(with(&"k".repeat(100)).unwrap().idempotency_key.len(), 100);
        assert!(with(&"k".repeat(101)).unwrap_err().contains("clé d'idempotence"));
        assert!(with("a\nb").unwrap_err().contains("clé d'idempotence"));
        assert!(with("a\u{7}b").unwrap_err().contains("caractère de contrôle"));
        assert_eq!(with("").unwrap().idempotency_key, "");
        let app = ApplicationInput {
            structure_id: "S1".into(),
            funder: "F".into(),
            title: "T".into(),
            idempotency_key: "x".repeat(101),
            ..ApplicationInput::default()
        };
        assert!(validate_application(&app, today)
            .unwrap_err()
            .contains("clé d'idempotence"));
    }

    #[test]
    fn applications_need_a_call_or_a_funder_and_title() {
        let today = d(2026, 12, 3);
        let err = |i: ApplicationInput| validate_application(&i, today).unwrap_err();
        assert!(err(ApplicationInput {
            structure_id: "S1".into(),
            title: "x".into(),
            ..ApplicationInput::default()
        })
        .contains("financeur"));
        assert!(err(ApplicationInput {
            structure_id: "S1".into(),
            call_id: "C1".into(),
            amount_asked: -5,
            ..ApplicationInput::default()
        })
        .contains("montant demandé"));
        let ok = validate_application(
            &ApplicationInput {
                structure_id: "S1".into(),
                call_id: "C1".into(),
                ..ApplicationInput::default()
            },
            today,
        )
        .unwrap();
        assert_eq!(ok.applied_on, Some(today));
    }

    #[test]
    fn texts_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(bounded_text("  a ", 3, field::PURPOSE, false).unwrap(), "a");
        assert_eq!(bounded_text("a\nb", 3, field::PURPOSE, false).unwrap(), "a\nb");
        assert!(bounded_text("a\tb", 3, field::PURPOSE, false)
            .unwrap_err()
            .contains("objet"));
        assert!(bounded_text("abcd", 3, field::PURPOSE, false)
            .unwrap_err()
            .contains("au plus 3"));
        assert!(bounded_text(" ", 3, field::PURPOSE, true)
            .unwrap_err()
            .contains("objet manquant"));
        let today = d(2026, 12, 3);
        assert!(near(d(2036, 12, 3), today, field::DUE).is_ok());
        assert!(near(d(2036, 12, 4), today, field::DUE)
            .unwrap_err()
            .contains("échéance"));
        assert!(near(d(2016, 12, 3), today, field::DUE).is_ok());
        assert!(near(d(2016, 12, 2), today, field::DUE).is_err());
        assert_eq!(
            near(d(2016, 12, 2), today, field::DUE).unwrap_err().en,
            "due date 2016-12-02: expected within 10 years of today"
        );
        assert_eq!(
            bounded_text(" ", 3, field::FUNDER, true).unwrap_err().en,
            "funder missing"
        );
    }
}
