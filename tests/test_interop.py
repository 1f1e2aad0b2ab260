"""Every code example in docs/interop.md runs as written (each in its own process, from a file,
as a user would run it)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).parents[1] / "docs" / "interop.md"
EXAMPLES = dict(re.findall(r"<!-- tested: (\w+) -->\n```python\n(.*?)```", DOC.read_text(), flags=re.S))

pytestmark = pytest.mark.subprocess


def test_the_page_has_its_examples():
    assert set(EXAMPLES) == {"salib", "ema", "batch_run"}


@pytest.mark.parametrize("name,expected", [
    ("salib", r"\{'margin': np\.float64\(-?[\d.]+\), 'fixed_cost': np\.float64\(-?[\d.]+\)\}"),
    ("ema", r"6 experiments, sequential\n6 experiments, 2 processes"),
    ("batch_run", r"4 rows\n\['RunId', 'Step', 'burn_in_months', 'entries', 'exits', 'export_share'\]"),
])
def test_example_runs(name, expected, tmp_path):
    if name == "ema":
        pytest.importorskip("ema_workbench", reason="pip install -e '.[interop]'")
    script = tmp_path / f"example_{name}.py"
    script.write_text(EXAMPLES[name])
    root = Path(__file__).parents[1]
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(root)}, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.search(expected, r.stdout), r.stdout
