//! Test doubles for storage: a fault-injecting [`ObjectStore`] wrapper that models a process
//! killed at a chosen storage write.
//!
//! [`FaultyStore`] wraps any object store (the `object_store` way: behaviour as a wrapper, like
//! its `LimitStore` and `ThrottledStore`). It counts every storage write, and at write `n` it
//! "kills the process": that write fails ([`Kill::Before`]: it never reaches storage) or is applied
//! and then reported as failed ([`Kill::After`]: the process died before it heard the answer), and
//! every operation that starts afterwards, read or write, fails too. So nothing after the kill
//! point reaches storage, as after a SIGKILL; the wrapped store then holds exactly what a killed
//! process would have left, and a fresh [`Store`] over it is the next process.
//!
//! Writes are: a put (any mode), a completed multipart upload, a copy, a rename, and each path a
//! delete removes. Reads and listings are not counted.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use entra_backup::repo::backend::{Backend, Capabilities, Store};
//! use entra_backup::repo::testing::{FaultyStore, Kill};
//! use object_store::memory::InMemory;
//!
//! let disk = Arc::new(InMemory::new());
//! let faulty = FaultyStore::new(disk.clone()).kill_at(2, Kill::Before);
//! let caps = Capabilities { conditional_update: true, create_if_absent: true };
//! let store = faulty.store(Backend::Memory, caps);
//! store.put("a", "1".into()).await?;
//! assert!(store.put("b", "2".into()).await.is_err()); // killed here
//! assert!(store.get("a").await.is_err()); // and nothing works afterwards
//! assert!(faulty.is_dead());
//!
//! // The next process sees what reached storage.
//! let after = Store::from_object_store(disk, "", Backend::Memory, caps)?;
//! assert_eq!(after.get("a").await?.unwrap(), "1");
//! assert!(after.get("b").await?.is_none());
//! # Ok::<_, entra_backup::Error>(()) }).unwrap();
//! ```

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, ObjectStoreExt,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result, UploadPart,
};

use crate::repo::backend::{Backend, Capabilities, Store};

/// What happens to the write a [`FaultyStore`] is killed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kill {
    /// The write fails and does not reach storage.
    Before,
    /// The write reaches storage, then fails: the process died before it saw the answer.
    After,
}

/// One write a [`FaultyStore`] counted: its number (from 1), what it was and on which path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// Its number among the store's writes, from 1.
    pub number: u64,
    /// `put`, `multipart`, `copy`, `rename` or `delete`.
    pub op: &'static str,
    /// The path written (for a copy or rename, the destination).
    pub path: String,
}

#[derive(Debug, Default)]
struct State {
    writes: AtomicU64,
    /// The write to die at; 0 for never.
    kill_at: AtomicU64,
    kill_after: AtomicBool,
    dead: AtomicBool,
    log: Mutex<Vec<Write>>,
}

/// An [`ObjectStore`] that counts writes and dies at one of them (see the [module docs](self)).
/// Clones share the count and the kill.
#[derive(Debug, Clone)]
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    state: Arc<State>,
}

impl std::fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

/// What to do with one write.
enum Verdict {
    /// Apply it.
    Go,
    /// Fail without applying it.
    Fail,
    /// Apply it, then die and fail.
    ApplyThenDie,
}

fn killed(what: &str) -> object_store::Error {
    object_store::Error::Generic { store: "FaultyStore", source: format!("the process was killed ({what})").into() }
}

impl FaultyStore {
    /// Wrap `inner`; it counts writes and never dies until [`FaultyStore::kill_at`] says when.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        FaultyStore { inner, state: Arc::new(State::default()) }
    }

    /// Die at write `n` (counted from 1; 0 never dies), in the way `kill` says.
    pub fn kill_at(self, n: u64, kill: Kill) -> Self {
        self.state.kill_at.store(n, Ordering::SeqCst);
        self.state.kill_after.store(kill == Kill::After, Ordering::SeqCst);
        self
    }

    /// A [`Store`] over this wrapper (no prefix), with the capabilities of the wrapped store.
    pub fn store(&self, backend: Backend, capabilities: Capabilities) -> Store {
        Store::from_object_store(Arc::new(self.clone()), "", backend, capabilities).expect("an empty prefix is valid")
    }

    /// Writes counted so far (the one killed at included).
    pub fn writes(&self) -> u64 {
        self.state.writes.load(Ordering::SeqCst)
    }

    /// Every write counted, in the order counted.
    pub fn log(&self) -> Vec<Write> {
        self.state.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the kill happened.
    pub fn is_dead(&self) -> bool {
        self.state.dead.load(Ordering::SeqCst)
    }

    /// Fail if dead: every operation after the kill fails.
    fn alive(&self) -> Result<()> {
        if self.is_dead() { Err(killed("an operation after the kill")) } else { Ok(()) }
    }

    /// Count a write and decide its fate.
    fn write(&self, op: &'static str, path: &Path) -> Verdict {
        if self.is_dead() {
            return Verdict::Fail;
        }
        let number = self.state.writes.fetch_add(1, Ordering::SeqCst) + 1;
        self.state.log.lock().unwrap_or_else(|p| p.into_inner()).push(Write { number, op, path: path.to_string() });
        if number != self.state.kill_at.load(Ordering::SeqCst) {
            return Verdict::Go;
        }
        if self.state.kill_after.load(Ordering::SeqCst) {
            Verdict::ApplyThenDie
        } else {
            self.state.dead.store(true, Ordering::SeqCst);
            Verdict::Fail
        }
    }

    /// Run one counted write through its verdict.
    async fn counted<T>(
        &self,
        op: &'static str,
        path: &Path,
        apply: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        match self.write(op, path) {
            Verdict::Go => apply.await,
            Verdict::Fail => Err(killed(&format!("{op} {path}"))),
            Verdict::ApplyThenDie => {
                let result = apply.await;
                self.state.dead.store(true, Ordering::SeqCst);
                result?;
                Err(killed(&format!("after {op} {path}")))
            }
        }
    }

    /// A listing that stops at the kill.
    fn guard_stream<T: Send + 'static>(&self, inner: BoxStream<'static, Result<T>>) -> BoxStream<'static, Result<T>> {
        let this = self.clone();
        inner.map(move |item| this.alive().and(item)).boxed()
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for FaultyStore {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        self.counted("put", location, self.inner.put_opts(location, payload, opts)).await
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        self.alive()?;
        let upload = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(FaultyUpload { store: self.clone(), location: location.clone(), upload }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.alive()?;
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.alive()?;
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        // One counted write per path, so a kill can fall between two deletions of one batch.
        let this = self.clone();
        locations
            .then(move |location| {
                let this = this.clone();
                async move {
                    let location = location?;
                    this.counted("delete", &location, this.inner.delete(&location)).await?;
                    Ok(location)
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        match self.alive() {
            Ok(()) => self.guard_stream(self.inner.list(prefix)),
            Err(e) => stream::once(async move { Err(e) }).boxed(),
        }
    }

    fn list_with_offset(&self, prefix: Option<&Path>, offset: &Path) -> BoxStream<'static, Result<ObjectMeta>> {
        match self.alive() {
            Ok(()) => self.guard_stream(self.inner.list_with_offset(prefix, offset)),
            Err(e) => stream::once(async move { Err(e) }).boxed(),
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.alive()?;
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.counted("copy", to, self.inner.copy_opts(from, to, options)).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.counted("rename", to, self.inner.rename_opts(from, to, options)).await
    }
}

/// A multipart upload through a [`FaultyStore`]: parts fail once it is dead; completing it is the
/// counted write (the object appears only then).
#[derive(Debug)]
struct FaultyUpload {
    store: FaultyStore,
    location: Path,
    upload: Box<dyn MultipartUpload>,
}

#[async_trait]
impl MultipartUpload for FaultyUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let store = self.store.clone();
        let part = self.upload.put_part(data);
        Box::pin(async move {
            store.alive()?;
            part.await
        })
    }

    async fn complete(&mut self) -> Result<PutResult> {
        let (store, location) = (self.store.clone(), self.location.clone());
        store.counted("multipart", &location, self.upload.complete()).await
    }

    async fn abort(&mut self) -> Result<()> {
        self.store.alive()?;
        self.upload.abort().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    const CAPS: Capabilities = Capabilities { conditional_update: true, create_if_absent: true };

    async fn listing(store: &Store) -> Vec<String> {
        let mut names: Vec<String> =
            store.list("").await.unwrap().into_iter().map(|m| m.location.to_string()).collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_write_killed_after_is_applied_and_nothing_later_reaches_storage() {
        let disk: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let faulty = FaultyStore::new(disk.clone()).kill_at(2, Kill::After);
        let store = faulty.store(Backend::Memory, CAPS);
        store.put("a", "1".into()).await.unwrap();
        assert!(store.put_if_absent("b", "2".into()).await.is_err());
        assert!(store.put("c", "3".into()).await.is_err());
        assert!(store.delete("a").await.is_err());
        assert!(store.list("").await.is_err());
        assert_eq!(faulty.writes(), 2, "{:?}", faulty.log());
        let after = Store::from_object_store(disk, "", Backend::Memory, CAPS).unwrap();
        assert_eq!(listing(&after).await, ["a", "b"]);
    }

    #[tokio::test]
    async fn deletes_copies_and_multipart_uploads_are_counted_writes() {
        let disk: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let counting = FaultyStore::new(disk.clone());
        let store = counting.store(Backend::Memory, CAPS);
        store.put("a", "1".into()).await.unwrap();
        counting.copy(&Path::from("a"), &Path::from("b")).await.unwrap();
        let mut upload = counting.put_multipart(&Path::from("m")).await.unwrap();
        upload.put_part(Bytes::from_static(b"part").into()).await.unwrap();
        upload.complete().await.unwrap();
        store.delete("a").await.unwrap();
        let ops: Vec<_> = counting.log().into_iter().map(|w| (w.number, w.op, w.path)).collect();
        assert_eq!(
            ops,
            [(1, "put", "a".into()), (2, "copy", "b".into()), (3, "multipart", "m".into()), (4, "delete", "a".into())]
        );
        assert!(!counting.is_dead());

        // Killed before the third write: the multipart upload's object never appears.
        let disk2: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let faulty = FaultyStore::new(disk2.clone()).kill_at(3, Kill::Before);
        faulty.put(&Path::from("a"), Bytes::from_static(b"1").into()).await.unwrap();
        faulty.copy(&Path::from("a"), &Path::from("b")).await.unwrap();
        let mut upload = faulty.put_multipart(&Path::from("m")).await.unwrap();
        upload.put_part(Bytes::from_static(b"part").into()).await.unwrap();
        assert!(upload.complete().await.is_err());
        let after = Store::from_object_store(disk2, "", Backend::Memory, CAPS).unwrap();
        assert_eq!(listing(&after).await, ["a", "b"]);
    }
}
