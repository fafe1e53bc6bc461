"""Shared fixtures: a writable copy of the data, and the real dataset loaded once."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# No test writes into the checkout: the package's build folder (validation markers, failed
# notebooks) goes to a temporary folder for the whole session, subprocesses included.
os.environ.setdefault("HAITI_MSS_BUILD_DIR", tempfile.mkdtemp(prefix="haiti-mss-build-"))

from haiti_mss import load_dataset, paths  # noqa: E402

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


def checkout_copy(target: Path) -> Path:
    """The tracked and untracked-but-not-ignored files of this checkout in ``target``, sharing
    .venv by a symlink (so no install is repeated)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=paths.ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        src = paths.ROOT / name
        if src.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / name)
    (target / ".venv").symlink_to(paths.ROOT / ".venv")
    return target


def make_env() -> dict:
    """The environment for a `make` run inside a copied checkout: its own data, build and
    reports folders."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("HAITI_MSS_") and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


@pytest.fixture(scope="session")
def rendered_checkout(tmp_path_factory):
    """A copy of the checkout after a full `make report`: every variant, every notebook.
    Shared by the rendering, offline and browser tests (one render per test session)."""
    checkout = checkout_copy(tmp_path_factory.mktemp("checkout") / "repo")
    result = subprocess.run(["make", "report"], cwd=checkout, capture_output=True,
                            text=True, env=make_env())
    assert result.returncode == 0, result.stderr[-4000:]
    checkout.joinpath(".make-report.log").write_text(result.stdout + result.stderr)
    return checkout
