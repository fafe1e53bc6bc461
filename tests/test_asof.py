"""As-of truth: one resolved state per date, and every number agrees with what sources
reported on that date."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from haiti_mss import events, load_dataset, paths, resolve_on, snapshot, views
from haiti_mss.dataset import Dataset, group_ids

from .tinydata import build

CHECKPOINTS = list(csv.DictReader(open(Path(__file__).parent / "fixtures" / "checkpoints.csv",
                                       encoding="utf-8")))


def _value(head: dict, cp: dict):
    m = head["missions"].get(cp["mission"])
    if m is None:
        return None
    q = cp["quantity"]
    if q in ("deployed", "pledged"):
        c = next((c for c in m["contributors"] if c["iso3"] == cp["contributor_iso3"]), None)
        return None if c is None else c[q]
    if q == "mission_total":
        return m["total_deployed"]
    if q == "planned":
        return None if m["planned_strength"] is None else m["planned_strength"]["count"]
    tf = m["trust_fund"]
    if q == "tf_paid_out":
        return None if tf["paid_out"] is None else tf["paid_out"]["amount_usd"]
    stated = tf["stated_received" if q == "tf_received" else "stated_pledged"]
    return None if stated is None else stated["amount_usd"]


@pytest.fixture(scope="module")
def heads(dataset):
    return {d: snapshot(d, dataset).headline() for d in sorted({c["date"] for c in CHECKPOINTS})}


def test_there_are_enough_checkpoints():
    assert len(CHECKPOINTS) >= 20
    assert len({c["date"] for c in CHECKPOINTS}) >= 15
    assert {c["quantity"] for c in CHECKPOINTS} >= {"deployed", "mission_total", "tf_received",
                                                   "planned", "pledged"}


@pytest.mark.parametrize("cp", CHECKPOINTS, ids=lambda c: f"{c['date']}-{c['mission']}-"
                         f"{c['quantity']}-{c['contributor_iso3'] or 'all'}")
def test_snapshot_agrees_with_what_sources_said_that_week(heads, cp):
    got = _value(heads[cp["date"]], cp)
    low, high = float(cp["low"]), float(cp["high"])
    assert got is not None, f"no value; sources said {cp['low']}-{cp['high']}: {cp['notes']}"
    assert low <= float(got) <= high, f"got {got}; sources said {low:,.0f}-{high:,.0f}: {cp['notes']}"


# ---------------------------------------------------------------------------------------------
# The leak test: everything a report shows, full data cut to D vs data with later rows deleted

LEAK_DATES = ["2024-03-01", "2024-06-30", "2024-09-30", "2024-10-12", "2025-01-05",
              "2025-02-05", "2025-06-30", "2025-10-01", "2025-12-31", "2026-03-21"]


def _without_later_rows(ds: Dataset, as_of) -> Dataset:
    """The dataset with every row reported after ``as_of`` physically removed (restatement
    links re-pointed at the earliest surviving row, as a curator would have recorded them)."""
    cut = pd.Timestamp(as_of)
    tables = {}
    for name in ("personnel", "money", "requirements", "context", "in_kind"):
        frame = ds.facts(name)
        kept = frame[frame["reported_date"] <= cut].copy()
        survivors = kept.sort_values(["reported_date", "fact_id"]).groupby("group_id")["fact_id"]
        first = survivors.first()
        kept["restates_id"] = kept["group_id"].map(first).where(
            kept["group_id"].map(first) != kept["fact_id"])
        kept["group_id"] = group_ids(kept)
        tables[name] = kept
    keep = lambda f, col: f[f[col] <= cut]  # noqa: E731
    return Dataset(sources=keep(ds.sources, "reported_date"), mandates=keep(ds.mandates,
                   "reported_date"), fx_rates=keep(ds.fx_rates, "date"),
                   model_parameters=ds.model_parameters[ds.model_parameters["reported_date"]
                                                        .isna() | (ds.model_parameters[
                                                            "reported_date"] <= cut)],
                   gaps=ds.gaps, version=ds.version, **tables)


def _shown(state) -> dict:
    out = {}
    for mission in ("MSS", "GSF"):
        out[f"01-{mission}"] = views.contributions(state, mission)
        out[f"02-{mission}"] = views.money(state, mission)
        out[f"01-timeline-{mission}"] = events.timeline(state, mission)
        out[f"01-profiles-{mission}"] = events.profiles(state, mission)
    out["01-context"] = views.context_series(state)
    out["04"] = views.sources_and_method(state)
    return out


def _assert_same(a, b, where=""):
    if isinstance(a, pd.DataFrame):
        cols = [c for c in a.columns if c not in ("group_id", "restates_id")]
        pd.testing.assert_frame_equal(a[cols].reset_index(drop=True),
                                      b[cols].reset_index(drop=True), check_dtype=False,
                                      obj=where)
    elif isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        same = (a == b) or (pd.isna(a) and pd.isna(b)) if not isinstance(a, (list, dict)) else False
        assert same, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("as_of", LEAK_DATES)
def test_nothing_a_report_shows_leaks_from_later_rows(dataset, as_of):
    full = resolve_on(dataset, as_of)
    trimmed = resolve_on(_without_later_rows(dataset, as_of), as_of)
    _assert_same(_shown(full), _shown(trimmed), as_of)


# ---------------------------------------------------------------------------------------------
# Missions bounded in time, stocks and flows, dates that mean what they say

HANDOVER = [
    {"fact_id": "k-001", "mission": "MSS", "contributor_iso3": "KEN", "event": "pledged",
     "count": "1000", "refers_to_date": "2023-07-29", "source_id": "s-2023-07-30"},
    {"fact_id": "k-002", "mission": "MSS", "contributor_iso3": "KEN", "event": "arrived",
     "count": "400", "refers_to_date": "2024-06-25", "source_id": "s-2024-06-26"},
    {"fact_id": "k-003", "mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
     "count": "735", "refers_to_date": "2025-09-22", "source_id": "s-2025-09-22"},
    # The same 735, re-reported on 1 Oct: it must stay a 22 September count.
    {"fact_id": "k-004", "mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
     "count": "735", "refers_to_date": "2025-10-01", "source_id": "s-2025-10-01",
     "restates_id": "k-003"},
    {"fact_id": "k-005", "mission": "MSS", "contributor_iso3": "GTM", "event": "deployed",
     "count": "150", "refers_to_date": "2025-06-26", "source_id": "s-2025-06-27"},
    {"fact_id": "k-006", "mission": "MSS", "event": "deployed", "count": "989",
     "refers_to_date": "2025-09-22", "source_id": "s-2025-09-22"},
    # Under the GSF: the same Guatemalans (a head-count), then a Kenyan rotation.
    {"fact_id": "g-001", "mission": "GSF", "contributor_iso3": "GTM", "event": "deployed",
     "count": "150", "refers_to_date": "2025-10-06", "source_id": "s-2025-10-06"},
    {"fact_id": "g-002", "mission": "GSF", "contributor_iso3": "KEN", "event": "arrived",
     "count": "230", "refers_to_date": "2025-12-08", "source_id": "s-2025-12-09",
     "caveat": "relief"},
    {"fact_id": "g-003", "mission": "GSF", "contributor_iso3": "KEN", "event": "departed",
     "count": "230", "refers_to_date": "2025-12-10", "source_id": "s-2025-12-10",
     "caveat": "relief"},
]
MONEY = [
    {"fact_id": "m-001", "mission": "MSS", "donor": "CAN", "recipient": "UN_TF",
     "channel": "un_trust_fund", "status": "received", "amount": "45000000",
     "refers_to_date": "2024-09-16", "source_id": "s-2024-09-16"},
    # A later re-report of the same deposit: dated by the first report, not the article.
    {"fact_id": "m-002", "mission": "MSS", "donor": "CAN", "recipient": "UN_TF",
     "channel": "un_trust_fund", "status": "received", "amount": "45000000",
     "refers_to_date": "2025-02-04", "source_id": "s-2025-02-04", "restates_id": "m-001"},
    {"fact_id": "m-003", "mission": "MSS", "recipient": "UN_TF", "channel": "un_trust_fund",
     "status": "received", "scope": "all_donors", "amount": "68000000",
     "refers_to_date": "2024-09-16", "source_id": "s-2024-09-16"},
    # Reimbursements paid out of the fund to Kenya's police: never the fund's total.
    {"fact_id": "m-004", "mission": "MSS", "recipient": "KEN", "channel": "un_trust_fund",
     "status": "paid_out", "scope": "all_donors", "amount": "7210030.56",
     "refers_to_date": "2025-03-15", "source_id": "s-2025-03-15", "restates_id": "m-003"},
    # A pledge to the GSF's fund never enters the MSS's.
    {"fact_id": "m-005", "mission": "GSF", "donor": "DOM", "recipient": "UN_TF",
     "channel": "un_trust_fund", "status": "pledged", "amount": "10000000",
     "refers_to_date": "2025-12-09", "source_id": "s-2025-12-09"},
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = build(tmp_path_factory.mktemp("tiny") / "data", personnel=HANDOVER, money=MONEY)
    return load_dataset(folder)


def test_a_restatement_keeps_the_date_of_the_fact_it_restates(tiny):
    state = resolve_on(tiny, "2025-10-01")
    ken = state.personnel[(state.personnel["contributor_iso3"] == "KEN")
                          & (state.personnel["event"] == "deployed")]
    assert list(ken["date"].dt.date.astype(str)) == ["2025-09-22"]


def test_mission_ends_and_its_successor_takes_over_without_double_counting(tiny):
    before = snapshot("2025-10-01", tiny).headline()["missions"]
    assert before["MSS"]["status"] == "active" and before["MSS"]["total_deployed"] == 989
    after = snapshot("2025-11-01", tiny).headline()
    mss, gsf = after["missions"]["MSS"], after["missions"]["GSF"]
    assert after["current_mission"] == "GSF"
    assert mss["status"] == "ended" and mss["total_deployed"] == 0
    assert all(c["deployed"] == 0 for c in mss["contributors"])
    assert mss["handed_over"] == {"date": "2025-10-02", "to": "GSF", "total": 989,
                                  "sum_of_contributors": 885}
    # The GSF starts with what the MSS handed over, and counts each person once.
    gsf_by = {c["iso3"]: c["deployed"] for c in gsf["contributors"]}
    assert gsf_by == {"GTM": 150, "KEN": 735}
    assert gsf["total_deployed"] == 989 and gsf["sum_of_contributors"] == 885


def test_a_relief_rotation_replaces_and_does_not_add(tiny):
    gsf = snapshot("2025-12-31", tiny).headline()["missions"]["GSF"]
    assert {c["iso3"]: c["deployed"] for c in gsf["contributors"]}["KEN"] == 735


def test_money_is_dated_by_its_first_report_and_scoped_by_mission(tiny):
    state = resolve_on(tiny, "2026-01-01")
    can = state.money[(state.money["donor"] == "CAN") & (state.money["status"] == "received")]
    assert list(can["date"].dt.date.astype(str)) == ["2024-09-16"]
    mss = snapshot("2026-01-01", tiny).headline()["missions"]["MSS"]["trust_fund"]
    assert mss["stated_received"]["amount_usd"] == 68_000_000
    assert mss["sum_of_donor_promises_usd"] == 45_000_000  # the GSF pledge is not in it
    assert mss["paid_out"]["amount_usd"] == 7_210_030.56
    # The fund set up for the MSS carries on under the GSF: the GSF's fund holds the MSS's
    # deposits and its own new pledge; the ended MSS's fund stops at the handover.
    gsf = snapshot("2026-01-01", tiny).headline()["missions"]["GSF"]["trust_fund"]
    assert gsf["sum_of_donor_promises_usd"] == 45_000_000 + 10_000_000


def test_a_payment_out_of_the_fund_is_never_its_received_total(tiny):
    tf = snapshot("2025-03-31", tiny).headline()["missions"]["MSS"]["trust_fund"]
    assert tf["stated_received"]["amount_usd"] == 68_000_000
    assert tf["stated_received"]["date"] == "2024-09-16"


def test_latest_is_the_data_date(dataset):
    assert snapshot("latest", dataset).as_of == dataset.data_date
    assert snapshot("latest", dataset).headline() == snapshot(
        dataset.data_date.date().isoformat(), dataset).headline()


@pytest.mark.skipif(shutil.which("faketime") is None,
                    reason="needs Debian's faketime (.ci/run installs it)")
def test_latest_gives_the_same_snapshot_on_any_day_and_in_any_time_zone():
    """Two render clocks (faketime) and two time zones give one output, dated by the data."""
    outs = []
    for today, tz in (("2026-12-01 09:00:00", "UTC"), ("2031-06-15 23:30:00", "Pacific/Kiritimati")):
        env = {**os.environ, "TZ": tz, "PYTHONPATH": str(paths.ROOT / "src")}
        run = subprocess.run(["faketime", today, sys.executable, "-m", "haiti_mss", "snapshot",
                              "--as-of", "latest", "--format", "json"],
                             capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr
        outs.append(json.loads(run.stdout))
    assert outs[0] == outs[1]
    assert outs[0]["as_of"] == outs[0]["data_date"]


def test_an_as_of_before_any_fact_is_refused(dataset):
    from haiti_mss.errors import ParameterError

    with pytest.raises(ParameterError, match="before the first fact"):
        snapshot("2001-01-01", dataset)


def test_ceiling_target_and_planned_strength_are_kept_apart(dataset):
    head = snapshot("2026-01-15", dataset).headline()["missions"]
    assert head["GSF"]["planned_strength"]["count"] == 5550
    assert head["GSF"]["planned_strength"]["quantity"] == "ceiling"
    assert head["GSF"]["planned_strength"]["uniformed"] == 5500
    assert head["MSS"]["planned_strength"]["count"] == 2500


def test_restated_cost_estimates_count_once(dataset):
    from haiti_mss.resolve import annual_requirement

    state = resolve_on(dataset, "latest")
    need = annual_requirement(state.requirements, "MSS")
    raw = state.view.requirements
    raw = raw[(raw["mission"] == "MSS") & (raw["covers"] == "mission")
              & raw["period_months"].notna() & ~raw["disputed"]]
    assert raw["group_id"].nunique() < len(raw)
    # A range published as two figures (the State Department's 200-400 million) is one
    # estimate: fewer estimates than groups, and the range's ends both in the low-high span.
    assert need["n_estimates"] < raw["group_id"].nunique()
    assert need["low"] == 200e6


def _rounded_total(tmp_path, stated: str, qualifier: str) -> dict:
    rows = [
        {"fact_id": "r-001", "mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
         "count": "400", "refers_to_date": "2024-09-20", "source_id": "s-2024-09-20"},
        {"fact_id": "r-002", "mission": "MSS", "contributor_iso3": "JAM", "event": "deployed",
         "count": "24", "refers_to_date": "2024-09-20", "source_id": "s-2024-09-20"},
        {"fact_id": "r-003", "mission": "MSS", "event": "deployed", "count": stated,
         "qualifier": qualifier, "refers_to_date": "2024-09-30", "source_id": "s-2024-09-30"},
    ]
    data = load_dataset(build(tmp_path / "data", personnel=rows, money=MONEY[:1]))
    return snapshot("2024-09-30", data).headline()["missions"]["MSS"]


def test_a_rounded_total_that_the_parts_fit_keeps_the_exact_parts(tmp_path):
    mss = _rounded_total(tmp_path, "400", "about")
    assert mss["total_deployed"] == 424
    assert mss["total_basis"].startswith("sum of contributors (the last total a source stated, about 400")


def test_a_total_the_parts_do_not_fit_wins_over_them(tmp_path):
    # "about 600" cannot be 424: someone is missing from the per-country figures.
    assert _rounded_total(tmp_path, "600", "about")["total_deployed"] == 600
    # An exact total always wins, and "at least 500" is not met by 424.
    assert _rounded_total(tmp_path, "430", "")["total_deployed"] == 430
    assert _rounded_total(tmp_path, "500", "at_least")["total_deployed"] == 500


ROUNDED_AFTER_EXACT = [
    {"fact_id": "r-001", "mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
     "count": "735", "refers_to_date": "2025-09-22", "source_id": "s-2025-09-22"},
    {"fact_id": "r-002", "mission": "MSS", "contributor_iso3": "GTM", "event": "deployed",
     "count": "259", "refers_to_date": "2025-06-26", "source_id": "s-2025-06-27"},
    # An exact count of the whole mission, newer than every contributor's own figure...
    {"fact_id": "r-003", "mission": "MSS", "event": "deployed", "count": "970",
     "refers_to_date": "2025-09-30", "source_id": "s-2025-09-30"},
    # ...then a rounded "nearly 1,000" the next day: it fits the (older) parts, but it must
    # not bring back the parts' 994 over the newer exact 970.
    {"fact_id": "r-004", "mission": "MSS", "event": "deployed", "count": "1000",
     "refers_to_date": "2025-10-01", "source_id": "s-2025-10-01", "qualifier": "about"},
]


def test_a_rounded_total_never_overrides_a_newer_exact_count(tmp_path):
    folder = build(tmp_path / "data", personnel=ROUNDED_AFTER_EXACT, money=MONEY)
    state = resolve_on(load_dataset(folder), "2025-10-01")
    tot = state.totals[state.totals["mission"] == "MSS"].set_index("month_end")["total"]
    assert tot[pd.Timestamp("2025-09-30")] == 970
    assert tot[pd.Timestamp("2025-10-01")] == 970
    # People reported leaving move the exact count; a contributor's re-measured head-count
    # (a new count of the same people) does not.
    later = ROUNDED_AFTER_EXACT + [
        {"fact_id": "r-005", "mission": "MSS", "contributor_iso3": "GTM", "event": "departed",
         "count": "24", "refers_to_date": "2025-10-01", "source_id": "s-2025-10-01"}]
    state = resolve_on(load_dataset(build(tmp_path / "later", personnel=later, money=MONEY)),
                       "2025-10-01")
    tot = state.totals[state.totals["mission"] == "MSS"].set_index("month_end")["total"]
    assert tot[pd.Timestamp("2025-10-01")] == 970 - 24
    recount = ROUNDED_AFTER_EXACT + [
        {"fact_id": "r-005", "mission": "MSS", "contributor_iso3": "GTM", "event": "deployed",
         "count": "235", "refers_to_date": "2025-10-01", "source_id": "s-2025-10-01"}]
    state = resolve_on(load_dataset(build(tmp_path / "recount", personnel=recount,
                                          money=MONEY)), "2025-10-01")
    tot = state.totals[state.totals["mission"] == "MSS"].set_index("month_end")["total"]
    assert tot[pd.Timestamp("2025-10-01")] == 970


BOUNDS = [
    {"fact_id": "b-001", "mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
     "count": "744", "refers_to_date": "2025-02-06", "source_id": "s-2025-02-06"},
    # "More than 700": true of the 744 already there, so it must not lower them to 700...
    {"fact_id": "b-002", "mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
     "count": "700", "refers_to_date": "2025-08-27", "source_id": "s-2025-08-27",
     "qualifier": "at_least"},
    # ...while an exact count still replaces the figure.
    {"fact_id": "b-003", "mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
     "count": "735", "refers_to_date": "2025-09-22", "source_id": "s-2025-09-22"},
    # A bound the standing figure does not meet is news: "more than 800" raises it.
    {"fact_id": "b-004", "mission": "MSS", "contributor_iso3": "KEN", "event": "deployed",
     "count": "800", "refers_to_date": "2025-09-28", "source_id": "s-2025-09-28",
     "qualifier": "at_least"},
]


def test_a_bound_the_standing_count_meets_does_not_change_it(tmp_path):
    state = resolve_on(load_dataset(build(tmp_path / "data", personnel=BOUNDS, money=MONEY)),
                       "2025-09-30")
    ken = state.totals[state.totals["mission"] == "MSS"].set_index("month_end")["total"]
    assert ken[pd.Timestamp("2025-08-31")] == 744
    assert ken[pd.Timestamp("2025-09-30")] == 800
    before = resolve_on(load_dataset(build(tmp_path / "d2", personnel=BOUNDS[:3],
                                           money=MONEY)), "2025-09-30")
    ken = before.totals[before.totals["mission"] == "MSS"].set_index("month_end")["total"]
    assert ken[pd.Timestamp("2025-09-30")] == 735
