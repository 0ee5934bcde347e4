"""Inference on Spark: the pandas path's own functions, run per partition by Spark.

Nothing here re-implements a rule of the pandas path. Spark distributes; pandas computes:

- features: ``features.build_feature_table`` per group of whole job roles
  (``cogroup(...).applyInPandas``: the roles' keys with the roles' internal signals; the
  small tables travel with the task);
- row checks: ``split_scorable_rows`` per group of whole job roles (its records are per row);
- scores: ``mlflow.pyfunc.spark_udf`` on the champion's registered version;
- predictions, unseen categories and log records: ``build_predictions``,
  ``flag_unseen_categories`` and ``prediction_log_records`` per Arrow batch (``mapInPandas``);
- recommendations: ``recommend_actions`` per department (its rules never cross departments).

Row positions (the ``<batch_id>-<row>`` of a request id) are the pandas path's: the rank of
the row in (job_role_id, skill_id, horizon_years) order, from per-role counts (a few hundred
numbers on the driver) and a row number within the role. Only small results reach the
driver: counts, rejected rows, the recommendation plan; predictions and prediction-log
records are written by the executors (the logs as part files the driver appends to the day
files at the end, all or nothing: ``SparkPredictionLogDataset``).
"""

from __future__ import annotations

import logging
import pickle
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from future_skills_kedro.contract import (
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    NEED_LEVELS,
    NUMERIC_FEATURES,
)
from future_skills_kedro.features import build_feature_table
from future_skills_kedro.pipelines.inference.nodes import (
    MAX_LISTED_VALUES,
    REJECTED_SCORING_COLUMNS,
    UNSEEN_COLUMN,
    build_predictions,
    check_scorable,
    flag_unseen_categories,
    model_input_columns,
    reason_counts,
    split_scorable_rows,
    summary_from_counts,
)
from future_skills_kedro.pipelines.inference.recommendations import (
    RECOMMENDATION_COLUMNS,
    recommend_actions,
)
from future_skills_kedro.prediction_log import FLAT_COLUMNS, prediction_log_records
from future_skills_kedro.scoring import CONFIDENCE_COLUMN, PREDICTION_COLUMN, PROBABILITY_COLUMNS

logger = logging.getLogger(__name__)

SCORE_COLUMNS = (PREDICTION_COLUMN, *PROBABILITY_COLUMNS, CONFIDENCE_COLUMN)
POSITION = "_position"
ROW_ORDER = ["job_role_id", "skill_id", "horizon_years"]
# Job roles are grouped into this many groups per shuffle partition: one pandas call per
# group, each a whole number of roles (a role's rows never split), so the pandas functions
# see complete roles and run a few hundred times, not once per role.
GROUPS_PER_PARTITION = 2
_SNAPSHOT_COLUMNS = (*KEY_COLUMNS, *(c for c in FEATURE_COLUMNS if c != "horizon_years"))
_MLFLOW_TYPES = {  # signature type -> the snapshot kinds it accepts
    "string": "categorical",
    "double": "numeric",
    "float": "numeric",
    "long": "numeric",
    "integer": "numeric",
}


class IncompatibleChampionError(ValueError):
    """The champion asks for inputs the snapshot cannot give: stops before any Spark job."""


def spark_session() -> SparkSession:
    """The session the Spark hook started (``conf/spark/spark.yml``)."""
    session = SparkSession.getActiveSession()
    if session is None:
        raise RuntimeError(
            "no active SparkSession: run with --env spark (its hook starts the session)."
        )
    return session


def _role_group(spark: SparkSession):
    """The group of a row's job role (a hash of the id: whole roles per group)."""
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions", "200"))
    groups = max(1, partitions * GROUPS_PER_PARTITION)
    return (F.abs(F.hash(F.col("job_role_id"))) % groups).alias("_role_group")


def _snapshot_schema() -> T.StructType:
    fields = [
        T.StructField("job_role_id", T.StringType()),
        T.StructField("skill_id", T.StringType()),
        T.StructField("horizon_years", T.LongType()),
        T.StructField("as_of_date", T.TimestampNTZType()),
    ]
    fields += [T.StructField(c, T.StringType()) for c in CATEGORICAL_FEATURES]
    fields += [T.StructField(c, T.DoubleType()) for c in NUMERIC_FEATURES if c != "horizon_years"]
    return T.StructType(fields)


def _scores_schema() -> str:
    return ", ".join(
        f"{c} {'string' if c == PREDICTION_COLUMN else 'double'}" for c in SCORE_COLUMNS
    )


# ---------------------------------------------------------------- champion
def check_champion_inputs(champion: dict[str, Any], champion_pyfunc) -> list[str]:
    """The champion's input columns, each one the snapshot has, of a type it can give.

    Runs on the driver before the snapshot is built: an incompatible champion fails the run
    before any Spark job starts (the pandas path fails the same champion in ``predict``).
    """
    columns = model_input_columns(champion_pyfunc)
    metadata = getattr(champion_pyfunc, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    types = {}
    if schema is not None and schema.has_input_names():
        types = {spec.name: str(getattr(spec.type, "name", spec.type)) for spec in schema.inputs}
    problems = []
    for column in columns:
        if column not in FEATURE_COLUMNS:
            problems.append(f"{column} (not a snapshot feature)")
            continue
        kind = "categorical" if column in CATEGORICAL_FEATURES else "numeric"
        wanted = types.get(column)
        if wanted is not None and _MLFLOW_TYPES.get(wanted) != kind:
            problems.append(f"{column} as {wanted} (the snapshot's is {kind})")
    if problems:
        raise IncompatibleChampionError(
            f"{champion['model_name']} v{champion['version']} ({champion['alias']}) cannot "
            f"score the snapshot: its signature asks for {'; '.join(problems)}. "
            "Nothing was scored; promote a model trained on the contract's features."
        )
    return columns


# ---------------------------------------------------------------- snapshot
def _as_spark(spark: SparkSession, table: pd.DataFrame | DataFrame) -> DataFrame:
    if isinstance(table, DataFrame):
        return table
    # Arrow takes text columns as plain strings (pandas 3's str dtype included).
    frame = table.astype(
        {c: object for c in table.columns if pd.api.types.is_string_dtype(table[c])}
    )
    return spark.createDataFrame(frame)


def _as_pandas(table: pd.DataFrame | DataFrame) -> pd.DataFrame:
    return table.toPandas() if isinstance(table, DataFrame) else table


def _newest_date(tables: list[DataFrame]) -> pd.Timestamp:
    dates = [
        row[0]
        for row in (
            t.agg(F.max(F.col("as_of_date").cast("timestamp_ntz"))).collect() for t in tables
        )
    ]
    dates = [pd.Timestamp(date[0]) for date in dates if date and date[0] is not None]
    if not dates:
        from future_skills_kedro.pipelines.inference.nodes import ScoringInputError

        raise ScoringInputError("the signal tables have no rows: there is nothing to score.")
    return max(dates)


def snapshot_keys(internal: DataFrame, as_of_date: pd.Timestamp, horizons: list[int]) -> DataFrame:
    """``nodes.snapshot_keys`` on Spark: the newest quarter's pairs x horizons (unsorted)."""
    dated = internal.withColumn("_date", F.col("as_of_date").cast("timestamp_ntz"))
    eligible = dated.where(F.col("_date") <= F.lit(as_of_date.to_pydatetime()))
    newest = eligible.agg(F.max("_date")).collect()[0][0]
    if newest is None:
        from future_skills_kedro.pipelines.inference.nodes import ScoringInputError

        raise ScoringInputError(
            f"no internal signals at or before {as_of_date.date()}: no (job role, skill) "
            "pair to score."
        )
    pairs = (
        eligible.where(F.col("_date") == F.lit(newest))
        .select(F.col("job_role_id").cast("string"), F.col("skill_id").cast("string"))
        .distinct()
    )
    spark = internal.sparkSession
    horizon_rows = spark.createDataFrame([(int(h),) for h in horizons], "horizon_years long")
    return pairs.crossJoin(horizon_rows).withColumn(
        "as_of_date", F.lit(as_of_date.to_pydatetime()).cast("timestamp_ntz")
    )


def build_spark_snapshot(
    job_roles: pd.DataFrame | DataFrame,
    skills: pd.DataFrame | DataFrame,
    market_signals: pd.DataFrame | DataFrame,
    economic_indicators: pd.DataFrame | DataFrame,
    internal_signals: pd.DataFrame | DataFrame,
    snapshot: dict[str, Any],
    model_columns: list[str],
    feature_builder: Callable[..., pd.DataFrame] = build_feature_table,
) -> DataFrame:
    """``nodes.build_scoring_snapshot`` on Spark: the same keys, the same feature function.

    ``model_columns`` (from :func:`check_champion_inputs`) only orders this after the
    champion check. The small tables (roles, skills, market and economic signals) travel
    with each task; internal signals, the large one, are co-grouped with the keys by role.
    ``feature_builder`` is ``build_feature_table``; tests pass a wrapper that fails once.
    """
    del model_columns  # an ordering dependency: the champion is checked first
    spark = spark_session()
    internal = _as_spark(spark, internal_signals)
    signals = [_as_spark(spark, t) for t in (market_signals, economic_indicators)] + [internal]
    if snapshot["as_of_date"] is not None:
        as_of_date = pd.Timestamp(snapshot["as_of_date"])
    else:
        as_of_date = _newest_date(signals)
    keys = snapshot_keys(internal, as_of_date, list(snapshot["horizons"]))
    small = {
        "job_roles": _as_pandas(job_roles),
        "skills": _as_pandas(skills),
        "market_signals": _as_pandas(market_signals),
        "economic_indicators": _as_pandas(economic_indicators),
    }
    internal_columns = [
        "job_role_id",
        "skill_id",
        "as_of_date",
        "internal_usage",
        "training_requests",
    ]
    internal = internal.select(
        F.col("job_role_id").cast("string"),
        F.col("skill_id").cast("string"),
        F.col("as_of_date").cast("timestamp_ntz"),
        F.col("internal_usage").cast("double"),
        F.col("training_requests").cast("double"),
    )

    def features_of_role(role_keys: pd.DataFrame, role_internal: pd.DataFrame) -> pd.DataFrame:
        if role_keys.empty:
            return pd.DataFrame(columns=list(_SNAPSHOT_COLUMNS))
        ordered = role_keys.sort_values(ROW_ORDER, kind="stable")
        table = feature_builder(
            ordered.reset_index(drop=True),
            internal_signals=role_internal.loc[:, internal_columns],
            **small,
        )
        return table.loc[:, list(_SNAPSHOT_COLUMNS)]

    return (
        keys.groupBy(_role_group(spark))
        .cogroup(internal.groupBy(_role_group(spark)))
        .applyInPandas(features_of_role, schema=_snapshot_schema())
    )


def split_spark_snapshot(
    snapshot: DataFrame, max_rejected_share: float
) -> tuple[DataFrame, pd.DataFrame, dict[str, Any]]:
    """``nodes.split_scorable_rows`` per group of roles: scorable rows, rejected records, counts.

    The rejected records come to the driver in the pandas path's order (a row's problems in
    rule order, rows in key order); counts are Spark's.
    """
    snapshot = snapshot.persist()
    schema = T.StructType(
        [
            T.StructField("job_role_id", T.StringType()),
            T.StructField("skill_id", T.StringType()),
            T.StructField("horizon_years", T.LongType()),
            T.StructField("as_of_date", T.StringType()),
            T.StructField("column", T.StringType()),
            T.StructField("value", T.StringType()),
            T.StructField("reason", T.StringType()),
            T.StructField("_order", T.LongType()),
        ]
    )

    def rejected_of_role(rows: pd.DataFrame) -> pd.DataFrame:
        ordered = rows.sort_values(ROW_ORDER, kind="stable")
        _, rejected, _ = split_scorable_rows(ordered.reset_index(drop=True), 1.0)
        return rejected.assign(_order=range(len(rejected)))

    rejected_spark = snapshot.groupBy(_role_group(snapshot.sparkSession)).applyInPandas(
        rejected_of_role, schema=schema
    )
    rejected = rejected_spark.toPandas().sort_values(["job_role_id", "_order"], kind="stable")
    rejected = rejected.drop(columns="_order").reset_index(drop=True)
    rejected = rejected.astype({c: "str" for c in REJECTED_SCORING_COLUMNS if c != "horizon_years"})
    rejected = rejected.astype({"horizon_years": "int64"}).loc[:, list(REJECTED_SCORING_COLUMNS)]

    row_keys = ["job_role_id", "skill_id", "horizon_years"]
    bad_keys = (
        snapshot.sparkSession.createDataFrame(
            rejected.loc[:, row_keys]
            .drop_duplicates()
            .astype({"job_role_id": object, "skill_id": object}),
            "job_role_id string, skill_id string, horizon_years long",
        )
        if len(rejected)
        else None
    )
    scorable = (
        snapshot
        if bad_keys is None
        else snapshot.join(F.broadcast(bad_keys), row_keys, "left_anti")
    )
    scorable = scorable.persist()
    rows = snapshot.count()
    rows_scorable = scorable.count()
    as_of = snapshot.select(F.date_format("as_of_date", "yyyy-MM-dd")).first() if rows else None
    rows_rejected = rows - rows_scorable
    quality = {
        "as_of_date": as_of[0] if as_of else None,
        "rows": rows,
        "rows_scorable": rows_scorable,
        "rows_rejected": rows_rejected,
        "rejected_share": round(rows_rejected / rows, 6) if rows else 0.0,
        "max_rejected_share": float(max_rejected_share),
        "rejected_by_reason": reason_counts(rejected),
    }
    if rows_rejected:
        logger.warning(
            "%d of %d snapshot rows rejected (see rejected_scoring_rows): %s",
            rows_rejected,
            rows,
            quality["rejected_by_reason"],
        )
    return scorable, rejected, quality


# ---------------------------------------------------------------- scoring
def _with_positions(rows: DataFrame) -> DataFrame:
    """The row's rank in (job_role_id, skill_id, horizon_years) order, as the pandas path's."""
    counts = rows.groupBy("job_role_id").count().toPandas().sort_values("job_role_id")
    counts["_offset"] = counts["count"].cumsum() - counts["count"]
    offsets = rows.sparkSession.createDataFrame(
        counts.loc[:, ["job_role_id", "_offset"]].astype({"job_role_id": object}),
        "job_role_id string, _offset long",
    )
    within = Window.partitionBy("job_role_id").orderBy("skill_id", "horizon_years")
    return (
        rows.join(F.broadcast(offsets), "job_role_id")
        .withColumn(POSITION, F.col("_offset") + F.row_number().over(within) - 1)
        .drop("_offset")
    )


def score_spark_snapshot(
    champion: dict[str, Any],
    model_columns: list[str],
    scorable_rows: DataFrame,
    snapshot_quality: dict[str, Any],
) -> tuple[DataFrame, dict[str, Any]]:
    """The champion's scores per row (``spark_udf``), persisted, and the timing.

    The model is the registry version the champion alias resolved to (``models:/<name>/<v>``,
    the version ``resolve_champion`` logged): a promotion during the run cannot mix versions.
    """
    import mlflow.pyfunc

    check_scorable(snapshot_quality, snapshot_quality["rows_scorable"])
    spark = scorable_rows.sparkSession
    uri = f"models:/{champion['model_name']}/{champion['version']}"
    score = mlflow.pyfunc.spark_udf(spark, uri, result_type=_scores_schema(), env_manager="local")
    started = time.perf_counter()
    scored = (
        _with_positions(scorable_rows)
        .withColumn("_scores", score(*model_columns))
        .select("*", *(F.col(f"_scores.{c}").alias(c) for c in SCORE_COLUMNS))
        .drop("_scores")
        .persist()
    )
    rows = scored.count()
    seconds = time.perf_counter() - started
    stats = {
        "batch_id": uuid.uuid4().hex,
        "scored_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "rows": rows,
        "scoring_seconds": seconds,
        "latency_ms": 1000.0 * seconds / rows,
        "rows_per_second": rows / seconds if seconds > 0 else float("inf"),
    }
    logger.info(
        "scored %d rows on Spark in %.3f s (%.4f ms per row)", rows, seconds, stats["latency_ms"]
    )
    return scored, stats


def _predictions_schema() -> T.StructType:
    fields = [
        T.StructField("job_role_id", T.StringType()),
        T.StructField("skill_id", T.StringType()),
        T.StructField("horizon_years", T.LongType()),
        T.StructField("as_of_date", T.DateType()),
        T.StructField(PREDICTION_COLUMN, T.StringType()),
    ]
    fields += [T.StructField(c, T.DoubleType()) for c in (*PROBABILITY_COLUMNS, CONFIDENCE_COLUMN)]
    fields += [
        T.StructField(c, T.StringType()) for c in ("model_name", "model_version", "model_semver")
    ]
    fields += [
        T.StructField("scored_at", T.TimestampType()),
        T.StructField("request_id", T.StringType()),
        T.StructField(UNSEEN_COLUMN, T.StringType()),
    ]
    fields += [T.StructField(f"_unseen_{c}", T.StringType()) for c in CATEGORICAL_FEATURES]
    return T.StructType(fields)


def build_spark_predictions(
    scored: DataFrame,
    known_categories: dict[str, list[str]],
    champion: dict[str, Any],
    scoring_stats: dict[str, Any],
) -> DataFrame:
    """``build_predictions`` and ``flag_unseen_categories`` per Arrow batch.

    Keeps one column per categorical feature (``_unseen_<column>``: the value when the
    champion never saw it, else null) for the summary; the predictions dataset drops them.
    """
    batch_id = scoring_stats["batch_id"]

    def predictions_of(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            rows = batch.reset_index(drop=True)
            unseen = flag_unseen_categories(rows, known_categories)
            frame = build_predictions(
                rows, rows.loc[:, list(SCORE_COLUMNS)], unseen, champion, scoring_stats
            )
            frame["request_id"] = batch_id + "-" + rows[POSITION].astype("str")
            frame["as_of_date"] = frame["as_of_date"].dt.date
            for column in CATEGORICAL_FEATURES:
                flagged = unseen[column].to_numpy(dtype=bool)
                frame[f"_unseen_{column}"] = rows[column].astype(object).where(flagged, None)
            yield frame

    return scored.mapInPandas(predictions_of, schema=_predictions_schema()).persist()


def _flat_schema() -> T.StructType:
    fields = []
    for column in FLAT_COLUMNS:
        if column == "timestamp":
            continue
        if column == "as_of_date":
            kind = T.TimestampNTZType()
        elif (
            column in NUMERIC_FEATURES
            or column in PROBABILITY_COLUMNS
            or column
            in (
                "confidence",
                "latency_ms",
            )
        ):
            kind = T.LongType() if column == "horizon_years" else T.DoubleType()
        else:
            kind = T.StringType()
        fields.append(T.StructField(column, kind))
    return T.StructType(fields)


@dataclass(frozen=True)
class SparkLogRecords:
    """The run's prediction-log records on the executors (flat record columns but the
    timestamp, plus ``_row``), range-partitioned and sorted by row: what
    ``SparkPredictionLogDataset`` stages there and commits. ``scored_at``: every record's
    timestamp."""

    records: DataFrame
    scored_at: str


def build_spark_prediction_log(
    scored: DataFrame,
    champion: dict[str, Any],
    scoring_stats: dict[str, Any],
    scoring_purpose: dict[str, Any],
) -> SparkLogRecords:
    """``prediction_log_records`` per Arrow batch; the executors write them (the dataset)."""
    batch_id = scoring_stats["batch_id"]

    def records_of(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            rows = batch.sort_values(POSITION, kind="stable").reset_index(drop=True)
            records = prediction_log_records(
                rows,
                rows.loc[:, list(SCORE_COLUMNS)],
                purpose=scoring_purpose["purpose"],
                model_name=champion["model_name"],
                model_version=champion["version"],
                model_semver=champion["semver"],
                model_alias=champion["alias"],
                latency_ms=scoring_stats["latency_ms"],
                scored_at=scoring_stats["scored_at"],
                request_id_prefix=batch_id,
            )
            records["request_id"] = batch_id + "-" + rows[POSITION].astype("str")
            records["_row"] = rows[POSITION].to_numpy()
            yield records.drop(columns="timestamp")

    schema = _flat_schema().add("_row", T.LongType())
    ordered = scored.repartitionByRange(
        max(1, scored.rdd.getNumPartitions()), POSITION
    ).sortWithinPartitions(POSITION)
    return SparkLogRecords(
        ordered.mapInPandas(records_of, schema=schema), scoring_stats["scored_at"]
    )


def recommend_on_spark(scored: DataFrame, recommendations: dict[str, Any]) -> pd.DataFrame:
    """``recommend_actions`` per department; the plan (top skills only) comes to the driver."""

    def plan_of(rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.sort_values(POSITION, kind="stable").reset_index(drop=True)
        plan = recommend_actions(
            rows.drop(columns=list(SCORE_COLUMNS)),
            rows.loc[:, list(SCORE_COLUMNS)],
            recommendations,
        )
        return pd.DataFrame({"plan": [pickle.dumps(plan)]})

    parts = scored.groupBy("department").applyInPandas(plan_of, schema="plan binary").collect()
    plans = [pickle.loads(row["plan"]) for row in parts]
    plans = [plan for plan in plans if len(plan)]
    if not plans:
        return recommend_actions(
            pd.DataFrame(columns=[*KEY_COLUMNS, *FEATURE_COLUMNS]).astype(
                {"horizon_years": "int64"}
            ),
            pd.DataFrame(columns=list(SCORE_COLUMNS)),
            recommendations,
        )
    plan = pd.concat(plans, ignore_index=True)
    plan = plan.sort_values(["department", "rank"], kind="stable").reset_index(drop=True)
    return plan.loc[:, list(RECOMMENDATION_COLUMNS)]


def summarise_spark_inference(
    predictions: DataFrame,
    known_categories: dict[str, list[str]],
    snapshot_quality: dict[str, Any],
    scoring_stats: dict[str, Any],
    champion: dict[str, Any],
    recommendations: pd.DataFrame,
    scoring_purpose: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``summarise_inference``'s summary, metrics and params from Spark aggregates."""
    aggregates = [F.count(F.lit(1)).alias("rows"), F.avg(CONFIDENCE_COLUMN).alias("mean")]
    aggregates += [
        F.sum(F.when(F.col(PREDICTION_COLUMN) == level, 1).otherwise(0)).alias(level)
        for level in NEED_LEVELS
    ]
    aggregates += [F.sum(F.when(F.col(UNSEEN_COLUMN) != "", 1).otherwise(0)).alias("_unseen")]
    aggregates += [
        F.count(F.col(f"_unseen_{c}")).alias(f"_unseen_{c}") for c in CATEGORICAL_FEATURES
    ]
    totals = predictions.agg(*aggregates).collect()[0].asDict()
    return summary_from_counts(
        rows=int(totals["rows"]),
        level_counts={level: int(totals[level] or 0) for level in NEED_LEVELS},
        mean_confidence=float(totals["mean"]) if totals["mean"] is not None else float("nan"),
        unseen_rows=int(totals["_unseen"] or 0),
        unseen_by_column=_unseen_by_column(predictions, totals),
        known_categories=known_categories,
        snapshot_quality=snapshot_quality,
        scoring_stats=scoring_stats,
        champion=champion,
        recommendations=recommendations,
        scoring_purpose=scoring_purpose,
    )


def _unseen_by_column(predictions: DataFrame, totals: dict[str, Any]) -> dict[str, Any]:
    """Per categorical column with unseen values: rows and the first values, sorted."""
    found = {}
    for column in CATEGORICAL_FEATURES:
        rows = int(totals[f"_unseen_{column}"] or 0)
        if not rows:
            continue
        values = (
            predictions.where(F.col(f"_unseen_{column}").isNotNull())
            .select(f"_unseen_{column}")
            .distinct()
            .orderBy(f"_unseen_{column}")
            .limit(MAX_LISTED_VALUES)
            .collect()
        )
        found[column] = {"rows": rows, "values": [str(row[0]) for row in values]}
    return found


def write_spark_predictions(predictions: DataFrame) -> DataFrame:
    """The predictions as the dataset writes them (the summary's columns dropped)."""
    return predictions.select(*(c for c in predictions.columns if not c.startswith("_")))
