"""Trials of the office's instruments inside the model: served firms against their exact twins.

A trial runs two copies of one city on the same seed (``sim/keyed.py``: every firm draws the same
luck in both) with no office. At month 0 some firms of one copy are served; the trial follows the
same firms in both copies. The difference is the service's effect, with no sampling noise between
the arms, though the served firms still compete with everyone else for the city's demand (their
gain is partly other firms' loss, which the trial also measures).

- ``grant_experiment`` (``sim/grants.py``): de Mel, McKenzie & Woodruff 2008's equipment grants.
- ``large_grant_trial``: a grant of about US$50,000 to growth-oriented firms, against McKenzie 2017
  (AER 107(8)): the winners of Nigeria's YouWiN! business-plan competition, drawn at random from
  its semi-finalists, were over 20 percentage points likelier to have ten or more workers.
- ``training_experiment``: business training, against the meta-analysis of McKenzie 2021 (Oxford
  Review of Economic Policy 37(2)): training raises firms' profits and sales by 5-10 % on average,
  effects that most single experiments are too small to detect (McKenzie & Woodruff 2014), and
  that fade within about two years (CALIBRATION.md; de Mel, McKenzie & Woodruff 2014).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import instruments, phases
from .engine import City
from .keyed import Keys, Purpose
from .params import Parameters
from .population import initial_table


def twin_cities(params: Parameters, seed: int, use_cache: bool = True) -> tuple[City, City, Keys]:
    """Two identical copies of the city of ``params`` (without its office) on ``seed``: the
    control and the one to treat."""
    p = params.replace(office=False)
    keys = Keys(seed)
    control = City(p, keys, initial_table(p, keys, use_cache=use_cache), record=False)
    treated = City(p, keys, initial_table(p, keys, use_cache=use_cache), record=False)
    return control, treated, keys


def random_share(keys: Keys, firm_ids: np.ndarray, share: float) -> np.ndarray:
    """The keyed random ``share`` of firms a trial serves (the same firms for the same seed)."""
    if not 0 < share <= 1:
        raise ValueError(f"share = {share!r} must be in (0, 1]")
    return keys.uniform(Purpose.RESAMPLE, 1, firm_ids) < share


def sales_of(city: City, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This month's sales of each firm id (0 once closed), and whether it is alive."""
    t = city.firms
    row = t.row_of[ids]
    alive = row >= 0
    out = np.zeros(len(ids))
    out[alive] = t["sales"][row[alive]]
    return out, alive


@dataclass
class TrainingTrial:
    """Monthly sales of the trained firms in both copies (arrays of months x firms; 0 once a firm
    has closed), whether each was alive, and the whole city's sales each month."""
    params: Parameters
    firm_id: np.ndarray
    growth_oriented: np.ndarray
    treated_sales: np.ndarray
    control_sales: np.ndarray
    treated_alive: np.ndarray
    control_alive: np.ndarray
    treated_city_sales: np.ndarray
    control_city_sales: np.ndarray

    def _sum(self, what: str, arm: str, first: int, last: int) -> float:
        sl = slice(first - 1, last)
        sales = getattr(self, f"{arm}_sales")[sl]
        if what == "sales":
            return float(sales.sum())
        alive = getattr(self, f"{arm}_alive")[sl]
        return float((self.params.margin * sales - self.params.fixed_cost * alive).sum())

    def effect(self, first: int, last: int, what: str = "sales") -> float:
        """The trained firms' ``what`` (sales, or operating profit: margin x sales - fixed cost
        while alive) in months ``first`` … ``last`` (inclusive), in % above their twins'."""
        if what not in ("sales", "profit"):
            raise ValueError(f"what = {what!r} must be 'sales' or 'profit'")
        return 100 * (self._sum(what, "treated", first, last) / self._sum(what, "control", first, last) - 1)

    def others_effect(self, first: int, last: int) -> float:
        """The untrained firms' sales in months ``first`` … ``last``, in % above their twins' (below
        zero where the trained firms' gain is other firms' loss)."""
        sl = slice(first - 1, last)
        others_t = self.treated_city_sales[sl].sum() - self.treated_sales[sl].sum()
        others_c = self.control_city_sales[sl].sum() - self.control_sales[sl].sum()
        return float(100 * (others_t / others_c - 1))


def training_experiment(params: Parameters, seed: int, *, share: float = 0.05, months: int = 24,
                        use_cache: bool = True) -> TrainingTrial:
    """One round of business training (``sim.instruments.training`` at the office's full capacity)
    for a keyed random ``share`` of the firms alive at month 0, followed for ``months`` months."""
    if months < 1:
        raise ValueError(f"months = {months!r} must be >= 1")
    control, treated, keys = twin_cities(params, seed, use_cache)
    t = treated.firms
    pick = random_share(keys, t["firm_id"], share)
    ids = t["firm_id"][pick].copy()
    growth = t["growth_oriented"][pick].copy()
    instruments.training(treated.p, t, np.flatnonzero(pick))
    shape = (months, len(ids))
    out = {k: np.zeros(shape) for k in ("treated_sales", "control_sales")}
    alive = {k: np.zeros(shape, bool) for k in ("treated_alive", "control_alive")}
    city = {k: np.zeros(months) for k in ("treated_city_sales", "control_city_sales")}
    for m in range(months):
        for arm, c in (("treated", treated), ("control", control)):
            c.step()
            out[f"{arm}_sales"][m], alive[f"{arm}_alive"][m] = sales_of(c, ids)
            city[f"{arm}_city_sales"][m] = c.firms["sales"].sum()
    return TrainingTrial(treated.p, ids, growth, **out, **alive, **city)


def summarise_training(trial: TrainingTrial) -> dict[str, float]:
    """The figures ``msme-sim validate`` compares with the literature: the effect on sales and
    profit in the first year (%), what is left of the sales effect in months 19-24 as a share of
    that in months 1-6 (NaN in a trial shorter than 24 months), and the untrained firms' sales in
    the first year (%)."""
    months = trial.treated_sales.shape[0]
    first_year = min(12, months)
    fade = (trial.effect(19, 24) / trial.effect(1, 6)) if months >= 24 else float("nan")
    return {"sales": trial.effect(1, first_year), "profit": trial.effect(1, first_year, "profit"),
            "fade": fade, "others_sales": trial.others_effect(1, first_year),
            "n": float(len(trial.firm_id))}


LARGE_GRANT = 705e6
"""Rp: YouWiN!'s average prize, about US$50,000 (McKenzie 2017), at about Rp 14,100 per US$ (2019)."""


def large_grant_trial(params: Parameters, seed: int, *, grant: float = LARGE_GRANT, share: float = 0.05,
                      months: int = 36, workers: float = 10.0, use_cache: bool = True) -> dict[str, float]:
    """A ``grant`` of equipment (added to capital) at month 0 to the growth-oriented firms of a
    keyed random ``share`` of all firms; after ``months`` months, the share of them open with at
    least ``workers`` workers (``phases.workers`` of their annual sales) in each copy, and the
    difference in percentage points (``effect_pp``)."""
    if grant <= 0:
        raise ValueError(f"grant = {grant!r} must be > 0")
    if months < 1:
        raise ValueError(f"months = {months!r} must be >= 1")
    control, treated, keys = twin_cities(params, seed, use_cache)
    t = treated.firms
    pick = random_share(keys, t["firm_id"], share) & t["growth_oriented"]
    ids = t["firm_id"][pick].copy()
    t["capital"][pick] += grant
    for _ in range(months):
        control.step()
        treated.step()

    def share_large(city: City) -> float:
        f = city.firms
        row = f.row_of[ids]
        alive = row >= 0
        annual = phases.annualised_sales(f["sales_12m"], city.age())[row[alive]]
        return float(np.count_nonzero(phases.workers(city.p, annual) >= workers) / max(len(ids), 1))

    treated_share, control_share = share_large(treated), share_large(control)
    return {"treated": 100 * treated_share, "control": 100 * control_share,
            "effect_pp": 100 * (treated_share - control_share), "n": float(len(ids))}
