"""The shortfall model: a monthly, stochastic, gated stock-flow model of deployed strength.

Every draw is one column of NumPy arrays, so 100,000 draws run at once. Per month ``t``:

- pledged personnel become *ready* after an uncertain lag, in contingents (tranches), with a
  fulfilment share that carries a common shock (pledges fail together when politics or money
  fail): ``phi_c = logistic(logit(fulfil_mean) + fulfil_shock_sd * z + fulfil_own_sd * e_c)``;
- arrivals are limited by several gates at once: the mandate's ceiling, base capacity (an
  initial size and a step expansion), and money: contributors deploy only up to the head-count
  the trust fund can sustain, i.e. what it has received (less its share of fixed costs) must
  pay its share of running costs for every month from the earliest start through
  ``prefund_months`` ahead. That is money / (cost per person-month x months) = people, not
  "cumulative funds / cost per person" (which confuses person-months with head-count). The
  fund is also a cash balance with a burn rate: it pays its share of costs while it has cash,
  and what it cannot pay is recorded as unpaid;
- a share of those on the ground leaves each month (rotations and attrition) and must be
  replaced through the same gates;
- costs are fixed/step costs (one step for each ``base_size`` people of planned base
  capacity, from the earliest month a contingent could be ready) plus per-person and
  per-arrival costs, not one average.

Money is conserved in the trust fund: ``balance[T] = sum(receipts) - sum(spending)``, and
spending never exceeds what the fund holds (the rest is recorded as unpaid).

Gates can be switched off one by one (``gates``) to build the counterfactuals the report
names: no funding gate, all pledges kept, no base/equipment gate. The same random numbers are
used in every counterfactual, so differences are due to the gates alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

GATES = ("funding", "pledges", "logistics")


@dataclass(frozen=True)
class Setting:
    """What the model takes from the data (and a scenario), the same for every draw."""

    start: pd.Timestamp                  # month 0 (authorization month)
    months: int                          # horizon
    ceiling: float                       # mandate ceiling or planned strength used as cap
    pledges: np.ndarray                  # (C,) personnel pledged per contributor
    pledge_month: np.ndarray             # (C,) month index of each pledge (>= 0)
    receipts: np.ndarray                 # (T,) trust-fund receipts per month, USD
    contributors: tuple[str, ...] = ()
    initial_deployed: float = 0.0        # already on the ground at month 0 (a successor force)

    @property
    def month_index(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.months, freq="MS")


@dataclass
class Run:
    """The paths of one model run: arrays of shape (draws, months)."""

    deployed: np.ndarray
    ready: np.ndarray
    arrivals: np.ndarray
    departures: np.ndarray
    balance: np.ndarray
    receipts: np.ndarray
    spent: np.ndarray
    unpaid: np.ndarray
    cost: np.ndarray
    binding: dict[str, np.ndarray] = field(default_factory=dict)


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def draw_shocks(n: int, contributors: int, seed: int) -> dict[str, np.ndarray]:
    """The random numbers a run needs, drawn once so every counterfactual shares them."""
    rng = np.random.default_rng(seed)
    return {
        "z_common": rng.standard_normal(n),
        "z_own": rng.standard_normal((n, contributors)),
        "z_lag": rng.standard_normal((n, contributors)),
    }


def _gamma_from_normal(z, shape, scale):
    """Gamma variate with the given shape and scale from a standard normal ``z``
    (Wilson-Hilferty), so one set of shocks serves every parameter draw."""
    c = 1.0 / (9.0 * shape)
    return shape * scale * np.maximum(1.0 - c + z * np.sqrt(c), 0.0) ** 3


def ready_path(setting: Setting, p: dict[str, np.ndarray], shocks: dict[str, np.ndarray],
               pledges_kept: bool = False) -> np.ndarray:
    """Cumulative personnel ready to fly, per month and draw: (T, N), time-major so that each
    month is one contiguous row."""
    n = p["lag_mean"].shape[0]
    t = np.arange(setting.months, dtype=float)[:, None]
    ready = np.zeros((setting.months, n))
    shape = np.maximum(p["lag_shape"][:, None], 1e-3)
    scale = np.maximum(p["lag_mean"][:, None] - p["lag_min"][:, None], 0.0) / shape
    lags = p["lag_min"][:, None] + _gamma_from_normal(shocks["z_lag"], shape, scale)
    if pledges_kept:
        phi = np.ones((n, len(setting.pledges)))
    else:
        phi = _logistic(_logit(p["fulfil_mean"])[:, None]
                        + p["fulfil_shock_sd"][:, None] * shocks["z_common"][:, None]
                        + p["fulfil_own_sd"][:, None] * shocks["z_own"])
    tranche = np.maximum(p["tranche"], 1.0)
    ramp = np.maximum(p["ramp_months"], 1.0)
    for c, (pledge, month) in enumerate(zip(setting.pledges, setting.pledge_month, strict=True)):
        target = phi[:, c] * pledge / tranche
        progress = np.clip((t - (month - 1.0) - lags[:, c]) / ramp, 0.0, 1.0)
        ready += np.floor(target * progress) * tranche
    return ready


def simulate(setting: Setting, p: dict[str, np.ndarray], shocks: dict[str, np.ndarray],
             gates: tuple[str, ...] = GATES) -> Run:
    """Run the model for every draw at once. ``gates`` lists the gates that are on."""
    n, months = p["lag_mean"].shape[0], setting.months
    ready = ready_path(setting, p, shocks, pledges_kept="pledges" not in gates)
    receipts = setting.receipts[:, None] * p["funding_scale"][None, :]   # (T, N)
    # Time-major storage: each month's values are one contiguous row (much faster to write).
    out = {k: np.zeros((months, n)) for k in
           ("deployed", "arrivals", "departures", "balance", "spent", "unpaid", "cost")}
    binding = {k: np.zeros((months, n), dtype=bool) for k in ("ceiling", "base", "money", "ready")}
    deployed = np.full(n, float(setting.initial_deployed))
    # Pledged people sent and still owed (leavers are replaced from the ready pool); a successor
    # force's initial personnel are not drawn from its new pledges.
    arrived_pool = np.zeros(n)
    balance = np.zeros(n)
    received = np.zeros(n)
    fixed_so_far = np.zeros(n)
    c_var, c_fix, c_dep = p["cost_person_month"], p["cost_fixed_month"], p["cost_arrival"]
    base_size, s_tf, m_fwd = p["base_size"], p["tf_share"], np.maximum(p["prefund_months"], 0.0)
    for t in range(months):
        departures = np.floor(p["attrition"] * deployed)
        deployed = deployed - departures
        arrived_pool = np.maximum(arrived_pool - departures, 0.0)
        capacity = np.full(n, setting.ceiling)
        base = np.where(t >= p["base_expand_month"], p["base_capacity_late"],
                        p["base_capacity_early"])
        # Fixed costs follow the logistics plan (bases built; headquarters running from the
        # earliest month a contingent could be ready, lag_min), not the head-count that money
        # or pledges allowed: so opening a gate can never make the mission poorer by starting
        # its fixed costs earlier.
        bases = np.ceil(np.minimum(base, setting.ceiling) / np.maximum(base_size, 1.0))
        fixed_month = np.where(t >= p["lag_min"], c_fix * np.maximum(bases, 1.0), 0.0)
        base_binds = np.zeros(n, dtype=bool)
        if "logistics" in gates:
            base_binds = base < capacity
            capacity = np.minimum(capacity, base)
        cash = balance + receipts[t]
        received = received + receipts[t]
        fixed_so_far = fixed_so_far + fixed_month
        money_binds = np.zeros(n, dtype=bool)
        if "funding" in gates:
            # The head-count the fund can sustain: what it has received, less its share of the
            # fixed costs so far, pays for N people from the month the mission could start
            # (lag_min) through prefund_months ahead. Money / (USD per person-month x months)
            # is a head-count, not person-months; it depends on receipts, not on how many were
            # sent, so more money never lowers strength (a cash-balance gate would let a
            # poorer fund that deployed later overtake a richer one that paid salaries sooner).
            months_paid = np.maximum(t - np.ceil(p["lag_min"]), 0.0) + np.maximum(m_fwd, 1.0)
            afford = np.floor(np.maximum(received - s_tf * fixed_so_far, 0.0)
                              / np.maximum(s_tf * c_var * months_paid, 1e-9))
            afford = np.maximum(afford, deployed)  # running short never withdraws anyone
            money_binds = afford < capacity
            capacity = np.minimum(capacity, afford)
        waiting = np.maximum(ready[t] - arrived_pool, 0.0)
        room = np.maximum(capacity - deployed, 0.0)
        arrivals = np.minimum(waiting, room)
        blocked = room < waiting
        binding["ready"][t] = ~blocked
        binding["money"][t] = blocked & money_binds
        binding["base"][t] = blocked & ~money_binds & base_binds
        binding["ceiling"][t] = blocked & ~money_binds & ~base_binds
        deployed = deployed + arrivals
        arrived_pool = arrived_pool + arrivals
        cost = c_var * deployed + fixed_month + c_dep * arrivals
        due = s_tf * cost
        spent = np.minimum(due, cash)
        balance = cash - spent
        for key, value in (("deployed", deployed), ("arrivals", arrivals),
                           ("departures", departures), ("balance", balance), ("spent", spent),
                           ("unpaid", due - spent), ("cost", cost)):
            out[key][t] = value
    # Callers get (draws, months) views of the time-major arrays.
    return Run(ready=ready.T, receipts=receipts.T, binding={k: v.T for k, v in binding.items()},
               **{k: v.T for k, v in out.items()})


def scenario_names() -> list[str]:
    """The scenario files available to reports (``scenarios/*.yaml``)."""
    from .specs import scenario_names as names

    return names()


# ---------------------------------------------------------------------------------------------
# Outputs


def bands(paths_: np.ndarray, levels=(0.8, 0.95)) -> pd.DataFrame:
    """Median and central bands across draws, per month: columns median, p10, p90, p2_5, p97_5."""
    qs = {"median": 0.5}
    for level in levels:
        lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
        qs[f"p{_pct(lo)}"] = lo
        qs[f"p{_pct(hi)}"] = hi
    values = np.quantile(paths_, list(qs.values()), axis=0)
    return pd.DataFrame(dict(zip(qs, values, strict=True)))


def _pct(q: float) -> str:
    text = f"{q * 100:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", "_")


def summarize(values: np.ndarray, levels=(0.8, 0.95)) -> dict[str, float]:
    """Median and bands of one number per draw."""
    out = {"median": float(np.median(values))}
    for level in levels:
        lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
        out[f"p{_pct(lo)}"] = float(np.quantile(values, lo))
        out[f"p{_pct(hi)}"] = float(np.quantile(values, hi))
    return out


def person_months_lost(deployed: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Person-months by which a path fell short of a reference path, per draw."""
    return np.maximum(np.asarray(reference) - deployed, 0.0).sum(axis=1)


def shapley_split(pml_by_open: dict[frozenset, np.ndarray]) -> dict[str, np.ndarray]:
    """Share the person-months lost to the gates among them by Shapley averaging over every
    order of removing them. ``pml_by_open[S]`` is the loss with the gates in ``S`` removed.
    The shares add up exactly to ``pml[{}] - pml[all removed]``, however the gates interact."""
    players = sorted(set().union(*pml_by_open))
    n = len(players)
    shares = {}
    for player in players:
        others = [q for q in players if q != player]
        total = 0.0
        for k in range(n):
            weight = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
            for subset in combinations(others, k):
                s = frozenset(subset)
                total = total + weight * (pml_by_open[s] - pml_by_open[s | {player}])
        shares[player] = total
    return shares


def density(deployed: np.ndarray, setting: Setting, p: dict[str, np.ndarray]) -> np.ndarray:
    """Security personnel per 1,000 residents of metropolitan Port-au-Prince: available
    Haitian police posted in the capital (declining with net attrition) plus the mission."""
    t = np.arange(setting.months)
    police = (p["hnp_available"][:, None] * p["hnp_share_capital"][:, None]
              * (1 - p["hnp_net_attrition"][:, None] / 12.0) ** t[None, :])
    return 1000.0 * (police + deployed) / p["population_capital"][:, None]
