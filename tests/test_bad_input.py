"""Bad input gets a clear refusal: the project's own error naming the file, never a traceback.

Known cases of issue 12 (files that are not UTF-8, folders as names, unhashable event types, huge
numbers, odd ``--set`` literals, wide design ranges, values of the wrong type) and a fuzz test that
mutates the shipped scenario and study files (hypothesis, derandomised: the same examples on
every run). A longer fuzz run for before a release: ``MSME_SIM_FUZZ=3000 pytest tests/test_bad_input.py``.
"""

import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import cli
from sim.experiment import StudyError, load_study
from sim.params import ParameterError, Parameters
from sim.scenario import ScenarioError, load

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
STUDIES = sorted((ROOT / "experiments").glob("*.toml"))
FUZZ = int(os.environ.get("MSME_SIM_FUZZ", "150"))

GOOD = b'description = "a test scenario"\nextends = "baseline"\n'


def _write(tmp_path, data: bytes, name="s.toml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data, says", [
    (b"\x00\xff\xfe binary", "not UTF-8"),
    ('description = "caf\u00e9"\n'.encode("latin-1"), "not UTF-8"),
    ('description = "x"\n'.encode("utf-16"), "not UTF-8"),
    ('description = "\u00e9"\n'.encode()[:-3], "not UTF-8"),  # cut inside a character
    (GOOD + b"[parameters]\nn_firms = 1" + b"0" * 500 + b"\n", "n_firms"),
    (GOOD + b"[parameters]\nn_firms = 1" + b"0" * 6000 + b"\n", "not valid TOML"),
    (GOOD + b"[parameters]\nalpha = " + b"[" * 3000 + b"]" * 3000 + b"\n", "s.toml"),
    (GOOD + b'[[events]]\ntype = ["opd_merger"]\nmonth = 5\n', "must be a string"),
    (GOOD + b'[[events]]\ntype = { a = 1 }\nmonth = 5\n', "must be a string"),
    (GOOD + b'[[events]]\ntype = "austerity"\nmonth = 1' + b"0" * 400 + b"\n", "month"),
    (GOOD + b'[[events]]\ntype = "demand_shock"\nmonth = 5\npath = [1e300, 1' + b"0" * 400 + b"]\n", "path"),
    (GOOD + b"description2 = 1\n", "unknown key"),
])
def test_a_bad_scenario_file_is_refused_naming_the_file(tmp_path, data, says):
    path = _write(tmp_path, data)
    with pytest.raises(ScenarioError) as err:
        load(path)
    message = str(err.value)
    assert says in message and "s.toml" in message
    assert len(message) < 600  # long values are cut


def test_a_byte_order_mark_is_accepted(tmp_path):
    assert load(_write(tmp_path, b"\xef\xbb\xbf" + GOOD)).params == load("baseline").params


@pytest.mark.parametrize("name", ["", " ", ".", "scenarios", "x" * 300, "x" * 300 + ".toml"])
def test_names_that_are_folders_empty_or_too_long_are_refused(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ScenarioError):
        load(name)


@pytest.mark.parametrize("extends", ['""', '"."', '"scenarios"', '"' + "y" * 300 + '"'])
def test_a_parent_that_is_a_folder_or_nothing_is_refused(tmp_path, extends, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = _write(tmp_path, b'description = "x"\nextends = ' + extends.encode() + b"\n")
    with pytest.raises(ScenarioError, match="extends|folder|scenario"):
        load(path)


STUDY = b'description = "a study"\nscenarios = ["baseline"]\nreplicates = 2\n'


@pytest.mark.parametrize("data, says", [
    (b'description = 1\nscenarios = ["baseline"]\n', "description"),
    (b'description = { a = 1 }\nscenarios = ["baseline"]\n', "description"),
    (STUDY + b"[outputs]\nsnapshots = [true]\n", "snapshots"),
    (STUDY + b'[design]\nmethod = "lhs"\nsamples = 4\n[design.factors]\nalpha = { low = -1e308, high = 1e308 }\n',
     "finite"),
    (STUDY.replace(b"replicates = 2", b"replicates = 1" + b"0" * 400), "replicates"),
    (b"\xff" + STUDY, "not UTF-8"),
])
def test_a_bad_study_file_is_refused_naming_the_file(tmp_path, data, says):
    path = _write(tmp_path, data, "study.toml")
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert says in str(err.value) and "study.toml" in str(err.value)


def test_an_error_in_a_design_point_names_the_parameter_not_the_whole_point(tmp_path):
    path = _write(tmp_path, STUDY + b'[design]\nmethod = "grid"\n[design.factors]\nalpha = [0.5, 5.0]\n',
                  "study.toml")
    with pytest.raises(StudyError) as err:
        load_study(path)
    assert "design point 1" in str(err.value) and "parameter 'alpha' = 5.0" in str(err.value)


def test_huge_numbers_and_odd_types_never_crash_the_parameter_check():
    for value in (10**400, -(10**400), float("nan"), "x" * 10_000, [1], {"a": 1}, None):
        with pytest.raises(ParameterError) as err:
            Parameters(n_firms=value)
        assert len(str(err.value)) < 300


@pytest.mark.parametrize("setting", ["n_firms={[1]:2}", "n_firms=" + "9" * 5000, "alpha=[[[[",
                                     "alpha=1e999", "n_firms=10**5", "alpha="])
def test_odd_set_literals_are_refused_before_any_work(tmp_path, capsys, setting):
    out = tmp_path / "out"
    assert cli.main(["run", "--set", setting, "--out", str(out)]) == cli.EXIT_USER_ERROR
    assert "msme-sim: error:" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("years", ["-1", "0", "1000000"])
def test_check_refuses_the_horizons_run_refuses(years, capsys):
    assert cli.main(["check", "baseline", "--years", years]) == cli.EXIT_USER_ERROR
    assert "--years" in capsys.readouterr().err


# -- fuzz: mutations of the shipped files ------------------------------------------------------
TOKENS = [b"[", b"]", b"{", b"}", b"=", b'"', b"'", b"\n", b",", b"#", b"[[events]]\n", b"[parameters]\n",
          b"1e999", b"-1", b"0", b"1" + b"0" * 400, b"true", b"[1]", b"{ a = 1 }", b"type = [1]\n",
          b"\xff", b"\xc3", b"\x00", b"extends = \".\"\n", b"month = 0\n", b"n_firms = 1.5\n",
          b"years = 1000\n", b"description = 3\n"]


def _mutations():
    return st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), st.sampled_from(TOKENS)),
                    min_size=1, max_size=4)


def _fresh(tmp_path) -> Path:
    """A folder of its own for one example (a mutated baseline.toml left by an earlier example
    must not become the parent of the next one)."""
    import tempfile
    return Path(tempfile.mkdtemp(dir=tmp_path))


def _mutate(data: bytes, edits) -> bytes:
    for where, cut, token in edits:
        i = int(where * len(data))
        data = data[:i] + token + data[i + cut:]
    return data


@settings(max_examples=FUZZ, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from(SCENARIOS), edits=_mutations())
def test_fuzzed_scenario_files_give_a_scenario_or_a_clear_error(tmp_path, source, edits, capsys):
    path = _write(_fresh(tmp_path), _mutate(source.read_bytes(), edits), source.name)
    try:
        load(path)
    except ScenarioError as err:
        assert len(str(err)) < 800
    status = cli.main(["check", str(path)])  # the CLI: 0 or 2, never an exception
    err = capsys.readouterr().err
    assert status in (0, cli.EXIT_USER_ERROR)
    if status:
        assert err.startswith("msme-sim: error:") and "Traceback" not in err
        assert source.stem in err  # the file is named


@settings(max_examples=max(FUZZ // 3, 10), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from(STUDIES), edits=_mutations())
def test_fuzzed_study_files_give_a_study_or_a_clear_error(tmp_path, source, edits, capsys):
    tmp_path = _fresh(tmp_path)
    path = _write(tmp_path, _mutate(source.read_bytes(), edits), source.name)
    try:
        load_study(path)
    except StudyError as err:
        assert len(str(err)) < 800
        out = tmp_path / "out"
        assert cli.main(["sweep", str(path), "--out", str(out), "--quiet"]) == cli.EXIT_USER_ERROR
        message = capsys.readouterr().err
        assert message.startswith("msme-sim: error:") and source.stem in message
        assert not out.exists()  # nothing written


# -- outputs and stores ----------------------------------------------------------------------------
QUICK_STUDY = b'description = "tiny"\nscenarios = ["baseline"]\nreplicates = 1\nyears = 1\n' \
              b'[parameters]\nn_firms = 300\nburn_in_months = 12\n'


@pytest.mark.parametrize("args", [["--workers", "-1"], ["--scheduler", "garbage://x"],
                                  ["--scheduler", "not a url"]])
def test_a_refused_sweep_option_leaves_no_store_behind(tmp_path, capsys, args):
    study = _write(tmp_path, QUICK_STUDY, "study.toml")
    out = tmp_path / "out"
    assert cli.main(["sweep", str(study), "--out", str(out), "--quiet", *args]) == cli.EXIT_USER_ERROR
    assert "msme-sim: error:" in capsys.readouterr().err
    assert not out.exists()
    # and the same study then runs normally into that folder
    assert cli.main(["sweep", str(study), "--out", str(out), "--quiet", "--workers", "0"]) == 0


def test_an_output_that_is_a_file_is_refused_before_the_run(tmp_path, capsys):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    assert cli.main(["run", "--set", "n_firms=300", "--years", "1", "--out", str(blocker / "x")]) \
        == cli.EXIT_USER_ERROR
    assert "is a file" in capsys.readouterr().err
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_output_folder_is_refused_before_the_run(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert cli.main(["run", "--set", "n_firms=300", "--years", "1", "--out", str(ro)]) == cli.EXIT_USER_ERROR
        assert "cannot write" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("content", [b"garbage, not a database" * 10, b"", b"SQLite format 3\x00" + b"\x00" * 50])
def test_export_of_a_damaged_store_is_refused_and_leaves_it_as_it_was(tmp_path, capsys, content):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "results.sqlite").write_bytes(content)
    assert cli.main(["export", str(folder)]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "results.sqlite" in err and "Traceback" not in err
    assert (folder / "results.sqlite").read_bytes() == content


def test_export_given_the_store_file_asks_for_its_folder(tmp_path, capsys):
    study = _write(tmp_path, QUICK_STUDY, "study.toml")
    out = tmp_path / "out"
    assert cli.main(["sweep", str(study), "--out", str(out), "--quiet", "--workers", "0"]) == 0
    capsys.readouterr()
    assert cli.main(["export", str(out / "results.sqlite")]) == cli.EXIT_USER_ERROR
    assert "give the study's folder" in capsys.readouterr().err
    assert cli.main(["export", str(out)]) == 0


def test_a_study_beyond_any_machine_is_refused_with_its_size(tmp_path):
    path = _write(tmp_path, STUDY.replace(b"replicates = 2", b"replicates = 100000")
                  + b'[design]\nmethod = "lhs"\nsamples = 1000000\n'
                  + b"[design.factors]\nalpha = { low = 0.5, high = 0.9 }\n",
                  "study.toml")
    with pytest.raises(StudyError, match="100,000,000,000 runs"):
        load_study(path)
    grid = _write(tmp_path, STUDY + b'[design]\nmethod = "grid"\n[design.factors]\n'
                  + b"".join(f"{n} = {list(range(1, 40))}\n".encode()
                             for n in ("reapply_months", "me_credit_months", "loan_term", "office_throughput")),
                  "grid.toml")
    with pytest.raises(StudyError, match="2,313,441 points"):
        load_study(grid)


def test_a_run_beyond_free_memory_is_refused_with_its_estimate(monkeypatch, tmp_path, capsys):
    import os as _os
    real = _os.sysconf
    monkeypatch.setattr(_os, "sysconf", lambda name: 1000 if name == "SC_AVPHYS_PAGES" else real(name))
    out = tmp_path / "out"
    assert cli.main(["run", "--set", "n_firms=1000000", "--out", str(out)]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "GB of memory" in err and "--force" in err
    assert not out.exists()


def test_a_refused_sweep_never_changes_a_stored_study(tmp_path, capsys):
    import hashlib
    study = _write(tmp_path, QUICK_STUDY, "study.toml")
    out = tmp_path / "out"
    assert cli.main(["sweep", str(study), "--out", str(out), "--quiet", "--workers", "0"]) == 0
    from sim import store
    db = out / "results.sqlite"
    digest, tables = hashlib.sha256(db.read_bytes()).hexdigest(), store.load(out)
    for edit in (QUICK_STUDY.replace(b"replicates = 1", b"replicates = 2"),  # another study
                 QUICK_STUDY + b"[outputs]\nsnapshots = [true]\n"):  # an invalid one
        _write(tmp_path, edit, "study.toml")
        assert cli.main(["sweep", str(study), "--out", str(out), "--quiet", "--workers", "0"]) \
            == cli.EXIT_USER_ERROR
    assert cli.main(["sweep", str(study), "--out", str(out), "--quiet", "--workers", "-1"]) \
        == cli.EXIT_USER_ERROR
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    again = store.load(out)
    for name in tables:
        pd.testing.assert_frame_equal(tables[name], again[name])


def test_a_sweep_into_an_output_under_a_file_is_refused_before_anything_is_written(tmp_path, capsys):
    study = _write(tmp_path, QUICK_STUDY, "study.toml")
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    assert cli.main(["sweep", str(study), "--out", str(blocker / "x"), "--quiet", "--workers", "0"]) \
        == cli.EXIT_USER_ERROR
    assert "is a file" in capsys.readouterr().err
    assert blocker.read_text() == "not a folder"


def test_the_memory_estimate_refuses_at_80_percent_of_free_memory(monkeypatch):
    """1,000,000 firms x 900 bytes = 0.9 GB: refused with 1.0 GB free (0.9 > 0.8 x 1.0), let
    through with 1.2 GB free (0.9 < 0.96) or with --force."""
    import os as _os
    real = _os.sysconf
    page = real("SC_PAGE_SIZE")

    def free(gb):
        monkeypatch.setattr(_os, "sysconf",
                            lambda n: int(gb * 1e9 / page) if n == "SC_AVPHYS_PAGES" else real(n))

    free(1.0)
    with pytest.raises(cli.UserError, match="0.8 GB of memory"):
        cli._memory_check(1_000_000, 0, 1, False, "this run")
    cli._memory_check(1_000_000, 0, 1, True, "this run")  # --force
    free(1.2)
    cli._memory_check(1_000_000, 0, 1, False, "this run")
    with pytest.raises(cli.UserError, match="2 x 1,000,000 firms"):  # two workers at once
        cli._memory_check(1_000_000, 0, 2, False, "this sweep")
