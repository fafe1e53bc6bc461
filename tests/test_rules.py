"""The conflict rule, the deployed-strength rule and currency conversion on hand-built cases."""

from __future__ import annotations

import pandas as pd

from haiti_mss import funding, personnel
from haiti_mss.timeline import known_by, resolve_conflicts

T = pd.Timestamp


def facts(rows):
    base = {"mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
            "personnel_type": "police", "source_rank": 4, "disputed": False, "source_id": "s"}
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["refers_to_date"] = pd.to_datetime(frame["refers_to_date"])
    frame["reported_date"] = pd.to_datetime(frame["reported_date"])
    frame["group_id"] = frame.get("group_id", frame["fact_id"]).fillna(frame["fact_id"])
    return frame


def test_same_date_conflict_goes_to_the_better_source():
    f = facts([
        {"fact_id": "a", "count": 400, "refers_to_date": "2024-07-20", "reported_date": "2024-07-21", "source_rank": 1},
        {"fact_id": "b", "count": 396, "refers_to_date": "2024-07-20", "reported_date": "2024-07-22", "source_rank": 7, "group_id": "a"},
    ])
    out = resolve_conflicts(f, "count")
    assert len(out) == 1 and out.iloc[0]["count"] == 396
    assert (out.iloc[0]["value_low"], out.iloc[0]["value_high"], out.iloc[0]["n_reports"]) == (396, 400, 2)


def test_an_update_supersedes_an_older_state():
    f = facts([
        {"fact_id": "a", "count": 8, "refers_to_date": "2024-04-26", "reported_date": "2024-04-26", "source_rank": 7},
        {"fact_id": "b", "count": 45, "refers_to_date": "2024-09-16", "reported_date": "2024-09-17", "source_rank": 1, "group_id": "a"},
    ])
    assert resolve_conflicts(f, "count").iloc[0]["count"] == 45


def test_same_source_rank_prefers_the_later_report_then_the_first_row():
    f = facts([
        {"fact_id": "a", "count": 1, "refers_to_date": "2024-01-01", "reported_date": "2024-01-02"},
        {"fact_id": "b", "count": 2, "refers_to_date": "2024-01-01", "reported_date": "2024-01-05", "group_id": "a"},
        {"fact_id": "c", "count": 3, "refers_to_date": "2024-01-01", "reported_date": "2024-01-05", "group_id": "a"},
    ])
    assert resolve_conflicts(f, "count").iloc[0]["fact_id"] == "b"


def test_a_disputed_report_is_never_used():
    f = facts([
        {"fact_id": "a", "count": 150, "refers_to_date": "2024-01-01", "reported_date": "2024-01-02"},
        {"fact_id": "b", "count": 300, "refers_to_date": "2024-03-01", "reported_date": "2024-03-02", "group_id": "a", "disputed": True},
        {"fact_id": "c", "count": 999, "refers_to_date": "2024-03-01", "reported_date": "2024-03-02", "disputed": True},
    ])
    out = resolve_conflicts(f, "count")
    assert list(out["count"]) == [150]


def test_known_by_excludes_later_reports_and_later_dates():
    f = facts([
        {"fact_id": "a", "count": 1, "refers_to_date": "2024-01-01", "reported_date": "2024-02-01"},
        {"fact_id": "b", "count": 2, "refers_to_date": "2024-03-01", "reported_date": "2024-01-15"},
        {"fact_id": "c", "count": 3, "refers_to_date": "2024-01-10", "reported_date": "2024-01-20"},
    ])
    assert list(known_by(f, "2024-01-31")["fact_id"]) == ["c"]


def _events(rows):
    frame = pd.DataFrame(rows)
    frame["refers_to_date"] = pd.to_datetime(frame["refers_to_date"])
    frame["mission"] = "MSS"
    return frame


def test_deployed_rolls_the_last_count_forward_with_later_flows():
    ev = _events([
        {"contributor_iso3": "KEN", "event": "arrived", "count": 200, "refers_to_date": "2024-06-25"},
        {"contributor_iso3": "KEN", "event": "arrived", "count": 200, "refers_to_date": "2024-07-16"},
        {"contributor_iso3": "KEN", "event": "deployed", "count": 396, "refers_to_date": "2024-12-31"},
        {"contributor_iso3": "KEN", "event": "arrived", "count": 217, "refers_to_date": "2025-01-18"},
        {"contributor_iso3": "KEN", "event": "departed", "count": 13, "refers_to_date": "2025-01-20"},
        {"contributor_iso3": "JAM", "event": "arrived", "count": 24, "refers_to_date": "2024-09-12"},
    ])
    on = personnel.deployed_on(ev, "2025-02-01").set_index("contributor_iso3")
    assert on.loc["KEN", "deployed"] == 396 + 217 - 13
    assert on.loc["KEN", "basis"] == "reported count + later flows"
    assert on.loc["JAM", "deployed"] == 24 and on.loc["JAM", "basis"] == "sum of arrivals"
    early = personnel.deployed_on(ev, "2024-07-01").set_index("contributor_iso3")
    assert early.loc["KEN", "deployed"] == 200 and "JAM" not in early.index


def test_one_source_split_by_type_counts_once():
    rows = pd.DataFrame([
        {"fact_id": "j1", "group_id": "j1", "source_id": "ap", "refers_to_date": T("2024-09-10"),
         "personnel_type": "military", "count": 170},
        {"fact_id": "j2", "group_id": "j1", "source_id": "ap", "refers_to_date": T("2024-09-10"),
         "personnel_type": "police", "count": 30},
        {"fact_id": "j3", "group_id": "j1", "source_id": "pl", "refers_to_date": T("2024-09-10"),
         "personnel_type": "all", "count": 250},
    ])
    merged = personnel.one_row_per_report(rows).set_index("source_id")
    assert merged.loc["ap", "count"] == 200 and merged.loc["ap", "personnel_type"] == "all"
    assert merged.loc["pl", "count"] == 250


def test_conversion_uses_the_latest_rate_on_or_before_the_flow():
    rates = pd.DataFrame({"currency": ["CAD", "CAD"], "date": [T("2024-02-01"), T("2024-03-01")],
                          "usd_per_unit": [0.74, 0.73]})
    flows = pd.DataFrame({"amount": [100.0, 100.0, 100.0, 5.0],
                          "currency": ["CAD", "CAD", "CAD", "USD"],
                          "refers_to_date": [T("2024-02-22"), T("2024-03-05"), T("2023-12-01"),
                                             T("2024-01-01")]})
    out = funding.to_usd(flows, rates)
    assert list(out["amount_usd"].round(6)) == [74.0, 73.0, 74.0, 5.0]
    assert out.loc[2, "fx_date"] == T("2024-02-01")  # before every rate: the earliest after


def test_an_instrument_counts_once_and_keeps_its_latest_states():
    base = {"mission": "MSS", "donor": "CAN", "recipient": "UN_TF", "channel": "un_trust_fund",
            "scope": "flow", "source_rank": 4, "disputed": False, "source_id": "s",
            "currency": "USD", "group_id": "c1"}
    rows = pd.DataFrame([
        {**base, "fact_id": "c1", "status": "pledged", "amount": 60.0, "refers_to_date": T("2024-02-22")},
        {**base, "fact_id": "c2", "status": "pledged", "amount": 60.0, "refers_to_date": T("2024-06-26")},
        {**base, "fact_id": "c3", "status": "received", "amount": 8.7, "refers_to_date": T("2024-04-26")},
        {**base, "fact_id": "c4", "status": "received", "amount": 45.0, "refers_to_date": T("2024-09-16")},
        {**base, "fact_id": "t1", "group_id": "t1", "donor": None, "scope": "all_donors",
         "status": "received", "amount": 68.0, "refers_to_date": T("2024-09-16")},
    ])
    rows["reported_date"] = rows["refers_to_date"]
    rates = pd.DataFrame(columns=["currency", "date", "usd_per_unit"])
    inst = funding.instruments(rows, rates, "2024-12-31")
    assert len(inst) == 1
    assert inst.iloc[0]["promised_usd"] == 60.0 and inst.iloc[0]["received_usd"] == 45.0
    by_donor = funding.money_by_donor(rows, rates, "2024-12-31")
    assert by_donor["promised_usd"].sum() == 60.0  # the stated fund total is not added
    mid = funding.instruments(rows, rates, "2024-05-01")
    assert mid.iloc[0]["received_usd"] == 8.7
