"""Scenario files: every shipped one loads; every bad file gets one clear message (what each
scenario does to a run: tests/test_scenario_effects.py)."""

import subprocess
import sys
import textwrap

import pytest

from sim.scenario import ScenarioError, list_scenarios, load

SHIPPED = ["baseline", "steady_coordination", "opd_merger", "repeated_restructuring", "austerity",
           "integrated_database", "socialisation_campaign", "clear_services", "diagnosis_targeting",
           "equipment_focus", "training_focus", "market_access_focus", "credit_focus", "covid_shock",
           "recommended_package"]


def test_all_required_scenarios_are_shipped_with_descriptions_and_sources():
    found = {s.name: s for s in list_scenarios()}
    assert set(SHIPPED) <= set(found)
    for s in found.values():
        assert len(s.description) > 30 and "paper" in s.source.lower()


def test_extends_inherits_parameters_and_accumulates_events(tmp_path):
    (tmp_path / "a.toml").write_text('description = "parent scenario for a test"\n'
                                     '[parameters]\ncoordination = 0.7\n'
                                     '[[events]]\ntype = "austerity"\nmonth = 5\n')
    (tmp_path / "b.toml").write_text('description = "child scenario for a test"\nextends = "a"\n'
                                     '[parameters]\noutreach = 0.05\n'
                                     '[[events]]\ntype = "regulation_change"\nmonth = 3\n')
    sc = load(tmp_path / "b.toml")
    assert sc.params.coordination == 0.7 and sc.params.outreach == 0.05
    assert [e.type for e in sc.events] == ["regulation_change", "austerity"]
    assert sc.chain == ("b", "a")


BAD = {
    "unknown top key": ('description = "x is a scenario for testing"\ndescripton = "y"\n',
                        ["unknown key 'descripton'", "line 2", "did you mean 'description'"]),
    "unknown parameter": ('description = "x is a scenario for testing"\n[parameters]\n'
                          'coordinaton = 0.5\n',
                          ["parameters.", "unknown parameter 'coordinaton'", "did you mean 'coordination'"]),
    "wrong type": ('description = "x is a scenario for testing"\n[parameters]\ncoordination = "high"\n',
                   ["parameters.coordination", "line 3", "must be a number"]),
    "out of range": ('description = "x is a scenario for testing"\n[parameters]\n\n'
                     'service_clarity = 1.5\n',
                     ["parameters.service_clarity", "line 4", "[0, 1]"]),
    "unknown event type": ('description = "x is a scenario for testing"\n[[events]]\n'
                           'type = "opd_mergr"\nmonth = 5\n',
                           ["events[0].type", "line 3", "did you mean 'opd_merger'"]),
    "bad event field": ('description = "x is a scenario for testing"\n[[events]]\n'
                        'type = "opd_merger"\nmonth = 20\ndepht = 0.3\n',
                        ["events[0]", "unknown key 'depht'", "line 5", "did you mean 'depth'"]),
    "event value out of range": ('description = "x is a scenario for testing"\n[[events]]\n'
                                 'type = "austerity"\nmonth = 20\nbudget_cut = 1.5\n',
                                 ["events[0].budget_cut = 1.5", "line 5", "[0, 1]"]),
    "event after horizon": ('description = "x is a scenario for testing"\nyears = 2\n[[events]]\n'
                            'type = "austerity"\nmonth = 30\n',
                            ["events[0].month = 30", "after the horizon", "month 24"]),
    "missing month": ('description = "x is a scenario for testing"\n[[events]]\ntype = "austerity"\n',
                      ["events[0] (austerity)", "missing 'month'"]),
    "bad switch": ('description = "x is a scenario for testing"\n[[events]]\ntype = "policy_switch"\n'
                   'month = 3\nset = { data_integraton = 1.0 }\n',
                   ["events[0].set", "not a lever", "did you mean 'data_integration'"]),
    "missing parent": ('description = "x is a scenario for testing"\nextends = "nowhere"\n',
                       ["key 'extends' (line 2)", "no scenario named 'nowhere'"]),
    "malformed toml": ('description = "x is a scenario for testing"\n[parameters\ncoordination = 1\n',
                       ["not valid TOML", "line 2"]),
    "no description": ('[parameters]\ncoordination = 0.5\n', ["'description' is missing"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_get_one_clear_message(tmp_path, case):
    text, fragments = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load(path)
    msg = str(err.value)
    assert str(path) in msg
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)


def test_cycle_in_extends(tmp_path):
    (tmp_path / "a.toml").write_text('description = "a scenario for testing cycles"\nextends = "b"\n')
    (tmp_path / "b.toml").write_text('description = "b scenario for testing cycles"\nextends = "a"\n')
    with pytest.raises(ScenarioError, match="cycle: a -> b -> a"):
        load(tmp_path / "a.toml")


@pytest.mark.subprocess
@pytest.mark.parametrize("case", ["unknown parameter", "event after horizon", "malformed toml"])
def test_cli_refuses_bad_files_with_status_2_and_writes_nothing(tmp_path, case):
    text, fragments = BAD[case]
    (tmp_path / "bad.toml").write_text(text)
    for cmd in (["check", "bad.toml"], ["run", "bad.toml", "--out", "out"]):
        r = subprocess.run([sys.executable, "-m", "sim.cli", *cmd], capture_output=True, text=True,
                           cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert fragments[0] in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.subprocess
def test_cli_lists_and_checks_scenarios(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sim.cli", "scenarios"], capture_output=True, text=True)
    assert r.returncode == 0
    for name in SHIPPED:
        assert name in r.stdout
    r = subprocess.run([sys.executable, "-m", "sim.cli", "check", "opd_merger"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "opd_merger@37" in r.stdout


@pytest.mark.subprocess
def test_cli_runs_a_scenario_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent('''\
        description = "a small merger scenario for a CLI test"
        extends = "opd_merger"
        years = 4
        [parameters]
        n_firms = 1500
        burn_in_months = 120
    '''))
    r = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(path), "--seed", "3", "--out",
                        str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "msme-sim run mine" in r.stdout and "office: served" in r.stdout
    (run_dir,) = (tmp_path / "out").iterdir()
    assert run_dir.name.startswith("mine-s3-")


def test_run_scenario_by_name_fires_its_events():
    from sim.run import run_scenario
    r = run_scenario("opd_merger", seed=2, months=40, n_firms=1500, burn_in_months=120)
    cap = r.monthly.set_index("month")["office_capacity"]
    assert r.scenario == "opd_merger" and cap.loc[30] == cap.loc[1] and cap.loc[31] < cap.loc[30]
    assert r.metadata()["events"][0]["type"] == "opd_merger"
    with pytest.raises(ScenarioError, match="after the horizon"):
        run_scenario("opd_merger", seed=2, months=12)
