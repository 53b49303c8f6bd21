//! The simulator makes a byte-identical tenant, and churns it identically, from one version to the next
//! when only its code's layout changed: a digest of everything the tenant holds, recorded as a constant.
//!
//! A change that is meant to alter the generated tenant or its churn updates the constants (and says why
//! in its commit); a change that is only meant to move code must leave them as they are.

use entra_backup::catalog;
use entra_backup_sim::{SimConfig, StoredObject, Tenant, churn, generate};
use serde_json::{Map, Value, json};

/// The digest of the default tenant made from seed 7 at [`now`], recorded before the simulator's files
/// were split into modules (issue 13), and again when the generator gained a category (groupSettings):
/// a change of what the simulator generates updates these two lines, a refactoring never does.
const GENERATED: &str = "777d32d281fb873f0fd50d20f9de5bc236a2e0a84cf095e40e611191583d4277";
/// The digest of that tenant after two rounds of churn.
const CHURNED: &str = "5b2d356917c419d456fad46071d2b5211344eabc88c2332c604696bdb20efa83";

fn now() -> jiff::Timestamp {
    "2026-03-01T12:00:00Z".parse().expect("timestamp")
}

fn object(o: &StoredObject) -> Value {
    let links: Map<String, Value> = o
        .links
        .iter()
        .map(|(rel, refs)| (rel.to_string(), refs.iter().map(|r| json!([r.category, r.id])).collect()))
        .collect();
    let children: Map<String, Value> = o
        .children
        .iter()
        .map(|(rel, kids)| (rel.to_string(), kids.iter().cloned().map(Value::Object).collect()))
        .collect();
    json!({
        "json": Value::Object(o.json.clone()),
        "seq": o.seq,
        "createdSeq": o.created_seq,
        "propSeq": &*o.prop_seq,
        "links": links,
        "children": children,
    })
}

/// Everything the tenant holds, in a stable order, hashed.
fn digest(t: &Tenant) -> String {
    let mut h = blake3::Hasher::new();
    let mut line = |v: Value| {
        h.update(serde_json::to_string(&v).expect("json").as_bytes());
        h.update(b"\n");
    };
    line(json!({ "tenantId": t.tenant_id, "domain": t.domain, "seq": t.seq() }));
    for cat in catalog::all() {
        let Some(store) = t.store(cat.name) else {
            line(json!({ "category": cat.name, "store": null }));
            continue;
        };
        line(json!({ "category": cat.name, "count": store.len() }));
        for (id, o) in store.entries_after(None) {
            line(json!({ "id": id, "object": object(&o.decode()) }));
        }
        for (id, (seq, how)) in &store.removed {
            line(json!({ "removed": id, "seq": seq, "reason": how.reason() }));
        }
        let mut changed: Vec<_> = store.link_changes.iter().collect();
        changed.sort_by(|a, b| a.0.cmp(b.0));
        for (id, changes) in changed {
            let changes: Vec<Value> =
                changes.iter().map(|c| json!([c.seq, c.rel, c.target.category, c.target.id, c.added])).collect();
            line(json!({ "linkChanges": id, "changes": changes }));
        }
    }
    for d in t.deleted_items() {
        line(json!({
            "deleted": d.category,
            "object": object(&d.object),
            "at": d.deleted_at.to_string(),
            "heldBy": d.held_by,
        }));
    }
    // Records held back for later delivery: visible once delivered.
    let mut delivered = t.clone();
    let n = delivered.deliver_held().expect("deliver held records");
    line(json!({ "held": n, "seq": delivered.seq() }));
    for cat in catalog::all() {
        for o in delivered.objects(cat.name).filter(|o| t.get(cat.name, o.id()).is_none()) {
            line(json!({ "category": cat.name, "delivered": object(&o) }));
        }
    }
    h.finalize().to_hex().to_string()
}

#[test]
fn the_generated_and_churned_tenant_are_byte_identical_to_the_recorded_ones() {
    let cfg = SimConfig { seed: 7, ..SimConfig::default() };
    let mut t = generate(&cfg, now());
    let generated = digest(&t);
    assert_eq!(generated, digest(&generate(&cfg, now())), "generating twice gives two tenants");

    let first = churn(&mut t, now() + jiff::SignedDuration::from_mins(10), 0.05, 11);
    let second = churn(&mut t, now() + jiff::SignedDuration::from_hours(2), 0.1, 12);
    assert!(first.objects_touched > 0 && second.objects_touched > 0, "{first:?} {second:?}");
    let churned = digest(&t);

    assert_eq!((generated.as_str(), churned.as_str()), (GENERATED, CHURNED), "the simulator's tenant changed");
}
