//! The simulated Microsoft identity platform: the client-credentials token endpoint and the
//! discovery documents MSAL-based clients ask for.

use serde_json::{Value, json};

use super::SimState;
use super::errors::GraphResponse;

/// `POST /{tenant}/oauth2/v2.0/token` with a form body.
pub(crate) fn token(state: &SimState, tenant: &str, form: &[(String, String)], base: &str) -> GraphResponse {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let tid = state.tokens_tenant();
    let aad = |status: u16, error: &str, code: u32, description: String| {
        let now = state.clock.now();
        GraphResponse::status(
            status,
            Some(json!({
                "error": error,
                "error_description": format!("{description}\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: {now}"),
                "error_codes": [code],
                "timestamp": now.to_string(),
                "trace_id": "00000000-0000-0000-0000-000000000000",
                "correlation_id": "00000000-0000-0000-0000-000000000000",
                "error_uri": format!("{base}/error?code={code}"),
            })),
        )
    };
    if tenant != tid && !tenant.eq_ignore_ascii_case(&state.tenant().domain) {
        return aad(
            400,
            "invalid_request",
            90002,
            format!(
                "AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let Some(grant) = get("grant_type") else {
        return aad(
            400,
            "invalid_request",
            900144,
            "AADSTS900144: The request body must contain the following parameter: 'grant_type'.".into(),
        );
    };
    if grant != "client_credentials" {
        return aad(
            400,
            "unsupported_grant_type",
            70003,
            format!("AADSTS70003: The app requested an unsupported grant type '{grant}'."),
        );
    }
    let Some(client_id) = get("client_id") else {
        return aad(
            400,
            "invalid_request",
            900144,
            "AADSTS900144: The request body must contain the following parameter: 'client_id'.".into(),
        );
    };
    let scope = get("scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s.ends_with("/.default")) {
        return aad(
            400,
            "invalid_scope",
            1002012,
            format!(
                "AADSTS1002012: The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    }
    let assertion = match (get("client_assertion_type"), get("client_assertion")) {
        (Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), Some(a)) => Some(a),
        (Some(t), _) => {
            return aad(
                400,
                "invalid_request",
                50027,
                format!("AADSTS50027: Unsupported client_assertion_type '{t}'."),
            );
        }
        _ => None,
    };
    let secret = get("client_secret");
    if secret.is_none() && assertion.is_none() {
        return aad(401, "invalid_client", 7000218, "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into());
    }
    match state.tokens.issue(client_id, secret, assertion) {
        Ok((token, secs)) => GraphResponse::ok(json!({
            "token_type": "Bearer",
            "expires_in": secs,
            "ext_expires_in": secs,
            "access_token": token,
        })),
        Err(e) => aad(e.status, e.error, e.code, e.description),
    }
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub(crate) fn openid_configuration(state: &SimState, base: &str) -> Value {
    let tid = state.tokens_tenant();
    json!({
        "token_endpoint": format!("{base}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{base}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tid}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    })
}

/// `GET /common/discovery/instance`: MSAL's instance discovery.
pub(crate) fn instance_discovery(state: &SimState, base: &str) -> Value {
    let host = base.trim_start_matches("http://").trim_start_matches("https://");
    json!({
        "tenant_discovery_endpoint": format!("{base}/{}/v2.0/.well-known/openid-configuration", state.tokens_tenant()),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    })
}
