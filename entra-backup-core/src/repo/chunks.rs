//! Long link lists stored in content-defined chunks of their own (see "Trees and snapshots" in
//! `docs/repository-format.md`), so that a member added to a large group rewrites one chunk.

use serde_json::{Map, Value};

use crate::catalog::{Category, RelationshipKind};
use crate::repo::canonical;

/// Link lists longer than this are stored in chunks of their own.
const CHUNK_THRESHOLD: usize = 64;

/// The average chunk of a list of `n` references: the power of two at or above half its square
/// root (from 16 to 1,024). A change rewrites one chunk and the list of chunk ids; a list that
/// gains `k` members a day costs about `k * a` references plus `2n / a` ids, least near
/// `a = sqrt(n) / 2` for the few changes a day of a large group. A list changes size class only
/// when its size crosses a power of four, and is chunked anew then.
fn chunk_average(n: usize) -> usize {
    (((n as f64).sqrt() / 2.0).ceil() as usize).next_power_of_two().clamp(16, 1024)
}

/// Sort every link list by id (links are sets; a canonical order keeps unchanged lists one blob)
/// and move long ones into content-defined chunks, so that a member added to a group of 50,000
/// rewrites one chunk of about 128 references instead of the whole list. Returns the chunks (id,
/// canonical JSON); the object keeps `{"@entraBackup.chunks": [ids]}` in the list's place.
pub(super) fn chunk_links(
    cat: &Category,
    json: &mut Map<String, Value>,
    cipher: &crate::repo::crypto::Cipher,
) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for rel in cat.relationships.iter().filter(|r| r.kind == RelationshipKind::Links) {
        let Some(Value::Array(refs)) = json.get_mut(rel.name) else { continue };
        // Compared by borrowed ids: cached keys would copy every id of a million-member list.
        refs.sort_by(|a, b| id(a).cmp(id(b)));
        if refs.len() <= CHUNK_THRESHOLD {
            continue;
        }
        let mut ids = Vec::new();
        let mut chunk = Vec::new();
        let refs = std::mem::take(refs);
        let last = refs.len() - 1;
        let average = chunk_average(refs.len());
        // A chunk ends after a reference whose id hashes (first two bytes) below 65536 / average.
        let below = (65_536 / average) as u16;
        for (i, r) in refs.into_iter().enumerate() {
            let h = blake3::hash(id(&r).as_bytes());
            let boundary = u16::from_be_bytes([h.as_bytes()[0], h.as_bytes()[1]]) < below;
            chunk.push(r);
            if boundary || chunk.len() >= 4 * average || i == last {
                let bytes = canonical::to_vec(&Value::Array(std::mem::take(&mut chunk)));
                let id = cipher.id_hex(&bytes);
                ids.push(id.clone());
                out.push((id, bytes));
            }
        }
        json.insert(rel.name.to_string(), serde_json::json!({ crate::repo::CHUNKS_KEY: ids }));
    }
    out
}

/// A reference's id ("" when it has none).
fn id(v: &Value) -> &str {
    v.get("id").and_then(Value::as_str).unwrap_or_default()
}
