"""Fixtures: a small simulated tenant (Graph's throttling off, so that tests are quick) and fresh
repositories with cheap key derivation."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

import entra_backup as eb

PASSPHRASE = "correct horse battery staple"
SECRETS_PASSPHRASE = "the second key"


@pytest.fixture(scope="module")
def sim() -> Iterator[eb.SimServer]:
    with eb.SimServer(users=60, groups=12, seed=7, throttle=False) as server:
        yield server


@pytest.fixture(scope="module")
def creds(sim: eb.SimServer) -> eb.Credentials:
    return sim.credentials()


def new_repo(path: pathlib.Path, *, secrets: bool = True) -> eb.Repository:
    return eb.Repository.init(
        str(path),
        eb.Access.passphrase(PASSPHRASE),
        eb.Access.passphrase(SECRETS_PASSPHRASE) if secrets else None,
        kdf_memory_mib=1,
        kdf_iterations=1,
    )


@pytest.fixture
def repo(tmp_path: pathlib.Path) -> eb.Repository:
    return new_repo(tmp_path / "repo")
