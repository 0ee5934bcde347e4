"""Deterministic synthetic HR data: the six raw files of docs/data-contract.md plus an oracle.

The world: job roles (families x seniorities, biased skill sets per department), skills
with market trajectories (emerging, stable, legacy), quarterly market and economic
signals, internal usage per (role, skill), and labels sampled from a known latent need
model (:mod:`future_skills_kedro.datagen.need_model`). Because the true class
probabilities are known, the generator reports the Bayes-optimal ("oracle") scores a model
can be judged against.

Everything is vectorised over rows; the only Python loops run over quarters, roles'
catalogue entries or files. Same seed and options give byte-identical files.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.atomic_files import atomic_write, atomic_write_text
from future_skills_kedro.contract import (
    HORIZONS,
    MODEL_INPUT_COLUMNS,
    NEED_LEVELS,
    RAW_FILES,
    SENIORITIES,
    TARGET_COLUMN,
)
from future_skills_kedro.datagen import catalog
from future_skills_kedro.datagen.need_model import (
    DEFAULT_CUTPOINTS,
    DEFAULT_NOISE_SCALE,
    NeedModel,
)

GENERATOR_VERSION = "1"
ORACLE_FILE = "generator_oracle.json"
LAST_QUARTER = "2025Q4"  # newest snapshot when no start quarter is given
TREND_ANCHOR_YEAR = 2024.0  # skill trajectories are defined around this calendar year
TREND_SWING = 1.6  # max move of a skill's trend logit away from its 2024 level
# Spread of the per-role and per-skill effects on the latent need: moderate, so a model
# can learn them from job_role_name / skill_name without them dominating the features.
IDENTITY_EFFECT_SD = 0.25
CORE_SKILL_WEIGHT = 15.0  # how much likelier a family's core skill is than a random one
MAX_SCALED_QUARTERS = 40  # --label-rows grows history up to 10 years, then only roles
CSV_DECIMALS = {
    "trend_score": 4,
    "scarcity_index": 4,
    "hiring_difficulty": 4,
    "avg_salary_k": 2,
    "economic_indicator": 4,
    "internal_usage": 4,
}
_QUARTER_PATTERN = re.compile(r"^(\d{4})-?Q([1-4])$")
_QUARTER_END_DAY = {1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31"}


@dataclass(frozen=True)
class GeneratorConfig:
    """Options of one generated world; equal configs give byte-identical files."""

    seed: int = 42
    n_roles: int = 60
    n_skills: int = len(catalog.SKILLS)
    skills_per_role: int = 15
    n_quarters: int = 16
    start_quarter: str | None = None  # e.g. "2022Q1"; None: the last quarter is LAST_QUARTER
    holdout_quarters: int = 2
    noise_scale: float = DEFAULT_NOISE_SCALE  # ordinal-logit noise; larger = noisier labels

    def __post_init__(self) -> None:
        max_roles = len(catalog.ROLE_FAMILIES) * len(SENIORITIES) * (1 + len(catalog.SITES))
        checks = [
            (1 <= self.n_roles <= max_roles, f"n_roles must be in [1, {max_roles}]"),
            (
                1 <= self.n_skills <= len(catalog.SKILLS),
                f"n_skills must be in [1, {len(catalog.SKILLS)}] (size of the skill catalogue)",
            ),
            (
                1 <= self.skills_per_role <= self.n_skills,
                "skills_per_role must be in [1, n_skills]",
            ),
            (self.holdout_quarters >= 1, "holdout_quarters must be >= 1"),
            (
                self.n_quarters >= self.holdout_quarters + 2,
                "n_quarters must leave the unlabelled newest quarter, the holdout and "
                "at least one training quarter",
            ),
            (self.noise_scale > 0, "noise_scale must be > 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        _parse_quarter(self.first_quarter)

    @property
    def first_quarter(self) -> str:
        """First snapshot quarter as YYYYQn (derived from LAST_QUARTER when not given)."""
        if self.start_quarter is not None:
            year, quarter = _parse_quarter(self.start_quarter)
            return f"{year}Q{quarter}"
        year, quarter = _parse_quarter(LAST_QUARTER)
        index = year * 4 + quarter - 1 - (self.n_quarters - 1)
        return f"{index // 4}Q{index % 4 + 1}"

    @property
    def label_rows(self) -> int:
        """Rows of skill_need_labels.csv: every quarter but the newest, every horizon."""
        return self.n_roles * self.skills_per_role * len(HORIZONS) * (self.n_quarters - 1)

    @classmethod
    def for_label_rows(cls, label_rows: int, **options: Any) -> GeneratorConfig:
        """A config with at least ``label_rows`` label rows, scaling history then roles.

        History grows with the cube root of the volume (a 30x bigger world gets ~3x more
        quarters, capped at MAX_SCALED_QUARTERS) so large worlds stay plausible: more
        roles over a longer period, the same skill catalogue. An explicit ``n_quarters``
        in ``options`` is kept; ``n_roles`` is always derived. None values are ignored.
        """
        options = {k: v for k, v in options.items() if v is not None and k != "n_roles"}
        default = cls()
        quarters = options.pop("n_quarters", None)
        if quarters is None:
            ratio = max(label_rows, 1) / default.label_rows
            scaled = round(default.n_quarters * ratio ** (1 / 3))
            quarters = min(MAX_SCALED_QUARTERS, max(default.n_quarters, scaled))
        per_role = options.get("skills_per_role", default.skills_per_role) * len(HORIZONS)
        roles = max(1, math.ceil(label_rows / (per_role * (quarters - 1))))
        return cls(**options, n_quarters=quarters, n_roles=roles)

    def quarter_ends(self) -> list[str]:
        """ISO quarter-end dates of every snapshot, oldest first."""
        year, quarter = _parse_quarter(self.first_quarter)
        index0 = year * 4 + quarter - 1
        ends = []
        for index in range(index0, index0 + self.n_quarters):
            ends.append(f"{index // 4}-{_QUARTER_END_DAY[index % 4 + 1]}")
        return ends


@dataclass
class GeneratedData:
    """One generated world, in memory."""

    config: GeneratorConfig
    tables: dict[str, pd.DataFrame]  # raw file name (no .csv) -> frame, contract columns
    features: pd.DataFrame  # model-input-like table of the label rows (same row order)
    probabilities: np.ndarray  # true class probabilities (n_labels, 3), NEED_LEVELS order
    need_model: NeedModel
    oracle: dict[str, Any] = field(default_factory=dict)


def _parse_quarter(text: str) -> tuple[int, int]:
    """'2022Q1' or '2022-Q1' -> (2022, 1)."""
    match = _QUARTER_PATTERN.match(text.strip().upper())
    if not match:
        raise ValueError(f"quarter must look like 2022Q1, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _ar1(rng: np.random.Generator, n_steps: int, n_series: int, rho: float, sd: float):
    """Stationary AR(1) noise (n_steps, n_series): slow wiggles around a trajectory."""
    noise = np.empty((n_steps, n_series))
    noise[0] = rng.normal(0.0, sd / math.sqrt(1.0 - rho**2), n_series)
    for step in range(1, n_steps):  # loop over quarters only, vectorised over series
        noise[step] = rho * noise[step - 1] + rng.normal(0.0, sd, n_series)
    return noise


def _round_robin(groups: list[list[int]]) -> list[int]:
    """Interleave groups (first of each, then second of each...) so any prefix is balanced."""
    order = []
    for rank in range(max(len(g) for g in groups)):
        order.extend(g[rank] for g in groups if rank < len(g))
    return order


def _select_roles(n_roles: int, rng: np.random.Generator) -> pd.DataFrame:
    """Pick ``n_roles`` roles balanced over departments and seniorities.

    Within a department each run of 5 consecutive roles covers all seniorities (with a
    shuffled family per seniority); departments are interleaved, so already 40 roles span
    every department at every seniority. Sites are only appended past the base catalogue.
    """
    families_by_dept: list[list[int]] = []
    for dept_index, dept in enumerate(catalog.DEPARTMENTS):
        family_ids = [i for i, f in enumerate(catalog.ROLE_FAMILIES) if f.department == dept.code]
        per_seniority = [rng.permutation(family_ids) for _ in SENIORITIES]
        ordered = []
        for rank in range(len(family_ids)):
            for step in range(len(SENIORITIES)):
                seniority = (step + dept_index) % len(SENIORITIES)
                ordered.append(int(per_seniority[seniority][rank]) * len(SENIORITIES) + seniority)
        families_by_dept.append(ordered)
    base_order = _round_robin(families_by_dept)  # codes: family * 5 + seniority

    sites = (None, *catalog.SITES)
    codes = [(site, code) for site in sites for code in base_order][:n_roles]
    # Sort the chosen roles into catalogue order so ids read department by department.
    codes.sort(key=lambda sc: (sites.index(sc[0]), sc[1]))
    dept_names = {d.code: d.name for d in catalog.DEPARTMENTS}
    rows = []
    for site, code in codes:
        family = catalog.ROLE_FAMILIES[code // len(SENIORITIES)]
        seniority = SENIORITIES[code % len(SENIORITIES)]
        if seniority == "manager":
            name = family.manager_title
        elif seniority == "mid":
            name = family.title
        else:
            name = f"{seniority.capitalize()} {family.title}"
        rows.append(
            {
                "job_role_name": name if site is None else f"{name} ({site})",
                "department": dept_names[family.department],
                "seniority": seniority,
                "family": code // len(SENIORITIES),
                "department_code": family.department,
            }
        )
    roles = pd.DataFrame(rows)
    width = max(4, len(str(n_roles)))
    roles.insert(0, "job_role_id", [f"JR{i:0{width}d}" for i in range(1, n_roles + 1)])
    return roles


def _select_skills(n_skills: int, rng: np.random.Generator) -> pd.DataFrame:
    """Pick ``n_skills`` skills, categories interleaved so every prefix is balanced."""
    by_category = [
        [
            int(i)
            for i in rng.permutation([j for j, s in enumerate(catalog.SKILLS) if s.category == c])
        ]
        for c in catalog.SKILL_CATEGORIES
    ]
    chosen = sorted(_round_robin(by_category)[:n_skills])
    skills = pd.DataFrame(
        {
            "skill_name": [catalog.SKILLS[i].name for i in chosen],
            "skill_category": [catalog.SKILLS[i].category for i in chosen],
            "trajectory": [catalog.SKILLS[i].trajectory for i in chosen],
            "domains": [catalog.SKILLS[i].domains for i in chosen],
        }
    )
    width = max(4, len(str(n_skills)))
    skills.insert(0, "skill_id", [f"SK{i:0{width}d}" for i in range(1, n_skills + 1)])
    return skills


def _assign_skills(
    roles: pd.DataFrame, skills: pd.DataFrame, per_role: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each role's relevant skills: (role index, skill index) arrays, sorted.

    Weight = the family's core skills (a Frontend Engineer has React) x the department's
    taste for the category x the skill's domain fit x seniority (leads and managers need
    managerial skills) x a little per-family randomness. Sampling without replacement via
    the Gumbel top-k trick keeps it vectorised.
    """
    categories = list(catalog.SKILL_CATEGORIES)
    category_index = skills["skill_category"].map(categories.index).to_numpy()
    dept_codes = roles["department_code"].to_numpy()
    category_weight = np.array([catalog.DEPARTMENT_CATEGORY_WEIGHTS[d] for d in dept_codes])[
        :, category_index
    ]
    domains = skills["domains"].tolist()
    domain_fit = np.array(
        [[1.0 if not dom else (4.0 if d in dom else 0.15) for dom in domains] for d in dept_codes]
    )
    skill_position = {name: i for i, name in enumerate(skills["skill_name"])}
    core = np.ones((len(catalog.ROLE_FAMILIES), len(skills)))
    for family_index, family in enumerate(catalog.ROLE_FAMILIES):
        for name in family.core_skill_names():
            if name in skill_position:  # the sample may not include every catalogue skill
                core[family_index, skill_position[name]] = CORE_SKILL_WEIGHT
    family_affinity = core * rng.gamma(2.0, 0.5, size=core.shape)

    seniority = roles["seniority"].map(SENIORITIES.index).to_numpy()
    seniority_weight = np.ones((len(roles), len(skills)))
    is_managerial = category_index == categories.index(catalog.MANAGERIAL)
    is_soft = category_index == categories.index(catalog.SOFT)
    seniority_weight[:, is_managerial] = np.array([0.3, 0.6, 2.0, 12.0, 50.0])[seniority][:, None]
    seniority_weight[:, is_soft] = np.array([1.0, 1.0, 1.1, 1.3, 1.5])[seniority][:, None]
    weight = (
        category_weight
        * domain_fit
        * family_affinity[roles["family"].to_numpy()]
        * seniority_weight
    )
    keys = np.log(weight) + rng.gumbel(size=weight.shape)
    top = np.argpartition(-keys, per_role - 1, axis=1)[:, :per_role]
    top.sort(axis=1)
    role_index = np.repeat(np.arange(len(roles)), per_role)
    return role_index, top.ravel()


def _market_signals(
    skills: pd.DataFrame, years: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per (quarter, skill) market signals, arrays of shape (n_quarters, n_skills).

    trend_score follows a logistic trajectory (rising for emerging skills, falling for
    legacy ones) plus AR(1) noise; scarcity and hiring difficulty are driven by it;
    salaries depend on category, scarcity and wage inflation.
    """
    n_skills = len(skills)
    trajectory = skills["trajectory"].to_numpy()
    is_emerging = trajectory == catalog.EMERGING
    is_legacy = trajectory == catalog.LEGACY
    slope = np.where(
        is_emerging,
        rng.uniform(0.45, 0.9, n_skills),
        np.where(is_legacy, -rng.uniform(0.3, 0.6, n_skills), rng.normal(0.0, 0.06, n_skills)),
    )
    level = np.where(
        is_emerging,
        rng.normal(0.3, 0.5, n_skills),
        np.where(is_legacy, rng.normal(-0.6, 0.5, n_skills), rng.normal(0.0, 0.6, n_skills)),
    )
    # trend_score is a relative popularity index: what emerging skills gain, the rest of
    # the market loses, so the average skill neither booms nor busts over the years (and
    # class shares stay stable over long histories). Trajectories saturate: a skill's
    # rise or decline levels off and popularity never reaches exactly 0 or 1.
    t = years[:, None] - TREND_ANCHOR_YEAR

    def trajectory_logit(when: np.ndarray) -> np.ndarray:
        move = TREND_SWING * np.tanh(slope * when / TREND_SWING)
        return level + move - move.mean(axis=1, keepdims=True)

    trend_logit = trajectory_logit(t) + _ar1(rng, len(years), n_skills, rho=0.6, sd=0.15)

    categories = list(catalog.SKILL_CATEGORIES)
    category_index = skills["skill_category"].map(categories.index).to_numpy()
    scarcity_offset = np.array([0.1, 0.4, 0.3, -0.5, -0.3, -0.1])[category_index]
    scarcity_logit = (
        0.8 * trend_logit
        + scarcity_offset
        + rng.normal(0.0, 0.4, n_skills)
        + rng.normal(0.0, 0.15, trend_logit.shape)
    )
    difficulty_logit = (
        0.9 * scarcity_logit
        + rng.normal(0.0, 0.3, n_skills)
        + rng.normal(0.0, 0.2, trend_logit.shape)
    )
    scarcity = _sigmoid(scarcity_logit)
    base_salary = np.array([80.0, 88.0, 85.0, 58.0, 68.0, 82.0])[category_index]
    salary = (
        base_salary
        * np.exp(rng.normal(0.0, 0.1, n_skills))
        * (0.75 + 0.6 * scarcity)
        * 1.02**t  # wage inflation
        * np.exp(rng.normal(0.0, 0.015, trend_logit.shape))
    )
    return {
        "trend_score": _sigmoid(trend_logit),
        "scarcity_index": scarcity,
        "hiring_difficulty": _sigmoid(difficulty_logit),
        "avg_salary_k": np.clip(salary, 30.0, 250.0),
        # Internal adoption follows the market with a ~6-month lag (smooth part only).
        "lagged_trend_logit": trajectory_logit(t - 0.5),
    }


def _economic_indicators(years: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per (quarter, department) indicator: a shared ~5.5-year cycle, department phase and
    level, a slow random-walk drift and quarterly noise."""
    n_depts = len(catalog.DEPARTMENTS)
    phase = rng.uniform(0.0, 2 * math.pi) + rng.normal(0.0, 0.4, n_depts)
    cycle = 0.7 * np.sin(2 * math.pi * (years[:, None] - TREND_ANCHOR_YEAR) / 5.5 + phase)
    drift = np.cumsum(rng.normal(0.0, 0.06, (len(years), n_depts)), axis=0)
    logit = rng.normal(0.0, 0.25, n_depts) + cycle + drift + rng.normal(0.0, 0.08, cycle.shape)
    return _sigmoid(logit)


def _internal_signals(
    roles: pd.DataFrame,
    skills: pd.DataFrame,
    *,
    pair_role: np.ndarray,
    pair_skill: np.ndarray,
    market: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Per (quarter, pair) internal usage in [0,1] and training requests (int >= 0)."""
    n_pairs = len(pair_role)
    n_quarters = market["trend_score"].shape[0]
    seniority = roles["seniority"].map(SENIORITIES.index).to_numpy()[pair_role]
    is_managerial = (skills["skill_category"].to_numpy() == catalog.MANAGERIAL)[pair_skill]
    # Leaders use managerial skills daily, juniors hardly.
    managerial_usage = np.array([-0.6, -0.2, 0.2, 0.6, 0.8])[seniority] * is_managerial
    base = rng.normal(-0.2, 0.8, n_pairs) + managerial_usage
    usage_logit = (
        base
        + 0.6 * market["lagged_trend_logit"][:, pair_skill]
        + _ar1(rng, n_quarters, n_pairs, rho=0.8, sd=0.12)
    )
    usage = _sigmoid(usage_logit)

    # Juniors are many and ask for training, managers are few.
    headcount = np.array([1.6, 1.3, 1.0, 0.6, 0.4])[seniority] * rng.lognormal(0.0, 0.4, n_pairs)
    trend = market["trend_score"][:, pair_skill]
    rate = headcount * np.exp(-0.2 + 1.8 * trend + 1.0 * (1.0 - usage))
    return usage, rng.poisson(rate)


def _split_quarters(config: GeneratorConfig) -> tuple[list[str], list[str], str]:
    """(train label quarters, holdout label quarters, unlabelled newest quarter)."""
    quarters = config.quarter_ends()
    labelled = quarters[:-1]
    return labelled[: -config.holdout_quarters], labelled[-config.holdout_quarters :], quarters[-1]


def generate(config: GeneratorConfig | None = None) -> GeneratedData:
    """Generate one world in memory: raw tables, label features, true probabilities, oracle."""
    config = config or GeneratorConfig()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(7)]
    rng_roles, rng_skills, rng_market, rng_econ, rng_internal, rng_effects, rng_labels = streams

    roles = _select_roles(config.n_roles, rng_roles)
    skills = _select_skills(config.n_skills, rng_skills)
    pair_role, pair_skill = _assign_skills(roles, skills, config.skills_per_role, rng_roles)

    dates = config.quarter_ends()
    n_quarters = len(dates)
    years = np.array([int(d[:4]) + (int(d[5:7]) - 1.5) / 12.0 for d in dates])  # mid-quarter
    market = _market_signals(skills, years, rng_market)
    economy = _economic_indicators(years, rng_econ)
    usage, training = _internal_signals(
        roles,
        skills,
        pair_role=pair_role,
        pair_skill=pair_skill,
        market=market,
        rng=rng_internal,
    )

    # Round to the written precision first: the need model must see exactly what the CSVs
    # (and so the trained model) see, or the oracle would use information nobody has.
    market = {k: np.round(v, CSV_DECIMALS[k]) for k, v in market.items() if k in CSV_DECIMALS}
    economy = np.round(economy, CSV_DECIMALS["economic_indicator"])
    usage = np.round(usage, CSV_DECIMALS["internal_usage"])

    date_col = np.asarray(dates, dtype=object)
    n_skills, n_depts, n_pairs = len(skills), len(catalog.DEPARTMENTS), len(pair_role)
    market_signals = pd.DataFrame(
        {
            "skill_id": np.tile(skills["skill_id"].to_numpy(), n_quarters),
            "as_of_date": np.repeat(date_col, n_skills),
            **{k: market[k].ravel() for k in RAW_FILES["market_signals"][1][2:]},
        }
    )
    dept_names = sorted(d.name for d in catalog.DEPARTMENTS)
    dept_order = [[d.name for d in catalog.DEPARTMENTS].index(n) for n in dept_names]
    economic_indicators = pd.DataFrame(
        {
            "department": np.tile(np.asarray(dept_names, dtype=object), n_quarters),
            "as_of_date": np.repeat(date_col, n_depts),
            "economic_indicator": economy[:, dept_order].ravel(),
        }
    )
    internal_signals = pd.DataFrame(
        {
            "job_role_id": np.tile(roles["job_role_id"].to_numpy()[pair_role], n_quarters),
            "skill_id": np.tile(skills["skill_id"].to_numpy()[pair_skill], n_quarters),
            "as_of_date": np.repeat(date_col, n_pairs),
            "internal_usage": usage.ravel(),
            "training_requests": training.ravel().astype(np.int64),
        }
    )

    # Label rows: every pair in every quarter but the newest (production scores that one),
    # each at the three horizons; ordered by date, role, skill, horizon.
    n_labelled = n_quarters - 1
    quarter_of_row = np.repeat(np.arange(n_labelled), n_pairs * len(HORIZONS))
    pair_of_row = np.tile(np.repeat(np.arange(n_pairs), len(HORIZONS)), n_labelled)
    horizon = np.tile(np.asarray(HORIZONS), n_labelled * n_pairs)
    role_of_row, skill_of_row = pair_role[pair_of_row], pair_skill[pair_of_row]
    dept_of_role = roles["department"].map([d.name for d in catalog.DEPARTMENTS].index).to_numpy()
    features = pd.DataFrame(
        {
            "job_role_id": roles["job_role_id"].to_numpy()[role_of_row],
            "skill_id": skills["skill_id"].to_numpy()[skill_of_row],
            "as_of_date": date_col[quarter_of_row],
            "job_role_name": roles["job_role_name"].to_numpy()[role_of_row],
            "department": roles["department"].to_numpy()[role_of_row],
            "seniority": roles["seniority"].to_numpy()[role_of_row],
            "skill_name": skills["skill_name"].to_numpy()[skill_of_row],
            "skill_category": skills["skill_category"].to_numpy()[skill_of_row],
            "horizon_years": horizon.astype(np.int64),
            **{
                k: market[k][quarter_of_row, skill_of_row]
                for k in ("trend_score", "scarcity_index", "hiring_difficulty", "avg_salary_k")
            },
            "economic_indicator": economy[quarter_of_row, dept_of_role[role_of_row]],
            "internal_usage": usage[quarter_of_row, pair_of_row],
            "training_requests": training[quarter_of_row, pair_of_row].astype(np.int64),
        }
    )
    need_model = NeedModel(
        role_effect=dict(
            zip(
                roles["job_role_id"],
                rng_effects.normal(0.0, IDENTITY_EFFECT_SD, len(roles)),
                strict=True,
            )
        ),
        skill_effect=dict(
            zip(
                skills["skill_id"],
                rng_effects.normal(0.0, IDENTITY_EFFECT_SD, len(skills)),
                strict=True,
            )
        ),
        cutpoints=DEFAULT_CUTPOINTS,
        noise_scale=config.noise_scale,
    )
    probabilities = need_model.probabilities(features)
    features[TARGET_COLUMN] = need_model.sample(probabilities, rng_labels)
    features = features[list(MODEL_INPUT_COLUMNS)]

    tables = {
        "job_roles": roles,
        "skills": skills,
        "market_signals": market_signals,
        "economic_indicators": economic_indicators,
        "internal_signals": internal_signals,
        "skill_need_labels": features,
    }
    tables = {name: frame[list(RAW_FILES[name][1])].copy() for name, frame in tables.items()}
    data = GeneratedData(config, tables, features, probabilities, need_model)
    data.oracle = oracle_report(data)
    return data


def _scores(label_index: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Bayes-optimal (argmax of true probabilities) scores against the sampled labels.

    Works on class indices (NEED_LEVELS order): sklearn on 1M strings is 10x slower.
    """
    from sklearn.metrics import f1_score

    classes = np.arange(len(NEED_LEVELS))
    predicted = probabilities.argmax(axis=1)
    true_class_probability = probabilities[np.arange(len(label_index)), label_index]
    shares = np.bincount(label_index, minlength=len(NEED_LEVELS)) / max(len(label_index), 1)
    macro_f1 = f1_score(label_index, predicted, labels=classes, average="macro")
    return {
        "rows": len(label_index),
        "oracle_accuracy": round(float((predicted == label_index).mean()), 6),
        "oracle_macro_f1": round(float(macro_f1), 6),
        "oracle_log_loss": round(
            float(-np.log(np.clip(true_class_probability, 1e-15, 1)).mean()), 6
        ),
        "expected_accuracy": round(float(probabilities.max(axis=1).mean()), 6),
        "class_shares": {c: round(float(shares[i]), 6) for i, c in enumerate(NEED_LEVELS)},
    }


def oracle_report(data: GeneratedData) -> dict[str, Any]:
    """Oracle figures for the time-based split (holdout = newest labelled quarters)."""
    config = data.config
    train_quarters, holdout_quarters, unlabelled = _split_quarters(config)
    labels = pd.Categorical(data.features[TARGET_COLUMN], categories=NEED_LEVELS).codes
    in_holdout = data.features["as_of_date"].isin(holdout_quarters).to_numpy()
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": config.seed,
        "options": asdict(config) | {"first_quarter": config.first_quarter},
        "need_model": {
            "cutpoints": list(data.need_model.cutpoints),
            "noise_scale": data.need_model.noise_scale,
        },
        "quarters": {
            "first": config.quarter_ends()[0],
            "last": unlabelled,
            "train_range": [train_quarters[0], train_quarters[-1]],
            "holdout": holdout_quarters,
            "unlabelled": unlabelled,
        },
        "row_counts": {f"{name}.csv": len(frame) for name, frame in data.tables.items()},
        "overall": _scores(labels, data.probabilities),
        "train": _scores(labels[~in_holdout], data.probabilities[~in_holdout]),
        "holdout": _scores(labels[in_holdout], data.probabilities[in_holdout]),
        "max_probability_share_below_0_99": round(
            float((data.probabilities.max(axis=1) < 0.99).mean()), 6
        ),
    }


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Floats as fixed-precision strings so the bytes never depend on float repr."""
    out = frame.copy()
    for column, decimals in CSV_DECIMALS.items():
        if column in out:
            out[column] = np.char.mod(f"%.{decimals}f", out[column].to_numpy(dtype=float))
    return out


def write(data: GeneratedData, output_dir: str | Path) -> dict[str, Path]:
    """Write the six raw CSVs and the oracle JSON into ``output_dir``; returns the paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in data.tables.items():
        path = output_dir / f"{name}.csv"
        csv = _csv_ready(frame)
        atomic_write(
            path,
            lambda tmp, csv=csv: csv.to_csv(
                tmp, index=False, lineterminator="\n", encoding="utf-8"
            ),
        )
        paths[name] = path
    oracle_path = output_dir / ORACLE_FILE
    text = json.dumps(data.oracle, indent=2, sort_keys=True) + "\n"
    atomic_write_text(oracle_path, text)
    paths["oracle"] = oracle_path
    return paths
