"""Calibration: fit the model's uncertain parameters to public figures, reproducibly.

The procedure (``msme-sim calibrate``; docs/calibration.md):

1. **Moments.** A city is simulated from a cold burn-in (no cache) and run for ``months`` over a
   fixed set of seeds, with firm snapshots every 12 months; ``moments`` measures the figures in
   ``TARGETS`` on it (class shares, survival, export share, mean sales and workers of micro firms,
   and the firm-dynamics regularities: growth by age and size, volatility against size,
   tent-shaped growth rates), and de Mel et al.'s grant experiment on each seed's starting
   city (``sim.grants``) gives the returns to capital.
2. **Distance.** Each moment's gap to its target in units of the target's tolerance, squared and
   summed (a weighted method of simulated moments; the tolerance says how far from the target a
   figure may be before we call it wrong, so it is the weight's square root).
3. **Search.** Nelder-Mead (scipy.optimize) over the chosen parameters, each mapped from its
   search range to the real line (logit), from the current defaults. The seeds are the same in
   every evaluation (common random numbers), so the distance is a deterministic function of the
   parameters and the search does not chase noise.
4. **Evidence.** At the fitted values: the gap per target; the local sensitivity of every moment
   to every parameter (central differences over 10 % of each search range), and from it how tightly
   the targets pin each parameter (the approximate standard error of a parameter, in shares of its
   search range, from the Gauss-Newton information matrix J'J of the standardised gaps). A
   parameter whose standard error is a large share of its range is left loose by the targets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from . import grants, measures
from .classes import CLASS_NAMES, classify
from .params import CALIBRATED, PLAUSIBLE, ParameterError, Parameters


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    tolerance: float  # a gap of one tolerance adds 1 to the distance
    unit: str
    source: str
    at_least: bool = False  # a lower bound: a figure above ``value`` adds nothing


TARGETS: tuple[Target, ...] = (
    Target("small_share", 1.22, 0.3, "% of firms (Law 20/2008)", "KemenKopUKM 2019"),
    Target("medium_share", 0.10, 0.04, "% of firms (Law 20/2008)", "KemenKopUKM 2019"),
    Target("survival_24", 0.66, 0.04, "share of entrants", "Knaup 2005"),
    Target("survival_48", 0.44, 0.04, "share of entrants", "Knaup 2005"),
    Target("firms_ratio", 1.0, 0.05, "firms / n_firms", "KemenKopUKM census 2023 (Medan ~90,000)"),
    Target("export_share", 0.025, 0.01, "share of MSME sales",
           "KemenKopUKM 2019 data: MSME exports Rp 339.2 T, 3.54 % of MSME value added (Rp 9,580.8 T); "
           "of sales 1.4-3.5 %"),
    Target("micro_sales", 76.1, 19.0, "Rp M/yr, mean sales of micro firms",
           "UMKM Indonesia 2020: value added per micro unit (GDP contribution / units); tolerance the "
           "±25 % issue 9 asks of this row"),
    Target("small_sales", 1640.0, 410.0, "Rp M/yr, mean sales of small firms, at least",
           "UMKM Indonesia 2020: value added per small unit, which sales exceed", at_least=True),
    Target("medium_sales", 29700.0, 7425.0, "Rp M/yr, mean sales of medium firms, at least",
           "UMKM Indonesia 2020: value added per medium unit, which sales exceed", at_least=True),
    Target("micro_workers", 1.7, 0.4, "workers per micro firm", "KemenKopUKM 2019"),
    Target("small_workers", 7.5, 1.9, "workers per small firm", "KemenKopUKM 2019 (derived)"),
    Target("medium_workers", 60.0, 15.0, "workers per medium firm", "KemenKopUKM 2019 (derived)"),
    Target("growth_young", 0.08, 0.04, "mean 1-yr log growth, survivors aged 1-3",
           "Haltiwanger, Jarmin & Miranda 2013 (positive); Hsieh & Klenow 2014 (slower in India, "
           "Mexico)"),
    Target("growth_old", 0.0, 0.03, "mean 1-yr log growth, survivors aged >= 10",
           "Haltiwanger, Jarmin & Miranda 2013"),
    Target("growth_small_minus_large", 0.05, 0.03,
           "mean growth, smallest minus largest size quintile", "Evans 1987; Hall 1987"),
    Target("volatility_slope", -0.17, 0.05, "slope of log SD of growth on log size",
           "Stanley et al. 1996; Sutton 2002"),
    Target("return_subsistence", 0.5, 0.5,
           "%/month, return on an equipment grant (the experiment), subsistence firms",
           "de Mel, McKenzie & Woodruff 2008 (~0 for subsistence firms)"),
    Target("return_growth_constrained", 5.5, 1.25,
           "%/month, return on an equipment grant (the experiment), capacity-constrained "
           "growth-oriented firms",
           "de Mel, McKenzie & Woodruff 2008 (~5.7 % on average; 3-8 % band)"),
    Target("registered_share", 42.6, 3.0, "% of firms in the office's registry",
           "Simdakop 38,343 of ~90,000 (Antara Sumut 2022)"),
    Target("stock_death_5y", 41.0, 4.0, "% of the firms open at month 0 closed by month 60",
           "McKenzie & Paffhausen 2019 (8.2-8.3 %/yr in 16 panels of small firms, 12 developing "
           "countries)"),
    Target("growth_kurtosis", 3.0, 1.0, "excess kurtosis of growth standardised within size deciles",
           "Stanley et al. 1996; Bottazzi & Secchi 2006 (Laplace: 3)"),
)
TARGET_NAMES = tuple(t.name for t in TARGETS)

DEFAULT_FIT = CALIBRATED
"""The parameters ``msme-sim calibrate`` fits unless told otherwise: those whose defaults it fitted."""

SEARCH_RANGE: dict[str, tuple[float, float]] = {
    # where the search may go: the parameters' plausible ranges (sim.params.PLAUSIBLE)
    name: PLAUSIBLE[name][:2] for name in (
        "entrant_reach", "reach_build", "quality_drift", "quality_sd", "fixed_cost", "entry_rate",
        "output_at_ref", "demand_per_firm", "growth_share", "sales_per_line", "common_shock_share",
        "export_demand_ratio", "scale_weight", "reinvest_growth", "shock_sd", "shock_persistence",
        "ability_sd", "entrant_capital_median", "exit_hazard", "event_rate", "event_sd",
        "exit_profit", "reinvest_subsistence", "register_rate", "invest_utilisation",
        "volatility_dispersion", "volatility_spell", "quality_persistence", "review_close", "spillover",
        "leader_imitation", "alpha", "household_hazard", "workers_at_ref", "workers_elasticity",
    )
}


# -- moments ------------------------------------------------------------------------------------
def growth_table(snapshots: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """One row per firm and year: size (annual sales) and age at t, and log growth to t + 12, for
    firms in both snapshots and at least 12 months old at t (``sim.measures.yearly_growth``)."""
    return measures.yearly_growth(snapshots)


def growth_moments(g: pd.DataFrame) -> dict[str, float]:
    """The firm-dynamics moments of a growth table, measured as ``msme-sim validate`` measures
    them (``sim.measures``)."""
    out = dict.fromkeys(("growth_young", "growth_old", "growth_small_minus_large",
                         "volatility_slope", "growth_kurtosis"), math.nan)
    if len(g) < 100:
        return out
    out["growth_young"] = measures.mean_growth(g, 12, 36)
    out["growth_old"] = measures.mean_growth(g, 120)
    out["growth_small_minus_large"] = measures.smallest_minus_largest(g, 5)
    out["volatility_slope"] = measures.volatility_slope(measures.decile_table(g))[0]
    out["growth_kurtosis"] = float(stats.kurtosis(measures.standardised_growth(g)))
    return out


def grant_returns(tables: Sequence[pd.DataFrame]) -> dict[str, float]:
    """The two return targets from de Mel et al.'s experiment run inside the model
    (``sim.grants.grant_experiment``, one table per seed, as ``msme-sim validate`` runs it), firms
    pooled over seeds (a seed may have no capacity-constrained growth-oriented firm): the mean
    monthly return (extra profit over the grant, %) of the random share's subsistence firms and of
    every capacity-constrained growth-oriented firm. NaN without tables or without such firms."""
    if not tables:
        return dict(return_subsistence=math.nan, return_growth_constrained=math.nan)
    found = grants.summarise(pd.concat(tables, ignore_index=True))
    return dict(return_subsistence=found["subsistence"],
                return_growth_constrained=found["growth_constrained"])


def moments(results: Sequence, p: Parameters,
            grant_tables: Sequence[pd.DataFrame] = ()) -> dict[str, float]:
    """Every figure in ``TARGETS``, measured on runs (``sim.run.RunResult`` with yearly snapshots)
    of one parameter set; figures of single runs are averaged, growth observations pooled. The
    two return targets come from ``grant_tables`` (``grant_returns``; NaN without them)."""
    per_run = []
    growth = []
    for r in results:
        # class shares, sales, workers and returns: averaged over the yearly snapshots after month 0
        snaps = [r.snapshots[m] for m in sorted(r.snapshots) if m > 0] or [r.snapshots[max(r.snapshots)]]
        yearly = []
        for s in snaps:
            law20 = classify("law20_2008", s["capital"].to_numpy(), s["annual_sales"].to_numpy(),
                             s["age_months"].to_numpy())
            micro = law20 == CLASS_NAMES.index("micro")
            small = law20 == CLASS_NAMES.index("small")
            medium = law20 == CLASS_NAMES.index("medium")
            sales = s["annual_sales"].to_numpy()
            yearly.append(dict(
                small_share=100 * float(np.mean(small)),
                medium_share=100 * float(np.mean(medium)),
                firms_ratio=len(s) / p.n_firms,
                micro_sales=_mean_or_nan(sales[micro]) / 1e6,
                micro_workers=_mean_or_nan(s["workers"].to_numpy()[micro]),
                small_sales=_mean_or_nan(sales[small]) / 1e6,
                small_workers=_mean_or_nan(s["workers"].to_numpy()[small]),
                medium_sales=_mean_or_nan(sales[medium]) / 1e6,
                medium_workers=_mean_or_nan(s["workers"].to_numpy()[medium])))
        surv = r.survival
        per_run.append(dict(
            {k: _nanmean([y[k] for y in yearly]) for k in yearly[0]},
            stock_death_5y=100 * measures.stock_death(r.snapshots, 60),
            survival_24=float(surv.get(24, math.nan)),
            survival_48=float(surv.get(48, math.nan)),
            export_share=float(r.monthly["export_share"].iloc[1:].mean()),
            registered_share=100 * float(r.monthly["registered_share"].iloc[1:].mean()),
        ))
        growth.append(growth_table(r.snapshots))
    out = {k: float(np.mean([m[k] for m in per_run])) for k in per_run[0]}
    out.update(growth_moments(pd.concat(growth, ignore_index=True)))
    out.update(grant_returns(grant_tables))
    return {name: out[name] for name in TARGET_NAMES}


def _mean_or_nan(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else math.nan


def _nanmean(values: Sequence[float]) -> float:
    """Mean over the years that have the figure (a year without a medium firm has no mean sales
    of medium firms); NaN when none has it."""
    kept = [v for v in values if math.isfinite(v)]
    return float(np.mean(kept)) if kept else math.nan


def simulate(p: Parameters, seeds: Sequence[int], months: int) -> dict[str, float]:
    """Moments of parameter set ``p``: one cold burn-in (kept only while its seeds run, never in
    the user's cache), then one run and one grant experiment (``sim.grants``) per seed, both
    from that seed's starting city."""
    from .population import private_cache
    from .run import run
    with private_cache():
        results = [run(p, seed=s, months=months, snapshot_months=range(0, months + 1, 12))
                   for s in seeds]
        tables = [grants.grant_experiment(p, s) for s in seeds]
    return moments(results, p, tables)


def distance(m: dict[str, float], targets: Sequence[Target] = TARGETS) -> float:
    """Sum of squared gaps in tolerances (a missing figure counts as 100 tolerances)."""
    return float(sum(_gap(m[t.name], t) ** 2 for t in targets))


def _gap(value: float, t: Target) -> float:
    if not math.isfinite(value):
        return 100.0
    if t.at_least and value >= t.value:
        return 0.0
    return (value - t.value) / t.tolerance


# -- search -------------------------------------------------------------------------------------
def _to_unit(x: float, lo: float, hi: float) -> float:
    u = min(max((x - lo) / (hi - lo), 1e-6), 1 - 1e-6)
    return math.log(u / (1 - u))


def _from_unit(y: float, lo: float, hi: float) -> float:
    return lo + (hi - lo) / (1.0 + math.exp(-y))


@dataclass
class Fit:
    names: tuple[str, ...]
    start: dict[str, float]
    fitted: dict[str, float]
    moments_start: dict[str, float]
    moments_fitted: dict[str, float]
    distance_start: float
    distance_fitted: float
    evaluations: int
    seconds: float
    jacobian: pd.DataFrame | None = None  # d moment / d parameter (moment units per search range)
    identification: pd.DataFrame | None = None

    def target_table(self, targets: Sequence[Target] = TARGETS) -> pd.DataFrame:
        return pd.DataFrame([dict(target=t.name, unit=t.unit, value=t.value, tolerance=t.tolerance,
                                  start=self.moments_start[t.name], fitted=self.moments_fitted[t.name],
                                  gap_fitted=_gap(self.moments_fitted[t.name], t), source=t.source)
                             for t in targets])


def fit(base: Parameters, names: Sequence[str], *, seeds: Sequence[int] = (1, 2), months: int = 120,
        max_evals: int = 200, explore: int = 0, targets: Sequence[Target] = TARGETS,
        simulate_fn: Callable[[Parameters], dict[str, float]] | None = None,
        log: Callable[[str], None] | None = None, sensitivities: bool = True) -> Fit:
    """Minimise ``distance`` over ``names`` from ``base``'s values (Nelder-Mead, logit scale).

    With ``explore`` > 0, first evaluate that many points of a scrambled Sobol' sequence (seeded,
    so reproducible) in a box of +-1.5 logit units around the start, and start Nelder-Mead from the best of them
    and the start (the distance is rough at the scale of single firms, and a local search alone
    stops in the first basin it finds)."""
    names = tuple(names)
    for n in names:
        if n not in SEARCH_RANGE:
            raise ParameterError(f"cannot calibrate '{n}': no search range; choose from "
                                 f"{', '.join(sorted(SEARCH_RANGE))}")
    sim = simulate_fn or (lambda p: simulate(p, seeds, months))
    cache: dict[tuple, tuple[float, dict]] = {}
    t0 = time.perf_counter()

    def params_of(y) -> Parameters:
        return base.replace(**{n: _from_unit(float(v), *SEARCH_RANGE[n]) for n, v in zip(names, y, strict=True)})

    def evaluate(y) -> tuple[float, dict]:
        key = tuple(np.round(y, 10))
        if key not in cache:
            try:
                p = params_of(y)
                m = sim(p)
                d = distance(m, targets)
            except ParameterError:  # e.g. an instrument mix pushed out of range: out of bounds
                m, d = dict.fromkeys(TARGET_NAMES, math.nan), 1e9
            cache[key] = (d, m)
            if log:
                log(f"  eval {len(cache):>4}  distance {d:10.3f}  " + "  ".join(
                    f"{n}={getattr(params_of(y), n):.4g}" for n in names))
        return cache[key]

    y0 = np.array([_to_unit(getattr(base, n), *SEARCH_RANGE[n]) for n in names])
    d0, m0 = evaluate(y0)
    y_start = y0
    if explore > 0:
        from scipy.stats import qmc
        points = qmc.Sobol(len(names), scramble=True, seed=20261128).random_base2(
            max(0, math.ceil(math.log2(explore))))[:explore]
        for u in points:  # a box of +-1.5 logit units around the start
            evaluate(y0 + 3.0 * (u - 0.5))
        y_start = np.array(min(cache, key=lambda k: cache[k][0]))
    # an initial simplex of half a logit unit along each axis
    simplex = np.vstack([y_start] + [y_start + 0.5 * np.eye(len(names))[i] for i in range(len(names))])
    res = optimize.minimize(lambda y: evaluate(y)[0], y_start, method="Nelder-Mead",
                            options=dict(maxfev=max_evals, initial_simplex=simplex,
                                         xatol=1e-3, fatol=1e-3))
    y_best = min(cache, key=lambda k: cache[k][0])
    d1, m1 = cache[y_best]
    p1 = params_of(np.array(y_best))
    out = Fit(names, {n: getattr(base, n) for n in names}, {n: getattr(p1, n) for n in names},
              m0, m1, d0, d1, len(cache), 0.0)
    del res
    if sensitivities:
        out.jacobian, out.identification = _identification(p1, names, sim, targets)
    out.seconds = time.perf_counter() - t0
    return out


def _identification(p: Parameters, names, sim, targets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Central differences of every moment over +-5 % of each parameter's search range, and the
    Gauss-Newton standard errors of each parameter, jointly and alone (in shares of its range)."""
    cols = {}
    for n in names:
        lo, hi = SEARCH_RANGE[n]
        h = 0.05 * (hi - lo)
        x = getattr(p, n)
        up, down = min(x + h, hi), max(x - h, lo)
        m_up, m_down = sim(p.replace(**{n: up})), sim(p.replace(**{n: down}))
        span = (up - down) / (hi - lo)  # in shares of the search range
        cols[n] = {t.name: (m_up[t.name] - m_down[t.name]) / span for t in targets}
    jac = pd.DataFrame(cols)  # moment units per search range
    scaled = jac.to_numpy() / np.array([t.tolerance for t in targets])[:, None]  # tolerances per range
    scaled = np.nan_to_num(scaled)
    info = scaled.T @ scaled
    # a tiny ridge, not a pseudo-inverse: directions no target moves get an (effectively) infinite
    # variance and show as 'loose' (the pseudo-inverse would give them zero, i.e. 'pinned')
    ridge = 1e-9 * max(float(np.trace(info)), 1.0)
    cov = np.linalg.inv(info + ridge * np.eye(len(names)))
    se = np.sqrt(np.clip(np.diag(cov), 0, None))  # jointly: the others free too
    diag = np.diag(info)
    se_alone = np.divide(1.0, np.sqrt(diag), out=np.full(len(names), np.inf), where=diag > 0)  # others known
    rows = []
    for i, n in enumerate(names):
        strongest = np.argsort(-np.abs(scaled[:, i]))[:2]
        rows.append(dict(parameter=n, value=getattr(p, n), search_range=SEARCH_RANGE[n],
                         se_share_of_range=float(se[i]), se_alone_share_of_range=float(se_alone[i]),
                         pinned="pinned" if se[i] < 0.1 else ("weakly" if se[i] < 0.3 else "loose"),
                         moved_most=", ".join(targets[j].name for j in strongest)))
    return jac, pd.DataFrame(rows)


def report(fit_: Fit, *, seeds, months, n_firms) -> str:
    """The evidence as Markdown."""
    lines = [f"# Calibration ({fit_.evaluations} evaluations, {fit_.seconds:.0f} s; "
             f"{n_firms:,} firms, seeds {', '.join(map(str, seeds))}, {months} months)", "",
             f"Distance {fit_.distance_start:.2f} at the start, {fit_.distance_fitted:.2f} fitted "
             "(sum of squared gaps in tolerances).", "", "## Targets", "",
             "| target | unit | target | tolerance | start | fitted | gap (tolerances) | source |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in fit_.target_table().itertuples():
        lines.append(f"| {r.target} | {r.unit} | {r.value:g} | {r.tolerance:g} | {r.start:.4g} | "
                     f"{r.fitted:.4g} | {r.gap_fitted:+.2f} | {r.source} |")
    lines += ["", "## Parameters", "", "s.e. in shares of the search range: *jointly* with every other fitted "
              "parameter free (what the targets pin; more parameters than targets leave directions no "
              "target moves, and every parameter with a part in them is loose), and *alone*, the others "
              "known (how strongly the targets react to it).", "",
              "| parameter | start | fitted | search range | s.e. jointly | s.e. alone "
              "| pinned by the targets? | moves most |", "|---|---:|---:|---|---:|---:|---|---|"]
    ident = fit_.identification.set_index("parameter") if fit_.identification is not None else None
    for n in fit_.names:
        if ident is not None:
            row = ident.loc[n]
            extra = (f"{row.se_share_of_range:.3g} | {row.se_alone_share_of_range:.3g} | {row.pinned} | "
                     f"{row.moved_most}")
        else:
            extra = "- | - | - | -"
        lo, hi = SEARCH_RANGE[n]
        lines.append(f"| {n} | {fit_.start[n]:.6g} | {fit_.fitted[n]:.6g} | [{lo:g}, {hi:g}] | {extra} |")
    return "\n".join(lines) + "\n"
