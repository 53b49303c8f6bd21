//! A restore does what it was asked or says why not: a scope that does not fit the snapshot is an
//! error naming the close matches (and writes nothing), and a recreated principal gets back the
//! roles PIM held for its old id.

use entra_backup::ErrorKind;
use entra_backup::Secret;
use entra_backup::catalog::{self, Category};
use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::backend::Store;
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::{Access, Repository};
use entra_backup::restore::{GraphRestorer, Outcome, RestoreOptions, RestoreReport, Restorer, restore};
use entra_backup::sink::BackupOptions;
use entra_backup::source::{GraphSource, SnapshotSource, SourceOptions};
use entra_backup_sim::{SimConfig, SimServer};
use serde_json::{Map, Value};

use common::graph::Client;
use common::sim_tenant::source;
use entra_backup_test_support as common;

const CATEGORIES: [&str; 5] = ["users", "groups", "roleDefinitions", "roleEligibilitySchedules", "roleAssignments"];

async fn snapshot_of(sim: &SimServer) -> (Repository, String) {
    let pass = |p: &str| Access::Passphrase(Secret::new(p));
    let repo =
        Repository::init(Store::memory(), &pass("data pw"), Some(&pass("secrets pw")), KdfParams::fast_for_tests())
            .await
            .unwrap();
    let src = source(sim, "any", SourceOptions::default());
    let cats = catalog::resolve(&CATEGORIES).unwrap();
    let report =
        pipeline::backup(&src, &repo, BackupOptions::new(sim.tenant_id()), &Progress::new(&cats)).await.unwrap();
    assert!(report.summary.ok(), "{:#?}", report.summary);
    (repo, report.snapshot_id)
}

/// Restore `options`; the answer, and the writes sent.
async fn try_restore(
    sim: &SimServer,
    repo: &Repository,
    snapshot: &str,
    options: RestoreOptions,
) -> (entra_backup::Result<RestoreReport>, u64) {
    let snap = SnapshotSource::open(repo.clone(), snapshot, false).await.unwrap();
    let live: GraphSource = source(sim, "any", SourceOptions::default());
    let restorer = GraphRestorer::new(live.client().clone());
    let answer = restore(&snap, &live, &restorer, &options).await;
    (answer, restorer.counts().0)
}

fn cat(name: &str) -> &'static Category {
    catalog::get(name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_the_snapshot_does_not_hold_is_an_error_naming_close_matches() {
    let sim = SimServer::start(SimConfig { seed: 3, users: 40, groups: 6, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let (repo, snapshot) = snapshot_of(&sim).await;
    let user =
        sim.tenant().objects("users").find(|u| u.json["onPremisesSyncEnabled"] != true).unwrap().id().to_string();
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let fails = |what: &str, options: RestoreOptions, expect: &[&str]| {
        let (sim, repo, snapshot) = (&sim, &repo, &snapshot);
        let (what, expect) = (what.to_string(), expect.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        async move {
            let (answer, writes) = try_restore(sim, repo, snapshot, options).await;
            let err = answer.err().unwrap_or_else(|| panic!("{what}: restore reported success"));
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}: {err}");
            let msg = err.to_string();
            for e in expect {
                assert!(msg.contains(&e), "{what}: {msg:?} names {e:?}");
            }
            assert!(!msg.contains('\n'), "{what}: one line: {msg:?}");
            assert_eq!(writes, 0, "{what}: nothing written");
        }
    };

    // A typo of an attribute's case: nothing would be patched.
    let typo = RestoreOptions { ids: ids(&[&user]), attributes: ids(&["jobtitle"]), ..RestoreOptions::default() };
    fails("attribute typo", typo, &["'jobtitle'", "did you mean 'jobTitle'"]).await;
    let unknown =
        RestoreOptions { categories: vec![cat("groups")], attributes: ids(&["colour"]), ..Default::default() };
    fails("unknown attribute", unknown, &["'colour'"]).await;
    // An id the snapshot does not hold, and one off by a character.
    fails("missing id", RestoreOptions { ids: ids(&["not-an-id"]), ..Default::default() }, &["'not-an-id'"]).await;
    let near = format!("{}x", &user[..user.len() - 1]);
    let near_opts = RestoreOptions { ids: vec![near.clone()], ..Default::default() };
    fails("near id", near_opts, &[&format!("did you mean '{user}'")]).await;
    // A user's id asked of groups.
    let other = RestoreOptions { categories: vec![cat("groups")], ids: ids(&[&user]), ..Default::default() };
    fails("id of another category", other, &["users object", &user]).await;
    // A category the snapshot does not hold.
    let absent = RestoreOptions { categories: vec![cat("conditionalAccessPolicies")], ..Default::default() };
    fails("category not in the snapshot", absent, &["'conditionalAccessPolicies'"]).await;
    // A line break in an id stays escaped on one line.
    fails("id with a newline", RestoreOptions { ids: ids(&["a\nERROR forged"]), ..Default::default() }, &["a\\nERROR"])
        .await;

    // What fits is restored (nothing differs, so nothing is written).
    let fine = RestoreOptions { ids: ids(&[&user]), attributes: ids(&["jobTitle"]), ..RestoreOptions::default() };
    let (answer, writes) = try_restore(&sim, &repo, &snapshot, fine).await;
    let report = answer.unwrap();
    assert!(!report.failed(), "{:#?}", report.objects);
    assert_eq!((report.summary.unchanged, writes), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_users_pim_eligibility_is_requested_again_for_its_new_id() {
    let sim = SimServer::start(SimConfig { seed: 9, users: 80, groups: 12, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    // A cloud-only user with a direct eligibility that does not end before the restore.
    let (user, eligibility): (String, Map<String, Value>) = {
        let t = sim.tenant();
        let now = jiff::Timestamp::now().to_string();
        t.objects("roleEligibilitySchedules")
            .filter(|s| s.json["memberType"] == "Direct")
            .filter(|s| {
                let end = &s.json["scheduleInfo"]["expiration"]["endDateTime"];
                end.is_null() || end.as_str().is_some_and(|e| *e > *now.as_str())
            })
            .find_map(|s| {
                let p = s.json["principalId"].as_str()?;
                let u = t.get("users", p).filter(|u| u.json["onPremisesSyncEnabled"] != true)?;
                Some((u.id().to_string(), s.json.clone()))
            })
            .expect("a cloud user holds an eligibility")
    };
    let old_schedule = eligibility["id"].as_str().unwrap().to_string();
    let (repo, snapshot) = snapshot_of(&sim).await;

    // The user is deleted for good: Entra ID takes its eligibility away with it.
    let c = Client::new(&sim).await;
    assert_eq!(c.delete(&format!("/v1.0/users/{user}")).await.0, 204);
    assert_eq!(c.delete(&format!("/v1.0/directory/deletedItems/{user}")).await.0, 204);
    assert!(sim.tenant().get("roleEligibilitySchedules", &old_schedule).is_none(), "a purged principal holds no role");

    let options = RestoreOptions {
        categories: vec![cat("users"), cat("roleEligibilitySchedules")],
        ids: vec![user.clone(), old_schedule.clone()],
        ..RestoreOptions::default()
    };
    let (answer, _) = try_restore(&sim, &repo, &snapshot, options).await;
    let report = answer.unwrap();
    assert!(!report.failed(), "{:#?}", report.objects);
    let new_user = report.id_map.get(&user).expect("the user was recreated").clone();
    assert_ne!(new_user, user);
    let o = report.objects.iter().find(|o| o.id == old_schedule).expect("the eligibility is reported");
    assert_eq!(o.outcome, Outcome::Recreated, "{o:#?}");
    let new_schedule = o.new_id.as_deref().expect("a new schedule id");
    let live =
        sim.tenant().get("roleEligibilitySchedules", new_schedule).expect("the new schedule exists").json.clone();
    assert_eq!(live["principalId"], Value::String(new_user.clone()), "requested for the new id");
    assert_eq!(live["roleDefinitionId"], eligibility["roleDefinitionId"]);
    assert_eq!(live["directoryScopeId"], eligibility["directoryScopeId"]);

    // A second run finds it and writes nothing.
    let again = RestoreOptions {
        categories: vec![cat("users"), cat("roleEligibilitySchedules")],
        ids: vec![user, old_schedule],
        ..RestoreOptions::default()
    };
    let (answer, writes) = try_restore(&sim, &repo, &snapshot, again).await;
    assert!(!answer.unwrap().failed());
    assert_eq!(writes, 0);
}
