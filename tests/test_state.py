import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.state import FirmTable


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 2**16)), min_size=1, max_size=12))
def test_append_remove_keeps_rows_and_ids_consistent(ops):
    t = FirmTable(4)
    alive: set[int] = set()
    for k, bits in ops:
        rows = t.append({"capital": np.arange(k, dtype=float)}, k)
        alive |= set(t.cols["firm_id"][rows].tolist())
        leaving = (np.arange(t.n) * 7 + bits) % 3 == 0
        alive -= set(t["firm_id"][leaving].tolist())
        t.remove(leaving)
        ids = t["firm_id"]
        assert set(ids.tolist()) == alive and len(ids) == t.n
        assert np.array_equal(t.row_of[ids], np.arange(t.n))
        assert (np.delete(t.row_of[: t.next_id], ids) == -1).all()


def test_values_move_with_their_firm():
    t = FirmTable(4)
    t.append({"capital": np.array([10.0, 11, 12, 13, 14])}, 5)
    t.remove(np.array([True, False, True, False, False]))
    by_id = dict(zip(t["firm_id"].tolist(), t["capital"].tolist(), strict=True))
    assert by_id == {1: 11.0, 3: 13.0, 4: 14.0}
