//! What the benchmarks share: the simulated tenant in a process of its own (so that the peak RSS
//! measured is the benchmark's alone), and that peak RSS.

// Each benchmark uses a part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Peak resident memory of this process, in MB (Linux; 0 elsewhere).
pub(crate) fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A `entra-backup sim serve` child process, stopped when dropped.
pub(crate) struct Sim {
    child: std::process::Child,
    pub url: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A simulated tenant of `users` users, `users / 5` groups and ten memberships a user, with
/// Graph's throttling on and 20 ms of latency, and the share `faults` of requests failing.
pub(crate) fn start_sim(users: usize, faults: f64) -> Sim {
    start_sim_with(users, users / 5, users * 10, faults)
}

/// A simulated tenant of this shape, with Graph's throttling on and 20 ms of latency.
pub(crate) fn start_sim_with(users: usize, groups: usize, memberships: usize, faults: f64) -> Sim {
    start_sim_shaped(users, groups, memberships, &["--faults", &faults.to_string()])
}

/// The same, with more `sim serve` options (`--time-scale K`).
pub(crate) fn start_sim_shaped(users: usize, groups: usize, memberships: usize, more: &[&str]) -> Sim {
    let (users, groups, memberships) = (users.to_string(), groups.to_string(), memberships.to_string());
    let mut args = vec![
        "--latency-ms",
        "20",
        "--throttle",
        "on",
        "--users",
        &users,
        "--groups",
        &groups,
        "--memberships",
        &memberships,
    ];
    args.extend_from_slice(more);
    spawn_sim(std::path::Path::new(env!("CARGO_BIN_EXE_entra-backup")), &args)
}

/// `BIN sim serve` on a free loopback port with seed 42 and `args`, once it says where it listens.
pub(crate) fn spawn_sim(bin: &std::path::Path, args: &[&str]) -> Sim {
    let mut child = Command::new(bin)
        .args(["sim", "serve", "--addr", "127.0.0.1:0", "--seed", "42"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the simulated tenant");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").expect("the simulator's first line").to_string();
    Sim { child, url }
}

/// The simulated tenant as an app sees it: its id, credentials for it, and where it is.
pub(crate) struct Tenant {
    pub id: String,
    pub credentials: entra_backup::graph::auth::Credentials,
    pub endpoints: entra_backup::source::Endpoints,
}

/// Ask the simulator which tenant it serves.
pub(crate) async fn tenant_of(sim: &Sim) -> Tenant {
    use entra_backup::Secret;
    use entra_backup::graph::auth::{ClientAuth, Credentials};
    let summary: serde_json::Value =
        reqwest::get(format!("{}/_sim/summary", sim.url)).await.unwrap().json().await.unwrap();
    let id = summary["tenantId"].as_str().unwrap().to_string();
    let credentials = Credentials {
        tenant_id: id.clone(),
        client_id: "bench".into(),
        auth: ClientAuth::Secret(Secret::new("bench")),
        authority_host: None,
    };
    let endpoints =
        entra_backup::source::Endpoints { graph_url: Some(sim.url.clone()), authority_url: Some(sim.url.clone()) };
    Tenant { id, credentials, endpoints }
}

/// An encrypted repository in a temporary folder (a quick key derivation: the figures are not about it).
pub(crate) async fn temp_repository() -> (tempfile::TempDir, entra_backup::repo::Repository) {
    use entra_backup::Secret;
    use entra_backup::repo::{Access, Repository, backend, crypto::KdfParams};
    let dir = tempfile::tempdir().unwrap();
    let pass = |p: &str| Access::Passphrase(Secret::new(p));
    let repo = Repository::init(
        backend::open(dir.path().to_str().unwrap()).unwrap(),
        &pass("bench"),
        Some(&pass("bench secrets")),
        KdfParams::fast_for_tests(),
    )
    .await
    .unwrap();
    (dir, repo)
}

/// The benchmark's `--flag value` pairs (cargo's own `--bench` left out); `usage` is shown when a
/// flag has no value.
pub(crate) fn flags(usage: &str) -> Vec<(String, String)> {
    let argv: Vec<String> = std::env::args().skip(1).filter(|x| x != "--bench").collect();
    argv.chunks(2)
        .map(|pair| match pair {
            [flag, value] => (flag.clone(), value.clone()),
            [flag] => panic!("{flag} needs a value; use {usage}"),
            _ => unreachable!("chunks of two"),
        })
        .collect()
}
