//! Arguments checked by hand, so that bad ones raise `InvalidInputError` naming the argument
//! (PyO3's own conversion raises a `TypeError` or `OverflowError` that does not say which).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::errors::invalid;

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// A list (or any iterable) of strings; None stays None. A single string is refused: `categories="users"`
/// would otherwise be read letter by letter, or fail with a conversion error.
pub fn strings(py: Python<'_>, arg: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<String>>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = value.cast::<PyString>() {
        let s = s.to_string_lossy();
        return Err(invalid(
            py,
            format!("{arg} is a list of strings, not one string: write {arg}=[{}]", crate::convert::repr(&s)),
        ));
    }
    if value.is_instance_of::<PyBytes>() {
        return Err(invalid(py, format!("{arg} is a list of strings, not bytes")));
    }
    let items =
        value.try_iter().map_err(|_| invalid(py, format!("{arg} is a list of strings, not {}", type_name(value))))?;
    let mut out = Vec::new();
    for item in items {
        let item = item?;
        match item.extract::<String>() {
            Ok(s) => out.push(s),
            Err(_) => return Err(invalid(py, format!("{arg} holds a {}: it is a list of strings", type_name(&item)))),
        }
    }
    Ok(Some(out))
}

/// A whole number from 0 to `T`'s maximum (PyO3 reads any int into an `i128`; a negative one
/// would otherwise be an `OverflowError` naming nothing).
pub fn whole<T: TryFrom<i128>>(py: Python<'_>, arg: &str, n: i128) -> PyResult<T> {
    if n < 0 {
        return Err(invalid(py, format!("{arg} cannot be negative ({n})")));
    }
    T::try_from(n).map_err(|_| invalid(py, format!("{arg} is too large ({n})")))
}
