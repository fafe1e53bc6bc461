"""What a notebook hands to the report beside its HTML: headline figures for the variant's
``summary.json`` and the CSV of every table it shows. Notebooks call these; the renderer
collects the outputs by their media type, writes the files and keeps them out of the HTML."""

from __future__ import annotations

import json
import math
import re

SUMMARY_MIME = "application/vnd.haiti-mss.summary+json"
TABLE_MIME = "application/vnd.haiti-mss.table+json"
NOTEBOOK_PLACEHOLDER = "@NOTEBOOK@"


def jsonable(value):
    """Plain JSON values: numbers rounded to 2 decimals, dates as ISO text, NaN as null."""
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if math.isnan(value) else round(float(value), 2)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value


def show_figure(ax_or_fig, *, title: str, caption: str, source_note: str, alt: str) -> None:
    """Show a chart as an embedded PNG with its title, caption, source note and alt text."""
    from IPython.display import HTML, display

    from .plots import figure_html

    display(HTML(figure_html(ax_or_fig, title=title, caption=caption, source_note=source_note,
                             alt=alt)))


def publish(key: str, value) -> None:
    """Record a headline figure under ``key`` in the variant's summary.json."""
    from IPython.display import display

    # text/plain: a plain `jupyter nbconvert --execute` has something it can represent (and
    # shows nothing); the renderer takes the summary out of the notebook.
    display({SUMMARY_MIME: {key: jsonable(value)}, "text/plain": ""}, raw=True)


_NUMBER = re.compile(r"^-\d[\d,]*(\.\d+)?(e[+-]?\d+)?$", re.I)


def neutralise(text):
    """A cell a spreadsheet would evaluate as a formula (=, +, @, tab, CR, or - not starting a
    negative number) gets a leading apostrophe: it is shown as text, never run."""
    if not isinstance(text, str) or not text:
        return text
    if text[0] in "=+@\t\r" or (text[0] == "-" and not _NUMBER.match(text)):
        return "'" + text
    return text


def safe_csv(frame) -> str:
    """A table as CSV a journalist can open in a spreadsheet: formula-like text neutralised,
    whole numbers written as whole numbers, no float noise (3287700.0000000005 -> 3287700)."""
    import numpy as np
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_float_dtype(values):
            finite = values.dropna()
            if len(finite) and np.isfinite(finite).all() and (finite == finite.round()).all() \
                    and finite.abs().max() < 2**53:
                out[column] = values.astype("Int64")
        elif pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            out[column] = values.map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out.to_csv(index=False, lineterminator="\n", float_format="%.10g")


def show_table(frame, *, name: str, caption: str, source_note: str,
               number_format: str = "{:,.0f}", html_columns: tuple[str, ...] = (),
               csv_frame=None, folded: str | None = None) -> None:
    """Show a table (phone-width HTML with caption and source) and publish it as CSV;
    ``folded`` puts it in a closed ``<details>`` block with that summary line."""
    import base64
    import os

    from IPython.display import display

    from .plots import table_html

    csv_frame = frame if csv_frame is None else csv_frame
    csv_text = safe_csv(csv_frame)
    if os.environ.get("HAITI_MSS_RENDERING"):
        # Rendered reports link a CSV file written beside them.
        csv_href = f"tables/{NOTEBOOK_PLACEHOLDER}--{name}.csv"
    else:
        # In JupyterLab, papermill or a plain nbconvert run no file is written: the link
        # carries the table itself, so it works wherever the notebook is opened.
        csv_href = ("data:text/csv;charset=utf-8;base64,"
                    + base64.b64encode(csv_text.encode("utf-8")).decode("ascii"))
    html = table_html(frame, caption=caption, source_note=source_note,
                      number_format=number_format, csv_href=csv_href, html_columns=html_columns,
                      csv_name=f"{name}.csv")
    if folded:
        from html import escape

        html = f"<details><summary>{escape(folded)}</summary>{html}</details>"
    display({"text/html": html, TABLE_MIME: {"name": name, "csv": csv_text}}, raw=True)


def collect(nb, notebook_stem: str) -> tuple[dict, dict[str, str]]:
    """Take the published figures and tables out of an executed notebook (in place): returns
    the summary fragment and {table name: CSV text}."""
    summary: dict = {}
    tables: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        keep = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if SUMMARY_MIME in data:
                payload = data[SUMMARY_MIME]
                summary.update(json.loads(payload) if isinstance(payload, str) else payload)
                continue
            if TABLE_MIME in data:
                payload = data.pop(TABLE_MIME)
                payload = json.loads(payload) if isinstance(payload, str) else payload
                tables[payload["name"]] = payload["csv"]
            if "text/html" in data:
                html = data["text/html"]
                html = "".join(html) if isinstance(html, list) else html
                data["text/html"] = html.replace(NOTEBOOK_PLACEHOLDER, notebook_stem)
            keep.append(output)
        cell["outputs"] = keep
    return summary, tables
