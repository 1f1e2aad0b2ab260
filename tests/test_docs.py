"""The documents describe the model as it is."""

from pathlib import Path

from sim.events import EVENT_FIELDS
from sim.params import parameter_table

ROOT = Path(__file__).resolve().parents[1]


def test_odd_parameter_table_is_current():
    import docs.make_parameter_table as make
    odd = (ROOT / "docs" / "ODD.md").read_text()
    assert odd.split(make.MARK)[1].strip() == make.table().strip(), \
        "run .venv/bin/python docs/make_parameter_table.py"
    for row in parameter_table():
        assert f"`{row['name']}`" in odd


def test_odd_describes_every_event_type_and_field():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for kind, fields in EVENT_FIELDS.items():
        assert f"`{kind}`" in odd
        for name in fields:
            assert f"`{name}`" in odd, (kind, name)
