//! The tenant's reverse link index: for each object, the objects that link to it. Graph removes
//! every link to an object it deletes, and the recycle bin remembers them for a restore; without
//! this index each of those would scan every link of the tenant (ten million at a million users).

use std::collections::HashMap;

use entra_backup::catalog;

/// An object id held in 16 bytes when it is a lowercase GUID (nearly all are), as text otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Guid([u8; 16]),
    Text(Box<str>),
}

impl Key {
    pub(crate) fn new(id: &str) -> Key {
        guid(id).map_or_else(|| Key::Text(id.into()), Key::Guid)
    }

    pub(crate) fn to_id(&self) -> String {
        match self {
            Key::Text(s) => s.to_string(),
            Key::Guid(b) => {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
            }
        }
    }
}

/// The 16 bytes of a canonical lowercase GUID (so that writing it back gives the same text).
fn guid(id: &str) -> Option<[u8; 16]> {
    let b = id.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = b.iter().filter(|&&c| c != b'-');
    for byte in &mut out {
        let mut v = 0u8;
        for _ in 0..2 {
            let c = *digits.next()?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => return None,
            };
            v = v << 4 | d;
        }
        *byte = v;
    }
    Some(out)
}

/// One holder of a link: its category and relationship as indexes into the catalog, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    category: u8,
    rel: u8,
    id: Key,
}

/// Who links to whom, the other way round.
#[derive(Debug, Clone, Default)]
pub(crate) struct Incoming {
    by_target: HashMap<Key, Vec<Holder>>,
}

fn holder(category: &str, id: &str, rel: &str) -> Holder {
    let (ci, cat) = catalog::all().iter().enumerate().find(|(_, c)| c.name == category).expect("a catalog category");
    let ri = cat.relationships.iter().position(|r| r.name == rel).expect("a relationship of the category");
    Holder { category: ci as u8, rel: ri as u8, id: Key::new(id) }
}

impl Incoming {
    pub(crate) fn add(&mut self, target: &str, category: &str, id: &str, rel: &str) {
        let h = holder(category, id, rel);
        let list = self.by_target.entry(Key::new(target)).or_default();
        if !list.contains(&h) {
            list.push(h);
        }
    }

    pub(crate) fn remove(&mut self, target: &str, category: &str, id: &str, rel: &str) {
        let h = holder(category, id, rel);
        let key = Key::new(target);
        if let Some(list) = self.by_target.get_mut(&key) {
            list.retain(|x| *x != h);
            if list.is_empty() {
                self.by_target.remove(&key);
            }
        }
    }

    /// The links held to `target`: (category, holder id, relationship), in catalog order then id
    /// order, as a scan of the tenant would find them.
    pub(crate) fn holders(&self, target: &str) -> Vec<(&'static str, String, &'static str)> {
        let all = catalog::all();
        let mut out: Vec<(usize, String, &'static str)> = self
            .by_target
            .get(&Key::new(target))
            .into_iter()
            .flatten()
            .map(|h| {
                let cat = &all[usize::from(h.category)];
                (usize::from(h.category), h.id.to_id(), cat.relationships[usize::from(h.rel)].name)
            })
            .collect();
        out.sort();
        out.into_iter().map(|(c, id, rel)| (all[c].name, id, rel)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_back_as_they_went_in() {
        for id in ["0f8fad5b-d9cb-469f-a165-70867728950e", "0F8FAD5B-D9CB-469F-A165-70867728950E", "abc", "", "x@y"] {
            assert_eq!(Key::new(id).to_id(), id);
        }
        assert!(matches!(Key::new("0f8fad5b-d9cb-469f-a165-70867728950e"), Key::Guid(_)));
        assert!(matches!(Key::new("0F8FAD5B-D9CB-469F-A165-70867728950E"), Key::Text(_)));
    }
}
