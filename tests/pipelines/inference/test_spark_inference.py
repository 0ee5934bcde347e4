"""Inference on Spark gives the pandas path's answers (issue 16), and its faults.

One trained clone (with a new role, a new skill and a skill without market signal, so the
unseen-category and rejection paths run too) is copied, and the copies are scored by the real
CLI: `kedro run --pipelines inference` (pandas) and `kedro run --pipelines inference --env
spark`, on the same raw tables and the same registered champion; their files are compared.
The fault tests run Spark's pieces in-process on the shared local[2,2] session.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from future_skills_kedro.datasets import read_prediction_logs
from future_skills_kedro.pipelines.inference import create_spark_pipeline
from future_skills_kedro.scoring import PROBABILITY_COLUMNS
from tests.conftest import SPARK_TEST_PARAMS, run_kedro
from tests.spark.test_monitoring import summaries_differ

from .conftest import MODEL_NAME, assert_ok, clone_trained

pytestmark = pytest.mark.integration

NEWEST = "2025-12-31"
VALIDATED = ("job_roles", "skills", "market_signals", "economic_indicators", "internal_signals")
# What differs between two scoring runs by design: when, which batch, how fast.
RUN_FIELDS = ("scored_at", "request_id")


def _append_csv(path: Path, *lines: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(f"{line}\n" for line in lines))


def _add_unseen_and_unscorable_rows(project: Path) -> None:
    raw = project / "data/01_raw"
    _append_csv(raw / "job_roles.csv", "JR9999,Quantum Prompt Engineer,Data & Analytics,senior")
    _append_csv(
        raw / "skills.csv", "SK9998,Prompt Security,Data & AI", "SK9999,Unpriced Skill,Data & AI"
    )
    _append_csv(raw / "market_signals.csv", f"SK9998,{NEWEST},0.9100,0.8000,0.7000,120.00")
    _append_csv(
        raw / "internal_signals.csv",
        f"JR9999,SK0001,{NEWEST},0.2000,3",
        f"JR9999,SK0002,{NEWEST},0.1000,0",
        f"JR0001,SK9998,{NEWEST},0.0500,1",
        f"JR0001,SK9999,{NEWEST},0.3000,2",
    )


@pytest.fixture(scope="module")
def both_paths(trained_template, tmp_path_factory):
    """(project scored by pandas, project scored by Spark): two copies of one trained clone
    with the same added rows, each scored by the real `kedro run`."""
    parent = tmp_path_factory.mktemp("spark_equivalence")
    pandas_project = clone_trained(trained_template, parent / "pandas")
    _add_unseen_and_unscorable_rows(pandas_project)
    spark_project = parent / "spark" / "project"
    shutil.copytree(pandas_project, spark_project)
    assert_ok(run_kedro(pandas_project, "run", "--pipelines", "inference"))
    on_spark = ("--env", "spark", "--params", SPARK_TEST_PARAMS)
    assert_ok(run_kedro(spark_project, "run", "--pipelines", "inference", *on_spark))
    return pandas_project, spark_project


def _outputs(project: Path) -> Path:
    """Where a project's inference run writes predictions, rejected rows and logs."""
    return project / "data/07_model_output"


def _row_number(request_ids: pd.Series) -> pd.Series:
    return request_ids.str.rsplit("-", n=1).str[1].astype("int64")


def test_predictions_are_the_pandas_ones_row_for_row(both_paths):
    from future_skills_kedro.spark.datasets import read_spark_predictions

    project, spark_project = both_paths
    outputs = _outputs(spark_project)
    pandas_rows = pd.read_parquet(_outputs(project) / "predictions.parquet")
    spark_rows = read_spark_predictions(outputs / "predictions")
    assert list(spark_rows.columns) == list(pandas_rows.columns)
    assert len(spark_rows) == len(pandas_rows) > 0
    assert spark_rows["unseen_categories"].ne("").sum() == 9  # the new role and skill
    exact = [c for c in pandas_rows.columns if c not in (*PROBABILITY_COLUMNS, *RUN_FIELDS)]
    exact.remove("confidence")
    pd.testing.assert_frame_equal(spark_rows[exact], pandas_rows[exact], check_dtype=False)
    difference = np.abs(
        spark_rows[[*PROBABILITY_COLUMNS, "confidence"]].to_numpy()
        - pandas_rows[[*PROBABILITY_COLUMNS, "confidence"]].to_numpy()
    ).max()
    print(f"largest probability difference, Spark vs pandas: {difference!r}")
    assert difference <= 1e-9
    # the row part of the request id is the pandas path's row number
    assert _row_number(spark_rows["request_id"]).tolist() == list(range(len(spark_rows)))
    # partitioned as the issue asks, and no temporary folder left
    assert sorted(p.name for p in (outputs / "predictions").iterdir() if p.is_dir()) == [
        f"as_of_date={NEWEST}"
    ]
    pandas_files = {p.name for p in _outputs(project).iterdir()}
    assert {p.name for p in outputs.iterdir()} == pandas_files - {"predictions.parquet"} | {
        "predictions"
    }


def test_rejected_rows_and_recommendations_are_the_same_files(both_paths):
    project, spark_project = both_paths
    rejected = _outputs(spark_project) / "rejected_scoring_rows.csv"
    assert len(pd.read_csv(rejected)) == 3  # SK9999 has no market signal, at each horizon
    expected = _outputs(project) / "rejected_scoring_rows.csv"
    assert rejected.read_text() == expected.read_text()
    recommendations = spark_project / "data/08_reporting/recommendations.csv"
    assert len(pd.read_csv(recommendations)) > 0
    expected = project / "data/08_reporting/recommendations.csv"
    assert recommendations.read_text() == expected.read_text()


def test_summary_and_metrics_are_the_same_but_for_the_batch_timing(both_paths):
    project, spark_project = both_paths
    summary = "data/08_reporting/inference_summary.json"
    pandas_summary = json.loads((project / summary).read_text())
    spark_summary = json.loads((spark_project / summary).read_text())
    batch = ("batch_id", "scored_at", "scoring_seconds", "latency_ms")
    for summary in (pandas_summary, spark_summary):
        for key in batch:
            summary["scoring"].pop(key)
    assert spark_summary == pandas_summary
    assert spark_summary["unseen_categories"]["by_column"]["job_role_name"] == {
        "rows": 6,
        "values": ["Quantum Prompt Engineer"],
    }


def test_prediction_log_records_are_the_pandas_ones(both_paths):
    project, spark_project = both_paths
    pandas_logs = read_prediction_logs(_outputs(project) / "prediction_logs").frame
    spark_logs = read_prediction_logs(_outputs(spark_project) / "prediction_logs").frame
    assert len(spark_logs) == len(pandas_logs) > 0
    timing = ["timestamp", "request_id", "latency_ms"]
    pd.testing.assert_frame_equal(
        spark_logs.drop(columns=timing).reset_index(drop=True),
        pandas_logs.drop(columns=timing).reset_index(drop=True),
        check_exact=False,
        rtol=0,
        atol=1e-9,
    )
    assert _row_number(spark_logs["request_id"]).tolist() == list(range(len(spark_logs)))
    assert spark_logs["request_id"].str.rsplit("-", n=1).str[0].nunique() == 1


def _validated_tables(project: Path) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_parquet(project / f"data/02_intermediate/validated_{name}.parquet")
        for name in VALIDATED
    }


def _snapshot_rows(frame) -> pd.DataFrame:
    rows = frame.toPandas()
    return rows.sort_values(["job_role_id", "skill_id", "horizon_years"]).reset_index(drop=True)


def test_a_task_that_fails_once_is_retried_with_the_same_output(both_paths, spark, tmp_path):
    """An executor task raising once (local[2,2]: two attempts) is retried by Spark."""
    from future_skills_kedro.features import build_feature_table
    from future_skills_kedro.spark.inference import build_spark_snapshot

    project, _ = both_paths
    tables = _validated_tables(project)
    settings = {"as_of_date": None, "horizons": [1, 3, 5]}
    marker = tmp_path / "failed-once"

    def fails_once(keys, **sources):
        if not marker.exists():
            marker.write_text("the first attempt failed")
            raise RuntimeError("injected executor failure")
        return build_feature_table(keys, **sources)

    expected = _snapshot_rows(build_spark_snapshot(*tables.values(), settings, []))
    retried = _snapshot_rows(
        build_spark_snapshot(*tables.values(), settings, [], feature_builder=fails_once)
    )
    assert marker.exists(), "no task failed: the fault was not injected"
    pd.testing.assert_frame_equal(retried, expected)
    assert len(expected) > 0


def test_a_failed_write_leaves_the_previous_predictions_and_no_partial_files(
    both_paths, spark, tmp_path
):
    from future_skills_kedro.spark.datasets import SparkPredictionsDataset, read_spark_predictions

    outputs = _outputs(both_paths[1])
    target = tmp_path / "predictions"
    dataset = SparkPredictionsDataset(str(target))
    good = spark.read.parquet(str(outputs / "predictions"))
    dataset.save(good)
    before = read_spark_predictions(target)

    def always_fails(batches):
        for batch in batches:
            raise RuntimeError(f"injected failure after {len(batch)} rows")
            yield batch

    broken = good.mapInPandas(always_fails, schema=good.schema)
    with pytest.raises(Exception, match="injected failure"):
        dataset.save(broken)
    pd.testing.assert_frame_equal(read_spark_predictions(target), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predictions"]


def _logged_records(spark, logs: Path, fail):
    """The Spark run's logged records back on Spark (two partitions, in row order), through
    ``fail(batch)`` on the executors: what the log dataset stages and commits."""
    from pyspark.sql import types as T

    from future_skills_kedro.spark.inference import SparkLogRecords, _flat_schema

    read = read_prediction_logs(logs)
    frame = read.frame.drop(columns="timestamp").assign(_row=np.arange(len(read.frame)))
    text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c])]
    frame = frame.astype({c: object for c in text})
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).astype("datetime64[us]")
    schema = _flat_schema().add("_row", T.LongType())
    records = spark.createDataFrame(frame.loc[:, schema.fieldNames()], schema=schema)

    def through(batches):
        for batch in batches:
            fail(batch)
            yield batch

    ordered = records.repartitionByRange(2, "_row").sortWithinPartitions("_row")
    stamp = read.frame["timestamp"].iloc[0].isoformat()
    return SparkLogRecords(ordered.mapInPandas(through, schema=schema), stamp), read.frame


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))}


def test_executors_write_the_logs_a_retried_task_once(both_paths, spark, tmp_path):
    """Each task stages its records; a task failing once is retried and its part rewritten
    whole, so every record is appended exactly once, in row order, as the pandas writer's."""
    from future_skills_kedro.spark.datasets import SparkPredictionLogDataset

    logs = _outputs(both_paths[1]) / "prediction_logs"
    marker = tmp_path / "failed-once"

    def fails_once(batch):
        if int(batch["_row"].iloc[0]) > 0 and not marker.exists():
            marker.write_text("the first attempt failed")
            raise RuntimeError("injected executor failure")

    records, expected = _logged_records(spark, logs, fails_once)
    target = tmp_path / "logs"
    SparkPredictionLogDataset(str(target)).save(records)

    assert marker.exists(), "no task failed: the fault was not injected"
    written = read_prediction_logs(target).frame
    pd.testing.assert_frame_equal(written, expected)
    assert sorted(_files(target)) == sorted(_files(logs))  # no staging left
    assert _files(target) == _files(logs)  # byte for byte


def test_a_failed_log_write_appends_nothing_and_leaves_no_staging(both_paths, spark, tmp_path):
    from future_skills_kedro.spark.datasets import SparkPredictionLogDataset

    logs = _outputs(both_paths[1]) / "prediction_logs"
    target = tmp_path / "logs"
    target.mkdir()
    for path in logs.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    before = _files(target)

    def second_partition_fails(batch):
        if int(batch["_row"].iloc[0]) > 0:
            raise RuntimeError("injected failure in one task")

    records, _ = _logged_records(spark, logs, second_partition_fails)
    with pytest.raises(Exception, match="injected failure in one task"):
        SparkPredictionLogDataset(str(target)).save(records)
    assert _files(target) == before


def test_a_failed_commit_into_a_new_log_folder_leaves_no_folder(
    both_paths, spark, tmp_path, monkeypatch
):
    """The executors staged every part (so the folder exists), then the driver's commit
    fails: as with the pandas writer, no empty log folder is left behind."""
    from future_skills_kedro.datasets.prediction_logs import writer
    from future_skills_kedro.spark.datasets import SparkPredictionLogDataset

    logs = _outputs(both_paths[1]) / "prediction_logs"
    staged = []

    def failing_commit(staging, fsync):
        staged.extend(path for paths in staging.parts.values() for path in paths)
        assert all(path.is_file() for path in staged)
        raise OSError("injected commit failure")

    monkeypatch.setattr(writer, "_commit", failing_commit)
    records, _ = _logged_records(spark, logs, lambda batch: None)
    new_folder = tmp_path / "new_logs"
    with pytest.raises(Exception, match="injected commit failure"):
        SparkPredictionLogDataset(str(new_folder)).save(records)
    assert staged, "nothing was staged: the commit was not reached"
    assert not new_folder.exists()


def test_an_incompatible_champion_fails_before_any_spark_job(both_paths, spark, tmp_path):
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from future_skills_kedro.spark.inference import IncompatibleChampionError

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input

    signature = ModelSignature(
        inputs=Schema(
            [
                ColSpec("string", "job_role_name"),
                ColSpec("double", "headcount"),
                ColSpec("string", "trend_score"),
            ]
        )
    )
    mlflow.pyfunc.save_model(str(tmp_path / "model"), python_model=Echo(), signature=signature)
    model = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    project, _ = both_paths
    champion = {"model_name": MODEL_NAME, "version": "99", "alias": "champion"}
    catalog = DataCatalog(
        {
            f"validated_{name}": MemoryDataset(table)
            for name, table in _validated_tables(project).items()
        }
    )
    catalog["champion"] = champion
    catalog["champion_pyfunc"] = MemoryDataset(model, copy_mode="assign")
    catalog["params:inference.snapshot"] = {"as_of_date": None, "horizons": [1, 3, 5]}
    catalog["params:inference.snapshot.max_rejected_share"] = 0.05
    pipeline = create_spark_pipeline().filter(
        node_names=[
            "inference.check_champion_inputs",
            "inference.build_scoring_snapshot",
            "inference.split_scorable_rows",
        ]
    )
    group = "incompatible-champion"
    spark.sparkContext.setJobGroup(group, "must stay empty")
    try:
        with pytest.raises(IncompatibleChampionError) as failure:
            SequentialRunner().run(pipeline, catalog)
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    message = str(failure.value)
    assert "headcount (not a snapshot feature)" in message
    assert "trend_score as string (the snapshot's is numeric)" in message
    assert "v99" in message
    assert list(spark.sparkContext.statusTracker().getJobIdsForGroup(group)) == []


def test_kedro_run_inference_then_monitoring_with_env_spark(both_paths):
    """The real CLI with --env spark (the Spark hook, the registry's Spark pipelines, the
    spark catalog) wrote partitioned predictions and appended the logs. Monitoring then reads
    those logs with Spark and gives the pandas monitoring's summary (drift from Spark's value
    counts: engine builtin). Monitoring only reads what the other tests read."""
    _, project = both_paths
    folder = _outputs(project) / "predictions"
    assert (folder / f"as_of_date={NEWEST}" / "horizon_years=5").is_dir()
    assert not (_outputs(project) / "predictions.parquet").exists()
    summary = json.loads((project / "data/08_reporting/inference_summary.json").read_text())
    scored = summary["predictions"]["rows"]
    assert scored > 0
    logs = read_prediction_logs(_outputs(project) / "prediction_logs").frame
    assert len(logs) == scored

    summary_path = project / "data/08_reporting/monitoring/monitoring_summary.json"
    settings = (
        f"monitoring.exit_policy.fail_on=never,monitoring.drift.engine=builtin,{SPARK_TEST_PARAMS}"
    )
    monitor = ("run", "--pipelines", "monitoring", "--params", settings)
    assert_ok(run_kedro(project, *monitor, "--env", "spark"))
    on_spark = json.loads(summary_path.read_text())
    assert on_spark["window"]["engine"] == "spark"
    assert on_spark["window"]["predictions"] == scored
    assert (project / "data/08_reporting/monitoring/metrics.prom").stat().st_size > 0

    assert_ok(run_kedro(project, *monitor))
    on_pandas = json.loads(summary_path.read_text())
    assert on_pandas["window"].pop("engine") == "pandas"
    on_spark["window"].pop("engine")
    assert on_spark["status"] == on_pandas["status"]
    assert on_spark["drift"]["drifted_features"] == on_pandas["drift"]["drifted_features"]
    pandas_scores = {n: f["score"] for n, f in on_pandas["drift"]["features"].items()}
    spark_scores = {n: f["score"] for n, f in on_spark["drift"]["features"].items()}
    assert spark_scores == pytest.approx(pandas_scores, abs=1e-6)
    assert summaries_differ(on_pandas, on_spark) == []
