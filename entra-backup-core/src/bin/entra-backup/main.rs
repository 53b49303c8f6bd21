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

mod demo;
mod exit;
mod init_cmd;
mod key_cmds;
mod logging;
mod repair_cmds;
mod repo_cmds;
mod values;
use exit::CliError;
use repo_cmds::{RepoArgs, SecretsArgs};

#[derive(Parser)]
#[command(
    name = "entra-backup",
    version,
    about = "Back up and restore a Microsoft Entra ID tenant through Microsoft Graph"
)]
struct Cli {
    /// More detail on stderr: -v info, -vv debug, -vvv trace (RUST_LOG, when set, decides instead).
    /// Warnings are always shown. Logs never carry secrets.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
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
        /// Create the repository in a location that holds other files (never over a repository's
        /// own files).
        #[arg(long)]
        force: bool,
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
        /// A tag for the snapshot (repeatable; one printable line).
        #[arg(long = "tag", value_parser = values::tag)]
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
    /// Remove the snapshots named (ids or unique prefixes; damaged ones too), or those a retention
    /// policy does not keep (then --prune frees their data).
    Forget {
        #[command(flatten)]
        repo: RepoArgs,
        /// Snapshots to remove, instead of a --keep-* policy.
        snapshots: Vec<String>,
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
    /// Repair a damaged repository: set aside unreadable snapshot files, or rebuild the index from
    /// the packs; says what is rebuilt and what is lost.
    Repair {
        #[command(subcommand)]
        what: repair_cmds::RepairCommand,
    },
    /// Read a tenant through Graph into DIR/<category>/<id>.json, every property and relationship;
    /// or, with --repo, write a snapshot out in the same layout.
    ///
    /// Credentials come from AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or
    /// AZURE_CLIENT_CERTIFICATE_PATH (a PEM with the certificate and its key).
    Export {
        /// The folder to write into: created, or empty. The export is written beside it and
        /// renamed into place when done, so a failed export leaves it as it was.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Replace --out even if it holds files (replaced whole, never merged with).
        #[arg(long)]
        force: bool,
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
        /// Read audit and sign-in logs from this many days back, 1 to 3650 (default: all Graph keeps;
        /// Graph keeps 7 to 30 days, so a larger value reads all it has).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
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

impl Command {
    /// Whether the command was asked for JSON: its errors are then printed as JSON on stdout too.
    fn json(&self) -> bool {
        match self {
            Command::Categories { json }
            | Command::Backup { json, .. }
            | Command::Snapshots { json, .. }
            | Command::Ls { json, .. }
            | Command::Diff { json, .. }
            | Command::Restore { json, .. }
            | Command::Check { json, .. }
            | Command::Forget { json, .. }
            | Command::Prune { json, .. }
            | Command::Export { json, .. } => *json,
            Command::Repair { what } => what.json(),
            Command::Permissions { .. } | Command::Sim { .. } | Command::Init { .. } | Command::Show { .. } => false,
            Command::Key { command } => command.json(),
            Command::Demo { .. } => false,
        }
    }
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
    fn source(&self, options: SourceOptions) -> Result<GraphSource, CliError> {
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
        Ok(GraphSource::connect(&creds, &endpoints, options)?)
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
        /// Latency added to every response, in milliseconds (at most a minute).
        #[arg(long, default_value_t = 0, value_parser = values::latency_ms)]
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
    /// Users in the tenant (at most 1,000,000).
    #[arg(long, default_value_t = 200, value_parser = values::tenant_objects)]
    users: usize,
    /// Groups in the tenant (at most 1,000,000).
    #[arg(long, default_value_t = 40, value_parser = values::tenant_objects)]
    groups: usize,
    /// Group memberships in all (default: about ten per user; at most 10,000,000).
    #[arg(long, value_parser = values::memberships)]
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
    exit::install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    logging::init(cli.verbose);
    let json = cli.command.json();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::Code::Internal.status());
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A command that got as far as its report printed it already (exit 1 says some of it
            // failed); one that stopped before prints its error as the JSON document instead.
            if json && e.code != exit::Code::Failures {
                out!("{}", e.to_json());
            }
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// clap's help and version go out as clap prints them; its errors become one line (clap's text up
/// to its first blank line, which names the problem and may quote a value holding a newline) and
/// exit code 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    if matches!(e.kind(), K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand) {
        let _ = e.print();
        return if e.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(exit::Code::Usage.status())
        } else {
            ExitCode::SUCCESS
        };
    }
    let text = e.render().to_string();
    let problem: Vec<&str> =
        text.trim_start().split("\n\n").next().unwrap_or_default().lines().map(str::trim).collect();
    let problem = problem.join(" ");
    let problem = problem.strip_prefix("error: ").unwrap_or(&problem);
    let problem = if problem.is_empty() { "bad command line" } else { problem };
    eprintln!("error: {} (see --help)", exit::one_line(problem));
    ExitCode::from(exit::Code::Usage.status())
}

/// Print a value as pretty JSON on stdout.
fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::new(exit::Code::Internal, format!("cannot print JSON: {e}")))?;
    out!("{text}");
    Ok(())
}

async fn run(cli: Cli) -> Result<(), CliError> {
    entra_backup::init_crypto();
    match cli.command {
        Command::Categories { json } => categories(json),
        Command::Permissions { categories, restore } => {
            let perms = catalog::permissions(&categories, restore).map_err(entra_backup::Error::from)?;
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
            let server = SimServer::start_on(config, addr)
                .await
                .map_err(|e| CliError::usage(format!("cannot listen on {addr}: {e}")))?;
            out!("listening on {}", server.url());
            eprintln!(
                "tenant {} ({} objects); token endpoint {}/{}/oauth2/v2.0/token; Graph {}",
                server.tenant_id(),
                server.tenant().total_objects(),
                server.url(),
                server.tenant_id(),
                server.graph_url()
            );
            tokio::signal::ctrl_c()
                .await
                .map_err(|e| CliError::new(exit::Code::Internal, format!("cannot wait for Ctrl-C: {e}")))?;
            server.shutdown().await;
            Ok(())
        }
        Command::Demo { tenant, repo } => demo::demo(tenant, repo).await,
        Command::Init { repo, secrets, kdf_memory_mib, kdf_iterations, force } => {
            init_cmd::init(&repo, &secrets, kdf_memory_mib, kdf_iterations, force).await
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
            snapshots,
            keep_last: 0,
            keep_hourly: 0,
            keep_daily: 0,
            keep_weekly: 0,
            keep_monthly: 0,
            keep_yearly: 0,
            prune,
            dry_run,
            grace,
            json,
        } if !snapshots.is_empty() => {
            repair_cmds::forget_ids(&repo, &snapshots, dry_run, json).await?;
            if prune {
                repo_cmds::prune_cmd(&repo, grace, dry_run, json).await?;
            }
            Ok(())
        }
        Command::Forget { snapshots, .. } if !snapshots.is_empty() => {
            Err(CliError::usage("give snapshots to forget or --keep-* rules, not both"))
        }
        Command::Repair { what } => repair_cmds::repair(what).await,
        Command::Forget {
            repo,
            snapshots: _,
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
            force,
            ..
        } => {
            let repo = RepoArgs { repo, password_file, key_file, plaintext };
            repo_cmds::export(&repo, &secrets_key, &snapshot, &out, force, json).await
        }
        Command::Export { out, force, categories, json, secrets, logs_days, connection, .. } => {
            let cats = if categories.is_empty() {
                catalog::all().iter().collect()
            } else {
                catalog::resolve(&categories).map_err(entra_backup::Error::from)?
            };
            let logs_since =
                logs_days.map(|d| jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * i64::from(d)));
            let source = connection.source(SourceOptions { secrets, logs_since, ..SourceOptions::default() })?;
            let progress = Progress::new(&cats);
            let display = (!json && std::io::stderr().is_terminal()).then(|| progress::start(progress.clone()));
            let result = pipeline::export_with(
                &source,
                &out,
                &progress,
                pipeline::ExportOptions { replace: force, whole: false },
            )
            .await;
            if let Some(d) = display {
                d.stop().await;
            }
            let summary = result?;
            if json {
                crate::print_json(&summary)?;
            } else {
                print_summary(&summary, &out);
            }
            if summary.ok() {
                Ok(())
            } else {
                Err(CliError::failures(format!("{} categories failed (see above)", summary.failed_categories)))
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

fn categories(json: bool) -> Result<(), CliError> {
    if json {
        return print_json(catalog::all());
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
