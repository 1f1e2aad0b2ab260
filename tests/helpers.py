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
    return City(p, np.random.default_rng(seed), t)


QUIET = dict(n_firms=1, shock_sd=0.0, quality_sd=0.0, quality_drift=0.0, entry_rate=0.0,
             exit_hazard=0.0, export_demand_ratio=0.0, office=False)
