"""Figures of a run's outcome table (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def run_figure(monthly: pd.DataFrame, title: str = ""):
    """Four panels: firms by class, entry and exit, sales and export share, inequality."""
    m = monthly
    years = m["month"] / 12
    fig, ax = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    for name in ("micro", "small", "medium"):
        ax[0, 0].plot(years, m[name], label=name)
    ax[0, 0].set_yscale("log")
    ax[0, 0].set_title("Firms by size class")
    ax[0, 0].legend()
    ax[0, 1].plot(years, m["entries"], label="entries")
    ax[0, 1].plot(years, m["exits"], label="exits")
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
    for a in ax.flat:
        a.set_xlabel("year")
    if title:
        fig.suptitle(title)
    return fig
