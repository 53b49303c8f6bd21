//! `entra-backup`: the command-line face of the library. Every command is a thin layer over the
//! library's public API; errors print one line and exit non-zero.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use entra_backup::api;
use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::Summary;
use entra_backup_sim::{SimConfig, SimServer};
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

mod args;
mod demo;
mod exit;
mod extra_apps;
mod init_cmd;
mod key_cmds;
mod logging;
mod repair_cmds;
mod repo_cmds;
mod unreadable;
mod values;
use args::{Cli, Command, ConnectionArgs, OnOff, SimCommand, TenantArgs};
use exit::CliError;
use repo_cmds::RepoArgs;

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
        Command::Sim { command: SimCommand::Serve { addr, tenant, latency_ms, throttle, faults, time_scale } } => {
            let config = SimConfig {
                seed: tenant.seed,
                users: tenant.users,
                groups: tenant.groups,
                memberships: tenant.memberships,
                latency: Duration::from_millis(latency_ms),
                throttle: throttle == OnOff::On,
                fault_rate: faults,
                time_scale,
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
        Command::Backup { repo, categories, full, tags, no_secrets, no_deltas, json, connection } => {
            let budget = cli.memory_budget.unwrap_or_default();
            let flags = (no_secrets, no_deltas);
            repo_cmds::backup(&repo, &connection, &categories, full, tags, flags, json, budget).await
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
            extra_app,
            connection,
        } => {
            let args = repo_cmds::RestoreArgs {
                extra_apps: &extra_app,
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
                Vec::new()
            } else {
                catalog::resolve(&categories).map_err(entra_backup::Error::from)?
            };
            let logs_since =
                logs_days.map(|d| jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * i64::from(d)));
            let connection = connection.connection()?;
            let request =
                api::ExportRequest::default().categories(cats).secrets(secrets).logs_since(logs_since).replace(force);
            let progress = request.progress();
            let display = (!json && std::io::stderr().is_terminal()).then(|| progress::start(progress.clone()));
            let result = api::export(&connection, &out, &request, &progress).await;
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
        out!(
            "{:<40} {:<62} {:<6} {}",
            c.name,
            catalog::urls::versioned(c),
            if c.delta.is_some() { "yes" } else { "no" },
            restore_of(c)
        );
    }
    Ok(())
}

fn restore_of(c: &Category) -> String {
    if c.restore.strategies.is_empty() {
        return "not restorable".into();
    }
    let s: Vec<String> = c.restore.strategies.iter().map(|s| format!("{s:?}")).collect();
    s.join(", ")
}
