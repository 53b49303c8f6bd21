//! Compare: object against object attribute by attribute, snapshot against snapshot, and snapshot
//! against the live tenant. Only differences are reported, each with both values.
//!
//! Links (a group's `members`) are sets: their difference is the references added and removed,
//! not two long arrays. Two snapshots are compared through their trees first, so objects whose blob
//! did not change are never read.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use futures::TryStreamExt;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::catalog::{Category, RelationshipKind};
use crate::error::Result;
use crate::repo::IdMap;
use crate::repo::Snapshot;
use crate::repo::tree::{Entries, Entry};
use crate::source::ids::IdSet;
use crate::source::{CategoryStats, Object, Source, stream_batch};

/// What happened to an object between two points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DiffKind {
    /// Only in the second (newer, or live) side.
    Added,
    /// Only in the first side.
    Removed,
    /// On both sides, with attributes that differ.
    Changed,
}

/// One attribute that differs. For a link relationship, `added` and `removed` list the references.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDiff {
    /// The property or relationship name (`displayName`, `members`).
    pub attribute: String,
    /// The first side's value; `None` when absent or null there, and for a link relationship.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The second side's value; `None` when absent or null there, and for a link relationship.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// For a link relationship: ids of the references only the second side has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    /// For a link relationship: ids of the references only the first side has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDiff {
    /// The category's name in the catalog.
    pub category: &'static str,
    /// The object's id in the first side (the snapshot's id, for a recreated object).
    pub id: String,
    /// A name people recognise it by (see [`display_name`]), from the second side unless the
    /// object was removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Added, removed or changed.
    pub kind: DiffKind,
    /// The live id of an object a restore recreated (the id map's entry for `id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_id: Option<String>,
    /// What differs, for [`DiffKind::Changed`]; empty for an added or removed object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeDiff>,
}

/// Counts of a comparison.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffSummary {
    /// Objects only in the second side.
    pub added: u64,
    /// Objects only in the first side.
    pub removed: u64,
    /// Objects on both sides that differ.
    pub changed: u64,
    /// Objects on both sides that do not differ.
    pub unchanged: u64,
    /// Categories Graph refused to list (against the live tenant): nothing is said of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_categories: Vec<crate::error::CategoryFailure>,
}

impl DiffSummary {
    fn count(&mut self, d: &ObjectDiff) {
        match d.kind {
            DiffKind::Added => self.added += 1,
            DiffKind::Removed => self.removed += 1,
            DiffKind::Changed => self.changed += 1,
        }
    }
}

/// A name people recognise an object by.
pub fn display_name(object: &Map<String, Value>) -> Option<String> {
    ["displayName", "userPrincipalName", "name", "activityDisplayName", "id"]
        .iter()
        .find_map(|k| object.get(*k).and_then(Value::as_str))
        .map(String::from)
}

fn ref_ids(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|r| r.get("id").and_then(Value::as_str)).map(String::from).collect())
        .unwrap_or_default()
}

/// A value as Graph means it, for comparison: absent, null and empty (`[]`, `{}`, an object of
/// empty values) are the same; collections are sets (Graph keeps no order in them); the `id` of an
/// object inside a collection (a credential, an assignment) is given by Graph when it is created,
/// so it is not compared.
pub fn normalize(value: Option<&Value>) -> Option<Value> {
    match value? {
        Value::Null => None,
        Value::Array(items) => {
            let mut items: Vec<Value> = items
                .iter()
                .filter_map(|v| match v {
                    Value::Object(m) => {
                        let mut kv: Vec<(String, Value)> = m
                            .iter()
                            .filter(|(k, _)| k.as_str() != "id" && !k.starts_with('@') || k.as_str() == "@odata.type")
                            .filter_map(|(k, v)| normalize(Some(v)).map(|v| (k.clone(), v)))
                            .collect();
                        kv.sort_by(|a, b| a.0.cmp(&b.0));
                        Some(Value::Object(kv.into_iter().collect()))
                    }
                    other => normalize(Some(other)),
                })
                .collect();
            items.sort_by_cached_key(|v| v.to_string());
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(m) => {
            // Keys sorted, so that sorting a collection of objects does not depend on key order.
            let mut kv: Vec<(String, Value)> =
                m.iter().filter_map(|(k, v)| normalize(Some(v)).map(|v| (k.clone(), v))).collect();
            kv.sort_by(|a, b| a.0.cmp(&b.0));
            (!kv.is_empty()).then_some(Value::Object(kv.into_iter().collect()))
        }
        other => Some(other.clone()),
    }
}

/// The attributes of `after` that differ from `before`: properties by value, link relationships as
/// sets of references, contained children by value, all as [`normalize`] says. Annotations
/// (`@odata.*`) are not compared.
pub fn compare_objects(
    category: &Category,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Vec<AttributeDiff> {
    let links: HashSet<&str> =
        category.relationships.iter().filter(|r| r.kind != RelationshipKind::Contained).map(|r| r.name).collect();
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).filter(|k| !k.starts_with('@')).collect();
    let mut out = Vec::new();
    for key in keys {
        let (b, a) = (before.get(key), after.get(key));
        if links.contains(key.as_str()) {
            let (bs, as_) = (ref_ids(b), ref_ids(a));
            if bs != as_ {
                out.push(AttributeDiff {
                    attribute: key.clone(),
                    before: None,
                    after: None,
                    added: as_.difference(&bs).cloned().collect(),
                    removed: bs.difference(&as_).cloned().collect(),
                });
            }
            continue;
        }
        if normalize(b) != normalize(a) {
            let shown = |v: Option<&Value>| v.filter(|v| !v.is_null()).cloned();
            out.push(AttributeDiff {
                attribute: key.clone(),
                before: shown(b),
                after: shown(a),
                added: vec![],
                removed: vec![],
            });
        }
    }
    out
}

/// Read the objects of `entries` (a part of a category's tree), by id.
async fn read_objects(source: &Snapshot, entries: Entries) -> Result<BTreeMap<String, Map<String, Value>>> {
    source.read(entries, false).try_collect().await
}

/// One id of a category whose blob differs between the two sides, with its entry on each side.
type Differing = (String, Option<Entry>, Option<Entry>);

/// Compare snapshot `before` with snapshot `after` in `categories`, sending each difference to
/// `out` (optionally only object `only_id`). Unchanged objects (the same blob) are not read; the
/// others are read and compared a batch at a time ([`stream_batch`]), in id order, so that memory
/// holds the two trees and one batch of objects, never a category's objects.
pub async fn diff_snapshots(
    before: &Snapshot,
    after: &Snapshot,
    categories: &[&'static Category],
    only_id: Option<&str>,
    out: &mpsc::Sender<ObjectDiff>,
) -> Result<DiffSummary> {
    let mut summary = DiffSummary::default();
    for &cat in categories {
        let (tb, ta) = (before.tree_root(cat), after.tree_root(cat));
        if tb.is_some() && tb == ta {
            // The same tree: every object is unchanged, or only `only_id` if the tree holds it.
            summary.unchanged += match only_id {
                None => before.file().categories[cat.name].objects,
                Some(id) => u64::from(before.entries(cat).await?.contains_key(id)),
            };
            continue;
        }
        let (eb, ea) = (before.entries(cat).await?, after.entries(cat).await?);
        let keep = |id: &str| only_id.is_none_or(|o| o == id);
        let same = |x: &Entry, y: &Entry| x.blob == y.blob && x.chunks == y.chunks;
        // Both trees walked together in id order: ids on one side only, or with another blob.
        let (mut ib, mut ia) = (eb.iter().peekable(), ea.iter().peekable());
        let mut batch: Vec<Differing> = Vec::new();
        loop {
            let step = match (ib.peek(), ia.peek()) {
                (None, None) => None,
                (Some((kb, _)), Some((ka, _))) => Some(kb.cmp(ka)),
                (Some(_), None) => Some(std::cmp::Ordering::Less),
                (None, Some(_)) => Some(std::cmp::Ordering::Greater),
            };
            let Some(step) = step else { break };
            let (id, b, a) = match step {
                std::cmp::Ordering::Less => {
                    let (id, b) = ib.next().expect("peeked");
                    (id, Some(b), None)
                }
                std::cmp::Ordering::Greater => {
                    let (id, a) = ia.next().expect("peeked");
                    (id, None, Some(a))
                }
                std::cmp::Ordering::Equal => {
                    let ((id, b), (_, a)) = (ib.next().expect("peeked"), ia.next().expect("peeked"));
                    (id, Some(b), Some(a))
                }
            };
            if !keep(id) {
                continue;
            }
            if let (Some(b), Some(a)) = (b, a)
                && same(b, a)
            {
                summary.unchanged += 1;
                continue;
            }
            batch.push((id.clone(), b.cloned(), a.cloned()));
            if batch.len() >= stream_batch()
                && !compare_batch(before, after, cat, std::mem::take(&mut batch), &mut summary, out).await?
            {
                return Ok(summary);
            }
        }
        if !compare_batch(before, after, cat, batch, &mut summary, out).await? {
            return Ok(summary);
        }
    }
    Ok(summary)
}

/// Read and compare one batch of differing ids (in id order) and send what differs. Returns
/// false when the receiver went away.
async fn compare_batch(
    before: &Snapshot,
    after: &Snapshot,
    cat: &'static Category,
    batch: Vec<Differing>,
    summary: &mut DiffSummary,
    out: &mpsc::Sender<ObjectDiff>,
) -> Result<bool> {
    if batch.is_empty() {
        return Ok(true);
    }
    let side = |pick: fn(&Differing) -> Option<&Entry>| -> Entries {
        batch.iter().filter_map(|d| pick(d).map(|e| (d.0.clone(), e.clone()))).collect()
    };
    let (db, da) = (side(|d| d.1.as_ref()), side(|d| d.2.as_ref()));
    let (ob, oa) = (read_objects(before, db).await?, read_objects(after, da).await?);
    for (id, _, _) in batch {
        let d = match (ob.get(&id), oa.get(&id)) {
            (Some(b), Some(a)) => {
                let attributes = compare_objects(cat, b, a);
                if attributes.is_empty() {
                    summary.unchanged += 1;
                    continue;
                }
                ObjectDiff {
                    category: cat.name,
                    id,
                    display_name: display_name(a),
                    kind: DiffKind::Changed,
                    new_id: None,
                    attributes,
                }
            }
            (Some(b), None) => ObjectDiff {
                category: cat.name,
                id,
                display_name: display_name(b),
                kind: DiffKind::Removed,
                new_id: None,
                attributes: vec![],
            },
            (None, Some(a)) => ObjectDiff {
                category: cat.name,
                id,
                display_name: display_name(a),
                kind: DiffKind::Added,
                new_id: None,
                attributes: vec![],
            },
            (None, None) => continue,
        };
        summary.count(&d);
        if out.send(d).await.is_err() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Compare snapshot `before` with what `live` reads now (a [`GraphSource`](crate::source::GraphSource)),
/// category by category, a batch of objects at a time. Objects a restore recreated are matched
/// through its id map (`map`): compared with their snapshot object, whose references are mapped
/// too, and reported under their snapshot id with `new_id`.
pub async fn diff_live(
    before: &Snapshot,
    live: &dyn Source,
    categories: &[&'static Category],
    only_id: Option<&str>,
    map: &IdMap,
    out: &mpsc::Sender<ObjectDiff>,
) -> Result<DiffSummary> {
    live.prepare().await?;
    let mut summary = DiffSummary::default();
    for &cat in categories {
        let entries = before.entries(cat).await?;
        let batch_size = stream_batch();
        let (tx, mut rx) = mpsc::channel::<Object>(batch_size);
        let stats = CategoryStats::default();
        let reader = async move { live.read(cat, &tx, &stats).await };
        let compare = async {
            // Snapshot ids seen live, 16 bytes each: what is left of the tree afterwards is gone.
            let mut seen = IdSet::new();
            let mut batch: Vec<Object> = Vec::with_capacity(batch_size);
            let mut summary = DiffSummary::default();
            let flush = |batch: Vec<Object>| {
                let entries = &entries;
                async move {
                    let wanted: Entries = batch
                        .iter()
                        .filter_map(|o| entries.get_key_value(map.old_of(&o.id)))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let old = read_objects(before, wanted).await?;
                    let mut diffs = Vec::new();
                    let mut unchanged = 0;
                    for o in batch {
                        let old_id = map.old_of(&o.id).to_string();
                        let new_id = (old_id != o.id).then(|| o.id.clone());
                        match old.get(&old_id) {
                            Some(b) => {
                                let mut b = b.clone();
                                map.apply_map(&mut b);
                                let attributes = compare_objects(cat, &b, &o.json);
                                if attributes.is_empty() {
                                    unchanged += 1;
                                } else {
                                    diffs.push(ObjectDiff {
                                        category: cat.name,
                                        display_name: display_name(&o.json),
                                        id: old_id,
                                        kind: DiffKind::Changed,
                                        new_id,
                                        attributes,
                                    });
                                }
                            }
                            None => diffs.push(ObjectDiff {
                                category: cat.name,
                                display_name: display_name(&o.json),
                                id: o.id,
                                kind: DiffKind::Added,
                                new_id: None,
                                attributes: vec![],
                            }),
                        }
                    }
                    Ok::<_, crate::Error>((diffs, unchanged))
                }
            };
            while let Some(o) = rx.recv().await {
                let old_id = map.old_of(&o.id);
                if only_id.is_some_and(|id| id != old_id) {
                    continue;
                }
                seen.insert(old_id);
                batch.push(o);
                if batch.len() >= batch_size {
                    let (diffs, unchanged) = flush(std::mem::take(&mut batch)).await?;
                    summary.unchanged += unchanged;
                    for d in diffs {
                        summary.count(&d);
                        let _ = out.send(d).await;
                    }
                }
            }
            let (diffs, unchanged) = flush(batch).await?;
            summary.unchanged += unchanged;
            for d in diffs {
                summary.count(&d);
                let _ = out.send(d).await;
            }
            Ok::<_, crate::Error>((summary, seen))
        };
        let (read, compared) = tokio::join!(reader, compare);
        let (mut s, seen) = compared?;
        match read {
            Ok(()) => {}
            // Graph refused this category: what it holds now is unknown, so nothing is "removed".
            Err(e) if e.stops_one_category() => {
                summary
                    .failed_categories
                    .push(crate::error::CategoryFailure { category: cat.name, error: e.to_string() });
                continue;
            }
            Err(e) => return Err(e),
        }
        // What the snapshot held and the tenant no longer does (known only once the read ended
        // well), read a batch at a time in id order.
        let mut gone = entries.iter().filter(|(id, _)| !seen.contains(id) && only_id.is_none_or(|o| o == *id));
        loop {
            let chunk: Entries = gone.by_ref().take(batch_size).map(|(k, v)| (k.clone(), v.clone())).collect();
            if chunk.is_empty() {
                break;
            }
            for (id, b) in read_objects(before, chunk).await? {
                let d = ObjectDiff {
                    category: cat.name,
                    display_name: display_name(&b),
                    id,
                    kind: DiffKind::Removed,
                    new_id: None,
                    attributes: vec![],
                };
                s.count(&d);
                let _ = out.send(d).await;
            }
        }
        summary.added += s.added;
        summary.removed += s.removed;
        summary.changed += s.changed;
        summary.unchanged += s.unchanged;
    }
    Ok(summary)
}
