"""Schema rules of the raw files: one bad frame per rule, checking what lands in rejected rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError
from pandera.config import config_context

from future_skills_kedro.contract import RAW_FILES
from future_skills_kedro.datasets.raw_csv import RawCSVDataset
from future_skills_kedro.pipelines.data_engineering import schemas
from future_skills_kedro.pipelines.data_engineering.nodes import (
    BLANK_LINE,
    RawFileStructureError,
    validate_raw_file,
)
from future_skills_kedro.pipelines.data_engineering.schemas import validated_schema

from .raw_tables import text_frame, valid_raw_tables


def _load(path: Path) -> pd.DataFrame:
    """The raw file as the catalog's raw dataset type reads it."""
    return RawCSVDataset(filepath=str(path)).load()


def _validate_with(file: str, row: int, column: str, value: str, **kwargs):
    raw = valid_raw_tables()[file]
    raw.loc[row, column] = value
    return validate_raw_file(raw, file, **kwargs)


@pytest.mark.parametrize("file", list(RAW_FILES))
def test_valid_files_keep_every_row_typed(file):
    raw = valid_raw_tables()[file]
    typed, records, profile = validate_raw_file(raw, file)
    assert records.empty
    assert len(typed) == len(raw) == profile["rows_in"]
    assert typed["row_number"].tolist() == list(range(2, len(raw) + 2))
    validated_schema(file).validate(typed)
    assert set(profile["null_shares"].values()) == {0.0}


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "reason"),
    [
        ("market_signals", 1, "trend_score", "abc", "not a number"),
        ("market_signals", 1, "trend_score", "1.7", "out of range [0, 1]"),
        ("market_signals", 0, "scarcity_index", "-0.1", "out of range [0, 1]"),
        ("market_signals", 2, "hiring_difficulty", "nan", "not a number"),
        ("market_signals", 0, "avg_salary_k", "0", "must be > 0"),
        ("market_signals", 0, "avg_salary_k", "inf", "not a number"),
        ("economic_indicators", 2, "economic_indicator", "1.01", "out of range [0, 1]"),
        ("internal_signals", 0, "internal_usage", "", "missing value"),
        ("internal_signals", 1, "training_requests", "2.5", "not an integer"),
        ("internal_signals", 1, "training_requests", "-1", "must be >= 0"),
        ("job_roles", 1, "seniority", "intern", "not one of junior, mid, senior, lead, manager"),
        ("job_roles", 0, "seniority", "Senior", "not one of junior, mid, senior, lead, manager"),
        ("job_roles", 0, "job_role_name", "   ", "missing value"),
        ("skills", 1, "skill_id", "", "missing value"),
        ("skill_need_labels", 3, "future_need_level", "VERY HIGH", "not one of LOW, MEDIUM, HIGH"),
        ("skill_need_labels", 0, "horizon_years", "2", "not one of 1, 3, 5"),
        ("skill_need_labels", 0, "horizon_years", "one", "not an integer"),
        ("skill_need_labels", 2, "as_of_date", "2022-02-30", "not an ISO date (YYYY-MM-DD)"),
        ("skill_need_labels", 2, "as_of_date", "31/03/2022", "not an ISO date (YYYY-MM-DD)"),
        ("market_signals", 1, "as_of_date", "2022-6-30", "not an ISO date (YYYY-MM-DD)"),
        # Real days a pandas date cannot hold: rejected, not a crash of the whole file.
        ("skill_need_labels", 2, "as_of_date", "0001-03-31", "not an ISO date (YYYY-MM-DD)"),
        ("market_signals", 1, "as_of_date", "2262-06-30", "not an ISO date (YYYY-MM-DD)"),
        ("internal_signals", 1, "training_requests", "1" + "0" * 19, "not an integer"),
        ("economic_indicators", 0, "as_of_date", "2021-12-15", "not a quarter-end date"),
    ],
)
def test_rule_rejects_row_with_file_line_value_and_reason(file, row, column, value, reason):
    typed, records, profile = _validate_with(file, row, column, value)
    assert records.to_dict("records") == [
        {
            "file": f"{file}.csv",
            "row_number": row + 2,  # header is line 1
            "column": column,
            "value": value if value.strip() else "",
            "reason": reason,
            "rule": reason,
        }
    ]
    assert row + 2 not in typed["row_number"].tolist()
    assert len(typed) + 1 == profile["rows_in"]


def test_quarter_end_rule_can_be_switched_off():
    typed, records, _ = _validate_with(
        "economic_indicators", 0, "as_of_date", "2021-12-15", require_quarter_end_dates=False
    )
    assert records.empty
    assert typed.loc[0, "as_of_date"] == pd.Timestamp("2021-12-15")


def test_row_failing_two_checks_gives_two_records_but_counts_once():
    raw = valid_raw_tables()["market_signals"]
    raw.loc[0, ["trend_score", "avg_salary_k"]] = ["abc", "-5"]
    typed, records, _ = validate_raw_file(raw, "market_signals")
    assert sorted(records["reason"]) == ["must be > 0", "not a number"]
    assert set(records["row_number"]) == {2}
    assert len(typed) == len(raw) - 1


def test_unparseable_value_does_not_hide_range_failures_in_other_rows():
    # pandera's own coercion would turn the range check of the whole column into a TypeError.
    raw = valid_raw_tables()["market_signals"]
    raw.loc[0, "trend_score"] = "abc"
    raw.loc[2, "trend_score"] = "1.5"
    _, records, _ = validate_raw_file(raw, "market_signals")
    assert records[["row_number", "value", "reason"]].values.tolist() == [
        [2, "abc", "not a number"],
        [4, "1.5", "out of range [0, 1]"],
    ]


def test_duplicate_key_rejects_every_occurrence_after_the_first():
    raw = valid_raw_tables()["skill_need_labels"]
    first = raw.iloc[0].tolist()
    again = [*first[:4], "LOW"]  # same key, other label
    # horizon "01" parses to the same key as "1".
    written_differently = [first[0], first[1], "01", first[3], "HIGH"]
    raw = pd.concat(
        [raw, pd.DataFrame([again, written_differently], columns=raw.columns, dtype="str")],
        ignore_index=True,
    )
    typed, records, profile = validate_raw_file(raw, "skill_need_labels")
    key = "job_role_id, skill_id, horizon_years, as_of_date"
    assert records.to_dict("records") == [
        {
            "file": "skill_need_labels.csv",
            "row_number": line,
            "column": key,
            "value": value,
            "reason": f"duplicate key ({key}) first seen at row 2",
            "rule": f"duplicate key ({key})",
        }
        for line, value in [(6, "R1, S1, 1, 2022-03-31"), (7, "R1, S1, 01, 2022-03-31")]
    ]
    assert typed["row_number"].tolist() == [2, 3, 4, 5]
    assert profile["rows_in"] == 6


def test_valid_row_is_not_a_duplicate_of_an_earlier_invalid_row():
    raw = valid_raw_tables()["market_signals"]
    raw.loc[0, "trend_score"] = "abc"  # line 2, key (S1, 2021-12-31)
    raw.loc[1, "as_of_date"] = "2021-12-31"  # line 3, same key, valid: the one to keep
    typed, records, _ = validate_raw_file(raw, "market_signals")
    assert records[["row_number", "reason"]].values.tolist() == [[2, "not a number"]]
    assert typed["row_number"].tolist() == [3, 4]


def test_duplicate_of_valid_rows_points_at_the_first_valid_row():
    raw = valid_raw_tables()["skill_need_labels"]
    key = raw.iloc[0, :4].tolist()
    raw.loc[0, "future_need_level"] = "VERY HIGH"  # line 2: invalid, takes no part
    raw = pd.concat(
        [raw, pd.DataFrame([[*key, "LOW"], [*key, "HIGH"]], columns=raw.columns, dtype="str")],
        ignore_index=True,
    )  # lines 6 and 7: the first valid occurrence and its duplicate
    typed, records, _ = validate_raw_file(raw, "skill_need_labels")
    columns = "job_role_id, skill_id, horizon_years, as_of_date"
    assert records[["row_number", "reason"]].values.tolist() == [
        [2, "not one of LOW, MEDIUM, HIGH"],
        [7, f"duplicate key ({columns}) first seen at row 6"],
    ]
    assert typed["row_number"].tolist() == [3, 4, 5, 6]


def test_records_keep_the_csv_line_the_raw_dataset_gives_them(tmp_path: Path):
    # S1's quoted name spans lines 2-3: later rows are numbered by their line, not record.
    path = tmp_path / "skills.csv"
    path.write_text(
        "skill_id,skill_name,skill_category\n"
        'S1,"Python\n(the language)",programming\n'
        "S2,SQL,data\n"
        "S2,SQL again,data\n"
    )
    typed, records, _ = validate_raw_file(_load(path), "skills")
    assert records[["row_number", "reason"]].values.tolist() == [
        [5, "duplicate key (skill_id) first seen at row 4"]
    ]
    assert typed["row_number"].tolist() == [2, 4]


def test_blank_line_is_one_record_and_keeps_later_line_numbers():
    raw = text_frame(
        "skill_id,skill_name,skill_category",
        "S1,Python,programming",
        ",,",
        "S2,SQL,data",
    )
    typed, records, _ = validate_raw_file(raw, "skills")
    assert records[["row_number", "column", "reason"]].values.tolist() == [[3, "", BLANK_LINE]]
    assert typed["row_number"].tolist() == [2, 4]


def test_missing_column_names_file_missing_and_found_columns():
    raw = valid_raw_tables()["market_signals"].rename(columns={"trend_score": "trend"})
    with pytest.raises(RawFileStructureError) as error:
        validate_raw_file(raw, "market_signals")
    message = str(error.value)
    assert "market_signals.csv" in message
    assert "missing column(s) trend_score" in message
    assert "Columns found: skill_id, as_of_date, trend," in message


def test_extra_column_is_ignored():
    raw = valid_raw_tables()["skills"].assign(comment="x")
    typed, records, _ = validate_raw_file(raw, "skills")
    assert records.empty
    assert "comment" not in typed.columns


def test_header_only_file_names_the_file(tmp_path: Path):
    path = tmp_path / "job_roles.csv"
    path.write_text("job_role_id,job_role_name,department,seniority\n")
    raw = _load(path)
    with pytest.raises(RawFileStructureError, match=r"job_roles\.csv: the file has a header"):
        validate_raw_file(raw, "job_roles")


def test_empty_file_fails_on_load_naming_the_file(tmp_path: Path):
    path = tmp_path / "skills.csv"
    path.write_text("")
    with pytest.raises(DatasetError, match=r"skills\.csv[\s\S]*No columns to parse"):
        _load(path)


def test_unparseable_csv_fails_on_load_naming_file_and_line(tmp_path: Path):
    path = tmp_path / "skills.csv"
    path.write_text("skill_id,skill_name,skill_category\nS1,Python,programming\nS2,a,b,c\n")
    with pytest.raises(DatasetError, match=r"skills\.csv: line 3 has 4 fields, the header has 3"):
        _load(path)


def test_short_line_and_blank_lines_keep_csv_line_numbers(tmp_path: Path):
    # Real loader: a blank line (line 3) and a short line (line 5) keep later lines numbered.
    path = tmp_path / "skills.csv"
    path.write_text(
        "skill_id,skill_name,skill_category\nS1,Python,programming\n\nS2,SQL,data\nS3,Go\n"
    )
    raw = _load(path)
    typed, records, _ = validate_raw_file(raw, "skills")
    assert records[["row_number", "column", "reason"]].values.tolist() == [
        [3, "", BLANK_LINE],
        [5, "skill_category", "missing value"],
    ]
    assert typed["row_number"].tolist() == [2, 4]


def test_quarantine_does_not_depend_on_pandera_settings():
    # PANDERA_VALIDATION_ENABLED=False or a schema-only depth must not let bad rows through.
    with config_context(validation_enabled=False, validation_depth="SCHEMA_ONLY"):
        _, records, _ = _validate_with("market_signals", 0, "trend_score", "abc")
    assert records["reason"].tolist() == ["not a number"]


def test_first_line_with_an_extra_field_fails_instead_of_shifting_columns():
    # pandas would silently read the first column as row labels and shift the others.
    raw = text_frame("skill_id,skill_name,skill_category", "S1,Python,programming")
    shifted = raw.set_index("skill_id")
    shifted.columns = ["skill_id", "skill_name"]
    with pytest.raises(RawFileStructureError, match=r"skills\.csv: line 2 has more fields"):
        validate_raw_file(shifted, "skills")


def test_parsed_columns_parse_each_column_once_and_answer_for_any_row_subset(monkeypatch):
    dates, scores = ["2025-03-31", "2025-02-30", "2025-06-30"], ["0.5", "x", "1"]
    text = pd.DataFrame(
        {"as_of_date": dates, "trend_score": scores}, index=pd.Index([2, 3, 5], name="csv_line")
    )
    calls = []
    real_parse = schemas.parse_column

    def counted_parse(values):
        calls.append(values.name)
        return real_parse(values)

    monkeypatch.setattr(schemas, "parse_column", counted_parse)
    parsed = schemas.ParsedColumns(text)

    subset = text.loc[[5, 2]]
    pd.testing.assert_series_equal(parsed(subset["as_of_date"]), real_parse(subset["as_of_date"]))
    pd.testing.assert_series_equal(parsed(text["as_of_date"]), real_parse(text["as_of_date"]))
    pd.testing.assert_series_equal(parsed(text["trend_score"]), real_parse(text["trend_score"]))

    assert calls == ["as_of_date", "trend_score"]
