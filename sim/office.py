"""The Office of Cooperatives, SMEs, Industry and Trade: its state and its monthly work.

Each month, before firms produce (``Office.act``):

1. **fiscal year**: every 12 months the budget is renewed (after monitoring-and-evaluation, if on,
   has shifted the instrument mix toward the instruments with most graduations per rupiah);
2. **coordination** with sub-districts recovers toward its target after a reset;
3. **awareness**: an unaware firm hears of the office through outreach (scaled by capacity,
   coordination and, with an integrated database, direct contact) or word of mouth (scaled by the
   aware share of its sub-district);
4. **registration**: an aware firm registers (more often with an integrated database);
5. **applications**: a registered firm, not queued and not served recently, applies (scaled by
   service clarity); a waiting applicant may give up;
6. **service**: up to throughput x capacity cases, and this month's share of the remaining budget,
   are served from the queue in the order of the targeting rule, each with an instrument.

One uniform draw per firm a month decides steps 3-5 (a firm is in one of those states at a time).
Every draw is keyed (``sim/keyed.py``) by the firm's id, the month and its purpose, so an aware
firm applies in the same month in two scenarios unless the scenario changed its rate, and nothing
the office does shifts the firms' own random numbers.
"""

from __future__ import annotations

import math

import numpy as np

from . import instruments as ins
from .keyed import Keys, Purpose, below, below_at
from .params import INSTRUMENTS, Parameters


class Office:
    """The office's state (levers can change mid-run through events)."""

    def __init__(self, p: Parameters, keys: Keys):
        self.p = p
        self.keys = keys
        self.scale = p.n_firms / p.office_scale_firms
        self.budget = p.office_budget * self.scale  # Rp/yr, for this city's size
        self.budget_left = self.budget
        self.throughput = p.office_throughput * self.scale
        self.base_capacity = p.office_capacity
        self.capacity_shocks: list[tuple[int, float, float]] = []  # (start month, depth, tau)
        self.coordination = p.coordination
        self.coordination_target = p.coordination
        self.data_integration = p.data_integration
        self.outreach = p.outreach
        self.service_clarity = p.service_clarity
        self.targeting = p.targeting
        self.mix = p.instrument_mix()
        self.monitoring_evaluation = p.monitoring_evaluation
        self.me_learning_rate = p.me_learning_rate
        self.costs = ins.unit_costs(p)
        self.capacity_now = self.capacity(0)
        # this month's flows, and the fiscal year's, for outcomes and M&E
        self.spent = np.zeros(len(INSTRUMENTS))
        self.served = 0
        self.served_ids = np.zeros(0, np.int64)  # firm ids served this month, and their instruments
        self.served_instruments = np.zeros(0, np.int8)
        self.served_wait = math.nan
        self.service_match = math.nan
        self.applications = 0
        self.loans = 0
        self.year_spent = np.zeros(len(INSTRUMENTS))
        self.year_grads = np.zeros(len(INSTRUMENTS))

    # -- capacity -------------------------------------------------------------------------------
    def capacity(self, month: int) -> float:
        """Institutional capacity: base level times 1 - d*exp(-(t - t0)/tau) for each shock."""
        c = self.base_capacity
        for t0, depth, tau in self.capacity_shocks:
            if month >= t0:
                c *= 1.0 - depth * math.exp(-(month - t0) / tau)
        return c

    # -- the month ---------------------------------------------------------------------------------
    def act(self, city, u: np.ndarray) -> None:
        """The office's month; ``u`` is each firm's keyed uniform for its pipeline step."""
        p, month = self.p, city.month
        if (month - 1) % 12 == 0:
            self._new_fiscal_year(month)
        self.capacity_now = cap = self.capacity(month)
        self.coordination += p.coordination_recovery * (self.coordination_target - self.coordination)
        self.spent[:] = 0.0
        self.served, self.served_wait, self.service_match, self.loans = 0, math.nan, math.nan, 0
        self.served_ids, self.served_instruments = self.served_ids[:0], self.served_instruments[:0]
        self._pipeline(city, cap, u)
        self._serve(city, cap)

    def _new_fiscal_year(self, month: int) -> None:
        if self.monitoring_evaluation and month > 1 and self.year_spent.sum() > 0:
            score = np.divide(self.year_grads, self.year_spent, out=np.zeros_like(self.year_spent),
                              where=self.year_spent > 0)
            if score.sum() > 0:
                target = score / score.sum()
                self.mix = (1 - self.me_learning_rate) * self.mix + self.me_learning_rate * target
        self.budget_left = self.budget
        self.year_spent[:] = 0.0
        self.year_grads[:] = 0.0

    def _pipeline(self, city, cap: float, u: np.ndarray) -> None:
        p, t = self.p, city.firms
        aware, registered, queued = t["aware"], t["registered"], t["queued"]
        # the aware share of each sub-district drives word of mouth
        code = np.left_shift(t["district"].view(np.uint8), 1)  # (bytes: at most 2 * 100 codes)
        code |= aware.view(np.uint8)
        counts = np.bincount(code, minlength=2 * p.n_districts).reshape(p.n_districts, 2)
        firms_in = counts.sum(axis=1)
        share = np.divide(counts[:, 1], firms_in, out=np.zeros(p.n_districts), where=firms_in > 0)
        reach = 1.0 + p.data_outreach_gain * self.data_integration  # contacts from the database
        outreach = self.outreach * cap * self.coordination * reach
        register_rate = p.register_rate * (1.0 + p.data_registration_gain * self.data_integration)
        apply_rate = p.apply_rate * self.service_clarity
        # only firms whose draw is below the largest rate they face can change state: work on those
        # (a queued firm can only give up; the others can hear of the office, register or apply)
        top = max(outreach + p.word_of_mouth * share.max(), register_rate, apply_rate)
        moving = below(u, top)
        if p.queue_dropout > top:  # (only the few hundred queued firms' draws are compared)
            waiting = np.flatnonzero(queued)
            moving[waiting[below_at(u, waiting, p.queue_dropout)]] = True
        rows = np.flatnonzero(moving)
        u = np.asarray(u[rows])
        was_aware, was_registered, was_queued = aware[rows], registered[rows], queued[rows]
        hazard = outreach + p.word_of_mouth * share[t["district"][rows]]
        hears = ~was_aware & (u < hazard)
        registers = was_aware & ~was_registered & (u < register_rate)
        gives_up = was_queued & (u < p.queue_dropout)
        recent = (t["times_served"][rows] > 0) & (city.month - t["served_month"][rows] < p.reapply_months)
        applies = was_registered & ~was_queued & ~recent & (u < apply_rate)
        aware[rows[hears]] = True
        registered[rows[registers]] = True
        queued[rows[gives_up]] = False
        queued[rows[applies]] = True
        t["apply_month"][rows[applies]] = city.month
        self.applications = int(np.count_nonzero(applies))

    def _serve(self, city, cap: float) -> None:
        t, month = city.firms, city.month
        queue = np.flatnonzero(t["queued"])
        expected = self.throughput * cap
        rounding = self.keys.uniform(Purpose.CASES, month, np.zeros(1, np.int64))[0]
        cases = int(expected) + int(rounding < expected - int(expected))
        months_left = 12 - (month - 1) % 12
        money = self.budget_left / months_left
        if queue.size == 0 or cases == 0 or money <= 0:
            return
        order = self._order(city, queue)[:cases]  # at most ``cases`` are served: only their
        instrument = self._instruments(city, order)  # instruments are needed (each firm's own draw)
        cost = np.cumsum(self.costs[instrument])
        k = min(cases, int(np.searchsorted(cost, money, side="right")))
        rows, instrument = order[:k], instrument[:k]
        if k == 0:
            return
        need = self.binding_constraint(city, rows)  # before the services change the firms
        matched = (instrument == need) | ((instrument == ins.CREDIT) & (need == ins.EQUIPMENT))
        self.service_match = float(matched.mean())
        quality = ins.service_quality(self.p, cap)
        for i, apply in enumerate(ins.APPLY):
            mine = rows[instrument == i]
            if mine.size:
                got = apply(self.p, t, mine, quality)
                if i == ins.CREDIT:
                    self.loans = len(got)
        self.spent[:] = np.bincount(instrument, weights=self.costs[instrument], minlength=len(INSTRUMENTS))
        self.budget_left -= self.spent.sum()
        self.year_spent += self.spent
        self.served = k
        self.served_ids, self.served_instruments = t["firm_id"][rows].copy(), instrument
        self.served_wait = float((month - t["apply_month"][rows]).mean())
        t["queued"][rows] = False
        t["times_served"][rows] += 1
        t["served_month"][rows] = month
        t["last_instrument"][rows] = instrument

    # -- targeting ---------------------------------------------------------------------------------
    def _order(self, city, queue: np.ndarray) -> np.ndarray:
        """Queue rows in the order the targeting rule serves them (ties: lower firm id first)."""
        t, rule = city.firms, self.targeting
        ids = t["firm_id"][queue]
        if rule in ("first_come", "diagnosis"):
            key = t["apply_month"][queue]
        elif rule == "random":
            key = self.keys.uniform(Purpose.ORDER, city.month, ids)
        elif rule == "neediest":
            key = t["capital"][queue]
        else:  # highest_potential: the office's noisy view of ability and quality
            noise = self.p.potential_noise * (1.0 - self.data_integration)
            seen = (np.log(t["ability"][queue]) + t["log_quality"][queue]
                    + noise * self.keys.normal(Purpose.POTENTIAL, city.month, ids))
            key = -seen
        return queue[np.lexsort((ids, key))]

    def _instruments(self, city, rows: np.ndarray) -> np.ndarray:
        """The instrument each candidate would get: by diagnosis, or drawn from the mix."""
        if self.targeting == "diagnosis":
            return self.diagnose(city, rows)
        weights = self.mix / self.costs  # budget shares -> case shares
        cdf = np.cumsum(weights / weights.sum())
        draws = self.keys.uniform(Purpose.INSTRUMENT, city.month, city.firms["firm_id"][rows])
        return np.minimum(np.searchsorted(cdf, draws, side="right"), len(cdf) - 1).astype(np.int8)

    def binding_constraint(self, city, rows: np.ndarray) -> np.ndarray:
        """The instrument that addresses each firm's binding constraint, as the office would see it
        with perfect information.

        Capital binds when the firm used at least ``invest_utilisation`` of its capacity last
        month (equipment grant); otherwise demand binds, and the answer is training or market
        access, whichever raises the firm's pull on demand more (ties: training).
        """
        p, t = self.p, city.firms
        capital_bound = t["utilisation"][rows] >= p.invest_utilisation
        gain_quality = p.quality_weight * p.training_effect * np.exp(
            -p.training_diminishing * t["trainings"][rows])
        access = t["access"][rows]
        gain_access = p.access_weight * np.log1p(p.access_gain * (1.0 - access) / access)
        return np.where(capital_bound, ins.EQUIPMENT,
                        np.where(gain_quality >= gain_access, ins.TRAINING, ins.MARKET_ACCESS))

    def diagnose(self, city, rows: np.ndarray) -> np.ndarray:
        """Each firm's binding constraint (``binding_constraint``), read with error when data are poor.

        The office misreads a firm with probability
        diagnosis_error * (1 - data_integration) * (1 - w * coordination), with
        w = diagnosis_coordination_weight, and then gives one of the other two instruments at random.
        """
        p = self.p
        need = self.binding_constraint(city, rows)
        error = (p.diagnosis_error * (1.0 - self.data_integration)
                 * (1.0 - p.diagnosis_coordination_weight * self.coordination))
        misread, choice = self.keys.uniform_pair(Purpose.DIAGNOSIS, city.month, city.firms["firm_id"][rows])
        wrong = misread < error
        others = np.array([[ins.TRAINING, ins.MARKET_ACCESS], [ins.EQUIPMENT, ins.MARKET_ACCESS],
                           [ins.EQUIPMENT, ins.TRAINING]])
        pick = others[need, (choice < 0.5).astype(int)]
        return np.where(wrong, pick, need).astype(np.int8)

    # -- for events --------------------------------------------------------------------------------
    def set_levers(self, p: Parameters, changed: dict) -> None:
        """A policy switch: take the new parameter values ``p`` for the levers in ``changed``."""
        old_budget = self.budget
        self.p = p
        self.costs = ins.unit_costs(p)
        for name in changed:
            if name == "office_budget":
                self.budget = p.office_budget * self.scale
                if old_budget > 0:
                    self.budget_left *= self.budget / old_budget
            elif name == "office_throughput":
                self.throughput = p.office_throughput * self.scale
            elif name == "office_capacity":
                self.base_capacity = p.office_capacity
            elif name == "coordination":
                self.coordination_target = p.coordination  # the office builds it up over time
            elif name.startswith("mix_"):
                self.mix = p.instrument_mix()
            elif hasattr(self, name):
                setattr(self, name, getattr(p, name))

    def lose_records(self, city, share: float) -> None:
        """A share of case records (registrations) and of the queue is lost."""
        t = city.firms
        lost = self.keys.uniform(Purpose.RECORD_LOSS, city.month, t["firm_id"]) < share
        t["registered"][lost] = False
        t["queued"][lost] = False

    def restart_pipeline(self, city) -> None:
        """'Start from zero': every pending application is dropped (firms may apply again)."""
        city.firms["queued"][:] = False

    def credit_graduations(self, city, moved_up: np.ndarray) -> None:
        """Credit this month's upward class moves of served firms to their last instrument."""
        t = city.firms
        rows = moved_up[(t["times_served"][moved_up] > 0)
                        & (city.month - t["served_month"][moved_up] <= self.p.me_credit_months)]
        if rows.size:
            self.year_grads += np.bincount(t["last_instrument"][rows], minlength=len(INSTRUMENTS))
