"""Array-API input (array-api-strict, PyTorch on CPU, CUDA when present).

Every fit is compared with the same fit on the NumPy copy of the data: LAPACK on
the host is the reference, to 1e-10 in float64 and to float32's rounding (a few
hundred ulps of the largest singular value) in float32. Attributes and outputs
must live in the input's namespace and on its device.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import clone, config_context
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._array_api import (
    get_namespace_and_device,
    move_to,
    yield_namespace_device_dtype_combinations,
)
from sklearn.utils._testing import _array_api_for_tests

from sksvd import (
    MinNormLeastSquares,
    MinNormLeastSquaresCV,
    PCAViaSVD,
    SVDImputer,
    TruncatedSVDCompressor,
)
from sksvd.linalg import (
    choose_solver,
    energy_ratio,
    low_rank_approximation,
    lstsq,
    null_space,
    pinv,
    svd,
)

# scikit-learn's combinations, without the devices sksvd has not been run on
# (Intel XPU, Apple MPS) and the dpnp namespace.
COMBINATIONS = [
    (namespace, device, dtype)
    for namespace, device, dtype in yield_namespace_device_dtype_combinations(
        include_numpy_namespaces=False
    )
    if namespace != "dpnp" and device not in ("xpu", "mps")
]


def _namespace(combination):
    namespace, device, dtype = combination
    xp, device = _array_api_for_tests(namespace, device, dtype)  # skips if absent
    return xp, device, np.dtype(dtype or "float64")


def _data(dtype, shape=(120, 12), seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape) @ np.diag(np.linspace(3, 0.5, shape[1]))
    X += 5.0  # means to remove
    y = X @ rng.standard_normal(shape[1]) + 0.1 * rng.standard_normal(shape[0])
    return X.astype(dtype), y.astype(dtype)


def _tolerance(dtype):
    return 1e-10 if dtype == np.float64 else 2e-4


def _host(array):
    """A NumPy copy of an array of any namespace and device."""
    if isinstance(array, np.ndarray | float):
        return np.asarray(array)
    with config_context(array_api_dispatch=True):
        return np.asarray(move_to(array, xp=np, device="cpu"))


def _same_place(array, like):
    with config_context(array_api_dispatch=True):
        xp_a, _, device_a = get_namespace_and_device(array)
        xp_b, _, device_b = get_namespace_and_device(like)
    assert xp_a.__name__ == xp_b.__name__
    assert device_a == device_b


def _compare(reference, fitted, X_xp, attributes, tolerance):
    for name in attributes:
        expected, value = getattr(reference, name), getattr(fitted, name)
        if isinstance(expected, np.ndarray):
            _same_place(value, X_xp)
            value = _host(value)
            assert value.dtype == expected.dtype, name
        scale = np.max(np.abs(expected), initial=1.0)
        assert_allclose(value, expected, rtol=tolerance, atol=tolerance * scale)


def _fit_on_both(estimator, X, X_xp, weights, methods=()):
    """Fit a transformer on NumPy X and, under dispatch, on its device copy.

    Returns the two fits, (device output, NumPy output) pairs for transform,
    fit_transform, inverse_transform and each ``(name, takes_X)`` of
    ``methods``, and the two scores.
    """
    reference = clone(estimator).fit(X, sample_weight=weights)
    expected = reference.transform(X)
    with config_context(array_api_dispatch=True):
        fitted = clone(estimator).fit(X_xp, sample_weight=weights)
        scores = fitted.transform(X_xp)
        pairs = [
            (scores, expected),
            (clone(estimator).fit_transform(X_xp, sample_weight=weights), expected),
            (fitted.inverse_transform(scores), reference.inverse_transform(expected)),
        ]
        for name, takes_X in methods:
            arguments = ((X_xp,), (X,)) if takes_X else ((), ())
            pairs.append(
                (
                    getattr(fitted, name)(*arguments[0]),
                    getattr(reference, name)(*arguments[1]),
                )
            )
        score = fitted.score(X_xp)
    return reference, fitted, pairs, (score, reference.score(X))


@pytest.mark.parametrize("combination", COMBINATIONS, ids=str)
@pytest.mark.parametrize("solver", ["auto", "full", "qr", "gram", "randomized"])
@pytest.mark.parametrize("n_components", [3, 0.8])
@pytest.mark.parametrize("weighted", [False, True])
def test_truncated_svd_matches_numpy(combination, solver, n_components, weighted):
    xp, device, dtype = _namespace(combination)
    X, _ = _data(dtype)
    weights = np.linspace(0.0, 2.0, X.shape[0]) if weighted else None
    estimator = TruncatedSVDCompressor(n_components, solver=solver, random_state=0)
    X_xp = xp.asarray(X, device=device)
    reference, fitted, pairs, scores = _fit_on_both(estimator, X, X_xp, weights)
    tolerance = _tolerance(dtype)
    assert fitted.solver_ == reference.solver_
    _compare(
        reference,
        fitted,
        X_xp,
        [
            "components_",
            "singular_values_",
            "explained_variance_",
            "explained_variance_ratio_",
            "explained_energy_ratio_",
            "reconstruction_error_",
        ],
        tolerance,
    )
    for output, expected in pairs:
        _same_place(output, X_xp)
        assert_allclose(_host(output), expected, rtol=tolerance, atol=tolerance * 100)
    assert abs(scores[0] - scores[1]) < tolerance


@pytest.mark.parametrize("combination", COMBINATIONS, ids=str)
@pytest.mark.parametrize("solver", ["auto", "full", "qr", "gram", "randomized"])
@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize(
    "n_components, whiten, weighted",
    [(3, False, False), (None, True, False), (0.9, False, True), ("mle", False, False)],
)
def test_pca_matches_numpy(combination, solver, matrix, n_components, whiten, weighted):
    if solver == "randomized" and not isinstance(n_components, int):
        pytest.skip("the randomized solver takes an integer n_components")
    xp, device, dtype = _namespace(combination)
    X, _ = _data(dtype)
    weights = np.arange(X.shape[0]) % 3 if weighted else None
    estimator = PCAViaSVD(
        n_components, matrix=matrix, whiten=whiten, solver=solver, random_state=0
    )
    X_xp = xp.asarray(X, device=device)
    reference, fitted, pairs, scores = _fit_on_both(
        estimator,
        X,
        X_xp,
        weights,
        [("score_samples", True), ("get_covariance", False), ("get_precision", False)],
    )
    tolerance = _tolerance(dtype)
    assert fitted.solver_ == reference.solver_
    assert fitted.n_components_ == reference.n_components_
    _compare(
        reference,
        fitted,
        X_xp,
        [
            "components_",
            "singular_values_",
            "explained_variance_",
            "explained_variance_ratio_",
            "mean_",
            "scale_",
            "var_",
            "loadings_",
            "noise_variance_",
        ],
        tolerance,
    )
    for output, expected in pairs:
        _same_place(output, X_xp)
        scale = np.max(np.abs(expected))
        assert_allclose(_host(output), expected, rtol=tolerance, atol=tolerance * scale)
    assert abs(scores[0] - scores[1]) <= tolerance * abs(scores[1])


SOLVERS = ["auto", "full", "qr", "gram"]


@pytest.mark.parametrize("combination", COMBINATIONS, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mle_ignores_rounding_noise(combination, dtype):
    """Rank-deficient data: the noise variances, at the rounding level of the
    dtype, count as zero, so "mle" keeps at most the numerical rank and the
    same number on every device and solver (PyTorch's float32 fit once kept a
    ninth direction of variance 1e-14 that NumPy's fit rounded below 1e-15)."""
    from sklearn.datasets import make_classification

    xp, device, _ = _namespace(combination)
    X, _ = make_classification(n_samples=30, n_features=10, random_state=42)
    X = X.astype(dtype)
    # The numerical rank at float32's rounding (10·eps₃₂) or float64's.
    relative = 10 * np.finfo(np.float32).eps if dtype == "float32" else None
    rank = np.linalg.matrix_rank(X.astype(np.float64) - X.mean(axis=0), rtol=relative)
    assert rank == 8
    counts = {PCAViaSVD("mle", solver=s).fit(X).n_components_ for s in SOLVERS}
    with config_context(array_api_dispatch=True):
        X_xp = xp.asarray(X, device=device)
        counts |= {PCAViaSVD("mle", solver=s).fit(X_xp).n_components_ for s in SOLVERS}
    assert len(counts) == 1 and counts.pop() <= rank


@pytest.mark.parametrize("combination", COMBINATIONS, ids=str)
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"fit_intercept": False, "solver": "qr"},
        {"solver": "full", "max_rank": 5},
        {"rcond": 0.05},
    ],
    ids=str,
)
@pytest.mark.parametrize("targets", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_least_squares_matches_numpy(combination, params, targets, weighted):
    xp, device, dtype = _namespace(combination)
    X, y = _data(dtype, shape=(400, 12))
    if targets > 1:
        y = np.column_stack([y, 2 * y + 1, -y])
    weights = np.linspace(0.0, 3.0, X.shape[0]) if weighted else None
    estimator = MinNormLeastSquares(**params)
    reference = clone(estimator).fit(X, y, sample_weight=weights)
    X_xp, y_xp = xp.asarray(X, device=device), xp.asarray(y, device=device)
    with config_context(array_api_dispatch=True):
        fitted = clone(estimator).fit(X_xp, y_xp, sample_weight=weights)
        predictions = fitted.predict(X_xp)
        r2 = fitted.score(X_xp, y_xp)
    tolerance = _tolerance(dtype)
    assert fitted.solver_ == reference.solver_ or reference.solver_ == "gelsd"
    assert fitted.rank_ == reference.rank_
    _compare(
        reference,
        fitted,
        X_xp,
        ["coef_", "intercept_", "singular_values_"],
        tolerance,
    )
    # The residual sum of squares is ‖y‖² − ‖Uᵀy‖² (or ‖y − Xβ‖² where that
    # cancels): its error is relative to ‖y‖², not to itself.
    rss = _host(fitted.residual_sum_of_squares_)
    allowed = tolerance * float(np.sum(y.astype(np.float64) ** 2))
    assert np.all(np.abs(rss - reference.residual_sum_of_squares_) <= allowed)
    _same_place(predictions, X_xp)
    assert_allclose(_host(predictions), reference.predict(X), rtol=tolerance, atol=0)
    assert abs(r2 - reference.score(X, y)) < tolerance


@pytest.mark.parametrize("combination", COMBINATIONS, ids=str)
@pytest.mark.parametrize("cv", [None, 4])
def test_least_squares_cv_fits_on_the_device(combination, cv):
    xp, device, dtype = _namespace(combination)
    X, y = _data(dtype, shape=(80, 10))
    reference = MinNormLeastSquaresCV(cv=cv).fit(X, y)
    X_xp, y_xp = xp.asarray(X, device=device), xp.asarray(y, device=device)
    with config_context(array_api_dispatch=True):
        fitted = MinNormLeastSquaresCV(cv=cv).fit(X_xp, y_xp)
        predictions = fitted.predict(X_xp)
    assert fitted.best_rank_ == reference.best_rank_
    _compare(reference, fitted, X_xp, ["coef_", "singular_values_"], 1e-12)
    _same_place(predictions, X_xp)
    # The same coefficients; the products X·β of two BLAS differ by rounding.
    assert_allclose(_host(predictions), reference.predict(X), rtol=_tolerance(dtype))


@pytest.mark.parametrize("combination", COMBINATIONS, ids=str)
def test_pipeline_and_grid_search_over_the_rank(combination):
    xp, device, dtype = _namespace(combination)
    if xp.__name__ == "array_api_strict":
        pytest.skip("GridSearchCV indexes with NumPy arrays, which strict refuses")
    X, y = _data(dtype, shape=(90, 10))
    pipeline = make_pipeline(PCAViaSVD(matrix="correlation"), MinNormLeastSquares())
    search = GridSearchCV(pipeline, {"pcaviasvd__n_components": [2, 5, 8]}, cv=3)
    reference = clone(search).fit(X, y)
    with config_context(array_api_dispatch=True):
        fitted = clone(search).fit(
            xp.asarray(X, device=device), xp.asarray(y, device=device)
        )
    assert fitted.best_params_ == reference.best_params_
    assert_allclose(
        fitted.cv_results_["mean_test_score"],
        reference.cv_results_["mean_test_score"],
        rtol=_tolerance(dtype),
    )


@pytest.mark.parametrize("combination", COMBINATIONS, ids=str)
def test_impossible_requests_are_refused(combination):
    xp, device, dtype = _namespace(combination)
    X, y = _data(dtype)
    X_xp = xp.asarray(X, device=device)
    with config_context(array_api_dispatch=True):
        for solver in ("arpack", "propack"):
            with pytest.raises(ValueError, match="array-API namespace"):
                TruncatedSVDCompressor(2, solver=solver).fit(X_xp)
            with pytest.raises(ValueError, match="array-API namespace"):
                PCAViaSVD(2, solver=solver).fit(X_xp)
        with pytest.raises(TypeError, match="missing='em'"):
            PCAViaSVD(2, missing="em").fit(X_xp)
        with pytest.raises(TypeError, match="partial_fit"):
            PCAViaSVD(2).partial_fit(X_xp)
        with pytest.raises(TypeError, match="batch_size"):
            PCAViaSVD(2).fit(X_xp, batch_size=50)
        fitted = PCAViaSVD().fit(X_xp)
        assert not hasattr(fitted, "partial_fit")
        with pytest.raises(AttributeError) as raised:
            fitted.partial_fit(X_xp)
        assert "array-API array on its device" in str(raised.value.__cause__)
        with pytest.raises(ValueError, match="same namespace"):
            fitted.transform(X)


@pytest.mark.parametrize("combination", COMBINATIONS, ids=str)
def test_numpy_only_functions_say_so(combination):
    xp, device, dtype = _namespace(combination)
    X, y = _data(dtype)
    X_xp = xp.asarray(X, device=device)
    calls = {
        "svd": lambda: svd(X_xp, 2),
        "low_rank_approximation": lambda: low_rank_approximation(X_xp, 2),
        "pinv": lambda: pinv(X_xp),
        "lstsq": lambda: lstsq(X_xp, y),
        "null_space": lambda: null_space(X_xp),
        "energy_ratio": lambda: energy_ratio(xp.abs(X_xp[:, 0])),
        "SVDImputer": lambda: SVDImputer(2).fit(X_xp),
    }
    with config_context(array_api_dispatch=True):
        for call in calls.values():
            with pytest.raises(TypeError, match="computes on NumPy arrays"):
                call()
    if xp.__name__ != "array_api_strict":  # strict refuses to convert itself
        for call in calls.values():  # without dispatch: converted, as before
            call()


def test_numpy_input_under_dispatch_is_unchanged():
    X, y = _data(np.float64)
    for estimator in (
        TruncatedSVDCompressor(4),
        PCAViaSVD(4, matrix="correlation"),
        MinNormLeastSquares(),
    ):
        reference = clone(estimator).fit(X, y)
        with config_context(array_api_dispatch=True):
            fitted = clone(estimator).fit(X, y)
        for name, value in vars(reference).items():
            if isinstance(value, np.ndarray):
                assert isinstance(getattr(fitted, name), np.ndarray)
                np.testing.assert_array_equal(getattr(fitted, name), value)


def test_torch_without_dispatch_is_converted_to_numpy():
    torch = pytest.importorskip("torch")
    X, _ = _data(np.float64)
    fitted = PCAViaSVD(3).fit(torch.asarray(X))
    assert isinstance(fitted.components_, np.ndarray)
    assert_allclose(fitted.components_, PCAViaSVD(3).fit(X).components_)


def test_policy_never_picks_numpy_only_solvers():
    assert choose_solver((5000, 3000), 10) == "lanczos"
    assert choose_solver((5000, 3000), 10, array_api=True) == "randomized"
    assert choose_solver((500, 300), 10, array_api=True) == "full"
    assert choose_solver((100_000, 50), 10, array_api=True) == "gram"


def test_import_loads_no_array_library():
    code = (
        "import sys, sksvd, sksvd.linalg; "
        "print(sorted(m for m in ('torch', 'cupy', 'array_api_strict') "
        "if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


def _torch():
    torch = pytest.importorskip("torch")
    return torch


def test_tensors_that_record_gradients_are_fitted():
    torch = _torch()
    X, y = _data(np.float64, shape=(60, 6))
    X_t = torch.asarray(X).requires_grad_(True)
    with config_context(array_api_dispatch=True), warnings.catch_warnings():
        # scikit-learn's validation calls torch.asarray, which warns that its
        # requires_grad default changed (PyTorch 2.13).
        warnings.filterwarnings("ignore", "torch.asarray", UserWarning)
        for estimator in (
            TruncatedSVDCompressor(3),
            PCAViaSVD(3),
            MinNormLeastSquares(),
            MinNormLeastSquaresCV(),
        ):
            fitted = clone(estimator).fit(X_t, torch.asarray(y))
            reference = clone(estimator).fit(X, y)
            name = "coef_" if hasattr(reference, "coef_") else "components_"
            assert_allclose(_host(getattr(fitted, name)), getattr(reference, name))


@pytest.mark.parametrize("magnitude", [1e30, 1e-30])
def test_whitened_float32_of_extreme_magnitude(magnitude):
    torch = _torch()
    X = (_data(np.float64, shape=(300, 5))[0] * magnitude).astype(np.float32)
    reference = PCAViaSVD(2, whiten=True).fit(X)
    with config_context(array_api_dispatch=True):
        fitted = PCAViaSVD(2, whiten=True).fit(torch.asarray(X))
        scores = fitted.transform(torch.asarray(X))
        back = fitted.inverse_transform(scores)
    expected = reference.transform(X)
    assert scores.dtype == torch.float32 and expected.dtype == np.float32
    assert_allclose(_host(scores), expected, rtol=2e-4, atol=2e-4)
    expected_back = reference.inverse_transform(expected)
    assert_allclose(_host(back), expected_back, rtol=2e-4, atol=2e-4 * magnitude)


def test_a_device_fit_is_not_continued_without_dispatch():
    torch = _torch()
    X, _ = _data(np.float64, shape=(30, 4))
    with config_context(array_api_dispatch=True):
        fitted = PCAViaSVD(solver="full").fit(torch.asarray(X))
    assert not hasattr(fitted, "partial_fit")


@pytest.mark.parametrize(
    "fit_dtype, new_dtype", [("float64", "float32"), ("float32", "float64")]
)
def test_new_data_of_the_other_precision_is_promoted(fit_dtype, new_dtype):
    torch = _torch()
    X, y = _data(np.float64)
    X_fit, X_new = X.astype(fit_dtype), X.astype(new_dtype)
    for estimator, method in (
        (TruncatedSVDCompressor(3), "transform"),
        (PCAViaSVD(3, whiten=True), "transform"),
        (PCAViaSVD(3), "inverse_transform"),
        (MinNormLeastSquares(), "predict"),
    ):
        reference = clone(estimator).fit(X_fit, y)
        with config_context(array_api_dispatch=True):
            fitted = clone(estimator).fit(torch.asarray(X_fit), torch.asarray(y))
            data = X_new[:, :3] if method == "inverse_transform" else X_new
            output = getattr(fitted, method)(torch.asarray(data))
        expected = getattr(reference, method)(data)
        assert _host(output).dtype == expected.dtype
        assert_allclose(_host(output), expected, rtol=2e-4, atol=2e-4)


def test_float32_with_tiny_weights_on_the_gram_route():
    # √w·X underflows float32 (w = 1e-250); the Gram route forms it in float64.
    torch = _torch()
    X, _ = _data(np.float32, shape=(400, 6))
    weights = np.linspace(0.5, 2.0, X.shape[0]) * 1e-250
    reference = TruncatedSVDCompressor(2).fit(X, sample_weight=weights)
    with config_context(array_api_dispatch=True):
        fitted = TruncatedSVDCompressor(2).fit(torch.asarray(X), sample_weight=weights)
    assert fitted.solver_ == reference.solver_ == "gram"
    for name in ("components_", "explained_variance_", "explained_energy_ratio_"):
        assert_allclose(
            _host(getattr(fitted, name)), getattr(reference, name), rtol=1e-5, atol=1e-6
        )


def test_explicit_gram_completes_the_centring_direction():
    torch = _torch()
    X = np.random.default_rng(0).standard_normal((8, 20))
    reference = PCAViaSVD(0.9, solver="gram").fit(X)
    with config_context(array_api_dispatch=True):
        fitted = PCAViaSVD(0.9, solver="gram").fit(torch.asarray(X))
    assert fitted.solver_ == reference.solver_ == "gram"
    assert_allclose(_host(fitted.components_), reference.components_, atol=1e-10)
    with config_context(array_api_dispatch=True):
        result = TruncatedSVDCompressor(8, solver="gram").fit(torch.asarray(X))
    U = _host(result.fit_transform(torch.asarray(X)))
    assert np.all(np.isfinite(U))


def test_the_gram_guard_uses_the_devices_precision(monkeypatch):
    torch = _torch()
    from sksvd import _compat

    # A device without float64 (Apple's MPS): the Gram matrix accumulates in
    # float32, so the guard must measure float32's rounding.
    monkeypatch.setattr(_compat, "max_precision_float_dtype", lambda xp, d: xp.float32)
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((2000, 5)))[0]
    X = Q * np.logspace(0, -3, 5) @ np.linalg.qr(rng.standard_normal((5, 5)))[0]
    X = X.astype(np.float32)
    with config_context(array_api_dispatch=True):
        fitted = TruncatedSVDCompressor(5).fit(torch.asarray(X))
    assert fitted.solver_ == "qr"  # κ = 1000: float32's Gram matrix loses σ₅
    expected = np.linalg.svd(X.astype(np.float64), compute_uv=False)
    assert_allclose(_host(fitted.singular_values_), expected, rtol=1e-4)


@pytest.mark.parametrize("magnitude", [1e-200, 1e-150, 1.0, 1e150, 1e200])
def test_gram_route_at_extreme_magnitudes(magnitude):
    # Squares of such data leave float64's range: the device Gram matrix is
    # formed again from the data divided by its largest magnitude.
    torch = _torch()
    X, y = _data(np.float64, shape=(3000, 8))
    X, y = X * magnitude, y * magnitude
    weights = np.linspace(0.5, 2.0, X.shape[0])
    for estimator in (
        PCAViaSVD(3),
        PCAViaSVD(3, matrix="correlation"),
        TruncatedSVDCompressor(3),
        MinNormLeastSquares(),
    ):
        try:
            reference = clone(estimator).fit(X, y, sample_weight=weights)
        except ValueError as error:  # PCA's variances beyond float64: refused
            with config_context(array_api_dispatch=True):
                with pytest.raises(ValueError, match=str(error)[:30]):
                    clone(estimator).fit(torch.asarray(X), sample_weight=weights)
            continue
        with config_context(array_api_dispatch=True):
            fitted = clone(estimator).fit(
                torch.asarray(X), torch.asarray(y), sample_weight=weights
            )
        assert fitted.solver_ == reference.solver_ == "gram"
        for name in ("components_", "singular_values_", "explained_variance_", "coef_"):
            if hasattr(reference, name):
                expected = getattr(reference, name)
                assert_allclose(
                    _host(getattr(fitted, name)),
                    expected,
                    rtol=1e-10,
                    atol=1e-10 * np.max(np.abs(expected)),
                )


def test_gram_route_whose_largest_eigenvalue_exceeds_every_diagonal_entry():
    # Eleven nearly equal columns of 1.2e152: each diagonal entry fits float64,
    # their sum (the largest eigenvalue) does not without rescaling.
    torch = _torch()
    rng = np.random.default_rng(0)
    common = rng.standard_normal((2000, 1))
    X = (common + 0.01 * rng.standard_normal((2000, 10))) * 1.2e152
    for estimator in (
        TruncatedSVDCompressor(3, solver="gram"),
        PCAViaSVD(3, solver="gram"),
    ):
        reference = clone(estimator).fit(X)
        with config_context(array_api_dispatch=True):
            fitted = clone(estimator).fit(torch.asarray(X))
        assert np.all(np.isfinite(_host(fitted.singular_values_)))
        assert_allclose(
            _host(fitted.singular_values_), reference.singular_values_, rtol=1e-10
        )


def test_device_least_squares_of_tiny_data_keeps_a_small_target():
    torch = _torch()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 6)) * 1e-300
    y = np.c_[
        X @ np.ones(6) + 1e-301 * rng.standard_normal(500), rng.standard_normal(500)
    ]
    for estimator in (
        MinNormLeastSquares(fit_intercept=False),
        MinNormLeastSquaresCV(cv=3, fit_intercept=False),
    ):
        reference = clone(estimator).fit(X, y)
        with config_context(array_api_dispatch=True):
            fitted = clone(estimator).fit(torch.asarray(X), torch.asarray(y))
        assert fitted.solver_ == reference.solver_
        assert_allclose(_host(fitted.coef_), reference.coef_, rtol=1e-9)
        assert np.abs(_host(fitted.coef_)[0]).max() > 0.1  # not lost to underflow


def test_float32_singular_values_beyond_range_are_refused():
    torch = _torch()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 10)).astype(np.float32)
    weights = np.ones(2000)
    weights[0] = 1e80  # √w·x beyond float32's largest number
    with config_context(array_api_dispatch=True):
        for data in (X, X[:8]):
            with pytest.raises(ValueError, match="float32"):
                TruncatedSVDCompressor(3, solver="gram").fit(
                    torch.asarray(data), sample_weight=weights[: data.shape[0]]
                )


def test_a_column_whose_squares_underflow_is_not_taken_for_zero():
    torch = _torch()
    X = np.random.default_rng(0).standard_normal((2000, 5))
    X[:, 2] *= 1e-170
    reference = PCAViaSVD(5).fit(X)
    with config_context(array_api_dispatch=True):
        fitted = PCAViaSVD(5).fit(torch.asarray(X))
    assert fitted.solver_ == reference.solver_ == "qr"
    # The smallest value is 45·1e-170 in exact arithmetic, rounding (about
    # eps·σ₁) on both paths.
    s = reference.singular_values_
    assert_allclose(_host(fitted.singular_values_), s, rtol=1e-10, atol=1e-13 * s[0])


def test_device_least_squares_keeps_a_tiny_target_beside_a_huge_one():
    torch = _torch()
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4000, 5))
    b = A @ np.ones(5) + 1e-3 * rng.standard_normal(4000)
    y = np.column_stack([b * 1e150, b * 1e-170])
    reference = MinNormLeastSquares(fit_intercept=False).fit(A, y)
    with config_context(array_api_dispatch=True):
        fitted = MinNormLeastSquares(fit_intercept=False).fit(
            torch.asarray(A), torch.asarray(y)
        )
    assert fitted.solver_ == reference.solver_ == "gram"
    coef = _host(fitted.coef_)
    assert_allclose(coef[1] / 1e-170, reference.coef_[1] / 1e-170, rtol=1e-10)
    assert_allclose(coef[0] / 1e150, reference.coef_[0] / 1e150, rtol=1e-10)


def test_energy_sketch_on_the_device_gives_way_to_the_full_svd():
    # As for NumPy input: the growing sketch stops at 3 % of the short side and
    # the device's linalg.svd gives the exact rank.
    xp = pytest.importorskip("array_api_strict")
    X = np.random.default_rng(0).standard_normal((1000, 1000))
    reference = TruncatedSVDCompressor(0.5, random_state=0).fit(X)
    with config_context(array_api_dispatch=True):
        fitted = TruncatedSVDCompressor(0.5, random_state=0).fit(xp.asarray(X))
    assert fitted.solver_ == reference.solver_ == "full"
    assert fitted.n_components_ == reference.n_components_
    assert_allclose(
        _host(fitted.singular_values_), reference.singular_values_, rtol=1e-12
    )


@pytest.mark.parametrize("solver", ["full", "qr", "randomized"])
def test_float32_beyond_range_is_refused_by_every_device_solver(solver):
    # σ₁ passes float32's 3.4e38: the QR factor and the sketch overflowed and
    # the namespace's SVD refused the non-finite matrix with its own error.
    torch = _torch()
    X = (np.random.default_rng(0).standard_normal((300, 40)) * 2e37).astype(np.float32)
    with config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="exceed the range of float32"):
            TruncatedSVDCompressor(5, solver=solver, random_state=0).fit(
                torch.asarray(X)
            )


@pytest.mark.parametrize(("dtype", "scale"), [(np.float32, 1e-40), (np.float32, 1e20)])
def test_device_randomized_sketch_at_extreme_magnitudes(dtype, scale):
    # Sketched divided by its largest magnitude, as NumPy input is.
    torch = _torch()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 40)) @ np.diag(np.geomspace(1, 1e-3, 40)) * scale
    X = X.astype(dtype)
    exact = np.linalg.svd(X.astype(np.float64), compute_uv=False)[:5]
    with config_context(array_api_dispatch=True):
        model = TruncatedSVDCompressor(
            5, solver="randomized", n_iter=10, random_state=0
        ).fit(torch.asarray(X))
        energy = TruncatedSVDCompressor(
            0.99, solver="randomized", n_iter=10, random_state=0
        ).fit(torch.asarray(X))
    assert_allclose(_host(model.singular_values_), exact, rtol=1e-4)
    s = _host(energy.singular_values_)
    assert_allclose(s[:5], exact, rtol=1e-4)


def test_device_centring_twice_keeps_the_rank_of_offset_collinear_features():
    torch = _torch()
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 100, 200), rng.integers(0, 100, 200)
    X = np.c_[1e8 + a, b, 1e8 + a + b].astype(np.float64)
    centred = np.c_[a, b, a + b].astype(np.float64)
    centred -= centred.mean(axis=0)
    exact = np.linalg.svd(centred, compute_uv=False)
    with config_context(array_api_dispatch=True):
        model = PCAViaSVD(3, solver="full").fit(torch.asarray(X))
    s = _host(model.singular_values_)
    assert_allclose(s[:2], exact[:2], rtol=1e-9)
    assert s[2] <= 1e-13 * exact[0]
