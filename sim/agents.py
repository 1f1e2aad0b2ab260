"""Firms as mesa agents: thin, read-only views over the firm table.

A ``FirmAgent`` stands for one firm for that firm's whole life; its ``unique_id`` is the firm's
``firm_id``. Reading an attribute looks the firm's row up in the table, so agents always agree with
the arrays and cost nothing while nobody reads them.

**After the firm exits** the agent leaves ``model.agents``; ``agent.alive`` is False and reading any
other firm attribute raises ``FirmExitedError``. An agent never follows its row's next occupant.
"""

from __future__ import annotations

import mesa
import numpy as np

from . import phases
from .classes import CLASS_NAMES
from .params import INSTRUMENTS


class FirmExitedError(LookupError):
    """The firm behind this agent has exited the city."""


class _Field:
    """A read-only attribute read from the firm table (optionally through a function)."""

    def __init__(self, column: str | None = None, fn=None):
        self.column, self.fn = column, fn

    def __set_name__(self, owner, name):
        self.name = name
        self.column = self.column or name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        row = agent._row()
        if self.fn is not None:
            return self.fn(agent, row)
        return agent.model.city.firms.cols[self.column][row].item()

    def __set__(self, agent, value):
        raise AttributeError(f"FirmAgent.{self.name} is a read-only view of the firm arrays")


def _annual_sales(agent, row):
    city = agent.model.city
    age = city.month - int(city.firms.cols["entry_month"][row])
    return float(phases.annualised_sales(city.firms.cols["sales_12m"][row], age))


class FirmAgent(mesa.Agent):
    """One micro, small or medium enterprise (a view; see the module docstring)."""

    capital = _Field()  # Rp
    access = _Field()  # market access, 0-1
    ability = _Field()
    sales = _Field()  # last month, Rp
    export_sales = _Field()  # last month, Rp
    sales_12m = _Field()  # last 12 months, Rp
    growth_oriented = _Field()
    aware = _Field()
    registered = _Field()
    district = _Field()
    entry_month = _Field()
    size_class_code = _Field("size_class")
    quality = _Field("log_quality", lambda a, r: float(np.exp(a.model.city.firms.cols["log_quality"][r])))
    productivity = _Field("log_productivity",
                          lambda a, r: float(np.exp(a.model.city.firms.cols["log_productivity"][r])))
    volatility = _Field()  # this volatility spell's factor on the SD of the firm's shocks
    reach = _Field("log_reach", lambda a, r: float(np.exp(a.model.city.firms.cols["log_reach"][r])))
    sector = _Field("sector", lambda a, r: phases.SECTORS[a.model.city.firms.cols["sector"][r]])
    size_class = _Field("size_class", lambda a, r: CLASS_NAMES[a.model.city.firms.cols["size_class"][r]])
    exporter = _Field("export_sales", lambda a, r: bool(a.model.city.firms.cols["export_sales"][r] > 0))
    age = _Field("entry_month", lambda a, r: a.model.city.month - int(a.model.city.firms.cols["entry_month"][r]))
    annual_sales = _Field("sales_12m", _annual_sales)
    workers = _Field("sales_12m", lambda a, r: float(phases.workers(a.model.params, _annual_sales(a, r))))

    @classmethod
    def _view(cls, model, firm_id: int) -> FirmAgent:
        """Make the view of an existing firm without mesa's one-by-one registration."""
        agent = cls.__new__(cls)
        agent.model = model
        agent.unique_id = firm_id
        agent.pos = None
        return agent

    def _row(self) -> int:
        row = int(self.model.city.firms.row_of[self.unique_id])
        if row < 0:
            raise FirmExitedError(f"firm {self.unique_id} has exited; its agent no longer has state")
        return row

    @property
    def alive(self) -> bool:
        return bool(self.model.city.firms.row_of[self.unique_id] >= 0)

    def step(self) -> None:
        """Firms act through the model's array phases; a per-agent step does nothing."""

    def __repr__(self) -> str:
        return f"FirmAgent(firm_id={self.unique_id}, alive={self.alive})"


class _OfficeField:
    def __init__(self, attr: str, fn=None):
        self.attr, self.fn = attr, fn

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        office = agent.model.city.office
        value = getattr(office, self.attr)
        return self.fn(value) if self.fn else value

    def __set__(self, agent, value):
        raise AttributeError(f"OfficeAgent.{self.name} is read-only; change levers with a "
                             "policy_switch event")


class OfficeAgent(mesa.Agent):
    """The Office of Cooperatives, SMEs, Industry and Trade, as a mesa agent (a view of
    ``model.city.office``; its monthly work runs inside the model's step)."""

    budget = _OfficeField("budget")  # Rp/yr
    budget_left = _OfficeField("budget_left")  # Rp
    throughput = _OfficeField("throughput")  # cases/month at capacity 1
    capacity = _OfficeField("capacity_now")  # institutional capacity, 0-1
    coordination = _OfficeField("coordination")
    data_integration = _OfficeField("data_integration")
    outreach = _OfficeField("outreach")
    service_clarity = _OfficeField("service_clarity")
    targeting = _OfficeField("targeting")
    monitoring_evaluation = _OfficeField("monitoring_evaluation")
    instrument_mix = _OfficeField("mix", lambda m: dict(zip(INSTRUMENTS, m.tolist(), strict=True)))

    def __init__(self, model):
        super().__init__(model)
        self.unique_id = -1  # firms' ids are 0, 1, ...; the office stands apart

    @property
    def queue_length(self) -> int:
        return int(np.count_nonzero(self.model.city.firms["queued"]))

    def step(self) -> None:
        """The office's work runs in the model's step (sim/office.py)."""
