"""Stands in for ``SimServer`` in a wheel built without the simulated tenant."""

from typing import Any


class SimServer:
    """Not in this build: build the wheel with the simulated tenant,
    ``MATURIN_PEP517_ARGS="--features sim" pip install ./entra-backup-py`` (docs/python.md)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImportError(
            "this build of entra_backup has no simulated tenant: install it with "
            'MATURIN_PEP517_ARGS="--features sim" pip install ./entra-backup-py (docs/python.md)'
        )
