"""The model input: labels without a signal at their date rejected, the rest joined as of it."""

from __future__ import annotations

import pandas as pd

from future_skills_kedro.contract import MODEL_INPUT_COLUMNS, TARGET_COLUMN
from future_skills_kedro.pipelines.data_engineering.nodes import (
    build_model_input_table,
    check_label_signals,
)

from .raw_tables import schema_checked, valid_raw_tables

SOURCES = ("job_roles", "skills", "market_signals", "economic_indicators", "internal_signals")


def test_label_before_any_signal_is_rejected_with_reason():
    tables = schema_checked(valid_raw_tables())
    labels = tables["skill_need_labels"]
    early = labels.iloc[[0]].assign(as_of_date=pd.Timestamp("2021-09-30"), row_number=6)
    labels = pd.concat([labels, early], ignore_index=True)
    kept, records = check_label_signals(labels, *(tables[s] for s in SOURCES))
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
    pd.testing.assert_frame_equal(kept, labels.iloc[:-1])


def test_model_input_table_is_complete_and_sorted():
    tables = schema_checked(valid_raw_tables())
    kept, records = check_label_signals(tables["skill_need_labels"], *(tables[s] for s in SOURCES))
    assert records.empty
    candidates = build_model_input_table(kept, *(tables[s] for s in SOURCES), True)
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
