//! Devices' churn: a property change, and new registered owners.

use super::{Churn, string};
use crate::Ref;
use crate::generate::{Gen, hex_upper, ts};
use jiff::SignedDuration;
use serde_json::{Map, Value};

/// Operating system versions devices move between, by `operatingSystem`.
const OS_VERSIONS: &[(&str, &[&str])] = &[
    ("Windows", &["10.0.19045.4651", "10.0.22631.3880", "10.0.22631.4169", "10.0.26100.2033", "10.0.26100.2314"]),
    ("iOS", &["17.5.1", "17.6", "18.0.1", "18.1", "18.2"]),
    ("Android", &["13", "14", "15"]),
    ("MacMDM", &["14.5", "14.6.1", "15.0", "15.1"]),
];

impl Churn<'_> {
    pub(super) fn devices(&mut self) {
        let k = self.k(self.t.count("devices"));
        if k == 0 {
            return;
        }
        let mut rng = self.root.fork("devices");
        let ids = self.ids("devices");
        let chosen = Gen::sample(&mut rng, &ids, k);
        for id in &chosen {
            let Some(d) = self.t.get("devices", id) else { continue };
            let mut changes = Map::new();
            let name = string(&d.json, "displayName").unwrap_or_default();
            let os = string(&d.json, "operatingSystem").unwrap_or_default();
            let version = string(&d.json, "operatingSystemVersion");
            let versions: Vec<&str> = OS_VERSIONS
                .iter()
                .find(|(o, _)| *o == os)
                .map(|(_, v)| v.iter().copied().filter(|x| Some(*x) != version).collect())
                .unwrap_or_default();
            let mut kinds = vec![2];
            if name.starts_with("DESKTOP-") {
                kinds.push(0);
            }
            if !versions.is_empty() {
                kinds.push(1);
            }
            match kinds[rng.below(kinds.len())] {
                0 => {
                    let renamed = format!("DESKTOP-{}", hex_upper(&mut rng, 7));
                    changes.insert("displayName".into(), Value::String(renamed));
                }
                1 => {
                    changes.insert(
                        "operatingSystemVersion".into(),
                        Value::String(versions[rng.below(versions.len())].into()),
                    );
                }
                _ => {
                    let seen = self.now - SignedDuration::from_secs(1 + rng.below(600) as i64);
                    let seen = Value::String(ts(seen));
                    if d.json.get("approximateLastSignInDateTime") != Some(&seen) {
                        changes.insert("approximateLastSignInDateTime".into(), seen);
                    }
                }
            }
            self.patch("devices", id, changes);
        }
        // New registered owners for some of them.
        let members: Vec<String> = self
            .t
            .objects("users")
            .filter(|u| string(&u.json, "userType") == Some("Member"))
            .map(|u| u.id().to_string())
            .collect();
        if members.is_empty() {
            return;
        }
        let owners = ((k as f64 / 10.0).round() as usize).max(1);
        for id in chosen.iter().take(owners) {
            let old: Vec<Ref> = self.t.links("devices", id, "registeredOwners").to_vec();
            let new = &members[rng.below(members.len())];
            if old.iter().any(|r| &r.id == new) {
                continue;
            }
            for r in &old {
                self.unlink("devices", id, "registeredOwners", r);
            }
            self.link("devices", id, "registeredOwners", Ref { category: "users", id: new.clone() });
        }
    }
}
