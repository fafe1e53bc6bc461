"""HTML the package builds itself, outside the notebooks: the index of every report."""

from __future__ import annotations

from html import escape

import pandas as pd


def _date(value) -> str:
    if value in (None, "latest"):
        return "the newest fact in the data"
    d = pd.Timestamp(value)
    return f"{d.day} {d.strftime('%B %Y')}"


def index_page(entries: list[dict], data_version: str) -> str:
    """``reports/index.html``: every variant with the date its data runs to and its reports."""
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
</style></head><body><main>
<h1>The Kenya-led Multinational Security Support mission in Haiti: reports</h1>
<p>Who pledged what, who delivered what and when, the funding gap, and what the deployment
shortfall cost. Every number is computed from the sourced dataset (data version
<code>{escape(data_version)}</code>); each report works offline.</p>
{''.join(items)}
</main></body></html>
"""
