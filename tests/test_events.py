"""Events fire at their months and follow their stated forms."""

import math

import numpy as np
import pytest

from sim.events import Event, demand_multiplier
from sim.model import MSMEModel

KW = dict(n_firms=3000, burn_in_months=240)


def _event(kind, **values):
    from sim.events import EVENT_FIELDS
    full = {k: f.default for k, f in EVENT_FIELDS[kind].items() if f.default is not None}
    full.update(values)
    return Event(kind, full)


def _run(events, months, **kw):
    m = MSMEModel(rng=3, events=events, **{**KW, **kw})
    for _ in range(months):
        m.step()
    return m, m.outcomes


def test_merger_capacity_path_follows_its_form_from_the_announcement():
    ev = _event("opd_merger", month=12, announce_before=4, depth=0.4, tau=6.0, budget_saving=0.2)
    m, out = _run([ev], 30)
    base = m.params.office_capacity
    cap = out.set_index("month")["office_capacity"]
    assert (cap.loc[1:7] == base).all()  # before the announcement at month 8
    for t in range(8, 31):
        assert cap.loc[t] == pytest.approx(base * (1 - 0.4 * math.exp(-(t - 8) / 6.0)))
    assert m.city.office.budget == pytest.approx(m.city.office.scale * m.params.office_budget * 0.8)


def test_merger_loses_records_only_without_integration_and_at_its_month():
    ev = _event("opd_merger", month=10, record_loss=0.6)
    _, lost = _run([ev], 11)
    _, kept = _run([ev], 11, data_integration=1.0)
    _, none = _run([], 11)
    reg = lambda out, t: out.set_index("month")["registered_share"].loc[t]  # noqa: E731
    assert reg(lost, 9) == pytest.approx(reg(none, 9), rel=0.02)  # only the announcement's dip so far
    assert reg(lost, 10) < 0.6 * reg(none, 10)  # ~60 % of records gone at the merger
    assert reg(kept, 10) > 0.95 * reg(none, 10)  # an integrated database keeps them


def test_merger_resets_coordination_which_recovers():
    ev = _event("opd_merger", month=10, coordination_after=0.1)
    _, out = _run([ev], 44)
    c = out.set_index("month")["coordination"]
    assert c.loc[9] == pytest.approx(0.4)
    assert c.loc[10] < 0.15 and c.loc[11] > c.loc[10] and c.loc[44] > 0.25


def test_regulation_change_restarts_the_pipeline():
    m, _ = _run([_event("regulation_change", month=5)], 4)
    waiting = m.city.firms["queued"].sum()
    m.step()
    t = m.city.firms
    # every pending application was dropped: only this month's applicants wait
    assert waiting > 0 and (t["apply_month"][t["queued"]] == 5).all()
    same, _ = _run([], 5)
    assert (same.city.firms["apply_month"][same.city.firms["queued"]] < 5).any()


def test_austerity_cuts_budget_from_its_month():
    m, out = _run([_event("austerity", month=13, budget_cut=0.5, capacity_cut=0.1)], 24)
    spend = out.set_index("month")["spend_total"]
    assert spend.loc[13:24].sum() < 0.6 * spend.loc[1:12].sum()
    assert out.set_index("month")["office_capacity"].loc[13] == pytest.approx(0.6 * 0.9)


def test_demand_shock_path_and_effect():
    v = dict(month=5, depth=0.3, recovery_months=10, path=[])
    assert demand_multiplier(v, 4) == 1.0
    assert demand_multiplier(v, 5) == pytest.approx(0.7)
    assert demand_multiplier(v, 10) == pytest.approx(0.85)
    assert demand_multiplier(v, 15) == 1.0
    assert demand_multiplier(dict(v, path=[0.5, 0.6]), 6) == 0.6
    assert demand_multiplier(dict(v, path=[0.5, 0.6]), 7) == 1.0
    _, out = _run([_event("demand_shock", month=3, depth=0.3, recovery_months=10)], 6)
    d = out.set_index("month")["city_demand"]
    assert d.loc[3] == pytest.approx(0.7 * d.loc[2])
    assert out.set_index("month")["sales"].loc[3] < 0.95 * out.set_index("month")["sales"].loc[2]


def test_policy_switch_changes_levers_at_its_month():
    ev = _event("policy_switch", month=7, set={"data_integration": 1.0, "targeting": "diagnosis",
                                               "office_budget": 6e9})
    m = MSMEModel(rng=3, events=[ev], **KW)
    seen = []
    for _ in range(8):
        m.step()
        seen.append((m.month, m.city.office.data_integration, m.city.office.targeting))
    assert seen[5] == (6, 0.0, "first_come")
    assert seen[6] == (7, 1.0, "diagnosis")
    assert m.city.office.budget == pytest.approx(6e9 * m.city.office.scale)


def test_events_are_scheduled_through_mesa():
    ev = _event("regulation_change", month=4)
    m = MSMEModel(rng=3, events=[ev], **KW)
    times = sorted(e.time for e in m._event_list._events if e.time % 1)  # the half-month slots
    assert times == [3.5]
    assert np.isclose(m.time, 0)


def test_policy_switch_of_budget_staff_and_capacity_takes_effect_at_its_month():
    ev = _event("policy_switch", month=7, set={"office_budget": 6e9, "office_throughput": 300.0,
                                               "office_capacity": 0.9})
    m = MSMEModel(rng=3, events=[ev], **KW)
    office = m.city.office
    for _ in range(6):
        m.step()
    left = office.budget_left
    assert office.throughput == pytest.approx(150.0 * office.scale)
    m.step()
    spent = m.outcomes["spend_total"].iloc[-1]
    assert office.budget_left == pytest.approx(2 * left - spent)  # the year's remainder doubles
    assert office.throughput == pytest.approx(300.0 * office.scale)
    cap = m.outcomes.set_index("month")["office_capacity"]
    assert cap.loc[6] == pytest.approx(0.6) and cap.loc[7] == pytest.approx(0.9)


def test_policy_switch_from_no_budget_waits_for_the_next_fiscal_year():
    ev = _event("policy_switch", month=7, set={"office_budget": 3e9})
    m = MSMEModel(rng=3, events=[ev], office_budget=0.0, **KW)
    for _ in range(14):
        m.step()
    spend = m.outcomes.set_index("month")["spend_total"]
    assert spend.loc[1:12].sum() == 0 and spend.loc[13:14].sum() > 0


def test_policy_switch_of_coordination_sets_the_target_the_office_builds_toward():
    ev = _event("policy_switch", month=3, set={"coordination": 0.8})
    _, out = _run([ev], 30)
    c = out.set_index("month")["coordination"]
    assert c.loc[2] == pytest.approx(0.4)
    assert c.loc[3] == pytest.approx(0.4 + 0.03 * 0.4)  # recovers 3 % of the gap a month
    assert 0.4 < c.loc[10] < c.loc[30] < 0.8
