//! The planner on plain JSON: a snapshot, a recorded live state, the recycle bin's ids and the id
//! map, without any server.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::{Action, CategoryPlan, Inputs, Planner, Step};
use crate::catalog::{self, Category};
use crate::repo::idmap::IdMap;
use crate::source::Object;

fn cat(name: &str) -> &'static Category {
    catalog::get(name).unwrap()
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

/// The plan of `category` for `snapshot` against `live`, with the recycle bin holding `bin`.
fn plan_of(
    category: &'static Category,
    snapshot: &[Value],
    live: &[Value],
    bin: &[&str],
    map: &IdMap,
    overwrite: bool,
) -> CategoryPlan {
    let snapshot: BTreeMap<String, Map<String, Value>> =
        snapshot.iter().map(|o| (o["id"].as_str().unwrap().to_string(), obj(o.clone()))).collect();
    let live = live
        .iter()
        .map(|o| Object { category, id: o["id"].as_str().unwrap().to_string(), json: obj(o.clone()) })
        .collect();
    let bin: HashSet<String> = bin.iter().map(|s| s.to_string()).collect();
    let planner = Planner {
        cat: category,
        map,
        attributes: &[],
        overwrite_relationships: overwrite,
        now: "2026-01-01T00:00:00Z".parse().unwrap(),
    };
    planner.category(Inputs { snapshot: &snapshot, live, bin: &bin, pim: &HashMap::new(), lost: &HashSet::new() })
}

fn kinds(steps: &[Step]) -> Vec<String> {
    steps.iter().map(|s| serde_json::to_value(s).unwrap()["kind"].as_str().unwrap().to_string()).collect()
}

fn user(id: &str, department: &str) -> Value {
    json!({"id": id, "displayName": format!("User {id}"), "userPrincipalName": format!("{id}@contoso.com"),
        "department": department, "accountEnabled": true})
}

#[test]
fn a_missing_object_in_the_recycle_bin_is_undeleted() {
    let users = cat("users");
    let plan = plan_of(
        users,
        &[user("u1", "Sales"), user("u2", "Sales")],
        &[user("u2", "Sales")],
        &["u1"],
        &IdMap::default(),
        false,
    );
    assert_eq!(plan.unchanged, 1);
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].id, "u1");
    assert!(matches!(plan.steps[0].action, Action::Undelete));
    let shown = serde_json::to_value(&plan).unwrap();
    assert_eq!(shown["steps"][0]["kind"], "undelete");
    assert_eq!(shown["steps"][0]["displayName"], "User u1");
}

#[test]
fn a_missing_object_not_in_the_bin_is_created_with_its_references_remapped() {
    let groups = cat("groups");
    // u1 was recreated earlier as n1: the group's owner link names the new id; the service gives
    // the group a new id, so none is sent.
    let mut map = IdMap::default();
    map.insert("u1", "n1");
    let group = json!({"id": "g1", "displayName": "Team", "mailEnabled": false, "securityEnabled": true,
        "mailNickname": "team", "groupTypes": [], "createdDateTime": "2025-01-01T00:00:00Z",
        "owners": [{"id": "u1"}], "members": [{"id": "u2"}]});
    let plan = plan_of(groups, &[group], &[], &[], &map, false);
    assert_eq!(kinds(&plan.steps), ["create"]);
    let Action::Create { body, links } = &plan.steps[0].action else { panic!() };
    assert!(body.get("id").is_none(), "the service assigns the id");
    assert_eq!(body["displayName"], "Team");
    assert!(body.get("owners").is_none() && body.get("createdDateTime").is_none(), "{body:?}");
    let links: BTreeSet<(&str, &str)> = links.iter().map(|l| (l.relationship.name, l.target.as_str())).collect();
    assert_eq!(links, BTreeSet::from([("owners", "n1"), ("members", "u2")]));
}

#[test]
fn a_changed_attribute_is_patched_alone() {
    let users = cat("users");
    let plan = plan_of(users, &[user("u1", "Sales")], &[user("u1", "Legal")], &[], &IdMap::default(), false);
    assert_eq!(kinds(&plan.steps), ["patch"]);
    assert_eq!(plan.steps[0].live.as_deref(), Some("u1"));
    let Action::Patch { attributes } = &plan.steps[0].action else { panic!() };
    assert_eq!(Value::Object(attributes.clone()), json!({"department": "Sales"}));
}

#[test]
fn an_extra_link_is_unlinked_only_with_overwrite_relationships() {
    let groups = cat("groups");
    let snap = json!({"id": "g1", "displayName": "Team", "groupTypes": [], "members": [{"id": "u1"}]});
    let live = json!({"id": "g1", "displayName": "Team", "groupTypes": [], "members": [{"id": "u1"}, {"id": "u9"}]});
    let kept = plan_of(groups, std::slice::from_ref(&snap), std::slice::from_ref(&live), &[], &IdMap::default(), false);
    assert!(kept.steps.is_empty() && kept.unchanged == 1, "{:?}", kept.steps);
    let exact = plan_of(groups, &[snap], &[live], &[], &IdMap::default(), true);
    assert_eq!(kinds(&exact.steps), ["unlink"]);
    let Action::Unlink { relationship, target } = &exact.steps[0].action else { panic!() };
    assert_eq!((relationship.name, target.as_str()), ("members", "u9"));
}

#[test]
fn read_only_and_secret_attributes_are_not_restorable_with_the_reason() {
    let users = cat("users");
    let mut snap = user("u1", "Sales");
    snap["createdDateTime"] = json!("2020-01-01T00:00:00Z");
    let mut live = user("u1", "Sales");
    live["createdDateTime"] = json!("2025-01-01T00:00:00Z");
    let plan = plan_of(users, &[snap], &[live], &[], &IdMap::default(), false);
    assert_eq!(kinds(&plan.steps), ["notRestorable"]);
    let Action::NotRestorable { attribute, reason, .. } = &plan.steps[0].action else { panic!() };
    assert_eq!(attribute.as_deref(), Some("createdDateTime"));
    assert!(reason.contains("read-only"), "{reason}");

    let keys = cat("bitlockerRecoveryKeys");
    let secret = keys.secret_properties[0];
    let plan = plan_of(
        keys,
        &[json!({"id": "k1", secret: "123-456"})],
        &[json!({"id": "k1", secret: "999-999"})],
        &[],
        &IdMap::default(),
        false,
    );
    assert_eq!(kinds(&plan.steps), ["notRestorable"]);
    let Action::NotRestorable { attribute, reason, .. } = &plan.steps[0].action else { panic!() };
    assert_eq!(attribute.as_deref(), Some(secret));
    assert!(!reason.is_empty());
}

#[test]
fn a_dynamic_groups_members_are_not_restorable() {
    let groups = cat("groups");
    let dynamic = |members: Value| {
        json!({"id": "g1", "displayName": "All", "groupTypes": ["DynamicMembership"],
            "membershipRule": "user.department -eq \"Sales\"", "members": members})
    };
    let plan = plan_of(
        groups,
        &[dynamic(json!([{"id": "u1"}, {"id": "u2"}]))],
        &[dynamic(json!([{"id": "u1"}]))],
        &[],
        &IdMap::default(),
        false,
    );
    assert_eq!(kinds(&plan.steps), ["notRestorable"]);
    let Action::NotRestorable { attribute, reason, .. } = &plan.steps[0].action else { panic!() };
    assert_eq!(attribute.as_deref(), Some("members"));
    assert!(reason.contains("dynamic group"), "{reason}");
}

#[test]
fn a_missing_object_graph_keeps_no_way_back_for_is_not_restorable() {
    // A synced user is refused whatever happened to it.
    let users = cat("users");
    let mut synced = user("u1", "Sales");
    synced["onPremisesSyncEnabled"] = json!(true);
    let plan = plan_of(users, &[synced], &[], &["u1"], &IdMap::default(), false);
    assert_eq!(kinds(&plan.steps), ["notRestorable"]);
    let Action::NotRestorable { attribute, reason, .. } = &plan.steps[0].action else { panic!() };
    assert!(attribute.is_none());
    assert!(reason.contains("on-premises"), "{reason}");
}
