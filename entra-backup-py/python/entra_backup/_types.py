"""The shapes of the dicts entra_backup returns: reports, progress updates, differences, restore
outcomes. They are ``TypedDict``s, so that mypy and editors know every key (a misspelled key is an
error) and ``Literal`` kinds, while the values stay plain dicts, as ``json.dumps`` takes them.

Keys are camelCase throughout, as in the command-line tool's ``--json`` output. Graph objects
themselves stay ``dict[str, Any]``: every property Graph returned, kept as it was.

A key that is only there sometimes (``error`` of a category that failed, ``newId`` of a recreated
object) is declared in a ``total=False`` part: read it with ``.get()``.

(The ``Literal`` kinds are spelled as unions of one-value ``Literal``s: the same type to mypy, and
a ``Union`` at run time, as mypy's stubtest wants of a type alias.)
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union

__all__ = [
    "AttributeDiff",
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
    "DiffEntry",
    "DiffKind",
    "DiffSummary",
    "ExportReport",
    "NewPassword",
    "NotRestorable",
    "PlanStep",
    "PlanStepKind",
    "ProgressUpdate",
    "ReadMode",
    "RestoreAction",
    "RestoreOutcome",
    "RestoreOutcomeKind",
    "RestoreReport",
    "RestoreSummary",
    "RunSummary",
    "SnapshotFile",
    "SnapshotInfo",
    "SnapshotSummary",
    "TenantInfo",
    "UnreadableSnapshot",
]

CategoryState = Union[Literal["waiting"], Literal["reading"], Literal["done"], Literal["failed"]]
"""Where a category of a run is."""
ReadMode = Union[Literal["full"], Literal["delta"], Literal["since"], Literal["carried"]]
"""How a backup read a category: whole, through Graph's delta query, since a time (logs), or
carried over from the parent snapshot (it could not be read)."""
DiffKind = Union[Literal["added"], Literal["removed"], Literal["changed"]]
"""What happened to an object between two snapshots (or a snapshot and the live tenant)."""
RestoreOutcomeKind = Union[
    Literal["restored"],
    Literal["recreated"],
    Literal["patched"],
    Literal["relinked"],
    Literal["notRestorable"],
    Literal["failed"],
    Literal["planned"],
    Literal["unchanged"],
]
"""What a restore did to one object (``planned`` in a dry run)."""
RestoreAction = Union[
    Literal["recycleBin"],
    Literal["recreate"],
    Literal["patch"],
    Literal["singletonPatch"],
    Literal["relink"],
    Literal["request"],
]
"""How a restore brings an object back (see docs/restore.md)."""

# --- progress --------------------------------------------------------------------------------


class CategoryProgress(TypedDict):
    """One category of a running backup or export."""

    category: str
    state: CategoryState
    objects: int
    relationships: int
    httpRequests: int
    """HTTP requests sent so far (a ``$batch`` counts once)."""
    throttled: int


class ProgressUpdate(TypedDict):
    """What a ``progress`` callback receives, every ``progress_interval`` seconds and once at the end."""

    elapsed: float
    """Seconds since the run started."""
    objects: int
    relationships: int
    httpRequests: int
    """HTTP requests sent so far (a ``$batch`` counts once)."""
    throttled: int
    categoriesDone: int
    categoriesFailed: int
    categoriesTotal: int
    categories: List[CategoryProgress]


# --- backup and export reports ----------------------------------------------------------------


class _CategoryReport(TypedDict):
    category: str
    state: CategoryState
    objects: int
    relationships: int
    httpRequests: int
    """HTTP requests (a ``$batch`` envelope counts once)."""
    batches: int
    """``$batch`` envelopes among the HTTP requests."""
    batched: int
    """Graph requests sent inside ``$batch`` envelopes."""
    throttled: int
    retries: int
    resourceUnits: int
    failures: int
    durationMs: int


class CategoryReport(_CategoryReport, total=False):
    """The outcome of one category of a backup or export."""

    error: str
    """Why the category could not be read (only when ``state`` is ``failed``)."""
    graphCode: str
    permissionsNeeded: List[str]
    """For a 403: the least-privilege permissions the category needs."""


class RunSummary(TypedDict):
    """The outcome of a run (``report["summary"]`` of a backup; what ``export`` returns)."""

    categories: List[CategoryReport]
    objects: int
    relationships: int
    httpRequests: int
    """HTTP requests (a ``$batch`` counted once)."""
    graphRequests: int
    """Graph requests (each request inside a ``$batch`` counted)."""
    throttled: int
    failedCategories: int
    durationMs: int


class ExportReport(RunSummary):
    """What ``export`` and ``Snapshot.export`` return: the run's summary."""


class _TenantInfo(TypedDict):
    id: str


class TenantInfo(_TenantInfo, total=False):
    """The tenant a snapshot was taken of."""

    domain: str


class _CategorySnapshot(TypedDict):
    tree: str
    objects: int
    read: ReadMode
    time: str
    added: int
    changed: int
    removed: int
    newBytes: int
    newTreeBytes: int


class CategorySnapshot(_CategorySnapshot, total=False):
    """One category as a snapshot holds it."""

    cursor: str
    """Graph's delta cursor, for the next incremental backup."""


class SnapshotSummary(TypedDict):
    """What a backup cost."""

    graphRequests: int
    """Graph requests (each request inside a ``$batch`` counted)."""
    httpRequests: int
    """HTTP requests to Graph (a ``$batch`` counted once)."""
    objects: int
    blobsAdded: int
    bytesAdded: int
    packsAdded: int
    objectBytes: int
    treeBytes: int
    secretBytes: int
    indexBytes: int
    storageWrites: int
    durationMs: int


class _SnapshotFile(TypedDict):
    version: int
    time: str
    tenant: TenantInfo
    parent: Optional[str]
    categories: Dict[str, CategorySnapshot]
    summary: SnapshotSummary
    program: str


class SnapshotFile(_SnapshotFile, total=False):
    """What a snapshot says of itself (``report["snapshot"]`` of a backup)."""

    failed: Dict[str, str]
    """Categories that could not be read, and why; they hold the parent's data (``read`` is
    ``carried``)."""
    tags: List[str]


class SnapshotInfo(SnapshotFile):
    """``Snapshot.info()``: the snapshot file and the snapshot's id."""

    id: str


class UnreadableSnapshot(TypedDict):
    """A snapshot file that could not be read (passed over when choosing a backup's parent)."""

    id: str
    problem: Union[Literal["empty"], Literal["damaged"], Literal["newerFormat"]]
    reason: str


class _BackupReport(TypedDict):
    snapshotId: str
    snapshot: SnapshotFile
    summary: RunSummary


class BackupReport(_BackupReport, total=False):
    """What ``Repository.backup`` returns (and ``IncompleteBackupError.report`` holds)."""

    skippedSnapshots: List[UnreadableSnapshot]


# --- differences ------------------------------------------------------------------------------


class _AttributeDiff(TypedDict):
    attribute: str


class AttributeDiff(_AttributeDiff, total=False):
    """One attribute that differs: ``before`` and ``after`` values, or for a relationship the
    references ``added`` and ``removed``."""

    before: Any
    after: Any
    added: List[str]
    removed: List[str]


class _DiffEntry(TypedDict):
    category: str
    id: str
    kind: DiffKind


class DiffEntry(_DiffEntry, total=False):
    """One object that differs, as ``Repository.diff`` yields it."""

    displayName: str
    newId: str
    """The live id of an object an earlier restore recreated."""
    attributes: List[AttributeDiff]
    """For ``changed``: what changed."""


class CategoryFailure(TypedDict):
    """A category the tenant would not let a diff or restore read or write, and Graph's error."""

    category: str
    error: str


class _DiffSummary(TypedDict):
    added: int
    removed: int
    changed: int
    unchanged: int


class DiffSummary(_DiffSummary, total=False):
    """``DiffIterator.summary``, once every difference was read."""

    failedCategories: List[CategoryFailure]


# --- restore ----------------------------------------------------------------------------------


class _NotRestorable(TypedDict):
    reason: str


class NotRestorable(_NotRestorable, total=False):
    """A part of an object that cannot be restored, and why."""

    attribute: str
    """The attribute or relationship; absent: the whole object."""


class _RestoreOutcome(TypedDict):
    category: str
    id: str
    """The id in the snapshot."""
    outcome: RestoreOutcomeKind


class RestoreOutcome(_RestoreOutcome, total=False):
    """One object a restore touched, or could not touch (``report["objects"]``). ``action`` is
    absent for an object that cannot be restored: read it with ``.get("action")``."""

    displayName: str
    action: RestoreAction
    newId: str
    """The id of a recreated object."""
    attributes: List[str]
    linksAdded: List[str]
    linksRemoved: List[str]
    notRestorable: List[NotRestorable]
    errors: List[str]


class CategoryNote(TypedDict):
    """A whole category a restore cannot write (logs, licences, BitLocker keys)."""

    category: str
    objects: int
    reason: str


class NewPassword(TypedDict):
    """The password given to a recreated user: shown once, never stored."""

    id: str
    userPrincipalName: str
    password: str


class RestoreSummary(TypedDict):
    """The counts of a restore."""

    restored: int
    recreated: int
    patched: int
    relinked: int
    unchanged: int
    notRestorable: int
    failed: int
    planned: int
    writes: int
    requests: int
    durationMs: int


PlanStepKind = Union[
    Literal["undelete"],
    Literal["create"],
    Literal["requestSchedule"],
    Literal["patch"],
    Literal["children"],
    Literal["link"],
    Literal["unlink"],
    Literal["adopt"],
    Literal["awaitSchedule"],
    Literal["notRestorable"],
]
"""What one step of a restore's plan does to an object."""


class _PlanStep(TypedDict):
    id: str
    kind: PlanStepKind


class PlanStep(_PlanStep, total=False):
    """One thing a restore will do to one object (``id``: its id in the snapshot). Which other
    keys are there depends on ``kind``: ``body`` and ``links`` (create), ``request`` and
    ``schedule`` (requestSchedule), ``attributes`` (patch), ``relationship`` with ``want`` and
    ``have`` (children) or ``target`` (link, unlink), ``key`` (awaitSchedule), ``reason`` and
    ``attribute`` (notRestorable)."""

    live: str
    """The object's id in the tenant, when it is there."""
    displayName: str
    body: Dict[str, Any]
    links: List[Dict[str, str]]
    request: Union[Literal["adminAssign"], Literal["adminUpdate"]]
    schedule: Dict[str, Any]
    attributes: Dict[str, Any]
    relationship: str
    want: Any
    have: Any
    target: str
    key: str
    attribute: str
    reason: str


class CategoryPlan(TypedDict):
    """What a restore will do to one category, step by step (in a dry run's ``plan``)."""

    category: str
    steps: List[PlanStep]
    unchanged: int


class _RestoreReport(TypedDict):
    snapshot: str
    tenant: str
    dryRun: bool
    objects: List[RestoreOutcome]
    idMap: Dict[str, str]
    summary: RestoreSummary


class RestoreReport(_RestoreReport, total=False):
    """What ``Repository.restore`` and ``plan_restore`` return."""

    categories: List[CategoryNote]
    failedCategories: List[CategoryFailure]
    passwords: List[NewPassword]
    plan: List[CategoryPlan]
    """In a dry run: the plan of each category planned."""


# --- check, and the simulated tenant ----------------------------------------------------------


class CheckReport(TypedDict):
    """What ``Repository.check`` returns: ``ok``, and the ``errors`` (damage) and ``warnings`` found."""

    ok: bool
    snapshots: int
    indexes: int
    packs: int
    blobs: int
    packsRead: int
    blobsRead: int
    errors: List[str]
    warnings: List[str]


class CategoryChurn(TypedDict):
    """What ``SimServer.churn`` changed in one category."""

    updated: int
    created: int
    removed: int
    linksChanged: int
    updatedIds: List[str]
    createdIds: List[str]
    removedIds: List[str]


class ChurnReport(TypedDict):
    """What ``SimServer.churn`` returns."""

    fraction: float
    seed: int
    seqBefore: int
    seqAfter: int
    categories: Dict[str, CategoryChurn]
    objectsTouched: int
