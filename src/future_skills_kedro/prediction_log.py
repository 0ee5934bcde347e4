"""What a logged prediction is: its fields, their types, the rules a record must follow,
and why it was scored (``purpose``). docs/prediction-logs.md describes it for users.

A record is one JSON object per line of a daily log file::

    {"timestamp": "2025-06-30T09:15:00.123456Z", "request_id": "4f0c...-0",
     "purpose": "production", "model_name": "future-skills-model", "model_version": "7",
     "model_semver": "1.4.2", "model_alias": "champion",
     "keys": {"job_role_id": "JR0001", "skill_id": "SK0001", "as_of_date": "2025-12-31"},
     "features": {"job_role_name": "...", ..., "training_requests": 4},
     "prediction": "HIGH", "probabilities": {"LOW": 0.1, "MEDIUM": 0.2, "HIGH": 0.7},
     "confidence": 0.7, "latency_ms": 0.012}

In memory a batch of records is one *flat* frame (:data:`FLAT_COLUMNS`: the top-level
fields, one column per key and per feature, ``prob_<CLASS>`` per class), and, for writing
and checking, one *nested* Arrow table shaped like the JSON (:func:`arrow_schema`). The
writer refuses a batch holding an invalid record; the reader counts such a line as corrupt.
This module does no I/O (the writer and reader live in ``datasets/prediction_logs/``).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from future_skills_kedro.contract import (
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    NEED_LEVELS,
    NUMERIC_FEATURES,
)
from future_skills_kedro.scoring import CONFIDENCE_COLUMN, PREDICTION_COLUMN

# ----------------------------------------------------------------------------- why scored
# The rule that picks one for a scoring run: future_skills_kedro.scoring_purpose.
PRODUCTION, SHADOW, BACKFILL = PURPOSES = ("production", "shadow", "backfill")
# Records written before `purpose` existed were all scored by the champion on the newest
# snapshot (the only thing inference could do then): they read as production.
LEGACY_PURPOSE = PRODUCTION

# ----------------------------------------------------------------------------- fields
CLASSES = NEED_LEVELS
PROBABILITY_PREFIX = "prob_"
PROBABILITY_COLUMNS = tuple(f"{PROBABILITY_PREFIX}{label}" for label in CLASSES)
# horizon_years is a key of the model-input table and a feature: logged once, as a feature.
KEY_FIELDS = tuple(column for column in KEY_COLUMNS if column not in FEATURE_COLUMNS)
TEXT_FIELDS = ("request_id", "purpose", "model_name", "model_version", "model_semver")
NUMBER_FIELDS = ("confidence", "latency_ms")
RECORD_FIELDS = (
    "timestamp",
    *TEXT_FIELDS,
    "model_alias",
    "keys",
    "features",
    "prediction",
    "probabilities",
    *NUMBER_FIELDS,
)
# Fields a record must have (not null). purpose may be absent (LEGACY_PURPOSE), model_alias
# is null for a model scored by version, keys are null for online requests without keys.
REQUIRED_FIELDS = (
    "timestamp",
    "request_id",
    "model_name",
    "model_version",
    "model_semver",
    "features",
    "prediction",
    "probabilities",
    *NUMBER_FIELDS,
)
FLAT_COLUMNS = (
    "timestamp",
    *TEXT_FIELDS,
    "model_alias",
    *KEY_FIELDS,
    *FEATURE_COLUMNS,
    "prediction",
    *PROBABILITY_COLUMNS,
    *NUMBER_FIELDS,
)

# What each field must hold, in the words of the corrupt-line reasons.
_IN_UNIT_INTERVAL = "a number in [0, 1]"
EXPECTED: dict[str, str] = {
    "timestamp": "an ISO 8601 time",
    **{name: "a string" for name in (*TEXT_FIELDS, "model_alias")},
    "purpose": f"one of {', '.join(PURPOSES)}",
    **{f"keys.{name}": "a string" for name in KEY_FIELDS},
    **{f"features.{name}": "a string" for name in CATEGORICAL_FEATURES},
    **{f"features.{name}": "a number" for name in NUMERIC_FEATURES},
    "prediction": f"one of {', '.join(CLASSES)}",
    **{f"probabilities.{label}": _IN_UNIT_INTERVAL for label in CLASSES},
    "confidence": _IN_UNIT_INTERVAL,
    "latency_ms": "a number >= 0",
}
_OBJECTS = ("keys", "features", "probabilities")
_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?"
)
_VALUE_CHARS = 40


class PredictionLogError(ValueError):
    """A batch of records cannot be logged: names the record, the field and the value."""


def arrow_schema(timestamp_type: pa.DataType | None = None) -> pa.Schema:
    """The nested record as Arrow types: strings, float64 numbers, UTC microseconds.

    ``timestamp_type`` replaces the timestamp's type (the writer formats it as text).
    """
    text = pa.string()
    number = pa.float64()
    features = [(name, text) for name in CATEGORICAL_FEATURES]
    features += [(name, number) for name in NUMERIC_FEATURES]
    by_name = {
        "timestamp": timestamp_type or pa.timestamp("us", tz="UTC"),
        **dict.fromkeys((*TEXT_FIELDS, "model_alias", "prediction"), text),
        "keys": pa.struct([(name, text) for name in KEY_FIELDS]),
        "features": pa.struct(sorted(features, key=lambda item: FEATURE_COLUMNS.index(item[0]))),
        "probabilities": pa.struct([(label, number) for label in CLASSES]),
        **dict.fromkeys(NUMBER_FIELDS, number),
    }
    return pa.schema([(name, by_name[name]) for name in RECORD_FIELDS])


# ----------------------------------------------------------------------------- records


def request_ids(prefix: str, first_row: int, count: int) -> pd.Series:
    """``<prefix>-<row>`` for the rows ``first_row`` to ``first_row + count - 1``.

    Built by Arrow: a list of a million f-strings cost 0.4 s.
    """
    rows = pa.array(np.arange(first_row, first_row + count, dtype=np.int64)).cast(pa.large_string())
    ids = pc.binary_join_element_wise(
        pa.scalar(f"{prefix}-", pa.large_string()), rows, pa.scalar("", pa.large_string())
    )
    return pd.Series(pd.array(pa.chunked_array([ids]), dtype="str"))


def prediction_log_records(
    features: pd.DataFrame,
    predictions: pd.DataFrame,
    *,
    purpose: str,
    model_name: str,
    model_version: str | int,
    model_semver: str,
    model_alias: str | None,
    latency_ms: float | Sequence[float] | np.ndarray | pd.Series,
    scored_at: Any = None,
    request_id_prefix: str | None = None,
    first_row: int = 0,
) -> pd.DataFrame:
    """The flat record frame of a scored batch (:data:`FLAT_COLUMNS`), rows matched by position.

    ``features`` holds every contract feature and the key columns present (absent keys are
    null); ``predictions`` the predicted level (``predicted_need_level`` or ``prediction``),
    ``prob_<CLASS>`` per class and optionally ``confidence`` (else the highest probability).
    ``latency_ms`` is one number or one per row; ``scored_at`` one time or one per row
    (default: now, UTC). ``request_id`` is ``<prefix>-<row>``, the prefix a fresh uuid4
    unless given, rows numbered from ``first_row`` (a chunk of a larger batch). Types are
    checked when the batch is written (:func:`record_table`).
    """
    if purpose not in PURPOSES:
        raise PredictionLogError(f"purpose must be one of {', '.join(PURPOSES)}, got {purpose!r}")
    if len(features) != len(predictions):
        raise PredictionLogError(
            f"prediction log: {len(features)} feature rows but {len(predictions)} predictions"
        )
    missing = [column for column in FEATURE_COLUMNS if column not in features.columns]
    level = next((c for c in (PREDICTION_COLUMN, "prediction") if c in predictions.columns), None)
    missing += [c for c in PROBABILITY_COLUMNS if c not in predictions.columns]
    if level is None:
        missing.append(PREDICTION_COLUMN)
    if missing:
        raise PredictionLogError(f"prediction log: missing column(s): {', '.join(missing)}")
    count = len(features)
    features = features.reset_index(drop=True)
    predictions = predictions.reset_index(drop=True)
    if CONFIDENCE_COLUMN in predictions.columns:
        confidence = predictions[CONFIDENCE_COLUMN]
    else:
        confidence = predictions.loc[:, list(PROBABILITY_COLUMNS)].astype("float64").max(axis=1)
    prefix = request_id_prefix or uuid.uuid4().hex

    def constant(value: Any) -> pd.Series:
        if value is None:
            return pd.Series([None] * count, dtype=object)
        # Repeated by Arrow: a Python list of a million strings costs 0.2 s per column.
        repeated = pa.repeat(pa.scalar(value, pa.large_string()), count)
        return pd.Series(pd.array(pa.chunked_array([repeated]), dtype="str"))

    columns: dict[str, Any] = {
        "timestamp": _scored_at(scored_at, count),
        "request_id": request_ids(prefix, first_row, count),
        "purpose": constant(purpose),
        "model_name": constant(str(model_name)),
        "model_version": constant(str(model_version)),
        "model_semver": constant(str(model_semver)),
        "model_alias": constant(None if model_alias is None else str(model_alias)),
    }
    for column in KEY_FIELDS:
        columns[column] = features[column] if column in features.columns else constant(None)
    for column in FEATURE_COLUMNS:
        columns[column] = features[column]
    columns["prediction"] = predictions[level]
    for column in PROBABILITY_COLUMNS:
        columns[column] = predictions[column]
    columns["confidence"] = confidence
    columns["latency_ms"] = pd.Series(
        np.broadcast_to(np.asarray(latency_ms, dtype="float64"), (count,))
    )
    return pd.DataFrame(columns)


class PredictionLogChunks:
    """A scored batch's records, built one chunk of rows at a time as they are iterated.

    What the log writer takes (``PredictionLogDataset.save``, ``append_prediction_logs``):
    it encodes and stages each chunk before building the next, so the records of a large batch
    never exist in memory at once, and still appends the whole batch all or nothing. An
    iterable, not a generator: Kedro hands it to the dataset whole (a generator *node* would
    be saved chunk by chunk, each chunk its own commit), and it can be iterated again.
    The chunks concatenated equal ``prediction_log_records`` of the whole batch.
    """

    def __init__(
        self,
        features: pd.DataFrame,
        predictions: pd.DataFrame,
        *,
        chunk_rows: int,
        scored_at: Any = None,
        request_id_prefix: str | None = None,
        **fields: Any,
    ) -> None:
        if len(features) != len(predictions):
            raise PredictionLogError(
                f"prediction log: {len(features)} feature rows but {len(predictions)} predictions"
            )
        if int(chunk_rows) < 1:
            raise PredictionLogError(f"prediction log: chunk_rows must be >= 1, got {chunk_rows}")
        self._features = features.reset_index(drop=True)
        self._predictions = predictions.reset_index(drop=True)
        self._chunk_rows = int(chunk_rows)
        # One time and one id prefix for the whole batch, whatever its chunks.
        self._fields = {
            **fields,
            "scored_at": pd.Timestamp.now(tz="UTC") if scored_at is None else scored_at,
            "request_id_prefix": request_id_prefix or uuid.uuid4().hex,
        }

    def __len__(self) -> int:
        return len(self._features)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for start in range(0, len(self._features), self._chunk_rows):
            stop = start + self._chunk_rows
            # A per-row latency or time (one value per row) is cut like the rows.
            fields = {
                name: np.asarray(value, dtype=object)[start:stop] if np.ndim(value) else value
                for name, value in self._fields.items()
            }
            yield prediction_log_records(
                self._features.iloc[start:stop],
                self._predictions.iloc[start:stop],
                first_row=start,
                **fields,
            )


def _scored_at(scored_at: Any, count: int) -> pd.Series:
    if scored_at is None or np.ndim(scored_at) == 0:
        stamp = pd.Timestamp.now(tz="UTC") if scored_at is None else pd.Timestamp(scored_at)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        # Broadcast, not a list of Timestamp objects (~2 s per million records).
        return pd.Series(stamp, index=pd.RangeIndex(count), dtype="datetime64[us, UTC]")
    return utc_timestamps(pd.Series(list(scored_at), dtype=object))


def utc_timestamps(values: pd.Series) -> pd.Series:
    """UTC microsecond timestamps (naive ones are taken as UTC); refuses missing ones."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        stamps = values.dt.tz_convert("UTC")
    elif values.dtype.kind == "M":
        stamps = values.dt.tz_localize("UTC")
    else:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if len(bad):
        # Numbered by the index: record_table's frames number their records there.
        raise PredictionLogError(_problem(values.index[bad[0]], "timestamp", values.iloc[bad[0]]))
    return stamps.dt.as_unit("us")


# ----------------------------------------------------------------------------- checks


def shown(value: Any) -> str:
    """A value as it appears in a reason: JSON text, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 3] + "..."


def _reason(path: str, value: Any) -> str:
    return f"{path}: {shown(value)} is not {EXPECTED[path]}"


def _problem(row: int, path: str, value: Any, request_id: Any = None) -> str:
    where = f"record {row}" + (f" (request_id {request_id})" if request_id is not None else "")
    return f"prediction log: {where}: {_reason(path, value)}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_record_problem(record: Any) -> str | None:
    """Why a parsed JSON line is not a record of the right shape and JSON types (or None).

    Every broken field is named, in field order, separated by "; ". The reader asks this only
    of lines the columnar parser could not take; value rules (classes, ranges) are checked on
    whole columns by :func:`record_problems`.
    """
    if not isinstance(record, dict):
        return "not a JSON object"
    missing = [name for name in REQUIRED_FIELDS if record.get(name) is None]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    problems = []
    for name in RECORD_FIELDS:
        value = record.get(name)
        if value is None:
            continue
        if name in _OBJECTS:
            if not isinstance(value, dict):
                problems.append(f"{name}: {shown(value)} is not an object")
                continue
            for member, item in value.items():
                path = f"{name}.{member}"
                expected = EXPECTED.get(path)
                if expected is None or item is None:
                    continue  # a member the schema does not know is ignored
                wants_number = "number" in expected
                if (wants_number and not _is_number(item)) or (
                    not wants_number and not isinstance(item, str)
                ):
                    problems.append(_reason(path, item))
        elif name in NUMBER_FIELDS:
            if not _is_number(value):
                problems.append(_reason(name, value))
        elif not isinstance(value, str) or (
            name == "timestamp" and not _ISO_TIME.fullmatch(value.strip())
        ):
            problems.append(_reason(name, value))
    return "; ".join(problems) or None


def record_problems(table: pa.Table) -> dict[int, str]:
    """Row -> reason, for the rows of a nested record table that break a value rule.

    A row breaking several rules gets every reason, in field order, separated by "; ".

    Vectorised: a clean table of a million rows costs a few compute kernels per field.
    """
    reasons: dict[int, str] = {}

    def flag(mask: pa.ChunkedArray, path: str, values: pa.ChunkedArray | None) -> None:
        # A null in ``mask`` is a missing value: only required fields flag those (is_null).
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():
            return
        for row in np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist():
            value = None if values is None else values[row].as_py()
            if values is None or value is None:
                reason = f"{path}: missing (expected {EXPECTED.get(path, 'an object')})"
            else:
                reason = _reason(path, value)
            reasons[row] = f"{reasons[row]}; {reason}" if row in reasons else reason

    def column(name: str) -> pa.ChunkedArray:
        return table.column(name)

    def as_float(values: pa.ChunkedArray) -> pa.ChunkedArray:
        return values if values.type == pa.float64() else values.cast(pa.float64())

    def unit_interval(values: pa.ChunkedArray) -> pa.ChunkedArray:
        values = as_float(values)
        return pc.and_(pc.greater_equal(values, 0.0), pc.less_equal(values, 1.0))

    def finite(values: pa.ChunkedArray) -> pa.ChunkedArray:  # null stays null (missing)
        return pc.is_finite(as_float(values))

    missing: dict[int, list[str]] = {}
    for name in REQUIRED_FIELDS:  # worded as the line-by-line check words it
        mask = pc.is_null(column(name))
        if pc.any(mask).as_py():
            for row in np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist():
                missing.setdefault(row, []).append(name)
    reasons.update({row: f"missing field(s): {', '.join(names)}" for row, names in missing.items()})
    for name in RECORD_FIELDS:
        values = column(name)
        if name == "purpose":
            # null (an older record without purpose) matches the null in the set: allowed.
            allowed = pa.array([*PURPOSES, None], type=pa.string())
            flag(pc.invert(pc.is_in(values, allowed)), name, values)
        elif name == "features":
            for member in NUMERIC_FEATURES:
                member_values = pc.struct_field(values, member)
                flag(pc.invert(finite(member_values)), f"features.{member}", member_values)
        elif name == "prediction":
            flag(pc.invert(pc.is_in(values, pa.array(CLASSES))), name, values)
        elif name == "probabilities":
            for label in CLASSES:
                member_values = pc.struct_field(values, label)
                path = f"probabilities.{label}"
                flag(pc.is_null(member_values), path, None)
                flag(pc.invert(unit_interval(member_values)), path, member_values)
        elif name == "confidence":
            flag(pc.invert(unit_interval(values)), name, values)
        elif name == "latency_ms":
            ok = pc.and_(finite(values), pc.greater_equal(as_float(values), 0.0))
            flag(pc.invert(ok), name, values)
    return reasons


# ----------------------------------------------------------------------------- frame -> table


def record_table(records: pd.DataFrame, first_record: int = 0) -> pa.Table:
    """The nested, typed Arrow table of a flat record frame; raises on any invalid record.

    Accepts what pandas users hold: ``str``/``object``/``category`` text, any numeric dtype
    (nullable ones too), datetime or ISO-string times (naive = UTC), dates or ISO strings for
    ``as_of_date``. NaN/None/±inf in a feature is a missing value (``null``); everywhere else
    the rules of docs/prediction-logs.md apply, and the first broken one is named, numbered
    from ``first_record`` (the position of the frame's first row in a run given in chunks).
    """
    present = [str(column) for column in records.columns]
    unknown = [column for column in present if column not in FLAT_COLUMNS]
    optional = {"model_alias", "purpose", *KEY_FIELDS}  # purpose: checked below, with its values
    missing = [c for c in FLAT_COLUMNS if c not in present and c not in optional]
    if unknown or missing:
        parts = [f"missing column(s): {', '.join(missing)}"] if missing else []
        parts += [f"unknown column(s): {', '.join(unknown)}"] if unknown else []
        raise PredictionLogError(f"prediction log records: {'; '.join(parts)}")
    if "purpose" not in present:
        raise PredictionLogError(
            f"prediction log records: missing column(s): purpose ({EXPECTED['purpose']})"
        )
    frame = records.set_axis(present, axis=1).reset_index(drop=True)
    # The index numbers the records in error messages (see _problem's callers).
    frame.index = pd.RangeIndex(first_record, first_record + len(frame))
    ids = frame["request_id"]

    def text(column: str, path: str) -> pa.Array:
        if column not in frame.columns:
            return pa.nulls(len(frame), pa.string())
        return _text_array(frame[column], path, ids)

    def number(column: str, path: str, keep_integers: bool = False) -> pa.Array:
        return _number_array(frame[column], path, ids, keep_integers)

    stamps = utc_timestamps(frame["timestamp"])
    arrays: dict[str, pa.Array] = {
        "timestamp": _single_array(pa.array(stamps, type=pa.timestamp("us", tz="UTC"))),
        **{name: text(name, name) for name in (*TEXT_FIELDS, "model_alias")},
    }
    keys = [
        _date_text(frame["as_of_date"], ids)
        if name == "as_of_date" and name in frame.columns
        else text(name, f"keys.{name}")
        for name in KEY_FIELDS
    ]
    arrays["keys"] = pa.StructArray.from_arrays(keys, names=list(KEY_FIELDS))
    feature_arrays = [
        text(name, f"features.{name}")
        if name in CATEGORICAL_FEATURES
        else number(name, f"features.{name}", keep_integers=True)
        for name in FEATURE_COLUMNS
    ]
    arrays["features"] = pa.StructArray.from_arrays(feature_arrays, names=list(FEATURE_COLUMNS))
    arrays["prediction"] = text("prediction", "prediction")
    probabilities = [
        number(column, f"probabilities.{label}")
        for column, label in zip(PROBABILITY_COLUMNS, CLASSES, strict=True)
    ]
    arrays["probabilities"] = pa.StructArray.from_arrays(probabilities, names=list(CLASSES))
    for name in NUMBER_FIELDS:
        arrays[name] = number(name, name)
    table = pa.table([arrays[name] for name in RECORD_FIELDS], names=list(RECORD_FIELDS))
    problems = record_problems(table)
    if problems:
        row = min(problems)
        more = f" (and {len(problems) - 1} more invalid record(s))" if len(problems) > 1 else ""
        raise PredictionLogError(
            f"prediction log: record {first_record + row} (request_id {ids.iloc[row]}): "
            f"{problems[row]}{more}"
        )
    return table


def _first_bad(mask: np.ndarray) -> int | None:
    positions = np.flatnonzero(mask)
    return int(positions[0]) if len(positions) else None


def _text_array(values: pd.Series, path: str, ids: pd.Series) -> pa.Array:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object).where(values.notna(), None)
    if not (isinstance(values.dtype, pd.StringDtype) or values.dtype == object):
        bad = _first_bad(values.notna().to_numpy())
        if bad is not None:
            raise PredictionLogError(
                _problem(values.index[bad], path, _plain(values.iloc[bad]), ids.iloc[bad])
            )
        return pa.nulls(len(values), pa.string())
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in (
        "string",
        "empty",
    ):
        is_text = values.map(lambda item: isinstance(item, str) or _missing(item))
        bad = _first_bad(~is_text.to_numpy(dtype=bool))
        if bad is not None:
            raise PredictionLogError(
                _problem(values.index[bad], path, _plain(values.iloc[bad]), ids.iloc[bad])
            )
        values = values.where(values.map(lambda item: isinstance(item, str)), None)
    return _single_array(pa.array(values, type=pa.string(), from_pandas=True))


def _single_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (pandas' Arrow-backed columns convert to chunked ones)."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _number_array(values: pd.Series, path: str, ids: pd.Series, keep_integers: bool) -> pa.Array:
    kind = values.dtype.kind
    if kind == "b" or isinstance(values.dtype, pd.BooleanDtype):
        bad = _first_bad(values.notna().to_numpy())
        if bad is not None:
            raise PredictionLogError(
                _problem(values.index[bad], path, _plain(values.iloc[bad]), ids.iloc[bad])
            )
    if kind not in "iuf":
        converted = pd.to_numeric(values.map(_numeric_or_nan), errors="coerce")
        bad = _first_bad((converted.isna() & values.map(_present)).to_numpy(dtype=bool))
        if bad is not None:
            raise PredictionLogError(
                _problem(values.index[bad], path, _plain(values.iloc[bad]), ids.iloc[bad])
            )
        values = converted
    if keep_integers and values.dtype.kind in "iu":
        return _single_array(pa.array(values, type=pa.int64(), from_pandas=True))
    numbers = values.astype("float64")
    if keep_integers:  # a feature: NaN and ±inf are missing values (JSON has neither)
        numbers = numbers.where(np.isfinite(numbers.to_numpy()))
    return _single_array(pa.array(numbers, type=pa.float64(), from_pandas=True))


def _date_text(values: pd.Series, ids: pd.Series) -> pa.Array:
    """as_of_date as "YYYY-MM-DD" text (a key is a date, whatever its in-memory type)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
        # Each distinct date formatted once (a batch has one or a few): Arrow's strftime on
        # every row took 1.3 s per million records.
        codes, dates = pd.factorize(values)
        texts = pa.array(dates.strftime("%Y-%m-%d"), type=pa.string())
        return texts.take(pa.array(codes, mask=codes < 0))
    if values.dtype == object:
        values = values.map(lambda item: item.isoformat()[:10] if isinstance(item, date) else item)
    return _text_array(values, "keys.as_of_date", ids)


def _missing(item: Any) -> bool:
    return (
        item is None
        or item is pd.NA
        or item is pd.NaT
        or (isinstance(item, float) and math.isnan(item))
    )


def _present(item: Any) -> bool:
    return not _missing(item)


def _numeric_or_nan(item: Any) -> Any:
    """A number stays; anything else (text, bool, date) becomes NaN, i.e. flagged if present."""
    if _is_number(item) or isinstance(item, np.integer | np.floating):
        return item
    return np.nan


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, for :func:`shown`."""
    return value.item() if isinstance(value, np.generic) else value


# Text columns that repeat a few values over a window (names, ids, classes): the reader can
# hand them over as pandas categoricals. request_id is unique per record: kept as text.
REPEATED_TEXT_COLUMNS = tuple(
    column
    for column in FLAT_COLUMNS
    if column in (*TEXT_FIELDS, "model_alias", *KEY_FIELDS, *CATEGORICAL_FEATURES, "prediction")
    and column != "request_id"
)


def flat_columns(columns: Sequence[str] | None) -> tuple[str, ...]:
    """``columns`` checked against :data:`FLAT_COLUMNS` and put in their order (None: all)."""
    if columns is None:
        return FLAT_COLUMNS
    unknown = [column for column in columns if column not in FLAT_COLUMNS]
    if unknown:
        raise ValueError(
            f"prediction log columns {unknown} are not record columns "
            f"(one of {', '.join(FLAT_COLUMNS)})"
        )
    wanted = set(columns)
    return tuple(column for column in FLAT_COLUMNS if column in wanted)


def flat_table(
    table: pa.Table,
    columns: Sequence[str] = FLAT_COLUMNS,
    *,
    purpose_default: str = LEGACY_PURPOSE,
    text_as_dictionary: bool = False,
) -> pa.Table:
    """The flat Arrow columns ``columns`` (in :data:`FLAT_COLUMNS` order) of a nested record
    table; a missing ``purpose`` reads as ``purpose_default``. ``text_as_dictionary``:
    :data:`REPEATED_TEXT_COLUMNS` dictionary-encoded (a few bytes per row instead of the text).
    """
    wanted = set(columns)
    flat: dict[str, Any] = {}
    for name in RECORD_FIELDS:
        values = table.column(name)
        if name in _OBJECTS:
            prefix = PROBABILITY_PREFIX if name == "probabilities" else ""
            for index, field in enumerate(values.type):
                if f"{prefix}{field.name}" in wanted:
                    flat[f"{prefix}{field.name}"] = pc.struct_field(values, [index])
        elif name not in wanted:
            continue
        elif name == "purpose":
            flat[name] = pc.fill_null(values, purpose_default)
        else:
            flat[name] = values
    if text_as_dictionary:
        for name in REPEATED_TEXT_COLUMNS:
            if name in flat:
                flat[name] = pc.dictionary_encode(flat[name])
    ordered = [column for column in FLAT_COLUMNS if column in wanted]
    return pa.table({column: flat[column] for column in ordered})


def pandas_flat_frame(flat: pa.Table) -> pd.DataFrame:
    """A flat Arrow table (:func:`flat_table`) as pandas: ``timestamp`` datetime64[us, UTC],
    text ``str`` (``category`` where dictionary-encoded), numbers float64."""
    frame = flat.to_pandas()
    for name in (*NUMERIC_FEATURES, *PROBABILITY_COLUMNS, *NUMBER_FIELDS):
        if name in frame.columns:
            frame[name] = frame[name].astype("float64")
    return frame


def flat_frame(table: pa.Table, purpose_default: str = LEGACY_PURPOSE) -> pd.DataFrame:
    """The flat pandas frame of a nested record table (:data:`FLAT_COLUMNS`, in order).

    ``timestamp`` datetime64[us, UTC]; text columns ``str`` (``model_alias`` and keys may be
    missing); numbers float64; a missing ``purpose`` reads as ``purpose_default``.
    """
    return pandas_flat_frame(flat_table(table, purpose_default=purpose_default))


def empty_flat_frame(
    columns: Sequence[str] = FLAT_COLUMNS, text_as_category: bool = False
) -> pd.DataFrame:
    """A frame of no records with the reader's columns and dtypes."""
    empty = arrow_schema().empty_table()
    return pandas_flat_frame(flat_table(empty, columns, text_as_dictionary=text_as_category))
