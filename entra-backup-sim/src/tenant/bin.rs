//! The directory's recycle bin: soft-deleted objects wait here with the links they held and the
//! links others held to them, until they are restored or purged.

use std::sync::Arc;

use serde_json::Value;

use super::{BinEntry, Binned, DeletedItem, Links, Packed, Ref, Removal, Tenant, TenantError};

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
        let store = self.stores.get_mut(cat.name).expect("every catalog category has a store");
        let packed = Packed {
            body: store.codec.encode(&object.json),
            seq: object.seq,
            created_seq: object.created_seq,
            prop_seq: Some(object.prop_seq).filter(|p| !p.is_empty()),
            links: Some(object.links).filter(|l| !l.is_empty()),
            children: Some(object.children).filter(|c| !c.is_empty()),
        };
        self.recycle_bin.insert(id.to_string(), Binned { category: cat.name, packed, deleted_at: at, held_by });
        Ok(())
    }

    fn bin_entry<'a>(&'a self, id: &'a String, binned: &'a Binned) -> BinEntry<'a> {
        let codec = &self.stores.get(binned.category).expect("a catalog category").codec;
        BinEntry { id, binned, codec }
    }

    /// An object in the recycle bin, decoded.
    pub fn deleted_item(&self, id: &str) -> Option<DeletedItem> {
        self.recycle_bin.get_key_value(id).map(|(id, b)| self.bin_entry(id, b).decode())
    }

    /// When the object longest in the recycle bin was deleted. Every request asks (to expire what
    /// is due), so this walks the bin without looking anything else up.
    pub fn oldest_deletion(&self) -> Option<jiff::Timestamp> {
        self.recycle_bin.values().map(|b| b.deleted_at).min()
    }

    /// Whether an object is in the recycle bin.
    pub fn in_bin(&self, id: &str) -> bool {
        self.recycle_bin.contains_key(id)
    }

    /// Every object in the recycle bin, in id order, decoded one at a time.
    pub fn deleted_items(&self) -> impl Iterator<Item = DeletedItem> + '_ {
        self.bin_entries(None).map(|e| e.decode())
    }

    /// Every object in the recycle bin, in id order after `after` when given, borrowed.
    pub fn bin_entries<'a>(&'a self, after: Option<&str>) -> impl Iterator<Item = BinEntry<'a>> + 'a {
        let lower = match after {
            Some(a) => std::ops::Bound::Excluded(a.to_string()),
            None => std::ops::Bound::Unbounded,
        };
        self.recycle_bin.range::<String, _>((lower, std::ops::Bound::Unbounded)).map(|(id, b)| self.bin_entry(id, b))
    }

    /// Bring an object back from the recycle bin with its id, its properties, its own links and
    /// children (to objects that still exist) and the links others held to it (whose holders still
    /// exist). Delta sees it as an object that came back.
    pub fn restore_deleted(&mut self, id: &str) -> Result<super::StoredObject, TenantError> {
        let item = self
            .deleted_item(id)
            .ok_or_else(|| TenantError::NotFound { category: "deletedItems".into(), id: id.into() })?;
        self.recycle_bin.remove(id);
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
        let item = self.deleted_item(id)?;
        self.recycle_bin.remove(id);
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
