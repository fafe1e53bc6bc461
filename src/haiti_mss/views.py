"""Everything a report shows, as data: one function per report, taking a resolved state and
returning every table, every chart's data, the summary figures, the sources cited and the
gaps listed. Notebooks display these and nothing else, so a test can compare what a report
shows between two states (the as-of leak test)."""

from __future__ import annotations

import pandas as pd

from . import dataset, funding, personnel
from .entities import CHANNEL_LABELS, entity_name
from .resolve import State
from .snapshots import from_state


def contributions(state: State, mission: str) -> dict:
    """Report 01: who pledged and who deployed."""
    snap = from_state(state)
    head = snap.headline()
    m = state.mission(mission)
    ended = m is not None and m["status"] == "ended"
    rows = personnel.contributors(state, mission)
    per = personnel.monthly(state, mission)
    tot = personnel.totals(state, mission)
    recon = personnel.reconciliation(state, mission)
    delivery = personnel.pledge_delivery(state, mission)
    return {
        "headline": head,
        "mission": head["missions"].get(mission),
        "contributors": rows,
        "contributor_table": personnel.contributor_table(rows, ended=ended),
        "delivery": delivery,
        "delivery_table": personnel.delivery_table(delivery),
        "monthly": per,
        "totals": tot,
        "monthly_table": personnel.monthly_table(per, tot) if len(per) else pd.DataFrame(),
        "reconciliation": recon,
        "reconciliation_table": personnel.reconciliation_table(recon),
        "stated_totals": state.stated_totals[state.stated_totals["mission"] == mission],
        "sources": personnel.cited_sources(state, mission),
        "ended": ended,
        "events": mandate_events(state),
    }


def mandate_events(state: State) -> list[tuple[pd.Timestamp, str]]:
    """The Security Council votes known on the report's date, as (date, short label) pairs
    for time charts: authorisation, renewals and a replacement."""
    out = []
    seen = set()
    for r in state.view.mandates.sort_values("adopted_date").itertuples():
        if pd.notna(r.replaces) and str(r.replaces):
            what = f"{r.mission} replaces {r.replaces}"
        elif r.mission in seen:
            what = f"{r.mission} renewed"
        else:
            what = f"{r.mission} authorized"
        seen.add(r.mission)
        out.append((pd.Timestamp(r.adopted_date), f"Res. {r.resolution}: {what}"))
    return out


def money(state: State, mission: str) -> dict:
    """Report 02: where the money is."""
    by_donor = funding.money_by_donor(state, mission)
    monthly = funding.monthly_trust_fund(state, mission)
    stated = funding.stated_fund_totals(state, mission)
    return {
        "overview": funding.funding_overview(state, mission),
        "requirements_table": funding.requirements_table(state, mission),
        "by_donor": by_donor,
        "donor_table": funding.donor_table(by_donor),
        "trust_fund_monthly": monthly,
        "trust_fund_stated": stated,
        "trust_fund_table": funding.trust_fund_table(monthly, stated),
        "sources": funding.cited_sources(state, mission),
    }


CONFLICT_TABLES = {
    "personnel": ("personnel_decisions", "count",
                  lambda r: f"{entity_name(r.contributor_iso3)}, {r.event} ({r.mission}), "
                            f"{_d(r.refers_to_date)}"),
    "money": ("money_decisions", "amount",
              lambda r: f"{entity_name(r.donor)}, {CHANNEL_LABELS.get(r.channel, r.channel)} "
                        f"{r.status} ({r.mission}, {r.currency})"),
    "requirements": ("requirement_decisions", "amount", lambda r: f"{r.estimator}: {r.basis}"),
    "context": ("context_decisions", "value",
                lambda r: f"{r.indicator} ({r.geography}), {_d(r.refers_to_date)}"),
}


def _d(value) -> str:
    return "undated" if pd.isna(value) else pd.Timestamp(value).date().isoformat()


def conflicts(state: State, table: str) -> pd.DataFrame:
    """Every group whose reports disagree, or that holds a report that was not used: the
    values reported, the value the rule chose and why the others lost."""
    attr, value, label = CONFLICT_TABLES[table]
    decisions = getattr(state, attr)
    keys = ["group_id", "status"] if table == "money" else ["group_id"]
    rows = []
    for _, own in decisions.groupby(keys, sort=True):
        values = sorted(set(own[value].dropna().astype(float)))
        unused = own[own["outcome"] == "excluded"]
        if len(values) < 2 and unused.empty:
            continue
        chosen = own[own["outcome"] == "chosen"]
        first = own.sort_values("fact_id").iloc[0]
        rows.append({
            "quantity": label(first),
            "reports": len(own),
            "values reported": ", ".join(f"{v:,.0f}" for v in values),
            "value used": (", ".join(f"{v:,.0f}" for v in chosen[value].astype(float))
                           if not chosen.empty else "none"),
            "chosen row": ", ".join(chosen["fact_id"]) or "none",
            "not used, and why": "; ".join(f"{r.fact_id}: {r.reason}" for r in
                                           own[own["outcome"] != "chosen"].itertuples()
                                           if r.outcome == "excluded"
                                           or getattr(r, value) != (chosen[value].iloc[-1]
                                                                    if not chosen.empty
                                                                    else None)),
        })
    out = pd.DataFrame(rows, columns=["quantity", "reports", "values reported", "value used",
                                      "chosen row", "not used, and why"])
    return out.sort_values(["quantity", "chosen row"], kind="mergesort").reset_index(drop=True)


PRIMARY_KINDS = ("un", "government", "mission", "wire_service")
WEAK_PAGES = ("aggregator", "mirror", "summary", "forum")


def headline_facts(state: State) -> pd.DataFrame:
    """The rows behind the figures a snapshot prints: per mission, each contributor's latest
    head-count or arrivals and its pledges, the stated total, the planned strength and the
    trust fund's stated totals."""
    from .resolve import trust_fund

    ids = []
    p = state.personnel
    for mission in state.missions["mission"]:
        own = p[p["mission"] == mission]
        for who, ev in own[own["contributor_iso3"] != ""].groupby("contributor_iso3"):
            stocks = ev[ev["event"] == "deployed"].sort_values("date")
            used = stocks.tail(1) if not stocks.empty else ev[ev["event"] == "arrived"]
            ids += [("deployed", mission, who, f) for f in used["fact_id"]]
            ids += [("pledged", mission, who, f) for f in ev.loc[ev["event"] == "pledged",
                                                                    "fact_id"]]
        tot = state.totals[state.totals["mission"] == mission]
        if not tot.empty and isinstance(tot.iloc[-1]["fact_id"], str):
            ids.append(("mission total", mission, "", tot.iloc[-1]["fact_id"]))
        plan = state.planned[state.planned["mission"] == mission]
        if not plan.empty and isinstance(plan.iloc[0]["fact_id"], str):
            ids.append(("planned strength", mission, "", plan.iloc[0]["fact_id"]))
        tf = trust_fund(state, mission)
        for key in ("stated_received", "stated_pledged"):
            if tf[key]:
                ids.append((f"trust fund {key.split('_')[1]}", mission, "", tf[key]["fact_id"]))
    return pd.DataFrame(ids, columns=["figure", "mission", "contributor_iso3", "fact_id"])


def source_quality(state: State) -> dict:
    """How much of what the reports show rests on a UN, government, mission or wire
    originator; how many of the headline figures rest only on an aggregator, mirror or summary
    while an original (or a full verbatim copy) of the same quantity can be read; undated
    sources."""
    src = state.view.sources.set_index("source_id")

    def share(frame):
        if frame.empty:
            return None
        kinds = frame["source_id"].map(src["originator_kind"])
        return float(kinds.isin(PRIMARY_KINDS).mean() * 100)

    people = state.personnel[state.personnel["latest"] & (state.personnel["fact_id"] != "")]
    money = state.money[state.money["latest"]] if not state.money.empty else state.money
    heads = headline_facts(state)
    decisions = pd.concat([state.personnel_decisions.assign(table="personnel"),
                           state.money_decisions.assign(table="money")], ignore_index=True)
    by_fact = decisions.drop_duplicates("fact_id").set_index("fact_id")
    weak = []
    for h in heads.itertuples():
        if h.fact_id not in by_fact.index:
            continue
        row = by_fact.loc[h.fact_id]
        page = src.loc[row["source_id"], "page_kind"]
        if page not in WEAK_PAGES:
            continue
        value = "count" if row["table"] == "personnel" else "amount"
        group = decisions[(decisions["group_id"] == row["group_id"])
                          & (decisions["table"] == row["table"])
                          & (decisions[value] == row[value])]
        better = group["source_id"].map(src["page_kind"]).isin(["original", "verbatim_repost"])
        if better.any():
            weak.append(h.fact_id)
    return {
        "personnel_primary_pct": share(people),
        "money_primary_pct": share(money),
        "personnel_values": int(len(people)),
        "money_values": int(len(money)),
        "headline_figures": int(len(heads)),
        "headline_on_weak_page_with_original": weak,
        "undated_sources": int(dataset.sources_table(state.view)["date_published"].isna().sum()),
        "unfit_links_cited": int((dataset.sources_table(state.view)["link_fit"]
                                  .str.startswith("no")).sum()),
    }


def sources_and_method(state: State) -> dict:
    """Report 04: the data behind the reports, the conflicts, the gaps and every source."""
    view = state.view
    return {
        "coverage": dataset.coverage_counts(view),
        "quality": source_quality(state),
        "conflicts": {name: conflicts(state, name) for name in CONFLICT_TABLES},
        "gaps": view.gaps.sort_values(["applies_from", "gap_id"]).reset_index(drop=True)
        if view.gaps is not None else pd.DataFrame(),
        "sources": dataset.sources_table(view),
    }


def model(report, state: State, dataset_) -> dict:
    """Report 03: the record against other missions (data), then the model. The reference
    missions are history (2003-2017), cited from the whole dataset's sources."""
    from . import analysis, reference

    mission = report.scenario["mission"]
    out = {"references": report.references, "scores": analysis.scores_table(report),
           "out_of_sample": None, "observed": None, "shares": None, "planned": None,
           "start": None, "reference_table": None, "missions_table": None,
           "reference_sources": []}
    if report.references is not None:
        tot = reference._month_ends(state, mission)[["month_end", "total"]]
        refs = report.references
        out.update({
            "observed": tot.reset_index(drop=True),
            "shares": reference.shares(dataset_),
            "planned": float(report.analysis.setting.ceiling),
            "start": state.mission(mission)["start"],
            "reference_table": pd.DataFrame({
                "Reference path": refs["reference"],
                "Short by (person-months)": refs["person_months"].round(0).astype(int),
                "Delivered by the mission (person-months)":
                    refs["observed_person_months"].round(0).astype(int),
                "Months compared": refs["months"]}),
            "missions_table": reference.reference_table(dataset_).rename(columns={
                "mission": "Mission", "authorized": "Authorized (uniformed)",
                "funding": "Paid for by", "authorized_date": "Authorized",
                "months_to_50pct": "Months to half", "months_to_90pct": "Months to 90%",
                "share_at_12_months": "Share after 12 months"}),
            "reference_sources": sorted(set(dataset_.reference_missions["source_id"])
                                        | set(dataset_.reference_points["source_id"])),
        })
        table = out["missions_table"]
        table["Authorized"] = pd.to_datetime(table["Authorized"]).dt.date.astype(str)
        table["Share after 12 months"] = (table["Share after 12 months"] * 100).round(0) \
            .astype("Int64").astype(str) + "%"
        for col in ("Months to half", "Months to 90%"):
            table[col] = table[col].map(lambda v: "not within the data" if pd.isna(v)
                                        else f"{v:.0f}")
    elif (m := state.mission(mission)) is not None and pd.notna(m["ceiling"]):
        # A successor force with a record of its own but no fitted model: its month-end
        # strength against the same reference paths to its ceiling (no person-months are
        # computed: it started with its predecessor's personnel, so a sum would flatter it).
        ends = reference._month_ends(state, mission)
        tot = ends[["month_end", "total"]]
        if len(tot):
            # Head-counts are of uniformed police and soldiers: the uniformed ceiling is the
            # denominator. The paths start from what the force took over and cover the rest
            # at each reference mission's pace.
            uniformed = pd.notna(m["ceiling_uniformed"])
            ceiling = float(m["ceiling_uniformed"] if uniformed else m["ceiling"])
            from .events import handed_over

            base = float(handed_over(state, mission) or 0)
            shares = reference.shares(dataset_)
            out.update({"observed": tot.reset_index(drop=True),
                        "counted_on": ends["stated_date"].iloc[-1],
                        "observed_label": "This force (sources, reconstructed)",
                        "planned_label": "uniformed ceiling" if uniformed else "ceiling",
                        "base": base,
                        "pace_table": _pace_table(tot.reset_index(drop=True), shares, ceiling,
                                                  base),
                        "shares": shares,
                        "planned": ceiling, "start": m["start"],
                        "reference_sources": sorted(
                            set(dataset_.reference_missions["source_id"])
                            | set(dataset_.reference_points["source_id"]))})
    if report.out_of_sample is not None:
        oos = report.out_of_sample
        out["out_of_sample"] = pd.DataFrame({
            "Mission": oos["mission"],
            "Model": oos["params"].map({"calibrated": "fitted to the MSS",
                                        "prior": "before fitting"}).fillna(oos["params"]),
            "Months compared": oos["points"].astype(int),
            "Median off by (share of authorized strength)":
                oos["median_abs_error_share"].round(2),
            "Average forecast error (CRPS, share)": oos["crps_share"].round(2),
            "Truth inside the 80% band (% of months)":
                (oos["coverage_80"] * 100).round(0).astype(int)})
    return out


def _pace_table(observed: pd.DataFrame, shares: pd.DataFrame, ceiling: float,
                base: float) -> pd.DataFrame:
    """The successor's pace chart as a table: its month-end strength and, at each reference
    mission's pace, what it would have had (the inherited strength plus that mission's share
    of the rest of the ceiling, month end 1 = the first month end)."""
    from . import reference

    out = pd.DataFrame({"Month end": observed["month_end"].dt.date.astype(str),
                        "On the ground (sources)": observed["total"].astype(int)})
    names = {"MINUSTAH": "At MINUSTAH's pace", "UN average": "At the UN-average pace",
             "AMISOM": "At AMISOM's pace"}
    for key, col in names.items():
        values = reference.path(shares, key, ceiling, len(observed), base)
        if values is not None:
            out[col] = [int(round(v)) for v in values]
    return out


CONTEXT_WORDS = {"people_killed": "People killed", "people_kidnapped": "People kidnapped",
                 "idp": "People displaced inside Haiti",
                 "gang_control_share": "Share of Port-au-Prince under gang control"}


def context_table(state: State) -> pd.DataFrame:
    """The situation the mission faced, as known on the report's date: killings and
    kidnappings per full calendar year and in the latest quarter reported, the latest count
    of people displaced and the latest share of the capital held by gangs, each with who
    reported it."""
    c = state.context
    if c is None or c.empty:
        return pd.DataFrame()
    c = c[c["latest"].astype(bool) & c["indicator"].isin(CONTEXT_WORDS)]
    names = state.view.sources.set_index("source_id")["originator"]
    words = {"about": "about ", "at_least": "at least ", "at_most": "at most "}
    rows = []

    def add(r, period):
        unit = "%" if r.unit == "percent" else ""
        q = words.get(r.qualifier, "") if isinstance(r.qualifier, str) else ""
        rows.append({"What": CONTEXT_WORDS[r.indicator], "Period or date": period,
                     "Figure": f"{q}{r.value:,.0f}{unit}",
                     "Reported by": names.get(r.source_id, r.source_id)})

    for ind in ("people_killed", "people_kidnapped"):
        own = c[(c["indicator"] == ind) & c["period_start"].notna()]
        # A period stated without its end ("so far this year") ends on the date it describes.
        own = own.assign(open_end=own["period_end"].isna(),
                         period_end=own["period_end"].fillna(own["date"]))
        years = own[(own["period_start"].dt.strftime("%m-%d") == "01-01")
                    & (own["period_end"].dt.strftime("%m-%d") == "12-31")
                    & (own["period_start"].dt.year == own["period_end"].dt.year)]
        for r in years.sort_values("period_start").itertuples():
            add(r, f"{r.period_start.year} (whole year)")
        # The most recent period reported that is not a whole year already shown (a quarter,
        # a half-year, a year to date), the longest if several end on the same day.
        rest = own.drop(index=years.index)
        if not rest.empty:
            rest = rest.assign(_len=rest["period_end"] - rest["period_start"])
            r = rest.sort_values(["period_end", "_len"]).iloc[-1:].itertuples().__next__()
            if r.open_end:
                # "Since January": the source does not say up to when it counted.
                add(r, f"since {r.period_start:%-d %B %Y}, as reported on "
                       f"{r.period_end:%-d %B %Y} (the end of the period counted is not "
                       f"stated; latest period reported)")
            else:
                add(r, f"{r.period_start:%-d %B %Y} to {r.period_end:%-d %B %Y} (latest "
                       f"period reported)")
    for ind in ("idp", "gang_control_share"):
        own = c[c["indicator"] == ind].sort_values("date")
        if not own.empty:
            r = own.iloc[-1:].itertuples().__next__()
            add(r, f"{r.date.day} {r.date:%B %Y} (latest reported)")
    return pd.DataFrame(rows)


def context_series(state: State) -> dict:
    """The context as time series for a chart, as known on the report's date:
    ``killings``, one row per reported period of killings in Haiti (``start``, ``end``,
    ``total``, ``per_month`` = the total spread evenly over the period's months); and
    ``displaced``, the counts of people displaced inside Haiti at the dates they describe.
    Only figures whose date a source stated are drawn (a page's own date is not the date of
    the count it repeats); restatements count once."""
    c = state.context
    empty = {"killings": pd.DataFrame(columns=["start", "end", "total", "per_month",
                                               "source_id"]),
             "displaced": pd.DataFrame(columns=["date", "value", "source_id"])}
    if c is None or c.empty:
        return empty
    c = c[c["latest"].astype(bool) & (c["geography"] == "HTI")]
    k = c[(c["indicator"] == "people_killed") & c["period_start"].notna()
          & c["period_end"].notna()]
    k = k.assign(start=k["period_start"], end=k["period_end"], total=k["value"])
    # Whole calendar months when the period is made of them (a quarter is 3), else its days
    # over the average month's.
    whole = (k["start"].dt.day == 1) & k["end"].dt.is_month_end
    calendar = ((k["end"].dt.year - k["start"].dt.year) * 12
                + k["end"].dt.month - k["start"].dt.month + 1)
    months = calendar.where(whole, ((k["end"] - k["start"]).dt.days + 1) / (365.25 / 12))
    k = k.assign(per_month=k["total"] / months)
    d = c[(c["indicator"] == "idp") & c["refers_to_date_stated"].astype(bool)]
    return {"killings": k[["start", "end", "total", "per_month", "source_id"]]
            .sort_values(["start", "end"]).reset_index(drop=True),
            "displaced": d[["date", "value", "source_id"]].sort_values("date")
            .reset_index(drop=True)}
