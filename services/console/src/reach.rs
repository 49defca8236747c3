//! Where a signed-in person's `/` leads, derived from her token's roles and
//! groups in one place ([`home_of`]): the dev sign-in passes a profile's
//! roles and groups, an OIDC sign-in passes the token's claims, and both get
//! the same answer.

use vigie_platform::auth::{Role, Scope};

/// The home page a person lands on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Home {
    /// A structure's director: « Ma structure ».
    Structure(String),
    /// A network's coordinator: the network's page.
    Network(String),
    /// The federation: its networks and their roll-ups.
    Federation,
    /// A facilitator: the requests offered to them, their interventions.
    Facilitation,
    /// A trainer: the sessions.
    Training,
    /// Anyone else (a coordinator of several networks, a director of
    /// several structures): the list of what her role reaches.
    Elsewhere,
}

/// The facilitator's home.
pub const FACILITATION: &str = "/accompagnement";
/// The trainer's home.
pub const TRAINING: &str = "/formations";

impl Home {
    /// The path `/` redirects to, if any.
    pub fn path(&self) -> Option<String> {
        match self {
            Home::Structure(id) => Some(format!("/structures/{id}")),
            Home::Network(id) => Some(format!("/reseaux/{id}")),
            Home::Federation => Some("/federation".to_owned()),
            Home::Facilitation => Some(FACILITATION.to_owned()),
            Home::Training => Some(TRAINING.to_owned()),
            Home::Elsewhere => None,
        }
    }
}

/// The home of a person with these roles and groups (`/networks/N`,
/// `/networks/N/structures/S`). The widest role decides: the federation
/// first, then a coordinator of exactly one network, then a director of
/// exactly one structure, then a facilitator, then a trainer; several
/// networks or structures get the list.
pub fn home_of(roles: &[Role], groups: &[String]) -> Home {
    // Groups are read as the services read them (`Scope::from_group`).
    let scopes: Vec<Scope> = groups.iter().filter_map(|g| Scope::from_group(g)).collect();
    if roles.contains(&Role::FederationAdmin) {
        return Home::Federation;
    }
    if roles.contains(&Role::NetworkAdmin) {
        let networks: Vec<&String> = scopes
            .iter()
            .filter_map(|s| match s {
                Scope::Network(network) => Some(network),
                Scope::Structure { .. } => None,
            })
            .collect();
        return match networks.as_slice() {
            [only] => Home::Network((*only).clone()),
            _ => Home::Elsewhere,
        };
    }
    if roles.contains(&Role::StructureManager) {
        let structures: Vec<&String> = scopes
            .iter()
            .filter_map(|s| match s {
                Scope::Structure { structure, .. } => Some(structure),
                Scope::Network(_) => None,
            })
            .collect();
        return match structures.as_slice() {
            [only] => Home::Structure((*only).clone()),
            _ => Home::Elsewhere,
        };
    }
    if roles.contains(&Role::Facilitator) {
        return Home::Facilitation;
    }
    if roles.contains(&Role::Trainer) {
        return Home::Training;
    }
    Home::Elsewhere
}

/// The networks of a person's groups (`/networks/N`, and the network of
/// `/networks/N/structures/S`), each once, in order.
pub fn networks_of(groups: &[String]) -> Vec<String> {
    let mut networks: Vec<String> = Vec::new();
    for scope in groups.iter().filter_map(|g| Scope::from_group(g)) {
        if !networks.iter().any(|n| n == scope.network()) {
            networks.push(scope.network().to_owned());
        }
    }
    networks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(list: &[&str]) -> Vec<String> {
        list.iter().map(|g| (*g).to_owned()).collect()
    }

    #[test]
    fn each_role_lands_on_its_page() {
        assert_eq!(home_of(&[Role::FederationAdmin], &[]), Home::Federation);
        assert_eq!(
            home_of(&[Role::NetworkAdmin], &groups(&["/networks/guyane"])),
            Home::Network("guyane".to_owned())
        );
        assert_eq!(
            home_of(
                &[Role::StructureManager],
                &groups(&["/networks/guyane/structures/S000004"])
            ),
            Home::Structure("S000004".to_owned())
        );
        assert_eq!(
            home_of(&[Role::Facilitator], &groups(&["/networks/guyane"])),
            Home::Facilitation
        );
        assert_eq!(
            home_of(&[Role::Trainer], &groups(&["/networks/guyane"])),
            Home::Training
        );
        assert_eq!(Home::Facilitation.path().as_deref(), Some(FACILITATION));
        assert_eq!(Home::Training.path().as_deref(), Some(TRAINING));
        assert_eq!(Home::Network("n1".to_owned()).path().as_deref(), Some("/reseaux/n1"));
        assert_eq!(Home::Federation.path().as_deref(), Some("/federation"));
        assert_eq!(Home::Elsewhere.path(), None);
    }

    #[test]
    fn the_widest_role_wins_and_several_networks_get_the_list() {
        let both = [Role::NetworkAdmin, Role::FederationAdmin];
        assert_eq!(home_of(&both, &groups(&["/networks/a"])), Home::Federation);
        assert_eq!(
            home_of(&[Role::NetworkAdmin], &groups(&["/networks/a", "/networks/b"])),
            Home::Elsewhere
        );
        assert_eq!(home_of(&[Role::NetworkAdmin], &[]), Home::Elsewhere);
        // A director of several structures gets the list, not a facilitator's home.
        assert_eq!(
            home_of(
                &[Role::StructureManager, Role::Facilitator],
                &groups(&["/networks/a/structures/S1", "/networks/a/structures/S2"])
            ),
            Home::Elsewhere
        );
        // A structure group is not a network group.
        assert_eq!(
            home_of(&[Role::NetworkAdmin], &groups(&["/networks/a/structures/S1"])),
            Home::Elsewhere
        );
    }

    #[test]
    fn networks_come_from_network_and_structure_groups_once() {
        assert_eq!(
            networks_of(&groups(&[
                "/networks/a",
                "/networks/b/structures/S1",
                "/networks/a/structures/S2",
                "/other/x",
                "/networks/"
            ])),
            vec!["a".to_owned(), "b".to_owned()]
        );
        assert!(networks_of(&[]).is_empty());
    }
}
