"""The encodings of training.model.encoding: unseen categories, category order, vocabulary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.contract import CATEGORICAL_FEATURES, FEATURE_COLUMNS, TARGET_COLUMN
from future_skills_kedro.encoding import ENCODINGS, build_preprocessor, known_categories
from future_skills_kedro.pipelines.training.nodes import build_classifier
from tests.pipelines.training.test_nodes import MODEL, make_model_input


def _table() -> pd.DataFrame:
    table = make_model_input()
    # Role and skill carry signal of their own, as in the generated worlds.
    boost = table["job_role_name"].isin(["Role 1", "Role 2"])
    table.loc[boost, TARGET_COLUMN] = "HIGH"
    return table


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_unseen_categories_are_scored_and_known_ones_listed(encoding):
    table = _table()
    classifier = build_classifier(MODEL | {"encoding": encoding})
    classifier.fit(table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN])

    known = known_categories(classifier)
    assert set(known) == set(CATEGORICAL_FEATURES)
    assert known["job_role_name"] == sorted(table["job_role_name"].unique())

    rows = table.loc[:, list(FEATURE_COLUMNS)].head(4).copy()
    rows.loc[1, "job_role_name"] = "Quantum Prompt Engineer"
    rows.loc[2, ["skill_name", "department", "seniority"]] = ["Telepathy", "Dept 99", "intern"]
    rows.loc[3, list(CATEGORICAL_FEATURES)] = "never seen"
    proba = classifier.predict_proba(rows)
    assert proba.shape == (4, 3)
    assert np.isfinite(proba).all()
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert "Quantum Prompt Engineer" not in known["job_role_name"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_encoding_does_not_depend_on_row_or_category_order(encoding):
    table = _table()
    features, target = table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN]
    # Rows shuffled: every category first appears at another position than before.
    shuffled = np.random.default_rng(3).permutation(len(table))
    first, _ = build_preprocessor(
        encoding, list(FEATURE_COLUMNS), scale_numeric=False, native_categorical=True
    )
    second, _ = build_preprocessor(
        encoding, list(FEATURE_COLUMNS), scale_numeric=False, native_categorical=True
    )
    first.fit(features, target)
    second.fit(features.iloc[shuffled], target.iloc[shuffled])

    probe = features.head(50)
    np.testing.assert_allclose(first.transform(probe), second.transform(probe), rtol=1e-12)
    assert known_categories(first) == known_categories(second)


def test_target_encoding_width_does_not_grow_with_roles_and_skills():
    table = _table()
    many = table.copy()
    many["job_role_name"] = [f"Role {i}" for i in range(len(many))]  # one role per row
    widths = {}
    for name, frame in (("few", table), ("many", many)):
        preprocess, native = build_preprocessor(
            "target", list(FEATURE_COLUMNS), scale_numeric=False, native_categorical=True
        )
        preprocess.fit(frame.loc[:, list(FEATURE_COLUMNS)], frame[TARGET_COLUMN])
        widths[name] = len(preprocess.get_feature_names_out())
    assert widths["few"] == widths["many"] == 3 * 2 + 3 + 8
    assert native == [6, 7, 8]


def test_native_encoding_needs_gradient_boosting():
    with pytest.raises(ValueError, match="native categorical support"):
        build_preprocessor(
            "native", list(FEATURE_COLUMNS), scale_numeric=True, native_categorical=False
        )
