"""scikit-learn compatible estimators built on the singular value decomposition."""

from sksvd._compression import TruncatedSVDCompressor

__version__ = "0.1.0.dev0"

__all__ = ["TruncatedSVDCompressor", "__version__"]
