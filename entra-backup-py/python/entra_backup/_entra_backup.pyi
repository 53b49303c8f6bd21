"""The native part of entra_backup: PyO3 glue over the Rust library entra-backup-core."""

import datetime
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, final

from typing_extensions import Self, TypeAlias

_Json: TypeAlias = dict[str, Any]
"""A dict in the shape of the command-line tool's `--json` output (camelCase keys)."""
_Path: TypeAlias = str | os.PathLike[str]
_ProgressCallback: TypeAlias = Callable[[dict[str, Any]], object]

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
    "PermissionDeniedError",
    "ProtocolError",
    "Repository",
    "SimServer",
    "Snapshot",
    "StorageError",
    "ThrottlingExhaustedError",
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

class AuthenticationError(EntraBackupError): ...
class PermissionDeniedError(EntraBackupError): ...
class ThrottlingExhaustedError(EntraBackupError): ...
class NotFoundError(EntraBackupError): ...
class NetworkError(EntraBackupError): ...
class GraphError(EntraBackupError): ...
class InvalidInputError(EntraBackupError, ValueError): ...
class StorageError(EntraBackupError): ...
class ProtocolError(EntraBackupError): ...
class CancelledError(EntraBackupError): ...
class ConflictError(EntraBackupError): ...

class IncompleteBackupError(EntraBackupError):
    """A backup wrote its snapshot, but some categories could not be read: they hold the parent's
    data, marked `carried`, and are named in `report['snapshot']['failed']`. Raised by `backup`
    unless `allow_failed=True`; `kind` is `incomplete`."""

    report: _Json
    """The whole backup report, as `backup` returns it."""

# --- credentials and the catalog --------------------------------------------------------------

@final
class Credentials:
    """How to reach a tenant's Graph and sign in. Secrets are never shown."""

    @staticmethod
    def client_secret(
        tenant_id: str,
        client_id: str,
        client_secret: str,
        *,
        graph_url: str | None = None,
        authority_url: str | None = None,
    ) -> Credentials: ...
    @staticmethod
    def certificate(
        tenant_id: str,
        client_id: str,
        certificate_path: _Path,
        *,
        graph_url: str | None = None,
        authority_url: str | None = None,
    ) -> Credentials: ...
    @staticmethod
    def token(token: str, *, tenant_id: str, graph_url: str | None = None) -> Credentials: ...
    @staticmethod
    def from_env(
        *,
        tenant_id: str | None = None,
        client_id: str | None = None,
        graph_url: str | None = None,
        authority_url: str | None = None,
    ) -> Credentials: ...
    @property
    def kind(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def client_id(self) -> str | None: ...
    @property
    def graph_url(self) -> str | None: ...
    @property
    def authority_url(self) -> str | None: ...

def categories() -> list[_Json]:
    """Every category of a tenant the catalog knows (47 of them), in restore order."""

def category(name: str) -> _Json: ...
def permissions(categories: Sequence[str] | None = None, *, restore: bool = False) -> list[str]: ...

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
) -> _Json: ...
def export_async(
    credentials: Credentials,
    out_dir: _Path,
    *,
    categories: Sequence[str] | None = None,
    secrets: bool = False,
    logs_days: int | None = None,
    progress: _ProgressCallback | None = None,
    progress_interval: float = 1.0,
) -> Awaitable[_Json]: ...

# --- repositories -----------------------------------------------------------------------------

@final
class Access:
    """How to open a repository or its secrets key. Never shows the passphrase or key."""

    @staticmethod
    def passphrase(passphrase: str) -> Access: ...
    @staticmethod
    def key_file(path: _Path) -> Access: ...
    @staticmethod
    def new_key_file(path: _Path) -> Access: ...
    @staticmethod
    def plaintext() -> Access: ...
    @staticmethod
    def from_env(password_file: _Path | None = None) -> Access: ...
    @staticmethod
    def secrets_from_env(password_file: _Path | None = None) -> Access: ...

@final
class Repository:
    """A repository of snapshots: a local folder, s3://, az://, gs:// or memory://."""

    @staticmethod
    def init(
        url: str,
        access: Access,
        secrets: Access | None = None,
        *,
        kdf_memory_mib: int = 64,
        kdf_iterations: int = 3,
    ) -> Repository: ...
    @staticmethod
    def init_async(
        url: str,
        access: Access,
        secrets: Access | None = None,
        *,
        kdf_memory_mib: int = 64,
        kdf_iterations: int = 3,
    ) -> Awaitable[Repository]: ...
    @staticmethod
    def open(url: str, access: Access, secrets: Access | None = None) -> Repository: ...
    @staticmethod
    def open_async(url: str, access: Access, secrets: Access | None = None) -> Awaitable[Repository]: ...
    def unlock_secrets(self, secrets: Access) -> None: ...
    @property
    def location(self) -> str: ...
    @property
    def id(self) -> str: ...
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
    ) -> _Json: ...
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
    ) -> Awaitable[_Json]: ...
    def snapshots(self) -> list[_Json]: ...
    def snapshots_async(self) -> Awaitable[list[_Json]]: ...
    def snapshot(self, name: str = "latest", *, secrets: bool = False) -> Snapshot: ...
    def snapshot_async(self, name: str = "latest", *, secrets: bool = False) -> Awaitable[Snapshot]: ...
    def diff(
        self,
        snapshot: str,
        other: str | None = None,
        *,
        live: Credentials | None = None,
        categories: Sequence[str] | None = None,
        id: str | None = None,
    ) -> DiffIterator: ...
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
    ) -> _Json: ...
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
    ) -> Awaitable[_Json]: ...
    def plan_restore(
        self,
        snapshot: str,
        live: Credentials,
        *,
        categories: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        attributes: Sequence[str] | None = None,
        overwrite_relationships: bool = False,
    ) -> _Json: ...
    def plan_restore_async(
        self,
        snapshot: str,
        live: Credentials,
        *,
        categories: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        attributes: Sequence[str] | None = None,
        overwrite_relationships: bool = False,
    ) -> Awaitable[_Json]: ...
    def check(self, read_data_percent: float = 0.0) -> _Json: ...
    def check_async(self, read_data_percent: float = 0.0) -> Awaitable[_Json]: ...
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
    ) -> list[_Json]: ...
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
    ) -> Awaitable[list[_Json]]: ...
    def prune(
        self,
        *,
        grace: datetime.timedelta | float | None = None,
        dry_run: bool = False,
        max_unused: float = 0.5,
    ) -> _Json: ...
    def prune_async(
        self,
        *,
        grace: datetime.timedelta | float | None = None,
        dry_run: bool = False,
        max_unused: float = 0.5,
    ) -> Awaitable[_Json]: ...

@final
class Snapshot:
    """One snapshot: its metadata, its objects (dicts, streamed), one object by id."""

    @property
    def id(self) -> str: ...
    @property
    def time(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def parent(self) -> str | None: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def category_names(self) -> list[str]: ...
    def info(self) -> _Json: ...
    def ids(self, category: str) -> IdIterator: ...
    def get(self, category: str, id: str) -> _Json | None: ...
    def objects(self, category: str | None = None) -> ObjectIterator: ...
    def walk(self, categories: Sequence[str] | None = None) -> ObjectIterator: ...
    def export(self, out_dir: _Path) -> _Json: ...

# --- iterators --------------------------------------------------------------------------------

@final
class ObjectIterator:
    """Objects of a snapshot, read in batches as it is consumed: dicts from `Snapshot.objects`,
    `(category, dict)` pairs from `Snapshot.walk`. Works with `for` and `async for`."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> Any: ...
    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[Any]: ...

@final
class DiffIterator:
    """The objects that differ, one dict each. Works with `for` and `async for`."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> _Json: ...
    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[_Json]: ...
    @property
    def summary(self) -> _Json | None:
        """`{"added", "removed", "changed", "unchanged"}` once every difference was read."""

@final
class IdIterator:
    def __iter__(self) -> Self: ...
    def __next__(self) -> str: ...
    def __len__(self) -> int: ...

# --- the simulated tenant ---------------------------------------------------------------------

@final
class SimServer:
    """A simulated tenant served over Graph's HTTP API on 127.0.0.1, for tests."""

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
    ) -> Self: ...
    @property
    def url(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def credentials(self) -> Credentials: ...
    def count(self, category: str) -> int: ...
    def total_objects(self) -> int: ...
    def churn(self, fraction: float = 0.01, seed: int = 1) -> _Json: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc: object) -> bool: ...
