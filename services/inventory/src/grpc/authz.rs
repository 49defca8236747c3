//! The inventory's authorisation matrix: one [`Rule`] per RPC of
//! `vigie.inventory.v1.InventoryService`, checked at the top of every
//! handler with [`vigie_platform::auth::authorize`] or
//! [`vigie_platform::auth::visible`]. Documented in `docs/security.md`
//! ("Authorisation"); the isolation test fails for an RPC without a rule.

use vigie_platform::auth::{Reach, Role, Rule};

use Reach::{Instance, Network, Structure};
use Role::{Facilitator, FederationAdmin, Integration, NetworkAdmin, StructureManager};

/// Reading one structure or its fragility: its managers, the admins of its
/// network, the facilitators of its network.
const READ_STRUCTURE: Rule = Rule {
    grants: &[
        (FederationAdmin, Instance),
        (NetworkAdmin, Structure),
        (StructureManager, Structure),
        (Facilitator, Network),
    ],
};

/// The rule of `method` (the RPC's name as in the proto, e.g. `GetStructure`),
/// `None` for an unknown method.
pub fn rule(method: &str) -> Option<Rule> {
    Some(match method {
        // Imports replace whole structures: the federation's anywhere, a
        // coordinator's only within her networks (checked row by row on the
        // set, `csv_set::scope`).
        "Import" => Rule {
            grants: &[(FederationAdmin, Instance), (NetworkAdmin, Network)],
        },
        "GetStructure" | "GetFragility" | "ListFragility" => READ_STRUCTURE,
        // Summaries only (no people): integrations may list them too.
        "ListStructures" => Rule {
            grants: &[
                (FederationAdmin, Instance),
                (NetworkAdmin, Structure),
                (StructureManager, Structure),
                (Facilitator, Network),
                (Integration, Network),
            ],
        },
        // Personal-data rights: whoever may change the person's holdings.
        "SetHolding" | "ErasePerson" | "ExportPerson" => Rule {
            grants: &[
                (FederationAdmin, Instance),
                (NetworkAdmin, Structure),
                (StructureManager, Structure),
            ],
        },
        // Aggregates without personal data.
        "Rollup" => Rule {
            grants: &[(FederationAdmin, Instance)],
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
