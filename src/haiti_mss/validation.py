"""Check every table in ``data/`` before anything reads it, and report all problems at once.

Three layers, each reporting file, row, column, value and what was expected:
1. files: present, UTF-8, header exactly as the schema says;
2. cells: types, enums, patterns, ranges, unique ids and references (Frictionless Table Schema,
   from ``data/datapackage.json``, the one machine-readable schema of every table);
3. rules a Table Schema cannot state: real ISO codes, dates in range and not after the source
   reported them, currencies with an exchange rate, restatement links that make sense.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from pathlib import Path

import pandas as pd

from . import entities, paths
from .errors import DataProblem, DataValidationError

EARLIEST_DATE = dt.date(2000, 1, 1)

# A row that restates another must describe the same quantity: these columns must agree.
# (Personnel type, and a flow's channel and status, may differ: sources type the same contingent
# differently, and a later row may record a later stage of the same money.)
RESTATEMENT_KEYS = {
    "personnel": ["mission", "contributor_iso3", "event"],
    "money": ["mission", "donor"],
    "requirements": ["mission"],
    "context": ["indicator", "geography"],
    "in_kind": ["mission", "donor"],
}
FACT_TABLES = ["personnel", "money", "requirements", "context", "in_kind"]


def load_schema(data_dir: Path) -> dict:
    """The data package descriptor, parsed (validation has checked it; see
    :func:`schema_problems`)."""
    with open(paths.schema_path(data_dir), encoding="utf-8") as fh:
        return json.load(fh)


SAFE_TABLE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.csv$")


def schema_problems(data_dir: Path) -> tuple[dict | None, list[DataProblem]]:
    """The descriptor if it can be used, and what is wrong with it: not JSON, no resources,
    or a table path that leaves data/ (an absolute path, a folder, '..')."""
    shown = "data/datapackage.json"
    try:
        schema = load_schema(data_dir)
    except (OSError, UnicodeDecodeError) as exc:
        return None, [DataProblem(shown, None, None, str(exc), "a readable UTF-8 file")]
    except json.JSONDecodeError as exc:
        return None, [DataProblem(shown, None, None, f"line {exc.lineno}, column {exc.colno}: "
                                  f"{exc.msg}", "valid JSON")]
    resources = schema.get("resources") if isinstance(schema, dict) else None
    if not isinstance(resources, list) or not resources:
        return None, [DataProblem(shown, None, "resources", None, "a list of table resources")]
    problems = []
    for i, res in enumerate(resources):
        path = res.get("path") if isinstance(res, dict) else None
        if not isinstance(path, str) or not SAFE_TABLE_PATH.match(path):
            problems.append(DataProblem(shown, None, f"resources[{i}].path",
                                        None if path is None else str(path),
                                        "the name of a CSV file inside data/ (no folders, no "
                                        "'..', no absolute path)"))
    return (None if problems else schema), problems


def _display(path: Path, data_dir: Path) -> str:
    return f"data/{path.relative_to(data_dir).as_posix()}"


def _check_files(data_dir: Path, schema: dict) -> tuple[list[DataProblem], set[str]]:
    """Layer 1. Returns the problems and the names of the tables that are readable."""
    problems, readable = [], set()
    for resource in schema["resources"]:
        path = data_dir / resource["path"]
        shown = _display(path, data_dir)
        expected_header = [f["name"] for f in resource["schema"]["fields"]]
        if not path.is_file():
            problems.append(DataProblem(shown, None, None, None, "the file to exist"))
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            line = path.read_bytes()[: exc.start].count(b"\n") + 1
            problems.append(
                DataProblem(shown, line - 1 if line > 1 else None, None,
                            f"byte 0x{path.read_bytes()[exc.start]:02x} on line {line}",
                            "UTF-8 text")
            )
            continue
        try:
            records = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            problems.append(DataProblem(shown, None, None, str(exc), "well-formed CSV"))
            continue
        header = records[0] if records else []
        if header != expected_header:
            problems.append(
                DataProblem(shown, None, None, ",".join(header),
                            "the header " + ",".join(expected_header))
            )
            continue
        ragged = [(i, len(r)) for i, r in enumerate(records[1:], start=1)
                  if len(r) != len(header) and r]
        for row, width in ragged:
            problems.append(DataProblem(
                shown, row, None, f"{width} cells",
                f"{len(header)} cells (quote any cell that contains a comma)"))
        if not ragged:
            readable.add(resource["name"])
    return problems, readable


def _check_cells(data_dir: Path, schema: dict, readable: set[str]) -> list[DataProblem]:
    """Layer 2: Frictionless validates types, constraints, keys and foreign keys."""
    from frictionless import Package  # imported here: 0.2 s, only needed to validate

    problems: list[DataProblem] = []
    descriptor = dict(schema)
    descriptor["resources"] = [r for r in schema["resources"] if r["name"] in readable]
    if not descriptor["resources"]:
        return problems
    # Foreign keys into an unreadable table cannot be checked; drop them rather than misreport.
    for res in descriptor["resources"]:
        fks = res["schema"].get("foreignKeys", [])
        res["schema"] = dict(res["schema"])
        res["schema"]["foreignKeys"] = [
            fk for fk in fks if fk["reference"]["resource"] in ("", *readable)
        ]
    package = Package(descriptor, basepath=str(data_dir))
    report = package.validate(limit_errors=100_000)
    by_name = {r["name"]: r for r in descriptor["resources"]}
    for task in report.tasks:
        shown = _display(data_dir / by_name[task.name]["path"], data_dir)
        for err in task.errors:
            row = getattr(err, "row_number", None)
            data_row = row - 1 if row else None
            if err.type == "foreign-key":
                for name, value in zip(err.field_names, err.field_cells, strict=False):
                    target = err.reference_name or task.name
                    problems.append(DataProblem(
                        shown, data_row, name, value,
                        f"an existing {'/'.join(err.reference_field_names)} in {target}",
                    ))
            elif err.type == "primary-key":
                keys = by_name[task.name]["schema"].get("primaryKey", [])
                if len(keys) > 1:  # a one-column key is reported as a unique-error on it
                    problems.append(DataProblem(shown, data_row, "+".join(keys), None,
                                                "a unique combination of " + ", ".join(keys)))
            else:
                field = getattr(err, "field_name", None)
                cell = getattr(err, "cell", None)
                problems.append(DataProblem(shown, data_row, field, cell, _explain(err.note)))
    return problems


def _explain(note: str) -> str:
    """Turn Frictionless's terse notes into what a contributor should write instead."""
    replacements = [
        (r'type is "date/default"', "a date as YYYY-MM-DD"),
        (r'type is "integer/default"', "a whole number"),
        (r'type is "number/default"', "a number (no thousands separators)"),
        (r'constraint "required" is "True"', "a value (the cell is required)"),
        (r'constraint "minimum" is "(.+)"', r"a value >= \1"),
        (r'constraint "maximum" is "(.+)"', r"a value <= \1"),
        (r'constraint "enum" is "\[(.+)\]"', r"one of \1"),
        (r'constraint "pattern" is "(.+)"', r"text matching \1"),
        (r'constraint "minLength" is "(.+)"', r"at least \1 characters"),
        (r"the same as in the row at position (\d+)", r"a unique value (line \1 has it too)"),
    ]
    for pattern, repl in replacements:
        if re.search(pattern, note):
            return re.sub(pattern, repl, note)
    return note


def read_table(data_dir: Path, resource: dict) -> pd.DataFrame:
    return pd.read_csv(data_dir / resource["path"], dtype=str, keep_default_na=False,
                       na_values=[""], encoding="utf-8")


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, format="%Y-%m-%d", errors="coerce")


# Text that may span lines; every other cell is one line.
MULTILINE = {"notes", "locator", "derivation", "description", "text", "title", "ceiling_note",
             "dispute_note", "basis", "date_note"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
NEWLINE = re.compile(r"[\n\r]")
PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?$")
REQUIRED_ROWS = ("sources", "personnel", "money", "mandates", "fx_rates", "model_parameters")
# The most a single row may plausibly hold: beyond this a number is a typo, not a fact.
MAX_PEOPLE = 100_000
MAX_USD = 100e9
MAX_ITEMS = 100_000


def _check_text_and_numbers(name: str, frame: pd.DataFrame, resource: dict, add) -> None:
    """Every cell: no control or direction-override characters (no line break outside free
    text); every number written plainly in ASCII digits, finite, without underscores."""
    numeric = {f["name"] for f in resource["schema"]["fields"]
               if f["type"] in ("number", "integer")}
    for column in frame.columns:
        values = frame[column].dropna()
        for idx, value in values.items():
            text = str(value)
            if CONTROL.search(text):
                add(name, idx, column, text.encode("unicode_escape").decode()[:60],
                    "text without control or direction-override characters")
            elif column not in MULTILINE and NEWLINE.search(text):
                add(name, idx, column, text.encode("unicode_escape").decode()[:60],
                    "one line (a line break inside this cell)")
            if column in numeric and (not PLAIN_NUMBER.match(text.strip())
                                      or not math.isfinite(float(text))):
                add(name, idx, column, text,
                    "a plain finite number in ASCII digits (no underscores, no INF or NaN)")


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column].where(frame[column].map(
        lambda v: isinstance(v, str) and bool(PLAIN_NUMBER.match(v.strip())))), errors="coerce")


def _check_rules(data_dir: Path, schema: dict, readable: set[str],
                 today: dt.date) -> list[DataProblem]:
    """Layer 3: rules across cells and tables."""
    problems: list[DataProblem] = []
    res = {r["name"]: r for r in schema["resources"]}
    tables = {name: read_table(data_dir, res[name]) for name in readable}
    shown = {name: f"data/{res[name]['path']}" for name in res}
    lo, hi = pd.Timestamp(EARLIEST_DATE), pd.Timestamp(today)

    def add(table, idx, column, value, expected):
        problems.append(DataProblem(shown[table], None if idx is None else int(idx) + 1,
                                    column, value, expected))

    for name, frame in tables.items():
        _check_text_and_numbers(name, frame, res[name], add)
        if name in REQUIRED_ROWS and frame.empty:
            add(name, None, None, None, "at least one row (the table has only its header)")
        if "locator" in frame:
            blank = frame["locator"].fillna("").str.strip().str.len() < 3
            for idx in frame.index[blank & frame["locator"].notna()]:
                add(name, idx, "locator", frame.at[idx, "locator"],
                    "a locator of at least 3 characters that are not spaces")

    rates = {}
    if "fx_rates" in tables:
        fx = tables["fx_rates"]
        rate = _number(fx, "rate")
        for idx in fx.index[rate.notna() & (rate <= 0)]:
            add("fx_rates", idx, "rate", fx.at[idx, "rate"], "a rate above zero")
        for idx in fx.index[rate.notna() & (rate > 1e6)]:
            add("fx_rates", idx, "rate", fx.at[idx, "rate"], "a rate below 1,000,000")
        per_usd = rate.where(fx["quote"] == "units_per_usd", 1 / rate.where(rate > 0))
        rates = per_usd.groupby(fx["currency"]).max().to_dict()
    for name, column, limit, what in (("personnel", "count", MAX_PEOPLE, "people"),
                                      ("in_kind", "quantity", MAX_ITEMS, "items"),
                                      ("context", "value", 1e9, "")):
        if name in tables:
            values = _number(tables[name], column)
            for idx in tables[name].index[values.notna() & (values > limit)]:
                add(name, idx, column, tables[name].at[idx, column],
                    f"at most {limit:,.0f} {what}".rstrip() + " in one row (a typo?)")
    for name in ("money", "requirements"):
        if name in tables:
            frame = tables[name]
            amount = _number(frame, "amount")
            per = frame["currency"].map(lambda c: 1.0 if c == "USD" else rates.get(c, 1.0))
            usd = amount / per.astype(float)
            for idx in frame.index[usd.notna() & (usd > MAX_USD)]:
                add(name, idx, "amount", frame.at[idx, "amount"],
                    "at most 100 billion US dollars in one row (a typo?)")

    date_columns = {
        "sources": ["date_published", "date_accessed"],
        "personnel": ["refers_to_date"], "money": ["refers_to_date"],
        "context": ["refers_to_date", "period_start", "period_end"], "fx_rates": ["date"],
        "in_kind": ["refers_to_date"], "gaps": ["applies_from", "noted_date", "resolved_date"],
        "mandates": ["adopted_date"], "requirements": [],
    }
    for name, frame in tables.items():
        for column in date_columns.get(name, []):
            parsed = _dates(frame[column])
            bad = parsed.notna() & ((parsed < lo) | (parsed > hi))
            for idx in frame.index[bad]:
                add(name, idx, column, frame.at[idx, column],
                    f"a date between {EARLIEST_DATE} and today ({today})")

    published = {}
    if "sources" in tables:
        src = tables["sources"]
        pub, acc = _dates(src["date_published"]), _dates(src["date_accessed"])
        for idx in src.index[pub.notna() & acc.notna() & (acc < pub)]:
            add("sources", idx, "date_accessed", src.at[idx, "date_accessed"],
                f"a date on or after date_published ({src.at[idx, 'date_published']})")
        published = dict(zip(src["source_id"], pub.fillna(acc), strict=True))
        from .sourcing import problems as source_problems

        for idx, row in src.iterrows():
            cells = {k: (None if pd.isna(v) else v) for k, v in row.items()}
            for column, value, expected in source_problems(cells):
                add("sources", idx, column, value, expected)

    for name in FACT_TABLES:
        if name not in tables:
            continue
        frame = tables[name]
        if "refers_to_date" in frame and published:
            refers = _dates(frame["refers_to_date"])
            reported = frame["source_id"].map(published)
            late = refers.notna() & reported.notna() & (refers > reported)
            for idx in frame.index[late]:
                add(name, idx, "refers_to_date", frame.at[idx, "refers_to_date"],
                    f"a date on or before the date its source reported it "
                    f"({reported[idx].date()}): a source cannot report what had not happened")
        _check_restatements(name, frame, add)

    if "personnel" in tables:
        frame = tables["personnel"]
        for idx, code in frame["contributor_iso3"].dropna().items():
            if not entities.is_country(code):
                add("personnel", idx, "contributor_iso3", code, "an ISO 3166-1 alpha-3 country code")

    if "money" in tables:
        frame = tables["money"]
        for idx, code in frame["donor"].dropna().items():
            if not (entities.is_country(code) or code == "EUU"):
                add("money", idx, "donor", code, "an ISO 3166-1 alpha-3 country code or EUU")
        all_donors = frame["scope"] == "all_donors"
        for idx in frame.index[all_donors & frame["donor"].notna()]:
            add("money", idx, "donor", frame.at[idx, "donor"],
                "an empty donor on a row whose scope is all_donors")
        for idx in frame.index[~all_donors & frame["scope"].notna() & frame["donor"].isna()]:
            add("money", idx, "scope", frame.at[idx, "scope"],
                "scope all_donors on a row with no donor (a total across donors)")
        for idx, code in frame["recipient"].dropna().items():
            if not (entities.is_country(code) or code in entities.ORGANIZATION_CODES):
                add("money", idx, "recipient", code,
                    "UN_TF, MSS, GSF or an ISO 3166-1 alpha-3 country code")

    rated = set(tables["fx_rates"]["currency"]) if "fx_rates" in tables else None
    for name in ("money", "requirements", "fx_rates"):
        if name not in tables:
            continue
        for idx, code in tables[name]["currency"].dropna().items():
            if not entities.is_currency(code):
                add(name, idx, "currency", code, "an ISO 4217 currency code")
            elif name != "fx_rates" and rated is not None and code != "USD" and code not in rated:
                add(name, idx, "currency", code,
                    "a currency with at least one rate in data/fx_rates.csv")

    if "requirements" in tables:
        frame = tables["requirements"]
        start, end = _dates(frame["period_start"]), _dates(frame["period_end"])
        for idx in frame.index[start.notna() & end.notna() & (end <= start)]:
            add("requirements", idx, "period_end", frame.at[idx, "period_end"],
                f"a date after period_start ({frame.at[idx, 'period_start']})")

    if "model_parameters" in tables:
        frame = tables["model_parameters"]
        nums = frame[["low", "central", "high"]].apply(pd.to_numeric, errors="coerce")
        for idx in frame.index[(nums["low"] > nums["central"]) | (nums["central"] > nums["high"])]:
            add("model_parameters", idx, "central", frame.at[idx, "central"],
                f"low <= central <= high (low {frame.at[idx, 'low']}, high {frame.at[idx, 'high']})")
        for idx in frame.index[(frame["basis"] == "source") & frame["source_id"].isna()]:
            add("model_parameters", idx, "source_id", None, "a source_id when basis is source")

    if "mandates" in tables:
        frame = tables["mandates"]
        adopted, expires = _dates(frame["adopted_date"]), _dates(frame["expires_date"])
        for idx in frame.index[adopted.notna() & expires.notna() & (expires <= adopted)]:
            add("mandates", idx, "expires_date", frame.at[idx, "expires_date"],
                f"a date after adopted_date ({frame.at[idx, 'adopted_date']})")
        votes = frame[["votes_for", "votes_against", "abstentions"]].apply(
            pd.to_numeric, errors="coerce").sum(axis=1)
        for idx in frame.index[votes > 15]:
            add("mandates", idx, "votes_for", str(int(votes[idx])),
                "votes for, against and abstaining that add up to at most 15")
    return problems


def _check_restatements(name: str, frame: pd.DataFrame, add) -> None:
    """A restatement points at another row of the same quantity, and chains end: checked in
    time linear in the table (each row's chain is walked once)."""
    by_id = frame.drop_duplicates("fact_id").set_index("fact_id", drop=False)
    parent = {f: r for f, r in zip(by_id["fact_id"], by_id["restates_id"], strict=True)
              if isinstance(r, str)}
    keys = RESTATEMENT_KEYS[name]
    rows = frame[frame["restates_id"].notna()]
    for idx, row in rows.iterrows():
        target = row["restates_id"]
        if target == row["fact_id"]:
            add(name, idx, "restates_id", target, "the id of another row, not the row itself")
            continue
        if target not in by_id.index:
            continue  # a dangling reference is reported by the foreign-key check
        other = by_id.loc[target]
        for key in keys:
            mine, theirs = row[key], other[key]
            if not (mine == theirs or (pd.isna(mine) and pd.isna(theirs))):
                add(name, idx, key, "" if pd.isna(mine) else mine,
                    f"the same {key} as the row it restates ({target}: "
                    f"{'' if pd.isna(theirs) else theirs})")
    # Loops: colour each row once (0 unseen, 1 on the current walk, 2 known to end).
    state: dict[str, int] = {}
    looping: set[str] = set()
    for start in parent:
        walk, node = [], start
        while node in parent and state.get(node, 0) == 0 and node != parent[node]:
            state[node] = 1
            walk.append(node)
            node = parent[node]
        if state.get(node) == 1 or node in looping:
            looping.update(walk)
        for w in walk:
            state[w] = 2
    index_of = {f: i for i, f in zip(frame.index, frame["fact_id"], strict=True)}
    for fact in sorted(looping):
        add(name, index_of[fact], "restates_id", parent[fact],
            "a chain of restatements that ends (found a loop)")


def find_problems(data_dir: Path | None = None, today: dt.date | None = None) -> list[DataProblem]:
    """Every problem in the data, in file and row order; empty when the data is valid."""
    data_dir = Path(data_dir or paths.data_dir())
    today = today or dt.date.today()
    schema_file = paths.schema_path(data_dir)
    if not schema_file.is_file():
        return [DataProblem(_display(schema_file, data_dir) if schema_file.is_relative_to(data_dir)
                            else str(schema_file.name), None, None, None, "the schema file to exist")]
    schema, problems = schema_problems(data_dir)
    if schema is None:
        return problems
    problems, readable = _check_files(data_dir, schema)
    problems += _check_cells(data_dir, schema, readable)
    problems += _check_rules(data_dir, schema, readable, today)
    return sorted(set(problems), key=lambda p: (p.file, p.row or 0, p.column or "", p.expected))


def validate(data_dir: Path | None = None, today: dt.date | None = None) -> None:
    """Raise :class:`DataValidationError` listing every problem, or return quietly."""
    problems = find_problems(data_dir, today)
    if problems:
        raise DataValidationError(problems)


def _valid_marker(data_dir: Path, version: str) -> Path:
    return paths.BUILD_DIR / "validated" / f"{version}.ok"


def is_known_valid(data_dir: Path, version: str) -> bool:
    """True when data with exactly this content hash passed validation before (on this
    checkout, today): the rules depend on today's date, so a marker holds for one day."""
    marker = _valid_marker(data_dir, version)
    return marker.exists() and marker.read_text(encoding="utf-8").strip() == dt.date.today().isoformat()


def remember_valid(data_dir: Path, version: str) -> None:
    """Record that data with this content hash is valid, so notebooks need not check again."""
    marker = _valid_marker(data_dir, version)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(dt.date.today().isoformat(), encoding="utf-8")
    except OSError:
        pass  # a read-only checkout just validates every time
