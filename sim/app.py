"""The classroom page: mesa's SolaraViz over a classroom-sized city, offline.

    msme-sim app [--port 8521] [--firms 10000]

Controls for the office's levers and a scenario picker (Reset applies them); buttons that fire an
OPD merger, a regulation change, austerity or a demand shock at the current month; live charts
(firms by class, graduations of served and other firms, office capacity and queue, awareness and
registry, money spent by instrument); a map of the city's sub-districts coloured by a chosen
outcome; a firm-size histogram; and a side-by-side mode that runs a second scenario on the same
seed, so students see the difference a policy makes rather than two noisy lines. Lessons:
docs/classroom.md.

Every front-end file comes from the installed packages (solara's assets from ``solara-assets``;
ipyvuetify is pinned below 3, whose app bundle solara-assets does not hold), so the page loads with
no internet connection.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading

import numpy as np

from .classes import CLASS_NAMES
from .model import MSMEModel
from .params import INSTRUMENTS, MIX_NAMES, TARGETING_RULES, Parameters
from .scenario import list_scenarios, load

DEFAULT_FIRMS = 10_000
EVENTS = (("opd_merger", "OPD merger"), ("regulation_change", "Regulation change"),
          ("austerity", "Austerity"), ("demand_shock", "Demand shock"))
MAP_OUTCOMES = {
    "registered, % of firms": lambda t, d: 100 * _by_district(t["registered"], d, "mean"),
    "aware of the office, % of firms": lambda t, d: 100 * _by_district(t["aware"], d, "mean"),
    "ever served, per 1,000 firms": lambda t, d: 1000 * _by_district(t["times_served"] > 0, d, "mean"),
    "mean sales, Rp M/month": lambda t, d: 1e-6 * _by_district(t["sales"], d, "mean"),
    "firms": lambda t, d: _by_district(np.ones(t.n), d, "sum"),
}
_DEFAULTS = Parameters()


def _by_district(values, district, how: str) -> np.ndarray:
    n = int(district.max()) + 1 if district.size else 1
    total = np.bincount(district, weights=np.asarray(values, float), minlength=n)
    if how == "sum":
        return total
    count = np.bincount(district, minlength=n)
    return np.divide(total, count, out=np.full(n, np.nan), where=count > 0)


class ClassroomModel(MSMEModel):
    """``MSMEModel`` with the page's controls as keyword arguments.

    ``preset`` is a scenario (its parameters and events; a lever it sets overrides that slider);
    ``compare`` names a scenario run alongside on the same seed (``"nothing"``: none); the four
    ``weight_*`` are relative budget weights of the instruments (normalised to the mix);
    ``office_budget_bn`` is the budget in Rp bn a year for a Medan-sized city.
    """

    def __init__(self, *, preset: str = "baseline", compare: str = "baseline",
                 n_firms: int = DEFAULT_FIRMS, office_budget_bn: float | None = None,
                 weight_equipment: float | None = None, weight_training: float | None = None,
                 weight_market_access: float | None = None, weight_credit: float | None = None,
                 rng=None, seed=None, scenario=None, **levers):
        sc = load(preset)
        weights = np.array([w if w is not None else getattr(_DEFAULTS, f"mix_{name}")
                            for w, name in zip((weight_equipment, weight_training, weight_market_access,
                                                weight_credit), INSTRUMENTS, strict=True)], float)
        if weights.sum() > 0:
            levers |= dict(zip(MIX_NAMES, (weights / weights.sum()).tolist(), strict=True))
        if office_budget_bn is not None:
            levers["office_budget"] = float(office_budget_bn) * 1e9
        chosen = sc.params.to_dict()
        set_by_preset = {k for k, v in chosen.items() if v != getattr(_DEFAULTS, k)}
        for name, value in levers.items():
            if name not in set_by_preset and not (name in MIX_NAMES and set_by_preset & set(MIX_NAMES)):
                chosen[name] = value
        chosen["n_firms"] = n_firms
        super().__init__(Parameters.from_dict(chosen), rng=rng, seed=seed, scenario=scenario,
                         events=list(sc.events))
        self.preset, self.compare_name = preset, compare
        self.twin = None
        if compare and compare != "nothing":
            self.twin = MSMEModel(scenario=compare, rng=self.seed, n_firms=n_firms)
        # the page steps the model in a worker thread while it draws: charts read under this lock
        self.lock = threading.Lock()

    def step(self) -> None:
        with self.lock:
            super().step()
            if self.twin is not None:
                self.twin.step()

    def fire_now(self, event_type: str) -> None:
        """Fire an event on this city (not on the comparison) from next month."""
        with self.lock:
            self.fire(event_type)


def model_params(n_firms: int = DEFAULT_FIRMS) -> dict:
    """SolaraViz's controls: the levers, a scenario picker and the comparison."""
    names = [sc.name for sc in list_scenarios()]
    d = _DEFAULTS

    def slider(label, value, low, high, step):
        return {"type": "SliderFloat", "label": label, "value": value, "min": low, "max": high, "step": step}

    return {
        "n_firms": n_firms,
        "preset": {"type": "Select", "label": "Scenario (its events; levers it sets win)",
                   "value": "baseline", "values": names},
        "compare": {"type": "Select", "label": "Side by side with (same seed)", "value": "baseline",
                    "values": ["nothing", *names]},
        "office_budget_bn": slider("Budget, Rp bn a year", d.office_budget / 1e9, 0.0, 12.0, 0.5),
        "outreach": slider("Outreach (per month)", d.outreach, 0.0, 0.1, 0.005),
        "coordination": slider("Coordination with sub-districts", d.coordination, 0.0, 1.0, 0.05),
        "office_capacity": slider("Institutional capacity", d.office_capacity, 0.1, 1.0, 0.05),
        "data_integration": slider("Data integration", d.data_integration, 0.0, 1.0, 0.1),
        "service_clarity": slider("Service clarity", d.service_clarity, 0.0, 1.0, 0.05),
        "targeting": {"type": "Select", "label": "Targeting rule", "value": d.targeting,
                      "values": list(TARGETING_RULES)},
        "weight_equipment": slider("Mix: equipment", d.mix_equipment, 0.0, 1.0, 0.05),
        "weight_training": slider("Mix: training", d.mix_training, 0.0, 1.0, 0.05),
        "weight_market_access": slider("Mix: market access", d.mix_market_access, 0.0, 1.0, 0.05),
        "weight_credit": slider("Mix: credit", d.mix_credit, 0.0, 1.0, 0.05),
    }


# -- charts: ECharts options (drawn in the browser; the server only sends the numbers) --------------
def _locked(model):
    """The model's lock (a ClassroomModel's), or nothing to wait for."""
    return getattr(model, "lock", None) or contextlib.nullcontext()


def _series(model, names):
    rows = model.city.recorder.rows
    return [r["month"] for r in rows], {n: [r[n] for r in rows] for n in names}


def _line(title: str, month, lines, *, log: bool = False, stack: bool = False) -> dict:
    """An ECharts line chart: ``lines`` are (name, values, dashed, colour)."""
    return {
        "animation": False,
        "title": {"text": title, "textStyle": {"fontSize": 12}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 20, "textStyle": {"fontSize": 10}},
        "grid": {"left": 50, "right": 12, "top": 62, "bottom": 28},
        "xAxis": {"type": "category", "data": month, "name": "month", "nameLocation": "middle",
                  "nameGap": 20},
        "yAxis": {"type": "log" if log else "value", "scale": not stack},
        "series": [{"name": name, "type": "line", "data": values, "showSymbol": False,
                    "lineStyle": {"type": "dashed" if dashed else "solid", "color": colour},
                    "itemStyle": {"color": colour},
                    **({"stack": "total", "areaStyle": {}} if stack else {})}
                   for name, values, dashed, colour in lines],
    }


def chart_options(model) -> list[dict]:
    """The six live charts (dashed: the comparison run on the same seed). Firms by class shows the
    small and medium classes (micro firms, about 99 %, are counted in the status line)."""
    names = ["micro", "small", "medium", "graduated_served", "graduated_never_served", "office_capacity",
             "queue_length", "aware_share", "registered_share", *[f"spend_{i}" for i in INSTRUMENTS]]
    runs = [(model, False, "")] + ([(model.twin, True, f" ({model.compare_name})")] if model.twin else [])
    with _locked(model):
        data = [(dashed, tag, *_series(m, names)) for m, dashed, tag in runs]
    month = data[0][2]
    classes, grads, capacity, queue, reach = [], [], [], [], []
    colours = {"micro": "#7f7f7f", "small": "#1f77b4", "medium": "#d62728"}
    for dashed, tag, _, s in data:
        classes += [(cls + tag, s[cls], dashed, colours[cls]) for cls in CLASS_NAMES[1:3]]
        grads += [("served" + tag, np.cumsum(s["graduated_served"]).tolist(), dashed, "#2ca02c"),
                  ("never served" + tag, np.cumsum(s["graduated_never_served"]).tolist(), dashed, "#9467bd")]
        capacity.append(("capacity" + tag, [round(100 * v, 2) for v in s["office_capacity"]], dashed, "#ff7f0e"))
        queue.append(("queue" + tag, s["queue_length"], dashed, "#8c564b"))
        reach += [("aware" + tag, [round(100 * v, 2) for v in s["aware_share"]], dashed, "#17becf"),
                  ("registered" + tag, [round(100 * v, 2) for v in s["registered_share"]], dashed, "#bcbd22")]
    s = data[0][3]
    spent = [(i.replace("_", " "), np.round(np.cumsum(s[f"spend_{i}"]) * 1e-9, 4).tolist(), False, c)
             for i, c in zip(INSTRUMENTS, ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"), strict=True)]
    return [_line("small and medium firms (the rest are micro)", month, classes),
            _line("graduations so far", month, grads),
            _line("office capacity, % of full", month, capacity),
            _line("firms waiting in the queue", month, queue),
            _line("% of firms aware of / registered with the office", month, reach),
            _line("money spent so far, Rp bn", month, spent, stack=True)]


def map_option(model, outcome: str) -> dict:
    """The sub-districts as tiles (7 x 3) coloured by ``outcome`` (a key of ``MAP_OUTCOMES``)."""
    with _locked(model):
        t = model.city.firms
        values = MAP_OUTCOMES[outcome](t, t["district"].astype(np.intp))
    k = model.params.n_districts
    cols = 7 if k >= 7 else k
    cells = [[i % cols, i // cols, round(float(v), 1) if np.isfinite(v) else None]
             for i, v in enumerate(values[:k])]
    finite = [c[2] for c in cells if c[2] is not None] or [0.0]
    return {
        "animation": False,
        "title": {"text": f"sub-districts: {outcome}", "textStyle": {"fontSize": 12}},
        "tooltip": {},
        "grid": {"left": 10, "right": 10, "top": 30, "bottom": 60},
        "xAxis": {"type": "category", "data": list(range(cols)), "show": False},
        "yAxis": {"type": "category", "data": list(range(math.ceil(k / cols))), "show": False,
                  "inverse": True},
        "visualMap": {"min": min(finite), "max": max(max(finite), min(finite) + 1e-9), "calculable": True,
                      "orient": "horizontal", "left": "center", "bottom": 5, "itemHeight": 120},
        "series": [{"type": "heatmap", "data": cells, "label": {"show": True, "fontSize": 10},
                    "itemStyle": {"borderColor": "#fff", "borderWidth": 2}}],
    }


SIZE_BINS = 10.0 ** np.arange(6.0, 11.51, 0.25)


def size_option(model) -> dict:
    """Firms by annual sales in log bins (log count axis); the comparison run as a dashed line."""
    labels = [f"{b / 1e6:,.0f}" if b >= 1e6 else f"{b / 1e6:.1f}" for b in SIZE_BINS[:-1]]

    def counts(m):
        return np.histogram(np.clip(m.city.annual_sales, SIZE_BINS[0], SIZE_BINS[-1]), SIZE_BINS)[0]

    with _locked(model):
        mine = counts(model)
        theirs = counts(model.twin) if model.twin is not None else None
    series = [{"name": "this city", "type": "bar", "data": [int(c) or None for c in mine],
               "itemStyle": {"color": "#1f77b4"}}]
    if theirs is not None:
        series.append({"name": model.compare_name, "type": "line", "step": "middle", "showSymbol": False,
                       "data": [int(c) or None for c in theirs],
                       "lineStyle": {"type": "dashed", "color": "#000"}, "itemStyle": {"color": "#000"}})
    return {
        "animation": False,
        "title": {"text": "firm sizes", "textStyle": {"fontSize": 12}},
        "tooltip": {"trigger": "axis"}, "legend": {"top": 20, "textStyle": {"fontSize": 10}},
        "grid": {"left": 50, "right": 12, "top": 50, "bottom": 45},
        "xAxis": {"type": "category", "data": labels, "name": "annual sales, Rp M (log bins)",
                  "nameLocation": "middle", "nameGap": 30},
        "yAxis": {"type": "log", "name": "firms"},
        "series": series,
    }


# -- the page -----------------------------------------------------------------------------------------
def _components():
    import solara
    from mesa.visualization.utils import force_update, update_counter  # bumped after each step

    @solara.component
    def Charts(model):
        update_counter.get()
        with solara.GridFixed(columns=3):
            for option in chart_options(model):
                solara.FigureEcharts(option=option, attributes={"style": "height: 260px;",
                                                                "class": "msme-chart"})

    @solara.component
    def Events(model):
        update_counter.get()

        def fire(kind):
            model.fire_now(kind)
            force_update()  # redraw the page now, even while paused

        with solara.Card("Events: fire now (this city only)"), solara.Column(gap="2px"):
            with solara.Row():
                for kind, label in EVENTS:
                    solara.Button(label, on_click=lambda k=kind: fire(k), color="warning")
            with _locked(model):
                row = dict(model.city.recorder.rows[-1])
                scheduled = [f"{e.type.replace('_', ' ')} at month {e.month}" for e in model.events]
            solara.Text(f"Month {row['month']}: office capacity {100 * row['office_capacity']:.0f} %, "
                        f"queue {row['queue_length']}, registered {100 * row['registered_share']:.1f} %, "
                        f"{row['firms']:,} firms ({row['micro']:,} micro, {row['small']} small, "
                        f"{row['medium']} medium).", classes=["msme-status"])
            solara.Text(f"Events: {', '.join(scheduled) or 'none'}.", classes=["msme-events"])
            p = model.params
            solara.Text(f"In effect: budget Rp {p.office_budget / 1e9:.1f} bn/yr, capacity {p.office_capacity:.2f}, "
                        f"coordination {p.coordination:.2f}, outreach {p.outreach:.3f}, service clarity "
                        f"{p.service_clarity:.2f}, data integration {p.data_integration:.1f}, targeting "
                        f"{p.targeting}, mix " + "/".join(f"{getattr(p, n):.2f}" for n in MIX_NAMES)
                        + f"; seed {model.seed}.", classes=["msme-levers"])

    @solara.component
    def Map(model):
        update_counter.get()
        outcome = solara.use_reactive(next(iter(MAP_OUTCOMES)))
        solara.Select("Map colour", value=outcome, values=list(MAP_OUTCOMES))
        solara.FigureEcharts(option=map_option(model, outcome.value),
                             attributes={"style": "height: 300px;", "class": "msme-chart"})

    @solara.component
    def Sizes(model):
        update_counter.get()
        solara.FigureEcharts(option=size_option(model), attributes={"style": "height: 340px;",
                                                                    "class": "msme-chart"})

    @solara.component
    def Dashboard(model):
        Events(model)
        Charts(model)

    return [(Dashboard, 0), (Map, 0), (Sizes, 0)]


def _layout(num_components: int) -> list[dict]:
    """The page's grid: the charts across the full width, then the map and the size histogram side
    by side (mesa's default puts every component in a half-width cell)."""
    out = [{"i": 0, "w": 12, "h": 22, "moved": False, "x": 0, "y": 0}]
    for i in range(1, num_components):
        out.append({"i": i, "w": 6, "h": 11, "moved": False, "x": 6 * ((i - 1) % 2), "y": 22 + 11 * ((i - 1) // 2)})
    return out


@contextlib.contextmanager
def running(firms: int = DEFAULT_FIRMS, seed: int | None = None, log=None, timeout: float = 120.0):
    """``msme-sim app`` in a child process on a free localhost port: yields the page's URL once it
    answers, and stops the server afterwards (for tests, benchmarks and screenshots). ``log``: a
    file for the server's output (default: discarded)."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "sim.cli", "app", "--port", str(port), "--firms", str(firms)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    proc = subprocess.Popen(cmd, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"msme-sim app exited with status {proc.returncode}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"msme-sim app did not answer at {url} within {timeout:g} s") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def make_page(n_firms: int | None = None, seed: int | None = None):
    """The page: a solara component that gives every browser session its own city of ``n_firms``
    firms (so students on one server do not step each other's cities) inside mesa's SolaraViz."""
    import solara
    from mesa.visualization import SolaraViz, solara_viz
    if hasattr(solara_viz, "make_initial_grid_layout"):  # (mesa 3.5; its default is half-width cells)
        solara_viz.make_initial_grid_layout = _layout
    n = int(n_firms or os.environ.get("MSME_SIM_APP_FIRMS", DEFAULT_FIRMS))
    if seed is None and os.environ.get("MSME_SIM_APP_SEED"):
        seed = int(os.environ["MSME_SIM_APP_SEED"])
    params = model_params(n)
    start = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    components = _components()

    @solara.component
    def Page():
        model = solara.use_memo(lambda: ClassroomModel(rng=seed, **start), [])  # one per session
        SolaraViz(model, components=components, model_params=params, name="msme-sim classroom",
                  play_interval=50, render_interval=1)

    return Page


Page = None
if os.environ.get("MSME_SIM_APP"):  # set by `msme-sim app` for the solara server that imports this
    Page = make_page()
