"""Inference nodes: scoring snapshot, row checks, champion scoring, predictions, logs, tracking.

Pure functions (frames and dicts in, frames and dicts out); the registry, files and MLflow
are reached through the catalog only. The one impurity is the clock: scoring is timed and
stamped, because the prediction logs (docs/prediction-logs.md) need both.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.contract import (
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    HORIZONS,
    KEY_COLUMNS,
    NEED_LEVELS,
    SENIORITIES,
)

# Training's model-input table and this snapshot come out of the very same function (tests
# check the identity).
from future_skills_kedro.encoding import known_categories
from future_skills_kedro.features import build_feature_table, missing_feature_reasons
from future_skills_kedro.prediction_log import PredictionLogChunks, request_ids
from future_skills_kedro.scoring import (
    CONFIDENCE_COLUMN,
    PREDICTION_COLUMN,
    PROBABILITY_COLUMNS,
)
from future_skills_kedro.scoring_purpose import decide_scoring_purpose
from future_skills_kedro.tracking import as_mlflow_metrics

logger = logging.getLogger(__name__)

SIGNAL_TABLES = ("market_signals", "economic_indicators", "internal_signals")
REJECTED_SCORING_COLUMNS = (*KEY_COLUMNS, "column", "value", "reason")
UNSEEN_COLUMN = "unseen_categories"
MAX_LISTED_VALUES = 20  # unseen values named in the summary, per column
# Contract ranges of the numeric features (docs/data-contract.md). The validated tables already
# hold them; checked again because a bad value must never reach the model silently.
_UNIT_INTERVAL = (
    "trend_score",
    "scarcity_index",
    "hiring_difficulty",
    "economic_indicator",
    "internal_usage",
)


class ScoringInputError(ValueError):
    """The snapshot cannot be scored (empty, or too many rejected rows)."""


class ChampionChangedError(RuntimeError):
    """The registry moved the alias between reading its version and loading its model."""


# ---------------------------------------------------------------- champion
def resolve_champion(champion_version: dict[str, Any]) -> dict[str, Any]:
    """The champion's registry facts (loading them fails the run when there is no champion).

    Its node sorts first among the nodes ready at the start, so that failure comes before any
    validation work.
    """
    logger.info(
        "scoring with %s v%s (%s, alias %s, run %s)",
        champion_version["model_name"],
        champion_version["version"],
        champion_version["semver"],
        champion_version["alias"],
        champion_version["run_id"],
    )
    return dict(champion_version)


def open_champion(champion: dict[str, Any], champion_model) -> tuple[Any, dict[str, list[str]]]:
    """The loaded pyfunc model, checked against the version read, and its known categories.

    The alias is resolved twice (version facts, then the model): a promotion in between would
    label predictions with the wrong version, so a mismatch stops the run.
    """
    loaded_run = getattr(getattr(champion_model, "metadata", None), "run_id", None)
    if champion.get("run_id") and loaded_run and loaded_run != champion["run_id"]:
        raise ChampionChangedError(
            f"'{champion['alias']}' moved while loading: version {champion['version']} is run "
            f"{champion['run_id']} but the loaded model is run {loaded_run}. Run again."
        )
    return champion_model, trained_categories(champion_model)


def trained_categories(model) -> dict[str, list[str]]:
    """Categories of each categorical input the model's fitted encoders know; {} if none.

    Read from the fitted encoders themselves (the exact vocabulary the champion learned,
    whatever ``training.model.encoding`` it was trained with), not from a training sample,
    which can miss rare values.
    """
    for estimator in _candidate_estimators(model):
        known = known_categories(estimator)
        if known:
            return known
    logger.warning("no fitted categorical encoder in the model: unseen categories not counted")
    return {}


def _candidate_estimators(model) -> list[Any]:
    """The model itself, or for a kedro-mlflow KedroPipelineModel its catalog's objects."""
    try:
        python_model = model.unwrap_python_model()
    except (AttributeError, ValueError, TypeError):  # not a python_model pyfunc
        return [model]
    catalog = getattr(python_model, "loaded_catalog", None)
    if catalog is None:
        return [python_model]
    input_name = getattr(python_model, "input_name", None)
    objects = []
    for name in list(catalog.keys()):
        if name == input_name:
            continue
        try:
            objects.append(catalog.load(name))
        except Exception:  # an entry that cannot load holds no encoder
            continue
    return objects


def model_input_columns(model) -> list[str]:
    """The columns the model's signature asks for (the contract's features without one)."""
    metadata = getattr(model, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    if schema is not None and schema.has_input_names():
        return list(schema.input_names())
    return list(FEATURE_COLUMNS)


# ---------------------------------------------------------------- snapshot
def _newest_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    dates = [pd.to_datetime(table["as_of_date"]).max() for table in tables.values() if len(table)]
    dates = [date for date in dates if pd.notna(date)]
    if not dates:
        raise ScoringInputError("the signal tables have no rows: there is nothing to score.")
    return max(dates)


def snapshot_keys(
    internal_signals: pd.DataFrame, as_of_date: pd.Timestamp, horizons: list[int]
) -> pd.DataFrame:
    """Every (job role, skill) pair active in the newest internal-signal quarter not after
    ``as_of_date``, times each horizon, all dated ``as_of_date``; sorted."""
    dates = pd.to_datetime(internal_signals["as_of_date"])
    eligible = internal_signals.loc[dates <= as_of_date]
    if eligible.empty:
        raise ScoringInputError(
            f"no internal signals at or before {as_of_date.date()}: no (job role, skill) "
            "pair to score."
        )
    # Pairs of the newest quarter only: a pair absent from it is no longer active, and
    # scoring it would repeat stale signals forever.
    newest = pd.to_datetime(eligible["as_of_date"]).max()
    pairs = (
        eligible.loc[pd.to_datetime(eligible["as_of_date"]) == newest, ["job_role_id", "skill_id"]]
        .astype("str")
        .drop_duplicates()
    )
    keys = pairs.merge(pd.DataFrame({"horizon_years": list(horizons)}), how="cross")
    keys["as_of_date"] = as_of_date
    keys = keys.sort_values(["job_role_id", "skill_id", "horizon_years"], kind="stable")
    return keys.loc[:, list(KEY_COLUMNS)].reset_index(drop=True)


def build_scoring_snapshot(
    job_roles: pd.DataFrame,
    skills: pd.DataFrame,
    market_signals: pd.DataFrame,
    economic_indicators: pd.DataFrame,
    internal_signals: pd.DataFrame,
    snapshot: dict[str, Any],
) -> pd.DataFrame:
    """Feature rows to score: active pairs x horizons at the newest (or the configured) date.

    No labels needed. Features come from ``build_feature_table``, the function that builds
    training's model-input table: one code path, so training and scoring cannot drift apart.
    """
    horizons = snapshot["horizons"]
    if snapshot["as_of_date"] is not None:
        as_of_date = pd.Timestamp(snapshot["as_of_date"])
    else:
        as_of_date = _newest_date(
            {
                "market_signals": market_signals,
                "economic_indicators": economic_indicators,
                "internal_signals": internal_signals,
            }
        )
    keys = snapshot_keys(internal_signals, as_of_date, horizons)
    features = build_feature_table(
        keys,
        job_roles=job_roles,
        skills=skills,
        market_signals=market_signals,
        economic_indicators=economic_indicators,
        internal_signals=internal_signals,
    )
    logger.info(
        "scoring snapshot: %d rows (%d pairs x %d horizons) as of %s",
        len(features),
        len(features) // max(len(horizons), 1),
        len(horizons),
        as_of_date.date(),
    )
    return features


# ---------------------------------------------------------------- row checks
def _invalid_masks(features: pd.DataFrame) -> list[tuple[str, pd.Series, str]]:
    """(column, mask of bad present values, reason) per contract rule of the features."""
    rules = []
    for column in _UNIT_INTERVAL:
        values = features[column]
        rules.append((column, values.notna() & ~values.between(0.0, 1.0), "out of range [0, 1]"))
    salary = features["avg_salary_k"]
    rules.append(("avg_salary_k", salary.notna() & ~(salary > 0), "must be > 0"))
    requests = features["training_requests"]
    bad_requests = requests.notna() & ~((requests >= 0) & (requests == np.floor(requests)))
    rules.append(("training_requests", bad_requests, "must be an integer >= 0"))
    horizons = ", ".join(str(horizon) for horizon in HORIZONS)
    rules.append(
        (
            "horizon_years",
            ~features["horizon_years"].isin(HORIZONS),
            f"not one of {horizons}",
        )
    )
    seniority = features["seniority"]
    rules.append(
        (
            "seniority",
            seniority.notna() & ~seniority.isin(SENIORITIES),
            f"not one of {', '.join(SENIORITIES)}",
        )
    )
    return rules


def split_scorable_rows(
    scoring_snapshot: pd.DataFrame, max_rejected_share: float
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Rows with every feature present and valid; the others, one record per problem.

    Returns the scorable rows, the rejected records (keys, column, value, reason) and counts
    that ``score_snapshot`` checks against ``max_rejected_share`` (after the records are
    saved, so a failed run leaves them behind).
    """
    features = scoring_snapshot.reset_index(drop=True)
    records = []
    # Missing features: one record per missing source, naming its empty columns.
    explained = missing_feature_reasons(features)
    explained_positions = set(explained["position"].tolist())
    is_missing = features.loc[:, list(FEATURE_COLUMNS)].isna()
    # Formatted for those rows only (all of a 1M-row snapshot's dates took 0.4 s).
    dates = features["as_of_date"].iloc[explained["position"]].dt.strftime("%Y-%m-%d")
    for (position, reason), date in zip(explained.itertuples(index=False), dates, strict=True):
        signal = reason.startswith("no ")  # signals are looked up by date (as DE says it)
        records.append(
            {
                "position": position,
                "column": ", ".join(is_missing.columns[is_missing.iloc[position]]),
                "value": "",
                "reason": f"{reason} at or before {date}" if signal else reason,
            }
        )
    # A missing value no source explains (should not happen with validated tables).
    for column in FEATURE_COLUMNS:
        for position in np.flatnonzero(is_missing[column].to_numpy()):
            if position not in explained_positions:
                records.append(
                    {"position": position, "column": column, "value": "", "reason": "missing value"}
                )
    for column, mask, reason in _invalid_masks(features):
        for position in np.flatnonzero(mask.to_numpy()):
            value = features[column].iloc[position]
            records.append(
                {"position": position, "column": column, "value": str(value), "reason": reason}
            )

    problems = pd.DataFrame(records, columns=["position", "column", "value", "reason"])
    problems = problems.sort_values("position", kind="stable")
    positions = problems["position"].to_numpy(dtype="int64")
    rejected = features.loc[positions, list(KEY_COLUMNS)].reset_index(drop=True)
    rejected["as_of_date"] = rejected["as_of_date"].dt.strftime("%Y-%m-%d")
    for column in ("column", "value", "reason"):
        rejected[column] = problems[column].astype("str").to_numpy()
    rejected = rejected.astype({"job_role_id": "str", "skill_id": "str"})

    scorable = features.drop(index=np.unique(positions)).reset_index(drop=True)
    rows_rejected = len(features) - len(scorable)
    first_date = features["as_of_date"].iloc[:1].dt.strftime("%Y-%m-%d")
    quality = {
        "as_of_date": first_date.iloc[0] if len(first_date) else None,
        "rows": len(features),
        "rows_scorable": len(scorable),
        "rows_rejected": rows_rejected,
        "rejected_share": round(rows_rejected / len(features), 6) if len(features) else 0.0,
        "max_rejected_share": float(max_rejected_share),
        "rejected_by_reason": reason_counts(problems),
    }
    if rows_rejected:
        logger.warning(
            "%d of %d snapshot rows rejected (see rejected_scoring_rows): %s",
            rows_rejected,
            len(features),
            quality["rejected_by_reason"],
        )
    return scorable, rejected.loc[:, list(REJECTED_SCORING_COLUMNS)], quality


def reason_counts(problems: pd.DataFrame) -> dict[str, int]:
    """Rejected rows per reason, without the row-specific date."""
    if problems.empty:
        return {}
    date_free = problems["reason"].str.replace(r" at or before \d{4}-\d{2}-\d{2}$", "", regex=True)
    counts = date_free.groupby(date_free).size()
    return {str(reason): int(count) for reason, count in counts.items()}


# ---------------------------------------------------------------- scoring
def flag_unseen_categories(
    scorable_rows: pd.DataFrame, known_categories: dict[str, list[str]]
) -> pd.DataFrame:
    """Per row, the categorical columns whose value the champion never saw ("" if none).

    Such rows are still scored (the encoder ignores unknown values, so the model falls back on
    the other features); they are flagged so users and monitoring can weigh them.
    """
    unseen = pd.DataFrame(index=scorable_rows.index)
    for column in CATEGORICAL_FEATURES:
        if column in known_categories:
            unseen[column] = ~scorable_rows[column].isin(known_categories[column])
        else:
            unseen[column] = False
    # Each distinct combination of flags (one bit per column) is named once: a million rows
    # have a handful, and a Python join per row took seconds.
    bits = unseen.to_numpy(dtype=np.int64) @ (1 << np.arange(len(CATEGORICAL_FEATURES)))
    combinations, row_combination = np.unique(bits, return_inverse=True)
    names = [
        ", ".join(column for i, column in enumerate(CATEGORICAL_FEATURES) if code >> i & 1)
        for code in combinations.tolist()
    ]
    labels = np.asarray(names, dtype=object)[row_combination]
    unseen[UNSEEN_COLUMN] = pd.Series(labels, index=unseen.index, dtype="str")
    return unseen.reset_index(drop=True)


def check_scorable(snapshot_quality: dict[str, Any], rows_scorable: int) -> None:
    """Too many rejected rows, or none left: the run stops before scoring (both engines)."""
    share, limit = snapshot_quality["rejected_share"], snapshot_quality["max_rejected_share"]
    if share > limit:
        raise ScoringInputError(
            f"{snapshot_quality['rows_rejected']} of {snapshot_quality['rows']} snapshot rows "
            f"were rejected ({share:.1%} > inference.snapshot.max_rejected_share {limit:.1%}): "
            f"{snapshot_quality['rejected_by_reason']}. See rejected_scoring_rows "
            "(data/07_model_output/rejected_scoring_rows.csv)."
        )
    if not rows_scorable:
        raise ScoringInputError(
            "no snapshot row can be scored: every row was rejected (see rejected_scoring_rows)."
        )


def score_snapshot(
    champion_pyfunc,
    scorable_rows: pd.DataFrame,
    snapshot_quality: dict[str, Any],
    chunk_rows: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The champion's level, class probabilities and confidence per row, and timing.

    The rows go through the logged pyfunc model (signature checks and the training
    project's own inference pipeline), exactly what ``mlflow models serve`` runs, in chunks of
    ``chunk_rows``: the model's intermediate arrays (encoded features, per-class scores) then
    stay the size of one chunk whatever the snapshot's size. Each row is scored on its own, so
    chunking changes no prediction. latency_ms is the scoring wall time divided by the rows:
    batch scoring has no per-row latency, and this is the figure comparable across batches.
    """
    check_scorable(snapshot_quality, len(scorable_rows))
    columns = model_input_columns(champion_pyfunc)
    expected = [PREDICTION_COLUMN, *PROBABILITY_COLUMNS, CONFIDENCE_COLUMN]
    chunk_rows = int(chunk_rows)
    chunks = []
    started = time.perf_counter()
    for start in range(0, len(scorable_rows), chunk_rows):
        model_input = scorable_rows.iloc[start : start + chunk_rows].loc[:, columns]
        chunk = pd.DataFrame(champion_pyfunc.predict(model_input)).reset_index(drop=True)
        missing = [column for column in expected if column not in chunk.columns]
        if missing or len(chunk) != len(model_input):
            raise RuntimeError(
                f"the model returned {len(chunk)} rows with columns {list(chunk.columns)}; "
                f"expected {len(model_input)} rows with {expected}"
            )
        chunks.append(chunk.loc[:, expected])
    seconds = time.perf_counter() - started
    scores = pd.concat(chunks, ignore_index=True)
    stats = {
        # One id per batch; a row's request_id is "<batch_id>-<row>" in predictions and logs.
        "batch_id": uuid.uuid4().hex,
        "scored_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "rows": len(scores),
        "chunks": len(chunks),
        "scoring_seconds": seconds,
        "latency_ms": 1000.0 * seconds / len(scores),
        "rows_per_second": len(scores) / seconds if seconds > 0 else float("inf"),
    }
    logger.info(
        "scored %d rows in %d chunk(s) in %.3f s (%.4f ms per row)",
        stats["rows"],
        stats["chunks"],
        seconds,
        stats["latency_ms"],
    )
    return scores, stats


def build_predictions(
    scorable_rows: pd.DataFrame,
    model_scores: pd.DataFrame,
    unseen_categories: pd.DataFrame,
    champion: dict[str, Any],
    scoring_stats: dict[str, Any],
) -> pd.DataFrame:
    """predictions.parquet: keys, level, probabilities, confidence, model version, scored_at."""
    rows = scorable_rows.reset_index(drop=True)
    predictions = rows.loc[:, ["job_role_id", "skill_id", "horizon_years", "as_of_date"]].copy()
    # By position (.array: the values as they are; to_numpy() would turn the level's Arrow
    # strings into a million Python objects and back, 0.7 s at 1M rows).
    for column in model_scores.columns:
        predictions[column] = model_scores[column].array
    predictions["model_name"] = champion["model_name"]
    predictions["model_version"] = str(champion["version"])
    predictions["model_semver"] = champion["semver"]
    predictions["scored_at"] = pd.Timestamp(scoring_stats["scored_at"])
    # The ids of the run's prediction-log records: "<batch id>-<row number>".
    predictions["request_id"] = request_ids(scoring_stats["batch_id"], 0, len(predictions))
    predictions[UNSEEN_COLUMN] = unseen_categories[UNSEEN_COLUMN].array
    return predictions.astype({"model_name": "str", "model_version": "str", "model_semver": "str"})


def decide_purpose(
    champion: dict[str, Any], snapshot: dict[str, Any], purpose: str | None
) -> dict[str, Any]:
    """Why this run scores (production, shadow or backfill): docs/prediction-logs.md.

    The project's ScoringPurposeHook applies the same rule to route the run's outputs.
    """
    decision = decide_scoring_purpose(champion["alias"], snapshot.get("as_of_date"), purpose)
    logger.info(
        "scoring purpose: %s (%s)%s",
        decision.purpose,
        decision.reason,
        f"; outputs under {decision.output_folder}/" if decision.output_folder else "",
    )
    return {
        "purpose": decision.purpose,
        "alias": decision.alias,
        "reason": decision.reason,
        "output_folder": decision.output_folder,
    }


def build_prediction_log(
    scorable_rows: pd.DataFrame,
    model_scores: pd.DataFrame,
    champion: dict[str, Any],
    scoring_stats: dict[str, Any],
    scoring_purpose: dict[str, Any],
    chunk_rows: int,
) -> PredictionLogChunks:
    """The batch's prediction-log records, one per scored row (docs/prediction-logs.md).

    Built ``chunk_rows`` at a time while the log dataset writes them: the records of a
    million rows never sit in memory at once, and the batch is still appended all or nothing.
    """
    return PredictionLogChunks(
        scorable_rows,
        model_scores,
        chunk_rows=chunk_rows,
        purpose=scoring_purpose["purpose"],
        model_name=champion["model_name"],
        model_version=champion["version"],
        model_semver=champion["semver"],
        model_alias=champion["alias"],
        latency_ms=scoring_stats["latency_ms"],
        scored_at=scoring_stats["scored_at"],
        request_id_prefix=scoring_stats["batch_id"],
    )


# ---------------------------------------------------------------- tracking
def summarise_inference(
    predictions: pd.DataFrame,
    scorable_rows: pd.DataFrame,
    unseen_categories: pd.DataFrame,
    known_categories: dict[str, list[str]],
    snapshot_quality: dict[str, Any],
    scoring_stats: dict[str, Any],
    champion: dict[str, Any],
    recommendations: pd.DataFrame,
    scoring_purpose: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The run's summary (JSON), MLflow metrics and MLflow params."""
    counts = predictions[PREDICTION_COLUMN].value_counts()
    unseen_by_column = {}
    for column in CATEGORICAL_FEATURES:
        mask = unseen_categories[column].to_numpy(dtype=bool)
        if mask.any():
            values = scorable_rows[column].reset_index(drop=True)[mask]
            unseen_by_column[column] = {
                "rows": int(mask.sum()),
                "values": sorted(values.astype("str").unique().tolist())[:MAX_LISTED_VALUES],
            }
    return summary_from_counts(
        rows=len(predictions),
        level_counts={level: int(counts.get(level, 0)) for level in NEED_LEVELS},
        mean_confidence=float(predictions[CONFIDENCE_COLUMN].mean()),
        unseen_rows=int(unseen_categories[UNSEEN_COLUMN].ne("").sum()),
        unseen_by_column=unseen_by_column,
        known_categories=known_categories,
        snapshot_quality=snapshot_quality,
        scoring_stats=scoring_stats,
        champion=champion,
        recommendations=recommendations,
        scoring_purpose=scoring_purpose,
    )


def summary_from_counts(
    *,
    rows: int,
    level_counts: dict[str, int],
    mean_confidence: float,
    unseen_rows: int,
    unseen_by_column: dict[str, dict[str, Any]],
    known_categories: dict[str, list[str]],
    snapshot_quality: dict[str, Any],
    scoring_stats: dict[str, Any],
    champion: dict[str, Any],
    recommendations: pd.DataFrame,
    scoring_purpose: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The summary, metrics and params from the predictions' counts (pandas or Spark's)."""
    checked = bool(known_categories)
    actions = recommendations["action"].value_counts() if len(recommendations) else pd.Series()
    summary = {
        "model": {
            key: champion[key]
            for key in ("model_name", "alias", "version", "semver", "stage", "run_id")
        },
        "purpose": dict(scoring_purpose),
        "snapshot": snapshot_quality,
        "predictions": {
            "rows": rows,
            "by_level": level_counts,
            "mean_confidence": round(mean_confidence, 6),
        },
        "unseen_categories": {
            "checked": checked,
            "source": "fitted categorical encoders of the champion" if checked else "unavailable",
            "rows": unseen_rows if checked else None,
            "by_column": unseen_by_column,
        },
        "scoring": {
            key: scoring_stats[key]
            for key in ("batch_id", "scored_at", "rows", "scoring_seconds", "latency_ms")
        },
        "recommendations": {
            "rows": len(recommendations),
            "by_action": {str(action): int(count) for action, count in actions.items()},
        },
    }
    metrics = {
        "rows_snapshot": snapshot_quality["rows"],
        "rows_scored": rows,
        "rows_rejected": snapshot_quality["rows_rejected"],
        **{f"predicted_{level}": count for level, count in level_counts.items()},
        "mean_confidence": summary["predictions"]["mean_confidence"],
        "scoring_seconds": scoring_stats["scoring_seconds"],
        "latency_ms": scoring_stats["latency_ms"],
        "recommendations": len(recommendations),
    }
    if checked:
        metrics["rows_unseen_category"] = unseen_rows
        for column in CATEGORICAL_FEATURES:
            metrics[f"rows_unseen_{column}"] = unseen_by_column.get(column, {}).get("rows", 0)
    mlflow_metrics = as_mlflow_metrics(metrics)
    params = {
        "model_name": champion["model_name"],
        "model_alias": champion["alias"],
        "model_version": champion["version"],
        "model_semver": champion["semver"],
        "model_run_id": champion["run_id"],
        "purpose": scoring_purpose["purpose"],
        "snapshot_as_of_date": snapshot_quality["as_of_date"],
        "unseen_categories_source": summary["unseen_categories"]["source"],
    }
    return summary, mlflow_metrics, params
