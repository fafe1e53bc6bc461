"""The as-of snapshot reconstructs what had been reported by a date, and nothing later."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from haiti_mss import snapshot
from haiti_mss.dataset import Dataset
from haiti_mss.personnel import reconcile_totals


def _by_iso(snap, mission="MSS"):
    own = snap.contributors[snap.contributors["mission"] == mission]
    return own.set_index("contributor_iso3")


def test_renewal_vote_picture(dataset):
    snap = snapshot("2024-09-30", dataset)
    c = _by_iso(snap)
    assert c.loc["KEN", "deployed"] == 400
    assert c.loc["JAM", "deployed"] == 24
    assert c.loc["KEN", "pledged"] == 1000
    head = snap.headline()
    assert head["missions"]["MSS"]["planned_strength"]["count"] == 2500
    assert head["mandate"]["resolution"] == 2751
    assert head["mandate"]["ceiling_personnel"] is None  # 2751, like 2699, set no ceiling


def test_jamaica_is_twenty_soldiers_and_four_police(dataset):
    rows = dataset.personnel
    jam = rows[(rows["contributor_iso3"] == "JAM") & (rows["event"] == "arrived")
               & (rows["refers_to_date"] == "2024-09-12")]
    by_type = jam.groupby("personnel_type")["count"].max()
    assert by_type["military"] == 20 and by_type["police"] == 4


def test_kenyas_further_600_is_announced_after_the_vote(dataset):
    before = snapshot("2024-09-30", dataset).headline()
    after = snapshot("2024-10-31", dataset).headline()
    ken_before = next(c for c in before["missions"]["MSS"]["contributors"] if c["iso3"] == "KEN")
    ken_after = next(c for c in after["missions"]["MSS"]["contributors"] if c["iso3"] == "KEN")
    assert ken_before["announced"] is None
    assert ken_after["announced"]["count"] == 600
    assert ken_after["announced"]["date"] == "2024-10-11"
    # An announcement to send the rest of the 1,000 is not a new pledge.
    assert ken_after["pledged"] == 1000


def test_full_range_reaches_the_gang_suppression_force(dataset):
    head = snapshot(pd.Timestamp.today().normalize(), dataset).headline()
    assert head["current_mission"] == "GSF"
    assert head["mandate"]["resolution"] == 2793
    assert head["mandate"]["ceiling_personnel"] == 5550
    assert "GSF" in head["missions"]


def _only_reported_by(ds: Dataset, as_of) -> Dataset:
    """The dataset with every row reported after ``as_of`` physically removed."""
    cut = pd.Timestamp(as_of)
    tables = {}
    for name in ("personnel", "money", "requirements", "context"):
        frame = ds.facts(name)
        tables[name] = frame[frame["reported_date"] <= cut]
    return Dataset(sources=ds.sources, mandates=ds.mandates, fx_rates=ds.fx_rates,
                   version=ds.version, **tables)


@pytest.mark.parametrize("as_of", ["2023-08-01", "2024-03-01", "2024-06-30", "2024-09-30",
                                   "2024-10-12", "2025-02-05", "2025-06-30", "2025-10-01",
                                   "2025-12-31", "2026-03-31"])
def test_as_of_never_leaks_a_later_report(dataset, as_of):
    """A snapshot from the full data equals one from data where later reports never existed."""
    full = snapshot(as_of, dataset).headline()
    trimmed = snapshot(as_of, _only_reported_by(dataset, as_of)).headline()
    assert full == trimmed


def test_snapshot_changes_over_time(dataset):
    """The leak test above would pass vacuously if snapshots ignored the date."""
    early = snapshot("2024-07-01", dataset).headline()["missions"]["MSS"]["total_deployed"]
    late = snapshot("2025-06-30", dataset).headline()["missions"]["MSS"]["total_deployed"]
    assert 0 < early < late


def test_reconciliation_lists_differences(dataset):
    recon = reconcile_totals(dataset.personnel, "2025-07-01")
    assert len(recon) >= 3
    assert (recon["difference"] == recon["reported_total"] - recon["sum_of_contributors"]).all()
    assert recon["difference"].ne(0).any()  # sources disagree; the table shows it


def test_cli_snapshot_json():
    result = subprocess.run([sys.executable, "-m", "haiti_mss", "snapshot", "--as-of",
                             "2024-09-30", "--format", "json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    head = json.loads(result.stdout)
    ken = next(c for c in head["missions"]["MSS"]["contributors"] if c["iso3"] == "KEN")
    assert ken["deployed"] == 400
    assert {"promised", "received"} <= set(head["money_usd"][0])


def test_cli_rejects_a_malformed_date():
    result = subprocess.run([sys.executable, "-m", "haiti_mss", "snapshot", "--as-of",
                             "30/09/2024"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr
