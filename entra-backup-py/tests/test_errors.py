"""One exception hierarchy, with the Graph error code and HTTP status where there is one; secrets
never shown."""

import pathlib

import pytest

import entra_backup as eb
from conftest import new_repo

SECRET = "s3cr3t-Value-never-shown"


def test_hierarchy() -> None:
    subclasses = [
        eb.AuthenticationError,
        eb.PermissionDeniedError,
        eb.ThrottlingExhaustedError,
        eb.NotFoundError,
        eb.NetworkError,
        eb.GraphError,
        eb.InvalidInputError,
        eb.StorageError,
        eb.ProtocolError,
        eb.OperationCancelledError,
        eb.ConflictError,
    ]
    for cls in subclasses:
        assert issubclass(cls, eb.EntraBackupError) and cls.__module__ == "entra_backup"
        assert isinstance(cls.kind, str)
    assert len({c.kind for c in subclasses}) == len(subclasses)
    assert issubclass(eb.InvalidInputError, ValueError)


def test_wrong_client_secret_is_an_authentication_error_with_the_identity_platforms_code(
    tmp_path: pathlib.Path,
) -> None:
    with eb.SimServer(users=5, groups=2, client_id="app", client_secret=SECRET, throttle=False) as sim:
        wrong = eb.Credentials.client_secret(
            sim.tenant_id, "app", SECRET + "-wrong", graph_url=sim.url, authority_url=sim.url
        )
        repo = new_repo(tmp_path / "r")
        with pytest.raises(eb.AuthenticationError) as e:
            repo.backup(wrong)
        assert e.value.kind == "authentication"
        assert e.value.status in (400, 401)
        assert e.value.graph_code is not None and e.value.graph_code.startswith("AADSTS")
        assert SECRET not in str(e.value)
        assert repo.snapshots() == []
        # The right secret works.
        ok = sim.credentials()
        assert repo.backup(ok, categories=["users"])["snapshot"]["categories"]["users"]["objects"] == 5


def test_missing_permission_fails_that_category_and_names_the_permission(tmp_path: pathlib.Path) -> None:
    with eb.SimServer(users=5, groups=2, throttle=False, granted_permissions=["User.Read.All"]) as sim:
        repo = new_repo(tmp_path / "r")
        with pytest.raises(eb.IncompleteBackupError) as raised:
            repo.backup(sim.credentials(), categories=["users", "groups"])
        report = raised.value.report
        assert report["snapshot"]["categories"]["users"]["objects"] == 5
        assert "groups" in report["snapshot"]["failed"]
        groups = next(c for c in report["summary"]["categories"] if c["category"] == "groups")
        assert groups["state"] == "failed"
        assert groups["graphCode"] == "Authorization_RequestDenied"
        assert groups["permissionsNeeded"]


def test_repository_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(eb.NotFoundError) as nf:
        eb.Repository.open(str(tmp_path / "nothing-here"), eb.Access.passphrase("x"))
    assert nf.value.kind == "not_found" and nf.value.status is None and nf.value.graph_code is None
    repo = new_repo(tmp_path / "r")
    with pytest.raises(eb.InvalidInputError, match="already holds a repository"):
        new_repo(tmp_path / "r")
    with pytest.raises(eb.AuthenticationError, match="wrong passphrase"):
        eb.Repository.open(str(tmp_path / "r"), eb.Access.passphrase(SECRET))
    with pytest.raises(eb.NotFoundError, match="no snapshots"):
        repo.snapshot()
    with pytest.raises(eb.InvalidInputError, match="not a snapshot"):
        repo.snapshot("zz")
    with pytest.raises(eb.InvalidInputError, match="unknown repository URL scheme"):
        eb.Repository.init("ftp://x/y", eb.Access.passphrase("x"))
    with pytest.raises(eb.InvalidInputError, match="policy"):
        repo.forget()
    with pytest.raises(eb.InvalidInputError):
        repo.check(read_data_percent=101)
    with pytest.raises(eb.InvalidInputError):
        repo.prune(grace=-1)
    with pytest.raises(eb.InvalidInputError):
        repo.diff("latest")


def test_bad_credentials_input_fails_at_once(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(eb.InvalidInputError, match="Graph URL"):
        eb.Credentials.client_secret("contoso.onmicrosoft.com", "app", SECRET, graph_url="not a url")
    with pytest.raises(eb.InvalidInputError, match="tenant"):
        eb.Credentials.client_secret("bad tenant!", "app", SECRET)
    with pytest.raises(eb.EntraBackupError) as e:
        eb.Credentials.certificate("contoso.onmicrosoft.com", "app", tmp_path / "missing.pem")
    assert str(tmp_path / "missing.pem") in str(e.value)
    with pytest.raises(eb.InvalidInputError, match="token"):
        eb.Credentials.token("", tenant_id="contoso.onmicrosoft.com")
    for var in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(eb.InvalidInputError, match="AZURE_TENANT_ID"):
        eb.Credentials.from_env()
    with pytest.raises(eb.InvalidInputError, match="users"):
        eb.SimServer(users=-1)
    with pytest.raises(eb.InvalidInputError):
        eb.SimServer(faults=2.0)


def test_credentials_from_the_environment(sim: eb.SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", sim.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", "env-app")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", sim.url)
    creds = eb.Credentials.from_env(graph_url=sim.url)
    assert (creds.kind, creds.tenant_id, creds.client_id) == ("client_secret", sim.tenant_id, "env-app")
    assert creds.authority_url == sim.url
    assert eb.Credentials.from_env(client_id="override", graph_url=sim.url).client_id == "override"


def test_a_token_is_used_as_it_is(sim: eb.SimServer, tmp_path: pathlib.Path) -> None:
    bad = eb.Credentials.token("not-a-token-the-tenant-issued", tenant_id=sim.tenant_id, graph_url=sim.url)
    with pytest.raises(eb.AuthenticationError) as e:
        eb.export(bad, tmp_path, categories=["users"])
    assert e.value.status == 401
    assert "not-a-token" not in str(e.value)


def test_secrets_never_appear_in_reprs(sim: eb.SimServer, tmp_path: pathlib.Path) -> None:
    creds = eb.Credentials.client_secret(sim.tenant_id, "app", SECRET, graph_url=sim.url, authority_url=sim.url)
    token = eb.Credentials.token(SECRET, tenant_id=sim.tenant_id)
    access = eb.Access.passphrase(SECRET)
    repo = eb.Repository.init(str(tmp_path / "r"), access, access, kdf_memory_mib=1, kdf_iterations=1)
    shown = [repr(creds), str(creds), repr(token), repr(access), repr(repo), repr(sim)]
    assert all(SECRET not in s for s in shown), shown
    assert "client_secret" in repr(creds) and "Access(passphrase)" == repr(access)
