//! Dev sign-in (`vigie dev`, loopback only): the demo profiles one can sign
//! in as, and the [`TokenSource`] that signs their access tokens.
//!
//! The list is read from the services at request time (structures from the
//! inventory, facilitators from facilitation), so it follows the data. Each
//! profile is a set of roles and groups, exactly what an OIDC token of the
//! same person would carry; the services verify the token and apply their
//! own rules, as in production.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use vigie_platform::auth::Role;
use vigie_proto::facilitation::v1::{Facilitator, ListFacilitatorsRequest};
use vigie_proto::inventory::v1::{ListStructuresRequest, StructureSummary};

use crate::services::Clients;

/// Signs access tokens for demo profiles (`vigie_platform::auth::DevIssuer`
/// in `vigie dev`; a fake in unit tests).
pub trait TokenSource: Send + Sync + 'static {
    /// A signed access token for `subject` with these roles and groups,
    /// valid for `ttl`.
    fn issue(&self, subject: &str, roles: &[Role], groups: &[String], ttl: Duration) -> String;
}

/// `vigie dev`'s issuer: the same tokens its gRPC layer verifies.
impl TokenSource for vigie_platform::auth::DevIssuer {
    fn issue(&self, subject: &str, roles: &[Role], groups: &[String], ttl: Duration) -> String {
        vigie_platform::auth::DevIssuer::issue(self, subject, roles, groups, ttl)
    }
}

/// What kind of person a profile is (the sign-in page groups them so).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The federation (every network).
    Federation,
    /// A network's coordinator.
    Coordinator,
    /// A structure's director.
    Director,
    /// A digital facilitator.
    Facilitator,
    /// A trainer.
    Trainer,
}

impl Kind {
    /// Every kind, in the order of the sign-in page.
    pub const ALL: [Kind; 5] = [
        Kind::Federation,
        Kind::Coordinator,
        Kind::Director,
        Kind::Facilitator,
        Kind::Trainer,
    ];

    /// The heading of the kind on the sign-in page, in `lang`.
    pub fn heading(self, lang: crate::lang::Lang) -> &'static str {
        match self {
            Kind::Federation => lang.pick("Fédération", "Federation"),
            Kind::Coordinator => lang.pick("Coordination de réseau", "Network coordination"),
            Kind::Director => lang.pick("Direction de structure", "Structure management"),
            Kind::Facilitator => lang.pick("Conseillers et conseillères numériques", "Digital facilitators"),
            Kind::Trainer => lang.pick("Formation", "Training"),
        }
    }
}

/// One demo profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Stable id sent by the sign-in form (`director:S000004`).
    pub id: String,
    /// What the button says ("Direction de S000004 — Collectif Numérique Cayenne").
    pub label: String,
    /// The kind of person.
    pub kind: Kind,
    /// The token's `sub`.
    pub subject: String,
    /// The token's roles.
    pub roles: Vec<Role>,
    /// The token's groups (`/networks/N`, `/networks/N/structures/S`).
    pub groups: Vec<String>,
    /// The structure `/` leads to (directors).
    pub home_structure: Option<String>,
}

/// The demo profiles, read from the services as the `vigie dev` identity.
///
/// # Errors
/// A service's refusal or failure.
pub async fn list(clients: &mut Clients) -> Result<Vec<Profile>, tonic::Status> {
    let structures = clients
        .inventory
        .list_structures(ListStructuresRequest::default())
        .await?
        .into_inner()
        .structures;
    let facilitators = clients
        .facilitation
        .list_facilitators(ListFacilitatorsRequest {})
        .await?
        .into_inner()
        .facilitators;
    Ok(profiles(&structures, &facilitators))
}

/// The profiles of these structures and facilitators: the federation, a
/// coordinator and a trainer per network, a director per structure, each
/// facilitator with the networks they serve.
pub fn profiles(structures: &[StructureSummary], facilitators: &[Facilitator]) -> Vec<Profile> {
    let mut networks: BTreeMap<&str, usize> = BTreeMap::new();
    for s in structures {
        *networks.entry(s.network.as_str()).or_default() += 1;
    }
    let mut out = vec![Profile {
        id: "federation".to_owned(),
        label: format!(
            "Fédération — {} réseaux, {} structures",
            networks.len(),
            structures.len()
        ),
        kind: Kind::Federation,
        subject: "demo-federation".to_owned(),
        roles: vec![Role::FederationAdmin],
        groups: Vec::new(),
        home_structure: None,
    }];
    for (network, count) in &networks {
        out.push(Profile {
            id: format!("coordinator:{network}"),
            label: format!("Coordination du réseau {network} — {count} structures"),
            kind: Kind::Coordinator,
            subject: format!("demo-coordinator-{network}"),
            roles: vec![Role::NetworkAdmin],
            groups: vec![format!("/networks/{network}")],
            home_structure: None,
        });
    }
    for s in structures {
        out.push(Profile {
            id: format!("director:{}", s.structure_id),
            label: format!("Direction de {} — {}", s.structure_id, s.name),
            kind: Kind::Director,
            subject: format!("demo-director-{}", s.structure_id),
            roles: vec![Role::StructureManager],
            groups: vec![format!("/networks/{}/structures/{}", s.network, s.structure_id)],
            home_structure: Some(s.structure_id.clone()),
        });
    }
    for f in facilitators {
        let served = served_networks(f, structures);
        let names: Vec<&str> = served.iter().map(String::as_str).collect();
        let label = match names.len() {
            0 => format!("{} — aucun réseau servi", f.display_name),
            1 => format!("{} — réseau {}", f.display_name, names[0]),
            _ => format!("{} — réseaux {}", f.display_name, names.join(", ")),
        };
        out.push(Profile {
            id: format!("facilitator:{}", f.facilitator_id),
            label,
            kind: Kind::Facilitator,
            subject: format!("demo-facilitator-{}", f.facilitator_id),
            roles: vec![Role::Facilitator],
            groups: served.iter().map(|n| format!("/networks/{n}")).collect(),
            home_structure: None,
        });
    }
    // The demo has no trainer records: one trainer per network, whose
    // network reach is what the training service grants trainers.
    for network in networks.keys() {
        out.push(Profile {
            id: format!("trainer:{network}"),
            label: format!("Formateur·rice du réseau {network}"),
            kind: Kind::Trainer,
            subject: format!("demo-trainer-{network}"),
            roles: vec![Role::Trainer],
            groups: vec![format!("/networks/{network}")],
            home_structure: None,
        });
    }
    out
}

/// The networks a facilitator serves: those of the structures they serve by
/// name, of their employer, and of the structures of their territory's
/// departments (the facilitation service matches requests on the same
/// ground; a facilitator's reach is network-wide).
fn served_networks(f: &Facilitator, structures: &[StructureSummary]) -> BTreeSet<String> {
    structures
        .iter()
        .filter(|s| {
            f.served_structures.contains(&s.structure_id)
                || f.employer_structure_id == s.structure_id
                || f.territory_codes.contains(&s.department_code)
        })
        .map(|s| s.network.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn structure(id: &str, name: &str, network: &str, department: &str) -> StructureSummary {
        StructureSummary {
            structure_id: id.to_owned(),
            name: name.to_owned(),
            network: network.to_owned(),
            legal_form: "association".to_owned(),
            department_code: department.to_owned(),
        }
    }

    #[test]
    fn one_profile_per_person_with_the_groups_of_their_reach() {
        let structures = [
            structure("S000004", "Collectif Numérique Cayenne", "guyane", "973"),
            structure("S000005", "Atelier Vélo", "guyane", "973"),
            structure("S000009", "Ressourcerie", "bretagne", "35"),
        ];
        let facilitators = [
            Facilitator {
                facilitator_id: "CN-guyane-1".to_owned(),
                display_name: "Anne Martin".to_owned(),
                territory_codes: vec!["973".to_owned()],
                ..Facilitator::default()
            },
            Facilitator {
                facilitator_id: "CN-x".to_owned(),
                display_name: "Paul Durand".to_owned(),
                served_structures: vec!["S000009".to_owned()],
                territory_codes: vec!["973".to_owned()],
                ..Facilitator::default()
            },
        ];
        let all = profiles(&structures, &facilitators);
        let by_id = |id: &str| all.iter().find(|p| p.id == id).unwrap().clone();

        let federation = by_id("federation");
        assert_eq!(federation.roles, vec![Role::FederationAdmin]);
        assert!(federation.groups.is_empty());
        assert_eq!(federation.label, "Fédération — 2 réseaux, 3 structures");

        let coordinator = by_id("coordinator:guyane");
        assert_eq!(coordinator.roles, vec![Role::NetworkAdmin]);
        assert_eq!(coordinator.groups, vec!["/networks/guyane"]);

        let director = by_id("director:S000004");
        assert_eq!(director.label, "Direction de S000004 — Collectif Numérique Cayenne");
        assert_eq!(director.roles, vec![Role::StructureManager]);
        assert_eq!(director.groups, vec!["/networks/guyane/structures/S000004"]);
        assert_eq!(director.home_structure.as_deref(), Some("S000004"));

        let anne = by_id("facilitator:CN-guyane-1");
        assert_eq!(anne.roles, vec![Role::Facilitator]);
        assert_eq!(anne.groups, vec!["/networks/guyane"]);
        assert_eq!(anne.label, "Anne Martin — réseau guyane");
        let paul = by_id("facilitator:CN-x");
        assert_eq!(paul.groups, vec!["/networks/bretagne", "/networks/guyane"]);

        let trainer = by_id("trainer:bretagne");
        assert_eq!(trainer.roles, vec![Role::Trainer]);
        assert_eq!(trainer.groups, vec!["/networks/bretagne"]);

        // 1 federation + 2 coordinators + 3 directors + 2 facilitators + 2 trainers.
        assert_eq!(all.len(), 10);
        let ids: BTreeSet<&str> = all.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), all.len(), "ids are unique");
    }
}
