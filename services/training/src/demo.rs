//! A demo catalogue for `vigie dev --demo`: one ESS-specific training per
//! vital function, each with a remote and an on-site session in the coming
//! weeks, so a newcomer can plan, enrol and complete at once.

use chrono::{Days, NaiveDate};
use vigie_training_domain::catalogue::CatalogueFiles;

/// (id, title, provider, duration, cost, funding, function, prerequisite, goal)
type DemoTraining = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u8,
    u8,
);

const TRAININGS: &[DemoTraining] = &[
    (
        "T-SUBV",
        "Déposer ses demandes de subvention en ligne (Le Compte Asso, portails des financeurs)",
        "Réseau régional",
        "7",
        "0",
        "Gratuit (réseau)",
        "funding_applications",
        1,
        3,
    ),
    (
        "T-BILANS",
        "Rendre compte aux financeurs : bilans et comptes rendus en ligne",
        "Réseau régional",
        "3.5",
        "0",
        "Gratuit (réseau)",
        "funder_reporting",
        1,
        3,
    ),
    (
        "T-PLAN",
        "Plannings partagés des équipes salariées et bénévoles",
        "Coopérative numérique",
        "3.5",
        "150",
        "OPCO Uniformation",
        "scheduling",
        1,
        3,
    ),
    (
        "T-PAIE",
        "Paie et DSN pour les petites associations employeuses",
        "Centre de ressources associatif",
        "14",
        "420",
        "OPCO Uniformation",
        "payroll",
        1,
        3,
    ),
    (
        "T-FACT",
        "Facturer et suivre les encaissements",
        "Coopérative numérique",
        "7",
        "210",
        "OPCO Uniformation",
        "invoicing",
        1,
        3,
    ),
    (
        "T-COMPTA",
        "Comptabilité associative et trésorerie au quotidien",
        "Centre de ressources associatif",
        "14",
        "380",
        "OPCO Uniformation",
        "accounting",
        2,
        3,
    ),
    (
        "T-ACCES",
        "Comptes, mots de passe et accès partagés sans dépendre d'une seule personne",
        "Médiateurs numériques du territoire",
        "3.5",
        "0",
        "Conseiller numérique (gratuit)",
        "accounts_access",
        1,
        4,
    ),
    (
        "T-SUITE",
        "Messagerie, agendas et documents partagés",
        "Médiateurs numériques du territoire",
        "7",
        "0",
        "Conseiller numérique (gratuit)",
        "collaboration_suite",
        1,
        3,
    ),
    (
        "T-ADH",
        "Suivre ses adhérents et bénéficiaires en respectant le RGPD",
        "Coopérative numérique",
        "7",
        "180",
        "FDVA formation",
        "beneficiary_records",
        1,
        3,
    ),
    (
        "T-COM",
        "Site web, réseaux sociaux et lettre d'information",
        "Coopérative numérique",
        "7",
        "150",
        "FDVA formation",
        "communication",
        1,
        3,
    ),
    (
        "T-RGPD",
        "Le RGPD dans une petite structure",
        "Centre de ressources associatif",
        "3.5",
        "90",
        "FDVA formation",
        "data_protection",
        1,
        3,
    ),
    (
        "T-SAUV",
        "Postes de travail, matériel et sauvegardes",
        "Médiateurs numériques du territoire",
        "3.5",
        "0",
        "Conseiller numérique (gratuit)",
        "equipment_backups",
        1,
        3,
    ),
];

/// Communes where on-site sessions take place (INSEE codes).
const PLACES: &[&str] = &["35238", "69123", "31555", "44109", "13055", "59350"];

/// The demo catalogue, with sessions from two to six weeks after `today`.
pub fn catalogue(today: NaiveDate) -> CatalogueFiles {
    let mut trainings = String::from(
        "training_id,title,provider,modality,duration_hours,cost_eur,funding,function,prerequisite_level,goal_level\n",
    );
    let mut sessions =
        String::from("session_id,training_id,starts_at,ends_at,timezone,commune_insee,remote_url,capacity\n");
    for (index, (id, title, provider, hours, cost, funding, function, prerequisite, goal)) in
        TRAININGS.iter().enumerate()
    {
        trainings.push_str(&format!(
            "{id},\"{title}\",\"{provider}\",hybrid,{hours},{cost},\"{funding}\",{function},{prerequisite},{goal}\n"
        ));
        let remote_day = today + Days::new(14 + index as u64);
        let onsite_day = today + Days::new(35 + index as u64);
        sessions.push_str(&format!(
            "{id}-1,{id},{remote_day}T09:30,{remote_day}T12:30,Europe/Paris,,https://visio.example.org/{},12\n",
            id.to_lowercase()
        ));
        sessions.push_str(&format!(
            "{id}-2,{id},{onsite_day}T09:00,{onsite_day}T17:00,Europe/Paris,{},,12\n",
            PLACES[index % PLACES.len()]
        ));
    }
    CatalogueFiles {
        trainings: trainings.into_bytes(),
        sessions: sessions.into_bytes(),
    }
}
