"""Sentences and headers for reports, built from computed figures, so that no number in a
report's text is typed by hand."""

from __future__ import annotations

from html import escape

import pandas as pd

from .entities import entity_name
from .personnel import DEPLOYED_RULE
from .snapshots import Snapshot
from .timeline import CONFLICT_RULE


def _date(value) -> str:
    """A date as people read it: 30 September 2024."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "an unknown date"
    d = pd.Timestamp(value)
    return f"{d.day} {d.strftime('%B %Y')}"


def _n(value) -> str:
    return "not reported" if value is None or pd.isna(value) else f"{int(value):,}"


def report_header(state, *, label: str) -> str:
    """The 'data to' line every report opens with (as HTML)."""
    when = state.as_of
    latest = when == state.view.newest
    label = label or ("all data" if latest else f"as known on {_date(when)}")
    what = (f"Data to <strong>{_date(when)}</strong>, the date of the newest fact in the "
            f"dataset" if latest else f"Data as known on <strong>{_date(when)}</strong>")
    from .dataset import method_version

    return (f'<p class="mss-meta">{what} ({escape(label)}): only facts published by then '
            f'are used. Data version <code>{state.data_version}</code>, method version '
            f'<code>{method_version()}</code> (the same two versions give the same figures).'
            f'</p>')


_QUAL = {"about": "about ", "at_least": "at least ", "at_most": "at most "}


def contributions_summary(snap: Snapshot, mission: str | None = None) -> str:
    """Executive summary of who pledged and who deployed (HTML), every figure computed."""
    head = snap.headline()
    mission = mission or head["current_mission"] or "MSS"
    m = head["missions"].get(mission)
    if m is None:
        return f'<p class="mss-gap">Nothing had been reported about the {mission} by this date.</p>'
    parts = []
    if m["status"] == "ended":
        h = m["handed_over"]
        if h["total"] == h["sum_of_contributors"]:
            how = "the contributors' own figures"
        else:
            how = (f"the last total sources stated; the contributors' own figures add up to "
                   f"{_n(h['sum_of_contributors'])}")
        parts.append(f"<li>The {mission} ended on <strong>{_date(m['end'])}</strong>, when "
                     f"the {escape(str(h['to']))} replaced it: its "
                     f"<strong>{_n(h['total'])}</strong> personnel in Haiti ({how}) stayed "
                     f"on as the {escape(str(h['to']))}'s first contingents. The figures "
                     f"below are the {mission}'s own, up to its last day.</li>")
        at_end = [c for c in m["contributors"] if c["deployed_at_end"]]
        if at_end:
            parts.append("<li>On the ground at the end: " + ", ".join(
                f"{escape(c['name'])} {_n(c['deployed_at_end'])}" for c in at_end) + ".</li>")
    elif m["status"] in ("authorized", "not started"):
        parts.append(f"<li>The {mission} had been authorized but had not yet started "
                     f"(it starts on {_date(m['start'])}).</li>")
    else:
        deployed = [c for c in m["contributors"] if c["deployed"]]
        on_ground = ", ".join(f"{escape(c['name'])} {_n(c['deployed'])}" for c in deployed)
        total = (f"<strong>{_n(m['total_deployed'])}</strong> {mission} personnel were on the "
                 f"ground")
        if m["total_date"]:
            total += f" (the latest total a source stated, for {_date(m['total_date'])}"
            if "since" in m["total_basis"]:
                total += ", updated for arrivals and departures reported after it"
            total += ")"
        if m["stale"]:
            total += f"; last reported on {_date(m['last_reported'])}"
        parts.append(f"<li>{total}. By contributor: {on_ground or 'none'} "
                     f"(adding up to {_n(m['sum_of_contributors'])}).</li>")
        plan = m["planned_strength"]
        if plan and plan["count"]:
            share = m["total_deployed"] / plan["count"] * 100
            what = ("the ceiling set by " + escape(str(plan["source"]))
                    if plan["quantity"] == "ceiling" else "the planned strength")
            parts.append(f"<li>That is <strong>{share:.0f}%</strong> of {what} of "
                         f"{_n(plan['count'])}.</li>")
    pledgers = [c for c in m["contributors"] if c["pledged"]]
    never = [c for c in pledgers if not (c["deployed"] or c["deployed_at_end"])]
    if pledgers:
        parts.append(f"<li><strong>{_n(m['total_pledged'])}</strong> personnel had been pledged "
                     f"by {len(pledgers)} countries; "
                     + (f"{'neither' if len(pledgers) == 2 else 'none'} of them had sent anyone"
                        if never and len(never) == len(pledgers) else
                        f"{len(never)} of them had sent no one")
                     + f"{': ' + ', '.join(escape(c['name']) for c in never) if never else ''}."
                     f"</li>")
    stated = m["latest_stated_pledged_total"]
    if stated:
        words = {"at_most": "up to ", "at_least": "at least ", "about": "about "}
        parts.append(f"<li>The latest round tally of pledges a source gave for the whole "
                     f"force was {words.get(stated['qualifier'] or '', '')}"
                     f"{_n(stated['count'])} ({_date(stated['date'])}), with no breakdown by "
                     f"country"
                     + (f"; the pledges on record country by country add up to "
                        f"{_n(m['total_pledged'])}" if pledgers else "") + ".</li>")
    for c in m["contributors"]:
        if c["announced"] and m["status"] == "active":
            more = (f"it would send {_n(c['announced']['count'])} more" if c["deployed"] else
                    f"it would send {_n(c['announced']['count'])}")
            parts.append(f"<li>{escape(c['name'])} had announced {more} on "
                         f"{_date(c['announced']['date'])} (under its existing pledge; "
                         f"not counted as a new pledge).</li>")
    mandate = head["mandate"]
    if mandate and mandate["mission"] == mission:
        ceiling = (f"a ceiling of {_n(mandate['ceiling_personnel'])}"
                   if mandate["ceiling_personnel"] else "no numeric ceiling")
        parts.append(f"<li>The authorization in force was resolution {mandate['resolution']} "
                     f"(adopted {_date(mandate['adopted'])}), with {ceiling}.</li>")
    return f'<div class="mss-summary"><strong>In short</strong><ul>{"".join(parts)}</ul></div>'


def pledged_title(shown: dict, mission: str) -> str:
    """A title that states the finding of the pledged-vs-deployed chart."""
    m = shown["mission"] or {}
    pledged = m.get("total_pledged") or 0
    if shown["ended"]:
        parts = sum(c["deployed_at_end"] or 0 for c in m.get("contributors", []))
        h = m.get("handed_over") or {}
        total = h.get("total", parts)
        note = (f" (the contributors' own figures add up to {parts:,})" if parts != total
                else "")
        return (f"{mission}: {total:,} on the ground when it ended{note}, against "
                f"{pledged:,} pledged")
    parts = m.get("sum_of_contributors") or 0
    total = m.get("total_deployed")
    total = parts if total is None else total
    note = (f" (the contributors' own figures add up to {parts:,})" if parts != total else "")
    return f"{mission}: {total:,} on the ground{note}, against {pledged:,} pledged"


def pledged_caption(shown: dict, plan) -> str:
    """Caption of the pledged-vs-deployed chart."""
    text = (" Grey bars: personnel pledged (distinct pledges; restatements counted once). Blue "
            "bars: personnel on the ground" + (" when the mission ended." if shown["ended"]
                                               else " on the report's date."))
    if plan:
        text += (f" The resolution capped the force as a whole at {plan['count']:,}."
                 if plan["quantity"] == "ceiling"
                 else f" The mission as a whole was planned at {plan['count']:,}.")
    return text


def strength_title(shown: dict, mission: str) -> str:
    """A title that states the finding of the strength chart."""
    tot = shown["totals"]
    if tot.empty:
        return f"{mission}: personnel on the ground"
    peak = tot.loc[tot["total"].idxmax()]
    # A total a source stated is dated by the day it describes, not the month end it fills.
    when = peak["stated_date"] if "stated_date" in peak and pd.notna(peak["stated_date"]) \
        and str(peak.get("basis", "")).startswith("total stated by a source") \
        and "since" not in str(peak.get("basis", "")) else None
    at = (f"stated for {_date(when)}" if when is not None
          else f"at the end of {pd.Timestamp(peak['month_end']):%B %Y}")
    return f"{mission}: at its largest, {int(peak['total']):,} on the ground ({at})"


def method_pointer() -> str:
    """One line pointing to the rules, which are set out once, in the sources report."""
    return ('<p class="mss-meta">Where sources disagree, one stated rule chooses; it is set out '
            'in full, with every conflict it decided, in '
            '<a href="04-sources-and-method.html">Sources and method</a>.</p>')


def method_note() -> str:
    """The rules that turn reported facts into the figures shown (HTML)."""
    return (f'<p class="mss-meta"><strong>How figures are chosen.</strong> {escape(CONFLICT_RULE)} '
            f'{escape(DEPLOYED_RULE)}</p>')


def _pct(value: float) -> str:
    """A percentage rounded half up, as readers do (56.5% is 57%), not half to even."""
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(repr(round(float(value), 9))).quantize(Decimal("1"), ROUND_HALF_UP))


def _usd(value) -> str:
    """Dollars as a reader writes them: $600 million, $7.2 million, $95,000."""
    if value is None or pd.isna(value):
        return "not reported"
    if abs(value) < 1e6:
        return f"${value:,.0f}"
    m = value / 1e6
    return f"${m:,.0f} million" if abs(m - round(m)) < 0.05 else f"${m:,.1f} million"


def funding_summary(overview: dict) -> str:
    """Executive summary of the money (HTML), every figure computed."""
    need = overview["annual_requirement_usd"]
    cover = overview["coverage_of_one_year_pct"]
    stated = overview["trust_fund_stated_received"]
    received = (stated["amount_usd"] if stated else overview["trust_fund_sum_received_usd"])
    items = []
    if overview.get("fund_inherited_from"):
        items.append(f"<li>The UN trust fund is the one set up for the "
                     f"{escape(overview['fund_inherited_from'])}: the figures below include "
                     f"everything paid in for the {escape(overview['fund_inherited_from'])} "
                     f"before this force existed.</li>")
    if stated:
        items.append(
            f"<li>The UN trust fund had received <strong>"
            f"{_QUAL.get(stated['qualifier'] or '', '')}{_usd(stated['amount_usd'])}</strong> "
            f"(the latest total a source stated, for {_date(stated['date'])}); the donor "
            f"deposits in the data add up to {_usd(overview['trust_fund_sum_received_usd'])}.</li>")
    elif overview["trust_fund_sum_received_usd"]:
        items.append(f"<li>No source had stated the trust fund's total; the donor deposits in "
                     f"the data add up to {_usd(overview['trust_fund_sum_received_usd'])}.</li>")
    else:
        items.append("<li>No source had stated what the trust fund had received, and no "
                     "deposit to it is in the data.</li>")
    pledged = overview["trust_fund_stated_pledged"]
    if pledged:
        later = (stated and pd.Timestamp(stated["date"]) > pd.Timestamp(pledged["date"])
                 + pd.Timedelta(days=90) and stated["amount_usd"] > pledged["amount_usd"])
        if later:
            items.append(f"<li>Pledges to the fund were last stated at "
                         f"{_usd(pledged['amount_usd'])} on {_date(pledged['date'])}; more has "
                         f"been paid in since than that, so later pledges are missing from the "
                         f"sources read.</li>")
        else:
            items.append(f"<li>Pledges to the fund stood at {_usd(pledged['amount_usd'])} "
                         f"({_date(pledged['date'])}).</li>")
    paid = overview["trust_fund_paid_out"]
    if paid:
        items.append(f"<li>By {_date(paid['date'])} the fund had paid out "
                     f"{_usd(paid['amount_usd'])} to {escape(entity_name(paid['recipient']))}'s police "
                     f"(reimbursements: money leaving the fund, not its total).</li>")
    unstated = overview.get("outside_fund_channel_not_stated_usd") or 0
    items.append(f"<li>Outside the fund (bilateral, in kind, support to the Haitian police), "
                 f"donors had promised {_usd(overview['outside_fund_promised_usd'])}"
                 + (f", of which {_usd(unstated)} with no channel stated" if unstated else "")
                 + "; that money is counted apart because it pays for different things.</li>")
    if overview.get("fx_flagged_instruments"):
        n = overview["fx_flagged_instruments"]
        items.append(f"<li>{n} {'promise is' if n == 1 else 'promises are'} converted to dollars "
                     f"at an exchange rate more than a month from its date (no official rate was "
                     f"found nearer); the donor table marks {'it' if n == 1 else 'them'}.</li>")
    if need["n_estimates"] == 1:
        what = f"The one published estimate of the cost was {_usd(need['central'])} a year."
        if overview.get("fund_inherited_from"):
            what += (f" The receipts set against it include the "
                     f"{escape(overview['fund_inherited_from'])}'s (the table below says what "
                     f"the estimate covers).")
        if received:
            what += (f" What the fund had received was <strong>{_pct(cover['central'])}%"
                     f"</strong> of one year at that estimate.")
        items.append(f"<li>{what}</li>")
    elif need["n_estimates"]:
        what = (f"Published estimates of the mission's cost ran from {_usd(need['low'])} to "
                f"{_usd(need['high'])} a year ({need['n_estimates']} distinct estimates, a "
                f"range counting once; median {_usd(need['central'])}).")
        if received:
            what += (f" What the fund had received was <strong>{_pct(cover['central'])}%"
                     f"</strong> of one year at the median estimate ({_pct(cover['high'])}% "
                     f"of the highest, {_pct(cover['low'])}% of the lowest). The receipts are "
                     f"everything paid in since the fund opened, set against a single year.")
        items.append(f"<li>{what}</li>")
    else:
        items.append('<li class="mss-gap">No published estimate of the annual cost was known by '
                     'this date.</li>')
    return f'<div class="mss-summary"><strong>In short</strong><ul>{"".join(items)}</ul></div>'


def _pm(value) -> str:
    return f"{value:,.0f} person-months"


def model_summary(report) -> str:
    """What the shortfall report shows, observed facts first (HTML), every figure computed.
    A person-month is one person deployed for one month."""
    projection = bool(report.scenario.get("projection"))
    items = []
    if projection:
        a = report.analysis
        b = a.strength_bands()
        end = b.iloc[-1]
        start = a.setting.initial_deployed or None
        if start:
            items.append(
                f"<li><strong>The record:</strong> the force started with the "
                f"<strong>{start:,.0f}</strong> people it took over from the MSS, "
                f"{start / a.setting.ceiling * 100:.0f}% of its ceiling of "
                f"{a.setting.ceiling:,.0f} uniformed personnel; no new contributing country "
                f"had deployed by the data's last date.</li>")
        hold = (report.calibration or {}).get("holdout")
        test = ""
        if hold:
            from .scoring import best_naive

            who, score = best_naive(hold)
            beaten = hold["model"]["crps"] < score
            names = {"random_walk": "a random walk", "linear_trend": "a straight line",
                     "last_value": "the last value carried forward"}
            better = [f"{hold[k]['crps']:,.0f} for {n}" for k, n in names.items()
                      if k in hold and hold[k]["crps"] < hold["model"]["crps"]]
            test = (f" The model behind it {'beats' if beaten else 'does not beat'} the naive "
                    f"forecasts on the MSS's own record (average error "
                    f"{hold['model']['crps']:,.0f} people"
                    + (f", against {_and(better)}" if better else
                       f", against {score:,.0f} for the best of them") + "), so read it "
                    + ("as an estimate." if beaten else
                       "as an illustration of the assumptions, not a forecast."))
        why = ""
        if start and end["median"] < start:
            import numpy as np

            d = a.draws
            att = float(np.median(d["attrition"])) * 100 if "attrition" in d else None
            lag = float(np.median(d["lag_mean"])) if "lag_mean" in d else None
            fulfil = float(np.median(d["fulfil_mean"])) * 100 if "fulfil_mean" in d else None
            why = (f" That is below the {start:,.0f} it started with: in the model, "
                   + (f"about {att:.1f}% of those on the ground leave each month and only "
                      f"pledges on record replace them (the contingents taken over from the MSS "
                      f"have no new pledge), and " if att is not None else "")
                   + (f"a pledge takes about {lag:.0f} months on average to arrive"
                      + (f", with about {fulfil:.0f}% of it ever sent" if fulfil is not None
                         else "") + " (the pace fitted to the MSS)."
                      if lag is not None else ""))
        items.append(
            f"<li><strong>A projection</strong>, not a finding: if contributors kept to the pace "
            f"the MSS kept, with the money promised to the force's trust fund and the "
            f"personnel pledges on record, the force would have about "
            f"<strong>{end['median']:,.0f}</strong> people on the ground by "
            f"the end of {pd.Timestamp(end['month']):%B %Y}, when its first 12-month "
            f"authorization runs out (80% band "
            f"{end['p10']:,.0f} to {end['p90']:,.0f}).{why}{test}</li>")
        return f'<div class="mss-summary"><strong>What this shows</strong><ul>{"".join(items)}</ul></div>'
    f = report.facts or {}
    ended = bool(f) and f.get("ended", True)
    if f:
        items.append(
            f"<li>On the record, the mission {'peaked' if ended else 'had peaked so far'} at "
            f"<strong>{f['peak']:,}</strong> people "
            f"({_date(f['peak_date'])}), {f['share_of_planned_at_peak'] * 100:.0f}% of the "
            f"planned {f['planned']:,.0f}. It took {f['months_to_400']} months from "
            f"authorization to have 400 on the ground and "
            + (f"{f['months_to_1000']} to reach 1,000" if f["months_to_1000"] is not None
               else ("had not reached 1,000 by then" if not ended else "never reached 1,000"))
            + (f". Over its {f['months']} months it delivered " if ended else
               f". In its first {f['months']} months it delivered ")
            + f"{_pm(f['person_months_delivered'])} (a person-month is one person deployed "
            f"for one month).</li>")
    refs = report.references
    if refs is not None:
        r = refs.set_index("path")["person_months"]
        items.append(
            f"<li>Had it deployed at the pace of other missions, it would have delivered more: "
            f"{_pm(r.get('UN average', 0))} more at the average pace of five UN missions, "
            f"{_pm(r.get('MINUSTAH', 0))} more at the pace of the UN's Haiti mission of 2004, but "
            f"only {_pm(r.get('AMISOM', 0))} more at the pace of the African Union's Somalia "
            f"mission, whose troops, like the MSS's, were paid for by voluntary contributions. "
            f"(The gap to the full "
            f"2,500 from the first day, {_pm(r.get('instant', 0))}, is arithmetic, not a standard "
            f"any mission meets.)</li>")
    if report.validated is None:
        items.append("<li><strong>The model could not be tested yet:</strong> no later months "
                     "were known on this date to score it on, so no figure on this page rests on "
                     "the model; its estimates are shown further down, labelled as what they "
                     "are.</li>")
    elif report.validated:
        items.append("<li>The model below beats the naive forecasts on the months it was not "
                     "fitted to, so its estimates are shown as findings, with their bands.</li>")
    else:
        items.append(
            "<li><strong>The model does not beat a naive forecast.</strong> On the months it was "
            "not fitted to, a simple random walk or a straight line predicted the strength as "
            "well or better (scores below), so <strong>no figure on this page rests on the "
            "model</strong>. Its estimates are shown further down for transparency, labelled as "
            "what they are.</li>")
    ident = report.identification
    if ident and not ident["identified"]:
        items.append(
            f"<li>The data cannot tell apart how much of the shortfall was due to money, to "
            f"unkept pledges or to logistics: recovering a known split from simulated data "
            f"missed by {ident['recovery_error_points']:.0f} points on average, and reasonable "
            f"changes to the assumptions move the split by up to "
            f"{ident['variant_spread_points']:.0f} points. So no split is given as a finding."
            f"</li>")
    return f'<div class="mss-summary"><strong>What this shows</strong><ul>{"".join(items)}</ul></div>'


def reference_title(shown: dict) -> str:
    """A title that states the finding of the reference-path chart."""
    r = shown["references"].set_index("path")["person_months"]
    return (f"At the UN-average pace the mission would have delivered {r.get('UN average', 0):,.0f} "
            f"more person-months; at AMISOM's, {r.get('AMISOM', 0):,.0f} more")


def context_title(series: dict) -> str:
    """The finding of the context chart: the latest killings rate and the latest count of
    people displaced, against the earliest."""
    k, d = series["killings"], series["displaced"]
    parts = []
    if len(k):
        short = k[(k["end"] - k["start"]).dt.days < 200]
        last = (short if len(short) else k).sort_values("end").iloc[-1]
        span = (f"{last['start']:%B}–{last['end']:%B %Y}"
                if last["start"].year == last["end"].year
                else f"{last['start']:%B %Y}–{last['end']:%B %Y}")
        parts.append(f"about {last['per_month']:,.0f} people a month were killed in {span}")
    if len(d) >= 2:
        parts.append(f"the number displaced went from {_round_people(d['value'].iloc[0])} "
                     f"({d['date'].iloc[0]:%B %Y}) to {_round_people(d['value'].iloc[-1])} "
                     f"({d['date'].iloc[-1]:%B %Y})")
    if not parts:
        return "The situation in Haiti"
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def _round_people(v: float) -> str:
    return f"{v / 1e6:.1f} million" if v >= 1e6 else f"{v:,.0f}"


def successor_pace_title(shown: dict, mission: str) -> str:
    """The finding of a successor force's chart against other missions' pace: its strength
    at the last count, against where the UN-average pace from what it took over would have put
    it by the end of that month (month end 1 = the first month end, as in the chart)."""
    obs = shown["observed"].reset_index(drop=True)
    total = int(obs["total"].iloc[-1])
    k = len(obs)
    counted = shown.get("counted_on")
    if counted is not None and pd.notna(counted):
        k = int((obs["month_end"] >= pd.Timestamp(counted)).idxmax()) + 1
        at_text = f"at the last count ({_date(counted)})"
    else:
        at_text = f"at the end of {obs['month_end'].iloc[-1]:%B %Y}"
    month = obs["month_end"].iloc[k - 1]
    label = shown.get("planned_label", "ceiling")
    head = (f"{mission}: {total:,} on the ground {at_text}, "
            f"{total / shown['planned'] * 100:.0f}% of its {label} of {shown['planned']:,.0f}")
    from .reference import path

    base = float(shown.get("base") or 0)
    avg = path(shown["shares"], "UN average", shown["planned"], k, base)
    if avg is None:
        return head
    at = avg[-1]
    return (head + f"; at the UN-average pace from the {base:,.0f} it took over it would have "
                   f"had about {round(at, -1):,.0f} by the end of {month:%B %Y}")


def bands_title(report) -> str:
    """The strength chart's title, saying what the bands are worth."""
    if report.scenario.get("projection"):
        return "Projection: strength the force would have if it kept the MSS's pace"
    if report.validated:
        return "Model estimate of strength, which beats the naive forecasts"
    if report.validated is None:
        return (f"Model estimate of strength (not tested yet: no later months to score it on; "
                f"months after {_date(report.as_of)} are a forecast)")
    return "Model estimate of strength (not a finding: it does not beat a naive forecast)"


def density_title(report) -> str:
    """The density chart's title: what the bands say against the lowest benchmark, in the
    tense the report's date allows (a projection or an unfinished record says 'would')."""
    from .analysis import benchmarks

    a = report.analysis
    bands = a.density_bands()
    low = min(benchmarks(a.parameters).values())
    top = float(bands["p90"].max())
    future = (report.scenario.get("projection")
              or a.setting.month_index[-1] > pd.Timestamp(report.as_of))
    verb = "would stay" if future else "stayed"
    where = "Security personnel per 1,000 residents of Port-au-Prince"
    if top < low:
        return f"{where} {verb} below every benchmark, even at the top of the band"
    return (f"{where} {verb} below most benchmarks; only the top of the band reaches the lowest "
            f"({low:g} per 1,000)")


def calibration_note(report) -> str:
    """One sentence on what fitting taught the model (HTML)."""
    from .analysis import posterior_summary

    t = posterior_summary(report.calibration)
    if t.empty:
        return ""
    narrowed = int((t["narrowed_to_pct"] < 70).sum())
    cal = report.calibration
    text = (f"The model was fitted by keeping, out of {cal['simulations']:,} simulated "
            f"histories, the {cal['kept']:,} whose month-end strength came closest to the "
            f"record. ")
    if narrowed == 0:
        text += ("The record is too short to pin down any of the assumptions: after fitting, "
                 "each is still about as uncertain as before.")
    else:
        text += (f"The record narrowed {narrowed} of the {len(t)} fitted assumptions; the "
                 f"others are still about as uncertain as before.")
    return f'<p>{escape(text)}</p>'


def split_note(report) -> str:
    """The split of the loss between causes: shares only if identified, else why not (HTML)."""
    ident = report.identification
    if ident is None:
        return ""
    if ident["identified"]:
        parts = ", ".join(f"{c} {v:.0f}%" for c, v in ident["base"].items())
        return (f'<p>Split of the loss (model estimate; recovery error '
                f'{ident["recovery_error_points"]:.0f} points): {parts}.</p>')
    rows = "".join(
        f"<li>{escape(label)}: " + ", ".join(f"{c} {v:.0f}%" for c, v in split.items()) + "</li>"
        for label, split in [("the calibrated assumptions", ident["base"]),
                             *ident["variants"].items()])
    return (f'<p class="mss-gap">Not identified: the model gives different splits under '
            f'assumptions the data cannot decide between, and could not recover a known split '
            f'from simulated data (mean error {ident["recovery_error_points"]:.0f} points). '
            f'For transparency only, the model\'s shares under each assumption:</p><ul>{rows}</ul>')


def gaps_list(state) -> str:
    """Known gaps (HTML): the gaps table as known on the state's date, printed whole, plus
    what the state itself shows (pledges with no arrival)."""
    from .personnel import pledge_delivery

    items = []
    for mission in state.missions["mission"]:
        delivery = pledge_delivery(state, mission)
        never = delivery[delivery["delivery"] == "not delivered"]["contributor_iso3"]
        if len(never):
            from .entities import entity_name

            items.append(f"<li>{mission} pledges with no reported arrival: "
                         f"{', '.join(entity_name(c) for c in never)}.</li>")
    gaps = state.view.gaps
    if gaps is not None:
        for g in gaps.sort_values(["applies_from", "gap_id"]).itertuples():
            items.append(f"<li>{escape(g.text)}</li>")
    items.extend(f"<li>{escape(t)}</li>" for t in fx_gaps(state))
    return f"<ul>{''.join(items)}</ul>" if items else '<p>No known gaps.</p>'


def fx_gaps(state) -> list[str]:
    """Exchange-rate gaps, computed from the money and the rates known on the state's date:
    per currency, the flows converted at a rate more than a month from their own date."""
    money = state.money
    if money is None or money.empty or "fx_flag" not in money:
        return []
    out = []
    flagged = money[money["fx_flag"].fillna(False).astype(bool)]
    for currency, rows in flagged.groupby("currency"):
        worst = rows.loc[rows["fx_days"].idxmax()] if rows["fx_days"].notna().any() else None
        if worst is None:
            out.append(f"No exchange rate for {currency} is in the data: its flows are not "
                       f"converted to dollars.")
            continue
        n = len(rows)
        what = "one amount" if n == 1 else f"{n} amounts"
        out.append(f"For {what} in {currency}, no official exchange rate was found within a "
                   f"month of {'its' if n == 1 else 'their'} date: "
                   f"{'it is' if n == 1 else 'each is'} converted at the nearest rate in the "
                   f"data ({'' if n == 1 else 'at worst '}the rate of "
                   f"{_date(worst['fx_date'])} for an amount dated "
                   f"{_date(worst['refers_to_date'])}, {int(worst['fx_days'])} days apart) "
                   f"and marked in the donor table.")
    return out


def model_caption(report) -> str:
    """Caption of the strength chart, naming what the bands are and what the model assumes."""
    kind = ("Projection" if report.scenario.get("projection")
            else "Model estimate, calibrated on the reconstructed strength")
    n = len(next(iter(report.analysis.draws.values())))
    return (f" {kind}; {n:,} accepted draws, each with its own random path. Bands: 80% and 95% "
            f"of draws. The cap is {report.analysis.setting.ceiling:,.0f} (see the assumptions "
            f"below).")


def validation_note(report) -> str:
    """How the model was fitted and how it scores against naive forecasts (HTML)."""
    cal = report.calibration
    sched = cal["schedule"]
    items = [f"<li>Calibration: approximate Bayesian computation in {len(sched)} rounds "
             f"({cal['simulations']:,} simulations); the tolerance (mean error in people) fell "
             f"from {sched[0]['tolerance']:,.0f} to {sched[-1]['tolerance']:,.0f}; "
             f"{cal['kept']:,} accepted draws.</li>"]
    hold = cal.get("holdout")
    if hold:
        from .scoring import best_naive

        m, best = hold["model"], best_naive(hold)[0]
        items.append(f"<li>Hold-out ({hold['model']['months']} months after "
                     f"{_date(cal['until'])}, not used to fit): the model's average error score "
                     f"(CRPS) is {m['crps']:,.0f} people, against {hold[best]['crps']:,.0f} for "
                     f"the best naive forecast ({best.replace('_', ' ')}); its 80% band covered "
                     f"{m['coverage_80'] * 100:.0f}% of the months.</li>")
        prior = cal.get("holdout_prior")
        if prior:
            items.append(f"<li>The uncalibrated model scores {prior['crps']:,.0f} on the same "
                         f"months (80% coverage {prior['coverage_80'] * 100:.0f}%).</li>")
    else:
        items.append('<li class="mss-gap">No later months were known at this date, so nothing '
                     'could be held out.</li>')
    back = report.backtest
    if back is not None and back.get("backtest"):
        bt = back["backtest"]
        best = min(("last_value", "linear_trend", "random_walk"), key=lambda k: bt[k]["crps"])
        items.append(f"<li>Backtest: fitted only on what was known on 30 September 2024 (data "
                     f"and parameter sources), the model scored {bt['model']['crps']:,.0f} on the "
                     f"{back['backtest_months']} months that followed, against "
                     f"{bt[best]['crps']:,.0f} for the best naive forecast "
                     f"({best.replace('_', ' ')}).</li>")
    return f"<ul>{''.join(items)}</ul>"


def assumptions(scenario: dict) -> str:
    """The scenario's stated assumptions (HTML)."""
    items = "".join(f"<li>{escape(a)}</li>" for a in scenario.get("assumptions") or [])
    label = "Projection. " if scenario.get("projection") else ""
    return (f'<p class="mss-meta"><strong>{label}Scenario {escape(scenario["name"])}:</strong> '
            f'{escape(scenario.get("description", ""))}</p><ul>{items}</ul>')


def coverage_note(counts: dict, quality: dict | None = None) -> str:
    """What the data known on the report's date holds, and what it rests on (HTML)."""
    items = [
        f"<li>{counts['fact_rows']:,} fact rows (personnel, money, cost estimates, context, "
        f"in-kind support and mandates), plus {counts['rows_by_table']['fx_rates']:,} exchange "
        f"rates and the model's parameters, from {counts['sources_cited']:,} sources; the facts "
        f"describe {_date(counts['first_date'])} to {_date(counts['last_date'])}.</li>",
        f"<li>Contributors of personnel: "
        f"{', '.join(sorted(entity_name(c) for c in counts['contributors']))}. Donors: "
        f"{', '.join(sorted(entity_name(c) for c in counts['donors']))}.</li>",
        f"<li>{counts['disputed_rows']} reports are disputed (kept, shown, never used).</li>"]
    if quality:
        def pct(v):
            return "none" if v is None else f"{v:.0f}%"
        weak = quality["headline_on_weak_page_with_original"]
        items.append(
            f"<li>{pct(quality['personnel_primary_pct'])} of the personnel figures used and "
            f"{pct(quality['money_primary_pct'])} of the money figures used rest on a text "
            f"originated by the UN, a government, the mission or a wire service.</li>")
        items.append(
            f"<li>{len(weak)} of the {quality['headline_figures']} headline figures rest only on "
            f"an aggregator, mirror or summary while an original of the same figure can be read"
            f"{': ' + ', '.join(weak) if weak else ''}; {quality['unfit_links_cited']} of the "
            f"cited pages are labelled as pages not to rely on (test or preview hosts, mirrors, "
            f"forums, automated summaries).</li>")
    return (f'<div class="mss-summary"><strong>The data behind this report</strong><ul>'
            f'{"".join(items)}</ul></div>')


def sources_display(sources: pd.DataFrame) -> pd.DataFrame:
    """The sources table as a report shows it: a link per source."""
    from .sourcing import clean_title, link_label

    links = [f'<a href="{escape(r.url)}">{escape(clean_title(r.title))}</a>'
             for r in sources.itertuples()]
    kinds = {"original": "the originator's own page", "verbatim_repost": "full repost",
             "rewrite": "rewrite by another outlet", "aggregator": "automated feed",
             "mirror": "copy on another host", "summary": "machine-written summary",
             "forum": "forum post"}
    return pd.DataFrame({
        "Published": sources["date_published"].dt.date.astype("string").fillna("undated"),
        "Publisher": sources["publisher"],
        "Source": links,
        "Who wrote it": sources["originator"],
        "Page": [kinds.get(k, str(k).replace("_", " ")) + (f" ({lab})" if lab else "")
                 for k, lab in zip(sources["page_kind"],
                                   [link_label(r) for r in sources.itertuples()],
                                   strict=True)],
        "Facts": sources["facts"],
    })


def observed_label(report) -> str:
    """What the observed series in the model chart is."""
    if report.scenario.get("initial_deployed") == "observed":
        return "Mission totals as sources reported them"
    return "Observed (computed from reported arrivals and counts)"


def index_story(state) -> dict:
    """The front page's story, key facts and timeline, computed from the latest state
    (HTML fragments): five sentences, a box of key figures, and dated events."""
    from .snapshots import from_state

    head = from_state(state).headline()
    mss = head["missions"].get("MSS")
    gsf = head["missions"].get("GSF")
    if not mss:
        return {"story": "", "facts": "", "timeline": ""}
    c = state.contributors
    own = c[c["mission"] == "MSS"]
    first = own["first_arrival"].min()
    tot = state.totals[state.totals["mission"] == "MSS"]
    peak = tot.loc[tot["total"].idxmax()] if not tot.empty else None
    plan = (mss["planned_strength"] or {}).get("count")
    pledgers = own[own["pledged"].notna()]
    never = pledgers[(pledgers["deployed"].fillna(0) == 0)
                     & (pledgers["deployed_at_end"].fillna(0) == 0)]
    tf = mss["trust_fund"]["stated_received"]
    from .funding import funding_overview

    need = funding_overview(state, "MSS")["annual_requirement_usd"]
    months = (round((first - pd.Timestamp(mss["start"])).days / 30.44)
              if pd.notna(first) else None)
    s = [f"The UN Security Council authorized the Kenya-led Multinational Security Support "
         f"mission (MSS) on {_date(mss['start'])}; its first police arrived on {_date(first)}, "
         f"{months} months later."]
    if peak is not None:
        s.append(f"At its largest it had {int(peak['total']):,} people in Haiti "
                 f"({_date(peak['month_end'])}), {peak['total'] / plan * 100:.0f}% of the "
                 f"{plan:,} planned; {len(pledgers)} countries put a number on their pledges, "
                 f"{mss['total_pledged']:,} in all, and {len(never)} of them sent no one.")
    if tf and need["n_estimates"]:
        outside = funding_overview(state, "MSS")["outside_fund_promised_usd"]
        s.append(f"The UN trust fund set up to pay for it had received about "
                 f"{_usd(tf['amount_usd'])} by {_date(tf['date'])}, against published estimates "
                 f"of {_usd(need['low'])} to {_usd(need['high'])} a year for the whole mission; "
                 f"donors also promised {_usd(outside)} outside the fund, mostly equipment, "
                 f"bilateral aid and support to the Haitian police.")
    h = mss.get("handed_over")
    if h:
        s.append(f"On {_date(h['date'])} the Gang Suppression Force (GSF), authorized by "
                 f"resolution 2793 with a ceiling of 5,550, replaced it, and the MSS's "
                 f"{h['total']:,} personnel"
                 + (f" (the contributors' own figures add up to {h['sum_of_contributors']:,})"
                    if h["sum_of_contributors"] != h["total"] else "")
                 + " stayed on under the new force.")
    if gsf and gsf["status"] == "active":
        new = [x for x in gsf["contributors"] if x["pledged"]]
        ceiling = (gsf["planned_strength"] or {}).get("count") or 5550
        s.append(f"The last count of the GSF in the data, for "
                 f"{_date(gsf['total_date'] or gsf['last_reported'])}, was "
                 f"{gsf['total_deployed']:,} people on the ground "
                 f"({gsf['total_deployed'] / ceiling * 100:.0f}% of its ceiling); "
                 + (f"{_and([x['name'] for x in new])} had pledged "
                    f"{sum(x['pledged'] for x in new):,} more, and none of them had arrived by "
                    f"{_date(state.as_of)}, the newest date in the data."
                    if new and not any(x["deployed"] for x in new) else
                    "no new contributor's pledge is on record."))
    story = "<p>" + " ".join(escape(x) for x in s) + "</p>"
    facts = [("Planned MSS strength", f"{plan:,}" if plan else "not reported")]
    if peak is not None:
        facts.append(("Most MSS personnel on the ground",
                      f"{int(peak['total']):,} ({_date(peak['month_end'])})"))
    facts.append(("Personnel pledged to the MSS", f"{mss['total_pledged']:,}"))
    if tf:
        facts.append(("UN trust fund, received", f"{_usd(tf['amount_usd'])} "
                                                  f"({_date(tf['date'])})"))
    if need["n_estimates"]:
        facts.append(("Published cost estimates (a year)",
                      f"{_usd(need['low'])} to {_usd(need['high'])}"))
    if gsf and gsf["status"] == "active":
        facts.append(("GSF on the ground", f"{gsf['total_deployed']:,} "
                                           f"({_date(gsf['total_date'] or state.as_of)})"))
    box = ('<dl class="keyfacts">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>"
                                             for k, v in facts) + "</dl>")
    return {"story": story, "facts": box, "timeline": timeline_list(state)}


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def timeline_list(state) -> str:
    """Dated events from the data: votes, first arrivals by country, the peak, the handover,
    pledges to the successor (HTML list, oldest first)."""
    events = []
    for r in state.view.mandates.itertuples():
        what = (f"Resolution {r.resolution}: the {r.mission} "
                + ("replaces the " + r.replaces if isinstance(r.replaces, str) and r.replaces
                   else "authorized" if r.resolution == state.view.mandates.iloc[0]["resolution"]
                   else "renewed"))
        if pd.notna(r.ceiling_personnel):
            what += f", ceiling {int(r.ceiling_personnel):,}"
        events.append((pd.Timestamp(r.adopted_date), what))
    c = state.contributors
    for r in c[(c["mission"] == "MSS") & c["first_arrival"].notna()].itertuples():
        events.append((r.first_arrival, f"{r.name}: first personnel arrive (MSS)"))
    for r in c[(c["mission"] == "GSF") & c["first_pledge_date"].notna()
               & c["pledged"].notna()].itertuples():
        events.append((r.first_pledge_date, f"{r.name} offers personnel to the GSF "
                                            f"({int(r.pledged):,} on the latest record)"))
    for m in state.missions.itertuples():
        if m.status == "ended" and pd.notna(m.end):
            events.append((pd.Timestamp(m.end), f"The {m.mission} ends; the {m.successor} "
                                                 f"takes over its personnel"))
    events.sort(key=lambda e: e[0])
    return "<ul class=\"timeline\">" + "".join(
        f"<li><strong>{_date(d)}</strong>: {escape(w)}</li>" for d, w in events) + "</ul>"


def undated_note(dataset) -> str:
    """How many sources have no publication date, and what that means for every report."""
    src = dataset.sources
    n = int(src["date_published"].isna().sum())
    if not n:
        return ""
    cited = set()
    for name in ("personnel", "money", "requirements", "context", "in_kind"):
        frame = getattr(dataset, name, None)
        if frame is not None:
            cited |= set(frame["source_id"])
    undated = src[src["date_published"].isna()]
    used = int(undated["source_id"].isin(cited).sum())
    return (f'<p class="mss-meta">{n} of the {len(src)} sources in the data have no '
            f"publication date that could be established ({used} of them carry facts). An "
            f"undated page counts only from the day it was read, so no report uses its facts; "
            f"where it is the only source of a figure, that figure is missing from every "
            f"report (see the data files, column date_published).</p>")
