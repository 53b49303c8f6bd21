"""Restore from Python: plan (dry run), restore, a second run that writes nothing, one attribute of
one user, the awaitable twin, and bad input. The tenant is damaged through Graph itself."""

from __future__ import annotations

import asyncio
import json
import pathlib
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

import entra_backup as eb

from conftest import new_repo

CLIENT_ID = "restore-tests"
CLIENT_SECRET = "restore-tests-secret"


@pytest.fixture(scope="module")
def tenant() -> Iterator[eb.SimServer]:
    with eb.SimServer(
        users=60, groups=12, seed=21, throttle=False, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    ) as server:
        yield server


class Graph:
    """A bare Graph client for doing damage."""

    def __init__(self, sim: eb.SimServer) -> None:
        self.base = sim.url
        form = urllib.parse.urlencode(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": "https://graph.microsoft.com/.default",
                "grant_type": "client_credentials",
            }
        ).encode()
        with urllib.request.urlopen(f"{sim.url}/{sim.tenant_id}/oauth2/v2.0/token", form) as r:
            self.token = json.load(r)["access_token"]

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}/v1.0{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req) as r:
            text = r.read()
            return json.loads(text) if text else None


def test_restore_plans_restores_and_then_writes_nothing(tenant: eb.SimServer, tmp_path: pathlib.Path) -> None:
    creds = tenant.credentials()
    repo = new_repo(tmp_path / "repo")
    repo.backup(creds, categories=["users", "groups"])
    graph = Graph(tenant)
    users = graph.send("GET", "/users?$top=999&$select=id,onPremisesSyncEnabled,department")["value"]
    cloud = [u["id"] for u in users if not u.get("onPremisesSyncEnabled")]
    gone, changed = cloud[:2], cloud[2]
    for u in gone:
        graph.send("DELETE", f"/users/{u}")
    graph.send("PATCH", f"/users/{changed}", {"department": "Wrecked", "jobTitle": "Intern"})

    plan = repo.plan_restore("latest", creds, categories=["users"])
    assert plan["summary"]["writes"] == 0
    actions = {o["id"]: o.get("action") for o in plan["objects"]}
    assert all(actions[u] == "recycleBin" for u in gone), actions
    assert actions[changed] == "patch"
    assert tenant.count("users") == len(users) - 2, "a dry run wrote"
    # The dry run's plan, step by step: the deleted users come back from the recycle bin.
    plans = plan.get("plan")
    assert plans is not None and "users" in [c["category"] for c in plans], plan
    steps = {(s["id"], s["kind"]) for c in plans for s in c["steps"]}
    assert all((u, "undelete") in steps for u in gone), steps
    assert (changed, "patch") in steps, steps

    report = repo.restore("latest", creds, categories=["users", "groups"])
    assert report["summary"]["failed"] == 0, report
    outcomes = {o["id"]: o["outcome"] for o in report["objects"]}
    assert all(outcomes[u] == "restored" for u in gone), outcomes
    assert outcomes[changed] == "patched"
    assert tenant.count("users") == len(users)
    assert list(repo.diff("latest", live=creds, categories=["users"])) == []

    async def restore_again() -> eb.RestoreReport:
        return await repo.restore_async("latest", creds, categories=["users", "groups"])

    again = asyncio.run(restore_again())
    assert again["summary"]["writes"] == 0, again

    # One attribute of one user.
    graph.send("PATCH", f"/users/{changed}", {"department": "Again", "jobTitle": "Again"})
    one = repo.restore("latest", creds, ids=[changed], attributes=["department"])
    assert one["summary"]["writes"] == 1
    now = graph.send("GET", f"/users/{changed}?$select=department,jobTitle")
    assert now["department"] != "Again" and now["jobTitle"] == "Again"


def test_bad_restore_input_raises_one_clear_error(tenant: eb.SimServer, tmp_path: pathlib.Path) -> None:
    creds = tenant.credentials()
    repo = new_repo(tmp_path / "repo")
    repo.backup(creds, categories=["users"])
    with pytest.raises(eb.InvalidInputError, match="unknown category 'nosuch'"):
        repo.restore("latest", creds, categories=["nosuch"])
    with pytest.raises(eb.NotFoundError, match="no snapshot"):
        repo.plan_restore("ffffffff", creds)
