//! The restore plan of one category: what to do to each object in scope, decided from the
//! snapshot's objects, the live tenant's objects as Graph reads them, the ids in the recycle bin
//! and the [`IdMap`] of earlier restores. Planning is pure (no I/O, no clock: the time is given),
//! so it is tested on plain JSON without any server (`tests.rs`); the executor (`execute.rs`)
//! reads what the planner needs, and walks the plan through a [`Restorer`](super::Restorer).
//!
//! A plan is also what a dry run shows: [`RestoreReport::plan`](super::RestoreReport::plan).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::schedule;
use crate::catalog::{Category, Condition, RelationshipKind, RelationshipWrite, Strategy};
use crate::diff::compare_objects;
use crate::repo::idmap::{IdMap, natural_key};
use crate::source::Object;

mod step;
#[cfg(test)]
mod tests;

pub use step::{Action, CategoryPlan, LinkTo, Rel, ScheduleAction, Step};

/// Why an attribute the service sets cannot be written back.
const READ_ONLY: &str = "set by Graph, not writable (read-only)";
/// Why a dynamic group's members are not written back.
const DYNAMIC: &str = "the members of a dynamic group are computed by Entra ID from its membership rule; Graph \
                       refuses to add or remove them";
/// Why a time-bound PIM assignment that ended is not restored.
const PIM_EXPIRED: &str = "a time-bound PIM assignment that expired after the snapshot was taken";

/// What the planner of one category knows besides the objects: the category, the id map, the
/// scope's attributes, whether links the snapshot lacks are removed, and the time.
pub(crate) struct Planner<'a> {
    /// The category planned.
    pub cat: &'static Category,
    /// The ids of earlier recreates.
    pub map: &'a IdMap,
    /// The attributes in scope (empty: all).
    pub attributes: &'a [String],
    /// Remove links and children the snapshot lacks.
    pub overwrite_relationships: bool,
    /// Now, for PIM schedules' ends.
    pub now: jiff::Timestamp,
}

/// The live objects of a category, matched with the snapshot's ids in scope.
#[derive(Default)]
pub(crate) struct Matched {
    /// Snapshot ids found live.
    pub seen: HashSet<String>,
    /// (snapshot id, live object) of each of them.
    pub found: Vec<(String, Object)>,
    /// Creates an earlier run sent without an answer, found by natural key: (snapshot id, live id).
    pub adopted: Vec<(String, String)>,
    /// Every live id read.
    pub live_ids: crate::source::ids::IdSet,
    /// Objects written by request under ids the snapshot does not name, by natural key: live id.
    pub strays: HashMap<String, String>,
}

/// Matches live objects, as they are read, with the snapshot's `entries`.
pub(crate) struct Matcher<'a> {
    entries: &'a BTreeSet<String>,
    map: &'a IdMap,
    requested: bool,
    /// Creates in flight when an earlier run stopped, by natural key.
    pending: HashMap<String, String>,
    /// What was matched.
    pub matched: Matched,
}

impl<'a> Matcher<'a> {
    /// A matcher of `cat`'s live objects to `entries`.
    pub(crate) fn new(cat: &'static Category, entries: &'a BTreeSet<String>, map: &'a IdMap) -> Self {
        let pending = map
            .pending
            .iter()
            .filter(|(_, p)| p.category == cat.name)
            .map(|(old, p)| (p.key.clone(), old.clone()))
            .collect();
        Matcher {
            entries,
            map,
            requested: cat.restore.strategies.contains(&Strategy::Request),
            pending,
            matched: Matched::default(),
        }
    }

    /// One live object.
    pub(crate) fn see(&mut self, o: Object) {
        let m = &mut self.matched;
        m.live_ids.insert(&o.id);
        let old = self.map.old_of(&o.id).to_string();
        if self.entries.contains(&old) {
            m.seen.insert(old.clone());
            m.found.push((old, o));
        } else if self.requested {
            // Schedules are made by requests, under new ids: live ones the snapshot does not name
            // are kept by who holds which role where, to be matched with the missing ones.
            m.strays.insert(natural_key(&o.json), o.id.clone());
        } else if let Some(old) =
            Some(natural_key(&o.json)).filter(|k| !k.is_empty()).and_then(|k| self.pending.get(&k))
        {
            m.adopted.push((old.clone(), o.id.clone()));
            m.seen.insert(old.clone());
            m.found.push((old.clone(), o));
        }
    }
}

/// What differs in one object that exists live.
#[derive(Default)]
struct Changes {
    patch: Map<String, Value>,
    links: Vec<(Rel, String, bool)>,
    contained: Vec<(Rel, Value, Value)>,
    not_restorable: Vec<(Option<String>, String)>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.patch.is_empty() && self.links.is_empty() && self.contained.is_empty() && self.not_restorable.is_empty()
    }
}

/// Everything a whole category's plan is made from, for [`Planner::category`].
#[cfg(test)]
pub(crate) struct Inputs<'a> {
    /// The snapshot's objects in scope, by id.
    pub snapshot: &'a std::collections::BTreeMap<String, Map<String, Value>>,
    /// The live objects.
    pub live: Vec<Object>,
    /// The ids of the category's objects in the recycle bin.
    pub bin: &'a HashSet<String>,
    /// How active PIM schedules that are not permanent assignments are held, by natural key.
    pub pim: &'a HashMap<String, schedule::Pim>,
    /// Snapshot ids of earlier categories that could not be brought back.
    pub lost: &'a HashSet<String>,
}

impl Planner<'_> {
    /// The whole plan of a category from everything at once (the executor plans the same way,
    /// piece by piece as it reads; see `execute.rs`). Creates found by natural key are adopted in
    /// `map` first.
    #[cfg(test)]
    pub(crate) fn category(&self, inputs: Inputs<'_>) -> CategoryPlan {
        let entries: BTreeSet<String> = inputs.snapshot.keys().cloned().collect();
        let mut matcher = Matcher::new(self.cat, &entries, self.map);
        for o in inputs.live {
            matcher.see(o);
        }
        let matched = matcher.matched;
        let mut map = self.map.clone();
        for (old, new) in &matched.adopted {
            map.insert(old, new);
        }
        let planner = Planner { map: &map, ..*self };
        let mut plan = CategoryPlan { category: self.cat.name, steps: Vec::new(), unchanged: 0 };
        for (old, o) in &matched.found {
            match planner.live(old, &inputs.snapshot[old], &o.id, &o.json) {
                Some(steps) => plan.steps.extend(steps),
                None => plan.unchanged += 1,
            }
        }
        for (old, object) in inputs.snapshot.iter().filter(|(id, _)| !matched.seen.contains(*id)) {
            let steps = planner.missing(old, object, inputs.bin, inputs.pim, &matched.strays, inputs.lost);
            plan.unchanged += steps.iter().filter(|s| matches!(s.action, Action::Adopt)).count() as u64;
            plan.steps.extend(steps);
        }
        plan
    }

    /// The steps for an object that is live (as `live_id`, holding `live`), or None when it is as
    /// the snapshot's `snap` has it.
    pub(crate) fn live(
        &self,
        old: &str,
        snap: &Map<String, Value>,
        live_id: &str,
        live: &Map<String, Value>,
    ) -> Option<Vec<Step>> {
        let cat = self.cat;
        let requested = cat.restore.strategies.contains(&Strategy::Request);
        let mut mapped = snap.clone();
        self.map.apply_map(&mut mapped);
        let mut changes = self.changes(&mapped, live);
        if requested && !changes.patch.is_empty() {
            // An `adminUpdate` names the schedule by who holds which role where.
            for k in schedule::IDENTITY {
                if let Some(v) = mapped.get(k) {
                    changes.patch.insert(k.to_string(), v.clone());
                }
            }
        }
        if changes.is_empty() {
            return None;
        }
        let step = |action| Step { live: Some(live_id.to_string()), ..Step::new(old, snap, action) };
        let not_restorable = |attribute: Option<String>, reason: String, waits_for: Vec<String>| {
            step(Action::NotRestorable { attribute, reason, waits_for })
        };
        let limit = cat.restore.limits.iter().find(|l| {
            !matches!(l.when, Condition::HardDeleted | Condition::SecretProperties | Condition::Always)
                && l.when.matches(&Value::Object(snap.clone()))
        });
        let mut steps = Vec::new();
        if let Some(limit) = limit {
            // Graph refuses these writes: say so for each attribute, write nothing. The links wait
            // for a second look if what they point to comes back from the recycle bin.
            let names: BTreeSet<String> = changes
                .patch
                .keys()
                .cloned()
                .chain(changes.links.iter().map(|(r, _, _)| r.name.to_string()))
                .chain(changes.contained.iter().map(|(r, _, _)| r.name.to_string()))
                .collect();
            for a in names {
                let waits_for =
                    changes.links.iter().filter(|(r, _, add)| *add && r.name == a).map(|(_, t, _)| t.clone()).collect();
                steps.push(not_restorable(Some(a), limit.reason.to_string(), waits_for));
            }
            steps.extend(changes.not_restorable.into_iter().map(|(a, r)| not_restorable(a, r, Vec::new())));
            return Some(steps);
        }
        if !changes.patch.is_empty() {
            steps.push(step(if requested {
                Action::RequestSchedule { request: ScheduleAction::Update, schedule: changes.patch }
            } else {
                Action::Patch { attributes: changes.patch }
            }));
        }
        for (relationship, want, have) in changes.contained {
            steps.push(step(Action::Children { relationship, want, have }));
        }
        for (relationship, target, add) in changes.links {
            steps.push(step(if add {
                Action::Link { relationship, target }
            } else {
                Action::Unlink { relationship, target }
            }));
        }
        steps.extend(changes.not_restorable.into_iter().map(|(a, r)| not_restorable(a, r, Vec::new())));
        Some(steps)
    }

    /// The steps for an object of the snapshot that is not live: from the recycle bin (`bin`),
    /// recreated, requested again, adopted (found among `strays`), waiting for its PIM schedule
    /// (`pim`), or not restorable (its principal among the `lost` included).
    pub(crate) fn missing(
        &self,
        old: &str,
        object: &Map<String, Value>,
        bin: &HashSet<String>,
        pim: &HashMap<String, schedule::Pim>,
        strays: &HashMap<String, String>,
        lost: &HashSet<String>,
    ) -> Vec<Step> {
        let cat = self.cat;
        let step = |action| Step::new(old, object, action);
        let refused = |reason: String| step(Action::NotRestorable { attribute: None, reason, waits_for: Vec::new() });
        let mut mapped = object.clone();
        self.map.apply_map(&mut mapped);
        // A missing role assignment PIM made for a while, or an activation, is not made
        // permanent: it waits for its schedule's request, or is reported.
        if !pim.is_empty() {
            let key = natural_key(&mapped);
            if let Some(kind) = pim.get(&key) {
                return vec![match kind {
                    schedule::Pim::Activation => refused(schedule::ACTIVATION.into()),
                    schedule::Pim::Expired => refused(PIM_EXPIRED.into()),
                    schedule::Pim::TimeBound => step(Action::AwaitSchedule { key }),
                }];
            }
        }
        let limit = cat.restore.limits.iter().find(|l| {
            !matches!(l.when, Condition::HardDeleted | Condition::SecretProperties)
                && l.when.matches(&Value::Object(object.clone()))
        });
        if let Some(limit) = limit {
            return vec![refused(limit.reason.to_string())];
        }
        if bin.contains(old) {
            return vec![step(Action::Undelete)];
        }
        if cat.restore.strategies.contains(&Strategy::Recreate) {
            let body = create_body(cat, &mapped);
            let links =
                link_targets(cat, &mapped).into_iter().map(|(relationship, target)| LinkTo { relationship, target });
            let action = Action::Create { body, links: links.collect() };
            return vec![Step { object: Some(object.clone()), ..step(action) }];
        }
        if cat.restore.strategies.contains(&Strategy::Request) {
            let principal = object.get("principalId").and_then(Value::as_str).unwrap_or_default();
            if let Some(live) = strays.get(&natural_key(&mapped)) {
                // The same assignment under another id: made by the role assignment restored
                // before it, or by a request whose answer an earlier run lost.
                return vec![Step { live: Some(live.clone()), ..step(Action::Adopt) }];
            }
            if let Some(reason) = schedule::refusal(cat, object, self.now)
                .or_else(|| lost.contains(principal).then(|| schedule::PRINCIPAL_LOST.to_string()))
            {
                return vec![refused(reason)];
            }
            let action = Action::RequestSchedule { request: ScheduleAction::Assign, schedule: mapped };
            return vec![Step { object: Some(object.clone()), ..step(action) }];
        }
        let reason = cat
            .restore
            .limits
            .iter()
            .find(|l| matches!(l.when, Condition::HardDeleted | Condition::Always))
            .map_or_else(
                || format!("deleted for good, and Graph offers no way to create {}", cat.name),
                |l| l.reason.to_string(),
            );
        vec![refused(reason)]
    }

    /// How live object `live` differs from the snapshot's `snap` (ids already mapped), within
    /// the scope's attributes.
    fn changes(&self, snap: &Map<String, Value>, live: &Map<String, Value>) -> Changes {
        let cat = self.cat;
        let mut c = Changes::default();
        let attrs = self.attributes;
        let refuse = |c: &mut Changes, a: &str, reason: String| c.not_restorable.push((Some(a.to_string()), reason));
        for d in compare_objects(cat, live, snap) {
            let name = d.attribute.as_str();
            if name == "id" || (!attrs.is_empty() && !attrs.iter().any(|a| a == name)) {
                continue;
            }
            if let Some(rel) = cat.relationships.iter().find(|r| r.name == name) {
                match (rel.kind, &rel.write) {
                    (RelationshipKind::Contained, RelationshipWrite::WithParent) => {
                        c.patch.insert(d.attribute.clone(), snap.get(name).cloned().unwrap_or(Value::Null));
                    }
                    (RelationshipKind::Contained, RelationshipWrite::Action { .. } | RelationshipWrite::Children) => {
                        let want = strip_ids(snap.get(name));
                        let have = strip_ids(live.get(name));
                        if want != have {
                            c.contained.push((
                                rel,
                                snap.get(name).cloned().unwrap_or(json!([])),
                                live.get(name).cloned().unwrap_or(json!([])),
                            ));
                        }
                    }
                    (_, RelationshipWrite::Ref { .. }) if dynamic(cat, rel, snap) => {
                        refuse(&mut c, name, DYNAMIC.into());
                    }
                    (_, RelationshipWrite::Ref { .. } | RelationshipWrite::PutRef) => {
                        for t in &d.added {
                            c.links.push((rel, t.clone(), true));
                        }
                        let replaced = rel.kind == RelationshipKind::Link && !d.added.is_empty();
                        if self.overwrite_relationships && !replaced {
                            for t in &d.removed {
                                c.links.push((rel, t.clone(), false));
                            }
                        }
                    }
                    (_, RelationshipWrite::NotWritable { reason }) => {
                        if !d.added.is_empty()
                            || self.overwrite_relationships
                            || rel.kind == RelationshipKind::Contained
                        {
                            refuse(&mut c, name, reason.to_string());
                        }
                    }
                    _ => refuse(&mut c, name, "Graph offers no way to write it".into()),
                }
            } else if name == "scheduleInfo" && cat.restore.strategies.contains(&Strategy::Request) {
                // A schedule put back by request starts when it is put back: only its end is restored.
                if schedule::end(snap) == schedule::end(live) {
                    refuse(&mut c, name, schedule::STARTS_AGAIN.into());
                } else {
                    c.patch.insert(d.attribute.clone(), snap.get(name).cloned().unwrap_or(Value::Null));
                }
            } else if cat.restore.read_only.contains(&name) {
                refuse(&mut c, name, READ_ONLY.into());
            } else if cat.secret_properties.contains(&name) {
                refuse(&mut c, name, secret_reason(cat));
            } else {
                c.patch.insert(d.attribute.clone(), snap.get(name).cloned().unwrap_or(Value::Null));
            }
        }
        let patchable = cat.restore.strategies.iter().any(|s| matches!(s, Strategy::Patch | Strategy::SingletonPatch))
            || (cat.restore.strategies.contains(&Strategy::Request) && c.patch.keys().all(|k| k == "scheduleInfo"));
        if !patchable && !c.patch.is_empty() {
            let reason = cat
                .restore
                .limits
                .iter()
                .find(|l| l.when == Condition::Always)
                .map_or_else(|| format!("Graph offers no update of {}", cat.name), |l| l.reason.to_string());
            for (k, _) in std::mem::take(&mut c.patch) {
                c.not_restorable.push((Some(k), reason.clone()));
            }
        }
        if !c.patch.is_empty()
            && !cat.derived_types.is_empty()
            && let Some(t) = snap.get("@odata.type")
        {
            // Derived types (named locations, Intune profiles) must say which they are.
            c.patch.insert("@odata.type".into(), t.clone());
        }
        c
    }
}

/// The attributes that create `object` (ids mapped): the writable ones, without links (a
/// created object's links are bound on create or added afterwards).
pub(crate) fn create_body(cat: &'static Category, object: &Map<String, Value>) -> Map<String, Value> {
    let mut body = Map::new();
    for (k, v) in object {
        let skip = v.is_null()
            || (k.starts_with('@') && k != "@odata.type")
            || (k == "id" && !cat.id.caller_chooses())
            || cat.restore.read_only.contains(&k.as_str())
            || cat.secret_properties.contains(&k.as_str())
            || cat.relationships.iter().any(|r| r.name == k && !matches!(r.write, RelationshipWrite::WithParent));
        if !skip {
            body.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Whether `rel` of `object` holds links Entra ID computes from a membership rule (a dynamic
/// group's members), which nobody can write.
pub(crate) fn dynamic(cat: &Category, rel: Rel, object: &Map<String, Value>) -> bool {
    cat.restore.dynamic_members == Some(rel.name)
        && Condition::DynamicMembership.matches(&Value::Object(object.clone()))
}

/// Every link target of an object, for relationships written by reference.
pub(crate) fn link_targets(cat: &'static Category, object: &Map<String, Value>) -> Vec<(Rel, String)> {
    let mut out = Vec::new();
    for rel in cat.relationships.iter().filter(|r| r.kind != RelationshipKind::Contained) {
        if !matches!(rel.write, RelationshipWrite::Ref { .. } | RelationshipWrite::PutRef) {
            continue;
        }
        for r in object.get(rel.name).and_then(Value::as_array).into_iter().flatten() {
            if let Some(id) = r.get("id").and_then(Value::as_str) {
                out.push((rel, id.to_string()));
            }
        }
    }
    out
}

/// Contained children without their ids (given by the service), to compare their content.
fn strip_ids(v: Option<&Value>) -> Value {
    let mut v = v.cloned().unwrap_or(json!([]));
    if let Value::Array(a) = &mut v {
        for item in a.iter_mut() {
            if let Value::Object(m) = item {
                m.retain(|k, _| k != "id" && !k.starts_with('@'));
            }
        }
    }
    if v == json!(null) { json!([]) } else { v }
}

fn secret_reason(cat: &Category) -> String {
    cat.restore
        .limits
        .iter()
        .find(|l| l.when == Condition::SecretProperties)
        .map_or_else(|| "a secret Graph never returns, so no backup holds it".to_string(), |l| l.reason.to_string())
}

/// What a recreated object cannot get back: what Graph sets on create, and secrets.
pub(crate) fn recreate_losses(cat: &Category, object: &Map<String, Value>) -> Vec<super::NotRestorable> {
    use super::NotRestorable;
    let has = |k: &str| object.get(k).is_some_and(|v| !v.is_null() && v != &json!([]) && v != &json!({}));
    let mut out: Vec<NotRestorable> = cat
        .restore
        .read_only
        .iter()
        .filter(|k| **k != "id" && has(k))
        .map(|k| NotRestorable {
            attribute: Some(k.to_string()),
            reason: "set by Graph when the object is created".into(),
        })
        .collect();
    for rel in cat.relationships {
        if let RelationshipWrite::NotWritable { reason } = rel.write
            && has(rel.name)
        {
            out.push(NotRestorable { attribute: Some(rel.name.to_string()), reason: reason.to_string() });
        }
    }
    out.extend(
        cat.secret_properties
            .iter()
            .filter(|k| has(k))
            .map(|k| NotRestorable { attribute: Some(k.to_string()), reason: secret_reason(cat) }),
    );
    out
}
