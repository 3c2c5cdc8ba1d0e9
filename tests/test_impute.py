"""SVDImputer and PCAViaSVD(missing="em") against the truth and independent references.

References: the true low-rank matrix the gaps were cut from, a missMDA-style EM
iteration written here with NumPy's SVD, and NumPy's ``lstsq`` for the
projection of incomplete rows.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from sksvd import PCAViaSVD, SVDImputer
from sksvd.linalg._impute import impute_rows


def _low_rank(rng, n=200, p=100, rank=5, noise=0.01, fraction=0.3):
    truth = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, p)) + 2.0
    X = truth + noise * rng.standard_normal((n, p))
    missing = rng.random((n, p)) < fraction
    return X, np.where(missing, np.nan, X), missing


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_recovers_a_noisy_rank_five_matrix(rng):
    # The target: RMSE within 1.5 times the noise, and CV finds rank 5.
    X, X_missing, missing = _low_rank(rng)
    before = X_missing.copy()
    imputer = SVDImputer(random_state=0)
    filled = imputer.fit_transform(X_missing)
    assert imputer.rank_ == 5
    assert _rmse(filled[missing], X[missing]) <= 1.5 * 0.01
    np.testing.assert_array_equal(filled[~missing], X[~missing])
    np.testing.assert_array_equal(X_missing, before)  # the input is untouched
    scores = imputer.cv_results_["mean_test_score"]
    assert imputer.cv_results_["rank"][np.argmax(scores)] == 5
    assert len(imputer.cv_results_["params"]) == len(scores)


def test_soft_thresholding_by_cv(rng):
    X, X_missing, missing = _low_rank(rng)
    imputer = SVDImputer(method="soft", random_state=0)
    filled = imputer.fit_transform(X_missing)
    assert imputer.shrinkage_ > 0
    # Shrinkage biases the fill a little: within twice the noise.
    assert _rmse(filled[missing], X[missing]) <= 2 * 0.01


def test_transform_of_new_rows_is_the_ppca_posterior_mean(rng):
    X, X_missing, _ = _low_rank(rng, n=150)
    imputer = SVDImputer(5).fit(X_missing[:100])
    new = X_missing[100:]
    filled = imputer.transform(new)
    V, mean = imputer.components_, imputer.mean_
    # Ridge with penalty σ²/λⱼ, λⱼ = sⱼ²/n: probabilistic PCA's posterior mean.
    penalty = imputer.noise_variance_ * 100 / imputer.singular_values_**2
    for row, out in zip(new, filled, strict=True):
        observed = ~np.isnan(row)
        Vo = V[:, observed]
        c = np.linalg.solve(
            Vo @ Vo.T + np.diag(penalty), Vo @ (row[observed] - mean[observed])
        )
        expected = mean + c @ V
        np.testing.assert_allclose(out[~observed], expected[~observed], rtol=1e-9)
        np.testing.assert_array_equal(out[observed], row[observed])
    # And the new rows' gaps are recovered: the model generalises.
    truth = X[100:]
    missing = np.isnan(new)
    assert _rmse(filled[missing], truth[missing]) <= 1.5 * 0.01


def _model(imputer, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        imputer.fit(X)
    return imputer.mean_, imputer.scale_, imputer.components_


def test_a_rank_too_high_does_not_blow_up_new_rows(rng):
    X, X_missing, _ = _low_rank(rng, n=300, p=40, rank=3)
    new, truth = X_missing[200:].copy(), X[200:]
    new[:, :20][rng.random((100, 20)) < 0.5] = np.nan
    gaps = np.isnan(new)
    right = SVDImputer(3).fit(X_missing[:200]).transform(new)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        high = SVDImputer(12).fit(X_missing[:200]).transform(new)
    assert _rmse(right[gaps], truth[gaps]) < 0.05
    # A rank-12 fit of rank-3 data has fitted noise, which no projection undoes;
    # least squares on its components measured 1.96 here, the ridge 0.48.
    ls, _ = impute_rows(new, gaps, *_model(SVDImputer(12), X_missing[:200]))
    assert _rmse(high[gaps], truth[gaps]) < 0.5 * _rmse(ls[gaps], truth[gaps])


def test_hard_rank_equals_an_independent_em_iteration(rng):
    X, X_missing, missing = _low_rank(rng, n=80, p=30, rank=3, noise=0.1)
    imputer = SVDImputer(3, tol=1e-12, max_iter=5000).fit(X_missing)
    # missMDA's imputePCA with method="EM", written with NumPy's full SVD.
    filled = np.where(missing, np.nanmean(X_missing, axis=0), X_missing)
    for _ in range(5000):
        mean = filled.mean(axis=0)
        U, s, Vt = np.linalg.svd(filled - mean, full_matrices=False)
        fill = (U[:, :3] * s[:3]) @ Vt[:3] + mean
        step = fill[missing] - filled[missing]
        filled[missing] = fill[missing]
        if np.linalg.norm(step) <= 1e-12 * np.linalg.norm(filled - mean):
            break
    np.testing.assert_allclose(
        imputer.fit_transform(X_missing), filled, rtol=1e-8, atol=1e-8
    )


def test_other_placeholders_and_float32(rng):
    X, X_missing, missing = _low_rank(rng, n=60, p=20, rank=2)
    coded = np.where(missing, -999.0, X)
    filled = SVDImputer(2, missing_values=-999.0).fit_transform(coded)
    reference = SVDImputer(2).fit_transform(X_missing)
    np.testing.assert_allclose(filled, reference)
    single = SVDImputer(2).fit_transform(X_missing.astype(np.float32))
    assert single.dtype == np.float32


def test_no_missing_values_leave_x_as_it_is(rng):
    X, _, _ = _low_rank(rng, n=40, p=10, rank=2)
    imputer = SVDImputer(2).fit(X)
    np.testing.assert_array_equal(imputer.transform(X), X)
    assert imputer.n_iter_ == 1


def test_a_column_never_observed_is_refused(rng):
    _, X_missing, _ = _low_rank(rng, n=40, p=10, rank=2)
    X_missing[:, 4] = np.nan
    with pytest.raises(ValueError, match=r"Features \[4\] have no observed value"):
        SVDImputer(2).fit(X_missing)


def test_convergence_warning(rng):
    _, X_missing, _ = _low_rank(rng, n=60, p=20, rank=3)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        imputer = SVDImputer(3, max_iter=2).fit(X_missing)
    assert imputer.n_iter_ == 2


@pytest.mark.parametrize("bad", ["sparse", "dask"])
def test_unsupported_inputs_say_so(rng, bad):
    _, X_missing, _ = _low_rank(rng, n=20, p=5, rank=2)
    if bad == "sparse":
        X = sp.csr_matrix(np.nan_to_num(X_missing))
    else:
        X = pytest.importorskip("dask.array").from_array(X_missing)
    with pytest.raises(TypeError, match="not"):
        SVDImputer(2).fit(X)


def test_in_pipelines_and_column_transformers(rng):
    X, X_missing, _ = _low_rank(rng, n=80, p=8, rank=2)
    frame = pd.DataFrame(X_missing, columns=[f"f{i}" for i in range(8)])
    y = X[:, 0] + X[:, 1]
    model = make_pipeline(SVDImputer(2), Ridge()).fit(frame, y)
    assert model.score(frame, y) > 0.9
    imputer = SVDImputer(2).set_output(transform="pandas")
    out = imputer.fit_transform(frame)
    assert list(out.columns) == list(frame.columns)
    columns = ColumnTransformer(
        [("impute", SVDImputer(1), ["f0", "f1", "f2", "f3", "f4", "f5"])]
    )
    assert columns.fit_transform(frame).shape == (80, 6)


# -- PCAViaSVD(missing="em") -----------------------------------------------------


def test_em_pca_without_missing_values_is_plain_pca(rng):
    X, _, _ = _low_rank(rng, n=100, p=12, rank=4)
    for matrix in ("covariance", "correlation"):
        em = PCAViaSVD(3, missing="em", matrix=matrix).fit(X)
        plain = PCAViaSVD(3, matrix=matrix).fit(X)
        np.testing.assert_allclose(em.components_, plain.components_, atol=1e-10)
        np.testing.assert_allclose(
            em.explained_variance_, plain.explained_variance_, rtol=1e-10
        )


@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
def test_em_pca_equals_an_independent_em_iteration(rng, matrix):
    X, X_missing, missing = _low_rank(rng, n=100, p=12, rank=4, noise=0.05)
    X_missing = X_missing * np.linspace(1, 5, 12)  # features of different spreads
    pca = PCAViaSVD(3, missing="em", matrix=matrix, tol=1e-11, max_iter=5000)
    pca.fit(X_missing)
    filled = np.where(missing, np.nanmean(X_missing, axis=0), X_missing)
    for _ in range(5000):
        mean = filled.mean(axis=0)
        centred = filled - mean
        sd = centred.std(axis=0, ddof=1) if matrix == "correlation" else 1.0
        U, s, Vt = np.linalg.svd(centred / sd, full_matrices=False)
        fill = (U[:, :3] * s[:3]) @ Vt[:3] * sd + mean
        step = fill[missing] - filled[missing]
        filled[missing] = fill[missing]
        if np.linalg.norm(step) <= 1e-11 * np.linalg.norm(centred):
            break
    reference = PCAViaSVD(3, matrix=matrix).fit(filled)
    np.testing.assert_allclose(pca.components_, reference.components_, atol=1e-9)
    np.testing.assert_allclose(
        pca.explained_variance_, reference.explained_variance_, rtol=1e-9
    )
    assert pca.n_iter_ > 1


def test_em_pca_projects_incomplete_rows_by_least_squares(rng):
    _, X_missing, _ = _low_rank(rng, n=100, p=12, rank=4, noise=0.05)
    pca = PCAViaSVD(4, missing="em").fit(X_missing)
    scores = pca.transform(X_missing)
    for row, score in zip(X_missing[:10], scores[:10], strict=True):
        observed = ~np.isnan(row)
        expected, *_ = np.linalg.lstsq(
            pca.components_[:, observed].T, row[observed] - pca.mean_[observed]
        )
        np.testing.assert_allclose(score, expected, rtol=1e-9, atol=1e-12)


def test_em_pca_refusals(rng):
    _, X_missing, _ = _low_rank(rng, n=50, p=8, rank=2)
    with pytest.raises(ValueError, match="NaN"):
        PCAViaSVD(2).fit(X_missing)  # missing="raise" is the default
    with pytest.raises(ValueError, match="integer n_components"):
        PCAViaSVD(0.9, missing="em").fit(X_missing)
    with pytest.raises(ValueError, match="sample_weight"):
        PCAViaSVD(2, missing="em").fit(X_missing, sample_weight=np.ones(50))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ConvergenceWarning):
            PCAViaSVD(2, missing="em", max_iter=1).fit(X_missing)


@pytest.mark.parametrize("size", [1e-200, 1e200])
def test_extreme_magnitudes(rng, size):
    X, X_missing, missing = _low_rank(rng, n=80, p=20, rank=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        filled = SVDImputer(3).fit_transform(X_missing * size)
    assert _rmse(filled[missing] / size, X[missing]) <= 2 * 0.01


def test_soft_cv_finishes_its_fit(rng):
    X, X_missing, missing = _low_rank(rng, n=150, p=40, rank=5, noise=0.3)
    imputer = SVDImputer(method="soft", random_state=0, max_iter=5000)
    filled = imputer.fit_transform(X_missing)
    fixed = SVDImputer(
        method="soft", shrinkage=imputer.shrinkage_, max_iter=5000, tol=1e-9
    ).fit_transform(X_missing)
    assert np.max(np.abs(filled - fixed)) < 1e-2


def test_small_data_and_constant_columns(rng):
    with pytest.raises(ValueError, match="observed entries"):
        SVDImputer().fit([[1.0, np.nan], [2.0, 3.0]])
    X, X_missing, _ = _low_rank(rng, n=60, p=6, rank=2)
    X_missing[:, 0] = 0.1
    imputer = SVDImputer(2, scale=True).fit(X_missing)
    assert imputer.scale_[0] == 1.0
    row = X_missing[:1].copy()
    row[0, 3] = np.nan
    moved = row.copy()
    moved[0, 0] = 0.2
    a, b = imputer.transform(row), imputer.transform(moved)
    # A constant column carries no information: the fill ignores it.
    assert abs(a[0, 3] - b[0, 3]) < 1e-6


def test_arpack_with_a_rank_near_the_size(rng):
    X, X_missing, _ = _low_rank(rng, n=60, p=30, rank=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        imputer = SVDImputer(25, solver="arpack", max_iter=20).fit(X_missing)
    assert imputer.components_.shape[1] == 30


def test_a_feature_constant_where_observed_changes_nothing_under_scaling():
    # Feature 2 is 0.1 wherever it is observed, with entries
    # missing: the fills' rounding, relative to the whole matrix, passed the
    # constant test made for the column's own magnitude, and was scaled up to
    # unit variance (fills 0.94 off, no convergence). It carries no
    # information: the other features' fills are those without it.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) @ rng.normal(size=(3, 8)) + 5 * rng.normal(size=8)
    X[rng.random(X.shape) < 0.2] = np.nan
    X[:, 2] = 0.1
    X[3, 2] = np.nan
    keep = [0, 1, 3, 4, 5, 6, 7]
    with_it = SVDImputer(rank=3, scale=True, random_state=0).fit(X)
    without = SVDImputer(rank=3, scale=True, random_state=0).fit(X[:, keep])
    np.testing.assert_allclose(
        with_it.transform(X)[:, keep], without.transform(X[:, keep]), atol=1e-8
    )
    np.testing.assert_allclose(with_it.transform(X)[:, 2], 0.1, atol=1e-12)
