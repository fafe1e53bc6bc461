"""What happened, in order, and what each contributor did: the timeline of a mission (votes,
pledges, arrivals, departures, money, the handover) and one profile per contributor, both
computed from a resolved state. Nothing here filters by date again: the state is already cut
to the report's date."""

from __future__ import annotations

import pandas as pd

from . import personnel
from .entities import CHANNEL_LABELS, entity_name
from .resolve import State

# The timeline's lanes, top to bottom, as a reader names them.
LANES = ["Security Council", "Pledges", "Arrivals", "Departures", "Money"]


def _date(value) -> str:
    t = pd.Timestamp(value)
    return f"{t.day} {t:%B %Y}"


def _usd(v: float) -> str:
    return f"${v / 1e6:,.1f}M" if v < 10e6 else f"${v / 1e6:,.0f}M"


def timeline(state: State, mission: str) -> pd.DataFrame:
    """One row per dated event of ``mission`` known on the state's date, oldest first:
    ``date, lane, who, what, source_id``. Votes are the mandates; pledges, arrivals and
    departures are the personnel events each contributor reported (a flow, never a head-count);
    money is each donor's first promise and each report of more paid in (see
    :func:`_money_events`), in US dollars; the handover is the mission's end. Each event is
    credited to the first report of it. A pledge stated only for the mission as a whole
    (a sum of contributors) is left out, so no person is counted twice."""
    rows: list[dict] = []
    m = state.mission(mission)
    mandates = state.view.mandates.sort_values("adopted_date")
    seen: set[str] = set()
    for r in mandates.itertuples():
        if r.mission != mission and not (isinstance(r.replaces, str) and r.replaces == mission):
            continue
        if isinstance(r.replaces, str) and r.replaces:
            what = f"Resolution {r.resolution}: the {r.mission} is to replace the {r.replaces}"
        elif r.mission in seen:
            what = f"Resolution {r.resolution} renews the {r.mission}"
        else:
            what = f"Resolution {r.resolution} authorizes the {r.mission}"
        if pd.notna(r.ceiling_personnel):
            what += f", ceiling {int(r.ceiling_personnel):,}"
        seen.add(r.mission)
        rows.append({"date": pd.Timestamp(r.adopted_date), "lane": "Security Council",
                     "who": "UN Security Council", "what": what, "source_id": r.source_id,
                     "usd": None})
    p = state.personnel
    p = p[(p["mission"] == mission) & (p["contributor_iso3"].fillna("") != "")]
    verbs = {"pledged": ("Pledges", "pledges {n}"), "arrived": ("Arrivals", "{n} arrive"),
             "departed": ("Departures", "{n} leave"),
             "announced": ("Pledges", "announces {n} to be sent (under its pledge, not added "
                                      "to it)")}
    # How a caveat changes what the row says; cumulative counts and conflations never drive a
    # series, so they are not events either.
    notes = {"relief": {"pledged": "announces a relief contingent of {n}, to replace those in "
                                   "Haiti",
                        "arrived": "{n} arrive in a rotation, replacing others",
                        "departed": "{n} leave in a rotation, replaced by others"},
             "revision": {"pledged": "pledge revised to {n}"},
             "not_in_count": {"arrived": "{n} arrive (not in the mission's head-count)"}}
    events = p[p["event"].isin(list(verbs))
               & ~p["caveat"].isin(["cumulative", "conflation"])].sort_values("date")
    for r in events.itertuples():
        lane, verb = verbs[r.event]
        caveat = r.caveat if isinstance(r.caveat, str) else ""
        verb = notes.get(caveat, {}).get(r.event, verb)
        name = entity_name(r.contributor_iso3)
        rows.append({"date": pd.Timestamp(r.date), "lane": lane, "who": name,
                     "what": f"{name}: " + verb.format(n=f"{int(r.count):,}"),
                     "source_id": _first_report(state.personnel_decisions, r.group_id,
                                                "count", r.count, r.source_id),
                     "usd": None})
    rows += _money_events(state, mission)
    # The handover: the day the successor's resolution took effect, cited to that resolution.
    vote = {r.mission: r.source_id for r in mandates.itertuples()
            if isinstance(r.replaces, str) and r.replaces}
    if m is not None and m["status"] == "ended" and pd.notna(m["end"]):
        rows.append({"date": pd.Timestamp(m["end"]), "lane": "Security Council",
                     "who": "UN Security Council",
                     "what": f"The {mission} ends; the {m['successor']} takes over its personnel",
                     "source_id": vote.get(m["successor"], ""), "usd": None})
    if m is not None and isinstance(m["replaces"], str) and m["replaces"] and pd.notna(m["start"]):
        rows.append({"date": pd.Timestamp(m["start"]), "lane": "Security Council",
                     "who": "UN Security Council",
                     "what": f"The {mission} takes over the {m['replaces']}'s personnel",
                     "source_id": vote.get(mission, ""), "usd": None})
    out = pd.DataFrame(rows, columns=["date", "lane", "who", "what", "source_id", "usd"])
    order = {lane: i for i, lane in enumerate(LANES)}
    return (out.assign(_lane=out["lane"].map(order)).sort_values(["date", "_lane"], kind="stable")
            .drop(columns="_lane").reset_index(drop=True))


def _first_report(decisions: pd.DataFrame | None, group_id, column: str, value,
                  fallback: str) -> str:
    """The earliest report of the same figure in the same group (the root a later report
    restates), so an event is credited to who reported it first, in every variant alike."""
    if decisions is None or decisions.empty or not isinstance(group_id, str) or not group_id:
        return fallback
    own = decisions[(decisions["group_id"] == group_id)
                    & decisions["outcome"].isin(["chosen", "lost"])
                    & (decisions[column] == value)]
    if own.empty:
        return fallback
    return str(own.sort_values(["reported_date", "fact_id"])["source_id"].iloc[0])


PROMISES = ("announced", "pledged", "committed")


def _money_events(state: State, mission: str) -> list[dict]:
    """Money on the timeline, donor by donor (stated totals of all donors are stocks, not
    events): each instrument's first promise at the amount then reported, and each later
    report that more had been paid in (cumulative, "so far"), in US dollars."""
    money = state.money
    if money is None or money.empty:
        return []
    own = money[(money["mission"] == mission) & (money["scope"] == "flow")
                & money["donor"].notna() & (money["donor"].astype(str) != "")]
    out = []
    for gid, rows in own.groupby("group_id", sort=False):
        rows = rows.sort_values("date")
        donor = entity_name(rows["donor"].iloc[0])
        channel = CHANNEL_LABELS.get(rows["channel"].iloc[0], rows["channel"].iloc[0])
        promise = rows[rows["status"].isin(PROMISES)]
        received = rows[rows["status"] == "received"]
        if len(promise):
            r = promise.iloc[0]
            before = received[received["date"] <= r["date"]]["amount_usd"]
        # A promise first reported after as much had been paid in adds nothing to the record.
        if len(promise) and not (len(before) and before.max() >= r["amount_usd"]):
            out.append({"date": pd.Timestamp(r["date"]), "lane": "Money", "who": donor,
                        "what": f"{donor}: {_usd(r['amount_usd'])} promised ({channel})",
                        "source_id": _first_report(state.money_decisions, gid, "amount",
                                                   r["amount"], r["source_id"]),
                        "usd": float(r["amount_usd"])})
        paid = 0.0
        for _, r in received.iterrows():
            if r["amount_usd"] <= paid:
                continue
            paid = float(r["amount_usd"])
            out.append({"date": pd.Timestamp(r["date"]), "lane": "Money", "who": donor,
                        "what": f"{donor}: {_usd(paid)} paid in so far ({channel})",
                        "source_id": _first_report(state.money_decisions, gid, "amount",
                                                   r["amount"], r["source_id"]),
                        "usd": paid})
    return out


def timeline_table(events: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """The timeline as a reader's table: date, what happened, and who reported it."""
    names = sources.set_index("source_id")["originator"] if len(sources) else pd.Series(dtype=str)
    return pd.DataFrame({
        "Date": events["date"].map(_date),
        "Kind": events["lane"],
        "What happened": events["what"],
        "Reported by": [names.get(s, "") if s else "the mandates" for s in events["source_id"]],
    })


def handed_over(state: State, mission: str) -> int | None:
    """The total a successor took over: its predecessor's total on its last day (the same
    figure the snapshot reports), or None for a first mission."""
    m = state.mission(mission)
    if m is None or not isinstance(m["replaces"], str) or not m["replaces"]:
        return None
    prev = state.totals[state.totals["mission"] == m["replaces"]]
    return int(prev["total"].iloc[-1]) if len(prev) else None


def timeline_title(events: pd.DataFrame, mission: str, profiles: pd.DataFrame | None = None,
                   as_of=None, took: int | None = None) -> str:
    """The finding. A first mission: how long from its first vote to its first arrival. A
    successor: how many it took over (``took``, the predecessor's last total; else the sum of
    the contributors' figures), and whether anything pledged since had arrived."""
    if profiles is not None and len(profiles) and profiles["carried_over"].notna().any():
        parts = int(profiles["carried_over"].fillna(0).sum())
        took = parts if took is None else took
        source = profiles["carried_from"].dropna().iloc[0]
        new = profiles[profiles["carried_over"].isna() & profiles["pledged"].notna()]
        head = f"{mission}: took over {took:,} personnel from the {source}"
        if new.empty:
            return head + "; no new contributor had pledged"
        pledged = int(new["pledged"].sum())
        came = new["first_arrival"].notna().sum()
        by = f" by {_date(as_of)}" if as_of is not None else ""
        return (head + f"; new contributors pledged {pledged:,} more, and "
                + ("none of them had arrived" if came == 0 else
                   f"{came} of {len(new)} had sent personnel") + by)
    votes = events[events["lane"] == "Security Council"]
    arrivals = events[events["lane"] == "Arrivals"]
    if votes.empty:
        return f"{mission}: what happened, in order"
    start = votes["date"].min()
    if arrivals.empty:
        end = as_of if as_of is not None else events["date"].max()
        return f"{mission}: no arrival had been reported {_months(start, end)} after the vote"
    first = arrivals.iloc[0]
    return (f"{mission}: the first personnel arrived {_months(start, first['date'])} after the "
            f"Security Council's vote")


def _months(a, b) -> str:
    n = round((pd.Timestamp(b) - pd.Timestamp(a)).days / 30.44)
    return "less than a month" if n < 1 else f"{n} month" + ("s" if n != 1 else "")


def profiles(state: State, mission: str) -> pd.DataFrame:
    """One row per contributor to ``mission``: what it pledged and when, when its first
    personnel arrived and after how long, how many arrivals and departures were reported,
    its largest month-end strength and when, and its latest strength (at the mission's end,
    for an ended mission). Computed from the same resolved rows as every other table."""
    c = state.contributors
    c = c[c["mission"] == mission]
    if c.empty:
        return pd.DataFrame()
    delivery = personnel.pledge_delivery(state, mission).set_index("contributor_iso3")
    monthly = personnel.monthly(state, mission)
    p = state.personnel
    p = p[(p["mission"] == mission)]
    m = state.mission(mission)
    ended = m is not None and m["status"] == "ended"
    carried = _carried_over(state, m)
    out = []
    for r in c.itertuples():
        own = monthly[monthly["contributor_iso3"] == r.contributor_iso3]
        peak = int(own["deployed"].max()) if len(own) else 0
        peak_at = (own.loc[own["deployed"].idxmax(), "month_end"] if peak else pd.NaT)
        ev = p[p["contributor_iso3"] == r.contributor_iso3]
        ev = ev[~ev["caveat"].isin(["cumulative", "conflation"])]
        relief = ev["caveat"] == "relief"
        arr = ev[(ev["event"] == "arrived") & ~relief]
        dep = ev[(ev["event"] == "departed") & ~relief]
        rot_in = ev[(ev["event"] == "arrived") & relief]
        rot_out = ev[(ev["event"] == "departed") & relief]
        d = delivery.loc[r.contributor_iso3] if r.contributor_iso3 in delivery.index else None
        now = r.deployed_at_end if ended else r.deployed
        out.append({
            "contributor_iso3": r.contributor_iso3, "name": r.name,
            "pledged": None if pd.isna(r.pledged) else int(r.pledged),
            "first_pledge_date": r.first_pledge_date,
            # A contingent taken over from the predecessor had arrived long before: its first
            # date under this force (a rotation, a head-count) is not an arrival.
            "first_arrival": pd.NaT if r.contributor_iso3 in carried else r.first_arrival,
            "months_to_first_arrival": None if d is None or r.contributor_iso3 in carried
            else d["months_to_first_arrival"],
            "pledge_known_before_arrival": None if d is None
            else bool(d["pledge_known_before_arrival"]),
            "arrivals_reported": len(arr),
            "people_arrived": int(arr["count"].sum()) if len(arr) else 0,
            "departures_reported": len(dep),
            "people_departed": int(dep["count"].sum()) if len(dep) else 0,
            "rotated_in": int(rot_in["count"].sum()) if len(rot_in) else 0,
            "rotated_out": int(rot_out["count"].sum()) if len(rot_out) else 0,
            "peak_deployed": peak, "peak_month": peak_at,
            "latest_deployed": None if pd.isna(now) else int(now),
            "latest_basis": r.basis, "last_reported": r.last_reported,
            "delivery": None if d is None else d["delivery"],
            "announced": r.announced, "announced_date": r.announced_date,
            "carried_over": carried.get(r.contributor_iso3),
            "carried_from": m["replaces"] if r.contributor_iso3 in carried else None,
            "carried_on": m["start"] if r.contributor_iso3 in carried else pd.NaT,
        })
    frame = pd.DataFrame(out)
    return frame.sort_values(["peak_deployed", "pledged"], ascending=False,
                             na_position="last").reset_index(drop=True)


def _carried_over(state: State, m) -> dict[str, int]:
    """Personnel each contributor had on the ground when this mission took over from its
    predecessor (empty for a first mission)."""
    if m is None or not isinstance(m["replaces"], str) or not m["replaces"]:
        return {}
    prev = state.contributors[state.contributors["mission"] == m["replaces"]]
    prev = prev[prev["deployed_at_end"].fillna(0) > 0]
    return {r.contributor_iso3: int(r.deployed_at_end) for r in prev.itertuples()}


def profile_sentences(row, mission: str, ended: bool) -> list[str]:
    """A contributor's profile in plain sentences, every number from ``row``."""
    s = []
    pledged = row["pledged"]
    has_pledge = pledged is not None and pd.notna(pledged)
    carried = row.get("carried_over")
    carried = None if carried is None or pd.isna(carried) else int(carried)
    if carried:
        s.append(f"Came over from the {row['carried_from']} with {carried:,} personnel on the "
                 f"ground ({_date(row['carried_on'])}).")
    if has_pledge:
        s.append(f"Pledged {int(pledged):,} personnel to the {mission} "
                 f"({_date(row['first_pledge_date'])}).")
    elif not carried:
        s.append("No pledge with a number was reported.")
    if pd.notna(row["first_arrival"]) and not carried:
        wait = row["months_to_first_arrival"]
        after = (f", {wait:.1f} months after the pledge" if wait is not None and pd.notna(wait)
                 and wait >= 1 else "")
        if row.get("pledge_known_before_arrival") is False:
            after = " (the pledge was first reported on arrival)"
        s.append(f"First personnel arrived on {_date(row['first_arrival'])}{after}.")
    elif not carried:
        s.append("No arrival had been reported.")
    since = f" since {_date(row['carried_on'])}" if carried else ""
    if row["arrivals_reported"]:
        n = row["arrivals_reported"]
        s.append(f"{n} arrival{'s' if n != 1 else ''} reported{since}, "
                 f"{row['people_arrived']:,} people"
                 + (f"; {row['departures_reported']} departure"
                    f"{'s' if row['departures_reported'] != 1 else ''}, "
                    f"{row['people_departed']:,} people" if row["departures_reported"] else "")
                 + ".")
        net = row["people_arrived"] - row["people_departed"] + (carried or 0)
        if net > row["peak_deployed"] and not row.get("rotated_in"):
            s.append(f"Those arrivals add up to more than were ever counted on the ground at "
                     f"once ({row['peak_deployed']:,}): some people left or went uncounted "
                     f"without a departure being reported.")
    if row.get("rotated_in") or row.get("rotated_out"):
        s.append(f"A rotation was reported{since}: {row['rotated_in']:,} arrived and "
                 f"{row['rotated_out']:,} left, replacing others (a rotation is not added to "
                 f"the count).")
    ann = row.get("announced")
    if ann is not None and pd.notna(ann):
        s.append(f"Announced {int(ann):,} to be sent ({_date(row['announced_date'])}), under "
                 f"its pledge.")
    if row["peak_deployed"]:
        s.append(f"Most on the ground at a month end: {row['peak_deployed']:,} "
                 f"({pd.Timestamp(row['peak_month']):%B %Y}).")
    if row["latest_deployed"] is not None and pd.notna(row["latest_deployed"]):
        when = (f"when the {mission} ended" if ended else
                f"on the latest report ({_date(row['last_reported'])})"
                if pd.notna(row["last_reported"]) else "on the latest report")
        s.append(f"On the ground {when}: {row['latest_deployed']:,}.")
    if isinstance(row["delivery"], str) and row["delivery"]:
        s.append(f"Pledge: {row['delivery']}.")
    return s


def _wait(r) -> str:
    """Months from pledge to first arrival, in the words the delivery table uses."""
    if isinstance(r.carried_from, str) and r.carried_from:
        return f"taken over from the {r.carried_from}"
    if pd.isna(r.first_arrival):
        return "no arrival reported"
    if r.pledge_known_before_arrival is False:
        return "pledge first reported on arrival"
    v = r.months_to_first_arrival
    return "" if v is None or pd.isna(v) else f"{v:.1f}"


def profile_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The profiles as a downloadable table, with readable headings."""
    if frame.empty:
        return frame

    def d(v):
        return "" if pd.isna(v) else pd.Timestamp(v).date().isoformat()

    return pd.DataFrame({
        "Contributor": frame["name"],
        "Pledged": frame["pledged"].astype("Int64"),
        "Pledge date": frame["first_pledge_date"].map(d),
        "First arrival": frame["first_arrival"].map(d),
        "Months from pledge to arrival": [_wait(r) for r in frame.itertuples()],
        "Arrivals reported": frame["arrivals_reported"],
        "People arrived": frame["people_arrived"],
        "Departures reported": frame["departures_reported"],
        "People departed": frame["people_departed"],
        "In rotations: arrived": frame["rotated_in"],
        "In rotations: left": frame["rotated_out"],
        "Most at a month end": frame["peak_deployed"],
        "Month of the most": frame["peak_month"].map(lambda v: "" if pd.isna(v) else f"{v:%Y-%m}"),
        "Latest on the ground": frame["latest_deployed"].astype("Int64"),
        "Pledge delivery": frame["delivery"].fillna(""),
    })


def profiles_html(frame: pd.DataFrame, mission: str, ended: bool) -> str:
    """One short profile per contributor (a heading and its sentences), readable on a phone
    without a table."""
    from html import escape

    if frame.empty:
        return '<p class="mss-gap">No contributor had been reported by this date.</p>'
    parts = []
    for _, row in frame.iterrows():
        text = " ".join(profile_sentences(row, mission, ended))
        parts.append(f'<section class="mss-profile"><h3>{escape(row["name"])}</h3>'
                     f"<p>{escape(text)}</p></section>")
    return "".join(parts)
