//! The restore use cases: plan a restore (a dry run) or carry it out.

use super::Connection;
use crate::catalog::Category;
use crate::error::Result;
use crate::repo::Repository;
use crate::restore::{RestoreOptions, RestoreReport};
use crate::source::SnapshotSource;

/// What [`plan`] and [`restore`] restore: the scope within the snapshot.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RestoreRequest {
    /// Categories to restore; empty (the default): every category of the snapshot.
    pub categories: Vec<&'static Category>,
    /// Objects (snapshot ids) to restore; empty: all of them.
    pub ids: Vec<String>,
    /// Attributes (and relationships) to restore; empty: all of them.
    pub attributes: Vec<String>,
    /// Also remove links and contained children the tenant has and the snapshot does not.
    pub overwrite_relationships: bool,
}

impl RestoreRequest {
    /// Only these categories (empty: every category of the snapshot).
    #[must_use]
    pub fn categories(mut self, categories: Vec<&'static Category>) -> Self {
        self.categories = categories;
        self
    }

    /// Only these objects (snapshot ids; empty: all).
    #[must_use]
    pub fn ids(mut self, ids: Vec<String>) -> Self {
        self.ids = ids;
        self
    }

    /// Only these attributes or relationships (empty: all).
    #[must_use]
    pub fn attributes(mut self, attributes: Vec<String>) -> Self {
        self.attributes = attributes;
        self
    }

    /// Also remove links and children the snapshot does not have (exact membership).
    #[must_use]
    pub fn overwrite_relationships(mut self, overwrite: bool) -> Self {
        self.overwrite_relationships = overwrite;
        self
    }

    fn options(&self, dry_run: bool) -> RestoreOptions {
        RestoreOptions {
            categories: self.categories.clone(),
            ids: self.ids.clone(),
            attributes: self.attributes.clone(),
            overwrite_relationships: self.overwrite_relationships,
            dry_run,
        }
    }
}

/// What restoring `request`'s scope of `snapshot` (an id, a unique prefix, or `latest`) of `repo`
/// into the tenant `connection` reaches would do, object by object: the plan, with nothing written
/// (what `entra-backup restore --dry-run` prints).
pub async fn plan(
    connection: &Connection,
    repo: Repository,
    snapshot: &str,
    request: &RestoreRequest,
) -> Result<RestoreReport> {
    run(connection, repo, snapshot, request, true).await
}

/// Restore `request`'s scope of `snapshot` (an id, a unique prefix, or `latest`) of `repo` into
/// the tenant `connection` reaches: recycle-bin restores, recreations (new ids remapped everywhere
/// and kept in the repository's id map), patches and relinks, in dependency order. Objects and
/// categories that fail are in the report; see [`crate::restore::restore`].
///
/// The writes are spread over the connection's app registrations
/// ([`Connection::with_extra_app`]), each paced to its own write quota and all together to the
/// tenant's; every app signs in before the first write.
pub async fn restore(
    connection: &Connection,
    repo: Repository,
    snapshot: &str,
    request: &RestoreRequest,
) -> Result<RestoreReport> {
    run(connection, repo, snapshot, request, false).await
}

async fn run(
    connection: &Connection,
    repo: Repository,
    snapshot: &str,
    request: &RestoreRequest,
    dry_run: bool,
) -> Result<RestoreReport> {
    let (live, restorer) = connection.restorer()?;
    connection.check_extra_apps(&restorer).await?;
    let snapshot = SnapshotSource::open(repo, snapshot, false).await?;
    crate::restore::restore(&snapshot, &live, &restorer, &request.options(dry_run)).await
}
