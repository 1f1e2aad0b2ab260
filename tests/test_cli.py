import json
import subprocess
import sys

import pandas as pd
import pytest

CLI = [sys.executable, "-m", "sim.cli"]

pytestmark = pytest.mark.subprocess  # runs the CLI in child processes


def _run(args, tmp_path):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=tmp_path)


def test_run_writes_table_figure_and_metadata(tmp_path):
    r = _run(["run", "--years", "2", "--seed", "9", "--set", "n_firms=2000",
              "--set", "burn_in_months=120", "--snapshot-months", "0,24", "--out", "out"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "graduations micro->small" in r.stdout and "export share" in r.stdout
    (run_dir,) = (tmp_path / "out").iterdir()
    monthly = pd.read_csv(run_dir / "monthly.csv")
    assert len(monthly) == 25 and (monthly["seed"] == 9).all()
    assert (run_dir / "outcomes.png").stat().st_size > 10_000
    assert json.loads((run_dir / "run.json").read_text())["seed"] == 9
    assert len(pd.read_csv(run_dir / "firms-month0024.csv")) == monthly["firms"].iloc[-1]


@pytest.mark.parametrize("args,fragment", [
    (["--set", "n_firms=-5"], "'n_firms' = -5 is outside its allowed range"),
    (["--set", "growth_share=1.5"], "[0, 1]"),
    (["--set", "margin=nan"], "'margin'"),
    (["--set", "alpah=0.5"], "did you mean 'alpha'"),
    (["--set", "alpha"], "NAME=VALUE"),
    (["--years", "0"], "--years"),
])
def test_bad_input_exits_2_without_traceback_or_output(tmp_path, args, fragment):
    r = _run(["run", "--out", "out", *args], tmp_path)
    assert r.returncode == 2
    assert fragment in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_params_lists_every_parameter(tmp_path):
    r = _run(["params"], tmp_path)
    assert r.returncode == 0 and "demand_per_firm" in r.stdout and "uncertainty" in r.stdout
