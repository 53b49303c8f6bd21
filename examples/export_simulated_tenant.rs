//! Export a tenant with the library: here a simulated one, started in-process.
//!
//! Run: `cargo run -p entra-backup-core --example export_simulated_tenant -- OUT_DIR`
//! For a real tenant, build `Credentials::from_env()` and `Endpoints::default()` instead.

use entra_backup::Secret;
use entra_backup::catalog;
use entra_backup::graph::auth::{ClientAuth, Credentials};
use entra_backup::pipeline::{self, Progress};
use entra_backup::source::{Endpoints, GraphSource, SourceOptions};
use entra_backup_sim::{SimConfig, SimServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "export".into());
    let sim = SimServer::start(SimConfig { users: 500, groups: 80, ..SimConfig::default() }).await?;

    // Any client id and secret get a token from the simulated identity platform.
    let credentials = Credentials {
        tenant_id: sim.tenant_id(),
        client_id: "example-app".into(),
        auth: ClientAuth::Secret(Secret::new("example-secret")),
        authority_host: None,
    };
    let endpoints = Endpoints { graph_url: Some(sim.url().into()), authority_url: Some(sim.url().into()) };
    let source = GraphSource::connect(&credentials, &endpoints, SourceOptions::default())?;

    let scope = catalog::resolve(&["users", "groups", "conditionalAccessPolicies", "namedLocations"])?;
    let progress = Progress::new(&scope);
    let summary = pipeline::export(&source, out.as_ref(), &progress).await?;
    for c in &summary.categories {
        println!("{:<28} {:>6} objects {:>7} links {:>4} requests", c.category, c.objects, c.relationships, c.requests);
    }
    println!("written to {out}/<category>/<id>.json");
    sim.shutdown().await;
    Ok(())
}
