"""Scoring forecasts of strength against what happened, for the model and for three naive
forecasts it has to beat: the last value carried forward, a linear trend, and a random walk
with bootstrapped steps. Scores come from ``scoringrules`` (CRPS of an ensemble, the interval
score of the central 80% interval), plus the 80% coverage and the mean 80% band width."""

from __future__ import annotations

import numpy as np

NAIVE = ("last_value", "linear_trend", "random_walk")
ALPHA = 0.2  # the central 80% interval


def scores(ensemble: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """``ensemble`` (members, months) against ``truth`` (months): CRPS, 80% interval score,
    80% coverage and width, each averaged over the months."""
    import scoringrules as sr

    ensemble = np.asarray(ensemble, float)
    truth = np.asarray(truth, float)
    lo, hi = np.quantile(ensemble, [ALPHA / 2, 1 - ALPHA / 2], axis=0)
    crps = sr.crps_ensemble(truth, ensemble.T)
    interval = sr.interval_score(truth, lo, hi, ALPHA)
    return {"crps": float(np.mean(crps)), "interval_score_80": float(np.mean(interval)),
            "coverage_80": float(np.mean((truth >= lo) & (truth <= hi))),
            "width_80": float(np.mean(hi - lo)),
            "median_abs_error": float(np.mean(np.abs(np.median(ensemble, axis=0) - truth))),
            "months": int(len(truth))}


def naive_forecasts(history: np.ndarray, horizon: np.ndarray, n: int = 2000,
                    seed: int = 1) -> dict[str, np.ndarray]:
    """Ensembles (n, len(horizon)) of the three naive forecasts from ``history`` (the observed
    values at months 0..k-1, oldest first); ``horizon`` holds the months ahead (1 = next)."""
    rng = np.random.default_rng(seed)
    history = np.asarray(history, float)
    horizon = np.asarray(horizon, float)
    last = history[-1]
    out = {"last_value": np.full((1, len(horizon)), last)}
    recent = history[-12:]
    x = np.arange(len(recent), dtype=float)
    if len(recent) >= 2:
        slope, intercept = np.polyfit(x, recent, 1)
        resid = recent - (intercept + slope * x)
        sd = float(np.std(resid, ddof=min(2, len(recent) - 1))) if len(recent) > 2 else 0.0
    else:
        slope, intercept, sd = 0.0, float(last), 0.0
    mean = intercept + slope * (x[-1] + horizon)
    out["linear_trend"] = np.maximum(mean + sd * rng.standard_normal((n, len(horizon))), 0.0)
    steps = np.diff(history) if len(history) > 1 else np.zeros(1)
    draws = rng.choice(steps, size=(n, int(horizon.max())))
    walks = last + np.cumsum(draws, axis=1)
    out["random_walk"] = np.maximum(walks[:, horizon.astype(int) - 1], 0.0)
    return out


def compare(model_ensemble: np.ndarray, history: np.ndarray, horizon: np.ndarray,
            truth: np.ndarray) -> dict[str, dict[str, float]]:
    """Scores of the model and of each naive forecast on the same months."""
    out = {"model": scores(model_ensemble, truth)}
    for name, ens in naive_forecasts(history, horizon).items():
        out[name] = scores(ens, truth)
    return out


def beats_naive(table: dict[str, dict[str, float]], metric: str = "crps") -> bool:
    """True when the model scores better than every naive forecast on ``metric`` (lower is
    better)."""
    return all(table["model"][metric] < table[name][metric] for name in NAIVE if name in table)


def best_naive(table: dict[str, dict[str, float]], metric: str = "crps") -> tuple[str, float]:
    """The best-scoring naive forecast in a score table: (name, score)."""
    scored = [(name, table[name][metric]) for name in NAIVE if name in table]
    return min(scored, key=lambda kv: kv[1])
