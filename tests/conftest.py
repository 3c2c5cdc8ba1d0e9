"""Shared fixtures (the global random seed) and the hypothesis profiles."""

import os

# scikit-learn's array-API dispatch needs SciPy's array-API mode, which SciPy
# reads once, when it is first imported: set before anything imports it, so that
# the array-API tests (and scikit-learn's array-API estimator checks) run.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

_SEED_VARIABLE = "SKSVD_TESTS_GLOBAL_RANDOM_SEED"
_HYPOTHESIS_PROFILE_VARIABLE = "SKSVD_HYPOTHESIS_PROFILE"

# Property tests draw the same examples on every run by default, so a CI result
# depends only on the code. The "explore" profile draws new, many more examples:
# run it from time to time to find the cases the fixed draw misses.
settings.register_profile(
    "ci", max_examples=50, derandomize=True, database=None, deadline=None
)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get(_HYPOTHESIS_PROFILE_VARIABLE, "ci"))


def _seeds():
    """Seeds from the environment: an int, a range "a-b", or "all" (0-99); 42 if unset.

    CI runs one seed; running with "all" from time to time checks that no test
    passes only by the luck of one draw.
    """
    value = os.environ.get(_SEED_VARIABLE, "42").strip()
    if value == "all":
        return list(range(100))
    if "-" in value:
        low, high = (int(part) for part in value.split("-"))
        return list(range(low, high + 1))
    return [int(value)]


def pytest_generate_tests(metafunc):
    if "global_random_seed" in metafunc.fixturenames:
        metafunc.parametrize("global_random_seed", _seeds())


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.config.get_terminal_writer().line(
            "no test was collected: that is a failure, not a pass", red=True
        )


@pytest.fixture
def rng(global_random_seed):
    import numpy as np

    return np.random.default_rng(global_random_seed)


@pytest.fixture
def usarrests():
    """R's USArrests (public domain), shipped with the test suite."""
    from pathlib import Path

    import pandas as pd

    return pd.read_csv(Path(__file__).parent / "data" / "USArrests.csv", index_col=0)
