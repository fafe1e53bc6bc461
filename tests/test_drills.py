"""Failure drills: interrupted and concurrent runs, failing cells, broken inputs, determinism.
A good report is never lost or half-written, and every failure says clearly what went wrong."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from haiti_mss import offline

from .conftest import make_env

pytestmark = pytest.mark.slow


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _make(checkout: Path, *args: str, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run(["make", *args], cwd=checkout, capture_output=True, text=True,
                          env=make_env(), timeout=timeout)


@pytest.fixture
def good_checkout(rendered_checkout, tmp_path):
    """A private copy of a fully rendered checkout (reports, build and all) to break."""
    target = tmp_path / "repo"
    shutil.copytree(rendered_checkout, target, symlinks=True)
    return target


def _assert_reports_whole(checkout: Path, before: dict[str, str]) -> None:
    """Every report is the previous good file or a new complete, shareable one."""
    reports = checkout / "reports"
    for page in sorted(reports.rglob("*.html")):
        name = page.relative_to(reports).as_posix()
        html = page.read_text(encoding="utf-8")
        if hashlib.sha256(page.read_bytes()).hexdigest() == before.get(name):
            continue
        assert html.rstrip().endswith("</html>"), f"{name} is cut off"
        assert offline.problems(html, extra_paths=(str(checkout),)) == [], name
    for name in before:
        if name.endswith(".html"):
            assert (reports / name).exists(), f"{name} was lost"
    leftovers = [p for p in reports.rglob("*") if p.name.startswith(".") or ".tmp" in p.name]
    assert leftovers == [], leftovers


@pytest.mark.parametrize("sig,delay", [(signal.SIGINT, 3.0), (signal.SIGKILL, 5.5),
                                       (signal.SIGINT, 9.0), (signal.SIGKILL, 12.5)])
def test_an_interrupted_run_never_leaves_a_broken_report(good_checkout, sig, delay):
    random.seed(delay)
    before = _digest(good_checkout / "reports")
    (good_checkout / "data" / "sources.csv").touch()  # every report is now out of date
    proc = subprocess.Popen(["make", "report"], cwd=good_checkout, env=make_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    time.sleep(delay + random.random())
    os.killpg(proc.pid, sig)
    proc.communicate(timeout=120)
    _assert_reports_whole(good_checkout, before)
    # The next run recovers by itself and leaves everything complete and current.
    again = _make(good_checkout, "report")
    assert again.returncode == 0, again.stderr[-3000:]
    _assert_reports_whole(good_checkout, {})
    assert _make(good_checkout, "-q", "reports/index.html").returncode == 0  # up to date


def test_two_runs_at_once_one_refuses_clearly(good_checkout):
    before = _digest(good_checkout / "reports")
    (good_checkout / "data" / "sources.csv").touch()
    first = subprocess.Popen(["make", "report"], cwd=good_checkout, env=make_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    second = _make(good_checkout, "report")
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    assert second.returncode != 0
    assert "another make report is running" in second.stderr
    _assert_reports_whole(good_checkout, before)


def test_a_failing_cell_through_make(good_checkout):
    before = _digest(good_checkout / "reports")
    nb_path = good_checkout / "notebooks" / "02-funding.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('drill: the cell fails')"))
    nbformat.write(nb, nb_path)
    result = _make(good_checkout, "report")
    assert result.returncode != 0
    assert re.search(r"notebooks/02-funding\.ipynb \(variant [\w-]+\) failed in cell 4", result.stderr)
    assert "RuntimeError: drill: the cell fails" in result.stderr
    assert "Traceback" not in result.stderr
    assert list((good_checkout / "build" / "failed").glob("*--02-funding.ipynb"))
    after = _digest(good_checkout / "reports")
    for name, digest in before.items():
        if "02-funding" in name:
            assert after[name] == digest, f"{name} changed although its render failed"


@pytest.mark.parametrize("breakage,words", [
    ("missing", "data/context.csv; expected the file to exist"),
    ("not-utf8", "data/mandates.csv"),
    ("typo-param", "unknown parameter(s) as_off"),
])
def test_broken_inputs_fail_clearly_and_write_nothing(good_checkout, breakage, words):
    before = _digest(good_checkout / "reports")
    if breakage == "missing":
        (good_checkout / "data" / "context.csv").unlink()
    elif breakage == "not-utf8":
        path = good_checkout / "data" / "mandates.csv"
        path.write_bytes(path.read_bytes().replace(b"Council", b"Conseil \xe9", 1))
    else:
        path = good_checkout / "params" / "latest.yaml"
        path.write_text(path.read_text().replace("as_of:", "as_off:"), encoding="utf-8")
    result = _make(good_checkout, "report")
    assert result.returncode != 0
    assert words in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert _digest(good_checkout / "reports") == before


def test_read_only_data_is_never_written(good_checkout):
    data = good_checkout / "data"
    before = _digest(data)
    for path in data.iterdir():
        path.chmod(0o444)
    data.chmod(0o555)
    try:
        (data / "sources.csv").touch()  # root can still touch; the point: we never write
        result = _make(good_checkout, "report")
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        data.chmod(0o755)
    assert _digest(data) == before


def test_same_inputs_give_byte_identical_summaries_and_reports(good_checkout):
    reports = good_checkout / "reports"
    before = _digest(reports)
    for params in (good_checkout / "params").glob("*.yaml"):
        params.touch()
    result = _make(good_checkout, "report")
    assert result.returncode == 0, result.stderr[-2000:]
    after = _digest(reports)
    assert after == before  # summary.json, every table CSV and every HTML (figures included)
