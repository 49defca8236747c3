//! Every reporting duty of a structure, derived from its grants by the
//! [`rules`](super::rules), each with its internal draft date; dates written
//! in an agreement win over derived ones.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};

use super::rules::{due_after_year_end, year_ends_covered, Rule, PUBLIC_SUBSIDY_THRESHOLD};
use super::{Cents, Grant};

/// One duty: what is due, when, by which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    /// Stable key: `GRANT:RULE:YEAR_END` for a grant's duty,
    /// `STRUCTURE:RULE:YEAR_END` for a duty of the whole structure (audit,
    /// publication), `GRANT:agreement_date:DATE` for a date of the agreement.
    pub key: String,
    /// The structure that owes it.
    pub structure_id: String,
    /// The grant it comes from (`None` for the audit and publication duties,
    /// which follow from the year's total).
    pub grant_id: Option<String>,
    /// The rule that makes it due.
    pub rule: Rule,
    /// The financial year it reports on (its last day).
    pub year_end: NaiveDate,
    /// The external due date.
    pub due: NaiveDate,
    /// The internal draft date: a first version ready that many days before.
    pub draft: NaiveDate,
    /// The due date comes from the agreement, not from the rule.
    pub edited: bool,
    /// What the agreement calls it, for a date written in it.
    pub label: Option<String>,
}

/// A date written in an agreement: it replaces a derived due date (`key` of
/// that obligation), or adds a duty of its own ([`Rule::Agreement`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgreementDate {
    /// The agreement sets another date for a derived duty.
    Moves {
        /// The obligation's key.
        key: String,
        /// The date the agreement writes.
        due: NaiveDate,
    },
    /// The agreement asks for another report.
    Adds {
        /// The grant whose agreement it is.
        grant_id: String,
        /// When.
        due: NaiveDate,
        /// What it asks for (« bilan intermédiaire »).
        label: String,
    },
}

/// The total of public subsidies per structure and financial year (its last
/// day).
pub fn public_totals(grants: &[Grant]) -> BTreeMap<(String, NaiveDate), Cents> {
    let mut totals = BTreeMap::new();
    for grant in grants.iter().filter(|g| g.public) {
        *totals
            .entry((grant.structure_id.clone(), grant.financial_year_end))
            .or_insert(0) += grant.amount;
    }
    totals
}

/// Every obligation of `grants` (one structure or many), the agreements'
/// dates applied, with draft dates `draft_days` before each due date; by due
/// date, then key.
pub fn obligations(grants: &[Grant], agreement_dates: &[AgreementDate], draft_days: u32) -> Vec<Obligation> {
    let draft_of = |due: NaiveDate| due.checked_sub_days(Days::new(u64::from(draft_days))).unwrap_or(due);
    let derived = |key: String, structure: &str, grant: Option<&str>, rule: Rule, year_end: NaiveDate| {
        let due = due_after_year_end(rule, year_end);
        Obligation {
            key,
            structure_id: structure.to_owned(),
            grant_id: grant.map(str::to_owned),
            rule,
            year_end,
            due,
            draft: draft_of(due),
            edited: false,
            label: None,
        }
    };
    let mut all = Vec::new();
    for grant in grants {
        let id = grant.grant_id.as_str();
        match grant.agreement {
            None => all.push(derived(
                format!("{id}:{}:{}", Rule::FinancialReport.code(), grant.financial_year_end),
                &grant.structure_id,
                Some(id),
                Rule::FinancialReport,
                grant.financial_year_end,
            )),
            Some(agreement) => {
                for year_end in year_ends_covered(grant.financial_year_end, agreement.start, agreement.end) {
                    all.push(derived(
                        format!("{id}:{}:{year_end}", Rule::AgreementYearlyReport.code()),
                        &grant.structure_id,
                        Some(id),
                        Rule::AgreementYearlyReport,
                        year_end,
                    ));
                }
            }
        }
    }
    for ((structure, year_end), total) in public_totals(grants) {
        if total > PUBLIC_SUBSIDY_THRESHOLD {
            for rule in [Rule::Audit, Rule::Publication] {
                all.push(derived(
                    format!("{structure}:{}:{year_end}", rule.code()),
                    &structure,
                    None,
                    rule,
                    year_end,
                ));
            }
        }
    }
    let grants_by_id: HashMap<&str, &Grant> = grants.iter().map(|g| (g.grant_id.as_str(), g)).collect();
    for date in agreement_dates {
        match date {
            AgreementDate::Moves { key, due } => {
                if let Some(obligation) = all.iter_mut().find(|o| &o.key == key) {
                    obligation.due = *due;
                    obligation.draft = draft_of(*due);
                    obligation.edited = true;
                }
            }
            AgreementDate::Adds { grant_id, due, label } => {
                if let Some(grant) = grants_by_id.get(grant_id.as_str()) {
                    all.push(Obligation {
                        key: format!("{grant_id}:{}:{due}", Rule::Agreement.code()),
                        structure_id: grant.structure_id.clone(),
                        grant_id: Some(grant_id.clone()),
                        rule: Rule::Agreement,
                        year_end: grant.financial_year_end,
                        due: *due,
                        draft: draft_of(*due),
                        edited: true,
                        label: Some(label.clone()),
                    });
                }
            }
        }
    }
    all.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.key.cmp(&b.key)));
    all
}

#[cfg(test)]
mod tests {
    use super::super::Agreement;
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn grant(id: &str, euros: u64, year_end: NaiveDate) -> Grant {
        Grant {
            grant_id: id.to_owned(),
            structure_id: "S000004".to_owned(),
            funder: "Région".to_owned(),
            title: "Projet".to_owned(),
            amount: euros * 100,
            public: true,
            financial_year_end: year_end,
            agreement: None,
        }
    }

    fn rules(list: &[Obligation]) -> Vec<(Rule, NaiveDate)> {
        list.iter().map(|o| (o.rule, o.due)).collect()
    }

    #[test]
    fn a_grant_owes_its_financial_report_six_months_after_its_year() {
        let all = obligations(&[grant("G1", 20_000, d(2026, 12, 31))], &[], 14);
        assert_eq!(rules(&all), vec![(Rule::FinancialReport, d(2027, 6, 30))]);
        let only = &all[0];
        assert_eq!(only.key, "G1:financial_report_6_months:2026-12-31");
        assert_eq!(only.draft, d(2027, 6, 16));
        assert_eq!(only.grant_id.as_deref(), Some("G1"));
        assert!(!only.edited);
        // A year ending 31 August before a leap February.
        let all = obligations(&[grant("G2", 5_000, d(2027, 8, 31))], &[], 14);
        assert_eq!(all[0].due, d(2028, 2, 29));
        assert_eq!(all[0].draft, d(2028, 2, 15));
    }

    #[test]
    fn a_multi_year_agreement_owes_one_report_per_year() {
        let mut cpo = grant("G1", 30_000, d(2026, 12, 31));
        cpo.agreement = Some(Agreement {
            start: d(2026, 1, 1),
            end: d(2028, 12, 31),
        });
        let all = obligations(&[cpo], &[], 14);
        assert_eq!(
            rules(&all),
            vec![
                (Rule::AgreementYearlyReport, d(2027, 6, 30)),
                (Rule::AgreementYearlyReport, d(2028, 6, 30)),
                (Rule::AgreementYearlyReport, d(2029, 6, 30)),
            ]
        );
        let keys: std::collections::BTreeSet<_> = all.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys.len(), 3, "distinct keys");
    }

    #[test]
    fn the_third_grant_of_a_year_crosses_the_threshold() {
        let year = d(2026, 12, 31);
        let mut grants = vec![grant("G1", 60_000, year), grant("G2", 60_000, year)];
        assert!(obligations(&grants, &[], 14)
            .iter()
            .all(|o| o.rule == Rule::FinancialReport));
        // Exactly 153,000 € does not exceed the threshold.
        grants.push(grant("G3", 33_000, year));
        assert!(obligations(&grants, &[], 14)
            .iter()
            .all(|o| o.rule == Rule::FinancialReport));
        grants.pop();
        grants.push(grant("G3", 33_001, year));
        let all = obligations(&grants, &[], 14);
        let structure_wide: Vec<_> = all.iter().filter(|o| o.grant_id.is_none()).collect();
        assert_eq!(
            structure_wide.iter().map(|o| (o.rule, o.due)).collect::<Vec<_>>(),
            vec![(Rule::Audit, d(2027, 6, 30)), (Rule::Publication, d(2027, 9, 30))]
        );
        assert_eq!(structure_wide[0].key, "S000004:audit_above_153k:2026-12-31");
    }

    #[test]
    fn private_money_and_other_years_do_not_count() {
        let mut private = grant("G3", 100_000, d(2026, 12, 31));
        private.public = false;
        let grants = vec![
            grant("G1", 100_000, d(2026, 12, 31)),
            grant("G2", 100_000, d(2027, 12, 31)),
            private,
        ];
        assert!(obligations(&grants, &[], 14).iter().all(|o| o.grant_id.is_some()));
        let totals = public_totals(&grants);
        assert_eq!(totals[&("S000004".to_owned(), d(2026, 12, 31))], 100_000 * 100);
        // Another structure's grants are summed apart.
        let mut other = grant("G4", 100_000, d(2026, 12, 31));
        other.structure_id = "S000005".to_owned();
        let mut both = grants.clone();
        both.push(other);
        assert!(obligations(&both, &[], 14).iter().all(|o| o.grant_id.is_some()));
    }

    #[test]
    fn the_agreement_wins_and_adds_its_own_dates() {
        let grants = vec![grant("G1", 20_000, d(2026, 12, 31))];
        let all = obligations(
            &grants,
            &[
                AgreementDate::Moves {
                    key: "G1:financial_report_6_months:2026-12-31".to_owned(),
                    due: d(2027, 4, 30),
                },
                AgreementDate::Adds {
                    grant_id: "G1".to_owned(),
                    due: d(2026, 9, 15),
                    label: "bilan intermédiaire".to_owned(),
                },
                // Unknown keys and grants change nothing.
                AgreementDate::Moves {
                    key: "G9:financial_report_6_months:2026-12-31".to_owned(),
                    due: d(2027, 1, 1),
                },
                AgreementDate::Adds {
                    grant_id: "G9".to_owned(),
                    due: d(2027, 1, 1),
                    label: "x".to_owned(),
                },
            ],
            10,
        );
        assert_eq!(
            rules(&all),
            vec![
                (Rule::Agreement, d(2026, 9, 15)),
                (Rule::FinancialReport, d(2027, 4, 30))
            ]
        );
        assert!(all.iter().all(|o| o.edited));
        assert_eq!(all[0].label.as_deref(), Some("bilan intermédiaire"));
        assert_eq!(all[0].draft, d(2026, 9, 5));
        assert_eq!(all[1].draft, d(2027, 4, 20));
    }

    #[test]
    fn draft_days_are_the_networks_choice() {
        let grants = vec![grant("G1", 20_000, d(2026, 12, 31))];
        assert_eq!(obligations(&grants, &[], 0)[0].draft, d(2027, 6, 30));
        assert_eq!(obligations(&grants, &[], 30)[0].draft, d(2027, 5, 31));
    }
}
