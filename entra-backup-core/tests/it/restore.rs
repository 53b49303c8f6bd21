//! The disaster drill: back up a simulated tenant, damage it the ways real tenants get damaged,
//! restore the whole tenant from the snapshot, and check that the tenant is the snapshot again,
//! but for what the report says Graph will not let anyone restore. A second restore writes
//! nothing; restoring one attribute of one user changes that attribute alone.

use std::collections::{BTreeSet, HashMap, HashSet};

use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::diff::{DiffKind, ObjectDiff, diff_live};
use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::IdMap;
use entra_backup::repo::backend::Store;
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::{Access, Repository};
use entra_backup::restore::{GraphRestorer, Outcome, RestoreOptions, RestoreReport, restore};
use entra_backup::sink::BackupOptions;
use entra_backup::source::{GraphSource, SnapshotSource, SourceOptions};
use entra_backup_sim::{SimConfig, SimServer};
use serde_json::{Value, json};

use common::graph::Client;
use common::sim_tenant::source;
use entra_backup_test_support as common;

pub(crate) fn pass(p: &str) -> Access {
    Access::Passphrase(Secret::new(p))
}

pub(crate) async fn snapshot_of(sim: &SimServer) -> (Repository, String) {
    let repo =
        Repository::init(Store::memory(), &pass("data pw"), Some(&pass("secrets pw")), KdfParams::fast_for_tests())
            .await
            .unwrap();
    let src = source(sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    let all: Vec<&'static Category> = catalog::all().iter().collect();
    let report =
        pipeline::backup(&src, &repo, BackupOptions::new(sim.tenant_id()), &Progress::new(&all)).await.unwrap();
    assert!(report.summary.ok(), "{:#?}", report.summary);
    (repo, report.snapshot_id)
}

pub(crate) async fn run_restore(
    sim: &SimServer,
    repo: &Repository,
    snapshot: &str,
    options: RestoreOptions,
) -> RestoreReport {
    let snap = SnapshotSource::open(repo.clone(), snapshot, false).await.unwrap();
    let live: GraphSource = source(sim, "any", SourceOptions::default());
    let restorer = GraphRestorer::new(live.client().clone());
    restore(&snap, &live, &restorer, &options).await.unwrap()
}

/// Every difference between the snapshot and the live tenant (logs left out, as `diff` does).
pub(crate) async fn diff_now(sim: &SimServer, repo: &Repository, snapshot: &str) -> Vec<ObjectDiff> {
    let snap = SnapshotSource::open(repo.clone(), snapshot, false).await.unwrap();
    let live = source(sim, "any", SourceOptions::default());
    let map = IdMap::load(repo, snapshot, &sim.tenant_id()).await.unwrap();
    let cats: Vec<&'static Category> = catalog::all().iter().filter(|c| c.time_property.is_none()).collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let collect = async move {
        let mut all = Vec::new();
        while let Some(d) = rx.recv().await {
            all.push(d);
        }
        all
    };
    let run = async move {
        let r = diff_live(&snap, &live, &cats, None, &map, &tx).await;
        drop(tx);
        r
    };
    let (summary, all) = tokio::join!(run, collect);
    summary.unwrap();
    all
}

pub(crate) fn ids(sim: &SimServer, cat: &str, keep: impl Fn(&serde_json::Map<String, Value>) -> bool) -> Vec<String> {
    sim.tenant().objects(cat).filter(|o| keep(&o.json)).map(|o| o.id().to_string()).collect()
}

/// A cloud security group with assigned members, neither mail-enabled nor Microsoft 365.
pub(crate) fn plain_security(g: &serde_json::Map<String, Value>) -> bool {
    g["securityEnabled"] == true
        && g["mailEnabled"] == false
        && g["groupTypes"].as_array().is_some_and(|t| t.is_empty())
        && g["onPremisesSyncEnabled"] != true
}

/// Graph answered with success.
pub(crate) fn ok(r: (u16, reqwest::header::HeaderMap, Value), what: &str) {
    assert!((200..300).contains(&r.0), "{what}: {} {}", r.0, r.2);
}

pub(crate) fn unified(g: &serde_json::Map<String, Value>) -> bool {
    g["groupTypes"].as_array().is_some_and(|t| t.iter().any(|x| x == "Unified"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disaster_drill_restores_the_whole_tenant() {
    let sim = SimServer::start(SimConfig { seed: 5, users: 300, groups: 60, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let (repo, snapshot) = snapshot_of(&sim).await;
    let c = Client::new(&sim).await;

    // --- The damage.
    let cloud = |u: &serde_json::Map<String, Value>| u["onPremisesSyncEnabled"] != true;
    let users = ids(&sim, "users", cloud);
    // 10% of users and of Microsoft 365 groups, soft-deleted.
    let soft_users: Vec<String> = users.iter().step_by(10).cloned().collect();
    for u in &soft_users {
        ok(c.delete(&format!("/v1.0/users/{u}")).await, "delete user");
    }
    let m365 = ids(&sim, "groups", |g| unified(g) && g["onPremisesSyncEnabled"] != true);
    let soft_groups: Vec<String> = m365.iter().step_by(10).cloned().collect();
    assert!(!soft_groups.is_empty());
    for g in &soft_groups {
        ok(c.delete(&format!("/v1.0/groups/{g}")).await, "delete group");
    }
    // One user deleted for good: recreated with a new id and a new password.
    let hard_user = users[1].clone();
    ok(c.delete(&format!("/v1.0/users/{hard_user}")).await, "delete user");
    ok(c.delete(&format!("/v1.0/directory/deletedItems/{hard_user}")).await, "purge user");
    // Five applications with their service principals, deleted for good.
    let apps: Vec<(String, String)> = sim
        .tenant()
        .objects("applications")
        .take(5)
        .map(|a| (a.id().to_string(), a.json["appId"].as_str().unwrap().to_string()))
        .collect();
    let sps: Vec<String> = {
        let app_ids: HashSet<&str> = apps.iter().map(|(_, a)| a.as_str()).collect();
        ids(&sim, "servicePrincipals", |s| s["appId"].as_str().is_some_and(|a| app_ids.contains(a)))
    };
    for (id, _) in &apps {
        ok(c.delete(&format!("/v1.0/applications/{id}")).await, "delete app");
        ok(c.delete(&format!("/v1.0/directory/deletedItems/{id}")).await, "purge app");
    }
    for sp in &sps {
        if c.get(&format!("/v1.0/directory/deletedItems/{sp}")).await.0 == 200 {
            ok(c.delete(&format!("/v1.0/directory/deletedItems/{sp}")).await, "purge sp");
        }
    }
    // A custom role with its assignments.
    let role = ids(&sim, "roleDefinitions", |r| r["isBuiltIn"] == false)[0].clone();
    let role_assignments = ids(&sim, "roleAssignments", |a| a["roleDefinitionId"] == role.as_str());
    for a in &role_assignments {
        ok(c.delete(&format!("/v1.0/roleManagement/directory/roleAssignments/{a}")).await, "delete assignment");
    }
    ok(c.delete(&format!("/v1.0/roleManagement/directory/roleDefinitions/{role}")).await, "delete role");
    // A few assignments of built-in roles.
    let other_assignments: Vec<String> =
        ids(&sim, "roleAssignments", |a| a["roleDefinitionId"] != role.as_str()).into_iter().take(3).collect();
    for a in &other_assignments {
        ok(c.delete(&format!("/v1.0/roleManagement/directory/roleAssignments/{a}")).await, "delete assignment");
    }
    // A time-bound active PIM assignment (its schedule goes with it).
    let timebound: serde_json::Map<String, Value> = sim
        .tenant()
        .objects("roleAssignmentSchedules")
        .filter(|s| s.json["scheduleInfo"]["expiration"]["type"] == "afterDateTime")
        .find(|s| {
            !other_assignments.contains(&s.id().to_string()) && sim.tenant().get("roleAssignments", s.id()).is_some()
        })
        .expect("the tenant has a time-bound active assignment")
        .json
        .clone();
    let timebound_id = timebound["id"].as_str().unwrap().to_string();
    ok(c.delete(&format!("/v1.0/roleManagement/directory/roleAssignments/{timebound_id}")).await, "delete assignment");
    // PIM: three eligible assignments removed, one shortened (through schedule requests, as Graph
    // allows no other write), by principals the damage above leaves alone.
    let gone: HashSet<&String> = soft_users.iter().chain([&hard_user]).collect();
    let eligible: Vec<serde_json::Map<String, Value>> = sim
        .tenant()
        .objects("roleEligibilitySchedules")
        .filter(|s| s.json["memberType"] == "Direct" && s.json["roleDefinitionId"] != role.as_str())
        .filter(|s| s.json["principalId"].as_str().is_some_and(|p| !gone.contains(&p.to_string())))
        .take(4)
        .map(|s| s.json.clone())
        .collect();
    assert_eq!(eligible.len(), 4, "the tenant has eligible assignments");
    let request = |s: &serde_json::Map<String, Value>, action: &str| {
        let mut body = json!({"action": action, "principalId": s["principalId"], "roleDefinitionId": s["roleDefinitionId"],
            "directoryScopeId": s["directoryScopeId"], "justification": "drill"});
        if action == "adminUpdate" {
            body["scheduleInfo"] = json!({"startDateTime": "2026-01-01T00:00:00Z",
                "expiration": {"type": "afterDateTime", "endDateTime": "2099-01-01T00:00:00Z"}});
        }
        body
    };
    for s in &eligible[..3] {
        let r =
            c.post("/v1.0/roleManagement/directory/roleEligibilityScheduleRequests", &request(s, "adminRemove")).await;
        ok(r, "remove eligibility");
    }
    let lengthened = eligible[3]["id"].as_str().unwrap().to_string();
    let r = c
        .post("/v1.0/roleManagement/directory/roleEligibilityScheduleRequests", &request(&eligible[3], "adminUpdate"))
        .await;
    ok(r, "lengthen eligibility");
    // A named location and a security group that Conditional Access policies use.
    let policies: Vec<serde_json::Map<String, Value>> =
        sim.tenant().objects("conditionalAccessPolicies").map(|p| p.json.clone()).collect();
    let location = policies
        .iter()
        .flat_map(|p| {
            let l = &p["conditions"]["locations"];
            [l["includeLocations"].clone(), l["excludeLocations"].clone()]
        })
        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(String::from))
        .find(|v| v.len() == 36)
        .expect("a policy uses a named location");
    ok(c.delete(&format!("/v1.0/identity/conditionalAccess/namedLocations/{location}")).await, "delete location");
    let security: HashSet<String> = ids(&sim, "groups", plain_security).into_iter().collect();
    let ca_group = policies
        .iter()
        .flat_map(|p| {
            let u = &p["conditions"]["users"];
            [u["includeGroups"].clone(), u["excludeGroups"].clone()]
        })
        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(String::from))
        .find(|g| security.contains(g))
        .expect("a policy uses a security group");
    ok(c.delete(&format!("/v1.0/groups/{ca_group}")).await, "delete security group");
    // Intune assignments removed.
    let profiles: Vec<String> = sim
        .tenant()
        .objects("deviceConfigurations")
        .filter(|p| !p.children.get("assignments").is_none_or(|a| a.is_empty()))
        .take(2)
        .map(|p| p.id().to_string())
        .collect();
    assert!(!profiles.is_empty());
    for p in &profiles {
        ok(
            c.post(&format!("/v1.0/deviceManagement/deviceConfigurations/{p}/assign"), &json!({"assignments": []}))
                .await,
            "unassign",
        );
    }
    // Attributes of 20 users.
    let changed: Vec<String> = users.iter().skip(2).filter(|u| !soft_users.contains(u)).take(20).cloned().collect();
    for u in &changed {
        ok(
            c.patch(&format!("/v1.0/users/{u}"), &json!({"department": "Wrecked", "jobTitle": "Intern"})).await,
            "patch",
        );
    }
    // Memberships and owners removed.
    let mut unlinked = 0;
    let plain: Vec<String> = security.iter().filter(|g| **g != ca_group).take(4).cloned().collect();
    for g in &plain {
        let members: Vec<String> =
            sim.tenant().links("groups", g, "members").iter().take(3).map(|r| r.id.clone()).collect();
        for m in members {
            ok(c.delete(&format!("/v1.0/groups/{g}/members/{m}/$ref")).await, "remove member");
            unlinked += 1;
        }
        let owner = sim.tenant().links("groups", g, "owners").first().map(|r| r.id.clone());
        if let Some(o) = owner {
            ok(c.delete(&format!("/v1.0/groups/{g}/owners/{o}/$ref")).await, "remove owner");
            unlinked += 1;
        }
    }
    assert!(unlinked > 4);
    // Conditional Access policies disabled.
    let enabled: Vec<String> =
        policies.iter().filter(|p| p["state"] == "enabled").map(|p| p["id"].as_str().unwrap().to_string()).collect();
    for p in &enabled {
        ok(
            c.patch(&format!("/v1.0/identity/conditionalAccess/policies/{p}"), &json!({"state": "disabled"})).await,
            "disable",
        );
    }

    // A tenant-wide policy loosened.
    ok(
        c.patch(
            "/v1.0/policies/authorizationPolicy",
            &json!({"allowInvitesFrom": "everyone", "blockMsolPowerShell": false}),
        )
        .await,
        "loosen the authorization policy",
    );

    let damage = diff_now(&sim, &repo, &snapshot).await;
    assert!(damage.len() > 60, "the damage shows: {}", damage.len());

    // --- A dry run plans and writes nothing.
    let plan = run_restore(&sim, &repo, &snapshot, RestoreOptions { dry_run: true, ..RestoreOptions::default() }).await;
    assert_eq!(plan.summary.writes, 0);
    assert!(plan.summary.planned > 60, "{:?}", plan.summary);
    assert_eq!(diff_now(&sim, &repo, &snapshot).await.len(), damage.len(), "a dry run changed the tenant");

    // --- Restore the whole tenant.
    let report = run_restore(&sim, &repo, &snapshot, RestoreOptions::default()).await;
    let failed: Vec<_> = report.objects.iter().filter(|o| o.outcome == Outcome::Failed).collect();
    assert!(failed.is_empty(), "failed: {failed:#?}");
    let outcome: HashMap<&str, Outcome> = report
        .objects
        .iter()
        .filter(|o| !o.category.ends_with("Schedules"))
        .map(|o| (o.id.as_str(), o.outcome))
        .collect();
    for u in &soft_users {
        assert_eq!(outcome.get(u.as_str()), Some(&Outcome::Restored), "user {u}");
    }
    for g in &soft_groups {
        assert_eq!(outcome.get(g.as_str()), Some(&Outcome::Restored), "group {g}");
    }
    let recreated: Vec<&str> = [hard_user.as_str(), role.as_str(), location.as_str(), ca_group.as_str()]
        .into_iter()
        .chain(apps.iter().map(|a| a.0.as_str()))
        .chain(sps.iter().map(String::as_str))
        .chain(role_assignments.iter().chain(&other_assignments).map(String::as_str))
        .collect();
    for id in &recreated {
        assert_eq!(
            outcome.get(id),
            Some(&Outcome::Recreated),
            "{id}: {:?}",
            report.objects.iter().find(|o| o.id == *id)
        );
        assert!(report.id_map.contains_key(*id), "{id} has a new id");
    }
    // The time-bound assignment comes back through a schedule request, with its end, not as a
    // permanent assignment.
    assert_eq!(outcome.get(timebound_id.as_str()), Some(&Outcome::Recreated));
    let new = &report.id_map[&timebound_id];
    let schedules: Vec<serde_json::Map<String, Value>> = sim
        .tenant()
        .objects("roleAssignmentSchedules")
        .filter(|s| {
            s.json["principalId"] == timebound["principalId"]
                && s.json["roleDefinitionId"] == timebound["roleDefinitionId"]
        })
        .map(|s| s.json.clone())
        .collect();
    assert_eq!(schedules.len(), 1, "{schedules:#?}");
    assert_eq!(
        schedules[0]["scheduleInfo"]["expiration"]["endDateTime"],
        timebound["scheduleInfo"]["expiration"]["endDateTime"]
    );
    assert!(sim.tenant().get("roleAssignments", new).is_some());
    // The eligible assignments are requested again (new schedule ids), with the snapshot's end.
    for s in &eligible[..3] {
        let old = s["id"].as_str().unwrap();
        let o = report.objects.iter().find(|o| o.id == old).expect("a removed eligibility is reported");
        assert_eq!(
            (o.outcome, o.action),
            (Outcome::Recreated, Some(entra_backup::catalog::Strategy::Request)),
            "{o:?}"
        );
        let new = &report.id_map[old];
        let live = sim.tenant().get("roleEligibilitySchedules", new).expect("the new schedule exists").json.clone();
        assert_eq!(live["principalId"], s["principalId"]);
        assert_eq!(live["roleDefinitionId"], s["roleDefinitionId"]);
        let want = &s["scheduleInfo"]["expiration"];
        let have = &live["scheduleInfo"]["expiration"];
        assert_eq!(have["endDateTime"], want["endDateTime"], "ends when the snapshot's did");
    }
    let shortened = sim.tenant().get("roleEligibilitySchedules", &lengthened).unwrap().json.clone();
    assert_eq!(
        shortened["scheduleInfo"]["expiration"]["endDateTime"],
        eligible[3]["scheduleInfo"]["expiration"]["endDateTime"]
    );
    assert_eq!(report.passwords.len(), 1, "the recreated user got a password");
    assert!(!format!("{report:?}").contains(&report.passwords[0].password), "the password never reaches Debug");

    // The recreated security group is in the policies again, by its new id.
    let new_group = &report.id_map[&ca_group];
    let policy_uses = sim
        .tenant()
        .objects("conditionalAccessPolicies")
        .any(|p| serde_json::to_string(&p.json).unwrap().contains(new_group.as_str()));
    assert!(policy_uses, "policies reference the recreated group");
    let new_location = &report.id_map[&location];
    assert!(
        sim.tenant()
            .objects("conditionalAccessPolicies")
            .any(|p| serde_json::to_string(&p.json).unwrap().contains(new_location.as_str()))
    );
    // The singleton policy is as it was.
    let policy = sim.tenant().objects("authorizationPolicy").next().unwrap().json.clone();
    assert_eq!(
        (&policy["allowInvitesFrom"], &policy["blockMsolPowerShell"]),
        (&json!("adminsAndGuestInviters"), &json!(true))
    );
    assert!(
        report.objects.iter().any(|o| o.category == "authorizationPolicy"
            && o.action == Some(entra_backup::catalog::Strategy::SingletonPatch))
    );
    // The recreated user is back in its groups, and its reports' manager again.
    let new_user = &report.id_map[&hard_user];
    assert!(sim.tenant().held_by(new_user).len() >= sim.tenant().held_by(&hard_user).len());

    // --- The tenant is the snapshot again, but for what the report says cannot be restored.
    let left = diff_now(&sim, &repo, &snapshot).await;
    let second = run_restore(&sim, &repo, &snapshot, RestoreOptions::default()).await;
    let second_writes = second.summary.writes;
    let second_detail = format!(
        "{:#?}",
        second.objects.iter().filter(|o| !o.attributes.is_empty() || !o.links_added.is_empty()).collect::<Vec<_>>()
    );
    let mut explained: HashSet<(String, Option<String>)> = HashSet::new();
    for o in report.objects.iter().chain(&second.objects) {
        for n in &o.not_restorable {
            explained.insert((o.id.clone(), n.attribute.clone()));
        }
    }
    let mut unexplained = Vec::new();
    for d in &left {
        match d.kind {
            DiffKind::Changed => {
                for a in &d.attributes {
                    if !explained.contains(&(d.id.clone(), Some(a.attribute.clone()))) {
                        unexplained
                            .push(format!("{} {} {}: {:?} -> {:?}", d.category, d.id, a.attribute, a.before, a.after));
                    }
                }
            }
            DiffKind::Removed => {
                if !explained.contains(&(d.id.clone(), None)) {
                    unexplained.push(format!("{} {} removed", d.category, d.id));
                }
            }
            DiffKind::Added => unexplained.push(format!("{} {} added", d.category, d.id)),
        }
    }
    assert!(unexplained.is_empty(), "differences the report does not explain:\n{}", unexplained.join("\n"));
    assert_eq!(second_writes, 0, "a second restore writes nothing: {second_detail}");
    let mapped: BTreeSet<&str> = left.iter().filter(|d| d.new_id.is_some()).map(|d| d.id.as_str()).collect();
    assert!(mapped.iter().all(|id| report.id_map.contains_key(*id)));

    // --- One attribute of one user.
    let u = &changed[0];
    ok(c.patch(&format!("/v1.0/users/{u}"), &json!({"department": "Again", "jobTitle": "Again"})).await, "patch");
    let one =
        RestoreOptions { ids: vec![u.clone()], attributes: vec!["department".into()], ..RestoreOptions::default() };
    let r = run_restore(&sim, &repo, &snapshot, one).await;
    assert_eq!(r.summary.writes, 1);
    assert_eq!(r.objects.len(), 1);
    assert_eq!(r.objects[0].attributes, vec!["department".to_string()]);
    let snap = SnapshotSource::open(repo.clone(), &snapshot, false).await.unwrap();
    let before = snap.object(catalog::get("users").unwrap(), u).await.unwrap().unwrap();
    let now = sim.tenant().get("users", u).unwrap().json.clone();
    assert_eq!(now["department"], before["department"]);
    assert_eq!(now["jobTitle"], "Again", "only department was restored");
}
