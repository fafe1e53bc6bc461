"""The one rule that picks a value when reports of the same quantity disagree.

A *group* is a row and every row that restates it (``restates_id``): reports of one real-world
quantity. Quantities are of two kinds:

- **events** happen once (a pledge, an arrival, a departure, a planned strength, a promise of
  money): every report describes the same event, so a later re-report is not newer. The best
  source decides; the event is dated by the earliest report of the chosen value. A row marked
  ``revision`` (a changed pledge or plan) supersedes the reports before it.
- **stocks** have a value on each date (a head-count, money received so far, a stated total):
  each report is an observation on the date it describes, except that a re-report of a value
  the group already holds keeps the date the value was first reported (a later re-report never
  moves an observation). Reports within a window of ``WINDOW_DAYS`` are one observation, whose
  value the best source decides; across dates, the later observation is the current state.

"Best source" is, in order: the kind of the source's originator, the number of independent
originators reporting the same value the same way, how directly the page carries it, how
exactly the figure is stated (exact > about > a bound), the later date described, the first
report, the first row.
Reports a curator disputed, and rows flagged as cumulative counts or conflations, are kept and
shown with their reason but never chosen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOW_DAYS = 7
EXCLUDED_CAVEATS = ("cumulative", "conflation", "not_in_count", "own_outlay")

# Why a flagged report is left out, in words a reader can follow.
CAVEAT_REASONS = {
    "cumulative": "a count of everyone ever sent, not of those on the ground",
    "conflation": "mixes up two events",
    "not_in_count": "a real deployment the mission's own head-counts leave out",
    "own_outlay": "a contributor's own spending, refunded by the trust fund: not donor money",
}

CONFLICT_RULE = (
    "Reports of the same quantity form a group. Reports a curator disputed, and counts flagged "
    "as cumulative or as a conflation of two events, are shown but never used. For an event (a "
    "pledge, an arrival, a promise of money) every report describes the same event: the best "
    "source decides, and the event is dated by the earliest report of the chosen value; a "
    "marked revision supersedes earlier reports. For a stock (a head-count, money received so "
    f"far, a stated total), reports within {WINDOW_DAYS} days of each other are one observation, "
    "decided by the best source; across dates the later observation is the current state, and "
    "a re-report of a value already reported keeps the date it was first reported. The best "
    "source is ranked by who originated the text (UN > government = mission > wire service > "
    "newspaper > research > other), then by how many independent originators report the same "
    "value the same way, then by how directly the page carries it (the originator's own page > "
    "a full verbatim repost > a rewrite, aggregator or summary), then by how exactly the figure "
    "is stated (an exact count > an approximate one > a bound), then by the later date "
    "described, then by the first report. When the best report states only a bound (\"more "
    "than 700\") and an exact figure in the group satisfies it (744), the exact figure is used."
)


def as_timestamp(value) -> pd.Timestamp:
    """Accept a date, an ISO string or a Timestamp."""
    return pd.Timestamp(value).normalize()


QUALIFIER_RANK = {"exact": 2, "about": 1, "at_least": 0, "at_most": 0}
_WINDOW = pd.Timedelta(days=WINDOW_DAYS)


def _text(v) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)


def _order(rows: list[dict]) -> list[dict]:
    """Candidates best first: originator kind, independent corroboration (distinct
    originators stating the same value the same way), directness, exactness, date, first
    report, first row."""
    support: dict[str, set] = {}
    for r in rows:
        support.setdefault(r["_same"], set()).add(r["_originator"])

    def key(r):
        return (-r["_rank"], -len(support[r["_same"]]), -r["_direct"], -r["_exact"],
                -r["_obs"].value, r["_reported"].value, r["_fact"])

    return sorted(rows, key=key)


def choose(facts: pd.DataFrame, value: str, by: tuple[str, ...] = ("group_id",),
           same: tuple[str, ...] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the conflict rule to every group of ``facts``.

    ``facts`` needs ``group_id`` (or the ``by`` keys), ``fact_id``, ``refers_to_date``,
    ``reported_date``, ``source_rank``, ``directness_rank``, ``originator``, ``disputed``,
    ``caveat``, ``qualifier`` and ``stock`` (True for a stock quantity). ``value`` is the
    column compared across reports (the range is taken on it); ``same`` are the columns that
    make two reports "the same value" (default: ``value``).

    Returns ``(observations, decisions)``: one row per observation (a stock group has one per
    observation date, an event group one) with ``date`` (the date the value describes),
    ``value_low``, ``value_high`` (the undisputed values reported for it), ``n_reports`` and
    ``latest`` (True for a group's current state); and every input row with ``outcome``
    (chosen, lost or excluded) and ``reason``.
    """
    by, same = list(by), list(same or (value,))
    columns = list(facts.columns) + ["date", "value_low", "value_high", "n_reports", "latest"]
    if facts.empty:
        empty = facts.assign(outcome=pd.Series(dtype=str), reason=pd.Series(dtype=str))
        return pd.DataFrame(columns=columns), empty
    frame = facts.reset_index(drop=True)
    groups: dict[tuple, list[dict]] = {}
    never = pd.Timestamp.min
    for i, r in enumerate(frame.to_dict(orient="records")):
        caveat = _text(r.get("caveat"))
        qualifier = _text(r.get("qualifier")) or "exact"
        # "The same value" is the same number stated the same way: "more than 900" and
        # "nearly 900" are two different statements.
        vkey = "|".join(_text(r[c]) for c in same)
        rec = {"_i": i, "_fact": r["fact_id"], "_value": r[value], "_vkey": vkey,
               "_same": f"{vkey}|{qualifier}", "_qual": qualifier, "_rank": int(r["source_rank"]),
               "_direct": int(r["directness_rank"]), "_exact": QUALIFIER_RANK.get(qualifier, 2),
               "_originator": _text(r.get("originator")) or r["source_id"],
               "_date": r["refers_to_date"] if pd.notna(r["refers_to_date"]) else never,
               "_reported": r["reported_date"] if pd.notna(r["reported_date"]) else never,
               "_stock": bool(r["stock"]), "_caveat": caveat, "_disputed": bool(r["disputed"]),
               "_dispute": _text(r.get("dispute_note"))}
        rec["_usable"] = not rec["_disputed"] and caveat not in EXCLUDED_CAVEATS
        groups.setdefault(tuple(_text(r[k]) for k in by), []).append(rec)
    n = len(frame)
    outcome, reason = [""] * n, [""] * n
    observations = []
    for rows in groups.values():
        for r in rows:
            if not r["_usable"]:
                outcome[r["_i"]] = "excluded"
                reason[r["_i"]] = (f"disputed: {r['_dispute']}" if r["_disputed"]
                                   else "left out: " + CAVEAT_REASONS.get(
                                       r["_caveat"], r["_caveat"]))
        usable = [r for r in rows if r["_usable"]]
        if not usable:
            continue
        picks = _stock_picks(usable) if usable[0]["_stock"] else [_event_pick(usable)]
        for k, (winner, members) in enumerate(picks):
            values = [float(m["_value"]) for m in members]
            observations.append((winner["_i"], winner["_obs"], min(values), max(values),
                                 len(rows), k == len(picks) - 1))
            for m in members:
                if m is winner:
                    outcome[m["_i"]], reason[m["_i"]] = "chosen", (
                        "chosen by the rule" if not m.get("_refines") else
                        f"chosen: an exact figure inside the bound {m['_refines']} states")
                else:
                    outcome[m["_i"]], reason[m["_i"]] = "lost", _why_lost(m, winner)
        for r in usable:
            if not outcome[r["_i"]]:
                outcome[r["_i"]], reason[r["_i"]] = "lost", "superseded by a later revision"
    if observations:
        idx, dates, low, high, count, latest = map(list, zip(*observations, strict=True))
        obs = frame.loc[idx].assign(date=pd.to_datetime(dates), value_low=low,
                                    value_high=high, n_reports=count, latest=latest)
    else:
        obs = frame.iloc[:0].assign(date=pd.Series(dtype="datetime64[ns]"),
                                    value_low=np.nan, value_high=np.nan, n_reports=0,
                                    latest=False)
    obs = obs.sort_values(["date", "fact_id"]).reset_index(drop=True)
    dec = frame.assign(outcome=outcome, reason=reason)
    return obs, dec.sort_values("fact_id").reset_index(drop=True)


def _first_dates(rows: list[dict]) -> None:
    """A re-report of a value the group already holds keeps the date it was first reported."""
    first: dict[str, pd.Timestamp] = {}
    for r in rows:
        first[r["_vkey"]] = min(first.get(r["_vkey"], r["_date"]), r["_date"])
    for r in rows:
        r["_obs"] = first[r["_vkey"]]


def _event_pick(usable: list[dict]):
    revisions = [r for r in usable if r["_caveat"] == "revision"]
    candidates = usable
    if revisions:
        since = max(r["_date"] for r in revisions) - _WINDOW
        candidates = [r for r in usable if r["_date"] >= since]
    _first_dates(candidates)
    return _refine(_order(candidates), candidates), candidates


def _stock_picks(usable: list[dict]):
    """Observations of a stock, oldest first: clusters of reports within the window."""
    _first_dates(usable)
    remaining = sorted(usable, key=lambda r: r["_obs"].value)
    picks = []
    while remaining:
        latest = remaining[-1]["_obs"]
        members = [r for r in remaining if r["_obs"] >= latest - _WINDOW]
        picks.append((_refine(_order(members), members), members))
        remaining = [r for r in remaining if r["_obs"] < latest - _WINDOW]
    return picks[::-1]


def _satisfies(value, bound: dict) -> bool:
    v, b = float(value), float(bound["_value"])
    return v >= b if bound["_qual"] == "at_least" else v <= b


def _refine(ordered: list[dict], members: list[dict]) -> dict:
    """The best report, unless it states only a bound ("more than 700") and an exact figure
    in the same group satisfies it (744): a bound does not contradict a figure inside it, so
    the exact figure is used, corroborated by the bound."""
    best = ordered[0]
    if best["_qual"] not in ("at_least", "at_most"):
        return best
    inside = [r for r in ordered if r["_qual"] == "exact" and _satisfies(r["_value"], best)]
    if inside:
        inside[0]["_refines"] = best["_fact"]
        return inside[0]
    return best


def _why_lost(row: dict, chosen: dict) -> str:
    if chosen.get("_refines") == row["_fact"]:
        return (f"states a bound that the exact figure of {chosen['_fact']} satisfies (used "
                f"instead, corroborated by this report)")
    if row["_same"] == chosen["_same"]:
        return f"same value as the chosen report {chosen['_fact']}"
    if row["_rank"] != chosen["_rank"]:
        return f"outranked by {chosen['_fact']} (a better kind of source)"
    if row["_direct"] != chosen["_direct"]:
        return f"outranked by {chosen['_fact']} (a more direct copy of the source)"
    return f"outranked by {chosen['_fact']} (more independent sources, or a later date)"


def collapse_types(rows: pd.DataFrame, value: str = "count",
                   keys: tuple[str, ...] = ("mission", "contributor_iso3", "event", "date"),
                   ) -> pd.DataFrame:
    """One value per (contributor, date, event): a source's ``all`` total where it gave one,
    else the sum of its typed rows (so 20 soldiers + 4 police, with or without a stated 24,
    count 24 once)."""
    keys = list(keys)
    rows = rows.assign(contributor_iso3=rows["contributor_iso3"].fillna(""))
    totals = rows[rows["personnel_type"] == "all"].groupby(keys, dropna=False)[value].sum()
    typed = rows[rows["personnel_type"] != "all"].groupby(keys, dropna=False)[value].sum()
    return totals.combine_first(typed).rename(value).reset_index()


def rank_directness(page_kind: pd.Series) -> pd.Series:
    """How directly a page carries its originator's text (higher is more direct)."""
    order = {"original": 3, "verbatim_repost": 2}
    return page_kind.map(order).fillna(1).astype(int)


def month_ends(start, last) -> list[pd.Timestamp]:
    """Month ends from ``start`` to ``last``, with ``last`` itself closing the series."""
    start, last = as_timestamp(start), as_timestamp(last)
    if last < start:
        return []
    out = list(pd.date_range(start, last, freq="ME"))
    if not out or out[-1] != last:
        out.append(last)
    return out


def step_value(dates: np.ndarray, values: np.ndarray, on: pd.Timestamp):
    """The value of a step series (sorted ``dates``) on date ``on``; None before the first."""
    i = np.searchsorted(dates, np.datetime64(on), side="right") - 1
    return None if i < 0 else values[i]
