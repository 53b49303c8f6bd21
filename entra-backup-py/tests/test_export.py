import asyncio
import json
import pathlib
from typing import Any

import entra_backup as eb


def test_export_writes_every_object_of_the_chosen_categories(
    sim: eb.SimServer, creds: eb.Credentials, tmp_path: pathlib.Path
) -> None:
    calls: list[eb.ProgressUpdate] = []
    summary = eb.export(creds, tmp_path, categories=["users", "groups"], progress=calls.append, progress_interval=0.05)
    assert summary["failedCategories"] == 0
    users = sorted((tmp_path / "users").glob("*.json"))
    assert len(users) == sim.count("users") == 60
    assert len(list((tmp_path / "groups").glob("*.json"))) == sim.count("groups")
    one = json.loads(users[0].read_text())
    assert one["id"] == users[0].stem and "displayName" in one
    by_name = {c["category"]: c for c in summary["categories"]}
    assert by_name["users"]["objects"] == 60
    # The last progress call comes after the end: every category done, every object counted.
    assert calls, "the progress callback was never called"
    last = calls[-1]
    assert last["categoriesTotal"] == 2 and last["categoriesDone"] == 2
    assert last["objects"] == summary["objects"]
    assert {c["category"] for c in last["categories"]} == {"users", "groups"}


def test_export_async(sim: eb.SimServer, creds: eb.Credentials, tmp_path: pathlib.Path) -> None:
    async def main() -> eb.ExportReport:
        return await eb.export_async(creds, tmp_path / "out", categories=["devices"])

    summary = asyncio.run(main())
    assert summary["objects"] == sim.count("devices") > 0
    assert len(list((tmp_path / "out" / "devices").glob("*.json"))) == sim.count("devices")


def test_export_a_snapshot_gives_the_same_files(creds: eb.Credentials, repo: eb.Repository, tmp_path: pathlib.Path) -> None:
    eb.export(creds, tmp_path / "live", categories=["groups"])
    repo.backup(creds, categories=["groups"])
    summary = repo.snapshot().export(tmp_path / "snap")
    assert summary["objects"] == len(list((tmp_path / "live" / "groups").glob("*.json")))
    def normal(path: pathlib.Path) -> dict[str, Any]:
        # A repository keeps links as sets (sorted by id); Graph lists them in its own order.
        obj: dict[str, Any] = json.loads(path.read_text())
        return {k: sorted(v, key=lambda r: r["id"]) if k in ("members", "owners") else v for k, v in obj.items()}

    for f in (tmp_path / "live" / "groups").glob("*.json"):
        assert normal(f) == normal(tmp_path / "snap" / "groups" / f.name)
