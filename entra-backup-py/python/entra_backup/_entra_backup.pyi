"""The native part of entra_backup: PyO3 glue over the Rust library entra-backup-core."""

import datetime
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, final

from typing_extensions import Self, TypeAlias

from ._types import (
    BackupReport,
    CheckReport,
    ChurnReport,
    DiffEntry,
    DiffSummary,
    ExportReport,
    ProgressUpdate,
    RestoreReport,
    SnapshotInfo,
)

_Json: TypeAlias = dict[str, Any]
"""A dict in the shape of the command-line tool's `--json` output (camelCase keys), where no
TypedDict of `entra_backup._types` describes it (the catalog, prune plans), and Graph's objects."""
_Path: TypeAlias = str | os.PathLike[str]
_ProgressCallback: TypeAlias = Callable[[ProgressUpdate], object]
"""Called with a `ProgressUpdate` every `progress_interval` seconds and once at the end."""

__version__: str
__all__ = [
    "Access",
    "AuthenticationError",
    "CancelledError",
    "ConflictError",
    "Credentials",
    "DiffIterator",
    "EntraBackupError",
    "GraphError",
    "IdIterator",
    "IncompleteBackupError",
    "InvalidInputError",
    "NetworkError",
    "NotFoundError",
    "ObjectIterator",
    "OperationCancelledError",
    "PermissionDeniedError",
    "ProtocolError",
    "Repository",
    "SimServer",
    "Snapshot",
    "StorageError",
    "ThrottlingExhaustedError",
    "WalkIterator",
    "__version__",
    "categories",
    "category",
    "export",
    "export_async",
    "permissions",
]

# --- errors -----------------------------------------------------------------------------------

class EntraBackupError(Exception):
    """The base of every entra_backup error."""

    kind: str | None
    """The core's error kind: `authentication`, `permission`, `throttling_exhausted`, `not_found`,
    `network`, `graph`, `invalid_input`, `io`, `protocol`, `cancelled`, `conflict` (None on the base)."""
    graph_code: str | None
    """Graph's or the identity platform's error code (`Authorization_RequestDenied`, `AADSTS7000215`)."""
    status: int | None
    """The HTTP status, when the error came from a response."""

class AuthenticationError(EntraBackupError):
    """The identity platform refused the credentials, or Graph refused the token; or a secrets key is needed."""

class PermissionDeniedError(EntraBackupError):
    """Graph answered 403: the app lacks a permission."""

class ThrottlingExhaustedError(EntraBackupError):
    """Graph kept throttling (429) past the retry budget."""

class NotFoundError(EntraBackupError):
    """The object, snapshot, repository or path does not exist."""

class NetworkError(EntraBackupError):
    """Graph or the storage could not be reached past the retry budget."""

class GraphError(EntraBackupError):
    """Graph answered with another error (4xx or 5xx past the retry budget)."""

class InvalidInputError(EntraBackupError, ValueError):
    """Bad input: an unknown category, a bad URL, a bad option or argument (the message names it)."""

class StorageError(EntraBackupError):
    """Reading or writing local files or object storage failed."""

class ProtocolError(EntraBackupError):
    """A response or a stored file could not be understood."""

class OperationCancelledError(EntraBackupError):
    """The operation was cancelled. (Not asyncio's `CancelledError`.)"""

CancelledError = OperationCancelledError
"""Deprecated: the old name of `OperationCancelledError`, which asyncio's `CancelledError` shadowed."""

class ConflictError(EntraBackupError):
    """Another process holds what this one needs (a prune lease), or changed it first."""

class IncompleteBackupError(EntraBackupError):
    """A backup wrote its snapshot, but some categories could not be read: they hold the parent's
    data, marked `carried`, and are named in `report['snapshot']['failed']`. Raised by `backup`
    unless `allow_failed=True`; `kind` is `incomplete`."""

    report: BackupReport
    """The whole backup report, as `backup` returns it."""

# --- credentials and the catalog --------------------------------------------------------------

@final
class Credentials:
    """How to reach a tenant's Graph and sign in: an app registration's client secret or certificate,
    or a bearer token; with the Graph and identity platform URLs (national clouds, a simulated
    tenant). Secrets are never shown. Bad input (a URL, a tenant id, a missing certificate file)
    raises here, not at the first call."""

    @staticmethod
    def client_secret(
        tenant_id: str,
        client_id: str,
        client_secret: str,
        *,
        graph_url: str | None = None,
        authority_url: str | None = None,
    ) -> Credentials:
        """An app registration's client secret (the client-credentials grant)."""

    @staticmethod
    def certificate(
        tenant_id: str,
        client_id: str,
        certificate_path: _Path,
        *,
        graph_url: str | None = None,
        authority_url: str | None = None,
    ) -> Credentials:
        """An app registration's certificate: `certificate_path` is a PEM file with the certificate
        and its unencrypted RSA private key (`openssl pkcs12 -nodes` writes one)."""

    @staticmethod
    def token(token: str, *, tenant_id: str, graph_url: str | None = None) -> Credentials:
        """A bearer token for Graph, used as it is and never refreshed
        (`az account get-access-token --resource-type ms-graph`)."""

    @staticmethod
    def from_env(
        *,
        tenant_id: str | None = None,
        client_id: str | None = None,
        graph_url: str | None = None,
        authority_url: str | None = None,
    ) -> Credentials:
        """The Azure SDKs' environment variables: AZURE_TENANT_ID, AZURE_CLIENT_ID, and
        AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH (the secret wins when both are set),
        and AZURE_AUTHORITY_HOST. `tenant_id` and `client_id` override the variables."""

    @property
    def kind(self) -> str:
        """`client_secret`, `certificate` or `token`."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def client_id(self) -> str | None:
        """The app registration's client id (None for a token)."""

    @property
    def graph_url(self) -> str | None:
        """Graph's root URL (None: the public cloud, https://graph.microsoft.com)."""

    @property
    def authority_url(self) -> str | None:
        """The identity platform's URL (None: AZURE_AUTHORITY_HOST or https://login.microsoftonline.com)."""

def categories() -> list[_Json]:
    """Every category of a tenant the catalog knows (47 of them), as dicts (`name`, `path`,
    `delta`, relationships, permissions, restore strategy...), in restore order."""

def category(name: str) -> _Json:
    """One category of the catalog by name (an `InvalidInputError` for an unknown one, with the
    names it may have meant)."""

def permissions(categories: Sequence[str] | None = None, *, restore: bool = False) -> list[str]:
    """The least-privilege application permissions to back up `categories` (default: every
    category), and with `restore` to restore them too."""

# --- export -----------------------------------------------------------------------------------

def export(
    credentials: Credentials,
    out_dir: _Path,
    *,
    categories: Sequence[str] | None = None,
    secrets: bool = False,
    logs_days: int | None = None,
    progress: _ProgressCallback | None = None,
    progress_interval: float = 1.0,
) -> ExportReport:
    """Read a tenant through Graph into `out_dir/<category>/<id>.json` (and `summary.json`), every
    property and relationship (`out_dir` new or empty; written beside it and renamed into place
    when done). `progress(update)` is called every `progress_interval` seconds and once at the
    end; an exception it raises (or Ctrl-C) stops the export. Returns the run's summary."""

def export_async(
    credentials: Credentials,
    out_dir: _Path,
    *,
    categories: Sequence[str] | None = None,
    secrets: bool = False,
    logs_days: int | None = None,
    progress: _ProgressCallback | None = None,
    progress_interval: float = 1.0,
) -> Awaitable[ExportReport]:
    """`export`, awaitable; the progress callback runs on the event loop's thread."""

# --- repositories -----------------------------------------------------------------------------

@final
class Access:
    """How to open a repository or its secrets key: a passphrase, a key file, or (for a repository
    created without encryption) plaintext. Never shows the passphrase or key."""

    @staticmethod
    def passphrase(passphrase: str) -> Access:
        """A passphrase (stretched with Argon2id)."""

    @staticmethod
    def key_file(path: _Path) -> Access:
        """A key file: one line, the base64 of a random 32-byte key (read now)."""

    @staticmethod
    def new_key_file(path: _Path) -> Access:
        """Make a new key file at `path` (refused if it exists; readable by its owner only) and use it."""

    @staticmethod
    def plaintext() -> Access:
        """No encryption: only to create or open a repository without it."""

    @staticmethod
    def from_env(password_file: _Path | None = None) -> Access:
        """The repository passphrase from ENTRA_BACKUP_PASSWORD, or the first line of `password_file`."""

    @staticmethod
    def secrets_from_env(password_file: _Path | None = None) -> Access:
        """The secrets passphrase from ENTRA_BACKUP_SECRETS_PASSWORD, or the first line of `password_file`."""

@final
class Repository:
    """A repository of snapshots: a local folder, file://, s3://, az://, gs:// or memory://.
    A context manager: leaving the `with` block closes it."""

    @staticmethod
    def init(
        url: str,
        access: Access,
        secrets: Access | None = None,
        *,
        kdf_memory_mib: int = 64,
        kdf_iterations: int = 3,
    ) -> Repository:
        """Create a repository at `url`, encrypted under `access`. An encrypted repository needs
        `secrets` too: a second passphrase or key file, under which BitLocker keys are sealed apart
        from everything else. With `Access.plaintext()` there is no encryption (and no `secrets`)."""

    @staticmethod
    def init_async(
        url: str,
        access: Access,
        secrets: Access | None = None,
        *,
        kdf_memory_mib: int = 64,
        kdf_iterations: int = 3,
    ) -> Awaitable[Repository]:
        """`init`, awaitable."""

    @staticmethod
    def open(url: str, access: Access, secrets: Access | None = None) -> Repository:
        """Open the repository at `url`; with `secrets`, unlock its secrets key too (needed to read
        BitLocker keys back: `snapshot(secrets=True)`)."""

    @staticmethod
    def open_async(url: str, access: Access, secrets: Access | None = None) -> Awaitable[Repository]:
        """`open`, awaitable."""

    def unlock_secrets(self, secrets: Access) -> None:
        """Unlock the secrets key (to read BitLocker keys back)."""

    def unlock_secrets_async(self, secrets: Access) -> Awaitable[None]:
        """`unlock_secrets`, awaitable."""

    def close(self) -> None:
        """Close the repository: its keys are dropped from memory and every later call raises.
        Snapshots and iterators already made keep working."""

    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> bool: ...
    @property
    def location(self) -> str: ...
    @property
    def id(self) -> str:
        """The repository's id (from its config)."""

    @property
    def encrypted(self) -> bool: ...
    @property
    def secrets_unlocked(self) -> bool: ...
    def backup(
        self,
        credentials: Credentials,
        *,
        categories: Sequence[str] | None = None,
        full: bool = False,
        tags: Sequence[str] | None = None,
        secrets: bool = True,
        progress: _ProgressCallback | None = None,
        progress_interval: float = 1.0,
        allow_failed: bool = False,
    ) -> BackupReport:
        """Back up a tenant as a new snapshot, incrementally from its latest one (unless `full`).
        `progress(update)` is called every `progress_interval` seconds and once at the end; an
        exception it raises (or Ctrl-C) stops the backup, which then writes no snapshot. When
        categories could not be read (named in `report["snapshot"]["failed"]`; the snapshot keeps
        their previous data) it raises `IncompleteBackupError` with the report, unless `allow_failed`."""

    def backup_async(
        self,
        credentials: Credentials,
        *,
        categories: Sequence[str] | None = None,
        full: bool = False,
        tags: Sequence[str] | None = None,
        secrets: bool = True,
        progress: _ProgressCallback | None = None,
        progress_interval: float = 1.0,
        allow_failed: bool = False,
    ) -> Awaitable[BackupReport]:
        """`backup`, awaitable; the progress callback runs on the event loop's thread."""

    def snapshots(self) -> list[Snapshot]:
        """Every snapshot, oldest first, as `Snapshot` objects (`.info()` gives the metadata as a dict)."""

    def snapshots_async(self) -> Awaitable[list[Snapshot]]:
        """`snapshots`, awaitable."""

    def snapshot(self, name: str = "latest", *, secrets: bool = False) -> Snapshot:
        """One snapshot: `latest`, an id, or a unique prefix of 4+ hex digits of one. With
        `secrets`, its objects come with their secret properties (needs the secrets key)."""

    def snapshot_async(self, name: str = "latest", *, secrets: bool = False) -> Awaitable[Snapshot]:
        """`snapshot`, awaitable."""

    def diff(
        self,
        snapshot: str,
        other: str | None = None,
        *,
        live: Credentials | None = None,
        categories: Sequence[str] | None = None,
        id: str | None = None,
    ) -> DiffIterator:
        """Compare snapshot `snapshot` with snapshot `other`, or with the live tenant read with
        `live` credentials: an iterator of the objects that differ. `categories` defaults to every
        category but the logs; `id` limits it to one object."""

    def restore(
        self,
        snapshot: str,
        live: Credentials,
        *,
        categories: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        attributes: Sequence[str] | None = None,
        overwrite_relationships: bool = False,
        dry_run: bool = False,
    ) -> RestoreReport:
        """Restore snapshot `snapshot` (or part of it) into the tenant `live` reaches: recycle-bin
        restore, recreate with ids remapped everywhere, patch, relink (docs/restore.md).
        `categories`, `ids` (snapshot ids) and `attributes` narrow the scope.
        `report["summary"]["failed"]` counts refused writes. Running it again writes nothing."""

    def restore_async(
        self,
        snapshot: str,
        live: Credentials,
        *,
        categories: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        attributes: Sequence[str] | None = None,
        overwrite_relationships: bool = False,
        dry_run: bool = False,
    ) -> Awaitable[RestoreReport]:
        """`restore`, awaitable."""

    def plan_restore(
        self,
        snapshot: str,
        live: Credentials,
        *,
        categories: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        attributes: Sequence[str] | None = None,
        overwrite_relationships: bool = False,
    ) -> RestoreReport:
        """What `restore` would do, writing nothing: objects are `planned` with their `action`
        (absent on those that cannot be restored: use `.get("action")`)."""

    def plan_restore_async(
        self,
        snapshot: str,
        live: Credentials,
        *,
        categories: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        attributes: Sequence[str] | None = None,
        overwrite_relationships: bool = False,
    ) -> Awaitable[RestoreReport]:
        """`plan_restore`, awaitable."""

    def check(self, read_data_percent: float = 0.0) -> CheckReport:
        """Verify the repository's structure, and read and verify `read_data_percent` percent of
        its packs. `report["ok"]` is false when `report["errors"]` found damage."""

    def check_async(self, read_data_percent: float = 0.0) -> Awaitable[CheckReport]:
        """`check`, awaitable."""

    def forget(
        self,
        *,
        keep_last: int = 0,
        keep_hourly: int = 0,
        keep_daily: int = 0,
        keep_weekly: int = 0,
        keep_monthly: int = 0,
        keep_yearly: int = 0,
        dry_run: bool = False,
    ) -> list[_Json]:
        """Remove the snapshots a retention policy does not keep (per tenant; restic's rules),
        under the prune lease. Returns one decision per snapshot (`id`, `time`, `tenant`, `keep`,
        `reasons`). Their data stays until `prune`."""

    def forget_async(
        self,
        *,
        keep_last: int = 0,
        keep_hourly: int = 0,
        keep_daily: int = 0,
        keep_weekly: int = 0,
        keep_monthly: int = 0,
        keep_yearly: int = 0,
        dry_run: bool = False,
    ) -> Awaitable[list[_Json]]:
        """`forget`, awaitable."""

    def prune(
        self,
        *,
        grace: datetime.timedelta | float | None = None,
        dry_run: bool = False,
        max_unused: float = 0.5,
    ) -> _Json:
        """Free the data no snapshot needs, in two phases: unused packs are marked, and deleted by a
        later prune once `grace` (default 24 h) has passed. Returns the plan (`keep`, `repack`,
        `mark`, `delete`, `waiting`, `bytesFreed`...)."""

    def prune_async(
        self,
        *,
        grace: datetime.timedelta | float | None = None,
        dry_run: bool = False,
        max_unused: float = 0.5,
    ) -> Awaitable[_Json]:
        """`prune`, awaitable."""

@final
class Snapshot:
    """One snapshot: its metadata, its objects (dicts of Graph JSON, streamed), one object by id."""

    @property
    def id(self) -> str:
        """The snapshot's id (64 hex digits)."""

    @property
    def time(self) -> str:
        """When the backup started (RFC 3339, UTC)."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def parent(self) -> str | None:
        """The snapshot this one was made incrementally from."""

    @property
    def tags(self) -> list[str]: ...
    @property
    def category_names(self) -> list[str]:
        """The names of the categories it holds, in restore order."""

    def info(self) -> SnapshotInfo:
        """Everything the snapshot says of itself: `id`, `time`, `tenant`, `parent`, `categories`,
        `failed`, `summary`, `tags`."""

    def info_async(self) -> Awaitable[SnapshotInfo]:
        """`info`, awaitable."""

    def ids(self, category: str) -> IdIterator:
        """The ids of one category's objects, in id order (read from the snapshot's tree only)."""

    def ids_async(self, category: str) -> Awaitable[IdIterator]:
        """`ids`, awaitable."""

    def get(self, category: str, id: str) -> _Json | None:
        """One object as a dict, or None if the snapshot does not hold it."""

    def get_async(self, category: str, id: str) -> Awaitable[_Json | None]:
        """`get`, awaitable."""

    def objects(self, category: str | None = None) -> ObjectIterator:
        """The objects of `category` (default: every category the snapshot holds), each a dict of
        its Graph JSON with its relationships, read in batches as the iterator is consumed."""

    def walk(self, categories: Sequence[str] | None = None) -> WalkIterator:
        """`(category, object)` pairs of `categories` (default: every category the snapshot holds)."""

    def export(self, out_dir: _Path) -> ExportReport:
        """Write the snapshot out in the plain layout of `export` (`DIR/<category>/<id>.json`)."""

    def export_async(self, out_dir: _Path) -> Awaitable[ExportReport]:
        """`export`, awaitable."""

# --- iterators --------------------------------------------------------------------------------

@final
class ObjectIterator:
    """Objects of a snapshot (`Snapshot.objects`), dicts of their Graph JSON, read in batches as it
    is consumed. Works with `for` and `async for`."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> _Json: ...
    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[_Json]: ...

@final
class WalkIterator:
    """`(category, object)` pairs of a snapshot (`Snapshot.walk`), read in batches as it is
    consumed. Works with `for` and `async for`."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> tuple[str, _Json]: ...
    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[tuple[str, _Json]]: ...

@final
class DiffIterator:
    """The objects that differ, one `DiffEntry` each. Works with `for` and `async for`."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> DiffEntry: ...
    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[DiffEntry]: ...
    @property
    def summary(self) -> DiffSummary | None:
        """`{"added", "removed", "changed", "unchanged"}` once every difference was read (and
        `failedCategories`, those the tenant would not let it read); None before."""

@final
class IdIterator:
    """Object ids (`Snapshot.ids`), handed out one at a time; `len()` gives how many are left."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> str: ...
    def __len__(self) -> int: ...

# --- the simulated tenant ---------------------------------------------------------------------

@final
class SimServer:
    """A simulated tenant served over Graph's HTTP API on 127.0.0.1 (a free port), for tests:
    deterministic from `seed` and the sizes, with Graph's paging, delta, `$batch`, tokens and (with
    `throttle`) Microsoft's published throttling limits. Use it with `with` or `async with`, or
    call `stop()`."""

    def __new__(
        cls,
        *,
        users: int = 200,
        groups: int = 40,
        seed: int = 1,
        memberships: int | None = None,
        latency_ms: int = 0,
        throttle: bool = True,
        faults: float = 0.0,
        tenant_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        granted_permissions: Sequence[str] | None = None,
    ) -> Self:
        """Generate the tenant and start serving it. `client_id` and `client_secret` (both or
        neither) make the token endpoint accept only them; `granted_permissions` limits what
        tokens carry (requests needing more get 403, as from Graph); `faults` is the share of
        requests failing with an injected fault (0 to 1)."""

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`: both the Graph URL and the authority URL to give credentials."""

    @property
    def tenant_id(self) -> str:
        """The tenant's id (a GUID)."""

    @property
    def running(self) -> bool: ...
    def credentials(self) -> Credentials:
        """Client-secret credentials for this tenant, pointed at the simulator."""

    def count(self, category: str) -> int:
        """How many objects `category` holds now (the ground truth)."""

    def total_objects(self) -> int: ...
    def churn(self, fraction: float = 0.01, seed: int = 1) -> ChurnReport:
        """Change about `fraction` of the big categories (users, groups, devices, apps; new log
        records), deterministically from `seed`, as an administrator would. Returns what changed."""

    def stop(self) -> None:
        """Stop serving (waiting for open requests). Stopping twice does nothing."""

    def stop_async(self) -> Awaitable[None]:
        """`stop`, awaitable."""

    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> bool: ...
    def __aenter__(self) -> Awaitable[Self]: ...
    def __aexit__(self, *_exc: object) -> Awaitable[bool]: ...
