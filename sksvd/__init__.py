"""scikit-learn compatible estimators built on the singular value decomposition."""

from sksvd._compression import TruncatedSVDCompressor
from sksvd._least_squares import MinNormLeastSquares, MinNormLeastSquaresCV
from sksvd._pca import PCAViaSVD

__version__ = "0.1.0.dev0"

__all__ = [
    "MinNormLeastSquares",
    "MinNormLeastSquaresCV",
    "PCAViaSVD",
    "TruncatedSVDCompressor",
    "__version__",
]
