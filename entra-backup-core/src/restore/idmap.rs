//! Old id -> new id of every object a restore recreated, applied to everything the restore writes
//! and kept in the repository as it grows, so that an interrupted restore resumes without creating
//! the same object twice.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repository;

/// A create that was sent but whose answer was not recorded yet: on resume, a live object with the
/// same natural key (display name, sign-in name, mail nickname) is taken as its result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    pub category: String,
    pub key: String,
}

/// The id map of one restore of one snapshot into one tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdMap {
    /// Old id (in the snapshot) -> new id (in the tenant). Applications also map their `appId`.
    pub ids: BTreeMap<String, String>,
    /// Creates in flight, by old id.
    #[serde(default)]
    pub pending: BTreeMap<String, Pending>,
    #[serde(skip)]
    reverse: HashMap<String, String>,
}

/// The largest id map a reader downloads (about two million recreated objects); a larger file is
/// refused before it is read into memory.
pub const MAX_ID_MAP_FILE: u64 = 256 * 1024 * 1024;

impl IdMap {
    /// Where the map of `snapshot` restored into `tenant` is kept.
    pub fn path(snapshot: &str, tenant: &str) -> String {
        format!("restores/{snapshot}/{tenant}")
    }

    /// The map kept in the repository, or an empty one.
    pub async fn load(repo: &Repository, snapshot: &str, tenant: &str) -> Result<IdMap> {
        let path = Self::path(snapshot, tenant);
        let Some(sealed) = repo.store().get_bounded(&path, MAX_ID_MAP_FILE).await? else { return Ok(IdMap::default()) };
        let plain = repo
            .cipher()
            .open(&sealed)
            .map_err(|e| Error::new(ErrorKind::Io, format!("the id map {path} cannot be read: {e}")))?;
        let mut map: IdMap = serde_json::from_slice(&plain)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("the id map {path} is not valid: {e}")))?;
        map.reverse = map.ids.iter().map(|(o, n)| (n.clone(), o.clone())).collect();
        Ok(map)
    }

    /// Write the map back (sealed like every other file of the repository).
    pub async fn save(&self, repo: &Repository, snapshot: &str, tenant: &str) -> Result<()> {
        let json = serde_json::to_vec(self).map_err(|e| Error::new(ErrorKind::Protocol, e.to_string()))?;
        repo.store().put(&Self::path(snapshot, tenant), repo.cipher().seal(&json).into()).await
    }

    pub fn insert(&mut self, old: &str, new: &str) {
        if old != new {
            self.ids.insert(old.to_string(), new.to_string());
            self.reverse.insert(new.to_string(), old.to_string());
        }
        self.pending.remove(old);
    }

    /// The id an old id has now (itself when it was not recreated).
    pub fn get<'a>(&'a self, old: &'a str) -> &'a str {
        self.ids.get(old).map_or(old, String::as_str)
    }

    /// The snapshot's id of a live object (itself when it was not recreated).
    pub fn old_of<'a>(&'a self, new: &'a str) -> &'a str {
        self.reverse.get(new).map_or(new, String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Replace every old id in a JSON value by its new id: strings that are an old id, and paths
    /// whose last segment is one (`/administrativeUnits/{id}`). Ids are GUIDs (or keys unique in
    /// the tenant), so this covers every reference field of the catalog and those it does not name
    /// (a service principal's `servicePrincipalNames` holds its `appId`).
    pub fn apply(&self, value: &mut Value) {
        if self.ids.is_empty() {
            return;
        }
        match value {
            Value::String(s) => {
                if let Some(new) = self.ids.get(s.as_str()) {
                    *s = new.clone();
                } else if let Some((head, last)) = s.rsplit_once('/')
                    && let Some(new) = self.ids.get(last)
                {
                    *s = format!("{head}/{new}");
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|v| self.apply(v)),
            Value::Object(m) => self.apply_map(m),
            _ => {}
        }
    }

    /// [`IdMap::apply`] over an object's values (its keys are left alone).
    pub fn apply_map(&self, object: &mut Map<String, Value>) {
        for v in object.values_mut() {
            self.apply(v);
        }
    }
}

/// A natural key of an object: what identifies it to people when its id changed (used to find
/// the result of a create whose answer was lost). Taken from the object with its ids mapped; an
/// assignment is known by who holds which role where. Empty when the object has none of these,
/// and then nothing is found by it.
pub fn natural_key(object: &Map<String, Value>) -> String {
    let keys = [
        "displayName",
        "userPrincipalName",
        "mailNickname",
        "name",
        "uniqueName",
        "tenantId",
        "principalId",
        "roleDefinitionId",
        "directoryScopeId",
        "resourceId",
        "appRoleId",
    ];
    let parts: Vec<String> =
        keys.iter().filter_map(|k| object.get(*k).and_then(Value::as_str).map(|v| format!("{k}={v}"))).collect();
    parts.join("\u{1f}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_replaced_in_values_and_path_ends() {
        let mut m = IdMap::default();
        m.insert("old-1", "new-1");
        let mut v = json!({"old-1": "old-1", "a": ["x", "old-1"], "p": "/administrativeUnits/old-1", "q": "old-10"});
        m.apply(&mut v);
        assert_eq!(v, json!({"old-1": "new-1", "a": ["x", "new-1"], "p": "/administrativeUnits/new-1", "q": "old-10"}));
        assert_eq!(m.old_of("new-1"), "old-1");
        assert_eq!(m.get("zzz"), "zzz");
    }
}
