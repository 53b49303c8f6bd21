//! Opening a [`Store`] from a repository URL: local folders, memory, S3, Azure Blob and Google
//! Cloud Storage, with cloud options from the environment only (see the [parent module](super)).

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;

use super::{Backend, Capabilities, Store, redact};
use crate::error::{Error, ErrorKind, Result};

/// The URL forms [`open`] accepts, for messages.
const ACCEPTED: &str = "a local path, file:///abs/path, memory://, s3://bucket[/prefix], \
                        az://container[/prefix] (or azure://), gs://bucket[/prefix]";

/// Open the store a repository URL names (see the [module docs](super) for the forms).
///
/// A bad URL or an unknown scheme is [`ErrorKind::InvalidInput`]; a local directory that cannot
/// be created is [`ErrorKind::Io`]. Nothing is contacted over the network here: a wrong endpoint
/// or missing bucket shows up on the first operation.
pub fn open(url: &str) -> Result<Store> {
    let url = url.trim();
    if url.is_empty() {
        return Err(Error::invalid_input(format!("empty repository location; expected {ACCEPTED}")));
    }
    let Some((scheme, _)) = url.split_once("://") else {
        return open_local(std::path::Path::new(url));
    };
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "memory" => {
            let prefix = parse_prefix(url.split_once("://").map_or("", |(_, rest)| rest), "memory://")?;
            let location = join_location("memory://", &prefix);
            Ok(Store::from_parts(Arc::new(InMemory::new()), prefix, Backend::Memory, MEMORY_CAPS, location))
        }
        "file" => {
            let parsed = parse_url(url, "file")?;
            open_local(&file_url_path(&parsed)?)
        }
        "s3" | "az" | "azure" | "gs" => open_cloud(url, &scheme),
        _ => Err(Error::invalid_input(format!(
            "unknown repository URL scheme `{}://`; expected {ACCEPTED}",
            scheme.chars().filter(|c| c.is_ascii_alphanumeric() || "+-.".contains(*c)).collect::<String>()
        ))),
    }
}

/// [`open`], except that a local directory must already exist (an [`ErrorKind::NotFound`] error
/// otherwise): opening a repository must not create folders where none was.
pub fn open_existing(url: &str) -> Result<Store> {
    if let Some(dir) = local_path(url)?
        && !dir.is_dir()
    {
        let abs = std::env::current_dir().map(|cwd| cwd.join(&dir)).unwrap_or(dir);
        let shown = url::Url::from_file_path(&abs).map_or_else(|()| abs.display().to_string(), |u| u.to_string());
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("there is no repository at {shown} (create one with `entra-backup init`)"),
        ));
    }
    open(url)
}

/// The folder a repository URL names if it is local (a path or a `file://` URL), as given
/// (relative paths stay relative); `None` for other stores.
pub fn local_path(url: &str) -> Result<Option<std::path::PathBuf>> {
    let trimmed = url.trim();
    Ok(match trimmed.split_once("://") {
        None if !trimmed.is_empty() => Some(std::path::PathBuf::from(trimmed)),
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("file") => Some(file_url_path(&parse_url(trimmed, "file")?)?),
        _ => None,
    })
}

/// The folder a `file://` URL names. `file://` and `file:///` are refused: they would make the
/// root of the file system the repository.
fn file_url_path(parsed: &url::Url) -> Result<std::path::PathBuf> {
    let path = parsed
        .to_file_path()
        .map_err(|()| Error::invalid_input("a file:// URL must be absolute, like file:///srv/backup (no host)"))?;
    if path.parent().is_none() {
        return Err(Error::invalid_input(
            "a file:// URL needs a folder, like file:///srv/backup (the root of the file system is not a repository)",
        ));
    }
    Ok(path)
}

pub(super) const MEMORY_CAPS: Capabilities = Capabilities { conditional_update: true, create_if_absent: true };
const CLOUD_CAPS: Capabilities = Capabilities { conditional_update: true, create_if_absent: true };

fn open_local(dir: &std::path::Path) -> Result<Store> {
    let dir = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().map_err(|e| Error::io("finding the current directory", e))?.join(dir)
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let dir = std::fs::canonicalize(&dir).map_err(|e| Error::io(format!("resolving {}", dir.display()), e))?;
    let fs = LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| Error::new(ErrorKind::Io, format!("opening {}: {}", dir.display(), redact(&e.to_string()))))?
        // Empty directories go away with their last object; every write is fsynced, as a backup
        // must survive a power cut the moment it reports success.
        .with_automatic_cleanup(true)
        .with_fsync(true);
    let location = url::Url::from_file_path(&dir).map_or_else(|()| dir.display().to_string(), |u| u.to_string());
    // object_store's LocalFileSystem implements PutMode::Create (hard-link publish) but not Update.
    let caps = Capabilities { conditional_update: false, create_if_absent: true };
    let mut store = Store::from_parts(Arc::new(fs), Path::ROOT, Backend::Local, caps, location);
    store.local_root = Some(Arc::from(dir.as_path()));
    Ok(store)
}

fn open_cloud(url: &str, scheme: &str) -> Result<Store> {
    let parsed = parse_url(url, scheme)?;
    let (backend, what, canonical) = match scheme {
        "s3" => (Backend::S3, "bucket", "s3"),
        "gs" => (Backend::Gcs, "bucket", "gs"),
        _ => (Backend::Azure, "container", "az"),
    };
    let bucket = parsed.host_str().unwrap_or_default();
    if bucket.is_empty() {
        return Err(Error::invalid_input(format!(
            "`{scheme}://` needs a {what}: {scheme}://{}[/prefix]",
            what.to_ascii_uppercase()
        )));
    }
    let prefix = parse_prefix(parsed.path(), url_for_messages(&parsed).as_str())?;
    let location = join_location(&format!("{canonical}://{bucket}"), &prefix);
    let fail = |e: object_store::Error| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("configuring {location} from the environment: {}", redact(&e.to_string())),
        )
    };
    // object_store's HTTP clients use rustls; the process-wide provider must exist before they are built.
    crate::init_crypto();
    let (inner, caps): (Arc<dyn ObjectStore>, Capabilities) = match backend {
        Backend::S3 => {
            let builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
            check_endpoints(
                &location,
                [AmazonS3ConfigKey::Endpoint, AmazonS3ConfigKey::S3Endpoint, AmazonS3ConfigKey::StsEndpoint]
                    .iter()
                    .map(|k| (k.as_ref().to_ascii_uppercase(), builder.get_config_value(k))),
            )?;
            let conditional = builder
                .get_config_value(&AmazonS3ConfigKey::ConditionalPut)
                .is_none_or(|v| !v.eq_ignore_ascii_case("disabled"));
            let caps = Capabilities { conditional_update: conditional, create_if_absent: conditional };
            (Arc::new(builder.build().map_err(fail)?), caps)
        }
        Backend::Azure => {
            let builder = MicrosoftAzureBuilder::from_env().with_container_name(bucket);
            let emulator = builder.get_config_value(&AzureConfigKey::UseEmulator).is_some_and(|v| v == "true");
            let mut endpoints: Vec<(String, Option<String>)> =
                [AzureConfigKey::Endpoint, AzureConfigKey::AuthorityHost]
                    .iter()
                    .map(|k| (k.as_ref().to_ascii_uppercase(), builder.get_config_value(k)))
                    .collect();
            if emulator {
                // The emulator's well-known key goes wherever this points (loopback by default).
                endpoints.push(("AZURITE_BLOB_STORAGE_URL".into(), std::env::var("AZURITE_BLOB_STORAGE_URL").ok()));
            }
            check_endpoints(&location, endpoints.into_iter())?;
            (Arc::new(builder.build().map_err(fail)?), CLOUD_CAPS)
        }
        _ => {
            let builder = GoogleCloudStorageBuilder::from_env().with_bucket_name(bucket);
            let base = builder.get_config_value(&GoogleConfigKey::BaseUrl);
            check_endpoints(&location, std::iter::once(("GOOGLE_BASE_URL".to_string(), base)))?;
            (Arc::new(builder.build().map_err(fail)?), CLOUD_CAPS)
        }
    };
    Ok(Store::from_parts(inner, prefix, backend, caps, location))
}

/// Refuse, before anything is sent, an endpoint the storage credentials would reach over plain
/// http:// off this machine (the URL policy in [`crate::net`]).
fn check_endpoints(location: &str, endpoints: impl Iterator<Item = (String, Option<String>)>) -> Result<()> {
    for (name, value) in endpoints {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            crate::net::check_url(&format!("the storage endpoint {name} for {location}"), &v)?;
        }
    }
    Ok(())
}

/// Parse a URL, refusing credentials and query strings without ever echoing them.
fn parse_url(url: &str, scheme: &str) -> Result<url::Url> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::invalid_input(format!("not a valid {scheme}:// URL ({e}); expected {ACCEPTED}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid_input(format!(
            "credentials in a {scheme}:// URL are not accepted; set them in the environment instead"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::invalid_input(format!(
            "a {scheme}:// URL takes no query or fragment; options come from the environment"
        )));
    }
    Ok(parsed)
}

/// `scheme://host/path` only: safe to print.
fn url_for_messages(url: &url::Url) -> String {
    format!("{}://{}{}", url.scheme(), url.host_str().unwrap_or_default(), url.path())
}

/// A prefix from the path part of a URL: percent-decoded, no empty, `.` or `..` segments.
fn parse_prefix(path: &str, whole: &str) -> Result<Path> {
    Path::from_url_path(path).map_err(|e| Error::invalid_input(format!("bad prefix in {whole}: {e}")))
}

/// `base` + `/` + `rel`: `memory://` + `a` is `memory://a`, `s3://b/p` + `a` is `s3://b/p/a`.
pub(super) fn join_location(base: &str, rel: &Path) -> String {
    match rel.as_ref() {
        "" => base.to_string(),
        rel if base.ends_with("://") => format!("{base}{rel}"),
        rel => format!("{}/{rel}", base.trim_end_matches('/')),
    }
}
