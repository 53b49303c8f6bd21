"""Back up a Microsoft Entra ID tenant through Microsoft Graph into an encrypted repository, browse and
compare its snapshots, and run a simulated tenant for tests.

Every call has a blocking form that releases the GIL (Ctrl-C interrupts it cleanly) and, where it
waits on the network or storage, an awaitable ``*_async`` twin. Errors are ``EntraBackupError`` and
its subclasses. Reports, progress updates and differences are dicts typed by the TypedDicts of
``entra_backup._types`` (re-exported here: ``BackupReport``, ``ProgressUpdate``, ``DiffEntry``...).
See docs/python.md.
"""

from typing import TYPE_CHECKING

from ._entra_backup import (
    Access,
    AuthenticationError,
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
    OperationCancelledError,
    PermissionDeniedError,
    ProtocolError,
    Repository,
    Snapshot,
    StorageError,
    ThrottlingExhaustedError,
    WalkIterator,
    __version__,
    categories,
    category,
    export,
    export_async,
    permissions,
)
from ._types import (
    AttributeDiff,
    BackupReport,
    CategoryChurn,
    CategoryFailure,
    CategoryNote,
    CategoryPlan,
    CategoryProgress,
    CategoryReport,
    CategorySnapshot,
    CategoryState,
    CheckReport,
    ChurnReport,
    DiffEntry,
    DiffKind,
    DiffSummary,
    ExportReport,
    NewPassword,
    NotRestorable,
    PlanStep,
    PlanStepKind,
    ProgressUpdate,
    ReadMode,
    RestoreAction,
    RestoreOutcome,
    RestoreOutcomeKind,
    RestoreReport,
    RestoreSummary,
    RunSummary,
    SnapshotFile,
    SnapshotInfo,
    SnapshotSummary,
    TenantInfo,
    UnreadableSnapshot,
)

if TYPE_CHECKING:
    from ._entra_backup import CancelledError as CancelledError  # deprecated: OperationCancelledError
else:

    def __getattr__(name: str) -> object:
        # `entra_backup.CancelledError`, the old name of OperationCancelledError (asyncio has a
        # CancelledError of its own): still there, with a DeprecationWarning.
        if name == "CancelledError":
            import warnings

            warnings.warn(
                "entra_backup.CancelledError is deprecated: use entra_backup.OperationCancelledError "
                "(asyncio.CancelledError is another class)",
                DeprecationWarning,
                stacklevel=2,
            )
            return OperationCancelledError
        raise AttributeError(f"module 'entra_backup' has no attribute {name!r}")

try:
    from ._entra_backup import SimServer
except ImportError:  # a wheel built without the simulated tenant (the crate's `sim` feature)
    from ._no_sim import SimServer  # type: ignore[assignment]

__all__ = [
    "Access",
    "AttributeDiff",
    "AuthenticationError",
    "BackupReport",
    "CategoryChurn",
    "CategoryFailure",
    "CategoryNote",
    "CategoryPlan",
    "CategoryProgress",
    "CategoryReport",
    "CategorySnapshot",
    "CategoryState",
    "CheckReport",
    "ChurnReport",
    "ConflictError",
    "Credentials",
    "DiffEntry",
    "DiffIterator",
    "DiffKind",
    "DiffSummary",
    "EntraBackupError",
    "ExportReport",
    "GraphError",
    "IdIterator",
    "IncompleteBackupError",
    "InvalidInputError",
    "NetworkError",
    "NewPassword",
    "NotFoundError",
    "NotRestorable",
    "PlanStep",
    "PlanStepKind",
    "ObjectIterator",
    "OperationCancelledError",
    "PermissionDeniedError",
    "ProgressUpdate",
    "ProtocolError",
    "ReadMode",
    "Repository",
    "RestoreAction",
    "RestoreOutcome",
    "RestoreOutcomeKind",
    "RestoreReport",
    "RestoreSummary",
    "RunSummary",
    "SimServer",
    "Snapshot",
    "SnapshotFile",
    "SnapshotInfo",
    "SnapshotSummary",
    "StorageError",
    "TenantInfo",
    "ThrottlingExhaustedError",
    "UnreadableSnapshot",
    "WalkIterator",
    "__version__",
    "categories",
    "category",
    "export",
    "export_async",
    "permissions",
]
