//! The repository commands through the real binary, against a simulated tenant, on every storage
//! backend: a local folder (as a path and as file:///), Azure Blob (Azurite) and S3 (moto). One
//! scenario (init, backup, churn, incremental backup, snapshots, ls, show, export, check, forget
//! and prune) runs on each; the Azure and S3 cases fail (never skip) without the emulators that
//! `scripts/emulators start` provides. Then restore, and trace logs that never show a secret. The
//! refusals (bad input, damaged and foreign repositories) are in `repo_cli_refusals`, which shares
//! the helpers here.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use entra_backup_sim::{SimConfig, SimServer};
use serde_json::{Value, json};

use common::emulator_url;
use common::files::fingerprint;
use common::sim_tenant::ServedTenant as Tenant;
use common::sim_tenant::assert_equal_to_ground_truth;
use entra_backup_test_support as common;

pub(super) const PASSWORD: &str = "data-pass-Correct-Horse-7741";
pub(super) const SECRETS_PASSWORD: &str = "secrets-pass-Battery-Staple-9913";
pub(super) const CLIENT_ID: &str = "repo-cli-test-app";
pub(super) const CLIENT_SECRET: &str = "client-secret-Zq81-never-printed";

/// Environment variables the child must not inherit from whoever runs the tests.
pub(super) const SCRUBBED: &[&str] = &[
    "ENTRA_BACKUP_PASSWORD",
    "ENTRA_BACKUP_SECRETS_PASSWORD",
    "ENTRA_BACKUP_REPOSITORY",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_AUTHORITY_HOST",
];

/// What one run of the binary did.
#[derive(Debug)]
pub(super) struct Out {
    pub(super) code: i32,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

impl Out {
    pub(super) fn ok(self, what: &str) -> Out {
        assert_eq!(self.code, 0, "{what}: exit {}\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr);
        self
    }

    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }

    /// A refusal: the documented exit `code`, nothing on stdout, exactly one `error:` line on stderr.
    /// Returns the line.
    pub(super) fn refused(&self, what: &str, code: i32) -> &str {
        self.failed(what, code);
        assert!(self.stdout.is_empty(), "{what}: nothing on stdout, got:\n{}", self.stdout);
        self.stderr.trim_end()
    }

    /// A failure that may have reported on stdout first (check lists what it found).
    /// The exit codes are documented in docs/reliability.md (and `entra-backup-cli/src/exit.rs`).
    pub(super) fn failed(&self, what: &str, code: i32) {
        assert_ne!(self.code, 0, "{what}: must fail\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        assert_eq!(self.code, code, "{what}: exit code {code}: {self:?}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{what}: exactly one line on stderr, got:\n{}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{what}: {}", self.stderr);
        assert!(lines[0].len() > "error: ".len() + 10, "{what}: a message that says something: {}", self.stderr);
    }
}

/// The binary, set up for one simulated tenant and one repository.
pub(super) struct Cli {
    graph_url: String,
    tenant_id: String,
    password: Option<String>,
    secrets_password: Option<String>,
    /// Strings no output may contain: passphrases, the client secret, BitLocker keys.
    secrets: Vec<String>,
    bitlocker_keys: Vec<String>,
}

impl Cli {
    pub(super) fn new(sim: &SimServer) -> Cli {
        let bitlocker_keys: Vec<String> = sim
            .tenant()
            .objects("bitlockerRecoveryKeys")
            .filter_map(|o| o.json.get("key").and_then(Value::as_str).map(String::from))
            .collect();
        Cli {
            graph_url: sim.url().to_string(),
            tenant_id: sim.tenant_id(),
            password: Some(PASSWORD.into()),
            secrets_password: Some(SECRETS_PASSWORD.into()),
            secrets: vec![PASSWORD.into(), SECRETS_PASSWORD.into(), CLIENT_SECRET.into()],
            bitlocker_keys,
        }
    }

    /// No tenant behind it: for commands that never reach Graph.
    pub(super) fn offline() -> Cli {
        Cli {
            graph_url: "http://127.0.0.1:9".into(),
            tenant_id: "00000000-0000-0000-0000-000000000000".into(),
            password: None,
            secrets_password: None,
            secrets: vec![PASSWORD.into(), SECRETS_PASSWORD.into(), CLIENT_SECRET.into()],
            bitlocker_keys: vec![],
        }
    }

    pub(super) fn with_password(&self, password: Option<&str>, secrets_password: Option<&str>) -> Cli {
        let mut secrets = self.secrets.clone();
        secrets.extend(password.into_iter().chain(secrets_password).map(String::from));
        Cli {
            graph_url: self.graph_url.clone(),
            tenant_id: self.tenant_id.clone(),
            password: password.map(String::from),
            secrets_password: secrets_password.map(String::from),
            secrets,
            bitlocker_keys: self.bitlocker_keys.clone(),
        }
    }

    pub(super) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_entra-backup"));
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        cmd.env("AZURE_TENANT_ID", &self.tenant_id)
            .env("AZURE_CLIENT_ID", CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
            .env("RUST_BACKTRACE", "0")
            .args(args);
        if let Some(p) = &self.password {
            cmd.env("ENTRA_BACKUP_PASSWORD", p);
        }
        if let Some(p) = &self.secrets_password {
            cmd.env("ENTRA_BACKUP_SECRETS_PASSWORD", p);
        }
        if matches!(args.first(), Some(&"backup" | &"restore")) || args.contains(&"--live") {
            cmd.args(["--graph-url", &self.graph_url, "--authority-url", &self.graph_url]);
        }
        cmd
    }

    /// Run; no output may hold a passphrase, the client secret, a BitLocker key, or a panic.
    pub(super) fn run(&self, args: &[&str]) -> Out {
        let out = self.run_revealing(args);
        for key in &self.bitlocker_keys {
            assert!(
                !out.stdout.contains(key) && !out.stderr.contains(key),
                "{args:?} printed a BitLocker key: {out:?}"
            );
        }
        out
    }

    /// Run a command that may print BitLocker keys (`show` with the secrets key).
    pub(super) fn run_revealing(&self, args: &[&str]) -> Out {
        let out = self.command(args).output().unwrap_or_else(|e| panic!("running {args:?}: {e}"));
        let out = Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        };
        assert!(!out.stderr.contains("panicked") && !out.stdout.contains("panicked"), "{args:?}: {out:?}");
        for s in &self.secrets {
            assert!(
                !out.stdout.contains(s.as_str()) && !out.stderr.contains(s.as_str()),
                "{args:?} printed {s:?}: {out:?}"
            );
        }
        out
    }
}

/// A simulated tenant served to the binary, with the credentials the CLI is given.
pub(super) fn start_tenant(seed: u64, users: usize, groups: usize) -> Tenant {
    Tenant::start(SimConfig {
        seed,
        users,
        groups,
        throttle: false,
        credentials: Some((CLIENT_ID.into(), CLIENT_SECRET.into())),
        ..SimConfig::default()
    })
}

/// A name no other run (or earlier run against the same emulator) uses.
pub(super) fn unique(name: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("repo-cli-{name}-{}-{nanos}", std::process::id())
}

pub(super) fn ids(sim: &SimServer, category: &str) -> BTreeSet<String> {
    sim.tenant().objects(category).map(|o| o.id().to_string()).collect()
}

/// The whole life of a repository through the binary. `urls` all name the same (new, empty)
/// repository; the commands take them in turn, so every spelling is exercised.
pub(super) fn scenario(urls: &[String], seed: u64) {
    let t0 = std::time::Instant::now();
    let tenant = start_tenant(seed, 120, 20);
    let sim = tenant.sim();
    let cli = Cli::new(sim);
    assert!(!cli.bitlocker_keys.is_empty(), "the simulated tenant holds BitLocker keys");
    let mut turn = 0;
    let mut url = || {
        turn += 1;
        urls[turn % urls.len()].clone()
    };
    let at = urls.join(" = ");

    let out = cli.run(&["init", "--repo", &url(), "--kdf-memory-mib", "8", "--kdf-iterations", "1"]).ok("init");
    assert!(out.stdout.starts_with("created encrypted repository "), "{at}: {}", out.stdout);

    // The first backup reads everything.
    let first = cli.run(&["backup", "--repo", &url(), "--json"]).ok("first backup").json();
    let first_id = first["snapshotId"].as_str().unwrap().to_string();
    assert_eq!(first["snapshot"]["parent"], Value::Null, "{at}");
    assert!(first["snapshot"].get("failed").is_none(), "{at}: {}", first["snapshot"]["failed"]);
    let cats = first["snapshot"]["categories"].as_object().unwrap();
    assert!(cats.len() > 30, "{at}: {} categories", cats.len());
    assert!(cats.values().all(|c| c["read"] == "full"), "{at}: {cats:?}");
    assert_eq!(cats["users"]["objects"], json!(sim.tenant().count("users")), "{at}");

    // The tenant changes: churn, and one change of our own to look for.
    let churn = sim.churn(0.02, seed);
    assert!(churn.objects_touched > 0);
    let patched = ids(sim, "users").into_iter().find(|id| !churn.category("users").removed_ids.contains(id)).unwrap();
    let title = format!("Changed by repo_cli {seed}");
    sim.tenant_mut().patch("users", &patched, json!({ "jobTitle": title }).as_object().unwrap()).unwrap();

    // The second backup is incremental: users by delta, from the first snapshot.
    let second = cli.run(&["backup", "--repo", &url(), "--json", "--tag", "second"]).ok("second backup").json();
    let second_id = second["snapshotId"].as_str().unwrap().to_string();
    assert_ne!(second_id, first_id);
    assert_eq!(second["snapshot"]["parent"], json!(first_id), "{at}");
    let users = &second["snapshot"]["categories"]["users"];
    assert_eq!(users["read"], "delta", "{at}: {users}");
    assert_eq!(users["objects"], json!(sim.tenant().count("users")), "{at}");
    assert!(users["changed"].as_u64().unwrap() >= 1, "{at}: {users}");
    assert!(second["snapshot"].get("failed").is_none(), "{at}: {}", second["snapshot"]["failed"]);

    // snapshots: both, oldest first, the second's parent the first.
    let list = cli.run(&["snapshots", "--repo", &url(), "--json"]).ok("snapshots --json").json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{at}: {list:?}");
    assert_eq!((&list[0]["id"], &list[1]["id"]), (&json!(first_id), &json!(second_id)), "{at}");
    assert_eq!(list[0]["parent"], Value::Null);
    assert_eq!(list[1]["parent"], json!(first_id));
    assert_eq!(list[1]["tags"], json!(["second"]));
    assert_eq!(list[1]["tenant"]["id"], json!(sim.tenant_id()));
    let text = cli.run(&["snapshots", "--repo", &url()]).ok("snapshots").stdout;
    assert_eq!(text.lines().last(), Some("2 snapshots"), "{at}: {text}");
    assert!(text.contains(&first_id[..12]) && text.contains(&second_id[..12]), "{text}");

    // ls: the categories of the latest snapshot, then the users in it.
    let text = cli.run(&["ls", "--repo", &url(), "latest"]).ok("ls latest").stdout;
    assert!(text.starts_with(&format!("snapshot {} of {}", &second_id[..12], sim.tenant_id())), "{at}: {text}");
    let row: Vec<&str> = text.lines().find(|l| l.starts_with("users ")).unwrap().split_whitespace().collect();
    assert_eq!(row[1..3], [sim.tenant().count("users").to_string().as_str(), "delta"], "{at}: {text}");
    let rows = cli.run(&["ls", "--repo", &url(), "latest", "--category", "users", "--json"]).ok("ls users").json();
    let listed: BTreeSet<String> =
        rows.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed, ids(sim, "users"), "{at}: ls lists exactly the tenant's users");
    let old = cli.run(&["ls", "--repo", &url(), &first_id[..8], "--category", "users", "--json"]).ok("ls first").json();
    assert_eq!(
        old.as_array().unwrap().len(),
        first["snapshot"]["categories"]["users"]["objects"].as_u64().unwrap() as usize
    );

    // show: the change is in the latest snapshot and not in the first.
    let user = cli.run(&["show", "--repo", &url(), "latest", "users", &patched]).ok("show user").json();
    assert_eq!(user["jobTitle"], json!(title), "{at}");
    let before = cli.run(&["show", "--repo", &url(), &first_id, "users", &patched]).ok("show old user").json();
    assert_ne!(before["jobTitle"], json!(title), "{at}: the first snapshot keeps the tenant as it was");

    // show a BitLocker key: with the secrets passphrase its key, without it a note and no key.
    let (key_id, key) = {
        let t = sim.tenant();
        let o = t.objects("bitlockerRecoveryKeys").next().unwrap();
        (o.id().to_string(), o.json["key"].as_str().unwrap().to_string())
    };
    let args = ["show", "--repo", &url(), "latest", "bitlockerRecoveryKeys", &key_id];
    let shown = cli.run_revealing(&args).ok("show key with secrets");
    assert_eq!(shown.json()["key"], json!(key), "{at}");
    assert!(shown.stderr.is_empty(), "{at}: {}", shown.stderr);
    let locked = cli.with_password(Some(PASSWORD), None);
    let hidden = locked.run(&args).ok("show key without secrets");
    let hidden_json = hidden.json();
    assert!(hidden_json.get("key").is_none(), "{at}: {hidden_json}");
    assert_eq!(hidden_json["id"], json!(key_id));
    assert!(hidden.stderr.starts_with("note: key hidden"), "{at}: {}", hidden.stderr);
    assert_eq!(hidden.stderr.lines().count(), 1, "{at}: {}", hidden.stderr);

    // export: exactly the tenant, with secrets; without the secrets key, exactly it less the keys.
    let out_dir = tempfile::tempdir().unwrap();
    let text = cli.run(&["export", "--repo", &url(), "latest", "--out", out_dir.path().to_str().unwrap()]).ok("export");
    assert!(text.stdout.starts_with(&format!("snapshot {} exported to ", &second_id[..12])), "{}", text.stdout);
    let checked = assert_equal_to_ground_truth(sim, out_dir.path(), true);
    assert!(checked > 500, "{at}: {checked} objects checked");
    let out_dir = tempfile::tempdir().unwrap();
    let text = locked
        .run(&["export", "--repo", &url(), "latest", "--out", out_dir.path().to_str().unwrap()])
        .ok("export without secrets");
    assert!(text.stdout.contains("secrets left out"), "{}", text.stdout);
    assert_equal_to_ground_truth(sim, out_dir.path(), false);

    // check reads every pack.
    let report = cli.run(&["check", "--repo", &url(), "--read-data", "100", "--json"]).ok("check").json();
    assert_eq!(report["snapshots"], 2, "{at}: {report}");
    assert_eq!(report["packsRead"], report["packs"], "{at}: {report}");
    assert!(report["errors"].as_array().unwrap().is_empty(), "{at}: {report}");

    // forget the first snapshot and prune: one left, intact, still exactly the tenant.
    let text =
        cli.run(&["forget", "--repo", &url(), "--keep-last", "1", "--prune", "--grace", "0"]).ok("forget").stdout;
    assert!(text.contains("1 kept, 1 removed"), "{at}: {text}");
    let list = cli.run(&["snapshots", "--repo", &url(), "--json"]).ok("snapshots after forget").json();
    let left: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(left, [second_id.as_str()], "{at}");
    let out = cli.run(&["check", "--repo", &url(), "--read-data", "100"]).ok("check after prune");
    assert!(!out.stdout.contains("error"), "{at}: {}", out.stdout);
    let err = cli.run(&["ls", "--repo", &url(), &first_id, "--category", "users"]);
    assert!(err.refused("ls of a forgotten snapshot", 3).contains(&format!("no snapshot {first_id}")), "{err:?}");
    let out_dir = tempfile::tempdir().unwrap();
    cli.run(&["export", "--repo", &url(), &second_id, "--out", out_dir.path().to_str().unwrap()]).ok("export after");
    assert_equal_to_ground_truth(sim, out_dir.path(), true);
    eprintln!("{at}: scenario in {:.1} s", t0.elapsed().as_secs_f64());
}

#[test]
pub(super) fn local_folder_as_a_path_and_as_a_file_url() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let url = url::Url::from_directory_path(&repo).unwrap().to_string();
    assert!(url.starts_with("file:///"), "{url}");
    scenario(&[repo.to_str().unwrap().to_string(), url], 21);
    // The layout docs/repository-format.md describes.
    let files = fingerprint(&repo);
    for top in ["config", "keys", "secrets-keys", "data", "index", "snapshots"] {
        assert!(files.contains_key(Path::new(top)), "{top} missing: {:?}", files.keys().collect::<Vec<_>>());
    }
    let config: Value = serde_json::from_slice(files[Path::new("config")].bytes().unwrap()).unwrap();
    assert_eq!(config["version"], 2);
    assert_eq!(files.keys().filter(|p| p.starts_with("snapshots") && p != &Path::new("snapshots")).count(), 1);
}

#[test]
pub(super) fn azure_blob_on_azurite() {
    let base = emulator_url("ENTRA_BACKUP_TEST_AZURE", "ENTRA_BACKUP_TEST_AZURE_URL", "Azurite");
    assert!(base.starts_with("az://"), "{base}");
    // A fresh container, created as scripts/emulators creates the test one (object_store cannot).
    let endpoint = std::env::var("AZURITE_BLOB_STORAGE_URL").expect("AZURITE_BLOB_STORAGE_URL (scripts/emulators)");
    let container: String = unique("az").chars().take(63).collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../ci/azurite_create_container.py");
    let created = Command::new("python3").args([script, &container, &endpoint]).output().unwrap();
    assert!(created.status.success(), "creating container {container}: {created:?}");
    scenario(&[format!("az://{container}/backups/tenant-a")], 22);
}

#[test]
pub(super) fn s3_on_moto() {
    let base = emulator_url("ENTRA_BACKUP_TEST_S3", "ENTRA_BACKUP_TEST_S3_URL", "moto (S3)");
    assert!(base.starts_with("s3://"), "{base}");
    scenario(&[format!("{base}/{}/tenant-a", unique("s3"))], 23);
}

/// A local repository with one snapshot of a small tenant.
pub(super) fn small_repository(seed: u64) -> (Tenant, tempfile::TempDir, String) {
    let tenant = start_tenant(seed, 30, 6);
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo").to_str().unwrap().to_string();
    let cli = Cli::new(tenant.sim());
    cli.run(&["init", "--repo", &repo, "--kdf-memory-mib", "8", "--kdf-iterations", "1"]).ok("init");
    cli.run(&["backup", "--repo", &repo]).ok("backup");
    (tenant, dir, repo)
}

#[test]
fn restore_plans_with_dry_run_restores_one_attribute_or_everything_and_refuses_bad_input() {
    let (tenant, _dir, repo) = small_repository(61);
    let sim = tenant.sim();
    let cli = Cli::new(sim);
    let (gone, changed) = {
        let t = sim.tenant();
        let mut cloud =
            t.objects("users").filter(|u| u.json["onPremisesSyncEnabled"] != true).map(|u| u.id().to_string());
        (cloud.next().unwrap(), cloud.next().unwrap())
    };
    let now = sim.state().clock.now();
    sim.tenant_mut().soft_delete("users", &gone, now).unwrap();
    let damage = json!({"department": "Wrecked", "jobTitle": "Intern"});
    sim.tenant_mut().patch("users", &changed, damage.as_object().unwrap()).unwrap();

    // The dry run plans both and writes nothing.
    let plan = cli
        .run(&["restore", "--repo", &repo, "latest", "--category", "users", "--dry-run", "--json"])
        .ok("dry run")
        .json();
    assert_eq!(plan["summary"]["writes"], 0, "{plan}");
    let planned: Vec<(&str, &str)> = plan["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o["action"].as_str().unwrap_or_default()))
        .collect();
    assert!(planned.contains(&(gone.as_str(), "recycleBin")), "{planned:?}");
    assert!(planned.contains(&(changed.as_str(), "patch")), "{planned:?}");
    assert!(sim.tenant().get("users", &gone).is_none(), "a dry run wrote");

    // One attribute of one user.
    let out = cli
        .run(&["restore", "--repo", &repo, "latest", "--id", &changed, "--attributes", "department"])
        .ok("one attribute");
    assert!(out.stdout.contains("attributes: department"), "{}", out.stdout);
    let now_user = sim.tenant().get("users", &changed).unwrap().json.clone();
    assert_ne!(now_user["department"], "Wrecked");
    assert_eq!(now_user["jobTitle"], "Intern", "only department");

    // Everything; then nothing differs in users and a second run writes nothing.
    let out = cli.run(&["restore", "--repo", &repo, "latest", "--json"]).ok("restore").json();
    assert_eq!(out["summary"]["failed"], 0, "{out}");
    assert!(sim.tenant().get("users", &gone).is_some(), "the user is back");
    let diff =
        cli.run(&["diff", "--repo", &repo, "latest", "--live", "--category", "users", "--json"]).ok("diff").json();
    assert_eq!(diff["differences"], json!([]), "{diff}");
    let again = cli.run(&["restore", "--repo", &repo, "latest", "--json"]).ok("again").json();
    assert_eq!(again["summary"]["writes"], 0, "{again}");

    // Bad input: one line, non-zero.
    let err = cli.run(&["restore", "--repo", &repo, "ffffffff"]);
    assert!(err.refused("unknown snapshot", 3).contains("no snapshot"), "{err:?}");
    let err = cli.run(&["restore", "--repo", &repo, "latest", "--category", "nosuch"]);
    assert!(err.refused("unknown category", 2).contains("unknown category 'nosuch'"), "{err:?}");
    let err = cli.run(&["restore", "--repo", &repo, "latest", "--id", &changed, "--attributes", "jobtitle"]);
    assert!(err.refused("attribute typo", 2).contains("did you mean 'jobTitle'"), "{err:?}");
    // A line break in an id stays escaped: one line, nothing forged.
    let err = cli.run(&["restore", "--repo", &repo, "latest", "--id", "x\nerror: forged"]);
    assert!(err.refused("id with a line break", 2).contains(r"'x\nerror: forged'"), "{err:?}");
    let err = cli.run(&["show", "--repo", &repo, "latest", "users", "x\nerror: forged"]);
    assert!(err.refused("show: id with a line break", 2).contains(r"'x\nerror: forged'"), "{err:?}");
}

#[test]
fn trace_logs_show_the_work_and_never_a_secret() {
    let (tenant, _dir, repo) = small_repository(41);
    let cli = Cli::new(tenant.sim());
    // RUST_LOG at trace for every crate (HTTP, TLS, storage too) and -vvv: the noisiest run there is.
    for (how, args, rust_log) in [
        ("RUST_LOG=trace", vec!["backup", "--repo", repo.as_str(), "--full"], Some("trace")),
        ("-vvv", vec!["backup", "--repo", repo.as_str(), "-vvv"], None),
        ("trace show", vec!["show", "--repo", repo.as_str(), "latest", "organization", "x"], Some("trace")),
    ] {
        let mut cmd = cli.command(&args);
        if let Some(level) = rust_log {
            cmd.env("RUST_LOG", level);
        }
        let out = cmd.output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if args[0] == "backup" {
            assert!(stderr.lines().count() > 20, "{how}: logs on stderr, got:\n{stderr}");
        }
        for secret in cli.secrets.iter().chain(&cli.bitlocker_keys) {
            assert!(!stderr.contains(secret.as_str()) && !stdout.contains(secret.as_str()), "{how} logged {secret}");
        }
        // Tokens: the simulator's are JWTs (`eyJ...`), sent as `Bearer ...`.
        for marker in ["Bearer ", "eyJ", "client_secret", "access_token\":\""] {
            assert!(!stderr.contains(marker), "{how}: `{marker}` in the logs:\n{}", excerpt(&stderr, marker));
        }
    }
    // Without -v or RUST_LOG only warnings and errors reach stderr.
    let quiet = cli.run(&["snapshots", "--repo", &repo]).ok("quiet snapshots");
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

fn excerpt(text: &str, marker: &str) -> String {
    let at = text.find(marker).unwrap_or(0);
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[start..].lines().next().unwrap_or_default().chars().take(300).collect()
}
