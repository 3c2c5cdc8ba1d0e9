"""Run the documentation's pages as doctests (``--doctest-glob=*.rst``).

Each page is one doctest: its ``>>>`` blocks run in order in one namespace, in a
temporary working directory, with matplotlib drawing off screen.
"""

import os
from importlib.metadata import version

import pytest
from packaging.version import Version

os.environ.setdefault("MPLBACKEND", "Agg")
# SciPy reads this when it is first imported; the array-API page needs it.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# Build outputs, generated API stubs and the gallery's generated pages are not
# sources: the gallery's scripts run when the documentation is built.
collect_ignore_glob = ["_build/*", "generated/*", "auto_examples/*", "conf.py"]
# Array-API input needs scikit-learn 1.8 and SciPy 1.14 (the page says so).
if Version(version("scikit-learn")) < Version("1.8") or Version(
    version("scipy")
) < Version("1.14"):
    collect_ignore_glob.append("user_guide/array_api.rst")


@pytest.fixture(autouse=True)
def _in_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        return
    plt.close("all")
