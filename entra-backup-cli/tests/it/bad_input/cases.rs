//! The cases of the bad-input matrix, command by command. Scratch paths: `{repo}` is the copy of
//! the repository (two snapshots), `{dir}` the scratch folder it is in (the working directory).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use super::Exit::{Graph, Locked, Repository, RepositoryKey, Usage};
use super::{Case, Fixture, PASSWORD, case};

/// Cases that fail today because their bug is being fixed on another branch (owner and issue 12
/// item in the reason). Skipped so that this branch stays green; the lead empties the list as the
/// fixes merge (`BAD_INPUT_ALL=1` runs them and says which pass).
pub(super) const KNOWN_OPEN: &[(&str, &str)] = &[];

/// A file in the scratch folder, readable by its owner only (as a password file should be, so
/// that no warning about it adds a line to stderr).
fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn symlink(dir: &Path, target: &str, name: &str) {
    std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
}

/// A string that is not UTF-8.
fn not_utf8() -> OsString {
    OsString::from_vec(b"caf\xe9-\xff".to_vec())
}

pub(super) fn cases(fx: &Fixture) -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(usage());
    all.extend(sim_and_demo());
    all.extend(init());
    all.extend(opening());
    all.extend(snapshot_names(fx));
    all.extend(graph_commands(fx));
    all.extend(maintenance());
    all.extend(export());
    all.extend(every_repository_command(fx));
    all.extend(commands_on_other_branches(fx));
    all
}

/// Cases for the commands B (`forget SNAPSHOT...`, `repair`) and C (`key`) add on their branches:
/// in KNOWN_OPEN until those merge, so that the matrix covers them the day they do.
fn commands_on_other_branches(fx: &Fixture) -> Vec<Case> {
    const WRONG: &str = "Wrong-Passphrase-Ivory-5127";
    const NEW: &str = "New-Passphrase-Jade-8804";
    let first = fx.snapshots[0].as_str();
    let key = |name: &str, exit, args: &[&str]| {
        let args: Vec<&str> = ["key"].iter().chain(args).copied().collect();
        case(name, exit, &args).env("ENTRA_BACKUP_NEW_PASSWORD", NEW).secret(NEW)
    };
    let fast = ["--kdf-memory-mib", "8", "--kdf-iterations", "1"];
    let add: Vec<&str> = ["add", "--repo", "{repo}"].iter().chain(&fast).copied().collect();
    let passwd: Vec<&str> = ["passwd", "--repo", "{repo}"].iter().chain(&fast).copied().collect();
    vec![
        case("forget/unknown-snapshot-id", Repository, &["forget", "--repo", "{repo}", "ffffffff"]).says("no snapshot"),
        case("forget/snapshot-id-and-policy", Usage, &["forget", "--repo", "{repo}", first, "--keep-last", "1"])
            .says("not both"),
        case("repair-snapshots/wrong-passphrase", RepositoryKey, &["repair", "snapshots", "--repo", "{repo}"])
            .env("ENTRA_BACKUP_PASSWORD", WRONG)
            .secret(WRONG)
            .says("wrong passphrase"),
        case("repair-snapshots/json-missing-repository", Repository, &["repair", "snapshots", "--repo", "{dir}/x"])
            .arg("--json")
            .says("there is no repository"),
        case("repair-index/missing-repository", Repository, &["repair", "index", "--repo", "{dir}/nope"])
            .says("there is no repository"),
        case("repair-index/wrong-passphrase", RepositoryKey, &["repair", "index", "--repo", "{repo}", "--dry-run"])
            .env("ENTRA_BACKUP_PASSWORD", WRONG)
            .secret(WRONG)
            .says("wrong passphrase"),
        key("key-list/missing-repository", Repository, &["list", "--repo", "{dir}/nope"])
            .says("there is no repository"),
        key("key-list/json-missing-repository", Repository, &["list", "--repo", "{dir}/nope", "--json"])
            .says("there is no repository"),
        key("key-add/wrong-passphrase", RepositoryKey, &add)
            .env("ENTRA_BACKUP_PASSWORD", WRONG)
            .secret(WRONG)
            .says("wrong passphrase"),
        key("key-add/no-new-passphrase", Usage, &add)
            .unset("ENTRA_BACKUP_NEW_PASSWORD")
            .says("ENTRA_BACKUP_NEW_PASSWORD"),
        key("key-add/kdf-iterations-zero", Usage, &["add", "--repo", "{repo}", "--kdf-iterations", "0"])
            .says("iterations"),
        key("key-add/new-password-file-missing", Repository, &["add", "--repo", "{repo}"])
            .arg("--new-password-file")
            .arg("{dir}/nope")
            .unset("ENTRA_BACKUP_NEW_PASSWORD")
            .says("password file"),
        key("key-passwd/wrong-passphrase", RepositoryKey, &passwd)
            .env("ENTRA_BACKUP_PASSWORD", WRONG)
            .secret(WRONG)
            .says("wrong passphrase"),
        key("key-remove/unknown-id", Repository, &["remove", "--repo", "{repo}", "ffffffff"]).says("ffffffff"),
        key("key-remove/id-with-newline", Usage, &["remove", "--repo", "{repo}", "abcd\nforged line"]).says("abcd"),
    ]
}

/// The same mistakes made with each command that opens a repository, as text and as `--json`.
fn every_repository_command(fx: &Fixture) -> Vec<Case> {
    const WRONG: &str = "Wrong-Passphrase-Sienna-4471";
    // Two snapshot files sharing their first 4 hex digits, for an ambiguous prefix.
    let first = fx.snapshots[0].clone();
    let prefix = first[..4].to_string();
    let twin = format!("{prefix}{}", if first[4..].starts_with('0') { "f" } else { "0" }.repeat(60));
    let mut all = Vec::new();
    for (command, args) in [
        ("snapshots", &["snapshots"][..]),
        ("ls", &["ls", "{snap}"]),
        ("show", &["show", "{snap}", "users", fx.user.as_str()]),
        ("diff", &["diff", "{snap}", "latest"]),
        ("restore", &["restore", "{snap}", "--dry-run"]),
        ("check", &["check"]),
        ("forget", &["forget", "--keep-last", "1"]),
        ("prune", &["prune"]),
        ("export", &["export", "--out", "{dir}/out", "{snap}"]),
        ("backup", &["backup"]),
    ] {
        let at = |repo: &str, snap: &str| -> Vec<String> {
            let mut a: Vec<String> = args.iter().map(|a| a.replace("{snap}", snap)).collect();
            a.splice(1..1, ["--repo".to_string(), repo.to_string()]);
            if matches!(command, "backup" | "restore") {
                a.extend(["--graph-url", "{graph}", "--authority-url", "{graph}"].map(String::from));
            }
            a
        };
        let case_of =
            |name: String, exit, a: Vec<String>| case(&name, exit, &a.iter().map(String::as_str).collect::<Vec<_>>());
        let json = command != "show";
        for as_json in [false, true].into_iter().filter(|j| !j || json) {
            let (suffix, more) = if as_json { ("-json", vec!["--json".to_string()]) } else { ("", vec![]) };
            let with = |mut a: Vec<String>| {
                a.extend(more.clone());
                a
            };
            all.push(
                case_of(format!("{command}/wrong-passphrase{suffix}"), RepositoryKey, with(at("{repo}", "latest")))
                    .env("ENTRA_BACKUP_PASSWORD", WRONG)
                    .secret(WRONG)
                    .says("wrong passphrase"),
            );
            all.push(
                case_of(format!("{command}/missing-repository{suffix}"), Repository, with(at("{dir}/nope", "latest")))
                    .says("there is no repository"),
            );
        }
        if args.contains(&"{snap}") {
            let (first, twin) = (first.clone(), twin.clone());
            all.push(
                case_of(format!("{command}/ambiguous-snapshot-prefix"), Usage, at("{repo}", &prefix))
                    .setup(move |d| {
                        let snapshots = d.join("repo/snapshots");
                        std::fs::copy(snapshots.join(&first), snapshots.join(&twin)).unwrap();
                    })
                    .says("matches 2 snapshots"),
            );
        }
    }
    all
}

/// Command lines clap refuses, and commands that need no repository.
fn usage() -> Vec<Case> {
    vec![
        case("cli/unknown-command", Usage, &["frobnicate"]),
        case("cli/unknown-flag", Usage, &["snapshots", "--repo", "{repo}", "--frobnicate"]),
        case("cli/not-utf8-argument", Usage, &["snapshots", "--repo"]).arg(not_utf8()),
        case("categories/extra-argument", Usage, &["categories", "users"]),
        case("permissions/unknown-category", Usage, &["permissions", "--categories", "users,nope"])
            .says("unknown category 'nope'"),
        case("permissions/empty-category", Usage, &["permissions", "--categories", ""]).says("unknown category"),
        case("permissions/category-with-newline", Usage, &["permissions", "--categories", "users\nforged line"])
            .says("unknown category"),
        case("permissions/category-with-escape", Usage, &["permissions", "--categories", "\x1b[2J\x1b[31musers"])
            .says("unknown category"),
        case("permissions/huge-category", Usage, &["permissions", "--categories", &"x".repeat(100_000)])
            .says("unknown category"),
    ]
}

fn sim_and_demo() -> Vec<Case> {
    // Every case names an address already taken: one whose values pass fails to listen, not serves.
    let serve = |name: &str, more: &[&str]| {
        let args: Vec<&str> = ["sim", "serve", "--addr", "{busy}"].iter().chain(more).copied().collect();
        case(name, Usage, &args)
    };
    let addr = |name: &str, addr: &str| case(name, Usage, &["sim", "serve", "--addr", addr]);
    vec![
        addr("sim-serve/addr-garbage", "nonsense").says("nonsense"),
        addr("sim-serve/port-too-big", "127.0.0.1:65536"),
        addr("sim-serve/addr-with-newline", "127.0.0.1:80\nforged"),
        serve("sim-serve/addr-in-use", &[]).says("cannot listen"),
        serve("sim-serve/faults-above-one", &["--faults", "2"]),
        serve("sim-serve/faults-nan", &["--faults", "NaN"]),
        serve("sim-serve/faults-negative", &["--faults=-0.5"]),
        serve("sim-serve/throttle-maybe", &["--throttle", "maybe"]),
        serve("sim-serve/latency-negative", &["--latency-ms=-1"]),
        serve("sim-serve/latency-huge", &["--latency-ms", "18446744073709551615"]).says("--latency-ms"),
        serve("sim-serve/seed-negative", &["--seed=-1"]),
        serve("sim-serve/users-overflow", &["--users", "99999999999999999999999"]),
        serve("sim-serve/users-huge", &["--users", "4294967295"]).says("--users"),
        serve("sim-serve/groups-huge", &["--groups", "4294967295"]).says("--groups"),
        serve("sim-serve/memberships-huge", &["--memberships", "18446744073709551615"]).says("--memberships"),
        case("demo/users-huge", Usage, &["demo", "--users", "4294967295"]).says("--users"),
        // The demo never writes into a folder that holds a repository (or is a file).
        case("demo/repo-holds-a-repository", Usage, &["demo", "--users", "5", "--groups", "2", "--repo", "{repo}"])
            .says("already holds a repository")
            .stdout_allowed(),
        case("demo/repo-is-a-file", Repository, &["demo", "--users", "5", "--groups", "2", "--repo", "{dir}/file"])
            .setup(|d| write(d, "file", "not a folder"))
            .stdout_allowed(),
    ]
}

fn init() -> Vec<Case> {
    let fast = ["--kdf-memory-mib", "8", "--kdf-iterations", "1"];
    let init = |name: &str, exit, repo: &str, more: &[&str]| {
        let args: Vec<&str> = ["init", "--repo", repo].iter().chain(more).copied().collect();
        case(name, exit, &args)
    };
    vec![
        init("init/over-a-repository", Usage, "{repo}", &fast).says("already holds a repository"),
        init("init/over-a-repository-without-config", Usage, "{repo}", &fast)
            .setup(|d| std::fs::remove_file(d.join("repo/config")).unwrap()),
        init("init/into-a-folder-with-files", Usage, "{dir}/notes", &fast)
            .setup(|d| write(d, "notes/todo.txt", "someone's files")),
        init("init/through-a-symlink-to-a-repository", Usage, "{dir}/link", &fast)
            .setup(|d| symlink(d, "repo", "link"))
            .says("already holds a repository"),
        init("init/path-is-a-file", Repository, "{dir}/file", &fast).setup(|d| write(d, "file", "x")),
        init("init/path-under-a-file", Repository, "{dir}/file/repo", &fast).setup(|d| write(d, "file", "x")),
        init("init/empty-location", Usage, "", &fast).says("empty repository location"),
        init("init/unknown-scheme", Usage, "ftp://host/backups", &fast).says("unknown repository URL scheme"),
        init("init/http-scheme", Usage, "http://example.invalid/backups", &fast).says("unknown repository URL scheme"),
        init("init/s3-without-bucket", Usage, "s3:///prefix", &fast).says("bucket"),
        init("init/s3-credentials-in-url", Usage, "s3://AKIAEXAMPLE:url-secret-Vq71@/prefix", &fast)
            .secret("url-secret-Vq71"),
        init("init/ftp-credentials-in-url", Usage, "ftp://user:url-secret-Wd52@host/x", &fast)
            .secret("url-secret-Wd52"),
        init("init/kdf-iterations-zero", Usage, "{dir}/new", &["--kdf-iterations", "0"]).says("iterations"),
        init("init/kdf-iterations-huge", Usage, "{dir}/new", &["--kdf-iterations", "4294967295"]).says("iterations"),
        init("init/kdf-memory-zero", Usage, "{dir}/new", &["--kdf-memory-mib", "0"]).says("MiB"),
        init("init/kdf-memory-huge", Usage, "{dir}/new", &["--kdf-memory-mib", "4294967295", "--kdf-iterations", "1"])
            .says("MiB"),
        init("init/kdf-memory-negative", Usage, "{dir}/new", &["--kdf-memory-mib=-8"]),
        init("init/kdf-memory-overflow", Usage, "{dir}/new", &["--kdf-memory-mib", "4294967296"]),
        init("init/plaintext-with-a-passphrase", Usage, "{dir}/new", &["--plaintext"]).says("--plaintext"),
        init("init/no-passphrase", Usage, "{dir}/new", &fast)
            .unset("ENTRA_BACKUP_PASSWORD")
            .says("ENTRA_BACKUP_PASSWORD"),
        init("init/empty-passphrase", Usage, "{dir}/new", &fast).env("ENTRA_BACKUP_PASSWORD", ""),
        init("init/passphrase-not-utf8", Usage, "{dir}/new", &fast).env("ENTRA_BACKUP_PASSWORD", not_utf8()),
        init("init/password-file-and-variable", Usage, "{dir}/new", &["--password-file", "{dir}/pw"])
            .setup(|d| write(d, "pw", "from a file\n")),
        init("init/password-file-missing", Repository, "{dir}/new", &["--password-file", "{dir}/nope"])
            .unset("ENTRA_BACKUP_PASSWORD")
            .says("password file"),
        init("init/password-file-is-a-folder", Repository, "{dir}/new", &["--password-file", "{dir}"])
            .unset("ENTRA_BACKUP_PASSWORD")
            .says("password file"),
        init("init/password-file-empty", Usage, "{dir}/new", &["--password-file", "{dir}/pw"])
            .unset("ENTRA_BACKUP_PASSWORD")
            .setup(|d| write(d, "pw", ""))
            .says("password file"),
        init("init/password-file-dangling-symlink", Repository, "{dir}/new", &["--password-file", "{dir}/pw"])
            .unset("ENTRA_BACKUP_PASSWORD")
            .setup(|d| symlink(d, "gone", "pw"))
            .says("password file"),
        init("init/secrets-password-file-not-utf8", Usage, "{dir}/new", &["--secrets-password-file", "{dir}/spw"])
            .unset("ENTRA_BACKUP_SECRETS_PASSWORD")
            .setup(|d| write(d, "spw", b"\xff\xfe\n"))
            .says("password file"),
        init("init/key-file-garbage", Usage, "{dir}/new", &["--key-file", "{dir}/key"])
            .unset("ENTRA_BACKUP_PASSWORD")
            .setup(|d| write(d, "key", "not base64 at all\n"))
            .says("key file"),
        init(
            "init/key-file-and-password-file",
            Usage,
            "{dir}/new",
            &["--key-file", "{dir}/k", "--password-file", "{dir}/p"],
        ),
    ]
}

/// Opening a repository: where it is, how it is spelled, and the passphrase.
fn opening() -> Vec<Case> {
    let snapshots = |name: &str, exit, repo: &str| case(name, exit, &["snapshots", "--repo", repo]);
    let raw_key = "c2l4dHktdHdvIGJ5dGVzIG9mIGEgd3Jvbmcga2V5ISE=";
    vec![
        snapshots("snapshots/relative-missing-repository", Repository, "nope/repo").says("there is no repository"),
        snapshots("snapshots/path-is-a-file", Repository, "{dir}/file").setup(|d| write(d, "file", "x")),
        snapshots("snapshots/symlink-loop", Repository, "{dir}/loop").setup(|d| symlink(d, "loop", "loop")),
        snapshots("snapshots/dangling-symlink", Repository, "{dir}/link").setup(|d| symlink(d, "gone", "link")),
        snapshots("snapshots/empty-folder", Repository, "{dir}/empty")
            .setup(|d| std::fs::create_dir(d.join("empty")).unwrap())
            .says("no repository"),
        snapshots("snapshots/file-url-without-path", Usage, "file://"),
        snapshots("snapshots/file-url-with-host", Usage, "file://host/srv/backup").says("file://"),
        snapshots("snapshots/memory-url", Repository, "memory://"),
        snapshots("snapshots/gs-without-bucket", Usage, "gs://"),
        snapshots("snapshots/az-without-container", Usage, "az:///x"),
        case("snapshots/location-from-variable", Usage, &["snapshots"])
            .env("ENTRA_BACKUP_REPOSITORY", "ftp://user:url-secret-Zr18@host/")
            .secret("url-secret-Zr18"),
        case(
            "snapshots/wrong-passphrase-from-file",
            RepositoryKey,
            &["snapshots", "--repo", "{repo}", "--password-file", "{dir}/pw"],
        )
        .unset("ENTRA_BACKUP_PASSWORD")
        .setup(|d| write(d, "pw", "Wrong-Passphrase-Cobalt-1180\n"))
        .secret("Wrong-Passphrase-Cobalt-1180"),
        case("snapshots/passphrase-with-a-newline", RepositoryKey, &["snapshots", "--repo", "{repo}"])
            .env("ENTRA_BACKUP_PASSWORD", format!("Wrong-First-Line-0711\n{PASSWORD}"))
            .secret("Wrong-First-Line-0711"),
        case(
            "snapshots/huge-password-file",
            RepositoryKey,
            &["snapshots", "--repo", "{repo}", "--password-file", "{dir}/pw"],
        )
        .unset("ENTRA_BACKUP_PASSWORD")
        .setup(|d| write(d, "pw", "y".repeat(4 << 20))),
        case("snapshots/wrong-raw-key", Usage, &["snapshots", "--repo", "{repo}", "--key-file", "{dir}/key"])
            .unset("ENTRA_BACKUP_PASSWORD")
            .setup(move |d| write(d, "key", format!("{raw_key}\n")))
            .secret(raw_key),
        case("snapshots/raw-key-of-31-bytes", Usage, &["snapshots", "--repo", "{repo}", "--key-file", "{dir}/key"])
            .unset("ENTRA_BACKUP_PASSWORD")
            .setup(|d| write(d, "key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"))
            .says("key file"),
        case("snapshots/key-file-missing", Repository, &["snapshots", "--repo", "{repo}", "--key-file", "{dir}/nope"])
            .unset("ENTRA_BACKUP_PASSWORD")
            .says("key file"),
        case(
            "snapshots/plaintext-flag-on-an-encrypted-repository",
            Usage,
            &["snapshots", "--repo", "{repo}", "--plaintext"],
        )
        .unset("ENTRA_BACKUP_PASSWORD"),
        case("snapshots/no-passphrase", Usage, &["snapshots", "--repo", "{repo}"])
            .unset("ENTRA_BACKUP_PASSWORD")
            .says("ENTRA_BACKUP_PASSWORD"),
        case("snapshots/repo-flag-empty-value", Usage, &["snapshots", "--repo="]),
        case("snapshots/repo-flag-missing", Usage, &["snapshots"]),
    ]
}

/// Snapshot names, categories, object ids and attributes that are not there, or are hostile.
fn snapshot_names(fx: &Fixture) -> Vec<Case> {
    let second = fx.snapshots[1].clone();
    let ls = |name: &str, exit, snapshot: &str| case(name, exit, &["ls", "--repo", "{repo}", snapshot]);
    let show =
        |name: &str, category: &str, id: &str| case(name, Usage, &["show", "--repo", "{repo}", "latest", category, id]);
    let user = fx.user.as_str();
    vec![
        ls("ls/unknown-snapshot", Repository, "ffffffff").says("no snapshot"),
        ls("ls/prefix-too-short", Usage, "abc").says("4 hex digits"),
        ls("ls/not-hex", Usage, "zzzzzzzz").says("not a snapshot"),
        ls("ls/empty-name", Usage, "").says("not a snapshot"),
        ls("ls/name-with-newline", Usage, "abcd\nforged line"),
        ls("ls/name-with-escape", Usage, "\x1b]0;pwned\x07abcd"),
        ls("ls/huge-hex-name", Repository, &"a".repeat(100_000)).says("no snapshot"),
        ls("ls/latest-without-snapshots", Repository, "latest")
            .setup(|d| std::fs::remove_dir_all(d.join("repo/snapshots")).unwrap())
            .says("has no snapshots"),
        case("ls/unknown-category", Usage, &["ls", "--repo", "{repo}", "latest", "--category", "nope"])
            .says("unknown category 'nope'"),
        case("ls/category-with-newline", Usage, &["ls", "--repo", "{repo}", "latest", "--category", "users\nx"]),
        show("show/unknown-category", "nope", user).says("unknown category"),
        show("show/id-not-in-snapshot", "users", "00000000-0000-0000-0000-000000000000").says("holds no"),
        show("show/id-of-another-category", "groups", user).says("holds no"),
        show("show/id-path-traversal", "users", "../../config").says("holds no"),
        show("show/id-with-newline", "users", "abc\nforged line"),
        show("show/empty-id", "users", ""),
        case(
            "show/wrong-secrets-passphrase",
            RepositoryKey,
            &["show", "--repo", "{repo}", "latest", "bitlockerRecoveryKeys"],
        )
        .arg(fx.bitlocker.as_str())
        .env("ENTRA_BACKUP_SECRETS_PASSWORD", "Wrong-Secrets-Teal-6290")
        .secret("Wrong-Secrets-Teal-6290")
        .says("secrets"),
        case("show/secrets-key-file-garbage", Usage, &["show", "--repo", "{repo}", "latest", "users", user])
            .arg("--secrets-key-file")
            .arg("{dir}/skey")
            .unset("ENTRA_BACKUP_SECRETS_PASSWORD")
            .setup(|d| write(d, "skey", "\u{0}\u{1}garbage"))
            .says("key file"),
        case("diff/neither-other-nor-live", Usage, &["diff", "--repo", "{repo}", "latest"]).says("--live"),
        case("diff/other-and-live", Usage, &["diff", "--repo", "{repo}", &second[..8], "latest", "--live"]),
        case("diff/unknown-other", Repository, &["diff", "--repo", "{repo}", "latest", "ffffffff"]).says("no snapshot"),
        case("diff/unknown-category", Usage, &["diff", "--repo", "{repo}", "latest", "latest", "--category", "nope"])
            .says("unknown category"),
        case("diff/id-in-neither-snapshot", Usage, &["diff", "--repo", "{repo}", "latest", "latest"])
            .arg("--id")
            .arg("11111111-2222-3333-4444-555555555555")
            .says("neither side holds an object 11111111-2222-3333-4444-555555555555"),
        case("restore/unknown-snapshot", Repository, &["restore", "--repo", "{repo}", "ffffffff", "--dry-run"])
            .live()
            .says("no snapshot"),
        case("restore/unknown-category", Usage, &["restore", "--repo", "{repo}", "latest", "--category", "nope"])
            .live()
            .says("unknown category 'nope'"),
        case("restore/attribute-typo", Usage, &["restore", "--repo", "{repo}", "latest", "--id", user])
            .arg("--attributes")
            .arg("jobtitle")
            .live()
            .says("jobTitle"),
        case("restore/id-not-in-snapshot", Usage, &["restore", "--repo", "{repo}", "latest", "--id", "nosuch-id"])
            .live()
            .says("nosuch-id"),
        case(
            "restore/id-of-another-category",
            Usage,
            &["restore", "--repo", "{repo}", "latest", "--category", "groups"],
        )
        .arg("--id")
        .arg(user)
        .live(),
        case("restore/id-with-newline", Usage, &["restore", "--repo", "{repo}", "latest", "--id", "x\nforged line"])
            .live(),
    ]
}

/// The commands that read Graph: credentials, endpoints, and what they are told to read.
fn graph_commands(_fx: &Fixture) -> Vec<Case> {
    let backup = |name: &str, exit, more: &[&str]| {
        let args: Vec<&str> = ["backup", "--repo", "{repo}"].iter().chain(more).copied().collect();
        case(name, exit, &args)
    };
    let endpoints =
        |graph: &str, authority: &str| ["--graph-url", graph, "--authority-url", authority].map(String::from);
    let with = |name: &str, command: &[&str], graph: &str, authority: &str| {
        let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
        args.extend(endpoints(graph, authority));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        case(name, Usage, &args)
    };
    let mut all = vec![
        backup("backup/unknown-category", Usage, &["--categories", "users,nope"])
            .live()
            .says("unknown category 'nope'"),
        backup("backup/empty-category", Usage, &["--categories", ""]).live().says("unknown category"),
        backup("backup/category-with-newline", Usage, &["--categories", "users\nforged line"]).live(),
        backup("backup/json-unknown-category", Usage, &["--json", "--categories", "nope"]).live(),
        backup("backup/tag-with-newline", Usage, &["--tag", "nightly\nforged line"]).live().says("--tag"),
        backup("backup/empty-tag", Usage, &["--tag", ""]).live().says("--tag"),
        backup("backup/no-client-secret", Usage, &[]).live().unset("AZURE_CLIENT_SECRET").says("AZURE_CLIENT_SECRET"),
        backup("backup/wrong-client-secret", Graph, &["--categories", "users"])
            .live()
            .env("AZURE_CLIENT_SECRET", "Wrong-Client-Secret-Plum-5531")
            .secret("Wrong-Client-Secret-Plum-5531"),
        backup("backup/certificate-missing", Usage, &[])
            .live()
            .unset("AZURE_CLIENT_SECRET")
            .env("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/app.pem"),
        backup("backup/certificate-not-pem", Usage, &[])
            .live()
            .unset("AZURE_CLIENT_SECRET")
            .env("AZURE_CLIENT_CERTIFICATE_PATH", "{dir}/app.pem")
            .setup(|d| write(d, "app.pem", "-----BEGIN NONSENSE-----\n")),
        backup("backup/tenant-id-with-newline", Usage, &["--tenant-id", "tenant\nforged line"]).live(),
    ];
    // Endpoints: a bad scheme, no URL at all, credentials in the URL, and plain HTTP to a host that
    // is not this machine (the secret and the token would cross the network in the clear).
    for (command, cmd) in [
        ("backup", &["backup", "--repo", "{repo}"][..]),
        ("diff", &["diff", "--repo", "{repo}", "latest", "--live"]),
        ("restore", &["restore", "--repo", "{repo}", "latest", "--dry-run"]),
        ("export", &["export", "--out", "{dir}/out"]),
    ] {
        all.extend([
            with(&format!("{command}/graph-url-ftp"), cmd, "ftp://graph.example.invalid", "{graph}").says("Graph URL"),
            with(&format!("{command}/graph-url-not-a-url"), cmd, "not a url", "{graph}").says("Graph URL"),
            with(&format!("{command}/graph-url-http-remote"), cmd, "http://graph.example.invalid", "{graph}"),
            with(&format!("{command}/authority-url-http-remote"), cmd, "{graph}", "http://login.example.invalid"),
        ]);
    }
    all.extend([
        with("backup/graph-url-with-password", &["backup", "--repo", "{repo}"], "ftp://u:url-secret-Kq40@x", "{graph}")
            .secret("url-secret-Kq40"),
        case(
            "backup/authority-http-remote-from-variable",
            Usage,
            &["backup", "--repo", "{repo}", "--graph-url", "{graph}"],
        )
        .env("AZURE_AUTHORITY_HOST", "http://login.example.invalid"),
    ]);
    all
}

/// check, forget and prune: their numbers and durations.
fn maintenance() -> Vec<Case> {
    let check =
        |name: &str, value: &str| case(name, Usage, &["check", "--repo", "{repo}", &format!("--read-data={value}")]);
    let forget = |name: &str, more: &[&str]| {
        let args: Vec<&str> = ["forget", "--repo", "{repo}"].iter().chain(more).copied().collect();
        case(name, Usage, &args)
    };
    let prune =
        |name: &str, grace: &str| case(name, Usage, &["prune", "--repo", "{repo}", &format!("--grace={grace}")]);
    // A prune on another machine holds the lease for six hours more.
    let now = jiff::Timestamp::now();
    let lease = serde_json::json!({
        "holder": "00000000000000aa",
        "host": "another-host.example",
        "pid": 4242,
        "since": now.to_string(),
        "expires": (now + jiff::SignedDuration::from_hours(6)).to_string(),
    })
    .to_string();
    vec![
        check("check/read-data-above-100", "101").says("0 to 100"),
        check("check/read-data-negative", "-5"),
        check("check/read-data-nan", "NaN"),
        check("check/read-data-infinite", "inf"),
        check("check/read-data-not-a-number", "all"),
        case("check/json-read-data-above-100", Usage, &["check", "--repo", "{repo}", "--json", "--read-data", "1e9"]),
        forget("forget/no-policy", &[]).says("--keep"),
        forget("forget/keep-last-negative", &["--keep-last=-1"]),
        forget("forget/keep-last-overflow", &["--keep-last", "99999999999999999999999"]),
        forget("forget/keep-daily-not-a-number", &["--keep-daily", "seven"]),
        forget("forget/grace-negative", &["--keep-last", "1", "--prune", "--grace=-1h"]).says("negative"),
        forget("forget/grace-huge", &["--keep-last", "1", "--prune", "--grace", "999999999999h"]),
        prune("prune/grace-negative", "-24h").says("negative"),
        prune("prune/grace-not-a-duration", "soon").says("not a duration"),
        prune("prune/grace-huge", "9999999999999h"),
        prune("prune/grace-largest-seconds", "9223372036854775807s"),
        prune("prune/grace-with-newline", "24h\nforged line"),
        case("prune/lease-held-elsewhere", Locked, &["prune", "--repo", "{repo}", "--grace", "0"])
            .setup(move |d| write(d, "repo/locks/prune", &lease))
            .says("another prune holds"),
    ]
}

/// export, from Graph and from a snapshot.
fn export() -> Vec<Case> {
    let from_repo =
        |name: &str, exit, out: &str| case(name, exit, &["export", "--repo", "{repo}", "latest", "--out", out]);
    let from_graph = |name: &str, more: &[&str]| {
        let args: Vec<&str> = ["export", "--out", "{dir}/out"].iter().chain(more).copied().collect();
        case(name, Usage, &args).live()
    };
    vec![
        case("export/snapshot-without-repo", Usage, &["export", "--out", "{dir}/out", "latest"]),
        case("export/repo-without-snapshot", Usage, &["export", "--out", "{dir}/out", "--repo", "{repo}"]),
        case("export/out-missing", Usage, &["export", "--repo", "{repo}", "latest"]),
        case("export/unknown-snapshot", Repository, &["export", "--repo", "{repo}", "ffffffff", "--out", "{dir}/out"]),
        from_repo("export/out-is-a-file", Usage, "{dir}/file").setup(|d| write(d, "file", "x")),
        from_repo("export/out-under-a-file", Repository, "{dir}/file/out").setup(|d| write(d, "file", "x")),
        from_repo("export/out-is-the-repository", Usage, "{repo}"),
        from_repo("export/out-is-a-symlink-to-the-repository", Usage, "{dir}/link")
            .setup(|d| symlink(d, "repo", "link")),
        from_repo("export/out-holds-other-files", Usage, "{dir}/out").setup(|d| write(d, "out/users/stale.json", "{}")),
        from_repo("export/wrong-secrets-passphrase", RepositoryKey, "{dir}/out")
            .env("ENTRA_BACKUP_SECRETS_PASSWORD", "Wrong-Secrets-Amber-3372")
            .secret("Wrong-Secrets-Amber-3372"),
        from_graph("export/logs-days-huge", &["--logs-days", "4294967295"]),
        from_graph("export/logs-days-negative", &["--logs-days=-1"]),
        from_graph("export/unknown-category", &["--categories", "nope"]).says("unknown category 'nope'"),
        from_graph("export/no-credentials", &[]).unset("AZURE_CLIENT_ID").says("AZURE_CLIENT_ID"),
    ]
}
