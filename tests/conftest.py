import pytest


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory):
    """Every test session burns in into its own cache, so tests never depend on a user's cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MSME_SIM_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
