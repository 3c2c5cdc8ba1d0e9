"""scikit-learn compatible estimators built on the singular value decomposition."""

import importlib

__version__ = "0.1.0.dev0"

# The estimators are imported on first use (PEP 562), so that ``sksvd --help``
# and other light uses do not pay for importing scikit-learn.
_ESTIMATORS = {
    "MinNormLeastSquares": "sksvd._least_squares",
    "MinNormLeastSquaresCV": "sksvd._least_squares",
    "PCAViaSVD": "sksvd._pca",
    "SVDImputer": "sksvd._impute",
    "TruncatedSVDCompressor": "sksvd._compression",
}

__all__ = [
    "MinNormLeastSquares",
    "MinNormLeastSquaresCV",
    "PCAViaSVD",
    "SVDImputer",
    "TruncatedSVDCompressor",
    "__version__",
]


# Submodules reachable as attributes, as they were when the package imported
# its estimators eagerly.
_SUBMODULES = ("cli", "datasets", "exceptions", "image", "linalg", "plotting")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"sksvd.{name}")
    if name in _ESTIMATORS:
        value = getattr(importlib.import_module(_ESTIMATORS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sksvd' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
