//! Helpers shared by the integration tests of the workspace's crates (not published): a CSDL checker,
//! folder fingerprints, a raw Graph client and a served simulated tenant with its ground truth.
#![allow(dead_code)]

pub mod csdl;
pub mod files;
pub mod graph;
pub mod sim_tenant;

/// A `Bearer …` header value from a simulated tenant's token endpoint (any client id and secret).
pub async fn bearer(http: &reqwest::Client, sim: &entra_backup_sim::SimServer) -> String {
    let tok: serde_json::Value = http
        .post(format!("{}/{}/oauth2/v2.0/token", sim.url(), sim.tenant_id()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "test-app"),
            ("client_secret", "s3cret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    format!("Bearer {}", tok["access_token"].as_str().expect("a token"))
}

/// Fail (not skip) when the emulator environment is missing.
pub fn emulator_url(flag: &str, url_var: &str, what: &str) -> String {
    let missing = || {
        panic!(
            "{what} is not configured ({flag} is unset). These tests run against a real emulator: \
             run them through scripts/test, or `scripts/emulators start && source .ci-cache/emulators.env` first"
        )
    };
    if std::env::var(flag).ok().as_deref() != Some("1") {
        missing();
    }
    std::env::var(url_var).unwrap_or_else(|_| missing())
}
