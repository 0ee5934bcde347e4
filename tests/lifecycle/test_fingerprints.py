"""Fingerprints handed from the training run to the lifecycle."""

from __future__ import annotations

import pandas as pd

from future_skills_kedro.lifecycle import (
    hash_frame,
    hash_params,
    schema_hash,
    schema_of,
    target_classes_of,
)


def test_hash_params_ignores_key_order():
    assert hash_params({"a": 1, "b": {"c": 2}}) == hash_params({"b": {"c": 2}, "a": 1})
    assert hash_params({"a": 1}) != hash_params({"a": 2})


def test_hash_frame_depends_on_content_not_row_order_or_index():
    frame = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    shuffled = frame.iloc[[2, 0, 1]].set_index(pd.Index([7, 8, 9]))
    assert hash_frame(frame) == hash_frame(shuffled)
    assert hash_frame(frame) != hash_frame(frame.assign(x=[1, 2, 4]))
    assert hash_frame(frame) != hash_frame(frame.astype({"x": "float64"}))


def test_schema_uses_logical_types_stable_across_pandas_versions():
    frame = pd.DataFrame(
        {
            "skill": pd.Series(["a"], dtype=object),
            "role": pd.Series(["b"], dtype="string"),
            "n": [1],
            "score": [0.5],
            "flag": [True],
            "level": pd.Categorical(["LOW"]),
            "as_of": pd.to_datetime(["2024-03-31"]),
        }
    )
    assert schema_of(frame) == [
        ("skill", "string"),
        ("role", "string"),
        ("n", "integer"),
        ("score", "float"),
        ("flag", "boolean"),
        ("level", "category"),
        ("as_of", "datetime"),
    ]
    assert schema_hash(schema_of(frame)) == schema_hash(schema_of(frame.copy()))


def test_target_classes():
    assert target_classes_of(["LOW", "HIGH", "LOW"]) == ("HIGH", "LOW")
