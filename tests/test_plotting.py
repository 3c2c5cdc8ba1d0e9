"""Display objects render with Agg and carry the data they were given."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sksvd import PCAViaSVD, TruncatedSVDCompressor  # noqa: E402
from sksvd.plotting import (  # noqa: E402
    BiplotDisplay,
    CumulativeEnergyDisplay,
    RankGridDisplay,
    SpectrumDisplay,
    spectrum_panels,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_spectrum_from_estimator(rng):
    X = rng.standard_normal((30, 10))
    model = TruncatedSVDCompressor(5).fit(X)
    display = SpectrumDisplay.from_estimator(model, marks=[2], scale="log")
    np.testing.assert_allclose(display.line_.get_ydata(), model.singular_values_)
    assert display.ax_.get_yscale() == "log"
    np.testing.assert_allclose(
        display.marks_.get_offsets(), [[2, model.singular_values_[1]]]
    )


def test_spectrum_rejects_unknown_scale():
    with pytest.raises(ValueError, match="scale"):
        SpectrumDisplay([1.0]).plot(scale="loglog")


def test_cumulative_energy_from_singular_values_and_estimator(rng):
    s = np.array([4.0, 2.0, 1.0])
    display = CumulativeEnergyDisplay.from_singular_values(s, marks=[1, 2])
    np.testing.assert_allclose(display.line_.get_ydata(), np.cumsum(s**2) / 21)
    assert display.annotations_[0].get_text() == "r=1: 76.2%"
    X = rng.standard_normal((30, 6))
    pca = PCAViaSVD(3).fit(X)
    from_pca = CumulativeEnergyDisplay.from_estimator(pca)
    np.testing.assert_allclose(
        from_pca.line_.get_ydata(), np.cumsum(pca.explained_variance_ratio_)
    )


def test_rank_grid_shows_each_rank(rng):
    image = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    display = RankGridDisplay.from_image(image, ranks=(2, 1, 4), ncols=3)
    assert display.ranks == (1, 2, 4)
    assert len(display.images_) == 3
    from sksvd.image import compress_image

    expected = compress_image(image, rank=2).reconstruct()
    np.testing.assert_array_equal(display.images_[1].get_array(), expected)


def test_biplot_arrows_follow_loadings(rng):
    X = rng.standard_normal((40, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0], [0, 0, 2.0]])
    pca = PCAViaSVD(matrix="correlation").fit(X)
    display = BiplotDisplay.from_estimator(pca, X)
    np.testing.assert_allclose(display.points_.get_offsets(), pca.transform(X)[:, :2])
    assert len(display.arrows_) == 3
    with pytest.raises(ValueError, match="components"):
        BiplotDisplay.from_estimator(PCAViaSVD(1).fit(X), X)


def test_spectrum_panels_has_four_axes():
    figure = spectrum_panels(np.geomspace(10, 0.1, 30), marks=[5, 20])
    assert len(figure.axes) == 4
    assert figure.axes[1].get_yscale() == "log"


def test_biplot_of_a_pipeline_and_arrows_in_screen_space():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sksvd import PCAViaSVD

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 4)) * [1.0, 10.0, 100.0, 0.1]
    pipeline = make_pipeline(StandardScaler(), PCAViaSVD(2)).fit(X)
    display = BiplotDisplay.from_estimator(pipeline, X)
    np.testing.assert_allclose(display.scores, pipeline.transform(X))
    np.testing.assert_array_equal(display.loadings, pipeline[-1].loadings_)
    assert len(display.arrows_) == 4
    # Arrow heads are drawn in points, whatever the axes' data ranges.
    assert all(arrow.arrow_patch is not None for arrow in display.arrows_)


def test_rank_grid_with_the_original_panel():
    image = np.add.outer(np.arange(30), np.arange(40)).astype(np.uint8)
    display = RankGridDisplay.from_image(image, ranks=(1, 2), original=True)
    titles = [axes.get_title() for axes in display.axes_.ravel()]
    assert titles[0] == "original" and titles[1].startswith("r = 1")
    assert display.images_[0].get_clim() == (0, 255)


def test_biplot_names_come_through_the_pipeline():
    import pandas as pd
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sksvd import PCAViaSVD

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((40, 3)), columns=["a", "b", "c"])
    pipeline = make_pipeline(StandardScaler(), PCAViaSVD(2)).fit(X)
    assert BiplotDisplay.from_estimator(pipeline, X).feature_names == ["a", "b", "c"]
    with pytest.raises(ValueError, match="last step"):
        BiplotDisplay.from_estimator(make_pipeline(StandardScaler()).fit(X), X)
    with pytest.raises(ValueError, match="two non-negative"):
        BiplotDisplay.from_estimator(pipeline, X, components=(-1, 0))
