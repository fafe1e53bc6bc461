"""Load the validated tables as typed data frames, each fact joined to when and by whom it was
reported."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from . import paths, validation
from .errors import ParameterError
from .timeline import as_timestamp, rank_directness

# Higher ranks win a conflict between reports of the same quantity (see haiti_mss.timeline).
# Until a source names its originator, the kind of the page stands in for it.
SOURCE_KIND_RANK = {
    "un": 7, "un_document": 7,
    "government": 6, "mission": 6,
    "wire_service": 5,
    "newspaper": 4,
    "research": 3,
    "other": 2,
    "aggregator": 1,
}
FACT_TABLES = ("personnel", "money", "requirements", "context", "in_kind")
# Money in these states is a stock: the amount so far, on the date it describes.
STOCK_STATUSES = ("received", "spent", "frozen", "withdrawn", "paid_out")


@dataclass(frozen=True)
class Dataset:
    """All tables of ``data/``; fact tables carry ``reported_date`` (when the fact was known),
    ``source_rank``, ``directness_rank`` and ``originator`` (for the conflict rule),
    ``group_id`` (the first report of the quantity that the row reports) and ``stock``.

    ``as_of`` is None for the whole dataset; :meth:`known_on` returns the view of what was
    known on a date, with every table cut by one rule."""

    sources: pd.DataFrame
    personnel: pd.DataFrame
    money: pd.DataFrame
    requirements: pd.DataFrame
    mandates: pd.DataFrame
    context: pd.DataFrame
    fx_rates: pd.DataFrame
    version: str
    in_kind: pd.DataFrame | None = None
    # Other missions' history (2003-2017): known long before either mission, not cut by date.
    reference_missions: pd.DataFrame | None = None
    reference_points: pd.DataFrame | None = None
    reference_pledges: pd.DataFrame | None = None
    model_parameters: pd.DataFrame | None = None
    gaps: pd.DataFrame | None = None
    as_of: pd.Timestamp | None = None
    newest: pd.Timestamp | None = None  # the whole dataset's data date, kept by a view

    def facts(self, name: str) -> pd.DataFrame:
        """A fact table by name."""
        return getattr(self, name)

    @property
    def data_date(self) -> pd.Timestamp:
        """The date of the newest fact (what ``latest`` means): the latest date any fact
        describes, or any mandate was adopted."""
        dates = [self.facts(n)["refers_to_date"].max() for n in FACT_TABLES]
        dates.append(self.mandates["adopted_date"].max())
        dates = [d for d in dates if pd.notna(d)]
        if not dates:
            raise ParameterError("the data holds no dated fact, so 'latest' has no date")
        return max(dates)

    @property
    def first_date(self) -> pd.Timestamp | None:
        """The earliest date a fact becomes known (an as-of date before it has no data)."""
        dates = [self.facts(n)["reported_date"].min() for n in FACT_TABLES]
        dates = [d for d in dates if pd.notna(d)]
        return min(dates) if dates else None

    def resolve_as_of(self, as_of) -> pd.Timestamp:
        """``latest`` is the data date; anything else is a date, checked against the data."""
        if isinstance(as_of, str) and as_of == "latest":
            return self.data_date
        try:
            when = as_timestamp(as_of)
        except (TypeError, ValueError):
            raise ParameterError(f"as_of = {as_of!r}: expected a date as YYYY-MM-DD or "
                                 f"'latest'") from None
        first = self.first_date
        if first is not None and when < first:
            raise ParameterError(
                f"as_of = {when.date()} is before the first fact in the data (known from "
                f"{first.date()}): nothing was known yet")
        return when

    def known_on(self, as_of) -> Dataset:
        """What a reader could have known on ``as_of``, every table cut by one rule: a row
        counts once its source was published (undated pages: once we read them) and only if
        it describes ``as_of`` or earlier. Mandates count from their adoption, exchange rates
        from their date, known gaps from the date they apply from (and until filled), and a
        model parameter only through a source published by then (else its assumption row)."""
        cut = as_timestamp(as_of)
        sources = self.sources[self.sources["reported_date"] <= cut]
        facts = {}
        for name in FACT_TABLES:
            frame = self.facts(name)
            when = frame["refers_to_date"]
            facts[name] = frame[(frame["reported_date"] <= cut) & (when.isna() | (when <= cut))]
        mandates = self.mandates[(self.mandates["reported_date"] <= cut)
                                 & (self.mandates["adopted_date"] <= cut)]
        # An official rate is public on its own date, whichever page we read it in later.
        fx = self.fx_rates[self.fx_rates["date"] <= cut]
        params = self.model_parameters
        if params is not None:
            known = params[params["reported_date"].isna() | (params["reported_date"] <= cut)]
            # Per parameter: the newest source known by then, else the assumption row.
            known = known.assign(_when=known["reported_date"].fillna(pd.Timestamp("1900-01-01")))
            params = (known.sort_values(["name", "_when"], kind="mergesort")
                      .groupby("name", sort=False).tail(1).drop(columns="_when")
                      .sort_values("name").reset_index(drop=True))
        gaps = self.gaps
        if gaps is not None:
            gaps = gaps[(gaps["applies_from"] <= cut)
                        & (gaps["resolved_date"].isna() | (gaps["resolved_date"] > cut))]
        return replace(self, sources=sources, mandates=mandates, fx_rates=fx,
                       model_parameters=params, gaps=gaps, as_of=cut,
                       newest=self.newest if self.as_of is not None else self.data_date, **facts)


def method_version() -> str:
    """A short content hash of the code that turns the data into figures (the package's
    Python, the report notebooks, the model scenarios): with the data version, it names the
    exact computation, so a printed model figure can be reproduced (the random seeds are
    fixed; a changed method, even on the same data, changes its draws)."""
    digest = hashlib.sha256()
    files = (sorted(paths.PACKAGE_DIR.rglob("*.py")) + sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))
             + sorted(paths.SCENARIOS_DIR.glob("*.yaml")))
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(paths.ROOT).as_posix().encode()
                          if path.is_relative_to(paths.ROOT) else path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def data_version(data_dir: Path | None = None) -> str:
    """A short content hash of every file in ``data/``: names a data release in reports."""
    data_dir = Path(data_dir or paths.data_dir())
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.csv")) + [paths.schema_path(data_dir),
                                                  data_dir / "README.md"]:
        if path.is_file():
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


def group_ids(frame: pd.DataFrame) -> pd.Series:
    """Follow each restatement chain to its first row, in time linear in the table (each
    row's root is remembered once found). Validation has already refused loops."""
    parent = {f: r for f, r in zip(frame["fact_id"], frame["restates_id"], strict=True)
              if isinstance(r, str)}
    root: dict[str, str] = {}

    def find(fact_id: str) -> str:
        chain = []
        while fact_id in parent and fact_id not in root:
            chain.append(fact_id)
            fact_id = parent[fact_id]
            if len(chain) > len(parent):  # a loop: validation reports it
                break
        top = root.get(fact_id, fact_id)
        for f in chain:
            root[f] = top
        return top

    return frame["fact_id"].map(find)


def _is_stock(name: str, frame: pd.DataFrame) -> pd.Series:
    if name == "personnel":
        return (frame["event"] == "deployed") | (
            (frame["event"] == "pledged") & frame["contributor_iso3"].isna())
    if name == "money":
        return frame["status"].isin(STOCK_STATUSES) | (frame["scope"] != "flow")
    if name == "context":
        return pd.Series(True, index=frame.index)
    return pd.Series(False, index=frame.index)


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
        raw = validation.read_table(data_dir, resource)
        tables[resource["name"]] = _typed(raw, resource)
    sources = tables["sources"]
    sources["reported_date"] = sources["date_published"].fillna(sources["date_accessed"])
    if "originator_kind" not in sources:  # until every source names its originator
        sources["originator_kind"] = sources["kind"]
        sources["originator"] = sources["publisher"]
        sources["page_kind"] = sources["kind"].map(
            lambda k: "aggregator" if k == "aggregator" else "original")
    sources["source_rank"] = sources["originator_kind"].map(SOURCE_KIND_RANK).fillna(1).astype(int)
    sources["directness_rank"] = rank_directness(sources["page_kind"])
    by_source = sources.set_index("source_id")
    for name in FACT_TABLES:
        frame = tables[name]
        frame["reported_date"] = frame["source_id"].map(by_source["reported_date"])
        frame["source_kind"] = frame["source_id"].map(by_source["originator_kind"])
        for column in ("source_rank", "directness_rank", "originator"):
            frame[column] = frame["source_id"].map(by_source[column])
        if "refers_to_date" not in frame:  # an estimate describes the day it was published
            frame["refers_to_date"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        for column in ("qualifier", "caveat"):
            if column not in frame:
                frame[column] = pd.Series(pd.NA, index=frame.index, dtype="object")
        # A number whose source gives no date describes the day its source was published; if
        # the page is undated too, it cannot be placed in time and no dated figure uses it.
        frame["refers_to_date_stated"] = frame["refers_to_date"].notna()
        frame["refers_to_date"] = frame["refers_to_date"].fillna(
            frame["source_id"].map(by_source["date_published"]))
        frame["group_id"] = group_ids(frame)
        frame["disputed"] = frame["dispute_note"].notna()
        frame["stock"] = _is_stock(name, frame)
    fx = tables["fx_rates"]
    fx["usd_per_unit"] = fx["rate"].where(fx["quote"] == "usd_per_unit", 1.0 / fx["rate"])
    fx["reported_date"] = fx["source_id"].map(by_source["reported_date"])
    mandates = tables["mandates"]
    mandates["reported_date"] = mandates["source_id"].map(by_source["reported_date"])
    params = tables.get("model_parameters")
    if params is not None:
        params["reported_date"] = params["source_id"].map(by_source["reported_date"])
    return Dataset(**tables, version=version)


def sources_table(view: Dataset) -> pd.DataFrame:
    """The sources a view's facts, mandates, rates and parameters cite, with how many facts
    each carries, newest first (a source no known row cites is not listed)."""
    cited = pd.concat([view.facts(n)["source_id"] for n in FACT_TABLES]
                      + [view.mandates["source_id"], view.fx_rates["source_id"]]
                      + ([view.model_parameters["source_id"].dropna()]
                         if view.model_parameters is not None else []))
    counts = cited.value_counts()
    out = view.sources[view.sources["source_id"].isin(counts.index)]
    out = out.assign(facts=out["source_id"].map(counts).astype(int))
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


def coverage_counts(view: Dataset) -> dict:
    """How much a view holds: rows, sources, contributors, donors, the dates the facts
    describe, disputed rows and undated sources."""
    frames = {n: view.facts(n) for n in FACT_TABLES}
    cited = sources_table(view)
    dates = pd.concat([f["refers_to_date"] for f in frames.values()]).dropna()
    return {
        "fact_rows": sum(len(f) for f in frames.values()) + len(view.mandates),
        "rows_by_table": {**{n: len(f) for n, f in frames.items()},
                          "mandates": len(view.mandates), "fx_rates": len(view.fx_rates)},
        "sources_cited": len(cited),
        "contributors": sorted(frames["personnel"]["contributor_iso3"].dropna().unique().tolist()),
        # A contributor's own refunded spending on its contingent is not a donation.
        "donors": sorted(frames["money"].loc[frames["money"]["caveat"].fillna("")
                                             != "own_outlay", "donor"].dropna().unique()
                         .tolist()),
        "first_date": dates.min().date().isoformat() if len(dates) else None,
        "last_date": dates.max().date().isoformat() if len(dates) else None,
        "undated_sources": int(cited["date_published"].isna().sum()),
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


def gaps_markdown(data_dir: Path | None = None) -> str:
    """The known-gaps table as Markdown bullets, for data/README.md."""
    data_dir = Path(data_dir or paths.data_dir())
    schema = validation.load_schema(data_dir)
    resource = next(r for r in schema["resources"] if r["name"] == "gaps")
    gaps = _typed(validation.read_table(data_dir, resource), resource)
    lines = []
    for g in gaps.sort_values(["applies_from", "gap_id"]).itertuples():
        status = (f"filled {g.resolved_date.date()}" if pd.notna(g.resolved_date)
                  else "open")
        lines.append(f"- {g.text} ({g.gap_id}, applies from {g.applies_from.date()}, noted "
                     f"{g.noted_date.date()}, {status})")
    return "\n".join(lines) + "\n"


GENERATED = {"dictionary": dictionary_markdown, "gaps": gaps_markdown}


def readme_with_generated_sections(data_dir: Path | None = None) -> str:
    """data/README.md with its generated sections (between ``<!-- name:start -->`` and
    ``<!-- name:end -->``) rebuilt from the schema and the gaps table."""
    data_dir = Path(data_dir or paths.data_dir())
    text = (data_dir / "README.md").read_text(encoding="utf-8")
    for name, build in GENERATED.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start not in text or end not in text:
            raise ValueError(f"data/README.md: missing the {start} ... {end} markers")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{build(data_dir).rstrip()}\n{end}{tail}"
    return text
