"""The state of knowledge on one date, as the figures users script against
(``python -m haiti_mss snapshot``): who had pledged and deployed what, per mission and in
total, the planned strength or ceiling, the mandate in force and the trust fund.

A snapshot is a view of a resolved :class:`~haiti_mss.resolve.State`; it computes nothing the
state does not hold."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .dataset import Dataset, load_dataset
from .resolve import STALE_DAYS, State, resolve, trust_fund


def _iso(value):
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _int(value):
    return None if value is None or pd.isna(value) else int(value)


def _usd(value):
    return None if value is None or pd.isna(value) else round(float(value), 2)


@dataclass(frozen=True)
class Snapshot:
    """Everything a report needs about one as-of date; ``state`` holds the tables."""

    state: State

    @property
    def as_of(self) -> pd.Timestamp:
        return self.state.as_of

    @property
    def data_version(self) -> str:
        return self.state.data_version

    @property
    def contributors(self) -> pd.DataFrame:
        return self.state.contributors

    @property
    def current_mission(self) -> str:
        """The mission in force on ``as_of``; before any was, the MSS."""
        return self.state.current_mission or "MSS"

    def mission_headline(self, mission: str) -> dict | None:
        """One mission's figures on ``as_of``."""
        s = self.state
        m = s.mission(mission)
        own = s.contributors[s.contributors["mission"] == mission]
        if m is None and own.empty:
            return None
        ended = m is not None and m["status"] == "ended"
        totals = s.totals[s.totals["mission"] == mission]
        head = totals.iloc[-1] if not totals.empty else None
        plan = s.planned[s.planned["mission"] == mission]
        stated_pledges = s.stated_pledges[s.stated_pledges["mission"] == mission]
        out = {
            "status": None if m is None else m["status"],
            "start": None if m is None else _iso(m["start"]),
            "end": None if m is None else _iso(m["end"]),
            "replaces": None if m is None or not isinstance(m["replaces"], str) else m["replaces"],
            "successor": None if m is None or not isinstance(m["successor"], str)
            else m["successor"],
            "contributors": [
                {"iso3": r.contributor_iso3, "name": r.name, "pledged": _int(r.pledged),
                 "deployed": _int(r.deployed), "deployed_at_end": _int(r.deployed_at_end),
                 "last_reported": _iso(r.last_reported), "stale": bool(r.stale),
                 "basis": r.basis,
                 "announced": None if pd.isna(r.announced) else
                 {"count": int(r.announced), "date": _iso(r.announced_date)}}
                for r in own.itertuples()],
            "total_pledged": int(own["pledged"].fillna(0).sum()),
            "latest_stated_pledged_total": None if stated_pledges.empty else {
                "count": int(stated_pledges.iloc[-1]["count"]),
                "date": _iso(stated_pledges.iloc[-1]["date"]),
                "qualifier": stated_pledges.iloc[-1]["qualifier"] or None,
                "fact_id": stated_pledges.iloc[-1]["fact_id"]},
            "planned_strength": None if plan.empty else {
                "count": int(plan.iloc[0]["count"]), "quantity": plan.iloc[0]["quantity"],
                "uniformed": _int(plan.iloc[0]["uniformed"]), "date": _iso(plan.iloc[0]["date"]),
                "source": plan.iloc[0]["source"],
                "range": [_int(plan.iloc[0]["value_low"]), _int(plan.iloc[0]["value_high"])]},
        }
        if head is None:
            out.update({"total_deployed": 0, "sum_of_contributors": 0, "total_basis":
                        "not started", "total_date": None, "stale": False})
        else:
            last = head["last_reported"]
            out.update({
                "total_deployed": 0 if ended else int(head["total"]),
                "sum_of_contributors": 0 if ended else int(head["sum_of_contributors"]),
                "total_basis": "the mission had ended" if ended else head["basis"],
                "total_date": _iso(head["stated_date"]),
                "total_fact_id": head["fact_id"] if isinstance(head["fact_id"], str) else None,
                "last_reported": _iso(last),
                "stale": bool(not ended and pd.notna(last)
                              and (s.as_of - pd.Timestamp(last)).days > STALE_DAYS),
            })
            if ended:
                out["handed_over"] = {"date": _iso(m["end"]), "to": out["successor"],
                                      "total": int(head["total"]),
                                      "sum_of_contributors": int(head["sum_of_contributors"])}
        tf = trust_fund(s, mission)
        out["trust_fund"] = {
            "stated_received": _money(tf["stated_received"]),
            "stated_pledged": _money(tf["stated_pledged"]),
            "sum_of_donor_deposits_usd": _usd(tf["sum_received"]),
            "sum_of_donor_promises_usd": _usd(tf["sum_promised"]),
            "paid_out": None if tf["paid_out"] is None else {
                "amount_usd": _usd(tf["paid_out"]["amount_usd"]),
                "date": _iso(tf["paid_out"]["date"]), "to": tf["paid_out"]["recipient"]},
        }
        return out

    def headline(self) -> dict:
        """The figures users script against, as plain JSON values."""
        s = self.state
        current = s.current_mission
        out: dict = {"as_of": _iso(s.as_of), "data_version": s.data_version,
                     "data_date": _iso(s.view.data_date),
                     "current_mission": current, "missions": {}}
        names = list(s.missions["mission"]) + sorted(
            set(s.contributors["mission"]) - set(s.missions["mission"]))
        for name in names:
            head = self.mission_headline(name)
            if head is not None:
                out["missions"][name] = head
        m = s.mission(current) if current else None
        out["mandate"] = None if m is None else {
            "resolution": int(m["resolution"]), "mission": m["mission"],
            "adopted": _iso(m["adopted"]), "expires": _iso(m["expires"]),
            "ceiling_personnel": _int(m["ceiling"]),
            "ceiling_uniformed": _int(m["ceiling_uniformed"]), "ceiling_note": m["ceiling_note"]}
        return out


def _money(stated: dict | None) -> dict | None:
    if stated is None:
        return None
    return {"amount_usd": _usd(stated["amount_usd"]), "date": _iso(stated["date"]),
            "qualifier": stated["qualifier"] if isinstance(stated["qualifier"], str) else None,
            "fact_id": stated["fact_id"], "source_id": stated["source_id"],
            "range_usd": [_usd(v) for v in stated["range"]]}


def snapshot(as_of, dataset: Dataset | None = None) -> Snapshot:
    """The state of knowledge on ``as_of`` (a date, or ``latest`` for the data date)."""
    ds = dataset or load_dataset()
    return Snapshot(resolve(ds.known_on(ds.resolve_as_of(as_of))))


def from_state(state: State) -> Snapshot:
    """The snapshot of an already resolved state."""
    return Snapshot(state)
