//! Logs' churn: new audit and sign-in records, later than any the tenant holds.

use super::{Churn, string};
use crate::generate::{hex_upper, ts};
use entra_backup::catalog;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// How long before `now` new log records start.
const LOG_WINDOW: SignedDuration = SignedDuration::from_secs(5 * 60);

impl Churn<'_> {
    /// Append records to a log, cloned from its existing records with new ids and times in the
    /// minutes before `now`, later than any record it holds.
    pub(super) fn logs(&mut self, category: &'static str) {
        let Some(prop) = catalog::get(category).and_then(|c| c.time_property) else { return };
        let k = self.k(self.t.count(category));
        if k == 0 {
            return;
        }
        let mut rng = self.root.fork(category);
        let latest = self.t.objects(category).filter_map(|o| string(&o.json, prop)?.parse::<Timestamp>().ok()).max();
        let mut start = self.now - LOG_WINDOW;
        if let Some(latest) = latest
            && latest >= start
        {
            start = latest;
        }
        let span_ms = start.duration_until(self.now).as_millis().max(0) as i64;
        let step_ms = (span_ms / (k as i64 + 1)).max(1);
        // Templates: records the generator made (audits by id shape), else any.
        let all = self.ids(category);
        let generated: Vec<String> = all.iter().filter(|id| id.starts_with("Directory_")).cloned().collect();
        let templates = if category == "directoryAudits" && !generated.is_empty() { generated } else { all };
        let users: Vec<(String, Value, Value)> = self
            .t
            .objects("users")
            .map(|u| {
                let get = |p| u.json.get(p).cloned().unwrap_or(Value::Null);
                (u.id().to_string(), get("displayName"), get("userPrincipalName"))
            })
            .collect();
        for i in 0..k {
            let tpl = &templates[rng.below(templates.len())];
            let Some(tpl) = self.t.get(category, tpl) else { continue };
            let mut json = tpl.json.clone();
            let when = start + SignedDuration::from_millis(step_ms * (i as i64 + 1));
            let id = if category == "directoryAudits" {
                format!("Directory_{}_{}_{}", rng.guid(), hex_upper(&mut rng, 5), 10_000_000 + rng.below(90_000_000))
            } else {
                rng.guid()
            };
            if self.t.get(category, &id).is_some() {
                continue;
            }
            json.insert("id".into(), Value::String(id.clone()));
            json.insert(prop.into(), Value::String(ts(when)));
            if json.contains_key("correlationId") {
                json.insert("correlationId".into(), Value::String(rng.guid()));
            }
            if category == "signIns" && !users.is_empty() {
                let (uid, name, upn) = &users[rng.below(users.len())];
                json.insert("userId".into(), Value::String(uid.clone()));
                json.insert("userDisplayName".into(), name.clone());
                json.insert("userPrincipalName".into(), upn.clone());
            }
            if self.t.insert(category, Value::Object(json)).is_ok() {
                self.track(category).created.insert(id);
            }
        }
    }
}
