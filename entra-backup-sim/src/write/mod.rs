//! Graph's write side over the simulated tenant, as a restore uses it: `POST` to create, `PATCH` to
//! update, `DELETE` (soft into the recycle bin, or for good), `$ref` links added and removed, a
//! user's manager set with `PUT`, contained children, Intune's `assign` action and PIM schedule
//! requests. Every change goes through [`Tenant`]'s mutators, so delta reports it.
//!
//! Status codes, error codes and messages are Graph's (see docs/simulator.md, "Writes", for which
//! ones Microsoft documents and which follow observed behaviour).
//!
//! This module routes a write to its handler and holds the checks every write shares (permissions,
//! throttling, the body's type and properties); the handlers are in `create`, `update` (and delete),
//! `references` (`@odata.bind` and `$ref`), `children` (contained children and actions) and
//! `schedules` (PIM schedule requests).

use serde_json::{Map, Value};

use super::SimState;
use super::errors::GraphResponse;
use super::protocol::{GraphRequest, Route, denied, may_write, method_not_allowed, route, throttled};
use super::tenant::{StoredObject, Tenant, TenantError};
use entra_backup::catalog::{
    self, ApiVersion, Category, Condition, Relationship, RelationshipKind, RelationshipWrite, Shape,
};

mod children;
mod create;
mod references;
mod schedules;
mod update;

use children::{action, add_child, delete_child, patch_child};
use create::create;
use references::{add_ref, put_ref, remove_ref};
use schedules::schedule_request;
use update::{delete, update};

/// At most this many `@odata.bind` links (members and owners together) in one create or update.
pub(crate) const MAX_BINDS: usize = 20;

/// Graph's answer to a write on an object synced from on-premises Active Directory.
pub(crate) const SYNCED_MESSAGE: &str = "Unable to update the specified properties for on-premises mastered Directory Sync \
                                  objects or objects currently undergoing migration.";

/// Graph's answer to creating a mail-enabled security group or a distribution list (its typo kept).
pub(crate) const MAIL_ENABLED_CREATE_MESSAGE: &str =
    "Cannot Create a mail-enabled security groups and or distribution list.";

/// The answer to changing one (observed wording, not documented).
pub(crate) const MAIL_ENABLED_UPDATE_MESSAGE: &str =
    "Cannot Update a mail-enabled security groups and or distribution list.";

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
pub(crate) fn handle(state: &SimState, req: &GraphRequest) -> Option<GraphResponse> {
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

/// Graph's refusal of a change to an object synced from on-premises AD.
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

fn tenant_error(e: TenantError) -> GraphResponse {
    match e {
        TenantError::NotFound { id, .. } => GraphResponse::not_found(&id),
        other => GraphResponse::error(500, "generalException", other.to_string()),
    }
}
