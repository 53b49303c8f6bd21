//! Churn of the simulated tenant: delta rounds see exactly what it changed, the same seed changes
//! the same objects, what it writes is true to the schema, and `POST /_sim/churn` serves it.

use common::graph::Client;
use entra_backup_test_support as common;

use std::collections::{BTreeSet, HashSet};

use common::csdl;
use entra_backup::catalog::{self, RelationshipKind};
use entra_backup_sim::churn::CHURNED_CATEGORIES;
use entra_backup_sim::{ChurnReport, SimConfig, SimServer, StoredObject, Tenant, churn, generate};
use serde_json::{Map, Value};

fn now() -> jiff::Timestamp {
    "2026-03-01T12:00:00Z".parse().expect("timestamp")
}

fn ids(items: &[Value], removed: bool) -> BTreeSet<String> {
    items
        .iter()
        .filter(|i| i.get("@removed").is_some() == removed)
        .map(|i| i["id"].as_str().unwrap_or_else(|| panic!("no id: {i}")).to_string())
        .collect()
}

fn set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

#[tokio::test]
async fn delta_rounds_report_exactly_what_churn_changed() {
    let sim = SimServer::start(SimConfig { users: 2_000, groups: 300, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let c = Client::new(&sim).await;
    let rounds = [
        ("users", "/v1.0/users/delta?$select=id,displayName,jobTitle,department,officeLocation,mobilePhone,manager"),
        ("groups", "/v1.0/groups/delta?$select=id,displayName,description,members"),
        ("devices", "/v1.0/devices/delta"),
        ("applications", "/v1.0/applications/delta"),
        ("servicePrincipals", "/v1.0/servicePrincipals/delta"),
    ];
    let mut links = Vec::new();
    for (category, first) in rounds {
        let (items, link) = c.delta_round(first).await;
        assert_eq!(items.len(), sim.tenant().count(category), "{category}: the first round holds everything");
        links.push((category, link));
    }

    let report = sim.churn(0.01, 7);
    let users = report.category("users");
    assert_eq!((users.updated + users.created, users.removed), (20 + 1, 1), "{users:?}");
    assert!(users.created == 1 && users.links_changed >= 3, "{users:?}");
    let groups = report.category("groups");
    assert!(groups.updated >= 3 && groups.links_changed > 0, "{groups:?}");
    // 1% of 1,000 devices, and those the removed user owned.
    let devices = report.category("devices").updated;
    assert!((10..=12).contains(&devices), "{devices} devices updated");
    assert!(report.objects_touched > 40, "{report:?}");

    let mut next_links = Vec::new();
    for (category, link) in &links {
        let (items, next) = c.delta_round(link).await;
        next_links.push((*category, next));
        let expected = report.category(category);
        let mut changed = set(&expected.updated_ids);
        changed.extend(expected.created_ids.iter().cloned());
        assert!(!changed.is_empty(), "{category}: nothing changed");
        assert_eq!(ids(&items, false), changed, "{category}: objects in the delta round");
        assert_eq!(ids(&items, true), set(&expected.removed_ids), "{category}: removals in the delta round");
        if *category == "users" {
            // The new user comes whole, the updated ones with their changed properties only.
            let new = items.iter().find(|i| i["id"] == users.created_ids[0].as_str()).unwrap();
            assert!(new["displayName"].is_string() && new["manager@delta"].is_array(), "{new}");
            // Updated users carry the selected properties that changed, at their new values.
            let mut properties = 0;
            let t = sim.tenant();
            for i in items.iter().filter(|i| users.updated_ids.iter().any(|u| i["id"] == u.as_str())) {
                let stored = &t.get("users", i["id"].as_str().unwrap()).unwrap().json;
                for (k, v) in i.as_object().unwrap().iter().filter(|(k, _)| *k != "id" && !k.contains('@')) {
                    assert_eq!(stored.get(k), Some(v), "{k} of {i}");
                    properties += 1;
                }
            }
            assert!(properties > 0, "no changed property in the round");
            drop(t);
            let gone = items.iter().find(|i| i.get("@removed").is_some()).unwrap();
            assert_eq!(gone["@removed"]["reason"], "changed", "the first removal is soft");
        }
        if *category == "groups" {
            // The removed user left every group it was in, as a removed member.
            let removed = &users.removed_ids[0];
            let left: Vec<&Value> = items
                .iter()
                .flat_map(|g| g["members@delta"].as_array().into_iter().flatten())
                .filter(|m| m["id"] == removed.as_str())
                .collect();
            assert!(!left.is_empty(), "the removed user was in no group");
            assert!(left.iter().all(|m| m["@removed"]["reason"] == "deleted"), "{left:?}");
        }
    }

    // Nothing moves after the churn: the next round of each is empty.
    for (category, link) in &next_links {
        let (items, _) = c.delta_round(link).await;
        assert!(items.is_empty(), "{category}: {items:?}");
    }
    sim.shutdown().await;
}

/// Everything about an object: its JSON, links and children.
fn fingerprint(o: &StoredObject) -> String {
    let links: Vec<(&str, Vec<(&str, &str)>)> =
        o.links.iter().map(|(k, v)| (*k, v.iter().map(|r| (r.category, r.id.as_str())).collect())).collect();
    format!("{}|{links:?}|{:?}", Value::Object(o.json.clone()), o.children)
}

fn fingerprints(t: &Tenant) -> Vec<String> {
    CHURNED_CATEGORIES.iter().flat_map(|c| t.objects(c).map(|o| fingerprint(&o))).collect()
}

#[test]
fn the_same_tenant_and_seed_give_the_same_churn() {
    let cfg = SimConfig { seed: 5, users: 600, groups: 80, ..SimConfig::default() };
    let mut a = generate(&cfg, now());
    let mut b = generate(&cfg, now());
    let later = now() + jiff::SignedDuration::from_mins(10);
    let ra = churn(&mut a, later, 0.05, 11);
    let rb = churn(&mut b, later, 0.05, 11);
    assert_eq!(ra, rb);
    assert!(ra.objects_touched > 100, "{ra:?}");
    assert!(fingerprints(&a) == fingerprints(&b), "two tenants churned alike differ");
    assert_eq!(a.seq(), b.seq());
    // Every other removed user is soft-deleted: in the recycle bin, restorable.
    let removed = ra.category("users").removed_ids;
    let in_bin = removed.iter().filter(|id| a.deleted_item(id).is_some()).count();
    assert!(!removed.is_empty() && in_bin == removed.len().div_ceil(2), "{in_bin} of {} in the bin", removed.len());

    // Another seed changes other objects; churning again with the same seed changes others still,
    // with new ids.
    let mut c = generate(&cfg, now());
    let rc = churn(&mut c, later, 0.05, 12);
    assert_ne!(ra.category("users").updated_ids, rc.category("users").updated_ids);
    let again = churn(&mut a, later, 0.05, 11);
    assert_ne!(ra.category("users").updated_ids, again.category("users").updated_ids);
    let first = ra.category("users").created_ids;
    assert!(!again.category("users").created_ids.is_empty());
    assert!(again.category("users").created_ids.iter().all(|id| !first.contains(id)));
    let upns: Vec<String> =
        a.objects("users").filter_map(|u| u.json["userPrincipalName"].as_str().map(str::to_string)).collect();
    let unique: HashSet<String> = upns.iter().map(|u| u.to_lowercase()).collect();
    assert_eq!(upns.len(), unique.len(), "userPrincipalNames stay unique");
}

/// The JSON of every object churn created or updated, checked against the v1.0 CSDL as
/// `tests/sim_csdl.rs` checks generated objects.
fn schema_violations(t: &Tenant, report: &ChurnReport) -> (Vec<String>, usize) {
    let model = csdl::model();
    let mut out = Vec::new();
    let mut checked = 0;
    for name in CHURNED_CATEGORIES {
        let cat = catalog::get(name).unwrap();
        let r = report.category(name);
        for id in r.created_ids.iter().chain(&r.updated_ids) {
            let obj = t.get(name, id).unwrap_or_else(|| panic!("{name}/{id} is gone"));
            checked += 1;
            for v in model.check_object(cat.entity_type, &obj.json) {
                out.push(format!("{name}/{id}: {v}"));
            }
            for p in cat.selected().iter().chain(cat.single_get_select) {
                let stream = model.property(cat.entity_type, p).is_some_and(|x| x.type_name == "Edm.Stream");
                if !stream && !obj.json.contains_key(*p) {
                    out.push(format!("{name}/{id}: selected property '{p}' is missing"));
                }
            }
        }
    }
    (out, checked)
}

/// The dynamic membership rules the generator writes, evaluated independently of it.
fn rule_selects(rule: &str, user: &Map<String, Value>) -> bool {
    rule.split(" -and ").all(|clause| {
        let clause = clause.trim().trim_start_matches('(').trim_end_matches(')');
        let parts: Vec<&str> = clause.splitn(3, ' ').collect();
        let [lhs, op, rhs] = parts[..] else { panic!("unexpected rule clause '{clause}'") };
        let actual = user.get(lhs.trim_start_matches("user.")).unwrap_or(&Value::Null);
        let expected = match rhs {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            s => Value::String(s.trim_matches('"').to_string()),
        };
        let eq = match (&expected, actual) {
            (Value::String(e), Value::String(a)) => e.eq_ignore_ascii_case(a),
            (e, a) => e == a,
        };
        if op == "-ne" { !eq } else { eq }
    })
}

#[test]
fn churned_objects_are_true_to_the_schema_and_the_tenant_stays_consistent() {
    let cfg = SimConfig { seed: 7, users: 300, groups: 60, ..SimConfig::default() };
    let mut t = generate(&cfg, now());
    let before: usize = CHURNED_CATEGORIES.iter().map(|c| t.count(c)).sum();
    let later = now() + jiff::SignedDuration::from_mins(30);
    let report = churn(&mut t, later, 0.2, 3);
    let users = report.category("users");
    assert_eq!((users.updated, users.created, users.removed), (60, 3, 3), "{users:?}");
    for name in ["directoryAudits", "signIns"] {
        assert_eq!(report.category(name).created, 120, "{name}: 20% of 600 records");
    }
    let after: usize = CHURNED_CATEGORIES.iter().map(|c| t.count(c)).sum();
    assert_eq!(after, before + 3 + 240 - 3);

    let (violations, checked) = schema_violations(&t, &report);
    assert!(checked > 250, "only {checked} objects checked");
    assert!(violations.is_empty(), "{} violations:\n{}", violations.len(), violations.join("\n"));

    // Links resolve and single links stay single; nothing points at a removed user.
    for cat in catalog::all() {
        for obj in t.objects(cat.name) {
            for rel in cat.relationships.iter().filter(|r| r.kind != RelationshipKind::Contained) {
                for target in obj.links(rel.name) {
                    assert!(
                        t.get(target.category, &target.id).is_some(),
                        "{}/{}/{}: dangling",
                        cat.name,
                        obj.id(),
                        rel.name
                    );
                }
                if rel.kind == RelationshipKind::Link {
                    assert!(obj.links(rel.name).len() <= 1, "{}/{}/{}", cat.name, obj.id(), rel.name);
                }
            }
        }
    }
    // No manager cycles.
    for u in t.objects("users") {
        let mut seen = HashSet::new();
        let mut cur = u.id().to_string();
        while let Some(m) = t.links("users", &cur, "manager").first() {
            assert!(seen.insert(m.id.clone()), "a manager cycle through {}", u.id());
            cur = m.id.clone();
        }
    }
    // Dynamic groups hold what their rules select; All Employees every member user.
    for g in t.objects("groups") {
        let Some(rule) = g.json["membershipRule"].as_str() else { continue };
        let expected: BTreeSet<String> =
            t.objects("users").filter(|u| rule_selects(rule, &u.json)).map(|o| o.id().to_string()).collect();
        let actual: BTreeSet<String> =
            g.links("members").iter().filter(|r| r.category == "users").map(|r| r.id.clone()).collect();
        assert_eq!(actual, expected, "group {} with rule '{rule}'", g.id());
    }
    let all = t.objects("groups").find(|g| g.json["displayName"] == "All Employees").unwrap();
    let members: HashSet<&str> = all.links("members").iter().map(|r| r.id.as_str()).collect();
    for u in t.objects("users").filter(|u| u.json["userType"] == "Member") {
        assert!(members.contains(u.id()), "All Employees lacks {}", u.id());
    }
    // New log records are later than the old ones, in the minutes before `now`, strictly increasing.
    for name in ["directoryAudits", "signIns"] {
        let prop = catalog::get(name).unwrap().time_property.unwrap();
        let time = |o: StoredObject| o.json[prop].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
        let created = set(&report.category(name).created_ids);
        let old = t.objects(name).filter(|o| !created.contains(o.id())).map(time).max().unwrap();
        let mut new: Vec<jiff::Timestamp> = t.objects(name).filter(|o| created.contains(o.id())).map(time).collect();
        new.sort();
        new.dedup();
        assert_eq!(new.len(), 120, "{name}: times are distinct");
        assert!(new[0] > old && *new.last().unwrap() <= later, "{name}: {:?}..{:?} after {old}", new[0], new.last());
        assert!(later - jiff::SignedDuration::from_mins(10) < new[0], "{name}: within minutes of now");
    }
}

#[tokio::test]
async fn churn_over_http_and_bad_parameters() {
    let sim =
        SimServer::start(SimConfig { users: 200, groups: 40, throttle: false, ..SimConfig::default() }).await.unwrap();
    let c = Client::new(&sim).await;
    let seq = sim.tenant().seq();
    let (status, _, body) = c.send(reqwest::Method::POST, "/_sim/churn?fraction=0.01&seed=3", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["seed"], 3);
    assert_eq!(body["seq_before"], seq);
    assert_eq!(body["seq_after"], sim.tenant().seq());
    assert_eq!(body["categories"]["users"]["updated"], 2, "{body}");
    assert_eq!(body["categories"]["signIns"]["created"], 4, "{body}");
    assert!(body["objects_touched"].as_u64().unwrap() >= 10, "{body}");
    assert!(sim.tenant().seq() > seq);

    for bad in [
        "/_sim/churn?fraction=2&seed=3",
        "/_sim/churn?fraction=0&seed=3",
        "/_sim/churn?fraction=abc&seed=3",
        "/_sim/churn?fraction=0.01&seed=-1",
        "/_sim/churn?fraction=0.01",
        "/_sim/churn?seed=3",
        "/_sim/churn?fraction=0.01&seed=3&extra=1",
    ] {
        let seq = sim.tenant().seq();
        let (status, _, body) = c.send(reqwest::Method::POST, bad, None).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{bad}: {body}");
        assert_eq!(sim.tenant().seq(), seq, "{bad} changed the tenant");
    }
    let (status, _, _) = c.get("/_sim/churn?fraction=0.01&seed=3").await;
    assert_eq!(status, 405);
    sim.shutdown().await;
}
