//! The facilitation service's authorisation matrix: one [`Rule`] per RPC of
//! `vigie.facilitation.v1.FacilitationService`, checked at the top of every
//! handler with [`vigie_platform::auth::authorize`] or
//! [`vigie_platform::auth::visible`]. Documented in `docs/security.md`
//! ("Authorisation"); the isolation test fails for an RPC without a rule.

use vigie_platform::auth::{Reach, Role, Rule};

use Reach::{Instance, Network, Structure};
use Role::{Facilitator, FederationAdmin, NetworkAdmin, StructureManager, Trainer};

/// Acting on a request (answering the offer, recording time spent on it):
/// the target is the request's structure and network.
const ON_REQUEST: Rule = Rule {
    grants: &[
        (FederationAdmin, Instance),
        (NetworkAdmin, Structure),
        (Facilitator, Network),
    ],
};

/// The rule of `method` (the RPC's name as in the proto, e.g. `Respond`),
/// `None` for an unknown method.
pub fn rule(method: &str) -> Option<Rule> {
    Some(match method {
        // Facilitators have no network (they serve structures and
        // territories across networks): the file replaces the whole list, so
        // only federation admins import it, and every role working with
        // people may list them (names, kinds, territories, weekly time; no
        // beneficiary). Not integrations: names are personal data.
        "ImportFacilitators" => Rule {
            grants: &[(FederationAdmin, Instance)],
        },
        "ListFacilitators" => Rule {
            grants: &[
                (FederationAdmin, Instance),
                (NetworkAdmin, Instance),
                (StructureManager, Instance),
                (Facilitator, Instance),
                (Trainer, Instance),
            ],
        },
        // A structure asks for itself; its network's admins for it.
        "RequestHelp" => Rule {
            grants: &[
                (FederationAdmin, Instance),
                (NetworkAdmin, Structure),
                (StructureManager, Structure),
            ],
        },
        "Respond" | "RecordIntervention" => ON_REQUEST,
        // Open requests and proposals: scoped like the structures they are for.
        "ListProposals" => Rule {
            grants: &[
                (FederationAdmin, Instance),
                (NetworkAdmin, Structure),
                (StructureManager, Structure),
                (Facilitator, Network),
            ],
        },
        // A whole network's activity: a network admin's structure group does
        // not cover it.
        "Report" => Rule {
            grants: &[
                (FederationAdmin, Instance),
                (NetworkAdmin, Structure),
                (Facilitator, Network),
            ],
        },
        _ => return None,
    })
}

/// The rule of a method the adapter implements (a missing entry is a bug
/// the isolation test catches; refuse rather than panic).
#[allow(clippy::result_large_err)]
pub fn rule_for(method: &str) -> Result<Rule, tonic::Status> {
    vigie_platform::auth::rule_or_refusal(method, rule(method))
}
