//! Groups' churn: descriptions, names and memberships, and dynamic groups kept holding what their
//! rules select.

use super::{Churn, string};
use crate::generate::{Gen, Rule, ts};
use crate::{Ref, Rng};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Group descriptions an administrator writes.
const GROUP_DESCRIPTIONS: &[&str] = &[
    "Membership reviewed by the owner",
    "Access to shared resources",
    "Managed by the service desk",
    "Do not add external users",
    "Used for licence assignment",
    "Owners approve new members",
    "Scheduled for the annual access review",
    "Members of the project team",
];

impl Churn<'_> {
    /// Keep dynamic groups holding what their rules select for the touched users, and put new
    /// member users in All Employees.
    pub(super) fn reevaluate_groups(&mut self, touched: &[String], created: &[String]) {
        let mut changes: Vec<(String, Ref, bool)> = Vec::new();
        for g in self.t.objects("groups") {
            let members: HashSet<&str> =
                g.links("members").iter().filter(|r| r.category == "users").map(|r| r.id.as_str()).collect();
            let dynamic = g
                .json
                .get("groupTypes")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|x| x == "DynamicMembership"));
            if let (true, Some(rule)) = (dynamic, string(&g.json, "membershipRule")) {
                let rule = Rule::parse(rule);
                for id in touched {
                    let Some(u) = self.t.get("users", id) else { continue };
                    let selects = rule.matches_with(|p| u.json.get(p));
                    if selects != members.contains(id.as_str()) {
                        changes.push((g.id().to_string(), Ref { category: "users", id: id.clone() }, selects));
                    }
                }
            } else if string(&g.json, "displayName") == Some("All Employees") {
                for id in created {
                    let member = self.t.get("users", id).is_some_and(|u| string(&u.json, "userType") == Some("Member"));
                    if member && !members.contains(id.as_str()) {
                        changes.push((g.id().to_string(), Ref { category: "users", id: id.clone() }, true));
                    }
                }
            }
        }
        for (group, user, add) in changes {
            if add {
                self.link("groups", &group, "members", user);
            } else {
                self.unlink("groups", &group, "members", &user);
            }
        }
    }

    pub(super) fn groups(&mut self) {
        let k = self.k(self.t.count("groups"));
        if k == 0 {
            return;
        }
        let mut rng = self.root.fork("groups");
        let ids = self.ids("groups");
        let chosen = Gen::sample(&mut rng, &ids, k);
        let users: Vec<(String, bool, bool)> = self
            .t
            .objects("users")
            .map(|u| {
                let member = string(&u.json, "userType") == Some("Member");
                let synced = u.json.get("onPremisesSyncEnabled") == Some(&Value::Bool(true));
                (u.id().to_string(), member, synced)
            })
            .collect();
        let all: Vec<String> = users.iter().map(|u| u.0.clone()).collect();
        let members: Vec<String> = users.iter().filter(|u| u.1).map(|u| u.0.clone()).collect();
        let cloud: Vec<String> = users.iter().filter(|u| u.1 && !u.2).map(|u| u.0.clone()).collect();
        for id in &chosen {
            let Some(g) = self.t.get("groups", id) else { continue };
            let name = string(&g.json, "displayName").unwrap_or_default().to_string();
            let special = string(&g.json, "membershipRule").is_some()
                || g.json.get("onPremisesSyncEnabled") == Some(&Value::Bool(true))
                || name == "All Employees";
            let current = g.json.get("description").cloned().unwrap_or(Value::Null);
            // 0: properties, 1: members, 2: both.
            let action = if special { 0 } else { crate::generate::weighted(&mut rng, &[2, 2, 1]) };
            if action != 1 {
                let mut changes = Map::new();
                if !special && rng.chance(0.3) {
                    let base = match name.rsplit_once(' ') {
                        Some((b, n)) if n.bytes().all(|c| c.is_ascii_digit()) => b.to_string(),
                        _ => name.clone(),
                    };
                    let renamed = loop {
                        let candidate = format!("{base} {}", 2 + rng.below(98));
                        if candidate != name {
                            break candidate;
                        }
                    };
                    changes.insert("displayName".into(), Value::String(renamed));
                } else {
                    let description = (0..8)
                        .map(|_| Value::String(format!("{name}: {}", rng.pick(GROUP_DESCRIPTIONS))))
                        .find(|d| *d != current)
                        .unwrap_or_else(|| Value::String(format!("{name}: reviewed {}", ts(self.now))));
                    changes.insert("description".into(), description);
                }
                self.patch("groups", id, changes);
            }
            if action != 0 {
                self.change_members(&mut rng, id, &all, &members, &cloud);
            }
        }
    }

    /// Add or remove one to five user members of a static group.
    fn change_members(&mut self, rng: &mut Rng, id: &str, all: &[String], members: &[String], cloud: &[String]) {
        let Some(g) = self.t.get("groups", id) else { return };
        let current: Vec<Ref> = g.links("members").iter().filter(|r| r.category == "users").cloned().collect();
        let present: HashSet<&str> = current.iter().map(|r| r.id.as_str()).collect();
        let unified =
            g.json.get("groupTypes").and_then(Value::as_array).is_some_and(|t| t.iter().any(|x| x == "Unified"));
        let pool = if g.json.get("isAssignableToRole") == Some(&Value::Bool(true)) {
            cloud
        } else if unified || g.json.get("securityEnabled") == Some(&Value::Bool(false)) {
            members
        } else {
            all
        };
        let count = 1 + rng.below(5);
        let remove = !current.is_empty() && rng.chance(0.5);
        if remove {
            for r in Gen::sample(rng, &current, count) {
                self.unlink("groups", id, "members", &r);
            }
        } else {
            let candidates: Vec<String> = Gen::sample(rng, pool, count * 3)
                .into_iter()
                .filter(|u| !present.contains(u.as_str()))
                .take(count)
                .collect();
            for u in candidates {
                self.link("groups", id, "members", Ref { category: "users", id: u });
            }
        }
    }
}
