//! The directory's recycle bin, as Graph serves it under `/directory/deletedItems`: soft-deleted
//! users, Microsoft 365 groups, applications, service principals and administrative units, listed
//! by type, read one at a time, restored with their id, or deleted for good; 30 days after their
//! deletion (by the simulator's clock) they are gone.

use serde_json::{Map, Value, json};

use super::SimState;
use super::errors::GraphResponse;
use super::protocol::{GraphRequest, conflict, denied, may_write, method_not_allowed, project, throttled};
use super::query::{Filter, ODataQuery, PageState};
use super::throttle::identity_cost;
use entra_backup::catalog::{self, Category};

/// How long a soft-deleted object stays restorable.
pub(crate) const RETENTION_DAYS: i64 = 30;

/// `microsoft.graph.{type}` casts the list accepts, with their categories.
const CASTS: &[(&str, &str)] = &[
    ("microsoft.graph.user", "users"),
    ("microsoft.graph.group", "groups"),
    ("microsoft.graph.application", "applications"),
    ("microsoft.graph.servicePrincipal", "servicePrincipals"),
    ("microsoft.graph.administrativeUnit", "administrativeUnits"),
];

const PREFIX: &str = "/directory/deleteditems";

/// Whether a path is under `/directory/deletedItems` (Graph matches it case-insensitively).
pub(crate) fn is_recycle_path(path: &str) -> bool {
    let lower = path.trim_end_matches('/').to_ascii_lowercase();
    lower == PREFIX || lower.starts_with(&format!("{PREFIX}/"))
}

/// Delete for good what has been in the recycle bin for 30 days.
pub(crate) fn expire(state: &SimState) {
    let cutoff = state.clock.now() - jiff::SignedDuration::from_hours(24 * RETENTION_DAYS);
    let due = state.tenant().oldest_deletion().is_some_and(|t| t <= cutoff);
    if due {
        state.tenant_mut().purge_deleted_before(cutoff);
    }
}

pub(crate) fn handle(state: &SimState, req: &GraphRequest) -> GraphResponse {
    let rest = &req.path.trim_end_matches('/')[PREFIX.len()..];
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method.to_ascii_uppercase();
    match (method.as_str(), segs.as_slice()) {
        ("GET", []) => GraphResponse::bad_request(
            "Request_BadRequest",
            "Listing deleted items needs the type in the path: /directory/deletedItems/microsoft.graph.user (or \
             .group, .application, .servicePrincipal, .administrativeUnit).",
        ),
        ("GET", [cast]) if cast.starts_with("microsoft.graph.") => list(state, req, cast),
        ("GET", [id]) => get(state, req, id),
        ("DELETE", [id]) => purge(state, req, id),
        ("POST", [id, "restore"]) => restore(state, req, id),
        _ => method_not_allowed(),
    }
}

fn category_of_cast(cast: &str) -> Option<&'static Category> {
    CASTS.iter().find(|(c, _)| c.eq_ignore_ascii_case(cast)).and_then(|(_, name)| catalog::get(name))
}

fn context(req: &GraphRequest, what: &str) -> String {
    format!("{}/{}/$metadata#{what}", req.base, req.version)
}

/// Read permission and throttling of a read in the bin.
fn admit_read(state: &SimState, req: &GraphRequest, cat: &Category, cost: u32) -> Option<GraphResponse> {
    if !req.grant.allows(cat.permissions.read, true) {
        return Some(denied());
    }
    state.throttle.admit(cat.throttle, cost, false).err().map(throttled)
}

fn admit_write(state: &SimState, req: &GraphRequest, cat: &Category) -> Option<GraphResponse> {
    if !may_write(req, cat, &[]) {
        return Some(denied());
    }
    state.throttle.admit(cat.throttle, 1, true).err().map(throttled)
}

fn check_select(cat: &Category, select: Option<&[String]>) -> Result<(), GraphResponse> {
    for p in select.into_iter().flatten() {
        if p != "id" && !entra_backup::model::has_property(cat.entity_type, p) {
            return Err(GraphResponse::bad_request(
                "Request_BadRequest",
                format!("Could not find a property named '{p}' on type '{}'.", cat.entity_type),
            ));
        }
    }
    Ok(())
}

fn typed(obj_json: Map<String, Value>, cat: &Category, stored: &super::tenant::StoredObject) -> Map<String, Value> {
    let mut m = obj_json;
    m.shift_insert(0, "@odata.type".into(), json!(format!("#{}", stored.odata_type(cat))));
    m
}

fn list(state: &SimState, req: &GraphRequest, cast: &str) -> GraphResponse {
    let Some(cat) = category_of_cast(cast) else { return GraphResponse::segment_not_found(cast) };
    let q = match ODataQuery::parse(req.query) {
        Ok(q) => q,
        Err(e) => return e,
    };
    let cost = identity_cost(cat.cost, q.select.is_some(), q.expand.is_some(), q.top);
    if let Some(e) = admit_read(state, req, cat, cost) {
        return e;
    }
    let mut st = match &q.skiptoken {
        Some(tok) => match PageState::decode(tok).filter(|s| s.p == req.path) {
            Some(s) => s,
            None => {
                return GraphResponse::bad_request(
                    "Request_BadRequest",
                    "The page token in the request is not valid for this request.",
                );
            }
        },
        None => {
            let top = q.top.unwrap_or(100);
            if !(1..=999).contains(&top) {
                return GraphResponse::bad_request(
                    "Request_UnsupportedQuery",
                    format!("Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive."),
                );
            }
            if let Err(e) = check_select(cat, q.select.as_deref()) {
                return e;
            }
            PageState {
                p: req.path.to_string(),
                t: top,
                s: q.select.clone(),
                f: q.filter.as_ref().map(|(raw, _)| raw.clone()),
                ..Default::default()
            }
        }
    };
    let filter = match st.f.as_deref().map(Filter::parse) {
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => return GraphResponse::bad_request("Request_UnsupportedQuery", e),
        None => None,
    };
    if q.count && req.header("ConsistencyLevel") != Some("eventual") {
        return GraphResponse::bad_request(
            "Request_BadRequest",
            "$count is only supported with the ConsistencyLevel header set to eventual.",
        );
    }
    let tenant = state.tenant();
    // Category first, then the filter: a page decodes only the items it looks at.
    let matches = |e: &super::tenant::BinEntry<'_>| {
        e.category() == cat.name && filter.as_ref().is_none_or(|f| f.matches(&e.decode().object.json))
    };
    let mut items = Vec::new();
    let mut more = false;
    let mut last = None;
    for e in tenant.bin_entries(st.a.as_deref()).filter(|e| matches(e)) {
        if items.len() == st.t as usize {
            more = true;
            break;
        }
        let d = e.decode();
        items.push(Value::Object(project(&d.object, cat, st.s.as_deref(), true)));
        last = Some(d.object.id().to_string());
    }
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context(req, cat.name)));
    if q.count {
        body.insert("@odata.count".into(), json!(tenant.bin_entries(None).filter(|e| matches(e)).count()));
    }
    if more {
        st.a = last;
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{}/{}{}?$skiptoken={}", req.base, req.version, req.path, st.encode())),
        );
    }
    body.insert("value".into(), Value::Array(items));
    GraphResponse::ok(Value::Object(body))
}

fn get(state: &SimState, req: &GraphRequest, id: &str) -> GraphResponse {
    let q = match ODataQuery::parse(req.query) {
        Ok(q) => q,
        Err(e) => return e,
    };
    let Some(cat) = state.tenant().deleted_item(id).and_then(|d| catalog::get(d.category)) else {
        return GraphResponse::not_found(id);
    };
    if let Some(e) = admit_read(state, req, cat, 1) {
        return e;
    }
    if let Err(e) = check_select(cat, q.select.as_deref()) {
        return e;
    }
    let tenant = state.tenant();
    let Some(d) = tenant.deleted_item(id) else { return GraphResponse::not_found(id) };
    let mut m = typed(project(&d.object, cat, q.select.as_deref(), false), cat, &d.object);
    m.shift_insert(0, "@odata.context".into(), json!(context(req, "directoryObjects/$entity")));
    GraphResponse::ok(Value::Object(m))
}

fn restore(state: &SimState, req: &GraphRequest, id: &str) -> GraphResponse {
    let Some(cat) = state.tenant().deleted_item(id).and_then(|d| catalog::get(d.category)) else {
        return GraphResponse::not_found(id);
    };
    if let Some(e) = admit_write(state, req, cat) {
        return e;
    }
    let mut tenant = state.tenant_mut();
    let Some(d) = tenant.deleted_item(id) else { return GraphResponse::not_found(id) };
    // A service principal comes back only while no other holds its appId.
    if cat.name == "servicePrincipals" {
        let app_id = d.object.json.get("appId").and_then(Value::as_str).map(String::from);
        if let Some(app_id) = app_id
            && tenant.objects("servicePrincipals").any(|s| s.json.get("appId").and_then(Value::as_str) == Some(&app_id))
        {
            return GraphResponse::error(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                format!(
                    "The service principal cannot be created, updated, or restored because the service principal \
                     name {app_id} is already in use."
                ),
            );
        }
    }
    // A user comes back only while no other holds its sign-in name (v1.0 takes no new one).
    if cat.name == "users" {
        let upn = d.object.json.get("userPrincipalName").and_then(Value::as_str).map(str::to_ascii_lowercase);
        let taken = |u: super::StoredObject| {
            u.json.get("userPrincipalName").and_then(Value::as_str).map(str::to_ascii_lowercase) == upn
        };
        if let Some(name) = &upn
            && tenant.named("users", "userPrincipalName", name).any(taken)
        {
            return conflict("userPrincipalName");
        }
    }
    let obj = match tenant.restore_deleted(id) {
        Ok(o) => o,
        Err(_) => return GraphResponse::not_found(id),
    };
    let mut m = typed(project(&obj, cat, None, false), cat, &obj);
    m.shift_insert(0, "@odata.context".into(), json!(context(req, "directoryObjects/$entity")));
    GraphResponse::ok(Value::Object(m))
}

fn purge(state: &SimState, req: &GraphRequest, id: &str) -> GraphResponse {
    let Some(cat) = state.tenant().deleted_item(id).and_then(|d| catalog::get(d.category)) else {
        return GraphResponse::not_found(id);
    };
    if let Some(e) = admit_write(state, req, cat) {
        return e;
    }
    match state.tenant_mut().purge_deleted(id) {
        Some(_) => GraphResponse::status(204, None),
        None => GraphResponse::not_found(id),
    }
}
