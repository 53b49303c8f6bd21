//! Typed views of Microsoft Graph objects, generated from Microsoft's v1.0 CSDL schema.
//!
//! A backup stores the JSON Graph sent, as it came. These structs are views over it for code that
//! wants names and types: every property is a [`Field`], which keeps a missing property apart from a
//! `null` one, and whatever the schema does not describe (navigation properties, `@odata.*`
//! annotations, properties newer than the schema) stays in `extra`. Reading JSON into a struct and
//! writing it back gives the same JSON (key order aside).
//!
//! ```
//! use entra_backup::model::{self, Entity, Field, User};
//! use serde_json::json;
//!
//! let raw = json!({
//!     "@odata.type": "#microsoft.graph.user",
//!     "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
//!     "displayName": "Adele Vance",
//!     "jobTitle": null,
//!     "employeeOrgData": { "division": "Retail", "costCenter": null },
//! });
//! let user: User = serde_json::from_value(raw.clone())?;
//! assert_eq!(user.display_name.value().map(String::as_str), Some("Adele Vance"));
//! assert_eq!(user.job_title, Field::Null); // sent as null
//! assert_eq!(user.mail, Field::Absent); // not sent
//! assert_eq!(user.extra["@odata.type"], "#microsoft.graph.user"); // not in the schema: kept as is
//! assert_eq!(serde_json::to_value(&user)?, raw); // nothing lost
//!
//! // By name, for code that holds a category's entity type as a string:
//! assert_eq!(User::ODATA_TYPE, "microsoft.graph.user");
//! assert_eq!(model::round_trip("microsoft.graph.user", &raw).unwrap()?, raw);
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! Regenerate after changing the schema or the catalog: `python3 tools/gen_models.py` (see
//! docs/models.md).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One property of a Graph object: not sent, sent as `null`, or sent with a value.
///
/// Generated structs skip `Absent` fields when serializing, so a round trip writes back exactly the
/// properties that were read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Field<T> {
    /// The property was not in the JSON.
    #[default]
    Absent,
    /// The property was `null`.
    Null,
    /// The property had a value.
    Value(T),
}

impl<T> Field<T> {
    /// Not in the JSON.
    pub const fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }

    /// In the JSON as `null`.
    pub const fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    /// The value, if there is one.
    pub const fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value, if there is one, by value.
    pub fn into_value(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> From<T> for Field<T> {
    fn from(value: T) -> Self {
        Field::Value(value)
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Value(v) => v.serialize(serializer),
            // `Absent` is skipped by the structs; on its own it can only be written as null.
            Field::Null | Field::Absent => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A missing property never gets here: the structs' `#[serde(default)]` makes it `Absent`.
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Field::Null, Field::Value))
    }
}

/// A generated struct for a CSDL entity type.
pub trait Entity: Serialize + DeserializeOwned {
    /// The qualified type name, without `#`: `microsoft.graph.user`.
    const ODATA_TYPE: &'static str;
}

/// A struct per entity or complex type; every property a [`Field`], everything else in `extra`.
macro_rules! model {
    ($(#[$meta:meta])* entity $name:ident = $odata:literal { $($fields:tt)* }) => {
        model!(@struct $(#[$meta])* $name { $($fields)* });
        impl Entity for $name {
            const ODATA_TYPE: &'static str = $odata;
        }
    };
    ($(#[$meta:meta])* complex $name:ident = $odata:literal { $($fields:tt)* }) => {
        model!(@struct $(#[$meta])* $name { $($fields)* });
    };
    (@struct $(#[$meta:meta])* $name:ident {
        $($(#[$field_meta:meta])* $field:ident: $ty:ty = $json:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[doc = concat!("\n\nGraph's `", $json, "`.")]
                #[serde(rename = $json, default, skip_serializing_if = "Field::is_absent")]
                pub $field: Field<$ty>,
            )*
            /// Everything else in the object: navigation properties, `@odata.*` annotations,
            /// properties the schema does not (yet) have.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }
    };
}

/// An enum type as its member names; a value the schema does not know reads as `Other` and writes
/// back unchanged.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $json:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* #[doc = concat!("\n\nGraph's `", $json, "`.")] $variant,)*
            /// A value this schema does not have.
            Other(String),
        }

        impl $name {
            /// The value as Graph spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $json,)*
                    Self::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($json => Self::$variant,)*
                    _ => Self::Other(value.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $($json => Self::$variant,)*
                    _ => Self::Other(value),
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                match value {
                    $($name::$variant => $json.to_owned(),)*
                    $name::Other(value) => value,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from)
            }
        }
    };
}

mod generated;

pub use generated::*;

/// The qualified names of the entity types with a generated struct, sorted:
/// `microsoft.graph.user`, ...
pub fn entity_types() -> &'static [&'static str] {
    generated::ENTITY_TYPE_NAMES
}

/// Reads `value` into the struct of `entity_type` (qualified: `microsoft.graph.user`) and writes it
/// back to JSON. `None` if no struct is generated for that type; an error if the JSON does not fit the
/// schema's types. The result equals `value` as a [`serde_json::Value`].
pub fn round_trip(
    entity_type: &str,
    value: &serde_json::Value,
) -> Option<Result<serde_json::Value, serde_json::Error>> {
    generated::dispatch_round_trip(entity_type, value)
}

/// The JSON property names of an entity type (qualified) and its base types, from the schema;
/// navigation properties are not included. `None` if no struct is generated for that type.
pub fn properties(entity_type: &str) -> Option<&'static [&'static str]> {
    generated::dispatch_properties(entity_type.trim_start_matches('#'))
}

/// Whether the schema gives `entity_type` (or a base type) the property `name`.
pub fn has_property(entity_type: &str, name: &str) -> bool {
    properties(entity_type).is_some_and(|p| p.contains(&name))
}

fn round_trip_as<T: Entity>(value: &serde_json::Value) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(T::deserialize(value)?)
}
