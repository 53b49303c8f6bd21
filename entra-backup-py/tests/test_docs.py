"""docs/python.md stays true: its Python examples run, in order, against a simulated tenant.

The examples are written for a real tenant and real folders; the few places that say so are swapped
for the simulator and a temporary folder (SWAPS below, each of which must still be in the page).
They share one namespace, as a reader typing them in one session would: the restore example uses
the repository of the first one. The first one runs twice, as a nightly job would."""

from __future__ import annotations

import asyncio
import contextlib
import io
import pathlib
import re
from typing import Any

import pytest

import entra_backup as eb
from conftest import PASSPHRASE, SECRETS_PASSPHRASE

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md"


def blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.S | re.M)


def swap(code: str, swaps: dict[str, str]) -> str:
    for old, new in swaps.items():
        assert old in code, f"docs/python.md no longer says {old!r}: update SWAPS in {__file__}"
        code = code.replace(old, new)
    return code


def run(code: str, namespace: dict[str, Any]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), namespace)
    return out.getvalue()


def test_every_python_example_of_the_guide_runs(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = blocks()
    first, restore, typed, nightly, tests = found  # a new example: give it a place here
    monkeypatch.setenv("ENTRA_BACKUP_PASSWORD", PASSPHRASE)
    monkeypatch.setenv("ENTRA_BACKUP_SECRETS_PASSWORD", SECRETS_PASSPHRASE)
    with eb.SimServer(users=40, groups=8, seed=3, throttle=False) as sim:
        root = tmp_path / "backup"
        swaps = {
            "eb.Credentials.from_env()": "sim.credentials()",
            '"/srv/backup/contoso"': repr(str(root / "contoso")),
        }

        # A first backup, then the same script again the next night: incremental.
        session: dict[str, Any] = {"sim": sim}
        out = run(swap(first, swaps), session)
        report = session["report"]
        assert report["snapshotId"] in out and report["snapshot"]["parent"] is None
        again: dict[str, Any] = {"sim": sim}
        run(swap(first, swaps), again)
        assert again["report"]["snapshot"]["parent"] == report["snapshotId"]
        assert again["report"]["snapshot"]["categories"]["users"]["read"] == "delta"

        # Plan and restore, in the first session; after some damage, so that there is work to do.
        sim.churn(0.5, seed=2)
        out = run(restore, again)
        assert again["report"]["summary"]["failed"] == 0
        # Some objects cannot be restored: they have no `action` (the example once raised KeyError).
        assert any("action" not in o for o in again["plan"]["objects"]), again["plan"]["objects"]
        assert "not restorable" in out

        # Typed reports.
        out = run(typed, again)
        assert "categories" in out

        # The nightly job, over tenants given as (name, credentials).
        ns: dict[str, Any] = {}
        run(swap(nightly, {'f"/srv/backup/{name}"': f"f{str(root)!r}" + ' + "/" + name'}), ns)
        done = asyncio.run(ns["nightly"]([("contoso", sim.credentials())]))
        assert [name for name, _ in done] == ["contoso"]

    # The test of a user's own backup job.
    ns = {}
    run(tests, ns)
    (tmp_path / "user-test").mkdir()
    ns["test_my_backup_job"](tmp_path / "user-test")


def test_the_guide_names_parameters_as_the_module_does() -> None:
    import inspect

    text = DOC.read_text()
    # `Credentials.certificate(tenant_id, client_id, certificate_path, ...)`
    for call in re.findall(r"`(Credentials\.\w+)\(([^)`]*)\)`", text):
        name, params = call
        doc_params = [p.strip().lstrip("*").split("=")[0] for p in params.split(",") if p.strip() not in ("", "*", "...")]
        stub = (pathlib.Path(eb.__file__).parent / "_entra_backup.pyi").read_text()
        method = name.split(".")[1]
        match = re.search(rf"def {method}\((.*?)\) ->", stub, re.S)
        assert match, name
        stub_params = [p.strip().split(":")[0] for p in match.group(1).split(",") if p.strip() not in ("", "*")]
        assert set(doc_params) <= set(stub_params), f"{name}: the guide says {doc_params}, the module takes {stub_params}"
    assert inspect.isclass(eb.Credentials)
