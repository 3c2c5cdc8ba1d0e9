"""Row weights in PCAViaSVD and TruncatedSVDCompressor.

Frequency semantics: an integer weight equals the row repeated that many times
(and zero equals its removal), on every solver and input kind; real weights give
the eigendecomposition of the weighted covariance (or correlation) matrix, with
the divisor ``Σw − 1``, computed here by NumPy's ``eigh``.
"""

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp

from sksvd import PCAViaSVD, TruncatedSVDCompressor
from sksvd.exceptions import ConstantFeatureWarning

PCA_SOLVERS = ["auto", "full", "qr", "gram", "randomized", "arpack", "propack"]
TRUNCATED = {"randomized", "arpack", "propack"}


def _data(rng, n=40, p=6):
    X = rng.standard_normal((n, p)) @ rng.standard_normal((p, p)) + 3.0
    weights = rng.integers(0, 4, n)
    weights[:2] = [0, 3]  # at least one zero and one repetition
    return X, weights


def _as(kind, X):
    if kind == "sparse":
        return sp.csr_matrix(X)
    if kind == "dask":
        return da.from_array(X, chunks=(13, X.shape[1]))
    return X


def _assert_same_fit(a, b, names, rtol=1e-10):
    for name in names:
        expected = np.asarray(getattr(b, name))
        np.testing.assert_allclose(
            getattr(a, name),
            expected,
            rtol=rtol,
            atol=rtol * np.max(np.abs(expected), initial=0.0),
            err_msg=name,
        )


PCA_ATTRIBUTES = [
    "explained_variance_",
    "explained_variance_ratio_",
    "singular_values_",
    "components_",
    "mean_",
    "scale_",
    "var_",
    "noise_variance_",
    "n_samples_",
]


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("solver", PCA_SOLVERS)
@pytest.mark.parametrize("kind", ["dense", "sparse", "dask"])
def test_pca_integer_weights_equal_repeated_rows(rng, matrix, solver, kind):
    if kind == "dask" and solver != "auto":
        solver = "dask"
    X, w = _data(rng)
    k = 3 if solver in TRUNCATED else None
    options = {"matrix": matrix, "solver": solver, "random_state": 0}
    weighted = PCAViaSVD(k, **options).fit(_as(kind, X), sample_weight=w)
    repeated = PCAViaSVD(k, **options).fit(_as(kind, np.repeat(X, w, axis=0)))
    _assert_same_fit(weighted, repeated, PCA_ATTRIBUTES)
    np.testing.assert_allclose(
        weighted.transform(X), repeated.transform(X), rtol=1e-10, atol=1e-10
    )
    assert weighted.n_samples_seen_ == w.sum()


def _weighted_moments(X, w):
    mean = w @ X / w.sum()
    centred = X - mean
    covariance = (centred * w[:, None]).T @ centred / (w.sum() - 1)
    return mean, covariance


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("kind", ["dense", "sparse", "dask"])
def test_pca_real_weights_equal_weighted_covariance(rng, matrix, kind):
    X, _ = _data(rng)
    w = rng.uniform(0.05, 3.0, X.shape[0])
    mean, C = _weighted_moments(X, w)
    sd = np.sqrt(np.diag(C))
    if matrix == "correlation":
        C = C / np.outer(sd, sd)
    values, vectors = np.linalg.eigh(C)
    values, vectors = values[::-1], vectors[:, ::-1]
    pca = PCAViaSVD(matrix=matrix).fit(_as(kind, X), sample_weight=w)
    np.testing.assert_allclose(pca.explained_variance_, values, rtol=1e-10)
    np.testing.assert_allclose(pca.mean_, mean, rtol=1e-12)
    np.testing.assert_allclose(
        np.abs(pca.components_ @ vectors), np.eye(X.shape[1]), atol=1e-9
    )
    if matrix == "correlation":
        np.testing.assert_allclose(pca.scale_, sd, rtol=1e-12)
    np.testing.assert_allclose(
        pca.var_, np.diag(_weighted_moments(X, w)[1]) * (w.sum() - 1) / w.sum()
    )


def test_pca_partial_fit_with_weights_equals_fit(rng):
    X, w = _data(rng, n=60)
    batches = np.array_split(np.arange(60), [7, 25, 26, 44])
    incremental = PCAViaSVD(matrix="correlation")
    for rows in batches:
        incremental.partial_fit(X[rows], sample_weight=w[rows])
    whole = PCAViaSVD(matrix="correlation").fit(X, sample_weight=w)
    repeated = PCAViaSVD(matrix="correlation").fit(np.repeat(X, w, axis=0))
    _assert_same_fit(incremental, whole, PCA_ATTRIBUTES, rtol=1e-9)
    _assert_same_fit(incremental, repeated, PCA_ATTRIBUTES, rtol=1e-9)


def test_pca_partial_fit_skips_a_batch_of_zero_weight(rng):
    X, w = _data(rng)
    model = PCAViaSVD().partial_fit(X[:20], sample_weight=w[:20])
    before = model.components_.copy()
    model.partial_fit(X[20:25], sample_weight=np.zeros(5))
    np.testing.assert_array_equal(model.components_, before)


def test_pca_fit_transform_matches_transform_with_weights(rng):
    X, w = _data(rng)
    pca = PCAViaSVD(3)
    scores = pca.fit_transform(X, sample_weight=w)
    np.testing.assert_allclose(scores, pca.transform(X), atol=1e-12)


def test_pca_weights_of_ones_are_no_weights(rng):
    X, _ = _data(rng)
    a = PCAViaSVD().fit(X, sample_weight=np.ones(X.shape[0]))
    b = PCAViaSVD().fit(X)
    _assert_same_fit(a, b, PCA_ATTRIBUTES, rtol=0)


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.full(40, 1 / 40), "sum to the number of samples"),
        (np.r_[-1.0, np.ones(39)], "(?i)negative"),
        (np.r_[np.nan, np.ones(39)], "NaN"),
        (np.ones(39), "inconsistent numbers of samples|shape"),
    ],
)
def test_pca_bad_weights(rng, weights, match):
    X, _ = _data(rng)
    with pytest.raises(ValueError, match=match):
        PCAViaSVD().fit(X, sample_weight=weights)


def test_pca_one_sample_of_weight_two_is_two_samples(rng):
    # As two copies of one row: zero variance, not an error.
    X = rng.standard_normal((1, 3))
    pca = PCAViaSVD().fit(X, sample_weight=[2.0])
    assert pca.n_samples_ == 2
    np.testing.assert_array_equal(pca.explained_variance_, [0.0])


COMPRESSOR_ATTRIBUTES = [
    "singular_values_",
    "components_",
    "explained_variance_",
    "explained_variance_ratio_",
    "explained_energy_ratio_",
]


@pytest.mark.parametrize("solver", PCA_SOLVERS + ["dask"])
@pytest.mark.parametrize("kind", ["dense", "sparse", "dask"])
@pytest.mark.parametrize("n_components", [3, 0.9])
def test_compressor_integer_weights_equal_repeated_rows(
    rng, solver, kind, n_components
):
    if (kind == "dask") != (solver == "dask") and solver != "auto":
        pytest.skip("solver and input kind do not go together")
    if solver == "gram" and n_components == 0.9:
        pytest.skip("covered by 'auto'")
    X, w = _data(rng)
    options = {"solver": solver, "random_state": 0}
    weighted = TruncatedSVDCompressor(n_components, **options)
    scores = weighted.fit_transform(_as(kind, X), sample_weight=w)
    repeated = TruncatedSVDCompressor(n_components, **options).fit(
        _as(kind, np.repeat(X, w, axis=0))
    )
    assert weighted.n_components_ == repeated.n_components_
    _assert_same_fit(weighted, repeated, COMPRESSOR_ATTRIBUTES)
    assert weighted.reconstruction_error_ == pytest.approx(
        repeated.reconstruction_error_, rel=1e-6
    )
    # The scores are X V, unweighted, as transform gives them.
    np.testing.assert_allclose(
        np.asarray(scores), np.asarray(weighted.transform(_as(kind, X))), atol=1e-10
    )


# Rows of zero weight count for nothing, however extreme ---------------------------


@pytest.mark.parametrize("solver", ["auto", "gram", "full", "randomized"])
@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_zero_weight_outlier_changes_nothing(rng, solver, kind):
    X, _ = _data(rng, n=25, p=5)
    w = np.ones(25)
    w[3] = 0.0
    X[3] = 1e300
    kept = np.arange(25) != 3
    for cls, options in [
        (TruncatedSVDCompressor, {"n_components": 2}),
        (PCAViaSVD, {"n_components": 2}),
    ]:
        model = cls(solver=solver, random_state=0, **options)
        model.fit(_as(kind, X), sample_weight=w)
        reference = cls(solver=solver, random_state=0, **options).fit(X[kept])
        np.testing.assert_allclose(
            model.singular_values_, reference.singular_values_, rtol=1e-10
        )
        if cls is TruncatedSVDCompressor:
            np.testing.assert_allclose(
                model.explained_energy_ratio_,
                reference.explained_energy_ratio_,
                rtol=1e-10,
            )


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_a_column_varying_only_in_zero_weight_rows_is_constant(rng, kind):
    X = rng.standard_normal((10, 4))
    X[:, 0] = 0.0
    X[9, 0] = 1.0
    w = np.ones(10)
    w[9] = 0.0
    with pytest.warns(ConstantFeatureWarning):
        pca = PCAViaSVD(matrix="correlation").fit(_as(kind, X), sample_weight=w)
    assert pca.scale_[0] == 1.0


def test_weight_sums_beyond_two_to_the_64(rng):
    X = rng.standard_normal((20, 4))
    w = np.ones(20)
    w[0] = 1e20
    pca = PCAViaSVD().fit(X, sample_weight=w)
    assert pca.n_samples_ == pytest.approx(1e20 + 19)
    assert np.all(np.isfinite(pca.explained_variance_))


def test_float32_with_large_weights(rng):
    X = rng.standard_normal((20, 4)).astype(np.float32)
    w = np.ones(20)
    w[0] = 1e80
    with pytest.raises(ValueError, match="overflow float32"):
        TruncatedSVDCompressor(2, solver="full").fit(X, sample_weight=w)
    w[0] = 1e6  # large, and representable
    model = TruncatedSVDCompressor(2, solver="full").fit(X, sample_weight=w)
    assert model.components_.dtype == np.float32


def test_dask_float32_with_weights_stays_float32(rng):
    X, w = _data(rng)
    model = PCAViaSVD(3).fit(
        da.from_array(X.astype(np.float32), chunks=(13, 6)), sample_weight=w
    )
    assert model.components_.dtype == np.float32
    assert model.explained_variance_.dtype == np.float32


def test_failed_batches_leave_the_model_as_it_was(rng):
    X, _ = _data(rng)
    model = PCAViaSVD(3)
    with pytest.raises(ValueError, match="n_components=3"):
        model.partial_fit(X[:2])
    assert not hasattr(model, "n_samples_")
    model.partial_fit(X[2:6])
    assert model.n_samples_ == 4
    bad = X.copy()
    bad[10, 1] = np.nan
    fitted = PCAViaSVD(3).fit(X)
    before = fitted.components_.copy()
    with pytest.raises(ValueError, match="NaN"):
        fitted.fit(bad, batch_size=3)
    np.testing.assert_array_equal(fitted.components_, before)
    assert fitted.n_samples_ == X.shape[0]


def test_weighted_score_is_the_score_of_repeated_rows(rng):
    X, w = _data(rng)
    pca = PCAViaSVD(2).fit(X, sample_weight=w)
    expected = pca.score(np.repeat(X, w, axis=0))
    assert pca.score(X, sample_weight=w) == pytest.approx(expected, rel=1e-12)


def test_float32_tiny_data_keeps_its_variances(rng):
    X = (rng.standard_normal((50, 4)) * 1e-30).astype(np.float32)
    pca = PCAViaSVD(2).fit(X)
    # 1e-60 variances do not fit float32: they stay float64 rather than zero.
    assert np.all(pca.explained_variance_ > 0)
    assert np.all(np.isfinite(pca.score_samples(X)))
