//! The alerting service's authorisation matrix: one [`Rule`] per RPC of
//! `vigie.alerting.v1.AlertingService`, checked at the top of every handler.
//! Documented in `docs/security.md` ("Authorisation").
//!
//! Calls themselves are public information (published by funders): every
//! role may read them; importing or fetching them changes the instance's
//! catalogue, so only federation admins and integrations do. What concerns a
//! structure (its calls, reminders, send log) is read scoped like the
//! structure; the names, addresses and delivery errors in previews and send
//! logs only by the roles of [`PERSONAL_DATA`] (an integration gets the rows
//! without them). Writes — preferences, acknowledgements, feed URLs (a
//! capability) — belong to structure managers and network admins, and
//! whatever concerns a whole network (its preferences, its feed, its policy)
//! to its network admins only.

use vigie_platform::auth::{Reach, Role, Rule, EVERY_ROLE};

use Reach::{Instance, Network, Structure};
use Role::{Facilitator, FederationAdmin, Integration, NetworkAdmin, StructureManager};

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

/// Acting for one structure (preferences, acknowledgement, feed URL): the
/// people who run it — never facilitators, trainers or integrations.
const STRUCTURE_WRITE: Rule = Rule {
    grants: &[
        (FederationAdmin, Instance),
        (NetworkAdmin, Structure),
        (StructureManager, Structure),
    ],
};

/// Acting for a whole network (its preferences, which can opt every
/// structure out; its feed URL; its policy): its network admins, with a
/// `/networks/N` group.
const NETWORK_WRITE: Rule = Rule {
    grants: &[(FederationAdmin, Instance), (NetworkAdmin, Structure)],
};

/// Who may see the people (names, recipients, addresses, delivery errors)
/// of a structure's previews and send log: those who may read its
/// inventory. Others granted the read (integrations) get rows without them.
pub const PERSONAL_DATA: Rule = Rule {
    grants: &[
        (FederationAdmin, Instance),
        (NetworkAdmin, Structure),
        (StructureManager, Structure),
        (Facilitator, Network),
    ],
};

/// The calls themselves (public information): every role, whatever its
/// groups — `ExportCalls`, and `ListCalls` without a structure.
pub const CATALOGUE: Rule = EVERY_ROLE;

/// The rule of `method` (the RPC's name as in the proto), `None` for an unknown method.
pub fn rule(method: &str) -> Option<Rule> {
    Some(match method {
        "ImportCalls" | "FetchSource" => Rule {
            grants: &[(FederationAdmin, Instance), (Integration, Instance)],
        },
        "ExportCalls" | "ExportCallsStream" => CATALOGUE,
        "ListCalls" | "PreviewAlerts" | "ListSendLog" => ON_STRUCTURE,
        // The streamed answers run the unary handler (same checks, same rows).
        "ListCallsStream" | "PreviewAlertsStream" => ON_STRUCTURE,
        // Revoking a feed cuts every subscriber off: like every write, its managers only.
        "Acknowledge" | "GetFeedUrl" | "SetPreferences" | "RevokeFeedUrl" => STRUCTURE_WRITE,
        "GetNetworkPolicy" | "SetNetworkPolicy" => NETWORK_WRITE,
        // A structure's applications, grants and reporting duties (amounts
        // and funders are its own business): the people who run it, read or
        // write, like acknowledgements (docs/grants.md).
        "RecordApplication" | "RecordGrant" | "SetAgreementDate" | "ListGrants" | "ListObligations" => STRUCTURE_WRITE,
        // « Envoyé » of a reporting duty: as SetAgreementDate (issue 16).
        "AcknowledgeObligation" => STRUCTURE_WRITE,
        // The views of grants across structures: without a network, the
        // whole instance — federation admins only (a network's admins ask
        // for their network, under `network_rule`).
        "GrantStats" => Rule {
            grants: &[(FederationAdmin, Instance)],
        },
        // The import of a sheet of grants (issue 16): each row's structure
        // is checked like RecordGrant's, by line (out of reach reads as
        // unknown); `network` restricts it, under NETWORK_WRITE.
        "ImportGrants" => STRUCTURE_WRITE,
        _ => return None,
    })
}

/// The rule of `method` when it targets a whole network rather than one
/// structure (`SetPreferences`, `GetFeedUrl`, `RevokeFeedUrl` with a network), `None` for an
/// unknown method.
pub fn network_rule(method: &str) -> Option<Rule> {
    match method {
        "SetPreferences" | "GetFeedUrl" | "RevokeFeedUrl" | "ListGrants" | "ListObligations" => Some(NETWORK_WRITE),
        // A network's views of grants: its network admins.
        "GrantStats" => Some(NETWORK_WRITE),
        "ImportGrants" => Some(NETWORK_WRITE),
        other => rule(other),
    }
}

/// [`network_rule`] of a method the adapter implements (refuse rather than panic).
#[allow(clippy::result_large_err)]
pub fn network_rule_for(method: &str) -> Result<Rule, tonic::Status> {
    vigie_platform::auth::rule_or_refusal(method, network_rule(method))
}

/// The rule of a method the adapter implements (a missing entry is a bug; refuse rather than panic).
#[allow(clippy::result_large_err)]
pub fn rule_for(method: &str) -> Result<Rule, tonic::Status> {
    vigie_platform::auth::rule_or_refusal(method, rule(method))
}
