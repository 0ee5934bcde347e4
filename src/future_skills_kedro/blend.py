"""Gradient boosting and a spline logistic regression, probabilities averaged.

``training.model.algorithm: boosted_spline_blend``. The boosting half (target-encoded role
and skill, see encoding.py) finds interactions; the linear half is additive in the
log-odds, the shape of a per-role and per-skill effect: splines of each numeric feature and
one-hot of the few-valued categoricals, each per horizon, plus a sparse one-hot column per
job role and skill name (sparse: memory grows with the rows, not with roles x skills).
Measured on three generated worlds in benchmarks/bench_encoding.py (README).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions

from future_skills_kedro.contract import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from future_skills_kedro.encoding import ENCODINGS, HIGH_CARDINALITY_FEATURES, build_preprocessor

HORIZON = "horizon_years"


class HorizonSplines(TransformerMixin, BaseEstimator):
    """Spline basis of each numeric feature and one-hot of each few-valued categorical,
    repeated per horizon seen in training (a row fills the block of its own horizon)."""

    def __init__(self, n_knots: int = 6):
        self.n_knots = n_knots

    def fit(self, X: pd.DataFrame, y=None):
        from sklearn.preprocessing import OneHotEncoder, SplineTransformer

        self.numeric_ = [c for c in NUMERIC_FEATURES if c in X.columns and c != HORIZON]
        self.categorical_ = [
            c for c in CATEGORICAL_FEATURES if c in X.columns and c not in HIGH_CARDINALITY_FEATURES
        ]
        self.splines_ = SplineTransformer(n_knots=self.n_knots, knots="quantile").fit(
            X.loc[:, self.numeric_]
        )
        self.one_hot_ = (
            OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(
                X.loc[:, self.categorical_]
            )
            if self.categorical_
            else None
        )
        self.horizons_ = np.sort(X[HORIZON].unique()) if HORIZON in X.columns else np.array([0])
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        parts = [self.splines_.transform(X.loc[:, self.numeric_])]
        if self.one_hot_ is not None:
            parts.append(self.one_hot_.transform(X.loc[:, self.categorical_]))
        basis = np.hstack(parts)
        horizon = X[HORIZON].to_numpy() if HORIZON in X.columns else np.zeros(len(X))
        blocks = (horizon[:, None] == self.horizons_[None, :]).astype(basis.dtype)
        return (basis[:, :, None] * blocks[:, None, :]).reshape(len(X), -1)


class BoostedSplineBlend(ClassifierMixin, BaseEstimator):
    """Mean of the class probabilities of the two halves (module docstring)."""

    # scikit-learn's declared constraints: checked with the parameters, before any fit.
    _parameter_constraints: ClassVar[dict] = {
        "encoding": [StrOptions(set(ENCODINGS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "l2_regularization": [Interval(Real, 0, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "n_knots": [Interval(Integral, 2, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        encoding: str = "target",
        learning_rate: float = 0.1,
        max_iter: int = 120,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        C: float = 1.0,
        tol: float = 1e-3,
        n_knots: int = 6,
        random_state: int = 42,
    ):
        self.encoding = encoding
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.C = C
        self.tol = tol
        self.n_knots = n_knots
        self.random_state = random_state

    def _halves(self, features: list[str]):
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline, make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        preprocess, native = build_preprocessor(
            self.encoding,
            features,
            scale_numeric=False,
            native_categorical=True,
            seed=self.random_state,
        )
        boosting = Pipeline(
            [
                ("preprocess", preprocess),
                (
                    "classifier",
                    HistGradientBoostingClassifier(
                        learning_rate=self.learning_rate,
                        max_iter=self.max_iter,
                        max_leaf_nodes=self.max_leaf_nodes,
                        min_samples_leaf=self.min_samples_leaf,
                        l2_regularization=self.l2_regularization,
                        categorical_features=native or None,
                        early_stopping=False,
                        random_state=self.random_state,
                    ),
                ),
            ]
        )
        identities = [c for c in HIGH_CARDINALITY_FEATURES if c in features]
        splines = make_pipeline(HorizonSplines(self.n_knots), StandardScaler())
        linear_input = ColumnTransformer(
            [
                ("splines", splines, features),
                ("identities", OneHotEncoder(handle_unknown="ignore"), identities),
            ],
            sparse_threshold=1.0,
        )
        linear = Pipeline(
            [
                ("preprocess", linear_input),
                ("classifier", LogisticRegression(C=self.C, tol=self.tol, max_iter=3000)),
            ]
        )
        return boosting, linear

    def fit(self, X: pd.DataFrame, y):
        self._validate_params()
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.estimators_ = [half.fit(X, y) for half in self._halves(list(X.columns))]
        self.classes_ = self.estimators_[0].classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.mean([half.predict_proba(X) for half in self.estimators_], axis=0)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
