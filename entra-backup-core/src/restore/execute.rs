//! The executor: reads what the planner needs (the snapshot's objects, the live tenant, the
//! recycle bin), plans each category just before writing it, walks the plan through the
//! [`Restorer`], and records what happened in the report. Writes are in `write.rs` (undelete,
//! create, patch) and `relink.rs` (links, at the end).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures::TryStreamExt;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::plan::{self, Action, CategoryPlan, Matcher, Planner, ScheduleAction, Step};
use super::report::{CategoryNote, NotRestorable, ObjectReport, Outcome, RestoreReport};
use super::{RestoreOptions, Restorer, schedule, scope};
use crate::catalog::{self, Category, Condition, Pim, Shape, Strategy};
use crate::error::{CategoryFailure, Result};
use crate::repo::idmap::{IdMap, natural_key};
use crate::source::ids::IdSet;
use crate::source::{CategoryStats, Object, SnapshotSource, Source};

/// Snapshot objects read at once.
const BATCH: usize = 256;

/// A link to add or remove once every object exists (ids as in the snapshot; mapped when sent).
pub(super) struct LinkOp {
    pub(super) category: &'static Category,
    pub(super) relationship: plan::Rel,
    pub(super) source: String,
    pub(super) target: String,
    pub(super) add: bool,
    pub(super) report: usize,
}

/// The steps of one object, with its entry in the report.
pub(super) struct Work {
    pub(super) report: usize,
    pub(super) steps: Vec<Step>,
}

pub(super) async fn run(
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
        present: IdSet::new(),
        lost: HashSet::new(),
        links: Vec::new(),
        report: RestoreReport {
            snapshot: snapshot.id().to_string(),
            tenant,
            dry_run: options.dry_run,
            ..RestoreReport::default()
        },
        reads: 0,
        deferred: Vec::new(),
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

pub(super) struct Run<'a> {
    pub(super) snapshot: &'a SnapshotSource,
    pub(super) live: &'a dyn Source,
    pub(super) restorer: &'a dyn Restorer,
    pub(super) options: &'a RestoreOptions,
    pub(super) map: IdMap,
    pub(super) tenant: String,
    /// Live ids known to exist now.
    pub(super) present: IdSet,
    /// Snapshot ids that could not be brought back.
    pub(super) lost: HashSet<String>,
    pub(super) links: Vec<LinkOp>,
    pub(super) report: RestoreReport,
    /// HTTP requests of the live reads.
    pub(super) reads: u64,
    /// Time-bound PIM role assignments left to their schedule's request: their category, who
    /// holds which role where, the snapshot id and the report entry.
    deferred: Vec<(&'static Category, String, String, usize)>,
}

/// The steps of a plan, object by object (each object's steps follow each other).
fn by_object(steps: Vec<Step>) -> Vec<Vec<Step>> {
    let mut out: Vec<Vec<Step>> = Vec::new();
    for s in steps {
        match out.last_mut() {
            Some(last) if last[0].id == s.id => last.push(s),
            _ => out.push(vec![s]),
        }
    }
    out
}

impl Run<'_> {
    pub(super) fn entry(&mut self, cat: &'static Category, id: &str, name: Option<String>, outcome: Outcome) -> usize {
        self.report.objects.push(ObjectReport::new(cat.name, id, name, outcome));
        self.report.objects.len() - 1
    }

    fn planner(&self, cat: &'static Category, now: jiff::Timestamp) -> Planner<'_> {
        Planner {
            cat,
            map: &self.map,
            attributes: &self.options.attributes,
            overwrite_relationships: self.options.overwrite_relationships,
            now,
        }
    }

    /// How the snapshot's active PIM schedules (of the category that schedules `cat`) that are not
    /// permanent assignments are held, by who holds which role where (ids mapped).
    async fn pim_assignments(
        &self,
        cat: &'static Category,
        now: jiff::Timestamp,
    ) -> Result<HashMap<String, schedule::Pim>> {
        let mut out = HashMap::new();
        let Pim::ScheduledBy(name) = cat.pim else { return Ok(out) };
        let Some(schedules) = catalog::get(name) else { return Ok(out) };
        if !self.snapshot.holds(schedules) {
            return Ok(out);
        }
        let objects: Vec<(String, Map<String, Value>)> =
            self.snapshot.objects_of(schedules, None, false).try_collect().await?;
        for (_, mut s) in objects {
            self.map.apply_map(&mut s);
            if let Some(kind) = schedule::pim_kind(&s, now) {
                out.insert(natural_key(&s), kind);
            }
        }
        Ok(out)
    }

    /// Role assignments left to their schedules: the requests made them, under new ids.
    async fn settle_deferred(&mut self) -> Result<()> {
        if self.deferred.is_empty() || self.options.dry_run {
            return Ok(());
        }
        let deferred = std::mem::take(&mut self.deferred);
        let mut cats: Vec<&'static Category> = deferred.iter().map(|d| d.0).collect();
        cats.dedup_by_key(|c| c.name);
        for cat in cats {
            let mut keys = HashMap::new();
            let (read, requests) = read_live(self.live, cat, None, |o| {
                keys.insert(natural_key(&o.json), o.id);
            })
            .await;
            self.reads += requests;
            read?;
            for (_, key, old, i) in deferred.iter().filter(|d| d.0.name == cat.name) {
                if let Some(new) = keys.get(key) {
                    self.map.insert(old, new);
                    let r = &mut self.report.objects[*i];
                    r.outcome = Outcome::Recreated;
                    r.not_restorable.clear();
                    r.new_id = (new != old).then(|| new.clone());
                }
            }
        }
        self.save_map().await
    }

    pub(super) async fn save_map(&mut self) -> Result<()> {
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

        // Plan: what is live and how it differs, then what is gone.
        let (seen, mut plan, strays) = self.live_pass(cat, &entries, None).await?;
        let missing: BTreeSet<String> = entries.iter().filter(|id| !seen.contains(*id)).cloned().collect();
        if !missing.is_empty() {
            let bin = if cat.restore.strategies.contains(&Strategy::RecycleBin) {
                self.restorer.deleted(cat).await?
            } else {
                HashSet::new()
            };
            let objects: Vec<(String, Map<String, Value>)> =
                self.snapshot.objects_of(cat, Some(missing), false).try_collect().await?;
            let now = jiff::Timestamp::now();
            let pim = self.pim_assignments(cat, now).await?;
            let planner = self.planner(cat, now);
            for (old, object) in objects {
                let steps = planner.missing(&old, &object, &bin, &pim, &strays, &self.lost);
                plan.unchanged += steps.iter().filter(|s| matches!(s.action, Action::Adopt)).count() as u64;
                plan.steps.extend(steps);
            }
        }

        // Record it: every object the plan names gets its entry in the report.
        self.report.summary.unchanged += plan.unchanged;
        let mut work: Vec<Work> = Vec::new();
        let mut from_bin: Vec<(String, usize)> = Vec::new();
        let mut to_create: Vec<(Step, usize)> = Vec::new();
        let mut adopted = false;
        // Only a dry run keeps the plan (in its report); a restore walks it without a copy.
        let steps = if self.options.dry_run { plan.steps.clone() } else { std::mem::take(&mut plan.steps) };
        for steps in by_object(steps) {
            let first = &steps[0];
            match &first.action {
                Action::Adopt => {
                    if let Some(live) = &first.live {
                        self.map.insert(&first.id, live);
                    }
                    adopted = true;
                }
                Action::Undelete => {
                    let i = self.missing_entry(cat, first, Outcome::Restored, Strategy::RecycleBin);
                    from_bin.push((first.id.clone(), i));
                }
                Action::Create { .. } | Action::RequestSchedule { request: ScheduleAction::Assign, .. } => {
                    let strategy = if matches!(first.action, Action::Create { .. }) {
                        Strategy::Recreate
                    } else {
                        Strategy::Request
                    };
                    let i = self.missing_entry(cat, first, Outcome::Recreated, strategy);
                    if self.options.dry_run {
                        self.describe_create(cat, first, i);
                    }
                    to_create.extend(steps.into_iter().map(|s| (s, i)));
                }
                Action::AwaitSchedule { key } => {
                    let dry = self.options.dry_run;
                    let i = self.entry(
                        cat,
                        &first.id,
                        first.display_name.clone(),
                        if dry { Outcome::Planned } else { Outcome::NotRestorable },
                    );
                    let r = &mut self.report.objects[i];
                    if !dry {
                        r.not_restorable
                            .push(NotRestorable { attribute: None, reason: schedule::THROUGH_SCHEDULE.to_string() });
                    }
                    r.action = Some(Strategy::Request);
                    self.deferred.push((cat, key.clone(), first.id.clone(), i));
                }
                Action::NotRestorable { attribute: None, reason, .. } if first.live.is_none() => {
                    let i = self.entry(cat, &first.id, first.display_name.clone(), Outcome::NotRestorable);
                    self.report.objects[i]
                        .not_restorable
                        .push(NotRestorable { attribute: None, reason: reason.clone() });
                    self.lost.insert(first.id.clone());
                }
                _ => {
                    let report = self.record_live(cat, &steps, None);
                    if self.options.dry_run {
                        self.describe(report, &steps);
                    }
                    work.push(Work { report, steps });
                }
            }
        }
        if adopted && !self.options.dry_run {
            self.save_map().await?;
        }
        if self.options.dry_run {
            self.report.plan.push(plan);
            return Ok(());
        }

        // Bring back from the recycle bin, then look again at what came back.
        let back = self.undelete(cat, &from_bin).await;
        if !back.is_empty() {
            let mut reports: HashMap<String, usize> = from_bin.iter().map(|(id, i)| (id.clone(), *i)).collect();
            // Live objects that were to link to what just came back get a second look too: the
            // recycle bin brings back the links others held to a restored object.
            let (recheck, keep): (Vec<Work>, Vec<Work>) =
                std::mem::take(&mut work).into_iter().partition(|w| w.steps.iter().any(|s| s.links_to(&back)));
            work = keep;
            let mut ids = back.clone();
            for w in recheck {
                let first = &w.steps[0];
                ids.extend(first.live.clone());
                reports.insert(first.id.clone(), w.report);
                // Looked at afresh: what the first look said no longer holds.
                let r = &mut self.report.objects[w.report];
                r.outcome = Outcome::Unchanged;
                r.action = None;
                r.not_restorable.clear();
            }
            let olds: HashSet<&String> = reports.keys().collect();
            let restored: BTreeSet<String> = entries.iter().filter(|id| olds.contains(id)).cloned().collect();
            let (_, again, _) = self.live_pass(cat, &restored, Some(&ids)).await?;
            for steps in by_object(again.steps) {
                let report = self.record_live(cat, &steps, Some(reports[&steps[0].id]));
                work.push(Work { report, steps });
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

    /// The report entry of a missing object the plan brings back (planned, in a dry run).
    fn missing_entry(&mut self, cat: &'static Category, step: &Step, outcome: Outcome, strategy: Strategy) -> usize {
        let outcome = if self.options.dry_run { Outcome::Planned } else { outcome };
        let i = self.entry(cat, &step.id, step.display_name.clone(), outcome);
        self.report.objects[i].action = Some(strategy);
        i
    }

    /// Record the plan of a live object that differs: a new entry, or with `existing` (a second
    /// look at an object just restored, or at one linking to it) the entry it had.
    fn record_live(&mut self, cat: &'static Category, steps: &[Step], existing: Option<usize>) -> usize {
        let first = &steps[0];
        let i = existing.unwrap_or_else(|| self.entry(cat, &first.id, first.display_name.clone(), Outcome::Unchanged));
        let dry = self.options.dry_run;
        let r = &mut self.report.objects[i];
        let restored = r.outcome == Outcome::Restored;
        // A live object seen for the first time, or again after the recycle bin brought back
        // what it links to, is patched or relinked; one restored from the bin stays restored.
        if r.outcome == Outcome::Unchanged {
            let relink = !steps.iter().any(|s| {
                matches!(s.action, Action::Patch { .. } | Action::Children { .. } | Action::RequestSchedule { .. })
            });
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
        for s in steps {
            if let Action::NotRestorable { attribute, reason, .. } = &s.action {
                r.not_restorable.push(NotRestorable { attribute: attribute.clone(), reason: reason.clone() });
            }
        }
        if !steps.iter().any(Step::writes) && !restored {
            r.outcome = Outcome::NotRestorable;
            r.action = None;
        }
        i
    }

    /// What a dry run says about a live object that differs.
    fn describe(&mut self, report: usize, steps: &[Step]) {
        let r = &mut self.report.objects[report];
        for s in steps {
            match &s.action {
                Action::Patch { attributes: a } | Action::RequestSchedule { schedule: a, .. } => {
                    r.attributes.extend(a.keys().filter(|k| !k.starts_with('@')).cloned())
                }
                Action::Children { relationship, .. } => r.attributes.push(relationship.name.to_string()),
                Action::Link { relationship, target } => r.links_added.push(format!("{}:{target}", relationship.name)),
                Action::Unlink { relationship, target } => {
                    r.links_removed.push(format!("{}:{target}", relationship.name))
                }
                _ => {}
            }
        }
    }

    /// What a dry run says about an object it would create: the attributes written (and links
    /// bound) on create, and every link it gets.
    fn describe_create(&mut self, cat: &'static Category, step: &Step, report: usize) {
        let (attributes, links): (Vec<String>, Vec<String>) = match &step.action {
            Action::RequestSchedule { schedule, .. } => {
                let mut mapped = schedule.clone();
                self.map.apply_map(&mut mapped);
                let body =
                    schedule::request(&mapped, ScheduleAction::Assign, self.snapshot.id(), jiff::Timestamp::now());
                let links = plan::link_targets(cat, &mapped).into_iter().map(|(r, t)| format!("{}:{t}", r.name));
                (body.keys().filter(|k| !k.starts_with('@')).cloned().collect(), links.collect())
            }
            Action::Create { body, links } => {
                let object = step.object.as_ref().unwrap_or(body);
                let (bind, _) =
                    self.binds(cat, object, links.iter().map(|l| (l.relationship, l.target.clone())).collect());
                let attributes = body
                    .keys()
                    .filter(|k| !k.starts_with('@'))
                    .cloned()
                    .chain(bind.iter().map(|b| catalog::urls::bind_key(b.relationship)));
                (attributes.collect(), links.iter().map(|l| format!("{}:{}", l.relationship.name, l.target)).collect())
            }
            _ => return,
        };
        let r = &mut self.report.objects[report];
        r.attributes = attributes;
        r.links_added = links;
    }

    /// Read `cat` live (with `only`, just those ids) and plan each object of the snapshot's
    /// `entries` found there. Returns the snapshot ids found live, the plan of those that differ,
    /// and the live objects made by requests that the snapshot does not name, by natural key.
    async fn live_pass(
        &mut self,
        cat: &'static Category,
        entries: &BTreeSet<String>,
        only: Option<&HashSet<String>>,
    ) -> Result<(HashSet<String>, CategoryPlan, HashMap<String, String>)> {
        let mut matcher = Matcher::new(cat, entries, &self.map);
        let mut plan = CategoryPlan { category: cat.name, steps: Vec::new(), unchanged: 0 };
        let now = jiff::Timestamp::now();
        // Live objects found in the snapshot are planned a batch at a time as they are read, so
        // that a category's live objects are never all held. Creates an earlier run left in
        // flight are adopted (their ids mapped) before anything is planned, so with any of them
        // pending for this category the objects are planned once the read is over.
        let stream = !self.map.pending.values().any(|p| p.category == cat.name);
        let batch = crate::source::stream_batch();
        let stats = CategoryStats::default();
        let (tx, rx) = mpsc::channel::<Object>(batch);
        let live = self.live;
        let reader = async move {
            let read = match only {
                Some(ids) => live.read_some(cat, ids, &tx, &stats).await,
                None => live.read(cat, &tx, &stats).await,
            };
            (read, stats.requests.requests.load(std::sync::atomic::Ordering::Relaxed))
        };
        let this = &*self;
        let consume = async {
            // Owned here, so that the reader stops (its sends fail) if planning fails.
            let mut rx = rx;
            while let Some(o) = rx.recv().await {
                matcher.see(o);
                if stream && matcher.matched.found.len() >= batch {
                    let found = std::mem::take(&mut matcher.matched.found);
                    this.plan_live(cat, &found, only.is_some(), now, &mut plan).await?;
                }
            }
            Ok::<_, crate::Error>(())
        };
        let ((read, requests), consumed) = tokio::join!(reader, consume);
        let matched = matcher.matched;
        self.reads += requests;
        read?;
        consumed?;
        self.present.absorb(matched.live_ids);
        if !matched.adopted.is_empty() {
            // Creates in flight when an earlier run stopped, found by their natural key.
            for (old, new) in &matched.adopted {
                self.map.insert(old, new);
            }
            self.save_map().await?;
        }
        for chunk in matched.found.chunks(batch) {
            self.plan_live(cat, chunk, only.is_some(), now, &mut plan).await?;
        }
        Ok((matched.seen, plan, matched.strays))
    }

    /// Plan a batch of live objects found in the snapshot: (snapshot id, live object) each.
    async fn plan_live(
        &self,
        cat: &'static Category,
        found: &[(String, Object)],
        second_look: bool,
        now: jiff::Timestamp,
        plan: &mut CategoryPlan,
    ) -> Result<()> {
        let wanted: BTreeSet<String> = found.iter().map(|(old, _)| old.clone()).collect();
        let snap: BTreeMap<String, Map<String, Value>> =
            self.snapshot.objects_of(cat, Some(wanted), false).try_collect().await?;
        let planner = self.planner(cat, now);
        for (old, o) in found {
            let Some(s) = snap.get(old) else { continue };
            match planner.live(old, s, &o.id, &o.json) {
                Some(steps) => plan.steps.extend(steps),
                None if !second_look => plan.unchanged += 1,
                None => {}
            }
        }
        Ok(())
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
