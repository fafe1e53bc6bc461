"""Run the shortfall model on the data: the setting a scenario describes, parameter draws,
counterfactuals, the split of the loss, calibration, hold-out scoring, the backtest and
sensitivity. Every function returns data frames or plain dicts for reports to show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import funding, model, specs
from .dataset import Dataset
from .errors import ParameterError
from .resolve import State, resolve_on
from .timeline import as_timestamp

# ---------------------------------------------------------------------------------------------
# Scenarios and parameters


def load_scenario(name: str, scenarios_dir: Path | None = None) -> dict:
    """A scenario file, checked against its spec (see :mod:`haiti_mss.specs`)."""
    return specs.load_scenario(name, scenarios_dir)


def scenario_for(mission: str) -> str:
    """The scenario a report on ``mission`` uses by default."""
    return {"MSS": "mss-observed", "GSF": "gsf-outlook"}[mission]


def parameter_table(view: Dataset, scenario: dict | None = None) -> pd.DataFrame:
    """The parameter table known on the view's date, with a scenario's overrides applied
    (and marked)."""
    table = view.model_parameters.copy().set_index("name")
    table["overridden_by"] = ""
    for name, values in ((scenario or {}).get("overrides") or {}).items():
        if name not in table.index:
            raise ParameterError(f"scenario {scenario['name']}: override of unknown parameter "
                                 f"'{name}'; expected one of {', '.join(table.index)}")
        for key in ("central", "low", "high"):
            if key in values:
                table.loc[name, key] = float(values[key])
        table.loc[name, "overridden_by"] = scenario["name"]
        if "note" in values:
            table.loc[name, "derivation"] = str(values["note"])
    return table.reset_index()


def benchmarks(table: pd.DataFrame) -> dict[str, float]:
    """Force-density benchmarks (per 1,000 residents) from the parameter table."""
    rows = table[table["name"].str.startswith("benchmark_")]
    return {r.description: float(r.central) for r in rows.itertuples()}


def sample_parameters(table: pd.DataFrame, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` Latin-hypercube draws, uniform between each parameter's low and high."""
    from scipy.stats import qmc

    names = list(table["name"])
    unit = qmc.LatinHypercube(d=len(names), seed=seed).random(n)
    low, high = table["low"].to_numpy(float), table["high"].to_numpy(float)
    values = low + unit * (high - low)
    return {name: values[:, i] for i, name in enumerate(names)}


def with_derived(p: dict[str, np.ndarray], setting: model.Setting) -> dict[str, np.ndarray]:
    """Add the fixed cost per base implied by the annual full-strength cost estimate:
    annual = 12 x (strength x cost per person-month + bases x fixed cost per base)."""
    p = dict(p)
    full = setting.ceiling
    bases = np.ceil(full / np.maximum(p["base_size"], 1.0))
    p["cost_fixed_month"] = np.maximum(
        p["annual_cost_full"] / 12.0 - full * p["cost_person_month"], 0.0) / bases
    return p


# ---------------------------------------------------------------------------------------------
# The setting: what the data says, for one scenario and one as-of date


def reported_totals(state: State, mission: str) -> pd.Series:
    """Mission-wide head-counts as sources stated them, by date (the points behind the
    reconciled series)."""
    own = state.stated_totals[state.stated_totals["mission"] == mission]
    return own.groupby("date")["count"].max().astype(float)


def observed_strength(state: State, mission: str) -> pd.Series:
    """The reconciled month-end strength of ``mission``: the stated mission total where
    sources gave one (rolled forward by the contributors' flows), else the sum of
    contributors, from the first month of the mission (true zeros before any arrival)."""
    own = state.totals[state.totals["mission"] == mission]
    return own.set_index("month_end")["total"].astype(float)


def build_setting(state: State, scenario: dict) -> model.Setting:
    """Pledges, receipts, ceiling and starting strength for ``scenario``, from a resolved
    state."""
    start = as_timestamp(scenario["start"])
    months = int(scenario["months"])
    mission = scenario["mission"]
    pledges = state.contributors[(state.contributors["mission"] == mission)
                                 & state.contributors["pledged"].notna()]
    # A pledge made before the authorization counts from month 0.
    first = pledges["first_pledge_date"]
    month_of = ((first.dt.year - start.year) * 12 + first.dt.month - start.month).clip(lower=0)
    ceiling = scenario["ceiling"]
    if ceiling == "planned":
        planned = state.planned[state.planned["mission"] == mission]
        if planned.empty:
            raise ParameterError(f"scenario {scenario['name']}: no planned strength known by "
                                 f"{state.as_of.date()}")
        row = planned.iloc[0]
        ceiling = float(row["uniformed"] if pd.notna(row["uniformed"]) else row["count"])
    tf = funding.monthly_trust_fund(state, mission)
    receipts = np.zeros(months)
    if len(tf):
        received = tf.set_index("month_end")["received_usd"].astype(float)
        by_month = received.diff().fillna(received.iloc[0]).clip(lower=0)
        for when, value in by_month.items():
            idx = (when.year - start.year) * 12 + when.month - start.month
            if 0 <= idx < months:
                receipts[idx] += value
    initial = 0.0
    if scenario.get("initial_deployed") == "observed":
        carried = state.extra["carried"].get(mission)
        initial = float(carried[1]) if carried else 0.0
    elif scenario.get("initial_deployed"):
        initial = float(scenario["initial_deployed"])
    return model.Setting(
        start=start, months=months, ceiling=float(ceiling),
        pledges=pledges["pledged"].to_numpy(float), pledge_month=month_of.to_numpy(int),
        receipts=receipts, contributors=tuple(pledges["contributor_iso3"]),
        initial_deployed=initial,
    )


# ---------------------------------------------------------------------------------------------
# A full analysis


@dataclass
class Analysis:
    """Everything the shortfall report shows, for one scenario and as-of date."""

    scenario: dict
    setting: model.Setting
    parameters: pd.DataFrame
    draws: dict[str, np.ndarray]
    runs: dict[frozenset, model.Run]      # key: the gates removed
    observed: pd.Series

    @property
    def baseline(self) -> model.Run:
        return self.runs[frozenset()]

    def strength_bands(self) -> pd.DataFrame:
        out = model.bands(self.baseline.deployed)
        out.insert(0, "month", self.setting.month_index)
        return out

    def references(self) -> dict[str, np.ndarray]:
        """The stated reference paths, per draw and month."""
        n = self.baseline.deployed.shape[0]
        instant = np.full((n, self.setting.months), self.setting.ceiling)
        return {
            "instant ceiling": instant,
            "full funding, realistic lags": self.runs[frozenset({"funding"})].deployed,
            "all pledges kept": self.runs[frozenset({"pledges"})].deployed,
            "no gate (funding, pledges, logistics)": self.runs[frozenset(model.GATES)].deployed,
        }

    def person_months_lost(self) -> pd.DataFrame:
        rows = []
        for name, ref in self.references().items():
            pml = model.person_months_lost(self.baseline.deployed, ref)
            rows.append({"reference": name, **model.summarize(pml)})
        return pd.DataFrame(rows)

    def loss_split(self) -> pd.DataFrame:
        """Shapley split of the person-months lost against the no-gate path."""
        base = self.runs[frozenset(model.GATES)].deployed
        pml = {removed: model.person_months_lost(run.deployed, base)
               for removed, run in self.runs.items()}
        shares = model.shapley_split(pml)
        total = pml[frozenset()]
        # Shares of the mean loss: means add up across causes exactly, medians do not.
        rows = [{"cause": cause, **model.summarize(share),
                 "share_pct": float(np.mean(share) / max(np.mean(total), 1e-9) * 100)}
                for cause, share in shares.items()]
        rows.append({"cause": "total", **model.summarize(total), "share_pct": 100.0})
        return pd.DataFrame(rows)

    def density(self) -> pd.DataFrame:
        """Force density per 1,000 in metropolitan Port-au-Prince and months below each
        benchmark."""
        dens = model.density(self.baseline.deployed, self.setting, self.draws)
        rows = []
        for name, bench in benchmarks(self.parameters).items():
            below = (dens < bench).sum(axis=1).astype(float)
            rows.append({"benchmark": name, "per_1000": bench, **model.summarize(below)})
        return pd.DataFrame(rows)

    def density_bands(self) -> pd.DataFrame:
        out = model.bands(model.density(self.baseline.deployed, self.setting, self.draws))
        out.insert(0, "month", self.setting.month_index)
        return out

    def money(self) -> pd.DataFrame:
        """Trust-fund runway, the funding gap and the marginal cost of a recovered person-month."""
        base, full = self.baseline, self.runs[frozenset({"funding"})]
        spend_month = np.maximum(base.spent, 1.0)
        runway = base.balance[:, -1] / spend_month[:, -1]
        share = self.draws["tf_share"][:, None]
        gap = (share * full.cost).sum(axis=1) - base.receipts.sum(axis=1)
        recovered = (model.person_months_lost(base.deployed, full.deployed))
        extra_cost = full.cost.sum(axis=1) - base.cost.sum(axis=1)
        per_pm = np.where(recovered > 0, extra_cost / np.maximum(recovered, 1e-9), np.nan)
        per_pm = per_pm[np.isfinite(per_pm)]
        rows = [
            {"measure": "trust fund runway at the horizon (months)", **model.summarize(runway)},
            {"measure": "trust-fund gap to full funding (USD)", **model.summarize(gap)},
            {"measure": "unpaid trust-fund share of costs (USD)",
             **model.summarize(base.unpaid.sum(axis=1))},
        ]
        if len(per_pm):
            rows.append({"measure": "cost per person-month recovered by full funding (USD)",
                         **model.summarize(per_pm)})
        return pd.DataFrame(rows)


def run_analysis(state: State, scenario: dict, n_draws: int = 4000,
                 seed: int = 20231002, draws: dict | None = None,
                 setting: model.Setting | None = None) -> Analysis:
    """Every counterfactual for ``scenario`` with ``n_draws`` draws (common random numbers)."""
    setting = setting or build_setting(state, scenario)
    table = parameter_table(state.view, scenario)
    p = draws if draws is not None else sample_parameters(table, n_draws, seed)
    p = with_derived(p, setting)
    n = len(next(iter(p.values())))
    shocks = model.draw_shocks(n, len(setting.pledges), seed)
    fixed_off = frozenset(scenario.get("gates_off") or [])
    runs = {}
    for k in range(len(model.GATES) + 1):
        for removed in _subsets(model.GATES, k):
            gates = tuple(g for g in model.GATES if g not in removed | fixed_off)
            runs[frozenset(removed)] = model.simulate(setting, p, shocks, gates=gates)
    observed = observed_strength(state, scenario["mission"])
    return Analysis(scenario=scenario, setting=setting, parameters=table, draws=p, runs=runs,
                    observed=observed)


def _subsets(items, k):
    from itertools import combinations

    return [set(c) for c in combinations(items, k)]


# ---------------------------------------------------------------------------------------------
# Calibration, hold-out and backtest


def observed_on_grid(observed: pd.Series, setting: model.Setting) -> np.ndarray:
    """Observed month-end strength on the model's month grid (NaN where not observed)."""
    grid = np.full(setting.months, np.nan)
    for when, value in observed.items():
        idx = (when.year - setting.start.year) * 12 + when.month - setting.start.month
        if 0 <= idx < setting.months:
            grid[idx] = value
    return grid


def calibrate(state: State, scenario: dict, calibrate_until, n_prior: int = 20000,
              keep: float = 0.02, seed: int = 7, setting: model.Setting | None = None) -> dict:
    """Approximate Bayesian computation by rejection: draw parameters from their ranges, keep
    the ``keep`` share of draws whose strength path is closest (mean absolute error) to the
    observed months up to ``calibrate_until``; score the kept draws on the later months."""
    setting = setting or build_setting(state, scenario)
    table = parameter_table(state.view, scenario)
    prior = with_derived(sample_parameters(table, n_prior, seed), setting)
    shocks = model.draw_shocks(n_prior, len(setting.pledges), seed)
    gates = tuple(g for g in model.GATES if g not in set(scenario.get("gates_off") or []))
    run = model.simulate(setting, prior, shocks, gates=gates)
    obs = observed_on_grid(observed_strength(state, scenario["mission"]), setting)
    cut = as_timestamp(calibrate_until)
    month_idx = setting.month_index + pd.offsets.MonthEnd(0)
    fit_mask = ~np.isnan(obs) & (month_idx <= cut)
    hold_mask = ~np.isnan(obs) & (month_idx > cut)
    if fit_mask.sum() == 0:
        raise ParameterError(f"no observed strength to calibrate on before {cut.date()}")
    err = np.abs(run.deployed[:, fit_mask] - obs[fit_mask]).mean(axis=1)
    kept = np.argsort(err)[: max(int(n_prior * keep), 20)]
    posterior = {k: v[kept] for k, v in prior.items()}
    result = {"setting": setting, "posterior": posterior, "kept": len(kept), "prior": n_prior,
              "fit_mae": float(np.median(err[kept])), "observed": obs,
              "deployed": run.deployed[kept], "fit_mask": fit_mask, "hold_mask": hold_mask,
              "table": table}
    if hold_mask.any():
        paths_ = run.deployed[kept][:, hold_mask]
        lo, hi = np.quantile(paths_, [0.1, 0.9], axis=0)
        med = np.median(paths_, axis=0)
        result["holdout_months"] = int(hold_mask.sum())
        result["holdout_coverage_80"] = float(((obs[hold_mask] >= lo) & (obs[hold_mask] <= hi)).mean())
        result["holdout_mae"] = float(np.abs(med - obs[hold_mask]).mean())
        result["holdout_mape_pct"] = float((np.abs(med - obs[hold_mask]) / obs[hold_mask]).mean() * 100)
    return result


def posterior_summary(calibration: dict) -> pd.DataFrame:
    """Calibrated parameter values: posterior median and 80% band next to the prior range."""
    table = calibration["table"].set_index("name")
    rows = []
    for name, values in calibration["posterior"].items():
        if name not in table.index:
            continue
        rows.append({"parameter": name, "unit": table.loc[name, "unit"],
                     "prior_low": table.loc[name, "low"], "prior_high": table.loc[name, "high"],
                     "posterior_median": float(np.median(values)),
                     "posterior_p10": float(np.quantile(values, 0.1)),
                     "posterior_p90": float(np.quantile(values, 0.9))})
    return pd.DataFrame(rows)


def backtest(dataset: Dataset, scenario: dict, as_of, truth: State, n_prior: int = 20000,
             seed: int = 11) -> dict:
    """What the model would have said on ``as_of`` (calibrated only on facts known then),
    scored against the strength the data known on ``truth_as_of`` shows for later months."""
    as_of = as_timestamp(as_of)
    then_state = resolve_on(dataset, as_of)
    then = calibrate(then_state, scenario, as_of, n_prior=n_prior, seed=seed)
    latest = observed_on_grid(observed_strength(truth, scenario["mission"]),
                              then["setting"])
    months = then["setting"].month_index + pd.offsets.MonthEnd(0)
    future = ~np.isnan(latest) & (months > as_of)
    if not future.any():
        return {**then, "backtest_months": 0}
    paths_ = then["deployed"][:, future]
    lo, hi = np.quantile(paths_, [0.1, 0.9], axis=0)
    med = np.median(paths_, axis=0)
    truth = latest[future]
    return {**then, "backtest_months": int(future.sum()), "truth": truth,
            "backtest_coverage_80": float(((truth >= lo) & (truth <= hi)).mean()),
            "backtest_mae": float(np.abs(med - truth).mean()),
            "backtest_median_path": med, "backtest_months_index": months[future]}


# ---------------------------------------------------------------------------------------------
# Sensitivity


def _loss_for(scenario, setting, table, values: np.ndarray, seed: int) -> np.ndarray:
    """Person-months lost for each row of parameter values, with the random shocks held at
    their median (zero) for every row, so that the output depends on the parameters alone
    (otherwise shock noise shows up as spurious sensitivity)."""
    names = list(table["name"])
    p = with_derived({name: values[:, i] for i, name in enumerate(names)}, setting)
    n, c = values.shape[0], len(setting.pledges)
    shocks = {"z_common": np.zeros(n), "z_own": np.zeros((n, c)), "z_lag": np.zeros((n, c))}
    gates = tuple(g for g in model.GATES if g not in set(scenario.get("gates_off") or []))
    run = model.simulate(setting, p, shocks, gates=gates)
    return model.person_months_lost(run.deployed, np.full(run.deployed.shape, setting.ceiling))


def sensitivity(state: State, scenario: dict, sobol_n: int = 512, seed: int = 3,
                center: dict[str, float] | None = None,
                setting: model.Setting | None = None) -> dict[str, pd.DataFrame]:
    """Global sensitivity of person-months lost (against the instant ceiling) to every
    parameter that varies: Morris screening, Sobol first-order and total indices (SALib), and
    a one-at-a-time tornado around ``center`` (the calibrated medians; default the central
    values) as the readable summary."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    setting = setting or build_setting(state, scenario)
    table = parameter_table(state.view, scenario)
    varying = table[table["high"] > table["low"]]
    fixed = table[table["high"] <= table["low"]]
    problem = {"num_vars": len(varying), "names": list(varying["name"]),
               "bounds": varying[["low", "high"]].to_numpy(float).tolist()}

    def evaluate(x: np.ndarray) -> np.ndarray:
        full = np.empty((x.shape[0], len(table)))
        for i, name in enumerate(table["name"]):
            if name in problem["names"]:
                full[:, i] = x[:, problem["names"].index(name)]
            else:
                full[:, i] = float(fixed.set_index("name").loc[name, "central"])
        return _loss_for(scenario, setting, table, full, seed)

    x_m = morris_sample.sample(problem, N=200, num_levels=4, seed=seed)
    m = morris_analyze.analyze(problem, x_m, evaluate(x_m), num_levels=4, seed=seed)
    x_s = sobol_sample.sample(problem, sobol_n, calc_second_order=False, seed=seed)
    s = sobol_analyze.analyze(problem, evaluate(x_s), calc_second_order=False, seed=seed)
    indices = pd.DataFrame({"parameter": problem["names"], "morris_mu_star": m["mu_star"],
                            "morris_sigma": m["sigma"], "sobol_first": s["S1"],
                            "sobol_total": s["ST"], "sobol_total_conf": s["ST_conf"]})
    indices = indices.sort_values("sobol_total", ascending=False).reset_index(drop=True)
    centre = np.array([[float((center or {}).get(name, central))
                        for name, central in zip(table["name"], table["central"], strict=True)]])
    rows = []
    base = float(_loss_for(scenario, setting, table, centre, seed)[0])
    for name in problem["names"]:
        i = list(table["name"]).index(name)
        lo, hi = centre.copy(), centre.copy()
        lo[0, i] = table.loc[i, "low"]
        hi[0, i] = table.loc[i, "high"]
        at_low = float(_loss_for(scenario, setting, table, lo, seed)[0])
        at_high = float(_loss_for(scenario, setting, table, hi, seed)[0])
        rows.append({"parameter": name, "at_low": at_low, "at_high": at_high,
                     "central_result": base})
    tornado = pd.DataFrame(rows)
    tornado["swing"] = (tornado["at_high"] - tornado["at_low"]).abs()
    tornado = tornado.sort_values("swing", ascending=False).reset_index(drop=True)
    return {"indices": indices, "tornado": tornado, "evaluations": len(x_m) + len(x_s)}


# ---------------------------------------------------------------------------------------------
# Everything the model report shows


@dataclass
class ModelReport:
    """Calibration, counterfactual analysis, backtest and sensitivity for one scenario."""

    scenario: dict
    as_of: pd.Timestamp
    calibration: dict
    analysis: Analysis
    backtest: dict | None
    sensitivity: dict[str, pd.DataFrame]


BACKTEST_DATE = "2024-09-30"  # the renewal vote: what the model would have said that day


def model_report(dataset: Dataset, state: State, scenario_name: str, n_prior: int = 20000,
                 seed: int = 20231002, sobol_n: int = 256) -> ModelReport:
    """Run the whole model for a report on a resolved ``state``. An observed scenario is
    calibrated on the reconciled strength (up to its ``calibrate_until``) and scored on later
    months; a projection borrows the posterior of the scenario it names in ``calibrated_on``
    (default: the MSS), with its own overrides redrawn from their ranges. ``dataset`` is only
    used to resolve the backtest date's own state."""
    as_of = state.as_of
    scenario = load_scenario(scenario_name)
    setting = build_setting(state, scenario)
    if scenario.get("projection"):
        base = load_scenario(scenario.get("calibrated_on", "mss-observed"))
        until = min(as_timestamp(base["calibrate_until"]), as_of)
        cal = calibrate(state, base, until, n_prior=n_prior, seed=seed)
        draws = dict(cal["posterior"])
        table = parameter_table(state.view, scenario)
        fresh = sample_parameters(table, len(next(iter(draws.values()))), seed + 1)
        for name in scenario.get("overrides") or {}:
            draws[name] = fresh[name]
        result = run_analysis(state, scenario, draws=draws, seed=seed, setting=setting)
        back = None
    else:
        until = min(as_timestamp(scenario["calibrate_until"]), as_of)
        cal = calibrate(state, scenario, until, n_prior=n_prior, seed=seed, setting=setting)
        result = run_analysis(state, scenario, draws=cal["posterior"], seed=seed,
                              setting=setting)
        back_date = as_timestamp(BACKTEST_DATE)
        back = (backtest(dataset, scenario, back_date, state, n_prior=n_prior, seed=seed)
                if as_of >= back_date + pd.DateOffset(months=3) else None)
    medians = {k: float(np.median(v)) for k, v in result.draws.items()}
    sens = sensitivity(state, scenario, sobol_n=sobol_n, seed=seed, center=medians,
                       setting=setting)
    return ModelReport(scenario=scenario, as_of=as_of, calibration=cal, analysis=result,
                       backtest=back, sensitivity=sens)


# ---------------------------------------------------------------------------------------------
# Tables a report shows


def _band_columns(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"median": "Median", "p10": "80% low", "p90": "80% high",
                                 "p2_5": "95% low", "p97_5": "95% high"})


def pml_table(a: Analysis) -> pd.DataFrame:
    return _band_columns(a.person_months_lost().rename(columns={"reference": "Reference path"}))


def split_table(split: pd.DataFrame) -> pd.DataFrame:
    return _band_columns(split.rename(columns={"cause": "Cause", "share_pct": "Share of the mean loss (%)"}))


def density_table(a: Analysis) -> pd.DataFrame:
    return _band_columns(a.density().rename(columns={"benchmark": "Benchmark",
                                                     "per_1000": "Per 1,000"}))


def money_table(a: Analysis) -> pd.DataFrame:
    return _band_columns(a.money().rename(columns={"measure": "Measure"}))


def sensitivity_table(sens: dict) -> pd.DataFrame:
    return sens["indices"].rename(columns={
        "parameter": "Parameter", "morris_mu_star": "Morris mu*", "morris_sigma": "Morris sigma",
        "sobol_first": "Sobol first-order", "sobol_total": "Sobol total",
        "sobol_total_conf": "Sobol total ± (95%)"})


def parameter_sources(table: pd.DataFrame) -> list[str]:
    return sorted(set(table["source_id"].dropna()))


def parameter_display(table: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """The parameter table with a link to each parameter's source, or 'assumption'."""
    from html import escape

    urls = sources.set_index("source_id")
    links = []
    for r in table.itertuples():
        if isinstance(r.source_id, str) and r.source_id in urls.index:
            s = urls.loc[r.source_id]
            links.append(f'<a href="{escape(s["url"])}">{escape(s["publisher"])}</a> ({r.basis})')
        else:
            links.append(escape(r.basis))
    return pd.DataFrame({
        "Parameter": table["name"], "Central": table["central"], "Low": table["low"],
        "High": table["high"], "Unit": table["unit"], "Source": links,
        "How": table["derivation"], "Overridden by": table["overridden_by"].replace("", None),
    })


def headline(report: ModelReport) -> dict:
    """The model's headline outputs with bands, for summary.json."""
    a = report.analysis
    cal = report.calibration
    out = {
        "scenario": report.scenario["name"], "projection": bool(report.scenario.get("projection")),
        "draws": len(next(iter(a.draws.values()))),
        "person_months_lost": a.person_months_lost().set_index("reference").to_dict(orient="index"),
        "loss_split": a.loss_split().set_index("cause").to_dict(orient="index"),
        "months_below_benchmarks": a.density().set_index("benchmark").to_dict(orient="index"),
        "money": a.money().set_index("measure").to_dict(orient="index"),
        "calibration": {k: cal[k] for k in ("kept", "prior", "fit_mae", "holdout_months",
                                             "holdout_coverage_80", "holdout_mae") if k in cal},
        "calibrated_parameters": posterior_summary(cal).set_index("parameter")[
            ["posterior_median", "posterior_p10", "posterior_p90"]].to_dict(orient="index"),
    }
    if report.backtest is not None and report.backtest.get("backtest_months"):
        out["backtest"] = {k: report.backtest[k] for k in
                           ("backtest_months", "backtest_coverage_80", "backtest_mae")}
    return out
