//! Changing and deleting objects: `PATCH {collection}/{id}` and `DELETE {collection}/{id}` (soft
//! into the recycle bin where Graph does so), with the refusals that depend on the object written.

use super::create::{check_nickname, check_upn, child_list, contained};
use super::references::{binds, duplicate_ref};
use super::{
    MAIL_ENABLED_UPDATE_MESSAGE, SYNCED_USER_PROPERTIES, body_object, body_type, check_properties, flag, is_dynamic,
    is_unified, mail_enabled_non_unified, now, required, str_of, synced, synced_error, tenant_error,
};
use crate::SimState;
use crate::errors::GraphResponse;
use crate::protocol::{GraphRequest, denied, method_not_allowed};
use crate::tenant::{Removal, StoredObject};
use entra_backup::catalog::{Category, Condition, Shape, Strategy};
use serde_json::{Map, Value, json};

/// Refusals that depend on the object written: synced from on-premises, a mail-enabled security
/// group or distribution list, a built-in role.
fn object_rules(cat: &Category, obj: &StoredObject) -> Result<(), GraphResponse> {
    if cat.name == "groups" && mail_enabled_non_unified(&obj.json) {
        return Err(GraphResponse::bad_request("Request_BadRequest", MAIL_ENABLED_UPDATE_MESSAGE));
    }
    if built_in(obj) {
        return Err(built_in_error());
    }
    Ok(())
}

/// Built-in objects belong to Microsoft: role definitions (`isBuiltIn`), authentication strengths
/// (`policyType: builtIn`).
fn built_in(obj: &StoredObject) -> bool {
    Condition::BuiltIn.matches(&Value::Object(obj.json.clone())) || str_of(&obj.json, "policyType") == Some("builtIn")
}

fn built_in_error() -> GraphResponse {
    GraphResponse::bad_request("Request_BadRequest", "Built-in objects cannot be changed or deleted.")
}

pub(super) fn update(state: &SimState, req: &GraphRequest, cat: &'static Category, id: &str) -> GraphResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let mut tenant = state.tenant_mut();
    let Some(obj) = tenant.get(cat.name, id) else { return GraphResponse::not_found(id) };
    if !cat.restore.strategies.iter().any(|s| matches!(s, Strategy::Patch | Strategy::SingletonPatch)) {
        return method_not_allowed();
    }
    let current = obj.odata_type(cat);
    let ty = match body_type(cat, body, Some(&current)) {
        Ok(t) => t,
        Err(e) => return e,
    };
    if let Err(e) = check_properties(&tenant, cat, &ty, body) {
        return e;
    }
    if let Err(e) = object_rules(cat, &obj) {
        return e;
    }
    if synced(&obj) {
        let refused = match cat.name {
            "users" => body.keys().any(|k| SYNCED_USER_PROPERTIES.contains(&k.as_str())),
            "groups" => body.keys().any(|k| k != "@odata.type"),
            _ => body.keys().any(|k| k != "@odata.type"),
        };
        if refused {
            return synced_error();
        }
    }
    match cat.name {
        "users" => {
            if let Some(upn) = str_of(body, "userPrincipalName")
                && let Err(e) = check_upn(&tenant, upn, Some(id))
            {
                return e;
            }
            if let Some(p) = body.get("passwordProfile")
                && p.get("password").and_then(Value::as_str).is_none_or(str::is_empty)
            {
                return required("passwordProfile", "User");
            }
        }
        "groups" => {
            let mut merged = obj.json.clone();
            for (k, v) in body {
                merged.insert(k.clone(), v.clone());
            }
            if is_unified(&merged)
                && body.contains_key("mailNickname")
                && let Err(e) = check_nickname(&tenant, str_of(&merged, "mailNickname").unwrap_or_default(), Some(id))
            {
                return e;
            }
            if is_dynamic(&obj.json) && body.keys().any(|k| k.ends_with("@odata.bind")) {
                return denied();
            }
        }
        _ => {}
    }
    let links = match binds(&tenant, cat, body) {
        Ok(l) => l,
        Err(e) => return e,
    };
    // Links already there make the whole request fail, as `$ref` does.
    for (rel, t) in &links {
        if obj.links(rel.name).contains(t) {
            return duplicate_ref(rel);
        }
    }
    let now = now(state);
    let mut changes = Map::new();
    let mut children = Vec::new();
    for (k, v) in body {
        if k.contains('@') {
            continue;
        }
        if let Some(rel) = contained(cat, k) {
            children.push((rel, child_list(state, v)));
            continue;
        }
        if k == "passwordProfile" {
            changes.insert("lastPasswordChangeDateTime".into(), json!(now));
            continue;
        }
        changes.insert(k.clone(), v.clone());
    }
    if entra_backup::model::has_property(&ty, "modifiedDateTime") {
        changes.insert("modifiedDateTime".into(), json!(now));
    }
    if entra_backup::model::has_property(&ty, "lastModifiedDateTime") {
        changes.insert("lastModifiedDateTime".into(), json!(now));
    }
    if let Err(e) = tenant.patch(cat.name, id, &changes) {
        return tenant_error(e);
    }
    for (rel, t) in links {
        if let Err(e) = tenant.link(cat.name, id, rel.name, t) {
            return tenant_error(e);
        }
    }
    for (rel, list) in children {
        if let Err(e) = tenant.set_children(cat.name, id, rel.name, list) {
            return tenant_error(e);
        }
    }
    GraphResponse::status(204, None)
}

/// Whether deleting an object of this category puts it in the recycle bin: users, applications,
/// service principals, administrative units and Microsoft 365 groups (not security groups).
pub(super) fn soft_deletes(cat: &Category, obj: &StoredObject) -> bool {
    match cat.name {
        "users" | "applications" | "servicePrincipals" | "administrativeUnits" => true,
        "groups" => is_unified(&obj.json),
        _ => false,
    }
}

pub(super) fn delete(state: &SimState, cat: &'static Category, id: &str) -> GraphResponse {
    let mut tenant = state.tenant_mut();
    let Some(obj) = tenant.get(cat.name, id) else { return GraphResponse::not_found(id) };
    let deletable = cat.shape == Shape::Collection
        && (cat.name == "devices"
            || cat.restore.strategies.iter().any(|s| matches!(s, Strategy::Recreate | Strategy::RecycleBin)));
    if !deletable {
        return method_not_allowed();
    }
    if synced(&obj) {
        return synced_error();
    }
    if built_in(&obj) {
        return built_in_error();
    }
    if cat.name == "domains" {
        let suffix = format!("@{}", id.to_ascii_lowercase());
        let in_use = flag(&obj.json, "isInitial")
            || flag(&obj.json, "isDefault")
            || tenant.objects("users").any(|u| {
                str_of(&u.json, "userPrincipalName").is_some_and(|upn| upn.to_ascii_lowercase().ends_with(&suffix))
            });
        if in_use {
            return GraphResponse::bad_request(
                "Request_BadRequest",
                format!(
                    "The domain '{id}' cannot be deleted: it is the initial or default domain, or users sign in with it."
                ),
            );
        }
    }
    let at = state.clock.now();
    let soft = soft_deletes(cat, &obj);
    // Deleting an application deletes its service principal in the tenant too.
    let sps: Vec<String> = if cat.name == "applications" {
        let app_id = str_of(&obj.json, "appId").map(String::from);
        tenant
            .objects("servicePrincipals")
            .filter(|s| app_id.is_some() && str_of(&s.json, "appId") == app_id.as_deref())
            .map(|s| s.id().to_string())
            .collect()
    } else {
        Vec::new()
    };
    let result = if soft {
        tenant.soft_delete(cat.name, id, at)
    } else {
        tenant.remove(cat.name, id, Removal::Deleted).map(|_| ())
    };
    if let Err(e) = result {
        return tenant_error(e);
    }
    for sp in sps {
        let _ = tenant.soft_delete("servicePrincipals", &sp, at);
    }
    if cat.name == "roleAssignments" && tenant.get("roleAssignmentSchedules", id).is_some() {
        let _ = tenant.remove("roleAssignmentSchedules", id, Removal::Deleted);
    }
    GraphResponse::status(204, None)
}
