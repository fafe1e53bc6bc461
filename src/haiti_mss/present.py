"""HTML the package builds itself, outside the notebooks: the index of every report."""

from __future__ import annotations

import re
from html import escape

import pandas as pd


def _date(value) -> str:
    if value in (None, "latest"):
        return "the newest fact in the data"
    d = pd.Timestamp(value)
    return f"{d.day} {d.strftime('%B %Y')}"


def index_page(entries: list[dict], data_version: str, story: dict | None = None) -> str:
    """``reports/index.html``: the story so far, key facts and a timeline (from the latest
    state), then every variant with the date its data runs to and its reports."""
    story = story or {}
    lead = ""
    if story.get("story"):
        lead = (f'<section class="lead"><h2>The story so far</h2>{story["story"]}'
                f'{story.get("facts", "")}</section>'
                f'<section><h2>Timeline</h2>{story.get("timeline", "")}</section>')
    items = []
    for e in entries:
        links = "".join(
            f'<li><a href="{escape(f["href"])}">{escape(f["title"])}</a> '
            f'<span class="meta">({f["bytes"] / 1024:,.0f} KB)</span></li>' for f in e["files"])
        items.append(
            f'<section><h2>{escape(e["title"])}</h2>'
            f'<p class="meta">Data as known on {escape(_date(e["as_of"]))}</p>'
            f'<p>{escape(e["description"])}</p>'
            f'<ul>{links or "<li>not rendered yet</li>"}</ul></section>')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Haiti MSS reports</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1a202c; }}
h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.2rem; margin-bottom: 0.2rem; }}
a {{ color: #1a4f8b; text-decoration: underline; }}
.meta {{ color: #4a5568; font-size: 0.9rem; }} section {{ border-top: 1px solid #ddd; padding-top: 0.5rem; }}
.keyfacts {{ display: grid; grid-template-columns: minmax(8rem, 1fr) 1fr; gap: 0.2rem 1rem;
            background: #f7fafc; padding: 0.75rem; border-left: 4px solid #2b6cb0; }}
.keyfacts dt {{ color: #4a5568; }} .keyfacts dd {{ margin: 0; font-weight: 600; }}
.timeline {{ padding-left: 1.1rem; }} footer {{ border-top: 1px solid #ddd; margin-top: 2rem;
            font-size: 0.9rem; color: #4a5568; }}
</style></head><body><main>
<h1>The Kenya-led Multinational Security Support mission in Haiti: reports</h1>
<p>Who pledged what, who delivered what and when, the funding gap, and what the deployment
shortfall cost. Every number is computed from the sourced dataset (data version
<code>{escape(data_version)}</code>); each report works offline.</p>
{lead}
<h2>The reports</h2>
{''.join(items)}
</main>
<footer><p><strong>How to cite:</strong> Haiti MSS deployment and funding tracker, data version
<code>{escape(data_version)}</code> (see CITATION.cff). Code under the MIT licence; data under
CC BY 4.0, each figure with its original source. <a href="data/haiti-mss-data.zip">Download the
data</a>; corrections are listed in its CHANGELOG.md.</p></footer>
</body></html>
"""


def data_package_zip(out, data_dir=None) -> None:
    """The data package as one zip: datapackage.json, every table, the data README and the
    changelog; fixed timestamps, so the same data gives the same bytes."""
    import io
    import zipfile
    from pathlib import Path

    from . import paths

    data_dir = Path(data_dir or paths.data_dir())
    files = [data_dir / "datapackage.json", data_dir / "README.md",
             *sorted(data_dir.glob("*.csv")), paths.ROOT / "CHANGELOG.md", paths.ROOT / "LICENSE"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            if f.exists():
                info = zipfile.ZipInfo(f"haiti-mss-data/{f.name}", date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, f.read_bytes())
    from .render import atomic_write

    atomic_write(Path(out), buf.getvalue())


def nav_bar(variant: str, stem: str, stems: list[str], titles: dict[str, str]) -> str:
    """Links from a report to the index, its neighbours and the downloads."""
    i = stems.index(stem)
    parts = ['<a href="../index.html">All reports</a>']
    if i > 0:
        parts.append(f'<a href="{escape(stems[i - 1])}.html">&larr; {escape(titles[stems[i - 1]])}</a>')
    if i < len(stems) - 1:
        parts.append(f'<a href="{escape(stems[i + 1])}.html">{escape(titles[stems[i + 1]])} &rarr;</a>')
    parts.append('<a href="../data/haiti-mss-data.zip" download>The data (zip)</a>')
    parts.append('<a href="summary.json">Headline figures (JSON)</a>')
    parts.append('<a href="../data/summary.schema.json">their schema</a>')
    return f'<nav class="mss-nav" aria-label="Reports">{" · ".join(parts)}</nav>'


def latest_changes(changelog=None, limit: int = 12) -> tuple[str, list[str]]:
    """The newest section of CHANGELOG.md: (heading, its bullet lines, at most ``limit``)."""
    from pathlib import Path

    from . import paths

    path = Path(changelog or paths.ROOT / "CHANGELOG.md")
    if not path.exists():
        return "", []
    heading, bullets = "", []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            if heading:
                break
            heading = line[3:].strip()
        elif heading and line.startswith("- "):
            bullets.append(line[2:].strip())
        elif heading and line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
    return heading, bullets[:limit]


ROW_TAGS = re.compile(r"\s*\[(?:rows?|sources?) [^\]]*\]")


def report_footer(title: str, version: str, method: str, data_date: str,
                  cut: bool = False) -> str:
    """How to cite the report, the licences, and what changed in this data version. A report
    cut to an earlier date (``cut``) lists no change: the corrections describe later events,
    which that report must not show; it points to the changelog in the download instead. Row
    references (``[rows ...]``) stay in CHANGELOG.md, out of reader text."""
    heading, bullets = latest_changes()
    changes = ""
    if cut:
        changes = ("<p>Corrections to the data are listed in CHANGELOG.md in the data "
                   "download; they may describe events after this report's date.</p>")
    elif bullets:
        items = "".join(f"<li>{escape(ROW_TAGS.sub('', b))}</li>" for b in bullets)
        changes = (f"<details><summary>What changed in this data version ({escape(heading)})"
                   f"</summary><ul>{items}</ul><p>The full list is CHANGELOG.md in the data "
                   f"download.</p></details>")
    return (f'<footer class="mss-footer"><p><strong>How to cite:</strong> "{escape(title)}", '
            f"Haiti MSS deployment and funding tracker, data to {escape(data_date)}, data "
            f"version {escape(version)}, method version {escape(method)}.</p>"
            f"<p><strong>Licences:</strong> code MIT; data CC BY 4.0, each figure with its "
            f"original source as cited.</p>{changes}</footer>")
