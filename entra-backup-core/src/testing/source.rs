//! The conformance suite for [`Source`] implementations.
//!
//! ```no_run
//! # async fn f(my_source: &dyn entra_backup::Source) {
//! let categories = [entra_backup::catalog::get("users").unwrap()];
//! entra_backup::testing::source::conformance(my_source, &categories).await;
//! # }
//! ```

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::catalog::Category;
use crate::error::{ErrorKind, Result};
use crate::source::{CategoryStats, Change, Object, Prior, Source};

/// Check every rule of the [`Source`] contract on each of `categories` (which should hold a few
/// objects each, so that the rules about objects have something to check):
///
/// 1. `read` sends objects of the category asked, each id once, the id being the object's key
///    (as [`Object::new`] finds it), and counts each object it sends in the stats;
/// 2. `read_some` sends every object asked for, whole (as `read` sent it);
/// 3. `read_changes` from no cursor sends the same objects as `read`, and no removals;
/// 4. a receiver that goes away ends a read (with [`ErrorKind::Cancelled`] or `Ok`), never a hang
///    or a panic;
/// 5. a tenant id, when the source gives one, is not empty.
///
/// Panics, naming the rule and the category, on the first break.
pub async fn conformance(source: &dyn Source, categories: &[&'static Category]) {
    source.prepare().await.unwrap_or_else(|e| panic!("prepare failed: {e}"));
    if let Some(t) = source.tenant_id() {
        assert!(!t.trim().is_empty(), "rule 5: the tenant id is empty");
    }
    for &category in categories {
        let objects = read_all(source, category).await;
        read_some_sends_what_was_asked(source, category, &objects).await;
        changes_from_nothing_are_everything(source, category, &objects).await;
        a_receiver_that_goes_away_ends_the_read(source, category, objects.len()).await;
    }
}

/// Rule 1; returns the objects by id.
async fn read_all(source: &dyn Source, category: &'static Category) -> BTreeMap<String, Map<String, Value>> {
    let stats = CategoryStats::default();
    let (tx, rx) = mpsc::channel(16);
    let (read, sent) = tokio::join!(
        async move {
            let r = source.read(category, &tx, &stats).await;
            (r, stats.objects())
        },
        collect(rx)
    );
    let (result, counted) = read;
    result.unwrap_or_else(|e| panic!("rule 1: reading {} failed: {e}", category.name));
    let mut by_id = BTreeMap::new();
    for o in &sent {
        assert_eq!(
            o.category.name, category.name,
            "rule 1: read({}) sent an object of {}",
            category.name, o.category.name
        );
        let key = Object::new(category, o.json.clone()).id;
        assert_eq!(o.id, key, "rule 1: an object of {} has id {:?} but its key is {:?}", category.name, o.id, key);
        let again = by_id.insert(o.id.clone(), o.json.clone());
        assert!(again.is_none(), "rule 1: read({}) sent {} twice", category.name, o.id);
    }
    assert_eq!(
        counted,
        sent.len() as u64,
        "rule 1: read({}) sent {} objects but counted {counted}",
        category.name,
        sent.len()
    );
    by_id
}

/// Rule 2.
async fn read_some_sends_what_was_asked(
    source: &dyn Source,
    category: &'static Category,
    objects: &BTreeMap<String, Map<String, Value>>,
) {
    let asked: HashSet<String> = objects.keys().take(3).cloned().collect();
    if asked.is_empty() {
        return;
    }
    let stats = CategoryStats::default();
    let (tx, rx) = mpsc::channel(16);
    let (result, sent) = tokio::join!(
        async {
            let tx = tx;
            source.read_some(category, &asked, &tx, &stats).await
        },
        collect(rx)
    );
    result.unwrap_or_else(|e| panic!("rule 2: read_some({}) failed: {e}", category.name));
    for id in &asked {
        let got = sent.iter().find(|o| &o.id == id);
        let got = got.unwrap_or_else(|| panic!("rule 2: read_some({}) did not send {id}", category.name));
        assert_eq!(&got.json, &objects[id], "rule 2: read_some({}) sent {id} unlike read did", category.name);
    }
}

/// Rule 3.
async fn changes_from_nothing_are_everything(
    source: &dyn Source,
    category: &'static Category,
    objects: &BTreeMap<String, Map<String, Value>>,
) {
    let stats = CategoryStats::default();
    let (tx, mut rx) = mpsc::channel(16);
    let prior = Prior::default();
    let read = async {
        let tx = tx;
        source.read_changes(category, &prior, &tx, &stats).await
    };
    let take = async {
        let mut ids = Vec::new();
        while let Some(c) = rx.recv().await {
            match c {
                Change::Object(o) | Change::Patch(o) => ids.push(o.id),
                Change::Removed { id, .. } => {
                    panic!("rule 3: read_changes({}) from no cursor sent a removal of {id}", category.name)
                }
            }
        }
        ids
    };
    let (result, mut ids) = tokio::join!(read, take);
    result.unwrap_or_else(|e| panic!("rule 3: read_changes({}) failed: {e}", category.name));
    ids.sort();
    let want: Vec<String> = objects.keys().cloned().collect();
    assert_eq!(ids, want, "rule 3: read_changes({}) from no cursor sent other objects than read", category.name);
}

/// Rule 4.
async fn a_receiver_that_goes_away_ends_the_read(source: &dyn Source, category: &'static Category, count: usize) {
    if count < 2 {
        return;
    }
    let stats = CategoryStats::default();
    let (tx, mut rx) = mpsc::channel(1);
    let read = async {
        let tx = tx;
        source.read(category, &tx, &stats).await
    };
    let take_one = async move {
        let first = rx.recv().await;
        drop(rx);
        first.is_some()
    };
    let (result, got): (Result<()>, bool) = tokio::join!(read, take_one);
    assert!(got, "rule 4: read({}) sent nothing", category.name);
    if let Err(e) = result {
        assert_eq!(
            e.kind(),
            ErrorKind::Cancelled,
            "rule 4: read({}) into a closed channel failed with {e} instead of a cancellation",
            category.name
        );
    }
}

async fn collect(mut rx: mpsc::Receiver<Object>) -> Vec<Object> {
    let mut out = Vec::new();
    while let Some(o) = rx.recv().await {
        out.push(o);
    }
    out
}
