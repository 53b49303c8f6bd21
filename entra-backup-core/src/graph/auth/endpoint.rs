//! The identity platform's token endpoint for one tenant and app: the client-credentials request,
//! its retries, and errors that name the authority, tenant and `AADSTS` code but never what was sent.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, RETRY_AFTER};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{AccessToken, DEFAULT_AUTHORITY};
use crate::{Error, ErrorKind, Result};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// The token endpoint of one tenant for one app, and how a request to it is sent and retried.
#[derive(Debug)]
pub(super) struct Endpoint {
    pub(super) http: reqwest::Client,
    pub(super) authority: String,
    pub(super) tenant_id: String,
    pub(super) client_id: String,
    pub(super) token_url: String,
    pub(super) scope: String,
    pub(super) retries: u32,
    pub(super) base_delay: Duration,
}

impl Endpoint {
    pub(super) fn new(
        authority_url: &str,
        tenant_id: &str,
        client_id: &str,
        graph_url: &str,
        http: reqwest::Client,
    ) -> Result<Self> {
        let authority = normalize_authority(authority_url)?;
        let tenant_id = tenant_id.trim();
        if tenant_id.is_empty() || !tenant_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(Error::invalid_input(format!(
                "bad tenant '{tenant_id}': expected the tenant id (a GUID) or a domain such as contoso.onmicrosoft.com"
            )));
        }
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(Error::invalid_input("the client id (the app registration's application id) is empty"));
        }
        let graph = crate::net::check_url("the Graph URL", graph_url)?;
        Ok(Endpoint {
            http,
            token_url: format!("{authority}/{tenant_id}/oauth2/v2.0/token"),
            // The resource is Graph's origin: `https://graph.microsoft.com/v1.0` asks for
            // `https://graph.microsoft.com/.default`, the only form Entra accepts.
            scope: format!("{}/.default", graph.origin().ascii_serialization()),
            authority,
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            retries: 3,
            base_delay: Duration::from_millis(500),
        })
    }

    /// POST the client-credentials grant; `credential` gives the secret or a fresh assertion for
    /// each attempt (an assertion's `jti` must not be replayed). Our copies of them are wiped when
    /// dropped (the request body reqwest builds is its own).
    pub(super) async fn request(&self, credential: impl Fn() -> Result<Sent>) -> Result<AccessToken> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let sent = credential()?;
            let mut form: Vec<(&str, &str)> =
                vec![("grant_type", "client_credentials"), ("client_id", &self.client_id), ("scope", &self.scope)];
            form.extend(sent.iter().map(|(k, v)| (*k, v.as_str())));
            let started = Instant::now();
            let response = self
                .http
                .post(&self.token_url)
                .timeout(REQUEST_TIMEOUT)
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&form)
                .send()
                .await;
            let failure = match response {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response.headers().get(RETRY_AFTER).and_then(parse_retry_after);
                    let content_type = response
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("no content type")
                        .to_string();
                    match response.bytes().await {
                        Ok(body) if status.is_success() => return self.parse_token(&body, &content_type, started),
                        Ok(body) if status.as_u16() == 429 || status.is_server_error() => {
                            if attempt > self.retries {
                                return Err(redact(self.unavailable(status.as_u16(), &body, attempt), &sent));
                            }
                            Failure {
                                delay: retry_after.map(|d| d.min(MAX_RETRY_AFTER)),
                                why: format!("HTTP {status}"),
                            }
                        }
                        Ok(body) => return Err(redact(self.refused(status.as_u16(), &body, &content_type), &sent)),
                        Err(e) => {
                            if attempt > self.retries {
                                return Err(redact(self.unreachable(e, attempt), &sent));
                            }
                            Failure { delay: None, why: error_chain(&e) }
                        }
                    }
                }
                Err(e) => {
                    if attempt > self.retries || e.is_builder() || e.is_redirect() {
                        return Err(redact(self.unreachable(e, attempt), &sent));
                    }
                    Failure { delay: None, why: error_chain(&e) }
                }
            };
            let delay = failure.delay.unwrap_or_else(|| backoff(self.base_delay, attempt));
            tracing::warn!(
                authority = %self.authority,
                tenant = %self.tenant_id,
                attempt,
                delay_ms = delay.as_millis() as u64,
                "token request failed ({}); retrying",
                failure.why
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn parse_token(&self, body: &[u8], content_type: &str, started: Instant) -> Result<AccessToken> {
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: Option<String>,
            token_type: Option<String>,
            expires_in: Option<serde_json::Value>,
        }
        let not_a_token = |what: &str| {
            Error::new(
                ErrorKind::Protocol,
                format!(
                    "the identity platform at {} answered the token request for tenant {} with {what} ({content_type}, \
                     {} bytes)",
                    self.authority,
                    self.tenant_id,
                    body.len()
                ),
            )
        };
        let parsed: TokenResponse =
            serde_json::from_slice(body).map_err(|_| not_a_token("a body that is not a token response"))?;
        let token = parsed.access_token.filter(|t| !t.is_empty()).ok_or_else(|| not_a_token("no access_token"))?;
        if let Some(kind) = parsed.token_type.as_deref()
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(not_a_token(&format!("token_type '{kind}' instead of Bearer")));
        }
        // v2.0 sends a number; v1.0 endpoints and ADFS send a string.
        let secs = match parsed.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| not_a_token("no valid expires_in"))?;
        if HeaderValue::from_str(&token).is_err() {
            return Err(not_a_token("an access token holding characters not allowed in a header"));
        }
        Ok(AccessToken::new(token, started + Duration::from_secs(secs)))
    }

    /// A 4xx: the identity platform refused the request (bad secret, unknown app or tenant).
    fn refused(&self, status: u16, body: &[u8], content_type: &str) -> Error {
        match AadError::parse(body) {
            Some(aad) => Error::graph(
                ErrorKind::Authentication,
                status,
                Some(aad.code.clone()),
                format!(
                    "authentication failed at {} for tenant {} (client {}): {}",
                    self.authority,
                    self.tenant_id,
                    self.client_id,
                    aad.summary()
                ),
            ),
            None => Error::graph(
                ErrorKind::Protocol,
                status,
                None,
                format!(
                    "the identity platform at {} answered HTTP {status} for tenant {} with a body that is not an \
                     OAuth error ({content_type}, {} bytes); is the authority URL right?",
                    self.authority,
                    self.tenant_id,
                    body.len()
                ),
            ),
        }
    }

    /// 5xx or 429 past the retry budget.
    fn unavailable(&self, status: u16, body: &[u8], attempts: u32) -> Error {
        let aad = AadError::parse(body);
        let detail = aad.as_ref().map(|a| format!(": {}", a.summary())).unwrap_or_default();
        Error::graph(
            ErrorKind::Network,
            status,
            aad.map(|a| a.code),
            format!(
                "the identity platform at {} kept failing for tenant {}: HTTP {status} after {attempts} attempts{detail}",
                self.authority, self.tenant_id
            ),
        )
    }

    fn unreachable(&self, e: reqwest::Error, attempts: u32) -> Error {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_redirect() {
            "was redirected to another origin and stopped (nothing was sent there)"
        } else {
            "failed"
        };
        Error::new(
            ErrorKind::Network,
            format!(
                "could not reach the identity platform at {} for tenant {}: the token request {what} after \
                 {attempts} attempts: {}",
                self.authority,
                self.tenant_id,
                error_chain(&e)
            ),
        )
        .with_source(e)
    }
}

struct Failure {
    delay: Option<Duration>,
    why: String,
}

/// The identity platform's error body: `{"error", "error_description", "error_codes", ...}`.
#[derive(Debug, Deserialize)]
struct AadError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u64>,
    #[serde(default)]
    correlation_id: Option<String>,
    #[serde(skip)]
    code: String,
}

impl AadError {
    fn parse(body: &[u8]) -> Option<AadError> {
        let mut e: AadError = serde_json::from_slice(body).ok()?;
        e.code = match e.error_codes.first() {
            Some(n) => format!("AADSTS{n}"),
            None => e.error.clone(),
        };
        Some(e)
    }

    /// `AADSTS7000215: Invalid client secret provided. ...`: the description's first line (the
    /// rest is trace ids and a timestamp), led by the code, with the correlation id support asks for.
    fn summary(&self) -> String {
        let first = self
            .error_description
            .as_deref()
            .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or(&self.error);
        let mut s = if first.contains(&self.code) { first.to_string() } else { format!("{}: {first}", self.code) };
        if let Some(id) = self.correlation_id.as_deref().filter(|id| !id.is_empty()) {
            s.push_str(&format!(" (correlation id {id})"));
        }
        s
    }
}

/// The credential fields of a token request, wiped when dropped.
pub(super) type Sent = Vec<(&'static str, Zeroizing<String>)>;

/// Scrub what was sent from an error message, should a server echo the request back.
fn redact(error: Error, sent: &[(&'static str, Zeroizing<String>)]) -> Error {
    let leaked = |m: &str| sent.iter().any(|(_, v)| v.len() >= 4 && m.contains(v.as_str()));
    if !leaked(error.message()) {
        return error;
    }
    let mut message = error.message().to_string();
    for (_, v) in sent.iter().filter(|(_, v)| v.len() >= 4) {
        message = message.replace(v.as_str(), "***");
    }
    match error.status() {
        Some(status) => Error::graph(error.kind(), status, error.graph_code().map(String::from), message),
        None => Error::new(error.kind(), message),
    }
}

fn normalize_authority(authority_url: &str) -> Result<String> {
    let raw = authority_url.trim();
    // AZURE_AUTHORITY_HOST is often a bare host (`login.microsoftonline.us`), as the Azure SDKs allow.
    let with_scheme = if raw.contains("://") { raw.to_string() } else { format!("https://{raw}") };
    let trimmed = with_scheme.trim_end_matches('/').to_string();
    let parsed = crate::net::check_url("the authority URL", &trimmed)?;
    if parsed.query().is_some() {
        return Err(Error::invalid_input(format!(
            "bad authority URL '{}': expected https://HOST, such as {DEFAULT_AUTHORITY}",
            parsed.origin().ascii_serialization()
        )));
    }
    Ok(trimmed)
}

/// Exponential backoff from `base`, capped, with jitter so many clients do not retry in step.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(MAX_BACKOFF);
    let mut byte = [0u8; 1];
    let jitter = if SystemRandom::new().fill(&mut byte).is_ok() { f64::from(byte[0]) / 255.0 } else { 0.5 };
    exp.mul_f64(0.5 + jitter / 2.0)
}

/// `Retry-After` in seconds or as an HTTP date.
fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let s = value.to_str().ok()?.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(s).ok()?.timestamp();
    let secs = at.as_second() - jiff::Timestamp::now().as_second();
    Some(Duration::from_secs(secs.max(0) as u64))
}

/// A reqwest error with its causes (`error sending request: ... : Connection refused`).
fn error_chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after(&HeaderValue::from_static("7")), Some(Duration::from_secs(7)));
        let soon = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(20)).unwrap();
        let date = jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&soon).unwrap();
        let parsed = parse_retry_after(&HeaderValue::from_str(&date).unwrap()).unwrap();
        assert!(parsed > Duration::from_secs(15) && parsed <= Duration::from_secs(20), "{date}: {parsed:?}");
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        for attempt in 1..5 {
            let full = base * (1 << (attempt - 1));
            let d = backoff(base, attempt);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
        assert!(backoff(base, 30) <= MAX_BACKOFF);
    }

    #[test]
    fn authorities_are_normalized() {
        assert_eq!(normalize_authority("login.microsoftonline.us/").unwrap(), "https://login.microsoftonline.us");
        assert_eq!(normalize_authority(" http://127.0.0.1:8080 ").unwrap(), "http://127.0.0.1:8080");
        assert!(normalize_authority("https://").is_err());
        assert!(normalize_authority("https://login.microsoftonline.com/?x=1").is_err());
        assert!(normalize_authority("http://login.example.invalid").is_err());
        assert!(normalize_authority("http://localhost:8080/").is_ok());
    }
}
