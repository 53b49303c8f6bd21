//! What the benchmarks share: the simulated tenant in a process of its own (so that the peak RSS
//! measured is the benchmark's alone), and that peak RSS.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Peak resident memory of this process, in MB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A `entra-backup sim serve` child process, stopped when dropped.
pub struct Sim {
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
#[allow(dead_code)]
pub fn start_sim(users: usize, faults: f64) -> Sim {
    start_sim_with(users, users / 5, users * 10, faults)
}

/// A simulated tenant of this shape, with Graph's throttling on and 20 ms of latency.
pub fn start_sim_with(users: usize, groups: usize, memberships: usize, faults: f64) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_entra-backup"))
        .args(["sim", "serve", "--addr", "127.0.0.1:0", "--seed", "42", "--latency-ms", "20", "--throttle", "on"])
        .args(["--users", &users.to_string(), "--groups", &groups.to_string()])
        .args(["--memberships", &memberships.to_string(), "--faults", &faults.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the simulated tenant");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").expect("the simulator's first line").to_string();
    Sim { child, url }
}
