//! `init`: create a repository. Bad values are refused before anything is created, and a local
//! folder a failed init created is removed again, so a failed init leaves nothing behind.

use std::path::{Path, PathBuf};

use entra_backup::repo::backend;
use entra_backup::repo::crypto::KdfParams;
use entra_backup::repo::{Access, Repository};

use crate::exit::CliError;
use crate::repo_cmds::{RepoArgs, SecretsArgs};

fn e(err: entra_backup::Error) -> CliError {
    err.into()
}

pub(crate) async fn init(
    repo: &RepoArgs,
    secrets: &SecretsArgs,
    memory_mib: u32,
    iterations: u32,
    force: bool,
) -> Result<(), CliError> {
    let max_mib = KdfParams::MAX_MEMORY_KIB / 1024;
    let memory_kib =
        memory_mib.checked_mul(1024).filter(|kib| (1024..=KdfParams::MAX_MEMORY_KIB).contains(kib)).ok_or_else(
            || CliError::usage(format!("--kdf-memory-mib {memory_mib} is out of range: from 1 to {max_mib} MiB")),
        )?;
    let kdf = KdfParams { memory_kib, iterations, parallelism: 1 };
    // A local folder init creates is removed again if init fails: a failed init leaves nothing.
    let created = backend::local_path(&repo.repo).map_err(e)?.and_then(|dir| first_missing(&dir));
    let result = async {
        let store = backend::open(&repo.repo).map_err(e)?;
        let access = repo.access()?;
        let secrets_access = if matches!(access, Access::Plaintext) { None } else { secrets.access()? };
        Repository::init_with(store, &access, secrets_access.as_ref(), kdf, force).await.map_err(e)
    }
    .await;
    let created_repo = match result {
        Ok(r) => r,
        Err(err) => {
            if let Some((top, leaf)) = created {
                remove_empty_dirs(&top, &leaf);
            }
            return Err(err);
        }
    };
    out!(
        "created {} repository {} at {}",
        if created_repo.is_encrypted() { "encrypted" } else { "PLAINTEXT (unencrypted)" },
        &created_repo.config().id[..12],
        created_repo.store().location()
    );
    if let Some(public) = created_repo.cipher().secrets_public_key() {
        // Trust the new secrets key on this machine now, not at the first backup.
        let recipient = entra_backup::repo::crypto::trust::SecretsRecipient::default();
        match recipient.verify(&created_repo).await.and_then(|trusted| trusted.record(&created_repo)) {
            Ok(()) => out!("secrets are sealed to {} (trusted on this machine)", public.to_base64()),
            Err(err) => eprintln!("warning: {err}"),
        }
    }
    Ok(())
}

/// For a folder that does not exist yet: the outermost of its missing ancestors (the first folder
/// creating it makes), and the folder itself, made absolute.
fn first_missing(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let dir = std::env::current_dir().ok()?.join(dir);
    if dir.exists() {
        return None;
    }
    let top = dir.ancestors().take_while(|a| !a.exists()).last()?.to_path_buf();
    Some((top, dir))
}

/// Remove `leaf` and its parents up to `top`, each only while empty.
fn remove_empty_dirs(top: &Path, leaf: &Path) {
    for dir in leaf.ancestors() {
        if std::fs::remove_dir(dir).is_err() || dir == top {
            break;
        }
    }
}
