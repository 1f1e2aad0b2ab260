"""Size classes of Indonesian businesses under Law 20/2008 and Government Regulation (PP) 7/2021.

Thresholds are upper bounds (inclusive) of micro, small and medium; above medium is large.
Sources: Law 20/2008 art. 6; PP 7/2021 art. 35 (see CALIBRATION.md).

- Law 20/2008 art. 6 defines each class by net assets (excluding land and buildings) *or* annual
  sales ("atau"). We read it as the micro criterion is met if either figure is within the micro
  bound, and so on up: a firm is put in the *lower* of the two classes its assets and its sales
  indicate. (Reading "or" the other way, the higher class, raises the small share; see
  docs/calibration.md.)
- PP 7/2021 art. 35: business capital classifies newly established businesses, annual sales
  classify existing ones. Here a firm younger than 12 months is "new".
"""

from __future__ import annotations

import numpy as np

CLASS_NAMES = ("micro", "small", "medium", "large")
MICRO, SMALL, MEDIUM, LARGE = range(4)
NEW_FIRM_MONTHS = 12

# upper bounds of micro, small, medium in Rp
THRESHOLDS = {
    "law20_2008": {"capital": (50e6, 500e6, 10e9), "sales": (300e6, 2.5e9, 50e9)},
    "pp7_2021": {"capital": (1e9, 5e9, 10e9), "sales": (2e9, 15e9, 50e9)},
}


def _bin(values: np.ndarray, bounds) -> np.ndarray:
    """Number of bounds each value exceeds; a value equal to a bound stays in the lower class
    ("<= Rp 50 M" is micro). Three comparisons beat a binary search over three bounds."""
    out = (values > bounds[0]).view(np.int8)
    for b in bounds[1:]:
        out += (values > b).view(np.int8)
    return out


def classify(law: str, capital: np.ndarray, annual_sales: np.ndarray,
             age_months: np.ndarray) -> np.ndarray:
    """Size class (0 micro … 3 large) of each firm under ``law``."""
    t = THRESHOLDS[law]
    by_capital = _bin(capital, t["capital"])
    by_sales = _bin(annual_sales, t["sales"])
    if law == "law20_2008":
        return np.minimum(by_capital, by_sales)
    # np.where's choice as by_sales + new * (by_capital - by_sales), in bytes (ten times faster)
    by_capital -= by_sales
    by_capital *= np.asarray(age_months < NEW_FIRM_MONTHS).view(np.int8)
    by_capital += by_sales
    return by_capital
