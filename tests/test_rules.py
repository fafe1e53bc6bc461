"""The conflict rule, the strength rule and currency conversion on hand-built cases."""

from __future__ import annotations

import pandas as pd

from haiti_mss import resolve
from haiti_mss.timeline import choose

T = pd.Timestamp


def facts(rows, stock=True):
    base = {"mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
            "personnel_type": "police", "source_rank": 4, "directness_rank": 3,
            "disputed": False, "source_id": "s", "caveat": None, "qualifier": None,
            "dispute_note": None, "stock": stock}
    frame = pd.DataFrame([{**base, "originator": r.get("source_id", r["fact_id"]), **r}
                          for r in rows])
    frame["refers_to_date"] = pd.to_datetime(frame["refers_to_date"])
    frame["reported_date"] = pd.to_datetime(frame["reported_date"])
    frame["group_id"] = frame.get("group_id", frame["fact_id"]).fillna(frame["fact_id"])
    return frame


def test_within_the_window_the_better_source_decides_before_recency():
    f = facts([
        {"fact_id": "a", "count": 400, "refers_to_date": "2024-07-20", "reported_date": "2024-07-25", "source_rank": 1},
        {"fact_id": "b", "count": 396, "refers_to_date": "2024-07-16", "reported_date": "2024-07-17", "source_rank": 7, "group_id": "a"},
    ])
    obs, _ = choose(f, "count")
    assert len(obs) == 1 and obs.iloc[0]["count"] == 396
    assert (obs.iloc[0]["value_low"], obs.iloc[0]["value_high"], obs.iloc[0]["n_reports"]) == (396, 400, 2)


def test_across_dates_the_later_observation_is_the_current_state():
    f = facts([
        {"fact_id": "a", "count": 18, "refers_to_date": "2024-04-26", "reported_date": "2024-04-26", "source_rank": 7},
        {"fact_id": "b", "count": 68, "refers_to_date": "2024-09-16", "reported_date": "2024-09-17", "source_rank": 1, "group_id": "a"},
    ])
    obs, _ = choose(f, "count")
    assert list(obs["count"]) == [18, 68] and list(obs["latest"]) == [False, True]


def test_a_re_report_keeps_the_date_the_value_was_first_reported():
    f = facts([
        {"fact_id": "a", "count": 68, "refers_to_date": "2024-09-16", "reported_date": "2024-09-17"},
        {"fact_id": "b", "count": 68, "refers_to_date": "2024-10-11", "reported_date": "2024-10-11", "group_id": "a"},
    ])
    obs, _ = choose(f, "count")
    assert len(obs) == 1 and obs.iloc[0]["date"] == T("2024-09-16")


def test_an_event_is_decided_by_the_best_source_whatever_the_date():
    # A pledge: AP (wire, 10 Sep) and the government (6, Aug 2023) say 200, one agency 250.
    f = facts([
        {"fact_id": "g", "count": 200, "refers_to_date": "2023-08-04", "reported_date": "2023-08-05", "source_rank": 6},
        {"fact_id": "p", "count": 250, "refers_to_date": "2024-09-10", "reported_date": "2024-09-12", "source_rank": 5, "group_id": "g"},
        {"fact_id": "ap", "count": 200, "refers_to_date": "2024-09-10", "reported_date": "2024-09-10", "source_rank": 5, "group_id": "g"},
    ], stock=False)
    obs, dec = choose(f, "count")
    assert obs.iloc[0]["count"] == 200 and obs.iloc[0]["date"] == T("2023-08-04")
    assert dec.set_index("fact_id").loc["p", "outcome"] == "lost"


def test_a_marked_revision_supersedes_the_reports_before_it():
    f = facts([
        {"fact_id": "a", "count": 1500, "refers_to_date": "2025-12-09", "reported_date": "2025-12-10", "source_rank": 6},
        {"fact_id": "b", "count": 800, "refers_to_date": "2026-03-21", "reported_date": "2026-03-21", "source_rank": 4, "group_id": "a", "caveat": "revision"},
    ], stock=False)
    obs, _ = choose(f, "count")
    assert obs.iloc[0]["count"] == 800


def test_independent_corroboration_beats_a_single_agency_of_the_same_kind():
    f = facts([
        {"fact_id": "pl1", "count": 250, "refers_to_date": "2024-09-10", "reported_date": "2024-09-10", "source_rank": 5, "source_id": "pl", "originator": "Prensa Latina"},
        {"fact_id": "pl2", "count": 250, "refers_to_date": "2024-09-12", "reported_date": "2024-09-12", "source_rank": 5, "source_id": "pl2", "originator": "Prensa Latina", "group_id": "pl1"},
        {"fact_id": "ap", "count": 200, "refers_to_date": "2024-09-10", "reported_date": "2024-09-10", "source_rank": 5, "source_id": "ap", "originator": "AP", "directness_rank": 2, "group_id": "pl1"},
        {"fact_id": "rt", "count": 200, "refers_to_date": "2024-09-10", "reported_date": "2024-09-10", "source_rank": 5, "source_id": "rt", "originator": "Reuters", "directness_rank": 2, "group_id": "pl1"},
    ], stock=False)
    obs, _ = choose(f, "count")
    assert obs.iloc[0]["count"] == 200


def test_disputed_and_flagged_reports_are_never_used():
    f = facts([
        {"fact_id": "a", "count": 744, "refers_to_date": "2025-02-06", "reported_date": "2025-02-06"},
        {"fact_id": "b", "count": 1000, "refers_to_date": "2025-02-06", "reported_date": "2025-02-06", "source_rank": 7, "disputed": True, "dispute_note": "mission total", "group_id": "a"},
        {"fact_id": "c", "count": 800, "refers_to_date": "2025-04-04", "reported_date": "2025-04-04", "source_rank": 7, "caveat": "cumulative", "group_id": "a"},
    ])
    obs, dec = choose(f, "count")
    assert list(obs["count"]) == [744]
    reasons = dec.set_index("fact_id")["reason"]
    assert reasons["b"].startswith("disputed") and "everyone ever sent" in reasons["c"]
    only_disputed = f[f["fact_id"] == "b"]
    assert choose(only_disputed, "count")[0].empty


def _events(rows):
    out = pd.DataFrame(rows)
    out["date"] = pd.to_datetime(out["date"])
    out["caveat"] = out.get("caveat")
    out["source_rank"] = 4
    return out


def test_strength_rolls_the_last_count_forward_and_a_rotation_adds_nothing():
    ev = _events([
        {"event": "arrived", "count": 200, "date": "2024-06-25"},
        {"event": "arrived", "count": 200, "date": "2024-07-16"},
        {"event": "deployed", "count": 396, "date": "2024-12-31"},
        {"event": "arrived", "count": 217, "date": "2025-01-18"},
        {"event": "departed", "count": 13, "date": "2025-01-20"},
        {"event": "arrived", "count": 230, "date": "2025-12-08", "caveat": "relief"},
        {"event": "departed", "count": 100, "date": "2025-12-09", "caveat": "relief"},
    ])
    assert resolve.strength_on(ev, T("2024-07-01"))[:2] == (200, "sum of arrivals")
    assert resolve.strength_on(ev, T("2025-02-01"))[:2] == (396 + 217 - 13,
                                                           "reported count + later flows")
    assert resolve.strength_on(ev, T("2025-12-31"))[0] == 396 + 217 - 13
    assert resolve.strength_on(ev, T("2024-01-01"))[:2] == (0, "no arrival reported")


def test_one_source_split_by_type_counts_once():
    rows = pd.DataFrame([
        {"fact_id": "j1", "group_id": "j1", "source_id": "ap", "refers_to_date": T("2024-09-10"),
         "personnel_type": "military", "count": 170},
        {"fact_id": "j2", "group_id": "j1", "source_id": "ap", "refers_to_date": T("2024-09-10"),
         "personnel_type": "police", "count": 30},
        {"fact_id": "j3", "group_id": "j1", "source_id": "pl", "refers_to_date": T("2024-09-10"),
         "personnel_type": "all", "count": 250},
        # The same figure recorded twice from one page counts once.
        {"fact_id": "j4", "group_id": "j1", "source_id": "pl", "refers_to_date": T("2024-09-10"),
         "personnel_type": "all", "count": 250},
    ])
    merged = resolve.one_row_per_report(rows).set_index("source_id")
    assert merged.loc["ap", "count"] == 200 and merged.loc["ap", "personnel_type"] == "all"
    assert merged.loc["pl", "count"] == 250


def test_conversion_uses_the_latest_rate_on_or_before_the_flow_and_flags_old_rates():
    rates = pd.DataFrame({"currency": ["CAD", "CAD"], "date": [T("2024-02-01"), T("2024-03-01")],
                          "usd_per_unit": [0.74, 0.73]})
    flows = pd.DataFrame({"amount": [100.0, 100.0, 100.0, 5.0],
                          "currency": ["CAD", "CAD", "CAD", "USD"],
                          "refers_to_date": [T("2024-02-22"), T("2024-03-05"), T("2023-12-01"),
                                             T("2025-09-23")]})
    out = resolve.to_usd(flows, rates)
    assert list(out["amount_usd"].round(6)) == [74.0, 73.0, 74.0, 5.0]
    assert out.loc[2, "fx_date"] == T("2024-02-01")  # before every rate: the earliest after
    assert list(out["fx_flag"]) == [False, False, True, False]  # 62 days away: flagged


def test_an_exact_figure_inside_a_better_sources_bound_is_used():
    # A wire says "more than 700"; a newspaper the same day says 744: 744 is inside the bound.
    f = facts([
        {"fact_id": "a", "count": 700, "qualifier": "at_least", "refers_to_date": "2025-02-06",
         "reported_date": "2025-02-06", "source_rank": 5},
        {"fact_id": "b", "count": 744, "refers_to_date": "2025-02-06",
         "reported_date": "2025-02-06", "source_rank": 4, "group_id": "a"},
    ])
    obs, dec = choose(f, "count")
    assert list(obs["count"]) == [744]
    assert "bound" in dec.set_index("fact_id").loc["a", "reason"]
    # An exact figure outside the bound contradicts it: the better source's bound stands.
    f.loc[f["fact_id"] == "b", "count"] = 650
    assert list(choose(f, "count")[0]["count"]) == [700]
