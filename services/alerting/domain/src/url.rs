//! The one URL check of every URL the alerting service keeps from outside
//! (application and information URLs of calls, feed links) and of every URL
//! it writes into a calendar or an email.
//!
//! Why: these URLs come from third-party documents and end up in places where
//! a single bad character changes the meaning of what is around it — a CRLF
//! in an iCalendar `URL:` starts a new property (a whole extra `VEVENT` with
//! an `ATTACH:` to an executable), a `javascript:` or `data:` scheme in an
//! email link runs code, a space or a quote breaks out of an HTML attribute.
//! So a URL is kept only when it is absolute `http` or `https`, has a host,
//! holds no control character (CR, LF, tab, NUL…), no white space and none of
//! `" < > `` ` `` (never raw in a URL, they break out of markup), and is
//! at most [`MAX_URL_LEN`] bytes. The connectors drop a bad URL with a warning
//! on its item (the call itself is still imported); the renderers never write
//! one.

use vigie_words::{words, Words};

/// The longest URL kept, in bytes (browsers and mail clients handle far
/// longer ones, but no call page needs more).
pub const MAX_URL_LEN: usize = 2048;

/// Why a URL was refused (displayed in import reports): [`UrlProblem::words`]
/// in French and in English, `Display` in French.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not `http://` or `https://`.
    Scheme,
    /// Nothing after the scheme.
    NoHost,
    /// A control character (CR, LF, tab, NUL…).
    Control,
    /// A space (any Unicode white space).
    Space,
    /// A character that is never raw in a URL and breaks out of markup (`"`, `<`, `>`, `` ` ``).
    Character,
    /// Longer than [`MAX_URL_LEN`].
    TooLong,
}

impl UrlProblem {
    /// Why the URL was refused, in French and in English.
    pub fn words(&self) -> Words {
        match self {
            UrlProblem::Scheme => words!(
                "seules les adresses http:// ou https:// sont acceptées",
                "only http:// or https:// URLs are accepted"
            ),
            UrlProblem::NoHost => words!("adresse sans nom de domaine", "URL without a domain name"),
            UrlProblem::Control => words!(
                "adresse contenant un caractère de contrôle (retour à la ligne, tabulation…)",
                "URL containing a control character (line break, tab…)"
            ),
            UrlProblem::Space => words!("adresse contenant une espace", "URL containing a space"),
            UrlProblem::Character => words!(
                "adresse contenant un caractère interdit (\", <, > ou `)",
                "URL containing a forbidden character (\", <, > or `)"
            ),
            UrlProblem::TooLong => words!(
                "adresse de plus de {MAX_URL_LEN} octets",
                "URL longer than {MAX_URL_LEN} bytes"
            ),
        }
    }
}

impl std::fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words().fr)
    }
}

impl std::error::Error for UrlProblem {}

/// Checks a URL to keep (see the module documentation).
///
/// # Errors
/// The first rule the URL breaks.
pub fn check_url(url: &str) -> Result<(), UrlProblem> {
    if url.len() > MAX_URL_LEN {
        return Err(UrlProblem::TooLong);
    }
    if url.chars().any(char::is_control) {
        return Err(UrlProblem::Control);
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
    {
        return Err(UrlProblem::Space);
    }
    if url.contains(['"', '<', '>', '`']) {
        return Err(UrlProblem::Character);
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err(UrlProblem::Scheme);
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(UrlProblem::NoHost);
    }
    Ok(())
}

/// Whether `url` passes [`check_url`].
pub fn is_safe_url(url: &str) -> bool {
    check_url(url).is_ok()
}

/// A URL as shown in a message about it: control characters escaped (`\r`,
/// `\n`, `\u{1b}`…) so that it cannot add lines to a report or a log, and cut
/// at 120 characters.
pub fn shown(url: &str) -> String {
    let mut out: String = url.chars().take(120).flat_map(char::escape_debug).collect();
    if url.chars().nth(120).is_some() {
        out.push('…');
    }
    out
}

/// The URL of `field` to keep: `value` trimmed when it passes [`check_url`],
/// empty when it is empty or refused; a refusal adds a warning to `warnings`,
/// in French and in English, naming the field, the URL ([`shown`]) and why.
pub fn keep_url(field: &Words, value: &str, warnings: &mut Vec<Words>) -> String {
    let value = value.trim();
    if value.is_empty() {
        return String::new();
    }
    match check_url(value) {
        Ok(()) => value.to_owned(),
        Err(problem) => {
            let (url, why) = (shown(value), problem.words());
            warnings.push(Words::new(
                format!("{} : URL « {url} » ignorée : {}", field.fr, why.fr),
                format!("{}: URL “{url}” ignored: {}", field.en, why.en),
            ));
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_http_and_https_urls_pass() {
        for good in [
            "https://aides-territoires.beta.gouv.fr/aides/x/",
            "http://exemple.fr",
            "HTTPS://EXEMPLE.FR/a?b=c#d",
            "https://user@exemple.fr:8443/chemin",
            "https://exemple.fr/%C3%A9t%C3%A9",
            "https://exemple.fr/été",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn hostile_urls_are_refused_with_their_reason() {
        let long = format!("https://exemple.fr/{}", "a".repeat(MAX_URL_LEN));
        for (bad, why) in [
            ("javascript:alert(1)", UrlProblem::Scheme),
            ("data:text/html,x", UrlProblem::Scheme),
            ("ftp://exemple.fr/", UrlProblem::Scheme),
            ("//exemple.fr/x", UrlProblem::Scheme),
            ("www.exemple.fr", UrlProblem::Scheme),
            ("mailto:a@b.fr", UrlProblem::Scheme),
            ("https://", UrlProblem::NoHost),
            ("https:///chemin", UrlProblem::NoHost),
            ("https://:80/", UrlProblem::NoHost),
            ("https://exemple.fr/\r\nBEGIN:VEVENT", UrlProblem::Control),
            ("https://exemple.fr/\nATTACH:x.exe", UrlProblem::Control),
            ("https://exemple.fr/\ta", UrlProblem::Control),
            ("https://exemple.fr/\0", UrlProblem::Control),
            ("https://exemple.fr/a b", UrlProblem::Space),
            ("https://exemple.fr/a\u{a0}b", UrlProblem::Space),
            ("https://exemple.fr/\"onmouseover=x", UrlProblem::Character),
            ("https://exemple.fr/<script>", UrlProblem::Character),
            (long.as_str(), UrlProblem::TooLong),
        ] {
            assert_eq!(check_url(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn a_refused_url_is_dropped_with_a_warning_that_cannot_add_lines() {
        let mut warnings = Vec::new();
        let field = Words::same("application_url");
        assert_eq!(keep_url(&field, " https://ok.fr/ ", &mut warnings), "https://ok.fr/");
        assert_eq!(keep_url(&field, "", &mut warnings), "");
        assert!(warnings.is_empty());
        let hostile = "https://x.fr/\r\nBEGIN:VEVENT\r\nATTACH:https://x.fr/a.exe";
        assert_eq!(keep_url(&field, hostile, &mut warnings), "");
        assert_eq!(
            warnings,
            [
                "application_url : URL « https://x.fr/\\r\\nBEGIN:VEVENT\\r\\nATTACH:https://x.fr/a.exe » ignorée : \
              adresse contenant un caractère de contrôle (retour à la ligne, tabulation…)"
            ]
        );
        assert_eq!(
            warnings[0].en,
            "application_url: URL “https://x.fr/\\r\\nBEGIN:VEVENT\\r\\nATTACH:https://x.fr/a.exe” ignored: \
             URL containing a control character (line break, tab…)"
        );
        assert!(!warnings[0].contains('\n') && !warnings[0].en.contains('\n'));
        assert_eq!(shown(&"é".repeat(200)).chars().count(), 121);
    }
}
