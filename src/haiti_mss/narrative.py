"""Sentences and headers for reports, built from computed figures, so that no number in a
report's text is typed by hand."""

from __future__ import annotations

import datetime as dt
from html import escape

import pandas as pd

from .personnel import DEPLOYED_RULE
from .snapshots import Snapshot
from .timeline import CONFLICT_RULE


def resolve_as_of(as_of: str) -> str:
    """The report parameter ``as_of``: an ISO date, or ``latest`` for everything in the data."""
    if as_of == "latest":
        return dt.date.today().isoformat()
    return dt.date.fromisoformat(as_of).isoformat()


def _n(value) -> str:
    return "not reported" if value is None or pd.isna(value) else f"{int(value):,}"


def report_header(snap: Snapshot, *, label: str) -> str:
    """The 'data as of' line every report opens with (as HTML)."""
    return (f'<p class="mss-meta">Data as of <strong>{snap.as_of.date().isoformat()}</strong> '
            f'({escape(label)}): only facts published on or before this date are used. '
            f'Data version <code>{snap.data_version}</code>.</p>')


def contributions_summary(snap: Snapshot, mission: str | None = None) -> str:
    """Executive summary of who pledged and who deployed (HTML), every figure computed."""
    head = snap.headline()
    mission = mission or head["current_mission"]
    m = head["missions"].get(mission)
    if m is None:
        return f'<p class="mss-gap">Nothing had been reported about the {mission} by this date.</p>'
    deployed = [c for c in m["contributors"] if c["deployed"]]
    never = [c for c in m["contributors"] if c["pledged"] and not c["deployed"]]
    plan = m["planned_strength"]
    on_ground = ", ".join(f"{escape(c['name'])} {_n(c['deployed'])}" for c in deployed)
    parts = [f"<li><strong>{_n(m['total_deployed'])}</strong> {mission} personnel were on the "
             f"ground ({on_ground or 'none'}).</li>"]
    if plan:
        share = m["total_deployed"] / plan["count"] * 100 if plan["count"] else float("nan")
        parts.append(f"<li>That is <strong>{share:.0f}%</strong> of the planned strength of "
                     f"{_n(plan['count'])} (latest stated {plan['date']}).</li>")
    parts.append(f"<li><strong>{_n(m['total_pledged'])}</strong> personnel had been pledged by "
                 f"{sum(1 for c in m['contributors'] if c['pledged'])} countries; {len(never)} of "
                 f"them had sent no one yet"
                 f"{': ' + ', '.join(escape(c['name']) for c in never) if never else ''}.</li>")
    for c in m["contributors"]:
        if c["announced"]:
            parts.append(f"<li>{escape(c['name'])} had announced {_n(c['announced']['count'])} "
                         f"more on {c['announced']['date']} (under its existing pledge; not "
                         f"counted as a new pledge).</li>")
    mandate = head["mandate"]
    if mandate:
        ceiling = (f"a ceiling of {_n(mandate['ceiling_personnel'])}"
                   if mandate["ceiling_personnel"] else "no numeric ceiling")
        parts.append(f"<li>The authorization in force was resolution {mandate['resolution']} "
                     f"(adopted {mandate['adopted']}), with {ceiling}.</li>")
    if m["latest_reported_total"]:
        t = m["latest_reported_total"]
        parts.append(f"<li>The latest mission-wide count a source reported was {_n(t['count'])} "
                     f"on {t['date']}.</li>")
    return f'<div class="mss-summary"><strong>In short</strong><ul>{"".join(parts)}</ul></div>'


def method_note() -> str:
    """The rules that turn reported facts into the figures shown (HTML)."""
    return (f'<p class="mss-meta"><strong>How figures are chosen.</strong> {escape(CONFLICT_RULE)} '
            f'{escape(DEPLOYED_RULE)}</p>')


def _usd(value) -> str:
    if value is None or pd.isna(value):
        return "not reported"
    return f"${value / 1e6:,.1f} million"


def funding_summary(overview: dict) -> str:
    """Executive summary of the money (HTML), every figure computed."""
    need = overview["annual_requirement_usd"]
    cover = overview["coverage_of_one_year_pct"]
    items = [
        f"<li>Donors had put <strong>{_usd(overview['trust_fund_received_usd'])}</strong> into "
        f"the UN trust fund (sum of donor instruments) out of "
        f"{_usd(overview['trust_fund_promised_usd'])} promised; the latest total a source stated "
        f"was {_usd(overview['trust_fund_stated_received_usd'])} received and "
        f"{_usd(overview['trust_fund_stated_pledged_usd'])} pledged.</li>",
        f"<li>Outside the fund (bilateral, in kind, support to the Haitian police), donors had "
        f"promised {_usd(overview['outside_fund_promised_usd'])}; that money is counted apart "
        f"because it pays for different things.</li>",
    ]
    if need["n_estimates"]:
        items.append(
            f"<li>Published estimates of the mission's cost ran from {_usd(need['low'])} to "
            f"{_usd(need['high'])} a year (median {_usd(need['central'])}, "
            f"{need['n_estimates']} estimates). What the fund had received covered "
            f"<strong>{cover['central']:.0f}%</strong> of one year at the median estimate "
            f"({cover['high']:.0f}% at the highest, {cover['low']:.0f}% at the lowest).</li>")
    else:
        items.append('<li class="mss-gap">No published estimate of the annual cost was known by '
                     'this date.</li>')
    return f'<div class="mss-summary"><strong>In short</strong><ul>{"".join(items)}</ul></div>'


def model_summary(report) -> str:
    """Executive summary of the shortfall model (HTML), every figure computed."""
    a = report.analysis
    pml = a.person_months_lost().set_index("reference")
    split = a.loss_split().set_index("cause")
    projection = bool(report.scenario.get("projection"))

    def band(row):
        return f"{row['median']:,.0f} (80% band {row['p10']:,.0f} to {row['p90']:,.0f})"

    items = []
    if projection:
        items.append(f"<li><strong>This is a projection.</strong> "
                     f"{escape(report.scenario['description'])}</li>")
    items.append(f"<li>Against a force at its full {a.setting.ceiling:,.0f} from the start, the "
                 f"mission fell short by <strong>{band(pml.loc['instant ceiling'])}</strong> "
                 f"person-months over {a.setting.months} months.</li>")
    items.append(f"<li>Against what full funding with realistic lags would have delivered: "
                 f"{band(pml.loc['full funding, realistic lags'])} person-months; against all "
                 f"pledges kept: {band(pml.loc['all pledges kept'])}.</li>")
    parts = [f"{c} {split.loc[c, 'share_pct']:.0f}%" for c in ("pledges", "logistics", "funding")]
    items.append(f"<li>Of the person-months the three gates cost together "
                 f"({band(split.loc['total'])}), the Shapley split gives: {', '.join(parts)} "
                 f"(shares of the mean loss; in every draw the three parts add up to the "
                 f"total).</li>")
    cal = report.calibration
    if "holdout_coverage_80" in cal:
        on = "the MSS's " if projection else ""
        items.append(f"<li>Calibrated on {int(cal['fit_mask'].sum())} of {on}observed months, the model's "
                     f"80% band covered {cal['holdout_coverage_80'] * 100:.0f}% of the "
                     f"{cal['holdout_months']} held-out months (mean error "
                     f"{cal['holdout_mae']:,.0f} people).</li>")
    return f'<div class="mss-summary"><strong>In short</strong><ul>{"".join(items)}</ul></div>'


def gaps_list(ds, as_of) -> str:
    """Known gaps (HTML): what the data could not establish, computed where possible, plus
    the curated list in data/README.md."""
    from . import paths
    from .personnel import pledge_delivery

    delivery = pledge_delivery(ds.personnel, as_of)
    never = delivery[delivery["delivery"] == "not delivered"]["contributor_iso3"].tolist()
    undated = int(ds.sources["date_published"].isna().sum())
    items = [
        f"<li>{undated} of {len(ds.sources)} sources show no publication date; their facts only "
        f"count from the day we read them, so they never appear in earlier snapshots.</li>",
        f"<li>Pledges with no reported arrival: {', '.join(never) or 'none'}.</li>",
    ]
    readme = (paths.data_dir() / "README.md").read_text(encoding="utf-8")
    if "## Known gaps" in readme:
        section = readme.split("## Known gaps", 1)[1].split("\n## ", 1)[0]
        items += [f"<li>{escape(line[2:].strip())}</li>" for line in section.splitlines()
                  if line.startswith("- ")]
    return f"<ul>{''.join(items)}</ul>"


def model_caption(report) -> str:
    """Caption of the strength chart, naming what the bands are and what the model assumes."""
    kind = "Projection" if report.scenario.get("projection") else "Model calibrated on observed strength"
    n = len(next(iter(report.analysis.draws.values())))
    return (f" {kind}; {n:,} draws. Bands: 80% and 95% of draws. The cap is "
            f"{report.analysis.setting.ceiling:,.0f} (see the assumptions below).")


def validation_note(report) -> str:
    """How well the model fits: calibration error, hold-out coverage, backtest (HTML)."""
    cal = report.calibration
    items = [f"<li>Calibration kept the {cal['kept']:,} closest of {cal['prior']:,} draws; their "
             f"median mean absolute error on the {int(cal['fit_mask'].sum())} calibration months "
             f"is {cal['fit_mae']:,.0f} people.</li>"]
    if "holdout_coverage_80" in cal:
        items.append(f"<li>Hold-out: the {cal['holdout_months']} later months were not used to "
                     f"calibrate; the 80% band covers {cal['holdout_coverage_80'] * 100:.0f}% of "
                     f"them, and the median is off by {cal['holdout_mae']:,.0f} people on average "
                     f"({cal['holdout_mape_pct']:.0f}%).</li>")
    else:
        items.append('<li class="mss-gap">No later months were known at this date, so nothing '
                     'could be held out.</li>')
    back = report.backtest
    if back is not None and back.get("backtest_months"):
        items.append(f"<li>Backtest: calibrated only on facts published by 30 September 2024, the "
                     f"model's 80% band covered {back['backtest_coverage_80'] * 100:.0f}% of the "
                     f"{back['backtest_months']} months that followed (mean error "
                     f"{back['backtest_mae']:,.0f} people).</li>")
    return f"<ul>{''.join(items)}</ul>"


def assumptions(scenario: dict) -> str:
    """The scenario's stated assumptions (HTML)."""
    items = "".join(f"<li>{escape(a)}</li>" for a in scenario.get("assumptions") or [])
    label = "Projection. " if scenario.get("projection") else ""
    return (f'<p class="mss-meta"><strong>{label}Scenario {escape(scenario["name"])}:</strong> '
            f'{escape(scenario.get("description", ""))}</p><ul>{items}</ul>')


def coverage_note(counts: dict) -> str:
    """What the dataset holds (HTML)."""
    return (f'<div class="mss-summary"><strong>The dataset</strong><ul>'
            f"<li>{counts['fact_rows']:,} fact rows from {counts['sources_cited']:,} cited sources "
            f"({counts['sources']:,} listed), describing {counts['first_date']} to "
            f"{counts['last_date']}.</li>"
            f"<li>Contributors: {', '.join(counts['contributors'])}. Donors: "
            f"{', '.join(counts['donors'])}.</li>"
            f"<li>{counts['disputed_rows']} reports are disputed (kept, shown, never used); "
            f"{counts['undated_sources']} sources are undated.</li></ul></div>")


def sources_display(sources: pd.DataFrame) -> pd.DataFrame:
    """The sources table as a report shows it: a link per source."""
    links = [f'<a href="{escape(r.url)}">{escape(r.title)}</a>' for r in sources.itertuples()]
    return pd.DataFrame({
        "Published": sources["date_published"].dt.date.astype("string").fillna("undated"),
        "Publisher": sources["publisher"],
        "Source": links,
        "Kind": sources["kind"].str.replace("_", " "),
        "Facts": sources["facts"],
        "Id": sources["source_id"],
    })


def observed_label(report) -> str:
    """What the observed series in the model chart is."""
    if report.scenario.get("initial_deployed") == "observed":
        return "Mission totals as sources reported them"
    return "Observed (computed from reported arrivals and counts)"
