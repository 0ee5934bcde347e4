"""The latent "future need" model the labels are sampled from.

It is the ground truth of the synthetic world: a non-linear score ``z`` of the observable
model-input features plus a moderate per-role and per-skill effect, turned into class
probabilities by an ordinal logit ``P(y <= k) = sigmoid((c_k - z) / noise_scale)``.
Every input of ``z`` is a column a model sees (the role and skill effects through
job_role_name and skill_name), so the Bayes-optimal accuracy is reachable in principle and
the gap between a trained model and this oracle measures the model, not hidden information.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from future_skills_kedro.contract import NEED_LEVELS, SENIORITIES
from future_skills_kedro.datagen.catalog import (
    BUSINESS,
    CLOUD,
    DATA_AI,
    MANAGERIAL,
    SKILL_CATEGORIES,
    SOFT,
    TECHNICAL,
)

# Main effects, in units of the latent score (the logistic noise has scale 1).
SENIORITY_NEED = {"junior": -0.25, "mid": 0.0, "senior": 0.1, "lead": 0.2, "manager": 0.1}
CATEGORY_NEED = {
    TECHNICAL: 0.0,
    DATA_AI: 0.25,
    CLOUD: 0.15,
    SOFT: 0.2,
    BUSINESS: -0.15,
    MANAGERIAL: -0.2,
}
# How a category's need moves from the 1-year to the 5-year horizon: AI and durable human
# skills gain in the long run, today's tooling loses.
CATEGORY_LONG_HORIZON_SHIFT = {
    TECHNICAL: -0.25,
    DATA_AI: 0.45,
    CLOUD: 0.1,
    SOFT: 0.35,
    BUSINESS: -0.15,
    MANAGERIAL: 0.0,
}
# Managerial skills matter for those who lead people, much less for juniors.
LEADERSHIP_MANAGERIAL_BONUS = {
    "junior": -0.8,
    "mid": -0.3,
    "senior": 0.0,
    "lead": 0.6,
    "manager": 1.1,
}

# Calibrated over seeds at 40k and 1M label rows: oracle accuracy ~0.71-0.76 and each
# class 26-38 % of the labels (checked by tests/datagen).
DEFAULT_NOISE_SCALE = 0.7
DEFAULT_CUTPOINTS = (-1.1, 1.0)
HOT_TREND_THRESHOLD = 0.75  # market "hype" level above which a skill jumps in need

# Model-input columns the latent score reads (besides the role and skill identities).
NEED_MODEL_INPUTS = (
    "seniority",
    "skill_category",
    "horizon_years",
    "trend_score",
    "scarcity_index",
    "hiring_difficulty",
    "avg_salary_k",
    "economic_indicator",
    "internal_usage",
    "training_requests",
)


def _lookup(values: pd.Series | np.ndarray, table: Mapping[str, float], name: str) -> np.ndarray:
    """Map category labels to numbers, failing loudly on a label the model does not know.

    Factorising first maps each distinct label once: no per-row Python objects at 1M rows.
    """
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=False)
    unknown = [str(u) for u in uniques if u not in table]
    if unknown:
        raise ValueError(f"unknown {name} values: {sorted(unknown)[:5]}")
    return np.array([table[u] for u in uniques], dtype=float)[codes]


def structural_score(features: Mapping[str, np.ndarray | pd.Series]) -> np.ndarray:
    """Latent need score from the observable features only (no role or skill effect)."""

    def numeric(name: str) -> np.ndarray:
        return np.asarray(features[name], dtype=float)

    horizon = numeric("horizon_years")
    trend = numeric("trend_score")
    scarcity = numeric("scarcity_index")
    difficulty = numeric("hiring_difficulty")
    salary = numeric("avg_salary_k")
    economy = numeric("economic_indicator")
    usage = numeric("internal_usage")
    training = numeric("training_requests")
    long_run = (horizon - 1.0) / 4.0  # 0 for 1 year, 1 for 5 years

    # Long horizons follow the market trend, short horizons today's internal usage.
    trend_term = (1.0 + 3.0 * long_run) * 2.0 * (trend - 0.5)
    usage_term = (0.4 + 2.2 * (1.0 - long_run)) * 2.0 * (usage - 0.5)
    # A scarce skill the role does not have in-house yet is a gap to close.
    gap_term = 2.5 * scarcity * (1.0 - usage) - 0.6
    # Hiring difficulty saturates: beyond a point it no longer adds urgency.
    difficulty_term = 0.9 * np.tanh(4.0 * (difficulty - 0.55))
    # Threshold effect: a hyped skill jumps in need, more so for long horizons.
    hot_term = 0.7 * (trend > HOT_TREND_THRESHOLD) * (0.5 + long_run)
    training_term = 0.45 * (np.log1p(training) - 1.0)
    salary_term = 0.25 * (salary - 85.0) / 25.0
    # The business cycle drives short-term needs, hardly the 5-year view.
    economy_term = 1.5 * (economy - 0.5) * (1.0 - 0.7 * long_run)

    seniority = features["seniority"]
    category = features["skill_category"]
    is_managerial = _lookup(
        category, {c: float(c == MANAGERIAL) for c in SKILL_CATEGORIES}, "skill_category"
    )
    profile_term = (
        _lookup(seniority, SENIORITY_NEED, "seniority")
        + _lookup(category, CATEGORY_NEED, "skill_category")
        + long_run * _lookup(category, CATEGORY_LONG_HORIZON_SHIFT, "skill_category")
        + is_managerial * _lookup(seniority, LEADERSHIP_MANAGERIAL_BONUS, "seniority")
    )
    return (
        trend_term
        + usage_term
        + gap_term
        + difficulty_term
        + hot_term
        + training_term
        + salary_term
        + economy_term
        + profile_term
    )


def ordinal_probabilities(
    latent: np.ndarray, cutpoints: tuple[float, float], noise_scale: float
) -> np.ndarray:
    """Class probabilities (n, 3) in NEED_LEVELS order from an ordinal logit."""
    low_cut, high_cut = cutpoints
    at_most_low = 1.0 / (1.0 + np.exp(-(low_cut - latent) / noise_scale))
    at_most_medium = 1.0 / (1.0 + np.exp(-(high_cut - latent) / noise_scale))
    probs = np.column_stack([at_most_low, at_most_medium - at_most_low, 1.0 - at_most_medium])
    return np.clip(probs, 0.0, 1.0)


@dataclass(frozen=True)
class NeedModel:
    """The true need model of one generated world; can score any model-input-like frame.

    Monitoring scenarios perturb features (e.g. a trend shock) and call
    :meth:`probabilities` to get the labels' true distribution under the shift.
    """

    role_effect: Mapping[str, float]  # job_role_id -> effect on the latent score
    skill_effect: Mapping[str, float]  # skill_id -> effect on the latent score
    cutpoints: tuple[float, float] = DEFAULT_CUTPOINTS
    noise_scale: float = DEFAULT_NOISE_SCALE

    def latent(self, frame: pd.DataFrame) -> np.ndarray:
        """Latent score per row; ``frame`` needs job_role_id, skill_id and NEED_MODEL_INPUTS."""
        role = _lookup(frame["job_role_id"], self.role_effect, "job_role_id")
        skill = _lookup(frame["skill_id"], self.skill_effect, "skill_id")
        return structural_score(frame) + role + skill

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        """True class probabilities (n, 3), columns in contract.NEED_LEVELS order."""
        return ordinal_probabilities(self.latent(frame), self.cutpoints, self.noise_scale)

    def sample(self, probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw one label per row from its class probabilities (inverse-CDF, vectorised)."""
        uniform = rng.random(len(probabilities))
        cumulative = np.cumsum(probabilities, axis=1)
        index = (uniform[:, None] > cumulative[:, :-1]).sum(axis=1)
        return np.asarray(NEED_LEVELS, dtype=object)[index]


def _check_tables() -> None:
    """Fail at import time if the effect tables stop covering the contract's values."""
    if tuple(SENIORITY_NEED) != SENIORITIES or set(LEADERSHIP_MANAGERIAL_BONUS) != set(SENIORITIES):
        raise ValueError("need-model seniority tables must cover contract.SENIORITIES")
    for table in (CATEGORY_NEED, CATEGORY_LONG_HORIZON_SHIFT):
        if set(table) != set(SKILL_CATEGORIES):
            raise ValueError("need-model category tables must cover every skill category")


_check_tables()
