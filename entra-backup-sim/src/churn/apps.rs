//! Applications' and service principals' churn: `notes` and `tags` changes.

use super::{Churn, string};
use crate::generate::Gen;
use serde_json::{Map, Value};

/// What administrators write in an application's or service principal's notes.
const NOTES: &[&str] = &[
    "Reviewed by the application owner.",
    "Secret rotation scheduled.",
    "Permissions reviewed; no change needed.",
    "Owner changed after a reorganisation.",
    "Sign-in logs checked for unused access.",
];

/// Tags added to or removed from applications and service principals.
const TAGS: &[&str] = &["HideApp", "Tier:1", "Owner:IT", "Reviewed", "Deprecated"];

impl Churn<'_> {
    pub(super) fn properties(&mut self, category: &'static str) {
        let k = self.k(self.t.count(category));
        if k == 0 {
            return;
        }
        let mut rng = self.root.fork(category);
        let ids = self.ids(category);
        for id in Gen::sample(&mut rng, &ids, k) {
            let Some(o) = self.t.get(category, &id) else { continue };
            let mut changes = Map::new();
            if rng.chance(0.7) {
                let note = format!("{} Change CHG{:07}.", rng.pick(NOTES), rng.below(10_000_000));
                if string(&o.json, "notes") != Some(note.as_str()) {
                    changes.insert("notes".into(), Value::String(note));
                }
            } else {
                let tag = *rng.pick(TAGS);
                let mut tags: Vec<Value> = o.json.get("tags").and_then(Value::as_array).cloned().unwrap_or_default();
                match tags.iter().position(|t| t == tag) {
                    Some(i) => {
                        tags.remove(i);
                    }
                    None => tags.push(Value::String(tag.into())),
                }
                changes.insert("tags".into(), Value::Array(tags));
            }
            self.patch(category, &id, changes);
        }
    }
}
