"""Small synthetic data sets with documented generating models."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from sksvd._compat import Interval, validate_params

# Adults aged 20 and over, United States 2015–2018 (Fryar et al. 2021, table 1 and
# 10): mean height and its standard deviation in cm, by sex.
_HEIGHT_CM = {"men": (175.4, 7.6), "women": (161.5, 7.1)}
# Body-mass index: log-normal with this median (kg/m²) and log-scale spread, which
# gives the reported mean BMI of about 29.5 and its spread for both sexes.
_BMI_MEDIAN = 28.5
_BMI_LOG_SD = 0.2


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "as_frame": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_height_weight(n_samples=1000, *, random_state=None, as_frame=True):
    """Heights and weights of adults, from a model with realistic parameters.

    Each sample is a man or a woman with equal probability. Height is normal with
    the sex's mean and standard deviation; the body-mass index is log-normal and
    independent of height; weight is ``BMI · (height / 100)²``. Height and weight
    then correlate at about 0.5, as in survey data, and the first principal
    component of the two is the "overall size" direction.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of adults.

    random_state : int, RandomState instance or None, default=None
        Seeds the draw; pass an int for a repeatable data set.

    as_frame : bool, default=True
        Return a pandas DataFrame with columns ``height_cm`` and ``weight_kg``;
        otherwise an ndarray of shape (n_samples, 2) in that column order.

    Returns
    -------
    data : DataFrame or ndarray of shape (n_samples, 2)

    Notes
    -----
    ========  ===================  ==========================
    sex       height (cm)          BMI (kg/m²)
    ========  ===================  ==========================
    men       normal(175.4, 7.6)   log-normal, median 28.5,
    women     normal(161.5, 7.1)   log-scale sd 0.2 (both)
    ========  ===================  ==========================

    References
    ----------
    .. [1] C. D. Fryar, M. D. Carroll, Q. Gu, J. Afful and C. L. Ogden,
       "Anthropometric reference data for children and adults: United States,
       2015–2018", Vital and Health Statistics 3(46), National Center for Health
       Statistics, 2021.

    Examples
    --------
    >>> from sksvd.datasets import make_height_weight
    >>> people = make_height_weight(5000, random_state=0)
    >>> list(people.columns)
    ['height_cm', 'weight_kg']
    >>> people.mean().round(0).tolist()
    [168.0, 83.0]
    """
    rng = check_random_state(random_state)
    is_man = rng.random_sample(n_samples) < 0.5
    mean = np.where(is_man, _HEIGHT_CM["men"][0], _HEIGHT_CM["women"][0])
    sd = np.where(is_man, _HEIGHT_CM["men"][1], _HEIGHT_CM["women"][1])
    height = rng.normal(mean, sd)
    bmi = _BMI_MEDIAN * np.exp(_BMI_LOG_SD * rng.standard_normal(n_samples))
    weight = bmi * (height / 100) ** 2
    data = np.column_stack([height, weight])
    if not as_frame:
        return data
    return pd.DataFrame(data, columns=["height_cm", "weight_kg"])
