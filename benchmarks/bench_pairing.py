"""How tight is the pairing of scenarios run on the same seeds? Reads a finished study's store.

    .venv/bin/msme-sim sweep experiments/quick.toml
    .venv/bin/python benchmarks/bench_pairing.py results/quick [--baseline baseline]

For each scenario against the baseline, at the last month (and for each headline outcome over the
run): the correlation of paired runs, the SD of the paired difference over the SD of the level,
and the variance-reduction factor (Var(a) + Var(b)) / Var(a - b): how many times more runs an
unpaired comparison would need for the same interval.
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


if __name__ == "__main__":
    main()
