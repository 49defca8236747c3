//! The federation service's authorisation matrix (docs/security.md,
//! "Authorisation"): aggregates only, for `federation-admin` only. Inside a
//! regional instance that role is the regional federation's staff; the
//! national federation holds no account on regional instances.

use vigie_platform::auth::{Reach, Role, Rule};

const FEDERATION_ONLY: Rule = Rule {
    grants: &[(Role::FederationAdmin, Reach::Instance)],
};

/// The rule of `method` (the RPC's name as in the proto), `None` for an
/// unknown method.
pub fn rule(method: &str) -> Option<Rule> {
    match method {
        "Rollup" | "Regions" => Some(FEDERATION_ONLY),
        _ => None,
    }
}

/// The rule of a method the adapter implements.
#[allow(clippy::result_large_err)]
pub fn rule_for(method: &str) -> Result<Rule, tonic::Status> {
    vigie_platform::auth::rule_or_refusal(method, rule(method))
}
