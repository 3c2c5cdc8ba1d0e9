"""Display objects in scikit-learn's style: spectra, energy, rank grids, biplots.

Each ``*Display`` is built by ``from_estimator`` or ``from_singular_values`` (or
``from_image``) and drawn by ``plot(ax=...)``, which returns the display with its
``figure_``, ``ax_`` and artists set. Needs matplotlib
(``pip install "sksvd[plot]"``).
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from sksvd.linalg._low_rank import _check_spectrum


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            'Plotting needs matplotlib: pip install "sksvd[plot]"'
        ) from None
    return plt


def _axes(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


def _spectrum_of(estimator):
    check_is_fitted(estimator, "singular_values_")
    return np.asarray(estimator.singular_values_)


class SpectrumDisplay:
    """Singular values against their index, on a linear or logarithmic axis.

    Parameters
    ----------
    singular_values : ndarray of shape (k,)
        Descending singular values.
    marks : sequence of int, default=()
        Ranks to highlight (1-based: rank r marks ``σ_r``).

    Attributes
    ----------
    line_ : matplotlib Line2D
    marks_ : matplotlib PathCollection or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sksvd.plotting import SpectrumDisplay
    >>> display = SpectrumDisplay.from_singular_values([4.0, 2.0, 1.0], scale="log")
    >>> display.line_.get_ydata().tolist()
    [4.0, 2.0, 1.0]
    """

    def __init__(self, singular_values, marks=()):
        self.singular_values = np.asarray(singular_values)
        self.marks = tuple(marks)

    @classmethod
    def from_singular_values(
        cls, singular_values, *, marks=(), scale="linear", ax=None
    ):
        """Plot a spectrum given as an array.

        Parameters
        ----------
        singular_values : array-like of shape (k,)
        marks : sequence of int, default=()
        scale : {"linear", "log"}, default="linear"
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : SpectrumDisplay
        """
        return cls(_check_spectrum(singular_values), marks).plot(ax=ax, scale=scale)

    @classmethod
    def from_estimator(cls, estimator, *, marks=(), scale="linear", ax=None):
        """Plot the ``singular_values_`` of a fitted estimator.

        Parameters
        ----------
        estimator : fitted estimator with ``singular_values_``
        marks : sequence of int, default=()
        scale : {"linear", "log"}, default="linear"
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : SpectrumDisplay
        """
        return cls(_spectrum_of(estimator), marks).plot(ax=ax, scale=scale)

    def plot(self, ax=None, *, scale="linear"):
        """Draw the spectrum.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        scale : {"linear", "log"}, default="linear"

        Returns
        -------
        self : SpectrumDisplay
        """
        if scale not in ("linear", "log"):
            raise ValueError(f"scale must be 'linear' or 'log'; got {scale!r}.")
        ax = _axes(ax)
        ranks = np.arange(1, self.singular_values.size + 1)
        (self.line_,) = ax.plot(ranks, self.singular_values)
        # A log axis shows positive values only; an all-zero spectrum stays linear.
        if scale == "log" and np.any(self.singular_values > 0):
            ax.set_yscale("log")
        self.marks_ = None
        marks = [r for r in self.marks if 1 <= r <= self.singular_values.size]
        if marks:
            values = self.singular_values[np.array(marks) - 1]
            colours = [f"C{index + 1}" for index in range(len(marks))]
            self.marks_ = ax.scatter(
                marks, values, marker="*", s=120, zorder=3, c=colours
            )
            # Labels in a legend: marks close together on the axis would
            # overlap as annotations.
            from matplotlib.lines import Line2D

            handles = [
                Line2D([], [], marker="*", markersize=11, ls="none", color=colour)
                for colour in colours
            ]
            labels = [
                f"r={rank}: σ={value:.3g}"
                for rank, value in zip(marks, values, strict=True)
            ]
            ax.legend(handles, labels, loc="upper right")
        ax.set_xlabel("rank i")
        log = scale == "log"
        ax.set_ylabel("singular value σᵢ" + (" (log scale)" if log else ""))
        ax.set_title("Singular values" + (", log scale" if log else ""))
        self.ax_, self.figure_ = ax, ax.figure
        return self


class CumulativeEnergyDisplay:
    """Fraction of ``‖X‖²_F`` kept by the first r components, against r.

    Parameters
    ----------
    cumulative_energy : ndarray of shape (k,)
        ``Σᵢ≤ᵣ σᵢ² / ‖X‖²_F`` for r = 1 … k.
    marks : sequence of int, default=()
        Ranks to annotate with the energy they keep.

    Attributes
    ----------
    line_ : matplotlib Line2D
    annotations_ : list of matplotlib Annotation
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sksvd.plotting import CumulativeEnergyDisplay
    >>> display = CumulativeEnergyDisplay.from_singular_values([3.0, 2.0, 1.0, 1.0])
    >>> display.line_.get_ydata().round(3).tolist()
    [0.6, 0.867, 0.933, 1.0]
    """

    def __init__(self, cumulative_energy, marks=()):
        self.cumulative_energy = np.asarray(cumulative_energy)
        self.marks = tuple(marks)

    @classmethod
    def from_singular_values(cls, singular_values, *, marks=(), ax=None):
        """Plot from the whole spectrum.

        Parameters
        ----------
        singular_values : array-like of shape (min(m, n),)
            All singular values, so that their squares sum to ``‖X‖²_F``.
        marks : sequence of int, default=()
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : CumulativeEnergyDisplay
        """
        from sksvd.linalg import energy_ratio

        cumulative = np.cumsum(energy_ratio(singular_values))
        return cls(cumulative, marks).plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, *, marks=(), ax=None):
        """Plot ``explained_energy_ratio_`` (or ``explained_variance_ratio_``).

        Only the fitted components appear, so the curve ends at the fraction the
        estimator keeps.

        Parameters
        ----------
        estimator : fitted TruncatedSVDCompressor or PCAViaSVD
        marks : sequence of int, default=()
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : CumulativeEnergyDisplay
        """
        for name in ("explained_energy_ratio_", "explained_variance_ratio_"):
            if hasattr(estimator, name):
                return cls(np.cumsum(getattr(estimator, name)), marks).plot(ax=ax)
        check_is_fitted(estimator, "explained_energy_ratio_")
        raise ValueError(  # pragma: no cover - check_is_fitted raises first
            f"{type(estimator).__name__} has no energy or variance ratio."
        )

    def plot(self, ax=None):
        """Draw the curve and the marks.

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        self : CumulativeEnergyDisplay
        """
        ax = _axes(ax)
        ranks = np.arange(1, self.cumulative_energy.size + 1)
        (self.line_,) = ax.plot(ranks, self.cumulative_energy)
        self.annotations_ = []
        for rank in self.marks:
            if 1 <= rank <= self.cumulative_energy.size:
                kept = self.cumulative_energy[rank - 1]
                ax.plot([rank], [kept], marker="*", markersize=12, ls="none")
                self.annotations_.append(
                    ax.annotate(
                        f"r={rank}: {kept:.1%}",
                        (rank, kept),
                        textcoords="offset points",
                        xytext=(8, -14),
                    )
                )
        # From the first component's share up: the curve of a photograph starts
        # near 1, where an axis from 0 would flatten it.
        first = float(self.cumulative_energy[0]) if self.cumulative_energy.size else 0
        low = max(0.0, first - 0.05 * (1.02 - first))
        ax.set_ylim(low, 1.0 + 0.02 * (1.0 - low))
        ax.set_xlabel("rank r")
        ax.set_ylabel(r"cumulative energy $\sum_{i \leq r} \sigma_i^2 / \|X\|_F^2$")
        ax.set_title("Energy kept")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class RankGridDisplay:
    """An image reconstructed at several ranks, with the storage each needs.

    Parameters
    ----------
    reconstructions : list of ndarray
        One image per rank, same shape and dtype.
    ranks : sequence of int
    storage_ratios : sequence of float
        Values stored over pixels, per rank.

    Attributes
    ----------
    images_ : list of matplotlib AxesImage
    axes_ : ndarray of matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sksvd.plotting import RankGridDisplay
    >>> image = np.random.default_rng(0).integers(0, 256, (30, 40), dtype=np.uint8)
    >>> display = RankGridDisplay.from_image(image, ranks=(1, 5))
    >>> [axes.get_title() for axes in display.axes_.ravel()]
    ['r = 1, storage 5.9%', 'r = 5, storage 29.6%']
    """

    def __init__(self, reconstructions, ranks, storage_ratios):
        self.reconstructions = list(reconstructions)
        self.ranks = tuple(ranks)
        self.storage_ratios = tuple(storage_ratios)

    @classmethod
    def from_image(
        cls, image, *, ranks=(5, 10, 20, 50), ncols=2, solver="auto", original=False
    ):
        """Compress ``image`` once at the largest rank and show each truncation.

        Parameters
        ----------
        image : array-like of shape (height, width) or (height, width, 3 or 4)
        ranks : sequence of int, default=(5, 10, 20, 50)
        ncols : int, default=2
        solver : str, default="auto"
        original : bool, default=False
            Show the image itself in the first panel.

        Returns
        -------
        display : RankGridDisplay
        """
        from sksvd.image import CompressedImage, compress_image

        ranks = sorted(int(r) for r in ranks)
        if not ranks:
            raise ValueError("ranks must name at least one rank.")
        full = compress_image(image, rank=ranks[-1], solver=solver)
        reconstructions, storage = [], []
        for rank in ranks:
            truncated = CompressedImage(
                [(U[:, :rank], s[:rank], Vt[:rank]) for U, s, Vt in full.factors],
                full.shape,
                full.dtype,
                full.value_range,
                0,
                0,
            )
            reconstructions.append(truncated.reconstruct())
            storage.append(truncated.storage_ratio)
        display = cls(reconstructions, ranks, storage)
        display.original = np.asarray(image) if original else None
        return display.plot(ncols=ncols)

    def plot(self, *, ncols=2, figsize=None):
        """Draw the grid, one panel per rank.

        Parameters
        ----------
        ncols : int, default=2
        figsize : tuple of float, default=None

        Returns
        -------
        self : RankGridDisplay
        """
        plt = _pyplot()
        original = getattr(self, "original", None)
        panels = [
            (image, f"r = {rank}, storage {ratio:.1%}")
            for image, rank, ratio in zip(
                self.reconstructions, self.ranks, self.storage_ratios, strict=True
            )
        ]
        if original is not None:
            panels.insert(0, (original, "original"))
        count = len(panels)
        ncols = min(ncols, count)
        nrows = -(-count // ncols)
        figure, axes = plt.subplots(
            nrows, ncols, figsize=figsize or (4.5 * ncols, 3.5 * nrows), squeeze=False
        )
        self.images_ = []
        for ax, (image, title) in zip(axes.ravel(), panels, strict=False):
            grey = image.ndim == 2
            # Integer images on their dtype's full range, as a viewer shows
            # them: no contrast stretch that would hide what the rank loses.
            limits = {}
            if grey and np.issubdtype(image.dtype, np.integer):
                info = np.iinfo(image.dtype)
                limits = {"vmin": info.min, "vmax": info.max}
            elif not grey and image.dtype != np.uint8:
                # matplotlib shows colour as uint8 or floats in [0, 1].
                low, high = float(np.min(image)), float(np.max(image))
                if np.issubdtype(image.dtype, np.integer):
                    low, high = 0.0, float(np.iinfo(image.dtype).max)
                image = (image.astype(np.float64) - low) / ((high - low) or 1.0)
            self.images_.append(
                ax.imshow(image, cmap="gray" if grey else None, **limits)
            )
            ax.set_title(title)
            ax.axis("off")
        for ax in axes.ravel()[count:]:
            ax.axis("off")
        figure.tight_layout()
        self.axes_, self.figure_ = axes, figure
        return self


class BiplotDisplay:
    """PCA biplot: sample scores as points, variable loadings as arrows.

    Parameters
    ----------
    scores : ndarray of shape (n_samples, 2)
        Projections on two components.
    loadings : ndarray of shape (2, n_features)
        Loadings of the variables on the same components.
    feature_names : sequence of str
    components : tuple of int, default=(0, 1)
        Which components these are, for the axis labels.

    Attributes
    ----------
    points_ : matplotlib PathCollection
    arrows_ : list of matplotlib Annotation
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sksvd import PCAViaSVD
    >>> from sksvd.plotting import BiplotDisplay
    >>> X = np.random.default_rng(0).standard_normal((50, 3))
    >>> pca = PCAViaSVD(matrix="correlation").fit(X)
    >>> len(BiplotDisplay.from_estimator(pca, X).arrows_)
    3
    """

    def __init__(self, scores, loadings, feature_names, components=(0, 1)):
        self.scores = np.asarray(scores)
        self.loadings = np.asarray(loadings)
        self.feature_names = list(feature_names)
        self.components = tuple(components)

    @classmethod
    def from_estimator(cls, estimator, X, *, components=(0, 1), ax=None):
        """Biplot of a fitted :class:`~sksvd.PCAViaSVD` on data ``X``.

        Parameters
        ----------
        estimator : fitted PCAViaSVD, or a fitted Pipeline ending in one
            (anything with ``transform`` and ``loadings_``)
        X : array-like of shape (n_samples, n_features)
        components : tuple of int, default=(0, 1)
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : BiplotDisplay
        """
        # A Pipeline ending in the PCA: the scores go through every step, the
        # loadings are the last step's, and the names those it received.
        pipeline = hasattr(estimator, "steps")
        pca = estimator[-1] if pipeline else estimator
        if pipeline and not isinstance(getattr(pca, "matrix", None), str):
            raise ValueError(
                "BiplotDisplay.from_estimator takes a PCAViaSVD, or a Pipeline whose "
                f"last step is one; got a Pipeline ending in {type(pca).__name__}."
            )
        check_is_fitted(pca, "loadings_")
        components = tuple(components)
        if len(components) != 2 or any(
            not isinstance(c, int | np.integer) or c < 0 for c in components
        ):
            raise ValueError(
                f"components must be two non-negative component indices; got "
                f"{components}."
            )
        first, second = components
        if max(first, second) >= pca.n_components_:
            raise ValueError(
                f"components={components} needs at least {max(components) + 1} "
                f"fitted components; the estimator has {pca.n_components_}."
            )
        scores = np.asarray(estimator.transform(X))[:, [first, second]]
        names = getattr(pca, "feature_names_in_", None)
        if names is None and pipeline and len(estimator) > 1:
            try:
                names = estimator[:-1].get_feature_names_out()
            except (AttributeError, ValueError):
                names = None
        if names is None:
            names = [f"x{j}" for j in range(pca.n_features_in_)]
        loadings = pca.loadings_[[first, second]]
        return cls(scores, loadings, names, components).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the scores and the loading arrows (scaled to the scores' spread).

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        self : BiplotDisplay
        """
        ax = _axes(ax)
        self.points_ = ax.scatter(self.scores[:, 0], self.scores[:, 1], s=10, alpha=0.5)
        spread = np.max(np.abs(self.scores)) if self.scores.size else 1.0
        longest = np.max(np.linalg.norm(self.loadings, axis=0)) or 1.0
        factor = 0.8 * spread / longest
        self.arrows_ = []
        for name, (dx, dy) in zip(self.feature_names, self.loadings.T, strict=True):
            # Arrows drawn in screen space: their heads and widths do not depend
            # on the two axes' data ranges.
            self.arrows_.append(
                ax.annotate(
                    "",
                    xy=(factor * dx, factor * dy),
                    xytext=(0, 0),
                    arrowprops={"arrowstyle": "-|>", "color": "C3", "lw": 1.5},
                )
            )
            # Each label sits beyond its arrow's tip, aligned away from the
            # origin, so labels of arrows in different directions do not overlap.
            ax.annotate(
                name,
                (factor * dx, factor * dy),
                xytext=(4 * np.sign(dx), 4 * np.sign(dy)),
                textcoords="offset points",
                ha="left" if dx >= 0 else "right",
                va="bottom" if dy >= 0 else "top",
                color="C3",
            )
        first, second = self.components
        ax.set_xlabel(f"component {first + 1}")
        ax.set_ylabel(f"component {second + 1}")
        ax.set_title("Biplot")
        ax.axhline(0, color="k", lw=0.5)
        ax.axvline(0, color="k", lw=0.5)
        self.ax_, self.figure_ = ax, ax.figure
        return self


def spectrum_panels(singular_values, *, marks=(), figsize=(11, 8)):
    """Four panels describing a whole spectrum, as in the image-compression report.

    Singular values on a linear and a logarithmic axis, the cumulative energy, and
    the relative Frobenius error of the best rank-r approximation
    ``√(1 − energy kept)`` (Eckart–Young), with ``marks`` annotated.

    Parameters
    ----------
    singular_values : array-like of shape (min(m, n),)
        All singular values of the matrix, descending.
    marks : sequence of int, default=()
        Ranks to annotate.
    figsize : tuple of float, default=(11, 8)

    Returns
    -------
    figure : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sksvd.plotting import spectrum_panels
    >>> figure = spectrum_panels([5.0, 3.0, 1.0, 0.5], marks=[2])
    >>> len(figure.axes)
    4
    """
    plt = _pyplot()
    s = _check_spectrum(singular_values)
    figure, axes = plt.subplots(2, 2, figsize=figsize)
    SpectrumDisplay(s, marks).plot(ax=axes[0, 0])
    SpectrumDisplay(s, marks).plot(ax=axes[0, 1], scale="log")
    energy = CumulativeEnergyDisplay.from_singular_values(s, marks=marks, ax=axes[1, 0])
    remaining = np.sqrt(np.clip(1.0 - energy.cumulative_energy, 0.0, None))
    ranks = np.arange(1, s.size + 1)
    ax = axes[1, 1]
    # The last point is zero (nothing left): a log axis cannot show it, nor a
    # curve with no positive point (an all-zero matrix).
    ax.plot(ranks[:-1], remaining[:-1])
    if np.any(remaining[:-1] > 0):
        ax.set_yscale("log")
    shown = [rank for rank in marks if 1 <= rank < s.size]
    for index, rank in enumerate(shown):
        ax.plot(
            [rank],
            [remaining[rank - 1]],
            marker="*",
            markersize=12,
            ls="none",
            color=f"C{index + 1}",
            label=f"r={rank}: {remaining[rank - 1]:.3g}",
        )
    if shown:
        ax.legend(loc="upper right")
    ax.set_xlabel("rank r")
    ax.set_ylabel(r"$\|X - X_r\|_F \, / \, \|X\|_F$")
    ax.set_title("Relative error of the best rank-r approximation")
    figure.tight_layout()
    return figure
