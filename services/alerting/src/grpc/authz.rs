//! The alerting service's authorisation matrix: one [`Rule`] per RPC of
//! `vigie.alerting.v1.AlertingService`, checked at the top of every handler.
//! Documented in `docs/security.md` ("Authorisation").
//!
//! Calls themselves are public information (published by funders): every
//! role may read them; importing or fetching them changes the instance's
//! catalogue, so only federation admins and integrations do. What concerns a
//! structure (its calls, reminders, send log, acknowledgements, calendar) is
//! scoped like the structure; a network's policy like the network.

use vigie_platform::auth::{Reach, Role, Rule};

use Reach::{Instance, Network, Structure};
use Role::{Facilitator, FederationAdmin, Integration, NetworkAdmin, StructureManager, Trainer};

/// About one structure (or, without a structure, the caller's visible ones).
const ON_STRUCTURE: Rule = Rule {
    grants: &[
        (FederationAdmin, Instance),
        (NetworkAdmin, Structure),
        (StructureManager, Structure),
        (Facilitator, Network),
        (Integration, Network),
    ],
};

/// The calls themselves (public information): every role, whatever its
/// groups — `ExportCalls`, and `ListCalls` without a structure.
pub const CATALOGUE: Rule = Rule {
    grants: &[
        (FederationAdmin, Instance),
        (NetworkAdmin, Instance),
        (StructureManager, Instance),
        (Facilitator, Instance),
        (Trainer, Instance),
        (Integration, Instance),
    ],
};

/// The rule of `method` (the RPC's name as in the proto), `None` for an unknown method.
pub fn rule(method: &str) -> Option<Rule> {
    Some(match method {
        "ImportCalls" | "FetchSource" => Rule {
            grants: &[(FederationAdmin, Instance), (Integration, Instance)],
        },
        "ExportCalls" | "ExportCallsStream" => CATALOGUE,
        "ListCalls" | "PreviewAlerts" | "ListSendLog" | "Acknowledge" | "GetFeedUrl" | "SetPreferences" => ON_STRUCTURE,
        // The streamed answers run the unary handler (same checks, same rows).
        "ListCallsStream" | "PreviewAlertsStream" => ON_STRUCTURE,
        // Revoking a feed cuts every subscriber off: its managers only.
        "RevokeFeedUrl" => Rule {
            grants: &[
                (FederationAdmin, Instance),
                (NetworkAdmin, Structure),
                (StructureManager, Structure),
            ],
        },
        "GetNetworkPolicy" | "SetNetworkPolicy" => Rule {
            grants: &[(FederationAdmin, Instance), (NetworkAdmin, Structure)],
        },
        _ => return None,
    })
}

/// The rule of a method the adapter implements (a missing entry is a bug; refuse rather than panic).
#[allow(clippy::result_large_err)]
pub fn rule_for(method: &str) -> Result<Rule, tonic::Status> {
    rule(method).ok_or_else(|| {
        tracing::error!(method, "no authorisation rule for this RPC");
        tonic::Status::permission_denied("opération non autorisée")
    })
}
