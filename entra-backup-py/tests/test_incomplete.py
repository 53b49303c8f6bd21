"""A backup with categories it could not read raises, with the report attached; a delta cursor from
another Graph root (a simulated tenant moved to another port) heals by itself."""

import asyncio
import pathlib

import pytest

import entra_backup as eb
from conftest import new_repo


def test_a_backup_with_failed_categories_raises_with_its_report(tmp_path: pathlib.Path) -> None:
    # Without Policy.Read.All, Conditional Access policies cannot be read.
    granted = ["User.Read.All", "Directory.Read.All"]
    with eb.SimServer(users=20, groups=4, seed=5, throttle=False, granted_permissions=granted) as sim:
        creds = sim.credentials()
        repo = new_repo(tmp_path / "repo")
        cats = ["users", "conditionalAccessPolicies"]
        with pytest.raises(eb.IncompleteBackupError) as raised:
            repo.backup(creds, categories=cats)
        err = raised.value
        assert isinstance(err, eb.EntraBackupError) and err.kind == "incomplete"
        assert "conditionalAccessPolicies" in str(err)
        report = err.report
        assert list(report["snapshot"]["failed"]) == ["conditionalAccessPolicies"]
        assert report["snapshot"]["categories"]["users"]["objects"] == 20
        # The snapshot was written all the same.
        assert [s.id for s in repo.snapshots()] == [report["snapshotId"]]

        # Opted out: the report comes back.
        again = repo.backup(creds, categories=cats, allow_failed=True)
        assert list(again["snapshot"]["failed"]) == ["conditionalAccessPolicies"]

        async def backup_async(allow_failed: bool) -> eb.BackupReport:
            return await repo.backup_async(creds, categories=cats, allow_failed=allow_failed)

        with pytest.raises(eb.IncompleteBackupError) as raised_async:
            asyncio.run(backup_async(False))
        assert list(raised_async.value.report["snapshot"]["failed"]) == ["conditionalAccessPolicies"]
        assert asyncio.run(backup_async(True))["snapshot"]["failed"]


def test_a_cursor_from_another_graph_root_falls_back_to_a_full_read(tmp_path: pathlib.Path) -> None:
    repo = new_repo(tmp_path / "repo")
    cats = ["users", "groups", "applications", "servicePrincipals", "devices"]
    with eb.SimServer(users=30, groups=6, seed=9, throttle=False) as first:
        tenant, old_url = first.tenant_id, first.url
        one = repo.backup(first.credentials(), categories=cats)
        assert all(one["snapshot"]["categories"][c]["read"] == "full" for c in cats)
    # The same tenant served again on another port: the stored delta links point at the old one.
    with eb.SimServer(users=30, groups=6, seed=9, throttle=False) as second:
        assert second.tenant_id == tenant and second.url != old_url
        two = repo.backup(second.credentials(), categories=cats)  # raises if anything failed
        snap = two["snapshot"]
        assert snap["parent"] == one["snapshotId"]
        assert not snap.get("failed")
        assert all(snap["categories"][c]["read"] == "full" for c in cats), snap["categories"]
        assert snap["categories"]["users"]["objects"] == second.count("users")
        # And the next one reads changes again, through the new root.
        three = repo.backup(second.credentials(), categories=cats)
        assert three["snapshot"]["categories"]["users"]["read"] == "delta"
