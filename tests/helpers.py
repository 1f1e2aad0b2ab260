import numpy as np

from sim.engine import City
from sim.params import Parameters
from sim.state import FirmTable


def one_firm_city(p: Parameters, *, capital: float, log_quality=0.0, access=0.5, ability=1.0,
                  growth=True, seed=0) -> City:
    t = FirmTable(8)
    t.append(dict(capital=np.array([capital]), log_quality=np.array([log_quality]),
                  access=np.array([access]), access_base=np.array([access]),
                  ability=np.array([ability]), growth_oriented=np.array([growth]),
                  entry_month=np.array([-120], np.int32)), 1)
    return City(p, seed, t)


QUIET = dict(n_firms=1, shock_sd=0.0, quality_sd=0.0, quality_drift=0.0, event_rate=0.0, entry_rate=0.0,
             exit_hazard=0.0, exit_profit=-1e9, export_demand_ratio=0.0, office=False)
"""A city without shocks, product events, entry or closures other than exhausted capital."""


def twins(growth=False, capital=20e6, **kw):
    """Two identical old firms in a quiet city whose demand (Rp 2 M a month) is below their capacity."""
    t = FirmTable(8)
    t.append(dict(capital=np.full(2, capital), access=np.full(2, 0.5), access_base=np.full(2, 0.5),
                  ability=np.ones(2), growth_oriented=np.full(2, growth),
                  entry_month=np.full(2, -120, np.int32)), 2)
    p = Parameters(**{**QUIET, "n_firms": 2, "demand_per_firm": 1e6, **kw})
    return City(p, 0, t), p
