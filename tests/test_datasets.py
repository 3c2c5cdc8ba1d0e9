"""make_height_weight against its documented model."""

import numpy as np
import pandas as pd
import pytest

from sksvd.datasets import make_height_weight


def test_frame_and_array_agree():
    frame = make_height_weight(200, random_state=1)
    array = make_height_weight(200, random_state=1, as_frame=False)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["height_cm", "weight_kg"]
    np.testing.assert_array_equal(frame.to_numpy(), array)


def test_moments_follow_the_model():
    X = make_height_weight(200_000, random_state=0, as_frame=False)
    height, weight = X.T
    # Equal mixture of N(175.4, 7.6²) and N(161.5, 7.1²).
    mixture_mean = (175.4 + 161.5) / 2
    mixture_var = (7.6**2 + 7.1**2) / 2 + ((175.4 - 161.5) / 2) ** 2
    assert height.mean() == pytest.approx(mixture_mean, abs=0.1)
    assert height.var() == pytest.approx(mixture_var, rel=0.02)
    # BMI is log-normal with median 28.5 and log-sd 0.2, independent of height.
    bmi = weight / (height / 100) ** 2
    assert np.median(bmi) == pytest.approx(28.5, rel=0.01)
    assert np.std(np.log(bmi)) == pytest.approx(0.2, rel=0.01)
    assert abs(np.corrcoef(bmi, height)[0, 1]) < 0.01


def test_repeatable_with_a_seed():
    pd.testing.assert_frame_equal(
        make_height_weight(50, random_state=3), make_height_weight(50, random_state=3)
    )


def test_invalid_size():
    with pytest.raises(ValueError, match="n_samples"):
        make_height_weight(0)
