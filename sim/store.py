"""The result store: one SQLite file per study (``results/NAME/results.sqlite``).

Tables:
- ``meta``: the study's fingerprint (a hash of everything that determines its results), file,
  creation time, package version, description, and its design (method, factors and ranges, sizes,
  seed; JSON);
- ``runs``: one row per finished run: run id, scenario, design point and its factor values, replicate,
  seed, every parameter value and the scenario's events (JSON), the baseline it is compared with
  firm by firm (if any), status (``done`` or ``failed``),
  error and traceback, start, end, duration, package version, git commit, study fingerprint;
- ``monthly``: the outcome table of every done run, keyed by (run_id, month);
- ``snapshots``: firm-level tables at the months the study asked for, keyed by (run_id, month, firm_id);
- ``sizes``: each done run's firm-size distribution at its end (firms by annual sales in
  log-spaced bins, ``sim.run.size_distribution``), keyed by (run_id, bin);
- ``effects``: for runs compared with the study's baseline, the effects on served firms, the rest
  of the city and cost (``sim.effects``), keyed by (run_id, part, horizon, instrument, measure).

Each finished run is written in one transaction, so an interrupted sweep leaves only whole runs.
``open_store`` refuses a store made from a different study, and a lock file refuses a second
writer while a sweep runs.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from pathlib import Path

import pandas as pd

from . import __version__

RUN_COLUMNS = ("run_id", "scenario", "point", "replicate", "seed", "factors", "parameters", "events",
               "baseline", "status", "error", "traceback", "started", "finished", "duration", "version",
               "git_commit", "study_fingerprint")


SCHEMA = "6"
"""Bump when the tables change; a store of another schema is refused, not silently mixed."""


class StoreError(RuntimeError):
    """The store cannot be used as asked (another study's store, another writer)."""


def git_commit() -> str:
    """The commit of the code that ran (empty outside a git checkout)."""
    import subprocess
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5,
                               cwd=Path(__file__).resolve().parent).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


class Store:
    """A study's SQLite store, opened for writing by one sweep at a time."""

    def __init__(self, folder: Path, fingerprint: str, study_file: str, info: dict | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "results.sqlite"
        self._lock = open(self.folder / "sweep.lock", "a+")  # noqa: SIM115 (held for the sweep)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "another process"
            self._lock.close()
            raise StoreError(f"{self.folder}: another sweep ({holder}) is writing to this store; "
                             "wait for it to finish or use another --out") from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"pid {os.getpid()}")
        self._lock.flush()
        self.con = sqlite3.connect(self.path, timeout=30)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self._init(fingerprint, study_file)
        if info:  # more about the study (its description, its design record for msme-sim sensitivity)
            with self.con:
                self.con.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                                     [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in info.items()])
        self.fingerprint = fingerprint
        self.commit = git_commit()
        self._known: dict[str, list[str] | None] = {
            table: self._columns(table) for table in ("monthly", "snapshots", "effects", "sizes")}

    def _init(self, fingerprint: str, study_file: str) -> None:
        with self.con:
            self.con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS runs (run_id INTEGER PRIMARY KEY, scenario TEXT, "
                "point INTEGER, replicate INTEGER, seed INTEGER, factors TEXT, parameters TEXT, "
                "events TEXT, baseline TEXT, status TEXT, "
                "error TEXT, traceback TEXT, started REAL, finished REAL, duration REAL, "
                "version TEXT, git_commit TEXT, study_fingerprint TEXT)")
            row = self.con.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
            schema = self.con.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self.con.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("fingerprint", fingerprint), ("study_file", study_file), ("schema", SCHEMA),
                    ("created", time.strftime("%Y-%m-%dT%H:%M:%S")), ("version", __version__)])
        if row is not None and (schema is None or schema[0] != SCHEMA):
            self.close()
            raise StoreError(f"{self.path} was written by another version of msme-sim (store schema "
                             f"{schema[0] if schema else '1'}, this version writes {SCHEMA}); use "
                             "another --out, or move the old store away")
        if row is not None and row[0] != fingerprint:
            made_from = self.con.execute("SELECT value FROM meta WHERE key='study_file'").fetchone()[0]
            self.close()
            raise StoreError(
                f"{self.path} was made from a different study ({made_from}, fingerprint "
                f"{row[0]}); this one ({study_file}) has fingerprint {fingerprint}. Use another "
                "--out, or move the old store away")

    def _columns(self, table: str) -> list[str] | None:
        rows = self.con.execute(f"PRAGMA table_info({table})").fetchall()
        return [r[1] for r in rows] or None

    # -- what is there -----------------------------------------------------------------------------
    def finished(self) -> dict[int, str]:
        """run_id -> status of every recorded run."""
        return dict(self.con.execute("SELECT run_id, status FROM runs"))

    def forget_failed(self) -> int:
        with self.con:
            return self.con.execute("DELETE FROM runs WHERE status='failed'").rowcount

    # -- writing -------------------------------------------------------------------------------------
    def write(self, spec, outcome: dict) -> None:
        """Record one finished run (done or failed) and its tables, in one transaction."""
        events = [{"type": e.type, **{k: v for k, v in e.values.items() if not k.startswith("_")}}
                  for e in spec.events]
        row = (spec.run_id, spec.scenario, spec.point, spec.replicate, spec.seed,
               json.dumps(spec.factors, sort_keys=True), json.dumps(spec.params.to_dict()),
               json.dumps(events), spec.baseline, outcome["status"], outcome.get("error"),
               outcome.get("traceback"), outcome["started"], outcome["finished"],
               outcome["finished"] - outcome["started"], __version__, self.commit, self.fingerprint)
        with self.con:
            self.con.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(RUN_COLUMNS))})", row)
            if outcome["status"] == "done":
                self._insert("monthly", outcome["monthly"], spec.run_id, ("run_id", "month"))
                for snap in outcome.get("snapshots", {}).values():
                    self._insert("snapshots", snap, spec.run_id, ("run_id", "month", "firm_id"))
                if outcome.get("sizes") is not None:
                    self._insert("sizes", outcome["sizes"], spec.run_id, ("run_id", "bin"))
                if outcome.get("effects") is not None:
                    self._insert("effects", outcome["effects"], spec.run_id,
                                 ("run_id", "part", "horizon", "instrument", "measure"))

    def _insert(self, table: str, df: pd.DataFrame, run_id: int, key: tuple[str, ...]) -> None:
        df = df.drop(columns=[c for c in ("seed",) if c in df])
        cols = ["run_id", *df.columns]
        known = self._known.get(table)
        if known is None:
            types = ["INTEGER"] + [_sql_type(df[c]) for c in df.columns]
            spec = ", ".join(f'"{c}" {t}' for c, t in zip(cols, types, strict=True))
            self.con.execute(f"CREATE TABLE {table} ({spec}, PRIMARY KEY ({', '.join(key)}))")
            known = self._known[table] = cols
        if cols != known:
            raise StoreError(f"{self.path}: run {run_id} produced columns that differ from the "
                             f"stored {table} table")
        values = df.astype(object).where(df.notna(), None).to_numpy().tolist()
        placeholders = ", ".join("?" * len(cols))
        self.con.executemany(f"INSERT INTO {table} VALUES ({placeholders})",
                             ([run_id, *v] for v in values))

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            if not self._lock.closed:
                fcntl.flock(self._lock, fcntl.LOCK_UN)
                self._lock.close()


def _sql_type(col: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_integer_dtype(col):
        return "INTEGER"
    if pd.api.types.is_float_dtype(col):
        return "REAL"
    return "TEXT"


# -- reading (analysis reads only stored results) ---------------------------------------------------
def load(folder: str | Path) -> dict[str, pd.DataFrame]:
    """The study's tables as pandas DataFrames: ``runs``, ``monthly`` (with scenario, point,
    replicate and seed joined in) and, if any, ``snapshots``."""
    path = Path(folder)
    if path.name == "results.sqlite" and path.is_file():
        raise StoreError(f"{path}: give the study's folder ({path.parent}), not the store file in it")
    path = path / "results.sqlite" if path.is_dir() else path
    if not path.is_file():
        raise StoreError(f"no result store at {path} (a study's folder holds results.sqlite)")
    try:
        return _load(path)
    except (sqlite3.Error, pd.errors.DatabaseError) as err:  # garbage, truncated, empty, not ours
        raise StoreError(f"{path}: not a readable msme-sim result store ({err})") from None


def _load(path: Path) -> dict[str, pd.DataFrame]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        schema = con.execute("SELECT value FROM meta WHERE key='schema'").fetchone() if "meta" in tables else None
        if schema is None or schema[0] != SCHEMA:  # its tables lack what this version reads
            raise StoreError(f"{path} was written by another version of msme-sim (store schema "
                             f"{schema[0] if schema else '1'}, this version reads {SCHEMA}); run the "
                             "study again with this version into a new folder (msme-sim sweep STUDY "
                             "--out FOLDER), or read it with the version that wrote it")
        out = {"runs": pd.read_sql("SELECT * FROM runs ORDER BY run_id", con)}
        if "monthly" in tables:
            out["monthly"] = _real(con, "monthly", pd.read_sql(
                "SELECT r.scenario, r.point, r.replicate, r.seed, m.* FROM monthly m "
                "JOIN runs r USING (run_id) ORDER BY m.run_id, m.month", con))
        if "snapshots" in tables:
            out["snapshots"] = _real(con, "snapshots", pd.read_sql(
                "SELECT * FROM snapshots ORDER BY run_id, month, firm_id", con))
        if "sizes" in tables:
            out["sizes"] = pd.read_sql(
                "SELECT r.scenario, r.point, r.replicate, s.* FROM sizes s "
                "JOIN runs r USING (run_id) ORDER BY s.run_id, s.bin", con)
        if "effects" in tables:
            out["effects"] = _real(con, "effects", pd.read_sql(
                "SELECT r.scenario, r.point, r.replicate, r.seed, e.* FROM effects e "
                "JOIN runs r USING (run_id) ORDER BY e.run_id, e.rowid", con))
        out["meta"] = pd.read_sql("SELECT * FROM meta", con)
    finally:
        con.close()
    return out


def _real(con, table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Columns declared REAL come back as floats even when every value is NULL (a NaN outcome,
    such as cost per graduation before the first one)."""
    for _, name, kind, *_ in con.execute(f"PRAGMA table_info({table})"):
        if kind == "REAL" and df[name].dtype == object:
            df[name] = df[name].astype(float)
    return df


def export(folder: str | Path, fmt: str) -> list[Path]:
    """Write every table as CSV or Parquet into ``folder/export``; returns the files."""
    tables = load(folder)
    out = Path(folder) / "export"
    try:
        out.mkdir(exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise StoreError(f"{out}: cannot write the export there ({err.strerror or err})") from None
    written = []
    for name, df in tables.items():
        target = out / f"{name}.{fmt}"
        tmp = target.with_suffix(f".{fmt}.partial")
        if fmt == "csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        os.replace(tmp, target)
        written.append(target)
    return written
