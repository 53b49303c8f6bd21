//! The plan's types: a category's plan is a list of steps, each naming one object and one thing
//! to do to it. They serialise as a dry run shows them (`docs/restore.md`).

use std::collections::HashSet;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::catalog;
use crate::diff::display_name;
pub use crate::restore::schedule::ScheduleAction;

/// What a restore will do to one category, object by object (the steps of one object follow
/// each other, in the order they are carried out; links are added at the end of the restore,
/// when every object they point to exists).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryPlan {
    /// The category's name.
    pub category: &'static str,
    /// The steps, object by object.
    pub steps: Vec<Step>,
    /// Objects in scope that are live and as the snapshot has them (or were found under the id an
    /// earlier request gave them): nothing to do.
    pub unchanged: u64,
}

/// One thing to do to one object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The object's id in the snapshot.
    pub id: String,
    /// Its id in the tenant, when it is there (it differs once an object was recreated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
    /// A name people know the object by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// What to do.
    #[serde(flatten)]
    pub action: Action,
    /// The snapshot's object (ids not mapped), for a step that creates it again: what it cannot get
    /// back, and its children, are known from it.
    #[serde(skip)]
    pub(crate) object: Option<Map<String, Value>>,
}

/// A relationship of a step, shown by its name.
pub type Rel = &'static catalog::Relationship;

fn rel_name<S: Serializer>(rel: &Rel, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(rel.name)
}

/// A link a created object gets: bound in its create request when Graph allows it, else added
/// after every object exists.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkTo {
    /// The relationship.
    #[serde(serialize_with = "rel_name")]
    pub relationship: Rel,
    /// The target's id (mapped).
    pub target: String,
}

/// The kinds of step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Action {
    /// Bring the object back from the directory recycle bin, with its id (then look again at it).
    Undelete,
    /// Create the object anew (a new id, unless the caller chooses it), with these attributes
    /// (ids mapped), and these links.
    Create {
        /// The writable attributes.
        body: Map<String, Value>,
        /// Its links.
        links: Vec<LinkTo>,
    },
    /// Write a PIM schedule request: make the schedule again, or put back its `scheduleInfo`.
    RequestSchedule {
        /// `adminAssign` or `adminUpdate`.
        request: ScheduleAction,
        /// The schedule (ids mapped), or for an update the attributes to put back.
        schedule: Map<String, Value>,
    },
    /// Write these attributes (ids mapped) back to the live object.
    Patch {
        /// The attributes and their snapshot values.
        attributes: Map<String, Value>,
    },
    /// Put back contained children (a policy's assignments, an application's federated
    /// credentials): `want` as in the snapshot, `have` as live.
    Children {
        /// The relationship.
        #[serde(serialize_with = "rel_name")]
        relationship: Rel,
        /// The snapshot's children.
        want: Value,
        /// The live children.
        have: Value,
    },
    /// Add a link.
    Link {
        /// The relationship.
        #[serde(serialize_with = "rel_name")]
        relationship: Rel,
        /// The target (snapshot id; mapped when written).
        target: String,
    },
    /// Remove a link the snapshot lacks (with `overwrite_relationships`).
    Unlink {
        /// The relationship.
        #[serde(serialize_with = "rel_name")]
        relationship: Rel,
        /// The target (snapshot id).
        target: String,
    },
    /// The object is live under another id (`live`), made by an earlier request whose answer was
    /// lost: record the id, write nothing.
    Adopt,
    /// A time-bound PIM role assignment: it comes back through its schedule's request, never as a
    /// permanent assignment; `key` names who holds which role where.
    AwaitSchedule {
        /// The assignment's natural key.
        key: String,
    },
    /// Graph will not let anyone restore the object (no `attribute`) or one of its attributes.
    NotRestorable {
        /// The attribute or relationship; none: the whole object.
        #[serde(skip_serializing_if = "Option::is_none")]
        attribute: Option<String>,
        /// Why.
        reason: String,
        /// Links refused with the object that wait for targets being restored (ids): the object
        /// gets a second look when one of them comes back.
        #[serde(skip)]
        waits_for: Vec<String>,
    },
}

impl Step {
    pub(crate) fn new(id: &str, object: &Map<String, Value>, action: Action) -> Self {
        Step { id: id.to_string(), live: None, display_name: display_name(object), action, object: None }
    }

    /// Whether the step writes anything to the live object (rather than reporting it).
    pub fn writes(&self) -> bool {
        matches!(
            self.action,
            Action::Patch { .. }
                | Action::Children { .. }
                | Action::Link { .. }
                | Action::Unlink { .. }
                | Action::RequestSchedule { .. }
        )
    }

    /// Whether a second look is due when `back` (ids) came back from the recycle bin: the step
    /// links to one of them.
    pub(crate) fn links_to(&self, back: &HashSet<String>) -> bool {
        match &self.action {
            Action::Link { target, .. } => back.contains(target),
            Action::NotRestorable { waits_for, .. } => waits_for.iter().any(|t| back.contains(t)),
            _ => false,
        }
    }
}
