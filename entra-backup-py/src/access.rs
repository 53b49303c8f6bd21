//! `Access`: how to open a repository, or its secrets key.

use std::path::PathBuf;

use entra_backup::Secret;
use entra_backup::repo::crypto::{PASSWORD_ENV, RawKey, SECRETS_PASSWORD_ENV, passphrase_from_env_or_file};
use entra_backup::repo::{self as core_repo};
use pyo3::prelude::*;

use crate::convert;
use crate::errors::{IntoPy, invalid};

#[derive(Clone)]
enum Opening {
    Passphrase(Secret),
    KeyFile(RawKey),
    Plaintext,
}

/// How to open a repository, or its secrets key: a passphrase, a key file, or (for a repository
/// created without encryption) plaintext. Never shows the passphrase or key.
#[pyclass(module = "entra_backup", frozen)]
#[derive(Clone)]
pub struct Access {
    key: Opening,
    source: String,
}

impl Access {
    pub fn core(&self) -> core_repo::Access {
        match &self.key {
            Opening::Passphrase(p) => core_repo::Access::Passphrase(p.clone()),
            Opening::KeyFile(k) => core_repo::Access::Key(k.clone()),
            Opening::Plaintext => core_repo::Access::Plaintext,
        }
    }

    fn from_env_var(py: Python<'_>, var: &str, file: Option<PathBuf>) -> PyResult<Self> {
        match passphrase_from_env_or_file(var, file.as_deref()).py_err(py)? {
            Some(p) => Ok(Access {
                key: Opening::Passphrase(p),
                source: match file {
                    Some(f) => format!("password_file={}", convert::repr(&f.display().to_string())),
                    None => format!("env={var}"),
                },
            }),
            None => Err(invalid(py, format!("no passphrase: set {var} or give password_file"))),
        }
    }
}

#[pymethods]
impl Access {
    /// A passphrase (stretched with Argon2id).
    #[staticmethod]
    fn passphrase(py: Python<'_>, passphrase: String) -> PyResult<Self> {
        if passphrase.is_empty() {
            return Err(invalid(py, "the passphrase is empty"));
        }
        Ok(Access { key: Opening::Passphrase(Secret::new(passphrase)), source: "passphrase".into() })
    }

    /// A key file: one line, the base64 of a random 32-byte key (read now).
    #[staticmethod]
    fn key_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let key = RawKey::read_file(&path).py_err(py)?;
        Ok(Access {
            key: Opening::KeyFile(key),
            source: format!("key_file={}", convert::repr(&path.display().to_string())),
        })
    }

    /// Make a new key file at `path` (refused if it exists; readable by its owner only) and use it.
    #[staticmethod]
    fn new_key_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let key = RawKey::generate();
        key.write_new_file(&path).py_err(py)?;
        Ok(Access {
            key: Opening::KeyFile(key),
            source: format!("key_file={}", convert::repr(&path.display().to_string())),
        })
    }

    /// No encryption: only to create or open a repository without it.
    #[staticmethod]
    fn plaintext() -> Self {
        Access { key: Opening::Plaintext, source: "plaintext".into() }
    }

    /// The repository passphrase from ENTRA_BACKUP_PASSWORD, or the first line of `password_file`.
    #[staticmethod]
    #[pyo3(signature = (password_file=None))]
    fn from_env(py: Python<'_>, password_file: Option<PathBuf>) -> PyResult<Self> {
        Self::from_env_var(py, PASSWORD_ENV, password_file)
    }

    /// The secrets passphrase from ENTRA_BACKUP_SECRETS_PASSWORD, or the first line of `password_file`.
    #[staticmethod]
    #[pyo3(signature = (password_file=None))]
    fn secrets_from_env(py: Python<'_>, password_file: Option<PathBuf>) -> PyResult<Self> {
        Self::from_env_var(py, SECRETS_PASSWORD_ENV, password_file)
    }

    fn __repr__(&self) -> String {
        format!("Access({})", self.source)
    }
}
