"""Read a time window of prediction logs: columnar parsing, every bad line found and counted.

Each file is read in blocks of whole lines, each block parsed by ``pyarrow.json`` against
the record schema (C++, no Python per line) and checked by
:func:`future_skills_kedro.prediction_log.record_problems` (vectorised). A line that breaks
the block's parse (torn, not JSON, a string where a number belongs...) sends only that block
down the slow path: each line is parsed on its own (orjson) and checked, the good ones are
parsed again together, and if Arrow still refuses some, halving finds them. So a corrupt
line costs its block a slower parse, never the rest of its file; it is counted with its
file, line number and reason.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from future_skills_kedro.datasets.prediction_logs.files import DEFAULT_LOG_DIRECTORY, log_files
from future_skills_kedro.prediction_log import (
    FLAT_COLUMNS,
    LEGACY_PURPOSE,
    PURPOSES,
    arrow_schema,
    empty_flat_frame,
    flat_columns,
    flat_table,
    json_record_problem,
    pandas_flat_frame,
    record_problems,
    shown,
)

# Bytes parsed at once (whole lines): bounds the raw text in memory; Arrow parses each
# block with its threads.
_READ_BLOCK_BYTES = 32 << 20
_EXCERPT_CHARS = 200
_SCHEMA = arrow_schema()
# Members the schema does not know (a field added by a later version) are ignored.
_PARSE_OPTIONS = pa_json.ParseOptions(
    explicit_schema=_SCHEMA, unexpected_field_behavior="ignore", newlines_in_values=False
)
_READ_OPTIONS = pa_json.ReadOptions(use_threads=True, block_size=4 << 20)
_WHITESPACE = b" \t\r"
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


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

    ``lines_read``: non-blank lines of the files read (valid, corrupt, outside the window or
    of another purpose). ``excluded_by_purpose``: valid records of the window left out
    because their purpose was not selected, per purpose.
    """

    frame: pd.DataFrame
    files_read: int
    lines_read: int
    corrupt_lines: int
    corrupt_examples: list[CorruptLine] = field(default_factory=list)
    excluded_by_purpose: dict[str, int] = field(default_factory=dict)


def _parse(data: bytes | memoryview) -> pa.Table:
    return pa_json.read_json(
        pa.BufferReader(pa.py_buffer(data)),
        read_options=_READ_OPTIONS,
        parse_options=_PARSE_OPTIONS,
    )


def _parse_or_none(data: bytes | memoryview) -> pa.Table | None:
    """The block's table, or None when a bad line breaks the columnar parse."""
    try:
        return _parse(data)
    except pa.ArrowInvalid:
        return None


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits, which JSON allows; NaN stays refused.
        return json.loads(line, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_blank(line: bytes) -> bool:
    return not line.strip(_WHITESPACE)


def _numbered_blocks(path: Path) -> Iterator[tuple[int, memoryview, int]]:
    """:func:`_byte_blocks` with the file line number each block starts at."""
    first_line = 1
    for block, line_count in _byte_blocks(path):
        yield first_line, block, line_count
        first_line += line_count


def _byte_blocks(path: Path) -> Iterator[tuple[memoryview, int]]:
    """The file as of now in blocks of whole lines, with their line counts; never part of a
    run being appended."""
    with path.open("rb") as handle:
        # Writers append under an exclusive flock: the size seen under a shared lock ends on
        # a run boundary, and the bytes before it no longer change.
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        try:
            remaining = os.fstat(handle.fileno()).st_size
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        while remaining > 0:
            block = handle.read(min(_READ_BLOCK_BYTES, remaining))
            if not block:
                break
            cut = block.rfind(b"\n") + 1
            while cut == 0 and len(block) < remaining:  # a line longer than a block: read on
                more = handle.read(min(_READ_BLOCK_BYTES, remaining - len(block)))
                if not more:
                    break
                block += more
                cut = block.rfind(b"\n") + 1
            if cut == 0 or len(block) >= remaining:
                cut = len(block)  # the file's last bytes, with a last line without newline
            elif cut < len(block):
                handle.seek(cut - len(block), os.SEEK_CUR)  # the partial line comes next time
            remaining -= cut
            # The last line may lack its newline: a torn write, or a foreign file.
            lines = block.count(b"\n", 0, cut) + (0 if block[cut - 1] == ord("\n") else 1)
            yield memoryview(block)[:cut], lines


class _WindowReader:
    """Parses blocks, keeps the window's valid records; counts lines, corrupt, excluded."""

    def __init__(
        self,
        lower: pd.Timestamp | None,
        upper: pd.Timestamp | None,
        upper_inclusive: bool,
        purposes: Sequence[str] | None,
        max_examples: int,
        columns: Sequence[str] = FLAT_COLUMNS,
        text_as_category: bool = False,
    ) -> None:
        self.lower, self.upper = _scalar(lower), _scalar(upper)
        self.upper_inclusive = upper_inclusive
        self.purposes = None if purposes is None else pa.array(list(purposes), pa.string())
        self.max_examples = max_examples
        self.lines_read = 0
        self.corrupt_lines = 0
        self.examples: list[CorruptLine] = []
        self._block_corrupt: list[CorruptLine] = []
        self.excluded: dict[str, int] = dict.fromkeys(PURPOSES, 0)
        self.columns = tuple(columns)
        self.text_as_category = text_as_category
        # Each block's kept rows, already flat and cut to ``columns``: the nested table of a
        # block (every field, checked whole) never outlives the block.
        self.tables: list[pa.Table] = []

    def corrupt(self, path: Path, number: int, reason: str, line: bytes) -> None:
        self.corrupt_lines += 1
        excerpt = line[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
        self._block_corrupt.append(CorruptLine(str(path), number, reason, excerpt[:_EXCERPT_CHARS]))

    def _flush_examples(self) -> None:
        """A block's corrupt lines, in line order (checks find them in two passes)."""
        self._block_corrupt.sort(key=lambda example: example.line_number)
        room = self.max_examples - len(self.examples)
        self.examples.extend(self._block_corrupt[: max(room, 0)])
        self._block_corrupt = []

    def read_files(self, paths: Iterable[Path]) -> None:
        """Every block of every file, in order. The next block is parsed in a second thread
        while this one is checked and kept: pyarrow parses without the GIL, so parsing (most
        of the time) overlaps the Python-side checks instead of waiting for them."""
        blocks = (
            (path, first_line, block, line_count)
            for path in paths
            for first_line, block, line_count in _numbered_blocks(path)
        )
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prediction-log-parse") as pool:
            ahead: tuple[tuple[Path, int, memoryview, int], Future] | None = None
            for item in blocks:
                parsing = pool.submit(_parse_or_none, item[2])
                if ahead is not None:
                    self.add_block(*ahead[0], parsed=ahead[1].result())
                ahead = (item, parsing)
            if ahead is not None:
                self.add_block(*ahead[0], parsed=ahead[1].result())

    def add_block(
        self,
        path: Path,
        first_line: int,
        block: memoryview,
        line_count: int,
        parsed: pa.Table | None = None,
    ) -> None:
        """Checks one block and keeps its valid rows; ``parsed``: its columnar parse, if
        already done (None: parsed here; a bad line takes the slow path either way)."""
        table = parsed if parsed is not None else _parse_or_none(block)
        lines: list[bytes] | None = None
        numbers: np.ndarray | None = None
        if table is not None and table.num_rows != line_count:
            # Blank lines (Arrow skips them) or several values on one line: map rows to lines.
            lines = bytes(block).split(b"\n")[:line_count]
            numbers = np.flatnonzero([not _is_blank(line) for line in lines]) + first_line
            if len(numbers) != table.num_rows:
                table = None
        if table is None:
            lines = lines or bytes(block).split(b"\n")[:line_count]
            table, numbers = self._slow_path(path, first_line, lines)
        if numbers is None:
            numbers = np.arange(first_line, first_line + table.num_rows)
        self.lines_read += table.num_rows
        problems = record_problems(table)
        if problems:
            lines = lines or bytes(block).split(b"\n")
            for row, reason in sorted(problems.items()):
                number = int(numbers[row])
                self.corrupt(path, number, reason, lines[number - first_line])
            keep = np.ones(table.num_rows, dtype=bool)
            keep[list(problems)] = False
            table = table.filter(pa.array(keep))
        self._flush_examples()
        self._keep(table)

    def _slow_path(
        self, path: Path, first_line: int, lines: list[bytes]
    ) -> tuple[pa.Table, np.ndarray]:
        """The block's bad lines found and counted; its good ones parsed together.

        1. A line that does not start with "{" and end with "}" (a torn write, most often)
           cannot be a record: judged alone. If the others parse, that was all: one more
           columnar parse, whatever the number of torn lines.
        2. Otherwise each remaining line is parsed (orjson) and checked alone, the good ones
           parsed together again, and lines Arrow still refuses are found by halving.

        Lines found corrupt count in ``lines_read`` here; the good ones when kept.
        """
        shaped: list[bytes] = []
        shaped_numbers: list[int] = []
        for offset, line in enumerate(lines):
            stripped = line.strip(_WHITESPACE)
            if not stripped:
                continue
            if stripped[:1] == b"{" and stripped[-1:] == b"}":
                shaped.append(line)
                shaped_numbers.append(first_line + offset)
            else:
                self._judge(path, first_line + offset, line)
        with suppress(pa.ArrowInvalid):
            table = _parse(b"\n".join(shaped) + b"\n")
            if table.num_rows == len(shaped):  # else two values shared a line: step 2
                return table, np.asarray(shaped_numbers)
        good: list[bytes] = []
        good_numbers: list[int] = []
        for number, line in zip(shaped_numbers, shaped, strict=True):
            if self._judge(path, number, line):
                good.append(line)
                good_numbers.append(number)
        tables, kept = self._parse_lines(path, good, good_numbers)
        table = pa.concat_tables(tables) if tables else _SCHEMA.empty_table()
        return table, np.asarray(kept, dtype=np.int64)

    def _judge(self, path: Path, number: int, line: bytes) -> bool:
        """True for a line of the record's shape and JSON types; else counted as corrupt."""
        try:
            record = _loads(line)
        except ValueError:
            reason = "invalid JSON"
        else:
            reason = json_record_problem(record)
        if reason is None:
            return True
        self.lines_read += 1
        self.corrupt(path, number, reason, line)
        return False

    def _parse_lines(
        self, path: Path, lines: list[bytes], numbers: list[int]
    ) -> tuple[list[pa.Table], list[int]]:
        if not lines:
            return [], []
        try:
            return [_parse(b"\n".join(lines) + b"\n")], numbers
        except pa.ArrowInvalid as error:
            if len(lines) == 1:
                self.lines_read += 1
                self.corrupt(path, numbers[0], _arrow_reason(lines[0], error), lines[0])
                return [], []
        middle = len(lines) // 2
        left, left_numbers = self._parse_lines(path, lines[:middle], numbers[:middle])
        right, right_numbers = self._parse_lines(path, lines[middle:], numbers[middle:])
        return left + right, left_numbers + right_numbers

    def _keep(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        stamps = table.column("timestamp")
        keep = pa.array(np.ones(table.num_rows, dtype=bool))
        if self.lower is not None:
            keep = pc.and_(keep, pc.greater_equal(stamps, self.lower))
        if self.upper is not None:
            compare = pc.less_equal if self.upper_inclusive else pc.less
            keep = pc.and_(keep, compare(stamps, self.upper))
        if self.purposes is not None:
            purpose = pc.fill_null(table.column("purpose"), LEGACY_PURPOSE)
            selected = pc.is_in(purpose, self.purposes)
            left_out = pc.and_(keep, pc.invert(selected))
            if pc.any(left_out).as_py():
                counts = pc.value_counts(pc.filter(purpose, left_out))
                for item in counts.to_pylist():
                    self.excluded[item["values"]] += item["counts"]
            keep = pc.and_(keep, selected)
        kept = pc.sum(keep).as_py() or 0
        if kept < table.num_rows:
            table = table.filter(keep)
        if kept:
            self.tables.append(
                flat_table(table, self.columns, text_as_dictionary=self.text_as_category)
            )

    def frame(self) -> pd.DataFrame:
        if not self.tables:
            return empty_flat_frame(self.columns, self.text_as_category)
        tables, self.tables = self.tables, []
        return pandas_flat_frame(pa.concat_tables(tables))


def _arrow_reason(line: bytes, error: pa.ArrowInvalid) -> str:
    """A reason for a line Arrow refused although it passed the line-by-line checks."""
    message = str(error)
    if "timestamp" in message:
        try:
            return f"timestamp: {shown(_loads(line).get('timestamp'))} is not an ISO 8601 time"
        except (ValueError, AttributeError):
            pass
    return f"not a readable record: {message}"


def _scalar(stamp: pd.Timestamp | None) -> pa.Scalar | None:
    return None if stamp is None else pa.scalar(stamp.to_pydatetime(), _SCHEMA.field(0).type)


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


def read_prediction_logs(
    directory: str | os.PathLike[str] = DEFAULT_LOG_DIRECTORY,
    start: Any = None,
    end: Any = None,
    *,
    purposes: Iterable[str] | None = None,
    max_corrupt_examples: int = 10,
    columns: Sequence[str] | None = None,
    text_as_category: bool = False,
) -> PredictionLogRead:
    """The valid records of a time window as one flat frame; corrupt lines skipped and counted.

    ``start`` and ``end`` (str, date, datetime, pd.Timestamp; naive means UTC) are both
    inclusive; an ``end`` given as a date ("2025-06-30") includes that whole day. Files are
    chosen by the day in their name, records by their timestamp. ``purposes``: the purposes
    to keep (None: all); a record without purpose is production. Columns and dtypes:
    :func:`future_skills_kedro.prediction_log.flat_frame`; ``columns`` keeps only those
    (every field of every line is checked all the same, so the corrupt-line count does not
    depend on them), ``text_as_category`` hands repeated text (names, ids, classes; not
    ``request_id``) over as pandas categoricals: a million records then take a fraction of
    the memory. A line is corrupt when it is not
    JSON, not an object, misses a required field or breaks a type or value rule (reasons in
    docs/prediction-logs.md); blank lines are ignored.
    """
    selected = None
    if purposes is not None:
        selected = list(purposes)
        unknown = [purpose for purpose in selected if purpose not in PURPOSES]
        if unknown:
            raise ValueError(
                f"prediction log purposes {unknown} are not among {', '.join(PURPOSES)}"
            )
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

    reader = _WindowReader(
        lower,
        upper,
        not end_is_date,
        selected,
        max_corrupt_examples,
        columns=flat_columns(columns),
        text_as_category=text_as_category,
    )
    reader.read_files(files)
    return PredictionLogRead(
        frame=reader.frame(),
        files_read=len(files),
        lines_read=reader.lines_read,
        corrupt_lines=reader.corrupt_lines,
        corrupt_examples=reader.examples,
        excluded_by_purpose=(
            {purpose: n for purpose, n in reader.excluded.items() if purpose not in selected}
            if selected is not None
            else {}
        ),
    )
