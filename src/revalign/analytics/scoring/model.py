"""The predictive lead score: a calibrated scikit-learn classifier with per-lead reasons and a saved artefact.

``LeadScoreModel(kind="gbm")`` follows the scikit-learn contract (``fit(X, y)`` / ``predict_proba(X)``,
``check_is_fitted``). Inside, one ``Pipeline``: a ``ColumnTransformer`` (numbers: median imputation and, for
the logistic regression, standard scaling; categories: one-hot with rare levels pooled) and the estimator,
``LogisticRegression`` (``kind="logistic"``) or ``HistGradientBoostingClassifier`` (``kind="gbm"``). The whole
pipeline is wrapped in ``CalibratedClassifierCV`` (isotonic by default; ``cv`` folds), so a score of 0.3 means
three leads in ten of that kind convert: a threshold can be set from sales capacity.

``fit`` runs the leakage guard first (:mod:`revalign.analytics.scoring.leakage`) and refuses flagged features
unless ``allow`` names them.

Reasons (:meth:`LeadScoreModel.reasons`), in log-odds, top ``k`` per lead:

- ``logistic``: coefficient × (value − training mean) of each transformed column, summed back to the
  feature it came from (the exact decomposition of the linear predictor), averaged over the calibration folds;
- ``gbm``: occlusion — the change in the log-odds of the calibrated probability when the feature is replaced
  by its training reference (median, or most frequent category). Not additive, but honest and cheap: one
  ``predict_proba`` per feature over the leads explained.

:meth:`LeadScoreModel.save` writes the fitted model with pickle (scikit-learn's documented persistence; the
same Python and scikit-learn versions must read it, so they are recorded) and a JSON sidecar (training window,
features, metrics, allowed leaks, library versions); :func:`load_model` reads both back.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from revalign.analytics.scoring.leakage import DEFAULT_AUC_THRESHOLD, Finding, audit, guard
from revalign.definitions.scoring_model import MODEL_KINDS

Kind = Literal["logistic", "gbm"]
KINDS = MODEL_KINDS
EPS = 1e-6


def _split_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric and categorical columns (booleans and strings are categories)."""
    numeric = [
        c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    return numeric, [c for c in frame.columns if c not in numeric]


def as_categories(frame: pd.DataFrame, categorical: Sequence[str]) -> pd.DataFrame:
    """Categories as strings, missing as ``"<missing>"`` (one level, not a silent drop)."""
    out = frame.copy()
    for c in categorical:
        out[c] = out[c].astype(object).where(out[c].notna(), "<missing>").astype(str)
    return out


def build_pipeline(kind: Kind, numeric: Sequence[str], categorical: Sequence[str], random_state: int) -> Pipeline:
    """The uncalibrated pipeline: preprocessing by column type, then the estimator."""
    if kind == "logistic":
        num = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        onehot = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=10, sparse_output=False)
        pre = ColumnTransformer([("num", num, list(numeric)), ("cat", onehot, list(categorical))])
        return Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=2000))])
    # gradient boosting splits categories natively: one ordinal column per feature (rare and unseen levels
    # pooled), far narrower than one-hot, so fits and predictions are several times faster
    codes = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, min_frequency=10, max_categories=250
    )
    pre = ColumnTransformer(
        [("num", SimpleImputer(strategy="median"), list(numeric)), ("cat", codes, list(categorical))]
    )
    is_category = [False] * len(numeric) + [True] * len(categorical)
    model = HistGradientBoostingClassifier(categorical_features=is_category, random_state=random_state)
    return Pipeline([("pre", pre), ("model", model)])


class LeadScoreModel(ClassifierMixin, BaseEstimator):
    """Calibrated probability that a lead converts, with reasons; refuses leaking features unless allowed."""

    def __init__(
        self,
        kind: Kind = "gbm",
        *,
        calibration: Literal["isotonic", "sigmoid"] = "isotonic",
        cv: int = 3,
        allow: Sequence[str] = (),
        auc_threshold: float = DEFAULT_AUC_THRESHOLD,
        random_state: int = 0,
    ) -> None:
        self.kind = kind
        self.calibration = calibration
        self.cv = cv
        self.allow = allow
        self.auc_threshold = auc_threshold
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any) -> LeadScoreModel:
        """Guard, then fit the calibrated pipeline on ``X`` (a DataFrame of features only) and ``y`` (0/1)."""
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        y_arr = np.asarray(y).astype(int)
        self.allowed_leaks_: list[Finding] = guard(audit(X, y_arr, auc_threshold=self.auc_threshold), self.allow)
        numeric, categorical = _split_columns(X)
        self.numeric_, self.categorical_ = numeric, categorical
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        data = as_categories(X, categorical)
        pipe = build_pipeline(self.kind, numeric, categorical, self.random_state)
        self.calibrated_ = CalibratedClassifierCV(pipe, method=self.calibration, cv=self.cv).fit(data, y_arr)
        self.classes_ = self.calibrated_.classes_
        self.reference_ = {c: float(data[c].median()) for c in numeric} | {
            c: data[c].mode().iloc[0] for c in categorical
        }
        self.train_mean_ = self._transformed_means(data)
        return self

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "calibrated_")
        return as_categories(X[list(self.feature_names_in_)], self.categorical_)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated ``[P(not converted), P(converted)]`` per row."""
        data = self._frame(X)  # checks the model is fitted first
        return np.asarray(self.calibrated_.predict_proba(data))

    def score_leads(self, X: pd.DataFrame) -> np.ndarray:
        """P(converted) per row: the lead score as a probability."""
        return self.predict_proba(X)[:, 1]

    def _pipelines(self) -> list[Pipeline]:
        return [c.estimator for c in self.calibrated_.calibrated_classifiers_]

    def _transformed_means(self, data: pd.DataFrame) -> list[np.ndarray]:
        return [np.asarray(p.named_steps["pre"].transform(data)).mean(axis=0) for p in self._pipelines()]

    def _linear_contributions(self, data: pd.DataFrame) -> pd.DataFrame:
        """coefficient × (value − training mean), summed per original feature, averaged over folds."""
        total = pd.DataFrame(0.0, index=data.index, columns=list(self.feature_names_in_))
        pipes = self._pipelines()
        for pipe, mean in zip(pipes, self.train_mean_, strict=True):
            pre = pipe.named_steps["pre"]
            z = (np.asarray(pre.transform(data)) - mean) * pipe.named_steps["model"].coef_[0]
            for k, out_name in enumerate(pre.get_feature_names_out()):
                total[_source_feature(str(out_name), self.categorical_)] += z[:, k]
        return total / len(pipes)

    def _occlusion_contributions(self, data: pd.DataFrame) -> pd.DataFrame:
        """logit(p) − logit(p with the feature set to its training reference), per feature."""
        base = _logit(np.asarray(self.calibrated_.predict_proba(data))[:, 1])
        out = {}
        for name in self.feature_names_in_:
            swapped = data.copy()
            swapped[name] = self.reference_[name]
            out[name] = base - _logit(np.asarray(self.calibrated_.predict_proba(swapped))[:, 1])
        return pd.DataFrame(out, index=data.index)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per lead and feature, its push on the log-odds (positive: raises the score); see the module doc."""
        data = self._frame(X)
        if self.kind == "logistic":
            return self._linear_contributions(data)
        return self._occlusion_contributions(data)

    def reasons(self, X: pd.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]:
        """The ``top`` features that move each lead's score most (either way), as (``feature=value``, log-odds)."""
        contrib = self.contributions(X)
        rows: list[list[tuple[str, float]]] = []
        for i, (_, row) in enumerate(contrib.iterrows()):
            order = row.abs().sort_values(ascending=False).index[:top]
            rows.append([(f"{f}={X.iloc[i][f]}", float(row[f])) for f in order])
        return rows

    def save(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """``path`` (pickle) and ``path.json`` (what, when, on which window, how well, with which libraries)."""
        check_is_fitted(self, "calibrated_")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            pickle.dump(self, fh, protocol=pickle.HIGHEST_PROTOCOL)
        meta = {
            "kind": self.kind,
            "calibration": self.calibration,
            "features": list(self.feature_names_in_),
            "allowed_leaks": [f.__dict__ for f in self.allowed_leaks_],
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
            **(metadata or {}),
        }
        sidecar = path.with_name(path.name + ".json")
        sidecar.write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
        return sidecar


def load_model(path: str | Path) -> tuple[LeadScoreModel, dict[str, Any]]:
    """A saved model and its metadata. Unpickling runs code: load only artefacts you (or your pipeline) wrote."""
    path = Path(path)
    with path.open("rb") as fh:
        model = pickle.load(fh)  # the caller's own artefact (see the docstring)
    if not isinstance(model, LeadScoreModel):
        raise TypeError(f"{path} holds a {type(model).__name__}, not a LeadScoreModel")
    meta = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    return model, meta


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, EPS, 1 - EPS)
    return np.asarray(np.log(q / (1 - q)))


def _source_feature(out_name: str, categorical: Sequence[str]) -> str:
    """The input feature a ColumnTransformer output column came from (``cat__segment_smb`` → ``segment``)."""
    step, _, rest = out_name.partition("__")
    if step == "num":
        return rest
    return max((c for c in categorical if rest.startswith(c + "_")), key=len)
