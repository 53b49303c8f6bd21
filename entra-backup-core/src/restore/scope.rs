//! A restore's scope checked against the snapshot before anything is read or written: a category
//! the snapshot does not hold, an id it does not hold (or holds in a category left out of the
//! scope), and an attribute no object in scope can have are errors that name the close matches,
//! never a restore that does nothing and reports success.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;

use super::RestoreOptions;
use crate::catalog::Category;
use crate::error::{Error, Result};
use crate::source::SnapshotSource;
use crate::text::{close_matches, did_you_mean, quote};

/// The categories to restore, in dependency order, once `options` is known to fit `snapshot`.
pub(super) async fn check(snapshot: &SnapshotSource, options: &RestoreOptions) -> Result<Vec<&'static Category>> {
    let held = snapshot.categories();
    let cats: Vec<&'static Category> = if options.categories.is_empty() {
        held.clone()
    } else {
        for c in &options.categories {
            if !held.iter().any(|h| h.name == c.name) {
                let matches = close_matches(c.name, held.iter().map(|h| h.name));
                return Err(Error::invalid_input(format!(
                    "snapshot {} holds no category {}{}",
                    short(snapshot.id()),
                    quote(c.name),
                    did_you_mean(&matches)
                )));
            }
        }
        let mut c: Vec<&'static Category> =
            held.iter().copied().filter(|h| options.categories.iter().any(|o| o.name == h.name)).collect();
        c.sort_by_key(|c| c.order);
        c
    };
    if options.ids.is_empty() && options.attributes.is_empty() {
        return Ok(cats);
    }
    let mut trees: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for c in &held {
        trees.insert(c.name, snapshot.ids(c).await?);
    }
    for id in &options.ids {
        if cats.iter().any(|c| trees[c.name].contains(id)) {
            continue;
        }
        let elsewhere: Vec<&str> = held.iter().filter(|c| trees[c.name].contains(id)).map(|c| c.name).collect();
        let why = if let Some(other) = elsewhere.first() {
            let asked: Vec<&str> = cats.iter().map(|c| c.name).collect();
            format!(" in {}: it is a {other} object (add {other} to the categories)", asked.join(", "))
        } else {
            let all = cats.iter().flat_map(|c| trees[c.name].iter().map(String::as_str));
            did_you_mean(&close_matches(id, all))
        };
        return Err(Error::invalid_input(format!(
            "snapshot {} holds no object {}{why}",
            short(snapshot.id()),
            quote(id)
        )));
    }
    if !options.attributes.is_empty() {
        let known = attributes(snapshot, &cats, &trees, &options.ids).await?;
        for a in &options.attributes {
            if !known.contains(a.as_str()) {
                let matches = close_matches(a, known.iter().map(String::as_str));
                let asked: Vec<&str> = cats.iter().map(|c| c.name).collect();
                return Err(Error::invalid_input(format!(
                    "no object of {} in scope has the attribute or relationship {}{}",
                    asked.join(", "),
                    quote(a),
                    did_you_mean(&matches)
                )));
            }
        }
    }
    Ok(cats)
}

/// Every attribute an object in scope can have: its type's properties in the schema (derived
/// types' too), the category's relationships, and the keys the snapshot's objects in scope hold
/// (all of them for a type the schema lacks; only the chosen ones otherwise, as reading a whole
/// category for a name the schema already gives is not worth it).
async fn attributes(
    snapshot: &SnapshotSource,
    cats: &[&'static Category],
    trees: &BTreeMap<&'static str, BTreeSet<String>>,
    ids: &[String],
) -> Result<BTreeSet<String>> {
    let mut known = BTreeSet::new();
    for c in cats {
        let mut typed = false;
        for t in std::iter::once(&c.entity_type).chain(c.derived_types) {
            if let Some(props) = crate::model::properties(t) {
                typed = true;
                known.extend(props.iter().map(|p| p.to_string()));
            }
        }
        known.extend(c.relationships.iter().map(|r| r.name.to_string()));
        known.extend(c.selected().iter().map(|p| p.to_string()));
        let mut entries = trees[c.name].clone();
        if !ids.is_empty() {
            entries.retain(|id| ids.contains(id));
        } else if typed {
            continue;
        }
        let objects: Vec<(String, serde_json::Map<String, serde_json::Value>)> =
            snapshot.objects_of(c, Some(entries), false).try_collect().await?;
        for (_, o) in objects {
            known.extend(o.keys().filter(|k| !k.starts_with('@')).cloned());
        }
    }
    Ok(known)
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
