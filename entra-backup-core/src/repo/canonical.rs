//! Canonical JSON: the bytes an object blob's id is the hash of.
//!
//! UTF-8, object keys sorted by their UTF-8 bytes, no insignificant white space, strings escaped
//! as `serde_json` escapes them, numbers as `serde_json` prints them (integers exactly, floats in
//! their shortest round-tripping form). The same JSON value therefore always gives the same bytes,
//! whatever order Graph sent the properties in, so an unchanged object is one blob in every
//! snapshot.

use serde_json::Value;

/// The canonical bytes of `value`.
pub fn to_vec(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out);
    out
}

/// The canonical bytes of a JSON object given as a map.
pub fn map_to_vec(map: &serde_json::Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_map(map, &mut out);
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => write_map(map, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        // Scalars: serde_json's compact form is already canonical.
        scalar => serde_json::to_writer(&mut *out, scalar).expect("writing JSON to memory cannot fail"),
    }
}

fn write_map(map: &serde_json::Map<String, Value>, out: &mut Vec<u8>) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_unstable();
    out.push(b'{');
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key).expect("writing JSON to memory cannot fail");
        out.push(b':');
        write(&map[key], out);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn key_order_and_spacing_do_not_matter() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2.5, "x"], "x": null}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":null,"y":[1,2.5,"x"]},"b":1}"#).unwrap();
        assert_eq!(to_vec(&a), to_vec(&b));
        assert_eq!(to_vec(&a), br#"{"a":{"x":null,"y":[1,2.5,"x"]},"b":1}"#);
    }

    /// What docs/repository-format.md promises of numbers: every Int64 exactly, every double as
    /// the same double (its spelling may change). serde_json's `arbitrary_precision` would change
    /// these bytes, and with them every such object's blob id.
    #[test]
    fn numbers_keep_their_value_not_their_spelling() {
        let v: Value =
            serde_json::from_str("[9223372036854775807,-9223372036854775808,18446744073709551615,1.50,1E20,0.1,-0.0]")
                .unwrap();
        assert_eq!(
            String::from_utf8(to_vec(&v)).unwrap(),
            "[9223372036854775807,-9223372036854775808,18446744073709551615,1.5,1e+20,0.1,-0.0]"
        );
        for text in ["0.1", "1.7976931348623157e308", "5e-324", "123456.789"] {
            let n: f64 = text.parse().unwrap();
            let back: f64 = String::from_utf8(to_vec(&serde_json::from_str(text).unwrap())).unwrap().parse().unwrap();
            assert_eq!(n.to_bits(), back.to_bits(), "{text}");
        }
    }

    #[test]
    fn array_order_and_values_do_matter() {
        assert_ne!(to_vec(&json!([1, 2])), to_vec(&json!([2, 1])));
        assert_ne!(to_vec(&json!({"a": "1"})), to_vec(&json!({"a": 1})));
        assert_eq!(to_vec(&json!({"é": "\u{1F600}\n"})), "{\"é\":\"\u{1F600}\\n\"}".as_bytes());
    }
}
