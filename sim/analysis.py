"""Analysis of stored results: per-run headline outcomes, scenario means with 95 % intervals
across seeds, and paired differences from a reference scenario (common random numbers).

Reads only the store (``sim.store.load``), never a sweep's memory.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats

HEADLINES = {
    # name: (label, unit scale, format)
    "graduations": ("graduations out of micro and small (each firm once per class)", 1, "{:,.0f}"),
    "small_medium_end": ("small + medium firms at the end", 1, "{:,.0f}"),
    "firms_end": ("firms at the end", 1, "{:,.0f}"),
    "sales_last_year": ("MSME sales in the last year, Rp bn", 1e-9, "{:,.1f}"),
    "export_share": ("export share in the last year, %", 100, "{:.2f}"),
    "served": ("firms served by the office", 1, "{:,.0f}"),
    "grad_assisted": ("graduations of served firms (each firm once per class)", 1, "{:,.0f}"),
    "registered_end": ("registered at the end, %", 100, "{:.1f}"),
}


def headlines(monthly: pd.DataFrame) -> pd.DataFrame:
    """One row per run: the headline outcomes computed from its monthly table (rows in any order,
    e.g. several runs' ``RunResult.monthly`` concatenated)."""
    monthly = monthly.reset_index(drop=True)
    m = monthly[monthly["month"] > 0]
    g = m.groupby("run_id")
    last = m.loc[g["month"].idxmax()].set_index("run_id")
    last_year = m[m["month"] > m.groupby("run_id")["month"].transform("max") - 12].groupby("run_id")
    out = pd.DataFrame({
        "graduations": g["graduated_small"].sum() + g["graduated_medium"].sum(),
        "small_medium_end": last["small"] + last["medium"],
        "firms_end": last["firms"],
        "sales_last_year": last_year["sales"].sum(),
        "export_share": last_year["export_share"].mean(),
        "served": g["served"].sum(),
        "grad_assisted": g["graduated_served"].sum(),
        "registered_end": last["registered_share"],
    })
    keys = monthly.drop_duplicates("run_id").set_index("run_id")[["scenario", "point", "replicate"]]
    return keys.join(out)


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the t-based confidence interval of the mean (NaN bounds with one value)."""
    values = np.asarray(values, float)
    n = values.size
    mean = float(values.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def scenario_table(per_run: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and interval of each headline for each scenario and design point."""
    rows = []
    for (scenario, point), grp in per_run.groupby(["scenario", "point"], sort=False):
        for name in HEADLINES:
            mean, lo, hi = interval(grp[name].to_numpy(), level)
            rows.append(dict(scenario=scenario, point=point, outcome=name, n=len(grp), mean=mean,
                             low=lo, high=hi))
    return pd.DataFrame(rows)


def paired_runs(per_run: pd.DataFrame, reference: str):
    """For each other scenario and design point: (scenario, point, its runs, the reference's runs),
    both indexed by (point, replicate) and restricted to the replicates (seeds) they share."""
    ref = per_run[per_run["scenario"] == reference].set_index(["point", "replicate"])
    for (scenario, point), grp in per_run.groupby(["scenario", "point"], sort=False):
        if scenario == reference:
            continue
        mine = grp.set_index(["point", "replicate"])
        both = mine.index.intersection(ref.index)
        yield scenario, point, mine.loc[both], ref.loc[both]


def paired_differences(per_run: pd.DataFrame, reference: str, level: float = 0.95) -> pd.DataFrame:
    """Scenario minus ``reference`` for the same design point and replicate (same seed)."""
    rows = []
    for scenario, point, mine, ref in paired_runs(per_run, reference):
        for name in HEADLINES:
            diff = (mine[name] - ref[name]).to_numpy()
            mean, lo, hi = interval(diff, level)
            rows.append(dict(scenario=scenario, point=point, outcome=name, n=len(diff), mean=mean,
                             low=lo, high=hi))
    return pd.DataFrame(rows)


# -- effects on served firms and on the rest of the city (sim.effects) ------------------------------
EFFECT_ROWS = (
    # (part, horizon or None for the run's end, measure, label, scale, format)
    ("served", 36, "alive", "served firms after 36 months: alive, pp", 100, "{:+.1f}"),
    ("served", 36, "sales", "served firms after 36 months: annual sales, Rp M per firm", 1e-6, "{:+,.1f}"),
    ("served", 36, "workers", "served firms after 36 months: workers per firm", 1, "{:+.2f}"),
    ("served_by_scenario", None, "sales", "at the end, firms the scenario served: annual sales, Rp bn",
     1e-9, "{:+,.2f}"),
    ("served_by_baseline_only", None, "sales", "at the end, firms only the baseline served: annual "
     "sales, Rp bn", 1e-9, "{:+,.2f}"),
    ("everyone_else", None, "sales", "at the end, everyone else: annual sales, Rp bn", 1e-9, "{:+,.2f}"),
    ("net", None, "sales", "at the end, the whole city: annual sales, Rp bn", 1e-9, "{:+,.2f}"),
    ("net", None, "workers", "at the end, the whole city: workers", 1, "{:+,.0f}"),
    ("net", None, "alive", "at the end, the whole city: firms", 1, "{:+,.0f}"),
    ("cost", None, "spend", "extra office spending over the run, Rp bn", 1e-9, "{:+,.2f}"),
)
COST_RATIOS = (
    # (denominator measure, label, scale, format)
    ("job_years", "extra spending per job-year added, Rp M", 1e-6, "{:,.1f}"),
    ("graduations", "extra spending per graduation added, Rp M", 1e-6, "{:,.1f}"),
    ("sales_total", "extra spending per rupiah of extra MSME sales", 1, "{:,.3f}"),
)
COST_LABELS = frozenset(r[1] for r in COST_RATIOS)


PRICED_LEVERS = frozenset({
    # the levers spending flows from: the instruments' unit costs out of the office's budget
    "office", "office_budget", "mix_equipment", "mix_training", "mix_market_access", "mix_credit",
    "grant_size", "training_cost", "market_access_cost", "loan_size", "loan_term", "credit_cost",
    "grant_overhead",
})

UNPRICED_NOTE = (
    "spending is what the office paid for its instruments (grants, training, market access, credit) "
    "out of its budget. The model puts no price on changing the office itself (staff, coordination, "
    "a database, outreach, clarity, targeting, M&E) or on a merger's own costs; it counts only their "
    "budget changes. So these ratios leave out the cost of the changes listed here: add it before "
    "comparing")


def unpriced_levers() -> tuple[str, ...]:
    """The levers whose change costs nothing in the model (every lever not in ``PRICED_LEVERS``)."""
    from .params import levers
    return tuple(name for name in levers() if name not in PRICED_LEVERS)


def _shown(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def unpriced_changes(runs: pd.DataFrame, reference: str) -> dict[tuple[str, int], list[str]]:
    """What each scenario (and design point) changes against ``reference`` at the same point that
    the model puts no price on: unpriced levers set differently ("coordination 0.4 -> 0.8") and
    events the reference does not have ("event opd_merger"). Scenarios with none are left out."""
    if runs is None or runs.empty or not {"parameters", "events"} <= set(runs.columns):
        return {}
    unpriced = unpriced_levers()
    runs = runs.sort_values("run_id").drop_duplicates(["scenario", "point"])
    ref = {int(r.point): r for r in runs[runs["scenario"] == reference].itertuples(index=False)}
    out = {}
    for r in runs[runs["scenario"] != reference].itertuples(index=False):
        base = ref.get(int(r.point)) or next(iter(ref.values()), None)
        if base is None:
            continue
        mine, theirs = json.loads(r.parameters), json.loads(base.parameters)
        items = [f"{k} {_shown(theirs.get(k))} -> {_shown(mine[k])}" for k in unpriced
                 if k in mine and mine[k] != theirs.get(k)]
        base_events = {e.get("type") for e in json.loads(base.events or "[]")}
        events = Counter(e.get("type") for e in json.loads(r.events or "[]"))
        items += [f"event {kind}" + (f" x{n}" if n > 1 else "") for kind, n in events.items()
                  if kind not in base_events]
        if items:
            out[(r.scenario, int(r.point))] = items
    return out


def unpriced_for(effects: pd.DataFrame, runs: pd.DataFrame | None) -> dict[tuple[str, int], list[str]]:
    """``unpriced_changes`` against the effects table's baseline (its ``baseline_name`` column);
    nothing without the runs table or a named baseline."""
    if runs is None or "baseline_name" not in effects:
        return {}
    return unpriced_changes(runs, effects["baseline_name"].iloc[0])


def starred(changes: dict, label: str, scenario: str, point) -> bool:
    """Whether a row of the effects table gets the star: a cost ratio of a scenario with unpriced
    changes (``unpriced_for``); effect rows never do."""
    return label in COST_LABELS and (scenario, int(point)) in changes


def unpriced_lines(changes: dict[tuple[str, int], list[str]], several_points: bool = False,
                   indent: str = "    ") -> list[str]:
    """The note under the cost ratios: what spending counts, and each scenario's unpriced changes."""
    if not changes:
        return []
    lines = textwrap.wrap(f"* {UNPRICED_NOTE}:", 100, initial_indent=indent, subsequent_indent=indent + "  ")
    for (scenario, point), items in changes.items():
        name = f"{scenario} #{point}" if several_points else scenario
        line = f"{indent}    {name}: "
        for k, item in enumerate(items):  # wrapped between items, never inside one
            piece = item + ("," if k < len(items) - 1 else "")
            if len(line) + len(piece) > 100 and line.strip().endswith(","):
                lines.append(line.rstrip())
                line = indent + "      "
            line += piece + " "
        lines.append(line.rstrip())
    return lines


def effect_table(effects: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean paired effect and its t interval across seeds, for the rows of ``EFFECT_ROWS``, per
    scenario and design point."""
    rows = []
    for (scenario, point), grp in effects.groupby(["scenario", "point"], sort=False):
        for part, horizon, measure, label, _, _ in EFFECT_ROWS:
            sel = grp[(grp["part"] == part) & (grp["measure"] == measure) & (grp["instrument"] == "all")]
            if horizon is not None:
                sel = sel[sel["horizon"] == horizon]
            if sel.empty:
                continue
            mean, lo, hi = interval(sel["diff"].to_numpy(), level)
            rows.append(dict(scenario=scenario, point=point, label=label, n=len(sel), mean=mean,
                             low=lo, high=hi, firms=float(sel["n"].mean())))
    return pd.DataFrame(rows)


def cost_ratios(effects: pd.DataFrame, level: float = 0.95, resamples: int = 2000) -> pd.DataFrame:
    """Incremental cost-effectiveness: mean extra spending over the mean extra outcome across seeds,
    with a percentile bootstrap interval over seeds (seeded, so the same table every time). NaN
    unless the extra outcome is clearly positive (its t interval above zero): otherwise the ratio
    would mean nothing. A negative ratio: the scenario spends less and gains."""
    rows = []
    cost = effects[effects["part"] == "cost"]
    for (scenario, point), grp in cost.groupby(["scenario", "point"], sort=False):
        wide = grp.pivot_table(index="replicate", columns="measure", values="diff")
        for measure, label, _, _ in COST_RATIOS:
            spend, gain = wide["spend"].to_numpy(), wide[measure].to_numpy()
            ratio, lo, hi = float("nan"), float("nan"), float("nan")
            if len(gain) > 1 and interval(gain, level)[1] > 0:
                ratio = spend.mean() / gain.mean()
                if len(gain) > 2:
                    # a resample whose gains sum to zero (whole graduations can) has an infinite
                    # ratio: it sorts to the end of the percentiles, so no warning is due
                    with np.errstate(divide="ignore", invalid="ignore"):
                        res = stats.bootstrap((spend, gain), lambda a, b, axis: a.mean(axis) / b.mean(axis),
                                              paired=True, vectorized=True, n_resamples=resamples,
                                              confidence_level=level, method="percentile",
                                              rng=np.random.default_rng(0))
                    lo, hi = res.confidence_interval
            rows.append(dict(scenario=scenario, point=point, label=label, n=len(gain), mean=ratio,
                             low=lo, high=hi))
    return pd.DataFrame(rows)


def _show(v: float, scale: float, fmt: str) -> str:
    return "   n/a" if not np.isfinite(v) else fmt.format(v * scale)


def effects_report(effects: pd.DataFrame, several_points: bool = False,
                   runs: pd.DataFrame | None = None) -> list[str]:
    """The effects and cost-ratio rows for a terminal. With ``runs`` (the store's runs table) and a
    ``baseline_name`` column, scenarios with changes the model does not price are starred in the
    cost rows and listed under them (``unpriced_changes``)."""
    versus = f" (vs {effects['baseline_name'].iloc[0]}" if "baseline_name" in effects else " ("
    changes = unpriced_for(effects, runs)
    lines = [f"  effects on served firms and on the rest of the city{versus}, same firms, same seeds)"]
    formats = {r[3]: (r[4], r[5]) for r in EFFECT_ROWS} | {r[1]: (r[2], r[3]) for r in COST_RATIOS}
    table = pd.concat([effect_table(effects), cost_ratios(effects)], ignore_index=True)
    labels = [r[3] for r in EFFECT_ROWS] + [r[1] for r in COST_RATIOS]
    for label in labels:
        sel = table[table["label"] == label]
        if sel.empty:
            continue
        scale, fmt = formats[label]
        lines.append(f"    {label}")
        for _, r in sel.iterrows():
            name = f"{r['scenario']} #{r['point']}" if several_points else r["scenario"]
            if starred(changes, label, r["scenario"], r["point"]):
                name += " *"
            mean, low, high = (_show(r[k], scale, fmt) for k in ("mean", "low", "high"))
            lines.append(f"      {name:<26}{mean:>12}  [{low}, {high}]  n={r['n']}")
    lines.append("    (n/a: the scenario adds no clear amount of that outcome, so a cost per unit means "
                 "nothing; negative: it spends less and gains)")
    lines += unpriced_lines(changes, several_points)
    return lines


def _fmt(name: str, v: float) -> str:
    """A headline value in its format; whole-number formats get one decimal below 10 (a paired
    difference of -0.3 graduations is not "-0")."""
    _, scale, fmt = HEADLINES[name]
    if not np.isfinite(v):
        return "   n/a"
    if fmt == "{:,.0f}" and 0 < abs(v * scale) < 10:
        fmt = "{:.1f}"
    return fmt.format(v * scale)


def report(tables: dict[str, pd.DataFrame], outcomes=("graduations", "grad_assisted", "small_medium_end",
                                                      "sales_last_year", "served",
                                                      "registered_end")) -> str:
    """A plain-text summary: each scenario's headline outcomes with 95 % intervals across seeds,
    then paired differences from the first scenario."""
    if "monthly" not in tables or tables["monthly"].empty:
        return "  no finished runs to summarise"
    per_run = headlines(tables["monthly"])
    runs = tables["runs"].sort_values("run_id")
    named = runs["baseline"].dropna() if "baseline" in runs else pd.Series(dtype=object)
    reference = named.iloc[0] if len(named) else runs["scenario"].iloc[0]
    several_points = per_run["point"].nunique() > 1
    lines = []
    if several_points:
        lines.append("  design points")
        for point, factors in runs.drop_duplicates("point")[["point", "factors"]].itertuples(index=False):
            values = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in json.loads(factors).items())
            lines.append(f"    #{point}: {values}")
        lines.append("")
    for title, table in (("mean [95 % interval] across seeds", scenario_table(per_run)),
                         (f"difference from {reference}, same seeds (paired)",
                          paired_differences(per_run, reference))):
        if table.empty:
            continue
        lines.append(f"  {title}")
        for name in outcomes:
            lines.append(f"    {HEADLINES[name][0]}")
            for _, r in table[table["outcome"] == name].iterrows():
                label = f"{r['scenario']} #{r['point']}" if several_points else r["scenario"]
                lines.append(f"      {label:<26}{_fmt(name, r['mean']):>12}  "
                             f"[{_fmt(name, r['low'])}, {_fmt(name, r['high'])}]  n={r['n']}")
        lines.append("")
    effects = tables.get("effects")
    if effects is not None and not effects.empty:
        lines += effects_report(effects.assign(baseline_name=reference), several_points, runs)
    return "\n".join(lines).rstrip()
