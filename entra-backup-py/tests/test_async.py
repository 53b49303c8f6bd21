"""The awaitable twins, on one event loop, side by side."""

import asyncio
import pathlib

import entra_backup as eb
from conftest import PASSPHRASE


def test_async_backup_snapshot_and_objects(sim: eb.SimServer, creds: eb.Credentials, tmp_path: pathlib.Path) -> None:
    async def main() -> None:
        access = eb.Access.passphrase(PASSPHRASE)
        repos = await asyncio.gather(
            *(eb.Repository.init_async(str(tmp_path / n), access, access, kdf_memory_mib=1, kdf_iterations=1) for n in "ab")
        )
        ticks: list[int] = []
        # Two backups at once on one loop; the loop stays free meanwhile.
        reports = await asyncio.gather(
            repos[0].backup_async(creds, categories=["users", "groups"], secrets=False, progress=lambda p: ticks.append(p["objects"]), progress_interval=0.01),
            repos[1].backup_async(creds, categories=["users"], secrets=False),
            asyncio.sleep(0.01),
        )
        assert reports[0]["snapshot"]["categories"]["users"]["objects"] == sim.count("users")
        assert reports[1]["snapshot"]["categories"].keys() == {"users"}
        assert ticks and ticks[-1] == reports[0]["summary"]["objects"]

        reopened = await eb.Repository.open_async(str(tmp_path / "a"), access)
        snaps = await reopened.snapshots_async()
        assert [s.id for s in snaps] == [reports[0]["snapshotId"]]
        snap = await reopened.snapshot_async()
        users = [o async for o in snap.objects("users")]
        assert len(users) == sim.count("users") and len({u["id"] for u in users}) == len(users)
        diffs = [d async for d in reopened.diff(snap.id, snap.id)]
        assert diffs == []
        check = await reopened.check_async(100)
        assert check["ok"]
        forgot = await reopened.forget_async(keep_last=5)
        assert all(d["keep"] for d in forgot)
        plan = await reopened.prune_async(dry_run=True)
        assert plan["delete"] == []

    asyncio.run(main())


def test_cancelling_an_async_backup_leaves_no_snapshot(tmp_path: pathlib.Path) -> None:
    with eb.SimServer(users=300, groups=40, latency_ms=100) as slow:
        creds = slow.credentials()

        async def main() -> None:
            repo = await eb.Repository.init_async(str(tmp_path / "r"), eb.Access.passphrase("p"), eb.Access.passphrase("q"), kdf_memory_mib=1, kdf_iterations=1)
            task = asyncio.ensure_future(repo.backup_async(creds, secrets=False))
            await asyncio.sleep(0.5)
            assert not task.done()
            task.cancel()
            try:
                await task
                raise AssertionError("the backup was not cancelled")
            except asyncio.CancelledError:
                pass
            assert await repo.snapshots_async() == []
            assert (await repo.check_async(100))["ok"]

        asyncio.run(main())
