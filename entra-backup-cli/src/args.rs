//! The command line: every command, its flags and their documentation, as clap reads them.
//! `main.rs` runs what is parsed here.

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};
use entra_backup::api::Connection;
use entra_backup::graph::auth::Credentials;
use entra_backup_sim as sim;

use crate::exit::CliError;
use crate::repo_cmds::{self, RepoArgs, SecretsArgs};
use crate::{key_cmds, repair_cmds, values};

#[derive(Parser)]
#[command(
    name = "entra-backup",
    version,
    about = "Back up and restore a Microsoft Entra ID tenant through Microsoft Graph"
)]
pub(crate) struct Cli {
    /// More detail on stderr: -v info, -vv debug, -vvv trace (RUST_LOG, when set, decides instead).
    /// Warnings are always shown. Logs never carry secrets.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// Memory a backup's per-object sets (the parent's entries, what changed) may take before
    /// they spill to disk as sorted runs in the temporary folder: e.g. 256M, 1G (default 64M).
    #[arg(long, global = true, value_name = "SIZE", value_parser = values::memory_budget)]
    pub(crate) memory_budget: Option<entra_backup::repo::spill::MemoryBudget>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
        /// Store changed objects whole instead of as deltas against their previous version.
        #[arg(long)]
        no_deltas: bool,
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
        /// Another app registration of the tenant to spread the writes over (Graph limits writes
        /// per app; three apps write three times as fast, up to the tenant's limit), read from the
        /// variables PREFIX_CLIENT_ID and PREFIX_CLIENT_SECRET or PREFIX_CLIENT_CERTIFICATE_PATH
        /// (and PREFIX_TENANT_ID, by default the tenant restored into). Repeatable.
        #[arg(long = "extra-app", value_name = "ENV_PREFIX")]
        extra_app: Vec<String>,
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
    pub(crate) fn json(&self) -> bool {
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
pub(crate) struct ConnectionArgs {
    /// Graph's root URL (a national cloud, or a simulated tenant).
    #[arg(long, default_value = "https://graph.microsoft.com")]
    pub(crate) graph_url: String,
    /// The identity platform's URL.
    #[arg(long, env = "AZURE_AUTHORITY_HOST", default_value = "https://login.microsoftonline.com")]
    pub(crate) authority_url: String,
    /// The tenant (overrides AZURE_TENANT_ID).
    #[arg(long)]
    pub(crate) tenant_id: Option<String>,
    /// The app registration's client id (overrides AZURE_CLIENT_ID).
    #[arg(long)]
    pub(crate) client_id: Option<String>,
    /// Benchmarks only: pace at K times Graph's published rates, against a simulator on loopback
    /// started with `sim serve --time-scale K` (see `Connection::with_time_scale_for_simulator`).
    #[arg(long, hide = true, value_name = "K", value_parser = parse_time_scale)]
    pub(crate) sim_time_scale: Option<f64>,
}

impl ConnectionArgs {
    /// The connection the flags and the environment describe: the environment's credentials
    /// (see [`Connection::from_env`]), with `--tenant-id` and `--client-id` taking precedence.
    pub(crate) fn connection(&self) -> Result<Connection, CliError> {
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
        let connection =
            Connection::from(creds).with_graph_url(self.graph_url.clone()).with_authority(self.authority_url.clone());
        match self.sim_time_scale {
            None => Ok(connection),
            // Pacing faster than Graph allows only makes sense against a simulator on this machine.
            Some(_) if !url::Url::parse(&self.graph_url).is_ok_and(|u| entra_backup::net::is_loopback(&u)) => {
                Err(CliError::usage(format!(
                    "--sim-time-scale is for a simulated tenant on this machine; {} is not a loopback address",
                    self.graph_url
                )))
            }
            Some(k) => Ok(connection.with_time_scale_for_simulator(k)),
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum SimCommand {
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
        /// For benchmarks: every published throttling rate multiplied by K (each window divided by
        /// K, each quota the same), so that a run that takes hours against Graph takes minutes.
        /// The client must pace at the same scale (`Connection::with_time_scale_for_simulator`).
        #[arg(long, value_name = "K", default_value_t = 1.0, value_parser = parse_time_scale)]
        time_scale: f64,
    },
}

#[derive(clap::Args, Clone)]
pub(crate) struct TenantArgs {
    /// Seed of the generated tenant.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Users in the tenant (at most 1,000,000).
    #[arg(long, default_value_t = 200, value_parser = values::tenant_objects)]
    pub(crate) users: usize,
    /// Groups in the tenant (at most 1,000,000).
    #[arg(long, default_value_t = 40, value_parser = values::tenant_objects)]
    pub(crate) groups: usize,
    /// Group memberships in all (default: about ten per user; at most 10,000,000).
    #[arg(long, value_parser = values::memberships)]
    pub(crate) memberships: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum OnOff {
    On,
    Off,
}

pub(crate) fn parse_time_scale(s: &str) -> Result<f64, String> {
    let k: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if k.is_finite() && (0.001..=1_000_000.0).contains(&k) {
        Ok(k)
    } else {
        Err(format!("{k} is not a time scale between 0.001 and 1000000"))
    }
}

pub(crate) fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=1.0).contains(&r) { Ok(r) } else { Err(format!("{r} is not between 0 and 1")) }
}
