"""The validator rejects every kind of bad input with file, row, column, value and expectation,
and accepts the repository's data."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from haiti_mss import paths, validation
from haiti_mss.errors import DataValidationError


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def set_cell(table: str, row: int, column: str, value: str):
    """A mutation: data row ``row`` (1-based) of ``table`` gets ``value`` in ``column``."""
    def mutate(data: Path):
        header, rows = _rows(data / f"{table}.csv")
        rows[row - 1][column] = value
        _write(data / f"{table}.csv", header, rows)
    return mutate


def restate_itself(table: str, row: int):
    def mutate(data: Path):
        header, rows = _rows(data / f"{table}.csv")
        rows[row - 1]["restates_id"] = rows[row - 1]["fact_id"]
        _write(data / f"{table}.csv", header, rows)
    return mutate


def copy_row(table: str, row: int):
    def mutate(data: Path):
        header, rows = _rows(data / f"{table}.csv")
        rows.append(dict(rows[row - 1]))
        _write(data / f"{table}.csv", header, rows)
    return mutate


def first_row_where(data: Path, table: str, **match) -> int:
    _, rows = _rows(data / f"{table}.csv")
    for i, r in enumerate(rows, start=1):
        if all(r[k] == v for k, v in match.items()):
            return i
    raise LookupError(match)


# (name, mutation, expected file, row (None = any/none), column, words in the expectation)
CASES = [
    ("negative count", set_cell("personnel", 1, "count", "-5"),
     "data/personnel.csv", 1, "count", ">= 0"),
    ("count not a number", set_cell("personnel", 2, "count", "about 400"),
     "data/personnel.csv", 2, "count", "whole number"),
    ("count with separator", set_cell("personnel", 3, "count", "1,000"),
     "data/personnel.csv", 3, "count", "whole number"),
    ("unknown event", set_cell("personnel", 4, "event", "landed"),
     "data/personnel.csv", 4, "event", "one of"),
    ("bad personnel type", set_cell("personnel", 5, "personnel_type", "soldiers"),
     "data/personnel.csv", 5, "personnel_type", "one of"),
    ("lowercase iso3", set_cell("personnel", 6, "contributor_iso3", "ken"),
     "data/personnel.csv", 6, "contributor_iso3", "matching"),
    ("made-up iso3", set_cell("personnel", 7, "contributor_iso3", "KEX"),
     "data/personnel.csv", 7, "contributor_iso3", "ISO 3166"),
    ("impossible date", set_cell("personnel", 8, "refers_to_date", "2024-02-30"),
     "data/personnel.csv", 8, "refers_to_date", "YYYY-MM-DD"),
    ("date in wrong format", set_cell("personnel", 9, "refers_to_date", "25/06/2024"),
     "data/personnel.csv", 9, "refers_to_date", "YYYY-MM-DD"),
    ("date in the future", set_cell("personnel", 10, "refers_to_date", "2099-01-01"),
     "data/personnel.csv", 10, "refers_to_date", "between"),
    ("dangling source", set_cell("personnel", 11, "source_id", "no-such-source"),
     "data/personnel.csv", 11, "source_id", "existing source_id"),
    ("dangling restatement", set_cell("personnel", 12, "restates_id", "ken-999"),
     "data/personnel.csv", 12, "restates_id", "existing fact_id"),
    ("restates itself", restate_itself("personnel", 1),
     "data/personnel.csv", 1, "restates_id", "not the row itself"),
    ("duplicate fact id", copy_row("personnel", 1),
     "data/personnel.csv", None, "fact_id", "unique"),
    ("missing locator", set_cell("personnel", 13, "locator", ""),
     "data/personnel.csv", 13, "locator", "required"),
    ("unknown money status", set_cell("money", 1, "status", "promised"),
     "data/money.csv", 1, "status", "one of"),
    ("unknown channel", set_cell("money", 2, "channel", "cash"),
     "data/money.csv", 2, "channel", "one of"),
    ("made-up currency", set_cell("money", 3, "currency", "XYZ"),
     "data/money.csv", 3, "currency", "ISO 4217"),
    ("currency without a rate", set_cell("money", 4, "currency", "CHF"),
     "data/money.csv", 4, "currency", "fx_rates"),
    ("amount in millions text", set_cell("money", 5, "amount", "15M"),
     "data/money.csv", 5, "amount", "number"),
    ("negative amount", set_cell("money", 6, "amount", "-1"),
     "data/money.csv", 6, "amount", ">= 0"),
    ("source url not a url", set_cell("sources", 1, "url", "www.example.org/page"),
     "data/sources.csv", 1, "url", "matching"),
    ("unknown originator kind", set_cell("sources", 2, "originator_kind", "blog"),
     "data/sources.csv", 2, "originator_kind", "one of"),
    ("accessed before published", set_cell("sources", 3, "date_accessed", "2001-01-01"),
     "data/sources.csv", 3, "date_accessed", "on or after date_published"),
    ("too many votes", set_cell("mandates", 1, "votes_for", "15"),
     "data/mandates.csv", 1, "votes_for", "at most 15"),
    ("expiry before adoption", set_cell("mandates", 2, "expires_date", "2020-01-01"),
     "data/mandates.csv", 2, "expires_date", "after adopted_date"),
    ("unknown context indicator", set_cell("context", 1, "indicator", "gdp"),
     "data/context.csv", 1, "indicator", "one of"),
    ("zero exchange rate quote", set_cell("fx_rates", 1, "quote", "per_dollar"),
     "data/fx_rates.csv", 1, "quote", "one of"),
]


@pytest.mark.parametrize("name,mutate,file,row,column,words", CASES, ids=[c[0] for c in CASES])
def test_broken_input_is_rejected_with_its_location(data_copy, name, mutate, file, row, column,
                                                    words):
    before = {p.name: p.read_bytes() for p in data_copy.iterdir()}
    mutate(data_copy)
    with pytest.raises(DataValidationError) as info:
        validation.validate(data_copy)
    matches = [p for p in info.value.problems
               if p.file == file and p.column == column and (row is None or p.row == row)]
    assert matches, f"no problem at {file} row {row} column {column}; got:\n{info.value}"
    assert any(words in p.expected for p in matches), [str(p) for p in matches]
    # The validator only reads: the data folder holds exactly the mutated files afterwards.
    assert sorted(p.name for p in data_copy.iterdir()) == sorted(before)


def test_unquoted_comma_is_named_with_its_row(data_copy):
    path = data_copy / "context.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + ",an extra cell"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = validation.find_problems(data_copy)
    assert any(p.file == "data/context.csv" and p.row == 3 and "quote any cell" in p.expected
               for p in problems), problems


def test_corpus_has_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_reported_before_it_happened_is_rejected(data_copy):
    row = first_row_where(data_copy, "personnel", fact_id="ken-001")
    header, rows = _rows(data_copy / "personnel.csv")
    _, sources = _rows(data_copy / "sources.csv")
    published = next(s["date_published"] for s in sources if s["source_id"] == rows[row - 1]["source_id"])
    set_cell("personnel", row, "refers_to_date", "2026-01-01")(data_copy)
    problems = validation.find_problems(data_copy)
    assert any(p.row == row and p.column == "refers_to_date" and "before the date its source"
               in p.expected for p in problems), (published, problems)


def test_restatement_of_another_contributor_is_rejected(data_copy):
    header, rows = _rows(data_copy / "personnel.csv")
    target = next(r for r in rows if r["contributor_iso3"] == "KEN")
    row = next(i for i, r in enumerate(rows, 1) if r["contributor_iso3"] == "JAM")
    set_cell("personnel", row, "restates_id", target["fact_id"])(data_copy)
    problems = validation.find_problems(data_copy)
    assert any(p.row == row and p.column == "contributor_iso3" for p in problems)


def test_all_errors_are_reported_at_once(data_copy):
    set_cell("personnel", 1, "count", "-1")(data_copy)
    set_cell("money", 1, "status", "nope")(data_copy)
    set_cell("sources", 1, "originator_kind", "blog")(data_copy)
    problems = validation.find_problems(data_copy)
    assert {p.file for p in problems} >= {"data/personnel.csv", "data/money.csv",
                                          "data/sources.csv"}


def test_missing_file_is_named(data_copy):
    (data_copy / "context.csv").unlink()
    problems = validation.find_problems(data_copy)
    assert any(p.file == "data/context.csv" and "exist" in p.expected for p in problems)


def test_non_utf8_file_is_named_with_its_line(data_copy):
    path = data_copy / "mandates.csv"
    path.write_bytes(path.read_bytes().replace(b"Council", b"Conseil \xe9", 1))
    problems = validation.find_problems(data_copy)
    assert any(p.file == "data/mandates.csv" and "UTF-8" in p.expected for p in problems)


def test_wrong_header_is_named(data_copy):
    path = data_copy / "context.csv"
    text = path.read_text(encoding="utf-8").replace("geography", "geo", 1)
    path.write_text(text, encoding="utf-8")
    problems = validation.find_problems(data_copy)
    assert any(p.file == "data/context.csv" and "header" in p.expected for p in problems)


def test_repository_data_is_valid():
    assert validation.find_problems() == []


def test_cli_exits_non_zero_and_lists_every_problem(data_copy):
    set_cell("personnel", 1, "count", "-1")(data_copy)
    set_cell("money", 1, "currency", "XYZ")(data_copy)
    result = subprocess.run([sys.executable, "-m", "haiti_mss", "validate", "--data-dir",
                             str(data_copy)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "data/personnel.csv, row 1 (line 2), column 'count'" in result.stderr
    assert "data/money.csv, row 1 (line 2), column 'currency'" in result.stderr
    assert "Traceback" not in result.stderr


def test_data_readme_generated_sections_are_up_to_date():
    from haiti_mss.dataset import readme_with_generated_sections

    readme = (paths.ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert readme == readme_with_generated_sections(paths.ROOT / "data"), \
        "run `python -m haiti_mss readme`"


def test_data_readme_lists_every_column():
    import json

    from haiti_mss import paths

    schema = json.loads((paths.ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    readme = (paths.ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for resource in schema["resources"]:
        assert f"`{resource['path']}`" in readme
        for field in resource["schema"]["fields"]:
            assert f"| `{field['name']}` |" in readme, (resource["name"], field["name"])


def test_every_fact_points_to_a_source_with_a_url(dataset):
    urls = dataset.sources.set_index("source_id")["url"]
    for name in ("personnel", "money", "requirements", "context"):
        frame = dataset.facts(name)
        assert frame["source_id"].isin(urls.index).all(), name
        assert frame["source_id"].map(urls).str.match(r"https?://").all(), name
    assert dataset.mandates["source_id"].isin(urls.index).all()
    assert dataset.fx_rates["source_id"].isin(urls.index).all()


@pytest.mark.parametrize("cells,column,words", [
    # An AP story on a local TV site is a repost, never the original.
    ({"url": "https://ktvz.com/news/ap-story", "originator": "AP",
      "originator_kind": "wire_service", "page_kind": "original"}, "page_kind", "not original"),
    ({"url": "https://example.org/un-text", "originator": "UN News", "originator_kind": "un",
      "page_kind": "original"}, "page_kind", "not original"),
    ({"url": "http://94.130.84.54/story/1", "link_fit": "yes"}, "link_fit", "bare IP"),
    ({"url": "https://test.example.org/story", "link_fit": "yes"}, "link_fit", "test, staging"),
    ({"page_kind": "summary", "link_fit": "yes"}, "link_fit", "automated summary"),
    ({"page_kind": "forum", "link_fit": "yes"}, "link_fit", "forum"),
    ({"date_basis": ""}, "date_basis", "how the date was found"),
])
def test_a_source_description_that_breaks_the_rules_is_refused(data_copy, cells, column, words):
    header, rows = _rows(data_copy / "sources.csv")
    i = next(i for i, r in enumerate(rows) if r["date_published"] and r["page_kind"] == "original"
             and r["originator_kind"] == "newspaper")
    rows[i].update(cells)
    _write(data_copy / "sources.csv", header, rows)
    problems = validation.find_problems(data_copy)
    assert any(p.file == "data/sources.csv" and p.row == i + 1 and p.column == column
               and words in p.expected for p in problems), [str(p) for p in problems]


def test_every_source_is_described_by_the_rules(dataset):
    from haiti_mss import sourcing

    for row in dataset.sources.to_dict(orient="records"):
        cells = {k: (None if pd.isna(v) else v) for k, v in row.items()}
        cells["date_published"] = cells["date_published"] and str(cells["date_published"])
        assert sourcing.problems(cells) == [], row["source_id"]
    assert set(dataset.sources["originator_kind"]) <= {"un", "government", "mission",
                                                       "wire_service", "newspaper", "research",
                                                       "other"}


def test_the_conflict_rule_ranks_by_the_originator_not_the_host(dataset):
    src = dataset.sources.set_index("source_id")
    # Reuters reposted in full on a newspaper site ranks as a wire, above the newspaper.
    reposts = src[(src["originator_kind"] == "wire_service") & (src["page_kind"] != "original")]
    assert len(reposts) > 10
    assert (reposts["source_rank"] == 5).all()
    assert (src.loc[src["originator_kind"] == "newspaper", "source_rank"] == 4).all()


def header_only(table: str):
    def mutate(data: Path):
        header, _ = _rows(data / f"{table}.csv")
        _write(data / f"{table}.csv", header, [])
    return mutate


def loop_of_two(table: str):
    def mutate(data: Path):
        header, rows = _rows(data / f"{table}.csv")
        rows[0]["restates_id"], rows[1]["restates_id"] = rows[1]["fact_id"], rows[0]["fact_id"]
        for r in rows[:2]:
            r.update({k: rows[0][k] for k in ("mission", "contributor_iso3", "event")})
        _write(data / f"{table}.csv", header, rows)
    return mutate


def copy_row_with_a_line_break(table: str):
    def mutate(data: Path):
        header, rows = _rows(data / f"{table}.csv")
        twin = dict(rows[0])
        twin["fact_id"] = twin["fact_id"] + "\n"
        rows.append(twin)
        _write(data / f"{table}.csv", header, rows)
    return mutate


def duplicate_assumption(data: Path):
    header, rows = _rows(data / "model_parameters.csv")
    twin = next(dict(r) for r in rows if not r["source_id"])
    rows.append(twin)
    _write(data / "model_parameters.csv", header, rows)


# Inputs the red-team found passing validation and then publishing nonsense or crashing.
HOSTILE = [
    ("INF as a count", set_cell("personnel", 1, "count", "INF"), "data/personnel.csv", 1,
     "count", None),
    ("1e309 as an amount", set_cell("money", 1, "amount", "1e309"), "data/money.csv", 1,
     "amount", "plain finite number"),
    ("NaN model parameter", set_cell("model_parameters", 1, "central", "NaN"),
     "data/model_parameters.csv", 1, "central", "plain finite number"),
    ("a zero exchange rate", set_cell("fx_rates", 1, "rate", "0"), "data/fx_rates.csv", 1,
     "rate", "above zero"),
    ("a negative exchange rate", set_cell("fx_rates", 2, "rate", "-1.3"), "data/fx_rates.csv", 2,
     "rate", None),
    ("an overflowing count", set_cell("personnel", 2, "count", "5000000000000000000"),
     "data/personnel.csv", 2, "count", "at most 100,000 people"),
    ("an implausible amount", set_cell("money", 2, "amount", "200000000000"),
     "data/money.csv", 2, "amount", "100 billion"),
    ("underscores in a number", set_cell("personnel", 3, "count", "1_002"),
     "data/personnel.csv", 3, "count", None),
    ("Arabic-Indic digits", set_cell("personnel", 4, "count", "١٠٠٢"),
     "data/personnel.csv", 4, "count", None),
    ("a right-to-left override in a publisher", set_cell("sources", 1, "publisher", "AP\u202e2202"),
     "data/sources.csv", 1, "publisher", "direction-override"),
    ("a control character in a note", set_cell("personnel", 5, "notes", "a\x07b"),
     "data/personnel.csv", 5, "notes", "control"),
    ("a blank locator", set_cell("personnel", 6, "locator", "    "), "data/personnel.csv", 6,
     "locator", "not spaces"),
    ("a header-only table", header_only("personnel"), "data/personnel.csv", None, None,
     "at least one row"),
    ("a loop of restatements", loop_of_two("personnel"), "data/personnel.csv", 1,
     "restates_id", "ends"),
    ("a duplicate id hidden by a line break", copy_row_with_a_line_break("personnel"),
     "data/personnel.csv", None, "fact_id", None),
    ("two fallback rows for one parameter", duplicate_assumption, "data/model_parameters.csv",
     None, "name+source_id", "unique combination"),
]


@pytest.mark.parametrize("name,mutate,file,row,column,words", HOSTILE,
                         ids=[c[0] for c in HOSTILE])
def test_hostile_input_is_refused_with_its_location(data_copy, name, mutate, file, row, column,
                                                    words):
    mutate(data_copy)
    problems = validation.find_problems(data_copy)
    matches = [p for p in problems if p.file == file and p.column == column
               and (row is None or p.row == row)]
    assert matches, f"no problem at {file} row {row} column {column}; got {problems[:5]}"
    if words:
        assert any(words in p.expected for p in matches), [str(p) for p in matches]


@pytest.mark.parametrize("text,words", [
    ("{not json", "valid JSON"),
    ('{"resources": []}', "a list of table resources"),
])
def test_a_broken_schema_file_is_refused_without_a_traceback(data_copy, text, words):
    (data_copy / "datapackage.json").write_text(text, encoding="utf-8")
    problems = validation.find_problems(data_copy)
    assert problems and words in problems[0].expected


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.csv", "sub/dir.csv"])
def test_a_table_path_outside_data_is_refused(data_copy, path):
    import json

    schema = json.loads((data_copy / "datapackage.json").read_text(encoding="utf-8"))
    schema["resources"][0]["path"] = path
    (data_copy / "datapackage.json").write_text(json.dumps(schema), encoding="utf-8")
    problems = validation.find_problems(data_copy)
    assert any("inside data/" in p.expected and p.value == path for p in problems)
    assert not any("root:" in str(p) for p in problems)  # nothing was read from it


def test_a_chain_of_two_thousand_restatements_is_checked_in_linear_time(data_copy):
    import time

    header, rows = _rows(data_copy / "context.csv")
    base = rows[0]
    chain = []
    for i in range(2000):
        r = dict(base)
        r["fact_id"] = f"zz-{i:04d}"
        r["restates_id"] = f"zz-{i - 1:04d}" if i else base["fact_id"]
        chain.append(r)
    _write(data_copy / "context.csv", header, rows + chain)
    started = time.perf_counter()
    problems = validation.find_problems(data_copy)
    took = time.perf_counter() - started
    assert not [p for p in problems if p.column == "restates_id"]
    assert took < 10, f"{took:.1f} s"  # the whole validation; the chain walk itself is linear


def test_the_restatement_walk_is_linear():
    """The chain walk alone: 2,000 links (and 20,000) well under two seconds."""
    import time

    import pandas as pd

    from haiti_mss.validation import _check_restatements

    for n in (2000, 20000):
        frame = pd.DataFrame({"fact_id": [f"c-{i}" for i in range(n)],
                              "restates_id": [None] + [f"c-{i - 1}" for i in range(1, n)],
                              "indicator": "idp", "geography": "HTI"})
        started = time.perf_counter()
        found: list = []
        _check_restatements("context", frame, lambda *a, out=found: out.append(a))
        assert found == [] and time.perf_counter() - started < 2.0, n
