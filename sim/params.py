"""Every number the model uses: one declaration each, with unit, range, role and source.

A parameter's *role* says who sets it:
- ``uncertainty``: a claim about the world (behaviour, markets), to be swept in sensitivity studies;
- ``lever``: what policy chooses (filled in by the office, issue 3);
- ``setting``: how a run is set up (scale, classification law, burn-in), not a claim about the world.

``Parameters`` is frozen and keyword-only; it validates itself on construction and raises
``ParameterError`` (a ``ValueError``) naming the parameter, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from .files import short

SIZE_LAWS = ("pp7_2021", "law20_2008")
TARGETING_RULES = ("first_come", "random", "neediest", "highest_potential", "diagnosis")
INSTRUMENTS = ("equipment", "training", "market_access", "credit")
MIX_NAMES = tuple(f"mix_{i}" for i in INSTRUMENTS)


class ParameterError(ValueError):
    """A parameter value outside its domain, of the wrong type, or an unknown parameter name."""


def _p(default, unit, low, high, role, source, doc, *, integer=False, choices=None):
    meta = dict(unit=unit, low=low, high=high, role=role, source=source, doc=doc,
                integer=integer, choices=choices, default=default)
    return field(default=default, metadata=meta)


@dataclass(frozen=True, kw_only=True)
class Parameters:
    # --- city and run set-up ----------------------------------------------------------------
    n_firms: int = _p(
        90_000, "firms", 1, 10_000_000, "setting",
        "KemenKopUKM MSME census 2023 (~90,000 in Medan)",
        "City scale: city demand and the entrant pool are scaled to this many firms; the default "
        "calibration sustains about this many.", integer=True)
    n_districts: int = _p(
        21, "sub-districts", 1, 100, "setting", "Medan City has 21 kecamatan",
        "Number of sub-districts (kecamatan); firms are spread evenly (assumption).", integer=True)
    size_law: str = _p(
        "pp7_2021", "-", None, None, "setting", "PP 7/2021 (default), Law 20/2008",
        "Which law's size-class thresholds classify firms.", choices=SIZE_LAWS)
    burn_in_months: int = _p(
        2400, "months", 0, 6000, "setting",
        "assumption (checked by msme-sim validate: the city's composition drifts by less than seed "
        "noise over 10 years)",
        "Length of the cached burn-in that brings the city to its long-run state (the start pools "
        "moments of its second half: burn_in_slices).", integer=True)
    burn_in_slices: int = _p(
        10, "slices", 1, 100, "setting",
        "assumption: in a 40,000-firm burn-in (the default until 2026-11-29) the small firms number "
        "29-42 at moments ten years apart (decade means 35-53 over 250 years), so one moment of it is "
        "a poor start",
        "Moments of the burn-in, evenly spaced over its second half and ending with its last month "
        "(every burn_in_months // (2 * burn_in_slices) months: 120 at the defaults, about the time "
        "the small-firm count takes to forget its level), pooled into the stationary population "
        "the runs start from: every firm above micro, weighted 1 / burn_in_slices, and a keyed "
        "1 / burn_in_slices share of the micro firms.", integer=True)
    burn_in_chains: int = _p(
        4, "chains", 1, 16, "setting",
        "assumption (checked by msme-sim validate, as burn_in_months)",
        "Independent burn-ins (each of min(n_firms, burn_in_firms) firms, from its own seed derived "
        "from burn_in_seed) whose pooled moments together make the stationary population, each with "
        "weight 1 / burn_in_chains: the start's upper tail is then the average of that many cities "
        "rather than the luck of one. Costs that many times the burn-in's time, once per parameter set.",
        integer=True)
    burn_in_firms: int = _p(
        90_000, "firms", 100, 1_000_000, "setting",
        "assumption (checked by msme-sim validate: the class composition depends on the city's size, "
        "so the default city burns in whole; docs/ODD.md §5)",
        "Largest population simulated during burn-in; a larger city is resampled from it.",
        integer=True)
    burn_in_seed: int = _p(
        20_230_901, "-", 0, 2**63 - 1, "setting", "-",
        "Seed of the burn-in; recorded with every result.", integer=True)

    # --- production --------------------------------------------------------------------------
    alpha: float = _p(
        0.475, "1", 0.1, 0.99, "uncertainty",
        "fitted jointly with the capital and money parameters (docs/calibration.md, 2026-11-29): de "
        "Mel et al. 2008's returns (~5.7 %/month) and the class figures' high sales per rupiah of "
        "assets together ask for a low capital elasticity (0.8 until then)",
        "Output elasticity of capital: capacity = output_at_ref * ability * shock * (K/capital_ref)^alpha.")
    capital_ref: float = _p(
        10e6, "Rp", 1e5, 1e10, "setting", "-",
        "Reference capital at which a firm of ability 1 has capacity output_at_ref.")
    output_at_ref: float = _p(
        4.39e7, "Rp/month", 1e4, 1e9, "uncertainty",
        "assumption, calibrated towards mean sales of micro firms of Rp 76.1 M/yr ± 25 % (UMKM Indonesia "
        "2020: value added per micro unit; issue 9's band)",
        "Monthly output capacity of a firm with ability 1 and capital capital_ref.")
    shock_sd: float = _p(
        0.4294, "log points", 0.0, 2.0, "uncertainty", "assumption",
        "Long-run standard deviation of a one-line firm's persistent productivity shock (its level "
        "has mean one); larger firms' shocks are smaller (see common_shock_share).")
    shock_persistence: float = _p(
        0.98, "1 (per month)", 0.0, 0.9999, "uncertainty",
        "Foster, Haltiwanger & Syverson 2008; Asker, Collard-Wexler & De Loecker 2014 (plant "
        "productivity: annual persistence ~0.75-0.9); 0.98/month = 0.78/yr",
        "Monthly autocorrelation of the log productivity shock (AR(1)).")
    growth_share: float = _p(
        0.166, "share", 0.0, 1.0, "uncertainty",
        "assumption; de Mel et al. 2008 find near-zero returns for subsistence firms",
        "Share of entrants that are growth-oriented (the rest are subsistence firms).")
    ability_growth_median: float = _p(
        1.0, "1", 0.01, 100.0, "uncertainty", "assumption",
        "Median ability of growth-oriented entrepreneurs.")
    ability_subsistence_median: float = _p(
        0.6, "1", 0.01, 100.0, "uncertainty", "assumption",
        "Median ability of subsistence entrepreneurs.")
    ability_sd: float = _p(
        0.3, "log points", 0.0, 3.0, "uncertainty", "assumption",
        "Dispersion of ability around each type's median (lognormal).")

    # --- market ------------------------------------------------------------------------------
    demand_per_firm: float = _p(
        8.687e6, "Rp/month per firm of n_firms", 1e4, 1e10, "uncertainty",
        "calibrated so the default city sustains about n_firms firms (docs/calibration.md)",
        "City demand for MSME output: n_firms * demand_per_firm per month.")
    demand_growth: float = _p(
        0.0, "1/yr", -0.5, 0.5, "uncertainty", "assumption (real demand flat, so the city is stationary)",
        "Annual growth rate of city demand.")
    quality_weight: float = _p(
        1.0, "1", 0.0, 5.0, "uncertainty", "assumption",
        "Elasticity of a firm's demand share to its product quality.")
    access_weight: float = _p(
        1.0, "1", 0.0, 5.0, "uncertainty", "assumption",
        "Elasticity of a firm's demand share to its market access.")
    scale_weight: float = _p(
        0.5, "1", 0.0, 1.0, "uncertainty", "assumption",
        "Elasticity of a growth-oriented firm's demand share to its capacity (reach grows less than "
        "proportionally).")
    scale_weight_subsistence: float = _p(
        0.0, "1", 0.0, 1.0, "uncertainty",
        "assumption: subsistence firms serve a fixed local clientele (improves the size distribution)",
        "Elasticity of a subsistence firm's demand share to its capacity.")
    spillover: float = _p(
        0.7996, "share", 0.0, 1.0, "uncertainty",
        "assumption; without it a firm whose pull on customers far exceeds its capacity turns away "
        "demand that no MSME then serves",
        "Share of the demand a full firm turns away that goes to firms with spare capacity (customers "
        "try another seller); the rest is lost to large firms, imports or not bought.")
    export_access_threshold: float = _p(
        0.6, "access (0-1)", 0.0, 1.0, "uncertainty", "assumption",
        "Market access at which a firm brings half its pull to the export market (the middle of "
        "export_access_spread; with a spread of 0, the access a firm needs to export at all).")
    export_access_spread: float = _p(
        0.2, "access (0-1)", 0.0, 1.0, "uncertainty",
        "assumption; Das, Roberts & Tybout 2007 and Eaton, Kortum & Kramarz 2011 (what it takes to "
        "export differs between firms and markets, so exporting rises gradually with a firm's "
        "characteristics rather than at one cut-off)",
        "Width of the band of market access over which a firm's pull on the export market rises "
        "in a straight line from none to its full domestic pull (centred on "
        "export_access_threshold). 0: a hard threshold.")
    export_demand_ratio: float = _p(
        0.04289, "share of city demand", 0.0, 10.0, "uncertainty",
        "calibrated to exports' share of MSME sales, 1.4-3.5 % (MSME exports Rp 339.2 T = 3.54 % of "
        "MSME value added, KemenKopUKM 2019 data; not the 14.5 % MSME share of national exports of "
        "the seed paper's Table 1)",
        "Size of the export market open to Medan's MSMEs, relative to city demand.")

    # --- quality and access ----------------------------------------------------------------
    quality_drift: float = _p(
        -0.004631, "log points/month", -0.5, 0.5, "uncertainty", "assumption (products age as rivals improve)",
        "Mean monthly change in log product quality.")
    quality_persistence: float = _p(
        0.9973, "1 (per month)", 0.0, 1.0, "uncertainty",
        "assumption; imitation erodes a leader's advantage (Klette & Kortum 2004; Aghion & Howitt "
        "1992); without it one firm's quality can wander far enough to take the whole city",
        "Monthly persistence of log product quality at or below 0, the typical entrant's (an AR(1) "
        "toward it: laggards catch up); above 0 see leader_imitation. 1: a random walk.")
    leader_imitation: float = _p(
        0.3295, "1", 0.0, 1.0, "uncertainty",
        "assumption; laggards catch up by learning from better firms (Lucas & Moll 2014; Luttmer "
        "2007), while how fast a leader is copied is open (its patents, know-how and customers "
        "protect it)",
        "How fast a leader's quality gap erodes, as a share of how fast a laggard's does: above 0 "
        "(the typical entrant's quality) log quality reverts with persistence "
        "1 - leader_imitation * (1 - quality_persistence). 1: leaders and laggards alike; 0: "
        "leaders are not pulled back.")
    quality_sd: float = _p(
        0.1353, "log points/month", 0.0, 1.0, "uncertainty", "assumption",
        "Standard deviation of the monthly change in log product quality of a one-line firm.")
    event_rate: float = _p(
        0.0739, "1/month", 0.0, 1.0, "uncertainty",
        "assumption; Bottazzi & Secchi 2006 (growth as the capture of lumpy business opportunities)",
        "Monthly chance of a product event: a new product or large order that takes off, or the loss "
        "of a main customer or product.")
    event_sd: float = _p(
        0.18, "log points", 0.0, 3.0, "uncertainty", "assumption",
        "Standard deviation of a product event's effect on log quality (a one-line firm; scaled like "
        "the other shocks for larger firms).")
    entrant_quality_sd: float = _p(
        0.25, "log points", 0.0, 3.0, "uncertainty", "assumption",
        "Dispersion of entrants' log quality around 0.")
    entrant_reach: float = _p(
        -0.6967, "log points", -10.0, 0.0, "uncertainty",
        "assumption, of the order of Foster, Haltiwanger & Syverson 2016 (young plants' demand far "
        "below incumbents' at equal prices; closes over years)",
        "Log of an entrant's customer reach relative to a mature firm's (0: as many customers as its "
        "quality and access would bring a mature firm).")
    reach_build: float = _p(
        0.04373, "1/month", 0.0, 1.0, "uncertainty",
        "assumption; Foster, Haltiwanger & Syverson 2016, Arkolakis 2016 (customer bases are built "
        "slowly); half-life of the gap ~2 years",
        "Monthly share of the remaining gap in log customer reach that a firm closes.")
    sales_per_line: float = _p(
        1.706e7, "Rp/yr", 1e6, 1e12, "uncertainty",
        "assumption (one product, outlet or main customer of a small firm); Sutton 2002, "
        "Buldyrev et al. 2007 (firms as portfolios of independent activities); the fitted value "
        "doubled by hand with the money scale on 2026-11-29 and not refitted since "
        "(docs/calibration.md)",
        "Annual sales per independent line of business; a firm has max(1, annual sales / this) lines.")
    common_shock_share: float = _p(
        0.2369, "share of variance", 0.0, 1.0, "uncertainty",
        "assumption; Sutton 2002, Buldyrev et al. 2007",
        "Share of a one-line firm's shock variance common to all of a firm's lines; the rest averages "
        "out across lines, so shock SD = sd * sqrt(share + (1 - share) / lines).")
    volatility_dispersion: float = _p(
        1.192, "1 (variance of the variance factor)", 0.0, 10.0, "uncertainty",
        "assumption; Bloom et al. 2018, Econometrica (firm-level uncertainty varies over time); "
        "Davis, Haltiwanger, Jarmin & Miranda 2007 (volatility differs widely across firms); "
        "Stanley et al. 1996 (tent-shaped growth rates)",
        "How much a firm's volatility differs between spells: in each spell the variance of all its "
        "shocks is multiplied by a Gamma factor of mean 1 and variance d (0: every spell alike; 1: "
        "an exponential factor, so the spell-to-spell mixture of normal shocks is a Laplace).")
    volatility_spell: float = _p(
        24.79, "months", 1.0, 1200.0, "uncertainty",
        "assumption; Bloom et al. 2018 (high-uncertainty regimes last a few years)",
        "Mean length of a volatility spell (calm or turbulent times in a firm's business); spells "
        "end at random (a geometric length), and a new factor is drawn.")
    access_alpha: float = _p(
        2.0, "1", 0.01, 100.0, "uncertainty", "assumption",
        "Beta-distribution shape a of entrants' market access.")
    access_beta: float = _p(
        5.0, "1", 0.01, 100.0, "uncertainty", "assumption",
        "Beta-distribution shape b of entrants' market access (mean a/(a+b)).")

    # --- costs and finance ------------------------------------------------------------------
    margin: float = _p(
        0.25, "share of sales", 0.0, 1.0, "uncertainty", "assumption",
        "Gross margin after materials and wages.")
    fixed_cost: float = _p(
        4.982e5, "Rp/month", 0.0, 1e9, "uncertainty", "assumption",
        "Monthly fixed cost (rent, fees, utilities).")
    depreciation: float = _p(
        0.01, "1/month", 0.0, 1.0, "uncertainty", "assumption (~11 %/yr)",
        "Monthly depreciation rate of capital; replacing it is a cost paid from profit before any "
        "reinvestment or withdrawal.")
    reinvest_growth: float = _p(
        0.5, "share of profit", 0.0, 1.0, "uncertainty", "assumption",
        "Share of a positive profit that growth-oriented firms reinvest.")
    invest_utilisation: float = _p(
        0.9, "share of capacity", 0.0, 1.0, "uncertainty",
        "assumption (accelerator: firms add capacity only when demand uses what they have)",
        "A firm reinvests profit only in months when it sold at least this share of its capacity.")
    reinvest_subsistence: float = _p(
        0.01823, "share of profit", 0.0, 1.0, "uncertainty",
        "assumption; subsistence profit goes to household needs (de Mel et al. 2008)",
        "Share of a positive profit that subsistence firms reinvest.")

    # --- entry and exit ---------------------------------------------------------------------
    entry_rate: float = _p(
        0.009398, "entrants/month per firm of n_firms", 0.0, 1.0, "uncertainty",
        "assumption; ~3 %/yr NIB registrations (OSS-RBA 2022) is a lower bound",
        "Expected entrants per month, relative to n_firms (Poisson).")
    entrant_capital_median: float = _p(
        1.439e7, "Rp", 1e4, 1e10, "uncertainty", "assumption (BPUM grant Rp 2.4 M as a scale)",
        "Median start-up capital of an entrant.")
    entrant_capital_sd: float = _p(
        0.8, "log points", 0.0, 3.0, "uncertainty", "assumption",
        "Dispersion of entrants' start-up capital (lognormal).")
    exit_capital: float = _p(
        0.5e6, "Rp", 0.0, 1e9, "uncertainty", "assumption",
        "A firm whose capital falls below this closes (capital exhausted).")
    exit_profit: float = _p(
        1.783e5, "Rp/month", -1e9, 1e9, "uncertainty",
        "assumption (Hopenhayn 1992: firms exit when staying is worth less than leaving; 0 = an owner "
        "closes a business that has not covered its costs over a year); the fitted value doubled by "
        "hand with the money scale on 2026-11-29 and not refitted since (docs/calibration.md)",
        "On each anniversary of entry a firm closes when its operating profit over the last 12 "
        "months (margin on sales less fixed costs) averages below this per month.")
    review_close: float = _p(
        0.314, "probability", 0.0, 1.0, "uncertainty",
        "assumption; Gimeno, Folta, Cooper & Woo 1997, ASQ (owners differ in how long they keep an "
        "underperforming firm); Fichman & Levinthal 1991 (a honeymoon before resources run out)",
        "Chance that an owner closes the firm after a year that failed the yearly review (the rest "
        "carry on, and face the review again next year or run out of capital).")
    exit_hazard: float = _p(
        0.001456, "1/month", 0.0, 1.0, "uncertainty", "assumption (owner illness, moves)",
        "Monthly probability of closing for reasons outside the business.")
    household_hazard: float = _p(
        0.00305, "1/month", 0.0, 1.0, "uncertainty",
        "McKenzie & Paffhausen 2019, REStat (small firms in developing countries die at 8.2-8.3 %/yr, "
        "smaller and less profitable ones more often; the owner's household is one cause); "
        "calibrated at the default city's size (docs/calibration.md)",
        "Monthly probability that an own-account firm (fewer than two workers at its annualised "
        "sales: no paid employee) closes for its owner's household reasons, on top of exit_hazard; a "
        "firm with employees carries on through them.")

    # --- employment and registration ----------------------------------------------------------
    workers_at_ref: float = _p(
        1.406, "workers", 1.0, 100.0, "uncertainty",
        "KemenKopUKM 2019 (workers per micro, small, medium firm ~1.7, 7.5, 60: employment share over "
        "count share)",
        "Workers of a firm with annual sales workers_sales_ref.")
    workers_sales_ref: float = _p(
        76.1e6, "Rp/yr", 1e5, 1e12, "setting",
        "UMKM Indonesia 2020 (value added per micro unit, used as a sales scale: docs/calibration.md, "
        "known gaps, Money scale)",
        "Annual sales at which a firm has workers_at_ref workers.")
    workers_elasticity: float = _p(
        0.883, "1", 0.0, 1.5, "uncertainty",
        "KemenKopUKM 2019 (workers per micro, small, medium firm ~1.7, 7.5, 60), given the model's "
        "sales by class; below 1 as labour productivity rises with size (OECD 2018, SME and "
        "Entrepreneurship Policy in Indonesia; Bottazzi & Grazzi 2013)",
        "Elasticity of workers to annual sales (workers >= 1).")

    # --- the office (levers: what policy chooses) ------------------------------------------
    office: bool = _p(
        True, "-", None, None, "lever", "-",
        "Whether the office exists at all (False: no outreach, no services).")
    office_budget: float = _p(
        3.0e9, "Rp/yr", 0.0, 1e13, "lever",
        "assumption (~600-1,000 assisted firms a year; Medan's ~1,850 'binaan' clients, Antara Sumut 2022)",
        "Annual budget for services to firms; resets each fiscal year (every 12 months).")
    office_scale_firms: int = _p(
        90_000, "firms", 1, 10_000_000, "setting", "KemenKopUKM census 2023 (Medan)",
        "The city size office_budget and office_throughput are meant for; a simulated city of n_firms "
        "gets them in proportion (so a 5,000-firm study city has a Medan-like office in miniature).",
        integer=True)
    office_throughput: float = _p(
        150.0, "cases/month", 0.0, 1e5, "lever", "assumption",
        "Cases the staff can complete a month at institutional capacity 1.")
    office_capacity: float = _p(
        0.6, "0-1", 0.0, 1.0, "lever",
        "assumption; seed paper §3.3 (capacity 'a little less capable' after austerity)",
        "Institutional capacity (procedures, relationships, memory): scales throughput and how well "
        "services work.")
    coordination: float = _p(
        0.4, "0-1", 0.0, 1.0, "lever", "assumption; seed paper §3.2 (coordination with sub-districts "
        "should be strengthened)",
        "Coordination with sub-districts and villages: scales outreach and how well the office sees firms.")
    coordination_recovery: float = _p(
        0.03, "1/month", 0.0, 1.0, "uncertainty", "assumption (~2 years to rebuild, White & Dunleavy 2010)",
        "Monthly share of the gap to its target that coordination recovers after a reset.")
    data_integration: float = _p(
        0.0, "0-1", 0.0, 1.0, "lever", "seed paper §3.1 (no integrated cross-sector database)",
        "0: no shared database; 1: an integrated cross-sector database.")
    outreach: float = _p(
        0.02, "1/month", 0.0, 1.0, "lever",
        "assumption, of the order of Dong & Sinning 2024 (nudges: 3.4 % clicks)",
        "Monthly chance an unaware firm hears of the office through socialisation, at full capacity "
        "and coordination.")
    data_outreach_gain: float = _p(
        0.26, "share", 0.0, 5.0, "uncertainty",
        "Banerjee, Hanna, Kyle, Olken & Sumarto 2018 (mailing eligibility information: +26 %)",
        "Extra outreach from contacting firms found in an integrated database (times data_integration).")
    data_registration_gain: float = _p(
        1.0, "share", 0.0, 10.0, "uncertainty", "assumption (firms known to OSS/NIB need not register twice)",
        "Extra registration from an integrated database (times data_integration).")
    word_of_mouth: float = _p(
        0.03, "1/month", 0.0, 1.0, "uncertainty", "assumption",
        "Monthly chance an unaware firm hears of the office, times the aware share of its sub-district.")
    service_clarity: float = _p(
        0.3, "0-1", 0.0, 1.0, "lever", "seed paper §4 (services not clearly defined and published)",
        "How clearly services are defined and published: scales applications (apply_rate).")
    register_rate: float = _p(
        0.007875, "1/month", 0.0, 1.0, "uncertainty", "calibrated: keeps the registry near 42.6 % of firms "
        "(Simdakop 38,343 of ~90,000, Antara Sumut 2022)",
        "Monthly chance an aware firm registers (through the office or its sub-district enumerators).")
    apply_rate: float = _p(
        0.012, "1/month", 0.0, 1.0, "uncertainty",
        "assumption; seed paper §3.2 ('hundreds of business actors' queue)",
        "Monthly chance a registered firm applies for help, at service clarity 1.")
    queue_dropout: float = _p(
        0.08, "1/month", 0.0, 1.0, "uncertainty", "assumption (an applicant waits about a year at most)",
        "Monthly chance a waiting applicant gives up.")
    reapply_months: int = _p(
        24, "months", 0, 600, "lever", "assumption",
        "Months after being served before a firm may apply again.", integer=True)
    targeting: str = _p(
        "first_come", "-", None, None, "lever", "seed paper (today's practice: first come)",
        "Whom the office serves first.", choices=TARGETING_RULES)
    mix_equipment: float = _p(
        0.55, "share of budget", 0.0, 1.0, "lever", "seed paper §3.2 ('providing the equipment they need')",
        "Budget share for equipment grants.")
    mix_training: float = _p(
        0.2, "share of budget", 0.0, 1.0, "lever", "assumption", "Budget share for training/coaching.")
    mix_market_access: float = _p(
        0.15, "share of budget", 0.0, 1.0, "lever", "assumption",
        "Budget share for data and market access services.")
    mix_credit: float = _p(
        0.1, "share of budget", 0.0, 1.0, "lever", "assumption", "Budget share for credit (KUR) facilitation.")
    monitoring_evaluation: bool = _p(
        False, "-", None, None, "lever", "seed paper §3.1 (no monitoring-and-evaluation system)",
        "Shift next year's mix toward the instruments with most graduations per rupiah.")
    me_learning_rate: float = _p(
        0.5, "share", 0.0, 1.0, "lever", "assumption",
        "How far each year's monitoring moves the mix toward the best-scoring instruments.")
    me_credit_months: int = _p(
        24, "months", 1, 120, "lever", "assumption (training effects fade within ~2 years)",
        "Monitoring credits a graduation to a firm's last instrument if it was served this recently.",
        integer=True)
    diagnosis_error: float = _p(
        0.6, "probability", 0.0, 1.0, "uncertainty", "assumption",
        "Chance the office misreads a firm's binding constraint with no data integration and no "
        "coordination: diagnosis_error * (1 - data_integration) * (1 - w * coordination).")
    diagnosis_coordination_weight: float = _p(
        0.5, "share", 0.0, 1.0, "uncertainty", "assumption",
        "How much full coordination with sub-districts cuts diagnosis errors (the rest depends on "
        "data integration).")
    potential_noise: float = _p(
        1.0, "log points", 0.0, 5.0, "uncertainty", "assumption",
        "Error in the office's view of a firm's potential, with no data integration.")

    # --- instruments ---------------------------------------------------------------------------
    grant_size: float = _p(
        5.0e6, "Rp", 0.0, 1e10, "lever",
        "assumption; scale of de Mel et al. 2008 (US$100-200) and BPUM (Rp 2.4 M)",
        "Equipment grant (in kind), added to productive capital at full institutional capacity.")
    training_effect: float = _p(
        0.1, "log points of quality", 0.0, 2.0, "uncertainty",
        "assumption; small, McKenzie & Woodruff 2014 (few significant effects)",
        "Quality gain of a firm's first training at full capacity; each later one gives less.")
    training_diminishing: float = _p(
        0.5, "1", 0.0, 10.0, "uncertainty", "assumption",
        "The n-th training's gain is training_effect * exp(-training_diminishing * (n - 1)).")
    training_fade: float = _p(
        0.06, "1/month", 0.0, 1.0, "uncertainty",
        "McKenzie & Woodruff 2014, de Mel et al. 2014 (effects fade within ~2 years); half-life ~11 months",
        "Monthly decay of the training effect.")
    training_cost: float = _p(
        3.0e6, "Rp/firm", 0.0, 1e10, "lever", "assumption", "Cost of training one firm.")
    access_gain: float = _p(
        0.15, "share of the gap to 1", 0.0, 1.0, "uncertainty", "assumption",
        "Market access gained from data and market access services (e-catalogue, fairs, export help).")
    access_fade: float = _p(
        0.02, "1/month", 0.0, 1.0, "uncertainty", "assumption",
        "Monthly decay of gained market access back toward the firm's own level.")
    market_access_cost: float = _p(
        3.0e6, "Rp/firm", 0.0, 1e10, "lever", "assumption", "Cost of market access services for one firm.")
    loan_size: float = _p(
        20e6, "Rp", 0.0, 5e8, "lever", "KUR micro loans (Permenko 1/2023)",
        "Loan the office facilitates (added to capital, repaid from the business).")
    loan_rate: float = _p(
        0.06, "1/yr", 0.0, 1.0, "uncertainty", "Permenko 1/2023 (KUR micro, first loan 6 %)",
        "Annual interest rate of the facilitated loan.")
    loan_term: int = _p(
        24, "months", 1, 120, "lever", "assumption (typical KUR micro term)",
        "Months over which the loan is repaid in equal instalments.", integer=True)
    credit_cost: float = _p(
        3.0e6, "Rp/firm", 0.0, 1e10, "lever", "assumption (facilitation, appraisal, monitoring)",
        "Office cost of facilitating one loan.")
    service_floor: float = _p(
        0.5, "share", 0.0, 1.0, "uncertainty", "assumption",
        "Share of a service's full effect delivered by an office at institutional capacity 0 "
        "(capacity 1 delivers all of it); equipment, training and market access.")
    grant_overhead: float = _p(
        0.1, "share", 0.0, 5.0, "lever", "assumption",
        "Procurement and delivery cost of an equipment grant, as a share of its value.")

    def __post_init__(self):
        for f in fields(self):
            value = _plain(getattr(self, f.name), f.metadata)
            _check(f.name, value, f.metadata)
            object.__setattr__(self, f.name, value)
        mix = self.instrument_mix()
        if abs(mix.sum() - 1.0) > 1e-6:
            raise ParameterError(
                f"parameters {', '.join(f'{k}={v:g}' for k, v in zip(MIX_NAMES, mix, strict=True))} "
                f"sum to {mix.sum():g}; the instrument mix must sum to 1")

    # --------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, values: dict[str, Any] | None = None, *, where: str = "") -> Parameters:
        """Build from a mapping, refusing unknown names with the nearest valid one."""
        values = dict(values or {})
        names = [f.name for f in fields(cls)]
        for key in values:
            if key not in names:
                near = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                raise ParameterError(f"{where}unknown parameter {short(key)}{hint}")
        return cls(**values)

    def instrument_mix(self):
        import numpy as np
        return np.array([getattr(self, n) for n in MIX_NAMES])

    def replace(self, **changes) -> Parameters:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _plain(value, meta):
    """numpy scalars as Python numbers (tools such as SALib and EMA Workbench pass them), and a
    whole-number float as an int for an integer parameter (``n_firms = 1000.0``); anything else
    unchanged, for ``_check`` to judge."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    if (meta["integer"] and isinstance(value, float) and not isinstance(value, bool)
            and math.isfinite(value) and value.is_integer()):
        value = int(value)
    return value


def _check(name: str, value, meta) -> None:
    where = f"parameter '{name}' = {short(value)}"
    if isinstance(meta["default"], bool):
        if not isinstance(value, bool):
            raise ParameterError(f"{where} must be true or false")
        return
    if meta["choices"] is not None:
        if value not in meta["choices"]:
            raise ParameterError(f"{where} is not allowed; choose one of {', '.join(meta['choices'])}")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "an integer" if meta["integer"] else "a number"
        raise ParameterError(f"{where} must be {kind} ({meta['unit']})")
    if isinstance(value, float):  # (an int may have more digits than a float can hold)
        if math.isnan(value) or math.isinf(value):
            raise ParameterError(f"{where} must be a finite number in [{meta['low']}, {meta['high']}]")
        if meta["integer"] and not value.is_integer():
            raise ParameterError(f"{where} must be a whole number ({meta['unit']})")
    if not meta["low"] <= value <= meta["high"]:
        raise ParameterError(
            f"{where} is outside its allowed range [{meta['low']:g}, {meta['high']:g}] "
            f"({meta['unit']}): {meta['doc']}")


CALIBRATED = ("volatility_dispersion", "volatility_spell", "quality_persistence", "leader_imitation",
              "review_close", "spillover",
              "entrant_reach", "reach_build", "quality_drift", "quality_sd", "fixed_cost", "entry_rate",
              "output_at_ref", "demand_per_firm", "growth_share", "sales_per_line", "common_shock_share",
              "export_demand_ratio", "event_rate", "event_sd", "exit_hazard", "entrant_capital_median",
              "exit_profit", "reinvest_subsistence", "shock_sd", "register_rate", "alpha", "household_hazard",
              "workers_at_ref", "workers_elasticity")
"""Parameters whose defaults were fitted by ``msme-sim calibrate`` (docs/calibration.md); their
sources say why the value is plausible, the fit chose it."""


_CAL = "the calibration's search range (docs/calibration.md)"
PLAUSIBLE: dict[str, tuple[float, float, str]] = {
    # name: (low, high, source) -- the range of values a sensitivity study should consider: what
    # the evidence leaves open, not the validation limits (which only keep the arithmetic sound)
    "alpha": (0.3, 0.95, "assumption (returns to capital of micro firms 4-8 %/month at the "
                         "defaults' scale: de Mel et al. 2008, McKenzie & Woodruff 2008; read with "
                         "the class figures' sales per rupiah of assets they ask for 0.3-0.5: "
                         "docs/calibration.md, Money scale)"),
    "output_at_ref": (1e6, 1e8, _CAL),
    "shock_sd": (0.05, 0.8, _CAL),
    "shock_persistence": (0.8, 0.999, _CAL + "; annual persistence 0.07-0.99 brackets the "
                                             "plant-level estimates of Foster et al. 2008"),
    "growth_share": (0.01, 0.3, _CAL + "; de Mel et al. 2008, Grimm et al. 2012 ('constrained "
                                      "gazelles' are a minority)"),
    "ability_growth_median": (0.5, 2.0, "assumption"),
    "ability_subsistence_median": (0.3, 1.0, "assumption (below the growth-oriented median)"),
    "ability_sd": (0.05, 1.0, _CAL),
    "demand_per_firm": (2e6, 4e7, _CAL),
    "demand_growth": (-0.02, 0.05, "assumption, bounded by Indonesia's real GDP growth of ~5 %/yr "
                                   "(BPS 2023) and a mild real decline"),
    "quality_weight": (0.5, 2.0, "assumption"),
    "access_weight": (0.5, 2.0, "assumption"),
    "scale_weight": (0.0, 1.0, _CAL),
    "scale_weight_subsistence": (0.0, 0.3, "assumption (subsistence firms' clientele grows little "
                                           "with capacity)"),
    "export_access_threshold": (0.4, 0.8, "assumption"),
    "export_access_spread": (0.0, 0.4, "assumption (from the hard threshold to a band of 0.4, "
                                       "more than twice the spread of entrants' access)"),
    "spillover": (0.0, 1.0, _CAL),
    "export_demand_ratio": (0.01, 0.3, _CAL),
    "quality_drift": (-0.02, 0.0, _CAL),
    "quality_sd": (0.02, 0.2, _CAL),
    "quality_persistence": (0.97, 0.9999, _CAL),
    "leader_imitation": (0.0, 1.0, _CAL),
    "event_rate": (0.0, 0.2, _CAL),
    "event_sd": (0.0, 1.5, _CAL),
    "entrant_quality_sd": (0.1, 0.5, "assumption"),
    "entrant_reach": (-2.0, 0.0, _CAL),
    "reach_build": (0.005, 0.15, _CAL),
    "sales_per_line": (2e6, 1e9, _CAL),
    "common_shock_share": (0.0, 1.0, _CAL),
    "volatility_dispersion": (0.0, 2.0, _CAL),
    "volatility_spell": (6.0, 120.0, _CAL),
    "access_alpha": (1.0, 4.0, "assumption"),
    "access_beta": (2.5, 10.0, "assumption"),
    "margin": (0.15, 0.4, "assumption (gross margins of micro retail and food businesses)"),
    "fixed_cost": (0.05e6, 1.0e6, _CAL),
    "depreciation": (0.005, 0.02, "assumption (6-24 %/yr, equipment and vehicles)"),
    "reinvest_growth": (0.05, 1.0, _CAL),
    "invest_utilisation": (0.5, 1.0, _CAL),
    "reinvest_subsistence": (0.0, 0.5, _CAL),
    "entry_rate": (0.004, 0.04, _CAL),
    "entrant_capital_median": (1e6, 5e7, _CAL),
    "entrant_capital_sd": (0.4, 1.2, "assumption"),
    "exit_capital": (1e5, 2e6, "assumption"),
    "exit_profit": (-0.5e6, 1e6, _CAL),
    "exit_hazard": (0.0, 0.01, _CAL),
    "household_hazard": (0.0, 0.01, "assumption around McKenzie & Paffhausen 2019 (8.2-8.3 %/yr of "
                                    "all small firms; exit_hazard already closes 1.7 %/yr)"),
    "review_close": (0.2, 1.0, _CAL),
    "workers_at_ref": (1.3, 2.2, "KemenKopUKM 2019 (micro ~1.7 workers/unit) +-25 %, an assumption"),
    "workers_elasticity": (0.4, 1.0, "below 1: labour productivity rises with firm size (OECD 2018, "
                                     "SME and Entrepreneurship Policy in Indonesia; Bottazzi & Grazzi "
                                     "2013; value added per worker by class, UMKM Indonesia 2020 with "
                                     "KemenKopUKM 2019: Rp 45 M micro, 219 M small, 495 M medium); the "
                                     "lower end an assumption"),
    "coordination_recovery": (0.01, 0.1, "assumption (half-lives of 7 to 70 months; White & "
                                         "Dunleavy 2010 report 2-3 years)"),
    "data_outreach_gain": (0.1, 0.5, "around Banerjee, Hanna, Kyle, Olken & Sumarto 2018 (+26 %)"),
    "data_registration_gain": (0.0, 2.0, "assumption"),
    "word_of_mouth": (0.005, 0.1, "assumption"),
    "register_rate": (0.002, 0.2, _CAL),
    "apply_rate": (0.004, 0.04, "assumption"),
    "queue_dropout": (0.03, 0.2, "assumption (applicants wait 5 months to 3 years at most)"),
    "diagnosis_error": (0.3, 0.9, "assumption"),
    "diagnosis_coordination_weight": (0.2, 0.8, "assumption"),
    "potential_noise": (0.5, 2.0, "assumption"),
    "training_effect": (0.0, 0.25, "McKenzie & Woodruff 2014 (most training effects small or "
                                   "insignificant)"),
    "training_diminishing": (0.2, 1.0, "assumption"),
    "training_fade": (0.03, 0.12, "McKenzie & Woodruff 2014, de Mel et al. 2014 (effects fade "
                                  "within 1-3 years)"),
    "access_gain": (0.05, 0.3, "assumption"),
    "access_fade": (0.01, 0.05, "assumption"),
    "loan_rate": (0.03, 0.12, "Permenko 1/2023 (KUR 3-9 %/yr by scheme and round) up to "
                              "commercial micro-loan rates"),
    "service_floor": (0.25, 0.75, "assumption"),
}
"""Plausible range of every uncertainty (see ``uncertainties``)."""


@dataclass(frozen=True)
class Uncertainty:
    """An uncertain parameter and the range a sensitivity study should sweep."""
    name: str
    low: float
    high: float
    default: float
    unit: str
    source: str
    doc: str


def uncertainties(names=None) -> dict[str, Uncertainty]:
    """Every parameter whose role is ``uncertainty`` (or those in ``names``), with its plausible
    range and the range's source, separate from its validation limits. For sensitivity studies
    (``design.method = "saltelli"`` or ``"morris"``) and tools such as SALib or EMA Workbench."""
    out = {}
    for f in fields(Parameters):
        m = f.metadata
        if m["role"] != "uncertainty" or (names is not None and f.name not in names):
            continue
        low, high, source = PLAUSIBLE[f.name]
        out[f.name] = Uncertainty(f.name, low, high, f.default, m["unit"], source, m["doc"])
    if names is not None:
        missing = [n for n in names if n not in out]
        if missing:
            raise ParameterError(f"not an uncertain parameter: {', '.join(map(short, missing))} "
                                 f"(see 'msme-sim params --role uncertainty')")
    return out


def salib_problem(names=None) -> dict[str, Any]:
    """A SALib problem (``num_vars``, ``names``, ``bounds``) over the plausible ranges."""
    u = uncertainties(names)
    return {"num_vars": len(u), "names": list(u), "bounds": [[v.low, v.high] for v in u.values()]}


def parameter_table() -> list[dict[str, Any]]:
    """One row per parameter, for docs and the CLI."""
    rows = []
    for f in fields(Parameters):
        m = f.metadata
        if isinstance(f.default, bool):
            allowed = "true, false"
        elif m["choices"]:
            allowed = ", ".join(m["choices"])
        else:
            allowed = f"[{m['low']:g}, {m['high']:g}]"
        source = m["source"] + ("; default fitted by msme-sim calibrate" if f.name in CALIBRATED else "")
        plausible = ""
        if f.name in PLAUSIBLE:
            low, high, why = PLAUSIBLE[f.name]
            plausible = f"[{low:g}, {high:g}] ({why})"
        rows.append(dict(name=f.name, unit=m["unit"], default=f.default, allowed=allowed,
                         role=m["role"], source=source, doc=m["doc"], plausible=plausible))
    return rows


def levers() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Parameters) if f.metadata["role"] == "lever")


BURN_IN_IRRELEVANT = frozenset({"n_firms", "size_law", "burn_in_firms"})
"""Settings the cached stationary population does not depend on (its key ignores them).
Levers are not in the key either: every burn-in runs today's office (the default levers), so all
scenarios of a study start from the same city."""
