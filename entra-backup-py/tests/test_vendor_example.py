"""examples/python/backup_tenants.py against two simulated tenants (and one that refuses its secret),
and in its own simulated mode on the example config."""

import json
import os
import pathlib
import subprocess
import sys

import entra_backup as eb

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python" / "backup_tenants.py"


def run(config: pathlib.Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(config), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_backs_up_each_tenant_into_its_own_repository(tmp_path: pathlib.Path) -> None:
    with (
        eb.SimServer(users=40, groups=8, seed=1, throttle=False) as a,
        eb.SimServer(users=25, groups=5, seed=2, throttle=False) as b,
        eb.SimServer(users=5, groups=2, seed=3, throttle=False, client_id="app3", client_secret="right") as c,
    ):
        root = tmp_path / "backups"
        config = tmp_path / "tenants.toml"
        config.write_text(
            f"""
[defaults]
repository_root = "{root}"
create = true
keep_last = 1
tags = ["nightly"]

[[tenants]]
name = "alpha"
tenant_id = "{a.tenant_id}"
client_id = "app1"
client_secret_env = "ALPHA_SECRET"
graph_url = "{a.url}"
authority_url = "{a.url}"

[[tenants]]
name = "beta"
tenant_id = "{b.tenant_id}"
client_id = "app2"
client_secret_env = "BETA_SECRET"
graph_url = "{b.url}"
authority_url = "{b.url}"
categories = ["users", "groups"]
"""
        )
        env = {
            "ENTRA_BACKUP_PASSWORD": "repo pass",
            "ENTRA_BACKUP_SECRETS_PASSWORD": "secrets pass",
            "ALPHA_SECRET": "s1",
            "BETA_SECRET": "s2",
            "GAMMA_SECRET": "wrong",
        }
        first = run(config, env)
        assert first.returncode == 0, first.stdout + first.stderr
        lines = first.stdout.splitlines()
        assert lines[0].split()[:3] == ["TENANT", "RESULT", "SNAPSHOT"]
        rows = {line.split()[0]: line.split() for line in lines[1:3]}
        assert rows["alpha"][1] == "ok" and rows["alpha"][3] == "full"
        assert rows["beta"][1] == "ok" and int(rows["beta"][4]) == 25 + b.count("groups")
        assert "2 of 2 tenants backed up whole" in first.stdout

        access = eb.Access.passphrase("repo pass")
        alpha = eb.Repository.open(str(root / "alpha"), access)
        beta = eb.Repository.open(str(root / "beta"), access)
        assert alpha.id != beta.id
        assert alpha.snapshot().tenant_id == a.tenant_id and beta.snapshot().tenant_id == b.tenant_id
        assert set(beta.snapshot().category_names) == {"users", "groups"}

        # The next night: incremental, and keep_last = 1 forgets the first snapshot.
        a.churn(0.05, seed=9)
        config.write_text(
            config.read_text()
            + f"""
[[tenants]]
name = "gamma"
tenant_id = "{c.tenant_id}"
client_id = "app3"
client_secret_env = "GAMMA_SECRET"
graph_url = "{c.url}"
authority_url = "{c.url}"
"""
        )
        second = run(config, env, "--json")
        assert second.returncode == 1, second.stdout + second.stderr
        report = {o["name"]: o for o in json.loads(second.stdout)}
        assert report["alpha"]["ok"] and report["alpha"]["incremental"] and report["alpha"]["changes"] > 0
        assert report["alpha"]["forgotten"] == 1
        assert report["beta"]["ok"] and report["beta"]["changes"] == 0
        assert not report["gamma"]["ok"] and report["gamma"]["snapshot"] is None
        assert report["gamma"]["error"].startswith("AuthenticationError") and "AADSTS" in report["gamma"]["error"]
        assert "wrong" not in report["gamma"]["error"]
        assert [s.id for s in alpha.snapshots()] == [report["alpha"]["snapshot"]]


def test_simulated_mode_runs_the_example_config_as_it_is() -> None:
    example = SCRIPT.parent / "tenants.example.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTRA_BACKUP_")}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(example), "--simulate", "20", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = {o["name"]: o for o in json.loads(done.stdout)}
    assert set(report) == {"contoso", "fabrikam", "gov-tenant"}
    assert all(o["ok"] and o["snapshot"] and o["objects"] > 0 for o in report.values()), report
    # fabrikam's config names five categories: only those were backed up.
    assert report["fabrikam"]["objects"] < report["contoso"]["objects"]
