"""The de Mel, McKenzie & Woodruff (2008) grant experiment, run inside the model.

De Mel et al. gave randomly chosen Sri Lankan microenterprises a grant of about US$100-200 (cash or
equipment) and measured the change in their monthly profits: about 5.7 % of the grant a month on
average, about zero for subsistence (mostly female-owned) firms. Here the same experiment has an
exact counterfactual: two copies of one city on the same seed (``sim/keyed.py``: every firm draws
the same luck in both), with no office; at month 0 a random share of firms in one copy receives an
equipment grant (added to capital). The return of a treated firm is its extra operating profit
(margin * sales - fixed cost) per month over the follow-up, over the grant; firms that close in
either copy count until they close (profit 0 after).

Firms are grouped as de Mel et al. could not: by type (growth-oriented or subsistence) and by
whether they were selling all they could make (capacity-constrained) when the grant arrived.

The sample is stratified: a keyed random ``share`` of all firms (the simple random sample behind
the "all" and "subsistence" figures), and, by default, every capacity-constrained growth-oriented
firm besides (a census of a stratum of about 0.05 % of firms: a 5 % random share of a 90,000-firm
city finds 0-5 of them, too few to estimate their return). The grants are small against the city
(Rp 2.5 M to a few dozen firms more), so treating the stratum whole hardly moves the others'
figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .engine import City
from .params import Parameters
from .trials import random_share, sales_of, twin_cities

DE_MEL_CAPITAL = 15e6
"""Rp: the upper bound of de Mel et al.'s sample, invested capital of at most 100,000 Sri Lankan
rupees (about US$1,000) excluding land and buildings (Sri Lanka Microenterprise Survey 2005, IHSN
study description), at about Rp 14,100 per US$ (2019) and rounded: an assumption of scale."""


def grant_experiment(params: Parameters, seed: int, *, grant: float = 2.5e6, share: float = 0.05,
                     months: int = 12, use_cache: bool = True,
                     every_constrained: bool = True) -> pd.DataFrame:
    """One row per treated firm: type, capacity-constrained at the grant, capital before it, whether
    it was drawn in the random share (``random``), and the monthly return (extra profit / grant,
    in %). ``grant`` Rp
    (default ~US$150, de Mel et al.'s range), given to a keyed random ``share`` of the firms alive
    at month 0 and, with ``every_constrained``, to every growth-oriented firm selling all it could
    make."""
    if not 0 < share <= 1:
        raise ValueError(f"share = {share!r} must be in (0, 1]")
    if grant <= 0:
        raise ValueError(f"grant = {grant!r} must be > 0")
    control, treated, keys = twin_cities(params, seed, use_cache)
    t = treated.firms
    drawn = random_share(keys, t["firm_id"], share)
    bound = t["utilisation"] >= 0.999
    pick = drawn | (bound & t["growth_oriented"]) if every_constrained else drawn
    ids = t["firm_id"][pick].copy()
    growth = t["growth_oriented"][pick].copy()
    constrained = bound[pick]
    capital = t["capital"][pick].copy()
    t["capital"][pick] += grant
    gain = np.zeros(len(ids))
    for _ in range(months):
        control.step()
        treated.step()
        gain += _profit(treated, ids) - _profit(control, ids)
    return pd.DataFrame({"firm_id": ids, "growth_oriented": growth, "constrained": constrained,
                         "capital": capital, "random": drawn[pick],
                         "return_pct": 100 * gain / (months * grant)})


def _profit(city: City, ids: np.ndarray) -> np.ndarray:
    """This month's operating profit of each firm id (0 once closed)."""
    sales, alive = sales_of(city, ids)
    return np.where(alive, city.p.margin * sales - city.p.fixed_cost, 0.0)


def summarise(table: pd.DataFrame) -> dict[str, float]:
    """Mean monthly return (%) for the groups de Mel et al. report and the model can tell apart:
    all firms and subsistence firms over the random share only (the census of constrained
    growth-oriented firms would weigh them too much), capacity-constrained growth-oriented firms
    over every one treated (the census of the stratum, or the random share's when it was not
    taken). ``frame``: the random share's firms inside de Mel et al.'s sample bound
    (``DE_MEL_CAPITAL``), all types together as in their average; ``frame_growth`` and
    ``frame_subsistence`` split it by type."""
    drawn = table[table["random"].to_numpy(bool)]
    sub = drawn[~drawn["growth_oriented"]]
    growth_con = table[table["growth_oriented"] & table["constrained"]]
    frame = drawn[drawn["capital"] <= DE_MEL_CAPITAL]
    go = frame["growth_oriented"].to_numpy(bool)
    return {"all": float(drawn["return_pct"].mean()),
            "subsistence": float(sub["return_pct"].mean()),
            "growth_constrained": float(growth_con["return_pct"].mean()),
            "frame": float(frame["return_pct"].mean()),
            "frame_growth": float(frame["return_pct"][go].mean()),
            "frame_subsistence": float(frame["return_pct"][~go].mean()),
            "n_subsistence": float(len(sub)), "n_growth_constrained": float(len(growth_con)),
            "n_frame": float(len(frame)), "n_frame_growth": float(go.sum())}
