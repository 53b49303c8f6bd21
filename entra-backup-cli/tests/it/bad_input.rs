//! The bad-input matrix: every command of the binary, run with wrong, missing, empty, huge,
//! malformed and hostile values (the cases are data, in `bad_input/cases.rs`). Each case must
//! give exactly one line on stderr, starting `error: ` and free of control characters; the exit
//! code its kind has in the documented table; no panic; no secret (passphrases, the client secret,
//! BitLocker keys, raw keys, credentials in URLs) in any output; and leave its scratch folder (a
//! copy of a repository with two snapshots, plus whatever the case planted) byte for byte as it
//! was, and the simulated tenant unchanged.
//!
//! Cases in `KNOWN_OPEN` are bugs being fixed on other branches; they are skipped so that this
//! branch stays green, and run with `BAD_INPUT_ALL=1`, which also says which of them now pass.
//! `BAD_INPUT_ONLY=text` runs only the cases whose name contains `text`.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use entra_backup_sim::SimConfig;
use serde_json::Value;

use common::files::{changes, fingerprint};
use common::sim_tenant::ServedTenant;
use entra_backup_test_support as common;

#[path = "bad_input/cases.rs"]
mod cases;

pub(crate) const PASSWORD: &str = "bad-input-data-pass-Ochre-3318";
pub(crate) const SECRETS_PASSWORD: &str = "bad-input-secrets-pass-Umber-7720";
pub(crate) const CLIENT_ID: &str = "bad-input-test-app";
pub(crate) const CLIENT_SECRET: &str = "bad-input-client-secret-Kx93-never-printed";

/// Longest a case may run: a backstop that turns a hang into a failure, far above any real run.
const HANG: Duration = Duration::from_secs(300);

/// The exit codes the CLI documents (entra-backup-cli/src/exit.rs, docs/reliability.md).
// The whole table, although no bad input ends in `Failures`.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// The command ran, and some objects or categories failed.
    Failures = 1,
    /// Usage or bad input: clap's errors, unknown names, values out of range, missing passphrase.
    Usage = 2,
    /// The repository or its storage: missing, unreadable, damaged, no such snapshot.
    Repository = 3,
    /// Wrong passphrase or key for the repository or its secrets key.
    RepositoryKey = 4,
    /// Graph, the identity platform or the network refused or failed.
    Graph = 5,
    /// Another process holds the repository.
    Locked = 6,
}

/// One bad input: a command line, its environment, and what it must say.
pub(crate) struct Case {
    /// `command/what`, unique; `KNOWN_OPEN` names cases by it.
    pub name: String,
    /// Arguments; `{repo}`, `{dir}`, `{graph}` and `{busy}` stand for the case's repository copy,
    /// its scratch folder (also the working directory), the simulated tenant's URL and an address
    /// something already listens on.
    pub args: Vec<OsString>,
    /// Variables set (`Some`) or removed (`None`) over the default environment.
    pub env: Vec<(&'static str, Option<OsString>)>,
    pub exit: Exit,
    /// Text the error line must contain.
    pub says: Vec<String>,
    /// The command may print on stdout before it fails (`demo` does).
    pub stdout_allowed: bool,
    /// More strings no output may contain (a wrong passphrase, a password in a URL).
    pub secrets: Vec<String>,
    pub setup: Option<Setup>,
}

/// Prepares a case's scratch folder (the repository copy is in `repo/`) before it is fingerprinted.
pub(crate) type Setup = Box<dyn Fn(&Path)>;

/// A case of `args` (placeholders allowed) that must exit with `exit`.
pub(crate) fn case(name: &str, exit: Exit, args: &[&str]) -> Case {
    Case {
        name: name.to_string(),
        args: args.iter().map(OsString::from).collect(),
        env: Vec::new(),
        exit,
        says: Vec::new(),
        stdout_allowed: false,
        secrets: Vec::new(),
        setup: None,
    }
}

impl Case {
    pub(crate) fn says(mut self, text: &str) -> Self {
        self.says.push(text.to_string());
        self
    }

    pub(crate) fn env(mut self, var: &'static str, value: impl Into<OsString>) -> Self {
        self.env.push((var, Some(value.into())));
        self
    }

    pub(crate) fn unset(mut self, var: &'static str) -> Self {
        self.env.push((var, None));
        self
    }

    pub(crate) fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Against the simulated tenant: Graph and the identity platform at `{graph}`.
    pub(crate) fn live(self) -> Self {
        self.arg("--graph-url").arg("{graph}").arg("--authority-url").arg("{graph}")
    }

    pub(crate) fn secret(mut self, text: &str) -> Self {
        self.secrets.push(text.to_string());
        self
    }

    pub(crate) fn stdout_allowed(mut self) -> Self {
        self.stdout_allowed = true;
        self
    }

    pub(crate) fn setup(mut self, f: impl Fn(&Path) + 'static) -> Self {
        self.setup = Some(Box::new(f));
        self
    }
}

/// A repository of the simulated tenant with two snapshots, and what the cases need to know of it.
pub(crate) struct Fixture {
    pub tenant: ServedTenant,
    _dir: tempfile::TempDir,
    /// The pristine repository; each case runs on a copy.
    pub repo: PathBuf,
    /// Snapshot ids, oldest first.
    pub snapshots: Vec<String>,
    /// A user in the latest snapshot.
    pub user: String,
    /// A BitLocker recovery key object in the latest snapshot.
    pub bitlocker: String,
    /// Strings no output may contain.
    pub secrets: Vec<String>,
    /// A port held open, so that a `sim serve` that wrongly accepts its arguments fails to listen
    /// instead of serving forever.
    busy: std::net::TcpListener,
}

impl Fixture {
    fn build() -> Fixture {
        let tenant = ServedTenant::start(SimConfig {
            seed: 4242,
            users: 30,
            groups: 6,
            throttle: false,
            credentials: Some((CLIENT_ID.into(), CLIENT_SECRET.into())),
            ..SimConfig::default()
        });
        let sim = tenant.sim();
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let graph = sim.url().to_string();
        let at = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            let out = run(&args, &[], dir.path(), &[], &sim.tenant_id());
            assert_eq!(out.code, Some(0), "{args:?}: {out:?}");
            out.stdout
        };
        let r = repo.to_str().unwrap();
        at(&["init", "--repo", r, "--kdf-memory-mib", "8", "--kdf-iterations", "1"]);
        at(&["backup", "--repo", r, "--graph-url", &graph, "--authority-url", &graph]);
        sim.churn(0.05, 7);
        at(&["backup", "--repo", r, "--graph-url", &graph, "--authority-url", &graph, "--tag", "second"]);
        let list: Value = serde_json::from_str(&at(&["snapshots", "--repo", r, "--json"])).unwrap();
        let snapshots: Vec<String> =
            list.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
        assert_eq!(snapshots.len(), 2);
        let t = sim.tenant();
        let user = t.objects("users").next().unwrap().id().to_string();
        let keys: Vec<String> = t
            .objects("bitlockerRecoveryKeys")
            .filter_map(|o| o.json.get("key").and_then(Value::as_str).map(String::from))
            .collect();
        assert!(!keys.is_empty(), "the simulated tenant holds BitLocker keys");
        let bitlocker = t.objects("bitlockerRecoveryKeys").next().unwrap().id().to_string();
        drop(t);
        let mut secrets = vec![PASSWORD.to_string(), SECRETS_PASSWORD.to_string(), CLIENT_SECRET.to_string()];
        secrets.extend(keys);
        let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        Fixture { tenant, _dir: dir, repo, snapshots, user, bitlocker, secrets, busy }
    }

    /// Everything that changes when the simulated tenant is written to.
    fn tenant_state(&self) -> (u64, usize, usize) {
        let t = self.tenant.sim().tenant();
        (t.seq(), t.total_objects(), t.deleted_items().count())
    }
}

/// What one run of the binary did.
#[derive(Debug)]
struct Out {
    /// `None`: killed by a signal, or by the hang backstop.
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run the binary in `cwd` with a clean environment: the tenant's credentials and both
/// passphrases, then `env` over them.
fn run(
    args: &[OsString],
    env: &[(&str, Option<OsString>)],
    cwd: &Path,
    places: &[(&str, String)],
    tenant: &str,
) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_entra-backup"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .env("TMPDIR", std::env::temp_dir())
        .env("RUST_BACKTRACE", "1")
        .env("AZURE_TENANT_ID", tenant)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
        .env("ENTRA_BACKUP_PASSWORD", PASSWORD)
        .env("ENTRA_BACKUP_SECRETS_PASSWORD", SECRETS_PASSWORD)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let dir = cwd.to_str().unwrap();
    let fill = |a: &OsString| -> OsString {
        match a.to_str() {
            Some(s) => {
                let s = s.replace("{repo}", &format!("{dir}/repo")).replace("{dir}", dir);
                places.iter().fold(s, |s, (from, to)| s.replace(from, to)).into()
            }
            None => a.clone(),
        }
    };
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, fill(v)),
            None => cmd.env_remove(k),
        };
    }
    let args: Vec<OsString> = args.iter().map(fill).collect();
    cmd.args(&args);
    let child = cmd.spawn().unwrap_or_else(|e| panic!("running {args:?}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(HANG) {
        Ok(out) => {
            let out = out.unwrap();
            Out {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into(),
                stderr: String::from_utf8_lossy(&out.stderr).into(),
            }
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            Out { code: None, stdout: String::new(), stderr: format!("blocked: no exit within {} s", HANG.as_secs()) }
        }
    }
}

/// Copy a folder tree (files and folders only).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Run one case on a fresh copy of the repository; returns what it got wrong.
fn check_case(fx: &Fixture, case: &Case) -> Vec<String> {
    let scratch = tempfile::tempdir().unwrap();
    copy_tree(&fx.repo, &scratch.path().join("repo"));
    if let Some(setup) = &case.setup {
        setup(scratch.path());
    }
    let before = fingerprint(scratch.path());
    let tenant_before = fx.tenant_state();
    let sim = fx.tenant.sim();
    let places = [("{graph}", sim.url().to_string()), ("{busy}", fx.busy.local_addr().unwrap().to_string())];
    let out = run(&case.args, &case.env, scratch.path(), &places, &sim.tenant_id());
    let mut wrong = Vec::new();
    let mut fail = |what: String| wrong.push(what);

    if out.code != Some(case.exit as i32) {
        fail(format!("exit {:?}, expected {} ({:?})", out.code, case.exit as i32, case.exit));
    }
    let text = format!("{}{}", out.stdout, out.stderr);
    for marker in ["panicked at", "stack backtrace", "RUST_BACKTRACE"] {
        if text.contains(marker) {
            fail(format!("a panic reached the user (`{marker}`)"));
        }
    }
    for s in fx.secrets.iter().chain(&case.secrets) {
        if text.contains(s.as_str()) {
            fail(format!("a secret was printed: {}…", s.chars().take(6).collect::<String>()));
        }
    }
    let line = out.stderr.strip_suffix('\n').unwrap_or(&out.stderr);
    if line.contains('\n') || !line.starts_with("error: ") {
        fail("stderr is not exactly one `error: ` line".into());
    } else if line.chars().any(char::is_control) {
        fail("the error line holds control characters".into());
    } else if line.len() < "error: ".len() + 10 {
        fail("the error line says nothing".into());
    } else if line.chars().count() > 1100 {
        fail(format!("the error line is {} characters long", line.chars().count()));
    }
    for s in &case.says {
        if !line.contains(s.as_str()) {
            fail(format!("the error line does not say `{s}`"));
        }
    }
    // With --json the error is also a JSON document on stdout, with the same code.
    if case.args.iter().any(|a| a == "--json") {
        let doc: Option<Value> = serde_json::from_str(&out.stdout).ok();
        let code = doc.as_ref().map(|d| &d["error"]["exitCode"]);
        if code != Some(&Value::from(case.exit as i32)) {
            fail("--json: stdout is not the error as JSON with its exit code".into());
        }
    } else if !case.stdout_allowed && !out.stdout.is_empty() {
        fail("printed on stdout".into());
    }
    let changed = changes(&before, &fingerprint(scratch.path()));
    if !changed.is_empty() {
        let more = if changed.len() > 5 { format!(" and {} more", changed.len() - 5) } else { String::new() };
        fail(format!("files changed: {}{more}", changed[..changed.len().min(5)].join(", ")));
    }
    if fx.tenant_state() != tenant_before {
        fail("the simulated tenant changed".into());
    }
    if !wrong.is_empty() {
        let args: Vec<String> = case.args.iter().map(|a| short(&format!("{a:?}"))).collect();
        wrong.push(format!(
            "args: {}\n  stdout: {}\n  stderr: {}",
            args.join(" "),
            short(&out.stdout),
            short(&out.stderr)
        ));
    }
    wrong
}

/// At most 300 characters of `text`, escaped, for failure reports.
fn short(text: &str) -> String {
    let all = format!("{text:?}");
    if all.chars().count() <= 300 { all } else { format!("{}…", all.chars().take(300).collect::<String>()) }
}

/// Every command and subcommand `--help` lists, as argument paths (`["sim", "serve"]`).
fn commands(prefix: &[&str]) -> Vec<Vec<String>> {
    let mut args: Vec<&str> = prefix.to_vec();
    args.push("--help");
    let out = Command::new(env!("CARGO_BIN_EXE_entra-backup")).args(&args).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|n| n != "help")
        .collect();
    let mut all = Vec::new();
    for name in names {
        let path: Vec<&str> = prefix.iter().copied().chain([name.as_str()]).collect();
        let sub = commands(&path);
        if sub.is_empty() {
            all.push(path.iter().map(|s| s.to_string()).collect());
        }
        all.extend(sub);
    }
    all
}

#[test]
fn every_command_refuses_bad_input_with_one_line_and_changes_nothing() {
    let fx = Fixture::build();
    let all = cases::cases(&fx);
    let run_known_open = std::env::var_os("BAD_INPUT_ALL").is_some_and(|v| v == OsStr::new("1"));
    // BAD_INPUT_ONLY=text runs only the cases whose name contains it.
    let only = std::env::var("BAD_INPUT_ONLY").unwrap_or_default();

    let mut names = std::collections::BTreeSet::new();
    for c in &all {
        assert!(names.insert(c.name.as_str()), "two cases named {}", c.name);
    }
    for (name, _) in cases::KNOWN_OPEN {
        assert!(names.contains(name), "KNOWN_OPEN names {name}, which is no case");
    }
    // A command without a case is a command nobody tried to break.
    let uncovered: Vec<String> = commands(&[])
        .into_iter()
        .filter(|path| {
            !all.iter().any(|c| c.args.len() >= path.len() && c.args.iter().zip(path).all(|(a, p)| a == p.as_str()))
        })
        .map(|p| p.join(" "))
        .collect();
    assert!(uncovered.is_empty(), "commands without a bad-input case: {}", uncovered.join(", "));

    // A control for diff/id-in-neither-snapshot: an object both snapshots hold is no error, and
    // only it is counted.
    let args: Vec<OsString> = ["diff", "--repo", fx.repo.to_str().unwrap(), "latest", "latest", "--id", &fx.user]
        .iter()
        .map(OsString::from)
        .collect();
    let out = run(&args, &[], fx.repo.parent().unwrap(), &[], &fx.tenant.sim().tenant_id());
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout.lines().last(), Some("0 added, 0 removed, 0 changed, 1 unchanged"), "{out:?}");

    let mut failures = Vec::new();
    let mut fixed = Vec::new();
    let (mut run, mut skipped) = (0, 0);
    for c in all.iter().filter(|c| c.name.contains(only.as_str())) {
        let known = cases::KNOWN_OPEN.iter().any(|(n, _)| *n == c.name);
        if known && !run_known_open {
            skipped += 1;
            continue;
        }
        run += 1;
        let wrong = check_case(&fx, c);
        if wrong.is_empty() && known {
            fixed.push(c.name.clone());
        } else if !wrong.is_empty() {
            failures.push(format!("{}:\n  {}", c.name, wrong.join("\n  ")));
        }
    }
    eprintln!("{} cases: {run} run, {skipped} known open skipped", all.len());
    if !fixed.is_empty() {
        eprintln!("known open cases that pass now (remove them from KNOWN_OPEN): {}", fixed.join(", "));
    }
    assert!(failures.is_empty(), "{} of {run} cases failed:\n{}", failures.len(), failures.join("\n"));
}
