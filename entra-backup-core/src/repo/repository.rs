//! A repository handle: created with [`Repository::init`], opened with [`Repository::open`].
//!
//! The handle is cheap to clone and `Send + Sync`: the store, the cipher, and the secrets key
//! once [`Repository::unlock_secrets`] has opened it.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Secret;
use crate::error::{Error, ErrorKind, Result};
use crate::repo::backend::Store;
use crate::repo::crypto::keyring::{self, KeyKind};
use crate::repo::crypto::{Cipher, KdfParams, MasterKeys, RawKey, SecretsKey};
use crate::repo::index::Index;
use crate::repo::snapshot::{SnapshotFile, SnapshotList, UnreadableSnapshot, list_snapshot_ids};
use crate::repo::tree::{self, Entries, NodeData};

/// The key that stands for a link list stored in chunks: `{"@entraBackup.chunks": [blob ids]}`.
pub const CHUNKS_KEY: &str = "@entraBackup.chunks";

/// The repository format version this program writes (and the newest it reads). Version 2 added
/// delta blobs: a program that reads only version 1 refuses a version-2 repository, which may hold
/// them. Version-1 repositories are read, and written without deltas.
pub const FORMAT_VERSION: u32 = 2;

/// The first format version whose repositories may hold delta blobs.
pub const DELTA_FORMAT_VERSION: u32 = 2;

/// The folders of a repository: any file in one of them means a repository (or what is left of
/// one) is there.
const REPOSITORY_DIRS: [&str; 8] =
    ["keys", "secrets-keys", "data", "index", "snapshots", "locks", "restores", "quarantine"];

/// Snapshot files read at once.
const SNAPSHOT_READS: usize = 16;

/// The plaintext `config` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The repository format version ([`FORMAT_VERSION`] when this program made it).
    pub version: u32,
    /// A random id, 64 hex digits.
    pub id: String,
    /// `xchacha20poly1305-blake3` or `none`.
    pub encryption: String,
    /// When the repository was made.
    pub created: jiff::Timestamp,
    /// BLAKE3 of the fields above ([`Config::checksum_of`]), so that a flipped byte in `config`
    /// is found on opening. Absent in repositories made before it; then not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

impl Config {
    /// The checksum `config` carries: BLAKE3 (hex) of its fields, one a line.
    pub fn checksum_of(&self) -> String {
        let text = format!("{}\n{}\n{}\n{}", self.version, self.id, self.encryption, self.created);
        blake3::hash(text.as_bytes()).to_hex().to_string()
    }
}

const ENCRYPTED: &str = "xchacha20poly1305-blake3";
const PLAINTEXT: &str = "none";

/// How to open a repository (or its secrets key).
pub enum Access {
    /// A passphrase (stretched with Argon2id).
    Passphrase(Secret),
    /// A raw 32-byte key from a key file.
    Key(RawKey),
    /// No encryption: only for a repository created without it, and only when asked for by name.
    Plaintext,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Access::Passphrase(_) => "Access::Passphrase(..)",
            Access::Key(_) => "Access::Key(..)",
            Access::Plaintext => "Access::Plaintext",
        })
    }
}

/// A repository: where snapshots live.
#[derive(Clone)]
pub struct Repository {
    store: Store,
    config: Arc<Config>,
    cipher: Cipher,
    secrets: Option<Arc<SecretsKey>>,
    /// Decoded delta bases, shared by the handle's clones.
    bases: crate::repo::delta::SharedCache,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("location", &self.store.location())
            .field("id", &self.config.id)
            .field("encrypted", &self.cipher.is_encrypted())
            .field("secrets_unlocked", &self.secrets.is_some())
            .finish()
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    getrandom_fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn getrandom_fill(bytes: &mut [u8]) {
    use chacha20poly1305::aead::rand_core::RngCore;
    chacha20poly1305::aead::OsRng.fill_bytes(bytes);
}

impl Repository {
    /// Create a repository in `store`: encrypted under `access` (a passphrase or a raw key), with
    /// the secrets key under `secrets` (its own passphrase or key), or without encryption when
    /// `access` is [`Access::Plaintext`] (then `secrets` must be `None`: secrets would be stored
    /// in the clear, which is refused). A store that holds anything at all is refused and left
    /// unchanged (see [`Repository::init_with`]).
    pub async fn init(store: Store, access: &Access, secrets: Option<&Access>, kdf: KdfParams) -> Result<Repository> {
        Self::init_with(store, access, secrets, kdf, false).await
    }

    /// [`Repository::init`]; with `allow_other_files`, a store holding files is accepted as long
    /// as none of them is a repository's (`config`, `keys/`, `data/`, ...). A store holding
    /// repository files is always refused, even without `config`: a second key set beside old
    /// data would make every old snapshot unreadable.
    pub async fn init_with(
        store: Store,
        access: &Access,
        secrets: Option<&Access>,
        kdf: KdfParams,
        allow_other_files: bool,
    ) -> Result<Repository> {
        Self::check_empty(&store, allow_other_files).await?;
        let encrypted = !matches!(access, Access::Plaintext);
        let mut config = Config {
            version: FORMAT_VERSION,
            id: random_hex(),
            encryption: if encrypted { ENCRYPTED } else { PLAINTEXT }.into(),
            created: jiff::Timestamp::now(),
            checksum: None,
        };
        config.checksum = Some(config.checksum_of());
        let mut written = Vec::new();
        let (cipher, secrets_key) = if encrypted {
            let Some(secrets_access) = secrets else {
                return Err(Error::invalid_input(
                    "an encrypted repository needs a second passphrase or key file for secrets \
                     (ENTRA_BACKUP_SECRETS_PASSWORD, --secrets-password-file or --secrets-key-file): \
                     BitLocker keys are sealed under it, apart from everything else",
                ));
            };
            if let (Access::Passphrase(data), Access::Passphrase(secrets)) = (access, secrets_access)
                && crate::repo::crypto::same_passphrase(data, secrets)
            {
                tracing::warn!("{}", crate::repo::crypto::SAME_PASSPHRASE_WARNING);
            }
            let (keys, secrets_key) = MasterKeys::generate();
            // Both wrapped before either is written, so a refused passphrase leaves nothing behind.
            let master = keyring::wrap_master(&keys, &config.id, access, kdf)?;
            let secrets_file = keyring::wrap_secrets(&secrets_key, &config.id, secrets_access, kdf)?;
            for (kind, json) in [(KeyKind::Master, master), (KeyKind::Secrets, secrets_file)] {
                written.push(keyring::write(&store, kind, json).await?);
            }
            (keys.cipher(), Some(Arc::new(secrets_key)))
        } else {
            if secrets.is_some() {
                return Err(Error::invalid_input(
                    "a plaintext repository has no secrets key: secrets would be stored in the clear",
                ));
            }
            (Cipher::plaintext(), None)
        };
        let json = serde_json::to_vec_pretty(&config).expect("config serializes");
        if !store.put_if_absent("config", Bytes::from(json)).await? {
            // Someone else created a repository here at the same moment: leave theirs alone.
            for path in written {
                let _ = store.delete(&path).await;
            }
            return Err(Error::invalid_input(format!("{} already holds a repository", store.location())));
        }
        Ok(Repository { store, config: Arc::new(config), cipher, secrets: secrets_key, bases: Default::default() })
    }

    /// Refuse a store that holds a repository's files, or (unless `allow_other_files`) any file.
    async fn check_empty(store: &Store, allow_other_files: bool) -> Result<()> {
        if store.head("config").await?.is_some() {
            return Err(Error::invalid_input(format!("{} already holds a repository", store.location())));
        }
        if let Some(found) = Self::first_repository_file(store).await? {
            return Err(Error::invalid_input(format!(
                "{} already holds a repository's files ({found}) but no config: it may be a damaged repository; \
                 init never writes new keys beside old data (restore the config file, or choose another location)",
                store.location()
            )));
        }
        if !allow_other_files && let Some(found) = store.list_stream("")?.next().await {
            let found = found?;
            return Err(Error::invalid_input(format!(
                "{} is not empty (it holds {}); choose an empty location, or give --force to create the repository \
                 beside those files",
                store.location(),
                found.location
            )));
        }
        Ok(())
    }

    /// A file in one of the repository's folders, if there is any.
    async fn first_repository_file(store: &Store) -> Result<Option<String>> {
        for dir in REPOSITORY_DIRS {
            if let Some(found) = store.list_stream(dir)?.next().await {
                return Ok(Some(found?.location.to_string()));
            }
        }
        Ok(None)
    }

    /// Open the repository in `store`. A missing repository is [`ErrorKind::NotFound`]; a wrong
    /// passphrase or key is [`ErrorKind::Authentication`]; a repository of a newer format, or a
    /// plaintext one opened without asking for plaintext, is [`ErrorKind::InvalidInput`].
    pub async fn open(store: Store, access: &Access) -> Result<Repository> {
        let config = Self::read_config(&store).await?;
        let key_files = store.list("keys").await?;
        let cipher = match config.encryption.as_str() {
            PLAINTEXT => {
                if !key_files.is_empty() {
                    // `config` is not authenticated: it must not be able to turn encryption off.
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "{}: config says plaintext but the repository has key files; refusing to open it \
                             (the config file may have been tampered with)",
                            store.location()
                        ),
                    ));
                }
                if !matches!(access, Access::Plaintext) {
                    return Err(Error::invalid_input(format!(
                        "{} is a plaintext repository (created without encryption); open it with --plaintext",
                        store.location()
                    )));
                }
                Cipher::plaintext()
            }
            ENCRYPTED => {
                if matches!(access, Access::Plaintext) {
                    return Err(Error::invalid_input(format!(
                        "{} is encrypted: give its passphrase (ENTRA_BACKUP_PASSWORD or --password-file) or --key-file",
                        store.location()
                    )));
                }
                keyring::open_master(&store, &config.id, access).await?.0.cipher()
            }
            other => {
                return Err(Error::invalid_input(format!(
                    "{}: unknown encryption scheme `{other}` in config; this program knows {ENCRYPTED}",
                    store.location()
                )));
            }
        };
        Ok(Repository { store, config: Arc::new(config), cipher, secrets: None, bases: Default::default() })
    }

    async fn read_config(store: &Store) -> Result<Config> {
        let Some(json) = store.get("config").await? else {
            if let Some(found) = Self::first_repository_file(store).await? {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "{}: the config file is missing, yet the repository's files are there ({found}): the \
                         repository is damaged; put config back from a copy",
                        store.location()
                    ),
                ));
            }
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("there is no repository at {} (create one with `entra-backup init`)", store.location()),
            ));
        };
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let bad = |e: serde_json::Error| {
            Error::new(ErrorKind::Protocol, format!("{}: the config file is not valid: {e}", store.location()))
        };
        let v: Version = serde_json::from_slice(&json).map_err(bad)?;
        if v.version > FORMAT_VERSION {
            return Err(Error::invalid_input(format!(
                "the repository at {} was written in format version {}; this program reads versions up to {FORMAT_VERSION}: \
                 upgrade entra-backup",
                store.location(),
                v.version
            )));
        }
        let config: Config = serde_json::from_slice(&json).map_err(bad)?;
        if config.checksum.as_ref().is_some_and(|sum| *sum != config.checksum_of()) {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "{}: the config file is damaged (its checksum does not match its content); put config back \
                     from a copy",
                    store.location()
                ),
            ));
        }
        Ok(config)
    }

    /// Open the secrets key, so that [`Repository::open_secret`] can read BitLocker keys and
    /// other secrets.
    pub async fn unlock_secrets(&mut self, access: &Access) -> Result<()> {
        if !self.cipher.is_encrypted() {
            return Ok(());
        }
        let public = *self.cipher.secrets_public_key().expect("an encrypted repository seals secrets");
        let (key, _) = keyring::open_secrets(&self.store, &self.config.id, &public, access).await?;
        self.secrets = Some(Arc::new(key));
        Ok(())
    }

    /// The object store it lives in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Its plaintext `config` file.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The data key's cipher (the identity cipher for an unencrypted repository).
    pub fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    /// Whether backups may store changed objects as deltas: the repository's format is
    /// [`DELTA_FORMAT_VERSION`] or later (a repository made before is written as before, so that
    /// the programs that made it can still read it).
    pub fn writes_deltas(&self) -> bool {
        self.config.version >= DELTA_FORMAT_VERSION
    }

    pub(crate) fn base_cache(&self) -> &crate::repo::delta::SharedCache {
        &self.bases
    }

    /// Whether data is encrypted (`encryption` is not `none`).
    pub fn is_encrypted(&self) -> bool {
        self.cipher.is_encrypted()
    }

    /// Whether secrets can be read: [`Repository::unlock_secrets`] succeeded, or the repository
    /// is not encrypted.
    pub fn secrets_unlocked(&self) -> bool {
        self.secrets.is_some() || !self.cipher.is_encrypted()
    }

    /// Every snapshot, oldest first: (id, snapshot). A snapshot file that cannot be read is an
    /// error naming it (see [`Repository::snapshot_list`] to go on without it).
    pub async fn snapshots(&self) -> Result<Vec<(String, SnapshotFile)>> {
        let list = self.snapshot_list().await?;
        match list.unreadable.first() {
            Some(bad) => Err(bad.to_error()),
            None => Ok(list.snapshots),
        }
    }

    /// The snapshots that read, oldest first, and the snapshot files that do not (damaged, empty,
    /// or of a newer format), with the reason. A file deleted while listing is left out.
    pub async fn snapshot_list(&self) -> Result<SnapshotList> {
        let ids = list_snapshot_ids(&self.store).await?;
        let read: Vec<Option<std::result::Result<(String, SnapshotFile), UnreadableSnapshot>>> = stream::iter(ids)
            .map(|id| async move {
                match SnapshotFile::try_read(&self.store, &self.cipher, &id).await {
                    Ok(result) => Ok(Some(result.map(|s| (id, s)))),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .buffered(SNAPSHOT_READS)
            .try_collect()
            .await?;
        let mut list = SnapshotList::default();
        for item in read.into_iter().flatten() {
            match item {
                Ok(s) => list.snapshots.push(s),
                Err(bad) => list.unreadable.push(bad),
            }
        }
        list.snapshots.sort_by(|a, b| a.1.time.cmp(&b.1.time).then_with(|| a.0.cmp(&b.0)));
        Ok(list)
    }

    /// The snapshot a user named: `latest`, a whole id, or a unique prefix of one (at least 4 hex
    /// digits).
    pub async fn find_snapshot(&self, name: &str) -> Result<(String, SnapshotFile)> {
        if name.trim() == "latest" {
            return self.snapshots().await?.pop().ok_or_else(|| {
                Error::new(ErrorKind::NotFound, format!("the repository at {} has no snapshots", self.store.location()))
            });
        }
        let id = self.resolve_snapshot_id(name).await?;
        let snapshot = SnapshotFile::read(&self.store, &self.cipher, &id).await?;
        Ok((id, snapshot))
    }

    /// The id of the snapshot file a user named (a whole id or a unique prefix of at least 4 hex
    /// digits), without reading it: a damaged snapshot can be named too.
    pub async fn resolve_snapshot_id(&self, name: &str) -> Result<String> {
        let name = name.trim();
        if name.len() < 4 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid_input(format!(
                "`{}` is not a snapshot: give `latest`, an id, or at least 4 hex digits of one",
                name.chars().take(80).collect::<String>().escape_debug()
            )));
        }
        let name = name.to_ascii_lowercase();
        let ids: Vec<String> =
            list_snapshot_ids(&self.store).await?.into_iter().filter(|id| id.starts_with(&name)).collect();
        match ids.as_slice() {
            [id] => Ok(id.clone()),
            [] => Err(Error::new(ErrorKind::NotFound, format!("no snapshot {name}"))),
            _ => Err(Error::invalid_input(format!("{name} matches {} snapshots; give more digits", ids.len()))),
        }
    }

    /// Every index file not superseded, combined.
    pub(crate) async fn load_index(&self) -> Result<Index> {
        Index::load(&self.store, &self.cipher).await
    }

    /// A category's whole tree (ids only): a trie read level by level, under its layers.
    pub(crate) async fn read_tree(&self, index: &Index, root: &str) -> Result<Entries> {
        Ok(self.walk_tree(index, root).await?.1)
    }

    /// The layer depth of a tree (0 for a trie).
    pub(crate) async fn tree_depth(&self, index: &Index, root: &str) -> Result<usize> {
        let json = self.read_blobs(index, &[root.to_string()]).await?.pop().unwrap_or_default();
        Ok(match tree::parse(root, &json)? {
            NodeData::Layer { depth, .. } => depth,
            _ => 0,
        })
    }

    /// Every tree node id under `root` (the root and its layers' parents included) and the tree's
    /// entries, for check and prune.
    pub(crate) async fn tree_node_ids(&self, index: &Index, root: &str) -> Result<(Vec<String>, Entries)> {
        self.walk_tree(index, root).await
    }

    async fn walk_tree(&self, index: &Index, root: &str) -> Result<(Vec<String>, Entries)> {
        let mut nodes = Vec::new();
        // Layers from the newest down to the trie under them.
        let mut layers: Vec<(Vec<Vec<String>>, Vec<String>)> = Vec::new();
        let mut current = root.to_string();
        let first = loop {
            let json = self.read_blobs(index, std::slice::from_ref(&current)).await?.pop().unwrap_or_default();
            match tree::parse(&current, &json)? {
                NodeData::Layer { layer, set, unset, .. } => {
                    if layers.len() > 4 * tree::MAX_LAYERS {
                        return Err(Error::new(ErrorKind::Protocol, format!("tree {root}: its layers do not end")));
                    }
                    nodes.push(std::mem::replace(&mut current, layer));
                    layers.push((set, unset));
                }
                node => break node,
            }
        };
        let mut entries = Entries::new();
        let mut seen = std::collections::HashSet::from([current.clone()]);
        let mut pending = vec![(current, Some(first))];
        while !pending.is_empty() {
            let unread: Vec<String> = pending.iter().filter(|(_, n)| n.is_none()).map(|(id, _)| id.clone()).collect();
            let mut blobs = self.read_blobs(index, &unread).await?.into_iter();
            let mut next = Vec::new();
            for (id, node) in pending {
                let node = match node {
                    Some(n) => n,
                    None => tree::parse(&id, &blobs.next().unwrap_or_default())?,
                };
                match node {
                    NodeData::Leaf { entries: rows } => entries.extend(tree::leaf_entries(rows)),
                    NodeData::Inner { subtrees, .. } => {
                        for (_, t) in subtrees {
                            // A trie reaches each node once (an object id hashes to one path): a node
                            // named twice is damage, and following it again multiplies the work.
                            if !seen.insert(t.clone()) {
                                return Err(Error::new(
                                    ErrorKind::Protocol,
                                    format!("tree {root}: node {t} is reached twice (the tree is damaged)"),
                                ));
                            }
                            next.push((t, None));
                        }
                    }
                    NodeData::Layer { .. } => {
                        return Err(Error::new(ErrorKind::Protocol, format!("tree {id}: a layer inside a trie")));
                    }
                }
                nodes.push(id);
            }
            pending = next;
        }
        for (set, unset) in layers.into_iter().rev() {
            for oid in unset {
                entries.remove(&oid);
            }
            entries.extend(tree::leaf_entries(set));
        }
        Ok((nodes, entries))
    }

    /// One object blob as JSON.
    pub(crate) fn parse_object(id: &str, bytes: &[u8]) -> Result<Map<String, Value>> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("object blob {id} is not a JSON object: {e}")))
    }

    /// Put link lists stored in chunks back in place in `objects` (read with one batch of reads).
    pub(crate) async fn expand_chunks(&self, index: &Index, objects: &mut [Map<String, Value>]) -> Result<()> {
        let mut wanted: Vec<String> = Vec::new();
        for o in objects.iter() {
            for v in o.values() {
                if let Some(ids) = v.get(CHUNKS_KEY).and_then(Value::as_array) {
                    wanted.extend(ids.iter().filter_map(Value::as_str).map(String::from));
                }
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let blobs = self.read_blobs(index, &wanted).await?;
        let chunks: HashMap<&String, Vec<u8>> = wanted.iter().zip(blobs).collect();
        for o in objects.iter_mut() {
            for v in o.values_mut() {
                let Some(ids) = v.get(CHUNKS_KEY).and_then(Value::as_array).cloned() else { continue };
                let mut list = Vec::new();
                for id in ids.iter().filter_map(Value::as_str) {
                    let bytes = chunks.get(&id.to_string()).map(Vec::as_slice).unwrap_or_default();
                    match serde_json::from_slice::<Value>(bytes) {
                        Ok(Value::Array(items)) => list.extend(items),
                        _ => {
                            return Err(Error::new(
                                ErrorKind::Protocol,
                                format!("link chunk {id} is not a JSON array"),
                            ));
                        }
                    }
                }
                *v = Value::Array(list);
            }
        }
        Ok(())
    }

    /// Open a sealed secret blob into its properties. Needs [`Repository::unlock_secrets`].
    pub fn open_secret(&self, id: &str, sealed: &[u8]) -> Result<Map<String, Value>> {
        let plaintext = if self.cipher.is_encrypted() {
            let Some(key) = &self.secrets else {
                return Err(Error::new(
                    ErrorKind::Authentication,
                    "reading secrets needs the secrets key (ENTRA_BACKUP_SECRETS_PASSWORD, \
                     --secrets-password-file or --secrets-key-file)",
                ));
            };
            key.open_secret(sealed).map_err(|e| e.context(format!("secret {id}")))?
        } else {
            zeroize::Zeroizing::new(sealed.to_vec())
        };
        // The id names the sealed box; a repository written before that named the plaintext.
        if self.sealed_secret_id(sealed) != id && self.legacy_secret_id(&plaintext) != id {
            return Err(Error::new(ErrorKind::Protocol, format!("secret {id} has other content")));
        }
        serde_json::from_slice(&plaintext)
            .map_err(|_| Error::new(ErrorKind::Protocol, format!("secret {id} is not a JSON object")))
    }

    /// The id of a sealed secret: the content id of the sealed box, as for any other blob. It is
    /// derived from the (randomised) box, not from the plaintext, so the id key, which every
    /// holder of the repository passphrase has, cannot confirm a guessed secret.
    pub fn sealed_secret_id(&self, sealed: &[u8]) -> String {
        self.cipher.id_hex(sealed)
    }

    /// The id secrets had before [`Repository::sealed_secret_id`]: keyed BLAKE3 of the plaintext.
    /// Only read, for repositories that still hold such secrets.
    fn legacy_secret_id(&self, plaintext: &[u8]) -> String {
        let mut h = self.cipher.id_hasher();
        h.update(b"entra-backup secret\0").update(plaintext);
        h.finalize_hex()
    }

    /// The objects of one category of a snapshot, with their secrets merged in when the secrets
    /// key is unlocked (and `with_secrets`), in object id order, `batch` at a time.
    pub(crate) fn objects<'a>(
        &'a self,
        index: &'a Index,
        entries: Entries,
        with_secrets: bool,
        batch: usize,
    ) -> impl futures::Stream<Item = Result<(String, Map<String, Value>)>> + Send + 'a {
        let entries: Vec<(String, tree::Entry)> = entries.into_iter().collect();
        let chunks: Vec<Vec<(String, tree::Entry)>> = entries.chunks(batch.max(1)).map(<[_]>::to_vec).collect();
        stream::iter(chunks)
            .map(move |chunk| async move {
                let ids: Vec<String> = chunk.iter().map(|(_, e)| e.blob.clone()).collect();
                let blobs = self.read_blobs(index, &ids).await?;
                let secret_ids: Vec<String> = if with_secrets && self.secrets_unlocked() {
                    chunk.iter().filter_map(|(_, e)| e.secret.clone()).collect()
                } else {
                    Vec::new()
                };
                let secrets = self.read_blobs(index, &secret_ids).await?;
                let secrets: HashMap<&String, Vec<u8>> = secret_ids.iter().zip(secrets).collect();
                let mut parsed = Vec::with_capacity(chunk.len());
                for ((_, entry), bytes) in chunk.iter().zip(blobs) {
                    let mut object = Self::parse_object(&entry.blob, &bytes)?;
                    if let Some(sid) = &entry.secret
                        && let Some(sealed) = secrets.get(sid)
                    {
                        object.extend(self.open_secret(sid, sealed)?);
                    }
                    parsed.push(object);
                }
                self.expand_chunks(index, &mut parsed).await?;
                let out: Vec<(String, Map<String, Value>)> =
                    chunk.into_iter().map(|(oid, _)| oid).zip(parsed).collect();
                Ok::<_, Error>(stream::iter(out.into_iter().map(Ok)))
            })
            .buffered(4)
            .try_flatten()
    }
}
