"""The office's instruments: what each does to the firms it serves, and what it costs.

Each rule changes the firm table in place for the given rows (array operations). Sources are on
the parameters (``sim/params.py``); see docs/ODD.md, Submodels.
"""

from __future__ import annotations

import numpy as np

from .params import INSTRUMENTS, Parameters
from .state import FirmTable

EQUIPMENT, TRAINING, MARKET_ACCESS, CREDIT = range(len(INSTRUMENTS))


def unit_costs(p: Parameters) -> np.ndarray:
    """Cost to the office of one case of each instrument (Rp)."""
    return np.array([p.grant_size * (1.0 + p.grant_overhead), p.training_cost,
                     p.market_access_cost, p.credit_cost])


def service_quality(p: Parameters, capacity: float) -> float:
    """How well a service works at institutional ``capacity``: a share of its full effect,
    ``service_floor + (1 - service_floor) * capacity``."""
    return p.service_floor + (1.0 - p.service_floor) * capacity


def equipment_grant(p: Parameters, t: FirmTable, rows: np.ndarray, quality: float = 1.0) -> None:
    """In-kind equipment: adds productive capital (no leakage to household spending; Fafchamps et
    al. 2014); a weaker office buys less useful equipment (``quality``). Its return is whatever the
    firm's production and market make of it."""
    t.cols["capital"][rows] += p.grant_size * quality


def training(p: Parameters, t: FirmTable, rows: np.ndarray, quality: float = 1.0) -> None:
    """Raises quality with diminishing returns; the effect fades (training_fade, each month)."""
    n_before = t.cols["trainings"][rows]
    t.cols["training"][rows] += quality * p.training_effect * np.exp(-p.training_diminishing * n_before)
    t.cols["trainings"][rows] = n_before + 1


def market_access(p: Parameters, t: FirmTable, rows: np.ndarray, quality: float = 1.0) -> None:
    """Shared market information, e-catalogue, fairs, export and registration help: closes
    access_gain of the gap to full access (it fades back) and registers the firm."""
    access = t.cols["access"]
    gain = quality * p.access_gain * (1.0 - access[rows])
    t.cols["access_boost"][rows] += gain
    access[rows] += gain
    t.cols["registered"][rows] = True


def annuity(principal: float, annual_rate: float, months: int) -> float:
    """Equal monthly instalment repaying ``principal`` over ``months`` at ``annual_rate``."""
    r = annual_rate / 12.0
    if r == 0:
        return principal / months
    return principal * r / (1.0 - (1.0 + r) ** -months)


def credit(p: Parameters, t: FirmTable, rows: np.ndarray, quality: float = 1.0) -> np.ndarray:
    """A KUR loan, added to capital and repaid in equal instalments from the business.

    Banks lend only to firms without a loan outstanding; the office's facilitation cost is spent
    either way. A borrower defaults only by closing with a balance outstanding (``City.step``), so
    no live firm has a past default. The loan is the bank's, so the office's capacity
    (``quality``) does not change it. Returns the rows that got a loan.
    """
    ok = t.cols["loan_months_left"][rows] == 0
    got = rows[ok]
    t.cols["capital"][got] += p.loan_size
    t.cols["loan_balance"][got] = p.loan_size
    t.cols["loan_payment"][got] = annuity(p.loan_size, p.loan_rate, p.loan_term)
    t.cols["loan_months_left"][got] = p.loan_term
    return got


APPLY = (equipment_grant, training, market_access, credit)


def pay_instalments(p: Parameters, t: FirmTable, prof: np.ndarray) -> None:
    """Charge this month's loan instalments to ``prof`` (Rp per firm) and advance the loans by one
    month; only the few borrowers' rows are touched."""
    paying = np.flatnonzero(t["loan_months_left"] != 0)  # (a bool mask: ~7x faster than int16's)
    if paying.size == 0:
        return
    due = t["loan_payment"][paying]
    prof[paying] -= due
    bal, left = t["loan_balance"], t["loan_months_left"]
    bal[paying] = bal[paying] * (1.0 + p.loan_rate / 12.0) - due
    left[paying] -= 1
    done = paying[left[paying] == 0]
    bal[done] = 0.0


def fade(p: Parameters, t: FirmTable) -> None:
    """Training effects and gained access decay toward the firm's own levels."""
    t["training"][:] *= 1.0 - p.training_fade
    boost = t["access_boost"]
    boost *= 1.0 - p.access_fade
    np.add(t["access_base"], boost, out=t["access"])
