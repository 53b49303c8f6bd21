//! The simulated tenant's write side behaves as Microsoft Graph does: creates, updates and deletes
//! with Graph's create rules and errors, `$ref` links, the directory recycle bin, delta after
//! writes, the identity write quota and writes inside `$batch`.

use common::graph::Client;
use entra_backup_test_support as common;

use std::time::Duration;

use entra_backup_sim::{SimConfig, SimServer};
use serde_json::{Value, json};

fn small() -> SimConfig {
    SimConfig { users: 80, groups: 30, throttle: false, ..SimConfig::default() }
}

/// A directoryObjects reference, as `$ref` and `@odata.bind` take it.
fn dir_ref(id: &str) -> Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")})
}

fn bind(id: &str) -> String {
    format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")
}

fn error(body: &Value) -> (&str, &str) {
    (body["error"]["code"].as_str().unwrap_or_default(), body["error"]["message"].as_str().unwrap_or_default())
}

/// The tenant's verified domain users sign in with, and one it has not verified.
fn domains(sim: &SimServer) -> (String, String) {
    let t = sim.tenant();
    let verified = t.objects("domains").find(|d| d.json["isVerified"] == true && d.json["isDefault"] == true);
    let unverified = t.objects("domains").find(|d| d.json["isVerified"] == false);
    (verified.unwrap().id().to_string(), unverified.unwrap().id().to_string())
}

fn new_user(name: &str, domain: &str) -> Value {
    json!({
        "accountEnabled": true,
        "displayName": name,
        "mailNickname": name,
        "userPrincipalName": format!("{name}@{domain}"),
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "xWwvJ]6NMw+bWH-d"},
    })
}

/// Ids of users and groups the tests use: cloud-only member users (those that manage nobody
/// first), a synced user, and groups by kind (a mail-enabled security group and a synced group are
/// made from plain security groups in the ground truth).
struct Picks {
    users: Vec<String>,
    synced_user: String,
    security_group: String,
    synced_group: String,
    dynamic_group: String,
    mail_enabled_security: String,
}

fn picks(sim: &SimServer) -> Picks {
    let mut t = sim.tenant_mut();
    let managers: std::collections::HashSet<String> =
        t.objects("users").flat_map(|u| u.links("manager").iter().map(|r| r.id.clone()).collect::<Vec<_>>()).collect();
    let mut users: Vec<String> = t
        .objects("users")
        .filter(|u| u.json["onPremisesSyncEnabled"] != true && u.json["userType"] == "Member")
        .map(|u| u.id().to_string())
        .collect();
    users.sort_by_key(|u| managers.contains(u));
    let synced_user = t.objects("users").find(|u| u.json["onPremisesSyncEnabled"] == true).unwrap().id().to_string();
    let types = |g: &serde_json::Map<String, Value>| g["groupTypes"].as_array().cloned().unwrap_or_default();
    let half = t.count("users") / 2;
    let plain: Vec<String> = t
        .objects("groups")
        .filter(|g| {
            g.json["securityEnabled"] == true
                && g.json["mailEnabled"] == false
                && types(&g.json).is_empty()
                && g.json["onPremisesSyncEnabled"] != true
                && g.json["isAssignableToRole"] != true
                && g.links("members").len() < half
        })
        .map(|g| g.id().to_string())
        .collect();
    assert!(plain.len() >= 3, "the tenant has plain security groups");
    let dynamic_group =
        t.objects("groups").find(|g| types(&g.json).iter().any(|x| x == "DynamicMembership")).unwrap().id().to_string();
    let mut set = |id: &str, k: &str, v: Value| {
        let mut m = serde_json::Map::new();
        m.insert(k.into(), v);
        t.patch("groups", id, &m).unwrap();
    };
    set(&plain[1], "mailEnabled", json!(true));
    set(&plain[2], "onPremisesSyncEnabled", json!(true));
    Picks {
        users,
        synced_user,
        security_group: plain[0].clone(),
        mail_enabled_security: plain[1].clone(),
        synced_group: plain[2].clone(),
        dynamic_group,
    }
}

/// A cloud-only user who is not a member of the group.
fn outsider(sim: &SimServer, p: &Picks, group: &str) -> String {
    let t = sim.tenant();
    let members = t.links("groups", group, "members");
    p.users.iter().find(|u| !members.iter().any(|m| &m.id == *u)).unwrap().clone()
}

#[tokio::test]
async fn users_are_created_updated_and_deleted_by_graphs_rules() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let (domain, unverified) = domains(&sim);
    let p = picks(&sim);

    // Create: 201 with a new id (a given id is ignored), Graph's default properties.
    let mut body = new_user("adele.vance", &domain);
    body["id"] = json!("00000000-0000-0000-0000-000000000001");
    body["jobTitle"] = json!("Product Marketing Manager");
    let (status, _, user) = c.post("/v1.0/users", &body).await;
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap().to_string();
    assert_ne!(id, "00000000-0000-0000-0000-000000000001");
    assert_eq!(user["userPrincipalName"], format!("adele.vance@{domain}"));
    assert_eq!(user["jobTitle"], "Product Marketing Manager");
    assert!(user["@odata.context"].as_str().unwrap().ends_with("/v1.0/$metadata#users/$entity"));
    assert!(user.get("accountEnabled").is_none(), "only the default properties: {user}");
    // The password is never returned; the stored object is true to the schema.
    let (_, _, read) = c.get(&format!("/v1.0/users/{id}?$select=accountEnabled,passwordProfile,createdDateTime")).await;
    assert_eq!(read["accountEnabled"], true);
    assert_eq!(read["passwordProfile"], Value::Null);
    assert!(read["createdDateTime"].is_string());
    let stored = Value::Object(sim.tenant().get("users", &id).unwrap().json.clone());
    assert!(!stored.to_string().contains("xWwvJ"), "the password is not kept");
    let violations = common::csdl::check_value("microsoft.graph.user", &stored);
    assert!(violations.is_empty(), "{violations:#?}");

    // Each required property, with Graph's message.
    for missing in ["accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"] {
        let mut b = new_user("x.required", &domain);
        b.as_object_mut().unwrap().remove(missing);
        let (status, _, e) = c.post("/v1.0/users", &b).await;
        assert_eq!(status, 400, "{missing}: {e}");
        assert_eq!(
            error(&e),
            (
                "Request_BadRequest",
                format!("A value is required for property '{missing}' of resource 'User'.").as_str()
            )
        );
    }
    let (status, _, e) = c.post("/v1.0/users", &new_user("x.domain", &unverified)).await;
    assert_eq!(status, 400);
    assert_eq!(
        error(&e).1,
        "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain \
         names in your organization."
    );
    let (status, _, e) = c.post("/v1.0/users", &new_user("adele.vance", &domain)).await;
    assert_eq!(status, 400);
    assert_eq!(error(&e).1, "Another object with the same value for property userPrincipalName already exists.");
    let mut b = new_user("x.unknown", &domain);
    b["shoeSize"] = json!(44);
    let (status, _, e) = c.post("/v1.0/users", &b).await;
    assert_eq!(status, 400);
    assert_eq!(error(&e).1, "Property 'shoeSize' does not exist as a declared property or extension property.");
    let mut b = new_user("x.readonly", &domain);
    b["createdDateTime"] = json!("2020-01-01T00:00:00Z");
    assert_eq!(c.post("/v1.0/users", &b).await.0, 400);
    let (status, _, e) = c.post("/v1.0/users", &json!({})).await;
    assert_eq!((status, error(&e).1), (400, "Empty Payload. JSON content expected."));

    // Update: 204, then reads see it; unknown ids 404; unknown properties 400.
    let (status, _, body) = c.patch(&format!("/v1.0/users/{id}"), &json!({"department": "Drills"})).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(c.get(&format!("/v1.0/users/{id}?$select=department")).await.2["department"], "Drills");
    let (status, _, e) = c.patch("/v1.0/users/00000000-0000-0000-0000-000000000000", &json!({"department": "x"})).await;
    assert_eq!((status, error(&e).0), (404, "Request_ResourceNotFound"));
    assert_eq!(c.patch(&format!("/v1.0/users/{id}"), &json!({"shoeSize": 1})).await.0, 400);
    let (status, _, e) =
        c.patch(&format!("/v1.0/users/{id}"), &json!({"userPrincipalName": format!("x@{unverified}")})).await;
    assert_eq!(status, 400, "{e}");
    // A password change is accepted and never shows.
    let (status, _, _) =
        c.patch(&format!("/v1.0/users/{id}"), &json!({"passwordProfile": {"password": "N3w-Passw0rd!"}})).await;
    assert_eq!(status, 204);

    // A user synced from on-premises refuses synced attributes (and deletion), not cloud ones.
    let synced = &p.synced_user;
    let (status, _, e) = c.patch(&format!("/v1.0/users/{synced}"), &json!({"displayName": "Renamed"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        error(&e),
        (
            "Request_BadRequest",
            "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects \
             currently undergoing migration."
        )
    );
    assert_eq!(c.patch(&format!("/v1.0/users/{synced}"), &json!({"usageLocation": "FR"})).await.0, 204);
    assert_eq!(c.delete(&format!("/v1.0/users/{synced}")).await.0, 400);

    // Delete: 204, then 404.
    assert_eq!(c.delete(&format!("/v1.0/users/{id}")).await.0, 204);
    assert_eq!(c.get(&format!("/v1.0/users/{id}")).await.0, 404);
    assert_eq!(c.delete(&format!("/v1.0/users/{id}")).await.0, 404);
    // Reads of a collection nobody creates through Graph: 405; devices refuse applications.
    assert_eq!(c.post("/v1.0/subscribedSkus", &json!({"skuId": "x"})).await.0, 405);
    assert_eq!(c.post("/v1.0/devices", &json!({"displayName": "x"})).await.0, 403);
}

#[tokio::test]
async fn groups_follow_the_create_rules_and_links_are_added_and_removed() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let p = picks(&sim);
    let u = &p.users;

    // A security group with an owner and members bound on create.
    let (status, _, g) = c
        .post(
            "/v1.0/groups",
            &json!({
                "displayName": "Operations group", "mailEnabled": false, "mailNickname": "operations2019",
                "securityEnabled": true, "groupTypes": [],
                "owners@odata.bind": [bind(&u[0])],
                "members@odata.bind": [bind(&u[1]), bind(&u[2])],
            }),
        )
        .await;
    assert_eq!(status, 201, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    assert!(g["securityIdentifier"].as_str().unwrap().starts_with("S-1-12-1-"));
    let (members, _, _) = c.all(&format!("/v1.0/groups/{gid}/members?$select=id")).await;
    assert_eq!(members.len(), 2);
    assert_eq!(c.all(&format!("/v1.0/groups/{gid}/owners")).await.0.len(), 1);
    let stored = Value::Object(sim.tenant().get("groups", &gid).unwrap().json.clone());
    let violations = common::csdl::check_value("microsoft.graph.group", &stored);
    assert!(violations.is_empty(), "{violations:#?}");

    // Mail-enabled security groups and distribution lists cannot be made through Graph.
    for (security, name) in [(true, "mesg"), (false, "dl")] {
        let (status, _, e) = c
            .post(
                "/v1.0/groups",
                &json!({"displayName": name, "mailEnabled": true, "mailNickname": name, "securityEnabled": security}),
            )
            .await;
        assert_eq!(status, 400);
        assert_eq!(error(&e).1, "Cannot Create a mail-enabled security groups and or distribution list.");
    }
    // Microsoft 365 groups need a mail nickname, unique among them.
    let m365 = |nick: Option<&str>| {
        let mut b = json!({"displayName": "Library Assist", "groupTypes": ["Unified"], "mailEnabled": true,
                           "securityEnabled": false});
        if let Some(n) = nick {
            b["mailNickname"] = json!(n);
        }
        b
    };
    let (status, _, e) = c.post("/v1.0/groups", &m365(None)).await;
    assert_eq!((status, error(&e).1), (400, "A value is required for property 'mailNickname' of resource 'Group'."));
    let (status, _, lib) = c.post("/v1.0/groups", &m365(Some("library"))).await;
    assert_eq!(status, 201);
    assert_eq!(lib["mail"].as_str().unwrap().split('@').next(), Some("library"));
    assert_eq!(lib["visibility"], "Public");
    let (status, _, e) = c.post("/v1.0/groups", &m365(Some("library"))).await;
    assert_eq!(
        (status, error(&e).1),
        (400, "Another object with the same value for property mailNickname already exists.")
    );

    // At most 20 links bound in one request, members and owners together.
    let binds: Vec<String> = u.iter().take(21).map(|id| bind(id)).collect();
    let sec = |n: &str, members: &[String]| {
        json!({"displayName": n, "mailEnabled": false, "mailNickname": n, "securityEnabled": true,
               "members@odata.bind": members})
    };
    let (status, _, e) = c.post("/v1.0/groups", &sec("big21", &binds)).await;
    assert_eq!((status, error(&e).1), (400, "A resource cannot contain more than 20 link changes."));
    assert_eq!(c.post("/v1.0/groups", &sec("big20", &binds[..20])).await.0, 201);
    let (status, _, e) = c.post("/v1.0/groups", &sec("ghost", &[bind("00000000-0000-0000-0000-00000000dead")])).await;
    assert_eq!((status, error(&e).0), (404, "Request_ResourceNotFound"));

    // $ref: add, duplicate, missing target, remove, remove again.
    let members_ref = format!("/v1.0/groups/{gid}/members/$ref");
    let (status, _, body) = c.post(&members_ref, &dir_ref(&u[3])).await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, _, e) = c.post(&members_ref, &dir_ref(&u[3])).await;
    assert_eq!(status, 400);
    assert_eq!(
        error(&e),
        (
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'members'."
        )
    );
    assert_eq!(c.post(&members_ref, &dir_ref("00000000-0000-0000-0000-00000000dead")).await.0, 404);
    assert_eq!(c.post(&format!("/v1.0/groups/{gid}/owners/$ref"), &dir_ref(&u[4])).await.0, 204);
    assert_eq!(c.all(&format!("/v1.0/groups/{gid}/members")).await.0.len(), 3);
    assert_eq!(c.delete(&format!("/v1.0/groups/{gid}/members/{}/$ref", u[3])).await.0, 204);
    assert_eq!(c.delete(&format!("/v1.0/groups/{gid}/members/{}/$ref", u[3])).await.0, 404);
    assert_eq!(c.all(&format!("/v1.0/groups/{gid}/members")).await.0.len(), 2);
    // PATCH with members@odata.bind adds members too.
    let (status, _, _) =
        c.patch(&format!("/v1.0/groups/{gid}"), &json!({"members@odata.bind": [bind(&u[5]), bind(&u[6])]})).await;
    assert_eq!(status, 204);
    assert_eq!(c.all(&format!("/v1.0/groups/{gid}/members")).await.0.len(), 4);

    // Dynamic, synced and mail-enabled groups refuse membership changes.
    assert_eq!(c.post(&format!("/v1.0/groups/{}/members/$ref", p.dynamic_group), &dir_ref(&u[7])).await.0, 403);
    let (status, _, e) = c.post(&format!("/v1.0/groups/{}/members/$ref", p.synced_group), &dir_ref(&u[7])).await;
    assert_eq!(status, 400);
    assert!(error(&e).1.starts_with("Unable to update the specified properties for on-premises mastered"));
    assert_eq!(c.post(&format!("/v1.0/groups/{}/members/$ref", p.mail_enabled_security), &dir_ref(&u[7])).await.0, 400);
    assert_eq!(c.patch(&format!("/v1.0/groups/{}", p.synced_group), &json!({"description": "x"})).await.0, 400);

    // Administrative units and directory roles take member references; device owners do not.
    let (au, role, device) = {
        let t = sim.tenant();
        let au =
            t.objects("administrativeUnits").find(|a| a.json["membershipType"] != "Dynamic").unwrap().id().to_string();
        (
            au,
            t.objects("directoryRoles").next().unwrap().id().to_string(),
            t.objects("devices").next().unwrap().id().to_string(),
        )
    };
    for coll in [format!("directory/administrativeUnits/{au}"), format!("directoryRoles/{role}")] {
        assert_eq!(c.post(&format!("/v1.0/{coll}/members/$ref"), &dir_ref(&u[8])).await.0, 204, "{coll}");
        assert_eq!(c.post(&format!("/v1.0/{coll}/members/$ref"), &dir_ref(&u[8])).await.0, 400, "{coll}");
        assert_eq!(c.delete(&format!("/v1.0/{coll}/members/{}/$ref", u[8])).await.0, 204, "{coll}");
    }
    assert_eq!(c.post(&format!("/v1.0/devices/{device}/registeredOwners/$ref"), &dir_ref(&u[8])).await.0, 403);

    // A user's manager: PUT replaces, DELETE removes, a second DELETE finds none.
    let manager_ref = format!("/v1.0/users/{}/manager/$ref", u[9]);
    assert_eq!(c.put(&manager_ref, &dir_ref(&u[10])).await.0, 204);
    assert_eq!(c.get(&format!("/v1.0/users/{}/manager", u[9])).await.2["id"], u[10].as_str());
    assert_eq!(c.post(&manager_ref, &dir_ref(&u[10])).await.0, 405);
    assert_eq!(c.delete(&manager_ref).await.0, 204);
    assert_eq!(c.get(&format!("/v1.0/users/{}/manager", u[9])).await.0, 404);
    assert_eq!(c.delete(&manager_ref).await.0, 404);

    // A security group deleted is gone for good: not in the recycle bin.
    assert_eq!(c.delete(&format!("/v1.0/groups/{gid}")).await.0, 204);
    assert_eq!(c.get(&format!("/v1.0/directory/deletedItems/{gid}")).await.0, 404);
    assert_eq!(c.post(&format!("/v1.0/directory/deletedItems/{gid}/restore"), &json!({})).await.0, 404);
}

#[tokio::test]
async fn applications_service_principals_and_conditional_access_objects() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;

    let (status, _, app) = c.post("/v1.0/applications", &json!({"displayName": "Restore test app"})).await;
    assert_eq!(status, 201, "{app}");
    let app_id = app["appId"].as_str().unwrap().to_string();
    let app_oid = app["id"].as_str().unwrap().to_string();
    assert_ne!(app_id, app_oid);
    assert_eq!(app["signInAudience"], "AzureADMyOrg");
    let stored = Value::Object(sim.tenant().get("applications", &app_oid).unwrap().json.clone());
    let violations = common::csdl::check_value("microsoft.graph.application", &stored);
    assert!(violations.is_empty(), "{violations:#?}");
    assert_eq!(c.patch(&format!("/v1.0/applications/{app_oid}"), &json!({"notes": "restored"})).await.0, 204);
    let (status, _, e) = c.patch(&format!("/v1.0/applications/{app_oid}"), &json!({"appId": "x"})).await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(c.post("/v1.0/applications", &json!({"notes": "no name"})).await.0, 400);

    let (status, _, sp) = c.post("/v1.0/servicePrincipals", &json!({"appId": app_id})).await;
    assert_eq!(status, 201, "{sp}");
    assert_eq!(sp["displayName"], "Restore test app");
    let (status, _, e) = c.post("/v1.0/servicePrincipals", &json!({"appId": app_id})).await;
    assert_eq!((status, error(&e).0), (409, "Request_MultipleObjectsWithSameKeyValue"));

    // A Conditional Access policy.
    let policy = json!({
        "displayName": "Access to EXO requires MFA",
        "state": "enabledForReportingButNotEnforced",
        "conditions": {
            "clientAppTypes": ["mobileAppsAndDesktopClients", "browser"],
            "applications": {"includeApplications": ["00000002-0000-0ff1-ce00-000000000000"]},
            "users": {"includeUsers": ["All"]}
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
    });
    let (status, _, ca) = c.post("/v1.0/identity/conditionalAccess/policies", &policy).await;
    assert_eq!(status, 201, "{ca}");
    let ca_id = ca["id"].as_str().unwrap().to_string();
    assert!(ca["createdDateTime"].is_string());
    assert_eq!(ca["modifiedDateTime"], Value::Null);
    let path = format!("/v1.0/identity/conditionalAccess/policies/{ca_id}");
    assert_eq!(c.patch(&path, &json!({"state": "disabled"})).await.0, 204);
    let (_, _, read) = c.get(&path).await;
    assert_eq!(read["state"], "disabled");
    assert!(read["modifiedDateTime"].is_string());
    assert_eq!(c.patch(&path, &json!({"nonsense": true})).await.0, 400);
    assert_eq!(c.delete(&path).await.0, 204);
    assert_eq!(c.get(&path).await.0, 404);
    assert_eq!(
        c.get(&format!("/v1.0/directory/deletedItems/{ca_id}")).await.0,
        404,
        "not a directory recycle-bin type"
    );

    // A named location: the derived type is required on create and on update.
    let ip = json!({
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "displayName": "Untrusted IP named location",
        "isTrusted": false,
        "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"}]
    });
    let mut untyped = ip.clone();
    untyped.as_object_mut().unwrap().remove("@odata.type");
    assert_eq!(c.post("/v1.0/identity/conditionalAccess/namedLocations", &untyped).await.0, 400);
    let (status, _, loc) = c.post("/v1.0/identity/conditionalAccess/namedLocations", &ip).await;
    assert_eq!(status, 201, "{loc}");
    assert_eq!(loc["@odata.type"], "#microsoft.graph.ipNamedLocation");
    let created = loc["modifiedDateTime"].clone();
    assert_eq!(created, loc["createdDateTime"]);
    let path = format!("/v1.0/identity/conditionalAccess/namedLocations/{}", loc["id"].as_str().unwrap());
    assert_eq!(c.patch(&path, &json!({"displayName": "Trusted"})).await.0, 400, "@odata.type is required");
    sim.state().clock.advance(Duration::from_secs(60));
    let (status, _, _) =
        c.patch(&path, &json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": true})).await;
    assert_eq!(status, 204);
    let (_, _, read) = c.get(&path).await;
    assert_eq!(read["isTrusted"], true);
    assert_ne!(read["modifiedDateTime"], created);
    let violations = common::csdl::check_response("microsoft.graph.namedLocation", &read);
    assert!(violations.is_empty(), "{violations:#?}");
    assert_eq!(c.delete(&path).await.0, 204);
    assert_eq!(c.get(&path).await.0, 404);

    // A singleton policy is patched at its fixed path.
    let (status, _, _) =
        c.patch("/v1.0/policies/authorizationPolicy", &json!({"allowInvitesFrom": "adminsAndGuestInviters"})).await;
    assert_eq!(status, 204);
    assert_eq!(c.get("/v1.0/policies/authorizationPolicy").await.2["allowInvitesFrom"], "adminsAndGuestInviters");
}

#[tokio::test]
async fn the_recycle_bin_restores_with_the_same_id_and_forgets_after_30_days() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let (domain, _) = domains(&sim);
    let p = picks(&sim);

    // A user with a manager, a membership and a direct report.
    let (_, _, user) = c.post("/v1.0/users", &new_user("soft.deleted", &domain)).await;
    let id = user["id"].as_str().unwrap().to_string();
    let group = &p.security_group;
    assert_eq!(c.post(&format!("/v1.0/groups/{group}/members/$ref"), &dir_ref(&id)).await.0, 204);
    assert_eq!(c.put(&format!("/v1.0/users/{id}/manager/$ref"), &dir_ref(&p.users[0])).await.0, 204);
    assert_eq!(c.put(&format!("/v1.0/users/{}/manager/$ref", p.users[1]), &dir_ref(&id)).await.0, 204);

    assert_eq!(c.delete(&format!("/v1.0/users/{id}")).await.0, 204);
    assert_eq!(c.get(&format!("/v1.0/users/{id}")).await.0, 404);
    let (members, _, _) = c.all(&format!("/v1.0/groups/{group}/members?$select=id")).await;
    assert!(members.iter().all(|m| m["id"] != id.as_str()), "a deleted user leaves its groups");
    let (deleted, _, _) =
        c.all("/v1.0/directory/deletedItems/microsoft.graph.user?$select=id,displayName,deletedDateTime").await;
    let item = deleted.iter().find(|d| d["id"] == id.as_str()).expect("in the recycle bin");
    assert!(item["deletedDateTime"].is_string());
    let (status, _, one) = c.get(&format!("/v1.0/directory/deletedItems/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["@odata.type"], "#microsoft.graph.user");
    assert_eq!(c.get("/v1.0/directory/deletedItems").await.0, 400, "the type cast is required");
    // Its name may be given to another user; it cannot come back while that one holds it.
    let (status, _, other) = c.post("/v1.0/users", &new_user("soft.deleted", &domain)).await;
    assert_eq!(status, 201, "{other}");
    let (status, _, e) = c.post(&format!("/v1.0/directory/deletedItems/{id}/restore"), &json!({})).await;
    assert_eq!(
        (status, error(&e).1),
        (400, "Another object with the same value for property userPrincipalName already exists.")
    );
    let other = other["id"].as_str().unwrap();
    assert_eq!(
        c.patch(&format!("/v1.0/users/{other}"), &json!({"userPrincipalName": format!("renamed@{domain}")})).await.0,
        204
    );

    // Restore: 200 with the object, the same id, its links back.
    let (status, _, back) = c.post(&format!("/v1.0/directory/deletedItems/{id}/restore"), &json!({})).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["id"], id.as_str());
    assert_eq!(back["@odata.type"], "#microsoft.graph.user");
    let (status, _, read) = c.get(&format!("/v1.0/users/{id}?$select=id,deletedDateTime")).await;
    assert_eq!((status, read["deletedDateTime"].clone()), (200, Value::Null));
    let (members, _, _) = c.all(&format!("/v1.0/groups/{group}/members?$select=id")).await;
    assert!(members.iter().any(|m| m["id"] == id.as_str()), "its group membership is back");
    assert_eq!(c.get(&format!("/v1.0/users/{id}/manager")).await.2["id"], p.users[0].as_str());
    assert_eq!(c.get(&format!("/v1.0/users/{}/manager", p.users[1])).await.2["id"], id.as_str());
    assert_eq!(c.get(&format!("/v1.0/directory/deletedItems/{id}")).await.0, 404);

    // A Microsoft 365 group waits in the bin; a security group does not.
    let (_, _, m365) = c
        .post(
            "/v1.0/groups",
            &json!({"displayName": "Soft group", "groupTypes": ["Unified"], "mailEnabled": true,
                    "mailNickname": "softgroup", "securityEnabled": false, "members@odata.bind": [bind(&p.users[2])]}),
        )
        .await;
    let m365 = m365["id"].as_str().unwrap().to_string();
    assert_eq!(c.delete(&format!("/v1.0/groups/{m365}")).await.0, 204);
    let (groups, _, _) = c.all("/v1.0/directory/deletedItems/microsoft.graph.group").await;
    assert!(groups.iter().any(|g| g["id"] == m365.as_str()));
    assert_eq!(c.post(&format!("/v1.0/directory/deletedItems/{m365}/restore"), &json!({})).await.0, 200);
    assert_eq!(c.all(&format!("/v1.0/groups/{m365}/members")).await.0.len(), 1, "its members come back");
    assert_eq!(c.delete(&format!("/v1.0/groups/{group}")).await.0, 204);
    assert_eq!(c.get(&format!("/v1.0/directory/deletedItems/{group}")).await.0, 404);

    // An application takes its service principal to the bin; restoring the app leaves it there.
    let (_, _, app) = c.post("/v1.0/applications", &json!({"displayName": "Binned app"})).await;
    let app_oid = app["id"].as_str().unwrap().to_string();
    let (_, _, sp) = c.post("/v1.0/servicePrincipals", &json!({"appId": app["appId"]})).await;
    let sp_id = sp["id"].as_str().unwrap().to_string();
    assert_eq!(c.delete(&format!("/v1.0/applications/{app_oid}")).await.0, 204);
    assert_eq!(c.get(&format!("/v1.0/servicePrincipals/{sp_id}")).await.0, 404);
    let (sps, _, _) = c.all("/v1.0/directory/deletedItems/microsoft.graph.servicePrincipal").await;
    assert!(sps.iter().any(|s| s["id"] == sp_id.as_str()));
    assert_eq!(c.post(&format!("/v1.0/directory/deletedItems/{app_oid}/restore"), &json!({})).await.0, 200);
    assert_eq!(c.get(&format!("/v1.0/applications/{app_oid}")).await.0, 200);
    assert_eq!(c.get(&format!("/v1.0/servicePrincipals/{sp_id}")).await.0, 404);
    assert_eq!(c.get(&format!("/v1.0/directory/deletedItems/{sp_id}")).await.0, 200);

    // Hard delete from the bin is final.
    assert_eq!(c.delete(&format!("/v1.0/directory/deletedItems/{sp_id}")).await.0, 204);
    assert_eq!(c.get(&format!("/v1.0/directory/deletedItems/{sp_id}")).await.0, 404);
    assert_eq!(c.post(&format!("/v1.0/directory/deletedItems/{sp_id}/restore"), &json!({})).await.0, 404);

    // 30 days later the bin has forgotten.
    assert_eq!(c.delete(&format!("/v1.0/users/{id}")).await.0, 204);
    sim.state().clock.advance(Duration::from_secs(29 * 24 * 3600));
    assert_eq!(c.get(&format!("/v1.0/directory/deletedItems/{id}")).await.0, 200);
    sim.state().clock.advance(Duration::from_secs(2 * 24 * 3600));
    assert_eq!(c.get(&format!("/v1.0/directory/deletedItems/{id}")).await.0, 404);
    assert_eq!(c.post(&format!("/v1.0/directory/deletedItems/{id}/restore"), &json!({})).await.0, 404);
    assert!(sim.tenant().deleted_item(&id).is_none());
    // Its name is free again.
    assert_eq!(c.post("/v1.0/users", &new_user("soft.deleted", &domain)).await.0, 201);
}

#[tokio::test]
async fn delta_reports_exactly_the_writes() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let (domain, _) = domains(&sim);
    let p = picks(&sim);
    let (_, _, last) = c.all("/v1.0/users/delta?$select=displayName,jobTitle").await;
    let users_link = last["@odata.deltaLink"].as_str().unwrap().to_string();
    let (_, _, last) = c.all("/v1.0/groups/delta?$select=displayName,members").await;
    let groups_link = last["@odata.deltaLink"].as_str().unwrap().to_string();

    let (_, _, created) = c.post("/v1.0/users", &new_user("delta.new", &domain)).await;
    let created = created["id"].as_str().unwrap().to_string();
    let (updated, soft, purged) = (&p.users[0], &p.users[1], &p.users[2]);
    assert_eq!(c.patch(&format!("/v1.0/users/{updated}"), &json!({"jobTitle": "Delta tester"})).await.0, 204);
    assert_eq!(c.delete(&format!("/v1.0/users/{soft}")).await.0, 204);
    assert_eq!(c.delete(&format!("/v1.0/users/{purged}")).await.0, 204);
    assert_eq!(c.delete(&format!("/v1.0/directory/deletedItems/{purged}")).await.0, 204);

    let (items, _, _) = c.all(&users_link).await;
    let by = |id: &str| items.iter().find(|i| i["id"] == id).unwrap_or_else(|| panic!("{id} missing: {items:#?}"));
    assert_eq!(items.len(), 4, "{items:#?}");
    assert_eq!(by(&created)["displayName"], "delta.new");
    let upd = by(updated).as_object().unwrap();
    assert_eq!(upd.keys().collect::<Vec<_>>(), ["id", "jobTitle"], "only the changed property");
    assert_eq!(by(soft)["@removed"]["reason"], "changed");
    assert_eq!(by(purged)["@removed"]["reason"], "deleted");

    // Groups: the group the soft-deleted users left, a link added, a new group, a deleted one.
    let (target, gone) = (&p.security_group, &p.dynamic_group);
    let (members_before, _, _) = c.all(&format!("/v1.0/groups/{target}/members?$select=id")).await;
    assert_eq!(c.post(&format!("/v1.0/groups/{target}/members/$ref"), &dir_ref(&created)).await.0, 204);
    let (_, _, g) = c
        .post(
            "/v1.0/groups",
            &json!({"displayName": "Delta group", "mailEnabled": false, "mailNickname": "dg", "securityEnabled": true}),
        )
        .await;
    let new_group = g["id"].as_str().unwrap().to_string();
    assert_eq!(c.delete(&format!("/v1.0/groups/{gone}")).await.0, 204);
    let (items, _, _) = c.all(&groups_link).await;
    let by = |id: &str| items.iter().find(|i| i["id"] == id);
    assert_eq!(by(&new_group).unwrap()["displayName"], "Delta group");
    assert_eq!(by(gone).unwrap()["@removed"]["reason"], "deleted");
    let changes = by(target).unwrap()["members@delta"].as_array().unwrap();
    assert!(changes.iter().any(|m| m["id"] == created.as_str() && m.get("@removed").is_none()));
    // Every other group reported lost a member to the user deletions.
    let left: Vec<&str> = [soft.as_str(), purged.as_str()].into();
    for i in &items {
        let id = i["id"].as_str().unwrap();
        if id == new_group || id == *gone || id == *target {
            continue;
        }
        let removed = i["members@delta"].as_array().cloned().unwrap_or_default();
        assert!(
            removed.iter().all(|m| left.contains(&m["id"].as_str().unwrap()) && m["@removed"]["reason"] == "deleted"),
            "{i}"
        );
    }
    let _ = members_before;
}

#[tokio::test]
async fn a_write_burst_past_the_identity_write_quota_gets_429() {
    let sim = SimServer::start(SimConfig { throttle: true, ..small() }).await.unwrap();
    let c = Client::new(&sim).await;
    let user = picks(&sim).users[0].clone();
    // 3,000 writes per 150 s per app and tenant: 20 writes a batch until one is refused.
    let mut throttled = None;
    for round in 0..200 {
        let reqs: Vec<Value> = (0..20)
            .map(|i| {
                json!({"id": i.to_string(), "method": "PATCH", "url": format!("/users/{user}"),
                       "headers": {"Content-Type": "application/json"}, "body": {"jobTitle": format!("t{round}-{i}")}})
            })
            .collect();
        let (status, _, body) = c.post("/v1.0/$batch", &json!({"requests": reqs})).await;
        assert_eq!(status, 200);
        if let Some(r) = body["responses"].as_array().unwrap().iter().find(|r| r["status"] == 429) {
            throttled = Some((round, r.clone()));
            break;
        }
    }
    let (round, r) = throttled.expect("the write quota is enforced");
    assert!(round >= 149, "throttled after {} writes", round * 20);
    assert!(r["headers"]["Retry-After"].as_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(r["headers"]["x-ms-throttle-information"], "WriteLimitExceeded");
    // A plain write is refused too, with Graph's headers; reads still have resource units left.
    let (status, headers, body) = c.patch(&format!("/v1.0/users/{user}"), &json!({"jobTitle": "again"})).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error(&body).0, "TooManyRequests");
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(headers["x-ms-throttle-scope"].to_str().unwrap().starts_with("Tenant_Application/Write/"));
    assert_eq!(c.get("/v1.0/users?$top=1").await.0, 200);
}

#[tokio::test]
async fn batch_carries_writes_with_bodies_and_dependencies() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let (domain, _) = domains(&sim);
    let p = picks(&sim);
    let json_type = json!({"Content-Type": "application/json"});
    let newcomer = outsider(&sim, &p, &p.security_group);
    let (status, _, body) = c
        .post(
            "/v1.0/$batch",
            &json!({"requests": [
                {"id": "1", "method": "POST", "url": "/users", "headers": json_type, "body": new_user("batch.one", &domain)},
                {"id": "2", "method": "POST", "url": format!("/groups/{}/members/$ref", p.security_group),
                 "headers": json_type, "body": dir_ref(&newcomer), "dependsOn": ["1"]},
                {"id": "3", "method": "PATCH", "url": format!("/users/{}", p.users[1]), "headers": json_type,
                 "body": {"officeLocation": "18/2111"}, "dependsOn": ["2"]},
                {"id": "4", "method": "POST", "url": "/users", "headers": json_type, "body": {"displayName": "incomplete"}},
                {"id": "5", "method": "DELETE", "url": format!("/users/{}", p.users[2]), "dependsOn": ["4"]},
                {"id": "6", "method": "DELETE", "url": format!("/users/{}", p.users[3])}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let r = body["responses"].as_array().unwrap();
    let by = |id: &str| r.iter().find(|x| x["id"] == id).unwrap();
    assert_eq!(by("1")["status"], 201);
    assert_eq!(by("1")["body"]["userPrincipalName"], format!("batch.one@{domain}"));
    assert_eq!(by("2")["status"], 204);
    assert!(by("2").get("body").is_none());
    assert_eq!(by("3")["status"], 204);
    assert_eq!(by("4")["status"], 400);
    assert_eq!(by("5")["status"], 424, "its dependency failed");
    assert_eq!(by("6")["status"], 204);
    assert_eq!(
        c.get(&format!("/v1.0/users/{}?$select=officeLocation", p.users[1])).await.2["officeLocation"],
        "18/2111"
    );
    assert_eq!(c.get(&format!("/v1.0/users/{}", p.users[2])).await.0, 200, "not deleted");
    assert_eq!(c.get(&format!("/v1.0/users/{}", p.users[3])).await.0, 404);

    // A write without its Content-Type fails the whole batch, as Graph does.
    let (status, _, e) = c
        .post(
            "/v1.0/$batch",
            &json!({"requests": [{"id": "7", "method": "PATCH", "url": format!("/users/{}", p.users[1]), "body": {"city": "x"}}]}),
        )
        .await;
    assert_eq!((status, error(&e).1), (400, "Write request id : 7 does not contain Content-Type header or body."));
    // At most 20 requests, writes as reads.
    let reqs: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "DELETE", "url": format!("/users/{}", p.users[4])}))
        .collect();
    assert_eq!(c.post("/v1.0/$batch", &json!({"requests": reqs})).await.0, 400);
}
