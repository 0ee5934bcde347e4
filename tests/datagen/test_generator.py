"""Tests of the synthetic HR data generator: determinism, contract, realism, oracle, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.contract import (
    HORIZONS,
    MODEL_INPUT_COLUMNS,
    NEED_LEVELS,
    RAW_FILES,
    SENIORITIES,
)
from future_skills_kedro.datagen import (
    ORACLE_FILE,
    GeneratorConfig,
    catalog,
    generate,
    write,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SMALL = GeneratorConfig(seed=3, n_roles=12, n_skills=60, skills_per_role=8, n_quarters=8)
MEDIUM = GeneratorConfig(seed=11, n_roles=40, n_quarters=12)  # ~20k label rows
UNIT_COLUMNS = (
    "trend_score",
    "scarcity_index",
    "hiring_difficulty",
    "economic_indicator",
    "internal_usage",
)
OUTPUT_FILES = [f"{name}.csv" for name in RAW_FILES] + [ORACLE_FILE]


def _read_raw(folder: Path) -> dict[str, pd.DataFrame]:
    """The written CSVs as a reader (e.g. the data_engineering pipeline) sees them."""
    return {
        name: pd.read_csv(folder / f"{name}.csv", dtype={"job_role_id": str, "skill_id": str})
        for name in RAW_FILES
    }


def _model_input_from_raw(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Join the raw files into the model-input table of docs/data-contract.md."""
    frame = (
        raw["skill_need_labels"]
        .merge(raw["job_roles"], on="job_role_id", how="left")
        .merge(raw["skills"], on="skill_id", how="left")
        .merge(raw["market_signals"], on=["skill_id", "as_of_date"], how="left")
        .merge(raw["economic_indicators"], on=["department", "as_of_date"], how="left")
        .merge(raw["internal_signals"], on=["job_role_id", "skill_id", "as_of_date"], how="left")
    )
    return frame[list(MODEL_INPUT_COLUMNS)]


@pytest.fixture(scope="module")
def small_data():
    return generate(SMALL)


@pytest.fixture(scope="module")
def small_raw(small_data, tmp_path_factory) -> dict[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("small")
    write(small_data, folder)
    return _read_raw(folder)


@pytest.fixture(scope="module")
def medium_data():
    return generate(MEDIUM)


@pytest.fixture(scope="module")
def default_data():
    return generate(GeneratorConfig())


# --- determinism --------------------------------------------------------------------------


def test_same_seed_and_options_give_byte_identical_files(tmp_path):
    write(generate(SMALL), tmp_path / "a")
    write(generate(SMALL), tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seed_gives_different_data(tmp_path):
    write(generate(SMALL), tmp_path / "a")
    write(generate(GeneratorConfig(**{**asdict(SMALL), "seed": 4})), tmp_path / "b")
    for name in ("market_signals.csv", "internal_signals.csv", "skill_need_labels.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


def test_committed_sample_is_reproducible_from_its_oracle_options(tmp_path):
    """data/01_raw must be exactly what the generator produces with the recorded options."""
    raw_dir = PROJECT_ROOT / "data" / "01_raw"
    oracle_path = raw_dir / ORACLE_FILE
    if not oracle_path.exists():
        pytest.skip("no committed sample")
    options = json.loads(oracle_path.read_text(encoding="utf-8"))["options"]
    options.pop("first_quarter")
    write(generate(GeneratorConfig(**options)), tmp_path)
    for name in OUTPUT_FILES:
        assert (tmp_path / name).read_bytes() == (raw_dir / name).read_bytes(), name


# --- contract -----------------------------------------------------------------------------


def test_files_have_the_contract_columns_in_order(small_data, tmp_path):
    paths = write(small_data, tmp_path)
    assert sorted(p.name for p in paths.values()) == sorted(OUTPUT_FILES)
    for name, (_, columns) in RAW_FILES.items():
        header = (tmp_path / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(columns), name
        assert list(small_data.tables[name].columns) == list(columns), name


def _assert_strictly_valid(raw: dict[str, pd.DataFrame]) -> None:
    """No duplicate keys, no missing values, every value in its contract range."""
    for name, (keys, _) in RAW_FILES.items():
        frame = raw[name]
        assert not frame.duplicated(list(keys)).any(), name
        assert not frame.isna().any().any(), name
    market, internal = raw["market_signals"], raw["internal_signals"]
    econ, labels = raw["economic_indicators"], raw["skill_need_labels"]
    for frame in (market, internal, econ):
        for column in set(UNIT_COLUMNS) & set(frame.columns):
            assert frame[column].between(0.0, 1.0).all(), column
    assert market["avg_salary_k"].between(30, 250).all()  # > 0 and plausible, in k
    assert pd.api.types.is_integer_dtype(internal["training_requests"])
    assert (internal["training_requests"] >= 0).all()
    assert set(labels["horizon_years"]) == set(HORIZONS)
    assert set(labels["future_need_level"]) == set(NEED_LEVELS)
    assert set(raw["job_roles"]["seniority"]) <= set(SENIORITIES)
    assert raw["job_roles"]["job_role_name"].is_unique
    assert raw["skills"]["skill_name"].is_unique
    for name in ("market_signals", "economic_indicators", "internal_signals", "skill_need_labels"):
        dates = pd.to_datetime(raw[name]["as_of_date"], format="%Y-%m-%d")
        assert dates.dt.is_quarter_end.all(), name
    model_input = _model_input_from_raw(raw)
    assert not model_input.isna().any().any()  # every label finds its signals


def test_keys_are_unique_and_values_in_range(small_raw):
    _assert_strictly_valid(small_raw)


def test_committed_sample_passes_strict_validation():
    raw_dir = PROJECT_ROOT / "data" / "01_raw"
    if not (raw_dir / ORACLE_FILE).exists():
        pytest.skip("no committed sample")
    assert sum((raw_dir / name).stat().st_size for name in OUTPUT_FILES) < 5_000_000
    _assert_strictly_valid(_read_raw(raw_dir))


def test_dates_are_iso_quarter_ends(small_raw):
    expected = SMALL.quarter_ends()
    assert expected[0] == "2024-03-31" and expected[-1] == "2025-12-31"
    for name in ("market_signals", "economic_indicators", "internal_signals"):
        assert sorted(set(small_raw[name]["as_of_date"])) == expected, name
    dates = pd.to_datetime(small_raw["market_signals"]["as_of_date"], format="%Y-%m-%d")
    assert dates.dt.is_quarter_end.all()


def test_signals_cover_every_key_a_label_needs(small_raw):
    model_input = _model_input_from_raw(small_raw)
    assert len(model_input) == len(small_raw["skill_need_labels"])
    assert not model_input.isna().any().any()
    pairs = small_raw["internal_signals"].groupby("as_of_date").size()
    assert (pairs == SMALL.n_roles * SMALL.skills_per_role).all()


def test_newest_quarter_has_no_labels_and_others_have_all_horizons(small_raw):
    labels = small_raw["skill_need_labels"]
    quarters = SMALL.quarter_ends()
    assert quarters[-1] not in set(labels["as_of_date"])
    assert sorted(set(labels["as_of_date"])) == quarters[:-1]
    per_key = labels.groupby(["job_role_id", "skill_id", "as_of_date"])["horizon_years"]
    assert (per_key.nunique() == len(HORIZONS)).all()
    assert len(labels) == SMALL.label_rows


# --- realism ------------------------------------------------------------------------------


def test_default_world_is_realistic(default_data):
    roles, skills = default_data.tables["job_roles"], default_data.tables["skills"]
    assert len(roles) >= 40 and roles["department"].nunique() >= 6
    assert set(roles["seniority"]) == set(SENIORITIES)
    assert (roles.groupby("department")["seniority"].nunique() == len(SENIORITIES)).all()
    assert len(skills) >= 120 and skills["skill_category"].nunique() >= 6
    assert {"Kubernetes", "Prompt Engineering", "Negotiation"} <= set(skills["skill_name"])
    internal = default_data.tables["internal_signals"]
    dates = sorted(set(internal["as_of_date"]))
    assert (dates[0], dates[-1], len(dates)) == ("2022-03-31", "2025-12-31", 16)
    per_role = internal[internal["as_of_date"] == dates[0]].groupby("job_role_id").size()
    assert (per_role == 15).all()
    assert 30_000 <= len(default_data.tables["skill_need_labels"]) <= 45_000


def test_roles_get_skills_of_their_department(default_data):
    """A Data & Analytics role holds mostly Data & AI skills, a Finance role mostly business."""
    pairs = (
        default_data.tables["internal_signals"]
        .drop_duplicates(["job_role_id", "skill_id"])
        .merge(default_data.tables["job_roles"], on="job_role_id")
        .merge(default_data.tables["skills"], on="skill_id")
    )
    shares = pd.crosstab(pairs["department"], pairs["skill_category"], normalize="index")
    assert shares.loc["Data & Analytics", catalog.DATA_AI] > 0.4
    assert shares.loc["Cloud & Infrastructure", catalog.CLOUD] > 0.4
    assert shares.loc["Finance", catalog.BUSINESS] > 0.3
    managerial = pairs.assign(is_mgmt=pairs["skill_category"] == catalog.MANAGERIAL)
    by_seniority = managerial.groupby("seniority")["is_mgmt"].mean()
    assert by_seniority["manager"] > by_seniority["junior"]


def test_market_signals_follow_skill_trajectories(default_data):
    market = default_data.tables["market_signals"].merge(
        default_data.tables["skills"], on="skill_id"
    )
    trajectory = {s.name: s.trajectory for s in catalog.SKILLS}
    market["trajectory"] = market["skill_name"].map(trajectory)
    first, last = market["as_of_date"].min(), market["as_of_date"].max()
    mean_trend = market.pivot_table("trend_score", "trajectory", "as_of_date")
    assert mean_trend.loc[catalog.EMERGING, last] > mean_trend.loc[catalog.EMERGING, first] + 0.1
    assert mean_trend.loc[catalog.LEGACY, last] < mean_trend.loc[catalog.LEGACY, first] - 0.1
    assert market["trend_score"].corr(market["scarcity_index"]) > 0.5
    assert market["scarcity_index"].corr(market["hiring_difficulty"]) > 0.5
    internal = default_data.tables["internal_signals"]
    assert internal["training_requests"].mean() > 0.5


# --- labels and oracle --------------------------------------------------------------------


def test_class_shares_are_balanced(medium_data):
    shares = medium_data.features["future_need_level"].value_counts(normalize=True)
    assert set(shares.index) == set(NEED_LEVELS)
    assert shares.between(0.20, 0.45).all(), shares.to_dict()
    for split in ("overall", "train", "holdout"):
        split_shares = medium_data.oracle[split]["class_shares"]
        assert all(0.20 <= v <= 0.45 for v in split_shares.values()), (split, split_shares)


def test_oracle_figures_are_present_and_sane(medium_data):
    oracle = medium_data.oracle
    assert oracle["seed"] == MEDIUM.seed and oracle["options"]["n_roles"] == MEDIUM.n_roles
    for split in ("train", "holdout"):
        figures = oracle[split]
        assert 0.4 < figures["oracle_accuracy"] < 0.9, split
        assert abs(figures["oracle_macro_f1"] - figures["oracle_accuracy"]) < 0.1, split
        assert abs(figures["expected_accuracy"] - figures["oracle_accuracy"]) < 0.05, split
    quarters = MEDIUM.quarter_ends()
    assert oracle["quarters"]["holdout"] == quarters[-3:-1]
    assert oracle["quarters"]["unlabelled"] == quarters[-1]
    assert oracle["holdout"]["rows"] + oracle["train"]["rows"] == MEDIUM.label_rows
    assert oracle["row_counts"]["skill_need_labels.csv"] == MEDIUM.label_rows


def test_labels_are_sampled_not_a_rule_on_the_features(medium_data):
    probabilities = medium_data.probabilities
    assert probabilities.shape == (MEDIUM.label_rows, len(NEED_LEVELS))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.max(axis=1) < 0.99).mean() > 0.9
    labels = medium_data.features["future_need_level"].to_numpy()
    argmax = np.asarray(NEED_LEVELS)[probabilities.argmax(axis=1)]
    assert 0.5 < (labels == argmax).mean() < 0.9


def test_true_probabilities_depend_only_on_written_values(small_data, small_raw):
    """The oracle sees exactly what the CSVs hold: a model has the same information."""
    model_input = _model_input_from_raw(small_raw)
    recomputed = small_data.need_model.probabilities(model_input)
    np.testing.assert_allclose(recomputed, small_data.probabilities, atol=1e-9)
    assert (model_input["future_need_level"] == small_data.features["future_need_level"]).all()


def test_horizon_changes_what_drives_need(medium_data):
    """Long horizons follow the market trend more, short ones today's internal usage."""
    frame = medium_data.features.assign(
        expected=medium_data.probabilities @ np.arange(len(NEED_LEVELS))
    )
    by_horizon = frame.groupby("horizon_years")
    trend_corr = by_horizon.apply(lambda g: g["expected"].corr(g["trend_score"]))
    usage_corr = by_horizon.apply(lambda g: g["expected"].corr(g["internal_usage"]))
    assert trend_corr[5] > trend_corr[1]
    assert usage_corr[1] > usage_corr[5]


# --- scaling and configuration ------------------------------------------------------------


def test_label_rows_option_reaches_the_target():
    big = GeneratorConfig.for_label_rows(1_000_000)
    assert big.label_rows >= 1_000_000 and big.label_rows < 1_010_000
    assert big.n_quarters > GeneratorConfig().n_quarters
    small = GeneratorConfig.for_label_rows(5_000, seed=1, n_quarters=6)
    assert small.n_quarters == 6 and small.seed == 1
    data = generate(small)
    assert len(data.tables["skill_need_labels"]) == small.label_rows >= 5_000


@pytest.mark.parametrize(
    "options",
    [
        {"n_roles": 0},
        {"n_skills": len(catalog.SKILLS) + 1},
        {"skills_per_role": 300},
        {"n_quarters": 3, "holdout_quarters": 2},
        {"start_quarter": "2022-03"},
        {"noise_scale": 0.0},
    ],
)
def test_invalid_options_are_rejected(options):
    with pytest.raises(ValueError):
        GeneratorConfig(**options)


def test_start_quarter_sets_the_dates():
    config = GeneratorConfig(n_quarters=5, start_quarter="2019q4")
    assert config.quarter_ends() == [
        "2019-12-31",
        "2020-03-31",
        "2020-06-30",
        "2020-09-30",
        "2020-12-31",
    ]


# --- CLI ----------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "future_skills_kedro.datagen", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_help():
    result = _cli("--help")
    assert result.returncode == 0
    for option in ("--seed", "--output-dir", "--label-rows", "--holdout-quarters", "--roles"):
        assert option in result.stdout


def test_cli_writes_the_files(tmp_path):
    result = _cli(
        "--seed",
        "5",
        "--output-dir",
        str(tmp_path),
        "--roles",
        "10",
        "--skills",
        "50",
        "--skills-per-role",
        "6",
        "--quarters",
        "6",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["row_counts"]["skill_need_labels.csv"] == 10 * 6 * 3 * 5
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(OUTPUT_FILES)
    oracle = json.loads((tmp_path / ORACLE_FILE).read_text(encoding="utf-8"))
    assert oracle["seed"] == 5 and oracle["options"]["holdout_quarters"] == 2


def test_cli_rejects_bad_options(tmp_path):
    result = _cli("--output-dir", str(tmp_path), "--quarters", "2")
    assert result.returncode == 2
    assert "n_quarters" in result.stderr
    assert not list(tmp_path.iterdir())
