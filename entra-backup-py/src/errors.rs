//! One exception hierarchy: `EntraBackupError`, and a subclass per kind of the core's error, each
//! carrying `.kind`, `.graph_code` and `.status`. The classes are made once, when the module loads.

use entra_backup::{Error, ErrorKind};
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// (class name, kind, also a ValueError, docstring), one per core error kind.
const CLASSES: &[(&str, &str, bool, &str)] = &[
    (
        "AuthenticationError",
        "authentication",
        false,
        "The identity platform refused the credentials, or Graph refused the token; or a secrets key is needed.",
    ),
    ("PermissionDeniedError", "permission", false, "Graph answered 403: the app lacks a permission."),
    ("ThrottlingExhaustedError", "throttling_exhausted", false, "Graph kept throttling (429) past the retry budget."),
    ("NotFoundError", "not_found", false, "The object, snapshot, repository or path does not exist."),
    ("NetworkError", "network", false, "Graph or the storage could not be reached past the retry budget."),
    ("GraphError", "graph", false, "Graph answered with another error (4xx or 5xx past the retry budget)."),
    (
        "InvalidInputError",
        "invalid_input",
        true,
        "Bad input: an unknown category, a bad URL, a bad option, a wrong passphrase's format.",
    ),
    ("StorageError", "io", false, "Reading or writing local files or object storage failed."),
    ("ProtocolError", "protocol", false, "A response or a stored file could not be understood."),
    (
        "OperationCancelledError",
        "cancelled",
        false,
        "The operation was cancelled. (Not asyncio's `CancelledError`; `entra_backup.CancelledError` is a deprecated \
         alias of this class.)",
    ),
    (
        "ConflictError",
        "conflict",
        false,
        "Another process holds what this one needs (a prune lease), or changed it first.",
    ),
];

static BASE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static SUBCLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();
static INCOMPLETE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

const INCOMPLETE_DOC: &str = "A backup wrote its snapshot, but some categories could not be read: they hold the \
     parent's data, marked `carried`, and are named in `report['snapshot']['failed']`. `report` is the whole \
     report; pass `allow_failed=True` to have it returned instead.";

fn make_class<'py>(
    py: Python<'py>,
    name: &str,
    bases: Bound<'py, PyTuple>,
    kind: Option<&str>,
    doc: &str,
) -> PyResult<Py<PyType>> {
    let ns = PyDict::new(py);
    ns.set_item("__module__", "entra_backup")?;
    ns.set_item("__doc__", doc)?;
    ns.set_item("kind", kind)?;
    ns.set_item("graph_code", py.None())?;
    ns.set_item("status", py.None())?;
    let cls = py.get_type::<PyType>().call1((name, bases, ns))?;
    Ok(cls.cast_into::<PyType>()?.unbind())
}

/// Make the classes and add them to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = BASE.get_or_try_init(py, || {
        make_class(
            py,
            "EntraBackupError",
            PyTuple::new(py, [py.get_type::<PyException>()])?,
            None,
            "The base of every entra_backup error. `kind` names the core error kind, `graph_code` is \
             Graph's (or the identity platform's) error code and `status` the HTTP status, where there is one.",
        )
    })?;
    m.add("EntraBackupError", base.bind(py))?;
    let subs = SUBCLASSES.get_or_try_init(py, || {
        CLASSES
            .iter()
            .map(|(name, kind, value_error, doc)| {
                let bases = if *value_error {
                    PyTuple::new(py, [base.bind(py).clone(), py.get_type::<PyValueError>()])?
                } else {
                    PyTuple::new(py, [base.bind(py).clone()])?
                };
                make_class(py, name, bases, Some(kind), doc)
            })
            .collect::<PyResult<Vec<_>>>()
    })?;
    for ((name, ..), cls) in CLASSES.iter().zip(subs) {
        m.add(*name, cls.bind(py))?;
    }
    // The old name, shared with asyncio's: the same class (`entra_backup` warns when it is used).
    m.add("CancelledError", m.getattr("OperationCancelledError")?)?;
    // `report` is set on each instance (see `incomplete`).
    let incomplete = INCOMPLETE.get_or_try_init(py, || {
        let bases = PyTuple::new(py, [base.bind(py).clone()])?;
        make_class(py, "IncompleteBackupError", bases, Some("incomplete"), INCOMPLETE_DOC)
    })?;
    m.add("IncompleteBackupError", incomplete.bind(py))?;
    Ok(())
}

/// `IncompleteBackupError(message)` carrying the backup's `report` (a dict).
pub fn incomplete(py: Python<'_>, message: String, report: Bound<'_, PyAny>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = INCOMPLETE.get(py).ok_or_else(|| PyException::new_err(message.clone()))?;
        let value = class.bind(py).call1((message.clone(),))?;
        value.setattr("report", report)?;
        Ok(PyErr::from_value(value))
    };
    build().unwrap_or_else(|e| e)
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Authentication => "authentication",
        ErrorKind::Permission => "permission",
        ErrorKind::ThrottlingExhausted => "throttling_exhausted",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Network => "network",
        ErrorKind::Graph => "graph",
        ErrorKind::InvalidInput => "invalid_input",
        ErrorKind::Io => "io",
        ErrorKind::Protocol => "protocol",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::Conflict => "conflict",
        // A kind added to the core later: the base class, until it gets a subclass of its own.
        _ => "other",
    }
}

/// The Python exception for a core error (the message never holds secrets: the core keeps them out).
pub fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    match build(py, e) {
        Ok(err) => err,
        Err(failed) => failed,
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let kind = kind_name(e.kind());
    let class = CLASSES
        .iter()
        .position(|(_, k, ..)| *k == kind)
        .and_then(|i| SUBCLASSES.get(py).map(|subs| subs[i].bind(py).clone()))
        .or_else(|| BASE.get(py).map(|b| b.bind(py).clone()));
    let Some(class) = class else {
        return Ok(PyException::new_err(e.to_string()));
    };
    let value = class.call1((pythonic(&e.to_string()),))?;
    value.setattr("kind", kind)?;
    value.setattr("graph_code", e.graph_code())?;
    value.setattr("status", e.status())?;
    Ok(PyErr::from_value(value))
}

/// What the core says to users of the command line, said to Python's: (the command line's words,
/// Python's). The core keeps its messages (the command-line tool and its tests rely on them).
const PYTHONIC: &[(&str, &str)] = &[
    ("(run `entra-backup categories` to list them)", "(entra_backup.categories() lists them)"),
    ("(create one with `entra-backup init`)", "(create one with entra_backup.Repository.init(...))"),
    (
        "needs the secrets key (ENTRA_BACKUP_SECRETS_PASSWORD, --secrets-password-file or --secrets-key-file)",
        "needs the secrets key: open the repository with secrets=Access.passphrase(...) (or Access.key_file(...), \
         Access.secrets_from_env()), or call repository.unlock_secrets(...)",
    ),
    (
        "needs a second passphrase or key file for secrets (ENTRA_BACKUP_SECRETS_PASSWORD, --secrets-password-file \
         or --secrets-key-file)",
        "needs a second passphrase or key file for secrets (Repository.init(url, access, secrets=...) with \
         Access.passphrase(...), Access.key_file(...) or Access.secrets_from_env())",
    ),
    (
        "give its passphrase (ENTRA_BACKUP_PASSWORD or --password-file) or --key-file",
        "open it with its passphrase (Access.passphrase(...), Access.from_env()) or key file (Access.key_file(...))",
    ),
];

/// A core message in Python's words (see [`PYTHONIC`]).
pub fn pythonic(message: &str) -> String {
    let mut out = message.to_string();
    for (cli, python) in PYTHONIC {
        if out.contains(cli) {
            out = out.replace(cli, python);
        }
    }
    out
}

/// `Result<T, Error>` to `PyResult<T>`.
pub trait IntoPy<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, Error> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, &e))
    }
}

/// An `InvalidInputError` raised by the bindings themselves.
pub fn invalid(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_py(py, &Error::invalid_input(message))
}
