"""Scenarios as TOML files: a parent to extend, the parameters that differ, and events.

```toml
description = "One sentence a policy analyst understands."
source = "Seed paper §3.3: 'Many times the OPDs of Medan City are merged ...'"
extends = "baseline"          # optional: a scenario in the same folder (or a path)
years = 10                    # optional: the horizon it is meant for (default 10)

[parameters]                  # any parameter (`msme-sim params`); only what differs
coordination = 0.8

[[events]]                    # added to the parent's events
type = "opd_merger"
month = 36
```

Every problem is reported as one ``ScenarioError`` naming the file, the key path, the line (when
it can be found) and what is allowed, before any run starts.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .events import EVENT_FIELDS, SWITCHABLE, Event, Field
from .files import cut, exists, read_toml, short
from .params import ParameterError, Parameters

TOP_KEYS = ("description", "source", "extends", "years", "parameters", "events")
DEFAULT_YEARS = 10


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with where and why."""


@dataclass
class Scenario:
    name: str
    path: Path
    description: str
    source: str
    params: Parameters
    events: list[Event] = field(default_factory=list)
    years: int = DEFAULT_YEARS
    chain: tuple[str, ...] = ()  # this scenario and its ancestors, nearest first


def scenario_dirs() -> list[Path]:
    """Where bare scenario names are looked up: ./scenarios, then the project's scenarios/."""
    here = Path.cwd() / "scenarios"
    project = Path(__file__).resolve().parents[1] / "scenarios"
    return [d for d in dict.fromkeys([here, project]) if d.is_dir()]


def resolve(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    if not isinstance(name_or_path, (str, Path)) or not str(name_or_path).strip():
        raise ScenarioError(f"{short(name_or_path)} is not a scenario name or file")
    p = Path(name_or_path)
    if p.suffix == ".toml" or exists(p):
        return p if p.is_absolute() or relative_to is None or exists(p) else relative_to / p
    folders = ([relative_to] if relative_to else []) + scenario_dirs()
    for folder in folders:
        candidate = folder / f"{name_or_path}.toml"
        if exists(candidate):
            return candidate
    known = sorted({f.stem for d in folders for f in d.glob("*.toml")})
    near = difflib.get_close_matches(str(name_or_path), known, n=1)
    hint = f"; did you mean '{near[0]}'?" if near else (f"; known: {', '.join(known)}" if known else "")
    raise ScenarioError(f"no scenario named {short(str(name_or_path))}{hint}")


def list_scenarios() -> list[Scenario]:
    out = []
    for folder in scenario_dirs():
        for path in sorted(folder.glob("*.toml")):
            out.append(load(path))
        break  # the first folder found wins
    return out


def load(name_or_path: str | Path, *, years: int | None = None) -> Scenario:
    """Load, resolve ``extends`` and validate a scenario. ``years`` checks events fit the horizon."""
    path = resolve(name_or_path)
    sc = _load(path, ())
    horizon = years if years is not None else sc.years
    for i, ev in enumerate(sc.events):
        for month, _ in ev.firings():
            if month < 1:
                raise ScenarioError(f"{ev.values.get('_file', path)}: events[{ev.values.get('_index', i)}] "
                                    f"({ev.type}) is announced at month {month}, before the run starts; "
                                    "move it later or shorten announce_before")
        if ev.month > horizon * 12:
            raise ScenarioError(
                f"{ev.values.get('_file', path)}: events[{ev.values.get('_index', i)}].month = {ev.month} "
                f"is after the horizon ({horizon} years = month {horizon * 12})")
    return sc


def _load(path: Path, seen: tuple[Path, ...]) -> Scenario:
    path = path.resolve() if exists(path) else path
    if path in seen:
        cycle = " -> ".join(p.stem for p in (*seen, path))
        raise ScenarioError(f"{seen[-1]}: 'extends' makes a cycle: {cycle}")
    if not exists(path) and seen:
        raise ScenarioError(f"{seen[-1]}: key 'extends': scenario file {cut(str(path))} does not exist")
    data, text = read_toml(path, ScenarioError, "scenario file")
    lines = _Lines(text)
    for key in data:
        if key not in TOP_KEYS:
            raise ScenarioError(_unknown(path, key, TOP_KEYS, lines.find(key)))
    for key in ("description", "source", "extends"):
        if key in data and not isinstance(data[key], str):
            raise ScenarioError(f"{path}: key '{key}' (line {lines.find(key)}) must be a string")
    if "description" not in data:
        raise ScenarioError(f"{path}: key 'description' is missing: say in a sentence what the "
                            "scenario represents")
    # the parent first, then what this file changes
    if "extends" in data:
        try:
            parent_path = resolve(data["extends"], path.parent)
        except ScenarioError as err:
            raise ScenarioError(f"{path}: key 'extends' (line {lines.find('extends')}): {err}") from None
        parent = _load(parent_path, (*seen, path))
        base, events, years = parent.params.to_dict(), list(parent.events), parent.years
        chain = (path.stem, *parent.chain)
    else:
        base, events, years, chain = {}, [], DEFAULT_YEARS, (path.stem,)
    if "years" in data:
        years = data["years"]
        if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 100:
            raise ScenarioError(f"{path}: key 'years' = {short(years)} (line {lines.find('years')}) "
                                "must be a whole number of years in [1, 100]")
    overrides = data.get("parameters", {})
    if not isinstance(overrides, dict):
        raise ScenarioError(f"{path}: key 'parameters' must be a table ([parameters])")
    try:
        params = Parameters.from_dict({**base, **overrides})
    except ParameterError as err:
        key = _named_key(str(err))
        line = lines.find(key, table="parameters") if key else None
        at = f"parameters.{cut(key, 60)}" if key else "parameters"
        raise ScenarioError(f"{path}: {at}{_line(line)}: {err}") from None
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list) or not all(isinstance(e, dict) for e in raw_events):
        raise ScenarioError(f"{path}: key 'events' must be an array of tables ([[events]])")
    for i, raw in enumerate(raw_events):
        events.append(_event(path, lines, i, raw, params))
    events.sort(key=lambda e: e.month)
    return Scenario(path.stem, path, data["description"], data.get("source", ""), params,
                    events, years, chain)


def _event(path: Path, lines: _Lines, i: int, raw: dict, params: Parameters) -> Event:
    where = f"{path}: events[{i}]"
    kind = raw.get("type")
    if kind is not None and not isinstance(kind, str):
        raise ScenarioError(f"{where}.type = {short(kind)}{_line(lines.find('type', event=i))} must be "
                            f"a string: one of {', '.join(EVENT_FIELDS)}")
    if kind is None:
        raise ScenarioError(f"{where}{_line(lines.find_event(i))}: missing 'type'; one of "
                            f"{', '.join(EVENT_FIELDS)}")
    if kind not in EVENT_FIELDS:
        near = difflib.get_close_matches(str(kind), list(EVENT_FIELDS), n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        raise ScenarioError(f"{where}.type = {short(kind)}{_line(lines.find('type', event=i))} is not an "
                            f"event type{hint} (allowed: {', '.join(EVENT_FIELDS)})")
    spec = EVENT_FIELDS[kind]
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "type":
            continue
        if key not in spec:
            raise ScenarioError(_unknown(f"{where} ({kind})", key, list(spec),
                                         lines.find(key, event=i)))
        values[key] = _check_field(f"{where}.{key}", spec[key], value,
                                   lines.find(key, event=i), params)
    for key, f in spec.items():
        if key not in values:
            if f.default is None:
                raise ScenarioError(f"{where} ({kind}){_line(lines.find_event(i))}: missing "
                                    f"'{key}' ({f.doc})")
            values[key] = list(f.default) if isinstance(f.default, list) else f.default
    values["_file"], values["_index"] = str(path), i
    return Event(kind, values)


def _check_field(where: str, f: Field, value, line, params: Parameters):
    at = f"{where} = {short(value)}{_line(line)}"
    if f.kind is dict:
        if not isinstance(value, dict) or not value:
            raise ScenarioError(f"{at}: must be a table of levers, e.g. {{ data_integration = 1.0 }}")
        for name in value:
            if name not in SWITCHABLE:
                near = difflib.get_close_matches(name, SWITCHABLE, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                raise ScenarioError(f"{where}{_line(line)}: '{name}' is not a lever a policy switch "
                                    f"can set{hint} (levers: {', '.join(SWITCHABLE)})")
        try:
            params.replace(**value)
        except ParameterError as err:
            raise ScenarioError(f"{where}{_line(line)}: {err}") from None
        return dict(value)
    if f.kind is list:
        if not isinstance(value, list) or not all(_number(x) for x in value):
            raise ScenarioError(f"{at}: must be a list of numbers")
        bad = [x for x in value if not f.low <= x <= f.high]
        if bad:
            raise ScenarioError(f"{at}: values must be in [{f.low:g}, {f.high:g}]; {short(bad[0])} is not")
        return [float(x) for x in value]
    if f.kind is int and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ScenarioError(f"{at}: must be a whole number in [{f.low:g}, {f.high:g}] ({f.doc})")
    if f.kind is float and not _number(value):
        raise ScenarioError(f"{at}: must be a number in [{f.low:g}, {f.high:g}] ({f.doc})")
    if not f.low <= value <= f.high:
        raise ScenarioError(f"{at}: outside its allowed range [{f.low:g}, {f.high:g}] ({f.doc})")
    return float(value) if f.kind is float else value


def _number(x) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and math.isfinite(x))


def _unknown(where, key: str, allowed, line) -> str:
    near = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return f"{where}: unknown key {short(key)}{_line(line)}{hint} (allowed: {', '.join(allowed)})"


def _named_key(message: str) -> str | None:
    m = re.search(r"parameter '(\w+)", message)
    return m.group(1) if m else None


def _line(line: int | None) -> str:
    return f" (line {line})" if line else ""


class _Lines:
    """Finds the line of a key in the file's text (TOML parsers do not report key positions)."""

    def __init__(self, text: str):
        self.lines = [ln.strip() for ln in text.splitlines()]

    def _headers(self, header: str) -> list[int]:
        return [i for i, ln in enumerate(self.lines) if ln == header]

    def find(self, key: str, *, table: str | None = None, event: int | None = None) -> int | None:
        """1-based line of ``key = ...`` at the top level, in ``[table]``, or in the ``event``-th
        ``[[events]]`` table (None when it cannot be found)."""
        start = 0
        if table is not None or event is not None:
            heads = self._headers(f"[{table}]") if table is not None else self._headers("[[events]]")
            index = 0 if table is not None else event
            if index >= len(heads):
                return None
            start = heads[index] + 1
        pattern = re.compile(rf"^{re.escape(key)}\s*=")
        for i in range(start, len(self.lines)):
            if self.lines[i].startswith("["):  # the next table: the key is not in this one
                return None
            if pattern.match(self.lines[i]):
                return i + 1
        return None

    def find_event(self, event: int) -> int | None:
        heads = self._headers("[[events]]")
        return heads[event] + 1 if event < len(heads) else None
