import numpy as np

from sim.classes import LARGE, MEDIUM, MICRO, SMALL, classify

OLD = np.array([60])
NEW = np.array([3])


def c(law, capital, sales, age):
    return int(classify(law, np.array([capital], float), np.array([sales], float), age)[0])


def test_pp7_2021_existing_firms_by_sales_bounds_inclusive():
    assert c("pp7_2021", 1e12, 2e9, OLD) == MICRO  # "<= Rp 2 bn" is micro, capital ignored
    assert c("pp7_2021", 0, 2e9 + 1, OLD) == SMALL
    assert c("pp7_2021", 0, 15e9 + 1, OLD) == MEDIUM
    assert c("pp7_2021", 0, 50e9 + 1, OLD) == LARGE


def test_pp7_2021_new_firms_by_capital():
    assert c("pp7_2021", 1e9, 1e12, NEW) == MICRO
    assert c("pp7_2021", 1e9 + 1, 0, NEW) == SMALL
    assert c("pp7_2021", 5e9 + 1, 0, NEW) == MEDIUM
    assert c("pp7_2021", 10e9 + 1, 0, NEW) == LARGE


def test_law20_2008_lower_of_assets_and_sales():
    assert c("law20_2008", 40e6, 1e9, OLD) == MICRO  # assets within micro bound
    assert c("law20_2008", 60e6, 301e6, OLD) == SMALL
    assert c("law20_2008", 600e6, 3e9, OLD) == MEDIUM
    assert c("law20_2008", 600e6, 200e6, OLD) == MICRO
    assert c("law20_2008", 11e9, 51e9, NEW) == LARGE
