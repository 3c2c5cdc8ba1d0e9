"""PCAViaSVD against scikit-learn's PCA, numpy.corrcoef and StandardScaler."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksvd import PCAViaSVD

EXACT = ("auto", "full", "qr", "gram")
ALL_SOLVERS = EXACT + ("randomized", "arpack", "propack")


@pytest.fixture
def data(rng):
    """300 × 8, correlated features on different scales, means far from zero."""
    mixing = rng.standard_normal((8, 8)) * np.geomspace(1, 30, 8)
    return rng.standard_normal((300, 8)) @ mixing + rng.uniform(-50, 50, 8)


def _relative(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("n_components", [None, 3, 0.9, "mle"])
def test_covariance_matches_scikit_learn(data, solver, n_components):
    ours = PCAViaSVD(n_components, solver=solver).fit(data)
    theirs = PCA(n_components, svd_solver="full").fit(data)
    assert ours.n_components_ == theirs.n_components_
    # An explicit "gram" has no guard: its relative error is about eps·κ², with
    # κ up to a few hundred here; the backward-stable solvers reach 1e-10.
    tol = 1e-8 if solver == "gram" else 1e-10
    for name in (
        "components_",
        "explained_variance_",
        "explained_variance_ratio_",
        "singular_values_",
        "mean_",
    ):
        assert _relative(getattr(ours, name), getattr(theirs, name)) < tol, name
    assert ours.noise_variance_ == pytest.approx(theirs.noise_variance_, rel=tol)
    assert _relative(ours.transform(data), theirs.transform(data)) < tol
    assert _relative(ours.score_samples(data), theirs.score_samples(data)) < tol
    assert _relative(ours.get_precision(), theirs.get_precision()) < tol
    assert _relative(ours.get_covariance(), theirs.get_covariance()) < tol
    assert ours.score(data) == pytest.approx(theirs.score(data), rel=tol)
    np.testing.assert_array_equal(ours.scale_, np.ones(data.shape[1]))


@pytest.mark.parametrize("solver", ("randomized", "arpack", "propack"))
def test_truncated_solvers_match_scikit_learn(data, solver):
    ours = PCAViaSVD(3, solver=solver, random_state=0, n_iter=10).fit(data)
    theirs = PCA(3, svd_solver="full").fit(data)
    rtol = 1e-6 if solver == "randomized" else 1e-9
    np.testing.assert_allclose(
        ours.explained_variance_, theirs.explained_variance_, rtol=rtol
    )
    np.testing.assert_allclose(ours.noise_variance_, theirs.noise_variance_, rtol=1e-6)
    np.testing.assert_allclose(
        np.abs(ours.components_), np.abs(theirs.components_), atol=1e-5
    )


def test_whitening_matches_scikit_learn_and_has_unit_variance(data):
    ours = PCAViaSVD(4, whiten=True).fit(data)
    theirs = PCA(4, whiten=True, svd_solver="full").fit(data)
    Z = ours.transform(data)
    assert _relative(Z, theirs.transform(data)) < 1e-10
    np.testing.assert_allclose(Z.var(axis=0, ddof=1), 1.0, rtol=1e-10)
    np.testing.assert_allclose(ours.inverse_transform(Z), theirs.inverse_transform(Z))


def test_model_covariance_does_not_depend_on_whitening(data):
    # scikit-learn's PCA changes get_covariance under whiten=True (its #13898);
    # the probabilistic model is the same, so ours does not.
    plain = PCAViaSVD(3).fit(data)
    whitened = PCAViaSVD(3, whiten=True).fit(data)
    np.testing.assert_allclose(whitened.get_covariance(), plain.get_covariance())
    np.testing.assert_allclose(whitened.score_samples(data), plain.score_samples(data))


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_correlation_matches_eigendecomposition_of_corrcoef(data, solver):
    k = 3
    pca = PCAViaSVD(k, matrix="correlation", solver=solver, random_state=0, n_iter=10)
    pca.fit(data)
    eigenvalues, eigenvectors = np.linalg.eigh(np.corrcoef(data, rowvar=False))
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    rtol = 1e-6 if solver == "randomized" else 1e-10
    np.testing.assert_allclose(pca.explained_variance_, eigenvalues[:k], rtol=rtol)
    np.testing.assert_allclose(
        pca.explained_variance_ratio_, eigenvalues[:k] / data.shape[1], rtol=rtol
    )
    alignment = np.abs(pca.components_ @ eigenvectors[:, :k])
    np.testing.assert_allclose(alignment, np.eye(k), atol=1e-5)
    np.testing.assert_allclose(pca.scale_, data.std(axis=0, ddof=1), rtol=1e-12)


def test_correlation_loadings_are_correlations(data):
    pca = PCAViaSVD(matrix="correlation").fit(data)
    scores = pca.transform(data)
    correlations = np.corrcoef(data, scores, rowvar=False)[: data.shape[1], -8:]
    np.testing.assert_allclose(pca.loadings_, correlations.T, atol=1e-10)


def test_correlation_equals_standard_scaler_pipeline_up_to_ddof(data):
    # StandardScaler divides by the ddof=0 standard deviation, we by ddof=1: the
    # axes are the same and the scores differ by √(n / (n − 1)).
    n = data.shape[0]
    ours = PCAViaSVD(4, matrix="correlation").fit(data)
    pipeline = make_pipeline(StandardScaler(), PCA(4, svd_solver="full")).fit(data)
    theirs = pipeline[-1]
    np.testing.assert_allclose(ours.components_, theirs.components_, atol=1e-10)
    np.testing.assert_allclose(
        ours.transform(data) * np.sqrt(n / (n - 1)), pipeline.transform(data), atol=1e-9
    )
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-10
    )


def test_usarrests_matches_r_prcomp(usarrests):
    # prcomp(USArrests, scale. = TRUE): standard deviations of the components
    # 1.5748783 0.9948694 0.5971291 0.4164494 (R's documented output).
    pca = PCAViaSVD(matrix="correlation").fit(usarrests)
    np.testing.assert_allclose(
        np.sqrt(pca.explained_variance_),
        [1.5748783, 0.9948694, 0.5971291, 0.4164494],
        atol=5e-8,
    )
    # The first component weighs the three crime rates about equally.
    first = dict(zip(usarrests.columns, np.abs(pca.components_[0]), strict=True))
    assert first["Murder"] == pytest.approx(0.5358995, abs=5e-7)
    assert first["UrbanPop"] == pytest.approx(0.2781909, abs=5e-7)


def test_constant_feature_under_correlation_warns_and_gives_no_nan(data):
    X = data.copy()
    X[:, 2] = 7.0
    with pytest.warns(UserWarning, match=r"Features \[2\] are constant"):
        pca = PCAViaSVD(matrix="correlation").fit(X)
    assert pca.scale_[2] == 1.0
    assert np.all(np.isfinite(pca.components_))
    assert np.all(np.isfinite(pca.transform(X)))
    np.testing.assert_allclose(pca.components_[:-1, 2], 0.0, atol=1e-12)
    # The total variance is the number of non-constant features.
    assert np.sum(pca.explained_variance_) == pytest.approx(X.shape[1] - 1)


def test_constant_feature_warning_names_dataframe_columns(data):
    frame = pd.DataFrame(data, columns=[f"f{i}" for i in range(data.shape[1])])
    frame["f5"] = 1.0
    with pytest.warns(UserWarning, match=r"\['f5'\]"):
        PCAViaSVD(matrix="correlation").fit(frame)


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("n_components", [None, 2, 0.95, "mle"])
def test_partial_fit_matches_fit_on_stacked_batches(data, matrix, n_components):
    incremental = PCAViaSVD(n_components, matrix=matrix)
    for start in range(0, data.shape[0], 47):
        incremental.partial_fit(data[start : start + 47])
    full = PCAViaSVD(n_components, matrix=matrix, solver="full").fit(data)
    assert incremental.n_samples_ == full.n_samples_ == data.shape[0]
    assert incremental.n_components_ == full.n_components_
    # Both are backward stable (QR updates, then an SVD): agreement to a modest
    # multiple of eps times the condition of the features' scales.
    for name in ("components_", "explained_variance_", "mean_", "scale_"):
        assert _relative(getattr(incremental, name), getattr(full, name)) < 1e-10
    assert incremental.noise_variance_ == pytest.approx(full.noise_variance_, rel=1e-9)


def test_partial_fit_continues_an_exact_fit(data):
    continued = PCAViaSVD(3).fit(data[:100]).partial_fit(data[100:])
    full = PCAViaSVD(3).fit(data)
    assert _relative(continued.components_, full.components_) < 1e-10
    assert _relative(continued.explained_variance_, full.explained_variance_) < 1e-10


def test_partial_fit_refuses_to_continue_a_truncated_fit(data):
    truncated = PCAViaSVD(2, solver="randomized", random_state=0).fit(data)
    # Not available (so scikit-learn's checks skip it), with the reason.
    assert not hasattr(truncated, "partial_fit")
    with pytest.raises(AttributeError) as raised:
        truncated.partial_fit(data)
    assert "only part of the spectrum" in str(raised.value.__cause__)
    # A fresh estimator, or one refitted exactly, may continue.
    assert hasattr(PCAViaSVD(2, solver="randomized"), "partial_fit")
    assert hasattr(truncated.set_params(solver="full").fit(data), "partial_fit")


def test_partial_fit_first_batch_needs_two_samples(data):
    with pytest.raises(ValueError, match="n_samples=1"):
        PCAViaSVD().partial_fit(data[:1])


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_sparse_matches_dense(rng, matrix, solver):
    X = sp.random(120, 30, density=0.2, random_state=rng, format="csr")
    X = X + sp.csr_matrix(np.outer(rng.standard_normal(120), rng.random(30) > 0.5))
    options = {"matrix": matrix, "solver": solver, "random_state": 0, "n_iter": 12}
    sparse_fit = PCAViaSVD(3, **options).fit(X)
    dense_fit = PCAViaSVD(3, matrix=matrix, solver="full").fit(X.toarray())
    rtol = 1e-4 if solver == "randomized" else 1e-9
    np.testing.assert_allclose(
        sparse_fit.explained_variance_, dense_fit.explained_variance_, rtol=rtol
    )
    # Scores inherit the vectors' accuracy: SciPy stops PROPACK early (1e-6 seen).
    atol = {"randomized": 1e-2, "propack": 1e-5}.get(solver, 1e-7)
    np.testing.assert_allclose(
        np.abs(sparse_fit.transform(X)),
        np.abs(dense_fit.transform(X.toarray())),
        atol=atol,
    )


def test_sparse_input_is_never_densified_by_iterative_solvers(rng, monkeypatch):
    X = sp.random(200, 50, density=0.05, random_state=rng, format="csr")

    def no_toarray(self, *args, **kwargs):
        raise AssertionError("sparse input was densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", no_toarray)
    pca = PCAViaSVD(3, matrix="correlation", solver="arpack", random_state=0)
    pca.fit_transform(X)
    pca.transform(X)


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
def test_inverse_transform_is_the_affine_projection(data, whiten, matrix):
    full = PCAViaSVD(matrix=matrix, whiten=whiten).fit(data)
    np.testing.assert_allclose(full.inverse_transform(full.transform(data)), data)
    pca = PCAViaSVD(3, matrix=matrix, whiten=whiten).fit(data)
    once = pca.inverse_transform(pca.transform(data))
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(once)), once)


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
def test_score_samples_is_a_gaussian_log_density(data, matrix):
    from scipy.stats import multivariate_normal

    pca = PCAViaSVD(3, matrix=matrix).fit(data)
    density = multivariate_normal(pca.mean_, pca.get_covariance())
    np.testing.assert_allclose(pca.score_samples(data), density.logpdf(data))
    np.testing.assert_allclose(
        pca.get_precision() @ pca.get_covariance(), np.eye(data.shape[1]), atol=1e-8
    )


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
def test_float32_agrees_with_float64(data, matrix):
    pca32 = PCAViaSVD(3, matrix=matrix).fit(data.astype(np.float32))
    pca64 = PCAViaSVD(3, matrix=matrix).fit(data)
    assert pca32.components_.dtype == np.float32
    assert pca32.transform(data.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(
        pca32.explained_variance_, pca64.explained_variance_, rtol=1e-4
    )
    np.testing.assert_allclose(pca32.components_, pca64.components_, atol=1e-3)


def test_pandas_output_in_a_pipeline(data):
    frame = pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
    target = data @ np.linspace(-1, 1, data.shape[1])
    pipeline = make_pipeline(PCAViaSVD(3), LinearRegression())
    pipeline.set_output(transform="pandas").fit(frame, target)
    scores = pipeline[0].transform(frame)
    assert list(scores.columns) == ["pcaviasvd0", "pcaviasvd1", "pcaviasvd2"]
    assert list(pipeline[-1].feature_names_in_) == list(scores.columns)


@pytest.mark.parametrize(
    ("kwargs", "X_shape", "message"),
    [
        ({"n_components": 9}, (300, 8), r"n_components=9 must be between 0 and"),
        ({"n_components": 0.5, "solver": "arpack"}, (300, 8), "whole spectrum"),
        ({"n_components": "mle"}, (5, 8), "n_samples >= n_features"),
        ({}, (1, 8), "n_samples=1"),
    ],
)
def test_clear_errors(rng, kwargs, X_shape, message):
    with pytest.raises(ValueError, match=message):
        PCAViaSVD(**kwargs).fit(rng.standard_normal(X_shape))


def test_no_warning_on_ordinary_data(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PCAViaSVD(matrix="correlation").fit(data)


def test_float32_constant_feature_is_detected(rng):
    X = np.column_stack([rng.standard_normal((1000, 3)), np.full(1000, 0.1)])
    with pytest.warns(UserWarning, match=r"Features \[3\] are constant"):
        pca = PCAViaSVD(matrix="correlation").fit(X.astype(np.float32))
    assert pca.scale_[3] == 1.0
    assert pca.explained_variance_[-1] < 1e-6


def test_propack_on_float32_sparse(rng):
    X = sp.random(100, 30, density=0.3, format="csr", dtype=np.float32, random_state=0)
    pca = PCAViaSVD(3, solver="propack", random_state=0).fit(X)
    reference = PCAViaSVD(3, solver="full").fit(X.toarray().astype(np.float64))
    np.testing.assert_allclose(
        pca.explained_variance_, reference.explained_variance_, rtol=1e-4
    )


def test_sparse_auto_reports_its_solver_and_partial_fit_follows_it(rng):
    X = sp.random(50, 20, density=0.3, format="csr", random_state=0)
    truncated = PCAViaSVD(3).fit(X)
    assert truncated.solver_ == "arpack"
    with pytest.raises(AttributeError) as raised:
        truncated.partial_fit(X[:10])
    assert "solver='arpack'" in str(raised.value.__cause__)
    complete = PCAViaSVD().fit(X[:40])
    assert complete.solver_ in ("full", "qr", "gram")
    complete.partial_fit(X[40:])
    full = PCAViaSVD().fit(X)
    np.testing.assert_allclose(
        complete.explained_variance_, full.explained_variance_, rtol=1e-9
    )


def test_arpack_on_a_single_feature_is_a_clear_error(rng):
    with pytest.raises(ValueError, match="solver='arpack' returns at most"):
        PCAViaSVD(solver="arpack").fit(rng.standard_normal((10, 1)))


@pytest.mark.parametrize("shape", [(100, 5), (5, 100), (300, 250)])
@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("solver", ["auto", "full", "randomized"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "magnitude, problem",
    [
        (1e200, "overflow float64"),
        (1e-160, "underflow float64"),
        (1e-170, "underflow float64"),  # squares are exactly zero
    ],
)
def test_variances_out_of_range_are_one_clear_error_on_every_path(
    rng, shape, matrix, solver, sparse, magnitude, problem
):
    # Every path (Gram, centred copy, implicit sparse centring) checks the range
    # before the SVD, without a stray RuntimeWarning (warnings are errors here).
    X = rng.standard_normal(shape) * magnitude
    X = sp.csr_matrix(X) if sparse else X
    with pytest.raises(ValueError, match=problem):
        PCAViaSVD(3, matrix=matrix, solver=solver, random_state=0).fit(X)


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("solver", ["auto", "full", "qr", "gram", "randomized"])
@pytest.mark.parametrize("sparse", [False, True])
def test_variances_just_inside_the_range_are_fitted(rng, matrix, solver, sparse):
    # A total variance of 5e304 is representable although (n − 1) times it is
    # not: every path fits it, and the ratios equal those of the scaled data.
    X = rng.standard_normal((10_000, 5))
    huge = sp.csr_matrix(X * 1e152) if sparse else X * 1e152
    model = PCAViaSVD(2, matrix=matrix, solver=solver, random_state=0)
    reference = PCAViaSVD(2, matrix=matrix, solver="full").fit(X)
    np.testing.assert_allclose(
        model.fit(huge).explained_variance_ratio_,
        reference.explained_variance_ratio_,
        rtol=1e-6 if solver == "randomized" else 1e-10,
    )


@pytest.mark.parametrize("solver", ["auto", "gram", "full", "qr"])
def test_largest_variance_fits_although_its_singular_value_squared_does_not(solver):
    # σ₁ = 1.6e154: σ₁² overflows, σ₁²/(n − 1) = 1.3e305 does not. The Gram
    # path once returned infinite variances here.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6)) @ rng.normal(size=(6, 6))
    ours = PCAViaSVD(solver=solver).fit(X * 1e152)
    assert ours.singular_values_[0] > np.sqrt(np.finfo(np.float64).max)
    reference = PCAViaSVD(solver="full").fit(X)
    np.testing.assert_allclose(
        ours.explained_variance_ / 1e304, reference.explained_variance_, rtol=1e-10
    )


def test_a_constant_feature_keeps_the_gram_path_for_a_few_components(rng):
    # The guard looks at the components asked for: the constant feature's zero
    # singular value lies in the tail and must not send the fit to QR.
    X = rng.standard_normal((20_000, 12)) @ rng.standard_normal((12, 12))
    X[:, 4] = 3.0
    ours = PCAViaSVD(5).fit(X)
    assert ours.solver_ == "gram"
    reference = PCA(5, svd_solver="full").fit(X)
    np.testing.assert_allclose(
        ours.explained_variance_, reference.explained_variance_, rtol=1e-10
    )
    np.testing.assert_allclose(
        ours.noise_variance_, reference.noise_variance_, rtol=1e-8
    )
    np.testing.assert_allclose(ours.components_, reference.components_, atol=1e-10)


def test_one_underflowing_feature_is_refused_only_under_correlation(rng):
    # Beside O(1) features, a 1e-170 feature is lost to rounding under
    # covariance anyway; under correlation it would have to be standardised.
    X = rng.standard_normal((200, 4))
    X[:, 0] *= 1e-170
    covariance = PCAViaSVD(2).fit(X)
    reference = PCAViaSVD(2, solver="full").fit(
        np.column_stack([0 * X[:, 0], X[:, 1:]])
    )
    np.testing.assert_allclose(
        covariance.explained_variance_, reference.explained_variance_, rtol=1e-12
    )
    with pytest.raises(ValueError, match=r"features \[0\] vary"):
        PCAViaSVD(2, matrix="correlation").fit(X)


def test_overflowing_means_are_a_clear_error():
    # Column sums overflow while the whole array sums to 0 (scikit-learn's own
    # finiteness check passes): the means cannot be represented.
    X = np.tile([1.5e308, -1.5e308, 1.0], (4, 1))
    X[:, 2] = [1.0, 2.0, 3.0, 5.0]
    with pytest.raises(ValueError, match="overflow float64"):
        PCAViaSVD().fit(X)
    with pytest.raises(ValueError, match="overflow float64"):
        PCAViaSVD().partial_fit(X)


@pytest.mark.parametrize("offset", [0.0, 1e3])
@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
def test_tall_gram_paths_match_the_exact_svd(rng, offset, matrix):
    # offset 0 takes XᵀX − nμμᵀ; a large offset makes it centre block by block.
    X = rng.standard_normal((20_000, 8)) @ rng.standard_normal((8, 8)) + offset
    pca = PCAViaSVD(3, matrix=matrix).fit(X)
    assert pca.solver_ == "gram"
    Z = X - X.mean(axis=0)
    if matrix == "correlation":
        Z /= X.std(axis=0, ddof=1)
    s = np.linalg.svd(Z, compute_uv=False)
    np.testing.assert_allclose(
        pca.explained_variance_, s[:3] ** 2 / (len(X) - 1), rtol=1e-12
    )
    assert pca.noise_variance_ == pytest.approx(np.mean(s[3:] ** 2) / (len(X) - 1))


def test_tall_pca_makes_no_copy_of_x(rng):
    import tracemalloc

    X = rng.standard_normal((200_000, 50))
    PCAViaSVD(5, matrix="correlation").fit(X)  # warm up
    tracemalloc.start()
    PCAViaSVD(5, matrix="correlation").fit(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.05 * X.nbytes


def test_wide_pca_is_exact(rng):
    X = rng.standard_normal((60, 400))
    pca = PCAViaSVD(5).fit(X)
    assert pca.solver_ == "gram"
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    np.testing.assert_allclose(pca.explained_variance_, s[:5] ** 2 / 59, rtol=1e-12)


def test_constant_data_gives_zero_variances():
    pca = PCAViaSVD(3).fit(np.full((300, 250), 2.0))
    np.testing.assert_array_equal(pca.explained_variance_, 0.0)


def test_shifted_gram_guard_accounts_for_cancellation(rng):
    # Means about 10σ make XᵀX − nμμᵀ lose two digits; the guard must see it
    # and hand such an ill-conditioned problem (κ ≈ 400) to QR.
    x1 = rng.standard_normal(200_000)
    X = np.column_stack([x1, x1 + rng.standard_normal(200_000) / 200]) + 9.9
    pca = PCAViaSVD().fit(X)
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    np.testing.assert_allclose(pca.singular_values_, s, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mle_does_not_depend_on_the_units(rng, dtype):
    """Minka's likelihood moves by a constant when the data are scaled, so the
    estimate must not change; scikit-learn's absolute 1e-15 cut-off made it
    fall to 1 and then 0 components below a scale of 1e-8."""
    from sklearn.decomposition import PCA

    signal = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 20))
    X = signal + 0.01 * rng.standard_normal((300, 20))
    expected = PCA(n_components="mle").fit(X).n_components_
    for scale in [1e-12, 1e-8, 1e-4, 1.0, 1e4, 1e12]:
        model = PCAViaSVD(n_components="mle").fit((X * scale).astype(dtype))
        assert model.n_components_ == expected == 5


# --- the mean from the Gram pass, and the finiteness check it carries -------------


@pytest.mark.parametrize(
    "solver", ["auto", "gram", "full", "qr", "lanczos", "arpack", "randomized"]
)
@pytest.mark.parametrize(
    ("value", "words"), [(np.nan, "contains NaN"), (-np.inf, "contains infinity")]
)
def test_non_finite_entries_are_named_before_any_solver_runs(
    rng, monkeypatch, solver, value, words
):
    # Dense X is checked by its column sums, which the mean needs anyway; no
    # solver may see the bad entry first (LAPACK on NaN may not even return).
    import sksvd.linalg._decompose as decompose_module

    def refuse(*args, **kwargs):
        raise AssertionError("a solver ran on data that holds a non-finite entry")

    for name in ("full_svd", "qr_svd", "krylov_svd", "randomized_svd"):
        monkeypatch.setattr(decompose_module, name, refuse)
    monkeypatch.setattr(decompose_module, "deflated_eigh", refuse)
    X = rng.standard_normal((3000, 8))
    X[1234, 5] = value
    before = X.copy()
    with pytest.raises(ValueError, match=f"Input X {words}"):
        PCAViaSVD(n_components=3, solver=solver).fit(X)
    np.testing.assert_array_equal(X, before)


def test_finite_entries_whose_sums_overflow_are_refused_as_an_overflow(rng):
    X = rng.standard_normal((3000, 4))
    X[:, 2] = 1.5e308  # finite, but their sum is not
    with pytest.raises(ValueError, match="overflow"):
        PCAViaSVD(n_components=2).fit(X)


def test_gram_pass_gives_the_mean_every_other_solver_gives(rng, monkeypatch):
    # A mean of 1e12 beside a spread of 1: one ulp of the mean is 1e-8 of the
    # last variance, so both solvers must sum about as well as exact rounding
    # (NumPy's X.mean was 5 to 12 ulps off on such columns).
    X = rng.standard_normal((20_000, 5)) * [3.0, 2.0, 1.5, 1.2, 1.0]
    X[:, 4] += 1e12
    exact = np.array([math.fsum(column) for column in X.T]) / X.shape[0]
    reference = PCAViaSVD(solver="full").fit(X)
    import sksvd.linalg._statistics as statistics_module

    def no_second_pass(*args, **kwargs):
        raise AssertionError("the mean read X again beside the Gram pass")

    monkeypatch.setattr(statistics_module, "column_sums", no_second_pass)
    gram = PCAViaSVD(solver="gram").fit(X)
    assert gram.solver_ == "gram"
    for model in (gram, reference):
        # The large mean to 2 ulps; the others (sums that cancel) to the
        # rounding of the sum of magnitudes.
        assert abs(model.mean_[4] - exact[4]) <= 2 * np.spacing(exact[4])
        bound = 4 * np.finfo(np.float64).eps * np.abs(X[:, :4]).mean(axis=0)
        assert np.all(np.abs(model.mean_[:4] - exact[:4]) <= bound)
    np.testing.assert_allclose(
        gram.explained_variance_, reference.explained_variance_, rtol=1e-8
    )


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_fit_refused_for_non_finite_data_leaves_the_estimator_as_it_was(rng, value):
    from sklearn.exceptions import NotFittedError

    X = rng.standard_normal((100, 5))
    bad = rng.standard_normal((100, 8))
    bad[3, 2] = value
    fresh = PCAViaSVD(n_components=2)
    with pytest.raises(ValueError, match="Input X contains"):
        fresh.fit(bad)
    with pytest.raises(NotFittedError):
        fresh.transform(X)
    fitted = PCAViaSVD(n_components=2).fit(X)
    expected = fitted.transform(X)
    with pytest.raises(ValueError, match="Input X contains"):
        fitted.fit(bad)
    np.testing.assert_array_equal(fitted.transform(X), expected)


def test_nan_in_a_sparse_dataframe_is_named(rng):
    Y = rng.standard_normal((100, 4))
    Y[Y < 0.5] = 0
    Y[3, 1] = np.nan
    frame = pd.DataFrame(
        {
            c: pd.arrays.SparseArray(Y[:, i], fill_value=0.0)
            for i, c in enumerate("abcd")
        }
    )
    with pytest.raises(ValueError, match="Input X contains NaN"):
        PCAViaSVD(n_components=2).fit(frame)


def test_the_error_names_a_subclass(rng):
    class MyPCA(PCAViaSVD):
        pass

    X = rng.standard_normal((100, 5))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="MyPCA does not accept missing values"):
        MyPCA(n_components=2).fit(X)


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("solver", ["auto", "full", "lanczos"])
def test_a_fit_keeps_no_reference_cycle_to_the_data(rng, matrix, solver):
    # Without the cyclic collector, X must go as soon as the caller drops it:
    # in a grid search a cycle kept every fold's copy until a collection.
    import gc
    import weakref

    X = rng.standard_normal((3000, 20))
    alive = weakref.ref(X)
    enabled = gc.isenabled()
    gc.disable()
    try:
        PCAViaSVD(n_components=5, matrix=matrix, solver=solver).fit(X)
        del X
        assert alive() is None
    finally:
        if enabled:
            gc.enable()
