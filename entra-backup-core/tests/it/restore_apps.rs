//! A restore through several app registrations: its writes are spread over the apps (counted per
//! client id by the simulated tenant, throttling on), none draws a 429, and the tenant ends as a
//! restore through one app leaves it. An extra app that cannot sign in stops the restore before any
//! write, with one error that names it.

use std::collections::BTreeSet;

use entra_backup::ErrorKind;
use entra_backup::api::{self, Connection, RestoreRequest};
use entra_backup::catalog::{self, Category};
use entra_backup::graph::auth::{ClientAuth, Credentials};
use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::Repository;
use entra_backup::repo::backend::Store;
use entra_backup::repo::crypto::KdfParams;
use entra_backup::restore::{Outcome, RestoreReport};
use entra_backup::sink::BackupOptions;
use entra_backup::source::SourceOptions;
use entra_backup::{Secret, init_crypto};
use entra_backup_sim::{SimConfig, SimServer};
use serde_json::Value;

use super::restore::pass;

const APPS: [(&str, &str); 3] = [("app-1", "secret-1"), ("app-2", "secret-2"), ("app-3", "secret-3")];

async fn tenant() -> SimServer {
    let own = |(id, secret): (&str, &str)| (id.to_string(), secret.to_string());
    SimServer::start(SimConfig {
        seed: 14,
        users: 400,
        groups: 60,
        throttle: true,
        credentials: Some(own(APPS[0])),
        extra_credentials: APPS[1..].iter().copied().map(own).collect(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn credentials(sim: &SimServer, (client_id, secret): (&str, &str)) -> Credentials {
    Credentials {
        tenant_id: sim.tenant_id(),
        client_id: client_id.into(),
        auth: ClientAuth::Secret(Secret::new(secret)),
        authority_host: None,
    }
}

fn connection(sim: &SimServer, extra: &[(&str, &str)]) -> Connection {
    extra
        .iter()
        .fold(Connection::from(credentials(sim, APPS[0])), |c, app| c.with_extra_app(credentials(sim, *app)))
        .with_graph_url(sim.url())
        .with_authority(sim.url())
}

fn scope() -> Vec<&'static Category> {
    vec![catalog::get("users").unwrap(), catalog::get("groups").unwrap()]
}

/// A backup of users and groups, then the damage: 300 users into the recycle bin and 6 groups
/// deleted for good.
async fn backed_up_and_damaged(sim: &SimServer) -> (Repository, String) {
    let repo = Repository::init(Store::memory(), &pass("pw"), Some(&pass("secrets")), KdfParams::fast_for_tests())
        .await
        .unwrap();
    let source = connection(sim, &[]).source(SourceOptions::default()).unwrap();
    let report =
        pipeline::backup(&source, &repo, BackupOptions::new(sim.tenant_id()), &Progress::new(&scope())).await.unwrap();
    assert!(report.summary.ok(), "{:#?}", report.summary);
    let http = reqwest::Client::new();
    for (category, count, hard) in [("users", 300, false), ("groups", 6, true)] {
        let url = format!("{}/_sim/delete?category={category}&count={count}&hard={hard}", sim.url());
        let v: Value = http.post(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["deleted"].as_array().unwrap().len(), count, "{v}");
    }
    (repo, report.snapshot_id)
}

/// What a restore did, object by object, and what the tenant holds after it: users by id, groups
/// (recreated with new ids) by name with their members' and owners' counts.
fn outcome(sim: &SimServer, report: &RestoreReport) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let done = report.objects.iter().map(|o| format!("{} {} {:?}", o.category, o.id, o.outcome)).collect();
    let t = sim.tenant();
    let users = t.objects("users").map(|o| o.id().to_string()).collect();
    let groups = t
        .objects("groups")
        .map(|o| {
            let name = o.json["displayName"].as_str().unwrap_or_default();
            format!("{name} members={} owners={}", o.links("members").len(), o.links("owners").len())
        })
        .collect();
    (done, users, groups)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_apps_share_the_writes_draw_no_429_and_restore_what_one_app_does() {
    init_crypto();
    let request = RestoreRequest::default().categories(scope());

    let one = tenant().await;
    let (repo, snapshot) = backed_up_and_damaged(&one).await;
    let report = api::restore(&connection(&one, &[]), repo, &snapshot, &request).await.unwrap();
    assert!(!report.failed(), "{:#?}", report.summary);
    let single = outcome(&one, &report);
    let usage = one.state().app_usage();
    assert_eq!(usage.keys().collect::<Vec<_>>(), ["app-1"], "{usage:?}");
    one.shutdown().await;

    let three = tenant().await;
    let (repo, snapshot) = backed_up_and_damaged(&three).await;
    let report = api::restore(&connection(&three, &APPS[1..]), repo, &snapshot, &request).await.unwrap();
    assert!(!report.failed(), "{:#?}", report.summary);
    assert!(report.objects.iter().filter(|o| o.outcome == Outcome::Restored).count() >= 300);
    let usage = three.state().app_usage();
    let writes: Vec<u64> = APPS.iter().map(|(id, _)| usage.get(*id).map_or(0, |u| u.writes)).collect();
    let all: u64 = writes.iter().sum();
    assert!(all >= 300, "{usage:?}");
    // Envelopes of twenty go to the apps in turn: each carries about a third.
    for w in &writes {
        assert!(*w >= all / 5, "{writes:?}");
    }
    assert_eq!(usage.values().map(|u| u.throttled).sum::<u64>(), 0, "{usage:?}");
    assert_eq!(outcome(&three, &report), single);
    three.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_app_that_cannot_sign_in_stops_the_restore_before_any_write() {
    init_crypto();
    let sim = tenant().await;
    let (repo, snapshot) = backed_up_and_damaged(&sim).await;
    let wrong = [APPS[1], ("app-3", "not-the-secret-3")];
    let request = RestoreRequest::default().categories(scope());
    let err = api::restore(&connection(&sim, &wrong), repo, &snapshot, &request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("app-3") && !msg.contains("not-the-secret-3"), "{msg}");
    let usage = sim.state().app_usage();
    assert_eq!(usage.values().map(|u| u.writes).sum::<u64>(), 0, "{usage:?}");
    sim.shutdown().await;
}
