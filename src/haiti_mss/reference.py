"""How fast other missions deployed, and what the MSS's record looks like against them.

Everything here except the out-of-sample scores is arithmetic on data: the reference table's
shares of authorized strength by month since authorization (UN month-end totals as compiled
by the International Peace Institute; AMISOM from dated reports), the MSS's observed
facts, and the person-months by which the observed MSS fell short of each reference path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import model

UN_MISSIONS = ("MINUSTAH", "UNAMID", "MINUSMA", "MINUSCA", "UNMIL")
NAMED_PATHS = {"MINUSTAH": "at MINUSTAH's pace (Haiti, 2004)",
               "UN average": "at the UN-average pace (five UN missions)",
               "AMISOM": "at AMISOM's pace (Somalia, voluntary funding)"}


def shares(dataset) -> pd.DataFrame:
    """Share of authorized uniformed strength per mission and whole month since
    authorization (0 at month 0, linear between dated points, last value carried forward):
    columns mission, month, share."""
    missions = dataset.reference_missions.set_index("mission")
    rows = []
    for name, pts in dataset.reference_points.groupby("mission"):
        auth = float(missions.loc[name, "authorized_uniformed"])
        pts = pts.sort_values("months_since_authorization")
        x = np.r_[0.0, pts["months_since_authorization"].to_numpy(float)]
        y = np.r_[0.0, pts["strength"].to_numpy(float) / auth]
        for m in range(0, 61):
            if m > x.max() + 0.5 and name != "AMISOM":
                break
            rows.append({"mission": name, "month": m, "share": float(np.interp(m, x, y))})
    out = pd.DataFrame(rows)
    un = out[out["mission"].isin(UN_MISSIONS)].groupby("month")["share"].mean()
    un = un[un.index <= 24]
    out = pd.concat([out, pd.DataFrame({"mission": "UN average", "month": un.index,
                                        "share": un.to_numpy()})], ignore_index=True)
    return out


def months_to(shares_: pd.DataFrame, mission: str, level: float) -> float | None:
    own = shares_[(shares_["mission"] == mission) & (shares_["share"] >= level)]
    return None if own.empty else float(own["month"].min())


def reference_table(dataset) -> pd.DataFrame:
    """Per reference mission: authorized strength, funding, months to half and to 90% of it."""
    s = shares(dataset)
    out = []
    for r in dataset.reference_missions.itertuples():
        out.append({"mission": r.mission, "authorized": int(r.authorized_uniformed),
                    "funding": r.funding, "authorized_date": r.authorized_date,
                    "months_to_50pct": months_to(s, r.mission, 0.5),
                    "months_to_90pct": months_to(s, r.mission, 0.9),
                    "share_at_12_months": float(s[(s["mission"] == r.mission)
                                                   & (s["month"] == 12)]["share"].iloc[0])
                    if ((s["mission"] == r.mission) & (s["month"] == 12)).any() else None})
    return pd.DataFrame(out)


def _month_ends(state, mission: str) -> pd.DataFrame:
    """The mission's reconstructed totals at calendar month ends only (the last day before a
    handover, or an as-of date inside a month, is not a whole month)."""
    tot = state.totals[state.totals["mission"] == mission]
    return tot[pd.to_datetime(tot["month_end"]).dt.is_month_end].reset_index(drop=True)


def observed_facts(state, mission: str, planned: float) -> dict:
    """What the data itself says about the mission's deployment (no model): peak, average
    strength, months from authorization to 400 and to 1,000 on the ground, person-months
    delivered, and the share of the planned strength reached."""
    tot = _month_ends(state, mission)
    if tot.empty:
        return {}
    m = state.mission(mission)
    start = pd.Timestamp(m["start"])
    series = tot.set_index("month_end")["total"].astype(float)
    month = ((series.index.year - start.year) * 12 + series.index.month - start.month)

    def reach(level):
        hit = series[series >= level]
        return None if hit.empty else int(month[series.index.get_loc(hit.index[0])])

    peak_at = series.idxmax()
    arrived = series[series > 0]
    return {"peak": int(series.max()), "peak_date": peak_at.date().isoformat(),
            "average_since_first_arrival": float(arrived.mean()) if len(arrived) else 0.0,
            "months_to_400": reach(400), "months_to_1000": reach(1000),
            "person_months_delivered": float(series.iloc[: len(month)].sum()),
            "months": int(len(series)), "planned": planned,
            "ended": m["status"] == "ended",
            "share_of_planned_at_peak": float(series.max() / planned) if planned else None}


def path(shares_: pd.DataFrame, key: str, planned: float, months: int,
         base: float = 0.0) -> np.ndarray | None:
    """Strength at month ends 1..``months`` at mission ``key``'s pace: ``base`` (what a force
    started with) plus that mission's share of the rest of ``planned`` (month end 1 = the
    first month end; past the data, the last share carried forward). None when ``key`` has no
    pace in the data. The one formula behind the shortfalls, the charts, the pace table and
    the titles."""
    own = shares_[shares_["mission"] == key].set_index("month")["share"]
    if own.empty:
        return None
    share = np.array([own.get(m, own.iloc[-1]) for m in range(1, months + 1)])
    return base + (planned - base) * share


def shortfall_against_references(state, mission: str, planned: float, dataset) -> pd.DataFrame:
    """Person-months by which the observed mission fell short of each reference path (the
    planned strength times another mission's share at the same month), over the mission's
    observed months: arithmetic on the data, no model. Also the instant path (the planned
    strength from the first day), labelled as such."""
    tot = _month_ends(state, mission)
    series = tot["total"].to_numpy(float)
    s = shares(dataset)
    rows = [{"reference": "the planned strength from the first day (arithmetic, no mission "
                          "deploys this fast)",
             "path": "instant", "person_months": float(np.maximum(planned - series, 0).sum())}]
    for key, label in NAMED_PATHS.items():
        ref = path(s, key, planned, len(series))
        if ref is None:
            continue
        rows.append({"reference": label, "path": key,
                     "person_months": float(np.maximum(ref - series, 0).sum()),
                     "reference_person_months": float(ref.sum())})
    out = pd.DataFrame(rows)
    out["observed_person_months"] = float(series.sum())
    out["months"] = len(series)
    return out


# ---------------------------------------------------------------------------------------------
# Out of sample: the engine on missions it was never fitted to


def _one_force(authorized: float, months: int) -> model.Setting:
    return model.Setting(start=pd.Timestamp("2000-01-01"), months=months,
                         ceiling=authorized, pledges=np.array([authorized]),
                         pledge_month=np.array([0]), receipts=np.zeros(months),
                         contributors=("ALL",))


def amisom_setting(dataset, months: int = 48) -> model.Setting:
    """AMISOM from its own recorded pledges (each distinct pledge once, dated by its first
    report), with no money or base gate (no receipts series was found)."""
    rows = dataset.reference_pledges
    rows = rows[(rows["event"] == "pledged") & rows["contributor_iso3"].notna()]
    start = pd.Timestamp(dataset.reference_missions.set_index("mission").loc[
        "AMISOM", "authorized_date"])
    kept = []
    for _, own in rows.sort_values("date").groupby("contributor_iso3", sort=True):
        seen: list[float] = []
        for r in own.itertuples():
            # A re-report of a pledge within a fifth of an earlier one is the same pledge.
            if any(abs(r.count - x) <= 0.2 * x for x in seen):
                continue
            seen.append(float(r.count))
            kept.append(r.Index)
    first = rows.loc[kept].sort_values("date")
    month = ((first["date"].dt.year - start.year) * 12 + first["date"].dt.month - start.month)
    keep = month < months
    auth = float(dataset.reference_missions.set_index("mission").loc["AMISOM",
                                                                      "authorized_uniformed"])
    return model.Setting(start=start, months=months, ceiling=auth,
                         pledges=first.loc[keep, "count"].to_numpy(float),
                         pledge_month=month[keep].to_numpy(int), receipts=np.zeros(months),
                         contributors=tuple(first.loc[keep, "contributor_iso3"]))


def out_of_sample(dataset, params: dict[str, np.ndarray], shocks_seed: int = 5,
                  label: str = "model") -> pd.DataFrame:
    """Scores of the engine's deployment ramp, with ``params`` (e.g. the MSS posterior), on
    missions it was never fitted to: each UN mission as one force pledging its authorized
    strength (assessed funding: no money gate), and AMISOM from its own pledges. Scored on the
    share of authorized strength at the reference points (CRPS, median absolute error)."""
    from .scoring import scores

    n = len(next(iter(params.values())))
    rows = []
    missions = dataset.reference_missions.set_index("mission")
    for name, pts in dataset.reference_points.groupby("mission"):
        auth = float(missions.loc[name, "authorized_uniformed"])
        pts = pts.sort_values("months_since_authorization")
        horizon = int(np.ceil(pts["months_since_authorization"].max())) + 1
        if name == "AMISOM":
            setting = amisom_setting(dataset, months=horizon)
        else:
            setting = _one_force(auth, horizon)
        p = dict(params)
        p["base_capacity_early"] = p["base_capacity_late"] = np.full(n, auth * 10)
        p.setdefault("cost_fixed_month", np.zeros(n))  # money is not a gate here
        shocks = model.draw_shocks(n, len(setting.pledges), shocks_seed)
        run = model.simulate(setting, p, shocks, gates=("pledges",))
        idx = np.clip(np.round(pts["months_since_authorization"].to_numpy(float)).astype(int) - 1,
                      0, horizon - 1)
        ens = run.deployed[:, idx] / auth
        truth = pts["strength"].to_numpy(float) / auth
        sc = scores(ens, truth)
        rows.append({"mission": name, "params": label, "points": len(truth),
                     "crps_share": sc["crps"], "median_abs_error_share": sc["median_abs_error"],
                     "coverage_80": sc["coverage_80"], "width_80_share": sc["width_80"]})
    return pd.DataFrame(rows)
