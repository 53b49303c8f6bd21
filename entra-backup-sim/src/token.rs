//! Access tokens of the simulated Microsoft identity platform: issued on the client-credentials
//! grant, checked on every Graph call.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::{Rng, SimConfig};
use entra_backup::catalog;

/// What a valid token grants.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub app_id: String,
    pub roles: Vec<String>,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Missing,
    Invalid,
    Expired,
}

/// Why a token request was refused: an AADSTS error.
#[derive(Debug, Clone)]
pub(crate) struct TokenError {
    pub status: u16,
    pub error: &'static str,
    pub code: u32,
    pub description: String,
}

#[derive(Debug)]
pub(crate) struct TokenIssuer {
    tenant_id: String,
    /// The app registrations (client id, secret) that get tokens; empty: any client id does.
    credentials: Vec<(String, String)>,
    roles: Vec<String>,
    lifetime: Duration,
    issued: Mutex<HashMap<String, (Instant, Grant)>>,
    rng: Mutex<Rng>,
}

impl TokenIssuer {
    pub(crate) fn new(config: &SimConfig, tenant_id: &str) -> Self {
        let roles = match &config.granted_permissions {
            Some(p) => p.clone(),
            None => catalog::permissions::<&str>(&[], true).unwrap_or_default().into_iter().map(String::from).collect(),
        };
        TokenIssuer {
            tenant_id: tenant_id.to_string(),
            credentials: config
                .credentials
                .iter()
                .chain(if config.credentials.is_some() { &config.extra_credentials[..] } else { &[] })
                .cloned()
                .collect(),
            roles,
            lifetime: config.token_lifetime,
            issued: Mutex::new(HashMap::new()),
            rng: Mutex::new(Rng::new(config.seed ^ 0x7070).fork("tokens")),
        }
    }

    /// The client-credentials grant: a client id with a secret or a client assertion (a JWT whose
    /// `sub` is the client id; the simulator does not check its signature).
    pub(crate) fn issue(
        &self,
        client_id: &str,
        secret: Option<&str>,
        assertion: Option<&str>,
    ) -> Result<(String, u64), TokenError> {
        let client_error = |status, error, code, description: String| TokenError { status, error, code, description };
        if let Some(assertion) = assertion {
            let sub = assertion_subject(assertion).ok_or_else(|| {
                client_error(
                    401,
                    "invalid_client",
                    50012,
                    "AADSTS50012: Client assertion is not within its valid time range or is malformed.".into(),
                )
            })?;
            if sub != client_id {
                return Err(client_error(
                    401,
                    "invalid_client",
                    50012,
                    format!("AADSTS50012: The client assertion's subject '{sub}' is not the client id '{client_id}'."),
                ));
            }
        }
        if !self.credentials.is_empty() {
            let Some((_, expected)) = self.credentials.iter().find(|(id, _)| id == client_id) else {
                return Err(client_error(
                    400,
                    "unauthorized_client",
                    700016,
                    format!(
                        "AADSTS700016: Application with identifier '{client_id}' was not found in the directory \
                         '{}'. This can happen if the application has not been installed by the administrator of \
                         the tenant or consented to by any user in the tenant.",
                        self.tenant_id
                    ),
                ));
            };
            if assertion.is_none() && secret != Some(expected.as_str()) {
                return Err(client_error(
                    401,
                    "invalid_client",
                    7000215,
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is \
                     the client secret value, not the client secret ID, for a secret added to app."
                        .into(),
                ));
            }
        }
        let token = self.mint(client_id);
        let secs = self.lifetime.as_secs();
        let grant = Grant { app_id: client_id.to_string(), roles: self.roles.clone() };
        self.issued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.clone(), (Instant::now() + self.lifetime, grant));
        Ok((token, secs))
    }

    fn mint(&self, client_id: &str) -> String {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let header = URL_SAFE_NO_PAD.encode(json!({"typ": "JWT", "alg": "RS256", "kid": "sim"}).to_string());
        let claims = json!({
            "aud": "https://graph.microsoft.com",
            "iss": format!("https://sts.windows.net/{}/", self.tenant_id),
            "appid": client_id,
            "tid": self.tenant_id,
            "roles": self.roles,
            "uti": rng.guid(),
        });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let sig: Vec<u8> = (0..32).map(|_| rng.next_u64() as u8).collect();
        format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// Check an `Authorization` header value.
    pub(crate) fn check(&self, authorization: Option<&str>) -> Result<Grant, TokenProblem> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(TokenProblem::Missing)?;
        let issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let (expires, grant) = issued.get(token).ok_or(TokenProblem::Invalid)?;
        if Instant::now() >= *expires {
            return Err(TokenProblem::Expired);
        }
        Ok(grant.clone())
    }

    /// Expire every token issued so far (a test of refresh on 401).
    pub(crate) fn expire_all(&self) {
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let past = Instant::now();
        for (exp, _) in issued.values_mut() {
            *exp = past;
        }
    }
}

fn assertion_subject(assertion: &str) -> Option<String> {
    let mut parts = assertion.split('.');
    let (_h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok()?).ok()?;
    claims.get("sub")?.as_str().map(String::from)
}

impl Grant {
    /// Whether the grant holds one of `needed`, or a permission that implies it (`ReadWrite` for
    /// `Read`, `Directory.Read.All` for directory reads).
    pub(crate) fn allows(&self, needed: &[&str], directory: bool) -> bool {
        if needed.is_empty() {
            return true;
        }
        self.roles.iter().any(|have| {
            needed.iter().any(|n| {
                have == n
                    || *have == n.replacen(".Read.", ".ReadWrite.", 1)
                    || *have == n.replacen(".ReadBasic.", ".Read.", 1)
                    || *have == n.replacen(".ReadBasic.", ".ReadWrite.", 1)
            }) || (directory && (have == "Directory.Read.All" || have == "Directory.ReadWrite.All"))
        })
    }
}
