"""Referential integrity across the raw files: unknown ids are quarantined, never dropped."""

from __future__ import annotations

import pandas as pd

from future_skills_kedro.contract import RAW_FILES
from future_skills_kedro.pipelines.data_engineering.nodes import check_referential_integrity

from .raw_tables import schema_checked, text_frame, valid_raw_tables

ROLE_REASON = "unknown job_role_id (not a valid row of job_roles.csv)"
SKILL_REASON = "unknown skill_id (not a valid row of skills.csv)"


def _check(raw: dict[str, pd.DataFrame]):
    *tables, records = check_referential_integrity(*schema_checked(raw).values())
    return dict(zip(RAW_FILES, tables, strict=True)), records


def _append(raw, file, row: str):
    table = raw[file]
    raw[file] = pd.concat([table, text_frame(",".join(table.columns), row)], ignore_index=True)


def test_consistent_tables_pass_unchanged():
    raw = valid_raw_tables()
    tables, records = _check(raw)
    assert records.empty
    assert {file: len(table) for file, table in tables.items()} == {
        file: len(table) for file, table in raw.items()
    }


def test_unknown_ids_are_rejected_in_the_referring_file():
    raw = valid_raw_tables()
    _append(raw, "market_signals", "S9,2021-12-31,0.1,0.1,0.1,80")  # line 5
    _append(raw, "internal_signals", "R1,S9,2021-12-31,0.1,1")  # line 5
    _append(raw, "skill_need_labels", "R9,S9,1,2022-03-31,LOW")  # line 6: two unknown ids
    tables, records = _check(raw)
    assert records[["file", "row_number", "column", "value", "reason"]].values.tolist() == [
        ["market_signals.csv", 5, "skill_id", "S9", SKILL_REASON],
        ["internal_signals.csv", 5, "skill_id", "S9", SKILL_REASON],
        ["skill_need_labels.csv", 6, "job_role_id", "R9", ROLE_REASON],
        ["skill_need_labels.csv", 6, "skill_id", "S9", SKILL_REASON],
    ]
    assert "S9" not in tables["market_signals"]["skill_id"].tolist()
    assert 6 not in tables["skill_need_labels"]["row_number"].tolist()
    # The labels' row is counted once although it broke two references.
    assert len(tables["skill_need_labels"]) == len(raw["skill_need_labels"]) - 1


def test_role_whose_department_has_no_economic_indicators_is_rejected_with_its_rows():
    raw = valid_raw_tables()
    _append(raw, "job_roles", "R3,Lawyer,Legal,lead")  # line 4
    _append(raw, "internal_signals", "R3,S1,2021-12-31,0.1,1")  # line 5
    _append(raw, "skill_need_labels", "R3,S1,1,2022-03-31,LOW")  # line 6
    tables, records = _check(raw)
    assert records[["file", "row_number", "column", "value", "reason"]].values.tolist() == [
        [
            "job_roles.csv",
            4,
            "department",
            "Legal",
            "department has no economic indicators (economic_indicators.csv)",
        ],
        ["internal_signals.csv", 5, "job_role_id", "R3", ROLE_REASON],
        ["skill_need_labels.csv", 6, "job_role_id", "R3", ROLE_REASON],
    ]
    assert tables["job_roles"]["job_role_id"].tolist() == ["R1", "R2"]


def test_rows_referring_to_a_rejected_dimension_row_are_rejected():
    raw = valid_raw_tables()
    raw["skills"].loc[1, "skill_name"] = ""  # S2 rejected by the schema
    *_, records = check_referential_integrity(*schema_checked(raw).values())
    assert records[["file", "value"]].values.tolist() == [
        ["market_signals.csv", "S2"],
        ["internal_signals.csv", "S2"],
        ["skill_need_labels.csv", "S2"],
    ]
