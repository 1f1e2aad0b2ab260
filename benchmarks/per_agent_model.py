"""The same firm rules written the usual mesa way: each agent's step() in Python.

Only for benchmarking against ``sim.model.MSMEModel``; it shares the parameters and the rule
functions' arithmetic (scalar versions), not the code path: production, the city and export
markets, finance with loan instalments, quality, the fading of services' effects, exit and entry.
It has no office (the array model's office work is extra work on its side of the comparison).
Entrants are new agents; exiting firms call ``agent.remove()``.
"""

from __future__ import annotations

import math

import mesa

from sim import phases
from sim.params import Parameters


def export_pull(p: Parameters, access: float) -> float:
    """Share of a firm's pull it brings abroad: 0 to 1 across the access band (sim.phases)."""
    if p.export_access_spread < 1e-6:
        return 1.0 if access >= p.export_access_threshold else 0.0
    low = p.export_access_threshold - 0.5 * p.export_access_spread
    return min(1.0, max(0.0, (access - low) / p.export_access_spread))


class Firm(mesa.Agent):
    def __init__(self, model, month: int):
        super().__init__(model)
        p, r = model.p, model.rng
        self.growth = r.random() < p.growth_share
        median = p.ability_growth_median if self.growth else p.ability_subsistence_median
        self.ability = median * math.exp(p.ability_sd * r.standard_normal())
        self.capital = p.entrant_capital_median * math.exp(p.entrant_capital_sd * r.standard_normal())
        self.log_quality = p.entrant_quality_sd * r.standard_normal()
        self.log_productivity = p.shock_sd * r.standard_normal()
        self.log_reach = p.entrant_reach
        self.new_spell(month)
        self.access = min(max(r.beta(p.access_alpha, p.access_beta), 1e-3), 1.0)
        self.access_base = self.access
        self.access_boost = 0.0
        self.training = 0.0
        self.loan_balance = 0.0
        self.loan_payment = 0.0
        self.loan_months_left = 0
        self.entry_month = month
        self.history = [0.0] * 12
        self.sales = 0.0

    def new_spell(self, month):
        """A volatility spell: a Gamma(1/d, d) variance factor and a geometric length."""
        p, r = self.model.p, self.model.rng
        d = p.volatility_dispersion
        self.volatility = math.sqrt(r.gamma(1.0 / d, d)) if d > 0 else 1.0
        self.volatility_until = month + int(r.geometric(1.0 / p.volatility_spell))

    def annual_sales(self):
        age = min(max(self.model.steps - self.entry_month, 1), 12)
        return sum(self.history) * 12.0 / age

    def produce(self):
        p, r = self.model.p, self.model.rng
        c = p.common_shock_share
        self.spread = math.sqrt(c + (1 - c) * min(p.sales_per_line / max(self.annual_sales(), 1.0), 1.0))
        if p.volatility_dispersion > 0:
            if self.volatility_until <= self.model.steps:
                self.new_spell(self.model.steps)
            self.spread *= self.volatility
        rho = p.shock_persistence
        self.log_productivity = (rho * self.log_productivity
                                 + p.shock_sd * math.sqrt(1 - rho * rho) * self.spread * r.standard_normal())
        log_y = (math.log(self.capital / p.capital_ref) * p.alpha + math.log(self.ability)
                 + math.log(p.output_at_ref) - 0.5 * p.shock_sd**2 + self.log_productivity)
        self.cap = math.exp(log_y)
        scale = p.scale_weight if self.growth else p.scale_weight_subsistence
        self.weight = math.exp(p.quality_weight * (self.log_quality + self.training)
                               + p.access_weight * math.log(self.access) + self.log_reach
                               + scale * math.log(self.cap / p.output_at_ref))

    def sell_and_finance(self):
        m, p, r = self.model, self.model.p, self.model.rng
        dom = min(self.cap, m.price * self.weight)
        exp = 0.0
        pull = export_pull(p, self.access)
        if pull > 0:
            exp = min(self.cap - dom, m.price_x * self.weight * pull)
        self.sales = dom + exp
        self.history[m.steps % 12] = self.sales
        prof = p.margin * self.sales - p.fixed_cost
        if self.loan_months_left > 0:  # loan instalments (none unless the office arranged a loan)
            prof -= self.loan_payment
            self.loan_balance = self.loan_balance * (1 + p.loan_rate / 12) - self.loan_payment
            self.loan_months_left -= 1
        rate = p.reinvest_growth if self.growth else p.reinvest_subsistence
        if self.sales / self.cap < p.invest_utilisation:
            rate = 0.0
        net = prof - p.depreciation * self.capital  # replacing worn capital comes first
        self.capital += rate * net if net > 0 else net
        rho = p.quality_persistence  # a leader (above 0) is copied more slowly
        if self.log_quality > 0:
            rho = 1.0 - p.leader_imitation * (1.0 - rho)
        self.log_quality = (rho * self.log_quality + p.quality_drift
                            + p.quality_sd * self.spread * r.standard_normal())
        if r.random() < p.event_rate:  # a product event
            self.log_quality += p.event_sd * self.spread * r.standard_normal()
        self.log_reach *= 1 - p.reach_build
        self.training *= 1 - p.training_fade  # services' effects fade
        self.access_boost *= 1 - p.access_fade
        self.access = self.access_base + self.access_boost
        age = m.steps - self.entry_month
        review = age > 0 and age % 12 == 0 and (
            p.margin * sum(self.history)
            - 12 * (p.fixed_cost + p.exit_profit) < 0) and (
            p.review_close >= 1.0 or r.random() < p.review_close)
        hazard = p.exit_hazard
        if p.household_hazard > 0 and phases.own_account(p, self.annual_sales()):
            hazard += p.household_hazard  # an own-account firm's household shocks
        if self.capital < p.exit_capital or r.random() < hazard or review:
            self.remove()


class PerAgentModel(mesa.Model):
    def __init__(self, n_firms: int, seed: int = 0, **overrides):
        super().__init__(rng=seed)
        self.p = Parameters(n_firms=n_firms, **overrides)
        Firm.create_agents(self, n_firms, 0)

    def clearing_price(self, firms, demand):
        """The same rule as ``sim.phases.clearing_price``, agent by agent."""
        total = sum(a.weight for a in firms)
        price, s = demand / total, self.p.spillover
        if s == 0:
            return price
        n_full = -1
        while True:
            full = [a for a in firms if a.cap < price * a.weight]
            if len(full) == n_full:
                return price
            n_full = len(full)
            denom = total - s * sum(a.weight for a in full)
            if denom <= 0:
                return max(a.cap / a.weight for a in firms)
            price = (demand - s * sum(a.cap for a in full)) / denom

    def step(self):
        p = self.p
        firms = self.agents_by_type[Firm]
        firms.do("produce")
        demand = p.n_firms * p.demand_per_firm
        self.price = self.clearing_price(firms, demand)
        wx = sum(a.weight * export_pull(p, a.access) for a in firms)
        self.price_x = p.export_demand_ratio * demand / wx if wx > 0 else 0.0
        firms.do("sell_and_finance")
        for _ in range(int(self.rng.poisson(p.entry_rate * p.n_firms))):
            Firm(self, self.steps)
