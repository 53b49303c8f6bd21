//! A small model of Microsoft Graph's CSDL (`schema/v1.0-Prod.csdl`) and a checker that tells
//! whether a JSON value is true to it: every property exists on the type (or a base type), holds
//! the right JSON type, enum values are members, nested complex and entity values are checked
//! recursively, and an object carrying `@odata.type` is checked against that type (which must derive
//! from the expected one).
//!
//! ```
//! use entra_backup_test_support::csdl;
//! let json = serde_json::json!({"id": "1", "displayName": "Adele", "accountEnabled": "yes"});
//! let violations = csdl::check_value("microsoft.graph.user", &json);
//! assert_eq!(violations.len(), 1, "{violations:#?}"); // accountEnabled is an Edm.Boolean
//! ```
//!
//! Type names may be given qualified (`microsoft.graph.user`), with the schema's alias
//! (`graph.user`), or as `@odata.type` writes them (`#microsoft.graph.user`).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The path of the v1.0 schema in this crate.
pub const V1_SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../entra-backup-core/schema/v1.0-Prod.csdl");

/// One property of a structured type.
#[derive(Debug, Clone)]
pub struct Property {
    /// The qualified element type: `Edm.String`, `microsoft.graph.assignedLicense`.
    pub type_name: String,
    /// `Collection(...)`.
    pub collection: bool,
    /// A navigation property (Graph returns some inline, such as `includeTargets`).
    pub navigation: bool,
    /// `Nullable="false"` in the schema.
    pub non_nullable: bool,
}

/// An entity or complex type.
#[derive(Debug, Clone)]
pub struct StructuredType {
    pub name: String,
    pub base: Option<String>,
    pub is_entity: bool,
    pub is_abstract: bool,
    pub is_open: bool,
    /// The key properties an entity type declares (`id` for most, inherited from `entity`).
    pub key: Vec<String>,
    pub properties: HashMap<String, Property>,
}

/// An enum type.
#[derive(Debug, Clone)]
pub struct EnumType {
    pub name: String,
    pub is_flags: bool,
    pub members: HashSet<String>,
}

/// The types of a CSDL document.
#[derive(Debug, Default)]
pub struct Csdl {
    pub types: HashMap<String, StructuredType>,
    pub enums: HashMap<String, EnumType>,
    /// Alias -> namespace (`graph` -> `microsoft.graph`).
    pub aliases: HashMap<String, String>,
}

/// The v1.0 schema, parsed once per test binary.
pub fn model() -> &'static Csdl {
    static MODEL: OnceLock<Csdl> = OnceLock::new();
    MODEL.get_or_init(|| {
        let xml = std::fs::read_to_string(V1_SCHEMA).unwrap_or_else(|e| panic!("read {V1_SCHEMA}: {e}"));
        Csdl::parse(&xml).unwrap_or_else(|e| panic!("parse {V1_SCHEMA}: {e}"))
    })
}

/// Check a value against a type of the v1.0 schema. See [`Csdl::check_value`].
pub fn check_value(qualified_type: &str, value: &Value) -> Vec<String> {
    model().check_value(qualified_type, value)
}

/// Check a Graph response body against the v1.0 schema: a collection page (`{"value": [...]}`,
/// each item of `qualified_type`, with `@odata.nextLink` and other annotations alongside) or a
/// single object. See [`Csdl::check_response`].
pub fn check_response(qualified_type: &str, body: &Value) -> Vec<String> {
    model().check_response(qualified_type, body)
}

impl Csdl {
    /// Check a Graph response body: a collection page (`{"value": [...]}` and annotations) has
    /// each item checked against `qualified_type` (paths `$.value[i]...`); anything else is
    /// checked as one value of that type.
    pub fn check_response(&self, qualified_type: &str, body: &Value) -> Vec<String> {
        let page = body.as_object().filter(|m| {
            m.get("value").is_some_and(Value::is_array) && m.keys().all(|k| k == "value" || k.contains('@'))
        });
        match page {
            Some(m) => {
                let ty = self.qualify(qualified_type.trim_start_matches("Collection(").trim_end_matches(')'));
                let mut out = Vec::new();
                self.check_collection(&ty, &m["value"], "$.value", &mut out);
                out
            }
            None => self.check_value(qualified_type, body),
        }
    }

    /// Parse a CSDL (EDMX) document.
    pub fn parse(xml: &str) -> Result<Csdl, String> {
        let doc = roxmltree::Document::parse(xml).map_err(|e| e.to_string())?;
        let mut csdl = Csdl::default();
        let schemas: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("Schema")).collect();
        for s in &schemas {
            if let (Some(ns), Some(alias)) = (s.attribute("Namespace"), s.attribute("Alias")) {
                csdl.aliases.insert(alias.to_string(), ns.to_string());
            }
        }
        for s in &schemas {
            let ns = s.attribute("Namespace").ok_or("a Schema without Namespace")?;
            for t in s.children().filter(|n| n.is_element()) {
                let Some(name) = t.attribute("Name") else { continue };
                let qualified = format!("{ns}.{name}");
                match t.tag_name().name() {
                    "EntityType" | "ComplexType" => {
                        let mut properties = HashMap::new();
                        for p in t.children().filter(|n| n.is_element()) {
                            let navigation = match p.tag_name().name() {
                                "Property" => false,
                                "NavigationProperty" => true,
                                _ => continue,
                            };
                            let (Some(pname), Some(ptype)) = (p.attribute("Name"), p.attribute("Type")) else {
                                continue;
                            };
                            let (inner, collection) = match ptype.strip_prefix("Collection(") {
                                Some(rest) => (rest.trim_end_matches(')'), true),
                                None => (ptype, false),
                            };
                            properties.insert(
                                pname.to_string(),
                                Property {
                                    type_name: csdl.qualify(inner),
                                    collection,
                                    navigation,
                                    non_nullable: p.attribute("Nullable") == Some("false"),
                                },
                            );
                        }
                        csdl.types.insert(
                            qualified.clone(),
                            StructuredType {
                                name: qualified,
                                base: t.attribute("BaseType").map(|b| csdl.qualify(b)),
                                is_entity: t.tag_name().name() == "EntityType",
                                is_abstract: t.attribute("Abstract") == Some("true"),
                                is_open: t.attribute("OpenType") == Some("true"),
                                key: t
                                    .children()
                                    .filter(|n| n.has_tag_name("Key"))
                                    .flat_map(|k| k.children().filter(|n| n.has_tag_name("PropertyRef")))
                                    .filter_map(|r| r.attribute("Name").map(str::to_string))
                                    .collect(),
                                properties,
                            },
                        );
                    }
                    "EnumType" => {
                        let members = t
                            .children()
                            .filter(|n| n.has_tag_name("Member"))
                            .filter_map(|m| m.attribute("Name").map(str::to_string))
                            .collect();
                        csdl.enums.insert(
                            qualified.clone(),
                            EnumType { name: qualified, is_flags: t.attribute("IsFlags") == Some("true"), members },
                        );
                    }
                    _ => {}
                }
            }
        }
        if csdl.types.is_empty() {
            return Err("no entity or complex types".into());
        }
        Ok(csdl)
    }

    /// A type name as the document or a payload writes it, made fully qualified.
    pub fn qualify(&self, name: &str) -> String {
        let name = name.trim_start_matches('#');
        if name.starts_with("Edm.") {
            return name.to_string();
        }
        if let Some((prefix, local)) = name.rsplit_once('.') {
            if let Some(ns) = self.aliases.get(prefix) {
                return format!("{ns}.{local}");
            }
        }
        name.to_string()
    }

    pub fn structured(&self, name: &str) -> Option<&StructuredType> {
        self.types.get(&self.qualify(name))
    }

    /// A property of a type or one of its base types.
    pub fn property(&self, type_name: &str, property: &str) -> Option<&Property> {
        let mut t = self.structured(type_name);
        while let Some(ty) = t {
            if let Some(p) = ty.properties.get(property) {
                return Some(p);
            }
            t = ty.base.as_deref().and_then(|b| self.types.get(b));
        }
        None
    }

    /// The key properties of an entity type (declared on it or inherited).
    pub fn key(&self, type_name: &str) -> Vec<String> {
        let mut t = self.structured(type_name);
        while let Some(ty) = t {
            if !ty.key.is_empty() {
                return ty.key.clone();
            }
            t = ty.base.as_deref().and_then(|b| self.types.get(b));
        }
        Vec::new()
    }

    /// Every property of a type and its base types (navigation properties included).
    pub fn all_properties(&self, type_name: &str) -> Vec<(&str, &Property)> {
        let mut out = Vec::new();
        let mut t = self.structured(type_name);
        while let Some(ty) = t {
            out.extend(ty.properties.iter().map(|(k, v)| (k.as_str(), v)));
            t = ty.base.as_deref().and_then(|b| self.types.get(b));
        }
        out
    }

    /// Whether `derived` is `base` or derives from it.
    pub fn derives_from(&self, derived: &str, base: &str) -> bool {
        let base = self.qualify(base);
        let mut t = self.structured(derived);
        while let Some(ty) = t {
            if ty.name == base {
                return true;
            }
            t = ty.base.as_deref().and_then(|b| self.types.get(b));
        }
        false
    }

    /// Check a JSON value against a type (`microsoft.graph.user`, `Edm.String`, or
    /// `Collection(...)`). Returns human-readable violations, each starting with the JSON path;
    /// empty when the value is true to the schema. `null` is accepted for every property.
    pub fn check_value(&self, qualified_type: &str, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let (inner, collection) = match qualified_type.strip_prefix("Collection(") {
            Some(rest) => (rest.trim_end_matches(')'), true),
            None => (qualified_type, false),
        };
        let ty = self.qualify(inner);
        if collection {
            self.check_collection(&ty, value, "$", &mut out);
        } else {
            self.check_single(&ty, value, "$", &mut out);
        }
        out
    }

    /// Check a JSON object against a structured type. See [`Csdl::check_value`].
    pub fn check_object(&self, qualified_type: &str, object: &Map<String, Value>) -> Vec<String> {
        let mut out = Vec::new();
        self.check_structured(&self.qualify(qualified_type), object, "$", &mut out);
        out
    }

    fn check_collection(&self, ty: &str, value: &Value, path: &str, out: &mut Vec<String>) {
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_single(ty, item, &format!("{path}[{i}]"), out);
                }
            }
            other => out.push(format!("{path}: expected an array of {ty}, got {}", kind(other))),
        }
    }

    fn check_single(&self, ty: &str, value: &Value, path: &str, out: &mut Vec<String>) {
        if value.is_null() {
            return;
        }
        if let Some(prim) = ty.strip_prefix("Edm.") {
            check_primitive(prim, value, path, out);
        } else if let Some(e) = self.enums.get(ty) {
            match value.as_str() {
                Some(s) => {
                    let values: Vec<&str> = if e.is_flags { s.split(',').map(str::trim).collect() } else { vec![s] };
                    for v in values {
                        if !e.members.contains(v) {
                            let mut members: Vec<&str> = e.members.iter().map(String::as_str).collect();
                            members.sort_unstable();
                            out.push(format!("{path}: '{v}' is not a member of enum {ty} ({})", members.join(", ")));
                        }
                    }
                }
                None => out.push(format!("{path}: expected a string member of enum {ty}, got {}", kind(value))),
            }
        } else if self.types.contains_key(ty) {
            match value {
                Value::Object(map) => self.check_structured(ty, map, path, out),
                other => out.push(format!("{path}: expected an object of type {ty}, got {}", kind(other))),
            }
        } else {
            out.push(format!("{path}: the schema has no type {ty}"));
        }
    }

    fn check_structured(&self, expected: &str, map: &Map<String, Value>, path: &str, out: &mut Vec<String>) {
        let mut ty = expected.to_string();
        if let Some(t) = map.get("@odata.type") {
            let Some(s) = t.as_str() else {
                out.push(format!("{path}.@odata.type: expected a string, got {}", kind(t)));
                return;
            };
            if !s.starts_with('#') {
                out.push(format!("{path}.@odata.type: '{s}' should start with '#'"));
            }
            let actual = self.qualify(s);
            if !self.types.contains_key(&actual) {
                out.push(format!("{path}.@odata.type: the schema has no type {actual}"));
                return;
            }
            if !self.derives_from(&actual, expected) {
                out.push(format!("{path}.@odata.type: {actual} does not derive from {expected}"));
                return;
            }
            ty = actual;
        }
        let Some(def) = self.types.get(&ty) else {
            out.push(format!("{path}: the schema has no type {ty}"));
            return;
        };
        if def.is_abstract && !def.is_entity {
            out.push(format!("{path}: {ty} is abstract: the object needs an @odata.type of a derived type"));
        }
        for (key, value) in map {
            if key.starts_with('@') || key.contains('@') {
                continue;
            }
            let child = format!("{path}.{key}");
            match self.property(&ty, key) {
                None => out.push(format!("{child}: property '{key}' is not on type {ty} or its base types")),
                Some(p) if p.collection => self.check_collection(&p.type_name, value, &child, out),
                Some(p) => self.check_single(&p.type_name, value, &child, out),
            }
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a floating-point number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_primitive(prim: &str, value: &Value, path: &str, out: &mut Vec<String>) {
    let ok = match prim {
        "String" | "Binary" | "Duration" | "TimeOfDay" | "Stream" => value.is_string(),
        "Guid" => value.as_str().is_some_and(is_guid),
        "DateTimeOffset" => value.as_str().is_some_and(is_date_time_offset),
        "Date" => value.as_str().is_some_and(is_date),
        "Boolean" => value.is_boolean(),
        "Byte" | "SByte" | "Int16" | "Int32" | "Int64" => value.is_i64() || value.is_u64(),
        // Graph writes INF, -INF and NaN as strings.
        "Double" | "Single" | "Decimal" => value.is_number() || matches!(value.as_str(), Some("INF" | "-INF" | "NaN")),
        // Untyped and abstract primitive types hold anything.
        _ => true,
    };
    if !ok {
        let what = match prim {
            "Guid" => "a GUID string (8-4-4-4-12 hex digits)",
            "DateTimeOffset" => "an ISO 8601 date and time with an offset (2024-01-31T12:00:00Z)",
            "Date" => "an ISO 8601 date (2024-01-31)",
            "Boolean" => "a boolean",
            "Byte" | "SByte" | "Int16" | "Int32" | "Int64" => "an integer",
            "Double" | "Single" | "Decimal" => "a number",
            _ => "a string",
        };
        out.push(format!("{path}: expected Edm.{prim}, {what}; got {}", render(value)));
    }
}

fn render(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 { format!("{}...", &s[..s.char_indices().nth(77).map_or(s.len(), |(i, _)| i)]) } else { s }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits in either case.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// `YYYY-MM-DDThh:mm(:ss(.fffffff)?)?` followed by `Z` or `+hh:mm` / `-hh:mm`.
pub fn is_date_time_offset(s: &str) -> bool {
    if s.len() < 17 || !is_date(&s[..10]) || s.as_bytes()[10] != b'T' {
        return false;
    }
    let rest = &s[11..];
    let (time, zone_ok) = if let Some(t) = rest.strip_suffix('Z') {
        (t, true)
    } else if rest.len() > 6 {
        let (t, z) = rest.split_at(rest.len() - 6);
        let zb = z.as_bytes();
        let ok = matches!(zb[0], b'+' | b'-')
            && zb[1].is_ascii_digit()
            && zb[2].is_ascii_digit()
            && zb[3] == b':'
            && zb[4].is_ascii_digit()
            && zb[5].is_ascii_digit();
        (t, ok)
    } else {
        (rest, false)
    };
    if !zone_ok {
        return false;
    }
    let (hms, frac) = match time.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (time, None),
    };
    let hb = hms.as_bytes();
    let hms_ok = match hb.len() {
        5 | 8 => hb.iter().enumerate().all(|(i, c)| match i {
            2 | 5 => *c == b':',
            _ => c.is_ascii_digit(),
        }),
        _ => false,
    };
    hms_ok && frac.is_none_or(|f| !f.is_empty() && f.len() <= 12 && f.bytes().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_guid("62e90394-69f5-4237-9190-012177145e10"));
        assert!(!is_guid("62e90394-69f5-4237-9190-012177145e1"));
        assert!(is_date_time_offset("2024-01-31T12:00:00Z"));
        assert!(is_date_time_offset("2024-01-31T12:00:00.1234567Z"));
        assert!(is_date_time_offset("2024-01-31T12:00:00+01:00"));
        assert!(!is_date_time_offset("2024-01-31"));
        assert!(is_date("2024-01-31"));
    }

    #[test]
    fn the_checker_finds_violations() {
        let ok = serde_json::json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
            "id": "x", "displayName": "A", "accountEnabled": true, "businessPhones": ["1"],
            "assignedLicenses": [{ "skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df", "disabledPlans": [] }],
            "manager@odata.bind": "https://graph.microsoft.com/v1.0/users/y", "createdDateTime": null,
        });
        assert_eq!(check_value("microsoft.graph.user", &ok), Vec::<String>::new());
        let bad = serde_json::json!({
            "id": "x", "displayName": 5, "accountEnabled": "yes", "notAProperty": 1, "businessPhones": "1",
            "assignedLicenses": [{ "skuId": "not-a-guid" }], "createdDateTime": "yesterday",
        });
        let v = check_value("graph.user", &bad);
        assert_eq!(v.len(), 6, "{v:#?}");
        assert!(v.iter().any(|x| x.contains("$.notAProperty")));
        assert!(v.iter().any(|x| x.contains("$.assignedLicenses[0].skuId")));

        // Enums, derived types in @odata.type, abstract types.
        let policy = serde_json::json!({
            "id": "p", "state": "on", "displayName": "x",
            "conditions": { "clientAppTypes": ["all", "fax"], "users": { "includeUsers": ["All"] } },
            "sessionControls": { "signInFrequency": { "isEnabled": true, "type": "weeks" } },
        });
        let v = check_value("microsoft.graph.conditionalAccessPolicy", &policy);
        assert_eq!(v.len(), 3, "{v:#?}");
        let target = serde_json::json!({ "id": "a", "target": { "groupId": "g" } });
        assert_eq!(check_value("microsoft.graph.deviceConfigurationAssignment", &target).len(), 2);
        let target = serde_json::json!({ "id": "a", "target": { "@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g" } });
        assert!(check_value("microsoft.graph.deviceConfigurationAssignment", &target).is_empty());
        let wrong = serde_json::json!({ "@odata.type": "#microsoft.graph.user", "id": "n" });
        assert_eq!(check_value("microsoft.graph.namedLocation", &wrong).len(), 1);
        let flags =
            serde_json::json!({ "id": "s", "allowedCombinations": ["password,sms", "fido2", "password,pigeon"] });
        assert_eq!(check_value("microsoft.graph.authenticationStrengthPolicy", &flags).len(), 1);
        assert!(check_value("Collection(Edm.Int32)", &serde_json::json!([1, 2])).is_empty());
        assert_eq!(check_value("Edm.Boolean", &serde_json::json!(1)).len(), 1);

        // Response pages: items checked one by one, annotations allowed; members carry their type.
        let page = serde_json::json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
            "@odata.nextLink": "https://graph.microsoft.com/v1.0/groups/g/members?$skiptoken=x",
            "value": [
                { "@odata.type": "#microsoft.graph.user", "id": "u", "userPrincipalName": "a@b.c" },
                { "@odata.type": "#microsoft.graph.group", "id": "g", "securityEnabled": "yes" },
            ],
        });
        let v = check_response("microsoft.graph.directoryObject", &page);
        assert_eq!(v.len(), 1, "{v:#?}");
        assert!(v[0].starts_with("$.value[1].securityEnabled"), "{v:#?}");
    }
}
