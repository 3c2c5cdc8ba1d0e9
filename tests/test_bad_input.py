"""Hostile input for every public entry point: a right answer or a clear error.

Each entry point is called with each kind of input. Inputs that cannot mean
anything (NaN, infinities, complex, empty, text, ragged, 3-D) must raise a
ValueError or TypeError whose message names the problem; the others must give the
same answer as the equivalent clean float64 array, with no NaN. No input is ever
modified.
"""

import hashlib
import pickle
from functools import partial

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sksvd import (
    MinNormLeastSquares,
    MinNormLeastSquaresCV,
    PCAViaSVD,
    TruncatedSVDCompressor,
)
from sksvd.image import compress_image
from sksvd.linalg import (
    eckart_young_error,
    energy_ratio,
    low_rank_approximation,
    lstsq,
    null_space,
    null_vector,
    pinv,
    svd,
)

RNG = np.random.default_rng(0)
X0 = RNG.standard_normal((8, 3)) @ np.diag([3.0, 2.0, 1.0]) + 1.0
Y0 = X0 @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.standard_normal(8)

_compressor = TruncatedSVDCompressor(2, random_state=0).fit(X0)
_pca = PCAViaSVD(2).fit(X0)
_regression = MinNormLeastSquares().fit(X0, Y0)


def _rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _projector(N):
    return N @ N.T


# name -> (function of X, accepts sparse input)
ENTRY_POINTS = {
    "svd": (lambda X: svd(X, 2, random_state=0).s, True),
    "low_rank_approximation": (lambda X: low_rank_approximation(X, 1), True),
    "pinv": (pinv, False),
    "lstsq": (lambda X: lstsq(X, Y0[: _rows(X)])[0], False),
    "null_space": (lambda X: _projector(null_space(X)), False),
    "null_vector": (lambda X: np.abs(null_vector(X)), False),
    "TruncatedSVDCompressor.fit_transform": (
        lambda X: np.abs(TruncatedSVDCompressor(2, random_state=0).fit_transform(X)),
        True,
    ),
    "TruncatedSVDCompressor.transform": (_compressor.transform, True),
    "TruncatedSVDCompressor.score": (_compressor.score, True),
    "PCAViaSVD.fit_transform": (lambda X: np.abs(PCAViaSVD(2).fit_transform(X)), True),
    "PCAViaSVD.partial_fit": (
        lambda X: PCAViaSVD(2).partial_fit(X).explained_variance_,
        True,
    ),
    "PCAViaSVD.transform": (_pca.transform, True),
    "PCAViaSVD.score_samples": (_pca.score_samples, False),
    "MinNormLeastSquares.fit": (
        lambda X: MinNormLeastSquares().fit(X, Y0[: _rows(X)]).coef_,
        True,
    ),
    "MinNormLeastSquares.predict": (_regression.predict, True),
    "MinNormLeastSquaresCV.fit": (
        lambda X: MinNormLeastSquaresCV().fit(X, Y0[: _rows(X)]).coef_,
        True,
    ),
    "compress_image": (
        lambda X: compress_image(X, rank=1).reconstruct(clip=False),
        False,
    ),
}


def _memmap(tmp_path):
    path = tmp_path / "X.dat"
    array = np.memmap(path, dtype=np.float64, mode="w+", shape=X0.shape)
    array[:] = X0
    array.flush()
    return np.memmap(path, dtype=np.float64, mode="r", shape=X0.shape)


def _with(value):
    X = X0.copy()
    X[2, 1] = value
    return X


def _readonly():
    X = X0.copy()
    X.flags.writeable = False
    return X


# name -> (factory of the input, clean float64 equivalent or None if it must fail,
#          words of which the error message must contain one)
INPUTS = {
    "float64": (lambda tmp: X0.copy(), X0, ()),
    "NaN": (lambda tmp: _with(np.nan), None, ("nan",)),
    "+inf": (lambda tmp: _with(np.inf), None, ("infinity", "inf")),
    "-inf": (lambda tmp: _with(-np.inf), None, ("infinity", "inf")),
    "complex": (lambda tmp: X0 + 1j, None, ("complex",)),
    "no rows": (lambda tmp: np.empty((0, 3)), None, ("0 sample", "empty", "minimum")),
    "no columns": (
        lambda tmp: np.empty((8, 0)),
        None,
        ("0 feature", "empty", "minimum", "features"),
    ),
    "strings": (
        lambda tmp: np.array([["a", "b", "c"]] * 8),
        None,
        ("convert", "string", "numbers", "dtype"),
    ),
    "objects": (
        lambda tmp: np.array([[1.0, "x", 2.0]] * 8, dtype=object),
        None,
        ("convert", "string", "numbers", "dtype"),
    ),
    "ragged": (
        lambda tmp: [[1.0, 2.0, 3.0], [4.0, 5.0]] * 4,
        None,
        ("inhomogeneous", "sequence", "shape"),
    ),
    "3-D": (lambda tmp: X0.reshape(8, 3, 1), None, ("2d", "2-d", "dim", "shape")),
    "int": (lambda tmp: np.rint(X0 * 10).astype(int), np.rint(X0 * 10), ()),
    "bool": (lambda tmp: X0 > 1, (X0 > 1).astype(float), ()),
    "read-only": (lambda tmp: _readonly(), X0, ()),
    "memmap": (_memmap, X0, ()),
    "non-contiguous": (
        lambda tmp: np.repeat(X0, 2, axis=1)[:, ::2],
        X0,
        (),
    ),
    "Fortran-ordered": (lambda tmp: np.asfortranarray(X0), X0, ()),
    "nullable Int64": (
        lambda tmp: pd.DataFrame(np.rint(X0 * 10).astype(int)).astype("Int64"),
        np.rint(X0 * 10),
        (),
    ),
    "nullable with NA": (
        lambda tmp: (
            pd.DataFrame(np.rint(X0 * 10).astype(int))
            .astype("Int64")
            .mask(np.eye(8, 3, dtype=bool))
        ),
        None,
        ("nan", "na"),
    ),
    "huge": (lambda tmp: X0 * 1e300, X0 * 1e300, ()),
    "tiny": (lambda tmp: X0 * 1e-300, X0 * 1e-300, ()),
}
for _format in ("csr", "csc", "coo", "bsr", "lil", "dok", "dia"):
    INPUTS[f"sparse {_format}"] = (
        lambda tmp, f=_format: sp.csr_matrix(X0).asformat(f),
        "sparse",
        ("sparse", "dense"),
    )
# Entry points that refuse a kind of input by design, with the word that says so.
REFUSALS = {
    ("PCAViaSVD.fit_transform", "huge"): ("overflow",),
    ("PCAViaSVD.partial_fit", "huge"): ("overflow",),
    ("PCAViaSVD.fit_transform", "tiny"): ("underflow",),
    ("PCAViaSVD.partial_fit", "tiny"): ("underflow",),
}
# Results that are right although not finite: the model fitted on data of order
# one gives 1e300-sized samples a density that underflows, a log-likelihood -inf.
INFINITE = {("PCAViaSVD.score_samples", "huge"): -np.inf}


def _fingerprint(value):
    if sp.issparse(value):
        value = value.toarray()
    if isinstance(value, pd.DataFrame):
        return pd.util.hash_pandas_object(value).sum()
    return hashlib.sha256(pickle.dumps(np.asarray(value, dtype=object))).hexdigest()


@pytest.mark.parametrize("input_name", INPUTS)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_entry_point_on_input(entry, input_name, tmp_path):
    function, accepts_sparse = ENTRY_POINTS[entry]
    factory, clean, words = INPUTS[input_name]
    value = factory(tmp_path)
    before = _fingerprint(value)
    refusal = REFUSALS.get((entry, input_name))
    if isinstance(clean, str) and accepts_sparse:
        clean = X0  # sparse input that the entry point accepts
    if clean is None or isinstance(clean, str) or refusal:
        with pytest.raises((ValueError, TypeError)) as raised:
            function(value)
        message = str(raised.value).lower()
        expected = refusal or words
        assert any(word in message for word in expected), message
    else:
        import warnings

        with warnings.catch_warnings():
            # The constant column of "bool" data is a legitimate warning source.
            warnings.simplefilter("ignore", UserWarning)
            result = np.asarray(function(value), dtype=float)
            reference = np.asarray(function(np.asarray(clean, dtype=float)))
        if (entry, input_name) in INFINITE:
            assert np.all(result == INFINITE[entry, input_name])
            return
        assert np.all(np.isfinite(result))
        scale = np.max(np.abs(reference)) or 1.0
        np.testing.assert_allclose(result, reference, atol=1e-9 * scale, rtol=1e-7)
    assert _fingerprint(value) == before, "the input was modified"


@pytest.mark.parametrize(
    ("estimator", "method"),
    [
        (_compressor, "transform"),
        (_pca, "transform"),
        (_pca, "score_samples"),
        (_regression, "predict"),
    ],
)
def test_wrong_feature_count(estimator, method):
    with pytest.raises(ValueError, match="features"):
        getattr(estimator, method)(X0[:, :2])


@pytest.mark.parametrize("estimator", [_compressor, _pca])
def test_inverse_transform_wrong_width(estimator):
    with pytest.raises(ValueError, match="n_components_=2"):
        estimator.inverse_transform(np.ones((3, 3)))


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (Y0[:5], "inconsistent numbers of samples"),
        (np.where(np.arange(8) == 3, np.nan, Y0), "NaN"),
        (Y0.astype(complex), "Complex"),
    ],
)
@pytest.mark.parametrize("model", [MinNormLeastSquares(), MinNormLeastSquaresCV()])
def test_bad_targets(model, y, message):
    with pytest.raises(ValueError, match=message):
        model.fit(X0, y)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (-np.ones(8), "(?i)negative"),
        (np.ones(5), "shape"),
        (np.zeros(8), "zero|non-zero"),
    ],
)
def test_bad_sample_weight(weights, message):
    with pytest.raises(ValueError, match=message):
        MinNormLeastSquares().fit(X0, Y0, sample_weight=weights)


@pytest.mark.parametrize("n_components", [0, 4, 1.0, 0.0, -0.5, 1.5, "2", [2]])
@pytest.mark.parametrize("estimator", [TruncatedSVDCompressor, PCAViaSVD])
def test_invalid_n_components(estimator, n_components):
    if (
        estimator is PCAViaSVD
        and n_components == 0
        and not isinstance(n_components, float)
    ):
        # PCA with no component is a model (the noise variance), as in
        # scikit-learn; the Krylov and randomized solvers refuse it.
        estimator = partial(PCAViaSVD, solver="arpack")
    with pytest.raises((ValueError, TypeError), match="n_components"):
        estimator(n_components).fit(X0)


@pytest.mark.parametrize(
    ("s", "message"),
    [
        ([np.nan, 1.0], "NaN"),
        ([1.0, -1.0], "non-negative"),
        ([[1.0]], "1-D"),
        ([], "minimum|empty|0 sample"),
    ],
)
@pytest.mark.parametrize("function", [energy_ratio, lambda s: eckart_young_error(s, 0)])
def test_bad_spectra(function, s, message):
    with pytest.raises(ValueError, match=message):
        function(s)
