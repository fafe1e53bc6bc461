"""Load the validated tables as typed data frames, each fact joined to when and by whom it was
reported."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import paths, validation

# Higher ranks win a conflict between reports of the same quantity on the same date.
SOURCE_KIND_RANK = {
    "un_document": 7,
    "government": 6,
    "wire_service": 5,
    "newspaper": 4,
    "research": 3,
    "other": 2,
    "aggregator": 1,
}


@dataclass(frozen=True)
class Dataset:
    """All tables of ``data/``; fact tables carry ``reported_date``, ``source_kind`` and
    ``group_id`` (the first report of the quantity that the row reports)."""

    sources: pd.DataFrame
    personnel: pd.DataFrame
    money: pd.DataFrame
    requirements: pd.DataFrame
    mandates: pd.DataFrame
    context: pd.DataFrame
    fx_rates: pd.DataFrame
    version: str
    model_parameters: pd.DataFrame | None = None

    def facts(self, name: str) -> pd.DataFrame:
        """A fact table by name."""
        return getattr(self, name)


def data_version(data_dir: Path | None = None) -> str:
    """A short content hash of every file in ``data/``: names a data release in reports."""
    data_dir = Path(data_dir or paths.data_dir())
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.csv")) + [paths.schema_path(data_dir)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def reported_dates(sources: pd.DataFrame) -> pd.Series:
    """When each source's facts count as reported: its publication date, or for an undated
    page the day we read it (we cannot vouch for it earlier), indexed by source_id."""
    dates = sources["date_published"].fillna(sources["date_accessed"])
    return pd.Series(dates.to_numpy(), index=sources["source_id"])


def _typed(frame: pd.DataFrame, resource: dict) -> pd.DataFrame:
    frame = frame.copy()
    for field in resource["schema"]["fields"]:
        name, kind = field["name"], field["type"]
        if kind == "date":
            frame[name] = pd.to_datetime(frame[name], format="%Y-%m-%d")
        elif kind == "integer":
            frame[name] = pd.to_numeric(frame[name]).astype("Int64")
        elif kind == "number":
            frame[name] = pd.to_numeric(frame[name]).astype(float)
    return frame


def _group_ids(frame: pd.DataFrame) -> pd.Series:
    """Follow each restatement chain to its first row."""
    parent = dict(zip(frame["fact_id"], frame["restates_id"], strict=True))

    def root(fact_id: str) -> str:
        while isinstance(parent.get(fact_id), str):
            fact_id = parent[fact_id]
        return fact_id

    return frame["fact_id"].map(root)


def load_dataset(data_dir: Path | None = None, *, check: bool = True) -> Dataset:
    """Validate (unless ``check`` is False) and load every table.

    Raises :class:`~haiti_mss.errors.DataValidationError` listing every problem found.
    """
    data_dir = Path(data_dir or paths.data_dir())
    version = data_version(data_dir)
    if check and not validation.is_known_valid(data_dir, version):
        validation.validate(data_dir)
        validation.remember_valid(data_dir, version)
    schema = validation.load_schema(data_dir)
    tables = {}
    for resource in schema["resources"]:
        raw = validation._read(data_dir, resource)
        tables[resource["name"]] = _typed(raw, resource)
    sources = tables["sources"]
    by_source = sources.set_index("source_id")
    for name in validation.FACT_TABLES:
        frame = tables[name]
        frame["reported_date"] = frame["source_id"].map(reported_dates(sources))
        frame["source_kind"] = frame["source_id"].map(by_source["kind"])
        frame["source_rank"] = frame["source_kind"].map(SOURCE_KIND_RANK).astype(int)
        if "refers_to_date" not in frame:  # an estimate describes the day it was published
            frame["refers_to_date"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        # A number whose source gives no date describes the day its source was published; if
        # the page is undated too, it cannot be placed in time and no dated figure uses it.
        frame["refers_to_date_stated"] = frame["refers_to_date"].notna()
        published = frame["source_id"].map(sources.set_index("source_id")["date_published"])
        frame["refers_to_date"] = frame["refers_to_date"].fillna(published)
        frame["group_id"] = _group_ids(frame)
        frame["disputed"] = frame["dispute_note"].notna()
    fx = tables["fx_rates"]
    fx["usd_per_unit"] = fx["rate"].where(fx["quote"] == "usd_per_unit", 1.0 / fx["rate"])
    mandates = tables["mandates"]
    mandates["reported_date"] = mandates["source_id"].map(reported_dates(sources))
    return Dataset(**tables, version=version)


def sources_table(ds: Dataset) -> pd.DataFrame:
    """Every source with how many facts cite it, newest first."""
    cited = pd.concat([ds.facts(n)["source_id"] for n in ("personnel", "money", "requirements",
                                                           "context")]
                      + [ds.mandates["source_id"], ds.fx_rates["source_id"]]
                      + ([ds.model_parameters["source_id"]] if ds.model_parameters is not None
                         else []))
    counts = cited.value_counts()
    out = ds.sources.assign(facts=ds.sources["source_id"].map(counts).fillna(0).astype(int))
    return out.sort_values(["date_published", "source_id"], ascending=[False, True],
                           na_position="last").reset_index(drop=True)


def data_dictionary(data_dir: Path | None = None) -> pd.DataFrame:
    """One row per column of every table, from the schema in datapackage.json."""
    schema = validation.load_schema(Path(data_dir or paths.data_dir()))
    rows = []
    for resource in schema["resources"]:
        for field in resource["schema"]["fields"]:
            constraints = field.get("constraints", {})
            kind = field["type"] + (f" ({' / '.join(constraints['enum'])})" if "enum" in constraints else "")
            rows.append({"table": resource["path"], "column": field["name"], "type": kind,
                         "required": "yes" if constraints.get("required") else "",
                         "meaning": field.get("description", "")})
    return pd.DataFrame(rows)


def coverage_counts(ds: Dataset, as_of=None) -> dict:
    """How much the dataset holds (only what was reported by ``as_of``, if given): rows,
    sources, contributors, donors, the dates the facts describe."""
    from .timeline import known_by

    names = ("personnel", "money", "requirements", "context")
    frames = {n: ds.facts(n) if as_of is None else known_by(ds.facts(n), as_of) for n in names}
    mandates = ds.mandates if as_of is None else ds.mandates[ds.mandates["reported_date"] <= as_of]
    cited = set().union(*(set(f["source_id"]) for f in frames.values()), set(mandates["source_id"]))
    dates = pd.concat([f["refers_to_date"] for f in frames.values()]).dropna()
    return {
        "fact_rows": sum(len(f) for f in frames.values()) + len(mandates),
        "rows_by_table": {**{n: len(f) for n, f in frames.items()}, "mandates": len(mandates),
                          "fx_rates": len(ds.fx_rates)},
        "sources": len(ds.sources),
        "sources_cited": len(cited),
        "contributors": sorted(frames["personnel"]["contributor_iso3"].dropna().unique().tolist()),
        "donors": sorted(frames["money"]["donor"].dropna().unique().tolist()),
        "first_date": dates.min().date().isoformat() if len(dates) else None,
        "last_date": dates.max().date().isoformat() if len(dates) else None,
        "undated_sources": int(ds.sources["date_published"].isna().sum()),
        "disputed_rows": int(sum(f["disputed"].sum() for f in frames.values())),
    }


def dictionary_markdown(data_dir: Path | None = None) -> str:
    """The data dictionary as Markdown tables (pasted into data/README.md by
    ``python -m haiti_mss dictionary``; a test checks it has every column)."""
    schema = validation.load_schema(Path(data_dir or paths.data_dir()))
    parts = []
    for resource in schema["resources"]:
        parts.append(f"### `{resource['path']}`: {resource['title']}\n")
        if resource.get("description"):
            parts.append(resource["description"] + "\n")
        parts.append("| column | type | required | meaning |\n| --- | --- | --- | --- |")
        for field in resource["schema"]["fields"]:
            c = field.get("constraints", {})
            kind = field["type"] + (f" (one of: {', '.join(c['enum'])})" if "enum" in c else "")
            meaning = field.get("description", "").replace("|", "/")
            parts.append(f"| `{field['name']}` | {kind} | {'yes' if c.get('required') else ''} "
                         f"| {meaning} |")
        parts.append("")
    return "\n".join(parts)
