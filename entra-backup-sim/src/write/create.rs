//! Creating objects: `POST {collection}` checked against Graph's create-time rules, with the
//! properties the service sets on a new object.

use super::references::binds;
use super::{
    MAIL_ENABLED_CREATE_MESSAGE, body_object, body_type, check_properties, default_domain, is_dynamic, is_guid,
    is_unified, mail_enabled_non_unified, now, required, resource_name, str_of, tenant_error, verified_domains,
};
use crate::SimState;
use crate::errors::GraphResponse;
use crate::protocol::{GraphRequest, conflict, denied, method_not_allowed, project};
use crate::tenant::{StoredObject, Tenant};
use entra_backup::catalog::{self, Category, Relationship, RelationshipKind, Strategy};
use serde_json::{Map, Value, json};

/// An empty value shaped like `v`: `[]` for arrays, the same keys emptied for objects, null
/// otherwise (`@odata.type` kept).
fn blank(v: &Value) -> Value {
    match v {
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Object(m) => Value::Object(
            m.iter().map(|(k, v)| (k.clone(), if k == "@odata.type" { v.clone() } else { blank(v) })).collect(),
        ),
        _ => Value::Null,
    }
}

/// The properties a new object of `ty` carries, emptied: taken from an object of the same type
/// in the category, so that new objects hold the same properties as the generated ones.
pub(super) fn template(tenant: &Tenant, cat: &Category, ty: &str) -> Map<String, Value> {
    let sample = tenant.objects(cat.name).find(|o| o.odata_type(cat) == ty);
    let mut out = Map::new();
    if let Some(o) = sample {
        for (k, v) in &o.json {
            out.insert(k.clone(), if k == "@odata.type" { v.clone() } else { blank(v) });
        }
    } else if ty != cat.entity_type {
        out.insert("@odata.type".into(), json!(format!("#{ty}")));
    }
    out
}

/// The id of a new object: the caller's where the catalog's [`IdPolicy`](crate::catalog::IdPolicy)
/// says so, else made by the service (a given `id` is ignored): a GUID, or an opaque base64url key
/// where the category's ids are such keys (role assignments, delegated permission grants).
fn new_id(
    state: &SimState,
    tenant: &Tenant,
    cat: &Category,
    ty: &str,
    body: &Map<String, Value>,
) -> Result<String, GraphResponse> {
    if entra_backup::model::properties(ty).is_some_and(|p| !p.contains(&"id")) {
        let key = if entra_backup::model::has_property(ty, "tenantId") { "tenantId" } else { "id" };
        return str_of(body, key).map(String::from).ok_or_else(|| required(key, &resource_name(ty)));
    }
    if cat.id.caller_chooses() {
        return cat.id.id_from(body).ok_or_else(|| required("id", &resource_name(ty)));
    }
    let opaque = tenant.objects(cat.name).next().is_some_and(|o| !is_guid(o.id()));
    if opaque {
        let mut bytes = crate::generate::guid_bytes(&state.next_request_id()).to_vec();
        bytes.extend(crate::generate::guid_bytes(&state.next_request_id()));
        return Ok(crate::generate::b64url(&bytes));
    }
    Ok(state.next_request_id())
}

fn created(req: &GraphRequest, cat: &Category, obj: &StoredObject) -> GraphResponse {
    let mut m = project(obj, cat, None, false);
    m.shift_insert(
        0,
        "@odata.context".into(),
        json!(format!("{}/{}/$metadata#{}/$entity", req.base, req.version, cat.path.trim_start_matches('/'))),
    );
    GraphResponse::status(201, Some(Value::Object(m)))
}

/// The contained relationship of the category named `key`, if any.
pub(super) fn contained(cat: &Category, key: &str) -> Option<&'static Relationship> {
    catalog::get(cat.name)?.relationships.iter().find(|r| r.name == key && r.kind == RelationshipKind::Contained)
}

/// Children given inline: objects, each with an `id` (made when missing).
pub(super) fn child_list(state: &SimState, v: &Value) -> Vec<Map<String, Value>> {
    let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|m| {
            let mut m = m.clone();
            if !m.get("id").is_some_and(Value::is_string) {
                m.shift_insert(0, "id".into(), json!(state.next_request_id()));
            }
            m
        })
        .collect()
}

/// Whether Graph creates objects of this category with `POST {path}`.
fn creatable(cat: &Category) -> bool {
    cat.restore.strategies.contains(&Strategy::Recreate) && cat.restore.create_path.is_none()
}

pub(super) fn create(state: &SimState, req: &GraphRequest, cat: &'static Category) -> GraphResponse {
    if cat.name == "devices" {
        // POST /devices supports no application permission: devices register themselves.
        return denied();
    }
    if !creatable(cat) {
        return method_not_allowed();
    }
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let ty = match body_type(cat, body, None) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let mut tenant = state.tenant_mut();
    if let Err(e) = check_properties(&tenant, cat, &ty, body) {
        return e;
    }
    if let Err(e) = create_rules(&tenant, cat, &ty, body) {
        return e;
    }
    let links = match binds(&tenant, cat, body) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let id = match new_id(state, &tenant, cat, &ty, body) {
        Ok(id) => id,
        Err(e) => return e,
    };
    if tenant.contains(cat.name, &id) || tenant.in_bin(&id) {
        return conflict("id");
    }
    let now = now(state);
    let mut json = template(&tenant, cat, &ty);
    let mut children = Vec::new();
    for (k, v) in body {
        if k.contains('@') && k != "@odata.type" {
            continue;
        }
        // Contained children written with the parent (a compliance policy's scheduled actions)
        // are kept as children, as reads serve them.
        if let Some(rel) = contained(cat, k) {
            children.push((rel, child_list(state, v)));
            continue;
        }
        if k == "@odata.type" {
            if !cat.derived_types.is_empty() {
                json.insert(k.clone(), json!(format!("#{ty}")));
            }
            continue;
        }
        if k == "passwordProfile" {
            // Graph never returns a password.
            continue;
        }
        json.insert(k.clone(), v.clone());
    }
    // The store keys every object by `id` (types keyed by another property keep it too; reads
    // leave it out).
    json.shift_insert(0, "id".into(), json!(id));
    fill_computed(state, &tenant, cat, &ty, &mut json, &now);
    let obj = match tenant.insert(cat.name, Value::Object(json)) {
        Ok(o) => o.clone(),
        Err(e) => return tenant_error(e),
    };
    for (rel, t) in links {
        if let Err(e) = tenant.link(cat.name, &id, rel.name, t) {
            return tenant_error(e);
        }
    }
    for (rel, list) in children {
        if let Err(e) = tenant.set_children(cat.name, &id, rel.name, list) {
            return tenant_error(e);
        }
    }
    // A role assignment made directly shows as an active assignment schedule with the same id.
    if cat.name == "roleAssignments" && catalog::get("roleAssignmentSchedules").is_some() {
        let schedule = assignment_schedule(&obj.json, &id, &now);
        let _ = tenant.insert("roleAssignmentSchedules", schedule);
    }
    created(req, cat, &obj)
}

/// Graph's create-time rules per category (required properties, groups Graph cannot make, unique
/// names).
fn create_rules(tenant: &Tenant, cat: &Category, ty: &str, body: &Map<String, Value>) -> Result<(), GraphResponse> {
    let resource = resource_name(ty);
    let missing = |p: &str| body.get(p).is_none_or(Value::is_null);
    match cat.name {
        "users" => {
            for p in ["accountEnabled", "displayName", "mailNickname", "passwordProfile", "userPrincipalName"] {
                if missing(p) {
                    return Err(required(p, &resource));
                }
            }
            let password = body.get("passwordProfile").and_then(|p| p.get("password")).and_then(Value::as_str);
            if password.is_none_or(str::is_empty) {
                return Err(required("passwordProfile", &resource));
            }
            check_upn(tenant, str_of(body, "userPrincipalName").unwrap_or_default(), None)?;
        }
        "groups" => {
            for p in ["displayName", "mailEnabled", "mailNickname", "securityEnabled"] {
                if missing(p) {
                    return Err(required(p, &resource));
                }
            }
            if mail_enabled_non_unified(body) {
                return Err(GraphResponse::bad_request("Request_BadRequest", MAIL_ENABLED_CREATE_MESSAGE));
            }
            if is_dynamic(body) && missing("membershipRule") {
                return Err(GraphResponse::bad_request(
                    "Request_BadRequest",
                    "A value is required for property 'membershipRule'.",
                ));
            }
            if is_unified(body) {
                check_nickname(tenant, str_of(body, "mailNickname").unwrap_or_default(), None)?;
            }
        }
        "servicePrincipals" => {
            let Some(app_id) = str_of(body, "appId") else { return Err(required("appId", &resource)) };
            let taken =
                tenant.named("servicePrincipals", "appId", app_id).any(|s| str_of(&s.json, "appId") == Some(app_id))
                    || tenant.bin_entries(None).any(|d| {
                        d.category() == "servicePrincipals" && str_of(&d.decode().object.json, "appId") == Some(app_id)
                    });
            if taken {
                return Err(GraphResponse::error(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    format!(
                        "The service principal cannot be created, updated, or restored because the service principal \
                         name {app_id} is already in use."
                    ),
                ));
            }
        }
        "namedLocations" => {
            if missing("displayName") {
                return Err(required("displayName", &resource));
            }
            let need = if ty.ends_with("ipNamedLocation") { "ipRanges" } else { "countriesAndRegions" };
            if missing(need) {
                return Err(required(need, &resource));
            }
        }
        "applications" | "conditionalAccessPolicies" | "administrativeUnits" | "roleDefinitions"
            if missing("displayName") =>
        {
            return Err(required("displayName", &resource));
        }
        _ => {}
    }
    Ok(())
}

/// A user principal name must be in a verified domain and unique among live users. A soft-deleted
/// user's name may be given to another; restoring it then fails until one of them is renamed.
pub(super) fn check_upn(tenant: &Tenant, upn: &str, except: Option<&str>) -> Result<(), GraphResponse> {
    let domain = upn.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
    if domain.is_none_or(|d| !verified_domains(tenant).contains(&d)) {
        return Err(GraphResponse::bad_request(
            "Request_BadRequest",
            "The domain portion of the userPrincipalName property is invalid. You must use one of the verified \
             domain names in your organization.",
        ));
    }
    let same = |json: &Map<String, Value>| {
        str_of(json, "userPrincipalName").is_some_and(|u| u.eq_ignore_ascii_case(upn))
            && Some(json.get("id").and_then(Value::as_str).unwrap_or_default()) != except
    };
    if tenant.named("users", "userPrincipalName", upn).any(|u| same(&u.json)) {
        return Err(conflict("userPrincipalName"));
    }
    Ok(())
}

/// A Microsoft 365 group's mail nickname is unique among Microsoft 365 groups (deleted ones too).
pub(super) fn check_nickname(tenant: &Tenant, nickname: &str, except: Option<&str>) -> Result<(), GraphResponse> {
    let same = |json: &Map<String, Value>| {
        is_unified(json)
            && str_of(json, "mailNickname").is_some_and(|n| n.eq_ignore_ascii_case(nickname))
            && Some(json.get("id").and_then(Value::as_str).unwrap_or_default()) != except
    };
    if tenant.named("groups", "mailNickname", nickname).any(|g| same(&g.json))
        || tenant.bin_entries(None).any(|d| d.category() == "groups" && same(&d.decode().object.json))
    {
        return Err(conflict("mailNickname"));
    }
    Ok(())
}

/// Properties the service sets on a new object.
fn fill_computed(
    state: &SimState,
    tenant: &Tenant,
    cat: &Category,
    ty: &str,
    json: &mut Map<String, Value>,
    now: &str,
) {
    // Types the v1.0 schema lacks (beta Intune policies) are known by the properties they carry.
    let present: Vec<String> = json.keys().cloned().collect();
    let has = |p: &str| entra_backup::model::has_property(ty, p) || present.iter().any(|k| k == p);
    let id = json.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    if has("createdDateTime") {
        json.insert("createdDateTime".into(), json!(now));
    }
    if has("deletedDateTime") {
        json.insert("deletedDateTime".into(), Value::Null);
    }
    if has("lastModifiedDateTime") {
        json.insert("lastModifiedDateTime".into(), json!(now));
    }
    if has("modifiedDateTime") {
        // A new named location is dated as modified when created; a new Conditional Access policy
        // has no modification date yet (both create pages' examples).
        let v = if cat.name == "namedLocations" { json!(now) } else { Value::Null };
        json.insert("modifiedDateTime".into(), v);
    }
    if has("securityIdentifier") && matches!(cat.name, "users" | "groups") {
        json.insert("securityIdentifier".into(), json!(crate::generate::cloud_sid(&id)));
    }
    let unset = |json: &Map<String, Value>, p: &str| json.get(p).is_none_or(Value::is_null);
    match cat.name {
        "users" => {
            let upn = str_of(json, "userPrincipalName").unwrap_or_default().to_string();
            json.insert(
                "identities".into(),
                json!([{"signInType": "userPrincipalName", "issuer": tenant.domain, "issuerAssignedId": upn}]),
            );
            if unset(json, "userType") {
                json.insert("userType".into(), json!("Member"));
            }
            json.insert("creationType".into(), Value::Null);
            json.insert("lastPasswordChangeDateTime".into(), json!(now));
            json.insert("signInSessionsValidFromDateTime".into(), json!(now));
            for p in ["businessPhones", "otherMails", "proxyAddresses", "imAddresses", "assignedLicenses"] {
                if unset(json, p) {
                    json.insert(p.into(), json!([]));
                }
            }
        }
        "groups" => {
            json.insert("renewedDateTime".into(), json!(now));
            if unset(json, "groupTypes") {
                json.insert("groupTypes".into(), json!([]));
            }
            let unified = is_unified(json);
            if unified {
                let mail = format!("{}@{}", str_of(json, "mailNickname").unwrap_or_default(), default_domain(tenant));
                json.insert("proxyAddresses".into(), json!([format!("SMTP:{mail}")]));
                json.insert("mail".into(), json!(mail));
                if unset(json, "visibility") {
                    json.insert("visibility".into(), json!("Public"));
                }
            } else {
                json.insert("mail".into(), Value::Null);
                json.insert("proxyAddresses".into(), json!([]));
            }
            let state_v = if is_dynamic(json) { json!("On") } else { Value::Null };
            json.insert("membershipRuleProcessingState".into(), state_v);
            for p in ["resourceBehaviorOptions", "resourceProvisioningOptions"] {
                if unset(json, p) {
                    json.insert(p.into(), json!([]));
                }
            }
        }
        "applications" => {
            json.insert("appId".into(), json!(state.next_request_id()));
            json.insert("publisherDomain".into(), json!(tenant.domain));
            if unset(json, "signInAudience") {
                json.insert("signInAudience".into(), json!("AzureADMyOrg"));
            }
        }
        "servicePrincipals" => {
            let app_id = str_of(json, "appId").unwrap_or_default().to_string();
            let app =
                tenant.named("applications", "appId", &app_id).find(|a| str_of(&a.json, "appId") == Some(&app_id));
            let app = app.as_ref();
            json.insert("appOwnerOrganizationId".into(), app.map_or(Value::Null, |_| json!(tenant.tenant_id)));
            let app_name = app.and_then(|a| a.json.get("displayName").cloned()).unwrap_or(Value::Null);
            json.insert("appDisplayName".into(), app_name.clone());
            if unset(json, "displayName") {
                json.insert("displayName".into(), app_name);
            }
            if let Some(a) = app {
                json.insert("signInAudience".into(), a.json.get("signInAudience").cloned().unwrap_or(Value::Null));
                for p in ["appRoles", "info"] {
                    if let Some(v) = a.json.get(p) {
                        json.insert(p.into(), v.clone());
                    }
                }
                if let Some(scopes) = a.json.get("api").and_then(|api| api.get("oauth2PermissionScopes")) {
                    json.insert("oauth2PermissionScopes".into(), scopes.clone());
                }
            }
            let mut names = vec![json!(app_id)];
            if let Some(uris) = app.and_then(|a| a.json.get("identifierUris")).and_then(Value::as_array) {
                names.extend(uris.iter().cloned());
            }
            json.insert("servicePrincipalNames".into(), Value::Array(names));
            json.insert("servicePrincipalType".into(), json!("Application"));
            if unset(json, "accountEnabled") {
                json.insert("accountEnabled".into(), json!(true));
            }
        }
        "roleDefinitions" => {
            json.insert("isBuiltIn".into(), json!(false));
            json.insert("templateId".into(), json!(id));
        }
        "domains" => {
            for (k, v) in [("isVerified", false), ("isDefault", false), ("isInitial", false), ("isRoot", true)] {
                json.insert(k.into(), json!(v));
            }
            json.insert("isAdminManaged".into(), json!(true));
            if unset(json, "authenticationType") {
                json.insert("authenticationType".into(), json!("Managed"));
            }
            if unset(json, "supportedServices") {
                json.insert("supportedServices".into(), json!([]));
            }
        }
        _ => {}
    }
}

fn assignment_schedule(assignment: &Map<String, Value>, id: &str, now: &str) -> Value {
    json!({
        "id": id,
        "appScopeId": assignment.get("appScopeId").cloned().unwrap_or(Value::Null),
        "assignmentType": "Assigned",
        "createdDateTime": now,
        "createdUsing": id,
        "directoryScopeId": assignment.get("directoryScopeId").cloned().unwrap_or(json!("/")),
        "memberType": "Direct",
        "modifiedDateTime": Value::Null,
        "principalId": assignment.get("principalId").cloned().unwrap_or(Value::Null),
        "roleDefinitionId": assignment.get("roleDefinitionId").cloned().unwrap_or(Value::Null),
        "scheduleInfo": {
            "startDateTime": now,
            "recurrence": Value::Null,
            "expiration": {"duration": Value::Null, "endDateTime": Value::Null, "type": "noExpiration"}
        },
        "status": "Provisioned",
    })
}
