"""Build a tiny, valid data folder from a few rows, for tests that need a situation the real
data does not isolate (a handover, a rotation, a restatement, a payment out of a fund)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from haiti_mss import paths

REPO_DATA = paths.ROOT / "data"

SOURCE = {"url": "https://example.org/a", "publisher": "Example", "title": "A page",
          "date_basis": "page", "date_accessed": "2026-11-27", "originator": "Example",
          "originator_kind": "newspaper", "page_kind": "original", "link_fit": "yes",
          "notes": ""}
MANDATES = [
    {"resolution": "2699", "mission": "MSS", "adopted_date": "2023-10-02",
     "expires_date": "2024-10-02", "ceiling_note": "none", "source_id": "s-2023-10-02",
     "locator": "para 1"},
    {"resolution": "2751", "mission": "MSS", "adopted_date": "2024-09-30",
     "expires_date": "2025-10-02", "ceiling_note": "none", "source_id": "s-2024-09-30",
     "locator": "para 1"},
    {"resolution": "2793", "mission": "GSF", "replaces": "MSS", "adopted_date": "2025-09-30",
     "ceiling_personnel": "5550", "ceiling_uniformed": "5500", "ceiling_note": "5,550",
     "source_id": "s-2025-09-30", "locator": "para 3"},
]


def _header(name: str) -> list[str]:
    schema = json.loads((REPO_DATA / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in schema["resources"] if r["name"] == name)
    return [f["name"] for f in resource["schema"]["fields"]]


def write_table(folder: Path, name: str, rows: list[dict]) -> None:
    header = _header(name)
    with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n", restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: v for k, v in row.items() if k in header})


def build(folder: Path, *, personnel=(), money=(), sources=(), requirements=(), context=(),
          gaps=()) -> Path:
    """A data folder with the real schema, the real model parameters and exchange rates, the
    three real mandates and the rows given. Every source id a row names is created (dated by
    the yyyy-mm-dd in its id) unless given in ``sources``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_DATA / "datapackage.json", folder / "datapackage.json")
    shutil.copy(REPO_DATA / "README.md", folder / "README.md")
    fx = list(csv.DictReader(open(REPO_DATA / "fx_rates.csv", encoding="utf-8")))
    refs = {name: list(csv.DictReader(open(REPO_DATA / f"{name}.csv", encoding="utf-8")))
            for name in ("reference_missions", "reference_points", "reference_pledges")}
    params = list(csv.DictReader(open(REPO_DATA / "model_parameters.csv", encoding="utf-8")))
    real_sources = {r["source_id"]: r for r in
                    csv.DictReader(open(REPO_DATA / "sources.csv", encoding="utf-8"))}
    given = {s["source_id"]: s for s in sources}
    needed = {r["source_id"] for table in (personnel, money, requirements, context, MANDATES)
              for r in table}
    needed |= {r["source_id"] for r in fx + params + sum(refs.values(), [])
               if r.get("source_id")}
    out_sources = []
    for sid in sorted(needed):
        if sid in given:
            out_sources.append({**SOURCE, **given[sid]})
        elif sid in real_sources:
            out_sources.append(real_sources[sid])
        else:
            date = sid.split("-", 1)[1][:10]
            out_sources.append({**SOURCE, "source_id": sid, "date_published": date,
                                "url": f"https://example.org/{sid}"})
    write_table(folder, "sources", out_sources)
    defaults = {"locator": "para 1", "personnel_type": "all"}
    write_table(folder, "personnel", [{**defaults, **r} for r in personnel])
    write_table(folder, "money", [{"locator": "para 1", "scope": "flow", "currency": "USD", **r}
                                  for r in money])
    write_table(folder, "requirements", [{"locator": "para 1", "covers": "mission",
                                          "currency": "USD", **r} for r in requirements])
    write_table(folder, "context", [{"locator": "para 1", **r} for r in context])
    write_table(folder, "in_kind", [])
    write_table(folder, "mandates", MANDATES)
    write_table(folder, "fx_rates", fx)
    write_table(folder, "model_parameters", params)
    write_table(folder, "gaps", list(gaps))
    for name, rows in refs.items():
        write_table(folder, name, rows)
    return folder
