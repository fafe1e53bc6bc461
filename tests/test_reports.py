"""Rendering end to end: offline HTML, numbers that come from the data, parameter checks,
failure handling, and `make report` doing nothing the second time."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest

from haiti_mss import offline, paths
from haiti_mss.errors import ParameterError, RenderError
from haiti_mss.render import render_notebook, resolve_parameters

from .conftest import make_env

NOTEBOOK = paths.NOTEBOOKS_DIR / "01-contributions.ipynb"


def _params(tmp_path: Path, text: str, name: str = "variant-under-test") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "variants.yaml").write_text(f"{name}:\n  title: Test renewal\n",
                                            encoding="utf-8")
    return path


RENEWAL = """as_of: "2024-09-30"
label: test
mission: MSS
"""


@pytest.fixture(scope="module")
def renewal_html(tmp_path_factory) -> str:
    tmp = tmp_path_factory.mktemp("render")
    out = render_notebook(NOTEBOOK, _params(tmp, RENEWAL), tmp / "out")
    return out.read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_is_offline_and_leaks_nothing(renewal_html):
    assert offline.problems(renewal_html, extra_paths=(str(paths.ROOT),)) == []
    assert "<script" not in renewal_html  # nothing executable at all
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', renewal_html)) >= 2
    assert "http://" not in renewal_html.replace('href="http', "")  # only hyperlinks
    assert "def " not in renewal_html and "import haiti_mss" not in renewal_html  # code hidden


@pytest.mark.slow
def test_report_shows_the_renewal_vote_numbers_with_captions(renewal_html):
    text = re.sub(r"<[^>]+>", " ", renewal_html)
    assert "Kenya 400" in text and "Jamaica 24" in text
    assert "planned strength of 2,500" in text
    assert renewal_html.count("<figcaption>") >= 2
    assert renewal_html.count('class="mss-source"') >= 3
    assert re.search(r'alt="Bar chart of personnel pledged and deployed[^"]*Kenya: pledged 1,000, '
                     r'on the ground 400', renewal_html)


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


@pytest.mark.slow
def test_rendered_numbers_come_from_the_data(tmp_path, data_copy, monkeypatch, dataset):
    """Add 77 to every report of Jamaica's first arrival in a copy of the data: the rendered
    number changes with it."""
    jam = dataset.personnel
    rows = jam[(jam["contributor_iso3"] == "JAM") & (jam["event"] == "arrived")
               & (jam["refers_to_date"] == "2024-09-12")
               & jam["personnel_type"].isin(["military", "all"])]
    for r in rows.itertuples():
        _edit_row(data_copy, r.fact_id, "count", str(int(r.count) + 77))
    monkeypatch.setenv("HAITI_MSS_DATA_DIR", str(data_copy))
    html = render_notebook(NOTEBOOK, _params(tmp_path, RENEWAL), tmp_path / "o").read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    assert "Jamaica 101" in text and "Jamaica 24" not in text


def test_unknown_parameter_is_an_error(tmp_path):
    bad = _params(tmp_path, RENEWAL + "as_off: 2024-09-30\n")
    with pytest.raises(ParameterError, match="unknown parameter.*as_off"):
        resolve_parameters(bad, [NOTEBOOK])


@pytest.mark.parametrize("value,words", [('"2024-13-01"', "YYYY-MM-DD"),
                                         ("yesterday", "YYYY-MM-DD"),
                                         ('"2999-01-01"', "future"), ("12", "expected a str")])
def test_bad_as_of_is_an_error(tmp_path, value, words):
    bad = _params(tmp_path, RENEWAL.replace('"2024-09-30"', value))
    with pytest.raises(ParameterError, match=words):
        resolve_parameters(bad, [NOTEBOOK])


def test_unknown_key_in_the_variants_file_is_an_error(tmp_path):
    bad = _params(tmp_path, RENEWAL)
    (tmp_path / "variants.yaml").write_text("variant-under-test:\n  title: x\n  titel: y\n")
    with pytest.raises(ParameterError, match="unknown key.*titel"):
        resolve_parameters(bad, [NOTEBOOK])


@pytest.mark.slow
def test_a_failing_cell_names_the_cell_keeps_the_notebook_and_the_old_report(tmp_path):
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise ValueError('planted failure')"))
    broken = tmp_path / "99-broken.ipynb"
    nbformat.write(nb, broken)
    out = tmp_path / "out"
    out.mkdir()
    (out / "99-broken.html").write_text("previous good report", encoding="utf-8")
    with pytest.raises(RenderError) as info:
        render_notebook(broken, _params(tmp_path, RENEWAL), out)
    message = str(info.value)
    assert "99-broken.ipynb" in message and "cell 4 (counting from 1" in message
    assert "ValueError: planted failure" in message
    kept = paths.BUILD_DIR / "failed" / "variant-under-test--99-broken.ipynb"
    assert kept.exists()
    assert (out / "99-broken.html").read_text(encoding="utf-8") == "previous good report"
    assert sorted(p.name for p in out.iterdir()) == ["99-broken.html"]


@pytest.mark.slow
def test_make_report_builds_every_variant_and_its_files(rendered_checkout):
    reports = rendered_checkout / "reports"
    log = (rendered_checkout / ".make-report.log").read_text()
    assert f"Reports: {reports / 'index.html'}" in log
    variants = sorted(p.stem for p in (rendered_checkout / "params").glob("*.yaml")
                      if p.name != "variants.yaml")
    notebooks = sorted(p.stem for p in (rendered_checkout / "notebooks").glob("[0-9]*.ipynb"))
    assert len(variants) >= 3 and len(notebooks) >= 4
    index = (reports / "index.html").read_text(encoding="utf-8")
    for variant in variants:
        summary = json.loads((reports / variant / "summary.json").read_text(encoding="utf-8"))
        assert summary["variant"] == variant and set(summary["notebooks"]) == set(notebooks)
        for nb in notebooks:
            page = reports / variant / f"{nb}.html"
            assert page.exists() and f'href="{variant}/{nb}.html"' in index
            for csv_name in summary["notebooks"][nb]["tables"]:
                assert (reports / variant / csv_name).stat().st_size > 0
            # every table links its CSV, and the CSV exists
            for href in re.findall(r'href="(tables/[^"]+\.csv)"', page.read_text(encoding="utf-8")):
                assert (reports / variant / href).exists(), href


@pytest.mark.slow
def test_every_page_is_offline_and_leaks_nothing(rendered_checkout):
    pages = sorted((rendered_checkout / "reports").rglob("*.html"))
    assert len(pages) >= 13
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert offline.problems(html, extra_paths=(str(rendered_checkout), str(paths.ROOT))) == [], page
        assert "<script" not in html, page


@pytest.mark.slow
def test_renewal_summary_shows_the_vote_picture_and_nothing_later(rendered_checkout):
    summary = json.loads((rendered_checkout / "reports" / "renewal-2024-09-30" / "summary.json")
                         .read_text(encoding="utf-8"))
    snap = summary["notebooks"]["01-contributions"]["figures"]["snapshot"]
    mss = snap["missions"]["MSS"]
    by_iso = {c["iso3"]: c for c in mss["contributors"]}
    assert by_iso["KEN"]["deployed"] == 400 and by_iso["JAM"]["deployed"] == 24
    assert mss["planned_strength"]["count"] == 2500
    assert snap["as_of"] == "2024-09-30" and snap["mandate"]["resolution"] == 2751
    # nothing reported after the vote: no GSF, Ruto's 600 of 21 September (not the 11
    # October restatement), no later dates
    assert "GSF" not in snap["missions"]
    assert by_iso["KEN"]["announced"] == {"count": 600, "date": "2024-09-21"}
    text = json.dumps(summary).replace(snap["mandate"]["expires"], "")  # a known future date
    dates = re.findall(r'"(20\d\d-\d\d-\d\d)"', text)
    assert dates and max(dates) <= "2024-09-30", max(dates)
    model = summary["notebooks"]["03-shortfall-model"]["figures"]["model"]
    assert model["person_months_lost"]["instant ceiling"]["median"] > 0


@pytest.mark.slow
def test_second_make_report_does_nothing(rendered_checkout):
    pages = sorted((rendered_checkout / "reports").rglob("*"))
    stamps = {p: p.stat().st_mtime_ns for p in pages if p.is_file()}
    second = subprocess.run(["make", "report"], cwd=rendered_checkout, capture_output=True,
                            text=True, env=make_env())
    assert second.returncode == 0
    assert "executing" not in second.stderr and "Validating" not in second.stdout
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


@pytest.mark.slow
def test_touching_a_parameter_file_rerenders_that_variant_only(rendered_checkout):
    params = rendered_checkout / "params" / "renewal-2024-09-30.yaml"
    params.touch()
    third = subprocess.run(["make", "report"], cwd=rendered_checkout, capture_output=True,
                           text=True, env=make_env())
    assert third.returncode == 0, third.stderr[-2000:]
    executed = re.findall(r"^\[([^\]]+)\] \S+: executing", third.stderr, re.M)
    assert executed and set(executed) == {params.stem}


def test_make_alone_prints_the_targets():
    result = subprocess.run(["make"], cwd=paths.ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    for target in ("report", "test", "lab", "clean", "validate", "lock"):
        assert re.search(rf"make {target}\s+\S", result.stdout), target


def test_unknown_scenario_is_an_error(tmp_path):
    bad = _params(tmp_path, RENEWAL + "scenario: no-such-scenario\n")
    notebooks = sorted(paths.NOTEBOOKS_DIR.glob("[0-9]*.ipynb"))
    with pytest.raises(ParameterError, match="scenario.*expected auto or one of.*mss-observed"):
        resolve_parameters(bad, notebooks)


@pytest.mark.slow
def test_every_notebook_runs_top_to_bottom_with_its_defaults():
    """What JupyterLab's Run All does: no injected parameters, run from notebooks/."""
    import nbformat
    from nbclient import NotebookClient

    for nb_path in sorted(paths.NOTEBOOKS_DIR.glob("[0-9]*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        NotebookClient(nb, kernel_name="haiti-mss", timeout=600,
                       resources={"metadata": {"path": str(paths.NOTEBOOKS_DIR)}}).execute()
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert errors == [], nb_path.name
        assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), nb_path.name


@pytest.mark.slow
def test_papermill_reads_a_variant_file_as_it_is(tmp_path):
    """`papermill NB OUT -f params/<variant>.yaml -k haiti-mss`, as a user types it: no
    unknown-parameter warning, and the picture of the file's date."""
    import subprocess
    import sys

    out = tmp_path / "out.ipynb"
    result = subprocess.run(
        [sys.executable, "-m", "papermill", str(paths.NOTEBOOKS_DIR / "01-contributions.ipynb"),
         str(out), "-f", str(paths.ROOT / "params" / "renewal-2024-09-30.yaml"),
         "-k", "haiti-mss"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "unknown parameter" not in result.stderr.lower()
    text = out.read_text(encoding="utf-8")
    assert "30 September 2024" in text and "resolution 2751" in text


@pytest.mark.slow
def test_every_summary_matches_its_published_schema(rendered_checkout):
    """Each variant's summary.json validates against the JSON Schema shipped in the package
    and published beside the reports (reports/data/summary.schema.json)."""
    import json

    import jsonschema

    reports = rendered_checkout / "reports"
    schema = json.loads((reports / "data" / "summary.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    summaries = sorted(reports.glob("*/summary.json"))
    assert len(summaries) == 3
    for path in summaries:
        jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema)
