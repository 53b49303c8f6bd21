//! Where a repository's bytes live: one object store, opened from a URL.
//!
//! The repository needs only a few storage primitives: write an object once (content-addressed
//! packs and indexes), read it whole or in ranges, list by prefix, delete, and, for a lease,
//! compare-and-swap one small object. The [`object_store`] crate gives exactly these, with the
//! same semantics on a local disk, S3, Azure Blob and Google Cloud Storage, including the
//! conditional puts (`If-None-Match: *`, `If-Match: <etag>`) that make put-if-absent and
//! compare-and-swap atomic without locks. [`Store`] wraps it with a path prefix, `Option`s
//! instead of not-found errors, the crate's [`Error`], and [`Capabilities`] saying what the
//! backend can do atomically (restic's `Properties` idea).
//!
//! | URL | backend | options from |
//! |---|---|---|
//! | `/abs/path`, `rel/path`, `file:///abs/path` | local directory (created if missing) | – |
//! | `memory://[prefix]` | in-process memory (each `open` is a new, empty store) | – |
//! | `s3://bucket[/prefix]` | Amazon S3 or compatible | `AWS_*` (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, `AWS_ACCESS_KEY_ID`, …) |
//! | `az://container[/prefix]`, `azure://…` | Azure Blob Storage | `AZURE_*` (`AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_USE_EMULATOR`, …), `AZURITE_BLOB_STORAGE_URL` |
//! | `gs://bucket[/prefix]` | Google Cloud Storage | `GOOGLE_*` (`GOOGLE_SERVICE_ACCOUNT`, …) |
//!
//! Cloud options come only from the environment, read by `object_store`'s `from_env` builders,
//! so credentials never appear in URLs, logs, errors or `Debug` output. A URL carrying
//! credentials or a query string is refused.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use entra_backup::repo::backend::Store;
//! let store = Store::memory();
//! assert!(store.put_if_absent("keys/a", "first".into()).await?);
//! assert!(!store.put_if_absent("keys/a", "second".into()).await?);
//! assert_eq!(store.get("keys/a").await?.unwrap(), "first");
//! # Ok::<_, entra_backup::Error>(()) }).unwrap();
//! ```

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

pub use object_store::{ObjectMeta, UpdateVersion};

use crate::error::{Error, ErrorKind, Result};

mod open;
use open::{MEMORY_CAPS, join_location};
pub use open::{local_path, open, open_existing};

/// Which kind of storage a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// A local directory.
    Local,
    /// In-process memory (`memory://`), gone when the process ends.
    Memory,
    /// Amazon S3 or a compatible store (`s3://`).
    S3,
    /// Azure Blob Storage (`az://`, `azure://`).
    Azure,
    /// Google Cloud Storage (`gs://`).
    Gcs,
}

/// What a backend guarantees, so the repository can pick a strategy instead of failing late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// [`Store::update_if`] with an expected version is an atomic compare-and-swap (one of
    /// several racing writers wins). False on a local directory: `object_store` has no
    /// conditional update there, and a lock file would need stale-lock timeouts.
    pub conditional_update: bool,
    /// [`Store::put_if_absent`] is atomic: of several racing writers exactly one gets `true`.
    /// False only for S3 with `AWS_CONDITIONAL_PUT=disabled` (stores without `If-None-Match`),
    /// where it degrades to "check, then write".
    pub create_if_absent: bool,
}

/// An object store plus a path prefix inside it. Cheap to clone; clones share the store.
///
/// Paths given to the methods are relative to the prefix, `/`-separated, without empty, `.` or
/// `..` segments, so nothing outside the prefix can be named. Listed and returned
/// [`ObjectMeta::location`]s are relative to the prefix too.
#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    prefix: Path,
    backend: Backend,
    capabilities: Capabilities,
    /// The store's URL without credentials or query: for messages and `Debug`.
    location: String,
    /// The folder of a local store (where interrupted writes leave staging files).
    local_root: Option<Arc<std::path::Path>>,
}

impl fmt::Debug for Store {
    // By hand: the builders' own Debug output can include credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .field("backend", &self.backend)
            .field("capabilities", &self.capabilities)
            .finish()
    }
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.location)
    }
}

impl Store {
    /// A new, empty in-memory store. Clones of the returned handle share the same objects
    /// (unlike two `open("memory://")` calls).
    pub fn memory() -> Store {
        Store::from_parts(Arc::new(InMemory::new()), Path::ROOT, Backend::Memory, MEMORY_CAPS, "memory://".into())
    }

    /// Wrap any [`ObjectStore`] (a throttled or fault-injecting one in tests, say). The caller
    /// vouches for `capabilities`.
    pub fn from_object_store(
        inner: Arc<dyn ObjectStore>,
        prefix: &str,
        backend: Backend,
        capabilities: Capabilities,
    ) -> Result<Store> {
        let prefix = parse_rel(prefix)?;
        let location = join_location(&format!("{inner}"), &prefix);
        Ok(Store::from_parts(inner, prefix, backend, capabilities, location))
    }

    fn from_parts(
        inner: Arc<dyn ObjectStore>,
        prefix: Path,
        backend: Backend,
        capabilities: Capabilities,
        location: String,
    ) -> Store {
        Store { inner, prefix, backend, capabilities, location, local_root: None }
    }

    /// The same store, one level deeper: `child("a/b")` sees only what is under `a/b/`.
    pub fn child(&self, sub: &str) -> Result<Store> {
        let sub = parse_rel(sub)?;
        if sub.as_ref().is_empty() {
            return Ok(self.clone());
        }
        Ok(Store {
            inner: self.inner.clone(),
            prefix: self.full(&sub),
            location: join_location(&self.location, &sub),
            local_root: self.local_root.as_ref().map(|root| Arc::from(root.join(sub.as_ref()).as_path())),
            ..*self
        })
    }

    /// Which kind of storage it talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What the backend guarantees.
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// The store's URL, without credentials (`s3://bucket/prefix`, `file:///srv/backup`).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The prefix inside the bucket or container (empty for a local directory: its root is the directory).
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// The same store, told that its object store is the local folder `dir` (for a store made with
    /// [`Store::from_object_store`] over a wrapped `LocalFileSystem`), so that staging files left
    /// by interrupted writes are found there.
    pub fn with_local_root(mut self, dir: &std::path::Path) -> Store {
        self.local_root = Some(Arc::from(dir));
        self
    }

    /// The folder of a local store (with [`Store::child`]'s prefix), `None` for other backends.
    pub fn local_root(&self) -> Option<&std::path::Path> {
        self.local_root.as_deref()
    }

    /// The raw object store, for what the helpers don't cover (multipart uploads, `get_ranges`).
    /// Its paths are absolute: join them onto [`Store::prefix`].
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    /// Write `bytes` at `path` unless something is there. `true`: this call wrote it; `false`: an
    /// object already existed (its content is left as it was). Atomic where
    /// [`Capabilities::create_if_absent`] says so.
    pub async fn put_if_absent(&self, path: &str, bytes: Bytes) -> Result<bool> {
        let full = self.path(path)?;
        if !self.capabilities.create_if_absent {
            if self.head_full(&full).await?.is_some() {
                return Ok(false);
            }
            self.inner.put(&full, bytes.into()).await.map_err(|e| self.err("writing", &full, e))?;
            return Ok(true);
        }
        match self.inner.put_opts(&full, PutPayload::from(bytes), PutMode::Create.into()).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(false),
            Err(e) => Err(self.err("writing", &full, e)),
        }
    }

    /// Write `bytes` at `path`, replacing what is there.
    pub async fn put(&self, path: &str, bytes: Bytes) -> Result<()> {
        let full = self.path(path)?;
        self.inner.put(&full, bytes.into()).await.map(drop).map_err(|e| self.err("writing", &full, e))
    }

    /// The whole object, or `None` if there is none.
    pub async fn get(&self, path: &str) -> Result<Option<Bytes>> {
        Ok(self.get_versioned(path).await?.map(|(bytes, _)| bytes))
    }

    /// The whole object, or `None` if there is none; an object larger than `max` bytes is refused
    /// ([`ErrorKind::Protocol`]: damaged) before its content is downloaded (the size comes with the
    /// response's metadata), so a planted huge file cannot exhaust memory before it is
    /// authenticated.
    pub async fn get_bounded(&self, path: &str, max: u64) -> Result<Option<Bytes>> {
        let full = self.path(path)?;
        let result = match self.inner.get(&full).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.err("reading", &full, e)),
        };
        let too_large = |size: u64| {
            Error::new(
                ErrorKind::Protocol,
                format!(
                    "{} is {size} bytes, more than the {max} bytes such a file may have (it is damaged or was planted)",
                    self.describe(&full)
                ),
            )
        };
        if result.meta.size > max {
            return Err(too_large(result.meta.size));
        }
        let bytes = result.bytes().await.map_err(|e| self.err("reading", &full, e))?;
        // The object may have been replaced between the metadata and the body.
        if bytes.len() as u64 > max {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(Some(bytes))
    }

    /// The whole object and its version (for [`Store::update_if`]), or `None` if there is none.
    pub async fn get_versioned(&self, path: &str) -> Result<Option<(Bytes, UpdateVersion)>> {
        let full = self.path(path)?;
        let result = match self.inner.get(&full).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.err("reading", &full, e)),
        };
        let version = UpdateVersion { e_tag: result.meta.e_tag.clone(), version: result.meta.version.clone() };
        let bytes = result.bytes().await.map_err(|e| self.err("reading", &full, e))?;
        Ok(Some((bytes, version)))
    }

    /// Exactly the bytes in `range` of the object. A missing object is [`ErrorKind::NotFound`];
    /// a range past the end, or a short answer, is [`ErrorKind::Io`].
    pub async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes> {
        let full = self.path(path)?;
        let want = range.end.saturating_sub(range.start);
        let bytes = self.inner.get_range(&full, range.clone()).await.map_err(|e| self.err("reading", &full, e))?;
        if bytes.len() as u64 != want {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "reading {}: asked for bytes {}..{} ({want}), got {}",
                    self.describe(&full),
                    range.start,
                    range.end,
                    bytes.len()
                ),
            ));
        }
        Ok(bytes)
    }

    /// Several ranges of one object, nearby ones fetched in one request (`object_store` coalesces
    /// them). Each range must lie inside the object; a short answer is [`ErrorKind::Io`].
    pub async fn get_ranges(&self, path: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let full = self.path(path)?;
        let got = self.inner.get_ranges(&full, ranges).await.map_err(|e| self.err("reading", &full, e))?;
        for (r, b) in ranges.iter().zip(&got) {
            if b.len() as u64 != r.end.saturating_sub(r.start) {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "reading {}: asked for bytes {}..{}, got {}",
                        self.describe(&full),
                        r.start,
                        r.end,
                        b.len()
                    ),
                ));
            }
        }
        Ok(got)
    }

    /// Size, modification time and version of the object, or `None` if there is none.
    pub async fn head(&self, path: &str) -> Result<Option<ObjectMeta>> {
        let full = self.path(path)?;
        Ok(self.head_full(&full).await?.map(|meta| self.relative(meta)))
    }

    async fn head_full(&self, full: &Path) -> Result<Option<ObjectMeta>> {
        match self.inner.head(full).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("reading metadata of", full, e)),
        }
    }

    /// Every object under `prefix` (`""` for all), at any depth, in no particular order.
    /// Prefixes match whole segments: `list("run")` does not see `run2/x`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        self.list_stream(prefix)?.try_collect().await
    }

    /// [`Store::list`] as a stream, for listings too large to hold.
    pub fn list_stream(&self, prefix: &str) -> Result<BoxStream<'static, Result<ObjectMeta>>> {
        let full = self.path_or_root(prefix)?;
        let this = self.clone();
        let stream = if full.as_ref().is_empty() { self.inner.list(None) } else { self.inner.list(Some(&full)) };
        Ok(stream
            .map(move |item| match item {
                Ok(meta) => Ok(this.relative(meta)),
                Err(e) => Err(this.err("listing", &full, e)),
            })
            .boxed())
    }

    /// Copy the object at `from` to `to` (replacing what is there) inside the store, without
    /// downloading it where the backend copies on its side.
    pub async fn copy(&self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (self.path(from)?, self.path(to)?);
        self.inner.copy(&from, &to).await.map_err(|e| self.err("copying", &from, e))
    }

    /// Remove the object at `path`; removing a missing object is not an error.
    pub async fn delete(&self, path: &str) -> Result<()> {
        let full = self.path(path)?;
        match self.inner.delete(&full).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("deleting", &full, e)),
        }
    }

    /// Compare-and-swap, for a lease or a ref: write `bytes` at `path` only if the object is still
    /// at `expected` (from [`Store::get_versioned`] or an earlier `update_if`), or, with `None`,
    /// only if there is no object. `Some(new version)`: written. `None`: someone else changed
    /// (or created) it first; read it again and decide.
    ///
    /// With an expected version this needs [`Capabilities::conditional_update`]; without it the
    /// call is [`ErrorKind::InvalidInput`] (check the capability first). With `None` it works
    /// everywhere.
    pub async fn update_if(
        &self,
        path: &str,
        bytes: Bytes,
        expected: Option<&UpdateVersion>,
    ) -> Result<Option<UpdateVersion>> {
        let full = self.path(path)?;
        let mode = match expected {
            None => PutMode::Create,
            Some(_) if !self.capabilities.conditional_update => {
                return Err(Error::invalid_input(format!(
                    "updating {}: {:?} storage has no atomic conditional update (Capabilities::conditional_update is false)",
                    self.describe(&full),
                    self.backend
                )));
            }
            Some(version) => PutMode::Update(version.clone()),
        };
        match self.inner.put_opts(&full, PutPayload::from(bytes), PutOptions::from(mode)).await {
            Ok(result) => Ok(Some(result.into())),
            // Create loses with AlreadyExists; Update with Precondition (S3 may also answer a
            // conflicting concurrent write with 409, which object_store reports as AlreadyExists).
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(None),
            // Updating an object that was deleted meanwhile: the expected version is gone too.
            Err(object_store::Error::NotFound { .. }) if expected.is_some() => Ok(None),
            Err(e) => Err(self.err("writing", &full, e)),
        }
    }

    /// A caller's relative path, validated and joined onto the prefix. Must name an object.
    fn path(&self, rel: &str) -> Result<Path> {
        let rel = parse_rel(rel)?;
        if rel.as_ref().is_empty() {
            return Err(Error::invalid_input("an object path must not be empty"));
        }
        Ok(self.full(&rel))
    }

    /// Like [`Store::path`], but `""` means the prefix itself (for listing).
    fn path_or_root(&self, rel: &str) -> Result<Path> {
        Ok(self.full(&parse_rel(rel)?))
    }

    fn full(&self, rel: &Path) -> Path {
        Path::from_iter(self.prefix.parts().chain(rel.parts()))
    }

    fn relative(&self, mut meta: ObjectMeta) -> ObjectMeta {
        let relative = meta.location.prefix_match(&self.prefix).map(Path::from_iter);
        if let Some(relative) = relative {
            meta.location = relative;
        }
        meta
    }

    /// `<store location>/<path relative to the prefix>`, for messages.
    fn describe(&self, full: &Path) -> String {
        let rel = full.prefix_match(&self.prefix).map(Path::from_iter).unwrap_or_else(|| full.clone());
        join_location(&self.location, &rel)
    }

    fn err(&self, op: &str, full: &Path, e: object_store::Error) -> Error {
        let (kind, hint) = match e {
            // Not found on a write: the bucket or container is missing, not the object.
            object_store::Error::NotFound { .. } if op == "writing" => {
                (ErrorKind::Io, " (does the bucket or container exist?)")
            }
            object_store::Error::NotFound { .. } => (ErrorKind::NotFound, ""),
            _ => (ErrorKind::Io, ""),
        };
        // The source is not attached: its chain can hold request URLs with SAS tokens.
        Error::new(kind, format!("{op} {}: {}{hint}", self.describe(full), redact(&e.to_string())))
    }
}

fn parse_rel(rel: &str) -> Result<Path> {
    Path::parse(rel).map_err(|e| Error::invalid_input(format!("bad object path `{}`: {e}", rel.escape_debug())))
}

/// Drop the query strings of URLs in a message (an Azure SAS token travels in the query), and
/// any stray `sig=` value.
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find("http://").into_iter().chain(rest.find("https://")).min() {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| c.is_whitespace() || "\"'<>()[]{},;`".contains(c)).unwrap_or(tail.len());
        let url = &tail[..end];
        match url.find('?') {
            Some(q) => {
                out.push_str(&url[..q]);
                out.push_str("?<redacted>");
            }
            None => out.push_str(url),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    let mut from = 0;
    while let Some(start) = out[from..].find("sig=").map(|at| from + at + 4) {
        let end =
            out[start..].find(|c: char| c == '&' || c == ')' || c.is_whitespace()).map_or(out.len(), |e| start + e);
        out.replace_range(start..end, "<redacted>");
        from = start + "<redacted>".len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_drops_url_queries_and_signatures() {
        let msg =
            "Error performing PUT https://acct.blob.core.windows.net/c/x?sv=2022&sig=SECRET%3D in 1s (sig=OTHER&x=1)";
        let red = redact(msg);
        assert!(!red.contains("SECRET") && !red.contains("OTHER"), "{red}");
        assert!(red.contains("https://acct.blob.core.windows.net/c/x?<redacted>"), "{red}");
        assert_eq!(redact("no urls here"), "no urls here");
        assert_eq!(redact("at http://127.0.0.1:1/a/b: refused"), "at http://127.0.0.1:1/a/b: refused");
    }

    #[test]
    fn relative_paths_cannot_leave_the_prefix() {
        let store = Store::memory().child("inside").unwrap();
        for bad in ["../x", "a/../../x", "a//b", ".", "a/./b"] {
            let err = store.path(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        assert_eq!(store.path("a/b").unwrap().as_ref(), "inside/a/b");
        assert_eq!(store.path("/a/b/").unwrap().as_ref(), "inside/a/b");
    }
}
