//! Restore: make the live tenant match a snapshot, within a scope (categories, objects,
//! attributes), category by category in the catalog's dependency order. The semantics are in
//! `docs/restore.md`; in short:
//!
//! - each category is **planned just before it is written**, from the difference between the
//!   snapshot and the tenant as Graph reads it then, so that it sees what earlier categories
//!   brought back, and a second run finds nothing to do;
//! - a missing object comes back from the **recycle bin** (same id) when Graph keeps its type
//!   there, or is **recreated** (a new id, recorded in the [`IdMap`](crate::repo::IdMap) and
//!   written in place of the old one everywhere after); a live one is **patched**; links are
//!   **relinked** at the end, when every object they point to exists;
//! - what Graph will not let anyone restore is reported with the reason, never skipped silently.
//!
//! The code is in three parts. [`plan`] decides, without any I/O, what to do to each object of a
//! category: a [`CategoryPlan`] of [`Step`]s (undelete, create, patch, link, unlink, schedule
//! request, not restorable with the reason). `execute` reads what the planner needs, walks the
//! plan and records the report; after recycle-bin restores it plans the objects that came back
//! again (an explicit second look). The write side is the [`Restorer`] trait of domain
//! [`Operation`]s; [`GraphRestorer`] turns them into Microsoft Graph requests, and is the only
//! restore code that knows Graph's URLs. A dry run ([`RestoreOptions::dry_run`]) plans every
//! category against today's tenant, writes nothing, and reports the plan.

mod execute;
mod graph;
pub mod plan;
mod relink;
mod report;
mod schedule;
mod scope;
mod write;

use std::collections::HashSet;

use serde_json::{Map, Value};

pub use graph::GraphRestorer;
pub use plan::{Action, CategoryPlan, Step};
pub use report::{CategoryNote, NewPassword, NotRestorable, ObjectReport, Outcome, RestoreReport, RestoreSummary};

use crate::catalog::{Category, Relationship};
use crate::error::Result;
use crate::source::{SnapshotSource, Source};

/// One write a restore asks for, in the directory's terms: the [`Restorer`] decides how it is sent.
#[derive(Debug, Clone)]
pub enum Operation {
    /// Bring a deleted object back from the directory recycle bin, with its id.
    Undelete {
        /// The object's id.
        id: String,
    },
    /// Create an object of the category with `body`, linked on create to the existing objects of
    /// `bind` (at most 20).
    Create {
        /// Its attributes.
        body: Map<String, Value>,
        /// Links written with the create.
        bind: Vec<Bind>,
    },
    /// Send a PIM schedule request (`adminAssign`, `adminUpdate`) of the category.
    RequestSchedule {
        /// The request.
        body: Map<String, Value>,
    },
    /// Write attributes of an object (a singleton ignores `id`), and add the links of `bind`.
    Patch {
        /// The object's id.
        id: String,
        /// The attributes.
        body: Map<String, Value>,
        /// Links added in the same write.
        bind: Vec<Bind>,
    },
    /// Add a link from object `id` to `target`.
    Link {
        /// The source object.
        id: String,
        /// The relationship.
        relationship: &'static Relationship,
        /// The target object.
        target: String,
    },
    /// Remove a link from object `id` to `target`.
    Unlink {
        /// The source object.
        id: String,
        /// The relationship.
        relationship: &'static Relationship,
        /// The target object.
        target: String,
    },
    /// Create a contained child of object `parent`.
    AddChild {
        /// The parent's id.
        parent: String,
        /// The relationship holding it.
        relationship: &'static Relationship,
        /// The child (without its id).
        child: Value,
    },
    /// Delete a contained child of object `parent`.
    RemoveChild {
        /// The parent's id.
        parent: String,
        /// The relationship holding it.
        relationship: &'static Relationship,
        /// The child's id.
        child: String,
    },
    /// Replace the whole set of contained children of object `parent` (Intune `assign`).
    ReplaceChildren {
        /// The parent's id.
        parent: String,
        /// The relationship holding them.
        relationship: &'static Relationship,
        /// The children (without their ids).
        children: Vec<Value>,
    },
}

impl Operation {
    /// Whether the operation removes something (so that "not found" means done).
    pub fn removes(&self) -> bool {
        matches!(self, Operation::Unlink { .. } | Operation::RemoveChild { .. })
    }
}

/// Links of one relationship written with a create or a patch.
#[derive(Debug, Clone)]
pub struct Bind {
    /// The relationship.
    pub relationship: &'static Relationship,
    /// The targets' ids.
    pub targets: Vec<String>,
}

/// The write side of a restore.
#[async_trait::async_trait]
pub trait Restorer: Send + Sync {
    /// The ids of the objects of `category`'s type in the directory's recycle bin.
    async fn deleted(&self, category: &'static Category) -> Result<HashSet<String>>;
    /// Carry out `operations` on objects of `category` (independent of each other) and return
    /// each answer (the created object, for a create) or error, in order.
    async fn apply(&self, category: &'static Category, operations: Vec<Operation>) -> Vec<Result<Value>>;
    /// (writes sent, HTTP requests sent) so far.
    fn counts(&self) -> (u64, u64);
}

/// What to restore.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Categories to restore; empty: every category of the snapshot.
    pub categories: Vec<&'static Category>,
    /// Objects (snapshot ids) to restore; empty: all of them.
    pub ids: Vec<String>,
    /// Attributes (and relationships) to restore; empty: all of them.
    pub attributes: Vec<String>,
    /// Also remove links and contained children the tenant has and the snapshot does not (exact
    /// membership).
    pub overwrite_relationships: bool,
    /// Plan and report, write nothing.
    pub dry_run: bool,
}

/// Restore the snapshot named `snapshot` (an id, a prefix, or `latest`) of `repo` into the tenant
/// `live` reads, writing through a [`GraphRestorer`] that shares `live`'s client (and its pacing).
/// What the command-line tool and the Python module call.
pub async fn restore_snapshot(
    repo: crate::repo::Repository,
    snapshot: &str,
    live: &crate::source::GraphSource,
    options: &RestoreOptions,
) -> Result<RestoreReport> {
    let snapshot = SnapshotSource::open(repo, snapshot, false).await?;
    let restorer = GraphRestorer::new(live.client().clone());
    restore(&snapshot, live, &restorer, options).await
}

/// Restore `options`' scope of `snapshot` into the tenant `live` reads and `restorer` writes.
pub async fn restore(
    snapshot: &SnapshotSource,
    live: &dyn Source,
    restorer: &dyn Restorer,
    options: &RestoreOptions,
) -> Result<RestoreReport> {
    execute::run(snapshot, live, restorer, options).await
}
