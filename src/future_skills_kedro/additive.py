"""An additive logistic model: ``training.model.algorithm: additive_logistic`` (the default).

A multinomial ``LogisticRegression`` on a sparse basis built by :class:`AdditiveBasis`:

- the terms: a spline basis of each numeric feature, the products of each pair of
  standardised numeric features, a column per value of each few-valued categorical
  (department, seniority, skill category) and per pair of their values (e.g. seniority x
  skill category);
- each term twice: as it is, and times the row's horizon position (0 for the shortest
  horizon trained on, 1 for the longest), so every effect may change linearly from the
  1-year to the 5-year view;
- once: a column per job role name and per skill name.

Why a linear model on a hand-built basis rather than gradient boosting: on generated worlds
the need of a skill is a smooth function of the market and internal signals, shaped by the
horizon, plus a per-role and per-skill effect. Boosting on target-encoded roles and skills
confounds a role's own effect with its skill mix (macro-F1 0.015-0.019 below the generator's
oracle), one-hot boosting does not scale with roles x skills; this model comes within 0.01 of
the oracle, fits in seconds and scores 20x faster than one-hot boosting (README "Choosing the
default model", benchmarks/bench_encoding.py). A term linear in the horizon position instead
of a block per horizon: lower log loss on five generated worlds (fewer parameters to fit).

The basis is written straight into a CSR matrix with the same number of entries in every row:
its memory is that of the entries, whatever the number of roles and skills. Scoring does not
build it: the product of the basis and the fitted weights is summed directly
(:meth:`AdditiveBasis.dot`). Categories are
coded by scikit-learn's ``OrdinalEncoder`` (``encoder_``, read back by
``encoding.known_categories``); a value unseen in training adds nothing (its entry is an
explicit 0), so an unseen role or skill is scored from its other features; so is a row with a
missing numeric value (the inference pipeline rejects such rows first; a served model scores
them). A horizon outside the trained ones is clipped to the nearest end (between two,
interpolated).
"""

from __future__ import annotations

from itertools import combinations
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils._param_validation import Interval

from future_skills_kedro.contract import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from future_skills_kedro.encoding import HIGH_CARDINALITY_FEATURES
from future_skills_kedro.lookups import positions_in

HORIZON = "horizon_years"


class AdditiveBasis(TransformerMixin, BaseEstimator):
    """The sparse basis of the module docstring (a scikit-learn transformer)."""

    def __init__(self, n_knots: int = 6, products: bool = True, crosses: bool = True):
        self.n_knots = n_knots
        self.products = products
        self.crosses = crosses

    def fit(self, X: pd.DataFrame, y=None):
        from sklearn.preprocessing import OrdinalEncoder, SplineTransformer

        self.numeric_ = [c for c in NUMERIC_FEATURES if c in X.columns and c != HORIZON]
        self.categorical_ = [c for c in CATEGORICAL_FEATURES if c in X.columns]
        self.identities_ = [c for c in self.categorical_ if c in HIGH_CARDINALITY_FEATURES]
        few_valued = [c for c in self.categorical_ if c not in self.identities_]
        numeric = X.loc[:, self.numeric_].to_numpy(dtype=np.float64)
        self.splines_ = (
            SplineTransformer(n_knots=self.n_knots, knots="quantile", handle_missing="zeros").fit(
                numeric
            )
            if self.numeric_
            else None
        )
        self.center_ = np.nanmean(numeric, axis=0)
        self.scale_ = np.nanstd(numeric, axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        self.encoder_ = (
            OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.int64
            ).fit(X.loc[:, self.categorical_])
            if self.categorical_
            else None
        )
        vocabularies = getattr(self.encoder_, "categories_", [])
        sizes = {c: len(v) for c, v in zip(self.categorical_, vocabularies, strict=True)}
        # Groups of one-of-n columns: each few-valued categorical, then each pair of them.
        self.groups_ = [((c,), sizes[c]) for c in few_valued]
        if self.crosses:
            self.groups_ += [((a, b), sizes[a] * sizes[b]) for a, b in combinations(few_valued, 2)]
        pairs = len(self.numeric_) * (len(self.numeric_) - 1) // 2 if self.products else 0
        splines = self.splines_.n_features_out_ if self.splines_ is not None else 0
        self.dense_width_ = splines + pairs
        self.terms_width_ = self.dense_width_ + sum(size for _, size in self.groups_)
        horizons = X[HORIZON].to_numpy(dtype=np.float64) if HORIZON in X.columns else np.zeros(1)
        self.horizon_range_ = (float(horizons.min()), float(horizons.max()))
        self.identity_sizes_ = [sizes[c] for c in self.identities_]
        self.n_features_out_ = 2 * self.terms_width_ + sum(self.identity_sizes_)
        return self

    def horizon_position(self, X: pd.DataFrame) -> np.ndarray:
        """0 at the shortest horizon trained on, 1 at the longest (clipped outside)."""
        shortest, longest = self.horizon_range_
        if HORIZON not in X.columns or longest == shortest:
            return np.zeros(len(X))
        horizon = X[HORIZON].to_numpy(dtype=np.float64)
        return np.clip((horizon - shortest) / (longest - shortest), 0.0, 1.0)

    def _codes(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """Per categorical column, each row's position in the fitted vocabulary (-1: unseen).

        The vocabulary is the fitted ``OrdinalEncoder``'s, looked up by
        :func:`~future_skills_kedro.lookups.positions_in`: the five columns of 1M rows in
        0.066 s against 0.65 s for pandas' ``get_indexer`` and 1.31 s for
        ``OrdinalEncoder.transform`` (``benchmarks/bench_inference.py --components``).
        """
        return {
            column: positions_in(X[column], categories)
            for column, categories in zip(
                self.categorical_, getattr(self.encoder_, "categories_", []), strict=True
            )
        }

    def _group_code(
        self, group: tuple[str, ...], codes: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """A group's one-of-n column per row (0 where a value is unseen) and whether all seen."""
        code = np.zeros(len(next(iter(codes.values()))), dtype=np.int64)
        seen = np.ones(len(code), dtype=bool)
        for column in group:
            vocabulary = len(self.encoder_.categories_[self.categorical_.index(column)])
            code = code * vocabulary + codes[column]
            seen &= codes[column] >= 0
        return np.where(seen, code, 0), seen

    def _dense_terms(self, X: pd.DataFrame) -> np.ndarray:
        """The splines of each numeric feature, then the products of their pairs (rows x
        ``dense_width_``)."""
        numeric = X.loc[:, self.numeric_].to_numpy(dtype=np.float64)
        splines = self.splines_.transform(numeric)
        if not self.products:
            return splines
        # A missing value adds nothing, as an unseen category does.
        standard = np.nan_to_num((numeric - self.center_) / self.scale_)
        left, right = np.triu_indices(len(self.numeric_), k=1)  # the pairs, in order
        return np.hstack([splines, standard[:, left] * standard[:, right]])

    def _terms(
        self,
        X: pd.DataFrame,
        codes: dict[str, np.ndarray],
        columns: np.ndarray,
        values: np.ndarray,
    ) -> None:
        """Write each row's terms (its first ``dense_width_ + len(groups_)`` entries) in place."""
        width = self.dense_width_
        columns[:, :width] = np.arange(width)[None, :]
        if self.numeric_:
            values[:, :width] = self._dense_terms(X)
        entry, offset = width, width
        for group, size in self.groups_:
            code, seen = self._group_code(group, codes)
            columns[:, entry] = offset + code
            values[:, entry] = seen
            entry, offset = entry + 1, offset + size

    def transform(self, X: pd.DataFrame):
        import scipy.sparse as sp

        rows = len(X)
        terms = self.dense_width_ + len(self.groups_)
        per_row = 2 * terms + len(self.identities_)
        # scipy takes 32-bit indices as they are (64-bit ones are checked and copied).
        index = np.int32 if max(self.n_features_out_, rows * per_row) < 2**31 else np.int64
        # Each row's entries, in increasing column order: its terms, the terms times its
        # horizon position, its role and skill.
        columns = np.empty((rows, per_row), dtype=index)
        values = np.empty((rows, per_row), dtype=np.float64)
        codes = self._codes(X)
        self._terms(X, codes, columns, values)
        columns[:, terms : 2 * terms] = columns[:, :terms] + self.terms_width_
        np.multiply(
            values[:, :terms], self.horizon_position(X)[:, None], out=values[:, terms : 2 * terms]
        )
        entry, offset = 2 * terms, 2 * self.terms_width_
        for column, size in zip(self.identities_, self.identity_sizes_, strict=True):
            columns[:, entry] = offset + np.maximum(codes[column], 0)
            values[:, entry] = codes[column] >= 0
            entry, offset = entry + 1, offset + size
        return sp.csr_matrix(
            (
                values.ravel(),
                columns.ravel(),
                np.arange(0, rows * per_row + 1, per_row).astype(index),
            ),
            shape=(rows, self.n_features_out_),
        )

    def dot(self, X: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
        """``transform(X) @ weights.T`` (rows x len(weights)), without building the basis.

        Each row's basis is its dense terms and a single 1 per categorical group (an explicit
        0 when unseen), the same times its horizon position, and a single 1 per identity (job
        role, skill); so the product is the dense terms times their weights plus one
        looked-up weight per group and identity. 1M rows on one thread: 2.0 s instead of
        3.1 s for the sparse basis and the fitted ``LogisticRegression`` on it
        (``benchmarks/bench_inference.py --components``), and no basis in memory (1.2 GB of
        entries at 1M rows). Sums are taken term by term with element-wise operations (no
        BLAS, whose blocking may depend on the number of rows), so a row's score does not
        depend on the rows scored with it.
        """
        codes = self._codes(X)
        second = self.terms_width_  # where the terms times the horizon position start
        # Sums per output (rows of ``plain``/``scaled``, each a contiguous run over the rows:
        # long vector operations), of the terms as they are and of the terms times the position.
        plain = np.zeros((len(weights), len(X)))
        scaled = np.zeros_like(plain)
        if self.dense_width_:
            dense = np.ascontiguousarray(self._dense_terms(X).T)
            product = np.empty(len(X))
            for term, values in enumerate(dense):
                for output in range(len(weights)):
                    np.multiply(values, weights[output, term], out=product)
                    plain[output] += product
                    np.multiply(values, weights[output, second + term], out=product)
                    scaled[output] += product
        offset = self.dense_width_
        for group, size in self.groups_:
            code, seen = self._group_code(group, codes)
            plain += weights[:, offset + code] * seen
            scaled += weights[:, second + offset + code] * seen
            offset += size
        result = plain + scaled * self.horizon_position(X)
        offset = 2 * second
        for column, size in zip(self.identities_, self.identity_sizes_, strict=True):
            code = codes[column]
            result += weights[:, offset + np.maximum(code, 0)] * (code >= 0)
            offset += size
        return result.T


class AdditiveLogistic(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression on :class:`AdditiveBasis` (module docstring)."""

    # scikit-learn's declared constraints: checked with the parameters, before any fit.
    _parameter_constraints: ClassVar[dict] = {
        "n_knots": [Interval(Integral, 2, None, closed="left")],
        "products": ["boolean"],
        "crosses": ["boolean"],
        "C": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_knots: int = 6,
        products: bool = True,
        crosses: bool = True,
        C: float = 1.0,
        tol: float = 1e-3,
        max_iter: int = 3000,
    ):
        self.n_knots = n_knots
        self.products = products
        self.crosses = crosses
        self.C = C
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y):
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        self._validate_params()
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.basis_ = AdditiveBasis(self.n_knots, self.products, self.crosses).fit(X)
        basis = self.basis_.transform(X)
        # Scaled, not centred: centring would densify the sparse basis. The scale matters for
        # the penalty (without it the gap to the oracle grew on 4 of 5 worlds).
        scale = StandardScaler(with_mean=False).fit(basis).scale_
        basis.data /= scale[basis.indices]
        self.logistic_ = LogisticRegression(C=self.C, tol=self.tol, max_iter=self.max_iter)
        self.logistic_.fit(basis, y)
        # (x / s) . w == x . (w / s): scoring skips the scaling pass over every entry (a third
        # of the scoring time at 1M rows).
        self.logistic_.coef_ = self.logistic_.coef_ / scale[None, :]
        self.classes_ = self.logistic_.classes_
        return self

    @property
    def encoder_(self):
        """The fitted category vocabulary (for ``encoding.known_categories``)."""
        return self.basis_.encoder_

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The logistic regression's decision function on the basis of ``X`` (a 1-d array
        when it has two classes, as scikit-learn's)."""
        logistic = self.logistic_
        scores = self.basis_.dot(X, np.atleast_2d(logistic.coef_)) + logistic.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``logistic_.predict_proba(basis_.transform(X))``: softmax of the decision function
        (the logistic of it when there are two classes), computed from the basis' weighted
        sums (:meth:`AdditiveBasis.dot`)."""
        from scipy.special import expit
        from sklearn.utils.extmath import softmax

        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = expit(scores)
            return np.stack([1 - positive, positive], axis=1)
        return softmax(scores, copy=False)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
