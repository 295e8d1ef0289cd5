"""Starlette's TestClient. Starlette 1.x warns at import that it wants ``httpx2`` over
``httpx`` (the dev extra installs httpx); the client works with either, so the warning is
silenced for this one import rather than for the whole suite."""

from __future__ import annotations

import warnings

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=StarletteDeprecationWarning,
                            message=".*httpx2.*")
    from starlette.testclient import TestClient

__all__ = ["TestClient"]
