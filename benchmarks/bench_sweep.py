"""Sweep benchmark: runs per second with 1 and 2 workers, the coordinating process's peak memory
against the number of runs, and the store's size per run.

    .venv/bin/python benchmarks/bench_sweep.py          # ~3 minutes here

Each measurement runs in a fresh process (``driver``), so peak memory (ru_maxrss of the
coordinator alone; workers are separate processes) is not inherited from an earlier one.
Runs: the baseline scenario, 5,000 firms x 120 months, replicates from one root seed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DRIVER = textwrap.dedent('''
    import json, resource, sys, time, tracemalloc, concurrent.futures as cf, multiprocessing
    from sim.experiment import load_study
    from sim.store import Store
    from sim.sweep import sweep
    from sim.population import stationary_population
    study = load_study(sys.argv[1]); workers = int(sys.argv[3])
    stationary_population(study.runs()[0].params)  # warm the burn-in cache before timing
    tracemalloc.start()
    db = Store(sys.argv[2], study.fingerprint(), sys.argv[1])
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        rep = sweep(study, db, pool, in_flight=2 * workers)
    secs = time.perf_counter() - t0
    db.close()
    print(json.dumps(dict(runs=rep.done, seconds=secs, traced_peak=tracemalloc.get_traced_memory()[1],
                          maxrss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
''')


def study_file(folder: Path, runs: int) -> Path:
    path = folder / f"bench{runs}.toml"
    path.write_text(f'description = "sweep benchmark"\nscenarios = ["baseline"]\nreplicates = {runs}\n'
                    f'root_seed = 1\nyears = 10\n[parameters]\nn_firms = 5000\n')
    return path


def measure(folder: Path, runs: int, workers: int) -> dict:
    path = study_file(folder, runs)
    out = folder / f"store-{runs}-{workers}"
    r = subprocess.run([sys.executable, "-c", DRIVER, str(path), str(out), str(workers)],
                       capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(r.stdout.strip().splitlines()[-1])
    result["store_bytes"] = (out / "results.sqlite").stat().st_size
    return result


def main():
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("| workers | runs | seconds | runs/s | speed-up |\n|---:|---:|---:|---:|---:|")
        base = None
        for workers in (1, 2):
            m = measure(folder, 200, workers)
            rate = m["runs"] / m["seconds"]
            base = base or rate
            print(f"| {workers} | {m['runs']} | {m['seconds']:.1f} | {rate:.2f} | {rate / base:.2f}x |",
                  flush=True)
        print("\n| runs | coordinator peak RSS (MB) | coordinator traced peak (MB) | store (KB/run) |"
              "\n|---:|---:|---:|---:|")
        for runs in (50, 100, 200, 400):
            m = measure(folder, runs, 2)
            print(f"| {runs} | {m['maxrss_kb'] / 1024:.0f} | {m['traced_peak'] / 2**20:.1f} | "
                  f"{m['store_bytes'] / 1024 / runs:.0f} |", flush=True)


if __name__ == "__main__":
    main()
