"""What was known on a date, and the one rule that picks a value when reports conflict.

The conflict rule (stated in every report): within a group of rows that report the same
quantity (a row and the rows that restate it), prefer
  0. a row no curator has disputed (``dispute_note`` empty): a disputed row is kept and shown
     with its reason, but never used for a figure, even when nothing else reports the quantity;
  1. the latest ``refers_to_date`` (an update supersedes an older state), then
  2. the highest-ranked kind of source (UN document > government > wire service > newspaper
     > research > other > aggregator), then
  3. the latest ``reported_date``, then
  4. the row recorded first (lowest ``fact_id``).
Every other report is kept and counted; the range of values reported for the chosen date is
shown next to the chosen value.
"""

from __future__ import annotations

import pandas as pd

CONFLICT_RULE = (
    "Reports a curator disputed (with a stated reason) are shown but never used. Within each "
    "group of reports of the same quantity: the latest date described first, then the "
    "highest-ranked kind of source (UN document > government > wire service > newspaper > "
    "research > other > aggregator), then the latest report, then the first row recorded."
)

_ORDER = ["disputed", "refers_to_date", "source_rank", "reported_date", "fact_id"]
_ASCENDING = [True, False, False, False, True]


def as_timestamp(value) -> pd.Timestamp:
    """Accept a date, an ISO string or a Timestamp."""
    return pd.Timestamp(value).normalize()


def known_by(facts: pd.DataFrame, as_of) -> pd.DataFrame:
    """Only the rows a reader could have seen on ``as_of``: reported by then, about then or earlier."""
    as_of = as_timestamp(as_of)
    return facts[(facts["reported_date"] <= as_of) & (facts["refers_to_date"] <= as_of)]


def cited_sources(facts: pd.DataFrame, as_of, mission: str) -> list[str]:
    """Source ids of the rows a figure about ``mission`` on ``as_of`` could draw on."""
    known = known_by(facts, as_of)
    return sorted(set(known.loc[known["mission"] == mission, "source_id"]))


def resolve_conflicts(facts: pd.DataFrame, value: str, by: tuple[str, ...] = ("group_id",),
                      ) -> pd.DataFrame:
    """One row per ``by`` key (a group, or a group and a status), chosen by the conflict rule,
    with ``n_reports``, ``value_low`` and ``value_high`` (the range of undisputed values
    reported for the chosen row's date)."""
    by = list(by)
    if facts.empty:
        return facts.assign(n_reports=pd.Series(dtype=int), value_low=pd.Series(dtype=float),
                            value_high=pd.Series(dtype=float))
    ordered = facts.sort_values(by + _ORDER, ascending=[True] * len(by) + _ASCENDING,
                                kind="mergesort")
    chosen = ordered.drop_duplicates(by)
    keyed = chosen.set_index(by)
    same = facts.merge(keyed[["refers_to_date", "disputed"]].rename(
        columns={"refers_to_date": "chosen_date", "disputed": "chosen_disputed"}),
        left_on=by, right_index=True)
    same = same[(same["refers_to_date"] == same["chosen_date"])
                & (same["disputed"] == same["chosen_disputed"])]
    spread = same.groupby(by)[value].agg(value_low="min", value_high="max")
    counts = facts.groupby(by).size().rename("n_reports")
    out = chosen.join(spread, on=by).join(counts, on=by)
    out = out[~out["disputed"]]
    return out.sort_values(["refers_to_date", "fact_id"]).reset_index(drop=True)


def collapse_types(rows: pd.DataFrame, value: str = "count") -> pd.DataFrame:
    """One value per (contributor, date, event): a source's ``all`` total where it gave one,
    else the sum of its typed rows (so 20 soldiers + 4 police, with or without a stated 24,
    count 24 once)."""
    keys = ["mission", "contributor_iso3", "event", "refers_to_date"]
    rows = rows.assign(contributor_iso3=rows["contributor_iso3"].fillna(""))
    totals = rows[rows["personnel_type"] == "all"].groupby(keys, dropna=False)[value].sum()
    typed = rows[rows["personnel_type"] != "all"].groupby(keys, dropna=False)[value].sum()
    combined = totals.combine_first(typed).rename(value).reset_index()
    return combined


def conflicts(facts: pd.DataFrame, value: str, as_of, label) -> pd.DataFrame:
    """Every group whose reports disagree (or hold a disputed report), known on ``as_of``:
    the values reported, the value the rule chose and why. ``label`` names a group's row."""
    known = known_by(facts, as_of)
    chosen = resolve_conflicts(known, value).set_index("group_id")
    rows = []
    for group, own in known.groupby("group_id"):
        values = sorted(set(own[value].dropna().astype(float)))
        if len(values) < 2 and not own["disputed"].any():
            continue
        pick = chosen.loc[group] if group in chosen.index else None
        rows.append({
            "quantity": label(own.sort_values("fact_id").iloc[0]),
            "reports": len(own),
            "values reported": ", ".join(f"{v:,.0f}" for v in values),
            "value used": None if pick is None else float(pick[value]),
            "chosen row": None if pick is None else pick["fact_id"],
            "disputed rows": ", ".join(f"{r.fact_id} ({r.dispute_note})"
                                       for r in own[own["disputed"]].itertuples()),
        })
    return pd.DataFrame(rows, columns=["quantity", "reports", "values reported", "value used",
                                       "chosen row", "disputed rows"])


def _name(code) -> str:
    from .entities import entity_name

    return entity_name(code)


# The fact tables whose conflicts reports list: (table, value column, how to name a group).
CONFLICT_VIEWS = (
    ("personnel", "count",
     lambda r: f"{_name(r.contributor_iso3)}, {r.event} ({r.mission}), {r.refers_to_date.date()}"),
    ("money", "amount",
     lambda r: f"{_name(r.donor)}, {r.channel.replace('_', ' ')} {r.status} ({r.currency})"),
    ("requirements", "amount", lambda r: f"{r.estimator}: {r.basis}"),
    ("context", "value", lambda r: f"{r.indicator} ({r.geography}), {r.refers_to_date.date()}"),
)
