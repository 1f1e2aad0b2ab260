"""Figures of a run's outcome table (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


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
