"""The contract of the data-driven attribution models (scikit-learn's), with the one ``credit()`` they share.

Like a scikit-learn estimator, a model's ``__init__`` only stores its keyword-only parameters (so ``clone``,
``get_params`` and grid searches work), ``fit`` learns from a path table and returns ``self``, and everything
learned is an attribute ending in ``_``. A model is fitted exactly when it has such attributes, which is what
:meth:`AttributionEstimator.check_is_fitted` (and scikit-learn's own ``check_is_fitted``) test.

Every model here ends in the same step: the totals (conversions and value) are shared among the channels in
proportion to a per-channel score — the Markov removal effect, the Shapley value. That step is
:meth:`AttributionEstimator.credit`. The rule-based models do not derive from this class: they learn nothing,
and their weights are computed on the engine for every model in one expression (:mod:`.rules`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import pandas as pd
from sklearn.base import BaseEstimator

from revalign.analytics.attribution.counts import validated_paths
from revalign.errors import NotFittedError


class AttributionEstimator(BaseEstimator, ABC):
    """Base of the data-driven attribution models: fitted check and credit shared by score.

    A subclass sets, in ``fit``, ``channels_``, ``total_conversions_``, ``total_value_`` and the scores that
    :meth:`_scores` returns; ``score_column`` names the score in the credit table.
    """

    score_column: ClassVar[str]
    channels_: list[str]
    total_conversions_: float
    total_value_: float

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted when ``fit`` has set a learned attribute (a name ending in ``_``), as scikit-learn decides."""
        return any(name.endswith("_") and not name.startswith("__") for name in vars(self))

    def check_is_fitted(self) -> None:
        """Raise :class:`~revalign.errors.NotFittedError` when the model is used before ``fit``."""
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit(paths) first.")

    @abstractmethod
    def _scores(self) -> tuple[pd.Series, pd.Series]:
        """Per-channel scores the conversions and the value are shared by (fitted models only)."""

    def credit(self, paths: pd.DataFrame | None = None) -> pd.DataFrame:
        """Credited ``conversions`` and ``value`` per channel: the totals shared in proportion to the score.

        With ``paths`` the totals come from that table (e.g. one period), the shares from the fitted model. A
        score summing to 0 gives every channel 0.
        """
        self.check_is_fitted()
        if paths is None:
            total_c, total_v = self.total_conversions_, self.total_value_
        else:
            paths = validated_paths(paths)
            total_c, total_v = float(paths["conversions"].sum()), float(paths["value"].sum())
        score, score_v = self._scores()
        share = score / score.sum() if score.sum() != 0 else score * 0.0
        share_v = score_v / score_v.sum() if score_v.sum() != 0 else score_v * 0.0
        return pd.DataFrame(
            {
                "channel": self.channels_,
                "conversions": (share * total_c).to_numpy(),
                "value": (share_v * total_v).to_numpy(),
                self.score_column: score.to_numpy(),
            }
        )
