"""Everything a report shows, as data: one function per report, taking a resolved state and
returning every table, every chart's data, the summary figures, the sources cited and the
gaps listed. Notebooks display these and nothing else, so a test can compare what a report
shows between two states (the as-of leak test)."""

from __future__ import annotations

import pandas as pd

from . import dataset, funding, personnel
from .entities import entity_name
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
    }


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
              lambda r: f"{entity_name(r.donor)}, {str(r.channel).replace('_', ' ')} "
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


def sources_and_method(state: State) -> dict:
    """Report 04: the data behind the reports, the conflicts, the gaps and every source."""
    view = state.view
    return {
        "coverage": dataset.coverage_counts(view),
        "conflicts": {name: conflicts(state, name) for name in CONFLICT_TABLES},
        "gaps": view.gaps.sort_values(["applies_from", "gap_id"]).reset_index(drop=True)
        if view.gaps is not None else pd.DataFrame(),
        "sources": dataset.sources_table(view),
    }
