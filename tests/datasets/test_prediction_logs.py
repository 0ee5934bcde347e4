"""Prediction logs: real files in tmp_path, real processes, a real Kedro DataCatalog."""

from __future__ import annotations

import json
import multiprocessing
import os
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog

from future_skills_kedro.contract import FEATURE_COLUMNS, NEED_LEVELS
from future_skills_kedro.datasets import (
    PredictionLogDataset,
    prediction_log_records,
    prediction_logs,
    read_prediction_logs,
    write_prediction_log,
)

SCORED_AT = pd.Timestamp("2025-06-30T09:15:00.123456Z")


def scored_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Model-input rows (keys + 13 features) and what the model said about them."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {
            "job_role_id": [f"JR{i % 7:03d}" for i in range(rows)],
            "skill_id": [f"SK{i % 11:03d}" for i in range(rows)],
            "as_of_date": pd.to_datetime(["2025-03-31"] * rows),
            "job_role_name": [f"Role {i % 7}" for i in range(rows)],
            "department": ["Data & AI", "Finance", 'Ops "North"'] * (rows // 3)
            + ["HR"] * (rows % 3),
            "seniority": rng.choice(["junior", "mid", "senior"], rows),
            "skill_name": [f"Skill {i % 11}" for i in range(rows)],
            "skill_category": rng.choice(["Tech", "Soft"], rows),
            "horizon_years": rng.choice(np.array([1, 3, 5], dtype=np.int64), rows),
            "trend_score": rng.random(rows),
            "scarcity_index": np.where(np.arange(rows) % 5 == 0, np.nan, rng.random(rows)),
            "hiring_difficulty": rng.random(rows),
            "avg_salary_k": rng.normal(85, 20, rows).round(1),
            "economic_indicator": rng.random(rows),
            "internal_usage": rng.random(rows),
            "training_requests": rng.poisson(4, rows),
        }
    )
    probabilities = rng.dirichlet(np.ones(len(NEED_LEVELS)), rows)
    best = probabilities.argmax(axis=1)
    predictions = pd.DataFrame(probabilities, columns=[f"prob_{level}" for level in NEED_LEVELS])
    predictions.insert(0, "predicted_need_level", np.array(NEED_LEVELS)[best])
    predictions["confidence"] = probabilities[np.arange(rows), best]
    return features, predictions


def log_records(rows: int, prefix: str = "batch", scored_at=SCORED_AT, seed: int = 0):
    features, predictions = scored_frames(rows, seed)
    return prediction_log_records(
        features,
        predictions,
        model_name="future-skills-model",
        model_version=3,
        model_semver="1.2.0",
        latency_ms=np.linspace(1.0, 9.5, rows),
        scored_at=scored_at,
        request_id_prefix=prefix,
    )


def only_file(directory: Path) -> Path:
    (path,) = directory.glob("predictions_*.jsonl")
    return path


# ------------------------------------------------------------------ writer + reader


def test_round_trip_returns_every_value_with_sane_types(tmp_path):
    records = log_records(60)

    written = write_prediction_log(records, tmp_path)
    result = read_prediction_logs(tmp_path)

    assert written == {tmp_path / "predictions_20250630.jsonl": 60}
    assert (result.files_read, result.lines_read, result.corrupt_lines) == (1, 60, 0)
    expected = records.assign(as_of_date=records["as_of_date"].dt.strftime("%Y-%m-%d"))
    pd.testing.assert_frame_equal(result.frame, expected)  # floats exact, dtypes equal
    assert list(result.frame.columns[:5]) == [
        "timestamp",
        "request_id",
        "model_name",
        "model_version",
        "model_semver",
    ]
    assert set(FEATURE_COLUMNS) <= set(result.frame.columns)
    assert str(result.frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert result.frame["model_version"].eq("3").all()


def test_log_line_layout_is_flat_with_nested_keys_features_probabilities(tmp_path):
    write_prediction_log(log_records(1), tmp_path)

    line = only_file(tmp_path).read_text(encoding="utf-8")
    record = json.loads(line)

    assert line.endswith("}\n") and line.count("\n") == 1
    assert list(record) == [
        "timestamp",
        "request_id",
        "model_name",
        "model_version",
        "model_semver",
        "keys",
        "features",
        "prediction",
        "probabilities",
        "confidence",
        "latency_ms",
    ]
    assert record["timestamp"] == "2025-06-30T09:15:00.123456Z"
    assert record["keys"] == {
        "job_role_id": "JR000",
        "skill_id": "SK000",
        "as_of_date": "2025-03-31",
    }
    assert list(record["features"]) == list(FEATURE_COLUMNS)
    assert list(record["probabilities"]) == list(NEED_LEVELS)
    assert record["confidence"] == max(record["probabilities"].values())


def test_numpy_and_pandas_values_serialise_one_json_object_per_line(tmp_path):
    rows = 300
    base = log_records(rows).drop(columns=list(FEATURE_COLUMNS))
    odd = np.arange(rows) % 2 == 1
    features = pd.DataFrame(
        {
            "count": np.arange(rows, dtype=np.int64),
            "ratio": np.full(rows, 0.1, dtype=np.float32),
            "flag": np.array(odd, dtype=np.bool_),
            "maybe": np.where(odd, np.nan, 2.5),
            "missing_kinds": pd.Series([None, pd.NA, np.nan] * 100, dtype=object),
            "nullable_int": pd.array([7, None] * 150, dtype="Int64"),
            "level": pd.Categorical(["LOW", "HIGH", None] * 100),
            "when": pd.Series([pd.Timestamp("2025-01-02 03:04:05.5", tz="Europe/Paris")] * rows),
            "mixed": pd.Series(
                [np.int64(5), Decimal("1.25"), np.datetime64("2025-02-01"), "multi\nline\u2028"]
                * 75,
                dtype=object,
            ),
        }
    )
    records = pd.concat([base, features], axis=1)

    write_prediction_log(records, tmp_path)

    lines = only_file(tmp_path).read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == rows + 1  # one line per row, nothing else
    decoded = [json.loads(line)["features"] for line in lines[:-1]]
    assert [item["count"] for item in decoded] == list(range(rows))
    assert {item["ratio"] for item in decoded} == {0.1}  # float32 written as its own repr
    assert [item["flag"] for item in decoded[:2]] == [False, True]
    assert [item["maybe"] for item in decoded[:2]] == [2.5, None]
    assert {item["missing_kinds"] for item in decoded} == {None}
    assert [item["nullable_int"] for item in decoded[:2]] == [7, None]
    assert [item["level"] for item in decoded[:3]] == ["LOW", "HIGH", None]
    assert decoded[0]["when"] == "2025-01-02T02:04:05.500000Z"
    assert [item["mixed"] for item in decoded[:4]] == [5, 1.25, "2025-02-01", "multi\nline\u2028"]
    # No raw line separator of any kind inside a line, for any line-oriented tool.
    assert all("\u2028" not in line.decode() for line in lines)

    frame = read_prediction_logs(tmp_path).frame
    assert len(frame) == rows
    assert frame["count"].tolist() == list(range(rows))
    assert frame["flag"].dtype == bool


def test_batch_is_split_by_the_utc_day_of_each_timestamp(tmp_path):
    # ISO strings with offsets are accepted as they come.
    stamps = ["2025-06-30T23:59:59.999999Z", "2025-07-01T01:30:00+02:00", "2025-07-01T00:00:00Z"]
    records = log_records(3).assign(timestamp=stamps)

    written = write_prediction_log(records, tmp_path)

    assert written == {
        tmp_path / "predictions_20250630.jsonl": 2,  # 01:30+02:00 is 23:30 UTC on the 30th
        tmp_path / "predictions_20250701.jsonl": 1,
    }
    read = read_prediction_logs(tmp_path).frame
    assert read["request_id"].tolist() == ["batch-0", "batch-1", "batch-2"]


def test_writer_refuses_records_without_required_columns_and_writes_nothing(tmp_path):
    records = log_records(3).drop(columns=["latency_ms"])

    with pytest.raises(ValueError, match="latency_ms"):
        write_prediction_log(records, tmp_path)

    assert not list(tmp_path.iterdir())


def test_prediction_log_records_builds_unique_ids_and_confidence(tmp_path):
    features, predictions = scored_frames(5)
    predictions = predictions.drop(columns=["confidence"]).set_axis(list("abcde"))

    records = prediction_log_records(
        features,
        predictions,
        model_name="m",
        model_version="1",
        model_semver="1.0.0",
        latency_ms=2.0,
    )

    assert records["request_id"].is_unique
    assert records["timestamp"].dt.tz is not None
    np.testing.assert_allclose(
        records["confidence"], predictions[[f"prob_{c}" for c in NEED_LEVELS]].max(axis=1)
    )
    assert records["prediction"].tolist() == predictions["predicted_need_level"].tolist()
    with pytest.raises(ValueError, match="4 predictions"):
        prediction_log_records(
            features,
            predictions.iloc[:4],
            model_name="m",
            model_version="1",
            model_semver="1.0.0",
            latency_ms=2.0,
        )


# ------------------------------------------------------------------ crash safety


def test_unserialisable_value_in_last_row_writes_nothing(tmp_path):
    write_prediction_log(log_records(10, "first"), tmp_path)
    before = only_file(tmp_path).read_bytes()
    broken = log_records(10, "second")
    broken["job_role_name"] = broken["job_role_name"].astype(object)
    broken.loc[9, "job_role_name"] = object()  # fails while encoding, after 9 good rows

    with pytest.raises(TypeError, match="cannot serialise"):
        write_prediction_log(broken, tmp_path)

    assert only_file(tmp_path).read_bytes() == before


def test_failure_in_the_middle_of_writing_rolls_the_file_back(tmp_path, monkeypatch):
    write_prediction_log(log_records(10, "first"), tmp_path)
    before = only_file(tmp_path).read_bytes()
    real_write = os.write

    def write_half_then_fail(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        write_prediction_log(log_records(50, "second"), tmp_path)
    monkeypatch.undo()

    assert only_file(tmp_path).read_bytes() == before
    result = read_prediction_logs(tmp_path)
    assert (len(result.frame), result.corrupt_lines) == (10, 0)


def test_short_writes_are_completed(tmp_path, monkeypatch):
    real_write = os.write
    calls = []

    def write_at_most_1000_bytes(fd, data):
        calls.append(len(data))
        return real_write(fd, bytes(data[:1000]))

    monkeypatch.setattr(os, "write", write_at_most_1000_bytes)
    write_prediction_log(log_records(40), tmp_path)
    monkeypatch.undo()

    assert len(calls) > 10
    result = read_prediction_logs(tmp_path)
    assert (len(result.frame), result.corrupt_lines) == (40, 0)


def test_line_torn_by_a_killed_writer_is_only_line_lost(tmp_path):
    write_prediction_log(log_records(5, "first"), tmp_path)
    path = only_file(tmp_path)
    whole_line = path.read_bytes().split(b"\n")[0]
    with path.open("ab") as handle:  # what kill -9 in the middle of os.write leaves behind
        handle.write(whole_line[: len(whole_line) // 2])

    write_prediction_log(log_records(5, "second"), tmp_path)
    result = read_prediction_logs(tmp_path)

    assert result.corrupt_lines == 1
    assert result.corrupt_examples[0].line_number == 6
    assert result.corrupt_examples[0].reason == "invalid JSON"
    assert result.frame["request_id"].str.split("-").str[0].value_counts().to_dict() == {
        "first": 5,
        "second": 5,
    }


# ------------------------------------------------------------------ concurrent writers

BATCHES_PER_WRITER = 12
ROWS_PER_BATCH = 1500


def _write_many_batches(directory: str, writer: str) -> None:
    for batch in range(BATCHES_PER_WRITER):
        records = log_records(ROWS_PER_BATCH, f"{writer}.{batch}", seed=batch)
        write_prediction_log(records, directory, fsync=False)


def test_concurrent_writer_processes_never_interleave_lose_or_duplicate_rows(tmp_path):
    # spawn: fresh interpreters, as two separate `kedro run`s would be.
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_write_many_batches, args=(str(tmp_path), name))
        for name in ("alpha", "beta")
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=300)
    assert [process.exitcode for process in writers] == [0, 0]

    result = read_prediction_logs(tmp_path)
    expected_rows = 2 * BATCHES_PER_WRITER * ROWS_PER_BATCH
    assert (result.files_read, result.corrupt_lines) == (1, 0)
    assert result.lines_read == len(result.frame) == expected_rows
    assert result.frame["request_id"].nunique() == expected_rows
    # Each batch landed in one piece: its rows are contiguous in the file.
    batch_of_row = result.frame["request_id"].str.rsplit("-", n=1).str[0]
    runs = (batch_of_row != batch_of_row.shift()).sum()
    assert runs == 2 * BATCHES_PER_WRITER


# ------------------------------------------------------------------ reader


@pytest.fixture(params=["default parser", "standard library parser"])
def line_parser(request, monkeypatch):
    """The reader with its fast parser (orjson when installed) and with the stdlib's."""
    if request.param == "standard library parser":
        monkeypatch.setattr(prediction_logs, "_fast_loads", json.loads)
    return request.param


def test_reader_skips_and_counts_corrupt_lines(tmp_path, line_parser):
    write_prediction_log(log_records(4), tmp_path)
    path = only_file(tmp_path)
    good = path.read_bytes().split(b"\n")[0].decode()
    record = json.loads(good)
    bad_lines = [
        "this is not json",
        good[: len(good) // 3],  # truncated
        "",  # blank: padding, not corruption
        "   ",
        "[1, 2, 3]",
        json.dumps({k: v for k, v in record.items() if k != "features"}),
        json.dumps({**record, "timestamp": "yesterday"}),
    ]
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(bad_lines) + "\n")
    write_prediction_log(log_records(3, "after"), tmp_path)

    result = read_prediction_logs(tmp_path)

    assert len(result.frame) == 7
    assert result.corrupt_lines == 5
    assert result.lines_read == 12
    assert [(e.line_number, e.reason) for e in result.corrupt_examples] == [
        (5, "invalid JSON"),
        (6, "invalid JSON"),
        (9, "not a JSON object"),
        (10, "missing field(s): features"),
        (11, "invalid timestamp"),
    ]
    assert result.corrupt_examples[0].excerpt == "this is not json"


def test_window_selects_files_by_name_and_rows_by_timestamp(tmp_path):
    stamps = [
        "2025-06-29T23:59:59.999999Z",
        "2025-06-30T00:00:00Z",
        "2025-06-30T12:00:00Z",
        "2025-06-30T23:59:59.999999Z",
        "2025-07-01T00:00:00Z",
    ]
    records = log_records(len(stamps)).assign(timestamp=stamps)
    write_prediction_log(records, tmp_path)
    # Outside every window below: would add a corrupt line if it were read.
    (tmp_path / "predictions_20250601.jsonl").write_text("garbage\n")
    (tmp_path / "notes.jsonl").write_text("garbage\n")

    whole_day = read_prediction_logs(tmp_path, start="2025-06-30", end="2025-06-30")
    instants = read_prediction_logs(
        tmp_path,
        start=pd.Timestamp("2025-06-30 14:00", tz="Europe/Paris"),  # 12:00 UTC
        end="2025-07-01T00:00:00",
    )
    nothing = read_prediction_logs(tmp_path, start="2025-08-01")

    assert (whole_day.files_read, whole_day.corrupt_lines) == (1, 0)
    assert whole_day.frame["request_id"].tolist() == ["batch-1", "batch-2", "batch-3"]
    assert (instants.files_read, instants.corrupt_lines) == (2, 0)
    assert instants.frame["request_id"].tolist() == ["batch-2", "batch-3", "batch-4"]
    assert nothing.files_read == 0 and nothing.frame.empty
    assert "timestamp" in nothing.frame.columns
    assert read_prediction_logs(tmp_path).corrupt_lines == 1  # no window: every log file
    with pytest.raises(ValueError, match="after end"):
        read_prediction_logs(tmp_path, start="2025-07-02", end="2025-07-01")


def test_integers_beyond_64_bits_are_read_back(tmp_path, line_parser):
    records = log_records(3).assign(big=pd.Series([2**70, -(2**65), 1], dtype=object))

    write_prediction_log(records, tmp_path)
    result = read_prediction_logs(tmp_path)

    assert result.corrupt_lines == 0
    assert result.frame["big"].tolist() == [2**70, -(2**65), 1]


def test_missing_directory_reads_as_empty(tmp_path):
    result = read_prediction_logs(tmp_path / "absent")

    assert (result.files_read, result.lines_read, len(result.frame)) == (0, 0, 0)


# ------------------------------------------------------------------ Kedro dataset


def test_dataset_from_catalog_config_appends_and_loads(tmp_path):
    directory = tmp_path / "prediction_logs"
    catalog = DataCatalog.from_config(
        {
            "prediction_logs": {
                "type": "future_skills_kedro.datasets.PredictionLogDataset",
                "path": str(directory),
            },
            "recent_prediction_logs": {
                "type": "future_skills_kedro.datasets.PredictionLogDataset",
                "path": str(directory),
                "window_days": 2,
            },
        }
    )
    assert not catalog.exists("prediction_logs")

    catalog.save("prediction_logs", log_records(20, "first"))
    catalog.save("prediction_logs", log_records(30, "second"))
    now = pd.Timestamp.now(tz="UTC")
    catalog.save("prediction_logs", log_records(5, "today", scored_at=now))
    loaded = catalog.load("prediction_logs")
    recent = catalog.load("recent_prediction_logs")

    assert catalog.exists("prediction_logs")
    assert len(loaded) == 55 and loaded["request_id"].is_unique
    assert loaded.attrs["files_read"] == 2
    assert loaded.attrs["lines_read"] == 55
    assert loaded.attrs["corrupt_lines"] == 0
    assert loaded.attrs["corrupt_examples"] == []
    assert recent["request_id"].str.startswith("today").sum() == len(recent) == 5


def test_dataset_describes_itself_and_rejects_conflicting_windows(tmp_path):
    dataset = PredictionLogDataset(path=str(tmp_path), start="2025-06-01")

    assert "2025-06-01" in str(dataset)
    with pytest.raises(ValueError, match="either window_days"):
        PredictionLogDataset(path=str(tmp_path), start="2025-06-01", window_days=3)
