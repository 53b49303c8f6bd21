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
    /// Why Graph (or Entra ID) does not let it be written back, and what the operator can do.
    pub reason: String,
}

/// One object the restore touched or could not touch.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReport {
    /// The object's category.
    pub category: &'static str,
    /// The id in the snapshot.
    pub id: String,
    /// Its display name in the snapshot, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// What happened to it (or would happen, in a dry run).
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
    /// The parts of it that cannot be restored, with the reasons.
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
    /// The category.
    pub category: &'static str,
    /// Objects of the snapshot in it.
    pub objects: u64,
    /// Why it cannot be written back.
    pub reason: String,
}

/// A password given to a recreated user: shown once, never logged, never stored.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewPassword {
    /// The recreated user's new id.
    pub id: String,
    /// The user's sign-in name.
    pub user_principal_name: String,
    /// The temporary password (the user must change it at the next sign-in).
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
    /// Objects brought back from the recycle bin with their ids.
    pub restored: u64,
    /// Objects created anew (under new ids).
    pub recreated: u64,
    /// Live objects whose attributes were written back.
    pub patched: u64,
    /// Objects whose links only were added or removed.
    pub relinked: u64,
    /// Objects already as in the snapshot.
    pub unchanged: u64,
    /// Objects (or parts of them) that cannot be restored.
    pub not_restorable: u64,
    /// Objects with at least one refused write.
    pub failed: u64,
    /// Objects a dry run would change.
    pub planned: u64,
    /// Graph writes sent (inside batch envelopes or alone).
    pub writes: u64,
    /// HTTP requests sent, reads and batch envelopes included.
    pub requests: u64,
    /// How long the restore took, in milliseconds.
    pub duration_ms: u64,
}

/// The whole report of a restore (or of a dry run: the plan).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreReport {
    /// The snapshot restored from (its full id).
    pub snapshot: String,
    /// The tenant written to.
    pub tenant: String,
    /// Whether nothing was written (the report is then the plan).
    pub dry_run: bool,
    /// Every object the restore touched, or found it could not touch.
    pub objects: Vec<ObjectReport>,
    /// Categories of the snapshot a restore cannot write at all, with the reasons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryNote>,
    /// Categories that could not be restored at all, with Graph's error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_categories: Vec<CategoryFailure>,
    /// Old id -> new id of every recreated object (of this run and earlier interrupted ones).
    pub id_map: BTreeMap<String, String>,
    /// The temporary passwords of recreated users (shown once; never stored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passwords: Vec<NewPassword>,
    /// The counts.
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
