//! The training service's authorisation matrix: one [`Rule`] per RPC of
//! `vigie.training.v1.TrainingService`, checked at the top of every handler
//! with [`vigie_platform::auth::authorize`] or [`vigie_platform::auth::visible`].
//! Documented in `docs/security.md` ("Authorisation"); the isolation test
//! fails for an RPC without a rule.

use vigie_platform::auth::{Reach, Role, Rule, EVERY_ROLE};

use Reach::{Instance, Network, Structure};
use Role::{FederationAdmin, NetworkAdmin, StructureManager, Trainer};

/// Enrolling, cancelling, completing: the target is the person's structure
/// (for an enrolment, the structure it was made for).
const ENROLMENT: Rule = Rule {
    grants: &[
        (FederationAdmin, Instance),
        (NetworkAdmin, Structure),
        (StructureManager, Structure),
        (Trainer, Network),
    ],
};

/// The rule of `method` (the RPC's name as in the proto, e.g. `Enrol`),
/// `None` for an unknown method.
pub fn rule(method: &str) -> Option<Rule> {
    Some(match method {
        // The catalogue is shared by the whole instance (no network column):
        // federation admins and trainers maintain it.
        "ImportCatalog" | "ExportCatalog" => Rule {
            grants: &[(FederationAdmin, Instance), (Trainer, Instance)],
        },
        // The catalogue is public to every authenticated role (no personal
        // data: sessions carry only counts of enrolled and waiting people).
        "ListTrainings" | "ListSessions" => EVERY_ROLE,
        "Enrol" | "Cancel" | "Complete" => ENROLMENT,
        // A structure's plan names its people (candidates).
        "Plan" => Rule {
            grants: &[
                (FederationAdmin, Instance),
                (NetworkAdmin, Structure),
                (StructureManager, Structure),
                (Trainer, Network),
            ],
        },
        // Counts per training and department over a whole network: only the
        // whole network (a structure group of a network admin does not cover it).
        "NetworkPlan" => Rule {
            grants: &[
                (FederationAdmin, Instance),
                (NetworkAdmin, Structure),
                (Trainer, Network),
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
