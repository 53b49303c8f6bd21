//! Every Graph URL the project sends, built from the catalog: the one place that knows how Graph
//! spells a list, an object, a relationship, a `$ref`, a delta round, a write and the recycle bin.
//!
//! Paths are relative to the version root (`/users?$top=999`); the Graph client puts the root and
//! the category's [`ApiVersion`] in front (`GraphClient::url`). Ids are put in as they are: Graph's
//! ids (GUIDs, opaque base64url keys, names such as `contoso.com` or `c1`) need no escaping.
//!
//! ```
//! use entra_backup::catalog::{self, urls};
//!
//! let groups = catalog::get("groups").unwrap();
//! let members = groups.relationships.iter().find(|r| r.name == "members").unwrap();
//! assert_eq!(urls::relationship_list(members, "g1"), "/groups/g1/members?$top=999&$select=id");
//! assert_eq!(urls::ref_remove(members, "g1", "u1"), "/groups/g1/members/u1/$ref");
//! assert_eq!(urls::restore_deleted("u1"), "/directory/deletedItems/u1/restore");
//! ```

use super::{ApiVersion, Category, Relationship, RelationshipKind, RelationshipWrite, Shape};

/// The version of the directory-wide endpoints: the recycle bin, `directoryObjects` (the targets
/// of `@odata.id` and `@odata.bind`) and the user count.
pub const DIRECTORY_VERSION: ApiVersion = ApiVersion::V1;

/// The JSON batching endpoint, under either version.
pub const BATCH: &str = "/$batch";

/// The first request of a category's listing, with what it asks for (the identity throttling
/// family prices `$select`, `$expand` and `$top`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// Path and query: `/users?$top=999&$select=id,...&$expand=manager($select=id)`.
    pub path: String,
    /// Whether it carries `$select`.
    pub select: bool,
    /// Whether it carries `$expand`.
    pub expand: bool,
    /// Its `$top`, if any.
    pub top: Option<u32>,
}

/// A category's listing at its largest page, with the properties the catalog selects and single
/// links (a user's manager) expanded to their ids; time-windowed records (logs) from `since` on.
pub fn list(cat: &Category, since: Option<&str>) -> List {
    let mut q: Vec<String> = Vec::new();
    let top = (cat.shape == Shape::Collection && cat.page.top_supported).then_some(cat.page.max);
    if let Some(t) = top {
        q.push(format!("$top={t}"));
    }
    let select = !cat.selected().is_empty();
    if select {
        q.push(format!("$select={}", cat.selected().join(",")));
    }
    let expand: Vec<String> = cat
        .relationships
        .iter()
        .filter(|r| r.kind == RelationshipKind::Link)
        .map(|r| format!("{}($select=id)", r.name))
        .collect();
    if !expand.is_empty() {
        q.push(format!("$expand={}", expand.join(",")));
    }
    if let (Some(prop), Some(since)) = (cat.time_property, since) {
        q.push(format!("$filter={prop}%20ge%20{since}"));
    }
    List { path: with_query(cat.path.to_string(), &q), select, expand: !expand.is_empty(), top }
}

/// One object: `/users/{id}`, or the fixed path of a singleton.
pub fn item(cat: &Category, id: &str) -> String {
    if cat.shape == Shape::Singleton { cat.path.to_string() } else { format!("{}/{id}", cat.path) }
}

/// The properties Graph returns only one object at a time (a BitLocker key's `key`), when the
/// category has any: `/informationProtection/bitlocker/recoveryKeys/{id}?$select=key`.
pub fn secret_read(cat: &Category, id: &str) -> Option<String> {
    (!cat.single_get_select.is_empty())
        .then(|| format!("{}?$select={}", item(cat, id), cat.single_get_select.join(",")))
}

/// Where objects of a category are created (and PIM schedule requests are sent): the catalog's
/// create path, else the collection.
pub fn create(cat: &Category) -> &'static str {
    cat.restore.create_path.unwrap_or(cat.path)
}

/// A relationship of one object, without a query: `/groups/{id}/members`.
pub fn relationship(rel: &Relationship, parent: &str) -> String {
    rel.path.replace("{id}", parent)
}

/// The first page of a relationship read through its own endpoint: at its largest page, and for
/// links only their ids (references are all a backup keeps of a link, and cost 1 RU less).
pub fn relationship_list(rel: &Relationship, parent: &str) -> String {
    let mut q = Vec::new();
    if rel.page.top_supported {
        q.push(format!("$top={}", rel.page.max));
    }
    if rel.kind == RelationshipKind::Links {
        q.push("$select=id".to_string());
    }
    with_query(relationship(rel, parent), &q)
}

/// A contained child of an object, to patch or delete: `{relationship}/{child}`.
pub fn child(rel: &Relationship, parent: &str, child: &str) -> String {
    format!("{}/{child}", relationship(rel, parent))
}

/// The Graph action that replaces a relationship's whole set (Intune `assign`), when it is written
/// that way.
pub fn action(rel: &Relationship, parent: &str) -> Option<String> {
    match rel.write {
        RelationshipWrite::Action { path, .. } => Some(path.replace("{id}", parent)),
        _ => None,
    }
}

/// Where a link is added: `POST` (a link collection) or `PUT` (a single link) with
/// `{"@odata.id": ...}` to `{relationship}/$ref`.
pub fn ref_add(rel: &Relationship, parent: &str) -> String {
    format!("{}/$ref", relationship(rel, parent))
}

/// Where a link is removed with `DELETE`: `{relationship}/{target}/$ref`, or `{relationship}/$ref`
/// for a single link.
pub fn ref_remove(rel: &Relationship, parent: &str, target: &str) -> String {
    if rel.kind == RelationshipKind::Link {
        ref_add(rel, parent)
    } else {
        format!("{}/{target}/$ref", relationship(rel, parent))
    }
}

/// The directory object an `@odata.id` or `@odata.bind` names (made absolute under
/// [`DIRECTORY_VERSION`] by the client): `/directoryObjects/{id}`.
pub fn directory_object(id: &str) -> String {
    format!("/directoryObjects/{id}")
}

/// The create-body key that binds links of a relationship: `members@odata.bind`.
pub fn bind_key(rel: &Relationship) -> String {
    format!("{}@odata.bind", rel.name)
}

/// A delta round's first request for "now", reading nothing (`$deltatoken=latest`), selecting
/// what a full read selects plus the relationships delta tracks. None without delta support.
pub fn delta_latest(cat: &Category) -> Option<String> {
    let delta = cat.delta.as_ref()?;
    let mut url = format!("{}?$deltatoken=latest", delta.path);
    if let Some(select) = delta_select(cat) {
        url.push_str("&$select=");
        url.push_str(&select);
    }
    Some(url)
}

/// The properties a delta round selects: the catalog's list, or every property of the type when
/// the default response would do but tracked relationships must be named, plus those. Properties
/// read one at a time are never in a list.
fn delta_select(cat: &Category) -> Option<String> {
    let tracked = cat.delta.as_ref().map_or(&[][..], |d| d.tracked_relationships);
    if cat.selected().is_empty() && tracked.is_empty() {
        return None;
    }
    let mut props: Vec<&str> = if cat.selected().is_empty() {
        crate::model::properties(cat.entity_type).map(<[_]>::to_vec).unwrap_or_else(|| vec!["id"])
    } else {
        cat.selected().to_vec()
    };
    props.retain(|p| !cat.single_get_select.contains(p));
    props.extend(tracked.iter().copied());
    Some(props.join(","))
}

/// The ids of a category's objects in the directory recycle bin (under [`DIRECTORY_VERSION`]):
/// `/directory/deletedItems/microsoft.graph.user?$select=id&$top=999`.
pub fn deleted_items(cat: &Category) -> String {
    format!("/directory/deletedItems/{}?$select=id&$top=999", cat.entity_type)
}

/// Where a soft-deleted object is brought back with `POST` (under [`DIRECTORY_VERSION`]).
pub fn restore_deleted(id: &str) -> String {
    format!("/directory/deletedItems/{id}/restore")
}

/// The number of objects in a collection (needs `ConsistencyLevel: eventual`): `/users/$count`.
pub fn count(cat: &Category) -> String {
    format!("{}/$count", cat.path)
}

/// The collection's path with its version, as people read it: `/v1.0/users`.
pub fn versioned(cat: &Category) -> String {
    format!("/{}{}", cat.api_version.segment(), cat.path)
}

fn with_query(mut path: String, query: &[String]) -> String {
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{all, get};

    fn rel(cat: &str, name: &str) -> &'static Relationship {
        get(cat).unwrap().relationships.iter().find(|r| r.name == name).unwrap()
    }

    #[test]
    fn a_listing_selects_expands_and_pages_as_the_catalog_says() {
        let users = list(get("users").unwrap(), None);
        assert!(users.path.starts_with("/users?$top=999&$select=id,"), "{}", users.path);
        assert!(users.path.ends_with("&$expand=manager($select=id)"), "{}", users.path);
        assert_eq!((users.select, users.expand, users.top), (true, true, Some(999)));
        let org = list(get("organization").unwrap(), None);
        assert_eq!(org, List { path: "/organization".into(), select: false, expand: false, top: None });
        let logs = all().iter().find(|c| c.time_property.is_some()).unwrap();
        let since = list(logs, Some("2026-01-01T00:00:00Z")).path;
        assert!(since.contains("%20ge%202026-01-01T00:00:00Z"), "{since}");
        assert!(!list(logs, None).path.contains("$filter"));
    }

    #[test]
    fn links_are_written_through_ref_and_bind() {
        let manager = rel("users", "manager");
        assert_eq!(ref_add(manager, "u1"), "/users/u1/manager/$ref");
        assert_eq!(ref_remove(manager, "u1", "m1"), "/users/u1/manager/$ref");
        let owners = rel("groups", "owners");
        assert_eq!(ref_add(owners, "g1"), "/groups/g1/owners/$ref");
        assert_eq!(bind_key(owners), "owners@odata.bind");
        assert_eq!(directory_object("u1"), "/directoryObjects/u1");
    }

    #[test]
    fn writes_and_the_recycle_bin_have_their_paths() {
        let users = get("users").unwrap();
        assert_eq!(item(users, "u1"), "/users/u1");
        assert_eq!(create(users), "/users");
        assert_eq!(count(users), "/users/$count");
        assert_eq!(versioned(users), "/v1.0/users");
        assert_eq!(deleted_items(users), "/directory/deletedItems/microsoft.graph.user?$select=id&$top=999");
        for c in all().iter().filter(|c| c.shape == Shape::Singleton) {
            assert_eq!(item(c, "ignored"), c.path);
        }
        let schedules = all().iter().find(|c| c.restore.create_path.is_some()).unwrap();
        assert_eq!(Some(create(schedules)), schedules.restore.create_path);
        for c in all() {
            assert_eq!(delta_latest(c).is_some(), c.delta.is_some(), "{}", c.name);
            assert_eq!(secret_read(c, "x").is_some(), !c.single_get_select.is_empty(), "{}", c.name);
            for r in c.relationships {
                assert_eq!(action(r, "p").is_some(), matches!(r.write, RelationshipWrite::Action { .. }));
                assert_eq!(child(r, "p", "c"), format!("{}/c", relationship(r, "p")));
            }
        }
    }

    #[test]
    fn a_delta_round_selects_the_tracked_relationships() {
        let users = delta_latest(get("users").unwrap()).unwrap();
        assert!(users.starts_with("/users/delta?$deltatoken=latest&$select=id,"), "{users}");
        assert!(users.ends_with(",manager"), "{users}");
    }
}
