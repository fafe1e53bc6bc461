"""Shared fixtures: a writable copy of the data, and the real dataset loaded once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from haiti_mss import load_dataset, paths

REPO_DATA = paths.ROOT / "data"


@pytest.fixture(scope="session")
def dataset():
    """The repository's dataset, validated and loaded once per test session."""
    return load_dataset(REPO_DATA)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A throwaway copy of data/ to break or edit."""
    target = tmp_path / "data"
    shutil.copytree(REPO_DATA, target)
    return target
