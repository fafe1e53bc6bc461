"""Rendering end to end: offline HTML, numbers that come from the data, parameter checks,
failure handling, and `make report` doing nothing the second time."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from haiti_mss import offline, paths
from haiti_mss.errors import ParameterError, RenderError
from haiti_mss.render import render_notebook, resolve_parameters

pytestmark = pytest.mark.slow
NOTEBOOK = paths.NOTEBOOKS_DIR / "01-contributions.ipynb"


def _params(tmp_path: Path, text: str, name: str = "variant-under-test") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


RENEWAL = """title: Test renewal
parameters:
  as_of: 2024-09-30
  label: test
"""


@pytest.fixture(scope="module")
def renewal_html(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("render")
    out = render_notebook(NOTEBOOK, _params(tmp, RENEWAL), tmp / "out.html")
    return out.read_text(encoding="utf-8")


def test_report_is_offline_and_leaks_nothing(renewal_html):
    assert offline.problems(renewal_html, extra_paths=(str(paths.ROOT),)) == []
    assert "<script" not in renewal_html  # nothing executable at all
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', renewal_html)) >= 2
    assert "http://" not in renewal_html.replace('href="http', "")  # only hyperlinks
    assert "def " not in renewal_html and "import haiti_mss" not in renewal_html  # code hidden


def test_report_shows_the_renewal_vote_numbers_with_captions(renewal_html):
    text = re.sub(r"<[^>]+>", " ", renewal_html)
    assert "Kenya 400" in text and "Jamaica 24" in text
    assert "planned strength of 2,500" in text
    assert renewal_html.count("<figcaption>") >= 2
    assert renewal_html.count('class="mss-source"') >= 3
    assert re.search(r'alt="Bar chart of personnel pledged and deployed[^"]*Kenya: pledged 1,000, '
                     r'deployed 400', renewal_html)


def _edit_row(data: Path, fact_id: str, column: str, value: str) -> None:
    path = data / "personnel.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames, list(reader)
    hits = [r for r in rows if r["fact_id"] == fact_id]
    assert hits, fact_id
    hits[0][column] = value
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_rendered_numbers_come_from_the_data(tmp_path, data_copy, monkeypatch, dataset):
    """Change Jamaica's arrival in a copy of the data: the rendered number changes with it."""
    jam = dataset.personnel
    row = jam[(jam["contributor_iso3"] == "JAM") & (jam["event"] == "arrived")
              & (jam["personnel_type"] == "military")].iloc[0]
    edited = int(row["count"]) + 77
    _edit_row(data_copy, row["fact_id"], "count", str(edited))
    for other in jam[jam["restates_id"] == row["fact_id"]]["fact_id"]:
        _edit_row(data_copy, other, "count", str(edited))
    monkeypatch.setenv("HAITI_MSS_DATA_DIR", str(data_copy))
    html = render_notebook(NOTEBOOK, _params(tmp_path, RENEWAL), tmp_path / "o.html").read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    assert f"Jamaica {edited + 4}" in text and "Jamaica 24" not in text


def test_unknown_parameter_is_an_error(tmp_path):
    bad = _params(tmp_path, RENEWAL + "  as_off: 2024-09-30\n")
    with pytest.raises(ParameterError, match="unknown parameter.*as_off"):
        resolve_parameters(bad, [NOTEBOOK])


@pytest.mark.parametrize("value,words", [("2024-13-01", "YYYY-MM-DD"), ("yesterday", "YYYY-MM-DD"),
                                         ("2999-01-01", "future"), ("12", "expected a str")])
def test_bad_as_of_is_an_error(tmp_path, value, words):
    bad = _params(tmp_path, RENEWAL.replace("2024-09-30", value))
    with pytest.raises(ParameterError, match=words):
        resolve_parameters(bad, [NOTEBOOK])


def test_unknown_top_level_key_is_an_error(tmp_path):
    with pytest.raises(ParameterError, match="unknown key"):
        resolve_parameters(_params(tmp_path, RENEWAL + "titel: x\n"), [NOTEBOOK])


def test_a_failing_cell_names_the_cell_keeps_the_notebook_and_the_old_report(tmp_path):
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise ValueError('planted failure')"))
    broken = tmp_path / "99-broken.ipynb"
    nbformat.write(nb, broken)
    out = tmp_path / "report.html"
    out.write_text("previous good report", encoding="utf-8")
    with pytest.raises(RenderError) as info:
        render_notebook(broken, _params(tmp_path, RENEWAL), out)
    message = str(info.value)
    assert "99-broken.ipynb" in message and "cell 4 (counting from 1" in message
    assert "ValueError: planted failure" in message
    kept = paths.BUILD_DIR / "failed" / "variant-under-test--99-broken.ipynb"
    assert kept.exists()
    assert out.read_text(encoding="utf-8") == "previous good report"
    assert not list(tmp_path.glob(".*tmp*"))


def _checkout_copy(tmp_path: Path) -> Path:
    """The tracked files of this checkout in a new folder, sharing .venv by a symlink."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=paths.ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    target = tmp_path / "checkout"
    for name in files:
        src = paths.ROOT / name
        if src.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / name)
    (target / ".venv").symlink_to(paths.ROOT / ".venv")
    return target


def test_make_report_builds_everything_then_does_nothing(tmp_path):
    checkout = _checkout_copy(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("HAITI_MSS_DATA_DIR", "MAKEFLAGS")}
    first = subprocess.run(["make", "report"], cwd=checkout, capture_output=True, text=True,
                           env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    index = checkout / "reports" / "index.html"
    assert index.exists() and str(index) in first.stdout
    pages = sorted((checkout / "reports").rglob("*.html"))
    assert len(pages) >= 3
    stamps = {p: p.stat().st_mtime_ns for p in pages}
    second = subprocess.run(["make", "report"], cwd=checkout, capture_output=True, text=True,
                            env=env)
    assert second.returncode == 0
    assert "executing" not in second.stderr and "Validating" not in second.stdout
    assert {p: p.stat().st_mtime_ns for p in pages} == stamps
    # Touching one parameter file re-renders that variant only.
    params = sorted((checkout / "params").glob("*.yaml"))[0]
    params.touch()
    third = subprocess.run(["make", "report"], cwd=checkout, capture_output=True, text=True,
                           env=env)
    assert third.returncode == 0
    executed = re.findall(r"\[([^\]]+)\] [^:]+: executing", third.stderr)
    assert executed and set(executed) == {params.stem}
    for page in pages:
        assert offline.problems(page.read_text(encoding="utf-8"),
                                extra_paths=(str(checkout), str(paths.ROOT))) == [], page


def test_make_alone_prints_the_targets():
    result = subprocess.run(["make"], cwd=paths.ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    for target in ("report", "test", "lab", "clean", "validate", "lock"):
        assert re.search(rf"make {target}\s+\S", result.stdout), target
