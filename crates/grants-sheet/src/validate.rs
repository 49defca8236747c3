//! The rules a recorded application or decision must follow, one home for
//! them: `RecordApplication`, `RecordGrant`, `SetAgreementDate` and the
//! import of a sheet ([`crate::import`]) all check their inputs here, so a
//! row of a file is refused exactly when the same values sent one by one
//! would be. Every message is French and names the field.

use chrono::{Months, NaiveDate};

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

fn amount(cents: i64, field: &str) -> Result<i64, String> {
    if !(0..=MAX_AMOUNT_CENTS).contains(&cents) {
        return Err(format!("{field} : {cents} centimes hors bornes (de 0 à 100 000 000 €)"));
    }
    Ok(cents)
}

/// `value` trimmed, at most `max` characters, no control character but a
/// line break; `required` refuses it empty.
///
/// # Errors
/// A French message naming `field`.
pub fn bounded_text(value: &str, max: usize, field: &str, required: bool) -> Result<String, String> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(format!("{field} manquant"));
    }
    if value.chars().count() > max {
        return Err(format!("{field} : au plus {max} caractères"));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!("{field} : caractère de contrôle refusé"));
    }
    Ok(value.to_owned())
}

/// An idempotency key: trimmed, at most [`MAX_KEY_CHARS`] characters, no
/// control character at all (a key is compared byte for byte; a line break
/// in it is a mistake, never a choice).
///
/// # Errors
/// A French message naming the key.
pub fn idempotency_key(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.chars().count() > MAX_KEY_CHARS {
        return Err(format!("clé d'idempotence : au plus {MAX_KEY_CHARS} caractères"));
    }
    if value.chars().any(char::is_control) {
        return Err("clé d'idempotence : caractère de contrôle refusé".to_owned());
    }
    Ok(value.to_owned())
}

/// `date` is within [`MAX_YEARS_AWAY`] years of `today`.
///
/// # Errors
/// A French message naming `field`.
pub fn near(date: NaiveDate, today: NaiveDate, field: &str) -> Result<NaiveDate, String> {
    let years = Months::new(12 * MAX_YEARS_AWAY);
    let low = today.checked_sub_months(years).unwrap_or(NaiveDate::MIN);
    let high = today.checked_add_months(years).unwrap_or(NaiveDate::MAX);
    if date < low || date > high {
        return Err(format!(
            "{field} {date} : attendu à moins de {MAX_YEARS_AWAY} ans d'aujourd'hui"
        ));
    }
    Ok(date)
}

/// Validates an application (French messages naming the field).
///
/// # Errors
/// The message of the first invalid field.
pub fn validate_application(input: &ApplicationInput, today: NaiveDate) -> Result<ApplicationInput, String> {
    let with_call = !input.call_id.trim().is_empty();
    Ok(ApplicationInput {
        structure_id: input.structure_id.trim().to_owned(),
        call_id: input.call_id.trim().to_owned(),
        funder: bounded_text(&input.funder, MAX_TITLE_CHARS, "financeur", !with_call)?,
        title: bounded_text(&input.title, MAX_TITLE_CHARS, "intitulé", !with_call)?,
        applied_on: Some(near(input.applied_on.unwrap_or(today), today, "date de dépôt")?),
        amount_asked: amount(input.amount_asked, "montant demandé")?,
        idempotency_key: idempotency_key(&input.idempotency_key)?,
    })
}

/// Validates a decision (French messages naming the field).
///
/// # Errors
/// The message of the first invalid field.
pub fn validate_grant(input: &GrantInput, today: NaiveDate) -> Result<GrantInput, String> {
    let outcome = input.outcome.trim();
    if outcome != WON && outcome != REFUSED {
        return Err(format!(
            "issue « {outcome} » inconnue : won (obtenu) ou refused (refusé)"
        ));
    }
    let won = outcome == WON;
    let known = !input.call_id.trim().is_empty() || !input.grant_id.trim().is_empty();
    let financial_year_end = match (input.financial_year_end, won) {
        (Some(end), _) => Some(near(end, today, "fin d'exercice")?),
        (None, true) => return Err("fin d'exercice manquante (la subvention obtenue la demande)".to_owned()),
        (None, false) => None,
    };
    match (input.agreement_start, input.agreement_end) {
        (None, None) => {}
        (Some(start), Some(end)) => {
            near(start, today, "début de convention")?;
            if end <= start {
                return Err(format!("fin de convention {end} : attendue après le début {start}"));
            }
            let limit = start
                .checked_add_months(Months::new(12 * MAX_YEARS_AWAY))
                .unwrap_or(NaiveDate::MAX);
            if end > limit {
                return Err(format!(
                    "fin de convention {end} : une convention dure au plus {MAX_YEARS_AWAY} ans"
                ));
            }
        }
        _ => return Err("convention : préciser son début et sa fin (les deux)".to_owned()),
    }
    Ok(GrantInput {
        structure_id: input.structure_id.trim().to_owned(),
        grant_id: input.grant_id.trim().to_owned(),
        call_id: input.call_id.trim().to_owned(),
        funder: bounded_text(&input.funder, MAX_TITLE_CHARS, "financeur", !known)?,
        title: bounded_text(&input.title, MAX_TITLE_CHARS, "intitulé", !known)?,
        outcome: outcome.to_owned(),
        amount_granted: if won {
            amount(input.amount_granted, "montant accordé")?
        } else {
            0
        },
        decided_on: Some(near(input.decided_on.unwrap_or(today), today, "date de décision")?),
        financial_year_end,
        agreement_start: input.agreement_start,
        agreement_end: input.agreement_end,
        reference: bounded_text(&input.reference, MAX_REFERENCE_CHARS, "référence de convention", false)?,
        purpose: bounded_text(&input.purpose, MAX_PURPOSE_CHARS, "objet", false)?,
        public_subsidy: Some(input.public_subsidy.unwrap_or(true)),
        amount_asked: amount(input.amount_asked, "montant demandé")?,
        applied_on: input.applied_on.map(|d| near(d, today, "date de dépôt")).transpose()?,
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
        assert_eq!(bounded_text("  a ", 3, "objet", false).unwrap(), "a");
        assert_eq!(bounded_text("a\nb", 3, "objet", false).unwrap(), "a\nb");
        assert!(bounded_text("a\tb", 3, "objet", false).unwrap_err().contains("objet"));
        assert!(bounded_text("abcd", 3, "objet", false)
            .unwrap_err()
            .contains("au plus 3"));
        assert!(bounded_text(" ", 3, "objet", true)
            .unwrap_err()
            .contains("objet manquant"));
        let today = d(2026, 12, 3);
        assert!(near(d(2036, 12, 3), today, "échéance").is_ok());
        assert!(near(d(2036, 12, 4), today, "échéance")
            .unwrap_err()
            .contains("échéance"));
        assert!(near(d(2016, 12, 3), today, "échéance").is_ok());
        assert!(near(d(2016, 12, 2), today, "échéance").is_err());
    }
}
