"""What a Python user meets in the first hour: messages that name Python calls (not the command
line's), bad arguments raised as InvalidInputError naming the argument, an awaitable twin for every
waiting call, context managers, and an exception name that does not clash with asyncio's."""

from __future__ import annotations

import asyncio
import pathlib
import warnings
from typing import Any

import pytest

import entra_backup as eb
from conftest import PASSPHRASE, SECRETS_PASSPHRASE, new_repo

CLI_WORDS = ("entra-backup init", "entra-backup categories", "ENTRA_BACKUP_SECRETS_PASSWORD", "--secrets", "--password-file", "--key-file")


def assert_pythonic(e: BaseException) -> None:
    assert not any(w in str(e) for w in CLI_WORDS), str(e)


def test_messages_name_python_calls(tmp_path: pathlib.Path, creds: eb.Credentials) -> None:
    with pytest.raises(eb.NotFoundError, match=r"Repository\.init") as missing:
        eb.Repository.open(str(tmp_path / "nothing"), eb.Access.passphrase("x"))
    assert_pythonic(missing.value)

    with pytest.raises(eb.InvalidInputError, match=r"entra_backup\.categories\(\)") as unknown:
        eb.category("user")
    assert "did you mean 'users'" in str(unknown.value)
    assert_pythonic(unknown.value)

    with pytest.raises(eb.InvalidInputError, match="secrets=") as no_secrets:
        eb.Repository.init(str(tmp_path / "r"), eb.Access.passphrase("x"))
    assert_pythonic(no_secrets.value)

    repo = new_repo(tmp_path / "repo")
    repo.backup(creds, categories=["bitlockerRecoveryKeys"])
    reopened = eb.Repository.open(str(tmp_path / "repo"), eb.Access.passphrase(PASSPHRASE))
    with pytest.raises(eb.AuthenticationError, match="secrets=") as locked:
        reopened.snapshot(secrets=True)
    assert "unlock_secrets" in str(locked.value)
    assert_pythonic(locked.value)

    with pytest.raises(eb.InvalidInputError, match=r"Access\.passphrase") as plaintext:
        eb.Repository.open(str(tmp_path / "repo"), eb.Access.plaintext())
    assert_pythonic(plaintext.value)


def test_an_unknown_category_names_the_argument_and_what_was_meant(creds: eb.Credentials, repo: eb.Repository) -> None:
    with pytest.raises(eb.InvalidInputError, match=r"categories: unknown category 'grups' \(did you mean 'groups'\?\)"):
        repo.backup(creds, categories=["users", "grups"])
    with pytest.raises(eb.InvalidInputError, match="did you mean 'users'"):
        eb.permissions(["user"])


@pytest.mark.parametrize(
    "call",
    [
        lambda repo, creds: repo.backup(creds, categories="users"),
        lambda repo, creds: repo.backup(creds, tags="nightly"),
        lambda repo, creds: repo.diff("latest", live=creds, categories="users"),
        lambda repo, creds: repo.plan_restore("latest", creds, ids="0000"),
        lambda repo, creds: eb.export(creds, "/nonexistent/never-written", categories="users"),
        lambda repo, creds: eb.permissions("users"),
    ],
)
def test_one_string_where_a_list_is_wanted_is_invalid_input(call: Any, repo: eb.Repository, creds: eb.Credentials) -> None:
    with pytest.raises(eb.InvalidInputError, match=r"(categories|tags|ids) is a list of strings, not one string: write \w+=\[") as e:
        call(repo, creds)
    assert isinstance(e.value, ValueError)


def test_bad_numbers_name_the_argument(repo: eb.Repository) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"users": -1}, "users"),
        ({"groups": -5}, "groups"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"seed": -1}, "seed"),
    ]
    for kwargs, name in cases:
        with pytest.raises(eb.InvalidInputError, match=f"^{name} cannot be negative"):
            eb.SimServer(**kwargs)
    with pytest.raises(eb.InvalidInputError, match="granted_permissions is a list of strings"):
        eb.SimServer(granted_permissions="User.Read.All")
    with pytest.raises(eb.InvalidInputError, match="^keep_last cannot be negative"):
        repo.forget(keep_last=-1)
    with pytest.raises(eb.InvalidInputError, match="^kdf_iterations cannot be negative"):
        eb.Repository.init("memory://", eb.Access.passphrase("p"), eb.Access.passphrase("q"), kdf_iterations=-1)


def test_the_old_cancelled_error_name_still_works_with_a_warning() -> None:
    assert eb.OperationCancelledError.kind == "cancelled"
    assert not issubclass(eb.OperationCancelledError, asyncio.CancelledError)
    with pytest.warns(DeprecationWarning, match="OperationCancelledError"):
        old = eb.CancelledError
    assert old is eb.OperationCancelledError
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert issubclass(eb.OperationCancelledError, eb.EntraBackupError)


def test_async_twins_of_snapshot_and_unlock_secrets(creds: eb.Credentials, tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "repo")
    new_repo(tmp_path / "repo").backup(creds, categories=["users", "bitlockerRecoveryKeys"])

    async def main() -> None:
        repo = await eb.Repository.open_async(path, eb.Access.passphrase(PASSPHRASE))
        assert not repo.secrets_unlocked
        await repo.unlock_secrets_async(eb.Access.passphrase(SECRETS_PASSPHRASE))
        assert repo.secrets_unlocked
        snap = await repo.snapshot_async(secrets=True)
        info = await snap.info_async()
        assert info == snap.info() and info["id"] == snap.id
        ids = await snap.ids_async("users")
        listed = list(ids)
        assert listed == list(snap.ids("users")) and listed
        one = await snap.get_async("users", listed[0])
        assert one is not None and one == snap.get("users", listed[0])
        assert await snap.get_async("users", "00000000-0000-0000-0000-000000000000") is None
        summary = await snap.export_async(tmp_path / "out")
        assert summary["objects"] == info["categories"]["users"]["objects"] + info["categories"]["bitlockerRecoveryKeys"]["objects"]
        keys = [k async for k in snap.objects("bitlockerRecoveryKeys")]
        assert keys and all(k["key"] for k in keys)
        # Snapshots as listed read the same objects as snapshot() gives.
        listed_snap = (await repo.snapshots_async())[-1]
        assert listed_snap.id == snap.id
        assert list(await listed_snap.ids_async("users")) == listed

    asyncio.run(main())


def test_context_managers(creds: eb.Credentials, tmp_path: pathlib.Path) -> None:
    with new_repo(tmp_path / "repo") as repo:
        repo.backup(creds, categories=["groups"])
        snap = repo.snapshot()
        assert not repo.closed
    assert repo.closed and "closed" in repr(repo)
    with pytest.raises(eb.InvalidInputError, match="closed"):
        repo.snapshots()
    assert sum(1 for _ in snap.objects("groups")) > 0  # made before: still reads

    async def main() -> int:
        async with eb.SimServer(users=3, groups=1, throttle=False) as sim:
            assert sim.running
            count = sim.count("users")
        assert not sim.running
        return count

    assert asyncio.run(main()) == 3


def test_every_waiting_call_has_an_awaitable_twin() -> None:
    # What does not wait on Graph or storage: iterators (they work with `async for`), closing, and
    # the simulator's own bookkeeping.
    not_waiting = {"diff", "objects", "walk", "close", "credentials", "count", "total_objects", "churn"}
    for cls in (eb.Repository, eb.Snapshot, eb.SimServer):
        for name, member in vars(cls).items():
            if name.startswith("_") or name.endswith("_async") or name in not_waiting or not callable(member):
                continue
            assert callable(getattr(cls, f"{name}_async", None)), f"{cls.__name__}.{name} has no {name}_async"
    assert callable(eb.export_async)
