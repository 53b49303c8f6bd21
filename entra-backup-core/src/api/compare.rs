//! The diff use case: a snapshot against another snapshot, or against the live tenant.

use tokio::sync::mpsc;

use super::Connection;
use crate::catalog::{self, Category};
use crate::diff::{DiffSummary, ObjectDiff, diff_live, diff_snapshots};
use crate::error::Result;
use crate::repo::{IdMap, Snapshot};
use crate::source::{Source, SourceOptions};

/// What a snapshot is compared with.
#[derive(Debug, Clone, Copy)]
pub enum DiffWith<'a> {
    /// Another snapshot of the same repository (an id, a unique prefix, or `latest`): the newer side.
    Snapshot(&'a str),
    /// The tenant as Graph reads it now through this connection.
    Live(&'a Connection),
}

/// What [`diff`] compares.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DiffRequest {
    /// The categories to compare; empty (the default): every category but the time-windowed logs.
    pub categories: Vec<&'static Category>,
    /// Only this object (its snapshot id).
    pub id: Option<String>,
}

impl DiffRequest {
    /// Only these categories (empty: every category but the logs).
    #[must_use]
    pub fn categories(mut self, categories: Vec<&'static Category>) -> Self {
        self.categories = categories;
        self
    }

    /// Only this object.
    #[must_use]
    pub fn id(mut self, id: Option<String>) -> Self {
        self.id = id;
        self
    }

    /// The categories compared: those asked for, or every category but the logs.
    pub fn compared_categories(&self) -> Vec<&'static Category> {
        if self.categories.is_empty() {
            catalog::all().iter().filter(|c| c.time_property.is_none()).collect()
        } else {
            self.categories.clone()
        }
    }
}

/// Compare snapshot `before` with `with`, sending each object that differs to `out` as it is
/// found, and return the counts. Against the live tenant, objects an earlier restore recreated are
/// compared under their new ids (through the repository's id map) and reported with `new_id`; a
/// category Graph refuses is named in [`DiffSummary::failed_categories`] and the others go on.
/// A receiver that went away ends the comparison early. The connection is opened before anything
/// is compared.
///
/// ```no_run
/// # async fn demo(repo: entra_backup::Repository) -> entra_backup::Result<()> {
/// use entra_backup::api::{Connection, DiffRequest, DiffWith, diff};
/// use entra_backup::diff::ObjectDiff;
///
/// let before = repo.open_snapshot("latest", false).await?;
/// let connection = Connection::from_env()?;
/// let (tx, mut rx) = tokio::sync::mpsc::channel::<ObjectDiff>(256);
/// let printer = async move {
///     while let Some(d) = rx.recv().await {
///         println!("{:?} {} {}", d.kind, d.category, d.id);
///     }
/// };
/// let compare = async move { diff(&before, DiffWith::Live(&connection), &DiffRequest::default(), &tx).await };
/// let (summary, ()) = tokio::join!(compare, printer);
/// println!("{} changed", summary?.changed);
/// # Ok(()) }
/// ```
pub async fn diff(
    before: &Snapshot,
    with: DiffWith<'_>,
    request: &DiffRequest,
    out: &mpsc::Sender<ObjectDiff>,
) -> Result<DiffSummary> {
    let categories = request.compared_categories();
    let id = request.id.as_deref();
    match with {
        DiffWith::Snapshot(other) => {
            let after = Snapshot::open(before.repository().clone(), other, false).await?;
            diff_snapshots(before, &after, &categories, id, out).await
        }
        DiffWith::Live(connection) => {
            let live = connection.source(SourceOptions::default())?;
            // Objects an earlier restore recreated are compared under their new ids.
            let tenant = live.tenant_id().unwrap_or_else(|| before.tenant().id.clone());
            let map = IdMap::load(before.repository(), before.id(), &tenant).await?;
            diff_live(before, &live, &categories, id, &map, out).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_compares_every_category_but_the_logs_by_default() {
        let all = DiffRequest::default().compared_categories();
        assert!(!all.is_empty() && all.iter().all(|c| c.time_property.is_none()));
        assert_eq!(all.len(), catalog::all().iter().filter(|c| c.time_property.is_none()).count());
        let users = catalog::get("users").unwrap();
        let names: Vec<&str> =
            DiffRequest::default().categories(vec![users]).compared_categories().iter().map(|c| c.name).collect();
        assert_eq!(names, ["users"]);
    }
}
