"""Interrupting a long backup: Ctrl-C (a real SIGINT) or an exception from the progress callback
stops it and raises, and the repository stays consistent: the snapshot is written last, so an
interrupted backup leaves none, and the next backup works. (No test here measures how long
anything took: they assert what happened, so that a slow or busy machine does not fail them.)"""

import os
import pathlib
import signal
import threading
from collections.abc import Iterator

import pytest

import entra_backup as eb
from conftest import new_repo


@pytest.fixture(scope="module")
def slow() -> Iterator[eb.SimServer]:
    # 300 ms a response and Graph's throttling: a whole backup takes about 15 s, reading the
    # users alone about 2 s.
    with eb.SimServer(users=2000, groups=100, seed=5, latency_ms=300) as server:
        yield server


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Python's own SIGINT handler (raise KeyboardInterrupt), as in an interactive run; a shell that
    starts the tests in the background has them ignore SIGINT, and Python then leaves it ignored."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def assert_consistent_and_usable(repo: eb.Repository, creds: eb.Credentials, snapshots_before: int) -> None:
    assert len(repo.snapshots()) == snapshots_before
    report = repo.check(read_data_percent=100)
    assert report["ok"], report["errors"]
    done = repo.backup(creds, categories=["organization"], secrets=False)
    assert done["snapshot"]["categories"]["organization"]["objects"] == 1
    assert repo.check(read_data_percent=100)["ok"]


@pytest.mark.usefixtures("ctrl_c")
def test_ctrl_c_stops_a_backup_cleanly(slow: eb.SimServer, tmp_path: pathlib.Path) -> None:
    repo = new_repo(tmp_path / "r")
    creds = slow.credentials()
    # A whole backup of this tenant takes about 15 s: the SIGINT comes long before its end.
    timer = threading.Timer(0.7, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            repo.backup(creds, secrets=False)
    finally:
        timer.cancel()
    # Stopped part-way: no snapshot was written, and the repository is consistent.
    assert_consistent_and_usable(repo, creds, 0)


@pytest.mark.parametrize("raised", [KeyboardInterrupt, RuntimeError])
def test_an_exception_from_the_progress_callback_stops_the_backup(
    slow: eb.SimServer, tmp_path: pathlib.Path, raised: type[BaseException]
) -> None:
    repo = new_repo(tmp_path / "r")
    creds = slow.credentials()
    # One complete backup first: the interrupted one is incremental from it.
    repo.backup(creds, categories=["users"], secrets=False)
    calls: list[eb.ProgressUpdate] = []

    def progress(p: eb.ProgressUpdate) -> None:
        calls.append(p)
        if len(calls) == 3:
            raise raised("stop")

    with pytest.raises(raised, match="stop"):
        repo.backup(creds, secrets=False, progress=progress, progress_interval=0.1)
    # Not called again after it raised (not even the call at the end), and the backup had not
    # finished.
    assert len(calls) == 3
    assert calls[-1]["categoriesDone"] < calls[-1]["categoriesTotal"]
    assert_consistent_and_usable(repo, creds, 1)


@pytest.mark.usefixtures("ctrl_c")
def test_ctrl_c_while_an_iterator_waits(slow: eb.SimServer, tmp_path: pathlib.Path) -> None:
    repo = new_repo(tmp_path / "r")
    creds = slow.credentials()
    repo.backup(creds, categories=["users"], secrets=False)
    # Comparing with the live tenant reads every user again before the first difference (there is none).
    it = repo.diff("latest", live=creds, categories=["users"])
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            next(it)
    finally:
        timer.cancel()
    # The iterator is still usable and ends cleanly.
    assert list(it) == []
    assert it.summary is not None and it.summary["unchanged"] == slow.count("users")
