//! The pure parts of the OIDC sign-in, unit-tested without an issuer: the
//! PKCE challenge (RFC 7636), the authorization and logout URLs, the check
//! of `state`, and what the console shows of the person.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use vigie_platform::auth::{form_urlencoded, IdToken};

/// PKCE `code_challenge` of `verifier`, method S256:
/// `BASE64URL(SHA-256(verifier))`.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()))
}

/// `url` with `pairs` added to its query.
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", form_urlencoded(pairs))
}

/// What the authorization request carries.
pub struct Authorization<'a> {
    /// The issuer's `authorization_endpoint`.
    pub endpoint: &'a str,
    /// The console's client id.
    pub client_id: &'a str,
    /// `<public URL>/connexion/retour`.
    pub redirect_uri: &'a str,
    /// Random, kept in the anonymous session.
    pub state: &'a str,
    /// Random, must come back in the ID token.
    pub nonce: &'a str,
    /// The PKCE verifier (only its challenge is sent).
    pub verifier: &'a str,
}

/// The URL the browser is sent to, to sign in (authorization code + PKCE).
pub fn authorization_url(request: &Authorization<'_>) -> String {
    with_query(
        request.endpoint,
        &[
            ("response_type", "code"),
            ("client_id", request.client_id),
            ("redirect_uri", request.redirect_uri),
            ("scope", "openid"),
            ("state", request.state),
            ("nonce", request.nonce),
            ("code_challenge", &challenge(request.verifier)),
            ("code_challenge_method", "S256"),
        ],
    )
}

/// The RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0).
pub fn logout_url(end_session: &str, id_token_hint: Option<&str>, client_id: &str, after: &str) -> String {
    let mut pairs = vec![("client_id", client_id), ("post_logout_redirect_uri", after)];
    if let Some(hint) = id_token_hint {
        pairs.insert(0, ("id_token_hint", hint));
    }
    with_query(end_session, &pairs)
}

/// Whether the issuer sent back the session's `state`, compared in time
/// independent of where they differ.
pub fn state_matches(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && !expected.is_empty()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The person's name as the header shows it: `name`, else
/// `preferred_username`, else `None` (the page says "signed in").
pub fn label(token: &IdToken) -> Option<String> {
    token.name.clone().or_else(|| token.preferred_username.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_follows_rfc_7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_authorization_url_carries_code_pkce_state_and_nonce() {
        let url = authorization_url(&Authorization {
            endpoint: "https://sso.example.org/realms/vigie/protocol/openid-connect/auth",
            client_id: "vigie-console",
            redirect_uri: "https://console.example.org/connexion/retour",
            state: "s-1",
            nonce: "n-1",
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        });
        assert_eq!(
            url,
            "https://sso.example.org/realms/vigie/protocol/openid-connect/auth?response_type=code\
             &client_id=vigie-console&redirect_uri=https%3A%2F%2Fconsole.example.org%2Fconnexion%2Fretour\
             &scope=openid&state=s-1&nonce=n-1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256"
        );
        // The verifier itself never travels through the browser.
        assert!(!url.contains("dBjftJeZ4CVP"));
        let extra = authorization_url(&Authorization {
            endpoint: "https://sso.example.org/auth?kc_idp_hint=x",
            client_id: "c",
            redirect_uri: "r",
            state: "s",
            nonce: "n",
            verifier: "v",
        });
        assert!(extra.starts_with("https://sso.example.org/auth?kc_idp_hint=x&response_type=code"));
    }

    #[test]
    fn the_logout_url_carries_the_hint_and_the_way_back() {
        assert_eq!(
            logout_url(
                "https://sso.example.org/realms/vigie/protocol/openid-connect/logout",
                Some("a.b.c"),
                "vigie-console",
                "https://console.example.org/deconnexion"
            ),
            "https://sso.example.org/realms/vigie/protocol/openid-connect/logout?id_token_hint=a.b.c\
             &client_id=vigie-console&post_logout_redirect_uri=https%3A%2F%2Fconsole.example.org%2Fdeconnexion"
        );
        assert!(!logout_url("https://sso/logout", None, "c", "https://x/").contains("id_token_hint"));
    }

    #[test]
    fn state_must_match_exactly() {
        assert!(state_matches("abc", "abc"));
        assert!(!state_matches("abc", "abd"));
        assert!(!state_matches("abc", "ab"));
        assert!(!state_matches("", ""));
    }

    #[test]
    fn the_person_is_named_and_a_manager_lands_on_her_structure() {
        let mut token = IdToken {
            subject: "u".to_owned(),
            name: Some("Awa Diallo".to_owned()),
            preferred_username: Some("awa".to_owned()),
            groups: Vec::new(),
            expires_at: 0,
        };
        assert_eq!(label(&token).as_deref(), Some("Awa Diallo"));
        token.name = None;
        assert_eq!(label(&token).as_deref(), Some("awa"));
        token.preferred_username = None;
        assert_eq!(label(&token), None);
    }
}
