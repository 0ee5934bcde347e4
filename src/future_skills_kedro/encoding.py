"""How the model's categorical inputs are encoded (``training.model.encoding``).

- ``target``: job role and skill names (one value per role / skill: thousands in a large
  organisation) become, per class, the cross-fitted share of that class among their training
  rows (scikit-learn's ``TargetEncoder``); the few-valued categoricals (department,
  seniority, skill category) become integer codes a ``HistGradientBoostingClassifier``
  splits on natively. The width of the model input no longer grows with the organisation.
- ``native``: every categorical as integer codes split on natively. Cheapest, but
  scikit-learn's native support stops at ``max_bins`` (255) values per column, so it does not
  scale to thousands of roles or skills.
- ``one_hot``: a dense one-hot column per value (the encoding before; one column per role and
  skill, so memory and scoring time grow with the organisation).

A category unseen in training is still scored under each: ``one_hot`` leaves all its columns
0, ``target`` uses the training prior of each class, ``native`` sends it down the missing-value
branch. :func:`known_categories` reads the fitted vocabulary back, so inference counts them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from future_skills_kedro.contract import CATEGORICAL_FEATURES, NUMERIC_FEATURES

ENCODINGS = ("target", "native", "one_hot")
# One value per job role / skill: the columns whose cardinality grows with the organisation.
HIGH_CARDINALITY_FEATURES = ("job_role_name", "skill_name")
TARGET_ENCODER_FOLDS = 5


def build_preprocessor(
    encoding: str,
    features: list[str],
    *,
    scale_numeric: bool,
    native_categorical: bool,
    seed: int = 0,
) -> tuple[Any, list[int]]:
    """The ColumnTransformer of ``encoding`` for ``features``, and the output positions of the
    natively categorical columns (for ``HistGradientBoostingClassifier(categorical_features=)``).

    ``native_categorical``: the classifier splits integer codes natively (gradient boosting);
    otherwise the few-valued categoricals of ``target`` are one-hot (a handful of columns)
    and ``native`` is refused.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import (
        OneHotEncoder,
        OrdinalEncoder,
        StandardScaler,
        TargetEncoder,
    )

    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    if encoding == "native" and not native_categorical:
        raise ValueError("encoding 'native' needs a classifier with native categorical support")
    categorical = [column for column in CATEGORICAL_FEATURES if column in features]
    numeric = [column for column in NUMERIC_FEATURES if column in features]
    numeric_step = StandardScaler() if scale_numeric else "passthrough"
    if encoding == "one_hot":
        one_hot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        transformers = [("categorical", one_hot, categorical)]
        native = []
    else:
        high = [c for c in categorical if encoding == "target" and c in HIGH_CARDINALITY_FEATURES]
        low = [column for column in categorical if column not in high]
        # Cross-fitting folds seeded: the same data gives the same model.
        folds = StratifiedKFold(TARGET_ENCODER_FOLDS, shuffle=True, random_state=seed)
        target = TargetEncoder(target_type="multiclass", cv=folds)
        codes = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            dtype=np.float64,
        )
        transformers = [("target", target, high)] if high else []
        if not native_categorical:
            codes = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        transformers += [("codes", codes, low)] if low else []
        # TargetEncoder writes one column per (feature, class): 3 classes each.
        start = 3 * len(high)
        native = list(range(start, start + len(low))) if native_categorical else []
    transformers.append(("numeric", numeric_step, numeric))
    preprocess = ColumnTransformer(transformers, verbose_feature_names_out=False)
    return preprocess, native


def known_categories(estimator, depth: int = 0) -> dict[str, list[str]]:
    """Per categorical input, the values the fitted encoders learned (sorted); {} if none.

    Read from the fitted encoders themselves (the exact vocabulary the model learned),
    anywhere in a Pipeline, ColumnTransformer or ensemble (``estimators_``).
    """
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder

    if depth > 8 or estimator is None:
        return {}
    if isinstance(estimator, OneHotEncoder | OrdinalEncoder | TargetEncoder):
        if not hasattr(estimator, "categories_"):
            return {}
        return {
            str(column): sorted(str(value) for value in values)
            for column, values in zip(
                estimator.feature_names_in_, estimator.categories_, strict=True
            )
        }
    children = [step for _, step in getattr(estimator, "steps", [])]
    children += [step for _, step, _ in getattr(estimator, "transformers_", [])]
    children += list(getattr(estimator, "estimators_", []) or [])
    children += [getattr(estimator, "encoder_", None)]  # a model's own fitted encoder
    known: dict[str, list[str]] = {}
    for child in children:
        if child is not None and not isinstance(child, str):  # "passthrough" / "drop"
            for column, values in known_categories(child, depth + 1).items():
                known[column] = sorted(set(known.get(column, [])) | set(values))
    return known
