"""What Spark's executors write: predictions (Parquet partitioned by as_of_date and horizon)
and the prediction-log records (part files the driver commits to the day files).

A run writes to a temporary sibling folder and commits by renames at the end, through
Hadoop's FileSystem (local disk, HDFS; an object store's rename is a copy, see docs/spark.md):
a failed or retried job leaves no partial file where monitoring or a reader looks. PySpark is
imported when the dataset saves or loads, never when the catalog is built.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import Any

from kedro.io import AbstractDataset, DatasetError

PARTITION_COLUMNS = ("as_of_date", "horizon_years")
# Columns a node keeps for the run's own summary; never part of the written predictions.
INTERNAL_PREFIX = "_"


class SparkPredictionsDataset(AbstractDataset):
    """Partitioned Parquet folder of predictions, replaced as a whole by each run."""

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = str(path)
        self.metadata = metadata

    def _filesystem(self, spark):
        jvm = spark.sparkContext._jvm
        hadoop_path = jvm.org.apache.hadoop.fs.Path(self._uri())
        return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jvm

    def _uri(self) -> str:
        from pathlib import Path

        return self._path if "://" in self._path else Path(self._path).resolve().as_uri()

    def save(self, data) -> None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
        if spark is None:
            raise DatasetError("SparkPredictionsDataset: no active SparkSession")
        fs, jvm = self._filesystem(spark)
        target = jvm.org.apache.hadoop.fs.Path(self._uri())
        parent, name = target.getParent(), target.getName()
        token = uuid.uuid4().hex[:12]
        staging = jvm.org.apache.hadoop.fs.Path(parent, f".{name}.tmp-{token}")
        previous = jvm.org.apache.hadoop.fs.Path(parent, f".{name}.old-{token}")
        columns = [c for c in data.columns if not c.startswith(INTERNAL_PREFIX)]
        try:
            data.select(*columns).write.mode("error").partitionBy(*PARTITION_COLUMNS).parquet(
                staging.toString()
            )
            moved = fs.exists(target) and fs.rename(target, previous)
            if not fs.rename(staging, target):
                if moved:
                    fs.rename(previous, target)
                raise DatasetError(f"could not move {staging} to {target}")
            if moved:
                fs.delete(previous, True)
        finally:
            if fs.exists(staging):
                fs.delete(staging, True)

    def load(self):
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
        if spark is None:
            raise DatasetError("SparkPredictionsDataset: no active SparkSession")
        return spark.read.parquet(self._uri())

    def _exists(self) -> bool:
        from pathlib import Path

        return "://" not in self._path and Path(self._path).is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path, "partitioned_by": list(PARTITION_COLUMNS)}


class SparkPredictionLogDataset(AbstractDataset):
    """The daily prediction-log files, the records written by Spark's executors.

    Each task checks and encodes its partition's records with the project's writer
    (``stage_prediction_logs``) into part files of a staging folder inside the log folder;
    the driver collects only the list of parts and appends them to the day files in row
    order with ``append_prediction_logs``: under the same lock, all or nothing, with the
    same bytes as the pandas path. A failed job or commit leaves the day files as they were
    and removes the staging folder. The executors write by path: on a cluster the log
    folder must be on a file system they all mount (docs/spark.md). ``load`` is the base
    dataset's (the pandas reader).
    """

    def __init__(
        self, path: str, *, fsync: bool = True, metadata: dict[str, Any] | None = None
    ) -> None:
        from future_skills_kedro.datasets import PredictionLogDataset

        self._path = str(path)
        self._fsync = fsync
        self._reader = PredictionLogDataset(path)
        self.metadata = metadata

    def save(self, data) -> None:
        import shutil
        from pathlib import Path

        from future_skills_kedro.datasets.prediction_logs.writer import (
            StagedPredictionLogs,
            append_prediction_logs,
            stage_prediction_logs,
        )

        directory = Path(self._path).resolve()
        new_folder = not directory.exists()
        staging = directory / f".staging-{uuid.uuid4().hex[:12]}"
        folder, scored_at = str(staging), data.scored_at

        def stage(batches):
            import pandas as pd
            from pyspark import TaskContext

            part = f"part-{TaskContext.get().partitionId():05d}"

            def frames():
                for batch in batches:
                    first = int(batch["_row"].iloc[0]) if len(batch) else 0
                    records = batch.drop(columns="_row")
                    records.insert(0, "timestamp", pd.Timestamp(scored_at))
                    yield records, first

            written = stage_prediction_logs(frames(), Path(folder), part)
            yield pd.DataFrame({"day": list(written), "part": part, "rows": list(written.values())})

        try:
            parts = data.records.mapInPandas(stage, "day string, part string, rows long")
            listed = tuple((r["day"], r["part"], int(r["rows"])) for r in parts.collect())
            append_prediction_logs(
                StagedPredictionLogs(staging, listed), directory, fsync=self._fsync
            )
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if new_folder:  # as the writer: a failed run leaves no empty log folder behind
                with suppress(OSError):
                    directory.rmdir()
            raise
        shutil.rmtree(staging, ignore_errors=True)

    def load(self):
        return self._reader.load()

    def _exists(self) -> bool:
        return self._reader.exists()

    def _describe(self) -> dict[str, Any]:
        return {"path": self._path, "written_by": "spark executors"}


def read_spark_predictions(path: str):
    """The folder as one pandas frame, in the pandas path's dtypes and row order (no Spark)."""
    import pandas as pd
    import pyarrow.dataset as ds

    table = ds.dataset(str(path), format="parquet", partitioning="hive").to_table()
    frame = table.to_pandas()
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"].astype("str")).astype("datetime64[ns]")
    frame["horizon_years"] = frame["horizon_years"].astype("int64")
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("str")
    if frame["scored_at"].dt.tz is None:
        frame["scored_at"] = frame["scored_at"].dt.tz_localize("UTC")
    keys = ["job_role_id", "skill_id", "horizon_years", "as_of_date"]
    frame = frame.loc[:, [*keys, *(c for c in frame.columns if c not in keys)]]
    return frame.sort_values(keys[:3], kind="stable").reset_index(drop=True)


__all__ = [
    "PARTITION_COLUMNS",
    "SparkPredictionLogDataset",
    "SparkPredictionsDataset",
    "read_spark_predictions",
]
