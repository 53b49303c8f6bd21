//! The conformance suite for [`Sink`] implementations.
//!
//! ```no_run
//! # use entra_backup::{JsonDirSink, Object, Result};
//! # async fn f(dir: &std::path::Path, read_folder: fn(&std::path::Path) -> Result<Vec<Object>>) {
//! // The second argument reads back every object the sink now holds.
//! let sink = JsonDirSink::new(dir);
//! entra_backup::testing::sink::conformance(sink, async |s: &JsonDirSink| read_folder(s.root())).await;
//! # }
//! ```

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{CheckedSink, FixtureSource, fixture_objects};
use crate::catalog::{self, Category};
use crate::error::Result;
use crate::pipeline::{Progress, run};
use crate::sink::Sink;
use crate::source::Object;

/// The category the suite's source refuses to list (so the sink sees a failed category).
fn failing_category() -> &'static Category {
    catalog::get("applications").expect("the catalog has applications")
}

/// Back up the fixture tenant ([`fixture_objects`]) into `sink` the way a backup does
/// (`pipeline::run`: several categories at once, one of them failing), then check that:
///
/// 1. the calls came in order ([`CheckedSink`]: no object of a category after its
///    `category_done`, nothing after `finish`);
/// 2. the run reports the failed category, and only it;
/// 3. what the sink holds afterwards, as `read_back` returns it, is exactly the fixture: every
///    object, with the same JSON (relationships included), none twice, and nothing of the failed
///    category.
///
/// Panics, naming the rule, on the first break; returns the sink for further checks.
pub async fn conformance<S, F>(sink: S, read_back: F) -> S
where
    S: Sink,
    F: AsyncFnOnce(&S) -> Result<Vec<Object>>,
{
    let fixture = fixture_objects();
    let source = FixtureSource::new("fixture-tenant", fixture.clone()).failing(failing_category());
    let mut categories = source.categories();
    categories.push(failing_category());
    let checked = CheckedSink::new(sink);
    let summary = run(&source, &checked, &Progress::new(&categories))
        .await
        .unwrap_or_else(|e| panic!("the backup into the sink failed: {e}"));
    let violations = checked.violations();
    assert!(violations.is_empty(), "rule 1: calls out of order: {violations:?}");
    let failed: Vec<&str> =
        summary.categories.iter().filter(|c| c.state == crate::summary::State::Failed).map(|c| c.category).collect();
    assert_eq!(failed, vec![failing_category().name], "rule 2: the failed categories are not as they were");

    let sink = checked.into_inner();
    let held = read_back(&sink).await.unwrap_or_else(|e| panic!("rule 3: reading the sink back failed: {e}"));
    let mut got: BTreeMap<(&str, String), Map<String, Value>> = BTreeMap::new();
    for o in held {
        let key = (o.category.name, o.id.clone());
        assert!(got.insert(key, o.json).is_none(), "rule 3: {}/{} is held twice", o.category.name, o.id);
    }
    for o in &fixture {
        let held = got.remove(&(o.category.name, o.id.clone()));
        let held = held.unwrap_or_else(|| panic!("rule 3: {}/{} was not kept", o.category.name, o.id));
        assert_eq!(held, o.json, "rule 3: {}/{} reads back changed", o.category.name, o.id);
    }
    assert!(got.is_empty(), "rule 3: the sink holds objects it was not given: {:?}", got.keys().collect::<Vec<_>>());
    sink
}
