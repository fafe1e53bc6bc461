"""The state of knowledge on one date: who had pledged and deployed what, the planned and
authorized strength, and the money, all computed from rows reported by that date."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import funding, personnel
from .dataset import Dataset, load_dataset
from .entities import entity_name
from .timeline import as_timestamp


@dataclass(frozen=True)
class Snapshot:
    """Everything a report needs about one as-of date, as tables."""

    as_of: pd.Timestamp
    data_version: str
    contributors: pd.DataFrame      # mission, contributor_iso3, name, pledged, deployed, basis
    mission_totals: pd.DataFrame    # reported mission-wide head-counts, resolved
    planned: pd.DataFrame           # planned / target strengths, resolved
    mandate: pd.Series | None       # the latest resolution adopted by as_of
    money: pd.DataFrame             # mission, donor, channel, promised/received/... in USD
    trust_fund_totals: pd.DataFrame  # all-donor totals as sources stated them, in USD
    reconciliation: pd.DataFrame

    @property
    def current_mission(self) -> str:
        """The mission the latest resolution by ``as_of`` authorized."""
        return "MSS" if self.mandate is None else str(self.mandate["mission"])

    def headline(self) -> dict:
        """The figures users script against (``python -m haiti_mss snapshot``)."""
        out: dict = {"as_of": self.as_of.date().isoformat(), "data_version": self.data_version,
                     "current_mission": self.current_mission, "missions": {}}
        for mission in sorted(set(self.contributors["mission"]) | set(self.planned["mission"])):
            own = self.contributors[self.contributors["mission"] == mission]
            plan = self.planned[self.planned["mission"] == mission]
            reported = self.mission_totals[self.mission_totals["mission"] == mission]
            out["missions"][mission] = {
                "contributors": [
                    {"iso3": r.contributor_iso3, "name": r.name,
                     "pledged": _int(r.pledged), "deployed": _int(r.deployed),
                     "announced": None if pd.isna(r.announced) else
                     {"count": int(r.announced), "date": r.announced_date.date().isoformat()}}
                    for r in own.itertuples()
                ],
                "total_pledged": int(own["pledged"].fillna(0).sum()),
                "total_deployed": int(own["deployed"].fillna(0).sum()),
                "latest_reported_total": _latest(reported),
                "planned_strength": _latest(plan),
            }
        m = self.mandate
        out["mandate"] = None if m is None else {
            "resolution": int(m["resolution"]), "mission": m["mission"],
            "adopted": m["adopted_date"].date().isoformat(),
            "expires": None if pd.isna(m["expires_date"]) else m["expires_date"].date().isoformat(),
            "ceiling_personnel": _int(m["ceiling_personnel"]),
            "ceiling_note": m["ceiling_note"],
        }
        out["money_usd"] = [
            {"mission": r.mission, "donor": None if pd.isna(r.donor) else r.donor,
             "channel": r.channel,
             **{status: _usd(getattr(r, f"{status}_usd"))
                for status in ("promised", "received", "spent", "frozen", "withdrawn")}}
            for r in self.money.itertuples()
        ]
        tf = self.trust_fund_totals
        tf = tf[tf["channel"] == "un_trust_fund"].sort_values("refers_to_date")
        out["trust_fund_stated_totals_usd"] = {
            status: {"amount_usd": _usd(rows.iloc[-1]["amount_usd"]),
                     "date": rows.iloc[-1]["refers_to_date"].date().isoformat(),
                     "source_id": rows.iloc[-1]["source_id"]}
            for status, rows in tf.groupby("status")
        }
        return out


def _usd(value):
    return None if value is None or pd.isna(value) else round(float(value), 2)


def _int(value):
    return None if value is None or pd.isna(value) else int(value)


def _latest(rows: pd.DataFrame) -> dict | None:
    if rows.empty:
        return None
    last = rows.sort_values(["refers_to_date", "source_rank"]).iloc[-1]
    return {"count": int(last["count"]), "date": last["refers_to_date"].date().isoformat(),
            "source_id": last["source_id"], "range": [int(last["value_low"]),
                                                      int(last["value_high"])]}


def snapshot(as_of, dataset: Dataset | None = None) -> Snapshot:
    """The state of knowledge on ``as_of``: only rows reported on or before that date."""
    as_of = as_timestamp(as_of)
    ds = dataset or load_dataset()
    events = personnel.resolved_events(ds.personnel, as_of)
    deployed = personnel.deployed_on(events, as_of)
    pledged = personnel.pledged_on(ds.personnel, as_of)
    announced = personnel.announced_on(ds.personnel, as_of)
    contributors = (pledged.merge(deployed, on=["mission", "contributor_iso3"], how="outer")
                    .merge(announced, on=["mission", "contributor_iso3"], how="left"))
    # A contributor that pledged but had no reported arrival had deployed no one.
    none_yet = contributors["deployed"].isna()
    contributors.loc[none_yet, "deployed"] = 0
    contributors.loc[none_yet, "basis"] = "no arrival reported"
    contributors["deployed"] = contributors["deployed"].astype(int)
    contributors["name"] = contributors["contributor_iso3"].map(entity_name)
    contributors = contributors.sort_values(
        ["mission", "deployed", "pledged"], ascending=[True, False, False], na_position="last"
    ).reset_index(drop=True)
    planned = personnel.mission_totals(ds.personnel, as_of, event="planned")
    mandates = ds.mandates[ds.mandates["adopted_date"] <= as_of].sort_values("adopted_date")
    return Snapshot(
        as_of=as_of,
        data_version=ds.version,
        contributors=contributors,
        mission_totals=personnel.mission_totals(ds.personnel, as_of),
        planned=planned,
        mandate=None if mandates.empty else mandates.iloc[-1],
        money=funding.money_by_donor(ds.money, ds.fx_rates, as_of),
        trust_fund_totals=funding.stated_totals(ds.money, ds.fx_rates, as_of),
        reconciliation=personnel.reconcile_totals(ds.personnel, as_of),
    )
