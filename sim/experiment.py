"""Experiment files: which scenarios, which parameter design, how many seeds, which outcomes.

```toml
description = "What the study asks."
scenarios = ["baseline", "opd_merger"]     # scenario names (scenarios/) or paths
baseline = "baseline"                      # optional: compare the others with it firm by firm
replicates = 30                            # seeds per scenario and design point
root_seed = 20261127                       # replicate k's seed comes from SeedSequence(root_seed)
years = 10

[parameters]                               # applied to every run (settings such as n_firms)
n_firms = 20000

[design]                                   # optional; without it each scenario is one point
method = "lhs"                             # grid | points | lhs | sobol | morris | saltelli
samples = 16                               # lhs, sobol, saltelli (powers of 2); morris: trajectories
levels = 4                                 # morris grid levels
seed = 1                                   # the design's own seed (lhs, sobol/saltelli scrambling, morris)
[design.factors]                           # uncertainties and levers only
demand_growth = [0.0, 0.02]                # grid: the values
alpha = { low = 0.7, high = 0.9 }          # lhs, sobol, morris, saltelli: the range
margin = "plausible"                       # ... or an uncertainty's declared plausible range

[outputs]
snapshots = [120]                          # optional firm-level tables at these months
```

``saltelli`` (samples x (factors + 2) points) and ``morris`` designs are what ``msme-sim
sensitivity`` turns into Sobol' indices or Morris elementary effects (``sim.sensitivity``); the
study's ``design`` record (method, factors, ranges, sizes, seed) is kept in the store for that.

``load_study`` validates everything and expands the runs before any run starts. Replicate ``k``
uses the same seed in every scenario and design point (common random numbers), so differences
between scenarios are paired. With ``baseline``, each other scenario's run also runs the baseline
scenario on its seed and design point in lockstep and stores the effects on served firms, on the
rest of the city and on cost (``sim.effects``); this costs one more simulation per compared run.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from .events import Event
from .files import cut, read_toml, short
from .params import PLAUSIBLE, ParameterError, Parameters
from .scenario import Scenario, ScenarioError, load

TOP_KEYS = ("description", "scenarios", "baseline", "replicates", "root_seed", "years", "parameters",
            "design", "outputs")
DESIGN_KEYS = ("method", "samples", "levels", "seed", "factors", "points")
METHODS = ("grid", "points", "lhs", "sobol", "morris", "saltelli")


class StudyError(ScenarioError):
    """An experiment file that cannot be run, with where and why."""


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: everything a worker needs, and nothing it must look up."""
    run_id: int
    scenario: str
    point: int
    replicate: int
    seed: int
    factors: dict[str, Any]
    params: Parameters
    events: tuple[Event, ...]
    months: int
    snapshot_months: tuple[int, ...] = ()
    baseline: str | None = None  # the scenario this run is compared with firm by firm, if any
    baseline_params: Parameters | None = None
    baseline_events: tuple[Event, ...] = ()


@dataclass
class Study:
    name: str
    path: Path
    description: str
    scenarios: list[Scenario]
    points: list[dict[str, Any]]
    replicates: int
    root_seed: int
    years: int
    snapshot_months: tuple[int, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    method: str = "none"
    baseline: str | None = None
    design: dict[str, Any] = field(default_factory=dict)  # what sim.sensitivity needs (see _design)

    @property
    def seeds(self) -> list[int]:
        return replicate_seeds(self.root_seed, self.replicates)

    def runs(self) -> list[RunSpec]:
        """Every run, in a fixed order: scenario, design point, replicate."""
        specs, run_id = [], 0
        base = next((sc for sc in self.scenarios if sc.name == self.baseline), None)
        for sc in self.scenarios:
            for i, point in enumerate(self.points):
                params = Parameters.from_dict({**sc.params.to_dict(), **self.fixed, **point})
                compared = {}
                if base is not None and sc is not base:
                    compared = dict(baseline=base.name, baseline_events=tuple(base.events),
                                    baseline_params=Parameters.from_dict(
                                        {**base.params.to_dict(), **self.fixed, **point}))
                for k, seed in enumerate(self.seeds):
                    specs.append(RunSpec(run_id, sc.name, i, k, seed, dict(point), params,
                                         tuple(sc.events), self.years * 12, self.snapshot_months,
                                         **compared))
                    run_id += 1
        return specs

    def fingerprint(self) -> str:
        """Hash of everything that determines the results (not of comments or layout)."""
        blob = {
            "runs": [(r.run_id, r.scenario, r.point, r.seed, r.months, r.snapshot_months,
                      r.params.to_dict(), r.baseline,
                      [(e.type, {k: v for k, v in e.values.items() if not k.startswith("_")})
                       for e in r.events]) for r in self.runs()],
        }
        return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:16]


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """Seed of each replicate: one child of ``SeedSequence(root_seed)`` each, as a 63-bit integer."""
    children = np.random.SeedSequence(root_seed).spawn(replicates)
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]


def _err(path, msg) -> StudyError:
    return StudyError(f"{path}: {msg}")


MAX_POINTS = 1_000_000
"""Most design points a study may have (a grid's product, or a sample's size)."""
MAX_RUNS = 1_000_000
"""Most runs a study may schedule (its run list is built in memory before the first run)."""


def _int(path, key, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _err(path, f"key '{key}' = {short(value)} must be a whole number in [{low}, {high}]")
    return value


def load_study(path: str | Path) -> Study:
    """Load and validate an experiment file (and every scenario it names)."""
    path = Path(path)
    data, _ = read_toml(path, StudyError, "experiment file")
    for key in data:
        if key not in TOP_KEYS:
            near = difflib.get_close_matches(key, TOP_KEYS, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise _err(path, f"unknown key {short(key)}{hint} (allowed: {', '.join(TOP_KEYS)})")
    for key in ("description", "scenarios"):
        if key not in data:
            raise _err(path, f"key '{key}' is missing")
    if not isinstance(data["description"], str):
        raise _err(path, f"key 'description' = {short(data['description'])} must be a string: say in a "
                         "sentence what the study asks")
    names = data["scenarios"]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise _err(path, "key 'scenarios' must be a non-empty list of scenario names")
    if len(set(names)) != len(names):
        raise _err(path, "key 'scenarios' names a scenario twice")
    replicates = _int(path, "replicates", data.get("replicates", 10), 1, 100_000)
    root_seed = _int(path, "root_seed", data.get("root_seed", 0), 0, 2**63 - 1)
    years = _int(path, "years", data.get("years", 10), 1, 100)
    fixed = data.get("parameters", {})
    if not isinstance(fixed, dict):
        raise _err(path, "key 'parameters' must be a table ([parameters])")
    scenarios = []
    for name in names:
        try:
            scenarios.append(load(name, years=years))
        except ScenarioError as err:
            raise _err(path, f"scenario {short(name)}: {err}") from None
    outputs = data.get("outputs", {})
    if not isinstance(outputs, dict) or set(outputs) - {"snapshots"}:
        raise _err(path, "key 'outputs' may only hold 'snapshots' (a list of months)")
    snaps = outputs.get("snapshots", [])
    if not isinstance(snaps, list) or not all(
            isinstance(m, int) and not isinstance(m, bool) and 0 <= m <= years * 12 for m in snaps):
        raise _err(path, f"outputs.snapshots must be a list of months in [0, {years * 12}]")
    baseline = data.get("baseline")
    if baseline is not None and (not isinstance(baseline, str) or baseline not in names):
        raise _err(path, f"key 'baseline' = {short(baseline)} must name one of the study's scenarios "
                         f"({', '.join(names)})")
    method, points, design = _design(path, data.get("design"))
    n_runs = len(scenarios) * len(points) * replicates
    if n_runs > MAX_RUNS:
        raise _err(path, f"{len(scenarios)} scenarios x {len(points):,} design points x {replicates:,} "
                         f"replicates = {n_runs:,} runs, more than one study schedules ({MAX_RUNS:,}; "
                         "at about a second per run on a laptop that is weeks of work); lower "
                         "'replicates' or the design's size, or split the study")
    study = Study(path.stem, path, data["description"], scenarios, points, replicates, root_seed,
                  years, tuple(sorted(set(snaps))), fixed, method, baseline, design)
    # every run's parameters are valid before any run starts
    for sc in scenarios:
        for i, point in enumerate(points):
            try:
                Parameters.from_dict({**sc.params.to_dict(), **fixed, **point})
            except ParameterError as err:
                where = "parameters" if not point else f"design point {i}"
                raise _err(path, f"{where} (scenario '{sc.name}'): {err}") from None
    return study


def _design(path, design) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """The design's method, its points, and a record of it for analysis: method, factor names and
    ranges, samples, levels and seed (the sensitivity command turns the store back into SALib's
    X and Y with it)."""
    if design is None:
        return "none", [{}], {}
    if not isinstance(design, dict):
        raise _err(path, "key 'design' must be a table ([design])")
    for key in design:
        if key not in DESIGN_KEYS:
            near = difflib.get_close_matches(key, DESIGN_KEYS, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise _err(path, f"unknown key design.{cut(key, 60)}{hint} (allowed: {', '.join(DESIGN_KEYS)})")
    method = design.get("method")
    if method not in METHODS:
        raise _err(path, f"design.method = {method!r}: choose one of {', '.join(METHODS)}")
    if method == "points":
        points = design.get("points")
        if not isinstance(points, list) or not points or not all(isinstance(p, dict) for p in points):
            raise _err(path, "design.points must be an array of tables ([[design.points]])")
        for p in points:
            _check_factor_names(path, p)
        return method, [dict(p) for p in points], {"method": method}
    factors = design.get("factors")
    if not isinstance(factors, dict) or not factors:
        raise _err(path, f"design.factors must name at least one factor for method '{method}'")
    _check_factor_names(path, factors)
    seed = _int(path, "design.seed", design.get("seed", 0), 0, 2**63 - 1)
    if method == "grid":
        for name, values in factors.items():
            if not isinstance(values, list) or not values:
                raise _err(path, f"design.factors.{name} must be a list of values for a grid")
        names = list(factors)
        size = math.prod(len(factors[n]) for n in names)
        if size > MAX_POINTS:
            raise _err(path, f"design: the grid has {size:,} points, more than one study holds "
                             f"({MAX_POINTS:,}); use fewer values or a sampling design (lhs, sobol)")
        return method, [dict(zip(names, combo, strict=True))
                        for combo in itertools.product(*(factors[n] for n in names))], {"method": method}
    ranges = {}
    for name, spec in factors.items():
        if spec == "plausible":  # the parameter's declared plausible range (sim.params.PLAUSIBLE)
            if name not in PLAUSIBLE:
                raise _err(path, f"design.factors.{name} = \"plausible\": '{name}' declares no plausible "
                                 "range (only uncertainties do; see 'msme-sim params --role uncertainty'); "
                                 "give { low = ..., high = ... }")
            ranges[name] = PLAUSIBLE[name][:2]
            continue
        if (not isinstance(spec, dict) or set(spec) != {"low", "high"}
                or not all(_finite(spec[k]) for k in ("low", "high")) or not spec["low"] < spec["high"]
                or not math.isfinite(float(spec["high"]) - float(spec["low"]))):
            raise _err(path, f"design.factors.{name} must be {{ low = ..., high = ... }}: finite numbers "
                             "with low < high (and high - low a finite number), or \"plausible\"")
        ranges[name] = (spec["low"], spec["high"])
    record = {"method": method, "names": list(ranges), "bounds": [list(map(float, r)) for r in ranges.values()],
              "seed": seed}
    if method == "morris":
        trajectories = _int(path, "design.samples", design.get("samples", 10), 1, 10_000)
        levels = _int(path, "design.levels", design.get("levels", 4), 2, 100)
        record |= {"samples": trajectories, "levels": levels}
        unit = morris_trajectories(len(ranges), trajectories, levels, seed)
    elif method == "saltelli":
        samples = _int(path, "design.samples", design.get("samples", 64), 2, MAX_POINTS)
        if samples & (samples - 1):
            raise _err(path, f"design.samples = {samples}: Saltelli designs need a power of 2 (the base "
                             "sample; the design has samples x (factors + 2) points)")
        if samples * (len(ranges) + 2) > MAX_POINTS:
            raise _err(path, f"design: {samples} x ({len(ranges)} factors + 2) points is more than one "
                             f"study holds ({MAX_POINTS:,})")
        record |= {"samples": samples}
        unit = saltelli_sample(len(ranges), samples, seed)
    else:
        samples = _int(path, "design.samples", design.get("samples", 8), 1, MAX_POINTS)
        if method == "sobol":
            if samples & (samples - 1):
                raise _err(path, f"design.samples = {samples}: Sobol' designs need a power of 2")
            unit = qmc.Sobol(len(ranges), scramble=True, seed=seed).random(samples)
        else:
            unit = qmc.LatinHypercube(len(ranges), seed=seed).random(samples)
        record |= {"samples": samples}
    return method, _scale(unit, ranges), record


def _finite(x) -> bool:
    """A number a float can hold (an int of hundreds of digits is not)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def _check_factor_names(path, factors: dict) -> None:
    from dataclasses import fields
    roles = {f.name: f.metadata["role"] for f in fields(Parameters)}
    for name in factors:
        if name not in roles:
            near = difflib.get_close_matches(name, list(roles), n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise _err(path, f"design factor {short(name)} is not a parameter{hint}")
        if roles[name] == "setting":
            raise _err(path, f"design factor '{name}' is a setting; vary uncertainties and levers "
                             "(put settings in [parameters])")


def _scale(unit: np.ndarray, ranges: dict[str, tuple[float, float]]) -> list[dict[str, Any]]:
    from dataclasses import fields
    integer = {f.name for f in fields(Parameters) if f.metadata["integer"]}
    points = []
    for row in unit:
        point = {}
        for (name, (low, high)), u in zip(ranges.items(), row, strict=True):
            value = low + float(u) * (high - low)
            point[name] = int(round(value)) if name in integer else value
        points.append(point)
    return points


def saltelli_sample(k: int, n: int, seed: int) -> np.ndarray:
    """Saltelli's (2010) scheme on the unit cube, by SALib: ``n * (k + 2)`` points (matrices A, B
    and the k matrices A with one column from B) from a scrambled Sobol' sequence, for first-order
    and total Sobol' indices (``sim.sensitivity``).

    Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output. Computer
    Physics Communications 181(2), 259-270.
    """
    from SALib.sample import sobol as sobol_sample
    problem = {"num_vars": k, "names": [f"x{i}" for i in range(k)], "bounds": [[0.0, 1.0]] * k}
    return sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)


def morris_trajectories(k: int, r: int, levels: int, seed: int) -> np.ndarray:
    """Morris (1991) one-at-a-time trajectories on the unit cube: ``r`` trajectories of ``k + 1``
    points on a ``levels``-level grid, each step moving one factor by delta = levels / (2 (levels - 1)).

    Morris, M. D. (1991). Factorial sampling plans for preliminary computational experiments.
    Technometrics 33(2), 161-174.
    """
    rng = np.random.default_rng(seed)
    delta = levels / (2.0 * (levels - 1))
    grid = np.arange(levels) / (levels - 1)
    start = grid[grid <= 1 - delta + 1e-12]
    out = []
    for _ in range(r):
        x = rng.choice(start, k)
        direction = rng.choice([-1.0, 1.0], k)
        x = np.where(direction < 0, x + delta, x)  # start high where the factor will step down
        traj = [x.copy()]
        for j in rng.permutation(k):
            x[j] += direction[j] * delta
            traj.append(x.copy())
        out.extend(traj)
    return np.clip(np.array(out), 0.0, 1.0)
