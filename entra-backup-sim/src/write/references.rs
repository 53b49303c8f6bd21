//! Links between objects: `@odata.bind` in a create or update body, and `{rel}/$ref` added with
//! `POST` or `PUT` and removed with `DELETE`.

use super::{
    MAIL_ENABLED_UPDATE_MESSAGE, MAX_BINDS, body_object, is_dynamic, mail_enabled_non_unified, str_of, synced,
    synced_error, tenant_error, too_many_links,
};
use crate::SimState;
use crate::errors::GraphResponse;
use crate::protocol::{GraphRequest, denied, method_not_allowed};
use crate::tenant::{Ref, StoredObject, Tenant};
use entra_backup::catalog::{self, Category, Relationship, RelationshipKind, RelationshipWrite};
use serde_json::{Map, Value};

/// The `{rel}@odata.bind` links of a body, resolved: (relationship, target). At most 20 in all;
/// every target must exist.
pub(super) fn binds(
    tenant: &Tenant,
    cat: &Category,
    body: &Map<String, Value>,
) -> Result<Vec<(&'static Relationship, Ref)>, GraphResponse> {
    let mut out = Vec::new();
    for (k, v) in body {
        let Some(name) = k.strip_suffix("@odata.bind") else { continue };
        let rel = cat
            .relationships
            .iter()
            .find(|r| r.name == name && matches!(r.write, RelationshipWrite::Ref { bind_on_create: true }));
        let Some(rel) = rel else {
            return Err(GraphResponse::bad_request(
                "Request_BadRequest",
                format!("Property '{name}' does not exist as a declared property or extension property."),
            ));
        };
        let urls: Vec<&str> = match v {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            Value::String(s) => vec![s.as_str()],
            _ => Vec::new(),
        };
        for url in urls {
            out.push((rel, resolve_target(tenant, rel, url)?));
        }
    }
    if out.len() > MAX_BINDS {
        return Err(too_many_links());
    }
    Ok(out)
}

/// The object an `@odata.id` or `@odata.bind` URL names:
/// `https://graph.microsoft.com/v1.0/directoryObjects/{id}`, `.../users/{id}`, `.../users('{id}')`.
fn ref_id(url: &str) -> Option<&str> {
    let url = url.split('?').next().unwrap_or(url).trim_end_matches('/');
    let last = url.rsplit('/').next()?;
    let id = match last.split_once('(') {
        Some((_, rest)) => rest.trim_end_matches(')').trim_matches('\''),
        None => last,
    };
    (!id.is_empty()).then_some(id)
}

fn resolve_target(tenant: &Tenant, rel: &Relationship, url: &str) -> Result<Ref, GraphResponse> {
    let Some(id) = ref_id(url) else {
        return Err(GraphResponse::bad_request("Request_BadRequest", format!("Invalid object identifier '{url}'.")));
    };
    for c in rel.target_categories {
        if tenant.get(c, id).is_some() {
            return Ok(Ref { category: catalog::get(c).map_or("", |c| c.name), id: id.to_string() });
        }
    }
    if tenant.find(id).is_some() {
        return Err(GraphResponse::bad_request(
            "Request_BadRequest",
            format!("An object of this type cannot be added to '{}'.", rel.name),
        ));
    }
    Err(GraphResponse::not_found(id))
}

pub(super) fn duplicate_ref(rel: &Relationship) -> GraphResponse {
    GraphResponse::bad_request(
        "Request_BadRequest",
        format!(
            "One or more added object references already exist for the following modified properties: '{}'.",
            rel.name
        ),
    )
}

/// Rules for changing an object's links: who may, and on which objects.
fn link_rules(cat: &Category, obj: &StoredObject, rel: &Relationship) -> Result<(), GraphResponse> {
    match &rel.write {
        RelationshipWrite::NotWritable { .. } => return Err(denied()),
        RelationshipWrite::Ref { .. } | RelationshipWrite::PutRef => {}
        _ => return Err(method_not_allowed()),
    }
    if synced(obj) {
        return Err(synced_error());
    }
    if cat.name == "groups" {
        if mail_enabled_non_unified(&obj.json) {
            return Err(GraphResponse::bad_request("Request_BadRequest", MAIL_ENABLED_UPDATE_MESSAGE));
        }
        if rel.name == "members" && is_dynamic(&obj.json) {
            // Members of a dynamic group follow its rule.
            return Err(denied());
        }
    }
    if cat.name == "administrativeUnits"
        && rel.name == "members"
        && str_of(&obj.json, "membershipType").is_some_and(|t| t.eq_ignore_ascii_case("Dynamic"))
    {
        return Err(denied());
    }
    Ok(())
}

fn odata_id<'a>(req: &'a GraphRequest<'a>) -> Result<&'a str, GraphResponse> {
    let body = body_object(req)?;
    str_of(body, "@odata.id").ok_or_else(|| {
        GraphResponse::bad_request(
            "Request_BadRequest",
            "The request body must give the object to link in '@odata.id'.",
        )
    })
}

pub(super) fn add_ref(
    state: &SimState,
    req: &GraphRequest,
    cat: &Category,
    id: &str,
    rel: &'static Relationship,
) -> GraphResponse {
    if rel.kind != RelationshipKind::Links {
        return method_not_allowed();
    }
    let url = match odata_id(req) {
        Ok(u) => u,
        Err(e) => return e,
    };
    let mut tenant = state.tenant_mut();
    let Some(obj) = tenant.get(cat.name, id) else { return GraphResponse::not_found(id) };
    if let Err(e) = link_rules(cat, &obj, rel) {
        return e;
    }
    let target = match resolve_target(&tenant, rel, url) {
        Ok(t) => t,
        Err(e) => return e,
    };
    if obj.links(rel.name).contains(&target) {
        return duplicate_ref(rel);
    }
    match tenant.link(cat.name, id, rel.name, target) {
        Ok(()) => GraphResponse::status(204, None),
        Err(e) => tenant_error(e),
    }
}

pub(super) fn put_ref(
    state: &SimState,
    req: &GraphRequest,
    cat: &Category,
    id: &str,
    rel: &'static Relationship,
) -> GraphResponse {
    if rel.kind != RelationshipKind::Link || !matches!(rel.write, RelationshipWrite::PutRef) {
        return method_not_allowed();
    }
    let url = match odata_id(req) {
        Ok(u) => u,
        Err(e) => return e,
    };
    let mut tenant = state.tenant_mut();
    let Some(obj) = tenant.get(cat.name, id) else { return GraphResponse::not_found(id) };
    if let Err(e) = link_rules(cat, &obj, rel) {
        return e;
    }
    let target = match resolve_target(&tenant, rel, url) {
        Ok(t) => t,
        Err(e) => return e,
    };
    match tenant.link(cat.name, id, rel.name, target) {
        Ok(()) => GraphResponse::status(204, None),
        Err(e) => tenant_error(e),
    }
}

pub(super) fn remove_ref(
    state: &SimState,
    cat: &Category,
    id: &str,
    rel: &'static Relationship,
    target: Option<&str>,
) -> GraphResponse {
    if rel.kind == RelationshipKind::Contained {
        return method_not_allowed();
    }
    let mut tenant = state.tenant_mut();
    let Some(obj) = tenant.get(cat.name, id) else { return GraphResponse::not_found(id) };
    if let Err(e) = link_rules(cat, &obj, rel) {
        return e;
    }
    let existing = match target {
        Some(t) => obj.links(rel.name).iter().find(|r| r.id == t).cloned(),
        None => obj.links(rel.name).first().cloned(),
    };
    let Some(existing) = existing else { return GraphResponse::not_found(target.unwrap_or(rel.name)) };
    match tenant.unlink(cat.name, id, rel.name, &existing) {
        Ok(_) => GraphResponse::status(204, None),
        Err(e) => tenant_error(e),
    }
}
