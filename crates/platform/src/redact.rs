//! Passwords removed from URLs before they are shown.
//!
//! Database, NATS, SMTP and webhook URLs may carry a password in their
//! userinfo (`scheme://user:secret@host`) or, for PostgreSQL, in a query
//! parameter (`?password=secret`). Whatever prints or logs a URL — start-up
//! messages, error chains (sqlx and figment errors can echo the URL they
//! were given), `--help` defaults — goes through [`url`] first, so a secret
//! never reaches a terminal, a log collector or a bug report.
//!
//! [`url`] works on any text, not only on a lone URL: every `scheme://`
//! occurrence in it is redacted, so it can be applied to a whole error
//! message or to a comma-separated list of NATS servers. Text without a URL
//! comes back unchanged. The user name stays (it helps diagnose "wrong
//! account" mistakes); only the password is replaced by [`MASK`].

/// What replaces a password.
pub const MASK: &str = "***";

/// Query parameters whose value is a secret (libpq names).
const SECRET_PARAMS: &[&str] = &["password", "sslpassword"];

/// `text` with the password of every URL in it replaced by [`MASK`]:
/// `postgres://vigie:s3cr%40t@db/inv?sslmode=verify-full` becomes
/// `postgres://vigie:***@db/inv?sslmode=verify-full`, and
/// `?password=…` query values are masked too.
pub fn url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // The URL ends at whitespace (quotes and commas may be part of a
        // password, so they do not end it), or at the comma before the next
        // URL of a list (`nats://a@n1,nats://b@n2`).
        let mut end = after.find(char::is_whitespace).unwrap_or(after.len());
        if let Some(next) = after[..end].find("://") {
            if let Some(comma) = after[..next].rfind(',') {
                end = comma;
            }
        }
        let (candidate, tail) = after.split_at(end);
        out.push_str(&redact_after_scheme(candidate));
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// Redacts one URL given without its `scheme://`: the userinfo's password,
/// then secret query parameters.
fn redact_after_scheme(url: &str) -> String {
    let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    let (authority, path) = url.split_at(authority_end);
    let mut out = String::with_capacity(url.len());
    // The userinfo ends at the LAST '@' of the authority: a password may
    // contain a raw '@' even though it should be percent-encoded.
    match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(MASK);
                }
                None => out.push_str(userinfo),
            }
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    out.push_str(&redact_query(path));
    out
}

/// Masks the values of [`SECRET_PARAMS`] in the query part of `path`.
fn redact_query(path: &str) -> String {
    let Some(question) = path.find('?') else {
        return path.to_owned();
    };
    let (head, query) = path.split_at(question + 1);
    let (query, fragment) = match query.find('#') {
        Some(hash) => query.split_at(hash),
        None => (query, ""),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if SECRET_PARAMS.iter().any(|secret| key.eq_ignore_ascii_case(secret)) => {
                format!("{key}={MASK}")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}{}{fragment}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn removes_the_password_of_the_userinfo() {
        assert_eq!(
            url("postgres://vigie:s3cret@db.example:5432/inventory?sslmode=verify-full"),
            "postgres://vigie:***@db.example:5432/inventory?sslmode=verify-full"
        );
        assert_eq!(url("nats://app:pw@nats:4222"), "nats://app:***@nats:4222");
        assert_eq!(
            url("smtps://alertes:pw@smtp.example:465"),
            "smtps://alertes:***@smtp.example:465"
        );
        assert_eq!(
            url("https://hook:token@hooks.example/x?y=1"),
            "https://hook:***@hooks.example/x?y=1"
        );
    }

    #[test]
    fn special_characters_in_the_password_do_not_leak() {
        // Percent-encoded, sub-delimiters, a colon and a raw '@' in the password.
        for password in ["p%40ss%2Fw", "a!$&'()*+;=b", "with:colon", "raw@at", "é%C3%A9"] {
            let redacted = url(&format!("postgres://user:{password}@host/db"));
            assert_eq!(redacted, "postgres://user:***@host/db", "{password}");
        }
        // A user name with an encoded '@' is kept.
        assert_eq!(url("postgres://a%40b:x@h/db"), "postgres://a%40b:***@h/db");
    }

    #[test]
    fn urls_without_password_are_unchanged() {
        for plain in [
            "postgres://vigie@db/inventory",
            "postgres:///inventory?host=/var/run/postgresql",
            "nats://127.0.0.1:4222",
            "tls://nats.example:4222",
            "https://example.org/path?mail=a@b.example",
            "sqlite:///var/lib/vigie/inventory.db?mode=rwc",
            "sqlite::memory:",
        ] {
            assert_eq!(url(plain), plain);
        }
    }

    #[test]
    fn ipv6_hosts_keep_their_brackets_and_port() {
        assert_eq!(url("postgres://u:p@[::1]:5432/db"), "postgres://u:***@[::1]:5432/db");
        assert_eq!(url("nats://[2001:db8::1]:4222"), "nats://[2001:db8::1]:4222");
        assert_eq!(url("nats://u@[::1]:4222"), "nats://u@[::1]:4222");
    }

    #[test]
    fn password_query_parameters_are_masked() {
        assert_eq!(
            url("postgres://db/inv?user=vigie&password=secret&sslmode=require"),
            "postgres://db/inv?user=vigie&password=***&sslmode=require"
        );
        assert_eq!(
            url("postgres://db/inv?sslpassword=k#frag"),
            "postgres://db/inv?sslpassword=***#frag"
        );
    }

    #[test]
    fn non_urls_and_urls_inside_text() {
        for text in ["", "plain text", "user:pass@host", "a :// b", "ratio 3:2 @ noon"] {
            assert_eq!(url(text), text);
        }
        assert_eq!(
            url("error connecting to \"postgres://u:pw@h/db\": refused"),
            "error connecting to \"postgres://u:***@h/db\": refused"
        );
        assert_eq!(
            url("nats://a:x@n1:4222,nats://b:y@n2:4222"),
            "nats://a:***@n1:4222,nats://b:***@n2:4222"
        );
        assert!(!url("failed for nats://u:hunter2@h:4222 (timeout)").contains("hunter2"));
    }
}
