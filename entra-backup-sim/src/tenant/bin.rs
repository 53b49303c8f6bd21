//! The directory's recycle bin: soft-deleted objects wait here with the links they held and the
//! links others held to them, until they are restored or purged.

use std::sync::Arc;

use serde_json::Value;

use super::{DeletedItem, Links, Ref, Removal, Tenant, TenantError};

impl Tenant {
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
    pub fn restore_deleted(&mut self, id: &str) -> Result<super::StoredObject, TenantError> {
        let item = self
            .recycle_bin
            .remove(id)
            .ok_or_else(|| TenantError::NotFound { category: "deletedItems".into(), id: id.into() })?;
        let mut json = item.object.json;
        if json.contains_key("deletedDateTime") {
            json.insert("deletedDateTime".into(), Value::Null);
        }
        let links: Links = Arc::unwrap_or_clone(item.object.links)
            .into_iter()
            .map(|(rel, targets)| {
                let live: Vec<Ref> = targets.into_iter().filter(|t| self.contains(t.category, &t.id)).collect();
                (rel, live)
            })
            .filter(|(_, targets)| !targets.is_empty())
            .collect();
        let children = Arc::unwrap_or_clone(item.object.children);
        self.put(item.category, Value::Object(json), Some(links), Some(children))?;
        let target = Ref { category: item.category, id: id.to_string() };
        for (holder_cat, holder, rel) in item.held_by {
            if self.contains(holder_cat, &holder) {
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
}
