//! The repository commands refusing what they must: a wrong passphrase, a missing repository,
//! an unknown URL scheme, a repository of a newer format, a truncated pack, `init` over an existing
//! repository, a plaintext repository opened without `--plaintext`, and errors as JSON. Each gives
//! one `error:` line and a documented exit code, prints no secret and changes nothing already stored.
//! The other half of `repo_cli` (the shared helpers live there).

use std::path::Path;

use serde_json::{Value, json};

use common::files::{assert_unchanged, fingerprint};
use common::sim_tenant::assert_equal_to_ground_truth;
use entra_backup_test_support as common;

use super::repo_cli::*;

#[test]
fn a_wrong_passphrase_is_refused_by_every_command_and_changes_nothing() {
    let (tenant, _dir, repo) = small_repository(31);
    let cli = Cli::new(tenant.sim());
    let before = fingerprint(Path::new(&repo));
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("export");
    let out = out.to_str().unwrap();
    let key_id = tenant.sim().tenant().objects("bitlockerRecoveryKeys").next().unwrap().id().to_string();
    let wrong = cli.with_password(Some("Wrong-Passphrase-5521"), Some(SECRETS_PASSWORD));
    for args in [
        &["snapshots", "--repo", &repo][..],
        &["ls", "--repo", &repo, "latest"],
        &["show", "--repo", &repo, "latest", "bitlockerRecoveryKeys", &key_id],
        &["export", "--repo", &repo, "latest", "--out", out],
        &["check", "--repo", &repo, "--read-data", "100"],
        &["backup", "--repo", &repo],
        &["forget", "--repo", &repo, "--keep-last", "0", "--prune", "--grace", "0"],
        &["prune", "--repo", &repo, "--grace", "0"],
    ] {
        let line = wrong.run(args).refused(&format!("{args:?}"), 4).to_string();
        assert!(line.starts_with("error: wrong passphrase or key for the repository at file:///"), "{args:?}: {line}");
        assert_unchanged(Path::new(&repo), &before, &format!("{args:?}"));
    }
    assert!(!Path::new(out).exists(), "export wrote nothing");

    // A wrong secrets passphrase: show refuses rather than hiding the key.
    let wrong_secrets = cli.with_password(Some(PASSWORD), Some("Wrong-Secrets-Passphrase-8830"));
    let args = ["show", "--repo", &repo, "latest", "bitlockerRecoveryKeys", &key_id];
    let line = wrong_secrets.run(&args).refused("wrong secrets passphrase", 4).to_string();
    assert!(line.contains("wrong") && line.contains("secrets"), "{line}");
    // No passphrase at all: says how to give one.
    let none = cli.with_password(None, None);
    let line = none.run(&["snapshots", "--repo", &repo]).refused("no passphrase", 2).to_string();
    assert!(line.contains("ENTRA_BACKUP_PASSWORD"), "{line}");
    assert_unchanged(Path::new(&repo), &before, "secrets passphrase");
    // And the right one still opens it.
    let list = cli.run(&["snapshots", "--repo", &repo, "--json"]).ok("snapshots").json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn a_missing_repository_and_an_unknown_scheme_are_clear_errors_that_create_nothing() {
    let cli = Cli::offline().with_password(Some(PASSWORD), Some(SECRETS_PASSWORD));
    for url in ["ftp://x", "ftp://host/backups"] {
        let line = cli.run(&["snapshots", "--repo", url]).refused(url, 2).to_string();
        assert!(line.starts_with("error: unknown repository URL scheme `ftp://`"), "{line}");
        for scheme in ["file://", "s3://", "az://"] {
            assert!(line.contains(scheme), "the message lists {scheme}: {line}");
        }
    }
    let line = cli.run(&["init", "--repo", "ftp://x"]).refused("init ftp", 2).to_string();
    assert!(line.contains("unknown repository URL scheme"), "{line}");

    // A mistyped path: one clear line from every command, and no folder left behind.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut created = Vec::new();
    for (i, command) in ["snapshots", "ls", "check", "export", "forget", "prune"].into_iter().enumerate() {
        let top = dir.path().join(format!("nonexistent-{i}"));
        let missing = top.join("repo");
        let path = missing.to_str().unwrap().to_string();
        // The file:/// spelling of the same kind of path, every other time.
        let repo = if i % 2 == 0 { path } else { url::Url::from_file_path(&missing).unwrap().to_string() };
        let args: Vec<&str> = match command {
            "ls" => vec!["ls", "--repo", &repo, "latest"],
            "export" => vec!["export", "--repo", &repo, "latest", "--out", out.to_str().unwrap()],
            "forget" => vec!["forget", "--repo", &repo, "--keep-last", "1"],
            _ => vec![command, "--repo", &repo],
        };
        let line = cli.run(&args).refused(&format!("{args:?}"), 3).to_string();
        assert!(line.starts_with("error: there is no repository at file:///"), "{args:?}: {line}");
        assert!(line.contains("create one with `entra-backup init`"), "{line}");
        if top.exists() {
            created.push(format!("`{command}` created {}", missing.display()));
        }
    }
    assert!(!out.exists(), "export wrote nothing");
    assert!(created.is_empty(), "commands on a missing repository must not create it:\n{}", created.join("\n"));
}

#[test]
fn a_newer_format_and_init_over_an_existing_repository_are_refused_and_change_nothing() {
    let (tenant, _dir, repo) = small_repository(32);
    let cli = Cli::new(tenant.sim());
    let root = Path::new(&repo);

    // init over it: refused, whatever the passphrases; no second key file appears.
    let before = fingerprint(root);
    for who in [
        cli.with_password(Some(PASSWORD), Some(SECRETS_PASSWORD)),
        cli.with_password(Some("other-pw-1"), Some("other-pw-2")),
    ] {
        let line = who
            .run(&["init", "--repo", &repo, "--kdf-memory-mib", "8", "--kdf-iterations", "1"])
            .refused("re-init", 2)
            .to_string();
        assert!(line.contains("already holds a repository"), "{line}");
        assert_unchanged(root, &before, "init over a repository");
    }
    let line = cli
        .with_password(None, None)
        .run(&["init", "--repo", &repo, "--plaintext"])
        .refused("re-init plaintext", 2)
        .to_string();
    assert!(line.contains("already holds a repository"), "{line}");
    assert_unchanged(root, &before, "init --plaintext over a repository");

    // A config of format version 3: every command says to upgrade, and nothing changes.
    let config_path = root.join("config");
    let original = std::fs::read(&config_path).unwrap();
    let mut config: Value = serde_json::from_slice(&original).unwrap();
    assert_eq!(config["version"], 2);
    config["version"] = json!(3);
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    let before = fingerprint(root);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("x");
    for args in [
        &["snapshots", "--repo", &repo][..],
        &["ls", "--repo", &repo, "latest"],
        &["check", "--repo", &repo, "--read-data", "100"],
        &["export", "--repo", &repo, "latest", "--out", out.to_str().unwrap()],
        &["backup", "--repo", &repo],
        &["forget", "--repo", &repo, "--keep-last", "0", "--prune", "--grace", "0"],
        &["prune", "--repo", &repo, "--grace", "0"],
    ] {
        let line = cli.run(args).refused(&format!("{args:?}"), 2).to_string();
        assert!(line.contains("format version 3") && line.contains("upgrade entra-backup"), "{args:?}: {line}");
        assert_unchanged(root, &before, &format!("{args:?}"));
    }
    let line = cli.run(&["init", "--repo", &repo]).refused("init over a newer format", 2).to_string();
    assert!(line.contains("already holds a repository"), "{line}");
    assert_unchanged(root, &before, "init over a newer format");

    // Back to version 1, it opens again.
    std::fs::write(&config_path, &original).unwrap();
    cli.run(&["check", "--repo", &repo, "--read-data", "100"]).ok("check after restoring the config");
}

#[test]
fn a_truncated_pack_is_named_by_check_and_fails_export_cleanly() {
    let (tenant, _dir, repo) = small_repository(33);
    let cli = Cli::new(tenant.sim());
    let root = Path::new(&repo);
    cli.run(&["check", "--repo", &repo, "--read-data", "100"]).ok("check before");

    // The biggest pack (objects): every blob in it is needed by the only snapshot.
    let files = fingerprint(root);
    let (pack, original) = files
        .iter()
        .filter(|(p, _)| p.starts_with("data"))
        .filter_map(|(p, b)| Some((p.clone(), b.bytes()?.to_vec())))
        .max_by_key(|(_, bytes)| bytes.len())
        .expect("a pack");
    let pack_name = pack.to_str().unwrap().to_string();
    let pack_id = pack.file_name().unwrap().to_str().unwrap().to_string();
    // A pack ends with its encrypted header and the header's length (4 bytes, little-endian).
    let len = original.len();
    let header = u32::from_le_bytes(original[len - 4..].try_into().unwrap()) as usize;
    assert!(header + 4 < len, "{pack_name}: header of {header} bytes in {len}");
    let blobs_end = len - 4 - header;

    // Cut by 3 bytes (the header length goes), then into the last blob (3 bytes of it go).
    for (cut_to, what) in [(len - 3, "the trailer"), (blobs_end - 3, "the last blob")] {
        let what = format!("{pack_name} cut by {} bytes, into {what}", len - cut_to);
        std::fs::write(root.join(&pack), &original[..cut_to]).unwrap();
        let before = fingerprint(root);

        let out = cli.run(&["check", "--repo", &repo, "--read-data", "100"]);
        out.failed(&format!("check: {what}"), 1);
        assert!(out.stdout.contains(&format!("error: {pack_name}: ")), "{what}: check names the pack: {out:?}");
        assert!(out.stderr.contains("damaged"), "{what}: {out:?}");
        let report = cli.run(&["check", "--repo", &repo, "--read-data", "100", "--json"]);
        report.failed(&format!("check --json: {what}"), 1);
        let errors = report.json()["errors"].as_array().unwrap().clone();
        assert_eq!(errors.len(), 1, "{what}: one damaged pack, one error: {errors:?}");
        assert!(errors[0].as_str().unwrap().starts_with(&format!("{pack_name}: ")), "{what}: {errors:?}");
        assert_unchanged(root, &before, &format!("check: {what}"));

        // Export either fails with one line naming the pack, or (when every blob it reads is
        // intact and authenticated) writes exactly the tenant: never damaged data.
        let out_dir = tempfile::tempdir().unwrap();
        let out = cli.run(&["export", "--repo", &repo, "latest", "--out", out_dir.path().to_str().unwrap()]);
        if cut_to < blobs_end || out.code != 0 {
            let line = out.refused(&format!("export: {what}"), 3);
            assert!(line.contains(&pack_id), "{what}: the message names the pack: {line}");
        } else {
            assert_equal_to_ground_truth(tenant.sim(), out_dir.path(), true);
        }
        assert_unchanged(root, &before, &format!("export: {what}"));
    }
}

#[test]
fn a_plaintext_repository_is_created_on_request_and_opened_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("plain").to_str().unwrap().to_string();
    let root = Path::new(&repo);
    let base = Cli::offline();
    // --plaintext with a passphrase at hand is ambiguous: refused, nothing written.
    let line = base
        .with_password(Some(PASSWORD), None)
        .run(&["init", "--repo", &repo, "--plaintext"])
        .refused("plaintext with a passphrase", 2)
        .to_string();
    assert!(line.contains("--plaintext and a passphrase"), "{line}");
    assert!(!root.exists(), "a refused init leaves no folder behind");

    let out = base.run(&["init", "--repo", &repo, "--plaintext"]).ok("init --plaintext");
    assert!(out.stdout.starts_with("created PLAINTEXT (unencrypted) repository"), "{}", out.stdout);
    let files = fingerprint(root);
    assert!(files.keys().all(|p| p == Path::new("config")), "only a config: {:?}", files.keys().collect::<Vec<_>>());
    let config: Value = serde_json::from_slice(files[Path::new("config")].bytes().unwrap()).unwrap();
    assert_eq!(config["encryption"], "none", "{config}");
    let list = base.run(&["snapshots", "--repo", &repo, "--plaintext", "--json"]).ok("snapshots --plaintext").json();
    assert_eq!(list, json!([]));
    base.run(&["check", "--repo", &repo, "--plaintext"]).ok("check --plaintext");

    // Without --plaintext: refused, with or without a passphrase at hand, and nothing changes.
    let before = fingerprint(root);
    let with_pw = base.with_password(Some(PASSWORD), Some(SECRETS_PASSWORD));
    for args in [&["snapshots", "--repo", &repo][..], &["check", "--repo", &repo], &["ls", "--repo", &repo, "latest"]] {
        let line = with_pw.run(args).refused(&format!("{args:?}"), 2).to_string();
        assert!(line.contains("is a plaintext repository") && line.contains("--plaintext"), "{args:?}: {line}");
        let line = base.run(args).refused(&format!("{args:?}"), 2).to_string();
        assert!(line.contains("--plaintext"), "{args:?}: {line}");
        assert_unchanged(root, &before, &format!("{args:?}"));
    }
}

#[test]
fn json_commands_report_errors_as_json_with_the_exit_code() {
    let (_tenant, _dir, repo) = small_repository(43);
    let cli = Cli::offline().with_password(Some(PASSWORD), Some(SECRETS_PASSWORD));
    let out = cli.run(&["ls", "--repo", &repo, "ffffffff", "--json"]);
    assert_eq!(out.code, 3, "{out:?}");
    let doc = out.json();
    assert_eq!(doc["error"]["exitCode"], 3, "{doc}");
    assert_eq!(doc["error"]["kind"], "repository", "{doc}");
    assert!(doc["error"]["message"].as_str().unwrap().contains("no snapshot ffffffff"), "{doc}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    // clap's own errors: one line, code 2.
    let out = cli.run(&["ls", "--repo", &repo, "--no-such-flag"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(out.stderr.starts_with("error: "), "{out:?}");
}
