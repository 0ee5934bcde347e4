"""Inference nodes in-process: snapshot, the shared feature path, row checks, scoring, logs."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, DatasetError, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import ParquetDataset

from future_skills_kedro import features
from future_skills_kedro.contract import (
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    TARGET_COLUMN,
)
from future_skills_kedro.datagen import GeneratorConfig, generate
from future_skills_kedro.datasets import (
    PredictionLogDataset,
    append_prediction_logs,
    read_prediction_logs,
)
from future_skills_kedro.parameters.project import validate_parameters
from future_skills_kedro.pipelines.data_engineering import create_pipeline as create_de_pipeline
from future_skills_kedro.pipelines.data_engineering import nodes as data_engineering_nodes
from future_skills_kedro.pipelines.data_engineering import pipeline as data_engineering_pipeline
from future_skills_kedro.pipelines.inference import create_pipeline
from future_skills_kedro.pipelines.inference import nodes as inference_nodes
from future_skills_kedro.pipelines.inference.nodes import (
    REJECTED_SCORING_COLUMNS,
    UNSEEN_COLUMN,
    ScoringInputError,
    build_prediction_log,
    build_predictions,
    build_scoring_snapshot,
    decide_purpose,
    flag_unseen_categories,
    model_input_columns,
    open_champion,
    score_snapshot,
    snapshot_keys,
    split_scorable_rows,
    trained_categories,
)
from future_skills_kedro.scoring import PREDICTION_COLUMN, PROBABILITY_COLUMNS, predict_need_levels

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CHAMPION = {
    "model_name": "future-skills-model",
    "alias": "champion",
    "version": "7",
    "semver": "1.2.0",
    "stage": "Production",
    "run_id": "run-7",
}


@cache
def _parameters() -> dict:
    """conf/base parameters as the nodes receive them: checked, defaults filled in."""
    conf = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return validate_parameters(conf["parameters"]).model_dump()


@cache
def _world():
    """A small generated world: 6 roles x 15 skills, 5 quarters (the newest unlabelled)."""
    return generate(GeneratorConfig(seed=3, n_roles=6, n_quarters=5))


def _raw_text(data) -> dict[str, pd.DataFrame]:
    """The generated tables as the catalog reads the CSVs: every value text."""
    return {name: table.astype("str") for name, table in data.tables.items()}


def _params_catalog(catalog: DataCatalog, prefix: str, values) -> None:
    """``params:<prefix>`` and every nested ``params:<prefix>.<key>``, as Kedro provides them."""
    catalog[f"params:{prefix}"] = MemoryDataset(values)
    if isinstance(values, dict):
        for key, value in values.items():
            _params_catalog(catalog, f"{prefix}.{key}", value)


def _run_feature_paths(as_of_date: str) -> DataCatalog:
    """data_engineering + the snapshot node, in-process on memory datasets."""
    catalog = DataCatalog()
    for name, table in _raw_text(_world()).items():
        catalog[name] = MemoryDataset(table)
    params = _parameters()
    _params_catalog(catalog, "data_engineering", params["data_engineering"])
    snapshot = {**params["inference"]["snapshot"], "as_of_date": as_of_date}
    _params_catalog(catalog, "inference.snapshot", snapshot)
    snapshot_node = create_pipeline().only_nodes("inference.build_scoring_snapshot")
    pipeline = create_de_pipeline() + snapshot_node
    for name in ("model_input_table", "scoring_snapshot"):
        catalog[name] = MemoryDataset()
    SequentialRunner().run(pipeline, catalog)
    return catalog


# ---------------------------------------------------------------- one feature code path
def test_snapshot_node_calls_the_data_engineering_feature_builder():
    node = next(n for n in create_pipeline().nodes if n.name == "inference.build_scoring_snapshot")
    assert node.func is build_scoring_snapshot
    # The very function object data_engineering builds the model-input table with.
    assert inference_nodes.build_feature_table is features.build_feature_table
    assert build_scoring_snapshot.__globals__["build_feature_table"] is (
        data_engineering_nodes.build_feature_table
    )


def test_snapshot_rows_equal_model_input_rows_for_a_labelled_quarter():
    labelled = sorted(_world().tables["skill_need_labels"]["as_of_date"].unique())[-1]
    catalog = _run_feature_paths(labelled)
    table = catalog.load("model_input_table")
    training_rows = table.loc[table["as_of_date"].eq(pd.Timestamp(labelled))]
    training_rows = training_rows.drop(columns=TARGET_COLUMN)
    snapshot = catalog.load("scoring_snapshot")

    assert len(training_rows) > 0
    assert list(snapshot.columns) == list(training_rows.columns)
    keys = list(KEY_COLUMNS)
    merged = training_rows.merge(snapshot, on=keys, how="left", suffixes=("", "_snapshot"))
    assert len(merged) == len(training_rows)
    for column in FEATURE_COLUMNS:
        if column in keys:
            continue
        pd.testing.assert_series_equal(
            merged[column], merged[f"{column}_snapshot"], check_names=False
        )
    # And the snapshot scores every pair of that quarter: no label row is missing from it.
    assert len(snapshot) == len(training_rows)


def test_default_snapshot_is_the_newest_quarter_and_every_active_pair_times_horizons():
    world = _world()
    catalog = _run_feature_paths(None)
    snapshot = catalog.load("scoring_snapshot")
    internal = world.tables["internal_signals"]
    newest = max(internal["as_of_date"])
    pairs = internal.loc[internal["as_of_date"].eq(newest), ["job_role_id", "skill_id"]]

    assert snapshot["as_of_date"].unique().tolist() == [pd.Timestamp(newest)]
    assert len(snapshot) == 3 * len(pairs.drop_duplicates())
    assert sorted(snapshot["horizon_years"].unique()) == [1, 3, 5]
    assert not snapshot.duplicated(list(KEY_COLUMNS)).any()
    assert TARGET_COLUMN not in snapshot.columns
    assert snapshot.loc[:, list(FEATURE_COLUMNS)].notna().all().all()


def test_snapshot_keys_take_the_pairs_of_the_newest_internal_quarter_not_after_the_date():
    internal = pd.DataFrame(
        {
            "job_role_id": ["R1", "R1", "R2", "R3"],
            "skill_id": ["S1", "S2", "S1", "S9"],
            "as_of_date": pd.to_datetime(["2024-12-31", "2025-03-31", "2025-03-31", "2025-06-30"]),
        }
    )
    keys = snapshot_keys(internal, pd.Timestamp("2025-03-31"), [1, 5])
    assert keys[["job_role_id", "skill_id"]].drop_duplicates().values.tolist() == [
        ["R1", "S2"],
        ["R2", "S1"],
    ]
    assert keys["horizon_years"].tolist() == [1, 5, 1, 5]
    assert keys["as_of_date"].eq(pd.Timestamp("2025-03-31")).all()
    with pytest.raises(ScoringInputError, match="no internal signals at or before 2024-09-30"):
        snapshot_keys(internal, pd.Timestamp("2024-09-30"), [1])


# ---------------------------------------------------------------- row checks
def _features(n: int = 4) -> pd.DataFrame:
    features = _world().features.head(n).drop(columns=TARGET_COLUMN).reset_index(drop=True)
    # The dtypes build_feature_table gives (numbers as float, dates as datetime64).
    return features.astype({"as_of_date": "datetime64[ns]", "training_requests": "float64"})


def test_rows_with_missing_or_invalid_features_are_rejected_with_reasons():
    features = _features(5)
    features.loc[1, ["trend_score", "scarcity_index", "hiring_difficulty", "avg_salary_k"]] = np.nan
    features.loc[2, "internal_usage"] = 1.7
    features.loc[3, "training_requests"] = 2.5
    scorable, rejected, quality = split_scorable_rows(features, max_rejected_share=1.0)

    assert list(rejected.columns) == list(REJECTED_SCORING_COLUMNS)
    day = features.loc[1, "as_of_date"].strftime("%Y-%m-%d")
    by_row = rejected.set_index("job_role_id", drop=False)
    assert len(scorable) == 2
    assert quality["rows"] == 5
    assert quality["rows_rejected"] == 3
    reasons = rejected["reason"].tolist()
    assert f"no market signal at or before {day}" in reasons
    assert "out of range [0, 1]" in reasons
    assert "must be an integer >= 0" in reasons
    missing = rejected.loc[rejected["reason"].str.startswith("no market signal")].iloc[0]
    assert missing["column"] == "trend_score, scarcity_index, hiring_difficulty, avg_salary_k"
    assert rejected.loc[rejected["column"].eq("internal_usage"), "value"].tolist() == ["1.7"]
    assert quality["rejected_by_reason"] == {
        "no market signal": 1,
        "out of range [0, 1]": 1,
        "must be an integer >= 0": 1,
    }
    assert len(by_row) == 3
    # The kept rows are the untouched ones, in order.
    pd.testing.assert_frame_equal(scorable, features.iloc[[0, 4]].reset_index(drop=True))


def test_clean_snapshot_rejects_nothing():
    scorable, rejected, quality = split_scorable_rows(_features(6), max_rejected_share=0.0)
    assert len(scorable) == 6
    assert rejected.empty
    assert list(rejected.columns) == list(REJECTED_SCORING_COLUMNS)
    assert quality["rejected_share"] == 0.0


# ---------------------------------------------------------------- scoring
class _SklearnPyfunc:
    """A stand-in for the pyfunc model (the real one is exercised by the integration tests)."""

    metadata = None

    def __init__(self, classifier) -> None:
        self.classifier = classifier
        self.seen_columns: list[str] = []

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.seen_columns = list(frame.columns)
        return predict_need_levels(self.classifier, frame)


@cache
def _classifier():
    from future_skills_kedro.pipelines.training.nodes import build_classifier

    model = {
        "algorithm": "logistic_regression",
        "encoding": "target",
        "excluded_features": [],
        "hyperparameters": {"logistic_regression": {"C": 1.0, "max_iter": 500}},
    }
    classifier = build_classifier(model)
    train = _world().features
    classifier.fit(train.loc[:, list(FEATURE_COLUMNS)], train[TARGET_COLUMN])
    return classifier


@cache
def _boosting_classifier():
    """The default model: gradient boosting on target-encoded roles and skills."""
    from future_skills_kedro.pipelines.training.nodes import build_classifier

    model = {
        "algorithm": "hist_gradient_boosting",
        "encoding": "target",
        "excluded_features": [],
        "hyperparameters": {"hist_gradient_boosting": {"max_iter": 30, "random_state": 0}},
    }
    classifier = build_classifier(model)
    train = _world().features
    classifier.fit(train.loc[:, list(FEATURE_COLUMNS)], train[TARGET_COLUMN])
    return classifier


def test_trained_categories_come_from_the_fitted_encoder():
    known = trained_categories(_classifier())
    assert set(known) == set(CATEGORICAL_FEATURES)
    assert set(known["job_role_name"]) == set(_world().features["job_role_name"])
    model, categories = open_champion(CHAMPION, _classifier())
    assert model is _classifier()
    assert categories == known


def test_unseen_categories_are_flagged_per_column():
    features = _features(3)
    features.loc[1, "job_role_name"] = "Quantum Prompt Engineer"
    features.loc[2, ["job_role_name", "skill_name"]] = ["Chief Vibes Officer", "Telepathy"]
    unseen = flag_unseen_categories(features, trained_categories(_classifier()))
    assert unseen[UNSEEN_COLUMN].tolist() == ["", "job_role_name", "job_role_name, skill_name"]
    assert unseen["job_role_name"].tolist() == [False, True, True]
    # Nothing known (no encoder found): nothing flagged, the summary says "unavailable".
    assert flag_unseen_categories(features, {})[UNSEEN_COLUMN].eq("").all()


def test_scoring_predictions_and_log_records_agree(tmp_path):
    features = _features(6)
    features.loc[5, "job_role_name"] = "Quantum Prompt Engineer"
    model = _SklearnPyfunc(_classifier())
    quality = {"rows": 6, "rows_rejected": 0, "rejected_share": 0.0, "max_rejected_share": 0.2}
    scores, stats = score_snapshot(model, features, quality, 100_000)

    assert model.seen_columns == list(FEATURE_COLUMNS) == model_input_columns(model)
    assert len(scores) == 6
    assert np.allclose(scores.loc[:, list(PROBABILITY_COLUMNS)].sum(axis=1), 1.0)
    assert stats["latency_ms"] == pytest.approx(1000 * stats["scoring_seconds"] / 6)

    unseen = flag_unseen_categories(features, trained_categories(_classifier()))
    predictions = build_predictions(features, scores, unseen, CHAMPION, stats)
    assert predictions[["model_version", "model_semver"]].drop_duplicates().values.tolist() == [
        ["7", "1.2.0"]
    ]
    assert predictions[UNSEEN_COLUMN].tolist()[-1] == "job_role_name"
    assert str(predictions["scored_at"].dt.tz) == "UTC"

    purpose = decide_purpose(CHAMPION, {"as_of_date": None}, None)
    assert purpose["purpose"] == "production"
    log = build_prediction_log(features, scores, CHAMPION, stats, purpose, 4)
    append_prediction_logs(log, tmp_path)
    read = read_prediction_logs(tmp_path)
    assert read.corrupt_lines == 0
    back = read.frame
    assert back["request_id"].tolist() == predictions["request_id"].tolist()
    assert back["prediction"].tolist() == predictions[PREDICTION_COLUMN].tolist()
    assert back["model_version"].unique().tolist() == ["7"]
    assert back["model_semver"].unique().tolist() == ["1.2.0"]
    assert back["latency_ms"].unique().tolist() == [pytest.approx(stats["latency_ms"])]
    assert back["job_role_name"].tolist() == features["job_role_name"].tolist()
    assert back["purpose"].unique().tolist() == ["production"]
    assert back["model_alias"].unique().tolist() == [CHAMPION["alias"]]


def test_chunked_scoring_gives_the_unchunked_predictions_row_by_row():
    features = _features(500)
    features.loc[7, "job_role_name"] = "Quantum Prompt Engineer"  # unseen: scored all the same
    quality = {"rows": 500, "rows_rejected": 0, "rejected_share": 0.0, "max_rejected_share": 0.2}
    model = _SklearnPyfunc(_boosting_classifier())
    whole, whole_stats = score_snapshot(model, features, quality, 10_000)
    chunked, stats = score_snapshot(model, features, quality, 37)

    assert (whole_stats["chunks"], stats["chunks"]) == (1, 14)
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)


def test_too_many_rejected_rows_fail_scoring_with_the_reasons():
    quality = {
        "rows": 10,
        "rows_rejected": 4,
        "rejected_share": 0.4,
        "max_rejected_share": 0.2,
        "rejected_by_reason": {"no market signal": 4},
    }
    with pytest.raises(ScoringInputError, match=r"4 of 10 .*40\.0% > .*no market signal"):
        score_snapshot(_SklearnPyfunc(_classifier()), _features(6), quality, 100_000)
    empty = {**quality, "rows_rejected": 0, "rejected_share": 0.0}
    with pytest.raises(ScoringInputError, match="no snapshot row can be scored"):
        score_snapshot(_SklearnPyfunc(_classifier()), _features(0), empty, 100_000)


# ---------------------------------------------------------------- chunked runs, in-process
@cache
def _validated_tables() -> dict[str, pd.DataFrame]:
    """The small world's validated tables, from the real data_engineering nodes."""
    catalog = DataCatalog()
    for name, table in _raw_text(_world()).items():
        catalog[name] = MemoryDataset(table)
    _params_catalog(catalog, "data_engineering", _parameters()["data_engineering"])
    outputs = SequentialRunner().run(create_de_pipeline(), catalog)
    return {
        name: outputs[name].load() if name in outputs else catalog.load(name)
        for name in (f"validated_{table}" for table in data_engineering_pipeline.VALIDATED_TABLES)
    }


class _ChunkRecordingLogDataset(PredictionLogDataset):
    """The real log dataset, noting the size of each chunk of records it is handed."""

    def __init__(self, path: str) -> None:
        super().__init__(path, fsync=False)
        self.chunk_sizes: list[int] = []

    def save(self, data) -> None:
        batches = [data] if isinstance(data, pd.DataFrame) else data

        def noted():
            for chunk in batches:
                self.chunk_sizes.append(len(chunk))
                yield chunk

        super().save(noted())


class _CorruptThirdChunkPyfunc(_SklearnPyfunc):
    """Scores like the classifier but returns an impossible probability in its 3rd chunk."""

    def __init__(self, classifier) -> None:
        super().__init__(classifier)
        self.calls = 0

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.calls += 1
        scored = super().predict(frame)
        if self.calls == 3:
            scored.loc[scored.index[0], "prob_HIGH"] = 1.5
        return scored


def _run_inference(folder: Path, model, chunk_rows: int):
    """The inference nodes up to predictions and logs, real files under ``folder``."""
    catalog = DataCatalog()
    for name, table in _validated_tables().items():
        catalog[name] = MemoryDataset(table)
    catalog["scoring_model_version"] = MemoryDataset(CHAMPION)
    catalog["scoring_model"] = MemoryDataset(model, copy_mode="assign")
    catalog["champion_pyfunc"] = MemoryDataset(copy_mode="assign")  # as in catalog.yml
    catalog["predictions"] = ParquetDataset(filepath=str(folder / "predictions.parquet"))
    log = _ChunkRecordingLogDataset(str(folder / "prediction_logs"))
    catalog["prediction_log_batch"] = log
    params = _parameters()["inference"]
    _params_catalog(catalog, "inference", params | {"scoring": {"chunk_rows": chunk_rows}})
    pipeline = create_pipeline().to_outputs("predictions", "prediction_log_batch")
    SequentialRunner().run(pipeline, catalog)
    return (
        pd.read_parquet(folder / "predictions.parquet"),
        read_prediction_logs(log._directory),
        log,
    )


def test_a_chunked_run_writes_the_unchunked_predictions_and_log_records_row_by_row(tmp_path):
    model = _SklearnPyfunc(_boosting_classifier())
    whole, whole_log, whole_dataset = _run_inference(tmp_path / "whole", model, 100_000)
    chunked, chunked_log, chunked_dataset = _run_inference(tmp_path / "chunked", model, 37)

    rows = len(whole)
    assert rows == 3 * 6 * 15
    # The records reach the log writer chunk by chunk, never the whole batch at once.
    assert whole_dataset.chunk_sizes == [rows]
    assert max(chunked_dataset.chunk_sizes) == 37
    assert sum(chunked_dataset.chunk_sizes) == rows
    batch_only = ["request_id", "scored_at"]
    pd.testing.assert_frame_equal(
        chunked.drop(columns=batch_only), whole.drop(columns=batch_only), check_exact=True
    )
    assert chunked_log.corrupt_lines == whole_log.corrupt_lines == 0
    run_only = ["timestamp", "request_id", "latency_ms"]
    pd.testing.assert_frame_equal(
        chunked_log.frame.drop(columns=run_only),
        whole_log.frame.drop(columns=run_only),
        check_exact=True,
    )
    # Request ids number the batch's rows once, across chunks, as in predictions.parquet.
    assert chunked_log.frame["request_id"].tolist() == chunked["request_id"].tolist()
    row_numbers = chunked["request_id"].str.rsplit("-", n=1).str[1].astype(int)
    assert row_numbers.tolist() == list(range(rows))


def test_a_run_failing_mid_way_leaves_no_log_records_and_no_predictions_file(tmp_path):
    model = _CorruptThirdChunkPyfunc(_boosting_classifier())
    with pytest.raises(DatasetError) as error:  # Kedro's wrapping of the writer's error
        _run_inference(tmp_path, model, 37)

    assert re.search(
        r"prediction log: record 74 \(request_id \w+-74\): "
        r"probabilities\.HIGH: 1\.5 is not a number in \[0, 1\]",
        str(error.value),
    )
    assert model.calls == 8  # scored to the end; the records failed in the log's third chunk
    assert not (tmp_path / "predictions.parquet").exists()
    assert not (tmp_path / "prediction_logs").exists()
