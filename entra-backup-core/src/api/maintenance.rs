//! The repository's upkeep: check, forget and prune.

use crate::error::{Error, Result};
use crate::repo::Repository;
use crate::repo::check::{self, CheckOptions, CheckReport};
use crate::repo::prune::{self, ForgetDecision, KeepPolicy, PruneOptions, PrunePlan};

/// What [`check`] verifies.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CheckRequest {
    /// Read and verify this percentage of the packs, 0 (the default: structure only) to 100.
    pub read_data_percent: f64,
}

impl CheckRequest {
    /// Read and verify this percentage of the packs (0 to 100).
    #[must_use]
    pub fn read_data_percent(mut self, percent: f64) -> Self {
        self.read_data_percent = percent;
        self
    }
}

/// Verify `repo`: its snapshots, index and packs, and with
/// [`CheckRequest::read_data_percent`] a share of its data. Damage is in the report
/// ([`CheckReport::ok`]), not an error; a percentage outside 0 to 100 is
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput).
pub async fn check(repo: &Repository, request: &CheckRequest) -> Result<CheckReport> {
    let percent = request.read_data_percent;
    if !(0.0..=100.0).contains(&percent) {
        return Err(Error::invalid_input(format!(
            "the share of data to read is a percentage from 0 to 100, not {percent}"
        )));
    }
    check::check(repo, &CheckOptions { read_data_percent: percent }).await
}

/// What [`forget_with`] removes.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ForgetRequest {
    /// Which snapshots to keep; the others are removed. It must keep something.
    pub policy: KeepPolicy,
    /// Say what would be removed; change nothing.
    pub dry_run: bool,
}

impl ForgetRequest {
    /// The retention policy.
    #[must_use]
    pub fn policy(mut self, policy: KeepPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Decide only; remove nothing.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

/// Remove the snapshots `request`'s policy does not keep (their files; [`prune`] frees their
/// data), holding the prune lease meanwhile so that it never races a prune's view of the
/// snapshots; as `entra-backup forget` runs it. An empty policy is
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput). Unlike [`forget`](super::forget),
/// which refuses an empty policy before taking the lease, this takes the lease first (as the
/// command-line tool always has).
pub async fn forget_with(repo: &Repository, request: &ForgetRequest) -> Result<Vec<ForgetDecision>> {
    let lease = prune::acquire_lease(repo).await?;
    let decisions = prune::forget(repo, &request.policy, request.dry_run).await;
    let released = lease.release(repo).await;
    // The forget's own error says more than a failed release after it.
    let decisions = decisions?;
    released?;
    Ok(decisions)
}

/// What [`prune`] does.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PruneRequest {
    /// How long packs stay marked unused before deletion (default 24 hours). Shorter is only safe
    /// when no backup runs.
    pub grace: jiff::SignedDuration,
    /// Say what would be done; change nothing.
    pub dry_run: bool,
}

impl Default for PruneRequest {
    fn default() -> Self {
        let defaults = PruneOptions::default();
        PruneRequest { grace: defaults.grace, dry_run: defaults.dry_run }
    }
}

impl PruneRequest {
    /// The grace period.
    #[must_use]
    pub fn grace(mut self, grace: jiff::SignedDuration) -> Self {
        self.grace = grace;
        self
    }

    /// Plan only; change nothing.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

/// Delete data no snapshot needs, in two phases: packs are marked unused first and deleted by a
/// later prune once the grace period has passed. Returns what was (or, dry, would be) done.
pub async fn prune(repo: &Repository, request: &PruneRequest) -> Result<PrunePlan> {
    let options = PruneOptions { grace: request.grace, dry_run: request.dry_run, ..PruneOptions::default() };
    prune::prune(repo, &options).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_default_as_the_library_does() {
        let prune = PruneRequest::default();
        assert_eq!(prune.grace, PruneOptions::default().grace);
        assert!(!prune.dry_run);
        assert!(!ForgetRequest::default().dry_run);
        assert_eq!(CheckRequest::default().read_data_percent(5.0).read_data_percent, 5.0);
    }
}
