//! Restore at tenant scale through several app registrations: `--writes N` users brought back from
//! the recycle bin (one write each) through `--apps A` apps, against the simulated tenant (its own
//! process) with Graph's throttling on and 20 ms of latency.
//!
//! Run: `cargo bench -p entra-backup-cli --bench restore_apps -- --writes 500000 --apps 3
//! --time-scale 20` (defaults: 500,000 writes, 3 apps, time scale 1).
//!
//! Microsoft's identity write limits are 3,000 writes per 150 s per app and tenant and 18,000 per
//! 5 min per tenant ("Identity and access service limits" in Microsoft Graph's throttling limits):
//! one app writes 20 a second, three apps 60, the tenant's limit. 500,000 writes take at least
//! 139 minutes. `--time-scale K` multiplies every published rate by K in the simulator
//! (`sim serve --time-scale K`) and in the library's pacing
//! (`Connection::with_time_scale_for_simulator`): each window is K times shorter, each quota the
//! same, so the run is the real one K times faster and takes minutes. The simulator needs about
//! 35 KB per user: the tenant has `--writes` × 1.3 users (its synced users are not deleted).
//!
//! Printed: writes and requests, 429s (the simulator's count, per app), the restore's wall time
//! against the floor (writes / the tenant-wide rate, scaled; and the same less the apps' first
//! burst), their ratio (target <= 1.3), and the restore's peak RSS (target <= 400 MB; the peak is
//! reset after the backup that precedes it).

#[path = "support.rs"]
mod support;
use support::{Sim, flags, peak_rss_mb, temp_repository};

use std::time::Instant;

use entra_backup::Secret;
use entra_backup::api::{self, Connection, RestoreRequest};
use entra_backup::catalog;
use entra_backup::graph::auth::{ClientAuth, Credentials};
use entra_backup::pipeline::{self, Progress};
use entra_backup::restore::Outcome;
use entra_backup::sink::BackupOptions;
use entra_backup::source::SourceOptions;
use serde_json::Value;

struct Args {
    writes: usize,
    apps: usize,
    time_scale: f64,
}

fn args() -> Args {
    let usage = "--writes N --apps N --time-scale K";
    let mut a = Args { writes: 500_000, apps: 3, time_scale: 1.0 };
    for (flag, value) in flags(usage) {
        match flag.as_str() {
            "--writes" => a.writes = value.parse().expect("--writes N"),
            "--apps" => a.apps = value.parse().expect("--apps N"),
            "--time-scale" => a.time_scale = value.parse().expect("--time-scale K"),
            other => panic!("unknown argument {other}; use {usage}"),
        }
    }
    assert!(a.apps >= 1 && a.time_scale > 0.0, "use {usage} with N >= 1 and K > 0");
    a
}

fn start_sim(users: usize, time_scale: f64) -> Sim {
    let groups = (users / 50).max(10);
    support::start_sim_shaped(users, groups, users, &["--time-scale", &time_scale.to_string()])
}

/// Forget the peak so far (Linux: `5` to `clear_refs` resets VmHWM), so that the restore's own is measured.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn run(a: Args) {
    entra_backup::init_crypto();
    let users = a.writes * 13 / 10 + 100;
    let started = Instant::now();
    let sim = start_sim(users, a.time_scale);
    let http = reqwest::Client::new();
    let summary: Value = http.get(format!("{}/_sim/summary", sim.url)).send().await.unwrap().json().await.unwrap();
    let tenant = summary["tenantId"].as_str().unwrap().to_string();
    println!(
        "== restore {} users from the recycle bin through {} apps; tenant of {users} users; throttling and write \
         quotas on at time scale {}, 20 ms latency (simulator up in {:.0} s)",
        a.writes,
        a.apps,
        a.time_scale,
        started.elapsed().as_secs_f64()
    );
    let app = |i: usize| Credentials {
        tenant_id: tenant.clone(),
        client_id: format!("bench-app-{}", i + 1),
        auth: ClientAuth::Secret(Secret::new("bench")),
        authority_host: None,
    };
    let connection = (1..a.apps)
        .fold(Connection::from(app(0)), |c, i| c.with_extra_app(app(i)))
        .with_graph_url(sim.url.clone())
        .with_authority(sim.url.clone())
        .with_time_scale_for_simulator(a.time_scale);

    let (_repo_dir, repo) = temp_repository().await;
    let scope = vec![catalog::get("users").unwrap()];
    let source = connection.source(SourceOptions::default()).unwrap();
    let t = Instant::now();
    let backup =
        pipeline::backup(&source, &repo, BackupOptions::new(tenant.clone()), &Progress::new(&scope)).await.unwrap();
    println!("backup of the users: {:.1} s", t.elapsed().as_secs_f64());
    drop(source);

    // The damage, done inside the simulator so that it spends none of the write quota.
    let url = format!("{}/_sim/delete?category=users&count={}&hard=false", sim.url, a.writes);
    let v: Value = http.post(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["deleted"].as_array().map_or(0, Vec::len), a.writes, "the tenant is too small");
    drop(v);
    let before: Value = http.get(format!("{}/_sim/apps", sim.url)).send().await.unwrap().json().await.unwrap();

    reset_peak_rss();
    let request = RestoreRequest::default().categories(scope);
    let t = Instant::now();
    let report = api::restore(&connection, repo, &backup.snapshot_id, &request).await.unwrap();
    let wall = t.elapsed().as_secs_f64();
    let rss = peak_rss_mb();
    assert!(
        !report.failed(),
        "{:#?}",
        report.objects.iter().filter(|o| o.outcome == Outcome::Failed).take(5).collect::<Vec<_>>()
    );
    let restored = report.objects.iter().filter(|o| o.outcome == Outcome::Restored).count();

    let after: Value = http.get(format!("{}/_sim/apps", sim.url)).send().await.unwrap().json().await.unwrap();
    let count = |v: &Value, app: &str, k: &str| v[app][k].as_u64().unwrap_or(0);
    let mut throttled = 0;
    let mut per_app = Vec::new();
    for i in 0..a.apps {
        let id = format!("bench-app-{}", i + 1);
        throttled += count(&after, &id, "throttled") - count(&before, &id, "throttled");
        per_app.push(count(&after, &id, "writes") - count(&before, &id, "writes"));
    }
    let s = &report.summary;
    // The floor: every write at the tenant-wide rate (60 a second), or the apps' own when fewer
    // than three (20 a second each); scaled.
    let rate = (20.0 * a.apps as f64).min(60.0) * a.time_scale;
    let floor = s.writes as f64 / rate;
    // The apps' buckets start full: the first 3,000 writes of each go at once (the tenant's 18,000).
    let burst = (3_000.0 * a.apps as f64).min(18_000.0);
    let floor_after_burst = (s.writes as f64 - burst).max(0.0) / rate;
    println!("restored: {restored} users; writes: {} ({per_app:?} per app); requests: {}", s.writes, s.requests);
    println!("429s: {throttled}");
    println!(
        "floor (writes / {:.0} writes a second): {floor:.1} s ({:.1} min unscaled); less the first burst: \
         {floor_after_burst:.1} s; wall time: {wall:.1} s",
        rate,
        floor * a.time_scale / 60.0
    );
    println!("peak RSS of the restore: {rss:.0} MB");
    println!(
        "targets: wall / floor = {:.2} (target <= 1.3): {}; wall / floor after burst = {:.2}; peak RSS {rss:.0} MB \
         (target <= 400): {}; 429s {throttled} (target 0)",
        wall / floor,
        if wall <= 1.3 * floor { "met" } else { "MISSED" },
        wall / floor_after_burst.max(f64::MIN_POSITIVE),
        if rss <= 400.0 { "met" } else { "MISSED" },
    );
}

fn main() {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(run(args()));
}
