"""Prediction logs: daily JSON-lines files, written a batch at a time.

File: ``<directory>/predictions_YYYYMMDD.jsonl``, one file per UTC day of the record's
``timestamp``. One JSON object per line, keys in this order::

    {"timestamp": "2025-06-30T12:00:00.123456Z",     # ISO 8601, UTC, microseconds
     "request_id": "...", "model_name": "...", "model_version": "...", "model_semver": "...",
     "keys": {"job_role_id": ..., "skill_id": ..., "as_of_date": "2025-03-31"},
     "features": {"job_role_name": ..., ..., "training_requests": ...},
     "prediction": "HIGH",
     "probabilities": {"LOW": 0.1, "MEDIUM": 0.2, "HIGH": 0.7},
     "confidence": 0.7, "latency_ms": 12.5}

In memory, both the writer's input and the reader's output are one *flat* frame: the
top-level fields, one column per key and per feature (same names), ``prob_<CLASS>`` per class.
Values: NaN/None/pd.NA/NaT -> null; numpy scalars -> JSON numbers/booleans; floats keep a
decimal point; datetimes -> ISO strings (a naive midnight -> "YYYY-MM-DD", tz-aware -> UTC
with "Z"); Decimal -> number; the reader returns keys/features as their JSON types (dates
as strings).

Writing: the whole batch is encoded (vectorised, with pyarrow) before any file is opened;
each day file is opened with O_APPEND and locked with ``flock(LOCK_EX)``; the bytes are
written with a loop of ``os.write`` and fsynced. A failure while writing truncates every
touched file back to its size before the batch, so a batch is all or nothing; after a hard
crash (kill -9, power loss) the next writer starts on a fresh line, and the reader counts the
torn line as corrupt.
"""

from __future__ import annotations

import fcntl
import gc
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from kedro.io import AbstractDataset

from future_skills_kedro.contract import FEATURE_COLUMNS, KEY_COLUMNS
from future_skills_kedro.scoring import CONFIDENCE_COLUMN, PREDICTION_COLUMN

try:  # 2-3x faster line parsing here; the standard library gives the same results.
    import orjson

    _fast_loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _fast_loads = json.loads

DEFAULT_LOG_DIRECTORY = "data/07_model_output/prediction_logs"
FILE_PREFIX = "predictions_"
FILE_SUFFIX = ".jsonl"
PROBABILITY_PREFIX = "prob_"
# horizon_years is a key of the model-input table but also a feature: it is logged once,
# under "features".
LOG_KEY_COLUMNS = tuple(column for column in KEY_COLUMNS if column not in FEATURE_COLUMNS)
META_COLUMNS = ("timestamp", "request_id", "model_name", "model_version", "model_semver")
TEXT_COLUMNS = ("request_id", "model_name", "model_version", "model_semver", "prediction")
NUMBER_COLUMNS = ("confidence", "latency_ms")
REQUIRED_COLUMNS = (*META_COLUMNS, "prediction", *NUMBER_COLUMNS)
_REQUIRED_FIELDS = frozenset((*REQUIRED_COLUMNS, "features", "probabilities"))
_RESERVED_COLUMNS = frozenset(REQUIRED_COLUMNS)

_FILE_NAME = re.compile(rf"{FILE_PREFIX}(\d{{8}}){re.escape(FILE_SUFFIX)}")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Characters a JSON string must escape, plus the ones that str.splitlines() treats as line
# breaks although JSON allows them raw: escaping them keeps every record on one line for any
# line-oriented tool. RE2 syntax (pyarrow).
_NEEDS_ESCAPE = r'[\x00-\x1f"\\\x{85}\x{2028}\x{2029}]'
_LINE_SEPARATORS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
# Rows encoded together: bounds the temporary fragment arrays (the payload itself must be in
# memory whole, since nothing is written before the whole batch is encoded).
_ENCODE_CHUNK_ROWS = 1 << 17
# Bytes read (and lines parsed into one small frame) at a time: bounds the Python objects
# alive at once to ~20k records.
_READ_BLOCK_BYTES = 16 << 20
_TOP_LEVEL_FIELDS = (
    *META_COLUMNS,
    "keys",
    "features",
    "prediction",
    "probabilities",
    *NUMBER_COLUMNS,
)
_TOP_LEVEL_GETTER = itemgetter(*_TOP_LEVEL_FIELDS)
_EXAMPLE_CHARS = 200


# --------------------------------------------------------------------------- encoding


def _json_text(value: str) -> str:
    """A JSON string literal that never spans lines."""
    text = json.dumps(value, ensure_ascii=False)
    for raw, escaped in _LINE_SEPARATORS.items():
        text = text.replace(raw, escaped)
    return text


def _format_datetime(value: pd.Timestamp) -> str:
    if value.tzinfo is not None:
        return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if value == value.normalize():
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _plain(value: Any) -> Any:  # noqa: PLR0911 - one return per supported type
    """A value the standard json module encodes as intended (NaN and NA become None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, np.floating | float | Decimal):
        # str() of a numpy float32 is its shortest repr (0.1, not 0.10000000149011612).
        number = float(str(value)) if isinstance(value, np.floating) else float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime | np.datetime64):
        stamp = pd.Timestamp(value)
        return None if stamp is pd.NaT else _format_datetime(stamp)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, timedelta | np.timedelta64):
        delta = pd.Timedelta(value)
        return None if delta is pd.NaT else delta.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [_plain(item) for item in value]
    raise TypeError(
        f"prediction log: cannot serialise a value of type {type(value).__name__}: {value!r}"
    )


def _python_fragments(values: Iterable[Any]) -> pa.Array:
    """JSON text of each value, one Python call per value (the slow, general path)."""
    texts = []
    for value in values:
        text = json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))
        for raw, escaped in _LINE_SEPARATORS.items():
            text = text.replace(raw, escaped)
        texts.append(text)
    return pa.array(texts, type=pa.string())


def _quoted_fragments(strings: pa.Array) -> pa.Array:
    strings = strings.cast(pa.string())
    quoted = pc.binary_join_element_wise('"', strings, '"', "")
    needs_escape = pc.match_substring_regex(strings, _NEEDS_ESCAPE).fill_null(False)
    if pc.any(needs_escape).as_py():
        escape = needs_escape.to_numpy(zero_copy_only=False)
        quoted = pa.array(
            [
                _json_text(text) if escape_it else fast
                for text, fast, escape_it in zip(
                    strings.to_pylist(), quoted.to_pylist(), escape, strict=True
                )
            ],
            type=pa.string(),
        )
    return quoted.fill_null("null")


def _float_fragments(numbers: pa.Array) -> pa.Array:
    if pa.types.is_float16(numbers.type):
        numbers = numbers.cast(pa.float32())
    # Arrow prints the shortest round-trip repr, also for float32 ("0.1")...
    text = pc.cast(numbers, pa.string())
    # ...but 2.0 as "2": add ".0" so readers see a float. The numeric test is a cheap filter;
    # the pattern keeps "1e+16" as it is.
    if pc.any(pc.equal(pc.floor(numbers), numbers)).as_py():
        integral = pc.match_substring_regex(text, r"^-?[0-9]+$")
        text = pc.if_else(integral, pc.binary_join_element_wise(text, ".0", ""), text)
    if numbers.null_count or not pc.all(pc.is_finite(numbers)).as_py():
        text = pc.if_else(pc.is_finite(numbers), text, "null")  # NaN, inf: not JSON
    return text.fill_null("null")


def _string_fragments(strings: pa.Array) -> pa.Array:
    if len(strings) >= 64:
        # Most text columns hold few distinct values (names, categories, the model name):
        # escape and quote each once, then look the codes up.
        encoded = pc.dictionary_encode(strings)
        if 2 * len(encoded.dictionary) <= len(strings):
            return _arrow_fragments(encoded)
    return _quoted_fragments(strings)


def _arrow_fragments(values: pa.Array) -> pa.Array:  # noqa: PLR0911 - one per Arrow type
    """JSON text of each element of an Arrow array (null -> "null"); vectorised."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type
    if pa.types.is_dictionary(kind):
        table = pa.concat_arrays([_arrow_fragments(values.dictionary), pa.array(["null"])])
        missing = len(values.dictionary)
        return table.take(values.indices.fill_null(missing))
    if pa.types.is_floating(kind):
        return _float_fragments(values)
    if pa.types.is_decimal(kind):
        return _float_fragments(values.cast(pa.float64()))
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return pc.cast(values, pa.string()).fill_null("null")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _string_fragments(values)
    if pa.types.is_null(kind):
        return pc.cast(values, pa.string()).fill_null("null")
    if pa.types.is_date(kind):
        return _quoted_fragments(pc.cast(values, pa.string()))
    if pa.types.is_timestamp(kind):
        return _datetime_fragments(pd.Series(values.to_pandas()))
    return _python_fragments(values.to_pylist())


def _datetime_fragments(values: pd.Series) -> pa.Array:
    """Quoted ISO 8601 text per value: tz-aware as UTC with "Z", a naive midnight as a date."""
    aware = values.dt.tz is not None
    naive = values.dt.tz_convert("UTC").dt.tz_localize(None) if aware else values
    # Rows share few instants (one scoring time, a few as_of_dates): format each once.
    codes, instants = pd.factorize(naive.dt.as_unit("us").to_numpy())
    instants = np.asarray(instants, dtype="datetime64[us]")
    texts = np.datetime_as_string(instants, unit="us").astype(object)
    if aware:
        texts = texts + "Z"
    else:
        days = instants.astype("datetime64[D]")
        midnight = instants == days
        texts[midnight] = np.datetime_as_string(days[midnight]).astype(object)
    table = pa.array([*(f'"{text}"' for text in texts), "null"], type=pa.string())
    return table.take(np.where(codes < 0, len(texts), codes))


def _json_fragments(values: pd.Series) -> pa.Array:
    """JSON text of each value of a column, whatever its dtype."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        # Encode each category once, then look the codes up.
        categories = _json_fragments(pd.Series(dtype.categories))
        table = pa.concat_arrays([categories, pa.array(["null"])])
        codes = values.cat.codes.to_numpy()
        return table.take(np.where(codes < 0, len(categories), codes))
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        return _datetime_fragments(values)
    if pd.api.types.is_object_dtype(dtype):
        # Only all-string object columns are safe to hand to Arrow; anything else (mixed
        # numbers, Decimal, Timestamps, dates...) goes value by value.
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            values = values.astype(pd.StringDtype("pyarrow"))
        else:
            return _python_fragments(values.to_numpy())
    if dtype.kind == "m":
        return _python_fragments(values.to_numpy())
    return _arrow_fragments(pa.array(values, from_pandas=True))


# --------------------------------------------------------------------------- writer


def _utc_timestamps(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        stamps = values.dt.tz_convert("UTC")
    elif values.dtype.kind == "M":
        stamps = values.dt.tz_localize("UTC")  # naive timestamps are taken as UTC
    else:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    if stamps.isna().any():
        raise ValueError("prediction log: every record needs a timestamp (found missing ones)")
    return stamps.dt.as_unit("us")


def _as_text(values: pd.Series) -> pd.Series:
    return values if isinstance(values.dtype, pd.StringDtype) else values.astype("str")


def _as_number(values: pd.Series) -> pd.Series:
    if values.dtype.kind in "iuf":
        return values
    return pd.to_numeric(values, errors="raise").astype("float64")


def _line_layout(columns: Sequence[str], key_columns: Sequence[str]) -> list[str | tuple[str, str]]:
    """The parts of a line: literal JSON text or (column, kind), in the contract's order."""
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    probabilities = [column for column in columns if str(column).startswith(PROBABILITY_PREFIX)]
    if missing or not probabilities:
        if not probabilities:
            missing.append(f"{PROBABILITY_PREFIX}<CLASS>")
        raise ValueError(f"prediction log records are missing column(s): {', '.join(missing)}")
    keys = [column for column in columns if column in key_columns]
    used = {*REQUIRED_COLUMNS, *probabilities, *keys}
    features = [column for column in columns if column not in used]

    # The timestamp column is UTC by now, so it is written as "...Z".
    parts: list[str | tuple[str, str]] = ['{"timestamp":', ("timestamp", "value")]
    for column in ("request_id", "model_name", "model_version", "model_semver"):
        parts += [f",{_json_text(column)}:", (column, "text")]

    def nested(name: str, members: list[str], labels: list[str], kind: str) -> None:
        parts.append(f',"{name}":{{')
        for index, (column, label) in enumerate(zip(members, labels, strict=True)):
            parts.extend([("," if index else "") + f"{_json_text(label)}:", (column, kind)])
        parts.append("}")

    nested("keys", keys, [str(column) for column in keys], "value")
    nested("features", features, [str(column) for column in features], "value")
    parts += [',"prediction":', ("prediction", "text")]
    classes = [str(column)[len(PROBABILITY_PREFIX) :] for column in probabilities]
    nested("probabilities", probabilities, classes, "number")
    parts += [',"confidence":', ("confidence", "number")]
    parts += [',"latency_ms":', ("latency_ms", "number"), "}\n"]
    return parts


def _encode_lines(records: pd.DataFrame, parts: list[str | tuple[str, str]]) -> pa.Array:
    """One JSON line (with its newline) per row, as an Arrow string array."""
    arguments: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            if arguments and isinstance(arguments[-1], str):
                arguments[-1] += part  # fewer, longer literals join faster
            else:
                arguments.append(part)
            continue
        column, kind = part
        values = records[column]
        if kind == "text":
            arguments.append(_json_fragments(_as_text(values)))
        elif kind == "number":
            arguments.append(_json_fragments(_as_number(values)))
        else:
            arguments.append(_json_fragments(values))
    lines = pc.binary_join_element_wise(*arguments, "")
    if not isinstance(lines, pa.Array):  # a frame of one row of literals only: impossible
        raise TypeError("prediction log: encoding produced no rows")
    if lines.null_count:  # every fragment is non-null by construction; never write a gap
        raise AssertionError("prediction log: a line could not be encoded")
    return lines


def _string_bytes(lines: pa.Array) -> memoryview:
    """The UTF-8 bytes of all strings of an Arrow string array, end to end, without copying."""
    _, offsets_buffer, data_buffer = lines.buffers()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)
    start, stop = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return memoryview(data_buffer)[start:stop]


def _log_path(directory: Path, day: np.datetime64) -> Path:
    return directory / f"{FILE_PREFIX}{str(day).replace('-', '')}{FILE_SUFFIX}"


def _write_all(fd: int, data: bytes | memoryview) -> None:
    """os.write until every byte is written (a single call may write fewer)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(f"prediction log: os.write wrote {written} bytes")
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _append_atomically(payloads: Mapping[Path, list[memoryview]], fsync: bool) -> None:
    """Append each file's payload under an exclusive lock; on any failure, undo every file."""
    opened: list[tuple[Path, int, int]] = []  # path, fd, size before this batch
    created = False
    try:
        # Always lock in path order, so two batches spanning the same days cannot deadlock.
        for path in sorted(payloads):
            created = created or not path.exists()
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
            except BaseException:
                os.close(fd)
                raise
            opened.append((path, fd, size))
        for path, fd, size in opened:
            # A writer killed mid-line left a torn last line: start on a fresh line so only
            # that line is lost (the reader counts it as corrupt), not our first one.
            if size and os.pread(fd, 1, size - 1) != b"\n":
                _write_all(fd, b"\n")
            for chunk in payloads[path]:
                _write_all(fd, chunk)
            if fsync:
                os.fsync(fd)
        if fsync and created:
            _fsync_directory(next(iter(payloads)).parent)
    except BaseException:
        # Still holding every lock, so nobody appended after us: cut back to the old size.
        for _, fd, size in opened:
            with suppress(OSError):
                os.ftruncate(fd, size)
        raise
    finally:
        for _, fd, _ in opened:
            os.close(fd)  # closing the last descriptor releases the flock


def write_prediction_log(
    records: pd.DataFrame,
    directory: str | os.PathLike[str] = DEFAULT_LOG_DIRECTORY,
    *,
    key_columns: Sequence[str] = LOG_KEY_COLUMNS,
    fsync: bool = True,
) -> dict[Path, int]:
    """Append a batch of prediction records to the daily log files; rows written per file.

    ``records`` is the flat log frame (see the module docstring and
    :func:`prediction_log_records`): required columns ``timestamp, request_id, model_name,
    model_version, model_semver, prediction, confidence, latency_ms`` and at least one
    ``prob_<CLASS>``; columns named in ``key_columns`` go under "keys", every other column
    under "features". Naive timestamps are taken as UTC. All or nothing per batch.
    """
    if len(records) == 0:
        return {}
    if not records.columns.is_unique:
        raise ValueError("prediction log records have duplicate column names")
    parts = _line_layout([str(column) for column in records.columns], key_columns)
    records = records.set_axis([str(column) for column in records.columns], axis=1)
    records = records.assign(timestamp=_utc_timestamps(records["timestamp"]))
    if records["request_id"].isna().any():
        raise ValueError("prediction log: every record needs a request_id")
    days = records["timestamp"].dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    unique_days = np.unique(days)

    # Encode everything before opening any file: a failure here writes nothing.
    target = Path(directory)
    # The memoryviews keep their Arrow buffers alive: no copy of the payload is made.
    payloads: dict[Path, list[memoryview]] = {_log_path(target, day): [] for day in unique_days}
    rows: dict[Path, int] = dict.fromkeys(payloads, 0)
    for start in range(0, len(records), _ENCODE_CHUNK_ROWS):
        stop = start + _ENCODE_CHUNK_ROWS
        lines = _encode_lines(records.iloc[start:stop], parts)
        for day in unique_days:
            day_lines = (
                lines if len(unique_days) == 1 else lines.filter(pa.array(days[start:stop] == day))
            )
            if len(day_lines):
                path = _log_path(target, day)
                payloads[path].append(_string_bytes(day_lines))
                rows[path] += len(day_lines)

    target.mkdir(parents=True, exist_ok=True)
    _append_atomically(payloads, fsync)
    return rows


# --------------------------------------------------------------------------- reader


@dataclass(frozen=True)
class CorruptLine:
    """A line the reader skipped: where, why, and its first characters."""

    file: str
    line_number: int
    reason: str
    excerpt: str


@dataclass(frozen=True)
class PredictionLogRead:
    """What :func:`read_prediction_logs` found.

    ``lines_read`` counts the non-blank lines of the files read (valid, corrupt and outside
    the time window); ``corrupt_examples`` holds the first few corrupt lines.
    """

    frame: pd.DataFrame
    files_read: int
    lines_read: int
    corrupt_lines: int
    corrupt_examples: list[CorruptLine] = field(default_factory=list)


def _lenient_loads(line: bytes) -> Any:
    """The standard library's verdict when the fast parser refuses a line (e.g. huge ints)."""
    if _fast_loads is json.loads:
        raise ValueError("invalid JSON")
    return json.loads(line)


def _invalid_reason(record: Any) -> str | None:
    """Why a parsed line is not a log record, or None when it is one."""
    if not isinstance(record, dict):
        return "not a JSON object"
    missing = sorted(_REQUIRED_FIELDS - record.keys())
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    for name in ("features", "probabilities"):
        if not isinstance(record[name], dict):
            return f"{name} is not an object"
    if record.get("keys") is not None and not isinstance(record["keys"], dict):
        return "keys is not an object"
    if not isinstance(record["timestamp"], str):
        return "timestamp is not a string"
    return None


def _take(values: Sequence[Any], positions: np.ndarray) -> list[Any]:
    return [values[position] for position in positions.tolist()]


def _text_column(values: Sequence[Any]) -> pd.Series:
    try:  # Arrow builds a str column ~4x faster than pandas does from Python objects
        return pa.array(values, type=pa.string()).to_pandas()
    except (pa.ArrowException, OverflowError):
        return pd.Series(list(values), dtype="str")


def _number_column(values: Sequence[Any]) -> pd.Series:
    try:
        return pa.array(values, type=pa.float64()).to_pandas()
    except (pa.ArrowException, OverflowError):
        return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").astype(
            "float64"
        )


def _value_column(values: Sequence[Any]) -> pd.Series:
    try:
        return pa.array(values).to_pandas()
    except (pa.ArrowException, OverflowError):
        return pd.Series(list(values))  # mixed types: let pandas pick (object)


def _object_columns(objects: Sequence[dict]) -> dict[str, Sequence[Any]]:
    """The members of same-shaped JSON objects as columns, in first-seen order."""
    names = tuple(objects[0])
    # Fast path, all in C: every object has exactly the first one's keys.
    if set(map(len, objects)) == {len(names)}:
        if not names:
            return {}
        try:
            values = list(map(itemgetter(*names), objects))
        except KeyError:
            pass
        else:
            if len(names) == 1:
                return {names[0]: values}
            return dict(zip(names, zip(*values, strict=True), strict=True))
    union: dict[str, None] = {}
    for shape in dict.fromkeys(map(tuple, objects)):
        union.update(dict.fromkeys(shape))
    return {name: [item.get(name) for item in objects] for name in union}


class _FrameBuilder:
    """Parses blocks of lines into small frames; keeps counts and corrupt examples."""

    def __init__(
        self,
        lower: pd.Timestamp | None,
        upper: pd.Timestamp | None,
        upper_inclusive: bool,
        max_examples: int,
    ) -> None:
        self.lower, self.upper, self.upper_inclusive = lower, upper, upper_inclusive
        self.max_examples = max_examples
        self.lines_read = 0
        self.corrupt_lines = 0
        self.examples: list[CorruptLine] = []
        self.frames: list[pd.DataFrame] = []
        self.names: dict[str, dict[str, None]] = {"keys": {}, "features": {}, "classes": {}}

    def corrupt(self, path: Path, number: int, reason: str, line: bytes) -> None:
        self.corrupt_lines += 1
        if len(self.examples) < self.max_examples:
            excerpt = line[: _EXAMPLE_CHARS * 4].decode("utf-8", errors="replace")
            self.examples.append(CorruptLine(str(path), number, reason, excerpt[:_EXAMPLE_CHARS]))

    def add(self, path: Path, first_number: int, lines: list[bytes]) -> None:
        """Parse one block of lines (without their newlines) numbered from ``first_number``."""
        parsed, positions = self._parse(path, first_number, lines)
        if not parsed:
            return
        columns = self._transpose(parsed)
        if columns is None:  # some line is JSON but not a log record: sort them one by one
            parsed, positions = self._valid_records(path, first_number, lines, parsed, positions)
            if not parsed:
                return
            columns = self._transpose(parsed)
            assert columns is not None  # every record passed _invalid_reason

        # Lines of one batch share their timestamp: parse each distinct string once.
        codes, texts = pd.factorize(np.asarray(columns[0], dtype=object))
        instants = pd.to_datetime(
            pd.Index(texts, dtype=object), format="ISO8601", utc=True, errors="coerce"
        )
        stamps = instants.as_unit("us").take(codes)
        keep = ~np.asarray(stamps.isna())
        for index in np.flatnonzero(~keep).tolist():
            position = positions[index]
            self.corrupt(path, first_number + position, "invalid timestamp", lines[position])
        if self.lower is not None:
            keep &= np.asarray(stamps >= self.lower)
        if self.upper is not None:
            keep &= np.asarray(
                stamps <= self.upper if self.upper_inclusive else stamps < self.upper
            )
        if not keep.all():
            kept = np.flatnonzero(keep)
            if not len(kept):
                return
            columns = [_take(column, kept) for column in columns]
            stamps = stamps[kept]
        self.frames.append(self._frame(stamps, columns))

    def _parse(
        self, path: Path, first_number: int, lines: list[bytes]
    ) -> tuple[list[Any], list[int]]:
        """The JSON value of each non-blank line, and its position; invalid JSON is counted."""
        parsed: list[Any] = []
        positions: list[int] = []
        loads = _fast_loads
        blank = 0
        for position, line in enumerate(lines):
            try:
                record = loads(line)
            except ValueError:
                if not line.strip():
                    blank += 1  # blank lines are padding, not corruption
                    continue
                try:
                    record = _lenient_loads(line)
                except ValueError:
                    self.corrupt(path, first_number + position, "invalid JSON", line)
                    continue
            parsed.append(record)
            positions.append(position)
        self.lines_read += len(lines) - blank
        return parsed, positions

    def _valid_records(
        self,
        path: Path,
        first_number: int,
        lines: list[bytes],
        parsed: list[Any],
        positions: list[int],
    ) -> tuple[list[dict], list[int]]:
        """The records that are log records (a null or missing "keys" becomes {})."""
        valid_records: list[dict] = []
        valid_positions: list[int] = []
        for record, position in zip(parsed, positions, strict=True):
            reason = _invalid_reason(record)
            if reason is not None:
                self.corrupt(path, first_number + position, reason, lines[position])
                continue
            if record.get("keys") is None:
                record["keys"] = {}
            valid_records.append(record)
            valid_positions.append(position)
        return valid_records, valid_positions

    @staticmethod
    def _transpose(records: list[Any]) -> list[Sequence[Any]] | None:
        """One sequence per top-level field, or None if a record is not a valid log record."""
        try:  # C-level: itemgetter raises on a missing field or a non-object line
            columns = list(zip(*map(_TOP_LEVEL_GETTER, records), strict=True))
        except (KeyError, TypeError):
            return None
        if len(columns) != len(_TOP_LEVEL_FIELDS):
            return None
        by_name = dict(zip(_TOP_LEVEL_FIELDS, columns, strict=True))
        if set(map(type, by_name["timestamp"])) != {str}:
            return None
        for name in ("keys", "features", "probabilities"):
            if set(map(type, by_name[name])) != {dict}:
                return None
        return columns

    def _frame(self, stamps: pd.DatetimeIndex, columns: list[Sequence[Any]]) -> pd.DataFrame:
        by_name = dict(zip(_TOP_LEVEL_FIELDS, columns, strict=True))
        data: dict[str, Any] = {"timestamp": pd.Series(stamps)}
        for name in ("request_id", "model_name", "model_version", "model_semver"):
            data[name] = _text_column(by_name[name])
        for group in ("keys", "features"):
            for name, values in _object_columns(by_name[group]).items():
                column = self._column_name(name, group, data)
                self.names[group].setdefault(column)
                data[column] = _value_column(values)
        data["prediction"] = _text_column(by_name["prediction"])
        for label, values in _object_columns(by_name["probabilities"]).items():
            self.names["classes"].setdefault(label)
            data[f"{PROBABILITY_PREFIX}{label}"] = _number_column(values)
        for name in NUMBER_COLUMNS:
            data[name] = _number_column(by_name[name])
        return pd.DataFrame(data)

    @staticmethod
    def _column_name(name: str, group: str, columns: Mapping[str, Any]) -> str:
        # Names the writer cannot produce (a feature called "timestamp", or one that is
        # also a key) keep their group as a prefix instead of overwriting a column.
        if name in _RESERVED_COLUMNS or name.startswith(PROBABILITY_PREFIX) or name in columns:
            return f"{group}.{name}"
        return name

    def frame(self) -> pd.DataFrame:
        order = [
            *META_COLUMNS,
            *self.names["keys"],
            *self.names["features"],
            "prediction",
            *(f"{PROBABILITY_PREFIX}{label}" for label in self.names["classes"]),
            *NUMBER_COLUMNS,
        ]
        if not self.frames:
            return _empty_frame(order)
        frames, self.frames = self.frames, []
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return frame.loc[:, order]


def _empty_frame(order: list[str]) -> pd.DataFrame:
    columns: dict[str, Any] = {}
    for name in order:
        if name == "timestamp":
            columns[name] = pd.Series([], dtype="datetime64[us, UTC]")
        elif name in TEXT_COLUMNS:
            columns[name] = pd.Series([], dtype="str")
        elif name in NUMBER_COLUMNS or name.startswith(PROBABILITY_PREFIX):
            columns[name] = pd.Series([], dtype="float64")
        else:
            columns[name] = pd.Series([], dtype=object)
    return pd.DataFrame(columns)


def _bound(value: Any, name: str) -> tuple[pd.Timestamp | None, bool]:
    """The bound as a UTC timestamp, and whether it was given as a date (a whole day)."""
    if value is None:
        return None, False
    date_only = (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()) is not None
    )
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"prediction log window: invalid {name} {value!r}") from error
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp, date_only


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (reference counting still frees everything).

    Parsing allocates millions of small dicts, which trigger collections that rescan them
    all again and again: reading took twice as long. Parsed JSON holds no cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _line_blocks(path: Path) -> Iterator[list[bytes]]:
    """The file's lines (without newlines) as of now, in blocks; never a batch being written."""
    with path.open("rb") as handle:
        # Writers append under an exclusive flock: the size seen under a shared lock ends on
        # a batch boundary, and the bytes before it no longer change.
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        try:
            remaining = os.fstat(handle.fileno()).st_size
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        carry = b""
        while remaining > 0:
            block = handle.read(min(_READ_BLOCK_BYTES, remaining))
            if not block:
                break
            remaining -= len(block)
            lines = (carry + block).split(b"\n")
            carry = lines.pop()  # the start of a line continued in the next block
            if lines:
                yield lines
        if carry:
            yield [carry]  # a last line without its newline: a torn write, or a foreign file


def log_files(
    directory: str | os.PathLike[str] = DEFAULT_LOG_DIRECTORY,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[Path]:
    """The daily log files of ``directory`` whose day (from the file name) is in the range."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    selected = []
    for path in folder.iterdir():
        match = _FILE_NAME.fullmatch(path.name)
        if not match or not path.is_file():
            continue
        try:
            day = datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            continue
        if (first_day is None or day >= first_day) and (last_day is None or day <= last_day):
            selected.append((day, path))
    return [path for _, path in sorted(selected)]


def read_prediction_logs(
    directory: str | os.PathLike[str] = DEFAULT_LOG_DIRECTORY,
    start: Any = None,
    end: Any = None,
    *,
    max_corrupt_examples: int = 10,
) -> PredictionLogRead:
    """Read the logs of a time window into one flat frame, skipping and counting bad lines.

    ``start`` and ``end`` (str, date, datetime, pd.Timestamp; naive means UTC) are both
    inclusive; an ``end`` given as a date ("2025-06-30") includes that whole day. Files are
    chosen by the day in their name, rows by their timestamp. Columns: ``timestamp``
    (datetime64[us, UTC]), ``request_id, model_name, model_version, model_semver`` (str),
    one per key and per feature (by name), ``prediction`` (str), ``prob_<CLASS>``,
    ``confidence, latency_ms`` (float64). A line is corrupt when it is not JSON, not an
    object, misses a field, or its timestamp does not parse; blank lines are ignored.
    """
    lower, _ = _bound(start, "start")
    upper, end_is_date = _bound(end, "end")
    if end_is_date and upper is not None:
        upper = upper + pd.Timedelta(days=1)  # exclusive: the next midnight
    if (
        lower is not None
        and upper is not None
        and (lower > upper or (lower == upper and end_is_date))
    ):
        raise ValueError(f"prediction log window: start {start!r} is after end {end!r}")
    last_day = None
    if upper is not None:
        last_day = (upper - pd.Timedelta(microseconds=1) if end_is_date else upper).date()
    files = log_files(directory, lower.date() if lower is not None else None, last_day)

    builder = _FrameBuilder(lower, upper, not end_is_date, max_corrupt_examples)
    with _cyclic_gc_paused():
        for path in files:
            next_number = 1
            for lines in _line_blocks(path):
                builder.add(path, next_number, lines)
                next_number += len(lines)
    return PredictionLogRead(
        frame=builder.frame(),
        files_read=len(files),
        lines_read=builder.lines_read,
        corrupt_lines=builder.corrupt_lines,
        corrupt_examples=builder.examples,
    )


# --------------------------------------------------------------------------- records


def prediction_log_records(
    features: pd.DataFrame,
    predictions: pd.DataFrame,
    *,
    model_name: str,
    model_version: str | int,
    model_semver: str,
    latency_ms: float | Sequence[float] | np.ndarray | pd.Series,
    scored_at: Any = None,
    request_id_prefix: str | None = None,
    feature_columns: Sequence[str] = FEATURE_COLUMNS,
    key_columns: Sequence[str] = LOG_KEY_COLUMNS,
) -> pd.DataFrame:
    """The flat log frame for a scored batch, rows matched by position.

    ``features`` holds the key columns present and every feature column; ``predictions``
    holds the predicted level (``predicted_need_level`` or ``prediction``), ``prob_<CLASS>``
    columns and optionally ``confidence`` (else the highest probability). ``latency_ms`` is
    one number for all rows or one per row; ``scored_at`` defaults to now (UTC).
    ``request_id`` is ``<prefix>-<row number>``, the prefix a fresh uuid4 unless given.
    """
    if len(features) != len(predictions):
        raise ValueError(
            f"prediction log: {len(features)} feature rows but {len(predictions)} predictions"
        )
    missing = [column for column in feature_columns if column not in features.columns]
    if missing:
        raise ValueError(f"prediction log: features are missing column(s): {', '.join(missing)}")
    level_column = next(
        (name for name in (PREDICTION_COLUMN, "prediction") if name in predictions.columns), None
    )
    probability_columns = [
        column for column in predictions.columns if str(column).startswith(PROBABILITY_PREFIX)
    ]
    if level_column is None or not probability_columns:
        raise ValueError(
            f"prediction log: predictions need {PREDICTION_COLUMN!r} and "
            f"{PROBABILITY_PREFIX}<CLASS> columns, got {list(predictions.columns)}"
        )
    count = len(features)
    features = features.reset_index(drop=True)
    predictions = predictions.reset_index(drop=True)
    probabilities = predictions.loc[:, probability_columns].astype("float64")
    if CONFIDENCE_COLUMN in predictions.columns:
        confidence = predictions[CONFIDENCE_COLUMN].astype("float64")
    else:
        confidence = probabilities.max(axis=1)
    if scored_at is None or np.ndim(scored_at) == 0:
        stamp = pd.Timestamp.now(tz="UTC") if scored_at is None else pd.Timestamp(scored_at)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        timestamps = pd.Series(stamp, index=features.index)
    else:
        timestamps = _utc_timestamps(pd.Series(list(scored_at), dtype=object))
    prefix = request_id_prefix or uuid.uuid4().hex

    columns: dict[str, Any] = {
        "timestamp": timestamps,
        "request_id": pd.Series([f"{prefix}-{row}" for row in range(count)], dtype="str"),
        "model_name": pd.Series(str(model_name), index=features.index, dtype="str"),
        "model_version": pd.Series(str(model_version), index=features.index, dtype="str"),
        "model_semver": pd.Series(str(model_semver), index=features.index, dtype="str"),
    }
    for column in (*key_columns, *feature_columns):
        if column in features.columns and column not in columns:
            columns[column] = features[column]
    columns["prediction"] = _as_text(predictions[level_column])
    for column in probability_columns:
        columns[str(column)] = probabilities[column]
    columns["confidence"] = confidence
    columns["latency_ms"] = pd.Series(
        np.broadcast_to(np.asarray(latency_ms, dtype="float64"), (count,)), index=features.index
    )
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------- Kedro dataset


class PredictionLogDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """The daily prediction log files as a Kedro dataset: ``save`` appends, ``load`` reads.

    ``load`` returns :func:`read_prediction_logs`' frame for the configured window
    (``start``/``end``, or the last ``window_days`` UTC days including today) with the
    counts in ``frame.attrs``: ``files_read``, ``lines_read``, ``corrupt_lines``,
    ``corrupt_examples`` (list of dicts). ``save`` never overwrites. Local files only
    (``flock``). Catalog::

        prediction_logs:
          type: future_skills_kedro.datasets.PredictionLogDataset
          path: data/07_model_output/prediction_logs

    ``path`` is the log directory; Kedro makes a relative ``path`` absolute at the project
    root, so a session opened from ``notebooks/`` writes where ``kedro run`` does.
    """

    def __init__(
        self,
        path: str = DEFAULT_LOG_DIRECTORY,
        *,
        start: Any = None,
        end: Any = None,
        window_days: int | None = None,
        key_columns: Sequence[str] | None = None,
        fsync: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if window_days is not None and (start is not None or end is not None):
            raise ValueError("PredictionLogDataset: give either window_days or start/end")
        if window_days is not None and window_days < 1:
            raise ValueError("PredictionLogDataset: window_days must be at least 1")
        self._directory = Path(path)
        self._start = start
        self._end = end
        self._window_days = window_days
        self._key_columns = tuple(key_columns) if key_columns is not None else LOG_KEY_COLUMNS
        self._fsync = fsync
        self.metadata = metadata

    def _window(self) -> tuple[Any, Any]:
        if self._window_days is None:
            return self._start, self._end
        # Resolved at load time, so a long-lived session keeps a current window.
        today = pd.Timestamp.now(tz="UTC").date()
        return today - timedelta(days=self._window_days - 1), None

    def load(self) -> pd.DataFrame:
        start, end = self._window()
        result = read_prediction_logs(self._directory, start, end)
        frame = result.frame
        frame.attrs["files_read"] = result.files_read
        frame.attrs["lines_read"] = result.lines_read
        frame.attrs["corrupt_lines"] = result.corrupt_lines
        frame.attrs["corrupt_examples"] = [asdict(example) for example in result.corrupt_examples]
        return frame

    def save(self, data: pd.DataFrame) -> None:
        write_prediction_log(
            data, self._directory, key_columns=self._key_columns, fsync=self._fsync
        )

    def _exists(self) -> bool:
        return bool(log_files(self._directory))

    def _describe(self) -> dict[str, Any]:
        return {
            "directory": str(self._directory),
            "start": self._start,
            "end": self._end,
            "window_days": self._window_days,
        }
