//! PIM schedule requests: `POST /roleManagement/directory/role{Eligibility,Assignment}ScheduleRequests`.

use super::create::template;
use super::{body_object, check_properties, now, required, resource_name, str_of, tenant_error};
use crate::SimState;
use crate::errors::GraphResponse;
use crate::protocol::GraphRequest;
use crate::tenant::Removal;
use entra_backup::catalog::Category;
use serde_json::{Map, Value, json};

/// `POST /roleManagement/directory/role{Eligibility,Assignment}ScheduleRequests`: `adminAssign`
/// makes a schedule (and for active assignments the role assignment, with the same id),
/// `adminUpdate` (and `adminExtend`, `adminRenew`) replaces its `scheduleInfo`, `adminRemove`
/// takes it away. Answers the request object, provisioned at once.
pub(super) fn schedule_request(state: &SimState, req: &GraphRequest, cat: &'static Category) -> GraphResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let request_type = if cat.name == "roleEligibilitySchedules" {
        "microsoft.graph.unifiedRoleEligibilityScheduleRequest"
    } else {
        "microsoft.graph.unifiedRoleAssignmentScheduleRequest"
    };
    if let Err(e) = check_properties(&state.tenant(), cat, request_type, body) {
        return e;
    }
    let resource = resource_name(request_type);
    for p in ["action", "principalId", "roleDefinitionId"] {
        if body.get(p).is_none_or(Value::is_null) {
            return required(p, &resource);
        }
    }
    let action = str_of(body, "action").unwrap_or_default();
    let principal = str_of(body, "principalId").unwrap_or_default();
    let role = str_of(body, "roleDefinitionId").unwrap_or_default();
    let scope = str_of(body, "directoryScopeId").unwrap_or("/");
    let mut tenant = state.tenant_mut();
    if tenant.find(principal).is_none() {
        return GraphResponse::not_found(principal);
    }
    if tenant.get("roleDefinitions", role).is_none() {
        return GraphResponse::not_found(role);
    }
    let now = now(state);
    let request_id = state.next_request_id();
    let existing = tenant
        .objects(cat.name)
        .find(|s| {
            str_of(&s.json, "principalId") == Some(principal)
                && str_of(&s.json, "roleDefinitionId") == Some(role)
                && str_of(&s.json, "directoryScopeId") == Some(scope)
        })
        .map(|s| s.id().to_string());
    let target_schedule = match action {
        "adminAssign" => {
            if existing.is_some() {
                return GraphResponse::bad_request("RoleAssignmentExists", "The Role assignment already exists.");
            }
            let id = state.next_request_id();
            let schedule_info = body.get("scheduleInfo").cloned().unwrap_or_else(
                || json!({"startDateTime": now, "recurrence": null, "expiration": {"duration": null, "endDateTime": null, "type": "noExpiration"}}),
            );
            let mut schedule = template(&tenant, cat, cat.entity_type);
            for (k, v) in [
                ("id", json!(id)),
                ("appScopeId", body.get("appScopeId").cloned().unwrap_or(Value::Null)),
                ("createdDateTime", json!(now)),
                ("createdUsing", json!(request_id)),
                ("directoryScopeId", json!(scope)),
                ("memberType", json!("Direct")),
                ("modifiedDateTime", Value::Null),
                ("principalId", json!(principal)),
                ("roleDefinitionId", json!(role)),
                ("scheduleInfo", schedule_info),
                ("status", json!("Provisioned")),
            ] {
                schedule.insert(k.into(), v);
            }
            if cat.name == "roleAssignmentSchedules" {
                schedule.insert("assignmentType".into(), json!("Assigned"));
                let assignment = json!({
                    "id": id, "appScopeId": schedule.get("appScopeId").cloned().unwrap_or(Value::Null), "condition": null,
                    "directoryScopeId": scope, "principalId": principal, "roleDefinitionId": role,
                });
                if let Err(e) = tenant.insert("roleAssignments", assignment) {
                    return tenant_error(e);
                }
            }
            if let Err(e) = tenant.insert(cat.name, Value::Object(schedule)) {
                return tenant_error(e);
            }
            Value::String(id)
        }
        "adminUpdate" | "adminExtend" | "adminRenew" => {
            let Some(id) = existing else {
                return GraphResponse::not_found(principal);
            };
            let Some(info) = body.get("scheduleInfo").filter(|v| v.is_object()).cloned() else {
                return required("scheduleInfo", &resource);
            };
            let mut changes = Map::new();
            changes.insert("scheduleInfo".into(), info);
            changes.insert("modifiedDateTime".into(), json!(now));
            if let Err(e) = tenant.patch(cat.name, &id, &changes) {
                return tenant_error(e);
            }
            Value::String(id)
        }
        "adminRemove" => {
            let Some(id) = existing else {
                return GraphResponse::not_found(principal);
            };
            let _ = tenant.remove(cat.name, &id, Removal::Deleted);
            if cat.name == "roleAssignmentSchedules" && tenant.get("roleAssignments", &id).is_some() {
                let _ = tenant.remove("roleAssignments", &id, Removal::Deleted);
            }
            Value::String(id)
        }
        other => {
            return GraphResponse::bad_request(
                "Request_BadRequest",
                format!(
                    "The action '{other}' is not supported by the simulated tenant: use adminAssign, adminUpdate, adminExtend, adminRenew or adminRemove."
                ),
            );
        }
    };
    let path = cat.restore.create_path.unwrap_or(cat.path).trim_start_matches('/');
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(format!("{}/{}/$metadata#{path}/$entity", req.base, req.version)));
    out.insert("id".into(), json!(request_id));
    for (k, v) in body.iter().filter(|(k, _)| !k.starts_with('@')) {
        out.insert(k.clone(), v.clone());
    }
    for (k, v) in [
        ("status", json!("Provisioned")),
        ("createdDateTime", json!(now)),
        ("completedDateTime", json!(now)),
        ("approvalId", Value::Null),
        ("customData", Value::Null),
        ("isValidationOnly", json!(false)),
        ("targetScheduleId", target_schedule),
        ("directoryScopeId", json!(scope)),
    ] {
        out.insert(k.into(), v);
    }
    GraphResponse::status(201, Some(Value::Object(out)))
}
