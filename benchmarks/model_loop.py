"""The shortfall model written the straightforward way: one draw at a time, one month at a
time, in plain Python. It exists to be timed against ``haiti_mss.model.simulate`` (the
benchmark) and to check it (a test asserts both give the same paths)."""

from __future__ import annotations

import math

import numpy as np

from haiti_mss.model import GATES, Setting


def _logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p):
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def simulate_one(setting: Setting, p: dict[str, float], z_common: float, z_own, z_lag,
                 gates=GATES) -> list[float]:
    """Deployed strength per month for one draw."""
    shape = max(p["lag_shape"], 1e-3)
    scale = max(p["lag_mean"] - p["lag_min"], 0.0) / shape
    tranche, ramp = max(p["tranche"], 1.0), max(p["ramp_months"], 1.0)
    contributors = []
    for c, (pledge, month) in enumerate(zip(setting.pledges, setting.pledge_month, strict=True)):
        k = 1.0 / (9.0 * shape)
        lag = p["lag_min"] + shape * scale * max(1.0 - k + z_lag[c] * math.sqrt(k), 0.0) ** 3
        if "pledges" in gates:
            phi = _logistic(_logit(p["fulfil_mean"]) + p["fulfil_shock_sd"] * z_common
                            + p["fulfil_own_sd"] * z_own[c])
        else:
            phi = 1.0
        contributors.append((phi * pledge / tranche, month, lag))
    deployed = float(setting.initial_deployed)
    pool = balance = received = fixed_so_far = 0.0
    path = []
    for t in range(setting.months):
        ready = 0.0
        for target, month, lag in contributors:
            progress = min(max((t - (month - 1.0) - lag) / ramp, 0.0), 1.0)
            ready += math.floor(target * progress) * tranche
        departures = math.floor(p["attrition"] * deployed)
        deployed -= departures
        pool = max(pool - departures, 0.0)
        base = p["base_capacity_late"] if t >= p["base_expand_month"] else p["base_capacity_early"]
        bases = math.ceil(min(base, setting.ceiling) / max(p["base_size"], 1.0))
        fixed_month = p["cost_fixed_month"] * max(bases, 1.0) if t >= p["lag_min"] else 0.0
        capacity = setting.ceiling
        if "logistics" in gates:
            capacity = min(capacity, base)
        receipt = setting.receipts[t] * p["funding_scale"]
        cash = balance + receipt
        received += receipt
        fixed_so_far += fixed_month
        if "funding" in gates:
            months_paid = max(t - math.ceil(p["lag_min"]), 0.0) + max(p["prefund_months"], 1.0)
            afford = math.floor(max(received - p["tf_share"] * fixed_so_far, 0.0)
                                / max(p["tf_share"] * p["cost_person_month"] * months_paid, 1e-9))
            capacity = min(capacity, max(afford, deployed))
        arrivals = min(max(ready - pool, 0.0), max(capacity - deployed, 0.0))
        deployed += arrivals
        pool += arrivals
        cost = p["cost_person_month"] * deployed + fixed_month + p["cost_arrival"] * arrivals
        balance = cash - min(p["tf_share"] * cost, cash)
        path.append(deployed)
    return path


def simulate_loop(setting: Setting, p: dict[str, np.ndarray], shocks: dict[str, np.ndarray],
                  gates=GATES) -> np.ndarray:
    """Every draw, one after another: (draws, months)."""
    n = len(p["lag_mean"])
    names = list(p)
    columns = [p[k].tolist() for k in names]
    z_common = shocks["z_common"].tolist()
    z_own, z_lag = shocks["z_own"].tolist(), shocks["z_lag"].tolist()
    out = []
    for i in range(n):
        draw = {k: col[i] for k, col in zip(names, columns, strict=True)}
        out.append(simulate_one(setting, draw, z_common[i], z_own[i], z_lag[i], gates))
    return np.array(out)
