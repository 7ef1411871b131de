"""The data-driven models keep scikit-learn's estimator contract through their shared base."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from revalign.analytics.attribution import AttributionEstimator, MarkovAttribution, ShapleyAttribution
from revalign.errors import NotFittedError

PATHS = pd.DataFrame(
    {
        "path": ["a > b", "b", "a > c", "c"],
        "conversions": [3.0, 1.0, 2.0, 0.0],
        "nulls": [1.0, 4.0, 1.0, 5.0],
        "value": [300.0, 100.0, 200.0, 0.0],
    }
)
MODELS = [MarkovAttribution(order=1), MarkovAttribution(order=2), ShapleyAttribution()]


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_fitted_only_after_fit_and_clones_unfitted(model: AttributionEstimator):
    est = clone(model)
    assert not est.__sklearn_is_fitted__() and vars(est) == vars(model)  # __init__ only stores the parameters
    with pytest.raises(NotFittedError, match=f"This {type(est).__name__} is not fitted yet"):
        est.check_is_fitted()
    assert est.fit(PATHS) is est
    est.check_is_fitted()
    check_is_fitted(est)  # scikit-learn agrees
    assert not clone(est).__sklearn_is_fitted__()


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_credit_shares_the_totals_by_the_model_score(model: AttributionEstimator):
    est = clone(model).fit(PATHS)
    credit = est.credit()
    assert list(credit.columns) == ["channel", "conversions", "value", est.score_column]
    assert credit["conversions"].sum() == pytest.approx(6.0)
    assert credit["value"].sum() == pytest.approx(600.0)
    half = PATHS.assign(conversions=PATHS["conversions"] / 2, value=PATHS["value"] / 2)
    pd.testing.assert_series_equal(est.credit(half)["conversions"], credit["conversions"] / 2)
