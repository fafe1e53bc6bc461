"""Every path the project uses, derived from the package's own location.

Nothing else builds ``../data``-style strings. ``HAITI_MSS_DATA_DIR`` points the whole pipeline
at another copy of the data (the tests use it to prove report numbers come from the data);
``HAITI_MSS_NOTEBOOKS_DIR``, ``HAITI_MSS_PARAMS_DIR``, ``HAITI_MSS_REPORTS_DIR`` and
``HAITI_MSS_BUILD_DIR`` do the same for the notebooks, variants and outputs (the drills run a
tiny report set in a temporary folder this way, never in the checkout).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent.parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"


def _dir(name: str, default: Path) -> Path:
    value = os.environ.get(f"HAITI_MSS_{name}_DIR")
    return Path(value).resolve() if value else default


NOTEBOOKS_DIR = _dir("NOTEBOOKS", ROOT / "notebooks")
PARAMS_DIR = _dir("PARAMS", ROOT / "params")
SCENARIOS_DIR = ROOT / "scenarios"
REPORTS_DIR = _dir("REPORTS", ROOT / "reports")
BUILD_DIR = _dir("BUILD", ROOT / "build")


def data_dir() -> Path:
    """The data folder in use: ``$HAITI_MSS_DATA_DIR`` if set, else ``data/`` in the checkout."""
    override = os.environ.get("HAITI_MSS_DATA_DIR")
    return Path(override).resolve() if override else ROOT / "data"


def schema_path(directory: Path | None = None) -> Path:
    """The Frictionless data package descriptor that holds the schema of every table."""
    return (directory or data_dir()) / "datapackage.json"
