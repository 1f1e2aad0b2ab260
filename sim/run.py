"""One run is a function: parameters + seed + months -> outcome tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import __version__, phases
from .classes import CLASS_NAMES
from .model import MSMEModel
from .params import ParameterError, Parameters


@dataclass
class RunResult:
    """Everything one run produces. ``monthly`` has one row per month (month 0 = the start)."""
    params: Parameters
    seed: int
    months: int
    monthly: pd.DataFrame
    cohorts: pd.DataFrame
    survival: pd.Series
    snapshots: dict[int, pd.DataFrame] = field(default_factory=dict)
    scenario: str = "custom"
    events: list = field(default_factory=list)
    effects: pd.DataFrame | None = None  # against a baseline run in lockstep (``compare_with``)
    sizes: pd.DataFrame | None = None  # the firm-size distribution at the end (``size_distribution``)

    def metadata(self) -> dict:
        events = [{"type": e.type, **{k: v for k, v in e.values.items() if not k.startswith("_")}}
                  for e in self.events]
        return dict(scenario=self.scenario, seed=self.seed, months=self.months, version=__version__,
                    burn_in_seed=self.params.burn_in_seed, parameters=self.params.to_dict(),
                    events=events)


def firm_snapshot(model: MSMEModel) -> pd.DataFrame:
    """Firm-level table of the current month (one row per live firm)."""
    city = model.city
    t = city.firms
    age = city.age()
    annual = phases.annualised_sales(t["sales_12m"], age)
    return pd.DataFrame({
        "month": city.month,
        "firm_id": t["firm_id"].copy(),
        "age_months": age,
        "sector": pd.Categorical.from_codes(t["sector"], phases.SECTORS),
        "district": t["district"].copy(),
        "growth_oriented": t["growth_oriented"].copy(),
        "ability": t["ability"].copy(),
        "capital": t["capital"].copy(),
        "quality": np.exp(t["log_quality"]),
        "productivity": np.exp(t["log_productivity"]),
        "reach": np.exp(t["log_reach"]),
        "access": t["access"].copy(),
        "sales_month": t["sales"].copy(),
        "utilisation": t["utilisation"].astype(np.float64),
        "annual_sales": annual,
        "export_sales_month": t["export_sales"].copy(),
        "exporter": t["export_sales"] > 0,
        "workers": phases.workers(model.params, annual),
        "size_class": pd.Categorical.from_codes(t["size_class"], CLASS_NAMES),
        "aware": t["aware"].copy(),
        "registered": t["registered"].copy(),
    }).sort_values("firm_id", ignore_index=True)


def run(params: Parameters | None = None, *, seed: int | None = None, months: int = 120,
        snapshot_months: Iterable[int] = (), progress: Callable[[int, int], None] | None = None,
        use_cache: bool = True, events=(), compare_with=None, **overrides) -> RunResult:
    """Run the city for ``months`` months from ``seed`` and return its outcome tables.

    ``overrides`` are parameter values on top of ``params`` (validated before any work).
    ``snapshot_months`` asks for firm-level tables at those months (0 = the start).
    ``progress(done, total)`` is called after each month. ``events``: from a scenario
    (``run_scenario`` loads one). ``compare_with``: a baseline ``(Parameters, events)`` run in lockstep
    on the same seed; the result's ``effects`` then splits the difference (``sim.effects``).
    """
    if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months < 0:
        raise ParameterError(f"months = {months!r} must be a whole number >= 0")
    wanted = sorted(set(snapshot_months))
    bad = [m for m in wanted if not (isinstance(m, (int, np.integer)) and 0 <= m <= months)]
    if bad:
        raise ParameterError(f"snapshot_months {bad} must be whole months in [0, {months}]")
    model = MSMEModel(params, rng=seed, use_cache=use_cache, events=events, **overrides)
    tracker = None
    if compare_with is not None:
        from .effects import PairTracker
        base_params, base_events = compare_with
        tracker = PairTracker(model, MSMEModel(base_params, rng=model.seed, use_cache=use_cache,
                                               events=list(base_events)))
    snapshots = {}
    if 0 in wanted:
        snapshots[0] = firm_snapshot(model)
    for m in range(1, months + 1):
        if tracker is None:
            model.step()
        else:
            tracker.step()
        if m in wanted:
            snapshots[m] = firm_snapshot(model)
        if progress is not None:
            progress(m, months)
    monthly = model.outcomes
    monthly.insert(0, "seed", model.seed)
    rec = model.city.recorder
    return RunResult(model.params, model.seed, months, monthly, rec.cohort_table(),
                     rec.survival_curve(), snapshots, events=list(events),
                     effects=None if tracker is None else tracker.table(),
                     sizes=size_distribution(model.city.annual_sales))


SIZE_EDGES = 10.0 ** np.arange(5.0, 12.0 + 1e-9, 0.125)
"""Bin edges of ``size_distribution``: annual sales from Rp 100,000 to Rp 1,000 bn, 8 bins a decade."""


def size_distribution(annual_sales: np.ndarray) -> pd.DataFrame:
    """Firms by annual sales in log-spaced bins (``SIZE_EDGES``; the first and last bins also hold
    what lies below and above): a few dozen rows that keep the size distribution of a run, its
    upper tail included, without storing every firm."""
    clipped = np.clip(annual_sales, SIZE_EDGES[0], np.nextafter(SIZE_EDGES[-1], 0))
    counts, _ = np.histogram(clipped, SIZE_EDGES)
    return pd.DataFrame({"bin": np.arange(counts.size), "low": SIZE_EDGES[:-1], "high": SIZE_EDGES[1:],
                         "firms": counts})


def run_scenario(scenario, *, seed: int | None = None, months: int | None = None, **kw) -> RunResult:
    """Run a ``sim.scenario.Scenario`` (or a scenario name or path) over its horizon."""
    from .scenario import Scenario, load
    if isinstance(scenario, Scenario):
        sc = scenario
    else:
        years = None if months is None else -(-months // 12)  # the horizon events must fit in
        sc = load(scenario, years=years)
    months = sc.years * 12 if months is None else months
    result = run(sc.params, seed=seed, months=months, events=sc.events, **kw)
    result.scenario = sc.name
    return result
