"""Measurements of firm dynamics on firm snapshot tables: pure functions, one figure each.

A *snapshot* is a firm table as ``sim.run.firm_snapshot`` writes it (``firm_id``, ``age_months``,
``annual_sales``, ``capital``, ``workers``, ``registered``, …). ``sim.validate`` compares these
measurements with published patterns; the sources are cited there (``TARGETS``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .classes import CLASS_NAMES, classify

YOUNG = (12, 48)  # "aged 1-3 years": at least 12 and under 48 months old at the start of the year
OLD = 120  # "aged 10 years or more"


def law_classes(snap: pd.DataFrame, law: str) -> pd.Series:
    """Size class names of each firm under ``law`` (``sim.classes.classify``)."""
    codes = classify(law, snap["capital"].to_numpy(), snap["annual_sales"].to_numpy(),
                     snap["age_months"].to_numpy())
    return pd.Series(pd.Categorical.from_codes(codes, CLASS_NAMES), index=snap.index)


def class_shares(snap: pd.DataFrame, law: str) -> dict[str, float]:
    """Share of firms in each size class under ``law`` (fractions summing to 1)."""
    counts = law_classes(snap, law).value_counts(normalize=True)
    return {name: float(counts.get(name, 0.0)) for name in CLASS_NAMES}


def by_class_means(snap: pd.DataFrame, law: str, column: str) -> dict[str, float]:
    """Mean of ``column`` within each size class under ``law`` (NaN for an empty class)."""
    means = snap[column].groupby(law_classes(snap, law), observed=True).mean()
    return {name: float(means.get(name, np.nan)) for name in CLASS_NAMES}


# -- growth of survivors -------------------------------------------------------------------------
def growth_table(before: pd.DataFrame, after: pd.DataFrame, *, min_age: int = 12) -> pd.DataFrame:
    """One-year log growth of annual sales of the firms in both snapshots (12 months apart).

    Only firms at least ``min_age`` months old at the start (their annual sales are a full year's)
    with positive sales in both years count. Columns: firm_id, age_months and size (annual sales)
    at the start, growth = log(sales after / sales before).
    """
    a = before.loc[(before["age_months"] >= min_age) & (before["annual_sales"] > 0),
                   ["firm_id", "age_months", "annual_sales"]]
    b = after.loc[after["annual_sales"] > 0, ["firm_id", "annual_sales"]]
    m = a.merge(b, on="firm_id", suffixes=("", "_after"))
    return pd.DataFrame({
        "firm_id": m["firm_id"].to_numpy(),
        "age_months": m["age_months"].to_numpy(),
        "size": m["annual_sales"].to_numpy(),
        "growth": np.log(m["annual_sales_after"].to_numpy() / m["annual_sales"].to_numpy()),
    })


def yearly_growth(snapshots: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """``growth_table`` of every pair of snapshots 12 months apart, stacked, with the start month."""
    parts = [growth_table(snapshots[t], snapshots[t + 12]).assign(month=t)
             for t in sorted(snapshots) if t + 12 in snapshots]
    if not parts:
        return pd.DataFrame(columns=["firm_id", "age_months", "size", "growth", "month"])
    return pd.concat(parts, ignore_index=True)


def mean_growth(growth: pd.DataFrame, min_age: int, max_age: int | None = None) -> float:
    """Mean growth of firms aged ``min_age`` <= age < ``max_age`` months at the start of the year."""
    age = growth["age_months"]
    keep = (age >= min_age) if max_age is None else (age >= min_age) & (age < max_age)
    return float(growth.loc[keep, "growth"].mean()) if keep.any() else float("nan")


def size_groups(growth: pd.DataFrame, n: int) -> pd.Series:
    """Size group 0 (smallest) … n - 1 of each observation: quantiles of size at the start,
    within each start month (ties broken by order, so the groups are equal in count)."""
    month = growth["month"] if "month" in growth else pd.Series(0, index=growth.index)
    return growth["size"].groupby(month).transform(
        lambda s: pd.qcut(s.rank(method="first"), n, labels=False)).astype(int)


def smallest_minus_largest(growth: pd.DataFrame, n: int = 5) -> float:
    """Mean growth of the smallest size quintile minus that of the largest (Evans 1987; Hall 1987)."""
    if len(growth) < 2 * n:
        return float("nan")
    means = growth["growth"].groupby(size_groups(growth, n)).mean()
    return float(means.iloc[0] - means.iloc[-1])


def decile_table(growth: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Per size decile: mean size, mean growth and SD of growth."""
    g = growth.assign(group=size_groups(growth, n))
    return g.groupby("group").agg(mean_size=("size", "mean"), mean_growth=("growth", "mean"),
                                  sd_growth=("growth", "std"), firms=("growth", "size"))


def volatility_slope(deciles: pd.DataFrame) -> tuple[float, float]:
    """Slope and intercept of log SD of growth on log mean size across size groups (OLS).
    Stanley et al. 1996 find SD ∝ size^beta with beta ≈ -0.15 … -0.2."""
    ok = (deciles["sd_growth"] > 0) & (deciles["mean_size"] > 0)
    if ok.sum() < 3:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(np.log(deciles.loc[ok, "mean_size"]), np.log(deciles.loc[ok, "sd_growth"]), 1)
    return float(slope), float(intercept)


def standardised_growth(growth: pd.DataFrame, n: int = 10) -> np.ndarray:
    """Growth rates standardised within size deciles: (g - decile mean) / decile SD."""
    groups = size_groups(growth, n)
    by = growth["growth"].groupby(groups)
    z = (growth["growth"] - by.transform("mean")) / by.transform("std")
    return z.to_numpy()[np.isfinite(z.to_numpy())]


def tent_shape(z: np.ndarray) -> dict[str, float]:
    """Laplace against normal, both fitted by maximum likelihood (Stanley et al. 1996; Bottazzi &
    Secchi 2006): mean log-likelihood per observation of each, their difference (> 0 favours the
    tent-shaped Laplace) and the excess kurtosis (Laplace 3, normal 0)."""
    z = np.asarray(z, float)
    if z.size < 10:
        return dict(loglik_diff=np.nan, excess_kurtosis=np.nan, laplace_loc=np.nan, laplace_scale=np.nan,
                    normal_loc=np.nan, normal_scale=np.nan)
    lap = stats.laplace.fit(z)
    nor = stats.norm.fit(z)
    diff = stats.laplace.logpdf(z, *lap).mean() - stats.norm.logpdf(z, *nor).mean()
    return dict(loglik_diff=float(diff), excess_kurtosis=float(stats.kurtosis(z)),
                laplace_loc=float(lap[0]), laplace_scale=float(lap[1]),
                normal_loc=float(nor[0]), normal_scale=float(nor[1]))


# -- the size distribution -----------------------------------------------------------------------
def size_histogram(sales: np.ndarray, width: float = 0.5, ids: np.ndarray | None = None) -> pd.Series:
    """Firms by log10 annual sales in bins ``width`` decades wide (index: lower edge).

    With ``ids`` (one firm id per value, e.g. snapshots pooled over years), each bin counts the
    distinct firms in it instead of the observations (a firm seen in several years counts once per
    bin); the bins are the same either way."""
    sales = np.asarray(sales, float)
    positive = sales > 0
    x = np.log10(sales[positive])
    if x.size == 0:
        return pd.Series(dtype=int)
    edges = np.arange(np.floor(x.min() / width) * width, x.max() + width, width)
    if ids is None:
        counts, _ = np.histogram(x, bins=edges)
    else:
        b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)  # np.histogram's bins
        pairs = np.unique(np.stack([b, np.asarray(ids)[positive]]), axis=1)  # (bin, firm) once each
        counts = np.bincount(pairs[0], minlength=edges.size - 1)
    return pd.Series(counts, index=np.round(edges[:-1], 6))


def rises_above_mode(counts, min_count: int = 10, firms=None) -> int:
    """How often the count rises from one bin to the next larger bin, from the mode up to the last
    bin holding at least ``min_count`` firms. 0 = no second mode, no "missing middle".

    ``firms``: distinct firms per bin, when ``counts`` pools observations of the same firms (yearly
    snapshots): a bin is then far enough into the data only if ``min_count`` different firms are in
    it (one firm seen in ten snapshots is one firm, not ten)."""
    c = np.asarray(counts)
    if c.size == 0:
        return 0
    start = int(np.argmax(c))
    enough = np.flatnonzero((c if firms is None else np.asarray(firms)) >= min_count)
    end = int(enough.max()) if enough.size else start
    return int(np.count_nonzero(np.diff(c[start:end + 1]) > 0))


def ccdf(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Share of ``values`` at or above each point of ``grid`` (complementary CDF)."""
    v = np.sort(np.asarray(values, float))
    return 1.0 - np.searchsorted(v, grid, side="left") / max(v.size, 1)


def mean_by_age_years(snap: pd.DataFrame, column: pd.Series, max_years: int = 40) -> pd.Series:
    """Mean of ``column`` (aligned with ``snap``) by whole years of age, 0 … ``max_years``."""
    years = snap["age_months"] // 12
    keep = years <= max_years
    return column[keep].groupby(years[keep]).mean()


def workers_old_over_young(snap: pd.DataFrame, old=(420, 480), young=60) -> float:
    """Mean workers of firms aged 35-39 years over those under 5 (Hsieh & Klenow 2014)."""
    age = snap["age_months"]
    old_w = snap.loc[(age >= old[0]) & (age < old[1]), "workers"]
    young_w = snap.loc[age < young, "workers"]
    if old_w.empty or young_w.empty or young_w.mean() <= 0:
        return float("nan")
    return float(old_w.mean() / young_w.mean())


# -- survival --------------------------------------------------------------------------------------
def survival_at(survival: pd.Series, age_months: int) -> float:
    """Share of entrants alive ``age_months`` after entry (NaN when the run is too short)."""
    value = survival.get(age_months, np.nan)
    return float(value)


def annual_hazard(survival: pd.Series, year: int) -> float:
    """Share of the entrants alive at the start of their ``year``-th year (1 = the first) who exit
    during it: 1 - S(12·year) / S(12·(year - 1))."""
    start = 1.0 if year == 1 else survival_at(survival, 12 * (year - 1))
    end = survival_at(survival, 12 * year)
    return 1.0 - end / start if start > 0 else float("nan")


# -- graduation ------------------------------------------------------------------------------------
def stock_death(snapshots: dict[int, pd.DataFrame], months: int) -> float:
    """Of the firms in the first snapshot (of every age: the stock, as a panel survey samples it),
    the share not in the snapshot ``months`` later; NaN without that snapshot."""
    first = min(snapshots)
    if first + months not in snapshots:
        return float("nan")
    start = snapshots[first]["firm_id"].to_numpy()
    if start.size == 0:
        return float("nan")
    alive = np.isin(start, snapshots[first + months]["firm_id"].to_numpy())
    return 1.0 - float(np.count_nonzero(alive)) / start.size


def graduation_rate(before: pd.DataFrame, after: pd.DataFrame, law: str) -> tuple[int, int]:
    """Registered micro firms at the start (under ``law``) and how many of them are small or larger
    a year later (firms that exit in the year stay in the denominator)."""
    micro = before.loc[before["registered"].to_numpy() & (law_classes(before, law) == "micro").to_numpy(),
                       "firm_id"]
    up = after.loc[(law_classes(after, law) != "micro").to_numpy(), "firm_id"]
    return int(np.isin(up, micro).sum()), int(len(micro))


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` (NaNs dropped) and its t interval; NaN bounds with fewer than two values."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(v.mean())
    if v.size < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return mean, float(mean - half), float(mean + half)
