//! Who is calling: the [`Principal`] built from a validated access token.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub` claim (Keycloak: the user's or service account's id).
    pub subject: String,
    /// The Vigie roles granted, from `realm_access.roles` and
    /// `resource_access.<client>.roles` (unknown roles are ignored).
    pub roles: BTreeSet<Role>,
    /// The tenants the caller belongs to, from the `groups` claim, in token
    /// order without duplicates.
    pub scopes: Vec<Scope>,
    /// The OAuth client that obtained the token (`azp`, or RFC 9068 `client_id`).
    pub client_id: Option<String>,
}

impl Principal {
    /// The local, all-powerful identity of `vigie dev` (every role, no scope
    /// restriction needed since it is a federation admin). Never use it on a
    /// non-loopback listener.
    pub fn dev() -> Self {
        Principal {
            subject: "vigie-dev".to_owned(),
            roles: Role::ALL.iter().copied().collect(),
            scopes: Vec::new(),
            client_id: Some("vigie-dev".to_owned()),
        }
    }

    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A Vigie role, as named in Keycloak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `federation-admin`: the national federation, aggregates only.
    FederationAdmin,
    /// `network-admin`: administers one or more networks.
    NetworkAdmin,
    /// `structure-manager`: manages one or more structures.
    StructureManager,
    /// `facilitator`: runs facilitation activities.
    Facilitator,
    /// `trainer`: runs training sessions.
    Trainer,
    /// `integration`: a machine client (e.g. a funding-portal connector).
    Integration,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [
        Role::FederationAdmin,
        Role::NetworkAdmin,
        Role::StructureManager,
        Role::Facilitator,
        Role::Trainer,
        Role::Integration,
    ];

    /// The role's name in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::FederationAdmin => "federation-admin",
            Role::NetworkAdmin => "network-admin",
            Role::StructureManager => "structure-manager",
            Role::Facilitator => "facilitator",
            Role::Trainer => "trainer",
            Role::Integration => "integration",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a Vigie role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rôle inconnu : {0}")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .iter()
            .copied()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| UnknownRole(name.to_owned()))
    }
}

/// A tenant the caller belongs to, from a Keycloak group path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `/networks/<network>`: a whole network.
    Network(String),
    /// `/networks/<network>/structures/<structure>`: one structure of a network.
    Structure {
        /// The network's identifier (the group name).
        network: String,
        /// The structure's identifier (the group name).
        structure: String,
    },
}

impl Scope {
    /// Parses a full group path; `None` for any other group (including
    /// paths with empty segments, a trailing slash or extra levels).
    pub fn from_group(path: &str) -> Option<Scope> {
        let rest = path.strip_prefix("/networks/")?;
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.iter().any(|segment| segment.is_empty()) {
            return None;
        }
        match segments.as_slice() {
            [network] => Some(Scope::Network((*network).to_owned())),
            [network, "structures", structure] => Some(Scope::Structure {
                network: (*network).to_owned(),
                structure: (*structure).to_owned(),
            }),
            _ => None,
        }
    }

    /// The network this scope is in.
    pub fn network(&self) -> &str {
        match self {
            Scope::Network(network) | Scope::Structure { network, .. } => network,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Network(network) => write!(f, "/networks/{network}"),
            Scope::Structure { network, structure } => write!(f, "/networks/{network}/structures/{structure}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_names_are_errors() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
        assert!("Federation-Admin".parse::<Role>().is_err());
    }

    #[test]
    fn group_paths_become_scopes() {
        assert_eq!(Scope::from_group("/networks/n1"), Some(Scope::Network("n1".into())));
        assert_eq!(
            Scope::from_group("/networks/n1/structures/s1"),
            Some(Scope::Structure {
                network: "n1".into(),
                structure: "s1".into()
            })
        );
        for other in [
            "n1",
            "/networks",
            "/networks/",
            "/networks/n1/",
            "/networks//structures/s1",
            "/networks/n1/structures",
            "/networks/n1/structures/",
            "/networks/n1/teams/t1",
            "/networks/n1/structures/s1/extra",
            "networks/n1",
            "/admins/n1",
        ] {
            assert_eq!(Scope::from_group(other), None, "{other}");
        }
        let scope = Scope::from_group("/networks/n1/structures/s1");
        assert_eq!(
            scope.map(|s| s.to_string()).as_deref(),
            Some("/networks/n1/structures/s1")
        );
    }
}
