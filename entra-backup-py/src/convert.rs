//! JSON values to Python objects: objects become dicts (keys in Graph's order), arrays lists,
//! numbers int or float.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString};
use serde::Serialize;
use serde_json::{Map, Value};

pub fn value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => object(py, map)?.into_any(),
    })
}

pub fn object<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in map {
        dict.set_item(PyString::new(py, k), value(py, v)?)?;
    }
    Ok(dict)
}

/// Anything the core serializes (reports, snapshots), in the shape of the command-line tool's `--json`.
pub fn serialized<'py, T: Serialize>(py: Python<'py>, x: &T) -> PyResult<Bound<'py, PyAny>> {
    let v = serde_json::to_value(x)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot convert a report: {e}")))?;
    value(py, &v)
}

/// A string as Python's `repr` shows it (for `__repr__`s).
pub fn repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// [`serialized`], with `fix` applied to the JSON first (Python's names for some keys).
pub fn serialized_with<'py, T: Serialize>(py: Python<'py>, x: &T, fix: fn(&mut Value)) -> PyResult<Bound<'py, PyAny>> {
    let mut v = serde_json::to_value(x)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot convert a report: {e}")))?;
    fix(&mut v);
    value(py, &v)
}

/// Rename `from` to `to` in an object, keeping the keys' order.
fn rename(v: &mut Value, from: &str, to: &str) {
    if let Value::Object(map) = v
        && map.contains_key(from)
    {
        *map = std::mem::take(map).into_iter().map(|(k, v)| (if k == from { to.to_string() } else { k }, v)).collect();
    }
}

// The reports count two kinds of requests and the command line's JSON calls both `requests` in
// places: a run's summary counts HTTP requests (a `$batch` once), a snapshot's summary Graph
// requests (each inside a `$batch`). Python gives each its own name, the same everywhere:
// `httpRequests` and `graphRequests`.

/// A run's summary (`pipeline::Summary`: what `export` returns, a backup report's `summary`).
pub fn run_summary(v: &mut Value) {
    rename(v, "requests", "httpRequests");
    if let Some(Value::Array(cats)) = v.get_mut("categories") {
        cats.iter_mut().for_each(|c| rename(c, "requests", "httpRequests"));
    }
}

/// A snapshot file (`Snapshot.info()`, a backup report's `snapshot`).
pub fn snapshot_file(v: &mut Value) {
    if let Some(summary) = v.get_mut("summary") {
        rename(summary, "requests", "graphRequests");
    }
}

/// A backup report: its run summary and its snapshot.
pub fn backup_report(v: &mut Value) {
    if let Some(s) = v.get_mut("summary") {
        run_summary(s);
    }
    if let Some(s) = v.get_mut("snapshot") {
        snapshot_file(s);
    }
}

/// Every key camelCase (the simulator's reports are snake_case), recursively.
#[cfg(feature = "sim")]
pub fn camel_case(v: &mut Value) {
    match v {
        Value::Object(map) => {
            *map = std::mem::take(map)
                .into_iter()
                .map(|(k, mut v)| {
                    camel_case(&mut v);
                    (camel(&k), v)
                })
                .collect();
        }
        Value::Array(items) => items.iter_mut().for_each(camel_case),
        _ => {}
    }
}

#[cfg(feature = "sim")]
fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
