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

from .entities import CHANNEL_LABELS  # noqa: E402

PALETTE = {"pledged": "#a0aec0", "deployed": "#2b6cb0", "planned": "#c53030",
           "received": "#2f855a", "gap": "#c05621"}
WIDTH = 4.8       # inches: 461 px wide on screen, so text stays >= 11 px on a 390 px phone
CSS_DPI = 96      # pixels per inch the page is laid out at
DPI = 2 * CSS_DPI  # images at twice the screen resolution
MIN_POINTS = 11   # the smallest type in any chart


def set_theme() -> None:
    """The one place the visual theme is set: seaborn's whitegrid style, as matplotlib ships
    it (importing seaborn itself costs 0.7 s per notebook; it is loaded only where a chart
    needs one of its palettes)."""
    plt.style.use("seaborn-v0_8-whitegrid")
    plt.rcParams.update({"font.size": MIN_POINTS, "axes.labelsize": MIN_POINTS,
                         "xtick.labelsize": MIN_POINTS, "ytick.labelsize": MIN_POINTS,
                         "legend.fontsize": MIN_POINTS, "axes.titlesize": MIN_POINTS + 1,
                         "figure.dpi": CSS_DPI, "savefig.dpi": DPI, "axes.titleweight": "bold",
                         "axes.titlelocation": "left", "figure.autolayout": True,
                         "svg.hashsalt": "haiti-mss",
                         # Text that came from data/ is text: a "$" in a name is not mathematics.
                         "text.parse_math": False})


# One colour per contributor, in every chart of every report.
CONTRIBUTOR_COLOURS = {"KEN": "#4c72b0", "GTM": "#dd8452", "SLV": "#55a868", "JAM": "#c44e52",
                       "BHS": "#8172b3", "BLZ": "#937860", "BEN": "#da8bc3", "TCD": "#8c8c8c",
                       "BGD": "#ccb974"}
OTHER_COLOUR = "#64b5cd"


def annotate_events(ax, events) -> None:
    """Mark dated events (votes, a handover) on a time chart: a thin line and a short label."""
    import matplotlib.dates as mdates

    lo, hi = ax.get_xlim()
    for when, label in events or ():
        x = mdates.date2num(pd.Timestamp(when))
        if not lo <= x <= hi:
            continue
        ax.axvline(x, color="#4a5568", linewidth=0.8, linestyle=":")
        ax.text(x, 0.98, f" {label}", transform=ax.get_xaxis_transform(), rotation=90,
                va="top", ha="left", color="#4a5568")


def _new_ax(ax, size=(WIDTH, 4.2)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_pledged_vs_deployed(contributors: pd.DataFrame, ax=None, *, ended: bool = False):
    """Horizontal bars: personnel pledged vs deployed per contributor (for an ended mission,
    those on the ground when it ended). The mission's planned strength is not drawn here: it
    is a mission-wide figure, not a per-country one."""
    ax = _new_ax(ax, size=(WIDTH, 0.5 * max(len(contributors), 3) + 1.5))
    column = "deployed_at_end" if ended else "deployed"
    frame = contributors.assign(pledged=contributors["pledged"].astype(float).fillna(0),
                                deployed=contributors[column].astype(float).fillna(0))
    frame = frame.sort_values(["deployed", "pledged"], ascending=True)
    y = range(len(frame))
    ax.barh([i + 0.2 for i in y], frame["pledged"], height=0.4, color=PALETTE["pledged"],
            label="Pledged")
    ax.barh([i - 0.2 for i in y], frame["deployed"], height=0.4, color=PALETTE["deployed"],
            label="On the ground at the end" if ended else "On the ground")
    for i, (p, d) in enumerate(zip(frame["pledged"], frame["deployed"], strict=True)):
        ax.text(d, i - 0.2, f" {int(d):,}", va="center")
        if p:
            ax.text(p, i + 0.2, f" {int(p):,}", va="center", color="#4a5568")
    ax.set_yticks(list(y), frame["name"])
    ax.set_xlabel("Personnel (people)")
    ax.legend(loc="lower right", frameon=False)
    return ax


def plot_deployed_over_time(monthly: pd.DataFrame, ax=None, *, totals: pd.DataFrame | None = None,
                            stated: pd.DataFrame | None = None, planned: int | None = None,
                            events=(), planned_label: str = "planned"):
    """Stacked areas of strength by contributor at each month end, the mission total (line)
    and the totals sources stated (dots)."""
    ax = _new_ax(ax)
    wide = (monthly.astype({"deployed": float})
            .pivot_table(index="month_end", columns="contributor_iso3", values="deployed",
                         aggfunc="sum").fillna(0.0))
    order = wide.max().sort_values(ascending=False).index if len(wide) else wide.columns
    wide = wide[order]
    names = dict(zip(monthly["contributor_iso3"], monthly["name"], strict=False))
    colors = [CONTRIBUTOR_COLOURS.get(c, OTHER_COLOUR) for c in order]
    ax.stackplot(wide.index, wide.T.to_numpy(), labels=[names.get(c, c) for c in order],
                 colors=colors, alpha=0.9, step="post")
    if totals is not None and not totals.empty:
        ax.step(totals["month_end"], totals["total"].astype(float), where="post", color="black",
                linewidth=1.2, label="Mission total")
    if stated is not None and not stated.empty:
        ax.scatter(stated["date"], stated["count"].astype(float), color="black", marker="o",
                   s=16, zorder=3, label="Total as a source stated it")
    if planned:
        ax.axhline(planned, color=PALETTE["planned"], linestyle="--", linewidth=1)
        ax.text(0.99, planned, f"{planned_label} {planned:,}", transform=ax.get_yaxis_transform(),
                color=PALETTE["planned"], va="bottom", ha="right")
    ax.set_ylabel("People on the ground")
    ax.set_xlabel("")
    _month_axis(ax)
    annotate_events(ax, events)
    _legend_below(ax, ncols=2)
    return ax


def _wrap_legends(fig, width: int = 36) -> None:
    """Break long legend entries over lines, so that no legend makes the figure wider than
    the page (a wider image shrinks on a phone, and its type with it)."""
    import textwrap

    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        for text in legend.get_texts():
            label = text.get_text()
            if len(label) > width and "\n" not in label:
                text.set_text(textwrap.fill(label, width))


def _smallest_text_px(fig) -> float:
    """The smallest type in a figure, in CSS pixels at its natural size."""
    sizes = [t.get_fontsize() for t in fig.findobj(plt.Text) if t.get_text().strip()
             and t.get_visible()]
    return min(sizes, default=MIN_POINTS) * CSS_DPI / 72.0


def figure_html(ax_or_fig, *, title: str, caption: str, source_note: str, alt: str) -> str:
    """A chart as an inline PNG (twice the screen resolution) with its title above it, then
    the caption and source note; ``data-min-text-px`` records the smallest type at natural
    size, so a browser test can check it stays readable when the image shrinks on a phone."""
    fig = ax_or_fig if isinstance(ax_or_fig, plt.Figure) else ax_or_fig.figure
    _wrap_legends(fig)
    fig.canvas.draw()
    smallest = _smallest_text_px(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    png = buf.getvalue()
    width = int.from_bytes(png[16:20], "big") * CSS_DPI // DPI
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure class="mss-figure"><p class="mss-title">{escape(title)}</p>'
            f'<img src="data:image/png;base64,{data}" width="{width}" '
            f'data-min-text-px="{smallest:.1f}" alt="{escape(alt)}">'
            f'<figcaption>{escape(caption.strip())}<div class="mss-source">Source: '
            f'{source_note}</div></figcaption></figure>')


def table_html(frame: pd.DataFrame, *, caption: str, source_note: str,
               number_format: str = "{:,.0f}", csv_href: str | None = None,
               html_columns: tuple[str, ...] = (), csv_name: str | None = None) -> str:
    """A table that scrolls sideways on a phone, with a caption and source note.
    Missing values are shown as a visible gap ("not reported"), never as zero.
    ``html_columns`` hold markup the package built (links), shown unescaped."""
    head = "".join(f'<th class="{"num" if pd.api.types.is_numeric_dtype(frame[c]) else ""}">'
                   f'{escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for c in frame.columns:
            value = row[c]
            if pd.isna(value):
                cells.append('<td class="mss-gap">not reported</td>')
            elif pd.api.types.is_integer_dtype(frame[c]):
                cells.append(f'<td class="num">{int(value):,}</td>')
            elif pd.api.types.is_numeric_dtype(frame[c]):
                cells.append(f'<td class="num">{number_format.format(value)}</td>')
            elif isinstance(value, pd.Timestamp):
                cells.append(f"<td>{value.date().isoformat()}</td>")
            elif c in html_columns:
                cells.append(f"<td>{value}</td>")
            else:
                cells.append(f"<td>{escape(str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    name = f' download="{escape(csv_name)}"' if csv_name else ""
    download = (f' · <a href="{escape(csv_href)}"{name}>this table as CSV</a>' if csv_href
                else "")
    return (f'<div class="mss-table"><table><caption>{escape(caption)}</caption>'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<div class="mss-source">Source: {source_note}{download}</div></div>')


def source_links(source_ids, sources: pd.DataFrame, shown: int = 4) -> str:
    """A short source line: who originated the cited texts (the most cited first), then every
    page in a ``<details>`` element (no script needed). A link a reader should not rely on is
    labelled for what it is."""
    from .sourcing import link_label

    ids = list(source_ids)
    chosen = sources[sources["source_id"].isin(set(ids))]
    if chosen.empty:
        return "no source"
    counts = pd.Series(ids).value_counts()
    chosen = chosen.assign(_n=chosen["source_id"].map(counts).fillna(0)).sort_values(
        ["_n", "date_published"], ascending=[False, True])
    originators = list(dict.fromkeys(chosen["originator"]))
    head = ", ".join(escape(o) for o in originators[:shown])
    more = len(originators) - shown
    links = []
    for r in chosen.sort_values("date_published").itertuples():
        when = "undated" if pd.isna(r.date_published) else r.date_published.date().isoformat()
        label = link_label(r)
        note = f' <span class="mss-flag">({escape(label)})</span>' if label else ""
        links.append(f'<li><a href="{escape(r.url)}">{escape(r.publisher)}</a>, {when}'
                     f' ({escape(r.originator)}){note}</li>')
    summary = f"{head}{f' and {more} more' if more > 0 else ''}"
    return (f"{summary}. <details><summary>All {len(links)} pages cited</summary>"
            f"<ul>{''.join(links)}</ul></details>")


def alt_pledged_vs_deployed(contributors: pd.DataFrame, ended: bool = False) -> str:
    """Alt text that states the chart's numbers."""
    column = "deployed_at_end" if ended else "deployed"
    parts = [f"{r['name']}: pledged {_count(r['pledged'])}, "
             f"{'on the ground at the end' if ended else 'on the ground'} "
             f"{_count(r[column])}"
             for _, r in contributors.iterrows()]
    return "Bar chart of personnel pledged and deployed by contributor. " + "; ".join(parts) + "."


def alt_deployed_over_time(monthly: pd.DataFrame, totals: pd.DataFrame | None = None) -> str:
    """Alt text: the range of dates, the last stack and the mission total."""
    last = monthly[monthly["month_end"] == monthly["month_end"].max()]
    parts = ", ".join(f"{r.name} {int(r.deployed):,}" for r in last.itertuples() if r.deployed)
    total = ""
    if totals is not None and not totals.empty:
        total = f"; mission total {int(totals.iloc[-1]['total']):,}"
    return (f"Stacked area chart of personnel on the ground from "
            f"{monthly['month_end'].min().date()} to {monthly['month_end'].max().date()}; at "
            f"the end: {parts or 'none'}{total}.")


def _money_axis(ax, axis="y"):
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"${v / 1e6:,.0f}M")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _month_axis(ax):
    import matplotlib.dates as mdates

    # At most six dates on the axis, so the labels never overlap at phone width.
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def plot_trust_fund(monthly: pd.DataFrame, stated: pd.DataFrame | None = None, ax=None):
    """Trust fund over time: instruments promised and received, and totals sources stated,
    each once on the date it describes."""
    ax = _new_ax(ax)
    ax.step(monthly["month_end"], monthly["promised_usd"], where="post",
            color=PALETTE["pledged"], label="Promised (sum of donor instruments)")
    ax.step(monthly["month_end"], monthly["received_usd"], where="post",
            color=PALETTE["received"], label="Received (sum of donor instruments)")
    if stated is not None and not stated.empty:
        for status, marker, label in (("pledged", "^", "Pledged total as a source stated it"),
                                      ("received", "o", "Received total as a source stated it")):
            own = stated[stated["status"] == status]
            if len(own):
                ax.scatter(own["date"], own["amount_usd"], marker=marker, s=22, color="black",
                           label=label, zorder=3)
    _money_axis(ax)
    _month_axis(ax)
    ax.set_ylabel("US dollars (cumulative)")
    _legend_below(ax)
    return ax


def plot_money_by_channel(frame: pd.DataFrame, ax=None):
    """Horizontal bars per donor and channel: promised vs received (USD)."""
    frame = frame.sort_values("promised_usd", ascending=True, na_position="first")
    ax = _new_ax(ax, size=(WIDTH, 0.45 * max(len(frame), 3) + 1.5))
    labels = [f"{n} · {CHANNEL_LABELS.get(c, c)}" for n, c in zip(frame["name"],
                                                                 frame["channel"], strict=True)]
    y = range(len(frame))
    ax.barh([i + 0.2 for i in y], frame["promised_usd"].fillna(0), height=0.4,
            color=PALETTE["pledged"], label="Promised")
    ax.barh([i - 0.2 for i in y], frame["received_usd"].fillna(0), height=0.4,
            color=PALETTE["received"], label="Received")
    ax.set_yticks(list(y), labels)
    _money_axis(ax, "x")
    ax.set_xlabel("US dollars")
    ax.legend(loc="lower right", frameon=False)
    return ax


def plot_model_bands(bands_: pd.DataFrame, observed: pd.Series | None = None, ax=None, *,
                     ceiling: float | None = None, label="Modelled strength",
                     observed_label="Observed (from reported arrivals and counts)"):
    """Median and 80%/95% bands of modelled strength, with the observed series."""
    ax = _new_ax(ax)
    x = bands_["month"]
    ax.fill_between(x, bands_["p2_5"], bands_["p97_5"], color=PALETTE["deployed"], alpha=0.15,
                    label="95% band", step="mid")
    ax.fill_between(x, bands_["p10"], bands_["p90"], color=PALETTE["deployed"], alpha=0.3,
                    label="80% band", step="mid")
    ax.plot(x, bands_["median"], color=PALETTE["deployed"], label=f"{label} (median)")
    if observed is not None and len(observed):
        ax.plot(observed.index, observed.to_numpy(float), color="black", marker="o", ms=3,
                linewidth=1, label=observed_label)
    if ceiling:
        ax.axhline(ceiling, color=PALETTE["planned"], linestyle="--", linewidth=1,
                   label=f"Cap used by the model ({ceiling:,.0f})")
    _month_axis(ax)
    ax.set_ylabel("Personnel deployed (people)")
    _legend_below(ax)
    return ax


def plot_reference_paths(observed: pd.DataFrame, shares: pd.DataFrame, planned: float,
                         start, ax=None, *, label: str = "This mission (sources, reconstructed)",
                         planned_label: str = "planned", base: float = 0.0):
    """The mission's reconstructed strength against the planned strength (or a successor's
    ceiling) at other missions' pace (same months since authorization)."""
    ax = _new_ax(ax)
    start = pd.Timestamp(start)
    ax.step(observed["month_end"], observed["total"].astype(float), where="post", color="black",
            linewidth=2, label=label)
    styles = {"MINUSTAH": ("#2b6cb0", "--"), "UN average": ("#2f855a", "-."),
              "AMISOM": ("#c05621", ":")}
    labels = {"MINUSTAH": "At MINUSTAH's pace (Haiti 2004)",
              "UN average": "At the UN-average pace", "AMISOM": "At AMISOM's pace (Somalia)"}
    from .reference import path

    months = len(observed)
    for key, (color, dash) in styles.items():
        values = path(shares, key, planned, months, base)
        if values is None:
            continue
        dates = [start + pd.offsets.MonthEnd(k) for k in range(1, months + 1)]
        ax.plot(dates, values, color=color, linestyle=dash, label=labels[key])
    ax.axhline(planned, color=PALETTE["planned"], linewidth=0.8)
    ax.text(0.99, planned, f"{planned_label} {planned:,.0f}", transform=ax.get_yaxis_transform(),
            color=PALETTE["planned"], va="bottom", ha="right")
    ax.set_ylabel("Personnel on the ground (people)")
    _month_axis(ax)
    _legend_below(ax)
    return ax


def alt_reference_paths(observed: pd.DataFrame, refs: pd.DataFrame | None) -> str:
    if refs is None:
        return (f"Line chart of the force's strength from {observed['month_end'].iloc[0].date()} "
                f"to {observed['month_end'].iloc[-1].date()} (latest "
                f"{observed['total'].iloc[-1]:,.0f}) against its ceiling reached at other "
                f"missions' pace.")
    r = refs.set_index("path")["person_months"]
    return (f"Line chart of the mission's strength from {observed['month_end'].iloc[0].date()} "
            f"to {observed['month_end'].iloc[-1].date()} (peak {observed['total'].max():,.0f}) "
            f"against reference paths; the shortfall was {r.get('UN average', 0):,.0f} "
            f"person-months against the UN-average pace and {r.get('AMISOM', 0):,.0f} against "
            f"AMISOM's.")


def plot_split(split: pd.DataFrame, ax=None):
    """The person-months lost to each gate (Shapley shares) with 80% bands."""
    ax = _new_ax(ax, size=(WIDTH, 2.8))
    parts = split[split["cause"] != "total"].sort_values("median")
    y = range(len(parts))
    ax.barh(list(y), parts["median"], color=PALETTE["gap"])
    ax.errorbar(parts["median"], list(y), xerr=[parts["median"] - parts["p10"],
                                                parts["p90"] - parts["median"]],
                fmt="none", ecolor="black", capsize=3, linewidth=1)
    ax.set_yticks(list(y), [c.capitalize() for c in parts["cause"]])
    ax.set_xlabel("Person-months lost (median, 80% band)")
    return ax


def plot_density(bands_: pd.DataFrame, benchmarks: dict[str, float], ax=None):
    """Security personnel per 1,000 residents of Port-au-Prince against benchmarks."""
    ax = _new_ax(ax)
    x = bands_["month"]
    ax.fill_between(x, bands_["p10"], bands_["p90"], color=PALETTE["deployed"], alpha=0.3,
                    label="80% band", step="mid")
    ax.plot(x, bands_["median"], color=PALETTE["deployed"], label="Police in the capital + mission")
    for (name, value), style in zip(benchmarks.items(), ("--", "-.", ":"), strict=False):
        short = name.removeprefix("Density benchmark: ").rstrip(".")
        ax.axhline(value, color="#4a5568", linestyle=style, linewidth=1,
                   label=f"{value:g} per 1,000: {short}")
    ax.set_yscale("log")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    # Plain numbers on the log axis (mathtext is off for data-driven text).
    ax.yaxis.set_major_locator(FixedLocator([0.5, 1, 2, 5, 10, 20, 50]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("Per 1,000 residents (log scale)")
    _month_axis(ax)
    _legend_below(ax)
    return ax


def _legend_below(ax, ncols: int = 1) -> None:
    """The legend under the chart; the layout engine is switched off so the legend does not
    squeeze the axes (the saved image is cropped to its contents instead)."""
    ax.figure.set_layout_engine("none")
    ax.figure.subplots_adjust(left=0.16, right=0.97, top=0.95, bottom=0.16)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.14), ncols=ncols, frameon=False)


def plot_tornado(tornado: pd.DataFrame, ax=None, top: int = 10):
    """One-at-a-time swings of person-months lost around the central parameter values."""
    rows = tornado.head(top).iloc[::-1]
    ax = _new_ax(ax, size=(WIDTH, 0.4 * len(rows) + 1.5))
    centre = float(rows["central_result"].iloc[0]) if len(rows) else 0.0
    y = range(len(rows))
    ax.barh(list(y), rows["at_low"] - centre, left=centre, color="#90cdf4",
            label="parameter at its low end")
    ax.barh(list(y), rows["at_high"] - centre, left=centre, color="#2c5282",
            label="parameter at its high end")
    ax.axvline(centre, color="black", linewidth=1)
    ax.set_yticks(list(y), rows["parameter"])
    ax.set_xlabel("Person-months lost against the instant ceiling")
    ax.legend(loc="lower right", frameon=False)
    return ax


def plot_backtest(back: dict, ax=None):
    """What the model said on the backtest date (median and 80% band) against what happened."""
    ax = _new_ax(ax)
    setting = back["setting"]
    months = setting.month_index + pd.offsets.MonthEnd(0)
    paths_ = back["deployed"]
    import numpy as np

    lo, med, hi = np.quantile(paths_, [0.1, 0.5, 0.9], axis=0)
    ax.fill_between(months, lo, hi, color=PALETTE["deployed"], alpha=0.3, step="mid",
                    label="80% band (model on the backtest date)")
    ax.plot(months, med, color=PALETTE["deployed"], label="Median")
    ax.scatter(back["backtest_months_index"], back["truth"], color="black", s=14, zorder=3,
               label="What later reports show")
    _month_axis(ax)
    ax.set_ylabel("Personnel deployed (people)")
    ax.legend(loc="upper left", frameon=False)
    return ax


def _count(v) -> str:
    """A count for alt text: a gap stays a gap."""
    return "not reported" if v is None or pd.isna(v) else f"{int(v):,}"


def _dollars(v) -> str:
    if v is None or pd.isna(v):
        return "not reported"
    return f"{v / 1e6:,.1f} million dollars" if v >= 1e5 else f"{v:,.0f} dollars"


def alt_money(frame: pd.DataFrame) -> str:
    parts = [f"{r.name} ({CHANNEL_LABELS.get(r.channel, r.channel)}): promised "
             f"{_dollars(r.promised_usd)}, received {_dollars(r.received_usd)}"
             for r in frame.itertuples()]
    return "Bar chart of US dollars promised and received by donor and channel. " + "; ".join(parts)


def alt_trust_fund(monthly: pd.DataFrame) -> str:
    last = monthly.iloc[-1]
    return (f"Step chart of the UN trust fund from {monthly['month_end'].min().date()} to "
            f"{last['month_end'].date()}: at the end, {last['promised_usd'] / 1e6:,.1f} million "
            f"dollars promised and {last['received_usd'] / 1e6:,.1f} million received.")


def alt_bands(bands_: pd.DataFrame, what: str) -> str:
    last = bands_.iloc[-1]
    return (f"Line chart with bands of modelled {what} from {bands_['month'].iloc[0].date()} to "
            f"{last['month'].date()}; at the end the median is {_num(last['median'])} "
            f"(80% band {_num(last['p10'])} to {_num(last['p90'])}).")


def _num(v) -> str:
    """A model figure for alt text: whole numbers for counts, one decimal below 10."""
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.1f}"


def alt_split(split: pd.DataFrame) -> str:
    parts = [f"{r.cause} {r.median:,.0f}" for r in split.itertuples() if r.cause != "total"]
    return "Bar chart of person-months lost by cause (medians): " + ", ".join(parts) + "."


def alt_tornado(tornado: pd.DataFrame) -> str:
    parts = [f"{r.parameter} from {r.at_low:,.0f} to {r.at_high:,.0f}" for r in tornado.head(5).itertuples()]
    return "Tornado chart of person-months lost; largest swings: " + "; ".join(parts) + "."


def alt_backtest(back: dict) -> str:
    return (f"Chart of the model's forecast made on 30 September 2024 against "
            f"{back['backtest_months']} later observed months; the 80% band covered "
            f"{back['backtest_coverage_80'] * 100:.0f}% of them.")


ORIGINATOR_KINDS = ["un", "government", "mission", "wire_service", "newspaper", "research",
                    "other", "aggregator", "un_document"]


def plot_sources(sources: pd.DataFrame, ax=None):
    """Facts by the kind of their source's originator."""
    ax = _new_ax(ax, size=(WIDTH, 3))
    cited = sources[sources["facts"] > 0]
    counts = cited.groupby("originator_kind")["facts"].agg(["size", "sum"])
    counts = counts.reindex([k for k in ORIGINATOR_KINDS if k in counts.index])
    y = range(len(counts))
    ax.barh(list(y), counts["sum"], color=PALETTE["deployed"])
    for i, (n_sources, n_facts) in enumerate(zip(counts["size"], counts["sum"], strict=True)):
        ax.text(n_facts, i, f" {int(n_facts)} facts from {int(n_sources)} sources", va="center")
    ax.set_yticks(list(y), [k.replace("_", " ") for k in counts.index])
    ax.set_xlabel("Facts citing a source of this kind")
    ax.invert_yaxis()
    return ax


def alt_sources(sources: pd.DataFrame) -> str:
    cited = sources[sources["facts"] > 0]
    counts = cited.groupby("originator_kind")["facts"].sum().sort_values(ascending=False)
    return ("Bar chart of facts by who originated their source: "
            + ", ".join(f"{k.replace('_', ' ')} {int(v)}" for k, v in counts.items()) + ".")


def plot_timeline(events: pd.DataFrame, ax=None):
    """What happened, in order: one row per kind of event (votes, pledges, arrivals,
    departures, money promised), a dot per event, coloured by contributor (money and votes in
    grey). The numbers are in the table under the chart."""
    from .events import LANES

    ax = _new_ax(ax, size=(WIDTH, 3.6))
    lanes = [lane for lane in LANES if (events["lane"] == lane).any()]
    y = {lane: len(lanes) - 1 - i for i, lane in enumerate(lanes)}
    from .entities import entity_name

    codes = {entity_name(c): c for c in CONTRIBUTOR_COLOURS}
    seen = set()
    # Events of one kind on the same day are spread a little apart, so each dot shows.
    nth = events.groupby(["lane", "date"]).cumcount().to_numpy()
    size = events.groupby(["lane", "date"])["date"].transform("size").to_numpy()
    offset = (nth - (size - 1) / 2) * 0.16
    for i, r in enumerate(events.itertuples()):
        code = codes.get(r.who)
        people = r.lane in ("Pledges", "Arrivals", "Departures")
        colour = CONTRIBUTOR_COLOURS.get(code, OTHER_COLOUR) if people else "#4a5568"
        label = r.who if people and r.who not in seen else None
        if label:
            seen.add(r.who)
        marker = "D" if r.lane == "Security Council" else "o"
        # Money: the dot's area grows with the amount ($1M to $200M), so $0.1M and $200M differ.
        usd = getattr(r, "usd", None)
        area = (12 + 140 * (min(float(usd), 2e8) / 2e8) ** 0.5) if r.lane == "Money" and \
            usd is not None and pd.notna(usd) else 36
        ax.scatter([r.date], [y[r.lane] + offset[i]], s=area, color=colour, marker=marker,
                   zorder=3, edgecolor="white", linewidth=0.5, label=label,
                   alpha=0.8 if r.lane == "Money" else 1.0)
        if r.lane == "Security Council" and r.what.startswith("Resolution"):
            ax.annotate(r.what.split(":")[0].split(" ")[1], (r.date, y[r.lane]),
                        xytext=(0, 7), textcoords="offset points", ha="center",
                        color="#4a5568")
    ax.set_yticks(list(y.values()), [lane.replace(" ", "\n", 1) if lane == "Security Council"
                                     else lane for lane in y])
    ax.set_ylim(-0.6, len(lanes) - 0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("")
    ax.margins(x=0.06)
    _month_axis(ax)
    _legend_below(ax, ncols=2)
    ax.figure.subplots_adjust(left=0.24)
    return ax


def alt_timeline(events: pd.DataFrame) -> str:
    counts = events.groupby("lane").size()
    parts = ", ".join(f"{int(n)} {lane.lower()}" for lane, n in counts.items())
    if events.empty:
        return "No events."
    return (f"Timeline from {events['date'].min():%B %Y} to {events['date'].max():%B %Y}: "
            f"{parts}. The table below lists each event.")


def plot_context(series: dict, events=()):
    """Two panels over the same months: killings per month (each reported period drawn as a
    bar across its months, at its average) and people displaced inside Haiti (each count at
    the date it describes)."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 5.6), sharex=True)
    k = series["killings"]
    for r in k.itertuples():
        short = (r.end - r.start).days < 200
        top.hlines(r.per_month, r.start, r.end, color="#9b2c2c" if short else "#e2a0a0",
                   linewidth=3 if short else 2)
    top.set_ylabel("Killed a month")
    top.set_ylim(0, max(600.0, float(k["per_month"].max()) * 1.15) if len(k) else 600.0)
    top.plot([], [], color="#9b2c2c", linewidth=3, label="Quarter or half-year (average)")
    top.plot([], [], color="#e2a0a0", linewidth=2, label="Longer period (average)")

    d = series["displaced"]
    bottom.plot(d["date"], d["value"].astype(float), color="#2c5282", marker="o", markersize=4,
                linewidth=1.2)
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:.1f}M" if v else "0"))
    bottom.set_ylabel("Displaced")
    bottom.set_ylim(0, max(1.6e6, float(d["value"].max()) * 1.15) if len(d) else 1.6e6)
    for ax in (top, bottom):
        ax.set_xlabel("")
        for when, _ in events or ():
            ax.axvline(mdates.date2num(pd.Timestamp(when)), color="#4a5568", linewidth=0.8,
                       linestyle=":")
    _month_axis(bottom)
    fig.set_layout_engine("none")
    fig.subplots_adjust(left=0.17, right=0.97, top=0.97, bottom=0.17, hspace=0.12)
    # The legend under both panels: inside the top one it would cover a period's bar.
    fig.legend(*top.get_legend_handles_labels(), loc="lower left", bbox_to_anchor=(0.02, 0.0),
               frameon=False)
    return fig


def alt_context(series: dict) -> str:
    k, d = series["killings"], series["displaced"]
    parts = []
    if len(k):
        hi = k.loc[k["per_month"].idxmax()]
        parts.append(f"killings averaged up to {hi['per_month']:,.0f} a month "
                     f"({hi['start']:%B %Y} to {hi['end']:%B %Y})")
    if len(d):
        last = d.iloc[-1]
        parts.append(f"people displaced rose from {d['value'].iloc[0]:,.0f} "
                     f"({d['date'].iloc[0]:%B %Y}) to {last['value']:,.0f} "
                     f"({last['date']:%B %Y})")
    return ("Two panels: " + "; ".join(parts) + ".") if parts else "No context figure."
