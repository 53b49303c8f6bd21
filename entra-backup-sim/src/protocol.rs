//! What the request handlers share: the request, where its path leads, how an object is shown,
//! and the errors every handler can answer with. Reading (`handler`), writing (`write`) and the
//! recycle bin (`recycle`) each build on this module, never on each other's internals.

use serde_json::{Map, Value};

use super::errors::GraphResponse;
use super::tenant::StoredObject;
use super::throttle::Throttled;
use super::token::Grant;
use entra_backup::catalog::{self, Area, Category, Relationship, Shape};

/// `GET /users` returns only these unless `$select` asks for more.
pub(crate) const USER_DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

/// One request to the simulated Graph.
#[derive(Debug)]
pub(crate) struct GraphRequest<'a> {
    pub method: &'a str,
    /// `v1.0` or `beta`.
    pub version: &'a str,
    /// The path after the version, starting with `/`.
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    /// The JSON body of a write.
    pub body: Option<&'a Value>,
    pub grant: &'a Grant,
    /// `http://host:port`, for links.
    pub base: &'a str,
}

impl GraphRequest<'_> {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Where a path leads.
#[derive(Debug)]
pub(super) enum Route<'p> {
    Collection,
    Count,
    Delta,
    Item(&'p str),
    Relationship(&'p str, &'static Relationship),
    RelationshipRefs(&'p str, &'static Relationship),
}

pub(super) fn route(path: &str) -> Result<(&'static Category, Route<'_>), GraphResponse> {
    let path = path.trim_end_matches('/');
    // A delta function may live outside the collection's path (administrative units).
    if let Some(cat) = catalog::all().iter().find(|c| c.delta.as_ref().is_some_and(|d| d.path == path)) {
        return Ok((cat, Route::Delta));
    }
    // Longest catalog path first, so `/policies/crossTenantAccessPolicy/partners` wins over its parent.
    let mut best: Option<&'static Category> = None;
    for c in catalog::all() {
        let matches = path == c.path || path.strip_prefix(c.path).is_some_and(|r| r.starts_with('/'));
        if matches && best.is_none_or(|b| c.path.len() > b.path.len()) {
            best = Some(c);
        }
    }
    let Some(cat) = best else {
        let seg = path.trim_start_matches('/').split('/').next().unwrap_or_default();
        return Err(GraphResponse::segment_not_found(seg));
    };
    let rest = &path[cat.path.len()..];
    let segs: Vec<&str> = rest.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let rel = |name: &str| -> Result<&'static Relationship, GraphResponse> {
        cat.relationships.iter().find(|r| r.name == name).ok_or_else(|| GraphResponse::segment_not_found(name))
    };
    let r = match segs.as_slice() {
        [] => Route::Collection,
        ["$count"] if cat.shape == Shape::Collection => Route::Count,
        ["delta"] | ["microsoft.graph.delta()"] | ["delta()"] if cat.delta.is_some() => Route::Delta,
        [id] if cat.shape == Shape::Collection => Route::Item(id),
        [id, name] if cat.shape == Shape::Collection => Route::Relationship(id, rel(name)?),
        [id, name, "$ref"] if cat.shape == Shape::Collection => Route::RelationshipRefs(id, rel(name)?),
        [seg, ..] => return Err(GraphResponse::segment_not_found(seg)),
    };
    Ok((cat, r))
}

/// A 429 in Graph's shape for the family.
pub(crate) fn throttled(t: Throttled) -> GraphResponse {
    let mut r = GraphResponse::error(
        429,
        "TooManyRequests",
        "Too many requests. The request was throttled; retry after the time the service says.",
    )
    .header("x-ms-throttle-scope", t.scope);
    if !t.information.is_empty() {
        r = r.header("x-ms-throttle-information", t.information);
    }
    if let Some(s) = t.retry_after {
        r = r.header("Retry-After", s.to_string());
    }
    r
}

/// The JSON of an object as Graph returns it: selected properties, or the default set.
pub(crate) fn project(
    obj: &StoredObject,
    cat: &Category,
    select: Option<&[String]>,
    in_list: bool,
) -> Map<String, Value> {
    let mut out = project_raw(obj, cat, select, in_list);
    // Some types are keyed by another property (cross-tenant partners by tenantId): the store keeps
    // an `id` for them, Graph's JSON has none.
    if entra_backup::model::properties(cat.entity_type).is_some_and(|p| !p.contains(&"id")) {
        out.remove("id");
    }
    out
}

fn project_raw(obj: &StoredObject, cat: &Category, select: Option<&[String]>, in_list: bool) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(t) = obj.json.get("@odata.type") {
        out.insert("@odata.type".into(), t.clone());
    }
    match select {
        Some(sel) => {
            for p in sel {
                if in_list && cat.single_get_select.contains(&p.as_str()) {
                    continue;
                }
                out.insert(p.clone(), obj.json.get(p).cloned().unwrap_or(Value::Null));
            }
        }
        None => {
            let default = if cat.name == "users" { Some(USER_DEFAULT) } else { None };
            for (k, v) in &obj.json {
                if cat.single_get_select.contains(&k.as_str()) {
                    continue;
                }
                if default.is_some_and(|d| !d.contains(&k.as_str())) {
                    continue;
                }
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

pub(super) fn may_write(req: &GraphRequest, cat: &Category, extra: &[&str]) -> bool {
    let needed: Vec<&str> =
        cat.permissions.write.iter().chain(extra).copied().filter(|p| p.contains(".ReadWrite.")).collect();
    if needed.is_empty() {
        return cat.permissions.write.is_empty();
    }
    let directory = matches!(cat.area, Area::Identities | Area::Organization | Area::Applications | Area::Roles);
    req.grant
        .roles
        .iter()
        .any(|have| needed.contains(&have.as_str()) || (directory && have == "Directory.ReadWrite.All"))
}

pub(super) fn denied() -> GraphResponse {
    GraphResponse::error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

pub(super) fn method_not_allowed() -> GraphResponse {
    GraphResponse::error(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

pub(super) fn conflict(property: &str) -> GraphResponse {
    GraphResponse::bad_request(
        "Request_BadRequest",
        format!("Another object with the same value for property {property} already exists."),
    )
}
