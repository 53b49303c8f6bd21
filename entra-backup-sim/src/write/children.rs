//! Contained children (`POST {id}/{rel}`, `PATCH` and `DELETE {id}/{rel}/{childId}`) and actions
//! such as Intune's `assign`.

use super::{body_object, str_of, tenant_error};
use crate::SimState;
use crate::errors::GraphResponse;
use crate::protocol::{GraphRequest, conflict, method_not_allowed};
use entra_backup::catalog::{Category, Relationship, RelationshipKind, RelationshipWrite};
use serde_json::{Value, json};

fn children_writable(rel: &Relationship) -> bool {
    rel.kind == RelationshipKind::Contained && matches!(rel.write, RelationshipWrite::Children)
}

pub(super) fn add_child(
    state: &SimState,
    req: &GraphRequest,
    cat: &Category,
    id: &str,
    rel: &'static Relationship,
) -> GraphResponse {
    if !children_writable(rel) {
        return method_not_allowed();
    }
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let mut tenant = state.tenant_mut();
    let Some(obj) = tenant.get(cat.name, id) else { return GraphResponse::not_found(id) };
    let mut child = body.clone();
    let child_id = match str_of(body, "id") {
        Some(c) => c.to_string(),
        None => state.next_request_id(),
    };
    let exists = obj.children.get(rel.name).into_iter().flatten().any(|c| str_of(c, "id") == Some(&child_id));
    if exists {
        return conflict("id");
    }
    child.shift_insert(0, "id".into(), json!(child_id));
    if let Err(e) = tenant.add_child(cat.name, id, rel.name, Value::Object(child.clone())) {
        return tenant_error(e);
    }
    child.shift_insert(
        0,
        "@odata.context".into(),
        json!(format!(
            "{}/{}/$metadata#{}('{id}')/{}/$entity",
            req.base,
            req.version,
            cat.path.trim_start_matches('/'),
            rel.name
        )),
    );
    GraphResponse::status(201, Some(Value::Object(child)))
}

pub(super) fn patch_child(
    state: &SimState,
    req: &GraphRequest,
    cat: &Category,
    id: &str,
    rel: &'static Relationship,
    child: &str,
) -> GraphResponse {
    if !children_writable(rel) {
        return method_not_allowed();
    }
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let mut changes = body.clone();
    changes.remove("id");
    let mut tenant = state.tenant_mut();
    if tenant.get(cat.name, id).is_none() {
        return GraphResponse::not_found(id);
    }
    match tenant.patch_child(cat.name, id, rel.name, child, &changes) {
        Ok(true) => GraphResponse::status(204, None),
        Ok(false) => GraphResponse::not_found(child),
        Err(e) => tenant_error(e),
    }
}

pub(super) fn delete_child(
    state: &SimState,
    cat: &Category,
    id: &str,
    rel: &'static Relationship,
    child: &str,
) -> GraphResponse {
    if !children_writable(rel) {
        return method_not_allowed();
    }
    let mut tenant = state.tenant_mut();
    if tenant.get(cat.name, id).is_none() {
        return GraphResponse::not_found(id);
    }
    match tenant.remove_child(cat.name, id, rel.name, child) {
        Ok(true) => GraphResponse::status(204, None),
        Ok(false) => GraphResponse::not_found(child),
        Err(e) => tenant_error(e),
    }
}

/// Intune's `assign`: the body's list replaces the policy's assignments.
pub(super) fn action(
    state: &SimState,
    req: &GraphRequest,
    cat: &Category,
    id: &str,
    rel: &'static Relationship,
    property: &str,
) -> GraphResponse {
    let body = match body_object(req) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let Some(items) = body.get(property).and_then(Value::as_array) else {
        return GraphResponse::bad_request("BadRequest", format!("The action needs the parameter '{property}'."));
    };
    let mut tenant = state.tenant_mut();
    if tenant.get(cat.name, id).is_none() {
        return GraphResponse::not_found(id);
    }
    let mut children = Vec::new();
    for item in items {
        let Value::Object(m) = item else {
            return GraphResponse::bad_request("BadRequest", format!("Every item of '{property}' must be an object."));
        };
        let mut m = m.clone();
        if !m.get("id").is_some_and(Value::is_string) {
            m.shift_insert(0, "id".into(), json!(state.next_request_id()));
        }
        children.push(m);
    }
    let value: Vec<Value> = children.iter().cloned().map(Value::Object).collect();
    if let Err(e) = tenant.set_children(cat.name, id, rel.name, children) {
        return tenant_error(e);
    }
    GraphResponse::ok(json!({
        "@odata.context": format!("{}/{}/$metadata#Collection({})", req.base, req.version, rel.target_type),
        "value": value,
    }))
}
