"""``MSMEModel``: the city as a mesa Model, firms as agents, the month as array phases."""

from __future__ import annotations

from functools import partial

import mesa
import numpy as np
from mesa.agentset import _HardKeyAgentSet
from mesa.experimental.scenarios import Scenario as MesaScenario

from .agents import FirmAgent, OfficeAgent
from .engine import City
from .events import Event
from .keyed import Keys
from .params import ParameterError, Parameters
from .population import initial_table

HEADLINE = ("firms", "micro", "small", "medium", "entries", "exits", "grad_micro_small",
            "grad_small_medium", "sales", "export_share", "workers")
"""Outcomes the model's mesa DataCollector reports each step (the full table: ``model.outcomes``)."""


def _latest(name: str, model: MSMEModel):
    return model.city.recorder.rows[-1][name]


def resolve_seed(rng) -> int:
    """A run's seed: the integer given, or a fresh 63-bit one from OS entropy (recorded either way;
    63 bits fit every store and spreadsheet)."""
    if rng is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return int(rng)
    raise ParameterError(f"rng = {rng!r}: pass a non-negative integer seed (or None for a fresh one)")


class MSMEModel(mesa.Model):
    """A city's MSMEs, one step per month.

    Args:
        parameters: a ``Parameters`` (defaults if None); keyword overrides are applied on top, so
            ``mesa.batch_run(MSMEModel, parameters={"n_firms": [5000]}, rng=[1, 2])`` works.
        rng: integer seed (recorded as ``model.seed``); None draws a fresh one. ``seed`` is taken
            as the same (mesa's older spelling); giving both, different, is an error.
        scenario: a mesa ``Scenario`` (what mesa's tools pass, e.g. SolaraViz's Reset): its ``rng``
            is the seed and its entries that name parameters set them; or an msme-sim scenario
            name or file (``scenario="opd_merger"``): its parameters and events.
        use_cache: reuse the cached burn-in (see ``sim.population``).
        events: scheduled ``sim.events.Event``s (from a scenario file); each fires with mesa's
            ``schedule_event`` at the start of its month.

    Agents: every live firm is a ``FirmAgent`` (``model.firms``); the office, if any, is an
    ``OfficeAgent`` (``model.office``, ``unique_id`` -1). Both are in ``model.agents``.
    """

    def __init__(self, parameters: Parameters | None = None, *, rng=None, seed=None, scenario=None,
                 use_cache: bool = True, events: list[Event] | None = None, **overrides):
        base = parameters.to_dict() if parameters is not None else {}
        mesa_scenario = None
        if isinstance(scenario, MesaScenario):  # what mesa's tools (SolaraViz's Reset) pass
            mesa_scenario = scenario
            given = {k: v for k, v in scenario.__dict__.items() if k not in ("rng", "model")}
            base |= {k: v for k, v in given.items() if k in _PARAMETER_NAMES}  # its model parameters
            rng = _one_seed(rng, scenario.rng, "rng", "scenario.rng")
        elif scenario is not None:  # an msme-sim scenario: a name in scenarios/ or a file
            from .scenario import load
            sc = load(scenario)
            base = {**sc.params.to_dict(), **base}
            events = list(sc.events) if events is None else events
        rng = _one_seed(rng, seed, "rng", "seed")  # mesa's older spelling of the seed
        params = Parameters.from_dict({**base, **overrides})
        seed = resolve_seed(rng)
        if mesa_scenario is not None:
            extra = {k: v for k, v in mesa_scenario.__dict__.items() if k not in ("rng", "model")}
            extra.pop("_scenario_id", None)
            super().__init__(scenario=type(mesa_scenario)(rng=seed, **extra))
        else:
            super().__init__(rng=seed)
        self.seed = seed
        self.params = params
        self._agent_ids = np.zeros(0, np.int64)  # firm ids that have an agent in model.agents
        self._agent_of = np.empty(0, object)  # firm id -> its FirmAgent (None before it has one)
        self._synced_to = (-1, -1)  # (month, next firm id) at the last sync
        self._next_viewed = 0
        keys = Keys(seed)  # the model's random numbers (mesa's self.rng is left to mesa's own tools)
        self.city = City(params, keys, initial_table(params, keys, use_cache=use_cache))
        self.office = OfficeAgent(self) if self.city.office is not None else None
        self.events = []
        self._firings = []  # mesa keeps weak references to event callbacks; we keep them alive
        for event in events or ():
            self._schedule(event)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_latest, name) for name in HEADLINE})
        self.datacollector.collect(self)

    def step(self) -> None:
        self.city.step()
        self.datacollector.collect(self)

    # -- events ------------------------------------------------------------------------------------
    def _schedule(self, event: Event) -> None:
        self.events.append(event)
        for month, action in event.firings():
            firing = _Firing(self.city, action)
            self._firings.append(firing)
            self.schedule_event(firing.fire, at=month - 0.5)

    def fire(self, event_type: str, **values) -> Event:
        """Schedule an event (an ``sim.events.EVENT_FIELDS`` type) to take effect next month; fields
        not given take their defaults (a merger is announced when it happens). For classrooms and
        interactive use: ``model.fire("opd_merger")``, ``model.fire("demand_shock", depth=0.5)``."""
        from .events import EVENT_FIELDS
        if event_type not in EVENT_FIELDS:
            raise ParameterError(f"unknown event type {event_type!r}; choose one of {', '.join(EVENT_FIELDS)}")
        spec = EVENT_FIELDS[event_type]
        month = self.month + 1
        filled = {"month": month, **({"announce_before": 0} if "announce_before" in spec else {})}
        for name, f in spec.items():
            if name not in filled and f.default is not None:
                filled[name] = list(f.default) if isinstance(f.default, list) else f.default
        for name, value in values.items():
            if name not in spec or name == "month":
                raise ParameterError(f"event '{event_type}' has no field {name!r} to set here "
                                     f"(fields: {', '.join(n for n in spec if n != 'month')})")
            f = spec[name]
            if f.kind in (int, float) and not (f.low <= value <= f.high):
                raise ParameterError(f"{event_type}.{name} = {value!r} is outside [{f.low}, {f.high}]")
            filled[name] = value
        missing = [n for n, f in spec.items() if f.default is None and n not in filled]
        if missing:
            raise ParameterError(f"event '{event_type}' needs {', '.join(missing)}")
        event = Event(event_type, filled)
        self._schedule(event)
        return event

    # -- outcomes ----------------------------------------------------------------------------------
    @property
    def month(self) -> int:
        return self.city.month

    @property
    def outcomes(self):
        """The tidy monthly outcome table (pandas DataFrame), month 0 included."""
        return self.city.recorder.monthly_table()

    @property
    def firms(self):
        """The live firms as an AgentSet (``model.agents_by_type[FirmAgent]``)."""
        return self.agents_by_type[FirmAgent]

    # -- the agent layer ---------------------------------------------------------------------------
    @property
    def agents(self):
        """All live firms as mesa agents (synchronised with the arrays when read)."""
        self._sync_agents()
        return self._all_agents

    @property
    def agents_by_type(self):
        self._sync_agents()
        return self._agents_by_type

    def _sync_agents(self) -> None:
        city = getattr(self, "city", None)
        if city is None or self._synced_to == (city.month, city.firms.next_id):
            return
        firms = city.firms
        every = self._all_agents._agents
        typed = self._agents_by_type.setdefault(FirmAgent, _HardKeyAgentSet([], random=self.random))
        mine = typed._agents
        # firms that exited since the last sync leave the sets
        alive = firms.row_of[self._agent_ids] >= 0
        gone = self._agent_of[self._agent_ids[~alive]]
        for agent in gone.tolist():
            del every[agent], mine[agent]
        # firms that entered since the last sync (and are still alive) join them
        new_ids = np.arange(self._next_viewed, firms.next_id)
        new_ids = new_ids[firms.row_of[new_ids] >= 0]
        view = FirmAgent._view
        new_agents = [view(self, fid) for fid in new_ids.tolist()]
        if firms.next_id > len(self._agent_of):
            grown = np.empty(max(firms.next_id, int(1.5 * len(self._agent_of))), object)
            grown[: len(self._agent_of)] = self._agent_of
            self._agent_of = grown
        self._agent_of[new_ids] = new_agents
        self._agent_of[self._agent_ids[~alive]] = None
        fresh = dict.fromkeys(new_agents)
        every.update(fresh)
        mine.update(fresh)
        self._agent_ids = np.concatenate([self._agent_ids[alive], new_ids])
        self._next_viewed = firms.next_id
        self._synced_to = (city.month, firms.next_id)


_PARAMETER_NAMES = frozenset(Parameters.__dataclass_fields__)


def _one_seed(a, b, name_a: str, name_b: str):
    """The seed given as ``a`` or ``b`` (mesa's tools use several names for it); both, if they differ,
    is an error."""
    if a is not None and b is not None and resolve_seed(a) != resolve_seed(b):
        raise ParameterError(f"{name_a} = {a!r} and {name_b} = {b!r} disagree: give the seed once")
    return a if a is not None else b


class _Firing:
    """An event's action bound to the city, scheduled through mesa."""

    def __init__(self, city: City, action):
        self.city, self.action = city, action

    def fire(self) -> None:
        self.action(self.city)
