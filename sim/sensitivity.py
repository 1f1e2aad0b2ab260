"""Global sensitivity analysis of a study's store, by SALib (Herman & Usher 2017; Iwanaga et al. 2022).

A study whose design is ``saltelli`` gives first-order and total Sobol' indices (Saltelli et al.
2010's estimators; Jansen's for the total index) of each headline outcome; a ``morris`` design gives
Morris's elementary-effect screening measures (mu*, sigma; Campolongo et al. 2007). Each design
point's outcome is the mean over the study's replicate seeds (the same seeds at every point, so
seed noise is shared across points rather than mixed into the factors' effects). Intervals come
from SALib's bootstrap over the design (``resamples``, seeded): they say how well the design pins
an index down, not how the seeds vary.

    msme-sim sensitivity results/NAME [--outcomes sales_last_year graduations] [--scenario S]

writes ``sensitivity.csv``, ``sensitivity.md`` and ``sensitivity.png`` in the study's folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .analysis import HEADLINES, headlines
from .files import short
from .store import StoreError

DEFAULT_OUTCOMES = ("sales_last_year", "graduations", "firms_end", "served")  # (cli.py repeats it)
METHODS = ("saltelli", "morris")


def design_record(tables: dict[str, pd.DataFrame], where: str = "the store") -> dict:
    """The study's design (method, factor names and ranges, sizes), as the sweep stored it."""
    meta = tables.get("meta")
    record = None
    if meta is not None and "design" in set(meta["key"]):
        record = json.loads(meta.loc[meta["key"] == "design", "value"].iloc[0])
    if not record or record.get("method") not in METHODS:
        if record is None:
            what = "this store records no design (it was written by an older msme-sim: sweep it again)"
        elif "method" not in record:
            what = "this study has no [design] (one point per scenario)"
        else:
            what = f"this one's is {record['method']!r}"
        raise StoreError(f"{where}: sensitivity needs a study whose design.method is 'saltelli' (Sobol' "
                         f"indices) or 'morris' (elementary effects); {what}")
    return record


def problem_of(record: dict) -> dict:
    """The SALib problem of a design record."""
    return {"num_vars": len(record["names"]), "names": list(record["names"]),
            "bounds": [list(b) for b in record["bounds"]]}


def expected_points(record: dict) -> int:
    k = len(record["names"])
    return record["samples"] * (k + 2) if record["method"] == "saltelli" else record["samples"] * (k + 1)


def point_means(tables: dict[str, pd.DataFrame], record: dict, scenario: str, outcomes,
                where: str = "the store") -> tuple[np.ndarray, pd.DataFrame]:
    """X (one row per design point, in design order) and each outcome's mean over replicates."""
    runs = tables["runs"]
    runs = runs[(runs["scenario"] == scenario) & (runs["status"] == "done")]
    per_run = headlines(tables["monthly"][tables["monthly"]["scenario"] == scenario])
    means = per_run.groupby("point")[list(outcomes)].mean().sort_index()
    n = expected_points(record)
    if len(means) != n or means.index.tolist() != list(range(n)):
        raise StoreError(f"{where}: scenario '{scenario}' has finished runs at {len(means):,} of the "
                         f"design's {n:,} points; finish the sweep first (running it again resumes)")
    factors = runs.drop_duplicates("point").set_index("point").sort_index()["factors"]
    X = np.array([[json.loads(f)[name] for name in record["names"]] for f in factors], float)
    return X, means


def sobol_indices(problem: dict, Y: np.ndarray, *, resamples: int = 1000, level: float = 0.95,
                  seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol' indices of ``Y`` (evaluated on a Saltelli design of
    ``problem``, in the design's order), with bootstrap intervals."""
    from SALib.analyze import sobol
    Y = np.asarray(Y, float)
    if np.ptp(Y) == 0:  # the outcome does not move: no variance to share out
        k = problem["num_vars"]
        z = np.zeros(k)
        res = {"S1": z, "S1_conf": z, "ST": z, "ST_conf": z}
    else:
        res = sobol.analyze(problem, Y, calc_second_order=False, num_resamples=resamples,
                            conf_level=level, seed=seed)
    out = pd.DataFrame({"factor": problem["names"], "S1": res["S1"], "ST": res["ST"]})
    out["S1_low"], out["S1_high"] = res["S1"] - res["S1_conf"], res["S1"] + res["S1_conf"]
    out["ST_low"], out["ST_high"] = res["ST"] - res["ST_conf"], res["ST"] + res["ST_conf"]
    return out[["factor", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]]


def morris_measures(problem: dict, X: np.ndarray, Y: np.ndarray, levels: int, *,
                    resamples: int = 1000, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Morris's mu, mu* (with a bootstrap interval) and sigma of ``Y`` on trajectories ``X``."""
    from SALib.analyze import morris
    res = morris.analyze(problem, np.asarray(X, float), np.asarray(Y, float), num_resamples=resamples,
                         conf_level=level, num_levels=levels, seed=seed)
    out = pd.DataFrame({"factor": problem["names"], "mu": np.asarray(res["mu"], float),
                        "mu_star": np.asarray(res["mu_star"], float),
                        "sigma": np.asarray(res["sigma"], float)})
    conf = np.asarray(res["mu_star_conf"], float)
    out["mu_star_low"], out["mu_star_high"] = out["mu_star"] - conf, out["mu_star"] + conf
    return out[["factor", "mu", "mu_star", "mu_star_low", "mu_star_high", "sigma"]]


def analyse(tables: dict[str, pd.DataFrame], outcomes=DEFAULT_OUTCOMES, scenarios=None, *,
            resamples: int = 1000, level: float = 0.95, seed: int = 0,
            where: str = "the store") -> tuple[dict, pd.DataFrame]:
    """The design record and one row per (scenario, outcome, factor) with the indices."""
    record = design_record(tables, where)
    for name in outcomes:
        if name not in HEADLINES:
            raise StoreError(f"unknown outcome {short(name)}; choose from {', '.join(HEADLINES)}")
    known = list(dict.fromkeys(tables["runs"]["scenario"]))
    scenarios = known if scenarios is None else list(scenarios)
    for s in scenarios:
        if s not in known:
            raise StoreError(f"{where} has no scenario {short(s)} (it has {', '.join(known)})")
    problem = problem_of(record)
    rows = []
    for scenario in scenarios:
        X, means = point_means(tables, record, scenario, outcomes, where)
        for name in outcomes:
            Y = means[name].to_numpy()
            if record["method"] == "saltelli":
                table = sobol_indices(problem, Y, resamples=resamples, level=level, seed=seed)
            else:
                table = morris_measures(problem, X, Y, record["levels"], resamples=resamples,
                                        level=level, seed=seed)
            table.insert(0, "outcome", name)
            table.insert(0, "scenario", scenario)
            rows.append(table)
    return record, pd.concat(rows, ignore_index=True)


def markdown(record: dict, table: pd.DataFrame) -> str:
    """The indices as a Markdown table, with what was run."""
    k = len(record["names"])
    if record["method"] == "saltelli":
        head = (f"Sobol' indices from a Saltelli design: {record['samples']} base samples x ({k} factors + 2) "
                f"= {expected_points(record):,} points. S1: the share of the outcome's variance due to the "
                "factor alone; ST: including its interactions. Intervals: SALib's bootstrap over the design.")
        cols = [("S1", "S1_low", "S1_high"), ("ST", "ST_low", "ST_high")]
    else:
        head = (f"Morris elementary effects: {record['samples']} trajectories of {k + 1} points on a "
                f"{record['levels']}-level grid. mu*: mean absolute effect of moving the factor across "
                "its range (in the outcome's units); sigma: how much that effect varies (interactions, "
                "non-linearity).")
        cols = [("mu_star", "mu_star_low", "mu_star_high")]
    lines = [head, ""]
    for (scenario, outcome), grp in table.groupby(["scenario", "outcome"], sort=False):
        label = HEADLINES[outcome][0]
        lines += [f"### {scenario}: {label}", ""]
        header = "| factor | range | " + " | ".join(c[0] for c in cols)
        header += " | sigma |" if record["method"] == "morris" else " |"
        lines += [header, "|---|---|" + "---:|" * (len(cols) + (record["method"] == "morris"))]
        bounds = dict(zip(record["names"], record["bounds"], strict=True))
        order = grp.sort_values(cols[-1][0], ascending=False)
        for _, r in order.iterrows():
            lo, hi = bounds[r["factor"]]
            cells = [f"{r[m]:.3g} [{r[a]:.3g}, {r[b]:.3g}]" for m, a, b in cols]
            if record["method"] == "morris":
                cells.append(f"{r['sigma']:.3g}")
            lines.append(f"| `{r['factor']}` | [{lo:g}, {hi:g}] | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def figure(record: dict, table: pd.DataFrame, path: Path) -> Path:
    """One panel per (scenario, outcome): S1 and ST bars with intervals, or mu* against sigma."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    groups = list(table.groupby(["scenario", "outcome"], sort=False))
    cols = min(2, len(groups))
    rows = -(-len(groups) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.6 * rows), squeeze=False)
    for ax, ((scenario, outcome), grp) in zip(axes.flat, groups, strict=False):
        title = f"{scenario}: {HEADLINES[outcome][0]}"
        if record["method"] == "saltelli":
            grp = grp.sort_values("ST", ascending=True)
            y = np.arange(len(grp))
            for shift, key, colour in ((-0.18, "S1", "#1f77b4"), (0.18, "ST", "#ff7f0e")):
                err = np.vstack([grp[key] - grp[f"{key}_low"], grp[f"{key}_high"] - grp[key]])
                ax.barh(y + shift, grp[key], height=0.34, xerr=np.clip(err, 0, None), color=colour,
                        label={"S1": "first order", "ST": "total"}[key], capsize=2)
            ax.set_yticks(y, grp["factor"], fontsize=8)
            ax.axvline(0, color="grey", lw=0.6)
            ax.set_xlabel("Sobol' index (share of variance)")
            ax.legend(fontsize=8, loc="lower right")
        else:
            ax.scatter(grp["mu_star"], grp["sigma"], color="#1f77b4")
            for _, r in grp.iterrows():
                ax.annotate(r["factor"], (r["mu_star"], r["sigma"]), fontsize=7, xytext=(3, 2),
                            textcoords="offset points")
            ax.set_xlabel("mu* (mean |elementary effect|)")
            ax.set_ylabel("sigma")
        ax.set_title(title, fontsize=9)
    for ax in axes.flat[len(groups):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(folder: Path, record: dict, table: pd.DataFrame) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "sensitivity.csv"
    table.to_csv(csv, index=False)
    md = folder / "sensitivity.md"
    md.write_text("# Sensitivity analysis\n\n" + markdown(record, table) + "\n![indices](sensitivity.png)\n")
    return [csv, md, figure(record, table, folder / "sensitivity.png")]
