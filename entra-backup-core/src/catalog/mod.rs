//! What an Entra ID tenant holds, and how each part of it is read and written through Microsoft Graph.
//!
//! The catalog is data: one [`Category`] per kind of object, all in [`CATEGORIES`]. Everything else (the
//! Graph source, the simulator, the restore planner, the permission report) reads it from here, so
//! adding a category is one entry in one table.
//!
//! ```
//! use entra_backup::catalog;
//!
//! let users = catalog::get("users").unwrap();
//! assert_eq!(users.path, "/users");
//! assert_eq!(users.page.max, 999);
//! assert!(users.delta.is_some());
//!
//! // What an app needs to back up groups and Conditional Access policies:
//! let perms = catalog::permissions(&["groups", "conditionalAccessPolicies"], false).unwrap();
//! assert!(perms.contains(&"GroupMember.Read.All") || perms.contains(&"Group.Read.All"));
//! ```

use serde::Serialize;

#[cfg(test)]
mod select_recorded;
mod table;
pub mod urls;

pub use table::CATEGORIES;

/// One kind of object in a tenant: where Graph serves it, how to read it, and how to restore it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    /// The camelCase Graph collection name, unique in the catalog: `users`, `conditionalAccessPolicies`.
    #[serde(flatten, serialize_with = "name_and_select")]
    pub name: &'static str,
    /// Where it sits in a tenant, for grouping in reports.
    pub area: Area,
    /// One line for people.
    pub description: &'static str,
    /// The Graph path of the collection (or singleton), relative to the version root: `/users`.
    pub path: &'static str,
    /// The Graph API version the path lives in.
    pub api_version: ApiVersion,
    /// The CSDL entity type of the items, qualified: `microsoft.graph.user`.
    pub entity_type: &'static str,
    /// Derived entity types that items may carry in `@odata.type` (`microsoft.graph.ipNamedLocation`).
    pub derived_types: &'static [&'static str],
    /// A collection of objects, or one object at a fixed path.
    pub shape: Shape,
    /// Who chooses an object's id, and so whether a recreated object keeps it.
    pub id: IdPolicy,
    /// The delta function, when Graph tracks changes for this category (`/users/delta`).
    pub delta: Option<Delta>,
    /// Page sizes of the list request.
    pub page: PageSize,
    /// Which properties a listing asks for with `$select` (see [`Category::selected`]).
    #[serde(skip)]
    pub select: Select,
    /// Properties Graph never returns in a list and that must be read one object at a time
    /// (`GET {path}/{id}?$select=...`), such as a BitLocker key's `key`.
    pub single_get_select: &'static [&'static str],
    /// Properties whose values are secrets: stored under the repository's secret key, never logged.
    pub secret_properties: &'static [&'static str],
    /// Links and contained children read through their own endpoints.
    pub relationships: &'static [Relationship],
    /// Properties that hold ids of other objects, remapped when those objects are recreated.
    pub references: &'static [ReferenceField],
    /// Least-privilege application permissions, to read and to restore.
    pub permissions: Permissions,
    /// How objects of this category come back, in the order the planner tries them.
    pub restore: Restore,
    /// Restore order: lower first. Objects may only reference categories with a lower rank.
    pub order: u16,
    /// The throttling family whose published limits pace requests to this category.
    pub throttle: ThrottleFamily,
    /// Resource units one list request costs in the identity family (Microsoft's published base cost).
    pub cost: u8,
    /// Reading it needs something beyond an Entra ID Free tenant (a licence or a product).
    pub requires: Option<&'static str>,
    /// Append-only records read by time window on this property (audit and sign-in logs), kept by
    /// age, never restored.
    pub time_property: Option<&'static str>,
    /// How late Graph may deliver records of a time-windowed category, in minutes: an incremental
    /// read starts this long before the newest record held. None: two hours.
    pub log_latency_minutes: Option<u32>,
    /// The part the category plays in Privileged Identity Management.
    pub pim: Pim,
    /// What the category tells about the tenant as a whole, if anything.
    pub tenant: Option<TenantFact>,
}

/// Which properties a listing asks for with `$select`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Select {
    /// Graph's default response carries every property: no `$select`.
    Default,
    /// Every property the generated model gives the entity type (and its base types), without
    /// `except` (not returned in a list, or needing another permission), with `extra` (properties
    /// Graph returns that the schema lacks).
    Model {
        /// Properties of the model left out.
        except: &'static [&'static str],
        /// Properties asked for beyond the model.
        extra: &'static [&'static str],
    },
}

/// The part a category plays in Privileged Identity Management.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "of")]
pub enum Pim {
    /// None.
    None,
    /// Assignments that PIM may have made for a while, or that a holder activated: a missing one
    /// comes back through its schedule in the named category, never as a permanent assignment.
    ScheduledBy(&'static str),
    /// Schedules, brought back by schedule requests under new ids. `activations`: active
    /// schedules may be a holder's activation, which only the holder can make again.
    Schedules {
        /// Whether schedules of this category may be activations.
        activations: bool,
    },
}

/// A fact about the whole tenant that one category holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TenantFact {
    /// Its count is the tenant's size, which sets the identity throttling quota (users).
    Size,
    /// Its one object describes the tenant: its name and domains (organization).
    Identity,
}

/// Where a category sits in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Area {
    /// Users, groups, devices, contacts.
    Identities,
    /// The tenant itself: organization, domains, licences, administrative units.
    Organization,
    /// App registrations, service principals, permission grants.
    Applications,
    /// Directory roles, role definitions and assignments, PIM schedules.
    Roles,
    /// Conditional Access, authentication, token, consent and cross-tenant policies; custom
    /// security attributes.
    Policies,
    /// Device data kept outside the device objects (BitLocker recovery keys).
    Devices,
    /// Intune device configuration and compliance policies.
    Intune,
    /// Audit and sign-in logs.
    Logs,
}

/// The Graph API version a path lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ApiVersion {
    /// `v1.0`: the stable API.
    #[serde(rename = "v1.0")]
    V1,
    /// `beta`: for what v1.0 lacks (Intune settings catalog and administrative templates).
    #[serde(rename = "beta")]
    Beta,
}

impl ApiVersion {
    /// The path segment: `v1.0` or `beta`.
    pub fn segment(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }
}

/// A collection of objects, or a single object at a fixed path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Shape {
    /// A list of objects with ids, read page by page.
    Collection,
    /// One object at a fixed path (a tenant-wide policy), read with one `GET` and restored by patching it.
    Singleton,
}

/// Who chooses an object's id on create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "properties")]
pub enum IdPolicy {
    /// Graph makes the id (a GUID, or an opaque key): a recreated object gets a new id, and every
    /// reference to the old one is remapped.
    ServiceAssigned,
    /// The caller names the object and the name is its id (`Engineering`, `contoso.com`, `c1`): the
    /// create body carries the id, and a recreated object keeps it.
    CallerKeyed,
    /// The id is made of properties the caller sets, joined with `_` (a custom security attribute
    /// definition is `{attributeSet}_{name}`), or the type has no `id` and is known by that
    /// property (a cross-tenant partner by `tenantId`). A recreated object keeps its id.
    NaturalKey(&'static [&'static str]),
}

impl IdPolicy {
    /// Whether the caller decides the id, so that a create body keeps the snapshot's `id` and a
    /// recreated object needs no remapping.
    pub fn caller_chooses(self) -> bool {
        !matches!(self, IdPolicy::ServiceAssigned)
    }

    /// The id a create body gives the new object, when the caller decides it: the natural key's
    /// parts joined with `_` when they are all present, else the body's `id`.
    pub fn id_from(self, body: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
        let text = |k: &str| body.get(k).and_then(serde_json::Value::as_str);
        match self {
            IdPolicy::ServiceAssigned => None,
            IdPolicy::CallerKeyed => text("id").map(String::from),
            IdPolicy::NaturalKey(parts) => {
                let values: Option<Vec<&str>> = parts.iter().map(|p| text(p)).collect();
                values.map(|v| v.join("_")).or_else(|| text("id").map(String::from))
            }
        }
    }
}

/// Delta (change tracking) support.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delta {
    /// The delta function's path: `/users/delta`.
    pub path: &'static str,
    /// Relationships tracked through delta as `<name>@delta` when selected (groups: `members`, `owners`).
    pub tracked_relationships: &'static [&'static str],
}

/// Page sizes of a list request.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageSize {
    /// Items in a page when no `$top` is given.
    pub default: u32,
    /// The largest `$top` Graph accepts (a larger one is refused). Equal to `default` where `$top`
    /// is not supported.
    pub max: u32,
    /// Whether `$top` is accepted at all.
    pub top_supported: bool,
}

/// A relationship of an object: links to other objects, or children it contains.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Relationship {
    /// The navigation property: `members`, `owners`, `manager`, `assignments`.
    pub name: &'static str,
    /// The Graph path, with `{id}` standing for the parent's id: `/groups/{id}/members`.
    pub path: &'static str,
    /// The CSDL type of the targets: `microsoft.graph.directoryObject`.
    pub target_type: &'static str,
    /// Categories the targets may belong to (for references and remapping). Empty for contained children.
    pub target_categories: &'static [&'static str],
    /// A link collection, a single link, or contained child objects.
    pub kind: RelationshipKind,
    /// Page sizes of the relationship's list request.
    pub page: PageSize,
    /// Resource units one read costs in the identity family.
    pub cost: u8,
    /// How a restore writes it back.
    pub write: RelationshipWrite,
    /// Application permissions beyond the category's own to read it (empty: none).
    pub read_permissions: &'static [&'static str],
}

/// What a relationship holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RelationshipKind {
    /// Links to objects that exist on their own (group members): restored by adding references.
    Links,
    /// One link (a user's manager).
    Link,
    /// Objects that exist only inside the parent (a policy's assignments, a settings-catalog
    /// policy's settings): stored with the parent and restored with it.
    Contained,
}

/// How a restore writes a relationship back.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum RelationshipWrite {
    /// `POST {path}/$ref` with `{"@odata.id": ...}` to add, `DELETE {path}/{target}/$ref` to remove.
    /// `bind_on_create`: the create request accepts `<name>@odata.bind` (at most 20 per request).
    Ref {
        /// Whether the create request may carry the links as `<name>@odata.bind`.
        bind_on_create: bool,
    },
    /// `PUT {path}/$ref` with `{"@odata.id": ...}` (a single link such as manager).
    PutRef,
    /// A Graph action that replaces the whole set: `POST {path}` with a body (Intune `assign`).
    Action {
        /// The action's path, with `{id}` standing for the parent's id.
        path: &'static str,
        /// The body property that carries the whole set (`assignments`).
        body_property: &'static str,
    },
    /// Each child is created with `POST {path}` and patched with `PATCH {path}/{childId}`.
    Children,
    /// Written as part of the parent's body.
    WithParent,
    /// Graph offers no way to write it.
    NotWritable {
        /// Why, for the restore report.
        reason: &'static str,
    },
}

/// A property path holding ids of objects in other categories.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceField {
    /// A dotted JSON path; `[]` steps into every element of an array:
    /// `conditions.users.includeGroups`, `assignments[].target.groupId`.
    pub path: &'static str,
    /// The categories the ids may belong to.
    pub targets: &'static [&'static str],
    /// Values that are not ids (`All`, `None`, `GuestsOrExternalUsers`) and are never remapped.
    pub keywords: &'static [&'static str],
}

/// Least-privilege application permissions.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Permissions {
    /// To read every property and relationship the catalog names.
    pub read: &'static [&'static str],
    /// To restore (create, update, relink). Empty when nothing can be restored.
    pub write: &'static [&'static str],
    /// Directory roles an app also needs for some writes, with what they are for.
    pub notes: Option<&'static str>,
}

/// How objects of a category come back.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restore {
    /// Strategies in the order the planner tries them.
    pub strategies: &'static [Strategy],
    /// Objects (or properties) Graph will not let anyone restore, and why.
    pub limits: &'static [Limit],
    /// Create-time body: the path to POST to (defaults to the category path).
    pub create_path: Option<&'static str>,
    /// Properties Graph refuses on create or update (read-only or computed): left out of writes.
    pub read_only: &'static [&'static str],
    /// A recreated object needs a new password (`passwordProfile`), to be changed at first sign-in.
    pub new_password: bool,
    /// A second id the service assigns on create, remapped like the object's id (an application's
    /// `appId`, which service principals and permission grants name).
    pub also_remapped: Option<&'static str>,
    /// The relationship whose links Entra ID computes when [`Condition::DynamicMembership`]
    /// matches (a dynamic group's members): never written back.
    pub dynamic_members: Option<&'static str>,
}

/// One way back for a changed or missing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Strategy {
    /// `POST /directory/deletedItems/{id}/restore` while the object is in the recycle bin (30 days),
    /// then patch it to the snapshot's state.
    RecycleBin,
    /// Create it anew (it gets a new id) and remap every reference to the old id.
    Recreate,
    /// `PATCH` the live object to the snapshot's values.
    Patch,
    /// `PATCH` (or `PUT`) the one object at a fixed path.
    SingletonPatch,
    /// Re-add and remove links to match the snapshot.
    Relink,
    /// A Graph request that writes a new object standing for the old one (PIM schedule requests).
    Request,
}

/// A part of a category that cannot be restored through Graph.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limit {
    /// Which objects it applies to.
    pub when: Condition,
    /// Why, in words a person reads in a report.
    pub reason: &'static str,
}

/// A condition on an object, evaluated by the planner on the snapshot's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Condition {
    /// Every object of the category.
    Always,
    /// `onPremisesSyncEnabled` is true: the source of authority is on-premises AD.
    SyncedFromOnPremises,
    /// A mail-enabled security group or a distribution list (`mailEnabled` and not `Unified`).
    MailEnabledNonUnifiedGroup,
    /// Built in to Entra ID (`isBuiltIn` true): a template, not an object of the tenant.
    BuiltIn,
    /// A hard-deleted object of a type the recycle bin never holds (security groups).
    HardDeleted,
    /// Properties whose values Graph never returns (secrets): the rest of the object is restored.
    SecretProperties,
    /// Members computed from a membership rule: a group with `DynamicMembership` among its
    /// `groupTypes`, or an administrative unit whose `membershipType` is `Dynamic`.
    DynamicMembership,
}

impl Condition {
    /// Whether an object (its Graph JSON) meets the condition.
    pub fn matches(self, object: &serde_json::Value) -> bool {
        let flag = |name: &str| object.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
        match self {
            Condition::Always => true,
            Condition::SyncedFromOnPremises => flag("onPremisesSyncEnabled"),
            Condition::MailEnabledNonUnifiedGroup => {
                let unified = object
                    .get("groupTypes")
                    .and_then(|v| v.as_array())
                    .is_some_and(|types| types.iter().any(|t| t == "Unified"));
                flag("mailEnabled") && !unified
            }
            Condition::BuiltIn => flag("isBuiltIn"),
            Condition::DynamicMembership => {
                object
                    .get("groupTypes")
                    .and_then(|v| v.as_array())
                    .is_some_and(|t| t.iter().any(|x| x == "DynamicMembership"))
                    || object.get("membershipType").and_then(|v| v.as_str()) == Some("Dynamic")
            }
            Condition::HardDeleted | Condition::SecretProperties => false,
        }
    }
}

/// A family of Microsoft's published throttling limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ThrottleFamily {
    /// Identity and access: resource units per app and tenant, by tenant size; write quotas.
    Identity,
    /// Conditional Access and Identity Protection: 1 request per second per tenant, no Retry-After.
    ConditionalAccess,
    /// Identity and access reports (audit and sign-in logs): 5 requests per 10 s per app and tenant.
    Reports,
    /// Intune device configuration: 1,000 requests per 20 s per app and tenant, writes 100 per 20 s.
    Intune,
    /// Everything else: Graph's global limit only.
    Global,
}

impl Category {
    /// The properties a listing selects: none for [`Select::Default`], else the model's properties
    /// of the entity type, in the model's order, as [`Select::Model`] adjusts them.
    pub fn selected(&self) -> &'static [&'static str] {
        static DERIVED: std::sync::OnceLock<Vec<(&'static str, Vec<&'static str>)>> = std::sync::OnceLock::new();
        let derived = DERIVED.get_or_init(|| CATEGORIES.iter().map(|c| (c.name, derive_select(c))).collect());
        match derived.iter().find(|(name, _)| *name == self.name) {
            Some((_, list)) => list,
            // A category built outside the table: derived each time (and kept for the process).
            None => Box::leak(derive_select(self).into_boxed_slice()),
        }
    }

    /// The category holding a fact about the whole tenant.
    pub fn holding(fact: TenantFact) -> &'static Category {
        CATEGORIES.iter().find(|c| c.tenant == Some(fact)).expect("the catalog names a category for every tenant fact")
    }
}

fn derive_select(c: &Category) -> Vec<&'static str> {
    match c.select {
        Select::Default => Vec::new(),
        Select::Model { except, extra } => {
            let model = crate::model::properties(c.entity_type).unwrap_or_default();
            model.iter().copied().filter(|p| !except.contains(p)).chain(extra.iter().copied()).collect()
        }
    }
}

/// As JSON a category shows the properties its listing selects (after its name), not how they
/// are derived.
fn name_and_select<S: serde::Serializer>(name: &&'static str, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let select = get(name).map_or(&[][..], Category::selected);
    let mut map = s.serialize_map(Some(2))?;
    map.serialize_entry("name", name)?;
    map.serialize_entry("select", select)?;
    map.end()
}

/// Every category, in restore order.
pub fn all() -> &'static [Category] {
    CATEGORIES
}

/// The category with this name (case-sensitive camelCase, as Graph spells it).
pub fn get(name: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.name == name)
}

/// Resolve a comma-separated or listed scope to categories, with one clear error for an unknown name.
pub fn resolve<S: AsRef<str>>(names: &[S]) -> Result<Vec<&'static Category>, UnknownCategory> {
    names
        .iter()
        .map(|n| {
            let n = n.as_ref().trim();
            get(n).ok_or_else(|| UnknownCategory(n.to_string()))
        })
        .collect()
}

/// A category name the catalog does not know. Its message quotes the name (escaped: it may hold
/// anything) and names the close matches.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "unknown category {}{} (run `entra-backup categories` to list them)",
    crate::text::quote(.0),
    crate::text::did_you_mean(&crate::text::close_matches(.0, CATEGORIES.iter().map(|c| c.name)))
)]
pub struct UnknownCategory(pub String);

/// The least-privilege application permissions needed to back up (and with `restore`, to restore)
/// the named categories (all of them when `names` is empty), sorted and without duplicates.
/// A `ReadWrite` permission makes the matching `Read` one redundant, so it is left out.
pub fn permissions<S: AsRef<str>>(names: &[S], restore: bool) -> Result<Vec<&'static str>, UnknownCategory> {
    let cats = if names.is_empty() { CATEGORIES.iter().collect() } else { resolve(names)? };
    let mut out: Vec<&'static str> = Vec::new();
    for c in cats {
        out.extend(c.permissions.read.iter().copied());
        for r in c.relationships {
            out.extend(r.read_permissions.iter().copied());
        }
        if restore {
            out.extend(c.permissions.write.iter().copied());
        }
    }
    out.sort_unstable();
    out.dedup();
    let covered = |p: &str| {
        // `X.Read.All` is implied by `X.ReadWrite.All`; `X.ReadBasic.All` by either.
        let write = p.replacen(".ReadBasic.", ".ReadWrite.", 1).replacen(".Read.", ".ReadWrite.", 1);
        let read = p.replacen(".ReadBasic.", ".Read.", 1);
        (write != p && out.contains(&write.as_str())) || (read != p && out.contains(&read.as_str()))
    };
    let keep: Vec<&'static str> = out.iter().copied().filter(|p| !covered(p)).collect();
    Ok(keep)
}

#[cfg(test)]
mod tests {
    use super::IdPolicy;
    use serde_json::{Map, Value, json};

    #[test]
    fn the_id_policy_says_whose_id_a_create_keeps() {
        let body = |v: Value| -> Map<String, Value> { serde_json::from_value(v).unwrap() };
        let named = body(json!({"id": "c1", "attributeSet": "Eng", "name": "Level"}));
        assert_eq!(IdPolicy::ServiceAssigned.id_from(&named), None);
        assert!(!IdPolicy::ServiceAssigned.caller_chooses());
        assert_eq!(IdPolicy::CallerKeyed.id_from(&named).as_deref(), Some("c1"));
        let key = IdPolicy::NaturalKey(&["attributeSet", "name"]);
        assert!(key.caller_chooses());
        assert_eq!(key.id_from(&named).as_deref(), Some("Eng_Level"));
        // A part missing: the body's own id, if it has one.
        assert_eq!(key.id_from(&body(json!({"id": "x", "name": "Level"}))).as_deref(), Some("x"));
        assert_eq!(key.id_from(&body(json!({"name": "Level"}))), None);
        let keyed: Vec<&str> = super::all().iter().filter(|c| c.id.caller_chooses()).map(|c| c.name).collect();
        assert_eq!(keyed.len(), 7, "{keyed:?}");
    }

    #[test]
    fn an_unknown_category_is_quoted_with_its_close_matches() {
        let e = super::resolve(&["user"]).unwrap_err().to_string();
        assert!(e.starts_with("unknown category 'user' (did you mean 'users'?)"), "{e}");
        let e = super::resolve(&["x\nerror: forged"]).unwrap_err().to_string();
        assert!(!e.contains('\n') && e.contains(r"'x\nerror: forged'"), "{e}");
    }
}
