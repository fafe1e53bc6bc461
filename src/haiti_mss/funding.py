"""Money tables from a resolved state: cost estimates, money by donor and channel, the trust
fund over time and the funding gap. Amounts are in US dollars with the original kept; the
state already converted and resolved them once.

A group of money rows is one instrument (a pledge and every later report about it). Each
status of an instrument is resolved by the conflict rule: a promise (announced, pledged,
committed) is an event, an amount received, spent, frozen or paid out so far is a stock.
Rows whose scope is ``donor_total`` or ``all_donors`` are totals as sources stated them,
compared with the sum of instruments and never added to it. Money paid out of a fund (status
``paid_out``) is never counted as money the fund received.
"""

from __future__ import annotations

import pandas as pd

from .entities import CHANNEL_LABELS, entity_name
from .resolve import (
    FX_MAX_DAYS,
    MONEY_STATES,
    State,
    annual_requirement,
    fund_rows,
    instruments_on,
    trust_fund,
)
from .timeline import month_ends

FX_RULE = (
    "Amounts are converted to US dollars at the latest published rate on or before the date of "
    "each flow (or the earliest rate after it when none precedes it); originals are kept. A "
    f"flow converted at a rate more than {FX_MAX_DAYS} days from its date is flagged."
)
MONEY_RULE = (
    "Each instrument (a pledge and every later report of it) counts once: its promised amount "
    "is its most formal promise (committed > pledged > announced) or what was received if "
    "larger; received, spent and frozen amounts are the latest observed. Money paid out of the "
    "trust fund (reimbursements to a contributor) is shown apart and never counted as received "
    "by it. Totals stated by sources are compared with the sum of instruments, never added to "
    "it."
)


def funding_overview(state: State, mission: str = "MSS") -> dict:
    """The funding gap in one place: the trust fund (the latest totals sources stated, and the
    sums of donor instruments), money outside the fund, and the distinct published estimates
    of the annual cost."""
    tf = trust_fund(state, mission)
    inst = state.instruments[state.instruments["mission"] == mission]
    need = annual_requirement(state.requirements, mission)
    stated = tf["stated_received"]
    received = stated["amount_usd"] if stated else tf["sum_received"]
    out = {
        "trust_fund_stated_received": stated,
        "trust_fund_stated_pledged": tf["stated_pledged"],
        "trust_fund_sum_received_usd": tf["sum_received"],
        "trust_fund_sum_promised_usd": tf["sum_promised"],
        "trust_fund_paid_out": tf["paid_out"],
        "outside_fund_promised_usd": float(inst.loc[inst["channel"] != "un_trust_fund",
                                                    "promised_usd"].sum()),
        "outside_fund_channel_not_stated_usd": float(
            inst.loc[inst["channel"] == "unspecified", "promised_usd"].sum()),
        # A successor's fund is the one set up for its predecessor (see fund_rows): say so.
        "fund_inherited_from": (state.mission(mission)["replaces"]
                                if state.mission(mission) is not None
                                and isinstance(state.mission(mission)["replaces"], str)
                                else None),
        "annual_requirement_usd": need,
        "fx_flagged_instruments": int(inst["fx_flag"].fillna(False).sum()),
    }
    out["coverage_of_one_year_pct"] = {
        k: (received / need[k] * 100 if need[k] else None) for k in ("central", "low", "high")}
    return out


def requirements_table(state: State, mission: str = "MSS") -> pd.DataFrame:
    """Every distinct published cost estimate (restatements counted once), in its original
    currency and in USD per year where the source gives a period."""
    req = state.requirements
    if req.empty:
        return pd.DataFrame(columns=["First reported", "Estimator", "What it covers",
                                     "Amount (original)", "Period (months)", "USD per year",
                                     "Reports", "Used in the range"])
    own = req[req["mission"] == mission].sort_values("date")
    return pd.DataFrame({
        "First reported": pd.to_datetime(own["date"]).dt.date.astype(str),
        "Estimator": own["first_estimator"],
        "What it covers": own["first_basis"],
        "Amount (original)": [f"{a:,.0f} {c}" for a, c in zip(own["amount"], own["currency"],
                                                               strict=True)],
        "Period (months)": own["period_months"].astype("Int64"),
        "USD per year": own["annual_usd"].round(0).astype("Int64"),
        "Reports": own["n_reports"].astype(int),
        "Used in the range": (own["period_months"].notna() & (own["covers"] == "mission"))
        .map({True: "yes", False: "no (not a whole-mission cost for a stated period)"}),
    }).reset_index(drop=True)


def money_by_donor(state: State, mission: str) -> pd.DataFrame:
    """USD per (donor, channel) of ``mission``: promised, received, spent, frozen, paid out."""
    inst = state.instruments[state.instruments["mission"] == mission]
    value_columns = ["promised_usd", *[f"{s}_usd" for s in MONEY_STATES]]
    grouped = inst.groupby(["donor", "channel"], dropna=False)
    out = grouped[value_columns].sum(min_count=1)
    out["n_instruments"] = grouped.size()
    out["fx_flag"] = grouped["fx_flag"].any()
    out = out.reset_index().sort_values("promised_usd", ascending=False, na_position="last")
    return out.assign(name=out["donor"].map(entity_name)).reset_index(drop=True)


def donor_table(by_donor: pd.DataFrame) -> pd.DataFrame:
    """Money per donor and channel as a report shows it (US dollars, millions)."""
    def millions(column):
        return (by_donor[column] / 1e6).round(1)

    return pd.DataFrame({
        "Donor": by_donor["name"],
        "Channel": by_donor["channel"].map(lambda c: CHANNEL_LABELS.get(c, c)),
        "Promised ($M)": millions("promised_usd"),
        "Received ($M)": millions("received_usd"),
        "Spent ($M)": millions("spent_usd"),
        "Frozen ($M)": millions("frozen_usd"),
        "Instruments": by_donor["n_instruments"].astype(int),
        "Old exchange rate": by_donor["fx_flag"].map({True: "yes", False: ""}),
    }).reset_index(drop=True)


def monthly_trust_fund(state: State, mission: str, carried: bool = True) -> pd.DataFrame:
    """The trust fund for ``mission`` at each month end: the sums of donor instruments as they
    stood then (each instrument at its latest observation by that date). ``carried=False``
    leaves out what a successor's fund took over from its predecessor's."""
    tf, on = fund_rows(state, mission, carried=carried)
    if tf.empty:
        return pd.DataFrame(columns=["month_end", "promised_usd", "received_usd"])
    rows = []
    for month in month_ends(tf["date"].min(), on):
        inst = instruments_on(tf, month)
        rows.append({"month_end": month, "promised_usd": float(inst["promised_usd"].sum()),
                     "received_usd": float(inst["received_usd"].sum())})
    return pd.DataFrame(rows)


def stated_fund_totals(state: State, mission: str) -> pd.DataFrame:
    """Every total of the trust fund a source stated, once, on the date it describes."""
    tf, _ = fund_rows(state, mission)
    tf = tf[tf["scope"] == "all_donors"]
    return tf.sort_values(["date", "status"]).reset_index(drop=True)


def trust_fund_table(monthly: pd.DataFrame, stated: pd.DataFrame) -> pd.DataFrame:
    """The trust fund as a report shows it: the month-end sums, and the stated totals on the
    dates they describe (US dollars, millions)."""
    words = {"about": "about ", "at_least": "more than ", "at_most": "less than "}
    a = pd.DataFrame({"Date": pd.to_datetime(monthly["month_end"]).dt.date.astype(str),
                      "What": "month end: sum of donor instruments",
                      "Promised ($M)": (monthly["promised_usd"] / 1e6).round(1),
                      "Received ($M)": (monthly["received_usd"] / 1e6).round(1),
                      "Stated total": ""})
    b = pd.DataFrame({"Date": pd.to_datetime(stated["date"]).dt.date.astype(str),
                      "What": "total a source stated (" + stated["status"].str.replace("_", " ")
                      + ")",
                      "Promised ($M)": float("nan"), "Received ($M)": float("nan"),
                      "Stated total": [f"{words.get(q, '') if isinstance(q, str) else ''}"
                                       f"${v / 1e6:,.1f}M" for q, v in
                                       zip(stated["qualifier"], stated["amount_usd"],
                                           strict=True)]})
    return pd.concat([a, b], ignore_index=True).sort_values(["Date", "What"]).reset_index(
        drop=True)


def cited_sources(state: State, mission: str) -> list[str]:
    """Source ids of the money rows of ``mission`` known on the state's date."""
    rows = state.money_decisions
    return sorted(set(rows.loc[rows["mission"] == mission, "source_id"].dropna()))
