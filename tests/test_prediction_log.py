"""The prediction-log record: fields, type and value checks, frame <-> Arrow table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.contract import FEATURE_COLUMNS, NEED_LEVELS
from future_skills_kedro.prediction_log import (
    FLAT_COLUMNS,
    PredictionLogChunks,
    PredictionLogError,
    flat_frame,
    json_record_problem,
    prediction_log_records,
    record_problems,
    record_table,
    request_ids,
)


def scored(rows: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    features = pd.DataFrame(
        {
            "job_role_id": [f"JR{i}" for i in range(rows)],
            "skill_id": [f"SK{i}" for i in range(rows)],
            "as_of_date": pd.to_datetime(["2025-03-31"] * rows),
            "job_role_name": pd.Categorical(["Analyst"] * rows),
            "department": ["Data"] * rows,
            "seniority": ["mid"] * rows,
            "skill_name": ["SQL"] * rows,
            "skill_category": ["Tech"] * rows,
            "horizon_years": np.array([1, 3, 5, 1][:rows], dtype=np.int64),
            "trend_score": np.array([0.1, np.nan, 0.3, 0.4][:rows], dtype=np.float32),
            "scarcity_index": [0.5] * rows,
            "hiring_difficulty": [0.5] * rows,
            "avg_salary_k": [80.0] * rows,
            "economic_indicator": [0.5] * rows,
            "internal_usage": [0.5] * rows,
            "training_requests": pd.array([4, None, 2, 1][:rows], dtype="Int64"),
        }
    )
    predictions = pd.DataFrame(
        {
            "predicted_need_level": ["HIGH"] * rows,
            "prob_LOW": [0.1] * rows,
            "prob_MEDIUM": [0.2] * rows,
            "prob_HIGH": [0.7] * rows,
        }
    )
    return features, predictions


# The run's facts every record carries (prediction_log_records' keyword arguments).
RUN_FACTS = {
    "purpose": "production",
    "model_name": "future-skills-model",
    "model_version": 7,
    "model_semver": "1.4.0",
    "model_alias": "champion",
    "latency_ms": 2.5,
    "scored_at": "2025-06-30T09:15:00Z",
    "request_id_prefix": "run",
}


def records(rows: int = 4, **overrides) -> pd.DataFrame:
    features, predictions = scored(rows)
    return prediction_log_records(features, predictions, **(RUN_FACTS | overrides))


# ------------------------------------------------------------------ chunks of a batch


def test_chunks_of_a_batch_are_the_batch_records_cut_by_rows():
    features, predictions = scored(4)
    arguments = RUN_FACTS | {"latency_ms": [1.0, 2.0, 3.0, 4.0]}  # one per row: cut like the rows
    chunks = PredictionLogChunks(features, predictions, chunk_rows=3, **arguments)
    whole = prediction_log_records(features, predictions, **arguments)

    assert len(chunks) == 4
    assert [len(chunk) for chunk in chunks] == [3, 1]  # again: iterable more than once
    together = pd.concat(list(chunks), ignore_index=True)
    pd.testing.assert_frame_equal(together, whole, check_exact=True)
    assert together["request_id"].tolist() == ["run-0", "run-1", "run-2", "run-3"]


@pytest.mark.parametrize(("first_row", "count"), [(0, 0), (0, 3), (999_998, 4)])
def test_request_ids_number_the_rows_after_the_prefix(first_row, count):
    ids = request_ids("4f0c-batch", first_row, count)

    assert ids.dtype == "str"
    assert ids.tolist() == [f"4f0c-batch-{row}" for row in range(first_row, first_row + count)]


def test_chunks_share_one_time_and_request_id_prefix_when_none_is_given():
    features, predictions = scored(4)
    chunks = PredictionLogChunks(
        features,
        predictions,
        chunk_rows=2,
        purpose="production",
        model_name="m",
        model_version=1,
        model_semver="1.0.0",
        model_alias=None,
        latency_ms=1.0,
    )
    together = pd.concat(list(chunks), ignore_index=True)
    assert together["timestamp"].nunique() == 1
    assert together["request_id"].str.rsplit("-", n=1).str[0].nunique() == 1
    with pytest.raises(PredictionLogError, match="4 feature rows but 3 predictions"):
        PredictionLogChunks(features, predictions.head(3), chunk_rows=2, purpose="production")
    with pytest.raises(PredictionLogError, match="chunk_rows must be >= 1, got 0"):
        PredictionLogChunks(features, predictions, chunk_rows=0, purpose="production")


# ------------------------------------------------------------------ records and types


def test_records_carry_purpose_and_alias_and_keep_types():
    frame = records(purpose="shadow", model_alias="challenger")
    table = record_table(frame)

    assert list(frame.columns) == list(FLAT_COLUMNS)
    assert frame["purpose"].unique().tolist() == ["shadow"]
    assert frame["model_alias"].unique().tolist() == ["challenger"]
    assert frame["model_version"].unique().tolist() == ["7"]
    assert frame["request_id"].tolist() == ["run-0", "run-1", "run-2", "run-3"]
    rows = table.to_pylist()
    assert rows[0]["keys"] == {"job_role_id": "JR0", "skill_id": "SK0", "as_of_date": "2025-03-31"}
    assert rows[0]["features"]["job_role_name"] == "Analyst"  # categorical dtype -> text
    assert rows[0]["features"]["horizon_years"] == 1  # integers stay integers
    assert rows[0]["features"]["trend_score"] == pytest.approx(0.1)
    assert rows[1]["features"]["trend_score"] is None  # NaN: a missing feature
    assert rows[1]["features"]["training_requests"] is None  # pd.NA
    assert rows[0]["probabilities"] == {"LOW": 0.1, "MEDIUM": 0.2, "HIGH": 0.7}
    assert rows[0]["confidence"] == 0.7  # the highest probability when none is given
    back = flat_frame(table)
    assert list(back.columns) == list(FLAT_COLUMNS)
    assert back["horizon_years"].tolist() == [1.0, 3.0, 5.0, 1.0]  # numbers read as float64


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("prediction", 42, "prediction: 42 is not one of LOW, MEDIUM, HIGH"),
        ("prediction", "MAYBE", 'prediction: "MAYBE" is not one of LOW, MEDIUM, HIGH'),
        ("confidence", "high", 'confidence: "high" is not a number in [0, 1]'),
        ("confidence", 1.5, "confidence: 1.5 is not a number in [0, 1]"),
        ("prob_HIGH", -0.1, "probabilities.HIGH: -0.1 is not a number in [0, 1]"),
        ("trend_score", "abc", 'features.trend_score: "abc" is not a number'),
        ("department", 3, "features.department: 3 is not a string"),
        ("horizon_years", True, "features.horizon_years: true is not a number"),
        ("purpose", "canary", 'purpose: "canary" is not one of production, shadow, backfill'),
        ("latency_ms", -1.0, "latency_ms: -1.0 is not a number >= 0"),
    ],
)
def test_writer_check_names_record_field_and_value(column, value, reason):
    frame = records()
    frame[column] = frame[column].astype(object)
    frame.loc[2, column] = value

    with pytest.raises(PredictionLogError) as raised:
        record_table(frame)

    assert str(raised.value) == f"prediction log: record 2 (request_id run-2): {reason}"


def test_writer_check_refuses_unknown_and_missing_columns():
    with pytest.raises(PredictionLogError, match=r"missing column.*confidence"):
        record_table(records().drop(columns=["confidence"]))
    with pytest.raises(PredictionLogError, match=r"unknown column.*temperature"):
        record_table(records().assign(temperature=1.0))
    with pytest.raises(PredictionLogError, match=r"missing column.*purpose"):
        record_table(records().drop(columns=["purpose"]))
    with pytest.raises(PredictionLogError, match="purpose must be one of"):
        records(purpose="canary")


def test_json_shape_check_of_a_parsed_line():
    good = record_table(records(1)).to_pylist()[0]
    good["timestamp"] = "2025-06-30T09:15:00.000000Z"

    assert json_record_problem(good) is None
    assert json_record_problem([1, 2]) == "not a JSON object"
    assert json_record_problem({"timestamp": "2025-06-30"}).startswith(
        "missing field(s): request_id, model_name"
    )
    assert json_record_problem({**good, "prediction": 42, "confidence": "high"}) == (
        'prediction: 42 is not one of LOW, MEDIUM, HIGH; confidence: "high" is not a number '
        "in [0, 1]"
    )
    assert json_record_problem({**good, "confidence": "high"}) == (
        'confidence: "high" is not a number in [0, 1]'
    )
    features = {**good["features"], "internal_usage": "0.5"}
    assert json_record_problem({**good, "features": features}) == (
        'features.internal_usage: "0.5" is not a number'
    )
    assert json_record_problem({**good, "timestamp": "yesterday"}) == (
        'timestamp: "yesterday" is not an ISO 8601 time'
    )
    # Members the schema does not know are ignored; old records have no purpose or alias.
    legacy = {key: value for key, value in good.items() if key not in ("purpose", "model_alias")}
    assert json_record_problem({**legacy, "features": {**good["features"], "new": [1]}}) is None


def test_value_rules_on_a_table_find_every_bad_row():
    table = record_table(records(4))
    rows = table.to_pylist()
    rows[1]["prediction"] = "EXTREME"
    rows[3]["probabilities"]["LOW"] = None
    import pyarrow as pa

    problems = record_problems(pa.Table.from_pylist(rows, schema=table.schema))

    assert problems == {
        1: 'prediction: "EXTREME" is not one of LOW, MEDIUM, HIGH',
        3: "probabilities.LOW: missing (expected a number in [0, 1])",
    }
    assert set(NEED_LEVELS) <= {column.removeprefix("prob_") for column in FLAT_COLUMNS}
    assert set(FEATURE_COLUMNS) <= set(FLAT_COLUMNS)


def test_a_frame_made_of_several_pieces_is_one_table():
    """pandas' Arrow-backed text columns of a concatenated frame are chunked."""
    frame = pd.concat([records(2), records(2, request_id_prefix="second")], ignore_index=True)

    table = record_table(frame)

    assert table.num_rows == 4
    assert table.column("request_id").to_pylist() == ["run-0", "run-1", "second-0", "second-1"]
