//! The generated tenant is true to Microsoft Graph: every v1.0 object and contained child matches the
//! CSDL schema, every category of the catalog is populated, references resolve, dynamic groups hold
//! exactly what their rules select, and a seed always gives the same tenant.

use entra_backup_test_support as common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use common::csdl;
use entra_backup::catalog::{self, ApiVersion, Category, RelationshipKind, Shape};
use entra_backup_sim::{SimConfig, StoredObject, Tenant, generate};
use serde_json::{Map, Value};

const SEED: u64 = 7;
const USERS: usize = 300;
const GROUPS: usize = 60;

fn now() -> jiff::Timestamp {
    "2026-03-01T12:00:00Z".parse().expect("timestamp")
}

fn config(seed: u64) -> SimConfig {
    SimConfig { seed, users: USERS, groups: GROUPS, ..SimConfig::default() }
}

/// The tenant most tests read, generated once.
fn tenant() -> &'static Tenant {
    static TENANT: OnceLock<Tenant> = OnceLock::new();
    TENANT.get_or_init(|| generate(&config(SEED), now()))
}

/// At most `n` violations, and how many there were.
fn summary(violations: &[String], n: usize) -> String {
    let mut out: Vec<&str> = violations.iter().take(n).map(String::as_str).collect();
    if violations.len() > n {
        out.push("...");
    }
    format!("{} violations:\n{}", violations.len(), out.join("\n"))
}

/// The JSON the schema check sees. Graph keys a few entity types by another property (a partner
/// configuration by `tenantId`); the simulator's store needs an `id` on every object, so such
/// objects carry one equal to their key. The server must leave it out; here it is set aside when
/// it equals the key, and reported otherwise.
fn schema_view(type_name: &str, json: &Map<String, Value>) -> Map<String, Value> {
    let model = csdl::model();
    let ty = json.get("@odata.type").and_then(Value::as_str).map_or(type_name.to_string(), |t| model.qualify(t));
    if model.property(&ty, "id").is_none() {
        let key = model.key(&ty);
        if let [key] = key.as_slice() {
            if json.get("id").is_some() && json.get("id") == json.get(key.as_str()) {
                let mut copy = json.clone();
                copy.remove("id");
                return copy;
            }
        }
    }
    json.clone()
}

fn check_category(t: &Tenant, cat: &Category, out: &mut Vec<String>) {
    let model = csdl::model();
    for obj in t.objects(cat.name) {
        let id = obj.id();
        // The derived type an object carries must be one the catalog names.
        if let Some(ty) = obj.json.get("@odata.type").and_then(Value::as_str) {
            let q = model.qualify(ty);
            if q != cat.entity_type && !cat.derived_types.contains(&q.as_str()) {
                out.push(format!("{}/{id}: @odata.type {q} is not among the catalog's derived types", cat.name));
            }
        }
        for v in model.check_object(cat.entity_type, &schema_view(cat.entity_type, &obj.json)) {
            out.push(format!("{}/{id}: {v}", cat.name));
        }
        // Every property a backup selects is present (Graph returns each selected property, null or
        // not), except streams (an application's `logo`), which Graph serves at their own path.
        for p in cat.selected().iter().chain(cat.single_get_select) {
            let stream = model.property(cat.entity_type, p).is_some_and(|x| x.type_name == "Edm.Stream");
            if !stream && !obj.json.contains_key(*p) {
                out.push(format!("{}/{id}: selected property '{p}' is missing", cat.name));
            }
        }
        for rel in cat.relationships {
            if rel.kind != RelationshipKind::Contained {
                continue;
            }
            for child in obj.children.get(rel.name).into_iter().flatten() {
                let cid = child.get("id").and_then(Value::as_str).unwrap_or_default();
                for v in model.check_object(rel.target_type, &schema_view(rel.target_type, child)) {
                    out.push(format!("{}/{id}/{}/{cid}: {v}", cat.name, rel.name));
                }
            }
        }
    }
}

#[test]
fn every_v1_object_and_child_is_true_to_the_schema() {
    let t = tenant();
    let mut violations = Vec::new();
    let mut checked = 0;
    for cat in catalog::all().iter().filter(|c| c.api_version == ApiVersion::V1) {
        assert!(
            csdl::model().structured(cat.entity_type).is_some(),
            "{}: no type {} in the schema",
            cat.name,
            cat.entity_type
        );
        check_category(t, cat, &mut violations);
        checked += t.count(cat.name);
    }
    assert!(checked > 1000, "only {checked} objects checked");
    assert!(violations.is_empty(), "{}", summary(&violations, 60));
}

#[test]
fn every_category_has_objects_and_singletons_exactly_one() {
    let t = tenant();
    let mut problems = Vec::new();
    for cat in catalog::all() {
        let n = t.count(cat.name);
        match cat.shape {
            Shape::Singleton if n != 1 => problems.push(format!("{}: singleton with {n} objects", cat.name)),
            Shape::Collection if n == 0 => problems.push(format!("{}: no objects", cat.name)),
            _ => {}
        }
        // Every relationship the catalog names is populated somewhere.
        for rel in cat.relationships {
            let used = t.objects(cat.name).any(|o| match rel.kind {
                RelationshipKind::Contained => o.children.get(rel.name).is_some_and(|c| !c.is_empty()),
                _ => !o.links(rel.name).is_empty(),
            });
            if !used {
                problems.push(format!("{}: relationship '{}' is never populated", cat.name, rel.name));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(t.count("users"), USERS);
    assert_eq!(t.count("groups"), GROUPS);
}

/// Everything about an object: its JSON, links and children.
fn fingerprint(o: &StoredObject) -> String {
    let links: Vec<(&str, Vec<(&str, &str)>)> =
        o.links.iter().map(|(k, v)| (*k, v.iter().map(|r| (r.category, r.id.as_str())).collect())).collect();
    format!("{}|{links:?}|{:?}", Value::Object(o.json.clone()), o.children)
}

#[test]
fn the_same_seed_gives_the_same_tenant() {
    let a = tenant();
    let b = generate(&config(SEED), now());
    assert_eq!(a.tenant_id, b.tenant_id);
    assert_eq!(a.domain, b.domain);
    for cat in catalog::all() {
        assert_eq!(a.count(cat.name), b.count(cat.name), "{}", cat.name);
    }
    for name in [
        "users",
        "groups",
        "servicePrincipals",
        "conditionalAccessPolicies",
        "roleAssignments",
        "devices",
        "signIns",
        "directoryAudits",
        "configurationPolicies",
    ] {
        let fa: Vec<String> = a.objects(name).map(|o| fingerprint(&o)).collect();
        let fb: Vec<String> = b.objects(name).map(|o| fingerprint(&o)).collect();
        assert!(fa == fb, "{name} differs between two generations with the same seed");
    }
    let c = generate(&config(SEED + 1), now());
    assert_ne!(a.tenant_id, c.tenant_id);
    let ids = |t: &Tenant| t.objects("users").map(|o| o.id().to_string()).collect::<Vec<_>>();
    assert_ne!(ids(a), ids(&c), "another seed gives other users");
}

/// Values at a dotted path (`[]` steps into arrays); the first step may name contained children.
fn values_at<'a>(obj: &'a StoredObject, path: &str) -> Vec<&'a Value> {
    let mut steps = path.split('.');
    let Some(first) = steps.next() else { return vec![] };
    let (name, array) = match first.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (first, false),
    };
    let mut current: Vec<&Value> = match (obj.json.get(name), obj.children.get(name)) {
        (Some(v), _) => vec![v],
        (None, Some(children)) => {
            return walk(children.iter().map(|c| c as &Map<String, Value>).collect(), steps.collect());
        }
        _ => vec![],
    };
    if array {
        current = current.into_iter().flat_map(|v| v.as_array().into_iter().flatten()).collect();
    }
    for step in steps {
        let (name, array) = match step.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (step, false),
        };
        current = current.into_iter().filter_map(|v| v.get(name)).collect();
        if array {
            current = current.into_iter().flat_map(|v| v.as_array().into_iter().flatten()).collect();
        }
    }
    // A path ending at an array of ids.
    current.into_iter().flat_map(|v| if let Value::Array(a) = v { a.iter().collect() } else { vec![v] }).collect()
}

fn walk<'a>(objects: Vec<&'a Map<String, Value>>, steps: Vec<&str>) -> Vec<&'a Value> {
    let mut current: Vec<&Value> = Vec::new();
    let Some((first, rest)) = steps.split_first() else { return current };
    let (name, array) = match first.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (*first, false),
    };
    for o in objects {
        if let Some(v) = o.get(name) {
            current.push(v);
        }
    }
    if array {
        current = current.into_iter().flat_map(|v| v.as_array().into_iter().flatten()).collect();
    }
    for step in rest {
        let (name, array) = match step.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (*step, false),
        };
        current = current.into_iter().filter_map(|v| v.get(name)).collect();
        if array {
            current = current.into_iter().flat_map(|v| v.as_array().into_iter().flatten()).collect();
        }
    }
    current.into_iter().flat_map(|v| if let Value::Array(a) = v { a.iter().collect() } else { vec![v] }).collect()
}

#[test]
fn references_and_links_resolve() {
    let t = tenant();
    // What a reference may name in each category: object ids, and the app ids of applications and
    // service principals (Conditional Access and cross-tenant settings name apps by app id).
    let mut names: HashMap<&str, HashSet<String>> = HashMap::new();
    for cat in catalog::all() {
        let set = names.entry(cat.name).or_default();
        for o in t.objects(cat.name) {
            set.insert(o.id().to_string());
            if let Some(app_id) = o.json.get("appId").and_then(Value::as_str) {
                set.insert(app_id.to_string());
            }
        }
    }
    let mut problems = Vec::new();
    for cat in catalog::all() {
        for obj in t.objects(cat.name) {
            for rel in cat.relationships.iter().filter(|r| r.kind != RelationshipKind::Contained) {
                for target in obj.links(rel.name) {
                    if !rel.target_categories.contains(&target.category) {
                        problems.push(format!(
                            "{}/{}/{}: a link to {} is not among {:?}",
                            cat.name,
                            obj.id(),
                            rel.name,
                            target.category,
                            rel.target_categories
                        ));
                    }
                    if t.get(target.category, &target.id).is_none() {
                        problems.push(format!(
                            "{}/{}/{}: no {} {}",
                            cat.name,
                            obj.id(),
                            rel.name,
                            target.category,
                            target.id
                        ));
                    }
                }
                if rel.kind == RelationshipKind::Link && obj.links(rel.name).len() > 1 {
                    problems.push(format!(
                        "{}/{}/{}: a single link with several targets",
                        cat.name,
                        obj.id(),
                        rel.name
                    ));
                }
            }
            for field in cat.references {
                // A service principal of another organization's app has no application here.
                if cat.name == "servicePrincipals"
                    && field.path == "appId"
                    && obj.json.get("appOwnerOrganizationId").and_then(Value::as_str) != Some(t.tenant_id.as_str())
                {
                    continue;
                }
                for v in values_at(&obj, field.path) {
                    let Some(s) = v.as_str() else {
                        if !v.is_null() {
                            problems.push(format!("{}/{}: {} holds {v}, not a string", cat.name, obj.id(), field.path));
                        }
                        continue;
                    };
                    if field.keywords.contains(&s) {
                        continue;
                    }
                    // Scopes and queries name objects by path: `/administrativeUnits/{id}`, `/users/{id}`.
                    let s = if s.starts_with('/') { s.rsplit('/').next().unwrap_or(s) } else { s };
                    if !field.targets.iter().any(|c| names.get(c).is_some_and(|n| n.contains(s))) {
                        problems.push(format!(
                            "{}/{}: {} = '{s}' names nothing in {:?}",
                            cat.name,
                            obj.id(),
                            field.path,
                            field.targets
                        ));
                    }
                }
            }
        }
    }
    // BitLocker keys name their device by its deviceId.
    let device_ids: HashSet<String> =
        t.objects("devices").filter_map(|d| Some(d.json.get("deviceId")?.as_str()?.to_string())).collect();
    for k in t.objects("bitlockerRecoveryKeys") {
        let d = k.json.get("deviceId").and_then(Value::as_str).unwrap_or_default();
        if !device_ids.contains(d) {
            problems.push(format!("bitlockerRecoveryKeys/{}: no device with deviceId {d}", k.id()));
        }
        let key = k.json.get("key").and_then(Value::as_str).unwrap_or_default();
        let blocks: Vec<&str> = key.split('-').collect();
        if blocks.len() != 8 || !blocks.iter().all(|b| b.len() == 6 && b.bytes().all(|c| c.is_ascii_digit())) {
            problems.push(format!("bitlockerRecoveryKeys/{}: key '{key}' is not 8 blocks of 6 digits", k.id()));
        }
    }
    assert!(problems.is_empty(), "{}", summary(&problems, 60));
}

/// The dynamic membership rules the generator writes: `(user.prop -op value)` clauses joined by
/// `-and`, evaluated here independently of the generator.
fn rule_selects(rule: &str, user: &Map<String, Value>) -> bool {
    rule.split(" -and ").all(|clause| {
        let clause = clause.trim().trim_start_matches('(').trim_end_matches(')');
        let parts: Vec<&str> = clause.splitn(3, ' ').collect();
        let [lhs, op, rhs] = parts[..] else { panic!("unexpected rule clause '{clause}'") };
        let prop = lhs.strip_prefix("user.").unwrap_or_else(|| panic!("unexpected rule subject '{lhs}'"));
        let actual = user.get(prop).unwrap_or(&Value::Null);
        let expected = match rhs {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            s => Value::String(s.trim_matches('"').to_string()),
        };
        let eq = match (&expected, actual) {
            (Value::String(e), Value::String(a)) => e.eq_ignore_ascii_case(a),
            (e, a) => e == a,
        };
        match op {
            "-eq" => eq,
            "-ne" => !eq,
            other => panic!("unexpected rule operator '{other}'"),
        }
    })
}

#[test]
fn dynamic_groups_and_units_hold_what_their_rules_select() {
    let t = tenant();
    let mut dynamic = 0;
    for (category, type_check) in [("groups", true), ("administrativeUnits", false)] {
        for g in t.objects(category) {
            let Some(rule) = g.json.get("membershipRule").and_then(Value::as_str) else { continue };
            dynamic += 1;
            if type_check {
                let types = g.json["groupTypes"].as_array().expect("groupTypes");
                assert!(types.iter().any(|x| x == "DynamicMembership"), "{}: a rule without DynamicMembership", g.id());
                assert_eq!(g.json["membershipRuleProcessingState"], "On");
            }
            let expected: BTreeSet<String> =
                t.objects("users").filter(|u| rule_selects(rule, &u.json)).map(|o| o.id().to_string()).collect();
            let actual: BTreeSet<String> = g.links("members").iter().map(|r| r.id.clone()).collect();
            assert!(!expected.is_empty(), "{category} {}: rule '{rule}' selects nobody", g.id());
            assert_eq!(actual, expected, "{category} {} with rule '{rule}'", g.id());
        }
    }
    assert!(dynamic >= 4, "only {dynamic} dynamic groups and units");

    // All Employees holds every member user.
    let all = t.objects("groups").find(|g| g.json["displayName"] == "All Employees").expect("All Employees");
    let members: HashSet<&str> = all.links("members").iter().map(|r| r.id.as_str()).collect();
    for u in t.objects("users").filter(|u| u.json["userType"] == "Member") {
        assert!(members.contains(u.id()), "All Employees lacks {}", u.id());
    }
}

#[test]
fn group_nesting_has_no_cycles_and_memberships_follow_the_config() {
    let t = tenant();
    let mut total = 0;
    let mut nested: HashMap<String, Vec<String>> = HashMap::new();
    for g in t.objects("groups") {
        total += g.links("members").len();
        let kids: Vec<String> =
            g.links("members").iter().filter(|r| r.category == "groups").map(|r| r.id.clone()).collect();
        if !kids.is_empty() {
            nested.insert(g.id().to_string(), kids);
        }
    }
    assert!(!nested.is_empty(), "no nested groups");
    fn visit<'a>(g: &'a str, nested: &'a HashMap<String, Vec<String>>, path: &mut Vec<&'a str>) {
        assert!(!path.contains(&g), "a membership cycle: {path:?} -> {g}");
        path.push(g);
        for k in nested.get(g).into_iter().flatten() {
            visit(k, nested, path);
        }
        path.pop();
    }
    for g in nested.keys() {
        visit(g, &nested, &mut Vec::new());
    }
    let wanted = USERS * 10;
    assert!(total * 10 >= wanted * 7 && total * 10 <= wanted * 13, "{total} memberships for {wanted} wanted");
}

#[test]
fn logs_fall_in_the_30_days_before_now_newest_first() {
    let t = tenant();
    let oldest = now() - jiff::SignedDuration::from_hours(24 * 30);
    for (cat, field) in [("directoryAudits", "activityDateTime"), ("signIns", "createdDateTime")] {
        let mut times: Vec<jiff::Timestamp> =
            t.objects(cat).map(|o| o.json[field].as_str().expect(field).parse().expect("timestamp")).collect();
        assert_eq!(times.len(), USERS * 2, "{cat}");
        assert!(times.iter().all(|x| *x <= now() && *x > oldest), "{cat}: a record outside the window");
        times.sort();
        let span = *times.last().unwrap() - *times.first().unwrap();
        assert!(span.as_hours() > 24 * 25, "{cat}: records span only {span:?}");
    }
}

/// Scale follows the config (the 50,000-user timing lives in the benchmarks, not in tests).
#[test]
fn sizes_and_memberships_follow_the_config() {
    let cfg = SimConfig { seed: 1, users: 5_000, groups: 1_000, memberships: Some(50_000), ..SimConfig::default() };
    let t = generate(&cfg, now());
    let memberships: usize = t.objects("groups").map(|g| g.links("members").len()).sum();
    assert_eq!(t.count("users"), 5_000);
    assert_eq!(t.count("groups"), 1_000);
    assert!((40_000..=60_000).contains(&memberships), "{memberships} memberships");
}
