"""Charts and tables as self-contained HTML figures: a title, units, a caption, a source note
and alt text travel with every chart. Plot functions take ``ax=None`` and return the axes."""

from __future__ import annotations

import base64
import io
from html import escape

import matplotlib

matplotlib.use("Agg")  # figures are embedded as PNG by figure_html, never drawn on a screen
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

PALETTE = {"pledged": "#a0aec0", "deployed": "#2b6cb0", "planned": "#c53030",
           "received": "#2f855a", "gap": "#c05621"}
DPI = 110


def set_theme() -> None:
    """The one place the visual theme is set."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI, "axes.titleweight": "bold",
                         "axes.titlelocation": "left", "figure.autolayout": True,
                         "svg.hashsalt": "haiti-mss"})


def _new_ax(ax, size=(8, 4.2)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_pledged_vs_deployed(contributors: pd.DataFrame, ax=None, *, planned: int | None = None):
    """Horizontal bars: personnel pledged vs deployed per contributor."""
    ax = _new_ax(ax, size=(8, 0.5 * max(len(contributors), 3) + 1.5))
    frame = contributors.assign(pledged=contributors["pledged"].fillna(0),
                                deployed=contributors["deployed"].fillna(0))
    frame = frame.sort_values(["deployed", "pledged"], ascending=True)
    y = range(len(frame))
    ax.barh([i + 0.2 for i in y], frame["pledged"], height=0.4, color=PALETTE["pledged"],
            label="Pledged")
    ax.barh([i - 0.2 for i in y], frame["deployed"], height=0.4, color=PALETTE["deployed"],
            label="Deployed")
    for i, (p, d) in enumerate(zip(frame["pledged"], frame["deployed"], strict=True)):
        ax.text(d, i - 0.2, f" {int(d):,}", va="center", fontsize=8)
        ax.text(p, i + 0.2, f" {int(p):,}", va="center", fontsize=8, color="#4a5568")
    ax.set_yticks(list(y), frame["name"])
    ax.set_xlabel("Personnel (people)")
    if planned:
        ax.axvline(planned, color=PALETTE["planned"], linestyle="--", linewidth=1)
        ax.text(planned, len(frame) - 0.5, f" planned mission strength {planned:,}",
                color=PALETTE["planned"], fontsize=8, va="top")
    ax.legend(loc="lower right", frameon=False)
    return ax


def plot_deployed_over_time(monthly: pd.DataFrame, ax=None, *, planned: int | None = None,
                            reported_totals: pd.DataFrame | None = None):
    """Stacked areas of deployed strength by contributor over time, with reported totals."""
    ax = _new_ax(ax)
    wide = (monthly.astype({"deployed": float})
            .pivot_table(index="month_end", columns="name", values="deployed", aggfunc="sum")
            .fillna(0.0))
    order = wide.iloc[-1].sort_values(ascending=False).index if len(wide) else wide.columns
    wide = wide[order]
    colors = sns.color_palette("deep", n_colors=max(len(order), 1))
    ax.stackplot(wide.index, wide.T.to_numpy(), labels=list(order), colors=colors, alpha=0.9,
                 step="post")
    if reported_totals is not None and not reported_totals.empty:
        ax.scatter(reported_totals["refers_to_date"], reported_totals["count"].astype(float),
                   color="black",
                   marker="o", s=18, zorder=3, label="Mission total as reported")
    if planned:
        ax.axhline(planned, color=PALETTE["planned"], linestyle="--", linewidth=1)
        ax.text(wide.index.min() if len(wide) else 0, planned, f"planned {planned:,}",
                color=PALETTE["planned"], fontsize=8, va="bottom")
    ax.set_ylabel("Personnel deployed (people)")
    ax.set_xlabel("")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    return ax


def figure_html(ax_or_fig, *, title: str, caption: str, source_note: str, alt: str) -> str:
    """Embed a chart as an inline PNG figure with title, caption, source note and alt text,
    and close it."""
    fig = ax_or_fig if isinstance(ax_or_fig, plt.Figure) else ax_or_fig.figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<figure class="mss-figure"><img src="data:image/png;base64,{data}" '
            f'alt="{escape(alt)}"><figcaption><span class="mss-title">{escape(title)}</span>'
            f'{escape(caption)}<div class="mss-source">Source: {source_note}</div>'
            f'</figcaption></figure>')


def table_html(frame: pd.DataFrame, *, caption: str, source_note: str,
               number_format: str = "{:,.0f}") -> str:
    """A table that scrolls sideways on a phone, with a caption and source note.
    Missing values are shown as a visible gap ("not reported"), never as zero."""
    head = "".join(f'<th class="{"num" if pd.api.types.is_numeric_dtype(frame[c]) else ""}">'
                   f'{escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for c in frame.columns:
            value = row[c]
            if pd.isna(value):
                cells.append('<td class="mss-gap">not reported</td>')
            elif pd.api.types.is_numeric_dtype(frame[c]):
                cells.append(f'<td class="num">{number_format.format(value)}</td>')
            elif isinstance(value, pd.Timestamp):
                cells.append(f"<td>{value.date().isoformat()}</td>")
            else:
                cells.append(f"<td>{escape(str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="mss-table"><table><caption>{escape(caption)}</caption>'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<div class="mss-source">Source: {source_note}</div></div>')


def source_links(source_ids, sources: pd.DataFrame) -> str:
    """Hyperlinks to the cited sources (publisher, date), for a source note."""
    chosen = sources[sources["source_id"].isin(set(source_ids))].sort_values("date_published")
    links = []
    for r in chosen.itertuples():
        when = "undated" if pd.isna(r.date_published) else r.date_published.date().isoformat()
        links.append(f'<a href="{escape(r.url)}">{escape(r.publisher)}, {when}</a>')
    return "; ".join(links) if links else "no source"


def alt_pledged_vs_deployed(contributors: pd.DataFrame) -> str:
    """Alt text that states the chart's numbers."""
    parts = [f"{r.name}: pledged {0 if pd.isna(r.pledged) else int(r.pledged):,}, deployed "
             f"{0 if pd.isna(r.deployed) else int(r.deployed):,}" for r in contributors.itertuples()]
    return "Bar chart of personnel pledged and deployed by contributor. " + "; ".join(parts) + "."


def alt_deployed_over_time(monthly: pd.DataFrame) -> str:
    """Alt text: the range of dates and the latest stack."""
    last = monthly[monthly["month_end"] == monthly["month_end"].max()]
    parts = ", ".join(f"{r.name} {int(r.deployed):,}" for r in last.itertuples() if r.deployed)
    return (f"Stacked area chart of deployed personnel from {monthly['month_end'].min().date()} "
            f"to {monthly['month_end'].max().date()}; at the end: {parts or 'none'}.")
