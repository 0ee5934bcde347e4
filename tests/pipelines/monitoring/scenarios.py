"""Monitoring scenarios with known truth, built from the synthetic data generator.

One generated world is split at random into three disjoint parts of the same population:
the champion's training features (the drift reference), its holdout (baseline predictions
and metrics) and production (the logged predictions). The "model" is the generator's own
need model (true class probabilities, argmax), so nothing is trained. With no change the
three parts differ only by sampling noise; each scenario then changes one known thing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from future_skills_kedro.contract import FEATURE_COLUMNS, KEY_COLUMNS, NEED_LEVELS, TARGET_COLUMN
from future_skills_kedro.datagen import GeneratedData, GeneratorConfig, generate
from future_skills_kedro.datasets.monitoring_reference import MonitoringReference
from future_skills_kedro.parameters.monitoring import MonitoringParameters
from future_skills_kedro.pipelines.training.nodes import calibrate_probabilities
from future_skills_kedro.prediction_log import prediction_log_records

PARAMETERS_FILE = Path(__file__).resolve().parents[3] / "conf/base/parameters_monitoring.yml"
WINDOW_END = "2025-06-30"
WINDOW_DAYS = 7
REGISTERED_AT = "2025-05-01T00:00:00Z"  # model age at the window's end: 61 days
# What permutation importance would say for the generator's need model (top 3 first).
IMPORTANCE = pd.DataFrame(
    {
        "feature": ["trend_score", "internal_usage", "scarcity_index", *FEATURE_COLUMNS[:5]],
        "importance_mean": [0.12, 0.04, 0.03, 0.004, 0.003, 0.002, 0.001, 0.0],
    }
)


# As in conf/base/parameters_training.yml, with fewer refits (tests).
CALIBRATION = {
    "method": "vector",
    "min_rows_per_horizon": 300,
    "bootstrap_resamples": 10,
    "seed": 0,
}


def parameters() -> dict:
    """conf/base/parameters_monitoring.yml's ``monitoring`` block as the nodes receive it:
    checked by its model, defaults filled in (a fresh copy)."""
    raw = yaml.safe_load(PARAMETERS_FILE.read_text(encoding="utf-8"))["monitoring"]
    return validated(raw)


def validated(monitoring: dict) -> dict:
    """A (changed) ``monitoring`` block as the nodes receive it: checked, defaults filled in."""
    return MonitoringParameters.model_validate(monitoring).model_dump()


@dataclass
class Scenario:
    world: GeneratedData
    reference: MonitoringReference
    production: pd.DataFrame  # model-input rows scored in production (keys + features)
    labels: pd.DataFrame  # skill_need_labels.csv as the catalog loads it: all strings

    def predictions(self, days: int = WINDOW_DAYS, seed: int = 0) -> pd.DataFrame:
        """The flat prediction-log frame of ``production``, spread over the window's days."""
        return log_frame(self.world, self.production, days=days, seed=seed)


def world(seed: int, n_roles: int = 30, n_quarters: int = 10) -> GeneratedData:
    return generate(GeneratorConfig(seed=seed, n_roles=n_roles, n_quarters=n_quarters))


def oracle_scores(data: GeneratedData, rows: pd.DataFrame) -> pd.DataFrame:
    """predicted_need_level, prob_*, confidence from the generator's true probabilities."""
    probabilities = data.need_model.probabilities(rows.reset_index(drop=True))
    best = probabilities.argmax(axis=1)
    scored = pd.DataFrame(probabilities, columns=[f"prob_{level}" for level in NEED_LEVELS])
    scored.insert(0, "predicted_need_level", np.asarray(NEED_LEVELS, dtype=object)[best])
    scored["confidence"] = probabilities[np.arange(len(rows)), best]
    return scored


def log_frame(
    data: GeneratedData,
    rows: pd.DataFrame,
    *,
    days: int = WINDOW_DAYS,
    end: str = WINDOW_END,
    seed: int = 0,
    model_version: str = "3",
    purpose: str = "production",
) -> pd.DataFrame:
    """Rows scored by the oracle, each logged once at a random hour of the window's days."""
    rng = np.random.default_rng(seed)
    rows = rows.reset_index(drop=True)
    first = pd.Timestamp(end, tz="UTC") - pd.Timedelta(days=days - 1)
    offsets = rng.integers(0, days * 24, len(rows))
    stamps = first + pd.to_timedelta(offsets, unit="h")
    return prediction_log_records(
        rows,
        oracle_scores(data, rows),
        purpose=purpose,
        model_name="future-skills-model",
        model_version=model_version,
        model_semver="1.2.0",
        model_alias="champion" if purpose == "production" else "challenger",
        latency_ms=4.0,
        scored_at=list(stamps),
        request_id_prefix=f"test{seed}",
    )


def stationary(seed: int, **world_options) -> Scenario:
    """Reference, holdout and production drawn from one population: no change at all."""
    data = world(seed, **world_options)
    rows = data.features.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    n = len(rows)
    train, holdout, production = (
        rows[: 2 * n // 5],
        rows[2 * n // 5 : 3 * n // 5],
        rows[3 * n // 5 :],
    )
    holdout_scored = oracle_scores(data, holdout)
    holdout_predictions = pd.concat(
        [holdout.loc[:, [*KEY_COLUMNS, TARGET_COLUMN]].reset_index(drop=True), holdout_scored],
        axis=1,
    )
    holdout_predictions["correct"] = (
        holdout_predictions["predicted_need_level"] == holdout_predictions[TARGET_COLUMN]
    )
    calibration, _ = calibrate_probabilities(holdout_predictions, CALIBRATION)
    reference = MonitoringReference(
        model_name="future-skills-model",
        version="3",
        alias="champion",
        semver="1.2.0",
        stage="Production",
        run_id="0" * 32,
        created_at=REGISTERED_AT,
        features=train.loc[:, list(dict.fromkeys([*KEY_COLUMNS, *FEATURE_COLUMNS]))].reset_index(
            drop=True
        ),
        holdout_predictions=holdout_predictions,
        feature_importance=IMPORTANCE.copy(),
        probability_calibration=calibration,
    )
    labels = data.tables["skill_need_labels"].astype("str")
    return Scenario(data, reference, production.reset_index(drop=True), labels)


# --------------------------------------------------------------------------- changes

SHIFTED_NUMERIC = ("trend_score", "avg_salary_k")
CHANGED_CATEGORICAL = "seniority"


def shift_features(scenario: Scenario) -> Scenario:
    """Two numeric features shifted and one categorical mix changed, nothing else.

    trend_score +0.5 reference std (an upstream scale change), avg_salary_k x1.25 (a
    currency or inflation change), 70 % of junior rows relabelled senior.
    """
    rows = scenario.production.copy()
    reference = scenario.reference.features
    rows["trend_score"] = rows["trend_score"] + 0.5 * reference["trend_score"].std()
    rows["avg_salary_k"] = rows["avg_salary_k"] * 1.25
    junior = np.flatnonzero(rows["seniority"].to_numpy() == "junior")
    moved = np.random.default_rng(1).choice(junior, int(0.7 * len(junior)), replace=False)
    seniority = rows["seniority"].to_numpy(dtype=object).copy()
    seniority[moved] = "senior"
    rows["seniority"] = seniority
    return replace(scenario, production=rows)


def degrade_labels(scenario: Scenario, share: float, seed: int = 0) -> Scenario:
    """Replace the label of ``share`` of the production rows by another class."""
    labels = scenario.labels.copy()
    keys = scenario.production.loc[:, list(KEY_COLUMNS)].astype("str")
    index = labels.reset_index().merge(keys, on=list(KEY_COLUMNS))["index"].to_numpy()
    rng = np.random.default_rng(seed)
    chosen = rng.choice(index, int(share * len(index)), replace=False)
    current = labels.loc[chosen, TARGET_COLUMN].to_numpy()
    levels = np.asarray(NEED_LEVELS, dtype=object)
    position = np.searchsorted(levels, current, sorter=np.argsort(levels))
    step = rng.integers(1, len(levels), len(chosen))
    shifted = np.argsort(levels)[(position + step) % len(levels)]
    labels.loc[chosen, TARGET_COLUMN] = levels[shifted]
    return replace(scenario, labels=labels)
