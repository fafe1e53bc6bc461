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
EXCLUDED_CAVEATS = ("cumulative", "conflation", "not_in_count")

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
    "described, then by the first report."
)


def as_timestamp(value) -> pd.Timestamp:
    """Accept a date, an ISO string or a Timestamp."""
    return pd.Timestamp(value).normalize()


QUALIFIER_RANK = {"exact": 2, "about": 1, "at_least": 0, "at_most": 0}


def _quality_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Candidates best first: originator kind, independent corroboration (distinct
    originators stating the same value the same way), directness, exactness, date, first
    report."""
    support = frame.groupby("same_key")["originator"].transform("nunique")
    exact = frame["qualifier"].fillna("exact").map(QUALIFIER_RANK).fillna(2)
    return frame.assign(_support=support, _exact=exact).sort_values(
        ["source_rank", "_support", "directness_rank", "_exact", "obs_date", "reported_date",
         "fact_id"],
        ascending=[False, False, False, False, False, True, True], kind="mergesort")


def choose(facts: pd.DataFrame, value: str, by: tuple[str, ...] = ("group_id",),
           same: tuple[str, ...] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the conflict rule to every group of ``facts``.

    ``facts`` needs ``group_id`` (or the ``by`` keys), ``fact_id``, ``refers_to_date``,
    ``reported_date``, ``source_rank``, ``directness_rank``, ``originator``, ``disputed``,
    ``caveat`` and ``stock`` (True for a stock quantity). ``value`` is the column compared
    across reports (the range is taken on it); ``same`` are the columns that make two reports
    "the same value" (default: ``value``).

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
    frame = facts.copy()
    # "The same value" is the same number stated the same way: "more than 900" and "nearly
    # 900" are two different statements.
    frame["same_key"] = _key(frame, same + ["qualifier"])
    frame["value_key"] = _key(frame, same)
    caveat = frame["caveat"].fillna("")
    frame["usable"] = ~frame["disputed"] & ~caveat.isin(EXCLUDED_CAVEATS)
    frame["obs_date"] = frame["refers_to_date"]
    observations, decisions = [], []
    for _, group in frame.groupby(by, sort=False, dropna=False):
        n_reports = len(group)
        usable = group[group["usable"]].copy()
        outcome = pd.Series("excluded", index=group.index)
        reason = pd.Series("", index=group.index)
        for idx in group.index[~group["usable"]]:
            row = group.loc[idx]
            reason[idx] = (f"disputed: {row['dispute_note']}" if row["disputed"]
                           else f"flagged as a {caveat[idx]} count")
        if not usable.empty:
            if bool(usable["stock"].iloc[0]):
                picks = _choose_stock(usable)
            else:
                picks = [_choose_event(usable)]
            for i, (winner, members) in enumerate(picks):
                chosen = usable.loc[winner]
                values = usable.loc[members, value].astype(float)
                observations.append((winner, chosen["obs_date"], values.min(), values.max(),
                                     n_reports, i == len(picks) - 1))
                for idx in members:
                    if idx == winner:
                        outcome[idx], reason[idx] = "chosen", "chosen by the rule"
                    else:
                        outcome[idx] = "lost"
                        reason[idx] = _why_lost(usable.loc[idx], chosen, value)
            in_any = {m for _, members in picks for m in members}
            for idx in usable.index:
                if idx not in in_any:
                    outcome[idx] = "lost"
                    reason[idx] = "superseded by a later revision"
        decisions.append(group.assign(outcome=outcome, reason=reason))
    if observations:
        idx, dates, low, high, n, latest = map(list, zip(*observations, strict=True))
        obs = frame.loc[idx].assign(date=dates, value_low=low, value_high=high, n_reports=n,
                                    latest=latest)
    else:
        obs = frame.iloc[:0].assign(date=pd.NaT, value_low=np.nan, value_high=np.nan,
                                    n_reports=0, latest=False)
    obs = obs.drop(columns=["same_key", "value_key", "usable", "obs_date"])
    obs["date"] = pd.to_datetime(obs["date"])
    obs = obs.sort_values(["date", "fact_id"]).reset_index(drop=True)
    dec = pd.concat(decisions).drop(columns=["same_key", "value_key", "usable", "obs_date"])
    return obs, dec.sort_values("fact_id").reset_index(drop=True)


def _key(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One text key per row from ``columns`` (missing cells as empty text)."""
    parts = [frame[c].map(lambda v: "" if v is None or v is pd.NA or (isinstance(v, float)
                                                                     and np.isnan(v)) else str(v))
             for c in columns]
    out = parts[0]
    for part in parts[1:]:
        out = out + "|" + part
    return out


def _first_dates(usable: pd.DataFrame) -> pd.Series:
    """A re-report of a value the group already holds keeps the date it was first reported."""
    return usable.groupby("value_key")["refers_to_date"].transform("min")


def _choose_event(usable: pd.DataFrame):
    revisions = usable[usable["caveat"].fillna("") == "revision"]
    candidates = usable
    if not revisions.empty:
        since = revisions["refers_to_date"].max() - pd.Timedelta(days=WINDOW_DAYS)
        candidates = usable[usable["refers_to_date"] >= since]
    candidates = candidates.assign(obs_date=_first_dates(candidates))
    ordered = _quality_order(candidates)
    winner = ordered.index[0]
    usable.loc[candidates.index, "obs_date"] = candidates["obs_date"]
    return winner, list(candidates.index)


def _choose_stock(usable: pd.DataFrame):
    """Observations of a stock, oldest first: clusters of reports within the window."""
    usable["obs_date"] = _first_dates(usable)
    remaining = usable.sort_values("obs_date")
    picks = []
    while not remaining.empty:
        latest = remaining["obs_date"].max()
        members = remaining[remaining["obs_date"] >= latest - pd.Timedelta(days=WINDOW_DAYS)]
        winner = _quality_order(members).index[0]
        picks.append((winner, list(members.index)))
        remaining = remaining.drop(members.index)
    return picks[::-1]


def _why_lost(row: pd.Series, chosen: pd.Series, value: str) -> str:
    if row["same_key"] == chosen["same_key"]:
        return f"same value as the chosen report {chosen['fact_id']}"
    if row["source_rank"] != chosen["source_rank"]:
        return f"outranked by {chosen['fact_id']} (a better kind of source)"
    if row["directness_rank"] != chosen["directness_rank"]:
        return f"outranked by {chosen['fact_id']} (a more direct copy of the source)"
    return f"outranked by {chosen['fact_id']} (more independent sources, or a later date)"


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
