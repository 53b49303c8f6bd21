//! Old id -> new id of every object a restore recreated, applied to everything the restore writes
//! and kept in the repository as it grows, so that an interrupted restore resumes without creating
//! the same object twice.
//!
//! Stored as `"EBIDMAP2" || generation (u64, little-endian) || sealed JSON`, sealed with the
//! associated data `"entra-backup id map v2\0" || path || "\0" || generation`: a map moved to
//! another snapshot's or tenant's path, or given another generation, does not open. Each save
//! writes the next generation, and each machine remembers the highest it saved or read
//! ([`trust::watermark`]), so an older generation put back (a rollback, reviving stale `pending`
//! entries) or a deleted map is refused there. A machine that never saw it cannot tell either apart from a
//! map never written: a storage-only attacker's rollback or deletion is detected only where the
//! map was seen. Maps written before generations (bare sealed JSON) are still read, as generation 0.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::crypto::trust;

/// The start of an id map file with a generation.
const MAGIC: &[u8; 8] = b"EBIDMAP2";
const HEADER_LEN: usize = MAGIC.len() + 8;

/// A create that was sent but whose answer was not recorded yet: on resume, a live object with the
/// same natural key (display name, sign-in name, mail nickname) is taken as its result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    /// The category's name in the catalog.
    pub category: String,
    /// The create body's [`natural_key`].
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
    /// The generation loaded (0 for none); each save writes the next.
    #[serde(skip)]
    generation: u64,
}

/// The largest id map a reader downloads (about two million recreated objects); a larger file is
/// refused before it is read into memory.
pub const MAX_ID_MAP_FILE: u64 = 256 * 1024 * 1024;

impl IdMap {
    /// Where the map of `snapshot` restored into `tenant` is kept.
    pub fn path(snapshot: &str, tenant: &str) -> String {
        format!("restores/{snapshot}/{tenant}")
    }

    fn aad(path: &str, generation: u64) -> Vec<u8> {
        let mut aad = format!("entra-backup id map v2\0{path}\0").into_bytes();
        aad.extend_from_slice(&generation.to_le_bytes());
        aad
    }

    /// The map kept in the repository, or an empty one. A map sealed for another path, older
    /// than this machine last saw, or deleted since, is an [`ErrorKind::Protocol`] error. The
    /// generations seen are kept in the default trust folder ([`trust::default_trust_dir`]).
    pub async fn load(repo: &Repository, snapshot: &str, tenant: &str) -> Result<IdMap> {
        Self::load_in(repo, snapshot, tenant, trust::default_trust_dir().as_deref()).await
    }

    /// [`IdMap::load`] with the generations seen kept in `trust_dir` (`None`: not kept, and then
    /// a rollback or deletion cannot be told).
    pub async fn load_in(repo: &Repository, snapshot: &str, tenant: &str, trust_dir: Option<&Path>) -> Result<IdMap> {
        let path = Self::path(snapshot, tenant);
        let cipher = repo.cipher();
        let seen = trust::watermark(trust_dir, cipher, &path)?;
        let Some(stored) = repo.store().get_bounded(&path, MAX_ID_MAP_FILE).await? else {
            if let Some(generation) = seen {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "the id map {path} is missing, but this machine saw its generation {generation}: it was \
                         deleted (resuming without it could create objects twice)"
                    ),
                ));
            }
            return Ok(IdMap::default());
        };
        let unreadable = |e: Error| Error::new(ErrorKind::Protocol, format!("the id map {path} cannot be read: {e}"));
        let (generation, plain) = match stored.strip_prefix(MAGIC.as_slice()) {
            Some(rest) if stored.len() >= HEADER_LEN => {
                let generation = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
                (generation, cipher.open_with(&rest[8..], &Self::aad(&path, generation)).map_err(unreadable)?)
            }
            _ => (0, cipher.open(&stored).map_err(unreadable)?),
        };
        if let Some(newest) = seen
            && generation < newest
        {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "the id map {path} is generation {generation}, older than the {newest} this machine saw: it \
                     was rolled back"
                ),
            ));
        }
        let mut map: IdMap = serde_json::from_slice(&plain)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("the id map {path} is not valid: {e}")))?;
        if seen.is_none_or(|newest| generation > newest) {
            trust::record_watermark(trust_dir, cipher, &path, generation)?;
        }
        map.reverse = map.ids.iter().map(|(o, n)| (n.clone(), o.clone())).collect();
        map.generation = generation;
        Ok(map)
    }

    /// Write the map back as the next generation, sealed to its path and generation.
    pub async fn save(&mut self, repo: &Repository, snapshot: &str, tenant: &str) -> Result<()> {
        self.save_in(repo, snapshot, tenant, trust::default_trust_dir().as_deref()).await
    }

    /// [`IdMap::save`], recording the generation in `trust_dir`.
    pub async fn save_in(
        &mut self,
        repo: &Repository,
        snapshot: &str,
        tenant: &str,
        trust_dir: Option<&Path>,
    ) -> Result<()> {
        let path = Self::path(snapshot, tenant);
        let json = serde_json::to_vec(self).map_err(|e| Error::new(ErrorKind::Protocol, e.to_string()))?;
        let generation = self.generation + 1;
        let mut bytes = Vec::with_capacity(HEADER_LEN + json.len() + repo.cipher().overhead());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&generation.to_le_bytes());
        bytes.extend_from_slice(&repo.cipher().seal_with(&json, &Self::aad(&path, generation)));
        repo.store().put(&path, bytes.into()).await?;
        self.generation = generation;
        trust::record_watermark(trust_dir, repo.cipher(), &path, generation)
    }

    /// The generation last loaded or saved (0: none).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Record that the snapshot's object `old` is now the live object `new` (nothing when they
    /// are equal); it is no longer pending.
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

    /// Whether no id was remapped.
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
