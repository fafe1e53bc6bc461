"""Deployed and pledged personnel, computed from the event rows of ``data/personnel.csv``.

Deployed strength of a contributor on a date is its last reported stock (``deployed`` rows)
on or before that date, rolled forward by the arrivals and departures reported after it; a
contributor with no reported stock is the sum of its arrivals less its departures.
Pledged personnel is the sum of distinct pledges (restatements of a pledge count once).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .timeline import as_timestamp, collapse_types, known_by, resolve_conflicts
from .timeline import cited_sources as cited_sources  # one rule, named here for notebooks

DEPLOYED_RULE = (
    "Deployed = the last reported head-count of a contributor on or before the date, plus the "
    "arrivals and less the departures reported after that count; with no head-count, the sum "
    "of reported arrivals less departures."
)


def one_row_per_report(rows: pd.DataFrame) -> pd.DataFrame:
    """Merge the typed rows one source gave for one quantity (e.g. 170 soldiers + 30 police
    of one pledge) into one report, so the conflict rule compares whole reports: the source's
    ``all`` figure where it gave one, else the sum of its typed rows."""
    if rows.empty:
        return rows
    keys = ["group_id", "source_id", "refers_to_date"]
    is_all = rows["personnel_type"] == "all"
    has_all = is_all.groupby([rows[k] for k in keys]).transform("any")
    rows = rows[~has_all | is_all]
    grouped = rows.sort_values("fact_id").groupby(keys, as_index=False, sort=False)
    first = grouped.first()
    counts = grouped["count"].sum()
    n_types = grouped["personnel_type"].nunique()
    out = first.drop(columns=["count"]).merge(counts, on=keys).merge(
        n_types.rename(columns={"personnel_type": "n_types"}), on=keys)
    out.loc[out["n_types"] > 1, "personnel_type"] = "all"
    return out.drop(columns="n_types")


_RESOLVED_CACHE: dict = {}


def resolved(personnel: pd.DataFrame, as_of, event: str | None = None) -> pd.DataFrame:
    """Rows known on ``as_of`` (of one ``event`` if given), one per reported quantity.

    Groups never mix events (a restatement shares its row's event), so resolving every event
    at once and filtering afterwards gives the same rows; the result is remembered for the
    last few (table content, date) pairs because a snapshot asks for it several times."""
    fingerprint = int(pd.util.hash_pandas_object(
        personnel[["fact_id", "group_id", "count", "refers_to_date", "reported_date",
                   "personnel_type", "disputed", "source_rank"]], index=False).sum())
    key = (fingerprint, len(personnel), pd.Timestamp(as_of))
    if key not in _RESOLVED_CACHE:
        if len(_RESOLVED_CACHE) > 8:
            _RESOLVED_CACHE.clear()
        known = known_by(personnel, as_of)
        _RESOLVED_CACHE[key] = resolve_conflicts(one_row_per_report(known), "count")
    rows = _RESOLVED_CACHE[key]
    return rows if event is None else rows[rows["event"] == event].reset_index(drop=True)


def resolved_events(personnel: pd.DataFrame, as_of) -> pd.DataFrame:
    """The rows known on ``as_of``, one per reported quantity, types collapsed per date."""
    return collapse_types(resolved(personnel, as_of))


def deployed_on(events: pd.DataFrame, on) -> pd.DataFrame:
    """Deployed strength per (mission, contributor) on date ``on``, from collapsed events.

    Returns columns mission, contributor_iso3, deployed, basis, stock_date.
    """
    on = as_timestamp(on)
    events = events[(events["refers_to_date"] <= on) & (events["contributor_iso3"] != "")]
    rows = []
    for (mission, who), own in events.groupby(["mission", "contributor_iso3"], sort=True):
        stocks = own[own["event"] == "deployed"]
        flows = own[own["event"].isin(["arrived", "departed"])]
        if not stocks.empty:
            last = stocks.loc[stocks["refers_to_date"].idxmax()]
            start, since = int(last["count"]), last["refers_to_date"]
            later = flows[flows["refers_to_date"] > since]
            basis = "reported count" if later.empty else "reported count + later flows"
        elif not flows.empty:
            start, since, later, basis = 0, pd.NaT, flows, "sum of arrivals"
        else:
            continue
        net = later.loc[later["event"] == "arrived", "count"].sum() - later.loc[
            later["event"] == "departed", "count"].sum()
        rows.append({"mission": mission, "contributor_iso3": who,
                     "deployed": max(int(start + net), 0), "basis": basis, "stock_date": since})
    return pd.DataFrame(rows, columns=["mission", "contributor_iso3", "deployed", "basis",
                                       "stock_date"])


def pledged_on(personnel: pd.DataFrame, as_of) -> pd.DataFrame:
    """Pledged personnel per (mission, contributor): the sum of distinct pledges known on
    ``as_of``, with the date the first of them was made and the date of the latest report."""
    chosen = resolved(personnel, as_of, "pledged")
    known = known_by(personnel, as_of)
    first_said = known[known["event"] == "pledged"].groupby("group_id")["refers_to_date"].min()
    chosen = chosen.assign(first_date=chosen["group_id"].map(first_said))
    chosen = chosen[chosen["contributor_iso3"].notna()]
    pledges = collapse_types(chosen)
    firsts = chosen.groupby(["mission", "contributor_iso3"])["first_date"].min()
    out = (pledges.groupby(["mission", "contributor_iso3"])
           .agg(pledged=("count", "sum"), last_pledge_date=("refers_to_date", "max"))
           .reset_index())
    out["first_pledge_date"] = [firsts[(m, c)] for m, c in zip(out["mission"], out["contributor_iso3"],
                                                              strict=True)]
    return out


def announced_on(personnel: pd.DataFrame, as_of) -> pd.DataFrame:
    """The latest announced further deployment per (mission, contributor) known on ``as_of``:
    a plan to send more under an existing pledge, shown beside pledges, never added to them."""
    rows = collapse_types(resolved(personnel, as_of, "announced"))
    rows = rows[rows["contributor_iso3"] != ""].sort_values("refers_to_date")
    latest = rows.groupby(["mission", "contributor_iso3"]).tail(1)
    return latest.rename(columns={"count": "announced", "refers_to_date": "announced_date"})[
        ["mission", "contributor_iso3", "announced", "announced_date"]]


def mission_totals(personnel: pd.DataFrame, as_of, event: str = "deployed") -> pd.DataFrame:
    """Mission-wide figures the sources themselves reported (contributor empty), resolved."""
    rows = resolved(personnel, as_of, event)
    return rows[rows["contributor_iso3"].isna()].reset_index(drop=True)


def monthly_deployed(personnel: pd.DataFrame, as_of, start=None) -> pd.DataFrame:
    """Deployed strength per contributor at each month end up to ``as_of`` (long format),
    using only what had been reported by ``as_of``."""
    as_of = as_timestamp(as_of)
    events = resolved_events(personnel, as_of)
    if events.empty:
        return pd.DataFrame(columns=["month_end", "mission", "contributor_iso3", "deployed"])
    first = as_timestamp(start) if start is not None else events["refers_to_date"].min()
    month_ends = list(pd.date_range(first, as_of, freq="ME"))
    if not month_ends or month_ends[-1] != as_of:
        month_ends.append(as_of)  # the as-of date itself closes the series
    frames = [deployed_on(events, m).assign(month_end=m) for m in month_ends]
    out = pd.concat(frames, ignore_index=True)
    return out[["month_end", "mission", "contributor_iso3", "deployed"]]


def reconcile_totals(personnel: pd.DataFrame, as_of) -> pd.DataFrame:
    """Each mission-wide head-count a source reported, next to the sum of per-contributor
    strength computed for the same date; the difference is listed, never hidden."""
    totals = mission_totals(personnel, as_of)
    events = resolved_events(personnel, as_of)
    rows = []
    for _, total in totals.iterrows():
        per = deployed_on(events[events["mission"] == total["mission"]], total["refers_to_date"])
        summed = int(per["deployed"].sum())
        rows.append({"mission": total["mission"], "date": total["refers_to_date"],
                     "reported_total": int(total["count"]), "sum_of_contributors": summed,
                     "difference": int(total["count"]) - summed,
                     "contributors": ", ".join(per["contributor_iso3"]),
                     "source_id": total["source_id"]})
    return pd.DataFrame(rows, columns=["mission", "date", "reported_total", "sum_of_contributors",
                                       "difference", "contributors", "source_id"])


def contributor_table(contributors: pd.DataFrame) -> pd.DataFrame:
    """The per-contributor table a report shows: readable headers, gaps kept as gaps."""
    out = pd.DataFrame({
        "Contributor": contributors["name"],
        "ISO3": contributors["contributor_iso3"],
        "Pledged (people)": contributors["pledged"].astype("Float64"),
        "Deployed (people)": contributors["deployed"].astype("Float64"),
        "Deployed share of pledge (%)": (contributors["deployed"] / contributors["pledged"]
                                         * 100).astype("Float64").round(0),
        "How deployed was computed": contributors["basis"],
    })
    return out.reset_index(drop=True)


def reconciliation_table(recon: pd.DataFrame) -> pd.DataFrame:
    """The reconciliation a report shows."""
    return pd.DataFrame({
        "Date": recon["date"].dt.date.astype(str),
        "Reported total": recon["reported_total"],
        "Sum of contributors": recon["sum_of_contributors"],
        "Difference": recon["difference"],
        "Contributors counted": recon["contributors"],
    }).reset_index(drop=True)


def pledge_delivery(personnel: pd.DataFrame, as_of, mission: str = "MSS",
                    kept_share: float = 0.9) -> pd.DataFrame:
    """Which pledges were kept, partly kept or never delivered, and how long delivery took:
    per contributor, pledged, the most ever on the ground, the first pledge and first
    arrival dates, and the months between them. Kept = peak strength at least ``kept_share``
    of the pledge."""
    pledges = pledged_on(personnel, as_of)
    pledges = pledges[pledges["mission"] == mission]
    events = resolved_events(personnel, as_of)
    events = events[events["mission"] == mission]
    monthly = monthly_deployed(personnel, as_of)
    monthly = monthly[monthly["mission"] == mission]
    peak = monthly.groupby("contributor_iso3")["deployed"].max()
    first_arrival = (events[events["event"].isin(["arrived", "deployed"]) & (events["count"] > 0)]
                     .groupby("contributor_iso3")["refers_to_date"].min())
    out = pledges[["contributor_iso3", "pledged", "first_pledge_date"]].copy()
    out["peak_deployed"] = out["contributor_iso3"].map(peak).fillna(0).astype(int)
    out["first_arrival"] = out["contributor_iso3"].map(first_arrival)
    out["months_to_first_arrival"] = ((out["first_arrival"] - out["first_pledge_date"]).dt.days
                                      / 30.44).round(1)
    share = out["peak_deployed"] / out["pledged"]
    out["delivery"] = np.select([share >= kept_share, share > 0], ["kept", "partly kept"],
                                "not delivered")
    return out.sort_values(["peak_deployed", "pledged"], ascending=False).reset_index(drop=True)


def delivery_table(delivery: pd.DataFrame) -> pd.DataFrame:
    """The pledge-delivery table as a report shows it."""
    from .entities import entity_name

    return pd.DataFrame({
        "Contributor": delivery["contributor_iso3"].map(entity_name),
        "Pledged": delivery["pledged"].astype(float),
        "Most on the ground": delivery["peak_deployed"].astype(float),
        "First pledged": delivery["first_pledge_date"].dt.date.astype(str),
        "First arrival": delivery["first_arrival"].dt.date.astype("string"),
        "Months to first arrival": delivery["months_to_first_arrival"].astype(float),
        "Pledge": delivery["delivery"],
    })


def monthly_table(monthly: pd.DataFrame) -> pd.DataFrame:
    """Month-end strength as a wide table: one row per month, one column per contributor."""
    wide = monthly.pivot_table(index="month_end", columns="name", values="deployed",
                               aggfunc="sum").fillna(0)
    wide["Total"] = wide.sum(axis=1)
    wide.index = wide.index.date.astype(str)
    return wide.reset_index(names="Month end").astype({c: float for c in wide.columns})
