"""Effects where the policy acts: a scenario against its baseline on the same seed, firm by firm.

Because every firm draws the same luck in both runs (``sim/keyed.py``), the two runs can be
compared firm by firm. ``PairTracker`` steps the scenario's model and the baseline's in lockstep and
splits the difference into:

- **served**: the firms the scenario's office served, against the same firms in the baseline run,
  12, 36 and 60 months after their first service in the run (the effect on the treated), by the
  instrument of that first service and for all instruments: share alive, annual sales, capital,
  workers, and share in a higher size class than at first service;
- **groups** at the end of the run, as totals over firms (closed firms count zero): the firms the
  scenario's office served (``served_by_scenario``), the firms only the baseline's office served
  (``served_by_baseline_only``: services the scenario displaced or withheld), ``everyone_else``
  (spillover and displacement through the shared market, and entrants), and the ``net`` city effect
  (their sum): firms alive, annual sales, capital, workers, and firms in a higher class than at the
  start (entrants start micro);
- **cost**: the difference in office spending over the run, and per job-year added, per graduation
  added (micro to small, small to medium), per rupiah of extra MSME sales (incremental
  cost-effectiveness ratios: a negative or tiny denominator makes a ratio meaningless, and the
  summary then says so).

``compare`` runs one pair from scenario names (or ``Scenario`` objects) and returns the table;
sweeps call ``PairTracker`` through ``sim.sweep.execute`` and store the table per run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import phases
from .classes import MICRO
from .params import INSTRUMENTS

HORIZONS = (12, 36, 60)
FIRM_MEASURES = ("alive", "sales", "capital", "workers", "higher_class")
COST_MEASURES = ("spend", "job_years", "graduations", "sales_total")
GROUPS = ("served_by_scenario", "served_by_baseline_only", "everyone_else", "net")
COLUMNS = ("part", "horizon", "instrument", "measure", "n", "in_scenario", "in_baseline", "diff")


def _state(model, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Per firm id: alive, annual sales, capital, workers and size class now (zeros when closed)."""
    city = model.city
    t = city.firms
    row = t.row_of[ids] if len(ids) else np.zeros(0, np.int64)
    alive = row >= 0
    r = row[alive]
    annual = phases.annualised_sales(t["sales_12m"][r], city.month - t["entry_month"][r])
    out = {name: np.zeros(len(ids)) for name in ("sales", "capital", "workers")}
    out["sales"][alive] = annual
    out["capital"][alive] = t["capital"][r]
    out["workers"][alive] = phases.workers(city.p, annual)
    size = np.full(len(ids), -1, np.int64)
    size[alive] = t["size_class"][r]
    out["alive"] = alive.astype(float)
    out["class"] = size
    return out


class _Served:
    """One run's first services in the run: month, instrument, and class then, by firm id."""

    def __init__(self):
        self.month = np.full(1024, -1, np.int32)
        self.instrument = np.zeros(1024, np.int8)
        self.by_month: dict[int, np.ndarray] = {}

    def add(self, model) -> np.ndarray:
        office = model.city.office
        if office is None or not len(office.served_ids):
            return np.zeros(0, np.int64)
        ids = office.served_ids
        need = int(ids.max()) + 1
        if need > len(self.month):
            grow = max(need, 2 * len(self.month))
            self.month = np.concatenate([self.month, np.full(grow - len(self.month), -1, np.int32)])
            self.instrument = np.concatenate([self.instrument, np.zeros(grow - len(self.instrument), np.int8)])
        new = self.month[ids] < 0
        ids = ids[new]
        self.month[ids] = model.city.month
        self.instrument[ids] = office.served_instruments[new]
        self.by_month[model.city.month] = ids
        return ids

    def mask(self, n: int) -> np.ndarray:
        m = np.zeros(n, bool)
        k = min(n, len(self.month))
        m[:k] = self.month[:k] >= 0
        return m


class PairTracker:
    """Follows a scenario's model and its baseline's, stepped in lockstep from the same seed."""

    def __init__(self, scenario, baseline):
        if scenario.seed != baseline.seed:
            raise ValueError("a pair must be run on one seed")
        self.s, self.b = scenario, baseline
        self.served_s, self.served_b = _Served(), _Served()
        self.class_at_service: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # month -> (s, b)
        t = scenario.city.firms
        self.class_start = np.full(t.next_id, MICRO, np.int64)
        self.class_start[t["firm_id"]] = t["size_class"]
        self.rows: list[tuple] = []

    def step(self) -> None:
        """Step both models one month and record what the month settles."""
        self.s.step()
        self.b.step()
        month = self.s.month
        new = self.served_s.add(self.s)
        self.served_b.add(self.b)
        if len(new):
            self.class_at_service[month] = (_state(self.s, new)["class"], _state(self.b, new)["class"])
        for h in HORIZONS:
            ids = self.served_s.by_month.get(month - h)
            if ids is not None and len(ids):  # (a month may serve only firms served before)
                self._served_at(h, ids, *self.class_at_service[month - h])

    def _served_at(self, h: int, ids, class_s, class_b) -> None:
        now_s, now_b = _state(self.s, ids), _state(self.b, ids)
        now_s["higher_class"] = (now_s["class"] > class_s).astype(float)
        now_b["higher_class"] = (now_b["class"] > class_b).astype(float)
        inst = self.served_s.instrument[ids]
        for i, name in enumerate(INSTRUMENTS):
            mine = inst == i
            if mine.any():
                for m in FIRM_MEASURES:
                    self.rows.append(("served", h, name, m, int(mine.sum()),
                                      float(now_s[m][mine].sum()), float(now_b[m][mine].sum())))

    # -- the table ---------------------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """One pair's effects (long format; see the module docstring). For ``served`` rows the
        values are means per firm, over the ``n`` firms first served at least ``horizon`` months
        before the end; for groups, totals over the group's ``n`` firms; for cost, run totals."""
        served = pd.DataFrame(self.rows, columns=["part", "horizon", "instrument", "measure", "n",
                                                  "in_scenario", "in_baseline"])
        parts = []
        if not served.empty:
            by = served.groupby(["horizon", "instrument", "measure"], as_index=False)[
                ["n", "in_scenario", "in_baseline"]].sum()
            every = by.groupby(["horizon", "measure"], as_index=False)[["n", "in_scenario", "in_baseline"]].sum()
            every["instrument"] = "all"
            both = pd.concat([by, every], ignore_index=True)
            both[["in_scenario", "in_baseline"]] = both[["in_scenario", "in_baseline"]].div(both["n"], axis=0)
            both["part"] = "served"
            parts.append(both)
        parts.append(self._groups())
        parts.append(self._cost())
        out = pd.concat(parts, ignore_index=True)
        out["diff"] = out["in_scenario"] - out["in_baseline"]
        out["horizon"] = out["horizon"].astype(int)
        out["n"] = out["n"].astype(int)
        return out[list(COLUMNS)]

    def _groups(self) -> pd.DataFrame:
        n = max(self.s.city.firms.next_id, self.b.city.firms.next_id)
        ids = np.arange(n)
        start = np.full(n, MICRO, np.int64)
        start[: len(self.class_start)] = self.class_start
        now_s, now_b = _state(self.s, ids), _state(self.b, ids)
        for now in (now_s, now_b):
            now["higher_class"] = (now["class"] > start).astype(float)
        in_s = self.served_s.mask(n)
        in_b = self.served_b.mask(n) & ~in_s
        masks = {"served_by_scenario": in_s, "served_by_baseline_only": in_b,
                 "everyone_else": ~in_s & ~in_b, "net": np.ones(n, bool)}
        rows = []
        for group, mask in masks.items():
            for m in FIRM_MEASURES:
                rows.append(dict(part=group, horizon=self.s.month, instrument="all", measure=m,
                                 n=int(mask.sum()), in_scenario=float(now_s[m][mask].sum()),
                                 in_baseline=float(now_b[m][mask].sum())))
        return pd.DataFrame(rows)

    def _cost(self) -> pd.DataFrame:
        rows = []
        for model in (self.s, self.b):
            m = model.outcomes.iloc[1:]
            rows.append(dict(spend=m["spend_total"].sum(), job_years=m["workers"].sum() / 12.0,
                             graduations=(m["graduated_small"] + m["graduated_medium"]).sum(),
                             sales_total=m["sales"].sum()))
        return pd.DataFrame([dict(part="cost", horizon=self.s.month, instrument="all", measure=k, n=0,
                                  in_scenario=float(rows[0][k]), in_baseline=float(rows[1][k]))
                             for k in COST_MEASURES])


def compare(scenario, baseline="baseline", *, seed: int, months: int | None = None,
            use_cache: bool = True, **overrides) -> pd.DataFrame:
    """Run ``scenario`` and ``baseline`` (names, paths or ``Scenario``s) in lockstep on ``seed``
    and return their effects table (``overrides``: parameter values applied to both)."""
    from .model import MSMEModel
    from .scenario import Scenario, load

    sc = scenario if isinstance(scenario, Scenario) else load(scenario)
    base = baseline if isinstance(baseline, Scenario) else load(baseline)
    months = sc.years * 12 if months is None else months
    models = [MSMEModel(x.params, rng=seed, use_cache=use_cache, events=x.events, **overrides)
              for x in (sc, base)]
    tracker = PairTracker(*models)
    for _ in range(months):
        tracker.step()
    return tracker.table()
