"""The starting city: a population already near the model's long-run state.

A run does not start from a city of newborn firms. Instead:

1. **Burn-in** (once per parameter set): ``burn_in_chains`` independent cities of
   ``min(n_firms, burn_in_firms)`` entrants are simulated for ``burn_in_months`` with their own keyed
   random numbers, seeded by ``burn_in_seed`` (the first chain) and keys derived from it. Firms alive
   at ``burn_in_slices`` moments of each chain's second half, weighted (``burn_in``), are the
   *stationary population*. It is cached on disk (``$MSME_SIM_CACHE``, default
   ``~/.cache/msme-sim``), keyed by a hash of every parameter that shapes it and of
   ``MODEL_VERSION``, so the result is the same whether the cache was warm or cold.
2. **Resampling** (every run, with a generator keyed by the run's seed): the starting firms are drawn from the
   stationary population by weight, as many as its total weight scaled from the burn-in size to
   ``n_firms`` (``weighted_draw``: no firm twice when the city is no larger than the burn-in).
   Different seeds start from different draws of the same long-run distribution.

Firm ages carry over from the burn-in (``entry_month <= 0``), so age-dependent rules and size
classes hold from month 0, and so do the firms' dealings with the office: the burn-in runs today's
office (every lever at its default, whatever the run's levers), so awareness, the registry, the
queue, loans and fading service effects start in their long-run state, and every scenario that
differs only in levers starts from the same city.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from . import phases
from .classes import classify
from .keyed import Keys, Purpose
from .params import BURN_IN_IRRELEVANT, Parameters, levers
from .state import COLUMNS, FirmTable

MODEL_VERSION = "14"
"""Bump whenever a rule of the firm model changes, so cached burn-ins are not reused."""


_PRIVATE_CACHE: Path | None = None


def cache_dir() -> Path:
    if _PRIVATE_CACHE is not None:
        return _PRIVATE_CACHE
    return Path(os.environ.get("MSME_SIM_CACHE", Path.home() / ".cache" / "msme-sim"))


@contextmanager
def private_cache() -> Iterator[Path]:
    """Burn-ins computed inside the block are cached in a temporary folder of this process, removed
    at its end: runs that share a parameter set burn in once, and nothing is left on disk (the
    calibration's evaluations, each a new parameter set run on several seeds). A warm cache gives
    the same runs as a cold one, so results do not change."""
    global _PRIVATE_CACHE
    outer = _PRIVATE_CACHE
    with tempfile.TemporaryDirectory(prefix="msme-sim-burn-in-") as folder:
        _PRIVATE_CACHE = Path(folder)
        try:
            yield _PRIVATE_CACHE
        finally:
            _PRIVATE_CACHE = outer


def burn_in_size(p: Parameters) -> int:
    return min(p.n_firms, p.burn_in_firms)


def burn_in_parameters(p: Parameters) -> Parameters:
    """The burn-in's parameters: the run's, with today's office (every lever at its default)
    and the burn-in's own size. All scenarios that differ only in levers share one burn-in."""
    defaults = Parameters()
    return p.replace(n_firms=burn_in_size(p), **{k: getattr(defaults, k) for k in levers()})


def burn_in_key(p: Parameters) -> str:
    pb = burn_in_parameters(p)
    relevant = {k: v for k, v in pb.to_dict().items() if k not in BURN_IN_IRRELEVANT}
    relevant["n_burn"] = burn_in_size(p)
    relevant["model_version"] = MODEL_VERSION
    blob = json.dumps(relevant, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def entrants_table(p: Parameters, keys: Keys, k: int, month: int = 0) -> FirmTable:
    """A table of ``k`` entrants (firm ids 0 … k - 1) drawn from ``keys``."""
    table = FirmTable(int(k * 1.3) + 16)
    table.append(phases.new_firms(p, keys, k, month), k)
    return table


def burn_in(p: Parameters) -> dict[str, np.ndarray]:
    """Simulate the burn-in and return the stationary population: the firms alive at
    ``burn_in_slices`` moments evenly spaced over its second half, with months counted from their
    own moment (month 0 of a run = that moment), and ``pool_weight``, how much of a city each row
    stands for.

    One moment would do for the many micro firms; but the few small and medium firms wander over
    decades (in a 40,000-firm burn-in the small firms number 29-42 at moments ten years apart), and
    a start that happens to hold too few of them drifts back for decades of the run (validate's
    'month 0 is the long-run state' rows). So every firm above micro (under either law) at every
    moment is kept, with weight 1 / ``burn_in_slices``, and of the micro firms a keyed share
    1 / ``burn_in_slices`` of each moment's, with weight 1: the pool is about one city in size and
    weight, and its upper tail is the average of all the moments.

    Even so, one chain's moments share its leaders' long memory, and its luck showed in the start
    (validate's drift of small + medium firms was +1.11 SD with the default seed, -0.93 with
    another). So ``burn_in_chains`` independent chains are pooled, each with weight
    1 / ``burn_in_chains`` (and that share of its moments' micro firms): the upper tail is the
    average of that many cities. The first chain has ``burn_in_seed``'s keys, so one chain is the
    single burn-in exactly."""
    n = burn_in_size(p)
    pb = burn_in_parameters(p)
    root = Keys(p.burn_in_seed)
    parts = []
    for chain in range(p.burn_in_chains):
        keys = root if chain == 0 else Keys(root.key(Purpose.CHAIN, chain))
        parts += _chain_moments(pb, keys, n, p.burn_in_slices, p.burn_in_months, p.burn_in_chains)
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _chain_moments(pb: Parameters, keys: Keys, n: int, k: int, months: int, chains: int) -> list[dict]:
    """One burn-in chain of ``n`` entrants run for ``months``, and its ``k`` pooled moments, each
    row weighted for a pool of ``chains`` such chains (``burn_in``)."""
    from .engine import City  # the engine imports this module's users, not the reverse

    city = City(pb, keys, entrants_table(pb, keys, n), record=False)
    gap = months // (2 * k)
    city.run(months - (k - 1) * gap)
    parts = []
    for i in range(k):
        if i:
            city.run(gap)
        t = city.firms
        age = city.age()
        above = np.zeros(t.n, bool)  # above micro under either law (the pool must not depend on the law)
        for law in ("law20_2008", "pp7_2021"):
            above |= classify(law, t["capital"], city.annual_sales, age) > 0
        micro = np.flatnonzero(~above)
        picked = keys.generator(Purpose.POOL, city.month).choice(micro, size=round(micro.size / (k * chains)),
                                                                replace=False)
        rows = np.sort(np.concatenate([np.flatnonzero(above), picked]))
        # (each run's City counts graduations from its own month 0: the burn-in's peak classes are not kept)
        part = {name: t[name][rows] for name in COLUMNS if name not in ("firm_id", "peak_class")}
        for month_col in ("entry_month", "apply_month", "served_month", "volatility_until"):
            part[month_col] = part[month_col] - city.month  # month 0 of the run = this moment
        part["pool_weight"] = np.where(above[rows], 1.0 / (k * chains), 1.0)
        parts.append(part)
    return parts


def stationary_population(p: Parameters, *, use_cache: bool = True) -> dict[str, np.ndarray]:
    """The stationary population (``burn_in``'s pooled moments), from the cache when present."""
    path = cache_dir() / f"stationary-{burn_in_key(p)}.npz"
    if use_cache and path.exists():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    cols = burn_in(p)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **cols)
        os.replace(tmp, path)  # atomic: parallel runs never read a half-written file
    return cols


def weighted_draw(weight: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Rows of the pool for a city ``scale`` times the burn-in's: ``round(scale * sum(weight))``
    rows, row i about ``count * weight[i] / sum(weight)`` times (systematic sampling in a random
    order: each row the floor or the ceiling of that, so a row of weight 1 is drawn at most once
    when the city is no larger than the burn-in's, and the pool's composition is kept as closely
    as whole firms allow)."""
    order = rng.permutation(len(weight))
    cum = np.cumsum(weight[order])
    count = int(round(scale * cum[-1])) if len(cum) else 0
    if count == 0:
        return np.zeros(0, np.int64)
    step = cum[-1] / count
    points = (rng.random() + np.arange(count)) * step
    return order[np.minimum(np.searchsorted(cum, points, side="right"), len(order) - 1)]


def initial_table(p: Parameters, keys: Keys, *, use_cache: bool = True) -> FirmTable:
    """The starting firms of a run, resampled from the stationary population with the run's keys
    (the same firms, with the same ids, in every scenario run on the same seed)."""
    rng = keys.generator(Purpose.RESAMPLE)
    pool = stationary_population(p, use_cache=use_cache)
    rows = weighted_draw(pool["pool_weight"], p.n_firms / burn_in_size(p), rng)
    count = len(rows)
    table = FirmTable(int(count * 1.3) + 16)
    table.append({name: col[rows] for name, col in pool.items()}, count)
    return table
