"""Core speed and memory benchmark: array model vs per-agent mesa, agent layer on vs off.

    .venv/bin/python benchmarks/bench_core.py            # 10k, 90k, 1M firms (a few minutes)
    .venv/bin/python benchmarks/bench_core.py --quick    # 10k and 90k only

Everything runs in one process; each figure is the median of --repeats runs. Firm-months per
second count simulated months x live firms. Results go to stdout as a Markdown table.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from per_agent_model import PerAgentModel  # noqa: E402

from sim.engine import City  # noqa: E402
from sim.keyed import Keys  # noqa: E402
from sim.model import MSMEModel  # noqa: E402
from sim.params import Parameters  # noqa: E402
from sim.population import initial_table  # noqa: E402


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def engine_only(n, months, seed=1):
    """Agent layer off: the bare array engine, no mesa Model."""
    p = Parameters(n_firms=n)
    keys = Keys(seed)
    city = City(p, keys, initial_table(p, keys))
    t0 = time.perf_counter()
    city.run(months)
    return time.perf_counter() - t0, city.firms.n


def mesa_model(n, months, *, touch_agents, seed=1):
    """MSMEModel; with touch_agents, model.agents is synchronised after every month."""
    m = MSMEModel(rng=seed, n_firms=n)
    if touch_agents:
        len(m.agents)
    t0 = time.perf_counter()
    for _ in range(months):
        m.step()
        if touch_agents:
            len(m.agents)
    return time.perf_counter() - t0, m.city.firms.n


def per_agent(n, months, seed=1):
    m = PerAgentModel(n, seed)
    t0 = time.perf_counter()
    for _ in range(months):
        m.step()
    return time.perf_counter() - t0, len(m.agents)


def rate(fn, n, months, repeats):
    secs = statistics.median(fn(n, months)[0] for _ in range(repeats))
    return n * months / secs, secs


def default_city_10y():
    """The headline: default city, 10 years, start-up (warm cache) and data collection included."""
    from sim.run import run
    return run(seed=1, months=120)


def peak_bytes_per_firm(n, months=12):
    MSMEModel(rng=1, n_firms=n)  # make sure the burn-in is cached before measuring
    gc.collect()
    tracemalloc.start()
    m = MSMEModel(rng=2, n_firms=n)
    for _ in range(months):
        m.step()
    len(m.agents)  # with every firm as a mesa agent
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / m.city.firms.n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    sizes = [10_000, 90_000] if args.quick else [10_000, 90_000, 1_000_000]
    r = args.repeats
    for n in sizes:  # warm the burn-in cache so start-up is not in the step timings
        MSMEModel(rng=0, n_firms=n)
    print("| firms | per-agent mesa (M firm-months/s) | MSMEModel, agents synced monthly | "
          "MSMEModel, agents read on demand | engine, agent layer off | speed-up vs per-agent "
          "(synced / on demand) | agent layer overhead (synced / on demand) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        months = 24 if n <= 100_000 else 12
        pa_months = {10_000: 12, 90_000: 3, 1_000_000: 1}[n]
        pa, _ = rate(per_agent, n, pa_months, 1 if n > 100_000 else r)
        on, _ = rate(lambda n_, m_: mesa_model(n_, m_, touch_agents=True), n, months, r)
        lazy, _ = rate(lambda n_, m_: mesa_model(n_, m_, touch_agents=False), n, months, r)
        off, _ = rate(engine_only, n, months, r)
        print(f"| {n:,} | {pa / 1e6:.3f} | {on / 1e6:.2f} | {lazy / 1e6:.2f} | {off / 1e6:.2f} | "
              f"{on / pa:.0f}x / {lazy / pa:.0f}x | {100 * (off / on - 1):.0f} % / "
              f"{100 * (off / lazy - 1):.0f} % |", flush=True)
    secs, _ = timed(default_city_10y, r)
    print(f"\nDefault city (90,000 firms), 10 years, start-up + data collection, warm cache: "
          f"median {secs:.2f} s over {r} runs")
    a, _ = rate(engine_only, 90_000, 60, r)
    b, _ = rate(engine_only, 90_000, 120, r)
    print(f"Linearity in months (90k firms): rate at 60 months {a / 1e6:.2f} M/s, "
          f"at 120 months {b / 1e6:.2f} M/s (ratio {b / a:.2f})")
    n_mem = sizes[-1]
    print(f"Peak traced memory per firm at {n_mem:,} firms (12 months, all agents built): "
          f"{peak_bytes_per_firm(n_mem):.0f} bytes")


if __name__ == "__main__":
    main()
