//! The command-line tool as a user runs it: the catalog's JSON contract, permissions, `sim serve`,
//! and one clear message with a non-zero exit on bad input.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_entra-backup"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The categories of the design's table, and the fields the catalog promises for each.
const DESIGN: &[&str] = &[
    "users",
    "groups",
    "orgContacts",
    "devices",
    "administrativeUnits",
    "organization",
    "domains",
    "subscribedSkus",
    "applications",
    "servicePrincipals",
    "oauth2PermissionGrants",
    "directoryRoles",
    "roleDefinitions",
    "roleAssignments",
    "roleEligibilitySchedules",
    "roleAssignmentSchedules",
    "conditionalAccessPolicies",
    "namedLocations",
    "authenticationContextClassReferences",
    "authenticationMethodsPolicy",
    "authenticationMethodConfigurations",
    "authorizationPolicy",
    "crossTenantAccessPolicy",
    "customSecurityAttributeDefinitions",
    "attributeSets",
    "claimsMappingPolicies",
    "tokenLifetimePolicies",
    "tokenIssuancePolicies",
    "homeRealmDiscoveryPolicies",
    "permissionGrantPolicies",
    "adminConsentRequestPolicy",
    "appManagementPolicies",
    "defaultAppManagementPolicy",
    "featureRolloutPolicies",
    "activityBasedTimeoutPolicies",
    "identitySecurityDefaultsEnforcementPolicy",
    "bitlockerRecoveryKeys",
    "deviceConfigurations",
    "deviceCompliancePolicies",
    "configurationPolicies",
    "compliancePolicies",
    "directoryAudits",
    "signIns",
];
const FIELDS: &[&str] = &[
    "name",
    "path",
    "apiVersion",
    "entityType",
    "delta",
    "page",
    "relationships",
    "references",
    "permissions",
    "restore",
    "order",
    "throttle",
];

#[test]
fn categories_json_lists_every_design_category_with_every_field() {
    let (code, out, _) = run(&["categories", "--json"]);
    assert_eq!(code, 0);
    let cats: Vec<Value> = serde_json::from_str(&out).unwrap();
    for name in DESIGN {
        let c = cats.iter().find(|c| c["name"] == *name).unwrap_or_else(|| panic!("{name} missing"));
        for f in FIELDS {
            assert!(c.get(*f).is_some(), "{name} lacks {f}");
        }
        assert!(c["path"].as_str().unwrap().starts_with('/'), "{name}");
        assert!(c["page"]["max"].as_u64().unwrap() >= 1);
        assert!(c["restore"]["strategies"].is_array());
    }
    let users = cats.iter().find(|c| c["name"] == "users").unwrap();
    assert_eq!(users["path"], "/users");
    assert_eq!(users["page"]["max"], 999);
    let ca = cats.iter().find(|c| c["name"] == "conditionalAccessPolicies").unwrap();
    assert_eq!(ca["path"], "/identity/conditionalAccess/policies");
    assert_eq!(ca["throttle"], "conditionalAccess");
    assert!(ca["references"].as_array().unwrap().iter().any(|r| r["path"] == "conditions.users.includeGroups"));
    // Restore order: named locations before the CA policies that use them, users before groups.
    let order = |n: &str| cats.iter().find(|c| c["name"] == n).unwrap()["order"].as_u64().unwrap();
    assert!(order("namedLocations") < order("conditionalAccessPolicies"));
    assert!(order("users") < order("groups"));
    assert!(order("applications") < order("servicePrincipals"));
}

#[test]
fn permissions_for_a_scope_and_for_restore() {
    let (code, out, _) = run(&["permissions", "--categories", "users,groups"]);
    assert_eq!(code, 0);
    let read: Vec<&str> = out.lines().collect();
    assert_eq!(read, ["Group.Read.All", "User.Read.All"]);
    let (_, out, _) = run(&["permissions", "--categories", "users,groups", "--restore"]);
    let write: Vec<&str> = out.lines().collect();
    assert!(write.contains(&"User.ReadWrite.All") && write.contains(&"Group.ReadWrite.All"), "{write:?}");
    assert!(!write.contains(&"User.Read.All"), "ReadWrite covers Read: {write:?}");
}

#[test]
fn bad_input_gets_one_line_and_a_non_zero_exit() {
    for args in [
        &["permissions", "--categories", "users,nope"][..],
        &["sim", "serve", "--addr", "nonsense"],
        &["sim", "serve", "--faults", "2"],
        &["sim", "serve", "--throttle", "maybe"],
        // Once a panic deep in the time library (a timestamp 4294967295 days back).
        &["export", "--out", "unused", "--logs-days", "4294967295"],
        &["export", "--out", "unused", "--logs-days", "0"],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}: usage errors exit 2: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let (_, _, err) = run(&["permissions", "--categories", "nope"]);
    assert_eq!(err.trim(), "error: unknown category 'nope' (run `entra-backup categories` to list them)");
}

#[test]
fn sim_serve_prints_its_address_first_and_serves_graph() {
    let mut child = bin()
        .args(["sim", "serve", "--addr", "127.0.0.1:0", "--users", "30", "--groups", "5"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{first}")).to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    // Without a token, Graph says 401 in its own error format.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (status, body) = rt.block_on(async {
        entra_backup::init_crypto();
        let r = reqwest::get(format!("{url}/v1.0/users")).await.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    });
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
}

#[test]
fn a_reader_that_goes_away_is_no_panic() {
    // `entra-backup categories --json | head -1`: the pipe closes early.
    let mut child = bin().args(["categories", "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{err}");
}
