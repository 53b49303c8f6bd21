//! Where passphrases come from: an environment variable or the first line of a file.

use std::ffi::OsString;
use std::path::Path;

use zeroize::Zeroizing;

use crate::graph::auth::Secret;
use crate::{Error, Result};

/// The repository passphrase.
pub const PASSWORD_ENV: &str = "ENTRA_BACKUP_PASSWORD";
/// The passphrase of the secrets key (BitLocker recovery keys and other secrets).
pub const SECRETS_PASSWORD_ENV: &str = "ENTRA_BACKUP_SECRETS_PASSWORD";

/// The passphrase from the environment variable `env_var` ([`PASSWORD_ENV`] or
/// [`SECRETS_PASSWORD_ENV`]) or from the first line of `file` (without its line ending).
/// `Ok(None)` when neither is given. Both given, an empty passphrase, or one that is not UTF-8 is
/// [`crate::ErrorKind::InvalidInput`]; an unreadable file is [`crate::ErrorKind::Io`]. Errors name
/// the variable or the path, never the passphrase.
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
            Ok(Some(Secret::new(value.as_str())))
        }
        (None, Some(path)) => {
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

    #[test]
    fn unset_variable_reads_nothing() {
        let name = "ENTRA_BACKUP_TEST_PASSWORD_NEVER_SET_8d1f0c";
        assert!(passphrase_from_env_or_file(name, None).unwrap().is_none());
    }
}
