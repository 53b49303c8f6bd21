"""Back up a Microsoft Entra ID tenant through Microsoft Graph into an encrypted repository, browse and
compare its snapshots, and run a simulated tenant for tests.

Every call has a blocking form that releases the GIL (Ctrl-C interrupts it cleanly) and, where it
waits on the network or storage, an awaitable ``*_async`` twin. Errors are ``EntraBackupError`` and
its subclasses. See docs/python.md.
"""

from ._entra_backup import (
    Access,
    AuthenticationError,
    CancelledError,
    ConflictError,
    Credentials,
    DiffIterator,
    EntraBackupError,
    GraphError,
    IdIterator,
    IncompleteBackupError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    ObjectIterator,
    PermissionDeniedError,
    ProtocolError,
    Repository,
    Snapshot,
    StorageError,
    ThrottlingExhaustedError,
    __version__,
    categories,
    category,
    export,
    export_async,
    permissions,
)

try:
    from ._entra_backup import SimServer
except ImportError:  # a wheel built without the simulated tenant (the crate's `sim` feature)
    from ._no_sim import SimServer  # type: ignore[assignment]

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
