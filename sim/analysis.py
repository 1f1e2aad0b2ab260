"""Analysis of stored results: per-run headline outcomes, scenario means with 95 % intervals
across seeds, and paired differences from a reference scenario (common random numbers).

Reads only the store (``sim.store.load``), never a sweep's memory.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy import stats

HEADLINES = {
    # name: (label, unit scale, format)
    "graduations": ("graduations out of micro and small", 1, "{:,.0f}"),
    "small_medium_end": ("small + medium firms at the end", 1, "{:,.0f}"),
    "firms_end": ("firms at the end", 1, "{:,.0f}"),
    "sales_last_year": ("MSME sales in the last year, Rp tn", 1e-12, "{:,.3f}"),
    "export_share": ("export share in the last year, %", 100, "{:.2f}"),
    "served": ("firms served by the office", 1, "{:,.0f}"),
    "grad_assisted": ("graduations of served firms", 1, "{:,.0f}"),
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
        "graduations": g["grad_micro_small"].sum() + g["grad_small_medium"].sum(),
        "small_medium_end": last["small"] + last["medium"],
        "firms_end": last["firms"],
        "sales_last_year": last_year["sales"].sum(),
        "export_share": last_year["export_share"].mean(),
        "served": g["served"].sum(),
        "grad_assisted": g["grad_assisted"].sum(),
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


def paired_differences(per_run: pd.DataFrame, reference: str, level: float = 0.95) -> pd.DataFrame:
    """Scenario minus ``reference`` for the same design point and replicate (same seed)."""
    ref = per_run[per_run["scenario"] == reference].set_index(["point", "replicate"])
    rows = []
    for (scenario, point), grp in per_run.groupby(["scenario", "point"], sort=False):
        if scenario == reference:
            continue
        mine = grp.set_index(["point", "replicate"])
        both = mine.index.intersection(ref.index)
        for name in HEADLINES:
            diff = (mine.loc[both, name] - ref.loc[both, name]).to_numpy()
            mean, lo, hi = interval(diff, level)
            rows.append(dict(scenario=scenario, point=point, outcome=name, n=len(diff), mean=mean,
                             low=lo, high=hi))
    return pd.DataFrame(rows)


def _fmt(name: str, v: float) -> str:
    _, scale, fmt = HEADLINES[name]
    return "   n/a" if not np.isfinite(v) else fmt.format(v * scale)


def report(tables: dict[str, pd.DataFrame], outcomes=("graduations", "grad_assisted", "small_medium_end",
                                                      "sales_last_year", "served",
                                                      "registered_end")) -> str:
    """A plain-text summary: each scenario's headline outcomes with 95 % intervals across seeds,
    then paired differences from the first scenario."""
    if "monthly" not in tables or tables["monthly"].empty:
        return "  no finished runs to summarise"
    per_run = headlines(tables["monthly"])
    runs = tables["runs"].sort_values("run_id")
    reference = runs["scenario"].iloc[0]
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
    return "\n".join(lines).rstrip()
