"""The firm population as a table of numpy columns, live firms packed in rows ``[0, n)``.

Exits are removed by moving the last live rows into the holes (order is not preserved, which
nothing relies on); entrants are appended. Columns are preallocated and grow by half when full, so
the monthly step allocates nothing for bookkeeping. A firm is identified by ``firm_id`` (never
reused); ``row_of`` maps a firm id to its current row (-1 once it has exited).
"""

from __future__ import annotations

import numpy as np

HISTORY = 12  # months of sales kept per firm

COLUMNS: dict[str, tuple[type, tuple[int, ...]]] = {
    "firm_id": (np.int64, ()),
    "entry_month": (np.int32, ()),  # month the firm entered (<= 0 for firms present at start)
    "sector": (np.int8, ()),
    "district": (np.int8, ()),
    "growth_oriented": (np.bool_, ()),
    "ability": (np.float32, ()),
    "capital": (np.float64, ()),
    "log_quality": (np.float32, ()),
    "log_productivity": (np.float32, ()),  # persistent productivity shock (AR(1) in logs)
    "volatility": (np.float32, ()),  # this spell's factor on the SD of the firm's shocks (mean square 1)
    "volatility_until": (np.int32, ()),  # the month the spell ends (a new one is drawn then)
    "log_reach": (np.float32, ()),  # log customer reach relative to a mature firm's (<= 0, rises)
    "access": (np.float32, ()),
    "access_base": (np.float32, ()),
    "sales": (np.float64, ()),  # last month's total sales, Rp
    "export_sales": (np.float64, ()),  # last month's export sales, Rp
    "sales_12m": (np.float64, ()),  # sum of the last 12 months' sales, Rp
    "sales_history": (np.float64, (HISTORY,)),  # ring buffer of monthly sales
    "size_class": (np.int8, ()),
    "peak_class": (np.int8, ()),  # highest class held since entry (or since month 0): graduations
    "utilisation": (np.float32, ()),  # last month's sales / capacity
    "aware": (np.bool_, ()),  # knows the office
    "registered": (np.bool_, ()),  # in the office's registry
    # the office's services (see sim/office.py, sim/instruments.py)
    "queued": (np.bool_, ()),  # waiting for a service
    "apply_month": (np.int32, ()),  # when it joined the queue
    "times_served": (np.int16, ()),
    "served_month": (np.int32, ()),  # last service (meaningful when times_served > 0)
    "last_instrument": (np.int8, ()),  # index into params.INSTRUMENTS
    "trainings": (np.int16, ()),
    "training": (np.float32, ()),  # training's current effect on log quality (fades)
    "access_boost": (np.float32, ()),  # access gained from services (fades); access = base + boost
    "loan_balance": (np.float64, ()),
    "loan_payment": (np.float64, ()),  # Rp/month while loan_months_left > 0
    "loan_months_left": (np.int16, ()),
}


class FirmTable:
    """Columns of firm state with ``n`` live rows."""

    def __init__(self, capacity: int):
        self.capacity = max(int(capacity), 16)
        self.n = 0
        # 2-D columns in Fortran order, so one month of history is contiguous
        self.cols = {name: np.zeros((self.capacity, *shape), dtype, order="F")
                     for name, (dtype, shape) in COLUMNS.items()}
        self.row_of = np.full(self.capacity, -1, np.int64)  # indexed by firm_id
        self.next_id = 0

    def __getitem__(self, name: str) -> np.ndarray:
        """The live rows of one column (a view)."""
        return self.cols[name][: self.n]

    def _grow(self, need: int) -> None:
        new = max(need, int(self.capacity * 1.5))
        for name, arr in self.cols.items():
            grown = np.zeros((new, *arr.shape[1:]), arr.dtype, order="F")
            grown[: self.n] = arr[: self.n]
            self.cols[name] = grown
        self.capacity = new

    def _grow_ids(self, need: int) -> None:
        grown = np.full(max(need, int(len(self.row_of) * 1.5)), -1, np.int64)
        grown[: len(self.row_of)] = self.row_of
        self.row_of = grown

    def append(self, values: dict[str, np.ndarray], k: int) -> np.ndarray:
        """Append ``k`` firms; columns not given are zero. Returns the new rows as a slice."""
        if self.n + k > self.capacity:
            self._grow(self.n + k)
        if self.next_id + k > len(self.row_of):
            self._grow_ids(self.next_id + k)
        rows = slice(self.n, self.n + k)
        for name, arr in self.cols.items():
            if name in values:
                arr[rows] = values[name]
            else:
                arr[rows] = 0
        ids = np.arange(self.next_id, self.next_id + k)
        self.cols["firm_id"][rows] = ids
        self.row_of[ids] = np.arange(self.n, self.n + k)
        self.next_id += k
        self.n += k
        return rows

    def remove(self, leaving: np.ndarray) -> None:
        """Remove the live rows where ``leaving`` (bool, length n) is true."""
        n = self.n
        gone = np.flatnonzero(leaving)
        k = len(gone)
        if k == 0:
            return
        self.row_of[self.cols["firm_id"][gone]] = -1
        keep_n = n - k
        holes = gone[gone < keep_n]
        movers = keep_n + np.flatnonzero(~leaving[keep_n:n])
        if len(holes):
            for arr in self.cols.values():
                arr[holes] = arr[movers]
            self.row_of[self.cols["firm_id"][holes]] = holes
        self.n = keep_n
