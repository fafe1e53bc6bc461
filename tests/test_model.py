"""The shortfall model against invariants and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from haiti_mss import analysis, model, resolve_on


def setting(pledges=(600.0,), months=(0,), ceiling=1000.0, horizon=12, receipts=None,
            initial=0.0):
    return model.Setting(start=pd.Timestamp("2023-10-01"), months=horizon, ceiling=ceiling,
                         pledges=np.array(pledges, float), pledge_month=np.array(months),
                         receipts=np.zeros(horizon) if receipts is None else np.asarray(receipts, float),
                         initial_deployed=initial)


def params(n=1, **over):
    base = dict(fulfil_mean=0.999999, fulfil_shock_sd=0.0, fulfil_own_sd=0.0, lag_min=0.0,
                lag_mean=0.0, lag_shape=2.0, ramp_months=1.0, tranche=1.0,
                base_capacity_early=1e9, base_capacity_late=1e9, base_expand_month=0.0,
                cost_person_month=1000.0, cost_fixed_month=0.0, cost_arrival=0.0,
                base_size=1e9, tf_share=1.0, prefund_months=1.0, attrition=0.0,
                funding_scale=1.0, hnp_available=9700.0, hnp_share_capital=0.67,
                hnp_net_attrition=0.0, population_capital=3e6)
    base.update(over)
    return {k: np.full(n, float(v)) for k, v in base.items()}


def test_open_gates_and_zero_lags_give_the_pledged_path_capped_by_the_ceiling():
    s = setting(pledges=(600, 300, 500), months=(0, 2, 5), ceiling=1000)
    run = model.simulate(s, params(), model.draw_shocks(1, 3, 0), gates=())
    pledged = np.array([600, 600, 900, 900, 900, 1400, 1400, 1400, 1400, 1400, 1400, 1400])
    assert list(run.deployed[0]) == list(np.minimum(pledged, 1000))


def test_hand_computed_funding_gate():
    # $250,000 arrives in month 0; each person costs $1,000 a month and nothing to fly in;
    # one month pre-funded, no fixed costs: the fund can carry 250 people.
    s = setting(pledges=(600,), ceiling=1000, receipts=[250_000] + [0] * 11)
    run = model.simulate(s, params(tranche=100), model.draw_shocks(1, 1, 0))
    assert run.deployed[0, 0] == 250          # the money gate admits 250 of the 600 ready
    assert run.spent[0, 0] == 250_000 and run.balance[0, 0] == 0
    assert (run.deployed[0] == 250).all()      # no more money: no more arrivals, no withdrawal
    assert run.unpaid[0, 1] == 250_000        # the second month's bill cannot be paid
    assert run.binding["money"][0, 1]


def test_hand_computed_base_gate_and_tranches():
    s = setting(pledges=(1000,), ceiling=2500)
    p = params(tranche=200, base_capacity_early=500, base_capacity_late=900, base_expand_month=3)
    run = model.simulate(s, p, model.draw_shocks(1, 1, 0), gates=("logistics",))
    assert list(run.deployed[0, :5]) == [500, 500, 500, 900, 900]
    assert run.binding["base"][0, 0] and run.ready[0, 0] == 1000


@pytest.fixture(scope="module")
def random_case():
    s = setting(pledges=(1000, 1500, 250, 150), months=(0, 4, 11, 15), ceiling=2500, horizon=36,
                receipts=np.r_[np.full(6, 2e6), np.full(30, 5e6)])
    table = pd.DataFrame({
        "name": list(params().keys()),
        "low": [0.1, 0, 0.2, 0, 4, 1, 1, 100, 500, 1000, 6, 1400, 2e6, 0, 200, 0.1, 1, 0, 0.5,
                4000, 0.5, 0, 2.6e6],
        "high": [0.95, 2, 2.5, 8, 20, 6, 18, 230, 1500, 3000, 36, 2500, 9e6, 2e4, 800, 0.6, 6, 0.03,
                 1.5, 10000, 0.8, 0.12, 4e6]})
    p = analysis.sample_parameters(table, 3000, seed=1)
    return s, p, model.draw_shocks(3000, 4, 5)


def test_strength_is_never_negative_nor_above_the_ceiling(random_case):
    s, p, shocks = random_case
    for k in range(4):
        for removed in analysis._subsets(model.GATES, k):
            run = model.simulate(s, p, shocks, gates=tuple(g for g in model.GATES if g not in removed))
            assert (run.deployed >= 0).all() and (run.deployed <= s.ceiling).all()
            assert (run.arrivals >= 0).all() and (run.departures >= 0).all()


def test_money_is_conserved_in_the_trust_fund(random_case):
    s, p, shocks = random_case
    run = model.simulate(s, p, shocks)
    # exact to a thousandth of a dollar on sums of hundreds of millions
    assert np.allclose(run.balance[:, -1], run.receipts.sum(axis=1) - run.spent.sum(axis=1), rtol=0, atol=1e-3)
    assert (run.balance >= -1e-6).all() and (run.unpaid >= -1e-6).all()
    due = p["tf_share"][:, None] * run.cost
    assert np.allclose(run.spent + run.unpaid, due, rtol=0, atol=1e-3)


def test_removing_the_money_gate_never_lowers_strength(random_case):
    s, p, shocks = random_case
    base = model.simulate(s, p, shocks)
    opened = model.simulate(s, p, shocks, gates=("pledges", "logistics"))
    assert (opened.deployed >= base.deployed - 1e-9).all()


def test_without_the_money_gate_removing_any_gate_never_lowers_strength(random_case):
    s, p, shocks = random_case
    base = model.simulate(s, p, shocks, gates=("pledges", "logistics"))
    for gate in ("pledges", "logistics"):
        opened = model.simulate(s, p, shocks, gates=tuple(g for g in ("pledges", "logistics")
                                                          if g != gate))
        assert (opened.deployed >= base.deployed - 1e-9).all(), gate


def test_money_is_liquidity_so_spending_early_can_leave_less_later():
    """The money gate is cash on hand, not a cumulative total: a fund that carries more people
    early can run short later: $2M once, 400 people at $1,000 a month, a tenth leaving each
    month: after five months the fund cannot pay to replace the leavers."""
    s = setting(pledges=(400,), ceiling=1000, receipts=[2_000_000] + [0] * 11)
    run = model.simulate(s, params(tranche=1, attrition=0.1), model.draw_shocks(1, 1, 0))
    assert run.deployed[0, 0] == 400
    assert run.deployed[0, -1] < 400 and run.binding["money"][0, -1]
    assert (run.balance[0] >= -1e-6).all()


def test_more_money_raises_strength_where_money_binds(random_case):
    s, p, shocks = random_case
    low = model.simulate(s, p, shocks)
    high = model.simulate(s, dict(p, funding_scale=p["funding_scale"] * 3), shocks)
    first = low.binding["money"].argmax(axis=1)
    binds = low.binding["money"].any(axis=1)
    rows = np.flatnonzero(binds)
    # In the first month money binds, the richer fund carries at least as many people.
    assert (high.deployed[rows, first[rows]] >= low.deployed[rows, first[rows]] - 1e-9).all()
    assert high.deployed.sum() > low.deployed.sum()


def test_the_same_seed_gives_identical_results(random_case):
    s, p, _ = random_case
    a = model.simulate(s, p, model.draw_shocks(3000, 4, 42))
    b = model.simulate(s, p, model.draw_shocks(3000, 4, 42))
    c = model.simulate(s, p, model.draw_shocks(3000, 4, 43))
    assert np.array_equal(a.deployed, b.deployed) and np.array_equal(a.balance, b.balance)
    assert not np.array_equal(a.deployed, c.deployed)


def test_shapley_shares_sum_to_the_total(random_case):
    s, p, shocks = random_case
    runs = {}
    for k in range(4):
        for removed in analysis._subsets(model.GATES, k):
            runs[frozenset(removed)] = model.simulate(
                s, p, shocks, gates=tuple(g for g in model.GATES if g not in removed))
    ref = runs[frozenset(model.GATES)].deployed
    pml = {key: model.person_months_lost(r.deployed, ref) for key, r in runs.items()}
    shares = model.shapley_split(pml)
    assert np.allclose(sum(shares.values()), pml[frozenset()] - pml[frozenset(model.GATES)])


def test_shapley_on_a_hand_computed_interaction():
    # Two gates that each alone remove nothing but together remove 10 (a min() interaction).
    pml = {frozenset(): np.array([10.0]), frozenset({"a"}): np.array([10.0]),
           frozenset({"b"}): np.array([10.0]), frozenset({"a", "b"}): np.array([0.0])}
    shares = model.shapley_split(pml)
    assert shares["a"][0] == pytest.approx(5.0) and shares["b"][0] == pytest.approx(5.0)


def test_bands_are_ordered():
    rng = np.random.default_rng(0)
    b = model.bands(rng.normal(size=(500, 6)))
    assert (b["p2_5"] <= b["p10"]).all() and (b["p10"] <= b["median"]).all()
    assert (b["median"] <= b["p90"]).all() and (b["p90"] <= b["p97_5"]).all()


def test_the_analysis_runs_on_the_data(dataset):
    scenario = analysis.load_scenario("mss-observed")
    result = analysis.run_analysis(resolve_on(dataset, "2025-09-30"), scenario, n_draws=300)
    pml = result.person_months_lost().set_index("reference")
    assert pml.loc["instant ceiling", "median"] > pml.loc["all pledges kept", "median"] >= 0
    split = result.loss_split().set_index("cause")
    assert split.loc[["funding", "pledges", "logistics"], "median"].ge(0).all()
    assert len(result.density()) == 3


def test_unknown_override_is_an_error(dataset):
    scenario = {"name": "x", "overrides": {"no_such_parameter": {"central": 1}}}
    with pytest.raises(Exception, match="unknown parameter"):
        analysis.parameter_table(dataset.known_on("2025-09-30"), scenario)


def test_the_vectorized_model_matches_the_per_draw_loop(random_case):
    """The benchmark's plain-Python reference and the NumPy model give the same paths."""
    import sys

    from haiti_mss import paths

    sys.path.insert(0, str(paths.ROOT / "benchmarks"))
    from model_loop import simulate_loop

    s, p, shocks = random_case
    few = {k: v[:300] for k, v in p.items()}
    few_shocks = {k: v[:300] for k, v in shocks.items()}
    for gates in (model.GATES, ("logistics",), ()):
        vector = model.simulate(s, few, few_shocks, gates=gates).deployed
        loop = simulate_loop(s, few, few_shocks, gates=gates)
        assert np.allclose(vector, loop, rtol=0, atol=1e-6), gates


def test_the_reported_split_adds_up_to_one_hundred_percent(dataset):
    result = analysis.run_analysis(resolve_on(dataset, "2025-09-30"),
                                   analysis.load_scenario("mss-observed"), n_draws=300)
    split = result.loss_split().set_index("cause")
    assert split.loc[["funding", "pledges", "logistics"], "share_pct"].sum() == pytest.approx(100.0)


def test_a_pledge_smaller_than_a_contingent_still_deploys():
    """Kept pledges of 150 and 78 with every gate open deliver 228 (the old floor gave 0)."""
    s = setting(pledges=(150, 78), months=(0, 0), ceiling=2500)
    run = model.simulate(s, params(tranche=200, lag_mean=2.0, lag_min=2.0, ramp_months=3.0),
                         model.draw_shocks(1, 2, 0), gates=())
    assert run.deployed[0, -1] == 228


def test_the_last_contingent_may_be_partial():
    s = setting(pledges=(450,), ceiling=2500)
    run = model.simulate(s, params(tranche=200, ramp_months=3.0), model.draw_shocks(1, 1, 0),
                         gates=())
    assert run.deployed[0, -1] == 450 and set(np.diff(run.deployed[0])) <= {0, 200, 50}


def test_a_frozen_amount_cannot_be_spent():
    s = model.Setting(start=pd.Timestamp("2025-01-01"), months=3, ceiling=1000,
                      pledges=np.array([600.0]), pledge_month=np.array([0]),
                      receipts=np.array([300_000.0, 0, 0]), frozen=np.array([0, 200_000.0, 0]))
    run = model.simulate(s, params(tranche=1), model.draw_shocks(1, 1, 0))
    assert run.deployed[0, 0] == 300
    assert run.spent[0, 1] == 0  # everything left is frozen in month 1
