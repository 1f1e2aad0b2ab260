"""Events that change the world at scheduled months: office mergers, regulation changes,
austerity, demand shocks and policy switches.

Each event type declares its fields (type, range, default, meaning) in ``EVENT_FIELDS``; scenario
files are validated against them. An event *fires* at the start of its month, before the office
and the firms act; ``MSMEModel`` schedules each firing with mesa's ``schedule_event`` at
``month - 0.5``, between the steps of months ``month - 1`` and ``month``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .params import levers


@dataclass(frozen=True)
class Field:
    kind: type  # int, float, list (of floats), dict (lever -> value)
    low: float | None = None
    high: float | None = None
    default: Any = None  # None: required
    doc: str = ""


MONTH = Field(int, 1, 100 * 12, None, "month the event takes effect (1 = the first simulated month)")

EVENT_FIELDS: dict[str, dict[str, Field]] = {
    "opd_merger": {
        "month": MONTH,
        "announce_before": Field(int, 0, 60, 6, "months between announcement and effect; capacity "
                                 "dips from the announcement (Andrews & Boyne 2012)"),
        "depth": Field(float, 0.0, 0.9, 0.35, "capacity dip d in 1 - d*exp(-(t - t0)/tau); "
                       "CALIBRATION.md sweeps d in [0.2, 0.5]"),
        "tau": Field(float, 0.5, 120.0, 9.0, "recovery time (months); CALIBRATION.md: [6, 12]"),
        "record_loss": Field(float, 0.0, 1.0, 0.5, "share of case records and queue lost without "
                             "an integrated database (CALIBRATION.md: 30-70 %)"),
        "budget_saving": Field(float, 0.0, 0.9, 0.1, "budget cut that the merger is meant to save"),
        "coordination_after": Field(float, 0.0, 1.0, 0.1, "coordination with sub-districts right "
                                    "after the merger (it recovers toward its target)"),
    },
    "regulation_change": {
        "month": MONTH,
        "depth": Field(float, 0.0, 0.9, 0.1, "capacity dip ('start from zero')"),
        "tau": Field(float, 0.5, 120.0, 3.0, "recovery time of the dip (months)"),
    },
    "austerity": {
        "month": MONTH,
        "budget_cut": Field(float, 0.0, 1.0, 0.25, "share of the budget cut from this month on"),
        "capacity_cut": Field(float, 0.0, 0.9, 0.05, "lasting loss of institutional capacity "
                              "(seed paper §4: austerity makes capacity 'a little less capable')"),
    },
    "demand_shock": {
        "month": MONTH,
        "depth": Field(float, 0.0, 0.99, 0.3, "share of city demand lost in the first month"),
        "recovery_months": Field(int, 1, 600, 24, "months to recover linearly to full demand"),
        "path": Field(list, 0.0, 10.0, [], "explicit demand multipliers for months month, month+1, "
                      "... (overrides depth and recovery_months); 1 after the path ends"),
    },
    "policy_switch": {
        "month": MONTH,
        "set": Field(dict, None, None, None, "levers and their new values, e.g. "
                     "{ data_integration = 1.0 }"),
    },
}

SWITCHABLE = tuple(name for name in levers() if name != "office")


@dataclass
class Event:
    """One scheduled event: its type and its (validated) fields."""
    type: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def month(self) -> int:
        return self.values["month"]

    def firings(self) -> list[tuple[int, Callable]]:
        """(month, action(city)) pairs; most events fire once, a merger twice."""
        v = self.values
        if self.type == "opd_merger":
            announce = v["month"] - v["announce_before"]
            return [(announce, lambda city: _capacity_shock(city, announce, v["depth"], v["tau"])),
                    (v["month"], lambda city: _merge(city, v))]
        action = {"regulation_change": _regulation_change, "austerity": _austerity,
                  "demand_shock": _demand_shock, "policy_switch": _policy_switch}[self.type]
        return [(v["month"], lambda city: action(city, v))]


def _capacity_shock(city, start: int, depth: float, tau: float) -> None:
    if city.office is not None:
        city.office.capacity_shocks.append((start, depth, tau))


def _merge(city, v) -> None:
    office = city.office
    if office is None:
        return
    office.lose_records(city, v["record_loss"] * (1.0 - office.data_integration))
    office.coordination = v["coordination_after"]
    office.budget *= 1.0 - v["budget_saving"]
    office.budget_left *= 1.0 - v["budget_saving"]


def _regulation_change(city, v) -> None:
    if city.office is not None:
        city.office.restart_pipeline(city)
        _capacity_shock(city, v["month"], v["depth"], v["tau"])


def _austerity(city, v) -> None:
    office = city.office
    if office is not None:
        office.budget *= 1.0 - v["budget_cut"]
        office.budget_left *= 1.0 - v["budget_cut"]
        office.base_capacity *= 1.0 - v["capacity_cut"]


def demand_multiplier(v: dict, month: int) -> float:
    """City demand multiplier of a demand shock at ``month``."""
    k = month - v["month"]
    if k < 0:
        return 1.0
    if v["path"]:
        return v["path"][k] if k < len(v["path"]) else 1.0
    return 1.0 - v["depth"] * max(0.0, 1.0 - k / v["recovery_months"])


def _demand_shock(city, v) -> None:
    city.demand_shocks.append(lambda m: demand_multiplier(v, m))


def _policy_switch(city, v) -> None:
    city.p = city.p.replace(**v["set"])
    if city.office is not None:
        city.office.set_levers(city.p, v["set"])
