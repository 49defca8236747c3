//! Identity: who calls a Vigie API.
//!
//! - [`oidc`]: validation of OIDC access tokens (Keycloak-compatible):
//!   discovery, JWKS cached by `kid` and refreshed, algorithm allow-list,
//!   exact issuer, audience, expiry; roles and tenant scopes from the claims;
//!   the issuer's relying-party endpoints ([`ProviderEndpoints`]) and ID
//!   tokens ([`IdToken`], the web console's sign-in) with the same key and
//!   signature checks;
//! - [`layer`]: the tower layer every gRPC server puts in front of its
//!   services, and [`principal`] for handlers;
//! - [`Principal`], [`Role`], [`Scope`]: the authenticated caller;
//! - [`authz`]: the check of each RPC against its service's matrix;
//! - [`DevIssuer`]: the demo profiles' tokens of `vigie dev` (console sign-in).
//!
//! See `docs/security.md` ("Token validation").

pub mod authz;
mod dev_issuer;
mod fetch;
mod id_token;
mod jwks;
pub mod layer;
pub mod oidc;
mod principal;
#[cfg(feature = "testing")]
pub mod testing;

pub use authz::{
    authorize, authorize_structure, authorize_structure_id, rule_or_refusal, visible, Reach, Rule, Target, Visibility,
    EVERY_ROLE,
};
pub use dev_issuer::{DevIssuer, NoRandomness, DEV_ISSUER};
pub use fetch::{exchange, form_urlencoded, FetchError};
pub use id_token::IdToken;
pub use jwks::{Algorithm, AlgorithmError};
pub use layer::{principal, Auth, AuthLayer, Authenticator, OPEN_SERVICES};
pub use oidc::{OidcConfig, OidcError, OidcValidator, ProviderEndpoints, TokenError};
pub use principal::{Principal, Role, Scope, UnknownRole};
