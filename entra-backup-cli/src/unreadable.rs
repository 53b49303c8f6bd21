//! The warnings about snapshot files that cannot be read, shared by the commands that meet them
//! (backup, snapshots, forget) and the repair commands that deal with them.

use entra_backup::repo::Repository;
use entra_backup::repo::prune::ForgetDecision;
use entra_backup::repo::snapshot::{UnreadableSnapshot, list_snapshot_ids};

use crate::exit::CliError;

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// The warning for a snapshot file that cannot be read.
pub(crate) fn unreadable_line(bad: &UnreadableSnapshot) -> String {
    let hint = if bad.is_damaged() {
        format!("; `entra-backup repair snapshots` sets it aside, `entra-backup forget {}` removes it", short(&bad.id))
    } else {
        String::new()
    };
    format!("warning: snapshot {} (snapshots/{}) cannot be read: {}{hint}", short(&bad.id), bad.id, bad.reason)
}

/// The warning a backup gives for a snapshot file it passed over when choosing its parent.
pub(crate) fn skipped_line(bad: &UnreadableSnapshot) -> String {
    format!("{} (not considered as the parent of this backup)", unreadable_line(bad))
}

/// After a policy forget: name the snapshot files the policy could not decide on (they cannot be
/// read, so their time is unknown) and that were kept.
pub(crate) async fn note_undecided(repo: &Repository, decisions: &[ForgetDecision]) -> Result<(), CliError> {
    for id in list_snapshot_ids(repo.store()).await.map_err(CliError::from)? {
        if !decisions.iter().any(|d| d.id == id) {
            eprintln!(
                "warning: snapshot {} cannot be read and was kept; `entra-backup forget {}` removes it",
                short(&id),
                short(&id)
            );
        }
    }
    Ok(())
}
