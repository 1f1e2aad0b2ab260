"""Sweeps: identical results on any executor, resumable after SIGKILL, failures recorded,
designs validated before any run, one writer at a time."""

import concurrent.futures as cf
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import store
from sim.experiment import StudyError, load_study, morris_trajectories, replicate_seeds
from sim.store import Store, StoreError
from sim.sweep import SerialExecutor, execute, sweep

SMALL = textwrap.dedent('''\
    description = "a small study for tests"
    scenarios = ["baseline", "opd_merger"]
    replicates = 3
    root_seed = 7
    years = 4
    [parameters]
    n_firms = 1200
    burn_in_months = 120
''')


def _study(tmp_path, text=SMALL, name="small"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return load_study(path)


def _sweep(study, folder, executor, **kw):
    db = Store(folder, study.fingerprint(), str(study.path))
    try:
        return sweep(study, db, executor, **kw)
    finally:
        db.close()


def _tables(folder):
    t = store.load(folder)
    runs = t["runs"].drop(columns=["started", "finished", "duration", "traceback"])
    return runs, t["monthly"]


def test_replicates_share_seeds_across_scenarios(tmp_path):
    study = _study(tmp_path)
    runs = study.runs()
    assert len(runs) == 6
    by_scenario = {}
    for r in runs:
        by_scenario.setdefault(r.scenario, []).append(r.seed)
    assert by_scenario["baseline"] == by_scenario["opd_merger"] == replicate_seeds(7, 3)
    assert len(set(by_scenario["baseline"])) == 3


def test_serial_process_pool_and_dask_give_identical_stores(tmp_path):
    study = _study(tmp_path)
    _sweep(study, tmp_path / "serial", SerialExecutor())
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        _sweep(study, tmp_path / "pool", pool, in_flight=4)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        _sweep(study, tmp_path / "dask", client.get_executor(pure=False), in_flight=4)
    runs_s, monthly_s = _tables(tmp_path / "serial")
    for other in ("pool", "dask"):
        runs_o, monthly_o = _tables(tmp_path / other)
        pd.testing.assert_frame_equal(monthly_s, monthly_o)
        pd.testing.assert_frame_equal(runs_s.drop(columns="git_commit"), runs_o.drop(columns="git_commit"))
    assert (runs_s["status"] == "done").all() and len(monthly_s) == 6 * 49


def flaky(spec):
    """A run function that fails for one replicate (module level, so workers can import it)."""
    if spec.replicate == 1 and spec.scenario == "opd_merger":
        raise RuntimeError("deliberate failure")
    return execute(spec)


def test_a_failing_run_is_recorded_and_the_others_kept_then_retried(tmp_path):
    study = _study(tmp_path)
    report = _sweep(study, tmp_path / "s", SerialExecutor(), run_fn=flaky)
    assert (report.total, report.done, report.failed) == (6, 5, 1)
    runs, monthly = _tables(tmp_path / "s")
    bad = runs[runs["status"] == "failed"].iloc[0]
    assert bad["error"] == "RuntimeError: deliberate failure"
    assert bad["scenario"] == "opd_merger" and bad["replicate"] == 1
    assert "deliberate failure" in bad["error"] and bad["seed"] == replicate_seeds(7, 3)[1]
    import json
    assert json.loads(bad["parameters"])["n_firms"] == 1200
    assert json.loads(bad["events"])[0]["type"] == "opd_merger"
    full = store.load(tmp_path / "s")["runs"]
    assert "RuntimeError" in full[full["status"] == "failed"]["traceback"].iloc[0]
    assert monthly["run_id"].nunique() == 5
    again = _sweep(study, tmp_path / "s", SerialExecutor())  # failures are not retried by default
    assert (again.total, again.done, again.skipped) == (6, 0, 6)
    retry = _sweep(study, tmp_path / "s", SerialExecutor(), retry_failed=True)
    assert (retry.total, retry.done, retry.failed, retry.skipped) == (6, 1, 0, 5)
    runs, monthly = _tables(tmp_path / "s")
    assert (runs["status"] == "done").all() and monthly["run_id"].nunique() == 6


def test_a_store_from_another_study_is_refused(tmp_path):
    study = _study(tmp_path)
    _sweep(study, tmp_path / "s", SerialExecutor())
    other = _study(tmp_path, SMALL.replace("replicates = 3", "replicates = 4"), name="other")
    with pytest.raises(StoreError, match="different study"):
        Store(tmp_path / "s", other.fingerprint(), str(other.path))


def test_a_second_writer_is_refused(tmp_path):
    study = _study(tmp_path)
    first = Store(tmp_path / "s", study.fingerprint(), str(study.path))
    try:
        with pytest.raises(StoreError, match="another sweep .*pid"):
            Store(tmp_path / "s", study.fingerprint(), str(study.path))
        r = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(study.path), "--out",
                            str(tmp_path / "s"), "--workers", "0"], capture_output=True, text=True)
        assert r.returncode == 2 and "another sweep" in r.stderr and "Traceback" not in r.stderr
    finally:
        first.close()
    Store(tmp_path / "s", study.fingerprint(), str(study.path)).close()  # free again


@pytest.mark.subprocess
def test_sigkill_mid_sweep_then_rerun_equals_an_uninterrupted_sweep(tmp_path):
    # 30 runs of a few tenths of a second each: long enough to be killed part-way on any machine
    text = (SMALL.replace("replicates = 3", "replicates = 15").replace("years = 4", "years = 8")
            .replace("n_firms = 1200", "n_firms = 3000"))
    path = tmp_path / "kill.toml"
    path.write_text(text)
    study = load_study(path)
    _sweep(study, tmp_path / "clean", SerialExecutor())
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(tmp_path / "killed"),
           "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    db = tmp_path / "killed" / "results.sqlite"
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline and done < 3:
        time.sleep(0.2)
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as con:
                    done = con.execute("SELECT count(*) FROM runs").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 3 <= done < 30, "the sweep should be killed part-way"
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "already stored" in r.stdout
    runs_c, monthly_c = _tables(tmp_path / "clean")
    runs_k, monthly_k = _tables(tmp_path / "killed")
    pd.testing.assert_frame_equal(monthly_c, monthly_k)
    pd.testing.assert_frame_equal(runs_c.drop(columns="git_commit"), runs_k.drop(columns="git_commit"))


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.subprocess
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_exit_when_their_sweep_is_killed(tmp_path):
    # runs of many seconds each: a worker mid-run must not finish it first
    text = (SMALL.replace("replicates = 3", "replicates = 4").replace("years = 4", "years = 40")
            .replace("n_firms = 1200", "n_firms = 60000"))
    path = tmp_path / "orphans.toml"
    path.write_text(text)
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(tmp_path / "o"),
           "--workers", "2", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    db = tmp_path / "o" / "results.sqlite"
    deadline = time.time() + 120
    workers: list[int] = []
    while time.time() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = [p for p in _children(proc.pid) if "python" in Path(f"/proc/{p}/cmdline").read_text()]
        if db.exists() and len(workers) >= 2:
            time.sleep(2)  # into their first runs (after the burn-in)
            break
    assert workers, "the sweep should have started its workers"
    os.kill(proc.pid, signal.SIGKILL)  # the coordinator only, not its process group
    proc.wait()
    deadline = time.time() + 6  # the watch checks every second
    while time.time() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    left = [p for p in workers if _alive(p)]
    try:
        assert not left, f"workers {left} outlived their sweep"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # clean up whatever is left
        except ProcessLookupError:
            pass


BAD_STUDIES = {
    "unknown key": ('description = "x"\nscenarios = ["baseline"]\nreplicate = 3\n', "did you mean 'replicates'"),
    "unknown scenario": ('description = "x"\nscenarios = ["baseline", "opd_mergr"]\n',
                         "no scenario named 'opd_mergr'; did you mean 'opd_merger'"),
    "bad parameter": ('description = "x"\nscenarios = ["baseline"]\n[parameters]\nn_firms = -3\n',
                      "'n_firms' = -3 is outside"),
    "design factor unknown": ('description = "x"\nscenarios = ["baseline"]\n[design]\nmethod = "grid"\n'
                              '[design.factors]\nalpah = [0.7]\n', "did you mean 'alpha'"),
    "design factor a setting": ('description = "x"\nscenarios = ["baseline"]\n[design]\nmethod = "grid"\n'
                                '[design.factors]\nn_firms = [10]\n', "is a setting"),
    "design value out of range": ('description = "x"\nscenarios = ["baseline"]\n[design]\nmethod = "lhs"\n'
                                  '[design.factors]\nalpha = { low = 0.5, high = 1.5 }\n',
                                  "'alpha'"),
    "sobol not power of 2": ('description = "x"\nscenarios = ["baseline"]\n[design]\nmethod = "sobol"\n'
                             'samples = 6\n[design.factors]\nalpha = { low = 0.7, high = 0.9 }\n',
                             "power of 2"),
    "unknown method": ('description = "x"\nscenarios = ["baseline"]\n[design]\nmethod = "factorial"\n',
                       "choose one of grid"),
    "snapshot after horizon": ('description = "x"\nscenarios = ["baseline"]\nyears = 1\n'
                               '[outputs]\nsnapshots = [24]\n', "[0, 12]"),
}


@pytest.mark.parametrize("case", sorted(BAD_STUDIES))
def test_invalid_studies_are_refused_before_any_run(tmp_path, case):
    text, fragment = BAD_STUDIES[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert fragment in str(err.value) and str(path) in str(err.value)
    r = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(path), "--out",
                        str(tmp_path / "out"), "--workers", "0"], capture_output=True, text=True)
    assert r.returncode == 2 and fragment in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_designs(tmp_path):
    base = 'description = "x"\nscenarios = ["baseline"]\nreplicates = 1\n'
    grid = _study(tmp_path, base + '[design]\nmethod = "grid"\n[design.factors]\n'
                  'alpha = [0.7, 0.8]\nmargin = [0.2, 0.25, 0.3]\n', "grid")
    assert len(grid.points) == 6 and {"alpha": 0.8, "margin": 0.3} in grid.points
    lhs = _study(tmp_path, base + '[design]\nmethod = "lhs"\nsamples = 10\nseed = 3\n[design.factors]\n'
                 'alpha = { low = 0.7, high = 0.9 }\nreapply_months = { low = 6, high = 36 }\n', "lhs")
    a = np.array([p["alpha"] for p in lhs.points])
    assert len(a) == 10 and ((a >= 0.7) & (a <= 0.9)).all()
    assert np.histogram(a, bins=10, range=(0.7, 0.9))[0].tolist() == [1] * 10  # one per stratum
    assert all(isinstance(p["reapply_months"], int) for p in lhs.points)
    sobol = _study(tmp_path, base + '[design]\nmethod = "sobol"\nsamples = 8\n[design.factors]\n'
                   'alpha = { low = 0.7, high = 0.9 }\n', "sobol")
    assert len(sobol.points) == 8
    points = _study(tmp_path, base + '[design]\nmethod = "points"\n[[design.points]]\nalpha = 0.75\n'
                    '[[design.points]]\nalpha = 0.85\nmargin = 0.3\n', "points")
    assert points.points == [{"alpha": 0.75}, {"alpha": 0.85, "margin": 0.3}]


def test_morris_trajectories_move_one_factor_at_a_time():
    t = morris_trajectories(k=3, r=5, levels=4, seed=1).reshape(5, 4, 3)
    steps = np.abs(np.diff(t, axis=1))
    assert ((steps > 1e-12).sum(axis=2) == 1).all()  # one factor per step
    assert np.allclose(steps[steps > 1e-12], 4 / 6)  # delta = p / (2 (p - 1))
    assert ((t >= 0) & (t <= 1)).all()


def test_export_and_load(tmp_path):
    study = _study(tmp_path)
    _sweep(study, tmp_path / "s", SerialExecutor())
    r = subprocess.run([sys.executable, "-m", "sim.cli", "export", str(tmp_path / "s"), "--format", "csv"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    monthly = pd.read_csv(tmp_path / "s" / "export" / "monthly.csv")
    assert len(monthly) == 6 * 49 and {"scenario", "replicate", "seed", "sales"} <= set(monthly)
    pytest.importorskip("pyarrow")
    r = subprocess.run([sys.executable, "-m", "sim.cli", "export", str(tmp_path / "s"), "--format",
                        "parquet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    pq = pd.read_parquet(tmp_path / "s" / "export" / "monthly.parquet")
    pd.testing.assert_frame_equal(pq, store.load(tmp_path / "s")["monthly"])


@pytest.mark.subprocess
def test_sweep_cli_prints_intervals_and_fails_nonzero_only_on_failures(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    r = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(tmp_path / "o"),
                        "--workers", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "95 % interval" in r.stdout and "difference from baseline" in r.stdout
    assert "6 runs done, 0 failed" in r.stdout


def test_a_store_of_another_schema_is_refused(tmp_path):
    study = _study(tmp_path)
    Store(tmp_path / "s", study.fingerprint(), str(study.path)).close()
    with sqlite3.connect(tmp_path / "s" / "results.sqlite") as con:
        con.execute("UPDATE meta SET value='1' WHERE key='schema'")
    with pytest.raises(StoreError, match="another version of msme-sim"):
        Store(tmp_path / "s", study.fingerprint(), str(study.path))
    # reading it (report, compare, export, sensitivity) is refused the same way: its tables lack
    # columns this version reads
    with pytest.raises(StoreError, match=r"store schema 1, this version reads"):
        store.load(tmp_path / "s")
    from sim.cli import main
    assert main(["export", str(tmp_path / "s")]) == 2
    # a store with no schema row, or one written by a newer version, is refused as well
    for sql in ("DELETE FROM meta WHERE key='schema'",
                f"INSERT INTO meta VALUES ('schema', '{int(store.SCHEMA) + 1}')"):
        with sqlite3.connect(tmp_path / "s" / "results.sqlite") as con:
            con.execute(sql)
        with pytest.raises(StoreError, match="another version of msme-sim"):
            store.load(tmp_path / "s")


@pytest.mark.parametrize("workers,kind,in_flight", [(0, SerialExecutor, 1),
                                                    (1, cf.ProcessPoolExecutor, 2),
                                                    (2, cf.ProcessPoolExecutor, 4)])
def test_workers_option_chooses_the_executor(workers, kind, in_flight):
    import argparse

    from sim.cli import _executor
    executor, flight, close = _executor(argparse.Namespace(scheduler=None, workers=workers))
    try:
        assert isinstance(executor, kind) and flight == in_flight
        if workers:
            assert executor._max_workers == workers
    finally:
        close()


@pytest.mark.subprocess
def test_cli_exits_1_while_failures_are_stored_and_retry_failed_clears_them(tmp_path):
    study = _study(tmp_path)
    _sweep(study, tmp_path / "s", SerialExecutor(), run_fn=flaky)  # one run fails
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(study.path), "--out", str(tmp_path / "s"),
           "--workers", "0", "--quiet"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert "1 runs failed" in r.stdout and "deliberate failure" in r.stdout
    assert "0 runs done, 0 failed, 6 already stored" in r.stdout
    r = subprocess.run([*cmd, "--retry-failed"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "1 runs done, 0 failed, 5 already stored" in r.stdout


def test_interval_known_answer_and_paired_differences():
    from sim.analysis import interval, paired_differences
    mean, lo, hi = interval(np.array([1.0, 2, 3, 4, 5]))
    assert mean == 3 and hi - mean == pytest.approx(2.7764451 * np.sqrt(2.5) / np.sqrt(5), rel=1e-6)
    per_run = pd.DataFrame({"scenario": ["a"] * 3 + ["b"] * 3, "point": 0, "replicate": [0, 1, 2] * 2,
                            **{name: [1.0, 2, 3, 2, 3, 4] for name in
                               ("graduations", "small_medium_end", "firms_end", "sales_last_year",
                                "export_share", "served", "grad_assisted", "registered_end")}})
    diff = paired_differences(per_run, "a")
    assert (diff["mean"] == 1).all() and (diff["low"] == 1).all()  # same seeds: no noise left


def test_report_lists_design_points(tmp_path):
    from sim import analysis
    text = SMALL.replace('scenarios = ["baseline", "opd_merger"]', 'scenarios = ["baseline"]') + \
        '[design]\nmethod = "points"\n[[design.points]]\nalpha = 0.75\n[[design.points]]\nalpha = 0.85\n'
    study = _study(tmp_path, text, "pts")
    _sweep(study, tmp_path / "s", SerialExecutor())
    out = analysis.report(store.load(tmp_path / "s"))
    assert "#0: alpha=0.75" in out and "#1: alpha=0.85" in out and "baseline #1" in out


def test_progress_counts_failed_runs_only_when_they_will_be_retried(tmp_path):
    from sim.cli import _remaining
    study = _study(tmp_path)
    _sweep(study, tmp_path / "s", SerialExecutor(), run_fn=flaky)  # 5 done, 1 failed
    db = Store(tmp_path / "s", study.fingerprint(), str(study.path))
    try:
        assert _remaining(db, 6, retry_failed=False) == 0
        assert _remaining(db, 6, retry_failed=True) == 1
    finally:
        db.close()
