//! What a restore did, object by object: nothing is skipped silently.

use std::collections::BTreeMap;

use serde::Serialize;

use super::plan::CategoryPlan;
use crate::catalog::Strategy;
use crate::error::CategoryFailure;

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Brought back from the recycle bin with its id (and patched to the snapshot's state).
    Restored,
    /// Created anew: see `new_id`.
    Recreated,
    /// Attributes written back.
    Patched,
    /// Only links added or removed.
    Relinked,
    /// Graph will not let anyone restore it (or part of it): see `not_restorable`.
    NotRestorable,
    /// Graph refused a write: see `error`.
    Failed,
    /// In a dry run: what would be done.
    Planned,
    /// Nothing to do after all (such objects are counted in the summary, not listed).
    Unchanged,
}

/// A part of an object that cannot be restored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotRestorable {
    /// The attribute or relationship; None: the whole object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    pub reason: String,
}

/// One object the restore touched or could not touch.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReport {
    pub category: &'static str,
    /// The id in the snapshot.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub outcome: Outcome,
    /// The strategy used (or planned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Strategy>,
    /// The id of a recreated object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_id: Option<String>,
    /// Attributes written (or to be written in a dry run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// References added, as `relationship:id` (ids as written, remapped).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links_added: Vec<String>,
    /// References removed (with `--overwrite-relationships`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links_removed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_restorable: Vec<NotRestorable>,
    /// Graph's errors, one per refused write.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl ObjectReport {
    pub(crate) fn new(category: &'static str, id: &str, display_name: Option<String>, outcome: Outcome) -> Self {
        ObjectReport {
            category,
            id: id.to_string(),
            display_name,
            outcome,
            action: None,
            new_id: None,
            attributes: vec![],
            links_added: vec![],
            links_removed: vec![],
            not_restorable: vec![],
            errors: vec![],
        }
    }

    /// Record a refused write: the object is failed whatever else was done to it.
    pub(crate) fn fail(&mut self, error: String) {
        self.outcome = Outcome::Failed;
        self.errors.push(error);
    }
}

/// A category as a whole that a restore cannot write (logs, licences, BitLocker keys).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryNote {
    pub category: &'static str,
    /// Objects of the snapshot in it.
    pub objects: u64,
    pub reason: String,
}

/// A password given to a recreated user: shown once, never logged, never stored.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewPassword {
    pub id: String,
    pub user_principal_name: String,
    pub password: String,
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewPassword").field("id", &self.id).field("password", &"<redacted>").finish()
    }
}

/// Counts of a restore.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSummary {
    pub restored: u64,
    pub recreated: u64,
    pub patched: u64,
    pub relinked: u64,
    pub unchanged: u64,
    pub not_restorable: u64,
    pub failed: u64,
    pub planned: u64,
    /// Graph writes sent (inside batch envelopes or alone).
    pub writes: u64,
    /// HTTP requests sent, reads and batch envelopes included.
    pub requests: u64,
    pub duration_ms: u64,
}

/// The whole report of a restore (or of a dry run: the plan).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreReport {
    pub snapshot: String,
    pub tenant: String,
    pub dry_run: bool,
    pub objects: Vec<ObjectReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryNote>,
    /// Categories that could not be restored at all, with Graph's error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_categories: Vec<CategoryFailure>,
    /// Old id -> new id of every recreated object (of this run and earlier interrupted ones).
    pub id_map: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passwords: Vec<NewPassword>,
    pub summary: RestoreSummary,
    /// In a dry run, the plan of each category planned: what a restore would do, step by step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<CategoryPlan>,
}

impl RestoreReport {
    /// Whether any write, or any category, failed (the CLI exits non-zero).
    pub fn failed(&self) -> bool {
        self.summary.failed > 0 || !self.failed_categories.is_empty()
    }

    pub(crate) fn count(&mut self) {
        let mut s = RestoreSummary {
            unchanged: self.summary.unchanged,
            writes: self.summary.writes,
            requests: self.summary.requests,
            duration_ms: self.summary.duration_ms,
            ..RestoreSummary::default()
        };
        for o in &self.objects {
            match o.outcome {
                Outcome::Restored => s.restored += 1,
                Outcome::Recreated => s.recreated += 1,
                Outcome::Patched => s.patched += 1,
                Outcome::Relinked => s.relinked += 1,
                Outcome::NotRestorable => s.not_restorable += 1,
                Outcome::Failed => s.failed += 1,
                Outcome::Planned => s.planned += 1,
                Outcome::Unchanged => s.unchanged += 1,
            }
        }
        self.summary = s;
    }
}
