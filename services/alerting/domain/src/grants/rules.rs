//! The rules that derive a reporting duty's date, each with a stable code and
//! its source, and the calendar arithmetic they rest on.

use chrono::{Datelike, Months, NaiveDate};

use super::Cents;

/// Public subsidies above which a structure must have its accounts audited
/// and published (Code de commerce, art. L612-4 and D612-5): 153,000 €.
pub const PUBLIC_SUBSIDY_THRESHOLD: Cents = 153_000 * 100;

/// Days between the internal draft date and the external due date, unless a
/// network sets its own.
pub const DEFAULT_DRAFT_DAYS: u32 = 14;

/// A rule that makes a date due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// Compte rendu financier (Cerfa n° 15059) of a subsidy with a given
    /// purpose, within six months after the end of the financial year for
    /// which it was granted (loi n° 2000-321, art. 10).
    FinancialReport,
    /// The yearly report of a multi-year agreement: one per financial year
    /// the agreement covers, within six months after its end.
    AgreementYearlyReport,
    /// Accounts certified by a statutory auditor (commissaire aux comptes)
    /// for a financial year whose public subsidies exceed 153,000 €, before
    /// they are approved, within six months after the year's end.
    Audit,
    /// Accounts and the auditor's report published (Journal officiel,
    /// associations) within three months after their approval, itself within
    /// six months after the year's end: nine months after the year's end.
    Publication,
    /// A date written in the agreement itself.
    Agreement,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 5] = [
        Rule::FinancialReport,
        Rule::AgreementYearlyReport,
        Rule::Audit,
        Rule::Publication,
        Rule::Agreement,
    ];

    /// The stable code (API, CSV, events).
    pub fn code(self) -> &'static str {
        match self {
            Rule::FinancialReport => "financial_report_6_months",
            Rule::AgreementYearlyReport => "multi_year_yearly_report",
            Rule::Audit => "audit_above_153k",
            Rule::Publication => "publication_above_153k",
            Rule::Agreement => "agreement_date",
        }
    }

    /// The rule of a code.
    pub fn from_code(code: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.code() == code)
    }

    /// What is due, in French.
    pub fn duty_fr(self) -> &'static str {
        match self {
            Rule::FinancialReport => "compte rendu financier (Cerfa n° 15059)",
            Rule::AgreementYearlyReport => "compte rendu annuel de la convention pluriannuelle",
            Rule::Audit => "certification des comptes par un commissaire aux comptes",
            Rule::Publication => "publication des comptes annuels et du rapport du commissaire aux comptes",
            Rule::Agreement => "échéance prévue par la convention",
        }
    }

    /// What is due, in English.
    pub fn duty_en(self) -> &'static str {
        match self {
            Rule::FinancialReport => "financial report (Cerfa form 15059)",
            Rule::AgreementYearlyReport => "yearly report of the multi-year agreement",
            Rule::Audit => "accounts certified by a statutory auditor",
            Rule::Publication => "publication of the annual accounts and the auditor's report",
            Rule::Agreement => "date set by the agreement",
        }
    }

    /// Where the rule comes from, in French (shown beside the date).
    pub fn source_fr(self) -> &'static str {
        match self {
            Rule::FinancialReport => {
                "loi n° 2000-321 du 12 avril 2000, art. 10 : six mois après la fin de l'exercice subventionné"
            }
            Rule::AgreementYearlyReport => {
                "convention pluriannuelle d'objectifs : un compte rendu par exercice, six mois après sa fin"
            }
            Rule::Audit => {
                "Code de commerce, art. L612-4 : plus de 153 000 € de subventions publiques sur l'exercice ; comptes certifiés avant leur approbation, six mois après la fin de l'exercice"
            }
            Rule::Publication => {
                "Code de commerce, art. L612-4 et D612-5 : publication dans les trois mois après l'approbation des comptes, soit neuf mois après la fin de l'exercice"
            }
            Rule::Agreement => "date écrite dans la convention (elle prime sur les dates calculées)",
        }
    }
}

/// Whether `date` is the last day of its month.
fn is_month_end(date: NaiveDate) -> bool {
    date.succ_opt().is_none_or(|next| next.month() != date.month())
}

/// The date `months` months after `date`. A period that ends on the last
/// day of a month ends on the last day of the later month (30 June + 6
/// months = 31 December, 31 August + 6 months = 28 or 29 February); any
/// other day keeps its number, or the month's last day when the later month
/// is shorter.
pub fn months_after(date: NaiveDate, months: u32) -> NaiveDate {
    let Some(later) = date.checked_add_months(Months::new(months)) else {
        return NaiveDate::MAX;
    };
    if !is_month_end(date) {
        return later;
    }
    // The last day of `later`'s month.
    let first_of_next = if later.month() == 12 {
        NaiveDate::from_ymd_opt(later.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(later.year(), later.month() + 1, 1)
    };
    first_of_next.and_then(|d| d.pred_opt()).unwrap_or(later)
}

/// The due date of a rule for the financial year ending on `year_end`.
pub fn due_after_year_end(rule: Rule, year_end: NaiveDate) -> NaiveDate {
    match rule {
        Rule::Publication => months_after(year_end, 9),
        Rule::FinancialReport | Rule::AgreementYearlyReport | Rule::Audit | Rule::Agreement => {
            months_after(year_end, 6)
        }
    }
}

/// The ends of the financial years an agreement covers: every anniversary of
/// `year_end` (same month and day, the month's end kept) from the first on or
/// after `start` to the first on or after `end`, so that the year the
/// agreement ends in is reported too. Bounded: at most 20 years.
pub fn year_ends_covered(year_end: NaiveDate, start: NaiveDate, end: NaiveDate) -> Vec<NaiveDate> {
    const MAX_YEARS: u32 = 20;
    let mut ends = Vec::new();
    if end < start {
        return ends;
    }
    // Walk back to the last year end before `start`, then forward.
    let mut offset: i64 = 0;
    let at = |offset: i64| -> NaiveDate {
        let months = offset.unsigned_abs().saturating_mul(12).min(u64::from(u32::MAX)) as u32;
        if offset >= 0 {
            months_after(year_end, months)
        } else {
            months_before(year_end, months)
        }
    };
    while at(offset) >= start && offset > -i64::from(MAX_YEARS) {
        offset -= 1;
    }
    while ends.len() < MAX_YEARS as usize {
        let candidate = at(offset);
        offset += 1;
        if candidate < start {
            continue;
        }
        ends.push(candidate);
        if candidate >= end {
            break;
        }
    }
    ends
}

/// The date `months` months before `date`, keeping a month's end as
/// [`months_after`] does.
fn months_before(date: NaiveDate, months: u32) -> NaiveDate {
    let Some(earlier) = date.checked_sub_months(Months::new(months)) else {
        return NaiveDate::MIN;
    };
    if !is_month_end(date) {
        return earlier;
    }
    months_after(earlier.with_day(1).unwrap_or(earlier), 1)
        .pred_opt()
        .unwrap_or(earlier)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn six_months_after_a_month_end_is_a_month_end() {
        assert_eq!(months_after(d(2026, 12, 31), 6), d(2027, 6, 30));
        assert_eq!(months_after(d(2026, 6, 30), 6), d(2026, 12, 31));
        assert_eq!(months_after(d(2026, 3, 31), 6), d(2026, 9, 30));
        assert_eq!(months_after(d(2026, 9, 30), 6), d(2027, 3, 31));
    }

    #[test]
    fn february_follows_leap_years() {
        assert_eq!(months_after(d(2026, 8, 31), 6), d(2027, 2, 28));
        assert_eq!(months_after(d(2027, 8, 31), 6), d(2028, 2, 29));
        assert_eq!(
            months_after(d(2099, 8, 31), 6),
            d(2100, 2, 28),
            "1900-like century: not leap"
        );
        assert_eq!(
            months_after(d(2399, 8, 31), 6),
            d(2400, 2, 29),
            "2000-like century: leap"
        );
        // A year ending on 29 February (a leap year's month end) gives 31 August.
        assert_eq!(months_after(d(2028, 2, 29), 6), d(2028, 8, 31));
        // A year ending on 28 February of a leap year is not a month end.
        assert_eq!(months_after(d(2028, 2, 28), 6), d(2028, 8, 28));
    }

    #[test]
    fn another_day_keeps_its_number_or_the_shorter_months_end() {
        assert_eq!(months_after(d(2026, 9, 15), 6), d(2027, 3, 15));
        assert_eq!(months_after(d(2026, 8, 30), 6), d(2027, 2, 28));
        assert_eq!(months_after(d(2027, 8, 30), 6), d(2028, 2, 29));
    }

    #[test]
    fn each_rule_has_its_delay() {
        let end = d(2026, 12, 31);
        assert_eq!(due_after_year_end(Rule::FinancialReport, end), d(2027, 6, 30));
        assert_eq!(due_after_year_end(Rule::AgreementYearlyReport, end), d(2027, 6, 30));
        assert_eq!(due_after_year_end(Rule::Audit, end), d(2027, 6, 30));
        assert_eq!(due_after_year_end(Rule::Publication, end), d(2027, 9, 30));
        let end = d(2026, 6, 30);
        assert_eq!(due_after_year_end(Rule::Publication, end), d(2027, 3, 31));
    }

    #[test]
    fn codes_round_trip_and_every_rule_is_explained() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_code(rule.code()), Some(rule));
            for text in [rule.duty_fr(), rule.duty_en(), rule.source_fr()] {
                assert!(!text.is_empty());
            }
        }
        assert_eq!(Rule::from_code("six_months"), None);
    }

    #[test]
    fn an_agreement_covers_each_year_it_touches() {
        // Calendar years, 2026–2028.
        assert_eq!(
            year_ends_covered(d(2026, 12, 31), d(2026, 1, 1), d(2028, 12, 31)),
            vec![d(2026, 12, 31), d(2027, 12, 31), d(2028, 12, 31)]
        );
        // Years ending 30 June; an agreement from September 2026 to August 2029
        // touches the years ending in June 2027, 2028, 2029 and 2030.
        assert_eq!(
            year_ends_covered(d(2026, 6, 30), d(2026, 9, 1), d(2029, 8, 31)),
            vec![d(2027, 6, 30), d(2028, 6, 30), d(2029, 6, 30), d(2030, 6, 30)]
        );
        // Years ending in February keep the month's end across leap years.
        assert_eq!(
            year_ends_covered(d(2027, 2, 28), d(2027, 3, 1), d(2029, 2, 28)),
            vec![d(2028, 2, 29), d(2029, 2, 28)]
        );
        // A reference year end far after the agreement is walked back.
        assert_eq!(
            year_ends_covered(d(2030, 12, 31), d(2026, 1, 1), d(2026, 12, 31)),
            vec![d(2026, 12, 31)]
        );
        assert!(year_ends_covered(d(2026, 12, 31), d(2027, 1, 1), d(2026, 1, 1)).is_empty());
        // Bounded, whatever the period.
        assert_eq!(
            year_ends_covered(d(2026, 12, 31), d(2026, 1, 1), d(2200, 1, 1)).len(),
            20
        );
    }
}
