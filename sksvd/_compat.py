"""The one place where sksvd imports private names from scikit-learn.

scikit-learn moves private helpers between releases; keeping every such import here
means a release that moves one breaks this file and nothing else.
"""

from sklearn.base import _fit_context
from sklearn.decomposition._pca import _infer_dimension as infer_pca_dimension
from sklearn.utils._param_validation import (
    Interval,
    Options,
    RealNotInt,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_sample_weight as check_sample_weight

__all__ = [
    "Interval",
    "Options",
    "RealNotInt",
    "StrOptions",
    "_fit_context",
    "check_sample_weight",
    "infer_pca_dimension",
    "validate_params",
]
