"""Validation: the default city over several seeds against published patterns of firm dynamics.

``TARGETS`` is the one list of what is checked: each row names the pattern, its source, the target,
the band or inequality the model's mean over seeds must satisfy, and its role:

- ``validation``: a pattern no default was chosen to produce; counts for the exit status.
- ``calibrated``: a figure the defaults were chosen with in view (docs/calibration.md); a pass is
  not evidence of validity, but a miss still means the default city misses the data, so it counts.
- ``reference``: shown for comparison only, never counted: the model's figure is not like-for-like
  with the source's, or it is a second statistic of a pattern already counted.

A counted row that cannot be measured (the run is too short, e.g. survival after 48 months in a
three-year run) does not pass. ``measure_run`` turns one run into one value per row; ``summarise``
turns the values of several seeds into the table. The measurements themselves are in ``sim.measures``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import grants, trials
from . import measures as ms
from .calibrate import TARGETS as CALIBRATION_TARGETS
from .classes import THRESHOLDS
from .params import Parameters

LAW = "law20_2008"  # the 2019 class shares were counted under Law 20/2008
KEMENKOP_2019 = "KemenKopUKM 2019 (Law 20/2008 classes)"
KNAUP = "Knaup 2005, Monthly Labor Review (US)"
HJM = "Haltiwanger, Jarmin & Miranda 2013, REStat"
STANLEY = "Stanley et al. 1996, Nature"
MCKENZIE_2021 = "McKenzie 2021, Oxford Review of Economic Policy 37(2) (meta-analysis of training trials)"
TRAINING = ("a training trial inside the model (sim/trials.py): one round of training at the office's "
            "full capacity for a random 5 % of firms at month 0, against the same firms in an exact "
            "counterfactual copy of the city (no office), followed for 24 months; ")
UMKM_VA = ("UMKM Indonesia 2020 (2019 data), as tabulated in DPR RI, National Interest dan Agenda "
           "Pembangunan, p. 12: business income per unit = the class's GDP contribution / units")


@dataclass(frozen=True)
class Target:
    key: str
    pattern: str
    source: str
    target: str  # the published figure, as text
    low: float | None  # the model's mean must be >= low (> low when high is None) …
    high: float | None  # … and <= high (< high when low is None)
    unit: str
    role: str  # validation | calibrated | reference
    measure: str  # how the model's figure is measured
    min_months: int = 12  # shortest run that can measure it

    @property
    def counts(self) -> bool:
        return self.role != "reference"

    @property
    def rule(self) -> str:
        u = f" {self.unit}" if self.unit else ""
        if self.high is None:
            return f"> {self.low:,g}{u}"
        if self.low is None:
            return f"< {self.high:,g}{u}"
        if self.low == self.high:
            return f"= {self.low:,g}{u}"
        return f"in [{self.low:,g}, {self.high:,g}]{u}"

    def judge(self, value: float, months: int) -> str:
        """'pass', 'fail', or 'n/a' (not measurable in a run of ``months`` months)."""
        if months < self.min_months or not np.isfinite(value):
            return "n/a"
        if self.high is None:
            ok = value > self.low
        elif self.low is None:
            ok = value < self.high
        else:
            ok = self.low <= value <= self.high
        return "pass" if ok else "fail"


def _t(*args, **kw) -> Target:
    return Target(*args, **kw)


def _sig(x: float) -> float:
    return float(f"{x:.3g}")


def _within_25pct(x: float) -> tuple[float, float]:
    """The band "within ±25 % of ``x``" that issue 9 sets for micro firms' sales and workers."""
    return round(0.75 * x, 9), round(1.25 * x, 9)


def _factor(x: float, f: float = 1.5) -> tuple[float, float]:
    """The band "within a factor ``f`` of ``x``", to three significant digits."""
    return _sig(x / f), _sig(x * f)


SHARES = "share of firms in each class, mean over the yearly snapshots after month 0, reclassified under Law 20/2008"
GROWTH = ("log(annual sales a year later / annual sales now) of firms alive in both yearly snapshots "
          "and at least 12 months old at the start, pooled over the years")
BY_CLASS = "mean over firms of a Law 20/2008 class, pooled over the yearly snapshots after month 0"


def pareto_band_mean(above_low: float, above_high: float, low: float, high: float,
                     top: float | None = None) -> tuple[float, float]:
    """The Pareto tail through two points of a size distribution (a share ``above_low`` of firms
    above ``low``, ``above_high`` above ``high``): its index, and the mean size of firms between
    ``high`` and ``top`` (between ``low`` and ``high`` when ``top`` is None).

    What the data's own class shares say about the mean sales a class of firms classed by their
    sales can have (docs/calibration.md, Money scale)."""
    zeta = math.log(above_low / above_high) / math.log(high / low)
    a, b = (low, high) if top is None else (high, top)
    r = a / b
    if abs(zeta - 1.0) < 1e-12:
        return zeta, a * math.log(b / a) / (1.0 - r)
    return zeta, zeta / (zeta - 1.0) * a * (1.0 - r ** (zeta - 1.0)) / (1.0 - r ** zeta)


# % of firms above the small and medium sales bounds (KemenKopUKM 2019, Law 20/2008: the shares
# calibrate fits), and the bounds in Rp M
_SHARE = {t.name: t.value for t in CALIBRATION_TARGETS}
_ABOVE_SMALL, _ABOVE_MEDIUM = _SHARE["small_share"] + _SHARE["medium_share"], _SHARE["medium_share"]
_SMALL_UP, _MEDIUM_UP, _LARGE_UP = (b / 1e6 for b in THRESHOLDS["law20_2008"]["sales"])
_ZETA, _SMALL_BY_SALES = pareto_band_mean(_ABOVE_SMALL, _ABOVE_MEDIUM, _SMALL_UP, _MEDIUM_UP)
_MEDIUM_BY_SALES = pareto_band_mean(_ABOVE_SMALL, _ABOVE_MEDIUM, _SMALL_UP, _MEDIUM_UP, _LARGE_UP)[1]
_BY_SALES_NOTE = (
    f". The data's own class shares ({_ABOVE_SMALL:.2f} % of firms above Rp 300 M of sales, "
    f"{_ABOVE_MEDIUM:.2f} % above Rp 2.5 bn) put a Pareto tail of index {_ZETA:.2f} through them, "
    "which gives firms classed by their sales in the {band} band a mean of Rp {mean:,.0f} M: the "
    "figure is reachable only by firms whose sales exceed their class's band while their assets "
    "keep them in it (docs/calibration.md, Money scale)")
_NOT_LIKE_FOR_LIKE = (
    ". Reference, not counted (since 2026-11-29, late): the data's small and medium classes are not formed "
    "like the model's (most of their firms are there by their assets, with sales above the class's "
    "band), the figure is value added rather than sales, and issue 9 holds only micro firms' sales "
    "to a band; calibrate still aims at it from below, and the miss is a known gap")

TARGETS: tuple[Target, ...] = (
    _t("share_micro", "Micro share of firms", KEMENKOP_2019, "98.67 %", 98.0, 99.3, "%", "calibrated", SHARES),
    _t("share_small", "Small share of firms", KEMENKOP_2019, "1.22 %", 0.9, 1.6, "%", "calibrated", SHARES),
    _t("share_medium", "Medium share of firms", KEMENKOP_2019, "0.10 %", 0.05, 0.20, "%", "calibrated", SHARES),
    _t("micro_pp7_minus_law20", "Micro share higher under PP 7/2021 than Law 20/2008",
       "PP 7/2021 art. 35 thresholds; CALIBRATION.md", "higher", 0.0, None, "pp", "validation",
       "micro share under PP 7/2021 minus that under Law 20/2008, same snapshots as the class shares"),
    _t("missing_middle", "No missing middle: firm count falls with size above the mode",
       "Hsieh & Olken 2014, J. Economic Perspectives", "no second mode", 0, 0, "rises", "validation",
       "firms by log10 annual sales in half-decade bins, pooled over the yearly snapshots after month 0; "
       "rises in count from one bin to the next, from the mode to the last bin with >= 10 distinct firms"),
    _t("survival_24", "Entrants alive after 24 months", KNAUP, "66 %", 58.0, 74.0, "%", "calibrated",
       "share of the run's entrants alive 24 months after entry, pooled over monthly cohorts", 25),
    _t("survival_48", "Entrants alive after 48 months", KNAUP, "44 %", 36.0, 52.0, "%", "calibrated",
       "as above, 48 months", 49),
    _t("hazard_falls", "Exit hazard falls with age (year 1 minus year 5)", KNAUP, "falling", 0.0, None, "pp",
       "validation", "1 - S(12)/S(0) minus 1 - S(60)/S(48), S = the survival curve of the run's entrants", 61),
    _t("stock_death_5y", "Small firms in developing countries: share of the stock dead within 5 years",
       "McKenzie & Paffhausen 2019, Review of Economics and Statistics (16 panel surveys, 12 developing "
       "countries)", "≈ 41 % (8.2-8.3 %/yr; half within 6.2 yrs)", 33.5, 49.5, "%", "calibrated",
       "of the firms alive at month 0, of every age (the stock, as a panel survey samples it), the share "
       "not alive at month 60 (yearly snapshots; band ±8 pp, as for Knaup's rows; a comparable economy's "
       "figure where Knaup's are the US's; a calibrate target since household_hazard was fitted)", 60),
    _t("growth_young", "Young survivors grow (aged 1-3 years)", HJM, "up or out: > 0", 0.0, None, "log pts",
       "validation", "mean growth of firms aged 12-47 months at the start; growth: " + GROWTH),
    _t("growth_young_minus_old", "Young survivors grow faster (1-3 minus >= 10 years)", HJM,
       "> 0", 0.0, None, "log pts", "validation", "mean growth aged 12-47 months minus aged >= 120 months"),
    _t("growth_old", "Old survivors about stable (aged >= 10 years)", HJM, "≈ 0", -0.05, 0.05, "log pts",
       "validation", "mean growth of firms aged >= 120 months at the start"),
    _t("growth_small_minus_large", "Smaller survivors grow faster (size quintile 1 minus 5)",
       "Evans 1987, J. Industrial Economics; Hall 1987", "> 0", 0.0, None, "log pts", "validation",
       "mean growth of the smallest fifth by annual sales at the start minus the largest fifth "
       "(quintiles within each year)"),
    _t("volatility_slope", "Volatility falls with size (slope of log SD on log size)",
       STANLEY + "; Sutton 2002, Physica A", "-0.15 … -0.2", -0.25, -0.10, "", "validation",
       "OLS slope of log SD of growth on log mean annual sales across size deciles (within each year)"),
    _t("tent_loglik", "Growth rates tent-shaped (Laplace minus normal log-likelihood)",
       STANLEY + "; Bottazzi & Secchi 2006, RAND J. Economics", "Laplace fits better", 0.0, None,
       "nats/obs", "validation",
       "growth standardised within size deciles; Laplace and normal fitted by maximum likelihood; "
       "mean log-likelihood per observation, Laplace minus normal"),
    _t("tent_kurtosis", "Excess kurtosis of standardised growth", STANLEY, "Laplace: 3 (normal: 0)", 0.0, None,
       "", "reference", "excess kurtosis of the standardised growth rates (a second statistic of the row above)"),
    _t("workers_old_over_young", "Older firms larger, but only ≈ 2x (workers, 35-39 / < 5 yrs)",
       "Hsieh & Klenow 2014, QJE (India, Mexico; US > 7)", "≈ 2", 1.5, 3.0, "x", "validation",
       "mean workers of firms aged 420-479 months over those aged under 60, yearly snapshots after month 0"),
    _t("grant_return_subsistence", "Return on an equipment grant, subsistence firms",
       "de Mel, McKenzie & Woodruff 2008, QJE", "≈ 0", None, 1.5, "%/month", "calibrated",
       "the de Mel et al. experiment inside the model (sim/grants.py): Rp 2.5 M of equipment to a "
       "random 5 % of firms at month 0, against the same firms in an exact counterfactual copy of the "
       "city (no office); extra operating profit per month over 12 months, over the grant"),
    _t("grant_return_growth", "Return on an equipment grant, capacity-constrained growth-oriented firms",
       "de Mel, McKenzie & Woodruff 2008, QJE", "≈ 5.7 % (3-8 %)", 3.0, 8.0, "%/month", "calibrated",
       "as above, over every firm that was growth-oriented and selling all it could make at the grant: "
       "all of them are treated besides the random 5 % (a census of about 0.05 % of firms, 39-56 a seed "
       "in the default city over seeds 1-20; the random share alone finds 0-5), so the others' figures hardly move "
       "(by 0.002 points on average); their number per seed is grant_n_growth in validation-seeds.csv"),
    _t("grant_return_frame", "Return on an equipment grant, all firms in de Mel et al.'s sample frame",
       "de Mel, McKenzie & Woodruff 2008, QJE", "≈ 4.6-5.7 % (men ≈ 9 %, women ≈ 0)",
       3.0, 8.0, "%/month", "reference",
       "as above, over the random 5 %'s firms with capital of at most Rp 15 M before the grant (de Mel "
       "et al.'s sample: invested capital of at most LKR 100,000, about US$1,000, excluding land and "
       "buildings; sim.grants.DE_MEL_CAPITAL), all types together as in their average; "
       "validation-seeds.csv splits it (grant_frame_growth, grant_frame_subsistence). Not "
       "like-for-like: the average mixes Sri Lankan owners of 2005, men earning about 9 % of the grant "
       "a month and women about 0 (de Mel et al. 2009, World Bank WPS 4746), where the model mixes "
       "its growth-oriented and subsistence owners (growth_share)"),
    _t("large_grant_workers", "A US$50,000 grant to growth-oriented firms: ten or more workers 3 years on",
       "McKenzie 2017, AER 107(8) (Nigeria's YouWiN! business-plan competition)", "over +20 pp",
       10.0, None, "pp", "reference",
       "a trial inside the model (sim/trials.py): Rp 705 M of equipment (about US$50,000, "
       "sim.trials.LARGE_GRANT) at month 0 to the growth-oriented firms of a random 5 %, against the "
       "same firms in an exact counterfactual copy of the city; the share of them open with at least "
       "ten workers at month 36, minus their twins' (validation-seeds.csv: large_grant_control, the "
       "twins' share). Reference, not counted: the winners were drawn from the semi-finalists of a "
       "national business-plan competition, a selection of ambitious entrepreneurs (many not yet in "
       "business) the model's growth-oriented firms only roughly stand for; pass: over half the "
       "published effect, a judgement"),
    _t("training_sales", "Business training: trained firms' sales in the first year",
       MCKENZIE_2021, "+5-10 % (meta-analysis)", 5.0, 10.0, "%", "validation",
       TRAINING + "the trained firms' sales in months 1-12 over their twins', minus 1 (the band is the "
       "meta-analysis's range; training_effect was set as 'small' from McKenzie & Woodruff 2014, not "
       "fitted to it)"),
    _t("training_profit", "Business training: trained firms' profits in the first year",
       MCKENZIE_2021, "+5-10 % (meta-analysis)", 5.0, 10.0, "%", "validation",
       TRAINING + "the trained firms' operating profit (margin x sales - fixed cost while open) in "
       "months 1-12 over their twins', minus 1"),
    _t("training_fade", "Business training: its effect fades within about two years",
       "McKenzie & Woodruff 2014, World Bank Research Observer; de Mel, McKenzie & Woodruff 2014, "
       "J. Development Economics", "mostly gone by year 2", None, 0.5, "x", "calibrated",
       TRAINING + "the effect on sales in months 19-24 over that in months 1-6 (training_fade was set "
       "from these sources; band: less than half left, a judgement)"),
    _t("export_share", "Exports' share of MSME sales",
       "KemenKopUKM 2019 data (via Katadata 2022): MSME exports Rp 339.2 T, MSME GDP Rp 9,580.8 T",
       "≈ 2.5 % (1.4-3.5 %)", 1.4, 3.5, "%", "calibrated",
       "model's monthly export share of MSME sales, mean over months 1 … end; target derived: "
       "exports are 3.54 % of MSME value added, and sales (gross output) are 1-2.5 times value added "
       "(assumption). The 14.5 % of the seed paper's Table 1 is MSMEs' share of national exports, "
       "which a model without large firms' exports cannot measure"),
    _t("workers_micro", "Workers per micro firm", KEMENKOP_2019 + ", derived", "≈ 1.7", *_within_25pct(1.7),
       "", "calibrated", BY_CLASS + " (band: within ±25 %, as issue 9 asks of this row; the other "
       "classes' rows: within a factor 1.5)"),
    _t("workers_small", "Workers per small firm", KEMENKOP_2019 + ", derived", "≈ 7.5", *_factor(7.5),
       "", "calibrated", BY_CLASS + " (band: within a factor 1.5)"),
    _t("workers_medium", "Workers per medium firm", KEMENKOP_2019 + ", derived", "≈ 60", *_factor(60),
       "", "calibrated", BY_CLASS + " (band: within a factor 1.5)"),
    _t("sales_micro", "Mean annual sales, micro", UMKM_VA, "≈ Rp 76.1 M", *_within_25pct(76.1), "Rp M",
       "calibrated",
       BY_CLASS + " (band: within ±25 % of Rp 76.1 M, as issue 9 asks of this row). The source's figure "
       "is value added per unit (the class's contribution to GDP over its units), and a firm's sales "
       "(gross output) exceed its value added by the materials and services it buys, so mean sales "
       "at or above Rp 76.1 M are the more consistent reading; the band's upper half holds them"),
    *(_t(f"sales_{name}", f"Mean annual sales, {name} (at least value added per firm)", UMKM_VA,
         f"≥ Rp {va:,} M (value added)", _sig(va / 1.5), None, "Rp M", "reference",
         BY_CLASS + "; the source's figure is value added per unit (the class's contribution to GDP over "
         "its units), and a firm's sales (gross output) exceed its value added by the materials and "
         "services it buys, so it bounds mean sales from below only (pass: above it divided by 1.5, "
         "the tolerance of the other class figures)" + implied + _NOT_LIKE_FOR_LIKE)
      for name, va, implied in (
          ("small", 1640, _BY_SALES_NOTE.format(band="Rp 0.3-2.5 bn", mean=_SMALL_BY_SALES)),
          ("medium", 29700, _BY_SALES_NOTE.format(band="Rp 2.5-50 bn", mean=_MEDIUM_BY_SALES)))),
    _t("firms_ratio", "Firms the city sustains, per firm of --firms", "KemenKopUKM census 2023 (≈ 90,000 in Medan)",
       "1", 0.9, 1.1, "x", "calibrated", "firms alive, mean over months 1 … end, over --firms"),
    _t("registered_share", "Share of firms in the office's registry", "Simdakop 38,343 of ≈ 90,000; Antara Sumut 2022",
       "42.6 %", 37.6, 47.6, "%", "calibrated", "model's registered share, mean over months 1 … end (band ±5 pp)"),
    _t("graduation", "Registered micro firms moving up a class in a year",
       "Tribun Medan 2023: 489 'upgraded' 2021-mid 2023 (licences, not class changes)", "≈ 0.5 %/yr",
       0.25, 1.0, "%/yr", "reference",
       "of registered micro firms (Law 20/2008) at a yearly snapshot, the share small or larger a year later; "
       "not like-for-like: Medan counts licence upgrades (NIB, halal, BPOM, IP)"),
    *(_t(key, f"Month 0 is the long-run state: {what} drift less than seed noise",
         "model design (docs/ODD.md, Initialisation)", "within ±1 SD", -1.0, 1.0, "SD", "validation",
         f"{how}: (mean over seeds at the end - at the start) / SD over seeds at the end (per seed: its "
         "change over that SD, whose mean and t interval are shown)", 24)
      for key, what, how in (
          ("drift_small_medium", "small + medium firms", "small + medium firms under PP 7/2021 (the default "
           "law, as studies count them), first and last yearly snapshot"),
          ("drift_small_medium_law20", "small + medium firms (Law 20/2008)", "small + medium firms under Law "
           "20/2008, first and last yearly snapshot"),
          ("drift_firms", "firms", "firms alive at month 0 and at the end"),
          ("drift_sales", "MSME sales", "MSME sales in the first and in the last 12 months"))),
    _t("served_30m", "Firms served by the office in 30 months, per 90,000 firms",
       "Antara Sumut 2022: ≈ 1,825-1,875 'binaan'", "≈ 1,850", *_factor(1850, 1.35), "firms", "reference",
       "sum of firms served over the last 30 months, scaled to 90,000 firms; not like-for-like: 'binaan' is "
       "the office's client list", 30),
)
TARGET_KEYS = tuple(t.key for t in TARGETS)
DRIFT = {  # row: (the per-seed figure at month 0, at the end); see ``summarise``
    "drift_small_medium": ("small_medium_start", "small_medium_end"),
    "drift_small_medium_law20": ("small_medium_law20_start", "small_medium_law20_end"),
    "drift_firms": ("firms_start", "firms_end"),
    "drift_sales": ("sales_first_year", "sales_last_year"),
}
AUX_KEYS = (*(k for pair in DRIFT.values() for k in pair),
            "grant_n_growth",  # firms behind grant_return_growth, per seed
            "grant_frame_growth", "grant_frame_subsistence", "grant_n_frame",
            "training_others_sales",  # untrained firms' sales in the trial's first year, %
            "large_grant_control")  # the twins' share with ten or more workers, %

TRIAL_FIGURES = {  # row or per-seed key: (trial, its figure); the trials run once a seed in ``run_seeds``
    "grant_return_subsistence": ("grant", "subsistence"),
    "grant_return_growth": ("grant", "growth_constrained"),
    "grant_n_growth": ("grant", "n_growth_constrained"),
    "grant_return_frame": ("grant", "frame"),
    "grant_frame_growth": ("grant", "frame_growth"),
    "grant_frame_subsistence": ("grant", "frame_subsistence"),
    "grant_n_frame": ("grant", "n_frame"),
    "training_sales": ("training", "sales"),
    "training_profit": ("training", "profit"),
    "training_fade": ("training", "fade"),
    "training_others_sales": ("training", "others_sales"),
    "large_grant_workers": ("large_grant", "effect_pp"),
    "large_grant_control": ("large_grant", "control"),
}

# figure data kept per seed (small arrays; the snapshots themselves are dropped after measuring)
Z_EDGES = np.linspace(-8.0, 8.0, 81)
SALES_GRID = np.logspace(5.5, 11.5, 121)


@dataclass
class SeedResult:
    seed: int
    values: dict[str, float]
    curves: dict[str, object] = field(default_factory=dict)


def _after_start(snapshots: dict[int, pd.DataFrame]) -> list[pd.DataFrame]:
    later = [snapshots[m] for m in sorted(snapshots) if m > 0]
    return later or [snapshots[min(snapshots)]]


def measure_snapshots(snapshots: dict[int, pd.DataFrame]) -> tuple[dict[str, float], dict[str, object]]:
    """The snapshot-based figures of one run (values in the units of ``TARGETS``) and its curves."""
    later = _after_start(snapshots)
    pooled = pd.concat(later, ignore_index=True)
    v: dict[str, float] = {}
    law20 = [ms.class_shares(s, LAW) for s in later]
    pp7 = [ms.class_shares(s, "pp7_2021") for s in later]
    workers = ms.by_class_means(pooled, LAW, "workers")
    sales = ms.by_class_means(pooled, LAW, "annual_sales")
    for name in ("micro", "small", "medium"):
        v[f"share_{name}"] = 100 * float(np.mean([s[name] for s in law20]))
        v[f"workers_{name}"] = workers[name]
        v[f"sales_{name}"] = sales[name] / 1e6
    pp7_micro = 100 * float(np.mean([s["micro"] for s in pp7]))
    v["micro_pp7_minus_law20"] = pp7_micro - v["share_micro"]
    selling = pooled[pooled["annual_sales"] > 0]
    hist = ms.size_histogram(pooled["annual_sales"].to_numpy())
    firms = ms.size_histogram(pooled["annual_sales"].to_numpy(), ids=pooled["firm_id"].to_numpy())
    v["missing_middle"] = float(ms.rises_above_mode(hist.to_numpy(), firms=firms.to_numpy()))
    v["workers_old_over_young"] = ms.workers_old_over_young(pooled)
    first, last = snapshots[min(snapshots)], snapshots[max(snapshots)]
    for when, snap in (("start", first), ("end", last)):
        for law, tag in (("pp7_2021", ""), (LAW, "_law20")):
            shares = ms.class_shares(snap, law)
            v[f"small_medium{tag}_{when}"] = (shares["small"] + shares["medium"]) * len(snap)

    growth = ms.yearly_growth(snapshots)
    young = ms.mean_growth(growth, *ms.YOUNG)
    old = ms.mean_growth(growth, ms.OLD)
    v["growth_young"], v["growth_old"], v["growth_young_minus_old"] = young, old, young - old
    v["growth_small_minus_large"] = ms.smallest_minus_largest(growth)
    deciles = ms.decile_table(growth) if len(growth) >= 100 else pd.DataFrame(
        columns=["mean_size", "mean_growth", "sd_growth", "firms"])
    v["volatility_slope"], intercept = ms.volatility_slope(deciles)
    z = ms.standardised_growth(growth) if len(growth) >= 100 else np.array([])
    tent = ms.tent_shape(z)
    v["tent_loglik"], v["tent_kurtosis"] = tent["loglik_diff"], tent["excess_kurtosis"]

    v["stock_death_5y"] = 100 * ms.stock_death(snapshots, 60)

    ups, at_risk = zip(*(ms.graduation_rate(snapshots[t], snapshots[t + 12], LAW)
                         for t in sorted(snapshots) if t + 12 in snapshots), strict=True) \
        if len(snapshots) > 1 else ((0,), (0,))
    v["graduation"] = 100 * sum(ups) / sum(at_risk) if sum(at_risk) else float("nan")

    last = snapshots[max(snapshots)]
    curves = dict(
        z_hist=np.histogram(z, bins=Z_EDGES)[0], z_n=int(z.size), tent=tent,
        deciles=deciles, intercept=intercept,
        ccdf=ms.ccdf(last.loc[last["annual_sales"] > 0, "annual_sales"].to_numpy(), SALES_GRID),
        log_size_by_age=ms.mean_by_age_years(selling, np.log10(selling["annual_sales"])),
        shares_law20={k: 100 * float(np.mean([s[k] for s in law20])) for k in ("micro", "small", "medium")},
        shares_pp7={k: 100 * float(np.mean([s[k] for s in pp7])) for k in ("micro", "small", "medium")},
        stock_survival=pd.Series({m - min(snapshots): 1.0 - ms.stock_death(snapshots, m - min(snapshots))
                                  for m in sorted(snapshots)}),
    )
    return v, curves


def measure_run(result) -> SeedResult:
    """Every figure of ``TARGETS`` for one run (``sim.run.RunResult`` with yearly snapshots)."""
    values, curves = measure_snapshots(result.snapshots)
    s = result.survival
    values["survival_24"] = 100 * ms.survival_at(s, 24)
    values["survival_48"] = 100 * ms.survival_at(s, 48)
    values["hazard_falls"] = 100 * (ms.annual_hazard(s, 1) - ms.annual_hazard(s, 5))
    m = result.monthly.iloc[1:]
    values["export_share"] = 100 * float(m["export_share"].mean())
    values["registered_share"] = 100 * float(m["registered_share"].mean())
    values["firms_ratio"] = float(m["firms"].mean()) / result.params.n_firms
    values["served_30m"] = (float(m["served"].iloc[-30:].sum()) * 90_000 / result.params.n_firms
                            if len(m) >= 30 else float("nan"))
    values["firms_start"], values["firms_end"] = float(result.monthly["firms"].iloc[0]), float(m["firms"].iloc[-1])
    values["sales_first_year"] = float(m["sales"].iloc[:12].sum())
    values["sales_last_year"] = float(m["sales"].iloc[-12:].sum())
    curves["survival"] = s
    return SeedResult(result.seed, {k: float(values.get(k, np.nan)) for k in TARGET_KEYS + AUX_KEYS}, curves)


def run_seeds(seeds, *, n_firms: int, years: int,
              progress: Callable[[int, int, int], None] | None = None) -> list[SeedResult]:
    """The default city (only ``n_firms`` changed) for ``years`` years on each seed, measured.
    Each run's snapshots are dropped once measured, so memory does not grow with the seeds."""
    from .run import run
    params = Parameters(n_firms=n_firms)
    months = 12 * years
    out = []
    for i, seed in enumerate(seeds):
        result = run(params, seed=seed, months=months, snapshot_months=range(0, months + 1, 12))
        measured = measure_run(result)
        found = {"grant": grants.summarise(grants.grant_experiment(params, seed)),
                 "training": trials.summarise_training(trials.training_experiment(params, seed)),
                 "large_grant": trials.large_grant_trial(params, seed)}
        for key, (trial, figure) in TRIAL_FIGURES.items():
            measured.values[key] = found[trial][figure]
        out.append(measured)
        if progress is not None:
            progress(i + 1, len(seeds), seed)
    return out


def per_seed_table(results: list[SeedResult]) -> pd.DataFrame:
    """One row per seed, one column per target key."""
    return pd.DataFrame([{"seed": r.seed, **r.values} for r in results])


def summarise(per_seed: pd.DataFrame, months: int) -> pd.DataFrame:
    """One row per target: the mean over seeds with its 95 % t interval, and the verdict.

    A drift row (``DRIFT``) needs every seed: each seed's change from start to end is divided by the
    SD over seeds of the figure at the end (the seed noise a study's comparison sees)."""
    per_seed = per_seed.copy()
    for key, (start, end) in DRIFT.items():
        if start in per_seed and end in per_seed:
            sd = per_seed[end].std(ddof=1) if len(per_seed) > 1 else np.nan
            per_seed[key] = (per_seed[end] - per_seed[start]) / sd if sd > 0 else np.nan
    rows = []
    for t in TARGETS:
        mean, lo, hi = ms.t_interval(per_seed[t.key]) if t.key in per_seed else (np.nan,) * 3
        rows.append(dict(key=t.key, pattern=t.pattern, source=t.source, target=t.target, rule=t.rule,
                         unit=t.unit, role=t.role, counts=t.counts, model=mean, ci_low=lo, ci_high=hi,
                         status=t.judge(mean, months), measure=t.measure))
    return pd.DataFrame(rows)


def reference_misses(table: pd.DataFrame) -> list[str]:
    """The reference rows whose figure the model misses: not counted, but not hidden either."""
    return table.loc[~table["counts"] & (table["status"] == "fail"), "pattern"].tolist()


def count_line(table: pd.DataFrame) -> str:
    """'k of n counted rows pass'."""
    counted = table[table["counts"]]
    return f"{int((counted['status'] == 'pass').sum())} of {len(counted)} counted rows pass"


def summary(table: pd.DataFrame) -> str:
    """How many counted rows pass, and which reference rows miss their figure: a run that exits 0
    still says which published figures the model does not reach."""
    out = count_line(table)
    missed = reference_misses(table)
    if missed:
        out += (f"; {len(missed)} reference row{'s' if len(missed) > 1 else ''} (not counted) "
                f"miss{'' if len(missed) > 1 else 'es'} the published figure: " + "; ".join(missed))
    return out


def exit_status(table: pd.DataFrame) -> int:
    """0 when every counted row passes, else 1 (a counted row that is n/a does not pass)."""
    counted = table[table["counts"]]
    return 0 if (counted["status"] == "pass").all() else 1


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _status(row) -> str:
    s = row["status"].upper() if row["counts"] else f"({row['status']})"
    return s


def text_table(table: pd.DataFrame) -> list[list[str]]:
    """Rows of strings: pattern, source, target, rule, model, 95 % interval, role, status."""
    out = []
    for _, r in table.iterrows():
        ci = (f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]" if np.isfinite(r["ci_low"]) else "n/a")
        unit = f" {r['unit']}" if r["unit"] else ""
        out.append([r["pattern"], r["source"], r["target"], r["rule"], _fmt(r["model"]) + unit, ci,
                    r["role"], _status(r)])
    return out


HEADER = ["pattern", "source", "target", "pass rule (model mean)", "model (mean)", "95 % interval",
          "role", "status"]


def markdown_table(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in text_table(table)]
    return "\n".join(lines)


def terminal_table(table: pd.DataFrame) -> str:
    """A plain-text table for the terminal (the source column is left to validation.md)."""
    cols = [0, 2, 3, 4, 5, 6, 7]
    rows = [[HEADER[i] for i in cols]] + [[row[i] for i in cols] for row in text_table(table)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
    widths[0] = min(widths[0], 62)
    fmt = lambda r: "  ".join(c[:widths[i]].ljust(widths[i]) for i, c in enumerate(r)).rstrip()
    return "\n".join([fmt(rows[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows[1:]])


def report(table: pd.DataFrame, *, seeds, n_firms: int, years: int, version: str, seconds: float) -> str:
    """validation.md: the table, the set-up, and how each figure is measured."""
    lines = [
        "# Validation of the default city",
        "",
        f"msme-sim {version}; default parameters with n_firms = {n_firms:,}; {years} years; "
        f"seeds {', '.join(str(s) for s in seeds)} ({len(seeds)} runs, {seconds:.0f} s); "
        "firm snapshots every 12 months.",
        "",
        f"**{summary(table)}.** Model = mean over seeds; 95 % interval = "
        "t interval of that mean over seeds. A row passes when the mean satisfies its rule; a counted row "
        "that cannot be measured in a run this long is n/a and does not pass. Role: *validation* = a "
        "pattern no default was chosen for; *calibrated* = the defaults were chosen with this figure in "
        "view (docs/calibration.md), so a pass is no evidence of validity, but a miss counts; "
        "*reference* = not like-for-like or a second statistic of a counted row, shown in brackets, "
        "never counted.",
        "",
        markdown_table(table),
        "",
        "All seeds start from the same cached burn-in (`burn_in_seed`), resampled by each seed: the "
        "intervals show run-to-run variation, not variation between burn-ins.",
        "",
        "## How each figure is measured",
        "",
    ]
    lines += [f"- **{r['pattern']}** ({r['source']}): {r['measure']}." for _, r in table.iterrows()]
    return "\n".join(lines) + "\n"
