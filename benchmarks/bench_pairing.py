"""How tight is the pairing of scenarios run on the same seeds? Reads a finished study's store.

    .venv/bin/msme-sim sweep experiments/quick.toml
    .venv/bin/python benchmarks/bench_pairing.py results/quick [--baseline baseline]

For each scenario against the baseline, at the last month (and for each headline outcome over the
run): the correlation of paired runs, the SD of the paired difference over the SD of the level,
and the variance-reduction factor (Var(a) + Var(b)) / Var(a - b): how many times more runs an
unpaired comparison would need for the same interval.

When the study names a baseline, the store also holds each run's effects table (``sim.effects``),
and a second table shows where each paired difference comes from: its mean and SD over seeds for
the firms the scenario's office served, the firms only the baseline's office served, and everyone
else (firms linked to the policy only through the shared market). With firm-keyed luck, the part
of the SD that is not the policy's own, varying effect on the firms it touches shows up in
"everyone else".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim import analysis, store  # noqa: E402

LAST_MONTH = {
    "sales": "MSME sales, last month",
    "small": "small firms at the end",
    "cum_graduations": "graduations micro->small, cumulative",  # every crossing (class moves)
    "cum_graduated": "firms graduated out of micro, cumulative",  # each firm once
}


def pairing(a: np.ndarray, b: np.ndarray) -> dict:
    d = a - b
    level_sd = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    return dict(corr=float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan"),
                sd_ratio=float(d.std(ddof=1) / level_sd) if level_sd > 0 else float("nan"),
                vrf=float((a.var(ddof=1) + b.var(ddof=1)) / d.var(ddof=1)) if d.var() > 0 else float("inf"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--baseline", default="baseline")
    args = ap.parse_args()
    tables = store.load(args.store)
    m = tables["monthly"].copy()
    m["cum_graduations"] = m.groupby("run_id")["grad_micro_small"].cumsum()
    m["cum_graduated"] = m.groupby("run_id")["graduated_small"].cumsum()
    last = m[m["month"] == m["month"].max()].set_index(["scenario", "replicate"])
    per_run = analysis.headlines(tables["monthly"]).set_index(["scenario", "replicate"])
    scenarios = [s for s in last.index.get_level_values(0).unique() if s != args.baseline]
    rows = []
    for s in scenarios:
        for col, label in LAST_MONTH.items():
            a, b = last.loc[s, col].sort_index(), last.loc[args.baseline, col].sort_index()
            rows.append(dict(scenario=s, outcome=label, **pairing(a.to_numpy(float), b.to_numpy(float))))
        for name in analysis.HEADLINES:
            a, b = per_run.loc[s, name].sort_index(), per_run.loc[args.baseline, name].sort_index()
            rows.append(dict(scenario=s, outcome=f"headline: {name}",
                             **pairing(a.to_numpy(float), b.to_numpy(float))))
    df = pd.DataFrame(rows)
    print(f"pairing against {args.baseline} in {args.store} ({len(last.loc[args.baseline])} seeds)\n")
    print("| scenario | outcome | correlation | SD(diff)/SD(level) | variance reduction |")
    print("|---|---|---:|---:|---:|")
    for r in df.itertuples():
        print(f"| {r.scenario} | {r.outcome} | {r.corr:.3f} | {r.sd_ratio:.3f} | {r.vrf:,.0f}x |")
    effects = tables.get("effects")
    if effects is not None and len(effects):
        print_decomposition(effects)


GROUP_LABELS = {"served_by_scenario": "served by the scenario",
                "served_by_baseline_only": "served by the baseline only",
                "everyone_else": "everyone else", "net": "net (the city)"}
GROUP_MEASURES = {"higher_class": "firms above their starting class", "alive": "firms alive",
                  "sales": "annual sales, Rp bn"}


def decomposition(effects: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over seeds of each group's paired difference at the end of the run."""
    g = effects[effects["part"].isin(list(GROUP_LABELS))]
    rows = []
    for (s, measure, part), d in g.groupby(["scenario", "measure", "part"], sort=False):
        if measure not in GROUP_MEASURES:
            continue
        diff = d["diff"].to_numpy(float) / (1e9 if measure == "sales" else 1.0)
        rows.append(dict(scenario=s, measure=measure, group=part, mean=diff.mean(),
                         sd=diff.std(ddof=1) if diff.size > 1 else float("nan"), seeds=diff.size))
    return pd.DataFrame(rows)


def print_decomposition(effects: pd.DataFrame) -> None:
    df = decomposition(effects)
    if df.empty:
        return
    print("\nwhere the paired differences at the end come from (mean and SD over seeds of the "
          "scenario minus the baseline, by group of firms)\n")
    print("| scenario | outcome | group | mean difference | SD over seeds |")
    print("|---|---|---|---:|---:|")
    order = {k: i for i, k in enumerate(GROUP_LABELS)}
    for s, d in df.groupby("scenario", sort=False):
        for measure in GROUP_MEASURES:
            for r in sorted(d[d["measure"] == measure].itertuples(), key=lambda r: order[r.group]):
                print(f"| {s} | {GROUP_MEASURES[measure]} | {GROUP_LABELS[r.group]} | "
                      f"{r.mean:+,.2f} | {r.sd:,.2f} |")


if __name__ == "__main__":
    main()
