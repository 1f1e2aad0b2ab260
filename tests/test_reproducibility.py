import pandas as pd
import pytest

from sim.run import run

SMALL = dict(n_firms=3000, burn_in_months=240)


def test_same_seed_identical_tables():
    a = run(seed=11, months=24, snapshot_months=[24], **SMALL)
    b = run(seed=11, months=24, snapshot_months=[24], **SMALL)
    pd.testing.assert_frame_equal(a.monthly, b.monthly)
    pd.testing.assert_frame_equal(a.cohorts, b.cohorts)
    pd.testing.assert_frame_equal(a.snapshots[24], b.snapshots[24])


def test_different_seeds_differ():
    a = run(seed=11, months=12, **SMALL)
    b = run(seed=12, months=12, **SMALL)
    assert not a.monthly.drop(columns="seed").equals(b.monthly.drop(columns="seed"))


def test_cold_and_warm_cache_give_the_same_run(tmp_path, monkeypatch):
    monkeypatch.setenv("MSME_SIM_CACHE", str(tmp_path))
    cold = run(seed=5, months=6, **SMALL)
    assert list(tmp_path.glob("stationary-*.npz"))
    warm = run(seed=5, months=6, **SMALL)
    uncached = run(seed=5, months=6, use_cache=False, **SMALL)
    pd.testing.assert_frame_equal(cold.monthly, warm.monthly)
    pd.testing.assert_frame_equal(cold.monthly, uncached.monthly)


def test_seed_is_recorded_when_none_given():
    r = run(months=1, **SMALL)
    assert isinstance(r.seed, int) and (r.monthly["seed"] == r.seed).all()
    again = run(seed=r.seed, months=1, **SMALL)
    pd.testing.assert_frame_equal(r.monthly, again.monthly)


@pytest.mark.parametrize("bad", [-1, 1.5, "7"])
def test_bad_seed_refused(bad):
    with pytest.raises(ValueError, match="seed"):
        run(seed=bad, months=1, **SMALL)
