"""Money in US dollars: conversion at the date of each flow, and totals by donor, channel and
status that count each instrument once.

A group of money rows is one instrument (a pledge and every later report about it). Within a
group the latest statement of each status is kept (conflict rule), so a pledge restated three
times counts once and cumulative "received so far" updates replace each other. An instrument's
promised amount is its most formal promise (committed > pledged > announced), or what was
received if that is larger; rows whose scope is ``donor_total`` or ``all_donors`` are stated
totals, shown for comparison and never added to flows.

Conversion rule: the latest rate in ``data/fx_rates.csv`` on or before the flow's date; if the
flow predates every rate of its currency, the earliest rate after it. The original amount and
currency are always kept beside the USD figure.
"""

from __future__ import annotations

import pandas as pd

from .timeline import as_timestamp, known_by, resolve_conflicts
from .timeline import cited_sources as cited_sources  # one rule, named here for notebooks

FX_RULE = (
    "Amounts are converted to US dollars at the latest published rate on or before the date of "
    "each flow (or the earliest rate after it when none precedes it); originals are kept."
)
MONEY_RULE = (
    "Each instrument (a pledge and every later report of it) counts once: its promised amount "
    "is its most formal promise (committed > pledged > announced) or what was received if "
    "larger; received, spent and frozen amounts are the latest stated. Totals stated by "
    "sources are compared with the sum of instruments, never added to it."
)
PROMISE_LADDER = ["announced", "pledged", "committed"]
STATES = ["received", "spent", "frozen", "withdrawn"]


def to_usd(frame: pd.DataFrame, fx_rates: pd.DataFrame, date_column: str = "refers_to_date",
           ) -> pd.DataFrame:
    """Add ``fx_rate``, ``fx_date`` and ``amount_usd`` to rows with ``amount`` and ``currency``."""
    frame = frame.copy()
    frame["fx_rate"] = float("nan")
    frame["fx_date"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    usd = frame["currency"] == "USD"
    frame.loc[usd, "fx_rate"] = 1.0
    frame.loc[usd, "fx_date"] = frame.loc[usd, date_column]
    for currency, rows in frame[~usd].groupby("currency"):
        rates = (fx_rates.loc[fx_rates["currency"] == currency, ["date", "usd_per_unit"]]
                 .sort_values("date").rename(columns={"date": "fx_date_"}))
        if rates.empty:
            continue
        left = pd.DataFrame({"when": rows[date_column], "row": rows.index}).dropna()
        left = left.sort_values("when")
        for direction in ("backward", "forward"):
            matched = pd.merge_asof(left, rates, left_on="when", right_on="fx_date_",
                                    direction=direction).set_index("row").dropna()
            todo = matched.index[frame.loc[matched.index, "fx_rate"].isna().to_numpy()]
            frame.loc[todo, "fx_rate"] = matched.loc[todo, "usd_per_unit"]
            frame.loc[todo, "fx_date"] = matched.loc[todo, "fx_date_"]
    frame["amount_usd"] = frame["amount"] * frame["fx_rate"]
    return frame


def money_states(money: pd.DataFrame, fx_rates: pd.DataFrame, as_of) -> pd.DataFrame:
    """One row per (instrument, status) known on ``as_of``, chosen by the conflict rule, in USD."""
    chosen = resolve_conflicts(known_by(money, as_of), "amount", by=("group_id", "status"))
    # Rows already converted (the conversion depends on each row's own date only) are kept.
    return chosen if "amount_usd" in chosen else to_usd(chosen, fx_rates)


def instruments(money: pd.DataFrame, fx_rates: pd.DataFrame, as_of) -> pd.DataFrame:
    """One row per money instrument (scope ``flow``) known on ``as_of``: promised, received,
    spent, frozen and withdrawn in USD, with the promise's original amount and currency."""
    return _instruments(money_states(money, fx_rates, as_of))


def _instruments(states: pd.DataFrame) -> pd.DataFrame:
    flows = states[states["scope"] == "flow"]
    columns = ["group_id", "mission", "donor", "recipient", "channel", "promise_status",
               "promised_amount", "promised_currency", "promised_usd",
               *[f"{s}_usd" for s in STATES], "first_date", "last_date"]
    if flows.empty:
        return pd.DataFrame(columns=columns)
    ordered = flows.sort_values(["group_id", "refers_to_date", "fact_id"])
    out = ordered.groupby("group_id", sort=False)[["mission", "donor", "recipient",
                                                   "channel"]].first()
    dates = flows.groupby("group_id")["refers_to_date"].agg(first_date="min", last_date="max")
    promises = flows[flows["status"].isin(PROMISE_LADDER)]
    promises = promises.assign(rank=promises["status"].map(PROMISE_LADDER.index))
    best = (promises.sort_values(["group_id", "rank"]).groupby("group_id").tail(1)
            .set_index("group_id"))
    out["promise_status"] = best["status"]
    out["promised_amount"] = best["amount"]
    out["promised_currency"] = best["currency"]
    values = flows.pivot_table(index="group_id", columns="status", values="amount_usd",
                               aggfunc="sum")
    for status in STATES:
        out[f"{status}_usd"] = values[status] if status in values else float("nan")
    # What was received is at least what was promised, if no promise was recorded.
    out["promised_usd"] = best["amount_usd"].reindex(out.index).combine(
        out["received_usd"], lambda a, b: b if pd.isna(a) or (pd.notna(b) and b > a) else a)
    out = out.join(dates).reset_index()
    return out[columns]


def money_by_donor(money: pd.DataFrame, fx_rates: pd.DataFrame, as_of) -> pd.DataFrame:
    """USD per (mission, donor, channel): promised, received, spent, frozen, withdrawn."""
    inst = instruments(money, fx_rates, as_of)
    value_columns = ["promised_usd", *[f"{s}_usd" for s in STATES]]
    grouped = inst.groupby(["mission", "donor", "channel"], dropna=False)
    out = grouped[value_columns].sum(min_count=1)
    out["n_instruments"] = grouped.size()
    return out.reset_index().sort_values(["mission", "promised_usd"], ascending=[True, False],
                                         na_position="last").reset_index(drop=True)


def stated_totals(money: pd.DataFrame, fx_rates: pd.DataFrame, as_of,
                  scope: str = "all_donors") -> pd.DataFrame:
    """Totals that sources stated (``all_donors`` or ``donor_total``), latest per group and
    status, in USD."""
    states = money_states(money, fx_rates, as_of)
    return states[states["scope"] == scope].reset_index(drop=True)


def monthly_trust_fund(money: pd.DataFrame, fx_rates: pd.DataFrame, as_of) -> pd.DataFrame:
    """The UN trust fund month by month, in USD, from rows reported by ``as_of``: the sum of
    instruments promised and received by each month end, and the latest all-donor totals a
    source had stated by then (NaN where none had)."""
    as_of = as_timestamp(as_of)
    known = known_by(money, as_of)
    tf = known[known["channel"] == "un_trust_fund"]
    if tf.empty:
        return pd.DataFrame(columns=["month_end", "promised_usd", "received_usd",
                                     "stated_pledged_usd", "stated_received_usd"])
    months = list(pd.date_range(tf["refers_to_date"].min(), as_of, freq="ME"))
    if not months or months[-1] != as_of:
        months.append(as_of)
    tf = to_usd(tf, fx_rates)  # once: a row's conversion does not depend on the month
    rows = []
    for month in months:
        states = money_states(tf[tf["refers_to_date"] <= month], fx_rates, as_of)
        inst = _instruments(states)
        stated = states[states["scope"] == "all_donors"]
        latest = {s: stated.loc[stated["status"] == s].sort_values("refers_to_date")
                  for s in ("pledged", "received")}
        rows.append({
            "month_end": month,
            "promised_usd": inst["promised_usd"].sum(),
            "received_usd": inst["received_usd"].sum(),
            "stated_pledged_usd": latest["pledged"]["amount_usd"].iloc[-1]
            if len(latest["pledged"]) else float("nan"),
            "stated_received_usd": latest["received"]["amount_usd"].iloc[-1]
            if len(latest["received"]) else float("nan"),
        })
    return pd.DataFrame(rows)


def funding_overview(money: pd.DataFrame, requirements: pd.DataFrame, fx_rates: pd.DataFrame,
                     as_of, mission: str = "MSS") -> dict:
    """The funding gap in one place: trust-fund money promised and received (sum of donor
    instruments, and the latest total a source stated) and money outside the fund, against the
    published annual cost estimates known on ``as_of`` (see :func:`annual_requirement`)."""
    inst = instruments(money, fx_rates, as_of)
    inst = inst[inst["mission"] == mission]
    tf = inst[inst["channel"] == "un_trust_fund"]
    stated = stated_totals(money, fx_rates, as_of)
    stated = stated[(stated["channel"] == "un_trust_fund") & (stated["mission"] == mission)]
    latest = {s: stated[stated["status"] == s].sort_values("refers_to_date").tail(1)
              for s in ("pledged", "received")}
    received = float(tf["received_usd"].sum())
    need = annual_requirement(requirements, fx_rates, as_of, mission)
    out = {
        "trust_fund_promised_usd": float(tf["promised_usd"].sum()),
        "trust_fund_received_usd": received,
        "trust_fund_stated_pledged_usd": float(latest["pledged"]["amount_usd"].iloc[0])
        if len(latest["pledged"]) else None,
        "trust_fund_stated_received_usd": float(latest["received"]["amount_usd"].iloc[0])
        if len(latest["received"]) else None,
        "outside_fund_promised_usd": float(inst.loc[inst["channel"] != "un_trust_fund",
                                                    "promised_usd"].sum()),
        "annual_requirement_usd": need,
    }
    out["coverage_of_one_year_pct"] = {
        k: (received / need[k] * 100 if need[k] else None) for k in ("central", "low", "high")}
    return out


def annual_requirement(requirements: pd.DataFrame, fx_rates: pd.DataFrame, as_of,
                       mission: str = "MSS") -> dict:
    """The published estimates of the whole mission's cost known on ``as_of``, per year:
    every undisputed estimate with a stated period, annualized (amount x 12 / months) in
    USD. Returns the median as the central figure and the lowest and highest as the range,
    with how many estimates and which rows they came from."""
    known = known_by(requirements, as_of)
    rows = known[(known["mission"] == mission) & (known["covers"] == "mission")
                 & known["period_months"].notna() & ~known["disputed"]]
    rows = to_usd(rows, fx_rates, date_column="reported_date")
    annual = rows["amount_usd"] * 12 / rows["period_months"].astype(float)
    if annual.empty:
        return {"central": None, "low": None, "high": None, "n_estimates": 0, "fact_ids": []}
    return {"central": float(annual.median()), "low": float(annual.min()),
            "high": float(annual.max()), "n_estimates": int(len(annual)),
            "fact_ids": sorted(rows["fact_id"])}


def requirements_table(requirements: pd.DataFrame, fx_rates: pd.DataFrame, as_of,
                       mission: str = "MSS") -> pd.DataFrame:
    """Every published cost estimate known on ``as_of``, original amount and USD, per year
    where the source gives a period."""
    known = to_usd(known_by(requirements, as_of), fx_rates, date_column="reported_date")
    known = known[known["mission"] == mission].sort_values("reported_date")
    per_year = known["amount_usd"] * 12 / known["period_months"].astype(float)
    return pd.DataFrame({
        "Reported": known["reported_date"].dt.date.astype(str),
        "Estimator": known["estimator"],
        "What it covers": known["basis"],
        "Amount (original)": [f"{a:,.0f} {c}" for a, c in zip(known["amount"], known["currency"],
                                                                strict=True)],
        "Period (months)": known["period_months"].astype("Float64"),
        "USD per year": per_year.astype("Float64"),
        "Used in the range": (~known["disputed"] & known["period_months"].notna()
                              & (known["covers"] == "mission")).map({True: "yes", False: "no"}),
        "Row": known["fact_id"],
    }).reset_index(drop=True)


def donor_table(by_donor: pd.DataFrame) -> pd.DataFrame:
    """Money per donor and channel as a report shows it (USD), gaps kept as gaps."""
    from .entities import entity_name

    return pd.DataFrame({
        "Donor": by_donor["donor"].map(entity_name),
        "Channel": by_donor["channel"].str.replace("_", " "),
        "Promised (USD)": by_donor["promised_usd"],
        "Received (USD)": by_donor["received_usd"],
        "Spent (USD)": by_donor["spent_usd"],
        "Frozen (USD)": by_donor["frozen_usd"],
        "Instruments": by_donor["n_instruments"],
    }).reset_index(drop=True)


def trust_fund_table(monthly: pd.DataFrame) -> pd.DataFrame:
    """The monthly trust-fund series as a report shows it."""
    return pd.DataFrame({
        "Month end": monthly["month_end"].dt.date.astype(str),
        "Promised, sum of instruments (USD)": monthly["promised_usd"],
        "Received, sum of instruments (USD)": monthly["received_usd"],
        "Pledged total a source stated (USD)": monthly["stated_pledged_usd"],
        "Received total a source stated (USD)": monthly["stated_received_usd"],
    })
