#!/usr/bin/env python3
"""The Python bindings against the Rust command-line tool, on a simulated tenant.

1. Backup: a full backup of a simulated 10,000-user tenant (Graph's throttling on, 20 ms latency,
   as benches/backup.rs) by `entra-backup backup` and by `Repository.backup` from Python, each in a
   process of its own, against a fresh simulator process each time, alternating. Target: Python
   takes at most 1.05 times the command's time.
2. Iteration: every object of a 50,000-user snapshot, read by Rust (benches/python_iterate.rs: the
   core call the Python iterators use) and by Python (`for obj in snapshot.objects()`: dicts).
   Target: Python reads at least half as many objects a second as Rust.

Run it from the repository's root with the module installed in release mode:

    pip install ./entra-backup-py          # or: (cd entra-backup-py && maturin develop --release)
    python benches/python_backup.py [--users 10000] [--iterate-users 50000] [--runs 3]

It builds the release command-line tool and the Rust iteration benchmark with cargo, then prints a
table per part and a JSON summary on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
CLI = TARGET / "release" / "entra-backup"
PASSWORD, SECRETS_PASSWORD = "bench", "bench secrets"

PY_BACKUP = """
import json, sys, time, entra_backup as eb
url, tenant, repo_dir = sys.argv[1:4]
repo = eb.Repository.open(repo_dir, eb.Access.from_env())
creds = eb.Credentials.client_secret(tenant, "bench", "bench", graph_url=url, authority_url=url)
started = time.monotonic()
report = repo.backup(creds, secrets=False)
print(json.dumps({"seconds": time.monotonic() - started, "objects": report["summary"]["objects"],
                  "failed": report["snapshot"].get("failed", {})}))
"""

PY_ITERATE = """
import json, sys, time, entra_backup as eb
snap = eb.Repository.open(sys.argv[1], eb.Access.from_env()).snapshot()
started = time.monotonic()
n = 0
for obj in snap.objects():
    n += 1
seconds = time.monotonic() - started
print(json.dumps({"objects": n, "seconds": seconds, "objects_per_second": n / seconds}))
"""


def sh(*cmd: str, env: dict[str, str] | None = None, capture: bool = True) -> str:
    r = subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=capture, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


class Sim:
    """`entra-backup sim serve` in a process of its own, as benches/support.rs starts it."""

    def __init__(self, users: int) -> None:
        args = ["sim", "serve", "--addr", "127.0.0.1:0", "--seed", "42", "--latency-ms", "20", "--throttle", "on"]
        args += ["--users", str(users), "--groups", str(users // 5), "--memberships", str(users * 10)]
        self.proc = subprocess.Popen([str(CLI), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        self.url = line.removeprefix("listening on ")
        with urllib.request.urlopen(f"{self.url}/_sim/summary") as r:
            self.tenant = json.load(r)["tenantId"]

    def __enter__(self) -> Sim:
        return self

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait()


def env() -> dict[str, str]:
    return {"ENTRA_BACKUP_PASSWORD": PASSWORD, "ENTRA_BACKUP_SECRETS_PASSWORD": SECRETS_PASSWORD}


def init(repo: pathlib.Path) -> None:
    sh(str(CLI), "init", "--repo", str(repo), env=env())


def cli_backup(sim: Sim, repo: pathlib.Path) -> tuple[float, dict[str, Any]]:
    creds = {"AZURE_TENANT_ID": sim.tenant, "AZURE_CLIENT_ID": "bench", "AZURE_CLIENT_SECRET": "bench"}
    started = time.monotonic()
    out = sh(
        str(CLI), "backup", "--repo", str(repo), "--no-secrets", "--json",
        "--graph-url", sim.url, "--authority-url", sim.url, env={**env(), **creds},
    )
    took = time.monotonic() - started
    report = json.loads(out)
    return took, {"objects": report["summary"]["objects"], "failed": report["snapshot"].get("failed", {})}


def py_backup(sim: Sim, repo: pathlib.Path) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    out = sh(sys.executable, "-c", PY_BACKUP, sim.url, sim.tenant, str(repo), env=env())
    return time.monotonic() - started, json.loads(out)


def part_backup(users: int, runs: int, work: pathlib.Path) -> dict[str, Any]:
    print(f"== backup of a simulated {users:,}-user tenant (throttling on, 20 ms latency), whole process each")
    print(f"{'RUN':>3} {'WHO':<7} {'OBJECTS':>8} {'SECONDS':>8}")
    times: dict[str, list[float]] = {"rust": [], "python": []}
    for run in range(1, runs + 1):
        order = [("rust", cli_backup), ("python", py_backup)]
        if run % 2 == 0:
            order.reverse()
        for who, backup in order:
            repo = work / f"backup-{who}-{run}"
            init(repo)
            with Sim(users) as sim:
                took, result = backup(sim, repo)
            assert not result["failed"], result["failed"]
            times[who].append(took)
            print(f"{run:>3} {who:<7} {result['objects']:>8} {took:>8.2f}")
            shutil.rmtree(repo)
    rust, python = statistics.median(times["rust"]), statistics.median(times["python"])
    print(f"median: rust {rust:.2f} s, python {python:.2f} s: python / rust = {python / rust:.3f} (target <= 1.05)\n")
    return {"users": users, "rust_seconds": times["rust"], "python_seconds": times["python"], "ratio": python / rust}


def part_iterate(users: int, runs: int, work: pathlib.Path) -> dict[str, Any]:
    print(f"== iterating every object of a {users:,}-user snapshot (local encrypted repository)")
    repo = work / "iterate"
    init(repo)
    with Sim(users) as sim:
        took, result = cli_backup(sim, repo)
    print(f"(snapshot made by the command in {took:.1f} s: {result['objects']:,} objects)")
    print(f"{'RUN':>3} {'WHO':<7} {'OBJECTS':>8} {'SECONDS':>8} {'OBJECTS/S':>10}")
    rates: dict[str, list[float]] = {"rust": [], "python": []}
    for run in range(1, runs + 1):
        for who in ("rust", "python") if run % 2 else ("python", "rust"):
            if who == "rust":
                out = sh("cargo", "bench", "-q", "-p", "entra-backup-py", "--bench", "python_iterate", "--", str(repo), env=env())
            else:
                out = sh(sys.executable, "-c", PY_ITERATE, str(repo), env=env())
            r = json.loads(out.strip().splitlines()[-1])
            rates[who].append(r["objects_per_second"])
            print(f"{run:>3} {who:<7} {r['objects']:>8} {r['seconds']:>8.2f} {r['objects_per_second']:>10,.0f}")
    rust, python = statistics.median(rates["rust"]), statistics.median(rates["python"])
    print(f"median: rust {rust:,.0f}/s, python {python:,.0f}/s: python / rust = {python / rust:.2f} (target >= 0.5)\n")
    return {"users": users, "rust_per_second": rates["rust"], "python_per_second": rates["python"], "ratio": python / rust}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000, help="users in the backed-up tenant")
    parser.add_argument("--iterate-users", type=int, default=50_000, help="users in the iterated snapshot")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-backup", action="store_true")
    parser.add_argument("--skip-iterate", action="store_true")
    args = parser.parse_args()
    import entra_backup

    print(f"entra_backup {entra_backup.__version__} from {pathlib.Path(entra_backup.__file__).parent}")
    print("building the release command-line tool and the Rust iteration benchmark ...", flush=True)
    sh("cargo", "build", "-q", "--release", "-p", "entra-backup-core", "--features", "cli")
    sh("cargo", "bench", "-q", "-p", "entra-backup-py", "--bench", "python_iterate", "--no-run")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="entra-backup-bench-") as tmp:
        work = pathlib.Path(tmp)
        if not args.skip_backup:
            results["backup"] = part_backup(args.users, args.runs, work)
        if not args.skip_iterate:
            results["iterate"] = part_iterate(args.iterate_users, args.runs, work)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
