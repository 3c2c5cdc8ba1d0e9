"""Every example runs to completion: they are the documentation's gallery."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path, monkeypatch):
    if path.name.startswith("plot_"):
        pytest.importorskip("matplotlib")
        monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(path), run_name="__main__")
    if path.name.startswith("plot_"):
        import matplotlib.pyplot as plt

        plt.close("all")
