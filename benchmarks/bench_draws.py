"""Cost of a month's random numbers per firm: one numpy Generator drawn in row order (before issue 8)
against keyed draws (sim/keyed.py), in the same process.

    .venv/bin/python benchmarks/bench_draws.py [--firms 90000] [--repeats 7]

Each month a firm needs two standard normals (productivity shock, quality change) and one uniform
(closure). Reports the median over repeats of 50 months, in ms a month and ns a firm-month.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.keyed import Keys, Purpose  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--firms", type=int, default=90_000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    n, months = args.firms, 50
    ids = np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(1)
    keys = Keys(1)

    def generator():
        for _ in range(months):
            rng.standard_normal(n, dtype=np.float32)
            rng.standard_normal(n, dtype=np.float32)
            rng.random(n)

    def keyed():
        for month in range(months):
            keys.normal_pair(Purpose.SHOCKS, month, ids)
            keys.uniform(Purpose.EXIT, month, ids)

    print(f"{n:,} firms, median of {args.repeats} x {months} months")
    print("| draws | ms a month | ns a firm-month |\n|---|---:|---:|")
    for name, fn in (("one Generator, row order", generator), ("keyed by (seed, firm, month, purpose)", keyed)):
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) / months)
        t = statistics.median(times)
        print(f"| {name} | {t * 1e3:.2f} | {t / n * 1e9:.1f} |")


if __name__ == "__main__":
    main()
