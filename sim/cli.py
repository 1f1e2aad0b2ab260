"""Command line: ``msme-sim run``, ``sweep``, ``export``, ``scenarios``, ``check``, ``params``,
``validate`` and ``calibrate``.

User errors (bad parameter values, unknown names) print one clear message and exit with status 2,
without a traceback and before any work starts.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

from .params import ParameterError, parameter_table
from .scenario import ScenarioError, list_scenarios, load
from .store import StoreError

EXIT_USER_ERROR = 2
DEFAULT_SENSITIVITY_OUTCOMES = ("sales_last_year", "graduations", "firms_end", "served")  # sim.sensitivity


class UserError(Exception):
    """A mistake in what the user asked for; reported without a traceback."""


def _parse_sets(items: list[str]) -> dict:
    values = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--set {item!r}: write NAME=VALUE, e.g. --set n_firms=5000")
        name, raw = item.split("=", 1)
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value = raw  # a bare word such as law20_2008 (or a literal Python cannot build)
        values[name.strip()] = value
    return values


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self):
        self.on = sys.stderr.isatty()
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if not self.on:
            return
        frac = done / total
        bar = "#" * int(30 * frac)
        elapsed = time.perf_counter() - self.start
        left = elapsed / frac - elapsed if frac else 0.0
        sys.stderr.write(f"\r  month {done:>4}/{total} [{bar:<30}] {elapsed:5.1f}s, ~{left:4.1f}s left")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _summary(result) -> str:
    m = result.monthly
    first, last = m.iloc[0], m.iloc[-1]
    after = m.iloc[1:]
    year = m.iloc[-12:] if len(m) > 12 else after
    lines = [
        f"msme-sim run {result.scenario}: {result.months} months, seed {result.seed}, "
        f"size classes under {result.params.size_law}",
        "",
        f"  {'':22}{'month 0':>12}{'month ' + str(result.months):>14}",
    ]
    for name in ("firms", "micro", "small", "medium"):
        lines.append(f"  {name:22}{int(first[name]):>12,}{int(last[name]):>14,}")
    sales_year = year["sales"].sum() * 12 / max(len(year), 1)
    lines += [
        "",
        f"  entries / exits              {int(after['entries'].sum()):,} / {int(after['exits'].sum()):,}",
        f"  graduations micro->small     {int(after['grad_micro_small'].sum()):,}"
        f"   small->medium {int(after['grad_small_medium'].sum()):,}",
        f"  firms up from micro (once)   {int(after['graduated_small'].sum()):,}"
        f"   from small {int(after['graduated_medium'].sum()):,}",
        f"  downgrades small->micro      {int(after['down_small_micro'].sum()):,}"
        f"   medium->small {int(after['down_medium_small'].sum()):,}",
        f"  MSME sales (last 12 months)  Rp {sales_year / 1e12:,.2f} trillion/yr",
        f"  export share of MSME sales   {100 * year['export_share'].mean():.1f} %",
        f"  workers                      {last['workers']:,.0f}",
    ]
    s = result.survival
    for age in (24, 48):
        if age in s.index and s[age] == s[age]:
            lines.append(f"  entrants alive after {age} months  {100 * s[age]:.0f} %")
    lines += [
        "",
        f"  office: served                {int(after['served'].sum()):,} firms, "
        f"Rp {after['spend_total'].sum() / 1e9:,.1f} bn",
        f"  graduations of served firms   {int(after['graduated_served'].sum()):,}"
        f"   of others {int(after['graduated_never_served'].sum()):,}   (each firm once per class)",
        f"  aware / registered (end)      {100 * last['aware_share']:.0f} % / "
        f"{100 * last['registered_share']:.0f} %",
        f"  queue (mean) / wait (mean)    {after['queue_length'].mean():,.0f} firms / "
        f"{after['mean_wait'].mean():.1f} months",
    ]
    return "\n".join(lines)


def cmd_run(args) -> int:
    from .plotting import run_figure
    from .run import run

    if args.years is not None and not 1 <= args.years <= 100:
        raise UserError(f"--years {args.years}: choose a whole number of years in [1, 100]")
    scenario = load(args.scenario, years=args.years)  # validated before any work
    overrides = _parse_sets(args.set)
    if args.size_law:
        overrides["size_law"] = args.size_law
    params = scenario.params.from_dict({**scenario.params.to_dict(), **overrides}, where="--set: ")
    args.years = args.years or scenario.years
    months = args.years * 12
    try:
        snaps = [int(x) for x in args.snapshot_months.split(",") if x.strip()]
    except ValueError:
        raise UserError(f"--snapshot-months {args.snapshot_months!r}: give whole months, e.g. 0,120") from None
    bad = [m for m in snaps if not 0 <= m <= months]
    if bad:
        raise UserError(f"--snapshot-months {bad[0]}: months must be in [0, {months}]")
    _can_write(Path(args.out), "--out")  # before the run, not after it
    _memory_check(params.n_firms, len(snaps), 1, args.force, "this run")
    result = run(params, seed=args.seed, months=months, snapshot_months=snaps, events=scenario.events,
                 progress=_Progress(), use_cache=not args.no_cache)
    result.scenario = scenario.name
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) / f"{scenario.name}-s{result.seed}-{stamp}"
    tmp = out.with_name(out.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=False)
    try:
        result.monthly.to_csv(tmp / "monthly.csv", index=False)
        result.cohorts.to_csv(tmp / "cohorts.csv", index=False)
        result.survival.to_csv(tmp / "survival.csv")
        for month, snap in result.snapshots.items():
            snap.to_csv(tmp / f"firms-month{month:04d}.csv", index=False)
        (tmp / "run.json").write_text(json.dumps(result.metadata(), indent=2))
        fig = run_figure(result.monthly, f"{scenario.name}, seed {result.seed}")
        fig.savefig(tmp / "outcomes.png", dpi=110)
        tmp.rename(out)  # the results appear whole or not at all
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(_summary(result))
    print(f"\n  wrote {out}/monthly.csv, cohorts.csv, outcomes.png, run.json")
    return 0


def _executor(args):
    """A local process pool, a Dask cluster, or (``--workers 0``) this process; and how many runs
    to keep in flight."""
    import concurrent.futures as cf
    import multiprocessing
    import os

    from .sweep import SerialExecutor
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise UserError("--scheduler needs Dask: pip install 'msme-sim[cluster]'") from None
        if "://" not in args.scheduler or args.scheduler.split("://")[0] not in ("tcp", "tls", "inproc", "ws", "wss"):
            raise UserError(f"--scheduler {args.scheduler!r}: give a Dask scheduler address such as "
                            "tcp://HOST:8786")
        try:
            client = Client(args.scheduler, timeout="20s")
        except (OSError, ValueError, TimeoutError) as err:
            raise UserError(f"--scheduler {args.scheduler}: cannot reach the scheduler ({err})") from None
        threads = sum(client.nthreads().values()) or 1
        return client.get_executor(pure=False), 2 * threads, client.close
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    if workers < 0:
        raise UserError(f"--workers {workers}: give 0 (this process) or more")
    if workers == 0:
        return SerialExecutor(), 1, lambda: None
    from .sweep import watch_parent
    pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=watch_parent, initargs=(os.getpid(),))
    return pool, 2 * workers, lambda: pool.shutdown(cancel_futures=True)


def _remaining(db, total: int, retry_failed: bool) -> int:
    """Runs this sweep will execute: all but those stored (failed ones too, unless retried)."""
    kept = [s for s in db.finished().values() if s == "done" or not retry_failed]
    return total - len(kept)


def cmd_sweep(args) -> int:
    from . import analysis, store
    from .experiment import load_study
    from .population import burn_in_key
    from .sweep import Progress, sweep, warm

    study = load_study(args.experiment)  # the whole design is validated before any run
    out = Path(args.out) if args.out else Path("results") / study.name
    _can_write(out, "--out")
    runs = study.runs()
    if not args.scheduler:  # (a cluster's memory is the cluster's business)
        import os
        workers = max(1, (os.cpu_count() or 1) if args.workers is None else args.workers)
        biggest = max(spec.params.n_firms for spec in runs)
        _memory_check(biggest, len(study.snapshot_months), workers, args.force,
                      f"this sweep ({workers} workers at once)")
    # the workers or the cluster before the store: a refused --workers or --scheduler leaves nothing
    executor, in_flight, close = _executor(args)
    try:
        db = store.Store(out, study.fingerprint(), str(args.experiment),
                         info={"description": study.description, "design": study.design})
    except BaseException:
        close()
        raise
    print(f"msme-sim sweep {study.name}: {len(study.scenarios)} scenarios x {len(study.points)} "
          f"design points x {study.replicates} seeds = {len(runs)} runs -> {db.path}")
    try:
        # burn in once per distinct starting city, in parallel on the executor, before the runs
        cities = {burn_in_key(spec.params): spec.params for spec in runs}
        for future in [executor.submit(warm, p) for p in cities.values()]:
            future.result()
        report = sweep(study, db, executor, in_flight=in_flight, retry_failed=args.retry_failed,
                       progress=Progress(_remaining(db, len(runs), args.retry_failed), quiet=args.quiet))
    except KeyboardInterrupt:
        print("\n  interrupted: finished runs are stored; run the same command again to resume",
              file=sys.stderr)
        return 130
    finally:
        close()
        db.close()
    print(f"  {report.done} runs done, {report.failed} failed, {report.skipped} already stored, "
          f"in {report.seconds:.1f} s")
    tables = store.load(out)
    print()
    print(analysis.report(tables))
    if "monthly" in tables and not tables["monthly"].empty:
        from . import report as study_report
        written = study_report.write(out, tables)
        print(f"\n  report: {written[0]} (self-contained; opens offline) and {written[1]}")
    failed = tables["runs"][tables["runs"]["status"] == "failed"]
    if len(failed):
        print(f"\n  {len(failed)} runs failed, e.g. run {failed['run_id'].iloc[0]} "
              f"({failed['scenario'].iloc[0]}, seed {failed['seed'].iloc[0]}): {failed['error'].iloc[0]}")
        print("  tracebacks are in the runs table; rerun with --retry-failed after a fix")
        return 1
    return 0


def cmd_export(args) -> int:
    from . import store
    if args.format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UserError("--format parquet needs pyarrow: pip install 'msme-sim[parquet]'") from None
    for path in store.export(args.folder, args.format):
        print(f"  wrote {path}")
    return 0


def cmd_report(args) -> int:
    from . import report, store
    folder = Path(args.folder)
    t0 = time.perf_counter()
    tables = store.load(folder)
    out = Path(args.out) if args.out else (folder if folder.is_dir() else folder.parent)
    _writable_folder(out, "--out")
    for path in report.write(folder, tables, out=out):
        print(f"  wrote {path}")
    print(f"  in {time.perf_counter() - t0:.1f} s")
    return 0


def _resamples(n: int) -> None:
    if not 100 <= n <= 1_000_000:
        raise UserError(f"--resamples {n}: give 100 to 1,000,000 bootstrap resamples (a few thousand "
                        "give stable 95 % intervals)")


def cmd_app(args) -> int:
    try:
        import solara  # noqa: F401
        import solara_assets  # noqa: F401
    except ImportError:
        raise UserError("the classroom page needs the app extra: pip install -e '.[app]'") from None
    if not 1 <= args.port <= 65535:
        raise UserError(f"--port {args.port}: choose a port in 1-65535 (default 8521)")
    if not 100 <= args.firms <= 200_000:
        raise UserError(f"--firms {args.firms}: a classroom city has 100 to 200,000 firms (default 10,000)")
    env = {**os.environ, "MSME_SIM_APP": "1", "MSME_SIM_APP_FIRMS": str(args.firms),
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}  # nothing leaves the machine
    if args.seed is not None:
        env["MSME_SIM_APP_SEED"] = str(args.seed)
    print(f"msme-sim app: http://{args.host}:{args.port}/ ({args.firms:,} firms; Ctrl-C to stop)", flush=True)
    cmd = [sys.executable, "-m", "solara", "run", "sim.app", "--port", str(args.port), "--host", args.host,
           "--production", "--no-open"]
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)  # become the server: a signal to this process reaches it
    return 0  # (not reached)


def cmd_compare(args) -> int:
    from . import compare, store
    folder = Path(args.folder)
    _resamples(args.resamples)
    tables = store.load(folder)
    out = Path(args.out) if args.out else (folder if folder.is_dir() else folder.parent)
    _writable_folder(out, "--out")
    table = compare.compare(tables, args.baseline, args.outcomes, resamples=args.resamples,
                            where=str(folder))
    effects = tables.get("effects")
    if effects is not None and not effects.empty:
        effects = effects.assign(baseline_name=table["baseline_scenario"].iloc[0])
    print(compare.text(table, effects, tables.get("runs")))
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "compare.csv", index=False)
    compare.over_time(tables, args.baseline, where=str(folder)).to_csv(out / "compare_over_time.csv",
                                                                       index=False)
    (out / "compare.md").write_text("# Paired comparison\n\n" + compare.markdown(table, effects,
                                                                             tables.get("runs")))
    for name in ("compare.csv", "compare_over_time.csv", "compare.md"):
        print(f"  wrote {out / name}")
    return 0


def cmd_sensitivity(args) -> int:
    from . import sensitivity, store
    folder = Path(args.folder)
    _resamples(args.resamples)
    tables = store.load(folder)
    out = Path(args.out) if args.out else (folder if folder.is_dir() else folder.parent)
    _writable_folder(out, "--out")
    record, table = sensitivity.analyse(tables, args.outcomes, args.scenario,
                                        resamples=args.resamples, where=str(folder))
    print(sensitivity.markdown(record, table))
    for path in sensitivity.write(out, record, table):
        print(f"  wrote {path}")
    return 0


def cmd_scenarios(args) -> int:
    scenarios = list_scenarios()
    if not scenarios:
        raise UserError("no scenarios/ folder found (run from the project folder)")
    width = max(len(s.name) for s in scenarios)
    for s in scenarios:
        parent = f" (extends {s.chain[1]})" if len(s.chain) > 1 else ""
        print(f"{s.name:<{width}}  {s.description}{parent}")
    return 0


def cmd_check(args) -> int:
    if args.years is not None and not 1 <= args.years <= 100:
        raise UserError(f"--years {args.years}: choose a whole number of years in [1, 100]")
    s = load(args.file, years=args.years)
    events = ", ".join(f"{e.type}@{e.month}" for e in s.events) or "none"
    print(f"{s.path}: ok - scenario '{s.name}' ({' <- '.join(s.chain)}), {s.years} years, events: {events}")
    return 0


def cmd_params(args) -> int:
    for row in parameter_table():
        if args.role and row["role"] != args.role:
            continue
        plausible = row["plausible"].split(" (")[0]
        print(f"{row['name']:28} {row['default']!s:>12}  {row['unit']:28} {row['allowed']:22} "
              f"{row['role']:12} {plausible}".rstrip())
    return 0


BYTES_PER_FIRM = 900
"""Estimated peak memory of a running city per firm (benchmarks/README: ~600-700 bytes traced with
every firm a mesa agent, plus the step's temporary arrays)."""
BYTES_PER_SNAPSHOT_FIRM = 250
"""Estimated memory of one firm's row in a firm snapshot (pandas)."""


def _memory_check(n_firms: int, snapshots: int, copies: int, force: bool, what: str) -> None:
    """Refuse, before any work, a request the machine's free memory cannot hold (unless --force)."""
    import os
    need = copies * n_firms * (BYTES_PER_FIRM + BYTES_PER_SNAPSHOT_FIRM * snapshots)
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: no estimate to refuse on
        return
    if need > 0.8 * free and not force:
        raise UserError(f"{what} needs about {need / 2**30:,.1f} GB of memory ({copies} x {n_firms:,} "
                        f"firms, {snapshots} snapshots) and {free / 2**30:,.1f} GB is free; use fewer "
                        "firms, snapshots or workers, or --force to try anyway")


def _can_write(path: Path, option: str) -> None:
    """Refuse, before any work and without writing anything, an output folder that cannot be
    created or written: the nearest existing folder on the way must be writable."""
    import os
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UserError(f"{option} {str(path)!r}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"{option} {str(path)!r}: cannot write in {probe} (permission denied); "
                        "give a folder you can write to")


def _writable_folder(path: Path, option: str) -> None:
    """Create ``path`` if needed and check a file can be written there, before any work."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / ".msme-sim-write-test").write_text("")
        (path / ".msme-sim-write-test").unlink()
    except OSError as err:
        raise UserError(f"{option} {str(path)!r}: cannot write there ({err.strerror or err}); "
                        "give a folder you can write to") from None


def cmd_validate(args) -> int:
    from . import __version__
    from . import validate as val
    from .plotting import validation_figure

    if not 2 <= args.seeds <= 1000:
        raise UserError(f"--seeds {args.seeds}: give a whole number of seeds in [2, 1000] "
                        "(an interval over seeds needs at least two)")
    if not 1000 <= args.firms <= 10_000_000:
        raise UserError(f"--firms {args.firms}: give a whole number of firms in [1000, 10000000] "
                        "(smaller cities hold too few small and medium firms to measure)")
    if not 1 <= args.years <= 100:
        raise UserError(f"--years {args.years}: choose a whole number of years in [1, 100]")
    out = Path(args.out)
    _writable_folder(out, "--out")
    seeds = list(range(1, args.seeds + 1))
    start = time.perf_counter()

    def progress(done, total, seed):
        print(f"  seed {seed} done ({done}/{total}, {time.perf_counter() - start:.0f} s)", file=sys.stderr)

    print(f"msme-sim validate: default city, {args.firms:,} firms, {args.years} years, seeds 1-{args.seeds}",
          file=sys.stderr)
    results = val.run_seeds(seeds, n_firms=args.firms, years=args.years, progress=progress)
    seconds = time.perf_counter() - start
    table = val.summarise(val.per_seed_table(results), 12 * args.years)
    (out / "validation.md").write_text(val.report(table, seeds=seeds, n_firms=args.firms, years=args.years,
                                                  version=__version__, seconds=seconds))
    table.to_csv(out / "validation.csv", index=False)
    val.per_seed_table(results).to_csv(out / "validation-seeds.csv", index=False)
    fig = validation_figure(table, results, f"msme-sim validate: default city, {args.firms:,} firms, "
                                            f"{args.years} years, {len(seeds)} seeds")
    fig.savefig(out / "validation.png", dpi=100)
    print(val.terminal_table(table))
    print(f"\n  {val.count_line(table)}; {len(seeds)} seeds in {seconds:.0f} s")
    missed = val.reference_misses(table)
    if missed:
        print(f"  reference rows (in brackets, not counted) that miss the published figure: {len(missed)}")
        print("\n".join(f"    - {name}" for name in missed))
    print(f"  wrote {out}/validation.md, validation.csv, validation-seeds.csv, validation.png")
    return val.exit_status(table)


def cmd_calibrate(args) -> int:
    from . import calibrate
    from .params import Parameters

    names = tuple(n.strip() for n in args.fit.split(",") if n.strip()) if args.fit else calibrate.DEFAULT_FIT
    unknown = [n for n in names if n not in calibrate.SEARCH_RANGE]
    if unknown:
        raise UserError(f"--fit {unknown[0]!r}: not a calibrated parameter; choose from "
                        f"{', '.join(sorted(calibrate.SEARCH_RANGE))}")
    if not names:
        raise UserError("--fit: name at least one parameter")
    try:
        seeds = tuple(int(x) for x in args.seeds.split(",") if x.strip())
    except ValueError:
        raise UserError(f"--seeds {args.seeds!r}: give whole numbers, e.g. 1,2") from None
    if not seeds or any(s < 0 for s in seeds):
        raise UserError(f"--seeds {args.seeds!r}: give one or more seeds >= 0, e.g. 1,2")
    if not 1000 <= args.firms <= 200_000:
        raise UserError(f"--firms {args.firms}: choose 1000 to 200000 (each evaluation simulates a "
                        "burn-in and a run of this many firms)")
    if not 24 <= args.months <= 600 or args.months % 12:
        raise UserError(f"--months {args.months}: choose whole years from 24 to 600 months")
    if not 1 <= args.max_evals <= 100_000:
        raise UserError(f"--max-evals {args.max_evals}: choose 1 to 100000")
    out = Path(args.out)
    _writable_folder(out, "--out")
    base = Parameters(n_firms=args.firms, burn_in_firms=args.firms)
    print(f"calibrating {', '.join(names)} on {args.firms:,} firms, seeds {args.seeds}, "
          f"{args.months} months, at most {args.max_evals} evaluations")
    fit = calibrate.fit(base, names, seeds=seeds, months=args.months, max_evals=args.max_evals,
                        log=None if args.quiet else print, sensitivities=not args.no_sensitivity)
    text = calibrate.report(fit, seeds=seeds, months=args.months, n_firms=args.firms)
    (out / "calibration.md").write_text(text)
    fit.target_table().to_csv(out / "targets.csv", index=False)
    if fit.jacobian is not None:
        fit.jacobian.to_csv(out / "sensitivities.csv")
    lines = ['description = "Parameters fitted by msme-sim calibrate (see calibration.md beside this file)."',
             f'source = "msme-sim calibrate, {args.firms} firms, seeds {args.seeds}, {args.months} months, '
             f'distance {fit.distance_fitted:.3f}"', "", "[parameters]"]
    lines += [f"{n} = {fit.fitted[n]!r}" for n in names]
    (out / "fitted.toml").write_text("\n".join(lines) + "\n")
    print(text)
    print(f"wrote {out / 'calibration.md'}, {out / 'targets.csv'} and {out / 'fitted.toml'} "
          f"(a scenario file: msme-sim run {out / 'fitted.toml'})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="msme-sim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario (default: baseline) and write its outcome table and figure")
    r.add_argument("scenario", nargs="?", default="baseline",
                   help="scenario name (msme-sim scenarios) or a .toml file; default baseline")
    r.add_argument("--years", type=int, default=None, help="years to simulate (default: the scenario's, 10)")
    r.add_argument("--seed", type=int, default=None, help="seed (default: a fresh one, recorded)")
    r.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="change a parameter (repeatable); `msme-sim params` lists them")
    r.add_argument("--size-law", choices=["pp7_2021", "law20_2008"], default=None)
    r.add_argument("--snapshot-months", default="", metavar="M1,M2",
                   help="also write firm-level tables at these months")
    r.add_argument("--out", default="results", help="where to write (default results/)")
    r.add_argument("--no-cache", action="store_true", help="redo the burn-in instead of reusing it")
    r.add_argument("--force", action="store_true", help="run even if the memory estimate exceeds free memory")
    r.set_defaults(func=cmd_run)
    w = sub.add_parser("sweep", help="run a study (experiments/*.toml) into a resumable result store")
    w.add_argument("experiment", help="an experiment file, e.g. experiments/quick.toml")
    w.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: one per core; 0: run in this process)")
    w.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run on a Dask cluster instead of local processes")
    w.add_argument("--out", default=None, help="store folder (default results/NAME)")
    w.add_argument("--retry-failed", action="store_true", help="run failed runs again")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    w.add_argument("--force", action="store_true", help="run even if the memory estimate exceeds free memory")
    w.set_defaults(func=cmd_sweep)
    x = sub.add_parser("export", help="write a study's tables as CSV or Parquet")
    x.add_argument("folder", help="the study's folder, e.g. results/quick")
    x.add_argument("--format", choices=["csv", "parquet"], default="csv")
    x.set_defaults(func=cmd_export)
    a = sub.add_parser("app", help="the classroom page (mesa SolaraViz) on localhost; works offline")
    a.add_argument("--port", type=int, default=8521)
    a.add_argument("--host", default="127.0.0.1", help="address to serve on (0.0.0.0: the classroom's network)")
    a.add_argument("--firms", type=int, default=10_000, help="firms in the city (default 10,000)")
    a.add_argument("--seed", type=int, default=None, help="seed of the first city (default: a fresh one)")
    a.set_defaults(func=cmd_app)
    o = sub.add_parser("report", help="write a study's report: self-contained HTML (opens offline) "
                                      "and Markdown, with figures")
    o.add_argument("folder", help="the study's folder, e.g. results/quick")
    o.add_argument("--out", default=None, help="folder for report.html/.md (default: the study's)")
    o.set_defaults(func=cmd_report)
    q = sub.add_parser("compare", help="paired differences of a study's scenarios from a baseline, "
                                       "with t and bootstrap intervals")
    q.add_argument("folder", help="the study's folder, e.g. results/quick")
    q.add_argument("--baseline", default=None,
                   help="scenario to compare with (default: the study's baseline, else its first)")
    q.add_argument("--outcomes", nargs="+", default=None, metavar="OUTCOME",
                   help="headline outcomes (default: all)")
    q.add_argument("--resamples", type=int, default=4999, help="bootstrap resamples (default 4999)")
    q.add_argument("--out", default=None, help="folder for compare.csv/.md (default: the study's)")
    q.set_defaults(func=cmd_compare)
    e = sub.add_parser("sensitivity", help="Sobol' indices (saltelli design) or Morris effects (morris "
                                           "design) of a study's headline outcomes")
    e.add_argument("folder", help="the study's folder, e.g. results/sensitivity")
    e.add_argument("--outcomes", nargs="+", default=list(DEFAULT_SENSITIVITY_OUTCOMES), metavar="OUTCOME",
                   help="headline outcomes (default: %(default)s)")
    e.add_argument("--scenario", nargs="+", default=None, help="scenarios to analyse (default: all)")
    e.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples for the intervals")
    e.add_argument("--out", default=None, help="folder for sensitivity.csv/.md/.png (default: the study's)")
    e.set_defaults(func=cmd_sensitivity)
    s = sub.add_parser("scenarios", help="list the scenarios with their descriptions")
    s.set_defaults(func=cmd_scenarios)
    c = sub.add_parser("check", help="validate a scenario file without running it")
    c.add_argument("file")
    c.add_argument("--years", type=int, default=None, help="horizon to check events against")
    c.set_defaults(func=cmd_check)
    p = sub.add_parser("params", help="list every parameter with unit, default and allowed range")
    p.add_argument("--role", choices=["uncertainty", "lever", "setting"])
    p.set_defaults(func=cmd_params)
    v = sub.add_parser("validate", help="run the default city over several seeds and check it against "
                                        "published patterns of firm dynamics (exit 1 if any fails)")
    # 20: the drift rows divide by the SD over seeds, which 10 seeds measure too roughly (2026-11-29,
    # default city: SD of small + medium firms at the end 5.7 over seeds 1-10, 8.3 over 1-30)
    v.add_argument("--seeds", type=int, default=20, help="runs, on seeds 1 … N (default 20)")
    v.add_argument("--firms", type=int, default=90_000, help="firms in the city (default 90,000, Medan)")
    v.add_argument("--years", type=int, default=10, help="years per run (default 10)")
    v.add_argument("--out", default="results/validate", help="where to write (default results/validate)")
    v.set_defaults(func=cmd_validate)
    k = sub.add_parser("calibrate", help="fit uncertain parameters to the calibration targets (docs/calibration.md)")
    k.add_argument("--fit", default=None, metavar="NAME,NAME",
                   help="parameters to fit (default: the set docs/calibration.md lists)")
    k.add_argument("--firms", type=int, default=10_000, help="city size of each evaluation (default 10000)")
    k.add_argument("--seeds", default="1", help="common random numbers: the seeds every evaluation uses (default 1)")
    k.add_argument("--months", type=int, default=120, help="months after the burn-in (default 120)")
    k.add_argument("--max-evals", type=int, default=300, help="most parameter sets to try (default 300)")
    k.add_argument("--out", default="results/calibrate", help="where to write (default results/calibrate)")
    k.add_argument("--no-sensitivity", action="store_true",
                   help="skip the local sensitivities (2 evaluations per fitted parameter)")
    k.add_argument("--quiet", action="store_true", help="do not print each evaluation")
    k.set_defaults(func=cmd_calibrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, ParameterError, ScenarioError, StoreError) as err:
        print(f"msme-sim: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # the output piped into a reader that stopped (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
