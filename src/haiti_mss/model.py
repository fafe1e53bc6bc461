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
    receipts: np.ndarray                 # (T,) trust-fund receipts per month, USD (deposit dates)
    contributors: tuple[str, ...] = ()
    initial_deployed: float = 0.0        # already on the ground at month 0 (a successor force)
    frozen: np.ndarray | None = None     # (T,) cash in the fund that cannot be spent (a freeze)

    @property
    def month_index(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.months, freq="MS")


@dataclass
class Run:
    """The paths of one model run: arrays of shape (draws, months); ``by_contributor`` is
    (draws, months, contributors) when the run tracked contributors."""

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
    by_contributor: np.ndarray | None = None


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


def take(shocks: dict[str, np.ndarray], index) -> dict[str, np.ndarray]:
    """The shocks of the draws in ``index`` (for publishing exactly the fitted pairs)."""
    return {k: v[index] for k, v in shocks.items()}


def _gamma_from_normal(z, shape, scale):
    """Gamma variate with the given shape and scale from a standard normal ``z``
    (Wilson-Hilferty), so one set of shocks serves every parameter draw."""
    c = 1.0 / (9.0 * shape)
    return shape * scale * np.maximum(1.0 - c + z * np.sqrt(c), 0.0) ** 3


def ready_by_contributor(setting: Setting, p: dict[str, np.ndarray],
                         shocks: dict[str, np.ndarray], pledges_kept: bool = False,
                         summed: bool = False) -> np.ndarray:
    """Cumulative personnel ready to fly, per month, draw and contributor: (T, N, C), or
    (T, N) summed over contributors when ``summed``.

    A contributor sends ``round(share x pledge)`` people in contingents of ``tranche``; the
    last contingent may be partial, so a pledge smaller than one contingent still deploys
    (150 + 78 kept with every gate open deliver 228)."""
    n = p["lag_mean"].shape[0]
    c_n = len(setting.pledges)
    t = np.arange(setting.months, dtype=float)[:, None]
    ready = np.zeros((setting.months, n) if summed else (setting.months, n, c_n))
    shape = np.maximum(p["lag_shape"][:, None], 1e-3)
    scale = np.maximum(p["lag_mean"][:, None] - p["lag_min"][:, None], 0.0) / shape
    lags = p["lag_min"][:, None] + _gamma_from_normal(shocks["z_lag"], shape, scale)
    if pledges_kept:
        phi = np.ones((n, c_n))
    else:
        phi = _logistic(_logit(p["fulfil_mean"])[:, None]
                        + p["fulfil_shock_sd"][:, None] * shocks["z_common"][:, None]
                        + p["fulfil_own_sd"][:, None] * shocks["z_own"])
    tranche = np.maximum(p["tranche"], 1.0)
    ramp = np.maximum(p["ramp_months"], 1.0)
    for c, (pledge, month) in enumerate(zip(setting.pledges, setting.pledge_month, strict=True)):
        kept = np.round(phi[:, c] * pledge)
        contingents = np.ceil(kept / tranche)
        progress = np.clip((t - (month - 1.0) - lags[:, c]) / ramp, 0.0, 1.0)
        path = np.minimum(np.floor(contingents * progress + 1e-9) * tranche, kept)
        if summed:
            ready += path
        else:
            ready[:, :, c] = path
    return ready


def ready_path(setting: Setting, p: dict[str, np.ndarray], shocks: dict[str, np.ndarray],
               pledges_kept: bool = False) -> np.ndarray:
    """Cumulative personnel ready to fly, per month and draw: (T, N), time-major."""
    return ready_by_contributor(setting, p, shocks, pledges_kept, summed=True)


def simulate(setting: Setting, p: dict[str, np.ndarray], shocks: dict[str, np.ndarray],
             gates: tuple[str, ...] = GATES, track_contributors: bool = False) -> Run:
    """Run the model for every draw at once. ``gates`` lists the gates that are on.

    The money gate is liquidity: the fund's spendable cash (received less spent, less any
    frozen amount) must cover, for ``prefund_months`` ahead, its share of the running costs of
    everyone on the ground and of the bases, plus its share of the arrival costs of the new
    personnel. Fixed costs start with the first personnel on the ground. Running short never
    withdraws anyone."""
    n, months = p["lag_mean"].shape[0], setting.months
    kept_all = "pledges" not in gates
    if track_contributors:
        by_c = ready_by_contributor(setting, p, shocks, pledges_kept=kept_all)
        ready = by_c.sum(axis=2)
    else:
        # Without tracking, totals are enough: arrivals never exceed a contributor's waiting
        # people and leavers go home from every contributor alike, so no contributor is ever
        # "over-sent" and total waiting = total ready - total sent.
        ready = ready_by_contributor(setting, p, shocks, pledges_kept=kept_all, summed=True)
        by_c = ready[:, :, None]
    receipts = setting.receipts[:, None] * p["funding_scale"][None, :]   # (T, N)
    frozen = (np.zeros(months) if setting.frozen is None else setting.frozen)[:, None] \
        * p["funding_scale"][None, :]
    out = {k: np.zeros((months, n)) for k in
           ("deployed", "arrivals", "departures", "balance", "spent", "unpaid", "cost")}
    binding = {k: np.zeros((months, n), dtype=bool) for k in ("ceiling", "base", "money", "ready")}
    deployed = np.full(n, float(setting.initial_deployed))
    c_n = by_c.shape[2]
    sent_c = np.zeros((n, c_n))        # pledged people sent and still owed per contributor
    on_c = np.zeros((n, c_n))          # on the ground per contributor
    track = np.zeros((months, n, c_n)) if track_contributors else None
    balance = np.zeros(n)
    started = deployed > 0
    c_var, c_fix, c_dep = p["cost_person_month"], p["cost_fixed_month"], p["cost_arrival"]
    base_size, s_tf = p["base_size"], np.maximum(p["tf_share"], 1e-9)
    m_fwd = np.maximum(p["prefund_months"], 1.0)
    for t in range(months):
        departures = np.floor(p["attrition"] * deployed)
        share_left = np.where(deployed > 0, 1.0 - departures / np.maximum(deployed, 1e-9), 1.0)
        deployed = deployed - departures
        # Leavers go home from every contributor alike, and must be replaced from its pledge.
        on_c = on_c * share_left[:, None]
        sent_c = sent_c * share_left[:, None]
        capacity = np.full(n, setting.ceiling)
        base = np.where(t >= p["base_expand_month"], p["base_capacity_late"],
                        p["base_capacity_early"])
        bases = np.ceil(np.minimum(base, setting.ceiling) / np.maximum(base_size, 1.0))
        base_binds = np.zeros(n, dtype=bool)
        if "logistics" in gates:
            base_binds = base < capacity
            capacity = np.minimum(capacity, base)
        cash = balance + receipts[t]
        spendable = np.maximum(cash - np.minimum(frozen[t], cash), 0.0)
        fixed_month = c_fix * np.maximum(bases, 1.0)
        money_binds = np.zeros(n, dtype=bool)
        if "funding" in gates:
            # The most people N the fund can carry: spendable / share >= months ahead x
            # (cost per person x N + fixed costs) + arrival cost x (N - those already there).
            afford = np.floor((spendable / s_tf - m_fwd * fixed_month + c_dep * deployed)
                              / np.maximum(m_fwd * c_var + c_dep, 1e-9))
            afford = np.maximum(afford, deployed)  # running short never withdraws anyone
            money_binds = afford < capacity
            capacity = np.minimum(capacity, afford)
        waiting_c = np.maximum(by_c[t] - sent_c, 0.0)
        waiting = waiting_c.sum(axis=1)
        room = np.maximum(capacity - deployed, 0.0)
        arrivals = np.minimum(waiting, room)
        blocked = room < waiting
        binding["ready"][t] = ~blocked
        binding["money"][t] = blocked & money_binds
        binding["base"][t] = blocked & ~money_binds & base_binds
        binding["ceiling"][t] = blocked & ~money_binds & ~base_binds
        # Arrivals come from every contributor in proportion to who is waiting.
        split = np.where(waiting[:, None] > 0, waiting_c / np.maximum(waiting, 1e-9)[:, None], 0)
        arrive_c = split * arrivals[:, None]
        sent_c = sent_c + arrive_c
        on_c = on_c + arrive_c
        deployed = deployed + arrivals
        started = started | (deployed > 0)
        fixed_now = np.where(started, fixed_month, 0.0)
        cost = c_var * deployed + fixed_now + c_dep * arrivals
        due = s_tf * cost
        spent = np.minimum(due, spendable)
        balance = cash - spent
        if track is not None:
            track[t] = on_c
        for key, value in (("deployed", deployed), ("arrivals", arrivals),
                           ("departures", departures), ("balance", balance), ("spent", spent),
                           ("unpaid", due - spent), ("cost", cost)):
            out[key][t] = value
    # Callers get (draws, months) views of the time-major arrays.
    return Run(ready=ready.T, receipts=receipts.T, binding={k: v.T for k, v in binding.items()},
               by_contributor=None if track is None else track.transpose(1, 0, 2),
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
