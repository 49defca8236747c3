//! Authorisation: the one check every RPC makes against its service's matrix.
//!
//! Each service declares, in its `grpc/authz.rs`, a [`Rule`] per RPC: which
//! roles may call it and how far each role reaches ([`Reach`]). Handlers call
//! [`authorize`] for one object (its network and structure, from the request
//! or a lookup) or [`visible`] to get the [`Visibility`] a list query must be
//! restricted to. An object outside the caller's reach is `NOT_FOUND`, exactly
//! like a missing one; a caller whose roles the rule does not name at all is
//! `PERMISSION_DENIED` (that says nothing about any object).
//!
//! See `docs/security.md` ("Authorisation").

use super::{Principal, Role, Scope};
use crate::words;
use crate::words::IntoStatus;
use crate::words::{not_found_status, Words};

/// How far a role reaches for one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// Only the structures of the caller's scopes: a `/networks/N` group
    /// covers every structure of N, a `/networks/N/structures/S` group S only.
    Structure,
    /// Every structure of the networks of the caller's scopes (a structure
    /// group counts for its whole network).
    Network,
    /// The whole instance, whatever the scopes (aggregates, administration).
    Instance,
}

/// Who may call one RPC, and how far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The roles allowed, each with its reach.
    pub grants: &'static [(Role, Reach)],
}

impl Rule {
    /// The reach of `role`, if it is granted.
    pub fn reach_of(&self, role: Role) -> Option<Reach> {
        self.grants.iter().find(|(r, _)| *r == role).map(|(_, reach)| *reach)
    }
}

/// Public information (a catalogue of calls or of trainings, no personal
/// data): every role, whatever its groups. Services name it in their own
/// matrix so that what "public" means is written once.
pub const EVERY_ROLE: Rule = Rule {
    grants: &[
        (Role::FederationAdmin, Reach::Instance),
        (Role::NetworkAdmin, Reach::Instance),
        (Role::StructureManager, Reach::Instance),
        (Role::Facilitator, Reach::Instance),
        (Role::Trainer, Reach::Instance),
        (Role::Integration, Reach::Instance),
    ],
};

/// The object an RPC acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// Its network.
    pub network: &'a str,
    /// Its structure, when it belongs to one.
    pub structure: Option<&'a str>,
}

/// What a list may contain for a caller, to put in the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Everything.
    All,
    /// Only these networks (whole) and these structures (network, structure).
    Only {
        /// Networks visible entirely.
        networks: Vec<String>,
        /// Single structures visible, with their network.
        structures: Vec<(String, String)>,
    },
}

impl Visibility {
    /// Whether `target` is visible.
    pub fn covers(&self, target: Target<'_>) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Only { networks, structures } => {
                networks.iter().any(|n| n == target.network)
                    || target
                        .structure
                        .is_some_and(|s| structures.iter().any(|(n, id)| n == target.network && id == s))
            }
        }
    }

    /// Whether nothing at all is visible.
    pub fn is_empty(&self) -> bool {
        matches!(self, Visibility::Only { networks, structures } if networks.is_empty() && structures.is_empty())
    }
}

/// The widest reach the caller's roles give for `rule`, or `PERMISSION_DENIED`.
#[allow(clippy::result_large_err)]
fn reach(principal: &Principal, rule: &Rule) -> Result<Reach, tonic::Status> {
    principal
        .roles
        .iter()
        .filter_map(|role| rule.reach_of(*role))
        .max()
        .ok_or_else(|| {
            words!(
                "opération non autorisée pour vos rôles",
                "operation not allowed for your roles"
            )
            .into_status(tonic::Code::PermissionDenied)
        })
}

/// What of the instance the caller may see under `rule`.
///
/// # Errors
/// `PERMISSION_DENIED` when none of the caller's roles is granted.
#[allow(clippy::result_large_err)]
pub fn visible(principal: &Principal, rule: &Rule) -> Result<Visibility, tonic::Status> {
    let reach = reach(principal, rule)?;
    if reach == Reach::Instance {
        return Ok(Visibility::All);
    }
    let mut networks: Vec<String> = Vec::new();
    let mut structures: Vec<(String, String)> = Vec::new();
    for scope in &principal.scopes {
        match (scope, reach) {
            (Scope::Network(network), _) | (Scope::Structure { network, .. }, Reach::Network) => {
                if !networks.contains(network) {
                    networks.push(network.clone());
                }
            }
            (Scope::Structure { network, structure }, _) => {
                structures.push((network.clone(), structure.clone()));
            }
        }
    }
    structures.retain(|(n, _)| !networks.contains(n));
    Ok(Visibility::Only { networks, structures })
}

/// `method`'s rule from a service's matrix (`rule`, the matrix's answer),
/// or a refusal: a method the adapter implements without an entry is a bug
/// the isolation test catches, refused (and logged) rather than a panic.
///
/// # Errors
/// `PERMISSION_DENIED` when `rule` is `None`.
#[allow(clippy::result_large_err)]
pub fn rule_or_refusal(method: &str, rule: Option<Rule>) -> Result<Rule, tonic::Status> {
    rule.ok_or_else(|| {
        tracing::error!(method, "no authorisation rule for this RPC");
        words!("opération non autorisée", "operation not allowed").into_status(tonic::Code::PermissionDenied)
    })
}

/// Checks that the caller may act on `target` under `rule` (`None`: the RPC
/// has no object, only the roles count and an instance reach is required
/// unless the rule grants less for a scope-less RPC).
///
/// # Errors
/// `PERMISSION_DENIED` when none of the caller's roles is granted;
/// `NOT_FOUND` (the same answer as for a missing object, with `what` as the
/// missing object's description) when the target is outside the caller's reach.
#[allow(clippy::result_large_err)]
pub fn authorize(
    principal: &Principal,
    rule: &Rule,
    target: Option<Target<'_>>,
    what: impl FnOnce() -> Words,
) -> Result<(), tonic::Status> {
    let visibility = visible(principal, rule)?;
    let allowed = match target {
        Some(target) => visibility.covers(target),
        None => visibility == Visibility::All,
    };
    if allowed {
        Ok(())
    } else {
        Err(not_found_status(what()))
    }
}

/// Checks that the caller may act on `structure` under `rule`. Roles come
/// first (a caller without any granted role learns nothing); the structure's
/// network is looked up with `network_of` only when the caller's reach is not
/// the whole instance. An unknown structure and one outside the caller's
/// reach get the same `NOT_FOUND` « `what` introuvable ».
///
/// # Errors
/// As [`authorize`]; the lookup's own error.
pub async fn authorize_structure<F, Fut, E>(
    principal: &Principal,
    rule: &Rule,
    structure: &str,
    what: &Words,
    network_of: F,
) -> Result<(), tonic::Status>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, E>>,
    E: Into<tonic::Status>,
{
    if visible(principal, rule)? == Visibility::All {
        return Ok(());
    }
    match network_of().await.map_err(Into::into)? {
        Some(network) => authorize(
            principal,
            rule,
            Some(Target {
                network: &network,
                structure: Some(structure),
            }),
            || what.clone(),
        ),
        None => Err(not_found_status(what.clone())),
    }
}

/// [`authorize_structure`] for a structure named by its id alone, as
/// answered when it is unknown or out of reach: « structure « `structure` »
/// introuvable ». The services whose RPCs act on a structure say it alike.
///
/// # Errors
/// As [`authorize_structure`].
pub async fn authorize_structure_id<Fut, E>(
    principal: &Principal,
    rule: &Rule,
    structure: &str,
    network_of: impl FnOnce() -> Fut,
) -> Result<(), tonic::Status>
where
    Fut: std::future::Future<Output = Result<Option<String>, E>>,
    E: Into<tonic::Status>,
{
    let what = crate::words!("structure « {structure} »", "structure “{structure}”");
    authorize_structure(principal, rule, structure, &what, network_of).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role], groups: &[&str]) -> Principal {
        Principal {
            subject: "someone".into(),
            roles: roles.iter().copied().collect(),
            scopes: groups.iter().filter_map(|g| Scope::from_group(g)).collect(),
            client_id: None,
        }
    }

    const RULE: Rule = Rule {
        grants: &[
            (Role::FederationAdmin, Reach::Instance),
            (Role::NetworkAdmin, Reach::Structure),
            (Role::StructureManager, Reach::Structure),
            (Role::Facilitator, Reach::Network),
        ],
    };

    fn target<'a>(network: &'a str, structure: &'a str) -> Option<Target<'a>> {
        Some(Target {
            network,
            structure: Some(structure),
        })
    }

    #[test]
    fn every_role_reaches_the_whole_instance() {
        for role in Role::ALL {
            assert_eq!(EVERY_ROLE.reach_of(role), Some(Reach::Instance), "{role}");
        }
        assert_eq!(EVERY_ROLE.grants.len(), Role::ALL.len());
    }

    #[test]
    fn reaches_follow_roles_and_scopes() {
        let code = |p: &Principal, t| authorize(p, &RULE, t, || Words::same("x")).map_err(|s| s.code());
        let dev = Principal::dev();
        assert_eq!(code(&dev, target("a", "s1")), Ok(()));
        assert_eq!(code(&dev, None), Ok(()));

        let admin_b = principal(&[Role::NetworkAdmin], &["/networks/b"]);
        assert_eq!(code(&admin_b, target("b", "s9")), Ok(()));
        assert_eq!(code(&admin_b, target("a", "s1")), Err(tonic::Code::NotFound));
        assert_eq!(code(&admin_b, None), Err(tonic::Code::NotFound));

        let manager = principal(&[Role::StructureManager], &["/networks/a/structures/s1"]);
        assert_eq!(code(&manager, target("a", "s1")), Ok(()));
        assert_eq!(code(&manager, target("a", "s2")), Err(tonic::Code::NotFound));
        assert_eq!(code(&manager, target("b", "s1")), Err(tonic::Code::NotFound));

        let facilitator = principal(&[Role::Facilitator], &["/networks/a/structures/s1"]);
        assert_eq!(code(&facilitator, target("a", "s2")), Ok(()));
        assert_eq!(code(&facilitator, target("b", "s2")), Err(tonic::Code::NotFound));

        let trainer = principal(&[Role::Trainer], &["/networks/a"]);
        assert_eq!(code(&trainer, target("a", "s1")), Err(tonic::Code::PermissionDenied));
        let nobody = principal(&[], &["/networks/a"]);
        assert_eq!(code(&nobody, target("a", "s1")), Err(tonic::Code::PermissionDenied));
    }

    /// How roles and groups combine (docs/security.md, "How roles and groups combine").
    #[test]
    fn roles_and_groups_combine_as_documented() {
        let code = |p: &Principal, t| authorize(p, &RULE, t, || Words::same("x")).map_err(|s| s.code());
        // Several roles: the widest granted reach, over every group; a role
        // the rule does not name adds nothing.
        let both = principal(
            &[Role::StructureManager, Role::Facilitator, Role::Trainer],
            &["/networks/a/structures/s1"],
        );
        assert_eq!(
            code(&both, target("a", "s2")),
            Ok(()),
            "the facilitator's network reach"
        );
        assert_eq!(code(&both, target("b", "s1")), Err(tonic::Code::NotFound));
        // Several groups: their union.
        let two = principal(&[Role::StructureManager], &["/networks/a", "/networks/b/structures/s9"]);
        assert_eq!(code(&two, target("a", "s1")), Ok(()));
        assert_eq!(code(&two, target("b", "s9")), Ok(()));
        assert_eq!(code(&two, target("b", "s8")), Err(tonic::Code::NotFound));
        // A role without a group reaches nothing (unless the rule grants the instance).
        let alone = principal(&[Role::NetworkAdmin], &[]);
        assert_eq!(code(&alone, target("a", "s1")), Err(tonic::Code::NotFound));
        let federation = principal(&[Role::FederationAdmin], &[]);
        assert_eq!(code(&federation, target("a", "s1")), Ok(()));
        // A group without a granted role: refused, whatever the group.
        let trainer = principal(&[Role::Trainer], &["/networks/a"]);
        assert_eq!(code(&trainer, target("a", "s1")), Err(tonic::Code::PermissionDenied));
        // Structure group vs network group, for the network itself.
        let network = Some(Target {
            network: "a",
            structure: None,
        });
        let of_network = principal(&[Role::NetworkAdmin], &["/networks/a"]);
        let of_structure = principal(&[Role::NetworkAdmin], &["/networks/a/structures/s1"]);
        assert_eq!(code(&of_network, network), Ok(()));
        assert_eq!(code(&of_structure, network), Err(tonic::Code::NotFound));
        // With a network reach, a structure group counts for its whole network.
        let facilitator = principal(&[Role::Facilitator], &["/networks/a/structures/s1"]);
        assert_eq!(code(&facilitator, network), Ok(()));
    }

    #[test]
    fn visibility_lists_networks_then_loose_structures() {
        let p = principal(
            &[Role::StructureManager],
            &["/networks/a/structures/s1", "/networks/b", "/networks/b/structures/s2"],
        );
        assert_eq!(
            visible(&p, &RULE).ok(),
            Some(Visibility::Only {
                networks: vec!["b".into()],
                structures: vec![("a".into(), "s1".into())],
            })
        );
        assert!(visible(&principal(&[Role::NetworkAdmin], &[]), &RULE).is_ok_and(|v| v.is_empty()));
    }
}
