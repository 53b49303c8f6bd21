//! Graph's write side over the simulated tenant, as a restore uses it: `POST` to create, `PATCH` to
//! update, `DELETE` (soft into the recycle bin, or for good), `$ref` links added and removed, a
//! user's manager set with `PUT`, contained children, Intune's `assign` action and PIM schedule
//! requests. Every change goes through [`Tenant`]'s mutators, so delta reports it.
//!
//! Status codes, error codes and messages are Graph's (see docs/simulator.md, "Writes", for which
//! ones Microsoft documents and which follow observed behaviour).

use serde_json::{Map, Value, json};

use super::SimState;
use super::errors::GraphResponse;
use super::protocol::{
    GraphRequest, Route, conflict, denied, may_write, method_not_allowed, project, route, throttled,
};
use super::tenant::{Ref, Removal, StoredObject, Tenant, TenantError};
use entra_backup::catalog::{
    self, ApiVersion, Category, Condition, Relationship, RelationshipKind, RelationshipWrite, Shape, Strategy,
};

/// At most this many `@odata.bind` links (members and owners together) in one create or update.
pub const MAX_BINDS: usize = 20;

/// Graph's answer to a write on an object synced from on-premises Active Directory.
pub const SYNCED_MESSAGE: &str = "Unable to update the specified properties for on-premises mastered Directory Sync \
                                  objects or objects currently undergoing migration.";

/// Graph's answer to creating a mail-enabled security group or a distribution list (its typo kept).
pub const MAIL_ENABLED_CREATE_MESSAGE: &str = "Cannot Create a mail-enabled security groups and or distribution list.";

/// The answer to changing one (observed wording, not documented).
pub const MAIL_ENABLED_UPDATE_MESSAGE: &str = "Cannot Update a mail-enabled security groups and or distribution list.";

/// User properties Microsoft Entra Connect writes from on-premises AD: a synced user refuses them.
const SYNCED_USER_PROPERTIES: &[&str] = &[
    "accountEnabled",
    "businessPhones",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeHireDate",
    "employeeId",
    "employeeOrgData",
    "employeeType",
    "faxNumber",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesExtensionAttributes",
    "onPremisesImmutableId",
    "otherMails",
    "passwordProfile",
    "postalCode",
    "preferredLanguage",
    "proxyAddresses",
    "showInAddressList",
    "state",
    "streetAddress",
    "surname",
    "userPrincipalName",
];

/// Serve what the read side does not: every write, and the directory's recycle bin. `None` for a
/// read the read side serves.
pub fn handle(state: &SimState, req: &GraphRequest) -> Option<GraphResponse> {
    super::recycle::expire(state);
    if super::recycle::is_recycle_path(req.path) {
        return Some(super::recycle::handle(state, req));
    }
    if req.method.eq_ignore_ascii_case("GET") {
        return None;
    }
    Some(write(state, req))
}

/// What a write addresses.
#[derive(Debug)]
enum Target<'p> {
    /// The collection (create), or the one object of a singleton (update).
    Collection,
    Item(&'p str),
    /// `{path}/{id}/{rel}/$ref`.
    Refs(&'p str, &'static Relationship),
    /// `{path}/{id}/{rel}/{target}/$ref`.
    Ref(&'p str, &'static Relationship, &'p str),
    /// `{path}/{id}/{rel}` of contained children.
    Children(&'p str, &'static Relationship),
    /// `{path}/{id}/{rel}/{childId}`.
    Child(&'p str, &'static Relationship, &'p str),
    /// `{path}/{id}/assign` and the like: the relationship it replaces and the body property.
    Action(&'p str, &'static Relationship, &'static str),
}

fn target(path: &str) -> Result<(&'static Category, Target<'_>), GraphResponse> {
    let path = path.trim_end_matches('/');
    let first = match route(path) {
        Ok((cat, r)) => {
            let t = match r {
                Route::Collection => Target::Collection,
                Route::Item(id) => Target::Item(id),
                Route::RelationshipRefs(id, rel) => Target::Refs(id, rel),
                Route::Relationship(id, rel) => Target::Children(id, rel),
                Route::Count | Route::Delta => return Err(method_not_allowed()),
            };
            return Ok((cat, t));
        }
        Err(e) => e,
    };
    // `{rel}/{target}/$ref`, `{rel}/{childId}` and actions are one segment past what reads route.
    if let Some(base) = path.strip_suffix("/$ref")
        && let Some((parent, target)) = base.rsplit_once('/')
        && let Ok((cat, Route::Relationship(id, rel))) = route(parent)
    {
        return Ok((cat, Target::Ref(id, rel, target)));
    }
    if let Some((parent, last)) = path.rsplit_once('/') {
        match route(parent) {
            Ok((cat, Route::Relationship(id, rel))) if rel.kind == RelationshipKind::Contained => {
                return Ok((cat, Target::Child(id, rel, last)));
            }
            Ok((cat, Route::Item(id))) => {
                for rel in cat.relationships {
                    if let RelationshipWrite::Action { path: p, body_property } = &rel.write
                        && p.rsplit('/').next() == Some(last)
                    {
                        return Ok((cat, Target::Action(id, rel, body_property)));
                    }
                }
            }
            _ => {}
        }
    }
    Err(first)
}

fn write(state: &SimState, req: &GraphRequest) -> GraphResponse {
    let method = req.method.to_ascii_uppercase();
    let path = req.path.trim_end_matches('/');
    // PIM schedules are written through their request collections.
    if let Some(cat) = catalog::all().iter().find(|c| c.restore.create_path == Some(path)) {
        if method != "POST" {
            return method_not_allowed();
        }
        if let Some(e) = admit(state, req, cat) {
            return e;
        }
        return schedule_request(state, req, cat);
    }
    let (cat, target) = match target(path) {
        Ok(t) => t,
        Err(e) => return e,
    };
    if cat.api_version == ApiVersion::Beta && req.version != "beta" {
        let seg = cat.path.rsplit('/').next().unwrap_or(cat.path);
        return GraphResponse::segment_not_found(seg);
    }
    if let Some(e) = admit(state, req, cat) {
        return e;
    }
    match (method.as_str(), target) {
        ("POST", Target::Collection) if cat.shape == Shape::Collection => create(state, req, cat),
        ("PATCH", Target::Collection) if cat.shape == Shape::Singleton => {
            let id = state.tenant().objects(cat.name).next().map(|o| o.id().to_string());
            match id {
                Some(id) => update(state, req, cat, &id),
                None => GraphResponse::not_found(cat.name),
            }
        }
        ("PATCH", Target::Item(id)) => update(state, req, cat, id),
        ("DELETE", Target::Item(id)) => delete(state, cat, id),
        ("POST", Target::Refs(id, rel)) => add_ref(state, req, cat, id, rel),
        ("PUT", Target::Refs(id, rel)) => put_ref(state, req, cat, id, rel),
        ("DELETE", Target::Refs(id, rel)) if rel.kind == RelationshipKind::Link => {
            remove_ref(state, cat, id, rel, None)
        }
        ("DELETE", Target::Ref(id, rel, t)) => remove_ref(state, cat, id, rel, Some(t)),
        ("POST", Target::Children(id, rel)) => add_child(state, req, cat, id, rel),
        ("PATCH", Target::Child(id, rel, child)) => patch_child(state, req, cat, id, rel, child),
        ("DELETE", Target::Child(id, rel, child)) => delete_child(state, cat, id, rel, child),
        ("POST", Target::Action(id, rel, prop)) => action(state, req, cat, id, rel, prop),
        _ => method_not_allowed(),
    }
}

/// Permission and throttling checks every write passes first.
fn admit(state: &SimState, req: &GraphRequest, cat: &Category) -> Option<GraphResponse> {
    if !may_write(req, cat, &[]) {
        return Some(denied());
    }
    // Writes cost 1 resource unit and 1 write in the identity family (shared with reads), one
    // request elsewhere ("Microsoft Graph service-specific throttling limits").
    match state.throttle.admit(cat.throttle, 1, true) {
        Ok(_) => None,
        Err(t) => Some(throttled(t)),
    }
}

/// Whether the token holds a permission that writes this category (its `ReadWrite` ones, or
/// `Directory.ReadWrite.All` for directory objects).
fn synced_error() -> GraphResponse {
    GraphResponse::bad_request("Request_BadRequest", SYNCED_MESSAGE)
}

fn empty_payload() -> GraphResponse {
    GraphResponse::bad_request("BadRequest", "Empty Payload. JSON content expected.")
}

fn required(property: &str, resource: &str) -> GraphResponse {
    GraphResponse::bad_request(
        "Request_BadRequest",
        format!("A value is required for property '{property}' of resource '{resource}'."),
    )
}

fn too_many_links() -> GraphResponse {
    GraphResponse::bad_request("Request_BadRequest", "A resource cannot contain more than 20 link changes.")
}

fn body_object<'a>(req: &'a GraphRequest) -> Result<&'a Map<String, Value>, GraphResponse> {
    match req.body {
        Some(Value::Object(m)) if !m.is_empty() => Ok(m),
        _ => Err(empty_payload()),
    }
}

/// `User`, `Group`, `ServicePrincipal`: the resource name Graph's messages use.
fn resource_name(entity_type: &str) -> String {
    let short = entity_type.trim_start_matches('#').rsplit('.').next().unwrap_or(entity_type);
    let mut s = short.to_string();
    if let Some(f) = s.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    s
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.chars()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() })
}

fn now(state: &SimState) -> String {
    jiff::Timestamp::from_second(state.clock.now().as_second()).unwrap_or_else(|_| state.clock.now()).to_string()
}

fn str_of<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

fn flag(m: &Map<String, Value>, key: &str) -> bool {
    m.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn is_unified(m: &Map<String, Value>) -> bool {
    m.get("groupTypes").and_then(Value::as_array).is_some_and(|t| t.iter().any(|x| x == "Unified"))
}

fn is_dynamic(m: &Map<String, Value>) -> bool {
    m.get("groupTypes").and_then(Value::as_array).is_some_and(|t| t.iter().any(|x| x == "DynamicMembership"))
}

fn synced(obj: &StoredObject) -> bool {
    Condition::SyncedFromOnPremises.matches(&Value::Object(obj.json.clone()))
}

fn mail_enabled_non_unified(m: &Map<String, Value>) -> bool {
    flag(m, "mailEnabled") && !is_unified(m)
}

/// The verified domains of the tenant (the `domains` category), lower-cased.
fn verified_domains(tenant: &Tenant) -> Vec<String> {
    tenant.objects("domains").filter(|d| flag(&d.json, "isVerified")).map(|d| d.id().to_ascii_lowercase()).collect()
}

/// The tenant's default domain (mail addresses of new groups), or its initial one.
fn default_domain(tenant: &Tenant) -> String {
    tenant
        .objects("domains")
        .find(|d| flag(&d.json, "isDefault"))
        .map(|d| d.id().to_string())
        .unwrap_or_else(|| tenant.domain.clone())
}

/// The qualified type a create or update body names with `@odata.type`, checked against the
/// category; the category's entity type when the body names none and the type is not abstract.
fn body_type(cat: &Category, body: &Map<String, Value>, current: Option<&str>) -> Result<String, GraphResponse> {
    let given = str_of(body, "@odata.type").map(|t| t.trim_start_matches('#').to_string());
    let allowed: Vec<&str> = std::iter::once(cat.entity_type).chain(cat.derived_types.iter().copied()).collect();
    match (given, current) {
        (Some(t), Some(cur)) if t != cur => Err(GraphResponse::bad_request(
            "BadRequest",
            format!("The @odata.type '#{t}' does not match the object's type '#{cur}'."),
        )),
        (Some(t), _) if !allowed.contains(&t.as_str()) => Err(GraphResponse::bad_request(
            "BadRequest",
            format!("The @odata.type '#{t}' is not '#{}' or a type derived from it.", cat.entity_type),
        )),
        (Some(t), _) => Ok(t),
        // Named locations need their derived type on create and on update (both pages say so).
        (None, _) if !cat.derived_types.is_empty() && (current.is_none() || cat.name == "namedLocations") => {
            Err(GraphResponse::bad_request(
                "BadRequest",
                format!(
                    "The request body must give the @odata.type of a type derived from '#{}': {}.",
                    cat.entity_type,
                    cat.derived_types.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(", ")
                ),
            ))
        }
        (None, Some(cur)) => Ok(cur.to_string()),
        (None, None) => Ok(cat.entity_type.to_string()),
    }
}

/// Every property of a create or update body must exist on the type (per the CSDL, or as a
/// relationship written inline, such as an authentication method's `includeTargets`) and be
/// writable. Annotations and `@odata.bind` links are checked elsewhere.
fn check_properties(tenant: &Tenant, cat: &Category, ty: &str, body: &Map<String, Value>) -> Result<(), GraphResponse> {
    let Some(props) = entra_backup::model::properties(ty) else { return Ok(()) };
    for k in body.keys() {
        if k.contains('@') || k == "id" {
            continue;
        }
        let known = props.contains(&k.as_str())
            || cat.relationships.iter().any(|r| r.name == k && r.kind == RelationshipKind::Contained)
            || tenant.objects(cat.name).take(500).any(|o| o.json.contains_key(k));
        if !known {
            return Err(GraphResponse::bad_request(
                "Request_BadRequest",
                format!("Property '{k}' does not exist as a declared property or extension property."),
            ));
        }
        if cat.restore.read_only.contains(&k.as_str()) {
            return Err(GraphResponse::bad_request(
                "Request_BadRequest",
                format!("Property '{k}' is read-only and cannot be set."),
            ));
        }
    }
    Ok(())
}

/// The `{rel}@odata.bind` links of a body, resolved: (relationship, target). At most 20 in all;
/// every target must exist.
fn binds(
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
fn template(tenant: &Tenant, cat: &Category, ty: &str) -> Map<String, Value> {
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
        let mut bytes = super::generate::guid_bytes(&state.next_request_id()).to_vec();
        bytes.extend(super::generate::guid_bytes(&state.next_request_id()));
        return Ok(super::generate::b64url(&bytes));
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
fn contained(cat: &Category, key: &str) -> Option<&'static Relationship> {
    catalog::get(cat.name)?.relationships.iter().find(|r| r.name == key && r.kind == RelationshipKind::Contained)
}

/// Children given inline: objects, each with an `id` (made when missing).
fn child_list(state: &SimState, v: &Value) -> Vec<Map<String, Value>> {
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

fn create(state: &SimState, req: &GraphRequest, cat: &'static Category) -> GraphResponse {
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
    if tenant.get(cat.name, &id).is_some() || tenant.deleted_item(&id).is_some() {
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
            let taken = tenant.objects("servicePrincipals").any(|s| str_of(&s.json, "appId") == Some(app_id))
                || tenant
                    .deleted_items()
                    .any(|d| d.category == "servicePrincipals" && str_of(&d.object.json, "appId") == Some(app_id));
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
fn check_upn(tenant: &Tenant, upn: &str, except: Option<&str>) -> Result<(), GraphResponse> {
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
    if tenant.objects("users").any(|u| same(&u.json)) {
        return Err(conflict("userPrincipalName"));
    }
    Ok(())
}

/// A Microsoft 365 group's mail nickname is unique among Microsoft 365 groups (deleted ones too).
fn check_nickname(tenant: &Tenant, nickname: &str, except: Option<&str>) -> Result<(), GraphResponse> {
    let same = |json: &Map<String, Value>| {
        is_unified(json)
            && str_of(json, "mailNickname").is_some_and(|n| n.eq_ignore_ascii_case(nickname))
            && Some(json.get("id").and_then(Value::as_str).unwrap_or_default()) != except
    };
    if tenant.objects("groups").any(|g| same(&g.json))
        || tenant.deleted_items().any(|d| d.category == "groups" && same(&d.object.json))
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
        json.insert("securityIdentifier".into(), json!(super::generate::cloud_sid(&id)));
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
            let app = tenant.objects("applications").find(|a| str_of(&a.json, "appId") == Some(&app_id));
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

fn tenant_error(e: TenantError) -> GraphResponse {
    match e {
        TenantError::NotFound { id, .. } => GraphResponse::not_found(&id),
        other => GraphResponse::error(500, "generalException", other.to_string()),
    }
}

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

fn update(state: &SimState, req: &GraphRequest, cat: &'static Category, id: &str) -> GraphResponse {
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
    if let Err(e) = object_rules(cat, obj) {
        return e;
    }
    if synced(obj) {
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

fn delete(state: &SimState, cat: &'static Category, id: &str) -> GraphResponse {
    let mut tenant = state.tenant_mut();
    let Some(obj) = tenant.get(cat.name, id) else { return GraphResponse::not_found(id) };
    let deletable = cat.shape == Shape::Collection
        && (cat.name == "devices"
            || cat.restore.strategies.iter().any(|s| matches!(s, Strategy::Recreate | Strategy::RecycleBin)));
    if !deletable {
        return method_not_allowed();
    }
    if synced(obj) {
        return synced_error();
    }
    if built_in(obj) {
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
    let soft = soft_deletes(cat, obj);
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

fn duplicate_ref(rel: &Relationship) -> GraphResponse {
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

fn add_ref(
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
    if let Err(e) = link_rules(cat, obj, rel) {
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

fn put_ref(
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
    if let Err(e) = link_rules(cat, obj, rel) {
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

fn remove_ref(
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
    if let Err(e) = link_rules(cat, obj, rel) {
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

fn children_writable(rel: &Relationship) -> bool {
    rel.kind == RelationshipKind::Contained && matches!(rel.write, RelationshipWrite::Children)
}

fn add_child(
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

fn patch_child(
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

fn delete_child(state: &SimState, cat: &Category, id: &str, rel: &'static Relationship, child: &str) -> GraphResponse {
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
fn action(
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

/// `POST /roleManagement/directory/role{Eligibility,Assignment}ScheduleRequests`: `adminAssign`
/// makes a schedule (and for active assignments the role assignment, with the same id),
/// `adminUpdate` (and `adminExtend`, `adminRenew`) replaces its `scheduleInfo`, `adminRemove`
/// takes it away. Answers the request object, provisioned at once.
fn schedule_request(state: &SimState, req: &GraphRequest, cat: &'static Category) -> GraphResponse {
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
