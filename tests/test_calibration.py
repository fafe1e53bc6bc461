"""The calibrated model publishes what it fitted, is scored against naive forecasts, and says
what the data cannot identify."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from haiti_mss import analysis, resolve_on, scoring


@pytest.fixture(scope="module")
def report(dataset):
    state = resolve_on(dataset, "latest")
    return analysis.model_report(dataset, state, "mss-observed", n_prior=6000, identify=False)


def test_the_published_paths_are_the_fitted_ones(report):
    """Every counterfactual runs on the accepted (parameter, shock) pairs: the baseline run is
    the calibration's own run, draw for draw, and the hold-out is scored on those paths."""
    cal = report.calibration
    assert np.array_equal(report.analysis.baseline.deployed, cal["deployed"])
    for name, values in cal["posterior"].items():
        assert np.array_equal(report.analysis.draws[name], values), name
    hold = cal["hold_mask"]
    again = scoring.scores(report.analysis.baseline.deployed[:, hold], cal["observed"][hold])
    assert again["crps"] == pytest.approx(cal["holdout"]["model"]["crps"])


def test_the_calibration_states_its_tolerances_and_they_fall(report):
    schedule = report.calibration["schedule"]
    assert len(schedule) >= 2
    tolerances = [g["tolerance"] for g in schedule]
    assert tolerances == sorted(tolerances, reverse=True) and tolerances[-1] < tolerances[0]


def test_the_fit_uses_the_true_zeros_before_the_first_arrival(report):
    cal = report.calibration
    first_months = cal["observed"][:6]
    assert (first_months == 0).all() and cal["fit_mask"][:6].all()


def test_validation_scores_the_model_and_three_naive_forecasts(report):
    block = analysis.validation_block(report)
    for test in ("holdout", "backtest"):
        for who in ("model", "last_value", "linear_trend", "random_walk"):
            assert set(block[test][who]) == set(analysis.VALIDATION_KEYS), (test, who)
    # The verdict follows the scores: validated only if the model beats every naive one.
    assert report.validated == all(scoring.beats_naive(t) for t in
                                   (report.calibration["holdout"], report.backtest["backtest"]))


def test_the_backtest_knows_only_what_was_known_on_the_renewal_day(dataset, report):
    back = report.backtest
    table = back["table"]
    published = table["reported_date"].dropna()
    assert (published <= pd.Timestamp("2024-09-30")).all()
    assert back["until"] == pd.Timestamp("2024-09-30")


def test_the_naive_forecasts_are_what_they_say():
    history = np.array([0, 0, 100, 200, 300.0])
    ens = scoring.naive_forecasts(history, np.array([1, 2]))
    assert (ens["last_value"] == 300).all()
    assert np.median(ens["linear_trend"][:, 1]) == pytest.approx(
        np.polyval(np.polyfit(np.arange(5), history, 1), 6), rel=0.05)
    steps = set(np.diff(history))
    assert set(np.unique(ens["random_walk"][:, 0] - 300)) <= steps


def test_a_perfect_ensemble_scores_better_than_a_wrong_one():
    truth = np.array([500.0, 600.0])
    good = scoring.scores(np.tile(truth, (50, 1)) + np.random.default_rng(0).normal(0, 5, (50, 2)),
                          truth)
    bad = scoring.scores(np.full((50, 2), 100.0), truth)
    assert good["crps"] < bad["crps"] and good["coverage_80"] >= bad["coverage_80"]


def test_the_split_is_tested_for_identification(dataset):
    state = resolve_on(dataset, "latest")
    report = analysis.model_report(dataset, state, "mss-observed", n_prior=4000, identify=True)
    ident = report.identification
    assert ident["recovery_errors"] and ident["recovery_error_points"] >= 0
    assert set(ident["variants"]) == {"annual cost 200 million", "annual cost 600 million",
                                      "early base capacity 2,500"}
    for split in [ident["base"], *ident["variants"].values()]:
        assert sum(split.values()) == pytest.approx(100.0, abs=1e-6)
    assert ident["identified"] == (ident["recovery_error_points"] < 10
                                   and ident["variant_spread_points"] < 20)


def test_the_what_if_moves_the_band_the_right_way(report):
    base = analysis.what_if(report)
    kept = analysis.what_if(report, pledges_kept=0.99)
    slow = analysis.what_if(report, lag_shift=6)
    assert kept["median"].iloc[-1] >= base["median"].iloc[-1]
    assert slow["median"].iloc[8] <= base["median"].iloc[8]
    assert list(base.columns) == ["month", "median", "p10", "p90"]


def test_reference_paths_are_arithmetic_on_the_data(dataset):
    from haiti_mss import reference

    state = resolve_on(dataset, "latest")
    refs = reference.shortfall_against_references(state, "MSS", 2500.0, dataset).set_index("path")
    observed = reference._month_ends(state, "MSS")["total"].to_numpy(float)
    assert refs.loc["instant", "person_months"] == pytest.approx(
        np.maximum(2500 - observed, 0).sum())
    assert refs.loc["AMISOM", "person_months"] < refs.loc["UN average", "person_months"] \
        < refs.loc["instant", "person_months"]


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / \
    "ipi_peacekeeping_monthly_by_mission.csv"


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/ipi_peacekeeping_monthly_"
                    "by_mission.csv (the validation copy of IPI's data; not part of the project)")
def test_the_reference_points_match_the_ipi_data(dataset):
    ipi = pd.read_csv(SHARED, na_values=["NA"], parse_dates=["Date"])
    pts = dataset.reference_points[dataset.reference_points["source_id"] == "ipi-ppp-monthly"]
    assert len(pts) > 50
    merged = pts.merge(ipi, left_on=["mission", "date"], right_on=["Mission", "Date"])
    assert len(merged) == len(pts)
    assert (merged["strength"] == merged["Total"]).all()


def test_the_engine_is_scored_on_missions_it_never_saw(report):
    oos = report.out_of_sample
    assert {"MINUSTAH", "UNAMID", "MINUSMA", "MINUSCA", "UNMIL", "AMISOM"} <= set(oos["mission"])
    assert set(oos["params"]) == {"calibrated", "prior"}
    assert oos["crps_share"].between(0, 1).all()


def test_the_kernel_distances_equal_the_direct_quadratic_form():
    import numpy as np

    from haiti_mss.calibration import _mahalanobis_sq

    rng = np.random.default_rng(3)
    a, b = rng.random((40, 5)), rng.random((30, 5))
    m = rng.random((5, 5))
    cov = m @ m.T + 0.1 * np.eye(5)
    diff = a[:, None, :] - b[None, :, :]
    direct = np.einsum("ijk,kl,ijl->ij", diff, np.linalg.inv(cov), diff)
    np.testing.assert_allclose(_mahalanobis_sq(a, b, np.linalg.cholesky(cov)), direct,
                               rtol=1e-9, atol=1e-9)


def test_the_latin_hypercube_fills_every_stratum_once():
    import numpy as np

    from haiti_mss.calibration import latin_hypercube

    u = latin_hypercube(50, 4, seed=11)
    assert u.shape == (50, 4) and (u >= 0).all() and (u < 1).all()
    for j in range(4):
        assert sorted(np.floor(u[:, j] * 50).astype(int)) == list(range(50))
    assert not np.array_equal(latin_hypercube(50, 4, 11), latin_hypercube(50, 4, 12))
    np.testing.assert_array_equal(latin_hypercube(50, 4, 11), u)


def test_sensitivity_is_spearmans_rank_correlation():
    import numpy as np
    from scipy.stats import spearmanr

    rng = np.random.default_rng(5)
    x = rng.random(200)
    y = x ** 3 + 0.3 * rng.random(200)
    from haiti_mss.analysis import spearman

    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    ties = np.array([1, 1, 2, 3, 3, 3, 4.0])
    assert spearman(ties, ties[::-1]) == pytest.approx(
        spearmanr(ties, ties[::-1]).statistic, abs=1e-12)
