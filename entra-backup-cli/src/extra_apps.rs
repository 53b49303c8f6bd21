//! `restore --extra-app PREFIX`: more app registrations for a restore, read from the environment.

use entra_backup::api::Connection;
use entra_backup::graph::auth::Credentials;

use crate::exit::CliError;

/// `connection` with the extra app registrations named by `prefixes`: each `PREFIX` names the
/// variables `PREFIX_CLIENT_ID`, and `PREFIX_CLIENT_SECRET` or `PREFIX_CLIENT_CERTIFICATE_PATH`
/// (the secret wins when both are set), and optionally `PREFIX_TENANT_ID` (by default the
/// connection's tenant). Secrets are only ever read from the environment, never from the command line.
pub(crate) fn with_extra_apps(connection: Connection, prefixes: &[String]) -> Result<Connection, CliError> {
    with_extra_apps_from(connection, prefixes, |k| std::env::var(k).ok())
}

fn with_extra_apps_from(
    mut connection: Connection,
    prefixes: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Connection, CliError> {
    let tenant = connection.tenant_id().to_string();
    for prefix in prefixes {
        let prefix = prefix.trim().trim_end_matches('_');
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(CliError::usage(format!(
                "--extra-app takes the prefix of environment variables (letters, digits and _, such as \
                 RESTORE_APP2 for RESTORE_APP2_CLIENT_ID and RESTORE_APP2_CLIENT_SECRET), not '{prefix}'"
            )));
        }
        let creds = Credentials::from_lookup(|k| match k {
            "AZURE_TENANT_ID" => env(&format!("{prefix}_TENANT_ID")).or_else(|| Some(tenant.clone())),
            "AZURE_AUTHORITY_HOST" => env(k),
            _ => env(&k.replacen("AZURE", prefix, 1)),
        })
        .map_err(|_| {
            CliError::usage(format!(
                "--extra-app {prefix}: set {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET or \
                 {prefix}_CLIENT_CERTIFICATE_PATH (the app registration's client id and secret or certificate)"
            ))
        })?;
        connection = connection.with_extra_app(creds);
    }
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_apps_come_from_prefixed_variables_and_bad_ones_are_named() {
        let env = |k: &str| match k {
            "APP2_CLIENT_ID" => Some("client-2".to_string()),
            "APP2_CLIENT_SECRET" => Some("secret-2".to_string()),
            "APP3_CLIENT_ID" => Some("client-3".to_string()),
            _ => None,
        };
        let c = Connection::client_secret("tenant", "client-1", "secret-1");
        let c = with_extra_apps_from(c, &["APP2".into()], env).unwrap();
        assert_eq!(c.extra_apps().len(), 1);
        assert_eq!(c.extra_apps()[0].client_id, "client-2");
        assert_eq!(c.extra_apps()[0].tenant_id, "tenant");
        let err = with_extra_apps_from(c.clone(), &["APP3".into()], env).unwrap_err().to_string();
        assert!(err.contains("APP3_CLIENT_SECRET"), "{err}");
        let err = with_extra_apps_from(c, &["bad prefix".into()], env).unwrap_err().to_string();
        assert!(err.contains("--extra-app"), "{err}");
    }
}
