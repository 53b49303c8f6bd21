//! Restore: make the live tenant match a snapshot, within a scope (categories, objects,
//! attributes), category by category in the catalog's dependency order. The semantics are in
//! `docs/restore.md`; in short:
//!
//! - each category is **planned just before it is written**, from the difference between the
//!   snapshot and the tenant as Graph reads it then, so that it sees what earlier categories
//!   brought back, and a second run finds nothing to do;
//! - a missing object comes back from the **recycle bin** (same id) when Graph keeps its type
//!   there, or is **recreated** (a new id, recorded in the [`IdMap`] and written in place of the
//!   old one everywhere after); a live one is **patched**; links are **relinked** at the end,
//!   when every object they point to exists;
//! - what Graph will not let anyone restore is reported with the reason, never skipped silently.
//!
//! The write side is the [`Restorer`] trait; [`GraphRestorer`] writes through Microsoft Graph.
//! A dry run ([`RestoreOptions::dry_run`]) plans every category against today's tenant and writes
//! nothing.

mod graph;
mod report;
mod schedule;
mod scope;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures::TryStreamExt;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

pub use graph::GraphRestorer;
pub use report::{CategoryNote, NewPassword, NotRestorable, ObjectReport, Outcome, RestoreReport, RestoreSummary};

use crate::catalog::{self, Category, Condition, RelationshipKind, RelationshipWrite, Shape, Strategy};
use crate::diff::{compare_objects, display_name};
use crate::error::{CategoryFailure, Error, Result};
use crate::repo::idmap::{IdMap, Pending, natural_key};
use crate::source::{CategoryStats, Object, SnapshotSource, Source};

/// One write a restore sends: a method, a URL relative to the category's version root, a body.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub method: &'static str,
    pub url: String,
    pub body: Option<Value>,
}

impl Write {
    fn new(method: &'static str, url: impl Into<String>, body: Option<Value>) -> Self {
        Write { method, url: url.into(), body }
    }
}

/// The write side of a restore.
#[async_trait::async_trait]
pub trait Restorer: Send + Sync {
    /// The ids of the objects of `category`'s type in the directory's recycle bin.
    async fn deleted(&self, category: &'static Category) -> Result<HashSet<String>>;
    /// Send `writes` (independent of each other) and return each answer or error, in order.
    async fn write(&self, category: &'static Category, writes: Vec<Write>) -> Vec<Result<Value>>;
    /// The absolute URL of a path, for `@odata.id` and `@odata.bind`.
    fn object_url(&self, path: &str) -> String;
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

/// Why an attribute the service sets cannot be written back.
const READ_ONLY: &str = "set by Graph, not writable (read-only)";
/// Why a dynamic group's members are not written back.
const DYNAMIC: &str = "the members of a dynamic group are computed by Entra ID from its membership rule; Graph \
                       refuses to add or remove them";
/// Snapshot objects read at once.
const BATCH: usize = 256;

/// A link to add or remove once every object exists (ids as in the snapshot; mapped when sent).
struct LinkOp {
    category: &'static Category,
    relationship: &'static catalog::Relationship,
    source: String,
    target: String,
    add: bool,
    report: usize,
}

/// What differs in one object that exists live.
#[derive(Default)]
struct Changes {
    patch: Map<String, Value>,
    links: Vec<(&'static catalog::Relationship, String, bool)>,
    contained: Vec<(&'static catalog::Relationship, Value, Value)>,
    not_restorable: Vec<NotRestorable>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.patch.is_empty() && self.links.is_empty() && self.contained.is_empty() && self.not_restorable.is_empty()
    }
}

/// An object that exists live and differs from the snapshot.
struct LiveWork {
    old: String,
    live: String,
    changes: Changes,
    report: usize,
    /// Graph refuses these writes (reported): kept only for a second look, never written.
    blocked: bool,
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
    let started = std::time::Instant::now();
    let cats = scope::check(snapshot, options).await?;
    let tenant = live.tenant_id().unwrap_or_else(|| snapshot.tenant().id.clone());
    let map = IdMap::load(snapshot.repository(), snapshot.id(), &tenant).await?;
    live.prepare().await?;
    let mut run = Run {
        snapshot,
        live,
        restorer,
        options,
        map,
        tenant: tenant.clone(),
        present: HashSet::new(),
        lost: HashSet::new(),
        links: Vec::new(),
        report: RestoreReport {
            snapshot: snapshot.id().to_string(),
            tenant,
            dry_run: options.dry_run,
            ..RestoreReport::default()
        },
        reads: 0,
        deferred: HashMap::new(),
    };
    for cat in cats {
        match run.category(cat).await {
            Ok(()) => {}
            // Graph refused this category (a permission or licence the tenant lacks, an outage past
            // the retry budget): say so and go on with the others, as a backup does.
            Err(e) if e.stops_one_category() => {
                tracing::warn!(category = cat.name, error = %e, "category not restored");
                run.report.failed_categories.push(CategoryFailure { category: cat.name, error: e.to_string() });
            }
            Err(e) => return Err(e.context(format!("restoring {}", cat.name))),
        }
    }
    run.settle_deferred().await?;
    run.relink().await?;
    let (writes, requests) = run.restorer.counts();
    // Objects that turned out to need nothing (a second look, links already there) are counted,
    // not listed.
    let before = run.report.objects.len();
    let idle = |o: &ObjectReport| {
        matches!(o.outcome, Outcome::Unchanged | Outcome::Patched | Outcome::Relinked)
            && o.attributes.is_empty()
            && o.links_added.is_empty()
            && o.links_removed.is_empty()
            && o.not_restorable.is_empty()
            && o.errors.is_empty()
    };
    run.report.objects.retain(|o| !idle(o));
    run.report.summary.unchanged += (before - run.report.objects.len()) as u64;
    run.report.id_map = run.map.ids.clone();
    run.report.summary.writes = writes;
    run.report.summary.requests = requests + run.reads;
    run.report.summary.duration_ms = started.elapsed().as_millis() as u64;
    run.report.count();
    Ok(run.report)
}

struct Run<'a> {
    snapshot: &'a SnapshotSource,
    live: &'a dyn Source,
    restorer: &'a dyn Restorer,
    options: &'a RestoreOptions,
    map: IdMap,
    tenant: String,
    /// Live ids known to exist now.
    present: HashSet<String>,
    /// Snapshot ids that could not be brought back.
    lost: HashSet<String>,
    links: Vec<LinkOp>,
    report: RestoreReport,
    /// HTTP requests of the live reads.
    reads: u64,
    /// Time-bound PIM role assignments left to their schedule's request, by who holds which
    /// role where: (snapshot id, report entry).
    deferred: HashMap<String, (String, usize)>,
}

impl Run<'_> {
    fn entry(&mut self, cat: &'static Category, id: &str, object: &Map<String, Value>, outcome: Outcome) -> usize {
        self.report.objects.push(ObjectReport::new(cat.name, id, display_name(object), outcome));
        self.report.objects.len() - 1
    }

    /// How the snapshot's active PIM schedules that are not permanent assignments are held, by
    /// who holds which role where (ids mapped).
    async fn pim_assignments(&self, now: jiff::Timestamp) -> Result<HashMap<String, schedule::Pim>> {
        let mut out = HashMap::new();
        let Some(cat) = catalog::get("roleAssignmentSchedules") else { return Ok(out) };
        if !self.snapshot.holds(cat) {
            return Ok(out);
        }
        let objects: Vec<(String, Map<String, Value>)> =
            self.snapshot.objects_of(cat, None, false).try_collect().await?;
        for (_, mut s) in objects {
            self.map.apply_map(&mut s);
            if let Some(kind) = schedule::pim_kind(&s, now) {
                out.insert(natural_key(&s), kind);
            }
        }
        Ok(out)
    }

    /// A missing role assignment PIM made for a while, or an activation, is not made permanent:
    /// it waits for its schedule's request, or is reported. Whether it was handled so.
    fn held_by_pim(
        &mut self,
        cat: &'static Category,
        old: &str,
        object: &Map<String, Value>,
        pim: &HashMap<String, schedule::Pim>,
    ) -> bool {
        if pim.is_empty() {
            return false;
        }
        let mut mapped = object.clone();
        self.map.apply_map(&mut mapped);
        let key = natural_key(&mapped);
        let Some(kind) = pim.get(&key) else { return false };
        let dry = self.options.dry_run;
        let (outcome, reason) = match kind {
            schedule::Pim::Activation => (Outcome::NotRestorable, Some(schedule::ACTIVATION)),
            schedule::Pim::Expired => {
                (Outcome::NotRestorable, Some("a time-bound PIM assignment that expired after the snapshot was taken"))
            }
            schedule::Pim::TimeBound if dry => (Outcome::Planned, None),
            schedule::Pim::TimeBound => (Outcome::NotRestorable, Some(schedule::THROUGH_SCHEDULE)),
        };
        let i = self.entry(cat, old, object, outcome);
        let r = &mut self.report.objects[i];
        if let Some(reason) = reason {
            r.not_restorable.push(NotRestorable { attribute: None, reason: reason.to_string() });
        }
        if *kind == schedule::Pim::TimeBound {
            r.action = Some(Strategy::Request);
            self.deferred.insert(key, (old.to_string(), i));
        } else {
            self.lost.insert(old.to_string());
        }
        true
    }

    /// Role assignments left to their schedules: the requests made them, under new ids.
    async fn settle_deferred(&mut self) -> Result<()> {
        if self.deferred.is_empty() || self.options.dry_run {
            return Ok(());
        }
        let Some(cat) = catalog::get("roleAssignments") else { return Ok(()) };
        let mut keys = HashMap::new();
        let (read, requests) = read_live(self.live, cat, None, |o| {
            keys.insert(natural_key(&o.json), o.id);
        })
        .await;
        self.reads += requests;
        read?;
        for (key, (old, i)) in std::mem::take(&mut self.deferred) {
            if let Some(new) = keys.get(&key) {
                self.map.insert(&old, new);
                let r = &mut self.report.objects[i];
                r.outcome = Outcome::Recreated;
                r.not_restorable.clear();
                r.new_id = (*new != old).then(|| new.clone());
            }
        }
        self.save_map().await
    }

    async fn save_map(&mut self) -> Result<()> {
        self.map.save(self.snapshot.repository(), self.snapshot.id(), &self.tenant).await
    }

    async fn category(&mut self, cat: &'static Category) -> Result<()> {
        let mut entries = self.snapshot.ids(cat).await?;
        if !self.options.ids.is_empty() {
            entries.retain(|id| self.options.ids.contains(id));
        }
        if entries.is_empty() {
            return Ok(());
        }
        if cat.restore.strategies.is_empty() {
            let reason = cat
                .restore
                .limits
                .iter()
                .find(|l| l.when == Condition::Always)
                .map_or_else(|| format!("Graph offers no way to write {}", cat.name), |l| l.reason.to_string());
            self.report.categories.push(CategoryNote { category: cat.name, objects: entries.len() as u64, reason });
            return Ok(());
        }
        tracing::info!(category = cat.name, objects = entries.len(), "planning");

        // What is live, and how it differs.
        let (seen, mut work, strays) = self.live_pass(cat, &entries, None).await?;
        let missing: BTreeSet<String> = entries.iter().filter(|id| !seen.contains(*id)).cloned().collect();

        // What is gone: from the recycle bin, recreated, or not restorable.
        let mut from_bin: Vec<(String, usize)> = Vec::new();
        let mut to_create: Vec<(String, Map<String, Value>, usize)> = Vec::new();
        if !missing.is_empty() {
            let bin = if cat.restore.strategies.contains(&Strategy::RecycleBin) {
                self.restorer.deleted(cat).await?
            } else {
                HashSet::new()
            };
            let objects: Vec<(String, Map<String, Value>)> =
                self.snapshot.objects_of(cat, Some(missing), false).try_collect().await?;
            let now = jiff::Timestamp::now();
            let mut adopted = false;
            let pim = if cat.name == "roleAssignments" { self.pim_assignments(now).await? } else { HashMap::new() };
            for (old, object) in objects {
                if self.held_by_pim(cat, &old, &object, &pim) {
                    continue;
                }
                let limit = cat.restore.limits.iter().find(|l| {
                    !matches!(l.when, Condition::HardDeleted | Condition::SecretProperties)
                        && l.when.matches(&Value::Object(object.clone()))
                });
                if let Some(limit) = limit {
                    let i = self.entry(cat, &old, &object, Outcome::NotRestorable);
                    self.report.objects[i]
                        .not_restorable
                        .push(NotRestorable { attribute: None, reason: limit.reason.to_string() });
                    self.lost.insert(old);
                } else if bin.contains(&old) {
                    let outcome = if self.options.dry_run { Outcome::Planned } else { Outcome::Restored };
                    let i = self.entry(cat, &old, &object, outcome);
                    self.report.objects[i].action = Some(Strategy::RecycleBin);
                    from_bin.push((old, i));
                } else if cat.restore.strategies.contains(&Strategy::Recreate) {
                    let outcome = if self.options.dry_run { Outcome::Planned } else { Outcome::Recreated };
                    let i = self.entry(cat, &old, &object, outcome);
                    self.report.objects[i].action = Some(Strategy::Recreate);
                    to_create.push((old, object, i));
                } else if cat.restore.strategies.contains(&Strategy::Request) {
                    let mut mapped = object.clone();
                    self.map.apply_map(&mut mapped);
                    let principal = object.get("principalId").and_then(Value::as_str).unwrap_or_default();
                    if let Some(live) = strays.get(&natural_key(&mapped)) {
                        // The same assignment under another id: made by the role assignment
                        // restored before it, or by a request whose answer an earlier run lost.
                        self.map.insert(&old, live);
                        adopted = true;
                        self.report.summary.unchanged += 1;
                    } else if let Some(reason) = schedule::refusal(cat, &object, now)
                        .or_else(|| self.lost.contains(principal).then(|| schedule::PRINCIPAL_LOST.to_string()))
                    {
                        let i = self.entry(cat, &old, &object, Outcome::NotRestorable);
                        self.report.objects[i].not_restorable.push(NotRestorable { attribute: None, reason });
                        self.lost.insert(old);
                    } else {
                        let outcome = if self.options.dry_run { Outcome::Planned } else { Outcome::Recreated };
                        let i = self.entry(cat, &old, &object, outcome);
                        self.report.objects[i].action = Some(Strategy::Request);
                        to_create.push((old, object, i));
                    }
                } else {
                    let reason = cat
                        .restore
                        .limits
                        .iter()
                        .find(|l| matches!(l.when, Condition::HardDeleted | Condition::Always))
                        .map_or_else(
                            || format!("deleted for good, and Graph offers no way to create {}", cat.name),
                            |l| l.reason.to_string(),
                        );
                    let i = self.entry(cat, &old, &object, Outcome::NotRestorable);
                    self.report.objects[i].not_restorable.push(NotRestorable { attribute: None, reason });
                    self.lost.insert(old);
                }
            }
            if adopted && !self.options.dry_run {
                self.save_map().await?;
            }
        }

        if self.options.dry_run {
            for (_, object, i) in &to_create {
                let mut mapped = object.clone();
                self.map.apply_map(&mut mapped);
                let body = if cat.restore.strategies.contains(&Strategy::Request) {
                    let w = schedule::request(cat, &mapped, "adminAssign", self.snapshot.id(), jiff::Timestamp::now());
                    w.body.and_then(|b| b.as_object().cloned()).unwrap_or_default()
                } else {
                    self.create_body(cat, &mapped).0
                };
                let attributes: Vec<String> = body.keys().filter(|k| !k.starts_with('@')).cloned().collect();
                let links: Vec<String> =
                    link_targets(cat, &mapped).into_iter().map(|(r, t)| format!("{}:{t}", r.name)).collect();
                self.report.objects[*i].attributes = attributes;
                self.report.objects[*i].links_added = links;
            }
            for w in work.iter().filter(|w| !w.blocked) {
                self.describe(cat, w);
            }
            return Ok(());
        }

        // Bring back from the recycle bin, then look again at what came back.
        if !from_bin.is_empty() {
            let writes = from_bin
                .iter()
                .map(|(id, _)| Write::new("POST", format!("/directory/deletedItems/{id}/restore"), Some(json!({}))))
                .collect();
            let answers = self.restorer.write(cat, writes).await;
            let mut back: HashSet<String> = HashSet::new();
            for ((id, i), answer) in from_bin.iter().zip(answers) {
                match answer {
                    Ok(_) => {
                        self.present.insert(id.clone());
                        back.insert(id.clone());
                    }
                    Err(e) => {
                        self.report.objects[*i].fail(explain(&e));
                        self.lost.insert(id.clone());
                    }
                }
            }
            if !back.is_empty() {
                let mut reports: HashMap<String, usize> = from_bin.iter().map(|(id, i)| (id.clone(), *i)).collect();
                // Live objects that were to link to what just came back get a second look too:
                // the recycle bin brings back the links others held to a restored object.
                let (recheck, keep): (Vec<LiveWork>, Vec<LiveWork>) = std::mem::take(&mut work)
                    .into_iter()
                    .partition(|w| w.changes.links.iter().any(|(_, t, add)| *add && back.contains(t)));
                work = keep;
                let mut ids = back.clone();
                for w in recheck {
                    ids.insert(w.live.clone());
                    reports.insert(w.old.clone(), w.report);
                    // Looked at afresh: what the first look said no longer holds.
                    let r = &mut self.report.objects[w.report];
                    r.outcome = Outcome::Unchanged;
                    r.action = None;
                    r.not_restorable.clear();
                }
                let olds: HashSet<&String> = reports.keys().collect();
                let restored: BTreeSet<String> = entries.iter().filter(|id| olds.contains(id)).cloned().collect();
                let (_, again, _) = self.live_pass(cat, &restored, Some((&ids, &reports))).await?;
                work.extend(again);
            }
        }

        // Recreate what is gone for good, twenty at a time, recording every new id before the next.
        for chunk in to_create.chunks(20) {
            self.create(cat, chunk).await?;
        }

        // Patch what differs, and put contained children back.
        self.patch(cat, work).await;
        Ok(())
    }

    /// Read `cat` live and compare each object with the snapshot's `entries`. With `second`
    /// (a second look at objects just restored), only those ids, each reported under its entry.
    /// Returns the snapshot ids found live, and the objects that differ.
    async fn live_pass(
        &mut self,
        cat: &'static Category,
        entries: &BTreeSet<String>,
        second: Option<(&HashSet<String>, &HashMap<String, usize>)>,
    ) -> Result<(HashSet<String>, Vec<LiveWork>, HashMap<String, String>)> {
        // Creates in flight when an earlier run stopped, by natural key.
        // Schedules are made by requests, under new ids: live ones the snapshot does not name are
        // kept by who holds which role where, to be matched with the missing ones.
        let requested = cat.restore.strategies.contains(&Strategy::Request);
        let pending: HashMap<String, String> = self
            .map
            .pending
            .iter()
            .filter(|(_, p)| p.category == cat.name)
            .map(|(old, p)| (p.key.clone(), old.clone()))
            .collect();
        let mut seen = HashSet::new();
        let mut found: Vec<(String, Object)> = Vec::new();
        let mut adopted: Vec<(String, String)> = Vec::new();
        let mut live_ids = Vec::new();
        let mut strays = HashMap::new();
        let (read, requests) = read_live(self.live, cat, second.map(|(ids, _)| ids), |o| {
            live_ids.push(o.id.clone());
            let old = self.map.old_of(&o.id).to_string();
            if entries.contains(&old) {
                seen.insert(old.clone());
                found.push((old, o));
            } else if requested {
                strays.insert(natural_key(&o.json), o.id.clone());
            } else if let Some(old) = Some(natural_key(&o.json)).filter(|k| !k.is_empty()).and_then(|k| pending.get(&k))
            {
                adopted.push((old.clone(), o.id.clone()));
                seen.insert(old.clone());
                found.push((old.clone(), o));
            }
        })
        .await;
        self.reads += requests;
        read?;
        self.present.extend(live_ids);
        if !adopted.is_empty() {
            for (old, new) in &adopted {
                self.map.insert(old, new);
            }
            self.save_map().await?;
        }
        let mut work = Vec::new();
        for chunk in found.chunks(BATCH) {
            let wanted: BTreeSet<String> = chunk.iter().map(|(old, _)| old.clone()).collect();
            let snap: BTreeMap<String, Map<String, Value>> =
                self.snapshot.objects_of(cat, Some(wanted), false).try_collect().await?;
            for (old, o) in chunk {
                let Some(s) = snap.get(old) else { continue };
                let mut mapped = s.clone();
                self.map.apply_map(&mut mapped);
                let mut changes = self.changes(cat, &mapped, &o.json);
                if requested && !changes.patch.is_empty() {
                    // An `adminUpdate` names the schedule by who holds which role where.
                    for k in schedule::IDENTITY {
                        if let Some(v) = mapped.get(k) {
                            changes.patch.insert(k.to_string(), v.clone());
                        }
                    }
                }
                if changes.is_empty() {
                    if second.is_none() {
                        self.report.summary.unchanged += 1;
                    }
                    continue;
                }
                let limit = cat.restore.limits.iter().find(|l| {
                    !matches!(l.when, Condition::HardDeleted | Condition::SecretProperties | Condition::Always)
                        && l.when.matches(&Value::Object(s.clone()))
                });
                let report = match second {
                    Some((_, reports)) => reports[old],
                    None => self.entry(cat, old, s, Outcome::Unchanged),
                };
                {
                    // A live object seen for the first time, or again after the recycle bin
                    // brought back what it links to, is patched or relinked; one restored from the
                    // bin stays restored.
                    let dry = self.options.dry_run;
                    let r = &mut self.report.objects[report];
                    if r.outcome == Outcome::Unchanged {
                        let relink = changes.patch.is_empty() && changes.contained.is_empty();
                        r.outcome = match (dry, relink) {
                            (true, _) => Outcome::Planned,
                            (false, true) => Outcome::Relinked,
                            (false, false) => Outcome::Patched,
                        };
                        r.action = Some(if cat.shape == Shape::Singleton {
                            Strategy::SingletonPatch
                        } else if relink {
                            Strategy::Relink
                        } else {
                            Strategy::Patch
                        });
                    }
                }
                let restored = self.report.objects[report].outcome == Outcome::Restored;
                if let Some(limit) = limit {
                    // Graph refuses these writes: say so for each attribute, write nothing.
                    let mut nr: Vec<NotRestorable> = changes
                        .patch
                        .keys()
                        .cloned()
                        .chain(changes.links.iter().map(|(r, _, _)| r.name.to_string()))
                        .chain(changes.contained.iter().map(|(r, _, _)| r.name.to_string()))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .map(|a| NotRestorable { attribute: Some(a), reason: limit.reason.to_string() })
                        .collect();
                    nr.append(&mut changes.not_restorable);
                    let r = &mut self.report.objects[report];
                    r.not_restorable.extend(nr);
                    if !restored {
                        r.outcome = Outcome::NotRestorable;
                        r.action = None;
                    }
                    if !changes.links.is_empty() {
                        let links = std::mem::take(&mut changes.links);
                        let changes = Changes { links, ..Changes::default() };
                        work.push(LiveWork { old: old.clone(), live: o.id.clone(), changes, report, blocked: true });
                    }
                    continue;
                }
                let r = &mut self.report.objects[report];
                r.not_restorable.append(&mut changes.not_restorable);
                if changes.patch.is_empty() && changes.contained.is_empty() && changes.links.is_empty() {
                    if !restored {
                        r.outcome = Outcome::NotRestorable;
                        r.action = None;
                    }
                    continue;
                }
                work.push(LiveWork { old: old.clone(), live: o.id.clone(), changes, report, blocked: false });
            }
        }
        Ok((seen, work, strays))
    }

    /// How live object `live` differs from the snapshot's `snap` (ids already mapped), within
    /// the scope's attributes.
    fn changes(&self, cat: &'static Category, snap: &Map<String, Value>, live: &Map<String, Value>) -> Changes {
        let mut c = Changes::default();
        let attrs = &self.options.attributes;
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
                    (_, RelationshipWrite::Ref { .. }) if rel.name == "members" && dynamic(snap) => {
                        c.not_restorable
                            .push(NotRestorable { attribute: Some(d.attribute.clone()), reason: DYNAMIC.into() });
                    }
                    (_, RelationshipWrite::Ref { .. } | RelationshipWrite::PutRef) => {
                        for t in &d.added {
                            c.links.push((rel, t.clone(), true));
                        }
                        let replaced = rel.kind == RelationshipKind::Link && !d.added.is_empty();
                        if self.options.overwrite_relationships && !replaced {
                            for t in &d.removed {
                                c.links.push((rel, t.clone(), false));
                            }
                        }
                    }
                    (_, RelationshipWrite::NotWritable { reason }) => {
                        if !d.added.is_empty()
                            || self.options.overwrite_relationships
                            || rel.kind == RelationshipKind::Contained
                        {
                            c.not_restorable.push(NotRestorable {
                                attribute: Some(d.attribute.clone()),
                                reason: reason.to_string(),
                            });
                        }
                    }
                    _ => c.not_restorable.push(NotRestorable {
                        attribute: Some(d.attribute.clone()),
                        reason: "Graph offers no way to write it".into(),
                    }),
                }
            } else if name == "scheduleInfo" && cat.restore.strategies.contains(&Strategy::Request) {
                // A schedule put back by request starts when it is put back: only its end is restored.
                if schedule::end(snap) == schedule::end(live) {
                    c.not_restorable.push(NotRestorable {
                        attribute: Some(d.attribute.clone()),
                        reason: schedule::STARTS_AGAIN.into(),
                    });
                } else {
                    c.patch.insert(d.attribute.clone(), snap.get(name).cloned().unwrap_or(Value::Null));
                }
            } else if cat.restore.read_only.contains(&name) {
                c.not_restorable.push(NotRestorable { attribute: Some(d.attribute.clone()), reason: READ_ONLY.into() });
            } else if cat.secret_properties.contains(&name) {
                c.not_restorable
                    .push(NotRestorable { attribute: Some(d.attribute.clone()), reason: secret_reason(cat) });
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
                c.not_restorable.push(NotRestorable { attribute: Some(k), reason: reason.clone() });
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

    /// What a dry run says about a live object that differs.
    fn describe(&mut self, _cat: &'static Category, w: &LiveWork) {
        let r = &mut self.report.objects[w.report];
        r.attributes.extend(w.changes.patch.keys().filter(|k| !k.starts_with('@')).cloned());
        r.attributes.extend(w.changes.contained.iter().map(|(rel, _, _)| rel.name.to_string()));
        for (rel, t, add) in &w.changes.links {
            let s = format!("{}:{t}", rel.name);
            if *add { r.links_added.push(s) } else { r.links_removed.push(s) }
        }
    }

    /// The body that creates `object` (ids mapped): its writable attributes, a user's password,
    /// and links bound on create (at most 20, to objects that exist). Returns the body and the
    /// links left for afterwards.
    fn create_body(
        &self,
        cat: &'static Category,
        object: &Map<String, Value>,
    ) -> (Map<String, Value>, Vec<(&'static catalog::Relationship, String)>) {
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
        let mut rest = Vec::new();
        let mut bound = 0;
        // Owners first: members can be added twenty to a request later, owners only one at a time.
        let mut targets = link_targets(cat, object);
        targets.sort_by_key(|(rel, _)| rel.name == "members");
        for (rel, target) in targets {
            if rel.name == "members" && dynamic(object) {
                continue;
            }
            let bindable = matches!(rel.write, RelationshipWrite::Ref { bind_on_create: true });
            if bindable && bound < 20 && self.present.contains(target.as_str()) {
                let key = format!("{}@odata.bind", rel.name);
                let url = self.restorer.object_url(&format!("/directoryObjects/{target}"));
                if let Some(a) = body.entry(key).or_insert_with(|| json!([])).as_array_mut() {
                    a.push(Value::String(url));
                }
                bound += 1;
            } else {
                rest.push((rel, target));
            }
        }
        (body, rest)
    }

    /// Recreate up to twenty objects in one `$batch`, keeping the id map current.
    async fn create(&mut self, cat: &'static Category, chunk: &[(String, Map<String, Value>, usize)]) -> Result<()> {
        let mut writes = Vec::new();
        let mut rests = Vec::new();
        let mut passwords = Vec::new();
        let mut bodies: Vec<Map<String, Value>> = Vec::new();
        let requested = cat.restore.strategies.contains(&Strategy::Request);
        let now = jiff::Timestamp::now();
        for (old, object, _) in chunk {
            let mut mapped = object.clone();
            self.map.apply_map(&mut mapped);
            if requested {
                let w = schedule::request(cat, &mapped, "adminAssign", self.snapshot.id(), now);
                bodies.push(Map::new());
                writes.push(w);
                rests.push(Vec::new());
                passwords.push(None);
                self.map
                    .pending
                    .insert(old.clone(), Pending { category: cat.name.to_string(), key: natural_key(&mapped) });
                continue;
            }
            let (mut body, rest) = self.create_body(cat, &mapped);
            if cat.name == "users" {
                let password = strong_password();
                body.insert(
                    "passwordProfile".into(),
                    json!({"forceChangePasswordNextSignIn": true, "password": password.clone()}),
                );
                passwords.push(Some(password));
            } else {
                passwords.push(None);
            }
            let path = cat.restore.create_path.unwrap_or(cat.path);
            bodies.push(body.clone());
            writes.push(Write::new("POST", path, Some(Value::Object(body))));
            rests.push(rest);
            self.map.pending.insert(old.clone(), Pending { category: cat.name.to_string(), key: natural_key(&mapped) });
        }
        // Recorded before sending: a create whose answer is lost is found again by its key.
        self.save_map().await?;
        let answers = self.restorer.write(cat, writes).await;
        let mut follow = Vec::new();
        for (k, ((((old, object, i), answer), rest), password)) in
            chunk.iter().zip(answers).zip(rests).zip(passwords).enumerate()
        {
            match answer {
                Ok(created) => {
                    let new = created
                        .get("targetScheduleId")
                        .filter(|_| requested)
                        .or_else(|| created.get("id"))
                        .or_else(|| created.get("tenantId"))
                        .and_then(Value::as_str)
                        .unwrap_or(old)
                        .to_string();
                    self.map.insert(old, &new);
                    if let (Some(a), Some(b)) =
                        (object.get("appId").and_then(Value::as_str), created.get("appId").and_then(Value::as_str))
                        && cat.name == "applications"
                    {
                        self.map.insert(a, b);
                    }
                    self.present.insert(new.clone());
                    let r = &mut self.report.objects[*i];
                    r.new_id = Some(new.clone());
                    r.not_restorable.extend(recreate_losses(cat, object));
                    if requested {
                        r.attributes.push("scheduleInfo".into());
                        r.not_restorable.push(NotRestorable {
                            attribute: Some("scheduleInfo".into()),
                            reason: schedule::STARTS_AGAIN.into(),
                        });
                        continue;
                    }
                    if let Some(password) = password {
                        self.report.passwords.push(NewPassword {
                            id: new.clone(),
                            user_principal_name: object
                                .get("userPrincipalName")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                            password,
                        });
                    }
                    for (rel, target) in rest {
                        self.links.push(LinkOp {
                            category: cat,
                            relationship: rel,
                            source: old.clone(),
                            target,
                            add: true,
                            report: *i,
                        });
                    }
                    // Contained children come back after their parent exists.
                    let mut mapped = object.clone();
                    self.map.apply_map(&mut mapped);
                    // Values that held the object's own new ids (an application's identifierUris
                    // hold its appId) are known only now: patch them.
                    let (again, _) = self.create_body(cat, &mapped);
                    let sent = &bodies[k];
                    let fix: Map<String, Value> = again
                        .into_iter()
                        .filter(|(key, v)| !key.contains("@odata.bind") && sent.get(key).is_some_and(|s| s != v))
                        .collect();
                    if !fix.is_empty() {
                        follow.push(LiveWork {
                            old: old.clone(),
                            live: new.clone(),
                            changes: Changes { patch: fix, ..Changes::default() },
                            report: *i,
                            blocked: false,
                        });
                    }
                    for rel in cat.relationships.iter().filter(|r| r.kind == RelationshipKind::Contained) {
                        if let Some(children) =
                            mapped.get(rel.name).filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
                        {
                            follow.push(LiveWork {
                                old: old.clone(),
                                live: new.clone(),
                                changes: Changes {
                                    contained: vec![(rel, children.clone(), json!([]))],
                                    ..Changes::default()
                                },
                                report: *i,
                                blocked: false,
                            });
                        }
                    }
                }
                Err(e) => {
                    // Graph answered no: nothing was created. Without an answer it may have been,
                    // so the pending entry stays for the next run to find.
                    if e.status().is_some() {
                        self.map.pending.remove(old);
                    }
                    self.lost.insert(old.clone());
                    self.report.objects[*i].fail(explain(&e));
                }
            }
        }
        self.save_map().await?;
        self.patch(cat, follow).await;
        Ok(())
    }

    /// Patch live objects and write their contained children; links wait for the end.
    async fn patch(&mut self, cat: &'static Category, work: Vec<LiveWork>) {
        let mut writes = Vec::new();
        let mut owners = Vec::new();
        let now = jiff::Timestamp::now();
        for mut w in work.into_iter().filter(|w| !w.blocked) {
            // Ids recreated since this object was compared (in its own category) are mapped now.
            self.map.apply_map(&mut w.changes.patch);
            for (_, want, _) in &mut w.changes.contained {
                self.map.apply(want);
            }
            let base =
                if cat.shape == Shape::Singleton { cat.path.to_string() } else { format!("{}/{}", cat.path, w.live) };
            if !w.changes.patch.is_empty() && cat.restore.strategies.contains(&Strategy::Request) {
                let update = schedule::request(cat, &w.changes.patch, "adminUpdate", self.snapshot.id(), now);
                writes.push(update);
                owners.push((w.report, vec!["scheduleInfo".to_string()]));
            } else if !w.changes.patch.is_empty() {
                writes.push(Write::new("PATCH", base.clone(), Some(Value::Object(w.changes.patch.clone()))));
                owners.push((
                    w.report,
                    w.changes.patch.keys().filter(|k| !k.starts_with('@')).cloned().collect::<Vec<_>>(),
                ));
            }
            for (rel, want, have) in &w.changes.contained {
                for write in contained_writes(rel, &w.live, want, have, self.options.overwrite_relationships) {
                    writes.push(write);
                    owners.push((w.report, vec![rel.name.to_string()]));
                }
            }
            for (rel, target, add) in w.changes.links {
                self.links.push(LinkOp {
                    category: cat,
                    relationship: rel,
                    source: w.old.clone(),
                    target,
                    add,
                    report: w.report,
                });
            }
        }
        if writes.is_empty() {
            return;
        }
        let methods: Vec<&'static str> = writes.iter().map(|w| w.method).collect();
        let answers = self.restorer.write(cat, writes).await;
        for (((i, attributes), answer), method) in owners.into_iter().zip(answers).zip(methods) {
            let r = &mut self.report.objects[i];
            match answer {
                // A child already gone counts as removed.
                Err(e) if method == "DELETE" && already(&e, method) => {}
                Ok(_) => {
                    for a in attributes {
                        if !r.attributes.contains(&a) {
                            r.attributes.push(a);
                        }
                    }
                }
                Err(e) => r.fail(e.to_string()),
            }
        }
    }

    /// Add and remove links, now that every object exists: group members twenty to a `PATCH`,
    /// other references one request each.
    async fn relink(&mut self) -> Result<()> {
        let ops = std::mem::take(&mut self.links);
        if self.options.dry_run {
            return Ok(());
        }
        // Group by category (each writes in its own throttling family).
        let mut by_cat: BTreeMap<u16, Vec<LinkOp>> = BTreeMap::new();
        for op in ops {
            if op.add && self.lost.contains(&op.target) {
                let r = &mut self.report.objects[op.report];
                r.not_restorable.push(NotRestorable {
                    attribute: Some(op.relationship.name.to_string()),
                    reason: format!("{} was deleted and could not be brought back", op.target),
                });
                continue;
            }
            by_cat.entry(op.category.order).or_default().push(op);
        }
        for (_, ops) in by_cat {
            let cat = ops[0].category;
            // (write, the ops it carries)
            let mut writes: Vec<(Write, Vec<usize>)> = Vec::new();
            let mut binds: BTreeMap<(String, &str), Vec<usize>> = BTreeMap::new();
            for (k, op) in ops.iter().enumerate() {
                let source = self.map.get(&op.source).to_string();
                let target = self.map.get(&op.target).to_string();
                let rel_path = op.relationship.path.replace("{id}", &source);
                let reference = json!({"@odata.id": self.restorer.object_url(&format!("/directoryObjects/{target}"))});
                match (op.add, &op.relationship.write) {
                    (true, RelationshipWrite::Ref { bind_on_create: true }) if op.relationship.name == "members" => {
                        binds.entry((source, op.relationship.name)).or_default().push(k);
                    }
                    (true, RelationshipWrite::PutRef) => {
                        writes.push((Write::new("PUT", format!("{rel_path}/$ref"), Some(reference)), vec![k]))
                    }
                    (true, _) => {
                        writes.push((Write::new("POST", format!("{rel_path}/$ref"), Some(reference)), vec![k]))
                    }
                    (false, RelationshipWrite::PutRef) => {
                        writes.push((Write::new("DELETE", format!("{rel_path}/$ref"), None), vec![k]))
                    }
                    (false, _) => {
                        writes.push((Write::new("DELETE", format!("{rel_path}/{target}/$ref"), None), vec![k]))
                    }
                }
            }
            for ((source, rel), ks) in binds {
                for chunk in ks.chunks(20) {
                    let urls: Vec<Value> = chunk
                        .iter()
                        .map(|k| {
                            Value::String(
                                self.restorer
                                    .object_url(&format!("/directoryObjects/{}", self.map.get(&ops[*k].target))),
                            )
                        })
                        .collect();
                    let body = json!({ format!("{rel}@odata.bind"): urls });
                    writes.push((Write::new("PATCH", format!("{}/{source}", cat.path), Some(body)), chunk.to_vec()));
                }
            }
            let (list, carried): (Vec<Write>, Vec<Vec<usize>>) = writes.into_iter().unzip();
            let answers = self.restorer.write(cat, list.clone()).await;
            let mut retry: Vec<usize> = Vec::new();
            for ((write, ks), answer) in list.iter().zip(&carried).zip(answers) {
                match answer {
                    Ok(_) => ks.iter().for_each(|k| self.linked(&ops[*k])),
                    // Already there (a link restored with its object, or an earlier run): nothing to do.
                    Err(e) if already(&e, write.method) => {
                        if ks.len() > 1 {
                            retry.extend(ks);
                        }
                    }
                    Err(e) => {
                        for k in ks {
                            self.report.objects[ops[*k].report].fail(e.to_string());
                        }
                    }
                }
            }
            // A bind of twenty refused because one was already there: one reference at a time.
            if !retry.is_empty() {
                let list: Vec<Write> = retry
                    .iter()
                    .map(|k| {
                        let op = &ops[*k];
                        let path = op.relationship.path.replace("{id}", self.map.get(&op.source));
                        let reference = json!({"@odata.id": self.restorer.object_url(&format!("/directoryObjects/{}", self.map.get(&op.target)))});
                        Write::new("POST", format!("{path}/$ref"), Some(reference))
                    })
                    .collect();
                let answers = self.restorer.write(cat, list.clone()).await;
                for ((write, k), answer) in list.iter().zip(retry).zip(answers) {
                    match answer {
                        Ok(_) => self.linked(&ops[k]),
                        Err(e) if already(&e, write.method) => {}
                        Err(e) => self.report.objects[ops[k].report].fail(e.to_string()),
                    }
                }
            }
        }
        Ok(())
    }

    fn linked(&mut self, op: &LinkOp) {
        let target = self.map.get(&op.target).to_string();
        let r = &mut self.report.objects[op.report];
        let s = format!("{}:{target}", op.relationship.name);
        if op.add { r.links_added.push(s) } else { r.links_removed.push(s) }
    }
}

/// Read `cat` live (only `ids`, when given), handing each object to `each` as it comes. Returns
/// how the read ended, and the HTTP requests it took.
async fn read_live(
    live: &dyn Source,
    cat: &'static Category,
    ids: Option<&HashSet<String>>,
    mut each: impl FnMut(Object),
) -> (Result<()>, u64) {
    let stats = CategoryStats::default();
    let (tx, mut rx) = mpsc::channel::<Object>(BATCH);
    let reader = async {
        let r = match ids {
            Some(ids) => live.read_some(cat, ids, &tx, &stats).await,
            None => live.read(cat, &tx, &stats).await,
        };
        drop(tx);
        r
    };
    let consume = async {
        while let Some(o) = rx.recv().await {
            each(o);
        }
    };
    let (read, ()) = tokio::join!(reader, consume);
    (read, stats.requests.requests.load(std::sync::atomic::Ordering::Relaxed))
}

/// Graph's error, with what the operator can do when Graph v1.0 offers no way around it.
fn explain(e: &Error) -> String {
    let mut why = e.to_string();
    if e.status() == Some(400) && e.message().contains("same value for property userPrincipalName") {
        // A user is restored (or recreated) only under its own name.
        why.push_str(
            " (another user now has its userPrincipalName: rename or delete that user, then run the restore again)",
        );
    }
    why
}

/// Whether Graph refused a link write because it was already done.
fn already(e: &Error, method: &str) -> bool {
    let m = e.message();
    (method != "DELETE" && e.status() == Some(400) && m.contains("already exist"))
        || (method == "DELETE" && e.status() == Some(404))
}

/// Whether a group or administrative unit computes its members from a rule.
fn dynamic(object: &Map<String, Value>) -> bool {
    object.get("groupTypes").and_then(Value::as_array).is_some_and(|t| t.iter().any(|x| x == "DynamicMembership"))
        || object.get("membershipType").and_then(Value::as_str) == Some("Dynamic")
}

/// Every link target of an object, for relationships written by reference.
fn link_targets(cat: &'static Category, object: &Map<String, Value>) -> Vec<(&'static catalog::Relationship, String)> {
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

/// The writes that put contained children back: an action that replaces the set (Intune
/// `assign`), or the missing children created one by one, and with `exact` those the snapshot
/// lacks deleted.
fn contained_writes(
    rel: &'static catalog::Relationship,
    parent: &str,
    want: &Value,
    have: &Value,
    exact: bool,
) -> Vec<Write> {
    let clean = |v: &Value| {
        let mut v = v.clone();
        if let Value::Object(m) = &mut v {
            m.retain(|k, _| k != "id" && (!k.starts_with('@') || k == "@odata.type"));
        }
        v
    };
    match &rel.write {
        RelationshipWrite::Action { path, body_property } => {
            let items: Vec<Value> = want.as_array().into_iter().flatten().map(clean).collect();
            vec![Write::new("POST", path.replace("{id}", parent), Some(json!({ *body_property: items })))]
        }
        RelationshipWrite::Children => {
            let path = rel.path.replace("{id}", parent);
            let want: Vec<Value> = want.as_array().into_iter().flatten().map(clean).collect();
            let have_clean: Vec<Value> = have.as_array().into_iter().flatten().map(clean).collect();
            let mut writes: Vec<Write> = want
                .iter()
                .filter(|c| !have_clean.contains(c))
                .map(|c| Write::new("POST", path.clone(), Some(c.clone())))
                .collect();
            // Children the snapshot lacks go, by their id. Allowed values of a custom security
            // attribute cannot be deleted (only deactivated), so they stay.
            if exact && rel.name != "allowedValues" {
                for (child, c) in have.as_array().into_iter().flatten().zip(&have_clean) {
                    if let Some(id) = child.get("id").and_then(Value::as_str)
                        && !want.contains(c)
                    {
                        writes.push(Write::new("DELETE", format!("{path}/{id}"), None));
                    }
                }
            }
            writes
        }
        _ => Vec::new(),
    }
}

fn secret_reason(cat: &Category) -> String {
    cat.restore
        .limits
        .iter()
        .find(|l| l.when == Condition::SecretProperties)
        .map_or_else(|| "a secret Graph never returns, so no backup holds it".to_string(), |l| l.reason.to_string())
}

/// What a recreated object cannot get back: what Graph sets on create, and secrets.
fn recreate_losses(cat: &Category, object: &Map<String, Value>) -> Vec<NotRestorable> {
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

/// A strong random password (20 characters from upper, lower, digits and symbols, each class
/// present) for a recreated user, who must change it at next sign-in.
fn strong_password() -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    const CLASSES: [&[u8]; 4] =
        [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnopqrstuvwxyz", b"23456789", b"!#$%&*+-=?@^_~"];
    let rng = SystemRandom::new();
    let all: Vec<u8> = CLASSES.concat();
    // Bytes past the largest multiple of the alphabet's size are dropped, so every character is
    // equally likely.
    let limit = (256 / all.len() * all.len()) as u8;
    loop {
        let mut bytes = [0u8; 64];
        if rng.fill(&mut bytes).is_err() {
            continue;
        }
        let p: String =
            bytes.iter().filter(|b| **b < limit).take(20).map(|b| all[*b as usize % all.len()] as char).collect();
        if p.len() < 20 {
            continue;
        }
        if CLASSES.iter().all(|c| p.bytes().any(|b| c.contains(&b))) {
            return p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_mixed() {
        let a = strong_password();
        assert_eq!(a.len(), 20);
        assert_ne!(a, strong_password());
        assert!(a.chars().any(|c| c.is_ascii_digit()) && a.chars().any(|c| c.is_ascii_uppercase()));
    }
}
