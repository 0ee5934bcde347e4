"""Pandera schemas of the raw files (docs/data-contract.md) and of the tables built from them.

Raw files are read as text. The raw schemas check the *text*: every check parses the values
it needs itself, so a failure case always carries the raw value as written in the CSV.
Why not pandera's ``coerce=True``: when coercion fails on one value, pandera keeps the whole
column as text and the column's other checks (ranges) fail with a TypeError that names no
row, hiding the rows that break a range while another row breaks the type.

Each check's ``error`` text is the rejection reason written to ``rejected_rows``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc
from pandera.config import ValidationDepth, config_context

from future_skills_kedro.contract import (
    CATEGORICAL_FEATURES,
    HORIZONS,
    MODEL_INPUT_COLUMNS,
    NEED_LEVELS,
    NUMERIC_FEATURES,
    RAW_FILES,
    SENIORITIES,
    TARGET_COLUMN,
)

# Reasons that are not the error text of a check of their own.
MISSING_VALUE = "missing value"
DUPLICATE_KEY = "duplicate key"

_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_INTEGER = r"^[+-]?\d+$"

# What each raw column holds; a column keeps its meaning in every file it appears in.
TEXT_COLUMNS = (
    "job_role_id",
    "job_role_name",
    "department",
    "skill_id",
    "skill_name",
    "skill_category",
)
SHARE_COLUMNS = (
    "trend_score",
    "scarcity_index",
    "hiring_difficulty",
    "economic_indicator",
    "internal_usage",
)
ALLOWED_TEXT_VALUES = {"seniority": SENIORITIES, TARGET_COLUMN: NEED_LEVELS}
DATE_COLUMNS = ("as_of_date",)


def csv_file_name(file: str) -> str:
    """Name of a raw dataset's CSV file, as users see it in ``data/01_raw``."""
    return f"{file}.csv"


# ---------------------------------------------------------------- parsing (shared with nodes)
# Parsed with Arrow compute kernels: the raw text is Arrow-backed, and pandas' to_numeric and
# to_datetime convert it to Python objects first. The six files of a 4.4M-row world were
# checked, typed and keyed in 20.8 s with pandas, 9.4 s so (``benchmarks/bench_raw_parsing.py``).
_DECIMAL = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
# Integers beyond this are not exact as float64 and overflow int64 in the typed tables.
_LARGEST_INTEGER = 2**53
# datetime64[ns] holds 1677-09-22 to 2262-04-11: dates outside are not parsed.
_FIRST_DAY = np.datetime64(pd.Timestamp.min.ceil("D").date(), "D")
_LAST_DAY = np.datetime64(pd.Timestamp.max.floor("D").date(), "D")


def _arrow_text(values: pd.Series) -> pa_arrow.Array:
    return pa_arrow.array(values.astype("str"), type=pa_arrow.large_string(), from_pandas=True)


def _matching(text: pa_arrow.Array, pattern: str) -> pa_arrow.Array:
    """``text`` where it fully matches ``pattern``, null elsewhere."""
    matches = pc.match_substring_regex(text, pattern)
    return pc.if_else(matches, text, pa_arrow.scalar(None, text.type))


def _floats(numbers: pa_arrow.Array, values: pd.Series) -> pd.Series:
    array = numbers.fill_null(np.nan).to_numpy(zero_copy_only=False)
    return pd.Series(array, index=values.index, name=values.name, dtype="float64")


def parse_number(values: pd.Series) -> pd.Series:
    """Float values; NaN where the text is not a finite number."""
    plain = _matching(_arrow_text(values), _DECIMAL)
    numbers = _floats(pc.cast(plain, pa_arrow.float64()), values)
    # Other spellings pandas reads (" 4", "1_000", "inf"): rare, so parsed one by one.
    others = ~plain.is_valid().to_numpy(zero_copy_only=False) & values.notna().to_numpy()
    if others.any():
        numbers[others] = pd.to_numeric(values[others], errors="coerce").astype("float64")
    return numbers.where(np.isfinite(numbers))


def parse_integer(values: pd.Series) -> pd.Series:
    """Integer values as float (NaN-able); NaN where the text is not a plain integer."""
    text = _arrow_text(values)
    numbers = _floats(pc.cast(_matching(text, _INTEGER), pa_arrow.float64()), values)
    return numbers.where(numbers.abs() <= _LARGEST_INTEGER)


def _digits(text: pa_arrow.Array, start: int, stop: int) -> np.ndarray:
    part = pc.utf8_slice_codeunits(text, start, stop)
    return pc.cast(part, pa_arrow.int64()).fill_null(1).to_numpy(zero_copy_only=False)


def parse_iso_date(values: pd.Series) -> pd.Series:
    """datetime64[ns] dates; NaT unless the text is a real calendar date as YYYY-MM-DD."""
    text = _matching(_arrow_text(values), _ISO_DATE)
    is_iso = text.is_valid().to_numpy(zero_copy_only=False)
    # Built from the digits (cast by Arrow, checked with numpy): Arrow's strptime rolls
    # 2022-02-30 over to 2022-03-02, and with a check that the date prints back as written it
    # was 4x slower than pandas' to_datetime, itself slower than this.
    year, month, day = _digits(text, 0, 4), _digits(text, 5, 7), _digits(text, 8, 10)
    month_start = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    days_in_month = (month_start + 1).astype("datetime64[D]") - month_start.astype("datetime64[D]")
    real = is_iso & (month >= 1) & (month <= 12) & (day >= 1)
    real &= day <= days_in_month.astype("int64")
    dates = month_start.astype("datetime64[D]") + (day - 1)
    real &= (dates >= _FIRST_DAY) & (dates <= _LAST_DAY)
    stamps = np.where(real, dates, np.datetime64("NaT")).astype("datetime64[ns]")
    return pd.Series(stamps, index=values.index, name=values.name)


def _typed_dtype(column: str) -> str:
    if column in DATE_COLUMNS:
        return "datetime64[ns]"
    if column in ("horizon_years", "training_requests"):
        return "int64"
    if column in SHARE_COLUMNS or column == "avg_salary_k":
        return "float64"
    return "str"


_PARSERS = {"datetime64[ns]": parse_iso_date, "int64": parse_integer, "float64": parse_number}


def parse_column(values: pd.Series) -> pd.Series:
    """A raw column's values parsed as its kind of column (named by ``values.name``)."""
    return _PARSERS[_typed_dtype(str(values.name))](values)


class ParsedColumns:
    """The columns of one raw file's text, each parsed once when first asked for.

    The row checks, the key comparison and the typed table read the same parsed values
    (before, a 1.3M-row file's dates were parsed four times). Called with a column of
    ``text`` or of a row subset of it: the parsed values of those rows.
    """

    def __init__(self, text: pd.DataFrame) -> None:
        self._text = text
        self._parsed: dict[str, pd.Series] = {}

    def __call__(self, values: pd.Series) -> pd.Series:
        column = str(values.name)
        if column not in self._parsed:
            self._parsed[column] = parse_column(self._text[column])
        parsed = self._parsed[column]
        return parsed if parsed.index.equals(values.index) else parsed.loc[values.index]


def normalised_keys(frame: pd.DataFrame, keys: tuple[str, ...], parse=parse_column) -> pd.DataFrame:
    """Key columns parsed to values, so '2022-03-31' and 1 compare as dates and numbers."""
    parsed = {}
    for column in keys:
        parsed[column] = frame[column] if _typed_dtype(column) == "str" else parse(frame[column])
    return pd.DataFrame(parsed, index=frame.index)


def first_lines_of_keys(
    frame: pd.DataFrame, keys: tuple[str, ...], parse=parse_column
) -> pd.Series:
    """For each row, the smallest index label (CSV line) of the rows with its parsed key.

    Meant for rows that passed ``raw_schema``: every key value is present and parses.
    ``parse``: how a column is parsed (a :class:`ParsedColumns` of the file reuses its values).
    """
    parsed = normalised_keys(frame, keys, parse)
    lines = pd.Series(frame.index, index=frame.index)
    return lines.groupby([parsed[key] for key in keys], sort=False).transform("min")


# ---------------------------------------------------------------- checks
def _is_finite_number(parse) -> pa.Check:
    return pa.Check(lambda s: parse(s).notna(), name="number", error="not a number")


def _in_unit_interval(parse) -> pa.Check:
    # Unparseable values pass here: "not a number" already reports them.
    def check(values: pd.Series) -> pd.Series:
        numbers = parse(values)
        return numbers.between(0.0, 1.0) | numbers.isna()

    return pa.Check(check, name="unit_interval", error="out of range [0, 1]")


def _is_positive(parse) -> pa.Check:
    def check(values: pd.Series) -> pd.Series:
        numbers = parse(values)
        return (numbers > 0) | numbers.isna()

    return pa.Check(check, name="positive", error="must be > 0")


def _is_integer(parse) -> pa.Check:
    return pa.Check(lambda s: parse(s).notna(), name="integer", error="not an integer")


def _is_non_negative_integer(parse) -> pa.Check:
    def check(values: pd.Series) -> pd.Series:
        numbers = parse(values)
        return (numbers >= 0) | numbers.isna()

    return pa.Check(check, name="non_negative", error="must be >= 0")


def _is_horizon(parse) -> pa.Check:
    def check(values: pd.Series) -> pd.Series:
        numbers = parse(values)
        return numbers.isin(HORIZONS) | numbers.isna()

    allowed = ", ".join(str(h) for h in HORIZONS)
    return pa.Check(check, name="horizon", error=f"not one of {allowed}")


def _is_one_of(allowed: tuple[str, ...]) -> pa.Check:
    # Case-sensitive on purpose: the contract spells the values, consumers compare them as is.
    return pa.Check.isin(list(allowed), error=f"not one of {', '.join(allowed)}")


def _is_iso_date(parse) -> pa.Check:
    return pa.Check(
        lambda s: parse(s).notna(), name="iso_date", error="not an ISO date (YYYY-MM-DD)"
    )


def _is_quarter_end(parse) -> pa.Check:
    def check(values: pd.Series) -> pd.Series:
        dates = parse(values)
        return dates.dt.is_quarter_end | dates.isna()

    return pa.Check(check, name="quarter_end", error="not a quarter-end date")


def _column_checks(  # noqa: PLR0911 - one return per kind of column
    column: str, require_quarter_end_dates: bool, parse
) -> list[pa.Check]:
    if column in SHARE_COLUMNS:
        return [_is_finite_number(parse), _in_unit_interval(parse)]
    if column == "avg_salary_k":
        return [_is_finite_number(parse), _is_positive(parse)]
    if column == "training_requests":
        return [_is_integer(parse), _is_non_negative_integer(parse)]
    if column == "horizon_years":
        return [_is_integer(parse), _is_horizon(parse)]
    if column in DATE_COLUMNS:
        return [_is_iso_date(parse)] + (
            [_is_quarter_end(parse)] if require_quarter_end_dates else []
        )
    if column in ALLOWED_TEXT_VALUES:
        return [_is_one_of(ALLOWED_TEXT_VALUES[column])]
    if column in TEXT_COLUMNS:
        return []
    raise KeyError(f"no validation rule for raw column {column!r}: add it to schemas.py")


def raw_schema(
    file: str, require_quarter_end_dates: bool = True, parse=parse_column
) -> pa.DataFrameSchema:
    """Schema of one raw file's text: required values, types, ranges, allowed values.

    Row by row; unique keys are checked afterwards, among the rows that pass it
    (``first_lines_of_keys``). ``parse``: how the checks parse a column (a
    :class:`ParsedColumns` of the text validated parses each column once).
    """
    _, columns = RAW_FILES[file]
    return pa.DataFrameSchema(
        {
            # No dtype: the values are text; the checks parse what they need.
            column: pa.Column(
                checks=_column_checks(column, require_quarter_end_dates, parse), nullable=False
            )
            for column in columns
        },
        name=csv_file_name(file),
    )


def failure_cases(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame | None:
    """Every failure case of ``frame`` (lazy validation), or None when it is valid.

    Validation is forced on with full depth: the quarantine must not depend on
    PANDERA_VALIDATION_ENABLED or PANDERA_VALIDATION_DEPTH in the environment.
    """
    with config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            return errors.failure_cases
    return None


# ---------------------------------------------------------------- typed tables
def to_typed(file: str, valid_text: pd.DataFrame, parse=parse_column) -> pd.DataFrame:
    """Typed copy of rows that passed ``raw_schema`` (every value is known to parse)."""
    _, columns = RAW_FILES[file]
    typed = {}
    for column in columns:
        values = valid_text[column]
        dtype = _typed_dtype(column)
        typed[column] = values.astype("str") if dtype == "str" else parse(values).astype(dtype)
    return pd.DataFrame(typed, index=valid_text.index)


def validated_schema(file: str) -> pa.DataFrameSchema:
    """Schema of a validated (typed, clean) table: what inference may rely on."""
    _, columns = RAW_FILES[file]
    return pa.DataFrameSchema(
        {
            "row_number": pa.Column("int64", pa.Check.ge(2)),
            **{column: pa.Column(_typed_dtype(column), nullable=False) for column in columns},
        },
        strict=True,
        name=f"validated_{file}",
    )


def model_input_schema(
    with_target: bool = True, allow_missing_features: bool = True
) -> pa.DataFrameSchema:
    """Schema of feature rows: keys, features (missing only if allowed), optional target."""
    columns: dict[str, pa.Column] = {
        "job_role_id": pa.Column("str", nullable=False),
        "skill_id": pa.Column("str", nullable=False),
        "as_of_date": pa.Column("datetime64[ns]", nullable=False),
    }
    for column in CATEGORICAL_FEATURES:
        columns[column] = pa.Column("str", nullable=allow_missing_features)
    for column in NUMERIC_FEATURES:
        if column == "horizon_years":
            columns[column] = pa.Column("int64", pa.Check.isin(list(HORIZONS)), nullable=False)
        else:
            columns[column] = pa.Column("float64", nullable=allow_missing_features)
    if with_target:
        columns[TARGET_COLUMN] = pa.Column("str", pa.Check.isin(list(NEED_LEVELS)))
    # The contract's column order, whatever order this function builds them in.
    order = [column for column in MODEL_INPUT_COLUMNS if column in columns]
    return pa.DataFrameSchema(
        {column: columns[column] for column in order},
        strict=True,
        ordered=True,
        name="model_input_table",
    )
