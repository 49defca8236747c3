//! Plain sentences explaining an assessment to a director: one per exposed
//! function, most exposed first, naming the people involved, their role and
//! when their engagement ends.
//!
//! A function is *exposed* when it is an orphan, a single point of failure, or
//! when its risk is at least 50 %: those are the situations a director can act
//! on (train a second person, document, anticipate a departure).

use crate::catalogue;
use crate::fragility::{people_by_id, round_half_up, Assessment, FunctionExposure, RISK_TOLERANCE};
use crate::model::{PersonRecord, Role, StructureInventory};

/// Language of the explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// French, the language of the structures (default).
    #[default]
    Fr,
    /// English.
    En,
}

/// Risk from which a function with several holders is still worth a sentence.
const EXPOSED_RISK: f64 = 0.5;

/// Explains `assessment` (computed from `inventory`) in plain sentences, one
/// per exposed function, ordered by weighted risk `w·risk` (largest first),
/// then by code. An assessment with no exposed function (or not inventoried)
/// gives no sentence.
pub fn explain(inventory: &StructureInventory, assessment: &Assessment, lang: Lang) -> Vec<String> {
    let people = people_by_id(inventory);
    let mut exposed: Vec<&FunctionExposure> = assessment
        .functions
        .iter()
        .filter(|f| f.holders.len() <= 1 || f.risk >= EXPOSED_RISK - RISK_TOLERANCE)
        .collect();
    exposed.sort_by(|a, b| weighted(b).total_cmp(&weighted(a)).then_with(|| a.code.cmp(&b.code)));
    exposed
        .into_iter()
        .map(|f| {
            let holders: Vec<Holder<'_>> = f
                .holders
                .iter()
                .map(|id| match people.get(id.as_str()) {
                    Some(person) => Holder::Known(person),
                    // The assessment came from another inventory: still say
                    // something true rather than nothing.
                    None => Holder::Unknown(id),
                })
                .collect();
            sentence(f, &holders, lang)
        })
        .collect()
}

fn weighted(f: &FunctionExposure) -> f64 {
    f64::from(f.criticality) * f.risk
}

enum Holder<'a> {
    Known(&'a PersonRecord),
    Unknown(&'a str),
}

/// French name of a role, in inclusive writing as used by the structures.
fn role_fr(role: Role) -> &'static str {
    match role {
        Role::Director => "direction",
        Role::Employee => "salarié·e",
        Role::Volunteer => "bénévole",
        Role::BoardMember => "administrateur·rice",
        Role::Facilitator => "conseiller·e numérique",
        Role::Contractor => "prestataire",
    }
}

fn role_en(role: Role) -> &'static str {
    match role {
        Role::Director => "director",
        Role::Employee => "employee",
        Role::Volunteer => "volunteer",
        Role::BoardMember => "board member",
        Role::Facilitator => "digital facilitator",
        Role::Contractor => "contractor",
    }
}

/// "Name, role" of a holder.
fn who(holder: &Holder<'_>, lang: Lang) -> String {
    match holder {
        Holder::Known(p) => {
            let role = match lang {
                Lang::Fr => role_fr(p.role),
                Lang::En => role_en(p.role),
            };
            format!("{}, {}", p.display_name, role)
        }
        Holder::Unknown(id) => (*id).to_owned(),
    }
}

fn end_date(holder: &Holder<'_>, lang: Lang) -> Option<String> {
    match holder {
        Holder::Known(p) => p.end_date.map(|d| match lang {
            Lang::Fr => d.format("%d/%m/%Y").to_string(),
            Lang::En => d.format("%Y-%m-%d").to_string(),
        }),
        Holder::Unknown(_) => None,
    }
}

fn sentence(f: &FunctionExposure, holders: &[Holder<'_>], lang: Lang) -> String {
    let percent = round_half_up(100.0 * f.risk);
    let label = match lang {
        Lang::Fr => catalogue::label_fr(&f.code),
        Lang::En => catalogue::label_en(&f.code),
    };
    let situation = match (holders, lang) {
        ([], Lang::Fr) => "personne ne l'assure aujourd'hui".to_owned(),
        ([], Lang::En) => "nobody performs it today".to_owned(),
        ([only], Lang::Fr) => match end_date(only, lang) {
            Some(end) => format!(
                "une seule personne ({}), dont l'engagement se termine le {end}",
                who(only, lang)
            ),
            None => format!("une seule personne ({})", who(only, lang)),
        },
        ([only], Lang::En) => match end_date(only, lang) {
            Some(end) => format!("only one person ({}), whose engagement ends on {end}", who(only, lang)),
            None => format!("only one person ({})", who(only, lang)),
        },
        (several, _) => {
            // Several holders are only exposed when (nearly) all of them may
            // go, so each one's end date is the useful detail.
            let listed: Vec<String> = several
                .iter()
                .map(|h| match (end_date(h, lang), lang) {
                    (Some(end), Lang::Fr) => format!("{}, jusqu'au {end}", who(h, lang)),
                    (Some(end), Lang::En) => format!("{}, until {end}", who(h, lang)),
                    (None, _) => who(h, lang),
                })
                .collect();
            match lang {
                Lang::Fr => format!("{} personnes ({})", several.len(), listed.join(" ; ")),
                Lang::En => format!("{} people ({})", several.len(), listed.join("; ")),
            }
        }
    };
    match lang {
        Lang::Fr => format!("{label} : {situation} — risque {percent} %."),
        Lang::En => format!("{label}: {situation} — risk {percent}%."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fragility::fixtures::{date, worked_example, worked_example_date, Builder};
    use crate::fragility::{assess, FragilityParams};

    fn run(inv: &StructureInventory, lang: Lang) -> Vec<String> {
        let a = assess(inv, date(2026, 11, 28), &FragilityParams::default());
        explain(inv, &a, lang)
    }

    #[test]
    fn default_language_is_french() {
        assert_eq!(Lang::default(), Lang::Fr);
    }

    #[test]
    fn worked_example_in_french() {
        let inv = worked_example();
        let a = assess(&inv, worked_example_date(), &FragilityParams::default());
        assert_eq!(
            explain(&inv, &a, Lang::Fr),
            [
                "Dépôt en ligne des demandes de financement et réponses aux appels à projets : \
                 une seule personne (Claire Martin, direction) — risque 15 %.",
                "Site web, réseaux sociaux, lettres d'information : \
                 une seule personne (Véronique Petit, bénévole) — risque 30 %.",
            ]
        );
    }

    #[test]
    fn worked_example_in_english() {
        let inv = worked_example();
        let a = assess(&inv, worked_example_date(), &FragilityParams::default());
        assert_eq!(
            explain(&inv, &a, Lang::En),
            [
                "Online funding applications and responses to calls for projects: \
                 only one person (Claire Martin, director) — risk 15%.",
                "Website, social media, newsletters: \
                 only one person (Véronique Petit, volunteer) — risk 30%.",
            ]
        );
    }

    #[test]
    fn leaving_director_and_orphan_as_in_the_brief() {
        let inv = Builder::new("S")
            .person("dir", "Claire Martin", Role::Director, Some(date(2027, 6, 30)))
            .person("a", "Alex", Role::Employee, None)
            .person("b", "Bea", Role::Employee, None)
            .function("funding_applications", 3)
            .function("scheduling", 3)
            .function("invoicing", 2)
            .holds("dir", "funding_applications")
            .holds("a", "invoicing")
            .holds("b", "invoicing")
            .build();
        // Equal weighted risk (3·1): ties broken by code, funding first.
        assert_eq!(
            run(&inv, Lang::Fr),
            [
                "Dépôt en ligne des demandes de financement et réponses aux appels à projets : \
                 une seule personne (Claire Martin, direction), dont l'engagement se termine \
                 le 30/06/2027 — risque 100 %.",
                "Plannings des équipes : personne ne l'assure aujourd'hui — risque 100 %.",
            ]
        );
        assert_eq!(
            run(&inv, Lang::En),
            [
                "Online funding applications and responses to calls for projects: \
                 only one person (Claire Martin, director), whose engagement ends on \
                 2027-06-30 — risk 100%.",
                "Team schedules: nobody performs it today — risk 100%.",
            ]
        );
    }

    #[test]
    fn several_holders_all_leaving() {
        let inv = Builder::new("S")
            .person("x", "Xavier", Role::Facilitator, Some(date(2027, 1, 31)))
            .person("y", "Yasmine", Role::BoardMember, Some(date(2027, 5, 1)))
            .function("accounts_access", 3)
            .holds("x", "accounts_access")
            .holds("y", "accounts_access")
            .build();
        assert_eq!(
            run(&inv, Lang::Fr),
            ["Comptes, mots de passe et accès aux plateformes : 2 personnes \
              (Xavier, conseiller·e numérique, jusqu'au 31/01/2027 ; \
              Yasmine, administrateur·rice, jusqu'au 01/05/2027) — risque 100 %."]
        );
        assert_eq!(
            run(&inv, Lang::En),
            ["Accounts, passwords and access to platforms: 2 people \
              (Xavier, digital facilitator, until 2027-01-31; \
              Yasmine, board member, until 2027-05-01) — risk 100%."]
        );
    }

    #[test]
    fn covered_functions_are_not_mentioned_and_order_follows_weighted_risk() {
        let inv = Builder::new("S")
            .person("e", "Emma", Role::Employee, None)
            .person("f", "Farid", Role::Employee, None)
            .person("c", "Chloé", Role::Contractor, None)
            .person("s", "Sam", Role::Employee, Some(date(2030, 1, 1)))
            .function("payroll", 3)
            .function("accounting", 2)
            .function("equipment_backups", 1)
            .function("invoicing", 2)
            .holds("e", "payroll")
            .holds("f", "payroll")
            .holds("c", "accounting")
            .holds("s", "equipment_backups")
            .build();
        // payroll is covered twice (risk 2 %): silent. Weighted risks:
        // invoicing 2·1, accounting 2·0.3, equipment_backups 1·0.15.
        assert_eq!(
            run(&inv, Lang::Fr),
            [
                "Facturation : personne ne l'assure aujourd'hui — risque 100 %.",
                "Comptabilité et trésorerie : une seule personne (Chloé, prestataire) \
                 — risque 30 %.",
                "Postes de travail, matériel et sauvegardes : une seule personne \
                 (Sam, salarié·e), dont l'engagement se termine le 01/01/2030 — risque 15 %.",
            ]
        );
    }

    #[test]
    fn custom_codes_are_named_by_their_words() {
        let inv = Builder::new("S")
            .person("d", "Dana", Role::Director, None)
            .function("cantine_reservations", 2)
            .holds("d", "cantine_reservations")
            .build();
        assert_eq!(
            run(&inv, Lang::Fr),
            ["Cantine reservations : une seule personne (Dana, direction) — risque 15 %."]
        );
    }

    #[test]
    fn holders_missing_from_the_inventory_are_named_by_id() {
        let inv = worked_example();
        let a = assess(&inv, worked_example_date(), &FragilityParams::default());
        let mut other = inv.clone();
        other.people.retain(|p| p.id != "V");
        let sentences = explain(&other, &a, Lang::Fr);
        assert_eq!(
            sentences[1],
            "Site web, réseaux sociaux, lettres d'information : une seule personne (V) \
             — risque 30 %."
        );
    }

    #[test]
    fn nothing_to_say_when_nothing_is_exposed_or_not_inventoried() {
        let covered = Builder::new("S")
            .person("a", "A", Role::Employee, None)
            .person("b", "B", Role::Employee, None)
            .function("payroll", 3)
            .holds("a", "payroll")
            .holds("b", "payroll")
            .build();
        assert!(run(&covered, Lang::Fr).is_empty());
        assert!(run(&Builder::new("S").build(), Lang::En).is_empty());
    }

    #[test]
    fn all_roles_have_french_labels() {
        let labels: Vec<&str> = Role::ALL.iter().map(|r| role_fr(*r)).collect();
        assert_eq!(
            labels,
            [
                "direction",
                "salarié·e",
                "bénévole",
                "administrateur·rice",
                "conseiller·e numérique",
                "prestataire"
            ]
        );
    }
}
