"""The city: the firm table, its keyed random numbers, the office, and the monthly step.

``City`` knows nothing of mesa; ``sim.model.MSMEModel`` wraps it as a mesa Model with firms and
the office as agents. A month is:

0. office  - the office's work: awareness, registration, applications, services (sim/office.py);
1. draw    - each firm's keyed random numbers for the month (productivity shock, quality change,
             closure): functions of (seed, firm id, month), not of row order (sim/keyed.py);
             shocks shrink with the firm's lines of business (diversification) and scale with its
             volatility spell (firms whose spell ended draw a new one);
2. produce - capacity from capital, ability and the persistent productivity shock;
3. market  - city (and export) demand split by quality, access and capacity; a share of what full
             firms turn away goes to firms with spare capacity; sales;
4. book    - 12-month sales history;
5. finance - profit, loan instalments, replacing depreciation, reinvestment, losses; loan defaults;
6. quality - random walk of product quality and product events; customer reach builds; training and access gains fade;
7. exit    - closures (capital exhausted, outside reasons, or an owner's decision after a losing
             year);
8. entry   - new micro firms (a Poisson number keyed by month; traits keyed by month and rank);
9. classify - size classes; graduations and downgrades among survivors;
10. record - the month's outcomes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import instruments, phases
from .classes import MEDIUM, MICRO, SMALL, classify
from .keyed import Keys, Purpose
from .office import Office
from .outcomes import MonthRecorder
from .params import Parameters
from .state import HISTORY, FirmTable


def graduations(t: FirmTable, changed: np.ndarray, after: np.ndarray, survivors: int) -> np.ndarray:
    """This month's graduations, each firm counted once per class it leaves behind.

    ``firsts[s, c]``: firms (s = 1 if ever served by the office) that rose above class c (0 micro,
    1 small) for the first time since entry (or month 0). A firm that falls back and crosses again
    is not counted again, so a firm hovering at a threshold is one graduation, not several (the
    monthly ``grad_*`` class moves count every crossing). Updates ``peak_class``; entrants (rows
    from ``survivors`` on) start with their class at entry. ``changed``: survivors' rows whose class
    changed this month (only they can pass their peak), ``after``: survivors' classes now."""
    peak = t["peak_class"]
    up = changed[after[changed] > peak[changed]]
    old, new = peak[up], after[up]
    served = (t["times_served"][up] > 0).astype(np.intp)
    firsts = np.zeros((2, 2), np.int64)
    np.add.at(firsts, (served[old == MICRO], 0), 1)
    np.add.at(firsts, (served[(old <= SMALL) & (new >= MEDIUM)], 1), 1)
    peak[up] = new
    peak[survivors:] = t["size_class"][survivors:]
    return firsts


class City:
    """The firm population of one run and its monthly step."""

    def __init__(self, params: Parameters, seed: int | Keys, table: FirmTable,
                 *, record: bool = True):
        self.p = params
        self.keys = seed if isinstance(seed, Keys) else Keys(seed)
        self.firms = table
        self.month = 0
        # the office's draws are keyed too (by purpose): they never shift the firms' draws
        self.office = Office(params, self.keys) if params.office else None
        self.demand_shocks: list[Callable[[int], float]] = []  # month -> demand multiplier
        self.defaults = 0
        self.recorder = MonthRecorder(self) if record else None
        t = table
        age = self.age()
        self.annual_sales = phases.annualised_sales(t["sales_12m"], age)
        t["size_class"][:] = classify(params.size_law, t["capital"], self.annual_sales, age)
        t["peak_class"][:] = t["size_class"]  # (what a firm held before month 0 is not known)
        if self.recorder:
            self.recorder.record(entries=0, moves=None, firsts=None)

    # -- derived quantities -----------------------------------------------------------------
    def age(self) -> np.ndarray:
        return self.month - self.firms["entry_month"]

    def city_demand(self, month: int | None = None) -> float:
        m = self.month if month is None else month
        d = self.p.n_firms * self.p.demand_per_firm * (1.0 + self.p.demand_growth) ** (m / 12.0)
        for shock in self.demand_shocks:
            d *= shock(m)
        return d

    # -- the step ------------------------------------------------------------------------------
    def step(self) -> None:
        p, t, keys = self.p, self.firms, self.keys
        self.month += 1
        month = self.month
        # 1. draw: each firm's own luck this month, whatever row it is in (one hash gives the
        # closure, product-event and office-pipeline uniforms)
        ids = t["firm_id"]
        uniform, u_event, u_office = keys.uniform_triple(Purpose.EXIT, month, ids)
        # 0. the office (its other draws are keyed by their own purposes)
        if self.office is not None:
            self.office.act(self, u_office)
        log_shock, quality_draw = keys.normal_pair(Purpose.SHOCKS, month, ids)  # single precision
        spread = phases.diversification(p, self.annual_sales)  # larger firms' shocks average out
        phases.new_spells(p, keys, t, month)  # calm and turbulent spells of a firm's business
        if p.volatility_dispersion != 0:
            spread *= t["volatility"]
        quality_draw *= spread
        # 2-3. produce and sell
        lp = t["log_productivity"]
        phases.productivity_walk(p, lp, log_shock, spread, out=lp)
        log_cap = phases.log_capacity(p, t["capital"], t["ability"], lp)
        cap = np.exp(log_cap)
        weight = phases.demand_weight(p, log_cap, t["log_quality"] + t["training"], t["access"],
                                      t["growth_oriented"], t["log_reach"])
        sold = phases.market(p, cap, weight, t["access"], self.city_demand())
        # 4. book the month's sales
        sales = np.add(sold.domestic, sold.export, out=t["sales"])
        slot = (month - 1) % HISTORY
        hist = t["sales_history"]
        t["sales_12m"][:] += sales - hist[:, slot]
        hist[:, slot] = sales
        t["export_sales"][:] = sold.export
        utilisation = np.divide(sales, cap, out=cap)  # (capacity is not needed after this)
        t["utilisation"][:] = utilisation
        # 5. finance
        prof = phases.profit(p, sales)
        instruments.pay_instalments(p, t, prof)
        phases.accumulate(p, t["capital"], prof, t["growth_oriented"], utilisation, out=t["capital"])
        # 6. quality, and the fading of services' effects
        lq = t["log_quality"]
        phases.quality_walk(p, lq, quality_draw, out=lq)
        rows, jumps = phases.product_events(p, u_event, spread)  # lumpy gains and losses
        lq[rows] += jumps
        reach = t["log_reach"]
        phases.build_reach(p, reach, out=reach)
        instruments.fade(p, t)
        # 7. exit (a firm that closes with a loan outstanding defaults on it)
        leaving = phases.exits(p, t["capital"], uniform, t["sales_12m"], self.age(),
                               owners=lambda rows: keys.uniform(Purpose.REVIEW, month, ids[rows]))
        defaulting = leaving & (t["loan_balance"] > 0)
        self.defaults = int(np.count_nonzero(defaulting))
        if self.recorder:
            self.recorder.before_exit(leaving)
        t.remove(leaving)
        # 8. entry
        k = phases.entry_count(p, keys, month)
        new_rows = t.append(phases.new_firms(p, keys, k, month), k)
        # 9. classify
        age = self.age()
        self.annual_sales = phases.annualised_sales(t["sales_12m"], age)
        survivors = new_rows.start
        before = t["size_class"][:survivors].copy()
        t["size_class"][:] = classify(p.size_law, t["capital"], self.annual_sales, age)
        after = t["size_class"][:survivors]
        changed = np.flatnonzero(before != after)  # a few hundred of ~90,000 a month
        if self.office is not None and self.office.monitoring_evaluation:
            self.office.credit_graduations(self, changed[after[changed] > before[changed]])
        # moves[s, a, b]: survivors (s = 1 if ever served by the office) that changed from class a
        # to class b (a != b; firms that stayed are not counted)
        code = before[changed].astype(np.intp)
        code *= 4
        code += after[changed]
        code += 16 * (t["times_served"][changed] > 0)
        moves = np.bincount(code, minlength=32).reshape(2, 4, 4)
        firsts = graduations(t, changed, after, survivors)
        # 10. record
        if self.recorder:
            self.recorder.record(entries=k, moves=moves, firsts=firsts)

    def run(self, months: int) -> None:
        for _ in range(months):
            self.step()
