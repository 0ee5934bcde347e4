"""Monitoring on Spark gives the pandas path's summary (issue 16): statistics within 1e-6,
the same flags and status.

One generated window (two numeric features shifted, a categorical mix changed, a tenth of
the labels wrong), written by the project's writer, with corrupt lines, shadow records and
keys logged twice, is monitored twice in-process: by the pandas pipeline and by the Spark
pipeline on the shared local[2,2] session, against the same champion reference and labels.
The real CLI on the committed sample: tests/pipelines/inference/test_spark_inference.py.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from future_skills_kedro.datasets import PredictionLogWindowDataset, append_prediction_logs
from future_skills_kedro.pipelines.monitoring import create_pipeline
from tests.pipelines.monitoring import scenarios

pytestmark = pytest.mark.integration

TOLERANCE = 1e-6
WINDOW_START = date.fromisoformat(scenarios.WINDOW_END) - timedelta(scenarios.WINDOW_DAYS - 1)
PREVIOUS_END = (WINDOW_START - timedelta(1)).isoformat()
OUTPUTS = (
    "monitoring_summary",
    "monitoring_metrics",
    "monitoring_metrics_prom",
    "monitoring_previous_predictions",
)


class _KeptDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release: read after the run."""

    def _release(self) -> None:
        pass


@pytest.fixture(scope="module")
def log_folder(tmp_path_factory):
    """The window's log files: production (shifted), shadow records, repeats, corrupt lines."""
    stationary = scenarios.stationary(seed=3)
    scenario = scenarios.degrade_labels(scenarios.shift_features(stationary), 0.1)
    folder = tmp_path_factory.mktemp("spark_monitoring") / "logs"
    # The week before the window, unshifted: the reference of drift.reference: previous_window.
    before = scenarios.log_frame(stationary.world, stationary.production, end=PREVIOUS_END, seed=5)
    append_prediction_logs(before, folder)
    production = scenario.predictions()
    append_prediction_logs(production, folder)
    # The same keys scored again later in the window: the last prediction of a key counts.
    again = scenarios.log_frame(scenario.world, scenario.production.head(400), days=2, seed=9)
    append_prediction_logs(again, folder)
    shadow = scenarios.log_frame(
        scenario.world, scenario.production.head(300), seed=4, purpose="shadow"
    )
    append_prediction_logs(shadow, folder)
    day_file = folder / "predictions_20250626.jsonl"
    good = day_file.read_text().splitlines()[0]
    with day_file.open("a") as handle:
        handle.write("\n".join(["{not json", good[: len(good) // 2], '{"timestamp": 1}']) + "\n")
    return folder, scenario


def _run(engine: str, folder, scenario, params: dict) -> dict:
    catalog = DataCatalog(
        {
            "monitoring_prediction_logs": PredictionLogWindowDataset(str(folder)),
            "monitoring_reference": MemoryDataset(scenario.reference, copy_mode="assign"),
            "skill_need_labels": MemoryDataset(scenario.labels),
            **{f"params:monitoring.{key}": MemoryDataset(value) for key, value in params.items()},
            "params:monitoring.health.important_features": MemoryDataset(
                params["health"]["important_features"]
            ),
            **{name: _KeptDataset() for name in OUTPUTS},
        }
    )
    # Up to the published outputs (the exit policy reads the Pushgateway dataset's result).
    monitoring = create_pipeline(engine=engine).to_nodes("monitoring.render_prometheus_metrics")
    SequentialRunner().run(monitoring, catalog)
    return {name: catalog.load(name) for name in OUTPUTS}


def summaries_differ(pandas_value, spark_value, path: str = "") -> list[str]:
    """Where two summaries differ: numbers by more than TOLERANCE, anything else at all."""
    if isinstance(pandas_value, dict) and isinstance(spark_value, dict):
        if set(pandas_value) != set(spark_value):
            return [f"{path}: keys {sorted(set(pandas_value) ^ set(spark_value))}"]
        return [
            found
            for key in pandas_value
            for found in summaries_differ(pandas_value[key], spark_value[key], f"{path}.{key}")
        ]
    if isinstance(pandas_value, list) and isinstance(spark_value, list):
        if len(pandas_value) != len(spark_value):
            return [f"{path}: {len(pandas_value)} vs {len(spark_value)} items"]
        return [
            found
            for index, (left, right) in enumerate(zip(pandas_value, spark_value, strict=True))
            for found in summaries_differ(left, right, f"{path}[{index}]")
        ]
    same = pandas_value == spark_value
    if _is_number(pandas_value) and _is_number(spark_value):
        same = math.isclose(pandas_value, spark_value, rel_tol=0.0, abs_tol=TOLERANCE)
    return [] if same else [f"{path}: {pandas_value!r} vs {spark_value!r}"]


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.mark.parametrize(
    "drift_settings",
    [
        pytest.param({"engine": "builtin"}, id="builtin-counts"),
        pytest.param({"engine": "evidently", "evidently_max_rows": 500}, id="evidently-sampled"),
        pytest.param({"engine": "evidently"}, id="evidently-all-rows"),
        pytest.param(
            {"engine": "builtin", "reference": "previous_window"}, id="previous-window-counts"
        ),
        pytest.param(
            {"engine": "evidently", "evidently_max_rows": 500, "reference": "previous_window"},
            id="previous-window-sampled",
        ),
    ],
)
def test_spark_monitoring_summary_is_the_pandas_one(spark, log_folder, drift_settings):
    folder, scenario = log_folder
    params = scenarios.parameters()
    params["window"] |= {"end_date": date.fromisoformat(scenarios.WINDOW_END)}
    params["drift"] |= drift_settings

    pandas_run = _run("pandas", folder, scenario, params)
    spark_run = _run("spark", folder, scenario, params)

    pandas_summary = pandas_run["monitoring_summary"]
    spark_summary = spark_run["monitoring_summary"]
    assert pandas_summary["window"].pop("engine") == "pandas"
    assert spark_summary["window"].pop("engine") == "spark"
    assert summaries_differ(pandas_summary, spark_summary) == []
    assert summaries_differ(pandas_run["monitoring_metrics"], spark_run["monitoring_metrics"]) == []
    # What the window holds, so the comparison above compared something.
    window = spark_summary["window"]
    assert window["corrupt_lines"] == 3
    assert window["excluded_by_purpose"] == {"shadow": 300, "backfill": 0}
    assert spark_summary["status"] != "healthy"
    assert {"trend_score", "avg_salary_k", "seniority"} <= set(
        spark_summary["drift"]["drifted_features"]
    )
    assert spark_summary["performance"]["status"] == "assessed"
    assert spark_summary["performance_estimate"]["status"] == "estimated"
    sampled = drift_settings.get("evidently_max_rows") == 500
    assert spark_summary["drift"]["report"]["sampled"] is sampled
    reference = spark_summary["drift"]["reference"]
    if drift_settings.get("reference") == "previous_window":
        # The week before, read and counted by Spark, not by the driver.
        assert (reference["kind"], reference["note"]) == ("previous_window", None)
        assert reference["rows"] == len(log_folder[1].production)
        assert reference["end_date"] == PREVIOUS_END
        previous = spark_run["monitoring_previous_predictions"]
        assert not isinstance(previous, pd.DataFrame)
        assert previous.feature_counts["trend_score"].total == reference["rows"]


def test_an_empty_window_is_no_data_on_spark_too(spark, log_folder):
    folder, scenario = log_folder
    params = scenarios.parameters()
    params["window"] |= {"end_date": date(2020, 1, 31)}

    pandas_summary = _run("pandas", folder, scenario, params)["monitoring_summary"]
    spark_summary = _run("spark", folder, scenario, params)["monitoring_summary"]

    assert spark_summary["window"].pop("engine") == "spark"
    pandas_summary["window"].pop("engine")
    assert summaries_differ(pandas_summary, spark_summary) == []
    assert spark_summary["status"] == "no_data"


def test_the_spark_engine_is_a_known_one():
    with pytest.raises(ValueError, match="monitoring engine must be one of"):
        create_pipeline(engine="dask")


def test_a_file_read_in_several_blocks_gives_spark_plain_arrays(log_folder):
    """A big daily file is parsed in blocks, so the reader's Arrow-backed text columns are
    chunked; Spark's Arrow writer refuses chunked columns (it failed on 10M logged rows)."""
    import pyarrow as pa

    from future_skills_kedro.datasets import read_prediction_logs
    from future_skills_kedro.spark.monitoring import _record_rows

    folder, _ = log_folder
    frame = read_prediction_logs(folder, "2025-06-26", "2025-06-26").frame
    half = len(frame) // 2
    for column in ("model_version", "job_role_id", "skill_id", "as_of_date", "seniority"):
        text = pa.array(frame[column].astype(object))
        chunked = pa.chunked_array([text[:half], text[half:]])
        frame[column] = pd.Series(pd.arrays.ArrowStringArray(chunked), index=frame.index)
    assert isinstance(pa.Array.from_pandas(frame["job_role_id"]), pa.ChunkedArray)

    rows = _record_rows(frame, 0)

    still_chunked = [
        name for name in rows if isinstance(pa.Array.from_pandas(rows[name]), pa.ChunkedArray)
    ]
    assert still_chunked == []
    assert rows["_role"].tolist() == frame["job_role_id"].astype("str").tolist()
