//! The rule for the public URL of the alerting endpoints in production: the
//! links in emails and the calendar URLs are capabilities (whoever holds one
//! acts with it), so they must travel over TLS. `https` is required; plain
//! `http` is accepted only for a loopback host (a trial, or a TLS proxy on the
//! same machine that is then what recipients reach — give its `https` URL).

use vigie_platform::net::is_loopback_host as is_loopback;

/// Checks the public URL `vigie serve alerting` puts in links.
///
/// # Errors
/// A French message saying what is wrong and what to set.
pub fn check_for_serve(public_url: &str) -> Result<(), String> {
    let uri: http::Uri = public_url.trim().parse().map_err(|_| {
        format!("alerting.public_url « {public_url} » n'est pas une URL absolue (https://alertes.exemple.org)")
    })?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        Some("http") => Err(format!(
            "alerting.public_url « {public_url} » doit commencer par https:// : les liens des rappels et les \
             adresses des agendas donnent accès sans mot de passe et ne doivent pas circuler en clair \
             (http:// n'est accepté que pour 127.0.0.1, ::1 ou localhost)"
        )),
        _ => Err(format!(
            "alerting.public_url « {public_url} » doit être une URL https:// (par exemple https://alertes.exemple.org)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for ok in [
            "https://alertes.reseau.example",
            "https://alertes.reseau.example:8443/vigie/",
            "http://127.0.0.1:8088",
            "http://127.0.0.5",
            "http://[::1]:8088",
            "http://localhost:8088/",
        ] {
            assert_eq!(check_for_serve(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://alertes.reseau.example",
            "http://0.0.0.0:8088",
            "http://192.168.1.10:8088",
            "http://[::]:8088",
            "http://localhost.evil.example",
            "ftp://alertes.reseau.example",
            "alertes.reseau.example",
            "https://",
            "",
        ] {
            let error = check_for_serve(bad).expect_err(bad);
            assert!(error.contains("alerting.public_url"), "{error}");
        }
        assert!(check_for_serve("http://example.org").unwrap_err().contains("https://"));
    }
}
