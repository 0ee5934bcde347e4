"""The model-input candidates: label rows joined as of their date, incomplete rows rejected."""

from __future__ import annotations

import pandas as pd

from future_skills_kedro.contract import MODEL_INPUT_COLUMNS, TARGET_COLUMN
from future_skills_kedro.pipelines.data_engineering.nodes import build_model_input_candidates

from .raw_tables import schema_checked, valid_raw_tables

SOURCES = ("job_roles", "skills", "market_signals", "economic_indicators", "internal_signals")


def test_label_before_any_signal_is_rejected_with_reason():
    tables = schema_checked(valid_raw_tables())
    labels = tables["skill_need_labels"]
    early = labels.iloc[[0]].assign(as_of_date=pd.Timestamp("2021-09-30"), row_number=6)
    labels = pd.concat([labels, early], ignore_index=True)
    candidates, records = build_model_input_candidates(labels, *(tables[s] for s in SOURCES))
    assert records[["file", "row_number", "column", "value", "reason"]].values.tolist() == [
        ["skill_need_labels.csv", 6, "as_of_date", "2021-09-30", reason]
        for reason in (
            "no market signal at or before 2021-09-30",
            "no economic indicator at or before 2021-09-30",
            "no internal signal at or before 2021-09-30",
        )
    ]
    assert set(records["rule"]) == {
        "no market signal at or before as_of_date",
        "no economic indicator at or before as_of_date",
        "no internal signal at or before as_of_date",
    }
    assert len(candidates) == len(labels) - 1


def test_model_input_candidates_are_complete_and_sorted():
    tables = schema_checked(valid_raw_tables())
    candidates, records = build_model_input_candidates(
        tables["skill_need_labels"], *(tables[s] for s in SOURCES)
    )
    assert records.empty
    assert tuple(candidates.columns) == MODEL_INPUT_COLUMNS
    assert candidates[["as_of_date", "job_role_id", "skill_id", "horizon_years"]].astype(
        {"as_of_date": "str"}
    ).values.tolist() == [
        ["2022-03-31", "R1", "S1", 1],
        ["2022-03-31", "R1", "S2", 5],
        ["2022-03-31", "R2", "S1", 1],
        ["2022-06-30", "R1", "S1", 3],
    ]
    assert candidates[TARGET_COLUMN].tolist() == ["HIGH", "LOW", "HIGH", "MEDIUM"]
    assert str(candidates["as_of_date"].dtype) == "datetime64[ns]"
    assert str(candidates["horizon_years"].dtype) == "int64"
    assert candidates.drop(columns=TARGET_COLUMN).notna().all().all()
