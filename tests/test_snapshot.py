"""The as-of snapshot reconstructs what had been reported by a date, and nothing later."""

from __future__ import annotations

import json
import subprocess
import sys

from haiti_mss import resolve_on, snapshot
from haiti_mss.personnel import reconciliation


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
    # Ruto in Port-au-Prince on 21 Sep 2024: 600 more, 300 in October and 300 in November
    # (an announcement, not a pledge); AP's "another 300 within a month" of 25 Sep is half
    # of it, so the larger open announcement is the one shown.
    assert ken_before["announced"] == {"count": 600, "date": "2024-09-21"}
    assert ken_before["pledged"] == 1000
    # Restated on 11 Oct with no arrival in between: still the announcement of 21 September.
    assert ken_after["announced"] == {"count": 600, "date": "2024-09-21"}
    # An announcement to send the rest of the 1,000 is not a new pledge.
    assert ken_after["pledged"] == 1000


def test_full_range_reaches_the_gang_suppression_force(dataset):
    head = snapshot("latest", dataset).headline()
    assert head["current_mission"] == "GSF"
    assert head["mandate"]["resolution"] == 2793
    assert head["mandate"]["ceiling_personnel"] == 5550
    assert head["missions"]["MSS"]["status"] == "ended"


def test_snapshot_changes_over_time(dataset):
    """The leak test (test_asof) would pass vacuously if snapshots ignored the date."""
    early = snapshot("2024-07-01", dataset).headline()["missions"]["MSS"]["total_deployed"]
    late = snapshot("2025-06-30", dataset).headline()["missions"]["MSS"]["total_deployed"]
    assert 0 < early < late


def test_reconciliation_lists_differences(dataset):
    recon = reconciliation(resolve_on(dataset, "2025-07-01"), "MSS")
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
    assert head["missions"]["MSS"]["trust_fund"]["stated_received"]["amount_usd"] == 68_000_000


def test_cli_rejects_a_malformed_date():
    result = subprocess.run([sys.executable, "-m", "haiti_mss", "snapshot", "--as-of",
                             "30/09/2024"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr


def test_the_context_table_shows_what_was_known_on_each_date(dataset):
    from haiti_mss import views
    from haiti_mss.resolve import resolve_on

    then = views.context_table(resolve_on(dataset, "2024-09-30")).set_index("Period or date")
    killed = then[then["What"] == "People killed"]
    # OHCHR's "at least 3,661 killed since January" (report of Fri 27 Sep 2024) is the latest
    # period known at the vote; it supersedes the SG's half-year 3,638 (published 25 Sep).
    period = ("since 1 January 2024, as reported on 27 September 2024 (the end of the period "
              "counted is not stated; latest period reported)")
    assert killed.loc[period, "Figure"] == "at least 3,661"
    assert not any("2025" in p for p in then.index)
    # A period stated without its end ("so far this year") does not break the table.
    now = views.context_table(resolve_on(dataset, "latest"))
    assert "at least 5,601" in set(now[now["Period or date"] == "2024 (whole year)"]["Figure"])
