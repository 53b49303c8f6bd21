//! Deterministic churn of the simulated tenant: about a given share of the big directory categories
//! changes, as administrators and users change a tenant between two backups, so that incremental
//! backups (delta rounds) can be tested and benchmarked.
//!
//! Every change goes through [`Tenant`]'s public mutators (`insert`, `patch`, `remove`, `link`,
//! `unlink`), so each gets a change sequence number and delta queries report it as Graph would. The
//! same tenant and seed give the same changes: randomness comes only from the simulator's [`Rng`],
//! seeded by the seed and the tenant's latest change sequence number (so that churning twice with
//! the same seed changes different objects and never reuses an id).
//!
//! With `n` objects in a category and `k = max(1, round(n * fraction))`:
//!
//! - users: `k` users get 1 to 3 property changes (job title, department move, office, phones, an
//!   address move within their country, employee type); `round(k / 10)` of them (members) a new
//!   manager; `round(k / 20)` new users are created (cloned from a cloud-only member of the tenant,
//!   with a fresh id, name, unique `userPrincipalName` and timestamps of `now`, reporting to the
//!   template's manager) and `round(k / 20)` users are removed, alternately soft and hard. Only
//!   users that nothing but groups and devices refers to are removed (no managers, role holders,
//!   application owners, administrative-unit members...), after being unlinked from those groups and
//!   devices.
//! - groups: `k` groups get a description or display name change, a membership change (1 to 5 users
//!   added or removed), or both. Dynamic groups keep holding what their rules select: users whose
//!   properties changed or who were created are added to or removed from them, and new member users
//!   join "All Employees" (these groups count as updated too). Dynamic, synced and "All Employees"
//!   groups only get description changes from the random share.
//! - devices: `k` devices get a property change (`displayName`, `operatingSystemVersion` or
//!   `approximateLastSignInDateTime`); `max(1, round(k / 10))` of them a new registered owner.
//! - applications and servicePrincipals: `k` of each get a `notes` or `tags` change.
//! - directoryAudits and signIns: `k` new records each, cloned from existing ones with new ids and
//!   times in the minutes before `now`, strictly increasing and later than any existing record.
//!
//! Every other category is left alone (dynamic administrative units are not re-evaluated: no
//! property their rules read is changed on existing users).
//!
//! This module holds the report, the entry point and the mutators every kind of change uses (each
//! counted in the report); the changes of each category are in `users`, `groups`, `devices`, `apps`
//! and `logs`.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Ref, Rng, Tenant};
use entra_backup::catalog;

mod apps;
mod devices;
mod groups;
mod logs;
mod users;

/// The categories churn changes, in the order it changes them.
pub const CHURNED_CATEGORIES: &[&str] =
    &["users", "groups", "devices", "applications", "servicePrincipals", "directoryAudits", "signIns"];

/// What churn did to one category. Ids are sorted; an object counts once, as created, removed or
/// (otherwise) updated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryChurn {
    /// Existing objects whose properties or links changed.
    pub updated: usize,
    /// New objects.
    pub created: usize,
    /// Objects removed (soft or hard).
    pub removed: usize,
    /// Links added or removed on objects of this category (a replaced manager counts two).
    pub links_changed: usize,
    /// The ids of the updated objects.
    pub updated_ids: Vec<String>,
    /// The ids of the new objects.
    pub created_ids: Vec<String>,
    /// The ids of the removed objects.
    pub removed_ids: Vec<String>,
}

/// What [`churn`] changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChurnReport {
    /// The share asked for (clamped to 0..=1).
    pub fraction: f64,
    /// The seed the changes were drawn from.
    pub seed: u64,
    /// The tenant's change sequence number before and after the churn: a delta round taken at
    /// `seq_before` sees exactly these changes.
    pub seq_before: u64,
    /// The tenant's change sequence number after the churn.
    pub seq_after: u64,
    /// Per churned category (every one of [`CHURNED_CATEGORIES`] the catalog has, changed or not).
    pub categories: BTreeMap<&'static str, CategoryChurn>,
    /// Objects created, updated or removed over all categories.
    pub objects_touched: usize,
}

impl ChurnReport {
    /// The changes of one category (empty for a category churn leaves alone).
    pub fn category(&self, name: &str) -> CategoryChurn {
        self.categories.get(name).cloned().unwrap_or_default()
    }
}

/// Change about `fraction` of the big directory categories of `tenant`, deterministically from
/// `seed` (see the module documentation for the mix). `now` dates new objects and log records.
pub fn churn(tenant: &mut Tenant, now: Timestamp, fraction: f64, seed: u64) -> ChurnReport {
    let fraction = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 };
    let seq_before = tenant.seq();
    let root = Rng::new(seed).fork(&format!("churn-{seq_before}"));
    let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let mut c = Churn { t: tenant, now, fraction, root, track: BTreeMap::new() };
    c.users();
    c.devices();
    c.groups();
    c.properties("applications");
    c.properties("servicePrincipals");
    c.logs("directoryAudits");
    c.logs("signIns");

    let mut categories = BTreeMap::new();
    let mut objects_touched = 0;
    for name in CHURNED_CATEGORIES.iter().copied().filter(|n| catalog::get(n).is_some()) {
        let tr = c.track.remove(name).unwrap_or_default();
        let updated_ids: Vec<String> =
            tr.updated.iter().filter(|id| !tr.created.contains(*id) && !tr.removed.contains(*id)).cloned().collect();
        let report = CategoryChurn {
            updated: updated_ids.len(),
            created: tr.created.len(),
            removed: tr.removed.len(),
            links_changed: tr.links,
            updated_ids,
            created_ids: tr.created.into_iter().collect(),
            removed_ids: tr.removed.into_iter().collect(),
        };
        objects_touched += report.updated + report.created + report.removed;
        categories.insert(name, report);
    }
    ChurnReport { fraction, seed, seq_before, seq_after: c.t.seq(), categories, objects_touched }
}

#[derive(Debug, Default)]
struct Track {
    updated: BTreeSet<String>,
    created: BTreeSet<String>,
    removed: BTreeSet<String>,
    links: usize,
}

struct Churn<'t> {
    t: &'t mut Tenant,
    now: Timestamp,
    fraction: f64,
    root: Rng,
    track: BTreeMap<&'static str, Track>,
}

fn string<'a>(json: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    json.get(key).and_then(Value::as_str)
}

impl Churn<'_> {
    fn k(&self, n: usize) -> usize {
        if n == 0 { 0 } else { ((n as f64 * self.fraction).round() as usize).clamp(1, n) }
    }

    fn track(&mut self, category: &'static str) -> &mut Track {
        self.track.entry(category).or_default()
    }

    fn ids(&self, category: &str) -> Vec<String> {
        self.t.objects(category).map(|o| o.id().to_string()).collect()
    }

    fn patch(&mut self, category: &'static str, id: &str, changes: Map<String, Value>) {
        if !changes.is_empty() && self.t.patch(category, id, &changes).is_ok() {
            self.track(category).updated.insert(id.to_string());
        }
    }

    fn link(&mut self, category: &'static str, id: &str, rel: &str, target: Ref) {
        if self.t.links(category, id, rel).contains(&target) {
            return;
        }
        let replaced = match catalog::get(category).and_then(|c| c.relationships.iter().find(|r| r.name == rel)) {
            Some(r) if r.kind == catalog::RelationshipKind::Link => self.t.links(category, id, rel).len(),
            _ => 0,
        };
        if self.t.link(category, id, rel, target).is_ok() {
            let tr = self.track(category);
            tr.links += 1 + replaced;
            tr.updated.insert(id.to_string());
        }
    }

    fn unlink(&mut self, category: &'static str, id: &str, rel: &str, target: &Ref) {
        if self.t.unlink(category, id, rel, target).unwrap_or(false) {
            let tr = self.track(category);
            tr.links += 1;
            tr.updated.insert(id.to_string());
        }
    }

    /// A fresh object id: no live or removed object has it.
    fn fresh_id(&self, rng: &mut Rng) -> String {
        loop {
            let id = rng.guid();
            let removed =
                catalog::all().iter().any(|c| self.t.store(c.name).is_some_and(|s| s.removed.contains_key(&id)));
            if self.t.find(&id).is_none() && !removed {
                return id;
            }
        }
    }

    // ----- users -----

    /// Users something other than a group or a device refers to (by a link or by id in its JSON):
    /// managers, role holders, owners of applications, members of administrative units, users named
    /// in policies. Removing them would change other categories.
    fn referenced_users(&self) -> HashSet<String> {
        let Some(users) = self.t.store("users") else { return HashSet::new() };
        let mut out = HashSet::new();
        fn walk(v: &Value, users: &super::CategoryStore, out: &mut HashSet<String>) {
            match v {
                Value::String(s) => {
                    let last = s.rsplit('/').next().unwrap_or(s);
                    for candidate in [s.as_str(), last] {
                        if candidate.len() == 36 && users.contains(candidate) {
                            out.insert(candidate.to_string());
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, users, out)),
                Value::Object(m) => m.values().for_each(|x| walk(x, users, out)),
                _ => {}
            }
        }
        for cat in catalog::all().iter().filter(|c| c.time_property.is_none()) {
            let links = !matches!(cat.name, "groups" | "devices");
            let json = !matches!(cat.name, "users" | "groups" | "devices");
            if !links && !json {
                continue;
            }
            for o in self.t.objects(cat.name) {
                if links {
                    for targets in o.links.values() {
                        out.extend(targets.iter().filter(|r| r.category == "users").map(|r| r.id.clone()));
                    }
                }
                if json {
                    o.json.values().for_each(|v| walk(v, users, &mut out));
                    for children in o.children.values() {
                        for child in children {
                            child.values().for_each(|v| walk(v, users, &mut out));
                        }
                    }
                }
            }
        }
        out
    }
}
