//! The commands for a damaged repository: `forget SNAPSHOT...` (by id, readable or not) and
//! `repair snapshots` / `repair index`. Each opens the repository and calls the library.

use entra_backup::repo::prune;
use entra_backup::repo::repair::{self, QUARANTINE};

use crate::exit::CliError;
use crate::repo_cmds::RepoArgs;

/// `repair snapshots` or `repair index`.
#[derive(clap::Subcommand)]
pub(crate) enum RepairCommand {
    /// Set aside snapshot files that cannot be read (empty or damaged) in quarantine/snapshots/.
    Snapshots {
        #[command(flatten)]
        repo: RepoArgs,
        /// Say what would be set aside; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the index from the readable index files and the packs' own headers.
    Index {
        #[command(flatten)]
        repo: RepoArgs,
        /// Say what would be rebuilt and lost; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

impl RepairCommand {
    /// Whether JSON was asked for (errors are then printed as JSON too).
    pub(crate) fn json(&self) -> bool {
        match self {
            RepairCommand::Snapshots { json, .. } | RepairCommand::Index { json, .. } => *json,
        }
    }
}

fn e(err: entra_backup::Error) -> CliError {
    err.into()
}

/// `data/<2 hex>/<id>` (the id as given, escaped, if it is not an id).
fn pack_file(pack: &str) -> String {
    entra_backup::repo::pack_path(pack).unwrap_or_else(|_| pack.escape_debug().to_string())
}

/// `forget SNAPSHOT...`: remove those snapshots, readable or not.
pub(crate) async fn forget_ids(repo: &RepoArgs, names: &[String], dry_run: bool, json: bool) -> Result<(), CliError> {
    let repository = repo.open().await?;
    let ids = prune::forget_snapshots(&repository, names, dry_run).await.map_err(e)?;
    if json {
        let doc = serde_json::json!({"dryRun": dry_run, "removed": ids});
        crate::print_json(&doc)?;
    } else {
        for id in &ids {
            out!("{} {id}", if dry_run { "would remove" } else { "removed" });
        }
        out!("{} snapshots {}", ids.len(), if dry_run { "would be removed" } else { "removed" });
    }
    Ok(())
}

/// `repair snapshots` and `repair index`.
pub(crate) async fn repair(what: RepairCommand) -> Result<(), CliError> {
    match what {
        RepairCommand::Snapshots { repo, dry_run, json } => {
            let repository = repo.open().await?;
            let report = repair::repair_snapshots(&repository, dry_run).await.map_err(e)?;
            if json {
                crate::print_json(&report)?;
                return Ok(());
            }
            let verb = if dry_run { "would set aside" } else { "set aside" };
            for bad in &report.set_aside {
                out!("{verb} snapshots/{} ({}): lost, kept in {QUARANTINE}/snapshots/", bad.id, bad.reason);
            }
            for bad in &report.newer {
                out!("left snapshots/{}: {}", bad.id, bad.reason);
            }
            out!("{} snapshots readable, {} {verb}", report.readable, report.set_aside.len());
        }
        RepairCommand::Index { repo, dry_run, json } => {
            let repository = repo.open().await?;
            let report = repair::repair_index(&repository, dry_run).await.map_err(e)?;
            if json {
                crate::print_json(&report)?;
                return Ok(());
            }
            let would = if dry_run { "would be " } else { "" };
            for bad in &report.unreadable_indexes {
                out!("unreadable index, {would}set aside: {bad}");
            }
            for pack in &report.packs_reindexed {
                out!("{would}indexed again from its header: {}", pack_file(pack));
            }
            for bad in &report.packs_lost {
                out!("lost, {would}set aside: {bad}");
            }
            for pack in &report.packs_missing {
                out!("lost, missing from storage: {}", pack_file(pack));
            }
            if report.changed() {
                out!(
                    "{} index files read; index {would}rebuilt with {} blobs{}; run `entra-backup check` to see which \
                     snapshots lost data",
                    report.indexes_read,
                    report.blobs,
                    report.new_index.as_deref().map(|id| format!(" (index/{id})")).unwrap_or_default()
                );
            } else {
                out!("{} index files read, {} blobs: nothing to rebuild", report.indexes_read, report.blobs);
            }
        }
    }
    Ok(())
}
