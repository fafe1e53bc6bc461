"""Personnel tables from a resolved state: pledged against deployed per contributor, strength
month by month, reported mission totals beside the sum of contributors, and which pledges
were kept. Nothing here filters by date: the state was cut and resolved once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .entities import entity_name
from .resolve import State

DEPLOYED_RULE = (
    "A contributor's strength on a date is its last reported head-count on or before that "
    "date, plus the arrivals and less the departures reported after it (a relief contingent "
    "replaces people and changes nothing); with no head-count, arrivals less departures. The "
    "mission's total is the latest total a source stated, rolled forward by the change in the "
    "contributors' figures since; the sum of the contributors stands beside it. After a "
    "mission ends nobody is on the ground for it: its successor takes over the last counts."
)


def _day(values: pd.Series) -> pd.Series:
    """Dates as ISO text (missing stays missing), whatever dtype an empty frame has."""
    return pd.to_datetime(values).dt.date.astype("string")


def contributors(state: State, mission: str) -> pd.DataFrame:
    """Pledged against deployed per contributor of ``mission`` on the state's date."""
    own = state.contributors[state.contributors["mission"] == mission]
    return own.sort_values(["deployed", "pledged"], ascending=False,
                           na_position="last").reset_index(drop=True)


def contributor_table(rows: pd.DataFrame, ended: bool = False) -> pd.DataFrame:
    """The per-contributor table a report shows: readable headers, gaps kept as gaps."""
    deployed = rows["deployed_at_end"] if ended else rows["deployed"]
    return pd.DataFrame({
        "Contributor": rows["name"],
        "Pledged (people)": rows["pledged"].astype("Int64"),
        ("On the ground when the mission ended" if ended else "On the ground (people)"):
            deployed.astype("Int64"),
        "Share of pledge on the ground (%)": (deployed / rows["pledged"] * 100)
        .astype("Float64").round(0).astype("Int64"),
        "Last reported": _day(rows["last_reported"]),
        "How the figure was built": rows["basis"],
    }).reset_index(drop=True)


def monthly(state: State, mission: str) -> pd.DataFrame:
    """Strength per contributor at each month end of the mission's time (long format)."""
    out = state.strength[state.strength["mission"] == mission]
    return out.assign(name=out["contributor_iso3"].map(entity_name)).reset_index(drop=True)


def totals(state: State, mission: str) -> pd.DataFrame:
    """The mission's head-count at each month end, with how it was built."""
    own = state.totals[state.totals["mission"] == mission]
    return own.reset_index(drop=True)


def monthly_table(per: pd.DataFrame, tot: pd.DataFrame) -> pd.DataFrame:
    """Month-end strength as a wide table: one column per contributor, their sum and the
    mission total (the stated total where sources gave one)."""
    wide = per.pivot_table(index="month_end", columns="name", values="deployed",
                           aggfunc="sum").fillna(0).astype(int)
    wide["Sum of contributors"] = wide.sum(axis=1)
    t = tot.set_index("month_end")
    wide["Mission total"] = t["total"].reindex(wide.index).astype("Int64")
    wide["How the total was built"] = t["basis"].reindex(wide.index)
    wide.index = wide.index.date.astype(str)
    return wide.reset_index(names="Month end")


def reconciliation(state: State, mission: str) -> pd.DataFrame:
    """Each mission-wide head-count a source stated, next to the sum of the contributors'
    figures for the same day; the difference is listed, never hidden."""
    from .resolve import event_records, strength_at

    stated = state.personnel[(state.personnel["event"] == "deployed")
                             & (state.personnel["contributor_iso3"] == "")
                             & (state.personnel["mission"] == mission)]
    strength = state.extra["strength_events"]
    own = strength[(strength["mission"] == mission) & (strength["contributor_iso3"] != "")]
    parts = {who: event_records(ev) for who, ev in own.groupby("contributor_iso3")}
    rows = []
    for r in stated.itertuples():
        per = {who: strength_at(rec, r.date)[0] for who, rec in parts.items()}
        summed = sum(per.values())
        rows.append({"mission": mission, "date": r.date, "reported_total": int(r.count),
                     "qualifier": r.qualifier if isinstance(r.qualifier, str) else "",
                     "types": r.types, "sum_of_contributors": summed,
                     "difference": int(r.count) - summed,
                     "contributors": ", ".join(f"{entity_name(w)} {n:,}"
                                               for w, n in sorted(per.items()) if n),
                     "fact_id": r.fact_id, "source_id": r.source_id})
    return pd.DataFrame(rows, columns=["mission", "date", "reported_total", "qualifier", "types",
                                       "sum_of_contributors", "difference", "contributors",
                                       "fact_id", "source_id"])


def reconciliation_table(recon: pd.DataFrame) -> pd.DataFrame:
    """The reconciliation a report shows."""
    words = {"about": "about ", "at_least": "at least ", "at_most": "at most "}
    return pd.DataFrame({
        "Date": _day(recon["date"]),
        "Total a source stated": [f"{words.get(q, '')}{n:,}" + ("" if t == "all" else f" ({t})")
                                  for q, n, t in zip(recon["qualifier"], recon["reported_total"],
                                                     recon["types"], strict=True)],
        "Sum of contributors": recon["sum_of_contributors"],
        "Difference": recon["difference"],
        "Contributors counted": recon["contributors"],
    }).reset_index(drop=True)


def pledge_delivery(state: State, mission: str, kept_share: float = 0.9) -> pd.DataFrame:
    # Kept: peak at least 90% of the pledge; partly kept: 25-90%; mostly not delivered:
    # under 25%; not delivered: no one (too recent to judge when pledged under 90 days ago).
    """Which pledges were kept, partly kept or not (yet) delivered, and how long delivery
    took: per contributor, pledged, the most ever on the ground at a month end, the first
    pledge and first arrival dates, and the months between them. Kept = peak strength at least
    ``kept_share`` of the pledge."""
    own = contributors(state, mission)
    own = own[own["pledged"].notna()]
    per = monthly(state, mission)
    peak = per.groupby("contributor_iso3")["deployed"].max()
    out = own[["contributor_iso3", "pledged", "first_pledge_date", "first_arrival"]].copy()
    out["peak_deployed"] = out["contributor_iso3"].map(peak).fillna(0).astype(int)
    lag = pd.to_datetime(out["first_arrival"]) - pd.to_datetime(out["first_pledge_date"])
    # A pledge first reported on the day of the arrival (or after) tells nothing about how
    # long delivery took: its date is unknown, not zero.
    out["months_to_first_arrival"] = (lag.dt.days / 30.44).round(1).where(lag.dt.days > 0)
    out["pledge_known_before_arrival"] = (lag.dt.days > 0) | out["first_arrival"].isna()
    share = out["peak_deployed"] / out["pledged"].astype(float)
    # A pledge less than three months old with nobody there yet is too recent to judge.
    recent = (out["first_arrival"].isna()
              & ((state.as_of - pd.to_datetime(out["first_pledge_date"])).dt.days < 90))
    out["delivery"] = np.select(
        [share >= kept_share, share >= 0.25, share > 0, recent],
        ["kept", "partly kept", "mostly not delivered", "too recent to judge"],
        "not delivered")
    return out.sort_values(["peak_deployed", "pledged"], ascending=False).reset_index(drop=True)


def delivery_table(delivery: pd.DataFrame) -> pd.DataFrame:
    """The pledge-delivery table as a report shows it."""
    return pd.DataFrame({
        "Contributor": delivery["contributor_iso3"].map(entity_name),
        "Pledged": delivery["pledged"].astype("Int64"),
        "Most on the ground": delivery["peak_deployed"].astype("Int64"),
        "First pledged": _day(delivery["first_pledge_date"]),
        "First arrival": _day(delivery["first_arrival"]),
        "Months to first arrival": [
            (f"{m:.1f}" if pd.notna(m) else
             ("not reported" if pd.isna(a) else "pledge first reported on arrival"))
            for m, a in zip(delivery["months_to_first_arrival"], delivery["first_arrival"],
                            strict=True)],
        "Pledge": delivery["delivery"],
    })


def cited_sources(state: State, mission: str) -> list[str]:
    """Source ids of the personnel rows a figure about ``mission`` drew on (chosen or lost)."""
    rows = state.personnel_decisions
    return sorted(set(rows.loc[rows["mission"] == mission, "source_id"].dropna()))
