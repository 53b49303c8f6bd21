//! Where passphrases come from: an environment variable or a file, read by the same rule (the
//! first line, without its line ending), so the same passphrase opens the repository either way.

use std::ffi::OsString;
use std::path::Path;

use zeroize::Zeroizing;

use crate::Secret;
use crate::{Error, Result};

/// The repository passphrase.
pub const PASSWORD_ENV: &str = "ENTRA_BACKUP_PASSWORD";
/// The passphrase of the secrets key (BitLocker recovery keys and other secrets).
pub const SECRETS_PASSWORD_ENV: &str = "ENTRA_BACKUP_SECRETS_PASSWORD";

/// The passphrase from the environment variable `env_var` ([`PASSWORD_ENV`] or
/// [`SECRETS_PASSWORD_ENV`]) or from `file`: in both cases its first line, without the line
/// ending (`echo pw > file` and `ENTRA_BACKUP_PASSWORD=$(printf 'pw\n')` give the same passphrase).
/// `Ok(None)` when neither is given. Both given, an empty passphrase, or one that is not UTF-8 is
/// [`crate::ErrorKind::InvalidInput`]; an unreadable file is [`crate::ErrorKind::Io`]. A file that
/// other users can read is used, with a warning. Errors name the variable or the path, never the
/// passphrase.
pub fn passphrase_from_env_or_file(env_var: &str, file: Option<&Path>) -> Result<Option<Secret>> {
    passphrase_from(env_var, std::env::var_os(env_var), file)
}

fn passphrase_from(env_var: &str, env_value: Option<OsString>, file: Option<&Path>) -> Result<Option<Secret>> {
    match (env_value, file) {
        (Some(_), Some(path)) => Err(Error::invalid_input(format!(
            "both {env_var} and a password file ({}) are given; use one",
            path.display()
        ))),
        (Some(value), None) => {
            // Not `VarError`'s message: it quotes the value.
            let value = Zeroizing::new(
                value.into_string().map_err(|_| Error::invalid_input(format!("{env_var} is not valid UTF-8")))?,
            );
            if value.is_empty() {
                return Err(Error::invalid_input(format!("{env_var} is set but empty")));
            }
            first_line(value.as_bytes())
                .map(|line| Some(Secret::new(line)))
                .map_err(|why| Error::invalid_input(format!("{env_var} {why}")))
        }
        (None, Some(path)) => {
            if let Some(warning) = readable_by_others(path) {
                tracing::warn!("{warning}");
            }
            let bytes = Zeroizing::new(
                std::fs::read(path)
                    .map_err(|e| Error::io(format!("reading the password file {}", path.display()), e))?,
            );
            first_line(&bytes)
                .map(|line| Some(Secret::new(line)))
                .map_err(|why| Error::invalid_input(format!("the password file {} {why}", path.display())))
        }
        (None, None) => Ok(None),
    }
}

/// A warning when `path` (a password or key file) can be read by its group or by everyone.
pub fn readable_by_others(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Only a file that is read: a folder or a missing file fails with its own error.
        let meta = std::fs::metadata(path).ok().filter(std::fs::Metadata::is_file)?;
        let mode = meta.permissions().mode();
        (mode & 0o044 != 0).then(|| {
            format!(
                "{} can be read by other users (mode {:o}); restrict it with `chmod 600`",
                path.display(),
                mode & 0o777
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Whether two passphrases are the same (in constant time). The secrets passphrase must differ
/// from the repository's, or the split between data and secrets protects nothing.
pub fn same_passphrase(a: &Secret, b: &Secret) -> bool {
    use subtle::ConstantTimeEq;
    a.expose().len() == b.expose().len() && bool::from(a.expose().as_bytes().ct_eq(b.expose().as_bytes()))
}

/// The warning given when the secrets passphrase is the repository passphrase.
pub const SAME_PASSPHRASE_WARNING: &str = "the secrets passphrase is the repository passphrase: anyone who can \
     open the repository can then read its BitLocker keys; use a different one (`entra-backup key passwd --secrets`)";

/// The first line without `\n` or `\r\n`; `Err` says what is wrong (never quoting the text).
fn first_line(bytes: &[u8]) -> Result<&str, &'static str> {
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = std::str::from_utf8(line).map_err(|_| "is not valid UTF-8")?;
    if line.is_empty() {
        return Err("has an empty first line");
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn first_line_trims_the_line_ending_only() {
        assert_eq!(first_line(b"pass phrase\n").unwrap(), "pass phrase");
        assert_eq!(first_line(b"pass phrase\r\nsecond line\n").unwrap(), "pass phrase");
        assert_eq!(first_line(b"  spaced  ").unwrap(), "  spaced  ");
        assert_eq!(first_line(b"no newline").unwrap(), "no newline");
        assert!(first_line(b"").is_err());
        assert!(first_line(b"\nsecond").is_err());
        assert!(first_line(b"\xff\xfe\n").is_err());
    }

    #[test]
    fn from_env_value() {
        let got = passphrase_from(PASSWORD_ENV, Some("from env".into()), None).unwrap().unwrap();
        assert_eq!(got.expose(), "from env");
        // The same rule as a file: `$(cat file)`-style values with a line ending give the same
        // passphrase as the file itself.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        for value in ["from env\n", "from env\r\n", "from env\nsecond line"] {
            std::fs::write(&path, value).unwrap();
            let env = passphrase_from(PASSWORD_ENV, Some(value.into()), None).unwrap().unwrap();
            let file = passphrase_from(PASSWORD_ENV, None, Some(&path)).unwrap().unwrap();
            assert_eq!(env.expose(), "from env", "{value:?}");
            assert_eq!(env.expose(), file.expose(), "{value:?}");
        }
        let err = passphrase_from(PASSWORD_ENV, Some("\nhidden".into()), None).unwrap_err();
        assert!(err.message().contains(PASSWORD_ENV) && !err.message().contains("hidden"));
        let err = passphrase_from(PASSWORD_ENV, Some("".into()), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains(PASSWORD_ENV));
        assert!(passphrase_from(PASSWORD_ENV, None, None).unwrap().is_none());
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let bad = OsString::from_vec(b"caf\xe9-hidden".to_vec());
            let err = passphrase_from(SECRETS_PASSWORD_ENV, Some(bad), None).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.message().contains(SECRETS_PASSWORD_ENV) && !err.message().contains("hidden"));
        }
    }

    #[test]
    fn from_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "file passphrase\r\nignored\n").unwrap();
        let got = passphrase_from(PASSWORD_ENV, None, Some(&path)).unwrap().unwrap();
        assert_eq!(got.expose(), "file passphrase");
        // Both is an error that names the variable, not the values.
        let err = passphrase_from(PASSWORD_ENV, Some("env-hidden".into()), Some(&path)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains(PASSWORD_ENV) && !err.message().contains("hidden"));
        std::fs::write(&path, "\nhidden\n").unwrap();
        let err = passphrase_from(PASSWORD_ENV, None, Some(&path)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(!err.message().contains("hidden"));
        let err = passphrase_from(PASSWORD_ENV, None, Some(&dir.path().join("missing"))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
    }

    #[cfg(unix)]
    #[test]
    fn password_files_readable_by_others_are_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "hidden-pw\n").unwrap();
        for (mode, warned) in [(0o600, false), (0o400, false), (0o640, true), (0o604, true), (0o644, true)] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let warning = readable_by_others(&path);
            assert_eq!(warning.is_some(), warned, "{mode:o}");
            if let Some(w) = warning {
                assert!(w.contains("pw") && w.contains(&format!("{mode:o}")) && !w.contains("hidden"), "{w}");
            }
        }
        // A folder is not a password file: reading it fails with its own one-line error.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(readable_by_others(dir.path()), None);
    }

    #[test]
    fn same_passphrase_is_found() {
        assert!(same_passphrase(&Secret::new("one"), &Secret::new("one")));
        assert!(!same_passphrase(&Secret::new("one"), &Secret::new("one ")));
        assert!(!same_passphrase(&Secret::new("one"), &Secret::new("two")));
    }

    #[test]
    fn unset_variable_reads_nothing() {
        let name = "ENTRA_BACKUP_TEST_PASSWORD_NEVER_SET_8d1f0c";
        assert!(passphrase_from_env_or_file(name, None).unwrap().is_none());
    }
}
