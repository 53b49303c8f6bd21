//! Where secrets may travel: the one URL policy every connection that carries a credential
//! follows (the identity platform, Graph, object storage), and the HTTP client that keeps to it.
//!
//! - A URL must be `https://`, or `http://` to this machine (loopback: `127.0.0.0/8`, `::1`,
//!   `localhost`; a simulator or a storage emulator). A client secret, an assertion, a bearer
//!   token or a storage key never crosses a network in the clear. The check is on the URL's text,
//!   before any name is resolved or anything sent.
//! - A redirect is followed only within the origin (scheme, host, port) of the request: a `307`
//!   re-sends a request's body (a token request holds the client secret), and no legitimate
//!   Graph or token answer points elsewhere.

use crate::error::{Error, ErrorKind, Result};

/// Parse `url` and check it against the policy: `http(s)` with a host, no credentials in it, and
/// plain `http` only to loopback. `what` names it in the message (`the Graph URL`). The error
/// ([`ErrorKind::InvalidInput`]) shows the URL without user info or query.
pub fn check_url(what: &str, url: &str) -> Result<url::Url> {
    let shown = |u: &url::Url| {
        let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{}{port}{}", u.scheme(), u.host_str().unwrap_or_default(), u.path())
    };
    let parsed = match url::Url::parse(url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
        Ok(u) => return Err(Error::invalid_input(format!("{what} '{}' is not an http(s) URL", shown(&u)))),
        Err(e) => return Err(Error::invalid_input(format!("{what} is not a valid URL ({e})"))),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid_input(format!(
            "{what} '{}' carries credentials in the URL; they are not accepted there",
            shown(&parsed)
        )));
    }
    if parsed.scheme() == "http" && !is_loopback(&parsed) {
        return Err(Error::invalid_input(format!(
            "{what} '{}' is plain http:// to a host that is not this machine: credentials would cross the \
             network unencrypted; use https:// (http:// is accepted only for 127.0.0.1, ::1 and localhost)",
            shown(&parsed)
        )));
    }
    Ok(parsed)
}

/// Whether a URL's host is this machine: `127.0.0.0/8`, `::1` (also as `::ffff:127.x.y.z`) or
/// `localhost`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether two URLs share scheme, host and port.
pub fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.origin() == b.origin()
}

/// The redirect policy of every client that carries credentials: follow (at most 10) redirects
/// within the first request's origin, refuse any other.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().cloned();
        match first {
            _ if attempt.previous().len() > 10 => attempt.error("too many redirects"),
            Some(first) if same_origin(&first, attempt.url()) => attempt.follow(),
            Some(first) => {
                let to = attempt.url().origin().ascii_serialization();
                let from = first.origin().ascii_serialization();
                attempt.error(format!("a redirect from {from} to {to} was refused: credentials stay with the origin"))
            }
            None => attempt.stop(),
        }
    })
}

/// The HTTP client for Graph and the identity platform: our user agent, bounded timeouts, a pool
/// wide enough for concurrent `$batch` envelopes, and [`redirect_policy`]. Clients given to
/// [`GraphClient::new`](crate::graph::GraphClient::new) and the credentials should be made here
/// (or have redirects turned off).
pub fn http_client() -> Result<reqwest::Client> {
    crate::init_crypto();
    reqwest::Client::builder()
        .user_agent(concat!("entra-backup/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(20))
        .timeout(std::time::Duration::from_secs(120))
        .pool_max_idle_per_host(64)
        .redirect(redirect_policy())
        .build()
        .map_err(|e| Error::new(ErrorKind::Network, format!("cannot build the HTTP client: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_accepted_only_to_this_machine() {
        for ok in [
            "https://login.microsoftonline.com",
            "https://graph.example.invalid/v1.0",
            "http://127.0.0.1:8080",
            "http://127.1.2.3/",
            "http://[::1]:9000/x",
            "http://localhost:1234",
            "http://LOCALHOST./",
        ] {
            assert!(check_url("the URL", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://login.example.invalid",
            "http://graph.example.invalid/v1.0",
            "http://10.0.0.1",
            "http://[::2]/",
            "http://localhost.example.com/",
            "http://127.0.0.1.nip.io/",
            "ftp://127.0.0.1/",
            "https://user:hunter2@login.example/",
            "not a url",
        ] {
            let e = check_url("the URL", bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}: {e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
        let e = check_url("the authority URL", "http://login.example.invalid/?secret=1").unwrap_err();
        assert!(e.to_string().contains("the authority URL 'http://login.example.invalid/'"), "{e}");
        assert!(e.to_string().contains("https://"), "{e}");
    }
}
