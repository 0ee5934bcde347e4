"""Prediction-log files: real files in tmp_path, real processes, a real Kedro DataCatalog."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import re
import threading
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError

from future_skills_kedro.contract import FEATURE_COLUMNS, NEED_LEVELS
from future_skills_kedro.datasets import (
    PredictionLogDataset,
    append_prediction_logs,
    read_prediction_logs,
)
from future_skills_kedro.datasets.prediction_logs import reader as reader_module
from future_skills_kedro.datasets.prediction_logs import writer as writer_module
from future_skills_kedro.prediction_log import (
    FLAT_COLUMNS,
    PredictionLogError,
    prediction_log_records,
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
            "department": ["Data & AI", "Finance", 'Ops "North"\n\u2028'] * (rows // 3)
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


def log_records(
    rows: int, prefix: str = "batch", scored_at=SCORED_AT, seed: int = 0, purpose="production"
):
    features, predictions = scored_frames(rows, seed)
    return prediction_log_records(
        features,
        predictions,
        purpose=purpose,
        model_name="future-skills-model",
        model_version=3,
        model_semver="1.2.0",
        model_alias="champion" if purpose == "production" else "challenger",
        latency_ms=np.linspace(1.0, 9.5, rows),
        scored_at=scored_at,
        request_id_prefix=prefix,
    )


def only_file(directory: Path) -> Path:
    (path,) = directory.glob("predictions_*.jsonl")
    return path


def first_line(directory: Path) -> dict:
    return json.loads(only_file(directory).read_text(encoding="utf-8").splitlines()[0])


def append_lines(path: Path, *lines: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(f"{line}\n" for line in lines))


# ------------------------------------------------------------------ writer + reader


def test_round_trip_returns_every_value_with_sane_types(tmp_path):
    records = log_records(60)

    written = append_prediction_logs(records, tmp_path)
    result = read_prediction_logs(tmp_path)

    assert written == {tmp_path / "predictions_20250630.jsonl": 60}
    assert (result.files_read, result.lines_read, result.corrupt_lines) == (1, 60, 0)
    frame = result.frame
    assert list(frame.columns) == list(FLAT_COLUMNS)
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert frame["timestamp"].eq(SCORED_AT).all()
    assert frame["as_of_date"].eq("2025-03-31").all()
    for column in ("request_id", "purpose", "model_alias", "department", "prediction"):
        assert frame[column].tolist() == records[column].tolist(), column
    for column in ("horizon_years", "trend_score", "prob_HIGH", "confidence", "latency_ms"):
        assert frame[column].dtype == "float64"
        # Floats come back bit for bit; NaN (a missing feature) as NaN.
        np.testing.assert_array_equal(frame[column], records[column].astype("float64"))


def test_log_line_layout(tmp_path):
    append_prediction_logs(log_records(1), tmp_path)

    line = only_file(tmp_path).read_text(encoding="utf-8")
    record = json.loads(line)

    assert line.endswith("}\n") and line.count("\n") == 1
    assert list(record) == [
        "timestamp",
        "request_id",
        "purpose",
        "model_name",
        "model_version",
        "model_semver",
        "model_alias",
        "keys",
        "features",
        "prediction",
        "probabilities",
        "confidence",
        "latency_ms",
    ]
    assert record["timestamp"] == "2025-06-30T09:15:00.123456Z"
    assert (record["purpose"], record["model_alias"], record["model_version"]) == (
        "production",
        "champion",
        "3",
    )
    assert record["keys"] == {
        "job_role_id": "JR000",
        "skill_id": "SK000",
        "as_of_date": "2025-03-31",
    }
    assert list(record["features"]) == list(FEATURE_COLUMNS)
    assert record["features"]["scarcity_index"] is None  # NaN is written as null
    assert isinstance(record["features"]["horizon_years"], int)
    assert list(record["probabilities"]) == list(NEED_LEVELS)
    assert record["confidence"] == max(record["probabilities"].values())


def test_text_with_line_breaks_stays_on_one_line(tmp_path):
    append_prediction_logs(log_records(3), tmp_path)

    text = only_file(tmp_path).read_text(encoding="utf-8")

    assert len(text.splitlines()) == 3  # str.splitlines() splits on U+2028 too
    assert "\\u2028" in text and "\u2028" not in text
    assert read_prediction_logs(tmp_path).frame["department"].iloc[2] == 'Ops "North"\n\u2028'


def test_a_run_is_split_by_the_utc_day_of_each_timestamp(tmp_path):
    stamps = ["2025-06-30T23:59:59.999999Z", "2025-07-01T01:30:00+02:00", "2025-07-01T00:00:00Z"]
    records = log_records(3).assign(timestamp=stamps)

    written = append_prediction_logs(records, tmp_path)

    assert written == {
        tmp_path / "predictions_20250630.jsonl": 2,  # 01:30+02:00 is 23:30 UTC on the 30th
        tmp_path / "predictions_20250701.jsonl": 1,
    }
    read = read_prediction_logs(tmp_path).frame
    assert read["request_id"].tolist() == ["batch-0", "batch-1", "batch-2"]


def test_an_invalid_record_fails_the_run_and_writes_nothing(tmp_path):
    append_prediction_logs(log_records(10, "first"), tmp_path)
    before = only_file(tmp_path).read_bytes()
    broken = log_records(10, "second")
    broken["prediction"] = broken["prediction"].astype(object)
    broken.loc[9, "prediction"] = 42  # the last record: everything before it was fine

    with pytest.raises(PredictionLogError, match=r"record 9 \(request_id second-9\): prediction"):
        append_prediction_logs(broken, tmp_path)

    assert only_file(tmp_path).read_bytes() == before
    new_folder = tmp_path / "new"
    with pytest.raises(PredictionLogError, match="missing column"):
        append_prediction_logs(log_records(3).drop(columns=["latency_ms"]), new_folder)
    assert not new_folder.exists()


def test_chunks_of_a_run_are_written_all_or_nothing(tmp_path):
    def chunks(fail_at: int | None):
        for index in range(4):
            if index == fail_at:
                raise RuntimeError("scoring failed in chunk 2")
            yield log_records(50, f"chunk{index}", seed=index)

    with pytest.raises(RuntimeError, match="chunk 2"):
        append_prediction_logs(chunks(fail_at=2), tmp_path)
    assert not list(tmp_path.glob("*.jsonl"))

    written = append_prediction_logs(chunks(fail_at=None), tmp_path)

    assert written == {tmp_path / "predictions_20250630.jsonl": 200}
    frame = read_prediction_logs(tmp_path).frame
    assert frame["request_id"].str.split("-").str[0].unique().tolist() == [
        "chunk0",
        "chunk1",
        "chunk2",
        "chunk3",
    ]


def test_parts_staged_by_other_writers_commit_as_the_same_bytes(tmp_path):
    """Spark's executors stage parts (one per task and day); the commit appends the listed
    ones in part order: the same day files as one writer appending the same records."""
    stamps = ["2025-06-30T23:00:00Z"] * 70 + ["2025-07-01T01:00:00Z"] * 50
    records = log_records(120).assign(timestamp=stamps)
    append_prediction_logs(records, tmp_path / "one_writer")

    staging = tmp_path / "logs" / ".staging-run"
    listed = []
    for part, rows in (("part-00001", slice(60, 120)), ("part-00000", slice(0, 60))):
        chunk = records.iloc[rows]
        halves = [(chunk.iloc[:25], rows.start), (chunk.iloc[25:], rows.start + 25)]
        written = writer_module.stage_prediction_logs(halves, staging, part)
        listed += [(day, part, count) for day, count in written.items()]
    # A leftover of a failed attempt is never read: only the listed parts are.
    (staging / "20250630" / "part-00002.jsonl").write_text("{not a record\n")

    written = append_prediction_logs(
        writer_module.StagedPredictionLogs(staging, tuple(listed)), tmp_path / "logs"
    )

    assert written == {
        tmp_path / "logs" / "predictions_20250630.jsonl": 70,
        tmp_path / "logs" / "predictions_20250701.jsonl": 50,
    }
    for name in ("predictions_20250630.jsonl", "predictions_20250701.jsonl"):
        expected = (tmp_path / "one_writer" / name).read_bytes()
        assert (tmp_path / "logs" / name).read_bytes() == expected


def test_a_staged_part_with_an_invalid_record_is_not_left_behind(tmp_path):
    broken = log_records(10)
    broken["prediction"] = broken["prediction"].astype(object)
    broken.loc[7, "prediction"] = 42

    batches = [(log_records(10, "first"), 20), (broken, 30)]  # the first one is encoded
    with pytest.raises(PredictionLogError, match=r"record 37 \(request_id batch-7\)"):
        writer_module.stage_prediction_logs(batches, tmp_path, "part-00000")

    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_chunked_run_spills_to_disk_in_bounded_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "_SPOOL_BYTES", 10_000)  # ~10 records in memory
    monkeypatch.setattr(writer_module, "_ENCODE_ROWS", 8)
    staged = {}
    real_commit = writer_module._commit

    def commit(staging, fsync):
        staged["in_memory"] = staging.bytes_in_memory
        (spill,) = staging.spills.values()  # one day, one spill
        staged["spilled"] = os.fstat(spill.fd).st_size
        staged["spill_name"] = os.readlink(f"/proc/self/fd/{spill.fd}")
        real_commit(staging, fsync)

    monkeypatch.setattr(writer_module, "_commit", commit)
    chunks = (log_records(100, f"c{index}", seed=index) for index in range(5))

    append_prediction_logs(chunks, tmp_path)

    file_bytes = only_file(tmp_path).stat().st_size
    assert staged["in_memory"] <= 10_000
    assert staged["in_memory"] + staged["spilled"] == file_bytes  # the rest went to disk
    assert staged["spill_name"].endswith(" (deleted)")  # an unnamed file: nothing left behind
    assert list(tmp_path.iterdir()) == [tmp_path / "predictions_20250630.jsonl"]
    frame = read_prediction_logs(tmp_path).frame
    assert frame["request_id"].tolist() == [f"c{c}-{r}" for c in range(5) for r in range(100)]


def _two_day_chunks():
    # Several encoding slices per chunk, and a chunk that spans two UTC days.
    for index in range(4):
        records = log_records(40, f"c{index}", seed=index)
        if index == 2:
            records.loc[20:, "timestamp"] = "2025-07-01T08:00:00Z"
        yield records


def test_slices_encoded_in_threads_are_written_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "_ENCODE_ROWS", 7)
    monkeypatch.setattr(writer_module, "encoder_threads", lambda: 1)
    append_prediction_logs(_two_day_chunks(), tmp_path / "one_thread")
    monkeypatch.setattr(writer_module, "encoder_threads", lambda: 3)

    written = append_prediction_logs(_two_day_chunks(), tmp_path / "three_threads")

    assert sorted(path.name for path in written) == [
        "predictions_20250630.jsonl",
        "predictions_20250701.jsonl",
    ]
    for path in written:
        assert path.read_bytes() == (tmp_path / "one_thread" / path.name).read_bytes()


def test_a_slice_that_fails_to_encode_in_a_thread_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "_ENCODE_ROWS", 7)
    monkeypatch.setattr(writer_module, "encoder_threads", lambda: 2)
    append_prediction_logs(log_records(5, "first"), tmp_path)
    before = only_file(tmp_path).read_bytes()
    real_encode, calls = writer_module.encode_lines, []

    def encode_until_the_ninth_slice(table):
        calls.append(table.num_rows)
        if len(calls) == 9:
            raise PredictionLogError(
                "prediction log: the encoder did not write one line per record"
            )
        return real_encode(table)

    monkeypatch.setattr(writer_module, "encode_lines", encode_until_the_ninth_slice)
    with pytest.raises(PredictionLogError, match="one line per record"):
        append_prediction_logs(_two_day_chunks(), tmp_path)

    assert only_file(tmp_path).read_bytes() == before


@pytest.mark.parametrize("kernel_copy", ["copy_file_range", "refused: through memory"])
def test_spilled_bytes_are_appended_whole_with_or_without_a_kernel_copy(
    tmp_path, monkeypatch, kernel_copy
):
    monkeypatch.setattr(writer_module, "_SPOOL_BYTES", 5_000)  # most of the run spills
    monkeypatch.setattr(writer_module, "_COPY_BYTES", 4_096)
    copies = []
    real_copy = os.copy_file_range

    def copy_file_range(source, fd, length, offset, position):
        copies.append(length)
        if kernel_copy != "copy_file_range":
            raise OSError(18, "Invalid cross-device link")  # EXDEV
        return real_copy(source, fd, length, offset, position)

    monkeypatch.setattr(os, "copy_file_range", copy_file_range)
    append_prediction_logs(log_records(10, "first"), tmp_path / "logs")
    path = only_file(tmp_path / "logs")
    path.write_bytes(path.read_bytes()[:-30])  # a torn last line, as after kill -9

    append_prediction_logs(_two_day_chunks(), tmp_path / "logs")

    assert copies  # the spilled part went through copy_file_range first
    if kernel_copy != "copy_file_range":
        # Refused once per spilled part, not asked again for each 4 kB of the rest of it.
        assert all(later != earlier - 4_096 for earlier, later in pairwise(copies))
    result = read_prediction_logs(tmp_path / "logs")
    assert (len(result.frame), result.corrupt_lines) == (9 + 160, 1)
    first_day = [f"c{c}-{r}" for c in range(4) for r in range(40) if (c, r >= 20) != (2, True)]
    assert result.frame["request_id"].tolist()[9:] == first_day + [f"c2-{r}" for r in range(20, 40)]


def test_a_failed_kernel_copy_rolls_the_file_back(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "_SPOOL_BYTES", 5_000)
    append_prediction_logs(log_records(10, "first"), tmp_path)
    before = only_file(tmp_path).read_bytes()
    real_copy = os.copy_file_range

    def copy_half_then_fail(source, fd, length, offset, position):
        real_copy(source, fd, length // 2, offset, position)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "copy_file_range", copy_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        append_prediction_logs(log_records(100, "second"), tmp_path)

    assert only_file(tmp_path).read_bytes() == before


# ---------------------------------------------- a run creating its day file: linked spill


@pytest.fixture
def spilling(monkeypatch):
    """Small spills and flushes: every run below spills, and flushes in the background."""
    monkeypatch.setattr(writer_module, "_SPOOL_BYTES", 5_000)
    monkeypatch.setattr(writer_module, "_ENCODE_ROWS", 8)
    monkeypatch.setattr(writer_module, "_WRITEBACK_BYTES", 20_000)


def _chunks(prefix: str, count: int = 4, rows: int = 30):
    return (log_records(rows, f"{prefix}{index}", seed=index) for index in range(count))


def test_a_run_creating_its_day_file_links_its_spill_as_the_same_bytes(
    tmp_path, monkeypatch, spilling
):
    appended = tmp_path / "appended" / "predictions_20250630.jsonl"
    appended.parent.mkdir()
    appended.touch()  # exists: the lines are appended as before
    append_prediction_logs(_chunks("c"), appended.parent)
    flushes = []
    real_fdatasync = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: flushes.append(fd) or real_fdatasync(fd))

    def no_copy(*args):
        raise AssertionError("a new day file is linked, not copied")

    monkeypatch.setattr(writer_module, "_copy_range", no_copy)

    written = append_prediction_logs(_chunks("c"), tmp_path / "linked")

    path = tmp_path / "linked" / "predictions_20250630.jsonl"
    assert written == {path: 120}
    assert path.read_bytes() == appended.read_bytes()
    assert len(flushes) > 2  # flushed in the background while encoding, then once more
    assert [p.name for p in (tmp_path / "linked").iterdir()] == [path.name]


def test_a_failed_background_flush_fails_the_run(tmp_path, monkeypatch, spilling):
    real_fdatasync = os.fdatasync

    def fails_in_the_background(fd):
        if threading.current_thread().name.startswith("prediction-log-flush"):
            raise OSError(5, "Input/output error")
        real_fdatasync(fd)

    monkeypatch.setattr(os, "fdatasync", fails_in_the_background)
    with pytest.raises(OSError, match="Input/output error"):
        append_prediction_logs(_chunks("c"), tmp_path / "logs")

    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize("refused", ["no O_TMPFILE", "link refused"])
def test_a_spill_that_cannot_be_linked_is_appended(tmp_path, monkeypatch, spilling, refused):
    append_prediction_logs(_chunks("c"), tmp_path / "linked")
    if refused == "no O_TMPFILE":
        monkeypatch.setattr(writer_module, "_O_TMPFILE", None)
    else:

        def refuse(*args, **kwargs):
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(os, "link", refuse)
    copies = []
    real_copy = writer_module._copy_range
    monkeypatch.setattr(
        writer_module, "_copy_range", lambda *args: copies.append(args[2]) or real_copy(*args)
    )

    append_prediction_logs(_chunks("c"), tmp_path / "appended")

    name = "predictions_20250630.jsonl"
    assert (tmp_path / "appended" / name).read_bytes() == (tmp_path / "linked" / name).read_bytes()
    assert copies  # through the old path
    assert [p.name for p in (tmp_path / "appended").iterdir()] == [name]


def test_a_failure_after_linking_leaves_the_linked_file_empty(tmp_path, monkeypatch, spilling):
    records = log_records(120, "second")
    records.loc[60:, "timestamp"] = "2025-07-01T08:00:00Z"
    append_prediction_logs(log_records(5, "first", scored_at="2025-07-01T01:00:00Z"), tmp_path)
    existing = tmp_path / "predictions_20250701.jsonl"
    before = existing.read_bytes()
    copies = []
    real_copy = writer_module._copy_range

    def copy_half_then_fail(source, offset, length, fd, position):
        copies.append(Path(os.readlink(f"/proc/self/fd/{fd}")).name)
        real_copy(source, offset, length // 2, fd, position)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer_module, "_copy_range", copy_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        append_prediction_logs(records, tmp_path)

    assert copies == [existing.name]  # the 30th was linked (first in path order), not copied
    assert (tmp_path / "predictions_20250630.jsonl").stat().st_size == 0
    assert existing.read_bytes() == before


def test_a_day_file_created_by_another_writer_meanwhile_is_appended_to(
    tmp_path, monkeypatch, spilling
):
    append_prediction_logs(log_records(7, "other"), tmp_path / "other")
    other = (tmp_path / "other" / "predictions_20250630.jsonl").read_bytes()
    real_link = os.link

    def created_just_before(source, target, **kwargs):
        (tmp_path / "logs" / target).write_bytes(other)  # another writer's run, committed
        real_link(source, target, **kwargs)

    monkeypatch.setattr(os, "link", created_just_before)
    written = append_prediction_logs(_chunks("c"), tmp_path / "logs")

    result = read_prediction_logs(tmp_path / "logs")
    assert written == {tmp_path / "logs" / "predictions_20250630.jsonl": 120}
    assert (len(result.frame), result.corrupt_lines) == (127, 0)
    assert result.frame["request_id"].tolist() == [f"other-{r}" for r in range(7)] + [
        f"c{c}-{r}" for c in range(4) for r in range(30)
    ]


@pytest.mark.parametrize("commit", ["succeeds", "fails"])
def test_a_reader_never_sees_a_linked_run_before_its_commit_ends(
    tmp_path, monkeypatch, spilling, commit
):
    linked, release = threading.Event(), threading.Event()
    real_link, real_fsync_directory = os.link, writer_module._fsync_directory

    def link_then_wait(*args, **kwargs):
        real_link(*args, **kwargs)
        linked.set()
        assert release.wait(30)

    def fsync_directory(directory):
        if commit == "fails":
            raise OSError(5, "Input/output error")
        real_fsync_directory(directory)

    monkeypatch.setattr(os, "link", link_then_wait)
    monkeypatch.setattr(writer_module, "_fsync_directory", fsync_directory)
    failures = []

    def write():
        try:
            append_prediction_logs(_chunks("c"), tmp_path)
        except OSError as error:
            failures.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    assert linked.wait(30)
    path = tmp_path / "predictions_20250630.jsonl"
    with path.open("rb") as handle, pytest.raises(BlockingIOError):
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    reads = []
    reader = threading.Thread(target=lambda: reads.append(read_prediction_logs(tmp_path)))
    reader.start()
    reader.join(0.5)
    assert reader.is_alive()  # waiting for the writer's lock
    release.set()
    writer.join(30)
    reader.join(30)

    expected = 120 if commit == "succeeds" else 0
    assert (len(reads[0].frame), reads[0].corrupt_lines, len(failures)) == (
        expected,
        0,
        int(commit == "fails"),
    )
    if commit == "fails":
        assert path.stat().st_size == 0  # cut back to empty, as a file the run created


# ------------------------------------------------------------------ crash safety


def test_failure_in_the_middle_of_writing_rolls_every_file_back(tmp_path, monkeypatch):
    append_prediction_logs(log_records(10, "first"), tmp_path)
    before = only_file(tmp_path).read_bytes()
    real_write = os.pwrite

    def write_half_then_fail(fd, data, position):
        real_write(fd, bytes(data[: len(data) // 2]), position)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        append_prediction_logs(log_records(50, "second"), tmp_path)
    monkeypatch.undo()

    assert only_file(tmp_path).read_bytes() == before
    result = read_prediction_logs(tmp_path)
    assert (len(result.frame), result.corrupt_lines) == (10, 0)


def test_short_writes_are_completed(tmp_path, monkeypatch):
    real_write = os.pwrite
    calls = []

    def write_at_most_1000_bytes(fd, data, position):
        calls.append(len(data))
        return real_write(fd, bytes(data[:1000]), position)

    monkeypatch.setattr(os, "pwrite", write_at_most_1000_bytes)
    append_prediction_logs(log_records(40), tmp_path)
    monkeypatch.undo()

    assert len(calls) > 10
    result = read_prediction_logs(tmp_path)
    assert (len(result.frame), result.corrupt_lines) == (40, 0)


def test_line_torn_by_a_killed_writer_is_the_only_line_lost(tmp_path):
    append_prediction_logs(log_records(5, "first"), tmp_path)
    path = only_file(tmp_path)
    whole_line = path.read_bytes().split(b"\n")[0]
    with path.open("ab") as handle:  # what kill -9 in the middle of os.write leaves behind
        handle.write(whole_line[: len(whole_line) // 2])

    append_prediction_logs(log_records(5, "second"), tmp_path)
    result = read_prediction_logs(tmp_path)

    assert result.corrupt_lines == 1
    assert (result.corrupt_examples[0].line_number, result.corrupt_examples[0].reason) == (
        6,
        "invalid JSON",
    )
    assert result.frame["request_id"].str.split("-").str[0].value_counts().to_dict() == {
        "first": 5,
        "second": 5,
    }


# ------------------------------------------------------------------ concurrent writers

RUNS_PER_WRITER = 12
ROWS_PER_RUN = 1500


def _write_many_runs(directory: str, writer: str) -> None:
    for run in range(RUNS_PER_WRITER):
        records = log_records(ROWS_PER_RUN, f"{writer}.{run}", seed=run)
        append_prediction_logs(records, directory, fsync=False)


def test_concurrent_writer_processes_never_interleave_lose_or_duplicate_rows(tmp_path):
    # spawn: fresh interpreters, as two separate `kedro run`s would be.
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_write_many_runs, args=(str(tmp_path), name))
        for name in ("alpha", "beta")
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=300)
    assert [process.exitcode for process in writers] == [0, 0]

    result = read_prediction_logs(tmp_path)
    expected_rows = 2 * RUNS_PER_WRITER * ROWS_PER_RUN
    assert (result.files_read, result.corrupt_lines) == (1, 0)
    assert result.lines_read == len(result.frame) == expected_rows
    assert result.frame["request_id"].nunique() == expected_rows
    # Each run landed in one piece: its rows are contiguous in the file.
    run_of_row = result.frame["request_id"].str.rsplit("-", n=1).str[0]
    assert (run_of_row != run_of_row.shift()).sum() == 2 * RUNS_PER_WRITER


# ------------------------------------------------------------------ reader


def test_reader_skips_and_counts_corrupt_lines_with_their_reason(tmp_path):
    append_prediction_logs(log_records(4), tmp_path)
    path = only_file(tmp_path)
    good = path.read_text(encoding="utf-8").splitlines()[0]
    record = json.loads(good)
    append_lines(
        path,
        "this is not json",
        good[: len(good) // 3],  # torn
        "",  # blank: padding, not corruption
        "   ",
        "[1, 2, 3]",
        json.dumps({k: v for k, v in record.items() if k != "features"}),
        json.dumps({**record, "timestamp": "yesterday"}),
        good + good,  # two records glued on one line
    )
    append_prediction_logs(log_records(3, "after"), tmp_path)

    result = read_prediction_logs(tmp_path)

    assert len(result.frame) == 7
    assert result.corrupt_lines == 6
    assert result.lines_read == 13
    assert [(e.line_number, e.reason) for e in result.corrupt_examples] == [
        (5, "invalid JSON"),
        (6, "invalid JSON"),
        (9, "not a JSON object"),
        (10, "missing field(s): features"),
        (11, 'timestamp: "yesterday" is not an ISO 8601 time'),
        (12, "invalid JSON"),
    ]
    assert result.corrupt_examples[0].excerpt == "this is not json"
    assert result.corrupt_examples[0].file == str(path)


def test_wrong_typed_records_are_corrupt_not_predictions(tmp_path):
    """Issue 11 item 3: the example record counts as corrupt, with the reason."""
    append_prediction_logs(log_records(6), tmp_path)
    path = only_file(tmp_path)
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    wrong = [
        {**record, "prediction": 42, "confidence": "high"},
        {**record, "features": {**record["features"], "trend_score": "rising"}},
        {**record, "features": {**record["features"], "department": 7}},
        {**record, "prediction": "EXTREME"},
        {**record, "probabilities": {**record["probabilities"], "HIGH": 1.7}},
        {**record, "confidence": None},
        {**record, "purpose": "experiment"},
    ]
    append_lines(path, *(json.dumps(item) for item in wrong))
    append_prediction_logs(log_records(2, "after"), tmp_path)

    result = read_prediction_logs(tmp_path)

    assert len(result.frame) == 8
    assert set(result.frame["prediction"]) <= set(NEED_LEVELS)
    assert result.corrupt_lines == 7
    assert result.lines_read == 15
    assert [(e.line_number, e.reason) for e in result.corrupt_examples] == [
        (
            7,
            'prediction: 42 is not one of LOW, MEDIUM, HIGH; confidence: "high" is not a number '
            "in [0, 1]",
        ),
        (8, 'features.trend_score: "rising" is not a number'),
        (9, "features.department: 7 is not a string"),
        (10, 'prediction: "EXTREME" is not one of LOW, MEDIUM, HIGH'),
        (11, "probabilities.HIGH: 1.7 is not a number in [0, 1]"),
        (12, "missing field(s): confidence"),
        (13, 'purpose: "experiment" is not one of production, shadow, backfill'),
    ]


def test_a_corrupt_line_costs_its_block_a_slow_parse_not_the_rest_of_the_file(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(reader_module, "_READ_BLOCK_BYTES", 20_000)  # ~20 lines per block
    append_prediction_logs(log_records(200, "a"), tmp_path)
    path = only_file(tmp_path)
    append_lines(path, "{torn", "", json.dumps({**first_line(tmp_path), "prediction": "X"}))
    append_prediction_logs(log_records(200, "b", seed=1), tmp_path)
    slow_blocks = []
    real_slow_path = reader_module._WindowReader._slow_path

    def counting(self, *args):
        slow_blocks.append(args[1])
        return real_slow_path(self, *args)

    monkeypatch.setattr(reader_module._WindowReader, "_slow_path", counting)

    result = read_prediction_logs(tmp_path)

    assert len(slow_blocks) == 1  # only the block holding the torn line
    assert len(result.frame) == 400
    assert result.frame["request_id"].tolist() == [f"a-{i}" for i in range(200)] + [
        f"b-{i}" for i in range(200)
    ]
    assert [(e.line_number, e.reason) for e in result.corrupt_examples] == [
        (201, "invalid JSON"),
        (203, 'prediction: "X" is not one of LOW, MEDIUM, HIGH'),
    ]
    assert result.lines_read == 402


def test_blank_lines_keep_line_numbers_exact_on_the_fast_path(tmp_path):
    append_prediction_logs(log_records(3), tmp_path)
    path = only_file(tmp_path)
    record = first_line(tmp_path)
    append_lines(path, "", "  ", json.dumps({**record, "confidence": 2.0}))

    result = read_prediction_logs(tmp_path)

    assert [(e.line_number, e.reason) for e in result.corrupt_examples] == [
        (6, "confidence: 2.0 is not a number in [0, 1]")
    ]
    assert (len(result.frame), result.lines_read) == (3, 4)


def test_records_without_purpose_read_as_production(tmp_path):
    append_prediction_logs(log_records(2), tmp_path)
    path = only_file(tmp_path)
    legacy = {k: v for k, v in first_line(tmp_path).items() if k not in ("purpose", "model_alias")}
    append_lines(path, json.dumps(legacy))

    result = read_prediction_logs(tmp_path, purposes=["production"])

    assert result.corrupt_lines == 0
    assert result.frame["purpose"].tolist() == ["production"] * 3
    assert result.frame["model_alias"].isna().tolist() == [False, False, True]


def test_purposes_select_records_and_count_the_others(tmp_path):
    append_prediction_logs(log_records(5, "prod"), tmp_path)
    append_prediction_logs(log_records(3, "shadow", purpose="shadow"), tmp_path)
    append_prediction_logs(log_records(2, "backfill", purpose="backfill"), tmp_path)

    production = read_prediction_logs(tmp_path, purposes=["production"])
    two = read_prediction_logs(tmp_path, purposes=["production", "shadow"])
    everything = read_prediction_logs(tmp_path)

    assert production.frame["request_id"].str.startswith("prod").all()
    assert len(production.frame) == 5
    assert production.excluded_by_purpose == {"shadow": 3, "backfill": 2}
    assert len(two.frame) == 8 and two.excluded_by_purpose == {"backfill": 2}
    assert len(everything.frame) == 10 and everything.excluded_by_purpose == {}
    with pytest.raises(ValueError, match="purposes"):
        read_prediction_logs(tmp_path, purposes=["canary"])


def test_window_selects_files_by_name_and_rows_by_timestamp(tmp_path):
    stamps = [
        "2025-06-29T23:59:59.999999Z",
        "2025-06-30T00:00:00Z",
        "2025-06-30T12:00:00Z",
        "2025-06-30T23:59:59.999999Z",
        "2025-07-01T00:00:00Z",
    ]
    append_prediction_logs(log_records(len(stamps)).assign(timestamp=stamps), tmp_path)
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
    assert list(nothing.frame.columns) == list(FLAT_COLUMNS)
    assert read_prediction_logs(tmp_path).corrupt_lines == 1  # no window: every log file
    with pytest.raises(ValueError, match="after end"):
        read_prediction_logs(tmp_path, start="2025-07-02", end="2025-07-01")


def test_integers_beyond_64_bits_and_a_last_line_without_newline(tmp_path):
    append_prediction_logs(log_records(2), tmp_path)
    path = only_file(tmp_path)
    record = first_line(tmp_path)
    big = json.dumps({**record, "features": {**record["features"], "training_requests": 2**70}})
    with path.open("a", encoding="utf-8") as handle:
        handle.write(big)  # valid JSON, no newline at the end of the file

    result = read_prediction_logs(tmp_path)

    assert (len(result.frame), result.corrupt_lines, result.lines_read) == (3, 0, 3)
    assert result.frame["training_requests"].iloc[2] == float(2**70)


def test_columns_and_categories_keep_the_values_and_the_corrupt_line_count(tmp_path, monkeypatch):
    """What monitoring reads: a projection with repeated text as categoricals. Every field of
    every line is still checked, so a line corrupt in a column left out is still corrupt."""
    monkeypatch.setattr(reader_module, "_READ_BLOCK_BYTES", 20_000)  # several blocks
    append_prediction_logs(log_records(90, "a"), tmp_path)
    record = first_line(tmp_path)
    append_lines(
        only_file(tmp_path),
        json.dumps({**record, "latency_ms": -1.0}),  # latency_ms is not read below
        json.dumps({**record, "request_id": 7}),  # neither is request_id
        "{torn",
    )
    append_prediction_logs(log_records(60, "b", seed=1), tmp_path)
    columns = ["prediction", "timestamp", "department", "trend_score", "model_version"]

    full = read_prediction_logs(tmp_path)
    projected = read_prediction_logs(tmp_path, columns=columns, text_as_category=True)

    ordered = ["timestamp", "model_version", "department", "trend_score", "prediction"]
    assert list(projected.frame.columns) == ordered  # in the record's order
    for column in ("model_version", "department", "prediction"):
        assert isinstance(projected.frame[column].dtype, pd.CategoricalDtype), column
    assert str(projected.frame["timestamp"].dtype) == "datetime64[us, UTC]"
    pd.testing.assert_frame_equal(
        projected.frame.astype({c: "str" for c in ("model_version", "department", "prediction")}),
        full.frame.loc[:, ordered],
    )
    assert projected.corrupt_lines == full.corrupt_lines == 3
    assert projected.corrupt_examples == full.corrupt_examples
    assert projected.lines_read == full.lines_read == 153
    empty = read_prediction_logs(tmp_path / "absent", columns=columns, text_as_category=True)
    assert list(empty.frame.columns) == ordered
    assert isinstance(empty.frame["prediction"].dtype, pd.CategoricalDtype)


def test_an_unknown_column_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"\['latency'\] are not record columns"):
        read_prediction_logs(tmp_path, columns=["timestamp", "latency"])


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
            "recent_production_logs": {
                "type": "future_skills_kedro.datasets.PredictionLogDataset",
                "path": str(directory),
                "window_days": 2,
                "purposes": ["production"],
            },
        }
    )
    assert not catalog.exists("prediction_logs")

    catalog.save("prediction_logs", log_records(20, "first"))
    catalog.save("prediction_logs", (log_records(15, f"chunk{i}") for i in range(2)))
    now = pd.Timestamp.now(tz="UTC")
    catalog.save("prediction_logs", log_records(5, "today", scored_at=now))
    catalog.save("prediction_logs", log_records(4, "shadow", scored_at=now, purpose="shadow"))
    loaded = catalog.load("prediction_logs")
    recent = catalog.load("recent_production_logs")

    assert catalog.exists("prediction_logs")
    assert len(loaded) == 59 and loaded["request_id"].is_unique
    assert loaded.attrs["files_read"] == 2
    assert (loaded.attrs["lines_read"], loaded.attrs["corrupt_lines"]) == (59, 0)
    assert loaded.attrs["corrupt_examples"] == []
    assert recent["request_id"].str.startswith("today").sum() == len(recent) == 5
    assert recent.attrs["excluded_by_purpose"] == {"shadow": 4, "backfill": 0}


def test_window_dataset_from_catalog_config_reads_the_columns_it_names(tmp_path):
    append_prediction_logs(log_records(12), tmp_path)
    catalog = DataCatalog.from_config(
        {
            "monitoring_logs": {
                "type": "future_skills_kedro.datasets.PredictionLogWindowDataset",
                "path": str(tmp_path),
                "columns": ["timestamp", "prediction", "confidence"],
                "text_as_category": True,
            },
            "misspelt": {
                "type": "future_skills_kedro.datasets.PredictionLogWindowDataset",
                "path": str(tmp_path),
                "columns": ["timestamp", "predictions"],
            },
        }
    )

    read = catalog.load("monitoring_logs").read("2025-06-30", "2025-06-30")

    assert list(read.frame.columns) == ["timestamp", "prediction", "confidence"]
    assert isinstance(read.frame["prediction"].dtype, pd.CategoricalDtype)
    assert len(read.frame) == 12
    with pytest.raises(
        DatasetError, match=r"(?s)\['predictions'\] are not record columns.*dataset 'misspelt'"
    ):
        catalog.load("misspelt")


def test_dataset_describes_itself_and_rejects_conflicting_windows(tmp_path):
    dataset = PredictionLogDataset(path=str(tmp_path), start="2025-06-01")

    assert "2025-06-01" in str(dataset)
    with pytest.raises(ValueError, match="either window_days"):
        PredictionLogDataset(path=str(tmp_path), start="2025-06-01", window_days=3)


def test_no_module_imports_the_io_layer_from_a_pipeline_node():
    """Issue 12 item 3: nodes import the record schema, never ``datasets/``."""
    pipelines = Path(__file__).resolve().parents[2] / "src/future_skills_kedro/pipelines"
    offenders = [
        str(path.relative_to(pipelines))
        for path in pipelines.rglob("*.py")
        if re.search(r"future_skills_kedro\.datasets", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_a_line_longer_than_a_block_is_one_corrupt_line(tmp_path, monkeypatch):
    monkeypatch.setattr(reader_module, "_READ_BLOCK_BYTES", 4096)
    append_prediction_logs(log_records(3, "a"), tmp_path)
    append_lines(only_file(tmp_path), "x" * 10_000)
    append_prediction_logs(log_records(3, "b"), tmp_path)

    result = read_prediction_logs(tmp_path)

    assert [(e.line_number, e.reason) for e in result.corrupt_examples] == [(4, "invalid JSON")]
    assert len(result.frame) == 6 and result.lines_read == 7


def test_two_records_glued_on_one_line_are_one_corrupt_line(tmp_path):
    append_prediction_logs(log_records(3), tmp_path)
    path = only_file(tmp_path)
    line = path.read_text(encoding="utf-8").splitlines()[0]
    append_lines(path, line + line, "{torn")  # both shaped like an object... almost
    append_prediction_logs(log_records(2, "after"), tmp_path)

    result = read_prediction_logs(tmp_path)

    assert [(e.line_number, e.reason) for e in result.corrupt_examples] == [
        (4, "invalid JSON"),
        (5, "invalid JSON"),
    ]
    assert (len(result.frame), result.lines_read) == (5, 7)
