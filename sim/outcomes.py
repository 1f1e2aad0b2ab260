"""Outcomes: pure functions of the city's state and the month's flows, registered by name.

Each month ``MonthRecorder.record`` evaluates every registered outcome once and keeps one row;
``monthly_table`` returns the rows as a tidy pandas DataFrame (one row per month). Entry cohorts
are tracked by entry month, so survival curves are exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import phases
from .classes import CLASS_NAMES, LARGE, MEDIUM, MICRO, SMALL
from .params import INSTRUMENTS

if TYPE_CHECKING:
    from .engine import City

OUTCOMES: dict[str, tuple[str, Callable]] = {}


def outcome(name: str, unit: str):
    """Register ``fn(view) -> scalar`` as the monthly outcome ``name``."""
    def deco(fn):
        OUTCOMES[name] = (unit, fn)
        return fn
    return deco


@dataclass
class MonthView:
    """What outcomes read: the city after the month, and the month's flows."""
    city: City
    entries: int
    exits: int
    moves: np.ndarray | None  # moves[s, a, b]: survivors (s=1: ever served) from class a to b != a
    firsts: np.ndarray | None  # firsts[s, c]: firms (s=1: ever served) above class c for the first time
    annual_sales: np.ndarray
    class_counts: np.ndarray
    large: np.ndarray  # rows of large firms (not MSMEs; usually none or a handful)
    _sums: dict = field(default_factory=dict)  # msme_sum's results, each computed once

    def msme_sum(self, column: str) -> float:
        """Sum of a firm column over MSMEs: the total less the few large firms' part."""
        if column not in self._sums:
            values = self.city.firms[column]
            self._sums[column] = float(values.sum() - values[self.large].sum())
        return self._sums[column]

    def share(self, flag: str) -> float:
        """Share of firms with a true flag column (0 when there are no firms)."""
        n = self.city.firms.n
        return np.count_nonzero(self.city.firms[flag]) / n if n else 0.0


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 equal, 1 one holds all).

    Values are ranked in single precision (a faster sort; the coefficient moves by ~1e-7)."""
    if values.size == 0:
        return float("nan")
    x32 = values.astype(np.float32)
    x32.sort()
    x = x32.astype(np.float64)
    total = x.sum()
    if total <= 0:
        return 0.0
    n = x.size
    x *= _ranks(n)  # (not np.dot: BLAS threads would spin on the cores a sweep's workers use)
    return float((2.0 * x.sum() / (n * total)) - (n + 1.0) / n)


_RANKS = np.zeros(0)


def _ranks(n: int) -> np.ndarray:
    """1.0, 2.0, ..., n (kept between calls: the city's size changes little month to month)."""
    global _RANKS
    if _RANKS.size < n:
        _RANKS = np.arange(1.0, 1.5 * n + 1.0)
    return _RANKS[:n]


def _moves(v: MonthView, a: int, b: int) -> int:
    if v.moves is None:
        return 0
    return int(v.moves[:, a, b].sum())


@outcome("firms", "firms")
def _firms(v): return v.city.firms.n


for _cls, _name in enumerate(CLASS_NAMES):
    outcome(_name, "firms")(lambda v, c=_cls: int(v.class_counts[c]))


@outcome("entries", "firms/month")
def _entries(v): return v.entries


@outcome("exits", "firms/month")
def _exits(v): return v.exits


@outcome("grad_micro_small", "firms/month")
def _g1(v): return _moves(v, MICRO, SMALL)


@outcome("grad_small_medium", "firms/month")
def _g2(v): return _moves(v, SMALL, MEDIUM)


@outcome("grad_medium_large", "firms/month")
def _g3(v): return _moves(v, MEDIUM, LARGE)


@outcome("down_small_micro", "firms/month")
def _d1(v): return _moves(v, SMALL, MICRO)


@outcome("down_medium_small", "firms/month")
def _d2(v): return _moves(v, MEDIUM, SMALL)


def _firsts(v: MonthView, served: int | None, c: int | None) -> int:
    if v.firsts is None:
        return 0
    return int(v.firsts[slice(None) if served is None else served, slice(None) if c is None else c].sum())


@outcome("graduated_small", "firms/month")
def _f1(v): return _firsts(v, None, MICRO)


@outcome("graduated_medium", "firms/month")
def _f2(v): return _firsts(v, None, SMALL)


@outcome("sales", "Rp/month")
def _sales(v): return v.msme_sum("sales")


@outcome("export_sales", "Rp/month")
def _export_sales(v): return v.msme_sum("export_sales")


@outcome("export_share", "share of MSME sales")
def _export_share(v):
    total = v.msme_sum("sales")
    return v.msme_sum("export_sales") / total if total > 0 else 0.0


@outcome("exporters", "firms")
def _exporters(v): return int(np.count_nonzero(v.city.firms["export_sales"] > 0))


@outcome("workers", "workers")
def _workers(v):
    large = v.annual_sales[v.large]
    return phases.total_workers(v.city.p, v.annual_sales) - float(phases.workers(v.city.p, large).sum())


def median(values: np.ndarray) -> float:
    """Exact median by one partition (several times faster than np.median on large arrays)."""
    n = values.size
    if n == 0:
        return float("nan")
    part = np.partition(values, n // 2)
    upper = part[n // 2]
    return float(upper) if n % 2 else float(0.5 * (part[: n // 2].max() + upper))


@outcome("capital_median", "Rp")
def _k_median(v): return median(v.city.firms["capital"])


@outcome("capital_mean", "Rp")
def _k_mean(v):
    k = v.city.firms["capital"]
    return float(k.mean()) if k.size else float("nan")


@outcome("sales_gini", "0-1")
def _sales_gini(v): return gini(v.annual_sales)


@outcome("city_demand", "Rp/month")
def _demand(v): return v.city.city_demand()


@outcome("aware_share", "share")
def _aware(v): return v.share("aware")


@outcome("registered_share", "share")
def _registered(v): return v.share("registered")


# -- the office ---------------------------------------------------------------------------------
def _office(v, attr, default=0.0):
    office = v.city.office
    return default if office is None else getattr(office, attr)


@outcome("queue_length", "firms")
def _queue(v): return int(np.count_nonzero(v.city.firms["queued"]))


@outcome("mean_wait", "months")
def _wait(v):
    q = np.flatnonzero(v.city.firms["queued"])  # (a few hundred rows: faster than a boolean index)
    if q.size == 0:
        return 0.0
    return float((v.city.month - v.city.firms["apply_month"][q]).mean())


@outcome("served", "firms/month")
def _served(v): return int(_office(v, "served", 0))


@outcome("applications", "firms/month")
def _applications(v): return int(_office(v, "applications", 0))


@outcome("service_match", "share")
def _service_match(v): return float(_office(v, "service_match", float("nan")))


@outcome("served_wait", "months")
def _served_wait(v): return float(_office(v, "served_wait", float("nan")))


for _i, _name in enumerate(INSTRUMENTS):
    outcome(f"spend_{_name}", "Rp/month")(
        lambda v, i=_i: float(v.city.office.spent[i]) if v.city.office is not None else 0.0)


@outcome("spend_total", "Rp/month")
def _spend(v): return float(v.city.office.spent.sum()) if v.city.office is not None else 0.0


@outcome("budget_left", "Rp")
def _budget_left(v): return float(_office(v, "budget_left"))


@outcome("office_capacity", "0-1")
def _capacity(v): return float(_office(v, "capacity_now"))


@outcome("coordination", "0-1")
def _coordination(v): return float(_office(v, "coordination"))


@outcome("loans_made", "firms/month")
def _loans(v): return int(_office(v, "loans", 0))


@outcome("loan_defaults", "firms/month")
def _defaults(v): return v.city.defaults


@outcome("assisted_firms", "firms")
def _assisted(v): return int(np.count_nonzero(v.city.firms["times_served"] > 0))


@outcome("grad_assisted", "firms/month")
def _grad_assisted(v):
    return 0 if v.moves is None else int(v.moves[1, MICRO, SMALL] + v.moves[1, SMALL, MEDIUM])


@outcome("grad_never_assisted", "firms/month")
def _grad_never(v):
    return 0 if v.moves is None else int(v.moves[0, MICRO, SMALL] + v.moves[0, SMALL, MEDIUM])


@outcome("graduated_served", "firms/month")
def _f_served(v): return _firsts(v, 1, None)


@outcome("graduated_never_served", "firms/month")
def _f_never(v): return _firsts(v, 0, None)


class MonthRecorder:
    """Keeps one row of outcomes per month and the survivors of every monthly entry cohort."""

    def __init__(self, city: City):
        self.city = city
        self.rows: list[dict] = []
        self._exits = 0
        self.entrants: list[int] = []  # entrants[e] = firms entering in month e (e >= 1)
        self.survivors: list[np.ndarray] = []  # survivors[t][e] = of cohort e, alive after month t
        self._alive = np.zeros(1, np.int64)  # _alive[e] = survivors of cohort e; index 0 unused

    def before_exit(self, leaving: np.ndarray) -> None:
        """Count this month's exits by entry cohort (called before the rows are removed)."""
        self._exits = int(np.count_nonzero(leaving))
        e = self.city.firms["entry_month"][leaving]
        e = e[e >= 1]
        if e.size:
            self._alive -= np.bincount(e, minlength=len(self._alive))

    def record(self, *, entries: int, moves, firsts=None) -> None:
        city = self.city
        t = city.firms
        if city.month >= 1:
            self.entrants.append(entries)
            self._alive = np.append(self._alive, entries)  # index == entry month
        self.survivors.append(self._alive.copy())
        annual = city.annual_sales
        size = t["size_class"]
        counts = np.array([np.count_nonzero(size == c) for c in range(len(CLASS_NAMES))])  # > bincount
        view = MonthView(city, entries, self._exits if city.month else 0, moves, firsts, annual,
                         counts, np.flatnonzero(size == LARGE) if counts[LARGE] else np.zeros(0, np.intp))
        row = {"month": city.month}
        row.update({name: fn(view) for name, (_, fn) in OUTCOMES.items()})
        self.rows.append(row)
        self._exits = 0

    # -- tables ---------------------------------------------------------------------------------
    def monthly_table(self) -> pd.DataFrame:
        """One row per month. ``cost_per_graduation``: office spending so far over graduations of
        served firms so far (``graduated_served``: each firm counted once per class it leaves
        behind; NaN before the first)."""
        df = pd.DataFrame(self.rows)
        grads = df["graduated_served"].cumsum()
        df["cost_per_graduation"] = (df["spend_total"].cumsum() / grads).where(grads > 0)
        return df

    def cohort_table(self) -> pd.DataFrame:
        """Survival of each entry cohort (firms entering in the same calendar year of the run).

        One row per cohort year and month: entrants so far, survivors, survival share.
        """
        T = len(self.survivors) - 1
        rows = []
        entrants = np.array([0, *self.entrants])  # index = entry month
        for t in range(1, T + 1):
            alive = self.survivors[t]
            for year in range((t - 1) // 12 + 1):
                months = range(12 * year + 1, min(12 * year + 12, t) + 1)
                n0 = int(entrants[list(months)].sum())
                s = int(sum(alive[m] for m in months))
                rows.append(dict(cohort_year=year + 1, month=t, entrants=n0, survivors=s,
                                 survival=s / n0 if n0 else np.nan))
        return pd.DataFrame(rows)

    def survival_curve(self, max_age: int | None = None) -> pd.Series:
        """Share of entrants still alive ``a`` months after entry, pooled over monthly cohorts.

        Only cohorts observed for at least ``a`` months count towards age ``a``.
        """
        T = len(self.survivors) - 1
        max_age = T - 1 if max_age is None else max_age
        entrants = np.array([0, *self.entrants])
        out = {}
        for a in range(0, max_age + 1):
            cohorts = range(1, T - a + 1)
            n0 = entrants[1: T - a + 1].sum()
            s = sum(self.survivors[e + a][e] for e in cohorts)
            out[a] = s / n0 if n0 else np.nan
        return pd.Series(out, name="survival").rename_axis("age_months")
