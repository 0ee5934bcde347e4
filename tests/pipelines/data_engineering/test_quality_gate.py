"""Rejected-share limit and the data quality report."""

from __future__ import annotations

import pandas as pd
import pytest

from future_skills_kedro.contract import RAW_FILES
from future_skills_kedro.pipelines.data_engineering.nodes import (
    RejectedShareError,
    build_data_quality_report,
    collect_rejected_rows,
    enforce_rejected_share_limit,
)

PARAMS = {
    "max_rejected_share": 0.05,
    "max_rejected_share_per_file": {},
    "require_quarter_end_dates": True,
    "failure_cases_in_error": 2,
}


def _profile(file: str, rows_in: int) -> dict:
    return {"file": f"{file}.csv", "rows_in": rows_in, "null_shares": {"a": 0.0}}


def _model_input(levels: list[str]) -> pd.DataFrame:
    dates = pd.to_datetime(["2022-03-31", "2022-06-30"] * len(levels))[: len(levels)]
    return pd.DataFrame({"as_of_date": dates.astype("datetime64[ns]"), "future_need_level": levels})


def _records(file: str, rows: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": f"{file}.csv",
            "row_number": rows,
            "column": "trend_score",
            "value": [f"bad{row}" for row in rows],
            "reason": "not a number",
            "rule": "not a number",
        }
    )


def _report(rejected_market_rows: list[int], params=PARAMS, market_rows_in: int = 100):
    """A report where only market_signals.csv has rejections; 4 label rows reach the model."""
    rows_in = dict.fromkeys(RAW_FILES, 10) | {"market_signals": market_rows_in}
    rows_in["skill_need_labels"] = 4
    kept = {f"{file}.csv": rows for file, rows in rows_in.items()}
    kept["market_signals.csv"] -= len(set(rejected_market_rows))
    rejected_rows, records = collect_rejected_rows(_records("market_signals", rejected_market_rows))
    report = build_data_quality_report(
        **{f"{file}_profile": _profile(file, rows_in[file]) for file in RAW_FILES},
        kept_row_counts=kept,
        rejection_records=records,
        data_engineering=params,
        labels_with_signals=_model_input(["HIGH", "LOW", "HIGH", "MEDIUM"]),
    )
    return report, rejected_rows


def test_share_at_or_below_the_limit_passes():
    report, rejected_rows = _report([2, 3, 4, 5, 6])  # 5 of 100 = 5 %
    assert report["files"]["market_signals.csv"]["within_limit"]
    assert enforce_rejected_share_limit(report, rejected_rows, 2) is True


def test_share_above_the_limit_fails_naming_file_count_share_and_first_cases():
    report, rejected_rows = _report([2, 3, 4, 5, 6, 7])  # 6 % > 5 %
    with pytest.raises(RejectedShareError) as error:
        enforce_rejected_share_limit(report, rejected_rows, 2)
    message = str(error.value)
    assert "market_signals.csv: 6 of 100 rows rejected (6.0%) > max_rejected_share 5.0%" in message
    assert "row 2, trend_score='bad2': not a number" in message
    assert "row 3, trend_score='bad3': not a number" in message
    assert "row 4," not in message  # only the first failure_cases_in_error cases
    assert "rejected_rows" in message
    assert "job_roles.csv" not in message


def test_per_file_override_raises_the_limit_of_that_file_only():
    params = PARAMS | {"max_rejected_share_per_file": {"market_signals": 0.10}}
    report, rejected_rows = _report([2, 3, 4, 5, 6, 7], params)
    assert report["files"]["market_signals.csv"]["max_rejected_share"] == 0.10
    assert report["files"]["skills.csv"]["max_rejected_share"] == 0.05
    assert enforce_rejected_share_limit(report, rejected_rows, 2) is True


def test_report_counts_rows_once_reasons_and_model_input():
    # Row 2 fails two checks: two records, one rejected row.
    report, _ = _report([2, 2, 3])
    market = report["files"]["market_signals.csv"]
    assert market["rows_in"] == 100
    assert market["rows_rejected"] == 2
    assert market["rows_kept"] == 98
    assert market["rejection_records"] == 3
    assert market["rejected_by_reason"] == {"not a number": 3}
    assert market["rejected_share"] == 0.02
    model_input = report["model_input_table"]
    assert model_input["rows"] == 4
    assert model_input["target_class_shares"] == {"LOW": 0.25, "MEDIUM": 0.25, "HIGH": 0.5}
    assert model_input["as_of_date_range"] == {"min": "2022-03-31", "max": "2022-06-30"}
    assert report["within_limits"]


def test_report_refuses_rows_neither_kept_nor_rejected():
    rows_in = dict.fromkeys(RAW_FILES, 10)
    kept = {f"{file}.csv": 10 for file in RAW_FILES} | {"skills.csv": 9}
    _, records = collect_rejected_rows()
    with pytest.raises(RuntimeError, match=r"skills\.csv: 10 rows in but 9 kept"):
        build_data_quality_report(
            **{f"{file}_profile": _profile(file, rows_in[file]) for file in RAW_FILES},
            kept_row_counts=kept,
            rejection_records=records,
            data_engineering=PARAMS,
            labels_with_signals=_model_input(["LOW"] * 10),
        )


def test_rejected_rows_have_the_contract_columns_even_when_empty():
    rejected_rows, records = collect_rejected_rows()
    assert list(rejected_rows.columns) == ["file", "row_number", "column", "value", "reason"]
    assert rejected_rows.empty
    assert "rule" in records.columns
