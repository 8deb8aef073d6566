"""The KL to N(0, I) of vae_numpy.gaussian near log σ² = 0 (4.7), where e^t − 1 − t is
the difference of nearly equal numbers: it must not round below 0."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vae_numpy.gaussian import kl_std_normal

TINY = 7.4e-16  # a log σ² at which exp(t) − 1 − t rounds below 0 in float64


def test_exp_minus_one_rounds_below_zero_where_the_kl_does_not():
    naive = 0.5 * (np.exp(TINY) - 1.0 - TINY)
    kl = kl_std_normal(np.zeros((1, 1)), np.full((1, 1), TINY))
    assert naive < 0 <= kl[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(
    mu=st.floats(-1e-6, 1e-6),
    log_var=st.one_of(st.floats(-1e-6, 1e-6), st.floats(-1e-14, 1e-14)),
)
@example(mu=0.0, log_var=TINY)
@example(mu=0.0, log_var=-TINY)
def test_the_kl_of_a_dimension_near_the_prior_is_at_least_zero(dtype, mu, log_var):
    kl = kl_std_normal(np.full((1, 1), mu, dtype), np.full((1, 1), log_var, dtype))
    assert kl.dtype == dtype
    assert kl[0] >= 0
