"""Backup, incremental backup, snapshots, diff, check, forget and prune, against the simulator."""

import datetime
import pathlib

import entra_backup as eb
from conftest import new_repo


def test_backup_then_incremental_backup_then_diff_forget_prune(tmp_path: pathlib.Path) -> None:
    with eb.SimServer(users=80, groups=16, seed=11, throttle=False) as sim:
        creds = sim.credentials()
        repo = new_repo(tmp_path / "repo")
        first = repo.backup(creds, tags=["nightly"])
        snap1 = first["snapshot"]
        assert snap1.get("parent") is None
        assert not snap1.get("failed"), snap1.get("failed")
        assert snap1["categories"]["users"]["objects"] == 80
        assert snap1["tags"] == ["nightly"]

        churn = sim.churn(0.1, seed=3)
        users = churn["categories"]["users"]
        assert users["updated"] + users["created"] + users["removed"] > 0

        second = repo.backup(creds)
        snap2 = second["snapshot"]
        assert snap2["parent"] == first["snapshotId"]
        assert snap2["categories"]["users"]["read"] == "delta"
        assert snap2["categories"]["users"]["objects"] == sim.count("users")
        # Only what changed was read and written.
        assert second["summary"]["httpRequests"] < first["summary"]["httpRequests"]
        assert snap2["summary"]["bytesAdded"] < snap1["summary"]["bytesAdded"]

        # The newest snapshot holds the tenant as it is now.
        latest = repo.snapshot()
        assert latest.id == second["snapshotId"] and latest.parent == first["snapshotId"]
        ids = set(latest.ids("users"))
        assert ids == {o["id"] for o in latest.objects("users")}
        assert set(users["createdIds"]) <= ids
        assert not set(users["removedIds"]) & ids
        assert len(ids) == sim.count("users")

        listed = repo.snapshots()
        assert [s.id for s in listed] == [first["snapshotId"], second["snapshotId"]]

        # The differences are exactly what churn did to users.
        diffs = repo.diff(first["snapshotId"], second["snapshotId"], categories=["users"])
        got: dict[str, set[str]] = {"added": set(), "removed": set(), "changed": set()}
        for d in diffs:
            assert d["category"] == "users"
            got[d["kind"]].add(d["id"])
            if d["kind"] == "changed":
                assert d["attributes"], d
        assert got["added"] == set(users["createdIds"])
        assert got["removed"] == set(users["removedIds"])
        assert got["changed"] == set(users["updatedIds"]) - set(users["removedIds"])
        summary = diffs.summary
        assert summary is not None
        assert summary["changed"] == len(got["changed"]) and summary["added"] == len(got["added"])

        # One object, against the live tenant: nothing changed since the second backup.
        one = next(iter(ids))
        assert list(repo.diff(second["snapshotId"], live=creds, categories=["users"], id=one)) == []

        report = repo.check(read_data_percent=100)
        assert report["ok"] and report["errors"] == [] and report["snapshots"] == 2

        decisions = repo.forget(keep_last=1, dry_run=True)
        assert [d["keep"] for d in decisions if d["id"] == first["snapshotId"]] == [False]
        assert len(repo.snapshots()) == 2
        repo.forget(keep_last=1)
        assert [s.id for s in repo.snapshots()] == [second["snapshotId"]]
        plan = repo.prune(grace=datetime.timedelta(0))
        assert isinstance(plan["bytesFreed"], int)
        assert repo.check(read_data_percent=100)["ok"]
        # The kept snapshot still reads whole.
        assert sum(1 for _ in repo.snapshot().objects("users")) == sim.count("users")


def test_full_backup_reads_everything_again(creds: eb.Credentials, repo: eb.Repository) -> None:
    repo.backup(creds, categories=["users"])
    again = repo.backup(creds, categories=["users"], full=True)
    assert again["snapshot"]["categories"]["users"]["read"] == "full"
    assert again["snapshot"]["summary"]["blobsAdded"] == 0  # nothing changed: nothing new stored


def test_progress_callback_sees_the_backup_advance(creds: eb.Credentials, repo: eb.Repository) -> None:
    seen: list[int] = []
    report = repo.backup(creds, progress=lambda p: seen.append(p["objects"]), progress_interval=0.01)
    assert seen == sorted(seen), "progress went backwards"
    assert seen[-1] == report["summary"]["objects"]
