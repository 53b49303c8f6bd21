"""Reading snapshots back: objects streamed as dicts, ids, one object, secrets, repository kinds."""

import pathlib

import pytest

import entra_backup as eb
from conftest import PASSPHRASE, SECRETS_PASSPHRASE, new_repo


@pytest.fixture(scope="module")
def backed_up(sim: eb.SimServer, creds: eb.Credentials, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("objects") / "repo"
    new_repo(path).backup(creds)
    return str(path)


def open_repo(path: str, secrets: bool = False) -> eb.Repository:
    return eb.Repository.open(
        path, eb.Access.passphrase(PASSPHRASE), eb.Access.passphrase(SECRETS_PASSPHRASE) if secrets else None
    )


def test_objects_stream_as_dicts(sim: eb.SimServer, backed_up: str) -> None:
    snap = open_repo(backed_up).snapshot()
    it = snap.objects("users")
    assert iter(it) is it
    first = next(it)
    assert isinstance(first, dict) and isinstance(first["id"], str)
    rest = list(it)
    assert len(rest) + 1 == sim.count("users")
    with pytest.raises(StopIteration):
        next(it)
    # Relationships come as navigation properties: a group's members are references.
    group = next(snap.objects("groups"))
    assert all(set(m) >= {"id", "@odata.type"} for m in group.get("members", []))


def test_walk_covers_every_category_once(backed_up: str) -> None:
    snap = open_repo(backed_up).snapshot()
    info = snap.info()
    counts: dict[str, int] = {}
    for category, obj in snap.walk():
        assert isinstance(obj, dict)
        counts[category] = counts.get(category, 0) + 1
    expected = {name: c["objects"] for name, c in info["categories"].items() if c["objects"]}
    assert counts == expected
    assert list(counts) == [n for n in snap.category_names if n in counts]  # restore order
    two = {c for c, _ in snap.walk(["users", "groups"])}
    assert two == {"users", "groups"}


def test_ids_and_get(backed_up: str) -> None:
    snap = open_repo(backed_up).snapshot("latest")
    ids = snap.ids("groups")
    n = len(ids)
    all_ids = list(ids)
    assert n == len(all_ids) == len(set(all_ids)) and all_ids == sorted(all_ids)
    one = snap.get("groups", all_ids[0])
    assert one is not None and one["id"] == all_ids[0]
    assert snap.get("groups", "00000000-0000-0000-0000-000000000000") is None
    # By id prefix, as the command line takes it.
    assert open_repo(backed_up).snapshot(snap.id[:8]).id == snap.id


def test_dropping_an_iterator_early_is_fine(backed_up: str) -> None:
    snap = open_repo(backed_up).snapshot()
    for _ in range(3):
        it = snap.objects()
        next(it)
        del it
    assert sum(1 for _ in snap.objects("users")) > 0


def test_secrets_only_with_the_secrets_key(backed_up: str) -> None:
    plain = open_repo(backed_up).snapshot()
    keys = list(plain.objects("bitlockerRecoveryKeys"))
    assert keys and all("key" not in k for k in keys)
    with pytest.raises(eb.AuthenticationError):
        open_repo(backed_up).snapshot(secrets=True)
    revealed = list(open_repo(backed_up, secrets=True).snapshot(secrets=True).objects("bitlockerRecoveryKeys"))
    assert len(revealed) == len(keys) and all(k["key"] for k in revealed)
    repo = open_repo(backed_up)
    assert not repo.secrets_unlocked
    repo.unlock_secrets(eb.Access.passphrase(SECRETS_PASSPHRASE))
    assert repo.secrets_unlocked


def test_key_file_plaintext_and_memory_repositories(creds: eb.Credentials, tmp_path: pathlib.Path) -> None:
    key = eb.Access.new_key_file(tmp_path / "repo.key")
    with pytest.raises(eb.StorageError):
        eb.Access.new_key_file(tmp_path / "repo.key")  # never overwritten
    eb.Repository.init(str(tmp_path / "k"), key, key).backup(creds, categories=["groups"])
    reopened = eb.Repository.open(str(tmp_path / "k"), eb.Access.key_file(tmp_path / "repo.key"))
    assert reopened.encrypted and len(reopened.snapshots()) == 1

    plain = eb.Repository.init(str(tmp_path / "p"), eb.Access.plaintext())
    assert not plain.encrypted
    plain.backup(creds, categories=["groups"], secrets=False)
    with pytest.raises(eb.InvalidInputError, match="plaintext"):
        eb.Repository.open(str(tmp_path / "p"), eb.Access.passphrase("x"))

    mem = eb.Repository.init("memory://", eb.Access.passphrase("p"), eb.Access.passphrase("q"), kdf_memory_mib=1, kdf_iterations=1)
    mem.backup(creds, categories=["users"], secrets=False)
    assert mem.location.startswith("memory://")
    assert sum(1 for _ in mem.snapshot().objects("users")) == 60


def test_access_from_the_environment_or_a_file(
    backed_up: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTRA_BACKUP_PASSWORD", PASSPHRASE)
    monkeypatch.setenv("ENTRA_BACKUP_SECRETS_PASSWORD", SECRETS_PASSPHRASE)
    repo = eb.Repository.open(backed_up, eb.Access.from_env(), eb.Access.secrets_from_env())
    assert repo.secrets_unlocked and repr(eb.Access.from_env()) == "Access(env=ENTRA_BACKUP_PASSWORD)"
    with pytest.raises(eb.InvalidInputError, match="both"):
        eb.Access.from_env(tmp_path / "pw")  # the variable and a file: ambiguous
    monkeypatch.delenv("ENTRA_BACKUP_PASSWORD")
    (tmp_path / "pw").write_text(PASSPHRASE + "\n")
    assert eb.Repository.open(backed_up, eb.Access.from_env(tmp_path / "pw")).encrypted
    with pytest.raises(eb.InvalidInputError, match="ENTRA_BACKUP_PASSWORD"):
        eb.Access.from_env()
