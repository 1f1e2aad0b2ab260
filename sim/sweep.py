"""Running a study on any ``concurrent.futures.Executor`` and storing each run as it finishes.

The coordinator keeps at most a few runs in flight per worker and writes each finished run to the
store before taking the next, so its memory does not grow with the study. A run that raises is
recorded as failed (with its parameters, seed and traceback) and the sweep goes on. Rerunning
skips finished runs; ``retry_failed`` reruns the failed ones.
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from .experiment import RunSpec, Study
from .store import Store


def watch_parent(parent: int, every: float = 1.0) -> None:
    """A worker's initializer: end this worker when the sweep that started it is gone (killed
    with SIGKILL, say), instead of living on as an orphan holding memory and a CPU."""
    import os
    import threading

    def watch():
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def execute(spec: RunSpec) -> dict:
    """Run one spec (in a worker). Never raises: a failure comes back as data."""
    from .run import run
    started = time.time()
    try:
        compare = None if spec.baseline is None else (spec.baseline_params, spec.baseline_events)
        result = run(spec.params, seed=spec.seed, months=spec.months, events=list(spec.events),
                     snapshot_months=spec.snapshot_months, compare_with=compare)
        return dict(status="done", started=started, finished=time.time(), monthly=result.monthly,
                    snapshots=result.snapshots, effects=result.effects, sizes=result.sizes)
    except Exception as err:  # noqa: BLE001 - any failure of one run is recorded, not fatal
        return dict(status="failed", started=started, finished=time.time(),
                    error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())


def warm(params) -> str:
    """Make sure the burn-in for ``params`` is in this machine's cache; returns its key (the
    population itself stays in the worker)."""
    from .population import burn_in_key, stationary_population
    stationary_population(params)
    return burn_in_key(params)


class SerialExecutor(cf.Executor):
    """Runs each submission at once, in this process (for tests and debugging)."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001
            future.set_exception(err)
        return future


@dataclass
class SweepReport:
    total: int
    skipped: int
    done: int
    failed: int
    seconds: float


class Progress:
    """Runs done, failed, rate and time left, on one stderr line (a line per ~10 % when not a TTY)."""

    def __init__(self, total: int, quiet: bool = False):
        self.total, self.quiet = total, quiet
        self.tty = sys.stderr.isatty()
        self.start = time.perf_counter()
        self.last_decile = -1

    def __call__(self, done: int, failed: int) -> None:
        if self.quiet or self.total == 0:
            return
        finished = done + failed
        elapsed = time.perf_counter() - self.start
        rate = finished / elapsed if elapsed > 0 else 0.0
        left = (self.total - finished) / rate if rate > 0 else float("nan")
        line = (f"  runs {finished}/{self.total} ({failed} failed), {rate:.2f} runs/s, "
                f"~{left:.0f}s left")
        if self.tty:
            bar = "#" * int(24 * finished / self.total)
            sys.stderr.write(f"\r  [{bar:<24}]{line}")
            if finished == self.total:
                sys.stderr.write("\n")
        else:
            decile = int(10 * finished / self.total)
            if decile == self.last_decile and finished != self.total:
                return
            self.last_decile = decile
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def sweep(study: Study, store: Store, executor: cf.Executor, *, in_flight: int = 4,
          retry_failed: bool = False, run_fn: Callable[[RunSpec], dict] = execute,
          progress: Callable[[int, int], None] | None = None) -> SweepReport:
    """Run every run of ``study`` not yet in ``store`` on ``executor``."""
    start = time.perf_counter()
    if retry_failed:
        store.forget_failed()
    recorded = store.finished()
    runs = study.runs()
    todo = [spec for spec in runs if spec.run_id not in recorded]
    skipped = len(runs) - len(todo)
    done = failed = 0
    pending: dict[cf.Future, RunSpec] = {}
    queue = iter(todo)

    def refill():
        for spec in queue:
            pending[executor.submit(run_fn, spec)] = spec
            if len(pending) >= in_flight:
                break

    refill()
    while pending:
        finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for future in finished:
            spec = pending.pop(future)
            try:
                outcome = future.result()
            except Exception as err:  # noqa: BLE001 - a worker that died, not the run
                now = time.time()
                outcome = dict(status="failed", started=now, finished=now,
                               error=f"{type(err).__name__}: {err}",
                               traceback="".join(traceback.format_exception(err)))
            store.write(spec, outcome)
            if outcome["status"] == "done":
                done += 1
            else:
                failed += 1
            if progress:
                progress(done, failed)
        refill()
    return SweepReport(len(todo) + skipped, skipped, done, failed, time.perf_counter() - start)
