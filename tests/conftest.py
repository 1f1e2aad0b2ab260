import pytest
from hypothesis import settings

# property-based tests draw the same examples on every run: a test must not pass or fail by luck
settings.register_profile("deterministic", derandomize=True, deadline=None)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory):
    """Every test session burns in into its own cache, so tests never depend on a user's cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MSME_SIM_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
