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
        # An override carries its own source (or is an assumption), never the replaced row's.
        table.loc[name, "source_id"] = values.get("source_id")
        table.loc[name, "basis"] = values.get("basis", "assumption")
    return table.reset_index()


def benchmarks(table: pd.DataFrame) -> dict[str, float]:
    """Force-density benchmarks (per 1,000 residents) from the parameter table."""
    rows = table[table["name"].str.startswith("benchmark_")]
    return {r.description: float(r.central) for r in rows.itertuples()}


def sample_parameters(table: pd.DataFrame, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` Latin-hypercube draws, uniform between each parameter's low and high."""
    from .calibration import latin_hypercube

    names = list(table["name"])
    unit = latin_hypercube(n, len(names), seed)
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
    # The model's money is the mission's own: a successor starts without its predecessor's
    # deposits (what was left at the handover is not known).
    tf = funding.monthly_trust_fund(state, mission, carried=False)
    receipts = np.zeros(months)
    # A projection counts the money promised to the force's fund as arriving when promised
    # (funding_scale then stands for the share that arrives); an observed run counts deposits.
    column = "promised_usd" if scenario.get("projection") else "received_usd"
    if len(tf):
        received = tf.set_index("month_end")[column].astype(float)
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
        # Runway only means something while money is being spent: a mission with no one
        # left on the ground has no runway, not an infinite one.
        spending = base.spent[:, -1] > 0
        runway = base.balance[spending, -1] / base.spent[spending, -1]
        share = self.draws["tf_share"][:, None]
        gap = (share * full.cost).sum(axis=1) - base.receipts.sum(axis=1)
        recovered = (model.person_months_lost(base.deployed, full.deployed))
        extra_cost = full.cost.sum(axis=1) - base.cost.sum(axis=1)
        per_pm = np.where(recovered > 0, extra_cost / np.maximum(recovered, 1e-9), np.nan)
        per_pm = per_pm[np.isfinite(per_pm)]
        rows = []
        if spending.mean() >= 0.5:
            rows.append({"measure": "Months the trust fund's money would last at the last "
                                    "month's spending", **model.summarize(runway)})
        rows += [
            {"measure": "Trust-fund money still needed to pay its share of full strength "
                        "(US dollars)", **model.summarize(np.maximum(gap, 0.0))},
            {"measure": "Costs the trust fund could not pay (US dollars)",
             **model.summarize(base.unpaid.sum(axis=1))},
        ]
        if len(per_pm):
            rows.append({"measure": "Cost of each person-month gained by full funding "
                                    "(US dollars)", **model.summarize(per_pm)})
        return pd.DataFrame(rows)


def run_analysis(state: State, scenario: dict, n_draws: int = 4000,
                 seed: int = 20231002, draws: dict | None = None,
                 shocks: dict | None = None, setting: model.Setting | None = None) -> Analysis:
    """Every counterfactual for ``scenario``. With ``draws`` and ``shocks`` (a calibrated
    posterior's accepted pairs) the runs use exactly those pairs; without, ``n_draws`` prior
    draws with fresh shocks."""
    setting = setting or build_setting(state, scenario)
    table = parameter_table(state.view, scenario)
    p = draws if draws is not None else sample_parameters(table, n_draws, seed)
    p = with_derived(p, setting)
    n = len(next(iter(p.values())))
    if shocks is None:
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


def observed_on_grid(observed: pd.Series, setting: model.Setting) -> np.ndarray:
    """Observed month-end strength on the model's month grid (NaN where not observed)."""
    grid = np.full(setting.months, np.nan)
    for when, value in observed.items():
        idx = (when.year - setting.start.year) * 12 + when.month - setting.start.month
        if 0 <= idx < setting.months:
            grid[idx] = value
    return grid


# ---------------------------------------------------------------------------------------------
# Calibration, hold-out and backtest


def frozen_series(state: State, mission: str, setting: model.Setting) -> np.ndarray:
    """Cash frozen in the trust fund by month (e.g. the US stop-work order of February 2025):
    each instrument's latest frozen amount from the date it was reported."""
    tf = state.money[(state.money["channel"] == "un_trust_fund")
                     & (state.money["mission"] == mission) & (state.money["status"] == "frozen")
                     & (state.money["scope"] == "flow")]
    out = np.zeros(setting.months)
    months = setting.month_index + pd.offsets.MonthEnd(0)
    for _, own in tf.groupby("group_id"):
        own = own.sort_values("date")
        for i, m in enumerate(months):
            upto = own[own["date"] <= m]
            if len(upto):
                out[i] += float(upto.iloc[-1]["amount_usd"])
    return out


def calibrate(state: State, scenario: dict, calibrate_until, n_prior: int = 20000,
              seed: int = 7, setting: model.Setting | None = None) -> dict:
    """ABC-SMC on the reconciled series up to ``calibrate_until`` (see
    :mod:`haiti_mss.calibration`), and the hold-out scores of the fitted paths on the later
    observed months, against the naive forecasts and against the uncalibrated prior."""
    from . import calibration, scoring

    setting = setting or build_setting(state, scenario)
    table = parameter_table(state.view, scenario)
    gates = tuple(g for g in model.GATES if g not in set(scenario.get("gates_off") or []))
    cut = as_timestamp(calibrate_until)
    obs = calibration.target(state, setting, scenario["mission"], cut)
    particles = max(200, n_prior // 20)
    post = calibration.abc_smc(setting, table, obs, gates=gates, n_particles=particles,
                               generations=4, seed=seed, prior_factor=max(5, n_prior // particles))
    run = model.simulate(setting, post.params, post.shocks, gates=gates)
    months = setting.month_index + pd.offsets.MonthEnd(0)
    hold = ~np.isnan(obs.total) & (months > cut)
    result = {"setting": setting, "posterior": post.params, "shocks": post.shocks,
              "kept": post.n, "prior": n_prior, "simulations": post.simulations,
              "schedule": post.schedule, "fit_mae": float(np.median(post.distances)),
              "observed": obs.total, "deployed": run.deployed, "fit_mask": obs.fit,
              "hold_mask": hold, "table": table, "until": cut}
    if hold.any():
        history = obs.total[obs.fit]
        last = int(np.flatnonzero(obs.fit).max())
        horizon = np.flatnonzero(hold) - last
        truth = obs.total[hold]
        result["holdout"] = scoring.compare(run.deployed[:, hold], history, horizon, truth)
        prior_p, prior_s = calibration.prior_sample(setting, table, particles, seed + 99)
        prior_run = model.simulate(setting, prior_p, prior_s, gates=gates)
        result["holdout_prior"] = scoring.scores(prior_run.deployed[:, hold], truth)
        result["holdout_months"] = int(hold.sum())
        result["holdout_coverage_80"] = result["holdout"]["model"]["coverage_80"]
        result["holdout_mae"] = result["holdout"]["model"]["median_abs_error"]
    return result


def posterior_summary(calibration: dict) -> pd.DataFrame:
    """Calibrated parameter values: posterior median and 80% band next to the prior range,
    and how much the data narrowed it (posterior 80% width over the prior's)."""
    table = calibration["table"].drop_duplicates("name").set_index("name")
    rows = []
    for name, values in calibration["posterior"].items():
        if name not in table.index or table.loc[name, "high"] <= table.loc[name, "low"]:
            continue
        lo, hi = float(table.loc[name, "low"]), float(table.loc[name, "high"])
        p10, p90 = float(np.quantile(values, 0.1)), float(np.quantile(values, 0.9))
        rows.append({"parameter": name, "unit": table.loc[name, "unit"],
                     "prior_low": lo, "prior_high": hi,
                     "posterior_median": float(np.median(values)),
                     "posterior_p10": p10, "posterior_p90": p90,
                     "narrowed_to_pct": (p90 - p10) / (0.8 * (hi - lo)) * 100})
    return pd.DataFrame(rows)


def backtest(dataset: Dataset, scenario: dict, as_of, truth: State, n_prior: int = 20000,
             seed: int = 11) -> dict:
    """What the model would have said on ``as_of``, using only the data, parameters and
    parameter sources known then, scored against the reconciled strength the data known on
    ``truth``'s date shows for the months after, with the naive forecasts beside it."""
    from . import scoring

    as_of = as_timestamp(as_of)
    then_state = resolve_on(dataset, as_of)
    then = calibrate(then_state, scenario, as_of, n_prior=n_prior, seed=seed)
    setting = then["setting"]
    latest = observed_on_grid(observed_strength(truth, scenario["mission"]), setting)
    months = setting.month_index + pd.offsets.MonthEnd(0)
    future = ~np.isnan(latest) & (months > as_of)
    if not future.any():
        return {**then, "backtest_months": 0}
    history = then["observed"][then["fit_mask"]]
    last = int(np.flatnonzero(then["fit_mask"]).max())
    horizon = np.flatnonzero(future) - last
    paths_ = then["deployed"][:, future]
    truth_values = latest[future]
    return {**then, "backtest_months": int(future.sum()), "truth": truth_values,
            "backtest": scoring.compare(paths_, history, horizon, truth_values),
            "backtest_coverage_80": scoring.scores(paths_, truth_values)["coverage_80"],
            "backtest_mae": scoring.scores(paths_, truth_values)["median_abs_error"],
            "backtest_median_path": np.median(paths_, axis=0),
            "backtest_months_index": months[future]}


# ---------------------------------------------------------------------------------------------
# What the split rests on: recovery from a synthetic truth, structural variants


def split_shares(setting, p, shocks, gates_off=()) -> dict[str, float]:
    """Shares (percent of the mean loss against the no-gate path) of funding, pledges and
    logistics, on the given (parameter, shock) pairs."""
    fixed_off = frozenset(gates_off)
    runs = {}
    for k in range(len(model.GATES) + 1):
        for removed in _subsets(model.GATES, k):
            gates = tuple(g for g in model.GATES if g not in set(removed) | fixed_off)
            runs[frozenset(removed)] = model.simulate(setting, p, shocks, gates=gates).deployed
    base = runs[frozenset(model.GATES)]
    pml = {k: model.person_months_lost(v, base) for k, v in runs.items()}
    shares = model.shapley_split(pml)
    total = max(float(np.mean(pml[frozenset()])), 1e-9)
    return {c: float(np.mean(v)) / total * 100 for c, v in shares.items()}


def identification(state: State, scenario: dict, cal: dict, n_truths: int = 2,
                   seed: int = 41) -> dict:
    """Can the data tell the causes apart? For ``n_truths`` synthetic truths (particles of the
    posterior), simulate a series as if observed, calibrate on it the same way, and compare the
    split the recovered posterior gives with the truth's own split; and recompute the split
    under structural variants of the assumptions the data cannot pin down (the annual cost,
    the early base capacity). The split is called identified when the mean recovery error is
    under 10 points and the variants move no share by more than 20 points."""
    from . import calibration

    setting = cal["setting"]
    table = cal["table"]
    gates = tuple(g for g in model.GATES if g not in set(scenario.get("gates_off") or []))
    rng = np.random.default_rng(seed)
    post, shocks = cal["posterior"], cal["shocks"]
    errors = []
    for _ in range(n_truths):
        i = int(rng.integers(len(post["lag_mean"])))
        true_p = {k: v[i:i + 1] for k, v in post.items()}
        true_s = model.take(shocks, slice(i, i + 1))
        sim = model.simulate(setting, true_p, true_s, gates=gates, track_contributors=True)
        fake = calibration.Target(fit=cal["fit_mask"] | cal["hold_mask"],
                                  total=np.where(~np.isnan(cal["observed"]), sim.deployed[0],
                                                 np.nan),
                                  by_contributor=sim.by_contributor[0])
        rec = calibration.abc_smc(setting, table, fake, gates=gates, n_particles=200,
                                  generations=3, seed=int(rng.integers(2**31)), prior_factor=8)
        truth_split = split_shares(setting, true_p, true_s, scenario.get("gates_off") or ())
        got = split_shares(setting, rec.params, rec.shocks, scenario.get("gates_off") or ())
        errors.append(float(np.mean([abs(truth_split[c] - got[c]) for c in truth_split])))
    variants = {}
    base = split_shares(setting, post, shocks, scenario.get("gates_off") or ())
    for label, over in (("annual cost 200 million", {"annual_cost_full": 200e6}),
                        ("annual cost 600 million", {"annual_cost_full": 600e6}),
                        ("early base capacity 2,500", {"base_capacity_early": 2500.0})):
        p = dict(post)
        for k, v in over.items():
            p[k] = np.full_like(p[k], v)
        variants[label] = split_shares(setting, with_derived(p, setting), shocks,
                                       scenario.get("gates_off") or ())
    spread = max(max(v[c] for v in variants.values()) - min(v[c] for v in variants.values())
                 for c in base)
    error = float(np.mean(errors))
    return {"recovery_error_points": error, "recovery_errors": errors, "base": base,
            "variants": variants, "variant_spread_points": float(spread),
            "identified": bool(error < 10 and spread < 20)}


# ---------------------------------------------------------------------------------------------
# Sensitivity of what the report states, over the posterior with shocks drawn


def spearman(x, y) -> float:
    """Spearman's rank correlation: Pearson's on the ranks (ties share their mean rank), as
    ``scipy.stats.spearmanr`` computes it; from pandas ranks and NumPy, since pandas' own
    ``corr(method="spearman")`` imports ``scipy.stats`` (about 0.7 s per report kernel)."""
    return float(np.corrcoef(pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy())[0, 1])


def sensitivity(a: Analysis) -> pd.DataFrame:
    """How strongly each calibrated parameter moves what the report states, across the
    posterior's own (parameter, shock) pairs: Spearman rank correlations with the loss against
    the instant path, the gain from full funding and the total loss to the three causes."""
    base = a.baseline.deployed
    outputs = {
        "loss against the planned strength from the first day":
            model.person_months_lost(base, np.full(base.shape, a.setting.ceiling)),
        "gain from full funding": model.person_months_lost(
            base, a.runs[frozenset({"funding"})].deployed),
        "loss to the three causes together": model.person_months_lost(
            base, a.runs[frozenset(model.GATES)].deployed),
    }
    table = a.parameters.drop_duplicates("name").set_index("name")
    rows = []
    for name in table.index:
        if table.loc[name, "high"] <= table.loc[name, "low"] or name not in a.draws:
            continue
        x = a.draws[name]
        row = {"parameter": name}
        for label, y in outputs.items():
            rho = spearman(x, y) if np.std(x) > 0 and np.std(y) > 0 else 0.0
            row[label] = float(0.0 if np.isnan(rho) else rho)
        rows.append(row)
    out = pd.DataFrame(rows)
    if not out.empty:
        out["largest"] = out.drop(columns="parameter").abs().max(axis=1)
        out = out.sort_values("largest", ascending=False).drop(columns="largest")
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Everything the model report shows


@dataclass
class ModelReport:
    """Calibration, counterfactuals, validation, backtest, reference classes, identification
    and sensitivity for one scenario."""

    scenario: dict
    as_of: pd.Timestamp
    calibration: dict
    analysis: Analysis
    backtest: dict | None
    sensitivity: pd.DataFrame
    identification: dict | None = None
    facts: dict | None = None
    references: pd.DataFrame | None = None
    out_of_sample: pd.DataFrame | None = None

    @property
    def validated(self) -> bool | None:
        """True when the model beats every naive forecast on CRPS in the hold-out and in the
        backtest (where there is one); None when nothing could be scored yet."""
        from .scoring import beats_naive

        checks = [self.calibration.get("holdout")]
        if self.backtest is not None and self.backtest.get("backtest"):
            checks.append(self.backtest["backtest"])
        checks = [c for c in checks if c]
        if not checks:
            return None
        return all(beats_naive(c) for c in checks)


BACKTEST_DATE = "2024-09-30"  # the renewal vote: what the model would have said that day


def model_report(dataset: Dataset, state: State, scenario_name: str, n_prior: int = 20000,
                 seed: int = 20231002, identify: bool = True) -> ModelReport:
    """Run the whole model for a report on a resolved ``state``. An observed scenario is
    calibrated by ABC-SMC on the reconciled strength (up to its ``calibrate_until``) and scored
    on the later months against naive forecasts; a projection borrows the posterior of the
    scenario it names in ``calibrated_on`` (default: the MSS), with its own overrides redrawn
    from their ranges. Every figure runs on the accepted (parameter, shock) pairs."""
    from . import reference

    as_of = state.as_of
    scenario = load_scenario(scenario_name)
    specs.check_draws(f"scenario {scenario_name}", n_prior, int(scenario["months"]))
    setting = build_setting(state, scenario)
    setting = model.Setting(**{**setting.__dict__,
                               "frozen": frozen_series(state, scenario["mission"], setting)})
    back = ident = None
    if scenario.get("projection"):
        base = load_scenario(scenario.get("calibrated_on", "mss-observed"))
        until = min(as_timestamp(base["calibrate_until"]), as_of)
        # The very model, setting included, that the base scenario's own report calibrates
        # and scores: the GSF report shows the same test as the MSS report, not a variant.
        base_setting = build_setting(state, base)
        base_setting = model.Setting(**{**base_setting.__dict__, "frozen": frozen_series(
            state, base["mission"], base_setting)})
        cal = calibrate(state, base, until, n_prior=n_prior, seed=seed, setting=base_setting)
        draws = dict(cal["posterior"])
        table = parameter_table(state.view, scenario)
        fresh = sample_parameters(table, len(next(iter(draws.values()))), seed + 1)
        for name in scenario.get("overrides") or {}:
            draws[name] = fresh[name]
        # The posterior's shocks belong to the MSS's contributors; the GSF's own pledges get
        # their own random numbers, the shared shock kept.
        n = len(draws["lag_mean"])
        shocks = model.draw_shocks(n, len(setting.pledges), seed + 2)
        shocks["z_common"] = cal["shocks"]["z_common"]
        result = run_analysis(state, scenario, draws=draws, shocks=shocks, seed=seed,
                              setting=setting)
    else:
        until = min(as_timestamp(scenario["calibrate_until"]), as_of)
        cal = calibrate(state, scenario, until, n_prior=n_prior, seed=seed, setting=setting)
        result = run_analysis(state, scenario, draws=cal["posterior"], shocks=cal["shocks"],
                              seed=seed, setting=setting)
        back_date = as_timestamp(BACKTEST_DATE)
        if as_of >= back_date + pd.DateOffset(months=3):
            back = backtest(dataset, scenario, back_date, state, n_prior=n_prior, seed=seed)
        if identify:
            ident = identification(state, scenario, cal)
    planned = float(setting.ceiling)
    facts = refs = oos = None
    if dataset.reference_points is not None and not scenario.get("projection"):
        facts = reference.observed_facts(state, scenario["mission"], planned)
        refs = reference.shortfall_against_references(state, scenario["mission"], planned,
                                                      dataset)
        oos = pd.concat([reference.out_of_sample(dataset, cal["posterior"], label="calibrated"),
                         reference.out_of_sample(dataset, sample_parameters(
                             cal["table"].drop_duplicates("name"), 1000, seed + 5),
                             label="prior")], ignore_index=True)
    return ModelReport(scenario=scenario, as_of=as_of, calibration=cal, analysis=result,
                       backtest=back, sensitivity=sensitivity(result), identification=ident,
                       facts=facts, references=refs, out_of_sample=oos)


def what_if(report: ModelReport, *, funding_scale: float = 1.0, pledges_kept: float | None = None,
            lag_shift: float = 0.0, n: int = 2000, seed: int = 3) -> pd.DataFrame:
    """A quick counterfactual on the calibrated posterior for interactive use: scale the trust
    fund's receipts, set the share of each pledge that is kept, shift the lags (months).
    Returns the median and 80% band of strength per month."""
    a = report.analysis
    rng = np.random.default_rng(seed)
    size = len(a.draws["lag_mean"])
    idx = rng.integers(size, size=n)
    p = {k: v[idx] for k, v in a.draws.items()}
    shocks = model.take(report.calibration["shocks"], idx) \
        if not report.scenario.get("projection") else model.draw_shocks(
            n, len(a.setting.pledges), seed)
    p["funding_scale"] = p["funding_scale"] * funding_scale
    if pledges_kept is not None:
        p["fulfil_mean"] = np.full(n, min(max(pledges_kept, 1e-6), 1 - 1e-6))
        p["fulfil_shock_sd"] = np.zeros(n)
        p["fulfil_own_sd"] = np.zeros(n)
    p["lag_min"] = np.maximum(p["lag_min"] + lag_shift, 0.0)
    p["lag_mean"] = np.maximum(p["lag_mean"] + lag_shift, p["lag_min"])
    gates = tuple(g for g in model.GATES if g not in set(report.scenario.get("gates_off") or []))
    run = model.simulate(a.setting, p, shocks, gates=gates)
    out = model.bands(run.deployed, levels=(0.8,))
    out.insert(0, "month", a.setting.month_index)
    return out


# ---------------------------------------------------------------------------------------------
# Tables a report shows


def _band_columns(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"median": "Median", "p10": "80% low", "p90": "80% high",
                                 "p2_5": "95% low", "p97_5": "95% high"})


PATH_LABELS = {
    "instant ceiling": "Full planned strength from the first day (arithmetic, not a standard)",
    "full funding, realistic lags": "Had the money been there (everything else as it was)",
    "all pledges kept": "Had every pledge been kept in full",
    "no gate (funding, pledges, logistics)": "Had money, pledges and bases all been there",
}


def parameter_labels(table: pd.DataFrame) -> dict[str, str]:
    """Parameter name -> the plain description a reader sees (from model_parameters.csv)."""
    rows = table.drop_duplicates("name")
    return {n: (d if isinstance(d, str) and d else n).rstrip(".")
            for n, d in zip(rows["name"], rows["description"], strict=True)}


def pml_table(a: Analysis) -> pd.DataFrame:
    # The gap to full strength from the first day is arithmetic on the record, shown once
    # (in the section on other missions), not again with model bands.
    out = a.person_months_lost()
    out = out[out["reference"] != "instant ceiling"]
    out["reference"] = out["reference"].map(lambda r: PATH_LABELS.get(r, r))
    return _band_columns(out.rename(columns={"reference": "Had things gone otherwise"})).round(0)


def split_table(split: pd.DataFrame) -> pd.DataFrame:
    return _band_columns(split.rename(columns={"cause": "Cause", "share_pct": "Share of the mean loss (%)"}))


def density_table(a: Analysis) -> pd.DataFrame:
    return _band_columns(a.density().rename(columns={"benchmark": "Benchmark",
                                                     "per_1000": "Per 1,000"}))


def money_table(a: Analysis) -> pd.DataFrame:
    return _band_columns(a.money().rename(columns={"measure": "Measure"})).round(0)


def sensitivity_table(sens: pd.DataFrame, labels: dict[str, str] | None = None,
                      top: int = 10) -> pd.DataFrame:
    """The assumptions that move the estimates most (by the largest correlation), in words."""
    labels = labels or {}
    values = sens.drop(columns=["parameter"])
    order = values.abs().max(axis=1).sort_values(ascending=False).index[:top]
    out = sens.loc[order].copy()
    out["parameter"] = out["parameter"].map(lambda n: labels.get(n, n))
    return out.rename(columns={"parameter": "Assumption"}).round(2).reset_index(drop=True)


def readable_number(v) -> str:
    """A parameter value as a reader writes it: 400,000,000; 1,500; 0.4; 0.015."""
    if v is None or pd.isna(v):
        return "not set"
    v = float(v)
    if abs(v) >= 100 or v == int(v):
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:,.1f}"
    return f"{v:.2g}"


def posterior_display(calibration: dict, labels: dict[str, str]) -> pd.DataFrame:
    """The calibrated assumptions in words: the range assumed, where the data put it, and
    whether it narrowed it (its 80% range less than 70% of the prior's)."""
    t = posterior_summary(calibration)

    fmt = readable_number

    return pd.DataFrame({
        "Assumption": t["parameter"].map(lambda n: labels.get(n, n)),
        "Unit": t["unit"].str.replace("_", " "),
        "Assumed before fitting": [f"{fmt(a)} to {fmt(b)}" for a, b in
                                   zip(t["prior_low"], t["prior_high"], strict=True)],
        "After fitting: middle (80% range)": [
            f"{fmt(m)} ({fmt(a)} to {fmt(b)})" for m, a, b in
            zip(t["posterior_median"], t["posterior_p10"], t["posterior_p90"], strict=True)],
        "Did the record narrow it?": t["narrowed_to_pct"].map(
            lambda v: "yes" if v < 70 else ("a little" if v < 90 else "no")),
    })


VALIDATION_KEYS = ("crps", "interval_score_80", "coverage_80", "width_80")


def validation_block(report: ModelReport) -> dict:
    """``{holdout,backtest}.{model,last_value,linear_trend,random_walk}.{crps,
    interval_score_80,coverage_80,width_80}`` (only what could be scored)."""
    out = {}
    for key, table in (("holdout", report.calibration.get("holdout")),
                       ("backtest", (report.backtest or {}).get("backtest"))):
        if table:
            out[key] = {who: {k: v[k] for k in VALIDATION_KEYS} for who, v in table.items()}
            out[key]["months"] = table["model"]["months"]
    return out


def scores_table(report: ModelReport) -> pd.DataFrame:
    """The validation scores as a report shows them."""
    names = {"model": "The model", "last_value": "Last value carried forward",
             "linear_trend": "Linear trend", "random_walk": "Random walk (bootstrapped steps)"}
    rows = []
    for key, label in (("holdout", "hold-out"), ("backtest", "backtest from 30 Sep 2024")):
        table = validation_block(report).get(key)
        if not table:
            continue
        for who, name in names.items():
            v = table[who]
            rows.append({"Test": label, "Forecast": name, "CRPS (people)": round(v["crps"]),
                         "80% interval score": round(v["interval_score_80"]),
                         "80% coverage (%)": round(v["coverage_80"] * 100),
                         "80% band width (people)": round(v["width_80"])})
    return pd.DataFrame(rows)


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
    # A fallback row says nothing of the later source it stands in for (no hindsight).
    how = table["derivation"].fillna("").str.replace(
        r"^Fallback for a report dated before the main row's source was published \(or when "
        r"that page is undated\): ", "", regex=True)
    how = how.where(table["overridden_by"] == "", "Set for this projection: " + how)
    return pd.DataFrame({
        "Assumption": table["description"].fillna(table["name"]).str.rstrip("."),
        "Central": table["central"].map(readable_number), "Low": table["low"].map(readable_number),
        "High": table["high"].map(readable_number), "Unit": table["unit"].str.replace("_", " "),
        "Source": links,
        "How it was set": how,
    })


def headline(report: ModelReport) -> dict:
    """The model's headline outputs with bands, for summary.json."""
    a = report.analysis
    cal = report.calibration
    out = {
        "scenario": report.scenario["name"], "projection": bool(report.scenario.get("projection")),
        "draws": len(next(iter(a.draws.values()))),
        "validated": report.validated,
        "validation": validation_block(report),
        "person_months_lost": a.person_months_lost().set_index("reference").to_dict(orient="index"),
        "loss_split": a.loss_split().set_index("cause").to_dict(orient="index"),
        "months_below_benchmarks": a.density().set_index("benchmark").to_dict(orient="index"),
        "money": a.money().set_index("measure").to_dict(orient="index"),
        "calibration": {"method": "ABC-SMC", "particles": cal["kept"],
                        "simulations": cal["simulations"], "fit_mae": cal["fit_mae"],
                        "tolerances": [g["tolerance"] for g in cal["schedule"]],
                        "holdout_months": cal.get("holdout_months", 0)},
        "calibrated_parameters": posterior_summary(cal).set_index("parameter")[
            ["posterior_median", "posterior_p10", "posterior_p90", "narrowed_to_pct"]
        ].to_dict(orient="index"),
    }
    if report.identification:
        ident = report.identification
        out["split_identified"] = ident["identified"]
        out["split_recovery_error_points"] = ident["recovery_error_points"]
        out["split_variants"] = ident["variants"]
    if report.facts:
        out["observed_facts"] = report.facts
    if report.references is not None:
        out["shortfall_against_references"] = report.references.set_index("path")[
            "person_months"].to_dict()
    if report.out_of_sample is not None:
        out["out_of_sample"] = report.out_of_sample.to_dict(orient="records")
    return out
