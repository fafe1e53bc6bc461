"""Turn what was known on a date into one resolved state: the missions and their time, the
chosen value of every quantity (with the reports that lost, and why), each contributor's
strength rebuilt from stocks and flows, mission totals beside the sum of contributors, pledges,
planned strength, the money by instrument and the trust fund, cost estimates and gaps.

Everything downstream (the snapshot, the model's setting, every table and chart) takes a
:class:`State`; nothing re-filters by date. ``resolve(dataset.known_on(as_of))`` is the only
way to make one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .dataset import Dataset
from .errors import ParameterError
from .timeline import as_timestamp, choose, month_ends

STALE_DAYS = 90            # a count older than this is shown as "last reported on"
FX_MAX_DAYS = 31           # a flow converted at a rate further from its date is flagged
FLOW_EVENTS = ("arrived", "departed")
STRENGTH_EVENTS = ("deployed", "arrived", "departed")
PROMISE_LADDER = ["announced", "pledged", "committed"]
MONEY_STATES = ["received", "spent", "frozen", "withdrawn", "paid_out"]


@dataclass(frozen=True)
class State:
    """The resolved state of knowledge on ``as_of``."""

    as_of: pd.Timestamp
    view: Dataset
    missions: pd.DataFrame          # one row per mission: start, end, status, mandate, ceiling
    personnel: pd.DataFrame         # chosen personnel observations (types collapsed)
    personnel_decisions: pd.DataFrame
    strength: pd.DataFrame          # month_end, mission, contributor_iso3, deployed
    totals: pd.DataFrame            # month_end, mission, total, sum_of_contributors, ...
    contributors: pd.DataFrame      # per mission and contributor on as_of
    stated_totals: pd.DataFrame     # mission-wide head-counts as sources stated them
    stated_pledges: pd.DataFrame    # mission-wide pledge totals as sources stated them
    planned: pd.DataFrame           # per mission: planned strength and what it is
    money: pd.DataFrame             # chosen money observations, in USD
    money_decisions: pd.DataFrame
    instruments: pd.DataFrame       # per instrument: promised and states, latest
    requirements: pd.DataFrame      # distinct cost estimates, chosen, in USD
    requirement_decisions: pd.DataFrame
    context: pd.DataFrame
    context_decisions: pd.DataFrame
    extra: dict = field(default_factory=dict)

    @property
    def data_version(self) -> str:
        return self.view.version

    def mission(self, name: str) -> pd.Series | None:
        rows = self.missions[self.missions["mission"] == name]
        return None if rows.empty else rows.iloc[0]

    @property
    def current_mission(self) -> str | None:
        """The mission in force on ``as_of`` (the latest started one), if any."""
        active = self.missions[self.missions["status"] == "active"]
        return None if active.empty else str(active.sort_values("start").iloc[-1]["mission"])


# ---------------------------------------------------------------------------------------------
# Missions bounded in time


def mission_bounds(view: Dataset) -> pd.DataFrame:
    """Each mission's start (its first resolution, or the end of the mission it replaces),
    end (when a successor replaces it, or its last mandate expired unrenewed), status on the
    view's date and the mandate in force."""
    as_of = view.as_of
    mandates = view.mandates.sort_values("adopted_date")
    rows = []
    for mission, own in mandates.groupby("mission", sort=False):
        first = own.iloc[0]
        start = first["adopted_date"]
        rows.append({"mission": mission, "start": start, "replaces": first.get("replaces"),
                     "mandates": own})
    by = {r["mission"]: r for r in rows}
    # A successor starts when its predecessor's authorization runs out (or on its own vote,
    # if later); the predecessor ends that day.
    for r in rows:
        pred = r["replaces"]
        if isinstance(pred, str) and pred in by:
            last = by[pred]["mandates"].iloc[-1]
            handover = last["expires_date"] if pd.notna(last["expires_date"]) else r["start"]
            r["start"] = max(r["start"], handover)
            by[pred]["end"] = r["start"]
            by[pred]["successor"] = r["mission"]
    out = []
    for r in rows:
        own = r["mandates"]
        end = r.get("end")
        last = own.iloc[-1]
        if end is None and pd.notna(last["expires_date"]) and last["expires_date"] <= as_of:
            end = last["expires_date"]  # expired and not renewed (as far as was known)
        in_force = own[(own["adopted_date"] <= as_of)
                       & (own["expires_date"].isna() | (own["expires_date"] > as_of))]
        mandate = in_force.iloc[-1] if not in_force.empty else last
        if as_of < r["start"]:
            status = "authorized" if r.get("replaces") else "not started"
        elif end is not None and as_of >= end:
            status = "ended"
        else:
            status = "active"
        out.append({
            "mission": r["mission"], "start": r["start"], "end": end, "status": status,
            "successor": r.get("successor"), "replaces": r["replaces"],
            "resolution": int(mandate["resolution"]), "adopted": mandate["adopted_date"],
            "expires": mandate["expires_date"],
            "ceiling": mandate["ceiling_personnel"], "ceiling_uniformed":
            mandate.get("ceiling_uniformed"), "ceiling_note": mandate["ceiling_note"],
            "first_resolution": int(own.iloc[0]["resolution"]),
        })
    return pd.DataFrame(out, columns=["mission", "start", "end", "status", "successor",
                                      "replaces", "resolution", "adopted", "expires", "ceiling",
                                      "ceiling_uniformed", "ceiling_note", "first_resolution"])


def _outside_mission(rows: pd.DataFrame, missions: pd.DataFrame) -> pd.Series:
    """Rows a mission's own time does not cover: strength rows before its start or from its
    end on, and any row from its end on (a later statement about an ended mission is not its
    state; the successor has its own rows)."""
    bounds = missions.set_index("mission")
    start = rows["mission"].map(bounds["start"])
    end = rows["mission"].map(bounds["end"])
    when = rows["refers_to_date"]
    strength = rows["event"].isin(STRENGTH_EVENTS) if "event" in rows else False
    after = end.notna() & (when >= end)
    before = strength & start.notna() & (when < start)
    return after | before


# ---------------------------------------------------------------------------------------------
# Personnel


def one_row_per_report(rows: pd.DataFrame) -> pd.DataFrame:
    """Merge the rows one source gave for one quantity into one report, so the conflict rule
    compares whole reports: the source's ``all`` figure where it gave one (the same figure
    recorded twice counts once), else the sum of its typed rows (170 soldiers + 30 police of
    one pledge are one report of 200)."""
    if rows.empty:
        return rows.assign(types=pd.Series(dtype=str))
    keys = ["group_id", "source_id", "refers_to_date"]
    rows = rows.sort_values("fact_id")
    is_all = rows["personnel_type"] == "all"
    has_all = is_all.groupby([rows[k] for k in keys]).transform("any")
    alls = rows[is_all].drop_duplicates(keys).assign(types="all")
    typed = rows[~has_all].drop_duplicates(keys + ["personnel_type"])
    if typed.empty:
        return alls.reset_index(drop=True)
    grouped = typed.groupby(keys, as_index=False, sort=False)
    first = grouped.first()
    counts = grouped["count"].sum()
    types = grouped["personnel_type"].agg(lambda t: "+".join(sorted(t)))
    merged = first.drop(columns=["count", "personnel_type"]).merge(counts, on=keys).merge(
        types.rename(columns={"personnel_type": "types"}), on=keys)
    merged["personnel_type"] = merged["types"].where(~merged["types"].str.contains(r"\+"), "all")
    return pd.concat([alls, merged], ignore_index=True).sort_values("fact_id").reset_index(drop=True)


def _collapse(obs: pd.DataFrame) -> pd.DataFrame:
    """One figure per (mission, contributor, event, date) across groups: for flows, the
    source's ``all`` totals where given (distinct arrivals on one day add up), else the sum of
    its typed parts; for a head-count, the best-ranked ``all`` count, else the sum of the
    best-ranked count of each type (two reports of one head-count never add up)."""
    keys = ["mission", "contributor_iso3", "event", "date"]
    if obs.empty:
        return obs.assign(basis_ids=pd.Series(dtype=object))
    obs = obs.assign(contributor_iso3=obs["contributor_iso3"].fillna(""))
    ranked = obs.sort_values(["source_rank", "directness_rank", "fact_id"],
                             ascending=[False, False, True], kind="mergesort")
    out = []
    for key, own in ranked.groupby(keys, sort=False):
        alls = own[own["personnel_type"] == "all"]
        typed = own[own["personnel_type"] != "all"]
        if bool(own["stock"].iloc[0]):
            used = alls.head(1) if not alls.empty else typed.drop_duplicates("personnel_type")
        else:
            used = alls if not alls.empty else typed
        head = used.iloc[0]
        out.append({**dict(zip(keys, key, strict=True)), "count": int(used["count"].sum()),
                    "value_low": float(used["value_low"].sum()),
                    "value_high": float(used["value_high"].sum()),
                    "fact_id": head["fact_id"], "source_id": head["source_id"],
                    "fact_ids": ", ".join(used["fact_id"]), "qualifier": head["qualifier"],
                    "caveat": head["caveat"], "n_reports": int(used["n_reports"].sum()),
                    "group_id": head["group_id"], "source_rank": head["source_rank"],
                    "types": "all" if not alls.empty or len(used) > 1 else head["types"],
                    "latest": bool(used["latest"].any())})
    return pd.DataFrame(out).sort_values(["mission", "date", "contributor_iso3", "event"]
                                         ).reset_index(drop=True)


def event_records(events: pd.DataFrame) -> list[tuple]:
    """One contributor's strength events as (date, event, count, source_rank, relief) tuples,
    sorted by date: the form :func:`strength_at` reads fast."""
    if events.empty:
        return []
    caveat = events["caveat"].astype(object).where(events["caveat"].notna(), "")
    qualifier = (events["qualifier"].astype(object).where(events["qualifier"].notna(), "")
                 if "qualifier" in events else pd.Series("", index=events.index))
    rows = zip(events["date"], events["event"], events["count"].astype(int),
               events["source_rank"].astype(int), caveat == "relief", qualifier, strict=True)
    return sorted(rows, key=lambda r: (r[0], r[3]))


def strength_at(records: list[tuple], on: pd.Timestamp):
    """See :func:`strength_on`; ``records`` from :func:`event_records`. A head-count stated
    as a bound ("more than 700") that the standing figure already satisfies adds nothing: it
    neither replaces an exact count nor counts as a newer report of it (it only confirms). An
    "about N" is a report of N and replaces the figure."""
    upto = [r for r in records if r[0] <= on]
    running = None
    since = None
    later: list[tuple] = []
    for r in upto:
        if r[1] == "deployed":
            bound = r[5] if len(r) > 5 else ""
            if running is not None and ((bound == "at_least" and r[2] <= running)
                                        or (bound == "at_most" and r[2] >= running)):
                continue
            running, since, later = r[2], r[0], []
        elif r[1] in FLOW_EVENTS and not r[4] and (since is None or r[0] > since):
            # A head-count of a day already includes that day's arrivals and departures.
            running = (running or 0) + (r[2] if r[1] == "arrived" else -r[2])
            later.append(r)
    if since is not None:
        basis = "reported count" if not later else "reported count + later flows"
    elif later:
        basis = "sum of arrivals"
    else:
        return 0, "no arrival reported", None, None
    used = [d for d in [since, later[-1][0] if later else None] if d is not None]
    return max(int(running), 0), basis, since, max(used) if used else None


def strength_on(events: pd.DataFrame, on: pd.Timestamp) -> tuple[int, str, pd.Timestamp | None,
                                                                   pd.Timestamp | None]:
    """One contributor's strength on ``on`` from its resolved events: the last reported
    head-count on or before the date, plus the arrivals and less the departures after it
    (a relief rotation replaces people and changes nothing); with no head-count, arrivals less
    departures. Returns (strength, basis, date of the head-count used, date of the last
    figure used)."""
    return strength_at(event_records(events), pd.Timestamp(on))


def _by_contributor(strength: pd.DataFrame, mission: str) -> dict[str, list[tuple]]:
    own = strength[(strength["mission"] == mission) & (strength["contributor_iso3"] != "")]
    return {who: event_records(ev) for who, ev in own.groupby("contributor_iso3")}


def _strength_events(events: pd.DataFrame, missions: pd.DataFrame) -> pd.DataFrame:
    """The events that rebuild strength, per mission, with a successor's personnel carried
    over from its predecessor at the handover as head-counts (so no one is counted twice and
    the successor does not start from zero)."""
    strength = events[events["event"].isin(STRENGTH_EVENTS)].copy()
    carried = []
    for m in missions.itertuples():
        pred = missions[missions["mission"] == m.replaces]
        if pred.empty:
            continue
        handover = m.start
        old = strength[(strength["mission"] == m.replaces) & (strength["contributor_iso3"] != "")]
        for who, own in old.groupby("contributor_iso3"):
            count, _, _, last = strength_at(event_records(own), handover - pd.Timedelta(days=1))
            if count or last is not None:
                carried.append({"mission": m.mission, "contributor_iso3": who,
                                "event": "deployed", "date": handover, "count": count,
                                "value_low": float(count), "value_high": float(count),
                                "fact_id": "", "source_id": "", "fact_ids": "",
                                "qualifier": None, "caveat": "carried_over", "n_reports": 0, "types": "all",
                                "group_id": "", "source_rank": -1, "latest": True})
    if carried:
        strength = pd.concat([strength, pd.DataFrame(carried)], ignore_index=True)
    return strength


ROUNDING_BAND = 0.10  # "about N" is read as N give or take 10%


def consistent(summed: int, stated: int, qualifier) -> bool:
    """Whether the sum of the contributors' own figures fits a mission-wide total as a source
    stated it: "about N" within 10% of N, "at least N" at or above N, "at most N" at or below,
    an exact N only when equal. A total the sum fits adds nothing: the exact parts are kept
    (so a rounded "about 1,000" does not make the line jump); one it does not fit means
    contributors are missing from the data, and the stated total wins."""
    q = qualifier if isinstance(qualifier, str) and qualifier else "exact"
    if q == "about":
        return abs(summed - stated) <= ROUNDING_BAND * stated
    if q == "at_least":
        return summed >= stated
    if q == "at_most":
        return summed <= stated
    return summed == stated


def _moved_since(records: list[tuple], since: pd.Timestamp, on: pd.Timestamp) -> int:
    """How far one contributor moves a stated total between ``since`` and ``on``: the
    arrivals less the departures reported in between (a relief rotation moves nothing). A
    later head-count of a contributor the total already counted is a re-measurement, not a
    movement, and does not move the total; a contributor with no figure at ``since`` adds its
    whole strength on ``on``."""
    if strength_at(records, since)[3] is None:
        return strength_at(records, on)[0]
    return sum((r[2] if r[1] == "arrived" else -r[2]) for r in records
               if since < r[0] <= on and r[1] in FLOW_EVENTS and not r[4])


def _is_rounded(row) -> bool:
    q = row.get("qualifier")
    return isinstance(q, str) and q in ("about", "at_least", "at_most")


def last_parts_on(parts: dict[str, list[tuple]], on: pd.Timestamp):
    """The newest date any contributor's own figure was reported for, up to ``on``."""
    dates = [strength_at(rec, on)[3] for rec in parts.values()]
    return max([d for d in dates if d is not None], default=pd.Timestamp.min)


def _approx(row) -> str:
    words = {"about": "about ", "at_least": "at least ", "at_most": "at most "}
    q = row.get("qualifier")
    return f"{words.get(q, '') if isinstance(q, str) else ''}{int(row['count']):,}"


def _mission_total(mission: str, on: pd.Timestamp, parts: dict[str, list[tuple]],
                   stated: pd.DataFrame, carried_total: dict) -> dict:
    """The mission's head-count on ``on``: the latest total a source stated (or, for a
    successor before its first stated total, what it took over), rolled forward by the change
    in the sum of contributors since; with neither, the sum of contributors. ``parts`` are the
    contributors' event records (:func:`_by_contributor`)."""
    per = {who: strength_at(rec, on) for who, rec in parts.items()}
    summed = sum(v[0] for v in per.values())
    last_parts = max([v[3] for v in per.values() if v[3] is not None], default=None)
    st = stated[(stated["mission"] == mission) & (stated["date"] <= on)]
    anchor = None
    agrees = None
    if not st.empty:
        row = st.sort_values(["date", "source_rank"]).iloc[-1]
        at_row = sum(strength_at(rec, row["date"])[0] for rec in parts.values())
        if parts and consistent(at_row, int(row["count"]), row.get("qualifier")):
            agrees = row
            # A rounded total only confirms the parts it fits; it never brings them back over
            # an exact count of the whole mission that is newer than every part's own figure.
            exact = st[st["qualifier"].isna() | (st["qualifier"] == "")]
            if _is_rounded(row) and not exact.empty:
                ex = exact.sort_values(["date", "source_rank"]).iloc[-1]
                if last_parts is None or ex["date"] > last_parts_on(parts, ex["date"]):
                    anchor, agrees = (ex["date"], int(ex["count"]), ex["fact_id"],
                                      ex["source_id"]), None
        else:
            anchor = (row["date"], int(row["count"]), row["fact_id"], row["source_id"])
    carry = carried_total.get(mission)
    if carry is not None and carry[0] <= on and (anchor is None or carry[0] > anchor[0]) \
            and (agrees is None or carry[0] > agrees["date"]):
        anchor, agrees = (carry[0], carry[1], "", ""), None
    if anchor is None:
        basis = "sum of contributors"
        if agrees is not None:
            basis += (f" (the last total a source stated, {_approx(agrees)} for "
                      f"{agrees['date']:%-d %B %Y}, agreed with the contributors' figures "
                      f"then)")
        return {"total": summed, "basis": basis, "stated_total": None,
                "stated_date": None, "sum_of_contributors": summed, "fact_id": None,
                "source_id": None, "last_reported": last_parts}
    date, value, fact_id, source_id = anchor
    change = sum(_moved_since(rec, date, on) for rec in parts.values())
    basis = "total stated by a source" if fact_id else "total taken over at the handover"
    if change:
        basis += (f" ({'+' if change > 0 else ''}{change:,} in arrivals and departures "
                  f"reported since)")
    last = max([d for d in (date, last_parts) if d is not None])
    return {"total": max(value + change, 0), "basis": basis, "stated_total": value,
            "stated_date": date, "sum_of_contributors": summed, "fact_id": fact_id or None,
            "source_id": source_id or None, "last_reported": last}


def _resolve_personnel(view: Dataset, missions: pd.DataFrame):
    rows = view.personnel
    outside = _outside_mission(rows, missions) if not missions.empty else \
        pd.Series(False, index=rows.index)
    merged = one_row_per_report(rows[~outside])
    obs, decisions = choose(merged, "count")
    late = rows[outside].assign(outcome="excluded",
                                reason="dated outside the mission's time (after it ended, or "
                                       "a strength figure before it started)")
    decisions = pd.concat([decisions, late], ignore_index=True).sort_values("fact_id")
    events = _collapse(obs)
    return events, decisions.reset_index(drop=True)


def _carried_totals(missions, strength, stated) -> dict:
    """A successor's starting total: its predecessor's total on the day before handover."""
    out = {}
    for m in missions.itertuples():
        if isinstance(m.replaces, str) and (missions["mission"] == m.replaces).any():
            before = _mission_total(m.replaces, m.start - pd.Timedelta(days=1),
                                    _by_contributor(strength, m.replaces), stated, {})
            out[m.mission] = (m.start, before["total"])
    return out


def _series(missions, strength, stated, carried, as_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    per_rows, total_rows = [], []
    for m in missions.itertuples():
        last = as_of if m.end is None or pd.isna(m.end) else min(as_of, m.end - pd.Timedelta(days=1))
        parts = _by_contributor(strength, m.mission)
        for month in month_ends(m.start, last):
            for who, rec in parts.items():
                per_rows.append({"month_end": month, "mission": m.mission,
                                 "contributor_iso3": who, "deployed": strength_at(rec, month)[0]})
            total = _mission_total(m.mission, month, parts, stated, carried)
            total_rows.append({"month_end": month, "mission": m.mission, **total})
    per = pd.DataFrame(per_rows, columns=["month_end", "mission", "contributor_iso3", "deployed"])
    totals = pd.DataFrame(total_rows)
    return per, totals


def _first_pledges(personnel: pd.DataFrame) -> dict:
    """(mission, contributor) -> the date of the first report of a pledge, including pledges
    later revised (a conflated or relief row is no pledge, nor is a disputed one)."""
    disputed = personnel["dispute_note"].fillna("").astype(str).str.strip() != ""
    rows = personnel[(personnel["event"] == "pledged") & personnel["contributor_iso3"].notna()
                     & ~personnel["caveat"].isin(["conflation", "relief"]) & ~disputed]
    return rows.groupby(["mission", "contributor_iso3"])["refers_to_date"].min().to_dict()


def _contributors(missions, events, strength, as_of, first_pledge=None) -> pd.DataFrame:
    """Per mission and contributor on ``as_of``: pledged, deployed (with its date and basis),
    announced, peak and first arrival."""
    named = events[events["contributor_iso3"] != ""]
    rows = []
    for m in missions.itertuples():
        own = named[named["mission"] == m.mission]
        st = strength[(strength["mission"] == m.mission) & (strength["contributor_iso3"] != "")]
        started = m.status in ("active", "ended")
        who_all = sorted(set(own["contributor_iso3"])
                         | (set(st["contributor_iso3"]) if started else set()))
        ended = m.status == "ended"
        for who in who_all:
            mine = own[own["contributor_iso3"] == who]
            # A relief contingent promised to replace others is a rotation, not more strength.
            pledges = mine[(mine["event"] == "pledged") & (mine["caveat"] != "relief")]
            announced = mine[mine["event"] == "announced"].sort_values("date")
            ev = st[st["contributor_iso3"] == who]
            on = as_of if not ended else m.end - pd.Timedelta(days=1)
            count, basis, _, last = strength_on(ev, on)
            carried = ev[(ev["caveat"] == "carried_over")]
            if not carried.empty and basis.startswith("reported count") and \
                    (ev[ev["event"] == "deployed"]["date"].max() == m.start):
                basis = basis.replace("reported count", "taken over from "
                                      f"{m.replaces}")
            arrivals = ev[(ev["event"].isin(["arrived", "deployed"])) & (ev["count"] > 0)
                          & (ev["caveat"] != "carried_over")]
            # An announcement followed by an arrival has been acted on: it is no longer news.
            # Of those still open, the largest is shown (a "600 more" covers the "300 within a
            # month" reported of it days later).
            if not announced.empty:
                came = ev[(ev["event"] == "arrived") & (ev["count"] > 0)]
                if not came.empty:
                    announced = announced[announced["date"] >= came["date"].max()]
                announced = announced.sort_values(["count", "date"], ascending=[True, False])
            rows.append({
                "mission": m.mission, "contributor_iso3": who,
                "pledged": int(pledges["count"].sum()) if not pledges.empty else None,
                # The first report of any pledge, even one a revision later replaced (Chad
                # offered 1,500 in December 2025, then 800: it first pledged in December).
                "first_pledge_date": (min(pledges["date"].min(), first_pledge.get(
                    (m.mission, who), pledges["date"].min())) if not pledges.empty else pd.NaT),
                "deployed": 0 if ended else count,
                "deployed_at_end": count if ended else None,
                "basis": basis,
                "last_reported": last if last is not None else pd.NaT,
                "stale": bool(last is not None and not ended
                              and (as_of - last).days > STALE_DAYS),
                "announced": int(announced.iloc[-1]["count"]) if not announced.empty else None,
                "announced_date": announced.iloc[-1]["date"] if not announced.empty else pd.NaT,
                "first_arrival": arrivals["date"].min() if not arrivals.empty else pd.NaT,
            })
    out = pd.DataFrame(rows, columns=["mission", "contributor_iso3", "pledged",
                                      "first_pledge_date", "deployed", "deployed_at_end", "basis",
                                      "last_reported", "stale", "announced", "announced_date",
                                      "first_arrival"])
    from .entities import entity_name

    out["name"] = out["contributor_iso3"].map(entity_name)
    return out


def _planned(missions, events) -> pd.DataFrame:
    """Per mission: its planned strength. A ceiling in the resolution in force is the planned
    strength; otherwise the latest planned strength sources reported. A target (a strength
    expected by a date) and an estimate are kept apart, never used here."""
    rows = []
    for m in missions.itertuples():
        if pd.notna(m.ceiling):
            rows.append({"mission": m.mission, "count": int(m.ceiling), "quantity": "ceiling",
                         "uniformed": None if pd.isna(m.ceiling_uniformed) else
                         int(m.ceiling_uniformed),
                         "date": m.adopted, "source": f"resolution {m.resolution}",
                         "fact_id": None, "value_low": int(m.ceiling),
                         "value_high": int(m.ceiling)})
            continue
        plan = events[(events["mission"] == m.mission) & (events["event"] == "planned")
                      & (events["contributor_iso3"] == "")]
        if plan.empty:
            continue
        last = plan.sort_values("date").iloc[-1]
        rows.append({"mission": m.mission, "count": int(last["count"]),
                     "quantity": "planned strength", "uniformed": None, "date": last["date"],
                     "source": last["source_id"], "fact_id": last["fact_id"],
                     "value_low": last["value_low"], "value_high": last["value_high"]})
    return pd.DataFrame(rows, columns=["mission", "count", "quantity", "uniformed", "date",
                                       "source", "fact_id", "value_low", "value_high"])


# ---------------------------------------------------------------------------------------------
# Money


def to_usd(frame: pd.DataFrame, fx_rates: pd.DataFrame, date_column: str = "refers_to_date",
           ) -> pd.DataFrame:
    """Add ``fx_rate``, ``fx_date``, ``fx_days`` (days between the rate and the flow),
    ``fx_flag`` (True beyond :data:`FX_MAX_DAYS`) and ``amount_usd``: the latest rate on or
    before the flow's date, or the earliest after it when none precedes it."""
    frame = frame.copy()
    frame["fx_rate"] = np.nan
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
    frame["fx_days"] = (frame["fx_date"] - frame[date_column]).dt.days.abs()
    frame["fx_flag"] = ~usd & (frame["fx_days"].isna() | (frame["fx_days"] > FX_MAX_DAYS))
    return frame


def _instruments(latest: pd.DataFrame) -> pd.DataFrame:
    """One row per money instrument (scope ``flow``): its promise (most formal of committed >
    pledged > announced, or what was received if larger) and its latest states, in USD."""
    flows = latest[latest["scope"] == "flow"]
    columns = ["group_id", "mission", "donor", "recipient", "channel", "promise_status",
               "promised_amount", "promised_currency", "promised_usd",
               *[f"{s}_usd" for s in MONEY_STATES], "first_date", "last_date", "fx_flag"]
    if flows.empty:
        return pd.DataFrame(columns=columns)
    ordered = flows.sort_values(["group_id", "date", "fact_id"])
    out = ordered.groupby("group_id", sort=False)[["mission", "donor", "recipient",
                                                   "channel"]].first()
    dates = flows.groupby("group_id")["date"].agg(first_date="min", last_date="max")
    promises = flows[flows["status"].isin(PROMISE_LADDER)]
    promises = promises.assign(rank=promises["status"].map(PROMISE_LADDER.index))
    best = (promises.sort_values(["group_id", "rank"]).groupby("group_id").tail(1)
            .set_index("group_id"))
    out["promise_status"] = best["status"]
    out["promised_amount"] = best["amount"]
    out["promised_currency"] = best["currency"]
    values = flows.pivot_table(index="group_id", columns="status", values="amount_usd",
                               aggfunc="sum")
    for status in MONEY_STATES:
        out[f"{status}_usd"] = values[status] if status in values else np.nan
    out["promised_usd"] = best["amount_usd"].reindex(out.index).combine(
        out["received_usd"], lambda a, b: b if pd.isna(a) or (pd.notna(b) and b > a) else a)
    out["fx_flag"] = flows.groupby("group_id")["fx_flag"].any()
    out = out.join(dates).reset_index()
    return out[columns]


def _resolve_money(view: Dataset, missions: pd.DataFrame):
    rows = to_usd(view.money, view.fx_rates)
    obs, decisions = choose(rows, "amount_usd", by=("group_id", "status"),
                            same=("amount", "currency"))
    latest = obs[obs["latest"]] if not obs.empty else obs
    return obs, decisions, _instruments(latest)


def instruments_on(money_obs: pd.DataFrame, on: pd.Timestamp) -> pd.DataFrame:
    """The instruments as they stood on ``on``: each (instrument, status) at its latest
    observation on or before that date."""
    upto = money_obs[money_obs["date"] <= on]
    latest = upto.sort_values("date").groupby(["group_id", "status"]).tail(1)
    return _instruments(latest)


def fund_rows(state: State, mission: str, carried: bool = True) -> tuple[pd.DataFrame,
                                                                        pd.Timestamp]:
    """The UN trust-fund rows that describe ``mission``'s fund, and the last date they may
    describe. The fund set up for the MSS carried on under its successor: a successor's fund
    holds its predecessor's rows too (``carried``), and an ended mission's fund is read as it
    stood on the day the mission ended (later totals belong to the successor)."""
    money = state.money
    names = {mission}
    m = state.mission(mission)
    on = state.as_of
    if m is not None:
        if carried and isinstance(m["replaces"], str) and m["replaces"]:
            names.add(m["replaces"])
        if m["status"] == "ended" and pd.notna(m["end"]):
            on = min(on, pd.Timestamp(m["end"]))
    rows = money[(money["channel"] == "un_trust_fund") & money["mission"].isin(names)
                 & (money["date"] <= on)]
    return rows, on


def trust_fund(state: State, mission: str) -> dict:
    """The UN trust fund for ``mission`` (see :func:`fund_rows`): the latest totals a source
    stated (received, pledged), the sums of donor instruments beside them, and money paid
    out."""
    tf, on = fund_rows(state, mission)
    stated = tf[(tf["scope"] == "all_donors") & (tf["status"] != "paid_out")]
    out = {}
    for status in ("received", "pledged"):
        own = stated[stated["status"] == status].sort_values(["date", "source_rank"])
        out[f"stated_{status}"] = None if own.empty else {
            "amount_usd": float(own.iloc[-1]["amount_usd"]), "date": own.iloc[-1]["date"],
            "fact_id": own.iloc[-1]["fact_id"], "source_id": own.iloc[-1]["source_id"],
            "qualifier": own.iloc[-1]["qualifier"],
            "range": [float(own.iloc[-1]["value_low"]), float(own.iloc[-1]["value_high"])]}
    inst = instruments_on(tf, on)
    out["sum_received"] = float(inst["received_usd"].sum()) if len(inst) else 0.0
    out["sum_promised"] = float(inst["promised_usd"].sum()) if len(inst) else 0.0
    paid = tf[tf["status"] == "paid_out"].sort_values("date")
    out["paid_out"] = None if paid.empty else {
        "amount_usd": float(paid.iloc[-1]["amount_usd"]), "date": paid.iloc[-1]["date"],
        "recipient": paid.iloc[-1]["recipient"], "fact_id": paid.iloc[-1]["fact_id"]}
    return out


# ---------------------------------------------------------------------------------------------
# Requirements and context


def _resolve_requirements(view: Dataset):
    rows = to_usd(view.requirements, view.fx_rates, date_column="reported_date")
    rows = rows.assign(stock=False)
    obs, decisions = choose(rows, "amount_usd", same=("amount", "currency"))
    if not obs.empty:
        # An estimate is its first author's: later reports restating it (a wire service
        # repeating a minister's figure years later) may carry the value, never the authorship.
        root = rows.set_index("fact_id")
        first = obs["group_id"].map(lambda g: g if g in root.index else None)
        for column in ("estimator", "basis", "source_id"):
            obs[f"first_{column}"] = [root.at[g, column] if g else v
                                      for g, v in zip(first, obs[column], strict=True)]
        obs = obs.assign(annual_usd=obs["amount_usd"] * 12
                         / obs["period_months"].astype(float))
    return obs, decisions


def annual_requirement(requirements: pd.DataFrame, mission: str) -> dict:
    """The distinct published estimates of the whole mission's cost, per year (each estimate
    once, however often it was restated): the median as the central figure and the lowest and
    highest as the range."""
    if requirements.empty:
        rows = requirements
    else:
        rows = requirements[(requirements["mission"] == mission)
                            & (requirements["covers"] == "mission")
                            & requirements["period_months"].notna()]
    if rows.empty:
        return {"central": None, "low": None, "high": None, "n_estimates": 0, "fact_ids": []}
    estimates = estimate_groups(rows)
    return {"central": float(estimates["mid"].median()), "low": float(estimates["low"].min()),
            "high": float(estimates["high"].max()), "n_estimates": int(len(estimates)),
            "fact_ids": sorted(rows["fact_id"])}


def estimate_groups(rows: pd.DataFrame) -> pd.DataFrame:
    """Distinct cost estimates: a range published as two figures (its low and high end, from
    the same source and author for the same period) is one estimate, placed at its midpoint
    for the median and contributing both ends to the range."""
    key = [rows["first_source_id"], rows["first_estimator"], rows["period_months"]]
    grouped = rows.groupby(key, dropna=False)["annual_usd"]
    out = pd.DataFrame({"low": grouped.min(), "high": grouped.max()}).reset_index(drop=True)
    return out.assign(mid=(out["low"] + out["high"]) / 2)


# ---------------------------------------------------------------------------------------------
# The whole state


def resolve(view: Dataset) -> State:
    """Resolve a :meth:`Dataset.known_on` view, once."""
    if view.as_of is None:
        raise ParameterError("resolve() takes a view cut to a date: dataset.known_on(as_of)")
    as_of = view.as_of
    missions = mission_bounds(view)
    events, p_decisions = _resolve_personnel(view, missions)
    strength = _strength_events(events, missions)
    # Only a total across every kind of personnel can stand for the mission (a police-only
    # count leaves the soldiers out); typed totals are shown, never the headline.
    stated = events[(events["event"] == "deployed") & (events["contributor_iso3"] == "")
                    & (events["types"] == "all")]
    stated_pledges = events[(events["event"] == "pledged") & (events["contributor_iso3"] == "")]
    carried = _carried_totals(missions, strength, stated)
    per, totals = _series(missions, strength, stated, carried, as_of)
    contributors = _contributors(missions, events, strength, as_of,
                                 _first_pledges(view.personnel))
    money_obs, m_decisions, instruments = _resolve_money(view, missions)
    req, r_decisions = _resolve_requirements(view)
    ctx_obs, c_decisions = choose(view.context, "value")
    return State(
        as_of=as_of, view=view, missions=missions, personnel=events,
        personnel_decisions=p_decisions, strength=per, totals=totals,
        contributors=contributors, stated_totals=stated.reset_index(drop=True),
        stated_pledges=stated_pledges.reset_index(drop=True),
        planned=_planned(missions, events), money=money_obs, money_decisions=m_decisions,
        instruments=instruments, requirements=req, requirement_decisions=r_decisions,
        context=ctx_obs, context_decisions=c_decisions,
        extra={"strength_events": strength, "carried": carried},
    )


def resolve_on(dataset: Dataset, as_of) -> State:
    """``resolve(dataset.known_on(dataset.resolve_as_of(as_of)))``: the one way in."""
    return resolve(dataset.known_on(dataset.resolve_as_of(as_of)))


__all__ = ["State", "resolve", "resolve_on", "mission_bounds", "strength_on", "to_usd",
           "trust_fund", "instruments_on", "annual_requirement", "as_timestamp"]
