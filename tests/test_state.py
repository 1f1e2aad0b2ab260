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


def test_money_is_double_and_the_logs_and_shares_single():
    """docs/ODD.md §2 (Precision): money stocks and flows are float64 (running sums such as
    sales_12m would drift in single precision); the logs and shares the month's chain reads are
    float32 (half the memory traffic)."""
    from sim.state import COLUMNS
    money = ("capital", "sales", "export_sales", "sales_12m", "sales_history", "loan_balance",
             "loan_payment")
    single = ("ability", "log_quality", "log_productivity", "log_reach", "volatility", "access",
              "access_base", "training", "access_boost", "utilisation")
    assert all(COLUMNS[c][0] is np.float64 for c in money)
    assert all(COLUMNS[c][0] is np.float32 for c in single)
    floats = {c for c, (dtype, _) in COLUMNS.items() if np.issubdtype(dtype, np.floating)}
    assert floats == set(money) | set(single)  # a new float column must choose, and say so in ODD
