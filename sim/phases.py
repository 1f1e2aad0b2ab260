"""The monthly phases of the firm model, each a pure function of arrays.

Units: money in Rp, time in months. See docs/ODD.md (Submodels) for the equations in prose.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from scipy import special

from .keyed import Keys, Purpose
from .params import Parameters


def log_capacity(p: Parameters, capital, ability, log_shock):
    """Log of output capacity (Rp/month): output_at_ref * ability * shock * (K / capital_ref)^alpha.

    ``log_shock`` is a standard-normal draw per firm; the shock is lognormal with mean one.
    """
    log_y = (np.log(capital / p.capital_ref) * p.alpha
             + np.log(ability)
             + (np.log(p.output_at_ref) - 0.5 * p.shock_sd**2))
    log_y += p.shock_sd * log_shock
    return log_y


def capacity(p: Parameters, capital, ability, log_shock):
    """Output capacity (Rp/month); see ``log_capacity``."""
    return np.exp(log_capacity(p, capital, ability, log_shock))


def demand_weight(p: Parameters, log_cap, log_quality, access, growth_oriented):
    """A firm's pull on demand: quality^wq * access^wa * (capacity / output_at_ref)^ws, where ws is
    scale_weight for growth-oriented firms and scale_weight_subsistence for subsistence firms.
    Takes the log of capacity."""
    ws = np.where(growth_oriented, p.scale_weight, p.scale_weight_subsistence)
    ws *= log_cap - np.log(p.output_at_ref)
    ws += p.quality_weight * log_quality
    ws += p.access_weight * np.log(access)
    return np.exp(ws, out=ws)


class Sales(NamedTuple):
    domestic: np.ndarray
    export: np.ndarray


def market(p: Parameters, cap, weight, access, city_demand: float) -> Sales:
    """Split city demand (and export demand) by weight; each firm sells at most its capacity.

    Demand a firm cannot serve is lost to other suppliers (large firms, imports).
    """
    total = weight.sum()
    price = city_demand / total if total > 0 else 0.0
    domestic = np.minimum(cap, price * weight)
    exporters = access >= p.export_access_threshold
    w_x = np.where(exporters, weight, 0.0)  # whole-array operations beat boolean indexing here
    total_x = w_x.sum()
    if total_x > 0 and p.export_demand_ratio > 0:
        w_x *= p.export_demand_ratio * city_demand / total_x
        export = np.minimum(np.subtract(cap, domestic), w_x, out=w_x)  # spare capacity
    else:
        export = np.zeros_like(cap)
    return Sales(domestic, export)


def profit(p: Parameters, sales):
    """Monthly profit (Rp): margin on sales minus the fixed cost."""
    return p.margin * sales - p.fixed_cost


def accumulate(p: Parameters, capital, prof, growth_oriented, utilisation):
    """Next month's capital: depreciate, add reinvested profit, subtract losses.

    Profit is reinvested (at the firm type's rate) only when the firm used at least
    ``invest_utilisation`` of its capacity; otherwise it is withdrawn.
    """
    gain = np.where(growth_oriented, p.reinvest_growth, p.reinvest_subsistence)
    gain *= utilisation >= p.invest_utilisation  # (a multiply is faster than a masked assignment)
    gain *= np.maximum(prof, 0.0)  # a share of any profit
    gain += np.minimum(prof, 0.0)  # losses in full
    gain += capital * (1.0 - p.depreciation)
    return gain


def quality_walk(p: Parameters, log_quality, draw):
    """Log quality follows a random walk with drift (products age as rivals improve)."""
    return log_quality + (p.quality_drift + p.quality_sd * draw)


def exits(p: Parameters, capital, uniform):
    """Firms that close this month: capital exhausted, or closure for outside reasons."""
    return (capital < p.exit_capital) | (uniform < p.exit_hazard)


def workers(p: Parameters, annual_sales):
    """Workers (>= 1), rising with annual sales at elasticity workers_elasticity."""
    ratio = np.maximum(annual_sales, 0.0) / p.workers_sales_ref
    return np.maximum(1.0, p.workers_at_ref * ratio**p.workers_elasticity)


def _workers_above_one(p: Parameters, annual_sales):
    """``workers`` for sales above the one-worker floor, by exp/log (faster than a power)."""
    return p.workers_at_ref * np.exp(p.workers_elasticity * np.log(annual_sales / p.workers_sales_ref))


def total_workers(p: Parameters, annual_sales) -> float:
    """``workers(p, annual_sales).sum()``, raising to a power only where the result exceeds 1."""
    if p.workers_elasticity == 0:
        return float(annual_sales.size * max(1.0, p.workers_at_ref))
    floor = p.workers_sales_ref * (1.0 / p.workers_at_ref) ** (1.0 / p.workers_elasticity)
    above = annual_sales[annual_sales > floor]
    return float(annual_sales.size - above.size + _workers_above_one(p, above).sum())


def annualised_sales(sales_12m, age_months):
    """Sales over the last 12 months, scaled up for firms younger than a year."""
    months = np.clip(age_months, 1, 12)
    return sales_12m * (12.0 / months)


@functools.lru_cache(maxsize=8)
def _beta_table(a: float, b: float) -> np.ndarray:
    return special.betaincinv(a, b, np.linspace(0.0, 1.0, _BETA_NODES))


_BETA_NODES = 2**14 + 1


def beta_quantile(a: float, b: float, u: np.ndarray) -> np.ndarray:
    """The Beta(a, b) quantile function at ``u``: interpolated in a table of 16,385 exact values
    (scipy's betaincinv, built once per (a, b)), exact in the first and last intervals where the
    function is steep. Several times faster than inverting each draw."""
    q = np.interp(u, np.linspace(0.0, 1.0, _BETA_NODES), _beta_table(float(a), float(b)))
    h = 4.0 / (_BETA_NODES - 1)
    tails = (u < h) | (u > 1.0 - h)
    if tails.any():
        q[tails] = special.betaincinv(a, b, u[tails])
    return q


def new_firms(p: Parameters, keys: Keys, ids: np.ndarray, month: int) -> dict:
    """The starting states of entrants with firm ids ``ids``, each drawn from the firm's own keys
    (so an entrant is the same firm in every scenario run on the same seed)."""
    k = len(ids)
    u_growth, u_access = keys.uniform_pair(Purpose.ENTRANT_TYPE, 0, ids)
    u_sector, u_district = keys.uniform_pair(Purpose.ENTRANT_PLACE, 0, ids)
    z_ability, z_capital = keys.normal_pair(Purpose.ENTRANT_ABILITY, 0, ids)
    z_quality = keys.normal(Purpose.ENTRANT_QUALITY, 0, ids).astype(np.float64)
    growth = u_growth < p.growth_share
    median = np.where(growth, p.ability_growth_median, p.ability_subsistence_median)
    ability = median * np.exp(p.ability_sd * z_ability.astype(np.float64))
    capital = p.entrant_capital_median * np.exp(p.entrant_capital_sd * z_capital.astype(np.float64))
    log_quality = p.entrant_quality_sd * z_quality
    access = beta_quantile(p.access_alpha, p.access_beta, u_access)  # Beta(a, b) by inversion
    access = np.clip(access, 1e-3, 1.0)
    sector = (u_sector * len(SECTORS)).astype(np.int8)
    district = (u_district * p.n_districts).astype(np.int8)
    return dict(growth_oriented=growth, ability=ability, capital=capital,
                log_quality=log_quality, access=access, access_base=access.copy(),
                sector=sector, district=district,
                entry_month=np.full(k, month, np.int32))


SECTORS = ("food_beverage", "fashion_craft", "retail_trade", "services", "manufacturing")
"""Sector labels (for reporting and, later, targeting); the rules are the same in every sector."""
