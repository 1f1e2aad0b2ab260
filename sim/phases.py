"""The monthly phases of the firm model, each a pure function of arrays.

Units: money in Rp, time in months. See docs/ODD.md (Submodels) for the equations in prose.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy import special

from .keyed import Keys, Purpose, below
from .params import Parameters


def log_capacity(p: Parameters, capital, ability, log_productivity):
    """Log of output capacity (Rp/month), in single precision:
    output_at_ref * ability * exp(log_productivity) * (K / capital_ref)^alpha / mean.

    ``log_productivity`` is the firm's persistent productivity shock (``productivity_walk``),
    in log points with SD ``shock_sd`` in the long run; the constant makes its level mean one.
    Single precision (relative error ~1e-7 in capacity) halves the memory the month's chain of
    whole-array operations reads and writes; money stocks and flows stay double (docs/ODD.md §2).
    """
    log_y = np.log(capital, dtype=np.float32)  # (in place from here, without temporaries)
    log_y -= np.float32(np.log(p.capital_ref))
    log_y *= np.float32(p.alpha)
    log_y += np.log(ability)
    log_y += np.float32(np.log(p.output_at_ref) - 0.5 * p.shock_sd**2)
    log_y += log_productivity
    return log_y


def productivity_walk(p: Parameters, log_productivity, draw, spread, out=None):
    """The persistent productivity shock: an AR(1) in logs with monthly persistence
    ``shock_persistence`` and long-run SD ``shock_sd`` for a one-line firm; ``draw`` is standard
    normal and ``spread`` (from ``diversification``) shrinks the innovations of larger firms.
    With ``out`` (which may be ``log_productivity`` itself) the result is written there."""
    rho = p.shock_persistence
    innovation = np.multiply(draw, spread)
    innovation *= np.float32(p.shock_sd * np.sqrt(1.0 - rho * rho))
    if out is None:
        out = np.float32(rho) * log_productivity
    else:
        np.multiply(log_productivity, np.float32(rho), out=out)
    out += innovation
    return out


def capacity(p: Parameters, capital, ability, log_productivity):
    """Output capacity (Rp/month); see ``log_capacity``."""
    return np.exp(log_capacity(p, capital, ability, log_productivity))


def by_type(flags, true_value: float, false_value: float) -> np.ndarray:
    """A new float32 array: ``true_value`` where ``flags``, else ``false_value`` (``np.where``'s
    result in single precision, exactly). Picked in integer arithmetic on the two values' bit
    patterns, ``f + flag * (t - f)`` modulo 2**32: exact, and faster than a lookup or ``np.where``."""
    t, f = (int(v) for v in np.array([true_value, false_value], np.float32).view(np.uint32))
    bits = np.asarray(flags, bool).view(np.uint8).astype(np.uint32)
    bits *= np.uint32((t - f) % 2**32)
    bits += np.uint32(f)
    return bits.view(np.float32)


def demand_weight(p: Parameters, log_cap, log_quality, access, growth_oriented, log_reach=0.0):
    """A firm's pull on demand: reach * quality^wq * access^wa * (capacity / output_at_ref)^ws,
    where ws is scale_weight for growth-oriented firms and scale_weight_subsistence for subsistence
    firms. Takes the logs of capacity and of customer reach."""
    ws = by_type(growth_oriented, p.scale_weight, p.scale_weight_subsistence)
    ws *= log_cap - np.float32(np.log(p.output_at_ref))
    ws += log_quality if p.quality_weight == 1.0 else np.float32(p.quality_weight) * log_quality  # (x * 1.0 == x)
    log_access = np.log(access)
    if p.access_weight != 1.0:
        log_access *= np.float32(p.access_weight)
    ws += log_access
    ws += log_reach
    return np.exp(ws, out=ws)


def build_reach(p: Parameters, log_reach, out=None):
    """Customer reach grows toward a mature firm's: each month the firm closes ``reach_build`` of
    the remaining gap in log reach (demand accumulation; Foster, Haltiwanger & Syverson 2016).
    With ``out`` (which may be ``log_reach`` itself) the result is written there."""
    return np.multiply(log_reach, 1.0 - p.reach_build, out=out)


def diversification(p: Parameters, annual_sales):
    """How much a firm's shocks shrink with its size: sqrt(c + (1 - c) / lines), where
    lines = max(1, annual_sales / sales_per_line) independent lines of business and c is the share
    of a line's shock variance common to the whole firm (Sutton 2002; Buldyrev et al. 2007).
    Single precision, like the shocks it scales."""
    c = p.common_shock_share
    if c >= 1.0:
        return np.ones(np.shape(annual_sales), np.float32)
    inv_lines = np.maximum(annual_sales, 1.0, dtype=np.float32)
    np.divide(np.float32(p.sales_per_line), inv_lines, out=inv_lines)
    np.minimum(inv_lines, np.float32(1.0), out=inv_lines)
    inv_lines *= np.float32(1.0 - c)
    inv_lines += np.float32(c)
    return np.sqrt(inv_lines, out=inv_lines)


class Sales(NamedTuple):
    domestic: np.ndarray
    export: np.ndarray


BOUND_MARGIN = 0.25
"""``clearing_price``'s first guess of how far the price can rise above D / sum w (any value gives
the same price; at the defaults the price rises by about a tenth)."""


def clearing_price(p: Parameters, cap, weight, demand: float) -> float:
    """The price per unit of weight at which city demand is spent: each firm is asked ``P * w``
    and sells at most its capacity; of what full firms turn away, a share ``spillover`` goes to
    firms with spare capacity (customers try another seller) and the rest is lost (to large firms,
    imports, or not bought). P solves
        sum min(cap, P w) + (1 - spillover) * sum max(P w - cap, 0) = demand,
    found exactly by growing the set of full firms (P only rises as it grows; a few passes).
    With spillover 0 it is D / sum w: every turned-away rupiah is lost."""
    total = float(weight.sum(dtype=np.float64))
    if total <= 0:
        return 0.0
    price = demand / total
    s = p.spillover
    if s == 0:
        return price
    ratio = np.divide(cap, weight)  # a firm is full when the price exceeds cap / w
    # Firms whose ratio is above a bound on the price are not full: each pass looks for full firms
    # among the rest only (a tenth of the firms), and the bound is widened if the price passes it.
    # The rows found are the same, in the same order, so the sums are too.
    bound = None
    n_full = -1
    for _ in range(200):
        if bound is None or not price < bound:
            bound = price + BOUND_MARGIN * abs(price)
            near = np.flatnonzero(ratio < bound)
            near_ratio = ratio[near]
        full = near.compress(near_ratio < price)  # (a few thousand rows: summing them by index
        if full.size == n_full:  # beats a masked sum over every firm; compress beats a boolean index)
            break
        n_full = full.size
        w_full = float(weight[full].sum(dtype=np.float64))
        cap_full = float(cap[full].sum(dtype=np.float64))
        denom = total - s * w_full
        if denom <= 0:  # every firm full and every turned-away customer stays: all capacity sells
            return float(ratio.max())
        price = (demand - s * cap_full) / denom
    return price


def export_pull(p: Parameters, access) -> np.ndarray:
    """Share of its domestic pull a firm brings to the export market (float32, 0 to 1): rising in a
    straight line from 0 at access ``export_access_threshold - export_access_spread / 2`` to 1 at
    ``export_access_threshold + export_access_spread / 2``. A firm wins export buyers one at a time
    as its access improves, each with its own requirements (certificates, volumes, contacts), so
    the pull rises gradually rather than at one threshold (docs/ODD.md, Export market). A spread
    of 0 (or below 1e-6, narrower than single precision resolves access) is the hard threshold: 1
    at or above it, else 0."""
    if p.export_access_spread < 1e-6:
        return np.asarray(access >= p.export_access_threshold, np.float32)
    low = p.export_access_threshold - 0.5 * p.export_access_spread
    pull = np.subtract(access, np.float32(low), dtype=np.float32)
    pull *= np.float32(1.0 / p.export_access_spread)
    return np.clip(pull, np.float32(0.0), np.float32(1.0), out=pull)


def market(p: Parameters, cap, weight, access, city_demand: float) -> Sales:
    """Split city demand (and export demand) by weight; each firm sells at most its capacity, and a
    share ``spillover`` of what full firms turn away goes to the others (``clearing_price``).
    Abroad a firm's weight is scaled by its ``export_pull``."""
    price = clearing_price(p, cap, weight, city_demand)
    domestic = np.multiply(weight, np.float32(price))
    np.minimum(cap, domestic, out=domestic)
    w_x = export_pull(p, access)
    w_x *= weight
    total_x = float(w_x.sum(dtype=np.float64))
    if total_x > 0 and p.export_demand_ratio > 0:
        w_x *= np.float32(p.export_demand_ratio * city_demand / total_x)
        export = np.minimum(np.subtract(cap, domestic), w_x, out=w_x)  # spare capacity
    else:
        export = np.zeros_like(cap)
    return Sales(domestic, export)


def profit(p: Parameters, sales):
    """Monthly profit (Rp): margin on sales minus the fixed cost."""
    prof = np.multiply(sales, p.margin)
    prof -= p.fixed_cost
    return prof


def accumulate(p: Parameters, capital, prof, growth_oriented, utilisation, out=None):
    """Next month's capital. Replacing worn capital (``depreciation``) is paid from profit first;
    what remains (net profit) is reinvested at the firm type's rate when the firm used at least
    ``invest_utilisation`` of its capacity, and withdrawn otherwise; a net loss (profit short of
    depreciation, or negative) comes out of capital in full.

    So a viable firm keeps its capital and grows it only while demand presses on its capacity,
    and only as fast as retained earnings allow (a financing constraint: Cooley & Quadrini 2001).
    With ``out`` (which may be ``capital`` itself) the result is written there.
    """
    net = np.multiply(capital, p.depreciation)
    np.subtract(prof, net, out=net)
    # the firm type's rate where the firm invests, else the rate times 0.0: one lookup by a code
    # of two flags' bytes (faster than a lookup by type and a multiply by the investing flag)
    code = np.left_shift(np.asarray(utilisation >= p.invest_utilisation).view(np.uint8), 1)
    code |= np.asarray(growth_oriented, bool).view(np.uint8)
    g, s = p.reinvest_growth, p.reinvest_subsistence
    gain = np.array([s * 0.0, g * 0.0, s, g]).take(code)
    part = np.maximum(net, 0.0)
    gain *= part  # a share of any net profit
    gain += np.minimum(net, 0.0, out=part)  # net losses in full
    return np.add(gain, capital, out=out)


def quality_walk(p: Parameters, log_quality, draw, out=None):
    """Log quality's monthly change: an AR(1) with persistence ``quality_persistence`` below 0 (a
    laggard catches up by copying better firms) and ``1 - leader_imitation * (1 -
    quality_persistence)`` above it (rivals copy a leader's products more slowly), and drift
    ``quality_drift`` (products age as rivals improve); ``draw`` is the month's standard-normal
    change, already scaled by the firm's ``spread``. With persistence 1 it is a random walk. With
    ``out`` (which may be ``log_quality`` itself) the result is written there."""
    step = np.multiply(draw, np.float32(p.quality_sd))
    step += np.float32(p.quality_drift)
    if p.leader_imitation != 1.0 and p.quality_persistence != 1.0:  # leaders revert more slowly
        rho = by_type(log_quality > 0.0, 1.0 - p.leader_imitation * (1.0 - p.quality_persistence),
                       p.quality_persistence)
        out = np.multiply(log_quality, rho, out=out)
        out += step
        return out
    if p.quality_persistence == 1.0:
        return np.add(log_quality, step, out=out)
    out = np.multiply(log_quality, p.quality_persistence, out=out)
    out += step
    return out


def product_events(p: Parameters, uniform, spread):
    """Rows with a product event this month (``uniform < event_rate``) and the event's effect on
    log quality: ``event_sd * spread * z``, with z standard normal, read off the same uniform
    (given an event, ``uniform / event_rate`` is uniform on [0, 1))."""
    rows = np.flatnonzero(below(uniform, p.event_rate))
    if rows.size == 0 or p.event_sd == 0:
        return rows, np.zeros(rows.size)
    z = special.ndtri(np.asarray(uniform[rows]) / p.event_rate)
    return rows, p.event_sd * spread[rows] * z


def exits(p: Parameters, capital, uniform, sales_12m=None, age=None, owners=None):
    """Firms that close this month: capital exhausted; closure for outside reasons; or, on each
    anniversary of entry, a year in which the business did not earn ``exit_profit`` a month over
    its fixed costs (the owner's yearly review of the accounts; equipment the firm holds does not
    count against it, so a grant of unneeded equipment never closes a firm), after which the owner
    closes with probability ``review_close``. ``owners(rows)`` gives the owners' keyed uniforms
    for the rows of firms with a losing year (needed only when review_close < 1). An own-account
    firm (``own_account``) closes for outside reasons with ``exit_hazard + household_hazard``: the
    same uniform below the larger bound."""
    leaving = capital < p.exit_capital
    leaving |= below(uniform, p.exit_hazard)
    if p.household_hazard > 0 and sales_12m is not None:
        own = own_account(p, sales_12m if age is None else annualised_sales(sales_12m, age))
        own &= below(uniform, p.exit_hazard + p.household_hazard)
        leaving |= own
    if sales_12m is not None:
        review = age // 12  # once a year, on the firm's anniversary (// beats % in numpy)
        review *= 12
        review = review == age
        review &= age > 0
        losing = np.multiply(sales_12m, p.margin) < 12.0 * (p.fixed_cost + p.exit_profit)
        losing &= review  # (whole-array comparisons beat picking the ~1/12 of rows under review)
        if p.review_close < 1.0:
            rows = np.flatnonzero(losing)
            if rows.size:
                stay = owners(rows) >= p.review_close  # owners who carry on after a losing year
                losing[rows[stay]] = False
        leaving |= losing
    return leaving


def sales_for_workers(p: Parameters, w: float) -> float:
    """Annual sales at which the ``workers`` rule reaches ``w`` workers (workers_elasticity > 0),
    computed in logs so that a tiny elasticity neither overflows nor underflows."""
    log_ratio = math.log(w / p.workers_at_ref) / p.workers_elasticity
    return p.workers_sales_ref * math.exp(min(log_ratio, 700.0)) if log_ratio > -745.0 else 0.0


def own_account(p: Parameters, annual_sales) -> np.ndarray:
    """Firms without a paid employee: fewer than two ``workers`` at these annual sales."""
    if p.workers_elasticity > 0:
        floor = sales_for_workers(p, 2.0)
    else:
        floor = np.inf if p.workers_at_ref < 2.0 else -np.inf
    return np.asarray(annual_sales) < floor


def workers(p: Parameters, annual_sales):
    """Workers (>= 1), rising with annual sales at elasticity workers_elasticity."""
    ratio = np.maximum(annual_sales, 0.0) / p.workers_sales_ref
    return np.maximum(1.0, p.workers_at_ref * ratio**p.workers_elasticity)


def _workers_above_one(p: Parameters, annual_sales):
    """``workers`` for sales above the one-worker floor, by exp/log (faster than a power)."""
    x = np.divide(annual_sales, p.workers_sales_ref)  # in place: the formula's operations, in order
    np.log(x, out=x)
    x *= p.workers_elasticity
    np.exp(x, out=x)
    x *= p.workers_at_ref
    return x


def total_workers(p: Parameters, annual_sales) -> float:
    """``workers(p, annual_sales).sum()``, raising to a power only where the result exceeds 1."""
    if p.workers_elasticity == 0:
        return float(annual_sales.size * max(1.0, p.workers_at_ref))
    floor = sales_for_workers(p, 1.0)
    above = np.compress(annual_sales > floor, annual_sales)  # (faster than a boolean index)
    return float(annual_sales.size - above.size + _workers_above_one(p, above).sum())


def annualised_sales(sales_12m, age_months):
    """Sales over the last 12 months, scaled up for firms younger than a year."""
    months = np.minimum(np.maximum(age_months, 1), 12)  # (np.clip's overhead is larger)
    return sales_12m * (12.0 / months)


_NODES = 2**14 + 1
_GRID = np.linspace(0.0, 1.0, _NODES)


def _beta_inverse(a: float, b: float, u):
    return special.betaincinv(a, b, u)


def _gamma_inverse(a: float, b: float, u):
    return special.gammaincinv(a, u)  # (b unused: the unit scale)


@functools.lru_cache(maxsize=16)
def _quantile_table(inverse, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """The quantile function's values at the grid's nodes, and the slope of each interval."""
    table = inverse(a, b, _GRID)
    table[-1] = inverse(a, b, 1.0 - 0.5 / (_NODES - 1))  # (finite: u = 1 is never drawn, and the
    slopes = np.diff(table) / np.diff(_GRID)               # last intervals are inverted exactly)
    return table, slopes


def _quantile(inverse, a: float, b: float, u: np.ndarray, upper: float = 4.0 / (_NODES - 1)) -> np.ndarray:
    """A quantile function at ``u``: interpolated in a table of 16,385 exact values (built once
    per distribution), exact in the first four intervals and above ``1 - upper``, where the
    function is steep. Several times faster than inverting each draw."""
    u = np.asarray(u, float)
    table, slopes = _quantile_table(inverse, float(a), float(b))
    # np.interp's result, exactly (its formula, slope * (u - x_j) + y_j), but the grid is even, so
    # the interval is u * 2**14 rounded down instead of a binary search (ten times faster)
    j = np.multiply(u, _NODES - 1).astype(np.intp)
    np.minimum(j, _NODES - 2, out=j)  # (u = 1 is never drawn, and the tail is inverted exactly)
    q = slopes[j]
    q *= u - _GRID[j]
    q += table[j]
    tails = (u < 4.0 / (_NODES - 1)) | (u > 1.0 - upper)
    if tails.any():
        q[tails] = inverse(a, b, u[tails])
    return q


def beta_quantile(a: float, b: float, u: np.ndarray) -> np.ndarray:
    """The Beta(a, b) quantile function at ``u`` (interpolated; see ``_quantile``)."""
    return _quantile(_beta_inverse, a, b, u)


def gamma_quantile(shape: float, u: np.ndarray) -> np.ndarray:
    """The quantile function of a Gamma(shape, 1) variable at ``u`` (interpolated; see ``_quantile``;
    exact above u = 1 - 1/64, where the unbounded upper tail is too steep to interpolate; relative
    error below 5e-5 for shapes 0.5-3, tested)."""
    return _quantile(_gamma_inverse, shape, 1.0, u, upper=1.0 / 64)


def volatility_factor(p: Parameters, u: np.ndarray) -> np.ndarray:
    """A volatility spell's factor on the SD of a firm's shocks, from a uniform ``u``: the square
    root of a Gamma variable of mean 1 and variance ``volatility_dispersion`` (d), by inversion
    (d = 0 gives 1). A normal shock whose variance is such a factor has excess kurtosis 3d; with
    d = 1 the factor's square is exponential and the shock is a Laplace."""
    d = p.volatility_dispersion
    if d == 0:
        return np.ones(len(u))
    v = gamma_quantile(1.0 / d, u)
    v *= d
    return np.sqrt(v, out=v)


def spell_length(p: Parameters, u: np.ndarray) -> np.ndarray:
    """A volatility spell's length in months (>= 1), from a uniform ``u`` in (0, 1): geometric with
    mean ``volatility_spell``, so a spell ends in any month with chance 1 / volatility_spell."""
    q = 1.0 / p.volatility_spell
    if q >= 1.0:
        return np.ones(len(u), np.int32)
    return (1.0 + np.floor(np.log(u) / np.log1p(-q))).astype(np.int32)


def new_spells(p: Parameters, keys: Keys, t, month: int) -> None:
    """Firms whose volatility spell ended draw a new one (its factor and length keyed by firm id
    and month): a few percent of firms a month, found by one comparison."""
    if p.volatility_dispersion == 0:
        return
    rows = np.flatnonzero(t["volatility_until"] <= month)
    if rows.size == 0:
        return
    u_factor, u_length = keys.uniform_pair(Purpose.VOLATILITY, month, t["firm_id"][rows])
    t["volatility"][rows] = volatility_factor(p, u_factor)
    t["volatility_until"][rows] = month + spell_length(p, u_length)


def entry_count(p: Parameters, keys: Keys, month: int) -> int:
    """How many firms enter this month: Poisson(entry_rate * n_firms), by inverting the Poisson
    distribution at one keyed uniform, so a higher rate never gives fewer entrants on the same
    seed (common random numbers for calibration and sensitivity studies)."""
    rate = p.entry_rate * p.n_firms
    if rate <= 0:
        return 0
    u = keys.generator(Purpose.ENTRY_COUNT, month).random()
    # the smallest k with P(K <= k) >= u: from the continuous inverse, then checked exactly
    # (the same answer as scipy.stats.poisson.ppf, a tenth of its overhead)
    k = max(int(np.ceil(special.pdtrik(u, rate))), 0)
    while k > 0 and special.pdtr(k - 1, rate) >= u:
        k -= 1
    while special.pdtr(k, rate) < u:
        k += 1
    return k


def new_firms(p: Parameters, keys: Keys, k: int, month: int) -> dict:
    """The starting states of the ``k`` entrants of month ``month``. The i-th entrant of a month is
    drawn from keys of (month, i): it is the same firm in every scenario run on the same seed, and
    in every run whose entry rate gives at least i + 1 entrants that month."""
    rank = np.arange(k)
    u_growth, u_access = keys.uniform_pair(Purpose.ENTRANT_TYPE, month, rank)
    u_sector, u_district = keys.uniform_pair(Purpose.ENTRANT_PLACE, month, rank)
    z_ability, z_capital = keys.normal_pair(Purpose.ENTRANT_ABILITY, month, rank)
    z_quality, z_productivity = keys.normal_pair(Purpose.ENTRANT_QUALITY, month, rank)
    z_quality = z_quality.astype(np.float64)
    growth = u_growth < p.growth_share
    median = np.where(growth, p.ability_growth_median, p.ability_subsistence_median)
    ability = median * np.exp(p.ability_sd * z_ability.astype(np.float64))
    capital = p.entrant_capital_median * np.exp(p.entrant_capital_sd * z_capital.astype(np.float64))
    log_quality = p.entrant_quality_sd * z_quality
    log_reach = np.full(k, float(p.entrant_reach))
    log_productivity = p.shock_sd * z_productivity.astype(np.float64)  # from the long-run spread
    u_factor, u_length = keys.uniform_pair(Purpose.ENTRANT_VOLATILITY, month, rank)
    volatility = volatility_factor(p, u_factor)
    volatility_until = month + spell_length(p, u_length)
    access = beta_quantile(p.access_alpha, p.access_beta, u_access)  # Beta(a, b) by inversion
    access = np.clip(access, 1e-3, 1.0)
    sector = (u_sector * len(SECTORS)).astype(np.int8)
    district = (u_district * p.n_districts).astype(np.int8)
    return dict(growth_oriented=growth, ability=ability, capital=capital,
                log_quality=log_quality, log_reach=log_reach,
                log_productivity=log_productivity, volatility=volatility, volatility_until=volatility_until,
                access=access, access_base=access.copy(),
                sector=sector, district=district,
                entry_month=np.full(k, month, np.int32))


SECTORS = ("food_beverage", "fashion_craft", "retail_trade", "services", "manufacturing")
"""Sector labels (for reporting and, later, targeting); the rules are the same in every sector."""
