//! `entra-backup key list / add / remove / passwd`: the repository's key files (`keys/`) and, with
//! `--secrets`, the secrets key's (`secrets-keys/`). A thin layer over
//! `entra_backup::repo::crypto::keyring`.

use std::path::PathBuf;

use entra_backup::repo::Access;
use entra_backup::repo::crypto::keyring::{self, KeyKind};
use entra_backup::repo::crypto::{KdfParams, RawKey, passphrase_from_env_or_file};

use crate::exit::CliError;
use crate::repo_cmds::{RepoArgs, SecretsArgs};

/// The new passphrase of `key add` and `key passwd` (or `--new-password-file`).
pub(crate) const NEW_PASSWORD_ENV: &str = "ENTRA_BACKUP_NEW_PASSWORD";

#[derive(clap::Subcommand)]
pub(crate) enum KeyCommand {
    /// List the key files (no passphrase is tried): how each is opened, and any damage.
    List {
        #[command(flatten)]
        repo: RepoArgs,
        #[arg(long)]
        json: bool,
    },
    /// Add a key file: another passphrase (ENTRA_BACKUP_NEW_PASSWORD or --new-password-file) or a
    /// new raw key file (--new-key-file) that opens the repository, or with --secrets the secrets key.
    Add {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        secrets: SecretsArgs,
        #[command(flatten)]
        new: NewKeyArgs,
    },
    /// Remove a key file by its id (as `key list` shows it). The key file that opened the
    /// repository, and the last intact one, are never removed.
    Remove {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        secrets: SecretsArgs,
        /// A secrets key file (under secrets-keys/), opened with the secrets passphrase.
        #[arg(long)]
        secrets_key: bool,
        /// The key file's id, or a unique prefix of at least 4 hex digits.
        id: String,
    },
    /// Change the passphrase (or raw key) of the key file that opens: the new key file is written,
    /// then the old one removed.
    Passwd {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        secrets: SecretsArgs,
        #[command(flatten)]
        new: NewKeyArgs,
    },
}

/// The new way in, and which key it opens.
#[derive(clap::Args)]
pub(crate) struct NewKeyArgs {
    /// The secrets key (opened with the secrets passphrase) instead of the repository's keys.
    #[arg(long)]
    secrets_key: bool,
    /// Read the new passphrase from the first line of this file (instead of ENTRA_BACKUP_NEW_PASSWORD).
    #[arg(long)]
    new_password_file: Option<PathBuf>,
    /// Create a new raw key file here (it must not exist) instead of a passphrase.
    #[arg(long, conflicts_with = "new_password_file")]
    new_key_file: Option<PathBuf>,
    /// Argon2id memory for a new passphrase, in MiB.
    #[arg(long, default_value_t = 64)]
    kdf_memory_mib: u32,
    /// Argon2id passes for a new passphrase.
    #[arg(long, default_value_t = 3)]
    kdf_iterations: u32,
}

fn e(err: entra_backup::Error) -> CliError {
    err.into()
}

impl NewKeyArgs {
    fn kind(&self) -> KeyKind {
        if self.secrets_key { KeyKind::Secrets } else { KeyKind::Master }
    }

    fn kdf(&self) -> Result<KdfParams, CliError> {
        let max_mib = KdfParams::MAX_MEMORY_KIB / 1024;
        if self.kdf_memory_mib > max_mib {
            return Err(CliError::usage(format!(
                "--kdf-memory-mib {} is above the cap of {max_mib} MiB",
                self.kdf_memory_mib
            )));
        }
        let memory_kib = self.kdf_memory_mib * 1024;
        let kdf = KdfParams { memory_kib, iterations: self.kdf_iterations, parallelism: 1 };
        kdf.validate().map_err(e)?;
        Ok(kdf)
    }

    /// The new way in. A new raw key file is created only once the rest has been checked.
    fn access(&self) -> Result<NewAccess, CliError> {
        if let Some(path) = &self.new_key_file {
            if path.exists() {
                return Err(CliError::usage(format!(
                    "{} exists; --new-key-file creates a new key file",
                    path.display()
                )));
            }
            return Ok(NewAccess { access: Access::Key(RawKey::generate()), file: Some(path.clone()) });
        }
        match passphrase_from_env_or_file(NEW_PASSWORD_ENV, self.new_password_file.as_deref()).map_err(e)? {
            Some(p) => Ok(NewAccess { access: Access::Passphrase(p), file: None }),
            None => Err(CliError::usage(format!(
                "the new passphrase is needed: set {NEW_PASSWORD_ENV}, or give --new-password-file or --new-key-file"
            ))),
        }
    }
}

struct NewAccess {
    access: Access,
    file: Option<PathBuf>,
}

impl NewAccess {
    fn save_key_file(&self) -> Result<(), CliError> {
        if let (Some(path), Access::Key(key)) = (&self.file, &self.access) {
            key.write_new_file(path).map_err(e)?;
        }
        Ok(())
    }
}

/// Warn when the new passphrase is the other kind's: the data/secrets split would protect nothing.
fn warn_if_same(new: &Access, kind: KeyKind, repo: &RepoArgs, secrets: &SecretsArgs) {
    let other = match kind {
        KeyKind::Master => secrets.access().ok().flatten(),
        KeyKind::Secrets => repo.access().ok(),
    };
    if let (Access::Passphrase(a), Some(Access::Passphrase(b))) = (new, other)
        && entra_backup::repo::crypto::same_passphrase(a, &b)
    {
        eprintln!("warning: {}", entra_backup::repo::crypto::SAME_PASSPHRASE_WARNING);
    }
}

impl KeyCommand {
    /// Whether JSON was asked for (errors are then printed as JSON too).
    pub(crate) fn json(&self) -> bool {
        matches!(self, KeyCommand::List { json: true, .. })
    }
}

pub(crate) async fn run(command: KeyCommand) -> Result<(), CliError> {
    match command {
        KeyCommand::List { repo, json } => list(&repo, json).await,
        KeyCommand::Add { repo, secrets, new } => add(&repo, &secrets, &new, false).await,
        KeyCommand::Passwd { repo, secrets, new } => add(&repo, &secrets, &new, true).await,
        KeyCommand::Remove { repo, secrets, secrets_key, id } => remove(&repo, &secrets, secrets_key, &id).await,
    }
}

async fn list(repo: &RepoArgs, json: bool) -> Result<(), CliError> {
    let repository = repo.open().await?;
    let keys = keyring::list_keys(repository.store(), &repository.config().id).await.map_err(e)?;
    if json {
        return crate::print_json(&keys);
    }
    out!("{:<78} {:<8} {:<11} {:<22} {}", "KEY FILE", "KIND", "OPENED WITH", "KDF", "CREATED");
    for k in &keys {
        let kind = match k.kind {
            KeyKind::Master => "data",
            KeyKind::Secrets => "secrets",
        };
        out!(
            "{:<78} {:<8} {:<11} {:<22} {}",
            k.path,
            kind,
            k.opened_with,
            k.kdf.as_deref().unwrap_or("-"),
            k.created.map(|t| t.to_string()).unwrap_or_default()
        );
        if let Some(problem) = &k.problem {
            out!("    DAMAGED: {problem}");
        }
    }
    if let Some(public) = repository.cipher().secrets_public_key() {
        out!("\nsecrets are sealed to {}", public.to_base64());
    }
    Ok(())
}

/// `key add`, or with `replace` `key passwd`: wrap the key that opens in a new key file, and for
/// passwd remove the file that opened (after the new one is written).
async fn add(repo: &RepoArgs, secrets: &SecretsArgs, new: &NewKeyArgs, replace: bool) -> Result<(), CliError> {
    let kdf = new.kdf()?;
    let new_access = new.access()?;
    let repository = repo.open().await?;
    let (store, id) = (repository.store(), repository.config().id.as_str());
    if !repository.is_encrypted() {
        return Err("a plaintext repository has no keys".into());
    }
    let kind = new.kind();
    warn_if_same(&new_access.access, kind, repo, secrets);
    let (old, json) = match kind {
        KeyKind::Master => {
            let (keys, old) = keyring::open_master(store, id, &repo.access()?).await.map_err(e)?;
            (old, keyring::wrap_master(&keys, id, &new_access.access, kdf).map_err(e)?)
        }
        KeyKind::Secrets => {
            let access = secrets
                .access()?
                .ok_or("the secrets key is needed: set ENTRA_BACKUP_SECRETS_PASSWORD, or give --secrets-password-file or --secrets-key-file")?;
            let public = repository.cipher().secrets_public_key().expect("encrypted");
            let (key, old) = keyring::open_secrets(store, id, public, &access).await.map_err(e)?;
            (old, keyring::wrap_secrets(&key, id, &new_access.access, kdf).map_err(e)?)
        }
    };
    new_access.save_key_file()?;
    let path = keyring::write(store, kind, json).await.map_err(e)?;
    out!("added {path}");
    if replace {
        store.delete(&old).await.map_err(e)?;
        out!("removed {old}");
    }
    Ok(())
}

async fn remove(repo: &RepoArgs, secrets: &SecretsArgs, secrets_key: bool, name: &str) -> Result<(), CliError> {
    let repository = repo.open().await?;
    let (store, id) = (repository.store(), repository.config().id.as_str());
    if !repository.is_encrypted() {
        return Err("a plaintext repository has no keys".into());
    }
    let (kind, in_use) = if secrets_key {
        let access = secrets
            .access()?
            .ok_or("removing a secrets key file needs the secrets key: set ENTRA_BACKUP_SECRETS_PASSWORD, or give --secrets-password-file or --secrets-key-file")?;
        let public = repository.cipher().secrets_public_key().expect("encrypted");
        (KeyKind::Secrets, keyring::open_secrets(store, id, public, &access).await.map_err(e)?.1)
    } else {
        (KeyKind::Master, keyring::open_master(store, id, &repo.access()?).await.map_err(e)?.1)
    };
    let removed = keyring::remove_key(store, id, kind, name, &in_use).await.map_err(e)?;
    out!("removed {removed}");
    Ok(())
}
