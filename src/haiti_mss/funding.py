"""Money in US dollars: conversion at the date of each flow, and totals by donor, channel and
status that count a restated pledge once.

Conversion rule: the latest rate in ``data/fx_rates.csv`` on or before the flow's date; if the
flow predates every rate of its currency, the earliest rate after it. The original amount and
currency are always kept beside the USD figure.
"""

from __future__ import annotations

import pandas as pd

from .timeline import known_by, resolve_conflicts

FX_RULE = (
    "Amounts are converted to US dollars at the latest published rate on or before the date of "
    "each flow (or the earliest rate after it when none precedes it); originals are kept."
)


def to_usd(frame: pd.DataFrame, fx_rates: pd.DataFrame, date_column: str = "refers_to_date",
           ) -> pd.DataFrame:
    """Add ``fx_rate``, ``fx_date`` and ``amount_usd`` to rows with ``amount`` and ``currency``."""
    frame = frame.copy()
    frame["fx_rate"] = float("nan")
    frame["fx_date"] = pd.NaT
    usd = frame["currency"] == "USD"
    frame.loc[usd, "fx_rate"] = 1.0
    frame.loc[usd, "fx_date"] = frame.loc[usd, date_column]
    for currency, rows in frame[~usd].groupby("currency"):
        rates = fx_rates[fx_rates["currency"] == currency].sort_values("date")
        if rates.empty:
            continue
        when = rows[date_column].fillna(rows.get("reported_date", rows[date_column]))
        for direction in ("backward", "forward"):
            left = pd.DataFrame({"when": when, "row": rows.index}).dropna().sort_values("when")
            matched = pd.merge_asof(left, rates.rename(columns={"date": "fx_date_"}),
                                    left_on="when", right_on="fx_date_", direction=direction)
            matched = matched.set_index("row")
            missing = frame.loc[matched.index, "fx_rate"].isna()
            idx = matched.index[missing.to_numpy()]
            frame.loc[idx, "fx_rate"] = matched.loc[idx, "usd_per_unit"]
            frame.loc[idx, "fx_date"] = matched.loc[idx, "fx_date_"]
    frame["amount_usd"] = frame["amount"] * frame["fx_rate"]
    return frame


def money_known(money: pd.DataFrame, fx_rates: pd.DataFrame, as_of) -> pd.DataFrame:
    """Money rows known on ``as_of``, one per distinct flow (conflict rule), in USD."""
    chosen = resolve_conflicts(known_by(money, as_of), "amount")
    return to_usd(chosen, fx_rates)


def money_by_donor(money: pd.DataFrame, fx_rates: pd.DataFrame, as_of) -> pd.DataFrame:
    """USD totals per (mission, donor, channel, status), donors only (no all-donor totals)."""
    flows = money_known(money, fx_rates, as_of)
    flows = flows[flows["donor"].notna()]
    return (flows.groupby(["mission", "donor", "channel", "status"], dropna=False)
            .agg(amount_usd=("amount_usd", "sum"), n_flows=("fact_id", "size"),
                 last_date=("refers_to_date", "max"))
            .reset_index())


def trust_fund_reported_totals(money: pd.DataFrame, fx_rates: pd.DataFrame, as_of,
                               ) -> pd.DataFrame:
    """Trust-fund totals across all donors as sources stated them, one per statement."""
    flows = money_known(money, fx_rates, as_of)
    return flows[flows["donor"].isna() & (flows["channel"] == "un_trust_fund")]


def monthly_trust_fund(money: pd.DataFrame, fx_rates: pd.DataFrame, as_of,
                       statuses=("pledged", "received")) -> pd.DataFrame:
    """Trust fund over time in USD: per month end, the sum of donor flows by status, and the
    latest all-donor total a source had stated by then (NaN where none had)."""
    as_of = pd.Timestamp(as_of)
    flows = money_known(money, fx_rates, as_of)
    tf = flows[flows["channel"] == "un_trust_fund"]
    if tf.empty:
        return pd.DataFrame(columns=["month_end", "status", "donor_sum_usd", "stated_total_usd"])
    months = list(pd.date_range(tf["refers_to_date"].min(), as_of, freq="ME"))
    if not months or months[-1] != as_of:
        months.append(as_of)
    rows = []
    for m in months:
        upto = tf[tf["refers_to_date"] <= m]
        for status in statuses:
            own = upto[upto["status"] == status]
            donors = own[own["donor"].notna()]
            stated = own[own["donor"].isna()].sort_values("refers_to_date")
            rows.append({"month_end": m, "status": status,
                         "donor_sum_usd": donors["amount_usd"].sum(),
                         "stated_total_usd": stated["amount_usd"].iloc[-1] if len(stated)
                         else float("nan")})
    return pd.DataFrame(rows)
