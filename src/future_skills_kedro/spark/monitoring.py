"""Monitoring on Spark: the window's prediction logs read and aggregated by Spark.

Spark distributes; the project's code reads and computes. Each daily log file is read by
one Spark task with the project's own reader (``read_prediction_logs``: the same parsing,
the same corrupt-line rules, line numbers and reasons), which also prepares the drift
columns (``drift.prepare_features``), the label keys and the UTC day with the pandas path's
functions. Spark then aggregates the rows: per-feature value counts, class and confidence
counts, daily confidence, the records whose key has a label, each key's last valid
prediction and a seeded sample for Evidently's report. Only these
(:class:`~future_skills_kedro.pipelines.monitoring.window_aggregates.WindowAggregates`)
reach the driver; the nodes of ``window_aggregates`` score them with the pandas nodes' code.

The executors open the log files by path: on a cluster the log folder must be on a file
system they all mount (docs/spark.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from future_skills_kedro.contract import CATEGORICAL_FEATURES, NEED_LEVELS, NUMERIC_FEATURES
from future_skills_kedro.datasets.prediction_logs.files import log_files
from future_skills_kedro.datasets.prediction_logs.reader import read_prediction_logs
from future_skills_kedro.drift import scores as drift
from future_skills_kedro.drift.reference import PREVIOUS_WINDOW
from future_skills_kedro.pipelines.monitoring import nodes, performance
from future_skills_kedro.pipelines.monitoring.window_aggregates import (
    PERFORMANCE_COLUMNS,
    WindowAggregates,
)
from future_skills_kedro.prediction_log import PURPOSES
from future_skills_kedro.scoring import CONFIDENCE_COLUMN, PROBABILITY_COLUMNS
from future_skills_kedro.spark.inference import spark_session

logger = logging.getLogger(__name__)

# Every feature with its kind only: preparing a column needs no method or threshold.
_KIND_SPECS = [
    drift.ColumnSpec(name, kind, "jensenshannon", 0.0)
    for kind, names in (
        (drift.CATEGORICAL, CATEGORICAL_FEATURES),
        (drift.NUMERIC, NUMERIC_FEATURES),
    )
    for name in names
]
_DRIFT_COLUMNS = [f"_drift_{name}" for name in (*CATEGORICAL_FEATURES, *NUMERIC_FEATURES)]
# Rows per pandas frame handed back by a reading task (bounds a worker's memory).
_CHUNK_ROWS = 100_000
_TEXT = T.StringType()
_NUMBER = T.DoubleType()
_SCHEMA = T.StructType(
    [
        T.StructField("_file", T.IntegerType()),
        T.StructField("_row", T.LongType()),
        # one line per file: what reading it found (JSON); null on record rows
        T.StructField("_account", _TEXT),
        T.StructField("timestamp", T.TimestampType()),
        T.StructField("_day", _TEXT),
        T.StructField("_version", _TEXT),
        # the keys as the performance code compares them
        T.StructField("_role", _TEXT),
        T.StructField("_skill", _TEXT),
        T.StructField("_horizon", T.LongType()),
        T.StructField("_as_of", _TEXT),
        T.StructField("_estimable", T.BooleanType()),
        T.StructField("job_role_id", _TEXT),
        T.StructField("skill_id", _TEXT),
        T.StructField("horizon_years", _NUMBER),
        T.StructField("as_of_date", _TEXT),
        T.StructField("prediction", _TEXT),
        *(T.StructField(name, _NUMBER) for name in PROBABILITY_COLUMNS),
        T.StructField(CONFIDENCE_COLUMN, _NUMBER),
        *(T.StructField(f"_drift_{name}", _TEXT) for name in CATEGORICAL_FEATURES),
        *(T.StructField(f"_drift_{name}", _NUMBER) for name in NUMERIC_FEATURES),
    ]
)
_FIELDS = _SCHEMA.fieldNames()


def _text(values: pd.Series) -> pd.Series:
    """Plain Python strings and None, whatever text dtype the reader gives: an Arrow-backed
    column of a file read in several blocks is chunked, which Spark's Arrow writer refuses."""
    return values.astype(object).where(values.notna(), None)


def _record_rows(frame: pd.DataFrame, file_index: int) -> pd.DataFrame:
    """The columns aggregated by Spark, computed by the pandas path's functions."""
    prepared = drift.prepare_features(frame, _KIND_SPECS)
    horizon = performance._horizon(frame["horizon_years"])
    as_of = performance._iso_day(frame["as_of_date"])
    probabilities = frame[list(PROBABILITY_COLUMNS)].astype("float64")
    # estimation.latest_per_key's rule: a row it can use
    estimable = (
        horizon.notna().to_numpy()
        & as_of.notna().to_numpy()
        & probabilities.notna().all(axis=1).to_numpy()
        & frame["prediction"].astype("str").isin(NEED_LEVELS).to_numpy()
    )
    columns: dict[str, Any] = {
        "_file": np.full(len(frame), file_index, dtype="int32"),
        "_row": np.arange(len(frame), dtype="int64"),
        "_account": None,
        "timestamp": frame["timestamp"],
        "_day": performance.utc_day(frame["timestamp"]),
        "_version": _text(frame["model_version"].astype("str")),
        "_role": _text(frame["job_role_id"].astype("str")),
        "_skill": _text(frame["skill_id"].astype("str")),
        "_horizon": horizon,
        "_as_of": _text(as_of),
        "_estimable": estimable,
        "job_role_id": _text(frame["job_role_id"]),
        "skill_id": _text(frame["skill_id"]),
        "horizon_years": frame["horizon_years"].astype("float64"),
        "as_of_date": _text(frame["as_of_date"]),
        "prediction": _text(frame["prediction"]),
        **{name: probabilities[name] for name in PROBABILITY_COLUMNS},
        CONFIDENCE_COLUMN: frame[CONFIDENCE_COLUMN].astype("float64"),
    }
    for spec in _KIND_SPECS:
        values = prepared[spec.name]
        columns[f"_drift_{spec.name}"] = (
            _text(values) if spec.kind == drift.CATEGORICAL else values.astype("float64")
        )
    return pd.DataFrame(columns, index=frame.index).reset_index(drop=True)[_FIELDS]


def _read_log_files(
    batches: Iterator[pd.DataFrame], purposes: list[str], max_examples: int
) -> Iterator[pd.DataFrame]:
    """One task's daily files, each read with the project's reader: the window's records,
    then one ``_account`` row saying what reading the file found."""
    for batch in batches:
        for file_index, path, day in batch.itertuples(index=False):
            read = read_prediction_logs(
                Path(path).parent, day, day, purposes=purposes, max_corrupt_examples=max_examples
            )
            frame = read.frame
            for first in range(0, len(frame), _CHUNK_ROWS):
                rows = _record_rows(frame.iloc[first : first + _CHUNK_ROWS], int(file_index))
                rows["_row"] += first
                yield rows
            account = {
                "lines_read": read.lines_read,
                "corrupt_lines": read.corrupt_lines,
                "corrupt_examples": [
                    {"file": e.file, "line": e.line_number, "reason": e.reason}
                    for e in read.corrupt_examples
                ],
                "excluded_by_purpose": dict(read.excluded_by_purpose),
            }
            accounting = pd.DataFrame({name: [None] for name in _FIELDS})
            accounting["_file"] = np.int32(file_index)
            accounting["_account"] = json.dumps(account)
            yield accounting[_FIELDS]


def _value_counts(records: DataFrame, columns: list[str], kind: str) -> dict[str, drift.Counts]:
    """One job: (column, value) -> count for every column, as Counts per column."""
    value = F.col("value")
    pairs = records.select(
        F.explode(
            F.array(*(F.struct(F.lit(c).alias("column"), F.col(c).alias("value")) for c in columns))
        ).alias("pair")
    ).select("pair.column", "pair.value")
    present = value.isNotNull() & (~F.isnan(value) if kind == drift.NUMERIC else F.lit(True))
    counted = pairs.where(present).groupBy("column", "value").count().toPandas()
    return {
        column: drift.Counts.from_pairs(
            counted.loc[counted["column"] == column, "value"].to_numpy(),
            counted.loc[counted["column"] == column, "count"].to_numpy(),
            kind,
        )
        for column in columns
    }


def _performance_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.loc[:, list(PERFORMANCE_COLUMNS)]
    # Spark hands timestamps back naive in the session's zone (UTC, conf/spark/spark.yml).
    stamps = pd.to_datetime(frame["timestamp"])
    frame["timestamp"] = stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps
    return frame.reset_index(drop=True)


def _last_per(records: DataFrame, keys: list[str]) -> pd.DataFrame:
    """The last record of each ``keys`` group in (timestamp, log) order, in that order: the
    pandas path's stable sort by timestamp then ``drop_duplicates(keep="last")``. A
    ``max_by`` aggregation: each partition keeps one row per group before the shuffle."""
    columns = [*PERFORMANCE_COLUMNS, "_file", "_row"]
    last = records.groupBy(*keys).agg(
        F.max_by(F.struct(*columns), F.struct("timestamp", "_file", "_row")).alias("last")
    )
    return last.select("last.*").orderBy("timestamp", "_file", "_row").toPandas()


def _labelled_rows(records: DataFrame, labels: pd.DataFrame, period: str) -> pd.DataFrame:
    """The last record of each (period, key) whose key has a label (``match_labels`` keeps
    no other; the labels travel to the executors)."""
    parsed, _ = performance.parse_labels(labels)
    if parsed.empty:
        return pd.DataFrame(columns=list(PERFORMANCE_COLUMNS))
    keys = records.sparkSession.createDataFrame(
        pd.DataFrame(
            {
                "_role": parsed["job_role_id"].astype(object),
                "_skill": parsed["skill_id"].astype(object),
                "_horizon": parsed["horizon_years"].astype("int64"),
                "_as_of": parsed["as_of_date"].astype(object),
            }
        )
    )
    matched = records.join(
        F.broadcast(keys), on=["_role", "_skill", "_horizon", "_as_of"], how="left_semi"
    )
    by_period = "_day" if period == "log_day" else "_as_of"
    return _performance_rows(
        _last_per(matched, [by_period, "_role", "_skill", "_horizon", "_as_of"])
    )


def _latest_rows(records: DataFrame) -> pd.DataFrame:
    """Each key's last valid prediction (``estimation.latest_per_key``'s rule)."""
    latest = _last_per(
        records.where(F.col("_estimable")), ["_role", "_skill", "_horizon", "_as_of"]
    )
    if latest.empty:
        # None valid: one invalid record, so the estimate says so as the pandas one does.
        latest = records.limit(1).toPandas()
    return _performance_rows(latest)


def _report_rows(records: DataFrame, rows: int, drift_params: Mapping[str, Any]) -> tuple:
    """The rows Evidently draws: all of a small window, else a seeded uniform sample."""
    if drift_params["engine"] != "evidently":
        return pd.DataFrame(), False
    max_rows = drift_params["evidently_max_rows"]
    sampled = rows > max_rows
    chosen = records.orderBy("_file", "_row")
    if sampled:  # the top max_rows by a seeded random key: each partition keeps its own top
        chosen = records.orderBy(F.rand(drift_params["sample_seed"])).limit(max_rows)
    frame = chosen.select(*_DRIFT_COLUMNS).toPandas()
    return frame.rename(columns=lambda name: name.removeprefix("_drift_")), sampled


def _read_files(files: list[Path], purposes: list[str]) -> DataFrame:
    """The files' records (one task per daily file) and one ``_account`` row per file;
    persisted: the caller unpersists it."""
    tasks = pd.DataFrame(
        {
            "_file": np.arange(len(files), dtype="int32"),
            "path": [str(path) for path in files],
            "day": [path.stem.removeprefix("predictions_") for path in files],
        }
    )
    tasks["day"] = pd.to_datetime(tasks["day"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    return (
        spark_session()
        .createDataFrame(tasks)
        .repartition(len(files))
        .mapInPandas(
            lambda batches: _read_log_files(batches, purposes, nodes.MAX_CORRUPT_EXAMPLES),
            schema=_SCHEMA,
        )
        .persist(StorageLevel.MEMORY_AND_DISK)
    )


def _feature_counts(
    records: DataFrame, categorical: list[str], numeric: list[str]
) -> tuple[dict[str, drift.Counts], dict[str, drift.Counts]]:
    """Counts per drift feature, and per extra column (two jobs: categorical, numeric)."""
    counts = _value_counts(
        records, [f"_drift_{n}" for n in CATEGORICAL_FEATURES] + categorical, drift.CATEGORICAL
    ) | _value_counts(records, [f"_drift_{n}" for n in NUMERIC_FEATURES] + numeric, drift.NUMERIC)
    features = {
        name.removeprefix("_drift_"): counted
        for name, counted in counts.items()
        if name.startswith("_drift_")
    }
    return features, {name: counted for name, counted in counts.items() if name not in features}


def aggregate_previous_window(
    log_source: Any, window: Mapping[str, Any], drift_params: Mapping[str, Any]
) -> tuple[WindowAggregates | pd.DataFrame, dict[str, Any]]:
    """``nodes.load_previous_window`` on Spark: the window before the monitored one as
    feature counts and a report sample (its rows stay on the executors), read only for
    ``drift.reference: previous_window``."""
    info = nodes.previous_window_info(window)
    if drift_params["reference"] != PREVIOUS_WINDOW:
        return pd.DataFrame(), info
    files = log_files(
        log_source.directory, date.fromisoformat(info["start"]), date.fromisoformat(info["end"])
    )
    aggregates = WindowAggregates(rows=0)
    if files:
        read = _read_files(files, list(window["purposes"]))
        try:
            records = read.where(F.col("_account").isNull())
            aggregates.rows = records.count()
            if aggregates.rows:
                aggregates.feature_counts, _ = _feature_counts(records, [], [])
                aggregates.report_rows, aggregates.sampled = _report_rows(
                    records, aggregates.rows, drift_params
                )
        finally:
            read.unpersist()
    return aggregates, info | {"read": True, "predictions": aggregates.rows}


def aggregate_window(
    log_source: Any,
    window: Mapping[str, Any],
    drift_params: Mapping[str, Any],
    performance_params: Mapping[str, Any],
    labels: pd.DataFrame,
) -> tuple[WindowAggregates, dict[str, Any]]:
    """The window's logs read and aggregated by Spark: its aggregates and the summary's
    ``window`` (``engine: spark``)."""
    start, end = nodes.resolve_window(window)
    purposes = list(window["purposes"])
    files = log_files(log_source.directory, start, end)
    if not files:
        info = nodes.window_info(
            window,
            engine="spark",
            files_read=0,
            lines_read=0,
            corrupt_lines=0,
            corrupt_examples=[],
            excluded_by_purpose={p: 0 for p in PURPOSES if p not in purposes},
            predictions=0,
            predictions_by_day={},
            model_versions={},
        )
        return WindowAggregates(rows=0), info

    read = _read_files(files, purposes)
    try:
        accounts = read.where(F.col("_account").isNotNull()).select("_file", "_account").toPandas()
        records = read.where(F.col("_account").isNull())
        daily = (
            records.groupBy("_day")
            .agg(F.count(F.lit(1)).alias("size"), F.avg(CONFIDENCE_COLUMN).alias("mean"))
            .toPandas()
            .set_index("_day")
            .sort_index()
        )
        daily.index.name = "day"
        rows = int(daily["size"].sum())
        versions = records.groupBy("_version").count().toPandas()
        aggregates = WindowAggregates(rows=rows, daily=daily)
        if rows:
            aggregates.feature_counts, counts = _feature_counts(
                records, categorical=["prediction"], numeric=[CONFIDENCE_COLUMN]
            )
            aggregates.class_counts = counts["prediction"]
            aggregates.confidence_counts = counts[CONFIDENCE_COLUMN]
            aggregates.mean_confidence = float(
                records.agg(F.avg(CONFIDENCE_COLUMN)).collect()[0][0]
            )
            aggregates.report_rows, aggregates.sampled = _report_rows(records, rows, drift_params)
            aggregates.labelled_rows = _labelled_rows(records, labels, performance_params["period"])
            aggregates.latest_rows = _latest_rows(records)
    finally:
        read.unpersist()

    found = [json.loads(text) for text in accounts.sort_values("_file")["_account"]]
    excluded: dict[str, int] = {}
    for account in found:
        for purpose, count in account["excluded_by_purpose"].items():
            excluded[purpose] = excluded.get(purpose, 0) + count
    info = nodes.window_info(
        window,
        engine="spark",
        files_read=len(files),
        lines_read=sum(account["lines_read"] for account in found),
        corrupt_lines=sum(account["corrupt_lines"] for account in found),
        corrupt_examples=[example for account in found for example in account["corrupt_examples"]],
        excluded_by_purpose=excluded,
        predictions=rows,
        predictions_by_day={str(day): int(size) for day, size in daily["size"].items()},
        model_versions={
            str(v): int(c)
            for v, c in sorted(zip(versions["_version"], versions["count"], strict=True))
        },
    )
    return aggregates, info
