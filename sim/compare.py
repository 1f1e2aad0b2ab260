"""Paired comparisons of a study's scenarios with a baseline: how large each difference is, how
sure we are, and in how many seeds the scenario did better.

Every scenario of a study runs on the same seeds, and each firm draws the same luck in every
scenario (``sim.keyed``), so the difference of two runs on one seed is the policy's, not the dice's.
For each scenario, design point and headline outcome (``sim.analysis.HEADLINES``):

- the mean paired difference from the baseline over common seeds, with two 95 % intervals: the
  t interval, and a bias-corrected and accelerated (BCa) bootstrap interval (Efron 1987;
  ``scipy.stats.bootstrap``, seeded), which does not assume the differences are normal;
- the relative change (mean difference over the baseline's mean);
- the shares of seeds in which the scenario did better and worse (every headline outcome is "more
  is better");
- a paired t test's p-value, and the same adjusted for testing several outcomes at once (Holm 1979,
  within each scenario and point);
- over time: the mean paired difference of the monthly outcomes (``OVER_TIME``) at every month, with
  its t interval.

When the study named a baseline, the store also holds the effects on served firms, on everyone
else and on cost (``sim.effects``); ``compare`` reports them too (``sim.analysis.effect_table``).

    msme-sim compare results/NAME [--baseline SCENARIO] [--outcomes ...]

prints the table and writes ``compare.csv``, ``compare_over_time.csv`` and ``compare.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .analysis import (
    COST_RATIOS,
    EFFECT_ROWS,
    HEADLINES,
    UNPRICED_NOTE,
    _show,
    cost_ratios,
    effect_table,
    headlines,
    interval,
    paired_runs,
    starred,
    unpriced_for,
)
from .files import short
from .store import StoreError

OVER_TIME = {
    # monthly outcome: (label, scale, cumulative?)
    "sales": ("MSME sales, Rp bn/month", 1e-9, False),
    "firms": ("firms", 1, False),
    "small": ("small firms", 1, False),
    "medium": ("medium firms", 1, False),
    "graduated_small": ("firms graduated out of micro so far", 1, True),
    "served": ("firms served so far", 1, True),
    "registered_share": ("registered, % of firms", 100, False),
    "office_capacity": ("office capacity, % of normal", 100, False),
}


def paired_effect(diff, base, *, level: float = 0.95, resamples: int = 4999, seed: int = 0) -> dict:
    """Summary of paired differences ``diff`` (scenario minus baseline, one per seed) with the
    baseline's values ``base`` on the same seeds."""
    diff = np.asarray(diff, float)
    base = np.asarray(base, float)
    n = diff.size
    mean, t_low, t_high = interval(diff, level)
    out = dict(n=n, mean=mean, t_low=t_low, t_high=t_high, bca_low=np.nan, bca_high=np.nan,
               baseline=float(base.mean()) if n else np.nan, share_better=np.nan, share_worse=np.nan,
               relative=np.nan, p=np.nan)
    if n == 0:
        return out
    out["relative"] = mean / out["baseline"] if out["baseline"] != 0 else np.nan
    out["share_better"], out["share_worse"] = float(np.mean(diff > 0)), float(np.mean(diff < 0))
    if n >= 3 and np.ptp(diff) > 0:
        res = stats.bootstrap((diff,), np.mean, confidence_level=level, n_resamples=resamples,
                              method="BCa", rng=np.random.default_rng(seed), vectorized=True)
        out["bca_low"], out["bca_high"] = (float(x) for x in res.confidence_interval)
        out["p"] = float(stats.ttest_1samp(diff, 0.0).pvalue)
    elif n >= 2:  # every seed gave the same difference: the interval is that value
        out["bca_low"] = out["bca_high"] = mean
        out["p"] = 0.0 if mean != 0 else 1.0
    return out


def holm(pvalues) -> np.ndarray:
    """Holm's (1979) step-down adjustment of a family of p-values (NaN stays NaN)."""
    p = np.asarray(pvalues, float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _reference(tables: dict, baseline: str | None, where: str) -> str:
    runs = tables["runs"]
    known = list(dict.fromkeys(runs["scenario"]))
    if baseline is None:
        named = runs["baseline"].dropna() if "baseline" in runs else pd.Series(dtype=object)
        baseline = named.iloc[0] if len(named) else known[0]
    if baseline not in known:
        raise StoreError(f"{where} has no scenario {short(baseline)} to compare with (it has "
                         f"{', '.join(known)})")
    if len(known) < 2:
        raise StoreError(f"{where} has one scenario ({known[0]}); compare needs two or more")
    return baseline


def compare(tables: dict[str, pd.DataFrame], baseline: str | None = None, outcomes=None, *,
            level: float = 0.95, resamples: int = 4999, where: str = "the store") -> pd.DataFrame:
    """One row per (scenario, point, outcome): the paired effect against ``baseline`` (default:
    the study's baseline, else its first scenario)."""
    if "monthly" not in tables or tables["monthly"].empty:
        raise StoreError(f"{where} has no finished runs to compare")
    outcomes = list(HEADLINES) if outcomes is None else list(outcomes)
    for name in outcomes:
        if name not in HEADLINES:
            raise StoreError(f"unknown outcome {short(name)}; choose from {', '.join(HEADLINES)}")
    reference = _reference(tables, baseline, where)
    per_run = headlines(tables["monthly"])
    rows = []
    for scenario, point, mine, ref in paired_runs(per_run, reference):
        family = []
        for name in outcomes:
            a, b = mine[name].to_numpy(float), ref[name].to_numpy(float)
            effect = paired_effect(a - b, b, level=level, resamples=resamples)
            label, scale, _ = HEADLINES[name]
            family.append(dict(scenario=scenario, point=point, baseline_scenario=reference,
                               outcome=name, label=label, scale=scale, **effect))
        adjusted = holm([r["p"] for r in family])
        for r, p in zip(family, adjusted, strict=True):
            r["p_holm"] = p
        rows += family
    if not rows:
        raise StoreError(f"{where}: no runs of another scenario share seeds with '{reference}'")
    return pd.DataFrame(rows)


def over_time(tables: dict[str, pd.DataFrame], baseline: str | None = None, *,
              level: float = 0.95, where: str = "the store") -> pd.DataFrame:
    """Mean paired difference from the baseline of each ``OVER_TIME`` outcome at every month, with its
    t interval, in the units of the outcome's label."""
    reference = _reference(tables, baseline, where)
    m = tables["monthly"].copy()
    cols = [c for c in OVER_TIME if c in m]
    for c in cols:
        if OVER_TIME[c][2]:
            m[c] = m.groupby("run_id")[c].cumsum()
    keyed = m.set_index(["scenario", "point", "replicate", "month"])[cols]
    ref = keyed.xs(reference, level="scenario")
    rows = []
    for scenario in dict.fromkeys(m["scenario"]):
        if scenario == reference:
            continue
        diff = (keyed.xs(scenario, level="scenario") - ref).dropna(how="all")
        g = diff.groupby(["point", "month"])
        mean, sd, n = g.mean(), g.std(ddof=1), g.count()
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
        for c in cols:
            scale = OVER_TIME[c][1]
            part = pd.DataFrame({"mean": mean[c] * scale, "low": (mean[c] - half[c]) * scale,
                                 "high": (mean[c] + half[c]) * scale, "n": n[c]}).reset_index()
            part.insert(0, "label", OVER_TIME[c][0])
            part.insert(0, "outcome", c)
            part.insert(0, "scenario", scenario)
            rows.append(part)
    return pd.concat(rows, ignore_index=True)


# -- presentation ------------------------------------------------------------------------------------
def _decimals(r, scale: float) -> int:
    """Decimals that show the row's interval to two significant digits of its half-width."""
    half = 0.5 * abs(r["t_high"] - r["t_low"]) * scale
    if not np.isfinite(half) or half == 0:
        x = abs(r["mean"] * scale)
        return 0 if not np.isfinite(x) or x == 0 or x >= 100 else 2
    return int(min(max(1 - np.floor(np.log10(half)), 0), 6))


def _num(v: float, scale: float, decimals: int) -> str:
    return "n/a" if not np.isfinite(v) else f"{v * scale:+,.{decimals}f}"


def _better(r) -> str:
    if not np.isfinite(r["share_better"]):
        return "n/a"
    return f"{100 * r['share_better']:.0f}/{100 * r['share_worse']:.0f} %"


def _pct(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:+.1f} %"


def _p(v: float) -> str:
    return "n/a" if not np.isfinite(v) else "<0.001" if v < 0.001 else f"{v:.3f}"


def _names(table: pd.DataFrame) -> list[tuple[str, int, str]]:
    several = table["point"].nunique() > 1
    return [(s, p, f"{s} #{p}" if several else s)
            for s, p in table[["scenario", "point"]].drop_duplicates().itertuples(index=False)]


def text(table: pd.DataFrame, effects: pd.DataFrame | None = None,
         runs: pd.DataFrame | None = None) -> str:
    """The comparison for a terminal. ``runs`` (the store's runs table) lets the cost rows say what
    each scenario changes that the model does not price (``analysis.unpriced_changes``)."""
    ref = table["baseline_scenario"].iloc[0]
    lines = [f"paired differences from {ref} (same seeds; 95 % intervals: t and BCa bootstrap; "
             "p adjusted across outcomes by Holm)"]
    for scenario, point, name in _names(table):
        sel = table[(table["scenario"] == scenario) & (table["point"] == point)]
        lines.append(f"\n  {name} (n = {sel['n'].iloc[0]} seeds)")
        lines.append(f"    {'outcome':44}{'difference':>12}  {'t interval':>24}  {'BCa interval':>24}"
                     f"  {'relative':>9}  {'bet./worse':>9}  {'p (Holm)':>8}")
        for _, r in sel.iterrows():
            s, d = r["scale"], _decimals(r, r["scale"])
            t_iv = f"[{_num(r['t_low'], s, d)}, {_num(r['t_high'], s, d)}]"
            b_iv = f"[{_num(r['bca_low'], s, d)}, {_num(r['bca_high'], s, d)}]"
            lines.append(f"    {r['label'][:43]:44}{_num(r['mean'], s, d):>12}  {t_iv:>24}  {b_iv:>24}"
                         f"  {_pct(r['relative']):>9}  {_better(r):>9}  {_p(r['p_holm']):>8}")
    if effects is not None and not effects.empty:
        lines += ["", *served_lines(effects, runs)]
    return "\n".join(lines)


def served_lines(effects: pd.DataFrame, runs: pd.DataFrame | None = None) -> list[str]:
    from .analysis import effects_report
    return effects_report(effects, effects["point"].nunique() > 1, runs)


def unpriced_markdown(changes: dict, several_points: bool = False) -> list[str]:
    """The note under a Markdown cost table: what spending counts, and each scenario's unpriced
    changes (``analysis.unpriced_for``); nothing when there are none."""
    if not changes:
        return []
    note = [f"\\* {UNPRICED_NOTE[0].upper()}{UNPRICED_NOTE[1:]}:", ""]
    note += [f"- `{s}`" + (f" #{p}" if several_points else "") + ": " + ", ".join(items)
             for (s, p), items in changes.items()]
    return note + [""]


def markdown(table: pd.DataFrame, effects: pd.DataFrame | None = None,
             runs: pd.DataFrame | None = None) -> str:
    ref = table["baseline_scenario"].iloc[0]
    lines = [f"Paired differences from `{ref}` over common seeds. Intervals are 95 %: the t interval "
             "and the BCa bootstrap interval. *Better*: share of seeds in which the scenario did "
             "better / worse (the rest: no difference). "
             "*p (Holm)*: paired t test, adjusted across the outcomes of each scenario.", ""]
    for scenario, point, name in _names(table):
        sel = table[(table["scenario"] == scenario) & (table["point"] == point)]
        lines += [f"### {name} (n = {sel['n'].iloc[0]} seeds)", "",
                  "| outcome | difference | t interval | BCa interval | relative | better / worse | p (Holm) |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for _, r in sel.iterrows():
            s, d = r["scale"], _decimals(r, r["scale"])
            lines.append(f"| {r['label']} | {_num(r['mean'], s, d)} | [{_num(r['t_low'], s, d)}, "
                         f"{_num(r['t_high'], s, d)}] | [{_num(r['bca_low'], s, d)}, "
                         f"{_num(r['bca_high'], s, d)}] | {_pct(r['relative'])} | {_better(r)} "
                         f"| {_p(r['p_holm'])} |")
        lines.append("")
    if effects is not None and not effects.empty:
        lines += ["### Effects on served firms, on everyone else, and cost", "",
                  "| scenario | effect | mean | 95 % interval | seeds |", "|---|---|---:|---:|---:|"]
        formats = {r[3]: (r[4], r[5]) for r in EFFECT_ROWS} | {r[1]: (r[2], r[3]) for r in COST_RATIOS}
        changes = unpriced_for(effects, runs)
        for _, r in pd.concat([effect_table(effects), cost_ratios(effects)]).iterrows():
            scale, fmt = formats[r["label"]]
            mean, low, high = (_show(r[k], scale, fmt).strip() for k in ("mean", "low", "high"))
            star = " \\*" if starred(changes, r["label"], r["scenario"], r["point"]) else ""
            lines.append(f"| {r['scenario']}{star} | {r['label']} | {mean} | [{low}, {high}] | {r['n']} |")
        lines.append("")
        lines += unpriced_markdown(changes, effects["point"].nunique() > 1)
    return "\n".join(lines)
