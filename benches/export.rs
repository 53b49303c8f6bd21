//! Export benchmark: read a simulated tenant through Graph with throttling on and 20 ms of latency,
//! and compare with the best Graph's published limits allow.
//!
//! Run: `cargo bench -p entra-backup-cli --bench export` (sizes: `-- 10000,50000`;
//! add `--faults 0.01` for injected faults). The simulated tenant runs in its own process, so the
//! peak RSS printed is the exporter's alone.
//!
//! Printed per size: objects; HTTP requests and Graph requests (those inside `$batch` counted one by
//! one); the minimum possible requests (every listing at its largest page plus every relationship
//! page); throttled responses; wall time; the throttling floor (the time Microsoft's published limits
//! allow for the units spent, family by family, the slowest family deciding); peak RSS.

#[path = "support.rs"]
mod support;
use support::{peak_rss_mb, start_sim};

use std::collections::HashMap;
use std::time::Instant;

use entra_backup::Secret;
use entra_backup::catalog::{self, ThrottleFamily};
use entra_backup::graph::auth::{ClientAuth, Credentials};
use entra_backup::graph::pacing::{identity_quota, published_limit};
use entra_backup::pipeline::{self, Progress};
use entra_backup::source::{Endpoints, GraphSource, SourceOptions};
use serde_json::Value;

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn bench(users: usize, faults: f64) {
    let sim = start_sim(users, faults);
    let summary = get(&format!("{}/_sim/summary", sim.url)).await;
    let pages = get(&format!("{}/_sim/pages", sim.url)).await;
    let tenant = summary["tenantId"].as_str().unwrap().to_string();
    let creds = Credentials {
        tenant_id: tenant,
        client_id: "bench".into(),
        auth: ClientAuth::Secret(Secret::new("bench")),
        authority_host: None,
    };
    let endpoints = Endpoints { graph_url: Some(sim.url.clone()), authority_url: Some(sim.url.clone()) };
    let source = GraphSource::connect(&creds, &endpoints, SourceOptions::default()).unwrap();
    let cats: Vec<_> = catalog::all().iter().collect();
    let progress = Progress::new(&cats);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let result = pipeline::export(&source, dir.path(), &progress).await.unwrap();
    let wall = started.elapsed().as_secs_f64();

    let minimum: u64 = pages
        .as_object()
        .unwrap()
        .values()
        .map(|p| p["listPages"].as_u64().unwrap() + p["relationshipPages"].as_u64().unwrap())
        .sum::<u64>()
        + 1; // the /users/$count that sizes the identity budget
    let mut units: HashMap<ThrottleFamily, u64> = HashMap::new();
    let (mut http, mut batched, mut envelopes) = (0u64, 0u64, 0u64);
    for c in &result.categories {
        let family = catalog::get(c.category).unwrap().throttle;
        *units.entry(family).or_default() += c.resource_units;
        http += c.requests;
        batched += c.batched;
        envelopes += c.batches;
    }
    let graph_requests = http - envelopes + batched;
    let quota = identity_quota(users);
    let mut floor = 0.0f64;
    let mut floors = Vec::new();
    for (family, spent) in &units {
        if let Some((n, secs)) = published_limit(*family, quota) {
            let f = *spent as f64 / (n / secs);
            floors.push(format!("{family:?} {spent} units = {f:.1} s"));
            floor = floor.max(f);
        }
    }
    floors.sort();
    println!("\n== {users} users, {} groups, throttling on, 20 ms latency, faults {faults}", users / 5);
    println!("objects                {}", result.objects);
    println!("links and children     {}", result.relationships);
    println!("HTTP requests          {http}  ({envelopes} of them $batch envelopes carrying {batched} reads)");
    println!("Graph requests         {graph_requests}");
    println!("minimum possible       {minimum}  (every list at its largest page + every relationship page)");
    println!(
        "requests / minimum     HTTP {:.3}, Graph {:.3}",
        http as f64 / minimum as f64,
        graph_requests as f64 / minimum as f64
    );
    println!("throttled responses    {}", result.throttled);
    println!("failed categories      {}", result.failed_categories);
    println!("wall time              {wall:.1} s");
    println!("throttling floor       {floor:.1} s  ({})", floors.join("; "));
    println!("wall / floor           {:.3}", wall / floor.max(0.001));
    println!("peak RSS (exporter)    {:.0} MB", peak_rss_mb());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut sizes = vec![10_000usize, 50_000];
    let mut faults = 0.0;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--faults" {
            faults = it.next().and_then(|f| f.parse().ok()).expect("--faults RATE");
        } else if let Ok(list) = a.split(',').map(str::parse).collect::<Result<Vec<usize>, _>>() {
            sizes = list;
        }
    }
    entra_backup::init_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    // Smaller first: peak RSS only grows, so each size's figure is its own.
    for users in sizes {
        rt.block_on(bench(users, faults));
    }
}
