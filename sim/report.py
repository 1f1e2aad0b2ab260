"""A study's report: one self-contained HTML file (figures embedded, opens offline) and its Markdown
twin, written from the result store alone.

    msme-sim report results/NAME        # also written at the end of every sweep

What it holds: what was run (study file, scenarios and what each changes, seeds, version, commit,
fingerprint); the headline effects with their intervals (``sim.compare``); figures (time paths per
scenario with 95 % bands, a forest plot of the paired effects, office spending and cost per
outcome, office capacity and queue around events, class composition, the firm-size distribution);
how to read it; and the model's known caveats (docs/calibration.md).
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import __version__, compare
from .analysis import HEADLINES
from .params import INSTRUMENTS, Parameters

CAVEATS = (
    # the known gaps of docs/calibration.md, one line each (a test keeps the two in step)
    ("Money scale", "mean sales of small and medium firms are 2.4-5.3 times below the published "
                    "value added per firm of their class, which sales must exceed (micro firms' "
                    "Rp 91 M a year is above theirs, Rp 76 M); firms classed by their sales cannot "
                    "reach those figures under the size distribution the class shares imply. "
                    "Workers per firm match the data in every class, so sales per worker in small "
                    "and medium firms are below the data's value added per worker: read jobs as "
                    "counts and money amounts as relative, not as rupiah of the real city."),
    ("The largest firms are not the calmest", "the top size decile's growth is a little more "
                                              "volatile than the ninth's."),
    ("Old firms shrink slightly", "survivors aged 10 years or more lose about 4.3 % of sales a year."),
    ("The start inherits the luck of the burn-in",
     "the city's start (four pooled burn-ins) can hold up to about one seed-SD fewer or more "
     "small and medium firms than runs settle at, so their time paths can trend a little; "
     "comparisons between scenarios are not affected."),
    ("Graduation out of micro", "is about 0.2 % a year; Medan's 0.5 % 'upgraded' counts licences, "
                                "not class changes."),
    ("Survival", "of entrants follows a US benchmark; of the firms open at a date, 37 % are gone "
                 "five years later, inside the band around developing-country panels' 41 % "
                 "(McKenzie & Paffhausen 2019) since owners' household shocks close firms without "
                 "employees, but still below it, so closures in a scenario may be understated."),
    ("Loan defaults", "of a credit-only office: 9 % of loans end in default, above KUR's reported "
                      "average and within the range of its weakest lenders (banks here do not screen)."),
    ("Grants pay micro firms less than de Mel et al. found",
     "in their own sample frame (capital at most Rp 15 M) an equipment grant earns 1.1 % a month on "
     "average (growth-oriented firms 3.8 %, subsistence firms 0.60 %), against their 4.6-5.7 %; the "
     "model reaches 3-8 % only among capacity-bound growth-oriented firms, about 0.05 % of firms; a "
     "US$50,000 grant raises the chance of ten or more workers by about 4 points, against McKenzie "
     "2017's 20. So it may understate what equipment grants do."),
)

HOW_TO_READ = (
    "Every scenario ran on the same seeds, and each firm draws the same luck in every scenario, so a "
    "difference between two runs on one seed is the policy's, not chance's. Differences are "
    "averaged over seeds; the 95 % intervals say how sure we are of that average (the t interval, "
    "and a bootstrap interval that does not assume normal errors). An interval that excludes zero "
    "is an effect the seeds agree on; 'better/worse' counts the seeds in which the scenario did "
    "better or worse than the baseline. Bands around the time paths are 95 % intervals of the mean "
    "across seeds. The model is calibrated to published figures but has known gaps (below): read "
    "its numbers as the consequences of its assumptions, and compare scenarios rather than quote "
    "levels.")

PATHS = (
    # monthly outcome (or a sum of outcomes), title, scale, cumulative?
    (("firms",), "firms", 1, False),
    (("small", "medium"), "small + medium firms", 1, False),
    (("sales",), "MSME sales, Rp bn/month", 1e-9, False),
    (("served",), "firms served so far", 1, True),
    (("registered_share",), "registered, % of firms", 100, False),
    (("graduated_small", "graduated_medium"), "graduations so far (each firm once per class)", 1, True),
)


@dataclass
class Figure:
    name: str
    title: str
    caption: str
    png: bytes


# -- the pieces ----------------------------------------------------------------------------------
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    _plt().close(fig)
    return buf.getvalue()


def _colours(scenarios):
    cycle = ["#333333", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
             "#17becf", "#bcbd22"]
    return {s: cycle[i % len(cycle)] for i, s in enumerate(scenarios)}


def _band(values: pd.DataFrame):
    """Mean over seeds (columns) and its 95 % t interval, per month (rows)."""
    mean = values.mean(axis=1)
    n = values.notna().sum(axis=1)
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * values.std(axis=1, ddof=1) / np.sqrt(n)
    return mean, mean - half.fillna(0), mean + half.fillna(0)


def _wide(monthly: pd.DataFrame, scenario: str, cols, cumulative: bool) -> pd.DataFrame:
    m = monthly[monthly["scenario"] == scenario]
    values = m[list(cols)].sum(axis=1)
    table = pd.DataFrame({"month": m["month"], "replicate": m["replicate"], "v": values})
    wide = table.pivot_table(index="month", columns="replicate", values="v")
    return wide.cumsum() if cumulative else wide


def _event_months(runs: pd.DataFrame, scenario: str) -> list[tuple[int, str]]:
    events = json.loads(runs.loc[runs["scenario"] == scenario, "events"].iloc[0] or "[]")
    return [(int(e["month"]), e["type"]) for e in events]


def fig_paths(monthly, scenarios, colours) -> Figure:
    plt = _plt()
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.4))
    for ax, (cols, title, scale, cumulative) in zip(axes.flat, PATHS, strict=True):
        for s in scenarios:
            mean, low, high = _band(_wide(monthly, s, cols, cumulative))
            ax.plot(mean.index, mean * scale, color=colours[s], lw=1.3, label=s)
            ax.fill_between(mean.index, low * scale, high * scale, color=colours[s], alpha=0.18, lw=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("month")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return Figure("paths", "Time paths per scenario",
                  "Mean across seeds with 95 % bands. Month 0 is the city's long-run state.", _png(fig))


def fig_forest(table: pd.DataFrame, colours) -> Figure:
    plt = _plt()
    outcomes = list(dict.fromkeys(table["outcome"]))
    scenarios = list(dict.fromkeys(table["scenario"]))
    fig, ax = plt.subplots(figsize=(9, 0.2 * len(outcomes) * len(scenarios) + 0.15 * len(outcomes) + 1.0))
    y, ticks, labels, labelled = 0, [], [], set()
    for name in outcomes:
        for s in scenarios:
            r = table[(table["outcome"] == name) & (table["scenario"] == s)].iloc[0]
            base = r["baseline"] if r["baseline"] else np.nan
            mid, lo, hi = (100 * r[k] / base for k in ("mean", "t_low", "t_high"))
            if np.isfinite(mid):
                ax.errorbar(mid, -y, xerr=[[max(mid - lo, 0)], [max(hi - mid, 0)]], fmt="o", ms=4,
                            color=colours[s], capsize=2, label=None if s in labelled else s)
                labelled.add(s)  # (the legend names each scenario at its first drawn point)
            y += 1
        ticks.append(-(y - (len(scenarios) + 1) / 2))
        labels.append(HEADLINES[name][0])
        y += 0.6
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_xlabel(f"difference from {table['baseline_scenario'].iloc[0]}, % of the baseline's mean "
                  "(95 % interval)")
    ax.set_xscale("symlog", linthresh=1.0)
    if labelled:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return Figure("forest", "Paired effects",
                  "Each scenario's mean paired difference from the baseline, as a percentage of the "
                  "baseline's mean, with its 95 % t interval (symmetric-log scale: small effects "
                  "stay visible next to large ones).", _png(fig))


def fig_cost(monthly, scenarios, colours) -> Figure:
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.0))
    spend_cols = [f"spend_{i}" for i in INSTRUMENTS]
    runs = monthly.groupby(["scenario", "replicate"])[[*spend_cols, "spend_total", "served"]].sum()
    means = runs[spend_cols].groupby("scenario").mean().reindex(scenarios) * 1e-9
    left = np.zeros(len(scenarios))
    for i, col in enumerate(spend_cols):
        a.barh(scenarios, means[col], left=left, label=INSTRUMENTS[i].replace("_", " "),
               color=["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"][i])
        left += means[col].to_numpy()
    a.invert_yaxis()
    a.set_xlabel("office spending over the run, Rp bn (mean over seeds)")
    a.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4, frameon=False)
    per_firm = (runs["spend_total"] / runs["served"].where(runs["served"] > 0)) * 1e-6
    y = np.arange(len(scenarios))
    for k, s in enumerate(scenarios):
        values = per_firm.xs(s, level="scenario").dropna().to_numpy()
        if values.size:
            mean, low, high = compare.interval(values)
            low, high = (mean, mean) if not np.isfinite(low) else (low, high)
            b.errorbar(mean, k, xerr=[[mean - low], [high - mean]], fmt="o", color=colours[s], capsize=3)
    b.set_yticks(y, scenarios, fontsize=9)
    b.invert_yaxis()
    b.set_xlabel("office spending per firm served, Rp M (95 % interval)")
    fig.tight_layout()
    return Figure("cost", "Spending and cost per firm served",
                  "Left: what the office spent over the run, by instrument. Right: what each service "
                  "cost on average. The cost-effectiveness against the baseline (spending per "
                  "job-year, graduation or rupiah of sales added) is in the effects table, where "
                  "defined. Spending counts the instruments only: changes to the office itself "
                  "(staff, coordination, a database, outreach, M&E) are not priced.", _png(fig))


def fig_office(monthly, runs, scenarios, colours) -> Figure:
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 3.8))
    for s in scenarios:
        for ax, col, scale in ((a, "office_capacity", 100), (b, "queue_length", 1)):
            mean, low, high = _band(_wide(monthly, s, (col,), False))
            ax.plot(mean.index, mean * scale, color=colours[s], lw=1.2, label=s)
            ax.fill_between(mean.index, low * scale, high * scale, color=colours[s], alpha=0.15, lw=0)
        for month, kind in _event_months(runs, s):
            for ax in (a, b):
                ax.axvline(month, color=colours[s], lw=0.7, ls=":")
            a.annotate(kind.replace("_", " "), (month, 1.0), xycoords=("data", "axes fraction"),
                       fontsize=7, rotation=90, va="top", ha="right", color=colours[s])
    a.set_title("office capacity, % of normal", fontsize=10)
    b.set_title("firms waiting in the queue", fontsize=10)
    for ax in (a, b):
        ax.set_xlabel("month")
    a.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return Figure("office", "The office around events",
                  "Institutional capacity and the queue, mean across seeds with 95 % bands; dotted "
                  "lines mark each scenario's events (mergers, regulation changes, austerity).",
                  _png(fig))


def fig_classes(monthly, scenarios, colours) -> Figure:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
    for ax, cls in zip(axes, ("small", "medium"), strict=True):
        for s in scenarios:
            m = monthly[monthly["scenario"] == s]
            share = (m[cls] / m["firms"] * 1000).groupby(m["month"]).mean()
            ax.plot(share.index, share, color=colours[s], lw=1.2, label=s)
        ax.set_title(f"{cls} firms per 1,000 firms (PP 7/2021 classes)", fontsize=10)
        ax.set_xlabel("month")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return Figure("classes", "Class composition",
                  "Small and medium firms per 1,000 firms, mean across seeds (micro firms are the "
                  "rest, about 99 %).", _png(fig))


def fig_sizes(sizes, scenarios, colours) -> Figure | None:
    if sizes is None or sizes.empty:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for s in scenarios:
        counts = sizes[sizes["scenario"] == s].groupby("bin")[["low", "firms"]].agg(
            {"low": "first", "firms": "sum"})
        total = counts["firms"].sum()
        if total == 0:
            continue
        ccdf = 1.0 - counts["firms"].cumsum().shift(fill_value=0) / total  # P(S >= low edge)
        keep = ccdf > 0
        ax.loglog(counts["low"][keep] * 1e-6, ccdf[keep], drawstyle="steps-post", color=colours[s],
                  lw=1.2, label=s)
    ax.set_xlabel("annual sales, Rp M (log)")
    ax.set_ylabel("share of firms with at least these sales (log)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return Figure("sizes", "Firm-size distribution at the end",
                  "Complementary cumulative distribution of annual sales over all seeds (log-log); a "
                  "straight upper tail is a Pareto tail.", _png(fig))


# -- what was run --------------------------------------------------------------------------------------
def _changes(runs: pd.DataFrame, scenarios) -> tuple[dict, dict]:
    """Parameters every scenario shares that differ from the defaults, and each scenario's own."""
    defaults = Parameters().to_dict()
    per = {s: json.loads(runs.loc[runs["scenario"] == s, "parameters"].iloc[0]) for s in scenarios}
    common = {k: v for k, v in per[scenarios[0]].items()
              if v != defaults.get(k) and all(p.get(k) == v for p in per.values())}
    own = {s: {k: v for k, v in p.items() if v != defaults.get(k) and k not in common}
           for s, p in per.items()}
    return common, own


def _description(name: str) -> str:
    from .scenario import ScenarioError, load
    try:
        return load(name).description
    except (ScenarioError, OSError):
        return ""


def _meta(tables) -> dict:
    meta = tables.get("meta")
    return {} if meta is None else dict(zip(meta["key"], meta["value"], strict=True))


def _headline_sentences(table: pd.DataFrame) -> list[str]:
    out = []
    for s in dict.fromkeys(table["scenario"]):
        sel = table[(table["scenario"] == s) & (table["p_holm"] < 0.05)]
        if sel.empty:
            out.append(f"**{s}**: no headline outcome differs clearly from the baseline.")
            continue
        parts = []
        for _, r in sel.iterrows():
            d = compare._decimals(r, r["scale"])
            parts.append(f"{r['label']} {compare._num(r['mean'], r['scale'], d)} "
                         f"[{compare._num(r['t_low'], r['scale'], d)}, "
                         f"{compare._num(r['t_high'], r['scale'], d)}]")
        out.append(f"**{s}**: " + "; ".join(parts) + ".")
    return out


def build(tables: dict[str, pd.DataFrame], where: str = "the store", resamples: int = 4999) -> dict:
    """Everything the report shows, computed once (for both the HTML and the Markdown)."""
    from .store import StoreError
    if "monthly" not in tables or tables["monthly"].empty:
        raise StoreError(f"{where} has no finished runs to report")
    runs = tables["runs"][tables["runs"]["status"] == "done"]
    monthly = tables["monthly"]
    first_point = monthly["point"].min()
    several_points = monthly["point"].nunique() > 1
    monthly = monthly[monthly["point"] == first_point]
    scenarios = list(dict.fromkeys(runs["scenario"]))
    colours = _colours(scenarios)
    effects = tables.get("effects")
    comparison = None
    if len(scenarios) > 1:
        comparison = compare.compare(tables, resamples=resamples, where=where)
        if effects is not None and not effects.empty:
            effects = effects.assign(baseline_name=comparison["baseline_scenario"].iloc[0])
    sizes = tables.get("sizes")
    if sizes is not None:
        sizes = sizes[sizes["point"] == first_point]
    figures = [fig_paths(monthly, scenarios, colours)]
    if comparison is not None:
        figures.append(fig_forest(comparison[comparison["point"] == first_point], colours))
    figures += [fig_cost(monthly, scenarios, colours), fig_office(monthly, runs, scenarios, colours),
                fig_classes(monthly, scenarios, colours)]
    size_fig = fig_sizes(sizes, scenarios, colours)
    if size_fig is not None:
        figures.append(size_fig)
    common, own = _changes(runs, scenarios)
    meta = _meta(tables)
    firms = json.loads(runs["parameters"].iloc[0]).get("n_firms")
    return dict(where=where, meta=meta, runs=runs, scenarios=scenarios, comparison=comparison,
                effects=effects, figures=figures, common=common, own=own, firms=firms,
                months=int(monthly["month"].max()), seeds=sorted(set(runs["seed"])),
                several_points=several_points, first_point=first_point,
                points=int(tables["monthly"]["point"].nunique()),
                commits=sorted(set(runs["git_commit"].dropna())), versions=sorted(set(runs["version"])))


def _fmt_value(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _run_facts(r: dict) -> list[tuple[str, str]]:
    meta = r["meta"]
    seeds = r["seeds"]
    seed_text = (", ".join(map(str, seeds)) if len(seeds) <= 6
                 else f"{', '.join(map(str, seeds[:3]))}, … {seeds[-1]} ({len(seeds)} seeds)")
    facts = [("study file", meta.get("study_file", "?")),
             ("runs", f"{len(r['runs']):,} done: {len(r['scenarios'])} scenarios x {len(seeds)} seeds"
                      + (" x several design points (figures: point 0)" if r["several_points"] else "")),
             ("city", f"{r['firms']:,} firms, {r['months']} months"),
             ("seeds (the same in every scenario)", seed_text),
             ("msme-sim version", ", ".join(r["versions"])),
             ("git commit", ", ".join(c[:12] for c in r["commits"]) or "unknown"),
             ("study fingerprint", meta.get("fingerprint", "?")),
             ("store created", meta.get("created", "?"))]
    design = json.loads(meta["design"]) if meta.get("design") else {}
    if design.get("method"):
        names = design.get("names")
        facts.append(("design", f"{design['method']}" + (f" over {', '.join(names)}" if names else "")
                      + f"; {r['points']} points" + ("; indices: msme-sim sensitivity"
                                                      if design["method"] in ("saltelli", "morris") else "")))
    if r["common"]:
        facts.append(("set for every scenario", ", ".join(f"{k} = {_fmt_value(v)}"
                                                          for k, v in r["common"].items())))
    return facts


def _scenario_rows(r: dict) -> list[tuple[str, str, str]]:
    rows = []
    for s in r["scenarios"]:
        events = json.loads(r["runs"].loc[r["runs"]["scenario"] == s, "events"].iloc[0] or "[]")
        change = [f"{k} = {_fmt_value(v)}" for k, v in r["own"][s].items()]
        change += [f"{e['type'].replace('_', ' ')} at month {e['month']}" for e in events]
        rows.append((s, _description(s), "; ".join(change) or "nothing (the defaults)"))
    return rows


# -- writing ----------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
td,th{border:1px solid #ddd;padding:.25em .5em;vertical-align:top}th{background:#f4f4f4;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.88em;color:#555}
.note{color:#555;font-size:.9em}
"""


def html_report(r: dict, title: str) -> str:
    e = html.escape
    out = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>",
           f"<style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>",
           f"<p>{e(r['meta'].get('description', ''))}</p>" if r["meta"].get("description") else "",
           "<h2>What was run</h2><table>"]
    out += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _run_facts(r)]
    out.append("</table><table><tr><th>scenario</th><th>what it is</th><th>what it changes</th></tr>")
    out += [f"<tr><td><code>{e(s)}</code></td><td>{e(d)}</td><td>{e(c)}</td></tr>"
            for s, d, c in _scenario_rows(r)]
    out.append("</table>")
    if r["comparison"] is not None:
        out.append("<h2>Headline effects</h2><ul>")
        out += [f"<li>{_md_bold_to_html(e(s))}</li>" for s in _headline_sentences(r["comparison"])]
        out.append("</ul><p class='note'>Outcomes whose paired difference is clear after adjusting "
                   "for testing several outcomes (Holm, p &lt; 0.05); 95 % t intervals. Every outcome:</p>")
        out.append(_html_table(r["comparison"]))
    if r["effects"] is not None and not r["effects"].empty:
        out.append("<h2>Effects on served firms, on everyone else, and cost</h2>")
        out.append(_html_effects(r["effects"], r["runs"]))
    out.append("<h2>Figures</h2>")
    for f in r["figures"]:
        data = base64.b64encode(f.png).decode("ascii")
        out.append(f"<figure id='{f.name}'><img alt='{e(f.title)}' src='data:image/png;base64,{data}'>"
                   f"<figcaption><b>{e(f.title)}.</b> {e(f.caption)}</figcaption></figure>")
    out += ["<h2>How to read this</h2>", f"<p>{e(HOW_TO_READ)}</p>",
            "<h2>Caveats: the model's known gaps</h2><ul>"]
    out += [f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in CAVEATS]
    out.append("</ul><p class='note'>From docs/calibration.md, where each gap says what was tried.</p>"
               f"<p class='note'>Written by msme-sim {e(__version__)} from {e(r['where'])}.</p>"
               "</body></html>")
    return "\n".join(x for x in out if x)


def _md_bold_to_html(text: str) -> str:
    parts = text.split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def _html_effects(effects: pd.DataFrame, runs: pd.DataFrame) -> str:
    """The effects table (served firms, everyone else, the whole city, cost per unit added), with
    the scenarios whose changes the model does not price starred and listed under it."""
    from .analysis import (
        COST_RATIOS,
        EFFECT_ROWS,
        UNPRICED_NOTE,
        _show,
        cost_ratios,
        effect_table,
        starred,
        unpriced_for,
    )
    e = html.escape
    formats = {x[3]: (x[4], x[5]) for x in EFFECT_ROWS} | {x[1]: (x[2], x[3]) for x in COST_RATIOS}
    changes = unpriced_for(effects, runs)
    several = effects["point"].nunique() > 1
    rows = ["<table><tr><th>effect</th><th>scenario</th><th>mean</th><th>95 % interval</th>"
            "<th>seeds</th></tr>"]
    for _, x in pd.concat([effect_table(effects), cost_ratios(effects)]).iterrows():
        scale, fmt = formats[x["label"]]
        mean, low, high = (_show(x[k], scale, fmt).strip() for k in ("mean", "low", "high"))
        name = f"{x['scenario']} #{x['point']}" if several else x["scenario"]
        if starred(changes, x["label"], x["scenario"], x["point"]):
            name += " *"
        rows.append(f"<tr><td>{e(x['label'])}</td><td>{e(name)}</td><td class='num'>{e(mean)}</td>"
                    f"<td class='num'>[{e(low)}, {e(high)}]</td><td class='num'>{x['n']}</td></tr>")
    rows.append("</table><p class='note'>n/a: the scenario adds no clear amount of that outcome, so a "
                "cost per unit means nothing; negative: it spends less and gains.</p>")
    if changes:
        rows.append(f"<p class='note'>* {e(UNPRICED_NOTE[0].upper() + UNPRICED_NOTE[1:])}:</p><ul class='note'>")
        rows += [f"<li><code>{e(s)}</code>{e(f' #{p}' if several else '')}: {e(', '.join(items))}</li>"
                 for (s, p), items in changes.items()]
        rows.append("</ul>")
    return "\n".join(rows)


def _html_table(table: pd.DataFrame) -> str:
    e = html.escape
    rows = ["<table><tr><th>scenario</th><th>outcome</th><th>difference</th><th>95 % t interval</th>"
            "<th>95 % BCa interval</th><th>relative</th><th>seeds better / worse</th><th>p (Holm)</th></tr>"]
    several = table["point"].nunique() > 1
    for _, x in table.iterrows():
        s, d = x["scale"], compare._decimals(x, x["scale"])
        name = f"{x['scenario']} #{x['point']}" if several else x["scenario"]
        rows.append(
            f"<tr><td>{e(name)}</td><td>{e(x['label'])}</td><td class='num'>{compare._num(x['mean'], s, d)}</td>"
            f"<td class='num'>[{compare._num(x['t_low'], s, d)}, {compare._num(x['t_high'], s, d)}]</td>"
            f"<td class='num'>[{compare._num(x['bca_low'], s, d)}, {compare._num(x['bca_high'], s, d)}]</td>"
            f"<td class='num'>{compare._pct(x['relative'])}</td><td class='num'>{compare._better(x)}</td>"
            f"<td class='num'>{compare._p(x['p_holm'])}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def markdown_report(r: dict, title: str, image_dir: str) -> str:
    out = [f"# {title}", ""]
    if r["meta"].get("description"):
        out += [r["meta"]["description"], ""]
    out += ["## What was run", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in _run_facts(r)]
    out += ["", "| scenario | what it is | what it changes |", "|---|---|---|"]
    out += [f"| `{s}` | {d} | {c} |" for s, d, c in _scenario_rows(r)]
    if r["comparison"] is not None:
        out += ["", "## Headline effects", ""]
        out += [f"- {s}" for s in _headline_sentences(r["comparison"])]
        out += ["", compare.markdown(r["comparison"], r["effects"], r["runs"])]
    out += ["## Figures", ""]
    for f in r["figures"]:
        out += [f"![{f.title}]({image_dir}/{f.name}.png)", "", f"*{f.title}.* {f.caption}", ""]
    out += ["## How to read this", "", HOW_TO_READ, "", "## Caveats: the model's known gaps", ""]
    out += [f"- **{k}**: {v}" for k, v in CAVEATS]
    out += ["", "From docs/calibration.md, where each gap says what was tried.", ""]
    return "\n".join(out)


def write(folder: str | Path, tables: dict[str, pd.DataFrame], *, out: str | Path | None = None,
          where: str | None = None) -> list[Path]:
    """Write ``report.html`` (self-contained), ``report.md`` and its figures (``report_files/``)."""
    folder = Path(folder)
    out = Path(out) if out is not None else folder
    r = build(tables, where or str(folder))
    title = f"msme-sim study: {Path(r['meta'].get('study_file', folder.name)).stem}"
    out.mkdir(parents=True, exist_ok=True)
    files = out / "report_files"
    files.mkdir(exist_ok=True)
    written = []
    for f in r["figures"]:
        (files / f"{f.name}.png").write_bytes(f.png)
    for name, text in (("report.html", html_report(r, title)),
                       ("report.md", markdown_report(r, title, files.name))):
        tmp = out / f"{name}.partial"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out / name)
        written.append(out / name)
    return written
