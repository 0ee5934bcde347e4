"""Data engineering nodes: validate the raw files, quarantine bad rows, build the model input.

Every function is pure (frames in, frames out); all I/O goes through the catalog.
Row numbers are CSV line numbers: the header is line 1, so the first data row is line 2; a
record whose quoted value spans lines is numbered by the line it starts on.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.contract import (
    MODEL_INPUT_COLUMNS,
    NEED_LEVELS,
    RAW_FILES,
    RAW_LINE_INDEX,
    TARGET_COLUMN,
)
from future_skills_kedro.features import build_feature_table, missing_signal_reasons

from .schemas import (
    DUPLICATE_KEY,
    MISSING_VALUE,
    ParsedColumns,
    csv_file_name,
    failure_cases,
    first_lines_of_keys,
    model_input_schema,
    raw_schema,
    to_typed,
    validated_schema,
)

logger = logging.getLogger(__name__)

REJECTED_ROWS_COLUMNS = ("file", "row_number", "column", "value", "reason")
# `rule` is the reason without row-specific details (dates, row numbers): what reports count.
REJECTION_RECORD_COLUMNS = (*REJECTED_ROWS_COLUMNS, "rule")
BLANK_LINE = "blank line"
# The first line after a one-line header.
_FIRST_DATA_LINE = 2

_SORT_COLUMNS = ["as_of_date", "job_role_id", "skill_id", "horizon_years"]


class RawFileStructureError(ValueError):
    """A raw file cannot be validated row by row (missing columns, no data rows)."""


class RejectedShareError(ValueError):
    """More rows of a raw file were rejected than the configured limit allows."""


def empty_rejection_records() -> pd.DataFrame:
    """Rejection records with no rows (and the right columns)."""
    return pd.DataFrame(
        {
            column: pd.Series(dtype="int64" if column == "row_number" else "str")
            for column in REJECTION_RECORD_COLUMNS
        }
    )


def _records(file: str, row_number, column, value, reason, *, rule=None) -> pd.DataFrame:
    """Rejection records of one file; scalars broadcast over the row numbers."""
    row_number = np.asarray(row_number, dtype="int64")
    if len(row_number) == 0:
        return empty_rejection_records()
    records = pd.DataFrame(
        {
            "file": csv_file_name(file),
            "row_number": row_number,
            "column": column,
            "value": value,
            "reason": reason,
            "rule": reason if rule is None else rule,
        }
    )
    return records.astype(
        {column: "str" for column in REJECTION_RECORD_COLUMNS if column != "row_number"}
    )


# ---------------------------------------------------------------- raw file validation
def _check_structure(raw: pd.DataFrame, file: str) -> pd.DataFrame:
    """The contract's columns of a raw file, or a RawFileStructureError naming what is wrong."""
    _, expected = RAW_FILES[file]
    if isinstance(raw.index, pd.MultiIndex) or raw.index.dtype.kind not in "iu":
        # pandas turns the first column(s) into row labels, silently, when the first data
        # line has more fields than the header.
        raise RawFileStructureError(
            f"{csv_file_name(file)}: line {_FIRST_DATA_LINE} has more fields than the header "
            f"({len(raw.columns)} columns: {', '.join(map(str, raw.columns))})."
        )
    found = [str(column) for column in raw.columns]
    missing = [column for column in expected if column not in found]
    if missing:
        raise RawFileStructureError(
            f"{csv_file_name(file)}: missing column(s) {', '.join(missing)}. "
            f"Columns found: {', '.join(found) or '(none)'}. "
            f"Expected: {', '.join(expected)} (docs/data-contract.md)."
        )
    if raw.empty:
        raise RawFileStructureError(f"{csv_file_name(file)}: the file has a header but no rows.")
    extra = [column for column in found if column not in expected]
    if extra:
        # Extra columns break no consumer: ignore them, but say so.
        logger.warning("%s: ignoring unexpected column(s) %s", csv_file_name(file), extra)
    return raw.loc[:, list(expected)]


def _csv_lines(raw: pd.DataFrame) -> pd.Index:
    """The CSV line of each record: as the raw dataset numbered it (``RAW_LINE_INDEX``) or,
    for a table built in memory, one line per record after the header."""
    if raw.index.name == RAW_LINE_INDEX:
        return pd.Index(raw.index.to_numpy(dtype="int64"))
    return pd.RangeIndex(_FIRST_DATA_LINE, _FIRST_DATA_LINE + len(raw))


def _as_text(raw: pd.DataFrame) -> pd.DataFrame:
    """Values as text, indexed by CSV line; empty or whitespace-only cells become missing."""
    text = {}
    for column in raw.columns:
        values = raw[column].astype("str")
        text[column] = values.mask(values.str.strip().eq("").fillna(False).astype(bool))
    return pd.DataFrame(text).set_axis(_csv_lines(raw), axis=0)


def _raw_profile(file: str, text: pd.DataFrame) -> dict[str, Any]:
    return {
        "file": csv_file_name(file),
        "rows_in": len(text),
        "null_shares": {
            column: round(float(share), 6) for column, share in text.isna().mean().items()
        },
    }


def _column_failure_records(file: str, failure_cases: pd.DataFrame) -> pd.DataFrame:
    """One rejection record per (row, failed check); the cases' index is the CSV line."""
    unexpected = failure_cases["index"].isna()
    if unexpected.any():
        # A check that fails for a whole column (not row by row) is a bug in schemas.py.
        raise RuntimeError(
            f"{csv_file_name(file)}: validation failed outside any row:\n"
            f"{failure_cases.loc[unexpected].to_string()}"
        )
    cases = failure_cases.astype({"index": "int64"})
    reasons = cases["check"].where(cases["check"].ne("not_nullable"), MISSING_VALUE)
    values = cases["failure_case"].astype("str").where(cases["failure_case"].notna())
    return _records(
        file,
        cases["index"].to_numpy(),
        cases["column"].to_numpy(),
        values.fillna("").to_numpy(),
        reasons.to_numpy(),
    )


def _duplicate_key_records(file: str, valid: pd.DataFrame, parse: ParsedColumns) -> pd.DataFrame:
    """Every valid row whose key an earlier valid row has, pointing at that row's line."""
    keys = RAW_FILES[file][0]
    lines = pd.Series(valid.index, index=valid.index)
    first_line = first_lines_of_keys(valid, keys, parse)
    duplicates = valid.index[first_line.ne(lines).to_numpy()]
    key_list = ", ".join(keys)
    raw_keys = valid.loc[duplicates, list(keys)].astype("str").agg(", ".join, axis=1)
    rule = f"{DUPLICATE_KEY} ({key_list})"
    return _records(
        file,
        duplicates,
        key_list,
        raw_keys.to_numpy(),
        [f"{rule} first seen at row {line}" for line in first_line.loc[duplicates]],
        rule=rule,
    )


def validate_raw_file(
    raw: pd.DataFrame, file: str, require_quarter_end_dates: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Split one raw file into typed valid rows and rejection records; profile its text.

    Every row ends up in exactly one of the two. Keys are compared among the rows that pass
    every column check: of a key shared by valid rows only the first is kept, and an invalid
    row never makes a valid one a duplicate. The typed rows keep their CSV line in
    ``row_number`` (``raw``'s ``RAW_LINE_INDEX`` when the raw dataset numbered the lines).
    """
    text = _as_text(_check_structure(raw, file))
    profile = _raw_profile(file, text)
    is_blank = text.isna().all(axis=1)
    records = [_records(file, text.index[is_blank], "", "", BLANK_LINE)]
    valid = text.loc[~is_blank]
    parsed = ParsedColumns(valid)  # each column parsed once for the checks, keys and types
    cases = failure_cases(raw_schema(file, require_quarter_end_dates, parsed), valid)
    if cases is not None:
        records.append(_column_failure_records(file, cases))
        valid = valid.drop(index=np.unique(records[-1]["row_number"].to_numpy()))
    records.append(_duplicate_key_records(file, valid, parsed))
    valid = valid.drop(index=records[-1]["row_number"].to_numpy())
    typed = to_typed(file, valid, parsed)
    typed.insert(0, "row_number", valid.index.to_numpy(dtype="int64"))
    typed = validated_schema(file).validate(typed.reset_index(drop=True))
    rejection_records = pd.concat(records, ignore_index=True)
    _assert_rows_accounted(file, len(text), len(typed), rejection_records)
    return typed, rejection_records, profile


def _assert_rows_accounted(file: str, rows_in: int, rows_kept: int, records: pd.DataFrame) -> None:
    rows_rejected = records["row_number"].nunique()
    if rows_in != rows_kept + rows_rejected:
        raise RuntimeError(
            f"{csv_file_name(file)}: {rows_in} rows in but {rows_kept} kept + "
            f"{rows_rejected} rejected: rows were lost or counted twice."
        )


# ---------------------------------------------------------------- referential integrity
def _unknown_reference(
    table: pd.DataFrame, file: str, column: str, known: pd.Series, reason: str
) -> tuple[pd.Series, pd.DataFrame]:
    is_unknown = ~table[column].isin(known.unique())
    unknown = table.loc[is_unknown]
    return is_unknown, _records(
        file, unknown["row_number"].to_numpy(), column, unknown[column].to_numpy(), reason
    )


def check_referential_integrity(
    job_roles: pd.DataFrame,
    skills: pd.DataFrame,
    market_signals: pd.DataFrame,
    economic_indicators: pd.DataFrame,
    internal_signals: pd.DataFrame,
    skill_need_labels: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, ...]:
    """Reject rows whose ids the dimension files do not know (as valid rows).

    A job role whose department has no economic indicators is rejected too: none of its
    label rows could get that feature. Rows referring to a rejected row are rejected in
    turn, so the cause shows in the referenced file and the effect in the referring one.
    Returns the tables in the order given (the labels only when given), then the records.
    """
    records = []

    def keep_known(table, file, references):
        is_rejected = pd.Series(False, index=table.index)
        for column, known, reason in references:
            is_unknown, column_records = _unknown_reference(table, file, column, known, reason)
            is_rejected |= is_unknown
            records.append(column_records)
        return table.loc[~is_rejected].reset_index(drop=True)

    role_reason = "unknown job_role_id (not a valid row of job_roles.csv)"
    skill_reason = "unknown skill_id (not a valid row of skills.csv)"
    job_roles = keep_known(
        job_roles,
        "job_roles",
        [
            (
                "department",
                economic_indicators["department"],
                "department has no economic indicators (economic_indicators.csv)",
            )
        ],
    )
    market_signals = keep_known(
        market_signals, "market_signals", [("skill_id", skills["skill_id"], skill_reason)]
    )
    role_and_skill = [
        ("job_role_id", job_roles["job_role_id"], role_reason),
        ("skill_id", skills["skill_id"], skill_reason),
    ]
    internal_signals = keep_known(internal_signals, "internal_signals", role_and_skill)
    labels = []
    if skill_need_labels is not None:
        labels.append(keep_known(skill_need_labels, "skill_need_labels", role_and_skill))
    return (
        job_roles,
        skills,
        market_signals,
        economic_indicators,
        internal_signals,
        *labels,
        pd.concat(records, ignore_index=True),
    )


# ---------------------------------------------------------------- model-input table
def check_label_signals(
    skill_need_labels: pd.DataFrame,
    job_roles: pd.DataFrame,
    skills: pd.DataFrame,
    market_signals: pd.DataFrame,
    economic_indicators: pd.DataFrame,
    internal_signals: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels whose features can all be joined as of their date; the others rejected, per source.

    Checked without building the features (``missing_signal_reasons``): the gate needs only
    which labels lack a signal, and inference, which never reads the model-input table, then
    does not build it for millions of label rows. Same records as the as-of joins would give.
    """
    tables = {
        "job_roles": job_roles,
        "skills": skills,
        "market_signals": market_signals,
        "economic_indicators": economic_indicators,
        "internal_signals": internal_signals,
    }
    missing = missing_signal_reasons(skill_need_labels, **tables)
    positions = missing["position"].to_numpy()
    source = missing["reason"].astype("str").reset_index(drop=True)
    label_dates = pd.to_datetime(skill_need_labels["as_of_date"])
    dates = label_dates.iloc[positions].dt.strftime("%Y-%m-%d").astype("str")
    dates = dates.reset_index(drop=True)
    # Signals are looked up by date, dimensions are not: only the former name the date.
    is_signal = source.str.startswith("no ")
    records = _records(
        "skill_need_labels",
        skill_need_labels["row_number"].iloc[positions].to_numpy(),
        "as_of_date",
        dates.to_numpy(),
        source.where(~is_signal, source + " at or before " + dates).to_numpy(),
        rule=source.where(~is_signal, source + " at or before as_of_date").to_numpy(),
    )
    keep = np.ones(len(skill_need_labels), dtype=bool)
    keep[positions] = False
    return skill_need_labels.loc[keep].reset_index(drop=True), records


def build_model_input_table(
    labels_with_signals: pd.DataFrame,
    job_roles: pd.DataFrame,
    skills: pd.DataFrame,
    market_signals: pd.DataFrame,
    economic_indicators: pd.DataFrame,
    internal_signals: pd.DataFrame,
    quality_gate: bool,
) -> pd.DataFrame:
    """The model-input table: the checked labels' feature rows (as-of joins), sorted; built
    only once the quality gate passed."""
    features = build_feature_table(
        labels_with_signals,
        job_roles=job_roles,
        skills=skills,
        market_signals=market_signals,
        economic_indicators=economic_indicators,
        internal_signals=internal_signals,
    )
    features = features.sort_values(_SORT_COLUMNS, kind="stable").reset_index(drop=True)
    # Complete by construction (check_label_signals); the schema says so if that ever breaks.
    return model_input_schema(allow_missing_features=False).validate(features)


# ---------------------------------------------------------------- quarantine and report
def collect_rejected_rows(*rejection_records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All rejection records in file and row order: as written, and with their rules."""
    records = pd.concat([empty_rejection_records(), *rejection_records], ignore_index=True)
    file_order = {csv_file_name(file): i for i, file in enumerate(RAW_FILES)}
    records = (
        records.assign(_file_order=records["file"].map(file_order))
        .sort_values(["_file_order", "row_number", "column"], kind="stable")
        .drop(columns="_file_order")
        .reset_index(drop=True)
    )
    return records.loc[:, list(REJECTED_ROWS_COLUMNS)], records


def count_kept_rows(
    job_roles: pd.DataFrame,
    skills: pd.DataFrame,
    market_signals: pd.DataFrame,
    economic_indicators: pd.DataFrame,
    internal_signals: pd.DataFrame,
    labels_with_signals: pd.DataFrame | None = None,
) -> dict[str, int]:
    """Rows of each raw file that made it through (labels, when validated: rows of the
    model input)."""
    kept = {
        "job_roles": job_roles,
        "skills": skills,
        "market_signals": market_signals,
        "economic_indicators": economic_indicators,
        "internal_signals": internal_signals,
        "skill_need_labels": labels_with_signals,
    }
    return {csv_file_name(file): len(table) for file, table in kept.items() if table is not None}


def max_rejected_shares(data_engineering: dict[str, Any]) -> dict[str, float]:
    """The rejected-share limit of each raw file: its own override, else the general limit."""
    overrides = data_engineering["max_rejected_share_per_file"]
    general = data_engineering["max_rejected_share"]
    return {file: float(overrides.get(file, general)) for file in RAW_FILES}


def build_data_quality_report(
    job_roles_profile: dict[str, Any],
    skills_profile: dict[str, Any],
    market_signals_profile: dict[str, Any],
    economic_indicators_profile: dict[str, Any],
    internal_signals_profile: dict[str, Any],
    kept_row_counts: dict[str, int],
    rejection_records: pd.DataFrame,
    data_engineering: dict[str, Any],
    skill_need_labels_profile: dict[str, Any] | None = None,
    labels_with_signals: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Per file validated: rows in/kept/rejected, reasons, null shares, limit; then, when the
    labels were validated, the model input.

    The model-input table has one row per label with signals: its figures (rows, classes,
    dates) are those labels', known before (and without) building its features.
    """
    profiles = {
        "job_roles": job_roles_profile,
        "skills": skills_profile,
        "market_signals": market_signals_profile,
        "economic_indicators": economic_indicators_profile,
        "internal_signals": internal_signals_profile,
        "skill_need_labels": skill_need_labels_profile,
    }
    limits = max_rejected_shares(data_engineering)
    files = {}
    for file, profile in profiles.items():
        if profile is None:
            continue
        name = csv_file_name(file)
        file_records = rejection_records.loc[rejection_records["file"].eq(name)]
        rows_in, rows_kept = profile["rows_in"], kept_row_counts[name]
        rows_rejected = int(file_records["row_number"].nunique())
        # Nothing is silently dropped: every row is kept or rejected, never both.
        if rows_in != rows_kept + rows_rejected:
            raise RuntimeError(
                f"{name}: {rows_in} rows in but {rows_kept} kept + {rows_rejected} rejected."
            )
        share = rows_rejected / rows_in if rows_in else 0.0
        files[name] = {
            "rows_in": rows_in,
            "rows_kept": rows_kept,
            "rows_rejected": rows_rejected,
            "rejected_share": round(share, 6),
            "max_rejected_share": limits[file],
            "within_limit": share <= limits[file],
            "rejection_records": len(file_records),
            "rejected_by_reason": _counts(file_records["rule"]),
            "rejected_by_column": _counts(file_records["column"]),
            "null_shares": profile["null_shares"],
        }
    report = {"files": files}
    if labels_with_signals is not None:
        report["model_input_table"] = _model_input_summary(labels_with_signals)
    return report | {
        "rows_in_total": sum(f["rows_in"] for f in files.values()),
        "rows_rejected_total": sum(f["rows_rejected"] for f in files.values()),
        "within_limits": all(f["within_limit"] for f in files.values()),
    }


def _model_input_summary(labels_with_signals: pd.DataFrame) -> dict[str, Any]:
    target_counts = labels_with_signals[TARGET_COLUMN].value_counts()
    rows_out = len(labels_with_signals)
    dates = pd.to_datetime(labels_with_signals["as_of_date"])
    return {
        "rows": rows_out,
        "columns": list(MODEL_INPUT_COLUMNS),
        "target_class_shares": {
            level: round(float(target_counts.get(level, 0)) / rows_out, 6) if rows_out else 0.0
            for level in NEED_LEVELS
        },
        "target_class_counts": {level: int(target_counts.get(level, 0)) for level in NEED_LEVELS},
        "as_of_date_range": {
            "min": dates.min().strftime("%Y-%m-%d") if rows_out else None,
            "max": dates.max().strftime("%Y-%m-%d") if rows_out else None,
        },
        "as_of_dates": int(dates.nunique()),
    }


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(key): int(count) for key, count in values.value_counts().sort_index().items()}


def enforce_rejected_share_limit(
    data_quality_report: dict[str, Any],
    rejected_rows: pd.DataFrame,
    failure_cases_in_error: int,
) -> bool:
    """Fail the run when a file's rejected share exceeds its limit; True otherwise.

    Runs after rejected_rows and the report are saved, so both are there to read.
    """
    problems = []
    for name, stats in data_quality_report["files"].items():
        if stats["within_limit"]:
            continue
        cases = rejected_rows.loc[rejected_rows["file"].eq(name)].head(failure_cases_in_error)
        lines = "\n".join(
            f"    row {case.row_number}, {case.column}={case.value!r}: {case.reason}"
            for case in cases.itertuples(index=False)
        )
        problems.append(
            f"{name}: {stats['rows_rejected']} of {stats['rows_in']} rows rejected "
            f"({stats['rejected_share']:.1%}) > max_rejected_share "
            f"{stats['max_rejected_share']:.1%}. First failure cases:\n{lines}"
        )
    if problems:
        raise RejectedShareError(
            "Too many rejected rows:\n"
            + "\n".join(problems)
            + "\nAll rejected rows: dataset 'rejected_rows' "
            "(data/02_intermediate/rejected_rows.csv); counts: dataset 'data_quality_report'. "
            "Fix the data, or raise data_engineering.max_rejected_share (or "
            "max_rejected_share_per_file) in parameters_data_engineering.yml."
        )
    return True


def publish_validated_tables(
    quality_gate: bool, *validated_tables: pd.DataFrame
) -> tuple[pd.DataFrame, ...]:
    """The clean dimension and signal tables, released only once the quality gate passed."""
    return validated_tables
