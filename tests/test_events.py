"""The timeline, the contributor profiles, the context chart's series and the successor
force's pace: what report 01 and 03 show beside the head-counts."""

from __future__ import annotations

import pandas as pd
import pytest

from haiti_mss import events, load_dataset, narrative, resolve_on, snapshot, views
from haiti_mss.personnel import monthly

from .test_asof import HANDOVER, MONEY
from .tinydata import build


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = build(tmp_path_factory.mktemp("tiny-events") / "data", personnel=HANDOVER,
                   money=MONEY)
    return load_dataset(folder)


def test_the_timeline_holds_votes_flows_and_money_but_never_a_head_count(tiny):
    state = resolve_on(tiny, "2026-01-01")
    mss = events.timeline(state, "MSS")
    assert list(mss["date"]) == sorted(mss["date"])
    what = list(mss["what"])
    assert "Kenya: pledges 1,000" in what and "Kenya: 400 arrive" in what
    # A head-count (735 deployed) is a stock, not an event.
    assert not any("735" in w for w in what)
    assert what[-1] == "The MSS ends; the GSF takes over its personnel"
    money = mss[mss["lane"] == "Money"]
    # The GSF's pledge is not the MSS's money; a re-report of a deposit is not a new event.
    assert money["what"].tolist() == ["Canada: $45M paid in so far (UN trust fund)"]
    assert str(money["date"].iloc[0].date()) == "2024-09-16"
    gsf = events.timeline(state, "GSF")
    rotation = gsf[gsf["lane"].isin(["Arrivals", "Departures"])]["what"].tolist()
    assert rotation == ["Kenya: 230 arrive in a rotation, replacing others",
                        "Kenya: 230 leave in a rotation, replaced by others"]
    assert "The GSF takes over the MSS's personnel" in gsf["what"].tolist()


def test_the_timeline_knows_nothing_after_its_date(dataset):
    for as_of in ("2024-09-30", "2025-02-08"):
        t = events.timeline(resolve_on(dataset, as_of), "MSS")
        assert len(t) and t["date"].max() <= pd.Timestamp(as_of)
    # A pledge stated only for the whole mission (a sum of contributors) is not an event.
    t = events.timeline(resolve_on(dataset, "latest"), "MSS")
    assert not t["what"].str.contains("2,900|3,000").any()


def test_profiles_agree_with_the_monthly_series_and_the_handover(tiny, dataset):
    state = resolve_on(tiny, "2026-01-01")
    gsf = events.profiles(state, "GSF").set_index("contributor_iso3")
    # What each contributor brought over is what the MSS had at its end; nothing is added.
    assert gsf["carried_over"].to_dict() == {"KEN": 735, "GTM": 150}
    ken = " ".join(events.profile_sentences(gsf.loc["KEN"].to_dict(), "GSF", ended=False))
    assert ken.startswith("Came over from the MSS with 735 personnel on the ground (2 October 2025).")
    assert "A rotation was reported since 2 October 2025: 230 arrived and 230 left" in ken
    assert "First personnel arrived" not in ken

    real = resolve_on(dataset, "latest")
    prof = events.profiles(real, "MSS").set_index("contributor_iso3")
    per = monthly(real, "MSS")
    for iso, row in prof.iterrows():
        own = per[per["contributor_iso3"] == iso]["deployed"]
        assert row["peak_deployed"] == (own.max() if len(own) else 0), iso
    ben = " ".join(events.profile_sentences(prof.loc["BEN"].to_dict(), "MSS", ended=True))
    assert "No arrival had been reported." in ben and "not delivered" in ben


def test_successor_title_counts_what_it_took_over_and_what_is_new(dataset):
    state = resolve_on(dataset, "latest")
    prof = events.profiles(state, "GSF")
    took = events.handed_over(state, "GSF")
    title = events.timeline_title(events.timeline(state, "GSF"), "GSF", prof, state.as_of,
                                  took=took)
    handed = state.mission("MSS")
    # The same total the snapshot gives for the handover, not a second sum.
    snap = snapshot("latest", dataset).headline()["missions"]["MSS"]["handed_over"]
    assert took == snap["total"]
    assert f"took over {took:,} personnel from the MSS" in title
    new = prof[prof["carried_over"].isna() & prof["pledged"].notna()]
    assert f"pledged {int(new['pledged'].sum()):,} more" in title
    assert handed["status"] == "ended"


def test_context_series_draws_only_counts_dated_by_their_source(dataset):
    series = views.context_series(resolve_on(dataset, "latest"))
    d = series["displaced"]
    # ctx-022 ("315 thousand registered in December 2023", re-reported in January 2025) has no
    # stated date: drawn at its article's date it would read as a fall from a million.
    assert not (d["value"] == 315000).any()
    assert d["date"].is_monotonic_increasing
    k = series["killings"]
    q3 = k[(k["start"] == "2025-07-01") & (k["end"] == "2025-09-30")].iloc[0]
    assert q3["per_month"] == pytest.approx(1247 / 3)  # a quarter is three months
    title = narrative.context_title(series)
    assert title.startswith("About 416 people a month were killed in July–September 2025")


def test_the_gsf_is_drawn_against_other_missions_pace(dataset):
    from haiti_mss import reference

    state = resolve_on(dataset, "latest")
    ends = reference._month_ends(state, "GSF")
    shown = {"observed": ends[["month_end", "total"]], "shares": reference.shares(dataset),
             "planned": 5500.0, "start": state.mission("GSF")["start"], "base": 970.0,
             "counted_on": ends["stated_date"].iloc[-1]}
    title = narrative.successor_pace_title(shown, "GSF")
    last = int(ends["total"].iloc[-1])
    assert title.startswith(f"GSF: {last:,} on the ground at the last count")
    share = reference.shares(dataset)
    avg = share[share["mission"] == "UN average"].set_index("month")["share"]
    k = int((ends["month_end"] >= ends["stated_date"].iloc[-1]).idxmax()) + 1
    # The reference paths start from what the force took over (970), not from zero.
    month = ends["month_end"].iloc[k - 1]
    assert (f"from the 970 it took over it would have had about "
            f"{round(970 + 4530 * avg[k], -1):,.0f} by the end of {month:%B %Y}") in title
    table = views._pace_table(shown["observed"], share, 5500.0, 970.0)
    assert (table["At the UN-average pace"] >= 970).all()


def test_a_plan_announced_later_stands_beside_the_pledge_not_in_its_place(dataset):
    state = resolve_on(dataset, "latest")
    gsf = events.timeline(state, "GSF")["what"].tolist()
    assert "Chad: pledges 1,500" in gsf
    assert "Chad: announces 800 to be sent (under its pledge, not added to it)" in gsf
    c = state.contributors.set_index(["mission", "contributor_iso3"])
    assert c.loc[("GSF", "TCD"), "pledged"] == 1500


def test_belize_is_dated_by_its_first_pledge_not_a_restatement(dataset):
    from haiti_mss.personnel import pledge_delivery

    d = pledge_delivery(resolve_on(dataset, "latest"), "MSS").set_index("contributor_iso3")
    assert str(d.loc["BLZ", "first_pledge_date"].date()) == "2023-10-04"
    assert d.loc["BLZ", "months_to_first_arrival"] > 11


def test_money_events_are_promises_as_first_reported_and_deposits_so_far(dataset):
    for as_of in ("2024-09-30", "latest"):
        t = events.timeline(resolve_on(dataset, as_of), "MSS")
        can = t[(t["lane"] == "Money") & t["what"].str.contains("Canada: .* \\(UN trust fund\\)")]
        first = can.iloc[0]
        # Canada's C$80.5M, converted: the same promise in every variant, not a later deposit.
        assert first["what"] == "Canada: $60M promised (UN trust fund)", as_of
        assert str(first["date"].date()) == "2024-02-22"
    paid = can[can["what"].str.contains("paid in")]
    assert paid["usd"].is_monotonic_increasing and paid["usd"].iloc[-1] == 63e6
    assert str(paid["date"].iloc[-1].date()) == "2025-02-04"
    # A promise first reported after as much had been paid in adds nothing.
    us = t[(t["lane"] == "Money") & t["what"].str.startswith("United States")
           & t["what"].str.contains("UN trust fund")]
    assert not us["what"].str.contains("promised").any()


def test_benin_is_dated_by_its_pledge_not_a_report_it_was_considering_one(dataset):
    state = resolve_on(dataset, "latest")
    prof = events.profiles(state, "MSS").set_index("contributor_iso3")
    t = events.timeline(state, "MSS")
    ben = t[t["what"] == "Benin: pledges 1,500"]
    assert str(prof.loc["BEN", "first_pledge_date"].date()) == "2024-02-28"
    assert list(ben["date"].dt.date.astype(str)) == ["2024-02-28"]
