"""Shared fixtures: locating the real data in ``../shared`` beside the checkout.

Tests that need ``../shared`` skip on a developer machine without it, but FAIL under ``CI=true``
(CI always has it; a missing folder there is a broken setup, not a reason to skip).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ASOT_SHARED", REPO_ROOT.parent / "shared"))


def require_shared(*parts: str) -> Path:
    """Path under ``../shared``; skip (locally) or fail (CI=true) when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"shared data not found: {path}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + " (CI=true: shared data must be present)")
        pytest.skip(message)
    return path


@pytest.fixture
def shared_dir() -> Path:
    return require_shared()


@pytest.fixture
def reference_dir() -> Path:
    return require_shared("reference")


@pytest.fixture
def data_dir() -> Path:
    return require_shared("data")


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    """The tiny synthetic dataset (``asot.TINY``) in the standard layout, one copy per test module."""
    from asot.data.synthetic import TINY, generate_dataset

    root = tmp_path_factory.mktemp("tiny")
    generate_dataset(root, TINY)
    return root
