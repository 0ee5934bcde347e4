"""As-of joins of the shared feature builder (training's and inference's one feature path)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.contract import MODEL_INPUT_COLUMNS, TARGET_COLUMN
from future_skills_kedro.datagen import GeneratorConfig, generate
from future_skills_kedro.features import (
    build_feature_table,
    missing_feature_reasons,
    missing_signal_reasons,
)
from future_skills_kedro.pipelines.data_engineering.schemas import model_input_schema
from tests.pipelines.data_engineering.raw_tables import schema_checked, valid_raw_tables

SOURCES = ("job_roles", "skills", "market_signals", "economic_indicators", "internal_signals")


@pytest.fixture
def sources() -> dict[str, pd.DataFrame]:
    tables = schema_checked(valid_raw_tables())
    return {name: tables[name] for name in SOURCES}


def _keys(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["job_role_id", "skill_id", "horizon_years", "as_of_date"])


def test_label_between_two_signals_takes_the_earlier_one(sources):
    # S1 market signals at 2021-12-31 (0.10) and 2022-06-30 (0.60).
    features = build_feature_table(
        _keys(("R1", "S1", 1, "2022-03-31"), ("R1", "S1", 3, "2022-06-30")), **sources
    )
    assert features["trend_score"].tolist() == [0.10, 0.60]  # earlier; exact date matches
    assert features["avg_salary_k"].tolist() == [100.0, 120.0]
    # Economic indicator by the role's department (Data: 0.55 then 0.65).
    assert features["economic_indicator"].tolist() == [0.55, 0.65]
    # Internal signals by (role, skill): only 2021-12-31.
    assert features["internal_usage"].tolist() == [0.30, 0.30]
    assert features["training_requests"].tolist() == [4.0, 4.0]
    assert features[["job_role_name", "department", "seniority"]].iloc[0].tolist() == [
        "Data Scientist",
        "Data",
        "senior",
    ]
    assert features[["skill_name", "skill_category"]].iloc[0].tolist() == ["Python", "programming"]


def test_feature_rows_keep_key_order_columns_and_dtypes(sources):
    keys = _keys(
        ("R2", "S1", 5, "2022-06-30"),
        ("R1", "S2", 1, "2022-03-31"),
        ("R1", "S1", 3, "2021-12-31"),
    )
    features = build_feature_table(keys, **sources)
    assert tuple(features.columns) == tuple(c for c in MODEL_INPUT_COLUMNS if c != TARGET_COLUMN)
    assert features[["job_role_id", "skill_id"]].values.tolist() == [
        ["R2", "S1"],
        ["R1", "S2"],
        ["R1", "S1"],
    ]
    assert features["economic_indicator"].tolist() == [0.45, 0.55, 0.55]
    model_input_schema(with_target=False, allow_missing_features=False).validate(features)


def test_no_signal_at_or_before_the_date_leaves_features_missing(sources):
    features = build_feature_table(
        _keys(("R1", "S1", 1, "2021-09-30"), ("R9", "S1", 1, "2022-03-31")), **sources
    )
    assert np.isnan(features.loc[0, "trend_score"])
    assert np.isnan(features.loc[0, "economic_indicator"])
    assert np.isnan(features.loc[0, "internal_usage"])
    assert features.loc[1, "trend_score"] == 0.10  # market signals do not depend on the role
    assert pd.isna(features.loc[1, "job_role_name"])
    model_input_schema(with_target=False).validate(features)  # inference may see gaps


def test_keys_with_missing_dates_are_refused(sources):
    with pytest.raises(ValueError, match="missing as_of_date"):
        build_feature_table(_keys(("R1", "S1", 1, None)), **sources)


@pytest.mark.parametrize("table, key", [("job_roles", "job_role_id"), ("skills", "skill_id")])
def test_a_role_or_skill_on_two_rows_of_its_table_is_refused_by_name(sources, table, key):
    twice = pd.concat([sources[table], sources[table].head(1)], ignore_index=True)
    name = sources[table][key].iloc[0]
    with pytest.raises(ValueError, match=f"{key} '{name}' is on more than one row"):
        build_feature_table(_keys(("R1", "S1", 1, "2022-03-31")), **(sources | {table: twice}))


def test_role_and_skill_attributes_whatever_the_key_dtype(sources):
    """Object keys (no Arrow lookup) give the rows Arrow keys give."""
    keys = _keys(("R2", "S1", 5, "2022-06-30"), ("R9", "S2", 1, "2022-03-31"))
    as_objects = {
        name: table.astype({c: object for c in ("job_role_id", "skill_id") if c in table})
        for name, table in sources.items()
    }
    pd.testing.assert_frame_equal(
        build_feature_table(keys, **as_objects), build_feature_table(keys, **sources)
    )


def _world_sources_and_keys(seed: int):
    """A generated world's validated-like tables and label keys, with rows lacking sources:
    dated before any signal, an unknown role (so no department either), an unknown skill."""
    world = generate(GeneratorConfig(seed=seed, n_roles=8, n_quarters=5))
    tables = {name: world.tables[name].copy() for name in SOURCES}
    for name in ("market_signals", "economic_indicators", "internal_signals"):
        tables[name]["as_of_date"] = pd.to_datetime(tables[name]["as_of_date"])
    keys = world.tables["skill_need_labels"].loc[:, ["job_role_id", "skill_id", "horizon_years"]]
    keys = keys.assign(as_of_date=pd.to_datetime(world.tables["skill_need_labels"]["as_of_date"]))
    odd = keys.head(4).copy()
    odd.loc[odd.index[0], "as_of_date"] = pd.Timestamp("2001-03-31")
    odd.loc[odd.index[1], "job_role_id"] = "JR_UNKNOWN"
    odd.loc[odd.index[2], "skill_id"] = "SK_UNKNOWN"
    # A pair whose internal signals start later than the label's date.
    internal = tables["internal_signals"]
    first_pair = internal.iloc[0][["job_role_id", "skill_id"]].tolist()
    later = internal["job_role_id"].eq(first_pair[0]) & internal["skill_id"].eq(first_pair[1])
    first_date = internal.loc[later, "as_of_date"].min()
    tables["internal_signals"] = internal.loc[~later | internal["as_of_date"].gt(first_date)]
    return tables, pd.concat([keys, odd], ignore_index=True).sample(frac=1.0, random_state=seed)


@pytest.mark.parametrize("seed", [3, 7])
def test_missing_signals_are_found_without_building_the_features(seed):
    tables, keys = _world_sources_and_keys(seed)
    expected = missing_feature_reasons(build_feature_table(keys, **tables))
    found = missing_signal_reasons(keys, **tables)

    assert len(expected) >= 6  # every kind of gap is there
    assert set(expected["reason"]) == {
        "unknown job_role_id",
        "unknown skill_id",
        "no market signal",
        "no economic indicator",
        "no internal signal",
    }
    pd.testing.assert_frame_equal(found.reset_index(drop=True), expected.reset_index(drop=True))
