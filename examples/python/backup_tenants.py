#!/usr/bin/env python3
"""Back up every tenant listed in a config file, each into its own repository, and print a report.

What a backup vendor or MSP runs every night:

    ENTRA_BACKUP_PASSWORD=... ENTRA_BACKUP_SECRETS_PASSWORD=... CONTOSO_SECRET=... \\
        python examples/python/backup_tenants.py tenants.toml [--parallel 4] [--json]

The config (TOML, or JSON with the same shape; see tenants.example.toml) names each tenant's app
registration and where its secret is (an environment variable or a certificate file: never the
secret itself), and where its repository is. Tenants are backed up a few at a time; one that fails
does not stop the others. A repository that does not exist yet is created when `create = true`.
After each backup the retention policy (`keep_*`) is applied, and the repository checked.
The exit code is 0 when every tenant was backed up whole, 1 otherwise.

Without a tenant at hand, `--simulate` backs up a simulated tenant (entra_backup.SimServer) in place
of each one the config lists, into repositories in a temporary folder, with throwaway passphrases:

    python examples/python/backup_tenants.py examples/python/tenants.example.toml --simulate
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import entra_backup as eb

KEEP = ("keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly")


def load_config(path: pathlib.Path) -> dict[str, Any]:
    text = path.read_text()
    if path.suffix == ".json":
        config: dict[str, Any] = json.loads(text)
    else:
        import tomllib  # Python 3.11+; use a .json config on older Pythons

        config = tomllib.loads(text)
    if not config.get("tenants"):
        raise SystemExit(f"{path}: no [[tenants]] listed")
    return config


@dataclass
class Outcome:
    name: str
    ok: bool = False
    snapshot: str | None = None
    incremental: bool = False
    objects: int = 0
    changes: int = 0
    requests: int = 0
    bytes_added: int = 0
    seconds: float = 0.0
    failed: dict[str, str] = field(default_factory=dict)
    forgotten: int = 0
    error: str | None = None


def setting(tenant: dict[str, Any], defaults: dict[str, Any], key: str, default: Any = None) -> Any:
    return tenant.get(key, defaults.get(key, default))


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise eb.InvalidInputError(f"the environment variable {name} is not set")
    return value


def credentials(tenant: dict[str, Any], defaults: dict[str, Any]) -> eb.Credentials:
    urls = {
        "graph_url": setting(tenant, defaults, "graph_url"),
        "authority_url": setting(tenant, defaults, "authority_url"),
    }
    if "certificate_path" in tenant:
        return eb.Credentials.certificate(tenant["tenant_id"], tenant["client_id"], tenant["certificate_path"], **urls)
    secret = env(tenant["client_secret_env"])
    return eb.Credentials.client_secret(tenant["tenant_id"], tenant["client_id"], secret, **urls)


def access(tenant: dict[str, Any], defaults: dict[str, Any], which: str) -> eb.Access:
    key_file = setting(tenant, defaults, f"{which}key_file")
    if key_file:
        return eb.Access.key_file(key_file)
    return eb.Access.passphrase(env(setting(tenant, defaults, f"{which}password_env", "ENTRA_BACKUP_" + which.upper() + "PASSWORD")))


async def open_repository(tenant: dict[str, Any], defaults: dict[str, Any]) -> eb.Repository:
    location = tenant.get("repository") or str(pathlib.Path(defaults["repository_root"]) / tenant["name"])
    main, secrets = access(tenant, defaults, ""), access(tenant, defaults, "secrets_")
    try:
        return await eb.Repository.open_async(location, main, secrets)
    except eb.NotFoundError:
        if not setting(tenant, defaults, "create", False):
            raise
        return await eb.Repository.init_async(location, main, secrets)


async def back_up(tenant: dict[str, Any], defaults: dict[str, Any], verbose: bool) -> Outcome:
    out = Outcome(tenant["name"])
    started = time.monotonic()

    def progress(p: eb.ProgressUpdate) -> None:
        if verbose:
            print(
                f"  {out.name}: {p['categoriesDone']}/{p['categoriesTotal']} categories, "
                f"{p['objects']} objects, {p['httpRequests']} requests",
                file=sys.stderr,
            )

    try:
        repo = await open_repository(tenant, defaults)
        report = await repo.backup_async(
            credentials(tenant, defaults),
            categories=setting(tenant, defaults, "categories"),
            tags=setting(tenant, defaults, "tags"),
            progress=progress,
            progress_interval=10.0,
        )
        snap = report["snapshot"]
        out.snapshot = report["snapshotId"]
        out.incremental = snap.get("parent") is not None
        out.objects = sum(c["objects"] for c in snap["categories"].values())
        out.changes = sum(c["added"] + c["changed"] + c["removed"] for c in snap["categories"].values())
        out.requests = snap["summary"]["graphRequests"]
        out.bytes_added = snap["summary"]["bytesAdded"]
        out.failed = dict(snap.get("failed", {}))
        policy = {k: setting(tenant, defaults, k) for k in KEEP if setting(tenant, defaults, k)}
        if policy:
            decisions = await repo.forget_async(**policy)
            out.forgotten = sum(1 for d in decisions if not d["keep"])
        check = await repo.check_async()
        if not check["ok"]:
            out.error = "check: " + "; ".join(check["errors"][:3])
        out.ok = not out.failed and out.error is None
    except eb.EntraBackupError as e:
        code = f" ({e.graph_code})" if e.graph_code and e.graph_code not in str(e) else ""
        out.error = f"{type(e).__name__}: {e}{code}"
    out.seconds = time.monotonic() - started
    return out


async def run(config: dict[str, Any], parallel: int, verbose: bool) -> list[Outcome]:
    defaults = config.get("defaults", {})
    limit = asyncio.Semaphore(parallel)

    async def one(tenant: dict[str, Any]) -> Outcome:
        async with limit:
            return await back_up(tenant, defaults, verbose)

    return await asyncio.gather(*(one(t) for t in config["tenants"]))


def print_report(outcomes: list[Outcome]) -> None:
    print(f"{'TENANT':<20} {'RESULT':<8} {'SNAPSHOT':<12} {'KIND':<11} {'OBJECTS':>8} {'CHANGES':>8} "
          f"{'REQUESTS':>9} {'NEW KB':>8} {'SECONDS':>8}")
    for o in outcomes:
        result = "ok" if o.ok else ("partial" if o.snapshot else "FAILED")
        print(
            f"{o.name:<20} {result:<8} {(o.snapshot or '-')[:12]:<12} "
            f"{('incremental' if o.incremental else 'full') if o.snapshot else '-':<11} {o.objects:>8} "
            f"{o.changes:>8} {o.requests:>9} {o.bytes_added // 1024:>8} {o.seconds:>8.1f}"
        )
    for o in outcomes:
        for category, why in o.failed.items():
            print(f"{o.name}: {category} not read: {why}")
        if o.error:
            print(f"{o.name}: {o.error}")
        if o.forgotten:
            print(f"{o.name}: {o.forgotten} old snapshots forgotten")
    ok = sum(o.ok for o in outcomes)
    print(f"{ok} of {len(outcomes)} tenants backed up whole")


@contextlib.contextmanager
def simulated(config: dict[str, Any], users: int) -> Iterator[dict[str, Any]]:
    """The config with each tenant replaced by a simulated one (same name, its own seed), every
    repository in a temporary folder, and the secrets and passphrases it names made up."""
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(tempfile.TemporaryDirectory(prefix="entra-backup-simulated-"))
        defaults = {
            **{k: v for k, v in config.get("defaults", {}).items() if "key_file" not in k},
            "repository_root": root,
            "create": True,
        }
        os.environ.setdefault(defaults.get("password_env", "ENTRA_BACKUP_PASSWORD"), "simulated passphrase")
        os.environ.setdefault(defaults.get("secrets_password_env", "ENTRA_BACKUP_SECRETS_PASSWORD"), "simulated secrets")
        tenants = []
        for seed, tenant in enumerate(config["tenants"], start=1):
            sim = stack.enter_context(eb.SimServer(users=users, groups=max(1, users // 5), seed=seed, throttle=False))
            secret_env = f"SIMULATED_SECRET_{seed}"
            os.environ[secret_env] = "any secret: the simulator accepts it"
            kept = {k: v for k, v in tenant.items() if k in ("name", "categories", "tags") or k.startswith("keep_")}
            tenants.append(
                {
                    **kept,
                    "tenant_id": sim.tenant_id,
                    "client_id": "simulated-app",
                    "client_secret_env": secret_env,
                    "graph_url": sim.url,
                    "authority_url": sim.url,
                }
            )
        print(f"simulated: {len(tenants)} tenants, repositories in {root}", file=sys.stderr)
        yield {"defaults": defaults, "tenants": tenants}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=pathlib.Path, help="a .toml or .json file listing the tenants")
    parser.add_argument("--parallel", type=int, default=2, help="tenants backed up at once (default 2)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--verbose", action="store_true", help="print progress to stderr")
    parser.add_argument(
        "--simulate",
        nargs="?",
        type=int,
        const=50,
        metavar="USERS",
        help="back up simulated tenants (of USERS users, default 50) in place of the config's, into a temporary folder",
    )
    args = parser.parse_args()
    config = load_config(args.config)
    with contextlib.ExitStack() as stack:
        if args.simulate is not None:
            config = stack.enter_context(simulated(config, args.simulate))
        outcomes = asyncio.run(run(config, max(1, args.parallel), args.verbose))
    if args.json:
        print(json.dumps([o.__dict__ for o in outcomes], indent=2))
    else:
        print_report(outcomes)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
