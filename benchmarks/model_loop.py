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
        kept = float(np.round(phi * pledge))
        contributors.append((kept, math.ceil(kept / tranche), month, lag))
    deployed = float(setting.initial_deployed)
    sent = [0.0] * len(contributors)
    balance = 0.0
    started = deployed > 0
    s_tf = max(p["tf_share"], 1e-9)
    m_fwd = max(p["prefund_months"], 1.0)
    frozen = setting.frozen if setting.frozen is not None else [0.0] * setting.months
    path = []
    for t in range(setting.months):
        ready = []
        for kept, contingents, month, lag in contributors:
            progress = min(max((t - (month - 1.0) - lag) / ramp, 0.0), 1.0)
            ready.append(min(math.floor(contingents * progress + 1e-9) * tranche, kept))
        departures = math.floor(p["attrition"] * deployed)
        share_left = 1.0 - departures / deployed if deployed > 0 else 1.0
        deployed -= departures
        sent = [x * share_left for x in sent]
        base = p["base_capacity_late"] if t >= p["base_expand_month"] else p["base_capacity_early"]
        bases = math.ceil(min(base, setting.ceiling) / max(p["base_size"], 1.0))
        fixed_month = p["cost_fixed_month"] * max(bases, 1.0)
        capacity = setting.ceiling
        if "logistics" in gates:
            capacity = min(capacity, base)
        receipt = setting.receipts[t] * p["funding_scale"]
        cash = balance + receipt
        spendable = max(cash - min(frozen[t] * p["funding_scale"], cash), 0.0)
        if "funding" in gates:
            afford = math.floor((spendable / s_tf - m_fwd * fixed_month
                                 + p["cost_arrival"] * deployed)
                                / max(m_fwd * p["cost_person_month"] + p["cost_arrival"], 1e-9))
            capacity = min(capacity, max(afford, deployed))
        waiting = [max(r - x, 0.0) for r, x in zip(ready, sent, strict=True)]
        total_waiting = sum(waiting)
        arrivals = min(total_waiting, max(capacity - deployed, 0.0))
        if total_waiting > 0:
            sent = [x + w / total_waiting * arrivals for x, w in zip(sent, waiting, strict=True)]
        deployed += arrivals
        started = started or deployed > 0
        cost = (p["cost_person_month"] * deployed + (fixed_month if started else 0.0)
                + p["cost_arrival"] * arrivals)
        balance = cash - min(s_tf * cost, spendable)
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
