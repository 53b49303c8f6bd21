//! Changes to the ground truth: objects added, patched and removed, links and children, each
//! with the change numbers delta reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use entra_backup::catalog::{self, RelationshipKind};

use super::{Children, LinkChange, Links, Packed, Ref, Removal, Tenant, TenantError};

impl Tenant {
    /// Add or replace an object (it must carry a string `id`). Returns it as stored.
    pub fn insert(&mut self, category: &str, object: Value) -> Result<super::StoredObject, TenantError> {
        let (name, id) = self.put(category, object, None, None)?;
        Ok(self.get(name, &id).expect("just inserted"))
    }

    /// Add or replace an object with its links and children as part of it from the start (no
    /// change-log entries, as for any object that existed before a delta round began). Returns
    /// the category's name and the object's id.
    pub(crate) fn put(
        &mut self,
        category: &str,
        object: Value,
        links: Option<Links>,
        children: Option<Children>,
    ) -> Result<(&'static str, String), TenantError> {
        let cat = Self::category(category)?;
        let Value::Object(json) = object else { return Err(TenantError::MissingId(category.into())) };
        let links = links.filter(|l| !l.is_empty());
        let id = json.get("id").and_then(Value::as_str).ok_or_else(|| TenantError::MissingId(category.into()))?;
        let id = id.to_string();
        let seq = self.next_seq();
        let store = self.stores.get_mut(cat.name).expect("every catalog category has a store");
        store.removed.remove(&id);
        let old_links = match store.objects.get(&id) {
            Some(old) => {
                // A replacement: record which properties changed; links and children stay.
                let before = store.codec.decode(&old.body);
                let mut prop_seq = old.prop_seq.as_deref().cloned().unwrap_or_default();
                for (k, v) in &json {
                    if before.get(k) != Some(v) {
                        prop_seq.insert(k.clone(), seq);
                    }
                }
                for k in before.keys() {
                    if !json.contains_key(k) {
                        prop_seq.insert(k.clone(), seq);
                    }
                }
                store.reindex(&id, Some(&before), Some(&json));
                let body = store.codec.encode(&json);
                let old = store.objects.get_mut(&id).expect("present");
                old.body = body;
                old.seq = seq;
                old.prop_seq = (!prop_seq.is_empty()).then(|| Arc::new(prop_seq));
                if links.is_some() { std::mem::replace(&mut old.links, links.map(Arc::new)) } else { None }
                    .map(|l| (*l).clone())
            }
            None => {
                store.reindex(&id, None, Some(&json));
                let body = store.codec.encode(&json);
                store.objects.insert(
                    id.clone(),
                    Packed { body, seq, created_seq: seq, prop_seq: None, links: links.map(Arc::new), children: None },
                );
                None
            }
        };
        if let Some(children) = children {
            let held = (!children.is_empty()).then(|| Arc::new(children));
            store.note_children(&id, held.as_deref());
            store.objects.get_mut(&id).expect("present").children = held;
        }
        let packed = store.objects.get_mut(&id).expect("present");
        let new_links: Vec<(&'static str, Ref)> = packed
            .links
            .iter()
            .flat_map(|l| l.iter())
            .flat_map(|(rel, ts)| ts.iter().map(|t| (*rel, t.clone())))
            .collect();
        for (rel, targets) in old_links.iter().flat_map(|l| l.iter()) {
            for t in targets {
                self.incoming.remove(&t.id, cat.name, &id, rel);
            }
        }
        for (rel, t) in new_links {
            self.incoming.add(&t.id, cat.name, &id, rel);
        }
        Ok((cat.name, id))
    }

    /// Change an object's JSON with `f` (decoded, changed, encoded again), as one change.
    pub(crate) fn update_json<R>(
        &mut self,
        category: &str,
        id: &str,
        f: impl FnOnce(&mut Map<String, Value>, &mut BTreeMap<String, u64>, u64) -> R,
    ) -> Result<R, TenantError> {
        let cat = Self::category(category)?;
        let seq = self.next_seq();
        let store = self.stores.get_mut(cat.name).expect("store");
        let packed = store
            .objects
            .get_mut(id)
            .ok_or_else(|| TenantError::NotFound { category: category.into(), id: id.into() })?;
        let mut json = store.codec.decode(&packed.body);
        let before = json.clone();
        let mut prop_seq = packed.prop_seq.as_deref().cloned().unwrap_or_default();
        let out = f(&mut json, &mut prop_seq, seq);
        packed.body = store.codec.encode(&json);
        packed.prop_seq = (!prop_seq.is_empty()).then(|| Arc::new(prop_seq));
        packed.seq = seq;
        store.reindex(id, Some(&before), Some(&json));
        Ok(out)
    }

    /// Change properties of an object (a JSON merge of top-level properties, as PATCH does).
    pub fn patch(&mut self, category: &str, id: &str, changes: &Map<String, Value>) -> Result<(), TenantError> {
        self.update_json(category, id, |json, prop_seq, seq| {
            for (k, v) in changes {
                if json.get(k) != Some(v) {
                    json.insert(k.clone(), v.clone());
                    prop_seq.insert(k.clone(), seq);
                }
            }
        })
    }

    /// Remove an object from its collection (soft or hard), with its links. Links from other objects
    /// to it are removed too, as Graph does.
    pub fn remove(&mut self, category: &str, id: &str, how: Removal) -> Result<super::StoredObject, TenantError> {
        let cat = Self::category(category)?;
        let seq = self.next_seq();
        let store = self.stores.get_mut(cat.name).expect("store");
        let packed = store
            .objects
            .remove(id)
            .ok_or_else(|| TenantError::NotFound { category: category.into(), id: id.into() })?;
        let obj = super::Entry { packed: &packed, codec: &store.codec }.decode();
        store.reindex(id, Some(&obj.json), None);
        store.principal_holders.remove(id);
        store.removed.insert(id.to_string(), (seq, how));
        store.link_changes.remove(id);
        for (rel, targets) in obj.links.iter() {
            for t in targets {
                self.incoming.remove(&t.id, cat.name, id, rel);
            }
        }
        // Drop links that point at the removed object.
        let target = Ref { category: cat.name, id: id.to_string() };
        for (cname, oid, rel) in self.incoming.holders(id) {
            match self.deferred_unlinks.as_mut() {
                Some(d) => {
                    d.entry((cname, oid, rel)).or_default().insert(id.to_string());
                }
                None => {
                    self.unlink(cname, &oid, rel, &target)?;
                }
            }
        }
        // App role assignments held by the removed principal go with it, on the resource's side too.
        let mut assignments = Vec::new();
        for c in catalog::all().iter().filter(|c| c.relationships.iter().any(|r| r.kind == RelationshipKind::Contained))
        {
            let Some(store) = self.stores.get(c.name) else { continue };
            // Only objects holding another principal's child can hold one of this principal's.
            let holders = store.principal_holders.iter().filter_map(|oid| Some((oid, store.objects.get(oid)?)));
            for (oid, o) in holders {
                for (rel, children) in o.children.iter().flat_map(|c| c.iter()) {
                    for ch in children {
                        if ch.get("principalId").and_then(Value::as_str) == Some(id)
                            && let Some(cid) = ch.get("id").and_then(Value::as_str)
                        {
                            assignments.push((c.name, oid.clone(), *rel, cid.to_string()));
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

    /// Run `f`, which removes many objects (a benchmark's bulk deletion), with the links to them
    /// dropped at the end in one pass per holding list, instead of one pass per removed object:
    /// removing 100,000 members of a million-member group walks its list once. The tenant ends as
    /// removing them one by one leaves it (each dropped link is a change of its own).
    pub fn removing_many<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let outer = self.deferred_unlinks.replace(BTreeMap::new());
        let out = f(self);
        let deferred = std::mem::replace(&mut self.deferred_unlinks, outer).unwrap_or_default();
        for ((cat, holder, rel), gone) in deferred {
            let Some(store) = self.stores.get_mut(cat) else { continue };
            let Some(obj) = store.objects.get_mut(&holder) else { continue };
            let Some(links) = obj.links.as_mut() else { continue };
            let Some(list) = Arc::make_mut(links).get_mut(rel) else { continue };
            let mut dropped = Vec::new();
            list.retain(|t| {
                let keep = !gone.contains(&t.id);
                if !keep {
                    dropped.push(t.clone());
                }
                keep
            });
            for target in dropped {
                self.seq += 1;
                obj.seq = self.seq;
                store.link_changes.entry(holder.clone()).or_default().push(LinkChange {
                    seq: self.seq,
                    rel,
                    target: target.clone(),
                    added: false,
                });
                self.incoming.remove(&target.id, cat, &holder, rel);
            }
        }
        out
    }

    /// A principal deleted for good holds no directory role any more: its role assignments and
    /// PIM schedules (eligible and active) go with it, as in Entra ID, where a role is held by an
    /// object that exists. One in the recycle bin keeps them until it is purged.
    pub(super) fn drop_roles_of(&mut self, principal: &str) -> Result<(), TenantError> {
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

    fn packed_mut(&mut self, category: &str, id: &str) -> Result<&mut Packed, TenantError> {
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
        let cat = Self::category(category)?;
        let single = cat.relationships.iter().any(|r| r.name == rel && r.kind == RelationshipKind::Link);
        let seq = self.next_seq();
        let store = self.stores.get_mut(cat.name).expect("store");
        let obj = store
            .objects
            .get_mut(id)
            .ok_or_else(|| TenantError::NotFound { category: category.into(), id: id.into() })?;
        let links = Arc::make_mut(obj.links.get_or_insert_with(Default::default));
        let list = links.entry(rel).or_default();
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
        for c in &changes {
            self.incoming.remove(&c.target.id, cat.name, id, rel);
        }
        self.incoming.add(&target.id, cat.name, id, rel);
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
        let Some(links) = obj.links.as_mut() else { return Ok(false) };
        if !links.get(rel).is_some_and(|l| l.contains(target)) {
            return Ok(false);
        }
        // An emptied relationship stays, empty, as it always has.
        if let Some(list) = Arc::make_mut(links).get_mut(rel) {
            list.retain(|t| t != target);
        }
        obj.seq = seq;
        store.link_changes.entry(id.to_string()).or_default().push(LinkChange {
            seq,
            rel,
            target: target.clone(),
            added: false,
        });
        self.incoming.remove(&target.id, cat, id, rel);
        self.seq = seq;
        Ok(true)
    }

    /// Change an object's children with `f`, as one change.
    fn update_children<R>(
        &mut self,
        category: &str,
        id: &str,
        f: impl FnOnce(&mut Children) -> R,
    ) -> Result<R, TenantError> {
        let seq = self.next_seq();
        let obj = self.packed_mut(category, id)?;
        let mut children = obj.children.take().map(Arc::unwrap_or_clone).unwrap_or_default();
        let out = f(&mut children);
        obj.children = (!children.is_empty()).then(|| Arc::new(children));
        obj.seq = seq;
        let held = obj.children.clone();
        let cat = Self::category(category)?;
        self.stores.get_mut(cat.name).expect("store").note_children(id, held.as_deref());
        Ok(out)
    }

    /// Add a contained child (it must carry a string `id`).
    pub fn add_child(&mut self, category: &str, id: &str, rel: &str, child: Value) -> Result<(), TenantError> {
        let rel = Self::relationship(category, rel)?;
        let Value::Object(child) = child else { return Err(TenantError::MissingId(category.into())) };
        if !child.get("id").is_some_and(Value::is_string) {
            return Err(TenantError::MissingId(format!("{category}/{rel}")));
        }
        self.update_children(category, id, |c| c.entry(rel).or_default().push(child))
    }

    /// Whether the object has that child. When it has not, a change number is spent all the
    /// same (the object's own does not move), as a change that found nothing always did.
    fn has_child(&mut self, category: &str, id: &str, rel: &str, child_id: &str) -> Result<bool, TenantError> {
        if self.children(category, id, rel).iter().any(|c| c.get("id").and_then(Value::as_str) == Some(child_id)) {
            return Ok(true);
        }
        self.seq += 1;
        self.packed_mut(category, id)?;
        Ok(false)
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
        if !self.has_child(category, id, rel, child_id)? {
            return Ok(false);
        }
        self.update_children(category, id, |c| {
            if let Some(child) = c
                .get_mut(rel)
                .and_then(|c| c.iter_mut().find(|c| c.get("id").and_then(Value::as_str) == Some(child_id)))
            {
                for (k, v) in changes {
                    child.insert(k.clone(), v.clone());
                }
            }
            true
        })
    }

    /// Remove a contained child. False when it does not exist.
    pub fn remove_child(&mut self, category: &str, id: &str, rel: &str, child_id: &str) -> Result<bool, TenantError> {
        let rel = Self::relationship(category, rel)?;
        if !self.has_child(category, id, rel, child_id)? {
            return Ok(false);
        }
        self.update_children(category, id, |c| {
            if let Some(list) = c.get_mut(rel) {
                list.retain(|c| c.get("id").and_then(Value::as_str) != Some(child_id));
            }
            true
        })
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
        self.update_children(category, id, |c| {
            c.insert(rel, children);
        })
    }
}
