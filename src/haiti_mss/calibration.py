"""Calibrating the shortfall model: approximate Bayesian computation by sequential Monte Carlo
(ABC-SMC, Beaumont et al. 2009; Del Moral et al. 2012's adaptive tolerance), vectorized over the
model's draws.

The model is stochastic, so a parameter value only fits together with the random numbers it
was simulated with: every accepted particle keeps its own (parameters, shocks) pair, and the
counterfactuals, bands and scores are computed on exactly those pairs.

Why not pyABC: measured here, ``import pyabc`` takes 7.6 s and its samplers call the model
once per particle, while this model runs 100,000 draws in one vectorized call. The algorithm
below is the textbook one; its tolerance schedule, acceptance rates and effective sample size
are returned and printed in the report.

What the model is fitted to: the reconciled month-end strength of the mission (the stated
mission total where sources gave one, rolled forward by the contributors' flows), including
the true zeros before the first arrival, and each pledging contributor's own month-end
strength, up to the calibration date. A pledge not delivered by then is a run of observed
zeros: evidence about its lag up to that date, not a failure afterwards (censored).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import model
from .errors import ParameterError


@dataclass
class Target:
    """The observations the model is fitted to, on the model's month grid."""

    fit: np.ndarray              # (T,) bool: months used to fit
    total: np.ndarray            # (T,) reconciled mission strength (NaN where unknown)
    by_contributor: np.ndarray   # (T, C) contributors' strength (NaN where unknown)

    @property
    def months(self) -> int:
        return int(self.fit.sum())


def target(state, setting: model.Setting, mission: str, until) -> Target:
    """The reconciled series of ``mission`` (from a resolved state) up to ``until``."""
    until = pd.Timestamp(until)
    months = setting.month_index + pd.offsets.MonthEnd(0)
    totals = state.totals[state.totals["mission"] == mission].set_index("month_end")["total"]
    total = np.array([float(totals.get(m, np.nan)) for m in months])
    per = state.strength[state.strength["mission"] == mission]
    wide = per.pivot_table(index="month_end", columns="contributor_iso3", values="deployed")
    by_c = np.full((setting.months, len(setting.contributors)), np.nan)
    for j, who in enumerate(setting.contributors):
        if who in wide.columns:
            by_c[:, j] = [float(wide[who].get(m, np.nan)) for m in months]
        else:
            by_c[:, j] = np.where(~np.isnan(total), 0.0, np.nan)  # pledged, never arrived
    fit = ~np.isnan(total) & (months <= until)
    if not fit.any():
        raise ParameterError(f"no observed strength to calibrate on before {until.date()}")
    return Target(fit=fit, total=total, by_contributor=by_c)


def distance(run: model.Run, obs: Target, mask: np.ndarray | None = None) -> np.ndarray:
    """Per draw: mean absolute error of the mission total over the fit months, plus half the
    mean absolute error of the contributors' strength (people)."""
    mask = obs.fit if mask is None else mask
    err = np.abs(run.deployed[:, mask] - obs.total[mask]).mean(axis=1)
    if run.by_contributor is not None and obs.by_contributor.size:
        cmp = obs.by_contributor[mask]
        known = ~np.isnan(cmp)
        if known.any():
            diff = np.abs(run.by_contributor[:, mask, :] - np.nan_to_num(cmp)) * known
            err = err + 0.5 * diff.sum(axis=(1, 2)) / known.sum()
    return err


@dataclass
class Posterior:
    """Accepted (parameter, shock) pairs, equally weighted after resampling."""

    params: dict[str, np.ndarray]
    shocks: dict[str, np.ndarray]
    distances: np.ndarray
    schedule: list[dict] = field(default_factory=list)   # per generation: tolerance, rates
    simulations: int = 0

    @property
    def n(self) -> int:
        return len(self.distances)


def _unit(table: pd.DataFrame):
    varying = table[table["high"] > table["low"]].reset_index(drop=True)
    lo, hi = varying["low"].to_numpy(float), varying["high"].to_numpy(float)
    return list(varying["name"]), lo, hi


def _params_from_unit(u: np.ndarray, names, lo, hi, table, setting) -> dict[str, np.ndarray]:
    from .analysis import with_derived

    n = u.shape[0]
    p = {r.name: np.full(n, float(r.central)) for r in table.itertuples()}
    for i, name in enumerate(names):
        p[name] = lo[i] + u[:, i] * (hi[i] - lo[i])
    return with_derived(p, setting)


def latin_hypercube(n: int, d: int, seed: int) -> np.ndarray:
    """``n`` points in the unit cube, one in each of ``n`` equal strata of every dimension,
    at a uniform place inside its stratum (the randomised Latin hypercube of McKay et al.,
    as ``scipy.stats.qmc.LatinHypercube`` draws it with its default scrambling). Written out
    here because importing ``scipy.stats`` costs each report kernel about 0.7 s (measured)
    and this is its only use."""
    rng = np.random.default_rng(seed)
    strata = np.argsort(rng.random((n, d)), axis=0)
    return (strata + rng.random((n, d))) / n


def _mahalanobis_sq(a: np.ndarray, b: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distances between every row of ``a`` and every row of ``b`` under
    the covariance whose Cholesky factor is ``chol``: both sets are whitened once (solving
    against the factor), then |x|^2 + |y|^2 - 2 x.y by one matrix product, instead of an
    N x N x k array of differences."""
    from scipy.linalg import solve_triangular

    wa = solve_triangular(chol, a.T, lower=True).T
    wb = solve_triangular(chol, b.T, lower=True).T
    sq = (wa ** 2).sum(1)[:, None] + (wb ** 2).sum(1)[None, :] - 2.0 * wa @ wb.T
    return np.maximum(sq, 0.0)


def abc_smc(setting: model.Setting, table: pd.DataFrame, obs: Target, gates=model.GATES,
            n_particles: int = 1000, generations: int = 4, quantile: float = 0.5,
            seed: int = 7, max_rounds: int = 8, prior_factor: int = 10) -> Posterior:
    """ABC-SMC on ``obs``: a prior population (``prior_factor`` x ``n_particles`` Latin
    hypercube draws, the best ``n_particles`` kept), then ``generations - 1`` rounds, each
    with tolerance = the ``quantile`` of the previous round's distances, proposals from a
    Gaussian kernel (twice the weighted covariance, in the unit cube of the prior ranges) and
    importance weights prior / kernel mixture. Returns the final population resampled to equal
    weights, every particle with its own shocks."""
    rng = np.random.default_rng(seed)
    names, lo, hi = _unit(table)
    k = len(names)
    c = len(setting.pledges)
    sims = 0

    def run(u, shocks):
        nonlocal sims
        sims += len(u)
        p = _params_from_unit(u, names, lo, hi, table, setting)
        r = model.simulate(setting, p, shocks, gates=gates, track_contributors=True)
        return distance(r, obs)

    m0 = n_particles * prior_factor
    u0 = latin_hypercube(m0, k, seed)
    s0 = model.draw_shocks(m0, c, seed)
    d0 = run(u0, s0)
    keep = np.argsort(d0)[:n_particles]
    theta, shocks, dist = u0[keep], model.take(s0, keep), d0[keep]
    weights = np.full(n_particles, 1.0 / n_particles)
    schedule = [{"generation": 0, "tolerance": float(dist.max()), "acceptance": n_particles / m0,
                 "ess": float(n_particles)}]
    for g in range(1, generations):
        eps = float(np.quantile(dist, quantile))
        cov = 2.0 * np.cov(theta.T, aweights=weights) + 1e-10 * np.eye(k)
        chol = np.linalg.cholesky(cov)
        got_u, got_s, got_d, tried = [], [], [], 0
        for _ in range(max_rounds):
            b = n_particles * 3
            idx = rng.choice(len(theta), size=b, p=weights)
            prop = theta[idx] + rng.standard_normal((b, k)) @ chol.T
            # Reflect at the edges of the prior ranges (the kernel stays symmetric).
            prop = np.abs(prop)
            prop = 1.0 - np.abs(1.0 - prop)
            prop = np.clip(prop, 0.0, 1.0)
            s_new = model.draw_shocks(len(prop), c, int(rng.integers(2**31)))
            d_new = run(prop, s_new)
            tried += b
            ok = d_new <= eps
            got_u.append(prop[ok])
            got_s.append(model.take(s_new, ok))
            got_d.append(d_new[ok])
            if sum(len(x) for x in got_d) >= n_particles:
                break
        new_u = np.concatenate(got_u)[:n_particles]
        new_d = np.concatenate(got_d)[:n_particles]
        new_s = {key: np.concatenate([s[key] for s in got_s])[:n_particles] for key in shocks}
        if len(new_u) < n_particles // 4:
            break  # the tolerance can no longer be met: stop at the previous generation
        kern = np.exp(-0.5 * _mahalanobis_sq(new_u, theta, chol))
        w = 1.0 / np.maximum(kern @ weights, 1e-300)
        w /= w.sum()
        theta, shocks, dist, weights = new_u, new_s, new_d, w
        schedule.append({"generation": g, "tolerance": eps,
                         "acceptance": len(new_u) / max(tried, 1),
                         "ess": float(1.0 / np.sum(w ** 2))})
    # Resample to equal weights (systematic resampling), keeping each particle's shocks.
    n = len(weights)
    positions = (rng.random() + np.arange(n_particles)) / n_particles
    idx = np.minimum(np.searchsorted(np.cumsum(weights), positions), n - 1)
    params = _params_from_unit(theta[idx], names, lo, hi, table, setting)
    return Posterior(params=params, shocks=model.take(shocks, idx), distances=dist[idx],
                     schedule=schedule, simulations=sims)


def prior_sample(setting: model.Setting, table: pd.DataFrame, n: int, seed: int):
    """The prior: ``n`` Latin hypercube draws of the parameters with their own shocks."""
    names, lo, hi = _unit(table)
    u = latin_hypercube(n, len(names), seed)
    return (_params_from_unit(u, names, lo, hi, table, setting),
            model.draw_shocks(n, len(setting.pledges), seed))
