"""The dicts entra_backup returns are typed (TypedDicts in entra_backup._types): mypy rejects a
misspelled key, and what the module really returns has exactly the keys the types declare."""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
import sys
import textwrap
import typing
from typing import Any

import pytest

import entra_backup as eb
from conftest import new_repo

SNIPPET = """\
import entra_backup as eb

def check(repo: eb.Repository, creds: eb.Credentials) -> None:
    def progress(p: eb.ProgressUpdate) -> None:
        print(p["{progress}"])

    report = repo.backup(creds, progress=progress)
    print(report["{report}"])
    for d in repo.diff("latest", live=creds):
        print(d["{diff}"])
"""


def mypy(tmp_path: pathlib.Path, source: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "snippet.py"
    path.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_mypy_rejects_misspelled_keys(tmp_path: pathlib.Path) -> None:
    right = mypy(tmp_path, SNIPPET.format(progress="categoriesDone", report="snapshotId", diff="kind"))
    assert right.returncode == 0, right.stdout + right.stderr
    wrong = mypy(tmp_path, SNIPPET.format(progress="categories_done", report="snapshotID", diff="knd"))
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    out = wrong.stdout
    assert '"ProgressUpdate" has no key "categories_done"' in out, out
    assert '"BackupReport" has no key "snapshotID"' in out, out
    assert '"DiffEntry" has no key "knd"' in out, out
    assert "Found 3 errors" in out, out


def conforms(value: Any, tp: Any, where: str = "value") -> None:
    """Assert that `value` has the shape `tp` declares: for a TypedDict, every required key, no
    key it does not declare, each value of its declared type (recursively)."""
    origin = typing.get_origin(tp)
    if typing.is_typeddict(tp):
        assert isinstance(value, dict), f"{where}: {value!r}"
        hints = typing.get_type_hints(tp)
        missing = tp.__required_keys__ - value.keys()
        unknown = value.keys() - hints.keys()
        assert not missing and not unknown, f"{where} ({tp.__name__}): missing {missing}, unknown {unknown}"
        for key, v in value.items():
            conforms(v, hints[key], f"{where}[{key!r}]")
    elif tp is Any:
        pass
    elif origin is typing.Union:
        args = typing.get_args(tp)
        if all(typing.get_origin(a) is typing.Literal for a in args):
            allowed = {typing.get_args(a)[0] for a in args}
            assert value in allowed, f"{where}: {value!r} is not one of {allowed}"
        else:
            errors = []
            for a in args:
                try:
                    conforms(value, a, where)
                    return
                except AssertionError as e:
                    errors.append(str(e))
            raise AssertionError("; ".join(errors))
    elif origin is typing.Literal:
        assert value in typing.get_args(tp), f"{where}: {value!r}"
    elif origin is list:
        assert isinstance(value, list), f"{where}: {value!r}"
        for i, v in enumerate(value):
            conforms(v, typing.get_args(tp)[0], f"{where}[{i}]")
    elif origin is dict:
        assert isinstance(value, dict), f"{where}: {value!r}"
        for k, v in value.items():
            conforms(v, typing.get_args(tp)[1], f"{where}[{k!r}]")
    elif tp is type(None):
        assert value is None, f"{where}: {value!r}"
    elif tp is float:
        assert isinstance(value, (int, float)), f"{where}: {value!r}"
    else:
        assert isinstance(value, tp) and not (tp is int and isinstance(value, bool)), f"{where}: {value!r} is not {tp}"


def test_what_the_module_returns_has_the_declared_shape(tmp_path: pathlib.Path) -> None:
    with eb.SimServer(users=30, groups=6, seed=4, throttle=False) as sim:
        creds = sim.credentials()
        repo = new_repo(tmp_path / "repo")
        updates: list[eb.ProgressUpdate] = []
        first = repo.backup(creds, progress=updates.append, progress_interval=0.05)
        conforms(first, eb.BackupReport, "backup")
        assert updates
        for u in updates:
            conforms(u, eb.ProgressUpdate, "progress")
        churn = sim.churn(0.2, seed=2)
        conforms(churn, eb.ChurnReport, "churn")
        second = repo.backup(creds)
        conforms(second, eb.BackupReport, "backup")
        # The two request counts have their own names everywhere.
        assert second["summary"]["httpRequests"] > 0 and second["summary"]["graphRequests"] > 0
        assert second["snapshot"]["summary"]["graphRequests"] > 0
        assert second["snapshot"]["summary"]["httpRequests"] > 0

        entries = list(repo.diff(first["snapshotId"], second["snapshotId"]))
        assert "changed" in {e["kind"] for e in entries}
        for e in entries:
            conforms(e, eb.DiffEntry, "diff")
        it = repo.diff(first["snapshotId"], second["snapshotId"], categories=["users"])
        list(it)
        conforms(it.summary, eb.DiffSummary, "diff summary")

        snaps = repo.snapshots()
        assert all(isinstance(s, eb.Snapshot) for s in snaps)
        assert [s.id for s in snaps] == [first["snapshotId"], second["snapshotId"]]
        conforms(snaps[0].info(), eb.SnapshotInfo, "info")
        assert snaps[0].info()["summary"]["graphRequests"] == first["snapshot"]["summary"]["graphRequests"]
        conforms(repo.check(), eb.CheckReport, "check")

        exported = eb.export(creds, tmp_path / "out", categories=["users"])
        conforms(exported, eb.ExportReport, "export")
        conforms(snaps[1].export(tmp_path / "snap"), eb.ExportReport, "snapshot export")

        plan = repo.plan_restore(first["snapshotId"], creds, categories=["users", "groups"])
        conforms(plan, eb.RestoreReport, "plan")
        assert plan["objects"]
        report = repo.restore(first["snapshotId"], creds, categories=["users", "groups"])
        conforms(report, eb.RestoreReport, "restore")


def test_walk_gives_category_and_object_pairs(creds: eb.Credentials, repo: eb.Repository) -> None:
    repo.backup(creds, categories=["users", "groups"])
    pairs = list(repo.snapshot().walk())
    assert pairs and all(isinstance(c, str) and isinstance(o, dict) for c, o in pairs)
    assert isinstance(repo.snapshot().walk(), eb.WalkIterator)

    async def first() -> tuple[str, dict[str, Any]]:
        return await repo.snapshot().walk(["groups"]).__anext__()

    category, obj = asyncio.run(first())
    assert category == "groups" and obj["id"]


@pytest.mark.parametrize("name", ["ProgressUpdate", "BackupReport", "DiffEntry", "RestoreReport", "RestoreOutcome"])
def test_types_are_exported_and_documented(name: str) -> None:
    tp = getattr(eb, name)
    assert typing.is_typeddict(tp) and tp.__doc__
    assert textwrap.dedent(tp.__doc__).strip()
