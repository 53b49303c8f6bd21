//! The simulated tenant's ground truth: every object of every category, its links and contained
//! children, and a change log that delta queries read.
//!
//! Objects are kept as the full Graph JSON (every property Graph can return), keyed by id in sorted
//! order, so paging is stable while the tenant changes underneath a reader.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use entra_backup::catalog::{self, Category};

/// A reference to another object: its category and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ref {
    /// The category of the object referred to (the catalog's name).
    pub category: &'static str,
    /// Its id.
    pub id: String,
}

/// One object as the tenant holds it.
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
    pub prop_seq: BTreeMap<String, u64>,
    /// Link relationships by name (`members`, `owners`, `manager`), in insertion order.
    pub links: BTreeMap<&'static str, Vec<Ref>>,
    /// Contained children by relationship name (`assignments`, `settings`), each with an `id`.
    pub children: BTreeMap<&'static str, Vec<Map<String, Value>>>,
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

/// The objects of one category.
#[derive(Debug, Default, Clone)]
pub struct CategoryStore {
    /// The objects, by id.
    pub objects: BTreeMap<String, StoredObject>,
    /// Objects removed from the collection: id -> (seq, why). Read by delta.
    pub removed: BTreeMap<String, (u64, Removal)>,
    /// Link changes per object id, oldest first. Read by delta.
    pub link_changes: HashMap<String, Vec<LinkChange>>,
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
    recycle_bin: BTreeMap<String, DeletedItem>,
    /// Log records that happened but that Graph does not list yet (see [`Tenant::hold`]).
    held: Vec<(String, Value)>,
}

impl Tenant {
    /// An empty tenant: every category of the catalog, holding nothing.
    pub fn new(tenant_id: impl Into<String>, domain: impl Into<String>) -> Self {
        let stores = catalog::all().iter().map(|c| (c.name, CategoryStore::default())).collect();
        Tenant {
            tenant_id: tenant_id.into(),
            domain: domain.into(),
            stores,
            seq: 0,
            recycle_bin: BTreeMap::new(),
            held: Vec::new(),
        }
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

    /// Every object of a category, in id order.
    pub fn objects<'a>(&'a self, category: &str) -> impl Iterator<Item = &'a StoredObject> + 'a {
        self.stores.get(category).into_iter().flat_map(|s| s.objects.values())
    }

    /// How many objects a category holds.
    pub fn count(&self, category: &str) -> usize {
        self.stores.get(category).map_or(0, |s| s.objects.len())
    }

    /// One object of a category, by id.
    pub fn get(&self, category: &str, id: &str) -> Option<&StoredObject> {
        self.stores.get(category)?.objects.get(id)
    }

    /// The category holding an object with this id (directory object ids are unique tenant-wide).
    pub fn find(&self, id: &str) -> Option<(&'static Category, &StoredObject)> {
        catalog::all().iter().find_map(|c| self.stores.get(c.name)?.objects.get(id).map(|o| (c, o)))
    }

    /// The targets of a link relationship.
    pub fn links(&self, category: &str, id: &str, rel: &str) -> &[Ref] {
        self.get(category, id).map(|o| o.links(rel)).unwrap_or(&[])
    }

    /// Add or replace an object (it must carry a string `id`). Returns it for further changes.
    pub fn insert(&mut self, category: &str, object: Value) -> Result<&mut StoredObject, TenantError> {
        let cat = Self::category(category)?;
        let Value::Object(json) = object else { return Err(TenantError::MissingId(category.into())) };
        let id = json.get("id").and_then(Value::as_str).ok_or_else(|| TenantError::MissingId(category.into()))?;
        let id = id.to_string();
        let seq = self.next_seq();
        let store = self.stores.get_mut(cat.name).expect("every catalog category has a store");
        store.removed.remove(&id);
        let entry = store.objects.entry(id).or_insert_with(|| StoredObject {
            json: Map::new(),
            seq,
            created_seq: seq,
            prop_seq: BTreeMap::new(),
            links: BTreeMap::new(),
            children: BTreeMap::new(),
        });
        if entry.created_seq != seq {
            // A replacement: record which properties changed.
            for (k, v) in &json {
                if entry.json.get(k) != Some(v) {
                    entry.prop_seq.insert(k.clone(), seq);
                }
            }
            for k in entry.json.keys() {
                if !json.contains_key(k) {
                    entry.prop_seq.insert(k.clone(), seq);
                }
            }
        }
        entry.json = json;
        entry.seq = seq;
        Ok(entry)
    }

    /// Change properties of an object (a JSON merge of top-level properties, as PATCH does).
    pub fn patch(&mut self, category: &str, id: &str, changes: &Map<String, Value>) -> Result<(), TenantError> {
        let seq = self.next_seq();
        let obj = self.object_mut(category, id)?;
        for (k, v) in changes {
            if obj.json.get(k) != Some(v) {
                obj.json.insert(k.clone(), v.clone());
                obj.prop_seq.insert(k.clone(), seq);
            }
        }
        obj.seq = seq;
        Ok(())
    }

    /// Remove an object from its collection (soft or hard), with its links. Links from other objects
    /// to it are removed too, as Graph does.
    pub fn remove(&mut self, category: &str, id: &str, how: Removal) -> Result<StoredObject, TenantError> {
        let cat = Self::category(category)?;
        let seq = self.next_seq();
        let store = self.stores.get_mut(cat.name).expect("store");
        let obj = store
            .objects
            .remove(id)
            .ok_or_else(|| TenantError::NotFound { category: category.into(), id: id.into() })?;
        store.removed.insert(id.to_string(), (seq, how));
        store.link_changes.remove(id);
        // Drop links that point at the removed object.
        let mut affected = Vec::new();
        for (cname, store) in &self.stores {
            for (oid, o) in &store.objects {
                for (rel, targets) in &o.links {
                    if targets.iter().any(|t| t.id == id) {
                        affected.push((*cname, oid.clone(), *rel));
                    }
                }
            }
        }
        let target = Ref { category: cat.name, id: id.to_string() };
        for (cname, oid, rel) in affected {
            self.unlink(cname, &oid, rel, &target)?;
        }
        // App role assignments held by the removed principal go with it, on the resource's side too.
        let mut assignments = Vec::new();
        for (cname, store) in &self.stores {
            for (oid, o) in &store.objects {
                for (rel, children) in &o.children {
                    for c in children {
                        if c.get("principalId").and_then(Value::as_str) == Some(id)
                            && let Some(cid) = c.get("id").and_then(Value::as_str)
                        {
                            assignments.push((*cname, oid.clone(), *rel, cid.to_string()));
                        }
                    }
                }
            }
        }
        for (cname, oid, rel, cid) in assignments {
            self.remove_child(cname, &oid, rel, &cid)?;
        }
        if how == Removal::Deleted {
            self.drop_roles_of(id)?;
        }
        Ok(obj)
    }

    /// A principal deleted for good holds no directory role any more: its role assignments and
    /// PIM schedules (eligible and active) go with it, as in Entra ID, where a role is held by an
    /// object that exists. One in the recycle bin keeps them until it is purged.
    fn drop_roles_of(&mut self, principal: &str) -> Result<(), TenantError> {
        for cat in ["roleAssignments", "roleEligibilitySchedules", "roleAssignmentSchedules"] {
            let held: Vec<String> = self
                .objects(cat)
                .filter(|o| o.json.get("principalId").and_then(Value::as_str) == Some(principal))
                .map(|o| o.id().to_string())
                .collect();
            for id in held {
                self.remove(cat, &id, Removal::Deleted)?;
            }
        }
        Ok(())
    }

    fn object_mut(&mut self, category: &str, id: &str) -> Result<&mut StoredObject, TenantError> {
        let cat = Self::category(category)?;
        self.stores
            .get_mut(cat.name)
            .and_then(|s| s.objects.get_mut(id))
            .ok_or_else(|| TenantError::NotFound { category: category.into(), id: id.into() })
    }

    fn relationship(category: &str, rel: &str) -> Result<&'static str, TenantError> {
        let cat = Self::category(category)?;
        cat.relationships
            .iter()
            .find(|r| r.name == rel)
            .map(|r| r.name)
            .ok_or_else(|| TenantError::UnknownRelationship { category: category.into(), rel: rel.into() })
    }

    /// Add a link (`members`, `owners`...). Adding one that exists changes nothing. For a single
    /// link (`manager`) the new target replaces the old.
    pub fn link(&mut self, category: &str, id: &str, rel: &str, target: Ref) -> Result<(), TenantError> {
        let rel = Self::relationship(category, rel)?;
        let single = Self::category(category)?
            .relationships
            .iter()
            .any(|r| r.name == rel && r.kind == entra_backup::catalog::RelationshipKind::Link);
        let seq = self.next_seq();
        let cat = Self::category(category)?.name;
        let store = self.stores.get_mut(cat).expect("store");
        let obj = store
            .objects
            .get_mut(id)
            .ok_or_else(|| TenantError::NotFound { category: category.into(), id: id.into() })?;
        let list = obj.links.entry(rel).or_default();
        if list.contains(&target) {
            return Ok(());
        }
        let mut changes = Vec::new();
        if single {
            for old in list.drain(..) {
                changes.push(LinkChange { seq, rel, target: old, added: false });
            }
        }
        list.push(target.clone());
        obj.seq = seq;
        changes.push(LinkChange { seq, rel, target, added: true });
        store.link_changes.entry(id.to_string()).or_default().extend(changes);
        Ok(())
    }

    /// Remove a link. Removing one that does not exist changes nothing and returns false.
    pub fn unlink(&mut self, category: &str, id: &str, rel: &str, target: &Ref) -> Result<bool, TenantError> {
        let rel = Self::relationship(category, rel)?;
        let cat = Self::category(category)?.name;
        let seq = self.seq + 1;
        let store = self.stores.get_mut(cat).expect("store");
        let obj = store
            .objects
            .get_mut(id)
            .ok_or_else(|| TenantError::NotFound { category: category.into(), id: id.into() })?;
        let Some(list) = obj.links.get_mut(rel) else { return Ok(false) };
        let before = list.len();
        list.retain(|t| t != target);
        if list.len() == before {
            return Ok(false);
        }
        obj.seq = seq;
        store.link_changes.entry(id.to_string()).or_default().push(LinkChange {
            seq,
            rel,
            target: target.clone(),
            added: false,
        });
        self.seq = seq;
        Ok(true)
    }

    /// Add a contained child (it must carry a string `id`).
    pub fn add_child(&mut self, category: &str, id: &str, rel: &str, child: Value) -> Result<(), TenantError> {
        let rel = Self::relationship(category, rel)?;
        let Value::Object(child) = child else { return Err(TenantError::MissingId(category.into())) };
        if !child.get("id").is_some_and(Value::is_string) {
            return Err(TenantError::MissingId(format!("{category}/{rel}")));
        }
        let seq = self.next_seq();
        let obj = self.object_mut(category, id)?;
        obj.children.entry(rel).or_default().push(child);
        obj.seq = seq;
        Ok(())
    }

    /// Contained children of an object.
    pub fn children(&self, category: &str, id: &str, rel: &str) -> &[Map<String, Value>] {
        self.get(category, id).and_then(|o| o.children.get(rel)).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Total objects over every category (contained children not counted).
    pub fn total_objects(&self) -> usize {
        self.stores.values().map(|s| s.objects.len()).sum()
    }

    // ----- the recycle bin and other helpers of the write side -----

    /// The links other objects hold to `id`: (category, id, relationship).
    pub fn held_by(&self, id: &str) -> Vec<(&'static str, String, &'static str)> {
        let mut out = Vec::new();
        for c in catalog::all() {
            let Some(store) = self.stores.get(c.name) else { continue };
            for (oid, o) in &store.objects {
                for (rel, targets) in &o.links {
                    if targets.iter().any(|t| t.id == id) {
                        out.push((c.name, oid.clone(), *rel));
                    }
                }
            }
        }
        out
    }

    /// Soft-delete an object: it leaves its collection (delta reports `"reason": "changed"`), with
    /// the links to and from it, and waits in the recycle bin.
    pub fn soft_delete(&mut self, category: &str, id: &str, at: jiff::Timestamp) -> Result<(), TenantError> {
        let cat = Self::category(category)?;
        let held_by = self.held_by(id);
        let mut object = self.remove(category, id, Removal::SoftDeleted)?;
        if object.json.contains_key("deletedDateTime") {
            object.json.insert("deletedDateTime".into(), Value::String(at.to_string()));
        }
        self.recycle_bin.insert(id.to_string(), DeletedItem { category: cat.name, object, deleted_at: at, held_by });
        Ok(())
    }

    /// An object in the recycle bin.
    pub fn deleted_item(&self, id: &str) -> Option<&DeletedItem> {
        self.recycle_bin.get(id)
    }

    /// Every object in the recycle bin, in id order.
    pub fn deleted_items(&self) -> impl Iterator<Item = &DeletedItem> {
        self.recycle_bin.values()
    }

    /// Bring an object back from the recycle bin with its id, its properties, its own links and
    /// children (to objects that still exist) and the links others held to it (whose holders still
    /// exist). Delta sees it as an object that came back.
    pub fn restore_deleted(&mut self, id: &str) -> Result<&StoredObject, TenantError> {
        let item = self
            .recycle_bin
            .remove(id)
            .ok_or_else(|| TenantError::NotFound { category: "deletedItems".into(), id: id.into() })?;
        let mut json = item.object.json;
        if json.contains_key("deletedDateTime") {
            json.insert("deletedDateTime".into(), Value::Null);
        }
        let links: BTreeMap<&'static str, Vec<Ref>> = item
            .object
            .links
            .into_iter()
            .map(|(rel, targets)| {
                let live: Vec<Ref> = targets.into_iter().filter(|t| self.get(t.category, &t.id).is_some()).collect();
                (rel, live)
            })
            .filter(|(_, targets)| !targets.is_empty())
            .collect();
        let obj = self.insert(item.category, Value::Object(json))?;
        obj.links = links;
        obj.children = item.object.children;
        let target = Ref { category: item.category, id: id.to_string() };
        for (holder_cat, holder, rel) in item.held_by {
            if self.get(holder_cat, &holder).is_some() {
                self.link(holder_cat, &holder, rel, target.clone())?;
            }
        }
        self.get(item.category, id)
            .ok_or_else(|| TenantError::NotFound { category: item.category.into(), id: id.into() })
    }

    /// Delete an object in the recycle bin for good (delta reports `"reason": "deleted"`).
    pub fn purge_deleted(&mut self, id: &str) -> Option<DeletedItem> {
        let item = self.recycle_bin.remove(id)?;
        let seq = self.next_seq();
        if let Some(store) = self.stores.get_mut(item.category) {
            store.removed.insert(id.to_string(), (seq, Removal::Deleted));
        }
        // Every role category is in the catalog, so this cannot fail.
        let _ = self.drop_roles_of(id);
        Some(item)
    }

    /// Delete for good every object that entered the recycle bin at or before `cutoff`. Returns
    /// how many.
    pub fn purge_deleted_before(&mut self, cutoff: jiff::Timestamp) -> usize {
        let expired: Vec<String> =
            self.recycle_bin.iter().filter(|(_, d)| d.deleted_at <= cutoff).map(|(id, _)| id.clone()).collect();
        for id in &expired {
            self.purge_deleted(id);
        }
        expired.len()
    }

    /// Change properties of a contained child (a merge of top-level properties). False when the
    /// child does not exist.
    pub fn patch_child(
        &mut self,
        category: &str,
        id: &str,
        rel: &str,
        child_id: &str,
        changes: &Map<String, Value>,
    ) -> Result<bool, TenantError> {
        let rel = Self::relationship(category, rel)?;
        let seq = self.next_seq();
        let obj = self.object_mut(category, id)?;
        let Some(child) = obj
            .children
            .get_mut(rel)
            .and_then(|c| c.iter_mut().find(|c| c.get("id").and_then(Value::as_str) == Some(child_id)))
        else {
            return Ok(false);
        };
        for (k, v) in changes {
            child.insert(k.clone(), v.clone());
        }
        obj.seq = seq;
        Ok(true)
    }

    /// Remove a contained child. False when it does not exist.
    pub fn remove_child(&mut self, category: &str, id: &str, rel: &str, child_id: &str) -> Result<bool, TenantError> {
        let rel = Self::relationship(category, rel)?;
        let seq = self.next_seq();
        let obj = self.object_mut(category, id)?;
        let Some(list) = obj.children.get_mut(rel) else { return Ok(false) };
        let before = list.len();
        list.retain(|c| c.get("id").and_then(Value::as_str) != Some(child_id));
        if list.len() == before {
            return Ok(false);
        }
        obj.seq = seq;
        Ok(true)
    }

    /// Replace every contained child of a relationship (each must carry a string `id`), as Intune's
    /// `assign` action does.
    pub fn set_children(
        &mut self,
        category: &str,
        id: &str,
        rel: &str,
        children: Vec<Map<String, Value>>,
    ) -> Result<(), TenantError> {
        let rel = Self::relationship(category, rel)?;
        if children.iter().any(|c| !c.get("id").is_some_and(Value::is_string)) {
            return Err(TenantError::MissingId(format!("{category}/{rel}")));
        }
        let seq = self.next_seq();
        let obj = self.object_mut(category, id)?;
        obj.children.insert(rel, children);
        obj.seq = seq;
        Ok(())
    }
}
