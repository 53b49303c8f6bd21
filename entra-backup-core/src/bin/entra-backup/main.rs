//! `entra-backup`: the command-line face of the library. Every command is a thin layer over the
//! library's public API; errors print one line and exit non-zero.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use entra_backup::catalog::{self, Category};
use entra_backup::graph::auth::Credentials;
use entra_backup::pipeline::{self, Progress, Summary};
use entra_backup::sim::{self, SimConfig, SimServer};
use entra_backup::source::{Endpoints, GraphSource, SourceOptions};
use std::io::IsTerminal;

mod progress;

/// Print to stdout; a reader that went away (`| head`) ends the program quietly instead of a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

mod key_cmds;
mod repo_cmds;
use repo_cmds::{RepoArgs, SecretsArgs};

#[derive(Parser)]
#[command(
    name = "entra-backup",
    version,
    about = "Back up and restore a Microsoft Entra ID tenant through Microsoft Graph"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every category of a tenant the catalog knows: path, delta support, restore strategy.
    Categories {
        /// Print the whole catalog as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the least-privilege application permissions a scope needs.
    Permissions {
        /// Comma-separated category names (default: every category).
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// Include the permissions to restore, not only to back up.
        #[arg(long)]
        restore: bool,
    },
    /// The simulated tenant.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
    /// Create a repository (encrypted unless --plaintext).
    ///
    /// The passphrase comes from ENTRA_BACKUP_PASSWORD (or --password-file, or --key-file), the
    /// secrets passphrase from ENTRA_BACKUP_SECRETS_PASSWORD (or --secrets-password-file, or
    /// --secrets-key-file). Keep both: nothing can open the repository without them.
    Init {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        secrets: SecretsArgs,
        /// Argon2id memory for the passphrases, in MiB.
        #[arg(long, default_value_t = 64)]
        kdf_memory_mib: u32,
        /// Argon2id passes.
        #[arg(long, default_value_t = 3)]
        kdf_iterations: u32,
    },
    /// Manage the key files: list, add, remove, change a passphrase (passwd).
    Key {
        #[command(subcommand)]
        command: key_cmds::KeyCommand,
    },
    /// Back up a tenant into a repository as a new snapshot, incrementally from the last one.
    ///
    /// Credentials come from AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or
    /// AZURE_CLIENT_CERTIFICATE_PATH, as for export.
    Backup {
        #[command(flatten)]
        repo: RepoArgs,
        /// Comma-separated category names (default: every category).
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// Read every category in full instead of the changes since the last snapshot.
        #[arg(long)]
        full: bool,
        /// A tag for the snapshot (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Do not read secret values (BitLocker keys); by default they are read once each, sealed
        /// under the secrets key.
        #[arg(long)]
        no_secrets: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// List the snapshots of a repository, oldest first.
    Snapshots {
        #[command(flatten)]
        repo: RepoArgs,
        #[arg(long)]
        json: bool,
    },
    /// List a snapshot's categories, or the objects of one category.
    Ls {
        #[command(flatten)]
        repo: RepoArgs,
        /// A snapshot id (or a unique prefix of 4+ hex digits), or `latest`.
        snapshot: String,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print one object of a snapshot as JSON (secrets only with the secrets key).
    Show {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        secrets: SecretsArgs,
        snapshot: String,
        category: String,
        id: String,
    },
    /// Show what differs between a snapshot and another snapshot, or the live tenant (--live):
    /// objects added, removed and changed, with the changed attributes and both values.
    Diff {
        #[command(flatten)]
        repo: RepoArgs,
        snapshot: String,
        /// The snapshot to compare with (newer side).
        #[arg(conflicts_with = "live")]
        other: Option<String>,
        /// Compare with the tenant as Graph reads it now (credentials as for backup).
        #[arg(long)]
        live: bool,
        /// Comma-separated category names (default: every category but logs).
        #[arg(long, value_delimiter = ',')]
        category: Vec<String>,
        /// Only this object.
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Restore a snapshot, or part of it, into the live tenant: recycle-bin restore, recreate
    /// (ids remapped everywhere), patch, relink. --dry-run prints the plan and writes nothing.
    Restore {
        #[command(flatten)]
        repo: RepoArgs,
        snapshot: String,
        /// Comma-separated category names (default: every category of the snapshot).
        #[arg(long, value_delimiter = ',')]
        category: Vec<String>,
        /// Only these objects (snapshot ids), comma-separated or repeated.
        #[arg(long, value_delimiter = ',')]
        id: Vec<String>,
        /// Only these attributes or relationships, comma-separated.
        #[arg(long, value_delimiter = ',')]
        attributes: Vec<String>,
        /// Also remove links and contained children the tenant has and the snapshot does not.
        #[arg(long)]
        overwrite_relationships: bool,
        /// Print the plan, write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Verify a repository: its structure, and with --read-data a share of its data.
    Check {
        #[command(flatten)]
        repo: RepoArgs,
        /// Read and verify this percentage of the packs (0 to 100).
        #[arg(long, default_value_t = 0.0)]
        read_data: f64,
        #[arg(long)]
        json: bool,
    },
    /// Remove snapshots a retention policy does not keep (then --prune frees their data).
    Forget {
        #[command(flatten)]
        repo: RepoArgs,
        #[arg(long, default_value_t = 0)]
        keep_last: usize,
        #[arg(long, default_value_t = 0)]
        keep_hourly: usize,
        #[arg(long, default_value_t = 0)]
        keep_daily: usize,
        #[arg(long, default_value_t = 0)]
        keep_weekly: usize,
        #[arg(long, default_value_t = 0)]
        keep_monthly: usize,
        #[arg(long, default_value_t = 0)]
        keep_yearly: usize,
        /// Prune afterwards.
        #[arg(long)]
        prune: bool,
        /// Say what would be removed; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// For --prune: how long unused packs stay before deletion.
        #[arg(long, default_value = "24h", value_parser = repo_cmds::parse_grace)]
        grace: jiff::SignedDuration,
        #[arg(long)]
        json: bool,
    },
    /// Delete data no snapshot needs (two-phase: marked first, deleted after the grace period).
    Prune {
        #[command(flatten)]
        repo: RepoArgs,
        /// How long unused packs stay marked before deletion. Shorter is only safe when no backup runs.
        #[arg(long, default_value = "24h", value_parser = repo_cmds::parse_grace)]
        grace: jiff::SignedDuration,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Read a tenant through Graph into DIR/<category>/<id>.json, every property and relationship;
    /// or, with --repo, write a snapshot out in the same layout.
    ///
    /// Credentials come from AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or
    /// AZURE_CLIENT_CERTIFICATE_PATH (a PEM with the certificate and its key).
    Export {
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Export this snapshot of --repo (an id, a prefix, or `latest`) instead of reading Graph.
        #[arg(requires = "repo")]
        snapshot: Option<String>,
        /// The repository to export from (see `backup --help`).
        #[arg(long, env = "ENTRA_BACKUP_REPOSITORY", requires = "snapshot")]
        repo: Option<String>,
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
        #[arg(long)]
        key_file: Option<std::path::PathBuf>,
        #[arg(long)]
        plaintext: bool,
        #[command(flatten)]
        secrets_key: SecretsArgs,
        /// Comma-separated category names (default: every category).
        #[arg(long, value_delimiter = ',')]
        categories: Vec<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Also read secret values (BitLocker keys); each read is audited in the tenant.
        #[arg(long)]
        secrets: bool,
        /// Read audit and sign-in logs from this many days back (default: all Graph keeps).
        #[arg(long)]
        logs_days: Option<u32>,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Start a simulated tenant and show what it holds, read through its Graph API.
    Demo {
        #[command(flatten)]
        tenant: TenantArgs,
        /// Keep the demo's repository in this folder (default: a temporary folder, removed at the end).
        #[arg(long)]
        repo: Option<std::path::PathBuf>,
    },
}

#[derive(clap::Args, Clone)]
struct ConnectionArgs {
    /// Graph's root URL (a national cloud, or a simulated tenant).
    #[arg(long, default_value = "https://graph.microsoft.com")]
    graph_url: String,
    /// The identity platform's URL.
    #[arg(long, env = "AZURE_AUTHORITY_HOST", default_value = "https://login.microsoftonline.com")]
    authority_url: String,
    /// The tenant (overrides AZURE_TENANT_ID).
    #[arg(long)]
    tenant_id: Option<String>,
    /// The app registration's client id (overrides AZURE_CLIENT_ID).
    #[arg(long)]
    client_id: Option<String>,
}

impl ConnectionArgs {
    fn source(&self, options: SourceOptions) -> Result<GraphSource, String> {
        let mut creds = Credentials::from_env().or_else(|e| {
            // Flags may supply what the environment lacks.
            let env = |k: &str| std::env::var(k).ok();
            Credentials::from_lookup(|k| match k {
                "AZURE_TENANT_ID" => self.tenant_id.clone().or_else(|| env(k)),
                "AZURE_CLIENT_ID" => self.client_id.clone().or_else(|| env(k)),
                _ => env(k),
            })
            .map_err(|_| e.to_string())
        })?;
        if let Some(t) = &self.tenant_id {
            creds.tenant_id = t.clone();
        }
        if let Some(c) = &self.client_id {
            creds.client_id = c.clone();
        }
        let endpoints =
            Endpoints { graph_url: Some(self.graph_url.clone()), authority_url: Some(self.authority_url.clone()) };
        GraphSource::connect(&creds, &endpoints, options).map_err(|e| e.to_string())
    }
}

#[derive(Subcommand)]
enum SimCommand {
    /// Serve a simulated tenant over Graph's HTTP API until interrupted.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", value_parser = sim::parse_addr)]
        addr: SocketAddr,
        #[command(flatten)]
        tenant: TenantArgs,
        /// Latency added to every response, in milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Enforce Microsoft's published throttling limits.
        #[arg(long, value_enum, default_value_t = OnOff::On)]
        throttle: OnOff,
        /// Share of requests failing with an injected fault, from 0 to 1.
        #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
        faults: f64,
    },
}

#[derive(clap::Args, Clone)]
struct TenantArgs {
    /// Seed of the generated tenant.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Users in the tenant.
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Groups in the tenant.
    #[arg(long, default_value_t = 40)]
    groups: usize,
    /// Group memberships in all (default: about ten per user).
    #[arg(long)]
    memberships: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum OnOff {
    On,
    Off,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=1.0).contains(&r) { Ok(r) } else { Err(format!("{r} is not between 0 and 1")) }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    entra_backup::init_crypto();
    match cli.command {
        Command::Categories { json } => categories(json),
        Command::Permissions { categories, restore } => {
            let perms = catalog::permissions(&categories, restore).map_err(|e| e.to_string())?;
            for p in perms {
                out!("{p}");
            }
            Ok(())
        }
        Command::Sim { command: SimCommand::Serve { addr, tenant, latency_ms, throttle, faults } } => {
            let config = SimConfig {
                seed: tenant.seed,
                users: tenant.users,
                groups: tenant.groups,
                memberships: tenant.memberships,
                latency: Duration::from_millis(latency_ms),
                throttle: throttle == OnOff::On,
                fault_rate: faults,
                ..SimConfig::default()
            };
            let server =
                SimServer::start_on(config, addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            out!("listening on {}", server.url());
            eprintln!(
                "tenant {} ({} objects); token endpoint {}/{}/oauth2/v2.0/token; Graph {}",
                server.tenant_id(),
                server.tenant().total_objects(),
                server.url(),
                server.tenant_id(),
                server.graph_url()
            );
            tokio::signal::ctrl_c().await.map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
            server.shutdown().await;
            Ok(())
        }
        Command::Demo { tenant, repo } => demo(tenant, repo).await,
        Command::Init { repo, secrets, kdf_memory_mib, kdf_iterations } => {
            repo_cmds::init(&repo, &secrets, kdf_memory_mib, kdf_iterations).await
        }
        Command::Key { command } => key_cmds::run(command).await,
        Command::Backup { repo, categories, full, tags, no_secrets, json, connection } => {
            repo_cmds::backup(&repo, &connection, &categories, full, tags, no_secrets, json).await
        }
        Command::Snapshots { repo, json } => repo_cmds::snapshots(&repo, json).await,
        Command::Ls { repo, snapshot, category, json } => {
            repo_cmds::ls(&repo, &snapshot, category.as_deref(), json).await
        }
        Command::Show { repo, secrets, snapshot, category, id } => {
            repo_cmds::show(&repo, &secrets, &snapshot, &category, &id).await
        }
        Command::Diff { repo, snapshot, other, live, category, id, json, connection } => {
            let live = live.then_some(&connection);
            repo_cmds::diff(&repo, &snapshot, other.as_deref(), live, &category, id.as_deref(), json).await
        }
        Command::Restore {
            repo,
            snapshot,
            category,
            id,
            attributes,
            overwrite_relationships,
            dry_run,
            json,
            connection,
        } => {
            let args = repo_cmds::RestoreArgs {
                snapshot: &snapshot,
                categories: &category,
                ids: &id,
                attributes: &attributes,
                overwrite_relationships,
                dry_run,
                json,
            };
            repo_cmds::restore(&repo, &connection, args).await
        }
        Command::Check { repo, read_data, json } => repo_cmds::check_cmd(&repo, read_data, json).await,
        Command::Forget {
            repo,
            keep_last,
            keep_hourly,
            keep_daily,
            keep_weekly,
            keep_monthly,
            keep_yearly,
            prune,
            dry_run,
            grace,
            json,
        } => {
            let policy = entra_backup::repo::prune::KeepPolicy {
                last: keep_last,
                hourly: keep_hourly,
                daily: keep_daily,
                weekly: keep_weekly,
                monthly: keep_monthly,
                yearly: keep_yearly,
            };
            repo_cmds::forget(&repo, policy, prune, dry_run, grace, json).await
        }
        Command::Prune { repo, grace, dry_run, json } => repo_cmds::prune_cmd(&repo, grace, dry_run, json).await,
        Command::Export {
            out,
            snapshot: Some(snapshot),
            repo: Some(repo),
            password_file,
            key_file,
            plaintext,
            secrets_key,
            json,
            ..
        } => {
            let repo = RepoArgs { repo, password_file, key_file, plaintext };
            repo_cmds::export(&repo, &secrets_key, &snapshot, &out, json).await
        }
        Command::Export { out, categories, json, secrets, logs_days, connection, .. } => {
            let cats = if categories.is_empty() {
                catalog::all().iter().collect()
            } else {
                catalog::resolve(&categories).map_err(|e| e.to_string())?
            };
            let logs_since =
                logs_days.map(|d| jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * i64::from(d)));
            let source = connection.source(SourceOptions { secrets, logs_since, ..SourceOptions::default() })?;
            let progress = Progress::new(&cats);
            let display = (!json && std::io::stderr().is_terminal()).then(|| progress::start(progress.clone()));
            let result = pipeline::export(&source, &out, &progress).await;
            if let Some(d) = display {
                d.stop().await;
            }
            let summary = result.map_err(|e| e.to_string())?;
            if json {
                out!("{}", serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?);
            } else {
                print_summary(&summary, &out);
            }
            if summary.ok() {
                Ok(())
            } else {
                Err(format!("{} categories failed (see above)", summary.failed_categories))
            }
        }
    }
}

fn print_summary(s: &Summary, out: &std::path::Path) {
    out!(
        "{:<40} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "CATEGORY",
        "OBJECTS",
        "LINKS",
        "REQUESTS",
        "THROTTLED",
        "RETRIES",
        "SECONDS"
    );
    for c in &s.categories {
        out!(
            "{:<40} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8.1}",
            c.category,
            c.objects,
            c.relationships,
            c.requests,
            c.throttled,
            c.retries,
            c.duration_ms as f64 / 1000.0
        );
    }
    out!(
        "\n{} objects and {} links in {:.1} s: {} requests, {} throttled; written to {}",
        s.objects,
        s.relationships,
        s.duration_ms as f64 / 1000.0,
        s.requests,
        s.throttled,
        out.display()
    );
    for c in s.categories.iter().filter(|c| c.error.is_some()) {
        let needs = if c.permissions_needed.is_empty() {
            String::new()
        } else {
            format!(" (needs {})", c.permissions_needed.join(", "))
        };
        eprintln!("failed: {}: {}{needs}", c.category, c.error.as_deref().unwrap_or_default());
    }
}

fn categories(json: bool) -> Result<(), String> {
    if json {
        let out = serde_json::to_string_pretty(catalog::all()).map_err(|e| e.to_string())?;
        out!("{out}");
        return Ok(());
    }
    out!("{:<40} {:<62} {:<6} RESTORE", "CATEGORY", "GRAPH PATH", "DELTA");
    for c in catalog::all() {
        out!("{:<40} {:<62} {:<6} {}", c.name, path_of(c), if c.delta.is_some() { "yes" } else { "no" }, restore_of(c));
    }
    Ok(())
}

fn path_of(c: &Category) -> String {
    format!("/{}{}", c.api_version.segment(), c.path)
}

fn restore_of(c: &Category) -> String {
    if c.restore.strategies.is_empty() {
        return "not restorable".into();
    }
    let s: Vec<String> = c.restore.strategies.iter().map(|s| format!("{s:?}")).collect();
    s.join(", ")
}

/// The main job on an embedded default: start a simulated tenant, back it up into a local
/// encrypted repository, change 1% of it, back it up again incrementally, damage it, show the
/// difference, restore the whole tenant, and show what is back and what Graph would not restore.
async fn demo(args: TenantArgs, keep: Option<std::path::PathBuf>) -> Result<(), String> {
    use entra_backup::graph::auth::{ClientAuth, Credentials, Secret};
    use entra_backup::repo::{Access, Repository, backend, crypto::KdfParams};
    use entra_backup::sink::BackupOptions;

    let config = SimConfig {
        seed: args.seed,
        users: args.users,
        groups: args.groups,
        memberships: args.memberships,
        ..SimConfig::default()
    };
    let server = SimServer::start(config).await.map_err(|e| format!("cannot start the simulated tenant: {e}"))?;
    out!(
        "Simulated tenant {} at {} (seed {}, {} users, {} groups, Graph's throttling limits on)",
        server.tenant_id(),
        server.url(),
        args.seed,
        args.users,
        args.groups
    );
    let temp = tempfile::tempdir().map_err(|e| format!("cannot make a temporary folder: {e}"))?;
    let kept = keep.is_some();
    let dir = keep.unwrap_or_else(|| temp.path().join("repository"));
    let location = dir.display().to_string();
    let pass = |p: &str| Access::Passphrase(Secret::new(p));
    let store = backend::open(&location).map_err(|e| e.to_string())?;
    let repo =
        Repository::init(store, &pass("demo passphrase"), Some(&pass("demo secrets passphrase")), KdfParams::default())
            .await
            .map_err(|e| e.to_string())?;
    out!(
        "Encrypted repository at {location} (passphrase `demo passphrase`, secrets passphrase `demo secrets passphrase`)\n"
    );

    let credentials = Credentials {
        tenant_id: server.tenant_id(),
        client_id: "demo-app".into(),
        auth: ClientAuth::Secret(Secret::new("demo-secret")),
        authority_host: None,
    };
    let endpoints = Endpoints { graph_url: Some(server.url().into()), authority_url: Some(server.url().into()) };
    let categories: Vec<&'static Category> = catalog::all().iter().collect();
    for round in 1..=2 {
        if round == 2 {
            let churn = server.churn(0.01, 1);
            out!(
                "\nChanged {} objects of the tenant (1%): users, groups, devices, apps, new log records",
                churn.objects_touched
            );
        }
        let source =
            GraphSource::connect(&credentials, &endpoints, SourceOptions { secrets: true, ..SourceOptions::default() })
                .map_err(|e| e.to_string())?;
        let progress = Progress::new(&categories);
        let display = std::io::stderr().is_terminal().then(|| progress::start(progress.clone()));
        let result = pipeline::backup(&source, &repo, BackupOptions::new(server.tenant_id()), &progress).await;
        if let Some(d) = display {
            d.stop().await;
        }
        let report = result.map_err(|e| e.to_string())?;
        let s = &report.snapshot;
        let reads = |mode| s.categories.values().filter(|c| c.read == mode).count();
        out!(
            "Backup {round}: snapshot {} — {} objects in {} categories ({} read by delta, {} in full, {} logs since the last); \
             {} Graph requests; {} new blobs, {} KB written in {} storage writes; {:.1} s",
            &report.snapshot_id[..12],
            s.categories.values().map(|c| c.objects).sum::<u64>(),
            s.categories.len(),
            reads(entra_backup::repo::snapshot::ReadMode::Delta),
            reads(entra_backup::repo::snapshot::ReadMode::Full),
            reads(entra_backup::repo::snapshot::ReadMode::Since),
            s.summary.requests,
            s.summary.blobs_added,
            s.summary.bytes_added / 1024,
            s.summary.storage_writes,
            s.summary.duration_ms as f64 / 1000.0
        );
    }
    out!("\n{:<12}  {:<20}  {:>8}  {:<11}", "SNAPSHOT", "TIME", "OBJECTS", "KIND");
    let snapshots = repo.snapshots().await.map_err(|e| e.to_string())?;
    for (id, s) in &snapshots {
        out!(
            "{:<12}  {:<20}  {:>8}  {:<11}",
            &id[..12],
            s.time.strftime("%Y-%m-%d %H:%M:%S"),
            s.categories.values().map(|c| c.objects).sum::<u64>(),
            if s.parent.is_some() { "incremental" } else { "full" }
        );
    }
    let latest = snapshots.last().map(|(id, _)| id.clone()).ok_or("no snapshot")?;

    // The disaster, the difference, the restore.
    out!("\n{}", demo_damage(&server));
    let connect =
        || GraphSource::connect(&credentials, &endpoints, SourceOptions::default()).map_err(|e| e.to_string());
    let snapshot =
        entra_backup::source::SnapshotSource::open(repo.clone(), &latest, false).await.map_err(|e| e.to_string())?;
    let before = demo_diff(&snapshot, &connect()?).await?;
    out!("\n`diff {} --live`: {}", &latest[..12], before);
    let live = connect()?;
    let restorer = entra_backup::restore::GraphRestorer::new(live.client().clone());
    let options = entra_backup::restore::RestoreOptions::default();
    let report =
        entra_backup::restore::restore(&snapshot, &live, &restorer, &options).await.map_err(|e| e.to_string())?;
    let s = &report.summary;
    out!(
        "\n`restore {}` (the whole tenant, in dependency order): {} restored from the recycle bin, {} recreated with \
         new ids remapped everywhere, {} patched, {} relinked, {} failed; {} writes in {} requests, {:.1} s",
        &latest[..12],
        s.restored,
        s.recreated,
        s.patched,
        s.relinked,
        s.failed,
        s.writes,
        s.requests,
        s.duration_ms as f64 / 1000.0
    );
    for o in report.objects.iter().filter(|o| o.new_id.is_some()) {
        out!(
            "  recreated {:<24} {} -> {}  {}",
            o.category,
            o.id,
            o.new_id.as_deref().unwrap_or_default(),
            o.display_name.as_deref().unwrap_or_default()
        );
    }
    for c in &report.failed_categories {
        out!("  failed {:<27} the whole category: {}", c.category, c.error);
    }
    for o in report.objects.iter().filter(|o| !o.errors.is_empty()) {
        out!(
            "  failed {:<27} {}  {}: {}",
            o.category,
            o.id,
            o.display_name.as_deref().unwrap_or_default(),
            o.errors.join("; ")
        );
    }
    for p in &report.passwords {
        out!(
            "  new password for {} (shown once, to be changed at next sign-in): {}",
            p.user_principal_name,
            p.password
        );
    }
    let mut reasons: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
    for o in &report.objects {
        for n in &o.not_restorable {
            let what = match &n.attribute {
                Some(a) => format!("{} {a}", o.display_name.as_deref().unwrap_or(&o.id)),
                None => o.display_name.clone().unwrap_or_else(|| o.id.clone()),
            };
            reasons.entry(n.reason.as_str()).or_default().push(what);
        }
    }
    for c in &report.categories {
        reasons.entry(c.reason.as_str()).or_default().push(format!("{} ({} objects)", c.category, c.objects));
    }
    out!("\nWhat Graph will not let anyone restore, and why:");
    for (reason, what) in &reasons {
        let more = if what.len() > 3 { format!(" and {} more", what.len() - 3) } else { String::new() };
        out!("  - {reason}: {}{more}", what[..what.len().min(3)].join(", "));
    }
    let after = demo_diff(&snapshot, &connect()?).await?;
    out!("\n`diff {} --live` after the restore: {}", &latest[..12], after);
    out!(
        "(recreated objects compare under their new ids; what still differs is what the list above says Graph sets or refuses)"
    );
    let again =
        entra_backup::restore::restore(&snapshot, &connect()?, &restorer, &options).await.map_err(|e| e.to_string())?;
    out!("A second restore plans nothing and writes nothing: {} writes.", again.summary.writes - report.summary.writes);
    let report =
        entra_backup::repo::check::check(&repo, &entra_backup::repo::check::CheckOptions { read_data_percent: 100.0 })
            .await
            .map_err(|e| e.to_string())?;
    out!(
        "\ncheck: {} snapshots, {} packs, {} blobs verified, {} errors",
        report.snapshots,
        report.packs,
        report.blobs_read,
        report.errors.len()
    );
    if kept {
        out!(
            "\nThe repository stays at {location}: `ENTRA_BACKUP_PASSWORD='demo passphrase' entra-backup snapshots --repo {location}`."
        );
    } else {
        out!("\nThe repository was temporary and is removed now; `demo --repo DIR` keeps it.");
    }
    out!("Back up a real tenant with `entra-backup init` and `entra-backup backup` (see README).");
    server.shutdown().await;
    Ok(())
}

/// Damage the demo's tenant as real tenants get damaged; returns one line saying what was done.
fn demo_damage(server: &SimServer) -> String {
    let now = server.state().clock.now();
    let mut t = server.tenant_mut();
    let cloud = |o: &&entra_backup::sim::StoredObject| o.json["onPremisesSyncEnabled"] != true;
    let types = |o: &entra_backup::sim::StoredObject| -> Vec<String> {
        o.json["groupTypes"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
    };
    let users: Vec<String> = t.objects("users").filter(cloud).map(|o| o.id().to_string()).collect();
    let m365: Vec<String> = t
        .objects("groups")
        .filter(cloud)
        .filter(|g| types(g).contains(&"Unified".to_string()))
        .map(|o| o.id().to_string())
        .collect();
    let policies: Vec<serde_json::Value> =
        t.objects("conditionalAccessPolicies").map(|p| serde_json::Value::Object(p.json.clone())).collect();
    let security: Option<String> = t
        .objects("groups")
        .filter(cloud)
        .filter(|g| types(g).is_empty() && g.json["mailEnabled"] == false)
        .map(|o| o.id().to_string())
        .find(|g| policies.iter().any(|p| p["conditions"]["users"].to_string().contains(g.as_str())))
        .or_else(|| {
            t.objects("groups")
                .filter(cloud)
                .filter(|g| types(g).is_empty() && g.json["mailEnabled"] == false)
                .map(|o| o.id().to_string())
                .next()
        });
    let app = t.objects("applications").next().map(|a| (a.id().to_string(), a.json["appId"].clone()));
    let mut done = Vec::new();
    let soft: Vec<&String> = users.iter().step_by(10).collect();
    for u in &soft {
        let _ = t.soft_delete("users", u, now);
    }
    for g in m365.iter().take(2) {
        let _ = t.soft_delete("groups", g, now);
    }
    done.push(format!("soft-deleted {} users and {} Microsoft 365 groups", soft.len(), m365.len().min(2)));
    if let Some(g) = &security {
        let _ = t.remove("groups", g, entra_backup::sim::Removal::Deleted);
        done.push("deleted for good a security group that Conditional Access uses".into());
    }
    if let Some((id, app_id)) = app {
        let sps: Vec<String> =
            t.objects("servicePrincipals").filter(|s| s.json["appId"] == app_id).map(|s| s.id().to_string()).collect();
        let _ = t.remove("applications", &id, entra_backup::sim::Removal::Deleted);
        for sp in sps {
            let _ = t.remove("servicePrincipals", &sp, entra_backup::sim::Removal::Deleted);
        }
        done.push("an application with its service principal".into());
    }
    let changes: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({"department": "Wrecked", "jobTitle": "Intern"})).unwrap_or_default();
    for u in users.iter().skip(1).step_by(10).take(5) {
        let _ = t.patch("users", u, &changes);
    }
    done.push("changed the department and job title of 5 users".into());
    let off: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({"state": "disabled"})).unwrap_or_default();
    let enabled: Vec<String> = policies
        .iter()
        .filter(|p| p["state"] == "enabled")
        .filter_map(|p| p["id"].as_str().map(String::from))
        .take(2)
        .collect();
    for p in &enabled {
        let _ = t.patch("conditionalAccessPolicies", p, &off);
    }
    done.push(format!("disabled {} Conditional Access policies", enabled.len()));
    let eligible: Vec<String> = t
        .objects("roleEligibilitySchedules")
        .filter(|s| s.json["memberType"] == "Direct")
        .filter(|s| s.json["principalId"].as_str().is_some_and(|p| !soft.iter().any(|u| u.as_str() == p)))
        .map(|s| s.id().to_string())
        .take(2)
        .collect();
    for s in &eligible {
        let _ = t.remove("roleEligibilitySchedules", s, entra_backup::sim::Removal::Deleted);
    }
    done.push(format!("removed {} PIM eligible role assignments", eligible.len()));
    format!("Damage: {}.", done.join("; "))
}

/// `diff --live` in one line: counts, and which categories differ.
async fn demo_diff(snapshot: &entra_backup::source::SnapshotSource, live: &GraphSource) -> Result<String, String> {
    let cats: Vec<&'static Category> = catalog::all().iter().filter(|c| c.time_property.is_none()).collect();
    let map = entra_backup::restore::IdMap::load(snapshot.repository(), snapshot.id(), &snapshot.snapshot().tenant.id)
        .await
        .map_err(|e| e.to_string())?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let collect = async move {
        let mut by: std::collections::BTreeMap<&'static str, usize> = Default::default();
        let mut attributes = std::collections::BTreeSet::new();
        while let Some(d) = rx.recv().await {
            let d: entra_backup::diff::ObjectDiff = d;
            *by.entry(d.category).or_default() += 1;
            attributes.extend(d.attributes.into_iter().map(|a| a.attribute));
        }
        (by, attributes)
    };
    let run = async move {
        let r = entra_backup::diff::diff_live(snapshot, live, &cats, None, &map, &tx).await;
        drop(tx);
        r
    };
    let (summary, (by, attributes)) = tokio::join!(run, collect);
    let s = summary.map_err(|e| e.to_string())?;
    let cats: Vec<String> = by.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let attributes: Vec<String> = attributes.into_iter().collect();
    let attributes =
        if attributes.len() <= 8 { format!("; attributes: {}", attributes.join(", ")) } else { String::new() };
    Ok(format!(
        "{} added, {} removed, {} changed, {} unchanged{}{attributes}",
        s.added,
        s.removed,
        s.changed,
        s.unchanged,
        if cats.is_empty() { String::new() } else { format!(" ({})", cats.join(", ")) }
    ))
}
