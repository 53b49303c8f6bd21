//! The simulated tenant's ground truth: every object of every category, its links and contained
//! children, and a change log that delta queries read.
//!
//! Objects are kept keyed by id in sorted order, so paging is stable while the tenant changes
//! underneath a reader. Their JSON is kept compact ([`crate::packed`]) and decoded when read, so
//! reads hand out owned [`StoredObject`]s; links and children stay as they are, shared, so that
//! paging a million-member group never decodes or copies the group.

mod bin;
mod change;
mod index;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value};

use entra_backup::catalog::{self, Category};

use crate::packed::Codec;
use index::Incoming;

/// A reference to another object: its category and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ref {
    /// The category of the object referred to (the catalog's name).
    pub category: &'static str,
    /// Its id.
    pub id: String,
}

/// Link relationships by name, each in insertion order.
pub type Links = BTreeMap<&'static str, Vec<Ref>>;
/// Contained children by relationship name.
pub type Children = BTreeMap<&'static str, Vec<Map<String, Value>>>;

static NO_PROPS: LazyLock<Arc<BTreeMap<String, u64>>> = LazyLock::new(Arc::default);
static NO_LINKS: LazyLock<Arc<Links>> = LazyLock::new(Arc::default);
static NO_CHILDREN: LazyLock<Arc<Children>> = LazyLock::new(Arc::default);

/// One object as the tenant holds it, decoded: a copy, so changing it changes nothing in the
/// tenant (use the tenant's mutators).
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// Every property, as Graph returns it with every property selected. Derived types carry
    /// `@odata.type`.
    pub json: Map<String, Value>,
    /// The change sequence number of the last change to the object or its links.
    pub seq: u64,
    /// The sequence number at which the object was created (or came back from the recycle bin).
    pub created_seq: u64,
    /// The sequence number of the last change of each property changed since creation (delta
    /// reports only those for an updated object, as Graph does).
    pub prop_seq: Arc<BTreeMap<String, u64>>,
    /// Link relationships by name (`members`, `owners`, `manager`), in insertion order.
    pub links: Arc<Links>,
    /// Contained children by relationship name (`assignments`, `settings`), each with an `id`.
    pub children: Arc<Children>,
}

impl StoredObject {
    /// The object's `id` (empty when it has none).
    pub fn id(&self) -> &str {
        self.json.get("id").and_then(Value::as_str).unwrap_or_default()
    }

    /// The qualified CSDL type of the object: its `@odata.type` or the category's entity type.
    pub fn odata_type(&self, category: &Category) -> String {
        match self.json.get("@odata.type").and_then(Value::as_str) {
            Some(t) => t.trim_start_matches('#').to_string(),
            None => category.entity_type.to_string(),
        }
    }

    /// The objects its relationship `rel` links to (none when it has no such links).
    pub fn links(&self, rel: &str) -> &[Ref] {
        self.links.get(rel).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// An object as stored: its JSON encoded, its change numbers and relationships beside it so that
/// delta and link pages read them without decoding.
#[derive(Debug, Clone)]
pub(crate) struct Packed {
    body: Box<[u8]>,
    seq: u64,
    created_seq: u64,
    prop_seq: Option<Arc<BTreeMap<String, u64>>>,
    links: Option<Arc<Links>>,
    children: Option<Arc<Children>>,
}

/// A stored object, borrowed: its change numbers and relationships at no cost, its JSON decoded
/// on demand.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    packed: &'a Packed,
    codec: &'a Codec,
}

impl<'a> Entry<'a> {
    /// The change sequence number of the last change to the object or its links.
    pub fn seq(&self) -> u64 {
        self.packed.seq
    }

    /// The sequence number at which the object was created (or came back).
    pub fn created_seq(&self) -> u64 {
        self.packed.created_seq
    }

    /// The objects its relationship `rel` links to.
    pub fn links(&self, rel: &str) -> &'a [Ref] {
        self.packed.links.as_ref().and_then(|l| l.get(rel)).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every link relationship it holds.
    pub fn all_links(&self) -> impl Iterator<Item = (&'static str, &'a [Ref])> + 'a {
        self.packed.links.iter().flat_map(|l| l.iter()).map(|(r, t)| (*r, t.as_slice()))
    }

    /// Its contained children of relationship `rel`.
    pub fn children(&self, rel: &str) -> &'a [Map<String, Value>] {
        self.packed.children.as_ref().and_then(|c| c.get(rel)).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every contained relationship it holds.
    pub fn all_children(&self) -> impl Iterator<Item = (&'static str, &'a [Map<String, Value>])> + 'a {
        self.packed.children.iter().flat_map(|c| c.iter()).map(|(r, t)| (*r, t.as_slice()))
    }

    /// Its JSON, decoded.
    pub fn json(&self) -> Map<String, Value> {
        self.codec.decode(&self.packed.body)
    }

    /// The whole object, decoded.
    pub fn decode(&self) -> StoredObject {
        let p = self.packed;
        StoredObject {
            json: self.json(),
            seq: p.seq,
            created_seq: p.created_seq,
            prop_seq: p.prop_seq.clone().unwrap_or_else(|| NO_PROPS.clone()),
            links: p.links.clone().unwrap_or_else(|| NO_LINKS.clone()),
            children: p.children.clone().unwrap_or_else(|| NO_CHILDREN.clone()),
        }
    }
}

/// Why an object left a collection, as delta reports it in `@removed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Soft-deleted: in the recycle bin, restorable (`"reason": "changed"`).
    SoftDeleted,
    /// Gone for good (`"reason": "deleted"`).
    Deleted,
}

impl Removal {
    /// The `reason` of delta's `@removed` annotation.
    pub fn reason(self) -> &'static str {
        match self {
            Removal::SoftDeleted => "changed",
            Removal::Deleted => "deleted",
        }
    }
}

/// A change to one link, kept so that delta can report `members@delta` additions and removals.
#[derive(Debug, Clone)]
pub struct LinkChange {
    /// The change sequence number of the change.
    pub seq: u64,
    /// The relationship changed.
    pub rel: &'static str,
    /// The object linked or unlinked.
    pub target: Ref,
    /// Whether the link was added (else removed).
    pub added: bool,
}

/// Properties that writes look objects up by (uniqueness rules): one per category, indexed.
const UNIQUE: [(&str, &str); 4] = [
    ("users", "userPrincipalName"),
    ("groups", "mailNickname"),
    ("applications", "appId"),
    ("servicePrincipals", "appId"),
];

/// A log's time order: newest first, records without a time last, then by id.
type TimeKey = (Reverse<Option<jiff::Timestamp>>, String);

/// The objects of one category.
#[derive(Debug, Default, Clone)]
pub struct CategoryStore {
    objects: BTreeMap<String, Packed>,
    codec: Codec,
    /// For logs (a category with a time property): every record in the order Graph lists them.
    by_time: Option<(&'static str, BTreeSet<TimeKey>)>,
    /// For a category with a unique name (see [`UNIQUE`]): ids by that name, lowercased.
    by_name: Option<(&'static str, HashMap<String, Vec<String>>)>,
    /// Objects removed from the collection: id -> (seq, why). Read by delta.
    pub removed: BTreeMap<String, (u64, Removal)>,
    /// Link changes per object id, oldest first. Read by delta.
    pub link_changes: HashMap<String, Vec<LinkChange>>,
    /// Objects holding a contained child whose `principalId` is another object (a service
    /// principal's `appRoleAssignedTo`), so that removing a principal visits only them, not
    /// every object of the tenant.
    pub(crate) principal_holders: BTreeSet<String>,
}

impl CategoryStore {
    /// Keep [`CategoryStore::principal_holders`] true of object `id` holding `children`.
    pub(crate) fn note_children(&mut self, id: &str, children: Option<&Children>) {
        let other = children.is_some_and(|c| {
            c.values().flatten().any(|ch| ch.get("principalId").and_then(Value::as_str).is_some_and(|p| p != id))
        });
        if other {
            self.principal_holders.insert(id.to_string());
        } else {
            self.principal_holders.remove(id);
        }
    }

    fn new(category: &Category) -> Self {
        CategoryStore {
            by_time: category.time_property.map(|p| (p, BTreeSet::new())),
            by_name: UNIQUE.iter().find(|(c, _)| *c == category.name).map(|(_, p)| (*p, HashMap::new())),
            ..Default::default()
        }
    }

    /// The ids of objects whose `prop` equals `value` ignoring case, when the category keeps
    /// that property indexed (None when it does not: scan instead).
    pub fn ids_named(&self, prop: &str, value: &str) -> Option<Vec<&String>> {
        let (p, index) = self.by_name.as_ref().filter(|(p, _)| *p == prop)?;
        let _ = p;
        Some(index.get(&value.to_lowercase()).into_iter().flatten().collect())
    }

    /// Keep the indexes right when an object's JSON goes from `before` to `after` (either may be
    /// absent: a new object, a removed one).
    fn reindex(&mut self, id: &str, before: Option<&Map<String, Value>>, after: Option<&Map<String, Value>>) {
        if let Some((prop, order)) = &mut self.by_time {
            if let Some(b) = before {
                order.remove(&(Reverse(time_of(b, prop)), id.to_string()));
            }
            if let Some(a) = after {
                order.insert((Reverse(time_of(a, prop)), id.to_string()));
            }
        }
        if let Some((prop, index)) = &mut self.by_name {
            let name = |j: &Map<String, Value>| j.get(*prop).and_then(Value::as_str).map(str::to_lowercase);
            if let Some(old) = before.and_then(name)
                && let Some(ids) = index.get_mut(&old)
            {
                ids.retain(|x| x != id);
                if ids.is_empty() {
                    index.remove(&old);
                }
            }
            if let Some(new) = after.and_then(name) {
                let ids = index.entry(new).or_default();
                if !ids.iter().any(|x| x == id) {
                    ids.push(id.to_string());
                }
            }
        }
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Whether it holds an object with this id.
    pub fn contains(&self, id: &str) -> bool {
        self.objects.contains_key(id)
    }

    /// One object, borrowed.
    pub fn entry(&self, id: &str) -> Option<Entry<'_>> {
        self.objects.get(id).map(|packed| Entry { packed, codec: &self.codec })
    }

    /// Every object in id order, after `after` when given.
    pub fn entries_after(&self, after: Option<&str>) -> impl Iterator<Item = (&String, Entry<'_>)> + '_ {
        let lower = match after {
            Some(a) => std::ops::Bound::Excluded(a.to_string()),
            None => std::ops::Bound::Unbounded,
        };
        self.objects
            .range::<String, _>((lower, std::ops::Bound::Unbounded))
            .map(|(id, packed)| (id, Entry { packed, codec: &self.codec }))
    }

    /// Every id, in order.
    pub fn ids(&self) -> impl Iterator<Item = &String> + '_ {
        self.objects.keys()
    }

    /// A log's records newest first (records without a time last, ties by id), after the record
    /// `after` when given and still held (from the start when it is not). None for a category
    /// that is not a log.
    pub fn newest_first(&self, after: Option<&str>) -> Option<impl Iterator<Item = (&String, Entry<'_>)> + '_> {
        let (_, order) = self.by_time.as_ref()?;
        let start = after.and_then(|a| Some(self.time_key(a, self.objects.get(a)?)));
        let iter = match start {
            Some(k) => order.range((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded)),
            None => order.range::<TimeKey, _>(..),
        };
        Some(iter.filter_map(|(_, id)| {
            self.objects.get_key_value(id).map(|(id, p)| (id, Entry { packed: p, codec: &self.codec }))
        }))
    }

    fn time_key(&self, id: &str, packed: &Packed) -> TimeKey {
        let prop = self.by_time.as_ref().map_or("", |(p, _)| *p);
        let json = self.codec.decode(&packed.body);
        (Reverse(time_of(&json, prop)), id.to_string())
    }
}

fn time_of(json: &Map<String, Value>, prop: &str) -> Option<jiff::Timestamp> {
    json.get(prop).and_then(Value::as_str).and_then(|t| t.parse().ok())
}

/// An error in a change to the ground truth (a test's or the generator's mistake).
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// No category of that name in the catalog.
    #[error("unknown category '{0}'")]
    UnknownCategory(String),
    /// The category has no relationship of that name.
    #[error("unknown relationship '{rel}' of category '{category}'")]
    UnknownRelationship {
        /// The category.
        category: String,
        /// The relationship asked for.
        rel: String,
    },
    /// No object of that id in the category.
    #[error("no object '{id}' in category '{category}'")]
    NotFound {
        /// The category.
        category: String,
        /// The id asked for.
        id: String,
    },
    /// An object given to the tenant has no string `id`.
    #[error("object of category '{0}' has no string 'id'")]
    MissingId(String),
}

/// A soft-deleted object in the directory's recycle bin (`/directory/deletedItems`), restorable
/// until it expires.
#[derive(Debug, Clone)]
pub struct DeletedItem {
    /// The category the object was deleted from.
    pub category: &'static str,
    /// The object as it was, with its own links and children; `deletedDateTime` set.
    pub object: StoredObject,
    /// When it was deleted (the simulator's clock).
    pub deleted_at: jiff::Timestamp,
    /// Links other objects held to it when it was deleted (its memberships, ownerships, direct
    /// reports): (category, id, relationship). A restore brings back those whose holder still exists.
    pub held_by: Vec<(&'static str, String, &'static str)>,
}

/// A soft-deleted object as the recycle bin keeps it: compact, as in its collection.
#[derive(Debug, Clone)]
pub(crate) struct Binned {
    category: &'static str,
    packed: Packed,
    deleted_at: jiff::Timestamp,
    held_by: Vec<(&'static str, String, &'static str)>,
}

/// An object in the recycle bin, borrowed: its category and deletion time at no cost, the rest
/// decoded on demand.
#[derive(Debug, Clone, Copy)]
pub struct BinEntry<'a> {
    id: &'a String,
    binned: &'a Binned,
    codec: &'a Codec,
}

impl<'a> BinEntry<'a> {
    /// The object's id.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The category it was deleted from.
    pub fn category(&self) -> &'static str {
        self.binned.category
    }

    /// When it was deleted.
    pub fn deleted_at(&self) -> jiff::Timestamp {
        self.binned.deleted_at
    }

    /// The whole item, decoded.
    pub fn decode(&self) -> DeletedItem {
        DeletedItem {
            category: self.binned.category,
            object: Entry { packed: &self.binned.packed, codec: self.codec }.decode(),
            deleted_at: self.binned.deleted_at,
            held_by: self.binned.held_by.clone(),
        }
    }
}

/// Links to removed objects not dropped yet: (holder's category, holder, relationship) -> the
/// removed targets' ids.
type DeferredUnlinks = BTreeMap<(&'static str, String, &'static str), HashSet<String>>;

/// The whole tenant.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The tenant's id (a GUID).
    pub tenant_id: String,
    /// The tenant's primary domain (`contoso.onmicrosoft.com`).
    pub domain: String,
    stores: HashMap<&'static str, CategoryStore>,
    seq: u64,
    /// The directory's recycle bin, by object id.
    recycle_bin: BTreeMap<String, Binned>,
    /// Log records that happened but that Graph does not list yet (see [`Tenant::hold`]).
    held: Vec<(String, Value)>,
    /// Who links to each object.
    incoming: Incoming,
    /// While [`Tenant::removing_many`] runs: the links to removed objects, by holder, to drop in
    /// one pass over each holder's list (a big group's members are walked once, not per member).
    deferred_unlinks: Option<DeferredUnlinks>,
}

impl Tenant {
    /// An empty tenant: every category of the catalog, holding nothing.
    pub fn new(tenant_id: impl Into<String>, domain: impl Into<String>) -> Self {
        let stores = catalog::all().iter().map(|c| (c.name, CategoryStore::new(c))).collect();
        Tenant {
            tenant_id: tenant_id.into(),
            domain: domain.into(),
            stores,
            seq: 0,
            recycle_bin: BTreeMap::new(),
            held: Vec::new(),
            incoming: Incoming::default(),
            deferred_unlinks: None,
        }
    }

    /// The latest change sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn category(name: &str) -> Result<&'static Category, TenantError> {
        catalog::get(name).ok_or_else(|| TenantError::UnknownCategory(name.to_string()))
    }

    /// The store of a category (`None` for a name the catalog does not know).
    pub fn store(&self, category: &str) -> Option<&CategoryStore> {
        self.stores.get(category)
    }

    /// Every object of a category, in id order, decoded one at a time.
    pub fn objects<'a>(&'a self, category: &str) -> impl Iterator<Item = StoredObject> + 'a {
        self.stores.get(category).into_iter().flat_map(|s| s.entries_after(None).map(|(_, e)| e.decode()))
    }

    /// The ids of a category's objects, in order.
    pub fn ids<'a>(&'a self, category: &str) -> impl Iterator<Item = &'a String> + 'a {
        self.stores.get(category).into_iter().flat_map(CategoryStore::ids)
    }

    /// How many objects a category holds.
    pub fn count(&self, category: &str) -> usize {
        self.stores.get(category).map_or(0, CategoryStore::len)
    }

    /// One object of a category, by id, decoded.
    pub fn get(&self, category: &str, id: &str) -> Option<StoredObject> {
        self.entry(category, id).map(|e| e.decode())
    }

    /// One object of a category, by id, borrowed (its JSON decoded only when asked for).
    pub fn entry(&self, category: &str, id: &str) -> Option<Entry<'_>> {
        self.stores.get(category)?.entry(id)
    }

    /// Whether a category holds an object with this id.
    pub fn contains(&self, category: &str, id: &str) -> bool {
        self.stores.get(category).is_some_and(|s| s.contains(id))
    }

    /// The objects of a category that may have `prop` equal to `value` ignoring case: exactly
    /// those, decoded, when the category keeps the property indexed; every object otherwise.
    /// Callers still apply their own comparison.
    pub fn named<'a>(&'a self, category: &str, prop: &str, value: &str) -> Box<dyn Iterator<Item = StoredObject> + 'a> {
        let Some(store) = self.stores.get(category) else { return Box::new(std::iter::empty()) };
        match store.ids_named(prop, value) {
            Some(ids) => Box::new(ids.into_iter().filter_map(|id| store.entry(id)).map(|e| e.decode())),
            None => Box::new(self.objects(category)),
        }
    }

    /// The category holding an object with this id (directory object ids are unique tenant-wide).
    pub fn find(&self, id: &str) -> Option<(&'static Category, StoredObject)> {
        catalog::all().iter().find_map(|c| self.get(c.name, id).map(|o| (c, o)))
    }

    /// The targets of a link relationship.
    pub fn links(&self, category: &str, id: &str, rel: &str) -> &[Ref] {
        self.entry(category, id).map(|e| e.links(rel)).unwrap_or(&[])
    }

    /// Contained children of an object.
    pub fn children(&self, category: &str, id: &str, rel: &str) -> &[Map<String, Value>] {
        self.entry(category, id).map(|e| e.children(rel)).unwrap_or(&[])
    }

    /// Total objects over every category (contained children not counted).
    pub fn total_objects(&self) -> usize {
        self.stores.values().map(CategoryStore::len).sum()
    }

    /// The links other objects hold to `id`: (category, id, relationship).
    pub fn held_by(&self, id: &str) -> Vec<(&'static str, String, &'static str)> {
        self.incoming.holders(id)
    }

    /// Hold back a log record (audit, sign-in) that happened at its own time but that Graph will
    /// list only later, as it does for records that arrive late: reads do not see it until
    /// [`deliver_held`](Self::deliver_held). Tests decide when, so no timing is involved.
    pub fn hold(&mut self, category: &str, record: Value) -> Result<(), TenantError> {
        let cat = Self::category(category)?;
        if record.get("id").and_then(Value::as_str).is_none() {
            return Err(TenantError::MissingId(category.into()));
        }
        self.held.push((cat.name.to_string(), record));
        Ok(())
    }

    /// Make every held record visible, as if it had just reached Graph. Returns how many.
    pub fn deliver_held(&mut self) -> Result<usize, TenantError> {
        let held = std::mem::take(&mut self.held);
        let n = held.len();
        for (category, record) in held {
            self.insert(&category, record)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(t: &Tenant, upn: &str) -> Vec<String> {
        t.named("users", "userPrincipalName", upn).map(|o| o.id().to_string()).collect()
    }

    #[test]
    fn the_name_index_follows_inserts_patches_removals_and_the_bin() {
        let mut t = Tenant::new("t", "contoso.com");
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        t.insert("users", json!({"id": id, "userPrincipalName": "Adele@contoso.com", "deletedDateTime": null}))
            .expect("insert");
        assert_eq!(names(&t, "adele@CONTOSO.com"), [id]);
        let change = json!({"userPrincipalName": "adele.v@contoso.com"});
        t.patch("users", id, change.as_object().expect("map")).expect("patch");
        assert!(names(&t, "adele@contoso.com").is_empty());
        assert_eq!(names(&t, "ADELE.V@contoso.com"), [id]);
        t.soft_delete("users", id, "2026-01-01T00:00:00Z".parse().expect("time")).expect("delete");
        assert!(names(&t, "adele.v@contoso.com").is_empty());
        assert_eq!(
            t.deleted_item(id).map(|d| d.object.json["deletedDateTime"].clone()),
            Some(json!("2026-01-01T00:00:00Z"))
        );
        t.restore_deleted(id).expect("restore");
        assert_eq!(names(&t, "adele.v@contoso.com"), [id]);
        t.remove("users", id, Removal::Deleted).expect("remove");
        assert!(names(&t, "adele.v@contoso.com").is_empty());
    }

    #[test]
    fn logs_list_newest_first_and_resume_after_a_record() {
        let mut t = Tenant::new("t", "contoso.com");
        for (id, at) in [("a", "2026-01-02T00:00:00Z"), ("b", "2026-01-03T00:00:00Z"), ("c", "2026-01-01T00:00:00Z")] {
            t.insert("signIns", json!({"id": id, "createdDateTime": at})).expect("insert");
        }
        let store = t.store("signIns").expect("store");
        let order = |after| store.newest_first(after).expect("a log").map(|(id, _)| id.clone()).collect::<Vec<_>>();
        assert_eq!(order(None), ["b", "a", "c"]);
        assert_eq!(order(Some("a")), ["c"]);
        assert_eq!(order(Some("gone")), ["b", "a", "c"], "an unknown record starts over, as before");
    }
}
