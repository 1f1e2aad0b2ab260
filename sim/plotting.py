"""Figures of a run's outcome table and of ``msme-sim validate`` (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402


def run_figure(monthly: pd.DataFrame, title: str = ""):
    """Six panels: firms by class, entry and exit, sales and export share, inequality, the office's
    reach (awareness, registry) and its work (queue, spending)."""
    m = monthly
    years = m["month"] / 12
    fig, ax = plt.subplots(2, 3, figsize=(15, 7), constrained_layout=True)
    for name in ("micro", "small", "medium"):
        ax[0, 0].plot(years, m[name], label=name)
    ax[0, 0].set_yscale("log")
    ax[0, 0].set_title("Firms by size class")
    ax[0, 0].legend()
    flows = m.iloc[1:]  # month 0 is the starting state, with no flows
    ax[0, 1].plot(flows["month"] / 12, flows["entries"], label="entries")
    ax[0, 1].plot(flows["month"] / 12, flows["exits"], label="exits")
    ax[0, 1].set_title("Entries and exits per month")
    ax[0, 1].legend()
    ax[1, 0].plot(years, m["sales"] / 1e9, color="C0")
    ax[1, 0].set_ylabel("MSME sales, Rp bn/month")
    ax[1, 0].set_title("Sales and export share")
    twin = ax[1, 0].twinx()
    twin.plot(years, 100 * m["export_share"], color="C3")
    twin.set_ylabel("export share, %", color="C3")
    ax[1, 1].plot(years, m["sales_gini"])
    ax[1, 1].set_ylim(0, 1)
    ax[1, 1].set_title("Gini of annual sales")
    if "aware_share" in m:
        ax[0, 2].plot(years, 100 * m["aware_share"], label="aware of the office")
        ax[0, 2].plot(years, 100 * m["registered_share"], label="registered")
        ax[0, 2].plot(years, 100 * m["office_capacity"], label="office capacity (x100)", ls="--")
        ax[0, 2].set_ylim(0, 100)
        ax[0, 2].set_title("The office's reach, % of firms")
        ax[0, 2].legend()
        ax[1, 2].plot(years, m["queue_length"], color="C0")
        ax[1, 2].set_ylabel("firms waiting")
        ax[1, 2].set_title("Queue and spending")
        spend = ax[1, 2].twinx()
        spend.plot(years, m["spend_total"] / 1e6, color="C3")
        spend.set_ylabel("spent, Rp M/month", color="C3")
    for a in ax.flat:
        a.set_xlabel("year")
    if title:
        fig.suptitle(title)
    return fig


def validation_figure(table: pd.DataFrame, results: list, title: str = ""):
    """Six panels of ``msme-sim validate`` (``sim.validate``): the growth-rate density with Laplace
    and normal fits, growth SD against size, survival by age, the size distribution's CCDF, mean
    size by age, and the class shares. ``results``: one ``SeedResult`` per seed."""
    from .classes import THRESHOLDS
    from .validate import SALES_GRID, Z_EDGES

    rows = table.set_index("key")
    fig, ax = plt.subplots(2, 3, figsize=(16, 9.5), constrained_layout=True)
    _growth_density(ax[0, 0], results, Z_EDGES)
    _volatility(ax[0, 1], results, rows)
    _survival(ax[0, 2], results)
    _ccdf(ax[1, 0], results, SALES_GRID, THRESHOLDS["law20_2008"]["sales"])
    _size_by_age(ax[1, 1], results)
    _class_shares(ax[1, 2], results, rows)
    if title:
        fig.suptitle(title)
    return fig


def _growth_density(a, results, edges):
    from scipy import stats
    counts = np.sum([r.curves["z_hist"] for r in results], axis=0)
    n = sum(r.curves["z_n"] for r in results)
    width = np.diff(edges)
    mid = (edges[:-1] + edges[1:]) / 2
    dens = counts / max(n, 1) / width
    ok = dens > 0
    a.plot(mid[ok], dens[ok], "o", ms=4, color="k", label=f"model, all seeds ({n:,} firm-years)")
    fits = [r.curves["tent"] for r in results if np.isfinite(r.curves["tent"]["laplace_scale"])]
    if fits:
        x = np.linspace(edges[0], edges[-1], 400)
        mean = lambda k: float(np.mean([f[k] for f in fits]))
        a.plot(x, stats.laplace.pdf(x, mean("laplace_loc"), mean("laplace_scale")), color="C3",
               label="Laplace (ML fit, mean over seeds)")
        a.plot(x, stats.norm.pdf(x, mean("normal_loc"), mean("normal_scale")), color="C0", ls="--",
               label="normal (ML fit, mean over seeds)")
    a.set_yscale("log")
    a.set_ylim(max(dens[ok].min() / 3, 1e-7) if ok.any() else 1e-6, 1.5)
    a.set_xlabel("one-year log growth of annual sales, standardised within size deciles")
    a.set_ylabel("density (log scale)")
    a.set_title("Growth rates: tent-shaped (Laplace) or normal?")
    a.legend(fontsize=8)


def _volatility(a, results, rows):
    for i, r in enumerate(results):
        d = r.curves["deciles"]
        if len(d):
            a.plot(d["mean_size"] / 1e6, d["sd_growth"], "o", ms=3, color="C0", alpha=0.5,
                   label="size deciles, each seed" if i == 0 else None)
    slopes = [(r.values["volatility_slope"], r.curves["intercept"]) for r in results
              if np.isfinite(r.values["volatility_slope"])]
    sizes = np.concatenate([r.curves["deciles"]["mean_size"].to_numpy() for r in results])
    if slopes and sizes.size:
        b, c = np.mean(slopes, axis=0)
        x = np.geomspace(sizes.min(), sizes.max(), 50)
        beta = rows.loc["volatility_slope"]
        a.plot(x / 1e6, np.exp(c) * x ** b, color="C3",
               label=f"fit: slope {b:+.3f} [{beta['ci_low']:+.3f}, {beta['ci_high']:+.3f}]")
        mid = np.sqrt(x[0] * x[-1])
        y_mid = np.exp(c) * mid ** b
        a.plot(x / 1e6, y_mid * (x / mid) ** -0.175, color="0.5", ls=":",
               label="slope -0.175 (Stanley et al. 1996)")
    a.set_xscale("log")
    a.set_yscale("log")
    a.xaxis.set_minor_formatter(NullFormatter())  # (minor labels collide within one decade)
    a.set_xlabel("mean annual sales of the decile, Rp M (log)")
    a.set_ylabel("SD of one-year log growth (log)")
    a.set_title("Volatility against size")
    a.legend(fontsize=8)


def _survival(a, results):
    curves = pd.concat([r.curves["survival"] for r in results], axis=1)
    mean = curves.mean(axis=1)
    a.fill_between(curves.index / 12, 100 * curves.min(axis=1), 100 * curves.max(axis=1), color="C0",
                   alpha=0.25, label="model: entrants, range over seeds")
    a.plot(mean.index / 12, 100 * mean, color="C0", label="model: entrants, mean over seeds")
    a.errorbar([2, 4], [66, 44], yerr=8, fmt="s", color="C3", capsize=4,
               label="Knaup 2005: 66 %, 44 % (band ±8 pp)")
    stock = [r.curves["stock_survival"] for r in results if "stock_survival" in r.curves]
    if stock:  # the firms open at month 0, of every age, as a panel survey samples them
        stock = pd.concat(stock, axis=1).mean(axis=1)
        a.plot(stock.index / 12, 100 * stock, color="C2", marker=".",
               label="model: firms open at month 0 (the stock), mean over seeds")
        a.errorbar([5], [59], yerr=8, fmt="D", color="C2", mec="k", capsize=4,
                   label="McKenzie & Paffhausen 2019: stock 59 % after 5 yrs (±8 pp)")
    a.set_xlabel("years since entry (entrants) or since month 0 (the stock)")
    a.set_ylabel("still open, %")
    a.set_ylim(0, 100)
    a.set_title("Survival of entrants and of the stock")
    a.legend(fontsize=7)


def _ccdf(a, results, grid, thresholds):
    curves = np.array([r.curves["ccdf"] for r in results])
    mean = curves.mean(axis=0)
    ok = mean > 0
    a.plot(grid[ok] / 1e6, mean[ok], color="C0", label="model, last snapshot, mean over seeds")
    for value, name in zip(thresholds, ("micro|small", "small|medium", "medium|large"), strict=True):
        a.axvline(value / 1e6, color="0.6", ls=":", lw=1)
        a.text(value / 1e6, 0.5, f" {name}", rotation=90, fontsize=7, color="0.4", va="center")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("annual sales, Rp M (log); dotted: Law 20/2008 sales thresholds")
    a.set_ylabel("share of firms with sales ≥ x (log)")
    a.set_title("Size distribution (CCDF)")
    a.legend(fontsize=8, loc="lower left")


def _size_by_age(a, results):
    curves = pd.concat([r.curves["log_size_by_age"] for r in results], axis=1)
    mean = curves.mean(axis=1)
    a.fill_between(curves.index, curves.min(axis=1), curves.max(axis=1), color="C0", alpha=0.25,
                   label="model, range over seeds")
    a.plot(mean.index, mean, color="C0", label="model, mean over seeds")
    a.set_xlabel("age, whole years")
    a.set_ylabel("mean log10 annual sales (Rp)")
    a.set_title("Mean size by age (yearly snapshots)")
    a.legend(fontsize=8)


def _class_shares(a, results, rows):
    names = ["micro", "small", "medium"]
    x = np.arange(3)
    law20 = rows.loc[[f"share_{n}" for n in names]]
    pp7 = [np.mean([r.curves["shares_pp7"][n] for r in results]) for n in names]
    err = np.array([law20["model"] - law20["ci_low"], law20["ci_high"] - law20["model"]]).clip(min=0)
    a.bar(x - 0.2, law20["model"], 0.4, yerr=np.nan_to_num(err), capsize=3, color="C0",
          label="model, Law 20/2008 (95 % interval)")
    a.bar(x + 0.2, pp7, 0.4, color="C2", alpha=0.7, label="model, PP 7/2021")
    a.plot(x - 0.2, [98.67, 1.22, 0.10], "D", color="C3", label="KemenKopUKM 2019 (Law 20/2008)")
    a.set_xticks(x, names)
    a.set_yscale("log")
    a.set_ylabel("share of firms, % (log)")
    a.set_title("Size classes by count")
    a.legend(fontsize=8)
